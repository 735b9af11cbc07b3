# SPDX-License-Identifier: GPL-2.0-or-later
"""
NACM (RFC 8341) enforced by netconfd, with real users over SSH (ncclient
with their keys): an operator (system group RS_NC_GROUP) reads and writes
the route-server model, a reader (RS_NC_READ_GROUP) reads it and gets
access-denied for any change, a user in neither group is refused by sshd
and, on the socket itself, by NACM. A user added to a group while netconfd
runs gets its rights without a restart. A local user who connects to
netconfd's socket and claims another user's name is disconnected (the SIL
checks the name against the socket peer's uid). /nacm cannot be written
over NETCONF. See netconf/config/nacm.xml and netconf/README.md.
"""

import os
import shutil
import subprocess
import tempfile
import xml.etree.ElementTree as ET

import pytest
from ncclient.operations import RPCError
from ncclient.transport.errors import AuthenticationError

import test_netconf as tn
from test_netconf import FILTER, NC, NCDIR, cfg, inst, neigh, roles, run, wait_for

ACM = "urn:ietf:params:xml:ns:yang:ietf-netconf-acm"
OPG, RDG = "rs-nacmt-ops", "rs-nacmt-rds"  # system groups of this module
OP = "rsnacmtop"  # in OPG
RD = "rsnacmtrd"  # in RDG
NO = "rsnacmtno"  # in neither
LATE = "rsnacmtlate"  # in neither at first; added to RDG by a test
BOTH = "rsnacmtboth"  # in both: an operator
USERS = ((OP, [OPG]), (RD, [RDG]), (NO, []), (LATE, []), (BOTH, [OPG, RDG]))
NACM_FILTER = ("subtree", '<nacm xmlns="%s"/>' % ACM)


class NacmEnv(tn.Env):
    """test_netconf.Env with this module's own users and groups (other
    test modules may run at the same time with theirs)."""

    def __init__(self):
        super().__init__(users=USERS, group=OPG, read_group=RDG)

    def netconfd_log(self):
        with open(os.path.join(self.state, "netconfd", "netconfd.log")) as f:
            return f.read()


def nacm_env(target):
    yield from tn.started_env(target, make=NacmEnv)


@pytest.fixture(scope="module")
def env():
    yield from nacm_env("candidate")


@pytest.fixture(scope="module")
def env_running():
    yield from nacm_env("running")


def session(env, user):
    return env.connect(user)


def denied(fn, msg=None):
    with pytest.raises(RPCError) as ei:
        fn()
    assert ei.value.tag == "access-denied", (ei.value.tag, ei.value.message)
    if msg:
        assert msg in (ei.value.message or ""), ei.value.message
    return ei.value


def nacm_groups(m):
    """{NACM group: [user-name...]} of running, as an operator reads it."""
    data = ET.fromstring(m.get_config("running", filter=NACM_FILTER).data_xml)
    return {g.find("{%s}name" % ACM).text:
            sorted(u.text for u in g.findall("{%s}user-name" % ACM))
            for gs in data.iter("{%s}groups" % ACM) for g in gs.findall("{%s}group" % ACM)}


def nacm_edit(m, body, target="candidate", attr=""):
    return m.edit_config(target=target, config=(
        '<config xmlns:nc="%s"><nacm xmlns="%s"%s>%s</nacm></config>' % (NC, ACM, attr, body)))


HELLO = ('<?xml version="1.0" encoding="UTF-8"?><hello xmlns="%s"><capabilities>'
         '<capability>urn:ietf:params:netconf:base:1.0</capability></capabilities></hello>]]>]]>' % NC)


def rpc(mid, body):
    return '<rpc message-id="%s" xmlns="%s">%s</rpc>]]>]]>' % (mid, NC, body)


