# SPDX-License-Identifier: GPL-2.0-or-later
"""
NETCONF tests: Debian's netconfd (yuma123) with the frr-bgp-route-server SIL,
a private sshd on loopback, and a real bgpd (with the route_server module)
on a private vty socket. Client: Debian's python3-ncclient.

Run as root with the system python:
    make -C netconf && /usr/bin/python3 -m pytest -v netconf/tests
"""

import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time

import pytest
from ncclient import manager
from ncclient.operations import RPCError

HERE = os.path.dirname(os.path.abspath(__file__))
NCDIR = os.path.dirname(HERE)
TOP = os.path.dirname(NCDIR)
PREFIX = os.environ.get("RS_FRR_PREFIX", os.path.join(TOP, "build", "prefix"))
VTYSH = os.path.join(PREFIX, "bin", "vtysh")
BGPD = os.path.join(PREFIX, "sbin", "bgpd")
YANG = os.path.join(TOP, "yang", "frr-bgp-route-server.yang")
NS = "http://frrouting.org/yang/bgp-route-server"
NC = "urn:ietf:params:xml:ns:netconf:base:1.0"
GROUP = "frr-rs-nctest"
RGROUP = "frr-rs-nctest-rd"  # read-only NETCONF group (NACM readers)
OPER = "rsncop"  # member of GROUP
OTHER = "rsncother"  # not a member
FILTER = ("subtree", '<route-server xmlns="%s"/>' % NS)

BGPD_CONF = """\
router bgp 65515
 bgp router-id 10.0.0.1
 no bgp ebgp-requires-policy
 neighbor PG peer-group
 neighbor PG remote-as external
 neighbor 10.0.0.2 remote-as 65001
 neighbor 10.0.0.3 remote-as 65515
 neighbor 10.0.0.4 remote-as 65515
 neighbor 10.0.0.5 remote-as 65515
 neighbor 10.0.0.6 remote-as 65002
 neighbor 10.0.0.2 route-server role nva
 neighbor 10.0.0.3 route-server role gateway expressroute
exit
router bgp 65516 vrf blue
 neighbor 10.9.0.2 remote-as 65001
exit
"""

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root")


def run(*args, check=True, **kw):
    r = subprocess.run(args, text=True, capture_output=True, **kw)
    if check and r.returncode:
        raise RuntimeError("%s: %s%s" % (" ".join(args), r.stdout, r.stderr))
    return r


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_for(pred, timeout=15, what="condition", interval=0.2):
    end = time.time() + timeout
    while time.time() < end:
        if pred():
            return
        time.sleep(interval)
    raise AssertionError("timed out waiting for " + what)


