// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * flowmaster top: human units, the aligned table, the read-only database
 * open, and the report itself on a database written by store.c with rows
 * added by hand, so the sums across a flow's rows are known.
 */
#include <fcntl.h>
#include <sqlite3.h>
#include <time.h>
#include <unistd.h>
#include "../testlib.h"
#include "cli/cli.h"
#include "lib/log.h"
#include "lib/fmt.h"
#include "store/reader.h"
#include "store/store.h"

TESTLIB_MAIN("top")

TEST(bytes_units)
{
	static const struct {
		uint64_t v;
		const char *want;
	} c[] = {
		{ 0, "0 B" },
		{ 1023, "1023 B" },
		{ 1024, "1.0 KiB" },
		{ 1536, "1.5 KiB" },
		{ 1048575, "1.0 MiB" }, /* 1023.999 KiB must not print as 1024.0 KiB */
		{ 1048576, "1.0 MiB" },
		{ 5ULL << 30, "5.0 GiB" },
		{ 3ULL << 40, "3.0 TiB" },
		{ UINT64_MAX, "16.0 EiB" },
	};
	char buf[32];

	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++)
		EXPECT_STREQ(fmt_bytes(buf, sizeof(buf), c[i].v), c[i].want, c[i].want);
}

TEST(count_units)
{
	static const struct {
		uint64_t v;
		const char *want;
	} c[] = {
		{ 0, "0" },	      { 999, "999" },
		{ 1000, "1.0k" },     { 1250, "1.2k" },
		{ 999949, "999.9k" }, { 999950, "1.0M" },
		{ 2500000, "2.5M" },  { 7000000000ULL, "7.0G" },
	};
	char buf[32];

	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++)
		EXPECT_STREQ(fmt_count(buf, sizeof(buf), c[i].v), c[i].want, c[i].want);
}

TEST(rate_and_duration)
{
	char buf[32];

	EXPECT_STREQ(fmt_rate(buf, sizeof(buf), 0.5), "0.5", "fractional rate");
	EXPECT_STREQ(fmt_rate(buf, sizeof(buf), 999.9), "999.9", "just under 1k");
	EXPECT_STREQ(fmt_rate(buf, sizeof(buf), 12345), "12.3k", "thousands");
	EXPECT_STREQ(fmt_rate(buf, sizeof(buf), -1), "0.0", "negative clamps to 0");
	EXPECT_STREQ(fmt_duration(buf, sizeof(buf), 0), "0ms", "zero");
	EXPECT_STREQ(fmt_duration(buf, sizeof(buf), 850), "850ms", "ms");
	EXPECT_STREQ(fmt_duration(buf, sizeof(buf), 12345), "12.3s", "seconds");
	EXPECT_STREQ(fmt_duration(buf, sizeof(buf), 59949), "59.9s", "under a minute");
	EXPECT_STREQ(fmt_duration(buf, sizeof(buf), 59950), "0m59s",
		     "rounding edge stays in minutes");
	EXPECT_STREQ(fmt_duration(buf, sizeof(buf), 307000), "5m07s", "minutes");
	EXPECT_STREQ(fmt_duration(buf, sizeof(buf), 7380000), "2h03m", "hours");
	EXPECT_STREQ(fmt_duration(buf, sizeof(buf), 273600000), "3d04h", "days");
	EXPECT_STREQ(fmt_duration(buf, sizeof(buf), -5), "-", "negative");
}

TEST(proto_and_endpoint)
{
	char buf[64];

	EXPECT_STREQ(fmt_proto(buf, sizeof(buf), 6), "tcp", "tcp");
	EXPECT_STREQ(fmt_proto(buf, sizeof(buf), 58), "icmpv6", "icmpv6");
	EXPECT_STREQ(fmt_proto(buf, sizeof(buf), 253), "253", "unknown by number");
	EXPECT_STREQ(fmt_endpoint(buf, sizeof(buf), "198.18.0.1", 80), "198.18.0.1:80", "v4");
	EXPECT_STREQ(fmt_endpoint(buf, sizeof(buf), "2001:2::1", 80), "[2001:2::1]:80", "v6");
	EXPECT_STREQ(fmt_endpoint(buf, sizeof(buf), "2001:2::1", -1), "2001:2::1", "no port");
}

