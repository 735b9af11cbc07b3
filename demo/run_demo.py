#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""
Demo of the route-server module: the seed's two scenarios, each in network
namespaces with real FRR daemons, showing what each router learns and
whether on-prem sites reach each other with branch-to-branch off, on, and
off again; then a backup scenario (one on-prem prefix over ExpressRoute and
over VPN) showing how the routing preference moves the VNet's next hop.
"""

import argparse
import json
import os
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from netlab import Lab  # noqa: E402

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LABELS = {
    "10.1.0.0/16": "VNet",
    "192.168.10.0/24": "On-prem 1",
    "192.168.20.0/24": "On-prem 2",
    "192.168.30.0/24": "On-prem 3",
    "192.168.40.0/24": "On-prem 4",
}

SCENARIOS = {
    "seed1": {
        "title": "Scenario 1: SD-WAN NVA + ExpressRoute gateway",
        "show": ["nva", "ergw", "onprem1", "onprem2"],
        "ping": ("onprem1", "192.168.10.1", "onprem2", "192.168.20.1"),
    },
    "seed2": {
        "title": "Scenario 2: active-active VPN gateway + ExpressRoute gateway",
        "show": ["vpngw1", "vpngw2", "ergw", "onprem3", "onprem2"],
        "ping": ("onprem3", "192.168.30.1", "onprem2", "192.168.20.1"),
    },
    "backup": {
        "title": "Scenario 3: On-prem 4 over ExpressRoute and VPN (backup), routing preference",
    },
}
VERDICT = {
    "seed1": "behaves as specified (isolated, connected, isolated)",
    "seed2": "behaves as specified (isolated, connected, isolated)",
    "backup": "behaves as specified (ExpressRoute, VPN, ExpressRoute, ExpressRoute; no session reset)",
}


def bgp_prefixes(node):
    out = node.vtysh("show bgp ipv4 unicast json")
    try:
        return sorted(json.loads(out).get("routes", {}))
    except ValueError:
        return []


def snapshot(lab, names):
    return {n: bgp_prefixes(lab.nodes[n]) for n in names}


def settle(lab, names, timeout=30.0, quiet=2.0):
    """Wait until no router's BGP table changed for `quiet` seconds."""
    last, since, end = None, time.time(), time.time() + timeout
    while time.time() < end:
        now = snapshot(lab, names)
        if now != last:
            last, since = now, time.time()
        elif time.time() - since >= quiet:
            break
        time.sleep(0.3)
    return last


def established(node):
    data = json.loads(node.vtysh("show bgp summary json") or "{}")
    peers = data.get("ipv4Unicast", {}).get("peers", {})
    return peers and all(p.get("state") == "Established" for p in peers.values())


def ping(lab, src, src_ip, dst, dst_ip):
    r = lab.nodes[src].run("ping", "-c", "2", "-W", "1", "-I", src_ip, dst_ip, check=False)
    return r.returncode == 0


def label(prefix):
    return "{} ({})".format(prefix, LABELS[prefix]) if prefix in LABELS else prefix


def report(lab, scen, phase):
    print("\n--- {} ---".format(phase))
    table = settle(lab, scen["show"])
    for name in scen["show"]:
        learned = ", ".join(label(p) for p in table[name]) or "(nothing)"
        print("  {:<8} BGP table: {}".format(name, learned))
    src, sip, dst, dip = scen["ping"]
    ok = ping(lab, src, sip, dst, dip)
    print("  ping {} ({}) -> {} ({}): {}".format(src, sip, dst, dip, "OK" if ok else "FAILED"))
    return ok


def show_rs(rs):
    print("\n  rs# show bgp route-server")
    for line in rs.vtysh("show bgp route-server").rstrip().splitlines():
        print("  " + line)


def rs_config(lab, *lines):
    lab.nodes["rs"].vtysh("configure terminal", "router bgp 65515", *lines)


def start_lab(lab, name):
    """Every node of the scenario with mgmtd, zebra (which installs the
    routes into the namespace's kernel) and bgpd; wait for the sessions."""
    sdir = os.path.join(TOP, "scenarios", name)
    lab.load_topology(os.path.join(sdir, "topology"))
    for n, node in lab.nodes.items():
        node.start_frr(os.path.join(sdir, n + ".conf"), ["-M", "route_server"] if n == "rs" else [])
    deadline = time.time() + 60
    while not all(established(n) for n in lab.nodes.values()):
        if time.time() > deadline:
            raise RuntimeError("BGP sessions did not come up")
        time.sleep(0.5)