class Env:
    """bgpd + netconfd + sshd, all private to one test module.

    users: (user, [system groups]) of the NETCONF users made by users(),
    with their keys; group, read_group: the operator and reader groups
    netconfd is given (RS_NC_GROUP, RS_NC_READ_GROUP); own_groups: the
    groups close() deletes (default group and read_group). A module that
    may run at the same time as others gives users and groups of its own.
    keys: the key dir of another Env whose users this one shares (a
    second server for the same operator): then users() is not called and
    close() leaves the keys, users and groups to the other."""

    def __init__(self, users=((OPER, [GROUP]), (OTHER, [])), group=GROUP,
                 read_group=RGROUP, own_groups=None, keys=None):
        self.user_list = [(u, list(gs)) for u, gs in users]
        self.user_names = [u for u, _ in self.user_list]
        self.group_names = list(own_groups if own_groups is not None else (group, read_group))
        self.shared_keys = keys is not None
        self.bgp = tempfile.mkdtemp(prefix="rs-nc-bgp-")
        # sshd's StrictModes refuses key files below a world-writable /tmp
        self.state = tempfile.mkdtemp(prefix="rs-nc-test-", dir="/var/lib")
        self.sock = tempfile.mkdtemp(prefix="rs-nc-sock-", dir="/run")
        self.port = free_port()
        self.keys = keys or tempfile.mkdtemp(prefix="rs-nc-keys-")
        self.procs = {}
        self.env = dict(
            os.environ,
            RS_NC_STATE=self.state,
            RS_NC_SOCKDIR=self.sock,
            RS_NC_GROUP=group,
            RS_NC_READ_GROUP=read_group,
            RS_NC_SSH_PORT=str(self.port),
            RS_NC_LOGLEVEL=os.environ.get("RS_NC_LOGLEVEL", "debug"),
            FRR_RS_VTYSH=VTYSH,
            FRR_RS_VTY_SOCKET=self.bgp,
            FRR_RS_CONFIG_DIR=self.bgp,
            FRR_RS_TIMEOUT="5",
            FRR_RS_SYNC_INTERVAL="2",
        )

    # -- users -----------------------------------------------------------
    def users(self):
        """The system groups of self.user_list, its users, their keys."""
        all_groups = []
        for _, gs in self.user_list:
            all_groups += [g for g in gs if g not in all_groups]
        for group in all_groups:
            if subprocess.run(["getent", "group", group], capture_output=True).returncode:
                run("groupadd", "-r", group)
        for user, groups in self.user_list:
            if subprocess.run(["getent", "passwd", user], capture_output=True).returncode:
                args = ["useradd", "-r", "-M", "-d", "/nonexistent", "-s", "/bin/sh"]
                if groups:
                    args += ["-G", ",".join(groups)]
                run(*args, user)
            elif groups:  # left over (userdel fails while it has sessions)
                run("usermod", "-a", "-G", ",".join(groups), user)
            run("usermod", "-p", "*", user)  # sshd refuses locked ('!') accounts
            key = os.path.join(self.keys, user)
            run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key)

    def install_keys(self):
        for user in self.user_names:
            dst = os.path.join(self.state, "authorized_keys", user)
            shutil.copy(os.path.join(self.keys, user + ".pub"), dst)
            os.chmod(dst, 0o644)

    def start(self, conf=BGPD_CONF, target="candidate", supervised=False):
        """Users (unless they are shared), bgpd with conf, netconfd with
        target, sshd, the users' keys."""
        if not self.shared_keys:
            self.users()
        self.start_bgpd(conf)
        self.start_netconfd(target=target, supervised=supervised)
        self.start_sshd()
        self.install_keys()
        return self

    # -- bgpd ------------------------------------------------------------
    def start_bgpd(self, conf=None):
        if conf is not None:
            with open(os.path.join(self.bgp, "bgpd.conf"), "w") as f:
                f.write(conf)
        open(os.path.join(self.bgp, "vtysh.conf"), "a").close()
        for name in os.listdir(self.bgp):
            shutil.chown(os.path.join(self.bgp, name), "frr", "frr")
        shutil.chown(self.bgp, "frr", "frr")
        os.chmod(self.bgp, 0o755)
        # the daemon keeps inherited pipes open: give it none
        subprocess.run(
            [BGPD, "-d", "-Z", "-M", "route_server", "-p", "0", "-P", "0",
             "-f", os.path.join(self.bgp, "bgpd.conf"), "--vty_socket", self.bgp,
             "-i", os.path.join(self.bgp, "bgpd.pid"),
             "--log", "file:" + os.path.join(self.bgp, "bgpd.log")],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, check=True, timeout=30)
        wait_for(lambda: "router bgp" in self.vtysh("show running-config"), what="bgpd")

    def stop_bgpd(self):
        pidfile = os.path.join(self.bgp, "bgpd.pid")
        with open(pidfile) as f:
            pid = int(f.read())
        os.kill(pid, signal.SIGTERM)

        def gone():
            try:
                os.kill(pid, 0)
                return False
            except ProcessLookupError:
                return True
        wait_for(gone, what="bgpd exit")

    def vtysh(self, *cmds):
        args = [VTYSH, "--vty_socket", self.bgp, "--config_dir", self.bgp]
        for c in cmds:
            args += ["-c", c]
        return run(*args, check=False).stdout

    def rs_json(self, vrf=None):
        cmd = "show bgp%s route-server json" % (" vrf " + vrf if vrf else "")
        return json.loads(self.vtysh(cmd))

    # -- netconfd / sshd -------------------------------------------------
    def start_netconfd(self, target="candidate", supervised=False):
        """netconfd-start.sh, or netconfd-supervise.sh (which restarts
        netconfd when it dies) when supervised."""
        env = dict(self.env, RS_NC_TARGET=target)
        # a stopped netconfd leaves its socket (yuma123 unlinks its default
        # path, not --ncxserver-sockname): the wait below would pass before
        # the new one is up
        sock = os.path.join(self.sock, "ncxserver.sock")
        if os.path.exists(sock):
            os.unlink(sock)
        out = open(os.path.join(self.bgp, "netconfd.out"), "a")
        script = "netconfd-supervise.sh" if supervised else "netconfd-start.sh"
        self.procs["netconfd"] = subprocess.Popen(
            [os.path.join(NCDIR, "scripts", script)], env=env,
            stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT)
        wait_for(lambda: os.path.exists(os.path.join(self.sock, "ncxserver.sock")),
                 what="netconfd socket")

    def stop_netconfd(self):
        p = self.procs.pop("netconfd")
        p.terminate()
        p.wait(10)

    def start_sshd(self):
        out = open(os.path.join(self.bgp, "sshd.out"), "a")
        self.procs["sshd"] = subprocess.Popen(
            [os.path.join(NCDIR, "scripts", "sshd-start.sh")], env=self.env,
            stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT)

        def up():
            try:
                socket.create_connection(("127.0.0.1", self.port), 1).close()
                return True
            except OSError:
                return False
        wait_for(up, what="sshd")

    def connect(self, user=OPER):
        return manager.connect(
            host="127.0.0.1", port=self.port, username=user,
            key_filename=os.path.join(self.keys, user), hostkey_verify=False,
            allow_agent=False, look_for_keys=False, timeout=30)

    def close(self):
        for name in list(self.procs):
            p = self.procs.pop(name)
            p.terminate()
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
        try:
            self.stop_bgpd()
        except Exception:
            pass
        # keep the logs of the last run for post-mortems
        logs = "/tmp/rs-nc-last-logs"
        shutil.rmtree(logs, ignore_errors=True)
        os.makedirs(logs)
        for src in (os.path.join(self.state, "netconfd", "netconfd.log"),
                    os.path.join(self.bgp, "bgpd.log"),
                    os.path.join(self.bgp, "sshd.out"),
                    os.path.join(self.bgp, "netconfd.out")):
            if os.path.exists(src):
                shutil.copy(src, logs)
        for d in (self.bgp, self.state, self.sock):
            shutil.rmtree(d, ignore_errors=True)
        if self.shared_keys:  # the Env they belong to removes them
            return
        shutil.rmtree(self.keys, ignore_errors=True)
        for user in self.user_names:
            subprocess.run(["userdel", user], capture_output=True)
        for group in self.group_names:
            subprocess.run(["groupdel", group], capture_output=True)


