// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Parser fuzzing of the XDP program: seeded random and mutated frames go
 * through BPF_PROG_TEST_RUN one by one, while a drain loop like the daemon's
 * (user/drain.c) swaps generations, drains the idle one into a flow table
 * and consumes the ring buffer. Checked:
 *
 *  - every run returns XDP_PASS;
 *  - counters.packets == frames run and counters.bytes == their bytes, at
 *    every drain;
 *  - map packets + ring records + overflow == frames run, exactly, in
 *    packets and in bytes, with each path checked against its own counter;
 *  - every path (map, ring, overflow) and every parse-failure reason, every
 *    VLAN depth 0..4 and every IPv6 extension-header depth 0..10 was hit.
 *
 * Frames: random bytes of random length 0..1514; valid frames built by
 * frames.h from random specs (every frame a fresh seed, from a pool of
 * addresses and ports small enough that flows repeat); and mutations of
 * such frames: truncation, bit flips, byte stores, length-field lies
 * (IPv4 IHL and total length, IPv6 payload length, extension-header
 * lengths), next-header and EtherType rewrites, random tails.
 *
 * The generation is small (FUZZ_FLOWS) and the ring a few pages, so the
 * map fills between drains and both fallbacks are taken.
 *
 * FM_FUZZ_SEED=N replays a run (the seed is printed); FM_FUZZ_FRAMES=N sets
 * the frame count (default FUZZ_FRAMES_DEFAULT, `make fuzz` runs 1,000,000).
 * The frames do not depend on what the kernel answers, so a failure at
 * frame i replays with the same seed. Needs root (BPF).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "../testlib.h"
#include "kernel/drain.h"
#include "table/flowtab.h"
#include "kernel/loader.h"
#include "lib/log.h"
#include "bpftest.h"
#include "frames.h"

#define FUZZ_MAX_LEN 1514	   /* largest frame on a 1500-byte MTU link, FCS excluded */
#define FUZZ_FRAMES_DEFAULT 200000 /* `make test`: a few seconds */
#define FUZZ_FLOWS 4096		   /* entries per generation: fills between drains */
#define FUZZ_RING_PAGES 4	   /* 16 KiB with 4 KiB pages: about 157 records */
#define FUZZ_MAX_VLANS 4	   /* tags stacked: two more than the program reads */
#define FUZZ_MAX_EXT 10		   /* IPv6 extension headers: two more than it walks */
/* Frames between two generation drains, and between two ring reads. */
#define DRAIN_EVERY_MIN 1000
#define DRAIN_EVERY_MAX 16000
#define RING_EVERY_MIN 16
#define RING_EVERY_MAX 1024

/* ------------------------------------------------------------- randomness */

static uint64_t rng_state;

