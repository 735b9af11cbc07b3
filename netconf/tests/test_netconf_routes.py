# SPDX-License-Identifier: GPL-2.0-or-later
"""
Commits over NETCONF really change routes: seed scenario 1 (route server,
SD-WAN NVA, ExpressRoute gateway and their on-prem sites, real FRR daemons
in network namespaces, as in the demo), with netconfd's SIL pointed at the
route server's bgpd. Added to the scenario for the routing preference:
both on-prem sites also announce SHARED (on-prem 2 with its AS prepended
twice, so the ExpressRoute path has the longer AS path), and a role-less
VNet peer "vm" (AS 65030), which receives the route server's overall best
path.
"""

import json
import os
import sys
import xml.etree.ElementTree as ET

import pytest

from test_netconf import FILTER, NS, OPER, Env, PREFIX, TOP, cfg, inst, wait_for

sys.path.insert(0, os.path.join(TOP, "demo"))
from netlab import Lab  # noqa: E402

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root")

SEED1 = os.path.join(TOP, "scenarios", "seed1")
ONPREM1, ONPREM2 = "192.168.10.0/24", "192.168.20.0/24"
SHARED = "172.16.99.0/24"
NVA, ERGW, VM = "10.1.0.10", "10.1.0.20", "10.1.0.30"
VM_CONF = """\
hostname vm
router bgp 65030
 bgp router-id 10.1.0.30
 no bgp ebgp-requires-policy
 neighbor 10.1.0.4 remote-as 65515
exit
"""


def table(node):
    out = node.vtysh("show bgp ipv4 unicast json")
    try:
        return set(json.loads(out).get("routes", {}))
    except ValueError:
        return set()


def established(node):
    peers = json.loads(node.vtysh("show bgp summary json") or "{}").get("ipv4Unicast", {}).get("peers", {})
    return bool(peers) and all(p.get("state") == "Established" for p in peers.values())


def node_json(node, cmd):
    try:
        return json.loads(node.vtysh(cmd) or "{}")
    except ValueError:
        return {}


def best(node, prefix):
    """(peer, selection reason, AS path) of node's best path to prefix."""
    for p in node_json(node, "show bgp ipv4 unicast %s json" % prefix).get("paths", []):
        if p.get("bestpath", {}).get("overall"):
            return (p.get("peer", {}).get("peerId"), p["bestpath"].get("selectionReason"),
                    p.get("aspath", {}).get("string"))
    return None


def sessions(node):
    """neighbor -> (established, dropped): a session reset changes one."""
    return {n: (v.get("connectionsEstablished"), v.get("connectionsDropped"))
            for n, v in node_json(node, "show bgp neighbors json").items()
            if isinstance(v, dict) and "bgpState" in v}


def conf(name, lab):
    """The seed config of a node, with this test's additions."""
    if name == "vm":
        text = VM_CONF
    else:
        with open(os.path.join(SEED1, name + ".conf")) as f:
            text = f.read()
    if name == "rs":
        text = text.replace(" neighbor 10.1.0.20 remote-as internal\n",
                            " neighbor 10.1.0.20 remote-as internal\n neighbor %s remote-as 65030\n" % VM)
    elif name == "onprem1":
        text = text.replace(" no bgp ebgp-requires-policy\n",
                            " no bgp ebgp-requires-policy\n no bgp network import-check\n")
        text = text.replace("  network %s\n" % ONPREM1, "  network %s\n  network %s\n" % (ONPREM1, SHARED))
    elif name == "onprem2":
        text = text.replace("router bgp 65020\n",
                            "route-map PREPEND permit 10\n set as-path prepend 65020 65020\nexit\n"
                            "router bgp 65020\n")
        text = text.replace(" no bgp ebgp-requires-policy\n",
                            " no bgp ebgp-requires-policy\n no bgp network import-check\n")
        text = text.replace("  network %s\n" % ONPREM2,
                            "  network %s\n  network %s route-map PREPEND\n" % (ONPREM2, SHARED))
    path = os.path.join(lab.dir, name + "-test.conf")
    with open(path, "w") as f:
        f.write(text)
    return path


@pytest.fixture(scope="module")
def lab():
    os.environ["PATH"] = "{0}/bin:{0}/sbin:{1}".format(PREFIX, os.environ["PATH"])
    lab = Lab(PREFIX, tag="rsnc")
    env = None
    try:
        lab.load_topology(os.path.join(SEED1, "topology"))
        lab.link("vm", "vnet", VM + "/24")
        for name, node in lab.nodes.items():
            node.start_frr(conf(name, lab), ["-M", "route_server"] if name == "rs" else [])
        wait_for(lambda: all(established(n) for n in lab.nodes.values()), timeout=60, what="BGP sessions")

        rs_dir = lab.nodes["rs"].dir
        env = Env()
        env.env.update(FRR_RS_VTY_SOCKET=os.path.join(rs_dir, "run"), FRR_RS_CONFIG_DIR=os.path.join(rs_dir, "etc"))
        env.users()
        env.start_netconfd()
        env.start_sshd()
        env.install_keys()
        yield lab, env
    finally:
        if env:
            env.close()
        lab.close()


