#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""
Route-server benchmark: the module (c) against bgpd without it (a), bgpd
with the policy as route-maps (b) and BIRD (d), alternated in one run;
optionally against an older build of FRR + module (c0, --baseline-prefix).

Two workloads (bench/topo.py): "base", every prefix from one role, and
"backup", where an NVA pair also announces the ExpressRoute prefixes
(prepended), so roles the ExpressRoute path is withheld from get the
NVAs' path instead; there BIRD runs with `secondary` (d, the same sets as
the module) and without it (d0, the best path or nothing, as c0).

For every run the harness starts the route server, then the eleven BIRD
speakers, and measures the seconds from the first session up until every
receiver holds exactly its expected set and the route server has taken
in all input. Sets are compared in full, not by count. It records the
route server's CPU time, peak RSS, bytes sent, UPDATE messages sent
(bgpd) and the prefix updates the receivers got. At the toggle sizes it
also times branch-to-branch off -> on -> off. Under perf it splits the
route server's time by stage (bench/perf_profile.py); under callgrind it counts
the instructions per call of the module's hooks. Results go to a JSON
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
from lab import Bgpd, Bird, make_lab, parse_count, parse_route_stats, parse_routes, wait_until  # noqa: E402
import callgrind  # noqa: E402
import perf_profile as profile_mod  # noqa: E402
import steady as steady_mod  # noqa: E402

POLL = 0.2
CONFIGS = [("a", None), ("b", False), ("b", True), ("c", False), ("c", True), ("d", False), ("d", True)]
# The backup workload: the module, its older build and BIRD with and
# without `secondary` (route-maps, like c0 and d0, can only hide paths).
BACKUP_CONFIGS = [("a", None), ("c", False), ("c", True), ("c0", False), ("c0", True),
                  ("d", False), ("d", True), ("d0", False), ("d0", True)]


class Mismatch(Exception):
    pass


