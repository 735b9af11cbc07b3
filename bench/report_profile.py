# SPDX-License-Identifier: GPL-2.0-or-later
"""The profile section of docs/performance.md (bench/perf_profile.py runs)."""

from perf_profile import STAGES

ORDER = [s for s, _ in reversed(STAGES)] + ["other"]
TOP_ROWS = 10
MEM_ROWS = 12


def b2b_name(b2b):
    return "-" if b2b is None else "on" if b2b else "off"


def render_profile(files):
    """files: [(path, results)]; the section's lines, or [] without runs."""
    recs = [r for _, res in files for r in res.get("profile", [])]
    if not recs:
        return []
    out = ["## Where the time goes (perf)", "",
           "The route server's bgpd (all threads) under `perf record -e cpu-clock -g` from before the "
           "first session until every receiver is complete, base workload (bench/perf_profile.py). "
           "Share of the samples by the stage a sample's call chain runs under: input = reading the "
           "sockets and parsing UPDATEs (attributes, interning, RIB-in); best path = the best-path "
           "queue without the update-group work it triggers; update-groups = adj-out work of a new "
           "best path and packing UPDATEs; writing = the I/O thread's socket writes. Run: seconds from "
           "the speakers' start (their routes loaded first) until converged.", "",
           "| N | variant | b2b | run (s) | samples | %s |" % " | ".join(ORDER),
           "|---|---|---|---|---|%s" % ("---|" * len(ORDER))]
    ok = [r for r in recs if "error" not in r]
    for r in sorted(recs, key=lambda x: (x["n"], x["variant"], bool(x["b2b"]))):
        if "error" in r:
            out.append("| %s | %s | %s | failed: %s | |%s" % (
                format(r["n"], ","), r["variant"], b2b_name(r["b2b"]), r["error"][:120], " |" * len(ORDER)))
            continue
        out.append("| %s | %s | %s | %.2f | %d | %s |" % (
            format(r["n"], ","), r["variant"], b2b_name(r["b2b"]), r["t"], r["samples"],
            " | ".join("%.1f%%" % r["stages"].get(s, 0) for s in ORDER)))
    out.append("")
    if not ok:
        return out
    big = max(r["n"] for r in ok)
    for r in sorted((r for r in ok if r["n"] == big), key=lambda x: (x["variant"], bool(x["b2b"]))):
        out += ["Top functions by own time, variant %s, b2b %s, N = %s (%% of samples: own, inclusive):"
                % (r["variant"], b2b_name(r["b2b"]), format(big, ",")), "",
                "| function | own | inclusive |", "|---|---|---|"]
        out += ["| `%s` | %.1f%% | %.1f%% |" % (fn, own, incl) for fn, own, incl in r["top_self"][:TOP_ROWS]]
        out.append("")
    mem = [r for r in ok if r["n"] == big and r.get("memory_top")]
    if mem:
        cols = sorted(mem, key=lambda x: (x["variant"], bool(x["b2b"])))
        names = []
        for r in cols:
            names += [m[0] for m in r["memory_top"][:MEM_ROWS] if m[0] not in names]
        out += ["Memory by MTYPE once converged, N = %s (`show memory bgpd`, MB in use; RSS for scale):"
                % format(big, ","), "",
                "| MTYPE | %s |" % " | ".join("%s b2b %s" % (r["variant"], b2b_name(r["b2b"])) for r in cols),
                "|---|%s" % ("---|" * len(cols))]
        for name in names[:MEM_ROWS + 4]:
            cells = []
            for r in cols:
                m = {x[0]: x for x in r["memory_top"]}.get(name)
                cells.append("%.1f" % (m[2] / 1e6) if m else "-")
            out.append("| %s | %s |" % (name, " | ".join(cells)))
        out.append("| all MTYPEs | %s |" % " | ".join("%.1f" % r["memory_total_mb"] for r in cols))
        out.append("| RSS | %s |" % " | ".join("%.1f" % r["rss_mb"] for r in cols))
        out.append("")
    return out
