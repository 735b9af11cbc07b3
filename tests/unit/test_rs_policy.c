// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests of the pure route-server policy core: every (source,
 * destination role, branch-to-branch) combination against the matrix of
 * ../shared/design/semantics.md, transcribed here independently as text.
 */
#include <stdio.h>
#include <string.h>

#include "rs_policy.h"

static int passed, failed;

#define CHECK(cond, ...)                                                       \
	do {                                                                   \
		if (cond)                                                      \
			passed++;                                              \
		else {                                                         \
			failed++;                                              \
			printf("FAIL %s:%d: ", __FILE__, __LINE__);            \
			printf(__VA_ARGS__);                                   \
			printf("\n");                                          \
		}                                                              \
	} while (0)

/* The specification's table, row by row: "from \ to nva er vpn none". */
static const struct {
	enum rs_source src;
	const char *cells[4]; /* nva, er, vpn, none */
} spec[] = {
	{ RS_SRC_VNET, { "yes", "yes", "yes", "native" } },
	{ RS_SRC_NVA, { "yes", "b2b", "b2b", "native" } },
	{ RS_SRC_EXPRESSROUTE, { "b2b", "no", "b2b", "native" } },
	{ RS_SRC_VPN, { "b2b", "b2b", "no", "native" } },
	{ RS_SRC_NONE, { "native", "native", "native", "native" } },
};
static const enum rs_role spec_cols[4] = { RS_ROLE_NVA, RS_ROLE_EXPRESSROUTE,
					    RS_ROLE_VPN, RS_ROLE_NONE };

static enum rs_verdict expected(const char *cell, int b2b)
{
	if (!strcmp(cell, "yes"))
		return RS_ALLOW;
	if (!strcmp(cell, "no"))
		return RS_WITHHELD_NEVER;
	if (!strcmp(cell, "b2b"))
		return b2b ? RS_ALLOW : RS_WITHHELD_B2B;
	return RS_NATIVE;
}

static void test_matrix(void)
{
	int combos = 0;

	for (size_t r = 0; r < sizeof(spec) / sizeof(spec[0]); r++)
		for (int c = 0; c < 4; c++)
			for (int b2b = 0; b2b <= 1; b2b++) {
				enum rs_verdict want =
					expected(spec[r].cells[c], b2b);
				enum rs_verdict got = rs_policy_decide(
					spec[r].src, spec_cols[c], b2b);
				bool denied = want == RS_WITHHELD_B2B ||
					      want == RS_WITHHELD_NEVER;

				combos++;
				CHECK(got == want,
				      "decide(%s -> %s, b2b=%d) = %d, want %d",
				      rs_source_name(spec[r].src),
				      rs_role_yang(spec_cols[c]), b2b, got,
				      want);
				CHECK(rs_policy_withholds(spec[r].src,
							  spec_cols[c],
							  b2b) == denied,
				      "withholds(%s -> %s, b2b=%d) != %d",
				      rs_source_name(spec[r].src),
				      rs_role_yang(spec_cols[c]), b2b, denied);
				CHECK(((rs_policy_withhold_mask(spec[r].src,
								b2b) >>
					spec_cols[c]) & 1) == denied,
				      "withhold_mask(%s, b2b=%d) bit %s != %d",
				      rs_source_name(spec[r].src), b2b,
				      rs_role_yang(spec_cols[c]), denied);
			}
	CHECK(combos == RS_SRC_MAX * RS_ROLE_MAX * 2,
	      "matrix test covered %d combinations", combos);
}

