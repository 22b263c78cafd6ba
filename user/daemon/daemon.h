/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The daemon's pipeline, the same for every source that counts packets
 * through the BPF program (`run` on live interfaces, `replay` of a
 * capture): swap and drain the kernel's generations into the flow table,
 * export what expired through the fan-out to the sinks, keep memory within
 * the flow table's limit, and account per interface slot and direction for
 * every packet: what the kernel saw equals what the sinks received.
 *
 * Bounded path: when the sinks are behind, refused records stay in the flow
 * table (no queue grows); when the table is at its limit, flows are
 * exported early ("pressure") if the sinks take them, and otherwise the
 * kernel keeps counting in its generation (no swap), then in the ring
 * buffer and the overflow counters, so totals stay exact while attribution
 * is lost, counted and reported.
 */
#ifndef FM_DAEMON_H
#define FM_DAEMON_H

#include <stdbool.h>
#include <stdint.h>
#include "kernel/drain.h"
#include "kernel/loader.h"
#include "sink/sink.h"
#include "table/flowtab.h"

/* Above this share of its limit the table sheds its oldest flows... */
#define DAEMON_TABLE_HIGH 0.90
/* ...down to this share. */
#define DAEMON_TABLE_LOW 0.75

struct daemon_opts {
	struct flowtab_timeouts to;
	size_t table_limit; /* flows the table may hold (0: unlimited) */
};

struct daemon {
	struct loader *l;
	struct drain d;
	struct flowtab *ft;
	struct fanout fan;
	struct flowtab_timeouts to;
	/* The flows' clock, epoch ms: the drain's (live), or a capture's. */
	int64_t (*now_ms)(struct daemon *dm);
	uint64_t inserts_at_swap; /* ctl.inserts when the active generation became active */
	/* Packets handed to the sinks, per slot and direction. */
	uint64_t exported[FM_MAX_IFACES + 1][2];
	uint64_t records_exported;
	uint64_t deferred_swaps;  /* cycles that left a generation in the kernel: no room */
	uint64_t pressure_events; /* cycles that exported flows early for room */
	uint64_t pressure_records;
	double drain_ms;	      /* the last cycle's swap and drain */
	struct fm_daemon_state state; /* published to the daemon map each cycle */
};

/* Set up the table, drain and fan-out for the loaded program l. 0 or -errno. */
int daemon_init(struct daemon *dm, struct loader *l, const struct daemon_opts *o);
void daemon_free(struct daemon *dm);
int daemon_add_sink(struct daemon *dm, struct sink *s);
/*
 * One cycle: swap and drain the idle generation (unless neither the table
 * nor the sinks have room for it), the ring, the unattributed counts; then
 * expire flows at now_ms(), shed flows above the table's high-water mark,
 * and deliver to the sinks. Returns 0 or the first -errno (logged).
 */
int daemon_cycle(struct daemon *dm);
/* Read the ring buffer (its fd is readable). */
void daemon_ring(struct daemon *dm);
/* Export the oldest n flows early (memory pressure); returns records
 * exported, which is fewer when the sinks have no room. */
long daemon_shed(struct daemon *dm, size_t n);
/*
 * Shutdown, after detaching: drain both generations and the ring, export
 * every open flow and deliver all to the sinks, waiting for room up to
 * wait_ms. Returns the records that could not be delivered (0: all).
 */
uint64_t daemon_finish(struct daemon *dm, int wait_ms);
/* Name a slot's interface for status (state: enum fm_iface_state). */
void daemon_set_iface(struct daemon *dm, int slot, const char *name, int ifindex,
		      enum fm_iface_state state, const char *mode);
/* Write what status shows into the daemon map (done by every cycle). */
void daemon_publish(struct daemon *dm);
/* Packets seen by the kernel on a slot, and exported (both directions). */
int daemon_slot_totals(struct daemon *dm, int slot, uint64_t *seen, uint64_t *exported);
/* The same for one direction (enum fm_direction). */
int daemon_slot_totals_dir(struct daemon *dm, int slot, int dir, uint64_t *seen,
			   uint64_t *exported);

#endif
