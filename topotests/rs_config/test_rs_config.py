#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""
Configuration edge cases: bad input gets an FRR-style error and changes
nothing; "no" of an unset role is a no-op; branch-to-branch is per BGP
instance (VRF instances included, configured without sessions: this
kernel has no VRF devices); deleting an instance deletes its
route-server configuration; a configuration file's lines survive another
vtysh session closing before their commit (patch 0012), and a file mgmtd
refuses, or whose vtysh is killed before the commit, leaves nothing
behind (patch 0013).
"""

import json
import os
import subprocess
import sys
import time

import pytest

CWD = os.path.dirname(os.path.abspath(__file__))
sys.path.append(os.path.join(CWD, ".."))
sys.path.append(os.path.join(CWD, "../.."))

from lib.topogen import get_topogen  # noqa: E402
from rslib import (  # noqa: E402
    start_lan,
    configure,
    rs_json,
    running_config,
    vtysh_config,
    vtysh_json,
    wait_for,
)

pytestmark = [pytest.mark.bgpd]


def setup_module(mod):
    start_lan(mod, CWD, ["r1", "p2"])


def teardown_module(mod):
    get_topogen().stop_topology()


def r1():
    return get_topogen().gears["r1"]


def yang_state(router):
    return json.loads(router.vtysh_cmd("show yang operational-data /frr-bgp-route-server:route-server bgpd"))


def snapshot():
    """Config and state (but the session state, which changes by itself)
    once a table walk an earlier command scheduled (debounced, 100 ms)
    has run: two readings 0.3 s apart agree."""
    prev = None
    for _ in range(20):
        state = rs_json(r1())
        # a neighbor with no peer behind it flips Active/Connect by itself
        for n in state.get("neighbors", {}).values():
            n.pop("bgpState", None)
        cur = running_config(r1()), state
        if cur == prev:
            return cur
        prev = cur
        time.sleep(0.3)
    return cur


def test_dynamic_neighbor_up():
    def dyn_up():
        peers = vtysh_json(r1(), "show bgp ipv4 unicast summary json").get("peers", {})
        n = peers.get("192.168.1.2", {})
        return n.get("state") == "Established" and n.get("dynamicPeer", False)

    wait_for(dyn_up, True, "dynamic neighbor 192.168.1.2")


BAD = [
    # (config line inside router bgp, expected error text)
    ("neighbor 10.9.9.9 route-server role nva", "% Specify remote-as or peer-group commands first"),
    ("neighbor NOPG route-server role nva", "% Specify remote-as or peer-group commands first"),
    ("no neighbor 10.9.9.9 route-server role", "% Specify remote-as or peer-group commands first"),
    ("neighbor 192.168.1.2 route-server role nva", "% Operation not allowed on a dynamic neighbor"),
    ("neighbor 192.168.1.3 route-server role router", "% Unknown command"),
    ("neighbor 192.168.1.3 route-server role gateway", "% Command incomplete"),
    ("neighbor 192.168.1.3 route-server role gateway expressroutes", "% Unknown command"),
    ("neighbor 192.168.1.3 route-server role gateway g", "% Unknown command"),
    ("neighbor 192.168.1.3 route-server role nva extra", "% Unknown command"),
    ("bgp route-server branch-to-brunch", "% Unknown command"),
    ("neighbor 300.1.1.1 route-server role nva", "% Specify remote-as or peer-group commands first"),
    ("bgp route-server routing-preference fastest", "% Unknown command"),
    ("bgp route-server routing-preference", "% Command incomplete"),
    ("bgp route-server routing-preference vpn extra", "% Unknown command"),
]


@pytest.mark.parametrize("line,error", BAD, ids=[b[0] for b in BAD])
def test_bad_input_changes_nothing(line, error):
    before = snapshot()
    out = configure(r1(), line)
    assert error in out, out
    assert snapshot() == before


def test_no_of_unset_role_is_a_noop():
    before = snapshot()
    out = configure(r1(), "no neighbor PG route-server role")
    assert "%" not in out, out
    assert snapshot() == before  # not even a re-evaluation


def test_no_form_ignores_the_role_given():
    """Like FRR's other "no" forms, the value given is not checked."""
    config = running_config(r1())
    out = configure(r1(), "no neighbor 192.168.1.3 route-server role gateway vpn")
    assert "%" not in out, out
    assert "192.168.1.3 route-server" not in running_config(r1())
    configure(r1(), "neighbor 192.168.1.3 route-server role nva")
    assert running_config(r1()) == config


