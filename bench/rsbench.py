#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""
Route-server benchmark: the module (c) against bgpd without it (a), bgpd
with the policy as route-maps (b) and BIRD (d), alternated in one run.

For every run the harness starts the route server, then the eleven BIRD
speakers, and measures the seconds from the first session up until every
receiver holds exactly its expected set and the route server has taken
in all input. Sets are compared in full, not by count. At the toggle size
it also times branch-to-branch off -> on -> off. Results go to a JSON
file; bench/report.py turns them into docs/performance.md.
"""

import argparse
import datetime
import json
import os
import platform
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import topo  # noqa: E402
from lab import Bgpd, Bird, make_lab, parse_count, parse_routes, wait_until  # noqa: E402
import callgrind  # noqa: E402

POLL = 0.2
CONFIGS = [("a", None), ("b", False), ("b", True), ("c", False), ("c", True), ("d", False), ("d", True)]


class Mismatch(Exception):
    pass


class Runner:
    def __init__(self, lab, prefix, workdir, timeout):
        self.lab, self.prefix, self.workdir, self.timeout = lab, prefix, workdir, timeout
        self.speakers, self.rs = {}, None

    # -- daemons -------------------------------------------------------------
    def start_rs(self, variant, b2b):
        node = self.lab.nodes["rs"]
        log = os.path.join(node.dir, "rs.log")
        if variant == "d":
            self.rs = Bird(node, topo.bird_rs_conf(bool(b2b), log))
        else:
            self.rs = Bgpd(self.prefix, node, topo.frr_conf(variant, bool(b2b), log), variant == "c")
            wait_until(lambda: '"peers"' in self.rs.vtysh("show bgp ipv4 unicast summary json"), 30, "bgpd peers")

    def start_speakers(self, n):
        os.makedirs(os.path.join(self.workdir, "routes"), exist_ok=True)
        for name in topo.PEERS:
            node = self.lab.nodes[name]
            key = "er-%d" % n if name == "er1" else name
            routes = os.path.join(self.workdir, "routes", key + ".conf")
            topo.write_routes(routes, name, n)
            self.speakers[name] = Bird(node, topo.speaker_conf(name, routes, os.path.join(node.dir, "bird.log")))
        # Sessions start only once every injector holds its routes, so T
        # does not include BIRD parsing a million-line config.
        for name, sp in self.speakers.items():
            n_own = len(topo.prefixes(name, n)) if name != "er1" else n
            wait_until(lambda: parse_count(sp.cli("show route protocol inject count")) == n_own,
                       self.timeout, name + " routes", 0.2)
        for p in [sp.enable_popen("rsrv") for sp in self.speakers.values()]:
            p.wait()

    def stop_all(self):
        if self.rs:  # first, so it does not process the sessions' loss
            self.rs.stop()
            self.rs = None
        for sp in self.speakers.values():
            sp.stop()
        self.speakers = {}

    # -- observation -----------------------------------------------------------
    def counts(self):
        procs = {n: sp.popen("show route protocol rsrv count") for n, sp in self.speakers.items()}
        rs = self.rs_input_popen()
        out = {n: parse_count(p.communicate()[0]) for n, p in procs.items()}
        return out, self.rs_input_parse(rs.communicate()[0])

    def rs_input_popen(self):
        if isinstance(self.rs, Bird):
            return self.rs.popen("show route count")
        return self.rs.popen("show bgp ipv4 unicast summary json")

    def rs_input_parse(self, out):
        """Paths the route server has taken in from its neighbors."""
        if isinstance(self.rs, Bird):
            return max(parse_count(out) - 1, -1)  # minus the VNet route
        try:
            peers = json.loads(out).get("peers", {})
        except ValueError:
            return -1
        return sum(p.get("pfxRcd", 0) for p in peers.values())

    def first_session_up(self):
        """Epoch of the first speaker's session reaching Established, from
        BIRD's millisecond timestamps."""
        times = []
        for sp in self.speakers.values():
            for line in sp.cli("show protocols rsrv").splitlines():
                f = line.split()
                if f and f[0] == "rsrv" and "Established" in line:
                    stamp = datetime.datetime.strptime(f[4] + " " + f[5], "%Y-%m-%d %H:%M:%S.%f")
                    times.append(stamp.timestamp())
        if len(times) != len(self.speakers):
            raise Mismatch("not every session is up")
        return min(times)

    def verify_sets(self, want):
        procs = {n: sp.popen("show route protocol rsrv") for n, sp in self.speakers.items()}
        bad = {}
        for n, p in procs.items():
            got = parse_routes(p.communicate()[0])
            if got != want[n]:
                bad[n] = {"missing": sorted(want[n] - got)[:5], "extra": sorted(got - want[n])[:5],
                          "n_missing": len(want[n] - got), "n_extra": len(got - want[n])}
        return bad

    def converge(self, want, n_total, since):
        """Poll until counts match, then compare the full sets. Returns the
        time receivers were complete and the time the RS had all input."""
        counts = {k: len(v) for k, v in want.items()}
        t_rx = t_in = None
        end = since + self.timeout
        while time.time() < end:
            got, rs_in = self.counts()
            now = time.time()
            if t_in is None and rs_in == n_total:
                t_in = now
            if t_rx is None and got == counts:
                bad = self.verify_sets(want)  # after the clock: not timed
                if bad:
                    raise Mismatch(json.dumps(bad))
                t_rx = now
            if t_rx and t_in:
                return t_rx, t_in
            time.sleep(POLL)
        got, rs_in = self.counts()
        raise Mismatch("timeout: counts %s, expected %s, rs input %d/%d" % (got, counts, rs_in, n_total))

    # -- one measurement ----------------------------------------------------------
    def run(self, variant, b2b, n, toggle=False):
        rec = {"variant": variant, "b2b": b2b, "n": n}
        self.start_rs(variant, b2b)
        try:
            t_start = time.time()
            self.start_speakers(n)
            want = topo.expected(variant, bool(b2b), n)
            t_rx, t_in = self.converge(want, topo.total_announced(n), t_start)
            t0 = self.first_session_up()
            rec.update(t=round(max(t_rx, t_in) - t0, 3), t_receivers=round(t_rx - t0, 3),
                       t_rs_input=round(t_in - t0, 3), sets_ok=True)
            rec["rss_peak_mb"], rec["rss_mb"] = (round(x, 1) for x in self.rs.rss_mb())
            if toggle:
                rec["toggle"] = self.toggles(variant, n)
        finally:
            self.stop_all()
        return rec

    def toggles(self, variant, n):
        out = {}
        for b2b in (True, False):
            want = topo.expected(variant, b2b, n)
            t0 = time.time()
            if variant == "b":
                self.rs.vtysh(*topo.route_map_toggle(b2b))
            elif variant == "c":
                self.rs.vtysh(*topo.c_toggle(b2b))
            else:
                self.rs.configure(topo.bird_rs_conf(b2b, os.path.join(self.rs.dir, "rs.log")))
            t_rx, _ = self.converge(want, topo.total_announced(n), t0)
            out["on" if b2b else "off"] = round(t_rx - t0, 3)
        return out


