// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The SQLite writer against real database files in a temporary directory,
 * read back through a second connection as an operator's sqlite3 would.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tests/testlib.h"
#include "lib/proto.h"
#include "store/store.h"

#define NULLV LLONG_MIN	     /* q_int's answer for SQL NULL */
#define QERR (LLONG_MIN + 1) /* ... and for a failed query */

static char tmp_dir[64];

static int rm_one(const char *p, const struct stat *sb, int type, struct FTW *f)
{
	(void)sb, (void)type, (void)f;
	return remove(p);
}

static void rm_tmp(void)
{
	nftw(tmp_dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
}

/* A fresh database path (the file does not exist yet) in a private dir. */
static const char *db_path(const char *name)
{
	static char path[128];

	if (!tmp_dir[0]) {
		snprintf(tmp_dir, sizeof(tmp_dir), "/tmp/fm-test-store.XXXXXX");
		if (!mkdtemp(tmp_dir)) {
			perror("mkdtemp");
			exit(1);
		}
		atexit(rm_tmp);
	}
	snprintf(path, sizeof(path), "%s/%s.db", tmp_dir, name);
	return path;
}

static sqlite3 *sql_open(const char *path)
{
	sqlite3 *db = NULL;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
		sqlite3_close(db);
		return NULL;
	}
	sqlite3_busy_timeout(db, 5000);
	return db;
}

/* First column of the first row as an integer, NULLV, or QERR. */
static long long q_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;
	long long v = QERR;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		fprintf(stderr, "  query \"%s\": %s\n", sql, sqlite3_errmsg(db));
		return QERR;
	}
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_type(st, 0) == SQLITE_NULL ? NULLV : sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

/* First column of the first row as text ("NULL" for SQL NULL). */
static const char *q_text(sqlite3 *db, const char *sql)
{
	static char buf[512];
	sqlite3_stmt *st;

	snprintf(buf, sizeof(buf), "(query failed)");
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		fprintf(stderr, "  query \"%s\": %s\n", sql, sqlite3_errmsg(db));
		return buf;
	}
	if (sqlite3_step(st) == SQLITE_ROW) {
		const unsigned char *t = sqlite3_column_text(st, 0);

		snprintf(buf, sizeof(buf), "%s", t ? (const char *)t : "NULL");
	}
	sqlite3_finalize(st);
	return buf;
}

static long long db_int(const char *path, const char *sql)
{
	sqlite3 *db = sql_open(path);
	long long v = db ? q_int(db, sql) : QERR;

	sqlite3_close(db);
	return v;
}

static const char *db_text(const char *path, const char *sql)
{
	sqlite3 *db = sql_open(path);
	const char *v = db ? q_text(db, sql) : "(open failed)";

	sqlite3_close(db);
	return v;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

static struct fm_record ipv4_rec(uint32_t ifindex, uint8_t proto, uint16_t sport, uint16_t dport,
				 uint64_t packets)
{
	struct fm_record r = {
		.key = {
			.ifindex = ifindex,
			.eth_type = 0x0800,
			.src_mac = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 },
			.dst_mac = { 0x02, 0x00, 0x00, 0x00, 0x00, 0xfe },
			.src_addr = { [10] = 0xff, [11] = 0xff, 198, 18, 0, 1 },
			.dst_addr = { [10] = 0xff, [11] = 0xff, 198, 18, 0, 2 },
			.src_port = sport,
			.dst_port = dport,
			.protocol = proto,
		},
		.packets = packets,
		.bytes = packets * 100,
		.first_seen_ms = 1700000000123,
		.last_seen_ms = 1700000001456,
		.end_reason = FM_END_IDLE,
	};
	return r;
}

/* Submit, retrying while the queue is full; 0 or the first hard error. */
static int submit_all(struct store *s, const struct fm_record *r, size_t n)
{
	int err;

	while ((err = store_submit(s, r, n)) == -EAGAIN)
		sleep_ms(1);
	return err;
}

/* Open a store at a fresh path with the given options, attach if0 (ifindex
 * 7) and start it. */
static struct store *start_store(const char *name, struct store_opts *o)
{
	struct store *s = NULL;

	o->path = db_path(name);
	if (store_open(&s, o))
		return NULL;
	if (store_interface_attach(s, "if0", 7, "02:00:00:00:00:aa", "native", 1000) ||
	    store_start(s)) {
		store_close(s, NULL);
		return NULL;
	}
	return s;
}

static const char *columns(sqlite3 *db, const char *table)
{
	char sql[160];

	snprintf(
		sql, sizeof(sql),
		"SELECT group_concat(name, ',') FROM (SELECT name FROM pragma_table_info('%s') ORDER BY cid)",
		table);
	return q_text(db, sql);
}

/* Indexes on flows covering column col. */
static long long flows_index_on(sqlite3 *db, const char *col)
{
	char sql[256];

	snprintf(
		sql, sizeof(sql),
		"SELECT count(*) FROM pragma_index_list('flows') l, pragma_index_info(l.name) i WHERE i.name = '%s'",
		col);
	return q_int(db, sql);
}

TEST(schema_created)
{
	struct store_opts o = { .path = db_path("schema") };
	struct store *s = NULL;
	sqlite3 *db;

	ASSERT_EQ(store_open(&s, &o), 0, "store_open on a new file");
	ASSERT_EQ(store_close(s, NULL), 0, "store_close");
	db = sql_open(o.path);
	ASSERT_TRUE(db, "open the database");
	EXPECT_EQ(q_int(db, "PRAGMA user_version"), 2, "user_version");
	EXPECT_STREQ(q_text(db, "PRAGMA journal_mode"), "wal", "journal mode");
	EXPECT_EQ(q_int(db, "PRAGMA auto_vacuum"), 2, "auto_vacuum incremental in a new file");
	EXPECT_STREQ(columns(db, "interfaces"),
		     "id,name,ifindex,mac,xdp_mode,attached_ms,detached_ms,run_id",
		     "interfaces columns");
	EXPECT_STREQ(columns(db, "devices"),
		     "id,interface_id,mac,ip,first_seen_ms,last_seen_ms,"
		     "packets_sent,bytes_sent,packets_received,bytes_received",
		     "devices columns");
	EXPECT_STREQ(columns(db, "flows"),
		     "id,interface_id,direction,first_seen_ms,last_seen_ms,"
		     "src_mac,dst_mac,vlan_id,eth_type,src_ip,dst_ip,src_port,dst_port,"
		     "protocol,icmp_type,icmp_code,tcp_flags,packets,bytes,"
		     "end_reason,src_device_id,dst_device_id,ip_bytes,tos,exporter_id",
		     "flows columns");
	EXPECT_STREQ(columns(db, "metrics"), "ts_ms,name,value,run_id", "metrics columns");
	EXPECT_STREQ(columns(db, "exporters"),
		     "id,address,port,domain_id,protocol,first_seen_ms,last_seen_ms,"
		     "datagrams,records,lost_records,malformed,templates",
		     "exporters columns");
	EXPECT_STREQ(columns(db, "runs"),
		     "id,command,pid,hostname,version,started_ms,stopped_ms,args", "runs columns");
	EXPECT_STREQ(columns(db, "retired"),
		     "interface_id,direction,exporter_id,flows,packets,bytes,ip_bytes,"
		     "first_seen_ms,last_seen_ms",
		     "retired columns");
	EXPECT_STREQ(
		q_text(db, "SELECT command || ' ' || (pid > 0) || ' ' || (started_ms <= stopped_ms)"
			   " || ' ' || (hostname != '') || ' ' || ifnull(args, 'NULL') FROM runs"),
		"run 1 1 1 NULL", "one runs row, stopped at close, command run by default");
	EXPECT_EQ(q_int(db, "SELECT count(*) FROM metrics_latest"), 0, "metrics_latest view");
	EXPECT_EQ(flows_index_on(db, "first_seen_ms"), 1, "index on flows(first_seen_ms)");
	EXPECT_EQ(flows_index_on(db, "src_ip"), 0, "no src_ip index by default");
	EXPECT_EQ(flows_index_on(db, "dst_ip"), 0, "no dst_ip index by default");
	EXPECT_EQ(q_int(db, "SELECT count(*) FROM flows_readable"), 0, "flows_readable view");
	EXPECT_EQ(q_int(db, "SELECT count(*) FROM top_talkers"), 0, "top_talkers view");
	EXPECT_EQ(q_int(db, "SELECT count(*) FROM device_summary"), 0, "device_summary view");
	/* devices: UNIQUE(interface_id, mac, ip) */
	EXPECT_EQ(sqlite3_exec(db, "INSERT INTO devices(interface_id, mac, ip) VALUES(1, 'm', 'a')",
			       NULL, NULL, NULL),
		  SQLITE_OK, "first device row");
	EXPECT_EQ(sqlite3_exec(db, "INSERT INTO devices(interface_id, mac, ip) VALUES(1, 'm', 'a')",
			       NULL, NULL, NULL),
		  SQLITE_CONSTRAINT, "duplicate device row refused");
	sqlite3_close(db);
}

TEST(schema_index_addresses)
{
	struct store_opts o = { .path = db_path("addrindex"), .index_addresses = true };
	struct store *s = NULL;
	sqlite3 *db;

	ASSERT_EQ(store_open(&s, &o), 0, "store_open with index_addresses");
	ASSERT_EQ(store_close(s, NULL), 0, "store_close");
	db = sql_open(o.path);
	ASSERT_TRUE(db, "open the database");
	EXPECT_EQ(flows_index_on(db, "src_ip"), 1, "src_ip index");
	EXPECT_EQ(flows_index_on(db, "dst_ip"), 1, "dst_ip index");
	EXPECT_EQ(flows_index_on(db, "first_seen_ms"), 1, "first_seen_ms index");
	sqlite3_close(db);
}

TEST(refuses_newer_schema)
{
	struct store_opts o = { .path = db_path("newer") };
	struct store *s = (void *)&o; /* store_open must reset it to NULL */
	sqlite3 *db = NULL;

	ASSERT_EQ(sqlite3_open(o.path, &db), SQLITE_OK, "create a database");
	ASSERT_EQ(sqlite3_exec(db, "CREATE TABLE flows(x); PRAGMA user_version = 3", NULL, NULL,
			       NULL),
		  SQLITE_OK, "set user_version 3");
	sqlite3_close(db);

	EXPECT_EQ(store_open(&s, &o), -EPROTO, "store_open on a version 3 database");
	EXPECT_TRUE(s == NULL, "no store returned");
	EXPECT_EQ(db_int(o.path, "PRAGMA user_version"), 3, "user_version untouched");
	EXPECT_EQ(db_int(o.path, "SELECT count(*) FROM sqlite_master WHERE name = 'metrics'"), 0,
		  "nothing created");
}

TEST(refuses_non_database)
{
	struct store_opts o = { .path = db_path("garbage") };
	struct store *s = NULL;
	FILE *f = fopen(o.path, "w");

	ASSERT_TRUE(f, "create a file");
	for (int i = 0; i < 200; i++)
		fputs("this is not an SQLite database\n", f);
	fclose(f);
	EXPECT_EQ(store_open(&s, &o), -EINVAL, "store_open on a text file");
	EXPECT_TRUE(s == NULL, "no store returned");
	o.path = "/nonexistent-dir/x.db";
	EXPECT_TRUE(store_open(&s, &o) < 0, "store_open in a missing directory");
	o.path = NULL;
	EXPECT_EQ(store_open(&s, &o), -EINVAL, "store_open without a path");
}

TEST(reopen)
{
	struct store_opts o = { 0 };
	struct fm_record r[10];
	struct store *s;
	uint64_t unwritten = 99;

	for (int i = 0; i < 10; i++)
		r[i] = ipv4_rec(7, 17, 1000 + i, 53, 1);
	s = start_store("reopen", &o);
	ASSERT_TRUE(s, "first open");
	EXPECT_EQ(store_submit(s, r, 10), 0, "submit 10");
	EXPECT_EQ(store_close(s, &unwritten), 0, "first close");
	EXPECT_EQ(unwritten, 0, "nothing unwritten");

	o.index_addresses = true; /* added to an existing database */
	ASSERT_EQ(store_open(&s, &o), 0, "reopen the database");
	EXPECT_EQ(store_interface_attach(s, "if0", 7, NULL, "generic", 2000), 0, "attach again");
	EXPECT_EQ(store_start(s), 0, "start");
	EXPECT_EQ(store_submit(s, r, 10), 0, "submit 10 more");
	EXPECT_EQ(store_close(s, NULL), 0, "second close");

	EXPECT_EQ(db_int(o.path, "SELECT count(*) FROM flows"), 20, "rows from both runs");
	EXPECT_EQ(db_int(o.path, "SELECT count(*) FROM interfaces"), 2,
		  "one interfaces row per attach");
	EXPECT_EQ(db_int(o.path, "SELECT count(DISTINCT interface_id) FROM flows"), 2,
		  "each run's flows point at its own interfaces row");
	EXPECT_EQ(db_int(o.path, "PRAGMA user_version"), 2, "still version 2");
	EXPECT_EQ(db_int(o.path, "SELECT count(*) FROM sqlite_master WHERE name = 'flows_src_ip'"),
		  1, "address index added on reopen");
	EXPECT_EQ(db_int(o.path, "SELECT count(*) FROM runs"), 2, "one runs row per open");
	EXPECT_EQ(db_int(o.path, "SELECT count(DISTINCT run_id) FROM interfaces"), 2,
		  "each interfaces row stamped with its run");
}

