/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Move kernel counts into the userspace flow table: the idle generation by
 * batch lookup-and-delete, fallback packets from the ring buffer, and the
 * overflow counters as per-interval deltas.
 *
 * Whatever leaves the kernel is accounted for, whatever the flow table
 * says. A delta the table cannot take (it is at its limit, or out of
 * memory) is exported at once as a record of its own through the emit
 * callback ("pressure"); if that is refused too (the sinks are behind), its
 * packets and bytes are folded into the unattributed count of its
 * interface and direction, which drain_unattributed exports with the
 * kernel's overflow counts as an `overflow` record. Once read from the
 * ring or deleted from a generation, nothing is dropped: ring callbacks
 * never fail (libbpf has consumed a record before it calls back) and one
 * refused entry never stops a batch.
 */
#ifndef FM_DRAIN_H
#define FM_DRAIN_H

#include <stdbool.h>
#include <stdint.h>
#include "kernel/loader.h"
#include "table/flowtab.h"

struct ring_buffer;

/* Packets and bytes kept without their flow, per interface slot and direction. */
struct drain_lost {
	uint64_t packets, bytes, ip_bytes;
};

struct drain {
	struct loader *l;
	struct flowtab *ft;
	struct ring_buffer *rb;
	/* Where a delta the table refuses goes first (may be NULL: fold it). */
	flowtab_emit_fn emit;
	void *emit_ctx;
	int64_t offset_ns;	       /* CLOCK_REALTIME - CLOCK_MONOTONIC, per cycle */
	struct fm_clock_anchor anchor; /* the program's clock against CLOCK_MONOTONIC */
	void *keys, *vals;	       /* batch buffers */
	uint32_t batch;		       /* entries per batch call */
	bool doorbell;		       /* a doorbell arrived since the last cycle */
	uint64_t ring_records;	       /* FM_EV_PACKET records read */
	uint64_t ring_invalid;	       /* records refused by validation */
	uint64_t doorbells;
	uint64_t last_entries;	       /* flows in the last drained generation */
	uint64_t drained_entries;      /* all flows drained */
	uint64_t table_refused;	       /* deltas the flow table could not take */
	uint64_t direct_records;       /* ...exported at once as records of their own */
	uint64_t folded_packets;       /* ...kept without their flow */
	uint64_t invalid_entries;      /* deltas with impossible times, folded */
	uint64_t unattributed_packets; /* exported in overflow records: kernel + folded */
	uint64_t unattributed_bytes;
	/* Packets moved out of the kernel, per slot and direction. */
	uint64_t drained[FM_MAX_IFACES + 1][2];
	/* Packets exported in overflow records, per slot and direction. */
	uint64_t unattributed[FM_MAX_IFACES + 1][2];
	/* Folded and not yet exported. */
	struct drain_lost lost[FM_MAX_IFACES + 1][2];
	/* Kernel overflow packets exported, per slot and direction. */
	uint64_t overflow_seen[FM_MAX_IFACES + 1][2];
	uint64_t overflow_bytes_seen[FM_MAX_IFACES + 1][2];
};

int drain_init(struct drain *d, struct loader *l, struct flowtab *ft);
void drain_free(struct drain *d);
/* Refresh the clock anchor and the monotonic-to-epoch offset; once per cycle. */
void drain_clock(struct drain *d);
/* A time stamped by the program, as Unix epoch milliseconds. */
int64_t drain_ms(const struct drain *d, uint64_t t);
/* Now, on the same scale as drain_ms. */
int64_t drain_now_ms(const struct drain *d);
/* Fd to poll for ring-buffer data. */
int drain_ring_fd(struct drain *d);
/*
 * Decode one ring-buffer record of size bytes (ctx: the drain): a packet is
 * merged into the flow table (or exported, or folded, see above), a
 * doorbell sets d->doorbell, anything else is counted in ring_invalid.
 * Always returns 0: libbpf has already consumed the record.
 */
int drain_event(void *ctx, void *data, size_t size);
/* Merge every ring record present; returns records read or -errno. */
long drain_ring(struct drain *d);
/*
 * Read and clear a generation no program writes any more; returns flows
 * read or -errno (only when the map itself cannot be read: what was
 * deleted from it is accounted for even then).
 */
long drain_generation(struct drain *d, int map_fd);
/*
 * Export each interface's packets without a flow since the last call (the
 * kernel's overflow counters and what was folded) as one FM_END_OVERFLOW
 * record per slot and direction (times = now). A refused record stays
 * counted for the next call. Returns records emitted or -errno.
 */
long drain_unattributed(struct drain *d, int64_t now_ms, flowtab_emit_fn emit, void *ctx);

#endif
