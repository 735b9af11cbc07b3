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

#include "procdefs.h"
#include "ses.h"
#include "status.h"
#include "xml_msg.h"

struct rs_nc_conf;

/* rollback: makes bgpd equal to running again, and saves it if save;
 * true on success
 */
status_t rs_confirm_init(bool (*rollback)(bool save));
void rs_confirm_cleanup(void);

/* A <commit> changed bgpd without saving; before: bgpd's route-server
 * configuration before it.
 */
void rs_confirm_changed(const struct rs_nc_conf *before);

/* In a <commit>'s commit-validate hook, before bgpd is touched: whether
 * netconfd will refuse it because of a pending confirmed commit (then
 * the rpc-error netconfd would give is recorded).
 */
bool rs_confirm_refuses(ses_cb_t *scb, xml_msg_hdr_t *msghdr);

/* From the periodic timer, and before a <commit>: rolls bgpd back to
 * running when a rollback failed or netconfd refused a <commit> bgpd had
 * taken. False while bgpd still differs (running must not be taken
 * from bgpd then).
 */
bool rs_confirm_tick(void);

/* The <commit> is complete: saves bgpd's config, unless a confirmed commit
 * is pending (saved when confirmed).
 */
void rs_confirm_commit_done(void);

/* At netconfd start, before running is built from bgpd: undoes in bgpd
 * a confirmed commit that the previous netconfd did not see confirmed.
 */
void rs_confirm_restart_rollback(void);

#endif
