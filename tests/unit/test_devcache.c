// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The LRU device cache on its own: lookup, insert, eviction order,
 * evicted traffic on the owed list, commit (written or deferred) and
 * rollback, resizing; checked against a simple reference model over
 * random operations.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "tests/testlib.h"
#include "store/devcache.h"

static struct devcache_key key(uint32_t n)
{
	struct devcache_key k;

	memset(&k, 0, sizeof(k));
	k.ifindex = 7;
	k.mac[0] = 0x02;
	k.mac[4] = n >> 8;
	k.mac[5] = n;
	k.family = DEVCACHE_IPV4;
	k.addr[10] = k.addr[11] = 0xff;
	k.addr[12] = 198;
	k.addr[13] = 18 + (n >> 16);
	k.addr[14] = n >> 8;
	k.addr[15] = n;
	return k;
}

/* The number key() was made from. */
static uint32_t key_n(const struct devcache_key *k)
{
	return (uint32_t)(k->addr[13] - 18) << 16 | k->addr[14] << 8 | k->addr[15];
}

/* What a write-back would write: the entries with traffic, in order. */
#define WB_MAX 4096
struct wb_log {
	int n;
	uint32_t keys[WB_MAX];
	uint32_t flags[WB_MAX];
	uint64_t packets_sent[WB_MAX], packets_received[WB_MAX];
	int64_t first[WB_MAX], last[WB_MAX];
};

static void collect(struct devcache *c, struct wb_log *w)
{
	w->n = 0;
	for (struct devcache_entry *e = devcache_dirty_first(c); e; e = devcache_dirty_next(c, e)) {
		if (!(e->flags & DEVCACHE_F_TRAFFIC) || w->n == WB_MAX)
			continue;
		w->keys[w->n] = key_n(&e->key);
		w->flags[w->n] = e->flags;
		w->packets_sent[w->n] = e->t.packets_sent;
		w->packets_received[w->n] = e->t.packets_received;
		w->first[w->n] = e->t.first_seen_ms;
		w->last[w->n] = e->t.last_seen_ms;
		w->n++;
	}
}

static bool has(struct devcache *c, uint32_t n)
{
	struct devcache_key k = key(n);

	return devcache_lookup(c, &k) != NULL;
}

static struct devcache_entry *ins(struct devcache *c, uint32_t n)
{
	struct devcache_key k = key(n);

	return devcache_insert(c, &k, 1000 + n);
}

TEST(insert_lookup)
{
	struct devcache *c = devcache_new(4);
	struct devcache_stats st;
	struct devcache_key k;
	struct devcache_entry *e;

	ASSERT_TRUE(c, "devcache_new(4)");
	for (uint32_t n = 1; n <= 4; n++)
		ASSERT_TRUE(ins(c, n), "insert");
	for (uint32_t n = 1; n <= 4; n++) {
		k = key(n);
		e = devcache_lookup(c, &k);
		ASSERT_TRUE(e, "lookup of an inserted key");
		EXPECT_EQ(e->id, 1000 + n, "id kept");
		EXPECT_TRUE(!memcmp(&e->key, &k, sizeof(k)), "key kept");
	}
	EXPECT_TRUE(!has(c, 5), "a key never inserted misses");
	devcache_get_stats(c, &st);
	EXPECT_EQ(st.hits, 4, "hits");
	EXPECT_EQ(st.misses, 1, "misses");
	EXPECT_EQ(st.size, 4, "size");
	EXPECT_EQ(st.capacity, 4, "capacity");
	EXPECT_EQ(st.evictions, 0, "no evictions yet");
	devcache_free(c);

	errno = 0;
	EXPECT_TRUE(!devcache_new(0) && errno == EINVAL, "capacity 0 refused");
	EXPECT_TRUE(!devcache_new((size_t)DEVCACHE_MAX_ENTRIES + 1) && errno == EINVAL,
		    "capacity over the maximum refused");
	devcache_free(NULL);
}

