// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Unit tests of the userspace flow table: merge semantics, each end reason
 * and their precedence, exact conservation of packets and bytes per key,
 * and a randomized comparison against a plain reference model.
 *
 * The randomized tests print their seed; FLOWTAB_SEED=N replays one.
 */
#include <errno.h>
#include <stdbool.h>
#include <time.h>

#include "../testlib.h"
#include "table/flowtab.h"

/* One flowtab_add delta, as a compound literal. */
#define DELTA(pk, by, first, last, flags)                                                          \
	(&(struct flowtab_delta){ .packets = (pk),                                                 \
				  .bytes = (by),                                                   \
				  .first_ms = (first),                                             \
				  .last_ms = (last),                                               \
				  .tcp_flags = (flags) })

#define T0 1700000000000LL /* an epoch-ms "now", as the daemon sees */
#define TCP 6
#define UDP 17
#define FIN 0x01
#define SYN 0x02
#define RST 0x04
#define PSH 0x08
#define ACK 0x10

static const struct flowtab_timeouts dflt = FLOWTAB_TIMEOUTS_DEFAULT;

/*
 * Key number i: 198.18.0.0/15 source address and a source port carry i, so
 * a record says which key it was (key_idx).
 */
static void mkkey(struct fm_flow_key *k, uint32_t i, uint8_t proto)
{
	memset(k, 0, sizeof(*k));
	k->ifindex = 2;
	k->eth_type = 0x0800;
	memcpy(k->src_mac, "\x02\x00\x00\x00\x00\x01", 6);
	memcpy(k->dst_mac, "\x02\x00\x00\x00\x00\x02", 6);
	k->src_addr[10] = k->src_addr[11] = 0xff;
	k->src_addr[12] = 198;
	k->src_addr[13] = 18 + ((i >> 16) & 1);
	k->src_addr[14] = (i >> 8) & 0xff;
	k->src_addr[15] = i & 0xff;
	k->dst_addr[10] = k->dst_addr[11] = 0xff;
	k->dst_addr[12] = 198;
	k->dst_addr[13] = 19;
	k->dst_addr[15] = 1;
	k->src_port = (uint16_t)(1024 + (i >> 17));
	k->dst_port = proto == TCP ? 80 : proto == UDP ? 53 : 0;
	k->protocol = proto;
}

static uint32_t key_idx(const struct fm_flow_key *k)
{
	return ((uint32_t)(k->src_port - 1024) << 17) | ((uint32_t)(k->src_addr[13] - 18) << 16) |
	       ((uint32_t)k->src_addr[14] << 8) | k->src_addr[15];
}

/* Collects emitted records; refuses one when asked to. */
struct sink {
	struct fm_record *recs;
	size_t n, cap;
	long fail_at; /* refuse the record offered when n == fail_at; -1: never */
	bool keep;    /* store records (else only count) */
	size_t zero;  /* records with packets == 0: must stay 0 */
	size_t taken; /* records accepted over the sink's life */
	uint64_t packets, bytes;
};

static void sink_init(struct sink *s, bool keep)
{
	memset(s, 0, sizeof(*s));
	s->fail_at = -1;
	s->keep = keep;
}

static void sink_fini(struct sink *s)
{
	free(s->recs);
}

static int sink_emit(const struct fm_record *r, void *ctx)
{
	struct sink *s = ctx;

	if (s->fail_at >= 0 && (long)s->n == s->fail_at)
		return -ENOBUFS;
	if (!r->packets)
		s->zero++;
	s->packets += r->packets;
	s->bytes += r->bytes;
	s->taken++;
	if (s->keep) {
		if (s->n == s->cap) {
			s->cap = s->cap ? s->cap * 2 : 64;
			s->recs = realloc(s->recs, s->cap * sizeof(*s->recs));
			if (!s->recs)
				abort();
		}
		memcpy(&s->recs[s->n], r, sizeof(*r));
	}
	s->n++;
	return 0;
}

static int add(struct flowtab *t, uint32_t i, uint8_t proto, uint64_t pk, uint64_t by,
	       int64_t first, int64_t last, uint8_t flags)
{
	struct fm_flow_key k;

	mkkey(&k, i, proto);
	return flowtab_add(t, &k, DELTA(pk, by, first, last, flags));
}

/* A pointer to timeouts, for one call. */
#define TMO(idle, active, linger)                                                                  \
	(&(struct flowtab_timeouts){                                                               \
		.idle_ms = (idle), .active_ms = (active), .tcp_linger_ms = (linger) })

TEST(new_free_empty)
{
	struct flowtab *t = flowtab_new(0);
	struct sink s;

	ASSERT_TRUE(t, "flowtab_new(0)");
	sink_init(&s, true);
	EXPECT_EQ(flowtab_count(t), 0, "empty count");
	EXPECT_EQ(flowtab_expire(t, T0, NULL, sink_emit, &s), 0, "expire empty");
	EXPECT_EQ(flowtab_evict_oldest(t, 10, FM_END_PRESSURE, sink_emit, &s), 0, "evict empty");
	EXPECT_EQ(flowtab_flush(t, FM_END_SHUTDOWN, sink_emit, &s), 0, "flush empty");
	EXPECT_EQ(s.n, 0, "records from an empty table");
	flowtab_free(t);
	flowtab_free(NULL);
	sink_fini(&s);
}

TEST(rejects_bad_arguments)
{
	struct flowtab *t = flowtab_new(16);
	struct flowtab_timeouts to = dflt;
	struct sink s;

	ASSERT_TRUE(t, "flowtab_new");
	sink_init(&s, true);
	EXPECT_EQ(add(t, 1, UDP, 0, 0, T0, T0, 0), -EINVAL, "delta with no packets");
	EXPECT_EQ(add(t, 1, UDP, 0, 100, T0, T0, 0), -EINVAL, "bytes without packets");
	EXPECT_EQ(add(t, 1, UDP, 1, 100, T0 + 1, T0, 0), -EINVAL, "first after last");
	EXPECT_EQ(flowtab_count(t), 0, "rejected deltas make no flow");
	ASSERT_EQ(add(t, 1, UDP, 1, 100, T0, T0, 0), 0, "add");
	to.idle_ms = -1;
	EXPECT_EQ(flowtab_expire(t, T0, &to, sink_emit, &s), -EINVAL, "negative idle");
	to = dflt;
	to.active_ms = -1;
	EXPECT_EQ(flowtab_expire(t, T0, &to, sink_emit, &s), -EINVAL, "negative active");
	to = dflt;
	to.tcp_linger_ms = -1;
	EXPECT_EQ(flowtab_expire(t, T0, &to, sink_emit, &s), -EINVAL, "negative linger");
	EXPECT_EQ(flowtab_expire(t, T0, &dflt, NULL, &s), -EINVAL, "no emit");
	EXPECT_EQ(flowtab_evict_oldest(t, 1, FM_END__MAX, sink_emit, &s), -EINVAL, "bad reason");
	EXPECT_EQ(flowtab_flush(t, (enum fm_end_reason)200, sink_emit, &s), -EINVAL, "bad reason");
	EXPECT_EQ(flowtab_count(t), 1, "flow kept");
	EXPECT_EQ(s.n, 0, "nothing emitted");
	flowtab_free(t);
	sink_fini(&s);
}

