/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Confirmed commit (RFC 6241 8.4) for bgpd. bgpd takes a commit at once,
 * but saves it ("write memory") only when it is confirmed. When netconfd
 * rolls running back (confirm timeout, <cancel-commit>, or the end of the
 * session of a non-persistent confirmed commit), bgpd is rolled back with
 * it; when netconfd itself stops before the confirmation, its next start
 * rolls bgpd back (from a file in netconfd's state directory, $HOME).
 */
#ifndef RS_CONFIRM_H
#define RS_CONFIRM_H

#include <stdbool.h>

#include "status.h"

struct rs_nc_conf;

/* rollback: makes bgpd (and its saved config) equal to running again;
 * true on success
 */
status_t rs_confirm_init(bool (*rollback)(void));
void rs_confirm_cleanup(void);

/* A <commit> changed bgpd without saving; before: bgpd's route-server
 * configuration before it.
 */
void rs_confirm_changed(const struct rs_nc_conf *before);

/* The <commit> is complete: saves bgpd's config, unless a confirmed commit
 * is pending (saved when confirmed).
 */
void rs_confirm_commit_done(void);

/* At netconfd start, before running is built from bgpd: undoes in bgpd
 * a confirmed commit that the previous netconfd did not see confirmed.
 */
void rs_confirm_restart_rollback(void);

#endif
