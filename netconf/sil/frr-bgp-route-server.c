// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * netconfd (yuma123) server instrumentation library for
 * frr-bgp-route-server.yang. Started from "yangdump --format=c" and
 * reorganised around whole-config hooks:
 *
 *  - commit-validate hook: the whole new config is checked against live
 *    bgpd (instance exists, neighbor exists, active-active rule, bgpd
 *    reachable); errors become <rpc-error>s with error-path and message,
 *    and nothing changes.
 *  - commit-complete hook: bgpd's route-server config is made equal to the
 *    new running config through vtysh (diff against bgpd's
 *    running-config, so re-applying is a no-op), then "write memory".
 *  - --target=running: the same validation and apply run from the edit
 *    callbacks (COMMIT phase) of an edit-config on running.
 *  - Config per instance: branch-to-branch, routing-preference (YANG
 *    default expressroute = no line in bgpd's config) and the neighbor
 *    roles.
 *  - /route-server/instance/state is a virtual container filled at <get>
 *    time from "show bgp [vrf X] route-server json".
 *  - bgpd is authoritative: at start (init2) and then periodically, when
 *    nobody holds a lock and the candidate has no pending edits, NETCONF
 *    running (and candidate) are rebuilt from bgpd's config.
 *
 * Settings by environment: see rs_frr.h, plus FRR_RS_SYNC_INTERVAL
 * (seconds, default 30, 0 = never).
 *
 * Notifications (warning raised/cleared, role neighbor session up/down,
 * config changed outside NETCONF) are rs_notify.c's: it polls bgpd every
 * FRR_RS_EVENT_INTERVAL seconds; apply_conf() tells it what NETCONF
 * applied (rs_notify_config_applied).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <libxml/xmlstring.h>

#include "procdefs.h"
#include "agt.h"
#include "agt_cb.h"
#include "agt_commit_complete.h"
#include "agt_commit_validate.h"
#include "agt_timer.h"
#include "agt_util.h"
#include "cfg.h"
#include "dlq.h"
#include "getcb.h"
#include "log.h"
#include "ncx.h"
#include "ncxmod.h"
#include "ncxtypes.h"
#include "obj.h"
#include "rpc.h"
#include "ses.h"
#include "status.h"
#include "val.h"
#include "val_util.h"
#include "xml_util.h"

#include "rs_confirm.h"
#include "rs_frr.h"
#include "rs_nacm.h"
#include "rs_notify.h"

#define MOD (const xmlChar *)"frr-bgp-route-server"
/* The revision this SIL implements. It must be the newest revision of
 * yang/frr-bgp-route-server.yang: the Makefile refuses to build otherwise,
 * and netconfd, given another revision, fails to start with the message
 * below in its log (a SIL silently ignoring new config nodes would accept
 * config it never applies to bgpd).
 */
#define REV_STR "2026-12-01"
#define REV (const xmlChar *)REV_STR
#define N(s) (const xmlChar *)(s)

static ncx_module_t *rs_mod;
static obj_template_t *rs_obj;
static bool rs_ready;
static uint32 rs_timer_id;

/* ------------------------------------------------------------------ */
/* helpers                                                            */

static const char *leaf_str(const val_value_t *parent, const char *name)
{
	val_value_t *v = val_find_child(parent, MOD, N(name));

	if (!v)
		return NULL;
	if (v->btyp == NCX_BT_ENUM)
		return (const char *)VAL_ENUM_NAME(v);
	if (v->btyp == NCX_BT_BOOLEAN)
		return VAL_BOOL(v) ? "true" : "false";
	return (const char *)VAL_STR(v);
}

/* Reads the route-server subtree of a config root into c. */
static void conf_from_root(const val_value_t *root, struct rs_nc_conf *c)
{
	val_value_t *rs, *inst, *nb;

	memset(c, 0, sizeof(*c));
	rs = root ? val_find_child(root, MOD, N("route-server")) : NULL;
	if (!rs)
		return;
	for (inst = val_find_child(rs, MOD, N("instance")); inst;
	     inst = val_find_next_child(rs, MOD, N("instance"), inst)) {
		const char *vrf = leaf_str(inst, "vrf");
		const char *b2b = leaf_str(inst, "branch-to-branch");
		struct rs_nc_inst *in;

		if (!vrf)
			continue;
		in = rs_nc_inst_get(c, vrf, true);
		in->b2b = b2b && !strcmp(b2b, "true");
		/* absent: the YANG default (expressroute) */
		in->pref = rs_nc_pref_from_name(
			leaf_str(inst, "routing-preference"));
		for (nb = val_find_child(inst, MOD, N("neighbor")); nb;
		     nb = val_find_next_child(inst, MOD, N("neighbor"), nb)) {
			const char *name = leaf_str(nb, "name");

			if (name)
				rs_nc_neigh_get(in, name, true)->role =
					rs_nc_role_from_yang(
						leaf_str(nb, "role"));
		}
	}
}

static bool conf_equal(struct rs_nc_conf *a, struct rs_nc_conf *b)
{
	size_t i, k;

	/* an instance with nothing configured equals a missing one */
	for (int pass = 0; pass < 2; pass++) {
		struct rs_nc_conf *x = pass ? b : a, *y = pass ? a : b;

		for (i = 0; i < x->n_inst; i++) {
			struct rs_nc_inst *xi = &x->inst[i];
			struct rs_nc_inst *yi =
				rs_nc_inst_get(y, xi->vrf, false);

			if (xi->b2b && (!yi || !yi->b2b))
				return false;
			if (xi->pref != (yi ? yi->pref : RS_NC_PREF_ER))
				return false;
			for (k = 0; k < xi->n_neigh; k++) {
				struct rs_nc_neigh *yn;

				if (!xi->neigh[k].role)
					continue;
				yn = yi ? rs_nc_neigh_get(yi, xi->neigh[k].name,
							  false)
					: NULL;
				if (!yn || yn->role != xi->neigh[k].role)
					return false;
			}
		}
	}
	return true;
}

/* ------------------------------------------------------------------ */
/* yuma123 enum leaves                                                */

/*
 * yuma123 2.13 keeps an enum value twice: v.enu.name (what it prints and
 * compares) and, for values made from a string by val_set_simple_val()
 * (default leaves it adds, leaves made with agt_make_leaf()), a malloced
 * copy in v.enu.dname. When an edit or a <commit> changes such a leaf in
 * place (val_merge), only name is updated; dname keeps the old value, and
 * val_clone() copies dname. cfg_fill_candidate_from_running() after every
 * <commit> clones running, so the candidate got the old value back (a role
 * changed by a commit showed its old value in the candidate; a routing
 * preference set after a delete of the leaf came back as expressroute,
 * and the next commit of an unrelated change reverted bgpd). Also, name
 * may then point into another node's dname.
 *
 * enums_fix() makes every enum leaf of the route-server config in running
 * and the candidate point at the module's own enum string (no dname), so
 * clones and merges are right. It runs before yuma123 merges anything
 * (edit VALIDATE callbacks, commit-validate hook), after a commit, and on
 * the trees the SIL builds. Two passes: every name is read before any
 * dname is freed, as a name may point at another node's dname.
 */
struct dname_list {
	xmlChar **p;
	size_t n, cap;
};

static void enums_fix_node(val_value_t *v, struct dname_list *freeq)
{
	val_value_t *ch;

	if (!v || val_is_virtual(v))
		return;
	if (v->btyp == NCX_BT_ENUM && v->v.enu.dname && v->obj) {
		typ_def_t *typdef = obj_get_typdef(v->obj);
		const xmlChar *sname = NULL;
		int32 num = 0;

		if (typdef && v->v.enu.name &&
		    val_enum_ok(typdef, v->v.enu.name, &num, &sname) == NO_ERR &&
		    sname) {
			if (freeq->n == freeq->cap) {
				freeq->cap = freeq->cap * 2 + 16;
				freeq->p = realloc(freeq->p,
						   freeq->cap * sizeof(*freeq->p));
				if (!freeq->p)
					abort();
			}
			freeq->p[freeq->n++] = v->v.enu.dname;
			v->v.enu.dname = NULL;
			v->v.enu.name = sname;
			v->v.enu.val = num;
		} else {
			log_warn("\nfrr-bgp-route-server: enum leaf %s: value not resolved",
				 (const char *)v->name);
		}
		return;
	}
	for (ch = val_get_first_child(v); ch; ch = val_get_next_child(ch))
		enums_fix_node(ch, freeq);
}

static void enums_fix_tree(val_value_t *root, struct dname_list *freeq)
{
	if (root && xml_strcmp(root->name, N("route-server")))
		root = val_find_child(root, MOD, N("route-server"));
	enums_fix_node(root, freeq);
}

static void dname_list_free(struct dname_list *freeq)
{
	for (size_t i = 0; i < freeq->n; i++)
		m__free(freeq->p[i]);
	free(freeq->p);
	memset(freeq, 0, sizeof(*freeq));
}

/* running and the candidate together (names may cross between them) */
static void enums_fix(void)
{
	struct dname_list freeq = {};

	enums_fix_tree(cfg_get_root(NCX_CFGID_RUNNING), &freeq);
	enums_fix_tree(cfg_get_root(NCX_CFGID_CANDIDATE), &freeq);
	dname_list_free(&freeq);
}

/* error-message strings must outlive the rpc-error record */
static char err_ring[32][1200];
static unsigned int err_next;

static void rec_err(ses_cb_t *scb, xml_msg_hdr_t *msghdr, val_value_t *errval,
		    const char *apptag, const char *fmt, ...)
{
	char *msg = err_ring[err_next++ % 32];
	ncx_errinfo_t ei;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(err_ring[0]), fmt, ap);
	va_end(ap);
	log_info("\nfrr-bgp-route-server: rejected: %s", msg);
	memset(&ei, 0, sizeof(ei));
	ei.error_app_tag = (xmlChar *)apptag;
	ei.error_message = (xmlChar *)msg;
	agt_record_error_errinfo(scb, msghdr, NCX_LAYER_CONTENT,
				 ERR_NCX_OPERATION_FAILED, NULL,
				 errval ? NCX_NT_VAL : NCX_NT_NONE, errval,
				 errval ? NCX_NT_VAL : NCX_NT_NONE, errval,
				 &ei);
}