TEST(merge_min_max_or)
{
	struct flowtab *t = flowtab_new(16);
	struct sink s;

	ASSERT_TRUE(t, "flowtab_new");
	sink_init(&s, true);
	ASSERT_EQ(add(t, 7, TCP, 2, 200, T0 + 1000, T0 + 2000, SYN), 0, "delta 1");
	ASSERT_EQ(add(t, 7, TCP, 3, 300, T0 + 500, T0 + 1500, ACK), 0, "delta 2: earlier first");
	ASSERT_EQ(add(t, 7, TCP, 1, 60, T0 + 1200, T0 + 3000, PSH | ACK), 0, "delta 3: later last");
	EXPECT_EQ(flowtab_count(t), 1, "one flow");
	ASSERT_EQ(flowtab_flush(t, FM_END_SHUTDOWN, sink_emit, &s), 1, "flush");
	ASSERT_EQ(s.n, 1, "one record");
	EXPECT_EQ(key_idx(&s.recs[0].key), 7, "key");
	EXPECT_EQ(s.recs[0].packets, 6, "packets add");
	EXPECT_EQ(s.recs[0].bytes, 560, "bytes add");
	EXPECT_EQ(s.recs[0].first_seen_ms, T0 + 500, "first = min");
	EXPECT_EQ(s.recs[0].last_seen_ms, T0 + 3000, "last = max");
	EXPECT_EQ(s.recs[0].tcp_flags, SYN | ACK | PSH, "flags OR");
	EXPECT_EQ(s.recs[0].end_reason, FM_END_SHUTDOWN, "reason");
	EXPECT_EQ(flowtab_count(t), 0, "flush empties");
	flowtab_free(t);
	sink_fini(&s);
}

/* Keys differing in any one bit, reserved bytes included, are distinct flows. */
TEST(every_key_byte_counts)
{
	struct flowtab *t = flowtab_new(4);
	struct fm_flow_key base, k;
	struct sink s;
	int bad = 0;

	ASSERT_TRUE(t, "flowtab_new");
	sink_init(&s, true);
	mkkey(&base, 1, TCP);
	ASSERT_EQ(flowtab_add(t, &base, DELTA(1, 1, T0, T0, 0)), 0, "base");
	for (size_t b = 0; b < sizeof(k); b++) {
		k = base;
		((uint8_t *)&k)[b] ^= 0x80;
		bad |= flowtab_add(t, &k, DELTA(1, 1, T0, T0, 0));
	}
	EXPECT_EQ(bad, 0, "adds");
	ASSERT_EQ(flowtab_add(t, &base, DELTA(1, 1, T0, T0, 0)), 0, "base again merges");
	EXPECT_EQ(flowtab_count(t), 65, "base + 64 one-byte variants");
	ASSERT_EQ(flowtab_flush(t, FM_END_SHUTDOWN, sink_emit, &s), 65, "flush");
	EXPECT_EQ(s.packets, 66, "all packets out");
	for (size_t i = 0; i < s.n; i++) {
		if (!memcmp(&s.recs[i].key, &base, sizeof(base)))
			EXPECT_EQ(s.recs[i].packets, 2, "base merged");
	}
	flowtab_free(t);
	sink_fini(&s);
}

TEST(idle_timeout_boundary)
{
	struct flowtab *t = flowtab_new(16);
	struct sink s;

	ASSERT_TRUE(t, "flowtab_new");
	sink_init(&s, true);
	ASSERT_EQ(add(t, 1, UDP, 4, 400, T0, T0 + 100, 0), 0, "add");
	EXPECT_EQ(flowtab_expire(t, T0 + 100 + 14999, &dflt, sink_emit, &s), 0, "1 ms early");
	EXPECT_EQ(flowtab_count(t), 1, "still open");
	ASSERT_EQ(flowtab_expire(t, T0 + 100 + 15000, &dflt, sink_emit, &s), 1,
		  "now - last == idle");
	ASSERT_EQ(s.n, 1, "one record");
	EXPECT_EQ(s.recs[0].end_reason, FM_END_IDLE, "reason");
	EXPECT_EQ(s.recs[0].packets, 4, "packets");
	EXPECT_EQ(s.recs[0].first_seen_ms, T0, "first");
	EXPECT_EQ(s.recs[0].last_seen_ms, T0 + 100, "last");
	EXPECT_EQ(flowtab_count(t), 0, "removed");
	EXPECT_EQ(flowtab_expire(t, T0 + 100000, &dflt, sink_emit, &s), 0, "no second export");

	/* NULL timeouts mean the defaults. */
	ASSERT_EQ(add(t, 2, UDP, 1, 100, T0, T0, 0), 0, "add");
	EXPECT_EQ(flowtab_expire(t, T0 + 14999, NULL, sink_emit, &s), 0, "default idle, early");
	EXPECT_EQ(flowtab_expire(t, T0 + 15000, NULL, sink_emit, &s), 1, "default idle");
	flowtab_free(t);
	sink_fini(&s);
}

/*
 * A flow sending every second for 130 s with the default timeouts: two
 * active records then an idle one; each new record starts at the first
 * packet after the export, flags restart, and the sums are exact.
 */
TEST(active_timeout_splits_flow)
{
	struct flowtab *t = flowtab_new(16);
	uint64_t pk = 0, by = 0;
	int64_t now;
	struct sink s;

	ASSERT_TRUE(t, "flowtab_new");
	sink_init(&s, true);
	for (now = T0; now < T0 + 130000; now += 1000) {
		uint8_t fl = now == T0 ? SYN : ACK;

		if (now >= T0 + 65000 && now < T0 + 66000)
			fl |= PSH;
		ASSERT_TRUE(flowtab_expire(t, now, &dflt, sink_emit, &s) >= 0, "expire");
		ASSERT_EQ(add(t, 3, TCP, 2, 150, now - 10, now, fl), 0, "add");
		pk += 2;
		by += 150;
		EXPECT_EQ(flowtab_count(t), 1, "the flow stays one entry");
	}
	ASSERT_EQ(s.n, 2, "two active records while it runs");
	EXPECT_EQ(s.recs[0].end_reason, FM_END_ACTIVE, "first record");
	EXPECT_EQ(s.recs[0].first_seen_ms, T0 - 10, "first record starts at the first packet");
	EXPECT_EQ(s.recs[0].last_seen_ms, T0 + 59000, "exported when first + 60 s was reached");
	EXPECT_EQ(s.recs[0].packets, 120, "60 deltas");
	EXPECT_EQ(s.recs[0].tcp_flags, SYN | ACK, "flags of record 1");
	EXPECT_EQ(s.recs[1].end_reason, FM_END_ACTIVE, "second record");
	EXPECT_EQ(s.recs[1].first_seen_ms, T0 + 60000 - 10, "first packet after the export");
	EXPECT_EQ(s.recs[1].tcp_flags, ACK | PSH, "flags restart with the record");
	ASSERT_EQ(flowtab_expire(t, now - 1000 + 15000, &dflt, sink_emit, &s), 1,
		  "idle at the end");
	ASSERT_EQ(s.n, 3, "three records");
	EXPECT_EQ(s.recs[2].end_reason, FM_END_IDLE, "last record");
	EXPECT_EQ(s.recs[2].tcp_flags, ACK, "flags of record 3");
	EXPECT_EQ(s.recs[2].last_seen_ms, now - 1000, "last packet");
	EXPECT_EQ(s.recs[0].last_seen_ms + 1000 - 10, s.recs[1].first_seen_ms, "no gap");
	EXPECT_EQ(s.recs[1].last_seen_ms + 1000 - 10, s.recs[2].first_seen_ms, "no gap");
	EXPECT_EQ(s.packets, pk, "sum of records == packets added");
	EXPECT_EQ(s.bytes, by, "sum of records == bytes added");
	EXPECT_EQ(s.zero, 0, "no zero-packet record");
	EXPECT_EQ(flowtab_count(t), 0, "gone");
	flowtab_free(t);
	sink_fini(&s);
}

