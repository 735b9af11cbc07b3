# SPDX-License-Identifier: GPL-2.0-or-later
"""
Instructions per call of the module's hooks: the route server (variant c,
or the older build c0) runs under valgrind's callgrind through a fixed
workload; the profile gives, per hook, the number of calls and the
inclusive instruction count:

- rs_announce_check: the per-path decision (bgp_announce_path_check);
  its callees must not include an allocator;
- rs_path_select: the path a role group is sent (bgp_announce_path_select),
  split into the common case, where the best path is allowed and nothing
  else happens, and the search for a substitute when the best is withheld
  (the call of rs_best_allowed and the lines of that branch, attributed
  from the profile's per-line costs);
- rs_best_allowed, per search, from every caller;
- rs_path_cmp: the routing preference, a step of every best-path
  comparison (bgp_path_info_cmp_module);
- rs_selected_unchanged: another path of a destination changed
  (bgp_process_selected_unchanged); inclusive of bgpd's re-announcement
  to the role groups the best path is withheld from, split into the walk
  over the update-groups (update_group_af_walk, unicast and labeled
  unicast) and the re-announcement itself;
- bgpd's side of the hooks (patches 0009-0010), and the instructions of
  the whole run: all of bgpd, and the module's object alone.
"""

import os
import re
import shutil
import signal
import time

import topo
from lab import Bgpd

HOOK = "rs_announce_check"
SELECT, SEARCH = "rs_path_select", "rs_best_allowed"
FUNCS = [HOOK, SELECT, SEARCH, "rs_path_cmp", "rs_selected_unchanged", "rs_reannounce_updgrp",
         "bgp_subgroup_path_select_hook", "bgp_subgroup_path_selected", "bgp_path_info_cmp",
         "subgroup_announce_check", "bgp_best_selection"]
MODULE_OBJ = "bgpd_route_server"
ALLOC = re.compile(r"alloc|free|qmalloc|qcalloc|mtype", re.I)


class Profile:
    """A callgrind.out file (event 0 = Ir, positions = line): per function
    self and inclusive cost, calls, callers -> callees arcs with their
    calls and inclusive cost, self cost per (function, file, line) and
    per object."""

    def __init__(self, path):
        names = {"fn": {}, "fl": {}, "ob": {}}
        kinds = {"fn": "fn", "cfn": "fn", "jfn": "fn", "ob": "ob", "cob": "ob",
                 "fl": "fl", "fi": "fl", "fe": "fl", "cfi": "fl", "cfl": "fl", "jfi": "fl"}
        self.self_ir, self.callee_ir, self.calls = {}, {}, {}
        self.arcs, self.lines, self.obj_ir, self.files = {}, {}, {}, set()
        self.total = 0

        def name(kind, ref):
            m = re.match(r"\((\d+)\)(?: (.*))?", ref)
            if not m:
                return ref
            if m.group(2):
                names[kind][m.group(1)] = m.group(2)
            return names[kind].get(m.group(1), ref)

        fn = cfn = ob = fl = None
        line = 0
        pending = 0  # calls of the arc whose cost line comes next
        with open(path) as f:
            for raw in f:
                c = raw[:1]
                if c.isdigit() or c in "+-*":
                    parts = raw.split()
                    pos = parts[0]
                    if pos[0] == "+":
                        line += int(pos[1:])
                    elif pos[0] == "-":
                        line -= int(pos[1:])
                    elif pos != "*":
                        line = int(pos)
                    ir = int(parts[1]) if len(parts) > 1 else 0
                    if pending:
                        arc = self.arcs.setdefault((fn, cfn), [0, 0])
                        arc[0] += pending
                        arc[1] += ir
                        self.calls[cfn] = self.calls.get(cfn, 0) + pending
                        self.callee_ir[fn] = self.callee_ir.get(fn, 0) + ir
                        pending = 0
                    else:
                        self.self_ir[fn] = self.self_ir.get(fn, 0) + ir
                        self.obj_ir[ob] = self.obj_ir.get(ob, 0) + ir
                        key = (fn, fl, line)
                        self.lines[key] = self.lines.get(key, 0) + ir
                    continue
                key, eq, val = raw.partition("=")
                if not eq:
                    if raw.startswith(("summary:", "totals:")):
                        self.total = max(self.total, int(raw.split()[1]))
                    continue
                if key == "calls":
                    pending = int(val.split()[0])
                elif key in kinds:
                    v = name(kinds[key], val.strip())
                    if key == "fn":
                        fn = v
                    elif key == "cfn":
                        cfn = v
                    elif key == "ob":
                        ob = v
                    elif key in ("fl", "fi", "fe"):
                        fl = v
                        self.files.add(v)
        self.incl = {k: self.self_ir.get(k, 0) + self.callee_ir.get(k, 0)
                     for k in set(self.self_ir) | set(self.callee_ir)}

    def reach(self, fn):
        """Every function fn calls, directly or not."""
        callees = {}
        for a, b in self.arcs:
            callees.setdefault(a, set()).add(b)
        inner, pending = set(), [fn]
        while pending:
            for c in callees.get(pending.pop(), ()):
                if c not in inner:
                    inner.add(c)
                    pending.append(c)
        return sorted(inner)

    def arc(self, a, b):
        return self.arcs.get((a, b), [0, 0])


