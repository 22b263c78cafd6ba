// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The daemon's flow table (see flowtab.h for the contract).
 *
 * Layout. Entries live in slabs of FT_SLAB_ENTRIES, reached by a 32-bit
 * index, so a million flows cost a few dozen mallocs, not a million, and
 * freed entries are recycled through a free list instead of going back to
 * malloc. The index is an open-addressing hash table (linear probing,
 * power-of-two size, load at most 3/4) of {32-bit hash, entry index} slots:
 * a probe compares hashes inside one cache line and touches an entry only
 * on a hash match, and deletion shifts the following cluster back, so
 * there are no tombstones to pile up under constant churn. The hash is a
 * wyhash-style multiply-fold of the key's eight 64-bit words with secrets
 * drawn from getrandom() per table, because the key comes off the wire and
 * an attacker who could predict it could pile flows into one cluster.
 *
 * Expiry order. Each entry sits on up to three doubly linked lists, one
 * per timeout, each keyed by the time that timeout measures:
 *   FT_LAST  every entry, by last_seen (idle, evict_oldest, flush),
 *   FT_FIRST entries with packets, by first_seen of the open record (active),
 *   FT_FIN   TCP entries that saw FIN/RST, by when they saw it (TCP end).
 * An entry is appended at the tail when it gets its time (FT_LAST: on
 * every delta, i.e. move-to-tail), so add is O(1). Expiry walks a list from
 * the head and stops as soon as nothing further on can be due, which makes
 * it O(flows expired) instead of a scan of the whole table each poll.
 *
 * Appending is not sorting, though: one drained generation holds deltas
 * whose times spread over the whole rotation interval in hash order, and
 * ring-buffer records or a late CPU can bring older ones still. Keeping
 * the lists exactly sorted would cost O(n) per add in that order. Instead
 * each entry gets a stamp when appended, the highest time appended to the
 * list so far, so stamps never decrease along a list, and the list
 * records, in a log2 histogram, how far below its stamp each entry's time
 * is (its lag). With L the largest lag on the list, an entry whose stamp
 * is above cut + L proves every entry after it has time > cut, and the walk
 * stops there. So expiry stays exact (a flow goes at the first call at
 * which it is due) and only the length of the walk depends on the
 * disorder: in steady state L is about one rotation interval, and a walk
 * visits the due flows plus those seen within L after the cutoff. An
 * outlier widens walks only while it is on the list. A full scan per call,
 * the other way, would read all 160 MB of a million-flow table every poll.
 * Times should come from a clock that does not step back (a fixed offset
 * from CLOCK_MONOTONIC): after a backward step expiry is still exact, but
 * new entries lag the old high-water mark and walks grow long until the
 * clock passes it again.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/random.h>

#include "table/flowtab.h"

#define FT_NIL UINT32_MAX /* no entry: list end, empty slot */
#define FT_SLAB_SHIFT 13  /* 8192 entries (1.25 MiB) per slab: few mallocs, little slack */
#define FT_SLAB_ENTRIES (1u << FT_SLAB_SHIFT)
#define FT_SLAB_MASK (FT_SLAB_ENTRIES - 1)
#define FT_MIN_SLOTS 64
/* Hashes are 32 bits and entry indexes must stay below FT_NIL: 2^30 slots is ~800M flows. */
#define FT_MAX_SLOTS ((size_t)1 << 30)
#define FT_LAG_BUCKETS 65 /* lag 0, then one per bit length 1..64 */

/* The lists, each keyed by e->t[list]. */
enum ft_list_id {
	FT_LAST = 0, /* all entries by last_seen: idle, evict, flush */
	FT_FIRST,    /* entries with packets by record first_seen: active */
	FT_FIN,	     /* TCP entries by first FIN/RST time: TCP end */
	FT_NLISTS,
};

struct ft_link {
	uint32_t prev, next;
	int64_t stamp; /* highest time on the list when appended, >= the entry's time */
};

struct ft_entry {
	struct fm_flow_key key;
	uint64_t packets; /* of the open record; 0 between records after an active export */
	uint64_t bytes;
	uint64_t ip_bytes;
	int64_t t[FT_NLISTS]; /* last_seen, first_seen (open record), first FIN/RST time */
	struct ft_link link[FT_NLISTS]; /* link[FT_LAST].next chains the free list */
	uint32_t hash;
	uint8_t tcp_flags; /* OR over the open record */
	uint8_t on;	   /* bit per list the entry is linked on */
};