/* After an active export with no later delta, the entry goes without a row. */
TEST(zero_packet_entries_never_emitted)
{
	struct flowtab *t = flowtab_new(16);
	struct sink s;

	ASSERT_TRUE(t, "flowtab_new");
	sink_init(&s, true);
	/* Idle: flow 1 restarted, then silent. */
	ASSERT_EQ(add(t, 1, UDP, 5, 500, T0, T0 + 59000, 0), 0, "add");
	ASSERT_EQ(flowtab_expire(t, T0 + 60000, &dflt, sink_emit, &s), 1, "active export");
	EXPECT_EQ(s.recs[0].end_reason, FM_END_ACTIVE, "reason");
	EXPECT_EQ(flowtab_count(t), 1, "kept for the next record");
	EXPECT_EQ(flowtab_expire(t, T0 + 73999, &dflt, sink_emit, &s), 0, "not idle yet");
	EXPECT_EQ(flowtab_expire(t, T0 + 74000, &dflt, sink_emit, &s), 0, "idle: nothing emitted");
	EXPECT_EQ(flowtab_count(t), 0, "removed silently");

	/* TCP end: flow 2 saw FIN, restarted by active before its linger ended. */
	ASSERT_EQ(add(t, 2, TCP, 5, 500, T0, T0 + 59000, FIN | ACK), 0, "add");
	ASSERT_EQ(flowtab_expire(t, T0 + 60000, TMO(15000, 60000, 5000), sink_emit, &s), 1,
		  "active before the linger ended");
	EXPECT_EQ(s.recs[1].end_reason, FM_END_ACTIVE, "reason");
	EXPECT_EQ(flowtab_expire(t, T0 + 64000, TMO(15000, 60000, 5000), sink_emit, &s), 0,
		  "linger over: nothing emitted");
	EXPECT_EQ(flowtab_count(t), 0, "removed silently");

	/* Flush and evict skip it too. */
	ASSERT_EQ(add(t, 3, UDP, 5, 500, T0, T0 + 59000, 0), 0, "add");
	ASSERT_EQ(flowtab_expire(t, T0 + 60000, &dflt, sink_emit, &s), 1, "active export");
	EXPECT_EQ(flowtab_flush(t, FM_END_SHUTDOWN, sink_emit, &s), 0, "flush emits nothing");
	EXPECT_EQ(flowtab_count(t), 0, "flush empties");
	EXPECT_EQ(s.zero, 0, "no zero-packet record");
	EXPECT_EQ(s.packets, 15, "sum");
	flowtab_free(t);
	sink_fini(&s);
}

TEST(tcp_fin_linger)
{
	struct flowtab *t = flowtab_new(16);
	struct sink s;

	ASSERT_TRUE(t, "flowtab_new");
	sink_init(&s, true);
	ASSERT_EQ(add(t, 1, TCP, 3, 300, T0, T0 + 1000, SYN | ACK), 0, "open");
	ASSERT_EQ(add(t, 1, TCP, 2, 120, T0 + 4000, T0 + 5000, FIN | ACK), 0, "FIN at +5000");
	ASSERT_EQ(add(t, 1, TCP, 1, 60, T0 + 6000, T0 + 6000, ACK), 0, "last ACK in the linger");
	ASSERT_EQ(add(t, 1, TCP, 1, 60, T0 + 6500, T0 + 6500, FIN | ACK), 0,
		  "second FIN: the linger still runs from the first");
	EXPECT_EQ(flowtab_expire(t, T0 + 6999, &dflt, sink_emit, &s), 0, "linger not over");
	ASSERT_EQ(flowtab_expire(t, T0 + 7000, &dflt, sink_emit, &s), 1, "FIN + 2000");
	EXPECT_EQ(s.recs[0].end_reason, FM_END_TCP_END, "reason");
	EXPECT_EQ(s.recs[0].packets, 7, "packets in the linger belong to the flow");
	EXPECT_EQ(s.recs[0].last_seen_ms, T0 + 6500, "last");
	EXPECT_EQ(s.recs[0].tcp_flags, SYN | ACK | FIN, "flags");
	EXPECT_EQ(flowtab_count(t), 0, "removed");

	/* A late packet starts a new flow, which ends by idle (no FIN of its own). */
	ASSERT_EQ(add(t, 1, TCP, 1, 60, T0 + 7500, T0 + 7500, ACK), 0, "late ACK");
	EXPECT_EQ(flowtab_expire(t, T0 + 20000, &dflt, sink_emit, &s), 0, "new flow, no FIN");
	ASSERT_EQ(flowtab_expire(t, T0 + 22500, &dflt, sink_emit, &s), 1, "idle");
	EXPECT_EQ(s.recs[1].end_reason, FM_END_IDLE, "reason");
	EXPECT_EQ(s.recs[1].packets, 1, "the late packet alone");
	EXPECT_EQ(s.recs[1].first_seen_ms, T0 + 7500, "first");
	EXPECT_EQ(s.packets, 8, "sum");
	flowtab_free(t);
	sink_fini(&s);
}

TEST(tcp_rst_and_non_tcp)
{
	struct flowtab *t = flowtab_new(16);
	struct sink s;

	ASSERT_TRUE(t, "flowtab_new");
	sink_init(&s, true);
	ASSERT_EQ(add(t, 1, TCP, 1, 60, T0, T0, SYN), 0, "SYN");
	ASSERT_EQ(add(t, 1, TCP, 1, 60, T0 + 10, T0 + 10, RST), 0, "RST");
	/* Same flag bits on UDP and ICMP are not TCP flags. */
	ASSERT_EQ(add(t, 2, UDP, 1, 60, T0, T0 + 10, FIN | RST), 0, "UDP");
	ASSERT_EQ(add(t, 3, 1, 1, 60, T0, T0 + 10, FIN | RST), 0, "ICMP");
	ASSERT_EQ(flowtab_expire(t, T0 + 2010, &dflt, sink_emit, &s), 1, "RST + 2000");
	EXPECT_EQ(key_idx(&s.recs[0].key), 1, "the TCP flow");
	EXPECT_EQ(s.recs[0].end_reason, FM_END_TCP_END, "reason");
	EXPECT_EQ(s.recs[0].tcp_flags, SYN | RST, "flags");
	EXPECT_EQ(flowtab_count(t), 2, "UDP and ICMP stay");
	ASSERT_EQ(flowtab_expire(t, T0 + 15010, &dflt, sink_emit, &s), 2, "they go idle");
	EXPECT_EQ(s.recs[1].end_reason, FM_END_IDLE, "reason");
	EXPECT_EQ(s.recs[2].end_reason, FM_END_IDLE, "reason");
	flowtab_free(t);
	sink_fini(&s);
}

