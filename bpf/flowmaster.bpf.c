// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * flowmaster's programs: XDP on ingress, TC (tcx or clsact) on egress. Both
 * run the same parser and count every frame into a per-flow entry of the
 * active generation map, never drop. See DESIGN.md, "Data path".
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "flowmaster.h"
#include "parse.h"

#define EEXIST 17
#define TC_ACT_UNSPEC -1 /* == TCX_NEXT: let the next filter or program run */
/* Headers the TC program wants in the skb's linear part (see fm_tc). */
#define TC_PULL_LEN 128

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
/* FM_CLOCK_REPLAY: the capture time of the frame being replayed, epoch ns. */
__u64 replay_now;

/* One flow generation: per-CPU values so the hot path needs no atomics.
 * max_entries is set from userspace; preallocated. Drained by the daemon
 * only once slot 0 of flow_gens no longer points at it. */
struct flow_gen {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 1024);
	__type(key, struct fm_map_key);
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

/* Per-CPU counters per interface slot and direction (see fm_counters):
 * ingress slots 0..FM_MAX_IFACES, then egress ones; read by status/drain. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, FM_COUNTER_SLOTS);
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
	if (cfg_clock == FM_CLOCK_REPLAY)
		return replay_now;
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

/* The frame's MACs, if it has an Ethernet header. */
static __always_inline void copy_macs(__u8 *src_mac, __u8 *dst_mac, void *data, void *end)
{
	struct ethhdr *eth = data;

	if ((void *)(eth + 1) > end)
		return;
	__builtin_memcpy(src_mac, eth->h_source, 6);
	__builtin_memcpy(dst_mac, eth->h_dest, 6);
}

/* No room in the flow map: one ring record per packet, else the overflow counters. */
static __always_inline void fallback(struct fm_map_key *key, void *data, void *end, __u32 segs,
				     __u64 len, __u64 ip_len, __u8 tcp_flags, __u64 now,
				     struct fm_counters *cnt)
{
	struct fm_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);

	if (!e) {
		cnt->ringbuf_drops++;
		cnt->overflow_packets += segs;
		cnt->overflow_bytes += len;
		return;
	}
	e->type = FM_EV_PACKET;
	e->len = len;
	e->ts = now;
	e->inserts = 0;
	e->tcp_flags = tcp_flags;
	e->reserved = 0;
	e->segs = segs;
	e->ip_len = ip_len;
	__builtin_memcpy(&e->key, key, sizeof(*key));
	__builtin_memset(e->src_mac, 0,
			 sizeof(e->src_mac) + sizeof(e->dst_mac) + sizeof(e->reserved2));
	copy_macs(e->src_mac, e->dst_mac, data, end);
	bpf_ringbuf_submit(e, 0);
	cnt->ringbuf_packets += segs;
	cnt->ringbuf_bytes += len;
}

static __always_inline void count_flow(struct fm_map_key *key, void *data, void *end, __u32 segs,
				       __u64 len, __u64 ip_len, __u8 tcp_flags,
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

	nv.packets = segs;
	nv.bytes = len;
	nv.ip_bytes = ip_len;
	nv.first_seen = now;
	nv.last_seen = now;
	nv.tcp_flags = tcp_flags;
	if (!(key->flags & FM_KF_L2))
		copy_macs(nv.src_mac, nv.dst_mac, data, end);
	err = bpf_map_update_elem(flows, key, &nv, BPF_NOEXIST);
	if (!err) {
		cnt->map_packets += segs;
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
	v->packets += segs;
	v->bytes += len;
	v->ip_bytes += ip_len;
	v->last_seen = now;
	v->tcp_flags |= tcp_flags;
	cnt->map_packets += segs;
	return;
full:
	cnt->map_full++;
	fallback(key, data, end, segs, len, ip_len, tcp_flags, now, cnt);
}

/*
 * One frame at either hook: len is its length, segs the wire packets it
 * becomes (a GSO skb: gso_segs, each segment repeating the L2..L4
 * headers; else 1).
 */
static __always_inline void observe(void *data, void *end, __u32 ifindex, __u8 dir, __u64 len,
				    __u32 segs)
{
	struct fm_map_key key = {};
	struct fm_pkt p = {};
	__u32 slot = iface_slot(ifindex) + dir * FM_IFACE_SLOTS;
	struct fm_counters *cnt;
	__u64 ip_len;

	cnt = bpf_map_lookup_elem(&counters, &slot);
	if (!cnt)
		return;
	key.ifindex = ifindex;
	key.flags = dir == FM_DIR_EGRESS ? FM_KF_EGRESS : 0;
	fm_parse(data, end, &key, &p, cnt);
	ip_len = p.ip_len;
	if (segs > 1) {
		cnt->gso_skbs++;
		len += (__u64)(segs - 1) * p.hdr_len;
		/* Every segment's IP bytes: its frame less its L2 header. */
		ip_len = p.ip_len ? len - (__u64)segs * p.l3_off : 0;
	}
	cnt->packets += segs;
	cnt->bytes += len;
	count_flow(&key, data, end, segs, len, ip_len, p.tcp_flags, cnt);
}

SEC("xdp")
int fm_xdp(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;

	observe(data, end, ctx->ingress_ifindex, FM_DIR_INGRESS, end - data, 1);
	return XDP_PASS;
}

/*
 * Egress, attached by tcx or clsact. The skb may be a GSO super-packet
 * (software GSO runs after this hook, even with tso/gso off on the
 * device): it counts as its gso_segs wire packets. Returns
 * TC_ACT_UNSPEC (TCX_NEXT): the next filter or program still runs.
 */
SEC("tc")
int fm_tc(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data, *end = (void *)(long)skb->data_end;
	__u32 segs = skb->gso_segs, lin = end - data;

	/* Packet sockets with a TX ring (trafgen, AF_PACKET senders) put
	 * only the Ethernet header in the linear part, the rest in page
	 * fragments the program cannot read: pull the headers in. The
	 * stack's own skbs have them linear already and skip this. */
	if (lin < TC_PULL_LEN && skb->len > lin) {
		bpf_skb_pull_data(skb, skb->len < TC_PULL_LEN ? skb->len : TC_PULL_LEN);
		data = (void *)(long)skb->data;
		end = (void *)(long)skb->data_end;
	}
	observe(data, end, skb->ifindex, FM_DIR_EGRESS, skb->len, segs ? segs : 1);
	return TC_ACT_UNSPEC;
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
