# SPDX-License-Identifier: GPL-2.0-or-later
"""
NETCONF bad input and authorisation. Every bad edit gets an <rpc-error>
(error-tag, message and path checked) and leaves bgpd, running and the
candidate as they were; malformed XML gets an error or a closed session,
never a change. SSH: a key that is not authorised, or an authorised key
of a user outside the operators group, is refused. docs/bad-input.md
lists these cases with the messages checked here.
"""

import os
import socket
import subprocess
import time

import paramiko
import pytest
from ncclient.operations import RPCError
from ncclient.transport.errors import AuthenticationError

from test_netconf import (  # noqa: F401 (env, nc, env_running, ncr: fixtures)
    FILTER, GROUP, NC, NS, OPER, OTHER, cfg, env, env_running, inst, nc, ncr, neigh, roles)

RPC = "/nc:rpc/nc:edit-config/nc:config/frr-bgp-rs:route-server/"
INST = "frr-bgp-rs:instance[frr-bgp-rs:vrf='default']"


def config_xml(m, source="running"):
    return m.get_config(source, filter=FILTER).data_xml


def snapshot(env, m):
    return env.vtysh("show running-config"), config_xml(m), config_xml(m, "candidate")


def short(text):
    return text if text is None or len(text) < 300 else text[:300] + "..."


def rejected(env, m, fn, tag, msg=None, path=None, target="candidate", app_tag=None):
    """fn() must raise one rpc-error (tag, message, error-path suffix) and
    change nothing: bgpd, running, and the candidate (a failed commit keeps
    the candidate's edits, as NETCONF says)."""
    before = env.vtysh("show running-config"), config_xml(m)
    cand = config_xml(m, "candidate") if target == "candidate" else None
    with pytest.raises(RPCError) as ei:
        fn()
    e = ei.value
    assert (e.tag, e.message) == (tag, msg or e.message), (e.tag, short(e.message))
    if path is not None:
        assert (e.path or "").endswith(path), short(e.path)
    if app_tag is not None:
        assert e.app_tag == app_tag
    assert (env.vtysh("show running-config"), config_xml(m)) == before
    if target == "candidate":
        assert config_xml(m, "candidate") == cand
        m.discard_changes()
    return e


def edit(m, body, target="candidate"):
    return lambda: m.edit_config(target=target, config=cfg(body))


# -- wrong types, missing and oversized values --------------------------------