TEST(key_fields_all_count)
{
	/* The family tells apart keys whose bytes are otherwise equal:
	 * IPv6 :: and a non-IP frame; 1.2.3.4 and ::ffff:1.2.3.4 over IPv6. */
	struct devcache *c = devcache_new(16);
	struct devcache_key k[6];

	ASSERT_TRUE(c, "devcache_new");
	memset(k, 0, sizeof(k));
	k[0].family = DEVCACHE_NONIP;
	k[1].family = DEVCACHE_IPV6;
	k[2] = key(1);
	k[3] = key(1);
	k[3].family = DEVCACHE_IPV6;
	k[4] = key(1);
	k[4].ifindex = 8;
	k[5] = key(1);
	k[5].mac[0] = 0x06;
	for (int i = 0; i < 6; i++) {
		EXPECT_TRUE(!devcache_lookup(c, &k[i]), "distinct key misses before insert");
		ASSERT_TRUE(devcache_insert(c, &k[i], i), "insert");
	}
	for (int i = 0; i < 6; i++) {
		struct devcache_entry *e = devcache_lookup(c, &k[i]);

		ASSERT_TRUE(e, "lookup");
		EXPECT_EQ(e->id, i, "each key has its own entry");
	}
	devcache_free(c);
}

TEST(lru_eviction_order)
{
	struct devcache *c = devcache_new(3);
	struct devcache_stats st;

	ASSERT_TRUE(c, "devcache_new(3)");
	ins(c, 1);
	ins(c, 2);
	ins(c, 3);
	EXPECT_TRUE(has(c, 1), "1 present; now most recent");
	ASSERT_TRUE(ins(c, 4), "insert into a full cache");
	/* Least recently used was 2. */
	EXPECT_TRUE(has(c, 1) && has(c, 3) && has(c, 4), "1, 3, 4 kept");
	/* Lookups made the order 1, 3, 4 (oldest first). */
	ASSERT_TRUE(ins(c, 5), "insert 5");
	EXPECT_TRUE(!has(c, 1), "1 evicted: least recently used");
	EXPECT_TRUE(!has(c, 2), "2 still gone");
	EXPECT_TRUE(has(c, 3) && has(c, 4) && has(c, 5), "3, 4, 5 kept");
	devcache_get_stats(c, &st);
	EXPECT_EQ(st.evictions, 2, "two evictions");
	EXPECT_EQ(st.size, 3, "size stays at capacity");
	devcache_free(c);
}

TEST(eviction_moves_traffic_to_owed)
{
	static struct wb_log w;
	struct devcache *c = devcache_new(2);
	struct devcache_entry *e;
	struct devcache_stats st;
	struct devcache_key k3 = key(3);

	ASSERT_TRUE(c, "devcache_new(2)");
	e = ins(c, 1);
	devcache_add(c, e, true, 3, 300, 50, 60);
	e = ins(c, 2);
	devcache_add(c, e, true, 9, 900, 10, 20);
	devcache_commit(c, true); /* written: 1 and 2 clean */
	EXPECT_EQ(devcache_dirty_count(c), 0, "nothing dirty after a written commit");

	ASSERT_TRUE(ins(c, 3), "insert 3 evicts clean 1");
	EXPECT_EQ(devcache_owed_count(c), 0, "a clean entry leaves nothing owed");
	devcache_commit(c, true);

	e = devcache_lookup(c, &k3);
	ASSERT_TRUE(e, "3 present");
	devcache_add(c, e, true, 3, 300, 50, 60);
	devcache_add(c, e, false, 2, 200, 40, 55);
	devcache_add(c, e, true, 1, 100, 45, 70);
	ASSERT_TRUE(has(c, 2), "2 most recent; 3 is the LRU");
	ASSERT_TRUE(ins(c, 4), "insert 4 evicts dirty 3");
	EXPECT_TRUE(!has(c, 3), "3 left the cache");
	EXPECT_EQ(devcache_owed_count(c), 1, "3 is owed");
	EXPECT_EQ(devcache_dirty_count(c), 2, "dirty: new 4 and owed 3");
	collect(c, &w);
	ASSERT_EQ(w.n, 1, "one entry with traffic to write");
	EXPECT_EQ(w.keys[0], 3, "the evicted one");
	EXPECT_TRUE(w.flags[0] & DEVCACHE_F_OWED, "marked owed");
	EXPECT_EQ(w.packets_sent[0], 4, "with its sent packets");
	EXPECT_EQ(w.packets_received[0], 2, "and received packets");
	EXPECT_EQ(w.first[0], 40, "first seen: the minimum");
	EXPECT_EQ(w.last[0], 70, "last seen: the maximum");
	devcache_get_stats(c, &st);
	EXPECT_EQ(st.writebacks, 1, "evictions with traffic counted");
	EXPECT_EQ(st.evictions, 2, "evictions counted");

	/* Its traffic was of this transaction only: a rollback drops it. */
	devcache_rollback(c);
	EXPECT_EQ(devcache_owed_count(c), 0, "rollback forgets traffic never committed");
	EXPECT_TRUE(!has(c, 4), "and the entry new in it");
	devcache_free(c);
}

