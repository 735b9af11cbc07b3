#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""
Demo of the route-server module: the seed's two scenarios, each in network
namespaces with real FRR daemons, showing what each router learns and
whether on-prem sites reach each other with branch-to-branch off, on, and
off again.
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


def run(prefix, name):
    scen = SCENARIOS[name]
    sdir = os.path.join(TOP, "scenarios", name)
    print("\n=== {} ===".format(scen["title"]))
    lab = Lab(prefix)
    try:
        lab.load_topology(os.path.join(sdir, "topology"))
        for n, node in lab.nodes.items():
            node.start_frr(os.path.join(sdir, n + ".conf"), ["-M", "route_server"] if n == "rs" else [])
        deadline = time.time() + 60
        while not all(established(n) for n in lab.nodes.values()):
            if time.time() > deadline:
                raise RuntimeError("BGP sessions did not come up")
            time.sleep(0.5)
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


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--prefix", required=True, help="FRR install prefix")
    ap.add_argument("scenarios", nargs="*", default=["seed1", "seed2"])
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("demo: run as root (network namespaces)")
    # Interrupted or killed: still tear the namespaces down.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("demo: terminated"))
    os.environ["PATH"] = "{0}/bin:{0}/sbin:{1}".format(args.prefix, os.environ.get("PATH", ""))
    ok = True
    for name in args.scenarios:
        good = run(args.prefix, name)
        print("\n{}: {}".format(
            SCENARIOS[name]["title"],
            "behaves as specified (isolated, connected, isolated)" if good else "UNEXPECTED RESULT"))
        ok &= good
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