/* ------------------------------------------------------------------ */
/* state (config false) from "show bgp [vrf X] route-server json"     */

static void add_leaf(obj_template_t *pobj, val_value_t *parent,
		     const char *name, const char *value)
{
	status_t res = NO_ERR;
	val_value_t *leaf;

	if (!value)
		return;
	leaf = agt_make_leaf(pobj, N(name), N(value), &res);
	if (leaf)
		val_add_child(leaf, parent);
	else
		log_warn("\nfrr-bgp-route-server: leaf %s='%s': %s", name,
			 value, get_error_string(res));
}

static status_t state_get(ses_cb_t *scb, getcb_mode_t cbmode,
			  const val_value_t *virval, val_value_t *dstval)
{
	const val_value_t *inst = virval->parent;
	const char *vrf = inst ? leaf_str(inst, "vrf") : NULL;
	obj_template_t *sobj = dstval->obj;
	obj_template_t *nobj = obj_find_child(sobj, MOD, N("neighbor"));
	struct json_object *j, *arr, *neighs;
	char cmd[128], *out = NULL;
	const char *c = cmd;

	(void)scb;
	if (cbmode != GETCB_GET_VALUE)
		return ERR_NCX_OPERATION_NOT_SUPPORTED;
	if (!vrf)
		return NO_ERR;
	if (!strcmp(vrf, "default"))
		snprintf(cmd, sizeof(cmd), "show bgp route-server json");
	else
		snprintf(cmd, sizeof(cmd), "show bgp vrf %s route-server json",
			 vrf);
	if (rs_frr_vtysh(&c, 1, &out) < 0) {
		log_warn("\nfrr-bgp-route-server: %s: %s", cmd, out);
		free(out);
		return NO_ERR; /* empty state rather than a failed <get> */
	}
	j = json_tokener_parse(out);
	free(out);
	if (!j)
		return NO_ERR;
	if (json_object_object_get_ex(j, "warnings", &arr) &&
	    json_object_is_type(arr, json_type_array)) {
		size_t i, n = json_object_array_length(arr);

		for (i = 0; i < n; i++)
			add_leaf(sobj, dstval, "warning",
				 json_object_get_string(
					 json_object_array_get_idx(arr, i)));
	}
	if (nobj && json_object_object_get_ex(j, "neighbors", &neighs) &&
	    json_object_is_type(neighs, json_type_object)) {
		json_object_object_foreach(neighs, name, jn)
		{
			val_value_t *lv = val_new_value();
			struct json_object *f;
			static const char *const nums[][2] = {
				{ "prefixesReceived", "prefixes-received" },
				{ "prefixesAdvertised", "prefixes-advertised" },
				{ "prefixesWithheld", "prefixes-withheld" },
				{ "prefixesAlternatePath",
				  "prefixes-alternate-path" },
			};

			if (!lv)
				break;
			val_init_from_template(lv, nobj);
			add_leaf(nobj, lv, "name", name);
			if (json_object_object_get_ex(jn, "role", &f))
				add_leaf(nobj, lv, "role",
					 json_object_get_string(f));
			if (json_object_object_get_ex(jn, "roleInheritedFrom",
						      &f))
				add_leaf(nobj, lv, "role-inherited-from",
					 json_object_get_string(f));
			if (json_object_object_get_ex(jn, "bgpState", &f))
				add_leaf(nobj, lv, "session-state",
					 json_object_get_string(f));
			for (size_t k = 0; k < sizeof(nums) / sizeof(nums[0]);
			     k++)
				if (json_object_object_get_ex(jn, nums[k][0],
							      &f))
					add_leaf(nobj, lv, nums[k][1],
						 json_object_get_string(f));
			if (val_gen_index_chain(nobj, lv) != NO_ERR) {
				val_free_value(lv);
				continue;
			}
			val_add_child(lv, dstval);
		}
	}
	json_object_put(j);
	return NO_ERR;
}

