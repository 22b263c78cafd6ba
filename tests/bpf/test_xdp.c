// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The XDP program, packet by packet: crafted frames (frames.h) go through
 * BPF_PROG_TEST_RUN, then the flow key and value in the active generation
 * and the per-interface counters are checked exactly.
 *
 * The table `cases` below is both the test and the documentation of what
 * the program puts in a flow key for each kind of frame. The truncation
 * sweeps cut frames at every length and derive the expected reason counter
 * from the header boundaries. Further tests cover the generation swap, the
 * map-full fallbacks (ring buffer, then overflow counters), the doorbell and
 * the interface slots. Needs root (BPF); each test loads its own program.
 *
 * BPF_PROG_TEST_RUN runs the program with ingress_ifindex of the loopback
 * device (1); frames of 0..13 bytes need a trick, see bpftest_run_frame().
 */
#include <errno.h>
#include <stddef.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "../testlib.h"
#include "kernel/loader.h"
#include "kernel/mapkey.h"
#include "lib/log.h"
#include "bpftest.h"
#include "frames.h"

#define MAX_FLOWS 1024 /* default generation size in these tests */
#define RINGBUF_BYTES (64 * 1024)
#define RB_HDR_LEN 8 /* BPF_RINGBUF_HDR_SZ: each record's header */

/* ---------------------------------------------------------------- helpers */

/* Compare and report without leaving the helper; returns whether equal. */
#define CHECK(what, got, want)                                                                     \
	({                                                                                         \
		long long _g = (long long)(got), _w = (long long)(want);                           \
		if (_g != _w)                                                                      \
			TL_FAIL("%s: %s is %lld, expected %lld", what, #got, _g, _w);              \
		_g == _w;                                                                          \
	})

static struct loader_opts default_opts(void)
{
	struct loader_opts o = {
		.max_flows = MAX_FLOWS,
		.ringbuf_bytes = RINGBUF_BYTES,
	};
	return o;
}

/*
 * Which program the frame checks run: FM_DIR_INGRESS the XDP program,
 * FM_DIR_EGRESS the TC one (BPF_PROG_TEST_RUN on an skb of lo, with
 * g_segs as its gso_segs). Every table row and sweep runs through both.
 */
static int g_dir = FM_DIR_INGRESS;
static uint32_t g_segs;

/* Run and require the hook's pass verdict. */
static bool run_pass(struct loader *l, const uint8_t *frame, size_t len, const char *what)
{
	int want = g_dir == FM_DIR_EGRESS ? TC_NEXT_RET : XDP_PASS_RET, ret, err;

	if (g_dir == FM_DIR_EGRESS) {
		err = bpftest_run_tc(l, frame, len, g_segs, 0, &ret);
	} else {
		ret = bpftest_run_frame(l, frame, len);
		err = ret < 0 ? ret : 0;
	}
	if (err) {
		TL_FAIL("%s: BPF_PROG_TEST_RUN on %zu bytes: %s", what, len, strerror(-err));
		return false;
	}
	if (ret != want) {
		TL_FAIL("%s: verdict %d, expected %d", what, ret, want);
		return false;
	}
	return true;
}

/*
 * Smallest frame the hook can be given: BPF_PROG_TEST_RUN builds an skb
 * only around a whole Ethernet header and, when that names IPv4 or IPv6
 * (untagged), a whole fixed IP header (the stack never sends less).
 */
static size_t min_frame(const struct frame_spec *s)
{
	if (g_dir != FM_DIR_EGRESS)
		return 0;
	if (!s->nr_vlans && s->eth_type == FRAME_ETH_IP)
		return FRAME_ETH_LEN + FRAME_IPV4_LEN;
	if (!s->nr_vlans && s->eth_type == FRAME_ETH_IPV6)
		return FRAME_ETH_LEN + FRAME_IPV6_LEN;
	return FRAME_ETH_LEN;
}

/* One flow of a generation, its per-CPU values merged. */
struct flow {
	struct fm_flow_key key;
	struct fm_flow_value v; /* packets, bytes summed; first min, last max; flags OR */
};

/* Read every flow of a generation map; returns how many (<= max), or -errno. */
static int read_gen(struct loader *l, int fd, struct flow *out, int max)
{
	struct fm_flow_value percpu[l->nr_cpus];
	struct fm_map_key key, next;
	struct fm_map_key *prev = NULL;
	int n = 0;

	while (!bpf_map_get_next_key(fd, prev, &next)) {
		struct flow *f;

		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, percpu))
			return -errno;
		if (n >= max)
			return -E2BIG;
		f = &out[n++];
		memset(f, 0, sizeof(*f));
		for (int cpu = 0; cpu < l->nr_cpus; cpu++) {
			const struct fm_flow_value *v = &percpu[cpu];

			/* The MACs are the inserting CPU's, as drain takes them. */
			if (v->first_seen && (!f->v.first_seen || v->first_seen < f->v.first_seen))
				mapkey_expand(&key, v->src_mac, v->dst_mac, &f->key);

			f->v.packets += v->packets;
			f->v.bytes += v->bytes;
			f->v.ip_bytes += v->ip_bytes;
			f->v.tcp_flags |= v->tcp_flags;
			if (v->first_seen && (!f->v.first_seen || v->first_seen < f->v.first_seen))
				f->v.first_seen = v->first_seen;
			if (v->last_seen > f->v.last_seen)
				f->v.last_seen = v->last_seen;
		}
	}
	return errno == ENOENT ? n : -errno;
}

/* Delete every entry of a generation (fine for tests: see DESIGN item 1). */
static void clear_gen(int fd)
{
	struct fm_map_key key;

	while (!bpf_map_get_next_key(fd, NULL, &key))
		bpf_map_delete_elem(fd, &key);
}

/* Packets over all flows of a generation, or -1 when it cannot be read. */
static long long gen_packets(struct loader *l, int fd)
{
	static struct flow flows[MAX_FLOWS];
	long long sum = 0;
	int n = read_gen(l, fd, flows, MAX_FLOWS);

	if (n < 0)
		return -1;
	for (int i = 0; i < n; i++)
		sum += flows[i].v.packets;
	return sum;
}

static bool read_counters(struct loader *l, __u32 slot, struct fm_counters *c)
{
	int err = loader_read_counters_dir(l, slot, g_dir, c);

	if (err)
		TL_FAIL("loader_read_counters(slot %u): %s", slot, strerror(-err));
	return !err;
}

/* Every fm_counters field by name, to compare all of them in one loop. */
static const struct {
	const char *name;
	size_t off;
} counter_fields[] = {
#define CF(f)                                                                                      \
	{                                                                                          \
#f, offsetof(struct fm_counters, f)                                                \
	}
	CF(packets),	     CF(bytes),		CF(map_packets),   CF(err_eth),
	CF(err_vlan),	     CF(err_ipv4),	CF(err_ipv4_opts), CF(err_ipv6),
	CF(err_ipv6_ext),    CF(err_ext_chain), CF(err_l4),	   CF(map_full),
	CF(ringbuf_packets), CF(ringbuf_bytes), CF(ringbuf_drops), CF(overflow_packets),
	CF(overflow_bytes),  CF(doorbells),	CF(inserts),	   CF(gso_skbs),
#undef CF
};
_Static_assert(sizeof(counter_fields) / sizeof(counter_fields[0]) ==
		       sizeof(struct fm_counters) / sizeof(__u64),
	       "every fm_counters field is listed");

static __u64 cfield(const struct fm_counters *c, size_t off)
{
	return *(const __u64 *)((const char *)c + off);
}

/* after - before must equal want in every field; names each mismatch. */
static bool check_deltas(const char *what, const struct fm_counters *before,
			 const struct fm_counters *after, const struct fm_counters *want)
{
	bool ok = true;

	for (size_t i = 0; i < sizeof(counter_fields) / sizeof(counter_fields[0]); i++) {
		size_t off = counter_fields[i].off;
		__u64 d = cfield(after, off) - cfield(before, off), w = cfield(want, off);

		if (d != w) {
			TL_FAIL("%s: counter %s went up by %llu, expected %llu", what,
				counter_fields[i].name, (unsigned long long)d,
				(unsigned long long)w);
			ok = false;
		}
	}
	return ok;
}

/* Parse-failure reasons, each naming its fm_counters field. */
enum reason {
	R_NONE,
	R_ETH,
	R_VLAN,
	R_IPV4,
	R_IPV4_OPTS,
	R_IPV6,
	R_IPV6_EXT,
	R_EXT_CHAIN,
	R_L4,
};

static const size_t reason_off[] = {
	[R_ETH] = offsetof(struct fm_counters, err_eth),
	[R_VLAN] = offsetof(struct fm_counters, err_vlan),
	[R_IPV4] = offsetof(struct fm_counters, err_ipv4),
	[R_IPV4_OPTS] = offsetof(struct fm_counters, err_ipv4_opts),
	[R_IPV6] = offsetof(struct fm_counters, err_ipv6),
	[R_IPV6_EXT] = offsetof(struct fm_counters, err_ipv6_ext),
	[R_EXT_CHAIN] = offsetof(struct fm_counters, err_ext_chain),
	[R_L4] = offsetof(struct fm_counters, err_l4),
};

/* The counter deltas of one frame of len bytes that lands in the map as a new flow. */
static struct fm_counters new_flow_deltas(size_t len, enum reason r)
{
	struct fm_counters c = {
		.packets = 1,
		.bytes = len,
		.map_packets = 1,
		.inserts = 1,
	};

	if (r != R_NONE)
		*(__u64 *)((char *)&c + reason_off[r]) = 1;
	return c;
}

/* What the key's addresses should hold. */
enum addr_kind {
	A_ZERO, /* non-IP, or the IP header could not be read */
	A_V4,	/* ::ffff:src4 / ::ffff:dst4 (IPv4-mapped) */
	A_V6,	/* src6 / dst6 */
};