def socket_session(env, user, claim, rpcs, wait=3):
    """Runs netconf-subsystem as `user` straight on netconfd's socket (no
    sshd), with USER=claim; sends hello, then each rpc (one at a time:
    netconfd does not answer an rpc that arrives in the same read as the
    hello); returns what came back."""
    d = tempfile.mkdtemp(prefix="rs-nacm-msg-")
    os.chmod(d, 0o755)
    try:
        files = []
        for i, msg in enumerate([HELLO] + list(rpcs)):
            files.append(os.path.join(d, "%d.xml" % i))
            with open(files[-1], "w") as f:
                f.write(msg)
            os.chmod(files[-1], 0o644)
        feed = "; sleep 1; ".join('cat "%s"' % f for f in files)
        sh = ('(%s; sleep %d) | USER="$1" SSH_CONNECTION="127.0.0.1 40000 127.0.0.1 $2" '
              '/usr/sbin/netconf-subsystem --ncxserver-sockname="$2@$3"' % (feed, wait))
        r = subprocess.run(
            ["runuser", "-u", user, "--", "/bin/sh", "-c", sh, "sh", claim,
             str(env.port), os.path.join(env.sock, "ncxserver.sock")],
            capture_output=True, text=True, timeout=60)
        return r.stdout
    finally:
        shutil.rmtree(d, ignore_errors=True)


GET_CONFIG = "<get-config><source><running/></source></get-config>"
EDIT_6 = ('<edit-config><target><candidate/></target>%s</edit-config>'
          % cfg(inst(neigh("10.0.0.6", "nva"))).replace("<config ", '<config xmlns="%s" ' % NC, 1))


# -- setup -----------------------------------------------------------------

def test_groups_and_sshd_allow_both(env):
    for g in (OPG, RDG):
        assert subprocess.run(["getent", "group", g], capture_output=True).returncode == 0
    with open(os.path.join(env.state, "sshd", "sshd_config")) as f:
        assert "\nAllowGroups %s %s\n" % (OPG, RDG) in f.read()


def test_startup_has_shipped_nacm_with_system_groups(env):
    m = session(env, OP)
    try:
        # BOTH is in both groups: an operator only
        assert nacm_groups(m) == {"operators": sorted([OP, BOTH]), "readers": [RD]}
        data = m.get_config("running", filter=NACM_FILTER).data_xml
        for leaf in ("<enable-nacm>true</enable-nacm>", "<read-default>deny</read-default>",
                     "<write-default>deny</write-default>", "<exec-default>deny</exec-default>"):
            assert leaf in data
    finally:
        m.close_session()
    # netconfd-start.sh execs netconfd: same pid
    with open("/proc/%d/cmdline" % env.procs["netconfd"].pid) as f:
        args = f.read().split("\0")
    assert "--access-control=enforcing" in args and args[0].endswith("netconfd")


def test_socket_dir_admits_both_groups(env):
    st = os.stat(env.sock)
    assert st.st_uid == 0 and st.st_gid == 0 and st.st_mode & 0o777 == 0o711


# -- operators -------------------------------------------------------------

def test_operator_edit_commit_reaches_bgpd(env):
    for user in (OP, BOTH):
        m = session(env, user)
        try:
            role = "nva" if user == OP else "gateway-expressroute"
            m.edit_config(target="candidate", config=cfg(inst(neigh("10.0.0.6", role))))
            m.commit()
            want = " neighbor 10.0.0.6 route-server role %s\n" % (
                "nva" if user == OP else "gateway expressroute")
            assert want in env.vtysh("show running-config")
            assert roles(m)["default"][1]["10.0.0.6"] == role
        finally:
            m.close_session()


# -- readers ---------------------------------------------------------------

def test_reader_reads_config_and_state(env):
    m = session(env, RD)
    try:
        assert roles(m)["default"][1]["10.0.0.2"] == "nva"
        assert roles(m, "candidate")["default"][1]["10.0.0.2"] == "nva"
        data = ET.fromstring(m.get(filter=FILTER).data_xml)
        states = [n.find("{%s}session-state" % tn.NS) for n in data.iter("{%s}neighbor" % tn.NS)]
        assert any(s is not None and s.text for s in states)
        # read-default deny: nothing but the route-server model
        everything = ET.fromstring(m.get().data_xml)
        assert {c.tag for c in everything} == {"{%s}route-server" % tn.NS}
    finally:
        m.close_session()


