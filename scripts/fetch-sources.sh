#!/usr/bin/env bash
# fetch-sources.sh PACKAGE DESTDIR
# Unpack trixie's source package PACKAGE (with Debian's patches applied)
# into DESTDIR. Downloads go to $RS_CACHE/src and are reused when apt has
# nothing newer; the cache is an optimisation, never a requirement.
set -euo pipefail
pkg=$1 dest=$2
cache=${RS_CACHE:-/var/cache/frr-rs}/src
mkdir -p "$cache"

ver=$(apt-cache showsrc "$pkg" 2>/dev/null | awk '/^Version:/ {print $2}' |
	sort -V | tail -n 1 || true)
upver=${ver#*:}
dsc=
if [ -n "$ver" ] && [ -f "$cache/${pkg}_${upver}.dsc" ]; then
	dsc="$cache/${pkg}_${upver}.dsc"
elif [ -n "$ver" ]; then
	(cd "$cache" && apt-get source -q --download-only "$pkg=$ver" >&2)
	dsc="$cache/${pkg}_${upver}.dsc"
else
	# apt knows nothing (no network, no lists): fall back to the cache.
	dsc=$(ls "$cache/${pkg}"_*.dsc 2>/dev/null | sort -V | tail -n 1 || true)
fi
[ -n "$dsc" ] && [ -f "$dsc" ] || {
	echo "fetch-sources: no source for $pkg (run scripts/install-deps.sh)" >&2
	exit 1
}
rm -rf "$dest"
# Full extraction: Debian's own patches (security fixes) are applied.
dpkg-source --no-check -x "$dsc" "$dest" >&2
basename "$dsc" .dsc
