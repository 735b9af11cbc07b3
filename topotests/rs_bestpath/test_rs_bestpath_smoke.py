#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""
Smoke test of the best allowed path and the routing preference with plain
FRR peers (eBGP, distinct ASNs, one LAN): 10.99.0.0/24 from er1 (AS path
1 long) and from nva1 (prepended: 3 long).

  r1   192.168.1.1  route server, AS 65515
  er1  192.168.1.2  AS 65101  gateway expressroute, announces P
  er2  192.168.1.3  AS 65102  gateway expressroute
  vpn1 192.168.1.4  AS 65201  gateway vpn
  nva1 192.168.1.5  AS 65301  nva, announces P with its AS prepended twice
  nva2 192.168.1.6  AS 65302  nva
"""

import os
import sys

import pytest

CWD = os.path.dirname(os.path.abspath(__file__))
sys.path.append(os.path.join(CWD, ".."))
sys.path.append(os.path.join(CWD, "../.."))

import rslib  # noqa: E402

pytestmark = [pytest.mark.bgpd]

P = "10.99.0.0/24"
PEERS = {
    "er1": ("192.168.1.2", 65101, "gateway expressroute", 0),
    "er2": ("192.168.1.3", 65102, "gateway expressroute", None),
    "vpn1": ("192.168.1.4", 65201, "gateway vpn", None),
    "nva1": ("192.168.1.5", 65301, "nva", 2),
    "nva2": ("192.168.1.6", 65302, "nva", None),
}

PEER_CONF = """\
hostname {name}
interface {name}-eth0
 ip address {addr}/24
!
ip prefix-list P seq 5 permit {p}
route-map OUT permit 10
 match ip address prefix-list P
{prepend}
route-map OUT permit 20
!
router bgp {asn}
 bgp router-id {addr}
 no bgp ebgp-requires-policy
 no bgp network import-check
 neighbor 192.168.1.1 remote-as 65515
 neighbor 192.168.1.1 timers connect 2
 address-family ipv4 unicast
{network}
  neighbor 192.168.1.1 route-map OUT out
 exit-address-family
