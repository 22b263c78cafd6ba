// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * libFuzzer target: the flow table (user/flowtab.c) driven by a byte stream
 * read as a program of operations (add, expire, evict, flush, set a key,
 * move the clock), with arbitrary keys, deltas, times (int64 extremes
 * included), timeouts and a writer that refuses records. Each call is
 * checked against a small reference model of the contract in flowtab.h:
 *
 *  - flowtab_add returns -EINVAL for packets == 0 or first > last and
 *    changes nothing; otherwise 0;
 *  - flowtab_expire emits exactly the records the contract says are due
 *    (TCP end, then idle, then active), with exactly the model's counts
 *    and times; after a refusal, retrying the same call completes it;
 *  - evict and flush export the least recently updated flows first, and
 *    stop at a refusal with the refused flow kept;
 *  - the table holds as many flows as the model, and at the end, per key,
 *    packets and bytes emitted == packets and bytes added.
 *
 * Keys: 16 slots, each starting as a distinct TCP or UDP key; an op can
 * overwrite a slot with 64 arbitrary bytes. The model keeps up to
 * MAX_KEYS distinct keys (a linear table: small on purpose).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "table/flowtab.h"
#include "fuzz.h"

/* One flowtab_add delta, as a compound literal. */
#define DELTA(pk, by, first, last, flags)                                                          \
	(&(struct flowtab_delta){ .packets = (pk),                                                 \
				  .bytes = (by),                                                   \
				  .first_ms = (first),                                             \
				  .last_ms = (last),                                               \
				  .tcp_flags = (flags) })

#define NR_SLOTS 16
#define MAX_KEYS 64
#define REFUSED (-ENOBUFS)	    /* what our writer answers when it is full */
#define UNLIMITED (-1)		    /* budget: never refuse */
#define CLOCK_START 1700000000000LL /* epoch ms, 2023 */
#define TCP 6
#define UDP 17
#define TCP_FIN 0x01
#define TCP_RST 0x04

typedef __int128 i128;

/* ---------------------------------------------------------------- input */

struct in {
	const uint8_t *p;
	size_t n;
};

static uint64_t get(struct in *in, int bytes)
{
	uint64_t v = 0;

	for (int i = 0; i < bytes && in->n; i++, in->p++, in->n--)
		v |= (uint64_t)*in->p << (8 * i);
	return v;
}

/* ---------------------------------------------------------------- model */

struct ref {
	struct fm_flow_key key;
	bool present;
	bool fin;		 /* on the TCP-end clock since fin_ms */
	uint64_t packets, bytes; /* of the open record; 0 after an active export */
	int64_t first, last, fin_ms;
	uint8_t flags;
	uint64_t seq; /* when last updated: evict order */
	uint64_t added_p, added_b, out_p, out_b;
	/* the current call's expected outcome */
	int due; /* -1: not due, else an enum fm_end_reason */
	bool matched;
};

struct model {
	struct ref r[MAX_KEYS];
	int n;
	size_t present;
	uint64_t seq;
};

static struct ref *ref_find(struct model *m, const struct fm_flow_key *k)
{
	for (int i = 0; i < m->n; i++)
		if (!memcmp(&m->r[i].key, k, sizeof(*k)))
			return &m->r[i];
	return NULL;
}

/* The contract's merge (flowtab.h, flowtab_add). */
static void ref_add(struct model *m, struct ref *f, uint64_t pk, uint64_t by, int64_t first,
		    int64_t last, uint8_t flags)
{
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
	if (f->key.protocol == TCP && (flags & (TCP_FIN | TCP_RST)) && !f->fin) {
		f->fin = true;
		f->fin_ms = last;
	}
	f->seq = ++m->seq;
	f->added_p += pk;
	f->added_b += by;
}

/* now - t >= timeout, in exact arithmetic. */
static bool due(int64_t now, int64_t t, int64_t timeout)
{
	return (i128)now - t >= timeout;
}

/* --------------------------------------------------------------- writer */

struct sink {
	struct fm_record rec[MAX_KEYS];
	int n;
	int budget; /* records it takes before refusing; UNLIMITED */
};