def run(prefix, name):
    scen = SCENARIOS[name]
    print("\n=== {} ===".format(scen["title"]))
    lab = Lab(prefix)
    try:
        start_lab(lab, name)
        rs = lab.nodes["rs"]
        results = [report(lab, scen, "branch-to-branch off (default)")]
        show_rs(rs)
        rs_config(lab, "bgp route-server branch-to-branch")
        results.append(report(lab, scen, "branch-to-branch on"))
        show_rs(rs)
        rs_config(lab, "no bgp route-server branch-to-branch")
        results.append(report(lab, scen, "branch-to-branch off again"))
        if name == "seed2":
            print("\n--- one VPN session only (gateway vpn role removed from 10.1.0.31), b2b on ---")
            rs_config(lab, "no neighbor 10.1.0.31 route-server role", "bgp route-server branch-to-branch")
            for line in rs.vtysh("show bgp route-server").splitlines():
                if "Warning" in line or "active-active" in line:
                    print("  " + line.strip())
        return results == [False, True, False]
    finally:
        lab.close()


# --- Scenario 3: backup path and routing preference ------------------------

BACKUP_PREFIX = "192.168.40.0/24"
BACKUP_HOST = "192.168.40.1"
GATEWAYS = ("ergw", "vpngw1", "vpngw2")
PINGS = 3
# (phase, configuration lines, the preference rs then shows, gateways the
#  VNet's traffic must take, rs's selection reason)
BACKUP_PHASES = [
    ("routing-preference expressroute", ["bgp route-server routing-preference expressroute"],
     "expressroute", {"ergw"}, "Routing preference"),
    ("routing-preference vpn", ["bgp route-server routing-preference vpn"],
     "vpn", {"vpngw1", "vpngw2"}, "Routing preference"),
    ("routing-preference as-path (shortest AS path; the VPN side is prepended)",
     ["bgp route-server routing-preference as-path"], "as-path", {"ergw"}, "AS Path"),
    ("no routing-preference (back to the default, expressroute)", ["no bgp route-server routing-preference"],
     "expressroute", {"ergw"}, "Routing preference"),
]


def wait_for(check, timeout=15.0, interval=0.2):
    """Poll check() until it returns something true (or time runs out);
    return its last value."""
    end = time.time() + timeout
    while True:
        value = check()
        if value or time.time() > end:
            return value
        time.sleep(interval)


def vjson(node, cmd):
    try:
        return json.loads(node.vtysh(cmd) or "{}")
    except ValueError:
        return {}


def rs_best(rs):
    """(peer, selection reason) of rs's best path for the backup prefix."""
    for path in vjson(rs, "show bgp ipv4 unicast {} json".format(BACKUP_PREFIX)).get("paths", []):
        best = path.get("bestpath", {})
        if best.get("overall"):
            return path.get("peer", {}).get("peerId"), best.get("selectionReason")
    return None, None


def kernel_nexthops(rs):
    out = rs.run("ip", "-j", "route", "show", BACKUP_PREFIX, check=False).stdout
    routes = json.loads(out or "[]")
    hops = set()
    for r in routes:
        if r.get("protocol") != "bgp":
            continue
        if "gateway" in r:
            hops.add(r["gateway"])
        hops.update(nh["gateway"] for nh in r.get("nexthops", []) if "gateway" in nh)
    return hops


def received_from_rs(gw):
    """The paths a gateway received from rs for the backup prefix."""
    data = vjson(gw, "show bgp ipv4 unicast {} json".format(BACKUP_PREFIX))
    return [p for p in data.get("paths", []) if p.get("peer", {}).get("peerId") == "10.1.0.4"]


def sessions(lab):
    """Per router and neighbor: how often it was established and dropped,
    and since when it is up (a reset changes at least one of them)."""
    state = {}
    for name, node in lab.nodes.items():
        peers = vjson(node, "show bgp summary json").get("ipv4Unicast", {}).get("peers", {})
        for peer, p in peers.items():
            state[(name, peer)] = (p.get("connectionsEstablished"), p.get("connectionsDropped"),
                                   p.get("peerUptimeEstablishedEpoch", 0))
    return state


def same_session(a, b):
    # The epoch is computed from the uptime: allow a second of rounding.
    return a is not None and b is not None and a[:2] == b[:2] and abs(a[2] - b[2]) <= 1


def tx_packets(node, ifname):
    out = node.run("ip", "-j", "-s", "link", "show", "dev", ifname).stdout
    return json.loads(out)[0]["stats64"]["tx"]["packets"]


