#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# build-commit.sh COMMIT WORKTREE
# FRR + module as of a COMMIT of this project, in a prefix of its own: for
# the bench's variant c0 (rsbench.py --baseline-prefix WORKTREE/build/prefix,
# or make bench BASELINE_PREFIX=...), and to measure a pinned commit with a
# build nothing else rebuilds while the bench runs (--prefix). A git
# worktree of the project at COMMIT, built by that commit's own
# scripts/build-frr.sh into WORKTREE/build (its own build directory and
# prefix, never the main build) against the main build's libyang. ccache
# is shared with the main build: 5-10 minutes on 2 cores, less when the
# cache is warm. Prints the prefix.
#
#   bench/build-commit.sh 91fc4c3 /tmp/rs-old
set -euo pipefail
[ $# -eq 2 ] || { echo "usage: $0 COMMIT WORKTREE" >&2; exit 2; }
commit=$1 dir=$(realpath -m "$2")
top=$(cd "$(dirname "$0")/.." && pwd)
ly=${LIBYANG_PREFIX:-$top/build/libyang}
want=$(git -C "$top" rev-parse --verify "$commit^{commit}")
case "$dir/" in "$top/build/"*)
	echo "build-commit: $dir is inside the main build directory" >&2
	exit 1 ;;
esac
[ -e "$dir/.git" ] || git -C "$top" worktree add --detach "$dir" "$want" >&2
have=$(git -C "$dir" rev-parse HEAD)
[ "$have" = "$want" ] || {
	echo "build-commit: $dir holds $have, not $commit" >&2
	exit 1
}
[ -d "$ly/lib" ] || {
	echo "build-commit: no libyang in $ly (build the project first)" >&2
	exit 1
}
"$dir/scripts/build-frr.sh" "$dir" "$dir/build" "$dir/build/prefix" "$ly" >&2
echo "$dir/build/prefix"