TEST(deferred_writeback_survives_rollback)
{
	static struct wb_log w;
	struct devcache *c = devcache_new(2);
	struct devcache_key k1 = key(1);
	struct devcache_entry *e;

	ASSERT_TRUE(c, "devcache_new(2)");
	e = ins(c, 1);
	devcache_add(c, e, true, 5, 500, 10, 20);
	devcache_commit(c, false); /* flow rows committed, device not written */
	e = devcache_lookup(c, &k1);
	ASSERT_TRUE(e, "1 kept");
	EXPECT_TRUE(e->flags & DEVCACHE_F_HELD, "its traffic is held");
	EXPECT_TRUE(!(e->flags & DEVCACHE_F_NEW), "not new any more");
	EXPECT_EQ(devcache_dirty_count(c), 1, "still to be written");

	devcache_add(c, e, true, 3, 300, 5, 30);
	EXPECT_EQ(e->t.packets_sent, 8, "unwritten: held + this transaction");
	devcache_rollback(c);
	e = devcache_lookup(c, &k1);
	ASSERT_TRUE(e, "1 kept by rollback");
	EXPECT_EQ(e->t.packets_sent, 5, "back to the held traffic");
	EXPECT_EQ(e->t.bytes_sent, 500, "held bytes");
	EXPECT_EQ(e->t.first_seen_ms, 10, "held first seen");
	EXPECT_EQ(e->t.last_seen_ms, 20, "held last seen");
	EXPECT_EQ(devcache_dirty_count(c), 1, "still to be written");

	/* Evicted with held traffic, then a rollback: the owed copy keeps
	 * the held part. */
	devcache_add(c, e, true, 1, 100, 15, 40);
	ASSERT_TRUE(ins(c, 2), "insert 2");
	ASSERT_TRUE(ins(c, 3), "insert 3 evicts 1");
	EXPECT_EQ(devcache_owed_count(c), 1, "1 owed");
	devcache_rollback(c);
	collect(c, &w);
	ASSERT_EQ(w.n, 1, "one entry to write");
	EXPECT_EQ(w.keys[0], 1, "the owed one");
	EXPECT_EQ(w.packets_sent[0], 5, "with its held traffic only");
	EXPECT_EQ(devcache_owed_count(c), 1, "still owed");

	devcache_commit(c, false);
	collect(c, &w);
	EXPECT_EQ(w.n, 1, "a commit that wrote nothing keeps it owed");
	devcache_commit(c, true);
	EXPECT_EQ(devcache_dirty_count(c), 0, "a written commit clears everything");
	EXPECT_EQ(devcache_owed_count(c), 0, "owed list emptied");
	devcache_free(c);
}

TEST(commit_and_rollback)
{
	struct devcache *c = devcache_new(8);
	struct devcache_key k1 = key(1), k2 = key(2);
	struct devcache_entry *e;
	int n;

	ASSERT_TRUE(c, "devcache_new");
	e = ins(c, 1);
	ASSERT_TRUE(e, "insert 1");
	EXPECT_TRUE(e->flags & DEVCACHE_F_NEW, "new after insert");
	EXPECT_TRUE(e->flags & DEVCACHE_F_DIRTY, "an inserted entry is dirty");
	EXPECT_TRUE(!(e->flags & DEVCACHE_F_TRAFFIC), "no traffic yet");
	devcache_commit(c, true);
	e = devcache_lookup(c, &k1);
	ASSERT_TRUE(e, "1 kept by commit");
	EXPECT_EQ(e->flags, 0, "clean, not new");

	devcache_add(c, e, true, 5, 500, 1, 2);
	e = ins(c, 2);
	devcache_add(c, e, false, 5, 500, 1, 2);
	n = 0;
	for (e = devcache_dirty_first(c); e; e = devcache_dirty_next(c, e))
		n++;
	EXPECT_EQ(n, 2, "two dirty entries listed");
	EXPECT_EQ(devcache_dirty_count(c), 2, "dirty count");

	devcache_rollback(c);
	EXPECT_EQ(devcache_dirty_count(c), 0, "nothing dirty after rollback");
	e = devcache_lookup(c, &k1);
	ASSERT_TRUE(e, "1 (committed before) kept by rollback");
	EXPECT_EQ(e->t.packets_sent, 0, "its traffic of the rolled back batch forgotten");
	EXPECT_EQ(e->flags, 0, "clean");
	EXPECT_TRUE(!devcache_lookup(c, &k2), "2 (new in the batch) dropped");

	/* The emptied slot is reused; everything still works. */
	for (uint32_t i = 2; i <= 8; i++)
		ASSERT_TRUE(ins(c, i), "refill");
	for (uint32_t i = 1; i <= 8; i++)
		EXPECT_TRUE(has(c, i), "all eight present");
	devcache_clear(c);
	for (uint32_t i = 1; i <= 8; i++)
		EXPECT_TRUE(!has(c, i), "clear drops everything");
	ASSERT_TRUE(ins(c, 1), "insert after clear");
	EXPECT_TRUE(has(c, 1), "found after clear");
	devcache_free(c);
}

