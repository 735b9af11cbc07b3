// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Makes bgpd's route-server configuration equal to a desired one, all or
 * nothing: vtysh applies each command at once and stops at the first that
 * fails, so a failure part-way is undone by applying the configuration
 * read before the change (see rs_frr.h).
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rs_frr.h"

struct cmdlist {
	char **v;
	size_t n;
};

static void push(struct cmdlist *c, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		abort();
	va_end(ap);
	c->v = realloc(c->v, (c->n + 1) * sizeof(*c->v));
	if (!c->v)
		abort();
	c->v[c->n++] = s;
}

static void cmdlist_free(struct cmdlist *c)
{
	while (c->n)
		free(c->v[--c->n]);
	free(c->v);
	c->v = NULL;
}

/* Commands that take one instance from live to want (want NULL: no
 * route-server configuration at all).
 */
static void inst_cmds(const struct rs_nc_inst *live,
		      const struct rs_nc_inst *want, struct cmdlist *c)
{
	bool b2b = want ? want->b2b : false;
	enum rs_nc_pref pref = want ? want->pref : RS_NC_PREF_ER;
	size_t i;

	/* Roles first (removals, then sets), then the flag: the active-active
	 * check in bgpd then sees the final roles. The routing preference
	 * last (independent of both; bgpd re-runs best-path selection).
	 */
	for (i = 0; i < live->n_neigh; i++) {
		const struct rs_nc_neigh *l = &live->neigh[i];
		struct rs_nc_neigh *w = want ? rs_nc_neigh_get(
			(struct rs_nc_inst *)want, l->name, false) : NULL;

		if (l->role && (!w || !w->role))
			push(c, "no neighbor %s route-server role", l->name);
	}
	for (i = 0; want && i < want->n_neigh; i++) {
		const struct rs_nc_neigh *w = &want->neigh[i];
		struct rs_nc_neigh *l = rs_nc_neigh_get(
			(struct rs_nc_inst *)live, w->name, false);

		if (w->role && (!l || l->role != w->role))
			push(c, "neighbor %s route-server role %s", w->name,
			     rs_nc_role_cli(w->role));
	}
	if (b2b != live->b2b)
		push(c, "%sbgp route-server branch-to-branch", b2b ? "" : "no ");
	if (pref != live->pref) {
		if (pref == RS_NC_PREF_ER)
			push(c, "no bgp route-server routing-preference");
		else
			push(c, "bgp route-server routing-preference %s",
			     rs_nc_pref_name(pref));
	}
}

static void chomp(char *s)
{
	size_t len = strlen(s);

	while (len && (s[len - 1] == '\n' || s[len - 1] == ' '))
		s[--len] = 0;
}

/* Applies want over live, instance by instance. *touched counts the
 * vtysh runs that may have changed bgpd (a failed one included).
 */
static int conf_apply(const struct rs_nc_conf *live,
		      const struct rs_nc_conf *want, size_t *touched,
		      char *err, size_t errlen)
{
	size_t i;

	for (i = 0; i < live->n_inst; i++) {
		const struct rs_nc_inst *l = &live->inst[i];
		const struct rs_nc_inst *w =
			want ? rs_nc_inst_get((struct rs_nc_conf *)want, l->vrf,
					      false)
			     : NULL;
		struct cmdlist c = {};
		size_t head, failed;
		char *out = NULL;
		int rc;

		if (!l->present)
			continue;
		push(&c, "configure terminal");
		if (!strcmp(l->vrf, "default"))
			push(&c, "router bgp %s", l->asn);
		else
			push(&c, "router bgp %s vrf %s", l->asn, l->vrf);
		head = c.n;
		inst_cmds(l, w, &c);
		if (c.n == head) {
			cmdlist_free(&c);
			continue;
		}
		(*touched)++;
		rc = rs_frr_vtysh_config((const char *const *)c.v, c.n, &out,
					 &failed);
		/* "% Warning: ..." lines are informational; an error exits !0 */
		if (rc != 0) {
			chomp(out);
			if (failed < c.n)
				snprintf(err, errlen,
					 "vtysh failed at line \"%s\" (vrf %s): %s",
					 c.v[failed], l->vrf, out);
			else
				snprintf(err, errlen,
					 "vtysh failed for vrf %s: %s", l->vrf,
					 out);
			free(out);
			cmdlist_free(&c);
			return -1;
		}
		free(out);
		cmdlist_free(&c);
	}
	return 0;
}

/* Puts bgpd back to before after a failed apply; appends the outcome to
 * err.
 */
static void restore(const struct rs_nc_conf *before, char *err,
		    size_t errlen)
{
	struct rs_nc_conf now;
	char err2[512];
	size_t used = strlen(err), touched = 0;

	if (rs_frr_read(&now, err2, sizeof(err2)) < 0 ||
	    conf_apply(&now, before, &touched, err2, sizeof(err2)) < 0)
		snprintf(err + used, errlen - used,
			 "; restoring bgpd's previous route-server configuration failed too, bgpd may keep part of the change: %s",
			 err2);
	else
		snprintf(err + used, errlen - used,
			 "; bgpd's route-server configuration was restored, nothing of this change was applied");
	rs_nc_conf_free(&now); /* rs_frr_read() zeroes it first */
}