struct ft_slot {
	uint32_t hash;
	uint32_t idx; /* FT_NIL: empty */
};

struct ft_list {
	uint32_t head, tail;
	size_t len;
	int64_t hwm;		       /* highest stamp given; INT64_MIN when the list is empty */
	uint32_t nlag[FT_LAG_BUCKETS]; /* entries per log2 of (stamp - time) */
};

struct flowtab {
	struct ft_slot *slots;
	size_t nslots;	 /* power of two */
	size_t max_load; /* grow past this many entries */
	size_t count;
	size_t limit; /* flowtab_set_limit; 0: none */
	struct ft_entry **slabs;
	size_t nslabs, slabs_cap;
	size_t nused; /* entries ever handed out from the slabs */
	uint32_t free_head;
	struct ft_list list[FT_NLISTS];
	uint64_t secret[10];
};

static inline struct ft_entry *ft_ent(const struct flowtab *t, uint32_t idx)
{
	return &t->slabs[idx >> FT_SLAB_SHIFT][idx & FT_SLAB_MASK];
}

/* ---- hash ---- */

/* 64x64->128 multiply, folded: the core of wyhash, fast and well mixing. */
static inline uint64_t ft_mum(uint64_t a, uint64_t b)
{
#ifdef __SIZEOF_INT128__
	__uint128_t r = (__uint128_t)a * b;

	return (uint64_t)r ^ (uint64_t)(r >> 64);
#else
	uint64_t ha = a >> 32, la = (uint32_t)a, hb = b >> 32, lb = (uint32_t)b;
	uint64_t rh = ha * hb, rm0 = ha * lb, rm1 = hb * la, rl = la * lb;
	uint64_t lo = rl + (rm0 << 32), c = lo < rl, lo2 = lo + (rm1 << 32);

	c += lo2 < lo;
	return lo2 ^ (rh + (rm0 >> 32) + (rm1 >> 32) + c);
#endif
}

/*
 * Four independent multiplies (they pipeline) and one to combine them.
 * Every word is xored with its own secret on the way in, so the inputs
 * that would zero a product are unknown to whoever chooses the packets.
 */
static uint32_t ft_hash(const struct flowtab *t, const struct fm_flow_key *k)
{
	const uint64_t *s = t->secret;
	uint64_t w[8], a, b, c, d, h;

	memcpy(w, k, sizeof(w)); /* the key may be unaligned in the caller's buffer */
	a = ft_mum(w[0] ^ s[0], w[1] ^ s[1]);
	b = ft_mum(w[2] ^ s[2], w[3] ^ s[3]);
	c = ft_mum(w[4] ^ s[4], w[5] ^ s[5]);
	d = ft_mum(w[6] ^ s[6], w[7] ^ s[7]);
	h = ft_mum(a ^ c ^ s[8], b ^ d ^ s[9]);
	return (uint32_t)(h ^ (h >> 32));
}

_Static_assert(sizeof(struct fm_flow_key) == 8 * sizeof(uint64_t), "ft_hash reads 8 words");

static uint64_t ft_splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static void ft_seed(struct flowtab *t)
{
	uint64_t seed;
	struct timespec ts;

	if (getrandom(&seed, sizeof(seed), GRND_NONBLOCK) != (ssize_t)sizeof(seed)) {
		/* Early boot without entropy yet: weaker, but still not a constant. */
		clock_gettime(CLOCK_MONOTONIC, &ts);
		seed = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 30) ^ (uint64_t)getpid() ^
		       (uint64_t)(uintptr_t)t;
	}
	for (size_t i = 0; i < sizeof(t->secret) / sizeof(t->secret[0]); i++)
		t->secret[i] = ft_splitmix64(&seed) | 1; /* odd: never a zero factor */
}

/* ---- hash index ---- */

/* Slot holding k, or the empty slot where it would go; *idx FT_NIL when absent. */
static size_t ft_find(const struct flowtab *t, const struct fm_flow_key *k, uint32_t h,
		      uint32_t *idx)
{
	size_t mask = t->nslots - 1, pos = h & mask;

	for (;; pos = (pos + 1) & mask) {
		const struct ft_slot *s = &t->slots[pos];

		if (s->idx == FT_NIL)
			break;
		if (s->hash == h && !memcmp(&ft_ent(t, s->idx)->key, k, sizeof(*k))) {
			*idx = s->idx;
			return pos;
		}
	}
	*idx = FT_NIL;
	return pos;
}