/* The flow key fields a frame should produce; MACs and addresses come from its spec. */
struct want_key {
	bool no_macs; /* frame shorter than an Ethernet header: MACs zero */
	uint16_t eth_type;
	uint16_t vlan_id;
	enum addr_kind addr;
	uint16_t sport, dport;
	uint8_t proto;
	uint8_t icmp_type, icmp_code;
	uint8_t flags;	   /* FM_KF_* */
	uint8_t tcp_flags; /* in the value */
};

static void want_addr(const struct frame_spec *s, enum addr_kind k, bool src, uint8_t out[16])
{
	memset(out, 0, 16);
	if (k == A_V4) {
		/* IPv4-mapped IPv6: 80 zero bits, 16 one bits, the IPv4 address */
		out[10] = out[11] = 0xff;
		memcpy(out + 12, src ? s->src4 : s->dst4, 4);
	} else if (k == A_V6) {
		memcpy(out, src ? s->src6 : s->dst6, 16);
	}
}

static bool check_bytes(const char *what, const char *field, const uint8_t *got,
			const uint8_t *want, size_t n)
{
	char g[3 * 16 + 1] = "", w[3 * 16 + 1] = "";

	if (!memcmp(got, want, n))
		return true;
	for (size_t i = 0; i < n; i++) {
		sprintf(g + 3 * i, "%02x%s", got[i], i + 1 < n ? ":" : "");
		sprintf(w + 3 * i, "%02x%s", want[i], i + 1 < n ? ":" : "");
	}
	TL_FAIL("%s: key.%s is %s, expected %s", what, field, g, w);
	return false;
}

/* Check one flow's key against the spec it was built from and what it should hold. */
static bool check_key(const char *what, const struct flow *f, const struct frame_spec *s,
		      const struct want_key *w)
{
	static const uint8_t zero_mac[6];
	const struct fm_flow_key *k = &f->key;
	uint8_t addr[16];
	bool ok = true;

	ok &= CHECK(what, k->ifindex, LO_IFINDEX);
	ok &= CHECK(what, k->direction, g_dir);
	ok &= CHECK(what, k->eth_type, w->eth_type);
	ok &= CHECK(what, k->vlan_id, w->vlan_id);
	ok &= CHECK(what, k->flags, w->flags);
	ok &= check_bytes(what, "src_mac", k->src_mac, w->no_macs ? zero_mac : s->src_mac, 6);
	ok &= check_bytes(what, "dst_mac", k->dst_mac, w->no_macs ? zero_mac : s->dst_mac, 6);
	want_addr(s, w->addr, true, addr);
	ok &= check_bytes(what, "src_addr", k->src_addr, addr, 16);
	want_addr(s, w->addr, false, addr);
	ok &= check_bytes(what, "dst_addr", k->dst_addr, addr, 16);
	ok &= CHECK(what, k->src_port, w->sport);
	ok &= CHECK(what, k->dst_port, w->dport);
	ok &= CHECK(what, k->protocol, w->proto);
	ok &= CHECK(what, k->icmp_type, w->icmp_type);
	ok &= CHECK(what, k->icmp_code, w->icmp_code);
	ok &= CHECK(what, k->reserved[0] | k->reserved[1], 0);
	return ok;
}

/*
 * The IP bytes the program should count for a frame: the IPv4 total length
 * or IPv6 40 + payload length its header says (so padding and a cut do not
 * change it), when the key holds addresses (the header was read); else 0.
 */
static uint64_t want_ip_bytes(const uint8_t *frame, size_t l3, const struct want_key *w)
{
	if (w->addr == A_V4)
		return (uint64_t)frame[l3 + 2] << 8 | frame[l3 + 3];
	if (w->addr == A_V6)
		return FRAME_IPV6_LEN + ((uint64_t)frame[l3 + 4] << 8 | frame[l3 + 5]);
	return 0;
}

/* One packet of one flow: packets 1, bytes = frame length, times set. */
static bool check_value1(const char *what, const struct flow *f, size_t len, uint64_t ip_bytes,
			 uint8_t tcp_flags)
{
	bool ok = true;

	ok &= CHECK(what, f->v.packets, 1);
	ok &= CHECK(what, f->v.bytes, len);
	ok &= CHECK(what, f->v.ip_bytes, ip_bytes);
	ok &= CHECK(what, f->v.tcp_flags, tcp_flags);
	ok &= CHECK(what, f->v.first_seen != 0, 1);
	ok &= CHECK(what, f->v.last_seen >= f->v.first_seen, 1);
	return ok;
}

/*
 * Run one frame on an empty active generation and check everything: the
 * verdict, the one flow it made (key and value) and every counter delta.
 * The generation is emptied again afterwards.
 */
static bool check_one_frame(struct loader *l, const char *what, const uint8_t *frame, size_t len,
			    size_t l3, const struct frame_spec *s, const struct want_key *w,
			    enum reason r)
{
	struct fm_counters before, after, want = new_flow_deltas(len, r);
	int fd = l->gen_fd[l->active];
	struct flow flows[2];
	bool ok;
	int n;

	if (!read_counters(l, 0, &before) || !run_pass(l, frame, len, what) ||
	    !read_counters(l, 0, &after))
		return false;
	ok = check_deltas(what, &before, &after, &want);
	n = read_gen(l, fd, flows, 2);
	ok &= CHECK(what, n, 1);
	if (n == 1) {
		ok &= check_key(what, &flows[0], s, w);
		ok &= check_value1(what, &flows[0], len, want_ip_bytes(frame, l3, w), w->tcp_flags);
	}
	clear_gen(fd);
	return ok;
}

/* ------------------------------------------------------------ frame table */

/* Common parts of the specs: MACs, and addresses of either family. */
#define MACS .src_mac = FRAME_MAC_A, .dst_mac = FRAME_MAC_B
#define IP4 MACS, .eth_type = FRAME_ETH_IP, .src4 = FRAME_IP4(0, 1), .dst4 = FRAME_IP4(0, 2)
#define IP6 MACS, .eth_type = FRAME_ETH_IPV6, .src6 = FRAME_IP6(0, 1), .dst6 = FRAME_IP6(0, 2)
#define TAG(tp, id)                                                                                \
	{                                                                                          \
		.tpid = (tp), .vid = (id)                                                          \
	}

/* Post-build edits that make a header invalid in a way the builder will not. */
static void set_ipv4_version_5(uint8_t *f, const struct frame_offsets *o)
{
	f[o->l3] = 5 << 4 | 5; /* version 5, IHL 5 */
}

static void set_ipv4_ihl_4(uint8_t *f, const struct frame_offsets *o)
{
	f[o->l3] = 4 << 4 | 4; /* IHL 4: shorter than the fixed header */
}

static void set_ipv4_ihl_15(uint8_t *f, const struct frame_offsets *o)
{
	f[o->l3] = 4 << 4 | 15; /* IHL 15 (60 bytes) on a 20-byte header + 8 UDP */
}

static void set_ipv6_version_4(uint8_t *f, const struct frame_offsets *o)
{
	f[o->l3] = 4 << 4; /* version nibble 4 in an IPv6 header */
}

struct xdp_case {
	const char *desc;
	struct frame_spec f;
	void (*mangle)(uint8_t *frame, const struct frame_offsets *o);
	size_t cut; /* bytes dropped from the end of the built frame */
	struct want_key want;
	enum reason reason; /* the err_* counter that goes up by one, or none */
};

