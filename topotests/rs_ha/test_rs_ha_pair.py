#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""
Two route-server instances (Azure Route Server runs two), traffic counted
through failures and changes.

rs1 and rs2: FRR bgpd -M route_server, AS 65515, the same roles and
branch-to-branch on (rs1/frr.conf, rs2/frr.conf differ only in router-id and
address). rs1 runs as a packaged FRR does (frrinit.sh -> watchfrr), so a
SIGKILL of its bgpd is followed by watchfrr's restart; rs2 is started by the
framework. Every role peer has a session with both:

  nva     BIRD 2, AS 65001, eBGP       On-prem 1 (192.168.10.0/24) behind it
  ergw    FRR, iBGP, gateway expressroute  On-prem 2 (192.168.20.0/24)
  vpngw1/vpngw2  FRR, iBGP, the active-active VPN gateway (gateway vpn)
                                       On-prem 3 (192.168.30.0/24)

(seed scenarios 1 and 2 in one VNet). The route servers are control plane
only: IP forwarding is off on them, and the next hops the peers install are
the gateways' and the NVA's own addresses (checked), so traffic between the
sites never crosses an instance.

Two continuous pings (every 50 ms: 20 per second each) cross the
branch-to-branch path: On-prem 1 -> On-prem 2 (NVA <-> ExpressRoute) and
On-prem 3 -> On-prem 2 (VPN <-> ExpressRoute). Events, in sequence, each
counted separately:

  a  SIGKILL of rs1's bgpd; watchfrr restarts it
  b  `clear bgp *` on rs2
  c  rs1's link down until every peer has dropped its sessions to rs1
     (hold time 9 s), then up
  d  a role change on both (the NVA becomes `gateway vpn`: it loses On-prem
     3, VPN to VPN is never exchanged, while both measured paths stay), then
     back to `nva`
  e  branch-to-branch off on both (the measured paths are cut: asserted),
     then on again

Per event: pings lost (asserted 0 for a to d: one instance always serves
every peer and the next hops do not change; reported for e, which cuts the
path by design) and seconds until both instances hold the full table again
(every role neighbor Established with the expected prefixes received and
advertised in `show bgp route-server json`). The table of figures is
logged and written to LOGDIR/rs_ha_figures.txt. Timing bounds are asserted
with a wide margin, and not under the sanitizer build.

scripts/rs-pair-check compares the two instances: it is run after every
event (they agree), between the two halves of each change (they differ:
the warning names the role or the flag), while rs1's link is down (session
states differ) and with a routing preference and a warning on one only.