N6 = "frr-bgp-rs:neighbor[frr-bgp-rs:name='10.0.0.6']"
EDITS = [
    # (id, edit body, error-tag, error-message, error-path suffix)
    ("b2b-maybe", inst("<branch-to-branch>maybe</branch-to-branch>"),
     "invalid-value", "invalid value", INST + "/frr-bgp-rs:branch-to-branch"),
    ("b2b-TRUE", inst("<branch-to-branch>TRUE</branch-to-branch>"),
     "invalid-value", "invalid value", INST + "/frr-bgp-rs:branch-to-branch"),
    ("role-router", inst(neigh("10.0.0.6", "router")),
     "invalid-value", "value not in set", N6 + "/frr-bgp-rs:role"),
    ("role-empty", inst("<neighbor><name>10.0.0.6</name><role/></neighbor>"),
     "unknown-element", "wrong node type", N6 + "/frr-bgp-rs:role"),
    ("role-missing", inst("<neighbor><name>10.0.0.6</name></neighbor>"),
     "data-missing", "required value instance not found", N6 + "/frr-bgp-rs:role"),
    ("name-missing", inst("<neighbor><role>nva</role></neighbor>"),
     "missing-element", "expected key leaf in list", INST + "/frr-bgp-rs:neighbor[1]"),
    ("vrf-missing", "<instance><branch-to-branch>true</branch-to-branch></instance>",
     "missing-element", "expected key leaf in list", "frr-bgp-rs:instance[1]"),
    ("name-empty", inst(neigh("", "nva")),
     "invalid-value", "value not in range", "frr-bgp-rs:neighbor[1]/frr-bgp-rs:name"),
    ("name-65", inst(neigh("N" * 65, "nva")),
     "invalid-value", "value not in range", "']/frr-bgp-rs:name"),
    ("name-10k", inst(neigh("N" * 10000, "nva")),
     "invalid-value", "value not in range", "']/frr-bgp-rs:name"),
    ("vrf-37", inst("<branch-to-branch>true</branch-to-branch>", vrf="V" * 37),
     "invalid-value", "value not in range", "']/frr-bgp-rs:vrf"),
    ("vrf-10k", inst("<branch-to-branch>true</branch-to-branch>", vrf="V" * 10000),
     "invalid-value", "value not in range", "']/frr-bgp-rs:vrf"),
    ("unknown-leaf", inst("<colour>red</colour>"),
     "unknown-element", "unknown object", INST),
    ("state-written", inst("<state><warning>x</warning></state>"),
     "access-denied", "cannot write to a read-only object", INST + "/frr-bgp-rs:state"),
    ("bad-operation", inst(neigh("10.0.0.2", "nva", op="frobnicate")),
     "bad-attribute", "invalid value", INST + "/frr-bgp-rs:neighbor[1]"),
    ("role-twice", inst("<neighbor><name>10.0.0.2</name><role>nva</role>"
                        "<role>gateway-vpn</role></neighbor>"),
     "operation-failed", "role given twice in one edit",
     "frr-bgp-rs:neighbor[frr-bgp-rs:name='10.0.0.2']/frr-bgp-rs:role"),
    ("neighbor-twice", inst(neigh("10.0.0.6", "nva") + neigh("10.0.0.6", "gateway-vpn")),
     "operation-failed", "neighbor 10.0.0.6 given twice in one edit", N6),
    ("b2b-twice", inst("<branch-to-branch>true</branch-to-branch>"
                       "<branch-to-branch>false</branch-to-branch>"),
     "operation-failed", "branch-to-branch given twice in one edit",
     INST + "/frr-bgp-rs:branch-to-branch"),
    ("instance-twice", inst(neigh("10.0.0.6", "nva")) + inst(neigh("10.0.0.5", "nva")),
     "operation-failed", "instance default given twice in one edit", INST),
    ("pref-bogus", inst("<routing-preference>bogus</routing-preference>"),
     "invalid-value", "value not in set", INST + "/frr-bgp-rs:routing-preference"),
    ("pref-VPN", inst("<routing-preference>VPN</routing-preference>"),
     "invalid-value", "value not in set", INST + "/frr-bgp-rs:routing-preference"),
    ("pref-empty", inst("<routing-preference/>"),
     "unknown-element", "wrong node type", INST + "/frr-bgp-rs:routing-preference"),
    ("pref-twice", inst("<routing-preference>vpn</routing-preference>"
                        "<routing-preference>as-path</routing-preference>"),
     "operation-failed", "routing-preference given twice in one edit",
     INST + "/frr-bgp-rs:routing-preference"),
]


@pytest.mark.parametrize("body,tag,msg,path", [e[1:] for e in EDITS], ids=[e[0] for e in EDITS])
def test_bad_edit_rejected(env, nc, body, tag, msg, path):
    e = rejected(env, nc, edit(nc, body), tag, msg, path,
                 app_tag="duplicate-node" if "twice" in msg else None)
    assert e.path.startswith(RPC) or e.path.startswith("/frr-bgp-rs:route-server/")


FOREIGN = [
    ("unknown-module", '<config><foo xmlns="urn:x:y"/></config>'),
    ("wrong-namespace", '<config><route-server xmlns="urn:wrong"><instance><vrf>default</vrf>'
                        '</instance></route-server></config>'),
    ("foreign-leaf", cfg('<instance><vrf>default</vrf><neighbor><name>10.0.0.2</name>'
                         '<role xmlns="urn:x">nva</role></neighbor></instance>')),
]