/* Print t into a string (caller frees). */
static char *table_str(const struct table *t)
{
	char *s = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&s, &n);

	table_print(t, f, "> ");
	fclose(f);
	return s;
}

TEST(table_aligns_columns)
{
	static const char *const hdr[] = { "NAME", "N", "NOTE" };
	static const char *const r1[] = { "a", "12345", "x" };
	static const char *const r2[] = { "longer", "7", NULL };
	struct table *t = table_new(3, hdr, 0x2);
	char *s;

	ASSERT_TRUE(t, "table_new");
	EXPECT_EQ(table_add(t, r1), 0, "row 1");
	EXPECT_EQ(table_add(t, r2), 0, "row 2 (NULL cell)");
	s = table_str(t);
	EXPECT_STREQ(
		s,
		"> NAME        N  NOTE\n"
		"> a       12345  x\n"
		"> longer      7  \n",
		"widths from the widest cell, numbers right, no padding after the last column");
	free(s);
	table_free(t);
	EXPECT_TRUE(!table_new(0, hdr, 0), "zero columns refused");
	EXPECT_TRUE(!table_new(TABLE_MAX_COLS + 1, hdr, 0), "too many columns refused");
}

static char tmpdir[64];
static void rm_db(const char *path);

static void rm_tmpdir(void)
{
	char p[128];

	snprintf(p, sizeof(p), "%s/flows.db", tmpdir);
	rm_db(p);
	snprintf(p, sizeof(p), "%s/plain.db", tmpdir);
	rm_db(p);
	snprintf(p, sizeof(p), "%s/stdout", tmpdir);
	unlink(p);
	rmdir(tmpdir);
}

/* A path in this run's temp dir, removed at exit; a static buffer. */
static const char *tmp_path(const char *name)
{
	static char p[128];

	if (!tmpdir[0]) {
		snprintf(tmpdir, sizeof(tmpdir), "/tmp/fm-test-top.XXXXXX");
		if (!mkdtemp(tmpdir))
			return NULL;
		atexit(rm_tmpdir);
	}
	snprintf(p, sizeof(p), "%s/%s", tmpdir, name);
	return p;
}

static void rm_db(const char *path)
{
	char p[256];

	unlink(path);
	snprintf(p, sizeof(p), "%s-wal", path);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", path);
	unlink(p);
}

TEST(db_open_errors)
{
	const char *path = tmp_path("plain.db");
	struct sqlite3 *db = NULL;
	int saved = fm_log_level;

	ASSERT_TRUE(path, "temp dir");
	fm_log_level = -2; /* errors expected: keep them off the output */
	rm_db(path);
	EXPECT_EQ(store_open_readonly(path, &db), -ENOENT, "missing file");
	EXPECT_EQ(store_open_readonly(tmpdir, &db), -EISDIR, "a directory, not \"disk I/O error\"");
	ASSERT_EQ(sqlite3_open(path, &db), SQLITE_OK, "create a plain db");
	sqlite3_exec(db, "CREATE TABLE t(x)", NULL, NULL, NULL);
	sqlite3_close(db);
	EXPECT_EQ(store_open_readonly(path, &db), -EINVAL, "db without a flows table");
	rm_db(path);
	fm_log_level = saved;
}

