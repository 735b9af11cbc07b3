// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Route-server module for bgpd: neighbor roles and branch-to-branch, in
 * the manner of Azure Route Server. This file holds the bgpd hook
 * handlers, the source-role cache they read, deleted neighbors' roles and
 * run-time changes; the state is in bgp_rs_inst.c and the decision in
 * rs_policy.h. It calls no glue file of the module.
 */
#include <zebra.h>

#include "lib/debug.h"
#include "lib/frrevent.h"
#include "lib/lib_errors.h"

#include "bgpd/bgpd.h"
#include "bgpd/bgp_fsm.h"
#include "bgpd/bgp_route.h"
#include "bgpd/bgp_updgrp.h"

#include "bgp_rs.h"

DEFINE_MTYPE_STATIC(BGP_RS, RS_TOMB, "Route-server deleted neighbor");
DEFINE_MTYPE_STATIC(BGP_RS, RS_CACHE, "Route-server peer role cache");

DSO_LOCAL struct debug rs_debug = {
	.conf = "debug bgp route-server",
	.desc = "BGP route server",
};

/* Delay that merges a burst of role/flag changes into one table walk. */
#define RS_WALK_DELAY_MS 100
/* How often deleted neighbors are checked for remaining paths. */
#define RS_TOMB_POLL_MS 500

DSO_LOCAL int rs_key_slot = -1;

/* --- source-role cache (read per path, rebuilt on changes) --------------- */

static void rs_cache_put(struct rs_peer_slot *tab, unsigned int mask,
			 unsigned int shift, const struct peer *peer,
			 enum rs_source src)
{
	unsigned int i = rs_cache_hash(peer, shift);

	while (tab[i].peer)
		i = (i + 1) & mask;
	tab[i].peer = peer;
	tab[i].src = src;
}

/* Rebuild from the live neighbors with a role and the deleted ones whose
 * paths are still in the table. The new table replaces the old in one
 * pointer store: a lookup sees either state, never a mix.
 */
static void rs_cache_rebuild(struct rs_inst *inst)
{
	struct listnode *node;
	struct peer *peer;
	struct rs_tomb *t;
	unsigned int n = 1 + rs_tombs_count(&inst->tombs), cap = 8, shift = 29;
	struct rs_peer_slot *tab;

	for (ALL_LIST_ELEMENTS_RO(inst->bgp->peer, node, peer))
		if (rs_peer_role(inst, peer, NULL))
			n++;
	if (n == 1) { /* no role: the hooks never ask */
		XFREE(MTYPE_RS_CACHE, inst->cache);
		inst->cache_mask = 0;
		return;
	}
	/* A quarter full at most: lookups rarely probe a second slot. */
	while (cap < 4 * n) {
		cap <<= 1;
		shift--;
	}
	tab = XCALLOC(MTYPE_RS_CACHE, cap * sizeof(*tab));
	frr_each (rs_tombs, &inst->tombs, t)
		rs_cache_put(tab, cap - 1, shift, t->peer, t->src);
	for (ALL_LIST_ELEMENTS_RO(inst->bgp->peer, node, peer)) {
		enum rs_role role = rs_peer_role(inst, peer, NULL);

		if (role)
			rs_cache_put(tab, cap - 1, shift, peer,
				     (enum rs_source)role);
	}
	/* The hot path then needs no separate test for VNet routes. */
	rs_cache_put(tab, cap - 1, shift, inst->bgp->peer_self, RS_SRC_VNET);
	XFREE(MTYPE_RS_CACHE, inst->cache);
	inst->cache = tab;
	inst->cache_mask = cap - 1;
	inst->cache_shift = shift;
}

enum rs_source rs_path_source(const struct rs_inst *inst,
			      const struct peer *from)
{
	/* Originated, redistributed, aggregated and leaked routes. */
	if (from == inst->bgp->peer_self)
		return RS_SRC_VNET;
	return rs_cache_get(inst, from);
}

/* --- bgpd hooks ---------------------------------------------------------- */

/* Peers of different roles (and instances) never share an update-group;
 * the key carries the instance slot and the destination role. bgpd calls
 * it more than once per regroup, and before it creates any subgroup:
 * where the route-server coalesce time is (re)applied, since bgpd restores
 * its own heuristic whenever it creates a peer.
 */
