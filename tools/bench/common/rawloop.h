/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The raw SQLite insert loop the store is measured against (sqlite_ingest,
 * churn, ipfix_bench): the row the store writes, all 24 columns of flows,
 * bound from the same record with the store's own formatting, one prepared
 * INSERT, WAL, synchronous=NORMAL and the store's default page cache; no
 * device cache, no writer thread.
 * Functions return 0 or -1 after printing what failed.
 */
#ifndef FM_BENCH_RAWLOOP_H
#define FM_BENCH_RAWLOOP_H

#include <arpa/inet.h>
#include <sqlite3.h>
#include <stdint.h>

#include "table/record.h"

struct raw_loop {
	sqlite3 *db;
	sqlite3_stmt *ins;
	const char *who; /* the bench's name, for messages */
};

/* A row's text columns; formatted per row, or all before timing. */
struct raw_text {
	char smac[18], dmac[18], sip[INET6_ADDRSTRLEN], dip[INET6_ADDRSTRLEN];
};

/* The per-row constants: 0 binds NULL. */
struct raw_ids {
	int64_t iface, src_dev, dst_dev, exporter;
};

void raw_format(const struct fm_record *r, struct raw_text *t);
/* path must exist with the store's schema (store_open made it). */
int raw_open(struct raw_loop *l, const char *path, const char *who);
int raw_exec(struct raw_loop *l, const char *sql); /* BEGIN IMMEDIATE, COMMIT */
int raw_insert(struct raw_loop *l, const struct fm_record *r, const struct raw_text *t,
	       const struct raw_ids *ids);
/* A passive checkpoint, as the store's writer does when idle, then close. */
int raw_close(struct raw_loop *l);

/* A database and its -wal and -shm files, gone. */
void bench_remove_db(const char *path);
double bench_now_s(void); /* CLOCK_MONOTONIC */
double bench_cpu_s(void); /* the whole process's CPU seconds so far */

#endif