/* Adds the virtual state container to an instance entry (once). */
static void add_state(val_value_t *inst)
{
	obj_template_t *sobj;
	val_value_t *v;

	if (!inst || val_find_child(inst, MOD, N("state")))
		return;
	sobj = obj_find_child(inst->obj, MOD, N("state"));
	v = sobj ? val_new_value() : NULL;
	if (!v)
		return;
	val_init_virtual(v, state_get, sobj);
	val_add_child(v, inst);
}

/* ------------------------------------------------------------------ */
/* commit validate / complete                                         */

static status_t rs_commit_validate(ses_cb_t *scb, xml_msg_hdr_t *msghdr,
				   val_value_t *root);
static status_t rs_commit_complete(void);
static status_t apply_conf(const struct rs_nc_conf *want, bool save,
			   ses_cb_t *scb, xml_msg_hdr_t *msghdr,
			   bool *changed);
static status_t apply_running(ses_cb_t *scb, xml_msg_hdr_t *msghdr,
			      bool save);
static bool target_is_running(void);

/* ------------------------------------------------------------------ */
/* edit callbacks                                                     */

/*
 * --target=running: netconfd runs the commit-validate / commit-complete
 * hooks only for <commit>, so an edit-config on running does the same
 * work here. In the COMMIT phase the whole edit is already in the running
 * tree (APPLY phase); an error returned now makes netconfd undo it
 * (running unchanged) and becomes the <rpc-error>. Several nodes of one
 * edit each get a COMMIT callback: the work is done once per message
 * (marked in the VALIDATE phase, which always comes first).
 */
