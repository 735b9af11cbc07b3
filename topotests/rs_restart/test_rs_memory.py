#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""
Bounded memory: after churn, the module's allocations (the MTYPEs of the
"bgpd route-server" group in `show memory bgpd`) and the bgpd objects the
module's hooks steer (peers, update-groups and subgroups) return to their
baseline counts.

r1 (AS 65515, module) with FRR peers p2 (nva), p3 (gateway expressroute),
p4 and p5 (gateway vpn), each announcing 10.N.0.0/16. Each churn round:
changes every role and turns branch-to-branch on (a real re-evaluation
that moves routes), restores both (another one), creates 16 extra role
neighbors, a peer-group with a role and members and a VRF instance with
roles, reads show/withheld/YANG state (which allocate warnings) while an
active-active warning is present, then deletes all of it again.
"""

import os
import re
import sys

import pytest

CWD = os.path.dirname(os.path.abspath(__file__))
sys.path.append(os.path.join(CWD, ".."))
sys.path.append(os.path.join(CWD, "../.."))

from lib.topogen import Topogen, TopoRouter, get_topogen  # noqa: E402
from lib.topolog import logger  # noqa: E402
from rslib import (  # noqa: E402
    all_established,
    configure,
    received_prefixes,
    rs_json,
    running_config,
    vtysh_config,
    vtysh_json,
    wait_for,
)

pytestmark = [pytest.mark.bgpd]

ROLES = {"p2": "nva", "p3": "gateway expressroute", "p4": "gateway vpn", "p5": "gateway vpn"}
# a different role for every peer during churn (None: no role)
OTHER = {"p2": "gateway expressroute", "p3": "nva", "p4": None, "p5": "nva"}
PEERS = sorted(ROLES)
ADDR = {p: "192.168.1." + p[1:] for p in PEERS}
ROUNDS = 15
EXTRA = ["192.168.9.{}".format(i) for i in range(1, 17)]
EXTRA_ROLES = ["nva", "gateway expressroute", "gateway vpn"]
# bgpd types whose counts the module's hooks influence
BGPD_TYPES = ("BGP peer", "BGP peer af", "BGP update group", "BGP update subgroup")
STATE = {}

RS_CONF = """\
hostname r1
interface r1-eth0
 ip address 192.168.1.1/24
!
router bgp 65515
 bgp router-id 192.168.1.1
 no bgp ebgp-requires-policy
 no bgp network import-check
{neighbors}
 address-family ipv4 unicast
  network 10.100.0.0/16
 exit-address-family
!
"""

PEER_CONF = """\
hostname {name}
interface {name}-eth0
 ip address {addr}/24
!
router bgp {asn}
 bgp router-id {addr}
 no bgp ebgp-requires-policy
 no bgp network import-check
 neighbor 192.168.1.1 remote-as 65515
 neighbor 192.168.1.1 timers connect 2
 address-family ipv4 unicast
  network 10.{n}.0.0/16
 exit-address-family
!
"""


def setup_module(mod):
    def build(tgen):
        sw = tgen.add_switch("s1")
        for r in ["r1"] + PEERS:
            tgen.add_router(r)
            sw.add_link(tgen.gears[r])

    tgen = Topogen(build, mod.__name__)
    tgen.start_topology()
    d = tgen.logdir
    neighbors = []
    for p in PEERS:
        neighbors += [
            " neighbor {} remote-as {}".format(ADDR[p], 65000 + int(p[1:])),
            " neighbor {} route-server role {}".format(ADDR[p], ROLES[p]),
        ]
        conf = os.path.join(d, p + "-frr.conf")
        with open(conf, "w") as f:
            f.write(PEER_CONF.format(name=p, addr=ADDR[p], asn=65000 + int(p[1:]), n=p[1:]))
        tgen.gears[p].load_frr_config(conf, [(TopoRouter.RD_ZEBRA, ""), (TopoRouter.RD_BGP, "")])
    conf = os.path.join(d, "r1-frr.conf")
    with open(conf, "w") as f:
        f.write(RS_CONF.format(neighbors="\n".join(neighbors)))
    tgen.gears["r1"].load_frr_config(
        conf, [(TopoRouter.RD_ZEBRA, ""), (TopoRouter.RD_BGP, "-M route_server")]
    )
    tgen.start_router()


def teardown_module(mod):
    get_topogen().stop_topology()


def g(name):
    return get_topogen().gears[name]


def memory_counts():
    """{type: current count} of the module's group and BGPD_TYPES."""
    out = g("r1").vtysh_cmd("show memory bgpd")
    counts, group = {}, None
    for line in out.splitlines():
        m = re.match(r"--- qmem (.*) ---", line)
        if m:
            group = m.group(1)
            continue
        m = re.match(r"(.*?)\s*:\s*(\d+)\s", line)
        if m and (group == "bgpd route-server" or (group == "bgpd" and m.group(1) in BGPD_TYPES)):
            counts[m.group(1)] = int(m.group(2))
    return counts