TEST(bulk_100k_exact)
{
	enum { N = 100000, CHUNK = 1000 };
	struct store_opts o = { 0 };
	static struct fm_record r[CHUNK];
	unsigned long long want_packets = 0, want_bytes = 0;
	struct store_stats st;
	uint64_t unwritten = 99;
	struct store *s;

	s = start_store("bulk", &o);
	ASSERT_TRUE(s, "open and start");
	for (int c = 0; c < N / CHUNK; c++) {
		for (int i = 0; i < CHUNK; i++) {
			int n = c * CHUNK + i;

			r[i] = ipv4_rec(7, 6, n & 0xffff, 80, n % 97 + 1);
			r[i].bytes = n % 1500 + 60;
			want_packets += r[i].packets;
			want_bytes += r[i].bytes;
		}
		ASSERT_EQ(submit_all(s, r, CHUNK), 0, "submit a chunk");
	}
	EXPECT_EQ(store_close(s, &unwritten), 0, "close");
	EXPECT_EQ(unwritten, 0, "nothing unwritten");
	EXPECT_EQ(db_int(o.path, "SELECT count(*) FROM flows"), N, "rows");
	EXPECT_EQ(db_int(o.path, "SELECT sum(packets) FROM flows"), want_packets, "sum(packets)");
	EXPECT_EQ(db_int(o.path, "SELECT sum(bytes) FROM flows"), want_bytes, "sum(bytes)");
	EXPECT_EQ(db_int(o.path, "SELECT count(*) FROM flows WHERE interface_id IS NULL"), 0,
		  "every row has its interface");

	/* Stats of a second, smaller run: the snapshot after close is gone,
	 * so read them while running. */
	s = start_store("bulk-stats", &o);
	ASSERT_TRUE(s, "open and start again");
	ASSERT_EQ(submit_all(s, r, CHUNK), 0, "submit");
	store_get_stats(s, &st);
	EXPECT_EQ(st.rows_written + st.pending, CHUNK, "written + pending");
	EXPECT_TRUE(st.current_batch_size >= 64 && st.current_batch_size <= 65536,
		    "batch size within bounds");
	EXPECT_EQ(st.queue_full, 0, "no refusals with room to spare");
	EXPECT_EQ(store_close(s, NULL), 0, "close");
}

struct row {
	long long iface, vlan, eth, sport, dport, proto, itype, icode, flags, pkts, bytes;
	long long first, last;
	char dir[16], smac[20], dmac[20], sip[48], dip[48], reason[16];
};