def started_env(target, supervised=False, make=Env, conf=BGPD_CONF):
    """make() (an Env) started with bgpd conf, netconfd (with the given
    target) and sshd; torn down after."""
    e = make()
    try:
        yield e.start(conf, target=target, supervised=supervised)
    finally:
        e.close()


@pytest.fixture(scope="module")
def env():
    yield from started_env("candidate")


@pytest.fixture
def nc(env):
    m = env.connect()
    yield m
    try:  # the session may belong to a netconfd a test restarted
        m.discard_changes()
        m.close_session()
    except Exception:
        pass


# -- helpers ---------------------------------------------------------------

def cfg(body):
    return ('<config xmlns:nc="%s"><route-server xmlns="%s">%s</route-server></config>'
            % (NC, NS, body))


def inst(body, vrf="default", op=""):
    attr = ' nc:operation="%s"' % op if op else ""
    return "<instance%s><vrf>%s</vrf>%s</instance>" % (attr, vrf, body)


def neigh(name, role=None, op=""):
    attr = ' nc:operation="%s"' % op if op else ""
    r = "<role>%s</role>" % role if role else ""
    return "<neighbor%s><name>%s</name>%s</neighbor>" % (attr, name, r)


def roles(m, source="running"):
    """{vrf: (b2b, {name: role})} from get-config."""
    import xml.etree.ElementTree as ET
    data = ET.fromstring(m.get_config(source, filter=FILTER).data_xml)
    out = {}
    for i in data.iter("{%s}instance" % NS):
        vrf = i.find("{%s}vrf" % NS).text
        b = i.find("{%s}branch-to-branch" % NS)
        out[vrf] = (b is not None and b.text == "true",
                    {n.find("{%s}name" % NS).text: n.find("{%s}role" % NS).text
                     for n in i.findall("{%s}neighbor" % NS)})
    return out


