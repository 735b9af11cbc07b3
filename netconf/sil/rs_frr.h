/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Bridge from the netconfd SIL to bgpd: runs vtysh, parses the
 * route-server part of "show running-config", builds and applies the
 * command list that makes bgpd's route-server config equal to a desired one.
 * No yuma123 types here, so this part can be tested on its own.
 */
#ifndef RS_FRR_H
#define RS_FRR_H

#include <stdbool.h>
#include <stddef.h>

enum rs_nc_role {
	RS_NC_NONE = 0,
	RS_NC_NVA,
	RS_NC_ER,
	RS_NC_VPN,
};

/* routing-preference; the default (expressroute) is 0 */
enum rs_nc_pref {
	RS_NC_PREF_ER = 0,
	RS_NC_PREF_VPN,
	RS_NC_PREF_ASPATH,
};

#define RS_NC_VRF_LEN 40
#define RS_NC_NAME_LEN 72

struct rs_nc_neigh {
	char name[RS_NC_NAME_LEN];
	char group[RS_NC_NAME_LEN];	/* peer-group it is a member of */
	bool is_group;
	enum rs_nc_role role;		/* configured role */
};

/* One BGP instance as bgpd has it, or as NETCONF wants it. */
struct rs_nc_inst {
	char vrf[RS_NC_VRF_LEN];	/* "default" for the default instance */
	char asn[16];
	bool present;			/* "router bgp" exists in bgpd */
	bool b2b;
	enum rs_nc_pref pref;
	struct rs_nc_neigh *neigh;
	size_t n_neigh, cap_neigh;
};

struct rs_nc_conf {
	struct rs_nc_inst *inst;
	size_t n_inst, cap_inst;
};

/* Settings (environment, read once):
 *   FRR_RS_VTYSH       vtysh binary            (default: vtysh in PATH)
 *   FRR_RS_VTY_SOCKET  --vty_socket directory  (default: none)
 *   FRR_RS_CONFIG_DIR  --config_dir directory  (default: none)
 *   FRR_RS_TIMEOUT     seconds per vtysh call  (default: 10)
 */
void rs_frr_settings_load(void);

/* Runs vtysh with -c for each command; output (stdout+stderr) in *out
 * (malloc'd, caller frees). Returns the exit status, or -1 when vtysh could
 * not run / timed out (message in *out).
 */
int rs_frr_vtysh(const char *const *cmds, size_t ncmds, char **out);

/* Same, for configuration commands: vtysh stops at the first command that
 * fails; *failed is its index (ncmds when unknown or none failed).
 */
int rs_frr_vtysh_config(const char *const *cmds, size_t ncmds, char **out,
			size_t *failed);

const char *rs_nc_role_yang(enum rs_nc_role r);
const char *rs_nc_role_cli(enum rs_nc_role r);
enum rs_nc_role rs_nc_role_from_yang(const char *s);
/* YANG enum and CLI keyword are the same; NULL or unknown = default */
const char *rs_nc_pref_name(enum rs_nc_pref p);
enum rs_nc_pref rs_nc_pref_from_name(const char *s);

void rs_nc_conf_free(struct rs_nc_conf *c);
struct rs_nc_inst *rs_nc_inst_get(struct rs_nc_conf *c, const char *vrf,
				  bool create);
struct rs_nc_neigh *rs_nc_neigh_get(struct rs_nc_inst *in, const char *name,
				    bool create);

/* Parses "show running-config" text. */
void rs_nc_parse_running(const char *text, struct rs_nc_conf *c);

/* Reads bgpd's config. 0 on success; -1 if bgpd is unreachable (err set). */
int rs_frr_read(struct rs_nc_conf *c, char *err, size_t errlen);

/* Counts, with bgpd's neighbors (live) and the desired roles (want),
 * the effective roles of real neighbors (members inherit the group role).
 */
void rs_nc_count_roles(const struct rs_nc_inst *live,
		       const struct rs_nc_inst *want, unsigned int n[4]);

/* Makes bgpd's route-server config equal to want (every instance of live
 * that want lacks is cleared), then, if save, "write memory" if anything
 * changed. Idempotent, and all or nothing: when a command fails, the
 * configuration read before is applied back. Returns 1 if bgpd changed,
 * 0 if it already was so, or -1 with a message in err naming the failing
 * command and whether bgpd was restored.
 */
int rs_frr_apply(const struct rs_nc_conf *want, bool save, char *err,
		 size_t errlen);

/* What bgpd should have after a commit that changes base (running) into
 * want (the candidate), when bgpd has live: what the commit changes
 * (b2b, routing preference, each neighbor's role) from want, the rest
 * from live, so that a change made in bgpd outside NETCONF since running
 * was last taken from it is kept.
 */
void rs_nc_merge(const struct rs_nc_conf *base, const struct rs_nc_conf *want,
		 const struct rs_nc_conf *live, struct rs_nc_conf *out);

/* "write memory". 0, or -1 with a message in err. */
int rs_frr_save(char *err, size_t errlen);

/* The route-server lines of c as bgpd's running-config has them, which
 * rs_nc_parse_running() reads back (malloc'd).
 */
char *rs_nc_format(const struct rs_nc_conf *c);

#endif