def test_reader_edits_are_access_denied(env):
    before = env.vtysh("show running-config")
    m = session(env, RD)
    op = session(env, OP)
    try:
        run_before = roles(op)
        denied(lambda: m.edit_config(target="candidate", config=cfg(inst(neigh("10.0.0.4", "nva")))))
        denied(m.commit)
        denied(lambda: m.lock("candidate"))
        denied(lambda: m.unlock("candidate"))
        denied(m.discard_changes)
        denied(lambda: m.validate(source="candidate"))
        denied(lambda: m.copy_config(source="running", target="candidate"))
        denied(lambda: m.delete_config(target="candidate"))
        denied(lambda: m.kill_session(op.session_id))
        # an operator's uncommitted edit is neither committed nor thrown away
        op.edit_config(target="candidate", config=cfg(inst(neigh("10.0.0.5", "nva"))))
        denied(m.commit)
        denied(m.discard_changes)
        assert roles(op, "candidate")["default"][1]["10.0.0.5"] == "nva"
        op.discard_changes()
        assert env.vtysh("show running-config") == before
        assert roles(op) == run_before
        assert "10.0.0.4" not in roles(m)["default"][1]
    finally:
        m.close_session()
        op.close_session()


def test_reader_receives_notifications(env):
    m = session(env, RD)
    op = session(env, OP)
    try:
        m.create_subscription()
        op.edit_config(target="candidate", config=cfg(inst(neigh("10.0.0.6", op="remove"))))
        op.commit()
        n = m.take_notification(timeout=15)
        assert n is not None and "netconf-config-change" in n.notification_xml
    finally:
        m.close_session()
        op.close_session()


# -- neither ---------------------------------------------------------------

def test_user_in_neither_group_is_refused(env):
    with pytest.raises(AuthenticationError):
        env.connect(NO)
    # on the socket itself (no sshd), under its own name: the session is
    # closed before any operation (NACM would deny them all anyway)
    before = env.vtysh("show running-config")
    out = socket_session(env, NO, NO, [rpc(1, GET_CONFIG), rpc(2, EDIT_6)])
    assert "rpc-reply" not in out and "<data" not in out, out
    assert "user '%s' is in neither NETCONF group: session closed" % NO in env.netconfd_log()
    assert env.vtysh("show running-config") == before


# -- identity --------------------------------------------------------------

def test_claiming_another_user_on_the_socket_is_refused(env):
    before = env.vtysh("show running-config")
    # control: the same client under the reader's own name works
    out = socket_session(env, RD, RD, [rpc(1, GET_CONFIG)])
    assert "<data" in out and "route-server" in out, out
    # the reader claims to be the operator: closed before any operation
    out = socket_session(env, RD, OP, [rpc(1, EDIT_6), rpc(2, "<commit/>")])
    assert "rpc-reply" not in out, out
    assert env.vtysh("show running-config") == before
    assert "claims user '%s' but the socket peer is user '%s'" % (OP, RD) in env.netconfd_log()
    m = session(env, OP)
    try:
        assert "10.0.0.6" not in roles(m, "candidate")["default"][1]
    finally:
        m.close_session()


# -- /nacm -----------------------------------------------------------------

def test_nobody_writes_nacm(env):
    m = session(env, OP)
    try:
        before = m.get_config("running", filter=NACM_FILTER).data_xml
        denied(lambda: nacm_edit(m, "<groups><group><name>operators</name>"
                                 "<user-name>%s</user-name></group></groups>" % NO))
        denied(lambda: nacm_edit(m, "<exec-default>permit</exec-default>"))
        denied(lambda: nacm_edit(m, '<rule-list nc:operation="delete"><name>readers</name></rule-list>'))
        denied(lambda: nacm_edit(m, "", attr=' nc:operation="replace"'),
               msg="cannot be changed over NETCONF")
        denied(lambda: nacm_edit(m, "", attr=' nc:operation="delete"'))
        m.commit()  # nothing pending
        assert m.get_config("running", filter=NACM_FILTER).data_xml == before
    finally:
        m.discard_changes()
        m.close_session()
    r = session(env, RD)
    try:
        denied(lambda: nacm_edit(r, "<exec-default>permit</exec-default>"))
    finally:
        r.close_session()


