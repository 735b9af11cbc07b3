// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * NACM (RFC 8341) support for netconfd --access-control=enforcing:
 *
 *  - who is who: each new session's user name (which netconfd takes from
 *    the client's <ncx-connect>, i.e. $USER of netconf-subsystem) must be
 *    the name of the uid at the other end of its UNIX socket
 *    (SO_PEERCRED); any other session is closed at once.
 *  - the NACM groups "operators" and "readers" follow the system groups
 *    $RS_NC_GROUP (default netconf-operators) and $RS_NC_READ_GROUP
 *    (default netconf-readers): rs_nacm_refresh() rewrites their
 *    user-name lists in running and the candidate when they differ.
 *  - /nacm cannot be written over NETCONF (it is config/nacm.xml plus the
 *    system groups, put in place by netconfd-start.sh).
 */
#ifndef RS_NACM_H
#define RS_NACM_H

/* registers the session check and the /nacm guard (SIL init phase 1) */
int rs_nacm_init(void);
/* user-name lists of the NACM groups from the system groups; returns 1 if
 * they changed, 0 if not, -1 if there is no /nacm in running
 */
int rs_nacm_refresh(void);
void rs_nacm_cleanup(void);

#endif
