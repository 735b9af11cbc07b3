# SPDX-License-Identifier: GPL-2.0-or-later
"""
Running the benchmark's daemons in the namespaces of demo/netlab.py: the
BIRD speakers, and the route server as bgpd (variants a-c) or BIRD (d).
Control sockets live in the lab directory, so birdc and vtysh run from
the host without entering a namespace.
"""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "demo"))
from netlab import Lab  # noqa: E402

import topo  # noqa: E402

LAN = "lan"


def wait_until(pred, timeout, what, step=0.1):
    end = time.time() + timeout
    while time.time() < end:
        if pred():
            return
        time.sleep(step)
    raise RuntimeError("timed out waiting for " + what)


def pid_alive(pid):
    """Running (a zombie waiting for init to reap it counts as gone)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


class Bird:
    """One BIRD daemon, controlled through its socket."""

    def __init__(self, node, conf):
        self.node, self.dir = node, node.dir
        self.conf = os.path.join(self.dir, "bird.conf")
        self.sock = os.path.join(self.dir, "bird.ctl")
        self.pidf = os.path.join(self.dir, "bird.pid")
        self.write(conf)
        node.run("bird", "-c", self.conf, "-s", self.sock, "-P", self.pidf, capture=False)
        wait_until(lambda: os.path.exists(self.pidf) and "Router ID" in self.cli("show status"),
                   10, "bird in " + node.name)
        self.pid = int(open(self.pidf).read())

    def write(self, conf):
        with open(self.conf, "w") as f:
            f.write(conf)

    def cli(self, *cmd):
        r = subprocess.run(["birdc", "-r", "-s", self.sock] + list(cmd), capture_output=True, text=True)
        # drop the version banner
        return r.stdout.split("\n", 1)[1] if r.stdout.startswith("BIRD") else r.stdout

    def popen(self, *cmd):
        return subprocess.Popen(["birdc", "-r", "-s", self.sock] + list(cmd), stdout=subprocess.PIPE, text=True)

    def enable_popen(self, proto):
        return subprocess.Popen(["birdc", "-s", self.sock, "enable", proto], stdout=subprocess.DEVNULL)

    def configure(self, conf):
        """Reconfigure (not read-only: birdc without -r)."""
        self.write(conf)
        r = subprocess.run(["birdc", "-s", self.sock, "configure"], capture_output=True, text=True)
        if "Reconfigured" not in r.stdout and "Reconfiguration in progress" not in r.stdout:
            raise RuntimeError("bird configure: " + r.stdout)

    def stop(self, sig=signal.SIGKILL):
        """Killed by default: a graceful BIRD shutdown takes seconds and
        measures nothing."""
        if pid_alive(self.pid):
            os.kill(self.pid, sig)
            wait_until(lambda: not pid_alive(self.pid), 20, "bird exit", 0.02)
        for f in (self.sock, self.pidf):
            if os.path.exists(f):
                os.unlink(f)

    def rss_mb(self):
        return proc_mem(self.pid)

    def cpu_s(self):
        return proc_cpu(self.pid)

    def out_octets(self):
        return netns_out_octets(self.pid)


COUNT_RE = re.compile(r"^(\d+) of \d+ routes", re.M)


def parse_count(out):
    m = COUNT_RE.search(out)
    return int(m.group(1)) if m else -1


def parse_route_stats(out):
    """(updates, withdraws) received by a BIRD protocol, from `show
    protocols all`: every prefix the peer announced or withdrew, including
    those dropped on import (a loop in the AS path counts as a withdraw)."""
    upd = wd = 0
    for line in out.splitlines():
        f = line.split()
        if line.strip().startswith("Import updates:"):
            upd = int(f[2])
        elif line.strip().startswith("Import withdraws:"):
            wd = int(f[2])
    return upd, wd


def parse_routes(out):
    """Networks in `show route` output: a line that starts with a digit
    starts a network (further paths and attributes are indented)."""
    return {line.split(" ", 1)[0] for line in out.split("\n") if line[:1].isdigit()}


def proc_mem(pid):
    """(VmHWM, VmRSS) in MB."""
    vals = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("VmHWM", "VmRSS"):
                vals[k] = int(v.split()[0]) / 1024.0
    return vals.get("VmHWM", 0.0), vals.get("VmRSS", 0.0)


def proc_cpu(pid):
    """User + system CPU seconds of a process (all its threads)."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / float(os.sysconf("SC_CLK_TCK"))


def netns_out_octets(pid):
    """IP octets sent from the network namespace of a process (the route
    server's: its BGP sessions are the only IP traffic there)."""
    with open("/proc/%d/net/netstat" % pid) as f:
        lines = [line.split() for line in f if line.startswith("IpExt:")]
    return int(lines[1][lines[0].index("OutOctets")])


