#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""rs-pair-commit.py: one configuration change to both route servers of a
pair, so that either both keep it or neither does (NETCONF, ncclient).

    rs-pair-commit.py [options] SERVER SERVER [SERVER...]

SERVER is [USER@]HOST[:PORT] (port 830 unless given). The change is either
an edit-config <config> document (--config FILE, "-" for stdin) or built
from the options --branch-to-branch, --routing-preference and --role.

How (RFC 6241 :candidate and :confirmed-commit:1.1, both in netconfd):
 1. connect to every server and lock its candidate; any failure: stop,
    nothing was changed;
 2. per server, one after the other: <edit-config> of the candidate and
    <commit><confirmed/><confirm-timeout>N</confirm-timeout></commit>.
    netconfd applies a confirmed commit at once (the route server's SIL
    applies it to bgpd all-or-nothing), and keeps a backup of running;
 3. if a server refuses (rpc-error, e.g. a neighbor it does not have, or
    the commit bgpd refused part-way), or cannot be reached: <cancel-commit>
    on the servers that had accepted it (they roll back to their backup,
    bgpd with them) and <discard-changes> on all. Exit status 1: neither
    keeps the change;
 4. when every server accepted: the confirming <commit> on each. Exit 0:
    all keep it.
Whatever stops this script between 2 and 4 (crash, lost connection), the
servers roll back by themselves: when the session that made the confirmed
commit ends, or at the latest after N seconds (--confirm-timeout, default
60). The one window that remains is step 4 itself: if a server becomes
unreachable after another one already confirmed, that one keeps the change
and the unreachable one rolls back; the script says so (exit 3) and
rs-pair-check (scripts/) shows the difference.

Exit status: 0 all keep the change, 1 none keeps it (refused), 2 nothing
done (connection, lock or usage error), 3 partly confirmed (see above).

Example:
    rs-pair-commit.py --key ~/.ssh/id_ed25519 --branch-to-branch on \\
        alice@rs1 alice@rs2
    rs-pair-commit.py --role 10.1.0.10=gateway-vpn --role 10.1.0.11=none \\
        rs1 rs2
