/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The SQLite writer: a bounded queue in front of one thread that owns the
 * database connection and writes flow records and metric rows in adaptive
 * batches, one transaction each. The schema (version 2) is described in
 * DESIGN.md and the README; store_open creates it, migrates a version 1
 * file in place, or refuses a newer one.
 *
 * Life cycle: store_open, store_interface_attach for each interface,
 * store_start, then store_submit / store_submit_metrics /
 * store_interface_detach / store_set_cache_capacity / store_get_stats from
 * any thread, store_close. int functions return 0 or a negative errno and
 * log the cause.
 *
 * Devices: the writer resolves the source and destination device of each
 * flow record, an (interface, MAC, IP) row of `devices`, through an LRU
 * cache that it alone uses, and adds the record's packets and bytes to the
 * devices' sent and received totals in the same transaction as the flow
 * rows: at every commit, the devices totals match the committed flows.
 */
#ifndef FM_STORE_H
#define FM_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "table/record.h"

#define STORE_METRIC_NAME_MAX 64  /* bytes of a metric name, NUL included */
#define STORE_CACHE_DEFAULT 65536 /* device cache entries when cache_size is 0 */
/* store_set_cache_capacity never goes below this (or below cache_size if
 * that was set smaller): a /22 of hosts stays cached under pressure, and
 * the entries cost only ~120 KiB. */
#define STORE_CACHE_FLOOR 1024

struct store;

/* Zero in a numeric field means "the default" given in its comment. */
struct store_opts {
	const char *path;	      /* database file, created if missing */
	bool index_addresses;	      /* also index flows(src_ip) and flows(dst_ip) */
	unsigned target_commit_ms;    /* batch size adapts to keep a commit near this (100) */
	unsigned max_delay_ms;	      /* a queued record waits at most about this long (5000) */
	size_t queue_records;	      /* flow records the queue holds (262144) */
	unsigned checkpoint_every_ms; /* passive WAL checkpoint interval (10000) */
	size_t cache_size;	      /* device cache entries (STORE_CACHE_DEFAULT) */
	size_t page_cache_kib;	      /* SQLite's page cache (65536) */
	/* This process's runs row, whose id stamps its metrics and interfaces
	 * rows (tells two daemons on one file apart): */
	const char *command; /* runs.command: "run", "replay", "collect" (NULL: "run") */
	const char *args;    /* runs.args: the command line as given (NULL: none); copied */
	/* Delete flows and metrics older than this, in small chunks, moving
	 * the flows' totals to `retired` (retention.c). 0: keep everything. */
	int64_t retention_ms;
};

struct store_stats {
	uint64_t rows_written;	      /* flow rows committed */
	uint64_t metric_rows_written; /* metric rows committed */
	uint64_t batches;	      /* transactions committed */
	uint64_t db_ops;	      /* transactions attempted */
	uint64_t db_errors;	      /* transactions that failed (their rows stay queued) */
	uint64_t queue_full;	      /* submits refused with -EAGAIN */
	uint64_t pending;	      /* flow records queued, not yet committed */
	uint64_t pending_metrics;     /* metric rows queued, not yet committed */
	uint64_t checkpoints;	      /* periodic WAL checkpoints run */
	unsigned current_batch_size;  /* flow records the next transaction may take */
	double avg_batch_size;	      /* flow rows per committed transaction */
	double avg_batch_ms;	      /* mean transaction time, BEGIN to COMMIT */
	double last_batch_ms;	      /* time of the last committed transaction */
	double wal_size_mb;	      /* size of the -wal file after the last commit */
	/* Device cache; cache_hit_ratio = hits / (hits + misses). */
	uint64_t cache_hits;	  /* device lookups served by the cache */
	uint64_t cache_misses;	  /* ... resolved by an upsert in the batch */
	uint64_t cache_evictions; /* entries evicted for room or by a shrink */
	uint64_t cache_size;	  /* entries held */
	uint64_t cache_capacity;  /* entries it may hold, as now in effect */
	uint64_t devices_written; /* devices totals updates committed */
	/* --retention (retention.c): */
	uint64_t retired_flows;	      /* flow rows deleted, their totals kept in `retired` */
	uint64_t retired_metric_rows; /* metric rows deleted */
	uint64_t vacuumed_pages;      /* pages given back by incremental_vacuum */
};