def baseline(m):
    """Replace the whole route-server config, as at the start."""
    m.edit_config(target="candidate", config=cfg(
        '<instance nc:operation="replace"><vrf>default</vrf>%s%s</instance>'
        % (neigh("10.0.0.2", "nva"), neigh("10.0.0.3", "gateway-expressroute"))).replace(
        "<route-server ", '<route-server nc:operation="replace" '))
    m.commit()


def expect_error(fn, tag="operation-failed", path_part=None, msg_part=None):
    with pytest.raises(RPCError) as ei:
        fn()
    e = ei.value
    assert e.tag == tag, (e.tag, e.message)
    if path_part:
        assert path_part in (e.path or ""), e.path
    if msg_part:
        assert msg_part in (e.message or ""), e.message
    return e


# -- tests -----------------------------------------------------------------

def test_yang_loads_in_yuma123():
    r = run("yangdump", "--modpath=" + os.path.dirname(YANG), "--module=" + YANG,
            check=False)
    assert r.returncode == 0
    assert "0 Errors" in r.stdout + r.stderr


def test_capability_and_startup_sync(nc):
    assert any(NS in c for c in nc.server_capabilities)
    # running was taken from bgpd's config at netconfd start
    got = roles(nc)
    assert got["default"] == (False, {"10.0.0.2": "nva",
                                      "10.0.0.3": "gateway-expressroute"})
    assert "blue" not in got


def test_get_state(nc):
    import xml.etree.ElementTree as ET
    data = ET.fromstring(nc.get(filter=FILTER).data_xml)
    st = {n.find("{%s}name" % NS).text: n for n in data.iter("{%s}neighbor" % NS)
          if n.find("{%s}session-state" % NS) is not None}
    assert set(st) == {"10.0.0.2", "10.0.0.3"}
    assert st["10.0.0.3"].find("{%s}role" % NS).text == "gateway-expressroute"
    assert st["10.0.0.2"].find("{%s}prefixes-received" % NS).text == "0"
    for name in st:  # revision 2026-11-30
        assert st[name].find("{%s}prefixes-alternate-path" % NS).text == "0"
    assert st["10.0.0.2"].find("{%s}session-state" % NS).text in (
        "Idle", "Active", "Connect")


def test_merge_commit_applies_and_persists(env, nc):
    baseline(nc)
    nc.edit_config(target="candidate", config=cfg(inst(neigh("10.0.0.6", "nva"))))
    # candidate only: bgpd and running unchanged until commit
    assert "10.0.0.6" not in env.rs_json()["neighbors"]
    assert "10.0.0.6" in roles(nc, "candidate")["default"][1]
    assert "10.0.0.6" not in roles(nc)["default"][1]
    nc.commit()
    assert env.rs_json()["neighbors"]["10.0.0.6"]["role"] == "nva"
    assert roles(nc)["default"][1]["10.0.0.6"] == "nva"
    with open(os.path.join(env.bgp, "bgpd.conf")) as f:
        assert " neighbor 10.0.0.6 route-server role nva\n" in f.read()


