#!/bin/sh
# Starts a private OpenSSH server for NETCONF on 127.0.0.1:$RS_NC_SSH_PORT,
# in the foreground (exec). Run as root. Same settings as netconfd-start.sh
# (RS_NC_STATE, RS_NC_SOCKDIR, RS_NC_GROUP, RS_NC_READ_GROUP,
# RS_NC_SSH_PORT, RS_NC_CONFIG_DIR: where sshd_config.in is). Public keys of users go in
# $RS_NC_STATE/authorized_keys/USER (root-owned, 0644); the users must be
# members of $RS_NC_GROUP (read-write) or $RS_NC_READ_GROUP (read-only).
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
state=${RS_NC_STATE:-/var/lib/frr-rs-netconf}
sockdir=${RS_NC_SOCKDIR:-/run/frr-rs-netconf}
group=${RS_NC_GROUP:-netconf-operators}
rgroup=${RS_NC_READ_GROUP:-netconf-readers}
port=${RS_NC_SSH_PORT:-8830}
cfgdir=${RS_NC_CONFIG_DIR:-$here/config}

[ "$(id -u)" = 0 ] || { echo "sshd-start: must run as root" >&2; exit 1; }
getent group "$group" >/dev/null || groupadd -r "$group"
getent group "$rgroup" >/dev/null || groupadd -r "$rgroup"
install -d -m 0711 -o root -g root "$state"
install -d -m 0700 -o root -g root "$state/sshd"
install -d -m 0755 -o root -g root "$state/authorized_keys"
install -d -m 0755 /run/sshd
[ -f "$state/sshd/ssh_host_ed25519_key" ] ||
	ssh-keygen -q -t ed25519 -N '' -f "$state/sshd/ssh_host_ed25519_key"
sed -e "s|@PORT@|$port|g" -e "s|@STATE@|$state|g" -e "s|@GROUP@|$group|g" \
	-e "s|@READ_GROUP@|$rgroup|g" \
	-e "s|@SOCK@|$sockdir/ncxserver.sock|g" \
	"$cfgdir/sshd_config.in" >"$state/sshd/sshd_config"
/usr/sbin/sshd -t -f "$state/sshd/sshd_config"
exec /usr/sbin/sshd -D -e -f "$state/sshd/sshd_config" "$@"
