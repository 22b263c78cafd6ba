// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * SQLite writer. Producers copy records into a bounded ring under a mutex;
 * one writer thread owns the connection and turns the ring into
 * transactions. The writer reads the records it has taken straight from the
 * ring without the lock: producers only ever write the free part of the
 * ring, and the writer frees a batch's slots only after its COMMIT, so a
 * failed transaction leaves its records queued for the next attempt and
 * nothing is lost or copied twice.
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
 *
 * The file. A database we create is DB_FILE_MODE whatever the umask. Before
 * each transaction the writer checks that the path still names the file it
 * has open (ensure_db): a database deleted, moved or replaced while in use
 * is reported, let go, and a database at the path is opened (created) in
 * its place, so rows keep going where a reader of that path finds them.
 * While none can be opened the records stay queued, as on a full disk.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "devcache.h"
#include "log.h"
#include "store.h"

#define SCHEMA_VERSION 1
#define STR_(x) #x
#define STR(x) STR_(x)

#define DEFAULT_TARGET_COMMIT_MS 100
#define DEFAULT_MAX_DELAY_MS 5000
/* 26 MiB of records: a few seconds of a heavy export burst. calloc'ed, so
 * pages are only touched as the queue actually fills. */
#define DEFAULT_QUEUE_RECORDS 262144
#define DEFAULT_CHECKPOINT_MS 10000
/* How long one attempt waits for another connection's write lock (the
 * sqlite3 CLI, a second reader/writer) before the transaction is retried. */
#define BUSY_TIMEOUT_MS 5000
/* Batch bounds: below 64 rows per transaction the commit overhead
 * dominates; above 65536 a transaction holds the write lock (and the rows'
 * latency) for too long whatever the measurements say. */
#define BATCH_MIN 64
#define BATCH_MAX 65536
#define BATCH_INITIAL 1024
/* Metric rows queued: about 150 intervals of the ~27 metrics the daemon
 * writes, far more than can pile up while the writer retries. */
#define METRIC_QUEUE 4096
/* Device write-back while busy: when the oldest unwritten device traffic
 * is max_delay / DEV_WRITEBACK_FRACTION old, or this many evicted devices
 * are owed (their copies cost memory). */
#define DEV_WRITEBACK_FRACTION 2
#define DEV_OWED_MAX 65536
/* Backoff after a failed transaction: doubling from 100 ms to 5 s, so a
 * full disk costs a log line and a retry every 5 s, not a busy loop. */
#define RETRY_MIN_MS 100
#define RETRY_MAX_MS 5000
/* Failed transactions store_close tolerates before it gives up and
 * reports the rest as unwritten, so shutdown cannot hang on a dead disk. */
#define CLOSE_ATTEMPTS 3
/* After a checkpoint lets the WAL restart, truncate it back to this, so a
 * burst (or a long-lived CLI reader) does not leave a huge file behind. */
#define JOURNAL_SIZE_LIMIT 67108864	/* 64 MiB */
/* Mode of a database file we create, whatever the umask: flow records say
 * who talked to whom, so not world-readable; the group may read them (an
 * operators' group running `flowmaster top` or sqlite3). SQLite gives the
 * -wal and -shm files the database file's mode. */
#define DB_FILE_MODE 0640

/* Errors while connecting: at start-up they end the daemon and are errors;
 * while the writer reconnects (the file was deleted or replaced) they are
 * retried, and finish_batch warns once per cause, so they are debug. */
