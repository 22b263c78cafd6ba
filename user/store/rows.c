// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * One transaction of the writer: flow rows, the devices they come from and
 * go to, metric rows and interface detach times; and the interfaces rows.
 *
 * Devices. For each record of a batch the writer looks up the source and
 * destination device in its LRU cache (devcache.c); a miss is resolved in
 * the batch's transaction by one upsert that returns the devices.id. The
 * record's traffic is added to the cache entries, and before COMMIT of a
 * write-back transaction one UPDATE per dirty device adds it to the row.
 * Write-backs are deferred while the writer is busy: a batch that leaves
 * records queued writes devices only when the oldest unwritten device
 * traffic is DEV_WRITEBACK_FRACTION of max_delay old (or many evicted
 * devices are owed), since rewriting the same hot devices' rows in every
 * transaction costs more than the flow rows themselves in a churn of new
 * flows; a batch that empties the queue, and the last one, always write
 * them. The device cache keeps which traffic is from committed
 * transactions (held), so after a failed transaction it goes back to that
 * and forgets the ids it learned in it, and the retry counts the records
 * again from the queue: device totals never lose or double-count a flow,
 * they may only trail the flows.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "lib/clock.h"
#include "lib/fmt.h"
#include "lib/proto.h"
#include "store/internal.h"
#include "version.h" /* generated: FM_VERSION */

/* Parameter numbers of the flow INSERT; the key columns are contiguous. */
enum {
	P_IFACE = 1,
	P_DIR,
	P_FIRST,
	P_LAST,
	P_SRC_MAC,
	P_DST_MAC,
	P_VLAN,
	P_ETH,
	P_SRC_IP,
	P_DST_IP,
	P_SPORT,
	P_DPORT,
	P_PROTO,
	P_ICMP_TYPE,
	P_ICMP_CODE,
	P_TCP_FLAGS,
	P_TOS,
	P_PACKETS,
	P_BYTES,
	P_IP_BYTES,
	P_REASON,
	P_SRC_DEV,
	P_DST_DEV,
	P_EXPORTER,
};

const char store_insert_flow_sql[] =
	"INSERT INTO flows(interface_id, direction, first_seen_ms, last_seen_ms,"
	" src_mac, dst_mac, vlan_id, eth_type, src_ip, dst_ip,"
	" src_port, dst_port, protocol, icmp_type, icmp_code, tcp_flags, tos,"
	" packets, bytes, ip_bytes, end_reason, src_device_id, dst_device_id, exporter_id)"
	" VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10,"
	" ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24)";

/*
 * A cache miss: the device's row, created if new (its id is then the last
 * insert rowid). Not one upsert with RETURNING: SQLite collects RETURNING
 * rows in a temporary table opened and freed per statement, which made a
 * miss cost ~12 us (perf, sqlite_ingest --only store). A device that has
 * a row already (a restart, a cache eviction) takes the two below.
 */
static const char insert_device_sql[] =
	"INSERT INTO devices(interface_id, mac, ip, first_seen_ms, last_seen_ms,"
	" packets_sent, bytes_sent, packets_received, bytes_received)"
	" VALUES(?1, ?2, ?3, ?4, ?5, 0, 0, 0, 0)"
	" ON CONFLICT(interface_id, mac, ip) DO NOTHING";
static const char touch_device_sql[] = "UPDATE devices SET"
				       " last_seen_ms = max(ifnull(last_seen_ms, ?5), ?5)"
				       " WHERE interface_id = ?1 AND mac = ?2 AND ip = ?3";
static const char select_device_sql[] =
	"SELECT id FROM devices WHERE interface_id = ?1 AND mac = ?2 AND ip = ?3";

/* A dirty device's traffic of this transaction; ifnull so a row written
 * by hand with NULLs still adds up. */
