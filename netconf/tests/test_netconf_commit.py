# SPDX-License-Identifier: GPL-2.0-or-later
"""
All-or-nothing apply and confirmed commit (RFC 6241 8.4) against a real
bgpd:

- a commit whose apply to bgpd fails part-way (a command refused after
  others went through) leaves bgpd, its saved config and running exactly
  as before; the client gets an rpc-error naming the failing command. The
  failure is made by vtysh-inject-failure.sh, which runs the real vtysh
  with one command made invalid, so the commands before it really change
  bgpd first;
- <commit><confirmed/> applies at once; without a confirming commit
  before the timeout (or on <cancel-commit>, or when the session that
  made it ends) netconfd rolls running back and bgpd's roles, flag and
  saved config follow; a confirming commit keeps the change;
- two route servers changed together: confirmed on both, confirmed only
  if both took it, so a change refused by one is rolled back on the other.
"""

import os
import time

import pytest
from ncclient.operations import RPCError

from test_netconf import (
    BGPD_CONF, NCDIR, VTYSH, Env, cfg, expect_error, inst, neigh, roles,
    started_env, wait_for)

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root")

WRAPPER = os.path.join(NCDIR, "tests", "vtysh-inject-failure.sh")


def rs_lines(env):
    """bgpd's route-server lines, with the router bgp line they are in."""
    out, head = [], None
    for line in env.vtysh("show running-config").splitlines():
        if line.startswith("router bgp"):
            head = line
        elif "route-server" in line:
            out.append((head, line.strip()))
    return out


def saved_lines(env):
    with open(os.path.join(env.bgp, "bgpd.conf")) as f:
        return [l.strip() for l in f if "route-server" in l]


def wrapped_env():
    """An Env whose netconfd runs vtysh through vtysh-inject-failure.sh."""
    e = Env()
    e.fail_file = os.path.join(e.bgp, "fail-line")
    e.env.update(FRR_RS_VTYSH=WRAPPER, RS_TEST_REAL_VTYSH=VTYSH,
                 RS_TEST_FAIL_FILE=e.fail_file)
    return e


def inject(env, line):
    with open(env.fail_file, "w") as f:
        f.write(line or "")
    if os.path.exists(env.fail_file + ".log"):
        os.unlink(env.fail_file + ".log")


def vtysh_calls(env):
    if not os.path.exists(env.fail_file + ".log"):
        return []
    with open(env.fail_file + ".log") as f:
        return f.read().splitlines()


@pytest.fixture(scope="module")
def env():
    yield from started_env("candidate", make=wrapped_env)


@pytest.fixture
def nc(env):
    inject(env, None)
    m = env.connect()
    m.discard_changes()
    yield m
    inject(env, None)
    try:
        m.discard_changes()
        m.close_session()
    except Exception:
        pass


# the change used below: from BGPD_CONF's roles (10.0.0.2 nva,
# 10.0.0.3 gateway-expressroute, no flag) to these
CHANGE = inst(
    '<branch-to-branch>true</branch-to-branch>'
    '<routing-preference>as-path</routing-preference>'
    + neigh("10.0.0.2", op="remove")
    + neigh("10.0.0.4", "nva") + neigh("10.0.0.3", "gateway-vpn"))
CHANGED = [
    ("router bgp 65515", "neighbor 10.0.0.3 route-server role gateway vpn"),
    ("router bgp 65515", "neighbor 10.0.0.4 route-server role nva"),
    ("router bgp 65515", "bgp route-server branch-to-branch"),
    ("router bgp 65515", "bgp route-server routing-preference as-path"),
]


def assert_original(env, m, before, saved):
    assert rs_lines(env) == before
    assert saved_lines(env) == saved
    assert roles(m)["default"] == (False, {"10.0.0.2": "nva",
                                           "10.0.0.3": "gateway-expressroute"})


def assert_original_in_new_session(env, before, saved):
    m = env.connect()
    try:
        assert_original(env, m, before, saved)
    finally:
        m.close_session()