RS_HA_LONG=1 repeats the whole event sequence RS_HA_ROUNDS times (default
5) and logs min/median/max per event.
"""

import os
import re
import statistics
import subprocess
import sys
import time

import pytest

CWD = os.path.dirname(os.path.abspath(__file__))
sys.path.append(os.path.join(CWD, ".."))
sys.path.append(os.path.join(CWD, "../.."))
sys.path.append(os.path.join(CWD, "../rs_restart"))

from lib.topogen import Topogen, TopoRouter, get_topogen  # noqa: E402
from lib.topolog import logger  # noqa: E402
from rslib import (  # noqa: E402
    RS_MODULE,
    build_links,
    daemon_pid,
    received_prefixes,
    roles_exchange,
    rs_json,
    running_config,
    set_addresses,
    start_frr_service,
    stop_frr_service,
    vtysh_config,
    vtysh_json,
    wait_for,
)
from rsbird import birdc, established as bird_established, require_bird, start_bird, stop_bird  # noqa: E402

pytestmark = [pytest.mark.bgpd]

VNET, P1, P2, P3 = "10.1.0.0/16", "192.168.10.0/24", "192.168.20.0/24", "192.168.30.0/24"
RS = {"rs1": "10.1.0.4", "rs2": "10.1.0.5"}
NVA, ERGW, VPN1, VPN2 = "10.1.0.10", "10.1.0.20", "10.1.0.30", "10.1.0.31"
ROLES0 = {NVA: "nva", ERGW: "gateway expressroute", VPN1: "gateway vpn", VPN2: "gateway vpn"}
# what each role peer announces to the route servers
SOURCES = {NVA: {P1}, ERGW: {P2}, VPN1: {P3}, VPN2: {P3}}
FRR_PEERS = ("ergw", "vpngw1", "vpngw2", "onprem1", "onprem2", "onprem3")
PINGS = {"1->2": ("onprem1", "192.168.10.1", "192.168.20.1"),
         "3->2": ("onprem3", "192.168.30.1", "192.168.20.1")}
INTERVAL = 0.05  # 20 pings per second per stream
LONG = os.environ.get("RS_HA_LONG") == "1"
ROUNDS = int(os.environ.get("RS_HA_ROUNDS", "5")) if LONG else 1
# generous bounds (seconds) for the time until both instances hold the full
# table again; asserted only without sanitizers. Link down/up waits for
# the hold time (9 s) first, so it is measured from the link going up.
BOUNDS = {"a": 40, "b": 30, "c": 40, "d": 20, "d-back": 20, "e-off": 20, "e-on": 20}
FIGURES = []  # (round, event, lost per stream, sent, seconds to full table, note)
STATE = {"roles": dict(ROLES0), "b2b": True}


def links():
    out = []
    with open(os.path.join(CWD, "topology")) as f:
        for line in f:
            fields = line.split("#")[0].split()
            if fields:
                out.append(tuple(fields))
    return out


# --- setup -------------------------------------------------------------------

def setup_module(mod):
    require_bird()
    tgen = Topogen(lambda t: build_links(t, links()), mod.__name__)
    tgen.start_topology()
    g = tgen.gears
    for name in FRR_PEERS + ("rs2",):
        g[name].load_frr_config(
            os.path.join(CWD, name, "frr.conf"),
            [(TopoRouter.RD_ZEBRA, ""), (TopoRouter.RD_BGP, RS_MODULE if name == "rs2" else "")])
    # rs1 and nva have no daemon for the framework: frrinit.sh and BIRD
    tgen.start_router()
    for name in ("ergw", "vpngw1", "vpngw2"):
        g[name].cmd_raises("sysctl -qw net.ipv4.ip_forward=1")
    for name in RS:
        g[name].cmd_raises("sysctl -qw net.ipv4.ip_forward=0")
    set_addresses(g["nva"], links())
    start_bird(g["nva"], open(os.path.join(CWD, "nva", "bird.conf")).read())
    # rs1: rslib's /etc/frr/daemons (zebra, mgmtd, staticd, bgpd -M route_server)
    start_frr_service(g["rs1"], open(os.path.join(CWD, "rs1", "frr.conf")).read())
    STATE["sanitized"] = "libasan" in g["rs2"].cmd("ldd {}/bgpd".format(g["rs2"].net.daemondir))


def teardown_module(mod):
    tgen = get_topogen()
    for p in list(Pinger.running):
        p.stop()
    stop_frr_service(tgen.gears["rs1"])
    stop_bird(tgen.gears["nva"])
    tgen.stop_topology()


def g(name):
    return get_topogen().gears[name]


# --- continuous pings ---------------------------------------------------------


class Pinger:
    """`ping -i 0.05` in a router, in the background; stop() returns
    (sent, lost). The last request may still be in flight when ping is
    stopped: it is not counted."""

    running = set()

    def __init__(self, stream, tag):
        name, src, dst = PINGS[stream]
        self.router = g(name)
        self.out = os.path.join(self.router.gearlogdir, "ping-{}-{}.txt".format(stream.replace(">", ""), tag))
        self.pid = self.router.cmd(
            "ping -n -i {} -W 1 -I {} {} >{} 2>&1 & echo $!".format(INTERVAL, src, dst, self.out)).strip()
        assert self.pid.isdigit(), self.pid
        Pinger.running.add(self)

    def replies(self):
        with open(self.out) as f:
            return {int(m.group(1)) for m in re.finditer(r"bytes from .*icmp_seq=(\d+)", f.read())}

    def stop(self):
        Pinger.running.discard(self)
        self.router.cmd("kill -INT {}".format(self.pid))
        for _ in range(50):
            if self.router.cmd("kill -0 {} 2>/dev/null && echo yes".format(self.pid)).strip() != "yes":
                break
            time.sleep(0.1)
        with open(self.out) as f:
            text = f.read()
        m = re.search(r"(\d+) packets transmitted", text)
        assert m, "ping output without summary: " + text[-500:]
        sent = int(m.group(1))
        got = self.replies()
        return sent - 1, sum(1 for s in range(1, sent) if s not in got)


def start_pings(tag):
    pingers = {s: Pinger(s, tag) for s in PINGS}
    # both streams answer before the event starts
    wait_for(lambda: all(p.replies() for p in pingers.values()), True, "pings answered ({})".format(tag), count=40)
    return pingers


def stop_pings(pingers):
    return {s: p.stop() for s, p in pingers.items()}


# --- expected state -------------------------------------------------------------


def expected_counters(roles, b2b):
    """neighbor -> (prefixes received, prefixes advertised) on each instance."""
    out = {}
    for dst in roles:
        sent = {VNET}
        for src, prefixes in SOURCES.items():
            # bgpd sends an eBGP neighbor (the NVA) its own routes back when
            # the policy allows its role to its role (NVA to NVA): BIRD drops
            # them (AS loop); iBGP neighbors never get their own back
            if (src != dst or dst == NVA) and roles_exchange(roles[src], roles[dst], b2b):
                sent |= prefixes
        out[dst] = (len(SOURCES[dst]), len(sent))
    return out


def rs_view(rs):
    data = rs_json(g(rs))
    return data.get("branchToBranch"), {
        n: (v["bgpState"], v["prefixesReceived"], v["prefixesAdvertised"], v["role"])
        for n, v in data.get("neighbors", {}).items()
    }


def full_table(rs):
    """"" when rs has every role neighbor Established with the counters
    the current policy gives, else what differs."""
    b2b, view = rs_view(rs)
    want = expected_counters(STATE["roles"], STATE["b2b"])
    bad = [] if b2b == STATE["b2b"] else ["b2b {}".format(b2b)]
    for n in sorted(set(view) | set(want)):
        v, w = view.get(n), want.get(n)
        if v is None or w is None or v[0] != "Established" or v[1:3] != w \
                or v[3] != STATE["roles"][n].replace(" ", "-"):
            bad.append("{} {} (want rcvd/adv {})".format(n, v, w))
    return "{}: {}".format(rs, "; ".join(bad)) if bad else ""


def wait_full(t0, what, count=600):
    """Both instances hold the full table; seconds since t0."""
    wait_for(lambda: full_table("rs1") + full_table("rs2"), "",
             "both route servers hold the full table ({})".format(what), count=count, wait=0.1)
    return time.time() - t0


def bird_prefixes(router, protocols=("rs1", "rs2")):
    """{protocol: prefixes it imported}."""
    out = {}
    for proto in protocols:
        text = birdc(router, "show route protocol " + proto)
        out[proto] = {l.split()[0] for l in text.splitlines()
                      if l and not l[0].isspace() and "/" in l.split()[0]}
    return out


# --- rs-pair-check ---------------------------------------------------------------


def pair_check_path():
    d = CWD
    while d != "/":
        p = os.path.join(d, "scripts", "rs-pair-check")
        if os.path.exists(p):
            return p
        d = os.path.dirname(d)
    # the tests run from a copy in FRR's tree: the project is above the prefix
    d = g("rs2").net.daemondir
    while d != "/":
        p = os.path.join(d, "scripts", "rs-pair-check")
        if os.path.exists(p):
            return p
        d = os.path.dirname(d)
    raise AssertionError("scripts/rs-pair-check not found above " + CWD)


def pair_check(*extra):
    """Run scripts/rs-pair-check against both instances (vtysh inside each
    router's namespaces); returns (exit status, output)."""
    srcs = ["cmd:" + g(rs).net._get_pre_cmd(True, False) for rs in ("rs1", "rs2")]
    r = subprocess.run(["/usr/bin/python3", pair_check_path(), "--names", "rs1,rs2", *extra, *srcs],
                       capture_output=True, text=True, timeout=60)
    return r.returncode, r.stdout + r.stderr


def assert_pair_equal():
    rc, out = pair_check()
    assert rc == 0, out
    assert "agree" in out, out


def assert_pair_differs(*parts):
    rc, out = pair_check()
    assert rc == 1, out
    for part in parts:
        assert part in out, out
    return out


# --- events --------------------------------------------------------------------------


def record(rnd, event, lost, secs, note=""):
    FIGURES.append((rnd, event, lost, secs, note))
    logger.info("round %d event %s: lost %s, full table after %.1fs %s", rnd, event, lost, secs, note)
    if not STATE["sanitized"] and event in BOUNDS:
        assert secs < BOUNDS[event], "{}: {:.1f}s".format(event, secs)


def assert_no_loss(event, lost):
    for stream, (sent, n) in lost.items():
        assert sent > 10, (event, stream, sent)
        assert n == 0, "{}: {} of {} pings lost on {}".format(event, n, sent, stream)


def configure_both(*lines, check_between=None):
    """The same lines on rs1, then rs2 (as an operator or a script would,
    one instance after the other); check_between() runs in between."""
    for i, rs in enumerate(("rs1", "rs2")):
        out = vtysh_config(g(rs), "router bgp 65515", *lines)
        assert "%" not in out, out
        if i == 0 and check_between:
            check_between()


def event_a(rnd):
    rs = g("rs1")
    pingers = start_pings("a{}".format(rnd))
    old = daemon_pid(rs, "bgpd")
    assert old
    t0 = time.time()
    rs.cmd_raises("kill -9 {}".format(old))
    wait_for(lambda: daemon_pid(rs, "bgpd") not in (None, old), True, "rs1 bgpd restarted by watchfrr")
    t_pid = time.time() - t0
    secs = wait_full(t0, "rs1 bgpd killed")
    lost = stop_pings(pingers)
    record(rnd, "a", lost, secs, "(new bgpd after {:.1f}s)".format(t_pid))
    assert_no_loss("a", lost)
    assert " route-server role gateway expressroute" in running_config(rs)


def event_b(rnd):
    pingers = start_pings("b{}".format(rnd))
    before = vtysh_json(g("rs2"), "show bgp neighbors json")[ERGW]["connectionsDropped"]
    t0 = time.time()
    g("rs2").vtysh_cmd("clear bgp *")
    wait_for(lambda: vtysh_json(g("rs2"), "show bgp neighbors json")[ERGW]["connectionsDropped"] > before,
             True, "rs2 sessions cleared")
    secs = wait_full(t0, "clear bgp * on rs2")
    lost = stop_pings(pingers)
    record(rnd, "b", lost, secs)
    assert_no_loss("b", lost)


def rs1_gone_from_peers():
    def ibgp_down(name):
        data = vtysh_json(g(name), "show bgp neighbors {} json".format(RS["rs1"]))
        return data.get(RS["rs1"], {}).get("bgpState") != "Established"
    return "rs1" not in bird_established(g("nva")) and all(ibgp_down(n) for n in ("ergw", "vpngw1", "vpngw2"))


def event_c(rnd):
    rs = g("rs1")
    pingers = start_pings("c{}".format(rnd))
    t0 = time.time()
    rs.cmd_raises("ip link set vnet down")
    # every peer drops its sessions to rs1 (hold time 9 s); rs2 serves all
    wait_for(rs1_gone_from_peers, True, "peers dropped rs1", count=300, wait=0.1)
    t_down = time.time() - t0
    assert full_table("rs2") == ""
    if rnd == 1:
        assert_pair_differs("neighbor 10.1.0.10: session", "Established at rs2")
    t1 = time.time()
    rs.cmd_raises("ip link set vnet up")
    secs = wait_full(t1, "rs1 link up")
    lost = stop_pings(pingers)
    record(rnd, "c", lost, secs, "(peers dropped rs1 after {:.1f}s down; time from link up)".format(t_down))
    assert_no_loss("c", lost)


def event_d(rnd):
    pingers = start_pings("d{}".format(rnd))
    t0 = time.time()
    between = (lambda: assert_pair_differs(
        "vrf default: neighbor 10.1.0.10: role gateway-vpn at rs1, nva at rs2")) if rnd == 1 else None
    configure_both("neighbor {} route-server role gateway vpn".format(NVA), check_between=between)
    STATE["roles"][NVA] = "gateway vpn"
    secs = wait_full(t0, "nva role gateway vpn")
    # the effect: VPN to VPN is never exchanged, the NVA (now a VPN
    # gateway) loses On-prem 3 from both instances; the ER routes stay
    wait_for(lambda: bird_prefixes(g("nva")), {"rs1": {VNET, P2}, "rs2": {VNET, P2}}, "nva table (role vpn)")
    wait_for(lambda: P3 in received_prefixes(g("onprem1")), False, "onprem1 without On-prem 3")
    lost = stop_pings(pingers)
    record(rnd, "d", lost, secs, "(NVA role gateway vpn on both)")
    assert_no_loss("d", lost)
    assert_pair_equal()

    pingers = start_pings("dback{}".format(rnd))
    t0 = time.time()
    configure_both("neighbor {} route-server role nva".format(NVA))
    STATE["roles"][NVA] = "nva"
    secs = wait_full(t0, "nva role back to nva")
    wait_for(lambda: bird_prefixes(g("nva")), {"rs1": {VNET, P2, P3}, "rs2": {VNET, P2, P3}}, "nva table (role nva)")
    lost = stop_pings(pingers)
    record(rnd, "d-back", lost, secs, "(NVA role back to nva)")
    assert_no_loss("d-back", lost)


def event_e(rnd):
    pingers = start_pings("eoff{}".format(rnd))
    t0 = time.time()
    between = (lambda: assert_pair_differs("vrf default: branch-to-branch off at rs1, on at rs2")) if rnd == 1 else None
    configure_both("no bgp route-server branch-to-branch", check_between=between)
    STATE["b2b"] = False
    secs = wait_full(t0, "b2b off")
    # the effect: the branch-to-branch paths are cut
    wait_for(lambda: received_prefixes(g("onprem1")), {VNET, P1}, "onprem1 table (b2b off)")
    wait_for(lambda: received_prefixes(g("onprem3")), {VNET, P3}, "onprem3 table (b2b off)")
    time.sleep(0.5)
    lost = stop_pings(pingers)
    record(rnd, "e-off", lost, secs, "(b2b off: the measured paths are cut by design)")
    for stream, (sent, n) in lost.items():
        assert n > 0, "{}: no ping lost with b2b off".format(stream)
    assert_pair_equal()

    pingers = {s: Pinger(s, "eon{}".format(rnd)) for s in PINGS}
    t0 = time.time()
    configure_both("bgp route-server branch-to-branch")
    STATE["b2b"] = True
    secs = wait_full(t0, "b2b on")
    wait_for(lambda: all(p.replies() for p in pingers.values()), True, "pings answered again (b2b on)", count=100)
    t_ping = time.time() - t0
    time.sleep(0.5)
    lost = stop_pings(pingers)
    record(rnd, "e-on", lost, secs, "(b2b on; pings answered again after {:.1f}s)".format(t_ping))


# --- tests ------------------------------------------------------------------------------


def test_both_instances_serve_every_peer():
    wait_full(time.time(), "start", count=600)
    assert_pair_equal()
    # every peer has every route from both instances
    wait_for(lambda: bird_prefixes(g("nva")), {"rs1": {VNET, P2, P3}, "rs2": {VNET, P2, P3}}, "nva (bird) routes")
    for name, want in (("ergw", {VNET, P1, P3}), ("vpngw1", {VNET, P1, P2}), ("vpngw2", {VNET, P1, P2})):
        def from_rs(name=name, want=want):
            out = {}
            for p in want:
                data = vtysh_json(g(name), "show bgp ipv4 unicast {} json".format(p))
                out[p] = sorted(x.get("peer", {}).get("peerId") for x in data.get("paths", [])
                                if x.get("peer", {}).get("peerId") in RS.values())
            return out
        wait_for(from_rs, {p: sorted(RS.values()) for p in want}, name + ": paths from both instances")


def test_route_servers_not_in_data_path():
    """Third-party next hops: the peers forward to each other, not to a
    route server (whose forwarding is off)."""
    wait_for(lambda: "via 10.1.0.20" in g("nva").cmd("ip route show " + P2), True, "nva: On-prem 2 via ergw")
    wait_for(lambda: "via 10.1.0.10" in g("ergw").cmd("ip route show " + P1), True, "ergw: On-prem 1 via nva")
    wait_for(lambda: "via 10.1.0.3" in g("ergw").cmd("ip route show " + P3), True, "ergw: On-prem 3 via a VPN gw")
    wait_for(lambda: "via 10.1.0.20" in g("vpngw1").cmd("ip route show " + P2), True, "vpngw1: On-prem 2 via ergw")
    for rs in RS:
        assert g(rs).cmd("sysctl -n net.ipv4.ip_forward").strip() == "0"
    for stream in PINGS:
        p = Pinger(stream, "check")
        wait_for(lambda: len(p.replies()) >= 5, True, "ping " + stream, count=40)
        sent, n = p.stop()
        assert n == 0, (stream, sent, n)


def test_events():
    for rnd in range(1, ROUNDS + 1):
        for event in (event_a, event_b, event_c, event_d, event_e):
            event(rnd)
            assert_pair_equal()
    report()


def report():
    lines = ["{:<6} {:<7} {:>10} {:>10} {:>10}  {}".format(
        "round", "event", "lost 1->2", "lost 3->2", "full (s)", "")]
    for rnd, event, lost, secs, note in FIGURES:
        lines.append("{:<6} {:<7} {:>10} {:>10} {:>10.1f}  {}".format(
            rnd, event, "{}/{}".format(lost["1->2"][1], lost["1->2"][0]),
            "{}/{}".format(lost["3->2"][1], lost["3->2"][0]), secs, note))
    if ROUNDS > 1:
        lines.append("")
        lines.append("{:<7} {:>8} {:>8} {:>8} {:>10}".format("event", "min", "median", "max", "lost max"))
        for event in dict.fromkeys(f[1] for f in FIGURES):
            rows = [f for f in FIGURES if f[1] == event]
            secs = [f[3] for f in rows]
            lost = max(max(n for _, n in f[2].values()) for f in rows)
            lines.append("{:<7} {:>8.1f} {:>8.1f} {:>8.1f} {:>10}".format(
                event, min(secs), statistics.median(secs), max(secs), lost))
    text = "\n".join(lines)
    logger.info("rs_ha figures (lost/sent per ping stream, seconds until both "
                "instances hold the full table):\n%s", text)
    with open(os.path.join(get_topogen().logdir, "rs_ha_figures.txt"), "w") as f:
        f.write(text + "\n")
    print("\n" + text)


def test_pair_check_reports_differences():
    """A routing preference and a warning on one instance only."""
    assert_pair_equal()
    out = vtysh_config(g("rs2"), "router bgp 65515", "bgp route-server routing-preference as-path")
    assert "%" not in out, out
    assert_pair_differs("vrf default: routing preference expressroute at rs1, as-path at rs2")
    vtysh_config(g("rs2"), "router bgp 65515", "no bgp route-server routing-preference")
    assert_pair_equal()
    # one VPN-role session on rs2 only: rs2 warns (active-active)
    out = vtysh_config(g("rs2"), "router bgp 65515", "no neighbor {} route-server role".format(VPN2))
    assert "active-active" in out, out
    out = assert_pair_differs("neighbor 10.1.0.31: role gateway-vpn at rs1, none at rs2",
                              "warning at rs2 only:")
    assert "active-active" in out, out
    rc, js = pair_check("--json")
    import json
    data = json.loads(js)
    assert rc == 1 and data["equal"] is False and len(data["differences"]) == 2, js
    assert data["instances"]["rs2"]["default"]["warnings"], js
    out = vtysh_config(g("rs2"), "router bgp 65515", "neighbor {} route-server role gateway vpn".format(VPN2))
    assert "%" not in out, out
    assert_pair_equal()
    wait_full(time.time(), "after the pair-check differences")
