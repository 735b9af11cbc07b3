#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""
Seed scenario 1: route server (AS 65515) originating the VNet prefix, an
ExpressRoute gateway (iBGP, route-reflector-client) with On-prem 2 behind
it, an SD-WAN NVA (eBGP, own AS) with On-prem 1 behind it.

branch-to-branch off: the NVA has the VNet route but not On-prem 2, the
gateway has the VNet route but not On-prem 1, On-prem 1 cannot ping
On-prem 2. On: both learn, ping works. Off again: withdrawn, ping fails.
No BGP session is reset throughout.
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
    wait_for,
)

pytestmark = [pytest.mark.bgpd]

VNET, ONPREM1, ONPREM2 = "10.1.0.0/16", "192.168.10.0/24", "192.168.20.0/24"
COUNTERS = {}


def setup_module(mod):
    tgen = Topogen(lambda t: build_scenario(t, "seed1"), mod.__name__)
    tgen.start_topology()
    load_scenario_frr(tgen, "seed1")
    tgen.start_router()


def teardown_module(mod):
    get_topogen().stop_topology()


def gears():
    return get_topogen().gears


def test_sessions_up():
    g = gears()
    wait_for(lambda: all_established(g["rs"], ["10.1.0.10", "10.1.0.20"]), True, "rs sessions")
    wait_for(lambda: all_established(g["nva"], ["10.1.0.4", "192.168.10.1"]), True, "nva sessions")
    wait_for(lambda: all_established(g["ergw"], ["10.1.0.4", "192.168.20.1"]), True, "ergw sessions")
    COUNTERS["before"] = established_counters(g["rs"])


def check_isolated():
    g = gears()
    wait_for(lambda: received_prefixes(g["nva"]), {VNET, ONPREM1}, "nva table (b2b off)")
    wait_for(lambda: received_prefixes(g["ergw"]), {VNET, ONPREM2}, "ergw table (b2b off)")
    wait_for(lambda: received_prefixes(g["onprem1"]), {VNET, ONPREM1}, "onprem1 table (b2b off)")
    wait_for(lambda: received_prefixes(g["onprem2"]), {VNET, ONPREM2}, "onprem2 table (b2b off)")
    assert not ping(g["onprem1"], "192.168.10.1", "192.168.20.1")


def check_connected():
    g = gears()
    for name in ("nva", "ergw", "onprem1", "onprem2"):
        wait_for(lambda: received_prefixes(g[name]), {VNET, ONPREM1, ONPREM2}, name + " table (b2b on)")
    wait_for(lambda: ping(g["onprem1"], "192.168.10.1", "192.168.20.1"), True, "ping on-prem 1 -> 2")


def test_b2b_off_isolates_branches():
    check_isolated()
    data = rs_json(gears()["rs"])
    assert data["branchToBranch"] is False
    assert data["neighbors"]["10.1.0.10"]["role"] == "nva"
    assert data["neighbors"]["10.1.0.20"]["role"] == "gateway-expressroute"
    assert data["neighbors"]["10.1.0.10"]["prefixesWithheld"] == 1
    assert data["neighbors"]["10.1.0.20"]["prefixesWithheld"] == 1
    assert data["warnings"] == []


def test_withheld_explains_why():
    rs = gears()["rs"]
    from rslib import vtysh_json

    data = vtysh_json(rs, "show bgp route-server withheld 10.1.0.10 json")
    assert data["totalWithheld"] == 1
    [entry] = data["withheld"]
    assert entry["prefix"] == ONPREM2
    assert entry["sourceNeighbor"] == "10.1.0.20"
    assert entry["sourceRole"] == "gateway-expressroute"
    assert entry["reason"] == "branch-to-branch off"
    text = rs.vtysh_cmd("show bgp route-server withheld 10.1.0.20")
    assert ONPREM1 in text and "10.1.0.10" in text and "branch-to-branch off" in text


def test_b2b_on_connects_branches():
    configure(gears()["rs"], "bgp route-server branch-to-branch")
    check_connected()
    data = rs_json(gears()["rs"])
    assert data["branchToBranch"] is True
    assert all(n["prefixesWithheld"] == 0 for n in data["neighbors"].values())


def test_b2b_off_again_withdraws():
    configure(gears()["rs"], "no bgp route-server branch-to-branch")
    check_isolated()


def test_no_session_reset():
    rs = gears()["rs"]
    assert established_counters(rs) == COUNTERS["before"]
