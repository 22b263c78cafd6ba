// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The raw insert loop of the benches: see rawloop.h. */
#include <stdio.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "rawloop.h"
#include "store/store.h"

static int raw_ok(struct raw_loop *l, int rc, const char *what)
{
	if (rc == SQLITE_OK || rc == SQLITE_DONE || rc == SQLITE_ROW)
		return 0;
	fprintf(stderr, "%s: raw loop: %s: %s\n", l->who, what,
		l->db ? sqlite3_errmsg(l->db) : sqlite3_errstr(rc));
	return -1;
}

void raw_format(const struct fm_record *r, struct raw_text *t)
{
	bool ip4 = r->key.eth_type == FM_ETH_P_IP;

	store_fmt_mac(t->smac, r->key.src_mac);
	store_fmt_mac(t->dmac, r->key.dst_mac);
	store_fmt_addr(t->sip, r->key.src_addr, ip4);
	store_fmt_addr(t->dip, r->key.dst_addr, ip4);
}

int raw_open(struct raw_loop *l, const char *path, const char *who)
{
	l->who = who;
	l->ins = NULL;
	if (raw_ok(l, sqlite3_open_v2(path, &l->db, SQLITE_OPEN_READWRITE, NULL), "open") ||
	    raw_ok(l,
		   sqlite3_exec(l->db,
				"PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;"
				"PRAGMA journal_size_limit = 67108864;"
				/* the store's default page cache (DEFAULT_PAGE_CACHE_KIB) */
				"PRAGMA cache_size = -65536;",
				NULL, NULL, NULL),
		   "pragmas") ||
	    raw_ok(l,
		   sqlite3_prepare_v3(l->db, store_insert_flow_sql, -1, SQLITE_PREPARE_PERSISTENT,
				      &l->ins, NULL),
		   "prepare")) {
		sqlite3_finalize(l->ins);
		sqlite3_close(l->db);
		l->db = NULL;
		l->ins = NULL;
		return -1;
	}
	sqlite3_busy_timeout(l->db, 5000);
	return 0;
}

int raw_exec(struct raw_loop *l, const char *sql)
{
	return raw_ok(l, sqlite3_exec(l->db, sql, NULL, NULL, NULL), sql);
}

static void bind_id(sqlite3_stmt *st, int param, int64_t id)
{
	if (id)
		sqlite3_bind_int64(st, param, id);
	else
		sqlite3_bind_null(st, param);
}

int raw_insert(struct raw_loop *l, const struct fm_record *r, const struct raw_text *t,
	       const struct raw_ids *ids)
{
	const struct fm_flow_key *k = &r->key;
	sqlite3_stmt *st = l->ins;
	int rc;

	bind_id(st, 1, ids->iface);
	sqlite3_bind_text(st, 2, k->direction == FM_DIR_EGRESS ? "egress" : "ingress", -1,
			  SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, r->first_seen_ms);
	sqlite3_bind_int64(st, 4, r->last_seen_ms);
	sqlite3_bind_text(st, 5, t->smac, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, t->dmac, -1, SQLITE_STATIC);
	sqlite3_bind_null(st, 7);
	sqlite3_bind_int(st, 8, k->eth_type);
	sqlite3_bind_text(st, 9, t->sip, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 10, t->dip, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 11, k->src_port);
	sqlite3_bind_int(st, 12, k->dst_port);
	sqlite3_bind_int(st, 13, k->protocol);
	sqlite3_bind_null(st, 14);
	sqlite3_bind_null(st, 15);
	sqlite3_bind_int(st, 16, r->tcp_flags);
	sqlite3_bind_int(st, 17, k->tos);
	sqlite3_bind_int64(st, 18, (sqlite3_int64)r->packets);
	sqlite3_bind_int64(st, 19, (sqlite3_int64)r->bytes);
	bind_id(st, 20, (int64_t)r->ip_bytes);
	sqlite3_bind_text(st, 21, fm_end_reason_str(r->end_reason), -1, SQLITE_STATIC);
	bind_id(st, 22, ids->src_dev);
	bind_id(st, 23, ids->dst_dev);
	bind_id(st, 24, ids->exporter);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	return raw_ok(l, rc, "insert");
}

int raw_close(struct raw_loop *l)
{
	int rc;

	sqlite3_wal_checkpoint_v2(l->db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
	sqlite3_finalize(l->ins);
	l->ins = NULL;
	rc = sqlite3_close(l->db);
	l->db = NULL;
	return raw_ok(l, rc, "close");
}

void bench_remove_db(const char *path)
{
	char p[4200];

	unlink(path);
	snprintf(p, sizeof(p), "%s-wal", path);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", path);
	unlink(p);
}

double bench_now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

double bench_cpu_s(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec +
	       ru.ru_stime.tv_usec / 1e6;
}
