// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Route-server module: northbound callbacks of frr-bgp-route-server.yang.
 * The YANG running configuration is the source of truth; APPLY copies it
 * into the module's per-instance state (bgp_rs.c). When bgpd deletes a
 * neighbor, peer-group or instance, its route-server configuration is
 * removed from the running (and shared candidate) tree and from the state
 * at the same moment: that follows from the deletion, like the neighbor's
 * own lines, and is no commit that could fail.
 */
#include <zebra.h>

#include "lib/northbound.h"
#include "lib/northbound_cli.h"
#include "lib/vty.h"

#include "bgpd/bgpd.h"
#include "bgpd/bgp_fsm.h"

#include "bgp_rs.h"
#include "bgp_rs_glue.h"

#define RS_XPATH_INST "/frr-bgp-route-server:route-server/instance[vrf='%s']"

/* The instance's state, created by the instance's PREPARE. */
static struct rs_inst *rs_nb_inst(const struct lyd_node *dnode)
{
	const struct lyd_node *idn = yang_dnode_get_parent(dnode, "instance");
	struct bgp *bgp = rs_bgp_by_vrf(yang_dnode_get_string(idn, "./vrf"));

	return bgp ? rs_inst_find(bgp) : NULL;
}

/* Names a neighbor or peer-group of the instance may be configured by. */
static bool rs_nb_neighbor_exists(struct bgp *bgp, const char *name,
				  bool *dynamic)
{
	struct peer *peer = rs_peer_lookup(bgp, name);

	*dynamic = false;
	if (peer) {
		*dynamic = peer_dynamic_neighbor(peer);
		return !*dynamic;
	}
	return peer_group_lookup(bgp, name) != NULL;
}

/* /frr-bgp-route-server:route-server/instance */
static int rs_nb_instance_create(struct nb_cb_create_args *args)
{
	const char *vrf = yang_dnode_get_string(args->dnode, "./vrf");
	struct bgp *bgp = rs_bgp_by_vrf(vrf);

	switch (args->event) {
	case NB_EV_VALIDATE:
		if (!bgp) {
			snprintfrr(args->errmsg, args->errmsg_len,
				   "BGP instance for VRF %s not found", vrf);
			return NB_ERR_VALIDATION;
		}
		break;
	case NB_EV_PREPARE:
		/* The one resource: an instance slot (the key carries it). */
		args->resource->ptr = rs_inst_get(bgp);
		if (!args->resource->ptr) {
			snprintfrr(args->errmsg, args->errmsg_len,
				   "too many BGP instances with route-server configuration (at most %u)",
				   RS_MAX_INSTANCES);
			return NB_ERR_RESOURCE;
		}
		break;
	case NB_EV_ABORT:
		if (args->resource->ptr)
			rs_inst_put(args->resource->ptr);
		break;
	case NB_EV_APPLY:
		break;
	}
	return NB_OK;
}

/* The whole subtree goes: its roles and flag too (children get no
 * destroy callback of their own).
 */
static int rs_nb_instance_destroy(struct nb_cb_destroy_args *args)
{
	struct bgp *bgp;
	struct rs_inst *inst;

	if (args->event != NB_EV_APPLY)
		return NB_OK;
	bgp = rs_bgp_by_vrf(yang_dnode_get_string(args->dnode, "./vrf"));
	inst = bgp ? rs_inst_find(bgp) : NULL;
	if (!inst)
		return NB_OK;
	rs_roles_clear(inst);
	rs_b2b_set(inst, false);
	rs_pref_set(inst, RS_PREF_EXPRESSROUTE);
	rs_inst_put(inst);
	return NB_OK;
}

/* /frr-bgp-route-server:route-server/instance/branch-to-branch */
static int rs_nb_b2b_modify(struct nb_cb_modify_args *args)
{
	struct rs_inst *inst;

	if (args->event != NB_EV_APPLY)
		return NB_OK;
	inst = rs_nb_inst(args->dnode);
	if (inst)
		rs_b2b_set(inst, yang_dnode_get_bool(args->dnode, NULL));
	return NB_OK;
}

static void rs_nb_b2b_cli_show(struct vty *vty, const struct lyd_node *dnode,
			       bool show_defaults)
{
	if (yang_dnode_get_bool(dnode, NULL))
		vty_out(vty, " bgp route-server branch-to-branch\n");
	else if (show_defaults)
		vty_out(vty, " no bgp route-server branch-to-branch\n");
}

/* /frr-bgp-route-server:route-server/instance/routing-preference */
static int rs_nb_pref_modify(struct nb_cb_modify_args *args)
{
	struct rs_inst *inst;

	if (args->event != NB_EV_APPLY)
		return NB_OK;
	inst = rs_nb_inst(args->dnode);
	if (inst)
		rs_pref_set(inst, rs_pref_parse(yang_dnode_get_string(args->dnode,
								      NULL)));
	return NB_OK;
}

