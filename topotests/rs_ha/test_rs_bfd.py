#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""
BFD on role neighbors of the route server (issue 14, part 3).

The route server r1 runs as a packaged FRR does: frrinit.sh starts
watchfrr, which starts zebra, mgmtd, staticd, bgpd (-M route_server) and
bfdd, and applies /etc/frr/frr.conf. One LAN, 192.168.1.0/24, eBGP:

  r1    .1  route server, AS 65515, branch-to-branch on, VNet 10.100.0.0/16
  nva1  .2  BIRD 2 with its BFD protocol, AS 65001, role nva:
            10.1.0.0/24 .. 10.1.4.0/24
  er1   .3  FRR (bgpd + bfdd), AS 65020, role gateway expressroute:
            10.20.0.0/24 .. 10.20.4.0/24
  vpn1  .4  ExaBGP monitor, AS 65040, role gateway vpn  } observers: every
  nva2  .5  ExaBGP monitor, AS 65002, role nva          } UPDATE logged with
                                                          its receive time
With b2b on both observers receive nva1's and er1's routes (and nva1 gets
er1's, er1 gets nva1's). BFD between r1 and nva1/er1: profile "fast",
100 ms x 3 (detection 300 ms). BGP timers 3/9 s on those sessions (Azure's
60/180 s would only make the BFD-off figures longer; they are not run).

Failure kinds, for nva1 and for er1:
  link  the peer's interface set down on its side (r1 sees no carrier
        change: the VM's NIC is gone, as in a VNet)
  kill  the peer's BGP and BFD daemons SIGKILLed (BIRD; FRR bgpd + bfdd)
