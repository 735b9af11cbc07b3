# SPDX-License-Identifier: GPL-2.0-or-later
"""
Reference model of the route server's advertisement decisions, written from
the behaviour contract (semantics.md: "Advertisement matrix", "Best allowed
path", "Routing preference") and ordinary BGP rules, independently of the
module's C code. Pure Python, no FRR.

State: the instance's branch-to-branch flag and routing preference, each
neighbor's role, which sessions are shut or deleted on the route server,
which prefixes each neighbor and the route server itself (VNet) announce
and, per neighbor and prefix, the announced attributes: how many times the
neighbor's tag AS is in the AS path (the prepend count) and the MED.

A prefix may be announced by several neighbors. The model ranks the paths
of a prefix the way bgpd does with the attributes the test varies
(route server configured with `bgp always-compare-med` and `bgp bestpath
compare-routerid`; weight 0 and local preference 100 on every learned
path, ORIGIN IGP everywhere, all next hops connected):

  1. weight: the route server's own (VNet) path first (32768)
  1.5 routing preference: expressroute ranks ER-role paths over VPN- and
     NVA-role paths, vpn the reverse (VPN and NVA tie), as-path nothing;
     a path from a role-less neighbor (Model.unranked): "preferred" - it
     ranks with the preferred class (the preference only demotes the
     other one), "tie" - it is not ranked at all (the step does not decide
     when either path is unranked)
  4. AS path length, shorter first
  6. MED, lower first (always compared)
  7. eBGP over iBGP
  13. router ID, lower first (the neighbors' router IDs are distinct, so
     the order is total)

With "tie", unranked paths tie with everything at step 1.5 and the
relation can be cyclic (ranked A beats ranked B by preference, B beats
unranked C by AS path, C beats A by AS path). bgpd's sorted path list then
depends on the order the paths arrived in; the model calls such a prefix
ambiguous and accepts, for each receiver, any path the policy allows it.
With "preferred" the order is always total.

expected() gives, per neighbor, each prefix it should hold from the route
server and the acceptable AS paths as the neighbor sees them (the AS path
names the source: every neighbor's announcements carry its tag AS).
withheld() gives, for the transient monitor (rs_monitor.py), the sources
whose routes the route server must not send to each neighbor in a state.
"""

import itertools

NVA = "nva"
ER = "gateway expressroute"
VPN = "gateway vpn"
ROLES = (NVA, ER, VPN)
VNET = "vnet"  # source row of the route server's own routes
PREFS = ("expressroute", "vpn", "as-path")
DEFAULT_PREF = "expressroute"
RS_AS = 65515

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


UNRANKED = ("tie", "preferred")


def pref_rank(role, pref, unranked="tie"):
    """Rank of a path from a neighbor of role under the routing preference
    (higher is preferred; 0: not ranked, the step does not decide).
    unranked: how a path without a role (or VNet) ranks: "tie" - not at
    all (it ties with every path at this step), "preferred" - with the
    preferred class (the preference only demotes the other class)."""
    if role == ER:
        return {"expressroute": 2, "vpn": 1}.get(pref, 0)
    if role in (VPN, NVA):
        return {"expressroute": 1, "vpn": 2}.get(pref, 0)
    if unranked == "preferred":
        return {"expressroute": 2, "vpn": 2}.get(pref, 0)
    return 0  # no role, VNet


class Neighbor:
    """A BGP neighbor of the route server (the route server's view).
    addr is also its router ID; tag is the AS it puts in the AS path of
    everything it announces from its pool (the prepend count is how many
    times)."""

    def __init__(self, name, asn, ibgp, rr_client=False, addr=None, tag=None):
        self.name, self.asn, self.ibgp, self.rr_client = name, asn, ibgp, rr_client
        self.addr, self.tag = addr, tag
        self.rid = tuple(int(x) for x in addr.split(".")) if addr else (0,)


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