"""

import argparse
import getpass
import sys
from xml.sax.saxutils import escape

from ncclient import manager
from ncclient.operations import RPCError

NS = "http://frrouting.org/yang/bgp-route-server"
NC = "urn:ietf:params:xml:ns:netconf:base:1.0"
ROLES = ("nva", "gateway-expressroute", "gateway-vpn")


def build_change(args):
    """The <config> document for the convenience options."""
    body = ""
    if args.branch_to_branch:
        body += "<branch-to-branch>%s</branch-to-branch>" % (
            "true" if args.branch_to_branch == "on" else "false")
    if args.routing_preference:
        body += "<routing-preference>%s</routing-preference>" % escape(args.routing_preference)
    for item in args.role:
        name, _, role = item.partition("=")
        if not name or role not in ROLES + ("none",):
            raise SystemExit("--role NAME=ROLE, ROLE one of %s or none" % ", ".join(ROLES))
        if role == "none":
            body += '<neighbor nc:operation="remove"><name>%s</name></neighbor>' % escape(name)
        else:
            body += "<neighbor><name>%s</name><role>%s</role></neighbor>" % (escape(name), role)
    if not body:
        raise SystemExit("nothing to change: give --config or a change option")
    return ('<config xmlns:nc="%s"><route-server xmlns="%s"><instance><vrf>%s</vrf>%s'
            "</instance></route-server></config>" % (NC, NS, escape(args.vrf), body))


def parse_server(spec, default_user):
    user, _, hostport = spec.rpartition("@")
    if hostport.startswith("["):  # [v6]:port
        host, _, port = hostport[1:].partition("]")
        port = port.lstrip(":")
    else:
        host, _, port = hostport.partition(":")
    return user or default_user, host, int(port or 830)


def say(msg):
    print(msg, flush=True)


def main(argv=None):
    p = argparse.ArgumentParser(
        description="Apply one change to every route server of a pair: all keep it or none does.",
        formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__.split("\n\n", 1)[1])
    p.add_argument("servers", nargs="+", metavar="SERVER", help="[USER@]HOST[:PORT]")
    p.add_argument("--config", help="edit-config <config> document (file, - for stdin)")
    p.add_argument("--vrf", default="default", help="BGP instance for the options below")
    p.add_argument("--branch-to-branch", choices=("on", "off"))
    p.add_argument("--routing-preference", choices=("expressroute", "vpn", "as-path"))
    p.add_argument("--role", action="append", default=[], metavar="NAME=ROLE",
                   help="role of a neighbor or peer-group (%s, none)" % ", ".join(ROLES))
    p.add_argument("--user", default=getpass.getuser())
    p.add_argument("--key", help="SSH private key file")
    p.add_argument("--password")
    p.add_argument("--no-hostkey-verify", action="store_true")
    p.add_argument("--confirm-timeout", type=int, default=60,
                   help="seconds a server waits for the confirming commit (default 60)")
    p.add_argument("--timeout", type=int, default=60, help="RPC timeout in seconds")
    args = p.parse_args(argv)
    if len(args.servers) < 2:
        p.error("give at least two servers")
    if args.config:
        change = sys.stdin.read() if args.config == "-" else open(args.config).read()
    else:
        change = build_change(args)

    sessions = []  # (label, manager)
    try:
        for spec in args.servers:
            user, host, port = parse_server(spec, args.user)
            kw = dict(host=host, port=port, username=user, timeout=args.timeout,
                      hostkey_verify=not args.no_hostkey_verify,
                      allow_agent=not (args.key or args.password),
                      look_for_keys=not (args.key or args.password))
            if args.key:
                kw["key_filename"] = args.key
            if args.password:
                kw["password"] = args.password
            try:
                m = manager.connect(**kw)
            except Exception as err:
                say("%s: cannot connect: %s; nothing changed" % (spec, err))
                return 2
            sessions.append((spec, m))
            for cap in (":candidate", ":confirmed-commit:1.1"):
                if not any(cap in c for c in m.server_capabilities):
                    say("%s: no %s capability; nothing changed" % (spec, cap))
                    return 2
            try:
                m.lock(target="candidate")
            except RPCError as err:
                say("%s: cannot lock the candidate: %s; nothing changed" % (spec, err.message))
                return 2

        accepted = []
        for spec, m in sessions:
            try:
                m.discard_changes()
                m.edit_config(target="candidate", config=change)
                m.commit(confirmed=True, timeout=str(args.confirm_timeout))
            except Exception as err:
                msg = getattr(err, "message", None) or str(err)
                say("%s: refused: %s" % (spec, msg.strip()))
                for spec2, m2 in accepted:
                    try:
                        m2.cancel_commit()
                        say("%s: cancelled, rolled back" % spec2)
                    except Exception as err2:
                        say("%s: cancel-commit failed (%s): it rolls back when this session "
                            "ends or after %d s" % (spec2, err2, args.confirm_timeout))
                for _, m2 in sessions:
                    try:
                        m2.discard_changes()
                    except Exception:
                        pass
                say("neither keeps the change")
                return 1
            accepted.append((spec, m))
            say("%s: accepted (confirmed commit, %d s to confirm)" % (spec, args.confirm_timeout))

        confirmed, failed = [], []
        for spec, m in sessions:
            try:
                m.commit()
                confirmed.append(spec)
            except Exception as err:
                failed.append(spec)
                say("%s: confirming commit failed: %s (it rolls back)" % (
                    spec, getattr(err, "message", None) or err))
        if failed:
            say("PARTLY CONFIRMED: %s keep the change, %s roll back; run rs-pair-check" % (
                ", ".join(confirmed) or "none", ", ".join(failed)))
            return 3
        say("confirmed on %s: all keep the change" % ", ".join(confirmed))
        return 0
    finally:
        for _, m in sessions:
            try:
                m.unlock(target="candidate")
            except Exception:
                pass
            try:
                m.close_session()
            except Exception:
                pass


if __name__ == "__main__":
    sys.exit(main())
