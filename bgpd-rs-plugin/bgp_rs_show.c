// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Route-server module: "show bgp [vrf NAME] route-server [json]" and
 * "show bgp [vrf NAME] route-server withheld PEER [json]".
 */
#include <zebra.h>

#include "lib/command.h"
#include "lib/json.h"
#include "lib/vty.h"

#include "bgpd/bgpd.h"
#include "bgpd/bgp_debug.h"
#include "bgpd/bgp_route.h"
#include "bgpd/bgp_table.h"
#include "bgpd/bgp_updgrp.h"
#include "bgpd/bgp_vty.h"

#include "bgp_rs.h"

#include "bgpd/bgp_rs_show_clippy.c"

#define RS_SHOW_HELP SHOW_STR BGP_STR "Specify the VRF\nThe VRF name\n" \
	"Route server (Azure Route Server model)\n"

/*
 * Calls cb for each path the policy keeps from dst: the best path of each
 * prefix, or every valid path when dst receives add-path. Paths learned
 * from dst itself are not counted (BGP never sends them back anyway).
 */
unsigned int rs_walk_withheld(const struct rs_inst *inst, struct peer *dst,
			      rs_withheld_cb cb, void *ctx)
{
	enum rs_role role = rs_peer_role(inst, dst, NULL);
	unsigned int n = 0;
	afi_t afi;

	if (!role)
		return 0;
	for (afi = AFI_IP; afi <= AFI_IP6; afi++) {
		struct bgp_table *table = inst->bgp->rib[afi][SAFI_UNICAST];
		struct bgp_dest *dest;
		bool addpath;

		if (!table || !dst->afc[afi][SAFI_UNICAST])
			continue;
		addpath = bgp_addpath_encode_tx(dst, afi, SAFI_UNICAST);
		for (dest = bgp_table_top(table); dest;
		     dest = bgp_route_next(dest)) {
			struct bgp_path_info *pi;

			for (pi = bgp_dest_get_bgp_path_info(dest); pi;
			     pi = pi->next) {
				enum rs_source src;
				enum rs_verdict v;

				if (addpath ? !CHECK_FLAG(pi->flags, BGP_PATH_VALID)
					    : !CHECK_FLAG(pi->flags, BGP_PATH_SELECTED))
					continue;
				if (pi->peer == dst)
					continue;
				src = rs_path_source(inst, pi->peer);
				v = rs_policy_decide(src, role, inst->b2b);
				if (v != RS_WITHHELD_B2B && v != RS_WITHHELD_NEVER)
					continue;
				n++;
				if (cb)
					cb(ctx, afi, bgp_dest_get_prefix(dest),
					   pi->peer, src, v);
			}
		}
	}
	return n;
}

static struct bgp *rs_show_bgp(struct vty *vty, const char *vrf, bool uj)
{
	struct bgp *bgp = vrf ? rs_bgp_by_vrf(vrf) : bgp_get_default();

	if (!bgp) {
		if (uj)
			vty_out(vty, "{}\n");
		else
			vty_out(vty, "%% BGP instance not found\n");
	}
	return bgp;
}

static void rs_warn_json(void *ctx, const char *text)
{
	json_object_array_add(ctx, json_object_new_string(text));
}

struct rs_warn_text_ctx {
	struct vty *vty;
	unsigned int n;
};

static void rs_warn_text(void *arg, const char *text)
{
	struct rs_warn_text_ctx *ctx = arg;

	if (!ctx->n++)
		vty_out(ctx->vty, "\nWarnings:\n");
	vty_out(ctx->vty, "  %s\n", text);
}

void rs_peer_counts(const struct rs_inst *inst, struct peer *peer,
		    uint32_t *rcvd, uint32_t *sent, uint32_t *withheld)
{
	afi_t afi;

	*rcvd = *sent = 0;
	for (afi = AFI_IP; afi <= AFI_IP6; afi++) {
		struct peer_af *paf = peer_af_find(peer, afi, SAFI_UNICAST);

		*rcvd += peer->pcount[afi][SAFI_UNICAST];
		if (paf && PAF_SUBGRP(paf))
			*sent += PAF_SUBGRP(paf)->scount;
	}
	*withheld = rs_walk_withheld(inst, peer, NULL, NULL);
}

