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
# Our tests live under the framework's tree, copied fresh each run.
rm -rf "$tt/route_server"
cp -a "$top/topotests" "$tt/route_server"
cp -a "$top/scenarios" "$tt/route_server/scenarios"

# FRR's framework cleans up any earlier run's namespaces when it starts:
# two runs at once would kill each other's routers, so take turns.
exec 9>/run/frr-rs-topotests.lock
flock 9

cd "$tt"
export PATH="$prefix/bin:$prefix/sbin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
exec /usr/bin/python3 -m pytest -p no:cacheprovider route_server "$@"
