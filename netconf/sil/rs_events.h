/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Route-server events for NETCONF notifications, found by comparing two
 * snapshots of bgpd: the operational one ("show bgp vrf all route-server
 * json": warnings, role neighbors' session states) and the configuration
 * (struct rs_nc_conf: branch-to-branch, routing preference, roles). No
 * yuma123 types here (rs_notify.c turns events into notifications), so the
 * comparison can be tested on its own.
 */
#ifndef RS_EVENTS_H
#define RS_EVENTS_H

#include <stdbool.h>
#include <stddef.h>

#include "rs_frr.h"

/* Operational snapshot of one BGP instance. */
struct rs_ev_neigh {
	char name[RS_NC_NAME_LEN];
	char role[24];		/* effective role, YANG enum name */
	char state[24];		/* bgpState, e.g. Established */
};

struct rs_ev_inst {
	char vrf[RS_NC_VRF_LEN];
	char **warn;
	size_t n_warn;
	struct rs_ev_neigh *neigh;
	size_t n_neigh;
};

struct rs_ev_snap {
	struct rs_ev_inst *inst;
	size_t n_inst;
};

enum rs_ev_kind {
	RS_EV_WARN_RAISED,
	RS_EV_WARN_CLEARED,
	RS_EV_SESSION,
	RS_EV_CONFIG,
};

/* One event; the strings belong to the snapshots (valid during emit). */
struct rs_ev {
	enum rs_ev_kind kind;
	const char *vrf;
	const char *warning;		/* WARN_* */
	const char *neighbor;		/* SESSION; CONFIG of a role */
	const char *role;		/* SESSION */
	bool up;			/* SESSION: new status (old is !up) */
	const char *old_state;		/* SESSION: bgpState before/after */
	const char *new_state;
	const char *setting;		/* CONFIG: YANG enum name */
	const char *old_value;		/* CONFIG; NULL = no role */
	const char *new_value;
};

typedef void (*rs_ev_emit_fn)(const struct rs_ev *ev, void *ctx);

/* Parses "show bgp vrf all route-server json" (keyed by VRF name).
 * 0 on success, -1 when the text is not that JSON.
 */
int rs_ev_snap_parse(const char *json, struct rs_ev_snap *s);
void rs_ev_snap_free(struct rs_ev_snap *s);

/* Warnings raised / cleared, then sessions up / down (a neighbor in both
 * snapshots whose state went to or left Established), per instance.
 */
void rs_ev_diff_state(const struct rs_ev_snap *old,
		      const struct rs_ev_snap *neu, rs_ev_emit_fn emit,
		      void *ctx);

/* branch-to-branch, routing-preference and role changes from old to neu;
 * a missing instance or neighbor has the defaults (off, expressroute, no
 * role), as in bgpd.
 */
void rs_ev_diff_conf(const struct rs_nc_conf *old,
		     const struct rs_nc_conf *neu, rs_ev_emit_fn emit,
		     void *ctx);

/* Deep copy of the route-server part (instances, b2b, preference, roles). */
void rs_ev_conf_copy(struct rs_nc_conf *dst, const struct rs_nc_conf *src);

#endif