def commit_back(env, nc, before, saved):
    """An ordinary commit from CHANGE back to BGPD_CONF's roles."""
    nc.edit_config(target="candidate", config=cfg(inst(
        '<branch-to-branch>false</branch-to-branch>'
        '<routing-preference nc:operation="remove"/>'
        + neigh("10.0.0.4", op="remove") + neigh("10.0.0.2", "nva")
        + neigh("10.0.0.3", "gateway-expressroute"))))
    nc.commit()
    assert_original(env, nc, before, saved)


def test_failure_partway_leaves_bgpd_as_before(env, nc):
    before, saved = rs_lines(env), saved_lines(env)
    assert ("router bgp 65515", "neighbor 10.0.0.2 route-server role nva") in before
    # the last command of the list fails: the role changes and the flag
    # before it have been applied by bgpd by then
    inject(env, "bgp route-server routing-preference as-path")
    nc.edit_config(target="candidate", config=cfg(CHANGE))
    e = expect_error(nc.commit, msg_part='"bgp route-server routing-preference as-path"')
    assert e.app_tag == "bgpd-apply-failed", e.app_tag
    assert "was restored" in e.message, e.message
    # bgpd really took the first commands: the restore had to undo them
    calls = vtysh_calls(env)
    failed = [c for c in calls if "routing-preference as-path" in c]
    assert failed and "-c neighbor 10.0.0.4 route-server role nva" in failed[0], calls
    undo = [c for c in calls[calls.index(failed[0]) + 1:]
            if "no neighbor 10.0.0.4 route-server role" in c]
    assert undo and "neighbor 10.0.0.2 route-server role nva" in undo[0], calls
    assert not any("write memory" in c for c in calls), calls
    assert_original(env, nc, before, saved)
    # the candidate keeps the edit: fixed, the same commit goes through
    inject(env, None)
    nc.commit()
    assert [l for l in rs_lines(env) if l[0] == "router bgp 65515"] == CHANGED
    inject(env, None)
    commit_back(env, nc, before, saved)


def test_failure_in_second_instance_restores_the_first(env, nc):
    before, saved = rs_lines(env), saved_lines(env)
    inject(env, "neighbor 10.9.0.2 route-server role nva")
    nc.edit_config(target="candidate", config=cfg(
        inst(neigh("10.0.0.4", "nva"))
        + inst(neigh("10.9.0.2", "nva"), vrf="blue")))
    e = expect_error(nc.commit, msg_part='"neighbor 10.9.0.2 route-server role nva" (vrf blue)')
    assert "was restored" in e.message
    calls = vtysh_calls(env)
    assert any("-c neighbor 10.0.0.4 route-server role nva" in c for c in calls)
    assert any("-c no neighbor 10.0.0.4 route-server role" in c for c in calls)
    assert_original(env, nc, before, saved)
    assert "blue" not in roles(nc)


def test_confirmed_commit_times_out_and_bgpd_follows(env, nc):
    before, saved = rs_lines(env), saved_lines(env)
    nc.edit_config(target="candidate", config=cfg(CHANGE))
    nc.commit(confirmed=True, timeout="4")
    # applied at once, but not saved: a bgpd restart meanwhile drops it
    assert [l for l in rs_lines(env) if l[0] == "router bgp 65515"] == CHANGED
    assert saved_lines(env) == saved
    assert roles(nc)["default"][0] is True
    t0 = time.time()
    wait_for(lambda: rs_lines(env) == before, timeout=30,
             what="bgpd rolled back after the confirm timeout")
    assert time.time() - t0 >= 2
    assert saved_lines(env) == saved
    wait_for(lambda: roles(nc)["default"] == (
        False, {"10.0.0.2": "nva", "10.0.0.3": "gateway-expressroute"}),
        what="running rolled back")
    assert env.rs_json()["routingPreference"] == "expressroute"
    assert env.rs_json()["branchToBranch"] is False


