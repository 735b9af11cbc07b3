# SPDX-License-Identifier: GPL-2.0-or-later
"""Helpers of the high-availability topotests (BFD, graceful restart):
the route server run as a packaged FRR (frrinit.sh + watchfrr, with bfdd),
ExaBGP monitor peers whose every message is logged with its receive time
(the transient monitor, rs_isolation/monitor.py), FRR log timestamps."""

import datetime
import json
import os
import re

import pytest

from lib.topogen import get_topogen
from lib.topolog import logger
import rsbird
from rslib import daemon_pid, frrinit, have, stop_frr_service  # noqa: F401 (re-exported)
from rslib import start_frr_service as _start_frr_service

CWD = os.path.dirname(os.path.abspath(__file__))
MONITOR = os.path.join(CWD, "..", "rs_isolation", "monitor.py")
EXABGP = "/usr/sbin/exabgp"

# /etc/frr/daemons of the route server: watchfrr starts zebra, mgmtd,
# staticd, bgpd with the module and bfdd; logs in the test's log dir with
# microsecond timestamps (log timestamp precision 6 in frr.conf).
DAEMONS = """\
bgpd=yes
bfdd=yes
vtysh_enable=yes
zebra_options="--log file:{d}/zebra.log"
mgmtd_options="--log file:{d}/mgmtd.log"
staticd_options="--log file:{d}/staticd.log"
bgpd_options="-M route_server --log file:{d}/bgpd.log --log-level debug"
bfdd_options="--log file:{d}/bfdd.log --log-level debug"
watchfrr_options="--min-restart-interval 1 --max-restart-interval 4 --log file:{d}/watchfrr.log --log-level debug"
"""


def start_frr_service(rs, conf):
    """Start the route server as a package does (rslib.start_frr_service)
    with bfdd too; waits for bgpd, bfdd and zebra."""
    _start_frr_service(rs, conf, DAEMONS, wait=("bgpd", "bfdd", "zebra"))


# --- what the BFD and GR modules share: r1, BIRD nva1, ExaBGP monitors ------

# the LAN of both: r1 the route server, nva1 BIRD, er1 FRR, vpn1 and nva2
# ExaBGP monitors
ADDR = {"r1": "192.168.1.1", "nva1": "192.168.1.2", "er1": "192.168.1.3",
        "vpn1": "192.168.1.4", "nva2": "192.168.1.5"}
ASN = {"nva1": 65001, "er1": 65020, "vpn1": 65040, "nva2": 65002}
ROLES = {"nva1": "nva", "er1": "gateway expressroute", "vpn1": "gateway vpn", "nva2": "nva"}


def g(name):
    return get_topogen().gears[name]


def make_out(tag):
    """A function out(msg, *args) that logs and prints "tag: msg"."""
    def out(msg, *args):
        text = msg % args if args else msg
        logger.info("%s: %s", tag, text)
        print("\n{}: {}".format(tag, text), flush=True)
    return out


def require_tools():
    rsbird.require_bird()
    if not have(EXABGP):
        pytest.fail("needs ExaBGP from Debian (package exabgp)", pytrace=False)


def set_addresses(tgen, names, addr):
    """lo and <name>-eth0 up, addr[name]/24 on it, for the routers the
    framework starts no daemon in (BIRD, ExaBGP)."""
    for name in names:
        tgen.gears[name].cmd_raises("ip link set lo up; ip link set {0}-eth0 up; "
                                    "ip addr add {1}/24 dev {0}-eth0".format(name, addr[name]))


def teardown_ha(monitors):
    """Stop the monitors, BIRD in nva1, the FRR service of r1, the topology."""
    tgen = get_topogen()
    for m in monitors.values():
        m.stop()
    rsbird.stop_bird(tgen.gears["nva1"])
    stop_frr_service(tgen.gears["r1"])
    tgen.stop_topology()


def sanitized(rs):
    """True for the ASan/UBSan build (timing figures only, no timing
    assertions)."""
    return "libasan" in rs.cmd("ldd {}/bgpd".format(rs.net.daemondir))


def now(router):
    """Wall-clock time (epoch s) read inside router, right before the
    command that follows it in the same shell line."""
    return float(router.cmd("date +%s.%N").strip())


_TS = re.compile(r"^(\d{4}/\d\d/\d\d \d\d:\d\d:\d\d(?:\.\d+)?) ")


def log_lines(path, pattern, since=0.0):
    """(epoch time, line) of the FRR log lines matching pattern at or
    after since (FRR logs local time)."""
    res = []
    rx = re.compile(pattern)
    try:
        with open(path, errors="replace") as f:
            for line in f:
                m = _TS.match(line)
                if not m or not rx.search(line):
                    continue
                fmt = "%Y/%m/%d %H:%M:%S.%f" if "." in m.group(1) else "%Y/%m/%d %H:%M:%S"
                t = datetime.datetime.strptime(m.group(1), fmt).timestamp()
                if t >= since:
                    res.append((t, line.rstrip()))
    except FileNotFoundError:
        pass
    return res


