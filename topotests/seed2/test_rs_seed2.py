#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""
Seed scenario 2: scenario 1 with the SD-WAN NVA replaced by an
active-active VPN gateway (two iBGP 65515 sessions, both
route-reflector-clients) with On-prem 3 behind it. Same checks as
scenario 1; VPN-to-VPN is never exchanged; with a single VPN-role session
and branch-to-branch on, the active-active warning appears.
"""

import os
import sys

import pytest

CWD = os.path.dirname(os.path.abspath(__file__))
sys.path.append(os.path.join(CWD, ".."))
sys.path.append(os.path.join(CWD, "../.."))

from lib.topogen import Topogen, get_topogen  # noqa: E402
from rslib import (  # noqa: E402
    all_established,
    build_scenario,
    configure,
    established_counters,
    load_scenario_frr,
    ping,
    received_prefixes,
    rs_json,
    vtysh_json,
    wait_for,
)

pytestmark = [pytest.mark.bgpd]

VNET, ONPREM2, ONPREM3 = "10.1.0.0/16", "192.168.20.0/24", "192.168.30.0/24"
RS_PEERS = ["10.1.0.20", "10.1.0.30", "10.1.0.31"]
COUNTERS = {}


def setup_module(mod):
    tgen = Topogen(lambda t: build_scenario(t, "seed2"), mod.__name__)
    tgen.start_topology()
    load_scenario_frr(tgen, "seed2")
    tgen.start_router()


def teardown_module(mod):
    get_topogen().stop_topology()


def gears():
    return get_topogen().gears


def test_sessions_up():
    g = gears()
    wait_for(lambda: all_established(g["rs"], RS_PEERS), True, "rs sessions")
    wait_for(
        lambda: all_established(g["onprem3"], ["192.168.30.254", "192.168.30.253"]), True, "onprem3 sessions"
    )
    wait_for(lambda: all_established(g["onprem2"], ["192.168.20.254"]), True, "onprem2 session")
    COUNTERS["before"] = established_counters(g["rs"])


def check(b2b):
    g = gears()
    if b2b:
        want = {n: {VNET, ONPREM2, ONPREM3} for n in ("vpngw1", "vpngw2", "ergw", "onprem2", "onprem3")}
    else:
        want = {
            "vpngw1": {VNET, ONPREM3},
            "vpngw2": {VNET, ONPREM3},
            "onprem3": {VNET, ONPREM3},
            "ergw": {VNET, ONPREM2},
            "onprem2": {VNET, ONPREM2},
        }
    for name, prefixes in want.items():
        wait_for(lambda: received_prefixes(g[name]), prefixes, "{} table (b2b {})".format(name, b2b))
    wait_for(lambda: ping(g["onprem3"], "192.168.30.1", "192.168.20.1"), b2b, "ping on-prem 3 -> 2")


def test_b2b_off_isolates_branches():
    check(False)
    assert rs_json(gears()["rs"])["warnings"] == []


def test_vpn_to_vpn_never_exchanged():
    """Each VPN instance learns On-prem 3 from On-prem 3 only, never the
    other instance's copy through the route server."""
    g = gears()
    for vpn, other in (("vpngw1", "10.1.0.31"), ("vpngw2", "10.1.0.30")):
        data = vtysh_json(g[vpn], "show bgp ipv4 unicast {} json".format(ONPREM3))
        peers = {p.get("peer", {}).get("peerId") for p in data.get("paths", [])}
        assert "10.1.0.4" not in peers, "{} learned On-prem 3 from the route server".format(vpn)
    data = vtysh_json(g["rs"], "show bgp route-server withheld 10.1.0.31 json")
    reasons = {(w["prefix"], w["sourceRole"], w["reason"]) for w in data["withheld"]}
    assert (ONPREM3, "gateway-vpn", "same gateway type") in reasons


def test_b2b_on_connects_branches():
    configure(gears()["rs"], "bgp route-server branch-to-branch")
    check(True)
    assert rs_json(gears()["rs"])["warnings"] == []


def test_b2b_off_again_withdraws():
    configure(gears()["rs"], "no bgp route-server branch-to-branch")
    check(False)


def test_single_vpn_session_warns():
    rs = gears()["rs"]
    out = configure(rs, "no neighbor 10.1.0.31 route-server role", "bgp route-server branch-to-branch")
    assert "active-active" in out, out
    data = rs_json(rs)
    assert len(data["warnings"]) == 1 and "active-active" in data["warnings"][0]
    assert "active-active" in rs.vtysh_cmd("show bgp route-server")
    # Back to two VPN sessions: the warning goes away.
    configure(rs, "neighbor 10.1.0.31 route-server role gateway vpn", "no bgp route-server branch-to-branch")
    assert rs_json(rs)["warnings"] == []


def test_no_session_reset():
    assert established_counters(gears()["rs"]) == COUNTERS["before"]