/* splitmix64: one state word, so a seed is the whole replay. */
static uint64_t rnd(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Uniform in [0, n). */
static uint32_t rnd_below(uint32_t n)
{
	return n ? (uint32_t)(rnd() % n) : 0;
}

static bool one_in(uint32_t n)
{
	return rnd_below(n) == 0;
}

static uint64_t env_u64(const char *name, uint64_t dflt)
{
	const char *s = getenv(name);

	return s && *s ? strtoull(s, NULL, 0) : dflt;
}

/* ----------------------------------------------------------------- frames */

enum frame_kind {
	K_RANDOM,  /* random bytes */
	K_VALID,   /* built by frames.h, untouched */
	K_MUTATED, /* built, then mutated */
	K_NR,
};

enum mutation {
	M_TRUNCATE,
	M_BITFLIP,
	M_BYTE,
	M_IPV4_IHL,
	M_IP_LEN,  /* IPv4 total length / IPv6 payload length */
	M_EXT_LEN, /* an extension header's length byte */
	M_NEXTHDR, /* IPv4 protocol / IPv6 or extension next header */
	M_VERSION,
	M_ETHTYPE, /* EtherType or a VLAN TPID */
	M_TAIL,	   /* random bytes appended */
	M_NR,
};

static const char *const mutation_name[M_NR] = {
	"truncate", "bitflip", "byte",	  "ipv4_ihl", "ip_len",
	"ext_len",  "nexthdr", "version", "ethtype",  "tail",
};

struct fuzz_stats {
	uint64_t kind[K_NR];
	uint64_t mutation[M_NR];
	uint64_t vlan_depth[FUZZ_MAX_VLANS + 1];
	uint64_t ext_depth[FUZZ_MAX_EXT + 1];
	uint64_t short_frames; /* under an Ethernet header */
};

/* A built frame and where its headers are, after the VLAN tags went in. */
struct fuzz_frame {
	uint8_t buf[FRAME_MAX_LEN + FUZZ_MAX_VLANS * FRAME_VLAN_LEN];
	size_t len;
	int nr_vlans;
	uint16_t eth_type; /* EtherType after the tags */
	size_t l3, l4;
	int nr_ext;
	size_t ext[FRAME_MAX_EXT];
	uint8_t ext_type[FRAME_MAX_EXT];
};

static const uint8_t ext_types[] = {
	FRAME_IP_HOPOPTS, FRAME_IP_ROUTING, FRAME_IP_FRAGMENT, FRAME_IP_DSTOPTS, FRAME_IP_AH,
};

/* Protocol numbers worth landing on: the parsed ones and a few others. */
static const uint8_t protos[] = {
	FRAME_IP_HOPOPTS, FRAME_IP_ICMP,
	FRAME_IP_TCP,	  FRAME_IP_UDP,
	FRAME_IP_ROUTING, FRAME_IP_FRAGMENT,
	FRAME_IP_GRE,	  FRAME_IP_AH,
	FRAME_IP_ICMPV6,  FRAME_IP_NONE,
	FRAME_IP_DSTOPTS, FRAME_IP_SCTP,
	FRAME_IP_UDPLITE, 255,
};

static const uint16_t eth_types[] = {
	FRAME_ETH_IP,  FRAME_ETH_IPV6, FRAME_ETH_8021Q, FRAME_ETH_8021AD,
	FRAME_ETH_ARP, FRAME_ETH_LLDP, 0x0000,		0xffff,
};

#define PICK(a) ((a)[rnd_below(sizeof(a) / sizeof((a)[0]))])

static void random_bytes(uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)rnd();
}

/*
 * A random valid spec. Addresses and ports come from small pools so that
 * flows repeat (map hits) as well as start (inserts).
 */
static void random_spec(struct frame_spec *s)
{
	static const uint8_t mac_a[6] = FRAME_MAC_A, mac_b[6] = FRAME_MAC_B;
	uint32_t r = rnd_below(100);

	memset(s, 0, sizeof(*s));
	memcpy(s->src_mac, mac_a, 6);
	memcpy(s->dst_mac, mac_b, 6);
	s->src_mac[5] = (uint8_t)rnd_below(4);
	if (r < 40) {
		s->eth_type = FRAME_ETH_IP;
	} else if (r < 80) {
		s->eth_type = FRAME_ETH_IPV6;
	} else if (r < 87) {
		s->eth_type = FRAME_ETH_ARP;
	} else if (r < 93) {
		s->eth_type = FRAME_ETH_LLDP;
	} else {
		s->eth_type = (uint16_t)rnd();
		s->payload_len = (uint16_t)rnd_below(64);
	}
	s->src4[0] = s->dst4[0] = 198;
	s->src4[1] = s->dst4[1] = 18;
	s->src4[3] = (uint8_t)rnd_below(8);
	s->dst4[3] = (uint8_t)rnd_below(8);
	s->ip_id = (uint16_t)rnd();
	s->ttl = (uint8_t)rnd();
	s->src6[0] = s->dst6[0] = 0x20;
	s->src6[1] = s->dst6[1] = 0x01;
	s->src6[3] = s->dst6[3] = 0x02;
	s->src6[15] = (uint8_t)rnd_below(8);
	s->dst6[15] = (uint8_t)rnd_below(8);

	if (s->eth_type == FRAME_ETH_IP) {
		s->ip4_opt_len = (uint8_t)(4 * rnd_below(11));
		if (one_in(5)) {
			s->frag_offset = (uint16_t)(1 + rnd_below(0x1fff));
			s->more_frags = rnd() & 1;
		}
	} else if (s->eth_type == FRAME_ETH_IPV6) {
		s->nr_ext = (int)rnd_below(FUZZ_MAX_EXT + 1);
		for (int i = 0; i < s->nr_ext; i++)
			s->ext[i] = PICK(ext_types);
		/* Offsets of fragment headers are redrawn one by one later. */
		s->more_frags = rnd() & 1;
	}
	switch (rnd_below(8)) {
	case 0:
		s->l4_proto = FRAME_IP_TCP;
		s->tcp_flags = (uint8_t)rnd();
		break;
	case 1:
		s->l4_proto = FRAME_IP_UDP;
		break;
	case 2:
		s->l4_proto = FRAME_IP_UDPLITE;
		break;
	case 3:
		s->l4_proto = FRAME_IP_SCTP;
		break;
	case 4:
		s->l4_proto = s->eth_type == FRAME_ETH_IPV6 ? FRAME_IP_ICMPV6 : FRAME_IP_ICMP;
		s->icmp_type = (uint8_t)rnd_below(4) * 8;
		s->icmp_code = (uint8_t)rnd_below(2);
		break;
	case 5:
		s->l4_proto = PICK(protos);
		break;
	default:
		s->l4_proto = one_in(2) ? FRAME_IP_TCP : FRAME_IP_UDP;
		break;
	}
	s->sport = one_in(4) ? (uint16_t)rnd() : (uint16_t)(1000 + rnd_below(16));
	s->dport = one_in(4) ? (uint16_t)rnd() : (uint16_t)(80 + rnd_below(4));
	if (!s->payload_len)
		s->payload_len = one_in(10) ? (uint16_t)rnd_below(1100) : (uint16_t)rnd_below(64);
	if (one_in(2))
		s->pad_to = 60;
}