static int sink_emit(const struct fm_record *r, void *ctx)
{
	struct sink *s = ctx;

	if (!s->budget)
		return REFUSED;
	FUZZ_CHECK(s->n < MAX_KEYS, "more records in one call than flows");
	s->rec[s->n++] = *r;
	if (s->budget > 0)
		s->budget--;
	return 0;
}

static bool rec_is(const struct fm_record *r, const struct ref *f, int why)
{
	return r->packets == f->packets && r->bytes == f->bytes && r->first_seen_ms == f->first &&
	       r->last_seen_ms == f->last && r->tcp_flags == f->flags && r->end_reason == why;
}

static void report(const char *what, const struct fm_record *r, const struct ref *f)
{
	printf("%s: record packets %llu bytes %llu first %lld last %lld flags %#x reason %u\n",
	       what, (unsigned long long)r->packets, (unsigned long long)r->bytes,
	       (long long)r->first_seen_ms, (long long)r->last_seen_ms, r->tcp_flags,
	       r->end_reason);
	if (f)
		printf("  model: packets %llu bytes %llu first %lld last %lld flags %#x due %d "
		       "fin %d/%lld present %d\n",
		       (unsigned long long)f->packets, (unsigned long long)f->bytes,
		       (long long)f->first, (long long)f->last, f->flags, f->due, f->fin,
		       (long long)f->fin_ms, f->present);
}

/* A record leaves the model: counts go out, the flow ends or restarts. */
static void ref_out(struct model *m, struct ref *f, bool restart)
{
	f->out_p += f->packets;
	f->out_b += f->bytes;
	if (restart) {
		f->packets = f->bytes = 0;
		f->flags = 0;
		return;
	}
	f->present = false;
	m->present--;
}

/* ------------------------------------------------------------ operations */

struct fuzz {
	struct flowtab *t;
	struct model m;
	struct fm_flow_key slot[NR_SLOTS];
	int64_t clock;
	struct sink sink;
};

static void op_add(struct fuzz *z, int slot, uint64_t pk, uint64_t by, int64_t first, int64_t last,
		   uint8_t flags)
{
	const struct fm_flow_key *k = &z->slot[slot];
	struct ref *f = ref_find(&z->m, k);
	int ret;

	if (!f) {
		if (z->m.n == MAX_KEYS)
			return; /* the model is full: skip keys it cannot follow */
		f = &z->m.r[z->m.n++];
		memset(f, 0, sizeof(*f));
		f->key = *k;
	}
	ret = flowtab_add(z->t, k, DELTA(pk, by, first, last, flags));
	if (!pk || first > last) {
		FUZZ_CHECK(ret == -EINVAL, "add(packets %llu, first %lld, last %lld) returned %d",
			   (unsigned long long)pk, (long long)first, (long long)last, ret);
		return;
	}
	FUZZ_CHECK(ret == 0, "add(packets %llu, first %lld, last %lld) returned %d",
		   (unsigned long long)pk, (long long)first, (long long)last, ret);
	ref_add(&z->m, f, pk, by, first, last, flags);
}

/*
 * One flowtab_expire, and when the writer refused, the retry a daemon
 * makes; together they must emit exactly what the contract says is due.
 */
