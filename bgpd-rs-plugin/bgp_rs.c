// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Route-server module for bgpd: neighbor roles and branch-to-branch, in
 * the manner of Azure Route Server. This file holds the per-instance
 * state and the bgpd hooks; the decision itself is in rs_policy.h.
 */
#include <zebra.h>

#include "lib/hook.h"
#include "lib/libfrr.h"
#include "lib/module.h"
#include "lib/frrevent.h"
#include "lib/version.h"

#include "bgpd/bgpd.h"
#include "bgpd/bgp_route.h"
#include "bgpd/bgp_updgrp.h"
#include "bgpd/bgp_debug.h"

#include "bgp_rs.h"

DEFINE_MGROUP(BGP_RS, "bgpd route-server");
DEFINE_MTYPE_STATIC(BGP_RS, RS_INST, "Route-server instance");
DEFINE_MTYPE_STATIC(BGP_RS, RS_ROLE, "Route-server role");
DEFINE_MTYPE_STATIC(BGP_RS, RS_CACHE, "Route-server peer role cache");

/* Delay that merges a burst of role/flag changes into one re-evaluation. */
#define RS_REEVAL_DELAY_MS 100

/* Slot 0 is never used so that update-group key 0 means "no role". */
static struct rs_inst *rs_insts[RS_MAX_INSTANCES + 1];

struct rs_inst *rs_inst_find(const struct bgp *bgp)
{
	for (unsigned int i = 1; i <= RS_MAX_INSTANCES; i++)
		if (rs_insts[i] && rs_insts[i]->bgp == bgp)
			return rs_insts[i];
	return NULL;
}

/* The per-path hook reads the matrix through these masks. */
static void rs_withhold_update(struct rs_inst *inst)
{
	for (int src = RS_SRC_NONE; src < RS_SRC_MAX; src++)
		inst->withhold[src] = rs_policy_withhold_mask(src, inst->b2b);
}

struct rs_inst *rs_inst_get(struct bgp *bgp)
{
	struct rs_inst *inst = rs_inst_find(bgp);

	if (inst)
		return inst;
	for (unsigned int i = 1; i <= RS_MAX_INSTANCES; i++) {
		if (rs_insts[i])
			continue;
		inst = XCALLOC(MTYPE_RS_INST, sizeof(*inst));
		inst->bgp = bgp;
		inst->slot = i;
		rs_withhold_update(inst);
		rs_insts[i] = inst;
		return inst;
	}
	return NULL;
}

/* Iteration in slot order (NULL: first). */
struct rs_inst *rs_inst_next(const struct rs_inst *prev)
{
	for (unsigned int i = prev ? prev->slot + 1 : 1; i <= RS_MAX_INSTANCES;
	     i++)
		if (rs_insts[i])
			return rs_insts[i];
	return NULL;
}

const char *rs_inst_vrf(const struct bgp *bgp)
{
	return bgp->name ? bgp->name : VRF_DEFAULT_NAME;
}

struct bgp *rs_bgp_by_vrf(const char *vrf)
{
	if (!strcmp(vrf, VRF_DEFAULT_NAME))
		return bgp_get_default();
	return bgp_lookup_by_name(vrf);
}

/* Name under which a neighbor's or peer-group's role is configured. */
const char *rs_peer_name(const struct peer *peer)
{
	if (CHECK_FLAG(peer->sflags, PEER_STATUS_GROUP) && peer->group)
		return peer->group->name;
	return peer->conf_if ? peer->conf_if : peer->host;
}

/* A configured or dynamic neighbor by address or interface name. */
struct peer *rs_peer_lookup(struct bgp *bgp, const char *name)
{
	union sockunion su;

	if (str2sockunion(name, &su) == 0)
		return peer_lookup(bgp, &su);
	return peer_lookup_by_conf_if(bgp, name);
}

enum rs_role rs_role_cfg_get(const struct rs_inst *inst, const char *name)
{
	for (const struct rs_role_cfg *c = inst->roles; c; c = c->next)
		if (!strcmp(c->name, name))
			return c->role;
	return RS_ROLE_NONE;
}

/* RS_ROLE_NONE removes the entry. */
void rs_role_cfg_set(struct rs_inst *inst, const char *name, enum rs_role role)
{
	struct rs_role_cfg **pp, *c;
	size_t len;

	for (pp = &inst->roles; (c = *pp); pp = &c->next)
		if (!strcmp(c->name, name))
			break;
	if (c && role == RS_ROLE_NONE) {
		*pp = c->next;
		XFREE(MTYPE_RS_ROLE, c);
	} else if (c) {
		c->role = role;
	} else if (role != RS_ROLE_NONE) {
		len = strlen(name) + 1;
		c = XCALLOC(MTYPE_RS_ROLE, sizeof(*c) + len);
		memcpy(c->name, name, len);
		c->role = role;
		c->next = inst->roles;
		inst->roles = c;
	}
}

