/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The daemon's flow table. The drain merges the deltas it reads from a
 * kernel generation into it (flowtab_add); flowtab_expire exports a flow
 * record when a flow ends, NetFlow/IPFIX style:
 *
 *  - TCP end: a TCP flow (key.protocol 6) that has seen FIN or RST ends
 *    tcp_linger_ms after the delta that first brought one (its last_ms), so
 *    the last ACKs still belong to it; packets after that start a new flow.
 *  - idle: no packet for idle_ms (now - last_seen >= idle_ms).
 *  - active: the record has been open for active_ms (now - first_seen >=
 *    active_ms). Its counts so far are exported and the flow goes on in a
 *    new record whose first_seen is its first packet after the export.
 *
 * When several apply at once the first in that order wins. A record is
 * never exported with zero packets, and for every key the packets (and
 * bytes) of all records exported equal those added: nothing is lost or
 * counted twice, also when an emit callback refuses a record.
 *
 * Not thread safe: one thread (the drain) owns a table. An emit callback
 * must not call back into the table it is called from. int and long
 * functions return a negative errno on failure.
 */
#ifndef FM_FLOWTAB_H
#define FM_FLOWTAB_H

#include <stddef.h>
#include <stdint.h>
#include "table/record.h"

/* NetFlow v9 / IPFIX exporters' customary defaults (softflowd, nProbe, Cisco). */
#define FLOWTAB_IDLE_MS_DEFAULT 15000
#define FLOWTAB_ACTIVE_MS_DEFAULT 60000
#define FLOWTAB_TCP_LINGER_MS_DEFAULT 2000

struct flowtab_timeouts {
	int64_t idle_ms;       /* export after this long without a packet */
	int64_t active_ms;     /* export a record open this long, flow goes on */
	int64_t tcp_linger_ms; /* export this long after the first FIN/RST */
};

#define FLOWTAB_TIMEOUTS_DEFAULT                                                                   \
	{                                                                                          \
		.idle_ms = FLOWTAB_IDLE_MS_DEFAULT, .active_ms = FLOWTAB_ACTIVE_MS_DEFAULT,        \
		.tcp_linger_ms = FLOWTAB_TCP_LINGER_MS_DEFAULT,                                    \
	}

/*
 * Takes one record (copied by the callee if it keeps it). Returns 0 when it
 * took it, or a negative value to refuse it and stop the export (e.g.
 * -ENOBUFS when the writer queue is full): the refused flow stays in the
 * table, unchanged, for a later call.
 */
typedef int (*flowtab_emit_fn)(const struct fm_record *rec, void *ctx);

struct flowtab;

/*
 * A table sized for about capacity_hint flows without rehashing; it grows
 * past that as needed. Returns NULL with errno set (ENOMEM).
 */
struct flowtab *flowtab_new(size_t capacity_hint);
void flowtab_free(struct flowtab *t); /* NULL is fine; open flows are dropped */

/* What one drain read of a flow since the last: a delta of its counters. */
struct flowtab_delta {
	uint64_t packets;
	uint64_t bytes;
	uint64_t ip_bytes;
	int64_t first_ms; /* epoch ms */
	int64_t last_ms;
	uint8_t tcp_flags;
};

/*
 * Merges one delta of flow k: counts add, first_seen takes the minimum,
 * last_seen the maximum, TCP flags are ORed. A delta after an active export
 * opens the flow's next record. Returns 0, -EINVAL (packets == 0 or
 * first_ms > last_ms: not a delta the kernel makes), -ENOSPC (k is new and
 * the table holds its limit of flows) or -ENOMEM; the table is unchanged
 * on failure.
 */
int flowtab_add(struct flowtab *t, const struct fm_flow_key *k, const struct flowtab_delta *d);

/*
 * At most max flows (0: no limit, the default); flowtab_add refuses new
 * ones beyond it with -ENOSPC. A limit below the flows held only stops
 * new ones.
 */
void flowtab_set_limit(struct flowtab *t, size_t max);
size_t flowtab_limit(const struct flowtab *t);
/* Bytes of memory one flow costs at most, for sizing a limit from a
 * memory budget: its entry plus its share of the index while it grows. */
size_t flowtab_flow_bytes(void);

/*
 * Exports the flows due at now_ms (to == NULL: FLOWTAB_TIMEOUTS_DEFAULT)
 * and removes them, or restarts them after an active export. Entries left
 * with no packets after an active export are dropped silently when they go
 * idle or their TCP linger ends. Returns the number of records emitted,
 * -EINVAL for a negative timeout or a NULL emit, or the callback's negative
 * value when it refused a record (records emitted before it are gone from
 * the table, the refused one and the rest stay).
 */
long flowtab_expire(struct flowtab *t, int64_t now_ms, const struct flowtab_timeouts *to,
		    flowtab_emit_fn emit, void *ctx);

/*
 * Exports every flow with packets > 0 with end reason why (FM_END_SHUTDOWN
 * at exit, FM_END_PRESSURE) and empties the table. Returns as
 * flowtab_expire.
 */
long flowtab_flush(struct flowtab *t, enum fm_end_reason why, flowtab_emit_fn emit, void *ctx);

/*
 * Memory pressure: exports the n least recently updated flows (those whose
 * last delta came first) with end reason why and removes them. Entries
 * with no packets met on the way are dropped silently and not counted.
 * Returns as flowtab_expire.
 */
long flowtab_evict_oldest(struct flowtab *t, size_t n, enum fm_end_reason why, flowtab_emit_fn emit,
			  void *ctx);

/* Flows held, including those between two records after an active export. */
size_t flowtab_count(const struct flowtab *t);

#endif
