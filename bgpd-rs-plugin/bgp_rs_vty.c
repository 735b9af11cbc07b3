// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Route-server module: configuration commands (DEFPY_YANG, through bgpd's
 * northbound and frr-bgp-route-server.yang) and configuration warnings.
 */
#include <zebra.h>

#include "lib/command.h"
#include "lib/debug.h"
#include "lib/northbound_cli.h"

#include "bgpd/bgpd.h"
#include "bgpd/bgp_vty.h"

#include "bgp_rs.h"
#include "bgp_rs_glue.h"

#include "bgpd/bgp_rs_vty_clippy.c"

#define RS_STR "Route server (Azure Route Server model)\n"
#define RS_XPATH_INST "/frr-bgp-route-server:route-server/instance[vrf='%s']"

/* Only the active-active rule is reported while configuring: the
 * route-reflector-client warning would fire on every config load before
 * the address-family block is read.
 */
static int rs_apply(struct vty *vty, struct bgp *bgp)
{
	struct rs_inst *inst;
	int ret = nb_cli_apply_changes(vty, NULL);
	char buf[256];

	inst = rs_inst_find(bgp);
	if (ret == CMD_SUCCESS && inst &&
	    rs_active_active_warning(inst, buf, sizeof(buf)))
		vty_out(vty, "%% Warning: %s\n", buf);
	return ret;
}

/*
 * bgpd accepts VRF and peer-group names the model cannot key on: longer
 * than the YANG length, or with a quote (xpath predicates are built with
 * '...'). Refuse them with a clear error instead of a failed edit of the
 * candidate, which FRR reports without failing the command. Returns NULL
 * if the name is fine, else the reason.
 */
static const char *rs_name_bad(const char *name, bool vrf)
{
	if (strlen(name) > (vrf ? 36 : 64))
		return vrf ? "too long for route-server configuration (at most 36 characters)"
			   : "too long for route-server configuration (at most 64 characters)";
	if (strchr(name, '\''))
		return "with a quote (') cannot have route-server configuration";
	return NULL;
}

DEFPY_YANG(rs_b2b, rs_b2b_cmd, "[no] bgp route-server branch-to-branch",
	   NO_STR BGP_STR RS_STR
	   "Exchange routes between gateways and NVAs\n")
{
	VTY_DECLVAR_CONTEXT(bgp, bgp);
	char xpath[XPATH_MAXLEN];
	const char *bad = rs_name_bad(rs_inst_vrf(bgp), true);

	if (bad) {
		/* "no": such an instance cannot have the flag */
		if (no)
			return CMD_SUCCESS;
		vty_out(vty, "%% VRF name %s\n", bad);
		return CMD_WARNING_CONFIG_FAILED;
	}

	snprintf(xpath, sizeof(xpath), RS_XPATH_INST "/branch-to-branch",
		 rs_inst_vrf(bgp));
	nb_cli_enqueue_change(vty, xpath, NB_OP_MODIFY, no ? "false" : "true");
	return rs_apply(vty, bgp);
}

#define RS_PREF_HELP                                                           \
	"Which role's paths are preferred (a best-path step after weight)\n"   \
	"Paths from ExpressRoute gateways (the default)\n"                     \
	"Paths from VPN gateways and NVAs\n"                                   \
	"No role preference: AS path length and bgpd's other steps\n"

DEFPY_YANG(rs_pref, rs_pref_cmd,
	   "bgp route-server routing-preference <expressroute|vpn|as-path>$pref",
	   BGP_STR RS_STR
	   RS_PREF_HELP)
{
	VTY_DECLVAR_CONTEXT(bgp, bgp);
	char xpath[XPATH_MAXLEN];
	const char *bad = rs_name_bad(rs_inst_vrf(bgp), true);

	if (bad) {
		vty_out(vty, "%% VRF name %s\n", bad);
		return CMD_WARNING_CONFIG_FAILED;
	}
	snprintf(xpath, sizeof(xpath), RS_XPATH_INST "/routing-preference",
		 rs_inst_vrf(bgp));
	nb_cli_enqueue_change(vty, xpath, NB_OP_MODIFY, pref);
	return rs_apply(vty, bgp);
}

