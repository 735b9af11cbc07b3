#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""
Best allowed path per role and routing preference (design/semantics.md,
"Best allowed path (no path hiding)" and "Routing preference") with
independent BGP speakers around the route server. All on one LAN, eBGP
everywhere; r1 keeps each path's next hop (third-party next hop on a
shared LAN), so the next hop a peer holds names the path it was sent:

  r1    192.168.1.1  FRR zebra + bgpd -M route_server, AS 65515; originates
                     the VNet prefix 10.100.0.0/16, installs its best path
                     for the on-prem prefix P = 10.99.0.0/24 in its kernel
  er1   192.168.1.2  BIRD 2,  AS 65101, gateway expressroute   source of P
  er2   192.168.1.3  ExaBGP,  AS 65102, gateway expressroute
  vpn1  192.168.1.4  GoBGP,   AS 65201, gateway vpn            source of P
  vpn2  192.168.1.5  ExaBGP,  AS 65202, gateway vpn
  nva1  192.168.1.6  ExaBGP,  AS 65301, nva                    source of P
  nva2  192.168.1.7  ExaBGP,  AS 65301, nva (nva1's HA pair)   source of P
  nva3  192.168.1.8  ExaBGP,  AS 65303, nva

The test changes, at run time, whether each source announces P and with
what AS path length and MED (BIRD: static protocols enabled/disabled, one
per AS-path prepend; ExaBGP: exa_peer.py, its API process, follows a file
the test rewrites; GoBGP: `gobgp global rib add/del`). nva1 and nva2 share
an AS, so their paths are compared by MED, and each drops the other's path
as an AS-path loop (an implicit withdraw of the path it held, RFC 4271;
GoBGP 3.10 keeps the earlier path instead, osrg/gobgp#2832, so GoBGP plays
vpn1, which never receives its own AS). Each source also has its own
address inside P on its loopback (10.99.0.<last octet of its LAN
address>), which answers pings only on that source: a ping from r1 to it
proves which gateway r1's kernel forwards P to.

A peer whose best allowed path is its own holds nothing. bgpd may still
send it that path: an update-group of several eBGP peers sends a path
back to its source (no sender-side AS-path loop check by default), with
the next hop kept or reset to r1's address; the source drops it as a loop.
The monitors count such an announce as the receiver's own path (allowed
to an NVA, never to a gateway).

An oracle in the test computes from the announcements, the roles, b2b and
the preference: r1's best-path order (preference rank, then AS path length,
then MED; the scenarios never tie), r1's best path and, when two paths
compete, the selection reason; for every peer the first path in that order
the matrix allows to its role (nothing when that is its own or, for the
nva1/nva2 pair, carries its own AS); `show bgp route-server withheld PEER`
for every peer (prefixes with no allowed path, and the alternate paths
with the path sent); `show bgp route-server json` counters equal to those
lists. Each check waits until r1, its kernel FIB and all seven speakers'
tables match the oracle, then checks again 0.3 s later.

The ExaBGP peers (er2, vpn2, nva1, nva2, nva3) record every UPDATE they
receive. Around every change the test asserts that no peer received, even
for a moment, a path of P that the policy withholds from it both before and
after the change, and that no session of r1 was reset (connection counters
before/after); at the end, over the whole run, that er2 never received
er1's path and vpn2 never vpn1's (ExpressRoute to ExpressRoute and VPN to
VPN: never).

