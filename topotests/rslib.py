# SPDX-License-Identifier: GPL-2.0-or-later
"""Helpers shared by the route-server topotests (FRR topotest framework)."""

import json
import os
import shlex
import shutil
import tempfile

from lib import topotest

RS_MODULE = "-M route_server"


def start_lan(mod, test_dir, routers, rs="r1"):
    """Start routers on one shared segment, each with test_dir/NAME/frr.conf
    (zebra + bgpd; the route server's bgpd loads the module)."""
    from lib.topogen import TopoRouter

    tgen = start_lan_topology(mod, routers)
    for name, router in tgen.routers().items():
        router.load_frr_config(
            os.path.join(test_dir, name, "frr.conf"),
            [(TopoRouter.RD_ZEBRA, ""), (TopoRouter.RD_BGP, RS_MODULE if name == rs else "")],
        )
    tgen.start_router()
    return tgen


# A plain FRR peer of r1 (192.168.1.1, AS 65515) on the shared LAN,
# announcing one prefix.
FRR_PEER_CONF = """\
hostname {name}
interface {name}-eth0
 ip address {addr}/24
!
router bgp {asn}
 bgp router-id {addr}
 no bgp ebgp-requires-policy
 no bgp network import-check
 neighbor 192.168.1.1 remote-as 65515
 neighbor 192.168.1.1 timers connect 2
 address-family ipv4 unicast
  network {net}
 exit-address-family
!
"""


def start_lan_topology(mod, routers):
    """Topogen with routers on one shared segment s1, started (no daemons
    yet)."""
    from lib.topogen import Topogen

    def build(tgen):
        sw = tgen.add_switch("s1")
        for r in routers:
            tgen.add_router(r)
            sw.add_link(tgen.gears[r])

    tgen = Topogen(build, mod.__name__)
    tgen.start_topology()
    return tgen


def load_frr_peer(tgen, name, addr, asn, net):
    """Give router name FRR_PEER_CONF (zebra + bgpd, no module)."""
    from lib.topogen import TopoRouter

    path = os.path.join(tgen.logdir, name + "-frr.conf")
    with open(path, "w") as f:
        f.write(FRR_PEER_CONF.format(name=name, addr=addr, asn=asn, net=net))
    tgen.gears[name].load_frr_config(path, [(TopoRouter.RD_ZEBRA, ""), (TopoRouter.RD_BGP, "")])


def vtysh_json(router, cmd):
    out = router.vtysh_cmd(cmd)
    try:
        return json.loads(out)
    except ValueError as err:
        raise AssertionError("{}: '{}' is not JSON: {!r}".format(router.name, cmd, out)) from err


def wait_for(func, expected, what, count=60, wait=0.5):
    """Retry func() until it equals expected (FRR's run_and_expect)."""
    ok, result = topotest.run_and_expect(func, expected, count=count, wait=wait)
    assert ok, "{}: expected {!r}, last got {!r}".format(what, expected, result)
    return result


def received_prefixes(router, afi="ipv4"):
    """Set of prefixes in router's BGP table."""
    data = vtysh_json(router, "show bgp {} unicast json".format(afi))
    return set(data.get("routes", {}).keys())


def advertised_prefixes(router, neighbor, afi="ipv4"):
    data = vtysh_json(
        router, "show bgp {} unicast neighbors {} advertised-routes json".format(afi, neighbor)
    )
    return set(data.get("advertisedRoutes", {}).keys())


def established_counters(router):
    """neighbor -> (sessions established, sessions dropped): any reset
    changes one of them."""
    data = vtysh_json(router, "show bgp neighbors json")
    return {
        n: (v.get("connectionsEstablished"), v.get("connectionsDropped"))
        for n, v in data.items()
        if isinstance(v, dict) and "bgpState" in v
    }


def all_established(router, neighbors):
    data = vtysh_json(router, "show bgp neighbors json")
    return all(data.get(n, {}).get("bgpState") == "Established" for n in neighbors)


def roles_exchange(src_role, dst_role, b2b):
    """The specification's matrix between two role neighbors (CLI words):
    NVA to NVA always, the same gateway type never, the rest only with
    branch-to-branch."""
    if src_role == dst_role == "nva":
        return True
    if src_role == dst_role:
        return False
    return b2b


def vtysh_config(router, *lines):
    """Run config lines through "vtysh -c" (as an operator would, each line
    in order); returns what vtysh printed, errors and warnings included."""
    args = " ".join("-c {}".format(shlex.quote(l)) for l in ("configure terminal",) + lines)
    return router.cmd("vtysh {} 2>&1".format(args))


def configure(router, *lines, bgp_as=65515):
    """Apply config lines inside 'router bgp ASN'; returns vtysh output."""
    return vtysh_config(router, "router bgp {}".format(bgp_as), *lines)


def running_config(router):
    return router.vtysh_cmd("show running-config")


def have(binary):
    return shutil.which(binary) is not None


# --- the route server run as a packaged FRR (frrinit.sh + watchfrr) --------

# /etc/frr/daemons of the route server; the logs go to the test's log dir
# ({d}); watchfrr restarts a dead daemon after 1 s, not 60.
DAEMONS = """\
bgpd=yes
vtysh_enable=yes
zebra_options="--log file:{d}/zebra.log"
mgmtd_options="--log file:{d}/mgmtd.log"
staticd_options="--log file:{d}/staticd.log"
bgpd_options="-M route_server --log file:{d}/bgpd.log"
watchfrr_options="--min-restart-interval 1 --max-restart-interval 4 --log file:{d}/watchfrr.log --log-level debug"
"""