static const char update_device_sql[] =
	"UPDATE devices SET packets_sent = ifnull(packets_sent, 0) + ?1,"
	" bytes_sent = ifnull(bytes_sent, 0) + ?2,"
	" packets_received = ifnull(packets_received, 0) + ?3,"
	" bytes_received = ifnull(bytes_received, 0) + ?4,"
	" first_seen_ms = min(ifnull(first_seen_ms, ?5), ?5),"
	" last_seen_ms = max(ifnull(last_seen_ms, ?6), ?6)"
	" WHERE id = ?7";

void store_fmt_mac(char out[18], const uint8_t *m)
{
	static const char hex[] = "0123456789abcdef";

	for (int i = 0; i < 6; i++) {
		out[i * 3] = hex[m[i] >> 4];
		out[i * 3 + 1] = hex[m[i] & 15];
		out[i * 3 + 2] = i < 5 ? ':' : '\0';
	}
}

/* lib/fmt.c's inet_ntop text without sprintf: it cost ~10% of the writer. */
size_t store_fmt_addr(char out[46], const uint8_t addr[16], bool ip4)
{
	return ip4 ? fmt_ip4(out, addr + 12) : fmt_ip6(out, addr);
}

static const struct store_iface *iface_find(const struct store *s, uint32_t ifindex)
{
	/* Backwards: a later attach of the same ifindex wins. */
	for (size_t i = s->n_ifaces; i-- > 0;)
		if ((uint32_t)s->ifaces[i].ifindex == ifindex)
			return &s->ifaces[i];
	return NULL;
}

/*
 * Add a dirty device's pending traffic to its row. Returns a SQLite code.
 * A row deleted behind our back (sqlite3 CLI) loses that traffic: warned
 * about, and the cache is emptied after the transaction so the device
 * gets a row again.
 */
static int write_device(struct store *s, const struct devcache_entry *e)
{
	sqlite3_stmt *st = s->upd_dev;
	int rc;

	if (!(e->flags & DEVCACHE_F_TRAFFIC))
		return SQLITE_OK;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)e->t.packets_sent);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)e->t.bytes_sent);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)e->t.packets_received);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)e->t.bytes_received);
	sqlite3_bind_int64(st, 5, e->t.first_seen_ms);
	sqlite3_bind_int64(st, 6, e->t.last_seen_ms);
	sqlite3_bind_int64(st, 7, e->id);
	rc = step_once(st);
	if (rc != SQLITE_OK)
		return rc;
	if (!sqlite3_changes(s->db)) {
		if (!s->dev_vanished)
			pr_warn("store: %s: devices row %" PRId64
				" was deleted while in use; its traffic not yet written is lost\n",
				s->path, e->id);
		s->dev_vanished = true;
	}
	s->batch_dev_writes++;
	return SQLITE_OK;
}

/* A cache miss: the id of the device with key k on interface f, its row
 * created if new. Returns a SQLite code. */
static void bind_device_key(sqlite3_stmt *st, struct store *s, const struct store_iface *f,
			    const struct fm_record *r)
{
	sqlite3_bind_int64(st, 1, f->dev_id);
	sqlite3_bind_text(st, 2, s->dev_mac, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, s->dev_ip, -1, SQLITE_STATIC);
	if (sqlite3_bind_parameter_count(st) >= 5) {
		sqlite3_bind_int64(st, 4, r->first_seen_ms);
		sqlite3_bind_int64(st, 5, r->last_seen_ms);
	}
}

