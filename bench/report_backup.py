# SPDX-License-Identifier: GPL-2.0-or-later
"""The backup-workload sections of docs/performance.md and their plot."""

import statistics

import matplotlib

import topo
from report_common import BACKUP_CONFIGS, BACKUP_NAMES, METRICS, collect, fmt, label, ratio, table, workload

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


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
