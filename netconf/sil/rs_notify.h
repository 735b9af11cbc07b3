/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * NETCONF notifications (RFC 5277) of frr-bgp-route-server: a timer polls
 * bgpd every FRR_RS_EVENT_INTERVAL seconds (default 2, 0 = off) and sends
 * warning-raised / warning-cleared, neighbor-session and config-changed
 * (for changes NETCONF did not make) to create-subscription sessions and
 * netconfd's event log (replay).
 */
#ifndef RS_NOTIFY_H
#define RS_NOTIFY_H

#include "rs_frr.h"

/* Finds the notification statements in the module (init2 of the SIL,
 * after the module is loaded) and starts the poll timer.
 */
void rs_notify_init(const char *modname, const char *revision);
void rs_notify_cleanup(void);

/* The SIL made bgpd's route-server config equal to c (a commit, or an
 * edit-config on running): the next poll compares with c, so NETCONF's
 * own changes send no config-changed. NULL: bgpd's config is unknown
 * (apply failed half-way); the next poll only records it.
 */
void rs_notify_config_applied(const struct rs_nc_conf *c);

#endif
