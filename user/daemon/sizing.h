/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Defaults chosen from the machine: CPU count and memory. */
#ifndef FM_SIZING_H
#define FM_SIZING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sizing {
	int cpus;		  /* online CPUs */
	uint64_t mem_mb;	  /* MemTotal */
	uint64_t max_flows;	  /* entries per kernel generation */
	uint64_t cache_size;	  /* device cache entries */
	uint64_t memory_limit_mb; /* daemon RSS limit before pressure handling */
	uint64_t queue_records;	  /* writer queue depth */
};

/*
 * How --memory-limit is shared. The daemon's memory is the flow table, the
 * writer's queue, the device cache and SQLite's page cache, on top of a
 * fixed part (the binary and its libraries, libbpf's mappings of the ring
 * buffer, batch buffers, the fan-out's stage).
 */
struct budget {
	uint64_t table_flows;	 /* flow table limit */
	uint64_t queue_records;	 /* writer queue */
	uint64_t cache_size;	 /* device cache entries */
	uint64_t page_cache_kib; /* SQLite page cache */
	uint64_t min_mb;	 /* the least limit that holds them */
};

/* The fixed part: ~8 MiB measured with the daemon idle at start (VmHWM:
 * binary, libraries, heap), plus what the sized parts do not count and the
 * bounded test measured after the egress, IPFIX and service work (SQLite's
 * heap beyond its page cache, thread stacks, allocator slack: peak 106-110
 * MiB at --memory-limit 96 with 8), plus the ring buffer, which the kernel
 * maps (populated) twice into the consumer so records can wrap. */
#define BUDGET_BASE_MB 24

/*
 * Share limit_mb: an eighth each (of what the fixed part and a ring of
 * ring_bytes leave) for the
 * queue (at most queue_max records), the device cache (at most cache_size
 * entries, or all of cache_size when cache_given) and SQLite's page cache
 * (at most 64 MiB); the rest to the flow table. Entry sizes in bytes.
 * Returns 0, or -ENOSPC when the limit is below b->min_mb.
 */
int sizing_budget(struct budget *b, uint64_t limit_mb, uint64_t ring_bytes, uint64_t cache_size,
		  bool cache_given, uint64_t queue_max, size_t record_bytes, size_t flow_bytes,
		  size_t device_bytes);

/* Fill *s from /proc/meminfo and the CPU count; never fails (falls back
 * to small-machine values when /proc cannot be read). */
void sizing_defaults(struct sizing *s);
/* Kernel memory one flow slot costs across both generations, in bytes. */
uint64_t sizing_flow_slot_bytes(int cpus);
/* The daemon's resident set in MiB (/proc/self/statm), 0 if unknown. */
double sizing_rss_mb(void);
/* Its peak resident set so far (VmHWM), MiB, 0 if unknown. */
double sizing_peak_rss_mb(void);

#endif