class Path:
    """A path in the route server's table: source (neighbor name or VNET),
    its role, the AS path and MED as the route server holds them."""

    __slots__ = ("source", "role", "aspath", "med", "key")

    def __init__(self, source, role, aspath, med, ebgp, rid):
        self.source, self.role, self.aspath, self.med = source, role, tuple(aspath), med
        # bgpd's steps after the preference, lower first
        self.key = (len(self.aspath), med, 0 if ebgp else 1, rid)

    def __repr__(self):
        return "{}[{}]".format(self.source, " ".join(map(str, self.aspath)))


def better(a, b, pref, unranked="tie"):
    """bgp_path_info_cmp(): is a preferred to b?"""
    if (a.source == VNET) != (b.source == VNET):
        return a.source == VNET  # weight 32768
    ra, rb = pref_rank(a.role, pref, unranked), pref_rank(b.role, pref, unranked)
    if ra and rb and ra != rb:
        return ra > rb
    return a.key < b.key


def selection(paths, pref, unranked="tie"):
    """The paths in bgpd's best-path order, or None when the relation is
    not transitive (the order depends on the paths' arrival)."""
    def gt(a, b):
        return better(a, b, pref, unranked)

    for a, b, c in itertools.permutations(paths, 3):
        if gt(a, b) and gt(b, c) and not gt(a, c):
            return None
    return sorted(paths, key=lambda p: -sum(gt(p, q) for q in paths if q is not p))


NOTHING = frozenset([None])


