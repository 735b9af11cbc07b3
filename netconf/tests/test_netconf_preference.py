# SPDX-License-Identifier: GPL-2.0-or-later
"""
NETCONF and the routing preference (leaf instance/routing-preference,
YANG revision 2026-11-30): edit-config + commit reach bgpd
(`bgp route-server routing-preference X`, `show bgp route-server json`
"routingPreference") and its saved config; the default (expressroute) is
no line in bgpd's config and no leaf in running; bad values and unknown
instances change nothing; running is rebuilt from bgpd (drift, netconfd
restart); the same with RS_NC_TARGET=running. Real routes:
test_netconf_routes.py.
"""

import os
import re
import xml.etree.ElementTree as ET

import pytest

from test_netconf import (  # noqa: F401 (env, nc, env_running, ncr: fixtures)
    FILTER, NCDIR, NS, TOP, YANG, cfg, env, env_running, expect_error, inst, nc, ncr,
    wait_for)

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root")

LINE = " bgp route-server routing-preference "


def pref_leaf(value, op=""):
    attr = ' nc:operation="%s"' % op if op else ""
    return "<routing-preference%s>%s</routing-preference>" % (attr, value)


def prefs(m, source="running"):
    """{vrf: routing-preference} from get-config; None when the leaf is
    not there (the default)."""
    data = ET.fromstring(m.get_config(source, filter=FILTER).data_xml)
    out = {}
    for i in data.iter("{%s}instance" % NS):
        p = i.find("{%s}routing-preference" % NS)
        out[i.find("{%s}vrf" % NS).text] = p.text if p is not None else None
    return out


def config_xml(m, source="running"):
    return m.get_config(source, filter=FILTER).data_xml


def pref_lines(env, vrf=None):
    """bgpd's routing-preference lines in the router bgp block of vrf."""
    text = env.vtysh("show running-config")
    head = "router bgp 65515\n" if vrf is None else "router bgp 65516 vrf %s\n" % vrf
    block = text.split(head, 1)[1].split("\nexit", 1)[0] if head in text else ""
    return [l for l in block.splitlines() if l.startswith(LINE)]


def saved(env):
    with open(os.path.join(env.bgp, "bgpd.conf")) as f:
        return f.read()


def commit_pref(m, value, op="", vrf="default"):
    m.edit_config(target="candidate", config=cfg(inst(pref_leaf(value, op), vrf=vrf)))
    m.commit()


def reset_pref(m):
    m.discard_changes()
    m.edit_config(target="candidate", config=cfg(inst(pref_leaf("", "remove"))))
    m.commit()


@pytest.fixture
def default_pref(env, nc):
    """Every test starts and ends with bgpd and running at the default
    (at the end on a new session: a test may restart netconfd)."""
    reset_pref(nc)
    assert env.rs_json()["routingPreference"] == "expressroute"
    yield
    m = env.connect()
    try:
        reset_pref(m)
    finally:
        m.close_session()


# -- the module revision ------------------------------------------------------

def test_sil_implements_the_newest_revision(nc):
    with open(YANG) as f:
        newest = max(re.findall(r"^\s*revision\s+([0-9-]+)", f.read(), re.M))
    with open(os.path.join(NCDIR, "sil", "frr-bgp-route-server.c")) as f:
        sil = re.search(r'#define REV_STR "([0-9-]+)"', f.read()).group(1)
    assert sil == newest
    assert any(NS in c and "revision=" + newest in c for c in nc.server_capabilities)


# -- candidate + commit -------------------------------------------------------

def test_commit_changes_bgpd(env, nc, default_pref):
    assert prefs(nc) == {"default": None}
    assert pref_lines(env) == []
    nc.edit_config(target="candidate", config=cfg(inst(pref_leaf("vpn"))))
    # candidate only until the commit
    assert prefs(nc, "candidate")["default"] == "vpn"
    assert prefs(nc)["default"] is None
    assert env.rs_json()["routingPreference"] == "expressroute"
    nc.commit()
    assert env.rs_json()["routingPreference"] == "vpn"
    assert pref_lines(env) == [LINE + "vpn"]
    assert LINE + "vpn\n" in saved(env)  # write memory
    assert prefs(nc) == {"default": "vpn"}
    # the other non-default value replaces it
    commit_pref(nc, "as-path")
    assert env.rs_json()["routingPreference"] == "as-path"
    assert pref_lines(env) == [LINE + "as-path"]
    assert prefs(nc) == {"default": "as-path"}


