// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * --retention: the writer deletes flows and metrics older than the window,
 * a small chunk per transaction, and gives the freed pages back to the
 * file system, so the file stops growing while reconciliation stays exact.
 *
 * A flow row is old when its last packet (last_seen_ms) is before now -
 * retention. Rows are found through the flows(first_seen_ms) index
 * (first_seen <= last_seen, so every old row has an old first_seen), the
 * oldest first, at most RETAIN_CHUNK_ROWS per transaction: the write lock
 * is held for milliseconds, and the writer's own batches and any reader
 * (WAL) go on between chunks. In the same transaction as each delete, the
 * deleted rows' packets, bytes and counts are added to `retired`, one row
 * per (interface_id, direction, exporter_id), so for every interface and
 * direction sum(flows) + sum(retired) is what was ever stored.
 *
 * Space: a file created by schema version 2 has auto_vacuum = INCREMENTAL;
 * after a pass, free pages beyond a small reserve (which the next inserts
 * reuse anyway) are released with PRAGMA incremental_vacuum, a bounded
 * number per pass. A file from version 1 has no auto-vacuum: its free
 * pages are reused, so it stops growing at its high-water mark, but it
 * never shrinks (said once at start; VACUUM it offline to convert).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include "lib/clock.h"
#include "store/internal.h"

/* Rows (flows, and metrics) deleted per transaction: a few ms of lock. */
#define RETAIN_CHUNK_ROWS 4096
/* Free pages kept for the next inserts, and released per pass at most. */
#define RETAIN_FREE_RESERVE_PAGES 256
#define RETAIN_VACUUM_PAGES 2048

static int retain_err(struct store *s, int rc, const char *what)
{
	snprintf(s->errmsg, sizeof(s->errmsg), "retention: %s: %s", what, sqlite3_errmsg(s->db));
	return rc;
}

static int pragma_int(struct store *s, const char *sql, int64_t *out)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);

	if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		*out = sqlite3_column_int64(st, 0);
		rc = SQLITE_OK;
	}
	sqlite3_finalize(st);
	return rc;
}

/* The chunk: at most RETAIN_CHUNK_ROWS old flows, oldest first. */
#define OLD_FLOWS                                                                                  \
	"SELECT id FROM flows WHERE first_seen_ms < ?1 AND last_seen_ms < ?1"                      \
	" ORDER BY first_seen_ms LIMIT " STR(RETAIN_CHUNK_ROWS)

/*
 * One transaction: move up to RETAIN_CHUNK_ROWS old flows into the
 * retired totals, delete them and up to RETAIN_CHUNK_ROWS old metric rows.
 * *flows and *metrics get what was deleted. A SQLite code.
 */
