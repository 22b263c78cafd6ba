/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The device cache: an LRU map from a device key (interface, MAC, IP) to
 * its devices.id, with the traffic of the device that the database does not
 * have yet. O(1) lookup, insert and eviction: a seeded hash with chaining
 * over a preallocated entry array, and an intrusive doubly linked LRU list.
 * Not thread-safe: the store's writer thread alone uses it.
 *
 * Unwritten traffic is transactional, and its write-back may be deferred
 * over several transactions. An entry's traffic t is what its devices row
 * does not have yet; held is the part of t that came from transactions
 * already committed (their flow rows are on disk, the device totals not
 * yet). Entries with traffic, or inserted since the last commit, are dirty.
 * devcache_commit(c, true) says the caller wrote every dirty entry in the
 * transaction that committed: all is clean. devcache_commit(c, false) says
 * it did not: the traffic is kept, now all held. devcache_rollback() goes
 * back to the held traffic and drops the entries inserted since the last
 * commit, whose ids the database may no longer hold. An entry evicted with
 * traffic (to make room, or by a shrink) moves to the owed list, which the
 * dirty iteration also walks and commit and rollback treat alike, so
 * eviction never loses traffic and never needs the database.
 */
#ifndef FM_DEVCACHE_H
#define FM_DEVCACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* devcache_key.family */
enum devcache_family {
	DEVCACHE_NONIP = 0, /* non-IP frame: addr is all zero */
	DEVCACHE_IPV4 = 4,  /* addr is the IPv4-mapped form ::ffff:a.b.c.d */
	DEVCACHE_IPV6 = 6,
};

/*
 * Compared and hashed as bytes, so there are no holes and callers must
 * zero it before filling it in. family keeps an IPv6 "::" apart from a
 * non-IP frame's zero address, and an IPv4 host apart from its
 * IPv4-mapped IPv6 form (stored as different text).
 */
struct devcache_key {
	uint32_t ifindex;
	uint8_t mac[6];
	uint8_t family; /* enum devcache_family */
	uint8_t reserved;
	uint8_t addr[16];
};

_Static_assert(sizeof(struct devcache_key) == 28, "devcache key has no holes");

/* devcache_entry.flags, read-only for callers */
#define DEVCACHE_F_DIRTY 0x1   /* on the dirty list */
#define DEVCACHE_F_NEW 0x2     /* inserted since the last commit */
#define DEVCACHE_F_TRAFFIC 0x4 /* t holds something */
#define DEVCACHE_F_HELD 0x8    /* held holds something */
#define DEVCACHE_F_OWED 0x10   /* evicted: on the owed list, out of the cache */

/* Traffic of one device that its row does not have yet. */
struct devcache_traffic {
	uint64_t packets_sent, bytes_sent;
	uint64_t packets_received, bytes_received;
	int64_t first_seen_ms, last_seen_ms;
};

/* What the cache holds for one device. Links are private. */
struct devcache_entry {
	struct devcache_key key;
	uint32_t flags;		      /* DEVCACHE_F_* */
	int64_t id;		      /* devices.id */
	struct devcache_traffic t;    /* unwritten, valid with DEVCACHE_F_TRAFFIC */
	struct devcache_traffic held; /* of t, from committed transactions (F_HELD) */
	/* private: 1-based entry indexes, 0 = none */
	uint32_t hnext;	       /* hash chain, or the free list */
	uint32_t prev, next;   /* LRU list, most recent first */
	uint32_t dprev, dnext; /* dirty list */
};

struct devcache_stats {
	uint64_t hits;	     /* lookups that found the key */
	uint64_t misses;     /* lookups that did not */
	uint64_t evictions;  /* entries evicted for room or by a shrink */
	uint64_t writebacks; /* evictions that moved traffic to the owed list */
	size_t size;	     /* entries held */
	size_t capacity;     /* entries it may hold */
};

#define DEVCACHE_MAX_ENTRIES (1u << 28) /* 1-based uint32 links, and ~30 GiB */

/*
 * A cache of capacity entries (1..DEVCACHE_MAX_ENTRIES). Memory is
 * allocated now but only touched as entries fill it. Returns NULL with
 * errno set.
 */
struct devcache *devcache_new(size_t capacity);
void devcache_free(struct devcache *c);

/* Bytes of memory one entry of capacity costs when in use. */
size_t devcache_entry_bytes(void);

/* The entry for k, now the most recently used, or NULL; counts a hit or a
 * miss. The pointer is valid until the next insert, resize or rollback. */
struct devcache_entry *devcache_lookup(struct devcache *c, const struct devcache_key *k);

/*
 * Add k with id as the most recently used entry, evicting the least
 * recently used one if full (its traffic to the owed list). k must not be
 * in the cache. Returns the entry (valid as for lookup), or NULL with errno
 * ENOMEM (the owed list could not grow; nothing changed).
 */
struct devcache_entry *devcache_insert(struct devcache *c, const struct devcache_key *k,
				       int64_t id);

/* Add one flow's traffic to e, as its sender (sent) or its receiver. */
void devcache_add(struct devcache *c, struct devcache_entry *e, bool sent, uint64_t packets,
		  uint64_t bytes, int64_t first_ms, int64_t last_ms);

/*
 * Everything to write back: the dirty entries, most recently dirtied first,
 * then the owed ones: for (e = first; e; e = next). Some may have no
 * traffic (DEVCACHE_F_TRAFFIC clear): nothing to write for those.
 */
struct devcache_entry *devcache_dirty_first(struct devcache *c);
struct devcache_entry *devcache_dirty_next(struct devcache *c, const struct devcache_entry *e);
size_t devcache_dirty_count(const struct devcache *c); /* owed included */
size_t devcache_owed_count(const struct devcache *c);

/*
 * The transaction committed. written: it also wrote every dirty entry's
 * traffic, which is cleared and the owed list emptied; otherwise that
 * traffic stays, all of it now held. Either way the entries inserted in it
 * are permanent.
 */
void devcache_commit(struct devcache *c, bool written);

/* The transaction rolled back: every entry (owed ones too) goes back to its
 * held traffic, and the entries inserted since the last commit are dropped. */
void devcache_rollback(struct devcache *c);

/* Drop every entry (e.g. when their ids can no longer be trusted). Only
 * right after devcache_commit(c, true), when nothing is unwritten. */
void devcache_clear(struct devcache *c);

/*
 * Set the capacity (1..DEVCACHE_MAX_ENTRIES). Shrinking evicts least
 * recently used entries (their traffic to the owed list) and releases the
 * memory of the slots it gives up; growing reallocates. Entry pointers are
 * invalid afterwards. Returns 0, -EINVAL or -ENOMEM (the capacity is then
 * unchanged, though a shrink may have evicted some entries already).
 */
int devcache_resize(struct devcache *c, size_t capacity);

void devcache_get_stats(const struct devcache *c, struct devcache_stats *st);

#endif