@pytest.mark.parametrize("config", [f[1] for f in FOREIGN], ids=[f[0] for f in FOREIGN])
def test_unknown_namespace_rejected(env, nc, config):
    e = rejected(env, nc, lambda: nc.edit_config(target="candidate", config=config),
                 "unknown-namespace", "unknown namespace")
    assert e.path is None


def test_longest_names_pass_the_model(env, nc):
    """64 and 36 characters are within the model: the edit is taken, the
    commit is refused because bgpd has no such neighbor / instance."""
    nc.edit_config(target="candidate", config=cfg(inst(neigh("N" * 64, "nva"))))
    rejected(env, nc, nc.commit, "operation-failed",
             "neighbor %s does not exist in the BGP instance of vrf default "
             "(%% Specify remote-as or peer-group commands first)" % ("N" * 64),
             app_tag="neighbor-not-found")
    nc.edit_config(target="candidate", config=cfg(inst("<branch-to-branch>true</branch-to-branch>",
                                                       vrf="V" * 36)))
    rejected(env, nc, nc.commit, "operation-failed",
             "BGP instance for vrf {0} does not exist in bgpd (router bgp ASN vrf {0})".format("V" * 36),
             app_tag="bgp-instance-not-found")


def test_lenient_values(env, nc):
    """netconfd takes 1 for true and trims values; the result is what
    the edit means."""
    nc.edit_config(target="candidate", config=cfg(inst(
        "<branch-to-branch>1</branch-to-branch>"
        "<neighbor><name> 10.0.0.6 </name><role> nva </role></neighbor>")))
    b2b, got = roles(nc, "candidate")["default"]
    assert b2b is True and got["10.0.0.6"] == "nva"
    nc.discard_changes()


# -- names bgpd cannot take, commits with several errors ---------------------

@pytest.mark.parametrize("name", ["10.0.0.2 remote-as 1", "10.0.0.2\nno router bgp 65515",
                                  "10.0.0.2'] | /x['"])
def test_names_are_not_commands(env, nc, name):
    """A name is looked up in bgpd, never pasted into a command."""
    nc.edit_config(target="candidate", config=cfg(inst(neigh(name, "nva"))))
    e = rejected(env, nc, nc.commit, "operation-failed")
    assert "does not exist in the BGP instance" in e.message or "quote" in e.message


def test_quote_in_existing_name(env, nc):
    env.vtysh("configure terminal", "router bgp 65515", "neighbor Q'1 peer-group")
    try:
        nc.edit_config(target="candidate", config=cfg(inst(neigh("Q'1", "nva"))))
        rejected(env, nc, nc.commit, "operation-failed",
                 "neighbor Q'1: a name with a quote (') cannot have route-server configuration",
                 "frr-bgp-rs:neighbor[frr-bgp-rs:name='Q'1']", app_tag="name-not-supported")
    finally:
        env.vtysh("configure terminal", "router bgp 65515", "no neighbor Q'1 peer-group")


def test_quote_in_vrf(env, nc):
    nc.edit_config(target="candidate", config=cfg(inst(
        "<branch-to-branch>true</branch-to-branch>", vrf="R'ED")))
    rejected(env, nc, nc.commit, "operation-failed",
             "vrf R'ED: a name with a quote (') cannot have route-server configuration",
             "frr-bgp-rs:instance[frr-bgp-rs:vrf='R'ED']", app_tag="name-not-supported")


def test_commit_is_all_or_nothing(env, nc):
    """Valid changes in a commit with unknown neighbors are not applied;
    every unknown neighbor gets its own rpc-error."""
    nc.edit_config(target="candidate", config=cfg(inst(
        "<branch-to-branch>true</branch-to-branch>" + neigh("10.0.0.6", "nva")
        + neigh("10.9.9.8", "nva") + neigh("10.9.9.9", "gateway-vpn"))))
    before = env.vtysh("show running-config"), roles(nc)
    with pytest.raises(RPCError) as ei:
        nc.commit()
    errs = ei.value.errlist
    assert [(x.tag, x.message) for x in errs] == [
        ("operation-failed", "neighbor %s does not exist in the BGP instance of vrf default "
         "(%% Specify remote-as or peer-group commands first)" % n) for n in ("10.9.9.8", "10.9.9.9")]
    assert (env.vtysh("show running-config"), roles(nc)) == before
    assert env.rs_json()["branchToBranch"] is False
    assert "10.0.0.6" not in env.rs_json()["neighbors"]
    nc.discard_changes()