static void op_expire(struct fuzz *z, int64_t now, const struct flowtab_timeouts *to, int budget)
{
	struct model *m = &z->m;
	struct sink *s = &z->sink;
	long ret;
	int want = 0;

	s->n = 0;
	s->budget = budget;
	ret = flowtab_expire(z->t, now, to, sink_emit, s);
	if (to->idle_ms < 0 || to->active_ms < 0 || to->tcp_linger_ms < 0) {
		FUZZ_CHECK(ret == -EINVAL && !s->n, "expire with a negative timeout returned %ld",
			   ret);
		return;
	}
	for (int i = 0; i < m->n; i++) {
		struct ref *f = &m->r[i];

		f->matched = false;
		f->due = -1;
		if (!f->present)
			continue;
		if (f->fin && due(now, f->fin_ms, to->tcp_linger_ms))
			f->due = FM_END_TCP_END;
		else if (due(now, f->last, to->idle_ms))
			f->due = FM_END_IDLE;
		else if (f->packets && due(now, f->first, to->active_ms))
			f->due = FM_END_ACTIVE;
		if (f->due >= 0 && f->packets)
			want++;
	}
	if (ret == REFUSED) {
		int before = s->n;

		FUZZ_CHECK(budget >= 0 && s->n == budget, "refused after %d records, budget %d",
			   s->n, budget);
		s->budget = UNLIMITED;
		ret = flowtab_expire(z->t, now, to, sink_emit, s);
		FUZZ_CHECK(ret == s->n - before, "retried expire returned %ld for %d records", ret,
			   s->n - before);
	} else {
		FUZZ_CHECK(ret == s->n, "expire returned %ld for %d records", ret, s->n);
	}
	for (int j = 0; j < s->n; j++) {
		const struct fm_record *r = &s->rec[j];
		struct ref *f = ref_find(m, &r->key);

		if (!f || !f->present || f->due < 0 || f->matched || !rec_is(r, f, f->due)) {
			report("expire emitted a record the contract does not", r, f);
			FUZZ_FAIL("now %lld idle %lld active %lld linger %lld", (long long)now,
				  (long long)to->idle_ms, (long long)to->active_ms,
				  (long long)to->tcp_linger_ms);
		}
		f->matched = true;
	}
	FUZZ_CHECK(s->n == want,
		   "expire emitted %d records, the contract %d (now %lld, idle %lld, "
		   "active %lld, linger %lld)",
		   s->n, want, (long long)now, (long long)to->idle_ms, (long long)to->active_ms,
		   (long long)to->tcp_linger_ms);
	for (int i = 0; i < m->n; i++) {
		struct ref *f = &m->r[i];

		/* Due with no packets: dropped silently (active needs packets). */
		if (f->due >= 0)
			ref_out(m, f, f->due == FM_END_ACTIVE);
	}
}

/* Evict (n, why) or flush (n = SIZE_MAX): oldest update first, stop at a refusal. */
static void op_evict(struct fuzz *z, size_t n, unsigned int why, int budget)
{
	struct model *m = &z->m;
	struct sink *s = &z->sink;
	size_t done = 0;
	long ret, want_ret;
	int j = 0;

	s->n = 0;
	s->budget = budget;
	ret = n == SIZE_MAX ? flowtab_flush(z->t, (enum fm_end_reason)why, sink_emit, s) :
			      flowtab_evict_oldest(z->t, n, (enum fm_end_reason)why, sink_emit, s);
	if (why >= FM_END__MAX) {
		FUZZ_CHECK(ret == -EINVAL && !s->n, "evict with reason %u returned %ld", why, ret);
		return;
	}
	for (;;) {
		struct ref *old = NULL;

		if (done >= n) {
			want_ret = (long)done;
			break;
		}
		for (int i = 0; i < m->n; i++)
			if (m->r[i].present && (!old || m->r[i].seq < old->seq))
				old = &m->r[i];
		if (!old) {
			want_ret = (long)done;
			break;
		}
		if (old->packets) {
			if (budget >= 0 && done == (size_t)budget) {
				want_ret = REFUSED;
				break;
			}
			if (j >= s->n || memcmp(&s->rec[j].key, &old->key, sizeof(old->key)) ||
			    !rec_is(&s->rec[j], old, (int)why)) {
				report("evict: record out of order or wrong",
				       j < s->n ? &s->rec[j] : &(struct fm_record){ 0 }, old);
				FUZZ_FAIL("record %d of %d, n %zu", j, s->n, n);
			}
			j++;
			done++;
		}
		ref_out(m, old, false); /* whatever the reason, eviction removes */
	}
	FUZZ_CHECK(ret == want_ret && j == s->n,
		   "evict(%zu) returned %ld with %d records, the contract %ld with %d", n, ret,
		   s->n, want_ret, j);
}

enum op {
	OP_ADD_NEAR, /* a delta around the clock, as the drain makes them */
	OP_ADD_RAW,  /* any times, any counts */
	OP_TICK,
	OP_EXPIRE,     /* at the clock, with small timeouts */
	OP_EXPIRE_RAW, /* any now, any timeouts */
	OP_EVICT,
	OP_FLUSH,
	OP_SET_KEY,
	OP_NR,
};