static const struct xdp_case cases[] = {
	/* IPv4 transports: ports or ICMP type/code, protocol, TCP flags. */
	{ "IPv4 TCP SYN",
	  { IP4, .l4_proto = FRAME_IP_TCP, .sport = 40000, .dport = 80,
	    .tcp_flags = FRAME_TCP_SYN },
	  .want = { .eth_type = 0x0800,
		    .addr = A_V4,
		    .sport = 40000,
		    .dport = 80,
		    .proto = 6,
		    .tcp_flags = FRAME_TCP_SYN } },
	{ "IPv4 TCP PSH|ACK with 100 bytes of data",
	  { IP4, .l4_proto = FRAME_IP_TCP, .sport = 443, .dport = 51000,
	    .tcp_flags = FRAME_TCP_PSH | FRAME_TCP_ACK, .payload_len = 100 },
	  .want = { .eth_type = 0x0800,
		    .addr = A_V4,
		    .sport = 443,
		    .dport = 51000,
		    .proto = 6,
		    .tcp_flags = FRAME_TCP_PSH | FRAME_TCP_ACK } },
	{ "IPv4 UDP (DNS)",
	  { IP4, .l4_proto = FRAME_IP_UDP, .sport = 53000, .dport = 53, .payload_len = 30 },
	  .want = { .eth_type = 0x0800, .addr = A_V4, .sport = 53000, .dport = 53, .proto = 17 } },
	{ "IPv4 UDP padded to the 60-byte Ethernet minimum: bytes count the padding",
	  { IP4, .l4_proto = FRAME_IP_UDP, .sport = 1, .dport = 2, .pad_to = 60 },
	  .want = { .eth_type = 0x0800, .addr = A_V4, .sport = 1, .dport = 2, .proto = 17 } },
	{ "IPv4 UDP-Lite",
	  { IP4, .l4_proto = FRAME_IP_UDPLITE, .sport = 5004, .dport = 5005, .payload_len = 12 },
	  .want = { .eth_type = 0x0800,
		    .addr = A_V4,
		    .sport = 5004,
		    .dport = 5005,
		    .proto = 136 } },
	{ "IPv4 SCTP",
	  { IP4, .l4_proto = FRAME_IP_SCTP, .sport = 2905, .dport = 3868, .payload_len = 16 },
	  .want = { .eth_type = 0x0800,
		    .addr = A_V4,
		    .sport = 2905,
		    .dport = 3868,
		    .proto = 132 } },
	{ "IPv4 ICMP echo request: type/code, no ports",
	  { IP4, .l4_proto = FRAME_IP_ICMP, .icmp_type = 8, .payload_len = 56 },
	  .want = { .eth_type = 0x0800, .addr = A_V4, .proto = 1, .icmp_type = 8 } },
	{ "IPv4 ICMP destination unreachable, host unreachable",
	  { IP4, .l4_proto = FRAME_IP_ICMP, .icmp_type = 3, .icmp_code = 1 },
	  .want = { .eth_type = 0x0800,
		    .addr = A_V4,
		    .proto = 1,
		    .icmp_type = 3,
		    .icmp_code = 1 } },
	{ "IPv4 GRE: a protocol without ports is counted by protocol",
	  { IP4, .l4_proto = FRAME_IP_GRE, .payload_len = 24 },
	  .want = { .eth_type = 0x0800, .addr = A_V4, .proto = 47 } },

	/* IPv6 transports. */
	{ "IPv6 TCP SYN|ACK",
	  { IP6, .l4_proto = FRAME_IP_TCP, .sport = 22, .dport = 50022,
	    .tcp_flags = FRAME_TCP_SYN | FRAME_TCP_ACK },
	  .want = { .eth_type = 0x86dd,
		    .addr = A_V6,
		    .sport = 22,
		    .dport = 50022,
		    .proto = 6,
		    .tcp_flags = FRAME_TCP_SYN | FRAME_TCP_ACK } },
	{ "IPv6 UDP",
	  { IP6, .l4_proto = FRAME_IP_UDP, .sport = 546, .dport = 547, .payload_len = 40 },
	  .want = { .eth_type = 0x86dd, .addr = A_V6, .sport = 546, .dport = 547, .proto = 17 } },
	{ "IPv6 UDP-Lite",
	  { IP6, .l4_proto = FRAME_IP_UDPLITE, .sport = 7, .dport = 9 },
	  .want = { .eth_type = 0x86dd, .addr = A_V6, .sport = 7, .dport = 9, .proto = 136 } },
	{ "IPv6 SCTP",
	  { IP6, .l4_proto = FRAME_IP_SCTP, .sport = 36412, .dport = 36412 },
	  .want = { .eth_type = 0x86dd,
		    .addr = A_V6,
		    .sport = 36412,
		    .dport = 36412,
		    .proto = 132 } },
	{ "IPv6 ICMPv6 echo request",
	  { IP6, .l4_proto = FRAME_IP_ICMPV6, .icmp_type = 128, .payload_len = 56 },
	  .want = { .eth_type = 0x86dd, .addr = A_V6, .proto = 58, .icmp_type = 128 } },
	{ "IPv6 ICMPv6 neighbour solicitation",
	  { IP6, .l4_proto = FRAME_IP_ICMPV6, .icmp_type = 135, .payload_len = 16 },
	  .want = { .eth_type = 0x86dd, .addr = A_V6, .proto = 58, .icmp_type = 135 } },
	{ "IPv6 no next header (59): counted by protocol",
	  { IP6, .l4_proto = FRAME_IP_NONE },
	  .want = { .eth_type = 0x86dd, .addr = A_V6, .proto = 59 } },

	/* VLAN tags: vlan_id is the outer tag's VID, eth_type what follows the tags. */
	{ "802.1Q VLAN 100, IPv4 UDP",
	  { IP4, .nr_vlans = 1, .vlan = { TAG(FRAME_ETH_8021Q, 100) }, .l4_proto = FRAME_IP_UDP,
	    .sport = 123, .dport = 123 },
	  .want = { .eth_type = 0x0800,
		    .vlan_id = 100,
		    .addr = A_V4,
		    .sport = 123,
		    .dport = 123,
		    .proto = 17,
		    .flags = FM_KF_VLAN } },
	{ "802.1Q VLAN 4094 with priority 7: PCP bits are not part of the VID",
	  { IP6, .nr_vlans = 1, .vlan = { { FRAME_ETH_8021Q, 4094, 7 } }, .l4_proto = FRAME_IP_TCP,
	    .sport = 1000, .dport = 2000, .tcp_flags = FRAME_TCP_RST },
	  .want = { .eth_type = 0x86dd,
		    .vlan_id = 4094,
		    .addr = A_V6,
		    .sport = 1000,
		    .dport = 2000,
		    .proto = 6,
		    .flags = FM_KF_VLAN,
		    .tcp_flags = FRAME_TCP_RST } },
	{ "802.1Q VLAN 0 (priority tag) still marks the key tagged",
	  { IP4, .nr_vlans = 1, .vlan = { { FRAME_ETH_8021Q, 0, 5 } }, .l4_proto = FRAME_IP_ICMP,
	    .icmp_type = 0 },
	  .want = { .eth_type = 0x0800,
		    .vlan_id = 0,
		    .addr = A_V4,
		    .proto = 1,
		    .flags = FM_KF_VLAN } },
	{ "QinQ: 802.1ad S-tag 200 outside 802.1Q C-tag 300, IPv4 UDP",
	  { IP4, .nr_vlans = 2, .vlan = { TAG(FRAME_ETH_8021AD, 200), TAG(FRAME_ETH_8021Q, 300) },
	    .l4_proto = FRAME_IP_UDP, .sport = 4789, .dport = 4789 },
	  .want = { .eth_type = 0x0800,
		    .vlan_id = 200,
		    .addr = A_V4,
		    .sport = 4789,
		    .dport = 4789,
		    .proto = 17,
		    .flags = FM_KF_VLAN } },
	{ "double 802.1Q (0x8100 outer too), IPv6 TCP",
	  { IP6, .nr_vlans = 2, .vlan = { TAG(FRAME_ETH_8021Q, 10), TAG(FRAME_ETH_8021Q, 20) },
	    .l4_proto = FRAME_IP_TCP, .sport = 179, .dport = 33000, .tcp_flags = FRAME_TCP_ACK },
	  .want = { .eth_type = 0x86dd,
		    .vlan_id = 10,
		    .addr = A_V6,
		    .sport = 179,
		    .dport = 33000,
		    .proto = 6,
		    .flags = FM_KF_VLAN,
		    .tcp_flags = FRAME_TCP_ACK } },
	{ "a third tag is not walked: counted as EtherType 0x8100 after two tags",
	  { MACS, .nr_vlans = 2, .vlan = { TAG(FRAME_ETH_8021AD, 1), TAG(FRAME_ETH_8021Q, 2) },
	    .eth_type = FRAME_ETH_8021Q, .payload_len = 46 },
	  .want = { .eth_type = 0x8100, .vlan_id = 1, .flags = FM_KF_VLAN } },

	/* IPv4 options and fragments. */
	{ "IPv4 with 40 bytes of options (IHL 15), TCP: ports found after them",
	  { IP4, .ip4_opt_len = 40, .l4_proto = FRAME_IP_TCP, .sport = 5000, .dport = 6000,
	    .tcp_flags = FRAME_TCP_FIN | FRAME_TCP_ACK },
	  .want = { .eth_type = 0x0800,
		    .addr = A_V4,
		    .sport = 5000,
		    .dport = 6000,
		    .proto = 6,
		    .tcp_flags = FRAME_TCP_FIN | FRAME_TCP_ACK } },
	{ "IPv4 with 4 bytes of options, UDP",
	  { IP4, .ip4_opt_len = 4, .l4_proto = FRAME_IP_UDP, .sport = 67, .dport = 68 },
	  .want = { .eth_type = 0x0800, .addr = A_V4, .sport = 67, .dport = 68, .proto = 17 } },
	{ "IPv4 first fragment (offset 0, MF): keeps its ports, not marked FRAG",
	  { IP4, .l4_proto = FRAME_IP_UDP, .sport = 4000, .dport = 4001, .more_frags = true,
	    .payload_len = 1472 },
	  .want = { .eth_type = 0x0800, .addr = A_V4, .sport = 4000, .dport = 4001, .proto = 17 } },
	{ "IPv4 middle fragment (offset 185, MF): ports 0, FRAG",
	  { IP4, .l4_proto = FRAME_IP_UDP, .sport = 4000, .dport = 4001, .frag_offset = 185,
	    .more_frags = true, .payload_len = 1480 },
	  .want = { .eth_type = 0x0800, .addr = A_V4, .proto = 17, .flags = FM_KF_FRAG } },
	{ "IPv4 last fragment (offset 370, no MF): ports 0, FRAG",
	  { IP4, .l4_proto = FRAME_IP_TCP, .frag_offset = 370, .payload_len = 100 },
	  .want = { .eth_type = 0x0800, .addr = A_V4, .proto = 6, .flags = FM_KF_FRAG } },
	{ "IPv4 later fragment with options: ports 0, FRAG",
	  { IP4, .ip4_opt_len = 8, .l4_proto = FRAME_IP_ICMP, .frag_offset = 1 },
	  .want = { .eth_type = 0x0800, .addr = A_V4, .proto = 1, .flags = FM_KF_FRAG } },

	/* IPv6 extension headers and fragments. */
	{ "IPv6 hop-by-hop, UDP",
	  { IP6, .nr_ext = 1, .ext = { FRAME_IP_HOPOPTS }, .l4_proto = FRAME_IP_UDP, .sport = 5683,
	    .dport = 5684 },
	  .want = { .eth_type = 0x86dd, .addr = A_V6, .sport = 5683, .dport = 5684, .proto = 17 } },
	{ "IPv6 hop-by-hop, routing (SRH), destination options, AH, TCP",
	  { IP6, .nr_ext = 4,
	    .ext = { FRAME_IP_HOPOPTS, FRAME_IP_ROUTING, FRAME_IP_DSTOPTS, FRAME_IP_AH },
	    .l4_proto = FRAME_IP_TCP, .sport = 8080, .dport = 8081,
	    .tcp_flags = FRAME_TCP_SYN | FRAME_TCP_URG },
	  .want = { .eth_type = 0x86dd,
		    .addr = A_V6,
		    .sport = 8080,
		    .dport = 8081,
		    .proto = 6,
		    .tcp_flags = FRAME_TCP_SYN | FRAME_TCP_URG } },
	{ "IPv6 AH, ICMPv6",
	  { IP6, .nr_ext = 1, .ext = { FRAME_IP_AH }, .l4_proto = FRAME_IP_ICMPV6,
	    .icmp_type = 129 },
	  .want = { .eth_type = 0x86dd, .addr = A_V6, .proto = 58, .icmp_type = 129 } },
	{ "IPv6 first fragment (offset 0, M): keeps its ports, not marked FRAG",
	  { IP6, .nr_ext = 1, .ext = { FRAME_IP_FRAGMENT }, .more_frags = true,
	    .l4_proto = FRAME_IP_UDP, .sport = 9000, .dport = 9001, .payload_len = 1200 },
	  .want = { .eth_type = 0x86dd, .addr = A_V6, .sport = 9000, .dport = 9001, .proto = 17 } },
	{ "IPv6 later fragment (offset 150, M): ports 0, FRAG, protocol from the fragment header",
	  { IP6, .nr_ext = 1, .ext = { FRAME_IP_FRAGMENT }, .frag_offset = 150, .more_frags = true,
	    .l4_proto = FRAME_IP_UDP, .payload_len = 1200 },
	  .want = { .eth_type = 0x86dd, .addr = A_V6, .proto = 17, .flags = FM_KF_FRAG } },
	{ "IPv6 hop-by-hop then last fragment (offset 300): ports 0, FRAG",
	  { IP6, .nr_ext = 2, .ext = { FRAME_IP_HOPOPTS, FRAME_IP_FRAGMENT }, .frag_offset = 300,
	    .l4_proto = FRAME_IP_TCP, .payload_len = 8 },
	  .want = { .eth_type = 0x86dd, .addr = A_V6, .proto = 6, .flags = FM_KF_FRAG } },
	{ "IPv6 with 8 extension headers (the limit), TCP: ports found",
	  { IP6, .nr_ext = 8,
	    .ext = { FRAME_IP_HOPOPTS, FRAME_IP_DSTOPTS, FRAME_IP_ROUTING, FRAME_IP_FRAGMENT,
		     FRAME_IP_AH, FRAME_IP_DSTOPTS, FRAME_IP_DSTOPTS, FRAME_IP_DSTOPTS },
	    .l4_proto = FRAME_IP_TCP, .sport = 1, .dport = 2, .tcp_flags = FRAME_TCP_SYN },
	  .want = { .eth_type = 0x86dd,
		    .addr = A_V6,
		    .sport = 1,
		    .dport = 2,
		    .proto = 6,
		    .tcp_flags = FRAME_TCP_SYN } },
	{ "IPv6 with 9 extension headers: err_ext_chain, counted under the 9th header",
	  { IP6, .nr_ext = 9,
	    .ext = { FRAME_IP_HOPOPTS, FRAME_IP_DSTOPTS, FRAME_IP_DSTOPTS, FRAME_IP_DSTOPTS,
		     FRAME_IP_DSTOPTS, FRAME_IP_DSTOPTS, FRAME_IP_DSTOPTS, FRAME_IP_DSTOPTS,
		     FRAME_IP_ROUTING },
	    .l4_proto = FRAME_IP_UDP, .sport = 1, .dport = 2 },
	  .want = { .eth_type = 0x86dd, .addr = A_V6, .proto = 43, .flags = FM_KF_MALFORMED },
	  .reason = R_EXT_CHAIN },

	/* Non-IP: MACs and EtherType only. */
	{ "ARP request: MACs and EtherType 0x0806 only",
	  { MACS, .eth_type = FRAME_ETH_ARP, .src4 = FRAME_IP4(0, 1), .dst4 = FRAME_IP4(0, 2) },
	  .want = { .eth_type = 0x0806 } },
	{ "ARP in VLAN 7",
	  { MACS, .eth_type = FRAME_ETH_ARP, .src4 = FRAME_IP4(0, 1), .dst4 = FRAME_IP4(0, 2),
	    .nr_vlans = 1, .vlan = { TAG(FRAME_ETH_8021Q, 7) }, .pad_to = 64 },
	  .want = { .eth_type = 0x0806, .vlan_id = 7, .flags = FM_KF_VLAN } },
	{ "LLDP to the nearest-bridge group address",
	  { .src_mac = FRAME_MAC_A,
	    .dst_mac = { 0x01, 0x80, 0xc2, 0x00, 0x00, 0x0e },
	    .eth_type = FRAME_ETH_LLDP },
	  .want = { .eth_type = 0x88cc } },
	{ "local experimental EtherType 0x88b5, bare 14-byte header",
	  { MACS, .eth_type = 0x88b5 },
	  .want = { .eth_type = 0x88b5 } },

	/* Invalid headers: counted under what was read, marked malformed. */
	{ "IPv4 EtherType carrying version 5: err_ipv4, no addresses",
	  { IP4, .l4_proto = FRAME_IP_UDP, .sport = 1, .dport = 2 },
	  set_ipv4_version_5,
	  .want = { .eth_type = 0x0800, .flags = FM_KF_MALFORMED },
	  .reason = R_IPV4 },
	{ "IPv4 IHL 4: err_ipv4, no addresses",
	  { IP4, .l4_proto = FRAME_IP_UDP, .sport = 1, .dport = 2 },
	  set_ipv4_ihl_4,
	  .want = { .eth_type = 0x0800, .flags = FM_KF_MALFORMED },
	  .reason = R_IPV4 },
	{ "IPv4 IHL 15 past the end of the frame: err_ipv4_opts, addresses kept",
	  { IP4, .l4_proto = FRAME_IP_UDP, .sport = 1, .dport = 2 },
	  set_ipv4_ihl_15,
	  .want = { .eth_type = 0x0800, .addr = A_V4, .proto = 17, .flags = FM_KF_MALFORMED },
	  .reason = R_IPV4_OPTS },
	{ "IPv6 EtherType carrying version 4: err_ipv6, no addresses",
	  { IP6, .l4_proto = FRAME_IP_TCP },
	  set_ipv6_version_4,
	  .want = { .eth_type = 0x86dd, .flags = FM_KF_MALFORMED },
	  .reason = R_IPV6 },
	{ "IPv4 TCP cut 1 byte short of its 20-byte header: err_l4, no ports",
	  { IP4, .l4_proto = FRAME_IP_TCP, .sport = 1, .dport = 2, .tcp_flags = FRAME_TCP_SYN },
	  .cut = 1,
	  .want = { .eth_type = 0x0800, .addr = A_V4, .proto = 6, .flags = FM_KF_MALFORMED },
	  .reason = R_L4 },
	{ "IPv6 ICMPv6 with only type and code (2 of 4 bytes): err_l4",
	  { IP6, .l4_proto = FRAME_IP_ICMPV6, .icmp_type = 128 },
	  .cut = FRAME_ICMP_LEN - 2,
	  .want = { .eth_type = 0x86dd, .addr = A_V6, .proto = 58, .flags = FM_KF_MALFORMED },
	  .reason = R_L4 },
	{ "IPv6 fragment header cut short: err_ipv6_ext",
	  { IP6, .nr_ext = 1, .ext = { FRAME_IP_FRAGMENT }, .frag_offset = 10,
	    .l4_proto = FRAME_IP_UDP },
	  .cut = 1,
	  .want = { .eth_type = 0x86dd, .addr = A_V6, .proto = 44, .flags = FM_KF_MALFORMED },
	  .reason = R_IPV6_EXT },
};