def test_running_target_same_checks(env_running, ncr):
    e = env_running
    rejected(e, ncr, edit(ncr, inst("<branch-to-branch>maybe</branch-to-branch>"), "running"),
             "invalid-value", "invalid value", target="running")
    rejected(e, ncr, edit(ncr, inst(neigh("10.0.0.6", "nva") + neigh("10.0.0.6", "gateway-vpn")),
                          "running"),
             "operation-failed", "neighbor 10.0.0.6 given twice in one edit", N6, target="running")
    rejected(e, ncr, edit(ncr, inst(neigh("N" * 10000, "nva")), "running"),
             "invalid-value", "value not in range", target="running")
    rejected(e, ncr, edit(ncr, inst("<routing-preference>bogus</routing-preference>"), "running"),
             "invalid-value", "value not in set", INST + "/frr-bgp-rs:routing-preference",
             target="running")


def test_running_target_leaf_twice_when_set(env_running, ncr):
    """A leaf given twice where running already has the leaf: yuma123
    calls the SIL for one of the two nodes only; still refused."""
    e = env_running
    ncr.edit_config(target="running", config=cfg(inst(
        "<branch-to-branch>false</branch-to-branch><routing-preference>as-path</routing-preference>")))
    try:
        for leaf, a, b in (("branch-to-branch", "true", "false"),
                           ("routing-preference", "vpn", "as-path"),
                           ("routing-preference", "as-path", "vpn")):
            rejected(e, ncr, edit(ncr, inst("<{0}>{1}</{0}><{0}>{2}</{0}>".format(leaf, a, b)), "running"),
                     "operation-failed", "%s given twice in one edit" % leaf,
                     INST + "/frr-bgp-rs:" + leaf, target="running", app_tag="duplicate-node")
        assert e.rs_json()["routingPreference"] == "as-path"
    finally:
        ncr.edit_config(target="running", config=cfg(inst(
            '<routing-preference nc:operation="remove"/>')))
    assert e.rs_json()["routingPreference"] == "expressroute"


# -- malformed XML on a raw SSH session --------------------------------------

HELLO = ('<?xml version="1.0" encoding="UTF-8"?><hello xmlns="%s"><capabilities>'
         '<capability>urn:ietf:params:netconf:base:1.0</capability></capabilities></hello>' % NC)
GET = '<rpc message-id="9" xmlns="%s"><get-config><source><running/></source></get-config></rpc>' % NC


class Raw:
    """A NETCONF 1.0 session without ncclient: sends any bytes."""

    def __init__(self, env, user=OPER):
        self.t = paramiko.Transport(("127.0.0.1", env.port))
        self.t.connect(username=user, pkey=paramiko.Ed25519Key.from_private_key_file(
            os.path.join(env.keys, user)))
        self.ch = self.t.open_session()
        self.ch.invoke_subsystem("netconf")
        assert "<capabilities>" in self.read()
        self.ch.sendall((HELLO + "]]>]]>").encode())

    def send(self, text):
        self.ch.sendall((text + "]]>]]>").encode())
        return self.read()

    def read(self, timeout=10):
        """One message, or None if the server closed the session."""
        buf, end = b"", time.time() + timeout
        self.ch.settimeout(0.5)
        while b"]]>]]>" not in buf:
            assert time.time() < end, "no reply: %r" % buf[:200]
            try:
                data = self.ch.recv(65536)
            except socket.timeout:
                continue
            if not data:
                return None
            buf += data
        return buf.decode().split("]]>]]>")[0]

    def close(self):
        self.t.close()