def test_create_existing_is_rejected(nc):
    baseline(nc)
    expect_error(lambda: nc.edit_config(target="candidate", config=cfg(
        inst(neigh("10.0.0.2", "nva", op="create")))), tag="data-exists")


def test_create_and_change_role(env, nc):
    baseline(nc)
    nc.edit_config(target="candidate", config=cfg(
        inst(neigh("10.0.0.6", "nva", op="create"))))
    nc.commit()
    assert env.rs_json()["neighbors"]["10.0.0.6"]["role"] == "nva"
    # only the leaf of an existing entry changes
    nc.edit_config(target="candidate", config=cfg(
        inst(neigh("10.0.0.6", "gateway-expressroute"))))
    nc.commit()
    assert env.rs_json()["neighbors"]["10.0.0.6"]["role"] == "gateway-expressroute"


def test_delete_and_remove(env, nc):
    baseline(nc)
    nc.edit_config(target="candidate", config=cfg(inst(neigh("10.0.0.2", op="delete"))))
    nc.commit()
    assert "10.0.0.2" not in env.rs_json()["neighbors"]
    # delete of a missing entry fails, remove does not
    expect_error(lambda: nc.edit_config(target="candidate", config=cfg(
        inst(neigh("10.0.0.2", op="delete")))), tag="data-missing")
    nc.discard_changes()
    nc.edit_config(target="candidate", config=cfg(inst(neigh("10.0.0.2", op="remove"))))
    nc.edit_config(target="candidate", config=cfg(inst(neigh("10.0.0.3", op="remove"))))
    nc.commit()
    assert env.rs_json()["neighbors"] == {}
    with open(os.path.join(env.bgp, "bgpd.conf")) as f:
        assert "route-server role" not in f.read()


def test_replace_and_peer_group(env, nc):
    baseline(nc)
    nc.edit_config(target="candidate", config=cfg(
        '<instance nc:operation="replace"><vrf>default</vrf>%s</instance>'
        % neigh("PG", "gateway-vpn")))
    nc.commit()
    j = env.rs_json()
    assert j["neighbors"] == {}
    assert j["peerGroups"]["PG"]["role"] == "gateway-vpn"
    assert roles(nc)["default"] == (False, {"PG": "gateway-vpn"})


def test_discard_changes(env, nc):
    baseline(nc)
    nc.edit_config(target="candidate", config=cfg(inst(neigh("10.0.0.6", "nva"))))
    assert "10.0.0.6" in roles(nc, "candidate")["default"][1]
    nc.discard_changes()
    assert roles(nc, "candidate") == roles(nc)
    nc.commit()
    assert "10.0.0.6" not in env.rs_json()["neighbors"]


def test_lock_unlock(env, nc):
    other = env.connect()
    try:
        nc.lock("candidate")
        expect_error(lambda: other.edit_config(target="candidate", config=cfg(
            inst(neigh("10.0.0.6", "nva")))), tag="in-use")
        expect_error(lambda: other.lock("candidate"), tag="lock-denied")
        nc.unlock("candidate")
        other.lock("candidate")
        other.unlock("candidate")
    finally:
        other.close_session()


def test_invalid_role_rejected_at_edit(nc):
    e = expect_error(lambda: nc.edit_config(target="candidate", config=cfg(
        inst(neigh("10.0.0.2", "gateway")))), tag="invalid-value")
    assert e.path.endswith("frr-bgp-rs:neighbor[frr-bgp-rs:name='10.0.0.2']/frr-bgp-rs:role")


def test_unknown_neighbor_rejected(env, nc):
    baseline(nc)
    before = env.vtysh("show running-config")
    nc.edit_config(target="candidate", config=cfg(inst(neigh("10.9.9.9", "nva"))))
    expect_error(nc.commit,
                 path_part="frr-bgp-rs:neighbor[frr-bgp-rs:name='10.9.9.9']",
                 msg_part="neighbor 10.9.9.9 does not exist")
    assert env.vtysh("show running-config") == before
    assert "10.9.9.9" not in roles(nc)["default"][1]


