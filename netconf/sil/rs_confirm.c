// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Confirmed commit for bgpd (see rs_confirm.h). netconfd restores running
 * from its backup file when a confirmed commit is not confirmed, through
 * a load that calls no commit hook of the SIL; it then queues the
 * ietf-netconf-notifications <netconf-confirmed-commit> event, the one
 * place every rollback and every confirmation passes through.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libxml/xmlstring.h>

#include "procdefs.h"
#include "agt_ncx.h"
#include "agt_not.h"
#include "agt_not_queue_notification_cb.h"
#include "dlq.h"
#include "log.h"
#include "obj.h"
#include "val.h"

#include "rs_confirm.h"
#include "rs_frr.h"

#define KEY (const xmlChar *)"frr-bgp-route-server/confirmed-commit"

static bool (*rs_rollback)(void);
static char *rs_before;	/* bgpd's lines before the commit in progress */
static bool rs_unsaved;	/* bgpd has changes not written to its config */

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
}

void rs_confirm_commit_done(void)
{
	if (!agt_ncx_cc_active()) {
		save();
		forget();
	} else if (rs_before && access(rollback_file(), F_OK) < 0) {
		/* the first commit of the confirmed series: what to go back
		 * to, should netconfd stop before the confirmation
		 */
		FILE *f = fopen(rollback_file(), "w");

		if (!f || fputs(rs_before, f) < 0 || fclose(f) != 0)
			log_error("\nfrr-bgp-route-server: cannot write %s: %s",
				  rollback_file(), strerror(errno));
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
	if (rs_frr_apply(&want, true, err, sizeof(err)) < 0)
		log_error("\nfrr-bgp-route-server: a confirmed commit was pending when netconfd stopped; rolling bgpd back failed (tried again at the next start): %s",
			  err);
	else {
		log_warn("\nfrr-bgp-route-server: a confirmed commit was pending when netconfd stopped: bgpd's route-server configuration rolled back");
		forget();
	}
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
		if (rs_rollback && rs_rollback()) {
			rs_unsaved = false;
			forget();
		}
	}
	return NO_ERR;
}

status_t rs_confirm_init(bool (*rollback)(void))
{
	rs_rollback = rollback;
	return agt_not_queue_notification_cb_register(KEY, confirm_event);
}

void rs_confirm_cleanup(void)
{
	agt_not_queue_notification_cb_unregister(KEY);
	rs_rollback = NULL;
	free(rs_before);
	rs_before = NULL;
}