def test_back_to_default_removes_the_line(env, nc, default_pref):
    # explicitly to the default value
    commit_pref(nc, "vpn")
    commit_pref(nc, "expressroute")
    assert env.rs_json()["routingPreference"] == "expressroute"
    assert pref_lines(env) == []
    assert "routing-preference" not in saved(env)
    # basic-mode explicit: yuma123 reports the leaf set to the default when
    # it had another value before (an edit that sets an absent leaf to its
    # default changes nothing, and then get-config has no leaf)
    assert prefs(nc)["default"] == "expressroute"
    # by deleting the leaf
    commit_pref(nc, "as-path")
    assert pref_lines(env) == [LINE + "as-path"]
    commit_pref(nc, "", op="delete")
    assert env.rs_json()["routingPreference"] == "expressroute"
    assert pref_lines(env) == []
    assert "routing-preference" not in saved(env)
    assert prefs(nc)["default"] is None


def test_commit_is_idempotent(env, nc, default_pref):
    commit_pref(nc, "vpn")
    before = saved(env)
    st = os.stat(os.path.join(env.bgp, "bgpd.conf")).st_mtime_ns
    commit_pref(nc, "vpn")  # no change: no vtysh command, no write memory
    assert os.stat(os.path.join(env.bgp, "bgpd.conf")).st_mtime_ns == st
    assert saved(env) == before
    # a role change in the same instance leaves the preference alone
    nc.edit_config(target="candidate", config=cfg(inst(
        "<neighbor><name>10.0.0.6</name><role>nva</role></neighbor>")))
    nc.commit()
    assert env.rs_json()["routingPreference"] == "vpn"
    assert env.rs_json()["neighbors"]["10.0.0.6"]["role"] == "nva"
    nc.edit_config(target="candidate", config=cfg(inst(
        '<neighbor nc:operation="delete"><name>10.0.0.6</name></neighbor>')))
    nc.commit()
    assert env.rs_json()["routingPreference"] == "vpn"


@pytest.mark.parametrize("value,tag", [("bogus", "invalid-value"), ("VPN", "invalid-value"),
                                       ("as_path", "invalid-value"), ("", "unknown-element")])
def test_invalid_value_rejected(env, nc, default_pref, value, tag):
    """netconfd itself refuses values outside the enum (an empty one as
    'wrong node type'); nothing changes."""
    commit_pref(nc, "vpn")
    before = env.vtysh("show running-config"), config_xml(nc), config_xml(nc, "candidate")
    e = expect_error(lambda: nc.edit_config(target="candidate", config=cfg(inst(pref_leaf(value)))),
                     tag=tag)
    assert e.path.endswith("frr-bgp-rs:instance[frr-bgp-rs:vrf='default']/frr-bgp-rs:routing-preference")
    assert (env.vtysh("show running-config"), config_xml(nc), config_xml(nc, "candidate")) == before
    assert env.rs_json()["routingPreference"] == "vpn"
    nc.commit()  # nothing pending
    assert prefs(nc)["default"] == "vpn"


def test_candidate_follows_running_after_commit(env, nc, default_pref):
    """yuma123 clones running into the candidate after a commit; an enum
    leaf changed in place (here the default leaf netconfd puts back after
    a delete) came back with its old value, and the next commit of an
    unrelated change reverted bgpd (the SIL repairs such leaves)."""
    commit_pref(nc, "as-path")
    commit_pref(nc, "", op="delete")
    commit_pref(nc, "vpn")
    assert config_xml(nc, "candidate") == config_xml(nc)
    assert prefs(nc, "candidate")["default"] == "vpn"
    commit_pref(nc, "vpn")
    nc.edit_config(target="candidate", config=cfg(inst(
        "<neighbor><name>10.0.0.6</name><role>nva</role></neighbor>")))
    nc.commit()
    nc.edit_config(target="candidate", config=cfg(inst(
        '<neighbor nc:operation="delete"><name>10.0.0.6</name></neighbor>')))
    nc.commit()
    assert env.rs_json()["routingPreference"] == "vpn"
    assert prefs(nc) == prefs(nc, "candidate") == {"default": "vpn"}
    assert pref_lines(env) == [LINE + "vpn"]


def test_unknown_instance_rejected(env, nc, default_pref):
    before = env.vtysh("show running-config"), config_xml(nc)
    nc.edit_config(target="candidate", config=cfg(inst(pref_leaf("vpn"), vrf="red")))
    e = expect_error(nc.commit, path_part="[frr-bgp-rs:vrf='red']",
                     msg_part="BGP instance for vrf red does not exist in bgpd")
    assert e.app_tag == "bgp-instance-not-found"
    assert (env.vtysh("show running-config"), config_xml(nc)) == before
    nc.discard_changes()


def test_vrf_instance(env, nc):
    commit_pref(nc, "as-path", vrf="blue")
    try:
        assert env.rs_json("blue")["routingPreference"] == "as-path"
        assert env.rs_json()["routingPreference"] == "expressroute"
        assert pref_lines(env, "blue") == [LINE + "as-path"]
        assert prefs(nc)["blue"] == "as-path"
    finally:
        nc.edit_config(target="candidate", config=cfg(inst("", vrf="blue", op="remove")))
        nc.commit()
    assert env.rs_json("blue")["routingPreference"] == "expressroute"
    assert pref_lines(env, "blue") == []