#define NR_CASES (sizeof(cases) / sizeof(cases[0]))

/* Every table row on its own, on an empty active generation, through g_dir's program. */
static void frame_table(void)
{
	struct loader_opts o = default_opts();
	struct loader l;

	if (bpftest_open(&l, &o))
		return;
	for (size_t i = 0; i < NR_CASES; i++) {
		const struct xdp_case *c = &cases[i];
		uint8_t frame[FRAME_MAX_LEN];
		struct frame_offsets off;
		size_t len = frame_build_off(&c->f, frame, sizeof(frame), &off);

		if (!len || c->cut >= len) {
			TL_FAIL("%s: frame_build failed (len %zu)", c->desc, len);
			continue;
		}
		if (c->mangle)
			c->mangle(frame, &off);
		len -= c->cut;
		check_one_frame(&l, c->desc, frame, len, off.l3, &c->f, &c->want, c->reason);
	}
	loader_close(&l);
}

TEST(frame_table)
{
	NEED_ROOT();
	frame_table();
}

/* The same rows through the TC egress program: same keys, direction egress. */
TEST(frame_table_egress)
{
	NEED_ROOT();
	g_dir = FM_DIR_EGRESS;
	frame_table();
	g_dir = FM_DIR_INGRESS;
}

/*
 * GSO on egress: an skb with gso_segs N counts as the N packets the wire
 * carries, each repeating the L2..L4 headers (hdr), so bytes = len +
 * (N - 1) * hdr and IP bytes = bytes - N * (L2 header). gso_segs 0 and 1
 * are one packet. (BPF_PROG_TEST_RUN takes at most about a page of skb
 * data: the payloads here are small, the program reads only skb->len.)
 */
struct gso_case {
	const char *desc;
	struct frame_spec f;
	uint32_t segs;
	size_t hdr; /* L2..L4 header bytes each segment carries */
	size_t l3;  /* L2 header bytes */
	struct want_key want;
};

