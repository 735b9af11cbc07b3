# SPDX-License-Identifier: GPL-2.0-or-later
"""
NETCONF notifications (RFC 5277) of frr-bgp-route-server, received with
ncclient after <create-subscription>: warning-raised / warning-cleared,
neighbor-session (a role neighbor's session up and down) and
config-changed (branch-to-branch, routing preference and roles changed with
vtysh; none for changes committed through NETCONF).

The route server's bgpd (Env's, no listening port) has a real eBGP session
to a second bgpd on 127.0.0.2 that listens on a free port (passive), so
the NVA neighbor's session can go down and up (neighbor shutdown).
"""

import os
import shutil
import signal
import subprocess
import tempfile
import time
import xml.etree.ElementTree as ET

import pytest

from test_netconf import BGPD, NCDIR, NS, OPER, Env, cfg, free_port, inst, neigh, run, wait_for

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root")

INTERVAL = 1  # FRR_RS_EVENT_INTERVAL for these tests (default 2)
PEER = "127.0.0.2"
RR_WARNING = ("neighbor 10.0.0.3 (gateway expressroute) is iBGP but not a "
              "route-reflector-client in ipv4 unicast: it receives no iBGP-learned routes")

RS_CONF = """\
router bgp 65515
 bgp router-id 10.0.0.1
 no bgp ebgp-requires-policy
 neighbor {peer} remote-as 65001
 neighbor {peer} port {port}
 neighbor {peer} timers connect 1
 neighbor 10.0.0.3 remote-as 65515
 neighbor 10.0.0.4 remote-as 65515
 neighbor 10.0.0.5 remote-as 65515
 neighbor {peer} route-server role nva
 neighbor 10.0.0.3 route-server role gateway expressroute
exit
"""

PEER_CONF = """\
router bgp 65001
 bgp router-id 10.0.0.9
 no bgp ebgp-requires-policy
 neighbor 127.0.0.1 remote-as 65515
 neighbor 127.0.0.1 passive
exit
"""


class Peer:
    """A second bgpd: the NVA, listening on 127.0.0.2:port."""

    def __init__(self, port):
        self.port = port
        self.dir = tempfile.mkdtemp(prefix="rs-nc-peer-")
        with open(os.path.join(self.dir, "bgpd.conf"), "w") as f:
            f.write(PEER_CONF)
        open(os.path.join(self.dir, "vtysh.conf"), "a").close()
        for name in os.listdir(self.dir):
            shutil.chown(os.path.join(self.dir, name), "frr", "frr")
        shutil.chown(self.dir, "frr", "frr")
        os.chmod(self.dir, 0o755)
        self.pidfile = os.path.join(self.dir, "bgpd.pid")
        subprocess.run(
            [BGPD, "-d", "-Z", "-p", str(port), "-l", PEER,
             "-f", os.path.join(self.dir, "bgpd.conf"), "--vty_socket", self.dir,
             "-i", self.pidfile, "--log", "file:" + os.path.join(self.dir, "bgpd.log")],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, check=True, timeout=30)

    def close(self):
        try:
            with open(self.pidfile) as f:
                pid = int(f.read())
            os.kill(pid, signal.SIGTERM)
            wait_for(lambda: not os.path.exists("/proc/%d" % pid), what="peer bgpd exit")
        except (OSError, ValueError):
            pass
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture(scope="module")
def env():
    e = Env()
    peer = None
    e.env["FRR_RS_EVENT_INTERVAL"] = str(INTERVAL)
    e.env["FRR_RS_SYNC_INTERVAL"] = "0"  # no drift sync: running stays NETCONF's
    try:
        port = free_port()
        peer = Peer(port)
        e.users()
        e.start_bgpd(RS_CONF.format(peer=PEER, port=port))
        e.start_netconfd()
        e.start_sshd()
        e.install_keys()
        wait_for(lambda: state(e, PEER) == "Established", timeout=30, what="session to the NVA peer")
        yield e
    finally:
        e.close()
        if peer:
            peer.close()


def state(e, name):
    return e.rs_json().get("neighbors", {}).get(name, {}).get("bgpState")