/* Read flows row id into *w, NULL integers as NULLV and NULL text as "NULL". */
static int read_row(const char *path, int id, struct row *w)
{
	static const char sql[] =
		"SELECT interface_id, vlan_id, eth_type, src_port, dst_port, protocol,"
		" icmp_type, icmp_code, tcp_flags, packets, bytes, first_seen_ms, last_seen_ms,"
		" direction, src_mac, dst_mac, src_ip, dst_ip, end_reason FROM flows WHERE id = ?";
	long long *ints[] = { &w->iface, &w->vlan,  &w->eth,   &w->sport, &w->dport,
			      &w->proto, &w->itype, &w->icode, &w->flags, &w->pkts,
			      &w->bytes, &w->first, &w->last };
	struct {
		char *buf;
		size_t len;
	} texts[] = {
		{ w->dir, sizeof(w->dir) },   { w->smac, sizeof(w->smac) },
		{ w->dmac, sizeof(w->dmac) }, { w->sip, sizeof(w->sip) },
		{ w->dip, sizeof(w->dip) },   { w->reason, sizeof(w->reason) },
	};
	sqlite3 *db = sql_open(path);
	sqlite3_stmt *st = NULL;
	int ok = 0;

	if (!db || sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		goto out;
	sqlite3_bind_int(st, 1, id);
	if (sqlite3_step(st) != SQLITE_ROW)
		goto out;
	for (int i = 0; i < 13; i++)
		*ints[i] = sqlite3_column_type(st, i) == SQLITE_NULL ? NULLV :
								       sqlite3_column_int64(st, i);
	for (int i = 0; i < 6; i++) {
		const unsigned char *t = sqlite3_column_text(st, 13 + i);

		snprintf(texts[i].buf, texts[i].len, "%s", t ? (const char *)t : "NULL");
	}
	ok = 1;
out:
	sqlite3_finalize(st);
	sqlite3_close(db);
	return ok;
}

TEST(column_mapping)
{
	struct store_opts o = { 0 };
	struct fm_record r[7];
	struct store *s;
	struct row w;

	/* 1: IPv4 TCP on the attached interface, DSCP EF, IP bytes known */
	r[0] = ipv4_rec(7, 6, 40000, 443, 3);
	r[0].tcp_flags = 0x13;
	r[0].key.tos = 0xb8;
	r[0].ip_bytes = 258;
	/* 2: IPv6 ICMPv6 echo request, egress, VLAN 42 */
	r[1] = ipv4_rec(7, 58, 0, 0, 1);
	r[1].key.eth_type = 0x86dd;
	inet_pton(AF_INET6, "2001:2::1", r[1].key.src_addr);
	inet_pton(AF_INET6, "2001:2::abcd", r[1].key.dst_addr);
	r[1].key.icmp_type = 128;
	r[1].key.direction = FM_DIR_EGRESS;
	r[1].key.flags = FM_KF_VLAN;
	r[1].key.vlan_id = 42;
	/* 3: ARP on an unknown interface, vlan_id set but not flagged */
	r[2] = ipv4_rec(99, 0, 0, 0, 2);
	r[2].key.eth_type = 0x0806;
	memset(r[2].key.src_addr, 0, 16);
	memset(r[2].key.dst_addr, 0, 16);
	r[2].key.vlan_id = 5;
	r[2].key.dst_mac[0] = 0xff;
	r[2].key.tos = 7;     /* not IP: stored NULL */
	r[2].exporter_id = 3; /* collected */
	/* 4: IPv4 ICMP echo reply code 0, type 0 */
	r[3] = ipv4_rec(7, 1, 0, 0, 1);
	r[3].key.icmp_type = 0;
	r[3].key.icmp_code = 0;
	/* 5: IPv4 UDP with stray icmp fields: not ICMP, so NULL */
	r[4] = ipv4_rec(7, 17, 5353, 5353, 1);
	r[4].key.icmp_type = 3;
	r[4].key.icmp_code = 1;
	/* 6: protocol 58 over IPv4 is not ICMPv6 */
	r[5] = ipv4_rec(7, 58, 0, 0, 1);
	r[5].key.icmp_type = 128;
	/* 7: IPv4 ICMP unreachable, port unreachable */
	r[6] = ipv4_rec(7, 1, 0, 0, 1);
	r[6].key.icmp_type = 3;
	r[6].key.icmp_code = 3;
	r[6].end_reason = FM_END_ACTIVE;

	s = start_store("mapping", &o);
	ASSERT_TRUE(s, "open and start");
	EXPECT_EQ(store_submit(s, r, 7), 0, "submit");
	EXPECT_EQ(store_close(s, NULL), 0, "close");

	ASSERT_TRUE(read_row(o.path, 1, &w), "row 1");
	EXPECT_EQ(w.iface, 1, "IPv4: interface_id");
	EXPECT_STREQ(w.dir, "ingress", "IPv4: direction");
	EXPECT_EQ(w.first, 1700000000123, "IPv4: first_seen_ms");
	EXPECT_EQ(w.last, 1700000001456, "IPv4: last_seen_ms");
	EXPECT_STREQ(w.smac, "02:00:00:00:00:01", "IPv4: src_mac");
	EXPECT_STREQ(w.dmac, "02:00:00:00:00:fe", "IPv4: dst_mac");
	EXPECT_EQ(w.vlan, NULLV, "IPv4: untagged vlan_id");
	EXPECT_EQ(w.eth, 0x0800, "IPv4: eth_type");
	EXPECT_STREQ(w.sip, "198.18.0.1", "IPv4: src_ip");
	EXPECT_STREQ(w.dip, "198.18.0.2", "IPv4: dst_ip");
	EXPECT_EQ(w.sport, 40000, "IPv4: src_port");
	EXPECT_EQ(w.dport, 443, "IPv4: dst_port");
	EXPECT_EQ(w.proto, 6, "IPv4: protocol");
	EXPECT_EQ(w.itype, NULLV, "IPv4 TCP: icmp_type");
	EXPECT_EQ(w.icode, NULLV, "IPv4 TCP: icmp_code");
	EXPECT_EQ(w.flags, 0x13, "IPv4: tcp_flags");
	EXPECT_EQ(w.pkts, 3, "IPv4: packets");
	EXPECT_EQ(w.bytes, 300, "IPv4: bytes");
	EXPECT_STREQ(w.reason, "idle", "IPv4: end_reason");

	ASSERT_TRUE(read_row(o.path, 2, &w), "row 2");
	EXPECT_STREQ(w.dir, "egress", "IPv6: direction");
	EXPECT_EQ(w.vlan, 42, "IPv6: vlan_id");
	EXPECT_EQ(w.eth, 0x86dd, "IPv6: eth_type");
	EXPECT_STREQ(w.sip, "2001:2::1", "IPv6: src_ip");
	EXPECT_STREQ(w.dip, "2001:2::abcd", "IPv6: dst_ip");
	EXPECT_EQ(w.proto, 58, "IPv6: protocol");
	EXPECT_EQ(w.itype, 128, "ICMPv6: icmp_type");
	EXPECT_EQ(w.icode, 0, "ICMPv6: icmp_code");
	EXPECT_EQ(w.sport, 0, "ICMPv6: src_port");
	EXPECT_EQ(w.dport, 0, "ICMPv6: dst_port");

	ASSERT_TRUE(read_row(o.path, 3, &w), "row 3");
	EXPECT_EQ(w.iface, NULLV, "unknown ifindex: interface_id");
	EXPECT_EQ(w.eth, 0x0806, "ARP: eth_type");
	EXPECT_STREQ(w.smac, "02:00:00:00:00:01", "ARP: src_mac");
	EXPECT_STREQ(w.dmac, "ff:00:00:00:00:fe", "ARP: dst_mac");
	EXPECT_EQ(w.vlan, NULLV, "ARP: vlan_id without FM_KF_VLAN");
	EXPECT_STREQ(w.sip, "NULL", "ARP: src_ip");
	EXPECT_STREQ(w.dip, "NULL", "ARP: dst_ip");
	EXPECT_EQ(w.proto, NULLV, "ARP: protocol");
	EXPECT_EQ(w.sport, 0, "ARP: src_port");
	EXPECT_EQ(w.itype, NULLV, "ARP: icmp_type");
	EXPECT_EQ(w.pkts, 2, "ARP: packets");

	ASSERT_TRUE(read_row(o.path, 4, &w), "row 4");
	EXPECT_EQ(w.proto, 1, "ICMP: protocol");
	EXPECT_EQ(w.itype, 0, "ICMP echo reply: icmp_type 0, not NULL");
	EXPECT_EQ(w.icode, 0, "ICMP echo reply: icmp_code");

	ASSERT_TRUE(read_row(o.path, 5, &w), "row 5");
	EXPECT_EQ(w.proto, 17, "UDP: protocol");
	EXPECT_EQ(w.itype, NULLV, "UDP: icmp_type");
	EXPECT_EQ(w.icode, NULLV, "UDP: icmp_code");
	EXPECT_EQ(w.sport, 5353, "UDP: src_port");

	ASSERT_TRUE(read_row(o.path, 6, &w), "row 6");
	EXPECT_EQ(w.itype, NULLV, "protocol 58 over IPv4: icmp_type");

	ASSERT_TRUE(read_row(o.path, 7, &w), "row 7");
	EXPECT_EQ(w.itype, 3, "ICMP unreachable: icmp_type");
	EXPECT_EQ(w.icode, 3, "ICMP unreachable: icmp_code");
	EXPECT_STREQ(w.reason, "active", "end_reason active");

	EXPECT_STREQ(db_text(o.path, "SELECT protocol || ' ' || first_seen || ' ' || interface"
				     " FROM flows_readable WHERE id = 1"),
		     "tcp 2023-11-14T22:13:20.123Z if0", "flows_readable row 1");
	EXPECT_STREQ(db_text(o.path,
			     "SELECT protocol || ' ' || eth_type FROM flows_readable WHERE id = 2"),
		     "icmpv6 0x86dd", "flows_readable row 2: protocol 58 is icmpv6, as in top");
	EXPECT_STREQ(db_text(o.path, "SELECT tcp_flags || ' ' || tcp_flags_num || ' ' || tos || ' '"
				     " || ip_bytes || ' ' || ifnull(exporter, 'local')"
				     " FROM flows_readable WHERE id = 1"),
		     "FIN,SYN,ACK 19 184 258 local",
		     "flows_readable: TCP flags spelled out, tos, ip_bytes");
	EXPECT_STREQ(db_text(o.path, "SELECT ifnull(tcp_flags, 'NULL') || ' ' || tcp_flags_num"
				     " FROM flows_readable WHERE id = 5"),
		     "NULL 0", "flows_readable: no TCP flags text for UDP");
	EXPECT_STREQ(
		db_text(o.path,
			"SELECT group_concat(ifnull(tos, 'NULL') || '/'"
			" || ifnull(ip_bytes, 'NULL') || '/' || ifnull(exporter_id, 'NULL'), ' ')"
			" FROM (SELECT * FROM flows ORDER BY id)"),
		"184/258/NULL 0/NULL/NULL NULL/NULL/3 0/NULL/NULL 0/NULL/NULL 0/NULL/NULL 0/NULL/NULL",
		"flows: tos (NULL for non-IP), ip_bytes (0 stored NULL), exporter_id (0 stored NULL)");
	EXPECT_STREQ(db_text(o.path,
			     "SELECT src_ip || ' ' || bytes || ' ' || packets || ' ' || flows"
			     " FROM top_talkers LIMIT 1"),
		     "198.18.0.1 700 7 5", "top_talkers first row");
}

TEST(views_name_protocols_from_one_table)
{
	/* flows_readable names protocols with lib/proto.c's table, as top
	 * does: the view holds proto_sql_case's expression, and that agrees
	 * with proto_name for every protocol number. */
	struct store_opts o = { .path = db_path("views") };
	struct store *s = NULL;
	sqlite3 *db;
	int wrong = 0;

	ASSERT_EQ(store_open(&s, &o), 0, "open");
	ASSERT_EQ(store_close(s, NULL), 0, "close");
	db = sql_open(o.path);
	ASSERT_TRUE(db, "open the database");
	{
		char *q = sqlite3_mprintf("SELECT instr(sql, %Q) > 0 FROM sqlite_master"
					  " WHERE name = 'flows_readable'",
					  proto_sql_case("f.protocol"));

		EXPECT_EQ(q_int(db, q), 1, "flows_readable uses proto_sql_case");
		sqlite3_free(q);
	}
	for (int p = 0; p < 256; p++) {
		char sql[2048], num[16];
		const char *name = proto_name(p);

		snprintf(num, sizeof(num), "%d", p);
		snprintf(sql, sizeof(sql), "SELECT %s FROM (SELECT %d AS p)", proto_sql_case("p"),
			 p);
		if (strcmp(q_text(db, sql), name ? name : num)) {
			fprintf(stderr, "  protocol %d: %s, expected %s\n", p, q_text(db, sql),
				name ? name : num);
			wrong++;
		}
	}
	EXPECT_EQ(wrong, 0, "every protocol number named as proto_name names it");
	EXPECT_STREQ(
		q_text(db, "SELECT protocol FROM flows_readable UNION ALL SELECT 'none' LIMIT 1"),
		"none", "the view reads");
	/* TCP flags: the SQL spelling is tcp_flags_str's, for every value. */
	wrong = 0;
	for (unsigned f = 0; f < 256; f++) {
		char sql[2048], buf[64];

		snprintf(sql, sizeof(sql), "SELECT %s FROM (SELECT %u AS t)", tcp_flags_sql("t"),
			 f);
		tcp_flags_str(buf, sizeof(buf), f);
		if (strcmp(q_text(db, sql), buf)) {
			fprintf(stderr, "  tcp_flags %u: %s, expected %s\n", f, q_text(db, sql),
				buf);
			wrong++;
		}
	}
	EXPECT_EQ(wrong, 0, "tcp_flags_sql spells every value as tcp_flags_str");
	sqlite3_close(db);
}

TEST(overflow_rows)
{
	struct store_opts o = { 0 };
	struct fm_record r = { 0 };
	struct store *s;
	struct row w;

	/* Whatever the key holds, only ifindex and direction count. */
	r = ipv4_rec(7, 6, 1, 2, 0);
	r.key.direction = FM_DIR_INGRESS;
	r.packets = 1234;
	r.bytes = 567890;
	r.tcp_flags = 0x02;
	r.end_reason = FM_END_OVERFLOW;

	s = start_store("overflow", &o);
	ASSERT_TRUE(s, "open and start");
	EXPECT_EQ(store_submit(s, &r, 1), 0, "submit");
	EXPECT_EQ(store_close(s, NULL), 0, "close");

	ASSERT_TRUE(read_row(o.path, 1, &w), "row 1");
	EXPECT_EQ(w.iface, 1, "interface_id");
	EXPECT_STREQ(w.dir, "ingress", "direction");
	EXPECT_EQ(w.first, 1700000000123, "first_seen_ms");
	EXPECT_EQ(w.pkts, 1234, "packets");
	EXPECT_EQ(w.bytes, 567890, "bytes");
	EXPECT_STREQ(w.reason, "overflow", "end_reason");
	EXPECT_EQ(db_int(o.path,
			 "SELECT count(*) FROM flows WHERE src_mac IS NULL AND dst_mac IS NULL"
			 " AND vlan_id IS NULL AND eth_type IS NULL AND src_ip IS NULL"
			 " AND dst_ip IS NULL AND src_port IS NULL AND dst_port IS NULL"
			 " AND protocol IS NULL AND icmp_type IS NULL AND icmp_code IS NULL"
			 " AND tcp_flags IS NULL AND src_device_id IS NULL"
			 " AND dst_device_id IS NULL AND tos IS NULL AND ip_bytes IS NULL"
			 " AND exporter_id IS NULL"),
		  1, "key columns NULL");
	EXPECT_EQ(db_int(o.path, "SELECT count(*) FROM devices"), 0,
		  "no devices from an overflow row");
}

TEST(end_reasons)
{
	static const char *const want[] = { "idle",	"active",   "tcp_end",
					    "shutdown", "pressure", "overflow" };
	struct store_opts o = { 0 };
	struct fm_record r[FM_END__MAX];
	struct store *s;
	char sql[128];

	EXPECT_EQ(FM_END__MAX, 6, "number of end reasons");
	for (int i = 0; i < FM_END__MAX; i++) {
		EXPECT_STREQ(fm_end_reason_str(i), want[i], "fm_end_reason_str");
		r[i] = ipv4_rec(7, 17, i, 53, 1);
		r[i].end_reason = i;
	}
	EXPECT_STREQ(fm_end_reason_str(FM_END__MAX), "unknown", "out of range");

	s = start_store("reasons", &o);
	ASSERT_TRUE(s, "open and start");
	EXPECT_EQ(store_submit(s, r, FM_END__MAX), 0, "submit");
	EXPECT_EQ(store_close(s, NULL), 0, "close");
	for (int i = 0; i < FM_END__MAX; i++) {
		snprintf(sql, sizeof(sql), "SELECT end_reason FROM flows WHERE id = %d", i + 1);
		EXPECT_STREQ(db_text(o.path, sql), want[i], "end_reason column");
	}
}

TEST(metrics_rows)
{
	const char *names[] = { "packets_processed", "wal_size_mb", "cache_hit_ratio" };
	const double values[] = { 123456, 1.5, 0.875 };
	char long_name[STORE_METRIC_NAME_MAX + 1];
	const char *bad[] = { long_name };
	struct store_opts o = { 0 };
	struct store_stats st;
	struct store *s;

	memset(long_name, 'x', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';
	s = start_store("metrics", &o);
	ASSERT_TRUE(s, "open and start");
	EXPECT_EQ(store_submit_metrics(s, 1700000000000, names, values, 3), 0, "submit 3");
	EXPECT_EQ(store_submit_metrics(s, 1700000010000, names, values, 2), 0, "submit 2");
	EXPECT_EQ(store_submit_metrics(s, 1, bad, values, 1), -EINVAL, "over-long name refused");
	EXPECT_EQ(store_submit_metrics(s, 1, names, values, 0), 0, "nothing to submit");
	store_get_stats(s, &st);
	EXPECT_EQ(st.metric_rows_written + st.pending_metrics, 5, "metric rows counted");
	EXPECT_EQ(store_close(s, NULL), 0, "close");

	EXPECT_EQ(db_int(o.path, "SELECT count(*) FROM metrics"), 5, "rows");
	EXPECT_EQ(db_int(o.path, "SELECT count(*) FROM metrics WHERE ts_ms = 1700000010000"), 2,
		  "rows of the second interval");
	EXPECT_STREQ(db_text(o.path, "SELECT value FROM metrics WHERE name = 'cache_hit_ratio'"),
		     "0.875", "cache_hit_ratio value");
	EXPECT_EQ(db_int(o.path, "SELECT sum(value) FROM metrics WHERE name = 'packets_processed'"),
		  246912, "packets_processed values");
	EXPECT_EQ(db_int(o.path, "SELECT count(*) FROM flows"), 0, "no flow rows");
}

TEST(interface_attach_detach)
{
	struct store_opts o = { .path = db_path("ifaces") };
	struct fm_record r[3];
	struct store *s = NULL;

	ASSERT_EQ(store_open(&s, &o), 0, "open");
	EXPECT_EQ(store_interface_attach(s, "veth-a", 3, "02:00:00:00:00:0a", "native",
					 1700000000000),
		  0, "attach veth-a");
	EXPECT_EQ(store_interface_attach(s, "veth-b", 4, NULL, "generic", 1700000000500), 0,
		  "attach veth-b");
	EXPECT_EQ(store_interface_detach(s, 9, 1), -ENOENT, "detach an unknown ifindex");
	EXPECT_EQ(store_start(s), 0, "start");
	/* After start (an interface that came back): the writer records it
	 * before the records that follow. */
	EXPECT_EQ(store_interface_attach(s, "late", 5, NULL, "native", 1700000001000), 0,
		  "attach after start");
	EXPECT_EQ(store_start(s), -EBUSY, "second start");
	r[0] = ipv4_rec(3, 17, 1, 2, 1);
	r[1] = ipv4_rec(4, 17, 1, 2, 1);
	r[2] = ipv4_rec(5, 17, 1, 2, 1);
	EXPECT_EQ(store_submit(s, r, 3), 0, "submit");
	EXPECT_EQ(store_interface_detach(s, 3, 1700000009000), 0, "detach veth-a");
	EXPECT_EQ(store_close(s, NULL), 0, "close");

	EXPECT_STREQ(db_text(o.path, "SELECT group_concat(name || ' ' || ifindex || ' ' ||"
				     " ifnull(mac, '-') || ' ' || xdp_mode || ' ' || attached_ms"
				     " || ' ' || ifnull(detached_ms, '-'), ', ') FROM interfaces"),
		     "veth-a 3 02:00:00:00:00:0a native 1700000000000 1700000009000, "
		     "veth-b 4 - generic 1700000000500 -, "
		     "late 5 - native 1700000001000 -",
		     "interfaces rows");
	EXPECT_STREQ(db_text(o.path, "SELECT group_concat(i.name, ',') FROM flows f"
				     " JOIN interfaces i ON i.id = f.interface_id"),
		     "veth-a,veth-b,late", "flows.interface_id");

	/* A store that is closed without ever starting still writes. */
	o.path = db_path("ifaces-nostart");
	ASSERT_EQ(store_open(&s, &o), 0, "open");
	EXPECT_EQ(store_interface_attach(s, "veth-c", 6, NULL, "native", 10), 0, "attach");
	EXPECT_EQ(store_submit(s, r, 2), 0, "submit before start");
	EXPECT_EQ(store_interface_detach(s, 6, 20), 0, "detach before start");
	EXPECT_EQ(store_close(s, NULL), 0, "close without start");
	EXPECT_EQ(db_int(o.path, "SELECT detached_ms FROM interfaces"), 20, "detached_ms");
	EXPECT_EQ(db_int(o.path, "SELECT count(*) FROM flows"), 2, "flows");
}

TEST(queue_full_while_locked)
{
	enum { N = 5000, CHUNK = 100 };
	struct store_opts o = { .queue_records = 1000 };
	struct fm_record r[CHUNK];
	unsigned long long want = 0;
	struct store_stats st;
	uint64_t unwritten = 99;
	int next = 0, err = 0;
	struct store *s;
	sqlite3 *locker;

	s = start_store("locked", &o);
	ASSERT_TRUE(s, "open and start");
	locker = sql_open(o.path);
	ASSERT_TRUE(locker, "second connection");
	/* The other writer holds the lock: our writer waits in busy_timeout. */
	ASSERT_EQ(sqlite3_exec(locker, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK,
		  "lock the database from another connection");

	/* Fill the queue until it refuses. */
	while (next < N) {
		for (int i = 0; i < CHUNK; i++)
			r[i] = ipv4_rec(7, 17, next + i, 53, (next + i) % 7 + 1);
		err = store_submit(s, r, CHUNK);
		if (err)
			break;
		for (int i = 0; i < CHUNK; i++)
			want += r[i].packets;
		next += CHUNK;
	}
	EXPECT_EQ(err, -EAGAIN, "a full queue refuses");
	EXPECT_TRUE(next >= 1000 - CHUNK && next <= 1000, "the queue held its capacity");
	store_get_stats(s, &st);
	EXPECT_EQ(st.queue_full, 1, "refusal counted");
	EXPECT_EQ(st.rows_written, 0, "nothing written while locked");
	EXPECT_EQ(st.pending, next, "everything accepted is pending");
	EXPECT_EQ(store_submit(s, r, o.queue_records + 1), -E2BIG, "more than the queue holds");

	sqlite3_exec(locker, "ROLLBACK", NULL, NULL, NULL);
	sqlite3_close(locker);

	/* The refused chunk and the rest go in as the writer drains. */
	while (next < N) {
		for (int i = 0; i < CHUNK; i++)
			r[i] = ipv4_rec(7, 17, next + i, 53, (next + i) % 7 + 1);
		ASSERT_EQ(submit_all(s, r, CHUNK), 0, "submit after unlock");
		for (int i = 0; i < CHUNK; i++)
			want += r[i].packets;
		next += CHUNK;
	}
	EXPECT_EQ(store_close(s, &unwritten), 0, "close");
	EXPECT_EQ(unwritten, 0, "nothing unwritten");
	EXPECT_EQ(db_int(o.path, "SELECT count(*) FROM flows"), N, "every record written");
	EXPECT_EQ(db_int(o.path, "SELECT sum(packets) FROM flows"), want, "sum(packets)");
	EXPECT_EQ(db_int(o.path, "SELECT count(DISTINCT src_port) FROM flows"), N,
		  "no record written twice");
}

TEST(max_delay_respected)
{
	/* A lone record is far below any batch size: only max_delay moves
	 * it. Poll for it with a reader, giving generous slack. */
	struct store_opts o = { .max_delay_ms = 300 };
	struct fm_record r = ipv4_rec(7, 17, 1, 2, 1);
	struct store *s;
	sqlite3 *db;
	long long n = 0;

	s = start_store("delay", &o);
	ASSERT_TRUE(s, "open and start");
	db = sql_open(o.path);
	ASSERT_TRUE(db, "reader");
	EXPECT_EQ(store_submit(s, &r, 1), 0, "submit one record");
	for (int waited = 0; waited < 300 + 2000 && n != 1; waited += 10) {
		sleep_ms(10);
		n = q_int(db, "SELECT count(*) FROM flows");
	}
	EXPECT_EQ(n, 1, "the record is visible to another connection by max_delay + 2 s");
	sqlite3_close(db);
	EXPECT_EQ(store_close(s, NULL), 0, "close");
}

TEST(flush_writes_everything_queued)
{
	/* A flush asks for every queued record, not one batch: more records
	 * than the first batch takes must all be written without waiting
	 * for max_delay (a minute here). This is what shutdown relies on. */
	enum { N = 20000 };
	struct store_opts o = { .max_delay_ms = 60000 };
	static struct fm_record r[N];
	struct store_stats st;
	struct store *s;
	int waited;

	for (int i = 0; i < N; i++)
		r[i] = ipv4_rec(7, 17, i & 0xffff, 2, 1);
	s = start_store("flush", &o);
	ASSERT_TRUE(s, "open and start");
	ASSERT_EQ(submit_all(s, r, N), 0, "submit");
	store_flush(s);
	store_get_stats(s, &st);
	for (waited = 0; st.pending && waited < 15000; waited += 5) {
		sleep_ms(5);
		store_get_stats(s, &st);
	}
	fprintf(stderr, "  %d ms, %" PRIu64 " batches\n", waited, st.batches);
	EXPECT_EQ(st.pending, 0, "everything written well before max_delay");
	EXPECT_TRUE(st.batches > 1, "in more than one batch");
	EXPECT_EQ(store_close(s, NULL), 0, "close");
	EXPECT_EQ(db_int(o.path, "SELECT count(*) FROM flows"), N, "all rows");
}

TEST(io_error_keeps_records)
{
	/* RLIMIT_FSIZE makes writes past 256 KiB fail (EFBIG), a stand-in for
	 * a full disk that needs no privileges. */
	enum { N = 20000, CHUNK = 1000 };
	struct store_opts o = { 0 };
	static struct fm_record r[CHUNK];
	struct rlimit old, lim;
	struct store_stats st;
	uint64_t unwritten = 99;
	struct store *s;
	int waited;

	ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &old), 0, "getrlimit");
	if (old.rlim_cur != RLIM_INFINITY && old.rlim_cur < (1 << 20))
		SKIP("RLIMIT_FSIZE already limited");
	signal(SIGXFSZ, SIG_IGN);
	s = start_store("full", &o);
	ASSERT_TRUE(s, "open and start");

	lim = old;
	lim.rlim_cur = 256 << 10;
	ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &lim), 0, "limit file size");
	for (int c = 0; c < N / CHUNK; c++) {
		for (int i = 0; i < CHUNK; i++)
			r[i] = ipv4_rec(7, 6, c * CHUNK + i, 80, 1);
		EXPECT_EQ(submit_all(s, r, CHUNK), 0, "submit");
	}
	for (waited = 0; waited < 10000; waited += 10) {
		store_get_stats(s, &st);
		if (st.db_errors)
			break;
		sleep_ms(10);
	}
	setrlimit(RLIMIT_FSIZE, &old);
	EXPECT_TRUE(st.db_errors > 0, "the write failed");
	EXPECT_TRUE(st.pending > 0, "failed records stay queued");
	EXPECT_EQ(store_close(s, &unwritten), 0, "close after the limit is lifted");
	EXPECT_EQ(unwritten, 0, "nothing unwritten");
	EXPECT_EQ(db_int(o.path, "SELECT count(*) FROM flows"), N, "every record written");
	EXPECT_EQ(db_int(o.path, "SELECT count(DISTINCT src_port) FROM flows"), N,
		  "no record written twice");
	EXPECT_EQ(db_text(o.path, "PRAGMA integrity_check")[0], 'o', "integrity_check ok");
	signal(SIGXFSZ, SIG_DFL);
}