static void test_invariants(void)
{
	/* Same gateway type never exchanges, whatever the flag. */
	for (int b2b = 0; b2b <= 1; b2b++) {
		CHECK(rs_policy_withholds(RS_SRC_EXPRESSROUTE,
					  RS_ROLE_EXPRESSROUTE, b2b),
		      "ER->ER allowed with b2b=%d", b2b);
		CHECK(rs_policy_withholds(RS_SRC_VPN, RS_ROLE_VPN, b2b),
		      "VPN->VPN allowed with b2b=%d", b2b);
		/* VNet routes go to every role. */
		for (int d = RS_ROLE_NVA; d < RS_ROLE_MAX; d++)
			CHECK(!rs_policy_withholds(RS_SRC_VNET, d, b2b),
			      "VNet withheld from %s", rs_role_yang(d));
		/* A role-less destination is never filtered. */
		for (int s = 0; s < RS_SRC_MAX; s++)
			CHECK(rs_policy_decide(s, RS_ROLE_NONE, b2b) ==
				      RS_NATIVE,
			      "role-less destination filtered from %s",
			      rs_source_name(s));
	}
	/* Turning b2b on only ever allows more. */
	for (int s = 0; s < RS_SRC_MAX; s++)
		for (int d = 0; d < RS_ROLE_MAX; d++)
			CHECK(!(rs_policy_withholds(s, d, true) &&
				!rs_policy_withholds(s, d, false)),
			      "b2b on withholds %s -> %s", rs_source_name(s),
			      rs_role_yang(d));
}

static void test_active_active(void)
{
	CHECK(!rs_active_active_violated(false, 1, 1), "b2b off");
	CHECK(rs_active_active_violated(true, 1, 1), "ER + one VPN");
	CHECK(!rs_active_active_violated(true, 1, 2), "ER + two VPN");
	CHECK(!rs_active_active_violated(true, 0, 1), "no ER");
	CHECK(!rs_active_active_violated(true, 2, 0), "no VPN");
	CHECK(!rs_active_active_violated(true, 1, 3), "ER + three VPN");
}

static void test_names(void)
{
	CHECK(rs_role_parse("nva") == RS_ROLE_NVA, "parse nva");
	CHECK(rs_role_parse("gateway expressroute") == RS_ROLE_EXPRESSROUTE,
	      "parse cli er");
	CHECK(rs_role_parse("gateway-expressroute") == RS_ROLE_EXPRESSROUTE,
	      "parse yang er");
	CHECK(rs_role_parse("gateway vpn") == RS_ROLE_VPN, "parse cli vpn");
	CHECK(rs_role_parse("gateway-vpn") == RS_ROLE_VPN, "parse yang vpn");
	CHECK(rs_role_parse("gateway") == RS_ROLE_NONE, "parse gateway");
	CHECK(rs_role_parse("NVA") == RS_ROLE_NONE, "parse NVA");
	CHECK(rs_role_parse("") == RS_ROLE_NONE, "parse empty");
	CHECK(rs_role_parse("none") == RS_ROLE_NONE, "parse none");
	for (int r = RS_ROLE_NVA; r < RS_ROLE_MAX; r++) {
		CHECK((int)rs_role_parse(rs_role_cli(r)) == r, "cli round trip %d",
		      r);
		CHECK((int)rs_role_parse(rs_role_yang(r)) == r,
		      "yang round trip %d", r);
	}
	CHECK(!strcmp(rs_role_cli(RS_ROLE_VPN), "gateway vpn"), "cli vpn");
	CHECK(!strcmp(rs_source_name(RS_SRC_VNET), "vnet"), "vnet name");
	CHECK(!strcmp(rs_verdict_reason(RS_WITHHELD_B2B),
		      "branch-to-branch off"),
	      "reason b2b");
}