static rpc_msg_t *rs_pending_msg;

static bool target_is_running(void)
{
	agt_profile_t *p = agt_get_profile();

	return p && p->agt_targ == NCX_AGT_TARG_RUNNING;
}

static status_t running_edit(ses_cb_t *scb, rpc_msg_t *msg, agt_cbtyp_t cbtyp)
{
	status_t res;

	if (cbtyp == AGT_CB_VALIDATE)
		enums_fix(); /* before yuma123 merges the edit */
	if (!rs_ready || !msg || !target_is_running())
		return NO_ERR;
	if (cbtyp == AGT_CB_VALIDATE) {
		rs_pending_msg = msg;
		return NO_ERR;
	}
	if (cbtyp != AGT_CB_COMMIT || msg != rs_pending_msg)
		return NO_ERR;
	rs_pending_msg = NULL;
	res = rs_commit_validate(scb, &msg->mhdr,
				 cfg_get_root(NCX_CFGID_RUNNING));
	if (res != NO_ERR)
		return res;
	return apply_running(scb, &msg->mhdr, true);
}

/* Whether another sibling of v has the same name and, for a list entry,
 * the same key. Either one: when the leaf exists in the target, yuma123
 * calls the callback for one of the two nodes only (not always the later).
 */
static bool dup_other(val_value_t *parent, val_value_t *v, const char *key)
{
	const char *k = key ? leaf_str(v, key) : NULL;
	val_value_t *o;

	for (o = val_find_child(parent, MOD, v->name); o;
	     o = val_find_next_child(parent, MOD, v->name, o)) {
		const char *ok = key && o != v ? leaf_str(o, key) : NULL;

		if (o != v && (!key || (k && ok && !strcmp(k, ok))))
			return true;
	}
	return false;
}

static status_t dup_err(ses_cb_t *scb, rpc_msg_t *msg, val_value_t *v,
			const char *key)
{
	const char *k = key ? leaf_str(v, key) : NULL;

	rec_err(scb, &msg->mhdr, v, "duplicate-node",
		"%s%s%s given twice in one edit", (const char *)v->name,
		k ? " " : "", k ? k : "");
	return ERR_NCX_OPERATION_FAILED;
}