static int upsert_device(struct store *s, const struct store_iface *f, const struct devcache_key *k,
			 const struct fm_record *r, int64_t *id)
{
	sqlite3_stmt *st = s->ins_dev;
	int rc;

	store_fmt_mac(s->dev_mac, k->mac);
	if (k->family == DEVCACHE_IPV4 || k->family == DEVCACHE_IPV6)
		store_fmt_addr(s->dev_ip, k->addr, k->family == DEVCACHE_IPV4);
	else
		s->dev_ip[0] = '\0'; /* non-IP: see the devices schema */
	bind_device_key(st, s, f, r);
	rc = step_once(st);
	if (rc != SQLITE_OK)
		return rc;
	if (sqlite3_changes(s->db)) {
		*id = sqlite3_last_insert_rowid(s->db);
		return SQLITE_OK;
	}
	/* The row exists: its last_seen as the upsert had it, then its id. */
	bind_device_key(s->touch_dev, s, f, r);
	rc = step_once(s->touch_dev);
	if (rc != SQLITE_OK)
		return rc;
	st = s->sel_dev;
	bind_device_key(st, s, f, r);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*id = sqlite3_column_int64(st, 0);
		rc = sqlite3_step(st);
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/*
 * A device is a unicast endpoint: one host's interface. A MAC with the
 * group bit set (broadcast ff:ff:ff:ff:ff:ff, IPv4 multicast 01:00:5e:..,
 * IPv6 multicast 33:33:..), an IPv4 multicast or limited broadcast
 * address, or an IPv6 multicast address names a group of receivers, which
 * gets no devices row: its flows have no destination device, and their
 * traffic counts as sent by their source only. (A directed broadcast such
 * as 198.18.0.255 is sent to ff:ff:ff:ff:ff:ff, so the MAC rule has it.)
 */
static bool group_endpoint(const struct fm_flow_key *fk, bool src)
{
	const uint8_t *mac = src ? fk->src_mac : fk->dst_mac;
	const uint8_t *a = src ? fk->src_addr : fk->dst_addr;
	static const uint8_t bcast4[4] = { 255, 255, 255, 255 };

	if (mac[0] & 1)
		return true;
	if (fk->eth_type == FM_ETH_P_IP) /* a[12..15]: the IPv4-mapped form */
		return (a[12] & 0xf0) == 224 || !memcmp(a + 12, bcast4, 4);
	if (fk->eth_type == FM_ETH_P_IPV6)
		return a[0] == 0xff;
	return false;
}

/*
 * The id of r's source (src) or destination device, with r's traffic added
 * to it in the cache, or 0 for a group address (no device). Returns a
 * SQLite code. The traffic goes in before the caller resolves the other
 * end, whose insert may evict this entry.
 */
static int resolve_device(struct store *s, const struct store_iface *f, const struct fm_record *r,
			  bool src, int64_t *id)
{
	const struct fm_flow_key *fk = &r->key;
	struct devcache_key k;
	struct devcache_entry *e;
	int64_t new_id = 0;
	int rc;

	*id = 0;
	if (group_endpoint(fk, src))
		return SQLITE_OK;
	memset(&k, 0, sizeof(k));
	k.ifindex = fk->ifindex;
	memcpy(k.mac, src ? fk->src_mac : fk->dst_mac, sizeof(k.mac));
	if (fk->eth_type == FM_ETH_P_IP || fk->eth_type == FM_ETH_P_IPV6) {
		k.family = fk->eth_type == FM_ETH_P_IP ? DEVCACHE_IPV4 : DEVCACHE_IPV6;
		memcpy(k.addr, src ? fk->src_addr : fk->dst_addr, sizeof(k.addr));
	}
	e = devcache_lookup(s->dc, &k);
	if (!e) {
		rc = upsert_device(s, f, &k, r, &new_id);
		if (rc != SQLITE_OK)
			return rc;
		e = devcache_insert(s->dc, &k, new_id);
		if (!e)
			return SQLITE_NOMEM;
	}
	devcache_add(s->dc, e, src, r->packets, r->bytes, r->first_seen_ms, r->last_seen_ms);
	*id = e->id;
	return SQLITE_OK;
}

/* A device id, or NULL for none (0: a group address). */
static void bind_device(sqlite3_stmt *st, int param, int64_t id)
{
	if (id)
		sqlite3_bind_int64(st, param, id);
	else
		sqlite3_bind_null(st, param);
}

/* Bind one record to the flow INSERT and run it; returns a SQLite code. */
static int insert_flow(struct store *s, const struct fm_record *r)
{
	const struct fm_flow_key *k = &r->key;
	sqlite3_stmt *st = s->ins_flow;
	bool ip4 = k->eth_type == FM_ETH_P_IP, ip6 = k->eth_type == FM_ETH_P_IPV6;
	const struct store_iface *f = iface_find(s, k->ifindex);
	const char *dir = k->direction == FM_DIR_INGRESS ? "ingress" :
			  k->direction == FM_DIR_EGRESS	 ? "egress" :
							   NULL;
	int64_t src_dev, dst_dev;
	int rc;

	/* Binding by position into a prepared statement cannot fail except
	 * through a programming error, which the step below reports. */
	if (f)
		sqlite3_bind_int64(st, P_IFACE, f->id);
	else
		sqlite3_bind_null(st, P_IFACE);
	if (dir)
		sqlite3_bind_text(st, P_DIR, dir, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, P_DIR);
	sqlite3_bind_int64(st, P_FIRST, r->first_seen_ms);
	sqlite3_bind_int64(st, P_LAST, r->last_seen_ms);
	sqlite3_bind_int64(st, P_PACKETS, (sqlite3_int64)r->packets);
	sqlite3_bind_int64(st, P_BYTES, (sqlite3_int64)r->bytes);
	/* 0: not IP, or not measured (an IP packet has 20 bytes at least). */
	if (r->ip_bytes)
		sqlite3_bind_int64(st, P_IP_BYTES, (sqlite3_int64)r->ip_bytes);
	else
		sqlite3_bind_null(st, P_IP_BYTES);
	if (r->exporter_id)
		sqlite3_bind_int64(st, P_EXPORTER, r->exporter_id);
	else
		sqlite3_bind_null(st, P_EXPORTER);
	sqlite3_bind_text(st, P_REASON, fm_end_reason_str(r->end_reason), -1, SQLITE_STATIC);

	if (r->end_reason == FM_END_OVERFLOW) {
		/* Unattributed packets: the key says nothing about them. */
		for (int p = P_SRC_MAC; p <= P_TOS; p++)
			sqlite3_bind_null(st, p);
		sqlite3_bind_null(st, P_SRC_DEV);
		sqlite3_bind_null(st, P_DST_DEV);
		goto step;
	}

	/* Devices belong to an attached interface; a record of another
	 * (none in the daemon) has none. */
	if (f) {
		rc = resolve_device(s, f, r, true, &src_dev);
		if (rc != SQLITE_OK)
			return rc;
		rc = resolve_device(s, f, r, false, &dst_dev);
		if (rc != SQLITE_OK)
			return rc;
		bind_device(st, P_SRC_DEV, src_dev);
		bind_device(st, P_DST_DEV, dst_dev);
	} else {
		sqlite3_bind_null(st, P_SRC_DEV);
		sqlite3_bind_null(st, P_DST_DEV);
	}

	store_fmt_mac(s->src_mac, k->src_mac);
	store_fmt_mac(s->dst_mac, k->dst_mac);
	sqlite3_bind_text(st, P_SRC_MAC, s->src_mac, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, P_DST_MAC, s->dst_mac, -1, SQLITE_STATIC);
	if (k->flags & FM_KF_VLAN)
		sqlite3_bind_int(st, P_VLAN, k->vlan_id);
	else
		sqlite3_bind_null(st, P_VLAN);
	sqlite3_bind_int(st, P_ETH, k->eth_type);

	if (ip4 || ip6) {
		/* IPv4 sits in the last 4 bytes of an IPv4-mapped address. */
		store_fmt_addr(s->src_ip, k->src_addr, ip4);
		store_fmt_addr(s->dst_ip, k->dst_addr, ip4);
		sqlite3_bind_text(st, P_SRC_IP, s->src_ip, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, P_DST_IP, s->dst_ip, -1, SQLITE_STATIC);
		sqlite3_bind_int(st, P_PROTO, k->protocol);
		sqlite3_bind_int(st, P_TOS, k->tos);
	} else {
		sqlite3_bind_null(st, P_SRC_IP);
		sqlite3_bind_null(st, P_DST_IP);
		sqlite3_bind_null(st, P_PROTO);
		sqlite3_bind_null(st, P_TOS);
	}
	sqlite3_bind_int(st, P_SPORT, k->src_port);
	sqlite3_bind_int(st, P_DPORT, k->dst_port);

	if ((ip4 && k->protocol == FM_IPPROTO_ICMP) || (ip6 && k->protocol == FM_IPPROTO_ICMPV6)) {
		sqlite3_bind_int(st, P_ICMP_TYPE, k->icmp_type);
		sqlite3_bind_int(st, P_ICMP_CODE, k->icmp_code);
	} else {
		sqlite3_bind_null(st, P_ICMP_TYPE);
		sqlite3_bind_null(st, P_ICMP_CODE);
	}
	sqlite3_bind_int(st, P_TCP_FLAGS, r->tcp_flags);

step:
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* After a write-back found a devices row gone: start the cache afresh, so
 * every device is looked up (and its row made again) by its next record.
 * Only after a write-back committed, when the cache holds nothing unwritten. */
static void forget_vanished(struct store *s)
{
	if (!s->dev_vanished)
		return;
	devcache_clear(s->dc);
	s->dev_vanished = false;
}

/*
 * Write one batch in one transaction. Returns a SQLite code; on failure the
 * transaction is rolled back and s->errmsg says why. *ms is the time from
 * BEGIN (once the write lock is held) to COMMIT, what batch sizing aims at.
 */
int write_batch(struct store *s, const struct store_batch *b, double *ms)
{
	bool devs;
	double t0;
	int rc;

	rc = ensure_db(s);
	if (rc != SQLITE_OK)
		return rc; /* s->errmsg says why; nothing to roll back */
	/* IMMEDIATE takes the write lock up front, so waiting for another
	 * writer happens here, under busy_timeout, not halfway through. */
	rc = sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
	if (rc != SQLITE_OK)
		goto fail;
	t0 = clock_ms_f(CLOCK_MONOTONIC);

	s->batch_dev_writes = 0;
	for (size_t i = 0; i < b->nrec; i++) {
		rc = insert_flow(s, &s->recs[(b->rec_head + i) % s->rec_cap]);
		if (rc != SQLITE_OK)
			goto fail;
	}
	/* The devices' unwritten traffic: one UPDATE per device. */
	devs = b->dev_writeback || devcache_owed_count(s->dc) >= DEV_OWED_MAX;
	for (struct devcache_entry *e = devs ? devcache_dirty_first(s->dc) : NULL; e;
	     e = devcache_dirty_next(s->dc, e)) {
		rc = write_device(s, e);
		if (rc != SQLITE_OK)
			goto fail;
	}
	for (size_t i = 0; i < b->nmet; i++) {
		const struct store_metric *m = &s->mets[(b->met_head + i) % METRIC_QUEUE];

		sqlite3_bind_int64(s->ins_metric, 1, m->ts_ms);
		sqlite3_bind_text(s->ins_metric, 2, m->name, -1, SQLITE_STATIC);
		sqlite3_bind_double(s->ins_metric, 3, m->value);
		sqlite3_bind_int64(s->ins_metric, 4, s->run_id);
		rc = step_once(s->ins_metric);
		if (rc != SQLITE_OK)
			goto fail;
	}
	for (size_t i = 0; i < s->n_ifaces; i++) {
		const struct store_iface *f = &s->ifaces[i];

		if (!f->detach_inflight)
			continue;
		sqlite3_bind_int64(s->upd_iface, 1, f->inflight_ms);
		sqlite3_bind_int64(s->upd_iface, 2, f->id);
		rc = step_once(s->upd_iface);
		if (rc != SQLITE_OK)
			goto fail;
	}

	rc = sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);
	if (rc != SQLITE_OK)
		goto fail;
	*ms = clock_ms_f(CLOCK_MONOTONIC) - t0;
	devcache_commit(s->dc, devs);
	s->devices_written += s->batch_dev_writes;
	forget_vanished(s);
	return SQLITE_OK;

fail:
	snprintf(s->errmsg, sizeof(s->errmsg), "%s", sqlite3_errmsg(s->db));
	/* Some errors (SQLITE_FULL, IOERR) already rolled back. */
	if (!sqlite3_get_autocommit(s->db))
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	/* The batch's device traffic and new ids went with it; the retry
	 * counts the records again. A row that seemed gone may only have
	 * been rolled back: the next write-back will tell. */
	devcache_rollback(s->dc);
	s->dev_vanished = false;
	return rc;
}

/* Insert an interfaces row (autocommit); a SQLite code, and *id. */
static int insert_iface_row(struct store *s, const char *name, int ifindex, const char *mac,
			    const char *xdp_mode, int64_t attached_ms, int64_t *id)
{
	sqlite3_stmt *st = s->ins_iface;
	int rc;

	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, ifindex);
	sqlite3_bind_text(st, 3, mac, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, xdp_mode, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, attached_ms);
	sqlite3_bind_int64(st, 6, s->run_id);
	rc = step_once(st);
	sqlite3_clear_bindings(st); /* drop the caller's pointers */
	if (rc == SQLITE_OK)
		*id = sqlite3_last_insert_rowid(s->db);
	return rc;
}

