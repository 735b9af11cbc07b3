# SPDX-License-Identifier: GPL-2.0-or-later
"""
netconfd (with the frr-bgp-route-server SIL) killed with SIGKILL under its
supervisor, scripts/netconfd-supervise.sh (what watchfrr is to bgpd): the
supervisor starts it again with the same settings, after a back-off the
test sets to 3 s so that a change can be made in bgpd while netconfd is
down. sshd and bgpd keep running.

After the restart NETCONF running (and candidate) equal bgpd's
route-server config, including the change made in bgpd while netconfd was
down; a lock and uncommitted candidate edits held at the crash are gone;
the next edit-config + commit reaches bgpd and its saved config. A second
crash right after a commit loses nothing; SIGTERM to the supervisor stops
netconfd for good.
"""

import os
import signal
import subprocess
import time

import pytest

from test_netconf import cfg, inst, neigh, roles, started_env, wait_for

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root")
BACKOFF = 3  # s, the supervisor's first restart interval here


@pytest.fixture(scope="module")
def env():
    os.environ["RS_NC_MIN_RESTART_INTERVAL"] = str(BACKOFF)
    try:
        yield from started_env("candidate", supervised=True)
    finally:
        del os.environ["RS_NC_MIN_RESTART_INTERVAL"]


def bgpd_roles(env):
    """{vrf: (b2b, {name: role})} of bgpd's configured roles, in the shape
    of roles(): neighbors with their own role, and peer-groups."""
    j = env.rs_json()
    names = {n: v["role"] for n, v in j["neighbors"].items() if "roleInheritedFrom" not in v}
    names.update({pg: v["role"] for pg, v in j.get("peerGroups", {}).items()})
    return {"default": (j["branchToBranch"], names)}


def netconfd_pid_of(sup):
    out = subprocess.run(["pgrep", "-P", str(sup), "-x", "netconfd"],
                         capture_output=True, text=True).stdout.split()
    return int(out[0]) if out else None


def netconfd_pid(env):
    """pid of the netconfd the supervisor runs (netconfd-start.sh execs
    it), None while there is none."""
    return netconfd_pid_of(env.procs["netconfd"].pid)


def connect_when_up(env, timeout=30):
    end = time.time() + timeout
    while True:
        try:
            return env.connect()
        except Exception:
            if time.time() > end:
                raise
            time.sleep(0.3)


def supervisor_log(env):
    with open(os.path.join(env.bgp, "netconfd.out")) as f:
        return f.read()


def kill9_and_restart(env, while_down=None):
    """SIGKILL netconfd, run while_down() while it is down, let the
    supervisor start it again; returns a session to the new netconfd and
    the seconds from the kill to its first get-config."""
    pid = netconfd_pid(env)
    assert pid, "no netconfd under the supervisor"
    t0 = time.time()
    os.kill(pid, signal.SIGKILL)
    wait_for(lambda: not os.path.exists("/proc/%d" % pid), what="netconfd gone")
    if while_down:
        while_down()
        assert netconfd_pid(env) is None, "netconfd back before the change in bgpd"
    wait_for(lambda: netconfd_pid(env) not in (None, pid), timeout=BACKOFF + 15,
             what="netconfd restarted by its supervisor")
    m = connect_when_up(env)
    roles(m)
    assert "(pid %d) killed by signal 9; restarting" % pid in supervisor_log(env)
    return m, time.time() - t0


def test_kill9_restart_agrees_with_bgpd(env):
    m = env.connect()
    m.edit_config(target="candidate", config=cfg(inst(
        "<branch-to-branch>true</branch-to-branch>" + neigh("10.0.0.4", "gateway-vpn")
        + neigh("10.0.0.5", "gateway-vpn") + neigh("PG", "nva"))))
    m.commit()
    assert roles(m) == bgpd_roles(env)
    # at the crash: a lock and an uncommitted edit of the candidate
    m.lock("candidate")
    m.edit_config(target="candidate", config=cfg(inst(neigh("10.0.0.6", "nva"))))

    def cli_change():
        # bgpd changes while netconfd is down: bgpd is authoritative
        env.vtysh("configure terminal", "router bgp 65515",
                  "neighbor 10.0.0.6 route-server role gateway expressroute",
                  "no neighbor 10.0.0.2 route-server role")

    m2, secs = kill9_and_restart(env, cli_change)
    try:
        print("netconfd kill -9 to first get-config after restart: %.2f s" % secs)
        expected = {"default": (True, {"10.0.0.3": "gateway-expressroute",
                                       "10.0.0.4": "gateway-vpn", "10.0.0.5": "gateway-vpn",
                                       "10.0.0.6": "gateway-expressroute", "PG": "nva"})}
        assert bgpd_roles(env) == expected
        assert roles(m2) == expected
        assert roles(m2, "candidate") == expected
        # no stale lock from the killed server
        m2.lock("candidate")
        m2.unlock("candidate")
    finally:
        m2.close_session()
    try:
        m.close_session()  # its server is gone
    except Exception:
        pass


def test_edit_commit_after_restart(env):
    m = env.connect()
    try:
        m.edit_config(target="candidate", config=cfg(inst(
            "<branch-to-branch>false</branch-to-branch>" + neigh("10.0.0.2", "nva")
            + neigh("10.0.0.6", op="delete"))))
        m.commit()
        j = env.rs_json()
        assert j["branchToBranch"] is False
        assert j["neighbors"]["10.0.0.2"]["role"] == "nva"
        assert "10.0.0.6" not in j["neighbors"]
        assert roles(m) == bgpd_roles(env)
        with open(os.path.join(env.bgp, "bgpd.conf")) as f:
            saved = f.read()
        assert " neighbor 10.0.0.2 route-server role nva\n" in saved
        assert "10.0.0.6 route-server" not in saved
        assert "branch-to-branch" not in saved
    finally:
        m.close_session()


def test_second_kill9_loses_nothing(env):
    """A second crash right after a commit: nothing committed is lost,
    since bgpd and its saved config hold it."""
    before = bgpd_roles(env)
    m, _ = kill9_and_restart(env)
    try:
        assert roles(m) == before
        m.edit_config(target="candidate", config=cfg(inst(neigh("10.0.0.6", "nva"))))
        m.commit()
        assert env.rs_json()["neighbors"]["10.0.0.6"]["role"] == "nva"
    finally:
        m.close_session()


def test_supervisor_stop_is_final(env):
    """SIGTERM to the supervisor (systemd's stop, an operator's kill)
    stops netconfd and is not answered with a restart."""
    sup = env.procs.pop("netconfd")
    pid = netconfd_pid_of(sup.pid)
    assert pid
    sup.terminate()
    assert sup.wait(15) == 0
    assert not os.path.exists("/proc/%d" % pid)
    assert "netconfd stopped (pid %d)" % pid in supervisor_log(env)
    time.sleep(BACKOFF + 1)
    # no netconfd of this server (its socket path is on the command line)
    assert not subprocess.run(["pgrep", "-f", env.sock], capture_output=True).stdout