#define conn_err(s, fmt, ...) \
	fm_log((s)->reconnecting ? LOG_LVL_DEBUG : -1, fmt, ##__VA_ARGS__)

#define ETH_P_IP 0x0800
#define ETH_P_IPV6 0x86dd
#define IPPROTO_ICMP_ 1
#define IPPROTO_ICMPV6_ 58

/*
 * Schema version 1 (DESIGN.md), created in one transaction. The comments
 * inside CREATE TABLE are kept by SQLite and shown by `.schema`.
 */
static const char schema_sql[] =
	"CREATE TABLE IF NOT EXISTS interfaces(id INTEGER PRIMARY KEY,"
	" name TEXT, ifindex INTEGER, mac TEXT, xdp_mode TEXT,"
	" attached_ms INTEGER, detached_ms INTEGER);\n"
	"CREATE TABLE IF NOT EXISTS devices(id INTEGER PRIMARY KEY,\n"
	" -- a host seen as the source or destination of a flow; interface_id\n"
	" -- is the first interfaces row of that name, so it lasts across runs\n"
	" interface_id INTEGER, mac TEXT,\n"
	" -- as flows.src_ip prints it; '' (not NULL, which UNIQUE would never\n"
	" -- match) for a non-IP frame's device\n"
	" ip TEXT,\n"
	" first_seen_ms INTEGER, last_seen_ms INTEGER,"
	" packets_sent INTEGER, bytes_sent INTEGER,"
	" packets_received INTEGER, bytes_received INTEGER,"
	" UNIQUE(interface_id, mac, ip));\n"
	"CREATE TABLE IF NOT EXISTS flows(id INTEGER PRIMARY KEY,"
	" interface_id INTEGER, direction TEXT,"
	" first_seen_ms INTEGER, last_seen_ms INTEGER,"
	" src_mac TEXT, dst_mac TEXT, vlan_id INTEGER, eth_type INTEGER,"
	" src_ip TEXT, dst_ip TEXT, src_port INTEGER, dst_port INTEGER,"
	" protocol INTEGER, icmp_type INTEGER, icmp_code INTEGER,"
	" tcp_flags INTEGER, packets INTEGER, bytes INTEGER,"
	" end_reason TEXT, src_device_id INTEGER, dst_device_id INTEGER);\n"
	"CREATE TABLE IF NOT EXISTS metrics(ts_ms INTEGER, name TEXT, value REAL);\n"
	"CREATE INDEX IF NOT EXISTS flows_first_seen ON flows(first_seen_ms);\n"
	"CREATE INDEX IF NOT EXISTS metrics_ts ON metrics(ts_ms);\n"
	"CREATE VIEW IF NOT EXISTS flows_readable AS SELECT f.id,"
	" i.name AS interface, f.direction,"
	" strftime('%Y-%m-%dT%H:%M:%fZ', f.first_seen_ms / 1000.0, 'unixepoch') AS first_seen,"
	" strftime('%Y-%m-%dT%H:%M:%fZ', f.last_seen_ms / 1000.0, 'unixepoch') AS last_seen,"
	" f.src_mac, f.dst_mac, f.vlan_id,"
	" CASE WHEN f.eth_type IS NULL THEN NULL ELSE printf('0x%04x', f.eth_type) END AS eth_type,"
	" f.src_ip, f.src_port, f.dst_ip, f.dst_port,"
	" CASE f.protocol WHEN 1 THEN 'icmp' WHEN 6 THEN 'tcp' WHEN 17 THEN 'udp'"
	" WHEN 58 THEN 'ipv6-icmp' WHEN 132 THEN 'sctp' WHEN 136 THEN 'udplite'"
	" ELSE CAST(f.protocol AS TEXT) END AS protocol,"
	" f.icmp_type, f.icmp_code, f.tcp_flags, f.packets, f.bytes, f.end_reason"
	" FROM flows f LEFT JOIN interfaces i ON i.id = f.interface_id;\n"
	"CREATE VIEW IF NOT EXISTS top_talkers AS SELECT src_ip,"
	" sum(bytes) AS bytes, sum(packets) AS packets, count(*) AS flows"
	" FROM flows WHERE src_ip IS NOT NULL GROUP BY src_ip ORDER BY bytes DESC;\n"
	"PRAGMA user_version = " STR(SCHEMA_VERSION) ";\n";

/* Added to version 1 without a version change: created by every open, so
 * a version 1 database written by an older flowmaster gains them too. */
static const char additive_sql[] =
	"CREATE VIEW IF NOT EXISTS device_summary AS SELECT d.id,"
	" i.name AS interface, d.mac, d.ip,"
	" strftime('%Y-%m-%dT%H:%M:%fZ', d.first_seen_ms / 1000.0, 'unixepoch') AS first_seen,"
	" strftime('%Y-%m-%dT%H:%M:%fZ', d.last_seen_ms / 1000.0, 'unixepoch') AS last_seen,"
	" d.packets_sent, d.bytes_sent, d.packets_received, d.bytes_received"
	" FROM devices d LEFT JOIN interfaces i ON i.id = d.interface_id"
	" ORDER BY d.bytes_sent + d.bytes_received DESC;\n"
	"CREATE VIEW IF NOT EXISTS metrics_latest AS SELECT"
	" strftime('%Y-%m-%dT%H:%M:%fZ', ts_ms / 1000.0, 'unixepoch') AS time, name, value"
	" FROM metrics WHERE ts_ms = (SELECT max(ts_ms) FROM metrics) ORDER BY name;\n";

/* Only on request: a text-address index slows inserts about sevenfold. */
static const char address_index_sql[] =
	"CREATE INDEX IF NOT EXISTS flows_src_ip ON flows(src_ip);\n"
	"CREATE INDEX IF NOT EXISTS flows_dst_ip ON flows(dst_ip);\n";

/* Parameter numbers of the flow INSERT; the key columns are contiguous. */
enum {
	P_IFACE = 1, P_DIR, P_FIRST, P_LAST,
	P_SRC_MAC, P_DST_MAC, P_VLAN, P_ETH, P_SRC_IP, P_DST_IP,
	P_SPORT, P_DPORT, P_PROTO, P_ICMP_TYPE, P_ICMP_CODE, P_TCP_FLAGS,
	P_PACKETS, P_BYTES, P_REASON, P_SRC_DEV, P_DST_DEV,
};

static const char insert_flow_sql[] =
	"INSERT INTO flows(interface_id, direction, first_seen_ms, last_seen_ms,"
	" src_mac, dst_mac, vlan_id, eth_type, src_ip, dst_ip,"
	" src_port, dst_port, protocol, icmp_type, icmp_code, tcp_flags,"
	" packets, bytes, end_reason, src_device_id, dst_device_id)"
	" VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10,"
	" ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21)";

/* A cache miss: the device's id, creating its row if new. The DO UPDATE
 * (not DO NOTHING) is what makes RETURNING give the existing row's id. */
static const char upsert_device_sql[] =
	"INSERT INTO devices(interface_id, mac, ip, first_seen_ms, last_seen_ms,"
	" packets_sent, bytes_sent, packets_received, bytes_received)"
	" VALUES(?1, ?2, ?3, ?4, ?5, 0, 0, 0, 0)"
	" ON CONFLICT(interface_id, mac, ip) DO UPDATE SET"
	" last_seen_ms = max(ifnull(last_seen_ms, excluded.last_seen_ms), excluded.last_seen_ms)"
	" RETURNING id";

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

struct store_iface {
	int ifindex;
	int64_t id;			/* interfaces.id */
	int64_t dev_id;			/* devices.interface_id: first row of this name */
	/* What the interfaces row holds, to write it again into a new
	 * database file (reconnect); the writer's alone after store_start. */
	char *name, *mac, *xdp_mode;
	int64_t attached_ms;
	int64_t committed_detached_ms;	/* 0: no detach committed yet */
	/* under store.lock: */
	int64_t detached_ms;		/* valid with detach_pending */
	bool detach_pending;		/* detached_ms not yet committed */
	/* set under the lock by the writer, read by it alone: */
	bool detach_inflight;		/* in the current transaction */
	int64_t inflight_ms;
};

struct store_metric {
	int64_t ts_ms;
	double value;
	char name[STORE_METRIC_NAME_MAX];
};

/* What one transaction took from the queues. */
struct store_batch {
	size_t rec_head, nrec;
	size_t met_head, nmet;
	bool had_oldest;		/* to restore store.oldest_ms on failure */
	int64_t oldest_ms;
	bool dev_writeback;		/* write the devices' unwritten traffic too */
};

struct store {
	struct store_opts opts;		/* defaults filled in; path points at .path below */
	char *path;
	char *wal_path, *shm_path;
	dev_t wal_dev, shm_dev;		/* the -wal and -shm our connection uses */
	ino_t wal_ino, shm_ino;
	int connect_rc;			/* SQLite code of the last failed db_connect */
	sqlite3 *db;			/* NULL after a failed reconnect, until the next */
	/*
	 * The database file we write, to notice when the path stops naming it
	 * (deleted, moved or replaced while open): an fd of our own, never
	 * closed while SQLite has the file open (closing any fd of a file drops
	 * the process's POSIX locks on it, SQLite's included). -1 for :memory:.
	 */
	int ident_fd;
	dev_t ident_dev;
	ino_t ident_ino;
	bool reconnecting;		/* log connect failures at debug, not error */
	uint64_t rows_in_file;		/* flow rows committed to the current file */
	sqlite3_stmt *ins_flow, *ins_metric, *ins_iface, *upd_iface;
	sqlite3_stmt *upsert_dev, *upd_dev;
	struct devcache *dc;		/* the writer's alone */
	size_t cache_floor;		/* store_set_cache_capacity's lower bound */

	/* Grown only before store_start; the writer then reads it unlocked. */
	struct store_iface *ifaces;
	size_t n_ifaces;

	pthread_t thread;
	bool started;

	pthread_mutex_t lock;		/* guards the queues, flags and counters below */
	pthread_cond_t wake;		/* the writer sleeps on it */
	struct fm_record *recs;		/* ring of rec_cap records */
	size_t rec_cap, rec_head, rec_count;	/* rec_count includes the batch in flight */
	struct store_metric *mets;	/* ring of METRIC_QUEUE rows */
	size_t met_head, met_count;
	size_t detach_count;		/* ifaces with detach_pending */
	bool have_oldest;		/* something is queued that the writer has not taken */
	int64_t oldest_ms;		/* ... since this monotonic time */
	bool dev_held;			/* the device cache holds unwritten traffic */
	int64_t dev_due_ms;		/* ... to be written by this monotonic time */
	bool flush_now;			/* a submit was refused: write without waiting */
	bool stopping;
	unsigned batch_size;
	unsigned backoff_ms;		/* 0 while transactions succeed */
	int64_t retry_at_ms;
	int last_rc;			/* SQLite code of the last failure, 0 after a success */
	unsigned fail_streak;		/* failed transactions since the last success */
	unsigned close_failures;
	size_t cache_cap_req;		/* capacity asked for; the writer applies it */
	uint64_t devices_written;	/* committed; copied into st */
	int64_t next_ckpt_ms;
	double total_batch_ms;
	struct store_stats st;

	/* Writer scratch: text of the flow row being bound (SQLITE_STATIC). */
	char src_mac[18], dst_mac[18];
	char src_ip[INET6_ADDRSTRLEN], dst_ip[INET6_ADDRSTRLEN];
	char errmsg[256];		/* sqlite3_errmsg, saved before ROLLBACK replaces it */
	char dev_mac[18], dev_ip[INET6_ADDRSTRLEN];	/* a device being upserted */
	bool dev_vanished;		/* an UPDATE found no devices row */
	uint64_t batch_dev_writes;	/* device UPDATEs in the open transaction */
};

const char *fm_end_reason_str(enum fm_end_reason r)
{
	static const char *const names[FM_END__MAX] = {
		[FM_END_IDLE] = "idle",
		[FM_END_ACTIVE] = "active",
		[FM_END_TCP_END] = "tcp_end",
		[FM_END_SHUTDOWN] = "shutdown",
		[FM_END_PRESSURE] = "pressure",
		[FM_END_OVERFLOW] = "overflow",
	};

	if ((unsigned)r >= FM_END__MAX)
		return "unknown";
	return names[r];
}

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static double mono_ms_f(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int sqlite_errno(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_OK:
		return 0;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return -EBUSY;
	case SQLITE_NOMEM:
		return -ENOMEM;
	case SQLITE_FULL:
		return -ENOSPC;
	case SQLITE_READONLY:
	case SQLITE_PERM:
	case SQLITE_AUTH:
		return -EACCES;
	case SQLITE_CANTOPEN:
		return -ENOENT;
	case SQLITE_NOTADB:
	case SQLITE_CORRUPT:
		return -EINVAL;
	default:
		return -EIO;
	}
}

void store_fmt_mac(char out[18], const uint8_t *m)
{
	static const char hex[] = "0123456789abcdef";

	for (int i = 0; i < 6; i++) {
		out[i * 3] = hex[m[i] >> 4];
		out[i * 3 + 1] = hex[m[i] & 15];
		out[i * 3 + 2] = i < 5 ? ':' : '\0';
	}
}

static int step_once(sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
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
			pr_warn("store: %s: devices row %" PRId64 " was deleted while in use; its traffic not yet written is lost\n",
				s->path, e->id);
		s->dev_vanished = true;
	}
	s->batch_dev_writes++;
	return SQLITE_OK;
}