/*
 * After store_start: queue the attach for the writer, which owns the
 * connection and the ifaces array (attach_pending_iface). Records of the
 * new ifindex are submitted after this returns, so the writer has the
 * entry before it takes them.
 */
static int queue_attach(struct store *s, const char *name, int ifindex, const char *mac,
			const char *xdp_mode, int64_t attached_ms)
{
	struct store_attach_req *r;
	int err = 0;

	pthread_mutex_lock(&s->lock);
	r = realloc(s->attach_reqs, (s->n_attach_reqs + 1) * sizeof(*r));
	if (!r) {
		err = -ENOMEM;
		goto out;
	}
	s->attach_reqs = r;
	r = &s->attach_reqs[s->n_attach_reqs];
	r->ifindex = ifindex;
	r->attached_ms = attached_ms;
	r->name = name ? strdup(name) : NULL;
	r->mac = mac ? strdup(mac) : NULL;
	r->xdp_mode = xdp_mode ? strdup(xdp_mode) : NULL;
	s->n_attach_reqs++;
	s->attach_retry_ms = 0;
	pthread_cond_signal(&s->wake);
out:
	pthread_mutex_unlock(&s->lock);
	return err;
}

bool attach_pending_iface(struct store *s)
{
	struct store_attach_req r;
	struct store_iface *f;
	int64_t id = 0;
	int rc;

	if (!s->n_attach_reqs || mono_ms() < s->attach_retry_ms)
		return false;
	r = s->attach_reqs[0];
	pthread_mutex_unlock(&s->lock);
	rc = s->db ? insert_iface_row(s, r.name, r.ifindex, r.mac, r.xdp_mode, r.attached_ms, &id) :
		     SQLITE_CANTOPEN;
	if (rc != SQLITE_OK)
		pr_warn("store: %s: recording interface %s: %s; retrying in 1 s\n", s->path,
			r.name ? r.name : "?", s->db ? sqlite3_errmsg(s->db) : "no database");
	pthread_mutex_lock(&s->lock);
	if (rc != SQLITE_OK) {
		s->attach_retry_ms = mono_ms() + 1000;
		return true;
	}
	f = realloc(s->ifaces, (s->n_ifaces + 1) * sizeof(*f));
	if (!f) {
		s->attach_retry_ms = mono_ms() + 1000;
		return true;
	}
	s->ifaces = f;
	f = &s->ifaces[s->n_ifaces];
	memset(f, 0, sizeof(*f));
	f->ifindex = r.ifindex;
	f->id = id;
	f->attached_ms = r.attached_ms;
	f->name = r.name;
	f->mac = r.mac;
	f->xdp_mode = r.xdp_mode;
	pthread_mutex_unlock(&s->lock);
	f->dev_id = first_iface_row(s, f->name, f->id);
	pthread_mutex_lock(&s->lock);
	s->n_ifaces++;
	memmove(s->attach_reqs, s->attach_reqs + 1, --s->n_attach_reqs * sizeof(r));
	return true;
}

