#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""
Crash and restart under watchfrr. The route server r1 (AS 65515) runs as a
packaged FRR does: frrinit.sh starts watchfrr, which starts zebra, mgmtd,
staticd and bgpd (-M route_server) and applies the integrated config
/etc/frr/frr.conf with `vtysh -b`. Peers (plain FRR, started by the
framework), each announcing 10.N.0.0/16:

  p2, p3  nva                     p4  gateway expressroute
  p5, p6  gateway vpn (an active-active pair)

Roles and branch-to-branch are configured at run time and saved with
`write memory`; then bgpd is killed with SIGKILL. watchfrr restarts it,
the saved roles and flag come back (show JSON, running-config) and every
peer's table is again exactly what the policy allows. Done once with
branch-to-branch on and once with it off.

watchfrr postpones a restart that comes less than --min-restart-interval
(default 60 s) after the previous start; the daemons file shortens it to
1 s so that two crashes fit in a short test.
"""

import os
import sys
import time

import pytest

CWD = os.path.dirname(os.path.abspath(__file__))
sys.path.append(os.path.join(CWD, ".."))
sys.path.append(os.path.join(CWD, "../.."))

from lib.topogen import get_topogen  # noqa: E402
from lib.topolog import logger  # noqa: E402
from rslib import (  # noqa: E402
    all_established,
    configure,
    daemon_pid,
    load_frr_peer,
    received_prefixes,
    roles_exchange,
    rs_json,
    running_config,
    start_frr_service,
    start_lan_topology,
    stop_frr_service,
    wait_for,
)

pytestmark = [pytest.mark.bgpd]

ROLES = {
    "p2": "nva",
    "p3": "nva",
    "p4": "gateway expressroute",
    "p5": "gateway vpn",
    "p6": "gateway vpn",
}
PEERS = sorted(ROLES)
ADDR = {p: "192.168.1." + p[1:] for p in PEERS}
NET = {p: "10.{}.0.0/16".format(p[1:]) for p in PEERS}
VNET = "10.100.0.0/16"
FIGURES = {}
STATE = {"crashes": 0}

RS_CONF = """\
frr defaults traditional
hostname r1
interface r1-eth0
 ip address 192.168.1.1/24
exit
router bgp 65515
 bgp router-id 192.168.1.1
 no bgp ebgp-requires-policy
 no bgp network import-check
{neighbors}
 address-family ipv4 unicast
  network {vnet}
 exit-address-family
exit
"""



def asn(peer):
    return 65000 + int(peer[1:])


def setup_module(mod):
    tgen = start_lan_topology(mod, ["r1"] + PEERS)
    for p in PEERS:
        load_frr_peer(tgen, p, ADDR[p], asn(p), NET[p])
    # r1 has no daemon for the framework: frrinit.sh starts it below.
    tgen.start_router()
    neighbors = "\n".join(" neighbor {} remote-as {}".format(ADDR[p], asn(p)) for p in PEERS)
    start_frr_service(tgen.gears["r1"], RS_CONF.format(neighbors=neighbors, vnet=VNET))


def teardown_module(mod):
    tgen = get_topogen()
    stop_frr_service(tgen.gears["r1"])
    tgen.stop_topology()


def g(name):
    return get_topogen().gears[name]


def allowed(src, dst, b2b):
    return roles_exchange(ROLES[src], ROLES[dst], b2b)


def expected_tables(b2b):
    return {
        dst: {VNET, NET[dst]} | {NET[src] for src in PEERS if src != dst and allowed(src, dst, b2b)}
        for dst in PEERS
    }


def tables():
    return {p: received_prefixes(g(p)) for p in PEERS}


def check_policy(b2b, what):
    wait_for(tables, expected_tables(b2b), "peer tables ({}, b2b {})".format(what, b2b), count=120)


def check_rs_config(b2b):
    data = rs_json(g("r1"))
    assert data["branchToBranch"] is b2b
    assert {n: v["role"] for n, v in data["neighbors"].items()} == {
        ADDR[p]: ROLES[p].replace(" ", "-") for p in PEERS
    }
    conf = running_config(g("r1"))
    for p in PEERS:
        assert " neighbor {} route-server role {}\n".format(ADDR[p], ROLES[p]) in conf
    assert (" bgp route-server branch-to-branch\n" in conf) is b2b


def saved_config(rs):
    return rs.cmd_raises("cat /etc/frr/frr.conf")


def crash_and_restart(b2b):
    """SIGKILL bgpd; wait for watchfrr's restart and re-convergence."""
    rs = g("r1")
    old = daemon_pid(rs, "bgpd")
    assert old
    t0 = time.time()
    rs.cmd_raises("kill -9 {}".format(old))
    wait_for(lambda: daemon_pid(rs, "bgpd") not in (None, old), True, "bgpd restarted by watchfrr", count=60)
    t_pid = time.time() - t0
    wait_for(lambda: all_established(rs, [ADDR[p] for p in PEERS]), True,
             "r1 sessions after restart", count=120)
    t_est = time.time() - t0
    check_policy(b2b, "after restart")
    t_conv = time.time() - t0
    FIGURES["b2b {}".format("on" if b2b else "off")] = (t_pid, t_est, t_conv)
    logger.info("restart (b2b %s): new bgpd after %.1fs, sessions up %.1fs, converged %.1fs",
                b2b, t_pid, t_est, t_conv)
    # watchfrr itself, not something else, brought bgpd back: one
    # "watchfrr.sh restart bgpd" per crash
    STATE["crashes"] += 1
    out = rs.cmd("grep -c 'restart bgpd$' {}/watchfrr.log".format(rs.gearlogdir)).strip()
    assert out == str(STATE["crashes"]), out
    assert "bgpd" in rs.vtysh_cmd("show watchfrr")


# --- tests -----------------------------------------------------------------


def test_sessions_up_without_roles():
    rs = g("r1")
    wait_for(lambda: all_established(rs, [ADDR[p] for p in PEERS]), True, "r1 sessions", count=120)
    # no role: ordinary BGP, everyone gets everything
    every = {VNET} | set(NET.values())
    wait_for(tables, {p: every for p in PEERS}, "peer tables without roles", count=120)
    assert rs_json(rs)["neighbors"] == {}


def test_runtime_roles_saved():
    rs = g("r1")
    lines = ["neighbor {} route-server role {}".format(ADDR[p], ROLES[p]) for p in PEERS]
    out = configure(rs, *lines, "bgp route-server branch-to-branch")
    assert "%" not in out, out
    check_policy(True, "run-time roles")
    check_rs_config(True)
    rs.vtysh_cmd("write memory")
    saved = saved_config(rs)
    for p in PEERS:
        assert " neighbor {} route-server role {}\n".format(ADDR[p], ROLES[p]) in saved, saved
    assert " bgp route-server branch-to-branch\n" in saved, saved


def test_kill_bgpd_b2b_on():
    crash_and_restart(True)
    check_rs_config(True)


def test_kill_bgpd_b2b_off():
    rs = g("r1")
    out = configure(rs, "no bgp route-server branch-to-branch")
    assert "%" not in out, out
    check_policy(False, "b2b turned off")
    rs.vtysh_cmd("write memory")
    assert "branch-to-branch" not in saved_config(rs)
    crash_and_restart(False)
    check_rs_config(False)
    logger.info("restart figures (to new pid, sessions, converged): %s", FIGURES)
