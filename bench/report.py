#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Turn bench/rsbench.py results files into docs/performance.md + PNGs.

Several files may be given (e.g. the base workload of one run and the
backup workload of another): each section is taken from the files that
hold its runs."""

import argparse
import json
import os
import statistics

import matplotlib

import topo
from report_profile import render_profile
from report_steady import render_steady

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

NAMES = {
    "a": "a: bgpd, no module, no policy",
    "b": "b: bgpd + route-maps (src-peer)",
    "c": "c: bgpd + route_server module",
    "d": "d: BIRD 2 route server",
}
CONFIGS = [("a", None), ("b", False), ("b", True), ("c", False), ("c", True), ("d", False), ("d", True)]
BASE_C0 = [("c0", False), ("c0", True)]
BACKUP_CONFIGS = [("a", None), ("c", False), ("c", True), ("c0", False), ("c0", True),
                  ("d", False), ("d", True), ("d0", False), ("d0", True)]
BACKUP_NAMES = {
    "a": "a: bgpd, no module, no policy (every receiver gets the best path)",
    "c": "c: bgpd + route_server module: each role gets its best allowed path",
    "c0": "c0: the module before best allowed path and routing preference (the baseline build): "
          "a role the best path is withheld from gets nothing",
    "d": "d: BIRD 2 route server, export filters with `secondary` on a sorted table: the best path the "
         "filter accepts (the same sets as c)",
    "d0": "d0: BIRD 2 route server without `secondary`: the best path or nothing (the same sets as c0)",
}


def label(v, b2b):
    return "%s%s" % (v, "" if b2b is None else (" b2b on" if b2b else " b2b off"))


def stats(xs):
    return {"median": statistics.median(xs), "min": min(xs), "max": max(xs), "n": len(xs)} if xs else None


def workload(r):
    return r.get("workload", "base")


def collect(runs):
    """(n, variant, b2b) -> {t, t_receivers, rss, ...} stats; toggles per variant."""
    cells, toggles = {}, {}
    for r in runs:
        if "error" in r:
            continue
        key = (r["n"], r["variant"], r["b2b"])
        c = cells.setdefault(key, {"t": [], "t_receivers": [], "t_rs_input": [], "rss": []})
        c["t"].append(r["t"])
        c["t_receivers"].append(r["t_receivers"])
        c["t_rs_input"].append(r["t_rs_input"])
        c["rss"].append(r["rss_peak_mb"])
        if "cpu_s" in r:  # runs since the backup workload
            for m, v in (("cpu", r["cpu_s"]), ("out_mb", r["out_mb"]),
                         ("prefixes", r["rx_updates"] + r["rx_withdraws"]), ("msgs", r.get("updates_sent")),
                         ("wall", r.get("wall_s"))):
                if v is not None:
                    c.setdefault(m, []).append(v)
        if "toggle" in r:
            tg = toggles.setdefault((r["n"], r["variant"]), {"on": [], "off": []})
            tg["on"].append(r["toggle"]["on"])
            tg["off"].append(r["toggle"]["off"])
    return ({k: {m: stats(v) for m, v in c.items()} for k, c in cells.items()},
            {k: {m: stats(v) for m, v in t.items()} for k, t in toggles.items()})


def fmt(s, unit="s", digits=2):
    if not s:
        return "-"
    f = "%%.%df" % digits
    return (f + " (" + f + "-" + f + ")") % (s["median"], s["min"], s["max"])


def ratio(cells, n, num, den, metric="t"):
    a, b = cells.get((n,) + num), cells.get((n,) + den)
    if not a or not b:
        return None
    return a[metric]["median"] / b[metric]["median"]


def plot(cells, toggles, sizes, path):
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.5), gridspec_kw={"width_ratios": [3, 1]})
    ax = axes[0]
    width = 0.8 / len(CONFIGS)
    colors = ["#777777", "#e0a030", "#f0d080", "#2060c0", "#80b0f0", "#30a050", "#90d0a0"]
    for i, (v, b2b) in enumerate(CONFIGS):
        xs, ys, lo, hi = [], [], [], []
        for j, n in enumerate(sizes):
            c = cells.get((n, v, b2b))
            if c:
                xs.append(j + (i - len(CONFIGS) / 2 + 0.5) * width)
                ys.append(c["t"]["median"])
                lo.append(c["t"]["median"] - c["t"]["min"])
                hi.append(c["t"]["max"] - c["t"]["median"])
        ax.bar(xs, ys, width, yerr=[lo, hi], label=label(v, b2b), color=colors[i], capsize=2)
    ax.set_xticks(range(len(sizes)))
    ax.set_xticklabels(["N = %s" % format(n, ",") for n in sizes])
    ax.set_ylabel("seconds until every receiver holds its set")
    ax.set_yscale("log")
    ax.set_title("Propagation (median, min-max)")
    ax.legend(fontsize=7, ncol=2)
    ax = axes[1]
    tv = sorted(toggles)
    for i, state in enumerate(("on", "off")):
        ys = [toggles[k][state]["median"] for k in tv]
        ax.bar([j + (i - 0.5) * 0.4 for j in range(len(tv))], ys, 0.4, label="b2b -> " + state,
               color=["#f08030", "#3070d0"][i])
    ax.set_xticks(range(len(tv)))
    ax.set_xticklabels(["%s %s" % (k[1], "%dk" % (k[0] // 1000) if k[0] < 1000000 else "%gM" % (k[0] / 1e6))
                        for k in tv], fontsize=7)
    ax.set_ylabel("seconds")
    ax.set_yscale("log")
    ax.set_title("b2b toggle convergence")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=100)


def run_line(res):
    reps = "%d repetitions" % res["reps"]
    if res.get("large_reps") and res["large_reps"] < res["reps"]:
        reps += " (%d at N >= 1M)" % res["large_reps"]
    line = ("Run %s to %s on %s CPUs, kernel %s, %s; %s, the variants alternated "
            "within each repetition." % (res["started"], res.get("finished", "?"), res["machine"]["cpus"],
                                         res["machine"]["kernel"], res["machine"]["bird"], reps))
    if res.get("bgp_config"):
        line += " Added under `router bgp` of every bgpd: %s." % ", ".join("`%s`" % x for x in res["bgp_config"])
    if res.get("baseline"):
        line += " Module: the build in `%s` (tree at %s); baseline c0: the build in `%s` (commit %s)." % (
            res["module"]["prefix"], res["module"]["commit"], res["baseline"]["prefix"], res["baseline"]["commit"])
    return line


def render(files, png_name, backup_png_name):
    """files: [(path relative to the report, results)]."""
    base = next(((src, r) for src, r in files if any(workload(x) == "base" for x in r["runs"])), None)
    backup = [(src, r) for src, r in files if any(workload(x) == "backup" for x in r["runs"])]
    if len(files) == 1:
        src, res = files[0]
        out = ["# Performance: the module against stock bgpd, route-maps and BIRD", "",
               "Generated by `make bench` (bench/rsbench.py, bench/report.py) from `%s`." % src, run_line(res), ""]
    else:
        out = ["# Performance: the module against stock bgpd, route-maps and BIRD", "",
               "Generated by bench/report.py from the runs of bench/rsbench.py in %s (`make bench` makes "
               "one such file and this report from it)." % " and ".join("`%s`" % src for src, _ in files), ""]
        for src, res in files:
            out += ["`%s`: %s%s" % (os.path.basename(src), run_line(res), " Command: `rsbench.py %s`." % res["command"]
                                   if res.get("command") else ""), ""]
    cells, toggles = {}, {}
    if base:
        text, cells, toggles = render_base(base[1])
        out += text
    for src, res in files:  # base runs of other files: against the baseline
        if base and res is not base[1] and any(workload(x) == "base" for x in res["runs"]):
            out += render_base_more(src, res)
    if backup:
        out += render_backup([r for _, r in backup])
    out += render_steady(files)
    out += render_profile(files)
    cg_runs = [cg for _, r in files for cg in r.get("callgrind_runs", [])]
    if cg_runs:
        out += render_hooks(cg_runs)
    out += render_times(files)
    for src, res in files:  # an install rebuilt under the bench mixes two builds
        builds = {}
        for r in res["runs"]:
            if r.get("build"):
                builds.setdefault(r["variant"], set()).add(r["build"])
        mixed = sorted(v for v, b in builds.items() if len(b) > 1)
        if mixed:
            out += ["**Warning:** in `%s` the runs of %s used more than one build (the prefix was "
                    "reinstalled during the run)." % (os.path.basename(src), ", ".join(mixed)), ""]
    failures = [f for _, r in files for f in r["failures"]]
    if failures:
        out += ["## Failed runs", ""] + ["- %s N=%s %s: %s" % (workload(f), f["n"], label(f["variant"], f["b2b"]),
                                                              f["error"][:300]) for f in failures] + [""]
    if base:
        out += ["![propagation and toggle times](%s)" % png_name, ""]
    if backup:
        out += ["![backup workload: propagation and CPU](%s)" % backup_png_name, ""]
    return "\n".join(out), cells, toggles, base[1]["sizes"] if base else []


def has(cells, metric):
    return any(metric in c for c in cells.values())


def render_base(res):
    cells, toggles = collect([r for r in res["runs"] if workload(r) == "base"])
    sizes = res["sizes"]
    configs = CONFIGS + [k for k in BASE_C0 if any(key[1:] == k for key in cells)]
    out = [
        "Workload: one shared segment in network namespaces; eleven BIRD 2 speakers that inject and "
        "receive: an ExpressRoute-role gateway with N prefixes, the two sessions of an active-active "
        "VPN gateway (1,000 prefixes each, the same ones), eight NVA-role peers with 4,000 prefixes each; "
        "the route server originates the VNet prefix. All sessions eBGP.", "",
        "T = seconds from the first speaker session Established (BIRD's millisecond timestamps) until "
        "every receiver holds exactly its expected set (checked in full, not by count) and the route "
        "server has taken in every path (polled every 0.2 s). RSS = the route server's peak (VmHWM).", "",
    ]
    if has(cells, "cpu"):
        out += [METRICS, ""]
    out += ["Variants:", ""] + ["- %s" % name for name in NAMES.values()]
    if len(configs) > len(CONFIGS):
        out.append("- " + BACKUP_NAMES["c0"])
    out.append("")
    for n in sizes:
        out += ["## N = %s" % format(n, ","), ""] + table(cells, n, configs)
    out += ["## Headline ratios (median T)", "",
            "| N | b2b | c/a | c/b | c/d |", "|---|---|---|---|---|"]
    for n in sizes:
        for b2b in (False, True):
            rs = [ratio(cells, n, ("c", b2b), ("a", None)), ratio(cells, n, ("c", b2b), ("b", b2b)),
                  ratio(cells, n, ("c", b2b), ("d", b2b))]
            out.append("| %s | %s | %s |" % (format(n, ","), "on" if b2b else "off",
                                             " | ".join("-" if r is None else "%.3f" % r for r in rs)))
    out.append("")
    if toggles:
        out += ["## Branch-to-branch toggle", "",
                "Seconds from the change until every receiver holds exactly its new set. b: the "
                "route-map entries changed, then `clear bgp ipv4 unicast * soft out`; c: "
                "`[no] bgp route-server branch-to-branch` (the module's 100 ms debounce included); "
                "d: BIRD reconfigured with the new filter.", "",
                "| variant | N | off -> on | on -> off |", "|---|---|---|---|"]
        for (n, v), t in sorted(toggles.items(), key=lambda x: x[0]):
            out.append("| %s | %s | %s | %s |" % (v, format(n, ","), fmt(t["on"]), fmt(t["off"])))
        out.append("")
    cg = res.get("callgrind")
    if cg:
        out += ["## Per-path decision (callgrind)", "",
                "Variant c, b2b on, N = %s, under valgrind's callgrind: the hook `rs_announce_check` "
                "was called %s times for %s instructions (inclusive): **%.1f instructions per call**. "
                "Functions it calls: %s; allocation: %s. The hook is %.2f%% of all instructions bgpd "
                "executed in that run." % (
                    format(cg["n"], ","), format(cg["calls"], ","), format(cg["instructions"], ","),
                    cg["per_call"], ", ".join(cg["callees"]) or "none", "yes" if cg["allocates"] else "none",
                    100 * (cg.get("share_of_bgpd") or 0)),
                ""]
    out += ["## Targets", ""] + targets(cells, toggles, cg, sizes) + [""] + ANALYSIS
    return out, cells, toggles


def render_base_more(src, res):
    """Base-workload runs of a later file (e.g. the module against its
    baseline build at one N): tables and c/c0, apart from the figures
    above, which come from another run."""
    runs = [r for r in res["runs"] if workload(r) == "base"]
    cells, toggles = collect(runs)
    sizes = sorted({r["n"] for r in runs})
    configs = [k for k in CONFIGS + BASE_C0 if any(key[1:] == k for key in cells)]
    with_c0 = any(k[1] == "c0" for k in cells)
    out = ["# Base workload: %s" % ("the module against its baseline build" if with_c0 else "a later run"), "",
           "From `%s` (a later run than the figures above; same workload). CPU, prefixes, UPDATEs and MB "
           "as in the backup workload below." % os.path.basename(src), ""]
    if with_c0:
        out += ["- " + BACKUP_NAMES["c0"], ""]
    for n in sizes:
        out += ["## Base workload, N = %s (`%s`)" % (format(n, ","), os.path.basename(src)), ""]
        out += table(cells, n, configs)
        rows = []
        for b2b in (False, True):
            rs = [ratio(cells, n, ("c", b2b), ("c0", b2b), m) if all(
                m in (cells.get((n,) + k) or {}) for k in (("c", b2b), ("c0", b2b))) else None
                for m in ("t", "cpu", "rss")]
            rs.append(ratio(cells, n, ("c", b2b), ("d", b2b)))
            rows.append("| %s | %s |" % ("on" if b2b else "off",
                                         " | ".join("-" if r is None else "%.2f" % r for r in rs)))
        out += ["| b2b | c/c0 T | c/c0 CPU | c/c0 RSS | c/d T |", "|---|---|---|---|---|"] + rows + [""]
    if toggles:
        out += ["Branch-to-branch toggle:", "", "| variant | N | off -> on | on -> off |", "|---|---|---|---|"]
        for (n, v), t in sorted(toggles.items(), key=lambda x: (x[0][0], x[0][1])):
            out.append("| %s | %s | %s | %s |" % (v, format(n, ","), fmt(t["on"]), fmt(t["off"])))
        out.append("")
    return out


METRICS = ("CPU = the route server's user + system seconds (all threads) from before the first "
           "session until converged, which the other processes on the machine disturb less than T. "
           "Prefixes = the prefix announcements and withdrawals the eleven receivers got (BIRD's route "
           "change stats; a path a receiver drops for its own AS in the AS path counts as a withdrawal), "
           "in brackets against the least the route server can send (once per receiver and prefix it "
           "sends that receiver anything for, bench/topo.py `min_sent`: more means paths replaced while they "
           "arrived), UPDATEs = UPDATE messages bgpd sent (BIRD does not count its messages), MB = IP bytes sent "
           "from the route server's namespace. Each a median.")


def table(cells, n, configs, wl="base"):
    """One N: a row per (variant, b2b)."""
    extra = has({k: v for k, v in cells.items() if k[0] == n}, "cpu")
    head = "| variant | T median (min-max) s | receivers done s | RS input done s | RSS peak MB |"
    if extra:
        head += " CPU s | prefixes | UPDATEs | MB sent |"
    out = [head, "|" + "---|" * (head.count("|") - 1)]
    for v, b2b in configs:
        c = cells.get((n, v, b2b))
        if not c:
            continue
        row = "| %s | %s | %s | %s | %.0f |" % (
            label(v, b2b), fmt(c["t"]), fmt(c["t_receivers"]), fmt(c["t_rs_input"]), c["rss"]["median"])
        if extra:
            least = topo.min_sent(v, bool(b2b), n, wl)
            row += " %s | %s | %s | %s |" % (
                fmt(c.get("cpu")), num(c.get("prefixes")) + (" (%.2fx)" % (c["prefixes"]["median"] / least)
                                                              if c.get("prefixes") else ""), num(c.get("msgs")),
                "%.1f" % c["out_mb"]["median"] if "out_mb" in c else "-")
        out.append(row)
    return out + [""]


def num(s):
    return format(int(s["median"]), ",") if s else "-"


def render_backup(results):
    runs = [r for res in results for r in res["runs"] if workload(r) == "backup"]
    cells, toggles = collect(runs)
    sizes = sorted({r["n"] for r in runs})
    configs = [k for k in BACKUP_CONFIGS if any(key[1:] == k for key in cells)]
    out = ["# Backup workload: the ExpressRoute prefixes also from an NVA pair", "",
           "The base workload, and an SD-WAN NVA pair (nva1 and nva2, one ASN) also announces the "
           "ExpressRoute gateway's N prefixes as a backup, AS path prepended once and twice: the route "
           "server holds 3N + 42,000 paths. ExpressRoute's path is the best everywhere (the module's "
           "routing preference `expressroute` and the shorter AS path agree). With b2b off the NVAs and "
           "the VPN gateway may not have it: the module sends the NVAs the pair's path instead (the VPN "
           "gateway gets nothing, no path is allowed to it); with b2b on the ExpressRoute gateway itself "
           "gets the pair's path for its own prefixes. nva1 and nva2 drop the pair's path (their ASN), "
           "so every receiver ends up with the same prefixes under c and d, and under c0 and d0. Per "
           "receiver the expected set is computed from the matrix, the best-path order and this loop "
           "rule (bench/topo.py) and checked in full.", "",
           METRICS, "", "Variants:", ""] + ["- " + BACKUP_NAMES[v] for v in ("a", "c", "c0", "d", "d0")
                                            if any(k[1] == v for k in cells)] + [""]
    for n in sizes:
        out += ["## Backup workload, N = %s" % format(n, ","), ""] + table(cells, n, configs, "backup")
    rows = []
    for n in sizes:
        for b2b in (False, True):
            pairs = [(("c", b2b), ("c0", b2b), "t"), (("c", b2b), ("c0", b2b), "cpu"),
                     (("c", b2b), ("c0", b2b), "rss"), (("c", b2b), ("d", b2b), "t"),
                     (("c", b2b), ("d", b2b), "cpu"), (("d", b2b), ("d0", b2b), "t"), (("d", b2b), ("d0", b2b), "cpu")]
            rs = [ratio(cells, n, a, b, m) if all(m in (cells.get((n,) + k) or {}) for k in (a, b)) else None
                  for a, b, m in pairs]
            rows.append("| %s | %s | %s |" % (format(n, ","), "on" if b2b else "off",
                                              " | ".join("-" if r is None else "%.2f" % r for r in rs)))
    out += ["## Backup workload: ratios (medians)", "",
            "c/c0 is what sending each role its best allowed path (and the routing-preference step) costs "
            "over the module before it; d/d0 is the same for BIRD (`secondary` and its sorted table).", "",
            "| N | b2b | c/c0 T | c/c0 CPU | c/c0 RSS | c/d T | c/d CPU | d/d0 T | d/d0 CPU |",
            "|---|---|---|---|---|---|---|---|---|"] + rows + [""]
    out += backup_analysis(cells, sizes, runs, [cg for res in results for cg in res.get("callgrind_runs", [])])
    if toggles:
        out += ["## Backup workload: branch-to-branch toggle", "",
                "As in the base workload. Here b2b off -> on moves the NVAs from the pair's path to "
                "ExpressRoute's for every ExpressRoute prefix and gives the VPN gateway and the "
                "ExpressRoute gateway N prefixes; on -> off moves them back.", "",
                "| variant | N | off -> on | on -> off |", "|---|---|---|---|"]
        for (n, v), t in sorted(toggles.items(), key=lambda x: (x[0][0], x[0][1])):
            out.append("| %s | %s | %s | %s |" % (v, format(n, ","), fmt(t["on"]), fmt(t["off"])))
        out.append("")
    return out


def backup_analysis(cells, sizes, runs, cg_runs):
    """What the backup figures say, with the numbers of this run."""
    def med(n, v, b2b, m):
        c = (cells.get((n, v, b2b)) or {}).get(m)
        return c["median"] if c else None

    def r(a, b):
        return "%.2f" % (a / b) if a and b else "-"
    out = ["## Backup workload: what the figures say", ""]
    for n in sizes:
        c_p, c0_p = med(n, "c", False, "prefixes"), med(n, "c0", False, "prefixes")
        if c_p and c0_p:
            out.append(
                "- **c against c0, N = %s.** With b2b off c sends the NVAs the pair's path for every "
                "ExpressRoute prefix that c0 withholds from them (the VPN gateway still gets nothing): "
                "%s prefixes instead of %s, and the route server's CPU goes from %.2f s to %.2f s (x%s), "
                "T from %.2f s to %.2f s. With b2b on both send the same except the ExpressRoute "
                "gateway, which c gives the pair's path for its own prefixes: CPU x%s, T x%s. RSS x%s "
                "(off) and x%s (on)." % (
                    format(n, ","), format(int(c_p), ","), format(int(c0_p), ","),
                    med(n, "c0", False, "cpu"), med(n, "c", False, "cpu"),
                    r(med(n, "c", False, "cpu"), med(n, "c0", False, "cpu")),
                    med(n, "c0", False, "t"), med(n, "c", False, "t"),
                    r(med(n, "c", True, "cpu"), med(n, "c0", True, "cpu")),
                    r(med(n, "c", True, "t"), med(n, "c0", True, "t")),
                    r(med(n, "c", False, "rss"), med(n, "c0", False, "rss")),
                    r(med(n, "c", True, "rss"), med(n, "c0", True, "rss"))))
    new = {(cg["workload"], cg["b2b"]): cg for cg in cg_runs if cg.get("variant") == "c"}
    old = {(cg["workload"], cg["b2b"]): cg for cg in cg_runs if cg.get("variant") == "c0"}
    cg, cg0 = new.get(("backup", False)), old.get(("backup", False))
    if cg and cg.get("select"):
        sel = cg["select"]
        line = ("- **Where the instructions go (callgrind, backup, b2b off, N = %s).** The module executed "
                "%.1fM of bgpd's %.0fM instructions (%.2f%%)" % (
                    format(cg["n"], ","), cg["module_instructions"] / 1e6, cg["total"] / 1e6,
                    100.0 * cg["module_instructions"] / cg["total"]))
        if cg0:
            line += ", the baseline %.1fM of %.0fM: bgpd executed %.1f%% more in all, most of it in sending " \
                    "the substitutes, which c0 does not send, and in the walks below" % (
                        cg0["module_instructions"] / 1e6, cg0["total"] / 1e6, 100.0 * (cg["total"] / cg0["total"] - 1))
        line += (". Per announcement to a role group the module now runs `rs_path_select` (%.1f "
                 "instructions when the best path is allowed, %.1f more when it searches a substitute) "
                 "besides `rs_announce_check` (%.1f); a best-path comparison runs `rs_path_cmp` (%.1f)." % (
                     sel["common_per_call"], sel.get("search_per_call", 0), cg["per_call"],
                     cg["hooks"].get("rs_path_cmp", {}).get("per_call", 0)))
        cmp_new, cmp_old = cg["hooks"].get("bgp_path_info_cmp"), (cg0 or {}).get("hooks", {}).get("bgp_path_info_cmp")
        if cmp_new and cmp_old:
            line += " bgpd's whole comparison (`bgp_path_info_cmp`) takes %.0f instructions per call against " \
                    "%.0f in c0." % (cmp_new["per_call"], cmp_old["per_call"])
        out.append(line)
        u = cg.get("unchanged")
        if u:
            out.append(
                "- **Another path changes (callgrind, same run).** When a path other than the best is added "
                "or changed, `rs_selected_unchanged` re-announces to the role groups the best is withheld "
                "from: %.0f instructions per call (%s calls), of which %.0f are bgpd's re-announcement and "
                "%.0f the two walks over the update-group hashes (%s walks for %s groups found). The "
                "labeled-unicast walk finds no group in this workload and costs as much as the unicast one: "
                "skipping the walk of an address family without update-groups would save half of that."
                % (u["per_call"], format(u["calls"], ","), u["reannounce_per_call"], u["walk_per_call"],
                   format(u["walks"], ","), format(u["groups"], ",")))
    for n in sizes:
        if med(n, "d", False, "cpu") and med(n, "c", False, "cpu"):
            out.append(
                "- **c against d (BIRD), N = %s.** Same sets; c/d is x%s in T and x%s in CPU with b2b off, "
                "x%s and x%s with b2b on: the distance of bgpd to BIRD, as in the base workload. BIRD's "
                "`secondary` (and its sorted table) costs BIRD x%s CPU with b2b off and x%s with b2b on "
                "over d0. BIRD announces paths as they arrive (no coalescing): its prefix counts include "
                "paths replaced moments later, and vary with the order in which the paths arrive." % (
                    format(n, ","), r(med(n, "c", False, "t"), med(n, "d", False, "t")),
                    r(med(n, "c", False, "cpu"), med(n, "d", False, "cpu")),
                    r(med(n, "c", True, "t"), med(n, "d", True, "t")),
                    r(med(n, "c", True, "cpu"), med(n, "d", True, "cpu")),
                    r(med(n, "d", False, "cpu"), med(n, "d0", False, "cpu")),
                    r(med(n, "d", True, "cpu"), med(n, "d0", True, "cpu"))))
    churn = []
    for n in sizes:
        for v, b2b in BACKUP_CONFIGS:
            p = med(n, v, b2b, "prefixes")
            if p:
                x = p / topo.min_sent(v, bool(b2b), n, "backup")
                if x >= 1.05:
                    churn.append("%s at %s %.2fx" % (label(v, b2b), format(n, ","), x))
    if churn:
        out.append(
            "- **Paths replaced while they arrive** (prefixes above the least, in brackets): %s. With b2b off "
            "the NVAs get the pair's path; when nva2's path (prepended twice) is taken in before nva1's, the "
            "substitute changes from one to the other and bgpd sends both if its output runs in between. "
            "It does when the input takes long and the machine is busy (1M, the bench's eleven BIRD speakers "
            "and other work on two cores); it does not when the input is taken in quickly. c0 has no "
            "substitute to replace. BIRD sends every change as it happens; "
            "without `secondary` (d0) it announces the pair's path while that is the best and withdraws it "
            "when ExpressRoute's arrives." % "; ".join(churn))
    loads = [x["load"] for x in runs if "load" in x]
    if loads:
        out.append("- **Noise.** Other work shared the 2 cores: the 1-minute load average at the start of "
                   "the runs was %.1f to %.1f (median %.1f). T moves with it; CPU much less, so the ratios "
                   "are read on CPU first." % (min(loads), max(loads), statistics.median(loads)))
    return out + [""]


def unchanged(cg):
    u = cg.get("unchanged")
    if not u:
        x = cg.get("hooks", {}).get("rs_selected_unchanged")
        return "%.0f (%s)" % (x["per_call"], format(x["calls"], ",")) if x else "-"
    return "%.0f (%s): walk %.0f, re-announce %.0f" % (u["per_call"], format(u["calls"], ","), u["walk_per_call"],
                                                     u["reannounce_per_call"])


def render_hooks(cg_runs):
    out = ["# The module's hooks per call (callgrind)", "",
           "The route server under valgrind's callgrind, converged once per row (N ExpressRoute prefixes). "
           "Instructions per call, inclusive of what the hook calls. `rs_announce_check`: the per-path "
           "decision (as in the base report). `rs_path_select`: the path a role group is sent; *common* = a "
           "call whose best path is allowed (nothing else happens), *search* = the extra instructions of a "
           "call whose best path is withheld, which walks the destination's further paths for a substitute "
           "(`rs_best_allowed` and its branch; the calls split with the profile's per-line costs). "
           "`rs_path_cmp`: the routing preference, a step of every best-path comparison. "
           "`rs_selected_unchanged`: another path of a destination changed; inclusive of bgpd "
           "re-announcing to the role groups the best is withheld from (*re-announce*) and of the two walks "
           "over the update-groups, unicast and labeled unicast, that find them (*walk*; FRR's `hash_walk` "
           "visits every bucket of the group hash, 256 each). The last columns: every "
           "instruction bgpd executed in the run (start, configuration and the harness's polling "
           "included), and those in the module's object. c0 has only the first hook.", "",
           "| run | N | rs_announce_check | rs_path_select common | search (searches / calls) | "
           "rs_path_cmp (calls) | rs_selected_unchanged (calls) | bgpd instructions | module instructions |",
           "|---|---|---|---|---|---|---|---|---|"]
    for cg in cg_runs:
        h, sel = cg.get("hooks", {}), cg.get("select")

        def per(fn):
            x = h.get(fn)
            return "%.1f (%s)" % (x["per_call"], format(x["calls"], ",")) if x else "-"
        out.append("| %s %s b2b %s | %s | %.1f | %s | %s | %s | %s | %.1fM | %.2fM |" % (
            cg.get("variant", "c"), cg.get("workload", "base"), "on" if cg.get("b2b", True) else "off",
            format(cg["n"], ","), cg["per_call"],
            "%.1f" % sel["common_per_call"] if sel else "-",
            "+%.1f (%s / %s)" % (sel["search_per_call"], format(sel["searches"], ","), format(sel["calls"], ","))
            if sel and sel.get("searches") else "-",
            per("rs_path_cmp"), unchanged(cg),
            cg.get("total", 0) / 1e6, cg.get("module_instructions", 0) / 1e6))
    out.append("")
    return out


def render_times(files):
    rows = []
    for src, res in files:
        for key, secs in sorted(res.get("wall", {}).items()):
            if key != "total":
                w, _, n = key.rpartition("-")
                runs = sum(1 for r in res["runs"] if workload(r) == w and str(r["n"]) == n)
                per = {}
                for r in res["runs"]:
                    if workload(r) == w and str(r["n"]) == n and "wall_s" in r:
                        per.setdefault(label(r["variant"], r["b2b"]), []).append(r["wall_s"])
                rows.append("| %s N = %s | %d | %.0f | %s |" % (
                    w, format(int(n), ","), runs, secs,
                    ", ".join("%s %.0f" % (k, statistics.median(v)) for k, v in per.items())))
        for r in res.get("steady", []) + res.get("profile", []):
            if "wall_s" in r:
                rows.append("| %s %s b2b %s N = %s | 1 | %.0f | |" % (
                    r["mode"], r["variant"], "-" if r["b2b"] is None else "on" if r["b2b"] else "off",
                    format(r["n"], ","), r["wall_s"]))
        for cg in res.get("callgrind_runs", []):
            if "wall_s" in cg:
                rows.append("| callgrind %s %s b2b %s N = %s | 1 | %.0f | |" % (
                    cg["variant"], cg["workload"], "on" if cg["b2b"] else "off", format(cg["n"], ","), cg["wall_s"]))
        if "total" in res.get("wall", {}):
            rows.append("| all of `%s` | %d | %.0f | |" % (os.path.basename(src), len(res["runs"]),
                                                          res["wall"]["total"]))
    if not rows:
        return []
    return ["## Run times", "",
            "Wall-clock seconds, daemons' start and stop and route generation included; the last column "
            "the median of one run per variant (a toggle run includes its two toggles).", "",
            "| part | runs | seconds | one run, s |", "|---|---|---|---|"] + rows + [""]


def plot_backup(results, path):
    runs = [r for res in results for r in res["runs"] if workload(r) == "backup"]
    cells, _ = collect(runs)
    sizes = sorted({r["n"] for r in runs})
    configs = [k for k in BACKUP_CONFIGS if any(key[1:] == k for key in cells)]
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.5))
    colors = {"a": "#777777", "c": "#2060c0", "c0": "#a0a0e0", "d": "#30a050", "d0": "#a0d0a0"}
    width = 0.8 / max(1, len(configs))
    for ax, metric, title in ((axes[0], "t", "T, seconds (median, min-max)"),
                              (axes[1], "cpu", "route-server CPU seconds (median, min-max)")):
        for i, (v, b2b) in enumerate(configs):
            xs, ys, lo, hi = [], [], [], []
            for j, n in enumerate(sizes):
                c = (cells.get((n, v, b2b)) or {}).get(metric)
                if c:
                    xs.append(j + (i - len(configs) / 2 + 0.5) * width)
                    ys.append(c["median"])
                    lo.append(c["median"] - c["min"])
                    hi.append(c["max"] - c["median"])
            ax.bar(xs, ys, width, yerr=[lo, hi], label=label(v, b2b), color=colors.get(v, "#cccccc"),
                   hatch="//" if b2b else None, capsize=2)
        ax.set_xticks(range(len(sizes)))
        ax.set_xticklabels(["N = %s" % format(n, ",") for n in sizes])
        ax.set_yscale("log")
        ax.set_title("Backup workload: " + title)
    axes[0].legend(fontsize=7, ncol=2)
    fig.tight_layout()
    fig.savefig(path, dpi=100)


ANALYSIS = [
    "## Where targets are missed, and why", "",
    "- **c against a with b2b on, and at 10k.** The decision itself is not the cost: callgrind puts the "
    "hook at well under 1% of bgpd's instructions (above). The cost is the update-group split: without "
    "policy all eleven peers share one update-group, so bgpd packs each UPDATE once; with roles "
    "(and equally with b's route-maps) there is one update-group per destination role "
    "(`show bgp ipv4 unicast update-groups`: 1 for a, 3 for b and c), so a path allowed to several "
    "roles is packed once per role. That is inherent in any per-role outbound policy in bgpd; the "
    "module pays it without b's route-map evaluation, which is why c beats b everywhere. At 10k the "
    "times sit on FRR's ~1.2 s update-group coalesce floor plus session stagger, so a few hundred "
    "milliseconds are a large ratio. With b2b off c sends far fewer routes and beats a from 100k up.",
    "- **c against d (BIRD).** BIRD is 2-5x faster than bgpd with or without any policy (compare d "
    "with a): the gap is bgpd's, not the module's, and closing it means profiling bgpd itself on this "
    "workload, as the anchors in ../shared/design/performance-anchors.md already found.",
    "- **Noise.** Two cores run the route server and eleven BIRD speakers; the min-max spread is "
    "shown next to every median.",
    "",
]


def targets(cells, toggles, cg, sizes):
    lines = []

    def mark(ok):
        return "met" if ok else "**missed**"
    for n in sizes:
        for b2b in (False, True):
            r = ratio(cells, n, ("c", b2b), ("a", None))
            if r is not None:
                lines.append("- N=%s b2b %s: c/a = %.3f (target <= 1.02): %s" % (
                    format(n, ","), "on" if b2b else "off", r, mark(r <= 1.02)))
            for other in ("b", "d"):
                r = ratio(cells, n, ("c", b2b), (other, b2b))
                if r is not None:
                    lines.append("- N=%s b2b %s: c faster than %s (c/%s = %.3f): %s" % (
                        format(n, ","), "on" if b2b else "off", other, other, r, mark(r < 1)))
    for n in sizes:  # issue 15 (stage 2): against BIRD, and memory at 1M
        if n < 100000:
            continue
        for b2b in (False, True):
            r = ratio(cells, n, ("c", b2b), ("d", b2b))
            if r is not None:
                lines.append("- stage 2, N=%s b2b %s: c/d = %.2f (target <= 2): %s" % (
                    format(n, ","), "on" if b2b else "off", r, mark(r <= 2)))
        if n >= 1000000:
            for b2b in (False, True):
                r = ratio(cells, n, ("c", b2b), ("d", b2b), "rss")
                if r is not None:
                    lines.append("- stage 2, N=%s b2b %s: peak RSS c/d = %.1f (target <= 5): %s" % (
                        format(n, ","), "on" if b2b else "off", r, mark(r <= 5)))
    for n in sorted({k[0] for k in toggles}):
        tb, tc = toggles.get((n, "b")), toggles.get((n, "c"))
        if tb and tc:
            for s in ("on", "off"):
                lines.append("- toggle -> %s at N=%s: c %.2f s vs b %.2f s: %s" % (
                    s, format(n, ","), tc[s]["median"], tb[s]["median"],
                    mark(tc[s]["median"] <= tb[s]["median"])))
    if cg:
        lines.append("- per-path decision %.1f instructions per call (target <= 50), allocation %s: %s" % (
            cg["per_call"], "yes" if cg["allocates"] else "none", mark(cg["per_call"] <= 50 and not cg["allocates"])))
    return lines


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("results", nargs="+")
    ap.add_argument("--out", required=True, help="markdown file; the PNGs go next to it")
    args = ap.parse_args()
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    files = []
    for path in args.results:
        with open(path) as f:
            files.append((os.path.relpath(path, os.path.dirname(os.path.abspath(args.out))), json.load(f)))
    base = os.path.splitext(args.out)[0]
    png, backup_png = base + ".png", base + "-backup.png"
    text, cells, toggles, sizes = render(files, os.path.basename(png), os.path.basename(backup_png))
    written = [args.out]
    if cells:
        plot(cells, toggles, sizes, png)
        written.append(png)
    backup = [r for _, r in files if any(workload(x) == "backup" for x in r["runs"])]
    if backup:
        plot_backup(backup, backup_png)
        written.append(backup_png)
    with open(args.out, "w") as f:
        f.write(text)
    print("report: %s" % " and ".join(written))


if __name__ == "__main__":
    main()
