#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""
Seed scenario 1 with independent BGP implementations around the route
server: the SD-WAN NVA (AS 65001) and both on-prem routers (AS 65010,
65020) run BIRD 2, a second NVA "nva2" (AS 65002, 10.1.0.11 on the VNet)
runs GoBGP and announces 10.50.0.0/16. The route server (FRR bgpd with the
module) and the ExpressRoute gateway (FRR) use the scenario's configs.

branch-to-branch off: the NVAs have the VNet route and On-prem 1 (NVA to
NVA is always allowed) but not On-prem 2, the gateway has the VNet route but
neither On-prem 1 nor the nva2 prefix, the NVA has nva2's prefix, On-prem 1
cannot ping On-prem 2. On: everyone learns everything, ping works. Off
again: withdrawn, ping fails. No session of the route server is reset.
"""

import json
import os
import sys

import pytest

CWD = os.path.dirname(os.path.abspath(__file__))
sys.path.append(os.path.join(CWD, ".."))
sys.path.append(os.path.join(CWD, "../.."))

from lib.topogen import Topogen, get_topogen  # noqa: E402
from lib.topolog import logger  # noqa: E402
from rslib import (  # noqa: E402
    all_established,
    build_links,
    configure,
    established_counters,
    load_scenario_frr,
    ping,
    received_prefixes,
    rs_json,
    scenario_links,
    set_addresses,
    vtysh_json,
    wait_for,
)

pytestmark = [pytest.mark.bgpd]

BIRD, BIRDC = "/usr/sbin/bird", "/usr/sbin/birdc"
GOBGPD, GOBGP = "/usr/bin/gobgpd", "/usr/bin/gobgp"
GOBGP_API = ("127.0.0.1", 50071)

BIRD_NODES = ("nva", "onprem1", "onprem2")
GOBGP_NODE = "nva2"
NON_FRR = BIRD_NODES + (GOBGP_NODE,)
LINKS = scenario_links("seed1") + [(GOBGP_NODE, "vnet", "10.1.0.11/24")]

VNET, ONPREM1, ONPREM2 = "10.1.0.0/16", "192.168.10.0/24", "192.168.20.0/24"
NVA2NET = "10.50.0.0/16"
RS_PEERS = ["10.1.0.10", "10.1.0.20", "10.1.0.11"]
COUNTERS = {}


# --- BIRD and GoBGP in the router namespaces ------------------------------


def rundir(router):
    return router.gearlogdir


def bird_sock(router):
    return os.path.join(rundir(router), "bird.ctl")


def start_bird(router):
    d = rundir(router)
    conf = os.path.join(CWD, router.name, "bird.conf")
    router.cmd_raises("{} -p -c {}".format(BIRD, conf))
    router.cmd_raises(
        "{bird} -f -c {conf} -s {sock} -P {d}/bird.pid </dev/null >{d}/bird.log 2>&1 &".format(
            bird=BIRD, conf=conf, sock=bird_sock(router), d=d
        )
    )
    wait_for(
        lambda: "ready" in router.cmd("{} -s {} show status 2>&1".format(BIRDC, bird_sock(router))),
        True,
        "{}: bird control socket".format(router.name),
        count=20,
    )


def birdc(router, command):
    return router.cmd("{} -s {} {} 2>&1".format(BIRDC, bird_sock(router), command))


def bird_prefixes(router):
    """Prefixes in BIRD's master4 table (every source: BGP and direct)."""
    out = birdc(router, "show route")
    nets = set()
    for line in out.splitlines():
        fields = line.split()
        if fields and not line[0].isspace() and "/" in fields[0]:
            nets.add(fields[0])
    return nets


def bird_established(router, protocols):
    out = birdc(router, "show protocols")
    up = {l.split()[0] for l in out.splitlines() if l.split() and "Established" in l}
    return set(protocols) <= up


def gobgp(router, args):
    return router.cmd("{} -u {} -p {} {} 2>&1".format(GOBGP, GOBGP_API[0], GOBGP_API[1], args))


