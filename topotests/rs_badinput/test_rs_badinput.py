#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""
Bad route-server lines in configuration files, and role lifecycles.

r1 (AS 65515, per-daemon config) starts with a bgpd.conf that mixes valid
and bad route-server lines (STARTUP below): bgpd must start, report each
bad line with its line number (log, stderr), and keep every valid line.
r2 starts without BGP; the same file applied with `vtysh -f` gives each
bad line its error and the same result as r1. frr-reload.py refuses a file
with a syntax error as a whole and applies the other lines of a file with
an unknown neighbor. Then, on r2, at run time: a role follows its neighbor
(or peer-group) when that is deleted, however it is deleted; member and
peer-group roles combine as documented; names the YANG model cannot key
on are refused with a clear error. docs/bad-input.md lists these cases.
"""

import os
import re
import sys
import tempfile

import pytest

CWD = os.path.dirname(os.path.abspath(__file__))
sys.path.append(os.path.join(CWD, ".."))
sys.path.append(os.path.join(CWD, "../.."))

from lib.topogen import Topogen, TopoRouter, get_topogen  # noqa: E402
from rslib import RS_MODULE, configure, rs_json, running_config, vtysh_config, vtysh_json  # noqa: E402

pytestmark = [pytest.mark.bgpd]

SPECIFY = "% Specify remote-as or peer-group commands first"
AA_WARNING = ("% Warning: branch-to-branch with an ExpressRoute gateway needs an "
              "active-active VPN gateway (2 gateway vpn neighbors), 1 configured")
FAILED, NOMATCH, INCOMPLETE, WARNING = "failed", "nomatch", "incomplete", "warning"
P64, P65 = "P" * 64, "P" * 65

# (line, None if accepted silently else (kind, message bgpd prints or
# None)); WARNING lines are accepted.
STARTUP = [
    ("router bgp 65515", None),
    (" bgp router-id 192.168.1.1", None),
    (" no bgp ebgp-requires-policy", None),
    (" neighbor 192.168.1.7 route-server role nva", (FAILED, SPECIFY)),  # before remote-as
    (" neighbor 192.168.1.7 remote-as 65007", None),
    (" neighbor 192.168.1.2 remote-as 65002", None),
    (" neighbor 192.168.1.2 route-server role nva", None),
    (" neighbor 192.168.1.2 route-server role nva", None),  # duplicate: no-op
    (" neighbor 192.168.1.3 remote-as internal", None),
    (" neighbor 192.168.1.3 route-server role gateway vpn", None),
    (" neighbor 192.168.1.3 route-server role gateway expressroute", None),  # last wins
    (" neighbor 10.9.9.9 route-server role nva", (FAILED, SPECIFY)),
    (" neighbor NOPG route-server role nva", (FAILED, SPECIFY)),
    (" neighbor 192.168.1.2 route-server role router", (NOMATCH, None)),
    (" neighbor 192.168.1.2 route-server role gateway", (INCOMPLETE, None)),
    (" neighbor 192.168.1.2 route-server role nva extra", (NOMATCH, None)),
    (" bgp route-server branch-to-brunch", (NOMATCH, None)),
    (" bgp route-server branch-to-branch", None),
    (" bgp route-server branch-to-branch", None),  # duplicate: no-op
    (" neighbor 192.168.1.4 remote-as 65004", None),
    (" neighbor 192.168.1.4 route-server role nva", None),
    (" no neighbor 192.168.1.4", None),  # takes its role with it
    (" neighbor 192.168.1.4 remote-as 65004", None),  # re-created: no role
    (" neighbor PG peer-group", None),
    (" neighbor PG remote-as external", None),
    (" neighbor PG route-server role gateway vpn", None),
    (" neighbor 192.168.1.5 peer-group PG", None),  # inherits gateway vpn
    (" neighbor 192.168.1.6 peer-group PG", None),
    # own role wins; b2b is on, ER 192.168.1.3 and one VPN (.5): a warning
    (" neighbor 192.168.1.6 route-server role nva", (WARNING, AA_WARNING)),
    (" neighbor " + P64 + " peer-group", None),
    (" neighbor " + P64 + " route-server role nva", (WARNING, AA_WARNING)),  # longest name
    (" neighbor " + P65 + " peer-group", None),
    (" neighbor " + P65 + " route-server role nva",
     (FAILED, "% Neighbor name too long for route-server configuration (at most 64 characters)")),
    (" neighbor Q'1 peer-group", None),
    (" neighbor Q'1 route-server role nva",
     (FAILED, "% Neighbor name with a quote (') cannot have route-server configuration")),
    # FRR tries the parent node for a line the address-family lacks: the
    # role is set, and the block's end is then out of place.
    (" address-family ipv4 unicast", None),
    ("  neighbor 192.168.1.7 route-server role gateway vpn", None),  # 2nd VPN: no warning
    (" exit-address-family", (NOMATCH, None)),
    ("exit", None),
    ("bgp route-server branch-to-branch", (NOMATCH, None)),  # outside router bgp
    ("router bgp 65516 vrf BLUE", None),
    (" neighbor 192.168.1.2 route-server role nva", (FAILED, SPECIFY)),  # other instance's
    (" bgp route-server branch-to-branch", None),
    ("exit", None),
]
STARTUP_CONF = "\n".join(l for l, _ in STARTUP) + "\n"

# What the file leaves: the route-server lines of show running-config (in
# any order),
# and the effective roles.
EXPECTED_LINES = [
    " neighbor 192.168.1.7 route-server role gateway vpn",
    " neighbor 192.168.1.2 route-server role nva",
    " neighbor 192.168.1.3 route-server role gateway expressroute",
    " neighbor PG route-server role gateway vpn",
    " neighbor 192.168.1.6 route-server role nva",
    " neighbor " + P64 + " route-server role nva",
    " bgp route-server branch-to-branch",
    " bgp route-server branch-to-branch",
]
EXPECTED_ROLES = {
    "192.168.1.2": ("nva", None),
    "192.168.1.3": ("gateway-expressroute", None),
    "192.168.1.5": ("gateway-vpn", "PG"),
    "192.168.1.6": ("nva", None),
    "192.168.1.7": ("gateway-vpn", None),
}
LOG_TEXT = {
    FAILED: "Command returned Warning Config Failed",
    NOMATCH: "No such command",
    INCOMPLETE: "Command returned Incomplete",
}
STATE = {}


def bad_lines():
    return [(n, line, err) for n, (line, err) in enumerate(STARTUP, 1)
            if err and err[0] != WARNING]


def setup_module(mod):
    def build(tgen):
        sw = tgen.add_switch("s1")
        for r in ("r1", "r2"):
            tgen.add_router(r)
            sw.add_link(tgen.gears[r])

    tgen = Topogen(build, mod.__name__)
    tgen.start_topology()
    d = tempfile.mkdtemp(prefix="rs-badinput-")
    STATE["dir"] = d
    with open(os.path.join(d, "bad.conf"), "w") as f:
        f.write(STARTUP_CONF)
    os.chmod(d, 0o755)
    os.chmod(os.path.join(d, "bad.conf"), 0o644)
    r1, r2 = tgen.gears["r1"], tgen.gears["r2"]
    # r1: per-daemon files, so that bgpd itself reads bgpd.conf at start
    with open(os.path.join(d, "r1-zebra.conf"), "w") as f:
        f.write("hostname r1\ninterface r1-eth0\n ip address 192.168.1.1/24\nexit\n")
    r1.load_config(TopoRouter.RD_ZEBRA, os.path.join(d, "r1-zebra.conf"))
    r1.load_config(TopoRouter.RD_BGP, os.path.join(d, "bad.conf"), RS_MODULE)
    with open(os.path.join(d, "r2-frr.conf"), "w") as f:
        f.write("hostname r2\ninterface r2-eth0\n ip address 192.168.1.20/24\nexit\n")
    r2.load_frr_config(os.path.join(d, "r2-frr.conf"),
                       [(TopoRouter.RD_ZEBRA, ""), (TopoRouter.RD_BGP, RS_MODULE)])
    tgen.start_router()


def teardown_module(mod):
    get_topogen().stop_topology()


def g(name):
    return get_topogen().gears[name]


def rs_lines(router):
    return [l for l in running_config(router).splitlines() if "route-server" in l]


def roles(router, vrf=None):
    cmd = "show bgp{} route-server json".format(" vrf " + vrf if vrf else "")
    return {n: (v["role"], v.get("roleInheritedFrom"))
            for n, v in vtysh_json(router, cmd)["neighbors"].items()}


def config_state(router):
    """Configuration and effective roles; not session states, which move
    on by themselves (no neighbor here answers)."""
    data = rs_json(router)
    return running_config(router), roles(router), data["peerGroups"], data["branchToBranch"]


def check_result(router):
    assert sorted(rs_lines(router)) == sorted(EXPECTED_LINES)
    assert roles(router) == EXPECTED_ROLES
    assert rs_json(router)["branchToBranch"] is True
    blue = vtysh_json(router, "show bgp vrf BLUE route-server json")
    assert blue["branchToBranch"] is True and blue["neighbors"] == {}


# --- startup: bgpd reads its own config file --------------------------------

def test_startup_keeps_valid_lines():
    check_result(g("r1"))
    assert g("r1").net.checkRouterRunning() == ""


def test_startup_logs_each_bad_line():
    log = g("r1").net.getLog("log", "bgpd")
    got = re.findall(r"\] (.+ on config line \d+: .*)", log)
    want = ["{} on config line {}: {}".format(LOG_TEXT[kind], n, line)
            for n, line, (kind, _) in bad_lines()]
    assert got == want


def test_startup_prints_messages():
    stderr = g("r1").net.getStdErr("bgpd")
    printed = [l for l in stderr.splitlines() if l.startswith("%")]
    assert printed == [err[1] for _, err in STARTUP if err and err[1]]


# --- the same file through vtysh -f -----------------------------------------

def test_vtysh_f_reports_each_bad_line():
    """vtysh sends the file to every daemon at once (as `vtysh -b` does at
    boot): each daemon reports the lines no daemon knows, bgpd also the
    lines it refuses; the order between daemons varies."""
    r2 = g("r2")
    out = r2.cmd("vtysh -f {}/bad.conf 2>&1; echo rc=$?".format(STATE["dir"]))
    assert re.search(r"rc=[1-9]\d*$", out.rstrip()), out
    assert re.search(r"\[\d+\|bgpd\] Configuration file\[/etc/frr/frr.conf\] processing failure: 13", out)
    node = {"router bgp 65515": 28, "exit": 4, "router bgp 65516 vrf BLUE": 28}
    cur, want = 4, set()
    for n, (line, err) in enumerate(STARTUP, 1):
        if err and err[0] == FAILED:
            want.add("line {}: Failure to communicate[13] to bgpd, line: {}".format(n, line))
        elif err and err[0] != WARNING:
            text = "Unknown command" if err[0] == NOMATCH else "Command incomplete"
            want.add("line {}: % {}[{}]: {}".format(n, text, cur, line))
        cur = node.get(line, cur)
    assert {l for l in out.splitlines() if l.startswith("line ")} == want, out
    printed = [l for l in out.splitlines() if l.startswith("%")]
    assert sorted(printed) == sorted(err[1] for _, err in STARTUP if err and err[1])


def test_vtysh_f_same_result_as_startup():
    check_result(g("r2"))


# --- frr-reload.py ----------------------------------------------------------

def reload(router, body):
    path = os.path.join(STATE["dir"], "reload.conf")
    with open(path, "w") as f:
        f.write(body)
    os.chmod(path, 0o644)
    return router.cmd("frr-reload.py --reload --stdout --bindir $(dirname $(command -v vtysh)) "
                      "--confdir /etc/frr {} 2>&1; echo rc=$?".format(path))


def base_for_reload(router):
    """r2's running config, BGP part only, as a file frr-reload can take."""
    cfg = running_config(router)
    return cfg[cfg.index("router bgp 65515\n"):cfg.index("\nend")] + "\n"