static const struct gso_case gso_cases[] = {
	{ "TSO IPv4 TCP, 4 segments of 600",
	  { IP4, .l4_proto = FRAME_IP_TCP, .sport = 5001, .dport = 40000,
	    .tcp_flags = FRAME_TCP_ACK | FRAME_TCP_PSH, .payload_len = 4 * 600 },
	  4,
	  FRAME_ETH_LEN + FRAME_IPV4_LEN + FRAME_TCP_LEN,
	  FRAME_ETH_LEN,
	  .want = { .eth_type = 0x0800,
		    .addr = A_V4,
		    .sport = 5001,
		    .dport = 40000,
		    .proto = 6,
		    .tcp_flags = FRAME_TCP_ACK | FRAME_TCP_PSH } },
	{ "TSO IPv6 TCP, 3 segments",
	  { IP6, .l4_proto = FRAME_IP_TCP, .sport = 443, .dport = 50000, .tcp_flags = FRAME_TCP_ACK,
	    .payload_len = 3 * 800 },
	  3,
	  FRAME_ETH_LEN + FRAME_IPV6_LEN + FRAME_TCP_LEN,
	  FRAME_ETH_LEN,
	  .want = { .eth_type = 0x86dd,
		    .addr = A_V6,
		    .sport = 443,
		    .dport = 50000,
		    .proto = 6,
		    .tcp_flags = FRAME_TCP_ACK } },
	{ "TSO in VLAN 5: the tag is part of every segment's header",
	  { IP4, .nr_vlans = 1, .vlan = { TAG(FRAME_ETH_8021Q, 5) }, .l4_proto = FRAME_IP_TCP,
	    .sport = 1, .dport = 2, .tcp_flags = FRAME_TCP_ACK, .payload_len = 2 * 1000 },
	  2,
	  FRAME_ETH_LEN + FRAME_VLAN_LEN + FRAME_IPV4_LEN + FRAME_TCP_LEN,
	  FRAME_ETH_LEN + FRAME_VLAN_LEN,
	  .want = { .eth_type = 0x0800,
		    .vlan_id = 5,
		    .addr = A_V4,
		    .sport = 1,
		    .dport = 2,
		    .proto = 6,
		    .flags = FM_KF_VLAN,
		    .tcp_flags = FRAME_TCP_ACK } },
	{ "UDP GSO (UDP_SEGMENT) IPv4, 5 datagrams",
	  { IP4, .l4_proto = FRAME_IP_UDP, .sport = 7000, .dport = 7001, .payload_len = 5 * 200 },
	  5,
	  FRAME_ETH_LEN + FRAME_IPV4_LEN + FRAME_UDP_LEN,
	  FRAME_ETH_LEN,
	  .want = { .eth_type = 0x0800, .addr = A_V4, .sport = 7000, .dport = 7001, .proto = 17 } },
	{ "gso_segs 1: one packet",
	  { IP4, .l4_proto = FRAME_IP_TCP, .sport = 9, .dport = 10, .payload_len = 100 },
	  1,
	  0,
	  FRAME_ETH_LEN,
	  .want = { .eth_type = 0x0800, .addr = A_V4, .sport = 9, .dport = 10, .proto = 6 } },
};

TEST(egress_gso)
{
	struct loader_opts o = default_opts();
	struct loader l;

	NEED_ROOT();
	if (bpftest_open(&l, &o))
		return;
	g_dir = FM_DIR_EGRESS;
	for (size_t i = 0; i < sizeof(gso_cases) / sizeof(gso_cases[0]); i++) {
		const struct gso_case *c = &gso_cases[i];
		uint8_t frame[FRAME_MAX_LEN * 4];
		struct fm_counters before, after, want = { 0 };
		size_t len = frame_build(&c->f, frame, sizeof(frame));
		uint64_t bytes = len + (c->segs - 1) * c->hdr;
		struct flow flows[2];
		int n;

		if (!len) {
			TL_FAIL("%s: frame_build failed", c->desc);
			continue;
		}
		g_segs = c->segs;
		if (!read_counters(&l, 0, &before) || !run_pass(&l, frame, len, c->desc) ||
		    !read_counters(&l, 0, &after))
			break;
		want.packets = want.map_packets = c->segs;
		want.bytes = bytes;
		want.inserts = 1;
		want.gso_skbs = c->segs > 1;
		check_deltas(c->desc, &before, &after, &want);
		n = read_gen(&l, l.gen_fd[l.active], flows, 2);
		CHECK(c->desc, n, 1);
		if (n == 1) {
			check_key(c->desc, &flows[0], &c->f, &c->want);
			CHECK(c->desc, flows[0].v.packets, c->segs);
			CHECK(c->desc, flows[0].v.bytes, bytes);
			CHECK(c->desc, flows[0].v.ip_bytes, bytes - c->segs * c->l3);
			CHECK(c->desc, flows[0].v.tcp_flags, c->want.tcp_flags);
		}
		clear_gen(l.gen_fd[l.active]);
	}
	g_segs = 0;
	g_dir = FM_DIR_INGRESS;
	loader_close(&l);
}

/* The same flow three times: one entry, flags ORed, times ordered. */
TEST(tcp_flags_or_and_times)
{
	static const uint8_t seq[] = {
		FRAME_TCP_SYN,
		FRAME_TCP_ACK,
		FRAME_TCP_FIN | FRAME_TCP_ACK,
	};
	struct frame_spec s = { IP4, .l4_proto = FRAME_IP_TCP, .sport = 40001, .dport = 443 };
	struct loader_opts o = default_opts();
	struct fm_counters before, after;
	struct flow flows[2];
	uint8_t frame[FRAME_MAX_LEN];
	size_t total = 0;
	struct loader l;
	int n;

	NEED_ROOT();
	if (bpftest_open(&l, &o))
		return;
	read_counters(&l, 0, &before);
	for (size_t i = 0; i < sizeof(seq); i++) {
		size_t len;

		s.tcp_flags = seq[i];
		s.payload_len = 10 * i;
		len = frame_build(&s, frame, sizeof(frame));
		total += len;
		if (!bpftest_pass(&l, frame, len, "tcp flow packet"))
			goto out;
	}
	read_counters(&l, 0, &after);
	n = read_gen(&l, l.gen_fd[0], flows, 2);
	ASSERT_EQ(n, 1, "one flow for three packets of one 5-tuple");
	EXPECT_EQ(flows[0].v.packets, 3, "flow packets");
	EXPECT_EQ(flows[0].v.bytes, total, "flow bytes = sum of frame lengths");
	EXPECT_EQ(flows[0].v.tcp_flags, FRAME_TCP_SYN | FRAME_TCP_ACK | FRAME_TCP_FIN,
		  "tcp_flags is the OR of all packets");
	EXPECT_TRUE(flows[0].v.first_seen > 0, "first_seen set");
	EXPECT_TRUE(flows[0].v.last_seen >= flows[0].v.first_seen, "last_seen >= first_seen");
	EXPECT_EQ(after.inserts - before.inserts, 1, "one insert, then two hits");
	EXPECT_EQ(after.map_packets - before.map_packets, 3, "map_packets");
out:
	loader_close(&l);
}

/*
 * MACs are keyed only where there are no IP addresses (FM_KF_L2): an IP
 * flow whose MACs change keeps its first packet's (written on insert); two
 * ARP senders stay two flows, each with its MACs.
 */
TEST(macs_ip_flow_first_l2_keyed)
{
	static const uint8_t mac_c[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x0c };
	struct frame_spec s = { IP4, .l4_proto = FRAME_IP_UDP, .sport = 40002, .dport = 53 };
	struct frame_spec arp = { MACS, .eth_type = FRAME_ETH_ARP, .src4 = FRAME_IP4(0, 1),
				  .dst4 = FRAME_IP4(0, 2) };
	struct loader_opts o = default_opts();
	uint8_t frame[FRAME_MAX_LEN], first_src[6];
	struct flow flows[4];
	struct loader l;
	size_t len;
	int n;

	NEED_ROOT();
	if (bpftest_open(&l, &o))
		return;
	memcpy(first_src, s.src_mac, 6);
	len = frame_build(&s, frame, sizeof(frame));
	if (!bpftest_pass(&l, frame, len, "UDP from MAC A"))
		goto out;
	memcpy(s.src_mac, mac_c, 6);
	len = frame_build(&s, frame, sizeof(frame));
	if (!bpftest_pass(&l, frame, len, "UDP, same 5-tuple, from MAC C"))
		goto out;
	n = read_gen(&l, l.gen_fd[0], flows, 4);
	ASSERT_EQ(n, 1, "one IP flow for both MACs");
	EXPECT_EQ(flows[0].v.packets, 2, "both packets in it");
	EXPECT_TRUE(!memcmp(flows[0].key.src_mac, first_src, 6), "the first packet's source MAC");
	EXPECT_TRUE(!memcmp(flows[0].key.dst_mac, s.dst_mac, 6), "destination MAC");
	EXPECT_EQ(flows[0].key.src_port, 40002, "ports");
	clear_gen(l.gen_fd[0]);

	len = frame_build(&arp, frame, sizeof(frame));
	if (!bpftest_pass(&l, frame, len, "ARP from MAC A"))
		goto out;
	memcpy(arp.src_mac, mac_c, 6);
	len = frame_build(&arp, frame, sizeof(frame));
	if (!bpftest_pass(&l, frame, len, "ARP from MAC C"))
		goto out;
	n = read_gen(&l, l.gen_fd[0], flows, 4);
	ASSERT_EQ(n, 2, "two ARP flows, one per source MAC");
	EXPECT_TRUE(!memcmp(flows[0].key.src_mac, mac_c, 6) ||
			    !memcmp(flows[1].key.src_mac, mac_c, 6),
		    "MAC C keyed");
	EXPECT_TRUE(!memcmp(flows[0].key.src_mac, first_src, 6) ||
			    !memcmp(flows[1].key.src_mac, first_src, 6),
		    "MAC A keyed");
	for (int i = 0; i < 2; i++) {
		EXPECT_EQ(flows[i].key.eth_type, 0x0806, "ARP EtherType");
		EXPECT_EQ(flows[i].key.flags, 0, "no kernel-only flags");
		EXPECT_TRUE(!memcmp(flows[i].key.src_addr, (uint8_t[16]){ 0 }, 16), "no addresses");
	}
out:
	loader_close(&l);
}

/* ------------------------------------------------------- truncation sweeps */

/*
 * One header of a sweep frame: from `start` on, a frame cut inside this
 * header (start <= len < start + need) counts `reason` and holds `want`.
 */
struct layer {
	size_t start, need;
	enum reason reason;
	struct want_key want;
};

/*
 * Run the frame cut at every length 0..len. For each length, the reason is
 * that of the first layer it cuts into (none when all are whole); the key
 * holds what the earlier layers gave. Every run is XDP_PASS, and in the end
 * packets seen == frames run == packets in the map.
 */
