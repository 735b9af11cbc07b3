#!/usr/bin/env bash
# yanglint (libyang 3, built by scripts/build-libyang.sh) must accept the
# project's YANG modules without any warning.
set -euo pipefail
"$top_srcdir/scripts/build-libyang.sh" "$BUILDDIR" "$LIBYANG_PREFIX" >/dev/null
yl="$LIBYANG_PREFIX/bin/yanglint"
rc=0
for y in "$top_srcdir"/yang/*.yang; do
	out=$("$yl" -p "$top_srcdir/yang" "$y" 2>&1) || rc=1
	if [ -n "$out" ]; then
		echo "$out"
		rc=1
	fi
	echo "yanglint $(basename "$y"): $([ $rc = 0 ] && echo clean || echo FAILED)"
done
exit $rc