def conf(e, *lines):
    """Configures the route server's bgpd with vtysh (not NETCONF)."""
    args = ["configure terminal", "router bgp 65515"] + list(lines)
    out = e.vtysh(*args)
    # the route server's own "% Warning: ..." is not an error
    assert not [l for l in out.splitlines() if l.startswith("%") and "Warning" not in l], out


@pytest.fixture
def sub(env):
    """An ncclient session with a subscription; yields a Receiver."""
    m = env.connect(OPER)
    m.create_subscription()
    r = Receiver(m)
    yield r
    m.close_session()


class Receiver:
    """Notifications of the module, as (name, {leaf: text}), in order."""

    def __init__(self, m):
        self.m = m
        self.got = []

    def _take(self, timeout):
        n = self.m.take_notification(timeout=timeout)
        if n is None:
            return None
        root = ET.fromstring(n.notification_xml)
        for ch in root:
            if ch.tag.startswith("{%s}" % NS):
                ev = (ch.tag.split("}")[1],
                      {leaf.tag.split("}")[1]: leaf.text for leaf in ch})
                self.got.append(ev)
                return ev
        return ()  # another module's notification (netconfd's own)

    def expect(self, name, timeout=15, **fields):
        """Waits for a notification name whose payload has fields."""
        end = time.time() + timeout
        seen = []
        while time.time() < end:
            ev = self._take(max(0.1, end - time.time()))
            if ev is None:
                break
            if ev and ev[0] == name and all(ev[1].get(k) == v for k, v in fields.items()):
                return ev[1]
            if ev:
                seen.append(ev)
        raise AssertionError("no %s %s within %ss; got %s" % (name, fields, timeout, seen))

    def drain(self, seconds):
        """Everything of the module that arrives within seconds."""
        end = time.time() + seconds
        out = []
        while time.time() < end:
            ev = self._take(max(0.1, end - time.time()))
            if ev:
                out.append(ev)
        return out


# -- tests -----------------------------------------------------------------

def test_event_comparison_unit(tmp_path):
    """rs_events.c on its own (tests/rs_events_check.c), with ASan/UBSan/LSan:
    instances appearing and going, state changes between non-Established
    states, new neighbors, several changes in one poll."""
    exe = str(tmp_path / "rs_events_check")
    sil = os.path.join(NCDIR, "sil")
    flags = run("pkg-config", "--cflags", "--libs", "json-c").stdout.split()
    run("gcc", "-O1", "-g", "-Wall", "-Wextra", "-Werror", "-fsanitize=address,undefined",
        "-fno-sanitize-recover=all", "-I" + sil, "-o", exe,
        os.path.join(NCDIR, "tests", "rs_events_check.c"),
        os.path.join(sil, "rs_events.c"), os.path.join(sil, "rs_frr.c"),
        os.path.join(sil, "rs_frr_apply.c"), *flags)
    r = run(exe, check=False)
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.count("ok   ") == 8 and "FAIL" not in r.stdout, r.stdout


def test_yang_has_the_notifications(env):
    with env.connect(OPER) as m:
        assert "urn:ietf:params:netconf:capability:notification:1.0" in m.server_capabilities
        assert any(NS in c and "revision=2026-12-01" in c for c in m.server_capabilities)
    # bgpd (libyang) loaded the same revision, notifications and all
    out = env.vtysh("show yang module bgpd")
    assert "frr-bgp-route-server" in out and "2026-12-01" in out, out


def test_warning_cleared_and_raised(env, sub):
    """10.0.0.3 (ExpressRoute gateway, iBGP) is not a route-reflector-client:
    the warning is there at start (no notification for it), goes when it
    becomes a client and comes back when it stops being one."""
    assert RR_WARNING in env.rs_json()["warnings"]
    conf(env, "address-family ipv4 unicast", "neighbor 10.0.0.3 route-reflector-client")
    ev = sub.expect("warning-cleared", warning=RR_WARNING)
    assert ev == {"vrf": "default", "warning": RR_WARNING}
    conf(env, "address-family ipv4 unicast", "no neighbor 10.0.0.3 route-reflector-client")
    ev = sub.expect("warning-raised", warning=RR_WARNING)
    assert ev == {"vrf": "default", "warning": RR_WARNING}
    # a route-reflector-client change is no route-server config change
    assert not [e for e in sub.got if e[0] == "config-changed"]