TEST(close_gives_up_and_reports)
{
	/* A failure that retrying cannot fix (the table was dropped behind
	 * the store's back): close tries a few times, then reports what it
	 * could not write instead of hanging. */
	struct store_opts o = { .path = db_path("dropped") };
	struct fm_record r = ipv4_rec(7, 17, 1, 2, 1);
	uint64_t unwritten = 0;
	struct store *s = NULL;
	sqlite3 *db;

	ASSERT_EQ(store_open(&s, &o), 0, "open");
	db = sql_open(o.path);
	ASSERT_TRUE(db, "second connection");
	EXPECT_EQ(sqlite3_exec(db, "DROP TABLE flows", NULL, NULL, NULL), SQLITE_OK, "drop flows");
	sqlite3_close(db);
	EXPECT_EQ(store_submit(s, &r, 1), 0, "submit");
	EXPECT_TRUE(store_close(s, &unwritten) < 0, "close reports the failure");
	EXPECT_EQ(unwritten, 1, "one record unwritten");
}

struct producer {
	struct store *s;
	int base, n;
};

static void *produce(void *arg)
{
	struct producer *p = arg;
	struct fm_record r[50];

	for (int c = 0; c < p->n; c += 50) {
		for (int i = 0; i < 50; i++)
			r[i] = ipv4_rec(7, 6, (p->base + c + i) & 0xffff, p->base ? 1 : 2, 2);
		if (submit_all(p->s, r, 50))
			return (void *)1;
	}
	return NULL;
}

TEST(concurrent_producers)
{
	struct store_opts o = { .queue_records = 2048, .max_delay_ms = 50 };
	struct producer p[2];
	pthread_t t[2];
	void *ret[2] = { 0 };
	struct store_stats st;
	struct store *s;

	s = start_store("threads", &o);
	ASSERT_TRUE(s, "open and start");
	for (int i = 0; i < 2; i++) {
		p[i] = (struct producer){ s, i * 30000, 30000 };
		ASSERT_EQ(pthread_create(&t[i], NULL, produce, &p[i]), 0, "thread");
	}
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], &ret[i]);
	EXPECT_TRUE(!ret[0] && !ret[1], "producers submitted everything");
	EXPECT_EQ(store_interface_detach(s, 7, 42), 0, "detach from another thread");
	store_get_stats(s, &st);
	EXPECT_EQ(st.rows_written + st.pending, 60000, "accounted for");
	EXPECT_EQ(store_close(s, NULL), 0, "close");
	EXPECT_EQ(db_int(o.path, "SELECT count(*) FROM flows"), 60000, "rows");
	EXPECT_EQ(db_int(o.path, "SELECT sum(packets) FROM flows"), 120000, "sum(packets)");
	EXPECT_EQ(db_int(o.path, "SELECT count(*) FROM flows WHERE dst_port = 1"), 30000,
		  "second producer's rows");
	EXPECT_EQ(db_int(o.path, "SELECT detached_ms FROM interfaces"), 42, "detached_ms");
}

TEST(periodic_checkpoint)
{
	struct store_opts o = { .checkpoint_every_ms = 20, .max_delay_ms = 20 };
	struct fm_record r = ipv4_rec(7, 17, 1, 2, 1);
	struct store_stats st = { 0 };
	struct store *s;

	s = start_store("checkpoint", &o);
	ASSERT_TRUE(s, "open and start");
	EXPECT_EQ(store_submit(s, &r, 1), 0, "submit");
	for (int waited = 0; waited < 5000; waited += 10) {
		store_get_stats(s, &st);
		if (st.checkpoints >= 2 && st.rows_written == 1)
			break;
		sleep_ms(10);
	}
	EXPECT_TRUE(st.checkpoints >= 2, "checkpoints run on the interval");
	EXPECT_EQ(st.rows_written, 1, "row written");
	EXPECT_EQ(st.batches, 1, "one transaction");
	EXPECT_EQ(st.db_ops, 1, "one attempt");
	EXPECT_EQ(st.db_errors, 0, "no errors");
	EXPECT_TRUE(st.wal_size_mb > 0, "WAL size measured");
	EXPECT_EQ(store_close(s, NULL), 0, "close");
}

/* ---- devices ---- */

/* Host h of a test network: MAC 02:00:00:01:hh:hh, IP 198.18.hh.hh
 * (198.19.x.x above 65535 is not needed). */
static void host_fill(uint8_t mac[6], uint8_t addr[16], unsigned h)
{
	mac[0] = 0x02;
	mac[1] = mac[2] = 0;
	mac[3] = 0x01;
	mac[4] = h >> 8;
	mac[5] = h;
	memset(addr, 0, 16);
	addr[10] = addr[11] = 0xff;
	addr[12] = 198;
	addr[13] = 18;
	addr[14] = h >> 8;
	addr[15] = h;
}

static struct fm_record host_rec(unsigned src, unsigned dst, uint16_t sport, uint64_t packets,
				 int64_t first_ms)
{
	struct fm_record r = ipv4_rec(7, 17, sport, 53, packets);

	host_fill(r.key.src_mac, r.key.src_addr, src);
	host_fill(r.key.dst_mac, r.key.dst_addr, dst);
	r.bytes = packets * 64 + src;
	r.first_seen_ms = first_ms;
	r.last_seen_ms = first_ms + (sport % 100);
	return r;
}

static void host_ip(char *buf, size_t len, unsigned h)
{
	snprintf(buf, len, "198.18.%u.%u", (h >> 8) & 255, h & 255);
}

/* SQL: flow f's destination is a group (multicast or broadcast) address,
 * which is no device. */
#define GROUP_DST                                                                                  \
	"(substr(f.dst_mac, 2, 1) IN ('1', '3', '5', '7', '9', 'b', 'd', 'f')"                     \
	" OR f.dst_ip LIKE 'ff%' OR f.dst_ip = '255.255.255.255'"                                  \
	" OR (f.eth_type = 2048 AND CAST(f.dst_ip AS INTEGER) BETWEEN 224 AND 239))"

/*
 * Devices agree with the flows that name them. Returns the number of
 * problems found (0 = consistent), each described on stderr:
 * - every attributed flow on a known interface links its source device and
 *   its destination device unless that is a group address (none then), and
 *   the device's mac and ip are the flow's (ip '' for non-IP);
 * - each device's sent/received totals are the sums of its flows, and its
 *   first/last seen the extremes of their times;
 * - no device without a flow.
 */
static long long devices_problems(const char *path)
{
	static const struct {
		const char *what, *sql;
	} checks[] = {
		{ "flows without device ids",
		  "SELECT count(*) FROM flows f JOIN interfaces i ON i.id = f.interface_id"
		  " WHERE f.end_reason != 'overflow'"
		  " AND (f.src_device_id IS NULL OR (f.dst_device_id IS NULL AND NOT " GROUP_DST
		  "))" },
		{ "flows with a device for a multicast or broadcast destination",
		  "SELECT count(*) FROM flows f WHERE f.dst_device_id IS NOT NULL AND " GROUP_DST },
		{ "flows whose source device has another mac, ip or interface",
		  "SELECT count(*) FROM flows f JOIN devices d ON d.id = f.src_device_id"
		  " JOIN interfaces fi ON fi.id = f.interface_id"
		  " JOIN interfaces di ON di.id = d.interface_id"
		  " WHERE d.mac != f.src_mac OR d.ip != ifnull(f.src_ip, '') OR di.name != fi.name" },
		{ "flows whose destination device has another mac, ip or interface",
		  "SELECT count(*) FROM flows f JOIN devices d ON d.id = f.dst_device_id"
		  " JOIN interfaces fi ON fi.id = f.interface_id"
		  " JOIN interfaces di ON di.id = d.interface_id"
		  " WHERE d.mac != f.dst_mac OR d.ip != ifnull(f.dst_ip, '') OR di.name != fi.name" },
		{ "flows linked to a missing device",
		  "SELECT count(*) FROM flows f WHERE"
		  " (f.src_device_id IS NOT NULL AND f.src_device_id NOT IN (SELECT id FROM devices))"
		  " OR (f.dst_device_id IS NOT NULL AND f.dst_device_id NOT IN (SELECT id FROM devices))" },
		{ "devices whose totals or times differ from their flows",
		  "WITH s AS (SELECT src_device_id AS id, sum(packets) AS p, sum(bytes) AS b"
		  "  FROM flows GROUP BY 1),"
		  " r AS (SELECT dst_device_id AS id, sum(packets) AS p, sum(bytes) AS b"
		  "  FROM flows GROUP BY 1),"
		  " t AS (SELECT id, min(f) AS f, max(l) AS l FROM"
		  "  (SELECT src_device_id AS id, first_seen_ms AS f, last_seen_ms AS l FROM flows"
		  "   UNION ALL SELECT dst_device_id, first_seen_ms, last_seen_ms FROM flows)"
		  "  GROUP BY id)"
		  " SELECT count(*) FROM devices d LEFT JOIN s ON s.id = d.id"
		  " LEFT JOIN r ON r.id = d.id LEFT JOIN t ON t.id = d.id"
		  " WHERE d.packets_sent != ifnull(s.p, 0) OR d.bytes_sent != ifnull(s.b, 0)"
		  " OR d.packets_received != ifnull(r.p, 0) OR d.bytes_received != ifnull(r.b, 0)"
		  " OR d.first_seen_ms IS NOT t.f OR d.last_seen_ms IS NOT t.l" },
	};
	sqlite3 *db = sql_open(path);
	long long bad = 0, n;

	if (!db)
		return 1;
	for (size_t i = 0; i < sizeof(checks) / sizeof(checks[0]); i++) {
		n = q_int(db, checks[i].sql);
		if (n) {
			fprintf(stderr, "  %s: %lld\n", checks[i].what, n);
			bad += n == QERR ? 1 : n;
		}
	}
	sqlite3_close(db);
	return bad;
}

