// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Route-server module for bgpd: the core (per-instance state, bgpd hooks,
 * counters and warnings). The glue above it (CLI, show, northbound, YANG
 * state, module setup) includes this header; the core includes no glue.
 */
#ifndef BGP_RS_H
#define BGP_RS_H

#include "lib/debug.h"
#include "lib/memory.h"
#include "lib/typesafe.h"

#include "bgpd/bgpd.h"

#include "rs_policy.h"

struct vty;

DECLARE_MGROUP(BGP_RS);

/* "debug bgp route-server": role changes, re-evaluations, paths of deleted
 * neighbors withheld while bgpd clears them.
 */
extern DSO_LOCAL struct debug rs_debug;
#define RS_DEBUG() DEBUG_MODE_CHECK(&rs_debug, DEBUG_MODE_ALL)

/* One configured role: a neighbor (address or interface) or a peer-group,
 * mirrored from the northbound tree by its callbacks.
 */
PREDECL_RBTREE_UNIQ(rs_roles);
#define RS_NAME_MAX 65 /* YANG: neighbor and peer-group names */
struct rs_role_cfg {
	struct rs_roles_item item;
	enum rs_role role;
	char name[RS_NAME_MAX];
};

/* A deleted neighbor whose paths bgpd has not cleared yet: its source role
 * (and a reference, so the pointer is not reused) is kept until they are.
 */
PREDECL_DLIST(rs_tombs);
struct rs_tomb {
	struct rs_tombs_item item;
	struct peer *peer;
	enum rs_source src;
};

/* Hot-path map from a source peer to what its paths are (open addressing,
 * pointer hashed): a few instructions per lookup, which a generic hash
 * with callbacks would not give.
 */
struct rs_peer_slot {
	const struct peer *peer;
	enum rs_source src;
};

/* Route-server state of one BGP instance. */
struct rs_inst {
	struct bgp *bgp;
	uint8_t slot; /* index in rs_insts, carried in the update-group key */
	bool b2b;
	/* rs_policy_withhold_mask() per source for the current flag */
	uint8_t withhold[RS_SRC_MAX];
	struct rs_roles_head roles;
	struct rs_tombs_head tombs;

	enum rs_pref pref;
	uint8_t rank[RS_SRC_MAX]; /* rs_pref_rank() per source for pref */
	uint32_t hold_saved; /* bgpd's best-path queue hold, restored at release */
	bool reselect;	 /* the next walk re-runs best-path selection */
	bool reannounce; /* the next walk re-announces role neighbors */

	struct rs_peer_slot *cache;
	unsigned int cache_mask; /* capacity - 1 (power of two) or 0 */
	unsigned int cache_shift; /* 32 - log2(capacity) */

	struct event *t_walk;  /* debounced table walk after a change */
	struct event *t_tombs; /* polls tombstones until their paths are gone */
	unsigned int reevals;  /* table walks done */
};

#define RS_MAX_INSTANCES 255

/* Best-path queue hold (ms) of an instance with route-server configuration;
 * see rs_inst_get().
 */
#define RS_PROCESS_HOLD_MS 1
/* Update-group coalesce time (ms) of such an instance unless coalesce-time
 * is configured; see rs_coalesce_apply().
 */
#define RS_COALESCE_MS 100

/* Our slot in update_group->module_key (bgp_updgrp_module_key_register):
 * instance slot << 8 | destination role, 0 for a role-less group.
 */
extern DSO_LOCAL int rs_key_slot;

/* Multiplicative (Fibonacci) hashing: the top bits of the product are the
 * well-mixed ones, so the index is taken from there.
 */
static inline unsigned int rs_cache_hash(const struct peer *peer,
					 unsigned int shift)
{
	return ((uint32_t)((uintptr_t)peer >> 4) * 2654435761u) >> shift;
}

/* Source role of a path's peer (VNet for the instance's own paths). */
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

/* Labeled-unicast update-groups are fed from the unicast table, so they
 * get the same policy.
 */
static inline bool rs_afi_safi(afi_t afi, safi_t safi)
{
	return (afi == AFI_IP || afi == AFI_IP6) &&
	       (safi == SAFI_UNICAST || safi == SAFI_LABELED_UNICAST);
}

/* Whether the policy keeps a path from src from role dst. */
static inline bool rs_withheld(const struct rs_inst *inst, enum rs_source src,
			       enum rs_role dst)
{
	return (inst->withhold[src] >> dst) & 1;
}

