// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * NACM support for the route-server SIL: session identity from the socket
 * peer, NACM groups from the system groups, /nacm read-only over NETCONF.
 * See rs_nacm.h and netconf/README.md "Access control (NACM)".
 */
#define _GNU_SOURCE /* struct ucred */
/* yuma's include dirs (-I .../yuma/ncx) have a grp.h of their own (YANG
 * groupings) that hides the C library's
 */
#include "/usr/include/grp.h"
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

#include "procdefs.h"
#include "agt.h"
#include "agt_cb.h"
#include "agt_not.h"
#include "agt_not_queue_notification_cb.h"
#include "agt_ses.h"
#include "agt_util.h"
#include "cfg.h"
#include "dlq.h"
#include "log.h"
#include "ncxtypes.h"
#include "obj.h"
#include "rpc.h"
#include "ses.h"
#include "status.h"
#include "val.h"
#include "xml_util.h"

#include "rs_nacm.h"

#define ACM (const xmlChar *)"ietf-netconf-acm"
/* the key of our queued-notification callback (one per key) */
#define NOTIF_KEY (const xmlChar *)"frr-bgp-route-server/nacm"
#define X(s) (const xmlChar *)(s)

/* ------------------------------------------------------------------ */
/* session identity                                                   */

/*
 * netconfd takes the user name from the client's <ncx-connect> message
 * (netconf-subsystem sends $USER) and NACM trusts it. The socket is
 * reachable by every NETCONF user, so the name must be checked against
 * the kernel's word: the uid of the process that connected the socket.
 * Root gets no exception: root's sessions are "root" (in no NACM group
 * unless made a member), a root process cannot claim another name.
 * netconfd queues <netconf-session-start> right after it accepted the
 * <ncx-connect> and before it reads anything else of the session, so
 * closing the session here means it never runs an operation.
 */
static bool peer_name(int fd, char *buf, size_t len, unsigned int *uid)
{
	struct ucred uc;
	socklen_t ulen = sizeof(uc);
	struct passwd pw, *res = NULL;
	char pwbuf[1024];

	*uid = (unsigned int)-1;
	if (fd < 0 || getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &ulen) < 0)
		return false;
	*uid = uc.uid;
	if (getpwuid_r(uc.uid, &pw, pwbuf, sizeof(pwbuf), &res) || !res)
		return false;
	snprintf(buf, len, "%s", pw.pw_name);
	return true;
}

static bool in_a_group(const char *name);

static void check_session(ses_id_t sid)
{
	ses_cb_t *scb = agt_ses_get_session_for_id(sid);
	char name[256];
	unsigned int uid;

	if (!scb || scb->type == SES_TYP_DUMMY)
		return;
	if (!peer_name(scb->fd, name, sizeof(name), &uid)) {
		log_warn("\nfrr-bgp-route-server: session %u (user '%s'): no user for the socket peer (uid %d): session closed",
			 sid, scb->username ? (const char *)scb->username : "",
			 (int)uid);
	} else if (!scb->username ||
		   strcmp((const char *)scb->username, name)) {
		log_warn("\nfrr-bgp-route-server: session %u claims user '%s' but the socket peer is user '%s' (uid %u): session closed",
			 sid,
			 scb->username ? (const char *)scb->username : "",
			 name, uid);
	} else if (!in_a_group(name)) {
		log_warn("\nfrr-bgp-route-server: session %u: user '%s' is in neither NETCONF group: session closed",
			 sid, name);
	} else {
		if (LOGDEBUG)
			log_debug("\nfrr-bgp-route-server: session %u: user '%s' = socket peer uid %u",
				  sid, name, uid);
		return;
	}
	agt_ses_request_close(scb, scb->sid, SES_TR_BAD_START);
}

/* sees every notification netconfd queues: picks <netconf-session-start> */
static status_t notif_queued(agt_not_msg_t *notif)
{
	val_value_t *v;

	if (!notif || !notif->notobj ||
	    xml_strcmp(obj_get_name(notif->notobj),
		       X("netconf-session-start")))
		return NO_ERR;
	for (v = (val_value_t *)dlq_firstEntry(&notif->payloadQ); v;
	     v = (val_value_t *)dlq_nextEntry(v))
		if (!xml_strcmp(v->name, X("session-id")))
			check_session((ses_id_t)VAL_UINT(v));
	return NO_ERR;
}

