#!/usr/bin/python3
"""rebuild_debs.py SRC DST SUFFIX

Makes the "next build" of a package set for the upgrade test: each .deb of
SRC is repacked into DST with SUFFIX added to its version (as a binNMU,
+b1, does: same content, a later version), and dependencies on exact
versions of packages of the set follow. Uses dpkg-deb only.
"""
import glob
import os
import re
import subprocess
import sys
import tempfile


def field(ctrl, name):
    m = re.search(r"^%s: (.*)$" % name, ctrl, re.M)
    return m.group(1) if m else None


def main():
    src, dst, suffix = sys.argv[1:4]
    os.makedirs(dst, exist_ok=True)
    debs = sorted(glob.glob(os.path.join(src, "*.deb")))
    versions = {}
    for d in debs:
        ctrl = subprocess.check_output(["dpkg-deb", "-f", d], text=True)
        versions[field(ctrl, "Package")] = field(ctrl, "Version")
    for d in debs:
        with tempfile.TemporaryDirectory() as tmp:
            subprocess.check_call(["dpkg-deb", "-R", d, tmp])
            cpath = os.path.join(tmp, "DEBIAN", "control")
            with open(cpath) as f:
                ctrl = f.read()
            pkg, ver = field(ctrl, "Package"), field(ctrl, "Version")
            ctrl = re.sub(r"^Version: .*$", "Version: %s%s" % (ver, suffix),
                          ctrl, flags=re.M)
            for p, v in versions.items():
                ctrl = ctrl.replace("%s (= %s)" % (p, v),
                                    "%s (= %s%s)" % (p, v, suffix))
            with open(cpath, "w") as f:
                f.write(ctrl)
            arch = field(ctrl, "Architecture")
            out = os.path.join(dst, "%s_%s%s_%s.deb" % (
                pkg, ver.split(":")[-1], suffix, arch))
            subprocess.check_call(["dpkg-deb", "--root-owner-group", "-b",
                                   tmp, out], stdout=subprocess.DEVNULL)
    return 0


if __name__ == "__main__":
    sys.exit(main())
