// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <inttypes.h>
#include <string.h>
#include <sys/resource.h>
#include "lib/log.h"
#include "daemon/metrics.h"
#include "daemon/prom.h"
#include "daemon/sizing.h"

static void sum_counters(struct loader *l, struct fm_counters *tot)
{
	struct fm_counters c;

	memset(tot, 0, sizeof(*tot));
	for (__u32 slot = 0; slot <= FM_MAX_IFACES; slot++)
		for (int dir = 0; dir < 2; dir++) {
			if (loader_read_counters_dir(l, slot, dir, &c))
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
	struct daemon *dm = s->dm;
	struct drain *d = &dm->d;
	struct fm_counters c;
	struct store_stats st;
	double dt = (now_ms - m->last_ms) / 1000.0, cpu = cpu_seconds();
	size_t limit = flowtab_limit(dm->ft);
	uint64_t errors, held = dm->fan.staged;

	sum_counters(s->l, &c);
	if (s->st)
		store_get_stats(s->st, &st);
	else
		memset(&st, 0, sizeof(st)); /* --db none */
	if (dt <= 0)
		dt = 1e-3;
	errors = c.err_eth + c.err_vlan + c.err_ipv4 + c.err_ipv4_opts + c.err_ipv6 +
		 c.err_ipv6_ext + c.err_ext_chain + c.err_l4 + d->ring_invalid;

	const char *names[] = {
		"packets_processed",
		"packets_per_second",
		"bytes_per_second",
		"flows_stored",
		"active_flows",
		"batch_count",
		"average_batch_size",
		"current_batch_size",
		"average_batch_processing_ms",
		"pending_batches",
		"database_operations",
		"database_error_ratio",
		"validation_errors",
		"map_full_events",
		"ringbuf_events",
		"ringbuf_drops",
		"overflow_packets",
		"overflow_bytes",
		"map_fill_ratio",
		"drain_ms",
		"wal_size_mb",
		"memory_usage_mb",
		"cpu_usage_percent",
		"runtime_seconds",
		"staged_records",
		"queue_full_events",
		"cache_hit_ratio",
		"cache_size",
		"cache_capacity",
		"cache_evictions",
		"bpf_map_memory_mb",
		"memory_limit_mb",
		"memory_pressure_events",
		"flow_table_limit",
		"flow_table_fill_ratio",
		"unattributed_packets",
		"unattributed_bytes",
		"table_refused_deltas",
		"deferred_swaps",
		"pressure_exports",
		"retired_flows",
		"retired_metric_rows",
	};
	const double values[] = {
		c.packets,
		(c.packets - m->last_packets) / dt,
		(c.bytes - m->last_bytes) / dt,
		st.rows_written,
		flowtab_count(dm->ft),
		st.batches,
		st.avg_batch_size,
		st.current_batch_size,
		st.avg_batch_ms,
		st.current_batch_size ? (double)(st.pending + held) / st.current_batch_size : 0,
		st.db_ops,
		st.db_ops ? (double)st.db_errors / st.db_ops : 0,
		errors,
		c.map_full,
		c.ringbuf_packets + d->doorbells,
		c.ringbuf_drops,
		c.overflow_packets,
		c.overflow_bytes,
		s->l->max_flows ? (double)d->last_entries / s->l->max_flows : 0,
		dm->drain_ms,
		st.wal_size_mb,
		sizing_rss_mb(),
		(cpu - m->last_cpu_s) / dt * 100,
		(now_ms - s->start_ms) / 1000.0,
		held,
		st.queue_full,
		st.cache_hits + st.cache_misses ?
			(double)st.cache_hits / (st.cache_hits + st.cache_misses) :
			0,
		st.cache_size,
		st.cache_capacity,
		st.cache_evictions,
		loader_map_memory(s->l) / 1048576.0,
		s->memory_limit_mb,
		s->rss_events + dm->pressure_events,
		limit,
		limit ? (double)flowtab_count(dm->ft) / limit : 0,
		d->unattributed_packets,
		d->unattributed_bytes,
		d->table_refused,
		dm->deferred_swaps,
		dm->pressure_records,
		st.retired_flows,
		st.retired_metric_rows,
	};
	_Static_assert(sizeof(names) / sizeof(names[0]) == sizeof(values) / sizeof(values[0]),
		       "one value per metric");

	prom_set_metrics(s->prom, now_ms, names, values, sizeof(values) / sizeof(values[0]));
	if (s->st &&
	    store_submit_metrics(s->st, now_ms, names, values, sizeof(values) / sizeof(values[0])))
		pr_warn("metrics: writer queue full, this interval's metrics skipped\n");
	pr_info("%.0f pps, %.1f MB/s, %zu flows active, %" PRIu64 " records exported, %" PRIu64
		" rows written, fallbacks: %llu ring %llu overflow, %" PRIu64 " queued\n",
		values[1], values[2] / 1e6, flowtab_count(dm->ft), dm->records_exported,
		st.rows_written, (unsigned long long)c.ringbuf_packets,
		(unsigned long long)c.overflow_packets, st.pending + held);
	/* Overflow rows keep the totals exact but not who sent what: say so
	 * every interval it happens, with what to change. */
	if (d->unattributed_packets > m->last_unattributed_packets)
		pr_warn("%" PRIu64 " packets (%" PRIu64
			" bytes) in the last %.0f s are stored without their flow (end_reason 'overflow'): %s\n",
			d->unattributed_packets - m->last_unattributed_packets,
			d->unattributed_bytes - m->last_unattributed_bytes, dt,
			d->folded_packets ?
				"the flow table and the sinks were full; raise --memory-limit, or make the database faster" :
				"the flow map and the ring buffer were both full; raise --max-flows or --ringbuf-size, or lower --poll-interval");
	m->last_unattributed_packets = d->unattributed_packets;
	m->last_unattributed_bytes = d->unattributed_bytes;
	m->last_packets = c.packets;
	m->last_bytes = c.bytes;
	m->last_cpu_s = cpu;
	m->last_ms = now_ms;
}