class Runner:
    def __init__(self, lab, prefix, workdir, timeout, baseline=None):
        self.lab, self.prefix, self.workdir, self.timeout = lab, prefix, workdir, timeout
        self.baseline = baseline  # FRR prefix of variant c0
        self.speakers, self.rs = {}, None

    # -- daemons -------------------------------------------------------------
    def frr_prefix(self, variant):
        return self.baseline if variant == "c0" else self.prefix

    def build_id(self, variant):
        """When the route server's binaries were installed: a rebuild of
        the prefix while the bench runs shows up as a second value."""
        if variant in ("d", "d0"):
            return None
        prefix = self.frr_prefix(variant)
        return int(max(os.path.getmtime(os.path.join(prefix, f))
                       for f in ("sbin/bgpd", "lib/frr/modules/bgpd_route_server.so")))

    def start_rs(self, variant, b2b, workload="base", bfd_peer=None):
        """bfd_peer: a speaker whose session runs BFD (steady-state mode)."""
        node = self.lab.nodes["rs"]
        log = os.path.join(node.dir, "rs.log")
        if variant in ("d", "d0"):
            self.rs = Bird(node, topo.bird_rs_conf(bool(b2b), log, workload, topo.bird_secondary(variant, workload),
                                                   bfd_peer))
        else:
            self.rs = Bgpd(self.frr_prefix(variant), node, topo.frr_conf(variant, bool(b2b), log, workload, bfd_peer),
                           variant in ("c", "c0"), bfdd_conf=topo.BFDD_CONF if bfd_peer else None)
            wait_until(lambda: '"peers"' in self.rs.vtysh("show bgp ipv4 unicast summary json"), 30, "bgpd peers")

    def start_speakers(self, n, workload="base", steady=None):
        os.makedirs(os.path.join(self.workdir, "routes"), exist_ok=True)
        er_routes = os.path.join(self.workdir, "routes", "er-%d.conf" % n)
        topo.write_routes(er_routes, "er1", n)
        for name in topo.peers(workload):
            node = self.lab.nodes[name]
            routes = er_routes if name == "er1" else os.path.join(self.workdir, "routes", name + ".conf")
            topo.write_routes(routes, name, n)
            backup = er_routes if topo.backup_prefixes(name, n, workload) else None
            self.speakers[name] = Bird(node, topo.speaker_conf(
                name, routes, os.path.join(node.dir, "bird.log"), workload, backup,
                steady if name == steady_mod.STEADY_SRC else None))
        # Sessions start only once every injector holds its routes, so T
        # does not include BIRD parsing a million-line config.
        for name, sp in self.speakers.items():
            for proto, count in (("inject", len(topo.prefixes(name, n))),
                                 ("backup", len(topo.backup_prefixes(name, n, workload)))):
                if count:
                    wait_until(lambda: parse_count(sp.cli("show route protocol %s count" % proto)) == count,
                               self.timeout, "%s %s routes" % (name, proto), 0.2)
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

    def received_updates(self):
        """Prefix updates and withdraws the speakers got from the route
        server (BIRD's route change stats, summed)."""
        procs = [sp.popen("show protocols all rsrv") for sp in self.speakers.values()]
        stats = [parse_route_stats(p.communicate()[0]) for p in procs]
        return sum(u for u, _ in stats), sum(w for _, w in stats)

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
    def run(self, variant, b2b, n, workload="base", toggle=False):
        rec = {"workload": workload, "variant": variant, "b2b": b2b, "n": n,
               "load": round(os.getloadavg()[0], 2), "build": self.build_id(variant)}
        # before the clock: at 1M the sets take seconds to build
        want = topo.expected(variant, bool(b2b), n, workload)
        self.start_rs(variant, b2b, workload)
        try:
            cpu0, out0 = self.rs.cpu_s(), self.rs.out_octets()
            t_start = time.time()
            self.start_speakers(n, workload)
            t_rx, t_in = self.converge(want, topo.total_announced(n, workload), t_start)
            cpu1, out1 = self.rs.cpu_s(), self.rs.out_octets()
            t0 = self.first_session_up()
            rec.update(t=round(max(t_rx, t_in) - t0, 3), t_receivers=round(t_rx - t0, 3),
                       t_rs_input=round(t_in - t0, 3), sets_ok=True)
            rec["rss_peak_mb"], rec["rss_mb"] = (round(x, 1) for x in self.rs.rss_mb())
            # CPU seconds of the route server from before the first
            # session until converged (all threads); bytes it sent
            rec["cpu_s"] = round(cpu1 - cpu0, 2)
            rec["out_mb"] = round((out1 - out0) / 1e6, 2)
            rec["rx_updates"], rec["rx_withdraws"] = self.received_updates()
            if isinstance(self.rs, Bgpd):
                rec["updates_sent"] = self.rs.updates_sent()
            del want
            if toggle:
                rec["toggle"] = self.toggles(variant, n, workload)
        finally:
            self.stop_all()
        return rec

    def toggles(self, variant, n, workload="base"):
        out = {}
        for b2b in (True, False):
            want = topo.expected(variant, b2b, n, workload)
            t0 = time.time()
            if variant == "b":
                self.rs.vtysh(*topo.route_map_toggle(b2b))
            elif variant in ("c", "c0"):
                self.rs.vtysh(*topo.c_toggle(b2b))
            else:
                self.rs.configure(topo.bird_rs_conf(b2b, os.path.join(self.rs.dir, "rs.log"), workload,
                                                    topo.bird_secondary(variant, workload)))
            t_rx, _ = self.converge(want, topo.total_announced(n, workload), t0)
            out["on" if b2b else "off"] = round(t_rx - t0, 3)
            del want
        return out


def save(results, path):
    with open(path + ".tmp", "w") as f:
        json.dump(results, f, indent=1)
    os.rename(path + ".tmp", path)


def run_recorded(runner, results, path, mode, measure, summary, **ident):
    """One run of a mode (steady, profile): its record in results[mode], or
    its error (and any isolation violation) in the failures; saved at once."""
    t_run = time.time()
    try:
        rec = measure()
    except (Mismatch, RuntimeError, subprocess.SubprocessError) as err:
        rec = dict(mode=mode, error=str(err)[:2000], **ident)
        results["failures"].append(rec)
        runner.stop_all()
    if rec.get("violations"):
        results["failures"].append(dict(rec, error="%d isolation violations" % rec["violations"]))
    rec["wall_s"] = round(time.time() - t_run, 1)
    results[mode].append(rec)
    save(results, path)
    print("bench: %s" % (rec.get("error") or summary(rec)), flush=True)


def order(configs, rep):
    """Alternate the variants: each repetition starts at a different one."""
    k = rep % len(configs)
    return configs[k:] + configs[:k]


def configs_for(workload, baseline, variants):
    """The (variant, b2b) runs of a workload: c0 only with a baseline,
    and only the --variants asked for."""
    out = list(CONFIGS) if workload == "base" else list(BACKUP_CONFIGS)
    if baseline and workload == "base":
        out += [("c0", False), ("c0", True)]
    out = [(v, b) for v, b in out if (v != "c0" or baseline) and (not variants or v in variants)]
    return out


