# SPDX-License-Identifier: GPL-2.0-or-later
"""
Reference model of the route server's advertisement decisions, written from
the behaviour contract (semantics.md, "Advertisement matrix") and ordinary
BGP rules, independently of the module's C code. Pure Python, no FRR.

Given the instance's branch-to-branch flag, each neighbor's role, which
sessions are administratively shut on the route server and which prefixes
each neighbor and the route server itself (VNet) announce, expected()
returns, for every neighbor, the exact set of prefixes it should hold from
the route server. The test keeps every announced prefix unique to one
source, so best-path selection and path hiding never enter the picture:
a prefix names its source.

withheld() gives, for the transient monitor (rs_monitor.py), the sources
whose routes the route server must not send to each neighbor in a state.
"""

NVA = "nva"
ER = "gateway expressroute"
VPN = "gateway vpn"
ROLES = (NVA, ER, VPN)
VNET = "vnet"  # source row of the route server's own routes

# The matrix of semantics.md: source row -> destination column.
# "yes": allowed, "b2b": only while branch-to-branch is on, "no": never.
# Rows and columns for neighbors without a role are "native" (allowed).
MATRIX = {
    VNET: {NVA: "yes", ER: "yes", VPN: "yes"},
    NVA: {NVA: "yes", ER: "b2b", VPN: "b2b"},
    ER: {NVA: "b2b", ER: "no", VPN: "b2b"},
    VPN: {NVA: "b2b", ER: "b2b", VPN: "no"},
}


def module_allows(src_role, dst_role, b2b):
    """The module's verdict for a route of src_role sent to dst_role."""
    if src_role is None or dst_role is None:
        return True
    cell = MATRIX[src_role][dst_role]
    return cell == "yes" or (cell == "b2b" and b2b)


class Neighbor:
    """A BGP neighbor of the route server (the route server's view)."""

    def __init__(self, name, asn, ibgp, rr_client=False):
        self.name, self.asn, self.ibgp, self.rr_client = name, asn, ibgp, rr_client


def bgp_allows(src, dst):
    """Ordinary BGP: does a route learned from src end up held by dst
    (route server sends it and dst accepts it)?"""
    if src is dst:
        # Never back to its sender: either not sent, or dropped by the
        # receiver (its AS in the path, or its ORIGINATOR_ID).
        return False
    if not src.ibgp and not dst.ibgp and src.asn == dst.asn:
        return False  # dst's AS is in the path: loop, dst rejects it
    if src.ibgp and dst.ibgp and not (src.rr_client or dst.rr_client):
        return False  # iBGP split horizon without route reflection
    return True


class Model:
    """filler: neighbor name -> prefixes it always announces (large-table
    mode), on top of its changing `announced` set."""

    def __init__(self, neighbors, vnet=(), filler=None):
        self.neighbors = {n.name: n for n in neighbors}
        self.b2b = False
        self.roles = {n: None for n in self.neighbors}
        self.shut = set()
        self.deleted = set()  # neighbors removed from r1's configuration
        self.announced = {n: set() for n in self.neighbors}
        self.vnet = set(vnet)
        self.filler = {n: frozenset((filler or {}).get(n, ())) for n in self.neighbors}

    def copy(self):
        m = Model(self.neighbors.values(), self.vnet, self.filler)
        m.b2b, m.roles, m.shut = self.b2b, dict(self.roles), set(self.shut)
        m.deleted = set(self.deleted)
        m.announced = {n: set(p) for n, p in self.announced.items()}
        return m

    def gone(self, name):
        """No session on the route server: shut or deleted."""
        return name in self.shut or name in self.deleted

    def expected(self):
        """neighbor name -> set of prefixes it should hold from the RS."""
        out = {}
        for dname, dst in self.neighbors.items():
            held = set()
            if not self.gone(dname):
                if module_allows(VNET, self.roles[dname], self.b2b):
                    held |= self.vnet
                for sname, src in self.neighbors.items():
                    if self.gone(sname) or not bgp_allows(src, dst):
                        continue
                    if module_allows(self.roles[sname], self.roles[dname], self.b2b):
                        held |= self.announced[sname] | self.filler[sname]
            out[dname] = held
        return out

    def withheld(self):
        """neighbor name -> frozenset of sources (neighbor names, VNET)
        whose routes the route server must not send it in this state:
        the matrix denies them, or their source neighbor has no session
        on the route server (shut or deleted: its routes are gone), or
        the neighbor itself is shut or deleted.

        Unlike expected() this ignores which prefixes the sources announce
        (a speaker's own announce or withdraw reaches the route server on
        the speaker's timing, not at the moment the test changes it) and
        ordinary BGP rules (a route reflected back to its sender, which
        drops it, is ordinary BGP, not the route-server policy)."""
        sources = [VNET] + sorted(self.neighbors)
        out = {}
        for dname in self.neighbors:
            if self.gone(dname):
                out[dname] = frozenset(sources)
                continue
            out[dname] = frozenset(
                s for s in sources
                if (s != VNET and self.gone(s)) or not module_allows(
                    VNET if s == VNET else self.roles[s], self.roles[dname], self.b2b))
        return out

    def describe(self):
        roles = ", ".join("{}={}".format(n, r or "-") for n, r in sorted(self.roles.items()))
        filler = max((len(f) for f in self.filler.values()), default=0)
        return "b2b={} roles[{}] shut={} deleted={} vnet={} announced={}{}".format(
            "on" if self.b2b else "off", roles, sorted(self.shut), sorted(self.deleted),
            sorted(self.vnet), {n: sorted(p) for n, p in sorted(self.announced.items())},
            " (+{} filler prefixes each)".format(filler) if filler else "")


def _self_check():
    """Spot checks of the model against rows of the matrix (run at import
    so a broken edit of the table fails loudly)."""
    assert module_allows(NVA, NVA, False)
    assert not module_allows(NVA, ER, False) and module_allows(NVA, ER, True)
    assert not module_allows(ER, ER, True) and not module_allows(VPN, VPN, True)
    assert module_allows(VNET, VPN, False) and module_allows(None, ER, False)
    assert module_allows(ER, None, False)


_self_check()
