#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""
Roles in depth, on one route server r1 (AS 65515) with FRR peers:

  p2  nva (inherited from peer-group NVAS)  10.2/16, 10.9/16 (longer path), fd00:2::/48
  p3  nva, then gateway vpn, then no role   10.3/16, 10.9/16, fd00:3::/48
  p4  no role                               10.4/16, fd00:4::/48
  p5  dynamic neighbor of listen range DYN (gateway vpn, inherited)   10.5/16
  p6  nva (NVAS)                            10.6/16 with NO_ADVERTISE, 10.66/16
  p7  gateway vpn, with add-path TX         (receiver)

Run-time role changes, inheritance by peer-group members and dynamic
neighbors, member override, IPv6, add-path TX per-path decisions,
NO_ADVERTISE, the best allowed path without add-path, role-less neighbors
untouched, one debounced re-evaluation
per burst, no session reset, neighbor deletion, and the saved config
reloading identically (write + restart, frr-reload.py).
"""

import os
import sys

import pytest

CWD = os.path.dirname(os.path.abspath(__file__))
sys.path.append(os.path.join(CWD, ".."))
sys.path.append(os.path.join(CWD, "../.."))

from lib.topogen import get_topogen  # noqa: E402
from rslib import (  # noqa: E402
    start_lan,
    all_established,
    configure,
    established_counters,
    received_prefixes,
    rs_json,
    running_config,
    vtysh_json,
    wait_for,
)

pytestmark = [pytest.mark.bgpd]

PEERS = ["p2", "p3", "p4", "p5", "p6", "p7"]
ADDR = {p: "192.168.1." + p[1:] for p in PEERS}
VNET4, VNET6 = "10.100.0.0/16", "fd00:100::/48"
STATE = {}


def setup_module(mod):
    start_lan(mod, CWD, ["r1"] + PEERS)


def teardown_module(mod):
    get_topogen().stop_topology()


def g(name):
    return get_topogen().gears[name]


def has(router, prefix, afi="ipv4"):
    return prefix in received_prefixes(g(router), afi)


def expect(router, prefix, present, why, afi="ipv4"):
    wait_for(lambda: has(router, prefix, afi), present, "{}: {} {} ({})".format(
        router, prefix, "present" if present else "absent", why))


def test_sessions_up():
    wait_for(lambda: all_established(g("r1"), [ADDR[p] for p in PEERS]), True, "r1 sessions")
    STATE["counters"] = established_counters(g("r1"))


def test_inheritance_and_dynamic_neighbors():
    data = rs_json(g("r1"))
    n = data["neighbors"]
    assert n[ADDR["p2"]]["role"] == "nva" and n[ADDR["p2"]]["roleInheritedFrom"] == "NVAS"
    assert n[ADDR["p6"]]["roleInheritedFrom"] == "NVAS"
    assert n[ADDR["p3"]]["role"] == "nva" and "roleInheritedFrom" not in n[ADDR["p3"]]
    assert n[ADDR["p5"]]["role"] == "gateway-vpn" and n[ADDR["p5"]].get("dynamic") is True
    assert n[ADDR["p5"]]["roleInheritedFrom"] == "DYN"
    assert ADDR["p4"] not in n
    assert data["peerGroups"]["NVAS"] == {"role": "nva", "members": 2}
    # Dynamic neighbor (vpn) gets VNet but not NVA routes with b2b off.
    expect("p5", VNET4, True, "VNet to everyone")
    expect("p5", "10.2.0.0/16", False, "nva -> vpn needs b2b")
    expect("p5", "10.4.0.0/16", True, "role-less source is native")


def test_nva_to_nva_and_role_less_untouched():
    expect("p2", "10.3.0.0/16", True, "nva -> nva always")
    expect("p2", "10.66.0.0/16", True, "nva -> nva always")
    expect("p2", "10.5.0.0/16", False, "vpn -> nva needs b2b")
    expect("p2", "10.4.0.0/16", True, "role-less source is native")
    # A role-less neighbor receives everything, as from stock bgpd.
    for prefix in (VNET4, "10.2.0.0/16", "10.3.0.0/16", "10.5.0.0/16", "10.66.0.0/16", "10.9.0.0/16"):
        expect("p4", prefix, True, "role-less destination is native")


def test_no_advertise_reaches_no_peer():
    wait_for(lambda: "10.6.0.0/16" in received_prefixes(g("r1")), True, "r1 has 10.6/16")
    configure(g("r1"), "bgp route-server branch-to-branch")
    expect("p5", "10.2.0.0/16", True, "b2b on")
    for p in ("p2", "p3", "p4", "p5", "p7"):
        assert not has(p, "10.6.0.0/16"), "NO_ADVERTISE route reached " + p
    configure(g("r1"), "no bgp route-server branch-to-branch")
    expect("p5", "10.2.0.0/16", False, "b2b off")


def test_ipv6_follows_roles():
    expect("p2", "fd00:3::/48", True, "nva -> nva", afi="ipv6")
    expect("p2", VNET6, True, "VNet", afi="ipv6")
    configure(g("r1"), "neighbor 192.168.1.3 route-server role gateway vpn")
    expect("p2", "fd00:3::/48", False, "vpn -> nva, b2b off", afi="ipv6")
    expect("p4", "fd00:3::/48", True, "role-less destination", afi="ipv6")
    configure(g("r1"), "bgp route-server branch-to-branch")
    expect("p2", "fd00:3::/48", True, "vpn -> nva, b2b on", afi="ipv6")
    configure(g("r1"), "no bgp route-server branch-to-branch")
    expect("p2", "fd00:3::/48", False, "b2b off again", afi="ipv6")


def paths_from(router, prefix):
    data = vtysh_json(g(router), "show bgp ipv4 unicast {} json".format(prefix))
    return sorted(p["aspath"]["string"] for p in data.get("paths", []))


def test_addpath_tx_is_per_path():
    """p3 is now gateway vpn and holds the best path of 10.9/16; p2's
    (nva, longer) path is the alternative. With b2b on, p7 (vpn, add-path)
    gets only p2's path (vpn -> vpn never, decided per path); p5 (vpn, no
    add-path) gets p2's path too: the best path its role may have."""
    configure(g("r1"), "bgp route-server branch-to-branch")
    wait_for(lambda: paths_from("p7", "10.9.0.0/16"), ["65515 65002 65002 65002"], "p7 paths of 10.9/16")
    wait_for(lambda: paths_from("p5", "10.9.0.0/16"), ["65515 65002 65002 65002"],
             "p5 gets the best allowed path of 10.9/16")
    expect("p5", "10.2.0.0/16", True, "b2b on")
    alt = vtysh_json(g("r1"), "show bgp route-server withheld 192.168.1.5 json")["alternatePaths"]
    assert [(a["prefix"], a["bestSourceNeighbor"], a["reason"], a["sentSourceNeighbor"])
            for a in alt] == [("10.9.0.0/16", "192.168.1.3", "same gateway type", "192.168.1.2")], alt
    data = vtysh_json(g("r1"), "show bgp route-server withheld 192.168.1.7 json")
    assert {(w["prefix"], w["sourceNeighbor"], w["reason"]) for w in data["withheld"]} == {
        ("10.9.0.0/16", "192.168.1.3", "same gateway type"),
        ("10.3.0.0/16", "192.168.1.3", "same gateway type"),
        ("10.5.0.0/16", "192.168.1.5", "same gateway type"),
    }
    configure(g("r1"), "no bgp route-server branch-to-branch")
    wait_for(lambda: paths_from("p7", "10.9.0.0/16"), [], "p7 loses 10.9/16 with b2b off")
    wait_for(lambda: paths_from("p5", "10.9.0.0/16"), [], "p5 loses 10.9/16 with b2b off")


