/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The daemon's own metrics: one row set per interval, and a status line. */
#ifndef FM_METRICS_H
#define FM_METRICS_H

#include <stdint.h>
#include "daemon/daemon.h"
#include "kernel/drain.h"
#include "table/flowtab.h"
#include "kernel/loader.h"
#include "store/store.h"

struct prom;

/* What an interval's metrics are read from; the daemon fills it. */
struct metrics_src {
	struct loader *l;
	struct daemon *dm;
	struct store *st;
	uint64_t memory_limit_mb;
	uint64_t rss_events; /* times RSS over the limit shed memory */
	int64_t start_ms;    /* epoch ms the run started */
	struct prom *prom;   /* --metrics-listen, or NULL */
};

/* The previous interval's readings, for rates and deltas. */
struct metrics {
	int64_t last_ms;
	uint64_t last_packets, last_bytes;
	uint64_t last_unattributed_packets, last_unattributed_bytes;
	double last_cpu_s;
};

/*
 * Queue one row per metric (names in DESIGN.md, plus a few) at now_ms,
 * log the interval's status line, and warn when packets fell through to
 * the overflow counters since the last call.
 */
void metrics_write(struct metrics *m, const struct metrics_src *s, int64_t now_ms);

#endif