/* Insert depth tags after the MACs; every offset from 12 on moves. */
static void push_vlans(struct fuzz_frame *f, int depth)
{
	size_t add = (size_t)depth * FRAME_VLAN_LEN;

	memmove(f->buf + 12 + add, f->buf + 12, f->len - 12);
	for (int i = 0; i < depth; i++) {
		uint8_t *tag = f->buf + 12 + (size_t)i * FRAME_VLAN_LEN;
		uint16_t tpid = one_in(10) ? (uint16_t)rnd() :
				one_in(2)  ? FRAME_ETH_8021Q :
					     FRAME_ETH_8021AD;
		uint16_t tci = (uint16_t)rnd();

		tag[0] = tpid >> 8;
		tag[1] = tpid & 0xff;
		tag[2] = tci >> 8;
		tag[3] = tci & 0xff;
	}
	f->len += add;
	f->l3 += add;
	f->l4 += add;
	for (int i = 0; i < f->nr_ext; i++)
		f->ext[i] += add;
	f->nr_vlans = depth;
}

/* A valid frame from a random spec, with 0..4 VLAN tags; false if it did not fit. */
static bool build_valid(struct fuzz_frame *f, struct fuzz_stats *st)
{
	struct frame_spec s;
	struct frame_offsets off;
	int depth = (int)rnd_below(FUZZ_MAX_VLANS + 1);

	random_spec(&s);
	f->len = frame_build_off(&s, f->buf, FRAME_MAX_LEN, &off);
	if (!f->len)
		return false;
	f->eth_type = s.eth_type;
	f->l3 = off.l3;
	f->l4 = off.l4;
	f->nr_ext = s.eth_type == FRAME_ETH_IPV6 ? s.nr_ext : 0;
	for (int i = 0; i < f->nr_ext; i++) {
		f->ext[i] = off.ext[i];
		f->ext_type[i] = s.ext[i];
		/* Each fragment header its own offset: half first fragments. */
		if (s.ext[i] == FRAME_IP_FRAGMENT && one_in(2)) {
			uint16_t fo = (uint16_t)(rnd_below(0x2000) << 3 | (rnd() & 1));

			f->buf[off.ext[i] + 2] = fo >> 8;
			f->buf[off.ext[i] + 3] = fo & 0xff;
		}
	}
	push_vlans(f, depth);
	if (f->len > FUZZ_MAX_LEN)
		f->len = FUZZ_MAX_LEN;
	st->vlan_depth[depth]++;
	if (f->eth_type == FRAME_ETH_IPV6)
		st->ext_depth[f->nr_ext]++;
	return true;
}

