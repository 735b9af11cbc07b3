# SPDX-License-Identifier: GPL-2.0-or-later
"""
Independent BGP speakers (BIRD 2, GoBGP, ExaBGP) as peers of the route
server in topotest routers: config generation, start/stop, changing the
announced prefixes at run time and reading what they received from the
route server. Configs are written to the router's log directory at each
start, so a restarted speaker comes back announcing the current set.
Each speaker can also announce a fixed set of filler prefixes (the
large-table mode), loaded in bulk: a static protocol in BIRD, an MRT table
dump injected into GoBGP, bulk API commands in ExaBGP.

Every prefix of a speaker's pool is announced with ORIGIN IGP, an AS path
of the speaker's tag AS repeated `k` times (after its own AS on eBGP) and
a MED, (k, med) = attrs[prefix], changeable at run time (set_attrs()):
the tag names the source wherever the path goes. received() returns what
the speaker holds from the route server as {prefix: AS path tuple}.
"""

import json
import os
import socket
import struct
import time

RS_ADDR, RS_AS = "192.168.1.1", 65515
CWD = os.path.dirname(os.path.abspath(__file__))

BIRD, BIRDC = "/usr/sbin/bird", "/usr/sbin/birdc"
GOBGPD, GOBGP = "/usr/bin/gobgpd", "/usr/bin/gobgp"
EXABGP = "/usr/sbin/exabgp"
BINARIES = (BIRD, BIRDC, GOBGPD, GOBGP, EXABGP)
GOBGP_API = "-u 127.0.0.1 -p 50071"


class Speaker:
    """One peer: name, address, AS (RS_AS for iBGP) and its prefix pool."""

    daemon = None

    def __init__(self, name, addr, asn, pool, tag):
        self.name, self.addr, self.asn, self.pool, self.tag = name, addr, asn, list(pool), tag
        self.router = None
        self.announced = set()
        self.attrs = {p: (1, 0) for p in self.pool}  # prefix -> (prepend count, MED)
        self.filler = []  # always announced while running

    @property
    def ibgp(self):
        return self.asn == RS_AS

    def tags(self, prefix):
        """The AS path the speaker adds for prefix (its own AS aside)."""
        return [self.tag] * self.attrs[prefix][0]

    def med(self, prefix):
        return self.attrs[prefix][1]

    def path(self, fname):
        return os.path.join(self.router.gearlogdir, fname)

    def pidfile(self):
        return self.path(self.daemon + ".pid")

    def stop(self, hard=False):
        """Stop the daemon (SIGKILL if hard) and wait until it is gone."""
        # gone = no such process or a zombie not yet reaped by the node's init
        self.router.cmd(
            "p=$(cat {0} 2>/dev/null); [ -n \"$p\" ] && kill -{1} $p 2>/dev/null; "
            "for i in $(seq 100); do [ -n \"$p\" ] && [ -r /proc/$p/stat ] && "
            "[ \"$(cut -d' ' -f3 /proc/$p/stat 2>/dev/null)\" != Z ] || break; "
            "sleep 0.05; done; rm -f {0}".format(self.pidfile(), "KILL" if hard else "TERM"))

    def spawn(self, cmdline):
        self.router.cmd_raises(
            "{} </dev/null >>{} 2>&1 & echo $! >{}".format(cmdline, self.path(self.daemon + ".log"), self.pidfile()))

    def running(self):
        return self.router.cmd("kill -0 $(cat {}) 2>/dev/null && echo yes".format(self.pidfile())).strip() == "yes"