TEST(resize_shrink_and_grow)
{
	static struct wb_log w;
	struct devcache *c = devcache_new(8);
	struct devcache_stats st;
	struct devcache_entry *e;
	int n;

	ASSERT_TRUE(c, "devcache_new(8)");
	for (uint32_t i = 1; i <= 8; i++)
		ins(c, i);
	devcache_commit(c, true);
	/* Recency, oldest first: 2 4 6 8 1 3 5 7; 2 and 3 dirty. */
	for (uint32_t i = 1; i <= 7; i += 2)
		has(c, i);
	for (uint32_t i = 2; i <= 3; i++) {
		struct devcache_key k = key(i);

		e = devcache_lookup(c, &k);
		devcache_add(c, e, true, i, i, i, i);
	}
	/* Now: 4 6 8 1 5 7 2 3. */
	EXPECT_EQ(devcache_resize(c, 0), -EINVAL, "capacity 0 refused");
	EXPECT_EQ(devcache_resize(c, 3), 0, "shrink to 3");
	devcache_get_stats(c, &st);
	EXPECT_EQ(st.capacity, 3, "capacity");
	EXPECT_EQ(st.size, 3, "size");
	EXPECT_EQ(st.evictions, 5, "five evicted");
	EXPECT_EQ(devcache_owed_count(c), 0, "the evicted were clean");
	/* Order and dirty list survive the move: 7 2 3, with 2 and 3 dirty. */
	n = 0;
	for (e = devcache_dirty_first(c); e; e = devcache_dirty_next(c, e)) {
		EXPECT_TRUE(key_n(&e->key) == 2 || key_n(&e->key) == 3, "dirty entry");
		EXPECT_EQ(e->t.packets_sent, key_n(&e->key), "its traffic");
		n++;
	}
	EXPECT_EQ(n, 2, "two dirty after the move");
	ASSERT_TRUE(ins(c, 20), "insert 20 evicts 7");
	EXPECT_EQ(devcache_owed_count(c), 0, "7 was clean");
	/* 2 3 20 */
	EXPECT_EQ(devcache_resize(c, 1), 0, "shrink to 1: 2 and 3 go, owed");
	collect(c, &w);
	ASSERT_EQ(w.n, 2, "two owed");
	EXPECT_EQ(w.keys[0], 2, "LRU first");
	EXPECT_EQ(w.packets_sent[0], 2, "with its traffic");
	EXPECT_EQ(w.keys[1], 3, "then the next");
	EXPECT_TRUE(has(c, 20), "the most recent stays");

	EXPECT_EQ(devcache_resize(c, 64), 0, "grow to 64");
	EXPECT_TRUE(has(c, 20), "kept across growth");
	for (uint32_t i = 100; i < 163; i++)
		ASSERT_TRUE(ins(c, i), "fill the grown cache");
	devcache_get_stats(c, &st);
	EXPECT_EQ(st.size, 64, "64 held");
	EXPECT_EQ(st.evictions, 8, "no eviction while filling the grown cache");
	for (uint32_t i = 100; i < 163; i++)
		EXPECT_TRUE(has(c, i), "all present");
	EXPECT_TRUE(has(c, 20), "20 present");
	devcache_free(c);
}

/*
 * Reference model: an array in recency order (0 = most recent) with
 * O(n) operations, and the owed list in eviction order, against which
 * random operations must agree on every hit and miss, the unwritten
 * traffic of every entry, cached or owed, and the size.
 */
struct model_ent {
	uint32_t n;
	bool is_new;
	uint64_t sent, held; /* unwritten packets; of them, committed */
};

#define MODEL_KEYS 300
struct model {
	struct model_ent e[512];
	int size, cap;
	struct model_ent owed[WB_MAX];
	int nowed;
};

