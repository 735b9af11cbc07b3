// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Route-server events from two snapshots of bgpd (see rs_events.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "rs_events.h"

static void *grow(void *p, size_t n, size_t size)
{
	/* one element more each time: snapshots are small */
	p = realloc(p, (n + 1) * size);
	if (!p)
		abort();
	return p;
}

static void copy_str(char *dst, size_t len, struct json_object *j)
{
	const char *s = j ? json_object_get_string(j) : NULL;

	snprintf(dst, len, "%s", s ? s : "");
}

static void inst_parse(struct rs_ev_inst *in, struct json_object *ji)
{
	struct json_object *arr, *neighs, *f;

	if (json_object_object_get_ex(ji, "warnings", &arr) &&
	    json_object_is_type(arr, json_type_array)) {
		size_t i, n = json_object_array_length(arr);

		for (i = 0; i < n; i++) {
			const char *w = json_object_get_string(
				json_object_array_get_idx(arr, i));

			if (!w)
				continue;
			in->warn = grow(in->warn, in->n_warn, sizeof(*in->warn));
			in->warn[in->n_warn] = strdup(w);
			if (!in->warn[in->n_warn])
				abort();
			in->n_warn++;
		}
	}
	if (!json_object_object_get_ex(ji, "neighbors", &neighs) ||
	    !json_object_is_type(neighs, json_type_object))
		return;
	json_object_object_foreach(neighs, name, jn)
	{
		struct rs_ev_neigh *nb;

		in->neigh = grow(in->neigh, in->n_neigh, sizeof(*in->neigh));
		nb = &in->neigh[in->n_neigh++];
		memset(nb, 0, sizeof(*nb));
		snprintf(nb->name, sizeof(nb->name), "%s", name);
		if (json_object_object_get_ex(jn, "role", &f))
			copy_str(nb->role, sizeof(nb->role), f);
		if (json_object_object_get_ex(jn, "bgpState", &f))
			copy_str(nb->state, sizeof(nb->state), f);
	}
}

int rs_ev_snap_parse(const char *json, struct rs_ev_snap *s)
{
	struct json_object *j = json ? json_tokener_parse(json) : NULL;

	memset(s, 0, sizeof(*s));
	if (!j || !json_object_is_type(j, json_type_object)) {
		if (j)
			json_object_put(j);
		return -1;
	}
	json_object_object_foreach(j, vrf, ji)
	{
		struct rs_ev_inst *in;

		if (!json_object_is_type(ji, json_type_object))
			continue;
		s->inst = grow(s->inst, s->n_inst, sizeof(*s->inst));
		in = &s->inst[s->n_inst++];
		memset(in, 0, sizeof(*in));
		snprintf(in->vrf, sizeof(in->vrf), "%s", vrf);
		inst_parse(in, ji);
	}
	json_object_put(j);
	return 0;
}

void rs_ev_snap_free(struct rs_ev_snap *s)
{
	for (size_t i = 0; i < s->n_inst; i++) {
		for (size_t k = 0; k < s->inst[i].n_warn; k++)
			free(s->inst[i].warn[k]);
		free(s->inst[i].warn);
		free(s->inst[i].neigh);
	}
	free(s->inst);
	memset(s, 0, sizeof(*s));
}

static const struct rs_ev_inst *snap_inst(const struct rs_ev_snap *s,
					  const char *vrf)
{
	for (size_t i = 0; i < s->n_inst; i++)
		if (!strcmp(s->inst[i].vrf, vrf))
			return &s->inst[i];
	return NULL;
}

static bool has_warn(const struct rs_ev_inst *in, const char *w)
{
	for (size_t i = 0; in && i < in->n_warn; i++)
		if (!strcmp(in->warn[i], w))
			return true;
	return false;
}

static const struct rs_ev_neigh *inst_neigh(const struct rs_ev_inst *in,
					    const char *name)
{
	for (size_t i = 0; in && i < in->n_neigh; i++)
		if (!strcmp(in->neigh[i].name, name))
			return &in->neigh[i];
	return NULL;
}

/* warnings of a that b lacks */
static void warn_minus(const struct rs_ev_inst *a, const struct rs_ev_inst *b,
		       enum rs_ev_kind kind, rs_ev_emit_fn emit, void *ctx)
{
	for (size_t i = 0; i < a->n_warn; i++) {
		struct rs_ev ev = { .kind = kind, .vrf = a->vrf };

		if (has_warn(b, a->warn[i]))
			continue;
		ev.warning = a->warn[i];
		emit(&ev, ctx);
	}
}