/* Effective role: the neighbor's own, else its peer-group's. *from (if
 * given) is set to the peer-group name when the role is inherited.
 */
enum rs_role rs_peer_role(const struct rs_inst *inst, const struct peer *peer,
			  const char **from)
{
	enum rs_role role = RS_ROLE_NONE;

	if (from)
		*from = NULL;
	if (!peer_dynamic_neighbor((struct peer *)peer))
		role = rs_role_cfg_get(inst, rs_peer_name(peer));
	if (role == RS_ROLE_NONE && peer->group &&
	    !CHECK_FLAG(peer->sflags, PEER_STATUS_GROUP)) {
		role = rs_role_cfg_get(inst, peer->group->name);
		if (role != RS_ROLE_NONE && from)
			*from = peer->group->name;
	}
	return role;
}

/* --- source-role cache (read per path, rebuilt on changes) --------------- */

/* Multiplicative (Fibonacci) hashing: the top bits of the product are the
 * well-mixed ones, so the index is taken from there.
 */
static inline unsigned int rs_cache_hash(const struct peer *peer,
					 unsigned int shift)
{
	return ((uint32_t)((uintptr_t)peer >> 4) * 2654435761u) >> shift;
}

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

static inline enum rs_source rs_cache_get(const struct rs_inst *inst,
					  const struct peer *peer)
{
	unsigned int mask = inst->cache_mask, i;

	if (!mask)
		return RS_SRC_NONE;
	for (i = rs_cache_hash(peer, inst->cache_shift); inst->cache[i].peer;
	     i = (i + 1) & mask)
		if (inst->cache[i].peer == peer)
			return inst->cache[i].src;
	return RS_SRC_NONE;
}

