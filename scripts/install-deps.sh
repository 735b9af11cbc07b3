#!/usr/bin/env bash
# Install every build/test dependency from Debian's archive.
# Adds a deb-src-only entry for trixie (never a binary line: the machine
# must not be upgraded) so FRR 10.3 and libyang 3.12 sources can be fetched.
set -euo pipefail

[ "$(id -u)" = 0 ] || { echo "install-deps: must run as root" >&2; exit 1; }

src=/etc/apt/sources.list.d/frr-rs-trixie-src.sources
if [ ! -f "$src" ]; then
	cat >"$src" <<'SRC'
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
fi

stamp=/var/lib/apt/frr-rs-deps.stamp
pkgs=(
	# FRR + libyang build
	build-essential autoconf automake libtool bison flex gawk pkgconf cmake
	libc-ares-dev libcap-dev libelf-dev libjson-c-dev libpcre2-dev
	libprotobuf-c-dev protobuf-c-compiler libunwind-dev libxxhash-dev
	libreadline-dev python3-dev ccache dpkg-dev texinfo
	# topotests
	python3-pytest python3-pexpect iputils-ping iproute2 gdb procps kmod
	# independent BGP speakers used as NVAs / gateways / on-prem routers
	bird2 gobgpd exabgp
	# NETCONF (netconf/): yuma123 server, SIL headers/libs, SSH, test client
	netconfd yangdump libyuma-dev libxml2-dev openssh-server openssh-client
	python3-ncclient
	# make deb: Debian's packaging of libyang and FRR (build-depends of
	# trixie's frr and libyang that Debian 12 has), our packages, lintian,
	# and the install test's clean Debian root
	debhelper fakeroot lintian debootstrap chrpath install-info
	libpam0g-dev libsnmp-dev librtr-dev libssh-dev liblua5.3-dev lua5.3
	python3-sphinx doxygen graphviz systemd
	# bench/: profiling (callgrind, perf) and the plot in docs/performance.md
	valgrind linux-perf python3-matplotlib
)
want="${pkgs[*]}"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] &&
	dpkg -s "${pkgs[@]}" >/dev/null 2>&1 &&
	apt-cache showsrc frr 2>/dev/null | grep -q '^Version: 10\.3'; then
	exit 0
fi

export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${pkgs[@]}"

# Packaged daemons must not run on the host: tests start their own.
for svc in bird exabgp gobgpd netconfd; do
	systemctl disable --now "$svc" >/dev/null 2>&1 || true
	pkill -x "$svc" 2>/dev/null || true
done

# FRR runs as frr:frr with the vty group frrvty.
getent group frrvty >/dev/null || groupadd -r frrvty
getent group frr >/dev/null || groupadd -r frr
getent passwd frr >/dev/null ||
	useradd -r -g frr -G frrvty -d /nonexistent -s /usr/sbin/nologin frr
usermod -a -G frrvty frr
getent passwd exabgp >/dev/null ||
	useradd -r -d /nonexistent -s /usr/sbin/nologin exabgp

echo "$want" >"$stamp"