/*
 * yuma123 takes an edit that names a leaf or a list entry twice and keeps
 * one of the values (not always the last one): refuse it, so that an edit
 * means one thing. v is a node of the edit's own tree (VALIDATE phase):
 * the callback sees every node of the edit below an instance.
 */
static status_t check_duplicate(ses_cb_t *scb, rpc_msg_t *msg, val_value_t *v)
{
	val_value_t *p = v ? v->parent : NULL;
	const char *key = NULL;

	if (!p)
		return NO_ERR;
	if (!xml_strcmp(v->name, N("instance")))
		key = "vrf";
	else if (!xml_strcmp(v->name, N("neighbor")))
		key = "name";
	else if (xml_strcmp(v->name, N("branch-to-branch")) &&
		 xml_strcmp(v->name, N("routing-preference")) &&
		 xml_strcmp(v->name, N("role")))
		return NO_ERR;
	if (dup_other(p, v, key))
		return dup_err(scb, msg, v, key);
	/* the instance entry itself given twice */
	if (!xml_strcmp(p->name, N("instance")) && p->parent &&
	    dup_other(p->parent, p, "vrf"))
		return dup_err(scb, msg, p, "vrf");
	return NO_ERR;
}

static status_t rs_edit(ses_cb_t *scb, rpc_msg_t *msg, agt_cbtyp_t cbtyp,
			op_editop_t editop, val_value_t *newval,
			val_value_t *curval)
{
	if (LOGDEBUG)
		log_debug("\nfrr-bgp-route-server: route-server %s %s new=%p cur=%p",
			  agt_cbtype_name(cbtyp), op_editop_name(editop),
			  (void *)newval, (void *)curval);
	return running_edit(scb, msg, cbtyp);
}

/* keeps the state container on instance entries */
static status_t instance_edit(ses_cb_t *scb, rpc_msg_t *msg,
			      agt_cbtyp_t cbtyp, op_editop_t editop,
			      val_value_t *newval, val_value_t *curval)
{
	if (LOGDEBUG)
		log_debug("\nfrr-bgp-route-server: instance %s %s new=%p (%s, parent %s) cur=%p",
			  agt_cbtype_name(cbtyp), op_editop_name(editop),
			  (void *)newval, newval ? (const char *)newval->name : "-",
			  newval && newval->parent ? (const char *)newval->parent->name : "-",
			  (void *)curval);
	if (cbtyp == AGT_CB_VALIDATE && msg &&
	    check_duplicate(scb, msg, newval) != NO_ERR)
		return ERR_NCX_OPERATION_FAILED;
	if (cbtyp == AGT_CB_COMMIT && newval && editop != OP_EDITOP_DELETE &&
	    editop != OP_EDITOP_REMOVE)
		add_state(newval);
	return running_edit(scb, msg, cbtyp);
}

