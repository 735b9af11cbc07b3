// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Bridge from the netconfd SIL to bgpd through vtysh (see rs_frr.h).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "rs_frr.h"

static char *s_vtysh, *s_sock, *s_cfgdir;
static int s_timeout = 10;

void rs_frr_settings_load(void)
{
	const char *v;

	free(s_vtysh);
	free(s_sock);
	free(s_cfgdir);
	v = getenv("FRR_RS_VTYSH");
	s_vtysh = strdup(v && *v ? v : "vtysh");
	v = getenv("FRR_RS_VTY_SOCKET");
	s_sock = v && *v ? strdup(v) : NULL;
	v = getenv("FRR_RS_CONFIG_DIR");
	s_cfgdir = v && *v ? strdup(v) : NULL;
	v = getenv("FRR_RS_TIMEOUT");
	s_timeout = v && atoi(v) > 0 ? atoi(v) : 10;
}

struct buf {
	char *p;
	size_t len, cap;
};

static void buf_add(struct buf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		b->cap = (b->len + n + 1) * 2 + 256;
		b->p = realloc(b->p, b->cap);
		if (!b->p)
			abort();
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = 0;
}

static void buf_printf(struct buf *b, const char *fmt, ...)
{
	char tmp[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n > 0)
		buf_add(b, tmp, (size_t)n < sizeof(tmp) ? (size_t)n
							: sizeof(tmp) - 1);
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static int vtysh_run(const char *const *cmds, size_t ncmds, bool echo,
		     char **out)
{
	struct buf b = {};
	const char **argv;
	size_t i, a = 0;
	int pfd[2], status = 0, rc;
	long deadline;
	pid_t pid;

	if (!s_vtysh)
		rs_frr_settings_load();
	argv = calloc(2 * ncmds + 10, sizeof(*argv));
	if (!argv)
		abort();
	argv[a++] = s_vtysh;
	if (s_sock) {
		argv[a++] = "--vty_socket";
		argv[a++] = s_sock;
	}
	if (s_cfgdir) {
		argv[a++] = "--config_dir";
		argv[a++] = s_cfgdir;
	}
	if (echo)
		argv[a++] = "-E";
	for (i = 0; i < ncmds; i++) {
		argv[a++] = "-c";
		argv[a++] = cmds[i];
	}
	argv[a] = NULL;

	if (pipe2(pfd, O_CLOEXEC) < 0) {
		free(argv);
		buf_printf(&b, "pipe: %s", strerror(errno));
		*out = b.p;
		return -1;
	}
	pid = fork();
	if (pid < 0) {
		close(pfd[0]);
		close(pfd[1]);
		free(argv);
		buf_printf(&b, "fork: %s", strerror(errno));
		*out = b.p;
		return -1;
	}
	if (pid == 0) {
		int nul = open("/dev/null", O_RDONLY);

		signal(SIGPIPE, SIG_DFL);
		signal(SIGCHLD, SIG_DFL);
		dup2(nul, 0);
		dup2(pfd[1], 1);
		dup2(pfd[1], 2);
		execvp(argv[0], (char *const *)argv);
		dprintf(1, "cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	free(argv);
	close(pfd[1]);
	deadline = now_ms() + s_timeout * 1000L;
	for (;;) {
		struct pollfd p = { .fd = pfd[0], .events = POLLIN };
		long left = deadline - now_ms();
		char tmp[4096];
		ssize_t n;

		if (left <= 0) {
			kill(pid, SIGKILL);
			buf_printf(&b, "\nvtysh timed out after %d s", s_timeout);
			status = -2;
			break;
		}
		rc = poll(&p, 1, (int)left);
		if (rc < 0 && errno == EINTR)
			continue;
		if (rc <= 0)
			continue;
		n = read(pfd[0], tmp, sizeof(tmp));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		buf_add(&b, tmp, (size_t)n);
	}
	close(pfd[0]);
	{
		bool timed_out = status == -2;

		while ((rc = waitpid(pid, &status, 0)) < 0 && errno == EINTR)
			;
		if (!b.p)
			buf_add(&b, "", 0);
		*out = b.p;
		if (timed_out)
			return -1;
	}
	if (rc < 0) /* SIGCHLD ignored by the host process: no status */
		return 0;
	if (WIFEXITED(status))
		return WEXITSTATUS(status) == 127 ? -1 : WEXITSTATUS(status);
	return -1;
}

int rs_frr_vtysh(const char *const *cmds, size_t ncmds, char **out)
{
	return vtysh_run(cmds, ncmds, false, out);
}

/* The command a "vtysh -E" echo line shows ("PROMPT# COMMAND"), or NULL. */
static const char *echoed(const char *line, size_t len, size_t *cmdlen)
{
	const char *p = memmem(line, len, "# ", 2);

	if (!p)
		return NULL;
	*cmdlen = len - (size_t)(p + 2 - line);
	return p + 2;
}

/* vtysh -E prints each command (after the prompt) before running it and
 * stops at the first that fails: the last command echoed is the one
 * that failed. The echo lines are taken out of *out.
 */
int rs_frr_vtysh_config(const char *const *cmds, size_t ncmds, char **out,
			size_t *failed)
{
	int rc = vtysh_run(cmds, ncmds, true, out);
	char *line = *out, *w = *out;
	size_t k = 0;

	*failed = ncmds;
	while (line && *line) {
		char *eol = strchrnul(line, '\n');
		size_t len = (size_t)(eol - line), el, cl;
		const char *e = echoed(line, len, &el);

		if (e && k < ncmds) {
			cl = strlen(cmds[k]);
			/* a match, or the start of one (what vtysh was given) */
			if (el >= cl && !memcmp(e, cmds[k], cl) &&
			    (el == cl || e[cl] == ' ')) {
				k++;
				line = *eol ? eol + 1 : eol;
				continue;
			}
		}
		memmove(w, line, len);
		w += len;
		if (*eol)
			*w++ = '\n';
		line = *eol ? eol + 1 : eol;
	}
	if (w)
		*w = 0;
	if (rc != 0 && k > 0)
		*failed = k - 1;
	return rc;
}

/* ------------------------------------------------------------------ */

const char *rs_nc_role_yang(enum rs_nc_role r)
{
	switch (r) {
	case RS_NC_NVA:
		return "nva";
	case RS_NC_ER:
		return "gateway-expressroute";
	case RS_NC_VPN:
		return "gateway-vpn";
	default:
		return "";
	}
}

const char *rs_nc_role_cli(enum rs_nc_role r)
{
	switch (r) {
	case RS_NC_NVA:
		return "nva";
	case RS_NC_ER:
		return "gateway expressroute";
	case RS_NC_VPN:
		return "gateway vpn";
	default:
		return "";
	}
}

enum rs_nc_role rs_nc_role_from_yang(const char *s)
{
	if (!s)
		return RS_NC_NONE;
	if (!strcmp(s, "nva"))
		return RS_NC_NVA;
	if (!strcmp(s, "gateway-expressroute") ||
	    !strcmp(s, "gateway expressroute"))
		return RS_NC_ER;
	if (!strcmp(s, "gateway-vpn") || !strcmp(s, "gateway vpn"))
		return RS_NC_VPN;
	return RS_NC_NONE;
}

const char *rs_nc_pref_name(enum rs_nc_pref p)
{
	switch (p) {
	case RS_NC_PREF_VPN:
		return "vpn";
	case RS_NC_PREF_ASPATH:
		return "as-path";
	default:
		return "expressroute";
	}
}

enum rs_nc_pref rs_nc_pref_from_name(const char *s)
{
	if (s && !strcmp(s, "vpn"))
		return RS_NC_PREF_VPN;
	if (s && !strcmp(s, "as-path"))
		return RS_NC_PREF_ASPATH;
	return RS_NC_PREF_ER;
}

void rs_nc_conf_free(struct rs_nc_conf *c)
{
	size_t i;

	for (i = 0; i < c->n_inst; i++)
		free(c->inst[i].neigh);
	free(c->inst);
	memset(c, 0, sizeof(*c));
}

struct rs_nc_inst *rs_nc_inst_get(struct rs_nc_conf *c, const char *vrf,
				  bool create)
{
	size_t i;

	for (i = 0; i < c->n_inst; i++)
		if (!strcmp(c->inst[i].vrf, vrf))
			return &c->inst[i];
	if (!create)
		return NULL;
	if (c->n_inst == c->cap_inst) {
		c->cap_inst = c->cap_inst * 2 + 4;
		c->inst = realloc(c->inst, c->cap_inst * sizeof(*c->inst));
		if (!c->inst)
			abort();
	}
	memset(&c->inst[c->n_inst], 0, sizeof(c->inst[0]));
	snprintf(c->inst[c->n_inst].vrf, RS_NC_VRF_LEN, "%s", vrf);
	return &c->inst[c->n_inst++];
}

struct rs_nc_neigh *rs_nc_neigh_get(struct rs_nc_inst *in, const char *name,
				    bool create)
{
	size_t i;

	for (i = 0; i < in->n_neigh; i++)
		if (!strcmp(in->neigh[i].name, name))
			return &in->neigh[i];
	if (!create)
		return NULL;
	if (in->n_neigh == in->cap_neigh) {
		in->cap_neigh = in->cap_neigh * 2 + 8;
		in->neigh = realloc(in->neigh,
				    in->cap_neigh * sizeof(*in->neigh));
		if (!in->neigh)
			abort();
	}
	memset(&in->neigh[in->n_neigh], 0, sizeof(in->neigh[0]));
	snprintf(in->neigh[in->n_neigh].name, RS_NC_NAME_LEN, "%s", name);
	return &in->neigh[in->n_neigh++];
}

/* Splits a line into at most max whitespace-separated words. */
static size_t words(char *line, char **w, size_t max)
{
	size_t n = 0;
	char *save = NULL, *t;

	for (t = strtok_r(line, " \t\r", &save); t && n < max;
	     t = strtok_r(NULL, " \t\r", &save))
		w[n++] = t;
	return n;
}

void rs_nc_parse_running(const char *text, struct rs_nc_conf *c)
{
	char *copy = strdup(text), *save = NULL, *line;
	struct rs_nc_inst *cur = NULL;

	if (!copy)
		abort();
	for (line = strtok_r(copy, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char *w[8];
		size_t n;
		bool top = line[0] != ' ';
		bool lvl1 = line[0] == ' ' && line[1] != ' ';

		n = words(line, w, 8);
		if (!n)
			continue;
		if (top) {
			cur = NULL;
			/* router bgp ASN [vrf NAME]; views are not handled */
			if (n >= 3 && !strcmp(w[0], "router") &&
			    !strcmp(w[1], "bgp")) {
				const char *vrf = "default";

				if (n >= 5 && !strcmp(w[3], "vrf"))
					vrf = w[4];
				else if (n > 3)
					continue;
				cur = rs_nc_inst_get(c, vrf, true);
				cur->present = true;
				snprintf(cur->asn, sizeof(cur->asn), "%s",
					 w[2]);
			}
			continue;
		}
		if (!cur)
			continue;
		if (lvl1 && n == 3 && !strcmp(w[0], "bgp") &&
		    !strcmp(w[1], "route-server") &&
		    !strcmp(w[2], "branch-to-branch")) {
			cur->b2b = true;
			continue;
		}
		/* printed only when not the default (expressroute) */
		if (lvl1 && n == 4 && !strcmp(w[0], "bgp") &&
		    !strcmp(w[1], "route-server") &&
		    !strcmp(w[2], "routing-preference")) {
			cur->pref = rs_nc_pref_from_name(w[3]);
			continue;
		}
		if (n >= 3 && !strcmp(w[0], "neighbor")) {
			struct rs_nc_neigh *nb = rs_nc_neigh_get(cur, w[1], true);

			if (!lvl1)
				continue;
			if (n == 3 && !strcmp(w[2], "peer-group"))
				nb->is_group = true;
			else if (n == 4 && !strcmp(w[2], "peer-group"))
				snprintf(nb->group, RS_NC_NAME_LEN, "%s", w[3]);
			else if (n == 5 && !strcmp(w[2], "interface") &&
				 !strcmp(w[3], "peer-group"))
				snprintf(nb->group, RS_NC_NAME_LEN, "%s", w[4]);
			else if (n >= 5 && !strcmp(w[2], "route-server") &&
				 !strcmp(w[3], "role")) {
				if (n == 5)
					nb->role = rs_nc_role_from_yang(w[4]);
				else if (n == 6 && !strcmp(w[4], "gateway")) {
					char r[32];

					snprintf(r, sizeof(r), "gateway %s",
						 w[5]);
					nb->role = rs_nc_role_from_yang(r);
				}
			}
		}
	}
	free(copy);
}

int rs_frr_read(struct rs_nc_conf *c, char *err, size_t errlen)
{
	const char *cmd = "show running-config";
	char *out = NULL;
	int rc = rs_frr_vtysh(&cmd, 1, &out);

	memset(c, 0, sizeof(*c));
	if (rc != 0 || !strstr(out, "router bgp")) {
		size_t l = strlen(out);

		while (l && (out[l - 1] == '\n' || out[l - 1] == ' '))
			out[--l] = 0;
		/* vtysh's own error only: with bgpd down, vtysh prints the
		 * other daemons' config (passwords, keys) and exits 0
		 */
		snprintf(err, errlen, "bgpd is unreachable through vtysh (%s)",
			 rc != 0 && *out ? out
					 : "no BGP instance in running-config");
		free(out);
		return -1;
	}
	rs_nc_parse_running(out, c);
	free(out);
	return 0;
}

void rs_nc_count_roles(const struct rs_nc_inst *live,
		       const struct rs_nc_inst *want, unsigned int n[4])
{
	size_t i;

	memset(n, 0, 4 * sizeof(n[0]));
	for (i = 0; i < live->n_neigh; i++) {
		const struct rs_nc_neigh *nb = &live->neigh[i];
		struct rs_nc_neigh *w;
		enum rs_nc_role r = RS_NC_NONE;

		if (nb->is_group)
			continue;
		w = rs_nc_neigh_get((struct rs_nc_inst *)want, nb->name, false);
		if (w)
			r = w->role;
		if (!r && nb->group[0]) {
			w = rs_nc_neigh_get((struct rs_nc_inst *)want,
					    nb->group, false);
			if (w)
				r = w->role;
		}
		n[r]++;
	}
}
