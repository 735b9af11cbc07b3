// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Route-server policy: which neighbor class may learn a path from which.
 * Pure C, no FRR types, so it can be unit-tested on its own and stays
 * cheap in bgpd's per-path hot path.
 */
#ifndef RS_POLICY_H
#define RS_POLICY_H

#include <stdbool.h>
#include <stdint.h>

/* Role of a neighbor; RS_ROLE_NONE = ordinary BGP neighbor. */
enum rs_role {
	RS_ROLE_NONE = 0,
	RS_ROLE_NVA,
	RS_ROLE_EXPRESSROUTE,
	RS_ROLE_VPN,
	RS_ROLE_MAX,
};

/* Where a path comes from: a neighbor of some role, or the route server
 * itself (VNet: originated, redistributed, aggregated or leaked routes).
 */
enum rs_source {
	RS_SRC_NONE = RS_ROLE_NONE,
	RS_SRC_NVA = RS_ROLE_NVA,
	RS_SRC_EXPRESSROUTE = RS_ROLE_EXPRESSROUTE,
	RS_SRC_VPN = RS_ROLE_VPN,
	RS_SRC_VNET,
	RS_SRC_MAX,
};

enum rs_verdict {
	RS_NATIVE = 0,	   /* module not involved: ordinary BGP rules */
	RS_ALLOW,	   /* allowed by the route-server policy */
	RS_WITHHELD_B2B,   /* withheld while branch-to-branch is off */
	RS_WITHHELD_NEVER, /* never exchanged (ER-ER, VPN-VPN) */
};

/* The advertisement matrix; cell RS_B2B means "only with b2b on". */
enum rs_cell { RS_C_NATIVE, RS_C_YES, RS_C_B2B, RS_C_NO };
extern const uint8_t rs_matrix[RS_SRC_MAX][RS_ROLE_MAX];

static inline enum rs_verdict rs_policy_decide(enum rs_source src,
					       enum rs_role dst, bool b2b)
{
	switch ((enum rs_cell)rs_matrix[src][dst]) {
	case RS_C_YES:
		return RS_ALLOW;
	case RS_C_B2B:
		return b2b ? RS_ALLOW : RS_WITHHELD_B2B;
	case RS_C_NO:
		return RS_WITHHELD_NEVER;
	case RS_C_NATIVE:
		break;
	}
	return RS_NATIVE;
}

/* Hot-path form: true when the path must not be sent. */
static inline bool rs_policy_withholds(enum rs_source src, enum rs_role dst,
				       bool b2b)
{
	uint8_t c = rs_matrix[src][dst];

	return c == RS_C_NO || (c == RS_C_B2B && !b2b);
}

/* Destination roles a path from src is withheld from, one bit per role:
 * the hot path keeps one per source and flag state, precomputed.
 */
static inline uint8_t rs_policy_withhold_mask(enum rs_source src, bool b2b)
{
	uint8_t mask = 0;

	for (int dst = RS_ROLE_NONE; dst < RS_ROLE_MAX; dst++)
		if (rs_policy_withholds(src, (enum rs_role)dst, b2b))
			mask |= 1u << dst;
	return mask;
}

/*
 * Routing preference (Azure's hub routing preference): a best-path step
 * after weight that ranks paths by the role they were learned from.
 */
enum rs_pref {
	RS_PREF_EXPRESSROUTE = 0, /* the default, as in Azure */
	RS_PREF_VPN,		  /* "VPN/NVA": VPN and NVA paths first */
	RS_PREF_ASPATH,		  /* no role preference */
	RS_PREF_MAX,
};

/* Rank of a path's source: higher is preferred, 0 = no preference (every
 * path under as-path). The preference only demotes the other class:
 * VNet and role-less paths rank with the preferred one, so that the
 * order stays transitive (bgpd sorts paths by insertion; "not ranked" as
 * "no decision" would make ER > VPN > role-less > ER possible).
 */
static inline uint8_t rs_pref_rank(enum rs_source src, enum rs_pref pref)
{
	if (pref == RS_PREF_ASPATH || pref >= RS_PREF_MAX)
		return 0;
	switch (src) {
	case RS_SRC_EXPRESSROUTE:
		return pref == RS_PREF_EXPRESSROUTE ? 2 : 1;
	case RS_SRC_NVA:
	case RS_SRC_VPN:
		return pref == RS_PREF_VPN ? 2 : 1;
	case RS_SRC_NONE:
	case RS_SRC_VNET:
	case RS_SRC_MAX:
		break;
	}
	return 2;
}

/* > 0: a path from a is preferred; < 0: from b; 0: the step does not
 * decide (same rank, or no preference).
 */
static inline int rs_pref_cmp(uint8_t rank_a, uint8_t rank_b)
{
	return (int)rank_a - (int)rank_b;
}

/* "expressroute", "vpn", "as-path" (CLI words and YANG enum names). */
const char *rs_pref_name(enum rs_pref pref);
/* RS_PREF_MAX if unknown. */
enum rs_pref rs_pref_parse(const char *s);

/*
 * Azure requires an active-active VPN gateway (two sessions) when it
 * exchanges routes with an ExpressRoute gateway through the route server.
 */
static inline bool rs_active_active_violated(bool b2b, unsigned int n_er,
					     unsigned int n_vpn)
{
	return b2b && n_er > 0 && n_vpn > 0 && n_vpn < 2;
}

/* CLI words ("nva", "gateway expressroute", "gateway vpn") and the YANG
 * enum names ("nva", "gateway-expressroute", "gateway-vpn").
 */
const char *rs_role_cli(enum rs_role role);
const char *rs_role_yang(enum rs_role role);
const char *rs_source_name(enum rs_source src);
const char *rs_verdict_reason(enum rs_verdict v);
/* Parses either form; RS_ROLE_NONE if unknown. */
enum rs_role rs_role_parse(const char *s);

#endif /* RS_POLICY_H */
