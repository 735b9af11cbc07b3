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

    def __init__(self, name, addr, asn, pool):
        self.name, self.addr, self.asn, self.pool = name, addr, asn, list(pool)
        self.router = None
        self.announced = set()
        self.filler = []  # always announced while running

    @property
    def ibgp(self):
        return self.asn == RS_AS

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
    exported to the route server; `birdc enable/disable` flips them."""

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
        lines += [
            "protocol bgp routeserver {",
            "  local {} as {};".format(self.addr, self.asn),
            "  neighbor {} as {}; direct;".format(RS_ADDR, RS_AS),
            # quick reconnects after shutdown/restart by the route server
            "  connect delay time 1; connect retry time 2; error wait time 1, 2;",
            "  ipv4 { import all; export where proto ~ \"st*\"; gateway direct; };",
            "}",
        ]
        return "\n".join(lines) + "\n"

    def start(self):
        conf = self.path("bird.conf")
        with open(conf, "w") as f:
            f.write(self.config())
        self.router.cmd_raises("{} -p -c {}".format(BIRD, conf))
        self.router.cmd("rm -f {}".format(self.sock()))
        self.spawn("{} -f -c {} -s {}".format(BIRD, conf, self.sock()))

    def ready(self):
        return "ready" in self.birdc("show status")

    def set_prefix(self, prefix, on):
        out = self.birdc("{} st{}".format("enable" if on else "disable", self.pool.index(prefix)))
        assert "enabled" in out or "disabled" in out, "{}: birdc: {}".format(self.name, out)

    def received(self):
        """Prefixes BIRD accepted from the route server."""
        nets = set()
        for line in self.birdc("show route protocol routeserver").splitlines():
            fields = line.split()
            if fields and not line[0].isspace() and "/" in fields[0]:
                nets.add(fields[0])
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
        out = self.gobgp("global rib -a ipv4 {} {}".format("add" if on else "del", prefix))
        assert "error" not in out.lower(), "{}: gobgp: {}".format(self.name, out)

    def rib(self):
        """prefix -> paths of GoBGP's loc-RIB."""
        out = self.gobgp("global rib -a ipv4 -j")
        try:
            return json.loads(out) or {}
        except ValueError as err:
            raise AssertionError("{}: gobgp rib: {!r}".format(self.name, out[:2000])) from err

    def received(self):
        """Prefixes with a path from the route server in the loc-RIB."""
        return {prefix for prefix, paths in self.rib().items()
                if any(p.get("neighbor-ip") == RS_ADDR for p in paths)}


class ExaBGP(Speaker):
    """ExaBGP with exa_api.py as API process: the test rewrites the
    announce file, exa_api.py keeps rib.json."""

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

    def write_announce(self):
        path = self.path("announce")
        with open(path + ".tmp", "w") as f:
            f.write("".join(p + "\n" for p in sorted(self.announced)))
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

    def received(self):
        rib = self.rib()
        return set(rib["prefixes"]) if rib else set()


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