def test_confirmed_commit_confirmed_stays(env, nc):
    before, saved = rs_lines(env), saved_lines(env)
    nc.edit_config(target="candidate", config=cfg(CHANGE))
    nc.commit(confirmed=True, timeout="4")
    assert saved_lines(env) == saved
    nc.commit()  # the confirming commit: now saved
    assert "bgp route-server branch-to-branch" in saved_lines(env)
    time.sleep(8)
    assert [l for l in rs_lines(env) if l[0] == "router bgp 65515"] == CHANGED
    assert "bgp route-server branch-to-branch" in saved_lines(env)
    # back by an ordinary commit
    commit_back(env, nc, before, saved)


def test_cancel_commit_rolls_bgpd_back(env, nc):
    before, saved = rs_lines(env), saved_lines(env)
    nc.edit_config(target="candidate", config=cfg(CHANGE))
    nc.commit(confirmed=True, timeout="600")
    assert rs_lines(env) != before
    nc.cancel_commit()
    wait_for(lambda: rs_lines(env) == before, what="bgpd rolled back")
    assert_original(env, nc, before, saved)


def test_session_end_rolls_bgpd_back(env):
    before, saved = rs_lines(env), saved_lines(env)
    m = env.connect()
    m.edit_config(target="candidate", config=cfg(CHANGE))
    m.commit(confirmed=True, timeout="600")
    assert rs_lines(env) != before
    m.close_session()  # not persistent: the change ends with the session
    wait_for(lambda: rs_lines(env) == before, what="bgpd rolled back")
    assert_original_in_new_session(env, before, saved)


def test_commit_keeps_a_cli_change_made_meanwhile(env, nc):
    """A role set with vtysh while the candidate has uncommitted edits
    (so running has not taken it from bgpd yet): a commit changes only
    what it changes, the vtysh role stays in bgpd, then in running."""
    before = rs_lines(env)
    nc.edit_config(target="candidate", config=cfg(inst(
        "<branch-to-branch>true</branch-to-branch>")))
    env.vtysh("configure terminal", "router bgp 65515",
              "neighbor 10.0.0.5 route-server role nva")
    time.sleep(5)  # the sync waits while the candidate has edits
    assert "10.0.0.5" not in roles(nc)["default"][1]
    nc.commit()
    lines = rs_lines(env)
    assert ("router bgp 65515", "bgp route-server branch-to-branch") in lines
    assert ("router bgp 65515", "neighbor 10.0.0.5 route-server role nva") in lines
    # netconfd's timers only run when it has been idle ~2 s: poll slowly
    wait_for(lambda: roles(nc)["default"][1].get("10.0.0.5") == "nva",
             timeout=40, interval=4, what="running takes the vtysh role from bgpd")
    nc.edit_config(target="candidate", config=cfg(inst(
        "<branch-to-branch>false</branch-to-branch>"
        + neigh("10.0.0.5", op="remove"))))
    nc.commit()
    assert rs_lines(env) == before


def test_commit_of_another_session_during_confirmed_commit(env, nc):
    """While session A's confirmed commit is pending, netconfd refuses
    session B's <commit> (in-use): bgpd must not take it either, not even
    for the time until the next sync."""
    before = rs_lines(env)
    nc.edit_config(target="candidate", config=cfg(inst(neigh("10.0.0.4", "nva"))))
    nc.commit(confirmed=True, timeout="600")
    b = env.connect()
    try:
        b.edit_config(target="candidate", config=cfg(inst(neigh("10.0.0.5", "nva"))))
        e = expect_error(b.commit, tag="in-use")
        assert "10.0.0.5 route-server" not in env.vtysh("show running-config")
        b.discard_changes()
        time.sleep(5)  # two sync periods: bgpd -> running must not add it
        assert "10.0.0.5 route-server" not in env.vtysh("show running-config")
        assert "10.0.0.5" not in roles(b)["default"][1]
    finally:
        b.close_session()
    nc.cancel_commit()
    wait_for(lambda: rs_lines(env) == before, what="bgpd rolled back")
    assert e.tag == "in-use"


