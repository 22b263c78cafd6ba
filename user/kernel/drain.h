/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Move kernel counts into the userspace flow table: the idle generation by
 * batch lookup-and-delete, fallback packets from the ring buffer, and the
 * overflow counters as per-interval deltas.
 */
#ifndef FM_DRAIN_H
#define FM_DRAIN_H

#include <stdbool.h>
#include <stdint.h>
#include "table/flowtab.h"
#include "kernel/loader.h"

struct ring_buffer;

struct drain {
	struct loader *l;
	struct flowtab *ft;
	struct ring_buffer *rb;
	int64_t offset_ns;		/* CLOCK_REALTIME - CLOCK_MONOTONIC, per cycle */
	struct fm_clock_anchor anchor;	/* the program's clock against CLOCK_MONOTONIC */
	void *keys, *vals;		/* batch buffers */
	uint32_t batch;			/* entries per batch call */
	bool doorbell;			/* a doorbell arrived since the last cycle */
	int merge_err;			/* first flowtab error since the last check */
	uint64_t ring_records;		/* FM_EV_PACKET records merged */
	uint64_t ring_invalid;		/* records refused by validation */
	uint64_t doorbells;
	uint64_t last_entries;		/* flows in the last drained generation */
	uint64_t drained_entries;	/* all flows drained */
	uint64_t overflow_seen[FM_MAX_IFACES + 1];	/* overflow packets already exported */
	uint64_t overflow_bytes_seen[FM_MAX_IFACES + 1];
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
 * merged into the flow table, a doorbell sets d->doorbell, anything else is
 * counted in ring_invalid. Returns 0, or the flow table's -errno.
 */
int drain_event(void *ctx, void *data, size_t size);
/* Merge every ring record present; returns records consumed or -errno. */
long drain_ring(struct drain *d);
/* Read and clear a generation no program writes any more; returns flows merged or -errno. */
long drain_generation(struct drain *d, int map_fd);
/*
 * Export each interface's overflow packets since the last call as one
 * FM_END_OVERFLOW record (ifindex of the slot, times = now). Returns records
 * emitted or -errno.
 */
long drain_overflow(struct drain *d, int64_t now_ms, flowtab_emit_fn emit, void *ctx);

#endif