def test_active_active_warning(env, sub):
    """branch-to-branch with an ExpressRoute gateway and one VPN gateway
    session: the active-active warning (config-changed for both changes
    first), cleared when the second VPN session gets its role."""
    conf(env, "neighbor 10.0.0.4 route-server role gateway vpn", "bgp route-server branch-to-branch")
    ev = sub.expect("warning-raised", vrf="default")
    while "active-active" not in ev["warning"]:
        ev = sub.expect("warning-raised", vrf="default")
    assert "1 configured" in ev["warning"]
    warning = ev["warning"]
    conf(env, "neighbor 10.0.0.5 route-server role gateway vpn")
    ev = sub.expect("warning-cleared", warning=warning)
    assert ev["vrf"] == "default"
    changes = {(e[1].get("setting"), e[1].get("neighbor"), e[1].get("new-value"))
               for e in sub.got if e[0] == "config-changed"}
    assert {("branch-to-branch", None, "true"), ("role", "10.0.0.4", "gateway-vpn"),
            ("role", "10.0.0.5", "gateway-vpn")} <= changes
    conf(env, "no bgp route-server branch-to-branch", "no neighbor 10.0.0.4 route-server role",
         "no neighbor 10.0.0.5 route-server role")
    sub.expect("config-changed", setting="role", neighbor="10.0.0.5")


def test_session_down_and_up(env, sub):
    assert state(env, PEER) == "Established"
    conf(env, "neighbor %s shutdown" % PEER)
    ev = sub.expect("neighbor-session", neighbor=PEER)
    assert ev["vrf"] == "default" and ev["role"] == "nva"
    assert (ev["old-status"], ev["new-status"]) == ("up", "down")
    assert ev["old-session-state"] == "Established"
    assert ev["new-session-state"] != "Established" and ev["new-session-state"]
    conf(env, "no neighbor %s shutdown" % PEER)
    ev = sub.expect("neighbor-session", neighbor=PEER, timeout=30)
    assert (ev["old-status"], ev["new-status"]) == ("down", "up")
    assert ev["new-session-state"] == "Established" and ev["role"] == "nva"
    # exactly one notification per transition
    assert [e[1]["new-status"] for e in sub.got if e[0] == "neighbor-session"] == ["down", "up"]


def test_config_changed_b2b_from_cli(env, sub):
    conf(env, "bgp route-server branch-to-branch")
    ev = sub.expect("config-changed", setting="branch-to-branch")
    assert ev == {"vrf": "default", "setting": "branch-to-branch",
                  "old-value": "false", "new-value": "true", "source": "cli"}
    conf(env, "no bgp route-server branch-to-branch")
    ev = sub.expect("config-changed", setting="branch-to-branch")
    assert (ev["old-value"], ev["new-value"]) == ("true", "false")


def test_config_changed_role_from_cli(env, sub):
    conf(env, "neighbor %s route-server role gateway vpn" % PEER)
    ev = sub.expect("config-changed", setting="role", neighbor=PEER)
    assert ev == {"vrf": "default", "setting": "role", "neighbor": PEER,
                  "old-value": "nva", "new-value": "gateway-vpn", "source": "cli"}
    conf(env, "neighbor %s route-server role nva" % PEER)
    ev = sub.expect("config-changed", setting="role", neighbor=PEER)
    assert (ev["old-value"], ev["new-value"]) == ("gateway-vpn", "nva")
    # a role given to a neighbor that had none: no old-value
    conf(env, "neighbor 10.0.0.4 route-server role nva")
    ev = sub.expect("config-changed", setting="role", neighbor="10.0.0.4")
    assert "old-value" not in ev and ev["new-value"] == "nva"
    conf(env, "no neighbor 10.0.0.4 route-server role")
    ev = sub.expect("config-changed", setting="role", neighbor="10.0.0.4")
    assert ev["old-value"] == "nva" and "new-value" not in ev


