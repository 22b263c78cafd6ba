// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * web_db: make a flowmaster database of N flow rows for the web view's
 * benchmark (tools/bench/web.sh): the schema as `run` makes it
 * (store_open), one interface, then, in SQL, N flows over the last 24 h
 * (one every 86400000/N ms, each lasting up to a minute; 5000 sources in
 * 198.18.0.0/15 to 500 servers in 198.19.0.0/16; 70% TCP, 25% UDP, 5%
 * ICMP), the devices those imply, and every metric each 10 s of the 24 h.
 *
 * Usage: web_db PATH [FLOWS]   (default 1000000; PATH must not exist)
 */
#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "lib/clock.h"
#include "lib/log.h"
#include "store/store.h"

static int exec(sqlite3 *db, const char *sql)
{
	char *err = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK) {
		fprintf(stderr, "web_db: %s\n  in: %.200s\n", err ? err : "?", sql);
		sqlite3_free(err);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct store_opts o = { 0 };
	struct store *s;
	sqlite3 *db;
	char sql[4096];
	long long flows = argc > 2 ? atoll(argv[2]) : 1000000;
	long long now = now_ms(), t0 = now - 86400000LL;
	int64_t start = mono_ms();

	if (argc < 2 || flows < 1) {
		fprintf(stderr, "usage: web_db PATH [FLOWS]\n");
		return 2;
	}
	if (!access(argv[1], F_OK)) {
		fprintf(stderr, "web_db: %s exists\n", argv[1]);
		return 1;
	}
	o.path = argv[1];
	if (store_open(&s, &o) ||
	    store_interface_attach(s, "eth-bench", 2, "02:00:00:00:00:01", "native", t0) ||
	    store_close(s, NULL))
		return 1;
	if (sqlite3_open(argv[1], &db) != SQLITE_OK)
		return 1;
	snprintf(sql, sizeof(sql),
		 "PRAGMA synchronous = OFF; BEGIN;"
		 "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < %lld)"
		 " INSERT INTO flows(interface_id, direction, first_seen_ms, last_seen_ms,"
		 " src_mac, dst_mac, eth_type, src_ip, dst_ip, src_port, dst_port, protocol,"
		 " icmp_type, icmp_code, tcp_flags, packets, bytes, ip_bytes, end_reason)"
		 " SELECT 1, 'ingress', %lld + i * 86400000 / %lld,"
		 " %lld + i * 86400000 / %lld + (i * 7919 %% 60000),"
		 " '02:00:00:00:00:02', '02:00:00:00:00:01', 2048,"
		 " '198.18.' || (i * 31 %% 5000 / 250) || '.' || (i * 31 %% 5000 %% 250 + 1),"
		 " '198.19.' || (i * 17 %% 500 / 250) || '.' || (i * 17 %% 500 %% 250 + 1),"
		 " CASE WHEN i %% 20 = 0 THEN 0 ELSE 1024 + i * 13 %% 60000 END,"
		 " CASE WHEN i %% 20 = 0 THEN 0 WHEN i %% 4 = 1 THEN 53 ELSE 443 END,"
		 " CASE WHEN i %% 20 = 0 THEN 1 WHEN i %% 4 = 1 THEN 17 ELSE 6 END,"
		 " CASE WHEN i %% 20 = 0 THEN 8 END, CASE WHEN i %% 20 = 0 THEN 0 END,"
		 " CASE WHEN i %% 20 = 0 OR i %% 4 = 1 THEN NULL ELSE 27 END,"
		 " 1 + i * 37 %% 200, (1 + i * 37 %% 200) * (64 + i %% 1400),"
		 " (1 + i * 37 %% 200) * (50 + i %% 1400), 'idle' FROM n;"
		 "INSERT INTO devices(interface_id, mac, ip, first_seen_ms, last_seen_ms,"
		 " packets_sent, bytes_sent, packets_received, bytes_received)"
		 " SELECT 1, '02:00:00:00:00:02', src_ip, min(first_seen_ms), max(last_seen_ms),"
		 " sum(packets), sum(bytes), 0, 0 FROM flows GROUP BY src_ip;"
		 "INSERT INTO devices(interface_id, mac, ip, first_seen_ms, last_seen_ms,"
		 " packets_sent, bytes_sent, packets_received, bytes_received)"
		 " SELECT 1, '02:00:00:00:00:01', dst_ip, min(first_seen_ms), max(last_seen_ms),"
		 " 0, 0, sum(packets), sum(bytes) FROM flows GROUP BY dst_ip;"
		 "WITH RECURSIVE t(ts) AS (SELECT %lld UNION ALL SELECT ts + 10000 FROM t"
		 " WHERE ts < %lld), names(name) AS (VALUES ('packets_processed'),"
		 " ('packets_per_second'), ('bytes_per_second'), ('active_flows'),"
		 " ('flows_stored'), ('average_batch_size'), ('current_batch_size'),"
		 " ('average_batch_processing_ms'), ('pending_batches'), ('cache_hit_ratio'),"
		 " ('map_fill_ratio'), ('map_full_events'), ('ringbuf_events'),"
		 " ('ringbuf_drops'), ('overflow_packets'), ('unattributed_packets'),"
		 " ('validation_errors'), ('database_error_ratio'), ('memory_usage_mb'),"
		 " ('cpu_usage_percent'), ('wal_size_mb'), ('drain_ms'))"
		 " INSERT INTO metrics(ts_ms, name, value, run_id)"
		 " SELECT ts, name, (ts / 10000 %% 97) * 1.5, 1 FROM t, names;"
		 "COMMIT;",
		 flows - 1, t0, flows, t0, flows, t0, now);
	if (exec(db, sql))
		return 1;
	sqlite3_close(db);
	printf("web_db: %s: %lld flows in %.1f s\n", argv[1], flows, (mono_ms() - start) / 1000.0);
	return 0;
}