class Bgpd:
    """The route server as bgpd (no zebra: nexthops on the segment are
    taken as valid), optionally with the module or under a wrapper. With
    `bfdd_conf`, BFD: bgpd registers its BFD sessions through zebra, so
    mgmtd, zebra and bfdd run beside it, and bgpd installs nothing in the
    kernel (-n instead of -Z)."""

    def __init__(self, prefix, node, conf, module, wrapper=(), bfdd_conf=None):
        self.prefix, self.node, self.dir = prefix, node, node.dir
        self.others = []  # pid files of mgmtd, zebra, bfdd
        self.pidf = os.path.join(self.dir, "bgpd.pid")
        self.log = os.path.join(self.dir, "bgpd.log")
        path = os.path.join(self.dir, "bgpd.conf")
        with open(path, "w") as f:
            f.write(conf)
        open(os.path.join(self.dir, "vtysh.conf"), "a").close()
        for name in os.listdir(self.dir):
            shutil.chown(os.path.join(self.dir, name), "frr", "frr")
        shutil.chown(self.dir, "frr", "frr")
        if bfdd_conf:
            self.start_bfd(bfdd_conf)
        args = [os.path.join(prefix, "sbin", "bgpd"), "-n" if bfdd_conf else "-Z", "-P", "0", "-f", path,
                "--vty_socket", self.dir, "-i", self.pidf, "--log", "file:" + self.log]
        if module:
            args[1:1] = ["-M", "route_server"]
        if wrapper:  # stays in the foreground under valgrind
            self.proc = subprocess.Popen(
                ["nsenter", "-t", str(node.holder.pid), "-m", "-n", "--"] + list(wrapper) + args,
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        else:
            self.proc = None
            node.run(*(args + ["-d"]), capture=False)
        wait_until(lambda: "router bgp" in self.vtysh("show running-config"), 120, "bgpd", 0.5)
        self.pid = int(open(self.pidf).read())

    def start_bfd(self, bfdd_conf):
        path = os.path.join(self.dir, "bfdd.conf")
        with open(path, "w") as f:
            f.write(bfdd_conf)
        shutil.chown(path, "frr", "frr")
        for daemon in ("mgmtd", "zebra", "bfdd"):
            pidf = os.path.join(self.dir, daemon + ".pid")
            args = [os.path.join(self.prefix, "sbin", daemon), "-d", "-P", "0", "--vty_socket", self.dir,
                    "-i", pidf, "--log", "file:" + os.path.join(self.dir, daemon + ".log")]
            if daemon == "bfdd":
                args += ["-f", path]
            self.node.run(*args, capture=False)
            wait_until(lambda: os.path.exists(pidf), 30, daemon)
            self.others.append(pidf)

    def vtysh(self, *cmds):
        args = self.vtysh_args()
        for c in cmds:
            args += ["-c", c]
        return subprocess.run(args, capture_output=True, text=True).stdout

    def popen(self, cmd):
        return subprocess.Popen(self.vtysh_args() + ["-c", cmd], stdout=subprocess.PIPE, text=True)

    def vtysh_args(self):
        return [os.path.join(self.prefix, "bin", "vtysh"), "--vty_socket", self.dir, "--config_dir", self.dir]

    def stop(self, sig=signal.SIGKILL, timeout=120):
        if pid_alive(self.pid):
            os.kill(self.pid, sig)
            wait_until(lambda: not pid_alive(self.pid), timeout, "bgpd exit", 0.02)
        if self.proc:
            self.proc.wait()
        for pidf in self.others:
            pid = int(open(pidf).read())
            if pid_alive(pid):
                os.kill(pid, signal.SIGKILL)
                wait_until(lambda: not pid_alive(pid), timeout, "daemon exit", 0.02)
            os.unlink(pidf)
        self.others = []
        for f in ("bgpd.pid", "bgpd.vty", "mgmtd.vty", "zebra.vty", "bfdd.vty"):
            if os.path.exists(os.path.join(self.dir, f)):
                os.unlink(os.path.join(self.dir, f))

    def rss_mb(self):
        return proc_mem(self.pid)

    def cpu_s(self):
        return proc_cpu(self.pid)

    def out_octets(self):
        return netns_out_octets(self.pid)

    def updates_sent(self):
        """UPDATE messages sent to all neighbors."""
        try:
            nbrs = json.loads(self.vtysh("show bgp neighbors json"))
        except ValueError:
            return None
        return sum(v.get("messageStats", {}).get("updatesSent", 0) for v in nbrs.values() if isinstance(v, dict))


def make_lab(prefix):
    lab = Lab(prefix, tag="rsb")
    lab.link("rs", LAN, topo.RS_IP + "/24")
    for name, (_, _, ip) in topo.PEERS.items():  # the same addresses in every workload
        lab.link(name, LAN, ip + "/24")
    return lab
