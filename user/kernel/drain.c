// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "kernel/drain.h"
#include "kernel/mapkey.h"
#include "lib/clock.h"
#include "lib/log.h"
#include "table/record.h"

#define DRAIN_BATCH 8192 /* entries per batch syscall: ~0.5 MB of keys */

static int dir_of(const struct fm_flow_key *k)
{
	return k->direction == FM_DIR_EGRESS;
}

/* Keep a delta's counts without its flow. */
static void fold(struct drain *d, const struct fm_flow_key *k, const struct flowtab_delta *dl)
{
	struct drain_lost *lost = &d->lost[loader_slot_of(d->l, k->ifindex)][dir_of(k)];

	lost->packets += dl->packets;
	lost->bytes += dl->bytes;
	lost->ip_bytes += dl->ip_bytes;
	d->folded_packets += dl->packets;
}

/*
 * One delta out of the kernel into the table; if the table refuses it,
 * export it as a record of its own, and if that is refused too, fold it.
 */
static void merge(struct drain *d, const struct fm_flow_key *k, const struct flowtab_delta *dl)
{
	struct fm_record r;
	int err;

	if (!dl->packets)
		return;
	d->drained[loader_slot_of(d->l, k->ifindex)][dir_of(k)] += dl->packets;
	err = flowtab_add(d->ft, k, dl);
	if (!err)
		return;
	if (err == -EINVAL) {
		/* Times the program cannot have written (a corrupt value):
		 * the counts are real enough to keep, the flow is not. */
		d->invalid_entries++;
		fold(d, k, dl);
		return;
	}
	d->table_refused++;
	if (d->emit) {
		memset(&r, 0, sizeof(r));
		r.key = *k;
		r.packets = dl->packets;
		r.bytes = dl->bytes;
		r.ip_bytes = dl->ip_bytes;
		r.first_seen_ms = dl->first_ms;
		r.last_seen_ms = dl->last_ms;
		r.tcp_flags = dl->tcp_flags;
		r.end_reason = FM_END_PRESSURE;
		if (!d->emit(&r, d->emit_ctx)) {
			d->direct_records++;
			return;
		}
	}
	fold(d, k, dl);
}

int drain_event(void *ctx, void *data, size_t size)
{
	struct drain *d = ctx;
	const struct fm_event *e = data;
	struct flowtab_delta dl = { 0 };
	struct fm_flow_key k;

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
	dl.packets = e->segs ? e->segs : 1;
	dl.bytes = e->len;
	dl.ip_bytes = e->ip_len;
	dl.first_ms = dl.last_ms = drain_ms(d, e->ts);
	dl.tcp_flags = e->tcp_flags;
	/* libbpf has consumed the record before calling us (its consumer
	 * position is already stored): whatever happens, it is counted here. */
	mapkey_expand(&e->key, e->src_mac, e->dst_mac, &k);
	merge(d, &k, &dl);
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
	d->keys = calloc(d->batch, sizeof(struct fm_map_key));
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
	/* Replay: the program's times are the capture's, epoch ns already. */
	if (d->l->clock == FM_CLOCK_REPLAY) {
		d->offset_ns = 0;
		return;
	}
	/* Jiffies and CLOCK_MONOTONIC both stop in suspend; one anchor and
	 * one offset per cycle keep conversions cheap and right to within a
	 * tick, except for packets counted before a suspend and drained
	 * after it, which come out early by the time suspended. */
	if (loader_clock_anchor(d->l, &d->anchor)) {
		/* Keep the last anchor, moved on by the time elapsed. */
		int64_t now = clock_ns(CLOCK_MONOTONIC);

		d->anchor.jiffies +=
			(now - (int64_t)d->anchor.mono_ns) / (int64_t)d->l->ns_per_jiffy;
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

	return n < 0 ? n : (long)(d->ring_records - before);
}

/* Fold one flow's per-CPU values; a CPU that never saw it has zeros. The
 * MACs are the inserting CPU's (the one whose first_seen is set). */
static void merge_percpu(struct drain *d, const struct fm_map_key *mk,
			 const struct fm_flow_value *v)
{
	struct flowtab_delta dl = { 0 };
	uint64_t first = 0, last = 0;
	const struct fm_flow_value *ins = &v[0];
	struct fm_flow_key k;

	for (int cpu = 0; cpu < d->l->nr_cpus; cpu++) {
		if (!v[cpu].packets)
			continue;
		dl.packets += v[cpu].packets;
		dl.bytes += v[cpu].bytes;
		dl.ip_bytes += v[cpu].ip_bytes;
		if (v[cpu].first_seen && (!first || v[cpu].first_seen < first)) {
			first = v[cpu].first_seen;
			ins = &v[cpu];
		}
		if (v[cpu].last_seen > last)
			last = v[cpu].last_seen;
		dl.tcp_flags |= v[cpu].tcp_flags;
	}
	if (!first)
		first = last;
	dl.first_ms = drain_ms(d, first);
	dl.last_ms = drain_ms(d, last);
	mapkey_expand(mk, ins->src_mac, ins->dst_mac, &k);
	merge(d, &k, &dl);
}

long drain_generation(struct drain *d, int map_fd)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	struct fm_flow_value *vals = d->vals;
	struct fm_map_key *keys = d->keys;
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
			done = true; /* last (possibly partial) batch */
		}
		/* Deleted from the map already: every entry is merged,
		 * exported or folded, none can be refused. */
		for (__u32 i = 0; i < n; i++)
			merge_percpu(d, &keys[i], &vals[(size_t)i * d->l->nr_cpus]);
		merged += n;
		in = out;
		first = false;
	}
	d->last_entries = merged;
	d->drained_entries += merged;
	return merged;
}

long drain_unattributed(struct drain *d, int64_t now_ms, flowtab_emit_fn emit, void *ctx)
{
	struct loader *l = d->l;
	struct fm_counters c;
	long n = 0;
	int err;

	for (__u32 slot = 0; slot <= FM_MAX_IFACES; slot++) {
		for (int dir = 0; dir < 2; dir++) {
			struct drain_lost *lost = &d->lost[slot][dir];
			struct fm_record r = { 0 };
			uint64_t kp, kb;

			err = loader_read_counters_dir(l, slot, dir, &c);
			if (err)
				return err;
			kp = c.overflow_packets - d->overflow_seen[slot][dir];
			kb = c.overflow_bytes - d->overflow_bytes_seen[slot][dir];

			if (!kp && !lost->packets)
				continue;
			r.key.ifindex = slot ? (__u32)l->ifindex[slot - 1] : 0;
			r.key.direction = dir ? FM_DIR_EGRESS : FM_DIR_INGRESS;
			r.packets = kp + lost->packets;
			r.bytes = kb + lost->bytes;
			r.ip_bytes = lost->ip_bytes;
			r.first_seen_ms = r.last_seen_ms = now_ms;
			r.end_reason = FM_END_OVERFLOW;
			err = emit(&r, ctx);
			if (err < 0)
				return err;
			d->drained[slot][dir] += kp;
			d->unattributed[slot][dir] += r.packets;
			d->unattributed_packets += r.packets;
			d->unattributed_bytes += r.bytes;
			d->overflow_seen[slot][dir] = c.overflow_packets;
			d->overflow_bytes_seen[slot][dir] = c.overflow_bytes;
			memset(lost, 0, sizeof(*lost));
			n++;
		}
	}
	return n;
}
