#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""
Unit test of the model check's transient monitor (rs_monitor.py) on
synthetic update logs, with the real oracle, and of the oracle's best
allowed path and routing preference: pure Python, no routers.
Runs with the topotests, or alone:
    python3 -m pytest topotests/rs_model/test_rs_monitor.py
"""

import json
import os
import sys

CWD = os.path.dirname(os.path.abspath(__file__))
sys.path.append(CWD)

from rs_monitor import Checker, LogReader, Timeline  # noqa: E402
from rs_oracle import ER, NOTHING, NVA, VNET, VPN, Model, Neighbor  # noqa: E402

# x1 receives; e1, e2 would be ExpressRoute gateways, v1 a VPN gateway.
NBRS = [Neighbor("x1", 65003, False), Neighbor("e1", 65515, True, True),
        Neighbor("e2", 65515, True, True), Neighbor("v1", 65004, False)]
OWNER = {"10.1.0.0/24": "e1", "10.2.0.0/24": "e2", "10.4.0.0/24": "v1",
         "10.3.0.0/24": "x1", "10.100.0.0/16": VNET}


def scenario():
    """x1 is an ExpressRoute gateway, e1 another one, v1 a VPN gateway,
    e2 has no role, branch-to-branch off. Op 1 (t=10) toggles b2b on, op 2 (t=20) off
    again, op 3 (t=30) deletes e1, op 4 (t=40) changes v1's role to
    ExpressRoute. Barriers (quiescence) at 5, 15, 25, 35, 45."""
    m = Model(NBRS, vnet=["10.100.0.0/16"])
    m.roles.update(x1=ER, e1=ER, v1=VPN)
    tl = Timeline(m.withheld(), m.shut | m.deleted)
    tl.barrier(5.0)
    for t, change in ((10.0, ("b2b", True)), (20.0, ("b2b", False)),
                      (30.0, ("delete", "e1")), (40.0, ("role", "v1", ER))):
        if change[0] == "b2b":
            m.b2b = change[1]
        elif change[0] == "delete":
            m.deleted.add(change[1])
            m.roles[change[1]] = None
        else:
            m.roles[change[1]] = change[2]
        tl.op(t, change, m.withheld(), m.shut | m.deleted)
        tl.barrier(t + 5.0)
    return Checker(tl, OWNER)


def update(t, announce=(), withdraw=(), p=None):
    rec = {"t": t, "rt": t + 0.001, "a": list(announce), "w": list(withdraw)}
    if p is not None:
        rec["p"] = list(p)
    return rec


def test_oracle_withheld():
    m = Model(NBRS)
    m.roles.update(x1=ER, e1=ER, v1=VPN)
    w = m.withheld()["x1"]
    assert "e1" in w and "x1" in w  # ER -> ER never (itself too)
    assert "v1" in w  # VPN -> ER only with b2b
    assert VNET not in w and "e2" not in w  # VNet always, role-less native
    m.b2b = True
    assert "v1" not in m.withheld()["x1"]
    m.shut.add("e2")
    assert "e2" in m.withheld()["x1"]  # no session: its routes are gone
    assert set(m.withheld()["e2"]) == {VNET, "x1", "e1", "e2", "v1"}


def test_clean_log_passes():
    """Everything the policy allows at some moment around each update:
    v1's route while b2b is on (op 1), also arriving late, just after op 2
    turned it off again; its withdraw after op 2; VNet and e2 (no role,
    native) routes at any time; withdraws of anything. Also v1's route
    in the window of op 3: op 2 is still a candidate (it may have been
    sent just before op 3) and b2b was on before op 2, so it cannot be
    told from a late update."""
    c = scenario()
    for rec in (update(1.0, ["10.100.0.0/16", "10.2.0.0/24"]),
                update(10.2, ["10.4.0.0/24"]),
                update(20.1, ["10.4.0.0/24"]),  # sent before op 2, arrived after
                update(20.3, withdraw=["10.4.0.0/24"]),
                update(30.2, withdraw=["10.1.0.0/24"]),
                update(31.0, ["10.4.0.0/24"]),
                update(41.0, ["10.100.0.0/16"]),
                {"t": 42.0, "rt": 42.0, "state": "up"}):
        c.feed("x1", rec)
    assert not c.leaks, c.report()
    n = c.counts["x1"]
    assert (n["updates"], n["announces"], n["withdraws"], n["checked"], n["sessions"]) == (7, 6, 2, 6, 1)
    # v1 at 10.2 and 20.1 (b2b changing), at 31.0 also late
    assert (n["changing"], n["late"]) == (3, 1)


def test_leaks_are_flagged():
    """An ExpressRoute route to the ExpressRoute gateway x1 while b2b
    toggles (ER -> ER is never allowed); the deleted e1's route to x1
    while e1 is being deleted; v1's route when it changes from VPN to
    ExpressRoute with b2b off (withheld before and after, and before
    op 3, the other candidate); x1's own route back to it (ER -> ER)."""
    c = scenario()
    for rec in (update(10.5, ["10.1.0.0/24", "10.2.0.0/24"]),  # e1: leak; e2 native
                update(30.4, ["10.1.0.0/24"]),  # e1 deleted at op 3: leak
                update(40.3, ["10.4.0.0/24", "10.3.0.0/24"])):  # v1 VPN->ER; x1 own route
        c.feed("x1", rec)
    got = sorted((l.window, l.source, l.reason) for l in c.leaks.values())
    assert got == [(1, "e1", "matrix"), (3, "e1", "source or receiver shut/deleted"),
                   (4, "v1", "matrix"), (4, "x1", "matrix")], got
    assert c.n_leaks() == 4 and c.counts["x1"]["leaks"] == 4
    text = "\n".join(c.report())
    assert "LEAK op #1 (('b2b', True))" in text and "10.1.0.0/24" in text
    assert c.by_kind() == {"b2b": (1, 1), "delete": (1, 1), "role": (2, 1)}
    # x1 (ER) always has e1 and itself withheld; v1 before op 1, after op 2
    assert c.coverage() == {"b2b": 2, "delete": 1, "role": 1}