void rs_ev_diff_state(const struct rs_ev_snap *old,
		      const struct rs_ev_snap *neu, rs_ev_emit_fn emit,
		      void *ctx)
{
	size_t i, k;

	for (i = 0; i < neu->n_inst; i++)
		warn_minus(&neu->inst[i], snap_inst(old, neu->inst[i].vrf),
			   RS_EV_WARN_RAISED, emit, ctx);
	for (i = 0; i < old->n_inst; i++)
		warn_minus(&old->inst[i], snap_inst(neu, old->inst[i].vrf),
			   RS_EV_WARN_CLEARED, emit, ctx);
	/* sessions: only neighbors with a role in both snapshots (a role
	 * given to or taken from a neighbor is a config change)
	 */
	for (i = 0; i < neu->n_inst; i++) {
		const struct rs_ev_inst *ni = &neu->inst[i];
		const struct rs_ev_inst *oi = snap_inst(old, ni->vrf);

		for (k = 0; oi && k < ni->n_neigh; k++) {
			const struct rs_ev_neigh *nn = &ni->neigh[k];
			const struct rs_ev_neigh *on = inst_neigh(oi, nn->name);
			bool up = !strcmp(nn->state, "Established");
			struct rs_ev ev = { .kind = RS_EV_SESSION };

			if (!on || up == !strcmp(on->state, "Established"))
				continue;
			ev.vrf = ni->vrf;
			ev.neighbor = nn->name;
			ev.role = nn->role;
			ev.up = up;
			ev.old_state = on->state;
			ev.new_state = nn->state;
			emit(&ev, ctx);
		}
	}
}

/* ------------------------------------------------------------------ */
/* configuration                                                      */

static const struct rs_nc_inst *conf_inst(const struct rs_nc_conf *c,
					  const char *vrf)
{
	for (size_t i = 0; c && i < c->n_inst; i++)
		if (!strcmp(c->inst[i].vrf, vrf))
			return &c->inst[i];
	return NULL;
}

static enum rs_nc_role conf_role(const struct rs_nc_inst *in, const char *name)
{
	for (size_t i = 0; in && i < in->n_neigh; i++)
		if (!strcmp(in->neigh[i].name, name))
			return in->neigh[i].role;
	return RS_NC_NONE;
}

static void conf_event(const char *vrf, const char *setting,
		       const char *neighbor, const char *oldv,
		       const char *newv, rs_ev_emit_fn emit, void *ctx)
{
	struct rs_ev ev = {
		.kind = RS_EV_CONFIG,
		.vrf = vrf,
		.setting = setting,
		.neighbor = neighbor,
		.old_value = oldv,
		.new_value = newv,
	};

	emit(&ev, ctx);
}

static const char *role_or_null(enum rs_nc_role r)
{
	return r == RS_NC_NONE ? NULL : rs_nc_role_yang(r);
}

/* Changes of one instance from o to n (either may be NULL: the
 * defaults); each change is emitted once.
 */
static void diff_inst(const char *vrf, const struct rs_nc_inst *o,
		      const struct rs_nc_inst *n, rs_ev_emit_fn emit,
		      void *ctx)
{
	bool ob = o && o->b2b, nb = n && n->b2b;
	enum rs_nc_pref op = o ? o->pref : RS_NC_PREF_ER;
	enum rs_nc_pref np = n ? n->pref : RS_NC_PREF_ER;
	size_t k;

	if (ob != nb)
		conf_event(vrf, "branch-to-branch", NULL, ob ? "true" : "false",
			   nb ? "true" : "false", emit, ctx);
	if (op != np)
		conf_event(vrf, "routing-preference", NULL, rs_nc_pref_name(op),
			   rs_nc_pref_name(np), emit, ctx);
	/* roles of o's neighbors (changed or removed) */
	for (k = 0; o && k < o->n_neigh; k++) {
		enum rs_nc_role r = o->neigh[k].role;
		enum rs_nc_role nr = conf_role(n, o->neigh[k].name);

		if (r != RS_NC_NONE && r != nr)
			conf_event(vrf, "role", o->neigh[k].name,
				   role_or_null(r), role_or_null(nr), emit,
				   ctx);
	}
	/* roles n has where o had none */
	for (k = 0; n && k < n->n_neigh; k++) {
		enum rs_nc_role r = n->neigh[k].role;

		if (r != RS_NC_NONE &&
		    conf_role(o, n->neigh[k].name) == RS_NC_NONE)
			conf_event(vrf, "role", n->neigh[k].name, NULL,
				   role_or_null(r), emit, ctx);
	}
}

void rs_ev_diff_conf(const struct rs_nc_conf *old,
		     const struct rs_nc_conf *neu, rs_ev_emit_fn emit,
		     void *ctx)
{
	size_t i;

	for (i = 0; i < old->n_inst; i++)
		diff_inst(old->inst[i].vrf, &old->inst[i],
			  conf_inst(neu, old->inst[i].vrf), emit, ctx);
	/* instances only neu has */
	for (i = 0; i < neu->n_inst; i++)
		if (!conf_inst(old, neu->inst[i].vrf))
			diff_inst(neu->inst[i].vrf, NULL, &neu->inst[i], emit,
				  ctx);
}

void rs_ev_conf_copy(struct rs_nc_conf *dst, const struct rs_nc_conf *src)
{
	memset(dst, 0, sizeof(*dst));
	for (size_t i = 0; i < src->n_inst; i++) {
		const struct rs_nc_inst *si = &src->inst[i];
		struct rs_nc_inst *di = rs_nc_inst_get(dst, si->vrf, true);

		di->present = si->present;
		di->b2b = si->b2b;
		di->pref = si->pref;
		snprintf(di->asn, sizeof(di->asn), "%s", si->asn);
		for (size_t k = 0; k < si->n_neigh; k++)
			if (si->neigh[k].role != RS_NC_NONE)
				rs_nc_neigh_get(di, si->neigh[k].name, true)
					->role = si->neigh[k].role;
	}
}