def b2b_edit(tail):
    return ('<rpc message-id="1" xmlns="%s"><edit-config><target><candidate/></target><config>'
            '<route-server xmlns="%s"><instance><vrf>default</vrf><branch-to-branch>true'
            '</branch-to-branch></instance></route-server></config></edit-config>%s' % (NC, NS, tail))


RAW = [
    # (id, message, error-tag or None if the server closes, expected texts)
    ("unterminated", b2b_edit(""), "operation-failed",
     ["<error-app-tag>libxml2-error</error-app-tag>", ">xml reader EOF</error-message>"]),
    ("mismatched-tags", b2b_edit("</rpcx>"), None, []),
    ("not-xml", "this is not xml <<<", None, []),
    ("not-rpc", '<foo message-id="3" xmlns="%s"/>' % NC, None, []),
    ("no-message-id", '<rpc xmlns="%s"><get-config><source><running/></source></get-config></rpc>' % NC,
     "missing-attribute", [">missing attribute</error-message>", "nc:message-id</bad-attribute>"]),
    ("unknown-operation", '<rpc message-id="5" xmlns="%s"><frobnicate/></rpc>' % NC,
     "unknown-element", [">definition not found</error-message>", "<error-path>/nc:rpc/frobnicate</error-path>"]),
]


@pytest.mark.parametrize("msg,tag,texts", [r[1:] for r in RAW], ids=[r[0] for r in RAW])
def test_malformed_xml(env, nc, msg, tag, texts):
    before = snapshot(env, nc)
    raw = Raw(env)
    try:
        reply = raw.send(msg)
        if tag is None:
            # base:1.0 has no malformed-message error: netconfd ends the session
            assert reply is None, short(reply)
        else:
            assert "<error-tag>%s</error-tag>" % tag in reply, reply
            for t in texts:
                assert t in reply, reply
            # and the session goes on
            assert "<data" in raw.send(GET)
    finally:
        raw.close()
    assert snapshot(env, nc) == before
    assert not roles(nc, "candidate")["default"][0]


# -- authorisation -----------------------------------------------------------

def sshd_log(env):
    with open(os.path.join(env.bgp, "sshd.out")) as f:
        return f.read()


def refused(env, user, key, reason):
    mark = len(sshd_log(env))
    with pytest.raises(AuthenticationError):
        from ncclient import manager
        manager.connect(host="127.0.0.1", port=env.port, username=user, key_filename=key,
                        hostkey_verify=False, allow_agent=False, look_for_keys=False, timeout=30)
    wait = time.time() + 5
    while reason not in sshd_log(env)[mark:] and time.time() < wait:
        time.sleep(0.2)
    assert reason in sshd_log(env)[mark:], sshd_log(env)[mark:]


def test_key_not_authorised(env):
    key = os.path.join(env.keys, "stranger")
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key], check=True)
    refused(env, OPER, key, "Connection closed by authenticating user %s" % OPER)


def test_authorised_key_of_another_user(env):
    refused(env, OPER, os.path.join(env.keys, OTHER), "Connection closed by authenticating user %s" % OPER)


def test_authorised_key_user_outside_group(env):
    """OTHER's own key is installed, but OTHER is not an operator."""
    assert os.path.exists(os.path.join(env.state, "authorized_keys", OTHER))
    refused(env, OTHER, os.path.join(env.keys, OTHER),
            "User %s from 127.0.0.1 not allowed because none of user's groups are listed "
            "in AllowGroups" % OTHER)


def test_operator_removed_from_group(env, nc):
    """Taking a user out of the group refuses its next login."""
    subprocess.run(["gpasswd", "-d", OPER, GROUP], check=True, capture_output=True)
    try:
        refused(env, OPER, os.path.join(env.keys, OPER),
                "User %s from 127.0.0.1 not allowed because none of user's groups are listed "
                "in AllowGroups" % OPER)
    finally:
        subprocess.run(["gpasswd", "-a", OPER, GROUP], check=True, capture_output=True)
    env.connect().close_session()