static void rs_nb_pref_cli_show(struct vty *vty, const struct lyd_node *dnode,
				bool show_defaults)
{
	if (show_defaults || !yang_dnode_is_default(dnode, NULL))
		vty_out(vty, " bgp route-server routing-preference %s\n",
			yang_dnode_get_string(dnode, NULL));
}

/* /frr-bgp-route-server:route-server/instance/neighbor */
static int rs_nb_neighbor_create(struct nb_cb_create_args *args)
{
	const struct lyd_node *idn;
	const char *name;
	struct bgp *bgp;
	bool dynamic;

	if (args->event != NB_EV_VALIDATE)
		return NB_OK;
	idn = yang_dnode_get_parent(args->dnode, "instance");
	bgp = rs_bgp_by_vrf(yang_dnode_get_string(idn, "./vrf"));
	name = yang_dnode_get_string(args->dnode, "./name");
	if (bgp && !rs_nb_neighbor_exists(bgp, name, &dynamic)) {
		snprintfrr(args->errmsg, args->errmsg_len,
			   dynamic ? "Operation not allowed on a dynamic neighbor"
				   : "Specify remote-as or peer-group commands first");
		return NB_ERR_VALIDATION;
	}
	return NB_OK;
}

static int rs_nb_neighbor_destroy(struct nb_cb_destroy_args *args)
{
	struct rs_inst *inst;

	if (args->event != NB_EV_APPLY)
		return NB_OK;
	inst = rs_nb_inst(args->dnode);
	if (!inst)
		return NB_OK;
	rs_role_set(inst, yang_dnode_get_string(args->dnode, "./name"),
		    RS_ROLE_NONE);
	return NB_OK;
}

static void rs_nb_neighbor_cli_show(struct vty *vty,
				    const struct lyd_node *dnode,
				    bool show_defaults)
{
	enum rs_role role = rs_role_parse(yang_dnode_get_string(dnode, "./role"));

	vty_out(vty, " neighbor %s route-server role %s\n",
		yang_dnode_get_string(dnode, "./name"), rs_role_cli(role));
}

/* /frr-bgp-route-server:route-server/instance/neighbor/role */
static int rs_nb_role_modify(struct nb_cb_modify_args *args)
{
	const struct lyd_node *ndn;
	struct rs_inst *inst;

	if (args->event != NB_EV_APPLY)
		return NB_OK;
	inst = rs_nb_inst(args->dnode);
	if (!inst)
		return NB_OK;
	ndn = yang_dnode_get_parent(args->dnode, "neighbor");
	rs_role_set(inst, yang_dnode_get_string(ndn, "./name"),
		    rs_role_parse(yang_dnode_get_string(args->dnode, NULL)));
	return NB_OK;
}

/* clang-format off */
const struct frr_yang_module_info frr_bgp_route_server_info = {
	.name = "frr-bgp-route-server",
	.nodes = {
		{
			.xpath = "/frr-bgp-route-server:route-server/instance",
			.cbs = {
				.create = rs_nb_instance_create,
				.destroy = rs_nb_instance_destroy,
				.get_next = rs_state_instance_get_next,
				.get_keys = rs_state_instance_get_keys,
				.lookup_entry = rs_state_instance_lookup_entry,
			},
		},
		{
			.xpath = "/frr-bgp-route-server:route-server/instance/branch-to-branch",
			.cbs = {
				.modify = rs_nb_b2b_modify,
				.cli_show = rs_nb_b2b_cli_show,
			},
		},
		{
			.xpath = "/frr-bgp-route-server:route-server/instance/routing-preference",
			.cbs = {
				.modify = rs_nb_pref_modify,
				.cli_show = rs_nb_pref_cli_show,
			},
		},
		{
			.xpath = "/frr-bgp-route-server:route-server/instance/neighbor",
			.cbs = {
				.create = rs_nb_neighbor_create,
				.destroy = rs_nb_neighbor_destroy,
				.cli_show = rs_nb_neighbor_cli_show,
			},
		},
		{
			.xpath = "/frr-bgp-route-server:route-server/instance/neighbor/role",
			.cbs = {
				.modify = rs_nb_role_modify,
			},
		},
		{
			.xpath = "/frr-bgp-route-server:route-server/instance/state/warning",
			.cbs = {
				.get_next = rs_state_warning_get_next,
				.get_elem = rs_state_warning_get_elem,
			},
		},
		{
			.xpath = "/frr-bgp-route-server:route-server/instance/state/neighbor",
			.cbs = {
				.get_next = rs_state_neighbor_get_next,
				.get_keys = rs_state_neighbor_get_keys,
				.lookup_entry = rs_state_neighbor_lookup_entry,
			},
		},
		{
			.xpath = "/frr-bgp-route-server:route-server/instance/state/neighbor/name",
			.cbs.get_elem = rs_state_neighbor_get_elem,
		},
		{
			.xpath = "/frr-bgp-route-server:route-server/instance/state/neighbor/role",
			.cbs.get_elem = rs_state_neighbor_get_elem,
		},
		{
			.xpath = "/frr-bgp-route-server:route-server/instance/state/neighbor/role-inherited-from",
			.cbs.get_elem = rs_state_neighbor_get_elem,
		},
		{
			.xpath = "/frr-bgp-route-server:route-server/instance/state/neighbor/session-state",
			.cbs.get_elem = rs_state_neighbor_get_elem,
		},
		{
			.xpath = "/frr-bgp-route-server:route-server/instance/state/neighbor/prefixes-received",
			.cbs.get_elem = rs_state_neighbor_get_elem,
		},
		{
			.xpath = "/frr-bgp-route-server:route-server/instance/state/neighbor/prefixes-advertised",
			.cbs.get_elem = rs_state_neighbor_get_elem,
		},
		{
			.xpath = "/frr-bgp-route-server:route-server/instance/state/neighbor/prefixes-withheld",
			.cbs.get_elem = rs_state_neighbor_get_elem,
		},
		{
			.xpath = "/frr-bgp-route-server:route-server/instance/state/neighbor/prefixes-alternate-path",
			.cbs.get_elem = rs_state_neighbor_get_elem,
		},
		{
			.xpath = NULL,
		},
	}
};
/* clang-format on */

