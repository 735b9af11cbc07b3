#!/usr/bin/env bash
# run-topotests.sh TOPSRC BUILDDIR FRR_PREFIX [pytest args...]
# Runs the project's topotests with FRR's topotest framework from the
# unpacked FRR tree, against the FRR installed in FRR_PREFIX.
set -euo pipefail
top=$(cd "$1" && pwd) build=$(realpath -m "$2") prefix=$(realpath -m "$3")
shift 3
[ "$(id -u)" = 0 ] || { echo "topotests must run as root" >&2; exit 1; }
tt="$build/frr/tests/topotests"
[ -d "$tt" ] || { echo "no FRR tree in $build (build first)" >&2; exit 1; }

# The framework reads the daemons' directory from its pytest.ini.
sed -i "s|^#\?frrdir = .*|frrdir = $prefix/sbin|" "$tt/pytest.ini"
# FRR's framework cleans up any earlier run's namespaces when it starts:
# two runs at once would kill each other's routers, so take turns.
exec 9>/run/frr-rs-topotests.lock
flock 9

# Our tests live under the framework's tree, copied fresh each run.
rm -rf "$tt/route_server"
cp -a "$top/topotests" "$tt/route_server"
cp -a "$top/scenarios" "$tt/route_server/scenarios"

cd "$tt"
export PATH="$prefix/bin:$prefix/sbin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
rundir=/tmp/topotests
rm -rf "$rundir"/route_server.* "$rundir/sanitizers"
# Sanitizer builds: the framework points each daemon it starts at its own
# ASan log (LOGDIR/ROUTER.asan.DAEMON); daemons started otherwise (watchfrr
# through frrinit.sh in rs_restart) log to $rundir/sanitizers. UBSan writes
# to the daemons' stderr (*.err; frrinit.out for watchfrr's daemons); its
# reports of FRR's own code listed in ubsan.supp are dropped.
install -d -m 1777 "$rundir" "$rundir/sanitizers"
export ASAN_OPTIONS="log_path=$rundir/sanitizers/asan"
export UBSAN_OPTIONS="print_stacktrace=1:suppressions=$top/tests/sanitizers/ubsan.supp"
rc=0
# The whole suite unless the arguments name tests of their own.
targets=(route_server)
for a in "$@"; do
	case "$a" in route_server/*) targets=() ;; esac
done
/usr/bin/python3 -m pytest -p no:cacheprovider "${targets[@]}" "$@" || rc=$?
# Any sanitizer report (ASan, LSan at a daemon's exit, UBSan) fails the run.
reports=$({
	find "$rundir" \( -path "$rundir/route_server.*" -name '*.asan.*' \
		-o -path "$rundir/sanitizers/*" \) -type f -size +0
	grep -rl --include='*.err' --include='*.out' 'runtime error:' \
		"$rundir"/route_server.* 2>/dev/null
} 2>/dev/null || true)
if [ -n "$reports" ]; then
	echo "sanitizer reports:" >&2
	for f in $reports; do
		echo "== $f" >&2
		head -n 40 "$f" >&2
	done
	[ "$rc" != 0 ] || rc=1
fi
exit "$rc"
