#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""
A large table: "inj", a BIRD 2 speaker in the role gateway expressroute,
announces N prefixes (static routes BIRD loads from its config) to the
route server r1; "nva", a BIRD 2 speaker in the role nva, receives them
all while branch-to-branch is on and none of them while it is off (then
on again). N is 1,000,000 (about 30 s here); RS_TABLE_PREFIXES=N sets
another size.

r1 is a control-plane node, as a route server is: `bgp no-rib` keeps the
table out of zebra and the kernel, so the figures are bgpd's. Times and
bgpd's RSS are logged (exec.log, "table:").
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
    configure, load_rs_config, rs_json, start_lan_topology, vtysh_json, wait_for)
import rsbird  # noqa: E402

pytestmark = [pytest.mark.bgpd]

N = int(os.environ.get("RS_TABLE_PREFIXES", "1000000"))
# polls every 0.2 s, for up to 10 min (a sanitizer build is much slower)
WAIT = 0.2
POLLS = int(600 / WAIT)
INJ, NVA = "192.168.1.2", "192.168.1.3"
VNET = "10.100.0.0/16"
FIGURES = {}

RS_CONF = """\
hostname r1
interface r1-eth0
 ip address 192.168.1.1/24
!
bgp no-rib
!
router bgp 65515
 bgp router-id 192.168.1.1
 no bgp ebgp-requires-policy
 no bgp network import-check
 bgp route-server branch-to-branch
 neighbor {inj} remote-as 65020
 neighbor {inj} route-server role gateway expressroute
 neighbor {nva} remote-as 65001
 neighbor {nva} route-server role nva
 address-family ipv4 unicast
  network {vnet}
 exit-address-family
!
"""

BIRD_BGP = """\
router id {addr};
log "{log}" all;
protocol device {{
}}
{static}
protocol bgp routeserver {{
  local {addr} as {asn};
  neighbor 192.168.1.1 as 65515;
  connect delay time 1;
  connect retry time 3;
  error wait time 1, 10;
  ipv4 {{
    import {imp};
    export {exp};
  }};
}}
"""


def prefix(i):
    """The i-th injected /24: 32.0.0.0/24, 32.0.1.0/24, ... (16 /8s hold 1M)."""
    return "{}.{}.{}.0/24".format(32 + (i >> 16), (i >> 8) & 255, i & 255)


def injector_conf(logfile):
    static = "protocol static injected {\n  ipv4;\n" + "".join(
        "  route {} blackhole;\n".format(prefix(i)) for i in range(N)
    ) + "}"
    return BIRD_BGP.format(addr=INJ, asn=65020, log=logfile, static=static,
                           imp="none", exp='where proto = "injected"')


def receiver_conf(logfile):
    return BIRD_BGP.format(addr=NVA, asn=65001, log=logfile, static="", imp="all", exp="none")


def setup_module(mod):
    rsbird.require_bird()

    tgen = start_lan_topology(mod, ("r1", "inj", "nva"))
    load_rs_config(tgen, RS_CONF.format(inj=INJ, nva=NVA, vnet=VNET))
    tgen.start_router()
    for name, addr in (("inj", INJ), ("nva", NVA)):
        r = tgen.gears[name]
        r.cmd_raises("ip link set lo up; ip link set {0}-eth0 up; "
                     "ip addr add {1}/24 dev {0}-eth0".format(name, addr))
    nva = tgen.gears["nva"]
    rsbird.start_bird(nva, receiver_conf(os.path.join(nva.gearlogdir, "bird.log")))


def teardown_module(mod):
    tgen = get_topogen()
    for name in ("inj", "nva"):
        rsbird.stop_bird(tgen.gears[name])
    tgen.stop_topology()


def g(name):
    return get_topogen().gears[name]


def rs_received():
    peers = vtysh_json(g("r1"), "show bgp ipv4 unicast summary json").get("peers", {})
    return peers.get(INJ, {}).get("pfxRcd", 0)


def nva_count():
    return rsbird.route_count(g("nva"), "routeserver")


def bgpd_memory():
    """bgpd's VmRSS and VmHWM (peak) in MiB."""
    rs = g("r1")
    pid = rs.cmd_raises("cat /var/run/frr/bgpd.pid").strip()
    status = rs.cmd_raises("cat /proc/{}/status".format(pid))
    vals = {}
    for line in status.splitlines():
        key = line.split(":")[0]
        if key in ("VmRSS", "VmHWM"):
            vals[key] = int(line.split()[1]) // 1024
    return vals


