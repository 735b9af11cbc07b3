#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""
Graceful restart of the route server (issue 14, part 4).

The route server r1 runs as a packaged FRR does (frrinit.sh, watchfrr,
zebra, mgmtd, staticd, bgpd -M route_server, bfdd). One LAN, eBGP,
branch-to-branch off:

  r1    .1  route server, AS 65515, VNet 10.100.0.0/24 .. 10.100.9.0/24
  nva1  .2  BIRD 2, AS 65001, nva, `graceful restart on`: 10.1.0-19.0/24
  er1   .3  FRR, AS 65020, gateway expressroute, `bgp graceful-restart`:
            10.20.0-19.0/24
  vpn1  .4  ExaBGP monitor, AS 65040, gateway vpn, GR capability
  nva2  .5  ExaBGP monitor, AS 65002, nva, GR capability: 10.2.0-19.0/24

With b2b off: nva1 and nva2 hold the VNet and each other's routes (NVA ->
NVA), er1 and vpn1 the VNet only; ER routes never reach an NVA, NVA routes
never reach a gateway. The monitors are the transient monitor
(rs_isolation/monitor.py): every UPDATE they receive is logged and
checked, so a withheld route sent for a moment (while bgpd comes back and
before its roles are configured, say) is caught: zero leaks, always.