int store_interface_attach(struct store *s, const char *name, int ifindex, const char *mac,
			   const char *xdp_mode, int64_t attached_ms)
{
	struct store_iface *f;
	int64_t id = 0;
	int rc;

	if (s->started)
		return queue_attach(s, name, ifindex, mac, xdp_mode, attached_ms);
	f = realloc(s->ifaces, (s->n_ifaces + 1) * sizeof(*f));
	if (!f)
		return -ENOMEM;
	s->ifaces = f;

	rc = insert_iface_row(s, name, ifindex, mac, xdp_mode, attached_ms, &id);
	if (rc != SQLITE_OK) {
		pr_err("store: %s: recording interface %s: %s\n", s->path, name ? name : "?",
		       sqlite3_errmsg(s->db));
		return sqlite_errno(rc);
	}
	f = &s->ifaces[s->n_ifaces++];
	memset(f, 0, sizeof(*f));
	f->ifindex = ifindex;
	f->id = id;
	f->dev_id = first_iface_row(s, name, f->id);
	f->attached_ms = attached_ms;
	/* Kept for a reconnect; without them it writes NULLs, no worse. */
	f->name = name ? strdup(name) : NULL;
	f->mac = mac ? strdup(mac) : NULL;
	f->xdp_mode = xdp_mode ? strdup(xdp_mode) : NULL;
	return 0;
}

