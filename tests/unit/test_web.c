// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The web view without HTTP: the query-string parser and the filters
 * (user/web/qs.c), the answer buffer's escaping (user/web/buf.c), and the
 * API (user/web/api.c) on the version 1 fixture, a missing file, a file
 * that is not a database and one that is another application's. The
 * answers are compared with SQL exactly in tests/netns/test-web.sh.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "web/api.h"
#include "web/buf.h"
#include "web/qs.h"
#include "../testlib.h"

#define NOW 1796212700000LL

static int parse(const char *s, struct qs *q, char *why)
{
	return qs_parse(s, strlen(s), q, why, 256);
}

TEST(qs_splits_and_decodes)
{
	struct qs q;
	char why[256];

	ASSERT_EQ(parse("?a=1&b=x%20y+z&&c&d=%41%62", &q, why), 0, "parsed");
	EXPECT_EQ(q.n, 4, "four pairs, the empty one skipped");
	EXPECT_STREQ(qs_get(&q, "a"), "1", "a");
	EXPECT_STREQ(qs_get(&q, "b"), "x y z", "%20 and + are spaces");
	EXPECT_STREQ(qs_get(&q, "c"), "", "a key without = has an empty value");
	EXPECT_STREQ(qs_get(&q, "d"), "Ab", "hex either case");
	EXPECT_TRUE(!qs_get(&q, "e"), "absent key");
	ASSERT_EQ(parse("", &q, why), 0, "empty");
	EXPECT_EQ(q.n, 0, "no pairs");
}

TEST(qs_refuses_malformed)
{
	static const char *const bad[] = {
		"a=%",	 "a=%4", "a=%zz",   "a=%00",  "a=x%0ay", "A=1",
		"a-b=1", "=1",	 "a=1&a=2", "a=\x01", "a=%7f",	 "k\xff=1",
	};
	struct qs q;
	char why[256];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why[0] = 0;
		EXPECT_EQ(parse(bad[i], &q, why), -EINVAL, bad[i]);
		EXPECT_TRUE(why[0], "says why");
	}
}

TEST(qs_bounds)
{
	char s[QS_MAX_LEN + 64], why[256];
	struct qs q;
	size_t n = 0;

	/* Too many pairs. */
	for (int i = 0; i <= QS_MAX_PARAMS; i++)
		n += (size_t)sprintf(s + n, "k%d=1&", i);
	EXPECT_EQ(parse(s, &q, why), -E2BIG, "17 pairs");
	/* A value of QS_VAL_MAX - 1 bytes fits, one more does not. */
	memset(s, 'v', sizeof(s));
	memcpy(s, "a=", 2);
	s[2 + QS_VAL_MAX - 1] = 0;
	EXPECT_EQ(parse(s, &q, why), 0, "longest value");
	EXPECT_EQ(strlen(qs_get(&q, "a")), QS_VAL_MAX - 1, "kept whole");
	s[2 + QS_VAL_MAX - 1] = 'v';
	s[2 + QS_VAL_MAX] = 0;
	EXPECT_EQ(parse(s, &q, why), -E2BIG, "value one byte too long");
	/* The whole string. */
	memset(s, 'a', QS_MAX_LEN + 1);
	EXPECT_EQ(qs_parse(s, QS_MAX_LEN + 1, &q, why, sizeof(why)), -E2BIG, "too long");
	/* A long key. */
	EXPECT_EQ(parse("abcdefghijklmnopq=1", &q, why), -E2BIG, "key too long");
}

static int filt(const char *s, struct web_filter *f, char *why)
{
	struct qs q;
	int err = parse(s, &q, why);

	return err ? err : web_filter_parse(&q, NOW, f, why, 256);
}

TEST(filters_defaults)
{
	struct web_filter f;
	char why[256];

	ASSERT_EQ(filt("", &f, why), 0, "no filters");
	EXPECT_EQ(f.until_ms, NOW + 1, "until now, included");
	EXPECT_EQ(f.since_ms, NOW + 1 - 3600 * 1000, "the last hour");
	EXPECT_EQ(f.step_ms, 30000, "an hour in 120 buckets of 30 s");
	EXPECT_TRUE(!f.window_given, "no window given");
	EXPECT_EQ(f.direction, -1, "any direction");
	EXPECT_EQ(f.protocol, -1, "any protocol");
	EXPECT_EQ(f.port, -1, "any port");
	EXPECT_EQ(f.addr[0], 0, "any address");
	EXPECT_EQ(f.limit, WEB_LIMIT_DEFAULT, "limit");
}

