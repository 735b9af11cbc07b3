#!/usr/bin/env bash
# build-debs.sh TOPSRC OUTDIR
# Debian binary packages of the product, built with Debian's own packaging:
#  - libyang (trixie's source, only where the host's libyang is too old for
#    FRR 10: a backport, version 3.12.2-1~rs12+1 on Debian 12);
#  - frr (trixie's source package with the project's patch series and the
#    module added to debian/patches, version suffix +rsN) and the extra
#    binary package frr-route-server built from the same source;
#  - frr-route-server-netconf (packaging/netconf, the NETCONF SIL + units).
# The .deb files land in OUTDIR; lintian runs on each set (errors fail).
# Builds happen under $RS_CACHE/deb-build, a fixed path so that ccache hits
# from one checkout to the next; a set whose inputs are unchanged is reused.
# Settings: RS_DEB_REV (the N of +rsN, default 1), RS_CACHE.
set -euo pipefail
top=$(cd "$1" && pwd) out=$(realpath -m "$2")
cache=${RS_CACHE:-/var/cache/frr-rs}
work=$cache/deb-build
rev=${RS_DEB_REV:-1}
mkdir -p "$work" "$out"
exec 9>"$cache/deb-build.lock"
flock 9
rm -f "$out"/*.deb

. /etc/os-release
codename=$VERSION_CODENAME
maint="FRR route-server plugin <frr-route-server@example.net>"
when=$(git -C "$top" log -1 --format=%aD 2>/dev/null || date -R)
# nocheck: FRR's and libyang's own unit tests (minutes on 2 cores; ours
# test the result); terse: quiet logs; parallel: all cores. Not nodoc:
# both packagings install their docs unconditionally.
export DEB_BUILD_OPTIONS="nocheck terse parallel=$(nproc)"
export DEB_BUILD_PROFILES="nocheck"
# Debian's tools only (no /usr/local, no pyenv): what a buildd sees
export PATH="/usr/lib/ccache:/usr/sbin:/usr/bin:/sbin:/bin"
unset PYTHONPATH PYENV_VERSION
export CCACHE_DIR=${CCACHE_DIR:-$cache/ccache} CCACHE_BASEDIR=$work CCACHE_NOHASHDIR=1
export DEBFULLNAME="FRR route-server plugin" DEBEMAIL="frr-route-server@example.net"

arch=$(dpkg --print-architecture)
log() { echo "deb: $*"; }
# need FILE...: every file a step must have produced
need() {
	local f
	for f in "$@"; do
		[ -f "$f" ] || { echo "deb: missing $f" >&2; exit 1; }
	done
}

# new_changelog DIR SOURCE VERSION TEXT: a changelog entry on top of
# Debian's, so the packages carry our version and say why.
new_changelog() {
	local f=$1/debian/changelog
	{
		printf '%s (%s) %s; urgency=medium\n\n' "$2" "$3" "$codename"
		printf '%s\n' "$4" | sed 's/^/  /'
		printf '\n -- %s  %s\n\n' "$maint" "$when"
		cat "$f"
	} >"$f.new"
	mv "$f.new" "$f"
}

# stamp_of FILES...: what a package set is built from.
stamp_of() { cat "$@" | sha256sum | cut -d' ' -f1; }

# build SRCDIR NAME: dpkg-buildpackage -b, then lintian on the .changes.
build() {
	local dir=$1 name=$2
	log "$name: dpkg-buildpackage -b (log: $work/$name-build.log)"
	(cd "$dir" && dpkg-buildpackage -b -us -uc -j"$(nproc)") \
		>"$work/$name-build.log" 2>&1 || {
		tail -n 40 "$work/$name-build.log" >&2
		echo "deb: $name build failed, see $work/$name-build.log" >&2
		exit 1
	}
	local changes
	changes=$(dpkg-parsechangelog -l "$dir/debian/changelog" -S Version)
	changes=$work/${name}_${changes#*:}_$arch.changes
	need "$changes"
	log "$name: lintian"
	lintian --fail-on error --suppress-tags-from-file "$top/packaging/lintian-keep" \
		"$changes" >"$work/$name-lintian.log" 2>&1 || {
		cat "$work/$name-lintian.log" >&2
		echo "deb: lintian errors in $name" >&2
		exit 1
	}
}

# --- libyang: a backport where the host's is older than FRR 10 needs -----
# the archive's libyang binary packages (madison: not what is installed,
# which may be our own backport)
lyver=$(apt-cache madison libyang-dev libyang2-dev 2>/dev/null |
	awk -F'|' '$3 ~ /Packages/ {gsub(/ /, "", $2); print $2}' | sort -V | tail -n 1)
ly_debs=
if [ -z "$lyver" ] || dpkg --compare-versions "$lyver" lt 2.1.128; then
	dsc=$("$top/scripts/fetch-sources.sh" libyang "$work/libyang" 2>"$work/libyang-unpack.log" | tail -n 1) ||
		{ cat "$work/libyang-unpack.log" >&2; exit 1; }
	lyv=${dsc#libyang_}
	bver="$lyv~rs${VERSION_ID%%.*}+1"
	stamp=$(echo "$dsc $bver" | sha256sum | cut -d' ' -f1)
	if [ "$(cat "$work/libyang.stamp" 2>/dev/null)" != "$stamp" ] ||
		[ ! -f "$work/libyang3_${bver}_$arch.deb" ]; then
		rm -f "$work"/libyang*.deb "$work"/libyang_*.changes
		new_changelog "$work/libyang" libyang "$bver" \
			"* Rebuild for $codename (FRR 10 needs libyang >= 2.1.128)."
		build "$work/libyang" libyang
		echo "$stamp" >"$work/libyang.stamp"
	else
		rm -rf "$work/libyang"
		log "libyang: $bver unchanged, reused"
	fi
	ly_debs="$work/libyang3_${bver}_$arch.deb $work/libyang-dev_${bver}_$arch.deb"
	need $ly_debs "$work/libyang3-tools_${bver}_$arch.deb"
	# FRR's build needs it (libyang-dev replaces Debian 12's libyang2-dev)
	if [ "$(dpkg-query -W -f '${Version}' libyang-dev 2>/dev/null)" != "$bver" ]; then
		log "libyang: installing $bver for FRR's build"
		apt-get install -y -q $ly_debs >"$work/libyang-install.log" 2>&1 || {
			cat "$work/libyang-install.log" >&2
			exit 1
		}
	fi
	cp $ly_debs "$work/libyang3-tools_${bver}_$arch.deb" "$out/"
fi

# --- frr: Debian's packaging + our patch series + the module -------------
frrdsc=$("$top/scripts/fetch-sources.sh" frr "$work/frr.new" 2>"$work/frr-unpack.log" | tail -n 1) || {
	cat "$work/frr-unpack.log" >&2
	exit 1
}
debver=$(dpkg-parsechangelog -l "$work/frr.new/debian/changelog" -S Version)
fver="$debver+rs$rev"
stamp=$(
	echo "$frrdsc $fver $arch $DEB_BUILD_OPTIONS $DEB_BUILD_PROFILES $(cat "$work/libyang.stamp" 2>/dev/null)"
	cd "$top" && stamp_of patches/frr/* bgpd-rs-plugin/*.[ch] bgpd-rs-plugin/subdir.am \
		scripts/module-patch.sh scripts/fetch-sources.sh \
		yang/*.yang $(find packaging/frr -type f | LC_ALL=C sort) \
		docs/{user-guide,high-availability,reliability,bad-input}.md \
		scripts/build-debs.sh
)
if [ "$(cat "$work/frr.stamp" 2>/dev/null)" = "$stamp" ] &&
	[ -f "$work/frr_${fver}_$arch.deb" ]; then
	rm -rf "$work/frr.new"
	log "frr: $fver unchanged, reused"
else
	rm -rf "$work/frr"
	mv "$work/frr.new" "$work/frr"
	rm -f "$work"/frr*_*.deb "$work"/frr_*.changes "$work"/frr_*.buildinfo
	d=$work/frr/debian
	# the patch series, as upstream-style patches after Debian's own
	mkdir -p "$d/patches/route-server"
	cp "$top"/patches/frr/0*.patch "$d/patches/route-server/"
	grep -v '^#' "$top/patches/frr/series" | sed 's|^|route-server/|' >>"$d/patches/series"
	# the module itself, as one more patch that adds its files to bgpd/
	"$top/scripts/module-patch.sh" "$top" "$work/frr" \
		>"$d/patches/route-server/route-server-module.patch"
	echo route-server/route-server-module.patch >>"$d/patches/series"
	dpkg-source --before-build "$work/frr" >"$work/frr-patch.log" 2>&1 || {
		cat "$work/frr-patch.log" >&2
		echo "deb: the patch series does not apply to $frrdsc" >&2
		exit 1
	}
	# a modified package is ours to answer for (the changelog names
	# Debian's maintainer), and it gains frr-route-server
	orig_maint=$(sed -n 's/^Maintainer: //p' "$d/control")
	sed -i -e "s/^Maintainer: .*/Maintainer: $maint/" -e '/^Vcs-/d' \
		-e '/^Uploaders:/,/^[^ ]/{/^Uploaders:/d;/^ /d}' "$d/control"
	cat "$top/packaging/frr/control.in" >>"$d/control"
	cp "$top"/packaging/frr/frr-route-server.* "$d/"
	mkdir -p "$d/route-server/docs" "$d/route-server/examples"
	cp "$top/packaging/frr/README.md" "$d/route-server/"
	cp "$top"/docs/{user-guide,high-availability,reliability,bad-input}.md "$d/route-server/docs/"
	cp "$top"/packaging/frr/examples/* "$d/route-server/examples/"
	new_changelog "$work/frr" frr "$fver" \
		"$(printf '%s\n' "* Add the route-server patch series (debian/patches/route-server)" \
			"  and the route_server bgpd module (new package frr-route-server)." \
			"* Debian's packaging, unchanged otherwise, is by" "  $orig_maint.")"
	build "$work/frr" frr
	echo "$stamp" >"$work/frr.stamp"
fi
frr_debs="$work/frr_${fver}_$arch.deb $work/frr-route-server_${fver}_$arch.deb
	$work/frr-pythontools_${fver}_all.deb $work/frr-doc_${fver}_all.deb
	$work/frr-snmp_${fver}_$arch.deb"
# frr-rpki-rtrlib is not built with the pkg.frr.nortrlib profile
[ -f "$work/frr-rpki-rtrlib_${fver}_$arch.deb" ] &&
	frr_debs="$frr_debs $work/frr-rpki-rtrlib_${fver}_$arch.deb"
need $frr_debs
cp $frr_debs "$out/"

# --- frr-route-server-netconf: a native package of this repository -------
# version: configure.ac's, the number of commits (a later commit of main
# sorts later), and the frr it goes with (it depends on that exact build,
# so another frr build must give another version; a native version has
# no "-")
acver=$(sed -n 's/^AC_INIT(\[frr-route-server\], \[\([^]]*\)\].*/\1/p' "$top/configure.ac")
ncommits=$(git -C "$top" rev-list --count HEAD 2>/dev/null || echo 0)
nver="$acver+r$ncommits+frr${fver//-/.}"
nsrc=$work/frr-route-server-netconf
rm -rf "$nsrc" "$work"/frr-route-server-netconf_*
mkdir -p "$nsrc/netconf" "$nsrc/yang"
cp -r "$top/packaging/netconf/debian" "$nsrc/"
# the SIL implements the YANG revision of this very build of the module
sed -i "s/^ frr-route-server,$/ frr-route-server (= $fver),/" "$nsrc/debian/control"
grep -q "^ frr-route-server (= $fver),$" "$nsrc/debian/control" ||
	{ echo "deb: packaging/netconf/debian/control: no frr-route-server dependency" >&2; exit 1; }
cp -r "$top"/netconf/{Makefile,README.md,sil,config,scripts,examples} "$nsrc/netconf/"
cp "$top"/yang/*.yang "$nsrc/yang/"
: >"$nsrc/debian/changelog"
new_changelog "$nsrc" frr-route-server-netconf "$nver" \
	"* Build of frr-route-server at commit $(git -C "$top" rev-parse --short HEAD 2>/dev/null || echo unknown)."
build "$nsrc" frr-route-server-netconf
need "$work/frr-route-server-netconf_${nver}_$arch.deb"
cp "$work/frr-route-server-netconf_${nver}_$arch.deb" "$out/"
echo "$fver" >"$out/frr-version"
log "packages in $out:"
(cd "$out" && ls -s --block-size=K -- *.deb)