/*
 * The interfaces row that devices on interface `name` point at: the first
 * one of that name, so a device seen again in a later run (a new
 * interfaces row per attach) keeps its devices row and adds to it. An
 * unnamed interface, or a failed query, uses its own row.
 */
int64_t first_iface_row(struct store *s, const char *name, int64_t own)
{
	sqlite3_stmt *st = NULL;
	int64_t id = own;

	if (!name)
		return own;
	if (sqlite3_prepare_v2(s->db, "SELECT min(id) FROM interfaces WHERE name = ?1", -1, &st,
			       NULL) != SQLITE_OK) {
		pr_warn("store: %s: finding the first interfaces row of %s: %s; its devices start afresh\n",
			s->path, name, sqlite3_errmsg(s->db));
		return own;
	}
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) == SQLITE_INTEGER)
		id = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return id;
}

/*
 * Writer, after a reconnect: the interfaces rows again, in the new file, as
 * they were (attach time, a committed detach time). Returns a SQLite code.
 */
int rewrite_interfaces(struct store *s)
{
	int rc = sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);

	for (size_t i = 0; rc == SQLITE_OK && i < s->n_ifaces; i++) {
		struct store_iface *f = &s->ifaces[i];
		sqlite3_stmt *st = s->ins_iface;

		sqlite3_bind_text(st, 1, f->name, -1, SQLITE_STATIC);
		sqlite3_bind_int(st, 2, f->ifindex);
		sqlite3_bind_text(st, 3, f->mac, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, f->xdp_mode, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 5, f->attached_ms);
		sqlite3_bind_int64(st, 6, s->run_id);
		rc = step_once(st);
		if (rc != SQLITE_OK)
			break;
		f->id = sqlite3_last_insert_rowid(s->db);
		f->dev_id = first_iface_row(s, f->name, f->id);
		if (f->committed_detached_ms) {
			sqlite3_bind_int64(s->upd_iface, 1, f->committed_detached_ms);
			sqlite3_bind_int64(s->upd_iface, 2, f->id);
			rc = step_once(s->upd_iface);
		}
	}
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);
	if (rc != SQLITE_OK) {
		snprintf(s->errmsg, sizeof(s->errmsg), "%s", sqlite3_errmsg(s->db));
		if (!sqlite3_get_autocommit(s->db))
			sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	}
	return rc;
}