def test_get_shows_leaf_and_state(env, nc, default_pref):
    commit_pref(nc, "vpn")
    data = ET.fromstring(nc.get(filter=FILTER).data_xml)
    i = [x for x in data.iter("{%s}instance" % NS) if x.find("{%s}vrf" % NS).text == "default"][0]
    assert i.find("{%s}routing-preference" % NS).text == "vpn"
    st = {n.find("{%s}name" % NS).text: n for n in i.find("{%s}state" % NS).findall("{%s}neighbor" % NS)}
    j = env.rs_json()["neighbors"]
    assert set(st) == set(j) and st
    for name, n in st.items():
        leaf = n.find("{%s}prefixes-alternate-path" % NS)
        assert leaf is not None, name
        assert int(leaf.text) == j[name]["prefixesAlternatePath"]


# -- bgpd is authoritative ---------------------------------------------------

def test_drift_from_cli_is_picked_up(env, nc, default_pref):
    env.vtysh("configure terminal", "router bgp 65515", "bgp route-server routing-preference as-path")
    # timers run when netconfd's loop is idle ~2 s: poll slowly
    wait_for(lambda: prefs(nc).get("default") == "as-path", timeout=30, interval=4,
             what="running to follow bgpd")
    assert prefs(nc, "candidate")["default"] == "as-path"
    env.vtysh("configure terminal", "router bgp 65515", "no bgp route-server routing-preference")
    wait_for(lambda: prefs(nc).get("default") is None, timeout=30, interval=4,
             what="running back to the default")


def test_survives_netconfd_restart(env, nc, default_pref):
    commit_pref(nc, "vpn")
    nc.close_session()
    env.stop_netconfd()
    # only bgpd has it now: netconfd starts from an empty startup file
    startup = os.path.join(env.state, "netconfd", "startup-cfg.xml")
    os.remove(startup)
    env.start_netconfd()
    m = env.connect()
    try:
        assert prefs(m) == {"default": "vpn"}
        assert prefs(m, "candidate") == {"default": "vpn"}
    finally:
        m.close_session()
    # changed in bgpd while netconfd is down
    env.stop_netconfd()
    env.vtysh("configure terminal", "router bgp 65515", "bgp route-server routing-preference as-path")
    env.start_netconfd()
    m = env.connect()
    try:
        assert prefs(m) == {"default": "as-path"}
        # and back to the default in bgpd: the leaf goes
        m.close_session()
        env.stop_netconfd()
        env.vtysh("configure terminal", "router bgp 65515", "no bgp route-server routing-preference")
        env.start_netconfd()
        m = env.connect()
        assert prefs(m) == {"default": None}
        assert "routing-preference" not in config_xml(m)
    finally:
        m.close_session()


# -- --target=running ---------------------------------------------------------

def edit_running(m, body, vrf="default"):
    m.edit_config(target="running", config=cfg(inst(body, vrf=vrf)))


def test_running_target_routing_preference(env_running, ncr):
    e = env_running
    assert prefs(ncr)["default"] is None
    edit_running(ncr, pref_leaf("vpn"))
    assert e.rs_json()["routingPreference"] == "vpn"
    assert pref_lines(e) == [LINE + "vpn"]
    assert LINE + "vpn\n" in saved(e)
    assert prefs(ncr)["default"] == "vpn"
    # the same edit again changes nothing (no write memory)
    st = os.stat(os.path.join(e.bgp, "bgpd.conf")).st_mtime_ns
    edit_running(ncr, pref_leaf("vpn"))
    assert os.stat(os.path.join(e.bgp, "bgpd.conf")).st_mtime_ns == st
    edit_running(ncr, pref_leaf("as-path"))
    assert e.rs_json()["routingPreference"] == "as-path"
    assert pref_lines(e) == [LINE + "as-path"]
    # refused by netconfd, or by the SIL: nothing changes
    before = e.vtysh("show running-config"), config_xml(ncr)
    err = expect_error(lambda: edit_running(ncr, pref_leaf("bogus")), tag="invalid-value")
    assert err.path.endswith("/frr-bgp-rs:routing-preference")
    err = expect_error(lambda: edit_running(ncr, pref_leaf("vpn"), vrf="red"),
                       path_part="[frr-bgp-rs:vrf='red']",
                       msg_part="BGP instance for vrf red does not exist in bgpd")
    err = expect_error(lambda: edit_running(ncr, pref_leaf("vpn") + pref_leaf("as-path")),
                       msg_part="routing-preference given twice in one edit")
    assert (e.vtysh("show running-config"), config_xml(ncr)) == before
    assert e.rs_json()["routingPreference"] == "as-path"
    # back to the default
    edit_running(ncr, pref_leaf("", op="remove"))
    assert e.rs_json()["routingPreference"] == "expressroute"
    assert pref_lines(e) == []
    assert "routing-preference" not in saved(e)
    assert prefs(ncr)["default"] is None
