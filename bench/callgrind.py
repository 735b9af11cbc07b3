# SPDX-License-Identifier: GPL-2.0-or-later
"""
Instructions per call of the module's per-path decision: the route server
(variant c, b2b on) runs under valgrind's callgrind through a fixed
workload; the profile gives the inclusive instruction count of the hook
function rs_announce_check, the number of calls, and its callees (which
must not include an allocator).
"""

import os
import re
import shutil
import signal
import time

import topo
from lab import Bgpd

HOOK = "rs_announce_check"
ALLOC = re.compile(r"alloc|free|qmalloc|qcalloc|mtype", re.I)


def parse(path):
    """Self cost, inclusive cost, calls and callees per function from a
    callgrind.out file (name compression handled; event 0 = Ir)."""
    names, fn, cfn = {}, None, None
    self_ir, callee_ir, calls, callees = {}, {}, {}, {}
    pending_call = False

    def name(ref):
        m = re.match(r"\((\d+)\)(?: (.*))?", ref)
        if not m:
            return ref
        if m.group(2):
            names[m.group(1)] = m.group(2)
        return names.get(m.group(1), ref)

    total = 0
    with open(path) as f:
        for line in f:
            if line.startswith(("summary:", "totals:")):
                total = max(total, int(line.split()[1]))
            elif line.startswith("fn="):
                fn = name(line[3:].strip())
            elif line.startswith("cfn="):
                cfn = name(line[4:].strip())
            elif line.startswith("calls="):
                calls[cfn] = calls.get(cfn, 0) + int(line[6:].split()[0])
                callees.setdefault(fn, set()).add(cfn)
                pending_call = True
            elif line[:1].isdigit() or line[:1] in "+-*":
                parts = line.split()
                ir = int(parts[1]) if len(parts) > 1 else 0
                if pending_call:
                    callee_ir[fn] = callee_ir.get(fn, 0) + ir
                    pending_call = False
                else:
                    self_ir[fn] = self_ir.get(fn, 0) + ir
    incl = {k: self_ir.get(k, 0) + callee_ir.get(k, 0) for k in set(self_ir) | set(callee_ir)}
    return incl, calls, callees, total


def measure(runner, n):
    """Run variant c (b2b on) under callgrind with N ExpressRoute routes."""
    node = runner.lab.nodes["rs"]
    out = os.path.join(node.dir, "callgrind.out")
    # bgpd drops to the frr user before callgrind writes its profile
    open(out, "w").close()
    shutil.chown(out, "frr", "frr")
    conf = topo.frr_conf("c", True, os.path.join(node.dir, "rs.log"))
    runner.rs = Bgpd(runner.prefix, node, conf, True,
                     wrapper=["valgrind", "--tool=callgrind", "--callgrind-out-file=" + out])
    t = time.time()
    try:
        runner.start_speakers(n)
        want = topo.expected("c", True, n)
        runner.converge(want, topo.total_announced(n), t)
    finally:
        # callgrind writes its profile when bgpd exits normally
        runner.rs.stop(signal.SIGTERM, timeout=600)
        runner.rs = None
        runner.stop_all()
    incl, calls, callees, total = parse(out)
    n_calls = calls.get(HOOK, 0)
    if not n_calls:
        raise RuntimeError("callgrind: no calls of " + HOOK)
    inner, pending = set(), [HOOK]
    while pending:  # everything the hook reaches
        for c in callees.get(pending.pop(), ()):
            if c not in inner:
                inner.add(c)
                pending.append(c)
    inner = sorted(inner)
    return {
        "n": n,
        "calls": n_calls,
        "instructions": incl.get(HOOK, 0),
        "per_call": round(incl.get(HOOK, 0) / n_calls, 1),
        # the hook's share of everything bgpd executed in the run
        "share_of_bgpd": round(incl.get(HOOK, 0) / total, 5) if total else None,
        "callees": inner,
        "allocates": any(ALLOC.search(c) for c in inner),
    }
