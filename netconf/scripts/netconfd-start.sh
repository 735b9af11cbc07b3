#!/bin/sh
# Starts Debian's netconfd (yuma123) with the frr-bgp-route-server SIL, in
# the foreground (exec). Run as root. Settings (environment):
#   RS_NC_STATE    state dir: netconfd/{startup-cfg.xml,netconfd.log},
#                  sshd/, authorized_keys/
#                  (default /var/lib/frr-rs-netconf)
#   RS_NC_SOCKDIR  dir of the UNIX socket, root:root 0711
#                  (default /run/frr-rs-netconf)
#   RS_NC_GROUP    NETCONF operators group, read-write (default
#                  netconf-operators): NACM group "operators"
#   RS_NC_READ_GROUP NETCONF read-only group (default netconf-readers):
#                  NACM group "readers" (see config/nacm.xml)
#   RS_NC_SSH_PORT port of the private sshd (default 8830); netconfd
#                  refuses sessions coming from any other port
#   RS_NC_TARGET   candidate (default) or running (edit-config writes
#                  straight to running; the SIL validates and applies to
#                  bgpd per edit-config instead of per <commit>)
#   RS_NC_LOGLEVEL netconfd --log-level (default info)
#   RS_NC_SIL_DIR  where the SIL is (default: netconf/build of the checkout)
#   RS_NC_CONFIG_DIR where nacm.xml is (default: netconf/config)
#   RS_NC_YANG_DIR where frr-bgp-route-server.yang is (default: yang/)
#                  (the frr-route-server-netconf package sets these three)
#   FRR_RS_VTYSH, FRR_RS_VTY_SOCKET, FRR_RS_CONFIG_DIR, FRR_RS_TIMEOUT,
#   FRR_RS_SYNC_INTERVAL: how the SIL reaches bgpd (see sil/rs_frr.h)
#   FRR_RS_EVENT_INTERVAL: seconds between polls of bgpd for notifications
#                  (default 2, 0 = none; see sil/rs_notify.h)
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
top=$(cd "$here/.." && pwd)
state=${RS_NC_STATE:-/var/lib/frr-rs-netconf}
sockdir=${RS_NC_SOCKDIR:-/run/frr-rs-netconf}
group=${RS_NC_GROUP:-netconf-operators}
rgroup=${RS_NC_READ_GROUP:-netconf-readers}
port=${RS_NC_SSH_PORT:-8830}
target=${RS_NC_TARGET:-candidate}
sildir=${RS_NC_SIL_DIR:-$here/build}
cfgdir=${RS_NC_CONFIG_DIR:-$here/config}
yangdir=${RS_NC_YANG_DIR:-$top/yang}

[ "$(id -u)" = 0 ] || { echo "netconfd-start: must run as root" >&2; exit 1; }
[ -f "$sildir/libfrr-bgp-route-server.so" ] ||
	{ echo "netconfd-start: no SIL in $sildir (run 'make -C $here' first)" >&2; exit 1; }
getent group "$group" >/dev/null || groupadd -r "$group"
getent group "$rgroup" >/dev/null || groupadd -r "$rgroup"

install -d -m 0711 -o root -g root "$state"
nc="$state/netconfd"
install -d -m 0700 -o root -g root "$nc"
# netconfd makes the socket world-writable and takes the user name the
# client gives; the SIL (sil/rs_nacm.c) closes every session whose name is
# not the one of the socket peer's uid, so NACM sees real users and the
# socket may be reached by operators and readers alike (0711: no listing).
# Users in neither group are in no NACM group: everything is denied.
install -d -m 0711 -o root -g root "$sockdir"
chown root:root "$sockdir"
chmod 0711 "$sockdir"
rm -f "$sockdir/ncxserver.sock"
# netconfd stops when its startup file is missing: start from empty. The
# SIL then takes the route-server config from bgpd (bgpd is authoritative).
[ -f "$nc/startup-cfg.xml" ] ||
	echo '<config xmlns="urn:ietf:params:xml:ns:netconf:base:1.0"/>' \
		>"$nc/startup-cfg.xml"
# NACM: the shipped rules, groups filled from the system groups, replace
# the <nacm> netconfd saved (the rest of the startup file is kept)
/usr/bin/python3 "$(dirname "$0")/nacm-startup.py" "$cfgdir/nacm.xml" \
	"$nc/startup-cfg.xml" "$group" "$rgroup"

# vtysh defaults for a host FRR; tests point these at a private bgpd.
: "${FRR_RS_VTYSH:=$top/build/prefix/bin/vtysh}"
export FRR_RS_VTYSH
# the SIL refreshes the NACM groups from these
export RS_NC_GROUP="$group" RS_NC_READ_GROUP="$rgroup"
export HOME="$nc"
umask 077
exec /usr/sbin/netconfd \
	--modpath="$yangdir:/usr/share/yuma/modules" \
	--runpath="$sildir" \
	--module=frr-bgp-route-server \
	--startup="$nc/startup-cfg.xml" \
	--target="$target" \
	--access-control=enforcing \
	--ncxserver-sockname="$sockdir/ncxserver.sock" \
	--port="$port" \
	--log="$nc/netconfd.log" \
	--log-level="${RS_NC_LOGLEVEL:-info}" \
	"$@"