static status_t rs_commit_validate(ses_cb_t *scb, xml_msg_hdr_t *msghdr,
				   val_value_t *root)
{
	struct rs_nc_conf want, live;
	val_value_t *rs, *inst, *nb;
	char err[600];
	status_t res = NO_ERR;

	/* root is the candidate (or, --target=running, running) */
	enums_fix();
	if (!rs_ready)
		return NO_ERR;
	if (!target_is_running())
		rs_confirm_tick(); /* a refused <commit> bgpd had taken */
	rs = val_find_child(root, MOD, N("route-server"));
	conf_from_root(root, &want);
	if (LOGDEBUG)
		log_debug("\nfrr-bgp-route-server: commit-validate (%zu instances)",
			  want.n_inst);
	if (rs_frr_read(&live, err, sizeof(err)) < 0) {
		rec_err(scb, msghdr, rs, "bgpd-unreachable", "%s", err);
		rs_nc_conf_free(&want);
		return ERR_NCX_OPERATION_FAILED;
	}
	for (inst = rs ? val_find_child(rs, MOD, N("instance")) : NULL; inst;
	     inst = val_find_next_child(rs, MOD, N("instance"), inst)) {
		const char *vrf = leaf_str(inst, "vrf");
		struct rs_nc_inst *li = vrf ? rs_nc_inst_get(&live, vrf, false)
					    : NULL;
		struct rs_nc_inst *wi = vrf ? rs_nc_inst_get(&want, vrf, false)
					    : NULL;
		unsigned int n[4];

		if (!vrf || !wi)
			continue;
		/* bgpd refuses these (xpath keys are quoted with '...') */
		if (strchr(vrf, '\'')) {
			rec_err(scb, msghdr, inst, "name-not-supported",
				"vrf %s: a name with a quote (') cannot have route-server configuration",
				vrf);
			res = ERR_NCX_OPERATION_FAILED;
			continue;
		}
		if (!li) {
			rec_err(scb, msghdr, inst, "bgp-instance-not-found",
				"BGP instance for vrf %s does not exist in bgpd (router bgp ASN%s%s)",
				vrf, strcmp(vrf, "default") ? " vrf " : "",
				strcmp(vrf, "default") ? vrf : "");
			res = ERR_NCX_OPERATION_FAILED;
			continue;
		}
		for (nb = val_find_child(inst, MOD, N("neighbor")); nb;
		     nb = val_find_next_child(inst, MOD, N("neighbor"), nb)) {
			const char *name = leaf_str(nb, "name");

			if (name && strchr(name, '\'')) {
				rec_err(scb, msghdr, nb, "name-not-supported",
					"neighbor %s: a name with a quote (') cannot have route-server configuration",
					name);
				res = ERR_NCX_OPERATION_FAILED;
			} else if (name && !rs_nc_neigh_get(li, name, false)) {
				rec_err(scb, msghdr, nb, "neighbor-not-found",
					"neighbor %s does not exist in the BGP instance of vrf %s (%% Specify remote-as or peer-group commands first)",
					name, vrf);
				res = ERR_NCX_OPERATION_FAILED;
			}
		}
		rs_nc_count_roles(li, wi, n);
		if (wi->b2b && n[RS_NC_ER] > 0 && n[RS_NC_VPN] > 0 &&
		    n[RS_NC_VPN] < 2) {
			val_value_t *b2b = val_find_child(
				inst, MOD, N("branch-to-branch"));

			rec_err(scb, msghdr, b2b ? b2b : inst,
				"active-active-vpn-required",
				"vrf %s: branch-to-branch with an ExpressRoute gateway needs an active-active VPN gateway (2 gateway vpn neighbors), %u configured",
				vrf, n[RS_NC_VPN]);
			res = ERR_NCX_OPERATION_FAILED;
		}
	}
	/* <commit> of the candidate: bgpd takes the change now, the last
	 * check before netconfd touches running. A failure then leaves
	 * running and the candidate as they are (a failure in the
	 * commit-complete hook would leave the new running in place).
	 */
	if (res == NO_ERR && !target_is_running() &&
	    rs_confirm_refuses(scb, msghdr))
		res = ERR_NCX_IN_USE_COMMIT;
	if (res == NO_ERR && !target_is_running()) {
		struct rs_nc_conf base, merged;
		bool changed = false;

		/* only what the commit changes: a change made with vtysh
		 * since running was last taken from bgpd stays
		 */
		conf_from_root(cfg_get_root(NCX_CFGID_RUNNING), &base);
		rs_nc_merge(&base, &want, &live, &merged);
		/* saved when the commit is complete, or confirmed */
		res = apply_conf(&merged, false, scb, msghdr, &changed);
		if (changed)
			rs_confirm_changed(&live);
		rs_nc_conf_free(&base);
		rs_nc_conf_free(&merged);
	}
	rs_nc_conf_free(&want);
	rs_nc_conf_free(&live);
	return res;
}

/* Makes bgpd equal to want, all or nothing (rs_frr_apply): on failure
 * bgpd is as before and the client gets an rpc-error naming the failing
 * command.
 */
static status_t apply_conf(const struct rs_nc_conf *want, bool save,
			   ses_cb_t *scb, xml_msg_hdr_t *msghdr,
			   bool *changed)
{
	char err[1200];
	int rc = rs_frr_apply(want, save, err, sizeof(err));

	if (changed)
		*changed = rc > 0;
	/* NETCONF's own change: no config-changed notification for it */
	rs_notify_config_applied(rc < 0 ? NULL : want);
	if (rc < 0) {
		log_error("\nfrr-bgp-route-server: apply to bgpd failed: %s",
			  err);
		if (scb && msghdr)
			rec_err(scb, msghdr, NULL, "bgpd-apply-failed", "%s",
				err);
		return ERR_NCX_OPERATION_FAILED;
	}
	if (LOGDEBUG)
		log_debug("\nfrr-bgp-route-server: applied to bgpd");
	return NO_ERR;
}

/* running to bgpd: edit-config with --target=running, and a confirmed
 * commit rolled back by netconfd
 */
