// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Confirmed commit for bgpd (see rs_confirm.h). netconfd restores running
 * from its backup file when a confirmed commit is not confirmed, through
 * a load that calls no commit hook of the SIL; it then queues the
 * ietf-netconf-notifications <netconf-confirmed-commit> event, the one
 * place every rollback and every confirmation passes through.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libxml/xmlstring.h>

#include "procdefs.h"
#include "agt_ncx.h"
#include "agt_not.h"
#include "agt_not_queue_notification_cb.h"
#include "agt_util.h"
#include "dlq.h"
#include "ncxconst.h"
#include "rpc.h"
#include "ses.h"
#include "log.h"
#include "obj.h"
#include "val.h"

#include "rs_confirm.h"
#include "rs_frr.h"

#define KEY (const xmlChar *)"frr-bgp-route-server/confirmed-commit"

static bool (*rs_rollback)(bool save);
static char *rs_before;	/* bgpd's lines before the commit in progress */
static bool rs_unsaved;	/* bgpd has changes not written to its config */
/* bgpd took a <commit> that netconfd has not completed (yet) */
static bool rs_inflight;
/* bgpd must go back to running (a rollback failed, or netconfd refused
 * a <commit> after bgpd took it); retried by rs_confirm_tick()
 */
static bool rs_rollback_due, rs_rollback_save;

/* bgpd's route-server lines before a pending confirmed commit */
static const char *rollback_file(void)
{
	static char path[4096];
	const char *home = getenv("HOME");

	snprintf(path, sizeof(path), "%s/confirmed-commit-rollback.conf",
		 home && *home ? home : ".");
	return path;
}

static void save(void)
{
	char err[600];

	if (!rs_unsaved)
		return;
	if (rs_frr_save(err, sizeof(err)) < 0) {
		log_error("\nfrr-bgp-route-server: %s", err);
		return;
	}
	rs_unsaved = false;
}

static void forget(void)
{
	if (unlink(rollback_file()) < 0 && errno != ENOENT)
		log_error("\nfrr-bgp-route-server: %s: %s", rollback_file(),
			  strerror(errno));
}

void rs_confirm_changed(const struct rs_nc_conf *before)
{
	free(rs_before);
	rs_before = rs_nc_format(before);
	rs_unsaved = true;
	rs_inflight = true;
}

static void rollback(bool save)
{
	rs_rollback_due = true;
	rs_rollback_save |= save;
	if (!rs_rollback || !rs_rollback(rs_rollback_save)) {
		log_error("\nfrr-bgp-route-server: bgpd could not be rolled back to running; trying again");
		return;
	}
	if (rs_rollback_save) {
		rs_unsaved = false;
		forget();
	}
	rs_rollback_due = rs_rollback_save = false;
}

bool rs_confirm_tick(void)
{
	if (rs_inflight) {
		/* commit-complete never came: netconfd refused the commit
		 * after bgpd took it (e.g. its backup file could not be
		 * written); bgpd goes back to running
		 */
		log_warn("\nfrr-bgp-route-server: a <commit> bgpd took was refused by netconfd after it: bgpd back to running");
		rs_inflight = false;
		free(rs_before);
		rs_before = NULL;
		rollback(!agt_ncx_cc_active());
	} else if (rs_rollback_due) {
		rollback(rs_rollback_save);
	}
	return !rs_rollback_due;
}

/* What commit_invoke() refuses after the commit-validate hook, when a
 * confirmed commit is pending (agt_ncx.c): checked before bgpd is touched.
 */