TEST(precedence)
{
	struct flowtab *t = flowtab_new(16);
	struct sink s;

	ASSERT_TRUE(t, "flowtab_new");
	sink_init(&s, true);
	/* All three due: TCP end wins. */
	ASSERT_EQ(add(t, 1, TCP, 1, 60, T0, T0, FIN), 0, "add");
	ASSERT_EQ(flowtab_expire(t, T0 + 100000, &dflt, sink_emit, &s), 1, "expire");
	EXPECT_EQ(s.recs[0].end_reason, FM_END_TCP_END, "tcp_end over idle and active");
	/* Idle and active due: idle wins. */
	ASSERT_EQ(add(t, 2, TCP, 1, 60, T0, T0, ACK), 0, "add");
	ASSERT_EQ(flowtab_expire(t, T0 + 60000, &dflt, sink_emit, &s), 1, "expire");
	EXPECT_EQ(s.recs[1].end_reason, FM_END_IDLE, "idle over active");
	EXPECT_EQ(flowtab_count(t), 0, "idle removes");
	/* TCP end and active due, not idle: TCP end wins. */
	ASSERT_EQ(add(t, 3, TCP, 1, 60, T0, T0, SYN), 0, "add");
	ASSERT_EQ(add(t, 3, TCP, 1, 60, T0 + 50000, T0 + 50000, FIN), 0, "add");
	ASSERT_EQ(flowtab_expire(t, T0 + 60000, &dflt, sink_emit, &s), 1, "expire");
	EXPECT_EQ(s.recs[2].end_reason, FM_END_TCP_END, "tcp_end over active");
	EXPECT_EQ(s.recs[2].packets, 2, "whole flow");
	/* Idle due, FIN seen but its linger (set long) not over: idle. */
	ASSERT_EQ(add(t, 4, TCP, 1, 60, T0, T0, FIN), 0, "add");
	ASSERT_EQ(flowtab_expire(t, T0 + 15000, TMO(15000, 60000, 20000), sink_emit, &s), 1,
		  "expire");
	EXPECT_EQ(s.recs[3].end_reason, FM_END_IDLE, "idle before the linger ends");
	EXPECT_EQ(flowtab_count(t), 0, "empty");
	flowtab_free(t);
	sink_fini(&s);
}

TEST(flush_at_shutdown)
{
	struct flowtab *t = flowtab_new(16);
	struct sink s;

	ASSERT_TRUE(t, "flowtab_new");
	sink_init(&s, true);
	for (uint32_t i = 0; i < 100; i++)
		ASSERT_EQ(add(t, i, i % 2 ? TCP : UDP, i + 1, 100 * (i + 1), T0 + i, T0 + 2 * i,
			      i % 2 ? ACK : 0),
			  0, "add");
	ASSERT_EQ(flowtab_flush(t, FM_END_SHUTDOWN, sink_emit, &s), 100, "flush");
	EXPECT_EQ(flowtab_count(t), 0, "empty");
	EXPECT_EQ(s.packets, 5050, "packets");
	EXPECT_EQ(s.bytes, 505000, "bytes");
	for (size_t i = 0; i < s.n; i++) {
		EXPECT_EQ(s.recs[i].end_reason, FM_END_SHUTDOWN, "reason");
		EXPECT_EQ(s.recs[i].packets, key_idx(&s.recs[i].key) + 1, "record of its key");
	}
	/* The table is usable after a flush. */
	ASSERT_EQ(add(t, 5, UDP, 1, 1, T0, T0, 0), 0, "add after flush");
	EXPECT_EQ(flowtab_flush(t, FM_END_PRESSURE, sink_emit, &s), 1, "flush again");
	flowtab_free(t);
	sink_fini(&s);
}

TEST(evict_oldest_order)
{
	struct flowtab *t = flowtab_new(16);
	struct sink s;

	ASSERT_TRUE(t, "flowtab_new");
	sink_init(&s, true);
	for (uint32_t i = 0; i < 10; i++)
		ASSERT_EQ(add(t, i, UDP, 1, 100, T0 + 10 * i, T0 + 10 * i, 0), 0, "add");
	ASSERT_EQ(add(t, 3, UDP, 1, 100, T0 + 200, T0 + 200, 0), 0, "flow 3 seen again");
	ASSERT_EQ(flowtab_evict_oldest(t, 4, FM_END_PRESSURE, sink_emit, &s), 4, "evict 4");
	ASSERT_EQ(s.n, 4, "records");
	EXPECT_EQ(key_idx(&s.recs[0].key), 0, "oldest first");
	EXPECT_EQ(key_idx(&s.recs[1].key), 1, "then");
	EXPECT_EQ(key_idx(&s.recs[2].key), 2, "then");
	EXPECT_EQ(key_idx(&s.recs[3].key), 4, "3 was refreshed");
	EXPECT_EQ(s.recs[0].end_reason, FM_END_PRESSURE, "reason");
	EXPECT_EQ(flowtab_count(t), 6, "six left");
	EXPECT_EQ(flowtab_evict_oldest(t, 0, FM_END_PRESSURE, sink_emit, &s), 0, "evict 0");
	ASSERT_EQ(flowtab_evict_oldest(t, 100, FM_END_PRESSURE, sink_emit, &s), 6,
		  "more than held");
	EXPECT_EQ(key_idx(&s.recs[9].key), 3, "refreshed one last");
	EXPECT_EQ(s.packets, 11, "sum");
	EXPECT_EQ(flowtab_count(t), 0, "empty");

	/* Zero-packet entries on the way are dropped, not counted. */
	ASSERT_EQ(add(t, 20, UDP, 1, 100, T0, T0, 0), 0, "add");
	ASSERT_EQ(flowtab_expire(t, T0 + 60000, TMO(100000, 60000, 2000), sink_emit, &s), 1,
		  "active restart of 20");
	ASSERT_EQ(add(t, 21, UDP, 1, 100, T0 + 60000, T0 + 60000, 0), 0, "add");
	ASSERT_EQ(add(t, 22, UDP, 1, 100, T0 + 60000, T0 + 60000, 0), 0, "add");
	ASSERT_EQ(flowtab_evict_oldest(t, 1, FM_END_PRESSURE, sink_emit, &s), 1, "evict 1");
	EXPECT_EQ(key_idx(&s.recs[s.n - 1].key), 21, "first flow with packets");
	EXPECT_EQ(flowtab_count(t), 1, "20 dropped silently, 22 kept");
	EXPECT_EQ(s.zero, 0, "no zero-packet record");
	flowtab_free(t);
	sink_fini(&s);
}