def frrinit(rs):
    return os.path.join(rs.net.daemondir, "frrinit.sh")


def daemon_pid(router, daemon):
    """pid of a running daemon from its pidfile, else None."""
    out = router.cmd("cat /var/run/frr/{}.pid 2>/dev/null".format(daemon)).strip()
    if not out.isdigit():
        return None
    alive = router.cmd("kill -0 {} 2>/dev/null && echo yes".format(out)).strip()
    return int(out) if alive == "yes" else None


def start_frr_service(rs, conf, daemons=DAEMONS, wait=("bgpd",)):
    """Start the route server as a package does: /etc/frr/frr.conf,
    /etc/frr/daemons (daemons, formatted with d = the router's log dir),
    frrinit.sh start (watchfrr starts the daemons and applies the
    integrated config with vtysh -b); waits for each daemon of wait and
    for the BGP config."""
    d = rs.gearlogdir
    rs.cmd_raises("cat > /etc/frr/frr.conf", stdin=conf)
    rs.cmd_raises("cat > /etc/frr/daemons", stdin=daemons.format(d=d))
    # the framework wrote "no service integrated-vtysh-config" for the router
    rs.cmd_raises("echo 'service integrated-vtysh-config' > /etc/frr/vtysh.conf")
    rs.cmd_raises("chown -R frr:frr /etc/frr {}".format(d))
    rs.cmd_raises("{} start >{}/frrinit.out 2>&1".format(frrinit(rs), d))
    for daemon in wait:
        wait_for(lambda: daemon_pid(rs, daemon) is not None, True,
                 "{} {} started by watchfrr".format(rs.name, daemon))
    wait_for(lambda: "router bgp 65515" in running_config(rs), True,
             "{} config applied".format(rs.name), count=40)


def stop_frr_service(rs):
    rs.cmd("{} stop >>{}/frrinit.out 2>&1".format(frrinit(rs), rs.gearlogdir))


# --- the seed scenarios (configs shared with the demo, in scenarios/) -----

SCENARIOS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "scenarios")


def scenario_links(name):
    """[(node, segment, address)] from scenarios/<name>/topology."""
    links = []
    with open(os.path.join(SCENARIOS, name, "topology")) as f:
        for line in f:
            fields = line.split("#")[0].split()
            if fields:
                links.append(tuple(fields))
    return links


def build_scenario(tgen, name, skip=()):
    """Routers and segments of a scenario; interfaces are named after
    their segment, as in the demo."""
    build_links(tgen, [l for l in scenario_links(name) if l[0] not in skip])


def scenario_config(name, node, dest_dir):
    """The scenario's config for node, preceded by its interface addresses
    (the framework flushes addresses that zebra is not configured with)."""
    lines = ["frr defaults traditional"]
    for n, seg, addr in scenario_links(name):
        if n == node:
            lines += ["interface " + seg, " ip address " + addr, "exit"]
    with open(os.path.join(SCENARIOS, name, node + ".conf")) as f:
        body = f.read()
    path = os.path.join(dest_dir, node + "-frr.conf")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n" + body)
    return path


def load_scenario_frr(tgen, name, skip=(), rs="rs"):
    from lib.topogen import TopoRouter

    dest = tempfile.mkdtemp(prefix="rs-topotest-")
    for node, router in tgen.routers().items():
        if node in skip:
            continue
        router.cmd_raises("sysctl -qw net.ipv4.ip_forward=1")
        router.load_frr_config(
            scenario_config(name, node, dest),
            [(TopoRouter.RD_ZEBRA, ""), (TopoRouter.RD_BGP, RS_MODULE if node == rs else "")],
        )


def ping(router, src, dst):
    out = router.cmd("ping -c 2 -W 1 -I {} {} >/dev/null 2>&1 && echo ok || echo fail".format(src, dst))
    return out.strip() == "ok"


def rs_json(rs):
    return vtysh_json(rs, "show bgp route-server json")


# --- topologies with extra nodes / non-FRR nodes -----------------------------


def build_links(tgen, links):
    """Routers and segments from a [(node, segment, address)] list (e.g. a
    scenario's links plus extra nodes); one switch per segment."""
    for node in dict.fromkeys(l[0] for l in links):
        tgen.add_router(node)
    for seg in dict.fromkeys(l[1] for l in links):
        sw = tgen.add_switch("sw-" + seg)
        for node, s, _ in links:
            if s == seg:
                sw.add_link(tgen.gears[node], nodeif=seg)


def set_addresses(router, links, forwarding=True):
    """Give a node that zebra does not manage its addresses from links (call
    after tgen.start_router(), which flushes them) and enable forwarding."""
    router.cmd_raises("ip link set lo up")
    for node, seg, addr in links:
        if node == router.name:
            router.cmd_raises("ip link set {} up".format(seg))
            router.cmd_raises("ip addr add {} dev {}".format(addr, seg))
    if forwarding:
        router.cmd_raises("sysctl -qw net.ipv4.ip_forward=1")


def load_rs_config(tgen, text, name="r1"):
    """Write the route server's frr.conf into the run's log directory and
    load it with zebra and bgpd with the module (daemons start with
    tgen.start_router())."""
    from lib.topogen import TopoRouter

    conf = os.path.join(tgen.logdir, "{}-frr.conf".format(name))
    with open(conf, "w") as f:
        f.write(text)
    tgen.gears[name].load_frr_config(
        conf, [(TopoRouter.RD_ZEBRA, ""), (TopoRouter.RD_BGP, RS_MODULE)])
