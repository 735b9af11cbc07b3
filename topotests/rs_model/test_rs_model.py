#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""
Randomized model check of the route server.

r1 (FRR bgpd + module, AS 65515) originates VNet prefixes; six independent
BGP speakers peer with it on one LAN:

  b1 BIRD 2  eBGP 65001    b2 BIRD 2  iBGP (route-reflector client)
  g1 GoBGP   eBGP 65002    g2 GoBGP   iBGP (route-reflector client)
  x1 ExaBGP  eBGP 65003    x2 ExaBGP  iBGP (route-reflector client)

Each speaker announces prefixes of its own (10.<n>.k.0/24) and any of four
shared prefixes (10.200.k.0/24): the backup design, the same on-prem
prefix from an ExpressRoute gateway, a VPN gateway and/or an NVA. Every
announcement carries ORIGIN IGP, the speaker's tag AS (64611 for b1, ...)
1-3 times in the AS path and a MED of 0-30; the tag names the path's
source wherever it goes. r1 runs `bgp always-compare-med` and `bgp
bestpath compare-routerid`, so the best-path order of a shared prefix is
predictable: routing preference (after weight), AS path length, MED, eBGP
over iBGP, router ID.

A seeded random sequence of operations is applied: the first gives every
speaker a role; then branch-to-branch toggles, role set/change/clear,
routing-preference changes (expressroute, vpn, as-path; the default also
by removing the line), neighbor shutdown/no shutdown, neighbor delete and
re-create, speakers announcing and withdrawing prefixes (one of several
paths of a shared prefix among them), speakers changing the prepend count
or MED of a prefix they announce (best path or not), the VNet prefix set
changing, speakers restarting (killed or stopped) while branch-to-branch
toggles. After each batch the test waits for quiescence: for every prefix
every speaker holds exactly the path the independent model (rs_oracle.py)
expects - which source's path, with which AS path, or nothing: the best
path the policy allows its role in bgpd's order, nothing when its own path
is that (it keeps its own) - r1 holds the shared prefixes' paths with the
announced attributes and selects the best path the model expects, every
session that is not shut or deleted is Established, and no session of r1
was reset except by an operation that shut, deleted or restarted it.

A path from a role-less neighbor is never demoted by the routing
preference: it ranks with the preferred class (RS_MODEL_UNRANKED=preferred,
the default, as the module does). RS_MODEL_UNRANKED=tie models the
alternative where such a path is not ranked at all; the order can then be
cyclic (bgpd's sorted list depends on arrival order) and for such a prefix
any path the policy allows is accepted. A mismatch of r1's best path that
the other ranking explains says so.

Between quiescent points a transient monitor (rs_monitor.py) checks
semantics.md's "Isolation at every moment": the ExaBGP speakers log every
UPDATE they receive, and no announce may carry a path (its source named
by the tag AS in its AS path) that the oracle withholds from that speaker
in every state around the moment it arrived; another allowed source's
path in its place is fine.

The summary counts, over the shared prefixes at quiescent points, the
(receiver, prefix) pairs that got r1's overall best, a substitute (another
allowed path), nothing (no path allowed), nothing because their own path
is their best allowed, or an ambiguous order, and how often the routing
preference decided r1's best.

  RS_MODEL_SEED=N    replay a run (the seed is printed at start and in
                     every failure message)
  RS_MODEL_OPS=N     number of operations (default 120; 1000 is the long mode)
  RS_MODEL_ROUTES=N  large-table mode: every speaker also announces N filler
                     prefixes (/32s in 100.<octet>.0.0/16, N <= 65536), so
                     r1's table walks and the UPDATE streams take long and
                     transient windows grow; checked like the others
                     (default 0)
  RS_MODEL_UNRANKED=preferred|tie
                     how the routing preference ranks role-less paths
                     (above; default preferred)
  RS_MODEL_DEBUG=1   r1 logs route-server, outgoing update and update-group
                     debugs (for a replay)
  RS_MODEL_SCRIPT=F  apply the batches of ops in the JSON file F (a list of
                     lists of ops as op_str() shows them, e.g.
                     [[["role", "g2", "gateway expressroute"]],
                      [["b2b", true], ["role", "b2", "gateway vpn"]]])
                     instead of random ones, from the seed's initial state
                     (to replay a reduced sequence; replay/ holds some, named
                     after the seed they need)
