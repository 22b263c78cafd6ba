// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <inttypes.h>
#include <string.h>
#include <sys/resource.h>
#include "lib/log.h"
#include "daemon/metrics.h"
#include "daemon/sizing.h"

static void sum_counters(struct loader *l, struct fm_counters *tot)
{
	struct fm_counters c;

	memset(tot, 0, sizeof(*tot));
	for (__u32 slot = 0; slot <= FM_MAX_IFACES; slot++) {
		if (loader_read_counters(l, slot, &c))
			continue;
		fm_counters_add(tot, &c);
	}
}

static double cpu_seconds(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
	       (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

void metrics_write(struct metrics *m, const struct metrics_src *s, int64_t now_ms)
{
	struct fm_counters c;
	struct store_stats st;
	double dt = (now_ms - m->last_ms) / 1000.0, cpu = cpu_seconds();
	uint64_t errors;

	sum_counters(s->l, &c);
	store_get_stats(s->st, &st);
	if (dt <= 0)
		dt = 1e-3;
	errors = c.err_eth + c.err_vlan + c.err_ipv4 + c.err_ipv4_opts + c.err_ipv6 +
		 c.err_ipv6_ext + c.err_ext_chain + c.err_l4 + s->d->ring_invalid;

	const char *names[] = {
		"packets_processed", "packets_per_second", "bytes_per_second", "flows_stored",
		"active_flows", "batch_count", "average_batch_size", "current_batch_size",
		"average_batch_processing_ms", "pending_batches", "database_operations",
		"database_error_ratio", "validation_errors", "map_full_events", "ringbuf_events",
		"ringbuf_drops", "overflow_packets", "overflow_bytes", "map_fill_ratio", "drain_ms",
		"wal_size_mb", "memory_usage_mb", "cpu_usage_percent", "runtime_seconds",
		"backlog_records", "queue_full_events", "cache_hit_ratio", "cache_size",
		"cache_capacity", "cache_evictions", "bpf_map_memory_mb", "memory_limit_mb",
		"memory_pressure_events",
	};
	const double values[] = {
		c.packets,
		(c.packets - m->last_packets) / dt,
		(c.bytes - m->last_bytes) / dt,
		st.rows_written,
		flowtab_count(s->ft),
		st.batches,
		st.avg_batch_size,
		st.current_batch_size,
		st.avg_batch_ms,
		st.current_batch_size ? (double)(st.pending + s->backlog) / st.current_batch_size : 0,
		st.db_ops,
		st.db_ops ? (double)st.db_errors / st.db_ops : 0,
		errors,
		c.map_full,
		c.ringbuf_packets + s->d->doorbells,
		c.ringbuf_drops,
		c.overflow_packets,
		c.overflow_bytes,
		s->l->max_flows ? (double)s->d->last_entries / s->l->max_flows : 0,
		s->drain_ms,
		st.wal_size_mb,
		sizing_rss_mb(),
		(cpu - m->last_cpu_s) / dt * 100,
		(now_ms - s->start_ms) / 1000.0,
		s->backlog,
		st.queue_full,
		st.cache_hits + st.cache_misses ?
			(double)st.cache_hits / (st.cache_hits + st.cache_misses) : 0,
		st.cache_size,
		st.cache_capacity,
		st.cache_evictions,
		loader_map_memory(s->l) / 1048576.0,
		s->memory_limit_mb,
		s->pressure_events,
	};
	_Static_assert(sizeof(names) / sizeof(names[0]) == sizeof(values) / sizeof(values[0]),
		       "one value per metric");

	if (store_submit_metrics(s->st, now_ms, names, values, sizeof(values) / sizeof(values[0])))
		pr_warn("metrics: writer queue full, this interval's metrics skipped\n");
	pr_info("%.0f pps, %.1f MB/s, %" PRIu64 " flows active, %" PRIu64
		" records exported, %" PRIu64 " rows written, fallbacks: %llu ring %llu overflow, %" PRIu64
		" queued\n",
		values[1], values[2] / 1e6, (uint64_t)flowtab_count(s->ft), s->records_exported,
		st.rows_written, (unsigned long long)c.ringbuf_packets,
		(unsigned long long)c.overflow_packets, st.pending + s->backlog);
	/* Overflow rows keep the totals exact but not who sent what: say so
	 * every interval it happens, with what to change. */
	if (c.overflow_packets > m->last_overflow_packets)
		pr_warn("%llu packets (%llu bytes) in the last %.0f s are stored without their flow (end_reason 'overflow'): the flow map and the ring buffer were both full; raise --max-flows or --ringbuf-size, or lower --poll-interval\n",
			(unsigned long long)(c.overflow_packets - m->last_overflow_packets),
			(unsigned long long)(c.overflow_bytes - m->last_overflow_bytes), dt);
	m->last_overflow_packets = c.overflow_packets;
	m->last_overflow_bytes = c.overflow_bytes;
	m->last_packets = c.packets;
	m->last_bytes = c.bytes;
	m->last_cpu_s = cpu;
	m->last_ms = now_ms;
}
