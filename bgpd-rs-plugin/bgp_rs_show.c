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
#include "bgp_rs_glue.h"

#include "bgpd/bgp_rs_show_clippy.c"

#define RS_SHOW_HELP SHOW_STR BGP_STR "Specify the VRF\nThe VRF name\n" \
	"Route server (Azure Route Server model)\n"

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

static const char *rs_peer_state(const struct peer *peer)
{
	return lookup_msg(bgp_status_msg, peer->connection->status, NULL);
}

/* One table walk per instance (rs_stats_collect), whatever the number of
 * role neighbors.
 */
static void rs_show_inst(struct vty *vty, const struct rs_inst *inst,
			 json_object *json)
{
	struct bgp *bgp = inst->bgp;
	json_object *jneigh = NULL, *jgroups = NULL, *jwarn = NULL;
	struct rs_peer_stats *st;
	unsigned int n = rs_stats_collect(inst, &st);
	struct listnode *node;
	struct peer_group *group;
	bool header = false;

	if (json) {
		json_object_string_add(json, "vrfName", rs_inst_vrf(bgp));
		asn_asn2json(json, "localAs", bgp->as, bgp->asnotation);
		json_object_boolean_add(json, "branchToBranch", inst->b2b);
		json_object_int_add(json, "reevaluations", inst->reevals);
		json_object_int_add(json, "deletedNeighborsClearing",
				    rs_tomb_count(inst));
		jneigh = json_object_new_object();
		jgroups = json_object_new_object();
		jwarn = json_object_new_array();
	} else {
		vty_out(vty,
			"BGP route server, VRF %s, local AS %s\nBranch-to-branch: %s\n",
			rs_inst_vrf(bgp), bgp->as_pretty,
			inst->b2b ? "on" : "off");
	}

	for (unsigned int i = 0; i < n; i++) {
		const struct rs_peer_stats *s = &st[i];

		if (json) {
			json_object *j = json_object_new_object();

			json_object_string_add(j, "role", rs_role_yang(s->role));
			if (s->from)
				json_object_string_add(j, "roleInheritedFrom",
						       s->from);
			if (peer_dynamic_neighbor(s->peer))
				json_object_boolean_true_add(j, "dynamic");
			json_object_string_add(j, "bgpState",
					       rs_peer_state(s->peer));
			json_object_boolean_add(j, "ibgp",
						s->peer->sort == BGP_PEER_IBGP);
			json_object_int_add(j, "prefixesReceived", s->rcvd);
			json_object_int_add(j, "prefixesAdvertised", s->sent);
			json_object_int_add(j, "prefixesWithheld", s->withheld);
			json_object_object_add(jneigh, s->peer->host, j);
			continue;
		}
		if (!header) {
			vty_out(vty,
				"\nNeighbor                  Role                  State        PfxRcd  PfxSent Withheld\n");
			header = true;
		}
		vty_out(vty, "%-25s %-21s %-12s %7u %8u %8u%s%s\n",
			s->peer->host, rs_role_cli(s->role),
			rs_peer_state(s->peer), s->rcvd, s->sent, s->withheld,
			s->from ? "  via peer-group " : "",
			s->from ? s->from : "");
	}
	rs_stats_free(&st);
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

/* An instance without route-server config shows as such. */
static void rs_show_bgp_inst(struct vty *vty, struct bgp *bgp,
			     json_object *json)
{
	struct rs_inst inst_none = { .bgp = bgp };
	const struct rs_inst *inst = rs_inst_find(bgp);

	if (!inst)
		inst = &inst_none;
	rs_show_inst(vty, inst, json);
}

DEFPY(show_bgp_rs, show_bgp_rs_cmd,
      "show bgp [vrf <NAME$vrf_name|all$vrf_all>] route-server [json$uj]",
      SHOW_STR BGP_STR "Specify the VRF\nThe VRF name\nAll VRFs\n"
      "Route server (Azure Route Server model)\n" JSON_STR)
{
	json_object *json = uj ? json_object_new_object() : NULL;
	struct listnode *node;
	struct bgp *bgp;
	bool first = true;

	if (!vrf_all) {
		bgp = rs_show_bgp(vty, vrf_name, !!uj);
		if (!bgp) {
			json_object_free(json);
			return CMD_WARNING;
		}
		rs_show_bgp_inst(vty, bgp, json);
		if (json)
			vty_json(vty, json);
		return CMD_SUCCESS;
	}
	/* JSON keyed by VRF name, as bgpd's own "vrf all" commands. */
	for (ALL_LIST_ELEMENTS_RO(bm->bgp, node, bgp)) {
		json_object *j = json ? json_object_new_object() : NULL;

		if (!json && !first)
			vty_out(vty, "\n");
		first = false;
		rs_show_bgp_inst(vty, bgp, j);
		if (json)
			json_object_object_add(json, rs_inst_vrf(bgp), j);
	}
	if (json)
		vty_json(vty, json);
	return CMD_SUCCESS;
}

struct rs_withheld_ctx {
	struct vty *vty;
	bool json;
	unsigned int n;
};

/* JSON is streamed (as bgpd's own table dumps are): a million withheld
 * prefixes would otherwise be a million json-c objects.
 */
static void rs_withheld_one(void *arg, afi_t afi, const struct prefix *p,
			    const struct peer *from, enum rs_source src,
			    enum rs_verdict verdict)
{
	struct rs_withheld_ctx *ctx = arg;
	const char *from_str = src == RS_SRC_VNET ? "local" : from->host;

	if (ctx->json) {
		vty_out(ctx->vty,
			"%s{\"prefix\":\"%pFX\",\"afi\":\"%s\",\"sourceNeighbor\":\"%s\",\"sourceRole\":\"%s\",\"reason\":\"%s\"}",
			ctx->n ? ",\n" : "\n", p, afi2str_lower(afi), from_str,
			rs_source_name(src), rs_verdict_reason(verdict));
		ctx->n++;
		return;
	}
	if (!ctx->n++)
		vty_out(ctx->vty,
			"\nPrefix                                      Source neighbor           Source role           Reason\n");
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
	struct rs_withheld_ctx ctx = { .vty = vty, .json = !!uj };
	const struct rs_inst *inst;
	struct peer *peer;
	enum rs_role role;
	const char *from;
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
	if (uj)
		vty_out(vty,
			"{\"vrfName\":\"%s\",\"neighbor\":\"%s\",\"role\":\"%s\",\"branchToBranch\":%s,\"withheld\":[",
			rs_inst_vrf(bgp), peer->host, rs_role_yang(role),
			inst && inst->b2b ? "true" : "false");
	else
		vty_out(vty, "Neighbor %s, role %s, branch-to-branch %s\n",
			peer->host, rs_role_cli(role),
			inst && inst->b2b ? "on" : "off");
	n = inst ? rs_walk_withheld(inst, peer, rs_withheld_one, &ctx) : 0;
	if (uj)
		vty_out(vty, "%s],\"totalWithheld\":%u}\n", n ? "\n" : "", n);
	else if (role == RS_ROLE_NONE)
		vty_out(vty, "\nNo route-server role: nothing is withheld.\n");
	else
		vty_out(vty, "\nTotal withheld: %u\n", n);
	return CMD_SUCCESS;
}

void rs_show_init(void)
{
	install_element(VIEW_NODE, &show_bgp_rs_cmd);
	install_element(VIEW_NODE, &show_bgp_rs_withheld_cmd);
}