static void sweep1(const char *name, const struct frame_spec *s, const struct layer *layers,
		   int nr_layers, const struct want_key *whole)
{
	uint8_t frame[FRAME_MAX_LEN];
	struct frame_offsets off;
	size_t full = frame_build_off(s, frame, sizeof(frame), &off);
	struct loader_opts o = default_opts();
	struct fm_counters start, end;
	__u64 bytes = 0, runs = 0;
	struct loader l;
	char what[160];

	if (!full) {
		TL_FAIL("%s: frame_build failed", name);
		return;
	}
	if (bpftest_open(&l, &o))
		return;
	read_counters(&l, 0, &start);
	for (size_t len = min_frame(s); len <= full; len++) {
		const struct want_key *w = whole;
		enum reason r = R_NONE;

		for (int i = 0; i < nr_layers; i++) {
			if (len < layers[i].start + layers[i].need) {
				w = &layers[i].want;
				r = layers[i].reason;
				break;
			}
		}
		snprintf(what, sizeof(what), "%s (%s) cut at %zu of %zu bytes", name,
			 g_dir ? "egress" : "ingress", len, full);
		check_one_frame(&l, what, frame, len, off.l3, s, w, r);
		bytes += len;
		runs++;
	}
	read_counters(&l, 0, &end);
	EXPECT_EQ(end.packets - start.packets, runs, "packets seen == frames run");
	EXPECT_EQ(end.map_packets - start.map_packets, runs, "map packets == frames run");
	EXPECT_EQ(end.bytes - start.bytes, bytes, "bytes seen == sum of lengths run");
	loader_close(&l);
}

/* The sweep through both programs (TC from 14 bytes: an skb needs a header). */
static void sweep(const char *name, const struct frame_spec *s, const struct layer *layers,
		  int nr_layers, const struct want_key *whole)
{
	sweep1(name, s, layers, nr_layers, whole);
	g_dir = FM_DIR_EGRESS;
	sweep1(name, s, layers, nr_layers, whole);
	g_dir = FM_DIR_INGRESS;
}

/*
 * IPv6 + TCP, 74 bytes + 6 of data:
 *   0..13  Ethernet     -> err_eth   (nothing in the key)
 *  14..53  IPv6 header  -> err_ipv6  (EtherType and MACs only)
 *  54..73  TCP header   -> err_l4    (addresses and protocol, no ports)
 *  74..80  whole TCP header: a complete key, no error
 */
TEST(truncate_ipv6_tcp)
{
	const struct frame_spec s = { IP6,	    .l4_proto = FRAME_IP_TCP,	.sport = 12345,
				      .dport = 443, .tcp_flags = FRAME_TCP_SYN, .payload_len = 6 };
	const size_t l3 = FRAME_ETH_LEN, l4 = l3 + FRAME_IPV6_LEN;
	const struct layer layers[] = {
		{ 0, FRAME_ETH_LEN, R_ETH, { .no_macs = true, .flags = FM_KF_MALFORMED } },
		{ l3, FRAME_IPV6_LEN, R_IPV6, { .eth_type = 0x86dd, .flags = FM_KF_MALFORMED } },
		{ l4,
		  FRAME_TCP_LEN,
		  R_L4,
		  { .eth_type = 0x86dd, .addr = A_V6, .proto = 6, .flags = FM_KF_MALFORMED } },
	};
	const struct want_key whole = { .eth_type = 0x86dd,
					.addr = A_V6,
					.sport = 12345,
					.dport = 443,
					.proto = 6,
					.tcp_flags = FRAME_TCP_SYN };

	NEED_ROOT();
	sweep("IPv6 TCP", &s, layers, 3, &whole);
}

/*
 * 802.1ad 100 + 802.1Q 200 + IPv4 + UDP, 50 bytes + 4 of data:
 *   0..13  Ethernet           -> err_eth
 *  14..17  outer tag's TCI    -> err_vlan (EtherType 0x88a8, no VID yet)
 *  18..21  inner tag          -> err_vlan (outer VID, EtherType 0x8100)
 *  22..41  IPv4 header        -> err_ipv4
 *  42..49  UDP header         -> err_l4
 *  50..54  complete
 */
TEST(truncate_qinq_ipv4_udp)
{
	const struct frame_spec s = { IP4,
				      .nr_vlans = 2,
				      .vlan = { TAG(FRAME_ETH_8021AD, 100),
						TAG(FRAME_ETH_8021Q, 200) },
				      .l4_proto = FRAME_IP_UDP,
				      .sport = 5353,
				      .dport = 5353,
				      .payload_len = 4 };
	const size_t l3 = FRAME_ETH_LEN + 2 * FRAME_VLAN_LEN, l4 = l3 + FRAME_IPV4_LEN;
	const struct layer layers[] = {
		{ 0, FRAME_ETH_LEN, R_ETH, { .no_macs = true, .flags = FM_KF_MALFORMED } },
		{ FRAME_ETH_LEN,
		  FRAME_VLAN_LEN,
		  R_VLAN,
		  { .eth_type = 0x88a8, .flags = FM_KF_MALFORMED } },
		{ FRAME_ETH_LEN + FRAME_VLAN_LEN,
		  FRAME_VLAN_LEN,
		  R_VLAN,
		  { .eth_type = 0x8100, .vlan_id = 100, .flags = FM_KF_VLAN | FM_KF_MALFORMED } },
		{ l3,
		  FRAME_IPV4_LEN,
		  R_IPV4,
		  { .eth_type = 0x0800, .vlan_id = 100, .flags = FM_KF_VLAN | FM_KF_MALFORMED } },
		{ l4,
		  FRAME_UDP_LEN,
		  R_L4,
		  { .eth_type = 0x0800,
		    .vlan_id = 100,
		    .addr = A_V4,
		    .proto = 17,
		    .flags = FM_KF_VLAN | FM_KF_MALFORMED } },
	};
	const struct want_key whole = { .eth_type = 0x0800,
					.vlan_id = 100,
					.addr = A_V4,
					.sport = 5353,
					.dport = 5353,
					.proto = 17,
					.flags = FM_KF_VLAN };

	NEED_ROOT();
	sweep("QinQ IPv4 UDP", &s, layers, 5, &whole);
}

/*
 * IPv4 with 12 bytes of options + SCTP, 58 bytes:
 *  14..33  fixed IPv4 header  -> err_ipv4
 *  34..45  options (IHL 8)    -> err_ipv4_opts (addresses and protocol read)
 *  46..57  SCTP common header -> err_l4
 */
TEST(truncate_ipv4_options_sctp)
{
	const struct frame_spec s = { IP4, .ip4_opt_len = 12, .l4_proto = FRAME_IP_SCTP,
				      .sport = 2905, .dport = 2906 };
	const size_t l3 = FRAME_ETH_LEN, opts = l3 + FRAME_IPV4_LEN, l4 = opts + 12;
	const struct layer layers[] = {
		{ 0, FRAME_ETH_LEN, R_ETH, { .no_macs = true, .flags = FM_KF_MALFORMED } },
		{ l3, FRAME_IPV4_LEN, R_IPV4, { .eth_type = 0x0800, .flags = FM_KF_MALFORMED } },
		{ opts,
		  12,
		  R_IPV4_OPTS,
		  { .eth_type = 0x0800, .addr = A_V4, .proto = 132, .flags = FM_KF_MALFORMED } },
		{ l4,
		  FRAME_SCTP_LEN,
		  R_L4,
		  { .eth_type = 0x0800, .addr = A_V4, .proto = 132, .flags = FM_KF_MALFORMED } },
	};
	const struct want_key whole = {
		.eth_type = 0x0800, .addr = A_V4, .sport = 2905, .dport = 2906, .proto = 132
	};

	NEED_ROOT();
	sweep("IPv4 options SCTP", &s, layers, 4, &whole);
}

/*
 * KNOWN BUG, reported, not ours to fix here: parse_ipv6() bounds-checks only
 * the first 2 bytes of a hop-by-hop, routing, destination options or AH
 * header before skipping its declared length, so a frame that ends inside
 * the rest of one is blamed on the header after it: err_l4 (not
 * err_ipv6_ext) when L4 follows, and the key carries the next header's
 * protocol. The fix in bpf/parse.h checks the whole header before skipping
 * it. Set this to 1 with that fix; 0 expects today's behaviour.
 */
#ifndef FM_EXT_LEN_CHECKED
#define FM_EXT_LEN_CHECKED 1
#endif

/*
 * IPv6 + hop-by-hop (8) + fragment, first (8) + destination options (8) +
 * ICMPv6 (8), 86 bytes. A cut inside an extension header is err_ipv6_ext
 * with key.protocol = that header's type; inside ICMPv6's first 4 bytes,
 * err_l4.
 */
TEST(truncate_ipv6_ext_chain)
{
	const struct frame_spec s = { IP6,
				      .nr_ext = 3,
				      .ext = { FRAME_IP_HOPOPTS, FRAME_IP_FRAGMENT,
					       FRAME_IP_DSTOPTS },
				      .more_frags = true,
				      .l4_proto = FRAME_IP_ICMPV6,
				      .icmp_type = 128,
				      .icmp_code = 0 };
	const size_t e0 = FRAME_ETH_LEN + FRAME_IPV6_LEN, e1 = e0 + FRAME_EXT_OPTS_LEN,
		     e2 = e1 + FRAME_EXT_FRAG_LEN, l4 = e2 + FRAME_EXT_OPTS_LEN;
#define EXT_CUT(p)                                                                                 \
	{                                                                                          \
		.eth_type = 0x86dd, .addr = A_V6, .proto = (p), .flags = FM_KF_MALFORMED           \
	}
	const struct layer layers[] = {
		{ 0, FRAME_ETH_LEN, R_ETH, { .no_macs = true, .flags = FM_KF_MALFORMED } },
		{ FRAME_ETH_LEN,
		  FRAME_IPV6_LEN,
		  R_IPV6,
		  { .eth_type = 0x86dd, .flags = FM_KF_MALFORMED } },
#if FM_EXT_LEN_CHECKED
		{ e0, FRAME_EXT_OPTS_LEN, R_IPV6_EXT, EXT_CUT(0) },
		{ e1, FRAME_EXT_FRAG_LEN, R_IPV6_EXT, EXT_CUT(44) },
		{ e2, FRAME_EXT_OPTS_LEN, R_IPV6_EXT, EXT_CUT(60) },
#else
		/* today: only next-header and length (2 bytes) are checked */
		{ e0, 2, R_IPV6_EXT, EXT_CUT(0) },
		{ e0 + 2, e1 + FRAME_EXT_FRAG_LEN - (e0 + 2), R_IPV6_EXT, EXT_CUT(44) },
		{ e2, 2, R_IPV6_EXT, EXT_CUT(60) },
		{ e2 + 2, l4 + 4 - (e2 + 2), R_L4, EXT_CUT(58) },
#endif
		/* ICMP needs type, code and checksum: 4 bytes */
		{ l4, 4, R_L4, EXT_CUT(58) },
	};
#undef EXT_CUT
	const struct want_key whole = {
		.eth_type = 0x86dd, .addr = A_V6, .proto = 58, .icmp_type = 128
	};

	NEED_ROOT();
	sweep("IPv6 ext chain ICMPv6", &s, layers, sizeof(layers) / sizeof(layers[0]), &whole);
}