TEST(filters_values)
{
	struct web_filter f;
	char why[256];

	ASSERT_EQ(filt("last=15m&interface=b-a&direction=egress&protocol=UDP&port=53&limit=7&"
		       "sort=packets&by=direction",
		       &f, why),
		  0, why);
	EXPECT_EQ(f.until_ms - f.since_ms, 15 * 60 * 1000, "15 minutes");
	EXPECT_TRUE(f.window_given, "window given");
	EXPECT_STREQ(f.iface, "b-a", "interface");
	EXPECT_EQ(f.direction, 1, "egress");
	EXPECT_EQ(f.protocol, 17, "udp by name, any case");
	EXPECT_EQ(f.port, 53, "port");
	EXPECT_EQ(f.limit, 7, "limit");
	EXPECT_EQ(f.sort, SORT_PACKETS, "sort");
	EXPECT_EQ(f.group, GROUP_DIRECTION, "by");
	ASSERT_EQ(filt("since=1000&until=61000&step=10s&protocol=58", &f, why), 0, why);
	EXPECT_EQ(f.since_ms, 1000, "since");
	EXPECT_EQ(f.until_ms, 61000, "until");
	EXPECT_EQ(f.step_ms, 10000, "step");
	EXPECT_EQ(f.protocol, 58, "protocol by number");
	ASSERT_EQ(filt("addr=2001:2:0:0::1", &f, why), 0, why);
	EXPECT_STREQ(f.addr, "2001:2::1", "an IPv6 address as inet_ntop prints it");
	EXPECT_EQ(f.prefix, -1, "one address");
	ASSERT_EQ(filt("addr=198.18.3.77/22", &f, why), 0, why);
	EXPECT_STREQ(f.addr, "198.18.0.0", "the network's address");
	EXPECT_EQ(f.prefix, 22, "prefix");
	EXPECT_TRUE(web_net_contains(AF_INET, f.net, 22, "198.18.3.255"), "in /22");
	EXPECT_TRUE(!web_net_contains(AF_INET, f.net, 22, "198.18.4.0"), "beyond /22");
	EXPECT_TRUE(!web_net_contains(AF_INET, f.net, 22, "2001:2::1"), "another family");
	EXPECT_TRUE(!web_net_contains(AF_INET, f.net, 22, "garbage"), "not an address");
	ASSERT_EQ(filt("addr=2001:2::/48", &f, why), 0, why);
	EXPECT_TRUE(web_net_contains(AF_INET6, f.net, 48, "2001:2:0:1::2"), "in /48");
	EXPECT_TRUE(!web_net_contains(AF_INET6, f.net, 48, "2001:3::1"), "beyond /48");
	ASSERT_EQ(filt("addr=0.0.0.0/0", &f, why), 0, why);
	EXPECT_TRUE(web_net_contains(AF_INET, f.net, 0, "203.0.113.9"), "/0 holds all");
}

TEST(filters_refused)
{
	static const char *const bad[] = {
		"nope=1",
		"last=0",
		"last=15x",
		"last=99999d",
		"since=10&until=5",
		"since=1&last=1h",
		"since=-1",
		"until=abc",
		"step=1s&last=24h",
		"direction=sideways",
		"protocol=nosuch",
		"protocol=256",
		"addr=198.18.0.300",
		"addr=198.18.0.0/33",
		"addr=2001:2::/129",
		"addr=' OR 1=1 --",
		"addr=198.18.0.1/",
		"port=65536",
		"port=-1",
		"port=1e3",
		"limit=0",
		"limit=1001",
		"sort=name",
		"by=port",
		"interface=",
		"interface=abcdefghijklmnopqrstuvwxyz0123456789",
	};
	struct web_filter f;
	char why[256];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why[0] = 0;
		EXPECT_EQ(filt(bad[i], &f, why), -EINVAL, bad[i]);
		EXPECT_TRUE(why[0], bad[i]);
	}
}