/* ------------------------------------------------------------------ */
/* /nacm is read-only over NETCONF                                    */

/*
 * yuma123's NACM does not stop an operator from replacing <nacm> as a
 * whole (an update of a container is permitted by the first update rule
 * of the user's groups, and the children dropped by a "replace" are not
 * checked): with --target=running, <nacm nc:operation="replace"/> would
 * remove every rule. The rules also deny /nacm writes; this callback
 * refuses any change of /nacm that comes from a session.
 */
static status_t nacm_edit(ses_cb_t *scb, rpc_msg_t *msg, agt_cbtyp_t cbtyp,
			  op_editop_t editop, val_value_t *newval,
			  val_value_t *curval)
{
	static char why[] =
		"the NACM configuration cannot be changed over NETCONF: it is netconf/config/nacm.xml and the system groups (see netconf/README.md)";
	ncx_errinfo_t ei;

	(void)newval;
	(void)curval;
	if (cbtyp != AGT_CB_VALIDATE || editop == OP_EDITOP_LOAD || !scb ||
	    !msg || scb->type == SES_TYP_DUMMY)
		return NO_ERR;
	log_warn("\nfrr-bgp-route-server: session %u (user '%s'): %s edit of /nacm refused",
		 scb->sid,
		 scb->username ? (const char *)scb->username : "",
		 op_editop_name(editop));
	memset(&ei, 0, sizeof(ei));
	ei.error_app_tag = (xmlChar *)"nacm-read-only";
	ei.error_message = (xmlChar *)why;
	agt_record_error_errinfo(scb, &msg->mhdr, NCX_LAYER_OPERATION,
				 ERR_NCX_ACCESS_DENIED, NULL, NCX_NT_NONE,
				 NULL, NCX_NT_NONE, NULL, &ei);
	return ERR_NCX_ACCESS_DENIED;
}

/* ------------------------------------------------------------------ */
/* NACM groups from the system groups                                 */

struct names {
	char **v;
	size_t n, cap;
};

static void names_add(struct names *s, const char *name)
{
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->v[i], name))
			return;
	if (s->n == s->cap) {
		s->cap = s->cap * 2 + 8;
		s->v = realloc(s->v, s->cap * sizeof(*s->v));
		if (!s->v)
			abort();
	}
	s->v[s->n] = strdup(name);
	if (!s->v[s->n])
		abort();
	s->n++;
}

static bool names_has(const struct names *s, const char *name)
{
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->v[i], name))
			return true;
	return false;
}

