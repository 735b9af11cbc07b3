# SPDX-License-Identifier: GPL-2.0-or-later
"""
The benchmark's topology and configurations: one shared segment, a route
server (rs) and eleven BIRD 2 speakers that both inject and receive:
an ExpressRoute gateway with N prefixes, two sessions of an active-active
VPN gateway announcing the same prefixes, and eight NVAs with 4,000
prefixes each (Azure's per-peer limit). The route-server variants:

  a  bgpd without the module, no policy at all (the limit)
  b  bgpd, the policy as an FRR expert writes it in config only:
     peer-groups per role, outbound route-maps with `match src-peer`
  c  bgpd with the route_server module (roles on the peer-groups)
  c0 the same with an older build of FRR + module (--baseline-prefix)
  d  BIRD 2 as route server, export filters on the source protocol
  d0 (backup workload) the same without `secondary`: BIRD sends a
     neighbor the best path or nothing, as bgpd did before the module sent
     each role its best allowed path

Workloads:

  base    every prefix comes from one role (VPN prefixes from both
          sessions of the VPN gateway)
  backup  the base workload, and the ExpressRoute prefixes are also
          announced by an SD-WAN NVA pair (nva1, nva2: one ASN, AS path
          prepended once and twice), the backup design: ExpressRoute's
          path is the best, the NVAs' paths are what a role the
          ExpressRoute path is withheld from gets instead
"""

import os

RS_AS = 65515
RS_IP = "10.0.0.1"
VNET = "10.200.0.0/16"
# BFD on the steady-state source's session, as docs/high-availability.md
# configures it: 100 ms x 3 (detection in 300 ms)
BFD_MS, BFD_MULT = 100, 3
BFDD_CONF = ("bfd\n profile fast\n  detect-multiplier %d\n  receive-interval %d\n  transmit-interval %d\n"
             " exit\nexit\n" % (BFD_MULT, BFD_MS, BFD_MS))


def bird_bfd():
    return ('protocol bfd {\n  interface "*" { min rx interval %d ms; min tx interval %d ms; multiplier %d; };\n}\n'
            % (BFD_MS, BFD_MS, BFD_MULT))
NVA_ROUTES = 4000
VPN_ROUTES = 1000
VARIANTS = ("a", "b", "c", "c0", "d", "d0")
WORKLOADS = ("base", "backup")

# name -> (role, AS, address, prefix generator key)
PEERS = {"er1": ("er", 65010, "10.0.0.10")}
PEERS.update({"vpn%d" % i: ("vpn", 65020, "10.0.0.2%d" % i) for i in (1, 2)})
PEERS.update({"nva%d" % i: ("nva", 65100 + i, "10.0.0.%d" % (30 + i)) for i in range(1, 9)})
# Backup workload: the NVA pair announcing the ExpressRoute prefixes, with
# the number of extra prepends of its AS (distinct, so that the best-path
# order is the same in bgpd and BIRD, without bgpd's "older path" step).
BACKUP_NVAS = {"nva1": 1, "nva2": 2}
BACKUP_PEERS = dict(PEERS)
BACKUP_PEERS["nva2"] = ("nva", PEERS["nva1"][1], PEERS["nva2"][2])  # one ASN for the pair
GROUP = {"nva": "NVA", "er": "ER", "vpn": "VPN"}
ROLE_KW = {"nva": "nva", "er": "gateway expressroute", "vpn": "gateway vpn"}

# The matrix of ../shared/design/semantics.md, written out for the three
# roles used here: may a path from `src` go to a neighbor of role `dst`?
ALWAYS = {("vnet", "nva"), ("vnet", "er"), ("vnet", "vpn"), ("nva", "nva")}
NEVER = {("er", "er"), ("vpn", "vpn")}


def allowed(src, dst, b2b):
    if (src, dst) in ALWAYS:
        return True
    if (src, dst) in NEVER:
        return False
    return b2b