static size_t ft_empty_slot(const struct ft_slot *slots, size_t nslots, uint32_t h)
{
	size_t mask = nslots - 1, pos = h & mask;

	while (slots[pos].idx != FT_NIL)
		pos = (pos + 1) & mask;
	return pos;
}

static int ft_grow(struct flowtab *t)
{
	size_t nslots = t->nslots * 2;
	struct ft_slot *slots;

	if (nslots > FT_MAX_SLOTS || nslots > SIZE_MAX / sizeof(*slots))
		return -ENOMEM;
	slots = malloc(nslots * sizeof(*slots));
	if (!slots)
		return -ENOMEM;
	memset(slots, 0xff, nslots * sizeof(*slots)); /* idx = FT_NIL */
	for (size_t i = 0; i < t->nslots; i++) {
		if (t->slots[i].idx != FT_NIL)
			slots[ft_empty_slot(slots, nslots, t->slots[i].hash)] = t->slots[i];
	}
	free(t->slots);
	t->slots = slots;
	t->nslots = nslots;
	t->max_load = nslots / 4 * 3;
	return 0;
}

/*
 * Empties slot pos and moves back each following entry of the cluster that
 * may sit there (its home is not in (pos, j]), so every entry stays
 * reachable from its home without tombstones.
 */
static void ft_slot_delete(struct flowtab *t, size_t pos)
{
	size_t mask = t->nslots - 1, j = pos;

	for (;;) {
		j = (j + 1) & mask;
		if (t->slots[j].idx == FT_NIL)
			break;
		size_t home = t->slots[j].hash & mask;

		if (((j - home) & mask) >= ((j - pos) & mask)) {
			t->slots[pos] = t->slots[j];
			pos = j;
		}
	}
	t->slots[pos].idx = FT_NIL;
}

/* ---- entry pool ---- */

static uint32_t ft_alloc(struct flowtab *t)
{
	if (t->free_head != FT_NIL) {
		uint32_t idx = t->free_head;

		t->free_head = ft_ent(t, idx)->link[FT_LAST].next;
		return idx;
	}
	if (t->nused == t->nslabs << FT_SLAB_SHIFT) {
		struct ft_entry *slab;

		if (t->nslabs == t->slabs_cap) {
			size_t cap = t->slabs_cap ? t->slabs_cap * 2 : 16;
			struct ft_entry **slabs = realloc(t->slabs, cap * sizeof(*slabs));

			if (!slabs)
				return FT_NIL;
			t->slabs = slabs;
			t->slabs_cap = cap;
		}
		slab = malloc(FT_SLAB_ENTRIES * sizeof(*slab));
		if (!slab)
			return FT_NIL;
		t->slabs[t->nslabs++] = slab;
	}
	return (uint32_t)t->nused++;
}

/* ---- time-ordered lists ---- */

static inline unsigned int ft_lag_bucket(uint64_t lag)
{
	return lag ? 64 - (unsigned int)__builtin_clzll(lag) : 0;
}

/* stamp - time as an unsigned number: exact even when it exceeds INT64_MAX. */
static inline uint64_t ft_lag(const struct ft_entry *e, int li)
{
	return (uint64_t)e->link[li].stamp - (uint64_t)e->t[li];
}

/* An upper bound of every lag on the list. */
static uint64_t ft_lag_bound(const struct ft_list *l)
{
	for (unsigned int b = FT_LAG_BUCKETS - 1; b > 0; b--) {
		if (l->nlag[b])
			return b == 64 ? UINT64_MAX : (1ULL << b) - 1;
	}
	return 0;
}

/* Appends idx to list li, keyed by its e->t[li]. */
static void ft_list_append(struct flowtab *t, int li, uint32_t idx)
{
	struct ft_list *l = &t->list[li];
	struct ft_entry *e = ft_ent(t, idx);
	struct ft_link *lk = &e->link[li];

	if (e->t[li] > l->hwm)
		l->hwm = e->t[li];
	lk->stamp = l->hwm;
	l->nlag[ft_lag_bucket(ft_lag(e, li))]++;
	lk->prev = l->tail;
	lk->next = FT_NIL;
	if (l->tail != FT_NIL)
		ft_ent(t, l->tail)->link[li].next = idx;
	else
		l->head = idx;
	l->tail = idx;
	l->len++;
	e->on |= 1u << li;
}

