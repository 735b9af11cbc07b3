# SPDX-License-Identifier: GPL-2.0-or-later
"""
Where the route server's time goes (rsbench --profile-runs): one base
workload run of bgpd (variant a or c) under `perf record -e cpu-clock -g`
(this machine has no hardware counters; FRR is built with frame pointers),
from before the first session until every receiver is complete, and
bgpd's `show memory` once converged.

The time is split by the event callback a sample runs under, from the
call chains (inclusive time), so each stage counts once:

- input: reading the sockets (bgpd's I/O thread, bgp_process_reads) and
  parsing UPDATEs: attributes, their interning, the RIB-in, queueing for
  best path (bgp_process_packet);
- best path: the best-path queue (meta_queue_process) without what it
  hands to the update-groups;
- update-groups: the adj-out work of a new best path
  (group_announce_route, under the best-path queue) and packing UPDATEs
  (subgroup_coalesce_timer, bgp_generate_updgrp_packets and the
  update-group walks);
- writing: the I/O thread's writes (bgp_process_writes);
- other: the rest (timers, vty, the event loop itself).
"""

import os
import re
import signal
import subprocess
import time

import topo

FREQ = 499  # samples per second and thread: a 1M run gives some 10,000
STAGES = [  # (stage, entry functions); the first entry on a chain wins
    ("writing", ("bgp_process_writes",)),
    ("update-groups", ("group_announce_route", "subgroup_coalesce_timer",
                       "bgp_generate_updgrp_packets", "update_group_walk", "update_group_af_walk",
                       "subgroup_announce_table", "bgp_adj_out_set_subgroup")),
    ("best path", ("meta_queue_process", "bgp_process_main_one")),
    ("input", ("bgp_process_packet", "bgp_process_reads")),
]
TOP = 15


def stage_of(chain):
    """chain: function names, leaf first."""
    names = set(chain)
    for stage, entries in STAGES:
        if names & set(entries):
            return stage
    return "other"


def parse_script(text):
    """`perf script` output: per sample (comm, [leaf .. root])."""
    out, comm, chain = [], None, []
    for line in text.split("\n"):
        if not line.strip():
            if comm is not None:
                out.append((comm, chain))
            comm, chain = None, []
        elif not line[0].isspace():
            comm = line.split()[0]
        else:
            f = line.split()
            if len(f) >= 2:
                chain.append(re.sub(r"\+0x[0-9a-f]+$", "", f[1]))
    if comm is not None:
        out.append((comm, chain))
    return out


def summarize(samples):
    n = len(samples) or 1
    stages, self_fn, incl = {}, {}, {}
    for _, chain in samples:
        st = stage_of(chain)
        stages[st] = stages.get(st, 0) + 1
        leaf = chain[0] if chain else "[unknown]"
        self_fn[leaf] = self_fn.get(leaf, 0) + 1
        for fn in set(chain):
            incl[fn] = incl.get(fn, 0) + 1
    pct = lambda c: round(100.0 * c / n, 1)  # noqa: E731
    top = sorted(self_fn.items(), key=lambda kv: -kv[1])[:TOP]
    return {"samples": len(samples), "stages": {k: pct(v) for k, v in stages.items()},
            "top_self": [[fn, pct(c), pct(incl.get(fn, 0))] for fn, c in top]}


def parse_memory(out):
    """`show memory bgpd`: [(mtype, count, current bytes)], largest first.
    A type's line: name : count [size|variable] total max max-bytes."""
    rows = []
    for line in out.split("\n"):
        name, sep, rest = line.partition(": ")
        f = rest.split()
        if sep and name.strip() != "Type" and len(f) in (4, 5) and f[0].isdigit() and f[-3].isdigit():
            rows.append((name.strip(), int(f[0]), int(f[-3])))
    return sorted(rows, key=lambda r: -r[2])


def measure(runner, variant, b2b, n, tmpdir):
    """One profiled run; a record for the results file."""
    rec = {"mode": "profile", "variant": variant, "b2b": b2b, "n": n}
    want = topo.expected(variant, bool(b2b), n)
    data = os.path.join(tmpdir, "perf-%s-%s-%d.data" % (variant, b2b, n))
    runner.start_rs(variant, b2b)
    perf = None
    try:
        perf = subprocess.Popen(["perf", "record", "-q", "-e", "cpu-clock", "-F", str(FREQ), "-g",
                                 "-p", str(runner.rs.pid), "-o", data],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        time.sleep(0.5)  # attached before the first session
        t0 = time.time()
        runner.start_speakers(n)
        runner.converge(want, topo.total_announced(n), t0)
        rec["t"] = round(time.time() - t0, 2)
        del want
        perf.send_signal(signal.SIGINT)
        err = perf.communicate(timeout=120)[1]
        if perf.returncode not in (0, -signal.SIGINT):
            raise RuntimeError("perf record: %s" % err.decode()[-500:])
        perf = None
        mem = parse_memory(runner.rs.vtysh("show memory bgpd"))
        rec["memory_top"] = [list(r) for r in mem[:TOP]]
        rec["memory_total_mb"] = round(sum(r[2] for r in mem) / 1e6, 1)
        rec["rss_mb"] = round(runner.rs.rss_mb()[1], 1)
    finally:
        if perf:
            perf.kill()
            perf.wait()
        runner.stop_all()
    script = subprocess.run(["perf", "script", "-i", data, "-F", "comm,ip,sym"], capture_output=True,
                            text=True, timeout=600).stdout
    os.unlink(data)
    samples = parse_script(script)
    rec.update(summarize(samples))
    rec["threads"] = {}
    for comm, _ in samples:
        rec["threads"][comm] = rec["threads"].get(comm, 0) + 1
    return rec


def summary(rec):
    st = rec["stages"]
    return "profile %s b2b=%s N=%d: %d samples, %s; top %s; memory %.0f MB" % (
        rec["variant"], rec["b2b"], rec["n"], rec["samples"],
        ", ".join("%s %.0f%%" % (k, v) for k, v in sorted(st.items(), key=lambda kv: -kv[1])),
        rec["top_self"][0][0] if rec["top_self"] else "-", rec["memory_total_mb"])