def branch_lines(path, func, first, last):
    """Lines of `func` in source file `path` from the first line calling
    `first` through the first line after it calling `last` (a branch of
    the function), or None."""
    try:
        src = open(path).read().split("\n")
    except OSError:
        return None
    start = next((i for i, s in enumerate(src) if re.search(r"\b%s\(" % func, s) and not s.rstrip().endswith(";")),
                 None)
    if start is None:
        return None
    a = next((i for i in range(start, len(src)) if first + "(" in src[i]), None)
    b = next((i for i in range(a or start, len(src)) if last + "(" in src[i]), None) if a is not None else None
    if a is None or b is None:
        return None
    return a + 1, b + 1


def select_split(prof):
    """rs_path_select: the cost of a call whose best path is allowed and
    the extra cost of a call that searches a substitute."""
    calls = prof.calls.get(SELECT, 0)
    if not calls:
        return None
    searches, search_ir = prof.arc(SELECT, SEARCH)
    other = sum(ir for (a, b), (_, ir) in prof.arcs.items() if a == SELECT and b != SEARCH)
    src = next((f for f in prof.files if f.endswith("/bgp_rs_path.c")), None)
    span = branch_lines(src, SELECT, SEARCH, "rs_debug_select") if src else None
    branch = sum(ir for (fn, fl, line), ir in prof.lines.items()
                 if fn == SELECT and fl == src and span and span[0] <= line <= span[1])
    common = (prof.incl.get(SELECT, 0) - search_ir - other - branch) / calls
    out = {"calls": calls, "searches": searches, "common_per_call": round(common, 1),
           "branch_lines": span, "branch_instructions": branch}
    if searches:
        out["search_per_call"] = round((search_ir + branch) / searches, 1)
        out["withheld_per_call"] = round(common + (search_ir + branch) / searches, 1)
    return out


def unchanged_split(prof):
    """rs_selected_unchanged per call: walking the update-group hashes
    and re-announcing to the role groups."""
    calls = prof.calls.get("rs_selected_unchanged", 0)
    if not calls:
        return None
    walks, walk_ir = prof.arc("rs_selected_unchanged", "update_group_af_walk")
    groups, cb_ir = prof.arc("update_group_walkcb", "rs_reannounce_updgrp")
    sends, send_ir = prof.arc("rs_reannounce_updgrp", "subgroup_process_announce_selected")
    return {"calls": calls, "per_call": round(prof.incl.get("rs_selected_unchanged", 0) / calls, 1),
            "walks": walks, "walk_per_call": round((walk_ir - cb_ir) / calls, 1),
            "groups": groups, "sends": sends, "reannounce_per_call": round(send_ir / calls, 1),
            "module_per_call": round((cb_ir - send_ir + prof.self_ir.get("rs_selected_unchanged", 0)) / calls, 1)}