def test_routing_preference():
    """Default expressroute, printed only when it is not the default; the
    "no" form (with or without a value) restores the default; per
    instance; show, JSON and a re-run of best-path selection without a
    session reset."""
    assert rs_json(r1())["routingPreference"] == "expressroute"
    assert "routing-preference" not in running_config(r1())
    assert "Routing preference: expressroute" in r1().vtysh_cmd("show bgp route-server")
    for pref in ("vpn", "as-path"):
        out = configure(r1(), "bgp route-server routing-preference " + pref)
        assert "%" not in out, out
        assert " bgp route-server routing-preference {}\n".format(pref) in running_config(r1())
        assert rs_json(r1())["routingPreference"] == pref
    # abbreviations, as for any FRR command
    configure(r1(), "bgp route-server routing-pref v")
    assert rs_json(r1())["routingPreference"] == "vpn"
    configure(r1(), "bgp route-server routing-preference expressroute")
    assert "routing-preference" not in running_config(r1())
    configure(r1(), "bgp route-server routing-preference as-path")
    out = configure(r1(), "no bgp route-server routing-preference vpn")
    assert "%" not in out, out
    assert rs_json(r1())["routingPreference"] == "expressroute"
    assert "routing-preference" not in running_config(r1())
    before = snapshot()
    out = configure(r1(), "no bgp route-server routing-preference")
    assert "%" not in out and snapshot() == before, out
    # per instance: a VRF's preference leaves the default instance's alone
    out = vtysh_config(r1(), "router bgp 65515 vrf GREEN", "bgp route-server routing-preference vpn")
    assert "%" not in out, out
    assert vtysh_json(r1(), "show bgp vrf GREEN route-server json")["routingPreference"] == "vpn"
    assert rs_json(r1())["routingPreference"] == "expressroute"
    cfg = running_config(r1())
    green = cfg[cfg.index("router bgp 65515 vrf GREEN"):]
    assert " bgp route-server routing-preference vpn\n" in green.split("exit")[0]
    # the instance's deletion deletes it; a re-created instance has the default
    vtysh_config(r1(), "no router bgp 65515 vrf GREEN")
    vtysh_config(r1(), "router bgp 65515 vrf GREEN")
    assert vtysh_json(r1(), "show bgp vrf GREEN route-server json")["routingPreference"] == "expressroute"
    assert "routing-preference" not in running_config(r1())
    vtysh_config(r1(), "no router bgp 65515 vrf GREEN")


def test_route_server_timing_defaults():
    """An instance with route-server configuration runs best-path
    selection 1 ms after a change (bgpd: 50 ms) and coalesces a new
    update-subgroup for 100 ms (bgpd: 1 s + 50 ms per neighbor) unless
    coalesce-time is configured, which wins; neither default is written
    to the configuration."""
    state = rs_json(r1())
    assert state["processHoldMs"] == 1
    assert (state["coalesceTimeMs"], state["coalesceTimeConfigured"]) == (100, False)
    assert "Best-path queue hold: 1 ms" in r1().vtysh_cmd("show bgp route-server")
    assert "coalesce-time" not in running_config(r1())
    out = vtysh_config(r1(), "router bgp 65515", "coalesce-time 500")
    assert "%" not in out, out
    state = rs_json(r1())
    assert (state["coalesceTimeMs"], state["coalesceTimeConfigured"]) == (500, True)
    assert "Update-group coalesce time: 500 ms (coalesce-time)" in r1().vtysh_cmd("show bgp route-server")
    assert " coalesce-time 500\n" in running_config(r1())
    out = vtysh_config(r1(), "router bgp 65515", "no coalesce-time 500")
    assert "%" not in out, out
    assert rs_json(r1())["coalesceTimeConfigured"] is False
    assert "coalesce-time" not in running_config(r1())
    # bgpd has put its own heuristic back; the module applies its value
    # again before a subgroup is created: here when the neighbor comes back
    r1().vtysh_cmd("clear bgp 192.168.1.2")
    wait_for(lambda: rs_json(r1())["coalesceTimeMs"], 100, "coalesce time 100 again")
    test_dynamic_neighbor_up()


def test_peer_group_role():
    configure(r1(), "neighbor PG route-server role gateway expressroute")
    assert " neighbor PG route-server role gateway expressroute\n" in running_config(r1())
    assert rs_json(r1())["peerGroups"]["PG"] == {"role": "gateway-expressroute", "members": 0}
    configure(r1(), "no neighbor PG")
    assert "PG" not in rs_json(r1())["peerGroups"]
    assert "PG route-server" not in running_config(r1())


