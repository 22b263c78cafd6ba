// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * LRU device cache. Entries live in one array sized to the capacity and
 * link to each other by 1-based uint32 indexes (0 = none): half the size of
 * pointers, and calloc'ed zeroes are already valid empty links, so the
 * array's pages are only touched as entries fill it. Slots are handed out
 * in order (c->used), then from a free list of slots that rollback emptied;
 * a full cache reuses its LRU entry's slot in place. Evicted entries with
 * traffic are copied to the owed array, which only grows between the
 * write-backs that empty it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "store/devcache.h"

struct devcache {
	struct devcache_entry *e; /* slots[] entries; e[i - 1] is index i */
	uint32_t *buckets;	  /* nbuckets chain heads */
	size_t slots;		  /* length of e[] (>= capacity) */
	size_t capacity;
	size_t size;		     /* entries held */
	size_t used;		     /* e[0..used) were handed out at some time */
	uint32_t mask;		     /* nbuckets - 1, nbuckets a power of two */
	uint32_t free_head;	     /* slots emptied by rollback */
	uint32_t lru_head, lru_tail; /* most and least recently used */
	uint32_t dirty_head;
	size_t ndirty;
	struct devcache_entry *owed; /* evicted with traffic, unlinked */
	size_t nowed, owed_cap;
	uint64_t seed;
	struct devcache_stats st;
};

#define E(c, i) (&(c)->e[(i)-1])

static uint32_t idx_of(const struct devcache *c, const struct devcache_entry *e)
{
	return (uint32_t)(e - c->e) + 1;
}

/*
 * A seeded multiply-xorshift over the key's 28 bytes. The seed is random
 * per cache, so the senders whose addresses become keys cannot pick keys
 * that share a bucket without learning it.
 */
static uint32_t bucket_of(const struct devcache *c, const struct devcache_key *k)
{
	uint64_t w[4] = { 0 }, h = c->seed;

	memcpy(w, k, sizeof(*k));
	for (int i = 0; i < 4; i++) {
		h = (h ^ w[i]) * 0x9e3779b97f4a7c15ULL;
		h ^= h >> 32;
	}
	h ^= h >> 29;
	h *= 0xbf58476d1ce4e5b9ULL;
	h ^= h >> 32;
	return (uint32_t)h & c->mask;
}

/* Buckets for a capacity: the next power of two, so chains average <= 1. */
static size_t buckets_for(size_t capacity)
{
	size_t n = 1;

	while (n < capacity)
		n <<= 1;
	return n;
}

static uint64_t random_seed(const void *salt)
{
	uint64_t seed;
	struct timespec ts;

	if (getrandom(&seed, sizeof(seed), GRND_NONBLOCK) == sizeof(seed))
		return seed;
	/* No entropy yet (early boot): good enough against collisions. */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_nsec * 0x9e3779b97f4a7c15ULL ^ (uint64_t)ts.tv_sec ^
	       (uint64_t)(uintptr_t)salt;
}

size_t devcache_entry_bytes(void)
{
	/* One entry, and on average between one and two bucket heads. */
	return sizeof(struct devcache_entry) + 2 * sizeof(uint32_t);
}

struct devcache *devcache_new(size_t capacity)
{
	struct devcache *c;