/* Store byte v at off if the frame still reaches it. */
static bool poke(struct fuzz_frame *f, size_t off, uint8_t v)
{
	if (off >= f->len)
		return false;
	f->buf[off] = v;
	return true;
}

static void mutate(struct fuzz_frame *f, struct fuzz_stats *st)
{
	enum mutation m = (enum mutation)rnd_below(M_NR);
	bool v4 = f->eth_type == FRAME_ETH_IP, v6 = f->eth_type == FRAME_ETH_IPV6;
	size_t at;

	switch (m) {
	case M_TRUNCATE:
		f->len = rnd_below((uint32_t)f->len + 1);
		break;
	case M_BITFLIP:
		for (int n = 1 + (int)rnd_below(8); n && f->len; n--) {
			at = rnd_below((uint32_t)f->len);
			f->buf[at] ^= (uint8_t)(1u << rnd_below(8));
		}
		break;
	case M_BYTE: {
		static const uint8_t interesting[] = { 0x00, 0x01, 0x7f, 0x80, 0xff };

		if (f->len)
			f->buf[rnd_below((uint32_t)f->len)] =
				one_in(2) ? PICK(interesting) : (uint8_t)rnd();
		break;
	}
	case M_IPV4_IHL:
		/* Version 4 kept (mostly), IHL anything 0..15. */
		if (v4 && f->l3 < f->len)
			f->buf[f->l3] =
				(one_in(8) ? (uint8_t)rnd() & 0xf0 : 0x40) | (uint8_t)rnd_below(16);
		break;
	case M_IP_LEN: {
		uint16_t lie = one_in(3) ? (uint16_t)rnd_below(64) : (uint16_t)rnd();

		if (v4 || v6) {
			at = f->l3 + (v4 ? 2 : 4);
			poke(f, at, lie >> 8);
			poke(f, at + 1, lie & 0xff);
		}
		break;
	}
	case M_EXT_LEN:
		if (f->nr_ext) {
			int i = (int)rnd_below((uint32_t)f->nr_ext);

			poke(f, f->ext[i] + 1, one_in(2) ? (uint8_t)rnd_below(4) : (uint8_t)rnd());
		} else if (v6) {
			/* No chain to lie about: make the L4 header pose as one. */
			poke(f, f->l3 + 6, PICK(ext_types));
		}
		break;
	case M_NEXTHDR:
		if (v4) {
			poke(f, f->l3 + 9, PICK(protos));
		} else if (v6) {
			int i = (int)rnd_below((uint32_t)f->nr_ext + 1);

			/* The IPv6 header's next header, or one in the chain. */
			poke(f, i == f->nr_ext ? f->l3 + 6 : f->ext[i], PICK(protos));
		}
		break;
	case M_VERSION:
		if (v4 || v6)
			poke(f, f->l3,
			     (uint8_t)(rnd_below(16) << 4 |
				       (f->l3 < f->len ? f->buf[f->l3] & 0x0f : 0)));
		break;
	case M_ETHTYPE: {
		int i = (int)rnd_below((uint32_t)f->nr_vlans + 1);
		uint16_t et = one_in(4) ? (uint16_t)rnd() : PICK(eth_types);

		poke(f, 12 + (size_t)i * FRAME_VLAN_LEN, et >> 8);
		poke(f, 13 + (size_t)i * FRAME_VLAN_LEN, et & 0xff);
		break;
	}
	case M_TAIL: {
		size_t add = rnd_below(FUZZ_MAX_LEN - (uint32_t)f->len + 1);

		random_bytes(f->buf + f->len, add);
		f->len += add;
		break;
	}
	default:
		break;
	}
	st->mutation[m]++;
}

/* The next frame of the run: a third random, a sixth valid, the rest mutated. */
static void next_frame(struct fuzz_frame *f, struct fuzz_stats *st)
{
	uint32_t r = rnd_below(6);

	if (r < 2) {
		/* A quarter short (under 64 bytes), the rest anything up to 1514. */
		f->len = one_in(4) ? rnd_below(64) : rnd_below(FUZZ_MAX_LEN + 1);
		random_bytes(f->buf, f->len);
		/* Half of them get a plausible EtherType, to reach deeper. */
		if (one_in(2) && f->len >= 14) {
			uint16_t et = PICK(eth_types);

			f->buf[12] = et >> 8;
			f->buf[13] = et & 0xff;
		}
		st->kind[K_RANDOM]++;
	} else {
		while (!build_valid(f, st))
			;
		if (r == 2) {
			st->kind[K_VALID]++;
		} else {
			for (int n = 1 + (int)rnd_below(4); n; n--)
				mutate(f, st);
			st->kind[K_MUTATED]++;
		}
	}
	if (f->len < FRAME_ETH_LEN)
		st->short_frames++;
}