def read_state():
    """What an operator or NETCONF reads; the YANG walk keeps a snapshot
    of the warnings until the next walk."""
    rs = g("r1")
    rs_json(rs)
    vtysh_json(rs, "show bgp route-server withheld {} json".format(ADDR["p2"]))
    vtysh_json(rs, "show yang operational-data /frr-bgp-route-server:route-server bgpd")


def reevaluated(before):
    return rs_json(g("r1"))["reevaluations"] > before


def roles_cmds(roles):
    return [
        "neighbor {} route-server role {}".format(ADDR[p], r) if r
        else "no neighbor {} route-server role".format(ADDR[p])
        for p, r in sorted(roles.items())
    ]


def churn_round(i):
    rs = g("r1")
    n = rs_json(rs)["reevaluations"]
    out = configure(rs, *roles_cmds(OTHER), "bgp route-server branch-to-branch")
    assert "%" not in out, out
    wait_for(lambda: reevaluated(n), True, "re-evaluation (churn {})".format(i))
    n = rs_json(rs)["reevaluations"]
    # b2b off first: the roles in between would be an active-active warning
    out = configure(rs, "no bgp route-server branch-to-branch", *roles_cmds(ROLES))
    assert "%" not in out, out
    wait_for(lambda: reevaluated(n), True, "re-evaluation (restore {})".format(i))

    lines = ["neighbor TMP peer-group", "neighbor TMP remote-as external",
             "neighbor TMP route-server role nva"]
    for k, a in enumerate(EXTRA):
        if k % 4 == 0:
            lines.append("neighbor {} peer-group TMP".format(a))
        else:
            lines += ["neighbor {} remote-as {}".format(a, 65100 + k),
                      "neighbor {} route-server role {}".format(a, EXTRA_ROLES[k % 3])]
    lines.append("bgp route-server branch-to-branch")
    out = configure(rs, *lines)
    assert "%" not in out, out
    # an ExpressRoute and a lone VPN neighbor with b2b on: a warning
    out = vtysh_config(rs, "router bgp 65516 vrf blue",
                       "neighbor 10.9.0.2 remote-as 65001",
                       "neighbor 10.9.0.2 route-server role gateway expressroute",
                       "neighbor 10.9.0.3 remote-as 65002",
                       "neighbor 10.9.0.3 route-server role gateway vpn",
                       "bgp route-server branch-to-branch")
    assert "% Warning: branch-to-branch with an ExpressRoute gateway" in out, out
    read_state()
    assert vtysh_json(rs, "show bgp vrf blue route-server json")["warnings"]
    counts = memory_counts()
    out = configure(rs, *["no neighbor " + a for a in EXTRA], "no neighbor TMP peer-group",
                    "no bgp route-server branch-to-branch")
    assert "%" not in out, out
    out = vtysh_config(rs, "no router bgp 65516 vrf blue")
    assert "%" not in out, out
    return counts


# --- tests -----------------------------------------------------------------


def test_sessions_and_baseline():
    rs = g("r1")
    wait_for(lambda: all_established(rs, [ADDR[p] for p in PEERS]), True, "r1 sessions", count=120)
    # b2b off: the ExpressRoute gateway has only the VNet route
    wait_for(lambda: received_prefixes(g("p3")), {"10.100.0.0/16", "10.3.0.0/16"}, "p3 table")
    read_state()
    STATE["config"] = running_config(rs)
    STATE["memory"] = memory_counts()
    logger.info("memory baseline: %s", STATE["memory"])
    assert STATE["memory"]["Route-server role"] == len(PEERS)
    assert STATE["memory"]["Route-server instance"] == 1


def test_churn_returns_to_baseline():
    rs = g("r1")
    peak = {}
    for i in range(ROUNDS):
        for k, v in churn_round(i).items():
            peak[k] = max(peak.get(k, 0), v)
    logger.info("memory after churn (before settling): %s", memory_counts())
    # the churn really allocated: the extra neighbors' roles and the VRF
    # instance were counted while they existed
    # roles: the peers', the extras' own (every 4th is a TMP member),
    # TMP's and the VRF instance's two
    assert peak["Route-server role"] == len(PEERS) + len(EXTRA) - len(EXTRA) // 4 + 1 + 2
    assert peak["Route-server instance"] == 2
    assert peak["Route-server warning"] >= 1
    assert running_config(rs) == STATE["config"]
    wait_for(lambda: received_prefixes(g("p3")), {"10.100.0.0/16", "10.3.0.0/16"}, "p3 table after churn")
    wait_for(lambda: all_established(rs, [ADDR[p] for p in PEERS]), True, "r1 sessions after churn")

    def settled():
        read_state()
        # a type first allocated during churn appears with count 0
        return {k: v for k, v in memory_counts().items() if v or k in STATE["memory"]}

    wait_for(settled, STATE["memory"], "memory counts back to baseline", count=40)
    logger.info("memory after churn: %s (peak %s)", memory_counts(), peak)