def test_committed_b2b_changes_routes_on_peers(lab):
    lab, env = lab
    nva, ergw, onprem1 = lab.nodes["nva"], lab.nodes["ergw"], lab.nodes["onprem1"]
    wait_for(lambda: ONPREM1 in table(nva) and ONPREM2 in table(ergw), timeout=30, what="routes")
    assert ONPREM2 not in table(nva) and ONPREM1 not in table(ergw)
    with env.connect(OPER) as m:
        m.edit_config(target="candidate", config=cfg(inst("<branch-to-branch>true</branch-to-branch>")))
        m.commit()
        wait_for(lambda: ONPREM2 in table(nva) and ONPREM1 in table(ergw), timeout=30,
                 what="branch routes after the NETCONF commit")
        wait_for(lambda: onprem1.run("ping", "-c", "1", "-W", "1", "-I", "192.168.10.1", "192.168.20.1",
                                     check=False).returncode == 0, timeout=20, what="ping on-prem 1 -> 2")
        state = m.get(filter=("subtree", '<route-server xmlns="%s"/>' % NS)).data_xml
        assert "Established" in state
        m.edit_config(target="candidate", config=cfg(inst("<branch-to-branch>false</branch-to-branch>")))
        m.commit()
        wait_for(lambda: ONPREM2 not in table(nva) and ONPREM1 not in table(ergw), timeout=30,
                 what="branch routes withdrawn after the NETCONF commit")


def test_committed_preference_changes_best_path(lab):
    """SHARED reaches the route server from the ExpressRoute gateway (AS
    path 65020 65020 65020) and from the NVA (65001 65010). Each commit of
    routing-preference changes the route server's best path (and the
    reason bgpd gives), its RIB, and the path the VNet peer receives,
    without resetting a session."""
    lab, env = lab
    rs, vm = lab.nodes["rs"], lab.nodes["vm"]
    er_path, nva_path = "65515 65020 65020 65020", "65515 65001 65010"

    def rs_best():
        b = best(rs, SHARED)
        return b and b[:2]

    def rib_nexthop():
        routes = node_json(rs, "show ip route %s json" % SHARED).get(SHARED, [])
        for r in routes:
            if r.get("selected"):
                return [nh.get("ip") for nh in r.get("nexthops", []) if nh.get("active")]
        return None

    def vm_aspath():
        """AS path of the path the VNet peer receives."""
        b = best(vm, SHARED)
        return b and b[2]

    wait_for(lambda: len(node_json(rs, "show bgp ipv4 unicast %s json" % SHARED).get("paths", [])) == 2,
             timeout=30, what="SHARED from both sites at the route server")
    # the default, expressroute: the ExpressRoute path despite its longer AS path
    wait_for(lambda: rs_best() == (ERGW, "Routing preference"), timeout=30, what="rs best (default)")
    wait_for(lambda: vm_aspath() == er_path, timeout=30, what="vm receives the ER path")
    before = sessions(rs)

    with env.connect(OPER) as m:
        steps = [("vpn", (NVA, "Routing preference"), nva_path),
                 ("as-path", (NVA, "AS Path"), nva_path),
                 ("expressroute", (ERGW, "Routing preference"), er_path),
                 ("vpn", (NVA, "Routing preference"), nva_path)]
        for value, rs_expect, vm_expect in steps:
            m.edit_config(target="candidate", config=cfg(inst(
                "<routing-preference>%s</routing-preference>" % value)))
            m.commit()
            assert json.loads(rs.vtysh("show bgp route-server json"))["routingPreference"] == value
            wait_for(lambda: rs_best() == rs_expect, timeout=30, what="rs best with %s" % value)
            wait_for(lambda: rib_nexthop() == [rs_expect[0]], timeout=30, what="rs RIB with %s" % value)
            wait_for(lambda: vm_aspath() == vm_expect, timeout=30, what="vm's path with %s" % value)

        # the state counter in <get> is bgpd's
        data = ET.fromstring(m.get(filter=FILTER).data_xml)
        j = json.loads(rs.vtysh("show bgp route-server json"))["neighbors"]
        got = {n.find("{%s}name" % NS).text: n.find("{%s}prefixes-alternate-path" % NS)
               for n in data.iter("{%s}neighbor" % NS) if n.find("{%s}session-state" % NS) is not None}
        assert set(got) == {NVA, ERGW}
        assert {n: int(v.text) for n, v in got.items()} == {n: j[n]["prefixesAlternatePath"] for n in got}

        # back to the default by removing the leaf
        m.edit_config(target="candidate", config=cfg(inst('<routing-preference nc:operation="remove"/>')))
        m.commit()
        wait_for(lambda: rs_best() == (ERGW, "Routing preference"), timeout=30, what="rs best (default again)")
        wait_for(lambda: vm_aspath() == er_path, timeout=30, what="vm receives the ER path again")
    assert "routing-preference" not in rs.vtysh("show running-config")
    assert sessions(rs) == before