static int model_find(const struct model *m, uint32_t n)
{
	for (int i = 0; i < m->size; i++)
		if (m->e[i].n == n)
			return i;
	return -1;
}

static void model_to_front(struct model *m, int i)
{
	struct model_ent t = m->e[i];

	for (int j = i; j > 0; j--) /* not memmove: see test_random_ops_match_model */
		m->e[j] = m->e[j - 1];
	m->e[0] = t;
}

static uint64_t rng_state = 0x123456789abcdefULL;

static uint64_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static void model_evict_lru(struct model *m)
{
	struct model_ent *v = &m->e[m->size - 1];

	if (v->sent && m->nowed < WB_MAX)
		m->owed[m->nowed++] = *v;
	m->size--;
}

static void model_commit(struct model *m, bool written)
{
	for (int i = 0; i < m->size; i++) {
		m->e[i].is_new = false;
		m->e[i].held = m->e[i].sent = written ? 0 : m->e[i].sent;
	}
	for (int i = 0; i < m->nowed; i++)
		m->owed[i].held = m->owed[i].sent;
	if (written)
		m->nowed = 0;
}

static void model_rollback(struct model *m)
{
	int n = 0;

	for (int i = 0; i < m->size;) {
		if (m->e[i].is_new) {
			for (int j = i; j + 1 < m->size; j++)
				m->e[j] = m->e[j + 1];
			m->size--;
			continue;
		}
		m->e[i].sent = m->e[i].held;
		i++;
	}
	for (int i = 0; i < m->nowed; i++)
		if (m->owed[i].held) {
			m->owed[n] = m->owed[i];
			m->owed[n++].sent = m->owed[i].held;
		}
	m->nowed = n;
}

/* The cache's unwritten traffic, cached and owed, as the model has it. */
static bool traffic_matches(struct devcache *c, const struct model *m, int op)
{
	static uint64_t cached[MODEL_KEYS];
	const struct devcache_entry *e;
	int owed = 0;

	memset(cached, 0, sizeof(cached));
	for (e = devcache_dirty_first(c); e; e = devcache_dirty_next(c, e)) {
		uint64_t sent = e->flags & DEVCACHE_F_TRAFFIC ? e->t.packets_sent : 0;

		if (!(e->flags & DEVCACHE_F_OWED)) {
			cached[e->id] = sent;
			continue;
		}
		if (owed >= m->nowed || m->owed[owed].n != e->id || m->owed[owed].sent != sent) {
			TL_FAIL("op %d: owed %d: key %" PRId64 " sent %" PRIu64 ", the model %s",
				op, owed, e->id, sent, owed < m->nowed ? "differs" : "has fewer");
			return false;
		}
		owed++;
	}
	if (owed != m->nowed || (int)devcache_owed_count(c) != m->nowed) {
		TL_FAIL("op %d: %d owed, the model %d", op, owed, m->nowed);
		return false;
	}
	for (int i = 0; i < m->size; i++)
		if (cached[m->e[i].n] != m->e[i].sent) {
			TL_FAIL("op %d: key %u: %" PRIu64 " unwritten, the model %" PRIu64, op,
				m->e[i].n, cached[m->e[i].n], m->e[i].sent);
			return false;
		}
	return true;
}

