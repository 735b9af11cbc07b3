#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""
Isolation at every moment, at scale (design/semantics.md, "Isolation at
every moment"): a path the policy withholds from a neighbor before and
after a change is never sent to it while the change happens. Monitor peers
record EVERY UPDATE they receive, not only their final tables, so a path
sent for a moment and withdrawn again is caught.

All on one LAN, eBGP everywhere (distinct ASNs, so without the module's
policy every peer would receive every other peer's routes):

  r1    192.168.1.1   FRR bgpd -M route_server, AS 65515, b2b off, bgp no-rib;
                      originates the VNet prefix 10.100.0.0/16
  gw1   192.168.1.2   BIRD 2, AS 65020, gateway expressroute: the injector
                      (300,000 static /24s, or 20,000 in the smaller tests)
  gw2   192.168.1.3   ExaBGP monitor, AS 65021, gateway expressroute
  vpn1  192.168.1.4   ExaBGP monitor, AS 65040, gateway vpn
  nva1  192.168.1.5   ExaBGP monitor, AS 65001, nva
  nva2  192.168.1.6   ExaBGP, AS 65002, nva: announces 10.200.0.0/24
  x1    192.168.1.7   ExaBGP, AS 65099, no role (toggled to nva and back to
                      force table walks): announces 10.201.0.0/24; r1 sends
                      it only 10/8 (prefix-list), it is no monitor
  dyn   192.168.1.70  BIRD 2, AS 65030: a dynamic neighbor (bgp listen range
                      192.168.1.64/27, peer-group DYN, role gateway
                      expressroute inherited from DYN)

With b2b off, ExpressRoute routes go to no monitor (ER->ER never, ER->VPN
and ER->NVA only with b2b). The monitors are ExaBGP with an API process
(monitor.py) that appends each message as a raw JSON line to a file; the
test parses the files afterwards. Positive controls prove the monitors
work: every monitor holds the VNet prefix and x1's (role-less, so native:
a route from this LAN that the module does not touch reaches them all),
nva1 holds nva2's (NVA->NVA), gw2 and vpn1 do not (NVA->gateway is b2b).

Each test makes one change while gw1 (or dyn) holds its table in r1, and
forces table walks: x1's role toggled nva / none (the module re-walks the
table for every established peer, 100 ms later) and `clear bgp ipv4
unicast * soft out`, in the same vtysh call as the change, then again
every 0.25 s until bgpd has cleared the paths (300,000 take about a second
here). Then it waits until r1's table no longer holds the injector's
prefixes, until every monitor has received every UPDATE r1 sent it (r1's
updatesSent == the monitor's UPDATE count, out queue empty), and counts
the injector's prefixes in what each monitor received during the test:
zero is the only pass (the b2b test expects all of them at vpn1 and nva1).
No monitor session may reset meanwhile. The 300k tests also require that
at least one walk was asked for while r1 still held the paths.

Tests (each prints "isolation ...: prefixes checked N x 3 monitors, leaked
gw2=.. vpn1=.. nva1=.."): `no neighbor` with 300k paths; a dynamic
neighbor with 300k paths drops (bgpd deletes it); with 20k: shutdown and
no shutdown, session drop (SIGKILL), role ER -> VPN -> ER, b2b on / off
(ER->ER never), peer-group join / leave (leave deletes the neighbor in
FRR 10.3), peer-group role ER -> VPN -> ER with a dynamic member; and
changes of the whole configuration: bgpd killed (SIGKILL) and started
again with its saved configuration (`write memory`, `vtysh -b -d bgpd`),
`no router bgp` and the instance re-created from the saved file (`vtysh
-d bgpd -f`), frr-reload.py --reload of a file where gw1 is gateway vpn
(plus unrelated changes) and back. The first two close the monitors'
sessions: the count covers every session, each monitor must have gone
down and come back with its controls, and r1 must hold gw1's table again.

  RS_ISOLATION_PREFIXES=N   size of the large tables (default 300000)
  RS_ISOLATION_SMALL=N      size in the smaller tests (default 20000)
"""

import datetime
import json
import os
import re
import sys
import time

import pytest

CWD = os.path.dirname(os.path.abspath(__file__))
sys.path.append(os.path.join(CWD, ".."))
sys.path.append(os.path.join(CWD, "../.."))
sys.path.append(os.path.join(CWD, "../rs_restart"))

from lib.topogen import get_topogen  # noqa: E402
from lib import topotest  # noqa: E402
from lib.topolog import logger  # noqa: E402
from rslib import (  # noqa: E402
    load_rs_config,
    start_lan_topology,
    configure,
    established_counters,
    have,
    rs_json,
    vtysh_config,
    vtysh_json,
    wait_for,
)
import rsbird  # noqa: E402

pytestmark = [pytest.mark.bgpd]

N_BIG = int(os.environ.get("RS_ISOLATION_PREFIXES", "300000"))
N_SMALL = int(os.environ.get("RS_ISOLATION_SMALL", "20000"))

RS_AS = 65515
GW1, GW2, VPN1, NVA1, NVA2, X1, DYN = (
    "192.168.1.2", "192.168.1.3", "192.168.1.4", "192.168.1.5",
    "192.168.1.6", "192.168.1.7", "192.168.1.70")
ADDR = {"gw1": GW1, "gw2": GW2, "vpn1": VPN1, "nva1": NVA1, "nva2": NVA2,
        "x1": X1, "dyn": DYN}
ASN = {"gw1": 65020, "gw2": 65021, "vpn1": 65040, "nva1": 65001,
       "nva2": 65002, "x1": 65099, "dyn": 65030}
VNET, NVA2_NET, X1_NET = "10.100.0.0/16", "10.200.0.0/24", "10.201.0.0/24"
CONTROLS = {VNET, NVA2_NET, X1_NET}
MONITOR_NAMES = ("gw2", "vpn1", "nva1")
EXABGP = "/usr/sbin/exabgp"

# forced walks: at least MIN_WALKS, and more until r1's table is clean
WALK_GAP = 0.25  # s from walk to walk (> the module's 100 ms debounce)
MIN_WALKS, MAX_WALKS = 4, 80
POLL = 0.2
LOAD_POLLS = int(300 / POLL)  # up to 5 min to load a table
DRAIN_POLLS = int(300 / POLL)  # up to 5 min for a monitor to drain a leak

RS_CONF = """\
hostname r1
interface r1-eth0
 ip address 192.168.1.1/24
!
bgp no-rib
!
ip prefix-list CTRL seq 5 permit 10.0.0.0/8 le 32
!
router bgp 65515
 bgp router-id 192.168.1.1
 no bgp ebgp-requires-policy
 no bgp network import-check
 neighbor DYN peer-group
 neighbor DYN remote-as 65030
 neighbor DYN route-server role gateway expressroute
 bgp listen range 192.168.1.64/27 peer-group DYN
 neighbor PGV peer-group
 neighbor PGV route-server role gateway vpn
{neighbors}\
 address-family ipv4 unicast
  network {vnet}
  neighbor PGV activate
  neighbor {x1} prefix-list CTRL out
 exit-address-family
!
"""

ROLES = {"gw1": "gateway expressroute", "gw2": "gateway expressroute",
         "vpn1": "gateway vpn", "nva1": "nva", "nva2": "nva", "x1": None}


def gw1_lines():
    return ["neighbor {} remote-as {}".format(GW1, ASN["gw1"]),
            "neighbor {} timers connect 2".format(GW1),
            "neighbor {} route-server role {}".format(GW1, ROLES["gw1"])]


def rs_conf():
    lines = []
    for name in ("gw1", "gw2", "vpn1", "nva1", "nva2", "x1"):
        lines.append(" neighbor {} remote-as {}\n".format(ADDR[name], ASN[name]))
        lines.append(" neighbor {} timers connect 2\n".format(ADDR[name]))
        if ROLES[name]:
            lines.append(" neighbor {} route-server role {}\n".format(ADDR[name], ROLES[name]))
    return RS_CONF.format(neighbors="".join(lines), vnet=VNET, x1=X1)


BIRD_CONF = """\
router id {addr};
log "{log}" {{ warning, error, fatal }};
protocol device {{
}}
protocol static injected {{
  ipv4;
{routes}}}
protocol bgp routeserver {{
  local {addr} as {asn};
  neighbor 192.168.1.1 as 65515;
  connect delay time 1;
  connect retry time 2;
  error wait time 1, 5;
  ipv4 {{
    import none;
    export where proto = "injected";
  }};
}}
"""


def space(base, n):
    """n /24s from base.0.0.0: base.0.0.0/24, base.0.1.0/24, ..."""
    return ["{}.{}.{}.0/24".format(base + (i >> 16), (i >> 8) & 255, i & 255) for i in range(n)]


EXA_ENV = ("exabgp.daemon.user=root", "exabgp.daemon.drop=false", "exabgp.api.cli=false",
           "exabgp.api.ack=false", "exabgp.log.level=WARNING")


class Exa:
    """An ExaBGP peer of r1; a monitor (monitor.py appends every message
    to updates.jsonl) or a speaker announcing static routes."""

    def __init__(self, name, routes=(), monitor=False):
        self.name, self.addr, self.asn = name, ADDR[name], ASN[name]
        self.routes, self.monitor = list(routes), monitor
        self.router = None
        self.pos, self.buf = 0, b""
        self.rib, self.updates, self.eors, self.states = set(), 0, 0, []
        # UPDATEs of the current session (r1's updatesSent counts those)
        self.session_updates = 0
        self.window, self.window_withdrawn, self.window_states = set(), 0, []

    def path(self, fname):
        return os.path.join(self.router.gearlogdir, fname)

    def config(self):
        lines = []
        if self.monitor:
            lines += ["process monitor {",
                      "  run /usr/bin/python3 {} {};".format(
                          os.path.join(CWD, "monitor.py"), self.path("updates.jsonl")),
                      "  encoder json;", "}"]
        lines += ["neighbor 192.168.1.1 {",
                  "  router-id {};".format(self.addr),
                  "  local-address {};".format(self.addr),
                  "  local-as {};".format(self.asn),
                  "  peer-as {};".format(RS_AS),
                  "  family { ipv4 unicast; }"]
        if self.monitor:
            lines.append("  api { processes [ monitor ]; neighbor-changes; receive { parsed; update; } }")
        if self.routes:
            lines.append("  static {")
            lines += ["    route {} next-hop self;".format(r) for r in self.routes]
            lines.append("  }")
        lines.append("}")
        return "\n".join(lines) + "\n"

    def start(self, router):
        self.router = router
        conf = self.path("exabgp.conf")
        with open(conf, "w") as f:
            f.write(self.config())
        # Listening too (tcp.bind), so r1 connects at once.
        env = EXA_ENV + ("exabgp.tcp.bind=" + self.addr,)
        router.cmd_raises("env {} {} {} </dev/null >>{} 2>&1 & echo $! >{}".format(
            " ".join(env), EXABGP, conf, self.path("exabgp.log"), self.path("exabgp.pid")))

    def stop(self):
        if self.router:
            self.router.cmd("kill $(cat {}) 2>/dev/null".format(self.path("exabgp.pid")))

    # --- the monitor's log ---

    def poll(self):
        """Parse the lines appended since the last poll."""
        try:
            with open(self.path("updates.jsonl"), "rb") as f:
                f.seek(self.pos)
                data = f.read()
        except FileNotFoundError:
            return
        self.pos += len(data)
        lines = (self.buf + data).split(b"\n")
        self.buf = lines.pop()
        for line in lines:
            self.handle(line)

    def handle(self, line):
        try:
            msg = json.loads(line)
        except ValueError:
            return
        nbr = msg.get("neighbor", {})
        if msg.get("type") == "state":
            self.states.append(nbr.get("state"))
            self.window_states.append(nbr.get("state"))
            if nbr.get("state") != "up":
                self.rib.clear()
            else:
                self.session_updates = 0
            return
        if msg.get("type") != "update":
            return
        self.updates += 1
        self.session_updates += 1
        message = nbr.get("message", {})
        if "eor" in message:
            self.eors += 1
            return
        update = message.get("update", {})
        for n in update.get("withdraw", {}).get("ipv4 unicast", []) or []:
            p = n["nlri"] if isinstance(n, dict) else n
            self.rib.discard(p)
            self.window_withdrawn += 1
        for per_nh in (update.get("announce", {}).get("ipv4 unicast", {}) or {}).values():
            for n in per_nh:
                p = n["nlri"] if isinstance(n, dict) else n
                self.rib.add(p)
                self.window.add(p)

    def mark(self):
        """Start a new counting window."""
        self.poll()
        self.window, self.window_withdrawn, self.window_states = set(), 0, []


MONITORS = {n: Exa(n, monitor=True) for n in MONITOR_NAMES}
SPEAKERS = {"nva2": Exa("nva2", [NVA2_NET]), "x1": Exa("x1", [X1_NET])}
STATE = {}


def setup_module(mod):
    rsbird.require_bird()
    if not have(EXABGP):
        pytest.fail("needs ExaBGP from Debian (package exabgp)", pytrace=False)

    tgen = start_lan_topology(mod, ("r1",) + tuple(ADDR))
    load_rs_config(tgen, rs_conf())
    tgen.start_router()
    for name, addr in ADDR.items():
        tgen.gears[name].cmd_raises("ip link set lo up; ip link set {0}-eth0 up; "
                                    "ip addr add {1}/24 dev {0}-eth0".format(name, addr))
    for name, exa in list(MONITORS.items()) + list(SPEAKERS.items()):
        exa.start(tgen.gears[name])


def teardown_module(mod):
    tgen = get_topogen()
    for exa in list(MONITORS.values()) + list(SPEAKERS.values()):
        exa.stop()
    for name in ("gw1", "dyn"):
        rsbird.stop_bird(tgen.gears[name])
    tgen.stop_topology()


def g(name):
    return get_topogen().gears[name]


def out(msg, *args):
    text = msg % args if args else msg
    logger.info("isolation: %s", text)
    print("\nisolation: " + text, flush=True)


# --- r1's view ---------------------------------------------------------------


def summary():
    return vtysh_json(g("r1"), "show bgp ipv4 unicast summary json")


def pfx_rcd(addr):
    return summary().get("peers", {}).get(addr, {}).get("pfxRcd", -1)


def rib_count():
    return summary().get("ribCount", -1)


def monitor_stats():
    data = vtysh_json(g("r1"), "show bgp neighbors json")
    res = {}
    for name in MONITOR_NAMES:
        v = data.get(ADDR[name], {})
        st = v.get("messageStats", {})
        res[name] = (v.get("bgpState"), st.get("updatesSent", -1), st.get("depthOutq", -1))
    return res


def monitor_counters():
    c = established_counters(g("r1"))
    return {n: c.get(ADDR[n]) for n in MONITOR_NAMES}


def reevals():
    # 'show bgp route-server json' walks the table: not in the timed window
    return rs_json(g("r1")).get("reevaluations", -1)


# --- injectors ---------------------------------------------------------------


def start_injector(name, prefixes):
    """(Re)start BIRD on gw1 or dyn announcing prefixes."""
    router = g(name)
    rsbird.stop_bird(router)
    router.cmd("sleep 0.2")
    routes = "".join("  route {} blackhole;\n".format(p) for p in prefixes)
    rsbird.start_bird(router, BIRD_CONF.format(
        addr=ADDR[name], asn=ASN[name], routes=routes,
        log=os.path.join(router.gearlogdir, "bird.log")))


def kill_injector(name):
    """SIGKILL: the session drops without a NOTIFICATION (TCP FIN)."""
    pidfile = os.path.join(g(name).gearlogdir, "bird.pid")
    g(name).cmd("kill -9 $(cat {0}) 2>/dev/null; rm -f {0}".format(pidfile))


def load(name, n):
    """Wait until r1 holds the n prefixes of the injector."""
    t0 = time.time()
    ok, got = topotest.run_and_expect(lambda: pfx_rcd(ADDR[name]), n, count=LOAD_POLLS, wait=POLL)
    assert ok, "r1 receives the {} prefixes of {}: last got {}; r1's neighbor: {}".format(
        n, name, got, g("r1").vtysh_cmd("show bgp neighbors {}".format(ADDR[name])))
    return time.time() - t0


# --- the checks --------------------------------------------------------------


def controls_ok():
    """Monitors' current tables hold the positive controls and none of
    the controls the matrix withholds from them."""
    res = {}
    for name, m in MONITORS.items():
        m.poll()
        want = {VNET, X1_NET} | ({NVA2_NET} if name == "nva1" else set())
        res[name] = (want <= m.rib) and (name == "nva1" or NVA2_NET not in m.rib)
    return res


def wait_controls():
    wait_for(controls_ok, {n: True for n in MONITOR_NAMES},
             "monitors hold the positive controls (VNet, x1's; nva1: nva2's)", count=150)


def forced_walks(cleared, first=None, change=None, toggle=True, gap=WALK_GAP):
    """Walks of the whole table for every peer: x1's role toggled
    nva / none (the module re-evaluates every established peer, 100 ms
    later) and a soft clear out of all peers, every gap s, at least
    MIN_WALKS times and until cleared() holds. first: config lines applied
    in the same vtysh call as the first walk (the change under test);
    change: a function making the change, called right before the first
    walk. toggle=False: the soft clear out only, from enable mode, for a
    change that holds the configuration meanwhile (frr-reload.py; x1's
    role would also be in its diff). gap: seconds from walk to walk.
    STATE["walks during"] counts the walks asked for while r1 held
    injector paths (its RIB count, read in the same vtysh call, above the
    baseline)."""
    r1 = g("r1")
    ev0 = reevals()
    t0 = time.time()
    if change:
        change()
    walks = during = 0
    done = False
    while walks < MIN_WALKS or (not done and walks < MAX_WALKS):
        tw = time.time()
        if toggle:
            role = "neighbor {} route-server role nva".format(X1) if walks % 2 == 0 else \
                "no neighbor {} route-server role".format(X1)
            # the RIB count is read after the change, right before the walk
            lines = (list(first) if first and walks == 0 else []) + [
                "do show bgp ipv4 unicast summary json", role, "do clear bgp ipv4 unicast * soft out"]
            out_ = configure(r1, *lines)
        else:
            lines = ["show bgp ipv4 unicast summary json", "clear bgp ipv4 unicast * soft out"]
            out_ = r1.cmd("vtysh {} 2>&1".format(" ".join("-c '{}'".format(l) for l in lines)))
        try:
            start = out_.index("{")
            summ, end = json.JSONDecoder().raw_decode(out_[start:])
        except ValueError as err:
            raise AssertionError("r1: {}: {!r}".format(lines, out_)) from err
        # b2b on with one VPN gateway only: the active-active warning
        text = (out_[:start] + out_[start + end:]).replace("% Warning: branch-to-branch", "")
        assert "%" not in text, out_
        walks += 1
        during += summ.get("ribCount", 0) > STATE["rib baseline"]
        time.sleep(max(0.0, tw + gap - time.time()))
        done = cleared()
    if toggle and walks % 2:
        configure(r1, "no neighbor {} route-server role".format(X1))
        walks += 1
    if ev0 >= 0:
        if toggle:
            wait_for(lambda: reevals() >= ev0 + 1, True, "the module re-evaluated", count=50)
        STATE["reevaluations"] = STATE.get("reevaluations", 0) + reevals() - ev0
    STATE["walks during"] = STATE.get("walks during", 0) + during
    return walks, t0


def drain():
    """Wait until every monitor received every UPDATE r1 sent it (in
    their current sessions: r1's counters start again with a session)."""
    t0 = time.time()
    last = {}

    def done():
        stats = monitor_stats()
        ok = True
        for name, m in MONITORS.items():
            m.poll()
            state, sent, outq = stats[name]
            last[name] = (state, sent, outq, m.session_updates)
            ok &= state == "Established" and outq == 0 and m.session_updates >= sent
        return ok

    wait_for(done, True, "monitors drained (r1 updatesSent == monitor's UPDATEs)",
             count=DRAIN_POLLS, wait=POLL)
    return time.time() - t0, last


def mark_all():
    for m in MONITORS.values():
        m.mark()
    STATE["reevaluations"] = STATE["walks during"] = 0


def leaks(prefixes):
    pset = set(prefixes)
    return {n: len(m.window & pset) for n, m in MONITORS.items()}


def report(what, prefixes, leaked, extra=""):
    out("%s: prefixes checked %d x %d monitors, leaked %s%s", what, len(prefixes), len(MONITORS),
        " ".join("{}={}".format(n, leaked[n]) for n in MONITOR_NAMES), extra)


def finish(what, prefixes, counters_before, walks, cleared_after, expect=None,
           after="r1 clean", note=""):
    """Drain, count, report, assert. expect: monitor -> count that must
    be received (b2b test); every other monitor must get zero.
    counters_before None: the change closes the monitors' sessions
    (restart, instance deletion); each must have gone down and come back,
    and the count covers what they received in every session."""
    d, last = drain()
    leaked = leaks(prefixes)
    extra = "; {} forced walks ({} asked for while r1 held injector paths; {} module re-evaluations), {} {:.1f}s after the change, drained in {:.1f}s (r1 sent/monitor got UPDATEs: {})".format(
        walks, STATE["walks during"], STATE["reevaluations"], after, cleared_after, d, " ".join("{}={}/{}".format(n, last[n][1], last[n][3]) for n in MONITOR_NAMES))
    if note:
        extra += "; " + note
    if counters_before is None:
        extra += "; monitor sessions: {}".format(" ".join(
            "{}={}".format(n, "/".join(m.window_states)) for n, m in MONITORS.items()))
    report(what, prefixes, leaked, extra)
    wait_controls()
    if counters_before is None:
        for n, m in MONITORS.items():
            st = m.window_states
            assert "down" in st and "up" in st[st.index("down"):], \
                "{}: {} did not reconnect: sessions {}".format(what, n, st)
    else:
        assert monitor_counters() == counters_before, "a monitor session was reset"
    want = {n: 0 for n in MONITOR_NAMES}
    want.update(expect or {})
    assert leaked == want, "{}: monitors received withheld prefixes: {} (expected {})".format(what, leaked, want)


# --- tests -------------------------------------------------------------------


def test_monitors_up_with_controls():
    t0 = time.time()

    def up():
        return {n: s[0] for n, s in monitor_stats().items()}

    wait_for(up, {n: "Established" for n in MONITOR_NAMES}, "monitor sessions established", count=150)
    wait_controls()
    wait_for(lambda: {a: pfx_rcd(a) for a in (NVA2, X1)}, {NVA2: 1, X1: 1}, "nva2 and x1 announce", count=100)
    STATE["rib baseline"] = rib_count()
    # ribCount counts the table's nodes, glue nodes included: a baseline
    assert STATE["rib baseline"] >= len(CONTROLS), summary()
    out("monitors up with the positive controls in %.1fs (VNet to all, x1's role-less route to all, "
        "nva2's to nva1 only)", time.time() - t0)


def test_delete_neighbor_300k():
    """`no neighbor gw1` while gw1's 300k paths are in the table."""
    prefixes = space(32, N_BIG)
    mark_all()
    t0 = time.time()
    start_injector("gw1", prefixes)
    t_load = load("gw1", N_BIG)
    wait_controls()
    counters = monitor_counters()
    base = STATE["rib baseline"]
    walks, t1 = forced_walks(lambda: rib_count() == base, first=["no neighbor {}".format(GW1)])
    wait_for(rib_count, base, "r1 holds none of gw1's prefixes", count=LOAD_POLLS, wait=POLL)
    t_clean = time.time() - t1
    rsbird.stop_bird(g("gw1"))
    out("delete: r1 had gw1's %d prefixes %.1fs after BIRD started", N_BIG, t_load)
    finish("isolation delete", prefixes, counters, walks, t_clean)
    assert STATE["walks during"] >= 1, "no forced walk while r1 still held the paths: the test proved nothing"
    out("delete: test took %.1fs", time.time() - t0)


def test_dynamic_neighbor_drop_300k():
    """A dynamic neighbor (role from its peer-group) with 300k paths
    drops its session; bgpd deletes the neighbor."""
    prefixes = space(48, N_BIG)
    mark_all()
    t0 = time.time()
    start_injector("dyn", prefixes)
    t_load = load("dyn", N_BIG)
    wait_controls()
    n = rs_json(g("r1"))["neighbors"].get(DYN, {})
    assert n.get("role") == "gateway-expressroute" and n.get("dynamic"), n
    counters = monitor_counters()
    base = STATE["rib baseline"]

    def gone():
        return rib_count() == base and DYN not in vtysh_json(g("r1"), "show bgp neighbors json")

    walks, t1 = forced_walks(gone, change=lambda: kill_injector("dyn"))
    wait_for(gone, True, "r1 deleted the dynamic neighbor and its prefixes", count=LOAD_POLLS, wait=POLL)
    t_clean = time.time() - t1
    out("dynamic: r1 had dyn's %d prefixes %.1fs after BIRD started", N_BIG, t_load)
    finish("isolation dynamic drop", prefixes, counters, walks, t_clean)
    assert STATE["walks during"] >= 1, "no forced walk while r1 still held the paths: the test proved nothing"
    out("dynamic: test took %.1fs", time.time() - t0)


def gw1_up(base):
    """gw1 configured on r1 as gateway expressroute, announcing N_SMALL
    prefixes from base; returns them (monitors' windows start here)."""
    prefixes = space(base, N_SMALL)
    mark_all()
    out_ = configure(g("r1"), *gw1_lines())
    assert "%" not in out_, out_
    start_injector("gw1", prefixes)
    load("gw1", N_SMALL)
    wait_controls()
    return prefixes


def test_shutdown():
    prefixes = gw1_up(64)
    counters = monitor_counters()
    base = STATE["rib baseline"]
    walks, t1 = forced_walks(lambda: rib_count() == base, first=["neighbor {} shutdown".format(GW1)])
    wait_for(rib_count, base, "r1 holds none of gw1's prefixes", count=LOAD_POLLS, wait=POLL)
    t_clean = time.time() - t1
    w2, _ = forced_walks(lambda: pfx_rcd(GW1) == N_SMALL, first=["no neighbor {} shutdown".format(GW1)])
    load("gw1", N_SMALL)
    finish("isolation shutdown / no shutdown", prefixes, counters, walks + w2, t_clean)


def test_session_drop():
    prefixes = gw1_up(72)
    counters = monitor_counters()
    base = STATE["rib baseline"]
    walks, t1 = forced_walks(lambda: rib_count() == base, change=lambda: kill_injector("gw1"))
    wait_for(rib_count, base, "r1 holds none of gw1's prefixes", count=LOAD_POLLS, wait=POLL)
    t_clean = time.time() - t1
    finish("isolation session drop", prefixes, counters, walks, t_clean)


def role_of(addr):
    return rs_json(g("r1"))["neighbors"].get(addr, {}).get("role")


def test_role_change():
    """gw1 gateway expressroute -> gateway vpn -> gateway expressroute:
    with b2b off its routes are withheld from gw2, vpn1 and nva1 under
    both roles."""
    prefixes = gw1_up(80)
    counters = monitor_counters()
    gw1_counter = established_counters(g("r1"))[GW1]
    w1, _ = forced_walks(lambda: True, first=["neighbor {} route-server role gateway vpn".format(GW1)])
    assert role_of(GW1) == "gateway-vpn"
    w2, _ = forced_walks(lambda: True, first=["neighbor {} route-server role gateway expressroute".format(GW1)])
    assert role_of(GW1) == "gateway-expressroute"
    assert established_counters(g("r1"))[GW1] == gw1_counter, "a role change reset gw1's session"
    finish("isolation role change ER->VPN->ER", prefixes, counters, w1 + w2, 0.0)


def test_b2b_toggle():
    """b2b on then off with gw1 (ER): ER->ER is never allowed, so gw2 gets
    nothing; vpn1 and nva1 get all of gw1's prefixes while b2b is on (a
    positive check that the monitors see gw1's routes when allowed) and
    lose them all when it is off again."""
    prefixes = gw1_up(88)
    pset = set(prefixes)
    counters = monitor_counters()

    def held():
        res = {}
        for n, m in MONITORS.items():
            m.poll()
            res[n] = len(m.rib & pset)
        return res

    w1, _ = forced_walks(lambda: held() == {"gw2": 0, "vpn1": N_SMALL, "nva1": N_SMALL},
                         first=["bgp route-server branch-to-branch"])
    wait_for(held, {"gw2": 0, "vpn1": N_SMALL, "nva1": N_SMALL}, "b2b on: vpn1 and nva1 hold gw1's prefixes",
             count=LOAD_POLLS, wait=POLL)
    w2, _ = forced_walks(lambda: held() == {"gw2": 0, "vpn1": 0, "nva1": 0},
                         first=["no bgp route-server branch-to-branch"])
    wait_for(held, {"gw2": 0, "vpn1": 0, "nva1": 0}, "b2b off: no monitor holds gw1's prefixes",
             count=LOAD_POLLS, wait=POLL)
    finish("isolation b2b on/off (gw2 never; vpn1, nva1 all while on)", prefixes, counters, w1 + w2, 0.0,
           expect={"vpn1": N_SMALL, "nva1": N_SMALL})


def test_peer_group_membership():
    """gw1 (own role gateway expressroute) joins peer-group PGV (role
    gateway vpn: the neighbor's own role wins), bgpd resets its session and
    it comes back with its paths; then it leaves the peer-group, which in
    FRR 10.3 deletes the neighbor (and its role) while its paths are in the
    table. Withheld from every monitor throughout."""
    prefixes = gw1_up(96)
    counters = monitor_counters()
    base = STATE["rib baseline"]
    w1, _ = forced_walks(lambda: pfx_rcd(GW1) == N_SMALL, first=["neighbor {} peer-group PGV".format(GW1)])
    load("gw1", N_SMALL)
    n = rs_json(g("r1"))["neighbors"][GW1]
    assert n["role"] == "gateway-expressroute" and "roleInheritedFrom" not in n, n
    w2, t2 = forced_walks(lambda: rib_count() == base, first=["no neighbor {} peer-group PGV".format(GW1)])
    wait_for(rib_count, base, "r1 holds none of gw1's prefixes", count=LOAD_POLLS, wait=POLL)
    t_clean = time.time() - t2
    assert GW1 not in vtysh_json(g("r1"), "show bgp neighbors json")
    rsbird.stop_bird(g("gw1"))
    finish("isolation peer-group join / leave (= delete)", prefixes, counters, w1 + w2, t_clean)


def test_peer_group_role_change_dynamic():
    """The dynamic neighbor's peer-group role ER -> VPN -> ER (inherited
    by the member) while it holds N_SMALL paths."""
    prefixes = space(104, N_SMALL)
    mark_all()
    start_injector("dyn", prefixes)
    load("dyn", N_SMALL)
    wait_controls()
    counters = monitor_counters()
    w1, _ = forced_walks(lambda: True, first=["neighbor DYN route-server role gateway vpn"])
    assert role_of(DYN) == "gateway-vpn"
    w2, _ = forced_walks(lambda: True, first=["neighbor DYN route-server role gateway expressroute"])
    assert role_of(DYN) == "gateway-expressroute"
    finish("isolation peer-group role change (dynamic member)", prefixes, counters, w1 + w2, 0.0)
    rsbird.stop_bird(g("dyn"))


# --- whole-configuration changes: bgpd restart, instance deletion, reload -----


def r1_config():
    """r1's running configuration, as a configuration file holds it."""
    return g("r1").cmd_raises("vtysh -c 'show running-config' | sed -n '/^frr version/,$p'")


def role_line(name, role):
    return " neighbor {} route-server role {}\n".format(ADDR[name], role)


ROLE_NAMES = ("gw1",) + MONITOR_NAMES


def roles():
    """gw1's and the monitors' roles in r1's module (YANG names)."""
    n = rs_json(g("r1"))["neighbors"]
    return {name: n.get(ADDR[name], {}).get("role") for name in ROLE_NAMES}


def write_memory():
    """`write memory`: r1's integrated configuration file, with the roles
    (and branch-to-branch off) in it."""
    r1 = g("r1")
    r1.vtysh_cmd("write memory")
    saved = r1.cmd_raises("cat /etc/frr/frr.conf")
    for name in ROLE_NAMES:
        assert role_line(name, ROLES[name]) in saved, saved
    assert "branch-to-branch" not in saved, saved


def everything_back():
    st = monitor_stats()
    return all(st[n][0] == "Established" for n in MONITOR_NAMES) and pfx_rcd(GW1) == N_SMALL


def apply_saved_config(cmd):
    """Run cmd (vtysh applying r1's saved configuration to bgpd), then
    point bgpd's log back to bgpd.log: the integrated file holds every
    daemon's `log file` line (a framework setup), and the last one wins."""
    r1 = g("r1")
    out_ = r1.cmd("{} 2>&1; echo rc=$?".format(cmd))
    assert out_.strip().endswith("rc=0"), "{}: {}".format(cmd, out_)
    r1.vtysh_cmd("configure terminal\nlog file {} debug".format(
        os.path.join(r1.gearlogdir, "bgpd.log")), daemon="bgpd")


def reconnect_walks(t0):
    """After r1's bgpd has its configuration again (restart, instance
    re-created): forced walks while the sessions come back and gw1's table
    loads, then more with every session up and gw1's paths in the table.
    Returns (walks, seconds from t0 until everything was back)."""
    w1, _ = forced_walks(everything_back)
    wait_for(everything_back, True, "monitors established and r1 holds gw1's prefixes again",
             count=LOAD_POLLS, wait=POLL)
    t_back = time.time() - t0
    w2, _ = forced_walks(lambda: True)
    assert roles() == {n: ROLES[n].replace(" ", "-") for n in ROLE_NAMES}
    return w1 + w2, t_back


def bgpd_pid():
    pid = g("r1").cmd("cat /var/run/frr/bgpd.pid 2>/dev/null").strip()
    return int(pid) if pid.isdigit() else None


def test_bgpd_restart():
    """r1's bgpd is killed (SIGKILL) and started again with its saved
    configuration (`write memory`, then `vtysh -b -d bgpd` as watchfrr
    does after a restart: line by line, each role right after its
    neighbor). gw1's prefixes reach no monitor while everything
    reconnects; the controls and gw1's table come back."""
    prefixes = gw1_up(120)
    write_memory()
    r1 = g("r1")
    old = bgpd_pid()
    t0 = time.time()
    r1.killDaemons(["bgpd"])  # SIGKILL, waits until it is gone
    r1.startDaemons(["bgpd"])
    apply_saved_config("vtysh -b -d bgpd")
    assert bgpd_pid() not in (None, old)
    walks, t_back = reconnect_walks(t0)
    finish("isolation bgpd restart (SIGKILL, saved config)", prefixes, None, walks, t_back,
           after="sessions and gw1's table back")


def test_instance_delete():
    """`no router bgp 65515` while gw1's paths are in the table: every
    session closes, and no monitor may get gw1's prefixes before its
    session goes down. Then the instance is re-created from the saved
    configuration (`vtysh -d bgpd -f`) and everything comes back."""
    prefixes = gw1_up(128)
    write_memory()
    r1 = g("r1")
    t0 = time.time()
    out_ = vtysh_config(r1, "no router bgp {}".format(RS_AS))
    assert "%" not in out_, out_

    def gone():
        for m in MONITORS.values():
            m.poll()
        return ("router bgp" not in r1_config(), {n: "down" in m.window_states for n, m in MONITORS.items()})

    wait_for(gone, (True, {n: True for n in MONITOR_NAMES}), "instance deleted, every monitor session down",
             count=150, wait=POLL)
    t_gone = time.time() - t0
    apply_saved_config("vtysh -d bgpd -f /etc/frr/frr.conf")
    walks, t_back = reconnect_walks(t0)
    finish("isolation instance deletion and re-creation (every monitor down {:.1f}s after it)".format(t_gone),
           prefixes, None, walks, t_back, after="sessions and gw1's table back")


def frr_reload(path):
    """frr-reload.py --reload path, from the project's prefix, as an
    operator runs it, with soft-out walks back to back while it runs (it
    changes a role in two steps some 50 ms apart: these walks are what
    would find a moment in between). Returns (walks, seconds it took)."""
    r1 = g("r1")
    bindir = os.path.dirname(r1.cmd_raises("command -v vtysh").strip())
    reload_py = os.path.join(os.path.dirname(bindir), "sbin", "frr-reload.py")
    rc = path + ".rc"

    def start():
        r1.cmd_raises(
            "rm -f {rc}; ( /usr/bin/python3 {py} --reload --stdout --bindir {b} --confdir /etc/frr {f} "
            ">{f}.out 2>&1; echo $? >{rc} ) </dev/null >/dev/null 2>&1 &".format(
                rc=rc, py=reload_py, b=bindir, f=path))

    walks, t0 = forced_walks(lambda: os.path.exists(rc), change=start, toggle=False, gap=0.0)
    wait_for(lambda: os.path.exists(rc), True, "frr-reload.py " + path, count=300)
    took = time.time() - t0
    with open(rc) as f, open(path + ".out") as o:
        status, output = f.read().strip(), o.read()
    assert status == "0", "frr-reload.py {}: exit status {}: {}".format(path, status, output)
    return walks, took


def bgpd_log_size():
    try:
        return os.path.getsize(os.path.join(g("r1").gearlogdir, "bgpd.log"))
    except OSError:
        return 0


def roleless_moments(offset):
    """From r1's bgpd command log past offset (the framework has bgpd log
    every command, to the microsecond): each interval in which gw1 had no
    role (its old role removed, the new one not set yet), in ms, with the
    number of soft-out walks asked for in it."""
    with open(os.path.join(g("r1").gearlogdir, "bgpd.log"), errors="replace") as f:
        f.seek(offset)
        lines = f.read().splitlines()
    res, start, walks = [], None, 0
    for line in lines:
        m = re.match(r"(\d+/\d+/\d+ \d+:\d+:\d+\.\d+) BGP: .*?#\s*(.*)$", line)
        if not m:
            continue
        t = datetime.datetime.strptime(m.group(1), "%Y/%m/%d %H:%M:%S.%f")
        cmd = m.group(2).strip()
        if cmd.startswith("no neighbor {} route-server role".format(GW1)):
            start, walks = t, 0
        elif start and cmd.startswith("neighbor {} route-server role".format(GW1)):
            res.append(((t - start).total_seconds() * 1000, walks))
            start = None
        elif start and cmd.startswith("clear bgp"):
            walks += 1
    return res


def test_config_reload():
    """frr-reload.py applies a file in which gw1 is `gateway vpn` (with
    b2b off its routes are still withheld from gw2, vpn1 and nva1) and
    unrelated changes (two descriptions, a prefix-list, 16 more VNet
    prefixes), then the original file back. No session resets.
    frr-reload.py replaces a role line in two steps: `no neighbor gw1
    route-server role ...` (a vtysh call of its own, after which gw1 has
    no role), then, after its other deletions (one vtysh call each: the
    way back deletes the descriptions and VNet prefixes after the role),
    the new line with the additions (`vtysh -f`); the report gives each
    such moment (bgpd's command log) and the walks in it. The walks'
    vtysh sessions open and close while frr-reload.py configures: before
    patch 0012, each close could undo its uncommitted lines in mgmtd."""
    prefixes = gw1_up(112)
    r1 = g("r1")
    counters = monitor_counters()
    gw1_counter = established_counters(r1)[GW1]
    base = r1_config()
    er = role_line("gw1", "gateway expressroute")
    assert er in base, base
    changed = base.replace(er, role_line("gw1", "gateway vpn"))
    extra = [" neighbor {} description {} reload test\n".format(ADDR[n], n) for n in ("nva2", "x1")]
    for name, line in zip(("nva2", "x1"), extra):
        remote_as = " neighbor {} remote-as {}\n".format(ADDR[name], ASN[name])
        assert remote_as in changed, changed
        changed = changed.replace(remote_as, remote_as + line)
    plist = "ip prefix-list RELOAD seq 5 permit 10.250.0.0/16\n"
    changed = changed.replace("\nrouter bgp {}\n".format(RS_AS), "\n{}!\nrouter bgp {}\n".format(plist, RS_AS), 1)
    assert plist in changed, changed
    vnet = "  network {}\n".format(VNET)
    nets = ["  network 10.250.{}.0/24\n".format(i) for i in range(16)]
    assert vnet in changed, changed
    changed = changed.replace(vnet, vnet + "".join(nets))
    extra += nets
    files = {}
    for key, text in (("vpn", changed), ("er", base)):
        files[key] = os.path.join(r1.gearlogdir, "reload-gw1-{}.conf".format(key))
        with open(files[key], "w") as f:
            f.write(text)
    log0 = bgpd_log_size()
    w1, t1 = frr_reload(files["vpn"])
    conf = r1_config()
    assert role_of(GW1) == "gateway-vpn" and all(l in conf for l in extra + [plist]), conf
    drain()
    first = leaks(prefixes)
    w2, t2 = frr_reload(files["er"])
    conf = r1_config()
    with open(files["er"] + ".out") as f:
        assert role_of(GW1) == "gateway-expressroute" and not any(l in conf for l in extra + [plist]), \
            conf + f.read()
    assert established_counters(r1)[GW1] == gw1_counter, "the reloads reset gw1's session"
    finish("isolation config reload (frr-reload.py: gw1 ER->VPN->ER; descriptions, a prefix-list, VNet prefixes)",
           prefixes, counters, w1 + w2, t1 + t2, after="reloads done",
           note="after the reload to VPN: leaked {}; gw1 had no role for {}".format(
               " ".join("{}={}".format(n, first[n]) for n in MONITOR_NAMES),
               ", ".join("{:.0f} ms ({} walks asked for meanwhile)".format(*m)
                         for m in roleless_moments(log0)) or "no moment"))
