# SPDX-License-Identifier: GPL-2.0-or-later
"""The steady-state section of docs/performance.md (bench/steady.py runs)."""

NAMES = {"a": "a (bgpd, no policy)", "b": "b (route-maps)", "c": "c (module)", "d": "d (BIRD)"}


def cell(rec, key):
    s = rec.get(key)
    if not s:
        return "-"
    return "%.0f / %.0f" % (1000 * s["p50"], 1000 * s["p99"])


def render_steady(files):
    """files: [(path, results)]; the section's lines, or [] without runs."""
    recs = [r for _, res in files for r in res.get("steady", [])]
    if not recs:
        return []
    r0 = next((r for r in recs if "events" in r), recs[0])
    out = ["## Steady-state propagation", "",
           "The table loaded (base workload, N ExpressRoute prefixes) and converged, NVA `%s` "
           "announces and then withdraws one prefix, %d times, then bursts of %s prefixes, %d times "
           "(bench/steady.py). Each event is timed from the NVA's own export of the first prefix to the "
           "last allowed receiver's import of the last one (BIRD's route traces, millisecond "
           "timestamps, one clock). Every receiver the matrix allows must get (or drop) all of them; "
           "a receiver it withholds them from must get none (violations: none allowed). Milliseconds, "
           "p50 / p99." % (r0.get("src", "?"), r0.get("events", 0), format(r0.get("burst", 0), ","),
                           r0.get("events", 0)), "",
           "Failure: the NVA's link goes down (its bridge port; the route server's link stays up), "
           "%d time(s) per run. Its session runs BFD, 100 ms x 3 as in docs/high-availability.md (bgpd "
           "registers BFD sessions through zebra, so in this mode mgmtd, zebra and bfdd run beside bgpd, "
           "which installs nothing in the kernel: `bgpd -n`; BIRD's own BFD for d), with a 3 s hold time "
           "behind it. Timed from the link going down until every "
           "allowed receiver has removed all of the NVA's 4,000 prefixes, and (after) from the "
           "first receiver's removal to the last one's: the propagation once the route server "
           "noticed. Milliseconds, p50 / p99." % r0.get("failures", 0), "",
           "| N | variant | b2b | receivers | 1 prefix announce | 1 prefix withdraw | burst announce "
           "| burst withdraw | failure | failure after | violations |",
           "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in sorted(recs, key=lambda x: (x["n"], x["variant"], bool(x["b2b"]))):
        b2b = "-" if r["b2b"] is None else ("on" if r["b2b"] else "off")
        if "error" in r:
            out.append("| %s | %s | %s | failed: %s | | | | | | | |" % (
                format(r["n"], ","), NAMES.get(r["variant"], r["variant"]), b2b, r["error"][:120]))
            continue
        out.append("| %s | %s | %s | %d | %s | %s | %s | %s | %s | %s | %d |" % (
            format(r["n"], ","), NAMES.get(r["variant"], r["variant"]), b2b, r["receivers"],
            cell(r, "one_announce"), cell(r, "one_withdraw"), cell(r, "burst_announce"),
            cell(r, "burst_withdraw"), cell(r, "failure"), cell(r, "failure_spread"), r["violations"]))
    slow = [r for r in recs if r.get("failure", {}).get("p50", 0) >= 2]
    if slow:  # runs from before the mode waited for BFD to be up
        out += ["", "Failures of %s took the hold time (3 s): the route server's BFD session was not up yet "
                "in that run. The mode now waits for it before each failure and fails the run otherwise."
                % ", ".join("%s b2b %s at %s" % (r["variant"], "-" if r["b2b"] is None else
                                                 "on" if r["b2b"] else "off", format(r["n"], ","))
                            for r in slow)]
    return out + [""]
