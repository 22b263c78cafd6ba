// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The web view's HTTP server (web/server.h) on libmicrohttpd, which runs
 * every request in its one polling thread: requests are answered one
 * after another, so the single read-only database connection needs no
 * lock, and a query's time bound (web/api.c) bounds how long others wait.
 *
 * Limits: at most max_conns connections (and a quarter of them from one
 * address), 10 s of idleness each, 16 KiB of memory for a request's line
 * and headers (libmicrohttpd answers 414 or 431 past it), a query string
 * of QS_MAX_LEN bytes, no request body (GET and HEAD only). Paths are
 * looked up whole in fixed tables, never on a file system.
 */
#include <errno.h>
#include <microhttpd.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "lib/clock.h"
#include "lib/log.h"
#include "web/api.h"
#include "web/assets.h"
#include "web/buf.h"
#include "web/qs.h"
#include "web/server.h"

#define CONN_TIMEOUT_S 10
#define CONN_MEMORY (16 * 1024)
#define TOKEN_COOKIE "fm_token"

/* No inline script or style, nothing from elsewhere, never in a frame. */
static const char csp[] = "default-src 'none'; script-src 'self'; style-src 'self';"
			  " img-src 'self' data:; connect-src 'self'; base-uri 'none';"
			  " form-action 'self'; frame-ancestors 'none'";

/* The pages: each is the one HTML file, whose script draws what its path names. */
static const char *const pages[] = {
	"/", "/talkers", "/flows", "/host", "/devices", "/health", NULL
};

struct web_server {
	struct MHD_Daemon *d;
	struct web_db db;
	char token[128];
	const struct web_asset *index;
	int logged_err; /* the database's state as last logged */
};

/* A request, from its first line (uri_seen) to its end (completed). */
struct web_req {
	char *query; /* the raw query string, NULL when none */
	bool too_long;
};

int web_token_valid(const char *t)
{
	size_t n = strlen(t);

	if (n < 8 || n >= sizeof(((struct web_server *)0)->token))
		return 0;
	for (; *t; t++)
		if (!((*t >= 'a' && *t <= 'z') || (*t >= 'A' && *t <= 'Z') ||
		      (*t >= '0' && *t <= '9') || strchr("-._~", *t)))
			return 0;
	return 1;
}

static void *uri_seen(void *cls, const char *uri, struct MHD_Connection *c)
{
	struct web_req *r = calloc(1, sizeof(*r));
	const char *q = strchr(uri, '?');

	(void)cls;
	(void)c;
	if (r && q) {
		size_t n = strlen(q + 1);

		if (n > QS_MAX_LEN)
			r->too_long = true;
		else
			r->query = strndup(q + 1, n);
	}
	return r;
}

static void completed(void *cls, struct MHD_Connection *c, void **req_cls,
		      enum MHD_RequestTerminationCode toe)
{
	struct web_req *r = *req_cls;

	(void)cls;
	(void)c;
	(void)toe;
	if (r) {
		free(r->query);
		free(r);
	}
	*req_cls = NULL;
}

/* a == b in time that depends only on their lengths. */
static bool same_secret(const char *a, const char *b)
{
	size_t na = strlen(a), nb = strlen(b);
	unsigned char diff = na != nb;

	for (size_t i = 0; i < na; i++)
		diff |= (unsigned char)a[i] ^ (unsigned char)b[i % (nb ? nb : 1)];
	return !diff;
}

