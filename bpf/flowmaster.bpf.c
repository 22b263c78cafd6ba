// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * flowmaster's XDP program: count every frame into a per-flow entry of the
 * active generation map, never drop. See DESIGN.md, "Data path".
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "flowmaster.h"
#include "parse.h"

#define EEXIST 17

/* Knobs, set by the loader before load (frozen .rodata). */
const volatile __u32 cfg_nr_ifaces = 0;
/*
 * Slot i + 1's interface. Not frozen (.bss, mmaped by the loader): an
 * interface deleted and created again under its name comes back with a new
 * ifindex, and the daemon points its slot at it before attaching there; 0
 * (no interface has it) while a slot waits for its interface to appear.
 */
volatile __u32 cfg_ifindex[FM_MAX_IFACES];
/* After the fill threshold, ring again every N inserts (power of two). */
const volatile __u32 cfg_doorbell_every = 4096;
/* enum fm_clock: what first_seen/last_seen count in. */
const volatile __u8 cfg_clock = FM_CLOCK_JIFFIES;

/* Written by fm_clock for the daemon's time conversion. */
struct fm_clock_anchor clock_anchor;

/* One flow generation: per-CPU values so the hot path needs no atomics.
 * max_entries is set from userspace; preallocated. Drained by the daemon
 * only once slot 0 of flow_gens no longer points at it. */
struct flow_gen {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 1024);
	__type(key, struct fm_flow_key);
	__type(value, struct fm_flow_value);
} flows_a SEC(".maps"), flows_b SEC(".maps");

/* Slot 0: the generation packets are counted into now; the daemon swaps it. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 1);
	__type(key, __u32);
	__array(values, struct flow_gen);
} flow_gens SEC(".maps") = {
	.values = { [0] = &flows_a },
};

/* Per-CPU counters per interface slot (see fm_counters); read by status/drain. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, FM_MAX_IFACES + 1);
	__type(key, __u32);
	__type(value, struct fm_counters);
} counters SEC(".maps");

/* Doorbell state shared by all CPUs. Mmapable: the daemon rearms by
 * storing doorbell_at alone, never writing back the inserts the program
 * keeps adding to (a map update would write the whole value). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct fm_ctl);
} ctl SEC(".maps");

/* Written by the daemon after every cycle, never by the program: its view
 * of the interfaces and the counts, for `flowmaster status`. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct fm_daemon_state);
} daemon SEC(".maps");

/* Packets the flow map had no room for, and doorbells; size set from userspace. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20);
} events SEC(".maps");

static __always_inline __u32 iface_slot(__u32 ifindex)
{
#pragma unroll
	for (__u32 i = 0; i < FM_MAX_IFACES; i++) {
		if (i >= cfg_nr_ifaces)
			break;
		if (cfg_ifindex[i] == ifindex)
			return i + 1;
	}
	return 0;
}

static __always_inline __u64 now_ns(void)
{
	if (cfg_clock == FM_CLOCK_NS)
		return bpf_ktime_get_ns();
	if (cfg_clock == FM_CLOCK_COARSE_NS)
		return bpf_ktime_get_coarse_ns();
	return bpf_jiffies64();
}

static __always_inline void ring_doorbell(struct fm_counters *cnt, __u64 now)
{
	__u32 zero = 0;
	struct fm_ctl *c = bpf_map_lookup_elem(&ctl, &zero);
	struct fm_event *e;
	__u64 n, at;

	if (!c)
		return;
	n = __sync_fetch_and_add(&c->inserts, 1) + 1;
	at = c->doorbell_at;
	if (!at || n < at || ((n - at) & (cfg_doorbell_every - 1)))
		return;
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e)
		return;
	__builtin_memset(e, 0, sizeof(*e));
	e->type = FM_EV_DOORBELL;
	e->ts = now;
	e->inserts = n;
	bpf_ringbuf_submit(e, BPF_RB_FORCE_WAKEUP);
	cnt->doorbells++;
}

/* No room in the flow map: one ring record per packet, else the overflow counters. */
static __always_inline void fallback(struct fm_flow_key *key, __u64 len, __u8 tcp_flags, __u64 now,
				     struct fm_counters *cnt)
{
	struct fm_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);

	if (!e) {
		cnt->ringbuf_drops++;
		cnt->overflow_packets++;
		cnt->overflow_bytes += len;
		return;
	}
	e->type = FM_EV_PACKET;
	e->len = len;
	e->ts = now;
	e->inserts = 0;
	e->tcp_flags = tcp_flags;
	__builtin_memset(e->reserved, 0, sizeof(e->reserved));
	__builtin_memcpy(&e->key, key, sizeof(*key));
	bpf_ringbuf_submit(e, 0);
	cnt->ringbuf_packets++;
	cnt->ringbuf_bytes += len;
}