def test_running_target_nacm_replace_refused(env_running):
    e = env_running
    m = session(e, OP)
    try:
        before = m.get_config("running", filter=NACM_FILTER).data_xml
        assert before.count("<rule>") > 10
        denied(lambda: nacm_edit(m, "", target="running", attr=' nc:operation="replace"'),
               msg="cannot be changed over NETCONF")
        denied(lambda: nacm_edit(m, '<groups nc:operation="replace"/>', target="running"))
        assert m.get_config("running", filter=NACM_FILTER).data_xml == before
        # the operator still edits running; the reader does not
        m.edit_config(target="running", config=cfg(inst(neigh("10.0.0.6", "nva"))))
        assert " neighbor 10.0.0.6 route-server role nva\n" in e.vtysh("show running-config")
    finally:
        m.close_session()
    r = session(e, RD)
    try:
        denied(lambda: r.edit_config(target="running", config=cfg(inst(neigh("10.0.0.4", "nva")))))
        assert "10.0.0.4" not in roles(r)["default"][1]
    finally:
        r.close_session()


# -- group membership while netconfd runs ---------------------------------

def test_group_changes_apply_while_running(env):
    with pytest.raises(AuthenticationError):
        env.connect(LATE)
    rd = session(env, RD)
    try:
        run("gpasswd", "-a", LATE, RDG)
        run("gpasswd", "-d", RD, RDG)

        def late_reads():
            try:
                m = env.connect(LATE)
            except Exception:
                return False
            try:
                return "10.0.0.2" in roles(m)["default"][1]
            except RPCError:
                return False
            finally:
                m.close_session()
        # the SIL refreshes the groups every FRR_RS_SYNC_INTERVAL (2 s),
        # when netconfd has been idle: poll slowly
        wait_for(late_reads, timeout=40, interval=4, what="LATE to read")
        m = session(env, OP)
        try:
            assert nacm_groups(m)["readers"] == [LATE]
        finally:
            m.close_session()
        # RD's open session lost its rights
        denied(lambda: roles(rd))
    finally:
        subprocess.run(["gpasswd", "-a", RD, RDG], capture_output=True)
        rd.close_session()


# -- the startup file ------------------------------------------------------

def test_nacm_startup_script(tmp_path):
    script = os.path.join(NCDIR, "scripts", "nacm-startup.py")
    shipped = os.path.join(NCDIR, "config", "nacm.xml")
    start = tmp_path / "startup-cfg.xml"
    start.write_text(
        '<config xmlns="%s"><route-server xmlns="%s"><instance><vrf>default</vrf>'
        '<branch-to-branch>true</branch-to-branch></instance></route-server>'
        '<nacm xmlns="%s"><enable-nacm>false</enable-nacm><groups><group><name>operators</name>'
        '<user-name>intruder</user-name></group></groups></nacm></config>' % (NC, tn.NS, ACM))
    # root is in group root (primary); daemon's primary group is daemon
    r = run("/usr/bin/python3", script, shipped, str(start), "root", "daemon")
    assert "operators: root" in r.stderr
    doc = ET.parse(start).getroot()
    assert doc.find("{%s}route-server/{%s}instance/{%s}branch-to-branch"
                    % (tn.NS, tn.NS, tn.NS)).text == "true"
    nacms = doc.findall("{%s}nacm" % ACM)
    assert len(nacms) == 1 and nacms[0].find("{%s}enable-nacm" % ACM).text == "true"
    users = {g.find("{%s}name" % ACM).text: [u.text for u in g.findall("{%s}user-name" % ACM)]
             for g in nacms[0].iter("{%s}group" % ACM) if g.find("{%s}name" % ACM) is not None}
    assert users["operators"] == ["root"] and "intruder" not in str(users)
    assert "daemon" in users["readers"]
    # the rules' paths keep their namespace declarations
    assert 'xmlns:frr-bgp-rs="%s"' % tn.NS in start.read_text()
    # a startup file that does not parse: an error, the file unchanged
    start.write_text("<config")
    r = run("/usr/bin/python3", script, shipped, str(start), "root", "daemon", check=False)
    assert r.returncode == 1 and "startup config" in r.stderr
    assert start.read_text() == "<config"