static const char *rs_peer_state(const struct peer *peer)
{
	return lookup_msg(bgp_status_msg, peer->connection->status, NULL);
}

static void rs_show_inst(struct vty *vty, const struct rs_inst *inst,
			 json_object *json)
{
	struct bgp *bgp = inst->bgp;
	json_object *jneigh = NULL, *jgroups = NULL, *jwarn = NULL;
	struct listnode *node;
	struct peer *peer;
	struct peer_group *group;
	bool header = false;

	if (json) {
		json_object_string_add(json, "vrfName", rs_inst_vrf(bgp));
		json_object_int_add(json, "localAs", bgp->as);
		json_object_boolean_add(json, "branchToBranch", inst->b2b);
		json_object_int_add(json, "reevaluations", inst->reevals);
		jneigh = json_object_new_object();
		jgroups = json_object_new_object();
		jwarn = json_object_new_array();
	} else {
		vty_out(vty,
			"BGP route server, VRF %s, local AS %u\nBranch-to-branch: %s\n",
			rs_inst_vrf(bgp), bgp->as, inst->b2b ? "on" : "off");
	}

	for (ALL_LIST_ELEMENTS_RO(bgp->peer, node, peer)) {
		const char *from;
		enum rs_role role = rs_peer_role(inst, peer, &from);
		uint32_t rcvd, sent, withheld;

		if (!role)
			continue;
		rs_peer_counts(inst, peer, &rcvd, &sent, &withheld);
		if (json) {
			json_object *j = json_object_new_object();

			json_object_string_add(j, "role", rs_role_yang(role));
			if (from)
				json_object_string_add(j, "roleInheritedFrom",
						       from);
			if (peer_dynamic_neighbor(peer))
				json_object_boolean_true_add(j, "dynamic");
			json_object_string_add(j, "bgpState",
					       rs_peer_state(peer));
			json_object_boolean_add(j, "ibgp",
						peer->sort == BGP_PEER_IBGP);
			json_object_int_add(j, "prefixesReceived", rcvd);
			json_object_int_add(j, "prefixesAdvertised", sent);
			json_object_int_add(j, "prefixesWithheld", withheld);
			json_object_object_add(jneigh, peer->host, j);
			continue;
		}
		if (!header) {
			vty_out(vty,
				"\nNeighbor                  Role                  State        PfxRcd  PfxSent Withheld\n");
			header = true;
		}
		vty_out(vty, "%-25s %-21s %-12s %7u %8u %8u%s%s\n", peer->host,
			rs_role_cli(role), rs_peer_state(peer), rcvd, sent,
			withheld, from ? "  via peer-group " : "",
			from ? from : "");
	}
	if (!json && !header)
		vty_out(vty, "\nNo neighbor has a route-server role.\n");

	header = false;
	for (ALL_LIST_ELEMENTS_RO(bgp->group, node, group)) {
		enum rs_role role = rs_role_cfg_get(inst, group->name);

		if (!role)
			continue;
		if (json) {
			json_object *j = json_object_new_object();

			json_object_string_add(j, "role", rs_role_yang(role));
			json_object_int_add(j, "members",
					    listcount(group->peer));
			json_object_object_add(jgroups, group->name, j);
			continue;
		}
		if (!header)
			vty_out(vty, "\nPeer-group roles:\n");
		header = true;
		vty_out(vty, "  %-24s %-21s %u member(s)\n", group->name,
			rs_role_cli(role), listcount(group->peer));
	}

	if (json) {
		rs_warnings(inst, rs_warn_json, jwarn);
		json_object_object_add(json, "neighbors", jneigh);
		json_object_object_add(json, "peerGroups", jgroups);
		json_object_object_add(json, "warnings", jwarn);
	} else {
		struct rs_warn_text_ctx ctx = { .vty = vty };

		rs_warnings(inst, rs_warn_text, &ctx);
		if (!ctx.n)
			vty_out(vty, "\nWarnings: none\n");
	}
}