/* Up to 7 records, or UNLIMITED (half the time). */
static int get_budget(struct in *in)
{
	uint8_t b = (uint8_t)get(in, 1);

	return b & 0x80 ? UNLIMITED : b & 7;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fuzz z;
	struct in in = { data, size };
	struct flowtab_timeouts to;

	memset(&z, 0, sizeof(z));
	z.clock = CLOCK_START;
	for (int i = 0; i < NR_SLOTS; i++) {
		z.slot[i].ifindex = (uint32_t)i + 1;
		z.slot[i].eth_type = 0x0800;
		z.slot[i].protocol = i % 2 ? UDP : TCP;
		z.slot[i].src_port = (uint16_t)(1000 + i);
		z.slot[i].dst_port = 80;
	}
	z.t = flowtab_new(get(&in, 1)); /* small hints: growth happens */
	if (!z.t)
		return 0;

	while (in.n) {
		enum op op = (enum op)(get(&in, 1) % OP_NR);
		int slot = (int)(get(&in, 1) % NR_SLOTS);
		int64_t first, last;
		uint64_t pk, by;
		uint8_t flags;

		switch (op) {
		case OP_ADD_NEAR:
			pk = get(&in, 1); /* 0 half as often as 1: -EINVAL gets tried */
			by = get(&in, 2);
			/* Wrapping, not overflowing, when the clock was set near a limit. */
			first = (int64_t)((uint64_t)z.clock - get(&in, 2));
			last = (int64_t)((uint64_t)first + get(&in, 2) - 64); /* may be < first */
			flags = (uint8_t)get(&in, 1);
			op_add(&z, slot, pk, by, first, last, flags);
			break;
		case OP_ADD_RAW:
			/* Packets below 2^32 per delta: a sum cannot wrap 64 bits. */
			pk = get(&in, 4);
			by = get(&in, 8);
			first = (int64_t)get(&in, 8);
			last = (int64_t)get(&in, 8);
			flags = (uint8_t)get(&in, 1);
			op_add(&z, slot, pk, by, first, last, flags);
			break;
		case OP_TICK:
			pk = get(&in, 2);
			if (pk == 0xffff)
				z.clock = (int64_t)get(&in, 8);
			else if (!__builtin_add_overflow(z.clock, (int64_t)pk, &first))
				z.clock = first;
			break;
		case OP_EXPIRE:
			to.idle_ms = (int64_t)get(&in, 2);
			to.active_ms = (int64_t)get(&in, 2);
			to.tcp_linger_ms = (int64_t)get(&in, 1);
			op_expire(&z, z.clock, &to, get_budget(&in));
			break;
		case OP_EXPIRE_RAW:
			first = (int64_t)get(&in, 8);
			to.idle_ms = (int64_t)get(&in, 8);
			to.active_ms = (int64_t)get(&in, 8);
			to.tcp_linger_ms = (int64_t)get(&in, 8);
			op_expire(&z, first, &to, get_budget(&in));
			break;
		case OP_EVICT:
			pk = get(&in, 1);
			op_evict(&z, pk, (unsigned int)get(&in, 1) % 8, get_budget(&in));
			break;
		case OP_FLUSH:
			op_evict(&z, SIZE_MAX, (unsigned int)get(&in, 1) % 8, get_budget(&in));
			break;
		case OP_SET_KEY:
			for (size_t i = 0; i < sizeof(z.slot[slot]); i++)
				((uint8_t *)&z.slot[slot])[i] = (uint8_t)get(&in, 1);
			break;
		default:
			break;
		}
		FUZZ_CHECK(flowtab_count(z.t) == z.m.present,
			   "table holds %zu flows, the model %zu", flowtab_count(z.t), z.m.present);
	}

	/* Shutdown: everything out, and per key out == in. */
	op_evict(&z, SIZE_MAX, FM_END_SHUTDOWN, UNLIMITED);
	FUZZ_CHECK(flowtab_count(z.t) == 0, "%zu flows left after the flush", flowtab_count(z.t));
	for (int i = 0; i < z.m.n; i++) {
		const struct ref *f = &z.m.r[i];

		FUZZ_CHECK(f->out_p == f->added_p && f->out_b == f->added_b,
			   "key %d: %llu packets, %llu bytes out of %llu, %llu in", i,
			   (unsigned long long)f->out_p, (unsigned long long)f->out_b,
			   (unsigned long long)f->added_p, (unsigned long long)f->added_b);
	}
	flowtab_free(z.t);
	return 0;
}