def test_config_changed_preference_from_cli(env, sub):
    conf(env, "bgp route-server routing-preference as-path")
    ev = sub.expect("config-changed", setting="routing-preference")
    assert (ev["old-value"], ev["new-value"], ev["source"]) == ("expressroute", "as-path", "cli")
    conf(env, "no bgp route-server routing-preference")
    ev = sub.expect("config-changed", setting="routing-preference")
    assert (ev["old-value"], ev["new-value"]) == ("as-path", "expressroute")


def test_netconf_commit_sends_no_config_changed(env, sub):
    """Changes committed through NETCONF reach bgpd but send no
    config-changed; a vtysh change right after still does (the poll runs)."""
    with env.connect(OPER) as m:
        m.edit_config(target="candidate", config=cfg(inst(
            "<branch-to-branch>true</branch-to-branch>"
            "<routing-preference>vpn</routing-preference>" + neigh("10.0.0.4", "nva"))))
        m.commit()
        j = env.rs_json()
        assert j["branchToBranch"] is True and j["routingPreference"] == "vpn"
        assert j["neighbors"]["10.0.0.4"]["role"] == "nva"
        events = sub.drain(4 * INTERVAL + 2)
        m.edit_config(target="candidate", config=cfg(inst(
            "<branch-to-branch>false</branch-to-branch>"
            '<routing-preference nc:operation="remove"/>' + neigh("10.0.0.4", op="delete"))))
        m.commit()
        events += sub.drain(4 * INTERVAL + 2)
    assert env.rs_json()["branchToBranch"] is False
    assert not [e for e in events if e[0] == "config-changed"], events
    # the NETCONF role on 10.0.0.4 (iBGP, no route-reflector-client) still
    # raises and clears its warning: warnings are state, whoever made them
    assert [e[0] for e in events if "10.0.0.4" in e[1].get("warning", "")] == \
        ["warning-raised", "warning-cleared"]
    conf(env, "bgp route-server branch-to-branch")
    ev = sub.expect("config-changed", setting="branch-to-branch")
    assert ev["new-value"] == "true"
    conf(env, "no bgp route-server branch-to-branch")
    sub.expect("config-changed", setting="branch-to-branch", **{"new-value": "false"})


def test_replay_from_the_event_log(env):
    """netconfd keeps the notifications: a subscription with startTime
    replays one sent before it existed."""
    start = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 1))
    with env.connect(OPER) as m:
        m.create_subscription()
        conf(env, "bgp route-server routing-preference vpn")
        Receiver(m).expect("config-changed", setting="routing-preference")
    with env.connect(OPER) as m:
        m.create_subscription(start_time=start)
        ev = Receiver(m).expect("config-changed", setting="routing-preference", timeout=5)
        assert (ev["old-value"], ev["new-value"]) == ("expressroute", "vpn")
    conf(env, "no bgp route-server routing-preference")
    with env.connect(OPER) as m:
        m.create_subscription()
        Receiver(m).expect("config-changed", setting="routing-preference",
                           **{"new-value": "expressroute"})


def test_running_target_commit_sends_no_config_changed():
    """--target=running: an edit-config reaches bgpd from the edit
    callbacks; it sends no config-changed either, a vtysh change does."""
    e = Env()
    e.env["FRR_RS_EVENT_INTERVAL"] = str(INTERVAL)
    try:
        e.users()
        e.start_bgpd(RS_CONF.format(peer=PEER, port=free_port()))
        e.start_netconfd(target="running")
        e.start_sshd()
        e.install_keys()
        with e.connect(OPER) as m:
            m.create_subscription()
            sub = Receiver(m)
            m.edit_config(target="running", config=cfg(inst(
                "<branch-to-branch>true</branch-to-branch>" + neigh("10.0.0.5", "nva"))))
            assert e.rs_json()["branchToBranch"] is True
            events = sub.drain(4 * INTERVAL + 2)
            assert not [x for x in events if x[0] == "config-changed"], events
            conf(e, "no bgp route-server branch-to-branch")
            ev = sub.expect("config-changed", setting="branch-to-branch")
            assert (ev["old-value"], ev["new-value"], ev["source"]) == ("true", "false", "cli")
    finally:
        e.close()
