# SPDX-License-Identifier: GPL-2.0-or-later
"""
netconfd (with the frr-bgp-route-server SIL) killed with SIGKILL and
started again. The project has no supervisor for it yet (no systemd unit,
see netconf/README.md), so the test restarts it as an operator or a
supervisor's Restart=on-failure would: it runs scripts/netconfd-start.sh
again with the same settings. sshd and bgpd keep running.

After the restart NETCONF running (and candidate) equal bgpd's
route-server config, including a change made in bgpd while netconfd was
down; a lock and uncommitted candidate edits held at the crash are gone;
the next edit-config + commit reaches bgpd and its saved config.
"""

import os
import signal
import time

import pytest

from test_netconf import cfg, inst, neigh, roles, started_env

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root")


@pytest.fixture(scope="module")
def env():
    yield from started_env("candidate")


def bgpd_roles(env):
    """{vrf: (b2b, {name: role})} of bgpd's configured roles, in the shape
    of roles(): neighbors with their own role, and peer-groups."""
    j = env.rs_json()
    names = {n: v["role"] for n, v in j["neighbors"].items() if "roleInheritedFrom" not in v}
    names.update({pg: v["role"] for pg, v in j.get("peerGroups", {}).items()})
    return {"default": (j["branchToBranch"], names)}


def netconfd_pid(env):
    pid = env.procs["netconfd"].pid
    with open("/proc/%d/comm" % pid) as f:
        # netconfd-start.sh execs netconfd: the child is netconfd itself
        assert f.read().strip() == "netconfd"
    return pid


def kill9_and_restart(env, while_down=None):
    """SIGKILL netconfd, run while_down(), start it again; returns the
    seconds from the kill to the first get-config of a new session."""
    pid = netconfd_pid(env)
    p = env.procs.pop("netconfd")
    t0 = time.time()
    os.kill(pid, signal.SIGKILL)
    assert p.wait(10) == -signal.SIGKILL
    assert not os.path.exists("/proc/%d" % pid)
    if while_down:
        while_down()
    env.start_netconfd()
    m = env.connect()
    roles(m)
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
