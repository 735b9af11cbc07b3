// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Route-server module for bgpd: module setup. Registers the core's and the
 * glue's hooks and commands; everything else lives below this file.
 */
#include <zebra.h>

#include "lib/debug.h"
#include "lib/hook.h"
#include "lib/libfrr.h"
#include "lib/module.h"
#include "lib/version.h"

#include "bgp_rs.h"
#include "bgp_rs_glue.h"

/* lib's debug list is set up after modules are loaded. */
static int rs_late_init(struct event_loop *tm)
{
	debug_install(&rs_debug);
	rs_vty_init();
	rs_show_init();
	return 0;
}

static int rs_early_fini(void)
{
	rs_core_fini();
	rs_state_fini();
	return 0;
}

static int bgp_rs_module_init(void)
{
	rs_core_init();
	rs_nb_init();
	hook_register(frr_late_init, rs_late_init);
	hook_register(frr_early_fini, rs_early_fini);
	return 0;
}

static const struct frr_yang_module_info *const rs_yang_modules[] = {
	&frr_bgp_route_server_info,
};

FRR_MODULE_SETUP(.name = "bgpd_route_server", .version = FRR_VERSION,
		 .description = "bgpd route-server roles (Azure Route Server model)",
		 .init = bgp_rs_module_init,
		 .yang_modules = rs_yang_modules,
		 .n_yang_modules = array_size(rs_yang_modules));