static int retain_chunk(struct store *s, int64_t cutoff, int64_t *flows, int64_t *metrics)
{
	sqlite3_stmt *grp = NULL, *upd = NULL, *ins = NULL, *del = NULL, *delm = NULL;
	int rc;

	*flows = *metrics = 0;
	rc = sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
	if (rc != SQLITE_OK)
		return retain_err(s, rc, "BEGIN");
	rc = sqlite3_prepare_v2(
		s->db,
		"SELECT interface_id, direction, exporter_id, count(*), sum(packets), sum(bytes),"
		" sum(ip_bytes), min(first_seen_ms), max(last_seen_ms) FROM flows"
		" WHERE id IN (" OLD_FLOWS ") GROUP BY interface_id, direction, exporter_id",
		-1, &grp, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(
			s->db,
			"UPDATE retired SET flows = flows + ?4, packets = packets + ?5,"
			" bytes = bytes + ?6, ip_bytes = coalesce(ip_bytes + ?7, ip_bytes, ?7),"
			" first_seen_ms = min(first_seen_ms, ?8),"
			" last_seen_ms = max(last_seen_ms, ?9)"
			" WHERE interface_id IS ?1 AND direction IS ?2 AND exporter_id IS ?3",
			-1, &upd, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(
			s->db,
			"INSERT INTO retired(interface_id, direction, exporter_id,"
			" flows, packets, bytes, ip_bytes, first_seen_ms, last_seen_ms)"
			" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
			-1, &ins, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(s->db, "DELETE FROM flows WHERE id IN (" OLD_FLOWS ")", -1,
					&del, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(s->db,
					"DELETE FROM metrics WHERE rowid IN (SELECT rowid FROM"
					" metrics WHERE ts_ms < ?1 ORDER BY ts_ms"
					" LIMIT " STR(RETAIN_CHUNK_ROWS) ")",
					-1, &delm, NULL);
	if (rc != SQLITE_OK) {
		retain_err(s, rc, "preparing");
		goto out;
	}
	sqlite3_bind_int64(grp, 1, cutoff);
	while ((rc = sqlite3_step(grp)) == SQLITE_ROW) {
		sqlite3_stmt *w = upd;

		for (int i = 0; i < 9; i++)
			sqlite3_bind_value(upd, i + 1, sqlite3_column_value(grp, i));
		rc = sqlite3_step(upd);
		sqlite3_reset(upd);
		if (rc == SQLITE_DONE && !sqlite3_changes(s->db)) {
			w = ins;
			for (int i = 0; i < 9; i++)
				sqlite3_bind_value(ins, i + 1, sqlite3_column_value(grp, i));
			rc = sqlite3_step(ins);
			sqlite3_reset(ins);
		}
		if (rc != SQLITE_DONE) {
			retain_err(s, rc, w == ins ? "adding to retired" : "updating retired");
			goto out;
		}
		*flows += sqlite3_column_int64(grp, 3);
	}
	if (rc != SQLITE_DONE) {
		retain_err(s, rc, "reading old flows");
		goto out;
	}
	sqlite3_bind_int64(del, 1, cutoff);
	rc = sqlite3_step(del);
	if (rc != SQLITE_DONE) {
		retain_err(s, rc, "deleting flows");
		goto out;
	}
	if (sqlite3_changes(s->db) != *flows) {
		/* Cannot happen in one transaction of the only writer. */
		snprintf(s->errmsg, sizeof(s->errmsg),
			 "retention: deleted %d flows, retired %" PRId64, sqlite3_changes(s->db),
			 *flows);
		rc = SQLITE_INTERNAL;
		goto out;
	}
	sqlite3_bind_int64(delm, 1, cutoff);
	rc = sqlite3_step(delm);
	if (rc != SQLITE_DONE) {
		retain_err(s, rc, "deleting metrics");
		goto out;
	}
	*metrics = sqlite3_changes(s->db);
	rc = sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);
	if (rc != SQLITE_OK)
		retain_err(s, rc, "COMMIT");
out:
	sqlite3_finalize(grp);
	sqlite3_finalize(upd);
	sqlite3_finalize(ins);
	sqlite3_finalize(del);
	sqlite3_finalize(delm);
	if (rc != SQLITE_OK) {
		if (!sqlite3_get_autocommit(s->db))
			sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
		*flows = *metrics = 0;
	}
	return rc;
}

/* Release free pages beyond the reserve, a bounded number. Returns pages
 * released. */
static int64_t retain_vacuum(struct store *s)
{
	int64_t av = 0, fl = 0, before = 0, after = 0, n;
	char sql[64];

	if (pragma_int(s, "PRAGMA auto_vacuum", &av) != SQLITE_OK || av != 2)
		return 0;
	if (pragma_int(s, "PRAGMA freelist_count", &fl) != SQLITE_OK ||
	    fl <= RETAIN_FREE_RESERVE_PAGES)
		return 0;
	n = fl - RETAIN_FREE_RESERVE_PAGES;
	if (n > RETAIN_VACUUM_PAGES)
		n = RETAIN_VACUUM_PAGES;
	before = fl;
	snprintf(sql, sizeof(sql), "PRAGMA incremental_vacuum(%" PRId64 ")", n);
	/* It returns a row per page; exec steps through them. */
	if (sqlite3_exec(s->db, sql, NULL, NULL, NULL) != SQLITE_OK) {
		pr_debug("store: %s: retention: incremental_vacuum: %s\n", s->path,
			 sqlite3_errmsg(s->db));
		return 0;
	}
	if (pragma_int(s, "PRAGMA freelist_count", &after) != SQLITE_OK)
		return 0;
	return before - after;
}

int retention_pass(struct store *s, int64_t now_epoch_ms, bool *more)
{
	int64_t cutoff = now_epoch_ms - s->opts.retention_ms, flows = 0, metrics = 0, pages;
	double t0 = clock_ms_f(CLOCK_MONOTONIC);
	int rc;

	*more = false;
	if (!s->db)
		return SQLITE_OK;
	rc = retain_chunk(s, cutoff, &flows, &metrics);
	if (rc != SQLITE_OK) {
		pr_warn("store: %s: %s; trying again later\n", s->path, s->errmsg);
		return rc;
	}
	*more = flows == RETAIN_CHUNK_ROWS || metrics == RETAIN_CHUNK_ROWS;
	pages = flows || metrics ? retain_vacuum(s) : 0;
	pthread_mutex_lock(&s->lock);
	s->st.retired_flows += (uint64_t)flows;
	s->st.retired_metric_rows += (uint64_t)metrics;
	s->st.vacuumed_pages += (uint64_t)pages;
	pthread_mutex_unlock(&s->lock);
	if (flows || metrics)
		pr_debug("store: %s: retention: %" PRId64 " flows and %" PRId64
			 " metric rows older than %" PRId64 " deleted, %" PRId64
			 " pages released, in %.1f ms\n",
			 s->path, flows, metrics, cutoff, pages, clock_ms_f(CLOCK_MONOTONIC) - t0);
	return SQLITE_OK;
}

void retention_check_file(struct store *s)
{
	int64_t av = 0;

	if (!s->opts.retention_ms || !s->db || pragma_int(s, "PRAGMA auto_vacuum", &av))
		return;
	if (av != 2)
		pr_info("store: %s: made without auto_vacuum (schema version 1): retention frees pages for reuse, so the file stops growing, but it will not shrink; to convert it, stop the daemon and run: sqlite3 %s 'PRAGMA auto_vacuum = INCREMENTAL; VACUUM'\n",
			s->path, s->path);
}