class Model:
    """filler: neighbor name -> prefixes it always announces (large-table
    mode), on top of its changing `announced` set, without tag or MED.
    attrs: neighbor name -> prefix -> (prepend count, MED) for the
    prefixes of its pool."""

    def __init__(self, neighbors, vnet=(), filler=None, unranked="preferred"):
        assert unranked in UNRANKED
        self.neighbors = {n.name: n for n in neighbors}
        self.unranked = unranked  # see pref_rank()
        self.b2b = False
        self.pref = DEFAULT_PREF
        self.roles = {n: None for n in self.neighbors}
        self.shut = set()
        self.deleted = set()  # neighbors removed from r1's configuration
        self.announced = {n: set() for n in self.neighbors}
        self.attrs = {n: {} for n in self.neighbors}
        self.vnet = set(vnet)
        self.filler = {n: frozenset((filler or {}).get(n, ())) for n in self.neighbors}

    def copy(self):
        m = Model(self.neighbors.values(), self.vnet, self.filler, self.unranked)
        m.b2b, m.pref, m.roles, m.shut = self.b2b, self.pref, dict(self.roles), set(self.shut)
        m.deleted = set(self.deleted)
        m.announced = {n: set(p) for n, p in self.announced.items()}
        m.attrs = {n: dict(a) for n, a in self.attrs.items()}
        return m

    def gone(self, name):
        """No session on the route server: shut or deleted."""
        return name in self.shut or name in self.deleted

    # --- paths ----------------------------------------------------------

    def route_path(self, name, prefix):
        """AS path of name's announcement of prefix as the route server
        holds it (an eBGP neighbor's own AS first)."""
        nb = self.neighbors[name]
        k, _ = self.attrs[name].get(prefix, (0, 0))
        return (() if nb.ibgp else (nb.asn,)) + (nb.tag,) * k

    def med(self, name, prefix):
        return self.attrs[name].get(prefix, (0, 0))[1]

    def path(self, name, prefix):
        nb = self.neighbors[name]
        return Path(name, self.roles[name], self.route_path(name, prefix),
                    self.med(name, prefix), not nb.ibgp, nb.rid)

    def sources(self, prefix):
        """Neighbors with a path of prefix on the route server."""
        return [n for n in sorted(self.neighbors)
                if not self.gone(n) and (prefix in self.announced[n] or prefix in self.filler[n])]

    def paths(self, prefix):
        out = [self.path(n, prefix) for n in self.sources(prefix)]
        if prefix in self.vnet:
            out.append(Path(VNET, None, (), 0, False, (0,)))
        return out

    def seen(self, dst, path):
        """The AS path dst receives for path (the route server prepends its
        AS towards eBGP neighbors)."""
        return path.aspath if dst.ibgp else (RS_AS,) + path.aspath

    def outcomes(self, dname, prefix, order, paths):
        """frozenset of what dname may hold for prefix: AS paths, None for
        nothing. order: selection() of paths."""
        dst = self.neighbors[dname]

        def held(p):
            if p.source != VNET and not bgp_allows(self.neighbors[p.source], dst):
                return None  # its own path: nothing sent, it keeps its own
            return self.seen(dst, p)

        allowed = [p for p in (order if order is not None else paths)
                   if module_allows(VNET if p.source == VNET else p.role, self.roles[dname], self.b2b)]
        if not allowed:
            return NOTHING
        if order is not None:
            return frozenset([held(allowed[0])])
        return frozenset(held(p) for p in allowed)

    def all_prefixes(self):
        out = set(self.vnet)
        for n in self.neighbors:
            out |= self.announced[n] | self.filler[n]
        return out

    def expected(self):
        """neighbor name -> {prefix: frozenset of acceptable AS paths as it
        sees them (None in the set: holding nothing is acceptable too)};
        prefixes it must not hold are absent."""
        out = {n: {} for n in self.neighbors}
        live = [n for n in sorted(self.neighbors) if not self.gone(n)]
        announced = set().union(*(self.announced[n] for n in live))
        # single-source filler prefixes in bulk (large-table mode)
        for s in live:
            fill = self.filler[s] - announced - self.vnet
            if not fill:
                continue
            for d in live:
                o = self.outcomes(d, None, [self.path(s, None)], [])
                if o != NOTHING:
                    out[d].update(dict.fromkeys(fill, o))
        for prefix in self.vnet | announced:
            paths = self.paths(prefix)
            if not paths:
                continue
            order = selection(paths, self.pref, self.unranked)
            for d in live:
                o = self.outcomes(d, prefix, order, paths)
                if o != NOTHING:
                    out[d][prefix] = o
        return out

    def best(self, prefix):
        """(sources that may be the route server's own best path, ambiguous)."""
        paths = self.paths(prefix)
        if not paths:
            return frozenset(), False
        order = selection(paths, self.pref, self.unranked)
        if order is None:
            return frozenset(p.source for p in paths), True
        return frozenset([order[0].source]), False

    def analyse(self, prefix):
        """Per-receiver classification of a prefix for the coverage counts:
        receiver -> one of "best" (r1's overall best), "substitute" (another
        allowed path), "none" (no path allowed), "own" (its own path is the
        best allowed), "ambiguous"; and whether the routing preference
        decided r1's best (the as-path order would choose another)."""
        paths = self.paths(prefix)
        out = {}
        if not paths:
            return out, False
        order = selection(paths, self.pref, self.unranked)
        plain = selection(paths, "as-path")
        by_pref = order is not None and order[0].source != plain[0].source
        for d in self.neighbors:
            if self.gone(d):
                continue
            if order is None:
                out[d] = "ambiguous"
                continue
            allowed = [p for p in order if module_allows(
                VNET if p.source == VNET else p.role, self.roles[d], self.b2b)]
            if not allowed:
                out[d] = "none"
            elif allowed[0].source == d:
                out[d] = "own"
            else:
                out[d] = "best" if allowed[0] is order[0] else "substitute"
        return out, by_pref

    def withheld(self):
        """neighbor name -> frozenset of sources (neighbor names, VNET)
        whose routes the route server must not send it in this state:
        the matrix denies them, or their source neighbor has no session
        on the route server (shut or deleted: its routes are gone), or
        the neighbor itself is shut or deleted.

        Unlike expected() this ignores which prefixes the sources announce
        and with which attributes (a speaker's own announce or withdraw
        reaches the route server on the speaker's timing, not at the
        moment the test changes it), the best-path order (a path of
        another allowed source is a legitimate substitute at any time) and
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

    def describe(self, prefixes=None):
        """The state in one line; prefixes: show the attributes of these
        (default: every announced pool prefix)."""
        roles = ", ".join("{}={}".format(n, r or "-") for n, r in sorted(self.roles.items()))
        filler = max((len(f) for f in self.filler.values()), default=0)
        ann = {n: ["{}(x{} med {})".format(p, *self.attrs[n].get(p, (0, 0))) for p in sorted(ps)
                   if prefixes is None or p in prefixes] for n, ps in sorted(self.announced.items())}
        return "b2b={} pref={} roles[{}] shut={} deleted={} vnet={} announced={}{}".format(
            "on" if self.b2b else "off", self.pref, roles, sorted(self.shut), sorted(self.deleted),
            sorted(self.vnet), ann,
            " (+{} filler prefixes each)".format(filler) if filler else "")


def _self_check():
    """Spot checks of the model against rows of the matrix and the
    examples of semantics.md (run at import so a broken edit of the table
    or of the order fails loudly)."""
    assert module_allows(NVA, NVA, False)
    assert not module_allows(NVA, ER, False) and module_allows(NVA, ER, True)
    assert not module_allows(ER, ER, True) and not module_allows(VPN, VPN, True)
    assert module_allows(VNET, VPN, False) and module_allows(None, ER, False)
    assert module_allows(ER, None, False)
    # semantics.md, "Best allowed path": P from ER gateway A (shorter AS
    # path) and from NVA 1; NVA 2 gets NVA 1's path, VPN gateways nothing;
    # b2b on: ER gateway B gets NVA 1's, VPN gateways A's.
    nbrs = [Neighbor("a", 65001, False, addr="10.0.0.1", tag=64601),
            Neighbor("n1", 65002, False, addr="10.0.0.2", tag=64602),
            Neighbor("n2", 65003, False, addr="10.0.0.3", tag=64603),
            Neighbor("b", 65004, False, addr="10.0.0.4", tag=64604),
            Neighbor("v", 65005, False, addr="10.0.0.5", tag=64605)]
    m = Model(nbrs)
    m.roles.update(a=ER, n1=NVA, n2=NVA, b=ER, v=VPN)
    m.announced.update(a={"P"}, n1={"P"})
    m.attrs["a"]["P"], m.attrs["n1"]["P"] = (1, 0), (3, 0)
    src = {d: {p[2] for p in ps.get("P", ())} for d, ps in m.expected().items()}
    assert src == {"a": set(), "n1": set(), "n2": {64602}, "b": set(), "v": set()}, src
    m.b2b = True
    src = {d: {p[2] for p in ps.get("P", ())} for d, ps in m.expected().items()}
    assert src == {"a": {64602}, "n1": {64601}, "n2": {64601}, "b": {64602}, "v": {64601}}, src
    # routing preference vpn: n1's longer path wins; as-path: a's again
    m.pref = "vpn"
    assert m.best("P") == (frozenset(["n1"]), False)
    m.pref = "as-path"
    assert m.best("P") == (frozenset(["a"]), False)
    # a role-less path between them in AS path length: not ranked at all,
    # a cycle under expressroute with n1 preferred by AS path
    m.pref, m.unranked = "expressroute", "tie"
    m.attrs["a"]["P"], m.attrs["n1"]["P"] = (3, 0), (1, 0)
    m.announced["v"] = {"P"}
    m.attrs["v"]["P"] = (2, 0)
    m.roles["v"] = None
    assert m.best("P") == (frozenset(["a", "n1", "v"]), True)
    # ranked with the preferred class the role-less path beats n1 (NVA)
    # and ties with a (ER), which it beats by AS path: a total order
    m.unranked = "preferred"
    assert m.best("P") == (frozenset(["v"]), False)


_self_check()
