#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""
64 role neighbors: 64 BIRD 2 speakers s1..s64 share one node ("bird"), each
a BIRD process bound (`strict bind`) to its own address 192.168.1.(100+k)
on one interface, AS 65100+k, announcing 10.64.k.0/24, with one session to
the route server r1. (One BIRD with 64 sessions cannot do it: BIRD allows
one session per remote address, and r1 has one address.) The speakers
share the node, so the next hops of each other's routes (third-party, as
all are on one segment) are local: BIRD accepts them as recursive
gateways. r1 gives each
neighbor its own role: k % 4 == 0, 1: nva (32), 2: gateway expressroute
(16), 3: gateway vpn (16).

All 64 sessions come up with their roles in `show bgp route-server json`,
and what each of the 64 sessions receives is exactly what the matrix allows,
with branch-to-branch off, on and off again.
"""

import os
import sys
import time

import pytest

CWD = os.path.dirname(os.path.abspath(__file__))
sys.path.append(os.path.join(CWD, ".."))
sys.path.append(os.path.join(CWD, "../.."))
sys.path.append(CWD)

from lib.topogen import get_topogen  # noqa: E402
from lib.topolog import logger  # noqa: E402
from rslib import (  # noqa: E402
    configure, load_rs_config, roles_exchange, rs_json, start_lan_topology, wait_for)
import rsbird  # noqa: E402

pytestmark = [pytest.mark.bgpd]

N = 64
KS = range(1, N + 1)
ROLE = {k: ("nva", "nva", "gateway expressroute", "gateway vpn")[k % 4] for k in KS}
ADDR = {k: "192.168.1.{}".format(100 + k) for k in KS}
NET = {k: "10.64.{}.0/24".format(k) for k in KS}
VNET = "10.100.0.0/16"
STATE = {}

RS_HEAD = """\
hostname r1
interface r1-eth0
 ip address 192.168.1.1/24
!
router bgp 65515
 bgp router-id 192.168.1.1
 no bgp ebgp-requires-policy
 no bgp network import-check
"""

BIRD_CONF = """\
router id {addr};
log "{log}" all;
protocol device {{
}}
protocol static nets {{
  ipv4;
  route {net} blackhole;
}}
protocol bgp routeserver {{
  local {addr} as {asn};
  neighbor 192.168.1.1 as 65515;
  strict bind yes;
  connect delay time 1;
  connect retry time 3;
  error wait time 1, 10;
  ipv4 {{
    # the other speakers' next hops are this node's own addresses, which
    # BIRD refuses as direct gateways
    gateway recursive;
    import all;
    export where net = {net};
  }};
}}
"""


def rs_conf():
    lines = [RS_HEAD]
    for k in KS:
        lines.append(" neighbor {} remote-as {}\n".format(ADDR[k], 65100 + k))
        lines.append(" neighbor {} route-server role {}\n".format(ADDR[k], ROLE[k]))
    lines.append(" address-family ipv4 unicast\n  network {}\n exit-address-family\n!\n".format(VNET))
    return "".join(lines)


def bird_conf(k, logdir):
    return BIRD_CONF.format(addr=ADDR[k], asn=65100 + k, net=NET[k],
                            log=os.path.join(logdir, "s{}.log".format(k)))


def setup_module(mod):
    rsbird.require_bird()

    tgen = start_lan_topology(mod, ("r1", "bird"))
    load_rs_config(tgen, rs_conf())
    tgen.start_router()
    bird = tgen.gears["bird"]
    bird.cmd_raises("ip link set lo up; ip link set bird-eth0 up")
    for k in KS:
        bird.cmd_raises("ip addr add {}/24 dev bird-eth0".format(ADDR[k]))
    STATE["bird started"] = time.time()
    for k in KS:
        rsbird.start_bird(bird, bird_conf(k, bird.gearlogdir), name="s{}".format(k), wait=False)
    for k in KS:
        rsbird.wait_ready(bird, "s{}".format(k))


def teardown_module(mod):
    tgen = get_topogen()
    for k in KS:
        rsbird.stop_bird(tgen.gears["bird"], "s{}".format(k))
    tgen.stop_topology()


def g(name):
    return get_topogen().gears[name]


def allowed(src, dst, b2b):
    return roles_exchange(ROLE[src], ROLE[dst], b2b)


def expected(b2b):
    return {k: {VNET} | {NET[j] for j in KS if j != k and allowed(j, k, b2b)} for k in KS}


def received():
    bird = g("bird")
    return {k: rsbird.prefixes(bird, "routeserver", "s{}".format(k)) for k in KS}


def check_policy(b2b):
    t0 = time.time()
    wait_for(received, expected(b2b), "what the 64 sessions receive (b2b {})".format(b2b), count=60)
    logger.info("64 neighbors: converged (b2b %s) in %.1fs", b2b, time.time() - t0)


def test_64_sessions_up_with_roles():
    def established():
        n = rs_json(g("r1"))["neighbors"]
        return sum(1 for v in n.values() if v["bgpState"] == "Established")

    wait_for(established, N, "64 role sessions established", count=120)
    logger.info("64 neighbors: established %.1fs after BIRD started", time.time() - STATE["bird started"])
    assert all(rsbird.established(g("bird"), "s{}".format(k)) == {"routeserver"} for k in KS)
    data = rs_json(g("r1"))
    assert data["branchToBranch"] is False
    assert {a: v["role"] for a, v in data["neighbors"].items()} == {
        ADDR[k]: ROLE[k].replace(" ", "-") for k in KS
    }
    assert all(v["prefixesReceived"] == 1 for v in data["neighbors"].values())


def test_policy_b2b_off():
    check_policy(False)
    # spot checks of the matrix on the receiving side
    got = received()
    assert got[2] == {VNET}  # an ExpressRoute gateway: VNet only
    assert got[3] == {VNET}  # a VPN gateway: VNet only
    assert len(got[1]) == 1 + 31  # an NVA: VNet and the other 31 NVAs


def test_policy_b2b_on():
    out = configure(g("r1"), "bgp route-server branch-to-branch")
    assert "%" not in out, out
    check_policy(True)
    got = received()
    assert len(got[1]) == 1 + 63
    assert len(got[2]) == 1 + 32 + 16  # not the 15 other ExpressRoute gateways
    assert len(got[3]) == 1 + 32 + 16  # not the 15 other VPN gateways
    withheld = rs_json(g("r1"))["neighbors"][ADDR[2]]["prefixesWithheld"]
    assert withheld == 15


def test_policy_b2b_off_again():
    out = configure(g("r1"), "no bgp route-server branch-to-branch")
    assert "%" not in out, out
    check_policy(False)
