#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""
ExaBGP API process for the model test (started by ExaBGP, one per speaker).

  exa_api.py RUNDIR OWN_AS ROUTER_ID

- Keeps ExaBGP's announcements equal to RUNDIR/announce (one prefix per
  line followed by its ExaBGP attributes, e.g. "10.1.0.0/24 origin igp
  as-path [ 65003 64631 ] med 10"; the test replaces the file):
  announce/withdraw commands on stdout, an announce again when a prefix's
  attributes change (it replaces the path).
- Announces RUNDIR/filler (one prefix per line, read once at start; the
  large-table mode's filler prefixes) in bulk commands.
- Reads ExaBGP's JSON messages on stdin and keeps the routes received from
  the route server as a BGP speaker would hold them: a route with our AS in
  its AS path or our router ID as ORIGINATOR_ID is a loop and not held
  (RFC 4271 9.1.2, RFC 4456 8), a session going down flushes everything.
  The result goes to RUNDIR/rib.json as {"up": bool, "prefixes": {prefix:
  AS path as a list of AS numbers}}.
- Appends every UPDATE received and every session state change, as one
  JSON line each, to RUNDIR/updates.jsonl (the transient monitor's input):
    {"t": ExaBGP's receive time, "rt": our read time, "n": ExaBGP's message
     counter, "pid": ExaBGP's pid, "a": [announced prefixes],
     "w": [withdrawn prefixes], "p": the announces' AS path (a list),
     "loop": true if we drop the announce as a loop, "eor": true for
     End-of-RIB}
    {"t": ..., "rt": ..., "pid": ..., "state": "up"|"down"|"connected"|...}
  Times are time.time() of the host (the test's clock).
"""

import json
import os
import select
import sys
import time


def flatten(value):
    """AS numbers of an AS path in any of ExaBGP's JSON layouts."""
    if isinstance(value, int):
        return [value]
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, (list, tuple)):
        return [a for v in value for a in flatten(v)]
    if isinstance(value, str) and value.isdigit():
        return [int(value)]
    return []


class Speaker:
    def __init__(self, rundir, own_as, router_id):
        self.rundir, self.own_as, self.router_id = rundir, own_as, router_id
        self.up, self.rib, self.announced = False, {}, {}
        self.log = open(os.path.join(rundir, "updates.jsonl"), "a")

    def record(self, msg, **fields):
        rec = {"t": msg.get("time"), "rt": time.time(), "pid": msg.get("pid")}
        if not isinstance(rec["t"], (int, float)):
            rec["t"] = rec["rt"]
        rec.update(fields)
        self.log.write(json.dumps(rec, separators=(",", ":")) + "\n")

    def handle(self, line):
        """One message from ExaBGP; True if the RIB or state changed."""
        try:
            msg = json.loads(line)
        except ValueError:
            return False  # "done" acks and the like
        nbr = msg.get("neighbor", {})
        if msg.get("type") == "state":
            self.record(msg, state=nbr.get("state"))
            self.up = nbr.get("state") == "up"
            if not self.up:
                self.rib.clear()
            return True
        if msg.get("type") != "update":
            return False
        message = nbr.get("message", {})
        update = message.get("update")
        if not update:
            self.record(msg, n=msg.get("counter"), a=[], w=[], eor="eor" in message)
            return False
        attrs = update.get("attribute", {})
        aspath = flatten(attrs.get("as-path", []))
        looped = self.own_as in aspath or attrs.get("originator-id") == self.router_id
        withdrawn = [n["nlri"] if isinstance(n, dict) else n
                     for n in update.get("withdraw", {}).get("ipv4 unicast", []) or []]
        announced = [n["nlri"] if isinstance(n, dict) else n
                     for per_nh in update.get("announce", {}).get("ipv4 unicast", {}).values()
                     for n in per_nh]
        self.record(msg, n=msg.get("counter"), a=announced, w=withdrawn, p=aspath if announced else [],
                    loop=looped)
        for p in withdrawn:
            self.rib.pop(p, None)
        # A looped announcement replaces (withdraws) an earlier path.
        for p in announced:
            if looped:
                self.rib.pop(p, None)
            else:
                self.rib[p] = aspath
        return True

    def dump(self):
        path = os.path.join(self.rundir, "rib.json")
        with open(path + ".tmp", "w") as f:
            json.dump({"up": self.up, "prefixes": self.rib, "pid": os.getpid()}, f)
        os.replace(path + ".tmp", path)

    def wanted(self):
        """prefix -> its attributes (ExaBGP syntax)."""
        try:
            with open(os.path.join(self.rundir, "announce")) as f:
                lines = [l.split(None, 1) for l in f if l.strip()]
        except FileNotFoundError:
            return {}
        return {l[0]: l[1].strip() if len(l) > 1 else "" for l in lines}

    def announce_filler(self):
        """The filler prefixes, in bulk (a line per prefix is slow)."""
        try:
            with open(os.path.join(self.rundir, "filler")) as f:
                filler = [l.strip() for l in f if l.strip()]
        except FileNotFoundError:
            return
        for i in range(0, len(filler), 200):
            sys.stdout.write("announce attributes next-hop {} nlri {}\n".format(
                self.router_id, " ".join(filler[i:i + 200])))
        sys.stdout.flush()

    def sync(self):
        want = self.wanted()
        cmds = ["announce route {} next-hop self {}".format(p, a).rstrip() for p, a in sorted(want.items())
                if self.announced.get(p) != a]
        cmds += ["withdraw route {} next-hop self".format(p) for p in sorted(set(self.announced) - set(want))]
        for c in cmds:
            sys.stdout.write(c + "\n")
        sys.stdout.flush()
        self.announced = want


def main():
    sp = Speaker(sys.argv[1], int(sys.argv[2]), sys.argv[3])
    sp.dump()
    sp.announce_filler()
    buf, changed, dumped = b"", False, 0.0
    while True:
        ready, _, _ = select.select([0], [], [], 0.05)
        if ready:
            data = os.read(0, 1 << 20)
            if not data:
                sp.log.flush()
                return  # ExaBGP is gone
            buf += data
            lines = buf.split(b"\n")
            buf = lines.pop()
            for line in lines:
                changed |= sp.handle(line)
            sp.log.flush()
        sp.sync()
        # rib.json: when input pauses, at most every 0.2 s while it flows
        # (a large table arrives in many reads)
        if changed and (not ready or time.time() - dumped > 0.2):
            sp.dump()
            changed, dumped = False, time.time()


if __name__ == "__main__":
    main()