def timed(what, func, expected):
    t0 = time.time()
    wait_for(func, expected, what, count=POLLS, wait=WAIT)
    return time.time() - t0


def test_injected_table_reaches_nva():
    FIGURES["bgpd memory before load"] = bgpd_memory()
    t0 = time.time()
    inj = g("inj")
    rsbird.start_bird(inj, injector_conf(os.path.join(inj.gearlogdir, "bird.log")))
    wait_for(rs_received, N, "r1 has the {} injected prefixes".format(N), count=POLLS, wait=WAIT)
    FIGURES["rs has all"] = time.time() - t0
    wait_for(nva_count, N + 1, "nva has them and the VNet route (b2b on)", count=POLLS, wait=WAIT)
    FIGURES["nva has all"] = time.time() - t0
    FIGURES["bgpd memory after load"] = bgpd_memory()
    logger.info("table: N=%d: %s", N, FIGURES)


def test_b2b_off_withdraws_all():
    out = configure(g("r1"), "no bgp route-server branch-to-branch")
    assert "%" not in out, out
    FIGURES["b2b off: nva withdrawn"] = timed("nva keeps only the VNet route (b2b off)", nva_count, 1)
    n = rs_json(g("r1"))["neighbors"]
    assert n[NVA]["prefixesWithheld"] == N
    assert n[INJ]["prefixesReceived"] == N
    logger.info("table: N=%d: %s", N, FIGURES)


def timed_cmd(what, cmd):
    """Runs a vtysh command on r1 as an operator would (`vtysh -c CMD >
    FILE`), returns (seconds, output). The time excludes the test's own
    reading and parsing of a large output through the framework."""
    rs = g("r1")
    path = os.path.join(rs.gearlogdir, "cp-{}.out".format(what))
    t0 = time.time()
    rs.cmd_raises("vtysh -c '{}' > {}".format(cmd, path))
    secs = time.time() - t0
    with open(path) as f:
        out = f.read()
    os.unlink(path)
    return secs, out


# Control plane at scale: each of these is at most one table walk per
# instance; target <= 2 s at 1,000,000 routes (sanitizer builds are slower
# and only report).
CONTROL_PLANE_TARGET = 2.0


def test_control_plane_at_scale():
    """With b2b off, nva is withheld all N injected prefixes: time the show
    JSON, the withheld JSON and the YANG state on the full table."""
    import json

    figures = {}
    secs, out = timed_cmd("show", "show bgp route-server json")
    figures["show bgp route-server json"] = secs
    assert json.loads(out)["neighbors"][NVA]["prefixesWithheld"] == N
    secs, out = timed_cmd("withheld", "show bgp route-server withheld {} json".format(NVA))
    figures["show bgp route-server withheld json"] = secs
    assert json.loads(out)["totalWithheld"] == N
    secs, out = timed_cmd(
        "yang", "show yang operational-data /frr-bgp-route-server:route-server bgpd")
    figures["YANG state"] = secs
    state = json.loads(out)["frr-bgp-route-server:route-server"]["instance"][0]["state"]
    nva = [n for n in state["neighbor"] if n["name"] == NVA][0]
    assert nva["prefixes-withheld"] == N
    logger.info("table: N=%d: control plane (s): %s", N, figures)
    print("control plane at N={}: {}".format(
        N, ", ".join("{} {:.2f} s".format(k, v) for k, v in figures.items())))
    rs = g("r1")
    sanitized = "libasan" in rs.cmd("ldd {}/bgpd".format(rs.net.daemondir))
    if N >= 1000000 and not sanitized:
        slow = {k: v for k, v in figures.items() if v > CONTROL_PLANE_TARGET}
        assert not slow, "over {} s at N={}: {}".format(CONTROL_PLANE_TARGET, N, slow)


def test_b2b_on_again():
    out = configure(g("r1"), "bgp route-server branch-to-branch")
    assert "%" not in out, out
    FIGURES["b2b on: nva has all"] = timed("nva has them again (b2b on)", nva_count, N + 1)
    assert rs_json(g("r1"))["neighbors"][NVA]["prefixesWithheld"] == 0
    FIGURES["bgpd memory at end"] = bgpd_memory()
    logger.info("table: N=%d: %s", N, FIGURES)