def backup_phase(lab, title, lines, want_pref, want_gws, want_reason):
    rs = lab.nodes["rs"]
    who = {addr: node for addr, (node, _) in lab.owner.items()}
    vnet_addr = {node: addr for addr, (node, ifname) in lab.owner.items() if ifname == "vnet"}
    onprem_if = {node: ifname for _, (node, ifname) in lab.owner.items()
                 if node in GATEWAYS and ifname != "vnet"}
    want_hops = {vnet_addr[g] for g in want_gws}
    problems = []
    print("\n--- {} ---".format(title))
    rs_config(lab, *lines)
    # Converged when rs's best path (and the reason it was chosen) and its
    # kernel route are as expected; the best path may stay the same one.
    wait_for(lambda: who.get(rs_best(rs)[0]) in want_gws and rs_best(rs)[1] == want_reason
             and kernel_nexthops(rs) == want_hops)

    print("  rs# show bgp ipv4 unicast {}".format(BACKUP_PREFIX))
    for line in rs.vtysh("show bgp ipv4 unicast " + BACKUP_PREFIX).rstrip().splitlines():
        if "Last update" not in line:
            print("  " + line)
    pref = [ln.split(":", 1)[1].strip() for ln in rs.vtysh("show bgp route-server").splitlines()
            if ln.startswith("Routing preference:")]
    peer, reason = rs_best(rs)
    print("  rs: routing preference {}; best path from {} ({}), selection reason: {}".format(
        pref[0] if pref else "?", peer, who.get(peer, "?"), reason))
    if pref != [want_pref]:
        problems.append("routing preference {}, expected {}".format(pref, want_pref))
    if who.get(peer) not in want_gws:
        problems.append("best path from {}, expected {}".format(who.get(peer), "/".join(sorted(want_gws))))
    if reason != want_reason:
        problems.append("selection reason {!r}, expected {!r}".format(reason, want_reason))

    hops = kernel_nexthops(rs)
    print("  rs kernel route: {} via {}".format(
        BACKUP_PREFIX, ", ".join("{} ({})".format(h, who.get(h, "?")) for h in sorted(hops)) or "(none)"))
    if hops != want_hops:
        problems.append("kernel next hops {}, expected {}".format(sorted(hops), sorted(want_hops)))
    get = json.loads(rs.run("ip", "-j", "route", "get", BACKUP_HOST, "from", "10.1.0.4").stdout)[0]
    print("  rs# ip route get {} from 10.1.0.4: via {} ({}) dev {}".format(
        BACKUP_HOST, get.get("gateway"), who.get(get.get("gateway"), "?"), get.get("dev")))
    if get.get("gateway") not in want_hops:
        problems.append("ip route get: via {}".format(get.get("gateway")))

    # Ping with the record-route option: each router writes the address it
    # forwards from, so the reply names the gateway that carried the request.
    before = {g: tx_packets(lab.nodes[g], onprem_if[g]) for g in GATEWAYS}
    r = rs.run("ping", "-R", "-n", "-c", str(PINGS), "-i", "0.2", "-W", "1", "-I", "10.1.0.4", BACKUP_HOST,
               check=False)
    after = {g: tx_packets(lab.nodes[g], onprem_if[g]) for g in GATEWAYS}
    rr, seen = [], False
    for line in r.stdout.splitlines():
        if line.startswith("RR:"):
            if seen:
                break
            seen = True
            line = line[3:]
        elif not (seen and line.startswith("\t")):
            if seen:
                break
            continue
        rr.append(line.strip())
    received = sum(1 for line in r.stdout.splitlines() if "bytes from " + BACKUP_HOST in line)
    hops_named = " -> ".join("{} ({})".format(who.get(a, a), a) for a in rr)
    carrier = who.get(rr[1]) if len(rr) > 1 else None
    print("  rs# ping -R {}: {}/{} replies; recorded route: {}".format(BACKUP_HOST, received, PINGS, hops_named or "-"))
    print("  packets each gateway sent towards On-prem 4 during the ping (its own BGP/ARP included): {}".format(
        ", ".join("{} +{}".format(g, after[g] - before[g]) for g in GATEWAYS)))
    print("  VNet -> On-prem 4 traffic carried by: {}".format(carrier))
    if r.returncode != 0 or received != PINGS:
        problems.append("ping failed")
    if carrier not in want_gws:
        problems.append("ping carried by {}".format(carrier))
    elif after[carrier] - before[carrier] < PINGS:
        problems.append("{} forwarded only {} packets".format(carrier, after[carrier] - before[carrier]))
    for g in GATEWAYS:
        if g not in want_gws and after[g] - before[g] >= PINGS:
            problems.append("{} forwarded {} packets".format(g, after[g] - before[g]))

    # Best allowed path, branch-to-branch off: ExpressRoute paths never go to
    # the VPN gateways, VPN paths never to the ExpressRoute gateway (nor to
    # the other VPN instance); each gateway hears the prefix from On-prem 4.
    print("  what each gateway receives from rs for {}:".format(BACKUP_PREFIX))
    for g in GATEWAYS:
        paths = received_from_rs(lab.nodes[g])
        withheld = vjson(rs, "show bgp route-server withheld {} json".format(vnet_addr[g])).get("withheld", [])
        why = [w for w in withheld if w.get("prefix") == BACKUP_PREFIX]
        if paths:
            got = ", ".join("path {} via {}".format(p.get("aspath", {}).get("string"),
                                                    p.get("nexthops", [{}])[0].get("ip")) for p in paths)
            problems.append("{} received {} from rs (branch-to-branch is off)".format(g, got))
        elif why:
            got = "nothing (withheld: best path from {}, {}, {})".format(
                why[0].get("sourceNeighbor"), why[0].get("sourceRole"), why[0].get("reason"))
        elif who.get(peer) == g:
            got = "nothing (the best path is its own)"
        else:
            got = "nothing"
        print("    {:<8} {}".format(g, got))
    for p in problems:
        print("  UNEXPECTED: " + p)
    return not problems