int rs_frr_save(char *err, size_t errlen)
{
	const char *cmd = "write memory";
	char *out = NULL;

	if (rs_frr_vtysh(&cmd, 1, &out) != 0) {
		chomp(out);
		snprintf(err, errlen, "vtysh write memory failed: %s", out);
		free(out);
		return -1;
	}
	free(out);
	return 0;
}

int rs_frr_apply(const struct rs_nc_conf *want, bool save, char *err,
		 size_t errlen)
{
	struct rs_nc_conf live;
	size_t i, touched = 0;
	int rc;

	if (rs_frr_read(&live, err, errlen) < 0)
		return -1;
	for (i = 0; want && i < want->n_inst; i++)
		if (!rs_nc_inst_get(&live, want->inst[i].vrf, false)) {
			snprintf(err, errlen,
				 "BGP instance (vrf %s) does not exist in bgpd",
				 want->inst[i].vrf);
			rs_nc_conf_free(&live);
			return -1;
		}
	rc = conf_apply(&live, want, &touched, err, errlen);
	if (rc < 0 && touched)
		restore(&live, err, errlen);
	rs_nc_conf_free(&live);
	if (rc < 0 || !touched)
		return rc;
	if (save && rs_frr_save(err, errlen) < 0)
		return -1;
	return 1;
}

char *rs_nc_format(const struct rs_nc_conf *c)
{
	char *text = NULL;
	size_t len = 0, i, k;
	FILE *f = open_memstream(&text, &len);

	if (!f)
		abort();
	for (i = 0; i < c->n_inst; i++) {
		const struct rs_nc_inst *in = &c->inst[i];

		if (!in->present)
			continue;
		if (!strcmp(in->vrf, "default"))
			fprintf(f, "router bgp %s\n", in->asn);
		else
			fprintf(f, "router bgp %s vrf %s\n", in->asn, in->vrf);
		for (k = 0; k < in->n_neigh; k++)
			if (in->neigh[k].role)
				fprintf(f, " neighbor %s route-server role %s\n",
					in->neigh[k].name,
					rs_nc_role_cli(in->neigh[k].role));
		if (in->b2b)
			fprintf(f, " bgp route-server branch-to-branch\n");
		if (in->pref != RS_NC_PREF_ER)
			fprintf(f, " bgp route-server routing-preference %s\n",
				rs_nc_pref_name(in->pref));
		fprintf(f, "exit\n");
	}
	fclose(f);
	return text;
}

static enum rs_nc_role role_of(const struct rs_nc_inst *in, const char *name)
{
	struct rs_nc_neigh *nb =
		in ? rs_nc_neigh_get((struct rs_nc_inst *)in, name, false)
		   : NULL;

	return nb ? nb->role : RS_NC_NONE;
}

static void merge_roles(struct rs_nc_inst *o, const struct rs_nc_inst *from,
			const struct rs_nc_inst *base,
			const struct rs_nc_inst *want,
			const struct rs_nc_inst *live)
{
	size_t k;

	for (k = 0; from && k < from->n_neigh; k++) {
		const char *name = from->neigh[k].name;
		enum rs_nc_role w = role_of(want, name), b = role_of(base, name);
		enum rs_nc_role r = w != b ? w : role_of(live, name);

		if (r && !rs_nc_neigh_get(o, name, false))
			rs_nc_neigh_get(o, name, true)->role = r;
	}
}

static void merge_inst(struct rs_nc_conf *out, const char *vrf,
		       const struct rs_nc_inst *base,
		       const struct rs_nc_inst *want,
		       const struct rs_nc_inst *live)
{
	struct rs_nc_inst *o = rs_nc_inst_get(out, vrf, true);
	bool wb = want && want->b2b, bb = base && base->b2b;
	enum rs_nc_pref wp = want ? want->pref : RS_NC_PREF_ER;
	enum rs_nc_pref bp = base ? base->pref : RS_NC_PREF_ER;

	if (live) {
		snprintf(o->asn, sizeof(o->asn), "%s", live->asn);
		o->present = live->present;
	}
	o->b2b = wb != bb ? wb : (live && live->b2b);
	o->pref = wp != bp ? wp : (live ? live->pref : RS_NC_PREF_ER);
	merge_roles(o, want, base, want, live);
	merge_roles(o, base, base, want, live);
	merge_roles(o, live, base, want, live);
}

void rs_nc_merge(const struct rs_nc_conf *base, const struct rs_nc_conf *want,
		 const struct rs_nc_conf *live, struct rs_nc_conf *out)
{
	size_t i;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < live->n_inst; i++) {
		const char *vrf = live->inst[i].vrf;

		merge_inst(out, vrf,
			   rs_nc_inst_get((struct rs_nc_conf *)base, vrf, false),
			   rs_nc_inst_get((struct rs_nc_conf *)want, vrf, false),
			   &live->inst[i]);
	}
	/* instances bgpd lacks: rs_frr_apply() names them */
	for (i = 0; i < want->n_inst; i++)
		if (!rs_nc_inst_get((struct rs_nc_conf *)live,
				    want->inst[i].vrf, false))
			merge_inst(out, want->inst[i].vrf,
				   rs_nc_inst_get((struct rs_nc_conf *)base,
						  want->inst[i].vrf, false),
				   &want->inst[i], NULL);
}
