# SPDX-License-Identifier: GPL-2.0-or-later
"""Helpers of bench/report.py and its sections: configurations, statistics
over repetitions, table cells."""

import statistics

import topo


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


def has(cells, metric):
    return any(metric in c for c in cells.values())


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