static enum MHD_Result respond(struct MHD_Connection *c, unsigned status, const char *type,
			       const void *data, size_t len, enum MHD_ResponseMemoryMode mode,
			       const char *cookie)
{
	struct MHD_Response *resp = MHD_create_response_from_buffer(len, (void *)data, mode);
	enum MHD_Result ret;

	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	MHD_add_response_header(resp, "Content-Security-Policy", csp);
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(resp, "X-Frame-Options", "DENY");
	MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
	MHD_add_response_header(resp, "Cross-Origin-Resource-Policy", "same-origin");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	if (status == MHD_HTTP_UNAUTHORIZED)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
					"Bearer realm=\"flowmaster\"");
	if (cookie)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_SET_COOKIE, cookie);
	ret = MHD_queue_response(c, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

/* An error: JSON under /api/, else a small page. */
static enum MHD_Result send_error(struct MHD_Connection *c, const char *url, unsigned status,
				  const char *msg)
{
	struct buf b = { 0 };
	enum MHD_Result ret;

	if (!strncmp(url, "/api/", 5)) {
		web_json_error(&b, msg);
		ret = respond(c, status, "application/json", b.p ? b.p : "", b.len,
			      MHD_RESPMEM_MUST_COPY, NULL);
	} else {
		buf_printf(&b,
			   "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
			   "<title>flowmaster: %u</title><link rel=\"stylesheet\""
			   " href=\"/static/app.css\"></head><body><main><h1>flowmaster</h1>"
			   "<p class=\"error\" id=\"error\">",
			   status);
		buf_html(&b, msg);
		buf_puts(&b, "</p><p><a href=\"/\">overview</a></p></main></body></html>\n");
		ret = respond(c, status, "text/html; charset=utf-8", b.p ? b.p : "", b.len,
			      MHD_RESPMEM_MUST_COPY, NULL);
	}
	buf_free(&b);
	return ret;
}

/* Whether the request carries the token: Authorization: Bearer, the
 * cookie, or ?token= (then *set_cookie: remember it for the page's
 * scripts and API calls). */
static bool authorized(struct web_server *s, struct MHD_Connection *c, const struct qs *q,
		       bool *set_cookie)
{
	const char *h =
		MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
	const char *v;

	*set_cookie = false;
	if (!s->token[0])
		return true;
	if (h && !strncmp(h, "Bearer ", 7) && same_secret(h + 7, s->token))
		return true;
	v = MHD_lookup_connection_value(c, MHD_COOKIE_KIND, TOKEN_COOKIE);
	if (v && same_secret(v, s->token))
		return true;
	v = q ? qs_get(q, "token") : NULL;
	if (v && same_secret(v, s->token)) {
		*set_cookie = true;
		return true;
	}
	return false;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
			      const char *method, const char *version, const char *upload_data,
			      size_t *upload_data_size, void **req_cls)
{
	struct web_server *s = cls;
	struct web_req *r = *req_cls;
	struct qs q;
	char why[256] = "", cookie[200];
	bool qs_ok, set_cookie;
	const char *cookie_hdr;

	(void)version;
	(void)upload_data;
	if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD)) {
		*upload_data_size = 0; /* the body is not read */
		return send_error(c, url, MHD_HTTP_METHOD_NOT_ALLOWED,
				  "only GET and HEAD: this view only reads");
	}
	if (*upload_data_size) {
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (!r)
		return MHD_NO;
	if (r->too_long) {
		qs_ok = false;
		snprintf(why, sizeof(why), "query string longer than %d bytes", QS_MAX_LEN);
	} else {
		qs_ok = !qs_parse(r->query ? r->query : "", r->query ? strlen(r->query) : 0, &q,
				  why, sizeof(why));
	}
	if (!authorized(s, c, qs_ok ? &q : NULL, &set_cookie))
		return send_error(c, url, MHD_HTTP_UNAUTHORIZED,
				  "this view needs its token: ?token=T, or the header"
				  " Authorization: Bearer T");
	snprintf(cookie, sizeof(cookie), TOKEN_COOKIE "=%s; Path=/; HttpOnly; SameSite=Strict",
		 s->token);
	cookie_hdr = set_cookie ? cookie : NULL;
	if (r->too_long)
		return send_error(c, url, MHD_HTTP_URI_TOO_LONG, why);
	if (!qs_ok)
		return send_error(c, url, MHD_HTTP_BAD_REQUEST, why);

	if (!strncmp(url, "/api/", 5)) {
		struct web_filter f;
		struct buf b = { 0 };
		int64_t now = now_ms();
		unsigned status;
		enum MHD_Result ret;

		if (web_filter_parse(&q, now, &f, why, sizeof(why)))
			return send_error(c, url, MHD_HTTP_BAD_REQUEST, why);
		status = (unsigned)web_api(&s->db, url + 5, &f, now, &b);
		if (s->db.last_err != s->logged_err) {
			if (s->db.last_err)
				pr_warn("web: %s\n", s->db.err);
			else
				pr_info("web: %s can be read now\n", s->db.path);
			s->logged_err = s->db.last_err;
		}
		if (b.failed || !b.p)
			return send_error(c, url, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
		ret = respond(c, status, "application/json", b.p, b.len, MHD_RESPMEM_MUST_FREE,
			      cookie_hdr);
		if (ret == MHD_NO)
			free(b.p);
		return ret;
	}
	for (int i = 0; pages[i]; i++)
		if (!strcmp(url, pages[i]))
			return respond(c, MHD_HTTP_OK, s->index->type, s->index->data,
				       s->index->len, MHD_RESPMEM_PERSISTENT, cookie_hdr);
	for (const struct web_asset *a = web_assets; a->path; a++)
		if (!strcmp(url, a->path))
			return respond(c, MHD_HTTP_OK, a->type, a->data, a->len,
				       MHD_RESPMEM_PERSISTENT, cookie_hdr);
	return send_error(c, url, MHD_HTTP_NOT_FOUND, "no such page");
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[512];

	(void)cls;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	pr_debug("web: libmicrohttpd: %s", msg);
}

struct web_server *web_server_start(const struct web_server_cfg *cfg, unsigned *port)
{
	struct web_server *s = calloc(1, sizeof(*s));
	const union MHD_DaemonInfo *info;
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;

	if (!s) {
		pr_err("web: out of memory\n");
		return NULL;
	}
	for (const struct web_asset *a = web_assets; a->path; a++)
		if (!strcmp(a->path, "/static/index.html"))
			s->index = a;
	if (!s->index) {
		pr_err("web: index.html is not embedded: a broken build\n");
		free(s);
		return NULL;
	}
	s->db.path = cfg->db;
	s->db.query_ms = cfg->query_ms;
	if (cfg->token)
		snprintf(s->token, sizeof(s->token), "%s", cfg->token);
	/* Say now whether the file can be read; it may also appear later. */
	if (web_db_open(&s->db))
		pr_warn("web: %s (the pages say so until it can be read)\n", s->db.err);
	s->logged_err = s->db.last_err;
	if (cfg->addr.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	s->d = MHD_start_daemon(
		flags, 0, NULL, NULL, handle, s, MHD_OPTION_SOCK_ADDR, &cfg->addr,
		MHD_OPTION_CONNECTION_LIMIT, cfg->max_conns, MHD_OPTION_PER_IP_CONNECTION_LIMIT,
		cfg->max_conns / 4 ? cfg->max_conns / 4 : 1, MHD_OPTION_CONNECTION_TIMEOUT,
		(unsigned)CONN_TIMEOUT_S, MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CONN_MEMORY,
		MHD_OPTION_URI_LOG_CALLBACK, uri_seen, s, MHD_OPTION_NOTIFY_COMPLETED, completed, s,
		MHD_OPTION_EXTERNAL_LOGGER, mhd_log, s, MHD_OPTION_END);
	if (!s->d) {
		pr_err("web: cannot listen there (in use, or not an address of this host?)\n");
		web_db_close(&s->db);
		free(s);
		return NULL;
	}
	info = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
	*port = info ? info->port : 0;
	return s;
}

void web_server_stop(struct web_server *s)
{
	if (!s)
		return;
	MHD_stop_daemon(s->d);
	web_db_close(&s->db);
	free(s);
}
