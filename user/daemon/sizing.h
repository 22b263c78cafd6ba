/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Defaults chosen from the machine: CPU count and memory. */
#ifndef FM_SIZING_H
#define FM_SIZING_H

#include <stdint.h>

struct sizing {
	int cpus;			/* online CPUs */
	uint64_t mem_mb;		/* MemTotal */
	uint64_t max_flows;		/* entries per kernel generation */
	uint64_t cache_size;		/* device cache entries */
	uint64_t memory_limit_mb;	/* daemon RSS limit before pressure handling */
	uint64_t queue_records;		/* writer queue depth */
};

/* Fill *s from /proc/meminfo and the CPU count; never fails (falls back
 * to small-machine values when /proc cannot be read). */
void sizing_defaults(struct sizing *s);
/* Kernel memory one flow slot costs across both generations, in bytes. */
uint64_t sizing_flow_slot_bytes(int cpus);
/* The daemon's resident set in MiB (/proc/self/statm), 0 if unknown. */
double sizing_rss_mb(void);

#endif