	if (!capacity || capacity > DEVCACHE_MAX_ENTRIES) {
		errno = EINVAL;
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->e = calloc(capacity, sizeof(*c->e));
	c->buckets = calloc(buckets_for(capacity), sizeof(*c->buckets));
	if (!c->e || !c->buckets) {
		devcache_free(c);
		errno = ENOMEM;
		return NULL;
	}
	c->slots = capacity;
	c->capacity = capacity;
	c->mask = buckets_for(capacity) - 1;
	c->seed = random_seed(c);
	return c;
}

void devcache_free(struct devcache *c)
{
	if (!c)
		return;
	free(c->e);
	free(c->buckets);
	free(c->owed);
	free(c);
}

static void lru_unlink(struct devcache *c, struct devcache_entry *e)
{
	if (e->prev)
		E(c, e->prev)->next = e->next;
	else
		c->lru_head = e->next;
	if (e->next)
		E(c, e->next)->prev = e->prev;
	else
		c->lru_tail = e->prev;
	e->prev = e->next = 0;
}

static void lru_push_head(struct devcache *c, struct devcache_entry *e)
{
	uint32_t i = idx_of(c, e);

	e->prev = 0;
	e->next = c->lru_head;
	if (c->lru_head)
		E(c, c->lru_head)->prev = i;
	else
		c->lru_tail = i;
	c->lru_head = i;
}

static void dirty_unlink(struct devcache *c, struct devcache_entry *e)
{
	if (e->dprev)
		E(c, e->dprev)->dnext = e->dnext;
	else
		c->dirty_head = e->dnext;
	if (e->dnext)
		E(c, e->dnext)->dprev = e->dprev;
	e->dprev = e->dnext = 0;
	e->flags &= ~DEVCACHE_F_DIRTY;
	c->ndirty--;
}

static void mark_dirty(struct devcache *c, struct devcache_entry *e)
{
	uint32_t i = idx_of(c, e);

	if (e->flags & DEVCACHE_F_DIRTY)
		return;
	e->flags |= DEVCACHE_F_DIRTY;
	e->dprev = 0;
	e->dnext = c->dirty_head;
	if (c->dirty_head)
		E(c, c->dirty_head)->dprev = i;
	c->dirty_head = i;
	c->ndirty++;
}

static void hash_unlink(struct devcache *c, struct devcache_entry *e)
{
	uint32_t i = idx_of(c, e), *p = &c->buckets[bucket_of(c, &e->key)];

	while (*p != i)
		p = &E(c, *p)->hnext;
	*p = e->hnext;
	e->hnext = 0;
}

static void hash_link(struct devcache *c, struct devcache_entry *e)
{
	uint32_t *b = &c->buckets[bucket_of(c, &e->key)];

	e->hnext = *b;
	*b = idx_of(c, e);
}

static void clear_traffic(struct devcache_entry *e)
{
	memset(&e->t, 0, sizeof(e->t));
	memset(&e->held, 0, sizeof(e->held));
	e->flags &= ~(DEVCACHE_F_TRAFFIC | DEVCACHE_F_HELD);
}

/* Back to the traffic of committed transactions. Returns whether any. */
static bool restore_held(struct devcache_entry *e)
{
	if (!(e->flags & DEVCACHE_F_HELD)) {
		clear_traffic(e);
		return false;
	}
	e->t = e->held;
	e->flags |= DEVCACHE_F_TRAFFIC;
	return true;
}

/* All of t is from committed transactions now. */
static void hold(struct devcache_entry *e)
{
	if (!(e->flags & DEVCACHE_F_TRAFFIC))
		return;
	e->held = e->t;
	e->flags |= DEVCACHE_F_HELD;
}

/* Take e out of every list; its slot is the caller's. */
static void unlink_entry(struct devcache *c, struct devcache_entry *e)
{
	hash_unlink(c, e);
	lru_unlink(c, e);
	if (e->flags & DEVCACHE_F_DIRTY)
		dirty_unlink(c, e);
	c->size--;
}

/* Copy e, about to leave the cache with traffic, to the owed list.
 * Returns 0 or -ENOMEM. */
static int owe(struct devcache *c, const struct devcache_entry *e)
{
	struct devcache_entry *o;

	if (c->nowed == c->owed_cap) {
		size_t cap = c->owed_cap ? c->owed_cap * 2 : 64;

		o = realloc(c->owed, cap * sizeof(*o));
		if (!o)
			return -ENOMEM;
		c->owed = o;
		c->owed_cap = cap;
	}
	o = &c->owed[c->nowed++];
	*o = *e;
	o->flags = (e->flags & ~DEVCACHE_F_DIRTY) | DEVCACHE_F_OWED;
	o->hnext = o->prev = o->next = o->dprev = o->dnext = 0;
	return 0;
}

/* Evict the LRU entry, its traffic to the owed list; its slot is the
 * caller's. Returns it, or NULL with errno ENOMEM. */
static struct devcache_entry *evict_lru(struct devcache *c)
{
	struct devcache_entry *e = E(c, c->lru_tail);

