#!/bin/sh
# Keeps netconfd (netconfd-start.sh, same settings and arguments) running,
# as watchfrr does for FRR's daemons: when netconfd dies of anything but a
# stop asked of this script, it is started again after a back-off
# (RS_NC_MIN_RESTART_INTERVAL, default 1 s, doubling up to
# RS_NC_MAX_RESTART_INTERVAL, default 30 s; back to the minimum once it
# has run 60 s). At each start the SIL takes the route-server
# configuration from bgpd, so nothing committed is lost. SIGTERM or SIGINT
# stop netconfd and then this script. Run as root, in the foreground.
set -u
here=$(cd "$(dirname "$0")" && pwd)
min=${RS_NC_MIN_RESTART_INTERVAL:-1}
max=${RS_NC_MAX_RESTART_INTERVAL:-30}
child=
stopping=

log() {
	echo "$(date '+%Y/%m/%d %H:%M:%S') netconfd-supervise: $*" >&2
}

stop() {
	stopping=1
	[ -n "$child" ] && kill -TERM "$child" 2>/dev/null
}
trap stop TERM INT

backoff=$min
while :; do
	started=$(date +%s)
	"$here/netconfd-start.sh" "$@" &
	child=$!
	log "netconfd started (pid $child)"
	wait "$child"
	rc=$?
	# wait returns early when a trapped signal arrives: wait again
	while kill -0 "$child" 2>/dev/null; do
		wait "$child"
		rc=$?
	done
	[ -n "$stopping" ] && { log "netconfd stopped (pid $child)"; exit 0; }
	if [ "$rc" -gt 128 ]; then
		why="killed by signal $((rc - 128))"
	else
		why="exited with status $rc"
	fi
	[ $(($(date +%s) - started)) -ge 60 ] && backoff=$min
	log "netconfd (pid $child) $why; restarting in $backoff s"
	sleep "$backoff" &
	wait $! || true
	[ -n "$stopping" ] && exit 0
	backoff=$((backoff * 2))
	[ "$backoff" -le "$max" ] || backoff=$max
done
