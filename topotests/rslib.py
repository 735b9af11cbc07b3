# SPDX-License-Identifier: GPL-2.0-or-later
"""Helpers shared by the route-server topotests (FRR topotest framework)."""

import json
import os
import shutil
import subprocess

from lib import topotest

RS_MODULE = "-M route_server"


def vtysh_json(router, cmd):
    out = router.vtysh_cmd(cmd)
    try:
        return json.loads(out)
    except ValueError as err:
        raise AssertionError("{}: '{}' is not JSON: {!r}".format(router.name, cmd, out)) from err


def wait_for(func, expected, what, count=60, wait=0.5):
    """Retry func() until it equals expected (FRR's run_and_expect)."""
    ok, result = topotest.run_and_expect(func, expected, count=count, wait=wait)
    assert ok, "{}: expected {!r}, last got {!r}".format(what, expected, result)
    return result


def received_prefixes(router, afi="ipv4"):
    """Set of prefixes in router's BGP table."""
    data = vtysh_json(router, "show bgp {} unicast json".format(afi))
    return set(data.get("routes", {}).keys())


def advertised_prefixes(router, neighbor, afi="ipv4"):
    data = vtysh_json(
        router, "show bgp {} unicast neighbors {} advertised-routes json".format(afi, neighbor)
    )
    return set(data.get("advertisedRoutes", {}).keys())


def established_counters(router):
    """neighbor -> (established transitions, last-established epoch)."""
    data = vtysh_json(router, "show bgp neighbors json")
    return {
        n: (v.get("connectionsEstablished"), v.get("bgpTimerUpEstablishedEpoch"))
        for n, v in data.items()
        if isinstance(v, dict) and "bgpState" in v
    }


def all_established(router, neighbors):
    data = vtysh_json(router, "show bgp neighbors json")
    return all(data.get(n, {}).get("bgpState") == "Established" for n in neighbors)


def configure(router, *lines, bgp_as=65515):
    """Apply config lines inside 'router bgp ASN'; returns vtysh output."""
    cmd = ["configure terminal", "router bgp {}".format(bgp_as)] + list(lines)
    return router.vtysh_multicmd("\n".join(cmd) + "\n", pretty_output=False)


def running_config(router):
    return router.vtysh_cmd("show running-config")


def have(binary):
    return shutil.which(binary) is not None
