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

Leaks: r1's bgpd runs under valgrind (or, in the sanitizer build, with
LeakSanitizer); after the churn it is stopped as an operator stops it, and
no leak record or memory error of its exit check may have a frame in the
module, nor may FRR's own exit report list a route-server MTYPE.
"""

import os
import re
import sys
import time

import pytest

CWD = os.path.dirname(os.path.abspath(__file__))
sys.path.append(os.path.join(CWD, ".."))
sys.path.append(os.path.join(CWD, "../.."))

from lib import topotest  # noqa: E402
from lib.topogen import TopoRouter, get_topogen  # noqa: E402
from lib.topolog import logger  # noqa: E402
from rslib import (  # noqa: E402
    all_established,
    configure,
    load_frr_peer,
    received_prefixes,
    rs_json,
    running_config,
    start_lan_topology,
    vtysh_config,
    vtysh_json,
    wait_for,
)
import leaks  # noqa: E402

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



def setup_module(mod):
    tgen = start_lan_topology(mod, ["r1"] + PEERS)
    d = tgen.logdir
    neighbors = []
    for p in PEERS:
        neighbors += [
            " neighbor {} remote-as {}".format(ADDR[p], 65000 + int(p[1:])),
            " neighbor {} route-server role {}".format(ADDR[p], ROLES[p]),
        ]
        load_frr_peer(tgen, p, ADDR[p], 65000 + int(p[1:]), "10.{}.0.0/16".format(p[1:]))
    conf = os.path.join(d, "r1-frr.conf")
    with open(conf, "w") as f:
        f.write(RS_CONF.format(neighbors="\n".join(neighbors)))
    tgen.gears["r1"].load_frr_config(
        conf, [(TopoRouter.RD_ZEBRA, ""), (TopoRouter.RD_BGP, "-M route_server")]
    )
    tgen.start_router()
    rs = tgen.gears["r1"]
    STATE["sanitized"] = "libasan" in rs.cmd("ldd {}/bgpd".format(rs.net.daemondir))
    if not STATE["sanitized"]:
        start_bgpd_under_valgrind(rs)


def start_bgpd_under_valgrind(rs):
    """Restart r1's bgpd (same options, same config) under valgrind, with
    FRR's own suppressions, through the framework's --valgrind-memleaks
    path set for this one daemon."""
    rs.net.killRouterDaemons(["bgpd"])
    opt = topotest.g_pytest_config.option
    saved = opt.valgrind_memleaks, opt.valgrind_leak_kinds
    opt.valgrind_memleaks, opt.valgrind_leak_kinds = True, "definite,indirect,possible"
    try:
        rs.net.startRouterDaemons(["bgpd"])
    finally:
        opt.valgrind_memleaks, opt.valgrind_leak_kinds = saved
    # the framework applies a unified config only when it starts a router
    rs.cmd_raises("vtysh -f /etc/frr/frr.conf")


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
        counts = {k: v for k, v in memory_counts().items() if v or k in STATE["memory"]}
        # bgpd merges subgroups lazily: the baseline may hold one not yet
        # merged, never fewer than it needs
        sub = "BGP update subgroup"
        if counts.get(sub, 0) <= STATE["memory"][sub]:
            counts[sub] = STATE["memory"][sub]
        return counts

    wait_for(settled, STATE["memory"], "memory counts back to baseline", count=40)
    logger.info("memory after churn: %s (peak %s)", memory_counts(), peak)


def bgpd_pid(rs):
    out = rs.cmd("cat /var/run/frr/bgpd.pid 2>/dev/null").strip()
    return int(out) if out.isdigit() else None


def test_exit_leak_check():
    """Stop r1's bgpd (SIGTERM, as systemd or watchfrr do) after the churn
    and read the leak checker's verdict on everything it still holds."""
    rs = g("r1")
    pid = bgpd_pid(rs)
    assert pid, "r1: no bgpd pid"
    if STATE["sanitized"]:
        # LeakSanitizer runs at exit unless turned off
        env = rs.cmd("tr '\\0' '\\n' </proc/{}/environ".format(pid))
        assert "ASAN_OPTIONS=" in env and "detect_leaks=0" not in env, env
    rs.cmd("kill -TERM {}".format(pid))
    # valgrind's exit leak scan takes seconds
    deadline = time.time() + 120
    while rs.cmd("kill -0 {} 2>/dev/null && echo up".format(pid)).strip() == "up":
        assert time.time() < deadline, "r1: bgpd did not exit after SIGTERM"
        time.sleep(0.5)
    rs.cmd("rm -f /var/run/frr/bgpd.pid")
    # it went through FRR's orderly exit (frr_fini, then exit() and the
    # checker's exit handler), not a crash
    assert "Terminating on signal" in rs.cmd("cat {}/r1/bgpd.log".format(rs.logdir))

    checked, records = leaks.report(rs.logdir, "r1", "bgpd", pid, STATE["sanitized"])
    tool = "LeakSanitizer" if STATE["sanitized"] else "valgrind"
    assert checked, "r1: no {} leak summary for bgpd pid {}".format(tool, pid)
    mine = [r for r in records if r.in_module]
    logger.info("%s on bgpd exit: %d records, %d with a module frame",
                tool, len(records), len(mine))
    for r in records:
        logger.info("%s record:\n%s", tool, r)
    assert not mine, "leaks or errors attributable to the module:\n" + "\n".join(map(str, mine))

    # FRR's own exit report (stderr, not a tty here): MTYPEs still allocated
    err = rs.cmd("cat {}/r1/bgpd.err".format(rs.logdir))
    groups = re.findall(r"bgpd: showing active allocations in memory group (.*)", err)
    logger.info("MTYPE groups with allocations at exit: %s", groups)
    assert "bgpd route-server" not in groups, err


def test_leak_parser_attributes_frames():
    """The verdict above is only as good as the parsing: records from both
    checkers, with and without a frame in the module's sources."""
    vg = """==7== 48 bytes in 1 blocks are definitely lost in loss record 3 of 9
==7==    at 0x4848899: malloc (vg_replace_malloc.c:381)
==7==    by 0x5A1B2C3: qcalloc (memory.c:106)
==7==    by 0x6B2C3D4: rs_role_set (bgp_rs.c:212)
==7== 
==7== 16 bytes in 1 blocks are possibly lost in loss record 1 of 9
==7==    at 0x4848899: malloc (vg_replace_malloc.c:381)
==7==    by 0x5A1B2C3: peer_new (bgpd.c:1500)
==7== 
==7== Invalid read of size 4
==7==    at 0x6B2C3D4: rs_show_json (bgp_rs_show.c:80)
==7== 
==7== LEAK SUMMARY:
"""
    recs = leaks.parse_valgrind(vg)
    assert [(r.kind, r.in_module) for r in recs] == [("leak", True), ("leak", False), ("error", True)]
    lsan = """==9==ERROR: LeakSanitizer: detected memory leaks

Direct leak of 40 byte(s) in 1 object(s) allocated from:
    #0 0x7f in __interceptor_calloc asan_malloc_linux.cpp:77
    #1 0x55 in qcalloc lib/memory.c:106
    #2 0x56 in rs_policy_withhold_mask bgpd/rs_policy.c:90

Indirect leak of 8 byte(s) in 1 object(s) allocated from:
    #0 0x7f in __interceptor_malloc asan_malloc_linux.cpp:69
    #1 0x57 in bgp_node_get bgpd/bgp_table.c:40
"""
    recs = leaks.parse_lsan(lsan)
    assert [(r.kind, r.in_module) for r in recs if r.kind == "leak"] == [("leak", True), ("leak", False)]
