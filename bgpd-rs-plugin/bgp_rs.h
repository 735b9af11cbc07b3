// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Route-server module for bgpd: shared declarations of the FRR glue.
 */
#ifndef BGP_RS_H
#define BGP_RS_H

#include "lib/memory.h"
#include "lib/northbound.h"

#include "rs_policy.h"

struct bgp;
struct peer;
struct vty;

DECLARE_MGROUP(BGP_RS);

/* One configured role: a neighbor (address or interface) or a peer-group. */
struct rs_role_cfg {
	struct rs_role_cfg *next;
	enum rs_role role;
	char name[];
};

/* Hot-path map from a source peer to what its paths are (open
 * addressing): its effective role, or VNet for the instance's peer_self.
 */
struct rs_peer_slot {
	const struct peer *peer;
	enum rs_source src;
};

/* A warning, as last collected for the YANG state. */
struct rs_warning {
	struct rs_warning *next;
	char text[];
};

/* Route-server state of one BGP instance. */
struct rs_inst {
	struct bgp *bgp;
	uint8_t slot; /* index in rs_insts, carried in the update-group key */
	bool b2b;
	/* rs_policy_withhold_mask() per source for the current flag */
	uint8_t withhold[RS_SRC_MAX];
	struct rs_role_cfg *roles;

	struct rs_peer_slot *cache;
	unsigned int cache_mask; /* capacity - 1 (power of two) or 0 */
	unsigned int cache_shift; /* 32 - log2(capacity) */

	struct event *t_reeval;
	unsigned int reevals; /* debounced re-evaluations done */

	struct rs_warning *warnings; /* snapshot for the YANG state walk */
};

#define RS_MAX_INSTANCES 255

/* bgp_rs.c */
extern struct rs_inst *rs_inst_find(const struct bgp *bgp);
extern struct rs_inst *rs_inst_get(struct bgp *bgp);
extern struct rs_inst *rs_inst_next(const struct rs_inst *prev);
extern const char *rs_inst_vrf(const struct bgp *bgp);
extern struct bgp *rs_bgp_by_vrf(const char *vrf);
extern enum rs_role rs_role_cfg_get(const struct rs_inst *inst,
				    const char *name);
extern void rs_role_cfg_set(struct rs_inst *inst, const char *name,
			    enum rs_role role);
extern void rs_b2b_set(struct rs_inst *inst, bool on);
extern const char *rs_peer_name(const struct peer *peer);
extern struct peer *rs_peer_lookup(struct bgp *bgp, const char *name);
extern enum rs_role rs_peer_role(const struct rs_inst *inst,
				 const struct peer *peer, const char **from);
extern enum rs_source rs_path_source(const struct rs_inst *inst,
				     const struct peer *from);
extern void rs_reeval_schedule(struct rs_inst *inst);

/* bgp_rs_vty.c */
extern void rs_vty_init(void);
extern void rs_warnings(const struct rs_inst *inst,
			void (*emit)(void *ctx, const char *text), void *ctx);

/* bgp_rs_show.c */
typedef void (*rs_withheld_cb)(void *ctx, afi_t afi, const struct prefix *p,
			       const struct peer *from, enum rs_source src,
			       enum rs_verdict verdict);
extern unsigned int rs_walk_withheld(const struct rs_inst *inst,
				     struct peer *dst, rs_withheld_cb cb,
				     void *ctx);
extern void rs_peer_counts(const struct rs_inst *inst, struct peer *peer,
			   uint32_t *rcvd, uint32_t *sent, uint32_t *withheld);
extern void rs_show_init(void);

/* bgp_rs_state.c: northbound callbacks of the config false nodes */
extern const void *rs_state_instance_get_next(struct nb_cb_get_next_args *args);
extern int rs_state_instance_get_keys(struct nb_cb_get_keys_args *args);
extern const void *
rs_state_instance_lookup_entry(struct nb_cb_lookup_entry_args *args);
extern const void *rs_state_warning_get_next(struct nb_cb_get_next_args *args);
extern struct yang_data *
rs_state_warning_get_elem(struct nb_cb_get_elem_args *args);
extern const void *rs_state_neighbor_get_next(struct nb_cb_get_next_args *args);
extern int rs_state_neighbor_get_keys(struct nb_cb_get_keys_args *args);
extern const void *
rs_state_neighbor_lookup_entry(struct nb_cb_lookup_entry_args *args);
extern struct yang_data *
rs_state_neighbor_get_elem(struct nb_cb_get_elem_args *args);
extern void rs_state_warnings_free(struct rs_inst *inst);

/* bgp_rs_nb.c */
extern const struct frr_yang_module_info frr_bgp_route_server_info;
extern void rs_nb_peer_deleted(struct rs_inst *inst, const char *name);
extern void rs_nb_inst_deleted(const struct bgp *bgp);
extern void rs_nb_config_write_peer(struct vty *vty, struct bgp *bgp,
				    struct peer *peer);
extern void rs_nb_config_write_inst(struct vty *vty, struct bgp *bgp);

#endif /* BGP_RS_H */
