// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The web view's JSON API (web/api.h). The SQL text is made only from
 * constants in this file; everything a request gives goes in as a bound
 * parameter (:since, :addr...), which bind() fills in by name.
 *
 * A flow row belongs to the window [since, until) by its first_seen_ms,
 * which the flows_first_seen index (schema version 1) answers; a time
 * series puts each row in the bucket of its first_seen_ms. Only columns of
 * schema version 1 are read from flows, devices, metrics and interfaces,
 * so an older file reads the same; runs and retired are read where the
 * file has them (version 2).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "lib/fmt.h"
#include "lib/log.h"
#include "lib/proto.h"
#include "store/reader.h"
#include "web/api.h"

#define BUSY_MS 1000	   /* a writer's checkpoint can hold a reader briefly */
#define PROGRESS_OPS 10000 /* VM steps between deadline checks */
#define MAX_GROUPS 16	   /* series of an overview; the rest is "other" */

static int64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* SQLite calls this every PROGRESS_OPS steps: non-zero interrupts. */
static int progress(void *arg)
{
	struct web_db *w = arg;

	if (mono_ns() > w->deadline_ns) {
		w->timed_out = true;
		return 1;
	}
	return 0;
}

/* fm_in_net(ip TEXT, net BLOB of 4 or 16 bytes, prefix INTEGER). */
static void fn_in_net(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	const unsigned char *ip = sqlite3_value_text(argv[0]);
	const void *net = sqlite3_value_blob(argv[1]);
	int n = sqlite3_value_bytes(argv[1]);

	(void)argc;
	if (!ip || !net || (n != 4 && n != 16)) {
		sqlite3_result_int(ctx, 0);
		return;
	}
	sqlite3_result_int(ctx, web_net_contains(n == 4 ? AF_INET : AF_INET6, net,
						 sqlite3_value_int(argv[2]), (const char *)ip));
}

static int query_int(sqlite3 *db, const char *sql, int *out)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);

	if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		*out = sqlite3_column_int(st, 0);
		rc = SQLITE_OK;
	}
	sqlite3_finalize(st);
	return rc;
}

void web_db_close(struct web_db *w)
{
	sqlite3_close(w->db);
	w->db = NULL;
}