/* Run cmd_top with argv, its stdout captured into out (caller frees). */
static int run_top(char **out, int argc, const char **argv)
{
	const char *cap = tmp_path("stdout");
	int fd = open(cap, O_RDWR | O_CREAT | O_TRUNC, 0600), null = open("/dev/null", O_WRONLY);
	int saved = dup(1), saved_err = dup(2), rc;
	FILE *f;
	long n;

	/* Messages on stderr are not checked here; keep the test output clean. */
	fflush(stdout);
	fflush(stderr);
	dup2(fd, 1);
	dup2(null, 2);
	rc = cmd_top(argc, (char **)argv);
	fflush(stdout);
	fflush(stderr);
	dup2(saved, 1);
	dup2(saved_err, 2);
	close(saved);
	close(saved_err);
	close(null);
	close(fd);
	f = fopen(cap, "r");
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	*out = calloc(1, n + 1);
	if (fread(*out, 1, n, f) != (size_t)n)
		n = 0;
	fclose(f);
	return rc;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Three sources: .1 has one UDP flow in two rows (an active timeout) and
 * an old TCP flow; .2 one recent flow with more packets but fewer bytes;
 * an IPv6 source; one overflow row (no key).
 */
static int64_t db_made_ms; /* the "now" of make_db's newest row */

static const char *make_db(void)
{
	static char path[128]; /* tmp_path's buffer is reused */
	struct store_opts o = { .path = path };
	struct store *st;
	sqlite3 *db;
	char sql[2048];
	int64_t now = now_ms(), old = now - 3600 * 1000;

	db_made_ms = now;
	if (!tmp_path("flows.db"))
		return NULL;
	snprintf(path, sizeof(path), "%s", tmp_path("flows.db"));
	rm_db(path);
	if (store_open(&st, &o))
		return NULL;
	store_interface_attach(st, "b-a", 7, "02:00:00:00:00:02", "generic", old);
	store_close(st, NULL);
	if (sqlite3_open(path, &db) != SQLITE_OK)
		return NULL;
	snprintf(
		sql, sizeof(sql),
		"INSERT INTO flows(interface_id, direction, first_seen_ms, last_seen_ms, eth_type,"
		" src_ip, dst_ip, src_port, dst_port, protocol, packets, bytes, end_reason) VALUES"
		" (1, 'ingress', %lld, %lld, 2048, '198.18.0.1', '198.18.0.2', 10000, 9, 17, 100, 100000, 'active'),"
		" (1, 'ingress', %lld, %lld, 2048, '198.18.0.1', '198.18.0.2', 10000, 9, 17, 50, 50000, 'idle'),"
		" (1, 'ingress', %lld, %lld, 2048, '198.18.0.1', '198.18.0.2', 40000, 80, 6, 10, 1000, 'tcp_end'),"
		" (1, 'ingress', %lld, %lld, 2048, '198.18.1.2', '198.18.0.2', 5353, 53, 17, 1000, 60000, 'idle'),"
		" (1, 'ingress', %lld, %lld, 34525, '2001:2::1', '2001:2::2', 0, 0, 58, 3, 354, 'idle');"
		"INSERT INTO flows(interface_id, direction, first_seen_ms, last_seen_ms, packets, bytes,"
		" end_reason) VALUES (1, 'ingress', %lld, %lld, 7, 420, 'overflow');"
		"UPDATE flows SET icmp_type = 128, icmp_code = 0 WHERE protocol = 58;",
		(long long)(now - 20000), (long long)(now - 10000), (long long)(now - 10000),
		(long long)(now - 5000), (long long)old, (long long)(old + 1000),
		(long long)(now - 2000), (long long)(now - 1000), (long long)(now - 3500),
		(long long)(now - 1500), (long long)(now - 1000), (long long)now);
	if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK) {
		fprintf(stderr, "  make_db: %s\n", sqlite3_errmsg(db));
		sqlite3_close(db);
		return NULL;
	}
	sqlite3_close(db);
	return path;
}

/* The line of out that contains key, or "" (static buffer). */
static const char *line_with(const char *out, const char *key)
{
	static char line[512];
	const char *p = strstr(out, key), *b, *e;

	if (!p)
		return "";
	for (b = p; b > out && b[-1] != '\n'; b--)
		;
	e = strchr(p, '\n');
	if (!e)
		e = p + strlen(p);
	snprintf(line, sizeof(line), "%.*s", (int)(e - b), b);
	return line;
}

/* "a b c" from a line, whitespace collapsed, so checks ignore alignment. */
static const char *squash(const char *s)
{
	static char out[512];
	size_t n = 0;
	bool space = true;

	for (; *s && n < sizeof(out) - 1; s++) {
		if (*s == ' ') {
			if (!space)
				out[n++] = ' ';
			space = true;
		} else {
			out[n++] = *s;
			space = false;
		}
	}
	while (n && out[n - 1] == ' ')
		n--;
	out[n] = 0;
	return out;
}

