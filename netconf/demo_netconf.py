#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""
NETCONF demo of the route-server module: a private bgpd (route server AS
65515 with role neighbors, no real peers), netconfd with the
frr-bgp-route-server SIL and a private sshd on 127.0.0.1, and an ncclient
session that turns branch-to-branch on through the candidate datastore.

Run as root with the system python (ncclient is python3-ncclient):
    /usr/bin/python3 netconf/demo_netconf.py [--prefix PREFIX]

Everything it starts or creates (bgpd, netconfd, sshd, a temporary
operator user/group, temp dirs) is removed at the end, also on error or
SIGTERM. Exit status 0 only if every step behaved as expected.
"""

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)
NS = "http://frrouting.org/yang/bgp-route-server"
NC = "urn:ietf:params:xml:ns:netconf:base:1.0"
FILTER = ("subtree", '<route-server xmlns="%s"/>' % NS)
GROUP = "frr-rs-ncdemo"
RGROUP = "frr-rs-ncdemo-rd"  # read-only group (NACM readers); the scripts create it
USER = "rsncdemo"

BGPD_CONF = """\
router bgp 65515
 bgp router-id 10.0.0.1
 no bgp ebgp-requires-policy
 neighbor 10.0.0.2 remote-as 65001
 neighbor 10.0.0.2 description SD-WAN NVA
 neighbor 10.0.0.3 remote-as 65515
 neighbor 10.0.0.3 description ExpressRoute gateway
 neighbor 10.0.0.4 remote-as 65515
 neighbor 10.0.0.4 description VPN gateway instance 0
 neighbor 10.0.0.5 remote-as 65515
 neighbor 10.0.0.5 description VPN gateway instance 1
 neighbor 10.0.0.2 route-server role nva
 neighbor 10.0.0.3 route-server role gateway expressroute
 neighbor 10.0.0.4 route-server role gateway vpn
 neighbor 10.0.0.5 route-server role gateway vpn
 address-family ipv4 unicast
  neighbor 10.0.0.3 route-reflector-client
  neighbor 10.0.0.4 route-reflector-client
  neighbor 10.0.0.5 route-reflector-client
 exit-address-family
