// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The store's queues and writer thread. Producers copy records into a
 * bounded ring under a mutex; one writer thread owns the connection and
 * turns the ring into transactions (rows.c). The writer reads the records
 * it has taken straight from the ring without the lock: producers only
 * ever write the free part of the ring, and the writer frees a batch's
 * slots only after its COMMIT, so a failed transaction leaves its records
 * queued for the next attempt and nothing is lost or copied twice.
 */
#define _GNU_SOURCE /* pthread_setname_np */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "lib/clock.h"
#include "store/internal.h"

static void *writer_thread(void *arg);

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

	if (!s->stopping && s->opts.retention_ms && s->next_retain_ms < wake)
		wake = s->next_retain_ms;
	if (s->n_attach_reqs && s->attach_retry_ms < wake)
		wake = s->attach_retry_ms;

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
	b->dev_writeback =
		s->stopping || b->nrec == s->rec_count || (s->dev_held && now >= s->dev_due_ms);
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
static void finish_batch(struct store *s, const struct store_batch *b, int rc, double ms,
			 double wal_mb)
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
			pr_info("store: %s: writing again after %u failed attempts\n", s->path,
				s->fail_streak);
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
		pr_debug("store: %s: %s; %zu records queued, retrying in %u ms\n", s->path,
			 s->errmsg, s->rec_count, s->backoff_ms);
	s->last_rc = rc;
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
		if (attach_pending_iface(s))
			continue;
		if (!s->stopping && s->opts.retention_ms && now >= s->next_retain_ms) {
			bool more = false;

			pthread_mutex_unlock(&s->lock);
			retention_pass(s, now_ms(), &more);
			pthread_mutex_lock(&s->lock);
			s->next_retain_ms =
				mono_ms() + (more ? RETAIN_BUSY_GAP_MS : RETAIN_EVERY_MS);
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
			if (rc != SQLITE_OK && s->stopping && ++s->close_failures >= CLOSE_ATTEMPTS)
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
	/* Its own name in top -H, ps -L and perf. */
	pthread_setname_np(pthread_self(), "fm-writer");
	writer_run(arg);
	return NULL;
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
	for (size_t i = 0; i < s->n_attach_reqs; i++) {
		free(s->attach_reqs[i].name);
		free(s->attach_reqs[i].mac);
		free(s->attach_reqs[i].xdp_mode);
	}
	free(s->attach_reqs);
	free(s->wal_path);
	free(s->shm_path);
	free(s->path);
	free(s->command);
	free(s->args);
	free(s);
}

/*
 * Process-wide SQLite settings, before SQLite initializes (the first
 * connection opened): no memory statistics, which nothing here reads and
 * which cost a global mutex around every allocation and free (~5% of the
 * writer at a 1M-flow churn). The threading mode stays serialized; the
 * store's own connection is opened with SQLITE_OPEN_NOMUTEX, as only one
 * thread at a time uses it. Too late (SQLite already initialized by
 * another module): SQLITE_MISUSE, harmless, the default stays.
 */
static void sqlite_global_setup(void)
{
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

int store_open(struct store **out, const struct store_opts *opts)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_condattr_t ca;
	struct store *s;
	int err;

	if (!out || !opts || !opts->path || !*opts->path)
		return -EINVAL;
	pthread_once(&once, sqlite_global_setup);
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
	if (!s->opts.page_cache_kib)
		s->opts.page_cache_kib = DEFAULT_PAGE_CACHE_KIB;
	s->batch_size = BATCH_INITIAL;
	s->rec_cap = s->opts.queue_records;
	s->cache_floor =
		s->opts.cache_size < STORE_CACHE_FLOOR ? s->opts.cache_size : STORE_CACHE_FLOOR;

	s->path = strdup(opts->path);
	s->opts.path = s->path;
	/* Copies, so the caller's strings need not outlive store_open. */
	s->command = opts->command ? strdup(opts->command) : NULL;
	s->args = opts->args ? strdup(opts->args) : NULL;
	s->opts.command = s->command;
	s->opts.args = s->args;
	s->started_ms = now_ms();
	if ((opts->command && !s->command) || (opts->args && !s->args)) {
		err = -ENOMEM;
		goto fail;
	}
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
		pr_err("store: %s: device cache of %zu entries: %s\n", s->path, s->opts.cache_size,
		       strerror(errno));
		goto fail;
	}
	s->cache_cap_req = s->opts.cache_size;
	s->st.cache_capacity = s->opts.cache_size;
	s->recs = calloc(s->rec_cap, sizeof(*s->recs));
	s->mets = calloc(METRIC_QUEUE, sizeof(*s->mets));
	if (!s->recs || !s->mets) {
		pr_err("store: %s: no memory for a queue of %zu records\n", s->path, s->rec_cap);
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
	s->next_retain_ms = mono_ms();
	retention_check_file(s);
	err = pthread_create(&s->thread, NULL, writer_thread, s);
	if (err) {
		pr_err("store: %s: starting the writer thread: %s\n", s->path, strerror(err));
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

int store_submit_metrics(struct store *s, int64_t ts_ms, const char *const *names,
			 const double *values, size_t n)
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
		strcpy(m->name, names[i]); /* length checked above */
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
		writer_run(s); /* the queue may hold records even so */

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
	/* The run's end, for `runs`; a file that cannot take it (full
	 * disk) keeps stopped_ms NULL, as after a crash. */
	if (s->db && record_run_stop(s) != SQLITE_OK)
		pr_debug("store: %s: recording the end of this run: %s\n", s->path,
			 sqlite3_errmsg(s->db));
	checkpoint(s);
	pr_debug("store: %s: %" PRIu64 " flow rows in %" PRIu64 " transactions, %" PRIu64
		 " failed\n",
		 s->path, s->st.rows_written, s->st.batches, s->st.db_errors);
	store_free(s);
	return err;
}