def test_window_without_barrier_is_wide():
    """Without a barrier since the start an update may come from any
    earlier state: v1's route at t=41 is no leak then (b2b was on until
    op 2). After a barrier in window 3 only ops 3 and 4 are candidates,
    and v1's route is withheld before and after both: a leak."""
    m = Model(NBRS)
    m.roles.update(x1=ER, v1=VPN)
    tl = Timeline(m.withheld())
    m.b2b = True
    tl.op(10.0, ("b2b", True), m.withheld())
    m.b2b = False
    tl.op(20.0, ("b2b", False), m.withheld())
    tl.op(30.0, ("vnet", "10.101.0.0/16", True), m.withheld())
    tl.op(40.0, ("vnet", "10.101.0.0/16", False), m.withheld())
    c = Checker(tl, OWNER)
    c.feed("x1", update(41.0, ["10.4.0.0/24"]))
    assert not c.leaks and tl.candidates(41.0) == (0, 4)
    tl.barrier(35.0)
    c.feed("x1", update(41.5, ["10.4.0.0/24"]))
    assert c.n_leaks() == 1 and tl.candidates(41.5) == (2, 4)
    assert tl.candidates(5.0) == (0, 0) and tl.candidates(36.0) == (1, 3)


def test_log_reader(tmp_path):
    path = tmp_path / "updates.jsonl"
    r = LogReader(str(path))
    assert r.read() == [] and r.size() == 0
    with open(path, "w") as f:
        f.write(json.dumps(update(1.0, ["10.1.0.0/24"])) + "\n" + '{"t": 2.0, "a"')
    assert [x["t"] for x in r.read()] == [1.0]  # the partial line waits
    with open(path, "a") as f:
        f.write(': [], "w": []}\n')
    assert [x["t"] for x in r.read()] == [2.0] and r.read() == []


# tag AS of each neighbor (in the AS path of what it announces)
TAGS = {64601: "e1", 64602: "e2", 64604: "v1", 64603: "x1"}
SHARED = "10.200.0.0/24"  # announced by e1, e2 and v1: no owner