def saved_config(router):
    """running-config as a file would hold it (no vtysh banner)."""
    cfg = running_config(router)
    return cfg[cfg.index("frr version"):]


def test_frr_reload_routing_preference_round_trip():
    """frr-reload.py sets, changes and removes the routing preference in
    place; the running configuration then reloads identically."""
    r2 = g("r2")
    base = saved_config(r2)
    assert "routing-preference" not in base
    for pref in ("vpn", "as-path"):
        body = base.replace("router bgp 65515\n",
                            "router bgp 65515\n bgp route-server routing-preference {}\n".format(pref), 1)
        out = reload(r2, body)
        assert out.rstrip().endswith("rc=0"), out
        assert rs_json(r2)["routingPreference"] == pref
        assert " bgp route-server routing-preference {}\n".format(pref) in saved_config(r2)
        again = saved_config(r2)
        out = reload(r2, again)
        assert out.rstrip().endswith("rc=0"), out
        assert saved_config(r2) == again
    out = reload(r2, base)
    assert out.rstrip().endswith("rc=0"), out
    assert rs_json(r2)["routingPreference"] == "expressroute"
    assert saved_config(r2) == base


def test_frr_reload_syntax_error_changes_nothing():
    r2 = g("r2")
    before = running_config(r2)
    body = base_for_reload(r2).replace(
        " neighbor 192.168.1.2 route-server role nva\n",
        " neighbor 192.168.1.2 route-server role router\n"
        " neighbor 192.168.1.2 route-server role gateway vpn\n")
    out = reload(r2, body)
    assert out.rstrip().endswith("rc=1"), out
    assert "vtysh failed to process new configuration: vtysh (mark file) exited with status 2" in out
    assert "% Unknown command:  neighbor 192.168.1.2 route-server role router" in out
    assert running_config(r2) == before


