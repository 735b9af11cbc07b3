/* Small standalone check of rs_frr.c: prints bgpd's parsed route-server
 * config, or applies "VRF NEIGH ROLE|- ..." / "VRF b2b on|off" /
 * "VRF pref expressroute|vpn|as-path" arguments. */
#include <stdio.h>
#include <string.h>
#include "../sil/rs_frr.h"

static void dump(struct rs_nc_conf *c)
{
	for (size_t i = 0; i < c->n_inst; i++) {
		struct rs_nc_inst *in = &c->inst[i];
		printf("vrf=%s asn=%s b2b=%d pref=%s\n", in->vrf, in->asn,
		       in->b2b, rs_nc_pref_name(in->pref));
		for (size_t k = 0; k < in->n_neigh; k++)
			printf("  %s%s group=%s role=%s\n", in->neigh[k].name,
			       in->neigh[k].is_group ? " (peer-group)" : "",
			       in->neigh[k].group, rs_nc_role_yang(in->neigh[k].role));
	}
}

int main(int argc, char **argv)
{
	struct rs_nc_conf c;
	char err[512];

	rs_frr_settings_load();
	if (rs_frr_read(&c, err, sizeof(err))) {
		printf("ERR %s\n", err);
		return 1;
	}
	if (argc > 1) {
		for (int i = 1; i + 2 < argc; i += 3) {
			struct rs_nc_inst *in = rs_nc_inst_get(&c, argv[i], true);
			if (!strcmp(argv[i + 1], "b2b"))
				in->b2b = !strcmp(argv[i + 2], "on");
			else if (!strcmp(argv[i + 1], "pref"))
				in->pref = rs_nc_pref_from_name(argv[i + 2]);
			else
				rs_nc_neigh_get(in, argv[i + 1], true)->role =
					rs_nc_role_from_yang(argv[i + 2]);
		}
		if (rs_frr_apply(&c, true, err, sizeof(err)) < 0) {
			printf("APPLY ERR %s\n", err);
			return 1;
		}
		rs_nc_conf_free(&c);
		rs_frr_read(&c, err, sizeof(err));
	}
	dump(&c);
	rs_nc_conf_free(&c);
	return 0;
}
