/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * What the parts of the store share: its constants, its private state, and
 * the functions one part calls in another. The parts depend on this header,
 * not on each other:
 *
 *   schema.c  the schema and its migrations, the connection's pragmas
 *   file.c    opening, closing and reopening the database file (reconnect
 *             after it was deleted or moved), checkpoints
 *   rows.c    one transaction: flow rows, devices through the cache,
 *             metric rows, interfaces rows; the runs row
 *   writer.c  the bounded queues, the writer thread and its batching,
 *             and the public API of store.h
 */
#ifndef FM_STORE_INTERNAL_H
#define FM_STORE_INTERNAL_H

#include <arpa/inet.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include "lib/log.h"
#include "store/devcache.h"
#include "store/store.h"

#define SCHEMA_VERSION 2
#define STR_(x) #x
#define STR(x) STR_(x)

#define DEFAULT_TARGET_COMMIT_MS 100
#define DEFAULT_MAX_DELAY_MS 5000
/* 26 MiB of records: a few seconds of a heavy export burst. calloc'ed, so
 * pages are only touched as the queue actually fills. */
#define DEFAULT_QUEUE_RECORDS 262144
#define DEFAULT_CHECKPOINT_MS 10000
#define DEFAULT_PAGE_CACHE_KIB 65536
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
#define JOURNAL_SIZE_LIMIT 67108864 /* 64 MiB */
/* Mode of a database file we create, whatever the umask: flow records say
 * who talked to whom, so not world-readable; the group may read them (an
 * operators' group running `flowmaster top` or sqlite3). SQLite gives the
 * -wal and -shm files the database file's mode. */
#define DB_FILE_MODE 0640

/* Errors while connecting: at start-up they end the daemon and are errors;
 * while the writer reconnects (the file was deleted or replaced) they are
 * retried, and finish_batch warns once per cause, so they are debug. */
#define conn_err(s, fmt, ...) fm_log((s)->reconnecting ? LOG_LVL_DEBUG : -1, fmt, ##__VA_ARGS__)

struct store_iface {
	int ifindex;
	int64_t id;	/* interfaces.id */
	int64_t dev_id; /* devices.interface_id: first row of this name */
	/* What the interfaces row holds, to write it again into a new
	 * database file (reconnect); the writer's alone after store_start. */
	char *name, *mac, *xdp_mode;
	int64_t attached_ms;
	int64_t committed_detached_ms; /* 0: no detach committed yet */
	/* under store.lock: */
	int64_t detached_ms; /* valid with detach_pending */
	bool detach_pending; /* detached_ms not yet committed */
	/* set under the lock by the writer, read by it alone: */
	bool detach_inflight; /* in the current transaction */
	int64_t inflight_ms;
};

/* An interface attached after store_start, for the writer to record. */
struct store_attach_req {
	char *name, *mac, *xdp_mode;
	int ifindex;
	int64_t attached_ms;
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
	bool had_oldest; /* to restore store.oldest_ms on failure */
	int64_t oldest_ms;
	bool dev_writeback; /* write the devices' unwritten traffic too */
};

struct store {
	struct store_opts opts; /* defaults filled in; path points at .path below */
	char *path;
	char *command, *args; /* copies of opts.command and opts.args */
	char *wal_path, *shm_path;
	dev_t wal_dev, shm_dev; /* the -wal and -shm our connection uses */
	ino_t wal_ino, shm_ino;
	int connect_rc; /* SQLite code of the last failed db_connect */
	sqlite3 *db;	/* NULL after a failed reconnect, until the next */
	/*
	 * The database file we write, to notice when the path stops naming it
	 * (deleted, moved or replaced while open): an fd of our own, never
	 * closed while SQLite has the file open (closing any fd of a file drops
	 * the process's POSIX locks on it, SQLite's included). -1 for :memory:.
	 */
	int ident_fd;
	dev_t ident_dev;
	ino_t ident_ino;
	bool reconnecting;	/* log connect failures at debug, not error */
	uint64_t rows_in_file;	/* flow rows committed to the current file */
	int64_t run_id;		/* runs.id of this process in the current file */
	int64_t started_ms;	/* runs.started_ms: when store_open ran */
	unsigned owed_failures; /* failed attempts to write device totals into a moved file */
	sqlite3_stmt *ins_flow, *ins_metric, *ins_iface, *upd_iface;
	sqlite3_stmt *ins_dev, *touch_dev, *sel_dev, *upd_dev;
	struct devcache *dc; /* the writer's alone */
	size_t cache_floor;  /* store_set_cache_capacity's lower bound */

	/* Grown only before store_start; the writer then reads it unlocked. */
	struct store_iface *ifaces;
	size_t n_ifaces;

