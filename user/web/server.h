/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The web view's HTTP server (libmicrohttpd): pages and scripts embedded
 * in the binary, the JSON API (web/api.h), a token on every request when
 * one is set, bounded connections and request sizes, GET and HEAD only.
 */
#ifndef FM_WEB_SERVER_H
#define FM_WEB_SERVER_H

#include <stdint.h>
#include <sys/socket.h>

struct web_server_cfg {
	const char *db;
	struct sockaddr_storage addr; /* where to listen */
	const char *token;	      /* NULL or "": none */
	unsigned max_conns, query_ms;
};

struct web_server;

/* Start serving (a thread of libmicrohttpd's). Returns NULL after a
 * failure, printed. The port it listens on (useful with port 0) goes to
 * *port. */
struct web_server *web_server_start(const struct web_server_cfg *cfg, unsigned *port);
void web_server_stop(struct web_server *s);

/* A token may only hold these (it travels in a cookie and a URL). */
int web_token_valid(const char *t);

#endif
