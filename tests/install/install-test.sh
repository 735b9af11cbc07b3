#!/usr/bin/env bash
# install-test.sh DEBDIR
# Installs the packages of DEBDIR (make deb) into a clean Debian root and
# uses them as an operator would. The root is a debootstrap (minbase) of
# the host's release, kept as a tarball in $RS_CACHE and unpacked afresh
# for every run; the daemons run chrooted in a network namespace of their
# own (no systemd here: FRR starts with frrinit.sh, the NETCONF services
# with their units' Environment and ExecStart lines, and the units are
# checked with systemd-analyze verify). Prints one "ok"/"FAIL" line per
# check and "N passed, N failed" at the end; exit 1 on any failure.
set -euo pipefail
debs=$(realpath "$1")
here=$(cd "$(dirname "$0")" && pwd)
cache=${RS_CACHE:-/var/cache/frr-rs}
. /etc/os-release
suite=$VERSION_CODENAME
mirror=http://deb.debian.org/debian
base=$cache/root-$suite-minbase.tar
tmp=$(mktemp -d /tmp/rs-install.XXXXXX)
root=$tmp/root
ns=rsinst$$
passed=0 failed=0 t0=$(date +%s)
shopt -s nullglob
# one install test at a time on a machine (shared root tarball, apt cache)
mkdir -p "$cache"
exec 8>"$cache/install-test.lock"
flock 8

log() { echo "install-test: $*"; }
ok() { passed=$((passed + 1)); echo "ok   $*"; }
fail() { failed=$((failed + 1)); echo "FAIL $*"; }
check() { # check NAME CMD...: one test case
	local name=$1; shift
	if "$@" >"$tmp/out" 2>&1; then ok "$name"; else
		fail "$name"; sed 's/^/     | /' "$tmp/out" | tail -n 25; fi
}
in_root() { chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
	HOME=/root LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive "$@"; }
in_ns() { ip netns exec "$ns" chroot "$root" /usr/bin/env -i \
	PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 "$@"; }
vtysh() { in_ns vtysh "$@"; }

cleanup() {
	set +e
	# every process whose root is the test root (daemons, sshd, netconfd)
	for p in /proc/[0-9]*; do
		[ "$(readlink "$p/root" 2>/dev/null)" = "$root" ] && kill -9 "${p#/proc/}" 2>/dev/null
	done
	sleep 0.5
	for m in var/cache/apt/archives dev/pts dev proc; do
		mountpoint -q "$root/$m" && umount -l "$root/$m"
	done
	ip netns del "$ns" 2>/dev/null
	rm -rf --one-file-system "$tmp"
}
trap cleanup EXIT

# --- a clean root ---------------------------------------------------------
if [ ! -f "$base" ]; then
	log "debootstrap --variant=minbase $suite (once; kept in $base)"
	debootstrap --variant=minbase "$suite" "$tmp/boot" "$mirror" >"$tmp/debootstrap.log" 2>&1 || {
		tail -n 20 "$tmp/debootstrap.log" >&2
		exit 1
	}
	tar -C "$tmp/boot" -cf "$base.new" . && mv "$base.new" "$base"
	rm -rf "$tmp/boot"
fi
mkdir -p "$root"
tar -C "$root" -xf "$base"
mount -t proc proc "$root/proc"
mount --bind /dev "$root/dev"
mount --bind /dev/pts "$root/dev/pts"
# a package cache of the test's own: downloads are reused from run to run
# (not the host's: its lock is the host's apt's)
mkdir -p "$cache/install-test-archives/partial"
mount --bind "$cache/install-test-archives" "$root/var/cache/apt/archives"
cp /etc/resolv.conf "$root/etc/resolv.conf"
# packages start nothing while they are installed (as in any chroot)
printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
chmod +x "$root/usr/sbin/policy-rc.d"
mkdir -p "$root/debs"
cp "$debs"/*.deb "$root/debs/"
ip netns add "$ns"
ip -n "$ns" link set lo up

t=$(date +%s)
# a server has systemd (minbase has not): the packages' systemd snippets
# then run as on a server, and systemd-analyze can verify the units
in_root sh -c 'apt-get update -q && apt-get install -y -q systemd' >"$tmp/apt.log" 2>&1 ||
	{ cat "$tmp/apt.log"; exit 1; }
log "systemd installed in the root in $(($(date +%s) - t)) s"
t=$(date +%s)
# what an operator installs: the packages (libyang3 on Debian 12 only),
# apt finds their dependencies
operator_debs() { # DIR: the packages of README's apt-get install line
	local d=$1 f
	for f in "$root/$d"/{frr,frr-pythontools,frr-route-server,frr-route-server-netconf,libyang3}_*.deb; do
		echo "./$d/${f##*/}"
	done
}
pkgs=$(operator_debs debs)
check "apt-get install ./frr ./frr-route-server ./frr-route-server-netconf ($(echo $pkgs | wc -w) debs)" \
	in_root sh -c "cd / && apt-get install -y -q $(echo $pkgs)"
