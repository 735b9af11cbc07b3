#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""
Puts the shipped NACM config (config/nacm.xml) into netconfd's startup
file, run by netconfd-start.sh before each start:

    nacm-startup.py NACM_XML STARTUP_XML OPERATORS_GROUP READERS_GROUP

The <nacm> subtree of STARTUP_XML (netconfd saves running there at each
commit) is replaced by NACM_XML's; everything else (the route-server
subtree) is kept. The <user-name> lists of the NACM groups "operators" and
"readers" are filled from the system groups OPERATORS_GROUP and
READERS_GROUP: their members and the users whose primary group it is; a
user in both is an operator only. A file that does not parse is an error
(exit 1, message on stderr) and STARTUP_XML is left as it was.
"""

import grp
import os
import pwd
import sys
import tempfile
from xml.dom import minidom
from xml.parsers.expat import ExpatError

ACM = "urn:ietf:params:xml:ns:yang:ietf-netconf-acm"
NC = "urn:ietf:params:xml:ns:netconf:base:1.0"


def members(group):
    """Users of a system group: supplementary members and those whose
    primary group it is (sorted). A missing group has none."""
    try:
        g = grp.getgrnam(group)
    except KeyError:
        return set()
    users = set(g.gr_mem)
    users.update(p.pw_name for p in pwd.getpwall() if p.pw_gid == g.gr_gid)
    return users


def elements(node, name, ns=ACM):
    return [c for c in node.childNodes
            if c.nodeType == c.ELEMENT_NODE and c.localName == name
            and c.namespaceURI == ns]


def text(node):
    return "".join(c.data for c in node.childNodes
                   if c.nodeType == c.TEXT_NODE).strip()


def parse(path, what):
    try:
        return minidom.parse(path)
    except (OSError, ExpatError) as e:
        sys.exit("nacm-startup: %s %s: %s" % (what, path, e))


def main(argv):
    if len(argv) != 5:
        sys.exit(__doc__.strip().split("\n\n")[1])
    nacm_file, startup, op_group, rd_group = argv[1:]
    shipped = parse(nacm_file, "NACM config")
    nacm = shipped.documentElement
    if nacm.localName != "nacm" or nacm.namespaceURI != ACM:
        sys.exit("nacm-startup: %s: the top element is not <nacm xmlns=\"%s\">"
                 % (nacm_file, ACM))
    doc = parse(startup, "startup config")
    root = doc.documentElement
    if root.localName != "config" or root.namespaceURI != NC:
        sys.exit("nacm-startup: %s: the top element is not <config xmlns=\"%s\">"
                 % (startup, NC))

    ops = members(op_group)
    users = {"operators": sorted(ops),
             "readers": sorted(members(rd_group) - ops)}
    groups = elements(nacm, "groups")
    for g in groups[0].getElementsByTagNameNS(ACM, "group") if groups else []:
        name = elements(g, "name")
        name = text(name[0]) if name else ""
        for u in elements(g, "user-name"):
            g.removeChild(u).unlink()
        for user in users.get(name, []):
            u = shipped.createElementNS(ACM, "user-name")
            u.appendChild(shipped.createTextNode(user))
            g.appendChild(u)

    for old in elements(root, "nacm"):
        root.removeChild(old).unlink()
    root.appendChild(doc.importNode(nacm, True))

    # replace atomically: netconfd must never see half a file
    fd, tmp = tempfile.mkstemp(prefix=".startup-", dir=os.path.dirname(startup) or ".")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(doc.toxml())
            f.write("\n")
        os.chmod(tmp, 0o600)
        os.replace(tmp, startup)
    except BaseException:
        os.unlink(tmp)
        raise
    for name in ("operators", "readers"):
        print("nacm-startup: NACM group %s: %s"
              % (name, " ".join(users[name]) or "(nobody)"), file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv)
