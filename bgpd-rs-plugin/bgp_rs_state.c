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

DEFINE_MTYPE_STATIC(BGP_RS, RS_WARNING, "Route-server warning");

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

/* --- /instance/state/warning --------------------------------------------- */

static void rs_state_warning_add(void *arg, const char *text)
{
	struct rs_warning ***tail = arg;
	size_t len = strlen(text) + 1;
	struct rs_warning *w = XCALLOC(MTYPE_RS_WARNING, sizeof(*w) + len);

	memcpy(w->text, text, len);
	**tail = w;
	*tail = &w->next;
}

void rs_state_warnings_free(struct rs_inst *inst)
{
	struct rs_warning *w;

	while ((w = inst->warnings)) {
		inst->warnings = w->next;
		XFREE(MTYPE_RS_WARNING, w);
	}
}

const void *rs_state_warning_get_next(struct nb_cb_get_next_args *args)
{
	struct rs_inst *inst = (struct rs_inst *)args->parent_list_entry;
	const struct rs_warning *prev = args->list_entry;
	struct rs_warning **tail;

	if (prev)
		return prev->next;
	/* A new walk: take a fresh snapshot of the warnings. */
	rs_state_warnings_free(inst);
	tail = &inst->warnings;
	rs_warnings(inst, rs_state_warning_add, &tail);
	return inst->warnings;
}

struct yang_data *rs_state_warning_get_elem(struct nb_cb_get_elem_args *args)
{
	const struct rs_warning *w = args->list_entry;

	return yang_data_new_string(args->xpath, w->text);
}

/* --- /instance/state/neighbor -------------------------------------------- */

static struct peer *rs_state_peer_from(const struct rs_inst *inst,
				       struct listnode *node)
{
	struct peer *peer;

	for (; node; node = listnextnode(node)) {
		peer = listgetdata(node);
		if (rs_peer_role(inst, peer, NULL))
			return peer;
	}
	return NULL;
}

const void *rs_state_neighbor_get_next(struct nb_cb_get_next_args *args)
{
	const struct rs_inst *inst = args->parent_list_entry;
	struct listnode *node;

	if (!args->list_entry)
		return rs_state_peer_from(inst, listhead(inst->bgp->peer));
	node = listnode_lookup(inst->bgp->peer, (void *)args->list_entry);
	return node ? rs_state_peer_from(inst, listnextnode(node)) : NULL;
}

int rs_state_neighbor_get_keys(struct nb_cb_get_keys_args *args)
{
	args->keys->num = 1;
	strlcpy(args->keys->key[0], rs_peer_name(args->list_entry),
		sizeof(args->keys->key[0]));
	return NB_OK;
}

const void *rs_state_neighbor_lookup_entry(struct nb_cb_lookup_entry_args *args)
{
	const struct rs_inst *inst = args->parent_list_entry;
	struct listnode *node;
	struct peer *peer;

	for (ALL_LIST_ELEMENTS_RO(inst->bgp->peer, node, peer))
		if (!strcmp(rs_peer_name(peer), args->keys->key[0]) &&
		    rs_peer_role(inst, peer, NULL))
			return peer;
	return NULL;
}

#define RS_STATE_NEIGHBOR(leaf) \
	"/frr-bgp-route-server:route-server/instance/state/neighbor/" leaf

struct yang_data *rs_state_neighbor_get_elem(struct nb_cb_get_elem_args *args)
{
	struct peer *peer = (struct peer *)args->list_entry;
	const struct rs_inst *inst = rs_inst_find(peer->bgp);
	const char *leaf = strrchr(args->xpath, '/') + 1;
	uint32_t rcvd, sent, withheld;
	enum rs_role role;
	const char *from;

	if (!inst)
		return NULL;
	role = rs_peer_role(inst, peer, &from);
	if (!strcmp(leaf, "name"))
		return yang_data_new_string(args->xpath, rs_peer_name(peer));
	if (!strcmp(leaf, "role"))
		return yang_data_new_string(args->xpath, rs_role_yang(role));
	if (!strcmp(leaf, "role-inherited-from"))
		return from ? yang_data_new_string(args->xpath, from) : NULL;
	if (!strcmp(leaf, "session-state"))
		return yang_data_new_string(
			args->xpath,
			lookup_msg(bgp_status_msg, peer->connection->status,
				   NULL));
	rs_peer_counts(inst, peer, &rcvd, &sent, &withheld);
	if (!strcmp(leaf, "prefixes-received"))
		return yang_data_new_uint32(args->xpath, rcvd);
	if (!strcmp(leaf, "prefixes-advertised"))
		return yang_data_new_uint32(args->xpath, sent);
	if (!strcmp(leaf, "prefixes-withheld"))
		return yang_data_new_uint32(args->xpath, withheld);
	return NULL;
}
