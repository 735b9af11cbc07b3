/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Confirmed commit (RFC 6241 8.4) for bgpd: when netconfd rolls running
 * back (confirm timeout, <cancel-commit>, or the session of a
 * non-persistent confirmed commit ending), bgpd is rolled back with it.
 */
#ifndef RS_CONFIRM_H
#define RS_CONFIRM_H

#include "status.h"

/* reapply: makes bgpd equal to running again; why is "timeout"/"cancel" */
status_t rs_confirm_init(void (*reapply)(const char *why));
void rs_confirm_cleanup(void);

#endif