DEFPY(show_bgp_rs, show_bgp_rs_cmd,
      "show bgp [vrf NAME$vrf_name] route-server [json$uj]",
      RS_SHOW_HELP JSON_STR)
{
	struct bgp *bgp = rs_show_bgp(vty, vrf_name, !!uj);
	struct rs_inst inst_none = {};
	const struct rs_inst *inst;
	json_object *json = uj ? json_object_new_object() : NULL;

	if (!bgp) {
		json_object_free(json);
		return CMD_WARNING;
	}
	/* An instance without route-server config shows as such. */
	inst = rs_inst_find(bgp);
	if (!inst) {
		inst_none.bgp = bgp;
		inst = &inst_none;
	}
	rs_show_inst(vty, inst, json);
	if (json)
		vty_json(vty, json);
	return CMD_SUCCESS;
}

struct rs_withheld_ctx {
	struct vty *vty;
	json_object *list;
	bool header;
};

static void rs_withheld_one(void *arg, afi_t afi, const struct prefix *p,
			    const struct peer *from, enum rs_source src,
			    enum rs_verdict verdict)
{
	struct rs_withheld_ctx *ctx = arg;
	const char *from_str = src == RS_SRC_VNET ? "local" : from->host;

	if (ctx->list) {
		json_object *j = json_object_new_object();

		json_object_string_addf(j, "prefix", "%pFX", p);
		json_object_string_add(j, "afi", afi2str_lower(afi));
		json_object_string_add(j, "sourceNeighbor", from_str);
		json_object_string_add(j, "sourceRole", rs_source_name(src));
		json_object_string_add(j, "reason", rs_verdict_reason(verdict));
		json_object_array_add(ctx->list, j);
		return;
	}
	if (!ctx->header)
		vty_out(ctx->vty,
			"\nPrefix                                      Source neighbor           Source role           Reason\n");
	ctx->header = true;
	vty_out(ctx->vty, "%-43pFX %-25s %-21s %s\n", p, from_str,
		src == RS_SRC_VNET ? "vnet" : rs_role_cli((enum rs_role)src),
		rs_verdict_reason(verdict));
}

DEFPY(show_bgp_rs_withheld, show_bgp_rs_withheld_cmd,
      "show bgp [vrf NAME$vrf_name] route-server withheld <A.B.C.D|X:X::X:X|WORD>$neighbor [json$uj]",
      RS_SHOW_HELP
      "Prefixes the route-server policy keeps from a neighbor\n"
      NEIGHBOR_ADDR_STR2 JSON_STR)
{
	struct bgp *bgp = rs_show_bgp(vty, vrf_name, !!uj);
	struct rs_withheld_ctx ctx = { .vty = vty };
	const struct rs_inst *inst;
	struct peer *peer;
	enum rs_role role;
	const char *from;
	json_object *json;
	unsigned int n;

	if (!bgp)
		return CMD_WARNING;
	peer = rs_peer_lookup(bgp, neighbor);
	if (!peer) {
		if (uj)
			vty_out(vty, "{}\n");
		else
			vty_out(vty, "%% No such neighbor in this view/vrf\n");
		return CMD_WARNING;
	}
	inst = rs_inst_find(bgp);
	role = inst ? rs_peer_role(inst, peer, &from) : RS_ROLE_NONE;
	json = uj ? json_object_new_object() : NULL;
	if (json) {
		json_object_string_add(json, "vrfName", rs_inst_vrf(bgp));
		json_object_string_add(json, "neighbor", peer->host);
		json_object_string_add(json, "role", rs_role_yang(role));
		json_object_boolean_add(json, "branchToBranch",
					inst && inst->b2b);
		ctx.list = json_object_new_array();
	} else {
		vty_out(vty, "Neighbor %s, role %s, branch-to-branch %s\n",
			peer->host, rs_role_cli(role),
			inst && inst->b2b ? "on" : "off");
	}
	n = inst ? rs_walk_withheld(inst, peer, rs_withheld_one, &ctx) : 0;
	if (json) {
		json_object_object_add(json, "withheld", ctx.list);
		json_object_int_add(json, "totalWithheld", n);
		vty_json(vty, json);
	} else if (role == RS_ROLE_NONE) {
		vty_out(vty, "\nNo route-server role: nothing is withheld.\n");
	} else {
		vty_out(vty, "\nTotal withheld: %u\n", n);
	}
	return CMD_SUCCESS;
}

void rs_show_init(void)
{
	install_element(VIEW_NODE, &show_bgp_rs_cmd);
	install_element(VIEW_NODE, &show_bgp_rs_withheld_cmd);
}