def test_unknown_neighbor_in_vrf_and_unknown_instance(env, nc):
    # 10.0.0.2 exists in the default instance, not in vrf blue
    nc.edit_config(target="candidate", config=cfg(inst(neigh("10.0.0.2", "nva"), vrf="blue")))
    expect_error(nc.commit, path_part="[frr-bgp-rs:vrf='blue']",
                 msg_part="does not exist in the BGP instance of vrf blue")
    nc.discard_changes()
    nc.edit_config(target="candidate", config=cfg(
        inst("<branch-to-branch>true</branch-to-branch>", vrf="red")))
    expect_error(nc.commit, path_part="[frr-bgp-rs:vrf='red']",
                 msg_part="BGP instance for vrf red does not exist")


def test_vrf_instance(env, nc):
    nc.edit_config(target="candidate", config=cfg(
        inst("<branch-to-branch>true</branch-to-branch>" + neigh("10.9.0.2", "nva"),
             vrf="blue")))
    nc.commit()
    j = env.rs_json("blue")
    assert j["branchToBranch"] is True
    assert j["neighbors"]["10.9.0.2"]["role"] == "nva"
    nc.edit_config(target="candidate", config=cfg(inst("", vrf="blue", op="delete")))
    nc.commit()
    j = env.rs_json("blue")
    assert j["branchToBranch"] is False and j["neighbors"] == {}


def test_active_active_rule(env, nc):
    baseline(nc)  # 10.0.0.3 is an ExpressRoute gateway
    before = env.vtysh("show running-config")
    nc.edit_config(target="candidate", config=cfg(inst(
        "<branch-to-branch>true</branch-to-branch>" + neigh("10.0.0.4", "gateway-vpn"))))
    expect_error(nc.commit, path_part="/frr-bgp-rs:branch-to-branch",
                 msg_part="needs an active-active VPN gateway (2 gateway vpn neighbors), 1 configured")
    assert env.vtysh("show running-config") == before
    assert roles(nc)["default"][0] is False
    # with the second VPN session the same commit is fine
    nc.edit_config(target="candidate", config=cfg(inst(neigh("10.0.0.5", "gateway-vpn"))))
    nc.commit()
    j = env.rs_json()
    assert j["branchToBranch"] is True
    assert j["warnings"] == [] or all("active-active" not in w for w in j["warnings"])
    # removing one VPN session again would violate the rule
    nc.edit_config(target="candidate", config=cfg(inst(neigh("10.0.0.5", op="delete"))))
    expect_error(nc.commit, msg_part="1 configured")
    nc.discard_changes()


def test_b2b_commit_shows_in_bgpd(env, nc):
    baseline(nc)
    nc.edit_config(target="candidate", config=cfg(inst(
        "<branch-to-branch>true</branch-to-branch>")))
    nc.commit()
    assert env.rs_json()["branchToBranch"] is True
    nc.edit_config(target="candidate", config=cfg(inst(
        "<branch-to-branch>false</branch-to-branch>")))
    nc.commit()
    assert env.rs_json()["branchToBranch"] is False


def test_commit_is_idempotent(env, nc):
    baseline(nc)
    with open(os.path.join(env.bgp, "bgpd.conf")) as f:
        before = f.read()
    st = os.stat(os.path.join(env.bgp, "bgpd.conf")).st_mtime_ns
    baseline(nc)  # same config again: no vtysh change, no write memory
    assert os.stat(os.path.join(env.bgp, "bgpd.conf")).st_mtime_ns == st
    with open(os.path.join(env.bgp, "bgpd.conf")) as f:
        assert f.read() == before