def prefixes(name, n_er):
    """The prefixes a speaker announces (strings, BIRD's/FRR's notation)."""
    role = PEERS[name][0]
    if role == "er":  # 16.0.0.0/24 upwards: room for 2^20 /24s
        return ["%d.%d.%d.0/24" % (16 + (k >> 16), (k >> 8) & 255, k & 255) for k in range(n_er)]
    if role == "vpn":  # both sessions of the gateway announce the same
        return ["60.%d.%d.0/24" % (k >> 8, k & 255) for k in range(VPN_ROUTES)]
    i = int(name[3:])
    return ["%d.%d.%d.0/24" % (40 + i, k >> 8, k & 255) for k in range(NVA_ROUTES)]


def peers(workload="base"):
    """name -> (role, AS, address) of the speakers in a workload."""
    return BACKUP_PEERS if workload == "backup" else PEERS


def backup_prefixes(name, n_er, workload):
    """The prefixes a speaker announces as a backup (AS path prepended)."""
    if workload == "backup" and name in BACKUP_NVAS:
        return prefixes("er1", n_er)
    return []


def prefix_classes(n_er, workload="base"):
    """The prefixes grouped by the speakers announcing them: a list of
    (prefixes, [(speaker, AS path as the route server receives it)])."""
    P = peers(workload)
    er = [("er1", (P["er1"][1],))]
    if workload == "backup":
        er += [(s, (P[s][1],) * (1 + k)) for s, k in BACKUP_NVAS.items()]
    vpns = [s for s in P if P[s][0] == "vpn"]  # the same prefixes
    out = [(prefixes("er1", n_er), er), (prefixes(vpns[0], n_er), [(s, (P[s][1],)) for s in vpns])]
    out += [(prefixes(s, n_er), [(s, (P[s][1],))]) for s in P if P[s][0] == "nva"]
    return out


def bird_secondary(variant, workload):
    """Whether the BIRD route server exports with `secondary` (the best
    path the filter accepts, not the best path or nothing). In the base
    workload no prefix has paths of two roles, so it would change nothing
    but the cost of BIRD's sorted table: the base figures keep the plain
    configuration."""
    return variant == "d" and workload != "base"


def best_order(paths, variant):
    """A prefix's paths in the route server's best-path order: the module's
    routing preference (expressroute, the default: ExpressRoute paths
    first; variant c only), then the shorter AS path. The workloads leave
    no other step to decide except between paths of one role and one AS
    (the two VPN sessions), which every receiver treats alike."""
    def key(p):
        role = PEERS[p[0]][0]
        return (0 if variant == "c" and role == "er" else 1, len(p[1]), p[0])
    return sorted(paths, key=key)


def sent_path(variant, b2b, workload, ranked, dst):
    """The AS path of the path the route server sends dst for a prefix
    whose paths are `ranked` (best first), or None."""
    drole = PEERS[dst][0]
    best_only = variant in ("b", "c0", "d0") or (variant == "d" and not bird_secondary(variant, workload))
    for src, path in ranked:
        ok = variant == "a" or allowed(PEERS[src][0], drole, b2b)
        if variant in ("d", "d0") and src == dst:
            ok = False  # BIRD never sends a route back to its source
        if ok:
            return path
        if best_only:  # the best path or nothing
            return None
    return None  # the module and BIRD's `secondary`: the best allowed path


def expected(variant, b2b, n_er, workload="base"):
    """Per receiver, the exact set of prefixes it must end up with: what
    the route server sends it, minus the paths with the receiver's own AS
    in the AS path (the receiver drops them, eBGP loop)."""
    P = peers(workload)
    out = {dst: {VNET} for dst in P}
    for pfx, paths in prefix_classes(n_er, workload):
        ranked = best_order(paths, variant)
        for dst, (_, das, _) in P.items():
            path = sent_path(variant, b2b, workload, ranked, dst)
            if path is not None and das not in path:
                out[dst].update(pfx)
    return out


def min_sent(variant, b2b, n_er, workload="base"):
    """Prefixes the route server sends at the least: once per receiver and
    prefix it sends the receiver anything for (the VNet prefix included,
    paths the receiver then drops for its AS included). More means paths
    replaced while they arrived."""
    P = peers(workload)
    total = len(P)  # the VNet prefix
    for pfx, paths in prefix_classes(n_er, workload):
        ranked = best_order(paths, variant)
        total += len(pfx) * sum(1 for dst in P if sent_path(variant, b2b, workload, ranked, dst) is not None)
    return total