def save(results, path):
    with open(path + ".tmp", "w") as f:
        json.dump(results, f, indent=1)
    os.rename(path + ".tmp", path)


def order(rep):
    """Alternate the variants: each repetition starts at a different one."""
    k = rep % len(CONFIGS)
    return CONFIGS[k:] + CONFIGS[:k]


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--prefix", required=True, help="FRR install prefix")
    ap.add_argument("--sizes", default="10000,100000,1000000", help="N values (ExpressRoute prefixes)")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--toggle-size", type=int, default=100000, help="N for the b2b toggle runs")
    ap.add_argument("--callgrind-size", type=int, default=10000)
    ap.add_argument("--out", required=True, help="results JSON")
    ap.add_argument("--workdir", default="/var/tmp/rs-bench", help="generated route files (cached)")
    ap.add_argument("--timeout", type=float, default=600)
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("bench: run as root (network namespaces)")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("bench: terminated"))
    os.environ["PATH"] = "{0}/bin:{0}/sbin:{1}".format(args.prefix, os.environ["PATH"])
    args.prefix = os.path.abspath(args.prefix)
    sizes = [int(s) for s in args.sizes.split(",")]
    results = {"machine": {"cpus": os.cpu_count(), "kernel": platform.release(),
                           "bird": subprocess.run(["bird", "--version"], capture_output=True,
                                                  text=True).stderr.strip()},
               "started": time.strftime("%Y-%m-%d %H:%M:%S"), "reps": args.reps, "sizes": sizes,
               "runs": [], "failures": []}
    lab = make_lab(args.prefix)
    runner = Runner(lab, args.prefix, args.workdir, args.timeout)
    try:
        for n in sizes:
            for rep in range(args.reps):
                for variant, b2b in order(rep):
                    toggle = n == args.toggle_size and variant != "a" and b2b is False
                    try:
                        rec = runner.run(variant, b2b, n, toggle)
                    except Mismatch as err:
                        rec = {"variant": variant, "b2b": b2b, "n": n, "error": str(err)[:2000]}
                        results["failures"].append(rec)
                        runner.stop_all()
                    rec["rep"] = rep
                    results["runs"].append(rec)
                    save(results, args.out)  # a cut-short run still reports
                    print("bench: N=%-7d rep %d %s b2b=%-5s %s" % (
                        n, rep, variant, b2b, rec.get("error") or "t=%.2fs rss=%.0fMB%s" % (
                            rec["t"], rec["rss_peak_mb"],
                            " toggle on %.2fs off %.2fs" % (rec["toggle"]["on"], rec["toggle"]["off"])
                            if "toggle" in rec else "")), flush=True)
        if args.callgrind_size:
            results["callgrind"] = callgrind.measure(runner, args.callgrind_size)
            print("bench: callgrind: %s" % json.dumps(results["callgrind"]), flush=True)
    finally:
        runner.stop_all()
        lab.close()
    results["finished"] = time.strftime("%Y-%m-%d %H:%M:%S")
    save(results, args.out)
    print("bench: results in %s, %d runs, %d failures" % (args.out, len(results["runs"]), len(results["failures"])))
    return 1 if results["failures"] else 0


if __name__ == "__main__":
    sys.exit(main())