static int rs_updgrp_key(struct peer *peer, afi_t afi, safi_t safi,
			 uint32_t *module_key)
{
	const struct rs_inst *inst;
	enum rs_role role;

	if (!rs_afi_safi(afi, safi))
		return 0;
	inst = rs_inst_find(peer->bgp);
	if (inst)
		rs_coalesce_apply(peer->bgp);
	role = inst ? rs_peer_role(inst, peer, NULL) : RS_ROLE_NONE;
	if (role)
		module_key[rs_key_slot] = (inst->slot << 8) | role;
	return 0;
}

/* The per-path decision: must stay tiny, it runs for every path and
 * update-group.
 */
static int __attribute__((noinline))
rs_debug_withheld(const struct bgp_path_info *pi)
{
	if (pi->peer->connection->status == Deleted)
		zlog_debug("route-server: %pFX from deleted neighbor %s withheld",
			   bgp_dest_get_prefix(pi->net), pi->peer->host);
	return 0;
}

static int rs_announce_check(struct update_subgroup *subgrp,
			     struct bgp_path_info *pi, const struct prefix *p,
			     bool *deny)
{
	uint32_t key = subgrp->update_group->module_key[rs_key_slot];
	const struct rs_inst *inst;

	if (!key)
		return 0;
	inst = rs_insts[key >> 8];
	/* A role group outliving its instance (bgp being deleted): send
	 * nothing rather than everything. A freed slot is reused only after
	 * every group carrying it was regrouped (rs_roles_clear) or deleted
	 * with its bgp.
	 */
	if (unlikely(!inst)) {
		*deny = true;
		return 0;
	}
	if (!rs_withheld(inst, rs_cache_get(inst, pi->peer), key & 0xff))
		return 0;
	*deny = true;
	/* a tail call: the hot path saves no registers for it */
	if (unlikely(RS_DEBUG()))
		return rs_debug_withheld(pi);
	return 0;
}

/* --- deleted neighbors --------------------------------------------------- */

static void rs_tombs_poll(struct event *t);

static void rs_tomb_free(struct rs_inst *inst, struct rs_tomb *t)
{
	struct peer *peer = t->peer;

	rs_tombs_del(&inst->tombs, t);
	XFREE(MTYPE_RS_TOMB, t);
	peer_unlock(peer);
}

/* Drop the tombstones of neighbors whose paths are all gone: our
 * reference is then the last one (every path holds one on its peer).
 */
static void rs_tombs_poll(struct event *ev)
{
	struct rs_inst *inst = EVENT_ARG(ev);
	struct rs_tomb *t;
	bool changed = false;

	frr_each_safe (rs_tombs, &inst->tombs, t) {
		if (t->peer->lock > 1)
			continue;
		if (RS_DEBUG())
			zlog_debug("route-server: deleted neighbor %s has no paths left, its role (%s) is dropped",
				   t->peer->host, rs_source_name(t->src));
		rs_tomb_free(inst, t);
		changed = true;
	}
	if (changed)
		rs_cache_rebuild(inst);
	if (rs_tombs_count(&inst->tombs))
		event_add_timer_msec(bm->master, rs_tombs_poll, inst,
				     RS_TOMB_POLL_MS, &inst->t_tombs);
}

unsigned int rs_tomb_count(const struct rs_inst *inst)
{
	return rs_tombs_count(&inst->tombs);
}

static void rs_each_paf(struct rs_inst *inst, void (*fn)(struct peer_af *paf));
static void rs_hold_paf(struct peer_af *paf);

/*
 * A deleted neighbor's paths stay selected until bgpd's clear work queue
 * reaches them, seconds later on a large table. Its source role must live
 * as long: keep it, with a reference on the peer, until its paths are
 * gone. Any other status change (a session coming up, a peer-group bind
 * resetting it) may change a neighbor's effective role: refresh the cache.
 */
