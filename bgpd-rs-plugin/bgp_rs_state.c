// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Route-server module: operational state (config false nodes) of
 * frr-bgp-route-server.yang, served from bgpd's live data. It mirrors
 * "show bgp route-server json".
 */
#include <zebra.h>

#include "lib/northbound.h"

#include "bgpd/bgpd.h"
#include "bgpd/bgp_debug.h"

#include "bgp_rs.h"
#include "bgp_rs_glue.h"

DEFINE_MTYPE_STATIC(BGP_RS, RS_WARNING, "Route-server warning");
DEFINE_MTYPE_STATIC(BGP_RS, RS_STATE, "Route-server YANG state");

/* --- /instance (the list also holds config) ------------------------------ */

const void *rs_state_instance_get_next(struct nb_cb_get_next_args *args)
{
	return rs_inst_next(args->list_entry);
}

int rs_state_instance_get_keys(struct nb_cb_get_keys_args *args)
{
	const struct rs_inst *inst = args->list_entry;

	args->keys->num = 1;
	strlcpy(args->keys->key[0], rs_inst_vrf(inst->bgp),
		sizeof(args->keys->key[0]));
	return NB_OK;
}

const void *rs_state_instance_lookup_entry(struct nb_cb_lookup_entry_args *args)
{
	struct bgp *bgp = rs_bgp_by_vrf(args->keys->key[0]);

	return bgp ? rs_inst_find(bgp) : NULL;
}

/*
 * The state lists are served from snapshots taken when a walk of an
 * instance's list starts: one table walk per instance (rs_stats_collect)
 * and nothing read from a peer afterwards, so a walk that yields while a
 * neighbor is deleted reads no freed memory.
 */
struct rs_state_neighbor {
	char name[RS_NAME_MAX];
	char from[RS_NAME_MAX];
	enum rs_role role;
	const char *session; /* static string of bgpd's FSM */
	uint32_t rcvd, sent, withheld, alt;
};

struct rs_state_warning {
	struct rs_state_warning *next;
	char text[];
};

static struct {
	const struct rs_inst *inst;
	struct rs_state_neighbor *neigh;
	unsigned int n;
} rs_snap;

static struct {
	const struct rs_inst *inst;
	struct rs_state_warning *head;
} rs_wsnap;

/* --- /instance/state/warning --------------------------------------------- */

static void rs_state_warning_add(void *arg, const char *text)
{
	struct rs_state_warning ***tail = arg;
	size_t len = strlen(text) + 1;
	struct rs_state_warning *w = XCALLOC(MTYPE_RS_WARNING, sizeof(*w) + len);

	memcpy(w->text, text, len);
	**tail = w;
	*tail = &w->next;
}

static void rs_state_warnings_free(void)
{
	struct rs_state_warning *w;

	while ((w = rs_wsnap.head)) {
		rs_wsnap.head = w->next;
		XFREE(MTYPE_RS_WARNING, w);
	}
	rs_wsnap.inst = NULL;
}

const void *rs_state_warning_get_next(struct nb_cb_get_next_args *args)
{
	const struct rs_inst *inst = args->parent_list_entry;
	const struct rs_state_warning *prev = args->list_entry;
	struct rs_state_warning **tail;

	if (prev)
		return prev->next;
	rs_state_warnings_free();
	rs_wsnap.inst = inst;
	tail = &rs_wsnap.head;
	rs_warnings(inst, rs_state_warning_add, &tail);
	return rs_wsnap.head;
}

struct yang_data *rs_state_warning_get_elem(struct nb_cb_get_elem_args *args)
{
	const struct rs_state_warning *w = args->list_entry;

	return yang_data_new_string(args->xpath, w->text);
}

/* --- /instance/state/neighbor -------------------------------------------- */

static void rs_state_snapshot(const struct rs_inst *inst)
{
	struct rs_peer_stats *st;
	unsigned int n = rs_stats_collect(inst, &st);

	XFREE(MTYPE_RS_STATE, rs_snap.neigh);
	rs_snap.inst = inst;
	rs_snap.n = n;
	if (n)
		rs_snap.neigh = XCALLOC(MTYPE_RS_STATE,
					n * sizeof(*rs_snap.neigh));
	for (unsigned int i = 0; i < n; i++) {
		struct rs_state_neighbor *s = &rs_snap.neigh[i];

		strlcpy(s->name, rs_peer_name(st[i].peer), sizeof(s->name));
		if (st[i].from)
			strlcpy(s->from, st[i].from, sizeof(s->from));
		s->role = st[i].role;
		s->session = lookup_msg(bgp_status_msg,
					st[i].peer->connection->status, NULL);
		s->rcvd = st[i].rcvd;
		s->sent = st[i].sent;
		s->withheld = st[i].withheld;
		s->alt = st[i].alt;
	}
	rs_stats_free(&st);
}

const void *rs_state_neighbor_get_next(struct nb_cb_get_next_args *args)
{
	const struct rs_state_neighbor *prev = args->list_entry;

	if (!prev) {
		rs_state_snapshot(args->parent_list_entry);
		return rs_snap.n ? rs_snap.neigh : NULL;
	}
	return prev + 1 < rs_snap.neigh + rs_snap.n ? prev + 1 : NULL;
}

int rs_state_neighbor_get_keys(struct nb_cb_get_keys_args *args)
{
	const struct rs_state_neighbor *s = args->list_entry;

	args->keys->num = 1;
	strlcpy(args->keys->key[0], s->name, sizeof(args->keys->key[0]));
	return NB_OK;
}

const void *rs_state_neighbor_lookup_entry(struct nb_cb_lookup_entry_args *args)
{
	if (rs_snap.inst != args->parent_list_entry || !rs_snap.neigh)
		rs_state_snapshot(args->parent_list_entry);
	for (unsigned int i = 0; i < rs_snap.n; i++)
		if (!strcmp(rs_snap.neigh[i].name, args->keys->key[0]))
			return &rs_snap.neigh[i];
	return NULL;
}

struct yang_data *rs_state_neighbor_get_elem(struct nb_cb_get_elem_args *args)
{
	const struct rs_state_neighbor *s = args->list_entry;
	const char *leaf = strrchr(args->xpath, '/') + 1;

	if (!strcmp(leaf, "name"))
		return yang_data_new_string(args->xpath, s->name);
	if (!strcmp(leaf, "role"))
		return yang_data_new_string(args->xpath, rs_role_yang(s->role));
	if (!strcmp(leaf, "role-inherited-from"))
		return s->from[0] ? yang_data_new_string(args->xpath, s->from)
				  : NULL;
	if (!strcmp(leaf, "session-state"))
		return yang_data_new_string(args->xpath, s->session);
	if (!strcmp(leaf, "prefixes-received"))
		return yang_data_new_uint32(args->xpath, s->rcvd);
	if (!strcmp(leaf, "prefixes-advertised"))
		return yang_data_new_uint32(args->xpath, s->sent);
	if (!strcmp(leaf, "prefixes-withheld"))
		return yang_data_new_uint32(args->xpath, s->withheld);
	if (!strcmp(leaf, "prefixes-alternate-path"))
		return yang_data_new_uint32(args->xpath, s->alt);
	return NULL;
}

void rs_state_fini(void)
{
	XFREE(MTYPE_RS_STATE, rs_snap.neigh);
	rs_snap.inst = NULL;
	rs_state_warnings_free();
}