"""

import json
import os
import random
import sys
import time

import pytest

CWD = os.path.dirname(os.path.abspath(__file__))
sys.path.append(CWD)
sys.path.append(os.path.join(CWD, ".."))
sys.path.append(os.path.join(CWD, "../.."))

from lib.topogen import Topogen, TopoRouter, get_topogen  # noqa: E402
from lib.topolog import logger  # noqa: E402
from rslib import (  # noqa: E402
    RS_MODULE,
    build_links,
    configure,
    established_counters,
    received_prefixes,
    rs_json,
    set_addresses,
    vtysh_json,
    wait_for,
)
from rs_monitor import Checker, LogReader, Timeline  # noqa: E402
from rs_oracle import ER, NOTHING, NVA, PREFS, ROLES, VNET, VPN, Model, Neighbor  # noqa: E402
from rs_speakers import BINARIES, RS_AS, Bird, ExaBGP, GoBGP, apply_prefix  # noqa: E402

pytestmark = [pytest.mark.bgpd]

SEED = int(os.environ.get("RS_MODEL_SEED") or random.SystemRandom().randrange(1 << 31))
N_OPS = int(os.environ.get("RS_MODEL_OPS") or 120)
N_ROUTES = int(os.environ.get("RS_MODEL_ROUTES") or 0)
assert 0 <= N_ROUTES <= 65536, "RS_MODEL_ROUTES: 0 to 65536"
UNRANKED = os.environ.get("RS_MODEL_UNRANKED") or "preferred"
assert UNRANKED in ("tie", "preferred"), "RS_MODEL_UNRANKED: tie or preferred"
# s; a restarted speaker reconnects within a few, plus the time a large
# table takes to reach it
QUIESCE_TIMEOUT = 45 + N_ROUTES / 100
SETTLE = 0.3  # s a matching state must last (> the module's 100 ms debounce)
DEBUG = bool(os.environ.get("RS_MODEL_DEBUG"))  # r1 logs route-server and update debugs
SCRIPT = os.environ.get("RS_MODEL_SCRIPT")  # JSON batches of ops instead of random ones


# Prefixes any speaker may announce (the backup design: the same on-prem
# prefix behind ExpressRoute, a VPN gateway and an SD-WAN NVA), next to
# each speaker's own.
SHARED = ["10.200.{}.0/24".format(k) for k in range(4)]
PREPENDS, MEDS = (1, 2, 3), (0, 10, 20, 30)


def pool(octet):
    return ["10.{}.{}.0/24".format(octet, k) for k in range(3)] + SHARED


def filler(octet):
    return ["100.{}.{}.{}/32".format(octet, k >> 8, k & 255) for k in range(N_ROUTES)]


# the last argument: the speaker's tag AS, in the AS path of everything
# it announces from its pool (rs_speakers.py)
SPEAKERS = [
    Bird("b1", "192.168.1.11", 65001, pool(11), 64611),
    Bird("b2", "192.168.1.12", RS_AS, pool(12), 64612),
    GoBGP("g1", "192.168.1.21", 65002, pool(21), 64621),
    GoBGP("g2", "192.168.1.22", RS_AS, pool(22), 64622),
    ExaBGP("x1", "192.168.1.31", 65003, pool(31), 64631),
    ExaBGP("x2", "192.168.1.32", RS_AS, pool(32), 64632),
]
SP = {s.name: s for s in SPEAKERS}
TAGS = {s.tag: s.name for s in SPEAKERS}
VNET_FIXED, VNET_EXTRA = "10.100.0.0/16", "10.101.0.0/16"
LINKS = [("r1", "lan", "192.168.1.1/24")] + [(s.name, "lan", s.addr + "/24") for s in SPEAKERS]
ROLE_CLI = {NVA: "nva", ER: "gateway expressroute", VPN: "gateway vpn"}
for _sp in SPEAKERS:
    _sp.filler = filler(int(_sp.addr.split(".")[-1]))
MONITORED = [s for s in SPEAKERS if isinstance(s, ExaBGP)]

STATE = {}


def setup_module(mod):
    missing = [b for b in BINARIES if not os.access(b, os.X_OK)]
    if missing:
        pytest.fail("rs_model needs bird2, gobgpd and exabgp from Debian; missing {} - "
                    "run scripts/install-deps.sh".format(", ".join(missing)), pytrace=False)
    print("rs_model: RS_MODEL_SEED={} RS_MODEL_OPS={} RS_MODEL_ROUTES={} RS_MODEL_UNRANKED={}".format(
        SEED, N_OPS, N_ROUTES, UNRANKED), flush=True)
    logger.info("rs_model: RS_MODEL_SEED=%d RS_MODEL_OPS=%d RS_MODEL_ROUTES=%d RS_MODEL_UNRANKED=%s",
                SEED, N_OPS, N_ROUTES, UNRANKED)

    tgen = Topogen(lambda t: build_links(t, LINKS), mod.__name__)
    tgen.start_topology()
    tgen.gears["r1"].load_frr_config(
        os.path.join(CWD, "r1", "frr.conf"),
        [(TopoRouter.RD_ZEBRA, ""), (TopoRouter.RD_BGP, RS_MODULE)])
    tgen.start_router()
    if DEBUG:
        for c in ("debug bgp route-server", "debug bgp updates out", "debug bgp update-groups"):
            tgen.gears["r1"].vtysh_cmd(c)
    init = random.Random(SEED * 7919 + 1)
    for sp in SPEAKERS:
        sp.announced = {sp.pool[0]}
        sp.attrs = {p: (init.choice(PREPENDS), init.choice(MEDS)) for p in sp.pool}
    for p in SHARED:  # each from two or three speakers
        for name in init.sample(sorted(SP), init.randint(2, 3)):
            SP[name].announced.add(p)
    for sp in SPEAKERS:
        sp.router = tgen.gears[sp.name]
        set_addresses(sp.router, LINKS, forwarding=False)
        if isinstance(sp, ExaBGP):
            sp.router.cmd("rm -f {}".format(sp.updates_log()))
        sp.start()
    for sp in SPEAKERS:
        wait_for(sp.ready, True, sp.name + ": daemon ready", count=40)


def teardown_module(mod):
    for sp in SPEAKERS:
        if sp.router is not None:
            sp.stop(hard=True)
    get_topogen().stop_topology()


def r1():
    return get_topogen().gears["r1"]


def new_model():
    nbrs = [Neighbor(s.name, s.asn, s.ibgp, rr_client=s.ibgp, addr=s.addr, tag=s.tag) for s in SPEAKERS]
    m = Model(nbrs, vnet=[VNET_FIXED], filler={s.name: s.filler for s in SPEAKERS}, unranked=UNRANKED)
    for s in SPEAKERS:
        m.announced[s.name] = set(s.announced)
        m.attrs[s.name] = dict(s.attrs)
    return m


# --- operations: generated from the model, applied to model and network -----


def simple_op(rng, m):
    kind = rng.choices(["b2b", "role", "shut", "prefix", "attr", "pref", "vnet", "delete"],
                       [15, 30, 8, 30, 25, 8, 4, 5])[0]
    name = rng.choice(sorted(SP))
    if kind in ("role", "shut", "delete") and name in m.deleted:
        return ("create", name)  # no role or shutdown on a deleted neighbor
    if kind == "delete":
        if len(m.deleted) >= 2:
            return ("create", rng.choice(sorted(m.deleted)))
        return ("delete", name)
    if kind == "b2b":
        return ("b2b", not m.b2b)
    if kind == "role":  # seldom none: role-less paths are not ranked by the preference
        if m.roles[name] is not None and rng.random() < 0.2:
            return ("role", name, None)
        return ("role", name, rng.choice([r for r in ROLES if r != m.roles[name]]))
    if kind == "shut":
        if len(m.shut) >= 2 and name not in m.shut:
            name = rng.choice(sorted(m.shut))
        return ("shut", name, name not in m.shut)
    if kind == "pref":
        pref = rng.choice([p for p in PREFS if p != m.pref])
        # the default both ways: set explicitly or the line removed
        return ("pref", pref, "no") if pref == PREFS[0] and rng.random() < 0.5 else ("pref", pref)
    if kind == "attr":  # a path it announces, best or not
        mine = sorted(m.announced[name])
        if mine:
            prefix = rng.choice([p for p in mine if p in SHARED] or mine) if rng.random() < 0.8 \
                else rng.choice(mine)
            k, med = m.attrs[name][prefix]
            if rng.random() < 0.5:
                k = rng.choice([v for v in PREPENDS if v != k])
            else:
                med = rng.choice([v for v in MEDS if v != med])
            return ("attr", name, prefix, k, med)
        kind = "prefix"
    if kind == "prefix":
        prefix = rng.choice(SHARED if rng.random() < 0.65 else SP[name].pool[:-len(SHARED)])
        return ("prefix", name, prefix, prefix not in m.announced[name])
    return ("vnet", VNET_EXTRA, VNET_EXTRA not in m.vnet)


def gen_batch(rng, m, first=False):
    """A batch of ops applied back to back, then one quiescence check.
    Mostly single ops; some bursts; some restarts of a speaker with
    branch-to-branch toggling while it is down and while it reconnects.
    The first batch gives every speaker a role (r1 starts with none)."""
    if first:
        return [("role", name, rng.choice(ROLES)) for name in sorted(SP)]
    m = m.copy()
    if rng.random() < 0.07:
        name = rng.choice(sorted(SP))
        batch = [("stop", name, rng.random() < 0.5), ("b2b", not m.b2b)]
        apply_model(m, batch[-1])
        if rng.random() < 0.5:
            batch.append(simple_op(rng, m))
            apply_model(m, batch[-1])
        batch += [("start", name), ("pause", round(rng.uniform(0, 1.5), 2)), ("b2b", not m.b2b)]
        return batch
    batch = []
    for _ in range(1 if rng.random() < 0.75 else rng.randint(2, 3)):
        batch.append(simple_op(rng, m))
        apply_model(m, batch[-1])
    return batch


def apply_model(m, op):
    kind = op[0]
    if kind == "b2b":
        m.b2b = op[1]
    elif kind == "role":
        m.roles[op[1]] = op[2]
    elif kind == "shut":
        (m.shut.add if op[2] else m.shut.discard)(op[1])
    elif kind == "prefix":
        (m.announced[op[1]].add if op[3] else m.announced[op[1]].discard)(op[2])
    elif kind == "attr":
        m.attrs[op[1]][op[2]] = (op[3], op[4])
    elif kind == "pref":
        m.pref = op[1]
    elif kind == "vnet":
        (m.vnet.add if op[2] else m.vnet.discard)(op[1])
    elif kind == "delete":  # its role and shutdown go with it
        m.deleted.add(op[1])
        m.roles[op[1]] = None
        m.shut.discard(op[1])
    elif kind == "create":
        m.deleted.discard(op[1])


def rs_config(*lines):
    out = configure(r1(), *lines)
    errors = [l for l in out.splitlines() if l.startswith("%") and not l.startswith("% Warning")]
    assert not errors, "r1: {}: {}".format(lines, out)


def apply_network(op, stopped):
    kind = op[0]
    if kind == "b2b":
        rs_config(("" if op[1] else "no ") + "bgp route-server branch-to-branch")
    elif kind == "role":
        addr = SP[op[1]].addr
        if op[2] is None:
            rs_config("no neighbor {} route-server role".format(addr))
        else:
            rs_config("neighbor {} route-server role {}".format(addr, ROLE_CLI[op[2]]))
    elif kind == "shut":
        rs_config("{}neighbor {} shutdown".format("" if op[2] else "no ", SP[op[1]].addr))
    elif kind == "prefix":
        sp = SP[op[1]]
        if op[1] in stopped:  # a stopped speaker's config/pending set carries it
            (sp.announced.add if op[3] else sp.announced.discard)(op[2])
        else:
            apply_prefix(sp, op[2], op[3])
    elif kind == "attr":
        sp = SP[op[1]]
        sp.attrs[op[2]] = (op[3], op[4])
        if op[1] not in stopped:
            sp.set_attrs(op[2])
    elif kind == "pref":
        if len(op) > 2:
            rs_config("no bgp route-server routing-preference")
        else:
            rs_config("bgp route-server routing-preference " + op[1])
    elif kind == "vnet":
        rs_config("address-family ipv4 unicast", "{}network {}".format("" if op[2] else "no ", op[1]))
    elif kind == "delete":
        rs_config("no neighbor {}".format(SP[op[1]].addr))
    elif kind == "create":  # as in r1/frr.conf
        sp = SP[op[1]]
        if sp.ibgp:
            rs_config("neighbor {} peer-group IBGP".format(sp.addr))
        else:
            rs_config("neighbor {} remote-as {}".format(sp.addr, sp.asn),
                      "neighbor {} peer-group EBGP".format(sp.addr))
    elif kind == "stop":
        SP[op[1]].stop(hard=op[2])
        stopped.add(op[1])
    elif kind == "start":
        SP[op[1]].start()
        wait_for(SP[op[1]].ready, True, op[1] + ": daemon ready", count=40, wait=0.25)
        stopped.discard(op[1])
    elif kind == "pause":
        time.sleep(op[1])


def op_str(op):
    return " ".join("-" if a is None else str(a) for a in op)


# --- observation and quiescence ----------------------------------------------


def sessions():
    data = vtysh_json(r1(), "show bgp neighbors json")
    return {s.name: data.get(s.addr, {}).get("bgpState") for s in SPEAKERS}


def some(prefixes, limit=8):
    """A set of prefixes for a message: sorted, at most limit of them."""
    p = sorted(prefixes)
    return str(p) if len(p) <= limit else "{} ... ({} in all)".format(p[:limit], len(p))


def label(path):
    """A path a speaker holds, for messages: its source and AS path."""
    if path is None:
        return "nothing"
    src = next((TAGS[a] for a in path if a in TAGS), "untagged")
    return "{}[{}]".format(src, " ".join(map(str, path)))


def r1_shared():
    """prefix -> (best path's source, {source: (AS path, MED)}) of the
    shared prefixes in r1's table."""
    data = vtysh_json(r1(), "show bgp ipv4 unicast 10.200.0.0/16 longer-prefixes json")
    by_addr = {s.addr: s.name for s in SPEAKERS}
    out = {}
    for prefix, paths in (data.get("routes") or {}).items():
        best, have = None, {}
        for p in paths:
            src = by_addr.get(p.get("peerId"), p.get("peerId"))
            have[src] = (tuple(int(a) for a in (p.get("path") or "").split()), p.get("metric", 0))
            if p.get("bestpath"):
                best = src
        out[prefix] = (best, have)
    return out


def observe(m, exp):
    """(ok, details): every speaker holds, per prefix, a path the model
    expects (exp: m.expected(); the AS path names the source), r1 holds
    the shared prefixes' paths with the announced attributes and selects
    the best the model expects, and sessions match shutdowns and
    deletions."""
    got = {s.name: s.received() for s in SPEAKERS}
    st = sessions()
    diff = {}
    STATE["bad"] = []  # (receiver, prefix) for failure()'s diagnostics
    for n in sorted(SP):
        wrong = [p for p in sorted(set(exp[n]) | set(got[n])) if got[n].get(p) not in exp[n].get(p, NOTHING)]
        STATE["bad"] += [(n, p) for p in wrong]
        bad = ["{}: want {} got {}".format(p, " or ".join(sorted(label(x) for x in exp[n].get(p, NOTHING))),
                                          label(got[n].get(p))) for p in wrong]
        up_ok = (st[n] == "Established") != m.gone(n)
        if bad or not up_ok:
            diff[n] = "{} session {}".format(some(bad, 6), st[n])
    have = r1_shared()
    bad = []
    for p in SHARED:
        want = {s: (m.route_path(s, p), m.med(s, p)) for s in m.sources(p)}
        best, paths = have.get(p, (None, {}))
        if paths != want:
            STATE["bad"].append(("r1", p))
            bad.append("{}: paths {} want {}".format(p, paths, want))
        elif want and best not in m.best(p)[0]:
            STATE["bad"].append(("r1", p))
            other = m.copy()
            other.unranked = "tie" if m.unranked == "preferred" else "preferred"
            bad.append("{}: best {} want {}{}".format(
                p, best, " or ".join(sorted(m.best(p)[0])),
                " (as if RS_MODEL_UNRANKED={})".format(other.unranked) if best in other.best(p)[0] else ""))
    if bad:
        diff["r1"] = "; ".join(bad)
    return not diff, diff


def quiesce(m, need_reeval):
    """Wait until observe() holds for SETTLE seconds (and the module ran a
    re-evaluation after a policy change) while no monitored speaker logs
    an UPDATE; that moment is a barrier for the monitor (nothing in
    flight). Returns (ok, diff, seconds)."""
    start, diff = time.time(), {"r1": "no route-server re-evaluation after the policy change"}
    mon = STATE.get("monitor")
    exp = m.expected()
    while time.time() - start < QUIESCE_TIMEOUT:
        if need_reeval is None or rs_json(r1())["reevaluations"] > need_reeval:
            ok, diff = observe(m, exp)
            if ok:
                quiet_since, sizes = time.time(), [r.size() for r in READERS.values()]
                time.sleep(SETTLE)
                ok, diff = observe(m, exp)
                if ok and (sizes != [r.size() for r in READERS.values()] or not outq_empty()):
                    ok, diff = False, {"monitor": "UPDATEs still on their way to the monitored speakers"}
                if ok:
                    if mon is not None:
                        mon.tl.barrier(quiet_since)
                        poll_monitor()
                    return True, {}, time.time() - start
        time.sleep(0.1)
    return False, diff, time.time() - start


# --- transient monitor ---------------------------------------------------------

READERS = {}  # monitored speaker -> LogReader of its updates.jsonl


def outq_empty():
    """r1 holds no packet it has not written to a monitored speaker."""
    data = vtysh_json(r1(), "show bgp neighbors json")
    return all(not data.get(s.addr, {}).get("messageStats", {}).get("depthOutq") for s in MONITORED)


def prefix_owner():
    """prefix -> source of the prefixes with one (all but the shared ones;
    the monitor names a path's source by its tag AS first)."""
    owner = {VNET_FIXED: VNET, VNET_EXTRA: VNET}
    for s in SPEAKERS:
        owner.update((p, s.name) for p in s.pool + s.filler if p not in SHARED)
    return owner


def start_monitor(m):
    for s in MONITORED:
        READERS[s.name] = LogReader(s.updates_log())
    STATE["monitor"] = Checker(Timeline(m.withheld(), m.shut | m.deleted), prefix_owner(), TAGS)


def record_op(op, t, m):
    STATE["monitor"].tl.op(t, op, m.withheld(), m.shut | m.deleted)


def poll_monitor():
    """Check what the monitored speakers logged since the last poll."""
    mon = STATE["monitor"]
    for name, reader in READERS.items():
        mon.count(name)
        for rec in reader.read():
            mon.feed(name, rec)
    return mon


def monitor_lines():
    mon = STATE.get("monitor")
    if mon is None:
        return []
    poll_monitor()
    mon.dump(os.path.join(get_topogen().logdir, "monitor.json"))
    return ["monitor: " + l for l in mon.summary() + mon.report(op_str)]


def failure(what, m, index, batch, history, diff):
    lines = [
        "rs_model: {} after op #{} - replay with RS_MODEL_SEED={} {}{}".format(
            what, index, SEED, "RS_MODEL_SCRIPT=" + SCRIPT if SCRIPT else "RS_MODEL_OPS={}".format(N_OPS),
            " RS_MODEL_UNRANKED=tie" if UNRANKED == "tie" else ""),
        "batch: " + "; ".join(op_str(o) for o in batch),
        "model: " + m.describe(),
    ]
    for p in SHARED:
        paths = m.paths(p)
        if paths:
            best, amb = m.best(p)
            lines.append("  {}: paths {} -> best {}{}".format(
                p, paths, "/".join(sorted(best)), " (ambiguous order)" if amb else ""))
    lines += ["  {}: {}".format(n, d) for n, d in sorted(diff.items())]
    lines.append("r1 table: {}".format(some(received_prefixes(r1()), 40)))
    lines += monitor_lines()
    lines.append("history (op index: op):")
    lines += ["  {}: {}".format(i, op_str(o)) for i, o in history]
    lines += diagnostics()
    text = "\n".join(lines)
    logger.error(text)
    return text


def diagnostics(limit=4):
    """r1's view of the first mismatches: the prefix, the withheld list
    and advertised routes of the receiver, the update-groups."""
    cmds, out = [], ["r1 diagnostics:"]
    for n, p in STATE.get("bad", [])[:limit]:
        cmds.append("show bgp ipv4 unicast {}".format(p))
        if n in SP:
            cmds += ["show bgp route-server withheld {}".format(SP[n].addr),
                     "show bgp ipv4 unicast neighbors {} advertised-routes".format(SP[n].addr)]
    if cmds:
        cmds += ["show bgp route-server", "show bgp update-groups"]
    seen = set()
    for c in cmds:
        if c not in seen:
            seen.add(c)
            out += ["r1# " + c] + ["  " + l for l in r1().vtysh_cmd(c).splitlines()]
    return out if cmds else []


# --- tests ---------------------------------------------------------------------


def tally(m):
    """Coverage of the best-allowed-path cases at a quiescent point."""
    cov = STATE.setdefault("coverage", {})
    cov[m.pref] = cov.get(m.pref, 0) + 1
    for p in SHARED:
        per, by_pref = m.analyse(p)
        cov["by_pref"] = cov.get("by_pref", 0) + by_pref
        for kind in per.values():
            cov[kind] = cov.get(kind, 0) + 1


def test_initial_state():
    m = new_model()
    start_monitor(m)
    ok, diff, took = quiesce(m, None)
    assert ok, failure("initial state mismatch", m, 0, [], [], diff)
    STATE["model"], STATE["counters"] = m, established_counters(r1())
    logger.info("rs_model: initial state after %.1f s", took)


def test_random_operations():
    assert "model" in STATE, "initial state not reached"
    rng = random.Random(SEED)
    m, last = STATE["model"], STATE["counters"]
    history, index, checks, worst, t0 = [], 0, 0, 0.0, time.time()
    script = None
    if SCRIPT:
        with open(SCRIPT) as f:
            script = [[tuple(o) for o in b] for b in json.load(f)]
    while (index < N_OPS) if script is None else script:
        batch = gen_batch(rng, m, first=not index) if script is None else script.pop(0)
        stopped, touched, reeval = set(), set(), None
        if any(o[0] in ("b2b", "role", "pref") for o in batch):
            reeval = rs_json(r1())["reevaluations"]
        for op in batch:
            if op[0] != "pause":
                index += 1
                history.append((index, op))
                logger.info("rs_model op #%d: %s", index, op_str(op))
            if op[0] in ("shut", "stop", "start", "delete", "create"):
                touched.add(op[1])
            apply_model(m, op)
            if op[0] != "pause":
                record_op(op, time.time(), m)
            apply_network(op, stopped)
        ok, diff, took = quiesce(m, reeval)
        assert ok, failure("no quiescence", m, index, batch, history, diff)
        now = established_counters(r1())
        reset = {n: (last.get(SP[n].addr), now.get(SP[n].addr)) for n in SP
                 if n not in touched and now.get(SP[n].addr) != last.get(SP[n].addr)}
        assert not reset, failure("session reset (established, dropped) before -> after",
                                  m, index, batch, history, {n: str(v) for n, v in reset.items()})
        last, checks, worst = now, checks + 1, max(worst, took)
        tally(m)
    mon = poll_monitor()
    mon.dump(os.path.join(get_topogen().logdir, "monitor.json"))
    summary = "rs_model: seed {} - {} ops, {} quiescent points checked, 0 mismatches, " \
              "{:.0f} s, slowest convergence {:.1f} s".format(SEED, index, checks, time.time() - t0, worst)
    cov = STATE["coverage"]
    lines = [summary, "rs_model shared prefixes at quiescent points (receiver, prefix): " + ", ".join(
        "{} {}".format(k, cov.get(k, 0)) for k in ("best", "substitute", "none", "own", "ambiguous"))
        + "; r1's best decided by the routing preference {} times; preference {}".format(
            cov.get("by_pref", 0), ", ".join("{} {}".format(p, cov.get(p, 0)) for p in PREFS))]
    lines += ["rs_model monitor: " + l for l in mon.summary()]
    lines.append("rs_model monitor: (op, speaker) transitions with a route withheld before and after: "
                 + ", ".join("{} {}".format(k, n) for k, n in sorted(mon.coverage().items())))
    lines.append("rs_model monitor: {} transient leaks (expected 0){}".format(
        mon.n_leaks(), "".join("; {} after {} ops ({} windows)".format(n, k, w)
                               for k, (n, w) in sorted(mon.by_kind().items()))))
    for l in lines:
        print(l, flush=True)
        logger.info(l)
    assert not mon.leaks, failure("transient leak", m, index, [], history,
                                  {"monitor": "{} leaked announces".format(mon.n_leaks())})
