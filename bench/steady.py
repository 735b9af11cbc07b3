# SPDX-License-Identifier: GPL-2.0-or-later
"""
Steady-state propagation (rsbench --steady-sizes): what an operator feels
once the table is loaded. With N ExpressRoute prefixes loaded and
converged (base workload), the NVA `STEADY_SRC` announces and then
withdraws one prefix, then bursts of `burst` prefixes, `events` times each.
Each event is timed from the source's own BGP export of the first prefix
to the last receiver's import of the last one, from BIRD's route traces
(millisecond timestamps, one clock): every receiver the matrix allows
must get (or drop) all of them, and a receiver it does not allow must get
none (counted as violations, which fail the run).

Then the source fails `failures` times: its link goes down, its session
runs BFD (100 ms x 3; bfdd beside bgpd), and each failure is timed until
every allowed receiver has dropped its 4,000 prefixes.

The prefixes are static protocols of the source, `disabled` until the
harness enables them (birdc enable/disable: an announcement or a
withdrawal of exactly that set). Traces are switched on (birdc debug
rsrv routes) only after the initial convergence.
"""

import datetime
import json
import os
import re
import subprocess
import time

import topo
from lab import LAN, Bgpd

STEADY_SRC = "nva3"
ONE = ["100.64.0.0/24"]
BURST_MAX = 4000
EVENT_TIMEOUT = 60
BFD_TIMEOUT = 30
# "2026-11-30 09:23:54.486 <TRACE> rsrv.ipv4 > added [best] 100.64.0.0/24 0L 3G unicast":
# ">" a route imported from the route server, "<" one exported to it
IMPORT, EXPORT = ">", "<"
TRACE_RE = re.compile(r"^(\S+ \S+) <TRACE> rsrv(?:\.ipv4)? ([<>]) (added|removed|updated)"
                      r"(?: \[[^\]]*\])? (\S+)")


def burst_prefixes(burst):
    return ["101.%d.%d.0/24" % (k >> 8, k & 255) for k in range(burst)]


def steady_protocols(workdir, burst):
    """name -> routes file of the source's extra static protocols."""
    out = {}
    for proto, pfxs in (("steady1", ONE), ("steadyb", burst_prefixes(burst))):
        path = os.path.join(workdir, "routes", "%s-%d.conf" % (proto, len(pfxs)))
        if not os.path.exists(path):
            with open(path + ".tmp", "w") as f:
                f.writelines("route %s blackhole;\n" % p for p in pfxs)
            os.rename(path + ".tmp", path)
        out[proto] = path
    return out


def receivers(variant, b2b, src=STEADY_SRC):
    """(allowed, withheld): the speakers that must and must not get the
    source's prefixes. BIRD never sends a route back to its source; bgpd
    does, and the source drops it (its own AS)."""
    srole = topo.PEERS[src][0]
    allowed, withheld = [], []
    for name, (drole, _, _) in topo.PEERS.items():
        if name == src:
            continue
        if variant == "a" or topo.allowed(srole, drole, b2b):
            allowed.append(name)
        else:
            withheld.append(name)
    return allowed, withheld


class Trace:
    """New route-trace lines of one speaker's log."""

    def __init__(self, path):
        self.path, self.pos = path, 0

    def mark(self):
        self.pos = os.path.getsize(self.path) if os.path.exists(self.path) else 0

    def read(self):
        """(time, direction, verb, prefix) of the lines since the mark."""
        out = []
        if not os.path.exists(self.path):
            return out
        with open(self.path) as f:
            f.seek(self.pos)
            data = f.read()
        end = data.rfind("\n") + 1  # only whole lines
        self.pos += len(data[:end].encode())
        for line in data[:end].splitlines():
            m = TRACE_RE.match(line)
            if m:
                out.append((m.group(1), m.group(2), m.group(3), m.group(4)))
        return out


def stamp(s):
    return datetime.datetime.strptime(s, "%Y-%m-%d %H:%M:%S.%f").timestamp()


def birdc(sp, *cmd):
    r = subprocess.run(["birdc", "-s", sp.sock] + list(cmd), capture_output=True, text=True)
    # birdc exits 0 on a refused command: the reply codes tell (8xxx/9xxx)
    if r.returncode or re.search(r"^[89]\d{3}", r.stdout, re.M):
        raise RuntimeError("birdc %s: %s" % (" ".join(cmd), r.stdout + r.stderr))
    return r.stdout


