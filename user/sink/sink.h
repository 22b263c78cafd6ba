/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Sinks: every way a flow record leaves flowmaster (the SQLite store, the
 * IPFIX exporter), and the fan-out that hands each record to all of them.
 *
 * The flow table emits records one at a time into the fan-out, which
 * stages them (a bounded array) and delivers the stage to every sink in
 * the same order. A sink says how many records it can take now (room); the
 * fan-out delivers only as many as every sink has room for, so a record
 * reaches all sinks or none, and nothing is ever sent twice. A sink that
 * pushes back (the store, when SQLite is behind) reports little room; one
 * that must never block (UDP export) reports unlimited room and counts
 * what it could not send itself. When the stage is full and a sink has no
 * room, the fan-out refuses the record and the flow stays aggregated in the
 * flow table: back-pressure ends in the table, never in an unbounded queue.
 *
 * Not thread safe: the daemon's main thread owns the fan-out.
 */
#ifndef FM_SINK_H
#define FM_SINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "table/record.h"

#define SINK_ROOM_ANY SIZE_MAX /* a sink that never pushes back */

struct sink {
	const char *name; /* for messages: "store", "ipfix 198.18.0.9:4739" */
	/* Records it can take now. */
	size_t (*room)(struct sink *s);
	/* Take n records (n <= room); returns 0 or a negative errno. */
	int (*take)(struct sink *s, const struct fm_record *recs, size_t n);
	/* Hurry: write or send what is held, e.g. before a stop. May be NULL. */
	void (*flush)(struct sink *s);
	void *priv;
};

#define FANOUT_MAX_SINKS 8
/* Records staged before delivery: one store_submit's worth, ~0.5 MB. */
#define FANOUT_STAGE 4096

struct fanout {
	struct sink *sinks[FANOUT_MAX_SINKS];
	int nsinks;
	struct fm_record *stage; /* FANOUT_STAGE records */
	size_t staged;
	uint64_t refused;   /* records refused because the stage was full */
	uint64_t delivered; /* records delivered to every sink */
};

/* 0 or -ENOMEM. */
int fanout_init(struct fanout *f);
void fanout_free(struct fanout *f);
/* Add a sink (it must outlive the fan-out's use); -E2BIG when full. */
int fanout_add(struct fanout *f, struct sink *s);
/*
 * A flowtab_emit_fn: stage one record (ctx is the fan-out), delivering the
 * stage when it is full. Returns 0, or -EAGAIN when the stage is full and a
 * sink has no room: keep the record and offer it again later.
 */
int fanout_emit(const struct fm_record *r, void *ctx);
/* Deliver as much of the stage as every sink has room for. Returns the
 * records still staged (0: all delivered), or a negative errno from a sink. */
long fanout_deliver(struct fanout *f);
/* True when the stage is full and no sink took any of it at the last try:
 * a record offered now would be refused. */
static inline bool fanout_blocked(const struct fanout *f)
{
	return f->staged == FANOUT_STAGE;
}
/* Records that could be emitted now without a refusal: the stage's free
 * part and what every sink has room for. */
size_t fanout_room(struct fanout *f);
/* Ask every sink to flush. */
void fanout_flush(struct fanout *f);

#endif
