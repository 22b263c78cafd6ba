/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The web view's JSON API (/api/...) over a flowmaster database opened
 * read-only. Every query is one prepared statement with every value bound
 * as a parameter, bounded in time (a progress handler) and rows (LIMIT).
 */
#ifndef FM_WEB_API_H
#define FM_WEB_API_H

#include <stdbool.h>
#include <stdint.h>
#include "web/buf.h"
#include "web/qs.h"

struct sqlite3;

#define WEB_QUERY_MS_DEFAULT 2000

struct web_db {
	const char *path;
	unsigned query_ms;  /* a query's bound */
	struct sqlite3 *db; /* NULL until a request opens it */
	int version;	    /* PRAGMA user_version */
	bool has_runs;	    /* schema 2: runs, retired, run_id */
	int64_t deadline_ns;
	bool timed_out;
	int last_err;  /* of the last failed open, logged once */
	char err[512]; /* why the last request failed */
};

/* Open w->path if it is not open. Returns 0, or -errno with w->err set. */
int web_db_open(struct web_db *w);
void web_db_close(struct web_db *w);

/*
 * Answer GET /api/NAME with filters f into out (JSON). Returns the HTTP
 * status: 200, 400 (bad filter for this endpoint), 404 (no such
 * endpoint), 503 (database missing, not flowmaster's, locked, or the query
 * ran out of time) or 500; on an error out holds {"error": "..."}.
 */
int web_api(struct web_db *w, const char *name, const struct web_filter *f, int64_t now_ms,
	    struct buf *out);

/* {"error": msg} into out (emptied first). */
void web_json_error(struct buf *out, const char *msg);

#endif