class Bird(Speaker):
    """BIRD 2: one disabled-or-enabled static protocol per pool prefix,
    exported to the route server; `birdc enable/disable` flips them. The
    export filter sets each prefix's AS path and MED; a change rewrites the
    config and `birdc configure` re-exports (no session reset)."""

    daemon = "bird"

    def sock(self):
        return self.path("bird.ctl")

    def birdc(self, command):
        return self.router.cmd("{} -s {} {} 2>&1".format(BIRDC, self.sock(), command))

    def config(self):
        lines = ["router id {};".format(self.addr), "log stderr all;", "protocol device {}"]
        for i, p in enumerate(self.pool):
            lines.append("protocol static st{} {{ ipv4; disabled {}; route {} blackhole; }}".format(
                i, "no" if p in self.announced else "yes", p))
        if self.filler:
            lines.append("protocol static stfill { ipv4;")
            lines += ["  route {} blackhole;".format(p) for p in self.filler]
            lines.append("}")
        lines += ["filter rs_out {", "  if ! (proto ~ \"st*\") then reject;", "  bgp_origin = ORIGIN_IGP;"]
        for p in self.pool:
            lines.append("  if net = {} then {{ {} bgp_med = {}; }}".format(
                p, "".join("bgp_path.prepend({}); ".format(a) for a in self.tags(p)), self.med(p)))
        lines += ["  accept;", "}"]
        lines += [
            "protocol bgp routeserver {",
            "  local {} as {};".format(self.addr, self.asn),
            "  neighbor {} as {}; direct;".format(RS_ADDR, RS_AS),
            # quick reconnects after shutdown/restart by the route server
            "  connect delay time 1; connect retry time 2; error wait time 1, 2;",
            "  ipv4 { import all; export filter rs_out; gateway direct; };",
            "}",
        ]
        return "\n".join(lines) + "\n"

    def write_config(self):
        conf = self.path("bird.conf")
        with open(conf + ".tmp", "w") as f:
            f.write(self.config())
        self.router.cmd_raises("{} -p -c {}.tmp".format(BIRD, conf))
        os.replace(conf + ".tmp", conf)
        return conf

    def start(self):
        conf = self.write_config()
        self.router.cmd("rm -f {}".format(self.sock()))
        self.spawn("{} -f -c {} -s {}".format(BIRD, conf, self.sock()))

    def ready(self):
        return "ready" in self.birdc("show status")

    def set_prefix(self, prefix, on):
        out = self.birdc("{} st{}".format("enable" if on else "disable", self.pool.index(prefix)))
        assert "enabled" in out or "disabled" in out, "{}: birdc: {}".format(self.name, out)

    def set_attrs(self, prefix):
        self.write_config()
        out = self.birdc("configure")
        assert "Reconfigur" in out, "{}: birdc configure: {}".format(self.name, out)

    def received(self):
        """{prefix: AS path} of the routes BIRD accepted from the route
        server."""
        nets, net = {}, None
        for line in self.birdc("show route protocol routeserver all").splitlines():
            fields = line.split()
            if fields and not line[0].isspace():
                net = fields[0] if "/" in fields[0] else None
                if net:
                    nets[net] = ()
            elif net and fields and fields[0] == "BGP.as_path:":
                nets[net] = tuple(int(a) for a in fields[1:])
        return nets