/* Wait (up to 10 s) until the writer has nothing queued. */
static void wait_idle(struct store *s, struct store_stats *st)
{
	for (int waited = 0; waited < 10000; waited += 5) {
		store_get_stats(s, st);
		if (!st->pending && !st->pending_metrics)
			return;
		sleep_ms(5);
	}
}

TEST(devices_exact_totals)
{
	struct store_opts o = { .max_delay_ms = 20 };
	struct fm_record r[5];
	struct store_stats st;
	struct store *s;

	/* Host 1 talks to 2 twice and to 3 once; 2 answers 1; 4 talks to
	 * itself (the same device sends and receives). */
	r[0] = host_rec(1, 2, 1000, 10, 5000); /* last 5000 */
	r[1] = host_rec(1, 2, 1042, 5, 4000);  /* last 4042 */
	r[2] = host_rec(1, 3, 1099, 1, 6000);  /* last 6099 */
	r[3] = host_rec(2, 1, 1007, 7, 4500);  /* last 4507 */
	r[4] = host_rec(4, 4, 1001, 2, 100);   /* last 101 */

	s = start_store("devices", &o);
	ASSERT_TRUE(s, "open and start");
	EXPECT_EQ(store_submit(s, r, 3), 0, "submit three");
	wait_idle(s, &st);
	EXPECT_EQ(store_submit(s, r + 3, 2), 0, "submit two more, a second transaction");
	wait_idle(s, &st);
	EXPECT_EQ(st.batches, 2, "two transactions");
	EXPECT_EQ(st.cache_misses, 4, "one miss per device");
	EXPECT_EQ(st.cache_hits, 6, "the other lookups hit");
	EXPECT_EQ(st.cache_size, 4, "four devices cached");
	EXPECT_EQ(st.cache_capacity, 65536, "default capacity");
	EXPECT_EQ(st.devices_written, 3 + 3, "one totals update per device per transaction");
	EXPECT_EQ(store_close(s, NULL), 0, "close");

	EXPECT_EQ(db_int(o.path, "SELECT count(*) FROM devices"), 4, "four devices");
	EXPECT_STREQ(
		db_text(o.path,
			"SELECT group_concat(x, '; ') FROM (SELECT interface_id"
			" || ' ' || mac || ' ' || ip || ' ' || packets_sent || '/' || bytes_sent"
			" || ' ' || packets_received || '/' || bytes_received"
			" || ' ' || first_seen_ms || '-' || last_seen_ms AS x"
			" FROM devices ORDER BY ip)"),
		"1 02:00:00:01:00:01 198.18.0.1 16/1027 7/450 4000-6099; "
		"1 02:00:00:01:00:02 198.18.0.2 7/450 15/962 4000-5000; "
		"1 02:00:00:01:00:03 198.18.0.3 0/0 1/65 6000-6099; "
		"1 02:00:00:01:00:04 198.18.0.4 2/132 2/132 100-101",
		"devices rows");
	EXPECT_EQ(db_int(o.path,
			 "SELECT count(*) FROM flows f JOIN devices s ON s.id = f.src_device_id"
			 " JOIN devices d ON d.id = f.dst_device_id"
			 " WHERE s.ip = f.src_ip AND d.ip = f.dst_ip"),
		  5, "every flow links its source and destination devices");
	EXPECT_EQ(devices_problems(o.path), 0, "devices consistent with flows");
	EXPECT_STREQ(db_text(o.path,
			     "SELECT interface || ' ' || mac || ' ' || ip || ' ' || first_seen"
			     " || ' ' || last_seen || ' ' || packets_sent || ' ' || bytes_sent"
			     " || ' ' || packets_received || ' ' || bytes_received"
			     " FROM device_summary LIMIT 1"),
		     "if0 02:00:00:01:00:01 198.18.0.1 1970-01-01T00:00:04.000Z"
		     " 1970-01-01T00:00:06.099Z 16 1027 7 450",
		     "device_summary: busiest device first, readable times");
}

TEST(devices_ipv6_non_ip_and_unknown_interface)
{
	struct store_opts o = { 0 };
	struct fm_record r[6];
	struct store *s;

	/* IPv6 */
	r[0] = ipv4_rec(7, 6, 1, 2, 3);
	r[0].key.eth_type = 0x86dd;
	inet_pton(AF_INET6, "2001:2::1", r[0].key.src_addr);
	inet_pton(AF_INET6, "2001:2::2", r[0].key.dst_addr);
	/* IPv6 with the IPv4-mapped form of 198.18.0.1: not the IPv4 host */
	r[1] = r[0];
	memcpy(r[1].key.src_addr, ipv4_rec(7, 6, 1, 2, 1).key.src_addr, 16);
	/* ARP twice, a row with ip '' for the sender; broadcast is no device */
	r[2] = ipv4_rec(7, 0, 0, 0, 2);
	r[2].key.eth_type = 0x0806;
	memset(r[2].key.src_addr, 0, 16);
	memset(r[2].key.dst_addr, 0, 16);
	memset(r[2].key.dst_mac, 0xff, 6);
	r[3] = r[2];
	/* IPv4, same MACs as the ARP: other devices */
	r[4] = ipv4_rec(7, 17, 5, 6, 1);
	/* an interface the store does not know: no devices */
	r[5] = ipv4_rec(99, 17, 5, 6, 1);

	s = start_store("devices-kinds", &o);
	ASSERT_TRUE(s, "open and start");
	EXPECT_EQ(store_submit(s, r, 6), 0, "submit");
	EXPECT_EQ(store_close(s, NULL), 0, "close");

	EXPECT_STREQ(db_text(o.path, "SELECT group_concat(mac || ' [' || ip || '] ' || packets_sent"
				     " || ' ' || packets_received, ', ') FROM"
				     " (SELECT * FROM devices ORDER BY id)"),
		     "02:00:00:00:00:01 [2001:2::1] 3 0, 02:00:00:00:00:fe [2001:2::2] 0 6, "
		     "02:00:00:00:00:01 [::ffff:198.18.0.1] 3 0, "
		     "02:00:00:00:00:01 [] 4 0, "
		     "02:00:00:00:00:01 [198.18.0.1] 1 0, 02:00:00:00:00:fe [198.18.0.2] 0 1",
		     "devices: IPv6, IPv4-mapped IPv6, non-IP with ip '', IPv4");
	EXPECT_EQ(db_int(o.path, "SELECT count(*) FROM devices WHERE ip IS NULL"), 0, "no NULL ip");
	EXPECT_EQ(db_int(o.path, "SELECT count(*) FROM flows WHERE id = 6 AND interface_id IS NULL"
				 " AND src_device_id IS NULL AND dst_device_id IS NULL"),
		  1, "a flow of an unknown interface has no devices");
	EXPECT_EQ(db_int(o.path,
			 "SELECT count(DISTINCT src_device_id) FROM flows WHERE eth_type = 0x0806"),
		  1, "both ARP flows link the same source device");
	EXPECT_EQ(db_int(o.path, "SELECT count(*) FROM flows WHERE eth_type = 0x0806"
				 " AND dst_device_id IS NULL"),
		  2, "ARP broadcast: no destination device");
	EXPECT_EQ(devices_problems(o.path), 0, "devices consistent with flows");
}

TEST(devices_reused_across_reopen)
{
	struct store_opts o = { 0 };
	struct fm_record r[4];
	struct store *s;

	r[0] = host_rec(1, 2, 1, 10, 1000);
	r[1] = host_rec(2, 1, 2, 20, 1000);
	r[2] = r[0];
	r[2].key.eth_type = 0x0806; /* non-IP: ip '' must match itself too */
	memset(r[2].key.src_addr, 0, 16);
	memset(r[2].key.dst_addr, 0, 16);
	r[3] = ipv4_rec(8, 17, 3, 4, 1); /* another interface */

	s = start_store("devices-reopen", &o);
	ASSERT_TRUE(s, "first run");
	EXPECT_EQ(store_submit(s, r, 3), 0, "submit");
	EXPECT_EQ(store_close(s, NULL), 0, "close");
	EXPECT_EQ(db_int(o.path, "SELECT count(*) FROM devices"), 4, "four devices after run 1");

	/* A second run: interfaces get new rows (ifindex 7 now "if0" again,
	 * and "if1" as ifindex 8), a second store opens the same file. */
	ASSERT_EQ(store_open(&s, &o), 0, "reopen");
	EXPECT_EQ(store_interface_attach(s, "if1", 8, NULL, "native", 3000), 0, "attach if1");
	EXPECT_EQ(store_interface_attach(s, "if0", 7, NULL, "native", 3000), 0, "attach if0 again");
	EXPECT_EQ(store_start(s), 0, "start");
	EXPECT_EQ(store_submit(s, r, 4), 0, "submit the same records and one on if1");
	EXPECT_EQ(store_close(s, NULL), 0, "close");

	EXPECT_EQ(db_int(o.path, "SELECT count(*) FROM interfaces"), 3, "three interfaces rows");
	EXPECT_EQ(db_int(o.path, "SELECT count(*) FROM devices"), 6,
		  "if0's four devices reused, if1's two new");
	EXPECT_EQ(db_int(o.path, "SELECT count(*) FROM devices WHERE interface_id = 1"), 4,
		  "if0's devices point at its first interfaces row");
	EXPECT_EQ(db_int(o.path, "SELECT count(*) FROM devices WHERE interface_id = 2"), 2,
		  "if1's devices point at its own row");
	EXPECT_EQ(db_int(o.path, "SELECT packets_sent FROM devices WHERE ip = '198.18.0.1'"
				 " AND mac = '02:00:00:01:00:01'"),
		  20, "totals add up across runs");
	EXPECT_EQ(
		db_int(o.path,
		       "SELECT packets_sent FROM devices WHERE ip = '' AND mac = '02:00:00:01:00:01'"),
		20, "the non-IP device is reused");
	EXPECT_EQ(db_int(o.path, "SELECT count(DISTINCT src_device_id) FROM flows"
				 " WHERE src_ip = '198.18.0.1' AND src_mac = '02:00:00:01:00:01'"),
		  1, "both runs' flows link the same device");
	EXPECT_EQ(devices_problems(o.path), 0, "devices consistent with flows");
}

TEST(devices_view_added_to_old_v1)
{
	/* A version 1 database written before device_summary existed. */
	struct store_opts o = { .path = db_path("old-v1") };
	struct store *s = NULL;
	sqlite3 *db;

	ASSERT_EQ(store_open(&s, &o), 0, "create");
	EXPECT_EQ(store_close(s, NULL), 0, "close");
	db = sql_open(o.path);
	ASSERT_TRUE(db, "open");
	EXPECT_EQ(sqlite3_exec(db, "DROP VIEW device_summary", NULL, NULL, NULL), SQLITE_OK,
		  "drop the view");
	sqlite3_close(db);
	ASSERT_EQ(store_open(&s, &o), 0, "reopen");
	EXPECT_EQ(store_close(s, NULL), 0, "close");
	EXPECT_EQ(
		db_int(o.path, "SELECT count(*) FROM sqlite_master WHERE name = 'device_summary'"),
		1, "view created again");
	EXPECT_EQ(db_int(o.path, "PRAGMA user_version"), 2, "still version 2");
}

/* Records between nhosts hosts, pseudo-random but reproducible; the
 * expected per-host totals go to sent[] and recv[]. */
static void random_host_recs(struct fm_record *r, int n, int base, unsigned nhosts, uint64_t *seed,
			     uint64_t *sent, uint64_t *recv)
{
	for (int i = 0; i < n; i++) {
		uint64_t x;
		unsigned a, b;

		*seed ^= *seed << 13;
		*seed ^= *seed >> 7;
		*seed ^= *seed << 17;
		x = *seed;
		a = x % nhosts;
		b = (x >> 20) % nhosts;
		r[i] = host_rec(a, b, (base + i) & 0xffff, (x >> 40) % 9 + 1,
				1700000000000 + base + i);
		sent[a] += r[i].packets;
		recv[b] += r[i].packets;
	}
}

/* How many hosts' totals in the database differ from sent[]/recv[]. */
static int hosts_wrong(const char *path, unsigned nhosts, const uint64_t *sent,
		       const uint64_t *recv)
{
	sqlite3 *db = sql_open(path);
	char sql[192], ip[32];
	int wrong = 0;

	if (!db)
		return -1;
	for (unsigned h = 0; h < nhosts; h++) {
		long long ps, pr;

		host_ip(ip, sizeof(ip), h);
		snprintf(sql, sizeof(sql), "SELECT packets_sent FROM devices WHERE ip = '%s'", ip);
		ps = q_int(db, sql);
		snprintf(sql, sizeof(sql), "SELECT packets_received FROM devices WHERE ip = '%s'",
			 ip);
		pr = q_int(db, sql);
		if (ps == QERR) /* never seen: no row */
			ps = 0, pr = 0;
		if ((uint64_t)ps != sent[h] || (uint64_t)pr != recv[h]) {
			if (wrong < 5)
				fprintf(stderr,
					"  host %s: sent %lld received %lld, expected %" PRIu64
					" and %" PRIu64 "\n",
					ip, ps, pr, sent[h], recv[h]);
			wrong++;
		}
	}
	sqlite3_close(db);
	return wrong;
}

