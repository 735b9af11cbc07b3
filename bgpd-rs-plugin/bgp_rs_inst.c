// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Route-server module core: per-instance state (instance slots, the
 * configured roles, the flag's withhold masks) and a neighbor's effective
 * role. No hooks and no events here; bgp_rs.c builds on it.
 */
#include <zebra.h>

#include "lib/workqueue.h"

#include "bgpd/bgpd.h"
#include "bgpd/bgp_fsm.h"
#include "bgpd/bgp_updgrp.h"

#include "bgp_rs.h"

DEFINE_MGROUP(BGP_RS, "bgpd route-server");
DEFINE_MTYPE_STATIC(BGP_RS, RS_INST, "Route-server instance");
DEFINE_MTYPE_STATIC(BGP_RS, RS_ROLE, "Route-server role");

DSO_LOCAL struct rs_inst *rs_insts[RS_MAX_INSTANCES + 1];
/* Highest slot in use: best-path selection looks instances up per
 * comparison, and there is usually one.
 */
static unsigned int rs_inst_hi;

struct rs_inst *rs_inst_find(const struct bgp *bgp)
{
	for (unsigned int i = 1; i <= rs_inst_hi; i++)
		if (rs_insts[i] && rs_insts[i]->bgp == bgp)
			return rs_insts[i];
	return NULL;
}

/* The per-path hook reads the matrix through these masks. */
void rs_withhold_update(struct rs_inst *inst)
{
	for (int src = RS_SRC_NONE; src < RS_SRC_MAX; src++)
		inst->withhold[src] = rs_policy_withhold_mask(src, inst->b2b);
}

/*
 * A new update-subgroup waits bgpd's coalesce time before it announces its
 * table, so that peers coming up together share one: 1 s plus 50 ms per
 * neighbor, unless coalesce-time is configured. A route server's neighbor
 * (re)establishing got nothing for that long, and its initial convergence
 * took 1-1.5 s more than BIRD's. bgpd recomputes its heuristic whenever it
 * creates a peer (an incoming connection included), so this is applied
 * again before each subgroup is created (the update-group key hook).
 */
void rs_coalesce_apply(struct bgp *bgp)
{
	if (bgp->heuristic_coalesce)
		bgp->coalesce_time = RS_COALESCE_MS;
}

/* NULL when all slots are taken (the northbound's PREPARE reports it). */
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
		rs_roles_init(&inst->roles);
		rs_tombs_init(&inst->tombs);
		rs_withhold_update(inst);
		for (int src = RS_SRC_NONE; src < RS_SRC_MAX; src++)
			inst->rank[src] = rs_pref_rank(src, inst->pref);
		/* bgpd waits 50 ms after a change before it runs best-path
		 * selection, so that one change reaches the receivers after
		 * 50 ms at least. A route server is judged by how fast a
		 * change propagates (BIRD: about 1 ms). Initial convergence
		 * of 100k-1M routes measured the same with 1 ms as with 50
		 * (docs/performance.md, stage 2).
		 */
		inst->hold_saved = bgp->process_queue->spec.hold;
		bgp->process_queue->spec.hold = RS_PROCESS_HOLD_MS;
		rs_coalesce_apply(bgp);
		rs_insts[i] = inst;
		rs_inst_hi = MAX(rs_inst_hi, i);
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
	struct rs_role_cfg key;
	const struct rs_role_cfg *c;

	/* Longer names cannot be configured (YANG length); a truncated
	 * copy must not match a configured one.
	 */
	if (strlcpy(key.name, name, sizeof(key.name)) >= sizeof(key.name))
		return RS_ROLE_NONE;
	c = rs_roles_const_find(&inst->roles, &key);
	return c ? c->role : RS_ROLE_NONE;
}

/*
 * Effective role: the neighbor's own, else its peer-group's. *from (if
 * given) is set to the peer-group name when the role is inherited. Only
 * configured neighbors (and dynamic ones, which bgpd creates as such) have
 * a role: the transient peer of a colliding incoming connection shares a
 * configured neighbor's name but is not it.
 */
enum rs_role rs_peer_role(const struct rs_inst *inst, const struct peer *peer,
			  const char **from)
{
	enum rs_role role = RS_ROLE_NONE;

	if (from)
		*from = NULL;
	if (!CHECK_FLAG(peer->flags, PEER_FLAG_CONFIG_NODE) ||
	    CHECK_FLAG(peer->sflags, PEER_STATUS_GROUP) ||
	    peer->connection->status == Deleted)
		return RS_ROLE_NONE;
	if (!peer_dynamic_neighbor((struct peer *)peer))
		role = rs_role_cfg_get(inst, rs_peer_name(peer));
	if (role == RS_ROLE_NONE && peer->group) {
		role = rs_role_cfg_get(inst, peer->group->name);
		if (role != RS_ROLE_NONE && from)
			*from = peer->group->name;
	}
	return role;
}

/* Returns whether the configuration changed; RS_ROLE_NONE removes it. */
bool rs_role_cfg_set(struct rs_inst *inst, const char *name, enum rs_role role)
{
	struct rs_role_cfg key, *c;

	if (strlcpy(key.name, name, sizeof(key.name)) >= sizeof(key.name))
		return false; /* refused by the CLI and YANG before here */
	c = rs_roles_find(&inst->roles, &key);
	if ((c ? c->role : RS_ROLE_NONE) == role)
		return false;
	if (c && role == RS_ROLE_NONE) {
		rs_roles_del(&inst->roles, c);
		XFREE(MTYPE_RS_ROLE, c);
	} else if (c) {
		c->role = role;
	} else {
		c = XCALLOC(MTYPE_RS_ROLE, sizeof(*c));
		strlcpy(c->name, name, sizeof(c->name));
		c->role = role;
		rs_roles_add(&inst->roles, c);
	}
	return true;
}

bool rs_roles_cfg_clear(struct rs_inst *inst)
{
	struct rs_role_cfg *c;
	bool any = false;

	while ((c = rs_roles_pop(&inst->roles))) {
		XFREE(MTYPE_RS_ROLE, c);
		any = true;
	}
	return any;
}

/* The instance's own memory; bgp_rs.c has released what hangs off it. */
void rs_inst_release(struct rs_inst *inst)
{
	struct bgp *bgp = inst->bgp;

	if (bgp->process_queue)
		bgp->process_queue->spec.hold = inst->hold_saved;
	if (bgp->peer && bgp->heuristic_coalesce) { /* as peer_create() */
		long ct = BGP_DEFAULT_SUBGROUP_COALESCE_TIME +
			  bgp->peer->count *
				  BGP_PEER_ADJUST_SUBGROUP_COALESCE_TIME;

		bgp->coalesce_time = MIN(BGP_MAX_SUBGROUP_COALESCE_TIME, ct);
	}
	rs_roles_cfg_clear(inst);
	rs_roles_fini(&inst->roles);
	rs_tombs_fini(&inst->tombs);
	rs_insts[inst->slot] = NULL;
	while (rs_inst_hi && !rs_insts[rs_inst_hi])
		rs_inst_hi--;
	XFREE(MTYPE_RS_INST, inst);
}