def test_bgpd_unreachable_and_restart(env, nc):
    baseline(nc)
    nc.edit_config(target="candidate", config=cfg(inst(neigh("10.0.0.6", "nva"))))
    nc.commit()
    env.stop_bgpd()
    try:
        nc.edit_config(target="candidate", config=cfg(inst(neigh("10.0.0.4", "nva"))))
        expect_error(nc.commit, msg_part="bgpd is unreachable")
        assert "10.0.0.4" not in roles(nc)["default"][1]
        nc.discard_changes()
    finally:
        env.start_bgpd()
    # the committed config survived the bgpd restart (write memory)
    assert env.rs_json()["neighbors"]["10.0.0.6"]["role"] == "nva"
    assert roles(nc)["default"][1]["10.0.0.6"] == "nva"


def test_drift_from_cli_is_picked_up(env, nc):
    baseline(nc)
    env.vtysh("configure terminal", "router bgp 65515",
              "neighbor 10.0.0.6 route-server role gateway expressroute")
    # yuma123 runs timers only when its select() loop has been idle for
    # about 2 s: poll slowly
    wait_for(lambda: roles(nc)["default"][1].get("10.0.0.6") == "gateway-expressroute",
             timeout=30, interval=4, what="running to follow bgpd")
    assert roles(nc, "candidate")["default"][1].get("10.0.0.6") == "gateway-expressroute"
    # a role the SIL took from bgpd, changed by a commit: the candidate
    # (netconfd clones running into it after the commit) has the new role
    # too, not the old one (yuma123 enum leaves, see the SIL)
    nc.edit_config(target="candidate", config=cfg(inst(neigh("10.0.0.6", "nva"))))
    nc.commit()
    assert env.rs_json()["neighbors"]["10.0.0.6"]["role"] == "nva"
    assert roles(nc)["default"][1]["10.0.0.6"] == "nva"
    assert roles(nc, "candidate") == roles(nc)


def test_netconfd_restart_agrees_with_bgpd(env, nc):
    baseline(nc)
    nc.edit_config(target="candidate", config=cfg(inst(neigh("10.0.0.6", "nva"))))
    nc.commit()
    env.stop_netconfd()
    # bgpd changes while netconfd is down: bgpd is authoritative
    env.vtysh("configure terminal", "router bgp 65515",
              "no neighbor 10.0.0.2 route-server role")
    env.start_netconfd()
    m = env.connect()
    try:
        assert roles(m)["default"][1] == {"10.0.0.3": "gateway-expressroute",
                                          "10.0.0.6": "nva"}
    finally:
        m.close_session()


# -- security --------------------------------------------------------------

def test_socket_dir_permissions(env):
    # operators and readers reach the socket; who is who is the socket
    # peer's uid (the SIL checks it), what they may do is NACM's
    st = os.stat(env.sock)
    assert st.st_uid == 0 and st.st_gid == 0
    assert st.st_mode & 0o777 == 0o711


def test_other_user_gets_nothing_on_socket(env):
    """A user in no NETCONF group reaches the socket, but the SIL closes
    its session before any operation (more in test_netconf_nacm.py)."""
    from test_netconf_nacm import GET_CONFIG, rpc, socket_session
    out = socket_session(env, OTHER, OTHER, [rpc(1, GET_CONFIG)])
    assert "rpc-reply" not in out and "<data" not in out, out
    # while a member of the operators group gets the data
    out = socket_session(env, OPER, OPER, [rpc(1, GET_CONFIG)])
    assert "<data" in out and "route-server" in out, out


def test_other_user_cannot_ssh(env):
    from ncclient.transport.errors import AuthenticationError
    with pytest.raises(AuthenticationError):
        env.connect(OTHER)


def test_no_password_auth(env):
    r = subprocess.run(
        ["ssh", "-p", str(env.port), "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no",
         "-o", "UserKnownHostsFile=/dev/null", "-o", "PreferredAuthentications=password",
         "%s@127.0.0.1" % OPER, "true"], capture_output=True, text=True, timeout=20)
    assert r.returncode != 0 and "Permission denied" in r.stderr