/* A refused record stays in the table; a later call exports it, once. */
TEST(emit_refusal_keeps_flows)
{
	struct flowtab *t = flowtab_new(16);
	struct sink s;

	ASSERT_TRUE(t, "flowtab_new");
	sink_init(&s, true);
	for (uint32_t i = 0; i < 3; i++)
		ASSERT_EQ(add(t, i, UDP, 10, 1000, T0, T0 + i, 0), 0, "add");
	s.fail_at = 1;
	EXPECT_EQ(flowtab_expire(t, T0 + 20000, &dflt, sink_emit, &s), -ENOBUFS, "refused");
	EXPECT_EQ(s.n, 1, "one taken before the refusal");
	EXPECT_EQ(flowtab_count(t), 2, "refused flow and the rest stay");
	s.fail_at = -1;
	EXPECT_EQ(flowtab_expire(t, T0 + 20000, &dflt, sink_emit, &s), 2, "retry");
	EXPECT_EQ(s.packets, 30, "each exported once");

	/* Same for active (entry must not be zeroed when refused), evict and flush. */
	ASSERT_EQ(add(t, 5, UDP, 10, 1000, T0, T0 + 59000, 0), 0, "add");
	s.fail_at = (long)s.n;
	EXPECT_EQ(flowtab_expire(t, T0 + 60000, &dflt, sink_emit, &s), -ENOBUFS, "active refused");
	s.fail_at = -1;
	EXPECT_EQ(flowtab_expire(t, T0 + 60000, &dflt, sink_emit, &s), 1, "active retried");
	EXPECT_EQ(s.packets, 40, "active record once");
	ASSERT_EQ(add(t, 6, UDP, 10, 1000, T0 + 60000, T0 + 60000, 0), 0, "add");
	s.fail_at = (long)s.n;
	EXPECT_EQ(flowtab_evict_oldest(t, 5, FM_END_PRESSURE, sink_emit, &s), -ENOBUFS, "evict");
	EXPECT_EQ(flowtab_flush(t, FM_END_SHUTDOWN, sink_emit, &s), -ENOBUFS, "flush");
	EXPECT_EQ(flowtab_count(t), 1, "flow 6 kept (flow 5 dropped: no packets)");
	s.fail_at = -1;
	EXPECT_EQ(flowtab_flush(t, FM_END_SHUTDOWN, sink_emit, &s), 1, "flush retried");
	EXPECT_EQ(s.packets, 50, "all exported exactly once");
	flowtab_free(t);
	sink_fini(&s);
}

/*
 * Deltas arrive in hash order within a drain and late ones come from the
 * ring buffer: expiry must be exact even though the lists are not sorted.
 */
TEST(out_of_order_times_expire_exactly)
{
	struct flowtab *t = flowtab_new(16);
	struct sink s;

	ASSERT_TRUE(t, "flowtab_new");
	sink_init(&s, true);
	ASSERT_EQ(add(t, 1, UDP, 1, 1, T0 + 1000, T0 + 1000, 0), 0, "add");
	ASSERT_EQ(add(t, 2, UDP, 1, 1, T0, T0, 0), 0, "add, older");
	ASSERT_EQ(add(t, 3, UDP, 1, 1, T0 + 500, T0 + 500, 0), 0, "add, between");
	ASSERT_EQ(flowtab_expire(t, T0 + 15000, &dflt, sink_emit, &s), 1, "only 2 is due");
	EXPECT_EQ(key_idx(&s.recs[0].key), 2, "2");
	ASSERT_EQ(flowtab_expire(t, T0 + 15500, &dflt, sink_emit, &s), 1, "then 3");
	EXPECT_EQ(key_idx(&s.recs[1].key), 3, "3");
	ASSERT_EQ(flowtab_expire(t, T0 + 16000, &dflt, sink_emit, &s), 1, "then 1");
	EXPECT_EQ(key_idx(&s.recs[2].key), 1, "1");

	/* A long ordered run, then one straggler from a minute before at the tail. */
	for (uint32_t i = 0; i < 10000; i++)
		ASSERT_EQ(add(t, 100 + i, UDP, 1, 1, T0 + 100000 + i, T0 + 100000 + i, 0), 0,
			  "run");
	ASSERT_EQ(add(t, 50, UDP, 1, 1, T0 + 40000, T0 + 40000, 0), 0, "straggler");
	ASSERT_EQ(flowtab_expire(t, T0 + 55000, &dflt, sink_emit, &s), 1, "straggler found");
	EXPECT_EQ(key_idx(&s.recs[3].key), 50, "50");
	ASSERT_EQ(flowtab_expire(t, T0 + 119999, &dflt, sink_emit, &s), 5000, "half the run");
	/* first_seen lowered in place by a late delta: active sees it. */
	ASSERT_EQ(add(t, 100 + 9999, UDP, 1, 1, T0 + 59000, T0 + 100000, 0), 0,
		  "late, early first");
	ASSERT_EQ(flowtab_expire(t, T0 + 119999, &dflt, sink_emit, &s), 1,
		  "active on lowered first");
	EXPECT_EQ(s.recs[s.n - 1].end_reason, FM_END_ACTIVE, "reason");
	EXPECT_EQ(key_idx(&s.recs[s.n - 1].key), 100 + 9999, "key");
	EXPECT_EQ(s.recs[s.n - 1].packets, 2, "both deltas");
	flowtab_free(t);
	sink_fini(&s);
}

TEST(extreme_times)
{
	struct flowtab *t = flowtab_new(16);
	struct sink s;

	ASSERT_TRUE(t, "flowtab_new");
	sink_init(&s, true);
	ASSERT_EQ(add(t, 1, TCP, 1, 1, 1, INT64_MAX, FIN), 0, "widest delta");
	ASSERT_EQ(add(t, 2, UDP, 1, 1, INT64_MIN, INT64_MIN, 0), 0, "oldest delta");
	EXPECT_EQ(flowtab_expire(t, INT64_MIN, &dflt, sink_emit, &s), 0, "now at INT64_MIN");
	EXPECT_EQ(flowtab_expire(t, INT64_MIN + 15000, TMO(15000, INT64_MAX, INT64_MAX), sink_emit,
				 &s),
		  1, "2 idle");
	EXPECT_EQ(flowtab_expire(t, INT64_MAX, TMO(INT64_MAX, INT64_MAX, INT64_MAX), sink_emit, &s),
		  0, "nothing due");
	EXPECT_EQ(flowtab_expire(t, INT64_MAX, TMO(INT64_MAX, INT64_MAX, 0), sink_emit, &s), 1,
		  "TCP end at INT64_MAX");
	EXPECT_EQ(flowtab_count(t), 0, "empty");
	flowtab_free(t);
	sink_fini(&s);
}