The restart: bgpd SIGKILLed; watchfrr starts it again (an unplanned
restart; the new bgpd reads /etc/frr/frr.conf through vtysh -b). Within
its restart-time after start bgpd sets the R bit and, with
`bgp graceful-restart preserve-fw-state` (F bit; the route server forwards
nothing, the next hops are the peers'), defers best-path selection until
every GR peer sent End-of-RIB, then sends its tables and End-of-RIB.

Counted, per peer, during the restart ("withdraws seen"):
  - the monitors: explicit withdraws, the routes they held when the
    session went down if GR was not negotiated (a non-GR peer drops them
    at once), and with GR the stale routes not refreshed before r1's
    End-of-RIB (what an RFC 4724 helper withdraws);
  - er1 (FRR) and nva1 (BIRD), real helpers: the prefixes missing from
    their tables at any poll (every ~0.1 s) until the tables are back
    and stable; er1's stale paths are counted too; and the prefixes
    BIRD's route trace says nva1 removed. Without GR, r1 (FRR) still
    advertises the GR capability (helper: no address family) and LLGR
    for IPv4 unicast with stale time 0; BIRD, LLGR-aware, then keeps the
    routes stale while r1 is down and flushes them the moment the new
    session is up, milliseconds before r1 sends them again: only the
    trace sees that.
Done with GR (r1: bgp graceful-restart + preserve-fw-state) and without
(FRR's default, helper only: r1 advertises no address family for GR), the
second after `write memory` and an unmeasured restart that renegotiates
the sessions. Asserted: with GR no withdraw at any peer and er1 held the
routes as stale, without GR every peer lost every route (the storm); both:
the final tables equal the ones before, no stale path left, zero leaks,
roles and flags as configured. Prints a table. Takes about 1 min (plain
and ASan builds).
"""

import os
import re
import sys
import time

import pytest

CWD = os.path.dirname(os.path.abspath(__file__))
sys.path.append(os.path.join(CWD, ".."))
sys.path.append(os.path.join(CWD, "../.."))
sys.path.append(os.path.join(CWD, "../rs_restart"))

from lib.topogen import TopoRouter  # noqa: E402
from lib.topolog import logger  # noqa: E402
from rslib import (  # noqa: E402
    all_established,
    rs_json,
    running_config,
    start_lan_topology,
    vtysh_config,
    vtysh_json,
    wait_for,
)
import rsbird  # noqa: E402
from halib import (  # noqa: E402
    ADDR,
    ASN,
    ROLES,
    daemon_pid,
    frrinit,
    g,
    make_out,
    Monitor,
    require_tools,
    set_addresses,
    start_frr_service,
    teardown_ha,
)

pytestmark = [pytest.mark.bgpd]

N = 20
NETS = {"nva1": ["10.1.{}.0/24".format(i) for i in range(N)],
        "er1": ["10.20.{}.0/24".format(i) for i in range(N)],
        "nva2": ["10.2.{}.0/24".format(i) for i in range(N)],
        "vpn1": []}
VNET = ["10.100.{}.0/24".format(i) for i in range(10)]
PEERS = ("nva1", "er1", "vpn1", "nva2")
MONITOR_NAMES = ("vpn1", "nva2")
FIGURES = {}
# BIRD's route trace: "routeserver.ipv4 > removed [sole] 10.100.0.0/24 unicast"
REMOVED = re.compile(r"routeserver\S* > removed \S+ (\d+\.\d+\.\d+\.\d+/\d+)")

GR_LINES = (" bgp graceful-restart\n bgp graceful-restart preserve-fw-state\n"
            " bgp graceful-restart select-defer-time 30\n")

RS_CONF = """\
frr defaults traditional
hostname r1
log file {log} informational
log timestamp precision 6
interface r1-eth0
 ip address 192.168.1.1/24
exit
router bgp 65515
 bgp router-id 192.168.1.1
 bgp log-neighbor-changes
 no bgp ebgp-requires-policy
 no bgp network import-check
{gr}\
{neighbors}\
 address-family ipv4 unicast
{vnet}\
 exit-address-family
exit
"""

ER_CONF = """\
frr defaults traditional
hostname er1
interface er1-eth0
 ip address 192.168.1.3/24
exit
router bgp 65020
 bgp router-id 192.168.1.3
 no bgp ebgp-requires-policy
 no bgp network import-check
 bgp graceful-restart
 neighbor 192.168.1.1 remote-as 65515
 neighbor 192.168.1.1 timers connect 1
 address-family ipv4 unicast
{networks}\
 exit-address-family
exit
"""

BIRD_CONF = """\
router id 192.168.1.2;
log "{log}" all;
protocol device {{
  scan time 1;
}}
protocol static nets {{
  ipv4;
{routes}}}
protocol bgp routeserver {{
  local 192.168.1.2 as 65001;
  neighbor 192.168.1.1 as 65515;
  connect delay time 1;
  connect retry time 1;
  error wait time 1, 2;
  graceful restart on;
  debug {{ states, events, routes }};
  ipv4 {{
    import all;
    export where proto = "nets";
  }};
}}
"""


out = make_out("gr")


def rs_conf():
    lines = []
    for p in PEERS:
        a = ADDR[p]
        lines += [" neighbor {} remote-as {}".format(a, ASN[p]),
                  " neighbor {} timers connect 1".format(a),
                  " neighbor {} route-server role {}".format(a, ROLES[p])]
    return RS_CONF.format(log=os.path.join(g("r1").gearlogdir, "frr.log"), gr=GR_LINES,
                          neighbors="\n".join(lines) + "\n",
                          vnet="".join("  network {}\n".format(n) for n in VNET))


MONITORS = {n: Monitor(n, ADDR[n], ASN[n], routes=NETS[n], gr=True) for n in MONITOR_NAMES}


def setup_module(mod):
    require_tools()
    tgen = start_lan_topology(mod, ["r1"] + list(PEERS))
    path = os.path.join(tgen.logdir, "er1-frr.conf")
    with open(path, "w") as f:
        f.write(ER_CONF.format(networks="".join("  network {}\n".format(n) for n in NETS["er1"])))
    tgen.gears["er1"].load_frr_config(path, [(TopoRouter.RD_ZEBRA, ""), (TopoRouter.RD_BGP, "")])
    tgen.start_router()
    set_addresses(tgen, ("nva1", "vpn1", "nva2"), ADDR)
    nva1 = tgen.gears["nva1"]
    rsbird.start_bird(nva1, BIRD_CONF.format(
        log=os.path.join(nva1.gearlogdir, "bird.log"),
        routes="".join("  route {} blackhole;\n".format(n) for n in NETS["nva1"])))
    for name, m in MONITORS.items():
        m.start(tgen.gears[name])
    start_frr_service(tgen.gears["r1"], rs_conf())


def teardown_module(mod):
    teardown_ha(MONITORS)


# --- what each peer should hold, and holds ------------------------------------


def allowed(dst):
    """Prefixes the policy (b2b off) gives dst: the VNet, and NVA -> NVA."""
    res = set(VNET)
    if ROLES[dst] == "nva":
        for src in PEERS:
            if src != dst and ROLES[src] == "nva":
                res |= set(NETS[src])
    return res


def expected(peer):
    """What peer's table holds: allowed(peer), and for a monitor its own
    routes too (r1 sends a peer's routes back to it, as bgpd does for
    eBGP; BIRD and FRR drop them for the AS loop, ExaBGP keeps them)."""
    return allowed(peer) | (set(NETS[peer]) if peer in MONITORS else set())


def er1_table():
    """(prefixes er1 received from r1, how many of its paths are stale)."""
    data = vtysh_json(g("er1"), "show bgp ipv4 unicast json")
    got, stale = set(), 0
    for p, paths in data.get("routes", {}).items():
        for path in paths:
            if path.get("peerId") == ADDR["r1"]:
                got.add(p)
                stale += bool(path.get("stale"))
    return got, stale


def tables():
    res = {"er1": er1_table()[0], "nva1": rsbird.prefixes(g("nva1"), "routeserver")}
    for n, m in MONITORS.items():
        m.poll()
        res[n] = set(m.rib)
    return res


def expected_tables():
    return {p: expected(p) for p in PEERS}


def leaks():
    """Prefixes ever sent to a monitor, or now in a helper's table, that
    the policy withholds from it."""
    res = {}
    for n, m in MONITORS.items():
        res[n] = sorted(m.announced() - expected(n))
    t = tables()
    for n in ("er1", "nva1"):
        res[n] = sorted(t[n] - allowed(n))
    return res


def no_leaks():
    return {p: [] for p in PEERS}


def converged():
    rs = g("r1")
    if not all_established(rs, [ADDR[p] for p in PEERS]):
        return "sessions"
    if tables() != expected_tables():
        return "tables"
    if er1_table()[1]:
        return "er1 has stale paths"
    return "ok"


def wait_converged(what):
    try:
        wait_for(converged, "ok", what, count=300, wait=0.2)
    except AssertionError as err:
        t, e = tables(), expected_tables()
        diff = {p: {"missing": sorted(e[p] - t[p]), "extra": sorted(t[p] - e[p])} for p in PEERS}
        raise AssertionError("{}; tables vs expected: {}\n{}".format(
            err, diff, g("r1").vtysh_cmd("show bgp ipv4 unicast summary"))) from None


def check_rs_config(gr):
    data = rs_json(g("r1"))
    assert data["branchToBranch"] is False
    assert {n: v["role"] for n, v in data["neighbors"].items()} == {
        ADDR[p]: ROLES[p].replace(" ", "-") for p in PEERS}
    conf = running_config(g("r1"))
    assert (" bgp graceful-restart\n" in conf) is gr, conf


# --- the restart ---------------------------------------------------------------


def modelled_withdraws(m, events, rib, gr):
    """Withdraws an RFC 4724 helper with monitor m's messages would have
    made (see the module's docstring): (count, prefixes)."""
    rib, stale, lost, count = set(rib), set(), set(), 0
    for _, kind, data in events:
        if kind == "state" and data in ("down", "down notification"):
            if gr and data == "down":
                stale |= rib
            else:
                count += len(rib)
                lost |= rib
                rib = set()
        elif kind == "announce":
            rib.add(data)
            stale.discard(data)
        elif kind == "withdraw" and data in rib:
            count += 1
            lost.add(data)
            rib.discard(data)
            stale.discard(data)
        elif kind == "eor":
            count += len(stale)
            lost |= stale
            rib -= stale
            stale = set()
    return count, lost


def bird_removed(path, offset):
    """Prefixes BIRD's route trace says nva1 removed from its table since
    offset: a stale route flushed when the session comes back is removed
    and learnt again within milliseconds, too fast for any poll."""
    with open(path, errors="replace") as f:
        f.seek(offset)
        return {m.group(1) for m in REMOVED.finditer(f.read())}


def restart(gr, label, how="kill"):
    """SIGKILL r1's bgpd (how="kill", watchfrr restarts it) or restart
    the whole FRR service (how="frrinit": frrinit.sh restart, SIGTERM to
    every daemon, bgpd sends a Cease NOTIFICATION), and follow the peers
    until everything is back."""
    rs = g("r1")
    wait_converged("converged before the restart")
    before = tables()
    assert before == expected_tables()
    assert leaks() == no_leaks()
    marks = {}
    for n, m in MONITORS.items():
        m.poll()
        marks[n] = (len(m.events), set(m.rib))
    bird_log = os.path.join(g("nva1").gearlogdir, "bird.log")
    bird_mark = os.path.getsize(bird_log)
    old = daemon_pid(rs, "bgpd")
    assert old
    t0 = time.time()
    if how == "kill":
        rs.cmd_raises("kill -9 {}".format(old))
    else:
        rs.cmd_raises("{} restart >>{}/frrinit.out 2>&1 &".format(frrinit(rs), rs.gearlogdir))
    missing = {"er1": set(), "nva1": set()}
    stale_max = 0
    t_new = t_est = t_back = None
    stable_since = None
    deadline = t0 + 180
    while time.time() < deadline:
        er, stale = er1_table()
        stale_max = max(stale_max, stale)
        missing["er1"] |= allowed("er1") - er
        missing["nva1"] |= allowed("nva1") - rsbird.prefixes(g("nva1"), "routeserver")
        now_ = time.time()
        if t_new is None:
            pid = daemon_pid(rs, "bgpd")
            if pid not in (None, old):
                t_new = now_
        elif t_est is None:
            if all_established(rs, [ADDR[p] for p in PEERS]):
                t_est = now_
        else:
            ok = converged() == "ok"
            if ok and t_back is None:
                t_back = now_
            if ok:
                stable_since = stable_since or now_
                if now_ - stable_since >= 3:
                    break
            else:
                stable_since = None
        time.sleep(0.05)
    assert t_back and stable_since, "r1 back after the restart: {} (t_new {}, t_est {})".format(
        converged(), t_new, t_est)
    res = {"new bgpd": t_new - t0, "established": t_est - t0, "converged": t_back - t0,
           "er1 stale max": stale_max}
    for n, m in MONITORS.items():
        m.poll()
        count, lost = modelled_withdraws(m, m.events[marks[n][0]:], marks[n][1], gr)
        res[n] = count
        res[n + " eor"] = sum(1 for e in m.events[marks[n][0]:] if e[1] == "eor")
        res[n + " downs"] = sum(1 for e in m.events[marks[n][0]:] if e[1] == "state" and
                                e[2].startswith("down"))
    res["er1"] = len(missing["er1"])
    res["nva1"] = len(missing["nva1"] | bird_removed(bird_log, bird_mark))
    FIGURES[label] = res
    logger.info("restart %s: %s", label, res)
    assert tables() == before
    assert leaks() == no_leaks()
    return res


def print_table():
    out("withdraws seen by each peer during a restart of r1 (kill: SIGKILL of bgpd, "
        "watchfrr restarts it; frrinit: frrinit.sh restart); routes held before: %s",
        {p: len(expected(p)) for p in PEERS})
    out("%-14s %6s %6s %6s %6s %12s %10s %10s %10s", "r1 GR, how", "er1", "nva1", "vpn1", "nva2",
        "er1 stale", "new bgpd", "sessions", "converged")
    for label, r in FIGURES.items():
        out("%-14s %6d %6d %6d %6d %12d %9.1fs %9.1fs %9.1fs", label, r["er1"], r["nva1"],
            r["vpn1"], r["nva2"], r["er1 stale max"], r["new bgpd"], r["established"],
            r["converged"])


# --- tests ---------------------------------------------------------------------


def test_converged_policy():
    wait_converged("initial convergence")
    assert leaks() == no_leaks()
    check_rs_config(True)
    # GR negotiated with every peer, r1 preserving forwarding state
    data = vtysh_json(g("r1"), "show bgp neighbors graceful-restart json")
    for p in PEERS:
        nbr = data.get(ADDR[p], {})
        assert nbr.get("localGrMode", "").rstrip("*") == "Restart", (p, nbr)  # *: inherited
        assert nbr.get("remoteGrMode") in ("Restart", "Helper"), (p, nbr)


def test_restart_with_gr():
    res = restart(True, "on, kill")
    # no withdraw anywhere; er1 held r1's routes as stale meanwhile
    for p in PEERS:
        assert res[p] == 0, (p, res)
    assert res["er1 stale max"] == len(allowed("er1")), res
    # the monitors' sessions went down once and got r1's End-of-RIB
    for n in MONITOR_NAMES:
        assert res[n + " downs"] >= 1 and res[n + " eor"] >= 1, res
    check_rs_config(True)


def test_clean_restart_with_gr():
    """frrinit.sh restart: every daemon stopped (SIGTERM) and started
    again. A Cease NOTIFICATION would end GR at a helper without the N bit
    (RFC 8538; BIRD and ExaBGP here have none), but bgpd sends none on
    SIGTERM to GR-capable peers (bgp_terminate): it closes the TCP
    connections, so the helpers keep the routes as for a crash."""
    res = restart(True, "on, frrinit", how="frrinit")
    for p in PEERS:
        assert res[p] == 0, (p, res)
    assert res["er1 stale max"] == len(allowed("er1")), res
    check_rs_config(True)


def test_restart_without_gr():
    rs = g("r1")
    out_ = vtysh_config(rs, "router bgp 65515", "no bgp graceful-restart preserve-fw-state",
                        "no bgp graceful-restart")
    assert "%" not in out_.replace("% Graceful restart", ""), out_
    rs.vtysh_cmd("write memory")
    # the sessions still have GR from before: restart once to renegotiate
    restart(True, "switch")
    FIGURES.pop("switch")
    data = vtysh_json(rs, "show bgp neighbors graceful-restart json")
    for p in PEERS:
        mode = data.get(ADDR[p], {}).get("localGrMode", "")
        assert mode.rstrip("*") == "Helper", (p, data.get(ADDR[p]))
    res = restart(False, "off, kill")
    # every peer lost every route r1 had sent it (and got them back)
    for p in PEERS:
        assert res[p] == len(expected(p)), (p, res)
    check_rs_config(False)
    print_table()