TEST(devices_tiny_cache_loses_nothing)
{
	enum { N = 5000, CHUNK = 250, HOSTS = 100 };
	struct store_opts o = { .cache_size = 4, .max_delay_ms = 20 };
	static struct fm_record r[CHUNK];
	static uint64_t sent[HOSTS], recv[HOSTS];
	uint64_t seed = 42, total = 0;
	struct store_stats st;
	struct store *s;

	s = start_store("devices-tiny", &o);
	ASSERT_TRUE(s, "open and start");
	for (int c = 0; c < N / CHUNK; c++) {
		random_host_recs(r, CHUNK, c * CHUNK, HOSTS, &seed, sent, recv);
		ASSERT_EQ(submit_all(s, r, CHUNK), 0, "submit");
	}
	wait_idle(s, &st);
	EXPECT_EQ(st.cache_capacity, 4, "capacity 4");
	EXPECT_EQ(st.cache_size, 4, "full");
	EXPECT_TRUE(st.cache_evictions > N, "evictions galore");
	EXPECT_EQ(st.cache_hits + st.cache_misses, 2 * N, "two lookups per record");
	EXPECT_EQ(store_close(s, NULL), 0, "close");

	for (int h = 0; h < HOSTS; h++)
		total += sent[h];
	EXPECT_EQ(db_int(o.path, "SELECT count(*) FROM devices"), HOSTS, "one row per host");
	EXPECT_EQ(db_int(o.path, "SELECT sum(packets_sent) FROM devices"), total,
		  "sum(packets_sent)");
	EXPECT_EQ(db_int(o.path, "SELECT sum(packets_received) FROM devices"), total,
		  "sum(packets_received)");
	EXPECT_EQ(db_int(o.path, "SELECT sum(packets) FROM flows WHERE src_ip IS NOT NULL"), total,
		  "sum(flows.packets)");
	EXPECT_EQ(hosts_wrong(o.path, HOSTS, sent, recv), 0, "every host's totals exact");
	EXPECT_EQ(devices_problems(o.path), 0, "devices consistent with flows");
}

/* Wait (at most 10 s) for the store's first failed transaction, then
 * lift the file size limit, so the retry can succeed. */
static void lift_at_first_failure(struct store *s, const struct rlimit *old, struct store_stats *st)
{
	for (int waited = 0; waited < 10000; waited += 2) {
		store_get_stats(s, st);
		if (st->db_errors)
			break;
		sleep_ms(2);
	}
	setrlimit(RLIMIT_FSIZE, old);
	EXPECT_TRUE(st->db_errors > 0, "a transaction failed");
}

/* Every one of n records written once, and every host's totals exact. */
static void expect_hosts_exact(const char *path, int n, unsigned nhosts, const uint64_t *sent,
			       const uint64_t *recv)
{
	uint64_t total = 0;

	for (unsigned h = 0; h < nhosts; h++)
		total += sent[h];
	EXPECT_EQ(db_int(path, "SELECT count(*) FROM flows"), n, "every record written");
	EXPECT_EQ(db_int(path, "SELECT count(DISTINCT src_port) FROM flows"), n,
		  "no record written twice");
	EXPECT_EQ(db_int(path, "SELECT sum(packets_sent) FROM devices"), total,
		  "sum(packets_sent): nothing lost, nothing twice");
	EXPECT_EQ(db_int(path, "SELECT sum(packets_received) FROM devices"), total,
		  "sum(packets_received)");
	EXPECT_EQ(hosts_wrong(path, nhosts, sent, recv), 0, "every host's totals exact");
	EXPECT_EQ(devices_problems(path), 0, "devices consistent with flows");
}

TEST(devices_io_error_no_loss_no_double_count)
{
	/* As io_error_keeps_records: writes past 256 KiB fail while records
	 * keep coming, each chunk with hosts not seen before. The failed
	 * transactions had created devices rows and cached their ids, and
	 * added traffic, all rolled back; the retries must count each
	 * record's traffic exactly once, on the right device. A small cache
	 * puts evictions (write-backs inside failing transactions) in it. */
	enum { N = 20000, CHUNK = 1000, HOSTS = 300 };
	struct store_opts o = { .cache_size = 64, .max_delay_ms = 50 };
	static struct fm_record r[CHUNK];
	static uint64_t sent[HOSTS], recv[HOSTS];
	uint64_t seed = 7;
	struct rlimit old, lim;
	struct store_stats st;
	uint64_t unwritten = 99;
	struct store *s;

	ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &old), 0, "getrlimit");
	if (old.rlim_cur != RLIM_INFINITY && old.rlim_cur < (1 << 20))
		SKIP("RLIMIT_FSIZE already limited");
	signal(SIGXFSZ, SIG_IGN);
	s = start_store("devices-full", &o);
	ASSERT_TRUE(s, "open and start");

	lim = old;
	lim.rlim_cur = 256 << 10;
	ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &lim), 0, "limit file size");
	for (int c = 0; c < N / CHUNK; c++) {
		random_host_recs(r, CHUNK, c * CHUNK, (c + 1) * HOSTS / (N / CHUNK), &seed, sent,
				 recv);
		EXPECT_EQ(submit_all(s, r, CHUNK), 0, "submit");
	}
	/* Lift the limit at the first failure, so that the retry (100 ms
	 * later) succeeds with whatever the cache kept from the failure; a
	 * second failure would let the store notice stale ids and start the
	 * cache afresh, hiding a cache that was not rolled back. */
	lift_at_first_failure(s, &old, &st);
	EXPECT_EQ(store_close(s, &unwritten), 0, "close after the limit is lifted");
	EXPECT_EQ(unwritten, 0, "nothing unwritten");
	signal(SIGXFSZ, SIG_DFL);

	EXPECT_EQ(db_int(o.path, "SELECT count(*) FROM devices"), HOSTS, "one row per host");
	expect_hosts_exact(o.path, N, HOSTS, sent, recv);
	EXPECT_EQ(db_text(o.path, "PRAGMA integrity_check")[0], 'o', "integrity_check ok");
}

TEST(devices_deferred_writeback_exact)
{
	/* A writer behind its queue writes device totals only now and then
	 * (every batch that empties the queue, the last one, or when they
	 * are max_delay/2 old), not in every transaction. Everything is
	 * queued before the writer starts, so every batch but the last
	 * leaves records behind; writes past 2 MiB fail once, after some
	 * batches committed their flows with their device traffic held back.
	 * The retry must neither lose that held traffic nor count it twice. */
	enum { N = 60000, CHUNK = 1000, HOSTS = 300 };
	/* No deadline write-back in the test's time, however slow the
	 * machine (valgrind): only the batch that empties the queue. */
	struct store_opts o = { .max_delay_ms = 600000 };
	static struct fm_record r[CHUNK];
	static uint64_t sent[HOSTS], recv[HOSTS];
	uint64_t seed = 11, unwritten = 99;
	struct rlimit old, lim;
	struct store_stats st;
	struct store *s = NULL;

	ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &old), 0, "getrlimit");
	if (old.rlim_cur != RLIM_INFINITY && old.rlim_cur < (4 << 20))
		SKIP("RLIMIT_FSIZE already limited");
	o.path = db_path("devices-deferred");
	ASSERT_EQ(store_open(&s, &o), 0, "open");
	ASSERT_EQ(store_interface_attach(s, "if0", 7, "02:00:00:00:00:aa", "native", 1000), 0,
		  "attach");
	for (int c = 0; c < N / CHUNK; c++) {
		random_host_recs(r, CHUNK, c * CHUNK, HOSTS, &seed, sent, recv);
		ASSERT_EQ(store_submit(s, r, CHUNK), 0, "queue before the writer starts");
	}
	signal(SIGXFSZ, SIG_IGN);
	lim = old;
	lim.rlim_cur = 2 << 20;
	ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &lim), 0, "limit file size");
	ASSERT_EQ(store_start(s), 0, "start");
	lift_at_first_failure(s, &old, &st);
	EXPECT_TRUE(st.batches > 0, "after some had committed");
	store_flush(s); /* the last, partial batch: not after max_delay */
	for (int waited = 0; st.pending && waited < 60000; waited += 2) {
		sleep_ms(2);
		store_get_stats(s, &st);
	}
	/* Updating every device in every transaction would be ~HOSTS per
	 * transaction; deferred, it is about HOSTS per write-back. */
	fprintf(stderr, "  %" PRIu64 " transactions, %" PRIu64 " device updates\n", st.batches,
		st.devices_written);
	EXPECT_TRUE(st.batches >= 5, "several transactions");
	EXPECT_EQ(st.pending, 0, "everything written");
	EXPECT_TRUE(st.devices_written <= 2 * HOSTS, "device write-back deferred");
	EXPECT_EQ(store_close(s, &unwritten), 0, "close after the limit is lifted");
	EXPECT_EQ(unwritten, 0, "nothing unwritten");
	signal(SIGXFSZ, SIG_DFL);
	expect_hosts_exact(o.path, N, HOSTS, sent, recv);
}

TEST(devices_hit_ratio_steady)
{
	/* 1,000 devices, 100,000 records: each device misses once. */
	enum { N = 100000, CHUNK = 2000, HOSTS = 1000 };
	struct store_opts o = { .max_delay_ms = 50 };
	static struct fm_record r[CHUNK];
	static uint64_t sent[HOSTS], recv[HOSTS];
	uint64_t seed = 99;
	struct store_stats st;
	struct store *s;
	double ratio;

	s = start_store("devices-steady", &o);
	ASSERT_TRUE(s, "open and start");
	for (int c = 0; c < N / CHUNK; c++) {
		random_host_recs(r, CHUNK, c * CHUNK, HOSTS, &seed, sent, recv);
		ASSERT_EQ(submit_all(s, r, CHUNK), 0, "submit");
	}
	wait_idle(s, &st);
	ratio = (double)st.cache_hits / (st.cache_hits + st.cache_misses);
	EXPECT_EQ(st.cache_misses, HOSTS, "one miss per device");
	EXPECT_TRUE(ratio > 0.99, "hit ratio above 0.99");
	EXPECT_EQ(st.cache_size, HOSTS, "every device cached");
	EXPECT_EQ(st.cache_evictions, 0, "no evictions");
	EXPECT_TRUE(st.devices_written >= HOSTS && st.devices_written <= st.batches * HOSTS,
		    "at most one totals update per device per transaction");
	EXPECT_EQ(store_close(s, NULL), 0, "close");
	EXPECT_EQ(hosts_wrong(o.path, HOSTS, sent, recv), 0, "every host's totals exact");
}

TEST(devices_cache_resize)
{
	enum { CHUNK = 1000, HOSTS = 1500 };
	struct store_opts o = { .cache_size = 2048, .max_delay_ms = 20 };
	static struct fm_record r[CHUNK];
	static uint64_t sent[HOSTS], recv[HOSTS];
	uint64_t seed = 5;
	struct store_stats st;
	struct store *s;

	s = start_store("devices-resize", &o);
	ASSERT_TRUE(s, "open and start");
	for (int c = 0; c < 6; c++) {
		random_host_recs(r, CHUNK, c * CHUNK, HOSTS, &seed, sent, recv);
		ASSERT_EQ(submit_all(s, r, CHUNK), 0, "submit");
	}
	wait_idle(s, &st);
	EXPECT_TRUE(st.cache_size > 1024, "more than 1024 devices cached");
	EXPECT_EQ(store_set_cache_capacity(s, 0), -EINVAL, "0 refused");
	EXPECT_EQ(store_set_cache_capacity(s, (size_t)1 << 40), -EINVAL, "too large refused");

	/* Halve twice: the second is clamped to the floor. */
	EXPECT_EQ(store_set_cache_capacity(s, 1024), 0, "halve");
	EXPECT_EQ(store_set_cache_capacity(s, 512), 0, "halve again");
	for (int waited = 0; waited < 5000 && st.cache_capacity != 1024; waited += 5) {
		sleep_ms(5);
		store_get_stats(s, &st);
	}
	EXPECT_EQ(st.cache_capacity, 1024, "shrunk to the floor, STORE_CACHE_FLOOR");
	EXPECT_EQ(st.cache_size, 1024, "LRU entries evicted");
	EXPECT_TRUE(st.cache_evictions > 0, "evictions counted");

	for (int c = 6; c < 12; c++) {
		random_host_recs(r, CHUNK, c * CHUNK, HOSTS, &seed, sent, recv);
		ASSERT_EQ(submit_all(s, r, CHUNK), 0, "submit after the shrink");
	}
	EXPECT_EQ(store_set_cache_capacity(s, 4096), 0, "grow back");
	for (int c = 12; c < 24; c++) {
		random_host_recs(r, CHUNK, c * CHUNK, HOSTS, &seed, sent, recv);
		ASSERT_EQ(submit_all(s, r, CHUNK), 0, "submit after the growth");
	}
	wait_idle(s, &st);
	EXPECT_EQ(st.cache_capacity, 4096, "grown");
	EXPECT_EQ(st.cache_size, HOSTS, "every device cached again");
	EXPECT_EQ(store_close(s, NULL), 0, "close");
	EXPECT_EQ(hosts_wrong(o.path, HOSTS, sent, recv), 0, "every host's totals exact");
	EXPECT_EQ(devices_problems(o.path), 0, "devices consistent with flows");

	/* A cache configured below the floor may be set that small. */
	o.cache_size = 16;
	s = start_store("devices-resize-small", &o);
	ASSERT_TRUE(s, "open and start");
	EXPECT_EQ(store_set_cache_capacity(s, 32), 0, "grow a 16-entry cache");
	for (int waited = 0; waited < 5000 && st.cache_capacity != 32; waited += 5) {
		sleep_ms(5);
		store_get_stats(s, &st);
	}
	EXPECT_EQ(st.cache_capacity, 32, "grown to 32");
	EXPECT_EQ(store_set_cache_capacity(s, 4), 0, "shrink it to 4");
	for (int waited = 0; waited < 5000 && st.cache_capacity == 32; waited += 5) {
		sleep_ms(5);
		store_get_stats(s, &st);
	}
	EXPECT_EQ(st.cache_capacity, 16, "clamped to the configured size");
	EXPECT_EQ(store_close(s, NULL), 0, "close");
}