	if (e->flags & DEVCACHE_F_TRAFFIC) {
		if (owe(c, e)) {
			errno = ENOMEM;
			return NULL;
		}
		c->st.writebacks++;
	}
	unlink_entry(c, e);
	c->st.evictions++;
	return e;
}

struct devcache_entry *devcache_lookup(struct devcache *c, const struct devcache_key *k)
{
	uint32_t i = c->buckets[bucket_of(c, k)];

	while (i) {
		struct devcache_entry *e = E(c, i);

		if (!memcmp(&e->key, k, sizeof(*k))) {
			c->st.hits++;
			if (c->lru_head != i) {
				lru_unlink(c, e);
				lru_push_head(c, e);
			}
			return e;
		}
		i = e->hnext;
	}
	c->st.misses++;
	return NULL;
}

struct devcache_entry *devcache_insert(struct devcache *c, const struct devcache_key *k, int64_t id)
{
	struct devcache_entry *e;

	if (c->size >= c->capacity) {
		e = evict_lru(c);
		if (!e)
			return NULL;
	} else if (c->free_head) {
		e = E(c, c->free_head);
		c->free_head = e->hnext;
	} else {
		e = &c->e[c->used++];
	}
	memset(e, 0, sizeof(*e));
	e->key = *k;
	e->id = id;
	e->flags = DEVCACHE_F_NEW;
	hash_link(c, e);
	lru_push_head(c, e);
	mark_dirty(c, e);
	c->size++;
	return e;
}

void devcache_add(struct devcache *c, struct devcache_entry *e, bool sent, uint64_t packets,
		  uint64_t bytes, int64_t first_ms, int64_t last_ms)
{
	struct devcache_traffic *t = &e->t;

	if (sent) {
		t->packets_sent += packets;
		t->bytes_sent += bytes;
	} else {
		t->packets_received += packets;
		t->bytes_received += bytes;
	}
	if (!(e->flags & DEVCACHE_F_TRAFFIC)) {
		e->flags |= DEVCACHE_F_TRAFFIC;
		t->first_seen_ms = first_ms;
		t->last_seen_ms = last_ms;
	} else {
		if (first_ms < t->first_seen_ms)
			t->first_seen_ms = first_ms;
		if (last_ms > t->last_seen_ms)
			t->last_seen_ms = last_ms;
	}
	mark_dirty(c, e);
}

struct devcache_entry *devcache_dirty_first(struct devcache *c)
{
	if (c->dirty_head)
		return E(c, c->dirty_head);
	return c->nowed ? c->owed : NULL;
}

struct devcache_entry *devcache_dirty_next(struct devcache *c, const struct devcache_entry *e)
{
	if (e->flags & DEVCACHE_F_OWED)
		return e + 1 < c->owed + c->nowed ? (struct devcache_entry *)e + 1 : NULL;
	if (e->dnext)
		return E(c, e->dnext);
	return c->nowed ? c->owed : NULL;
}

size_t devcache_dirty_count(const struct devcache *c)
{
	return c->ndirty + c->nowed;
}

size_t devcache_owed_count(const struct devcache *c)
{
	return c->nowed;
}

void devcache_commit(struct devcache *c, bool written)
{
	uint32_t i = c->dirty_head;

	if (written) {
		while (c->dirty_head) {
			struct devcache_entry *e = E(c, c->dirty_head);

			dirty_unlink(c, e);
			clear_traffic(e);
			e->flags &= ~DEVCACHE_F_NEW;
		}
		c->nowed = 0;
		/* A shrink under memory pressure may have grown the list
		 * large: give that memory back once it is written. */
		if (c->owed_cap > 1024) {
			free(c->owed);
			c->owed = NULL;
			c->owed_cap = 0;
		}
		return;
	}
	while (i) {
		struct devcache_entry *e = E(c, i);

		i = e->dnext;
		e->flags &= ~DEVCACHE_F_NEW;
		if (e->flags & DEVCACHE_F_TRAFFIC)
			hold(e);
		else
			dirty_unlink(c, e);
	}
	for (size_t k = 0; k < c->nowed; k++) {
		c->owed[k].flags &= ~DEVCACHE_F_NEW;
		hold(&c->owed[k]);
	}
}

void devcache_rollback(struct devcache *c)
{
	uint32_t i = c->dirty_head;
	size_t n = 0;

	while (i) {
		struct devcache_entry *e = E(c, i);

		i = e->dnext;
		if (e->flags & DEVCACHE_F_NEW) {
			/* Its devices row may have been rolled back with it. */
			unlink_entry(c, e);
			e->flags = 0;
			e->hnext = c->free_head;
			c->free_head = idx_of(c, e);
		} else if (!restore_held(e)) {
			dirty_unlink(c, e);
		}
	}
	/* Owed entries new in this transaction never held anything. */
	for (size_t k = 0; k < c->nowed; k++)
		if (restore_held(&c->owed[k]))
			c->owed[n++] = c->owed[k];
	c->nowed = n;
}

void devcache_clear(struct devcache *c)
{
	memset(c->buckets, 0, ((size_t)c->mask + 1) * sizeof(*c->buckets));
	c->size = c->used = c->ndirty = c->nowed = 0;
	c->free_head = c->lru_head = c->lru_tail = c->dirty_head = 0;
}

/*
 * Move the entries into fresh arrays of `slots` slots, in LRU order from
 * slot 1, so the arrays shrink to fit and the free list disappears.
 * Returns 0 or -ENOMEM (nothing changed).
 */
static int rebuild(struct devcache *c, size_t slots)
{
	struct devcache_entry *ne, *o;
	uint32_t *nb, oi, n = 0, dhead = 0;
	size_t nbuckets = buckets_for(slots);

	ne = calloc(slots, sizeof(*ne));
	nb = calloc(nbuckets, sizeof(*nb));
	if (!ne || !nb) {
		free(ne);
		free(nb);
		return -ENOMEM;
	}
	/* Copy most recent first; remember each entry's new index in the
	 * old entry's hnext, which the old arrays no longer need. */
	for (oi = c->lru_head; oi; oi = o->next) {
		o = E(c, oi);
		ne[n] = *o;
		ne[n].hnext = 0;
		ne[n].prev = n; /* 1-based index of the previous */
		ne[n].next = o->next ? n + 2 : 0;
		ne[n].dprev = ne[n].dnext = 0;
		o->hnext = ++n;
	}
	/* The dirty list, in its old order. */
	for (oi = c->dirty_head; oi; oi = o->dnext) {
		uint32_t ni;

		o = E(c, oi);
		ni = o->hnext;
		if (!dhead)
			dhead = ni;
		ne[ni - 1].dprev = o->dprev ? E(c, o->dprev)->hnext : 0;
		ne[ni - 1].dnext = o->dnext ? E(c, o->dnext)->hnext : 0;
	}
	free(c->e);
	free(c->buckets);
	c->e = ne;
	c->buckets = nb;
	c->slots = slots;
	c->mask = nbuckets - 1;
	c->used = n;
	c->free_head = 0;
	c->lru_head = n ? 1 : 0;
	c->lru_tail = n;
	c->dirty_head = dhead;
	for (uint32_t i = 1; i <= n; i++)
		hash_link(c, E(c, i));
	return 0;
}

int devcache_resize(struct devcache *c, size_t capacity)
{
	if (!capacity || capacity > DEVCACHE_MAX_ENTRIES)
		return -EINVAL;
	if (capacity == c->capacity)
		return 0;
	if (capacity > c->slots) {
		if (rebuild(c, capacity))
			return -ENOMEM;
		c->capacity = capacity;
		return 0;
	}
	while (c->size > capacity) {
		struct devcache_entry *e = evict_lru(c);

		if (!e)
			return -errno;
		e->flags = 0;
		e->hnext = c->free_head;
		c->free_head = idx_of(c, e);
	}
	c->capacity = capacity;
	/* Give the memory back (what the daemon shrinks for); if that
	 * fails the cache still works, in the larger arrays. */
	rebuild(c, capacity);
	return 0;
}

void devcache_get_stats(const struct devcache *c, struct devcache_stats *st)
{
	*st = c->st;
	st->size = c->size;
	st->capacity = c->capacity;
}