def test_frr_reload_unknown_neighbor_applies_the_rest():
    r2 = g("r2")
    body = base_for_reload(r2).replace(
        " neighbor 192.168.1.2 route-server role nva\n",
        " neighbor 192.168.1.2 route-server role gateway vpn\n"
        " neighbor 10.9.9.9 route-server role nva\n")
    out = reload(r2, body)
    assert out.rstrip().endswith("rc=1"), out
    assert "Failure to communicate[13] to bgpd, line:  neighbor 10.9.9.9 route-server role nva" in out
    assert "frr-reload.py failed due to\nvtysh (exec file) exited with status 13" in out
    assert SPECIFY in out
    assert roles(r2)["192.168.1.2"] == ("gateway-vpn", None)
    assert "10.9.9.9" not in running_config(r2)


# --- run time: the CLI ------------------------------------------------------

@pytest.mark.parametrize("line,msg", [
    ("neighbor 192.168.1.2 route-server role router",
     "% Unknown command: neighbor 192.168.1.2 route-server role router"),
    ("neighbor 192.168.1.2 route-server role gateway",
     "% Command incomplete: neighbor 192.168.1.2 route-server role gateway"),
    ("neighbor 10.9.9.9 route-server role nva", SPECIFY),
])
def test_cli_exact_error_and_status(line, msg):
    r2 = g("r2")
    before = config_state(r2)
    out = r2.cmd("vtysh -c 'configure terminal' -c 'router bgp 65515' -c '{}' 2>&1; "
                 "echo rc=$?".format(line))
    assert [l for l in out.splitlines() if l] == [msg, "rc=1"], out
    assert config_state(r2) == before