class GoBGP(Speaker):
    """GoBGP: prefixes added to and deleted from its global RIB."""

    daemon = "gobgpd"

    def gobgp(self, args):
        return self.router.cmd("{} {} {} 2>&1".format(GOBGP, GOBGP_API, args))

    def config(self):
        return "\n".join([
            "[global.config]",
            "  as = {}".format(self.asn),
            "  router-id = \"{}\"".format(self.addr),
            "[[neighbors]]",
            "  [neighbors.config]",
            "    neighbor-address = \"{}\"".format(RS_ADDR),
            "    peer-as = {}".format(RS_AS),
            "  [neighbors.timers.config]",
            "    connect-retry = 2",
            "    idle-hold-time-after-reset = 1",
            "  [neighbors.transport.config]",
            "    local-address = \"{}\"".format(self.addr),
            "  [[neighbors.afi-safis]]",
            "    [neighbors.afi-safis.config]",
            "      afi-safi-name = \"ipv4-unicast\"",
        ]) + "\n"

    def start(self):
        conf = self.path("gobgpd.toml")
        with open(conf, "w") as f:
            f.write(self.config())
        self.spawn("{} -f {} -t toml --pprof-disable --api-hosts 127.0.0.1:50071".format(GOBGPD, conf))
        self.pending = set(self.announced)
        self.inject = bool(self.filler)

    def ready(self):
        if str(self.asn) not in self.gobgp("global"):
            return False
        # The RIB starts empty: add the current set once the API answers.
        for p in sorted(self.pending):
            self.set_prefix(p, True)
        self.pending = set()
        if self.inject:
            self.inject_filler()
            self.inject = False
        return True

    def inject_filler(self):
        """`gobgp mrt inject` loses the end of what it sends (the client
        exits before gobgpd has read it all): send every missing prefix
        several times over, at least 5,000 entries, until all are in."""
        mrt = self.path("filler.mrt")
        for _ in range(20):
            missing = sorted(set(self.filler) - set(self.rib()))
            if not missing:
                return
            with open(mrt, "wb") as f:
                f.write(mrt_table_dump(missing * max(3, -(-5000 // len(missing))), self.addr, self.asn))
            out = self.gobgp("mrt inject global {}".format(mrt))
            assert "error" not in out.lower(), "{}: gobgp mrt inject: {}".format(self.name, out)
            time.sleep(0.2)
        raise AssertionError("{}: {} filler prefixes still missing after 20 injections".format(
            self.name, len(missing)))

    def set_prefix(self, prefix, on):
        """Adding a prefix again replaces its path (new attributes)."""
        if on:
            args = "add {} origin igp aspath {} med {}{}".format(
                prefix, ",".join(map(str, self.tags(prefix))), self.med(prefix),
                " local-pref 100" if self.ibgp else "")
        else:
            args = "del {}".format(prefix)
        out = self.gobgp("global rib -a ipv4 " + args)
        assert "error" not in out.lower(), "{}: gobgp: {}".format(self.name, out)

    def set_attrs(self, prefix):
        if prefix in self.announced:
            self.set_prefix(prefix, True)

    def rib(self):
        """prefix -> paths of GoBGP's loc-RIB."""
        out = self.gobgp("global rib -a ipv4 -j")
        try:
            return json.loads(out) or {}
        except ValueError as err:
            raise AssertionError("{}: gobgp rib: {!r}".format(self.name, out[:2000])) from err

    def received(self):
        """{prefix: AS path} of the paths from the route server, from the
        Adj-RIB-In: GoBGP ignores an UPDATE that loops (its AS in the AS
        path, its router ID as ORIGINATOR_ID) but keeps the path it
        replaces in its loc-RIB, where BIRD and ExaBGP drop it (RFC 7606
        treat-as-withdraw); here a looped path counts as none, as there."""
        out = self.gobgp("neighbor {} adj-in -a ipv4 -j".format(RS_ADDR))
        try:
            rib = json.loads(out) or {}
        except ValueError as err:
            raise AssertionError("{}: gobgp adj-in: {!r}".format(self.name, out[:2000])) from err
        if "error" in rib:  # e.g. no session: its Adj-RIB-In is empty
            return {}
        held = {}
        for prefix, paths in rib.items():
            for p in paths:
                attrs = p.get("attrs", ())
                aspath = tuple(a for attr in attrs if attr.get("type") == 2
                               for seg in attr.get("as_paths") or () for a in seg.get("asns") or ())
                oid = [attr.get("value") for attr in attrs if attr.get("type") == 9]
                if (self.ibgp or self.asn not in aspath) and self.addr not in oid:
                    held[prefix] = aspath
        return held


class ExaBGP(Speaker):
    """ExaBGP with exa_api.py as API process: the test rewrites the
    announce file (a prefix and its ExaBGP attributes per line),
    exa_api.py keeps rib.json."""

    daemon = "exabgp"

    def config(self):
        return "\n".join([
            "process model {",
            "  run /usr/bin/python3 {} {} {} {};".format(
                os.path.join(CWD, "exa_api.py"), self.router.gearlogdir, self.asn, self.addr),
            "  encoder json;",
            "}",
            "neighbor {} {{".format(RS_ADDR),
            "  router-id {};".format(self.addr),
            "  local-address {};".format(self.addr),
            "  local-as {};".format(self.asn),
            "  peer-as {};".format(RS_AS),
            "  family { ipv4 unicast; }",
            "  api { processes [ model ]; neighbor-changes; receive { parsed; update; } }",
            "}",
        ]) + "\n"

    def updates_log(self):
        """exa_api.py's log of every UPDATE received (kept across restarts)."""
        return self.path("updates.jsonl")

    def exa_attrs(self, prefix):
        """ExaBGP's attributes for prefix: it adds nothing to an AS path it
        is given, so an eBGP path starts with its own AS here."""
        aspath = ([] if self.ibgp else [self.asn]) + self.tags(prefix)
        return "origin igp as-path [ {} ] med {}{}".format(
            " ".join(map(str, aspath)), self.med(prefix), " local-preference 100" if self.ibgp else "")

    def write_announce(self):
        path = self.path("announce")
        with open(path + ".tmp", "w") as f:
            f.write("".join("{} {}\n".format(p, self.exa_attrs(p)) for p in sorted(self.announced)))
        os.replace(path + ".tmp", path)

    def start(self):
        conf = self.path("exabgp.conf")
        with open(conf, "w") as f:
            f.write(self.config())
        self.write_announce()
        with open(self.path("filler"), "w") as f:
            f.write("".join(p + "\n" for p in self.filler))
        self.router.cmd("rm -f {}".format(self.path("rib.json")))
        # Listening too (tcp.bind): after "no neighbor shutdown" r1 connects
        # at once instead of waiting for ExaBGP's growing retry interval.
        env = ("exabgp.daemon.user=root", "exabgp.daemon.drop=false", "exabgp.api.cli=false",
               "exabgp.api.ack=false", "exabgp.log.level=INFO", "exabgp.tcp.bind=" + self.addr)
        self.spawn("env {} {} {}".format(" ".join(env), EXABGP, conf))

    def rib(self):
        try:
            with open(self.path("rib.json")) as f:
                return json.load(f)
        except (FileNotFoundError, ValueError):
            return None

    def ready(self):
        return self.rib() is not None

    def set_prefix(self, prefix, on):
        self.write_announce()

    def set_attrs(self, prefix):
        self.write_announce()

    def received(self):
        rib = self.rib()
        return {p: tuple(a) for p, a in rib["prefixes"].items()} if rib else {}


def mrt_table_dump(prefixes, addr, asn):
    """An MRT TABLE_DUMP_V2 file (RFC 6396) holding prefixes with ORIGIN
    IGP, an empty AS path and next hop addr, as if learned from peer addr
    (what `gobgp mrt inject global` loads)."""

    def record(subtype, body):
        return struct.pack("!IHHI", 0, 13, subtype, len(body)) + body

    rid = socket.inet_aton(addr)
    # PEER_INDEX_TABLE: collector ID, no view name, one peer (IPv4, 4-byte AS)
    out = [record(1, rid + struct.pack("!HHB", 0, 1, 2) + rid + rid + struct.pack("!I", asn))]
    attrs = bytes([0x40, 1, 1, 0, 0x40, 2, 0, 0x40, 3, 4]) + rid
    for seq, p in enumerate(prefixes):
        net, plen = p.split("/")
        plen = int(plen)
        body = struct.pack("!IB", seq, plen) + socket.inet_aton(net)[:(plen + 7) // 8]
        body += struct.pack("!HHIH", 1, 0, 0, len(attrs)) + attrs  # RIB_IPV4_UNICAST entry
        out.append(record(2, body))
    return b"".join(out)


def apply_prefix(speaker, prefix, on):
    (speaker.announced.add if on else speaker.announced.discard)(prefix)
    speaker.set_prefix(prefix, on)