/* A cache miss: the id of the device with key k on interface f, its row
 * created if new. Returns a SQLite code. */
static int upsert_device(struct store *s, const struct store_iface *f,
			 const struct devcache_key *k, const struct fm_record *r,
			 int64_t *id)
{
	sqlite3_stmt *st = s->upsert_dev;
	int rc;

	store_fmt_mac(s->dev_mac, k->mac);
	if (k->family == DEVCACHE_IPV4)
		inet_ntop(AF_INET, k->addr + 12, s->dev_ip, sizeof(s->dev_ip));
	else if (k->family == DEVCACHE_IPV6)
		inet_ntop(AF_INET6, k->addr, s->dev_ip, sizeof(s->dev_ip));
	else
		s->dev_ip[0] = '\0';	/* non-IP: see the devices schema */
	sqlite3_bind_int64(st, 1, f->dev_id);
	sqlite3_bind_text(st, 2, s->dev_mac, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, s->dev_ip, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, r->first_seen_ms);
	sqlite3_bind_int64(st, 5, r->last_seen_ms);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*id = sqlite3_column_int64(st, 0);
		rc = sqlite3_step(st);
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/*
 * The id of r's source (src) or destination device, with r's traffic added
 * to it in the cache. Returns a SQLite code. The traffic goes in before
 * the caller resolves the other end, whose insert may evict this entry.
 */
static int resolve_device(struct store *s, const struct store_iface *f,
			  const struct fm_record *r, bool src, int64_t *id)
{
	const struct fm_flow_key *fk = &r->key;
	struct devcache_key k;
	struct devcache_entry *e;
	int64_t new_id = 0;
	int rc;

	memset(&k, 0, sizeof(k));
	k.ifindex = fk->ifindex;
	memcpy(k.mac, src ? fk->src_mac : fk->dst_mac, sizeof(k.mac));
	if (fk->eth_type == ETH_P_IP || fk->eth_type == ETH_P_IPV6) {
		k.family = fk->eth_type == ETH_P_IP ? DEVCACHE_IPV4 : DEVCACHE_IPV6;
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
	devcache_add(s->dc, e, src, r->packets, r->bytes, r->first_seen_ms,
		     r->last_seen_ms);
	*id = e->id;
	return SQLITE_OK;
}

/* Bind one record to the flow INSERT and run it; returns a SQLite code. */
static int insert_flow(struct store *s, const struct fm_record *r)
{
	const struct fm_flow_key *k = &r->key;
	sqlite3_stmt *st = s->ins_flow;
	bool ip4 = k->eth_type == ETH_P_IP, ip6 = k->eth_type == ETH_P_IPV6;
	const struct store_iface *f = iface_find(s, k->ifindex);
	const char *dir = k->direction == FM_DIR_INGRESS ? "ingress" :
			  k->direction == FM_DIR_EGRESS ? "egress" : NULL;
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
	sqlite3_bind_text(st, P_REASON, fm_end_reason_str(r->end_reason), -1,
			  SQLITE_STATIC);

	if (r->end_reason == FM_END_OVERFLOW) {
		/* Unattributed packets: the key says nothing about them. */
		for (int p = P_SRC_MAC; p <= P_TCP_FLAGS; p++)
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
		sqlite3_bind_int64(st, P_SRC_DEV, src_dev);
		sqlite3_bind_int64(st, P_DST_DEV, dst_dev);
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
		int af = ip4 ? AF_INET : AF_INET6;
		size_t off = ip4 ? 12 : 0;

		inet_ntop(af, k->src_addr + off, s->src_ip, sizeof(s->src_ip));
		inet_ntop(af, k->dst_addr + off, s->dst_ip, sizeof(s->dst_ip));
		sqlite3_bind_text(st, P_SRC_IP, s->src_ip, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, P_DST_IP, s->dst_ip, -1, SQLITE_STATIC);
		sqlite3_bind_int(st, P_PROTO, k->protocol);
	} else {
		sqlite3_bind_null(st, P_SRC_IP);
		sqlite3_bind_null(st, P_DST_IP);
		sqlite3_bind_null(st, P_PROTO);
	}
	sqlite3_bind_int(st, P_SPORT, k->src_port);
	sqlite3_bind_int(st, P_DPORT, k->dst_port);

	if ((ip4 && k->protocol == IPPROTO_ICMP_) ||
	    (ip6 && k->protocol == IPPROTO_ICMPV6_)) {
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

static int ensure_db(struct store *s);

/*
 * Write one batch in one transaction. Returns a SQLite code; on failure the
 * transaction is rolled back and s->errmsg says why. *ms is the time from
 * BEGIN (once the write lock is held) to COMMIT, what batch sizing aims at.
 */
static int write_batch(struct store *s, const struct store_batch *b, double *ms)
{
	bool devs;
	double t0;
	int rc;

	rc = ensure_db(s);
	if (rc != SQLITE_OK)
		return rc;	/* s->errmsg says why; nothing to roll back */
	/* IMMEDIATE takes the write lock up front, so waiting for another
	 * writer happens here, under busy_timeout, not halfway through. */
	rc = sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
	if (rc != SQLITE_OK)
		goto fail;
	t0 = mono_ms_f();

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
	*ms = mono_ms_f() - t0;
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

static bool pending(const struct store *s)
{
	return s->rec_count || s->met_count || s->detach_count || s->dev_held;
}

/* Caller holds the lock and is the writer: note whether the device cache
 * holds unwritten traffic, and since when. */
static void note_device_debt(struct store *s, int64_t now)
{
	bool held = devcache_dirty_count(s->dc) > 0;

	if (held && !s->dev_held)
		s->dev_due_ms = now + s->opts.max_delay_ms / DEV_WRITEBACK_FRACTION;
	s->dev_held = held;
}

/* Caller holds the lock. When the oldest untaken item must be written:
 * about one commit's time before max_delay, so the row is on disk by then,
 * not merely on its way there. */
static int64_t delay_deadline(const struct store *s)
{
	int64_t slack = (int64_t)s->st.last_batch_ms + 1;

	if (slack > s->opts.max_delay_ms / 2)
		slack = s->opts.max_delay_ms / 2;
	return s->oldest_ms + s->opts.max_delay_ms - slack;
}

/* Caller holds the lock. Is a transaction due now? */
static bool flush_due(const struct store *s, int64_t now)
{
	if (!pending(s) || now < s->retry_at_ms)
		return false;
	if (s->stopping || s->flush_now)
		return true;
	/* A full batch, or half a queue waiting: write now, well before
	 * producers hit -EAGAIN. */
	if (s->rec_count >= s->batch_size || s->rec_count >= s->rec_cap / 2 ||
	    s->met_count >= METRIC_QUEUE / 2)
		return true;
	if (s->dev_held && now >= s->dev_due_ms)
		return true;
	return s->have_oldest && now >= delay_deadline(s);
}

/* Caller holds the lock and flush_due() said no. When to look again: the
 * next checkpoint, the max_delay deadline, or the end of a backoff; never
 * a time already past, or the writer would spin. */
static int64_t next_wake(const struct store *s)
{
	int64_t wake = s->stopping ? INT64_MAX : s->next_ckpt_ms;
	int64_t t = INT64_MAX;

	if (!pending(s))
		return wake;
	if (s->stopping || s->flush_now)
		t = 0;
	else if (s->have_oldest)
		t = delay_deadline(s);
	if (s->dev_held && s->dev_due_ms < t)
		t = s->dev_due_ms;
	if (t < s->retry_at_ms)
		t = s->retry_at_ms;
	return t < wake ? t : wake;
}

/* Caller holds the lock. Move what is due into a batch. */
static void take_batch(struct store *s, struct store_batch *b, int64_t now)
{
	b->rec_head = s->rec_head;
	b->nrec = s->rec_count < s->batch_size ? s->rec_count : s->batch_size;
	/* Devices too unless more records wait (see the top of the file). */
	b->dev_writeback = s->stopping || b->nrec == s->rec_count ||
			   (s->dev_held && now >= s->dev_due_ms);
	b->met_head = s->met_head;
	b->nmet = s->met_count;
	b->had_oldest = s->have_oldest;
	b->oldest_ms = s->oldest_ms;
	for (size_t i = 0; i < s->n_ifaces; i++) {
		struct store_iface *f = &s->ifaces[i];

		f->detach_inflight = f->detach_pending;
		f->inflight_ms = f->detached_ms;
	}
	/* Everything queued is now in flight: the next submit starts the
	 * max_delay clock again. After a partial take the rest keeps the old
	 * clock, which only makes the next batch come sooner. */
	if (b->nrec == s->rec_count) {
		s->have_oldest = false;
		/* A flush (or a refused submit) asked for everything queued,
		 * not for one batch: the rest must not wait for max_delay. */
		s->flush_now = false;
	}
}

/* Next batch size from the last commit: multiplicative, so it settles in a
 * few commits whatever the disk, and bounded. */
static void adapt_batch(struct store *s, size_t n, double ms)
{
	double target = s->opts.target_commit_ms, size = s->batch_size;

	if (ms > target) {
		/* Too slow: shrink in proportion, but at most halve, so one
		 * commit slowed by a checkpoint cannot collapse the size. */
		double f = target / ms;

		size *= f < 0.5 ? 0.5 : f;
	} else if (n >= s->batch_size && ms < target / 2)
		/* A full batch well under target: the queue had more. */
		size *= 2;
	if (size < BATCH_MIN)
		size = BATCH_MIN;
	if (size > BATCH_MAX)
		size = BATCH_MAX;
	s->batch_size = size;
}

static double wal_size_mb(const struct store *s)
{
	struct stat sb;

	if (stat(s->wal_path, &sb))
		return 0;
	return sb.st_size / (1024.0 * 1024.0);
}

/* Caller holds the lock and is the writer: publish the cache counters. */
static void sync_cache_stats(struct store *s)
{
	struct devcache_stats cs;

	devcache_get_stats(s->dc, &cs);
	s->st.cache_hits = cs.hits;
	s->st.cache_misses = cs.misses;
	s->st.cache_evictions = cs.evictions;
	s->st.cache_size = cs.size;
	s->st.cache_capacity = cs.capacity;
	s->st.devices_written = s->devices_written;
}

/* Caller holds the lock. Account for a transaction's outcome. */
static void finish_batch(struct store *s, const struct store_batch *b, int rc,
			 double ms, double wal_mb)
{
	int64_t now = mono_ms();

	s->st.db_ops++;
	sync_cache_stats(s);
	note_device_debt(s, now);
	if (rc == SQLITE_OK) {
		s->rec_head = (s->rec_head + b->nrec) % s->rec_cap;
		s->rec_count -= b->nrec;
		s->met_head = (s->met_head + b->nmet) % METRIC_QUEUE;
		s->met_count -= b->nmet;
		for (size_t i = 0; i < s->n_ifaces; i++) {
			struct store_iface *f = &s->ifaces[i];

			if (f->detach_inflight)
				f->committed_detached_ms = f->inflight_ms;
			/* A detach that came in meanwhile stays pending. */
			if (f->detach_inflight && f->detached_ms == f->inflight_ms) {
				f->detach_pending = false;
				s->detach_count--;
			}
			f->detach_inflight = false;
		}
		s->st.rows_written += b->nrec;
		s->rows_in_file += b->nrec;
		s->st.metric_rows_written += b->nmet;
		s->st.batches++;
		s->st.last_batch_ms = ms;
		s->st.wal_size_mb = wal_mb;
		s->total_batch_ms += ms;
		if (b->nrec)
			adapt_batch(s, b->nrec, ms);
		if (s->fail_streak)
			pr_info("store: %s: writing again after %u failed attempts\n",
				s->path, s->fail_streak);
		s->fail_streak = 0;
		s->last_rc = 0;
		s->backoff_ms = 0;
		s->retry_at_ms = 0;
		return;
	}

	s->st.db_errors++;
	s->fail_streak++;
	for (size_t i = 0; i < s->n_ifaces; i++)
		s->ifaces[i].detach_inflight = false;
	if (b->had_oldest) {
		/* The batch is queued again, with its original clock. */
		s->have_oldest = true;
		s->oldest_ms = b->oldest_ms;
	}
	s->backoff_ms = s->backoff_ms ? s->backoff_ms * 2 : RETRY_MIN_MS;
	if (s->backoff_ms > RETRY_MAX_MS)
		s->backoff_ms = RETRY_MAX_MS;
	s->retry_at_ms = now + s->backoff_ms;
	/* One warning per streak and per new cause; the rest at debug. */
	if (rc != s->last_rc)
		pr_warn("store: %s: %s; keeping %zu records in memory and retrying in %u ms\n",
			s->path, s->errmsg, s->rec_count, s->backoff_ms);
	else
		pr_debug("store: %s: %s; %zu records queued, retrying in %u ms\n",
			 s->path, s->errmsg, s->rec_count, s->backoff_ms);
	s->last_rc = rc;
}

static void checkpoint(struct store *s)
{
	int log_frames = 0, done = 0;
	int rc;

	if (!s->db)
		return;	/* a reconnect failed; the next transaction retries it */
	/* PASSIVE never waits for readers; what it cannot copy now (a CLI
	 * reader's snapshot) it copies on a later round. */
	rc = sqlite3_wal_checkpoint_v2(s->db, NULL, SQLITE_CHECKPOINT_PASSIVE,
				       &log_frames, &done);
	if (rc != SQLITE_OK)
		pr_debug("store: %s: checkpoint: %s\n", s->path, sqlite3_errmsg(s->db));
	else if (log_frames != done)
		pr_debug("store: %s: checkpoint: %d of %d WAL frames copied (a reader holds the rest)\n",
			 s->path, done, log_frames);
}

/*
 * Caller holds the lock and is the writer, between transactions. Resize the
 * device cache to what store_set_cache_capacity asked for. A shrink moves
 * the unwritten traffic of the devices it evicts to the owed list, which
 * the next write-back writes.
 */
static void apply_cache_capacity(struct store *s)
{
	size_t want = s->cache_cap_req, was = s->st.cache_capacity;
	int err;

	pthread_mutex_unlock(&s->lock);
	err = devcache_resize(s->dc, want);
	pthread_mutex_lock(&s->lock);
	if (err) {
		pr_warn("store: device cache: resizing from %zu to %zu entries: %s; keeping %zu\n",
			was, want, strerror(-err), was);
		/* Unless a newer request came meanwhile, stop trying. */
		if (s->cache_cap_req == want)
			s->cache_cap_req = was;
	} else {
		pr_debug("store: device cache: %zu -> %zu entries\n", was, want);
	}
	sync_cache_stats(s);
	note_device_debt(s, mono_ms());
	/* A shrink is for memory: write what it moved to the owed list in
	 * the next transaction, not 2.5 s later. */
	if (want < was && s->dev_held)
		s->dev_due_ms = mono_ms();
}

/* The writer loop; also run inline by store_close if never started. */
static void writer_run(struct store *s)
{
	struct store_batch b;
	struct timespec ts;
	double ms, wal_mb;
	int64_t now, wake;
	int rc;

	pthread_mutex_lock(&s->lock);
	for (;;) {
		now = mono_ms();

		/* Checkpoint first, so a writer that is never idle still
		 * gets to it. SQLite's own auto-checkpoint at commit covers a
		 * busy WAL; this one catches up after a reader that blocked
		 * it has gone, even when no commit follows. */
		if (!s->stopping && now >= s->next_ckpt_ms) {
			pthread_mutex_unlock(&s->lock);
			checkpoint(s);
			wal_mb = wal_size_mb(s);
			pthread_mutex_lock(&s->lock);
			s->st.checkpoints++;
			s->st.wal_size_mb = wal_mb;
			s->next_ckpt_ms = mono_ms() + s->opts.checkpoint_every_ms;
			continue;
		}
		if (s->cache_cap_req != s->st.cache_capacity) {
			apply_cache_capacity(s);
			continue;
		}
		if (flush_due(s, now)) {
			take_batch(s, &b, now);
			pthread_mutex_unlock(&s->lock);
			ms = 0;
			rc = write_batch(s, &b, &ms);
			wal_mb = rc == SQLITE_OK ? wal_size_mb(s) : 0;
			pthread_mutex_lock(&s->lock);
			finish_batch(s, &b, rc, ms, wal_mb);
			if (rc != SQLITE_OK && s->stopping &&
			    ++s->close_failures >= CLOSE_ATTEMPTS)
				break;
			continue;
		}
		if (s->stopping && !pending(s))
			break;

		wake = next_wake(s);
		ts.tv_sec = wake / 1000;
		ts.tv_nsec = (wake % 1000) * 1000000;
		pthread_cond_timedwait(&s->wake, &s->lock, &ts);
	}
	pthread_mutex_unlock(&s->lock);
}

static void *writer_thread(void *arg)
{
	writer_run(arg);
	return NULL;
}

static int exec_sql(struct store *s, const char *sql, const char *what)
{
	int rc = sqlite3_exec(s->db, sql, NULL, NULL, NULL);

	if (rc != SQLITE_OK)
		conn_err(s, "store: %s: %s: %s\n", s->path, what, sqlite3_errmsg(s->db));
	return rc;
}

/* WAL so readers never block the writer; NORMAL because in WAL mode it
 * loses at most the last commits on power loss, never consistency. */
static int set_pragmas(struct store *s)
{
	sqlite3_stmt *st = NULL;
	const unsigned char *mode;
	int rc;

	rc = sqlite3_prepare_v2(s->db, "PRAGMA journal_mode = WAL", -1, &st, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		conn_err(s, "store: %s: %s\n", s->path, sqlite3_errmsg(s->db));
		goto cleanup;
	}
	mode = sqlite3_column_text(st, 0);
	if (!mode || strcmp((const char *)mode, "wal"))
		pr_warn("store: %s: journal mode is %s, not WAL; readers will block the writer\n",
			s->path, mode ? (const char *)mode : "unknown");
	rc = exec_sql(s, "PRAGMA synchronous = NORMAL;"
			 "PRAGMA journal_size_limit = " STR(JOURNAL_SIZE_LIMIT) ";"
			 "PRAGMA cache_size = -65536;",
		      "setting pragmas");
cleanup:
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? SQLITE_OK : rc;
}

/* Create or migrate the schema in one transaction. Returns 0 or -errno. */
static int migrate(struct store *s)
{
	sqlite3_stmt *st = NULL;
	int rc, version;

	/* IMMEDIATE: a second flowmaster starting on the same file waits
	 * instead of racing us through the version check. */
	rc = exec_sql(s, "BEGIN IMMEDIATE", "starting the schema transaction");
	if (rc != SQLITE_OK)
		return sqlite_errno(rc);
	rc = sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &st, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		conn_err(s, "store: %s: reading the schema version: %s\n", s->path,
		       sqlite3_errmsg(s->db));
		goto fail;
	}
	version = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	st = NULL;

	if (version > SCHEMA_VERSION) {
		conn_err(s, "store: %s: schema version %d is newer than this flowmaster (%d); use a newer flowmaster or another --db\n",
		       s->path, version, SCHEMA_VERSION);
		snprintf(s->errmsg, sizeof(s->errmsg),
			 "schema version %d is newer than this flowmaster (%d)", version,
			 SCHEMA_VERSION);
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
		return -EPROTO;
	}
	if (version < SCHEMA_VERSION) {
		pr_debug("store: %s: creating schema version %d\n", s->path, SCHEMA_VERSION);
		rc = exec_sql(s, schema_sql, "creating the schema");
		if (rc != SQLITE_OK)
			goto fail;
	}
	rc = exec_sql(s, additive_sql, "adding views");
	if (rc != SQLITE_OK)
		goto fail;
	if (s->opts.index_addresses) {
		rc = exec_sql(s, address_index_sql, "creating address indexes");
		if (rc != SQLITE_OK)
			goto fail;
	}
	rc = exec_sql(s, "COMMIT", "committing the schema");
	if (rc != SQLITE_OK)
		goto fail;
	return 0;

fail:
	sqlite3_finalize(st);
	if (!sqlite3_get_autocommit(s->db))
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	return sqlite_errno(rc);
}

static int prepare(struct store *s, const char *sql, sqlite3_stmt **st)
{
	/* PERSISTENT: these live as long as the connection. */
	int rc = sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, st, NULL);

	if (rc != SQLITE_OK)
		conn_err(s, "store: %s: preparing \"%s\": %s\n", s->path, sql,
		       sqlite3_errmsg(s->db));
	return rc;
}

/* st_dev/st_ino of a file, or 0/0 when it does not exist. */
static void file_ident(const char *path, dev_t *dev, ino_t *ino)
{
	struct stat sb;

	*dev = 0;
	*ino = 0;
	if (!stat(path, &sb)) {
		*dev = sb.st_dev;
		*ino = sb.st_ino;
	}
}

static bool same_file(const char *path, dev_t dev, ino_t ino)
{
	dev_t d;
	ino_t i;

	file_ident(path, &d, &i);
	return ino && d == dev && i == ino;
}

/*
 * Close the connection (if any). persist_wal: the path may no longer name
 * our file, so SQLite must not delete "<path>-wal" by name (it could be
 * another database's now); we remove the -wal and -shm ourselves, and only
 * while they are still the files our connection used: a WAL left at the
 * path would otherwise be replayed into the next database created there.
 */
static void db_disconnect(struct store *s, bool persist_wal)
{
	int on = 1;

	sqlite3_finalize(s->upsert_dev);
	sqlite3_finalize(s->upd_dev);
	sqlite3_finalize(s->ins_flow);
	sqlite3_finalize(s->ins_metric);
	sqlite3_finalize(s->ins_iface);
	sqlite3_finalize(s->upd_iface);
	s->upsert_dev = s->upd_dev = s->ins_flow = s->ins_metric = NULL;
	s->ins_iface = s->upd_iface = NULL;
	if (s->db) {
		if (persist_wal)
			sqlite3_file_control(s->db, "main", SQLITE_FCNTL_PERSIST_WAL, &on);
		if (sqlite3_close(s->db) != SQLITE_OK)
			pr_warn("store: %s: close: %s\n", s->path, sqlite3_errmsg(s->db));
		s->db = NULL;
		if (persist_wal) {
			if (same_file(s->wal_path, s->wal_dev, s->wal_ino))
				unlink(s->wal_path);
			if (same_file(s->shm_path, s->shm_dev, s->shm_ino))
				unlink(s->shm_path);
		}
	}
	/* After SQLite closed its fds (see ident_fd). */
	if (s->ident_fd >= 0)
		close(s->ident_fd);
	s->ident_fd = -1;
}

static void store_free(struct store *s)
{
	db_disconnect(s, false);
	devcache_free(s->dc);
	pthread_cond_destroy(&s->wake);
	pthread_mutex_destroy(&s->lock);
	free(s->recs);
	free(s->mets);
	for (size_t i = 0; i < s->n_ifaces; i++) {
		free(s->ifaces[i].name);
		free(s->ifaces[i].mac);
		free(s->ifaces[i].xdp_mode);
	}
	free(s->ifaces);
	free(s->wal_path);
	free(s->shm_path);
	free(s->path);
	free(s);
}

static bool is_memory_db(const char *path)
{
	return !strcmp(path, ":memory:");
}

/*
 * Open (creating it DB_FILE_MODE if missing) the database at s->path, set
 * the pragmas, create or migrate the schema, prepare the statements and
 * note which file it is. Returns 0 or -errno; on failure s->connect_rc and
 * s->errmsg say why and nothing stays open.
 */
static int db_connect(struct store *s)
{
	int rc, err, fd;

	s->connect_rc = SQLITE_OK;
	/* Created here rather than by SQLite, whose mode is 0644 less the
	 * umask. O_EXCL: an existing file keeps the mode its owner gave it.
	 * Any failure is left for sqlite3_open_v2 to report. */
	if (!is_memory_db(s->path)) {
		fd = open(s->path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
			  DB_FILE_MODE);
		if (fd >= 0) {
			if (fchmod(fd, DB_FILE_MODE))
				pr_warn("store: %s: chmod %o: %s\n", s->path, DB_FILE_MODE,
					strerror(errno));
			close(fd);
		}
	}
	/* NOMUTEX: one thread at a time uses the connection (the caller
	 * until store_start, then the writer). */
	rc = sqlite3_open_v2(s->path, &s->db,
			     SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
			     SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		conn_err(s, "store: %s: cannot open: %s\n", s->path,
		       s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
		err = s->db && sqlite3_system_errno(s->db) ?
		      -sqlite3_system_errno(s->db) : sqlite_errno(rc);
		goto fail;
	}
	sqlite3_extended_result_codes(s->db, 1);
	sqlite3_busy_timeout(s->db, BUSY_TIMEOUT_MS);

	rc = set_pragmas(s);
	if (rc != SQLITE_OK) {
		err = sqlite_errno(rc);
		goto fail;
	}
	err = migrate(s);
	if (err) {
		rc = err == -EPROTO ? SQLITE_ERROR : sqlite3_errcode(s->db);
		goto fail;
	}
	if (prepare(s, insert_flow_sql, &s->ins_flow) ||
	    prepare(s, "INSERT INTO metrics(ts_ms, name, value) VALUES(?1, ?2, ?3)",
		    &s->ins_metric) ||
	    prepare(s, "INSERT INTO interfaces(name, ifindex, mac, xdp_mode, attached_ms)"
		       " VALUES(?1, ?2, ?3, ?4, ?5)", &s->ins_iface) ||
	    prepare(s, "UPDATE interfaces SET detached_ms = ?1 WHERE id = ?2",
		    &s->upd_iface) ||
	    prepare(s, upsert_device_sql, &s->upsert_dev) ||
	    prepare(s, update_device_sql, &s->upd_dev)) {
		rc = sqlite3_errcode(s->db);
		err = sqlite_errno(rc);
		goto fail;
	}
	if (!is_memory_db(s->path)) {
		struct stat sb;

		/* Which file the path named when we opened it; the schema
		 * transaction above has created the -wal and -shm. */
		s->ident_fd = open(s->path, O_RDONLY | O_CLOEXEC);
		if (s->ident_fd >= 0 && !fstat(s->ident_fd, &sb)) {
			s->ident_dev = sb.st_dev;
			s->ident_ino = sb.st_ino;
		}
		file_ident(s->wal_path, &s->wal_dev, &s->wal_ino);
		file_ident(s->shm_path, &s->shm_dev, &s->shm_ino);
	}
	return 0;

fail:
	if (s->db && err != -EPROTO)
		snprintf(s->errmsg, sizeof(s->errmsg), "%s", sqlite3_errmsg(s->db));
	else if (err != -EPROTO)
		snprintf(s->errmsg, sizeof(s->errmsg), "%s", sqlite3_errstr(rc));
	s->connect_rc = rc != SQLITE_OK ? rc : SQLITE_ERROR;
	db_disconnect(s, false);
	return err;
}

int store_open(struct store **out, const struct store_opts *opts)
{
	pthread_condattr_t ca;
	struct store *s;
	int err;

	if (!out || !opts || !opts->path || !*opts->path)
		return -EINVAL;
	*out = NULL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->ident_fd = -1;
	/* The cond waits on CLOCK_MONOTONIC so clock steps don't stall it. */
	pthread_mutex_init(&s->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&s->wake, &ca);
	pthread_condattr_destroy(&ca);

	s->opts = *opts;
	if (!s->opts.target_commit_ms)
		s->opts.target_commit_ms = DEFAULT_TARGET_COMMIT_MS;
	if (!s->opts.max_delay_ms)
		s->opts.max_delay_ms = DEFAULT_MAX_DELAY_MS;
	if (!s->opts.queue_records)
		s->opts.queue_records = DEFAULT_QUEUE_RECORDS;
	if (!s->opts.checkpoint_every_ms)
		s->opts.checkpoint_every_ms = DEFAULT_CHECKPOINT_MS;
	if (!s->opts.cache_size)
		s->opts.cache_size = STORE_CACHE_DEFAULT;
	s->batch_size = BATCH_INITIAL;
	s->rec_cap = s->opts.queue_records;
	s->cache_floor = s->opts.cache_size < STORE_CACHE_FLOOR ?
			 s->opts.cache_size : STORE_CACHE_FLOOR;

	s->path = strdup(opts->path);
	s->opts.path = s->path;
	s->wal_path = malloc(strlen(opts->path) + sizeof("-wal"));
	s->shm_path = malloc(strlen(opts->path) + sizeof("-shm"));
	if (!s->path || !s->wal_path || !s->shm_path) {
		err = -ENOMEM;
		goto fail;
	}
	sprintf(s->wal_path, "%s-wal", s->path);
	sprintf(s->shm_path, "%s-shm", s->path);
	s->dc = devcache_new(s->opts.cache_size);
	if (!s->dc) {
		err = -errno;
		pr_err("store: %s: device cache of %zu entries: %s\n", s->path,
		       s->opts.cache_size, strerror(errno));
		goto fail;
	}
	s->cache_cap_req = s->opts.cache_size;
	s->st.cache_capacity = s->opts.cache_size;
	s->recs = calloc(s->rec_cap, sizeof(*s->recs));
	s->mets = calloc(METRIC_QUEUE, sizeof(*s->mets));
	if (!s->recs || !s->mets) {
		pr_err("store: %s: no memory for a queue of %zu records\n",
		       s->path, s->rec_cap);
		err = -ENOMEM;
		goto fail;
	}
	err = db_connect(s);
	if (err)
		goto fail;
	*out = s;
	return 0;

fail:
	store_free(s);
	return err;
}

/*
 * The interfaces row that devices on interface `name` point at: the first
 * one of that name, so a device seen again in a later run (a new
 * interfaces row per attach) keeps its devices row and adds to it. An
 * unnamed interface, or a failed query, uses its own row.
 */
static int64_t first_iface_row(struct store *s, const char *name, int64_t own)
{
	sqlite3_stmt *st = NULL;
	int64_t id = own;

	if (!name)
		return own;
	if (sqlite3_prepare_v2(s->db, "SELECT min(id) FROM interfaces WHERE name = ?1",
			       -1, &st, NULL) != SQLITE_OK) {
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

int store_interface_attach(struct store *s, const char *name, int ifindex,
			   const char *mac, const char *xdp_mode,
			   int64_t attached_ms)
{
	struct store_iface *f;
	sqlite3_stmt *st = s->ins_iface;
	int rc;

	if (s->started)
		return -EBUSY;
	f = realloc(s->ifaces, (s->n_ifaces + 1) * sizeof(*f));
	if (!f)
		return -ENOMEM;
	s->ifaces = f;

	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, ifindex);
	sqlite3_bind_text(st, 3, mac, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, xdp_mode, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, attached_ms);
	rc = step_once(st);
	sqlite3_clear_bindings(st);	/* drop the caller's pointers */
	if (rc != SQLITE_OK) {
		pr_err("store: %s: recording interface %s: %s\n", s->path,
		       name ? name : "?", sqlite3_errmsg(s->db));
		return sqlite_errno(rc);
	}
	f = &s->ifaces[s->n_ifaces++];
	memset(f, 0, sizeof(*f));
	f->ifindex = ifindex;
	f->id = sqlite3_last_insert_rowid(s->db);
	f->dev_id = first_iface_row(s, name, f->id);
	f->attached_ms = attached_ms;
	/* Kept for a reconnect; without them it writes NULLs, no worse. */
	f->name = name ? strdup(name) : NULL;
	f->mac = mac ? strdup(mac) : NULL;
	f->xdp_mode = xdp_mode ? strdup(xdp_mode) : NULL;
	return 0;
}

/*
 * Writer, after a reconnect: the interfaces rows again, in the new file, as
 * they were (attach time, a committed detach time). Returns a SQLite code.
 */
static int rewrite_interfaces(struct store *s)
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

/*
 * Writer, before each transaction: make sure we write to the file that
 * s->path names. A database deleted, moved or replaced while open would
 * otherwise take every later row into a file nobody can read at that path
 * (deleted: gone at exit), while the daemon looks healthy. So: say so,
 * close it, and open (create, with the schema) the database now at the
 * path; the queued records go there. If that fails (e.g. the path now
 * holds a file that is not a database), nothing is connected and this
 * returns the SQLite code: the batch fails, stays queued, and the writer
 * retries with its backoff like on a full disk.
 */
static int ensure_db(struct store *s)
{
	struct stat own;
	bool gone;
	int err, rc;

	if (s->db) {
		if (s->ident_fd < 0 || same_file(s->path, s->ident_dev, s->ident_ino))
			return SQLITE_OK;
		gone = !fstat(s->ident_fd, &own) && own.st_nlink == 0;
		if (gone)
			pr_warn("store: %s was deleted while in use: the %" PRIu64 " flow rows written to it since it was opened are lost with it; writing to a new database at %s\n",
				s->path, s->rows_in_file, s->path);
		else
			pr_warn("store: %s was moved or replaced while in use: its %" PRIu64 " flow rows since it was opened stay in the old file, wherever it is now; writing to the database now at %s\n",
				s->path, s->rows_in_file, s->path);
		/* A moved file (log-rotation style) must be whole without
		 * its -wal, which stays behind at the old name and which we
		 * remove: SQLite does not checkpoint a moved file at close,
		 * so copy every WAL frame into it now. */
		if (!gone) {
			int log = 0, done = 0;

			if (sqlite3_wal_checkpoint_v2(s->db, NULL, SQLITE_CHECKPOINT_FULL, &log,
						      &done) != SQLITE_OK || log != done)
				pr_warn("store: the old file is incomplete: its last transactions could not be copied from %s (%s)\n",
					s->wal_path, sqlite3_errmsg(s->db));
		}
		db_disconnect(s, true);
	}
	s->reconnecting = true;
	err = db_connect(s);
	s->reconnecting = false;
	if (err)
		return s->connect_rc;
	/* Device ids of the old file mean nothing in this one. No entry has
	 * pending traffic between transactions. */
	devcache_clear(s->dc);
	s->rows_in_file = 0;
	rc = rewrite_interfaces(s);
	if (rc != SQLITE_OK) {
		db_disconnect(s, false);
		return rc;
	}
	pr_warn("store: %s: now writing to this file (schema version %d)\n", s->path,
		SCHEMA_VERSION);
	return SQLITE_OK;
}

int store_interface_detach(struct store *s, int ifindex, int64_t detached_ms)
{
	int err = -ENOENT;

	pthread_mutex_lock(&s->lock);
	for (size_t i = s->n_ifaces; i-- > 0;) {
		struct store_iface *f = &s->ifaces[i];

		if (f->ifindex != ifindex)
			continue;
		if (!f->detach_pending) {
			f->detach_pending = true;
			s->detach_count++;
		}
		f->detached_ms = detached_ms;
		if (!s->have_oldest) {
			s->have_oldest = true;
			s->oldest_ms = mono_ms();
		}
		pthread_cond_signal(&s->wake);
		err = 0;
		break;
	}
	pthread_mutex_unlock(&s->lock);
	return err;
}

int store_set_cache_capacity(struct store *s, size_t entries)
{
	if (!entries || entries > DEVCACHE_MAX_ENTRIES)
		return -EINVAL;
	if (entries < s->cache_floor)
		entries = s->cache_floor;
	pthread_mutex_lock(&s->lock);
	s->cache_cap_req = entries;
	pthread_cond_signal(&s->wake);
	pthread_mutex_unlock(&s->lock);
	return 0;
}

size_t store_cache_entry_bytes(void)
{
	return devcache_entry_bytes();
}

int store_start(struct store *s)
{
	int err;

	if (s->started)
		return -EBUSY;
	s->next_ckpt_ms = mono_ms() + s->opts.checkpoint_every_ms;
	err = pthread_create(&s->thread, NULL, writer_thread, s);
	if (err) {
		pr_err("store: %s: starting the writer thread: %s\n", s->path,
		       strerror(err));
		return -err;
	}
	s->started = true;
	return 0;
}

/* Caller holds the lock. Note the first queued item's time; wake the
 * writer when that sets a new deadline or a batch is ready. */
static void queued(struct store *s)
{
	if (!s->have_oldest) {
		s->have_oldest = true;
		s->oldest_ms = mono_ms();
		pthread_cond_signal(&s->wake);
	} else if (s->rec_count >= s->batch_size || s->rec_count >= s->rec_cap / 2 ||
		   s->met_count >= METRIC_QUEUE / 2) {
		pthread_cond_signal(&s->wake);
	}
}

void store_flush(struct store *s)
{
	pthread_mutex_lock(&s->lock);
	s->flush_now = true;
	pthread_cond_signal(&s->wake);
	pthread_mutex_unlock(&s->lock);
}

/* Caller holds the lock. Count a refused submit and hurry the writer. */
static int refuse(struct store *s)
{
	s->st.queue_full++;
	s->flush_now = true;
	pthread_cond_signal(&s->wake);
	return -EAGAIN;
}

int store_submit(struct store *s, const struct fm_record *recs, size_t n)
{
	size_t tail, first;
	int err = 0;

	if (!n)
		return 0;
	if (n > s->rec_cap)
		return -E2BIG;
	pthread_mutex_lock(&s->lock);
	if (s->rec_cap - s->rec_count < n) {
		err = refuse(s);
		goto unlock;
	}
	tail = (s->rec_head + s->rec_count) % s->rec_cap;
	first = s->rec_cap - tail < n ? s->rec_cap - tail : n;
	memcpy(&s->recs[tail], recs, first * sizeof(*recs));
	memcpy(s->recs, recs + first, (n - first) * sizeof(*recs));
	s->rec_count += n;
	queued(s);
unlock:
	pthread_mutex_unlock(&s->lock);
	return err;
}

int store_submit_metrics(struct store *s, int64_t ts_ms,
			 const char *const *names, const double *values,
			 size_t n)
{
	int err = 0;

	if (n > METRIC_QUEUE)
		return -E2BIG;
	for (size_t i = 0; i < n; i++)
		if (!names[i] || strlen(names[i]) >= STORE_METRIC_NAME_MAX)
			return -EINVAL;
	if (!n)
		return 0;
	pthread_mutex_lock(&s->lock);
	if (METRIC_QUEUE - s->met_count < n) {
		err = refuse(s);
		goto unlock;
	}
	for (size_t i = 0; i < n; i++) {
		struct store_metric *m = &s->mets[(s->met_head + s->met_count + i) % METRIC_QUEUE];

		m->ts_ms = ts_ms;
		m->value = values[i];
		strcpy(m->name, names[i]);	/* length checked above */
	}
	s->met_count += n;
	queued(s);
unlock:
	pthread_mutex_unlock(&s->lock);
	return err;
}

void store_get_stats(struct store *s, struct store_stats *st)
{
	pthread_mutex_lock(&s->lock);
	*st = s->st;
	st->pending = s->rec_count;
	st->pending_metrics = s->met_count;
	st->current_batch_size = s->batch_size;
	if (s->st.batches) {
		st->avg_batch_size = (double)s->st.rows_written / s->st.batches;
		st->avg_batch_ms = s->total_batch_ms / s->st.batches;
	}
	pthread_mutex_unlock(&s->lock);
}

int store_close(struct store *s, uint64_t *unwritten)
{
	int err = 0;

	if (unwritten)
		*unwritten = 0;
	if (!s)
		return 0;
	pthread_mutex_lock(&s->lock);
	s->stopping = true;
	/* Try at once, not after a backoff left over from running. */
	s->retry_at_ms = 0;
	s->backoff_ms = 0;
	pthread_cond_signal(&s->wake);
	pthread_mutex_unlock(&s->lock);

	if (s->started)
		pthread_join(s->thread, NULL);
	else
		writer_run(s);	/* the queue may hold records even so */

	/* The writer is gone: the connection and the counts are ours. */
	if (pending(s)) {
		pr_warn("store: %s: giving up: %zu flow records, %zu metric rows, %zu interface detach times%s could not be written (%s)\n",
			s->path, s->rec_count, s->met_count, s->detach_count,
			s->dev_held ? " and device totals" : "", s->errmsg);
		err = sqlite_errno(s->last_rc);
		if (!err)
			err = -EIO;
	}
	if (unwritten)
		*unwritten = s->rec_count;
	checkpoint(s);
	pr_debug("store: %s: %" PRIu64 " flow rows in %" PRIu64 " transactions, %" PRIu64 " failed\n",
		 s->path, s->st.rows_written, s->st.batches, s->st.db_errors);
	store_free(s);
	return err;
}