def one_event(runner, traces, allowed, withheld, proto, pfxs, action):
    """Enable or disable one static protocol of the source; seconds from
    its first export to the last allowed receiver's last import, and the
    number of withheld receivers that got any of the prefixes."""
    want = set(pfxs)
    verb = "added" if action == "enable" else "removed"

    def leaked(lines):  # imports of the event's prefixes by a withheld receiver
        return sum(1 for _, d, v, p in lines if p in want and d == IMPORT and v != "removed")

    for t in traces.values():
        t.mark()
    birdc(runner.speakers[STEADY_SRC], action, proto)
    got = {name: set() for name in allowed}
    last = {}
    first = None
    violations = 0
    end = time.time() + EVENT_TIMEOUT
    while time.time() < end:
        for name, t in traces.items():
            lines = t.read()
            if name in withheld:
                violations += leaked(lines)
                continue
            for ts, direction, v, pfx in lines:
                if pfx not in want:
                    continue
                if name == STEADY_SRC:
                    if direction == EXPORT and v == verb and first is None:
                        first = ts
                elif direction == IMPORT and name in got and (v == verb or (verb == "added" and v == "updated")):
                    got[name].add(pfx)
                    last[name] = ts
        if first and all(len(g) == len(want) for g in got.values()):
            break
        time.sleep(0.02)
    else:
        short = {n: len(want) - len(g) for n, g in got.items() if len(g) != len(want)}
        tails = {n: open(traces[n].path).read().splitlines()[-3:] for n in (STEADY_SRC, allowed[0])}
        raise RuntimeError("steady %s %s: not complete after %d s: missing %s; log tails %s" % (
            action, proto, EVENT_TIMEOUT, short, tails))
    # withheld receivers: a late violation would show in the next event's
    # read too, but is counted here with a short settle
    time.sleep(0.05)
    for name in withheld:
        violations += leaked(traces[name].read())
    return stamp(max(last.values())) - stamp(first), violations


def switch_port(lab, name):
    """The bridge port (in the switch namespace) of a speaker's link."""
    out = subprocess.run(["ip", "-n", lab.nodes[name].ns, "-o", "link", "show", LAN],
                         capture_output=True, text=True, check=True).stdout
    idx = re.search(r"@if(\d+):", out).group(1)
    for line in subprocess.run(["ip", "-n", lab.switch, "-o", "link"], capture_output=True, text=True,
                               check=True).stdout.splitlines():
        if line.startswith(idx + ":"):
            return line.split(":")[1].strip().split("@")[0]
    raise RuntimeError("no switch port of %s" % name)


def bfd_up(runner, ip):
    """The route server's BFD session with ip is up (bfdd's or BIRD's)."""
    if isinstance(runner.rs, Bgpd):
        try:
            data = json.loads(runner.rs.vtysh("show bfd peers json"))
        except ValueError:
            return False
        return isinstance(data, list) and any(s.get("peer") == ip and s.get("status") == "up" for s in data)
    return any(line.split()[:1] == [ip] and "Up" in line.split()
               for line in runner.rs.cli("show bfd sessions").splitlines())


def wait_bfd(runner):
    """A failure is timed only with BFD up: otherwise the hold time would
    be measured under BFD's name."""
    ip = topo.PEERS[STEADY_SRC][2]
    end = time.time() + BFD_TIMEOUT
    while not bfd_up(runner, ip):
        if time.time() > end:
            raise RuntimeError("steady: the route server's BFD session with %s is not up after %d s" % (
                ip, BFD_TIMEOUT))
        time.sleep(0.1)