bool rs_confirm_refuses(ses_cb_t *scb, xml_msg_hdr_t *msghdr)
{
	rpc_msg_t *msg = (rpc_msg_t *)((char *)msghdr -
				       offsetof(rpc_msg_t, mhdr));
	const xmlChar *persist = agt_ncx_cc_persist_id();
	val_value_t *confirmed, *pid;
	status_t res = NO_ERR;

	if (!scb || !msghdr || !agt_ncx_cc_active() || !msg->rpc_input)
		return false;
	confirmed = val_find_child(msg->rpc_input, NULL, NCX_EL_CONFIRMED);
	pid = val_find_child(msg->rpc_input, NULL, NCX_EL_PERSIST_ID);
	if (confirmed) {
		if (pid && persist && !xmlStrcmp(VAL_STR(pid), persist))
			;
		else if (!persist) {
			if (agt_ncx_cc_ses_id() != SES_MY_SID(scb))
				res = ERR_NCX_IN_USE_COMMIT;
		} else {
			res = ERR_NCX_OPERATION_FAILED;
		}
	} else if (!pid && agt_ncx_cc_ses_id() != SES_MY_SID(scb)) {
		res = ERR_NCX_IN_USE_COMMIT;
	}
	if (res == NO_ERR)
		return false;
	log_info("\nfrr-bgp-route-server: commit of session %u refused: a confirmed commit of session %u is pending",
		 SES_MY_SID(scb), agt_ncx_cc_ses_id());
	agt_record_error(scb, msghdr, NCX_LAYER_OPERATION, res, NULL,
			 NCX_NT_NONE, NULL, NCX_NT_NONE, NULL);
	return true;
}

void rs_confirm_commit_done(void)
{
	rs_inflight = false;
	if (!agt_ncx_cc_active()) {
		save();
		forget();
	} else if (rs_before && access(rollback_file(), F_OK) < 0) {
		/* the first commit of the confirmed series: what to go back
		 * to, should netconfd stop before the confirmation
		 */
		char tmp[4200];
		FILE *f;
		bool ok;

		/* whole or not at all: a crash while writing leaves no file */
		snprintf(tmp, sizeof(tmp), "%s.new", rollback_file());
		f = fopen(tmp, "w");
		ok = f && fputs(rs_before, f) >= 0 && fflush(f) == 0 &&
		     fsync(fileno(f)) == 0;
		if (f && fclose(f) != 0)
			ok = false;
		if (!ok || rename(tmp, rollback_file()) < 0) {
			log_error("\nfrr-bgp-route-server: cannot write %s: %s",
				  rollback_file(), strerror(errno));
			unlink(tmp);
		}
	}
	free(rs_before);
	rs_before = NULL;
}

void rs_confirm_restart_rollback(void)
{
	struct rs_nc_conf want = {};
	char *text = NULL, err[1200];
	size_t cap = 0;
	ssize_t n;
	FILE *f = fopen(rollback_file(), "r");

	if (!f)
		return;
	n = getdelim(&text, &cap, '\0', f);
	fclose(f);
	if (n < 0) {
		free(text);
		forget();
		return;
	}
	rs_nc_parse_running(text, &want);
	free(text);
	/* once only: a later start must not apply an old state */
	if (rs_frr_apply(&want, true, err, sizeof(err)) < 0)
		log_error("\nfrr-bgp-route-server: a confirmed commit was pending when netconfd stopped; rolling bgpd back failed, bgpd keeps the unconfirmed change: %s",
			  err);
	else
		log_warn("\nfrr-bgp-route-server: a confirmed commit was pending when netconfd stopped: bgpd's route-server configuration rolled back");
	forget();
	rs_nc_conf_free(&want);
}

static status_t confirm_event(agt_not_msg_t *notif)
{
	const val_value_t *v;
	const char *ev = NULL;

	if (!notif->notobj ||
	    xmlStrcmp(obj_get_name(notif->notobj),
		      (const xmlChar *)"netconf-confirmed-commit"))
		return NO_ERR;
	for (v = (const val_value_t *)dlq_firstEntry(&notif->payloadQ); v;
	     v = (const val_value_t *)dlq_nextEntry(v))
		if (v->name &&
		    !xmlStrcmp(v->name, (const xmlChar *)"confirm-event"))
			ev = (const char *)VAL_ENUM_NAME(v);
	if (!ev)
		return NO_ERR;
	if (!strcmp(ev, "complete")) {
		save();
		forget();
	} else if (!strcmp(ev, "timeout") || !strcmp(ev, "cancel")) {
		log_info("\nfrr-bgp-route-server: confirmed commit rolled back (%s): rolling bgpd back",
			 ev);
		rollback(true);
	}
	return NO_ERR;
}

status_t rs_confirm_init(bool (*rollback_cb)(bool save))
{
	rs_rollback = rollback_cb;
	return agt_not_queue_notification_cb_register(KEY, confirm_event);
}

void rs_confirm_cleanup(void)
{
	agt_not_queue_notification_cb_unregister(KEY);
	rs_rollback = NULL;
	free(rs_before);
	rs_before = NULL;
}