def gobgp_json(router, args):
    out = gobgp(router, args + " -j")
    try:
        return json.loads(out)
    except ValueError as err:
        raise AssertionError("{}: gobgp {}: not JSON: {!r}".format(router.name, args, out)) from err


def start_gobgp(router):
    d = rundir(router)
    conf = os.path.join(CWD, router.name, "gobgpd.toml")
    router.cmd_raises(
        "{gobgpd} -f {conf} -t toml -p --pprof-disable --api-hosts {h}:{p} "
        "</dev/null >{d}/gobgpd.log 2>&1 & echo $! >{d}/gobgpd.pid".format(
            gobgpd=GOBGPD, conf=conf, h=GOBGP_API[0], p=GOBGP_API[1], d=d
        )
    )
    wait_for(
        lambda: "65002" in gobgp(router, "global"),
        True,
        "{}: gobgpd API".format(router.name),
        count=20,
    )
    out = gobgp(router, "global rib -a ipv4 add " + NVA2NET)
    assert "error" not in out.lower(), out


def gobgp_prefixes(router):
    data = gobgp_json(router, "global rib -a ipv4")
    if isinstance(data, dict):
        return set(data.keys())
    # older output: a list of destinations
    return {d.get("prefix") for d in data}


def gobgp_established(router, neighbor):
    for peer in gobgp_json(router, "neighbor"):
        if peer.get("conf", {}).get("neighbor_address") == neighbor:
            return peer.get("state", {}).get("session_state") in (6, "ESTABLISHED", "established")
    return False


def stop_daemon(router, pidfile):
    path = os.path.join(rundir(router), pidfile)
    router.cmd("[ -f {0} ] && kill $(cat {0}) 2>/dev/null; rm -f {0}".format(path))


# --- setup -----------------------------------------------------------------


def setup_module(mod):
    missing = [b for b in (BIRD, BIRDC, GOBGPD, GOBGP) if not os.access(b, os.X_OK)]
    if missing:
        pytest.fail(
            "rs_bird needs BIRD 2 and GoBGP from Debian (packages bird2, gobgpd); "
            "missing {} - run scripts/install-deps.sh".format(", ".join(missing)),
            pytrace=False,
        )

    tgen = Topogen(lambda t: build_links(t, LINKS), mod.__name__)
    tgen.start_topology()
    load_scenario_frr(tgen, "seed1", skip=NON_FRR)
    tgen.start_router()

    g = tgen.gears
    for name in NON_FRR:
        set_addresses(g[name], LINKS)
    for name in BIRD_NODES:
        start_bird(g[name])
    start_gobgp(g[GOBGP_NODE])

    out = configure(
        g["rs"],
        "neighbor 10.1.0.11 remote-as 65002",
        "neighbor 10.1.0.11 description GoBGP NVA",
        "neighbor 10.1.0.11 route-server role nva",
    )
    assert "%" not in out, out


def teardown_module(mod):
    tgen = get_topogen()
    for name in BIRD_NODES:
        stop_daemon(tgen.gears[name], "bird.pid")
    stop_daemon(tgen.gears[GOBGP_NODE], "gobgpd.pid")
    tgen.stop_topology()


def gears():
    return get_topogen().gears


# --- tests -----------------------------------------------------------------


def test_sessions_up():
    g = gears()
    wait_for(lambda: all_established(g["rs"], RS_PEERS), True, "rs sessions")
    wait_for(lambda: all_established(g["ergw"], ["10.1.0.4", "192.168.20.1"]), True, "ergw sessions")
    wait_for(lambda: bird_established(g["nva"], ["routeserver", "onprem1"]), True, "nva (bird) sessions")
    wait_for(lambda: bird_established(g["onprem1"], ["nva"]), True, "onprem1 (bird) session")
    wait_for(lambda: bird_established(g["onprem2"], ["ergw"]), True, "onprem2 (bird) session")
    wait_for(lambda: gobgp_established(g[GOBGP_NODE], "10.1.0.4"), True, "nva2 (gobgp) session")
    COUNTERS["before"] = established_counters(g["rs"])
    logger.info("rs established counters: %s", COUNTERS["before"])