[ "$failed" = 0 ] || exit 1
log "installed in $(($(date +%s) - t)) s"
in_root dpkg-query -W -f '${db:Status-Abbrev} ${Package} ${Version}\n' 'frr*' 'libyang*' |
	sed -n 's/^ii  */     /p'

# --- FRR from frrinit.sh with the module ----------------------------------
frr_conf_sum() { md5sum <"$root/etc/frr/frr.conf"; }
running() { vtysh -c 'show running-config'; }
has_rs_config() { # the role and b2b lines of the test are in bgpd
	local c
	c=$(running)
	grep -q 'bgp route-server branch-to-branch' <<<"$c" &&
		grep -q 'neighbor 10.0.0.2 route-server role nva' <<<"$c" &&
		grep -q 'neighbor 10.0.0.3 route-server role gateway expressroute' <<<"$c"
}
t_module_loaded() { vtysh -c 'show modules' | grep route_server; }
t_show_json() {
	vtysh -c 'show bgp route-server json' | python3 -c '
import json, sys
j = json.load(sys.stdin)
s = json.dumps(j)
assert "10.0.0.2" in s and "nva" in s and "expressroute" in s, s
' && vtysh -c 'show bgp route-server' | grep -i 'branch-to-branch.*on'
}
t_frr_conf_has() {
	grep -q 'bgp route-server branch-to-branch' "$root/etc/frr/frr.conf" &&
		grep -q 'neighbor 10.0.0.2 route-server role nva' "$root/etc/frr/frr.conf"
}
t_bad_role() {
	local before
	before=$(running | grep route-server)
	! vtysh -c 'configure terminal' -c 'router bgp 65515' \
		-c 'neighbor 10.0.0.2 route-server role router' || return 1
	[ "$before" = "$(running | grep route-server)" ]
}

sed -i -e 's/^bgpd=no/bgpd=yes/' \
	-e 's/^bgpd_options=.*/bgpd_options="   -A 127.0.0.1 -M route_server"/' \
	"$root/etc/frr/daemons"
check "daemons file: bgpd=yes, bgpd_options with -M route_server" \
	grep -q -- '^bgpd_options=.*-M route_server' "$root/etc/frr/daemons"
check "frrinit.sh start" in_ns /usr/lib/frr/frrinit.sh start
check "bgpd runs with the module (show modules)" t_module_loaded
check "configure a role and branch-to-branch from vtysh" vtysh \
	-c 'configure terminal' -c 'router bgp 65515' -c 'bgp router-id 10.0.0.1' \
	-c 'bgp route-server branch-to-branch' \
	-c 'neighbor 10.0.0.2 remote-as 65001' \
	-c 'neighbor 10.0.0.2 route-server role nva' \
	-c 'neighbor 10.0.0.3 remote-as 65002' \
	-c 'neighbor 10.0.0.3 route-server role gateway expressroute'
check "show bgp route-server [json] shows the roles and b2b" t_show_json
check "vtysh completes route-server commands (TAB, ?)" \
	/usr/bin/python3 "$here/vtysh_complete.py" "$ns" "$root"
check "bad input: an unknown role is refused, config unchanged" t_bad_role
check "write memory" vtysh -c 'write memory'
check "frr.conf holds the role and branch-to-branch" t_frr_conf_has
check "frrinit.sh restart" in_ns /usr/lib/frr/frrinit.sh restart
check "role and branch-to-branch survive write memory + restart" has_rs_config

# --- the NETCONF services, from their units ---------------------------------
units="frr-route-server-netconfd frr-route-server-netconf-sshd"
t_verify_unit() { # no output: no warning either
	in_root systemd-analyze verify "/lib/systemd/system/$1.service" 2>&1 | { ! grep .; }
}
t_enabled() { [ -L "$root/etc/systemd/system/multi-user.target.wants/$1.service" ]; }
for u in $units; do
	check "systemd-analyze verify $u.service" t_verify_unit "$u"
	check "$u.service enabled by the package" t_enabled "$u"
