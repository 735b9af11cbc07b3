// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Route-server module: "show bgp [vrf NAME] route-server [json]" and
 * "show bgp [vrf NAME] route-server withheld PEER [json]".
 */
#include <zebra.h>

#include "lib/command.h"
#include "lib/json.h"
#include "lib/vty.h"
#include "lib/workqueue.h"

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
		json_object_string_add(json, "routingPreference",
				       rs_pref_name(inst->pref));
		json_object_int_add(json, "processHoldMs",
				    bgp->process_queue->spec.hold);
		json_object_int_add(json, "coalesceTimeMs", bgp->coalesce_time);
		json_object_boolean_add(json, "coalesceTimeConfigured",
					!bgp->heuristic_coalesce);
		json_object_int_add(json, "reevaluations", inst->reevals);
		json_object_int_add(json, "deletedNeighborsClearing",
				    rs_tomb_count(inst));
		jneigh = json_object_new_object();
		jgroups = json_object_new_object();
		jwarn = json_object_new_array();
	} else {
		vty_out(vty,
			"BGP route server, VRF %s, local AS %s\nBranch-to-branch: %s\nRouting preference: %s\nBest-path queue hold: %u ms\nUpdate-group coalesce time: %u ms%s\n",
			rs_inst_vrf(bgp), bgp->as_pretty,
			inst->b2b ? "on" : "off", rs_pref_name(inst->pref),
			bgp->process_queue->spec.hold, bgp->coalesce_time,
			bgp->heuristic_coalesce ? "" : " (coalesce-time)");
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
			json_object_int_add(j, "prefixesAlternatePath", s->alt);
			json_object_object_add(jneigh, s->peer->host, j);
			continue;
		}
		if (!header) {
			vty_out(vty,
				"\nNeighbor                  Role                  State        PfxRcd  PfxSent Withheld  AltPath\n");
			header = true;
		}
		vty_out(vty, "%-25s %-21s %-12s %7u %8u %8u %8u%s%s\n",
			s->peer->host, rs_role_cli(s->role),
			rs_peer_state(s->peer), s->rcvd, s->sent, s->withheld,
			s->alt,
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
	bool alt; /* this pass lists the prefixes sent another path */
	unsigned int n;
};

static const char *rs_from_str(const struct bgp_path_info *pi,
			       enum rs_source src)
{
	return src == RS_SRC_VNET ? "local" : pi->peer->host;
}

static const char *rs_src_cli(enum rs_source src)
{
	return src == RS_SRC_VNET ? "vnet" : rs_role_cli((enum rs_role)src);
}

static const char *rs_nexthop_str(const struct attr *attr, char *buf,
				  size_t len)
{
	if (attr->mp_nexthop_len >= IPV6_MAX_BYTELEN)
		snprintfrr(buf, len, "%pI6", &attr->mp_nexthop_global);
	else if (attr->mp_nexthop_len == IPV4_MAX_BYTELEN)
		snprintfrr(buf, len, "%pI4", &attr->mp_nexthop_global_in);
	else
		snprintfrr(buf, len, "%pI4", &attr->nexthop);
	return buf;
}

/* JSON is streamed (as bgpd's own table dumps are): a million withheld
 * prefixes would otherwise be a million json-c objects.
 */
