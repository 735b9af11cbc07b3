#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""
Labeled-unicast, connection collisions, "show bgp vrf all route-server"
and "debug bgp route-server", on one route server r1 (AS 65515, zebra,
bgpd -M route_server, config in r1/frr.conf) with FRR peers on one LAN:

  er1   192.168.1.2  AS 65515 iBGP  gateway expressroute  10.21/16  LU
  er2   192.168.1.3  AS 65515 iBGP  gateway expressroute  10.22/16  LU
  vpn1  192.168.1.4  AS 65515 iBGP  gateway vpn           10.31/16  LU
  vpn2  192.168.1.5  AS 65515 iBGP  gateway vpn           10.32/16  LU
  nva1  192.168.1.6  AS 65006 eBGP  nva                   10.41/16  LU
  nva2  192.168.1.7  AS 65007 eBGP  nva                   10.42/16  LU
  nva3  192.168.1.8  AS 65008 eBGP  nva                   10.43/16  unicast
  r1    VNet 10.100/16 (network statement)

Labeled-unicast in FRR 10.3 on this kernel (no MPLS: no
/proc/sys/net/mpls, "modprobe mpls-router" fails):
- bgpd refuses to activate one neighbor in both ipv4 unicast and ipv4
  labeled-unicast ("% Cannot activate peer for both 'ipv4 unicast' and
  'ipv4 labeled-unicast'", BGP_ERR_PEER_SAFI_CONFLICT in peer_activate),
  so each session is either LU or unicast. The gateways and nva1/nva2
  speak only LU with r1 (their `network` routes go out over LU with
  implicit-null); nva3 speaks only unicast, so r1 also re-advertises
  unicast-learned paths over LU.
- Labeled-unicast routes live in the unicast table (bgp_update maps
  SAFI_LABELED_UNICAST to SAFI_UNICAST, and "show bgp ipv4
  labeled-unicast" shows that table): a peer whose only session is LU has
  in that table exactly what it received over LU, plus its own prefix.
- The session and the labels need no kernel MPLS. zebra logs "Disabling
  MPLS support (no kernel support)" but its label manager still hands out
  label chunks, and bgpd's label pool takes its per-prefix labels from
  them. What r1 sends (bgp_adv_label): an iBGP-learned path to an iBGP
  neighbor (reflection) keeps the received label (implicit-null, 3, from the
  gateways' own network routes); other cases get r1's local label:
  implicit-null for its own and for unlabeled (unicast-learned) paths, a
  label from the pool (>= 16) for labeled paths. A path without a valid
  label is not advertised over LU at all (subgroup_announce_check "no
  label"). Only the data plane is missing: zebra cannot install routes
  with a real label (rejected, "Route install failed"); that does not
  touch BGP.
- A path learned over labeled-unicast reaches a unicast-only peer (nva3)
  without the mandatory NEXT_HOP attribute, and the peer treats it as
  withdrawn (FRR 10.3 core, FRRouting/frr issue 22569, fixed upstream by
  pull request 23021): nva3's own table is checked for what FRR can
  deliver, r1's advertised-routes to it for the whole matrix.

Checks: each LU peer's table holds exactly what the matrix allows (ER->ER
and VPN->VPN never, NVA<->gateways only with branch-to-branch, NVA->NVA
and the VNet always), with b2b off, on and off again, and r1's LU
advertised-routes agree; without the labeled-unicast filter er2 gets
er1's prefix (seen with the module before that change, which sent all
seven prefixes to every LU peer). The
transient peer bgpd creates for an incoming connection of a configured
neighbor (its "doppelganger", no PEER_FLAG_CONFIG_NODE) has no role: held
open deterministically by a TCP connection that never sends OPEN, the
YANG state list has no duplicate key and the active-active warning still
counts one VPN neighbor; simultaneous clears on both sides (real
collisions, counted from r1's log into r1/collisions.txt, not asserted:
about one resolved collision and seven accept peers in eight rounds)
keep the same invariants. "show bgp vrf all route-server json" is keyed
by "default"; "debug bgp route-server" in enable and config mode, saved
only from config mode, logs "route-server:" lines on role changes.
"""

import os
import re
import subprocess
import sys
import time

import pytest

CWD = os.path.dirname(os.path.abspath(__file__))
sys.path.append(os.path.join(CWD, ".."))
sys.path.append(os.path.join(CWD, "../.."))

from lib.topogen import TopoRouter, get_topogen  # noqa: E402
from lib.topolog import logger  # noqa: E402
from rslib import (  # noqa: E402
    RS_MODULE,
    all_established,
    configure,
    established_counters,
    roles_exchange,
    rs_json,
    running_config,
    start_lan_topology,
    vtysh_config,
    vtysh_json,
    wait_for,
)

pytestmark = [pytest.mark.bgpd]

RS = "192.168.1.1"
VNET = "10.100.0.0/16"
# name: (address, ASN, role (CLI words), prefix, session address family)
PEERS = {
    "er1": ("192.168.1.2", 65515, "gateway expressroute", "10.21.0.0/16", "labeled-unicast"),
    "er2": ("192.168.1.3", 65515, "gateway expressroute", "10.22.0.0/16", "labeled-unicast"),
    "vpn1": ("192.168.1.4", 65515, "gateway vpn", "10.31.0.0/16", "labeled-unicast"),
    "vpn2": ("192.168.1.5", 65515, "gateway vpn", "10.32.0.0/16", "labeled-unicast"),
    "nva1": ("192.168.1.6", 65006, "nva", "10.41.0.0/16", "labeled-unicast"),
    "nva2": ("192.168.1.7", 65007, "nva", "10.42.0.0/16", "labeled-unicast"),
    "nva3": ("192.168.1.8", 65008, "nva", "10.43.0.0/16", "unicast"),
}
ADDR = {n: p[0] for n, p in PEERS.items()}
ROLE = {n: p[2] for n, p in PEERS.items()}
NET = {n: p[3] for n, p in PEERS.items()}
AF = {n: p[4] for n, p in PEERS.items()}
LU_PEERS = [n for n in PEERS if AF[n] == "labeled-unicast"]
IMPLICIT_NULL = 3
AA_WARNING = (
    "branch-to-branch with an ExpressRoute gateway needs an active-active VPN "
    "gateway (2 gateway vpn neighbors), 1 configured"
)
STATE = {}

PEER_CONF = """\
hostname {name}
interface {name}-eth0
 ip address {addr}/24
!
router bgp {asn}
 bgp router-id {addr}
 no bgp default ipv4-unicast
 no bgp ebgp-requires-policy
 no bgp network import-check
 neighbor {rs} remote-as 65515
 neighbor {rs} timers connect 2
 address-family ipv4 unicast
  network {net}
 exit-address-family
 address-family ipv4 {af}
  neighbor {rs} activate
 exit-address-family
!
"""


def setup_module(mod):
    tgen = start_lan_topology(mod, ["r1"] + list(PEERS))
    for name, router in tgen.routers().items():
        if name == "r1":
            path = os.path.join(CWD, "r1", "frr.conf")
        else:
            addr, asn, _, net, af = PEERS[name]
            path = os.path.join(tgen.logdir, name + "-frr.conf")
            with open(path, "w") as f:
                f.write(PEER_CONF.format(name=name, addr=addr, asn=asn, net=net, af=af, rs=RS))
        router.load_frr_config(
            path, [(TopoRouter.RD_ZEBRA, ""), (TopoRouter.RD_BGP, RS_MODULE if name == "r1" else "")]
        )
    tgen.start_router()


def teardown_module(mod):
    get_topogen().stop_topology()


def g(name):
    return get_topogen().gears[name]


# --- labeled-unicast -------------------------------------------------------


def expected(dst, b2b):
    """What r1 must advertise to dst (leaving dst's own prefix aside) and
    what dst's table must hold: its own prefix, the VNet, and every other
    peer's prefix the matrix lets through to it."""
    allowed = {NET[s] for s in PEERS if s != dst and roles_exchange(ROLE[s], ROLE[dst], b2b)}
    return allowed | {VNET, NET[dst]}


def expected_table(dst, b2b):
    """expected(), less what FRR 10.3 cannot deliver: r1 sends a path
    learned over labeled-unicast to a unicast peer without the mandatory
    NEXT_HOP attribute (the next hop came in MP_REACH_NLRI;
    bgp_packet_attribute writes NEXT_HOP only when the path has one), and
    the peer treats it as withdrawn ("Missing well-known attribute
    NEXT_HOP"). FRR core, not the module: FRRouting/frr issue 22569, fixed
    upstream by pull request 23021. So the unicast peer nva3 gets only r1's
    own route and unicast-learned paths (its own); r1's advertised-routes
    to it are still checked against the whole matrix."""
    want = expected(dst, b2b)
    if AF[dst] == "unicast":
        want = {p for p in want if p == VNET or AF[owner(p)] == "unicast"}
    return want


def owner(prefix):
    return next(n for n in PEERS if NET[n] == prefix)


def table(name):
    """The peer's table for its session's address family (for an LU peer:
    exactly what it received over labeled-unicast, plus its own prefix)."""
    data = vtysh_json(g(name), "show bgp ipv4 {} json".format(AF[name]))
    return set(data.get("routes", {}))


def advertised(name):
    """What r1 advertises to the peer, in the peer's address family."""
    data = vtysh_json(
        g("r1"), "show bgp ipv4 {} neighbors {} advertised-routes json".format(AF[name], ADDR[name])
    )
    return set(data.get("advertisedRoutes", {}))


def remote_label(name, prefix):
    data = vtysh_json(g(name), "show bgp ipv4 labeled-unicast {} json".format(prefix))
    return [p.get("remoteLabel") for p in data.get("paths", []) if p.get("peer", {}).get("peerId") == RS]


def check_matrix(b2b, phase):
    # Wait for every peer first (the table walk after a b2b change takes
    # about 100 ms plus propagation), then check the exact sets.
    for name in PEERS:
        wait_for(lambda: table(name), expected_table(name, b2b),
                 "{}: {} table, b2b {}".format(name, AF[name], phase))
    for name in PEERS:
        own = {NET[name]}
        # Whether r1 sends a peer's own prefix back to it is not the
        # matrix's business (the peer drops it anyway): leave it out.
        wait_for(lambda: advertised(name) - own, expected(name, b2b) - own,
                 "r1 advertised-routes to {} over {}, b2b {}".format(name, AF[name], phase))
    # Leaks the old module let through on labeled-unicast, named for the
    # failure message.
    assert NET["er1"] not in table("er2"), "ER -> ER over labeled-unicast"
    assert NET["vpn1"] not in table("vpn2"), "VPN -> VPN over labeled-unicast"
    if not b2b:
        assert NET["er1"] not in table("nva1"), "ER -> NVA over labeled-unicast with b2b off"
        assert NET["nva1"] not in table("vpn1"), "NVA -> VPN over labeled-unicast with b2b off"


def test_sessions_up():
    wait_for(lambda: all_established(g("r1"), list(ADDR.values())), True, "r1 sessions")
    STATE["counters"] = established_counters(g("r1"))


def test_labeled_unicast_negotiated():
    """LU peers negotiated ipv4 labeled-unicast only, nva3 ipv4 unicast
    only, on both ends."""
    nbrs = vtysh_json(g("r1"), "show bgp neighbors json")
    for name in PEERS:
        want = {"labeled-unicast": "ipv4LabeledUnicast", "unicast": "ipv4Unicast"}[AF[name]]
        for who, data in (("r1", nbrs[ADDR[name]]), (name, vtysh_json(g(name), "show bgp neighbors {} json".format(RS))[RS])):
            mp = data["neighborCapabilities"]["multiprotocolExtensions"]
            got = {af for af, v in mp.items() if v.get("advertisedAndReceived")}
            assert got == {want}, "{}: session {} <-> r1 negotiated {}".format(who, name, got)
    summary = vtysh_json(g("r1"), "show bgp ipv4 labeled-unicast summary json")["peers"]
    assert set(summary) == {ADDR[n] for n in LU_PEERS}


def test_lu_b2b_off():
    check_matrix(False, "off")
    # Labels, no kernel MPLS needed: r1's own route is sent with
    # implicit-null; nva2's labeled path goes to the eBGP NVA with a label
    # from r1's label pool (zebra's label manager); nva3's unicast-learned
    # path with implicit-null.
    for name in LU_PEERS:
        assert remote_label(name, VNET) == [IMPLICIT_NULL], name
    wait_for(lambda: all(16 <= l <= 1048575 for l in remote_label("nva1", NET["nva2"]) or [0]), True,
             "nva1: nva2's prefix with a label from r1's label pool")
    assert remote_label("nva1", NET["nva3"]) == [IMPLICIT_NULL]


def test_lu_b2b_on():
    out = configure(g("r1"), "bgp route-server branch-to-branch")
    assert "%" not in out, out
    check_matrix(True, "on")
    # iBGP-learned to iBGP (reflection): vpn1's label (implicit-null for
    # its own network) is passed on unchanged.
    assert remote_label("er1", NET["vpn1"]) == [IMPLICIT_NULL]


def test_lu_b2b_off_again():
    out = configure(g("r1"), "no bgp route-server branch-to-branch")
    assert "%" not in out, out
    check_matrix(False, "off again")


def test_no_session_reset():
    assert established_counters(g("r1")) == STATE["counters"]


# --- connection collisions: only configured neighbors have a role ----------


def bgpd_log(name="r1"):
    return os.path.join(g(name).gearlogdir, "bgpd.log")


def log_size(name="r1"):
    return os.path.getsize(bgpd_log(name))


def log_since(offset, name="r1"):
    with open(bgpd_log(name), errors="replace") as f:
        f.seek(offset)
        return f.read()


def yang_state():
    data = vtysh_json(g("r1"), "show yang operational-data /frr-bgp-route-server:route-server bgpd")
    inst = [i for i in data["frr-bgp-route-server:route-server"]["instance"] if i["vrf"] == "default"]
    return inst[0].get("state", {})


ROLE_NEIGHBORS = None  # set by test_collision_setup


def check_no_doppelganger(what):
    """The invariants that hold whatever connections bgpd has open: one
    YANG state entry per configured role neighbor, the same set as show,
    and the active-active warning counting one VPN neighbor."""
    state = yang_state()
    names = [n["name"] for n in state.get("neighbor", [])]
    assert len(names) == len(set(names)), "{}: duplicate YANG state keys {}".format(what, names)
    assert set(names) == ROLE_NEIGHBORS, "{}: YANG state neighbors {}".format(what, names)
    assert [w for w in state.get("warning", []) if "active-active" in w] == [AA_WARNING], (
        "{}: YANG warnings {}".format(what, state.get("warning")))
    show = rs_json(g("r1"))
    assert set(show["neighbors"]) == ROLE_NEIGHBORS, "{}: show neighbors {}".format(what, list(show["neighbors"]))
    assert [w for w in show["warnings"] if "active-active" in w] == [AA_WARNING], (
        "{}: show warnings {}".format(what, show["warnings"]))


def test_collision_setup():
    """One VPN neighbor (vpn1) next to ER gateways with b2b on: the
    active-active warning, "1 configured"."""
    global ROLE_NEIGHBORS
    out = configure(g("r1"), "no neighbor 192.168.1.5 route-server role", "bgp route-server branch-to-branch")
    assert AA_WARNING in out, out
    ROLE_NEIGHBORS = {a for n, a in ADDR.items() if n != "vpn2"}
    check_no_doppelganger("before any collision")


HOLD_OPEN = (
    "import socket, sys\n"
    "s = socket.create_connection(('{rs}', 179))\n"
    "print('connected', flush=True)\n"
    "sys.stdin.read()\n"
)


def test_accept_peer_has_no_role():
    """A TCP connection from vpn1's address that never sends OPEN: r1
    creates its accept peer for it (same address as the configured,
    Established neighbor, no CONFIG_NODE), which waits in OpenSent for as
    long as the connection stays open. Deterministic: no race needed."""
    r1 = g("r1")
    mark = log_size()
    proc = g("vpn1").popen(
        ["/usr/bin/python3", "-c", HOLD_OPEN.format(rs=RS)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE,
    )
    try:
        assert proc.stdout.readline().strip() == "connected"
        # r1 logs the accept peer (debug bgp neighbor-events in r1/frr.conf).
        wait_for(lambda: "192.168.1.4 passive open" in log_since(mark), True,
                 "r1 created an accept peer for 192.168.1.4")
        assert "connection from 192.168.1.4" in log_since(mark)
        for i in range(10):
            check_no_doppelganger("accept peer open, sample {}".format(i))
            state = {n["name"]: n for n in yang_state()["neighbor"]}
            assert state["192.168.1.4"]["session-state"] == "Established"
            time.sleep(0.3)
        assert all_established(r1, [ADDR["vpn1"]])
    finally:
        proc.stdin.close()
        proc.wait(timeout=10)
    check_no_doppelganger("accept peer closed")


def clear_both(r1, peer):
    """clear on both ends at the same moment: each side connects to the
    other, and bgpd resolves the collision."""
    p1 = r1.popen(["vtysh", "-c", "clear bgp {}".format(ADDR[peer])])
    p2 = g(peer).popen(["vtysh", "-c", "clear bgp {}".format(RS)])
    p1.wait(timeout=30)
    p2.wait(timeout=30)


def test_collisions_keep_one_entry():
    r1 = g("r1")
    mark = log_size()
    rounds, samples = 8, 0
    for i in range(rounds):
        clear_both(r1, "vpn1")
        deadline = time.time() + 30
        # Sample until both ends are back (and at least a second of it).
        start = time.time()
        while time.time() < deadline:
            check_no_doppelganger("collision round {}".format(i))
            samples += 1
            if time.time() - start > 1 and all_established(r1, [ADDR["vpn1"]]):
                break
        wait_for(lambda: all_established(r1, [ADDR["vpn1"]]), True, "vpn1 back, round {}".format(i))
    log = log_since(mark)
    counts = {
        "rounds": rounds,
        "samples": samples,
        "accept peers (incoming connections from vpn1)": log.count("[Event] connection from 192.168.1.4"),
        "collision resolutions (NOTIFICATION 6/7 sent or received)": len(
            re.findall(r"NOTIFICATION: (?:sent to|received from) neighbor 192\.168\.1\.4 6/7", log)),
        "previous accept peer killed": log.count("Killing previous active connection"),
    }
    logger.info("rs_lu collisions: %s", counts)
    print("rs_lu collisions: {}".format(counts))
    with open(os.path.join(r1.gearlogdir, "collisions.txt"), "w") as f:
        f.write("{}\n".format(counts))
    check_no_doppelganger("after the collisions")
    # vpn1 has its routes again (b2b on, one VPN neighbor: ER and NVA
    # routes, not vpn2's, which is role-less now: native).
    wait_for(lambda: table("vpn1"), expected("vpn1", True) | {NET["vpn2"]}, "vpn1 table after collisions")


def test_collision_teardown():
    configure(g("r1"), "neighbor 192.168.1.5 route-server role gateway vpn", "no bgp route-server branch-to-branch")
    assert rs_json(g("r1"))["warnings"] == []
    check_matrix(False, "off, after the collisions")


# --- show bgp vrf all route-server, debug bgp route-server ----------------


def test_show_vrf_all_json():
    data = vtysh_json(g("r1"), "show bgp vrf all route-server json")
    assert list(data) == ["default"], data
    one = rs_json(g("r1"))
    d = data["default"]
    assert d["vrfName"] == "default" and d["localAs"] == one["localAs"]
    assert d["branchToBranch"] == one["branchToBranch"]
    assert {n: v["role"] for n, v in d["neighbors"].items()} == {n: v["role"] for n, v in one["neighbors"].items()}
    assert d["warnings"] == one["warnings"]
    text = g("r1").vtysh_cmd("show bgp vrf all route-server")
    assert "VRF default" in text and "%" not in text, text


RS_LINE = re.compile(r"^\S+ \S+ BGP: \[[\w-]+\] (route-server:.*)$", re.M)


def rs_debug_lines(mark):
    """Messages starting with "route-server:" logged since mark that name
    vpn2 (its role is what the debug tests change)."""
    return [m for m in RS_LINE.findall(log_since(mark)) if ADDR["vpn2"] in m]


def toggle_vpn2_role():
    """Clear vpn2's role and set it again; returns the log mark from
    before."""
    mark = log_size()
    for line in ("no neighbor 192.168.1.5 route-server role", "neighbor 192.168.1.5 route-server role gateway vpn"):
        out = configure(g("r1"), line)
        assert "%" not in out, out
    assert rs_json(g("r1"))["neighbors"][ADDR["vpn2"]]["role"] == "gateway-vpn"
    return mark


def expect_debug(on, what):
    mark = toggle_vpn2_role()
    if on:
        wait_for(lambda: len(rs_debug_lines(mark)) >= 2, True, "{}: route-server: lines for both changes".format(what))
    else:
        time.sleep(1.5)  # the debounced walk runs 100 ms after a change
        assert rs_debug_lines(mark) == [], what


def debug_saved():
    return "\ndebug bgp route-server\n" in running_config(g("r1"))


def test_debug_enable_mode():
    r1 = g("r1")
    assert not debug_saved()
    expect_debug(False, "debug off")
    out = r1.cmd("vtysh -c 'debug bgp route-server' 2>&1")
    assert "%" not in out, out
    expect_debug(True, "debug on (enable mode)")
    assert not debug_saved(), "enable-mode debug is not saved in the configuration"
    out = r1.cmd("vtysh -c 'no debug bgp route-server' 2>&1")
    assert "%" not in out, out
    expect_debug(False, "debug off again (enable mode)")


def test_debug_config_mode():
    out = vtysh_config(g("r1"), "debug bgp route-server")
    assert "%" not in out, out
    assert debug_saved(), running_config(g("r1"))
    expect_debug(True, "debug on (config mode)")
    out = vtysh_config(g("r1"), "no debug bgp route-server")
    assert "%" not in out, out
    assert not debug_saved()
    expect_debug(False, "debug off (config mode)")


def test_no_session_reset_at_the_end():
    """Only vpn1's session was reset (by the collision test)."""
    now = established_counters(g("r1"))
    for addr, counters in STATE["counters"].items():
        if addr != ADDR["vpn1"]:
            assert now[addr] == counters, addr

