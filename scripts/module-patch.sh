#!/usr/bin/env bash
# module-patch.sh TOPSRC FRRTREE
# Prints a patch (DEP-3 header, -p1) that adds the route-server module to
# the FRR tree FRRTREE: its sources in bgpd/, its automake fragment
# included from bgpd/subdir.am, and its YANG model in yang/. This is what
# scripts/build-frr.sh does with links for the development build.
set -euo pipefail
top=$(cd "$1" && pwd) frr=$(cd "$2" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/a/bgpd" "$tmp/a/yang" "$tmp/b/bgpd" "$tmp/b/yang"
cp "$frr/bgpd/subdir.am" "$tmp/a/bgpd/"
cp "$frr/bgpd/subdir.am" "$tmp/b/bgpd/"
echo "include bgpd/route_server.am" >>"$tmp/b/bgpd/subdir.am"
for f in "$top"/bgpd-rs-plugin/*.[ch]; do
	case "$(basename "$f")" in test_*) continue ;; esac
	cp "$f" "$tmp/b/bgpd/"
done
cp "$top/bgpd-rs-plugin/subdir.am" "$tmp/b/bgpd/route_server.am"
cp "$top"/yang/*.yang "$tmp/b/yang/"
cat <<'HDR'
Description: bgpd: add the route-server module
 The route_server module gives bgpd Azure Route Server's behaviour: a role
 per neighbor (NVA, ExpressRoute or VPN gateway) and a per-instance
 branch-to-branch flag that decide which routes each neighbor is sent. It
 is built as part of bgpd so that vtysh learns its commands, and shipped in
 the frr-route-server package (load with "bgpd -M route_server").
Forwarded: not-needed
Author: FRR route-server plugin <frr-route-server@example.net>

HDR
(cd "$tmp" && diff -ruN a b) || [ $? = 1 ]