static void rs_withheld_one(void *arg, const struct rs_withheld *w)
{
	struct rs_withheld_ctx *ctx = arg;
	const char *from = rs_from_str(w->best, w->src);
	char nh[INET6_ADDRSTRLEN];

	if (ctx->alt != !!w->alt)
		return;
	if (ctx->json && !w->alt)
		vty_out(ctx->vty,
			"%s{\"prefix\":\"%pFX\",\"afi\":\"%s\",\"sourceNeighbor\":\"%s\",\"sourceRole\":\"%s\",\"reason\":\"%s\"}",
			ctx->n ? ",\n" : "\n", w->p, afi2str_lower(w->afi), from,
			rs_source_name(w->src), rs_verdict_reason(w->verdict));
	else if (ctx->json)
		vty_out(ctx->vty,
			"%s{\"prefix\":\"%pFX\",\"afi\":\"%s\",\"bestSourceNeighbor\":\"%s\",\"bestSourceRole\":\"%s\",\"reason\":\"%s\",\"sentSourceNeighbor\":\"%s\",\"sentSourceRole\":\"%s\",\"sentNexthop\":\"%s\"}",
			ctx->n ? ",\n" : "\n", w->p, afi2str_lower(w->afi), from,
			rs_source_name(w->src), rs_verdict_reason(w->verdict),
			rs_from_str(w->alt, w->alt_src),
			rs_source_name(w->alt_src),
			rs_nexthop_str(w->alt->attr, nh, sizeof(nh)));
	else if (!w->alt)
		vty_out(ctx->vty, "%-43pFX %-25s %-21s %s\n", w->p, from,
			rs_src_cli(w->src), rs_verdict_reason(w->verdict));
	else
		vty_out(ctx->vty, "%-43pFX %-25s %-21s %-21s %-25s %-21s %s\n",
			w->p, from, rs_src_cli(w->src),
			rs_verdict_reason(w->verdict),
			rs_from_str(w->alt, w->alt_src), rs_src_cli(w->alt_src),
			rs_nexthop_str(w->alt->attr, nh, sizeof(nh)));
	ctx->n++;
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
	unsigned int n = 0, n_alt = 0;

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
			"{\"vrfName\":\"%s\",\"neighbor\":\"%s\",\"role\":\"%s\",\"branchToBranch\":%s,\"routingPreference\":\"%s\",\"withheld\":[",
			rs_inst_vrf(bgp), peer->host, rs_role_yang(role),
			inst && inst->b2b ? "true" : "false",
			rs_pref_name(inst ? inst->pref : RS_PREF_EXPRESSROUTE));
	else
		vty_out(vty,
			"Neighbor %s, role %s, branch-to-branch %s, routing preference %s\n",
			peer->host, rs_role_cli(role),
			inst && inst->b2b ? "on" : "off",
			rs_pref_name(inst ? inst->pref : RS_PREF_EXPRESSROUTE));
	if (role == RS_ROLE_NONE) {
		if (uj)
			vty_out(vty,
				"],\"totalWithheld\":0,\"alternatePaths\":[],\"totalAlternatePaths\":0}\n");
		else
			vty_out(vty,
				"\nNo route-server role: nothing is withheld.\n");
		return CMD_SUCCESS;
	}
	/* Two passes, so that each list is streamed in table order. */
	if (!uj)
		vty_out(vty,
			"\nNo allowed path (nothing is sent):\nPrefix                                      Source neighbor           Source role           Reason\n");
	n = rs_walk_withheld(inst, peer, rs_withheld_one, &ctx, &n_alt);
	if (uj)
		vty_out(vty,
			"%s],\"totalWithheld\":%u,\"alternatePaths\":[",
			n ? "\n" : "", n);
	else
		vty_out(vty,
			"Total withheld: %u\n\nBest path withheld, another path sent:\nPrefix                                      Best path from            Best path role        Reason                Path sent from            Its role              Next hop\n",
			n);
	ctx.alt = true;
	ctx.n = 0;
	if (n_alt)
		rs_walk_withheld(inst, peer, rs_withheld_one, &ctx, &n_alt);
	if (uj)
		vty_out(vty, "%s],\"totalAlternatePaths\":%u}\n",
			n_alt ? "\n" : "", n_alt);
	else
		vty_out(vty, "Total sent another path: %u\n", n_alt);
	return CMD_SUCCESS;
}

void rs_show_init(void)
{
	install_element(VIEW_NODE, &show_bgp_rs_cmd);
	install_element(VIEW_NODE, &show_bgp_rs_withheld_cmd);
}
