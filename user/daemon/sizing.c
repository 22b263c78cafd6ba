// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <stdio.h>
#include <unistd.h>
#include "daemon/sizing.h"

#define MIN_FLOWS (1ULL << 14)
#define MAX_FLOWS (1ULL << 20)	/* ~1M per generation covers the 1M-flow churn case */
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
	s->max_flows = clamp(pow2_floor(s->mem_mb * 1024 * 1024 / 128 /
					sizing_flow_slot_bytes(s->cpus)),
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