/* --------------------------------------------------------------- running */

static void dump_frame(uint64_t seed, uint64_t i, const struct fuzz_frame *f)
{
	fprintf(stderr,
		"  frame %" PRIu64 " of seed %" PRIu64 " (replay: FM_FUZZ_SEED=%" PRIu64
		" FM_FUZZ_FRAMES=%" PRIu64 "), %zu bytes:",
		i, seed, seed, i + 1, f->len);
	for (size_t j = 0; j < f->len; j++)
		fprintf(stderr, "%s%02x", j % 32 ? " " : "\n    ", f->buf[j]);
	fprintf(stderr, "\n");
}

/* Packets and bytes of the records a flush emits. */
struct tally {
	uint64_t packets, bytes, records;
};

static int tally_emit(const struct fm_record *r, void *ctx)
{
	struct tally *t = ctx;

	t->packets += r->packets;
	t->bytes += r->bytes;
	t->records++;
	return 0;
}

struct run {
	struct loader l;
	struct flowtab *ft;
	struct drain d;
	struct tally map, ring, overflow;
	uint64_t frames, bytes;
	uint64_t drains, ring_reads;
};

/* Ring records into the flow table, then out into the ring tally. */
static bool read_ring(struct run *r)
{
	long n = drain_ring(&r->d);
	long out;

	if (n < 0) {
		TL_FAIL("drain_ring: %s", strerror((int)-n));
		return false;
	}
	out = flowtab_flush(r->ft, FM_END_SHUTDOWN, tally_emit, &r->ring);
	if (out < 0) {
		TL_FAIL("flowtab_flush after the ring: %s", strerror((int)-out));
		return false;
	}
	r->ring_reads++;
	return true;
}

/* Swap generations, drain the idle one, check the running counters. */
static bool drain_gen(struct run *r)
{
	struct fm_counters c;
	int fd = loader_swap(&r->l);
	long n, out;
	int err;

	if (fd < 0) {
		TL_FAIL("loader_swap: %s", strerror(-fd));
		return false;
	}
	n = drain_generation(&r->d, fd);
	if (n < 0) {
		TL_FAIL("drain_generation: %s", strerror((int)-n));
		return false;
	}
	out = flowtab_flush(r->ft, FM_END_SHUTDOWN, tally_emit, &r->map);
	if (out < 0) {
		TL_FAIL("flowtab_flush after a generation: %s", strerror((int)-out));
		return false;
	}
	r->drains++;
	err = loader_read_counters(&r->l, 0, &c);
	if (err) {
		TL_FAIL("loader_read_counters: %s", strerror(-err));
		return false;
	}
	if (c.packets != r->frames || c.bytes != r->bytes) {
		TL_FAIL("after %" PRIu64 " frames (%" PRIu64 " bytes): counters say %llu packets, "
			"%llu bytes",
			r->frames, r->bytes, (unsigned long long)c.packets,
			(unsigned long long)c.bytes);
		return false;
	}
	return true;
}

static void print_reasons(const struct fm_counters *c)
{
	printf("# reasons: eth %llu, vlan %llu, ipv4 %llu, ipv4_opts %llu, ipv6 %llu, "
	       "ipv6_ext %llu, ext_chain %llu, l4 %llu\n",
	       (unsigned long long)c->err_eth, (unsigned long long)c->err_vlan,
	       (unsigned long long)c->err_ipv4, (unsigned long long)c->err_ipv4_opts,
	       (unsigned long long)c->err_ipv6, (unsigned long long)c->err_ipv6_ext,
	       (unsigned long long)c->err_ext_chain, (unsigned long long)c->err_l4);
}

