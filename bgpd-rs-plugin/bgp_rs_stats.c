// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Route-server module core: per-neighbor counters, withheld prefixes and
 * configuration warnings, read by show, the YANG state and the CLI. Each
 * caller gets what it needs from at most one walk of the instance's table.
 */
#include <zebra.h>

#include "bgpd/bgpd.h"
#include "bgpd/bgp_route.h"
#include "bgpd/bgp_table.h"
#include "bgpd/bgp_updgrp.h"

#include "bgp_rs.h"

DEFINE_MTYPE_STATIC(BGP_RS, RS_STATS, "Route-server counters");

/* Whether dst is sent pi (add-path: every valid path; else the best). */
static inline bool rs_offered(const struct bgp_path_info *pi, bool addpath)
{
	return addpath ? CHECK_FLAG(pi->flags, BGP_PATH_VALID)
		       : CHECK_FLAG(pi->flags, BGP_PATH_SELECTED);
}

/*
 * Calls cb for each path the policy keeps from dst: the best path of each
 * prefix, or every valid path when dst receives add-path. Paths learned
 * from dst itself are not counted (BGP never sends them back anyway).
 */
unsigned int rs_walk_withheld(const struct rs_inst *inst, struct peer *dst,
			      rs_withheld_cb cb, void *ctx)
{
	enum rs_role role = rs_peer_role(inst, dst, NULL);
	unsigned int n = 0;
	afi_t afi;

	if (!role)
		return 0;
	for (afi = AFI_IP; afi <= AFI_IP6; afi++) {
		struct bgp_table *table = inst->bgp->rib[afi][SAFI_UNICAST];
		struct bgp_dest *dest;
		bool addpath;

		if (!table || !dst->afc[afi][SAFI_UNICAST])
			continue;
		addpath = bgp_addpath_encode_tx(dst, afi, SAFI_UNICAST);
		for (dest = bgp_table_top(table); dest;
		     dest = bgp_route_next(dest)) {
			struct bgp_path_info *pi;

			for (pi = bgp_dest_get_bgp_path_info(dest); pi;
			     pi = pi->next) {
				enum rs_source src;
				enum rs_verdict v;

				if (!rs_offered(pi, addpath) || pi->peer == dst)
					continue;
				src = rs_path_source(inst, pi->peer);
				v = rs_policy_decide(src, role, inst->b2b);
				if (v != RS_WITHHELD_B2B && v != RS_WITHHELD_NEVER)
					continue;
				n++;
				if (cb)
					cb(ctx, afi, bgp_dest_get_prefix(dest),
					   pi->peer, src, v);
			}
		}
	}
	return n;
}

/* Counts what every role neighbor is withheld in one walk of the table. */
static void rs_stats_withheld(const struct rs_inst *inst,
			      struct rs_peer_stats *st, unsigned int n)
{
	afi_t afi;

	for (afi = AFI_IP; afi <= AFI_IP6; afi++) {
		struct bgp_table *table = inst->bgp->rib[afi][SAFI_UNICAST];
		struct bgp_dest *dest;
		bool any = false;

		for (unsigned int j = 0; j < n; j++) {
			st[j].active = st[j].peer->afc[afi][SAFI_UNICAST];
			st[j].addpath = st[j].active &&
					bgp_addpath_encode_tx(st[j].peer, afi,
							      SAFI_UNICAST);
			any |= st[j].active;
		}
		if (!table || !any)
			continue;
		for (dest = bgp_table_top(table); dest;
		     dest = bgp_route_next(dest)) {
			struct bgp_path_info *pi;

			for (pi = bgp_dest_get_bgp_path_info(dest); pi;
			     pi = pi->next) {
				uint8_t mask;

				if (!CHECK_FLAG(pi->flags, BGP_PATH_VALID))
					continue;
				mask = inst->withhold[rs_path_source(inst,
								     pi->peer)];
				if (!mask)
					continue;
				for (unsigned int j = 0; j < n; j++)
					if (st[j].active &&
					    (mask >> st[j].role) & 1 &&
					    pi->peer != st[j].peer &&
					    rs_offered(pi, st[j].addpath))
						st[j].withheld++;
			}
		}
	}
}

