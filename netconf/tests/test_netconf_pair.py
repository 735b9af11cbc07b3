# SPDX-License-Identifier: GPL-2.0-or-later
"""
One change to both route servers of a pair: netconf/examples/rs-pair-commit.py
against two bgpd + netconfd + sshd servers (the Env of test_netconf.py).
The second server has no neighbor 10.0.0.4, so a role for it is refused
there.

- both accept: both keep the change (bgpd, running, saved config), also
  after the confirm timeout has passed;
- the second refuses: the first, which had accepted it, is cancelled and
  rolls back; neither keeps it;
- the first refuses: the second is never changed;
- scripts/rs-pair-check over NETCONF: equal after each of these, a
  difference made on one bgpd (vtysh) is reported.

Run as root: /usr/bin/python3 -m pytest -v netconf/tests/test_netconf_pair.py
"""

import os
import subprocess
import sys
import time

import pytest

from test_netconf import BGPD_CONF, NCDIR, TOP, Env, wait_for

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root")

SCRIPT = os.path.join(NCDIR, "examples", "rs-pair-commit.py")
CHECK = os.path.join(TOP, "scripts", "rs-pair-check")
BGPD_CONF_2 = BGPD_CONF.replace(" neighbor 10.0.0.4 remote-as 65515\n", "")
# an operator and group of this module's own: other NETCONF test modules
# (which may run at the same time on a shared machine) delete theirs
OPER, GROUP = "rsncpair", "frr-rs-ncpair"


def pair_env(keys=None):
    """Env with this module's operator (and no other user); keys: e1's,
    for the same operator and key on both servers."""
    return Env(users=((OPER, [GROUP]),), group=GROUP, own_groups=(GROUP,), keys=keys)


def rs_lines(env):
    out = []
    for line in env.vtysh("show running-config").splitlines():
        if "route-server" in line:
            out.append(line.strip())
    return out


def saved_lines(env):
    with open(os.path.join(env.bgp, "bgpd.conf")) as f:
        return [l.strip() for l in f if "route-server" in l]


@pytest.fixture(scope="module")
def pair():
    e1 = e2 = None
    try:
        e1 = pair_env()
        e1.start(BGPD_CONF)
        e2 = pair_env(keys=e1.keys)  # the same operator and key for both
        e2.start(BGPD_CONF_2)
        yield e1, e2
    finally:
        if e2:
            e2.close()
        if e1:
            e1.close()


def servers(*envs):
    return ["%s@127.0.0.1:%d" % (OPER, e.port) for e in envs]


def run_script(envs, *args, timeout=120):
    keys = envs[0].keys
    r = subprocess.run(
        [sys.executable, SCRIPT, "--key", os.path.join(keys, OPER), "--no-hostkey-verify",
         *args, *servers(*envs)], capture_output=True, text=True, timeout=timeout)
    return r.returncode, r.stdout + r.stderr


def pair_check(e1, e2, *args):
    r = subprocess.run(
        [sys.executable, CHECK, "--names", "rs1,rs2", "--key", os.path.join(e1.keys, OPER),
         "--no-hostkey-verify", *args] + ["netconf:" + s for s in servers(e1, e2)],
        capture_output=True, text=True, timeout=120)
    return r.returncode, r.stdout + r.stderr


ORIGINAL = ["neighbor 10.0.0.2 route-server role nva",
            "neighbor 10.0.0.3 route-server role gateway expressroute"]


