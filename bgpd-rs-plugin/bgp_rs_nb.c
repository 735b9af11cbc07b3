// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Route-server module: northbound callbacks of frr-bgp-route-server.yang.
 * The YANG running configuration is the source of truth; APPLY copies it
 * into the module's per-instance state (bgp_rs.c).
 */
#include <zebra.h>

#include "lib/northbound.h"
#include "lib/northbound_cli.h"
#include "lib/vty.h"

#include "bgpd/bgpd.h"

#include "bgp_rs.h"

#define RS_XPATH_INST "/frr-bgp-route-server:route-server/instance[vrf='%s']"

static struct rs_inst *rs_nb_inst(const struct lyd_node *dnode)
{
	const struct lyd_node *idn = yang_dnode_get_parent(dnode, "instance");
	struct bgp *bgp = rs_bgp_by_vrf(yang_dnode_get_string(idn, "./vrf"));

	return bgp ? rs_inst_get(bgp) : NULL;
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
	case NB_EV_ABORT:
		break;
	case NB_EV_APPLY:
		if (!rs_inst_get(bgp))
			return NB_ERR_RESOURCE;
		break;
	}
	return NB_OK;
}

static int rs_nb_instance_destroy(struct nb_cb_destroy_args *args)
{
	struct bgp *bgp;
	struct rs_inst *inst;

	if (args->event != NB_EV_APPLY)
		return NB_OK;
	bgp = rs_bgp_by_vrf(yang_dnode_get_string(args->dnode, "./vrf"));
	inst = bgp ? rs_inst_find(bgp) : NULL;
	if (inst)
		rs_b2b_set(inst, false);
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
	rs_role_cfg_set(inst, yang_dnode_get_string(args->dnode, "./name"),
			RS_ROLE_NONE);
	rs_reeval_schedule(inst);
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
	rs_role_cfg_set(inst, yang_dnode_get_string(ndn, "./name"),
			rs_role_parse(yang_dnode_get_string(args->dnode, NULL)));
	rs_reeval_schedule(inst);
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
			.xpath = NULL,
		},
	}
};
/* clang-format on */

/* --- glue used by bgp_rs.c ---------------------------------------------- */

/* Remove a subtree from the running configuration, as a transaction of
 * its own (bgpd's neighbor commands are not northbound-driven).
 */
static void rs_nb_running_remove(const char *xpath)
{
	struct nb_context context = { .client = NB_CLIENT_NONE };
	struct nb_config *candidate;
	struct lyd_node *dnode;
	char errmsg[BUFSIZ] = {};
	int ret;

	if (!yang_dnode_exists(running_config->dnode, xpath))
		return;
	candidate = nb_config_dup(running_config);
	dnode = yang_dnode_get(candidate->dnode, xpath);
	lyd_free_tree(dnode);
	ret = nb_candidate_commit(context, candidate, false, NULL, NULL, errmsg,
				  sizeof(errmsg));
	if (ret != NB_OK && ret != NB_ERR_NO_CHANGES)
		zlog_warn("route-server: failed to remove %s: %s", xpath,
			  errmsg);
	nb_config_free(candidate);
}

void rs_nb_peer_deleted(struct rs_inst *inst, const char *name)
{
	char xpath[XPATH_MAXLEN];

	snprintfrr(xpath, sizeof(xpath), RS_XPATH_INST "/neighbor[name='%s']",
		   rs_inst_vrf(inst->bgp), name);
	rs_nb_running_remove(xpath);
}

void rs_nb_inst_deleted(const struct bgp *bgp)
{
	char xpath[XPATH_MAXLEN];

	snprintfrr(xpath, sizeof(xpath), RS_XPATH_INST, rs_inst_vrf(bgp));
	rs_nb_running_remove(xpath);
}

void rs_nb_config_write_peer(struct vty *vty, struct bgp *bgp,
			     struct peer *peer)
{
	const struct lyd_node *dnode;

	dnode = yang_dnode_getf(running_config->dnode,
				RS_XPATH_INST "/neighbor[name='%s']",
				rs_inst_vrf(bgp), rs_peer_name(peer));
	if (dnode)
		nb_cli_show_dnode_cmds(vty, dnode, false);
}

void rs_nb_config_write_inst(struct vty *vty, struct bgp *bgp)
{
	const struct lyd_node *dnode;

	dnode = yang_dnode_getf(running_config->dnode,
				RS_XPATH_INST "/branch-to-branch",
				rs_inst_vrf(bgp));
	if (dnode)
		nb_cli_show_dnode_cmds(vty, dnode, false);
}