TEST(random_ops_match_model)
{
	static struct model m;
	struct devcache_stats st;
	struct devcache *c;
	uint64_t hits = 0, misses = 0;
	int op;

	m.cap = 64;
	c = devcache_new(m.cap);
	ASSERT_TRUE(c, "devcache_new");
	for (op = 0; op < 200000; op++) {
		uint64_t r = rng();
		uint32_t n = r % MODEL_KEYS;
		int what = (r >> 32) % 1000, i;
		struct devcache_key k = key(n);
		struct devcache_entry *e;

		if (what < 3) { /* commit, devices written */
			devcache_commit(c, true);
			model_commit(&m, true);
		} else if (what < 6) { /* commit, write-back deferred */
			devcache_commit(c, false);
			model_commit(&m, false);
		} else if (what < 8) { /* rollback */
			devcache_rollback(c);
			model_rollback(&m);
		} else if (what < 10) { /* resize */
			int cap = 1 + (int)((r >> 16) % 128);

			while (m.size > cap)
				model_evict_lru(&m);
			m.cap = cap;
			if (devcache_resize(c, cap)) {
				TL_FAIL("op %d: resize to %d failed", op, cap);
				break;
			}
		} else { /* lookup, insert on a miss */
			e = devcache_lookup(c, &k);
			i = model_find(&m, n);
			if ((e != NULL) != (i >= 0)) {
				TL_FAIL("op %d: key %u: cache %s, the model %s", op, n,
					e ? "hit" : "miss", i >= 0 ? "hit" : "miss");
				break;
			}
			if (i >= 0) {
				hits++;
				model_to_front(&m, i);
			} else {
				misses++;
				if (m.size == m.cap)
					model_evict_lru(&m);
				/* A loop, not memmove: valgrind takes glibc's
				 * fortified memmove for a memcpy and cries overlap. */
				for (int j = m.size; j > 0; j--)
					m.e[j] = m.e[j - 1];
				m.e[0] = (struct model_ent){ .n = n, .is_new = true };
				m.size++;
				e = devcache_insert(c, &k, n);
				if (!e) {
					TL_FAIL("op %d: insert failed", op);
					break;
				}
			}
			if (e->id != n) {
				TL_FAIL("op %d: key %u has id %" PRId64, op, n, e->id);
				break;
			}
			if (what < 600) {
				devcache_add(c, e, true, 1, 1, op, op);
				m.e[0].sent++;
			}
		}
		if (m.nowed == WB_MAX) {
			TL_FAIL("op %d: the model's owed list is full", op);
			break;
		}
		if (!traffic_matches(c, &m, op))
			break;
		devcache_get_stats(c, &st);
		if ((int)st.size != m.size || (int)st.capacity != m.cap) {
			TL_FAIL("op %d: size %zu of %zu, the model %d of %d", op, st.size,
				st.capacity, m.size, m.cap);
			break;
		}
	}
	EXPECT_EQ(op, 200000, "every operation agreed with the model");
	devcache_get_stats(c, &st);
	EXPECT_EQ(st.hits, hits, "hits counted");
	EXPECT_EQ(st.misses, misses, "misses counted");
	devcache_free(c);
}

TEST(steady_workload_hit_ratio)
{
	/* 1,000 devices seen over and over: only the first sight misses. */
	struct devcache *c = devcache_new(65536);
	struct devcache_stats st;
	double ratio;

	ASSERT_TRUE(c, "devcache_new");
	for (uint32_t i = 0; i < 200000; i++) {
		uint32_t n = rng() % 1000;
		struct devcache_key k = key(n);

		if (!devcache_lookup(c, &k))
			ASSERT_TRUE(devcache_insert(c, &k, n), "insert");
		if (i % 4096 == 0)
			devcache_commit(c, true);
	}
	devcache_get_stats(c, &st);
	ratio = (double)st.hits / (st.hits + st.misses);
	EXPECT_EQ(st.misses, 1000, "one miss per device");
	EXPECT_TRUE(ratio > 0.99, "hit ratio above 0.99");
	devcache_free(c);
}

TEST(million_operations)
{
	/* Correctness at scale (timing is for `make bench`, but the rate is
	 * printed): 1M lookups over 100k keys in a 65536-entry cache. */
	enum { OPS = 1000000, KEYS = 100000, CAP = 65536 };
	struct devcache *c = devcache_new(CAP);
	struct devcache_stats st;
	struct timespec t0, t1;
	double ns;

	ASSERT_TRUE(c, "devcache_new");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (uint32_t i = 0; i < OPS; i++) {
		uint32_t n = rng() % KEYS;
		struct devcache_key k = key(n);
		struct devcache_entry *e = devcache_lookup(c, &k);

		if (!e) {
			e = devcache_insert(c, &k, n);
			ASSERT_TRUE(e, "insert");
		}
		if (e->id != n) {
			TL_FAIL("key %u has id %" PRId64, n, e->id);
			break;
		}
		devcache_add(c, e, i & 1, 1, 64, i, i);
		if (i % 8192 == 0)
			devcache_commit(c, true);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	devcache_get_stats(c, &st);
	EXPECT_EQ(st.hits + st.misses, OPS, "every lookup counted");
	EXPECT_EQ(st.size, CAP, "full");
	EXPECT_EQ(st.misses - st.evictions, CAP, "every miss but the first CAP evicted");
	ns = ((t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec)) / OPS;
	fprintf(stderr, "  %.0f ns per lookup+insert/add, hit ratio %.3f\n", ns,
		(double)st.hits / OPS);
	devcache_free(c);
}

TESTLIB_MAIN("devcache")
