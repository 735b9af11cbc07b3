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
rm -rf "$rundir"/route_server.*
rc=0
# The whole suite unless the arguments name tests of their own.
targets=(route_server)
for a in "$@"; do
	case "$a" in route_server/*) targets=() ;; esac
done
/usr/bin/python3 -m pytest -p no:cacheprovider "${targets[@]}" "$@" || rc=$?
# Daemons built with sanitizers leave their reports next to their logs
# (ASAN_OPTIONS log_path set by the framework): any report fails the run.
# UBSan reports go to the daemons' stderr (*.err).
reports=$({
	find "$rundir" -path "$rundir/route_server.*" -name '*.asan.*' -size +0
	grep -rl --include='*.err' 'runtime error:' "$rundir"/route_server.* 2>/dev/null
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
