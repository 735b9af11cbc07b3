#!/usr/bin/env bash
# build-libyang.sh BUILDDIR PREFIX
# Debian 12's libyang2 is too old for FRR 10 (needs >= 2.1.128): build
# trixie's libyang into a private prefix. Skipped when PREFIX already holds
# the same source version.
set -euo pipefail
build=$(realpath -m "$1") prefix=$(realpath -m "$2")
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$build"
src="$build/libyang-src"
ver=$(apt-cache showsrc libyang 2>/dev/null | awk '/^Version:/ {print $2}' | sort -V | tail -n 1 || true)
if [ -f "$prefix/.source" ] && { [ -z "$ver" ] || grep -qx "libyang_${ver#*:}" "$prefix/.source" && grep -qx rpath "$prefix/.source"; }; then
	exit 0
fi
name=$("$here/fetch-sources.sh" libyang "$src")
rm -rf "$src/_build"
cmake -S "$src" -B "$src/_build" -DCMAKE_BUILD_TYPE=Release \
	-DENABLE_TESTS=OFF -DCMAKE_INSTALL_PREFIX="$prefix" \
	-DCMAKE_INSTALL_LIBDIR=lib -DCMAKE_INSTALL_RPATH="$prefix/lib" \
	-DCMAKE_C_COMPILER_LAUNCHER=ccache >/dev/null
cmake --build "$src/_build" -j"$(nproc)" >/dev/null
rm -rf "$prefix"
cmake --install "$src/_build" >/dev/null
echo "$name" >"$prefix/.source"
echo "rpath" >>"$prefix/.source"
echo "libyang: $name installed in $prefix"