def test_b2b_is_per_instance():
    out = vtysh_config(r1(), "router bgp 65515 vrf BLUE", "bgp route-server branch-to-branch")
    assert "%" not in out, out
    assert vtysh_json(r1(), "show bgp vrf BLUE route-server json")["branchToBranch"] is True
    assert vtysh_json(r1(), "show bgp vrf BLUE route-server json")["vrfName"] == "BLUE"
    assert rs_json(r1())["branchToBranch"] is False
    cfg = running_config(r1())
    blue = cfg[cfg.index("router bgp 65515 vrf BLUE"):]
    assert " bgp route-server branch-to-branch\n" in blue.split("exit")[0]
    default = cfg[cfg.index("router bgp 65515\n"):cfg.index("router bgp 65515 vrf BLUE")]
    assert "branch-to-branch" not in default
    vrfs = {i["vrf"] for i in yang_state(r1())["frr-bgp-route-server:route-server"]["instance"]}
    assert "BLUE" in vrfs


def test_instance_deletion_deletes_its_config():
    out = vtysh_config(r1(), "no router bgp 65515 vrf BLUE")
    assert "%" not in out, out
    assert "vrf BLUE" not in running_config(r1())
    vrfs = {i["vrf"] for i in yang_state(r1()).get("frr-bgp-route-server:route-server", {}).get("instance", [])}
    assert "BLUE" not in vrfs
    vtysh_config(r1(), "router bgp 65515 vrf BLUE")
    assert vtysh_json(r1(), "show bgp vrf BLUE route-server json")["branchToBranch"] is False
    vtysh_config(r1(), "no router bgp 65515 vrf BLUE")


def test_show_unknown_instance_and_neighbor():
    assert "% BGP instance not found" in r1().vtysh_cmd("show bgp vrf NOPE route-server")
    assert vtysh_json(r1(), "show bgp vrf NOPE route-server json") == {}
    assert "% No such neighbor" in r1().vtysh_cmd("show bgp route-server withheld 10.9.9.9")
    data = vtysh_json(r1(), "show bgp route-server withheld 192.168.1.2 json")
    assert data["role"] == "none" and data["totalWithheld"] == 0


def test_ibgp_role_neighbor_not_rr_client_warns():
    configure(r1(), "neighbor 192.168.1.9 remote-as internal", "neighbor 192.168.1.9 route-server role gateway expressroute")
    warnings = rs_json(r1())["warnings"]
    assert any("192.168.1.9" in w and "route-reflector-client" in w for w in warnings), warnings
    assert "192.168.1.9 (gateway expressroute) is iBGP" in r1().vtysh_cmd("show bgp route-server")
    state = yang_state(r1())["frr-bgp-route-server:route-server"]["instance"]
    default = [i for i in state if i["vrf"] == "default"][0]
    assert any("192.168.1.9" in w for w in default["state"]["warning"])
    configure(r1(), "address-family ipv4 unicast", "neighbor 192.168.1.9 route-reflector-client")
    assert not any("192.168.1.9" in w for w in rs_json(r1())["warnings"])
    configure(r1(), "no neighbor 192.168.1.9")
    assert "192.168.1.9" not in running_config(r1())


def candidate(r):
    """mgmtd's candidate configuration (JSON text), read from a vtysh
    session of its own."""
    return r.cmd("vtysh -c 'show mgmt datastore-contents candidate json' 2>&1")


def daemon_configs(r):
    """The running configuration of each daemon that holds prefix-lists."""
    return {d: r.vtysh_cmd("show running-config {}".format(d)) for d in ("mgmtd", "zebra", "bgpd")}