static inline int rs_role_cmp(const struct rs_role_cfg *a,
			      const struct rs_role_cfg *b)
{
	return strcmp(a->name, b->name);
}
DECLARE_RBTREE_UNIQ(rs_roles, struct rs_role_cfg, item, rs_role_cmp);
DECLARE_DLIST(rs_tombs, struct rs_tomb, item);

/* bgp_rs_inst.c: state. Slot 0 is never used so that update-group key 0
 * means "no role"; the key carries the slot, so the per-path hook finds
 * its instance without a lookup.
 */
extern DSO_LOCAL struct rs_inst *rs_insts[RS_MAX_INSTANCES + 1];
extern void rs_withhold_update(struct rs_inst *inst);
extern bool rs_role_cfg_set(struct rs_inst *inst, const char *name,
			    enum rs_role role);
extern bool rs_roles_cfg_clear(struct rs_inst *inst);
extern void rs_inst_release(struct rs_inst *inst);
extern struct rs_inst *rs_inst_find(const struct bgp *bgp);
extern void rs_coalesce_apply(struct bgp *bgp);
extern struct rs_inst *rs_inst_get(struct bgp *bgp);
extern struct rs_inst *rs_inst_next(const struct rs_inst *prev);
extern const char *rs_inst_vrf(const struct bgp *bgp);
extern struct bgp *rs_bgp_by_vrf(const char *vrf);
extern enum rs_role rs_role_cfg_get(const struct rs_inst *inst,
				    const char *name);
extern const char *rs_peer_name(const struct peer *peer);
extern struct peer *rs_peer_lookup(struct bgp *bgp, const char *name);
extern enum rs_role rs_peer_role(const struct rs_inst *inst,
				 const struct peer *peer, const char **from);

/* bgp_rs.c: hooks, source-role cache, deleted neighbors, changes */
extern void rs_core_init(void);
extern void rs_core_fini(void);
extern void rs_inst_put(struct rs_inst *inst);
extern void rs_role_set(struct rs_inst *inst, const char *name,
			enum rs_role role);
extern void rs_roles_clear(struct rs_inst *inst);
extern void rs_b2b_set(struct rs_inst *inst, bool on);
extern enum rs_source rs_path_source(const struct rs_inst *inst,
				     const struct peer *from);
extern unsigned int rs_tomb_count(const struct rs_inst *inst);
extern void rs_walk_schedule(struct rs_inst *inst);

/* bgp_rs_path.c: best allowed path per role, routing preference */
extern void rs_path_init(void);
extern void rs_pref_set(struct rs_inst *inst, enum rs_pref pref);
extern void rs_reselect(struct rs_inst *inst);
/* The best path of dest that role dst may have, in best-path order, after
 * the selected path best; NULL if none.
 */
extern struct bgp_path_info *rs_best_allowed(const struct rs_inst *inst,
					     struct bgp_path_info *best,
					     enum rs_role dst);


/* bgp_rs_stats.c: counters and warnings, one table walk per instance */
struct rs_peer_stats {
	struct peer *peer;
	enum rs_role role;
	const char *from; /* peer-group the role is inherited from, or NULL */
	uint32_t rcvd, sent, withheld, alt;
	bool active, addpath; /* scratch of the walk, per AFI */
};
/* Fills one entry per neighbor with a role (in bgp->peer order); returns
 * the count. The caller frees *stats with rs_stats_free().
 */
extern unsigned int rs_stats_collect(const struct rs_inst *inst,
				     struct rs_peer_stats **stats);
extern void rs_stats_free(struct rs_peer_stats **stats);

/* A prefix whose best path (with add-path: a path) the policy keeps from
 * a neighbor, and what the neighbor gets instead.
 */
struct rs_withheld {
	afi_t afi;
	const struct prefix *p;
	const struct bgp_path_info *best; /* the path withheld */
	enum rs_source src;
	enum rs_verdict verdict;
	const struct bgp_path_info *alt; /* best allowed path, or NULL */
	enum rs_source alt_src;
};
typedef void (*rs_withheld_cb)(void *ctx, const struct rs_withheld *w);
/* Returns the number of prefixes (add-path: paths) with no allowed path;
 * *n_alt counts those where dst gets another path than the best.
 */
extern unsigned int rs_walk_withheld(const struct rs_inst *inst,
				     struct peer *dst, rs_withheld_cb cb,
				     void *ctx, unsigned int *n_alt);
extern void rs_warnings(const struct rs_inst *inst,
			void (*emit)(void *ctx, const char *text), void *ctx);
extern bool rs_active_active_warning(const struct rs_inst *inst, char *buf,
				     size_t len);

#endif /* BGP_RS_H */