static status_t apply_running(ses_cb_t *scb, xml_msg_hdr_t *msghdr,
			      bool save)
{
	struct rs_nc_conf want;
	status_t res;

	enums_fix();
	if (!rs_ready)
		return NO_ERR;
	conf_from_root(cfg_get_root(NCX_CFGID_RUNNING), &want);
	res = apply_conf(&want, save, scb, msghdr, NULL);
	rs_nc_conf_free(&want);
	return res;
}

/* running was rolled back by netconfd (confirmed commit not confirmed) */
static bool rollback_running(bool save)
{
	return apply_running(NULL, NULL, save) == NO_ERR;
}

static status_t rs_commit_complete(void)
{
	/* before netconfd clones running into the candidate */
	enums_fix();
	if (rs_ready)
		rs_confirm_commit_done();
	return NO_ERR;
}

/* ------------------------------------------------------------------ */
/* bgpd -> running                                                    */

static val_value_t *build_tree(const struct rs_nc_conf *live)
{
	obj_template_t *iobj = obj_find_child(rs_obj, MOD, N("instance"));
	obj_template_t *nobj = obj_find_child(iobj, MOD, N("neighbor"));
	val_value_t *rs = val_new_value();
	size_t i, k;

	val_init_from_template(rs, rs_obj);
	for (i = 0; i < live->n_inst; i++) {
		const struct rs_nc_inst *li = &live->inst[i];
		bool any = li->b2b || li->pref != RS_NC_PREF_ER;
		val_value_t *iv;

		for (k = 0; k < li->n_neigh; k++)
			any |= li->neigh[k].role != RS_NC_NONE;
		if (!any)
			continue;
		iv = val_new_value();
		val_init_from_template(iv, iobj);
		add_leaf(iobj, iv, "vrf", li->vrf);
		if (li->b2b)
			add_leaf(iobj, iv, "branch-to-branch", "true");
		/* as bgpd's running-config: only when not the default */
		if (li->pref != RS_NC_PREF_ER)
			add_leaf(iobj, iv, "routing-preference",
				 rs_nc_pref_name(li->pref));
		for (k = 0; k < li->n_neigh; k++) {
			val_value_t *nv;

			if (!li->neigh[k].role)
				continue;
			nv = val_new_value();
			val_init_from_template(nv, nobj);
			add_leaf(nobj, nv, "name", li->neigh[k].name);
			add_leaf(nobj, nv, "role",
				 rs_nc_role_yang(li->neigh[k].role));
			val_gen_index_chain(nobj, nv);
			val_add_child(nv, iv);
		}
		val_gen_index_chain(iobj, iv);
		add_state(iv);
		val_add_child(iv, rs);
	}
	/* agt_make_leaf() leaves enum values in dname */
	{
		struct dname_list freeq = {};

		enums_fix_tree(rs, &freeq);
		dname_list_free(&freeq);
	}
	return rs;
}

/* Rebuilds running (and a clean candidate) from bgpd when they differ.
 * Returns 1 if changed, 0 if equal, -1 if bgpd is unreachable or busy.
 */
static int sync_from_bgpd(bool startup)
{
	cfg_template_t *run = cfg_get_config_id(NCX_CFGID_RUNNING);
	cfg_template_t *cand = cfg_get_config_id(NCX_CFGID_CANDIDATE);
	struct rs_nc_conf live, cur;
	val_value_t *old, *neu;
	char err[600];
	int changed;

	if (!run || !run->root)
		return -1;
	if (!startup &&
	    (cfg_is_global_locked(run) || cfg_is_partial_locked(run) ||
	     (cand && (cfg_is_global_locked(cand) ||
		       cfg_get_dirty_flag(cand))))) {
		if (LOGDEBUG)
			log_debug("\nfrr-bgp-route-server: sync skipped (locked or candidate has pending edits)");
		return -1;
	}
	if (rs_frr_read(&live, err, sizeof(err)) < 0) {
		if (startup)
			log_warn("\nfrr-bgp-route-server: %s; keeping the saved config until bgpd is back",
				 err);
		return -1;
	}
	conf_from_root(run->root, &cur);
	changed = !conf_equal(&cur, &live);
	rs_nc_conf_free(&cur);
	if (changed) {
		log_info("\nfrr-bgp-route-server: running config taken from bgpd (bgpd is authoritative)");
		neu = build_tree(&live);
		old = val_find_child(run->root, MOD, N("route-server"));
		if (old) {
			val_remove_child(old);
			val_free_value(old);
		}
		if (val_child_cnt(neu))
			val_add_child(neu, run->root);
		else
			val_free_value(neu);
		cfg_update_last_ch_time(run);
		if (cand && cfg_get_root(NCX_CFGID_CANDIDATE))
			cfg_fill_candidate_from_running();
	}
	rs_nc_conf_free(&live);
	return changed;
}