static void print_stats(const struct fuzz_stats *st)
{
	printf("# frames: %" PRIu64 " random, %" PRIu64 " valid, %" PRIu64 " mutated, %" PRIu64
	       " under 14 bytes\n# mutations:",
	       st->kind[K_RANDOM], st->kind[K_VALID], st->kind[K_MUTATED], st->short_frames);
	for (int m = 0; m < M_NR; m++)
		printf(" %s %" PRIu64, mutation_name[m], st->mutation[m]);
	printf("\n# VLAN depth 0..%d:", FUZZ_MAX_VLANS);
	for (int i = 0; i <= FUZZ_MAX_VLANS; i++)
		printf(" %" PRIu64, st->vlan_depth[i]);
	printf("\n# IPv6 extension-header depth 0..%d:", FUZZ_MAX_EXT);
	for (int i = 0; i <= FUZZ_MAX_EXT; i++)
		printf(" %" PRIu64, st->ext_depth[i]);
	printf("\n");
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

TEST(parser_fuzz)
{
	const uint64_t seed =
		env_u64("FM_FUZZ_SEED", (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32));
	const uint64_t nframes = env_u64("FM_FUZZ_FRAMES", FUZZ_FRAMES_DEFAULT);
	struct loader_opts o = {
		.max_flows = FUZZ_FLOWS,
		.ringbuf_bytes = FUZZ_RING_PAGES * (uint32_t)sysconf(_SC_PAGESIZE),
	};
	static struct fuzz_frame f;
	struct fuzz_stats st = { 0 };
	struct fm_counters c;
	struct run *r;
	uint64_t next_drain, next_ring, sum_p, sum_b;
	double t0, t_run = 0, t1, elapsed;
	long n;
	int err;

	if (geteuid() != 0)
		SKIP("needs root (BPF)");
	printf("# parser_fuzz: seed %" PRIu64 " (FM_FUZZ_SEED=%" PRIu64 " replays it), %" PRIu64
	       " frames\n",
	       seed, seed, nframes);
	fflush(stdout);
	rng_state = seed;

	r = calloc(1, sizeof(*r));
	ASSERT_TRUE(r, "calloc");
	fm_log_setup_libbpf();
	err = loader_open(&r->l, &o);
	if (err) {
		TL_FAIL("loader_open(max_flows %u, ringbuf %u): %s", o.max_flows, o.ringbuf_bytes,
			strerror(-err));
		free(r);
		return;
	}
	r->ft = flowtab_new(FUZZ_FLOWS * 2);
	if (!r->ft || drain_init(&r->d, &r->l, r->ft)) {
		TL_FAIL("flowtab_new / drain_init failed");
		goto out_loader;
	}

	t0 = now_s();
	next_drain = DRAIN_EVERY_MIN + rnd_below(DRAIN_EVERY_MAX - DRAIN_EVERY_MIN);
	next_ring = RING_EVERY_MIN + rnd_below(RING_EVERY_MAX - RING_EVERY_MIN);
	for (uint64_t i = 0; i < nframes; i++) {
		int ret;

		next_frame(&f, &st);
		t1 = now_s();
		ret = bpftest_run_frame(&r->l, f.buf, f.len);
		t_run += now_s() - t1;
		if (ret != XDP_PASS_RET) {
			if (ret < 0)
				TL_FAIL("BPF_PROG_TEST_RUN on %zu bytes: %s", f.len,
					strerror(-ret));
			else
				TL_FAIL("verdict %d on %zu bytes, expected XDP_PASS", ret, f.len);
			dump_frame(seed, i, &f);
			goto out;
		}
		r->frames++;
		r->bytes += f.len;
		if (r->frames == next_ring) {
			if (!read_ring(r))
				goto out;
			next_ring += RING_EVERY_MIN + rnd_below(RING_EVERY_MAX - RING_EVERY_MIN);
		}
		if (r->frames == next_drain) {
			if (!drain_gen(r))
				goto out;
			next_drain +=
				DRAIN_EVERY_MIN + rnd_below(DRAIN_EVERY_MAX - DRAIN_EVERY_MIN);
		}
	}
	elapsed = now_s() - t0;

	/* The end, as at daemon shutdown: the ring, both generations, overflow. */
	if (!read_ring(r) || !drain_gen(r) || !drain_gen(r) || !read_ring(r))
		goto out;
	n = drain_unattributed(&r->d, 0, tally_emit, &r->overflow);
	if (n < 0) {
		TL_FAIL("drain_unattributed: %s", strerror((int)-n));
		goto out;
	}
	err = loader_read_counters(&r->l, 0, &c);
	if (err) {
		TL_FAIL("loader_read_counters: %s", strerror(-err));
		goto out;
	}

	printf("# parser_fuzz: %" PRIu64 " frames in %.1f s: %.0f frames/s overall, %.0f frames/s "
	       "in BPF_PROG_TEST_RUN (%.2f us each); %" PRIu64 " drains, %" PRIu64 " ring reads\n",
	       r->frames, elapsed, (double)r->frames / elapsed, (double)r->frames / t_run,
	       t_run * 1e6 / (double)r->frames, r->drains, r->ring_reads);
	printf("# paths: map %" PRIu64 " packets (%llu flows inserted), ring %" PRIu64
	       " records, overflow %" PRIu64 " packets; map_full %llu\n",
	       r->map.packets, (unsigned long long)c.inserts, r->ring.packets, r->overflow.packets,
	       (unsigned long long)c.map_full);
	print_stats(&st);
	print_reasons(&c);

	EXPECT_EQ(c.packets, r->frames, "counters.packets == frames run");
	EXPECT_EQ(c.bytes, r->bytes, "counters.bytes == bytes run");
	sum_p = r->map.packets + r->ring.packets + r->overflow.packets;
	sum_b = r->map.bytes + r->ring.bytes + r->overflow.bytes;
	EXPECT_EQ(sum_p, r->frames, "map packets + ring records + overflow == frames run");
	EXPECT_EQ(sum_b, r->bytes, "map bytes + ring bytes + overflow bytes == bytes run");
	EXPECT_EQ(r->map.packets, c.map_packets, "drained map packets == counters.map_packets");
	EXPECT_EQ(r->map.bytes + r->ring.bytes + r->overflow.bytes, c.bytes,
		  "bytes of the three paths == counters.bytes");
	EXPECT_EQ(r->ring.packets, c.ringbuf_packets, "ring records == counters.ringbuf_packets");
	EXPECT_EQ(r->ring.bytes, c.ringbuf_bytes, "ring bytes == counters.ringbuf_bytes");
	EXPECT_EQ(r->d.ring_records, c.ringbuf_packets, "drain's ring_records");
	EXPECT_EQ(r->overflow.packets, c.overflow_packets, "overflow row == counters");
	EXPECT_EQ(r->overflow.bytes, c.overflow_bytes, "overflow bytes row == counters");
	EXPECT_EQ(c.map_full, c.ringbuf_packets + c.ringbuf_drops,
		  "map_full == ring records + ring drops");
	EXPECT_EQ(c.ringbuf_drops, c.overflow_packets, "ringbuf_drops == overflow_packets");
	EXPECT_EQ(r->d.ring_invalid, 0, "no invalid ring record");
	EXPECT_EQ(r->d.doorbells, 0, "no doorbell (doorbell_pct 0)");

	/* A run that never took a path, or never hit a reason, proves little. */
	if (nframes >= 100000) {
		EXPECT_TRUE(c.map_packets > 0 && c.ringbuf_packets > 0 && c.overflow_packets > 0,
			    "map, ring and overflow paths all taken");
		EXPECT_TRUE(c.err_eth && c.err_vlan && c.err_ipv4 && c.err_ipv4_opts &&
				    c.err_ipv6 && c.err_ipv6_ext && c.err_ext_chain && c.err_l4,
			    "every parse-failure reason counted");
		for (int i = 0; i <= FUZZ_MAX_VLANS; i++)
			EXPECT_TRUE(st.vlan_depth[i] > 0, "every VLAN depth 0..4 run");
		for (int i = 0; i <= FUZZ_MAX_EXT; i++)
			EXPECT_TRUE(st.ext_depth[i] > 0, "every extension-header depth 0..10 run");
	}
out:
	drain_free(&r->d);
out_loader:
	flowtab_free(r->ft);
	loader_close(&r->l);
	free(r);
}

TESTLIB_MAIN("fuzz")
