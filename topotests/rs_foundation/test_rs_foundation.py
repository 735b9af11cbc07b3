#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""
Foundation: bgpd starts with the route-server module, vtysh knows its
commands, "show bgp route-server json" reports the instance's real state,
and with no role configured the module changes nothing: r1 (with the
module) advertises exactly what r4 (same config, no module) advertises.
"""

import os
import sys

import pexpect
import pytest

CWD = os.path.dirname(os.path.abspath(__file__))
sys.path.append(os.path.join(CWD, ".."))
sys.path.append(os.path.join(CWD, "../.."))

from lib.topogen import get_topogen  # noqa: E402
from rslib import (  # noqa: E402
    start_lan,
    advertised_prefixes,
    all_established,
    configure,
    established_counters,
    received_prefixes,
    vtysh_json,
    wait_for,
)

pytestmark = [pytest.mark.bgpd]

PEERS = {"r2": ("192.168.1.2", "fd00:1::2"), "r3": ("192.168.1.3", "fd00:1::3")}


def setup_module(mod):
    start_lan(mod, CWD, ["r1", "r2", "r3", "r4"])


def teardown_module(mod):
    get_topogen().stop_topology()


def rs_neighbors():
    return [a for pair in PEERS.values() for a in pair]


def test_sessions_up():
    tgen = get_topogen()
    for rs in ("r1", "r4"):
        wait_for(
            lambda: all_established(tgen.gears[rs], rs_neighbors()),
            True,
            "{} sessions established".format(rs),
        )


def test_module_loaded():
    r1 = get_topogen().gears["r1"]
    assert "bgpd_route_server" in r1.vtysh_cmd("show modules")
    assert "bgpd_route_server" not in get_topogen().gears["r4"].vtysh_cmd("show modules")


def test_vtysh_completes_module_commands():
    """vtysh was built knowing the module's commands: '?' lists them."""
    r1 = get_topogen().gears["r1"]
    child = pexpect.spawn(
        "nsenter -t {} -m -n -u vtysh".format(r1.net.pid), encoding="utf-8", timeout=10
    )
    child.expect(r"\S+# ")
    child.send("show bgp route-server ?")
    child.expect("json")  # completions are listed alphabetically
    child.expect("withheld")
    child.sendcontrol("u")
    child.sendline("configure terminal")
    child.expect(r"\(config\)# ")
    child.sendline("router bgp 65515")
    child.expect(r"\(config-router\)# ")
    child.send("neighbor 192.168.1.2 route-server role ?")
    child.expect("gateway")
    child.expect("nva")
    child.sendcontrol("u")
    child.send("bgp route-server ?")
    child.expect("branch-to-branch")
    child.sendcontrol("u")
    child.sendline("end")
    child.sendline("exit")
    child.expect(pexpect.EOF)


def test_show_json_no_roles():
    r1 = get_topogen().gears["r1"]
    data = vtysh_json(r1, "show bgp route-server json")
    assert data["vrfName"] == "default"
    assert data["localAs"] == 65515
    assert data["branchToBranch"] is False
    assert data["neighbors"] == {}
    assert data["peerGroups"] == {}
    assert data["warnings"] == []
    text = r1.vtysh_cmd("show bgp route-server")
    assert "Branch-to-branch: off" in text
    assert "No neighbor has a route-server role." in text


ALL = {
    "ipv4": {"10.100.0.0/16", "10.2.0.0/16", "10.22.0.0/16", "10.3.0.0/16", "10.33.0.0/16"},
    "ipv6": {"fd00:100::/48", "fd00:2::/48", "fd00:3::/48"},
}


def expected_sets():
    """With no roles a route server sends every prefix to every peer
    (bgpd also sends a peer its own routes back; the peer drops them)."""
    return {(peer, afi): ALL[afi] for peer in PEERS for afi in ALL}


def test_no_roles_advertises_like_stock_bgpd():
    tgen = get_topogen()
    r1, r4 = tgen.gears["r1"], tgen.gears["r4"]
    for (peer, afi), want in expected_sets().items():
        addr = PEERS[peer][0 if afi == "ipv4" else 1]
        wait_for(lambda: advertised_prefixes(r4, addr, afi), want, "r4 -> {} {}".format(peer, afi))
        wait_for(lambda: advertised_prefixes(r1, addr, afi), want, "r1 -> {} {}".format(peer, afi))
        assert advertised_prefixes(r1, addr, afi) == advertised_prefixes(r4, addr, afi)


def test_roles_take_effect_without_session_reset():
    """The hooks are live: roles withhold routes, removing them restores
    the stock behaviour, and no session is reset."""
    tgen = get_topogen()
    r1, r2, r3 = tgen.gears["r1"], tgen.gears["r2"], tgen.gears["r3"]
    before = established_counters(r1)

    configure(
        r1,
        "neighbor 192.168.1.2 route-server role nva",
        "neighbor 192.168.1.3 route-server role gateway expressroute",
    )
    # b2b off: NVA and gateway do not learn each other's routes; both keep
    # VNet; the NVA gets its own routes back (NVA to NVA is allowed), the
    # gateway does not (ExpressRoute to ExpressRoute never is).
    wait_for(
        lambda: advertised_prefixes(r1, "192.168.1.2"),
        {"10.100.0.0/16", "10.2.0.0/16", "10.22.0.0/16"},
        "r1 -> nva",
    )
    wait_for(lambda: advertised_prefixes(r1, "192.168.1.3"), {"10.100.0.0/16"}, "r1 -> er")
    wait_for(lambda: "10.3.0.0/16" in received_prefixes(r2), True, "r2 still learns r3 via r4")
    data = vtysh_json(r1, "show bgp route-server json")
    assert data["neighbors"]["192.168.1.2"]["role"] == "nva"
    assert data["neighbors"]["192.168.1.2"]["prefixesWithheld"] == 2
    assert data["neighbors"]["192.168.1.3"]["prefixesWithheld"] == 2

    configure(r1, "no neighbor 192.168.1.2 route-server role", "no neighbor 192.168.1.3 route-server role")
    for (peer, afi), want in expected_sets().items():
        if afi == "ipv4":
            wait_for(lambda: advertised_prefixes(r1, PEERS[peer][0]), want, "restored -> " + peer)
    assert established_counters(r1) == before
    assert vtysh_json(r1, "show bgp route-server json")["neighbors"] == {}