def test_both_accept_both_keep(pair):
    e1, e2 = pair
    assert rs_lines(e1) == rs_lines(e2) == ORIGINAL
    rc, out = run_script(pair, "--confirm-timeout", "3", "--branch-to-branch", "on",
                         "--role", "10.0.0.3=gateway-vpn")
    assert rc == 0, out
    assert "all keep the change" in out, out
    want = ["neighbor 10.0.0.2 route-server role nva",
            "neighbor 10.0.0.3 route-server role gateway vpn",
            "bgp route-server branch-to-branch"]
    # the confirm timeout passes: the confirming commit made it stay
    time.sleep(6)
    for e in pair:
        assert sorted(rs_lines(e)) == sorted(want), (e.port, rs_lines(e))
        assert sorted(saved_lines(e)) == sorted(want)
        j = e.rs_json()
        assert j["branchToBranch"] is True
        assert j["neighbors"]["10.0.0.3"]["role"] == "gateway-vpn"
    rc, out = pair_check(e1, e2)
    assert rc == 0, out
    # and back, the same way
    rc, out = run_script(pair, "--branch-to-branch", "off", "--role", "10.0.0.3=gateway-expressroute")
    assert rc == 0, out
    for e in pair:
        assert rs_lines(e) == ORIGINAL


def test_second_refuses_neither_keeps(pair):
    e1, e2 = pair
    # a long confirm timeout: the first rolls back because it is cancelled
    t0 = time.time()
    rc, out = run_script(pair, "--confirm-timeout", "600", "--branch-to-branch", "on",
                         "--role", "10.0.0.4=nva")
    assert rc == 1, out
    s1, s2 = servers(e1, e2)
    assert "%s: accepted" % s1 in out, out
    assert "%s: refused" % s2 in out and "neighbor 10.0.0.4 does not exist" in out, out
    assert "%s: cancelled" % s1 in out, out
    assert "neither keeps the change" in out, out
    wait_for(lambda: rs_lines(e1) == ORIGINAL, timeout=30, what="first server rolled back")
    assert time.time() - t0 < 60
    assert saved_lines(e1) == ORIGINAL
    assert rs_lines(e2) == ORIGINAL and saved_lines(e2) == ORIGINAL
    assert "10.0.0.4" not in e1.rs_json()["neighbors"]
    # the candidates were discarded and unlocked: a next change goes through
    wait_for(lambda: pair_check(e1, e2)[0] == 0, timeout=40, interval=4, what="pair equal again")


def test_first_refuses_second_untouched(pair):
    e1, e2 = pair
    log = os.path.join(e1.bgp, "bgpd.log")
    size = os.path.getsize(log)
    rc, out = run_script((e2, e1), "--confirm-timeout", "600", "--role", "10.0.0.4=nva")
    assert rc == 1, out
    s1, s2 = servers(e1, e2)
    assert "%s: refused" % s2 in out, out
    assert s1 + ": accepted" not in out, out
    assert rs_lines(e1) == ORIGINAL and saved_lines(e1) == ORIGINAL
    assert rs_lines(e2) == ORIGINAL
    # the first server's bgpd was not even asked
    with open(log) as f:
        f.seek(size)
        assert "10.0.0.4" not in f.read()


def test_pair_check_over_netconf(pair):
    e1, e2 = pair
    rc, out = pair_check(e1, e2)
    assert rc == 0 and "agree" in out, out
    # a change behind NETCONF's back, on one server: its periodic sync
    # brings it into running, rs-pair-check reports the difference
    out = e2.vtysh("configure terminal", "router bgp 65515", "bgp route-server branch-to-branch")
    try:
        assert e2.rs_json()["branchToBranch"] is True, out
        try:
            # netconfd's sync timer runs when its loop is idle ~2 s: poll slowly
            wait_for(lambda: pair_check(e1, e2)[0] == 1, timeout=40, interval=4,
                     what="difference seen")
        except AssertionError:
            raise AssertionError(pair_check(e1, e2, "--json")[1])
        rc, out = pair_check(e1, e2)
        assert "% Warning: route servers differ: vrf default: branch-to-branch off at rs1, on at rs2" in out, out
        rc, out = pair_check(e1, e2, "--json")
        assert rc == 1 and '"equal": false' in out, out
    finally:
        e2.vtysh("configure terminal", "router bgp 65515", "no bgp route-server branch-to-branch")
    wait_for(lambda: pair_check(e1, e2)[0] == 0, timeout=40, interval=4, what="equal again")