/* --- bgpd objects deleted, config write ---------------------------------- */

/* Remove a subtree from running and from the shared candidate (which
 * classic-mode CLI commits are made from): the object it configured is
 * gone, so nothing may re-create it.
 */
static void rs_nb_forget(const char *xpath)
{
	struct nb_config *configs[] = { running_config,
					vty_shared_candidate_config };

	for (unsigned int i = 0; i < array_size(configs); i++) {
		struct lyd_node *dnode;

		if (!configs[i] || !configs[i]->dnode ||
		    !yang_dnode_exists(configs[i]->dnode, xpath))
			continue;
		dnode = yang_dnode_get(configs[i]->dnode, xpath);
		lyd_free_tree(dnode);
	}
}

/* Deleting a neighbor or peer-group deletes its role; a re-created one
 * has none. Runs after the core has kept the deleted neighbor's source
 * role for its remaining paths (hook priorities).
 */
static int rs_nb_peer_status_changed(struct peer *peer)
{
	char xpath[XPATH_MAXLEN];
	struct rs_inst *inst;
	const char *name;

	/* A peer-group's conf peer has no CONFIG_NODE flag; its host is the
	 * group's name. Dynamic neighbors have no role of their own.
	 */
	if (peer->connection->status != Deleted ||
	    !(CHECK_FLAG(peer->flags, PEER_FLAG_CONFIG_NODE) ||
	      CHECK_FLAG(peer->sflags, PEER_STATUS_GROUP)) ||
	    peer_dynamic_neighbor(peer))
		return 0;
	inst = rs_inst_find(peer->bgp);
	name = rs_peer_name(peer);
	if (!inst || !rs_role_cfg_get(inst, name))
		return 0;
	snprintfrr(xpath, sizeof(xpath), RS_XPATH_INST "/neighbor[name='%s']",
		   rs_inst_vrf(peer->bgp), name);
	rs_nb_forget(xpath);
	rs_role_set(inst, name, RS_ROLE_NONE);
	return 0;
}

static int rs_nb_inst_delete(struct bgp *bgp)
{
	char xpath[XPATH_MAXLEN];

	snprintfrr(xpath, sizeof(xpath), RS_XPATH_INST, rs_inst_vrf(bgp));
	rs_nb_forget(xpath);
	return 0;
}

static int rs_nb_config_write_peer(struct bgp *bgp, struct vty *vty,
				   struct peer *peer)
{
	const struct lyd_node *dnode;

	dnode = yang_dnode_getf(running_config->dnode,
				RS_XPATH_INST "/neighbor[name='%s']",
				rs_inst_vrf(bgp), rs_peer_name(peer));
	if (dnode)
		nb_cli_show_dnode_cmds(vty, dnode, false);
	return 0;
}

static int rs_nb_config_write_inst(struct bgp *bgp, struct vty *vty)
{
	const struct lyd_node *dnode;

	static const char *const leaves[] = { "branch-to-branch",
					      "routing-preference" };

	for (unsigned int i = 0; i < array_size(leaves); i++) {
		dnode = yang_dnode_getf(running_config->dnode,
					RS_XPATH_INST "/%s", rs_inst_vrf(bgp),
					leaves[i]);
		if (dnode)
			nb_cli_show_dnode_cmds(vty, dnode, false);
	}
	return 0;
}

void rs_nb_init(void)
{
	hook_register(peer_status_changed, rs_nb_peer_status_changed);
	hook_register(bgp_inst_delete, rs_nb_inst_delete);
	hook_register(bgp_peer_config_write, rs_nb_config_write_peer);
	hook_register(bgp_inst_config_write, rs_nb_config_write_inst);
}