/* Azure's hub routing preference, spec "Routing preference". */
static void test_pref(void)
{
	enum rs_source ranked[] = { RS_SRC_NVA, RS_SRC_EXPRESSROUTE,
				    RS_SRC_VPN };

	/* expressroute: ER over VPN and NVA; VPN and NVA tie */
	CHECK(rs_pref_cmp(rs_pref_rank(RS_SRC_EXPRESSROUTE, RS_PREF_EXPRESSROUTE),
			  rs_pref_rank(RS_SRC_VPN, RS_PREF_EXPRESSROUTE)) > 0,
	      "er pref: er > vpn");
	CHECK(rs_pref_cmp(rs_pref_rank(RS_SRC_NVA, RS_PREF_EXPRESSROUTE),
			  rs_pref_rank(RS_SRC_EXPRESSROUTE, RS_PREF_EXPRESSROUTE)) < 0,
	      "er pref: nva < er");
	CHECK(rs_pref_cmp(rs_pref_rank(RS_SRC_NVA, RS_PREF_EXPRESSROUTE),
			  rs_pref_rank(RS_SRC_VPN, RS_PREF_EXPRESSROUTE)) == 0,
	      "er pref: nva = vpn");
	/* vpn: VPN and NVA over ER, no preference between them */
	CHECK(rs_pref_cmp(rs_pref_rank(RS_SRC_VPN, RS_PREF_VPN),
			  rs_pref_rank(RS_SRC_EXPRESSROUTE, RS_PREF_VPN)) > 0,
	      "vpn pref: vpn > er");
	CHECK(rs_pref_cmp(rs_pref_rank(RS_SRC_NVA, RS_PREF_VPN),
			  rs_pref_rank(RS_SRC_EXPRESSROUTE, RS_PREF_VPN)) > 0,
	      "vpn pref: nva > er");
	CHECK(rs_pref_cmp(rs_pref_rank(RS_SRC_NVA, RS_PREF_VPN),
			  rs_pref_rank(RS_SRC_VPN, RS_PREF_VPN)) == 0,
	      "vpn pref: nva = vpn");
	/* as-path ranks nothing; VNet and role-less paths are never demoted:
	 * they rank with the preferred class (a transitive order)
	 */
	for (unsigned int i = 0; i < 3; i++) {
		CHECK(rs_pref_rank(ranked[i], RS_PREF_ASPATH) == 0,
		      "as-path ranks nothing (%u)", i);
		for (int p = 0; p < RS_PREF_MAX; p++) {
			CHECK(rs_pref_cmp(rs_pref_rank(ranked[i], p),
					  rs_pref_rank(RS_SRC_VNET, p)) <= 0,
			      "vnet never demoted (%u, %d)", i, p);
			CHECK(rs_pref_cmp(rs_pref_rank(RS_SRC_NONE, p),
					  rs_pref_rank(ranked[i], p)) >= 0,
			      "role-less never demoted (%u, %d)", i, p);
			/* antisymmetric */
			for (unsigned int j = 0; j < 3; j++)
				CHECK(rs_pref_cmp(rs_pref_rank(ranked[i], p),
						  rs_pref_rank(ranked[j], p)) ==
					      -rs_pref_cmp(rs_pref_rank(ranked[j], p),
							   rs_pref_rank(ranked[i], p)),
				      "antisymmetric %u %u %d", i, j, p);
		}
	}
	CHECK(rs_pref_cmp(rs_pref_rank(RS_SRC_NONE, RS_PREF_EXPRESSROUTE),
			  rs_pref_rank(RS_SRC_EXPRESSROUTE, RS_PREF_EXPRESSROUTE)) == 0,
	      "role-less ties with the preferred class");
	/* transitive: a strict order between any three sources agrees */
	for (int p = 0; p < RS_PREF_MAX; p++)
		for (int a = 0; a < RS_SRC_MAX; a++)
			for (int b = 0; b < RS_SRC_MAX; b++)
				for (int c = 0; c < RS_SRC_MAX; c++) {
					int ab = rs_pref_cmp(rs_pref_rank(a, p), rs_pref_rank(b, p));
					int bc = rs_pref_cmp(rs_pref_rank(b, p), rs_pref_rank(c, p));
					int ac = rs_pref_cmp(rs_pref_rank(a, p), rs_pref_rank(c, p));

					if (ab >= 0 && bc >= 0)
						CHECK(ac >= 0, "transitive %d %d %d %d", a, b, c, p);
				}
	for (int p = 0; p < RS_PREF_MAX; p++)
		CHECK((int)rs_pref_parse(rs_pref_name(p)) == p,
		      "pref round trip %d", p);
	CHECK(rs_pref_parse("ExpressRoute") == RS_PREF_MAX, "pref case");
	CHECK(rs_pref_parse("aspath") == RS_PREF_MAX, "pref unknown");
	CHECK(!strcmp(rs_pref_name(RS_PREF_ASPATH), "as-path"), "as-path name");
}

int main(void)
{
	test_matrix();
	test_invariants();
	test_active_active();
	test_names();
	test_pref();
	printf("policy: %d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