def test_cli_abbreviation_repeat_and_replace():
    r2 = g("r2")
    out = configure(r2, "neighbor 192.168.1.2 route-server rol gateway e")
    assert "%" not in out, out
    assert roles(r2)["192.168.1.2"] == ("gateway-expressroute", None)
    before = config_state(r2)
    out = configure(r2, "neighbor 192.168.1.2 route-server role gateway expressroute")
    assert "%" not in out and config_state(r2) == before, out
    configure(r2, "neighbor 192.168.1.2 route-server role gateway vpn")
    assert roles(r2)["192.168.1.2"] == ("gateway-vpn", None)
    assert " neighbor 192.168.1.2 route-server role gateway vpn" in rs_lines(r2)
    assert not [l for l in rs_lines(r2) if "192.168.1.2 route-server role gateway express" in l]


# --- run time: a role follows what it belongs to ----------------------------

def test_role_goes_with_its_neighbor():
    r2 = g("r2")
    for delete in ("no neighbor 192.168.1.8", "no neighbor 192.168.1.8 remote-as 65008"):
        configure(r2, "neighbor 192.168.1.8 remote-as 65008",
                  "neighbor 192.168.1.8 route-server role gateway expressroute")
        assert roles(r2)["192.168.1.8"] == ("gateway-expressroute", None)
        out = configure(r2, delete)
        assert "%" not in out, out
        assert "192.168.1.8" not in running_config(r2)
        assert "192.168.1.8" not in roles(r2)
        # re-created: no role comes back
        configure(r2, "neighbor 192.168.1.8 remote-as 65008")
        assert "192.168.1.8" not in roles(r2)
        assert "192.168.1.8 route-server" not in running_config(r2)
        configure(r2, "no neighbor 192.168.1.8")


