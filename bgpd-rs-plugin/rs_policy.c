// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Route-server policy tables (see rs_policy.h and docs/user-guide.md).
 */
#include <string.h>

#include "rs_policy.h"

/* Rows: source; columns: destination role. */
const uint8_t rs_matrix[RS_SRC_MAX][RS_ROLE_MAX] = {
	/*                      none         nva         er          vpn */
	[RS_SRC_NONE] =        { RS_C_NATIVE, RS_C_NATIVE, RS_C_NATIVE, RS_C_NATIVE },
	[RS_SRC_NVA] =         { RS_C_NATIVE, RS_C_YES,    RS_C_B2B,    RS_C_B2B },
	[RS_SRC_EXPRESSROUTE] = { RS_C_NATIVE, RS_C_B2B,   RS_C_NO,     RS_C_B2B },
	[RS_SRC_VPN] =         { RS_C_NATIVE, RS_C_B2B,    RS_C_B2B,    RS_C_NO },
	[RS_SRC_VNET] =        { RS_C_NATIVE, RS_C_YES,    RS_C_YES,    RS_C_YES },
};

static const char *const role_cli[RS_ROLE_MAX] = {
	[RS_ROLE_NONE] = "none",
	[RS_ROLE_NVA] = "nva",
	[RS_ROLE_EXPRESSROUTE] = "gateway expressroute",
	[RS_ROLE_VPN] = "gateway vpn",
};

static const char *const role_yang[RS_ROLE_MAX] = {
	[RS_ROLE_NONE] = "none",
	[RS_ROLE_NVA] = "nva",
	[RS_ROLE_EXPRESSROUTE] = "gateway-expressroute",
	[RS_ROLE_VPN] = "gateway-vpn",
};

const char *rs_role_cli(enum rs_role role)
{
	return role < RS_ROLE_MAX ? role_cli[role] : "unknown";
}

const char *rs_role_yang(enum rs_role role)
{
	return role < RS_ROLE_MAX ? role_yang[role] : "unknown";
}

const char *rs_source_name(enum rs_source src)
{
	if (src == RS_SRC_VNET)
		return "vnet";
	return rs_role_yang((enum rs_role)src);
}

const char *rs_verdict_reason(enum rs_verdict v)
{
	switch (v) {
	case RS_WITHHELD_B2B:
		return "branch-to-branch off";
	case RS_WITHHELD_NEVER:
		return "same gateway type";
	case RS_ALLOW:
		return "allowed";
	case RS_NATIVE:
		break;
	}
	return "native";
}

enum rs_role rs_role_parse(const char *s)
{
	for (int r = RS_ROLE_NVA; r < RS_ROLE_MAX; r++)
		if (!strcmp(s, role_cli[r]) || !strcmp(s, role_yang[r]))
			return (enum rs_role)r;
	return RS_ROLE_NONE;
}

static const char *const pref_name[RS_PREF_MAX] = {
	[RS_PREF_EXPRESSROUTE] = "expressroute",
	[RS_PREF_VPN] = "vpn",
	[RS_PREF_ASPATH] = "as-path",
};

const char *rs_pref_name(enum rs_pref pref)
{
	return pref < RS_PREF_MAX ? pref_name[pref] : "unknown";
}

enum rs_pref rs_pref_parse(const char *s)
{
	for (int p = 0; p < RS_PREF_MAX; p++)
		if (!strcmp(s, pref_name[p]))
			return (enum rs_pref)p;
	return RS_PREF_MAX;
}