TEST(top_report_sums_rows_by_flow)
{
	const char *path = make_db();
	char *out = NULL;

	ASSERT_TRUE(path, "database made");
	const char *argv[] = { "top", "--db", path };
	EXPECT_EQ(run_top(&out, 3, argv), 0, "exit status");
	ASSERT_TRUE(out, "output");
	EXPECT_TRUE(strstr(out, "6 flow records"), "header counts every row");
	EXPECT_TRUE(strstr(out, "7 packets unattributed"), "overflow row reported");
	/* Talkers by bytes: .1 = 151000 B in 2 flows (3 rows). */
	EXPECT_STREQ(squash(line_with(out, "  198.18.0.1 ")), "198.18.0.1 160 147.5 KiB 2 71.3%",
		     "first talker: rows summed, flows counted by key, share of all bytes");
	EXPECT_STREQ(squash(line_with(out, "  198.18.1.2 ")), "198.18.1.2 1.0k 58.6 KiB 1 28.3%",
		     "second talker");
	/* The UDP flow's two rows are one line: 150 packets over 15 s = 10 pps. */
	EXPECT_STREQ(squash(line_with(out, "198.18.0.1:10000")),
		     "b-a 198.18.0.1:10000 198.18.0.2:9 udp 150 146.5 KiB 10.0 15.0s", "top flow");
	EXPECT_STREQ(squash(line_with(out, " 2001:2::2 ")),
		     "b-a 2001:2::1 2001:2::2 icmpv6 128/0 3 354 B 1.5 2.0s",
		     "ICMPv6 flow: no ports, type/code shown");
	free(out);

	const char *argv2[] = { "top",	   "--db", path,      "--by", "packets",
				"--limit", "1",	   "--since", "1m" };
	EXPECT_EQ(run_top(&out, 9, argv2), 0, "exit status --since");
	EXPECT_TRUE(strstr(out, "5 flow records in the last 1m,"),
		    "old TCP row outside the window");
	EXPECT_TRUE(strstr(out, "top talkers by packets"), "ranked by packets");
	EXPECT_STREQ(squash(line_with(out, "  198.18.1.2 ")), "198.18.1.2 1.0k 58.6 KiB 1 86.2%",
		     "first by packets, share of packets in the window");
	EXPECT_TRUE(!strstr(out, "  198.18.0.1 "), "--limit 1: one talker");
	EXPECT_TRUE(!strstr(out, ":40000"), "old flow filtered out");
	free(out);

	const char *argv3[] = { "top", "--db", path, "--since", "1s" };

	EXPECT_EQ(run_top(&out, 5, argv3), 0, "exit status, narrow window");
	/* Under valgrind the window may have moved past the row by now. */
	if (now_ms() - db_made_ms < 900)
		EXPECT_TRUE(strstr(out, "1 flow record in the last 1s,"), "only the newest row");
	free(out);
	rm_db(path);
}

TEST(top_shares_include_non_ip_sources)
{
	/* Non-IP frames (ARP, LLDP) have no source address: their sources
	 * are listed by MAC, so the shares add up to 100%. */
	static char path[128];
	struct store_opts o = { .path = path };
	struct store *st;
	sqlite3 *db;
	char sql[1024], *out = NULL;
	int64_t now = now_ms();

	ASSERT_TRUE(tmp_path("flows.db"), "temp dir");
	snprintf(path, sizeof(path), "%s", tmp_path("flows.db"));
	rm_db(path);
	ASSERT_EQ(store_open(&st, &o), 0, "create");
	store_interface_attach(st, "b-a", 7, "02:00:00:00:00:02", "generic", now - 5000);
	store_close(st, NULL);
	ASSERT_EQ(sqlite3_open(path, &db), SQLITE_OK, "open");
	snprintf(
		sql, sizeof(sql),
		"INSERT INTO flows(interface_id, direction, first_seen_ms, last_seen_ms, src_mac, dst_mac,"
		" eth_type, src_ip, dst_ip, src_port, dst_port, protocol, packets, bytes, end_reason) VALUES"
		" (1, 'ingress', %lld, %lld, '02:00:00:00:00:01', '02:00:00:00:00:02', 2048,"
		"  '198.18.0.1', '198.18.0.2', 1000, 9, 17, 10, 7000, 'idle'),"
		" (1, 'ingress', %lld, %lld, '02:00:00:00:00:01', 'ff:ff:ff:ff:ff:ff', 2054,"
		"  NULL, NULL, 0, 0, NULL, 30, 1800, 'idle'),"
		" (1, 'ingress', %lld, %lld, '02:00:00:00:00:03', '01:80:c2:00:00:0e', 35020,"
		"  NULL, NULL, 0, 0, NULL, 4, 1200, 'idle');",
		(long long)(now - 3000), (long long)(now - 2000), (long long)(now - 3000),
		(long long)(now - 1000), (long long)(now - 3000), (long long)(now - 1000));
	EXPECT_EQ(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK, "rows");
	sqlite3_close(db);

	const char *argv[] = { "top", "--db", path };
	EXPECT_EQ(run_top(&out, 3, argv), 0, "exit status");
	ASSERT_TRUE(out, "output");
	EXPECT_STREQ(squash(line_with(out, "  198.18.0.1 ")), "198.18.0.1 10 6.8 KiB 1 70.0%",
		     "the IP source");
	EXPECT_STREQ(squash(line_with(out, "  02:00:00:00:00:01 ")),
		     "02:00:00:00:00:01 30 1.8 KiB 1 18.0%", "an ARP sender, by MAC");
	EXPECT_STREQ(squash(line_with(out, "  02:00:00:00:00:03 ")),
		     "02:00:00:00:00:03 4 1.2 KiB 1 12.0%", "an LLDP sender, by MAC");
	free(out);
	rm_db(path);
}