static int rs_peer_status_changed(struct peer *peer)
{
	struct rs_inst *inst = rs_inst_find(peer->bgp);
	enum rs_source src;

	if (!inst || CHECK_FLAG(peer->sflags, PEER_STATUS_GROUP))
		return 0;
	src = rs_cache_get(inst, peer);
	if (peer->connection->status == Deleted) {
		struct rs_tomb *t;

		if (src == RS_SRC_NONE)
			return 0;
		t = XCALLOC(MTYPE_RS_TOMB, sizeof(*t));
		t->peer = peer_lock(peer);
		t->src = src;
		rs_tombs_add_tail(&inst->tombs, t);
		if (RS_DEBUG())
			zlog_debug("route-server: neighbor %s deleted, its paths keep role %s until cleared",
				   peer->host, rs_source_name(src));
		event_add_timer_msec(bm->master, rs_tombs_poll, inst,
				     RS_TOMB_POLL_MS, &inst->t_tombs);
		rs_cache_rebuild(inst);
		return 0;
	}
	if (src == (enum rs_source)rs_peer_role(inst, peer, NULL))
		return 0;
	/* Its role decides what its paths may reach and how they rank. */
	rs_cache_rebuild(inst);
	rs_each_paf(inst, rs_hold_paf);
	if (inst->pref != RS_PREF_ASPATH)
		inst->reselect = true;
	inst->reannounce = true;
	rs_walk_schedule(inst);
	return 0;
}

/* --- run-time changes ---------------------------------------------------- */

/* Apply fn to every established neighbor's route-server AFI/SAFIs. */
static void rs_each_paf(struct rs_inst *inst, void (*fn)(struct peer_af *paf))
{
	struct listnode *node;
	struct peer *peer;
	afi_t afi;
	safi_t safi;

	for (ALL_LIST_ELEMENTS_RO(inst->bgp->peer, node, peer)) {
		if (!peer_established(peer->connection))
			continue;
		FOREACH_AFI_SAFI (afi, safi) {
			struct peer_af *paf;

			if (!rs_afi_safi(afi, safi) || !peer->afc_nego[afi][safi])
				continue;
			paf = peer_af_find(peer, afi, safi);
			if (paf && PAF_SUBGRP(paf))
				fn(paf);
		}
	}
}

/* A neighbor without a role gets every path natively whatever the roles
 * and the flag are: its table needs no walk.
 */
static void rs_walk_paf(struct peer_af *paf)
{
	if (PAF_SUBGRP(paf)->update_group->module_key[rs_key_slot])
		bgp_announce_route(paf->peer, paf->afi, paf->safi, false);
}

/*
 * Re-walk the table for every role neighbor (newly denied paths are
 * withdrawn, newly allowed ones sent; no session reset). Debounced: the
 * cache, the masks and the update-groups are already up to date.
 */
static void rs_walk(struct event *t)
{
	struct rs_inst *inst = EVENT_ARG(t);

	inst->reevals++;
	if (RS_DEBUG())
		zlog_debug("route-server: re-evaluating VRF %s (walk %u%s)",
			   rs_inst_vrf(inst->bgp), inst->reevals,
			   inst->reselect ? ", best-path selection" : "");
	if (inst->reselect)
		rs_reselect(inst);
	if (inst->reannounce)
		rs_each_paf(inst, rs_walk_paf);
	inst->reannounce = false;
}

void rs_walk_schedule(struct rs_inst *inst)
{
	event_add_timer_msec(bm->master, rs_walk, inst, RS_WALK_DELAY_MS,
			     &inst->t_walk);
}

/* As bgpd does when an outbound policy starts changing: until its table
 * walk, a role subgroup's adj-out may differ from another subgroup's of
 * the same group, so it must not merge into one (the merge keeps only the
 * target's adj-out, and what the merged peers were really sent is lost).
 */
static void rs_hold_paf(struct peer_af *paf)
{
	if (PAF_SUBGRP(paf)->update_group->module_key[rs_key_slot])
		update_subgroup_set_needs_refresh(PAF_SUBGRP(paf), 1);
}

/* A neighbor whose role changes leaves its update-group at once (the key
 * hook sees the new role) and its table is walked; a neighbor leaving the
 * role groups altogether needs that walk too.
 */