def tree_commit(path):
    """The commit of the git tree a prefix lies in (where it was built)."""
    r = subprocess.run(["git", "-C", path, "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    return r.stdout.strip() or None


def parse_callgrind_runs(spec, baseline):
    """"base:on,backup:off" -> [(variant, workload, b2b)], the baseline's
    runs after the module's."""
    runs = []
    for item in filter(None, spec.split(",")):
        workload, _, state = item.partition(":")
        if workload not in topo.WORKLOADS or state not in ("on", "off"):
            sys.exit("bench: --callgrind-runs: bad item %r (workload:on|off)" % item)
        runs.append(("c", workload, state == "on"))
    if baseline:
        runs += [("c0", w, b) for _, w, b in runs]
    return runs


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--prefix", required=True, help="FRR install prefix")
    ap.add_argument("--baseline-prefix", help="FRR + module install prefix of an older build to compare "
                    "with (variant c0), e.g. built from a git worktree of an earlier commit")
    ap.add_argument("--workloads", default="base,backup", help="base, backup or both")
    ap.add_argument("--sizes", default="10000,100000,1000000", help="N values (ExpressRoute prefixes), base workload")
    ap.add_argument("--backup-sizes", default="100000,1000000", help="N values, backup workload")
    ap.add_argument("--variants", help="only these variants (comma-separated, e.g. c,c0,d)")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--large-reps", type=int, default=2, help="repetitions at N >= 1M (a run takes minutes)")
    ap.add_argument("--toggle-sizes", default="100000,1000000", help="N values of the b2b toggle runs")
    ap.add_argument("--callgrind-size", type=int, default=10000, help="N under callgrind, 0 for none")
    ap.add_argument("--callgrind-runs", default="base:on,backup:off,backup:on",
                    help="workload:b2b of the module's callgrind runs (the baseline's are added)")
    ap.add_argument("--steady-sizes", default="100000,1000000",
                    help="N values of the steady-state propagation runs (bench/steady.py), empty for none")
    ap.add_argument("--steady-events", type=int, default=50, help="events of each kind per steady-state run")
    ap.add_argument("--steady-burst", type=int, default=4000, help="prefixes of a burst event")
    ap.add_argument("--steady-variants", default="a,b,c,d", help="variants of the steady-state runs")
    ap.add_argument("--steady-failures", type=int, default=3, help="failures of the source per steady-state run")
    ap.add_argument("--profile-sizes", default="100000,1000000", help="N values of the perf profile runs")
    ap.add_argument("--profile-runs", default="a,c:off,c:on",
                    help="variant[:b2b] of the perf profile runs (a has no b2b)")
    ap.add_argument("--bgp-config", action="append", default=[],
                    help="a line under `router bgp` for every bgpd variant (repeatable)")
    ap.add_argument("--out", required=True, help="results JSON")
    ap.add_argument("--workdir", default="/var/tmp/rs-bench", help="generated route files (cached)")
    ap.add_argument("--timeout", type=float, default=600)
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("bench: run as root (network namespaces)")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("bench: terminated"))
    os.environ["PATH"] = "{0}/bin:{0}/sbin:{1}".format(args.prefix, os.environ["PATH"])
    args.prefix = os.path.abspath(args.prefix)
    baseline = os.path.abspath(args.baseline_prefix) if args.baseline_prefix else None
    if baseline and not os.path.exists(os.path.join(baseline, "sbin", "bgpd")):
        sys.exit("bench: no bgpd in --baseline-prefix %s" % baseline)
    workloads = [w for w in args.workloads.split(",") if w]
    for w in workloads:
        if w not in topo.WORKLOADS:
            sys.exit("bench: unknown workload %r" % w)
    variants = set(args.variants.split(",")) if args.variants else None
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    sizes = [int(s) for s in args.sizes.split(",") if s] if "base" in workloads else []
    toggle_sizes = {int(s) for s in args.toggle_sizes.split(",") if s}
    topo.BGP_EXTRA[:] = args.bgp_config
    backup_sizes = [int(s) for s in args.backup_sizes.split(",") if s] if "backup" in workloads else []
    results = {"machine": {"cpus": os.cpu_count(), "kernel": platform.release(),
                           "bird": subprocess.run(["bird", "--version"], capture_output=True,
                                                  text=True).stderr.strip()},
               "command": " ".join(sys.argv[1:]),
               "started": time.strftime("%Y-%m-%d %H:%M:%S"), "reps": args.reps, "sizes": sizes,
               "backup_sizes": backup_sizes, "workloads": workloads, "large_reps": args.large_reps,
               "bgp_config": args.bgp_config,
               "module": {"prefix": args.prefix, "commit": tree_commit(args.prefix)},
               "runs": [], "failures": []}
    if baseline:
        results["baseline"] = {"prefix": baseline, "commit": tree_commit(baseline)}
    lab = make_lab(args.prefix)
    runner = Runner(lab, args.prefix, args.workdir, args.timeout, baseline)
    t_bench = time.time()
    try:
        for workload in workloads:
            configs = configs_for(workload, baseline, variants)
            for n in (sizes if workload == "base" else backup_sizes):
                t_size = time.time()
                for rep in range(args.reps if n < 1000000 else min(args.reps, args.large_reps)):
                    for variant, b2b in order(configs, rep):
                        # at 1M only in the base workload: a toggle there takes a minute
                        toggle = (n in toggle_sizes and variant != "a" and b2b is False
                                  and (workload == "base" or n < 1000000))
                        t_run = time.time()
                        try:
                            rec = runner.run(variant, b2b, n, workload, toggle)
                        except Mismatch as err:
                            rec = {"workload": workload, "variant": variant, "b2b": b2b, "n": n,
                                   "error": str(err)[:2000]}
                            results["failures"].append(rec)
                            runner.stop_all()
                        rec["rep"] = rep
                        rec["wall_s"] = round(time.time() - t_run, 1)  # the whole run, daemons included
                        results["runs"].append(rec)
                        save(results, args.out)  # a cut-short run still reports
                        print("bench: %-6s N=%-7d rep %d %-2s b2b=%-5s %s" % (
                            workload, n, rep, variant, b2b, rec.get("error") or "t=%.2fs cpu=%.2fs rss=%.0fMB%s" % (
                                rec["t"], rec["cpu_s"], rec["rss_peak_mb"],
                                " toggle on %.2fs off %.2fs" % (rec["toggle"]["on"], rec["toggle"]["off"])
                                if "toggle" in rec else "")), flush=True)
                results.setdefault("wall", {})["%s-%d" % (workload, n)] = round(time.time() - t_size, 1)
        steady_sizes = [int(x) for x in args.steady_sizes.split(",") if x]
        if steady_sizes:
            results["steady"] = []
            svariants = [v for v in args.steady_variants.split(",") if v]
            if not 1 <= args.steady_burst <= steady_mod.BURST_MAX:
                sys.exit("bench: --steady-burst: 1 to %d" % steady_mod.BURST_MAX)
        for n in steady_sizes:
            for variant, b2b in CONFIGS:
                if variant not in svariants:
                    continue
                run_recorded(runner, results, args.out, "steady",
                             lambda: steady_mod.measure(runner, variant, b2b, n, args.steady_events,
                                                        args.steady_burst, args.steady_failures),
                             steady_mod.summary, variant=variant, b2b=b2b, n=n)
        profile_sizes = [int(x) for x in args.profile_sizes.split(",") if x]
        if profile_sizes:
            results["profile"] = []
        for n in profile_sizes:
            for spec in args.profile_runs.split(","):
                variant, _, b2b = spec.partition(":")
                b2b = None if variant == "a" else b2b == "on"
                run_recorded(runner, results, args.out, "profile",
                             lambda: profile_mod.measure(runner, variant, b2b, n, args.workdir),
                             profile_mod.summary, variant=variant, b2b=b2b, n=n)
        if args.callgrind_size:
            results["callgrind_runs"] = []
            for variant, workload, b2b in parse_callgrind_runs(args.callgrind_runs, baseline):
                if workload not in workloads:
                    continue
                t_run = time.time()
                cg = callgrind.measure(runner, args.callgrind_size, workload, b2b, variant)
                cg["wall_s"] = round(time.time() - t_run, 1)
                results["callgrind_runs"].append(cg)
                if variant == "c" and workload == "base" and "callgrind" not in results:
                    results["callgrind"] = cg  # the per-path figure of the base report
                save(results, args.out)
                print("bench: callgrind: %s" % callgrind.summary(cg), flush=True)
    finally:
        runner.stop_all()
        lab.close()
    results["finished"] = time.strftime("%Y-%m-%d %H:%M:%S")
    results.setdefault("wall", {})["total"] = round(time.time() - t_bench, 1)
    save(results, args.out)
    print("bench: results in %s, %d runs, %d failures, %.0f s" % (
        args.out, len(results["runs"]), len(results["failures"]), time.time() - t_bench))
    return 1 if results["failures"] else 0


if __name__ == "__main__":
    sys.exit(main())