TEST(top_in_and_out)
{
	/* With egress rows, talkers split what was seen arriving (IN) and
	 * leaving (OUT), and flows say their direction. */
	static char path[128];
	struct store_opts o = { .path = path };
	struct store *st;
	sqlite3 *db;
	char sql[1024], *out = NULL;
	int64_t now = now_ms();

	ASSERT_TRUE(tmp_path("flows.db"), "temp dir");
	snprintf(path, sizeof(path), "%s", tmp_path("flows.db"));
	rm_db(path);
	ASSERT_EQ(store_open(&st, &o), 0, "create");
	store_interface_attach(st, "a-b", 7, "02:00:00:00:00:01", "native", now - 5000);
	store_close(st, NULL);
	ASSERT_EQ(sqlite3_open(path, &db), SQLITE_OK, "open");
	snprintf(sql, sizeof(sql),
		 "INSERT INTO flows(interface_id, direction, first_seen_ms, last_seen_ms, eth_type,"
		 " src_ip, dst_ip, src_port, dst_port, protocol, packets, bytes, end_reason) VALUES"
		 " (1, 'egress', %lld, %lld, 2048, '198.18.0.1', '198.18.0.2', 5001, 40000, 6,"
		 "  100, 150000, 'idle'),"
		 " (1, 'ingress', %lld, %lld, 2048, '198.18.0.1', '198.18.0.9', 5001, 40000, 6,"
		 "  10, 2048, 'idle'),"
		 " (1, 'ingress', %lld, %lld, 2048, '198.18.0.2', '198.18.0.1', 40000, 5001, 6,"
		 "  50, 3300, 'idle');",
		 (long long)(now - 3000), (long long)(now - 1000), (long long)(now - 3000),
		 (long long)(now - 1000), (long long)(now - 3000), (long long)(now - 1000));
	EXPECT_EQ(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK, "rows");
	sqlite3_close(db);

	const char *argv[] = { "top", "--db", path };
	EXPECT_EQ(run_top(&out, 3, argv), 0, "exit status");
	ASSERT_TRUE(out, "output");
	EXPECT_TRUE(strstr(out, "SOURCE") && strstr(out, " IN ") && strstr(out, " OUT "),
		    "IN and OUT columns");
	EXPECT_STREQ(squash(line_with(out, "  198.18.0.1 ")),
		     "198.18.0.1 110 148.5 KiB 2.0 KiB 146.5 KiB 2 97.9%",
		     "a talker: bytes in and out");
	EXPECT_STREQ(squash(line_with(out, " out ")),
		     "a-b out 198.18.0.1:5001 198.18.0.2:40000 tcp 100 146.5 KiB 50.0 2.0s",
		     "an egress flow");
	EXPECT_STREQ(squash(line_with(out, " 25.0 ")),
		     "a-b in 198.18.0.2:40000 198.18.0.1:5001 tcp 50 3.2 KiB 25.0 2.0s",
		     "an ingress flow");
	free(out);
	rm_db(path);
}

