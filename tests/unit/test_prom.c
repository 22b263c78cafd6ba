// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* --metrics-listen: address parsing and the text the snapshot renders. */
#include "../testlib.h"
#include <arpa/inet.h>
#include "daemon/prom.h"
#include "lib/hostport.h"

TESTLIB_MAIN("prom")

static const char *addr_of(const char *s)
{
	static char out[INET6_ADDRSTRLEN + 16];
	struct sockaddr_storage ss;
	socklen_t len;
	char a[INET6_ADDRSTRLEN];

	if (hostport_parse(s, "127.0.0.1", &ss, &len))
		return "invalid";
	if (ss.ss_family == AF_INET6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		inet_ntop(AF_INET6, &s6->sin6_addr, a, sizeof(a));
		snprintf(out, sizeof(out), "[%s]:%u/%u", a, ntohs(s6->sin6_port), len);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		inet_ntop(AF_INET, &s4->sin_addr, a, sizeof(a));
		snprintf(out, sizeof(out), "%s:%u/%u", a, ntohs(s4->sin_port), len);
	}
	return out;
}

TEST(hostport_forms)
{
	EXPECT_STREQ(addr_of("9464"), "127.0.0.1:9464/16", "bare port");
	EXPECT_STREQ(addr_of(":9464"), "127.0.0.1:9464/16", ":port");
	EXPECT_STREQ(addr_of("0.0.0.0:80"), "0.0.0.0:80/16", "any address");
	EXPECT_STREQ(addr_of("[::1]:9464"), "[::1]:9464/28", "IPv6");
	EXPECT_STREQ(addr_of("[2001:2::1]:1"), "[2001:2::1]:1/28", "IPv6, port 1");
	EXPECT_STREQ(addr_of("127.0.0.1:65535"), "127.0.0.1:65535/16", "largest port");
}

TEST(hostport_refuses)
{
	const char *bad[] = { "",
			      ":",
			      "127.0.0.1:",
			      "127.0.0.1:0",
			      "1:65536",
			      "host:80",
			      "::1:80",
			      "[::1]80",
			      "[::1]:",
			      "1.2.3:80",
			      "127.0.0.1:-1",
			      "127.0.0.1:+80",
			      "127.0.0.1:8x",
			      "[1.2.3.4]:80" };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		EXPECT_STREQ(addr_of(bad[i]), "invalid", bad[i]);
}

TEST(render_metrics_table)
{
	struct prom *p = prom_new();
	const char *names[] = { "packets_processed", "drain_ms", "memory_usage_mb",
				"some_new-metric" };
	const double values[] = { 42, 12.5, 2, 7 };
	size_t len;
	char *t;

	ASSERT_TRUE(p, "prom_new");
	prom_set_metrics(p, 1000, names, values, 4);
	t = prom_render(p, &len);
	ASSERT_TRUE(t, "rendered");
	EXPECT_EQ(strlen(t), len, "length");
	EXPECT_TRUE(strstr(t, "# TYPE flowmaster_packets_processed_total counter\n"
			      "flowmaster_packets_processed_total 42\n"),
		    "a counter, _total");
	EXPECT_TRUE(strstr(t, "# TYPE flowmaster_drain_seconds gauge\nflowmaster_drain_seconds "
			      "0.012500000000000001\n"),
		    "ms to seconds");
	EXPECT_TRUE(strstr(t, "flowmaster_memory_usage_bytes 2097152\n"), "MiB to bytes");
	EXPECT_TRUE(strstr(t, "# TYPE flowmaster_some_new_metric gauge\n"
			      "flowmaster_some_new_metric 7\n"),
		    "an unknown name: a gauge, sanitized");
	EXPECT_TRUE(strstr(t, "# HELP flowmaster_drain_seconds Time of the last swap and drain "
			      "(metrics table: drain_ms)\n"),
		    "help names the table's metric");
	EXPECT_TRUE(strstr(t, "flowmaster_scrapes_total 1\n"), "first scrape");
	EXPECT_TRUE(!strstr(t, "kernel_packets"), "no kernel counters before a daemon snapshot");
	free(t);
	prom_stop(p);
}
