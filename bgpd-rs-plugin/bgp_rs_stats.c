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

/* The selected path of a destination (the list is in best-path order, so
 * it is nearly always the first).
 */
static struct bgp_path_info *rs_selected(struct bgp_dest *dest)
{
	struct bgp_path_info *pi;

	for (pi = bgp_dest_get_bgp_path_info(dest); pi; pi = pi->next)
		if (CHECK_FLAG(pi->flags, BGP_PATH_SELECTED))
			return pi;
	return NULL;
}

/*
 * What dst gets of a destination whose selected path best the policy
 * withholds from it (the caller checked): its best allowed path, or NULL.
 * *own is set when that path is dst's own: nothing is sent back, and dst
 * has the route anyway, so it is counted nowhere.
 */
static struct bgp_path_info *rs_alt(const struct rs_inst *inst,
				    struct bgp_path_info *best,
				    const struct peer *dst, enum rs_role role,
				    afi_t afi, bool *own)
{
	struct bgp_path_info *alt = NULL;

	/* bgpd substitutes only where add-path is not configured at all */
	if (dst->addpath_type[afi][SAFI_UNICAST] == BGP_ADDPATH_NONE)
		alt = rs_best_allowed(inst, best, role);

	*own = alt && alt->peer == dst;
	return alt;
}

/*
 * Calls cb for each prefix whose best path the policy keeps from dst,
 * with the path dst gets instead if any; with add-path, for each valid
 * path kept from it. A prefix dst is sent nothing for while it has a
 * path of its own is not counted (it has the route); when its own best
 * path is one its role may not have (ER-ER, VPN-VPN), the path it is
 * sent instead is.
 */
unsigned int rs_walk_withheld(const struct rs_inst *inst, struct peer *dst,
			      rs_withheld_cb cb, void *ctx,
			      unsigned int *n_alt)
{
	enum rs_role role = rs_peer_role(inst, dst, NULL);
	unsigned int n = 0;
	afi_t afi;

	*n_alt = 0;
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
			struct rs_withheld w = { .afi = afi };
			bool own;

			for (pi = bgp_dest_get_bgp_path_info(dest); pi;
			     pi = pi->next) {
				if (!(addpath ? CHECK_FLAG(pi->flags,
							   BGP_PATH_VALID)
					      : CHECK_FLAG(pi->flags,
							   BGP_PATH_SELECTED)) ||
				    (addpath && pi->peer == dst))
					continue;
				w.src = rs_path_source(inst, pi->peer);
				w.verdict = rs_policy_decide(w.src, role,
							     inst->b2b);
				if (w.verdict != RS_WITHHELD_B2B &&
				    w.verdict != RS_WITHHELD_NEVER)
					continue;
				w.p = bgp_dest_get_prefix(dest);
				w.best = pi;
				w.alt = addpath ? NULL
						: rs_alt(inst, pi, dst, role,
							 afi, &own);
				if ((w.alt && own) || (!w.alt && pi->peer == dst))
					continue;
				if (w.alt) {
					w.alt_src = rs_path_source(inst,
								   w.alt->peer);
					(*n_alt)++;
				} else {
					n++;
				}
				if (cb)
					cb(ctx, &w);
			}
		}
	}
	return n;
}

/* Counts, for every role neighbor in one walk of the table, the prefixes
 * (add-path: paths) it is withheld and those it gets another path for.
 */
static void rs_stats_withheld(const struct rs_inst *inst,
			      struct rs_peer_stats *st, unsigned int n)
{
	afi_t afi;

	for (afi = AFI_IP; afi <= AFI_IP6; afi++) {
		struct bgp_table *table = inst->bgp->rib[afi][SAFI_UNICAST];
		struct bgp_dest *dest;
		bool any = false, any_addpath = false;

		for (unsigned int j = 0; j < n; j++) {
			st[j].active = st[j].peer->afc[afi][SAFI_UNICAST];
			st[j].addpath = st[j].active &&
					bgp_addpath_encode_tx(st[j].peer, afi,
							      SAFI_UNICAST);
			any |= st[j].active;
			any_addpath |= st[j].addpath;
		}
		if (!table || !any)
			continue;
		for (dest = bgp_table_top(table); dest;
		     dest = bgp_route_next(dest)) {
			struct bgp_path_info *best = rs_selected(dest), *pi;
			uint8_t mask;

			mask = best ? inst->withhold[rs_path_source(inst,
								    best->peer)]
				    : 0;
			for (unsigned int j = 0; mask && j < n; j++) {
				bool own;

				if (!st[j].active || st[j].addpath ||
				    !((mask >> st[j].role) & 1))
					continue;
				if (rs_alt(inst, best, st[j].peer, st[j].role,
					   afi, &own)) {
					if (!own)
						st[j].alt++;
				} else if (best->peer != st[j].peer) {
					st[j].withheld++;
				}
			}
			if (!any_addpath)
				continue;
			for (pi = bgp_dest_get_bgp_path_info(dest); pi;
			     pi = pi->next) {
				if (!CHECK_FLAG(pi->flags, BGP_PATH_VALID))
					continue;
				mask = inst->withhold[rs_path_source(inst,
								     pi->peer)];
				for (unsigned int j = 0; mask && j < n; j++)
					if (st[j].addpath &&
					    (mask >> st[j].role) & 1 &&
					    pi->peer != st[j].peer)
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
