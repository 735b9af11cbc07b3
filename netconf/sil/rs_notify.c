// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * NETCONF notifications of frr-bgp-route-server (RFC 5277).
 *
 * bgpd has no channel to tell netconfd about events, so an agt_timer polls
 * it every FRR_RS_EVENT_INTERVAL seconds (default 2, 0 = no
 * notifications): one "show bgp vrf all route-server json" (warnings and
 * role neighbors' session states of every instance) and one read of the
 * running-config (rs_frr_read: branch-to-branch, routing preference,
 * roles). Each poll is compared with the previous one (rs_events.c) and
 * the differences are queued as notifications; netconfd sends them to
 * create-subscription sessions and keeps them in its event log (replay).
 * The poll runs whether or not anyone subscribed, so a replay after an
 * event still finds it.
 *
 * The first poll only records (no notifications for the state netconfd
 * finds at start). NETCONF's own commits must not look like changes
 * from outside: the SIL calls rs_notify_config_applied() with what it
 * applied, and the next poll compares against that.
 *
 * yuma123 runs agt timers only when its select() loop is idle (about 2 s
 * without requests), so a client sending requests back to back delays the
 * notifications; the latency is otherwise one poll interval.
 */
#include <stdlib.h>
#include <string.h>

#include "procdefs.h"
#include "agt.h"
#include "agt_not.h"
#include "agt_timer.h"
#include "agt_util.h"
#include "log.h"
#include "ncx.h"
#include "obj.h"
#include "status.h"
#include "val.h"

#include "rs_events.h"
#include "rs_notify.h"

#define N(s) (const xmlChar *)(s)

static struct {
	obj_template_t *obj[4];	/* by enum rs_ev_kind */
	uint32 timer_id;
	bool have_state, have_conf;
	struct rs_ev_snap state;
	struct rs_nc_conf conf;
} nt;

static const char *const ev_name[] = {
	[RS_EV_WARN_RAISED] = "warning-raised",
	[RS_EV_WARN_CLEARED] = "warning-cleared",
	[RS_EV_SESSION] = "neighbor-session",
	[RS_EV_CONFIG] = "config-changed",
};

static void add_leaf(agt_not_msg_t *not, obj_template_t *obj,
		     const char *name, const char *value)
{
	status_t res = NO_ERR;
	val_value_t *v;

	if (!value)
		return;
	v = agt_make_leaf(obj, N(name), N(value), &res);
	if (v)
		agt_not_add_to_payload(not, v);
	else
		log_warn("\nfrr-bgp-route-server: notification leaf %s='%s': %s",
			 name, value, get_error_string(res));
}

static void send_event(const struct rs_ev *ev, void *ctx)
{
	obj_template_t *obj = nt.obj[ev->kind];
	agt_not_msg_t *not;

	(void)ctx;
	if (!obj)
		return;
	not = agt_not_new_notification(obj);
	if (!not) {
		log_error("\nfrr-bgp-route-server: no memory for a notification");
		return;
	}
	add_leaf(not, obj, "vrf", ev->vrf);
	switch (ev->kind) {
	case RS_EV_WARN_RAISED:
	case RS_EV_WARN_CLEARED:
		add_leaf(not, obj, "warning", ev->warning);
		log_info("\nfrr-bgp-route-server: %s vrf %s: %s",
			 ev_name[ev->kind], ev->vrf, ev->warning);
		break;
	case RS_EV_SESSION:
		add_leaf(not, obj, "neighbor", ev->neighbor);
		add_leaf(not, obj, "role", ev->role);
		add_leaf(not, obj, "old-status", ev->up ? "down" : "up");
		add_leaf(not, obj, "new-status", ev->up ? "up" : "down");
		add_leaf(not, obj, "old-session-state", ev->old_state);
		add_leaf(not, obj, "new-session-state", ev->new_state);
		log_info("\nfrr-bgp-route-server: neighbor-session vrf %s %s (%s): %s -> %s",
			 ev->vrf, ev->neighbor, ev->role, ev->old_state,
			 ev->new_state);
		break;
	case RS_EV_CONFIG:
		add_leaf(not, obj, "setting", ev->setting);
		add_leaf(not, obj, "neighbor", ev->neighbor);
		add_leaf(not, obj, "old-value", ev->old_value);
		add_leaf(not, obj, "new-value", ev->new_value);
		add_leaf(not, obj, "source", "cli");
		log_info("\nfrr-bgp-route-server: config-changed vrf %s %s%s%s: %s -> %s",
			 ev->vrf, ev->setting, ev->neighbor ? " " : "",
			 ev->neighbor ? ev->neighbor : "",
			 ev->old_value ? ev->old_value : "(none)",
			 ev->new_value ? ev->new_value : "(none)");
		break;
	}
	agt_not_queue_notification(not);
}

/* One poll: two vtysh calls. bgpd unreachable: nothing is compared and
 * the previous snapshots stay (what changed meanwhile is reported once
 * bgpd answers again).
 */
static void poll_bgpd(void)
{
	const char *cmd = "show bgp vrf all route-server json";
	struct rs_ev_snap snap;
	struct rs_nc_conf conf;
	char *out = NULL, err[600];
	int rc;

	rc = rs_frr_vtysh(&cmd, 1, &out);
	if (rc != 0 || rs_ev_snap_parse(out, &snap) < 0) {
		if (LOGDEBUG)
			log_debug("\nfrr-bgp-route-server: event poll: %s: %s",
				  cmd, out ? out : "");
		free(out);
		return;
	}
	free(out);
	if (rs_frr_read(&conf, err, sizeof(err)) < 0) {
		if (LOGDEBUG)
			log_debug("\nfrr-bgp-route-server: event poll: %s", err);
		rs_ev_snap_free(&snap);
		return;
	}
	/* config first: a config change often raises or clears a warning */
	if (nt.have_conf)
		rs_ev_diff_conf(&nt.conf, &conf, send_event, NULL);
	if (nt.have_state)
		rs_ev_diff_state(&nt.state, &snap, send_event, NULL);
	rs_nc_conf_free(&nt.conf);
	rs_ev_conf_copy(&nt.conf, &conf);
	rs_nc_conf_free(&conf);
	rs_ev_snap_free(&nt.state);
	nt.state = snap;
	nt.have_conf = nt.have_state = true;
}

static int poll_timer(uint32 timer_id, void *cookie)
{
	(void)timer_id;
	(void)cookie;
	poll_bgpd();
	return 0;
}

void rs_notify_config_applied(const struct rs_nc_conf *c)
{
	rs_nc_conf_free(&nt.conf);
	nt.have_conf = c != NULL;
	if (c)
		rs_ev_conf_copy(&nt.conf, c);
}

void rs_notify_init(const char *modname, const char *revision)
{
	const char *iv = getenv("FRR_RS_EVENT_INTERVAL");
	int interval = iv && *iv ? atoi(iv) : 2;
	ncx_module_t *mod = ncx_find_module(N(modname), N(revision));
	size_t k;

	if (!mod) {
		log_error("\nfrr-bgp-route-server: module %s@%s not loaded: no notifications",
			  modname, revision);
		return;
	}
	for (k = 0; k < sizeof(ev_name) / sizeof(ev_name[0]); k++) {
		nt.obj[k] = ncx_find_object(mod, N(ev_name[k]));
		if (!nt.obj[k])
			log_error("\nfrr-bgp-route-server: notification %s not in the module",
				  ev_name[k]);
	}
	if (interval <= 0) {
		log_info("\nfrr-bgp-route-server: FRR_RS_EVENT_INTERVAL=%s: no notifications",
			 iv);
		return;
	}
	/* the state at start: recorded, not reported */
	poll_bgpd();
	if (agt_timer_create((uint32)interval, TRUE, poll_timer, NULL,
			     &nt.timer_id) != NO_ERR)
		log_error("\nfrr-bgp-route-server: no event timer: no notifications");
}

void rs_notify_cleanup(void)
{
	if (nt.timer_id)
		agt_timer_delete(nt.timer_id);
	nt.timer_id = 0;
	rs_ev_snap_free(&nt.state);
	rs_nc_conf_free(&nt.conf);
	nt.have_conf = nt.have_state = false;
}
