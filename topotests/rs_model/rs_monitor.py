# SPDX-License-Identifier: GPL-2.0-or-later
"""
Transient monitor of the model check: semantics.md, "Isolation at every
moment". Pure Python, no FRR; test_rs_monitor.py tests it on synthetic
logs.

The ExaBGP speakers log every UPDATE they receive from the route server
(exa_api.py: one JSON line per message, with ExaBGP's receive time). The
test records when it starts applying each operation and the oracle's
withheld() state after it (Timeline). The checker replays the logs: an
announce of a prefix to a receiver is a leak when the announced path's
source is withheld from that receiver in every state the route server can
have been in, or moving between, when it sent the announce.

The source of an announce is the path's, not the prefix's: a prefix may
be announced by several speakers, and the route server may send a
receiver any of their paths that the policy allows it (its best allowed
path, or a path that was best allowed a moment before): such substitutes
are no leak. Every speaker puts its tag AS in the AS path of what it
announces, so the announce's AS path names its source; prefixes announced
without a tag (the route server's VNet prefixes, large-table filler) have
one owner.

Windows and states. Operation i is started at starts[i]; window i is
[starts[i], starts[i+1]) and during it the route server moves from state
i-1 (before op i) to state i (after op i); window 0 is the initial state.
An UPDATE received at time t in window k was sent before t, so no later
operation caused it; it may have been sent earlier than t (queues in bgpd,
TCP, ExaBGP), so it is attributed to every window from k-1 back to the last
barrier before t: a quiescent point where every table matched the oracle,
no monitored speaker logged anything for SETTLE seconds and r1 had no
packet queued for them, taken to mean that nothing sent before it was
still on its way. The states checked are those before and after each of
these candidate operations. Only a source withheld in all of them makes a
leak: the monitor calls nothing a leak that the timing of the operations
could explain.
"""

import bisect
import json
import os


class Timeline:
    """Operation start times, the withheld() state after each operation,
    and barrier times (quiescent points with nothing in flight)."""

    def __init__(self, state0, gone0=frozenset()):
        self.starts = [float("-inf")]
        self.states = [state0]  # receiver -> frozenset of withheld sources
        self.gones = [frozenset(gone0)]  # neighbors shut or deleted
        self.ops = [("initial state",)]
        self.barriers = []

    def op(self, t, op, state, gone=frozenset()):
        assert t >= self.starts[-1], "operations must be recorded in order"
        self.starts.append(t)
        self.states.append(state)
        self.gones.append(frozenset(gone))
        self.ops.append(op)

    def barrier(self, t):
        assert not self.barriers or t >= self.barriers[-1]
        self.barriers.append(t)

    def window(self, t):
        return bisect.bisect_right(self.starts, t) - 1

    def candidates(self, t):
        """(first, last) state index an update received at t is checked
        against: the states before and after every candidate operation."""
        k = self.window(t)
        first = k - 1  # it may have been sent before op k was applied
        b = bisect.bisect_right(self.barriers, t) - 1
        if b < 0:
            first = 0  # no barrier yet: anything since the start
        else:
            first = min(first, self.window(self.barriers[b]))
        return max(first - 1, 0), k


class Leak:
    def __init__(self, window, first, receiver, source, reason):
        self.window, self.first = window, first
        self.receiver, self.source, self.reason = receiver, source, reason
        self.prefixes, self.times = [], []


