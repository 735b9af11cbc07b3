# SPDX-License-Identifier: GPL-2.0-or-later
"""BIRD 2 inside topotest routers, for the scale tests: many sessions from
one daemon, and large tables (BIRD loads a million static routes from its
config in about a second)."""

import os
import re

import pytest

from rslib import wait_for

BIRD, BIRDC = "/usr/sbin/bird", "/usr/sbin/birdc"


def require_bird():
    missing = [b for b in (BIRD, BIRDC) if not os.access(b, os.X_OK)]
    if missing:
        pytest.fail(
            "needs BIRD 2 from Debian (package bird2); missing {} - run "
            "scripts/install-deps.sh".format(", ".join(missing)),
            pytrace=False,
        )


def sock(router, name="bird"):
    return os.path.join(router.gearlogdir, name + ".ctl")


def start_bird(router, conf_text, name="bird", wait=True):
    """Write conf_text as NAME.conf in the router's log dir and start a
    BIRD instance NAME (control socket NAME.ctl) in the router; several
    instances can share a router (with `strict bind`, each on its own
    address)."""
    d = router.gearlogdir
    conf = os.path.join(d, name + ".conf")
    with open(conf, "w") as f:
        f.write(conf_text)
    router.cmd_raises("{} -p -c {}".format(BIRD, conf))
    router.cmd_raises(
        "{bird} -f -c {conf} -s {sock} -P {d}/{n}.pid </dev/null >{d}/{n}.log 2>&1 &".format(
            bird=BIRD, conf=conf, sock=sock(router, name), d=d, n=name
        )
    )
    if wait:
        wait_ready(router, name)


def wait_ready(router, name="bird"):
    wait_for(lambda: "ready" in birdc(router, "show status", name), True,
             "{}: {} control socket".format(router.name, name), count=40)


def stop_bird(router, name="bird"):
    pidfile = os.path.join(router.gearlogdir, name + ".pid")
    router.cmd("[ -f {0} ] && kill $(cat {0}) 2>/dev/null; rm -f {0}".format(pidfile))


def birdc(router, command, name="bird"):
    return router.cmd("{} -s {} {} 2>&1".format(BIRDC, sock(router, name), command))


def established(router, name="bird"):
    """Names of the BGP protocols in state Established."""
    out = birdc(router, "show protocols", name)
    return {l.split()[0] for l in out.splitlines() if l.split() and "Established" in l}


def prefixes(router, protocol, name="bird"):
    """Prefixes of the routes the protocol imported (received)."""
    out = birdc(router, "show route protocol " + protocol, name)
    return {l.split()[0] for l in out.splitlines() if l and not l[0].isspace() and "/" in l.split()[0]}


def route_count(router, protocol, name="bird"):
    """Number of routes the protocol imported, -1 if BIRD did not answer."""
    out = birdc(router, "show route protocol {} count".format(protocol), name)
    m = re.search(r"(\d+) of \d+ routes", out)
    return int(m.group(1)) if m else -1