TEST(devices_row_deleted_behind_our_back)
{
	/* An operator deletes devices rows while the daemon runs: the traffic
	 * of that batch is lost (and warned about), but the devices come back
	 * for the next records. */
	struct store_opts o = { .max_delay_ms = 20 };
	struct fm_record a = host_rec(1, 2, 1, 1, 1000), b = host_rec(1, 2, 2, 2, 2000),
			 c = host_rec(1, 2, 3, 4, 3000);
	struct store_stats st;
	struct store *s;

	s = start_store("devices-deleted", &o);
	ASSERT_TRUE(s, "open and start");
	EXPECT_EQ(store_submit(s, &a, 1), 0, "submit a");
	wait_idle(s, &st);
	EXPECT_EQ(db_int(o.path, "SELECT count(*) FROM devices"), 2, "two devices");
	{
		sqlite3 *db = sql_open(o.path);

		ASSERT_TRUE(db, "second connection");
		EXPECT_EQ(sqlite3_exec(db, "DELETE FROM devices", NULL, NULL, NULL), SQLITE_OK,
			  "delete the devices");
		sqlite3_close(db);
	}
	EXPECT_EQ(store_submit(s, &b, 1), 0, "submit b (its devices' rows are gone)");
	wait_idle(s, &st);
	EXPECT_EQ(store_submit(s, &c, 1), 0, "submit c");
	EXPECT_EQ(store_close(s, NULL), 0, "close");
	EXPECT_EQ(db_int(o.path, "SELECT count(*) FROM devices"), 2, "both devices back");
	EXPECT_EQ(db_int(o.path, "SELECT packets_sent FROM devices WHERE ip = '198.18.0.1'"), 4,
		  "c's traffic counted");
	EXPECT_EQ(db_int(o.path,
			 "SELECT count(*) FROM flows f JOIN devices d ON d.id = f.src_device_id"
			 " WHERE f.src_port = 3"),
		  1, "c's flow links an existing device");
}

/* Open and close a store at path in a child process; its exit status is
 * 0 when store_open succeeded, else 1. */
static pid_t open_in_child(const char *path)
{
	pid_t pid = fork();

	if (!pid) {
		struct store_opts o = { .path = path };
		struct store *s = NULL;
		int err = store_open(&s, &o);

		if (!err)
			err = store_close(s, NULL);
		_exit(err ? 1 : 0);
	}
	return pid;
}

TEST(concurrent_first_open)
{
	/* Daemons started at the same moment on one new database: each must
	 * wait for the other (journal mode switch, schema creation), none
	 * may fail with "database is locked". Processes, as in real life:
	 * each has its own locks. */
	enum { ROUNDS = 50 };
	int failures = 0, opened = 0;
	char name[32];

	for (int r = 0; r < ROUNDS; r++) {
		int n = 2 + r % 3;
		pid_t pids[4];
		const char *path;

		snprintf(name, sizeof(name), "concurrent-%d", r);
		path = db_path(name);
		for (int i = 0; i < n; i++)
			pids[i] = open_in_child(path);
		for (int i = 0; i < n; i++) {
			int status = 0;

			if (pids[i] < 0 || waitpid(pids[i], &status, 0) != pids[i] ||
			    !WIFEXITED(status) || WEXITSTATUS(status)) {
				failures++;
				continue;
			}
			opened++;
		}
		if (db_int(path, "PRAGMA user_version") != 2 ||
		    db_int(path, "SELECT count(*) FROM runs") != n) {
			fprintf(stderr, "  round %d: version %lld, %lld runs rows of %d\n", r,
				db_int(path, "PRAGMA user_version"),
				db_int(path, "SELECT count(*) FROM runs"), n);
			failures++;
		}
	}
	fprintf(stderr, "  %d opens succeeded, %d failures\n", opened, failures);
	EXPECT_EQ(failures, 0, "every concurrent first open succeeds");
}

/* stderr into a temporary file until stderr_end, which returns what was
 * written there (a static buffer), so a test can check a message. */
static int stderr_saved = -1;
static FILE *stderr_file;

static void stderr_begin(void)
{
	fflush(stderr);
	stderr_file = tmpfile();
	stderr_saved = dup(2);
	if (stderr_file)
		dup2(fileno(stderr_file), 2);
}

static const char *stderr_end(void)
{
	static char buf[4096];
	size_t n = 0;

	fflush(stderr);
	dup2(stderr_saved, 2);
	close(stderr_saved);
	buf[0] = '\0';
	if (stderr_file) {
		rewind(stderr_file);
		n = fread(buf, 1, sizeof(buf) - 1, stderr_file);
		buf[n] = '\0';
		fclose(stderr_file);
	}
	fputs(buf, stderr); /* still shown, for the test log */
	return buf;
}

TEST(refuses_another_applications_database)
{
	/* --db naming another application's SQLite file: refused, with what
	 * it holds, and nothing added to it. */
	struct store_opts o = { .path = db_path("foreign") };
	struct store *s = NULL;
	const char *msg;
	sqlite3 *db = NULL;
	char want[256];
	int fd;

	ASSERT_EQ(sqlite3_open(o.path, &db), SQLITE_OK, "create a database");
	ASSERT_EQ(sqlite3_exec(db,
			       "CREATE TABLE notes(x); CREATE TABLE contacts(y);"
			       " CREATE INDEX notes_x ON notes(x); INSERT INTO notes VALUES(1)",
			       NULL, NULL, NULL),
		  SQLITE_OK, "another application's tables");
	sqlite3_close(db);
	stderr_begin();
	EXPECT_EQ(store_open(&s, &o), -EINVAL, "store_open on another application's database");
	msg = stderr_end();
	EXPECT_TRUE(s == NULL, "no store returned");
	snprintf(
		want, sizeof(want),
		"store: %s holds tables contacts, notes: another application's database; give --db a new file",
		o.path);
	EXPECT_TRUE(strstr(msg, want) != NULL, "the message names the file and its tables");
	EXPECT_EQ(db_int(o.path, "SELECT count(*) FROM sqlite_master"), 3, "nothing added");
	EXPECT_EQ(db_int(o.path, "PRAGMA user_version"), 0, "user_version untouched");
	EXPECT_STREQ(db_text(o.path, "PRAGMA journal_mode"), "delete", "journal mode untouched");

	/* An empty file, and a database with nothing in it, are fine. */
	o.path = db_path("empty-file");
	fd = open(o.path, O_CREAT | O_WRONLY, 0600);
	ASSERT_TRUE(fd >= 0, "an empty file");
	close(fd);
	EXPECT_EQ(store_open(&s, &o), 0, "store_open on an empty file");
	EXPECT_EQ(store_close(s, NULL), 0, "close");
	EXPECT_EQ(db_int(o.path, "PRAGMA user_version"), 2, "schema created in the empty file");
	o.path = db_path("empty-db");
	ASSERT_EQ(sqlite3_open(o.path, &db), SQLITE_OK, "create a database");
	ASSERT_EQ(sqlite3_exec(db, "PRAGMA journal_mode = WAL; CREATE TABLE t(x); DROP TABLE t",
			       NULL, NULL, NULL),
		  SQLITE_OK, "a database with nothing in it");
	sqlite3_close(db);
	EXPECT_EQ(store_open(&s, &o), 0, "store_open on an empty database");
	EXPECT_EQ(store_close(s, NULL), 0, "close");
	EXPECT_EQ(db_int(o.path, "PRAGMA user_version"), 2, "schema created in the empty database");
}

TEST(failed_create_leaves_no_file)
{
	/* A start on a full disk (here: no byte may be written) fails and
	 * removes the file it created; an existing file is never removed. */
	struct store_opts o = { .path = db_path("no-space") };
	struct rlimit old, lim;
	struct store *s = NULL;
	int err;

	ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &old), 0, "getrlimit");
	signal(SIGXFSZ, SIG_IGN);
	lim = old;
	lim.rlim_cur = 0;
	ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &lim), 0, "no file may grow");
	err = store_open(&s, &o);
	setrlimit(RLIMIT_FSIZE, &old);
	signal(SIGXFSZ, SIG_DFL);
	EXPECT_TRUE(err < 0, "store_open fails");
	EXPECT_TRUE(s == NULL, "no store returned");
	EXPECT_TRUE(access(o.path, F_OK) && errno == ENOENT, "the file it created is gone");

	/* The same failure on a file that was there: kept. */
	ASSERT_EQ(close(open(o.path, O_CREAT | O_WRONLY, 0600)), 0, "an empty file of our own");
	signal(SIGXFSZ, SIG_IGN);
	ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &lim), 0, "no file may grow");
	err = store_open(&s, &o);
	setrlimit(RLIMIT_FSIZE, &old);
	signal(SIGXFSZ, SIG_DFL);
	EXPECT_TRUE(err < 0, "store_open fails");
	EXPECT_EQ(access(o.path, F_OK), 0, "a file it did not create is kept");
}

TEST(runs_tell_writers_apart)
{
	/* Two stores on one file at once (two daemons): each has its runs
	 * row, and its metrics and interfaces rows carry its id. */
	struct store_opts a = { .path = db_path("two-runs"), .max_delay_ms = 20 };
	struct store_opts b = a;
	const char *names[] = { "packets_processed" };
	double one = 1, two = 2;
	struct store *sa, *sb;

	b.command = "collect";
	b.args = "collect --listen [2001:2::1]:4739";
	ASSERT_EQ(store_open(&sa, &a), 0, "first");
	ASSERT_EQ(store_open(&sb, &b), 0, "second");
	EXPECT_EQ(store_interface_attach(sa, "if0", 7, NULL, "native", 1000), 0, "attach a");
	EXPECT_EQ(store_interface_attach(sb, "if1", 8, NULL, "native", 1000), 0, "attach b");
	EXPECT_EQ(store_start(sa), 0, "start a");
	EXPECT_EQ(store_start(sb), 0, "start b");
	EXPECT_EQ(store_submit_metrics(sa, 5000, names, &one, 1), 0, "a's metric");
	EXPECT_EQ(store_submit_metrics(sb, 5000, names, &two, 1), 0, "b's metric");
	EXPECT_EQ(store_submit_metrics(sa, 6000, names, &one, 1), 0, "a's metric, later");
	EXPECT_EQ(store_close(sa, NULL), 0, "close a");
	EXPECT_EQ(store_close(sb, NULL), 0, "close b");
	EXPECT_STREQ(
		db_text(a.path,
			"SELECT group_concat(id || ' ' || command || ' ' || ifnull(args, '-'), '; ')"
			" FROM (SELECT * FROM runs ORDER BY id)"),
		"1 run -; 2 collect collect --listen [2001:2::1]:4739", "two runs rows");
	EXPECT_STREQ(db_text(a.path, "SELECT group_concat(name || ' ' || run_id, '; ')"
				     " FROM (SELECT * FROM interfaces ORDER BY id)"),
		     "if0 1; if1 2", "interfaces rows stamped with their run");
	EXPECT_STREQ(db_text(a.path,
			     "SELECT group_concat(ts_ms || ' ' || value || ' ' || run_id, '; ')"
			     " FROM (SELECT * FROM metrics ORDER BY ts_ms, run_id)"),
		     "5000 1.0 1; 5000 2.0 2; 6000 1.0 1", "metrics rows stamped with their run");
	EXPECT_STREQ(
		db_text(a.path,
			"SELECT group_concat(run_id || ' ' || command || ' ' || time || ' ' || value, '; ')"
			" FROM metrics_latest"),
		"1 run 1970-01-01T00:00:06.000Z 1.0; 2 collect 1970-01-01T00:00:05.000Z 2.0",
		"metrics_latest: the last interval of each run");
}

