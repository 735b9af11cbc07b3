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
  d  BIRD 2 as route server, export filters on the source protocol
"""

import os

RS_AS = 65515
RS_IP = "10.0.0.1"
VNET = "10.200.0.0/16"
NVA_ROUTES = 4000
VPN_ROUTES = 1000
VARIANTS = ("a", "b", "c", "d")

# name -> (role, AS, address, prefix generator key)
PEERS = {"er1": ("er", 65010, "10.0.0.10")}
PEERS.update({"vpn%d" % i: ("vpn", 65020, "10.0.0.2%d" % i) for i in (1, 2)})
PEERS.update({"nva%d" % i: ("nva", 65100 + i, "10.0.0.%d" % (30 + i)) for i in range(1, 9)})
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


def expected(variant, b2b, n_er):
    """Per receiver, the exact set of prefixes it must end up with."""
    announced = {name: prefixes(name, n_er) for name in PEERS}
    out = {}
    for dst, (drole, das, _) in PEERS.items():
        want = {VNET}
        for src, (srole, sas, _) in PEERS.items():
            if sas == das:  # the receiver drops its own AS (eBGP loop)
                continue
            if variant == "a" or allowed(srole, drole, b2b):
                want.update(announced[src])
        out[dst] = want
    return out


def total_announced(n_er):
    return n_er + 2 * VPN_ROUTES + 8 * NVA_ROUTES


# --- BIRD speakers ---------------------------------------------------------

def write_routes(path, name, n_er):
    if os.path.exists(path):
        return
    with open(path + ".tmp", "w") as f:
        for p in prefixes(name, n_er):
            f.write("route %s blackhole;\n" % p)
    os.rename(path + ".tmp", path)


def speaker_conf(name, routes_file, logfile):
    _, asn, ip = PEERS[name]
    return """log "{log}" {{ warning, error }};
router id {ip};
timeformat protocol iso long ms;
protocol device {{ scan time 60; }}
protocol static inject {{
  ipv4;
include "{routes}";
}}
protocol bgp rsrv {{
  disabled;  # enabled by the harness once every speaker has its routes
  local {ip} as {asn};
  neighbor {rs} as {rsas};
  connect delay time 1;
  hold time 240;
  ipv4 {{ import all; export where proto = "inject"; }};
}}
""".format(log=logfile, ip=ip, asn=asn, routes=routes_file, rs=RS_IP, rsas=RS_AS)


# --- route servers ---------------------------------------------------------

def frr_conf(variant, b2b, logfile):
    """bgpd.conf for variants a, b and c."""
    lines = [
        "frr defaults traditional",
        "hostname rs",
        "log file %s" % logfile,
        "!",
        "router bgp %d" % RS_AS,
        " bgp router-id %s" % RS_IP,
        " no bgp ebgp-requires-policy",
        " no bgp network import-check",
    ]
    if variant == "b":  # changes are applied by the explicit soft clear
        lines.append(" bgp route-map delay-timer 0")
    if variant != "a":
        for group in GROUP.values():
            lines += [" neighbor %s peer-group" % group, " neighbor %s timers connect 2" % group]
    for name, (role, asn, ip) in PEERS.items():
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


def bird_rs_conf(b2b, logfile):
    """Variant d: BIRD 2 as route server; the source role is the name of
    the protocol a route came from."""
    src = {"nva": 'proto ~ "nva*"', "er": 'proto ~ "er*"', "vpn": 'proto ~ "vpn*"'}
    out = [
        'log "%s" { warning, error };' % logfile,
        "router id %s;" % RS_IP,
        "timeformat protocol iso long ms;",
        "protocol device { scan time 60; }",
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
    for name, (role, asn, ip) in PEERS.items():
        out.append(
            "protocol bgp %s { local %s as %d; neighbor %s as %d; connect delay time 1; hold time 240;\n"
            "  ipv4 { import all; export filter to_%s; }; }" % (name, RS_IP, RS_AS, ip, asn, role)
        )
    return "\n".join(out) + "\n"