/* Rebuild from the instance's peers; skip is a peer being deleted. */
static void rs_cache_rebuild(struct rs_inst *inst, const struct peer *skip)
{
	struct listnode *node;
	struct peer *peer;
	unsigned int n = 0, cap = 8, shift = 29;
	struct rs_peer_slot *tab;

	for (ALL_LIST_ELEMENTS_RO(inst->bgp->peer, node, peer))
		if (peer != skip && rs_peer_role(inst, peer, NULL))
			n++;
	n++; /* peer_self */
	XFREE(MTYPE_RS_CACHE, inst->cache);
	inst->cache_mask = 0;
	if (n == 1) /* no role: the hooks never ask */
		return;
	/* A quarter full at most: lookups rarely probe a second slot. */
	while (cap < 4 * n) {
		cap <<= 1;
		shift--;
	}
	tab = XCALLOC(MTYPE_RS_CACHE, cap * sizeof(*tab));
	for (ALL_LIST_ELEMENTS_RO(inst->bgp->peer, node, peer)) {
		enum rs_role role;

		if (peer == skip)
			continue;
		role = rs_peer_role(inst, peer, NULL);
		if (role)
			rs_cache_put(tab, cap - 1, shift, peer,
				     (enum rs_source)role);
	}
	/* The hot path then needs no separate test for VNet routes. */
	rs_cache_put(tab, cap - 1, shift, inst->bgp->peer_self, RS_SRC_VNET);
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

static inline bool rs_afi_safi(afi_t afi, safi_t safi)
{
	return (afi == AFI_IP || afi == AFI_IP6) && safi == SAFI_UNICAST;
}

/* Peers of different roles (and instances) never share an update-group;
 * the key carries the instance slot and the destination role.
 */
static int rs_updgrp_key(struct peer *peer, afi_t afi, safi_t safi)
{
	struct rs_inst *inst;
	enum rs_role role;

	if (!rs_afi_safi(afi, safi))
		return 0;
	inst = rs_inst_find(peer->bgp);
	if (!inst)
		return 0;
	role = rs_peer_role(inst, peer, NULL);
	if (rs_cache_get(inst, peer) != (enum rs_source)role)
		rs_cache_rebuild(inst, NULL);
	return role ? (inst->slot << 8) | role : 0;
}

/* The per-path decision: must stay tiny, it runs for every path and
 * update-group.
 */
static int rs_announce_check(struct update_subgroup *subgrp,
			     struct bgp_path_info *pi, const struct prefix *p,
			     uint32_t key)
{
	const struct rs_inst *inst;

	if (!key)
		return 0;
	inst = rs_insts[key >> 8];
	if (unlikely(!inst)) /* instance being deleted */
		return 0;
	return (inst->withhold[rs_cache_get(inst, pi->peer)] >> (key & 0xff)) &
	       1;
}

static int rs_peer_delete(struct peer *peer)
{
	struct rs_inst *inst;

	if (CHECK_FLAG(peer->sflags, PEER_STATUS_ACCEPT_PEER))
		return 0;
	inst = rs_inst_find(peer->bgp);
	if (!inst)
		return 0;
	/* A deleted neighbor loses its role; a re-created one has none. */
	if (!peer_dynamic_neighbor(peer) &&
	    rs_role_cfg_get(inst, rs_peer_name(peer)) != RS_ROLE_NONE) {
		rs_nb_peer_deleted(inst, rs_peer_name(peer));
		rs_role_cfg_set(inst, rs_peer_name(peer), RS_ROLE_NONE);
	}
	rs_cache_rebuild(inst, peer);
	return 0;
}

static void rs_inst_free(struct rs_inst *inst)
{
	struct rs_role_cfg *c;

	event_cancel(&inst->t_reeval);
	while ((c = inst->roles)) {
		inst->roles = c->next;
		XFREE(MTYPE_RS_ROLE, c);
	}
	XFREE(MTYPE_RS_CACHE, inst->cache);
	rs_state_warnings_free(inst);
	rs_insts[inst->slot] = NULL;
	XFREE(MTYPE_RS_INST, inst);
}

static int rs_inst_delete(struct bgp *bgp)
{
	struct rs_inst *inst = rs_inst_find(bgp);

	rs_nb_inst_deleted(bgp);
	if (inst)
		rs_inst_free(inst);
	return 0;
}

/* --- run-time re-evaluation ---------------------------------------------- */

/*
 * A role or flag change can change what any peer may receive: move every
 * established peer to the update-group of its (possibly new) role, then
 * re-walk the table for it. Newly denied paths are withdrawn, newly
 * allowed ones sent; no session is reset.
 */
static void rs_reeval(struct event *t)
{
	struct rs_inst *inst = EVENT_ARG(t);
	struct listnode *node;
	struct peer *peer;
	afi_t afi;
	safi_t safi;

	inst->reevals++;
	rs_cache_rebuild(inst, NULL);
	for (ALL_LIST_ELEMENTS_RO(inst->bgp->peer, node, peer)) {
		if (!peer_established(peer->connection))
			continue;
		FOREACH_AFI_SAFI (afi, safi) {
			struct peer_af *paf;

			if (!rs_afi_safi(afi, safi) || !peer->afc_nego[afi][safi])
				continue;
			paf = peer_af_find(peer, afi, safi);
			if (!paf)
				continue;
			update_group_adjust_peer(paf);
			bgp_announce_route(peer, afi, safi, false);
		}
	}
}

void rs_reeval_schedule(struct rs_inst *inst)
{
	rs_cache_rebuild(inst, NULL);
	event_add_timer_msec(bm->master, rs_reeval, inst, RS_REEVAL_DELAY_MS,
			     &inst->t_reeval);
}

void rs_b2b_set(struct rs_inst *inst, bool on)
{
	if (inst->b2b == on)
		return;
	inst->b2b = on;
	rs_withhold_update(inst);
	rs_reeval_schedule(inst);
}

/* --- module setup -------------------------------------------------------- */

static int rs_config_write_inst(struct bgp *bgp, struct vty *vty)
{
	rs_nb_config_write_inst(vty, bgp);
	return 0;
}

static int rs_config_write_peer(struct vty *vty, struct bgp *bgp,
				struct peer *peer)
{
	rs_nb_config_write_peer(vty, bgp, peer);
	return 0;
}

static int rs_late_init(struct event_loop *tm)
{
	rs_vty_init();
	return 0;
}

static int rs_fini(void)
{
	for (unsigned int i = 1; i <= RS_MAX_INSTANCES; i++)
		if (rs_insts[i])
			rs_inst_free(rs_insts[i]);
	return 0;
}

static int bgp_rs_module_init(void)
{
	hook_register(bgp_updgrp_module_key, rs_updgrp_key);
	hook_register(bgp_announce_path_check, rs_announce_check);
	hook_register(bgp_peer_config_write, rs_config_write_peer);
	hook_register(bgp_inst_config_write, rs_config_write_inst);
	hook_register(bgp_peer_delete, rs_peer_delete);
	hook_register(bgp_inst_delete, rs_inst_delete);
	hook_register(frr_late_init, rs_late_init);
	hook_register(frr_fini, rs_fini);
	return 0;
}

static const struct frr_yang_module_info *const rs_yang_modules[] = {
	&frr_bgp_route_server_info,
};

FRR_MODULE_SETUP(.name = "bgpd_route_server", .version = FRR_VERSION,
		 .description = "bgpd route-server roles (Azure Route Server model)",
		 .init = bgp_rs_module_init,
		 .yang_modules = rs_yang_modules,
		 .n_yang_modules = array_size(rs_yang_modules));