def run_backup(prefix):
    print("\n=== {} ===".format(SCENARIOS["backup"]["title"]))
    lab = Lab(prefix)
    try:
        start_lab(lab, "backup")
        rs = lab.nodes["rs"]
        # Every path in place before the first phase: rs has On-prem 4 from
        # all three gateways, On-prem 4 has the VNet from all three.
        def npaths(node, prefix):
            return len(vjson(node, "show bgp ipv4 unicast {} json".format(prefix)).get("paths", []))

        if not wait_for(lambda: npaths(rs, BACKUP_PREFIX) == 3 and npaths(lab.nodes["onprem4"], "10.1.0.0/16") == 3,
                        timeout=30):
            raise RuntimeError("rs and On-prem 4 did not learn each other's prefix over the three gateways")
        # Let the last BGP messages and acknowledgements towards On-prem 4
        # pass, so that the packet counters below show the pings alone.
        onprem_if = [(lab.nodes[n], i) for _, (n, i) in lab.owner.items() if n in GATEWAYS and i != "vnet"]
        last, since, end = None, time.time(), time.time() + 5
        while time.time() < end and time.time() - since < 1.0:
            now = [tx_packets(node, i) for node, i in onprem_if]
            if now != last:
                last, since = now, time.time()
            time.sleep(0.1)
        before = sessions(lab)
        ok = True
        for phase in BACKUP_PHASES:
            ok &= backup_phase(lab, *phase)
        after = sessions(lab)
        reset = sorted("{} - {}".format(n, p) for (n, p), v in before.items() if not same_session(v, after.get((n, p))))
        print("\n--- BGP sessions ---")
        if reset:
            print("  UNEXPECTED: reset during the demo: " + ", ".join(reset))
        else:
            print("  none reset: all {} sessions ({} of them at rs) still in their first connection".format(
                len(before), sum(1 for n, _ in before if n == "rs")))
        return ok and not reset
    finally:
        lab.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--prefix", required=True, help="FRR install prefix")
    ap.add_argument("scenarios", nargs="*", default=["seed1", "seed2", "backup"],
                    help="scenarios to run: {} (default: all)".format(", ".join(SCENARIOS)))
    args = ap.parse_args()
    for name in args.scenarios:
        if name not in SCENARIOS:
            ap.error("unknown scenario {!r}".format(name))
    if os.geteuid() != 0:
        sys.exit("demo: run as root (network namespaces)")
    # Interrupted or killed: still tear the namespaces down.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("demo: terminated"))
    os.environ["PATH"] = "{0}/bin:{0}/sbin:{1}".format(args.prefix, os.environ.get("PATH", ""))
    ok = True
    for name in args.scenarios:
        good = run_backup(args.prefix) if name == "backup" else run(args.prefix, name)
        print("\n{}: {}".format(SCENARIOS[name]["title"], VERDICT[name] if good else "UNEXPECTED RESULT"))
        ok &= good
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