def failure_event(runner, traces, allowed, withheld, pfxs):
    """The source's link goes down (its bridge port: the route server's own
    link stays up, so only BFD or the hold timer tells). Seconds from the link
    going down to the last allowed receiver's removal of the source's last
    prefix, and from the first receiver's removal to that (propagation
    once bgpd noticed). The link then comes back and the harness waits
    until the receivers hold the prefixes again. Timed only from BFD up
    (wait_bfd)."""
    want = set(pfxs)
    port = switch_port(runner.lab, STEADY_SRC)
    wait_bfd(runner)

    def wait(verb, since):
        got = {name: set() for name in allowed}
        stamps, violations = [], 0
        end = time.time() + EVENT_TIMEOUT * 2
        while time.time() < end:
            for name, t in traces.items():
                for ts, direction, v, pfx in t.read():
                    if pfx not in want or direction != IMPORT:
                        continue
                    if name in withheld and v != "removed":
                        violations += 1
                    elif name in got and v == verb:
                        got[name].add(pfx)
                        stamps.append(ts)
            if all(len(g) == len(want) for g in got.values()):
                return stamp(min(stamps)) - since, stamp(max(stamps)) - since, violations
            time.sleep(0.05)
        short = {n: len(want) - len(g) for n, g in got.items() if len(g) != len(want)}
        raise RuntimeError("steady failure: %s not complete after %d s: missing %s" % (
            verb, EVENT_TIMEOUT * 2, short))

    for t in traces.values():
        t.mark()
    t0 = time.time()
    subprocess.run(["ip", "-n", runner.lab.switch, "link", "set", port, "down"], check=True)
    first, last, violations = wait("removed", t0)
    subprocess.run(["ip", "-n", runner.lab.switch, "link", "set", port, "up"], check=True)
    violations += wait("added", t0)[2]
    return last, last - first, violations


def pct(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(q * (len(xs) - 1))))]


def stats(xs):
    return {"p50": round(pct(xs, 0.5), 4), "p99": round(pct(xs, 0.99), 4), "max": round(max(xs), 4),
            "n": len(xs)}


def measure(runner, variant, b2b, n, events, burst, failures):
    """One steady-state run: load N, converge, then the events. Returns a
    record for the results file."""
    rec = {"mode": "steady", "variant": variant, "b2b": b2b, "n": n, "events": events,
           "burst": burst, "src": STEADY_SRC, "failures": failures}
    want = topo.expected(variant, bool(b2b), n)
    runner.start_rs(variant, b2b, bfd_peer=STEADY_SRC)
    try:
        t0 = time.time()
        runner.start_speakers(n, "base", steady=steady_protocols(runner.workdir, burst))
        runner.converge(want, topo.total_announced(n), t0)
        del want
        rec["load_s"] = round(time.time() - t0, 2)
        traces = {}
        for name, sp in runner.speakers.items():
            traces[name] = Trace(os.path.join(sp.dir, "bird.log"))
            birdc(sp, "debug", "rsrv", "{", "routes", "}")
        allowed, withheld = receivers(variant, b2b)
        rec["receivers"], rec["withheld"] = len(allowed), len(withheld)
        violations = 0
        for kind, proto, pfxs in (("one", "steady1", ONE), ("burst", "steadyb", burst_prefixes(burst))):
            times = {"enable": [], "disable": []}
            for _ in range(events):
                for action in ("enable", "disable"):
                    dt, v = one_event(runner, traces, allowed, withheld, proto, pfxs, action)
                    times[action].append(dt)
                    violations += v
            for action, name in (("enable", "announce"), ("disable", "withdraw")):
                rec["%s_%s" % (kind, name)] = stats(times[action])
        total, spread = [], []
        for _ in range(failures):
            t, s, v = failure_event(runner, traces, allowed, withheld, topo.prefixes(STEADY_SRC, n))
            total.append(t)
            spread.append(s)
            violations += v
        if failures:
            rec["failure"], rec["failure_spread"] = stats(total), stats(spread)
        rec["violations"] = violations
        rec["rss_mb"] = round(runner.rs.rss_mb()[1], 1)
    finally:
        runner.stop_all()
    return rec


def summary(rec):
    fail = " failure %.2f s (%.3f s after the first removal)," % (
        rec["failure"]["p50"], rec["failure_spread"]["p50"]) if "failure" in rec else ""
    return "steady %s b2b=%s N=%d: one %.3f/%.3f s, burst %.3f/%.3f s (p50 announce/withdraw),%s %d violations" % (
        rec["variant"], rec["b2b"], rec["n"], rec["one_announce"]["p50"], rec["one_withdraw"]["p50"],
        rec["burst_announce"]["p50"], rec["burst_withdraw"]["p50"], fail, rec["violations"])