def test_shared_prefix_source_by_tag():
    """What x1 (ExpressRoute) may receive of a prefix several neighbors
    announce depends on the path's source, named by its tag AS, not on
    the prefix: e2's path (no role) at any time and v1's while b2b is on
    are substitutes the policy allows; e1's path (ER -> ER) is a leak in
    every state; an announce of the shared prefix without a tag cannot be
    attributed."""
    c = scenario()
    c.tags = dict(TAGS)
    for rec in (update(1.0, [SHARED], p=[65515, 64602]),
                update(10.2, [SHARED], p=[65515, 65004, 64604]),
                update(12.0, [SHARED], p=[64601, 64601]),
                update(13.0, [SHARED], p=[65515]),
                update(14.0, ["10.1.0.0/24"], p=[65515, 64602])):  # the tag decides
        c.feed("x1", rec)
    got = sorted((l.window, l.source, l.reason, tuple(l.prefixes)) for l in c.leaks.values())
    assert got == [(1, "e1", "matrix", (SHARED,))], got
    n = c.counts["x1"]
    assert (n["checked"], n["unattributed"], n["changing"]) == (4, 1, 1), n


def backup_model():
    """e1 (ER, AS path 2 long), v1 (VPN, 4 long) and x1 (NVA, 3 long)
    announce P; e2 (NVA) receives."""
    nbrs = [Neighbor("e1", 65515, True, True, addr="10.0.0.1", tag=64601),
            Neighbor("e2", 65515, True, True, addr="10.0.0.2", tag=64602),
            Neighbor("v1", 65004, False, addr="10.0.0.4", tag=64604),
            Neighbor("x1", 65003, False, addr="10.0.0.3", tag=64603)]
    m = Model(nbrs)
    m.roles.update(e1=ER, e2=NVA, v1=VPN, x1=NVA)
    for n, k in (("e1", 2), ("v1", 3), ("x1", 2)):
        m.announced[n].add("P")
        m.attrs[n]["P"] = (k, 0)
    return m


def test_oracle_best_allowed_and_preference():
    m = backup_model()
    got = lambda: {d: m.expected()[d].get("P", NOTHING) for d in sorted(m.neighbors)}  # noqa: E731
    # expressroute: e1 best; NVAs get x1's (NVA -> NVA), x1 itself nothing
    # (its own path), the others nothing with b2b off
    assert m.best("P") == (frozenset(["e1"]), False)
    assert got() == {"e1": NOTHING, "e2": {(65003, 64603, 64603)}, "v1": NOTHING, "x1": NOTHING}
    m.b2b = True  # e1 gets x1's (NVA before VPN by AS path), the others e1's
    assert got() == {"e1": {(65003, 64603, 64603)}, "e2": {(64601, 64601)},
                     "v1": {(65515, 64601, 64601)}, "x1": {(65515, 64601, 64601)}}
    m.pref = "vpn"  # x1 (NVA, 3 long with its AS) beats v1 (4 long): x1 best
    assert m.best("P") == (frozenset(["x1"]), False)
    # x1's best allowed path is its own: nothing
    assert got() == {"e1": {(65003, 64603, 64603)}, "e2": {(65003, 64603, 64603)},
                     "v1": {(65515, 65003, 64603, 64603)}, "x1": NOTHING}
    m.pref = "as-path"  # shortest: e1 (2), then x1 (3, eBGP), v1 (4)
    assert m.best("P") == (frozenset(["e1"]), False)
    # MED decides between equal AS path lengths (always compared)
    m.attrs["e1"]["P"], m.attrs["x1"]["P"] = (3, 20), (2, 10)
    assert m.best("P") == (frozenset(["x1"]), False)
    # equal length and MED: eBGP (x1) over iBGP (e1); among iBGP the lower
    # router ID
    m.attrs["e1"]["P"] = (3, 10)
    assert m.best("P") == (frozenset(["x1"]), False)
    m.shut.add("x1")
    m.announced["e2"].add("P")
    m.attrs["e2"]["P"] = (3, 10)
    assert m.best("P") == (frozenset(["e1"]), False)
    # role-less e2 between e1 (ER) and v1 (VPN) in AS path length under
    # vpn: ranked with the preferred class (VPN) it beats v1 by AS path
    # and both beat e1
    m.pref, m.roles["e2"] = "vpn", None
    m.attrs["e1"]["P"], m.attrs["e2"]["P"], m.attrs["v1"]["P"] = (1, 0), (2, 0), (3, 0)
    assert m.best("P") == (frozenset(["e2"]), False)
    assert got()["e1"] == {(64602, 64602)}
    # not ranked at all: a cycle, any allowed path (v1's or e2's) for e1
    m.unranked = "tie"
    assert m.best("P") == (frozenset(["e1", "e2", "v1"]), True)
    assert got()["e1"] == {(64602, 64602), (65004, 64604, 64604, 64604)}