static int sync_timer(uint32 timer_id, void *cookie)
{
	(void)timer_id;
	(void)cookie;
	if (LOGDEBUG2)
		log_debug2("\nfrr-bgp-route-server: sync timer");
	/* running is taken from bgpd only once bgpd has what NETCONF
	 * committed (a rollback that failed is retried first)
	 */
	if (rs_confirm_tick())
		sync_from_bgpd(false);
	rs_nacm_refresh(); /* NACM groups follow the system groups */
	return 0;
}

/* ------------------------------------------------------------------ */
/* init / cleanup                                                     */

status_t y_frr_bgp_route_server_init(const xmlChar *modname,
				     const xmlChar *revision)
{
	agt_profile_t *agt_profile = agt_get_profile();
	status_t res;

	rs_ready = false;
	rs_frr_settings_load();
	if (xml_strcmp(modname, MOD))
		return ERR_NCX_UNKNOWN_MODULE;
	if (revision && xml_strcmp(revision, REV))
		return ERR_NCX_WRONG_VERSION;
	/* whichever revision --modpath has, to say clearly when it is not
	 * the one this SIL was written for
	 */
	res = ncxmod_load_module(MOD, NULL, &agt_profile->agt_savedevQ,
				 &rs_mod);
	if (res != NO_ERR)
		return res;
	if (!rs_mod->version || xml_strcmp(rs_mod->version, REV)) {
		log_error("\nError: frr-bgp-route-server SIL implements revision "
			  REV_STR " of the module, netconfd loaded revision %s "
			  "(update the SIL for the new revision and rebuild: "
			  "make -C netconf)",
			  rs_mod->version ? (const char *)rs_mod->version
					  : "(none)");
		return ERR_NCX_WRONG_VERSION;
	}
	rs_obj = ncx_find_object(rs_mod, N("route-server"));
	if (!rs_obj)
		return SET_ERROR(ERR_NCX_DEF_NOT_FOUND);
	res = agt_cb_register_callback(MOD, N("/route-server/instance"), REV,
				       instance_edit);
	if (res != NO_ERR)
		return res;
	res = agt_cb_register_callback(MOD, N("/route-server"), REV, rs_edit);
	if (res != NO_ERR)
		return res;
	res = agt_commit_validate_register(MOD, rs_commit_validate);
	if (res != NO_ERR)
		return res;
	res = rs_confirm_init(rollback_running);
	if (res != NO_ERR)
		return res;
	res = rs_nacm_init();
	if (res != NO_ERR)
		return res;
	return agt_commit_complete_register(MOD, rs_commit_complete);
}

status_t y_frr_bgp_route_server_init2(void)
{
	cfg_template_t *run = cfg_get_config_id(NCX_CFGID_RUNNING);
	val_value_t *rs, *inst;
	const char *iv = getenv("FRR_RS_SYNC_INTERVAL");
	int interval = iv && *iv ? atoi(iv) : 30;

	/* instances loaded from the startup file get their state node */
	rs = run && run->root ? val_find_child(run->root, MOD,
					       N("route-server"))
			      : NULL;
	for (inst = rs ? val_find_child(rs, MOD, N("instance")) : NULL; inst;
	     inst = val_find_next_child(rs, MOD, N("instance"), inst))
		add_state(inst);
	rs_confirm_restart_rollback();
	sync_from_bgpd(true);
	enums_fix(); /* the startup file's tree and its default leaves */
	rs_nacm_refresh();
	if (interval > 0)
		if (agt_timer_create((uint32)interval, TRUE, sync_timer, NULL,
				     &rs_timer_id) != NO_ERR)
			log_error("\nfrr-bgp-route-server: no sync timer");
	rs_notify_init("frr-bgp-route-server", REV_STR);
	rs_ready = true;
	return NO_ERR;
}

void y_frr_bgp_route_server_cleanup(void)
{
	if (rs_timer_id)
		agt_timer_delete(rs_timer_id);
	rs_notify_cleanup();
	rs_confirm_cleanup();
	rs_nacm_cleanup();
	agt_commit_validate_unregister(MOD);
	agt_commit_complete_unregister(MOD);
	agt_cb_unregister_callbacks(MOD, N("/route-server/instance"));
	agt_cb_unregister_callbacks(MOD, N("/route-server"));
}
