#!/usr/bin/env bash
# build-frr.sh TOPSRC BUILDDIR PREFIX LIBYANG_PREFIX
# Unpack trixie's FRR 10.3, apply the project's patch series, link the
# route-server module into bgpd's build, build and install into PREFIX.
# A tree whose version, patches and configure options are unchanged is
# reused (incremental make); nothing outside BUILDDIR and PREFIX is touched.
# RS_FRR_CONFIGURE adds configure options (the sanitizer build uses them).
set -euo pipefail
shopt -s nullglob
top=$(cd "$1" && pwd) build=$(realpath -m "$2") prefix=$(realpath -m "$3") ly=$(realpath -m "$4")
here="$top/scripts"
frr="$build/frr"
mkdir -p "$build"

cflags="-g -O2"
ldflags="-L$ly/lib -Wl,-rpath,$ly/lib"
extra_conf=${RS_FRR_CONFIGURE:-}
ver=$(apt-cache showsrc frr 2>/dev/null | awk '/^Version:/ {print $2}' | sort -V | tail -n 1 || true)
[ -n "$ver" ] || ver=$(cat "$frr/.rs-version" 2>/dev/null || echo unknown)
stamp=$( {
	echo "$ver|$prefix|$ly|$cflags|$ldflags|$extra_conf"
	cd "$top/patches/frr" && cat series $(grep -v '^#' series)
} | sha256sum | cut -d' ' -f1)

export CCACHE_BASEDIR="$build" CCACHE_NOHASHDIR=1
export CCACHE_DIR=${CCACHE_DIR:-${RS_CACHE:-/var/cache/frr-rs}/ccache}

if [ "$(cat "$frr/.rs-stamp" 2>/dev/null)" != "$stamp" ]; then
	echo "frr: unpacking and patching"
	"$here/fetch-sources.sh" frr "$frr" >/dev/null 2>"$build/frr-unpack.log" || {
		cat "$build/frr-unpack.log" >&2
		exit 1
	}
	echo "$ver" >"$frr/.rs-version"
	while read -r p; do
		case "$p" in '' | '#'*) continue ;; esac
		patch -s -p1 -d "$frr" <"$top/patches/frr/$p"
	done <"$top/patches/frr/series"
	# The module is built as part of bgpd (so vtysh learns its commands):
	# link its sources and YANG into the tree and include its automake
	# fragment from bgpd/subdir.am.
	for f in "$top"/bgpd-rs-plugin/*.[ch]; do
		case "$(basename "$f")" in test_*) continue ;; esac
		ln -sf "$f" "$frr/bgpd/"
	done
	ln -sf "$top/bgpd-rs-plugin/subdir.am" "$frr/bgpd/route_server.am"
	for f in "$top"/yang/*.yang; do ln -sf "$f" "$frr/yang/"; done
	echo "include bgpd/route_server.am" >>"$frr/bgpd/subdir.am"
	(cd "$frr" && ./bootstrap.sh >"$build/frr-bootstrap.log" 2>&1)
	echo "frr: configuring"
	(cd "$frr" && ./configure -q \
		--prefix="$prefix" --sysconfdir=/etc --localstatedir=/var \
		--with-moduledir="$prefix/lib/frr/modules" \
		--enable-user=frr --enable-group=frr --enable-vty-group=frrvty \
		--enable-zebra --enable-bgpd --enable-staticd --enable-bfdd \
		--enable-vtysh --enable-watchfrr --enable-sharpd \
		--disable-ripd --disable-ripngd --disable-ospfd --disable-ospf6d \
		--disable-ldpd --disable-nhrpd --disable-eigrpd --disable-babeld \
		--disable-isisd --disable-pimd --disable-pim6d --disable-pbrd \
		--disable-fabricd --disable-vrrpd --disable-pathd \
		--disable-doc --disable-snmp --disable-scripting $extra_conf \
		PYTHON=/usr/bin/python3 CC="ccache gcc" CFLAGS="$cflags" \
		LDFLAGS="$ldflags" PKG_CONFIG_PATH="$ly/lib/pkgconfig" \
		>"$build/frr-configure.log") || {
		tail -n 30 "$frr/config.log" >&2
		exit 1
	}
	echo "$stamp" >"$frr/.rs-stamp"
fi
# New module files appear as links too (make reruns automake when
# route_server.am changes).
for f in "$top"/bgpd-rs-plugin/*.[ch]; do
	case "$(basename "$f")" in test_*) continue ;; esac
	[ -e "$frr/bgpd/$(basename "$f")" ] || ln -sf "$f" "$frr/bgpd/"
done
for f in "$top"/yang/*.yang; do ln -sf "$f" "$frr/yang/"; done
echo "frr: building"
make -C "$frr" -j"$(nproc)" >"$build/frr-build.log" 2>&1 || {
	grep -E 'error|Error' -A3 "$build/frr-build.log" | head -n 60 >&2
	echo "frr: build failed, see $build/frr-build.log" >&2
	exit 1
}
make -C "$frr" install >"$build/frr-install.log" 2>&1 || {
	tail -n 30 "$build/frr-install.log" >&2
	exit 1
}
echo "frr: installed in $prefix"