def total_announced(n_er, workload="base"):
    """Paths the route server takes in."""
    return sum(len(pfx) * len(paths) for pfx, paths in prefix_classes(n_er, workload))


# --- BIRD speakers ---------------------------------------------------------

def write_routes(path, name, n_er):
    if os.path.exists(path):
        return
    with open(path + ".tmp", "w") as f:
        for p in prefixes(name, n_er):
            f.write("route %s blackhole;\n" % p)
    os.rename(path + ".tmp", path)


def speaker_conf(name, routes_file, logfile, workload="base", backup_file=None, steady=None):
    """A speaker: its own prefixes in static `inject`, in the backup
    workload the ExpressRoute prefixes in static `backup` (AS path
    prepended on export); with `steady` (name -> routes file, base
    workload) disabled static protocols that the steady-state mode
    enables and disables. Route traces (`trace`, millisecond timestamps)
    are logged once the harness turns them on."""
    _, asn, ip = peers(workload)[name]
    backup, export = "", 'where proto = "inject"'
    timers = "hold time 240"
    if steady:
        # the steady-state mode also fails this speaker: BFD ends its
        # session (a 3 s hold time, BIRD's least, behind it), and it comes
        # back quickly
        timers = "hold time 3; keepalive time 1; error wait time 1,2; connect retry time 2; bfd on"
        export = 'where proto = "inject" || proto ~ "steady*"'
        backup += bird_bfd()
        for proto, path in sorted(steady.items()):
            backup += 'protocol static {0} {{\n  disabled;\n  ipv4;\ninclude "{1}";\n}}\n'.format(proto, path)
    if backup_file:
        backup = 'protocol static backup {{\n  ipv4;\ninclude "{0}";\n}}\n'.format(backup_file)
        export = ('filter {{ if proto = "inject" then accept; '
                  'if proto = "backup" then {{ {0} accept; }} reject; }}').format(
            "bgp_path.prepend(%d); " % asn * BACKUP_NVAS[name])
    return """log "{log}" {{ warning, error, trace }};
router id {ip};
timeformat protocol iso long ms;
timeformat log iso long ms;
protocol device {{ scan time 60; }}
protocol static inject {{
  ipv4;
include "{routes}";
}}
{backup}protocol bgp rsrv {{
  disabled;  # enabled by the harness once every speaker has its routes
  local {ip} as {asn};
  neighbor {rs} as {rsas};
  connect delay time 1;
  {timers};
  ipv4 {{ import all; export {export}; }};
}}
""".format(log=logfile, ip=ip, asn=asn, routes=routes_file, rs=RS_IP, rsas=RS_AS, backup=backup, export=export,
           timers=timers)


# --- route servers ---------------------------------------------------------

# Extra lines under `router bgp` for every bgpd variant (rsbench
# --bgp-config): to measure bgpd's own knobs, e.g. coalesce-time.
BGP_EXTRA = []


def frr_conf(variant, b2b, logfile, workload="base", bfd_peer=None):
    """bgpd.conf for variants a, b, c and c0; with `bfd_peer`, BFD (bfdd's
    profile `fast`, BFDD_CONF) on that speaker's session."""
    lines = [
        "frr defaults traditional",
        "hostname rs",
        "log file %s" % logfile,
        "!",
        "router bgp %d" % RS_AS,
        " bgp router-id %s" % RS_IP,
        " no bgp ebgp-requires-policy",
        " no bgp network import-check",
    ] + [" " + x for x in BGP_EXTRA]
    if variant == "b":  # changes are applied by the explicit soft clear
        lines.append(" bgp route-map delay-timer 0")
    if variant == "c0":
        variant = "c"  # the same configuration, an older build
    if variant != "a":
        for group in GROUP.values():
            lines += [" neighbor %s peer-group" % group, " neighbor %s timers connect 2" % group]
    for name, (role, asn, ip) in peers(workload).items():
        lines.append(" neighbor %s remote-as %d" % (ip, asn))
        if variant == "a":
            lines.append(" neighbor %s timers connect 2" % ip)
        else:
            lines.append(" neighbor %s peer-group %s" % (ip, GROUP[role]))
    if variant == "c":
        for role, group in GROUP.items():
            lines.append(" neighbor %s route-server role %s" % (group, ROLE_KW[role]))
        if b2b:
            lines.append(" bgp route-server branch-to-branch")
    if bfd_peer:
        lines.append(" neighbor %s bfd profile fast" % peers(workload)[bfd_peer][2])
    lines += [" address-family ipv4 unicast", "  network %s" % VNET]
    if variant == "b":
        for role, group in GROUP.items():
            lines.append("  neighbor %s route-map TO-%s out" % (group, group))
    lines += [" exit-address-family", "!"]
    if variant == "b":
        lines += route_maps(b2b)
    return "\n".join(lines) + "\n"