class Checker:
    """Checks update records as they come; keeps counts and leaks only.

    owner: prefix -> source (neighbor name or VNET) of the prefixes with
    one source; tags: AS number -> source, the AS each speaker puts in the
    AS path of its announcements (a record's "p")."""

    def __init__(self, timeline, owner, tags=None):
        self.tl, self.owner, self.tags = timeline, owner, dict(tags or {})
        self.counts = {}
        self.leaks = {}  # (window, receiver, source) -> Leak

    def source(self, prefix, rec):
        for asn in rec.get("p") or ():
            if asn in self.tags:
                return self.tags[asn]
        return self.owner.get(prefix)

    def count(self, receiver):
        return self.counts.setdefault(receiver, {
            "updates": 0, "announces": 0, "withdraws": 0, "checked": 0,
            "changing": 0, "late": 0, "unattributed": 0, "sessions": 0, "leaks": 0})

    def feed(self, receiver, rec):
        """One record of exa_api.py's log (see there for the format)."""
        c = self.count(receiver)
        if "state" in rec:
            c["sessions"] += rec["state"] == "up"
            return
        c["updates"] += 1
        c["withdraws"] += len(rec.get("w", ()))
        ann = rec.get("a", ())
        c["announces"] += len(ann)
        if not ann:
            return
        t = rec["t"]
        first, last = self.tl.candidates(t)
        states = self.tl.states[first:last + 1]
        verdict = {}  # source -> (leak reason or None, changing, late)
        for prefix in ann:
            src = self.source(prefix, rec)
            if src is None:
                c["unattributed"] += 1
                continue
            c["checked"] += 1
            if src not in verdict:
                held = [src in st.get(receiver, ()) for st in states]
                reason = None
                if all(held):
                    gones = self.tl.gones[first:last + 1]
                    gone = any(src in g or receiver in g for g in gones)
                    reason = "source or receiver shut/deleted" if gone else "matrix"
                # changing: withheld in some candidate state (a transition);
                # late: withheld before and after the op of its own window,
                # allowed only by an earlier candidate
                verdict[src] = (reason, any(held) and not all(held),
                                len(held) > 2 and all(held[-2:]) and not all(held))
            c["changing"] += verdict[src][1]
            c["late"] += verdict[src][2]
            if verdict[src][0]:
                c["leaks"] += 1
                k = self.tl.window(t)
                leak = self.leaks.get((k, receiver, src))
                if leak is None:
                    leak = self.leaks[(k, receiver, src)] = Leak(k, first, receiver, src, verdict[src][0])
                leak.prefixes.append(prefix)
                leak.times.append(t)

    def n_leaks(self):
        return sum(len(l.prefixes) for l in self.leaks.values())

    def summary(self):
        lines = []
        for r in sorted(self.counts):
            c = self.counts[r]
            lines.append(
                "{}: {} updates received ({} announces, {} withdraws, {} sessions up), "
                "{} announces checked ({} while their source's state changed, {} allowed "
                "only by an earlier operation), {} unattributed, {} leaks".format(
                    r, c["updates"], c["announces"], c["withdraws"], c["sessions"],
                    c["checked"], c["changing"], c["late"], c["unattributed"], c["leaks"]))
        return lines

    def coverage(self):
        """op kind -> number of (op, monitored receiver) pairs where the
        receiver had a session before and after the op and some source
        that existed then was withheld from it both before and after: the
        transitions in which a leak could have been seen."""
        tl, out = self.tl, {}
        for k in range(1, len(tl.ops)):
            gone = tl.gones[k - 1] | tl.gones[k]
            for r in self.counts:
                if r in gone:
                    continue
                both = tl.states[k - 1].get(r, frozenset()) & tl.states[k].get(r, frozenset())
                if any(s not in tl.gones[k - 1] or s not in tl.gones[k] for s in both):
                    out[tl.ops[k][0]] = out.get(tl.ops[k][0], 0) + 1
        return out

    def by_kind(self):
        """op kind -> (leaked announces, windows) over all leaks."""
        out = {}
        for l in self.leaks.values():
            kind = self.tl.ops[l.window][0]
            n, w = out.get(kind, (0, set()))
            out[kind] = (n + len(l.prefixes), w | {l.window})
        return {k: (n, len(w)) for k, (n, w) in out.items()}

    def report(self, op_str=str, limit=20):
        lines = []
        for key in sorted(self.leaks)[:limit]:
            l = self.leaks[key]
            lines.append(
                "LEAK op #{} ({}): {} received {} prefix(es) of {} ({}), withheld in states "
                "#{}..#{} (ops {}), e.g. {} at +{:.3f} s".format(
                    l.window, op_str(self.tl.ops[l.window]), l.receiver, len(l.prefixes),
                    l.source, l.reason, l.first, l.window,
                    "; ".join(op_str(o) for o in self.tl.ops[l.first + 1:l.window + 1]) or "-",
                    sorted(l.prefixes)[:3], l.times[0] - self.tl.starts[l.window]))
        if len(self.leaks) > limit:
            lines.append("... {} more (op, receiver, source) leak groups".format(len(self.leaks) - limit))
        return lines


    def dump(self, path):
        """The timeline, counts and leaks as JSON, for a look afterwards."""
        tl = self.tl
        with open(path, "w") as f:
            json.dump({
                "ops": [list(o) for o in tl.ops], "starts": tl.starts[1:], "barriers": tl.barriers,
                "withheld": [{r: sorted(w) for r, w in st.items()} for st in tl.states],
                "counts": self.counts,
                "leaks": [{"op": l.window, "first_state": l.first, "receiver": l.receiver,
                           "source": l.source, "reason": l.reason, "prefixes": l.prefixes,
                           "times": l.times} for _, l in sorted(self.leaks.items())],
            }, f)


class LogReader:
    """Reads exa_api.py's update log incrementally (complete lines only)."""

    def __init__(self, path):
        self.path, self.offset, self.partial = path, 0, b""

    def size(self):
        try:
            return os.stat(self.path).st_size
        except FileNotFoundError:
            return 0

    def read(self):
        try:
            with open(self.path, "rb") as f:
                f.seek(self.offset)
                data = f.read()
        except FileNotFoundError:
            return []
        self.offset += len(data)
        data = self.partial + data
        lines = data.split(b"\n")
        self.partial = lines.pop()
        return [json.loads(l) for l in lines if l.strip()]
