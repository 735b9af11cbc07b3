# SPDX-License-Identifier: GPL-2.0-or-later
"""The written parts of docs/performance.md: why targets are missed, and
the stage-2 changes with the runs that measured them (bench/results/)."""

ANALYSIS = [
    "## Where targets are missed, and why", "",
    "- **c against a with b2b on.** The decision itself is not the cost: callgrind puts the "
    "hook at well under 1% of bgpd's instructions (above). The cost is the update-group split: without "
    "policy all eleven peers share one update-group, so bgpd packs each UPDATE once; with roles "
    "(and equally with b's route-maps) there is one update-group per destination role "
    "(`show bgp ipv4 unicast update-groups`: 1 for a, 3 for b and c), so a path allowed to several "
    "roles is packed once per role. That is inherent in any per-role outbound policy in bgpd; the "
    "module pays it without b's route-map evaluation, which is why c beats b everywhere. Since stage 2, "
    "c also runs with the route-server timing defaults below (a keeps bgpd's), which more than hides "
    "the split at 1M; with the same coalesce time for both (`coalesce-time 0`, "
    "`bench/results/stage2-coalesce-time-0.json`) c/a is 1.02 at 100k and 1.07 at 1M.",
    "- **c against d (BIRD), b2b off.** Nothing of the ExpressRoute table is sent with b2b off, so the "
    "time is bgpd taking in a million prefixes: the profile below shows `route_node_get` alone at 40-50% "
    "of bgpd's CPU samples at 1M, with or without the module. Inserting into lib/table's Patricia trie in the order BIRD sends "
    "(its hash order, effectively random) walks some twenty levels per prefix, and the deep ones miss "
    "the cache (perf annotate: half of the function's samples on the load of a node's prefix length). "
    "BIRD keeps its table in a hash. Closing this needs a faster insert in lib/table.c (for instance, "
    "finding the deepest existing ancestor through the table's node hash, which is already there, "
    "before walking from the top), a change every FRR daemon depends on, so it needs its own upstream "
    "review with zebra's and bgpd's benchmarks; then attribute interning and per-path allocation.",
    "- **c against d, b2b on.** The same input, plus three update-groups each building and keeping an "
    "adj-out entry per prefix and packing its own UPDATEs. Packing once and sharing the packet between "
    "update-groups whose allowed sets agree (an NVA path goes to all three) is a redesign of bgpd's "
    "subgroup packet queues; not attempted. Keying update-groups by a destination's withhold mask "
    "instead of its role was evaluated and not built: with b2b off ER and VPN gateways would share a "
    "group, but they receive only the VNet route; with b2b on the three masks all differ (ER paths "
    "never go to ER, VPN paths never to VPN), so this workload would not change.",
    "- **Memory (peak RSS against BIRD at 1M).** `show memory` below: per prefix bgpd keeps a route "
    "node, a trie node, a `bgp_dest`, the path and its extra info, and one adj-out entry per "
    "update-group that carries it (three with b2b on). BIRD keeps a network and a route. Reaching 5x "
    "would take dropping bgpd's adj-out (its record of what each subgroup was sent, from which it "
    "computes withdrawals) or merging the per-prefix structures: structural changes to bgpd.",
    "- **An NVA's failure at 1M (steady-state section).** BFD notices it in 300 ms for every variant, "
    "and once bgpd withdraws the first of the NVA's routes the rest follow within about 0.1 s, but at "
    "1M bgpd needs 0.3-0.9 s more than BIRD before that first withdrawal: to find the failed peer's "
    "paths it walks the whole table (`bgp_clear_route_table()`, a million destinations), where BIRD "
    "flushes the protocol's own routes. Upstream master batches the clearing of several peers into "
    "one walk (`bgp_clearing_batch_*`), which helps many failures at once, not one; an index of each "
    "peer's paths would take the walk away, at a pointer pair per path.",
    "- **Noise.** Two cores run the route server and eleven BIRD speakers; the min-max spread is "
    "shown next to every median. At 100k, when the ExpressRoute session comes up a little after the "
    "others (session collisions), the route server's input finishes up to a second later; this shows "
    "as the occasional slow run of any variant.",
    "",
]

STAGE2 = [
    "## Stage 2: what changed, measured before and after", "",
    "Each change against the build before it on the same machine, same commands "
    "(`rsbench.py`, base workload, medians; the results files are in bench/results/):", "",
    "| change | measured | before | after | runs |", "|---|---|---|---|---|",
    "| bgpd sends no nexthop registration while zebra is not connected (as under -Z): each one failed "
    "and logged a warning, once per path (patch 0011) | c, 1M, T b2b off / on | 8.57 s / 16.82 s | 4.93 s / 12.62 s | "
    "`stage2-before-after.json` (c0 = the build before, same run) |",
    "| same | c, CPU to converge, 100k b2b off / 1M b2b off | 1.04 s / 7.94 s | 0.50 s / 4.65 s | same |",
    "| best-path queue hold 50 ms -> 1 ms on route-server instances (module) | c, 100k, one prefix, "
    "announce p50 | 51 ms | 2 ms | `stage2-hold-50ms.json`, `stage2-hold-1ms.json` |",
    "| same | c, 100k, burst of 4,000, announce / withdraw p50 | 95 / 93 ms | 66 / 42 ms | same |",
    "| same | c, 1M, T b2b off / on (3 runs each) | 8.17 s / 16.79 s | 8.42 s / 16.91 s (within the "
    "spread) | same |",
    "| update-group coalesce time 1 s + 50 ms per neighbor -> 100 ms unless `coalesce-time` is "
    "configured (module) | c, 1M, T b2b on | 12.62 s | 9.58 s | `stage2-before-after.json`, "
    "`stage2-coalesce-module-100ms.json` |",
    "| same | c, 100k, T b2b off / on | 1.87 s / 2.33 s | 0.5-1.4 s / 1.5 s | same |",
    "",
    "bgpd's other timers here: `update-delay` only applies after bgpd starts (it holds best-path "
    "selection until the neighbors have sent End-of-RIB or the delay expires), which an operator may "
    "want for a route server's restart but which cannot make any run here faster; the module leaves it "
    "alone. The eBGP MRAI is 0 in FRR's defaults.",
    "",
]