/*
 * Open (creating if needed) the database, set WAL mode, create or migrate
 * the schema, prepare statements, and add this process's runs row. Safe
 * when several processes open one new file at once (each waits for the
 * other, up to the busy timeout). Returns 0 and *out, or -EPROTO when the
 * database has a newer schema version, -EINVAL for bad opts, a file that
 * is not a database, or another application's database (tables but no
 * flowmaster schema), or another -errno; the cause is logged. A file it
 * created is removed again when it fails before writing anything to it
 * (e.g. a full disk).
 */
int store_open(struct store **out, const struct store_opts *opts);

/*
 * Record an attached interface (an interfaces row, written now) and map
 * ifindex to it for flows.interface_id; a later attach of the same ifindex
 * wins. mac and xdp_mode may be NULL. After store_start (an interface that
 * came back, or appeared late) the writer records it before it takes any
 * record submitted after this returns.
 */
int store_interface_attach(struct store *s, const char *name, int ifindex, const char *mac,
			   const char *xdp_mode, int64_t attached_ms);

/*
 * Set interfaces.detached_ms of the interface last attached with ifindex,
 * in the writer's next transaction. Any thread, any time; -ENOENT if the
 * ifindex was never attached.
 */
int store_interface_detach(struct store *s, int ifindex, int64_t detached_ms);

/* Start the writer thread; from now on it alone uses the connection. */
int store_start(struct store *s);

/*
 * Queue n flow records, all or none. Returns 0, -EAGAIN when the queue
 * lacks room (counted in queue_full: keep the records and retry), or
 * -E2BIG when n exceeds the queue capacity (submit fewer at a time).
 */
int store_submit(struct store *s, const struct fm_record *recs, size_t n);

/*
 * Queue n metric rows (ts_ms, names[i], values[i]), all or none, with the
 * same -EAGAIN / -E2BIG rules; -EINVAL for a name of STORE_METRIC_NAME_MAX
 * bytes or more.
 */
int store_submit_metrics(struct store *s, int64_t ts_ms, const char *const *names,
			 const double *values, size_t n);

/*
 * Set the device cache capacity in entries, e.g. halve it under memory
 * pressure and restore it later; any thread. Clamped up to
 * STORE_CACHE_FLOOR (or to opts.cache_size when that is smaller). The
 * writer applies it between transactions: shrinking evicts the least
 * recently used devices (no totals are pending between transactions, so
 * nothing is lost) and frees their memory. Returns 0, or -EINVAL for 0 or
 * more than the cache can index.
 */
int store_set_cache_capacity(struct store *s, size_t entries);

/* Memory one device cache entry costs when in use, to size cache_size
 * from a memory budget. */
size_t store_cache_entry_bytes(void);

/* Ask the writer to commit what is queued now, not at its batching
 * deadline (e.g. before a stop). Any thread; returns at once. */
void store_flush(struct store *s);

/* The store as a sink (sink/sink.h) for the fan-out: room is the free
 * part of its queue, take is store_submit. */
struct sink;
void store_sink_init(struct sink *k, struct store *s);

/* A MAC as the flows and devices tables hold it: "02:00:00:00:00:aa". */
void store_fmt_mac(char out[18], const uint8_t *m);

/* An address as the flows and devices tables hold it, as inet_ntop prints
 * it: the IPv4 address in the last 4 bytes of addr (ip4), or the IPv6
 * address addr. out has room for INET6_ADDRSTRLEN (46) bytes. Returns the
 * length. */
size_t store_fmt_addr(char out[46], const uint8_t addr[16], bool ip4);

/* The flows INSERT the writer prepares (24 parameters, in column order);
 * the benches' raw loop runs the same statement. */
extern const char store_insert_flow_sql[];

/* A consistent snapshot of the counters; any thread. */
void store_get_stats(struct store *s, struct store_stats *st);

/*
 * Write everything queued (retrying failed transactions a few times), run a
 * last checkpoint, stop the writer and close. *unwritten (may be NULL)
 * receives the flow records that could not be written; the return value is
 * 0 if none, else the -errno of the last failure. Frees s; NULL is a no-op.
 */
int store_close(struct store *s, uint64_t *unwritten);

#endif