Each failure is timed: t0 (date +%s.%N in the peer right before the
command), r1's BFD down (bfdd log, debug bfd peer), r1's session down
(bgpd's %ADJCHANGE; both in frr.log, log timestamp precision 6), and the time the last of
the peer's prefixes was withdrawn at the slower of the two observers
(ExaBGP's receive time). Then the peer is restored and the next run
waits until everything is back (sessions, BFD up, observers' tables).

test_bfd_on and test_bfd_off run the same failures with BFD on and off
(off on both sides), print a table of medians, and, on the plain build
only, assert with BFD on: detection < 1 s and withdraw < 1 s after
detection for every run; link failures without BFD are detected by the
hold timer only (> 2 s). A killed daemon is seen at once with or without
BFD: the kernel closes its TCP connection (r1: "Peer closed the
session"); BFD is what catches a dead link or a dead VM. Under ASan:
functional checks only (every failure detected, BFD down logged with a
link failure's session down, the routes withdrawn from both observers
and from the other BFD peer, everything back after restore).

  RS_HA_REPS=N   repetitions per peer and kind, both modes (default 5
                 with BFD on and 3 with BFD off, to keep the module near
                 2.5 min; 2 and 2 under ASan)
  RS_HA_LONG=1   10 runs with BFD on, 5 with BFD off
Measured duration of the module: 2.6 min by default, 4.4 min with
RS_HA_LONG=1 (plain build); about 2 min under ASan.
"""

import os
import sys

import pytest

CWD = os.path.dirname(os.path.abspath(__file__))
sys.path.append(os.path.join(CWD, ".."))
sys.path.append(os.path.join(CWD, "../.."))
sys.path.append(os.path.join(CWD, "../rs_restart"))

from lib.topogen import TopoRouter  # noqa: E402
from lib.topolog import logger  # noqa: E402
from rslib import (  # noqa: E402
    all_established,
    received_prefixes,
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
    g,
    log_lines,
    make_out,
    median,
    Monitor,
    require_tools,
    sanitized,
    set_addresses,
    start_frr_service,
    teardown_ha,
)

pytestmark = [pytest.mark.bgpd, pytest.mark.bfdd]

NETS = {"nva1": ["10.1.{}.0/24".format(i) for i in range(5)],
        "er1": ["10.20.{}.0/24".format(i) for i in range(5)]}
VNET = "10.100.0.0/16"
BFD_PEERS = ("nva1", "er1")
OBSERVERS = ("vpn1", "nva2")
KINDS = ("link", "kill")
LONG = os.environ.get("RS_HA_LONG") == "1"
FIGURES = {}
STATE = {}

BFD_PROFILE = """\
bfd
 profile fast
  detect-multiplier 3
  receive-interval 100
  transmit-interval 100
 exit
exit
"""

RS_CONF = """\
frr defaults traditional
hostname r1
log file {log} debugging
log timestamp precision 6
interface r1-eth0
 ip address 192.168.1.1/24
exit
{bfd}\
router bgp 65515
 bgp router-id 192.168.1.1
 bgp log-neighbor-changes
 no bgp ebgp-requires-policy
 no bgp network import-check
 bgp route-server branch-to-branch
{neighbors}\
 address-family ipv4 unicast
  network {vnet}
 exit-address-family
exit
debug bfd peer
"""

ER_CONF = """\
frr defaults traditional
hostname er1
log timestamp precision 6
interface er1-eth0
 ip address 192.168.1.3/24
exit
{bfd}\
router bgp 65020
 bgp router-id 192.168.1.3
 no bgp ebgp-requires-policy
 no bgp network import-check
 neighbor 192.168.1.1 remote-as 65515
 neighbor 192.168.1.1 timers 3 9
 neighbor 192.168.1.1 timers connect 1
 neighbor 192.168.1.1 bfd profile fast
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
protocol bfd {{
  interface "*" {{
    min rx interval 100 ms;
    min tx interval 100 ms;
    multiplier 3;
  }};
}}
protocol static nets {{
  ipv4;
{routes}}}
protocol bgp routeserver {{
  local 192.168.1.2 as 65001;
  neighbor 192.168.1.1 as 65515;
  hold time 9;
  keepalive time 3;
  connect delay time 1;
  connect retry time 1;
  error wait time 1, 2;
  bfd {bfd};
  ipv4 {{
    import all;
    export where proto = "nets";
  }};
}}
"""


def rs_conf():
    lines = []
    for p in ("nva1", "er1", "vpn1", "nva2"):
        a = ADDR[p]
        lines += [" neighbor {} remote-as {}".format(a, ASN[p]),
                  " neighbor {} timers connect 1".format(a),
                  " neighbor {} route-server role {}".format(a, ROLES[p])]
        if p in BFD_PEERS:
            lines += [" neighbor {} timers 3 9".format(a),
                      " neighbor {} bfd profile fast".format(a)]
    return RS_CONF.format(log=os.path.join(g("r1").gearlogdir, "frr.log"), bfd=BFD_PROFILE,
                          neighbors="\n".join(lines) + "\n", vnet=VNET)


def bird_conf(bfd=True):
    routes = "".join("  route {} blackhole;\n".format(n) for n in NETS["nva1"])
    return BIRD_CONF.format(log=os.path.join(g("nva1").gearlogdir, "bird.log"), routes=routes,
                            bfd="on" if bfd else "off")


MONITORS = {n: Monitor(n, ADDR[n], ASN[n]) for n in OBSERVERS}


out = make_out("bfd")


def setup_module(mod):
    require_tools()
    tgen = start_lan_topology(mod, ["r1", "nva1", "er1", "vpn1", "nva2"])
    er = tgen.gears["er1"]
    path = os.path.join(tgen.logdir, "er1-frr.conf")
    nets = "".join("  network {}\n".format(n) for n in NETS["er1"])
    with open(path, "w") as f:
        f.write(ER_CONF.format(bfd=BFD_PROFILE, networks=nets))
    er.load_frr_config(path, [(TopoRouter.RD_ZEBRA, ""), (TopoRouter.RD_BGP, ""),
                              (TopoRouter.RD_BFD, "")])
    # r1 has no daemon for the framework: frrinit.sh starts it below
    tgen.start_router()
    set_addresses(tgen, ("nva1", "vpn1", "nva2"), ADDR)
    rsbird.start_bird(tgen.gears["nva1"], bird_conf())
    for name, m in MONITORS.items():
        m.start(tgen.gears[name])
    start_frr_service(tgen.gears["r1"], rs_conf())
    rs = tgen.gears["r1"]
    STATE["sanitized"] = sanitized(rs)
    default = "2" if STATE["sanitized"] else "5"
    STATE["reps"] = int(os.environ.get("RS_HA_REPS", "10" if LONG else default))
    # without BFD a link failure takes the hold time (6-9 s) per run
    STATE["reps off"] = int(os.environ.get("RS_HA_REPS", "5" if LONG else
                                           ("2" if STATE["sanitized"] else "3")))


def teardown_module(mod):
    teardown_ha(MONITORS)


# --- state of the route server and of the peers ------------------------------


def bfd_up(peer, settled=0):
    """r1's BFD session with peer is up (for at least `settled` seconds)."""
    data = vtysh_json(g("r1"), "show bfd peers json")
    for s in data if isinstance(data, list) else []:
        if s.get("peer") == ADDR[peer]:
            return s.get("status") == "up" and s.get("uptime", 0) >= settled
    return False


def bgp_bfd_up(peer):
    """bgpd's own view of the BFD session: it drops a session on BFD down
    only once it has itself seen the session up (bfdd's notifications reach
    it through zebra, a little after bfdd shows "up")."""
    data = vtysh_json(g("r1"), "show bgp neighbors {} json".format(ADDR[peer]))
    return data.get(ADDR[peer], {}).get("peerBfdInfo", {}).get("status") == "Up"


def peer_state(peer):
    data = vtysh_json(g("r1"), "show bgp neighbors {} json".format(ADDR[peer]))
    return data.get(ADDR[peer], {}).get("bgpState")


def expected_observed():
    return set(NETS["nva1"]) | set(NETS["er1"]) | {VNET}


def observers_hold(nets):
    res = True
    for m in MONITORS.values():
        m.poll()
        res &= set(nets) <= m.rib
    return res


def other_bfd_peer_holds(peer, nets):
    """(all, any) of nets in the table of the BFD peer other than peer
    (b2b on: nva1 and er1 learn each other's routes)."""
    if peer == "nva1":
        have_ = received_prefixes(g("er1"))
    else:
        have_ = rsbird.prefixes(g("nva1"), "routeserver")
    return set(nets) <= have_, bool(set(nets) & have_)


def converged(bfd):
    """Everything up: r1's sessions, BFD sessions (bfd on), observers and
    the BFD peers hold every prefix they should."""
    rs = g("r1")
    if not all_established(rs, [ADDR[p] for p in ADDR if p != "r1"]):
        return "sessions"
    # BFD settled: a session BIRD has just brought up can still drop once
    # (bfdd expects 100 ms while BIRD is still on its idle interval), so a
    # failure started right after the restore would meet a flapping session
    if bfd and not all(bfd_up(p, settled=2) and bgp_bfd_up(p) for p in BFD_PEERS):
        return "bfd"
    if not observers_hold(expected_observed()):
        return "observers"
    if not other_bfd_peer_holds("nva1", NETS["nva1"])[0]:
        return "er1 table"
    if not other_bfd_peer_holds("er1", NETS["er1"])[0]:
        return "nva1 table"
    return "ok"


def diagnostics():
    rs = g("r1")
    return "\n".join([
        rs.vtysh_cmd("show bgp ipv4 unicast summary"),
        rs.vtysh_cmd("show bfd peers brief"),
        rs.vtysh_cmd("show bgp ipv4 unicast"),
        rs.vtysh_cmd("show bgp ipv4 unicast neighbors {} advertised-routes".format(ADDR["er1"])),
        g("er1").vtysh_cmd("show bgp ipv4 unicast"),
        rsbird.birdc(g("nva1"), "show protocols all routeserver"),
        rsbird.birdc(g("nva1"), "show route"),
        "monitors: " + repr({n: sorted(m.rib) for n, m in MONITORS.items()})])


def wait_converged(bfd, what):
    try:
        wait_for(lambda: converged(bfd), "ok", "{} (bfd {})".format(what, "on" if bfd else "off"),
                 count=300, wait=0.2)
    except AssertionError as err:
        raise AssertionError("{}\n{}".format(err, diagnostics())) from None


# --- failures ----------------------------------------------------------------


def fail(peer, kind):
    """Make the failure; returns t0 read in the peer right before it."""
    r = g(peer)
    if kind == "link":
        cmd = "ip link set {}-eth0 down".format(peer)
    elif peer == "nva1":
        cmd = "kill -9 $(cat {}/bird.pid)".format(r.gearlogdir)
    else:
        cmd = "kill -9 $(cat /var/run/frr/bgpd.pid) $(cat /var/run/frr/bfdd.pid)"
    res = r.cmd("date +%s.%N; {} 2>&1".format(cmd)).split()
    return float(res[0])


def restore(peer, kind, bfd):
    r = g(peer)
    if kind == "link":
        r.cmd_raises("ip link set {}-eth0 up".format(peer))
    elif peer == "nva1":
        r.cmd("rm -f {}/bird.pid".format(r.gearlogdir))
        rsbird.start_bird(r, bird_conf(bfd))
    else:
        r.cmd("rm -f /var/run/frr/bgpd.pid /var/run/frr/bfdd.pid")
        r.startDaemons(["bfdd", "bgpd"])
        r.cmd_raises("vtysh -f /etc/frr/frr.conf >/dev/null")
        if not bfd:
            vtysh_config(r, "router bgp 65020", "no neighbor 192.168.1.1 bfd")


def one_run(peer, kind, bfd):
    addr = ADDR[peer]
    rs = g("r1")
    t0 = fail(peer, kind)
    wait_for(lambda: peer_state(peer) != "Established", True,
             "r1 detects the failure of {} ({})".format(peer, kind), count=600, wait=0.05)
    # every observer sees the withdraw of all of the peer's prefixes
    wd = {}

    def withdrawn():
        for n, m in MONITORS.items():
            wd[n] = m.first_withdraw(NETS[peer], t0)
        return all(v is not None for v in wd.values())

    wait_for(withdrawn, True, "observers see {}'s routes withdrawn".format(peer), count=200, wait=0.1)
    # ... and so does the other BFD peer (polled: no timing)
    wait_for(lambda: other_bfd_peer_holds(peer, NETS[peer])[1],
             False, "the other BFD peer loses {}'s routes".format(peer), count=100, wait=0.1)
    log = os.path.join(rs.gearlogdir, "frr.log")
    esc = addr.replace(".", r"\.")
    downs = log_lines(log, r"ADJCHANGE: neighbor {}\b.* Down".format(esc), t0 - 0.001)
    assert downs, "no %ADJCHANGE Down for {} in r1's bgpd.log".format(addr)
    t_down, line = downs[0]
    bfd_downs = log_lines(log, r"peer:{} .*up -> down".format(esc), t0 - 0.001)
    t_bfd = bfd_downs[0][0] if bfd_downs else None
    reason = line.split(" Down ", 1)[1] if " Down " in line else line
    res = {"detect": t_down - t0, "bfd": (t_bfd - t0) if t_bfd else None,
           "withdraw": max(wd.values()) - t_down, "reason": reason}
    restore(peer, kind, bfd)
    wait_converged(bfd, "restored after {} {}".format(peer, kind))
    return res


def measure(bfd):
    mode = "on" if bfd else "off"
    wait_converged(bfd, "before the runs")
    runs = {}
    for peer in BFD_PEERS:
        for kind in KINDS:
            key = (peer, kind)
            runs[key] = []
            for i in range(STATE["reps"] if bfd else STATE["reps off"]):
                r = one_run(peer, kind, bfd)
                logger.info("bfd %s %s %s run %d: %s", mode, peer, kind, i, r)
                runs[key].append(r)
    FIGURES[mode] = runs
    out("BFD %s, %d runs each (medians; detect = failure -> r1 session down; "
        "withdraw = session down -> last observer has the withdraw):", mode,
        len(next(iter(runs.values()))))
    out("%-5s %-5s %10s %10s %10s %10s  %s", "peer", "kind", "bfd down", "detect", "det max",
        "withdraw", "reason (r1's %ADJCHANGE)")
    for (peer, kind), rs_ in runs.items():
        bfds = [r["bfd"] for r in rs_ if r["bfd"] is not None]
        out("%-5s %-5s %10s %9.3fs %9.3fs %9.3fs  %s", peer, kind,
            "{:.3f}s".format(median(bfds)) if bfds else "-",
            median([r["detect"] for r in rs_]), max(r["detect"] for r in rs_),
            median([r["withdraw"] for r in rs_]),
            sorted({r["reason"] for r in rs_}))
    return runs


# --- tests -------------------------------------------------------------------


def test_converged_with_bfd():
    wait_converged(True, "initial convergence")
    # the BFD sessions use the profile's timers
    data = vtysh_json(g("r1"), "show bfd peers json")
    for s in data:
        if s.get("peer") in (ADDR["nva1"], ADDR["er1"]):
            assert s.get("transmit-interval") == 100 and s.get("detect-multiplier") == 3, s
    # bfdd runs under watchfrr beside bgpd
    assert "bfdd" in g("r1").vtysh_cmd("show watchfrr")


def test_bfd_on():
    runs = measure(True)
    for (peer, kind), rs_ in runs.items():
        for r in rs_:
            if kind == "link":
                # only BFD can see a dead link this fast (hold time 9 s):
                # r1's bfdd saw the session go down and bgpd dropped it
                # (bgpd may log it a few microseconds before bfdd does)
                assert r["bfd"] is not None and r["detect"] >= r["bfd"] - 0.05, (peer, kind, r)
    if STATE["sanitized"]:
        return
    for (peer, kind), rs_ in runs.items():
        for r in rs_:
            assert r["detect"] < 1.0, ("detection >= 1 s", peer, kind, r)
            assert r["withdraw"] < 1.0, ("withdraw >= 1 s after detection", peer, kind, r)


def test_bfd_off():
    rs = g("r1")
    out_ = vtysh_config(rs, "router bgp 65515",
                        *["no neighbor {} bfd".format(ADDR[p]) for p in BFD_PEERS])
    assert "%" not in out_, out_
    vtysh_config(g("er1"), "router bgp 65020", "no neighbor 192.168.1.1 bfd")
    with open(os.path.join(g("nva1").gearlogdir, "bird.conf"), "w") as f:
        f.write(bird_conf(bfd=False))
    rsbird.birdc(g("nva1"), "configure")
    wait_for(lambda: vtysh_json(rs, "show bfd peers json"), [], "r1 has no BFD session left")
    runs = measure(False)
    for (peer, kind), rs_ in runs.items():
        for r in rs_:
            assert r["bfd"] is None, (peer, kind, r)
    if STATE["sanitized"]:
        return
    on = FIGURES.get("on", {})
    for peer in BFD_PEERS:
        # a dead link is seen by the hold timer only (9 s, keepalive 3 s)
        assert min(r["detect"] for r in runs[(peer, "link")]) > 2.0, runs[(peer, "link")]
        if on:
            assert median([r["detect"] for r in on[(peer, "link")]]) < \
                median([r["detect"] for r in runs[(peer, "link")]])
