#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""
ExaBGP API process of a test_rs_bestpath peer (started by ExaBGP).

  exa_peer.py RUNDIR OWN_AS

- Keeps ExaBGP's announcements equal to RUNDIR/announce.json, which the
  test replaces at run time: {"PREFIX": {"as-path": [AS, ...], "med": N or
  null}, ...}. A prefix whose attributes change is announced again (an
  implicit withdraw of the earlier path); a prefix that disappears is
  withdrawn.
- Appends every UPDATE received and every session state change to
  RUNDIR/updates.jsonl, one JSON line each, with the route server's
  attributes (the monitor the test reads afterwards):
    {"t": time, "a": [[prefix, next hop, [AS path], med], ...],
     "w": [prefix, ...], "eor": bool}
    {"t": time, "state": "up"|"down"|"connected"|...}
- Holds the routes received as a BGP speaker would: an announce with our
  AS in its AS path is a loop and replaces (withdraws) the earlier path;
  a session going down flushes everything. RUNDIR/rib.json:
    {"up": bool, "rib": {prefix: {"nh": ..., "as": [...], "med": ...}}}
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


def nlri(n):
    return n["nlri"] if isinstance(n, dict) else n


class Peer:
    def __init__(self, rundir, own_as):
        self.rundir, self.own_as = rundir, own_as
        self.up, self.rib = False, {}
        self.announced = {}  # prefix -> command attributes sent
        self.wanted_raw = None
        self.log = open(os.path.join(rundir, "updates.jsonl"), "a")

    def record(self, **fields):
        rec = {"t": time.time()}
        rec.update(fields)
        self.log.write(json.dumps(rec, separators=(",", ":")) + "\n")

    def handle(self, line):
        """One message from ExaBGP; True if the RIB or state changed."""
        try:
            msg = json.loads(line)
        except ValueError:
            return False
        nbr = msg.get("neighbor", {})
        if msg.get("type") == "state":
            self.record(state=nbr.get("state"))
            self.up = nbr.get("state") == "up"
            if not self.up:
                self.rib.clear()
            return True
        if msg.get("type") != "update":
            return False
        message = nbr.get("message", {})
        update = message.get("update")
        if not update:
            self.record(a=[], w=[], eor="eor" in message)
            return False
        attrs = update.get("attribute", {})
        path = flatten(attrs.get("as-path", []))
        med = attrs.get("med")
        withdrawn = [nlri(n) for n in update.get("withdraw", {}).get("ipv4 unicast", []) or []]
        announced = [(nlri(n), nh)
                     for nh, per_nh in (update.get("announce", {}).get("ipv4 unicast", {}) or {}).items()
                     for n in per_nh]
        self.record(a=[[p, nh, path, med] for p, nh in announced], w=withdrawn, eor=False)
        for p in withdrawn:
            self.rib.pop(p, None)
        loop = self.own_as in path
        for p, nh in announced:
            if loop:
                self.rib.pop(p, None)
            else:
                self.rib[p] = {"nh": nh, "as": path, "med": med}
        return True

    def dump(self):
        path = os.path.join(self.rundir, "rib.json")
        with open(path + ".tmp", "w") as f:
            json.dump({"up": self.up, "rib": self.rib}, f)
        os.replace(path + ".tmp", path)

    def sync(self):
        try:
            with open(os.path.join(self.rundir, "announce.json")) as f:
                raw = f.read()
        except FileNotFoundError:
            raw = "{}"
        if raw == self.wanted_raw:
            return
        try:
            want = json.loads(raw)
        except ValueError:
            return
        self.wanted_raw = raw
        cmds = []
        for p in sorted(set(self.announced) - set(want)):
            cmds.append("withdraw route {} next-hop self".format(p))
            del self.announced[p]
        for p, attrs in sorted(want.items()):
            if self.announced.get(p) == attrs:
                continue
            cmd = "announce route {} next-hop self".format(p)
            if attrs.get("as-path"):
                cmd += " as-path [ {} ]".format(" ".join(str(a) for a in attrs["as-path"]))
            if attrs.get("med") is not None:
                cmd += " med {}".format(attrs["med"])
            cmds.append(cmd)
            self.announced[p] = attrs
        for c in cmds:
            sys.stdout.write(c + "\n")
        sys.stdout.flush()


def main():
    peer = Peer(sys.argv[1], int(sys.argv[2]))
    peer.dump()
    buf, changed, dumped = b"", False, 0.0
    while True:
        ready, _, _ = select.select([0], [], [], 0.05)
        if ready:
            data = os.read(0, 1 << 20)
            if not data:
                peer.log.flush()
                return  # ExaBGP is gone
            buf += data
            lines = buf.split(b"\n")
            buf = lines.pop()
            for line in lines:
                changed |= peer.handle(line)
            peer.log.flush()
        peer.sync()
        if changed and (not ready or time.time() - dumped > 0.2):
            peer.dump()
            changed, dumped = False, time.time()


if __name__ == "__main__":
    main()
