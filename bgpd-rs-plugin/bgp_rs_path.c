// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Route-server module core: the best path each role may have (no path
 * hiding) and the routing preference (Azure's hub routing preference).
 *
 * bgpd keeps a destination's paths in best-path order after selection
 * (bgp_best_selection()) and the routing preference is a step of that
 * order, so the best path a role may have is the first usable path after
 * the selected one that the policy allows it: no sort and no comparison
 * here, and nothing at all when the selected path is allowed.
 */
#include <zebra.h>

#include "bgpd/bgpd.h"
#include "bgpd/bgp_addpath.h"
#include "bgpd/bgp_fsm.h"
#include "bgpd/bgp_route.h"
#include "bgpd/bgp_table.h"
#include "bgpd/bgp_updgrp.h"

#include "bgp_rs.h"

/* A path best-path selection considers (as bgp_best_selection() does).
 * A path not sorted yet is skipped: its destination is being processed
 * and is announced again once sorted.
 */
static inline bool rs_path_usable(const struct bgp *bgp,
				  const struct bgp_path_info *pi)
{
	if (BGP_PATH_HOLDDOWN(pi) || CHECK_FLAG(pi->flags, BGP_PATH_UNSORTED))
		return false;
	return pi->peer == bgp->peer_self ||
	       CHECK_FLAG(pi->peer->sflags, PEER_STATUS_NSF_WAIT) ||
	       peer_established(pi->peer->connection);
}

struct bgp_path_info *rs_best_allowed(const struct rs_inst *inst,
				      struct bgp_path_info *best,
				      enum rs_role dst)
{
	struct bgp_path_info *pi;

	for (pi = best->next; pi; pi = pi->next)
		if (rs_path_usable(inst->bgp, pi) &&
		    !rs_withheld(inst, rs_cache_get(inst, pi->peer), dst))
			return pi;
	return NULL;
}

static void __attribute__((noinline))
rs_debug_select(const struct update_subgroup *subgrp,
		const struct bgp_path_info *best,
		const struct bgp_path_info *pick)
{
	zlog_debug("route-server: %pFX to update-group %" PRIu64
		   ": best path from %s withheld, %s%s",
		   bgp_dest_get_prefix(best->net), subgrp->update_group->id,
		   best->peer->host, pick ? "sending the path from " : "no path allowed",
		   pick ? pick->peer->host : "");
}

/* bgp_announce_path_select: a role group gets its best allowed path. */
static int rs_path_select(struct update_subgroup *subgrp,
			  struct bgp_dest *dest, struct bgp_path_info **pi)
{
	uint32_t key = subgrp->update_group->module_key[rs_key_slot];
	const struct rs_inst *inst;
	struct bgp_path_info *best = *pi;

	if (!key)
		return 0;
	inst = rs_insts[key >> 8];
	/* no instance: bgp_announce_path_check denies everything */
	if (unlikely(!inst) ||
	    !rs_withheld(inst, rs_cache_get(inst, best->peer), key & 0xff))
		return 0;
	*pi = rs_best_allowed(inst, best, key & 0xff);
	if (unlikely(RS_DEBUG()))
		rs_debug_select(subgrp, best, *pi);
	return 0;
}

struct rs_reannounce {
	const struct rs_inst *inst;
	struct bgp_dest *dest;
	struct bgp_path_info *best;
	uint8_t roles; /* the roles the best path is withheld from */
};

static int rs_reannounce_updgrp(struct update_group *updgrp, void *arg)
{
	struct rs_reannounce *ctx = arg;
	uint32_t key = updgrp->module_key[rs_key_slot];
	struct peer *peer = UPDGRP_PEER(updgrp);
	afi_t afi = UPDGRP_AFI(updgrp);
	safi_t safi = UPDGRP_SAFI(updgrp);
	struct update_subgroup *subgrp;
	uint32_t id;

	if (!key || rs_insts[key >> 8] != ctx->inst ||
	    !((ctx->roles >> (key & 0xff)) & 1) ||
	    bgp_addpath_encode_tx(peer, afi, safi))
		return UPDWALK_CONTINUE;
	id = bgp_addpath_id_for_peer(peer, afi, safi, &ctx->best->tx_addpath);
	UPDGRP_FOREACH_SUBGRP (updgrp, subgrp) {
		/* a new subgroup's table announcement comes after this */
		if (subgrp->t_coalesce)
			continue;
		/* through bgpd, which knows where it may substitute */
		subgroup_process_announce_selected(subgrp,
						   bgp_subgroup_path_select(subgrp,
									    ctx->dest,
									    ctx->best),
						   ctx->dest, afi, safi, id);
	}
	return UPDWALK_CONTINUE;
}

/*
 * bgp_process_selected_unchanged: another path of the destination was
 * added, changed or withdrawn. Only the role groups the selected path is
 * withheld from can be sent something else; their adj-out sends nothing
 * when the chosen path and its attributes are the same as before.
 */
static int rs_selected_unchanged(struct bgp *bgp, afi_t afi, safi_t safi,
				 struct bgp_dest *dest,
				 struct bgp_path_info *best)
{
	struct rs_reannounce ctx = { .dest = dest, .best = best };

	if (safi != SAFI_UNICAST || (afi != AFI_IP && afi != AFI_IP6))
		return 0;
	ctx.inst = rs_inst_find(bgp);
	if (!ctx.inst || !ctx.inst->cache_mask)
		return 0;
	ctx.roles = ctx.inst->withhold[rs_cache_get(ctx.inst, best->peer)];
	if (!ctx.roles)
		return 0;
	update_group_af_walk(bgp, afi, SAFI_UNICAST, rs_reannounce_updgrp, &ctx);
	update_group_af_walk(bgp, afi, SAFI_LABELED_UNICAST,
			     rs_reannounce_updgrp, &ctx);
	return 0;
}

/* bgp_path_info_cmp_module: the routing preference, after weight. */
static int rs_path_cmp(struct bgp *bgp, struct bgp_path_info *new,
		       struct bgp_path_info *exist, afi_t afi, safi_t safi,
		       int *cmp)
{
	const struct rs_inst *inst;

	if (*cmp || !rs_afi_safi(afi, safi))
		return 0;
	inst = rs_inst_find(bgp);
	if (!inst || inst->pref == RS_PREF_ASPATH)
		return 0;
	*cmp = rs_pref_cmp(inst->rank[rs_cache_get(inst, new->peer)],
			   inst->rank[rs_cache_get(inst, exist->peer)]);
	return 0;
}

/* Re-run selection where it can change: destinations with two paths or
 * more (bgp_process() re-sorts each path it is given). No session reset.
 */
void rs_reselect(struct rs_inst *inst)
{
	struct bgp *bgp = inst->bgp;
	afi_t afi;

	inst->reselect = false;
	for (afi = AFI_IP; afi <= AFI_IP6; afi++) {
		struct bgp_table *table = bgp->rib[afi][SAFI_UNICAST];
		struct bgp_dest *dest;

		if (!table)
			continue;
		for (dest = bgp_table_top(table); dest;
		     dest = bgp_route_next(dest)) {
			struct bgp_path_info *pi, *next;

			pi = bgp_dest_get_bgp_path_info(dest);
			if (!pi || !pi->next)
				continue;
			for (; pi && (next = pi->next, 1); pi = next)
				bgp_process(bgp, dest, pi, afi, SAFI_UNICAST);
		}
	}
}

void rs_pref_set(struct rs_inst *inst, enum rs_pref pref)
{
	if (inst->pref == pref)
		return;
	if (RS_DEBUG())
		zlog_debug("route-server: VRF %s routing preference %s -> %s",
			   rs_inst_vrf(inst->bgp), rs_pref_name(inst->pref),
			   rs_pref_name(pref));
	inst->pref = pref;
	for (int src = RS_SRC_NONE; src < RS_SRC_MAX; src++)
		inst->rank[src] = rs_pref_rank(src, pref);
	inst->reselect = true;
	rs_walk_schedule(inst);
}

void rs_path_init(void)
{
	bgp_path_selection_module_name = "Routing preference";
	hook_register(bgp_announce_path_select, rs_path_select);
	hook_register(bgp_process_selected_unchanged, rs_selected_unchanged);
	hook_register(bgp_path_info_cmp_module, rs_path_cmp);
}