!
"""


@pytest.fixture(scope="module")
def tgen(request):
    from lib.topogen import TopoRouter

    mod = request.module
    tg = rslib.start_lan_topology(mod, ["r1"] + list(PEERS))
    lines = ["hostname r1", "debug bgp route-server", "interface r1-eth0", " ip address 192.168.1.1/24", "!",
             "router bgp 65515", " bgp router-id 192.168.1.1", " no bgp ebgp-requires-policy"]
    for name, (addr, asn, role, _) in PEERS.items():
        lines += [" neighbor {} remote-as {}".format(addr, asn),
                  " neighbor {} timers connect 2".format(addr),
                  " neighbor {} route-server role {}".format(addr, role)]
    rslib.load_rs_config(tg, "\n".join(lines) + "\n!\n")
    for name, (addr, asn, role, prepend) in PEERS.items():
        path = os.path.join(tg.logdir, name + "-frr.conf")
        with open(path, "w") as f:
            f.write(PEER_CONF.format(
                name=name, addr=addr, asn=asn, p=P,
                prepend=" set as-path prepend {0} {0}".format(asn) if prepend else "",
                network="  network {}".format(P) if prepend is not None else ""))
        tg.gears[name].load_frr_config(path, [(TopoRouter.RD_ZEBRA, ""), (TopoRouter.RD_BGP, "")])
    tg.start_router()
    r1 = tg.gears["r1"]
    rslib.wait_for(lambda: rslib.all_established(r1, [v[0] for v in PEERS.values()]),
                   True, "sessions up")
    yield tg
    tg.stop_topology()


def nexthop_at(tg, name):
    """Next hop of P at peer name (the path r1 sent), or None."""
    data = rslib.vtysh_json(tg.gears[name], "show bgp ipv4 unicast {} json".format(P))
    for path in data.get("paths", []):
        if path.get("bestpath", {}).get("overall"):
            return path["nexthops"][0]["ip"]
    return None


def state(tg):
    return {n: nexthop_at(tg, n) for n in ("er2", "vpn1", "nva2")}


def rs_best(tg):
    data = rslib.vtysh_json(tg.gears["r1"], "show bgp ipv4 unicast {} json".format(P))
    for path in data.get("paths", []):
        if path.get("bestpath", {}).get("overall"):
            return path["peer"]["peerId"], path["bestpath"].get("selectionReason")
    return None


ER1, NVA1 = "192.168.1.2", "192.168.1.5"


def test_b2b_off_expressroute(tgen):
    r1 = tgen.gears["r1"]
    rslib.wait_for(lambda: rs_best(tgen), (ER1, "Routing preference"), "r1 best")
    rslib.wait_for(lambda: state(tgen), {"er2": None, "vpn1": None, "nva2": NVA1}, "b2b off")
    w = rslib.vtysh_json(r1, "show bgp route-server withheld 192.168.1.6 json")
    assert w["totalAlternatePaths"] == 1 and w["totalWithheld"] == 0, w
    assert w["alternatePaths"][0]["sentSourceNeighbor"] == NVA1, w
    text = r1.vtysh_cmd("show bgp route-server withheld 192.168.1.6")
    assert "Best path withheld, another path sent" in text and NVA1 in text, text


def test_b2b_on(tgen):
    r1 = tgen.gears["r1"]
    rslib.configure(r1, "bgp route-server branch-to-branch")
    rslib.wait_for(lambda: state(tgen), {"er2": NVA1, "vpn1": ER1, "nva2": ER1}, "b2b on")
    # er1's own path is the best but ER -> ER: it is sent NVA 1's path
    w = rslib.vtysh_json(r1, "show bgp route-server withheld {} json".format(ER1))
    assert [(a["prefix"], a["sentSourceNeighbor"]) for a in w["alternatePaths"]] == [(P, NVA1)], w
    n = rslib.rs_json(r1)["neighbors"][ER1]
    assert (n["prefixesAlternatePath"], n["prefixesWithheld"]) == (1, 0), n


def test_pref_vpn(tgen):
    r1 = tgen.gears["r1"]
    before = rslib.established_counters(r1)
    rslib.configure(r1, "bgp route-server routing-preference vpn")
    rslib.wait_for(lambda: rs_best(tgen), (NVA1, "Routing preference"), "r1 best vpn")
    rslib.wait_for(lambda: state(tgen), {"er2": NVA1, "vpn1": NVA1, "nva2": NVA1}, "pref vpn")
    assert "bgp route-server routing-preference vpn" in rslib.running_config(r1)
    assert rslib.established_counters(r1) == before


def test_pref_aspath(tgen):
    r1 = tgen.gears["r1"]
    rslib.configure(r1, "bgp route-server routing-preference as-path")
    rslib.wait_for(lambda: rs_best(tgen)[0], ER1, "r1 best as-path")
    rslib.configure(r1, "no bgp route-server branch-to-branch",
                    "no bgp route-server routing-preference")
    assert "routing-preference" not in rslib.running_config(r1)
    rslib.wait_for(lambda: state(tgen), {"er2": None, "vpn1": None, "nva2": NVA1}, "back")


def test_withdraw_best(tgen):
    er1 = tgen.gears["er1"]
    rslib.configure(er1, "address-family ipv4 unicast", "no network " + P, bgp_as=65101)
    rslib.wait_for(lambda: state(tgen), {"er2": None, "vpn1": None, "nva2": NVA1},
                   "after withdraw of er1 (b2b off)")
    rslib.wait_for(lambda: rs_best(tgen)[0], NVA1, "r1 best nva1")
    rslib.configure(er1, "address-family ipv4 unicast", "network " + P, bgp_as=65101)
    rslib.wait_for(lambda: rs_best(tgen)[0], ER1, "r1 best er1 again")
    nva1 = tgen.gears["nva1"]
    rslib.configure(nva1, "address-family ipv4 unicast", "no network " + P, bgp_as=65301)
    rslib.wait_for(lambda: state(tgen), {"er2": None, "vpn1": None, "nva2": None},
                   "alternative withdrawn")