DEFPY_YANG(no_rs_pref, no_rs_pref_cmd,
	   "no bgp route-server routing-preference [<expressroute|vpn|as-path>]",
	   NO_STR BGP_STR RS_STR
	   RS_PREF_HELP)
{
	VTY_DECLVAR_CONTEXT(bgp, bgp);
	char xpath[XPATH_MAXLEN];

	/* such an instance cannot have the leaf */
	if (rs_name_bad(rs_inst_vrf(bgp), true))
		return CMD_SUCCESS;
	snprintf(xpath, sizeof(xpath), RS_XPATH_INST "/routing-preference",
		 rs_inst_vrf(bgp));
	nb_cli_enqueue_change(vty, xpath, NB_OP_MODIFY,
			      rs_pref_name(RS_PREF_EXPRESSROUTE));
	return rs_apply(vty, bgp);
}

#define RS_ROLE_HELP                                                           \
	"Route-server role of the neighbor\n"                                  \
	"Network virtual appliance (e.g. SD-WAN)\n"                            \
	"Gateway\n"                                                            \
	"ExpressRoute gateway\n"                                               \
	"VPN gateway (one session of it)\n"

/* Set (or, with RS_ROLE_NONE, remove) the role of a neighbor/peer-group. */
static int rs_role_change(struct vty *vty, const char *neighbor,
			  enum rs_role role)
{
	VTY_DECLVAR_CONTEXT(bgp, bgp);
	char xpath[XPATH_MAXLEN];
	struct peer *peer;
	const char *bad_vrf, *bad_name;

	/* FRR's own errors: unknown neighbor/peer-group, dynamic neighbor. */
	peer = peer_and_group_lookup_vty(vty, neighbor);
	if (!peer)
		return CMD_WARNING_CONFIG_FAILED;
	bad_vrf = rs_name_bad(rs_inst_vrf(bgp), true);
	bad_name = rs_name_bad(rs_peer_name(peer), false);
	if (bad_vrf || bad_name) {
		/* "no": such a name cannot have a role */
		if (role == RS_ROLE_NONE)
			return CMD_SUCCESS;
		vty_out(vty, "%% %s name %s\n", bad_vrf ? "VRF" : "Neighbor",
			bad_vrf ? bad_vrf : bad_name);
		return CMD_WARNING_CONFIG_FAILED;
	}
	snprintf(xpath, sizeof(xpath), RS_XPATH_INST "/neighbor[name='%s']",
		 rs_inst_vrf(bgp), rs_peer_name(peer));
	if (role == RS_ROLE_NONE) {
		nb_cli_enqueue_change(vty, xpath, NB_OP_DESTROY, NULL);
	} else {
		strlcat(xpath, "/role", sizeof(xpath));
		nb_cli_enqueue_change(vty, xpath, NB_OP_MODIFY,
				      rs_role_yang(role));
	}
	return rs_apply(vty, bgp);
}

DEFPY_YANG(rs_role, rs_role_cmd,
	   "neighbor <A.B.C.D|X:X::X:X|WORD>$neighbor route-server role <nva$nva|gateway <expressroute$er|vpn$vpn>>",
	   NEIGHBOR_STR NEIGHBOR_ADDR_STR2 RS_STR RS_ROLE_HELP)
{
	return rs_role_change(vty, neighbor,
			      nva  ? RS_ROLE_NVA
			      : er ? RS_ROLE_EXPRESSROUTE
				   : RS_ROLE_VPN);
}

DEFPY_YANG(no_rs_role, no_rs_role_cmd,
	   "no neighbor <A.B.C.D|X:X::X:X|WORD>$neighbor route-server role [<nva|gateway <expressroute|vpn>>]",
	   NO_STR NEIGHBOR_STR NEIGHBOR_ADDR_STR2 RS_STR RS_ROLE_HELP)
{
	return rs_role_change(vty, neighbor, RS_ROLE_NONE);
}

DEFPY(debug_bgp_rs, debug_bgp_rs_cmd, "[no] debug bgp route-server",
	   NO_STR DEBUG_STR BGP_STR
	   "Route server: role changes, re-evaluations, deleted neighbors' paths\n")
{
	DEBUG_MODE_SET(&rs_debug, DEBUG_NODE2MODE(vty->node), !no);
	return CMD_SUCCESS;
}

void rs_vty_init(void)
{
	install_element(BGP_NODE, &rs_b2b_cmd);
	install_element(BGP_NODE, &rs_pref_cmd);
	install_element(BGP_NODE, &no_rs_pref_cmd);
	install_element(BGP_NODE, &rs_role_cmd);
	install_element(BGP_NODE, &no_rs_role_cmd);
	install_element(ENABLE_NODE, &debug_bgp_rs_cmd);
	install_element(CONFIG_NODE, &debug_bgp_rs_cmd);
}