TEST(grows_from_tiny_hint)
{
	struct flowtab *t = flowtab_new(1);
	struct sink s;
	int bad = 0;

	ASSERT_TRUE(t, "flowtab_new");
	sink_init(&s, true);
	for (int round = 0; round < 2; round++) {
		for (uint32_t i = 0; i < 20000; i++)
			bad |= add(t, i, UDP, 1, 10, T0 + i, T0 + i, 0);
	}
	EXPECT_EQ(bad, 0, "adds");
	EXPECT_EQ(flowtab_count(t), 20000, "second round merged");
	/* Remove the older half, then the rest must still be found. */
	ASSERT_EQ(flowtab_evict_oldest(t, 10000, FM_END_PRESSURE, sink_emit, &s), 10000, "evict");
	for (uint32_t i = 0; i < 20000; i++)
		bad |= add(t, i, UDP, 1, 10, T0 + 30000, T0 + 30000, 0);
	EXPECT_EQ(bad, 0, "adds");
	EXPECT_EQ(flowtab_count(t), 20000, "evicted ones came back");
	ASSERT_EQ(flowtab_flush(t, FM_END_SHUTDOWN, sink_emit, &s), 20000, "flush");
	EXPECT_EQ(s.packets, 60000, "sum");
	flowtab_free(t);
	sink_fini(&s);
}

/* ---- randomized: the table against a plain model of the contract ---- */

static uint64_t rng_state;