	pthread_t thread;
	bool started;

	pthread_mutex_t lock;		     /* guards the queues, flags and counters below */
	pthread_cond_t wake;		     /* the writer sleeps on it */
	struct fm_record *recs;		     /* ring of rec_cap records */
	size_t rec_cap, rec_head, rec_count; /* rec_count includes the batch in flight */
	struct store_metric *mets;	     /* ring of METRIC_QUEUE rows */
	size_t met_head, met_count;
	size_t detach_count; /* ifaces with detach_pending */
	bool have_oldest;    /* something is queued that the writer has not taken */
	int64_t oldest_ms;   /* ... since this monotonic time */
	bool dev_held;	     /* the device cache holds unwritten traffic */
	int64_t dev_due_ms;  /* ... to be written by this monotonic time */
	bool flush_now;	     /* a submit was refused: write without waiting */
	bool stopping;
	unsigned batch_size;
	unsigned backoff_ms; /* 0 while transactions succeed */
	int64_t retry_at_ms;
	int last_rc;	      /* SQLite code of the last failure, 0 after a success */
	unsigned fail_streak; /* failed transactions since the last success */
	unsigned close_failures;
	size_t cache_cap_req;	  /* capacity asked for; the writer applies it */
	uint64_t devices_written; /* committed; copied into st */
	int64_t next_ckpt_ms;
	int64_t next_retain_ms;		      /* monotonic: the next retention pass */
	struct store_attach_req *attach_reqs; /* under lock: attaches after start */
	size_t n_attach_reqs;
	int64_t attach_retry_ms; /* monotonic: after a failed attempt */
	double total_batch_ms;
	struct store_stats st;

	/* Writer scratch: text of the flow row being bound (SQLITE_STATIC). */
	char src_mac[18], dst_mac[18];
	char src_ip[INET6_ADDRSTRLEN], dst_ip[INET6_ADDRSTRLEN];
	char errmsg[256]; /* sqlite3_errmsg, saved before ROLLBACK replaces it */
	char dev_mac[18], dev_ip[INET6_ADDRSTRLEN]; /* a device being upserted */
	bool dev_vanished;			    /* an UPDATE found no devices row */
	uint64_t batch_dev_writes;		    /* device UPDATEs in the open transaction */
};

/* schema.c */
/*
 * The pragmas (WAL, synchronous, journal size limit, page cache; auto-vacuum
 * for a new file), then the schema created or migrated in one transaction,
 * retried while another connection holds the file (up to BUSY_TIMEOUT_MS).
 * Refuses a newer schema (-EPROTO) and another application's database
 * (-EINVAL). Returns 0 or -errno; s->errmsg says why.
 */
int schema_setup(struct store *s);

/* file.c */
int sqlite_errno(int rc);
int store_prepare(struct store *s, const char *sql, sqlite3_stmt **st);
int db_connect(struct store *s);
void db_disconnect(struct store *s, bool persist_wal);
int ensure_db(struct store *s);
double wal_size_mb(const struct store *s);
void checkpoint(struct store *s);

/* rows.c */
int rows_prepare(struct store *s);
void rows_finalize(struct store *s);
int write_batch(struct store *s, const struct store_batch *b, double *ms);
int rewrite_interfaces(struct store *s);
/*
 * Writer, holding the lock: record the first queued attach (after
 * store_start) as an interfaces row and a new ifaces entry, dropping the
 * lock around the INSERT. Returns whether there was one due (done, or
 * failed and retried later).
 */
bool attach_pending_iface(struct store *s);
int64_t first_iface_row(struct store *s, const char *name, int64_t own);
/* This process's runs row in the current file; sets s->run_id. A SQLite code. */
int record_run(struct store *s);
/* runs.stopped_ms of this process, now; a SQLite code. */
int record_run_stop(struct store *s);
/*
 * Writer, before letting go of a file that was moved: write the device
 * traffic the cache holds for its committed flows into it, in a
 * transaction of its own, and the run's stop time. A SQLite code.
 */
int write_owed_devices(struct store *s);

/* retention.c */
/* Writer, between transactions: one bounded chunk of --retention deletes
 * and an incremental vacuum; *more when old rows remain. A SQLite code. */
int retention_pass(struct store *s, int64_t now_epoch_ms, bool *more);
/* At start: say when the file cannot shrink (no auto_vacuum). */
void retention_check_file(struct store *s);
/* Between passes: the usual gap, and the gap while old rows remain (so
 * the writer's own batches and readers get the lock in between). */
#define RETAIN_EVERY_MS 1000
#define RETAIN_BUSY_GAP_MS 20

/* sqlite3_step and reset a statement that returns no rows; a SQLite code. */
static inline int step_once(sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

#endif
