#!/usr/bin/env bash
# The two commands of README's quick start (run as root on Debian 12/13):
#   ./setup.sh demo    install dependencies, build everything, run the demo
#   ./setup.sh check   install dependencies, build everything, run all tests
# and, for a server install (README "Install on a server"):
#   ./setup.sh deb     install dependencies, build the Debian packages
set -euo pipefail
cd "$(dirname "$0")"
goal=${1:-demo}
case "$goal" in demo | check | deb) ;; *)
	echo "usage: $0 demo|check|deb" >&2
	exit 2
	;;
esac
[ "$(id -u)" = 0 ] || { echo "$0: run as root (network namespaces, apt)" >&2; exit 1; }

scripts/install-deps.sh
if [ ! -x configure ] || [ configure.ac -nt configure ] || [ Makefile.am -nt configure ]; then
	autoreconf -fi >/dev/null 2>&1 || autoreconf -fi
fi
[ -f Makefile ] && [ Makefile -nt configure ] || ./configure -q

if [ "$goal" = deb ]; then
	exec make -s deb
fi
if [ "$goal" = demo ]; then
	make -s
	exec make -s demo
fi
# Unit tests and yanglint first (no FRR needed), then FRR and topotests.
exec make -s check