int web_db_open(struct web_db *w)
{
	int err, rc, level;

	if (w->db)
		return 0;
	/* Its messages would repeat at every request while the file is
	 * missing: the caller says w->err once instead. */
	level = fm_log_level;
	fm_log_level = LOG_LVL_ERR - 1;
	err = store_open_readonly(w->path, &w->db);
	fm_log_level = level;
	switch (err) {
	case 0:
		break;
	case -ENOENT:
		snprintf(w->err, sizeof(w->err),
			 "%s: no such database; start 'flowmaster run --db %s' to create it",
			 w->path, w->path);
		break;
	case -EINVAL:
		snprintf(w->err, sizeof(w->err),
			 "%s: not a flowmaster database (no flows table, or not SQLite)", w->path);
		break;
	case -EISDIR:
		snprintf(w->err, sizeof(w->err), "%s: a directory, not a database", w->path);
		break;
	case -EACCES:
		snprintf(w->err, sizeof(w->err),
			 "%s: cannot be opened for reading: permission denied", w->path);
		break;
	default:
		snprintf(w->err, sizeof(w->err), "%s: cannot be read: %s", w->path, strerror(-err));
	}
	if (err) {
		w->db = NULL;
		w->last_err = err;
		return err;
	}
	w->last_err = 0;
	sqlite3_busy_timeout(w->db, BUSY_MS);
	/* GROUP BY and ORDER BY sort in memory, not in temporary files. */
	rc = sqlite3_exec(w->db,
			  "PRAGMA query_only = 1; PRAGMA temp_store = MEMORY;"
			  " PRAGMA cache_size = -32768",
			  NULL, NULL, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_create_function_v2(w->db, "fm_in_net", 3,
						SQLITE_UTF8 | SQLITE_DETERMINISTIC |
							SQLITE_INNOCUOUS,
						NULL, fn_in_net, NULL, NULL, NULL);
	if (rc == SQLITE_OK)
		rc = query_int(w->db, "PRAGMA user_version", &w->version);
	if (rc == SQLITE_OK) {
		int runs = 0;

		rc = query_int(w->db,
			       "SELECT count(*) FROM sqlite_master WHERE type = 'table'"
			       " AND name IN ('runs', 'retired')",
			       &runs);
		w->has_runs = runs == 2;
	}
	if (rc != SQLITE_OK) {
		snprintf(w->err, sizeof(w->err), "%s: %s", w->path, sqlite3_errmsg(w->db));
		web_db_close(w);
		return -EIO;
	}
	sqlite3_progress_handler(w->db, PROGRESS_OPS, progress, w);
	return 0;
}

void web_json_error(struct buf *out, const char *msg)
{
	out->len = 0;
	out->failed = false;
	buf_puts(out, "{\"error\":");
	buf_json_str(out, msg);
	buf_puts(out, "}\n");
}

/* ------------------------------------------------------------ the SQL */

/* A request's state: the database, its filters, the answer. */
struct req {
	struct web_db *w;
	const struct web_filter *f;
	struct buf *out;
	int status; /* 0 while all is well */
};

/* The flows WHERE clause for f (alias "" or "f."), appended to sql. */
static void where_flows(struct buf *sql, const struct web_filter *f, const char *a)
{
	buf_printf(sql, " WHERE %sfirst_seen_ms >= :since AND %sfirst_seen_ms < :until", a, a);
	if (f->iface[0])
		buf_printf(sql,
			   " AND %sinterface_id IN (SELECT id FROM interfaces WHERE name = :iface)",
			   a);
	if (f->direction >= 0)
		buf_printf(sql, " AND %sdirection = :dir", a);
	if (f->protocol >= 0)
		buf_printf(sql, " AND %sprotocol = :proto", a);
	if (f->addr[0] && f->prefix < 0)
		buf_printf(sql, " AND (%ssrc_ip = :addr OR %sdst_ip = :addr)", a, a);
	else if (f->addr[0])
		buf_printf(sql,
			   " AND (fm_in_net(%ssrc_ip, :net, :prefix)"
			   " OR fm_in_net(%sdst_ip, :net, :prefix))",
			   a, a);
	if (f->port >= 0)
		buf_printf(sql, " AND (%ssrc_port = :port OR %sdst_port = :port)", a, a);
}

/* The address test on column col, for the filter's address. */
static void addr_match(struct buf *sql, const struct web_filter *f, const char *col)
{
	if (f->prefix < 0)
		buf_printf(sql, "%s = :addr", col);
	else
		buf_printf(sql, "fm_in_net(%s, :net, :prefix)", col);
}

static const char *sort_col(const struct web_filter *f)
{
	static const char *const cols[] = { "bytes", "packets", "flows" };

	return cols[f->sort];
}

static int fail(struct req *r, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(struct req *r, int status, const char *fmt, ...)
{
	char msg[600];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (!r->status) {
		r->status = status;
		web_json_error(r->out, msg);
	}
	return -1;
}

/* A failed step or prepare: why, and close a file that went bad. */
static int sql_fail(struct req *r, int rc)
{
	sqlite3 *db = r->w->db;

	if (r->w->timed_out)
		return fail(r, 503,
			    "the query took longer than %u ms; narrow the window or filters",
			    r->w->query_ms);
	switch (rc & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return fail(r, 503, "%s: the database is locked by another process; try again",
			    r->w->path);
	case SQLITE_NOTADB:
	case SQLITE_CORRUPT:
	case SQLITE_IOERR:
	case SQLITE_CANTOPEN: {
		int s = fail(r, 503, "%s: %s", r->w->path, sqlite3_errmsg(db));

		web_db_close(r->w);
		return s;
	}
	default:
		return fail(r, 500, "%s: %s", r->w->path, sqlite3_errmsg(db));
	}
}

/* Bind every named parameter the statement has from the filters. */
static void bind_filter(sqlite3_stmt *st, const struct web_filter *f)
{
	int n = sqlite3_bind_parameter_count(st);

	for (int i = 1; i <= n; i++) {
		const char *p = sqlite3_bind_parameter_name(st, i);

		if (!p)
			continue;
		if (!strcmp(p, ":since"))
			sqlite3_bind_int64(st, i, f->since_ms);
		else if (!strcmp(p, ":until"))
			sqlite3_bind_int64(st, i, f->until_ms);
		else if (!strcmp(p, ":step"))
			sqlite3_bind_int64(st, i, f->step_ms);
		else if (!strcmp(p, ":iface"))
			sqlite3_bind_text(st, i, f->iface, -1, SQLITE_STATIC);
		else if (!strcmp(p, ":dir"))
			sqlite3_bind_text(st, i, f->direction ? "egress" : "ingress", -1,
					  SQLITE_STATIC);
		else if (!strcmp(p, ":proto"))
			sqlite3_bind_int(st, i, f->protocol);
		else if (!strcmp(p, ":addr"))
			sqlite3_bind_text(st, i, f->addr, -1, SQLITE_STATIC);
		else if (!strcmp(p, ":net"))
			sqlite3_bind_blob(st, i, f->net, f->family == AF_INET ? 4 : 16,
					  SQLITE_STATIC);
		else if (!strcmp(p, ":prefix"))
			sqlite3_bind_int(st, i, f->prefix);
		else if (!strcmp(p, ":port"))
			sqlite3_bind_int(st, i, f->port);
		else if (!strcmp(p, ":limit"))
			sqlite3_bind_int(st, i, (int)f->limit);
	}
}

/* Prepare sql (freed) and bind it; NULL after a failure (r says it). */
static sqlite3_stmt *prepare(struct req *r, struct buf *sql)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (sql->failed) {
		buf_free(sql);
		fail(r, 500, "out of memory");
		return NULL;
	}
	rc = sqlite3_prepare_v2(r->w->db, sql->p, -1, &st, NULL);
	if (rc != SQLITE_OK) {
		pr_debug("web: %s: %s\n", sql->p, sqlite3_errmsg(r->w->db));
		sql_fail(r, rc);
		st = NULL;
	} else {
		bind_filter(st, r->f);
	}
	buf_free(sql);
	return st;
}

/* Step st; SQLITE_ROW, SQLITE_DONE, or anything else after a failure. */
static int step(struct req *r, sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		sql_fail(r, rc);
	return rc;
}

static const char *col_text(sqlite3_stmt *st, int c)
{
	return (const char *)sqlite3_column_text(st, c);
}

/* Column c as a JSON value: null, a number or a string. */
static void json_col(struct buf *b, sqlite3_stmt *st, int c)
{
	switch (sqlite3_column_type(st, c)) {
	case SQLITE_NULL:
		buf_puts(b, "null");
		break;
	case SQLITE_INTEGER:
		buf_json_i64(b, sqlite3_column_int64(st, c));
		break;
	case SQLITE_FLOAT:
		buf_json_dbl(b, sqlite3_column_double(st, c));
		break;
	default:
		buf_json_str(b, col_text(st, c));
	}
}

/* Every row of st as an object with the given keys (one per column). */
static int json_rows(struct req *r, sqlite3_stmt *st, const char *const *keys)
{
	struct buf *b = r->out;
	int rc, row = 0;

	buf_puts(b, "[");
	while ((rc = step(r, st)) == SQLITE_ROW) {
		buf_puts(b, row++ ? ",\n{" : "\n{");
		for (int c = 0; keys[c]; c++) {
			buf_printf(b, "%s\"%s\":", c ? "," : "", keys[c]);
			json_col(b, st, c);
		}
		buf_puts(b, "}");
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return -1; /* out holds the error now */
	buf_puts(b, "]");
	return 0;
}

static void json_window(struct req *r)
{
	const struct web_filter *f = r->f;

	buf_printf(r->out,
		   "\"window\":{\"since\":%lld,\"until\":%lld,\"step\":%lld},"
		   "\"schema_version\":%d,\n",
		   (long long)f->since_ms, (long long)f->until_ms, (long long)f->step_ms,
		   r->w->version);
}

static int nbuckets(const struct web_filter *f)
{
	return (int)((f->until_ms - f->since_ms + f->step_ms - 1) / f->step_ms);
}

static void json_times(struct req *r)
{
	buf_puts(r->out, "\"t\":[");
	for (int i = 0; i < nbuckets(r->f); i++)
		buf_printf(r->out, "%s%lld", i ? "," : "",
			   (long long)(r->f->since_ms + i * r->f->step_ms));
	buf_puts(r->out, "],\n");
}

/* Values v[0..n) as a JSON array, each times mul (a rate). */
static void json_series(struct buf *b, const char *key, const int64_t *v, int n, double mul)
{
	buf_printf(b, "\"%s\":[", key);
	for (int i = 0; i < n; i++) {
		if (i)
			buf_puts(b, ",");
		if (mul == 1)
			buf_json_i64(b, v[i]);
		else
			buf_json_dbl(b, v[i] * mul);
	}
	buf_puts(b, "]");
}

/* "packets", "bytes", "packets_per_s", "bits_per_s" of one series. */
static void json_traffic(struct req *r, const int64_t *pk, const int64_t *by)
{
	int n = nbuckets(r->f);
	double per_s = 1000.0 / r->f->step_ms;

	json_series(r->out, "packets", pk, n, 1);
	buf_puts(r->out, ",");
	json_series(r->out, "bytes", by, n, 1);
	buf_puts(r->out, ",");
	json_series(r->out, "packets_per_s", pk, n, per_s);
	buf_puts(r->out, ",");
	json_series(r->out, "bits_per_s", by, n, 8 * per_s);
}

/*
 * A time series: each flow row counts in the buckets from the one of its
 * first_seen_ms to the one of its last_seen_ms, its packets and bytes
 * split evenly over them (the remainder one each to the first ones), so a
 * long row draws as a rate over its life, not as a spike at its start.
 * Rows are added up by their first and last bucket in SQL (b0, b1).
 */
#define SPAN_COLS                                                                                  \
	"(first_seen_ms - :since) / :step AS b0,"                                                  \
	" (max(last_seen_ms, first_seen_ms) - :since) / :step AS b1"

/* Add v over buckets b0..b1 of a[0..nb); shares past the window's end
 * are not drawn. */
static void spread(int64_t *a, int nb, int64_t b0, int64_t b1, int64_t v)
{
	int64_t n, share, rest;

	if (b0 < 0 || b0 >= nb)
		return;
	if (b1 < b0)
		b1 = b0;
	n = b1 - b0 + 1;
	share = v / n;
	rest = v % n;
	for (int64_t b = b0; b <= b1 && b < nb; b++)
		a[b] += share + (b - b0 < rest ? 1 : 0);
}

/* -------------------------------------------------------- endpoints */

static int totals(struct req *r)
{
	struct buf sql = { 0 };
	sqlite3_stmt *st;

	buf_puts(&sql, "SELECT count(*), coalesce(sum(packets), 0), coalesce(sum(bytes), 0),"
		       " min(first_seen_ms), max(last_seen_ms) FROM flows");
	where_flows(&sql, r->f, "");
	st = prepare(r, &sql);
	if (!st)
		return -1;
	if (step(r, st) == SQLITE_ROW) {
		buf_puts(r->out, "\"totals\":{\"flows\":");
		json_col(r->out, st, 0);
		buf_puts(r->out, ",\"packets\":");
		json_col(r->out, st, 1);
		buf_puts(r->out, ",\"bytes\":");
		json_col(r->out, st, 2);
		buf_puts(r->out, ",\"first_ms\":");
		json_col(r->out, st, 3);
		buf_puts(r->out, ",\"last_ms\":");
		json_col(r->out, st, 4);
		buf_puts(r->out, "}");
	}
	sqlite3_finalize(st);
	return r->status ? -1 : 0;
}

struct group {
	char name[32];
	int64_t *packets, *bytes;
};

static struct group *group_get(struct group *g, int *ng, const char *name, int nb)
{
	int i;

	for (i = 0; i < *ng; i++)
		if (!strcmp(g[i].name, name))
			return &g[i];
	if (*ng == MAX_GROUPS) /* the last one is "other" */
		return &g[MAX_GROUPS - 1];
	snprintf(g[i].name, sizeof(g[i].name), "%s", *ng == MAX_GROUPS - 1 ? "other" : name);
	g[i].packets = calloc((size_t)nb, sizeof(int64_t));
	g[i].bytes = calloc((size_t)nb, sizeof(int64_t));
	if (!g[i].packets || !g[i].bytes) {
		free(g[i].packets);
		free(g[i].bytes);
		return NULL;
	}
	(*ng)++;
	return &g[i];
}

/* The name of an overview's group column. */
static void group_name(char *buf, size_t len, const struct web_filter *f, sqlite3_stmt *st, int c)
{
	if (f->group == GROUP_DIRECTION) {
		const char *d = col_text(st, c);

		snprintf(buf, len, "%s", d ? d : "unknown");
		return;
	}
	switch (sqlite3_column_int(st, c)) {
	case -1:
		snprintf(buf, len, "non-IP");
		break;
	case -2:
		snprintf(buf, len, "unattributed");
		break;
	default:
		fmt_proto(buf, len, sqlite3_column_int(st, c));
	}
}

static int api_overview(struct req *r)
{
	static const char proto_key[] = "CASE WHEN protocol IS NOT NULL THEN protocol"
					" WHEN end_reason = 'overflow' THEN -2 ELSE -1 END";
	struct group g[MAX_GROUPS], *by_proto[258] = { 0 };
	struct buf sql = { 0 };
	int ng = 0, nb = nbuckets(r->f), rc = SQLITE_DONE;
	sqlite3_stmt *st;

	/* Row by row, added up here: a GROUP BY would sort every row. */
	buf_printf(&sql, "SELECT " SPAN_COLS ", %s AS g, packets, bytes FROM flows",
		   r->f->group == GROUP_DIRECTION ? "direction" : proto_key);
	where_flows(&sql, r->f, "");
	st = prepare(r, &sql);
	if (!st)
		return -1;
	while ((rc = step(r, st)) == SQLITE_ROW) {
		int64_t b0 = sqlite3_column_int64(st, 0), b1 = sqlite3_column_int64(st, 1);
		int key = sqlite3_column_int(st, 2) + 2; /* protocol -2..255 */
		char name[32];
		struct group *x;

		/* By protocol, the group of each number is looked up once. */
		if (r->f->group == GROUP_PROTOCOL && key >= 0 && key < 258 && by_proto[key]) {
			x = by_proto[key];
		} else {
			group_name(name, sizeof(name), r->f, st, 2);
			x = group_get(g, &ng, name, nb);
			if (x && r->f->group == GROUP_PROTOCOL && key >= 0 && key < 258)
				by_proto[key] = x;
		}
		if (!x) {
			fail(r, 500, "out of memory");
			break;
		}
		spread(x->packets, nb, b0, b1, sqlite3_column_int64(st, 3));
		spread(x->bytes, nb, b0, b1, sqlite3_column_int64(st, 4));
	}
	sqlite3_finalize(st);
	if (!r->status) {
		buf_puts(r->out, "{");
		json_window(r);
		buf_printf(r->out, "\"by\":\"%s\",\n",
			   r->f->group == GROUP_DIRECTION ? "direction" : "protocol");
		json_times(r);
		buf_puts(r->out, "\"series\":[");
		for (int i = 0; i < ng; i++) {
			buf_puts(r->out, i ? ",\n{\"name\":" : "\n{\"name\":");
			buf_json_str(r->out, g[i].name);
			buf_puts(r->out, ",");
			json_traffic(r, g[i].packets, g[i].bytes);
			buf_puts(r->out, "}");
		}
		buf_puts(r->out, "],\n");
		if (!totals(r))
			buf_puts(r->out, "}\n");
	}
	for (int i = 0; i < ng; i++) {
		free(g[i].packets);
		free(g[i].bytes);
	}
	return r->status ? -1 : 0;
}

static const char *const talker_keys[] = { "addr", "packets", "bytes", "flows", NULL };

/* Top sources (col src) or destinations: by IP, or MAC for non-IP. */
static int talkers(struct req *r, const char *ip, const char *mac)
{
	struct buf sql = { 0 };
	sqlite3_stmt *st;

	buf_printf(&sql,
		   "SELECT coalesce(%s, %s) AS a, sum(packets) AS packets, sum(bytes) AS bytes,"
		   " count(*) AS flows FROM flows",
		   ip, mac);
	where_flows(&sql, r->f, "");
	buf_printf(&sql,
		   " AND end_reason IS NOT 'overflow' GROUP BY a ORDER BY %s DESC, a"
		   " LIMIT :limit",
		   sort_col(r->f));
	st = prepare(r, &sql);
	return st ? json_rows(r, st, talker_keys) : -1;
}

static int api_talkers(struct req *r)
{
	buf_puts(r->out, "{");
	json_window(r);
	buf_puts(r->out, "\"sent\":");
	if (talkers(r, "src_ip", "src_mac"))
		return -1;
	buf_puts(r->out, ",\n\"received\":");
	if (talkers(r, "dst_ip", "dst_mac"))
		return -1;
	buf_puts(r->out, "}\n");
	return 0;
}

static const char *const flow_keys[] = {
	"interface", "direction", "src_mac",  "dst_mac",  "vlan",	"eth_type",	 "src",
	"dst",	     "protocol",  "src_port", "dst_port", "icmp_type",	"icmp_code",	 "packets",
	"bytes",     "flows",	  "first_ms", "last_ms",  "end_reason", "protocol_name", NULL,
};

/* Flow keys with their rows added up, as `top` shows them. */
static int flows(struct req *r)
{
	struct buf sql = { 0 };
	sqlite3_stmt *st;

	buf_puts(&sql, "SELECT i.name, f.direction, f.src_mac, f.dst_mac, f.vlan_id, f.eth_type,"
		       " f.src_ip, f.dst_ip, f.protocol, f.src_port, f.dst_port, f.icmp_type,"
		       " f.icmp_code, sum(f.packets) AS packets, sum(f.bytes) AS bytes,"
		       " count(*) AS flows, min(f.first_seen_ms), max(f.last_seen_ms),"
		       " max(f.end_reason), ");
	/* Names from lib/proto.c's table: constants, not request data. */
	buf_puts(&sql, proto_sql_case("f.protocol"));
	buf_puts(&sql, " FROM flows f LEFT JOIN interfaces i ON i.id = f.interface_id");
	where_flows(&sql, r->f, "f.");
	buf_printf(&sql,
		   " AND f.end_reason IS NOT 'overflow'"
		   " GROUP BY f.interface_id, f.direction, f.src_mac, f.dst_mac, f.vlan_id,"
		   " f.eth_type, f.src_ip, f.dst_ip, f.protocol, f.src_port, f.dst_port,"
		   " f.icmp_type, f.icmp_code ORDER BY %s DESC, min(f.first_seen_ms) LIMIT :limit",
		   sort_col(r->f));
	st = prepare(r, &sql);
	return st ? json_rows(r, st, flow_keys) : -1;
}

static int api_flows(struct req *r)
{
	buf_puts(r->out, "{");
	json_window(r);
	buf_puts(r->out, "\"flows\":");
	if (flows(r))
		return -1;
	buf_puts(r->out, "}\n");
	return 0;
}

static const char *const device_keys[] = {
	"id",
	"interface",
	"mac",
	"ip",
	"first_seen_ms",
	"last_seen_ms",
	"packets_sent",
	"bytes_sent",
	"packets_received",
	"bytes_received",
	NULL,
};

static int devices(struct req *r, bool window)
{
	const struct web_filter *f = r->f;
	struct buf sql = { 0 };
	sqlite3_stmt *st;

	buf_puts(&sql, "SELECT d.id, i.name, d.mac, d.ip, d.first_seen_ms, d.last_seen_ms,"
		       " d.packets_sent, d.bytes_sent, d.packets_received, d.bytes_received"
		       " FROM devices d LEFT JOIN interfaces i ON i.id = d.interface_id WHERE 1");
	if (window)
		buf_puts(&sql, " AND d.last_seen_ms >= :since AND d.first_seen_ms < :until");
	if (f->iface[0])
		buf_puts(&sql, " AND i.name = :iface");
	if (f->addr[0]) {
		buf_puts(&sql, " AND ");
		addr_match(&sql, f, "d.ip");
	}
	buf_printf(&sql, " ORDER BY %s DESC, d.id LIMIT :limit",
		   f->sort == SORT_PACKETS ? "d.packets_sent + d.packets_received" :
					     "d.bytes_sent + d.bytes_received");
	st = prepare(r, &sql);
	return st ? json_rows(r, st, device_keys) : -1;
}

static int api_devices(struct req *r)
{
	buf_puts(r->out, "{");
	json_window(r);
	buf_puts(r->out, "\"devices\":");
	if (devices(r, r->f->window_given))
		return -1;
	buf_puts(r->out, "}\n");
	return 0;
}

static int host_series(struct req *r)
{
	int nb = nbuckets(r->f), rc;
	int64_t *v = calloc((size_t)nb * 4, sizeof(int64_t));
	struct buf sql = { 0 };
	sqlite3_stmt *st;

	if (!v)
		return fail(r, 500, "out of memory");
	buf_puts(&sql, "SELECT " SPAN_COLS);
	for (int i = 0; i < 4; i++) {
		buf_puts(&sql, ", CASE WHEN ");
		addr_match(&sql, r->f, i < 2 ? "src_ip" : "dst_ip");
		buf_printf(&sql, " THEN %s ELSE 0 END", i % 2 ? "bytes" : "packets");
	}
	buf_puts(&sql, " FROM flows");
	where_flows(&sql, r->f, "");
	st = prepare(r, &sql);
	if (!st) {
		free(v);
		return -1;
	}
	while ((rc = step(r, st)) == SQLITE_ROW) {
		int64_t b0 = sqlite3_column_int64(st, 0), b1 = sqlite3_column_int64(st, 1);

		for (int i = 0; i < 4; i++)
			spread(v + i * nb, nb, b0, b1, sqlite3_column_int64(st, i + 2));
	}
	sqlite3_finalize(st);
	if (!r->status) {
		json_times(r);
		buf_puts(r->out, "\"sent\":{");
		json_traffic(r, v, v + nb);
		buf_puts(r->out, "},\n\"received\":{");
		json_traffic(r, v + 2 * nb, v + 3 * nb);
		buf_puts(r->out, "},\n");
	}
	free(v);
	return r->status ? -1 : 0;
}

static int host_peers(struct req *r)
{
	struct buf sql = { 0 };
	sqlite3_stmt *st;

	buf_puts(&sql, "SELECT CASE WHEN ");
	addr_match(&sql, r->f, "src_ip");
	buf_puts(&sql, " THEN dst_ip ELSE src_ip END AS a, sum(packets) AS packets,"
		       " sum(bytes) AS bytes, count(*) AS flows FROM flows");
	where_flows(&sql, r->f, "");
	buf_printf(&sql, " GROUP BY a ORDER BY %s DESC, a LIMIT :limit", sort_col(r->f));
	st = prepare(r, &sql);
	return st ? json_rows(r, st, talker_keys) : -1;
}

static int api_host(struct req *r)
{
	if (!r->f->addr[0])
		return fail(r, 400, "host: give addr=ADDRESS (or a network, 198.18.0.0/24)");
	buf_puts(r->out, "{");
	json_window(r);
	buf_puts(r->out, "\"addr\":");
	buf_json_str(r->out, r->f->addr);
	buf_printf(r->out, ",\"prefix\":%d,\n", r->f->prefix);
	if (host_series(r))
		return -1;
	buf_puts(r->out, "\"peers\":");
	if (host_peers(r))
		return -1;
	buf_puts(r->out, ",\n\"flows\":");
	if (flows(r))
		return -1;
	buf_puts(r->out, ",\n\"devices\":");
	if (devices(r, false))
		return -1;
	buf_puts(r->out, ",\n");
	if (totals(r))
		return -1;
	buf_puts(r->out, "}\n");
	return 0;
}

/* What the health page draws, in this order. */
static const char *const health_metrics[] = {
	"packets_per_second",
	"bytes_per_second",
	"active_flows",
	"flows_stored",
	"average_batch_size",
	"current_batch_size",
	"average_batch_processing_ms",
	"pending_batches",
	"cache_hit_ratio",
	"map_fill_ratio",
	"map_full_events",
	"ringbuf_events",
	"ringbuf_drops",
	"overflow_packets",
	"unattributed_packets",
	"validation_errors",
	"database_error_ratio",
	"memory_usage_mb",
	"cpu_usage_percent",
	"wal_size_mb",
	"drain_ms",
	NULL,
};

static int health_series(struct req *r)
{
	int nb = nbuckets(r->f), nm = 0, rc;
	struct buf sql = { 0 };
	sqlite3_stmt *st;
	double *v;
	bool *have;

	while (health_metrics[nm])
		nm++;
	v = calloc((size_t)nb * nm, sizeof(*v));
	have = calloc((size_t)nb * nm, sizeof(*have));
	if (!v || !have) {
		free(v);
		free(have);
		return fail(r, 500, "out of memory");
	}
	buf_puts(&sql, "SELECT name, (ts_ms - :since) / :step AS b, avg(value) FROM metrics"
		       " WHERE ts_ms >= :since AND ts_ms < :until AND name IN (");
	for (int m = 0; m < nm; m++)
		buf_printf(&sql, "%s'%s'", m ? "," : "", health_metrics[m]);
	buf_puts(&sql, ") GROUP BY name, b");
	st = prepare(r, &sql);
	if (!st)
		goto out;
	while ((rc = step(r, st)) == SQLITE_ROW) {
		const char *name = col_text(st, 0);
		int64_t b = sqlite3_column_int64(st, 1);
		int m = 0;

		while (name && health_metrics[m] && strcmp(name, health_metrics[m]))
			m++;
		if (!name || !health_metrics[m] || b < 0 || b >= nb)
			continue;
		v[m * nb + b] = sqlite3_column_double(st, 2);
		have[m * nb + b] = true;
	}
	sqlite3_finalize(st);
	if (r->status)
		goto out;
	json_times(r);
	buf_puts(r->out, "\"metrics\":{");
	for (int m = 0; m < nm; m++) {
		buf_printf(r->out, "%s\n\"%s\":[", m ? "," : "", health_metrics[m]);
		for (int b = 0; b < nb; b++) {
			if (b)
				buf_puts(r->out, ",");
			if (have[m * nb + b])
				buf_json_dbl(r->out, v[m * nb + b]);
			else
				buf_puts(r->out, "null");
		}
		buf_puts(r->out, "]");
	}
	buf_puts(r->out, "},\n");
out:
	free(v);
	free(have);
	return r->status ? -1 : 0;
}

/* An interfaces row: its run, and the packets of its flows and retired rows. */
struct iface_sum {
	int64_t id, run, stored, retired;
};

static int cmp_iface(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = ((const struct iface_sum *)b)->id;

	return x < y ? -1 : x > y;
}

/* Add up column packets of table per interface_id into v (sorted by id),
 * in one pass: a GROUP BY would sort every row. */
static int sum_by_iface(struct req *r, const char *table, struct iface_sum *v, size_t n,
			bool retired)
{
	struct buf sql = { 0 };
	sqlite3_stmt *st;
	int rc;

	buf_printf(&sql, "SELECT interface_id, packets FROM %s", table);
	st = prepare(r, &sql);
	if (!st)
		return -1;
	while ((rc = step(r, st)) == SQLITE_ROW) {
		int64_t id = sqlite3_column_int64(st, 0);
		struct iface_sum *x = bsearch(&id, v, n, sizeof(*v), cmp_iface);

		if (x && retired)
			x->retired += sqlite3_column_int64(st, 1);
		else if (x)
			x->stored += sqlite3_column_int64(st, 1);
	}
	sqlite3_finalize(st);
	return r->status ? -1 : 0;
}

#define MAX_IFACE_ROWS 100000

/*
 * Reconciliation, per run (schema 2): the packets the kernel counted (the
 * run's last packets_processed, a running total) against those its flows
 * rows and retired totals hold. Equal after a clean stop; while a run
 * runs, the difference is on its way (kernel maps, flow table). A file of
 * version 1 has no runs: one row for the file.
 */
static int api_runs(struct req *r)
{
	struct iface_sum *v = NULL;
	struct buf sql = { 0 };
	sqlite3_stmt *st;
	size_t n = 0;
	int rc, row = 0;

	buf_puts(r->out, "{");
	json_window(r);
	buf_printf(&sql, "SELECT id, %s FROM interfaces ORDER BY id LIMIT %d",
		   r->w->has_runs ? "run_id" : "NULL", MAX_IFACE_ROWS);
	st = prepare(r, &sql);
	if (!st)
		return -1;
	v = calloc(MAX_IFACE_ROWS, sizeof(*v));
	if (!v) {
		sqlite3_finalize(st);
		return fail(r, 500, "out of memory");
	}
	while ((rc = step(r, st)) == SQLITE_ROW && n < MAX_IFACE_ROWS) {
		v[n].id = sqlite3_column_int64(st, 0);
		v[n].run = sqlite3_column_int64(st, 1);
		n++;
	}
	sqlite3_finalize(st);
	if (r->status || sum_by_iface(r, "flows", v, n, false) ||
	    (r->w->has_runs && sum_by_iface(r, "retired", v, n, true)))
		goto out;
	if (r->w->has_runs)
		buf_puts(&sql, "SELECT r.id, r.command, r.pid, r.hostname, r.version, r.started_ms,"
			       " r.stopped_ms, (SELECT value FROM metrics m WHERE m.run_id = r.id"
			       " AND m.name = 'packets_processed' ORDER BY m.ts_ms DESC LIMIT 1)"
			       " FROM runs r ORDER BY r.id DESC LIMIT :limit");
	else
		buf_puts(&sql,
			 "SELECT NULL, NULL, NULL, NULL, NULL, (SELECT min(ts_ms) FROM metrics),"
			 " NULL, (SELECT value FROM metrics WHERE name = 'packets_processed'"
			 " ORDER BY ts_ms DESC LIMIT 1)");
	st = prepare(r, &sql);
	if (!st)
		goto out;
	buf_puts(r->out, "\"runs\":[");
	while ((rc = step(r, st)) == SQLITE_ROW) {
		static const char *const keys[] = { "id",	  "command",	 "pid",
						    "hostname",	  "version",	 "started_ms",
						    "stopped_ms", "seen_packets" };
		int64_t run = sqlite3_column_int64(st, 0), stored = 0, retired = 0;

		for (size_t i = 0; i < n; i++) {
			if (r->w->has_runs && v[i].run != run)
				continue;
			stored += v[i].stored;
			retired += v[i].retired;
		}
		buf_puts(r->out, row++ ? ",\n{" : "\n{");
		for (int c = 0; c < 8; c++) {
			buf_printf(r->out, "%s\"%s\":", c ? "," : "", keys[c]);
			json_col(r->out, st, c);
		}
		buf_printf(r->out, ",\"stored_packets\":%lld,\"retired_packets\":%lld}",
			   (long long)stored, (long long)retired);
	}
	sqlite3_finalize(st);
	if (!r->status)
		buf_puts(r->out, "]}\n");
out:
	free(v);
	return r->status ? -1 : 0;
}

static int api_health(struct req *r)
{
	buf_puts(r->out, "{");
	json_window(r);
	if (health_series(r))
		return -1;
	buf_puts(r->out, "\"metric_names\":[");
	for (int m = 0; health_metrics[m]; m++)
		buf_printf(r->out, "%s\"%s\"", m ? "," : "", health_metrics[m]);
	buf_puts(r->out, "]}\n");
	return 0;
}

/* What the pages need first: the file, its interfaces, its time span. */
static int api_info(struct req *r)
{
	static const char *const keys[] = { "name", NULL };
	sqlite3_stmt *st;
	struct buf sql = { 0 };

	buf_puts(r->out, "{");
	json_window(r);
	buf_puts(r->out, "\"db\":");
	buf_json_str(r->out, r->w->path);
	buf_puts(r->out, ",\n\"interfaces\":");
	buf_puts(&sql, "SELECT DISTINCT name FROM interfaces ORDER BY name LIMIT 1000");
	st = prepare(r, &sql);
	if (!st || json_rows(r, st, keys))
		return -1;
	/* Two subqueries: SQLite answers a lone min() or max() from the
	 * index, both in one query by a scan. */
	buf_puts(&sql, "SELECT (SELECT min(first_seen_ms) FROM flows),"
		       " (SELECT max(first_seen_ms) FROM flows)");
	st = prepare(r, &sql);
	if (!st)
		return -1;
	if (step(r, st) == SQLITE_ROW) {
		buf_puts(r->out, ",\n\"first_ms\":");
		json_col(r->out, st, 0);
		buf_puts(r->out, ",\"last_ms\":");
		json_col(r->out, st, 1);
	}
	sqlite3_finalize(st);
	buf_puts(r->out, "}\n");
	return r->status ? -1 : 0;
}

static const struct {
	const char *name;
	int (*fn)(struct req *r);
} endpoints[] = {
	{ "overview", api_overview }, { "talkers", api_talkers }, { "flows", api_flows },
	{ "host", api_host },	      { "devices", api_devices }, { "health", api_health },
	{ "runs", api_runs },	      { "info", api_info },
};

int web_api(struct web_db *w, const char *name, const struct web_filter *f, int64_t now_ms,
	    struct buf *out)
{
	struct req r = { .w = w, .f = f, .out = out };
	size_t i;

	(void)now_ms;
	for (i = 0; i < sizeof(endpoints) / sizeof(endpoints[0]); i++)
		if (!strcmp(name, endpoints[i].name))
			break;
	if (i == sizeof(endpoints) / sizeof(endpoints[0])) {
		web_json_error(out, "no such API endpoint; see /api/ in the README");
		return 404;
	}
	if (web_db_open(w)) {
		web_json_error(out, w->err);
		return 503;
	}
	w->timed_out = false;
	w->deadline_ns = mono_ns() + (int64_t)w->query_ms * 1000000;
	endpoints[i].fn(&r);
	if (!r.status && out->failed)
		fail(&r, 500, "the answer is larger than %u MiB; narrow the window or lower limit",
		     BUF_MAX >> 20);
	return r.status ? r.status : 200;
}