int record_run(struct store *s)
{
	const char *cmd = s->opts.command ? s->opts.command : "run";
	char host[256];
	sqlite3_stmt *st = NULL;
	int rc;

	if (gethostname(host, sizeof(host)))
		snprintf(host, sizeof(host), "?");
	host[sizeof(host) - 1] = '\0';
	rc = sqlite3_prepare_v2(
		s->db,
		"INSERT INTO runs(command, pid, hostname, version, started_ms, args)"
		" VALUES(?1, ?2, ?3, ?4, ?5, ?6)",
		-1, &st, NULL);
	if (rc == SQLITE_OK) {
		sqlite3_bind_text(st, 1, cmd, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, getpid());
		sqlite3_bind_text(st, 3, host, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, FM_VERSION, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 5, s->started_ms);
		sqlite3_bind_text(st, 6, s->opts.args, -1, SQLITE_STATIC);
		rc = step_once(st);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_OK) {
		snprintf(s->errmsg, sizeof(s->errmsg), "recording this run: %s",
			 sqlite3_errmsg(s->db));
		conn_err(s, "store: %s: %s\n", s->path, s->errmsg);
		return rc;
	}
	s->run_id = sqlite3_last_insert_rowid(s->db);
	return SQLITE_OK;
}

int record_run_stop(struct store *s)
{
	sqlite3_stmt *st = NULL;
	int rc;

	rc = sqlite3_prepare_v2(s->db, "UPDATE runs SET stopped_ms = ?1 WHERE id = ?2", -1, &st,
				NULL);
	if (rc == SQLITE_OK) {
		sqlite3_bind_int64(st, 1, now_ms());
		sqlite3_bind_int64(st, 2, s->run_id);
		rc = step_once(st);
	}
	sqlite3_finalize(st);
	return rc;
}

