// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Baselines for tools/bench/bench_prog.c, run through BPF_PROG_TEST_RUN
 * side by side with fm_xdp:
 *
 *   xdp_empty       returns XDP_PASS: the cost of the test loop itself.
 *   xdp_min_percpu  the least a flow counter can do: Ethernet (and up to two
 *                   VLAN tags, so the double-VLAN case compares like with
 *                   like), IPv4 or IPv6 without extension headers, TCP/UDP
 *                   ports, one lookup in a preallocated per-CPU hash, an
 *                   insert with BPF_NOEXIST on a miss, packets and bytes
 *                   added.
 *   xdp_min_shared  the same with a plain hash and atomic adds, so that the
 *                   per-CPU versus shared choice (DESIGN, data path 1) is
 *                   measured rather than guessed.
 *   xdp_rr          the round-robin driver: writes a flow number into the
 *                   frame and tail-calls the program under test, so that
 *                   one test run with a large repeat walks many flows.
 *
 * The ladder from xdp_min_percpu to fm_xdp, one of fm_xdp's extras added
 * per step (each step keeps the ones before), so that what each costs is
 * measured (bench_prog, tools/bench/insitu.sh --ladder):
 *
 *   xdp_lad_key     min_parse into flowmaster's flow map key (struct
 *                   fm_map_key: ifindex, EtherType, IPv4-mapped
 *                   addresses; 48 bytes, 64 before the MACs left it)
 *                   instead of the 40-byte 5-tuple: the hash, the
 *                   compare and the element of a bigger key
 *   xdp_lad_val     + flowmaster's value (struct fm_flow_value: ip_bytes,
 *                   first/last seen on the jiffies clock, TCP flags,
 *                   the MACs written on insert)
 *   xdp_lad_cnt     + the per-CPU counters array (struct fm_counters,
 *                   one fixed slot): packets, bytes, map_packets
 *   xdp_lad_slot    + the counters slot found from the ingress ifindex
 *                   in a .bss array, as fm_xdp's iface_slot does
 *   xdp_lad_outer   + the flow map found through an ARRAY_OF_MAPS (the
 *                   generation slot): fm_xdp but for its parser (VLAN
 *                   ids, IPv6 extension headers, ICMP, fragments, error
 *                   counters) and its full and doorbell paths
 *
 * (fm_xdp reads its control map, ctl, only when it inserts a flow, not
 * per packet, so the ladder has no step for it.)
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "flowmaster.h"

/* The 5-tuple; IPv4 addresses in the first 4 bytes. No holes. */
struct min_key {
	__u8 src_addr[16];
	__u8 dst_addr[16];
	__u16 src_port;
	__u16 dst_port;
	__u8 protocol;
	__u8 reserved[3];
};

struct min_value {
	__u64 packets;
	__u64 bytes;
};

_Static_assert(sizeof(struct min_key) == 40, "min_key layout");

/* Flows of xdp_min_percpu; max_entries set by bench_prog, preallocated. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 1024);
	__type(key, struct min_key);
	__type(value, struct min_value);
} min_percpu_flows SEC(".maps");

/* Flows of xdp_min_shared; max_entries set by bench_prog, preallocated. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, struct min_key);
	__type(value, struct min_value);
} min_shared_flows SEC(".maps");

/* Slot 0: the program xdp_rr hands each frame to; set by bench_prog. */
struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} rr_target SEC(".maps");

/* Round-robin state, written by bench_prog between runs. */
__u32 rr_off;	 /* frame offset of the 32-bit field to vary (an address) */
__u32 rr_base;	 /* value of flow 0, host order */
__u32 rr_nflows; /* flows to cycle through; 0: never wrap (all new) */
__u32 rr_next;	 /* next flow number */
/* Inserts the baselines could not make (map full): must stay 0. */
__u64 min_update_fail;

/* The ladder's maps, max_entries set by the loader, preallocated.
 * xdp_lad_key has a map of its own (a 16-byte value); the later steps
 * share lad_flows, which xdp_lad_outer finds through lad_gens. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 1024);
	__type(key, struct fm_map_key);
	__type(value, struct min_value);
} lad_key_flows SEC(".maps");

struct lad_gen {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 1024);
	__type(key, struct fm_map_key);
	__type(value, struct fm_flow_value);
} lad_flows SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 1);
	__type(key, __u32);
	__array(values, struct lad_gen);
} lad_gens SEC(".maps") = {
	.values = { [0] = &lad_flows },
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, FM_COUNTER_SLOTS);
	__type(key, __u32);
	__type(value, struct fm_counters);
} lad_counters SEC(".maps");

/* As fm_xdp's cfg_ifindex: slot i + 1's interface; set by the loader. */
volatile __u32 lad_ifindex[FM_MAX_IFACES];

SEC("xdp")
int xdp_empty(struct xdp_md *ctx)
{
	return XDP_PASS;
}

/* Fill key from the frame in [data, end); returns 0, or -1 for anything
 * but IPv4/IPv6. */
