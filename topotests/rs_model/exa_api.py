#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""
ExaBGP API process for the model test (started by ExaBGP, one per speaker).

  exa_api.py RUNDIR OWN_AS ROUTER_ID

- Keeps ExaBGP's announcements equal to RUNDIR/announce (one prefix per
  line; the test replaces the file): announce/withdraw commands on stdout.
- Reads ExaBGP's JSON messages on stdin and keeps the routes received from
  the route server as a BGP speaker would hold them: a route with our AS in
  its AS path or our router ID as ORIGINATOR_ID is a loop and not held
  (RFC 4271 9.1.2, RFC 4456 8), a session going down flushes everything.
  The result goes to RUNDIR/rib.json as {"up": bool, "prefixes": [...]}.
"""

import json
import os
import select
import sys


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
        self.up, self.rib, self.announced = False, set(), set()

    def handle(self, line):
        """One message from ExaBGP; True if the RIB or state changed."""
        try:
            msg = json.loads(line)
        except ValueError:
            return False  # "done" acks and the like
        nbr = msg.get("neighbor", {})
        if msg.get("type") == "state":
            self.up = nbr.get("state") == "up"
            if not self.up:
                self.rib.clear()
            return True
        update = nbr.get("message", {}).get("update")
        if msg.get("type") != "update" or not update:
            return False
        attrs = update.get("attribute", {})
        looped = self.own_as in flatten(attrs.get("as-path", [])) or (
            attrs.get("originator-id") == self.router_id)
        for nlris in update.get("withdraw", {}).get("ipv4 unicast", []) or []:
            self.rib.discard(nlris["nlri"] if isinstance(nlris, dict) else nlris)
        for per_nh in update.get("announce", {}).get("ipv4 unicast", {}).values():
            for nlri in per_nh:
                prefix = nlri["nlri"] if isinstance(nlri, dict) else nlri
                # A looped announcement replaces (withdraws) an earlier path.
                if looped:
                    self.rib.discard(prefix)
                else:
                    self.rib.add(prefix)
        return True

    def dump(self):
        path = os.path.join(self.rundir, "rib.json")
        with open(path + ".tmp", "w") as f:
            json.dump({"up": self.up, "prefixes": sorted(self.rib), "pid": os.getpid()}, f)
        os.replace(path + ".tmp", path)

    def wanted(self):
        try:
            with open(os.path.join(self.rundir, "announce")) as f:
                return {l.strip() for l in f if l.strip()}
        except FileNotFoundError:
            return set()

    def sync(self):
        want = self.wanted()
        cmds = ["announce route {} next-hop self".format(p) for p in sorted(want - self.announced)]
        cmds += ["withdraw route {} next-hop self".format(p) for p in sorted(self.announced - want)]
        for c in cmds:
            sys.stdout.write(c + "\n")
        sys.stdout.flush()
        self.announced = want


def main():
    sp = Speaker(sys.argv[1], int(sys.argv[2]), sys.argv[3])
    sp.dump()
    buf = b""
    while True:
        ready, _, _ = select.select([0], [], [], 0.05)
        changed = False
        if ready:
            data = os.read(0, 65536)
            if not data:
                return  # ExaBGP is gone
            buf += data
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                changed |= sp.handle(line)
        sp.sync()
        if changed:
            sp.dump()


if __name__ == "__main__":
    main()
