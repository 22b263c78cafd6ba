// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* --retention in the store: old flows and metrics deleted in chunks, their
 * totals kept exact in `retired`, free pages given back. */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include "tests/testlib.h"
#include "lib/clock.h"
#include "store/store.h"

TESTLIB_MAIN("retention")

static char path[64];

static void rm_db(void)
{
	char p[80];

	unlink(path);
	snprintf(p, sizeof(p), "%s-wal", path);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", path);
	unlink(p);
}

static long long db_int(const char *sql)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	long long v = -1;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
	    sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

static struct fm_record rec(int i, int64_t last_ms, int dir)
{
	struct fm_record r = {
		.key = {
			.ifindex = 7,
			.eth_type = 0x0800,
			.src_mac = { 0x02, 0, 0, 0, 0, 1 },
			.dst_mac = { 0x02, 0, 0, 0, 0, 2 },
			.src_addr = { [10] = 0xff, [11] = 0xff, 198, 18, 0, 1 },
			.dst_addr = { [10] = 0xff, [11] = 0xff, 198, 18, 0, 2 },
			.src_port = (uint16_t)(i & 0xffff),
			.dst_port = 9,
			.protocol = 17,
			.direction = (uint8_t)dir,
		},
		.packets = (uint64_t)(i % 7 + 1),
		.bytes = (uint64_t)(i % 7 + 1) * 60,
		.ip_bytes = (uint64_t)(i % 7 + 1) * 46,
		.first_seen_ms = last_ms - 500,
		.last_seen_ms = last_ms,
		.end_reason = FM_END_IDLE,
	};
	return r;
}

TEST(old_rows_retired_exactly)
{
	enum { OLD = 20000, NEW = 300, CHUNK = 1000 };
	struct store_opts o = { 0 };
	static struct fm_record r[CHUNK];
	long long want_p = 0, want_b = 0, want_ip = 0, new_p = 0;
	int64_t now = now_ms();
	struct store_stats st;
	struct store *s = NULL;
	const char *names[] = { "m" };
	double one = 1;

	snprintf(path, sizeof(path), "/tmp/fm-test-retention.%d.db", getpid());
	rm_db();
	atexit(rm_db);
	o.path = path;
	ASSERT_EQ(store_open(&s, &o), 0, "open");
	ASSERT_EQ(store_interface_attach(s, "if0", 7, NULL, "native", now), 0, "attach");
	/* Old rows (an hour ago, both directions) and new ones (now). */
	for (int c = 0; c < OLD / CHUNK; c++) {
		for (int i = 0; i < CHUNK; i++) {
			r[i] = rec(c * CHUNK + i, now - 3600000 + c, i & 1);
			want_p += (long long)r[i].packets;
			want_b += (long long)r[i].bytes;
			want_ip += (long long)r[i].ip_bytes;
		}
		while (store_submit(s, r, CHUNK) == -EAGAIN)
			usleep(1000);
	}
	for (int i = 0; i < NEW; i++) {
		r[i] = rec(i, now, 0);
		new_p += (long long)r[i].packets;
	}
	ASSERT_EQ(store_submit(s, r, NEW), 0, "new rows");
	EXPECT_EQ(store_submit_metrics(s, now - 3600000, names, &one, 1), 0, "old metric");
	EXPECT_EQ(store_submit_metrics(s, now, names, &one, 1), 0, "new metric");
	/* Everything written first, without retention (closing without a
	 * start writes what is queued); then the file is opened again with
	 * retention, as after an upgrade or a restart with a backlog. */
	EXPECT_EQ(store_close(s, NULL), 0, "close the writing store");
	s = NULL;
	o.retention_ms = 60000;
	ASSERT_EQ(store_open(&s, &o), 0, "reopen with retention");
	ASSERT_EQ(store_start(s), 0, "start");
	for (int i = 0; i < 1000; i++) {
		store_get_stats(s, &st);
		if (st.retired_flows >= OLD && !st.pending)
			break;
		usleep(10000);
	}
	EXPECT_EQ(st.retired_flows, OLD, "retired_flows counted");
	EXPECT_EQ(st.retired_metric_rows, 1, "one metric row retired");
	EXPECT_TRUE(st.vacuumed_pages > 0, "pages given back");
	EXPECT_EQ(store_close(s, NULL), 0, "close");

	EXPECT_EQ(db_int("SELECT count(*) FROM flows"), NEW, "new rows kept");
	EXPECT_EQ(db_int("SELECT sum(packets) FROM flows"), new_p, "their packets");
	EXPECT_EQ(db_int("SELECT count(*) FROM retired"), 2, "one retired row per direction");
	EXPECT_EQ(db_int("SELECT sum(flows) FROM retired"), OLD, "retired flows");
	EXPECT_EQ(db_int("SELECT sum(packets) FROM retired"), want_p, "retired packets exact");
	EXPECT_EQ(db_int("SELECT sum(bytes) FROM retired"), want_b, "retired bytes exact");
	EXPECT_EQ(db_int("SELECT sum(ip_bytes) FROM retired"), want_ip, "retired ip_bytes exact");
	EXPECT_EQ(db_int("SELECT count(DISTINCT direction) FROM retired"), 2, "both directions");
	EXPECT_EQ(db_int("SELECT min(first_seen_ms) FROM retired"), now - 3600000 - 500,
		  "retired first_seen");
	EXPECT_EQ(db_int("SELECT count(*) FROM retired WHERE interface_id = (SELECT id FROM"
			 " interfaces WHERE name = 'if0')"),
		  2, "retired keyed by the interface");
	EXPECT_EQ(db_int("SELECT count(*) FROM metrics WHERE name = 'm'"), 1, "new metric kept");
	EXPECT_EQ(db_int("PRAGMA auto_vacuum"), 2, "incremental auto_vacuum");
	EXPECT_TRUE(db_int("PRAGMA freelist_count") <= 256, "free pages down to the reserve");
	EXPECT_EQ(
		db_int("SELECT count(*) FROM pragma_integrity_check WHERE integrity_check = 'ok'"),
		1, "integrity_check");
}