TEST(json_strings_escaped)
{
	struct buf b = { 0 };

	buf_json_str(&b, "a\"b\\c\n\x01<script>&\xff\xc3\xa9");
	EXPECT_STREQ(b.p, "\"a\\\"b\\\\c\\u000a\\u0001\\u003cscript\\u003e\\u0026\\ufffd\xc3\xa9\"",
		     "quotes, controls, <>&, a bad byte, UTF-8 kept");
	b.len = 0;
	buf_html(&b, "<a href='x'>&\"");
	EXPECT_STREQ(b.p, "&lt;a href=&#39;x&#39;&gt;&amp;&quot;", "HTML");
	b.len = 0;
	buf_json_dbl(&b, 1.0 / 0.0);
	EXPECT_STREQ(b.p, "null", "infinity is null");
	buf_free(&b);
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

static int api(struct web_db *w, const char *name, const char *query, struct buf *out)
{
	struct web_filter f;
	char why[256];

	out->len = 0;
	if (filt(query, &f, why)) {
		TL_FAIL("%s: %s", query, why);
		return -1;
	}
	return web_api(w, name, &f, NOW, out);
}

#define FIXTURE_WINDOW "since=1796212000000&until=1796213000000"

TEST(api_on_schema_v1)
{
	struct web_db w = { .path = fixture_v1(), .query_ms = 2000 };
	struct buf b = { 0 };

	EXPECT_EQ(api(&w, "talkers", FIXTURE_WINDOW, &b), 200, b.p);
	EXPECT_TRUE(b.p && strstr(b.p, "{\"addr\":\"198.18.0.1\",\"packets\":3156,\"bytes\":510464,"
				       "\"flows\":32}"),
		    "top source, as sum(packets) and sum(bytes) of the fixture");
	EXPECT_EQ(w.version, 1, "schema version 1");
	EXPECT_EQ(api(&w, "overview", FIXTURE_WINDOW "&step=100s", &b), 200, b.p);
	EXPECT_TRUE(
		b.p && strstr(b.p, "\"totals\":{\"flows\":33,\"packets\":3159,\"bytes\":510818,"),
		"totals");
	EXPECT_EQ(api(&w, "flows", FIXTURE_WINDOW "&protocol=icmp", &b), 200, b.p);
	EXPECT_TRUE(b.p && strstr(b.p, "\"protocol_name\":\"icmp\""), "icmp only");
	EXPECT_TRUE(b.p && !strstr(b.p, "\"udp\""), "no udp");
	EXPECT_EQ(api(&w, "host", FIXTURE_WINDOW "&addr=198.18.0.0/24", &b), 200, b.p);
	EXPECT_EQ(api(&w, "host", FIXTURE_WINDOW, &b), 400, "host needs addr");
	EXPECT_EQ(api(&w, "devices", "", &b), 200, b.p);
	EXPECT_EQ(api(&w, "health", FIXTURE_WINDOW, &b), 200, b.p);
	EXPECT_EQ(api(&w, "runs", FIXTURE_WINDOW, &b), 200, b.p);
	EXPECT_TRUE(b.p && strstr(b.p, "\"seen_packets\":3159,\"stored_packets\":3159"),
		    "reconciled: packets_processed == sum(flows.packets)");
	EXPECT_EQ(api(&w, "info", "", &b), 200, b.p);
	EXPECT_EQ(api(&w, "nosuch", "", &b), 404, "unknown endpoint");
	/* A value that looks like SQL is only ever a bound value. */
	EXPECT_EQ(api(&w, "talkers", FIXTURE_WINDOW "&interface='%20OR%20'1'='1", &b), 200, b.p);
	EXPECT_TRUE(b.p && strstr(b.p, "\"sent\":[]"), "no interface of that name");
	web_db_close(&w);
	buf_free(&b);
}

TEST(api_bad_files)
{
	char dir[] = "/tmp/fm-test-web-XXXXXX", path[64];
	struct web_db w = { .path = path, .query_ms = 2000 };
	struct buf b = { 0 };
	sqlite3 *db;
	FILE *f;

	ASSERT_TRUE(mkdtemp(dir), "temp dir");
	snprintf(path, sizeof(path), "%s/missing.db", dir);
	EXPECT_EQ(api(&w, "overview", "", &b), 503, "missing");
	EXPECT_TRUE(b.p && strstr(b.p, "no such database"), b.p);

	snprintf(path, sizeof(path), "%s/text.db", dir);
	f = fopen(path, "w");
	ASSERT_TRUE(f, "text file");
	fputs("this is not a database, but long enough to look like a header..........\n", f);
	fclose(f);
	EXPECT_EQ(api(&w, "overview", "", &b), 503, "not SQLite");
	EXPECT_TRUE(b.p && strstr(b.p, "not a flowmaster database"), b.p);

	snprintf(path, sizeof(path), "%s/other.db", dir);
	ASSERT_EQ(sqlite3_open(path, &db), SQLITE_OK, "other app's db");
	sqlite3_exec(db, "CREATE TABLE notes(x)", NULL, NULL, NULL);
	sqlite3_close(db);
	EXPECT_EQ(api(&w, "talkers", "", &b), 503, "another application's database");
	EXPECT_TRUE(b.p && strstr(b.p, "not a flowmaster database"), b.p);

	snprintf(path, sizeof(path), "%s/empty.db", dir);
	f = fopen(path, "w");
	ASSERT_TRUE(f, "empty file");
	fclose(f);
	EXPECT_EQ(api(&w, "health", "", &b), 503, "empty file");

	/* Now it appears: the next request reads it. */
	unlink(path);
	ASSERT_EQ(sqlite3_open(path, &db), SQLITE_OK, "flows table");
	sqlite3_exec(db,
		     "CREATE TABLE flows(id INTEGER PRIMARY KEY, interface_id INTEGER,"
		     " direction TEXT, first_seen_ms INTEGER, last_seen_ms INTEGER, src_mac TEXT,"
		     " dst_mac TEXT, vlan_id INTEGER, eth_type INTEGER, src_ip TEXT, dst_ip TEXT,"
		     " src_port INTEGER, dst_port INTEGER, protocol INTEGER, icmp_type INTEGER,"
		     " icmp_code INTEGER, tcp_flags INTEGER, packets INTEGER, bytes INTEGER,"
		     " end_reason TEXT, src_device_id INTEGER, dst_device_id INTEGER);"
		     "CREATE TABLE interfaces(id INTEGER PRIMARY KEY, name TEXT);",
		     NULL, NULL, NULL);
	sqlite3_close(db);
	EXPECT_EQ(api(&w, "talkers", "", &b), 200, b.p);
	EXPECT_TRUE(b.p && strstr(b.p, "\"sent\":[],\n\"received\":[]"), "empty lists");
	/* A table it lacks is an error answer, not a crash. */
	EXPECT_EQ(api(&w, "devices", "", &b), 500, "no devices table");
	EXPECT_TRUE(b.p && strstr(b.p, "no such table: devices"), b.p);
	web_db_close(&w);
	buf_free(&b);
	unlink(path);
	snprintf(path, sizeof(path), "%s/other.db", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/text.db", dir);
	unlink(path);
	rmdir(dir);
}

/* A query past its time bound is stopped and answered 503. */
TEST(api_query_time_bound)
{
	char dir[] = "/tmp/fm-test-web-XXXXXX", path[64];
	struct web_db w = { .path = path, .query_ms = 0 };
	struct buf b = { 0 };
	sqlite3 *db;

	ASSERT_TRUE(mkdtemp(dir), "temp dir");
	snprintf(path, sizeof(path), "%s/big.db", dir);
	ASSERT_EQ(sqlite3_open(path, &db), SQLITE_OK, "db");
	ASSERT_EQ(
		sqlite3_exec(db,
			     "CREATE TABLE interfaces(id INTEGER PRIMARY KEY, name TEXT);"
			     "CREATE TABLE flows(id INTEGER PRIMARY KEY, interface_id INTEGER,"
			     " direction TEXT, first_seen_ms INTEGER, last_seen_ms INTEGER,"
			     " src_mac TEXT, dst_mac TEXT, vlan_id INTEGER, eth_type INTEGER,"
			     " src_ip TEXT, dst_ip TEXT, src_port INTEGER, dst_port INTEGER,"
			     " protocol INTEGER, icmp_type INTEGER, icmp_code INTEGER,"
			     " tcp_flags INTEGER, packets INTEGER, bytes INTEGER, end_reason TEXT,"
			     " src_device_id INTEGER, dst_device_id INTEGER);"
			     "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n"
			     " WHERE i < 20000) INSERT INTO flows(first_seen_ms, src_ip, dst_ip,"
			     " packets, bytes) SELECT 1796212600000 + i, '198.18.' || (i % 250)"
			     " || '.' || (i / 250 % 250), '198.19.0.1', 1, 100 FROM n;",
			     NULL, NULL, NULL),
		SQLITE_OK, "20k rows");
	sqlite3_close(db);
	EXPECT_EQ(api(&w, "talkers", FIXTURE_WINDOW, &b), 503, "stopped");
	EXPECT_TRUE(b.p && strstr(b.p, "longer than 0 ms"), b.p);
	EXPECT_TRUE(b.p && !strncmp(b.p, "{\"error\":\"", 10) && !strcmp(b.p + b.len - 3, "\"}\n"),
		    "the whole answer is the error, nothing after it");
	w.query_ms = 60000;
	EXPECT_EQ(api(&w, "talkers", FIXTURE_WINDOW "&limit=1", &b), 200, "with time it answers");
	web_db_close(&w);
	buf_free(&b);
	unlink(path);
	rmdir(dir);
}

TESTLIB_MAIN("unit-web")