def analyse(path):
    prof = Profile(path)
    hooks = {}
    for fn in FUNCS:
        calls = prof.calls.get(fn, 0)
        if calls:
            hooks[fn] = {"calls": calls, "instructions": prof.incl.get(fn, 0),
                         "self": prof.self_ir.get(fn, 0),
                         "per_call": round(prof.incl.get(fn, 0) / calls, 1)}
    module = sum(ir for ob, ir in prof.obj_ir.items() if ob and MODULE_OBJ in ob)
    inner = prof.reach(HOOK)
    out = {"total": prof.total, "module_instructions": module, "hooks": hooks,
           # compatible with the first report: the per-path decision
           "calls": prof.calls.get(HOOK, 0), "instructions": prof.incl.get(HOOK, 0),
           "per_call": hooks.get(HOOK, {}).get("per_call"),
           "share_of_bgpd": round(prof.incl.get(HOOK, 0) / prof.total, 5) if prof.total else None,
           "callees": inner, "allocates": any(ALLOC.search(c) for c in inner)}
    split = select_split(prof)
    if split:
        out["select"] = split
    split = unchanged_split(prof)
    if split:
        out["unchanged"] = split
    return out


def measure(runner, n, workload="base", b2b=True, variant="c"):
    """Run variant c (or c0) under callgrind with N ExpressRoute routes."""
    node = runner.lab.nodes["rs"]
    out = os.path.join(node.dir, "callgrind.out")
    # bgpd drops to the frr user before callgrind writes its profile
    open(out, "w").close()
    shutil.chown(out, "frr", "frr")
    conf = topo.frr_conf(variant, b2b, os.path.join(node.dir, "rs.log"), workload)
    want = topo.expected(variant, b2b, n, workload)
    runner.rs = Bgpd(runner.frr_prefix(variant), node, conf, True,
                     wrapper=["valgrind", "--tool=callgrind", "--callgrind-out-file=" + out])
    t = time.time()
    try:
        runner.start_speakers(n, workload)
        runner.converge(want, topo.total_announced(n, workload), t)
    finally:
        # callgrind writes its profile when bgpd exits normally
        runner.rs.stop(signal.SIGTERM, timeout=600)
        runner.rs = None
        runner.stop_all()
    res = analyse(out)
    keep = os.path.join(runner.workdir, "callgrind-%s-%s-%s-%d.out" % (variant, workload, "on" if b2b else "off", n))
    shutil.copy(out, keep)  # for callgrind_annotate
    res["profile"] = keep
    if not res["calls"]:
        raise RuntimeError("callgrind: no calls of " + HOOK)
    res.update(variant=variant, workload=workload, b2b=b2b, n=n)
    return res


def summary(cg):
    """One line for the console."""
    h = cg["hooks"]
    parts = ["%s %s b2b %s N=%d: %s %.1f/call" % (cg["variant"], cg["workload"], "on" if cg["b2b"] else "off",
                                                 cg["n"], HOOK, cg["per_call"])]
    sel = cg.get("select")
    if sel:
        parts.append("%s %.1f/call common, %s searches %s/search" % (
            SELECT, sel["common_per_call"], sel["searches"], sel.get("search_per_call", "-")))
    if "rs_path_cmp" in h:
        parts.append("rs_path_cmp %.1f/call (%d calls)" % (h["rs_path_cmp"]["per_call"], h["rs_path_cmp"]["calls"]))
    parts.append("bgpd %.0fM instructions, module %.2fM" % (cg["total"] / 1e6, cg["module_instructions"] / 1e6))
    return "; ".join(parts)


if __name__ == "__main__":
    import argparse
    import json
    ap = argparse.ArgumentParser(description="Analyse saved callgrind profiles again: print them, or "
                                 "update the callgrind runs of a results file from their profiles.")
    ap.add_argument("--update", help="results JSON whose callgrind runs name their profiles")
    ap.add_argument("profiles", nargs="*")
    args = ap.parse_args()
    for p in args.profiles:
        print(p, json.dumps(analyse(p), indent=1))
    if args.update:
        with open(args.update) as f:
            res = json.load(f)
        for cg in res.get("callgrind_runs", []):
            if os.path.exists(cg.get("profile", "")):
                keep = {k: cg[k] for k in ("variant", "workload", "b2b", "n", "wall_s", "profile") if k in cg}
                cg.clear()
                cg.update(analyse(keep["profile"]), **keep)
        if "callgrind" in res:
            res["callgrind"] = next((cg for cg in res.get("callgrind_runs", [])
                                     if cg.get("variant") == "c" and cg.get("workload") == "base"), res["callgrind"])
        with open(args.update + ".tmp", "w") as f:
            json.dump(res, f, indent=1)
        os.rename(args.update + ".tmp", args.update)
        print("updated", args.update)