/* Unlinks idx from list li; call before changing e->t[li]. */
static void ft_list_del(struct flowtab *t, int li, uint32_t idx)
{
	struct ft_list *l = &t->list[li];
	struct ft_entry *e = ft_ent(t, idx);
	struct ft_link *lk = &e->link[li];

	l->nlag[ft_lag_bucket(ft_lag(e, li))]--;
	if (lk->prev != FT_NIL)
		ft_ent(t, lk->prev)->link[li].next = lk->next;
	else
		l->head = lk->next;
	if (lk->next != FT_NIL)
		ft_ent(t, lk->next)->link[li].prev = lk->prev;
	else
		l->tail = lk->prev;
	e->on &= (uint8_t) ~(1u << li);
	/* An empty list starts over, so lags of flows long gone do not linger. */
	if (!--l->len)
		l->hwm = INT64_MIN;
}

/* Lowers e->t[li] in place (first_seen = min): the stamp stays, the lag grows. */
static void ft_list_lower(struct flowtab *t, int li, struct ft_entry *e, int64_t time)
{
	struct ft_list *l = &t->list[li];

	l->nlag[ft_lag_bucket(ft_lag(e, li))]--;
	e->t[li] = time;
	l->nlag[ft_lag_bucket(ft_lag(e, li))]++;
}

/*
 * True when no entry from this one to the tail can have a time <= cut:
 * stamps never decrease along the list, and no time is more than lag
 * below its stamp.
 */
static inline bool ft_past_cut(const struct ft_link *lk, int64_t cut, uint64_t lag)
{
	return lk->stamp > cut && (uint64_t)lk->stamp - (uint64_t)cut > lag;
}

/*
 * *cut = now - timeout, the latest time that is due. False when nothing can
 * be due because that lies below INT64_MIN.
 */
static bool ft_cut(int64_t now, int64_t timeout, int64_t *cut)
{
	return !__builtin_sub_overflow(now, timeout, cut);
}

/* ---- export ---- */

static int ft_emit(const struct ft_entry *e, enum fm_end_reason why, flowtab_emit_fn emit,
		   void *ctx)
{
	struct fm_record rec;
	int ret;

	memset(&rec, 0, sizeof(rec)); /* no stray padding bytes leave the table */
	rec.key = e->key;
	rec.packets = e->packets;
	rec.bytes = e->bytes;
	rec.ip_bytes = e->ip_bytes;
	rec.first_seen_ms = e->t[FT_FIRST];
	rec.last_seen_ms = e->t[FT_LAST];
	rec.tcp_flags = e->tcp_flags;
	rec.end_reason = (uint8_t)why;
	ret = emit(&rec, ctx);
	return ret < 0 ? ret : 0;
}

static void ft_remove(struct flowtab *t, uint32_t idx)
{
	struct ft_entry *e = ft_ent(t, idx);
	size_t mask = t->nslots - 1, pos = e->hash & mask;

	while (t->slots[pos].idx != idx)
		pos = (pos + 1) & mask;
	ft_slot_delete(t, pos);
	for (int li = 0; li < FT_NLISTS; li++) {
		if (e->on & (1u << li))
			ft_list_del(t, li, idx);
	}
	e->link[FT_LAST].next = t->free_head;
	t->free_head = idx;
	t->count--;
}

/* Exports the entry (if it has packets) and removes it; on refusal keeps it. */
static int ft_export_remove(struct flowtab *t, uint32_t idx, enum fm_end_reason why,
			    flowtab_emit_fn emit, void *ctx, long *n)
{
	if (ft_ent(t, idx)->packets) {
		int ret = ft_emit(ft_ent(t, idx), why, emit, ctx);

		if (ret)
			return ret;
		(*n)++;
	}
	ft_remove(t, idx);
	return 0;
}