Tests:
  test_sessions_up: all sessions up, defaults (b2b off, preference
      expressroute, not in running-config), every peer holds the VNet.
  test_pair[SOURCES-b2b-PREF]: P from ER + NVA (er1 AS path 2, nva1 1),
      ER + VPN (er1 2, vpn1 3) and NVA + VPN (nva2 3, vpn1 1), with b2b off
      and on and each preference: r1's best path and selectionReason
      ("Routing preference" when the preference decides), its FIB, what
      every peer holds (also checked against a hand-written table),
      the withheld show and counters.
  test_dataplane_preference: P from er1 and vpn1; switching the
      preference expressroute -> vpn -> as-path -> vpn -> default moves
      r1's FIB next hop and where r1's pings go (the preferred gateway's
      address answers, the other's does not), with no session reset.
  test_preference_change_monitored: P from all four sources, b2b off;
      the preference cycled step by step and in one vtysh burst: no
      ExpressRoute or VPN path ever reaches an NVA, nothing reaches the
      gateways; nva3 keeps its NVA path.
  test_b2b_toggle_monitored: the same with b2b toggled (step by step,
      with a preference change while on, and in a burst): er2 never
      receives er1's path, vpn2 never vpn1's; both receive others' paths.
  test_withdraw_best_and_alternative: b2b off, er1 best, nva1/nva2 by MED:
      withdrawing the best, then the alternative, then the last NVA path.
  test_med_change_non_best: the MED of a non-best NVA path changes; nva3
      (b2b off) and er2 (b2b on) follow.
  test_aspath_change_non_best: the AS path length of non-best NVA and VPN
      (GoBGP) paths changes, b2b on: er2 follows, the others keep er1's
      path; then the preference as-path and a path shorter than er1's.
  test_role_change: nva1 becomes gateway vpn, gateway expressroute (b2b
      off, on, off) and nva again: which path is allowed where, and r1's
      best (ER against ER: AS path) follow.
  test_whole_run_isolation: the whole monitor logs: ER->ER and VPN->VPN
      never; every monitored session came up once and never went down;
      no session of r1 was reset during the module.
"""

import json
import os
import re
import shlex
import sys
import time

import pytest

CWD = os.path.dirname(os.path.abspath(__file__))
sys.path.append(CWD)
sys.path.append(os.path.join(CWD, ".."))
sys.path.append(os.path.join(CWD, "../.."))
sys.path.append(os.path.join(CWD, "../rs_restart"))

from lib.topogen import get_topogen  # noqa: E402
from lib.topolog import logger  # noqa: E402
import rslib  # noqa: E402
import rsbird  # noqa: E402

pytestmark = [pytest.mark.bgpd]

RS_ADDR, RS_AS = "192.168.1.1", 65515
P = "10.99.0.0/24"
VNET = "10.100.0.0/16"
EXABGP = "/usr/sbin/exabgp"
GOBGPD, GOBGP_CLI = "/usr/bin/gobgpd", "/usr/bin/gobgp"

ER, VPN, NVA = "gateway expressroute", "gateway vpn", "nva"
YANG = {ER: "gateway-expressroute", VPN: "gateway-vpn", NVA: "nva"}
PREFS = ("expressroute", "vpn", "as-path")
SETTLE = 0.3  # s a converged state must last (> the module's 100 ms debounce)

# name: (address, AS, implementation)
PEERS = {
    "er1": ("192.168.1.2", 65101, "bird"),
    "er2": ("192.168.1.3", 65102, "exabgp"),
    "vpn1": ("192.168.1.4", 65201, "gobgp"),
    "vpn2": ("192.168.1.5", 65202, "exabgp"),
    "nva1": ("192.168.1.6", 65301, "exabgp"),
    "nva2": ("192.168.1.7", 65301, "exabgp"),
    "nva3": ("192.168.1.8", 65303, "exabgp"),
}
ADDR = {n: v[0] for n, v in PEERS.items()}
ASN = {n: v[1] for n, v in PEERS.items()}
KIND = {n: v[2] for n, v in PEERS.items()}
BY_ADDR = {a: n for n, a in ADDR.items()}
ROLES0 = {"er1": ER, "er2": ER, "vpn1": VPN, "vpn2": VPN, "nva1": NVA, "nva2": NVA, "nva3": NVA}
SOURCES = ("er1", "vpn1", "nva1", "nva2")
LO = {n: "10.99.0." + ADDR[n].split(".")[-1] for n in SOURCES}
MONITORS = [n for n in PEERS if KIND[n] == "exabgp"]
BIRD_MAX_LEN = 4


class World:
    """What the test configured: the oracle's input."""

    def __init__(self):
        self.b2b = False
        self.pref = "expressroute"
        self.roles = dict(ROLES0)
        self.ann = {n: None for n in SOURCES}  # (AS path length, MED) or None


W = World()
STATE = {}
GOBGP_SP = {}


def g(name):
    return get_topogen().gears[name]


def out(msg, *args):
    text = msg % args if args else msg
    logger.info("rs_bestpath: %s", text)
    print("\nrs_bestpath: " + text, flush=True)


# --- speakers ----------------------------------------------------------------


BIRD_CONF = """\
router id {addr};
log "{log}" all;
protocol device {{
}}
{statics}
protocol bgp routeserver {{
  local {addr} as {asn};
  neighbor {rs} as {rs_as};
  direct;
  connect delay time 1;
  connect retry time 2;
  error wait time 1, 2;
  ipv4 {{
    import all;
    export filter {{
{prepends}      if proto ~ "st*" then {{ bgp_origin = ORIGIN_IGP; accept; }}
      reject;
    }};
  }};
}}
"""


def bird_conf(name):
    """One static protocol per AS path length (st1: AS path 'ASN', st2:
    prepended once, ...), all disabled: `birdc enable stN` announces."""
    asn = ASN[name]
    statics = "".join(
        "protocol static st{} {{ ipv4; disabled yes; route {} blackhole; }}\n".format(k, P)
        for k in range(1, BIRD_MAX_LEN + 1))
    prepends = "".join(
        "      if proto = \"st{}\" then {{ {} }}\n".format(
            k, " ".join("bgp_path.prepend({});".format(asn) for _ in range(k - 1)))
        for k in range(2, BIRD_MAX_LEN + 1))
    return BIRD_CONF.format(addr=ADDR[name], asn=asn, rs=RS_ADDR, rs_as=RS_AS, statics=statics,
                            prepends=prepends, log=os.path.join(g(name).gearlogdir, "bird.log"))


EXA_ENV = ("exabgp.daemon.user=root", "exabgp.daemon.drop=false", "exabgp.api.cli=false",
           "exabgp.api.ack=false", "exabgp.log.level=WARNING")


def exa_path(name, fname):
    return os.path.join(g(name).gearlogdir, fname)


def start_exabgp(name):
    router = g(name)
    conf = "\n".join([
        "process peer {",
        "  run /usr/bin/python3 {} {} {};".format(
            os.path.join(CWD, "exa_peer.py"), router.gearlogdir, ASN[name]),
        "  encoder json;",
        "}",
        "neighbor {} {{".format(RS_ADDR),
        "  router-id {};".format(ADDR[name]),
        "  local-address {};".format(ADDR[name]),
        "  local-as {};".format(ASN[name]),
        "  peer-as {};".format(RS_AS),
        "  family { ipv4 unicast; }",
        "  api { processes [ peer ]; neighbor-changes; receive { parsed; update; } }",
        "}",
    ]) + "\n"
    with open(exa_path(name, "exabgp.conf"), "w") as f:
        f.write(conf)
    with open(exa_path(name, "announce.json"), "w") as f:
        f.write("{}")
    # listening too (tcp.bind), so r1 connects at once
    env = EXA_ENV + ("exabgp.tcp.bind=" + ADDR[name],)
    router.cmd_raises("env {} {} {} </dev/null >>{} 2>&1 & echo $! >{}".format(
        " ".join(env), EXABGP, exa_path(name, "exabgp.conf"), exa_path(name, "exabgp.log"),
        exa_path(name, "exabgp.pid")))


def stop_exabgp(name):
    g(name).cmd("kill $(cat {}) 2>/dev/null".format(exa_path(name, "exabgp.pid")))


class GoBGP:
    """gobgpd in a router; the test adds and deletes P in its global RIB."""

    def __init__(self, name):
        self.name, self.router = name, g(name)

    def path(self, fname):
        return os.path.join(self.router.gearlogdir, fname)

    def gobgp(self, args):
        return self.router.cmd("{} -u 127.0.0.1 -p 50071 {} 2>&1".format(GOBGP_CLI, args))

    def start(self):
        conf = "\n".join([
            "[global.config]",
            "  as = {}".format(ASN[self.name]),
            "  router-id = \"{}\"".format(ADDR[self.name]),
            "[[neighbors]]",
            "  [neighbors.config]",
            "    neighbor-address = \"{}\"".format(RS_ADDR),
            "    peer-as = {}".format(RS_AS),
            "  [neighbors.timers.config]",
            "    connect-retry = 2",
            "  [neighbors.transport.config]",
            "    local-address = \"{}\"".format(ADDR[self.name]),
            "  [[neighbors.afi-safis]]",
            "    [neighbors.afi-safis.config]",
            "      afi-safi-name = \"ipv4-unicast\"",
        ]) + "\n"
        with open(self.path("gobgpd.toml"), "w") as f:
            f.write(conf)
        self.router.cmd_raises(
            "{} -f {} -t toml --pprof-disable --api-hosts 127.0.0.1:50071 </dev/null >>{} 2>&1 "
            "& echo $! >{}".format(GOBGPD, self.path("gobgpd.toml"), self.path("gobgpd.log"),
                                   self.path("gobgpd.pid")))

    def ready(self):
        return str(ASN[self.name]) in self.gobgp("global")

    def stop(self):
        self.router.cmd("kill $(cat {}) 2>/dev/null".format(self.path("gobgpd.pid")))

    def rib(self):
        res = self.gobgp("global rib -a ipv4 -j")
        try:
            return json.loads(res) or {}
        except ValueError as err:
            raise AssertionError("{}: gobgp rib: {!r}".format(self.name, res[:2000])) from err

    def received(self):
        return {prefix for prefix, paths in self.rib().items()
                if any(p.get("neighbor-ip") == RS_ADDR for p in paths)}


def announce(name, aslen=None, med=None):
    """name announces P with an AS path of aslen ASes (its own AS repeated)
    and MED med (None: no MED), or withdraws P (aslen None)."""
    want = (aslen, med) if aslen else None
    if W.ann[name] == want:
        return
    kind, asn = KIND[name], ASN[name]
    if kind == "bird":
        assert med is None, "BIRD: no MED in this test"
        for k in range(1, BIRD_MAX_LEN + 1):
            if k != aslen:
                rsbird.birdc(g(name), "disable st{}".format(k))
        if aslen:
            res = rsbird.birdc(g(name), "enable st{}".format(aslen))
            assert "enabled" in res, "{}: birdc: {}".format(name, res)
    elif kind == "exabgp":
        data = {P: {"as-path": [asn] * aslen, "med": med}} if aslen else {}
        path = exa_path(name, "announce.json")
        with open(path + ".tmp", "w") as f:
            json.dump(data, f)
        os.replace(path + ".tmp", path)
    else:
        sp = GOBGP_SP[name]
        if aslen:
            args = "global rib -a ipv4 add {} origin igp".format(P)
            if aslen > 1:
                args += " aspath " + ",".join([str(asn)] * (aslen - 1))
            if med is not None:
                args += " med {}".format(med)
        else:
            args = "global rib -a ipv4 del {}".format(P)
        res = sp.gobgp(args)
        assert "error" not in res.lower(), "{}: gobgp {}: {}".format(name, args, res)
    W.ann[name] = want


def announce_only(spec):
    """Exactly the sources in spec ({name: (aslen, med)}) announce P."""
    for name in SOURCES:
        if name not in spec:
            announce(name)
    for name, (aslen, med) in spec.items():
        announce(name, aslen, med)


def held_at(name):
    """Next hop of the path of P that name holds from r1, or None."""
    kind = KIND[name]
    if kind == "exabgp":
        try:
            with open(exa_path(name, "rib.json")) as f:
                rib = json.load(f)
        except (FileNotFoundError, ValueError):
            return "?"
        return rib["rib"].get(P, {}).get("nh")
    if kind == "gobgp":
        for path in GOBGP_SP[name].rib().get(P, []):
            if path.get("neighbor-ip") == RS_ADDR:
                for attr in path.get("attrs", []):
                    if attr.get("type") == 3:
                        return attr.get("nexthop")
                return "?"
        return None
    res = rsbird.birdc(g(name), "show route {} protocol routeserver".format(P))
    hops = re.findall(r"via (\d+\.\d+\.\d+\.\d+)", res)
    return hops[0] if len(hops) == 1 else (None if not hops else "?")


def holds_vnet(name):
    kind = KIND[name]
    if kind == "exabgp":
        try:
            with open(exa_path(name, "rib.json")) as f:
                return VNET in json.load(f)["rib"]
        except (FileNotFoundError, ValueError):
            return False
    if kind == "gobgp":
        return VNET in GOBGP_SP[name].received()
    return VNET in rsbird.birdc(g(name), "show route {} protocol routeserver".format(VNET))


# --- r1 ----------------------------------------------------------------------


def r1_json_docs(cmds):
    """Run several show commands in one vtysh call; their JSON documents."""
    text = g("r1").cmd("vtysh {} 2>/dev/null".format(
        " ".join("-c " + shlex.quote(c) for c in cmds)))
    dec, docs, i = json.JSONDecoder(), [], 0
    while len(docs) < len(cmds):
        while i < len(text) and text[i].isspace():
            i += 1
        try:
            doc, i = dec.raw_decode(text, i)
        except ValueError as err:
            raise AssertionError("r1: {} is not JSON: {!r}".format(cmds, text)) from err
        docs.append(doc)
    return docs


def r1_config(*lines):
    res = rslib.configure(g("r1"), *lines)
    assert "%" not in res, "r1: {}: {}".format(lines, res)


def set_b2b(on):
    if W.b2b != on:
        r1_config(("" if on else "no ") + "bgp route-server branch-to-branch")
        W.b2b = on


def set_pref(pref):
    """pref None: `no bgp route-server routing-preference` (the default)."""
    if pref is None:
        r1_config("no bgp route-server routing-preference")
        W.pref = "expressroute"
    elif W.pref != pref:
        r1_config("bgp route-server routing-preference " + pref)
        W.pref = pref


def set_role(name, role):
    if W.roles[name] != role:
        r1_config("neighbor {} route-server role {}".format(ADDR[name], role))
        W.roles[name] = role


def fib():
    return sorted(re.findall(r"via (\d+\.\d+\.\d+\.\d+)", g("r1").cmd("ip route show " + P)))


def ping(dst):
    res = g("r1").cmd("ping -c 1 -W 1 {} >/dev/null 2>&1 && echo ok || echo fail".format(dst))
    return res.strip() == "ok"


# --- the oracle --------------------------------------------------------------


def rank(role, pref):
    """The routing preference step: higher first; as-path ranks nothing."""
    if pref == "as-path":
        return 0
    if role == ER:
        return 2 if pref == "expressroute" else 1
    return 1 if pref == "expressroute" else 2


def allowed(src, dst, b2b=None, roles=None):
    roles = roles or W.roles
    return rslib.roles_exchange(roles[src], roles[dst], W.b2b if b2b is None else b2b)


def best_order():
    """Sources announcing P in r1's best-path order: preference rank, AS
    path length, MED (all other attributes equal; eBGP everywhere). The
    scenarios never tie, and never let MED decide between paths from
    different ASes (bgpd compares MED only within one neighbor AS)."""
    paths = [(n,) + W.ann[n] for n in SOURCES if W.ann[n]]

    def key(p):
        return (-rank(W.roles[p[0]], W.pref), p[1], p[2] or 0)

    for i, a in enumerate(paths):
        for b in paths[i + 1:]:
            if ASN[a[0]] == ASN[b[0]]:
                assert key(a) != key(b), "test bug: tie {} {}".format(a, b)
            else:
                assert key(a)[:2] != key(b)[:2], "test bug: MED across ASes {} {}".format(a, b)
    return [p[0] for p in sorted(paths, key=key)]


def selection_reason(a, b):
    """bgpd's selectionReason of a over b."""
    if rank(W.roles[a], W.pref) != rank(W.roles[b], W.pref):
        return "Routing preference"
    if W.ann[a][0] != W.ann[b][0]:
        return "AS Path"
    return "MED"


def withheld_reason(src, dst):
    return "same gateway type" if W.roles[src] == W.roles[dst] != NVA else "branch-to-branch off"


def expected():
    order = best_order()
    best = order[0] if order else None
    exp = {"best": None, "fib": [ADDR[best]] if best else [],
           "held": {}, "withheld": {}, "alternate": {}, "counters": {}, "totals": {},
           "settings": {(W.b2b, W.pref)},
           "roles": {n: YANG[W.roles[n]] for n in PEERS}}
    if best:
        exp["best"] = (ADDR[best], selection_reason(order[0], order[1]) if len(order) == 2 else None)
    for r in PEERS:
        first = next((s for s in order if allowed(s, r)), None)
        # nothing sent to a peer its own path; nva1 and nva2 drop each
        # other's (AS path loop)
        exp["held"][r] = ADDR[first] if first and ASN[first] != ASN[r] else None
        wh, alt = [], []
        # the withheld show: prefixes with no allowed path (not counted for
        # the best path's own source), and those sent another path than
        # the best (counted for the best's source too: ER-ER, VPN-VPN)
        if best and not allowed(best, r):
            brole, why = YANG[W.roles[best]], withheld_reason(best, r)
            if first is None:
                if best != r:
                    wh.append((P, ADDR[best], brole, why))
            elif first != r:
                alt.append((P, ADDR[best], brole, why, ADDR[first], YANG[W.roles[first]], ADDR[first]))
        exp["withheld"][r], exp["alternate"][r] = wh, alt
        exp["counters"][r] = exp["totals"][r] = (len(wh), len(alt))
    return exp


def observe(exp):
    cmds = ["show bgp ipv4 unicast {} json".format(P), "show bgp route-server json"]
    cmds += ["show bgp route-server withheld {} json".format(ADDR[n]) for n in PEERS]
    docs = r1_json_docs(cmds)
    route, rs, wdocs = docs[0], docs[1], dict(zip(PEERS, docs[2:]))
    obs = {"best": None, "fib": fib(), "held": {n: held_at(n) for n in PEERS},
           "withheld": {}, "alternate": {}, "counters": {}, "totals": {},
           "settings": {(rs.get("branchToBranch"), rs.get("routingPreference"))},
           "roles": {}}
    for path in route.get("paths", []):
        if path.get("bestpath", {}).get("overall"):
            reason = path["bestpath"].get("selectionReason")
            if exp["best"] and exp["best"][1] is None:
                reason = None  # three paths or more: not predicted
            obs["best"] = (path["peer"]["peerId"], reason)
    for n, d in wdocs.items():
        obs["settings"].add((d.get("branchToBranch"), d.get("routingPreference")))
        obs["roles"][n] = d.get("role")
        obs["withheld"][n] = sorted(
            (w["prefix"], w["sourceNeighbor"], w["sourceRole"], w["reason"])
            for w in d.get("withheld", []))
        obs["alternate"][n] = sorted(
            (a["prefix"], a["bestSourceNeighbor"], a["bestSourceRole"], a["reason"],
             a["sentSourceNeighbor"], a["sentSourceRole"], a["sentNexthop"])
            for a in d.get("alternatePaths", []))
        obs["totals"][n] = (d.get("totalWithheld"), d.get("totalAlternatePaths"))
        nb = rs.get("neighbors", {}).get(ADDR[n], {})
        obs["counters"][n] = (nb.get("prefixesWithheld"), nb.get("prefixesAlternatePath"))
    return obs


def diff(exp, obs):
    lines = []
    for k in exp:
        if isinstance(exp[k], dict):
            for n in exp[k]:
                if exp[k][n] != obs[k].get(n):
                    lines.append("  {}[{}]: expected {!r}, got {!r}".format(k, n, exp[k][n], obs[k].get(n)))
        elif exp[k] != obs[k]:
            lines.append("  {}: expected {!r}, got {!r}".format(k, exp[k], obs[k]))
    return "\n".join(lines)


def world_str():
    return "b2b {} pref {} announced {} roles {}".format(
        "on" if W.b2b else "off", W.pref,
        {n: a for n, a in W.ann.items() if a},
        {n: r for n, r in W.roles.items() if r != ROLES0[n]})


def r1_diag(exp, obs):
    """r1's view, for a failure message (and the test log)."""
    peers = sorted({n for k in ("withheld", "alternate", "counters") for n in exp[k]
                    if exp[k][n] != obs[k].get(n)})
    cmds = ["show bgp ipv4 unicast " + P, "show bgp route-server", "show bgp ipv4 unicast summary",
            "show bgp peerhash"]
    cmds += ["show bgp route-server withheld " + ADDR[n] for n in peers]
    text = g("r1").cmd("vtysh {} 2>&1".format(" ".join("-c " + shlex.quote(c) for c in cmds)))
    logger.info("rs_bestpath: r1 at failure:\n%s", text)
    return "r1:\n" + text


def converge(what, timeout=15):
    """Wait until r1, its FIB and every peer match the oracle; the state
    must still hold SETTLE s later."""
    exp = expected()
    deadline = time.time() + timeout
    while True:
        obs = observe(exp)
        if obs == exp:
            break
        if time.time() > deadline:
            raise AssertionError("{}: not converged ({})\n{}\n{}".format(
                what, world_str(), diff(exp, obs), r1_diag(exp, obs)))
        time.sleep(0.2)
    time.sleep(SETTLE)
    obs = observe(exp)
    assert obs == exp, "{}: state changed after converging ({})\n{}".format(what, world_str(), diff(exp, obs))
    return exp


# --- monitors ----------------------------------------------------------------


def log_size(name):
    try:
        return os.path.getsize(exa_path(name, "updates.jsonl"))
    except FileNotFoundError:
        return 0


def mark():
    return {n: log_size(n) for n in MONITORS}


def records(name, since=0):
    with open(exa_path(name, "updates.jsonl"), "rb") as f:
        f.seek(since)
        data = f.read()
    data = data[:data.rfind(b"\n") + 1]
    return [json.loads(l) for l in data.splitlines() if l.strip()]


def source_of(name, nh, path):
    """The source of a path name received: its next hop (r1 keeps it), or
    name itself when r1 sent name its own path back with r1 as the next
    hop (bgpd resets a next hop equal to the receiver's address; the AS
    path then starts with name's AS and name drops it as a loop)."""
    if nh == RS_ADDR and path[:2] == [RS_AS, ASN[name]]:
        return name
    return BY_ADDR.get(nh, nh)


def p_announces(name, since=0):
    """Sources of every announce of P name received."""
    return [source_of(name, a[1], a[2]) for r in records(name, since) for a in r.get("a", [])
            if a[0] == P]


def allowed_map():
    return {r: {s: allowed(s, r) for s in SOURCES} for r in PEERS}


def check_window(since, before, after, what):
    """No monitor received a path of P withheld from it before and after,
    and no monitored session changed state."""
    bad = []
    for r in MONITORS:
        for src in p_announces(r, since[r]):
            if src not in SOURCES or not (before[r][src] or after[r][src]):
                bad.append("{} received {}'s path".format(r, src))
        states = [x["state"] for x in records(r, since[r]) if "state" in x]
        if states:
            bad.append("{}: session {}".format(r, states))
    assert not bad, "{}: {}".format(what, "; ".join(bad))


def change(what, fn, *args):
    """Apply a change, converge, and check the monitors' window."""
    before, since = allowed_map(), mark()
    fn(*args)
    exp = converge(what)
    check_window(since, before, allowed_map(), what)
    return exp


def no_reset(what):
    now = rslib.established_counters(g("r1"))
    assert now == STATE["counters"], "{}: session reset: before {} now {}".format(
        what, STATE["counters"], now)


# --- setup -------------------------------------------------------------------


def rs_conf():
    lines = ["hostname r1", "debug bgp route-server", "debug bgp neighbor-events",
             "interface r1-eth0", " ip address {}/24".format(RS_ADDR), "!",
             "router bgp {}".format(RS_AS), " bgp router-id " + RS_ADDR,
             " no bgp ebgp-requires-policy", " no bgp network import-check"]
    for n in PEERS:
        lines += [" neighbor {} remote-as {}".format(ADDR[n], ASN[n]),
                  " neighbor {} timers connect 2".format(ADDR[n]),
                  " neighbor {} advertisement-interval 0".format(ADDR[n]),
                  " neighbor {} route-server role {}".format(ADDR[n], ROLES0[n])]
    lines += [" address-family ipv4 unicast", "  network " + VNET, " exit-address-family", "!"]
    return "\n".join(lines) + "\n"


def setup_module(mod):
    rsbird.require_bird()
    missing = [b for b in (EXABGP, GOBGPD) if not os.access(b, os.X_OK)]
    if missing:
        pytest.fail("needs exabgp and gobgpd from Debian; missing {} - run "
                    "scripts/install-deps.sh".format(", ".join(missing)), pytrace=False)
    tgen = rslib.start_lan_topology(mod, ["r1"] + list(PEERS))
    rslib.load_rs_config(tgen, rs_conf())
    tgen.start_router()
    for n in PEERS:
        r = tgen.gears[n]
        r.cmd_raises("ip link set lo up; ip link set {0}-eth0 up; ip addr add {1}/24 dev {0}-eth0".format(
            n, ADDR[n]))
        if n in LO:
            r.cmd_raises("ip addr add {}/32 dev lo".format(LO[n]))
    for n in PEERS:
        if KIND[n] == "exabgp":
            start_exabgp(n)
        elif KIND[n] == "bird":
            rsbird.start_bird(tgen.gears[n], bird_conf(n))
        else:
            sp = GoBGP(n)
            sp.start()
            GOBGP_SP[n] = sp
    for sp in GOBGP_SP.values():
        rslib.wait_for(sp.ready, True, sp.name + ": gobgpd API", count=40)


def teardown_module(mod):
    tgen = get_topogen()
    for n in PEERS:
        if KIND[n] == "exabgp":
            stop_exabgp(n)
        elif KIND[n] == "bird":
            rsbird.stop_bird(tgen.gears[n])
        elif n in GOBGP_SP:
            GOBGP_SP[n].stop()
    tgen.stop_topology()


# --- tests -------------------------------------------------------------------


def test_sessions_up():
    r1 = g("r1")
    rslib.wait_for(lambda: rslib.all_established(r1, list(ADDR.values())), True,
                   "r1 sessions", count=120)
    rslib.wait_for(lambda: [n for n in PEERS if not holds_vnet(n)], [], "VNet at every peer", count=60)
    STATE["counters"] = rslib.established_counters(r1)
    data = rslib.rs_json(r1)
    assert data["branchToBranch"] is False and data["routingPreference"] == "expressroute", data
    assert {a: v["role"] for a, v in data["neighbors"].items()} == {
        ADDR[n]: YANG[ROLES0[n]] for n in PEERS}, data
    assert "routing-preference" not in rslib.running_config(r1)
    converge("nothing announced")


# (name, {source: (AS path length, MED)})
PAIRS = [
    ("er1+nva1", {"er1": (2, None), "nva1": (1, None)}),
    ("er1+vpn1", {"er1": (2, None), "vpn1": (3, None)}),
    ("nva2+vpn1", {"nva2": (3, None), "vpn1": (1, None)}),
]
HOLDERS = ("er1", "er2", "vpn1", "vpn2", "nva1", "nva2", "nva3")
RP, ASP = "Routing preference", "AS Path"
# Worked by hand from semantics.md (guards the oracle):
# (pair, b2b, preference): (r1's best, reason, what er1 er2 vpn1 vpn2 nva1 nva2 nva3 hold)
HAND = {
    ("er1+nva1", False, "expressroute"): ("er1", RP, "- - - - - - nva1"),
    ("er1+nva1", False, "vpn"): ("nva1", RP, "- - - - - - nva1"),
    ("er1+nva1", False, "as-path"): ("nva1", ASP, "- - - - - - nva1"),
    ("er1+nva1", True, "expressroute"): ("er1", RP, "nva1 nva1 er1 er1 er1 er1 er1"),
    ("er1+nva1", True, "vpn"): ("nva1", RP, "nva1 nva1 nva1 nva1 - - nva1"),
    ("er1+nva1", True, "as-path"): ("nva1", ASP, "nva1 nva1 nva1 nva1 - - nva1"),
    ("er1+vpn1", False, "expressroute"): ("er1", RP, "- - - - - - -"),
    ("er1+vpn1", False, "vpn"): ("vpn1", RP, "- - - - - - -"),
    ("er1+vpn1", False, "as-path"): ("er1", ASP, "- - - - - - -"),
    ("er1+vpn1", True, "expressroute"): ("er1", RP, "vpn1 vpn1 er1 er1 er1 er1 er1"),
    ("er1+vpn1", True, "vpn"): ("vpn1", RP, "vpn1 vpn1 er1 er1 vpn1 vpn1 vpn1"),
    ("er1+vpn1", True, "as-path"): ("er1", ASP, "vpn1 vpn1 er1 er1 er1 er1 er1"),
    ("nva2+vpn1", False, "expressroute"): ("vpn1", ASP, "- - - - - - nva2"),
    ("nva2+vpn1", False, "vpn"): ("vpn1", ASP, "- - - - - - nva2"),
    ("nva2+vpn1", False, "as-path"): ("vpn1", ASP, "- - - - - - nva2"),
    ("nva2+vpn1", True, "expressroute"): ("vpn1", ASP, "vpn1 vpn1 nva2 nva2 vpn1 vpn1 vpn1"),
    ("nva2+vpn1", True, "vpn"): ("vpn1", ASP, "vpn1 vpn1 nva2 nva2 vpn1 vpn1 vpn1"),
    ("nva2+vpn1", True, "as-path"): ("vpn1", ASP, "vpn1 vpn1 nva2 nva2 vpn1 vpn1 vpn1"),
}
CASES = [(name, spec, b2b, pref) for name, spec in PAIRS for b2b in (False, True) for pref in PREFS]


@pytest.mark.parametrize(
    "pair,spec,b2b,pref", CASES,
    ids=["{}-b2b_{}-{}".format(c[0], "on" if c[2] else "off", c[3]) for c in CASES])
def test_pair(pair, spec, b2b, pref):
    what = "{} b2b {} {}".format(pair, "on" if b2b else "off", pref)

    def apply():
        announce_only(spec)
        set_b2b(b2b)
        set_pref(pref)

    # the oracle agrees with the hand-written table
    best, reason, held = HAND[(pair, b2b, pref)]
    saved = (W.ann, W.b2b, W.pref)
    W.ann, W.b2b, W.pref = {n: spec.get(n) for n in SOURCES}, b2b, pref
    exp = expected()
    W.ann, W.b2b, W.pref = saved
    hand_held = {n: (ADDR[h] if h != "-" else None) for n, h in zip(HOLDERS, held.split())}
    assert exp["best"] == (ADDR[best], reason) and exp["held"] == hand_held, (
        "test bug: oracle {} {} against hand {}".format(exp["best"], exp["held"], HAND[(pair, b2b, pref)]))
    change(what, apply)
    no_reset(what)


def test_dataplane_preference():
    """r1's kernel forwards P to the preferred gateway; pings follow."""
    announce_only({"er1": (2, None), "vpn1": (3, None)})
    set_b2b(False)
    set_pref("expressroute")
    converge("data plane: er1 + vpn1")
    steps = [("expressroute", "er1"), ("vpn", "vpn1"), ("as-path", "er1"), ("vpn", "vpn1"), (None, "er1")]
    for pref, gw in steps:
        what = "data plane, preference {}".format(pref or "default")
        change(what, set_pref, pref)
        assert fib() == [ADDR[gw]], "{}: r1 FIB {}".format(what, fib())
        rslib.wait_for(lambda: ping(LO[gw]), True, "{}: ping {} ({})".format(what, LO[gw], gw), count=10)
        other = "vpn1" if gw == "er1" else "er1"
        assert not ping(LO[other]), "{}: {} ({}) answered: not the preferred gateway".format(
            what, LO[other], other)
        out("%s: r1 forwards P to %s, ping %s ok, %s fails", what, gw, LO[gw], LO[other])
    assert "routing-preference" not in rslib.running_config(g("r1"))
    no_reset("data plane")


ALL_FOUR = {"er1": (2, None), "vpn1": (1, None), "nva1": (3, 10), "nva2": (3, 20)}


def test_preference_change_monitored():
    """b2b off: the preference decides r1's best (er1 or vpn1), never
    what a role may receive."""
    announce_only(ALL_FOUR)
    set_b2b(False)
    set_pref("expressroute")
    converge("all four sources")
    before, since = allowed_map(), mark()
    for pref in ("vpn", "as-path", "expressroute", "as-path", "vpn"):
        exp = change("b2b off, preference " + pref, set_pref, pref)
        assert exp["held"]["nva3"] == ADDR["nva1"]
    # a burst: three changes in one vtysh call
    r1_config("bgp route-server routing-preference expressroute",
              "bgp route-server routing-preference as-path",
              "bgp route-server routing-preference vpn",
              "bgp route-server routing-preference expressroute")
    W.pref = "expressroute"
    converge("b2b off, preference burst")
    check_window(since, before, allowed_map(), "b2b off, preference changes")
    # what nva3 received in the window: NVA paths only, and it did receive
    assert set(p_announces("nva3", since["nva3"])) <= {"nva1", "nva2"}
    for r in ("er2", "vpn2"):
        assert p_announces(r, since[r]) == [], r
    no_reset("preference changes")


def test_b2b_toggle_monitored():
    announce_only(ALL_FOUR)
    set_pref("vpn")
    set_b2b(False)
    converge("b2b toggle start")
    since, off = mark(), allowed_map()
    change("b2b on", set_b2b, True)
    on = allowed_map()
    change("b2b on, preference expressroute", set_pref, "expressroute")
    change("b2b off", set_b2b, False)
    r1_config("bgp route-server branch-to-branch", "no bgp route-server branch-to-branch",
              "bgp route-server branch-to-branch")
    W.b2b = True
    converge("b2b burst on/off/on")
    change("b2b off again", set_b2b, False)
    # withheld with b2b off and with b2b on: the same gateway type
    check_window(since, off, on, "b2b toggles")
    # ER->ER and VPN->VPN never; with b2b on the gateways got other paths
    er2, vpn2 = p_announces("er2", since["er2"]), p_announces("vpn2", since["vpn2"])
    assert "er1" not in er2 and er2, er2
    assert "vpn1" not in vpn2 and vpn2, vpn2
    assert {"er1", "vpn1"} & set(p_announces("nva3", since["nva3"]))
    no_reset("b2b toggles")


def test_withdraw_best_and_alternative():
    announce_only({"er1": (2, None), "nva1": (2, 10), "nva2": (2, 20)})
    set_b2b(False)
    set_pref("expressroute")
    exp = converge("er1 best, nva1 and nva2 by MED")
    assert exp["held"]["nva3"] == ADDR["nva1"] and exp["alternate"]["nva3"]
    exp = change("withdraw the best (er1)", announce, "er1")
    assert exp["best"] == (ADDR["nva1"], "MED") and exp["held"]["nva3"] == ADDR["nva1"]
    assert not exp["alternate"]["nva3"] and exp["withheld"]["vpn2"]
    change("er1 announces again", announce, "er1", 2)
    exp = change("withdraw the alternative (nva1)", announce, "nva1")
    assert exp["held"]["nva3"] == ADDR["nva2"]
    exp = change("withdraw the last NVA path (nva2)", announce, "nva2")
    assert exp["held"]["nva3"] is None and exp["withheld"]["nva3"]
    change("nva1 announces again", announce, "nva1", 2, 10)
    change("nva2 announces again", announce, "nva2", 2, 20)
    no_reset("withdrawals")


def test_med_change_non_best():
    announce_only({"er1": (2, None), "nva1": (2, 10), "nva2": (2, 20)})
    set_b2b(False)
    set_pref("expressroute")
    converge("MED: nva1 10, nva2 20")
    exp = change("MED of nva2 (non-best) 20 -> 5", announce, "nva2", 2, 5)
    assert exp["best"][0] == ADDR["er1"] and exp["held"]["nva3"] == ADDR["nva2"]
    exp = change("MED of nva1 (non-best) 10 -> 1", announce, "nva1", 2, 1)
    assert exp["held"]["nva3"] == ADDR["nva1"]
    exp = change("b2b on", set_b2b, True)
    assert exp["held"]["er2"] == ADDR["nva1"] and exp["held"]["nva3"] == ADDR["er1"]
    exp = change("MED of nva2 (non-best) 5 -> 0", announce, "nva2", 2, 0)
    assert exp["held"]["er2"] == ADDR["nva2"]
    exp = change("MED of nva2 (non-best) 0 -> 30", announce, "nva2", 2, 30)
    assert exp["held"]["er2"] == ADDR["nva1"]
    change("b2b off", set_b2b, False)
    no_reset("MED changes")


def test_aspath_change_non_best():
    announce_only({"er1": (2, None), "nva1": (2, None), "nva2": (3, None), "vpn1": (5, None)})
    set_b2b(True)
    set_pref("expressroute")
    exp = converge("AS path: er1 2, nva1 2, nva2 3, vpn1 5")
    assert exp["held"]["er2"] == ADDR["nva1"] and exp["held"]["vpn2"] == ADDR["er1"]
    exp = change("AS path of nva2 (non-best) 3 -> 1", announce, "nva2", 1)
    assert exp["held"]["er2"] == ADDR["nva2"] and exp["held"]["vpn2"] == ADDR["er1"]
    exp = change("AS path of nva2 1 -> 3", announce, "nva2", 3)
    assert exp["held"]["er2"] == ADDR["nva1"]
    exp = change("AS path of vpn1 (non-best, GoBGP) 5 -> 1", announce, "vpn1", 1)
    assert exp["held"]["er2"] == ADDR["vpn1"] and exp["held"]["nva3"] == ADDR["er1"]
    exp = change("AS path of vpn1 1 -> 5", announce, "vpn1", 5)
    assert exp["held"]["er2"] == ADDR["nva1"]
    exp = change("AS path of nva1 (non-best) 2 -> 4", announce, "nva1", 4)
    assert exp["held"]["er2"] == ADDR["nva2"]
    exp = change("preference as-path", set_pref, "as-path")
    assert exp["best"][0] == ADDR["er1"] and exp["held"]["er2"] == ADDR["nva2"]
    exp = change("AS path of nva1 4 -> 1 (shorter than er1's)", announce, "nva1", 1)
    assert exp["best"][0] == ADDR["nva1"] and exp["held"]["er2"] == ADDR["nva1"]
    assert exp["held"]["vpn2"] == ADDR["nva1"] and exp["held"]["nva2"] is None
    change("preference expressroute", set_pref, "expressroute")
    change("b2b off", set_b2b, False)
    no_reset("AS path changes")


def test_role_change():
    announce_only({"er1": (2, None), "nva1": (1, None)})
    set_b2b(False)
    set_pref("expressroute")
    exp = converge("er1 + nva1")
    assert exp["held"]["nva3"] == ADDR["nva1"]
    exp = change("nva1 role gateway vpn", set_role, "nva1", VPN)
    assert exp["held"]["nva3"] is None and exp["withheld"]["nva3"]
    assert exp["best"] == (ADDR["er1"], RP)
    exp = change("nva1 role gateway expressroute", set_role, "nva1", ER)
    # two ExpressRoute paths: the preference ranks them equal, AS path decides
    assert exp["best"] == (ADDR["nva1"], ASP)
    assert all(h is None for h in exp["held"].values())
    exp = change("b2b on (nva1 expressroute)", set_b2b, True)
    assert exp["held"]["er2"] is None and exp["held"]["vpn2"] == ADDR["nva1"]
    assert exp["held"]["nva3"] == ADDR["nva1"]
    change("b2b off (nva1 expressroute)", set_b2b, False)
    exp = change("nva1 role nva again", set_role, "nva1", NVA)
    assert exp["best"] == (ADDR["er1"], RP) and exp["held"]["nva3"] == ADDR["nva1"]
    no_reset("role changes")


def test_whole_run_isolation():
    for r, never in (("er2", "er1"), ("vpn2", "vpn1")):
        got = p_announces(r)
        assert never not in got, "{} received {}'s path".format(r, never)
        out("%s received %d announces of %s over the run, none from %s", r, len(got), P, never)
    for r in MONITORS:
        states = [x["state"] for x in records(r) if "state" in x]
        # (connection collisions before the session first came up aside)
        assert "up" in states and states[states.index("up") + 1:] == [], "{}: {}".format(r, states)
    no_reset("whole run")