static void names_free(struct names *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	memset(s, 0, sizeof(*s));
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* members and users whose primary group it is; none if no such group */
static void group_users(const char *group, struct names *out)
{
	struct group *gr = getgrnam(group);
	struct passwd *pw;
	gid_t gid;

	if (!gr)
		return;
	gid = gr->gr_gid;
	for (char **m = gr->gr_mem; m && *m; m++)
		names_add(out, *m);
	setpwent();
	while ((pw = getpwent()))
		if (pw->pw_gid == gid)
			names_add(out, pw->pw_name);
	endpwent();
	qsort(out->v, out->n, sizeof(*out->v), cmp_str);
}

static val_value_t *nacm_group(val_value_t *root, const char *name)
{
	val_value_t *nacm = root ? val_find_child(root, ACM, X("nacm")) : NULL;
	val_value_t *groups = nacm ? val_find_child(nacm, ACM, X("groups"))
				   : NULL;
	val_value_t *g, *n;

	for (g = groups ? val_find_child(groups, ACM, X("group")) : NULL; g;
	     g = val_find_next_child(groups, ACM, X("group"), g)) {
		n = val_find_child(g, ACM, X("name"));
		if (n && !xml_strcmp(VAL_STR(n), X(name)))
			return g;
	}
	return NULL;
}

/* Makes the group's user-name leaf-list equal to want (sorted). */
static bool set_users(val_value_t *g, const struct names *want)
{
	val_value_t *u, *next;
	size_t i = 0;
	bool same = true;

	for (u = val_find_child(g, ACM, X("user-name")); u;
	     u = val_find_next_child(g, ACM, X("user-name"), u), i++)
		if (i >= want->n || xml_strcmp(VAL_STR(u), X(want->v[i])))
			same = false;
	if (same && i == want->n)
		return false;
	for (u = val_find_child(g, ACM, X("user-name")); u; u = next) {
		next = val_find_next_child(g, ACM, X("user-name"), u);
		val_remove_child(u);
		val_free_value(u);
	}
	for (i = 0; i < want->n; i++) {
		status_t res = NO_ERR;
		val_value_t *leaf = agt_make_leaf(g->obj, X("user-name"),
						  X(want->v[i]), &res);

		if (leaf)
			val_add_child(leaf, g);
		else
			log_warn("\nfrr-bgp-route-server: NACM user-name '%s': %s",
				 want->v[i], get_error_string(res));
	}
	return true;
}

static const char *env_or(const char *name, const char *def)
{
	const char *v = getenv(name);

	return v && *v ? v : def;
}

/* The socket is reachable by every local user (identity is checked
 * here instead): one in neither group gets no session at all, rather
 * than a session NACM denies everything in.
 */
static bool in_a_group(const char *name)
{
	const char *sys[2] = {
		env_or("RS_NC_GROUP", "netconf-operators"),
		env_or("RS_NC_READ_GROUP", "netconf-readers"),
	};
	bool found = false;

	for (int k = 0; k < 2 && !found; k++) {
		struct names n = {};

		group_users(sys[k], &n);
		found = names_has(&n, name);
		names_free(&n);
	}
	return found;
}

int rs_nacm_refresh(void)
{
	static const char *const nacm_names[2] = { "operators", "readers" };
	const char *sys[2] = {
		env_or("RS_NC_GROUP", "netconf-operators"),
		env_or("RS_NC_READ_GROUP", "netconf-readers"),
	};
	struct names want[2] = {}, rd = {};
	val_value_t *roots[2] = { cfg_get_root(NCX_CFGID_RUNNING),
				  cfg_get_root(NCX_CFGID_CANDIDATE) };
	bool changed = false;

	if (!roots[0] || !val_find_child(roots[0], ACM, X("nacm")))
		return -1;
	group_users(sys[0], &want[0]);
	/* a user in both groups is an operator */
	group_users(sys[1], &rd);
	for (size_t i = 0; i < rd.n; i++)
		if (!names_has(&want[0], rd.v[i]))
			names_add(&want[1], rd.v[i]);
	names_free(&rd);
	/* running is what NACM reads; the candidate must have the same
	 * <nacm>, or the next <commit> would write the old lists back
	 */
	for (int r = 0; r < 2; r++)
		for (int k = 0; k < 2; k++) {
			val_value_t *g = nacm_group(roots[r], nacm_names[k]);

			if (g && set_users(g, &want[k]) && r == 0) {
				changed = true;
				log_info("\nfrr-bgp-route-server: NACM group %s = system group %s: %zu user(s)",
					 nacm_names[k], sys[k], want[k].n);
			}
		}
	names_free(&want[0]);
	names_free(&want[1]);
	/* sessions keep their user's groups in a cache until this */
	if (changed)
		agt_ses_invalidate_session_acm_caches();
	return changed;
}

/* ------------------------------------------------------------------ */

int rs_nacm_init(void)
{
	status_t res;

	res = agt_not_queue_notification_cb_register(NOTIF_KEY, notif_queued);
	if (res != NO_ERR)
		return res;
	return agt_cb_register_callback(ACM, X("/nacm"), NULL, nacm_edit);
}

void rs_nacm_cleanup(void)
{
	agt_not_queue_notification_cb_unregister(NOTIF_KEY);
	/* only ours: agt_acm has its own callback on /nacm */
	agt_cb_unregister_callback(ACM, X("/nacm"), nacm_edit);
}
