#!/bin/sh
# vtysh for tests of the all-or-nothing apply: runs the real vtysh
# ($RS_TEST_REAL_VTYSH), but when a -c argument equals the line in
# $RS_TEST_FAIL_FILE it is sent with a word appended, which bgpd's CLI
# refuses: the real vtysh then applies the commands before it and stops
# there, as when a command fails part-way through a commit. Each call's
# arguments are appended to $RS_TEST_FAIL_FILE.log.
fail=
[ -s "$RS_TEST_FAIL_FILE" ] && fail=$(cat "$RS_TEST_FAIL_FILE")
[ -n "$RS_TEST_FAIL_FILE" ] && printf '%s\n' "$*" >>"$RS_TEST_FAIL_FILE.log"
n=$#
i=0
while [ "$i" -lt "$n" ]; do
	a=$1
	shift
	if [ -n "$fail" ] && [ "$a" = "$fail" ]; then
		a="$a injected-failure"
	fi
	set -- "$@" "$a"
	i=$((i + 1))
done
exec "$RS_TEST_REAL_VTYSH" "$@"