/* ------------------------------------------------------------ generations */

/* Snapshot of a generation, for "untouched" comparisons. */
struct gen_snap {
	int n;
	struct flow flows[16];
};

static bool snap_gen(struct loader *l, int gen, struct gen_snap *s)
{
	s->n = read_gen(l, l->gen_fd[gen], s->flows, 16);
	if (s->n < 0)
		TL_FAIL("reading generation %d: %s", gen, strerror(-s->n));
	return s->n >= 0;
}

static bool same_snap(const struct gen_snap *a, const struct gen_snap *b)
{
	if (a->n != b->n)
		return false;
	/* The map iterates in a stable order while nothing is inserted. */
	return !memcmp(a->flows, b->flows, a->n * sizeof(a->flows[0]));
}

/*
 * Packets go to the generation in slot 0 (flows_a after load); after
 * loader_swap they go to the other one, and the old one is not written.
 */
TEST(generation_swap)
{
	struct loader_opts o = default_opts();
	struct gen_snap a0, a1, b0, b1;
	struct loader l;
	int old;

	NEED_ROOT();
	if (bpftest_open(&l, &o))
		return;
	ASSERT_EQ(l.active, 0, "generation 0 active after load");
	for (int i = 0; i < 3; i++)
		if (!bpftest_send_udp(&l, 1000 + i, NULL))
			goto out;
	bpftest_send_udp(&l, 1000, NULL); /* a hit on the first flow */
	if (!snap_gen(&l, 0, &a0) || !snap_gen(&l, 1, &b0))
		goto out;
	EXPECT_EQ(a0.n, 3, "flows in generation 0 before the swap");
	EXPECT_EQ(gen_packets(&l, l.gen_fd[0]), 4, "packets in generation 0 before the swap");
	EXPECT_EQ(b0.n, 0, "generation 1 empty before the swap");

	old = loader_swap(&l);
	ASSERT_EQ(old, l.gen_fd[0], "loader_swap returns the old generation's fd");
	ASSERT_EQ(l.active, 1, "generation 1 active after the swap");
	bpftest_send_udp(&l, 1000, NULL); /* the same flow again */
	bpftest_send_udp(&l, 2000, NULL); /* and a new one */
	if (!snap_gen(&l, 0, &a1) || !snap_gen(&l, 1, &b1))
		goto out;
	EXPECT_TRUE(same_snap(&a0, &a1), "generation 0 untouched after the swap");
	EXPECT_EQ(b1.n, 2, "flows in generation 1 after the swap");
	EXPECT_EQ(gen_packets(&l, l.gen_fd[1]), 2, "packets in generation 1 after the swap");

	/* Drain and clear the old one, swap back: packets return to it. */
	clear_gen(l.gen_fd[0]);
	old = loader_swap(&l);
	ASSERT_EQ(old, l.gen_fd[1], "second swap returns generation 1's fd");
	bpftest_send_udp(&l, 3000, NULL);
	if (!snap_gen(&l, 1, &b0))
		goto out;
	EXPECT_TRUE(same_snap(&b0, &b1), "generation 1 untouched after swapping back");
	EXPECT_EQ(gen_packets(&l, l.gen_fd[0]), 1, "generation 0 counts again after swapping back");
out:
	loader_close(&l);
}

/* ----------------------------------------------------- map full, ring buffer */

#define TINY_FLOWS 64
#define TINY_RING ((__u32)sysconf(_SC_PAGESIZE)) /* the smallest ring: one page */
/* A ring record is the 8-byte header plus the event, rounded up to 8. */
#define RING_RECORD ((RB_HDR_LEN + sizeof(struct fm_event) + 7) / 8 * 8)
#define RING_RECORDS ((int)(TINY_RING / RING_RECORD)) /* 4096-byte page: 39 of 104 bytes */

struct ring_seen {
	int packets, doorbells, other;
	int bad;	     /* records whose content did not match */
	uint16_t next_sport; /* PACKET records must come in send order */
	size_t len;	     /* frame length each PACKET record must carry */
	__u64 last_inserts;  /* DOORBELL: inserts of the last one */
};

static int on_record(void *ctx, void *data, size_t size)
{
	struct ring_seen *rs = ctx;
	const struct fm_event *e = data;

	if (size < sizeof(*e)) {
		TL_FAIL("ring record of %zu bytes, expected %zu", size, sizeof(*e));
		rs->bad++;
		return 0;
	}
	if (e->type == FM_EV_DOORBELL) {
		rs->doorbells++;
		rs->last_inserts = e->inserts;
		if (e->len || !e->ts) {
			TL_FAIL("doorbell record: len %u (expected 0), ts %llu", e->len,
				(unsigned long long)e->ts);
			rs->bad++;
		}
		return 0;
	}
	if (e->type != FM_EV_PACKET) {
		TL_FAIL("ring record type %u, expected FM_EV_PACKET or FM_EV_DOORBELL", e->type);
		rs->other++;
		return 0;
	}
	rs->packets++;
	if (e->len != rs->len || e->key.src_port != rs->next_sport || e->key.dst_port != 9 ||
	    e->key.ifindex != LO_IFINDEX || e->key.protocol != 17 || e->key.eth_type != 0x0800 ||
	    !e->ts || e->tcp_flags || e->key.src_addr[11] != 0xff || e->segs != 1 ||
	    e->ip_len != rs->len - FRAME_ETH_LEN || e->reserved) {
		TL_FAIL("ring packet record %d: len %u (want %zu), sport %u (want %u), dport %u, "
			"ifindex %u, protocol %u, eth_type 0x%04x, ts %llu",
			rs->packets, e->len, rs->len, e->key.src_port, rs->next_sport,
			e->key.dst_port, e->key.ifindex, e->key.protocol, e->key.eth_type,
			(unsigned long long)e->ts);
		rs->bad++;
	}
	rs->next_sport++;
	return 0;
}

/*
 * A 64-flow generation and a one-page ring: the first 64 new flows are
 * inserted, the next 39 (with 4 KiB pages) become ring records (map_full),
 * the rest go to the overflow counters (map_full, ringbuf_drops). Existing
 * flows still count in the map. packets == map packets + ring records +
 * overflow, exactly.
 */
TEST(map_full_ring_then_overflow)
{
	const int extra = 10, n = TINY_FLOWS + RING_RECORDS + extra;
	struct loader_opts o = { .max_flows = TINY_FLOWS, .ringbuf_bytes = TINY_RING };
	struct fm_counters c0, c, want = {};
	struct ring_seen rs = { .next_sport = 10000 + TINY_FLOWS };
	struct ring_buffer *rb = NULL;
	size_t len = 0;
	struct loader l;
	long long in_map;
	int got;

	NEED_ROOT();
	if (bpftest_open(&l, &o))
		return;
	read_counters(&l, 0, &c0);
	for (int i = 0; i < n; i++)
		if (!bpftest_send_udp(&l, 10000 + i, &len))
			goto out;
	rs.len = len;
	read_counters(&l, 0, &c);
	want.packets = n;
	want.bytes = (__u64)n * len;
	want.map_packets = TINY_FLOWS;
	want.inserts = TINY_FLOWS;
	want.map_full = RING_RECORDS + extra;
	want.ringbuf_packets = RING_RECORDS;
	want.ringbuf_bytes = RING_RECORDS * len;
	want.ringbuf_drops = extra;
	want.overflow_packets = extra;
	want.overflow_bytes = extra * len;
	check_deltas("tiny map filled", &c0, &c, &want);

	in_map = gen_packets(&l, l.gen_fd[0]);
	EXPECT_EQ(in_map, TINY_FLOWS, "packets in the full generation");
	rb = ring_buffer__new(loader_events_fd(&l), on_record, &rs, NULL);
	ASSERT_TRUE(rb, "ring_buffer__new on the events map");
	got = ring_buffer__consume(rb);
	EXPECT_EQ(got, RING_RECORDS, "records consumed from the ring");
	EXPECT_EQ(rs.packets, RING_RECORDS, "FM_EV_PACKET records");
	EXPECT_EQ(rs.doorbells, 0, "no doorbell with doorbell_pct 0");
	EXPECT_EQ(rs.bad + rs.other, 0, "ring records all well-formed");
	EXPECT_EQ(c.packets - c0.packets,
		  in_map + rs.packets + (c.overflow_packets - c0.overflow_packets),
		  "packets seen == map packets + ring records + overflow");

	/* A packet of a flow already in the full map still goes to the map. */
	bpftest_send_udp(&l, 10000, NULL);
	/* With the ring drained, a new flow is a ring record again. */
	rs.next_sport = 20000;
	bpftest_send_udp(&l, 20000, NULL);
	read_counters(&l, 0, &c);
	EXPECT_EQ(c.map_packets - c0.map_packets, TINY_FLOWS + 1, "hit on a full map is counted");
	EXPECT_EQ(c.ringbuf_packets - c0.ringbuf_packets, RING_RECORDS + 1,
		  "new flow after draining the ring is a ring record");
	EXPECT_EQ(c.overflow_packets - c0.overflow_packets, extra, "overflow unchanged");
	EXPECT_EQ(ring_buffer__consume(rb), 1, "one more record in the ring");
	EXPECT_EQ(gen_packets(&l, l.gen_fd[0]), TINY_FLOWS + 1, "packets in the map");
	EXPECT_EQ(c.packets - c0.packets,
		  gen_packets(&l, l.gen_fd[0]) + rs.packets +
			  (c.overflow_packets - c0.overflow_packets),
		  "packets seen == map packets + ring records + overflow, after refill");
out:
	ring_buffer__free(rb);
	loader_close(&l);
}

