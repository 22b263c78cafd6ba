// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "kernel/drain.h"
#include "lib/clock.h"
#include "lib/log.h"

#define DRAIN_BATCH 8192	/* entries per batch syscall: ~0.5 MB of keys */

int drain_event(void *ctx, void *data, size_t size)
{
	struct drain *d = ctx;
	const struct fm_event *e = data;
	int64_t ms;
	int err;

	/* The kernel is trusted but the layout is a contract: check it. */
	if (size < sizeof(*e) || (e->type != FM_EV_PACKET && e->type != FM_EV_DOORBELL)) {
		d->ring_invalid++;
		return 0;
	}
	if (e->type == FM_EV_DOORBELL) {
		d->doorbells++;
		d->doorbell = true;
		return 0;
	}
	ms = drain_ms(d, e->ts);
	err = flowtab_add(d->ft, &e->key, 1, e->len, ms, ms, e->tcp_flags);
	if (err) {
		/* Stop consuming: the record stays in the ring for a retry. */
		d->merge_err = err;
		return err;
	}
	d->ring_records++;
	return 0;
}

int drain_init(struct drain *d, struct loader *l, struct flowtab *ft)
{
	size_t vsz = sizeof(struct fm_flow_value) * l->nr_cpus;

	memset(d, 0, sizeof(*d));
	d->l = l;
	d->ft = ft;
	d->batch = DRAIN_BATCH;
	d->keys = calloc(d->batch, sizeof(struct fm_flow_key));
	d->vals = calloc(d->batch, vsz);
	if (!d->keys || !d->vals)
		goto nomem;
	d->rb = ring_buffer__new(loader_events_fd(l), drain_event, d, NULL);
	if (!d->rb) {
		int err = -errno;

		pr_err("ring buffer: %s\n", strerror(-err));
		drain_free(d);
		return err;
	}
	drain_clock(d);
	return 0;
nomem:
	drain_free(d);
	return -ENOMEM;
}

void drain_free(struct drain *d)
{
	ring_buffer__free(d->rb);
	free(d->keys);
	free(d->vals);
	d->rb = NULL;
	d->keys = d->vals = NULL;
}

void drain_clock(struct drain *d)
{
	/* Jiffies and CLOCK_MONOTONIC both stop in suspend; one anchor and
	 * one offset per cycle keep conversions cheap and right to within a
	 * tick, except for packets counted before a suspend and drained
	 * after it, which come out early by the time suspended. */
	if (loader_clock_anchor(d->l, &d->anchor)) {
		/* Keep the last anchor, moved on by the time elapsed. */
		int64_t now = clock_ns(CLOCK_MONOTONIC);

		d->anchor.jiffies += (now - (int64_t)d->anchor.mono_ns) / (int64_t)d->l->ns_per_jiffy;
		d->anchor.mono_ns = now;
	}
	d->offset_ns = clock_ns(CLOCK_REALTIME) - clock_ns(CLOCK_MONOTONIC);
}

int64_t drain_ms(const struct drain *d, uint64_t t)
{
	int64_t ns;

	if (__builtin_add_overflow(loader_mono_ns(d->l, &d->anchor, t), d->offset_ns, &ns))
		ns = d->offset_ns > 0 ? INT64_MAX : INT64_MIN;
	return ns / 1000000;
}

int64_t drain_now_ms(const struct drain *d)
{
	return (clock_ns(CLOCK_MONOTONIC) + d->offset_ns) / 1000000;
}

int drain_ring_fd(struct drain *d)
{
	return ring_buffer__epoll_fd(d->rb);
}

long drain_ring(struct drain *d)
{
	uint64_t before = d->ring_records;
	int n = ring_buffer__consume(d->rb);

	if (d->merge_err) {
		n = d->merge_err;
		d->merge_err = 0;
		return n;
	}
	return n < 0 ? n : (long)(d->ring_records - before);
}

/* Fold one flow's per-CPU values; a CPU that never saw it has zeros. */
static int merge_percpu(struct drain *d, const struct fm_flow_key *k,
			const struct fm_flow_value *v)
{
	uint64_t packets = 0, bytes = 0, first = 0, last = 0;
	uint8_t flags = 0;

	for (int cpu = 0; cpu < d->l->nr_cpus; cpu++) {
		if (!v[cpu].packets)
			continue;
		packets += v[cpu].packets;
		bytes += v[cpu].bytes;
		if (v[cpu].first_seen && (!first || v[cpu].first_seen < first))
			first = v[cpu].first_seen;
		if (v[cpu].last_seen > last)
			last = v[cpu].last_seen;
		flags |= v[cpu].tcp_flags;
	}
	if (!packets)
		return 0;
	if (!first)
		first = last;
	return flowtab_add(d->ft, k, packets, bytes, drain_ms(d, first), drain_ms(d, last), flags);
}

long drain_generation(struct drain *d, int map_fd)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	struct fm_flow_value *vals = d->vals;
	struct fm_flow_key *keys = d->keys;
	__u32 in = 0, out = 0, n;
	bool first = true, done = false;
	long merged = 0;
	int err;

	while (!done) {
		n = d->batch;
		err = bpf_map_lookup_and_delete_batch(map_fd, first ? NULL : &in, &out, keys, vals,
						      &n, &opts);
		if (err) {
			err = -errno;
			if (err != -ENOENT) {
				/* -ENOSPC: a bucket holds more than a batch; cannot
				 * happen with 8192 unless the hash is pathological. */
				pr_err("draining flow generation: %s\n", strerror(-err));
				return err;
			}
			done = true;	/* last (possibly partial) batch */
		}
		for (__u32 i = 0; i < n; i++) {
			err = merge_percpu(d, &keys[i], &vals[(size_t)i * d->l->nr_cpus]);
			if (err) {
				/* The entries are already deleted from the map:
				 * out of memory here loses them, so say so loudly. */
				pr_err("flow table full (%s): %u flows of this batch lost\n",
				       strerror(-err), n - i);
				return err;
			}
		}
		merged += n;
		in = out;
		first = false;
	}
	d->last_entries = merged;
	d->drained_entries += merged;
	return merged;
}

long drain_overflow(struct drain *d, int64_t now_ms, flowtab_emit_fn emit, void *ctx)
{
	struct loader *l = d->l;
	struct fm_counters c;
	long n = 0;
	int err;

	for (__u32 slot = 0; slot <= FM_MAX_IFACES; slot++) {
		struct fm_record r = { 0 };

		err = loader_read_counters(l, slot, &c);
		if (err)
			return err;
		if (c.overflow_packets == d->overflow_seen[slot])
			continue;
		r.key.ifindex = slot ? (__u32)l->ifindex[slot - 1] : 0;
		r.key.direction = FM_DIR_INGRESS;
		r.packets = c.overflow_packets - d->overflow_seen[slot];
		r.bytes = c.overflow_bytes - d->overflow_bytes_seen[slot];
		r.first_seen_ms = r.last_seen_ms = now_ms;
		r.end_reason = FM_END_OVERFLOW;
		err = emit(&r, ctx);
		if (err < 0)
			return err;
		d->overflow_seen[slot] = c.overflow_packets;
		d->overflow_bytes_seen[slot] = c.overflow_bytes;
		n++;
	}
	return n;
}