def test_role_change_to_none_and_member_override():
    configure(g("r1"), "no neighbor 192.168.1.3 route-server role")
    expect("p2", "10.3.0.0/16", True, "role-less source is native")
    expect("p5", "10.3.0.0/16", True, "role-less source is native")
    # A member's own role overrides the peer-group's.
    configure(g("r1"), "neighbor 192.168.1.6 route-server role gateway expressroute")
    expect("p2", "10.66.0.0/16", False, "er -> nva needs b2b")
    n = rs_json(g("r1"))["neighbors"][ADDR["p6"]]
    assert n["role"] == "gateway-expressroute" and "roleInheritedFrom" not in n
    configure(g("r1"), "no neighbor 192.168.1.6 route-server role")
    expect("p2", "10.66.0.0/16", True, "inherits nva again")


def test_burst_is_one_reevaluation():
    before = rs_json(g("r1"))["reevaluations"]
    configure(
        g("r1"),
        "neighbor 192.168.1.3 route-server role nva",
        "bgp route-server branch-to-branch",
        "neighbor 192.168.1.3 route-server role gateway expressroute",
        "no bgp route-server branch-to-branch",
        "neighbor 192.168.1.3 route-server role nva",
    )
    wait_for(lambda: rs_json(g("r1"))["reevaluations"], before + 1, "one re-evaluation for the burst")
    expect("p2", "10.3.0.0/16", True, "nva -> nva")