static __always_inline void count_flow(struct fm_flow_key *key, __u64 len, __u8 tcp_flags,
				       struct fm_counters *cnt)
{
	struct fm_flow_value *v, nv = {};
	__u64 now = now_ns();
	__u32 zero = 0;
	void *flows;
	long err;

	flows = bpf_map_lookup_elem(&flow_gens, &zero);
	if (!flows)
		goto full;
	v = bpf_map_lookup_elem(flows, key);
	if (v)
		goto hit;

	nv.packets = 1;
	nv.bytes = len;
	nv.first_seen = now;
	nv.last_seen = now;
	nv.tcp_flags = tcp_flags;
	err = bpf_map_update_elem(flows, key, &nv, BPF_NOEXIST);
	if (!err) {
		cnt->map_packets++;
		cnt->inserts++;
		ring_doorbell(cnt, now);
		return;
	}
	if (err != -EEXIST)
		goto full;
	/* Another CPU inserted it first; our per-CPU slot starts zeroed, and
	 * the daemon ignores a zero first_seen when it merges CPUs. */
	v = bpf_map_lookup_elem(flows, key);
	if (!v)
		goto full;
hit:
	v->packets++;
	v->bytes += len;
	v->last_seen = now;
	v->tcp_flags |= tcp_flags;
	cnt->map_packets++;
	return;
full:
	cnt->map_full++;
	fallback(key, len, tcp_flags, now, cnt);
}

SEC("xdp")
int fm_xdp(struct xdp_md *ctx)
{
	struct cursor c = {
		.pos = (void *)(long)ctx->data,
		.end = (void *)(long)ctx->data_end,
	};
	struct fm_flow_key key = {};
	__u32 slot = iface_slot(ctx->ingress_ifindex);
	__u64 len = c.end - c.pos;
	struct fm_counters *cnt;
	__u8 tcp_flags = 0;
	int proto;

	cnt = bpf_map_lookup_elem(&counters, &slot);
	if (!cnt)
		return XDP_PASS;
	cnt->packets++;
	cnt->bytes += len;
	key.ifindex = ctx->ingress_ifindex;
	key.direction = FM_DIR_INGRESS;

	proto = parse_eth(&c, &key, cnt);
	if (proto == FM_ETH_P_IP)
		proto = parse_ipv4(&c, &key, cnt);
	else if (proto == FM_ETH_P_IPV6)
		proto = parse_ipv6(&c, &key, cnt);
	else
		proto = PARSE_STOP;
	if (proto != PARSE_STOP)
		parse_l4(&c, proto, &key, &tcp_flags, cnt);

	count_flow(&key, len, tcp_flags, cnt);
	return XDP_PASS;
}

/*
 * Run by the daemon through BPF_PROG_TEST_RUN: jiffies and CLOCK_MONOTONIC
 * read back to back, so jiffies convert to time without knowing HZ's
 * history.
 */
SEC("xdp")
int fm_clock(struct xdp_md *ctx)
{
	clock_anchor.jiffies = bpf_jiffies64();
	clock_anchor.mono_ns = bpf_ktime_get_ns();
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