def withheld(rs):
    """peer -> prefixes the route-server policy keeps from it."""
    return {
        peer: {w["prefix"] for w in vtysh_json(rs, "show bgp route-server withheld {} json".format(peer))["withheld"]}
        for peer in RS_PEERS
    }


def check_isolated():
    g = gears()
    # the route server has every route and holds back the branch routes
    wait_for(
        lambda: withheld(g["rs"]),
        {"10.1.0.10": {ONPREM2}, "10.1.0.11": {ONPREM2}, "10.1.0.20": {ONPREM1, NVA2NET}},
        "rs withheld (b2b off)",
    )
    wait_for(lambda: bird_prefixes(g["nva"]), {VNET, ONPREM1, NVA2NET}, "nva (bird) table (b2b off)")
    wait_for(lambda: received_prefixes(g["ergw"]), {VNET, ONPREM2}, "ergw table (b2b off)")
    wait_for(lambda: bird_prefixes(g["onprem1"]), {VNET, ONPREM1, NVA2NET}, "onprem1 (bird) table (b2b off)")
    wait_for(lambda: bird_prefixes(g["onprem2"]), {VNET, ONPREM2}, "onprem2 (bird) table (b2b off)")
    wait_for(lambda: gobgp_prefixes(g[GOBGP_NODE]), {VNET, ONPREM1, NVA2NET}, "nva2 (gobgp) rib (b2b off)")
    wait_for(lambda: ping(g["onprem1"], "192.168.10.1", "192.168.20.1"), False, "no ping on-prem 1 -> 2")


def check_connected():
    g = gears()
    everything = {VNET, ONPREM1, ONPREM2, NVA2NET}
    for name in BIRD_NODES:
        wait_for(lambda: bird_prefixes(g[name]), everything, name + " (bird) table (b2b on)")
    wait_for(lambda: received_prefixes(g["ergw"]), everything, "ergw table (b2b on)")
    wait_for(lambda: gobgp_prefixes(g[GOBGP_NODE]), everything, "nva2 (gobgp) rib (b2b on)")
    wait_for(lambda: ping(g["onprem1"], "192.168.10.1", "192.168.20.1"), True, "ping on-prem 1 -> 2")


def test_b2b_off_isolates_branches():
    check_isolated()
    data = rs_json(gears()["rs"])
    assert data["branchToBranch"] is False
    assert data["neighbors"]["10.1.0.10"]["role"] == "nva"
    assert data["neighbors"]["10.1.0.11"]["role"] == "nva"
    assert data["neighbors"]["10.1.0.20"]["role"] == "gateway-expressroute"


def test_kernel_routes_from_bird():
    """BIRD put the BGP routes into the namespaces' kernel tables."""
    g = gears()
    assert "192.168.10.254" in g["onprem1"].cmd("ip route show " + VNET)
    assert "10.1.0.20" not in g["nva"].cmd("ip route show " + ONPREM2)
    assert "10.1.0.11" in g["nva"].cmd("ip route show " + NVA2NET)


def test_b2b_on_connects_branches():
    out = configure(gears()["rs"], "bgp route-server branch-to-branch")
    assert "%" not in out, out
    check_connected()
    data = rs_json(gears()["rs"])
    assert data["branchToBranch"] is True
    assert all(n["prefixesWithheld"] == 0 for n in data["neighbors"].values())
    assert withheld(gears()["rs"]) == {peer: set() for peer in RS_PEERS}
    assert "10.1.0.20" in gears()["nva"].cmd("ip route show " + ONPREM2)


def test_b2b_off_again_withdraws():
    out = configure(gears()["rs"], "no bgp route-server branch-to-branch")
    assert "%" not in out, out
    check_isolated()
    assert gears()["onprem1"].cmd("ip route show " + ONPREM2).strip() == ""


def test_no_session_reset():
    rs = gears()["rs"]
    assert established_counters(rs) == COUNTERS["before"]
