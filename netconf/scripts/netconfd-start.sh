#!/bin/sh
# Starts Debian's netconfd (yuma123) with the frr-bgp-route-server SIL, in
# the foreground (exec). Run as root. Settings (environment):
#   RS_NC_STATE    state dir: netconfd/{startup-cfg.xml,netconfd.log},
#                  sshd/, authorized_keys/
#                  (default /var/lib/frr-rs-netconf)
#   RS_NC_SOCKDIR  dir of the UNIX socket, root:$RS_NC_GROUP 0750
#                  (default /run/frr-rs-netconf)
#   RS_NC_GROUP    NETCONF operators group (default netconf-operators)
#   RS_NC_SSH_PORT port of the private sshd (default 8830); netconfd
#                  refuses sessions coming from any other port
#   RS_NC_TARGET   candidate (default) or running (edit-config writes
#                  straight to running; the SIL validates and applies to
#                  bgpd per edit-config instead of per <commit>)
#   RS_NC_LOGLEVEL netconfd --log-level (default info)
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
port=${RS_NC_SSH_PORT:-8830}
target=${RS_NC_TARGET:-candidate}

[ "$(id -u)" = 0 ] || { echo "netconfd-start: must run as root" >&2; exit 1; }
[ -f "$here/build/libfrr-bgp-route-server.so" ] ||
	{ echo "netconfd-start: run 'make -C $here' first" >&2; exit 1; }
getent group "$group" >/dev/null || groupadd -r "$group"

install -d -m 0711 -o root -g root "$state"
nc="$state/netconfd"
install -d -m 0700 -o root -g root "$nc"
# Only root and the operators group may reach the socket: netconfd makes
# the socket itself world-writable and trusts the user name it is given.
install -d -m 0750 -o root -g "$group" "$sockdir"
chown root:"$group" "$sockdir"
chmod 0750 "$sockdir"
rm -f "$sockdir/ncxserver.sock"
# netconfd stops when its startup file is missing: start from empty. The
# SIL then takes the route-server config from bgpd (bgpd is authoritative).
[ -f "$nc/startup-cfg.xml" ] ||
	echo '<config xmlns="urn:ietf:params:xml:ns:netconf:base:1.0"/>' \
		>"$nc/startup-cfg.xml"

# vtysh defaults for a host FRR; tests point these at a private bgpd.
: "${FRR_RS_VTYSH:=$top/build/prefix/bin/vtysh}"
export FRR_RS_VTYSH
export HOME="$nc"
umask 077
exec /usr/sbin/netconfd \
	--modpath="$top/yang:/usr/share/yuma/modules" \
	--runpath="$here/build" \
	--module=frr-bgp-route-server \
	--startup="$nc/startup-cfg.xml" \
	--target="$target" \
	--access-control=off \
	--ncxserver-sockname="$sockdir/ncxserver.sock" \
	--port="$port" \
	--log="$nc/netconfd.log" \
	--log-level="${RS_NC_LOGLEVEL:-info}" \
	"$@"