static __always_inline int min_parse_frame(void *data, void *end, struct min_key *key)
{
	struct ethhdr *eth = data;
	void *pos = eth + 1;
	__u16 proto;

	if (pos > end)
		return -1;
	proto = eth->h_proto;
#pragma unroll
	for (int i = 0; i < 2; i++) {
		struct vlan_hdr *vh = pos;

		if (proto != bpf_htons(FM_ETH_P_8021Q) && proto != bpf_htons(FM_ETH_P_8021AD))
			break;
		if ((void *)(vh + 1) > end)
			return -1;
		proto = vh->h_vlan_encapsulated_proto;
		pos = vh + 1;
	}

	if (proto == bpf_htons(FM_ETH_P_IP)) {
		struct iphdr *ip = pos;

		if ((void *)(ip + 1) > end || ip->ihl < 5)
			return -1;
		__builtin_memcpy(key->src_addr, &ip->saddr, 4);
		__builtin_memcpy(key->dst_addr, &ip->daddr, 4);
		key->protocol = ip->protocol;
		pos += ip->ihl * 4;
	} else if (proto == bpf_htons(FM_ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = pos;

		if ((void *)(ip6 + 1) > end)
			return -1;
		__builtin_memcpy(key->src_addr, &ip6->saddr, 16);
		__builtin_memcpy(key->dst_addr, &ip6->daddr, 16);
		key->protocol = ip6->nexthdr;
		pos = ip6 + 1;
	} else {
		return -1;
	}

	if (key->protocol == FM_IPPROTO_TCP || key->protocol == FM_IPPROTO_UDP) {
		struct udphdr *uh = pos; /* ports sit at the same place in TCP */

		if ((void *)(uh + 1) > end)
			return 0;
		key->src_port = uh->source;
		key->dst_port = uh->dest;
	}
	return 0;
}

static __always_inline int min_parse(struct xdp_md *ctx, struct min_key *key)
{
	return min_parse_frame((void *)(long)ctx->data, (void *)(long)ctx->data_end, key);
}

/* min_percpu's count: one lookup, an insert on a miss. */
static __always_inline void min_count(struct min_key *key, __u64 len)
{
	struct min_value *v = bpf_map_lookup_elem(&min_percpu_flows, key);

	if (v) {
		v->packets++;
		v->bytes += len;
	} else {
		struct min_value nv = { .packets = 1, .bytes = len };

		if (bpf_map_update_elem(&min_percpu_flows, key, &nv, BPF_NOEXIST))
			__sync_fetch_and_add(&min_update_fail, 1);
	}
}

/* xdp_min_percpu at the TC hook (egress), for fm_tc to compare with. It
 * pulls the headers into the linear part as fm_tc does (packet sockets
 * leave them in page fragments): any counter there must. */
SEC("tc")
int tc_min_percpu(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data, *end = (void *)(long)skb->data_end;
	__u32 lin = end - data;
	struct min_key key = {};

	if (lin < 128 && skb->len > lin) {
		bpf_skb_pull_data(skb, skb->len < 128 ? skb->len : 128);
		data = (void *)(long)skb->data;
		end = (void *)(long)skb->data_end;
	}
	if (!min_parse_frame(data, end, &key))
		min_count(&key, skb->len);
	return -1; /* TC_ACT_UNSPEC, as fm_tc */
}

SEC("xdp")
int xdp_min_percpu(struct xdp_md *ctx)
{
	__u64 len = ctx->data_end - ctx->data;
	struct min_key key = {};
	struct min_value *v;

	if (min_parse(ctx, &key))
		return XDP_PASS;
	v = bpf_map_lookup_elem(&min_percpu_flows, &key);
	if (v) {
		v->packets++;
		v->bytes += len;
	} else {
		struct min_value nv = { .packets = 1, .bytes = len };

		if (bpf_map_update_elem(&min_percpu_flows, &key, &nv, BPF_NOEXIST))
			__sync_fetch_and_add(&min_update_fail, 1);
	}
	return XDP_PASS;
}

SEC("xdp")
int xdp_min_shared(struct xdp_md *ctx)
{
	__u64 len = ctx->data_end - ctx->data;
	struct min_key key = {};
	struct min_value *v;

	if (min_parse(ctx, &key))
		return XDP_PASS;
	v = bpf_map_lookup_elem(&min_shared_flows, &key);
	if (v) {
		__sync_fetch_and_add(&v->packets, 1);
		__sync_fetch_and_add(&v->bytes, len);
	} else {
		struct min_value nv = { .packets = 1, .bytes = len };

		if (bpf_map_update_elem(&min_shared_flows, &key, &nv, BPF_NOEXIST))
			__sync_fetch_and_add(&min_update_fail, 1);
	}
	return XDP_PASS;
}

/* Ladder steps: what each adds to the step before (see the top). */
#define LAD_VAL 0x01
#define LAD_CNT 0x02
#define LAD_SLOT 0x04
#define LAD_OUTER 0x08

/* The 5-tuple min_parse reads, in flowmaster's key as fm_parse lays it out. */
static __always_inline int lad_parse(struct xdp_md *ctx, struct fm_map_key *key)
{
	struct min_key mk = {};

	if (min_parse(ctx, &mk))
		return -1;
	key->ifindex = ctx->ingress_ifindex;
	key->eth_type = FM_ETH_P_IP;
	*(__u32 *)&key->src_addr[8] = bpf_htonl(0x0000ffff);
	*(__u32 *)&key->dst_addr[8] = bpf_htonl(0x0000ffff);
	*(__u32 *)&key->src_addr[12] = *(__u32 *)mk.src_addr;
	*(__u32 *)&key->dst_addr[12] = *(__u32 *)mk.dst_addr;
	key->src_port = mk.src_port;
	key->dst_port = mk.dst_port;
	key->protocol = mk.protocol;
	return 0;
}

static __always_inline __u32 lad_slot(__u32 ifindex)
{
#pragma unroll
	for (__u32 i = 0; i < 1; i++)
		if (lad_ifindex[i] == ifindex)
			return i + 1;
	return 0;
}

static __always_inline int lad(struct xdp_md *ctx, const int steps)
{
	__u64 len = ctx->data_end - ctx->data;
	struct fm_map_key key = {};
	struct fm_counters *cnt = NULL;
	__u32 slot = 1, zero = 0;
	void *flows = &lad_flows;

	if (steps & LAD_SLOT)
		slot = lad_slot(ctx->ingress_ifindex);
	if (steps & LAD_CNT) {
		cnt = bpf_map_lookup_elem(&lad_counters, &slot);
		if (!cnt)
			return XDP_PASS;
	}
	if (lad_parse(ctx, &key))
		return XDP_PASS;
	if (cnt) {
		cnt->packets++;
		cnt->bytes += len;
	}
	if (!(steps & LAD_VAL)) {
		struct min_value *v = bpf_map_lookup_elem(&lad_key_flows, &key);

		if (v) {
			v->packets++;
			v->bytes += len;
		} else {
			struct min_value nv = { .packets = 1, .bytes = len };

			if (bpf_map_update_elem(&lad_key_flows, &key, &nv, BPF_NOEXIST))
				__sync_fetch_and_add(&min_update_fail, 1);
		}
		return XDP_PASS;
	}
	if (steps & LAD_OUTER) {
		flows = bpf_map_lookup_elem(&lad_gens, &zero);
		if (!flows)
			return XDP_PASS;
	}
	{
		__u64 now = bpf_jiffies64();
		struct fm_flow_value *v = bpf_map_lookup_elem(flows, &key);

		if (v) {
			v->packets++;
			v->bytes += len;
			v->ip_bytes += len - 14;
			v->last_seen = now;
			v->tcp_flags |= (__u8)(len >> 24); /* 0, not known to the compiler */
		} else {
			struct fm_flow_value nv = { .packets = 1,
						    .bytes = len,
						    .ip_bytes = len - 14,
						    .first_seen = now,
						    .last_seen = now };
			void *data = (void *)(long)ctx->data;
			struct ethhdr *eth = data;

			if ((void *)(eth + 1) <= (void *)(long)ctx->data_end) {
				__builtin_memcpy(nv.src_mac, eth->h_source, 6);
				__builtin_memcpy(nv.dst_mac, eth->h_dest, 6);
			}

			if (bpf_map_update_elem(flows, &key, &nv, BPF_NOEXIST))
				__sync_fetch_and_add(&min_update_fail, 1);
			else if (cnt)
				cnt->inserts++;
		}
		if (cnt)
			cnt->map_packets++;
	}
	return XDP_PASS;
}

SEC("xdp")
int xdp_lad_key(struct xdp_md *ctx)
{
	return lad(ctx, 0);
}

SEC("xdp")
int xdp_lad_val(struct xdp_md *ctx)
{
	return lad(ctx, LAD_VAL);
}

SEC("xdp")
int xdp_lad_cnt(struct xdp_md *ctx)
{
	return lad(ctx, LAD_VAL | LAD_CNT);
}

SEC("xdp")
int xdp_lad_slot(struct xdp_md *ctx)
{
	return lad(ctx, LAD_VAL | LAD_CNT | LAD_SLOT);
}

SEC("xdp")
int xdp_lad_outer(struct xdp_md *ctx)
{
	return lad(ctx, LAD_VAL | LAD_CNT | LAD_SLOT | LAD_OUTER);
}

/*
 * Write rr_base + flow number, big-endian, at rr_off and pass the frame on
 * to rr_target[0]. The test run reuses one frame buffer, so each repeat
 * sees the next flow. Returns XDP_DROP only if the tail call failed, which
 * bench_prog treats as an error.
 */
SEC("xdp")
int xdp_rr(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	__u32 off = rr_off, n = rr_next;
	__be32 *field;

	rr_next = n + 1 == rr_nflows ? 0 : n + 1;
	if (off > 256)
		return XDP_DROP;
	field = data + off;
	if ((void *)(field + 1) > end)
		return XDP_DROP;
	*field = bpf_htonl(rr_base + n);
	bpf_tail_call(ctx, &rr_target, 0);
	return XDP_DROP;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