static void rs_regroup_paf(struct peer_af *paf)
{
	uint32_t old = PAF_SUBGRP(paf)->update_group->module_key[rs_key_slot];

	update_group_adjust_peer(paf);
	if (PAF_SUBGRP(paf) &&
	    PAF_SUBGRP(paf)->update_group->module_key[rs_key_slot] != old)
		bgp_announce_route(paf->peer, paf->afi, paf->safi, false);
}

/* A role decides the routing preference's rank of the paths, so a role
 * change re-runs selection too (unless the preference ranks nothing).
 */
static void rs_changed(struct rs_inst *inst)
{
	rs_cache_rebuild(inst);
	rs_each_paf(inst, rs_regroup_paf);
	rs_each_paf(inst, rs_hold_paf);
	if (inst->pref != RS_PREF_ASPATH)
		inst->reselect = true;
	inst->reannounce = true;
	rs_walk_schedule(inst);
}

/* RS_ROLE_NONE removes the entry. */
void rs_role_set(struct rs_inst *inst, const char *name, enum rs_role role)
{
	enum rs_role old = rs_role_cfg_get(inst, name);

	if (!rs_role_cfg_set(inst, name, role))
		return;
	if (RS_DEBUG())
		zlog_debug("route-server: VRF %s %s role %s -> %s",
			   rs_inst_vrf(inst->bgp), name,
			   old ? rs_role_cli(old) : "none",
			   role ? rs_role_cli(role) : "none");
	rs_changed(inst);
}

void rs_roles_clear(struct rs_inst *inst)
{
	if (rs_roles_cfg_clear(inst))
		rs_changed(inst);
}

void rs_b2b_set(struct rs_inst *inst, bool on)
{
	if (inst->b2b == on)
		return;
	if (RS_DEBUG())
		zlog_debug("route-server: VRF %s branch-to-branch %s",
			   rs_inst_vrf(inst->bgp), on ? "on" : "off");
	inst->b2b = on;
	rs_withhold_update(inst);
	rs_each_paf(inst, rs_hold_paf);
	inst->reannounce = true;
	rs_walk_schedule(inst);
}

/* --- lifetime ------------------------------------------------------------ */

static void rs_inst_free(struct rs_inst *inst)
{
	struct rs_tomb *t;

	event_cancel(&inst->t_walk);
	event_cancel(&inst->t_tombs);
	while ((t = rs_tombs_first(&inst->tombs)))
		rs_tomb_free(inst, t);
	XFREE(MTYPE_RS_CACHE, inst->cache);
	rs_inst_release(inst);
}

/* An instance with no configuration left (the northbound destroyed it, or
 * its PREPARE was aborted) is freed once no deleted neighbor needs it.
 */
void rs_inst_put(struct rs_inst *inst)
{
	if (!inst->b2b && inst->pref == RS_PREF_EXPRESSROUTE &&
	    !rs_roles_count(&inst->roles) &&
	    !rs_tombs_count(&inst->tombs))
		rs_inst_free(inst);
}

/* BGP instance deletion: its peers are gone, their sessions closed. */
static int rs_inst_delete(struct bgp *bgp)
{
	struct rs_inst *inst = rs_inst_find(bgp);

	if (inst)
		rs_inst_free(inst);
	return 0;
}

void rs_core_init(void)
{
	rs_key_slot = bgp_updgrp_module_key_register();
	if (rs_key_slot < 0) {
		flog_err(EC_LIB_DEVELOPMENT,
			 "route-server: no update-group key slot left, the module stays inactive");
		return;
	}
	hook_register(bgp_updgrp_module_key, rs_updgrp_key);
	hook_register(bgp_announce_path_check, rs_announce_check);
	hook_register_prio(peer_status_changed, HOOK_DEFAULT_PRIORITY - 100,
			   rs_peer_status_changed);
	hook_register(bgp_inst_delete, rs_inst_delete);
	rs_path_init();
}

/* Before bgpd tears its instances down (frr_early_fini, as bgp_bmp.c). */
void rs_core_fini(void)
{
	for (unsigned int i = 1; i <= RS_MAX_INSTANCES; i++)
		if (rs_insts[i])
			rs_inst_free(rs_insts[i]);
}