def rm_denies(drole):
    """Variant b's deny entries for destination role drole, as
    (sequence, source role, kept while b2b is on)."""
    out, seq = [], 10
    for srole in GROUP:
        if not allowed(srole, drole, True):
            out.append((5, srole, True))
        elif not allowed(srole, drole, False):
            out.append((seq, srole, False))
            seq += 10
    return out


def rm_entry(dgroup, seq, srole):
    return ["route-map TO-%s deny %d" % (dgroup, seq), " match src-peer %s" % GROUP[srole], "exit"]


def route_maps(b2b):
    """Outbound route-maps: deny what the matrix denies, permit the rest."""
    out = []
    for drole, dgroup in GROUP.items():
        for seq, srole, always in rm_denies(drole):
            if always or not b2b:
                out += rm_entry(dgroup, seq, srole)
        out += ["route-map TO-%s permit 100" % dgroup, "exit"]
    return out


def route_map_toggle(b2b):
    """vtysh commands switching variant b's policy, then the soft clear."""
    cmds = ["configure terminal"]
    for drole, dgroup in GROUP.items():
        for seq, srole, always in rm_denies(drole):
            if always:
                continue
            if b2b:
                cmds.append("no route-map TO-%s deny %d" % (dgroup, seq))
            else:
                cmds += [c.strip() for c in rm_entry(dgroup, seq, srole)]
    return cmds + ["end", "clear bgp ipv4 unicast * soft out"]


def c_toggle(b2b):
    return ["configure terminal", "router bgp %d" % RS_AS,
            "%sbgp route-server branch-to-branch" % ("" if b2b else "no "), "end"]


def bird_rs_conf(b2b, logfile, workload="base", secondary=False, bfd_peer=None):
    """Variants d and d0: BIRD 2 as route server; the source role is the
    name of the protocol a route came from. With `secondary` (on a sorted
    table, which it requires) a neighbor whose filter rejects the best
    path gets the best path the filter accepts, as the module sends each
    role its best allowed path; without it, the best path or nothing."""
    src = {"nva": 'proto ~ "nva*"', "er": 'proto ~ "er*"', "vpn": 'proto ~ "vpn*"'}
    out = [
        'log "%s" { warning, error };' % logfile,
        "router id %s;" % RS_IP,
        "timeformat protocol iso long ms;",
        "protocol device { scan time 60; }",
    ]
    if secondary:
        out.append("ipv4 table master4 sorted;")
    if bfd_peer:
        out.append(bird_bfd())
    out += [
        "protocol static vnet { ipv4; route %s blackhole; }" % VNET,
        "define B2B = %d;" % (1 if b2b else 0),
    ]
    for drole in GROUP:
        always = ['proto = "vnet"'] + [src[s] for s in GROUP if (s, drole) in ALWAYS]
        b2b_only = [src[s] for s in GROUP if (s, drole) not in ALWAYS | NEVER]
        out.append("filter to_%s {" % drole)
        out.append("  if %s then accept;" % " || ".join(always))
        if b2b_only:
            out.append("  if B2B = 1 && (%s) then accept;" % " || ".join(b2b_only))
        out += ["  reject;", "}"]
    for name, (role, asn, ip) in peers(workload).items():
        out.append(
            "protocol bgp %s { local %s as %d; neighbor %s as %d; connect delay time 1; hold time 240;\n"
            "  error wait time 1,2;%s\n"
            "  ipv4 { import all; export filter to_%s;%s }; }" % (
                name, RS_IP, RS_AS, ip, asn, " bfd on;" if name == bfd_peer else "", role,
                " secondary;" if secondary else "")
        )
    return "\n".join(out) + "\n"
