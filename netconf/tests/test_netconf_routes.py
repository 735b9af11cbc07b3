# SPDX-License-Identifier: GPL-2.0-or-later
"""
A branch-to-branch change committed over NETCONF really changes routes on
peers: seed scenario 1 (route server, SD-WAN NVA, ExpressRoute gateway and
their on-prem sites, real FRR daemons in network namespaces, as in the
demo), with netconfd's SIL pointed at the route server's bgpd.
"""

import json
import os
import sys

from test_netconf import NS, OPER, Env, PREFIX, TOP, cfg, inst, wait_for

sys.path.insert(0, os.path.join(TOP, "demo"))
from netlab import Lab  # noqa: E402

SEED1 = os.path.join(TOP, "scenarios", "seed1")
ONPREM1, ONPREM2 = "192.168.10.0/24", "192.168.20.0/24"


def table(node):
    out = node.vtysh("show bgp ipv4 unicast json")
    try:
        return set(json.loads(out).get("routes", {}))
    except ValueError:
        return set()


def established(node):
    peers = json.loads(node.vtysh("show bgp summary json") or "{}").get("ipv4Unicast", {}).get("peers", {})
    return bool(peers) and all(p.get("state") == "Established" for p in peers.values())


def test_committed_b2b_changes_routes_on_peers():
    os.environ["PATH"] = "{0}/bin:{0}/sbin:{1}".format(PREFIX, os.environ["PATH"])
    lab = Lab(PREFIX, tag="rsnc")
    env = None
    try:
        lab.load_topology(os.path.join(SEED1, "topology"))
        for name, node in lab.nodes.items():
            node.start_frr(os.path.join(SEED1, name + ".conf"), ["-M", "route_server"] if name == "rs" else [])
        wait_for(lambda: all(established(n) for n in lab.nodes.values()), timeout=60, what="BGP sessions")
        nva, ergw, onprem1 = lab.nodes["nva"], lab.nodes["ergw"], lab.nodes["onprem1"]
        wait_for(lambda: ONPREM1 in table(nva) and ONPREM2 in table(ergw), timeout=30, what="routes")
        assert ONPREM2 not in table(nva) and ONPREM1 not in table(ergw)

        rs_dir = lab.nodes["rs"].dir
        env = Env()
        env.env.update(FRR_RS_VTY_SOCKET=os.path.join(rs_dir, "run"), FRR_RS_CONFIG_DIR=os.path.join(rs_dir, "etc"))
        env.users()
        env.start_netconfd()
        env.start_sshd()
        env.install_keys()
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
    finally:
        if env:
            env.close()
        lab.close()