EXA_ENV = ("exabgp.daemon.user=root", "exabgp.daemon.drop=false", "exabgp.api.cli=false",
           "exabgp.api.ack=false", "exabgp.log.level=WARNING")


class Monitor:
    """An ExaBGP peer of the route server whose API process (the transient
    monitor, monitor.py) appends every message it receives, with ExaBGP's
    receive time, to updates.jsonl. It may announce routes too."""

    def __init__(self, name, addr, asn, routes=(), gr=False, rs_addr="192.168.1.1", rs_as=65515):
        self.name, self.addr, self.asn = name, addr, asn
        self.routes, self.gr = list(routes), gr
        self.rs_addr, self.rs_as = rs_addr, rs_as
        self.router = None
        self.pos, self.buf = 0, b""
        # (time, kind, data): kind announce/withdraw (data a prefix),
        # eor, state (data up/down/down notification/connected)
        self.events = []
        self.rib = set()

    def path(self, fname):
        return os.path.join(self.router.gearlogdir, fname)

    def config(self):
        lines = ["process monitor {",
                 "  run /usr/bin/python3 {} {};".format(MONITOR, self.path("updates.jsonl")),
                 "  encoder json;", "}",
                 "neighbor {} {{".format(self.rs_addr),
                 "  router-id {};".format(self.addr),
                 "  local-address {};".format(self.addr),
                 "  local-as {};".format(self.asn),
                 "  peer-as {};".format(self.rs_as),
                 "  family { ipv4 unicast; }",
                 "  api { processes [ monitor ]; neighbor-changes; receive { parsed; update; } }"]
        if self.gr:
            lines.append("  capability { graceful-restart 120; }")
        if self.routes:
            lines.append("  static {")
            lines += ["    route {} next-hop self;".format(r) for r in self.routes]
            lines.append("  }")
        lines.append("}")
        return "\n".join(lines) + "\n"

    def start(self, router):
        self.router = router
        with open(self.path("exabgp.conf"), "w") as f:
            f.write(self.config())
        # listening too (tcp.bind), so r1 connects at once
        env = EXA_ENV + ("exabgp.tcp.bind=" + self.addr,)
        router.cmd_raises("env {} {} {} </dev/null >>{} 2>&1 & echo $! >{}".format(
            " ".join(env), EXABGP, self.path("exabgp.conf"), self.path("exabgp.log"),
            self.path("exabgp.pid")))

    def stop(self):
        if self.router:
            self.router.cmd("kill $(cat {}) 2>/dev/null".format(self.path("exabgp.pid")))

    def poll(self):
        """Parse the lines appended since the last poll."""
        try:
            with open(self.path("updates.jsonl"), "rb") as f:
                f.seek(self.pos)
                data = f.read()
        except FileNotFoundError:
            return
        self.pos += len(data)
        lines = (self.buf + data).split(b"\n")
        self.buf = lines.pop()
        for line in lines:
            self.handle(line)

    def handle(self, line):
        try:
            msg = json.loads(line)
        except ValueError:
            return
        t = float(msg.get("time", 0))
        nbr = msg.get("neighbor", {})
        if msg.get("type") == "state":
            state = nbr.get("state") or ""
            # a session closed by a NOTIFICATION (e.g. Cease) ends GR for
            # a helper without the N bit (RFC 4724, RFC 8538)
            if state == "down" and "notification received" in str(nbr.get("reason", "")):
                state = "down notification"
            self.events.append((t, "state", state))
            if state.startswith("down"):
                self.rib.clear()
            return
        if msg.get("type") != "update":
            return
        message = nbr.get("message", {})
        if "eor" in message:
            self.events.append((t, "eor", None))
            return
        update = message.get("update", {})
        for n in update.get("withdraw", {}).get("ipv4 unicast", []) or []:
            p = n["nlri"] if isinstance(n, dict) else n
            self.rib.discard(p)
            self.events.append((t, "withdraw", p))
        for per_nh in (update.get("announce", {}).get("ipv4 unicast", {}) or {}).values():
            for n in per_nh:
                p = n["nlri"] if isinstance(n, dict) else n
                self.rib.add(p)
                self.events.append((t, "announce", p))

    def announced(self):
        """Every prefix ever announced to this monitor."""
        self.poll()
        return {d for _, k, d in self.events if k == "announce"}

    def first_withdraw(self, prefixes, since):
        """Time by which every prefix of prefixes was withdrawn (explicitly
        or by the session going down) at or after since, else None."""
        self.poll()
        pending = set(prefixes)
        for t, kind, data in self.events:
            if t < since:
                continue
            if kind == "withdraw":
                pending.discard(data)
            elif kind == "state" and data.startswith("down"):
                pending.clear()
            if not pending:
                return t
        return None


def median(values):
    v = sorted(values)
    if not v:
        return float("nan")
    n = len(v)
    return v[n // 2] if n % 2 else (v[n // 2 - 1] + v[n // 2]) / 2
