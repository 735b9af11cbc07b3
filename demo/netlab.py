# SPDX-License-Identifier: GPL-2.0-or-later
"""
A small network-namespace lab for the demo: each node is a network
namespace plus a private mount namespace in which /etc/frr and
/var/run/frr are bind-mounted from the lab directory (as FRR's topotests
do), so the host's FRR files are never touched. Segments are bridges in a
switch namespace.
"""

import os
import shutil
import subprocess
import tempfile
import time


def sh(*args, check=True, capture=True):
    if capture:
        r = subprocess.run(args, check=False, text=True, capture_output=True)
    else:  # daemons keep inherited pipes open: give them none
        with tempfile.TemporaryFile("w+") as err:
            r = subprocess.run(
                args, check=False, text=True, stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL, stderr=err
            )
            err.seek(0)
            r.stderr = err.read()
    if check and r.returncode != 0:
        raise RuntimeError("{} failed: {}".format(" ".join(args), r.stderr.strip()))
    return r


class Node:
    def __init__(self, lab, name):
        self.lab, self.name = lab, name
        self.ns = "{}-{}".format(lab.tag, name)
        self.dir = os.path.join(lab.dir, name)
        for sub in ("etc", "run"):
            os.makedirs(os.path.join(self.dir, sub), exist_ok=True)
            shutil.chown(os.path.join(self.dir, sub), "frr", "frr")
        open(os.path.join(self.dir, "etc", "vtysh.conf"), "w").close()
        sh("ip", "netns", "add", self.ns)
        sh("ip", "-n", self.ns, "link", "set", "lo", "up")
        script = "mount --bind {0}/etc /etc/frr && mount --bind {0}/run /var/run/frr && exec sleep infinity".format(
            self.dir
        )
        self.holder = subprocess.Popen(
            ["ip", "netns", "exec", self.ns, "unshare", "-m", "--propagation", "private", "sh", "-c", script]
        )
        for _ in range(50):
            if os.path.ismount("/proc/{}/root/var/run/frr".format(self.holder.pid)) or self._mounted():
                break
            time.sleep(0.05)

    def _mounted(self):
        # /var/run is often a symlink: the mount shows as /run/frr
        r = self.run("sh", "-c", "grep -qE ' (/var)?/run/frr ' /proc/self/mounts", check=False)
        return r.returncode == 0

    def run(self, *args, check=True, capture=True):
        return sh("nsenter", "-t", str(self.holder.pid), "-m", "-n", "--", *args, check=check, capture=capture)

    def vtysh(self, *cmds):
        args = ["vtysh"]
        for c in cmds:
            args += ["-c", c]
        return self.run(*args, check=False).stdout

    def start_frr(self, config, bgpd_args=()):
        """mgmtd, zebra and bgpd, then the configuration through vtysh."""
        sbin = os.path.join(self.lab.prefix, "sbin")
        for daemon, extra in (("mgmtd", []), ("zebra", []), ("bgpd", list(bgpd_args))):
            self.run(
                os.path.join(sbin, daemon), "-d", "--log", "file:/var/run/frr/{}.log".format(daemon), *extra,
                capture=False,
            )
        conf = os.path.join(self.dir, "etc", "frr.conf")
        shutil.copy(config, conf)
        shutil.chown(conf, "frr", "frr")
        out = self.run("vtysh", "-f", "/etc/frr/frr.conf", check=False)
        if out.returncode != 0:
            raise RuntimeError("{}: config failed: {}{}".format(self.name, out.stdout, out.stderr))

    def stop(self):
        self.run("sh", "-c", "for p in /var/run/frr/*.pid; do [ -f \"$p\" ] && kill $(cat $p); done", check=False)
        self.holder.kill()
        self.holder.wait()
        sh("ip", "netns", "del", self.ns, check=False)


class Lab:
    def __init__(self, prefix, tag="rsd"):
        self.prefix, self.tag = prefix, tag
        self.dir = tempfile.mkdtemp(prefix="rs-demo-")
        os.chmod(self.dir, 0o755)
        for d in ("/etc/frr", "/var/run/frr"):
            os.makedirs(d, exist_ok=True)  # mount points only
        self.nodes = {}
        self.cleanup_stale(tag)
        self.switch = "{}-sw".format(tag)
        sh("ip", "netns", "add", self.switch)
        self.segments = set()
        self.nifs = 0
        self.owner = {}  # interface address -> (node name, interface)

    @staticmethod
    def cleanup_stale(tag):
        """Remove what an interrupted earlier run left behind."""
        for line in sh("ip", "netns", "list").stdout.splitlines():
            ns = line.split()[0] if line.split() else ""
            if not ns.startswith(tag + "-"):
                continue
            for pid in sh("ip", "netns", "pids", ns, check=False).stdout.split():
                sh("kill", "-9", pid, check=False)
            sh("ip", "netns", "del", ns, check=False)

    def node(self, name):
        if name not in self.nodes:
            self.nodes[name] = Node(self, name)
        return self.nodes[name]

    def link(self, name, segment, address):
        node = self.node(name)
        if segment not in self.segments:
            sh("ip", "-n", self.switch, "link", "add", "br-" + segment, "type", "bridge")
            sh("ip", "-n", self.switch, "link", "set", "br-" + segment, "up")
            self.segments.add(segment)
        self.nifs += 1
        peer = "p{}".format(self.nifs)
        sh("ip", "link", "add", segment, "netns", node.ns, "type", "veth", "peer", "name", peer, "netns", self.switch)
        sh("ip", "-n", self.switch, "link", "set", peer, "master", "br-" + segment, "up")
        sh("ip", "-n", node.ns, "addr", "add", address, "dev", segment)
        self.owner[address.split("/")[0]] = (name, segment)
        sh("ip", "-n", node.ns, "link", "set", segment, "up")
        sh("ip", "netns", "exec", node.ns, "sysctl", "-qw", "net.ipv4.ip_forward=1")

    def load_topology(self, path):
        with open(path) as f:
            for line in f:
                line = line.split("#")[0].split()
                if line:
                    self.link(*line)

    def close(self):
        for node in self.nodes.values():
            node.stop()
        sh("ip", "netns", "del", self.switch, check=False)
        shutil.rmtree(self.dir, ignore_errors=True)