def file_read(r, plist, *bgp_lines):
    """A vtysh session reading config lines the way `vtysh -f` and
    frr-reload.py send a file (`configure terminal file-lock`, start
    marker, lines; the end marker and its commit still to come), once
    mgmtd has the prefix-list lines in its candidate: it logs a line
    when it reads it and reads the next only once the previous is in."""
    log = os.path.join(r.gearlogdir, "mgmtd.log")
    shell = r.popen(["vtysh"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                    stderr=subprocess.STDOUT, universal_newlines=True)
    lines = ["configure terminal file-lock", "XFRR_start_configuration"] + list(plist) + \
        (["router bgp 65515"] + [" " + l for l in bgp_lines] + ["exit"] if bgp_lines else []) + \
        ["ip prefix-list FILEREAD-MARK seq 5 deny any"]
    shell.stdin.write("".join(l + "\n" for l in lines))
    shell.stdin.flush()
    wait_for(lambda: "ip prefix-list FILEREAD-MARK" in open(log, errors="replace").read(), True,
             "mgmtd read the file's lines", count=100, wait=0.1)
    return shell


def test_file_config_survives_other_vtysh_sessions():
    """A configuration file applied as `vtysh -f` and frr-reload.py apply
    it, while another vtysh session opens and closes before its commit, as
    a monitoring loop's would: every line takes effect in every daemon.
    FRR 10.3's mgmtd copied its running configuration over the shared
    candidate whenever any session closed, so the prefix-list was lost in
    mgmtd and zebra ("No changes found to be committed!") while bgpd had
    it (patch 0012, upstream's fix)."""
    r = r1()
    plist = ["ip prefix-list SESSIONS seq 5 permit 10.252.0.0/16", "ip prefix-list SESSIONS seq 10 deny any"]
    role = "neighbor 192.168.1.3 route-server role gateway vpn"
    before = running_config(r)
    assert "SESSIONS" not in before and "neighbor 192.168.1.3 route-server role nva" in before, before
    shell = file_read(r, plist, role)
    try:
        other = candidate(r)
        assert '"name": "SESSIONS"' in other, other
        out, _ = shell.communicate("XFRR_end_configuration\nend\n", timeout=30)
    finally:
        if shell.poll() is None:
            shell.kill()
    assert "No changes" not in out and "%" not in out, out
    for daemon, conf in daemon_configs(r).items():
        assert all(l in conf for l in plist), "{}: {}".format(daemon, conf)
    assert role in running_config(r)
    out = vtysh_config(r, "no ip prefix-list SESSIONS", "no ip prefix-list FILEREAD-MARK", "router bgp 65515",
                       "neighbor 192.168.1.3 route-server role nva")
    assert "%" not in out, out
    assert running_config(r) == before


def test_killed_config_file_leaves_no_trace():
    """A vtysh reading a configuration file is killed before the file's
    commit: none of its lines is applied, then or with the next command
    (patch 0013; FRR 10.3 with only upstream's fix committed them
    silently with the next session's change)."""
    r = r1()
    before = running_config(r)
    shell = file_read(r, ["ip prefix-list KILLED seq 5 permit 10.253.0.0/16"])
    shell.kill()
    shell.wait(timeout=10)
    wait_for(lambda: "KILLED" in candidate(r), False,
             "the killed file's lines gone from mgmtd's candidate", count=50, wait=0.1)
    out = vtysh_config(r, "ip prefix-list AFTERKILL seq 5 permit 10.1.0.0/16")
    assert "%" not in out, out
    for daemon, conf in daemon_configs(r).items():
        assert "AFTERKILL" in conf and "KILLED" not in conf and "FILEREAD-MARK" not in conf, \
            "{}: {}".format(daemon, conf)
    out = vtysh_config(r, "no ip prefix-list AFTERKILL")
    assert "%" not in out and running_config(r) == before, out


def test_failed_config_file_leaves_no_trace():
    """A configuration file whose commit mgmtd refuses (a prefix-list
    range FRR rejects) changes nothing, and the operator's next, valid,
    command is applied. With patch 0012 alone the file's lines stayed in
    mgmtd's candidate, and the next command failed with the file's error
    (patch 0013)."""
    r = r1()
    before = running_config(r)
    bad = os.path.join(r.gearlogdir, "bad-prefix-list.conf")
    with open(bad, "w") as f:
        f.write("ip prefix-list BADFILE seq 5 permit 10.10.0.0/16 ge 8\n")
    out = r.cmd("vtysh -f {} 2>&1".format(bad))
    assert "Invalid prefix range for 10.10.0.0/16" in out, out
    assert "BADFILE" not in candidate(r)
    assert running_config(r) == before
    out = vtysh_config(r, "ip prefix-list AFTERBAD seq 5 permit 10.1.0.0/16")
    assert "%" not in out, out
    for daemon, conf in daemon_configs(r).items():
        assert "ip prefix-list AFTERBAD seq 5 permit 10.1.0.0/16" in conf and "BADFILE" not in conf, daemon
    out = vtysh_config(r, "no ip prefix-list AFTERBAD")
    assert "%" not in out and running_config(r) == before, out