unsigned int rs_stats_collect(const struct rs_inst *inst,
			      struct rs_peer_stats **stats)
{
	struct listnode *node;
	struct peer *peer;
	struct rs_peer_stats *st;
	unsigned int n = 0;

	*stats = NULL;
	for (ALL_LIST_ELEMENTS_RO(inst->bgp->peer, node, peer))
		if (rs_peer_role(inst, peer, NULL))
			n++;
	if (!n)
		return 0;
	st = XCALLOC(MTYPE_RS_STATS, n * sizeof(*st));
	n = 0;
	for (ALL_LIST_ELEMENTS_RO(inst->bgp->peer, node, peer)) {
		struct rs_peer_stats *s;
		const char *from;
		enum rs_role role = rs_peer_role(inst, peer, &from);
		afi_t afi;

		if (!role)
			continue;
		s = &st[n];
		s->role = role;
		s->from = from;
		s->peer = peer;
		for (afi = AFI_IP; afi <= AFI_IP6; afi++) {
			struct peer_af *paf = peer_af_find(peer, afi,
							   SAFI_UNICAST);

			s->rcvd += peer->pcount[afi][SAFI_UNICAST];
			if (paf && PAF_SUBGRP(paf))
				s->sent += PAF_SUBGRP(paf)->scount;
		}
		n++;
	}
	rs_stats_withheld(inst, st, n);
	*stats = st;
	return n;
}

void rs_stats_free(struct rs_peer_stats **stats)
{
	XFREE(MTYPE_RS_STATS, *stats);
}

/* --- warnings ------------------------------------------------------------ */

bool rs_active_active_warning(const struct rs_inst *inst, char *buf,
			      size_t len)
{
	unsigned int n[RS_ROLE_MAX] = {};
	struct listnode *node;
	struct peer *peer;

	for (ALL_LIST_ELEMENTS_RO(inst->bgp->peer, node, peer))
		n[rs_peer_role(inst, peer, NULL)]++;
	if (!rs_active_active_violated(inst->b2b, n[RS_ROLE_EXPRESSROUTE],
				       n[RS_ROLE_VPN]))
		return false;
	snprintf(buf, len,
		 "branch-to-branch with an ExpressRoute gateway needs an active-active VPN gateway (2 gateway vpn neighbors), %u configured",
		 n[RS_ROLE_VPN]);
	return true;
}

/*
 * Misconfigurations the route server accepts (a config file must load line
 * by line) but reports: in show, JSON, YANG state and when configured.
 */
void rs_warnings(const struct rs_inst *inst,
		 void (*emit)(void *ctx, const char *text), void *ctx)
{
	struct listnode *node;
	struct peer *peer;
	char buf[256];

	if (rs_active_active_warning(inst, buf, sizeof(buf)))
		emit(ctx, buf);
	for (ALL_LIST_ELEMENTS_RO(inst->bgp->peer, node, peer)) {
		enum rs_role role = rs_peer_role(inst, peer, NULL);
		afi_t afi;

		if (!role || peer->sort != BGP_PEER_IBGP)
			continue;
		for (afi = AFI_IP; afi <= AFI_IP6; afi++) {
			if (!peer->afc[afi][SAFI_UNICAST] ||
			    CHECK_FLAG(peer->af_flags[afi][SAFI_UNICAST],
				       PEER_FLAG_REFLECTOR_CLIENT))
				continue;
			snprintf(buf, sizeof(buf),
				 "neighbor %s (%s) is iBGP but not a route-reflector-client in %s unicast: it receives no iBGP-learned routes",
				 peer->host, rs_role_cli(role),
				 afi == AFI_IP ? "ipv4" : "ipv6");
			emit(ctx, buf);
		}
	}
}