/* Exports and removes the entries of list li whose time is <= cut. */
static int ft_expire_list(struct flowtab *t, int li, int64_t cut, enum fm_end_reason why,
			  flowtab_emit_fn emit, void *ctx, long *n)
{
	uint64_t lag = ft_lag_bound(&t->list[li]);
	uint32_t idx = t->list[li].head;

	while (idx != FT_NIL) {
		struct ft_entry *e = ft_ent(t, idx);
		uint32_t next = e->link[li].next; /* only idx itself may be removed */

		/* Overlap the miss on the next entry with the work on this one. */
		if (next != FT_NIL)
			__builtin_prefetch(&ft_ent(t, next)->link[li]);

		if (ft_past_cut(&e->link[li], cut, lag))
			break;
		if (e->t[li] <= cut) {
			int ret = ft_export_remove(t, idx, why, emit, ctx, n);

			if (ret)
				return ret;
		}
		idx = next;
	}
	return 0;
}

/*
 * Active timeout: exports the open record and keeps the entry with zeroed
 * counters, off the FT_FIRST list until its next delta opens a record, so
 * the flow's hash slot, idle clock and TCP state carry on.
 */
static int ft_expire_active(struct flowtab *t, int64_t cut, flowtab_emit_fn emit, void *ctx,
			    long *n)
{
	uint64_t lag = ft_lag_bound(&t->list[FT_FIRST]);
	uint32_t idx = t->list[FT_FIRST].head;

	while (idx != FT_NIL) {
		struct ft_entry *e = ft_ent(t, idx);
		uint32_t next = e->link[FT_FIRST].next;

		if (next != FT_NIL)
			__builtin_prefetch(&ft_ent(t, next)->link[FT_FIRST]);

		if (ft_past_cut(&e->link[FT_FIRST], cut, lag))
			break;
		if (e->t[FT_FIRST] <= cut) {
			int ret = ft_emit(e, FM_END_ACTIVE, emit, ctx);

			if (ret)
				return ret;
			(*n)++;
			ft_list_del(t, FT_FIRST, idx);
			e->packets = 0;
			e->bytes = 0;
			e->ip_bytes = 0;
			e->tcp_flags = 0;
		}
		idx = next;
	}
	return 0;
}

/* ---- API ---- */

struct flowtab *flowtab_new(size_t capacity_hint)
{
	struct flowtab *t;
	size_t nslots = FT_MIN_SLOTS;

	t = calloc(1, sizeof(*t));
	if (!t)
		goto err;
	while (nslots / 4 * 3 < capacity_hint && nslots < FT_MAX_SLOTS)
		nslots <<= 1;
	t->slots = malloc(nslots * sizeof(*t->slots));
	if (!t->slots)
		goto err_free_t;
	memset(t->slots, 0xff, nslots * sizeof(*t->slots));
	t->nslots = nslots;
	t->max_load = nslots / 4 * 3;
	t->free_head = FT_NIL;
	for (int li = 0; li < FT_NLISTS; li++) {
		t->list[li].head = FT_NIL;
		t->list[li].tail = FT_NIL;
		t->list[li].hwm = INT64_MIN;
	}
	ft_seed(t);
	return t;

err_free_t:
	free(t);
err:
	errno = ENOMEM;
	return NULL;
}

void flowtab_free(struct flowtab *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->nslabs; i++)
		free(t->slabs[i]);
	free(t->slabs);
	free(t->slots);
	free(t);
}

size_t flowtab_count(const struct flowtab *t)
{
	return t->count;
}

void flowtab_set_limit(struct flowtab *t, size_t max)
{
	t->limit = max;
}

size_t flowtab_limit(const struct flowtab *t)
{
	return t->limit;
}

size_t flowtab_flow_bytes(void)
{
	/* An entry, and index slots at the lowest load (3/8 after a
	 * doubling), counted twice for the old and new index while it
	 * doubles. */
	return sizeof(struct ft_entry) + 2 * sizeof(struct ft_slot) * 8 / 3;
}