def test_listens_on_loopback_only(env):
    pids = {str(p.pid) for p in env.procs.values()}
    out = run("ss", "-Hltnup").stdout
    mine = [l for l in out.splitlines()
            if any("pid=%s," % p in l for p in pids) or ":%d " % env.port in l]
    assert mine, out
    for line in mine:
        local = line.split()[4]
        assert local.startswith("127.0.0.1:"), line
    # netconfd itself has no TCP/UDP socket at all
    np = str(env.procs["netconfd"].pid)
    assert not [l for l in out.splitlines() if "pid=%s," % np in l]


# -- --target=running (RS_NC_TARGET=running) -------------------------------
# A second, independent bgpd + netconfd + sshd; netconfd has no candidate
# and edit-config writes straight to running. The SIL runs the same checks
# and the same apply + write memory from its edit callbacks.

@pytest.fixture(scope="module")
def env_running():
    yield from started_env("running")


@pytest.fixture
def ncr(env_running):
    m = env_running.connect()
    yield m
    try:
        m.close_session()
    except Exception:
        pass


def test_running_target_has_no_candidate(ncr):
    caps = " ".join(ncr.server_capabilities)
    assert ":writable-running" in caps
    assert ":candidate" not in caps


def test_running_target_edit_applies(env_running, ncr):
    e = env_running
    assert roles(ncr)["default"] == (False, {"10.0.0.2": "nva",
                                             "10.0.0.3": "gateway-expressroute"})
    ncr.edit_config(target="running", config=cfg(inst(
        "<branch-to-branch>true</branch-to-branch>" + neigh("10.0.0.6", "nva"))))
    j = e.rs_json()
    assert j["neighbors"]["10.0.0.6"]["role"] == "nva"
    assert j["branchToBranch"] is True
    assert roles(ncr)["default"] == (True, {"10.0.0.2": "nva", "10.0.0.6": "nva",
                                            "10.0.0.3": "gateway-expressroute"})
    with open(os.path.join(e.bgp, "bgpd.conf")) as f:
        saved = f.read()
    assert " neighbor 10.0.0.6 route-server role nva\n" in saved
    # the same edit again changes nothing (no write memory)
    st = os.stat(os.path.join(e.bgp, "bgpd.conf")).st_mtime_ns
    ncr.edit_config(target="running", config=cfg(inst(neigh("10.0.0.6", "nva"))))
    assert os.stat(os.path.join(e.bgp, "bgpd.conf")).st_mtime_ns == st
    # delete + b2b off in one edit
    ncr.edit_config(target="running", config=cfg(inst(
        "<branch-to-branch>false</branch-to-branch>" + neigh("10.0.0.6", op="delete"))))
    j = e.rs_json()
    assert "10.0.0.6" not in j["neighbors"] and j["branchToBranch"] is False


def test_running_target_unknown_neighbor_rejected(env_running, ncr):
    e = env_running
    before = e.vtysh("show running-config")
    roles_before = roles(ncr)
    expect_error(lambda: ncr.edit_config(target="running", config=cfg(
        inst(neigh("10.9.9.9", "nva")))),
        path_part="frr-bgp-rs:neighbor[frr-bgp-rs:name='10.9.9.9']",
        msg_part="neighbor 10.9.9.9 does not exist")
    assert e.vtysh("show running-config") == before
    assert roles(ncr) == roles_before
    assert "10.9.9.9" not in roles(ncr)["default"][1]


def test_running_target_active_active_rule(env_running, ncr):
    e = env_running
    before = e.vtysh("show running-config")
    expect_error(lambda: ncr.edit_config(target="running", config=cfg(inst(
        "<branch-to-branch>true</branch-to-branch>" + neigh("10.0.0.4", "gateway-vpn")))),
        path_part="/frr-bgp-rs:branch-to-branch", msg_part="1 configured")
    assert e.vtysh("show running-config") == before
    assert "10.0.0.4" not in roles(ncr)["default"][1]