def test_no_session_reset():
    assert established_counters(g("r1")) == STATE["counters"]


def test_yang_state_matches_show():
    out = g("r1").vtysh_cmd(
        "show yang operational-data /frr-bgp-route-server:route-server bgpd"
    )
    import json

    inst = json.loads(out)["frr-bgp-route-server:route-server"]["instance"][0]
    state = {n["name"]: n for n in inst["state"]["neighbor"]}
    show = rs_json(g("r1"))["neighbors"]
    assert set(state) == set(show)
    for name, n in state.items():
        assert n["role"] == show[name]["role"]
        assert n["session-state"] == show[name]["bgpState"]
        assert n.get("role-inherited-from") == show[name].get("roleInheritedFrom")


def test_saved_config_reloads_identically():
    r1 = g("r1")
    before = running_config(r1)
    assert " neighbor NVAS route-server role nva\n" in before
    assert " neighbor 192.168.1.3 route-server role nva\n" in before
    # frr-reload.py sees nothing to change for the running config itself...
    saved = os.path.join(r1.logdir, "saved-frr.conf")
    r1.cmd_raises("vtysh -c 'show running-config' | sed -n '/^frr version/,$p' > {}".format(saved))
    prefix_bin = os.path.dirname(r1.cmd_raises("command -v vtysh").strip())
    reload_py = os.path.join(os.path.dirname(prefix_bin), "sbin", "frr-reload.py")
    out = r1.cmd("/usr/bin/python3 {} --test --bindir {} --confdir /etc/frr {}".format(
        reload_py, prefix_bin, saved))
    assert "route-server" not in out, out
    # ...and restores it after a run-time change.
    configure(r1, "no neighbor 192.168.1.3 route-server role", "no neighbor NVAS route-server role")
    r1.cmd_raises("/usr/bin/python3 {} --reload --bindir {} --confdir /etc/frr {}".format(
        reload_py, prefix_bin, saved))
    assert running_config(r1) == before
    # write + restart of bgpd reproduces the same configuration.
    r1.vtysh_cmd("write memory")
    r1.stop()
    r1.start()
    wait_for(lambda: all_established(r1, [ADDR[p] for p in PEERS]), True, "r1 sessions after restart")
    assert running_config(r1) == before
    expect("p2", "10.3.0.0/16", True, "nva -> nva after restart")
    expect("p2", "10.5.0.0/16", False, "vpn -> nva after restart")


def test_neighbor_deletion_deletes_role():
    r1 = g("r1")
    configure(r1, "no neighbor 192.168.1.3", "neighbor 192.168.1.3 remote-as 65003")
    assert "192.168.1.3 route-server" not in running_config(r1)
    assert ADDR["p3"] not in rs_json(r1)["neighbors"]
    wait_for(lambda: all_established(r1, [ADDR["p3"]]), True, "p3 back")
    expect("p5", "10.3.0.0/16", True, "re-created neighbor has no role")