TEST(top_usage_and_missing_db)
{
	char *out;
	const char *bad_by[] = { "top", "--by", "flows" };
	const char *bad_limit[] = { "top", "--limit", "0" };
	const char *zero_since[] = { "top", "--since", "0" };
	const char *extra[] = { "top", "extra" };
	const char *missing[] = { "top", "--db", "/nonexistent/fm.db" };

	EXPECT_EQ(run_top(&out, 3, bad_by), 2, "--by flows");
	free(out);
	EXPECT_EQ(run_top(&out, 3, bad_limit), 2, "--limit 0");
	free(out);
	EXPECT_EQ(run_top(&out, 3, zero_since), 2, "--since 0");
	free(out);
	EXPECT_EQ(run_top(&out, 2, extra), 2, "stray argument");
	free(out);
	EXPECT_EQ(run_top(&out, 3, missing), 1, "missing database");
	free(out);
}

TEST(json_exact)
{
	const char *path = make_db();
	const char *argv[] = { "top", "--db", path, "--json", "--limit", "2" };
	char *out = NULL, want[256];

	ASSERT_TRUE(path, "make the database");
	EXPECT_EQ(run_top(&out, 6, argv), 0, "exit status");
	snprintf(want, sizeof(want), "{\"db\":\"%s\",\"since_s\":null,\"by\":\"bytes\",", path);
	EXPECT_TRUE(!strncmp(out, want, strlen(want)), "starts with db, since_s, by");
	EXPECT_TRUE(strstr(out, "\"totals\":{\"records\":6,\"packets\":1170,\"bytes\":211774,"),
		    "totals: records, packets, bytes");
	EXPECT_TRUE(strstr(out, "\"unattributed_packets\":7}"), "totals: unattributed");
	EXPECT_TRUE(strstr(out, "\"talkers\":[{\"source\":\"198.18.0.1\",\"packets\":160,"
				"\"bytes\":151000,\"flows\":2,\"share\":0.71302426171295"),
		    "first talker, its rows added up");
	EXPECT_TRUE(strstr(out, "\"flows\":[{\"interface\":\"b-a\",\"src_ip\":\"198.18.0.1\","
				"\"src_port\":10000,\"dst_ip\":\"198.18.0.2\",\"dst_port\":9,"
				"\"protocol\":17,\"icmp_type\":null,\"icmp_code\":null,"
				"\"eth_type\":2048,\"src_mac\":null,\"dst_mac\":null,"
				"\"packets\":150,\"bytes\":150000,"),
		    "first flow: two rows added up, NULLs as null");
	EXPECT_TRUE(strstr(out, "\"protocol_name\":\"udp\"}"), "protocol name");
	EXPECT_TRUE(!strcmp(out + strlen(out) - 3, "]}\n"), "ends the object");
	free(out);
}

TEST(csv_exact)
{
	const char *path = make_db();
	const char *argv[] = { "top", "--db", path, "--csv", "--by", "packets" };
	char *out = NULL;

	ASSERT_TRUE(path, "make the database");
	EXPECT_EQ(run_top(&out, 6, argv), 0, "exit status");
	EXPECT_TRUE(
		!strncmp(out,
			 "interface,src_ip,src_port,dst_ip,dst_port,protocol,icmp_type,"
			 "icmp_code,eth_type,src_mac,dst_mac,packets,bytes,first_seen_ms,"
			 "last_seen_ms,protocol_name\n"
			 "b-a,198.18.1.2,5353,198.18.0.2,53,17,,,2048,,,1000,60000,",
			 strlen("interface,src_ip,src_port,dst_ip,dst_port,protocol,icmp_type,"
				"icmp_code,eth_type,src_mac,dst_mac,packets,bytes,first_seen_ms,"
				"last_seen_ms,protocol_name\n"
				"b-a,198.18.1.2,5353,198.18.0.2,53,17,,,2048,,,1000,60000,")),
		"header, then the biggest flow by packets");
	EXPECT_TRUE(strstr(out, ",58,128,0,34525,,,3,354,"), "ICMPv6 row with type and code");
	free(out);
}

TEST(json_and_csv_exclusive)
{
	const char *argv[] = { "top", "--db", "x.db", "--json", "--csv" };
	char *out = NULL;

	EXPECT_EQ(run_top(&out, 5, argv), 2, "usage error");
	free(out);
}
