// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Checks of rs_events.c (the snapshot comparison behind the notifications)
 * on cases the ncclient tests cannot easily produce: instances appearing
 * and going, non-Established state changes, neighbors appearing, several
 * changes in one poll. Built and run by test_netconf_notify.py. Prints
 * each event as one line; exit status 1 on the first mismatch.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rs_events.h"

static char got[4096];

static void emit(const struct rs_ev *ev, void *ctx)
{
	static const char *const kind[] = { "raised", "cleared", "session",
					    "config" };
	size_t n = strlen(got);

	(void)ctx;
	snprintf(got + n, sizeof(got) - n, "%s %s %s %s %s %s %s %s|",
		 kind[ev->kind], ev->vrf,
		 ev->warning ? ev->warning : "-",
		 ev->neighbor ? ev->neighbor : "-",
		 ev->kind == RS_EV_SESSION ? (ev->up ? "up" : "down")
					   : (ev->setting ? ev->setting : "-"),
		 ev->kind == RS_EV_SESSION ? ev->old_state
		 : ev->old_value	   ? ev->old_value
					   : "-",
		 ev->kind == RS_EV_SESSION ? ev->new_state
		 : ev->new_value	   ? ev->new_value
					   : "-",
		 ev->role ? ev->role : "-");
}

static int failures;

static void expect(const char *what, const char *want)
{
	if (strcmp(got, want)) {
		printf("FAIL %s\n  want: %s\n  got:  %s\n", what, want, got);
		failures++;
	} else {
		printf("ok   %s\n", what);
	}
	got[0] = 0;
}

static void state(const char *what, const char *a, const char *b,
		  const char *want)
{
	struct rs_ev_snap sa, sb;

	if (rs_ev_snap_parse(a, &sa) || rs_ev_snap_parse(b, &sb)) {
		printf("FAIL %s: JSON not parsed\n", what);
		failures++;
		return;
	}
	rs_ev_diff_state(&sa, &sb, emit, NULL);
	rs_ev_snap_free(&sa);
	rs_ev_snap_free(&sb);
	expect(what, want);
}

static void conf(const char *what, const char *a, const char *b,
		 const char *want)
{
	struct rs_nc_conf ca, cb, copy;

	/* rs_nc_parse_running() adds to what c has */
	memset(&ca, 0, sizeof(ca));
	memset(&cb, 0, sizeof(cb));
	rs_nc_parse_running(a, &ca);
	rs_nc_parse_running(b, &cb);
	/* the poller keeps a copy: compare through it */
	rs_ev_conf_copy(&copy, &ca);
	rs_ev_diff_conf(&copy, &cb, emit, NULL);
	rs_nc_conf_free(&ca);
	rs_nc_conf_free(&cb);
	rs_nc_conf_free(&copy);
	expect(what, want);
}

#define N(name, role, st)                                                     \
	"\"" name "\":{\"role\":\"" role "\",\"bgpState\":\"" st "\"}"

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	const char *base =
		"{\"default\":{\"warnings\":[\"w1\",\"w2\"],\"neighbors\":{" N(
			"10.0.0.2", "nva", "Established") "," N("10.0.0.3",
								"gateway-vpn",
								"Active") "}}}";

	state("same snapshot: nothing", base, base, "");
	state("warning set difference",
	      base,
	      "{\"default\":{\"warnings\":[\"w2\",\"w3\"],\"neighbors\":{}}}",
	      "raised default w3 - - - - -|cleared default w1 - - - - -|");
	state("session down, non-Established change silent, new neighbor silent",
	      base,
	      "{\"default\":{\"warnings\":[\"w1\",\"w2\"],\"neighbors\":{" N(
		      "10.0.0.2", "nva", "Idle") "," N("10.0.0.3",
						       "gateway-vpn",
						       "Connect") "," N("10.0.0.4",
									"nva",
									"Established") "}}}",
	      "session default - 10.0.0.2 down Established Idle nva|");
	state("session up with the new role",
	      "{\"blue\":{\"neighbors\":{" N("10.9.0.2", "nva", "OpenConfirm") "}}}",
	      "{\"blue\":{\"neighbors\":{" N("10.9.0.2", "gateway-expressroute",
					   "Established") "}}}",
	      "session blue - 10.9.0.2 up OpenConfirm Established gateway-expressroute|");
	state("instance gone: its warnings cleared", base, "{}",
	      "cleared default w1 - - - - -|cleared default w2 - - - - -|");
	{
		struct rs_ev_snap s;

		if (rs_ev_snap_parse("% BGP instance not found", &s) == 0) {
			printf("FAIL non-JSON accepted\n");
			failures++;
		}
	}

	conf("b2b, preference and roles",
	     "router bgp 65515\n neighbor 10.0.0.2 route-server role nva\n"
	     " neighbor 10.0.0.3 route-server role gateway expressroute\nexit\n",
	     "router bgp 65515\n bgp route-server branch-to-branch\n"
	     " bgp route-server routing-preference as-path\n"
	     " neighbor 10.0.0.2 route-server role gateway vpn\n"
	     " neighbor 10.0.0.4 route-server role nva\nexit\n",
	     "config default - - branch-to-branch false true -|"
	     "config default - - routing-preference expressroute as-path -|"
	     "config default - 10.0.0.2 role nva gateway-vpn -|"
	     "config default - 10.0.0.3 role gateway-expressroute - -|"
	     "config default - 10.0.0.4 role - nva -|");
	conf("instance without route-server config appears: nothing",
	     "router bgp 65515\nexit\n",
	     "router bgp 65515\nexit\nrouter bgp 65516 vrf blue\nexit\n", "");
	conf("instance with a role goes",
	     "router bgp 65516 vrf blue\n bgp route-server branch-to-branch\n"
	     " neighbor PG route-server role nva\nexit\n",
	     "", "config blue - - branch-to-branch true false -|"
		 "config blue - PG role nva - -|");
	return failures ? 1 : 0;
}