def test_role_goes_with_interface_neighbor():
    r2 = g("r2")
    configure(r2, "neighbor r2-eth0 interface remote-as external",
              "neighbor r2-eth0 route-server role nva")
    assert roles(r2)["r2-eth0"] == ("nva", None)
    configure(r2, "no neighbor r2-eth0")
    configure(r2, "neighbor r2-eth0 interface remote-as external")
    assert "r2-eth0" not in roles(r2)
    assert "r2-eth0 route-server" not in running_config(r2)
    configure(r2, "no neighbor r2-eth0")


def test_role_on_deleted_neighbor_is_refused():
    r2 = g("r2")
    configure(r2, "neighbor 192.168.1.8 remote-as 65008", "no neighbor 192.168.1.8")
    before = running_config(r2)
    out = configure(r2, "neighbor 192.168.1.8 route-server role nva")
    assert SPECIFY in out
    assert running_config(r2) == before


# --- run time: peer-group and member roles ----------------------------------

def test_member_and_group_roles():
    r2 = g("r2")
    # from the file: PG gateway vpn, .5 inherits, .6 has its own nva
    assert roles(r2)["192.168.1.5"] == ("gateway-vpn", "PG")
    assert roles(r2)["192.168.1.6"] == ("nva", None)
    configure(r2, "neighbor PG route-server role gateway expressroute")
    assert roles(r2)["192.168.1.5"] == ("gateway-expressroute", "PG")
    assert roles(r2)["192.168.1.6"] == ("nva", None)
    # the member's own role removed: it inherits again
    configure(r2, "no neighbor 192.168.1.6 route-server role")
    assert roles(r2)["192.168.1.6"] == ("gateway-expressroute", "PG")
    # the same role on member and group: both lines kept, not inherited
    configure(r2, "neighbor 192.168.1.6 route-server role gateway expressroute")
    assert roles(r2)["192.168.1.6"] == ("gateway-expressroute", None)
    configure(r2, "neighbor 192.168.1.6 route-server role nva")
    # the group role removed: members without their own role have none
    configure(r2, "no neighbor PG route-server role")
    assert "192.168.1.5" not in roles(r2)
    assert roles(r2)["192.168.1.6"] == ("nva", None)
    assert "PG" not in rs_json(r2)["peerGroups"]
    # a new member inherits the group's role as soon as it has one
    configure(r2, "neighbor PG route-server role gateway vpn", "neighbor 192.168.1.9 peer-group PG")
    assert roles(r2)["192.168.1.9"] == ("gateway-vpn", "PG")
    assert rs_json(r2)["peerGroups"]["PG"] == {"role": "gateway-vpn", "members": 3}


def test_member_leaving_group_loses_roles():
    r2 = g("r2")
    # FRR deletes a member that leaves its group: its own role goes too
    out = configure(r2, "no neighbor 192.168.1.6 peer-group PG")
    assert "%" not in out, out
    assert "192.168.1.6" not in roles(r2)
    assert "192.168.1.6" not in running_config(r2)
    configure(r2, "neighbor 192.168.1.6 remote-as 65006")
    assert "192.168.1.6" not in roles(r2)
    assert rs_json(r2)["peerGroups"]["PG"]["members"] == 2


def test_group_deletion_deletes_group_and_member_roles():
    r2 = g("r2")
    configure(r2, "neighbor 192.168.1.9 route-server role nva")
    out = configure(r2, "no neighbor PG peer-group")
    assert "%" not in out, out
    got = roles(r2)
    assert not {"192.168.1.5", "192.168.1.9"} & set(got), got
    assert list(rs_json(r2)["peerGroups"]) == [P64]  # the other group keeps its role
    assert not [l for l in rs_lines(r2) if "PG" in l or "192.168.1.9" in l]
    configure(r2, "neighbor PG peer-group", "neighbor PG remote-as external",
              "neighbor 192.168.1.5 peer-group PG", "neighbor 192.168.1.9 peer-group PG")
    assert not {"192.168.1.5", "192.168.1.9"} & set(roles(r2))
    assert "PG" not in rs_json(r2)["peerGroups"]


