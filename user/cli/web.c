// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * flowmaster web: a read-only web view of a flowmaster database (pages
 * and a JSON API, user/web/), until SIGINT or SIGTERM.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli/cli.h"
#include "lib/log.h"
#include "lib/opts.h"
#include "web/api.h"
#include "web/server.h"

#define WEB_LISTEN_DEFAULT "127.0.0.1:8080"

struct web_cfg {
	const char *db, *listen, *token;
	uint64_t max_conns, query_ms;
};

static const struct opt web_table[] = {
	{ "db", 0, OPT_STRING, "PATH", "database", .def = FM_DEFAULT_DB,
	  OPT_AT(struct web_cfg, db) },
	{ "listen", 0, OPT_STRING, "ADDR:PORT",
	  "where to serve; an address other than loopback serves every host that reaches it",
	  .def = WEB_LISTEN_DEFAULT, OPT_AT(struct web_cfg, listen) },
	{ "token", 0, OPT_STRING, "T",
	  "a secret every request must carry (?token=T once, or the header"
	  " 'Authorization: Bearer T'): 8 to 127 of A-Z a-z 0-9 - . _ ~; or from"
	  " FLOWMASTER_WEB_TOKEN in the environment, which ps does not show",
	  OPT_AT(struct web_cfg, token) },
	{ "max-connections", 0, OPT_U64, "N", "connections at once, {min} to {max}", .def = "32",
	  OPT_AT(struct web_cfg, max_conns), .min = 4, .max = 1024 },
	{ "query-timeout", 0, OPT_U64, "MS",
	  "longest a query may run, {min} to {max} ms; a slower one is answered 503",
	  .def = OPT_STR(WEB_QUERY_MS_DEFAULT), OPT_AT(struct web_cfg, query_ms), .min = 10,
	  .max = 60000 },
	{ 0 },
};

const struct opts_cmd web_opts = {
	.name = "web",
	.usage = "usage: flowmaster web [--db PATH] [--listen ADDR:PORT] [--token T]\n"
		 "                      [--max-connections N] [--query-timeout MS]",
	.about = "Serve a web view of a flowmaster database: traffic over time, top talkers\n"
		 "and flows, hosts, devices and the daemon's health, and the JSON API the\n"
		 "pages read (/api/...). The database is only read, so this works while\n"
		 "'flowmaster run' writes it; it may also not exist yet.\n",
	.footer = "Exit status: 0 after SIGINT or SIGTERM, 1 if it cannot listen, 2 for a\n"
		  "usage error.\n",
	.opts = web_table,
	.cfg_size = sizeof(struct web_cfg),
};

/* ADDR:PORT or [ADDR6]:PORT, numeric. Returns 0 or -EINVAL (printed). */
static int parse_listen(const char *s, struct sockaddr_storage *out)
{
	char host[64];
	const char *colon = strrchr(s, ':'), *h = s;
	size_t n;
	struct addrinfo hints = { .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE,
				  .ai_socktype = SOCK_STREAM },
			*ai = NULL;
	char *end;
	unsigned long port;

	if (!colon || colon == s)
		goto bad;
	n = (size_t)(colon - s);
	if (s[0] == '[') {
		if (n < 3 || s[n - 1] != ']')
			goto bad;
		h = s + 1;
		n -= 2;
	}
	if (n >= sizeof(host))
		goto bad;
	memcpy(host, h, n);
	host[n] = 0;
	errno = 0;
	port = strtoul(colon + 1, &end, 10);
	if (!colon[1] || *end || errno || port > 65535)
		goto bad;
	if (getaddrinfo(host, colon + 1, &hints, &ai) || !ai)
		goto bad;
	memset(out, 0, sizeof(*out));
	memcpy(out, ai->ai_addr, ai->ai_addrlen);
	freeaddrinfo(ai);
	return 0;
bad:
	fprintf(stderr,
		"flowmaster: --listen: '%s' is not ADDR:PORT (127.0.0.1:8080, [::1]:8080)\n", s);
	return -EINVAL;
}

static bool is_loopback(const struct sockaddr_storage *a)
{
	if (a->ss_family == AF_INET)
		return (ntohl(((const struct sockaddr_in *)a)->sin_addr.s_addr) >> 24) == 127;
	return IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *)a)->sin6_addr);
}

int cmd_web(int argc, char **argv)
{
	struct web_server_cfg sc = { 0 };
	struct web_server *s;
	struct web_cfg c;
	char addr[64];
	unsigned port = 0;
	sigset_t set;
	int err, sig;

	err = opts_parse(&web_opts, argc, argv, &c);
	if (err != OPTS_RUN)
		return err;
	if (parse_listen(c.listen, &sc.addr))
		return 2;
	if (!c.token && getenv("FLOWMASTER_WEB_TOKEN") && getenv("FLOWMASTER_WEB_TOKEN")[0])
		c.token = getenv("FLOWMASTER_WEB_TOKEN");
	if (c.token && !web_token_valid(c.token)) {
		fprintf(stderr,
			"flowmaster: --token: 8 to 127 characters of A-Z a-z 0-9 - . _ ~\n");
		return 2;
	}
	fm_log_stamped = true; /* a service's log */
	sc.db = c.db;
	sc.token = c.token;
	sc.max_conns = (unsigned)c.max_conns;
	sc.query_ms = (unsigned)c.query_ms;
	if (!is_loopback(&sc.addr) && !c.token)
		pr_warn("web: listening on %s, beyond this host's loopback, without --token:"
			" anyone who reaches it can read the flows (give --token, or listen on"
			" 127.0.0.1)\n",
			c.listen);

	/* The signals, for sigwait, before the server's thread starts. */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	s = web_server_start(&sc, &port);
	if (!s)
		return 1;
	if (sc.addr.ss_family == AF_INET6)
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&sc.addr)->sin6_addr, addr + 1,
			  sizeof(addr) - 2),
			addr[0] = '[', strcat(addr, "]");
	else
		inet_ntop(AF_INET, &((struct sockaddr_in *)&sc.addr)->sin_addr, addr, sizeof(addr));
	pr_info("web: serving %s at http://%s:%u/%s\n", c.db, addr, port,
		c.token ? " (token required)" : "");
	sigwait(&set, &sig);
	pr_info("web: %s, stopping\n", strsignal(sig));
	web_server_stop(s);
	return 0;
}