exit
"""


class DemoError(Exception):
    pass


def q(tag):
    return "{%s}%s" % (NS, tag)


def run(*args, check=True, **kw):
    r = subprocess.run(args, text=True, capture_output=True, **kw)
    if check and r.returncode:
        raise DemoError("%s failed: %s%s" % (" ".join(args), r.stdout, r.stderr))
    return r


def wait_for(pred, what, timeout=15, interval=0.2):
    end = time.time() + timeout
    while time.time() < end:
        if pred():
            return
        time.sleep(interval)
    raise DemoError("timed out waiting for " + what)


def step(text):
    print("\n== %s" % text, flush=True)


class Demo:
    def __init__(self, prefix):
        self.vtysh_bin = os.path.join(prefix, "bin", "vtysh")
        self.bgpd_bin = os.path.join(prefix, "sbin", "bgpd")
        self.dirs = []
        self.procs = {}
        self.created_user = self.created_group = False
        self.bgpd_pid = None
        self.logs = []

    # -- setup -----------------------------------------------------------
    def mkdirs(self):
        self.bgp = tempfile.mkdtemp(prefix="rs-nc-demo-bgp-")
        self.dirs.append(self.bgp)
        # sshd's StrictModes refuses key files below a world-writable /tmp
        self.state = tempfile.mkdtemp(prefix="rs-nc-demo-", dir="/var/lib")
        self.dirs.append(self.state)
        self.sock = tempfile.mkdtemp(prefix="rs-nc-demo-sock-", dir="/run")
        self.dirs.append(self.sock)
        self.keys = tempfile.mkdtemp(prefix="rs-nc-demo-keys-")
        self.dirs.append(self.keys)
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        self.port = s.getsockname()[1]
        s.close()
        self.env = dict(
            os.environ,
            RS_NC_STATE=self.state, RS_NC_SOCKDIR=self.sock, RS_NC_GROUP=GROUP,
            RS_NC_READ_GROUP=RGROUP,
            RS_NC_SSH_PORT=str(self.port), RS_NC_TARGET="candidate",
            FRR_RS_VTYSH=self.vtysh_bin, FRR_RS_VTY_SOCKET=self.bgp,
            FRR_RS_CONFIG_DIR=self.bgp, FRR_RS_TIMEOUT="5")

    def user(self):
        if run("getent", "group", GROUP, check=False).returncode:
            self.created_group = True  # set first: a signal may come
            run("groupadd", "-r", GROUP)
        self.created_rgroup = bool(run("getent", "group", RGROUP, check=False).returncode)
        if run("getent", "passwd", USER, check=False).returncode:
            self.created_user = True
            run("useradd", "-r", "-M", "-d", "/nonexistent", "-s", "/bin/sh",
                "-G", GROUP, USER)
        else:
            raise DemoError("user %s already exists; not touching it" % USER)
        run("usermod", "-p", "*", USER)  # sshd refuses locked ('!') accounts
        self.key = os.path.join(self.keys, USER)
        run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", self.key)

    def vtysh(self, *cmds):
        args = [self.vtysh_bin, "--vty_socket", self.bgp, "--config_dir", self.bgp]
        for c in cmds:
            args += ["-c", c]
        return run(*args, check=False, timeout=20).stdout

    def start_bgpd(self):
        with open(os.path.join(self.bgp, "bgpd.conf"), "w") as f:
            f.write(BGPD_CONF)
        open(os.path.join(self.bgp, "vtysh.conf"), "a").close()
        for name in os.listdir(self.bgp):
            shutil.chown(os.path.join(self.bgp, name), "frr", "frr")
        shutil.chown(self.bgp, "frr", "frr")
        os.chmod(self.bgp, 0o755)
        pidfile = os.path.join(self.bgp, "bgpd.pid")
        # -p 0: no BGP listener; -Z: no zebra. bgpd keeps inherited pipes
        # open, so it gets none.
        subprocess.run(
            [self.bgpd_bin, "-d", "-Z", "-M", "route_server", "-p", "0", "-P", "0",
             "-f", os.path.join(self.bgp, "bgpd.conf"), "--vty_socket", self.bgp,
             "-i", pidfile, "--log", "file:" + os.path.join(self.bgp, "bgpd.log")],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, check=True, timeout=30)
        self.logs.append(os.path.join(self.bgp, "bgpd.log"))

        def up():
            if self.bgpd_pid is None and os.path.exists(pidfile):
                with open(pidfile) as f:
                    txt = f.read().strip()
                self.bgpd_pid = int(txt) if txt else None
            return "router bgp" in self.vtysh("show running-config")
        wait_for(up, "bgpd")

    def spawn(self, name, script):
        out = open(os.path.join(self.bgp, name + ".out"), "a")
        self.logs.append(out.name)
        self.procs[name] = subprocess.Popen(
            [os.path.join(HERE, "scripts", script)], env=self.env,
            stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True)
        out.close()

    def start_netconf(self):
        self.logs.append(os.path.join(self.state, "netconfd", "netconfd.log"))
        self.spawn("netconfd", "netconfd-start.sh")
        wait_for(lambda: os.path.exists(os.path.join(self.sock, "ncxserver.sock"))
                 or self.procs["netconfd"].poll() is not None, "netconfd")
        if self.procs["netconfd"].poll() is not None:
            raise DemoError("netconfd exited")
        self.spawn("sshd", "sshd-start.sh")

        def up():
            if self.procs["sshd"].poll() is not None:
                raise DemoError("sshd exited")
            try:
                socket.create_connection(("127.0.0.1", self.port), 1).close()
                return True
            except OSError:
                return False
        wait_for(up, "sshd")
        dst = os.path.join(self.state, "authorized_keys", USER)
        shutil.copy(self.key + ".pub", dst)
        os.chmod(dst, 0o644)

    def connect(self):
        from ncclient import manager
        return manager.connect(
            host="127.0.0.1", port=self.port, username=USER,
            key_filename=self.key, hostkey_verify=False, allow_agent=False,
            look_for_keys=False, timeout=30)

    # -- teardown ----------------------------------------------------------
    def close(self):
        for name in list(self.procs):
            p = self.procs.pop(name)
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(10)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait(5)
        pidfile = os.path.join(self.bgp, "bgpd.pid") if self.dirs else None
        if not self.bgpd_pid and pidfile:
            # interrupted while bgpd was starting: it writes its pid file soon
            started = os.path.exists(os.path.join(self.bgp, "bgpd.conf"))
            end = time.time() + (2 if started else 0)
            while True:
                try:
                    with open(pidfile) as f:
                        self.bgpd_pid = int(f.read().strip())
                    break
                except (OSError, ValueError):
                    if time.time() > end:
                        break
                    time.sleep(0.1)
        if self.bgpd_pid:
            try:
                os.kill(self.bgpd_pid, signal.SIGTERM)
                end = time.time() + 10
                while time.time() < end:
                    os.kill(self.bgpd_pid, 0)
                    time.sleep(0.1)
                os.kill(self.bgpd_pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        for d in self.dirs:
            shutil.rmtree(d, ignore_errors=True)
        if self.created_user:
            subprocess.run(["userdel", USER], capture_output=True)
        if self.created_group:
            subprocess.run(["groupdel", GROUP], capture_output=True)
        if getattr(self, "created_rgroup", False):
            subprocess.run(["groupdel", RGROUP], capture_output=True)

    def dump_logs(self):
        for path in self.logs:
            if os.path.exists(path):
                with open(path, errors="replace") as f:
                    tail = f.read().splitlines()[-15:]
                print("--- last lines of %s" % os.path.basename(path), file=sys.stderr)
                print("\n".join(tail), file=sys.stderr)


# -- output helpers --------------------------------------------------------

def config_lines(data_xml):
    """get-config reply as 'vrf X: b2b, neighbor -> role' lines."""
    data = ET.fromstring(data_xml)
    lines, conf = [], {}
    for inst in data.iter(q("instance")):
        vrf = inst.find(q("vrf")).text
        b = inst.find(q("branch-to-branch"))
        b2b = b is not None and b.text == "true"
        nbrs = {n.find(q("name")).text: n.find(q("role")).text
                for n in inst.findall(q("neighbor"))}
        conf[vrf] = (b2b, nbrs)
        lines.append("  instance vrf %s: branch-to-branch %s"
                     % (vrf, "true" if b2b else "false (default)"))
        for name, role in sorted(nbrs.items()):
            lines.append("    neighbor %-10s role %s" % (name, role))
    return lines, conf


def state_lines(data_xml):
    data = ET.fromstring(data_xml)
    lines, state = [], {}
    for inst in data.iter(q("instance")):
        vrf = inst.find(q("vrf")).text
        b = inst.find(q("branch-to-branch"))
        b2b = b is not None and b.text == "true"
        st = inst.find(q("state"))
        nbrs = {}
        warns = []
        if st is not None:
            warns = [w.text for w in st.findall(q("warning"))]
            for n in st.findall(q("neighbor")):
                def t(tag):
                    e = n.find(q(tag))
                    return e.text if e is not None else "-"
                nbrs[t("name")] = {k: t(k) for k in (
                    "role", "role-inherited-from", "session-state",
                    "prefixes-received", "prefixes-advertised",
                    "prefixes-withheld")}
        state[vrf] = (b2b, nbrs, warns)
        lines.append("  vrf %s: branch-to-branch = %s" % (vrf, str(b2b).lower()))
        lines.append("    %-10s %-22s %-8s %5s %5s %5s" % (
            "neighbor", "role", "session", "rcvd", "adv", "held"))
        for name, v in sorted(nbrs.items()):
            role = v["role"]
            if v["role-inherited-from"] != "-":
                role += " (from %s)" % v["role-inherited-from"]
            lines.append("    %-10s %-22s %-8s %5s %5s %5s" % (
                name, role, v["session-state"], v["prefixes-received"],
                v["prefixes-advertised"], v["prefixes-withheld"]))
        lines.append("    warnings: %s" % ("none" if not warns else ""))
        lines += ["      - " + w for w in warns]
    return lines, state


def check(cond, what):
    print("  [%s] %s" % ("ok" if cond else "FAILED", what))
    if not cond:
        raise DemoError(what)


def scenario(demo):
    from ncclient.operations import RPCError

    m = demo.connect()
    try:
        caps = " ".join(m.server_capabilities)
        print("  session %s as %s; server has :candidate: %s"
              % (m.session_id, USER, ":candidate" in caps))
        check(NS in caps, "frr-bgp-route-server is advertised")

        step("1. <get-config source=running> of frr-bgp-route-server")
        lines, conf = config_lines(m.get_config("running", filter=FILTER).data_xml)
        print("\n".join(lines))
        check(conf.get("default", (None, {}))[1] == {
            "10.0.0.2": "nva", "10.0.0.3": "gateway-expressroute",
            "10.0.0.4": "gateway-vpn", "10.0.0.5": "gateway-vpn"}
            and conf["default"][0] is False,
            "running equals bgpd's configuration (b2b off, 4 role neighbors)")

        step("2. <edit-config target=candidate> branch-to-branch=true, then <commit>")
        body = ('<config><route-server xmlns="%s"><instance><vrf>default</vrf>'
                '<branch-to-branch>true</branch-to-branch></instance>'
                '</route-server></config>' % NS)
        print("  " + body)
        try:
            m.edit_config(target="candidate", config=body)
            print("  edit-config: ok")
            m.commit()
            print("  commit: ok")
        except RPCError as e:
            raise DemoError("rpc-error %s: %s" % (e.tag, e.message))

        step("3. <get> of frr-bgp-route-server (config + state from bgpd)")
        lines, state = state_lines(m.get(filter=FILTER).data_xml)
        print("\n".join(lines))
        b2b, nbrs, _ = state.get("default", (False, {}, []))
        check(b2b, "branch-to-branch is true in running")
        check(set(nbrs) == {"10.0.0.2", "10.0.0.3", "10.0.0.4", "10.0.0.5"}
              and nbrs["10.0.0.3"]["role"] == "gateway-expressroute",
              "state lists the 4 role neighbors with their roles")
    finally:
        try:
            m.close_session()
        except Exception:
            pass

    step("4. bgpd itself: vtysh 'show bgp route-server'")
    out = demo.vtysh("show bgp route-server")
    print("\n".join("  " + line for line in out.rstrip().splitlines()))
    j = json.loads(demo.vtysh("show bgp route-server json") or "{}")
    check(j.get("branchToBranch") is True, "bgpd has branch-to-branch on")
    with open(os.path.join(demo.bgp, "bgpd.conf")) as f:
        saved = f.read()
    check("route-server branch-to-branch" in saved,
          "bgpd.conf was saved (write memory): '%s'" % next(
              (ln.strip() for ln in saved.splitlines() if "branch-to-branch" in ln), ""))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--prefix", default=os.path.join(TOP, "build", "prefix"),
                    help="FRR install prefix (default: %(default)s)")
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("demo_netconf: run as root")
    prefix = os.path.abspath(args.prefix)
    for p in ("bin/vtysh", "sbin/bgpd"):
        if not os.access(os.path.join(prefix, p), os.X_OK):
            sys.exit("demo_netconf: %s not found under %s" % (p, prefix))
    try:
        import ncclient  # noqa: F401
    except ImportError:
        sys.exit("demo_netconf: needs python3-ncclient (run with /usr/bin/python3)")

    def on_signal(signum, frame):
        raise SystemExit(128 + signum)
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGHUP, on_signal)

    t0 = time.time()
    demo = Demo(prefix)
    rc = 1
    try:
        step("0. setup: bgpd (AS 65515, route_server module), netconfd + SIL, "
             "sshd on 127.0.0.1, operator '%s'" % USER)
        r = run("make", "-s", "-C", HERE, check=False)
        if r.returncode:
            raise DemoError("make -C %s failed:\n%s%s" % (HERE, r.stdout, r.stderr))
        demo.mkdirs()
        demo.user()
        demo.start_bgpd()
        demo.start_netconf()
        print("  ready: ssh netconf on 127.0.0.1:%d, key auth for %s" % (demo.port, USER))
        scenario(demo)
        rc = 0
    except DemoError as e:
        print("\nDEMO FAILED: %s" % e, file=sys.stderr)
        demo.dump_logs()
    except Exception as e:  # ncclient / OS errors
        print("\nDEMO FAILED: %s: %s" % (type(e).__name__, e), file=sys.stderr)
        demo.dump_logs()
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        demo.close()
    print("\n%s in %.1f s (everything started or created was removed)"
          % ("DEMO OK" if rc == 0 else "DEMO FAILED", time.time() - t0))
    return rc


if __name__ == "__main__":
    sys.exit(main())