TEST(devices_group_destinations_are_not_devices)
{
	/* A device is a unicast endpoint: multicast and broadcast
	 * destinations get no devices row; the sender's totals count the
	 * traffic as sent. */
	struct store_opts o = { 0 };
	struct fm_record r[6];
	struct store *s;

	/* mDNS to 224.0.0.251, 01:00:5e:00:00:fb */
	r[0] = ipv4_rec(7, 17, 5353, 5353, 1);
	memcpy(r[0].key.dst_mac, (uint8_t[]){ 0x01, 0x00, 0x5e, 0x00, 0x00, 0xfb }, 6);
	memcpy(r[0].key.dst_addr + 12, (uint8_t[]){ 224, 0, 0, 251 }, 4);
	/* all-nodes ff02::1, 33:33:00:00:00:01 */
	r[1] = ipv4_rec(7, 58, 0, 0, 2);
	r[1].key.eth_type = 0x86dd;
	inet_pton(AF_INET6, "2001:2::1", r[1].key.src_addr);
	inet_pton(AF_INET6, "ff02::1", r[1].key.dst_addr);
	memcpy(r[1].key.dst_mac, (uint8_t[]){ 0x33, 0x33, 0x00, 0x00, 0x00, 0x01 }, 6);
	/* DHCP-style limited broadcast, ff:ff:ff:ff:ff:ff */
	r[2] = ipv4_rec(7, 17, 68, 67, 3);
	memset(r[2].key.dst_mac, 0xff, 6);
	memset(r[2].key.dst_addr + 12, 255, 4);
	/* the IP rules alone (a unicast MAC): 239.1.2.3, 255.255.255.255 */
	r[3] = ipv4_rec(7, 17, 1000, 1000, 4);
	memcpy(r[3].key.dst_addr + 12, (uint8_t[]){ 239, 1, 2, 3 }, 4);
	r[4] = ipv4_rec(7, 17, 1001, 1001, 5);
	memset(r[4].key.dst_addr + 12, 255, 4);
	/* and a unicast flow between the same hosts: both are devices */
	r[5] = ipv4_rec(7, 17, 1002, 53, 6);

	s = start_store("devices-group", &o);
	ASSERT_TRUE(s, "open and start");
	EXPECT_EQ(store_submit(s, r, 6), 0, "submit");
	EXPECT_EQ(store_close(s, NULL), 0, "close");
	EXPECT_STREQ(
		db_text(o.path,
			"SELECT group_concat(mac || ' [' || ip || '] ' || packets_sent"
			" || ' ' || packets_received, ', ') FROM (SELECT * FROM devices ORDER BY id)"),
		"02:00:00:00:00:01 [198.18.0.1] 19 0, 02:00:00:00:00:01 [2001:2::1] 2 0, "
		"02:00:00:00:00:fe [198.18.0.2] 0 6",
		"senders and the unicast receiver only");
	EXPECT_EQ(db_int(o.path, "SELECT count(*) FROM flows WHERE dst_device_id IS NULL"), 5,
		  "no destination device for the five group flows");
	EXPECT_EQ(db_int(o.path, "SELECT count(*) FROM flows WHERE src_device_id IS NULL"), 0,
		  "every flow has its source device");
	EXPECT_EQ(devices_problems(o.path), 0, "devices consistent with flows");
}

/* The fixture a real version 1 flowmaster wrote (tests/fixtures/README.md). */
static const char *fixture_v1(void)
{
	static char path[PATH_MAX];
	const char *src = __FILE__, *slash = strrchr(src, '/');

	snprintf(path, sizeof(path), "%.*s/../fixtures/v1.db", slash ? (int)(slash - src) : 1,
		 slash ? src : ".");
	return path;
}

static int copy_file(const char *from, const char *to)
{
	char buf[65536];
	FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
	size_t n;
	int err = in && out ? 0 : -1;

	while (!err && (n = fread(buf, 1, sizeof(buf), in)) > 0)
		if (fwrite(buf, 1, n, out) != n)
			err = -1;
	if (in)
		fclose(in);
	if (out && fclose(out))
		err = -1;
	return err;
}

TEST(migrates_v1_fixture)
{
	/* A copy of a database the previous release wrote: opened by this
	 * one, it is migrated in place to version 2 and keeps every row. */
	struct store_opts o = { .path = db_path("v1-fixture") };
	struct fm_record r = ipv4_rec(7, 6, 40000, 443, 2);
	struct store *s = NULL;
	sqlite3 *db;

	ASSERT_EQ(copy_file(fixture_v1(), o.path), 0, "copy tests/fixtures/v1.db");
	ASSERT_EQ(db_int(o.path, "PRAGMA user_version"), 1, "the fixture is version 1");
	ASSERT_EQ(store_open(&s, &o), 0, "open (and migrate) it");
	EXPECT_EQ(store_interface_attach(s, "b-a", 7, NULL, "native", 1796212660000), 0, "attach");
	EXPECT_EQ(store_start(s), 0, "start");
	r.key.tos = 0x10;
	r.ip_bytes = 100;
	EXPECT_EQ(store_submit(s, &r, 1), 0, "a new row");
	EXPECT_EQ(store_close(s, NULL), 0, "close");

	db = sql_open(o.path);
	ASSERT_TRUE(db, "open the migrated file");
	EXPECT_EQ(q_int(db, "PRAGMA user_version"), 2, "user_version 2");
	EXPECT_STREQ(q_text(db, "PRAGMA integrity_check"), "ok", "integrity_check");
	EXPECT_EQ(q_int(db, "PRAGMA auto_vacuum"), 0, "an old file keeps its auto_vacuum");
	/* Every row of the fixture survived, with its values. */
	EXPECT_STREQ(q_text(db, "SELECT count(*) || ' ' || sum(packets) || ' ' || sum(bytes)"
				" FROM flows WHERE id <= 33"),
		     q_text(db, "SELECT '33 3159 ' || sum(bytes) FROM flows WHERE id <= 33"),
		     "33 flows, 3,159 packets");
	EXPECT_EQ(q_int(db, "SELECT count(*) FROM flows"), 34, "and the new one");
	EXPECT_EQ(q_int(db, "SELECT sum(packets) FROM flows WHERE id <= 33"), 3159,
		  "3,159 packets");
	EXPECT_STREQ(q_text(db, "SELECT group_concat(ip || ' ' || packets_sent || '/' || bytes_sent"
				" || ' ' || packets_received || '/' || bytes_received, ', ')"
				" FROM (SELECT * FROM devices ORDER BY id LIMIT 4)"),
		     "198.18.0.1 3156/510464 0/0, 198.18.0.2 0/0 3156/510464, "
		     "2001:2::1 3/354 0/0, 2001:2::2 0/0 3/354",
		     "the 4 devices and their totals");
	EXPECT_EQ(q_int(db, "SELECT count(*) FROM metrics WHERE run_id IS NULL"), 264,
		  "264 metric rows, of no run");
	EXPECT_STREQ(q_text(db, "SELECT name || ' ' || ifnull(run_id, 'NULL') || ' ' || detached_ms"
				" FROM interfaces WHERE id = 1"),
		     "b-a NULL 1796212657137", "the interface row");
	EXPECT_EQ(q_int(db, "SELECT count(*) FROM flows WHERE id <= 33 AND ip_bytes IS NULL"
			    " AND tos IS NULL AND exporter_id IS NULL"),
		  33, "old rows read the new columns as NULL");
	/* The new columns and tables work. */
	EXPECT_STREQ(q_text(db,
			    "SELECT tos || ' ' || ip_bytes || ' ' || ifnull(exporter_id, 'NULL')"
			    " || ' ' || interface_id FROM flows WHERE id = 34"),
		     "16 100 NULL 2", "the new row has the new columns");
	EXPECT_EQ(q_int(db, "SELECT count(*) FROM runs WHERE stopped_ms >= started_ms"), 1,
		  "a runs row");
	EXPECT_EQ(q_int(db, "SELECT count(*) FROM interfaces WHERE run_id = 1"), 1,
		  "the new interfaces row names its run");
	EXPECT_EQ(q_int(db, "SELECT count(*) FROM exporters"), 0, "exporters table");
	EXPECT_EQ(q_int(db, "SELECT count(*) FROM retired"), 0, "retired table");
	EXPECT_EQ(q_int(db, "SELECT count(*) FROM flows_readable WHERE protocol = 'icmpv6'"),
		  q_int(db, "SELECT count(*) FROM flows WHERE protocol = 58"),
		  "flows_readable made again: icmpv6");
	EXPECT_TRUE(q_int(db, "SELECT count(*) FROM flows WHERE protocol = 58") > 0,
		    "the fixture has ICMPv6 flows");
	EXPECT_EQ(q_int(db, "SELECT count(*) FROM flows_readable WHERE tcp_flags LIKE '%SYN%'"),
		  q_int(db, "SELECT count(*) FROM flows WHERE protocol = 6 AND tcp_flags & 2"),
		  "flows_readable spells the fixture's TCP flags");
	EXPECT_EQ(
		q_int(db, "SELECT count(*) FROM metrics_latest"),
		q_int(db,
		      "SELECT count(*) FROM metrics WHERE ts_ms = (SELECT max(ts_ms) FROM metrics)"),
		"metrics_latest: the old rows' last interval");
	EXPECT_EQ(q_int(db, "SELECT count(*) FROM device_summary WHERE interface = 'b-a'"), 6,
		  "device_summary: the 4 devices and the new row's 2 (other MACs), on b-a");
	sqlite3_close(db);

	/* Opened again: nothing to migrate, nothing changes. */
	ASSERT_EQ(store_open(&s, &o), 0, "open again");
	EXPECT_EQ(store_close(s, NULL), 0, "close");
	EXPECT_EQ(db_int(o.path, "SELECT count(*) FROM flows"), 34, "rows kept");
}

/* Wait (at most 10 s) for the store's first failed transaction. */
static void wait_first_failure(struct store *s, struct store_stats *st)
{
	for (int waited = 0; waited < 10000; waited += 2) {
		store_get_stats(s, st);
		if (st->db_errors)
			return;
		sleep_ms(2);
	}
}

TEST(devices_held_totals_follow_a_moved_file)
{
	/* The database moved aside (log rotation) while the writer holds
	 * device totals of committed flows (deferred write-back: it was
	 * behind its queue). They belong to the flows in the moved file and
	 * must be written there before the writer goes on in a new file:
	 * across both files, every host's totals are exact. */
	enum { N = 60000, CHUNK = 1000, HOSTS = 300 };
	struct store_opts o = { .max_delay_ms = 600000 };
	static struct fm_record r[CHUNK];
	static uint64_t sent[HOSTS], recv[HOSTS];
	uint64_t seed = 23, unwritten = 99, total = 0;
	char moved[160];
	struct rlimit old, lim;
	struct store_stats st;
	struct store *s = NULL;
	long long flows, ps, pr;
	int wrong = 0;

	ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &old), 0, "getrlimit");
	if (old.rlim_cur != RLIM_INFINITY && old.rlim_cur < (4 << 20))
		SKIP("RLIMIT_FSIZE already limited");
	o.path = db_path("devices-moved");
	snprintf(moved, sizeof(moved), "%s.1", o.path);
	ASSERT_EQ(store_open(&s, &o), 0, "open");
	ASSERT_EQ(store_interface_attach(s, "if0", 7, "02:00:00:00:00:aa", "native", 1000), 0,
		  "attach");
	for (int c = 0; c < N / CHUNK; c++) {
		random_host_recs(r, CHUNK, c * CHUNK, HOSTS, &seed, sent, recv);
		ASSERT_EQ(store_submit(s, r, CHUNK), 0, "queue before the writer starts");
	}
	/* Writes past 2 MiB fail: the writer stops, after some batches
	 * committed their flows with the device traffic held back, and
	 * retries every 100 ms or more. Then the file is moved. */
	signal(SIGXFSZ, SIG_IGN);
	lim = old;
	lim.rlim_cur = 2 << 20;
	ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &lim), 0, "limit file size");
	ASSERT_EQ(store_start(s), 0, "start");
	wait_first_failure(s, &st);
	EXPECT_TRUE(st.db_errors > 0, "a transaction failed");
	EXPECT_TRUE(st.batches > 0, "after some had committed");
	EXPECT_EQ(st.devices_written, 0, "device totals held, not yet written");
	EXPECT_EQ(rename(o.path, moved), 0, "move the database aside");
	setrlimit(RLIMIT_FSIZE, &old);
	store_flush(s);
	EXPECT_EQ(store_close(s, &unwritten), 0, "close");
	EXPECT_EQ(unwritten, 0, "nothing unwritten");
	signal(SIGXFSZ, SIG_DFL);

	flows = db_int(o.path, "SELECT count(*) FROM flows") +
		db_int(moved, "SELECT count(*) FROM flows");
	EXPECT_EQ(flows, N, "every record in one of the two files");
	EXPECT_TRUE(db_int(moved, "SELECT count(*) FROM flows") > 0, "some in the moved file");
	for (unsigned h = 0; h < HOSTS; h++) {
		char sql[160], ip[32];
		long long a, b;

		total += sent[h];
		host_ip(ip, sizeof(ip), h);
		snprintf(sql, sizeof(sql),
			 "SELECT ifnull(sum(packets_sent), 0) FROM devices WHERE ip = '%s'", ip);
		a = db_int(o.path, sql);
		b = db_int(moved, sql);
		ps = a + b;
		snprintf(sql, sizeof(sql),
			 "SELECT ifnull(sum(packets_received), 0) FROM devices WHERE ip = '%s'",
			 ip);
		a = db_int(o.path, sql);
		b = db_int(moved, sql);
		pr = a + b;
		if ((uint64_t)ps != sent[h] || (uint64_t)pr != recv[h]) {
			if (wrong++ < 5)
				fprintf(stderr,
					"  host %s: sent %lld received %lld across both files, expected %" PRIu64
					" and %" PRIu64 "\n",
					ip, ps, pr, sent[h], recv[h]);
		}
	}
	EXPECT_EQ(wrong, 0, "every host's totals exact across both files");
	EXPECT_EQ(db_int(o.path, "SELECT sum(packets_sent) FROM devices") +
			  db_int(moved, "SELECT sum(packets_sent) FROM devices"),
		  total, "sum(packets_sent) across both files");
	EXPECT_EQ(devices_problems(moved), 0, "the moved file's devices match its flows");
	EXPECT_EQ(devices_problems(o.path), 0, "the new file's devices match its flows");
	EXPECT_STREQ(db_text(moved, "PRAGMA integrity_check"), "ok", "the moved file is sound");
	EXPECT_EQ(db_int(moved, "SELECT count(*) FROM runs WHERE stopped_ms IS NOT NULL"), 1,
		  "the run's end in the moved file: when it let go");
	unlink(moved);
}

TESTLIB_MAIN("store")