/* What the ring returned for egress_map_full_gso. */
struct gso_record {
	int n;
	struct fm_event e;
};

static int on_gso_record(void *ctx, void *data, size_t size)
{
	struct gso_record *g = ctx;

	if (size >= sizeof(g->e) && ((struct fm_event *)data)->type == FM_EV_PACKET) {
		memcpy(&g->e, data, sizeof(g->e));
		g->n++;
	}
	return 0;
}

/*
 * A GSO skb that finds the map full becomes one ring record carrying its
 * segments (segs) and wire bytes; with the ring full too, the egress
 * slot's overflow counters take all its segments.
 */
TEST(egress_map_full_gso)
{
	struct loader_opts o = { .max_flows = TINY_FLOWS, .ringbuf_bytes = TINY_RING };
	struct frame_spec s = { IP4,
				.l4_proto = FRAME_IP_TCP,
				.sport = 5001,
				.dport = 40000,
				.tcp_flags = FRAME_TCP_ACK,
				.payload_len = 3 * 500 };
	const size_t hdr = FRAME_ETH_LEN + FRAME_IPV4_LEN + FRAME_TCP_LEN;
	struct fm_counters c0, c;
	struct gso_record g = { 0 };
	struct ring_buffer *rb = NULL;
	uint8_t frame[FRAME_MAX_LEN];
	size_t len = frame_build(&s, frame, sizeof(frame)), wire = len + 2 * hdr;
	struct loader l;

	NEED_ROOT();
	if (bpftest_open(&l, &o))
		return;
	for (int i = 0; i < TINY_FLOWS; i++) /* fill the map through XDP */
		if (!bpftest_send_udp(&l, (uint16_t)(30000 + i), NULL))
			goto out;
	g_dir = FM_DIR_EGRESS;
	g_segs = 3;
	if (!read_counters(&l, 0, &c0) || !run_pass(&l, frame, len, "GSO skb, map full"))
		goto out;
	read_counters(&l, 0, &c);
	EXPECT_EQ(c.map_full - c0.map_full, 1, "one insert refused");
	EXPECT_EQ(c.ringbuf_packets - c0.ringbuf_packets, 3, "ring packets: the skb's segments");
	EXPECT_EQ(c.ringbuf_bytes - c0.ringbuf_bytes, wire, "ring bytes: every segment's");
	EXPECT_EQ(c.packets - c0.packets, 3, "egress packets seen");
	rb = ring_buffer__new(loader_events_fd(&l), on_gso_record, &g, NULL);
	ASSERT_TRUE(rb, "ring_buffer__new");
	ring_buffer__consume(rb);
	ASSERT_EQ(g.n, 1, "one ring record for the skb");
	EXPECT_EQ(g.e.segs, 3, "record segs");
	EXPECT_EQ(g.e.len, wire, "record len");
	EXPECT_EQ(g.e.ip_len, wire - 3 * FRAME_ETH_LEN, "record ip_len");
	{
		struct fm_flow_key k;

		mapkey_expand(&g.e.key, g.e.src_mac, g.e.dst_mac, &k);
		EXPECT_EQ(k.direction, FM_DIR_EGRESS, "record direction");
		EXPECT_EQ(k.src_port, 5001, "record key");
		EXPECT_TRUE(!memcmp(k.src_mac, s.src_mac, 6), "record source MAC");
	}

	/* Fill the ring, then one more GSO skb: overflow takes its segments. */
	for (int i = 0; i < RING_RECORDS + 1; i++) {
		g_segs = 1;
		s.sport = (uint16_t)(20000 + i);
		len = frame_build(&s, frame, sizeof(frame));
		run_pass(&l, frame, len, "filling the ring");
	}
	read_counters(&l, 0, &c0);
	g_segs = 4;
	s.sport = 7;
	len = frame_build(&s, frame, sizeof(frame));
	run_pass(&l, frame, len, "GSO skb, map and ring full");
	read_counters(&l, 0, &c);
	EXPECT_EQ(c.overflow_packets - c0.overflow_packets, 4, "overflow packets: 4 segments");
	EXPECT_EQ(c.overflow_bytes - c0.overflow_bytes, len + 3 * hdr, "overflow bytes");
	EXPECT_EQ(c.ringbuf_drops - c0.ringbuf_drops, 1, "one ring reservation failed");
out:
	g_segs = 0;
	g_dir = FM_DIR_INGRESS;
	ring_buffer__free(rb);
	loader_close(&l);
}

/*
 * doorbell_pct 50 of 64 flows: the doorbell rings on the 32nd insert and
 * not before, then every doorbell_every (8) inserts; hits do not count.
 * After a swap it is rearmed 32 inserts further on.
 */
TEST(doorbell)
{
	struct loader_opts o = { .max_flows = TINY_FLOWS,
				 .ringbuf_bytes = TINY_RING,
				 .doorbell_pct = 50,
				 .doorbell_every = 8 };
	struct ring_seen rs = { 0 };
	struct ring_buffer *rb = NULL;
	struct fm_counters c;
	struct loader l;
	uint16_t sport = 1;

	NEED_ROOT();
	if (bpftest_open(&l, &o))
		return;
	ASSERT_EQ(l.doorbell_fill, 32, "doorbell threshold = 50% of 64");
	rb = ring_buffer__new(loader_events_fd(&l), on_record, &rs, NULL);
	ASSERT_TRUE(rb, "ring_buffer__new on the events map");

	for (int i = 0; i < 31; i++)
		bpftest_send_udp(&l, sport++, NULL);
	for (int i = 0; i < 5; i++)
		bpftest_send_udp(&l, 1, NULL); /* hits: no inserts */
	ring_buffer__consume(rb);
	EXPECT_EQ(rs.doorbells, 0, "no doorbell after 31 inserts");
	bpftest_send_udp(&l, sport++, NULL);
	ring_buffer__consume(rb);
	EXPECT_EQ(rs.doorbells, 1, "doorbell on the 32nd insert");
	EXPECT_EQ(rs.last_inserts, 32, "doorbell record's inserts");
	for (int i = 0; i < 7; i++)
		bpftest_send_udp(&l, sport++, NULL);
	ring_buffer__consume(rb);
	EXPECT_EQ(rs.doorbells, 1, "no doorbell for inserts 33..39");
	bpftest_send_udp(&l, sport++, NULL);
	ring_buffer__consume(rb);
	EXPECT_EQ(rs.doorbells, 2, "doorbell again on insert 40 (every 8)");
	EXPECT_EQ(rs.last_inserts, 40, "second doorbell record's inserts");
	read_counters(&l, 0, &c);
	EXPECT_EQ(c.doorbells, 2, "doorbells counter");
	EXPECT_EQ(c.inserts, 40, "inserts counter");
	EXPECT_EQ(rs.packets, 0, "no packet records: the map had room");

	/* Rearmed at swap: the next doorbell is 32 inserts later (at 72). */
	ASSERT_TRUE(loader_swap(&l) >= 0, "loader_swap");
	for (int i = 0; i < 31; i++)
		bpftest_send_udp(&l, sport++, NULL);
	ring_buffer__consume(rb);
	EXPECT_EQ(rs.doorbells, 2, "no doorbell for 31 inserts after the swap");
	bpftest_send_udp(&l, sport++, NULL);
	ring_buffer__consume(rb);
	EXPECT_EQ(rs.doorbells, 3, "doorbell on the 32nd insert after the swap");
	EXPECT_EQ(rs.last_inserts, 72, "third doorbell record's inserts");
	ring_buffer__free(rb);
	loader_close(&l);
}

/* ------------------------------------------------------- interface slots */

/* Counters of slots 0..3 after one frame, for an interface list. */
static void slot_case(const char *what, int nr, const int *ifindex, __u32 want_slot)
{
	struct loader_opts o = default_opts();
	struct fm_counters c;
	struct loader l;
	size_t len;
	char msg[160];

	o.nr_ifaces = nr;
	for (int i = 0; i < nr; i++)
		o.ifindex[i] = ifindex[i];
	if (bpftest_open(&l, &o))
		return;
	if (bpftest_send_udp(&l, 7, &len)) {
		for (__u32 slot = 0; slot <= 3; slot++) {
			if (!read_counters(&l, slot, &c))
				break;
			snprintf(msg, sizeof(msg), "%s: slot %u packets", what, slot);
			EXPECT_EQ(c.packets, slot == want_slot, msg);
			snprintf(msg, sizeof(msg), "%s: slot %u bytes", what, slot);
			EXPECT_EQ(c.bytes, slot == want_slot ? len : 0, msg);
			snprintf(msg, sizeof(msg), "%s: slot %u map_packets", what, slot);
			EXPECT_EQ(c.map_packets, slot == want_slot, msg);
		}
	}
	loader_close(&l);
}

TEST(ifindex_slots)
{
	static const int lo[] = { LO_IFINDEX };
	/* 0x7ffffff0: an ifindex no interface here has */
	static const int other_then_lo[] = { 0x7ffffff0, LO_IFINDEX };
	static const int other[] = { 0x7ffffff0 };

	NEED_ROOT();
	slot_case("no interface list", 0, NULL, 0);
	slot_case("list {lo}", 1, lo, 1);
	slot_case("list {other, lo}", 2, other_then_lo, 2);
	slot_case("list {other}: lo is not in it", 1, other, 0);
}

TESTLIB_MAIN("xdp")