static uint64_t rnd(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t test_seed(void)
{
	const char *env = getenv("FLOWTAB_SEED");
	uint64_t seed;

	if (env && *env)
		seed = strtoull(env, NULL, 0);
	else
		seed = (uint64_t)time(NULL) ^ ((uint64_t)clock() << 32);
	printf("# %s: seed %" PRIu64 " (FLOWTAB_SEED=%" PRIu64 " replays it)\n", tl_current, seed,
	       seed);
	fflush(stdout);
	return seed;
}

#define NKEYS 50000
#define NHOT 500 /* keys that send all the time and so meet the active timeout */
#define NDELTAS 200000

struct ref_flow {
	bool present, fin;
	uint8_t proto, flags;
	uint64_t packets, bytes;
	int64_t first, last, fin_ms;
	uint64_t seq; /* order of last delta, for evict */
};

struct model {
	struct ref_flow *f;
	size_t present;
	uint64_t seq;
	uint64_t *added_pk, *added_by, *out_pk, *out_by;
	long by_reason[FM_END__MAX]; /* records the table emitted */
};

static void ref_add(struct model *m, uint32_t i, uint64_t pk, uint64_t by, int64_t first,
		    int64_t last, uint8_t flags)
{
	struct ref_flow *f = &m->f[i];

	if (!f->present) {
		f->present = true;
		f->fin = false;
		f->packets = 0;
		m->present++;
	}
	if (!f->packets) {
		f->packets = pk;
		f->bytes = by;
		f->first = first;
		f->last = last;
		f->flags = flags;
	} else {
		f->packets += pk;
		f->bytes += by;
		f->first = first < f->first ? first : f->first;
		f->last = last > f->last ? last : f->last;
		f->flags |= flags;
	}
	if (f->proto == TCP && (flags & (FIN | RST)) && !f->fin) {
		f->fin = true;
		f->fin_ms = last;
	}
	f->seq = ++m->seq;
	m->added_pk[i] += pk;
	m->added_by[i] += by;
}

static void ref_emit(struct sink *s, uint32_t i, const struct ref_flow *f, enum fm_end_reason why)
{
	struct fm_record r;

	memset(&r, 0, sizeof(r));
	mkkey(&r.key, i, f->proto);
	r.packets = f->packets;
	r.bytes = f->bytes;
	r.first_seen_ms = f->first;
	r.last_seen_ms = f->last;
	r.tcp_flags = f->flags;
	r.end_reason = (uint8_t)why;
	sink_emit(&r, s);
}

static void ref_drop(struct model *m, uint32_t i, struct sink *s, enum fm_end_reason why)
{
	if (m->f[i].packets)
		ref_emit(s, i, &m->f[i], why);
	m->f[i].present = false;
	m->present--;
}

/* The contract, read literally, over every flow. */
static void ref_expire(struct model *m, int64_t now, const struct flowtab_timeouts *to,
		       struct sink *s)
{
	for (uint32_t i = 0; i < NKEYS; i++) {
		struct ref_flow *f = &m->f[i];

		if (!f->present)
			continue;
		if (f->fin && now - f->fin_ms >= to->tcp_linger_ms) {
			ref_drop(m, i, s, FM_END_TCP_END);
		} else if (now - f->last >= to->idle_ms) {
			ref_drop(m, i, s, FM_END_IDLE);
		} else if (f->packets && now - f->first >= to->active_ms) {
			ref_emit(s, i, f, FM_END_ACTIVE);
			f->packets = f->bytes = 0;
			f->flags = 0;
		}
	}
}

static uint64_t *evict_seq;

static int cmp_by_seq(const void *a, const void *b)
{
	uint64_t x = evict_seq[*(const uint32_t *)a], y = evict_seq[*(const uint32_t *)b];

	return x < y ? -1 : x > y;
}

static void ref_evict(struct model *m, size_t n, struct sink *s)
{
	uint32_t *order = malloc(NKEYS * sizeof(*order));
	size_t cnt = 0, done = 0;

	if (!order)
		abort();
	evict_seq = malloc(NKEYS * sizeof(*evict_seq));
	if (!evict_seq)
		abort();
	for (uint32_t i = 0; i < NKEYS; i++) {
		evict_seq[i] = m->f[i].seq;
		if (m->f[i].present)
			order[cnt++] = i;
	}
	qsort(order, cnt, sizeof(*order), cmp_by_seq);
	for (size_t j = 0; j < cnt && done < n; j++) {
		if (m->f[order[j]].packets)
			done++;
		ref_drop(m, order[j], s, FM_END_PRESSURE);
	}
	free(evict_seq);
	free(order);
}

static int cmp_rec(const void *a, const void *b)
{
	uint32_t x = key_idx(&((const struct fm_record *)a)->key);
	uint32_t y = key_idx(&((const struct fm_record *)b)->key);

	return x < y ? -1 : x > y;
}

/* Same records (as a set: order within one call is the table's business). */
static bool same_records(struct sink *got, struct sink *want, const char *what, long ret)
{
	if (ret != (long)want->n) {
		TL_FAIL("%s: returned %ld, model emitted %zu", what, ret, want->n);
		return false;
	}
	if (got->n != want->n) {
		TL_FAIL("%s: %zu records, model %zu", what, got->n, want->n);
		return false;
	}
	if (!got->n)
		return true; /* recs may still be NULL */
	qsort(got->recs, got->n, sizeof(*got->recs), cmp_rec);
	qsort(want->recs, want->n, sizeof(*want->recs), cmp_rec);
	for (size_t i = 0; i < got->n; i++) {
		const struct fm_record *g = &got->recs[i], *w = &want->recs[i];

		if (memcmp(&g->key, &w->key, sizeof(g->key)) || g->packets != w->packets ||
		    g->bytes != w->bytes || g->first_seen_ms != w->first_seen_ms ||
		    g->last_seen_ms != w->last_seen_ms || g->tcp_flags != w->tcp_flags ||
		    g->end_reason != w->end_reason) {
			TL_FAIL("%s: key %u: got pk %" PRIu64 " first %" PRId64 " last %" PRId64
				" flags %#x reason %u; model key %u pk %" PRIu64 " first %" PRId64
				" last %" PRId64 " flags %#x reason %u",
				what, key_idx(&g->key), g->packets, g->first_seen_ms,
				g->last_seen_ms, g->tcp_flags, g->end_reason, key_idx(&w->key),
				w->packets, w->first_seen_ms, w->last_seen_ms, w->tcp_flags,
				w->end_reason);
			return false;
		}
	}
	return true;
}

static void tally(struct model *m, const struct sink *s)
{
	for (size_t i = 0; i < s->n; i++) {
		uint32_t k = key_idx(&s->recs[i].key);

		m->by_reason[s->recs[i].end_reason % FM_END__MAX]++;
		m->out_pk[k] += s->recs[i].packets;
		m->out_by[k] += s->recs[i].bytes;
	}
}

static bool model_init(struct model *m)
{
	memset(m, 0, sizeof(*m));
	m->f = calloc(NKEYS, sizeof(*m->f));
	m->added_pk = calloc(NKEYS, sizeof(uint64_t));
	m->added_by = calloc(NKEYS, sizeof(uint64_t));
	m->out_pk = calloc(NKEYS, sizeof(uint64_t));
	m->out_by = calloc(NKEYS, sizeof(uint64_t));
	if (!m->f || !m->added_pk || !m->added_by || !m->out_pk || !m->out_by)
		return false;
	/* A third TCP (FIN/RST possible), the rest UDP and ICMP. */
	for (uint32_t i = 0; i < NKEYS; i++)
		m->f[i].proto = i % 3 == 0 ? TCP : i % 3 == 1 ? UDP : 1;
	return true;
}

static void model_fini(struct model *m)
{
	free(m->f);
	free(m->added_pk);
	free(m->added_by);
	free(m->out_pk);
	free(m->out_by);
}

/* One random delta near now: drain jitter, rare stragglers, skewed keys. */
static void random_delta(struct model *m, int64_t now, uint32_t *i, uint64_t *pk, uint64_t *by,
			 int64_t *first, int64_t *last, uint8_t *flags)
{
	uint64_t r = rnd();

	*i = (uint32_t)(r & 1 ? (r >> 1) % NHOT : (r >> 1) % NKEYS);
	*pk = 1 + rnd() % 20;
	*by = *pk * (64 + rnd() % 1400);
	*last = now - (int64_t)(rnd() % 500);
	if (rnd() % 1000 == 0)
		*last = now - (int64_t)(rnd() % 30000);
	*first = *last - (int64_t)(rnd() % 1000);
	*flags = 0;
	if (m->f[*i].proto == TCP) {
		r = rnd() % 200;
		*flags = r < 3 ? FIN | ACK : r < 4 ? RST : r < 10 ? SYN : ACK | (r & 1 ? PSH : 0);
	}
}

/* Flows in the model with packets: what an eviction or a flush emits. */
static size_t model_with_packets(const struct model *m)
{
	size_t n = 0;

	for (uint32_t i = 0; i < NKEYS; i++)
		n += m->f[i].present && m->f[i].packets;
	return n;
}

static struct flowtab_timeouts random_timeouts(void)
{
	switch (rnd() % 8) {
	case 0:
		return *TMO(3000, 8000, 500);
	case 1:
		return *TMO(1000, 1000, 0);
	case 2:
		return *TMO(20000, 5000, 25000); /* linger longer than idle */
	default:
		return dflt;
	}
}

/*
 * 200k deltas over 50k keys against the model: every expire, evict and the
 * final flush emit exactly the records the model does, and per key the
 * packets and bytes out equal those in.
 */
TEST(random_against_model)
{
	struct flowtab *t = flowtab_new(1024); /* small: growth happens under load */
	struct sink got, want;
	struct model m;
	int64_t now = T0;
	long calls = 0, recs = 0, ret;
	bool ok = true;

	rng_state = test_seed();
	ASSERT_TRUE(t, "flowtab_new");
	ASSERT_TRUE(model_init(&m), "model");
	sink_init(&got, true);
	sink_init(&want, true);
	for (long d = 0; d < NDELTAS && ok; d++) {
		uint32_t i;
		uint64_t pk, by;
		int64_t first, last;
		uint8_t flags;
		struct fm_flow_key k;

		now += (int64_t)(rnd() % 3);
		random_delta(&m, now, &i, &pk, &by, &first, &last, &flags);
		mkkey(&k, i, m.f[i].proto);
		if (flowtab_add(t, &k, DELTA(pk, by, first, last, flags))) {
			TL_FAIL("add %ld failed", d);
			ok = false;
			break;
		}
		ref_add(&m, i, pk, by, first, last, flags);

		if (rnd() % 1000 == 0) {
			struct flowtab_timeouts to = random_timeouts();

			got.n = want.n = 0;
			ret = flowtab_expire(t, now, &to, sink_emit, &got);
			ref_expire(&m, now, &to, &want);
			ok = same_records(&got, &want, "expire", ret);
		} else if (rnd() % 20000 == 0) {
			size_t n = rnd() % 3000;

			got.n = want.n = 0;
			ret = flowtab_evict_oldest(t, n, FM_END_PRESSURE, sink_emit, &got);
			ref_evict(&m, n, &want);
			ok = same_records(&got, &want, "evict", ret);
		} else {
			continue;
		}
		calls++;
		recs += (long)got.n;
		tally(&m, &got);
		if (flowtab_count(t) != m.present) {
			TL_FAIL("count %zu, model %zu", flowtab_count(t), m.present);
			ok = false;
		}
	}
	ASSERT_TRUE(ok, "table and model agree at every call");

	/* Flows with packets left for the eviction and the flush below,
	 * whatever the seed drew (seed 4747894868513589 ended with most flows
	 * emptied by an active export: an eviction counts records, so it
	 * took them all and the flush had nothing to say). */
	for (int j = 0; j < 3 || model_with_packets(&m) < 2; j++) {
		uint32_t i;
		uint64_t pk, by;
		int64_t first, last;
		uint8_t flags;
		struct fm_flow_key k;

		now++;
		random_delta(&m, now, &i, &pk, &by, &first, &last, &flags);
		mkkey(&k, i, m.f[i].proto);
		ASSERT_EQ(flowtab_add(t, &k, DELTA(pk, by, first, last, flags)), 0, "add");
		ref_add(&m, i, pk, by, first, last, flags);
	}

	/* One eviction whatever the seed drew (some draw none: seed
	 * 415849119835641 did), so every run exercises every reason. */
	size_t half = model_with_packets(&m) / 2; /* >= 1, and as many stay */

	got.n = want.n = 0;
	ret = flowtab_evict_oldest(t, half, FM_END_PRESSURE, sink_emit, &got);
	ref_evict(&m, half, &want);
	ASSERT_TRUE(same_records(&got, &want, "evict", ret), "eviction agrees");
	tally(&m, &got);
	recs += (long)got.n;

	got.n = want.n = 0;
	ret = flowtab_flush(t, FM_END_SHUTDOWN, sink_emit, &got);
	for (uint32_t i = 0; i < NKEYS; i++) {
		if (m.f[i].present)
			ref_drop(&m, i, &want, FM_END_SHUTDOWN);
	}
	ASSERT_TRUE(same_records(&got, &want, "flush", ret), "flush agrees");
	tally(&m, &got);
	recs += (long)got.n;
	EXPECT_EQ(flowtab_count(t), 0, "empty after flush");
	EXPECT_EQ(got.zero, 0, "no zero-packet record");
	for (uint32_t i = 0; i < NKEYS; i++) {
		if (m.out_pk[i] != m.added_pk[i] || m.out_by[i] != m.added_by[i]) {
			TL_FAIL("key %u: out %" PRIu64 "/%" PRIu64 " pk/B, in %" PRIu64 "/%" PRIu64,
				i, m.out_pk[i], m.out_by[i], m.added_pk[i], m.added_by[i]);
			break;
		}
	}
	/* The run must have exercised every reason, or it proves little. */
	EXPECT_TRUE(m.by_reason[FM_END_IDLE] > 0, "idle records");
	EXPECT_TRUE(m.by_reason[FM_END_ACTIVE] > 0, "active records");
	EXPECT_TRUE(m.by_reason[FM_END_TCP_END] > 0, "tcp_end records");
	EXPECT_TRUE(m.by_reason[FM_END_PRESSURE] > 0, "evicted records");
	EXPECT_TRUE(m.by_reason[FM_END_SHUTDOWN] > 0, "flushed records");
	printf("# %s: %ld calls, %ld records: %ld idle, %ld active, %ld tcp_end, %ld pressure, "
	       "%ld shutdown\n",
	       tl_current, calls, recs, m.by_reason[FM_END_IDLE], m.by_reason[FM_END_ACTIVE],
	       m.by_reason[FM_END_TCP_END], m.by_reason[FM_END_PRESSURE],
	       m.by_reason[FM_END_SHUTDOWN]);
	model_fini(&m);
	sink_fini(&got);
	sink_fini(&want);
	flowtab_free(t);
}

/*
 * Back-pressure: the writer refuses records at random. Per key the packets
 * exported plus those still in the table always add up to those added, and
 * a final flush leaves out == in.
 */
TEST(random_refusals_lose_nothing)
{
	struct flowtab *t = flowtab_new(0);
	struct sink got;
	struct model m;
	int64_t now = T0;
	long refused = 0, ret;

	rng_state = test_seed();
	ASSERT_TRUE(t, "flowtab_new");
	ASSERT_TRUE(model_init(&m), "model");
	sink_init(&got, true);
	for (long d = 0; d < NDELTAS; d++) {
		uint32_t i;
		uint64_t pk, by;
		int64_t first, last;
		uint8_t flags;
		struct fm_flow_key k;

		now += (int64_t)(rnd() % 3);
		random_delta(&m, now, &i, &pk, &by, &first, &last, &flags);
		mkkey(&k, i, m.f[i].proto);
		ASSERT_EQ(flowtab_add(t, &k, DELTA(pk, by, first, last, flags)), 0, "add");
		m.added_pk[i] += pk;
		m.added_by[i] += by;
		if (rnd() % 500)
			continue;
		got.n = 0;
		got.fail_at = rnd() % 2 ? (long)(rnd() % 200) : -1;
		if (rnd() % 10 == 0) {
			ret = flowtab_evict_oldest(t, rnd() % 1000, FM_END_PRESSURE, sink_emit,
						   &got);
		} else {
			struct flowtab_timeouts to = random_timeouts();

			ret = flowtab_expire(t, now, &to, sink_emit, &got);
		}
		if (ret == -ENOBUFS)
			refused++;
		else
			ASSERT_EQ(ret, got.n, "count returned == records taken");
		tally(&m, &got);
	}
	got.n = 0;
	got.fail_at = 10;
	EXPECT_EQ(flowtab_flush(t, FM_END_SHUTDOWN, sink_emit, &got), -ENOBUFS, "flush refused");
	tally(&m, &got);
	got.n = 0;
	got.fail_at = -1;
	ASSERT_TRUE(flowtab_flush(t, FM_END_SHUTDOWN, sink_emit, &got) >= 0, "flush");
	tally(&m, &got);
	EXPECT_EQ(flowtab_count(t), 0, "empty after flush");
	EXPECT_EQ(got.zero, 0, "no zero-packet record");
	EXPECT_TRUE(refused > 0, "some calls were refused");
	for (uint32_t i = 0; i < NKEYS; i++) {
		if (m.out_pk[i] != m.added_pk[i] || m.out_by[i] != m.added_by[i]) {
			TL_FAIL("key %u: out %" PRIu64 "/%" PRIu64 " pk/B, in %" PRIu64 "/%" PRIu64,
				i, m.out_pk[i], m.out_by[i], m.added_pk[i], m.added_by[i]);
			break;
		}
	}
	printf("# %s: %ld calls refused\n", tl_current, refused);
	model_fini(&m);
	sink_fini(&got);
	flowtab_free(t);
}

static double ms_since(const struct timespec *a)
{
	struct timespec b;

	clock_gettime(CLOCK_MONOTONIC, &b);
	return (double)(b.tv_sec - a->tv_sec) * 1e3 + (double)(b.tv_nsec - a->tv_nsec) / 1e6;
}

/* A million flows: insert, merge, idle-expire half, flush the rest. */
TEST(million_flows)
{
	const uint32_t n = 1000000;
	struct flowtab *t = flowtab_new(n);
	uint64_t pk = 0;
	struct timespec t0;
	struct sink s;
	int bad = 0;
	double ins, mrg, exp, fl;

	ASSERT_TRUE(t, "flowtab_new");
	sink_init(&s, false);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (uint32_t i = 0; i < n; i++) {
		/* Even keys go quiet at T0, odd ones are seen again 20 s later. */
		bad |= add(t, i, i % 2 ? TCP : UDP, 1 + i % 7, 100, T0, T0, 0);
		pk += 1 + i % 7;
	}
	ins = ms_since(&t0);
	ASSERT_EQ(bad, 0, "inserts");
	ASSERT_EQ(flowtab_count(t), n, "count");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (uint32_t i = 1; i < n; i += 2) {
		bad |= add(t, i, TCP, 1, 100, T0 + 20000, T0 + 20000, ACK);
		pk++;
	}
	mrg = ms_since(&t0);
	ASSERT_EQ(bad, 0, "merges");
	ASSERT_EQ(flowtab_count(t), n, "merges add no flow");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	EXPECT_EQ(flowtab_expire(t, T0 + 15000, TMO(15000, 600000, 2000), sink_emit, &s), n / 2,
		  "even half idle");
	exp = ms_since(&t0);
	EXPECT_EQ(flowtab_count(t), n / 2, "odd half left");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	EXPECT_EQ(flowtab_flush(t, FM_END_SHUTDOWN, sink_emit, &s), n / 2, "flush");
	fl = ms_since(&t0);
	EXPECT_EQ(flowtab_count(t), 0, "empty");
	EXPECT_EQ(s.packets, pk, "packets out == in");
	EXPECT_EQ(s.bytes, (uint64_t)n * 100 + n / 2 * 100, "bytes out == in");
	EXPECT_EQ(s.zero, 0, "no zero-packet record");
	printf("# %s: insert %.0f ms, merge %.0f ms (%u), expire %.0f ms, flush %.0f ms\n",
	       tl_current, ins, mrg, n / 2, exp, fl);
	flowtab_free(t);
	sink_fini(&s);
}

TESTLIB_MAIN("flowtab")