def test_failed_rollback_is_retried(env, nc):
    """bgpd refuses the rollback of a cancelled confirmed commit: running
    (restored by netconfd) is not overwritten by bgpd's state, and the
    rollback is retried until bgpd takes it."""
    before, saved = rs_lines(env), saved_lines(env)
    nc.edit_config(target="candidate", config=cfg(CHANGE))
    nc.commit(confirmed=True, timeout="600")
    inject(env, "neighbor 10.0.0.2 route-server role nva")
    nc.cancel_commit()
    time.sleep(6)  # several sync periods with the rollback failing
    assert [l for l in rs_lines(env) if l[0] == "router bgp 65515"] == CHANGED
    assert roles(nc)["default"] == (
        False, {"10.0.0.2": "nva", "10.0.0.3": "gateway-expressroute"})
    assert sum("-c neighbor 10.0.0.2 route-server role nva" in c
               for c in vtysh_calls(env)) >= 2, vtysh_calls(env)
    inject(env, None)
    wait_for(lambda: rs_lines(env) == before, timeout=30,
             what="bgpd rolled back once it accepts")
    assert_original(env, nc, before, saved)


def test_netconfd_killed_before_confirmation_rolls_back_at_restart(env):
    """netconfd dies (SIGKILL) with a confirmed commit pending: its next
    start undoes the change in bgpd, as netconfd's own running would
    come back without it."""
    before, saved = rs_lines(env), saved_lines(env)
    m = env.connect()
    m.edit_config(target="candidate", config=cfg(CHANGE))
    m.commit(confirmed=True, timeout="600", persist="rs-test")
    assert [l for l in rs_lines(env) if l[0] == "router bgp 65515"] == CHANGED
    p = env.procs.pop("netconfd")
    p.kill()
    p.wait(10)
    assert rs_lines(env) != before  # bgpd keeps it while netconfd is down
    env.start_netconfd()
    wait_for(lambda: rs_lines(env) == before, what="bgpd rolled back at start")
    assert_original_in_new_session(env, before, saved)


def test_two_route_servers_both_or_neither(env, nc):
    """A change for a pair of route servers: confirmed commit on both,
    confirm only when both took it. The second refuses it (neighbor it
    does not have), so the first is left unconfirmed and rolls back."""
    other = Env(keys=env.keys)  # the same operator, users made by env
    try:
        other.start(BGPD_CONF.replace(" neighbor 10.0.0.4 remote-as 65515\n", ""))
        m2 = other.connect()
        before = rs_lines(env)
        change = cfg(inst(neigh("10.0.0.4", "nva")))
        nc.edit_config(target="candidate", config=change)
        nc.commit(confirmed=True, timeout="4")
        assert ("router bgp 65515", "neighbor 10.0.0.4 route-server role nva") in rs_lines(env)
        m2.edit_config(target="candidate", config=change)
        expect_error(m2.commit, msg_part="neighbor 10.0.0.4 does not exist")
        # no confirming commit on the first: it rolls back by itself
        wait_for(lambda: rs_lines(env) == before, timeout=30,
                 what="first route server rolled back")
        m2.discard_changes()
        m2.close_session()
    finally:
        other.close()  # leaves the users and keys it shares with env


def test_running_target_failure_partway():
    """--target=running: the same all-or-nothing for an edit-config."""
    e = wrapped_env()
    try:
        e.start(target="running")
        m = e.connect()
        before, saved = rs_lines(e), saved_lines(e)
        inject(e, "bgp route-server branch-to-branch")
        err = expect_error(lambda: m.edit_config(target="running", config=cfg(inst(
            '<branch-to-branch>true</branch-to-branch>'
            + neigh("10.0.0.4", "nva")))),
            msg_part='"bgp route-server branch-to-branch"')
        assert err.app_tag == "bgpd-apply-failed"
        assert "was restored" in err.message
        assert any("-c no neighbor 10.0.0.4 route-server role" in c
                   for c in vtysh_calls(e))
        assert_original(e, m, before, saved)
        inject(e, None)
        m.edit_config(target="running", config=cfg(inst(
            '<branch-to-branch>true</branch-to-branch>' + neigh("10.0.0.4", "nva"))))
        assert ("router bgp 65515", "bgp route-server branch-to-branch") in rs_lines(e)
        m.close_session()
    finally:
        e.close()
