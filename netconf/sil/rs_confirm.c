// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * netconfd restores running from its backup file when a confirmed commit
 * is not confirmed, through a load that calls no commit-complete hook, so
 * the SIL would leave bgpd with the unconfirmed change. netconfd then
 * queues the ietf-netconf-notifications <netconf-confirmed-commit> event;
 * seeing it is the one place every rollback passes through (see
 * rs_confirm.h).
 */
#include <string.h>

#include <libxml/xmlstring.h>

#include "procdefs.h"
#include "agt_not.h"
#include "agt_not_queue_notification_cb.h"
#include "dlq.h"
#include "log.h"
#include "obj.h"
#include "val.h"

#include "rs_confirm.h"

#define KEY (const xmlChar *)"frr-bgp-route-server/confirmed-commit"

static void (*rs_reapply)(const char *why);

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
	if (!ev || (strcmp(ev, "timeout") && strcmp(ev, "cancel")))
		return NO_ERR;
	log_info("\nfrr-bgp-route-server: confirmed commit rolled back (%s): rolling bgpd back",
		 ev);
	if (rs_reapply)
		rs_reapply(ev);
	return NO_ERR;
}

status_t rs_confirm_init(void (*reapply)(const char *why))
{
	rs_reapply = reapply;
	return agt_not_queue_notification_cb_register(KEY, confirm_event);
}

void rs_confirm_cleanup(void)
{
	agt_not_queue_notification_cb_unregister(KEY);
	rs_reapply = NULL;
}