int write_owed_devices(struct store *s)
{
	int rc;

	s->batch_dev_writes = 0;
	rc = sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
	for (struct devcache_entry *e = devcache_dirty_first(s->dc); rc == SQLITE_OK && e;
	     e = devcache_dirty_next(s->dc, e))
		rc = write_device(s, e);
	if (rc == SQLITE_OK)
		rc = record_run_stop(s);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);
	if (rc != SQLITE_OK) {
		snprintf(s->errmsg, sizeof(s->errmsg),
			 "writing the device totals into the moved file: %s",
			 sqlite3_errmsg(s->db));
		if (!sqlite3_get_autocommit(s->db))
			sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
		devcache_rollback(s->dc);
		s->dev_vanished = false;
		return rc;
	}
	devcache_commit(s->dc, true);
	s->devices_written += s->batch_dev_writes;
	s->dev_vanished = false; /* the cache is cleared next anyway */
	return SQLITE_OK;
}

int rows_prepare(struct store *s)
{
	const struct {
		const char *sql;
		sqlite3_stmt **st;
	} stmts[] = {
		{ store_insert_flow_sql, &s->ins_flow },
		{ "INSERT INTO metrics(ts_ms, name, value, run_id) VALUES(?1, ?2, ?3, ?4)",
		  &s->ins_metric },
		{ "INSERT INTO interfaces(name, ifindex, mac, xdp_mode, attached_ms, run_id)"
		  " VALUES(?1, ?2, ?3, ?4, ?5, ?6)",
		  &s->ins_iface },
		{ "UPDATE interfaces SET detached_ms = ?1 WHERE id = ?2", &s->upd_iface },
		{ insert_device_sql, &s->ins_dev },
		{ touch_device_sql, &s->touch_dev },
		{ select_device_sql, &s->sel_dev },
		{ update_device_sql, &s->upd_dev },
	};

	for (size_t i = 0; i < sizeof(stmts) / sizeof(stmts[0]); i++) {
		int rc = store_prepare(s, stmts[i].sql, stmts[i].st);

		if (rc != SQLITE_OK)
			return rc;
	}
	return SQLITE_OK;
}

void rows_finalize(struct store *s)
{
	sqlite3_stmt **all[] = { &s->ins_dev,  &s->touch_dev,  &s->sel_dev,   &s->upd_dev,
				 &s->ins_flow, &s->ins_metric, &s->ins_iface, &s->upd_iface };

	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		sqlite3_finalize(*all[i]);
		*all[i] = NULL;
	}
}
