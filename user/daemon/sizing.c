// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdio.h>
#include <unistd.h>
#include "daemon/sizing.h"

#define MIN_FLOWS (1ULL << 14)
#define MAX_FLOWS (1ULL << 20) /* ~1M per generation covers the 1M-flow churn case */
#define MIN_CACHE 4096ULL
#define MAX_CACHE (1ULL << 18)

static uint64_t pow2_floor(uint64_t v)
{
	uint64_t p = 1;

	while (p <= v / 2)
		p *= 2;
	return p;
}

static uint64_t clamp(uint64_t v, uint64_t lo, uint64_t hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

uint64_t sizing_flow_slot_bytes(int cpus)
{
	/* A preallocated per-CPU hash element: ~48 B of htab_elem, the 64 B
	 * key, and a 40 B value per CPU; twice, for the two generations. */
	return 2 * (48 + 64 + 40 * (uint64_t)(cpus > 0 ? cpus : 1));
}

void sizing_defaults(struct sizing *s)
{
	unsigned long long kb = 0;
	char line[256];
	FILE *f;

	s->cpus = (int)sysconf(_SC_NPROCESSORS_ONLN);
	if (s->cpus < 1)
		s->cpus = 1;
	f = fopen("/proc/meminfo", "r");
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "MemTotal: %llu kB", &kb) == 1)
			break;
	if (f)
		fclose(f);
	s->mem_mb = kb ? kb / 1024 : 1024;

	/* Kernel maps take at most 1/128 of memory: preallocating them is
	 * most of the start-up time (~1 s per 2^19 per-CPU entries here). */
	s->max_flows =
		clamp(pow2_floor(s->mem_mb * 1024 * 1024 / 128 / sizing_flow_slot_bytes(s->cpus)),
		      MIN_FLOWS, MAX_FLOWS);
	s->cache_size = clamp(pow2_floor(s->mem_mb * 1024 * 1024 / 65536), MIN_CACHE, MAX_CACHE);
	s->memory_limit_mb = clamp(s->mem_mb / 4, 256, 4096);
	s->queue_records = clamp(s->max_flows, 65536, 1ULL << 20);
}

double sizing_rss_mb(void)
{
	long pages = 0, rss = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	if (f) {
		if (fscanf(f, "%ld %ld", &pages, &rss) != 2)
			rss = 0;
		fclose(f);
	}
	return rss * (double)sysconf(_SC_PAGESIZE) / (1 << 20);
}

double sizing_peak_rss_mb(void)
{
	unsigned long long kb = 0;
	char line[128];
	FILE *f = fopen("/proc/self/status", "r");

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "VmHWM: %llu kB", &kb) == 1)
			break;
	if (f)
		fclose(f);
	return kb / 1024.0;
}

/* Below these the daemon works badly: batches too small, a cache that
 * thrashes, a table that exports nearly every flow at once. */
#define BUDGET_MIN_QUEUE 8192
#define BUDGET_MIN_CACHE 1024
#define BUDGET_MIN_FLOWS 16384
#define BUDGET_MIN_PAGE_KIB 2048
#define BUDGET_MAX_PAGE_KIB 65536

int sizing_budget(struct budget *b, uint64_t limit_mb, uint64_t ring_bytes, uint64_t cache_size,
		  bool cache_given, uint64_t queue_max, size_t record_bytes, size_t flow_bytes,
		  size_t device_bytes)
{
	uint64_t mib = 1 << 20, rest, share;
	uint64_t fixed_mb = BUDGET_BASE_MB + (2 * ring_bytes + mib - 1) / mib;
	uint64_t min_bytes = BUDGET_MIN_QUEUE * record_bytes + BUDGET_MIN_FLOWS * flow_bytes +
			     (cache_given ? cache_size : BUDGET_MIN_CACHE) * device_bytes +
			     BUDGET_MIN_PAGE_KIB * 1024ULL;

	b->min_mb = fixed_mb + (min_bytes + mib - 1) / mib;
	if (limit_mb < b->min_mb)
		return -ENOSPC;
	rest = (limit_mb - fixed_mb) * mib;
	share = rest / 8;
	b->page_cache_kib = clamp(share / 1024, BUDGET_MIN_PAGE_KIB, BUDGET_MAX_PAGE_KIB);
	b->queue_records = clamp(share / record_bytes, BUDGET_MIN_QUEUE,
				 queue_max > BUDGET_MIN_QUEUE ? queue_max : BUDGET_MIN_QUEUE);
	b->cache_size =
		cache_given ? cache_size :
			      clamp(share / device_bytes, BUDGET_MIN_CACHE,
				    cache_size > BUDGET_MIN_CACHE ? cache_size : BUDGET_MIN_CACHE);
	rest -= b->page_cache_kib * 1024 + b->queue_records * record_bytes +
		b->cache_size * device_bytes;
	b->table_flows = rest / flow_bytes;
	return b->table_flows < BUDGET_MIN_FLOWS ? -ENOSPC : 0;
}