int flowtab_add(struct flowtab *t, const struct fm_flow_key *k, const struct flowtab_delta *d)
{
	int64_t first_ms = d->first_ms, last_ms = d->last_ms;
	uint8_t tcp_flags = d->tcp_flags;
	struct ft_entry *e;
	uint32_t h, idx;
	size_t pos;
	int ret;

	if (!d->packets || first_ms > last_ms)
		return -EINVAL;
	h = ft_hash(t, k);
	pos = ft_find(t, k, h, &idx);
	if (idx == FT_NIL) {
		if (t->limit && t->count >= t->limit)
			return -ENOSPC;
		if (t->count >= t->max_load) {
			ret = ft_grow(t);
			if (ret)
				return ret;
			pos = ft_empty_slot(t->slots, t->nslots, h);
		}
		idx = ft_alloc(t);
		if (idx == FT_NIL)
			return -ENOMEM;
		e = ft_ent(t, idx);
		e->key = *k;
		e->hash = h;
		e->on = 0;
		e->packets = 0;
		t->slots[pos].hash = h;
		t->slots[pos].idx = idx;
		t->count++;
	} else {
		e = ft_ent(t, idx);
	}

	if (!e->packets) {
		/* A new flow, or one restarted by an active export: a new record. */
		e->packets = d->packets;
		e->bytes = d->bytes;
		e->ip_bytes = d->ip_bytes;
		e->tcp_flags = tcp_flags;
		if (e->on & (1u << FT_LAST))
			ft_list_del(t, FT_LAST, idx);
		e->t[FT_LAST] = last_ms;
		ft_list_append(t, FT_LAST, idx);
		e->t[FT_FIRST] = first_ms;
		ft_list_append(t, FT_FIRST, idx);
	} else {
		e->packets += d->packets;
		e->bytes += d->bytes;
		e->ip_bytes += d->ip_bytes;
		e->tcp_flags |= tcp_flags;
		if (first_ms < e->t[FT_FIRST])
			ft_list_lower(t, FT_FIRST, e, first_ms);
		ft_list_del(t, FT_LAST, idx);
		if (last_ms > e->t[FT_LAST])
			e->t[FT_LAST] = last_ms;
		ft_list_append(t, FT_LAST, idx);
	}

	/* The linger runs from the first delta that brought FIN or RST. */
	if (k->protocol == FM_IPPROTO_TCP && (tcp_flags & (FM_TCP_FIN | FM_TCP_RST)) &&
	    !(e->on & (1u << FT_FIN))) {
		e->t[FT_FIN] = last_ms;
		ft_list_append(t, FT_FIN, idx);
	}
	return 0;
}

long flowtab_expire(struct flowtab *t, int64_t now_ms, const struct flowtab_timeouts *to,
		    flowtab_emit_fn emit, void *ctx)
{
	static const struct flowtab_timeouts def = FLOWTAB_TIMEOUTS_DEFAULT;
	int64_t cut;
	long n = 0;
	int ret;

	if (!to)
		to = &def;
	if (!emit || to->idle_ms < 0 || to->active_ms < 0 || to->tcp_linger_ms < 0)
		return -EINVAL;

	/*
	 * One pass per reason in precedence order: a flow due for several is
	 * gone (or restarted, hence off FT_FIRST) before the next pass sees it.
	 */
	if (ft_cut(now_ms, to->tcp_linger_ms, &cut)) {
		ret = ft_expire_list(t, FT_FIN, cut, FM_END_TCP_END, emit, ctx, &n);
		if (ret)
			return ret;
	}
	if (ft_cut(now_ms, to->idle_ms, &cut)) {
		ret = ft_expire_list(t, FT_LAST, cut, FM_END_IDLE, emit, ctx, &n);
		if (ret)
			return ret;
	}
	if (ft_cut(now_ms, to->active_ms, &cut)) {
		ret = ft_expire_active(t, cut, emit, ctx, &n);
		if (ret)
			return ret;
	}
	return n;
}

long flowtab_evict_oldest(struct flowtab *t, size_t n, enum fm_end_reason why, flowtab_emit_fn emit,
			  void *ctx)
{
	long done = 0;

	if (!emit || (unsigned int)why >= FM_END__MAX)
		return -EINVAL;
	while (t->list[FT_LAST].head != FT_NIL && (size_t)done < n) {
		int ret = ft_export_remove(t, t->list[FT_LAST].head, why, emit, ctx, &done);

		if (ret)
			return ret;
	}
	return done;
}

long flowtab_flush(struct flowtab *t, enum fm_end_reason why, flowtab_emit_fn emit, void *ctx)
{
	return flowtab_evict_oldest(t, SIZE_MAX, why, emit, ctx);
}