done
# start_unit UNIT: the unit's Environment=, EnvironmentFile= and ExecStart=
# lines, run as systemd would run them
start_unit() {
	local f="$root/lib/systemd/system/$1.service" envs exec
	envs=$(sed -n 's/^Environment=//p' "$f" | tr '\n' ' ')
	exec=$(sed -n 's/^ExecStart=//p' "$f")
	ip netns exec "$ns" chroot "$root" /usr/bin/env -i \
		PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 $envs \
		sh -c "set -a; [ -f /etc/default/frr-route-server-netconf ] &&
			. /etc/default/frr-route-server-netconf; set +a; exec $exec" \
		</dev/null >"$root/tmp/$1.log" 2>&1 &
	disown
}
t_netconf_up() {
	local i
	for i in $(seq 60); do
		[ -S "$root/run/frr-rs-netconf/ncxserver.sock" ] &&
			ip netns exec "$ns" bash -c 'exec 3<>/dev/tcp/127.0.0.1/8830' 2>/dev/null &&
			return 0
		sleep 0.5
	done
	cat "$root"/tmp/frr-route-server-netconf*.log
	return 1
}
t_b2b_off() { # in bgpd and, saved by the SIL, in frr.conf
	! running | grep -q 'bgp route-server branch-to-branch' &&
		! grep -q 'bgp route-server branch-to-branch' "$root/etc/frr/frr.conf"
}
check "postinst created the NACM groups" in_root getent group netconf-operators netconf-readers
# an operator account: in the group, not locked (sshd refuses locked ones)
in_root useradd -m -p '*' -G netconf-operators ncadmin
ssh-keygen -q -t ed25519 -N '' -f "$tmp/ncadmin_key"
install -m 0644 "$tmp/ncadmin_key.pub" "$root/var/lib/frr-rs-netconf/authorized_keys/ncadmin"
start_unit frr-route-server-netconfd
start_unit frr-route-server-netconf-sshd
check "netconfd and its sshd start from the packaged files" t_netconf_up
t_nc_b2b() {
	ip netns exec "$ns" /usr/bin/python3 "$here/netconf_b2b.py" "$tmp/ncadmin_key" "$1" || {
		tail -n 15 "$root"/tmp/frr-route-server-netconf*.log
		return 1
	}
}
check "ncclient over SSH: branch-to-branch off (candidate + commit)" t_nc_b2b false
check "bgpd and frr.conf have branch-to-branch off after the commit" t_b2b_off
check "ncclient over SSH: branch-to-branch on again" t_nc_b2b true
check "bgpd and frr.conf have branch-to-branch on again" t_frr_conf_has

# --- remove: stops nothing it should not, keeps the configuration ---------
sum=$(frr_conf_sum)
bgpd_pid=$(cat "$root/run/frr/bgpd.pid") # (/var/run is a link to /run)
t_kept() { # after a remove: bgpd runs, frr.conf and daemons are unchanged
	kill -0 "$bgpd_pid" && [ "$sum" = "$(frr_conf_sum)" ] &&
		grep -q -- '-M route_server' "$root/etc/frr/daemons"
}
t_nc_conf_kept() {
	[ -f "$root/etc/frr-route-server/netconf/nacm.xml" ] &&
		[ -f "$root/var/lib/frr-rs-netconf/authorized_keys/ncadmin" ]
}
t_prerm_stops() { # under systemd, remove stops both units (and only them)
	local u
	for u in $units; do
		grep -q "deb-systemd-invoke stop.*$u.service" \
			"$root/var/lib/dpkg/info/frr-route-server-netconf.prerm" || return 1
	done
	! grep -l 'frr-route-server-netconf' "$root"/var/lib/dpkg/info/frr{,-route-server}.{prerm,postrm}
}
t_dropin() { [ -f "$root/lib/systemd/system/ssh.service.d/frr-route-server-netconf.conf" ]; }
t_remove_warns() { # removing the module while daemons loads it says so
	in_root apt-get remove -y -q frr-route-server 2>&1 | tee /dev/stderr |
		grep -q 'remove it from bgpd_options'
}
check "ssh.service keeps /run/sshd (drop-in installed)" t_dropin
check "prerm stops the NETCONF units and nothing else" t_prerm_stops
check "apt-get remove frr-route-server-netconf" in_root apt-get remove -y -q frr-route-server-netconf
check "after remove: bgpd runs, frr.conf unchanged" t_kept
check "after remove: NETCONF conffiles and keys kept" t_nc_conf_kept
check "apt-get remove frr-route-server (warns about -M route_server)" t_remove_warns
check "after remove: bgpd runs, frr.conf and daemons unchanged" t_kept

# --- upgrade to a rebuild (binNMU-style +b1) keeps the configuration -------
t_new_frr() { in_root dpkg-query -W -f '${Version}' frr | grep -q '+b1$'; }
t_restart_has_config() { in_ns /usr/lib/frr/frrinit.sh restart && has_rs_config; }
/usr/bin/python3 "$here/rebuild_debs.py" "$root/debs" "$root/debs-next" +b1
npkgs=$(operator_debs debs-next)
check "apt-get install the next build (upgrade frr, reinstall the rest)" \
	in_root sh -c "cd / && apt-get install -y -q $(echo $npkgs)"
check "after upgrade: frr is the new build" t_new_frr
check "after upgrade: frr.conf unchanged" sh -c "[ '$sum' = \"\$(md5sum <'$root/etc/frr/frr.conf')\" ]"
check "after upgrade and restart: role and branch-to-branch in bgpd" t_restart_has_config
check "frrinit.sh stop" in_ns /usr/lib/frr/frrinit.sh stop

log "$(($(date +%s) - t0)) s"
echo "install: $passed passed, $failed failed"
[ "$failed" = 0 ]