# --- names the model cannot key on -----------------------------------------

LONG_VRF = "V" * 37
NAMES = [
    # (router bgp line, config line, message)
    ("router bgp 65515", "neighbor {} route-server role nva".format(P65),
     "% Neighbor name too long for route-server configuration (at most 64 characters)"),
    ("router bgp 65515", "neighbor Q'1 route-server role gateway vpn",
     "% Neighbor name with a quote (') cannot have route-server configuration"),
    ("router bgp 65518 vrf R'ED", "bgp route-server branch-to-branch",
     "% VRF name with a quote (') cannot have route-server configuration"),
    ("router bgp 65517 vrf " + LONG_VRF, "bgp route-server branch-to-branch",
     "% VRF name too long for route-server configuration (at most 36 characters)"),
    ("router bgp 65517 vrf " + LONG_VRF, "neighbor VG route-server role nva",
     "% VRF name too long for route-server configuration (at most 36 characters)"),
    ("router bgp 65517 vrf " + LONG_VRF, "bgp route-server routing-preference vpn",
     "% VRF name too long for route-server configuration (at most 36 characters)"),
]


@pytest.mark.parametrize("node,line,error", NAMES, ids=[n[1][:40] for n in NAMES])
def test_unusable_names_refused(node, line, error):
    r2 = g("r2")
    vtysh_config(r2, node, "neighbor " + P65 + " peer-group", "neighbor Q'1 peer-group",
                 "neighbor VG peer-group")
    before = config_state(r2)
    out = r2.cmd("vtysh -c 'configure terminal' -c \"{}\" -c \"{}\" 2>&1; echo rc=$?".format(node, line))
    assert error in out, out
    assert out.rstrip().endswith("rc=1"), out
    assert config_state(r2) == before
    # "no" of what cannot exist is a no-op, as for any unset role
    no = "no " + line.split(" role ")[0] + " role" if " role " in line else "no " + line
    out = vtysh_config(r2, node, no)
    assert "%" not in out, out
    assert config_state(r2) == before


def test_cleanup_unusable_instances():
    r2 = g("r2")
    out = vtysh_config(r2, "no router bgp 65518 vrf R'ED", "no router bgp 65517 vrf " + LONG_VRF)
    assert "%" not in out, out
    assert "vrf R'ED" not in running_config(r2)
    assert g("r2").net.checkRouterRunning() == ""


def test_instance_slots_exhausted():
    """At most 255 BGP instances can have route-server configuration (the
    update-group key carries the slot). The 256th is refused when the
    northbound prepares the commit, with a clear error, and nothing of it
    is applied; deleting an instance frees its slot."""
    r2 = g("r2")
    path = os.path.join(r2.gearlogdir, "many-vrfs.conf")
    with open(path, "w") as f:
        for i in range(260):
            f.write("router bgp 65530 vrf S{0}\n bgp route-server branch-to-branch\nexit\n".format(i))
    out = r2.cmd("vtysh -f {} 2>&1".format(path))
    assert "too many BGP instances with route-server configuration (at most 255)" in out, out
    on = [i for i in range(260)
          if vtysh_json(r2, "show bgp vrf S{} route-server json".format(i)).get("branchToBranch")]
    full = len(on)
    # the slots other instances hold (default, BLUE, ...) plus these: 255
    assert 240 < full < 255 and on == list(range(full)), on
    refused = "S{}".format(full)
    assert "router bgp 65530 vrf {}\n bgp route-server".format(refused) not in running_config(r2)
    # one slot freed, the refused instance can have it
    out = vtysh_config(r2, "no router bgp 65530 vrf S0",
                       "router bgp 65530 vrf " + refused, "bgp route-server branch-to-branch")
    assert "%" not in out, out
    assert vtysh_json(r2, "show bgp vrf {} route-server json".format(refused))["branchToBranch"] is True
    out = vtysh_config(r2, *["no router bgp 65530 vrf S{}".format(i) for i in range(1, 260)])
    assert "%" not in out, out
    assert "vrf S1\n" not in running_config(r2)
    assert g("r2").net.checkRouterRunning() == ""
