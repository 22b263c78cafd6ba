// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * churn: what one flow costs on its way from the kernel to disk at a
 * 1M-flow churn (every packet a new flow), stage by stage, against a raw
 * SQLite insert loop of the same rows in the same run.
 *
 * The flows are sqlite_ingest's: N distinct IPv4/UDP flows on one
 * interface, 64 source ports x 15625 source addresses (198.18.128.0 + i)
 * to 198.18.0.2:9, one packet each, on CPU i % CPUs. They are written into
 * a real generation map of the real BPF object (loaded, attached nowhere:
 * no traffic), then go the daemon's way through the real modules:
 *
 *   drain    drain_generation: batch lookup-and-delete from the per-CPU
 *            map, the per-CPU fold and time conversion, flowtab_add
 *   export   flowtab_flush (record building) into the fan-out (stage,
 *            deliver) and the store sink (store_submit into the queue),
 *            as daemon_finish does, waiting when the queue is full
 *   writer   the store's writer thread: row formatting, device cache and
 *            device upserts / write-backs, flow INSERTs, COMMITs,
 *            checkpoints, until store_close returns
 *
 * CPU time per flow (user + system, the main thread's for drain and
 * export, the rest of the process's for the writer). Then each stage is
 * split by running its parts alone on the same data:
 *
 *   drain: kernel batch ops    bpf_map_lookup_and_delete_batch alone
 *   drain: flow table insert   flowtab_add of the same deltas alone
 *   drain: per-CPU fold        drain minus the two above
 *   export: record building    flowtab_flush into an emit that keeps nothing
 *   export: fan-out            flush into the fan-out with a sink that takes
 *                              everything and keeps nothing, minus building
 *   export: store queue        export minus the two above
 *   writer: row formatting     the store's MAC and address text, alone
 *   writer: device cache       the cache's lookups, inserts and adds alone
 *   writer: device SQL         the store alone on the records (submitted
 *                              as sqlite_ingest does) with devices, less the
 *                              same without devices (an interface it does
 *                              not know) and less the device cache
 *   writer: flow INSERT        the raw loop's INSERTs and COMMITs with the
 *                              text formatted beforehand
 *   writer: rest               writer minus the four above: the store's
 *                              queue and batching
 *
 * raw loop: sqlite_ingest's raw loop (tools/bench/common/rawloop.c: the
 * store's 24 columns, formatted per row by the store's own functions, one
 * prepared INSERT, 10000 rows per transaction, WAL, synchronous=NORMAL),
 * CPU per row. The target is total / raw <= TARGET_RATIO.
 *
 * Usage: churn [--quick] [--flows N] [--runs N] [--dir DIR]
 *              [--markdown=FILE (appended to)]
 * Root (BPF maps). Exit 0 when every run was exact (a missed target is
 * reported, not an error), 1 on a runtime error or a wrong count, 2 on a
 * usage error.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "bpf/flowmaster.h"
#include "daemon/sizing.h"
#include "kernel/drain.h"
#include "kernel/loader.h"
#include "lib/log.h"
#include "sink/sink.h"
#include "store/devcache.h"
#include "store/store.h"
#include "table/flowtab.h"
#include "table/record.h"
#include "common/rawloop.h"

#define MAX_RUNS 15
#define IFINDEX 7
#define IFNAME "bench0"
#define SRC_PORTS 64
#define SRC_ADDRS 15625
#define FRAME_BYTES 60
#define IP_BYTES 46
#define RAW_BATCH 10000
#define FILL_BATCH 8192
#define TARGET_RATIO 1.10
/* One generation per second of a 100k new flows/s churn, drained as the
 * daemon does at its default --poll-interval (1000 ms). */
#define FLOWS_PER_GEN 100000

enum stage {
	S_DRAIN,
	S_DRAIN_SYS,
	S_DRAIN_FT,
	S_DRAIN_FOLD,
	S_EXPORT,
	S_EXP_BUILD,
	S_EXP_FAN,
	S_EXP_QUEUE,
	S_WRITER,
	S_WR_FMT,
	S_WR_DEV,
	S_WR_DEVSQL,
	S_WR_SQL,
	S_WR_REST,
	S_TOTAL,
	S_RAW,
	S_RATIO,
	S_WR_DEVS,  /* the store alone, with devices */
	S_WR_NODEV, /* ... without */
	S__N,
};

static const struct {
	const char *name;
	bool sub;
} stage_info[S__N] = {
	[S_DRAIN] = { "drain", false },
	[S_DRAIN_SYS] = { "kernel batch lookup-and-delete", true },
	[S_DRAIN_FT] = { "flow table insert (flowtab_add)", true },
	[S_DRAIN_FOLD] = { "per-CPU fold, times, accounting", true },
	[S_EXPORT] = { "export", false },
	[S_EXP_BUILD] = { "record building (flowtab_flush)", true },
	[S_EXP_FAN] = { "fan-out (stage, deliver)", true },
	[S_EXP_QUEUE] = { "store queue (store_submit)", true },
	[S_WRITER] = { "writer thread", false },
	[S_WR_FMT] = { "row formatting (MACs, addresses)", true },
	[S_WR_DEV] = { "device cache (lookups, inserts, adds)", true },
	[S_WR_DEVSQL] = { "device SQL (upserts, totals)", true },
	[S_WR_SQL] = { "flow INSERT + COMMIT (raw, text made before)", true },
	[S_WR_REST] = { "rest: queue, batching, statement", true },
	[S_TOTAL] = { "**total per flow**", false },
	[S_RAW] = { "raw insert loop per row", false },
};

struct params {
	size_t flows;
	int runs;
	const char *dir;
	bool quick, verbose;
	const char *md_path;
};

/* ns per flow of every stage, one run. */
struct run {
	double ns[S__N];
};

struct ctx {
	struct params p;
	struct loader l;
	struct fm_map_key *keys;
	struct fm_flow_value *vals; /* flows x nr_cpus */
	struct fm_record *recs;	    /* as the table exports them */
	size_t gens;		    /* generations of FLOWS_PER_GEN flows */
	char dir[4096];
};

static double thread_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static double process_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static int64_t epoch_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_us(long us)
{
	nanosleep(&(struct timespec){ .tv_nsec = us * 1000 }, NULL);
}

/* Flow i's map key, as the program writes it (its MACs go in the value). */
static void make_key(struct fm_map_key *k, size_t i)
{
	uint32_t a = 0xc6128000u + (uint32_t)(i % SRC_ADDRS); /* 198.18.128.0 + */

	memset(k, 0, sizeof(*k));
	k->ifindex = IFINDEX;
	k->eth_type = 0x0800;
	k->src_addr[10] = k->src_addr[11] = 0xff;
	k->dst_addr[10] = k->dst_addr[11] = 0xff;
	k->src_addr[12] = a >> 24;
	k->src_addr[13] = a >> 16;
	k->src_addr[14] = a >> 8;
	k->src_addr[15] = a;
	k->dst_addr[12] = 198;
	k->dst_addr[13] = 18;
	k->dst_addr[14] = 0;
	k->dst_addr[15] = 2;
	k->src_port = 10000 + i % SRC_PORTS;
	k->dst_port = 9;
	k->protocol = 17;
}

static int setup(struct ctx *c)
{
	struct loader_opts o = { .ringbuf_bytes = 1 << 20, .nr_ifaces = 1, .ifindex = { IFINDEX } };
	size_t n = c->p.flows, per = FLOWS_PER_GEN;
	uint64_t hz;
	int err, ncpu;

	o.max_flows = (__u32)(n < per ? n : per);
	err = loader_open(&c->l, &o);
	if (err) {
		fprintf(stderr, "churn: loading the BPF object: %s\n", strerror(-err));
		return -1;
	}
	hz = 1000000000ull / c->l.ns_per_jiffy;
	c->gens = (n + per - 1) / per;
	ncpu = c->l.nr_cpus;
	c->keys = calloc(n, sizeof(*c->keys));
	c->vals = calloc(n * ncpu, sizeof(*c->vals));
	c->recs = calloc(n, sizeof(*c->recs));
	if (!c->keys || !c->vals || !c->recs) {
		fprintf(stderr, "churn: no memory for %zu flows\n", n);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		struct fm_flow_value *v = &c->vals[i * ncpu + i % ncpu];
		/* Generation g spans second g of the run, which ended at the load. */
		uint64_t t =
			c->l.anchor.jiffies - c->gens * hz + (i / per) * hz + (i % per) * hz / per;

		static const uint8_t smac[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 };
		static const uint8_t dmac[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x02 };

		make_key(&c->keys[i], i);
		memcpy(v->src_mac, smac, 6); /* the inserting CPU's value has them */
		memcpy(v->dst_mac, dmac, 6);
		v->packets = 1;
		v->bytes = FRAME_BYTES;
		v->ip_bytes = IP_BYTES;
		v->first_seen = v->last_seen = t;
	}
	return 0;
}

/* Write generation g's flows into map fd (untimed); their count. */
static long fill(struct ctx *c, int fd, size_t g)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts, .elem_flags = 0, .flags = BPF_ANY);
	size_t lo = g * FLOWS_PER_GEN, hi = lo + FLOWS_PER_GEN;
	int ncpu = c->l.nr_cpus;

	if (hi > c->p.flows)
		hi = c->p.flows;
	for (size_t i = lo; i < hi; i += FILL_BATCH) {
		__u32 n = hi - i < FILL_BATCH ? hi - i : FILL_BATCH;

		if (bpf_map_update_batch(fd, &c->keys[i], &c->vals[i * ncpu], &n, &opts)) {
			fprintf(stderr, "churn: filling the generation map: %s\n", strerror(errno));
			return -1;
		}
	}
	return (long)(hi - lo);
}

/* ---- the daemon's path ---- */

struct pipe {
	struct fanout fan;
	uint64_t exported_packets, records;
};

static int pipe_emit(const struct fm_record *r, void *ctx)
{
	struct pipe *pp = ctx;
	int err = fanout_emit(r, &pp->fan);

	if (err)
		return err;
	pp->exported_packets += r->packets;
	pp->records++;
	return 0;
}

static void store_defaults(struct store_opts *o, const char *path)
{
	struct sizing m;

	sizing_defaults(&m);
	memset(o, 0, sizeof(*o));
	o->path = path;
	o->cache_size = m.cache_size;
	o->queue_records = m.queue_records;
}

/* Rows and packets in a finished database, and the devices' totals. */
static int check_db(const char *path, size_t rows)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	int64_t n = -1, p = -1, ds = -1, dr = -1;
	int ret = -1;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(
		    db,
		    "SELECT (SELECT count(*) FROM flows), (SELECT sum(packets) FROM flows),"
		    " (SELECT sum(packets_sent) FROM devices),"
		    " (SELECT sum(packets_received) FROM devices)",
		    -1, &st, NULL) != SQLITE_OK)
		goto out;
	if (sqlite3_step(st) == SQLITE_ROW) {
		n = sqlite3_column_int64(st, 0);
		p = sqlite3_column_int64(st, 1);
		ds = sqlite3_column_int64(st, 2);
		dr = sqlite3_column_int64(st, 3);
	}
	if (n == (int64_t)rows && p == (int64_t)rows && ds == p && dr == p)
		ret = 0;
	else
		fprintf(stderr,
			"churn: %s: %" PRId64 " rows, %" PRId64 " packets, devices %" PRId64
			" sent %" PRId64 " received; want %zu of each\n",
			path, n, p, ds, dr, rows);
out:
	if (ret && !st)
		fprintf(stderr, "churn: %s: %s\n", path, db ? sqlite3_errmsg(db) : "cannot open");
	sqlite3_finalize(st);
	sqlite3_close(db);
	return ret;
}

static int run_pipeline(struct ctx *c, struct run *r)
{
	struct store_opts so;
	struct store *s = NULL;
	struct sink sk;
	struct pipe pp = { 0 };
	struct flowtab *ft = NULL;
	struct drain d;
	char path[4200];
	uint64_t unwritten = 0;
	double t0, p0, t_exp;
	long n;
	int fd, err, ret = -1;
	bool drain_ok = false;

	snprintf(path, sizeof(path), "%s/pipeline.db", c->dir);
	bench_remove_db(path);
	ft = flowtab_new(c->p.flows);
	if (!ft || fanout_init(&pp.fan))
		goto out;
	err = drain_init(&d, &c->l, ft);
	if (err) {
		fprintf(stderr, "churn: drain_init: %s\n", strerror(-err));
		goto out;
	}
	drain_ok = true;
	store_defaults(&so, path);
	err = store_open(&s, &so);
	err = err   ?:
		      store_interface_attach(s, IFNAME, IFINDEX, "02:00:00:00:00:02", "native",
					     epoch_ms());
	err = err ?: store_start(s);
	if (err) {
		fprintf(stderr, "churn: store: %s\n", strerror(-err));
		goto out;
	}
	store_sink_init(&sk, s);
	fanout_add(&pp.fan, &sk);

	/* The generation no program writes (slot 0 holds the other). */
	fd = c->l.gen_fd[!c->l.active];
	for (size_t g = 0; g < c->gens; g++) {
		long want = fill(c, fd, g);

		if (want < 0)
			goto out;
		drain_clock(&d);
		t0 = thread_cpu_ns();
		n = drain_generation(&d, fd);
		r->ns[S_DRAIN] += thread_cpu_ns() - t0;
		if (n != want) {
			fprintf(stderr, "churn: drained %ld flows, want %ld\n", n, want);
			goto out;
		}
	}
	r->ns[S_DRAIN] /= c->p.flows;
	if (flowtab_count(ft) != c->p.flows) {
		fprintf(stderr, "churn: the table holds %zu flows, want %zu\n", flowtab_count(ft),
			c->p.flows);
		goto out;
	}

	/* As daemon_finish: flush the table into the fan-out, deliver,
	 * wait while the queue is full. */
	p0 = process_cpu_ns();
	t0 = thread_cpu_ns();
	fanout_flush(&pp.fan);
	for (;;) {
		long left;

		flowtab_flush(ft, FM_END_SHUTDOWN, pipe_emit, &pp);
		left = fanout_deliver(&pp.fan);
		if (left < 0)
			goto out;
		if (!left && !flowtab_count(ft))
			break;
		sleep_us(10000);
	}
	t_exp = thread_cpu_ns() - t0;
	if (c->p.verbose) {
		struct store_stats st;

		while (store_get_stats(s, &st), st.pending >= st.current_batch_size)
			sleep_us(1000);
		fprintf(stderr,
			"  # store: %" PRIu64 " transactions, cache %" PRIu64 " hits %" PRIu64
			" misses, %" PRIu64 " device updates, %" PRIu64 " queue full, %" PRIu64
			" checkpoints; writer so far %.0f ns/flow\n",
			st.batches, st.cache_hits, st.cache_misses, st.devices_written,
			st.queue_full, st.checkpoints,
			(process_cpu_ns() - p0 - t_exp) / c->p.flows);
	}
	err = store_close(s, &unwritten);
	s = NULL;
	r->ns[S_EXPORT] = t_exp / c->p.flows;
	/* The rest of the process: the writer, and store_close's last
	 * transaction and checkpoint. */
	r->ns[S_WRITER] = (process_cpu_ns() - p0 - t_exp) / c->p.flows;
	if (err || unwritten || pp.exported_packets != c->p.flows) {
		fprintf(stderr, "churn: %" PRIu64 " rows unwritten, %" PRIu64 " packets exported\n",
			unwritten, pp.exported_packets);
		goto out;
	}
	ret = check_db(path, c->p.flows);
out:
	store_close(s, NULL);
	if (drain_ok)
		drain_free(&d);
	fanout_free(&pp.fan);
	flowtab_free(ft);
	bench_remove_db(path);
	return ret;
}

/* ---- the parts alone ---- */

static int run_kernel_batch(struct ctx *c, struct run *r)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	int fd = c->l.gen_fd[!c->l.active];
	size_t got = 0;
	double t0, ns = 0;
	void *keys = malloc(FILL_BATCH * sizeof(struct fm_map_key));
	void *vals = malloc((size_t)FILL_BATCH * c->l.nr_cpus * sizeof(struct fm_flow_value));
	int ret = -1;

	if (!keys || !vals)
		goto out;
	for (size_t g = 0; g < c->gens; g++) {
		__u32 in = 0, out = 0, n;
		bool first = true;

		if (fill(c, fd, g) < 0)
			goto out;
		t0 = thread_cpu_ns();
		for (;;) {
			int err;

			n = FILL_BATCH;
			err = bpf_map_lookup_and_delete_batch(fd, first ? NULL : &in, &out, keys,
							      vals, &n, &opts);
			got += n;
			if (err) {
				if (errno != ENOENT) {
					fprintf(stderr, "churn: batch: %s\n", strerror(errno));
					goto out;
				}
				break;
			}
			in = out;
			first = false;
		}
		ns += thread_cpu_ns() - t0;
	}
	r->ns[S_DRAIN_SYS] = ns / c->p.flows;
	if (got != c->p.flows)
		fprintf(stderr, "churn: batch read %zu flows, want %zu\n", got, c->p.flows);
	else
		ret = 0;
out:
	free(keys);
	free(vals);
	return ret;
}

/* The deltas drain_generation made, in its order (c->recs). */
static void fill_table(struct ctx *c, struct flowtab *ft, double *ns)
{
	double t0 = thread_cpu_ns();

	for (size_t i = 0; i < c->p.flows; i++) {
		const struct fm_record *rec = &c->recs[i];
		struct flowtab_delta dl = {
			.packets = rec->packets,
			.bytes = rec->bytes,
			.ip_bytes = rec->ip_bytes,
			.first_ms = rec->first_seen_ms,
			.last_ms = rec->last_seen_ms,
			.tcp_flags = rec->tcp_flags,
		};

		flowtab_add(ft, &rec->key, &dl);
	}
	if (ns)
		*ns = (thread_cpu_ns() - t0) / c->p.flows;
}

struct keep {
	struct fm_record *recs;
	size_t n;
};

static int keep_emit(const struct fm_record *rec, void *ctx)
{
	struct keep *k = ctx;

	if (k->recs)
		k->recs[k->n] = *rec;
	k->n++;
	return 0;
}

static size_t null_room(struct sink *s)
{
	(void)s;
	return SINK_ROOM_ANY;
}

static int null_take(struct sink *s, const struct fm_record *recs, size_t n)
{
	uint64_t *sum = s->priv;

	*sum += n + recs[0].packets;
	return 0;
}

static int run_table_parts(struct ctx *c, struct run *r)
{
	struct flowtab *ft = flowtab_new(c->p.flows);
	struct keep k = { .recs = c->recs };
	struct pipe pp = { 0 };
	uint64_t sum = 0;
	struct sink ns = { .name = "null", .room = null_room, .take = null_take, .priv = &sum };
	int fd = c->l.gen_fd[!c->l.active];
	struct drain d;
	bool drain_ok = false;
	double t0, fan;
	int ret = -1;

	if (!ft || fanout_init(&pp.fan) || drain_init(&d, &c->l, ft))
		goto out;
	drain_ok = true;
	fanout_add(&pp.fan, &ns);
	/* The table as the drain fills it; its records, in export order,
	 * are what the writer's parts below write. */
	for (size_t g = 0; g < c->gens; g++) {
		if (fill(c, fd, g) < 0)
			goto out;
		drain_clock(&d);
		if (drain_generation(&d, fd) < 0)
			goto out;
	}
	t0 = thread_cpu_ns();
	flowtab_flush(ft, FM_END_SHUTDOWN, keep_emit, &k);
	r->ns[S_EXP_BUILD] = (thread_cpu_ns() - t0) / c->p.flows;

	fill_table(c, ft, &r->ns[S_DRAIN_FT]);
	t0 = thread_cpu_ns();
	flowtab_flush(ft, FM_END_SHUTDOWN, pipe_emit, &pp);
	fanout_deliver(&pp.fan);
	fan = (thread_cpu_ns() - t0) / c->p.flows;
	r->ns[S_EXP_FAN] = fan - r->ns[S_EXP_BUILD];
	if (k.n == c->p.flows && pp.records == c->p.flows && !pp.fan.staged)
		ret = 0;
out:
	if (ret)
		fprintf(stderr, "churn: table parts: wrong counts\n");
	if (drain_ok)
		drain_free(&d);
	fanout_free(&pp.fan);
	flowtab_free(ft);
	return ret;
}

static int run_format(struct ctx *c, struct run *r)
{
	struct raw_text t;
	volatile size_t sink = 0;
	double t0 = thread_cpu_ns();

	for (size_t i = 0; i < c->p.flows; i++) {
		raw_format(&c->recs[i], &t);
		sink += t.sip[10] + t.dmac[3];
	}
	r->ns[S_WR_FMT] = (thread_cpu_ns() - t0) / c->p.flows;
	return 0;
}

/* The store's cache work per record (rows.c resolve_device), without its SQL. */
static int run_devcache(struct ctx *c, struct run *r)
{
	struct sizing m;
	struct devcache *dc;
	int64_t next_id = 1;
	double t0;

	sizing_defaults(&m);
	dc = devcache_new(m.cache_size ? m.cache_size : STORE_CACHE_DEFAULT);
	if (!dc)
		return -1;
	t0 = thread_cpu_ns();
	for (size_t i = 0; i < c->p.flows; i++) {
		const struct fm_record *rec = &c->recs[i];

		for (int src = 1; src >= 0; src--) {
			struct devcache_key k;
			struct devcache_entry *e;

			memset(&k, 0, sizeof(k));
			k.ifindex = rec->key.ifindex;
			memcpy(k.mac, src ? rec->key.src_mac : rec->key.dst_mac, 6);
			k.family = DEVCACHE_IPV4;
			memcpy(k.addr, src ? rec->key.src_addr : rec->key.dst_addr, 16);
			e = devcache_lookup(dc, &k);
			if (!e)
				e = devcache_insert(dc, &k, next_id++);
			if (!e) {
				devcache_free(dc);
				return -1;
			}
			devcache_add(dc, e, src, rec->packets, rec->bytes, rec->first_seen_ms,
				     rec->last_seen_ms);
		}
		if ((i + 1) % RAW_BATCH == 0)
			devcache_commit(dc, (i + 1) % (8 * RAW_BATCH) == 0);
	}
	devcache_commit(dc, true);
	r->ns[S_WR_DEV] = (thread_cpu_ns() - t0) / c->p.flows;
	devcache_free(dc);
	return 0;
}

/*
 * sqlite_ingest's raw loop (tools/bench/common/rawloop.c). preformatted:
 * the text of every row is made before timing (the SQLite part alone),
 * else per row (the reference). CPU per row into *ns.
 */
static int raw_loop(struct ctx *c, bool preformatted, double *ns)
{
	struct store_opts o;
	struct store *s = NULL;
	struct raw_loop l;
	struct raw_text *texts = NULL, one;
	char path[4200];
	double t0;
	int err, ret = -1;

	snprintf(path, sizeof(path), "%s/raw.db", c->dir);
	bench_remove_db(path);
	store_defaults(&o, path);
	err = store_open(&s, &o);
	err = err   ?:
		      store_interface_attach(s, IFNAME, IFINDEX, "02:00:00:00:00:02", "native",
					     epoch_ms());
	store_close(s, NULL);
	if (err)
		goto out;
	if (preformatted) {
		texts = malloc(c->p.flows * sizeof(*texts));
		if (!texts)
			goto out;
		for (size_t i = 0; i < c->p.flows; i++)
			raw_format(&c->recs[i], &texts[i]);
	}
	if (raw_open(&l, path, "churn"))
		goto out;
	t0 = thread_cpu_ns();
	for (size_t i = 0; i < c->p.flows; i++) {
		const struct fm_record *rec = &c->recs[i];
		struct raw_text *t = texts ? &texts[i] : &one;
		struct raw_ids ids = { .iface = 1,
				       .src_dev = 1 + (int64_t)(i % SRC_ADDRS),
				       .dst_dev = SRC_ADDRS + 1 };

		if (i % RAW_BATCH == 0 && raw_exec(&l, "BEGIN IMMEDIATE"))
			goto fail;
		if (!texts)
			raw_format(rec, t);
		if (raw_insert(&l, rec, t, &ids))
			goto fail;
		if (((i + 1) % RAW_BATCH == 0 || i + 1 == c->p.flows) && raw_exec(&l, "COMMIT"))
			goto fail;
	}
	if (!raw_close(&l))
		ret = 0;
	*ns = (thread_cpu_ns() - t0) / c->p.flows;
	goto out;
fail:
	raw_close(&l);
out:
	if (ret)
		fprintf(stderr, "churn: raw loop failed\n");
	free(texts);
	bench_remove_db(path);
	return ret;
}

/* The store alone on c->recs (submitted as sqlite_ingest does); nodev:
 * on an interface it does not know, so without devices. Writer CPU per
 * row, or -1. */
static double store_direct(struct ctx *c, bool nodev)
{
	struct store_opts so;
	struct store *s = NULL;
	char path[4200];
	double p0, t0;
	size_t done = 0;
	uint32_t ifx = nodev ? 99 : IFINDEX;

	snprintf(path, sizeof(path), "%s/direct.db", c->dir);
	bench_remove_db(path);
	store_defaults(&so, path);
	if (store_open(&s, &so) ||
	    store_interface_attach(s, IFNAME, IFINDEX, "02:00:00:00:00:02", "native", epoch_ms()) ||
	    store_start(s))
		return -1;
	for (size_t i = 0; i < c->p.flows; i++)
		c->recs[i].key.ifindex = ifx;
	p0 = process_cpu_ns();
	t0 = thread_cpu_ns();
	while (done < c->p.flows) {
		size_t n = c->p.flows - done < 4096 ? c->p.flows - done : 4096;

		if (store_submit(s, c->recs + done, n) == -EAGAIN) {
			sleep_us(1000);
			continue;
		}
		done += n;
	}
	t0 = thread_cpu_ns() - t0;
	store_close(s, NULL);
	for (size_t i = 0; i < c->p.flows; i++)
		c->recs[i].key.ifindex = IFINDEX;
	bench_remove_db(path);
	return (process_cpu_ns() - p0 - t0) / c->p.flows;
}

static int one_run(struct ctx *c, struct run *r, int k)
{
	memset(r, 0, sizeof(*r));
	/* The pipeline and the raw loop in alternating order. */
	if (k % 2 && raw_loop(c, false, &r->ns[S_RAW]))
		return -1;
	if (run_pipeline(c, r) || run_kernel_batch(c, r) || run_table_parts(c, r) ||
	    run_format(c, r) || run_devcache(c, r) || raw_loop(c, true, &r->ns[S_WR_SQL]))
		return -1;
	if (!(k % 2) && raw_loop(c, false, &r->ns[S_RAW]))
		return -1;
	r->ns[S_WR_DEVS] = store_direct(c, k % 2);
	r->ns[S_WR_NODEV] = store_direct(c, !(k % 2));
	if (r->ns[S_WR_DEVS] < 0 || r->ns[S_WR_NODEV] < 0)
		return -1;
	if (k % 2) {
		double x = r->ns[S_WR_DEVS];

		r->ns[S_WR_DEVS] = r->ns[S_WR_NODEV];
		r->ns[S_WR_NODEV] = x;
	}
	r->ns[S_DRAIN_FOLD] = r->ns[S_DRAIN] - r->ns[S_DRAIN_SYS] - r->ns[S_DRAIN_FT];
	r->ns[S_EXP_QUEUE] = r->ns[S_EXPORT] - r->ns[S_EXP_BUILD] - r->ns[S_EXP_FAN];
	/* Devices: the store alone with them less without them. */
	r->ns[S_WR_DEVSQL] = r->ns[S_WR_DEVS] - r->ns[S_WR_NODEV] - r->ns[S_WR_DEV];
	r->ns[S_WR_REST] = r->ns[S_WRITER] - r->ns[S_WR_FMT] - r->ns[S_WR_DEV] -
			   r->ns[S_WR_DEVSQL] - r->ns[S_WR_SQL];
	r->ns[S_TOTAL] = r->ns[S_DRAIN] + r->ns[S_EXPORT] + r->ns[S_WRITER];
	r->ns[S_RATIO] = r->ns[S_TOTAL] / r->ns[S_RAW];
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* min, median, max of stage st over n runs. */
static void mmm(const struct run *rs, int n, int st, double out[3])
{
	double v[MAX_RUNS];

	for (int i = 0; i < n; i++)
		v[i] = rs[i].ns[st];
	qsort(v, n, sizeof(v[0]), cmp_double);
	out[0] = v[0];
	out[1] = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
	out[2] = v[n - 1];
}

static void read_loadavg(char *buf, size_t len)
{
	double a[3];
	FILE *f = fopen("/proc/loadavg", "r");

	snprintf(buf, len, "?");
	if (f && fscanf(f, "%lf %lf %lf", &a[0], &a[1], &a[2]) == 3)
		snprintf(buf, len, "%.2f %.2f %.2f", a[0], a[1], a[2]);
	if (f)
		fclose(f);
}

static void print_text(FILE *o, const struct ctx *c, const struct run *rs)
{
	double v[3];

	fprintf(o, "%-40s %10s %10s %10s %8s\n", "stage (CPU ns per flow)", "min", "median", "max",
		"share");
	for (int st = 0; st < S_RATIO; st++) {
		double tot[3];

		mmm(rs, c->p.runs, st, v);
		mmm(rs, c->p.runs, S_TOTAL, tot);
		fprintf(o, "%s%-*s %10.0f %10.0f %10.0f %7.1f%%\n", stage_info[st].sub ? "  " : "",
			stage_info[st].sub ? 38 : 40, stage_info[st].name, v[0], v[1], v[2],
			100 * v[1] / tot[1]);
	}
	mmm(rs, c->p.runs, S_RATIO, v);
	fprintf(o, "total / raw loop per row: min %.3f median %.3f max %.3f\n", v[0], v[1], v[2]);
	fprintf(o, "target total / raw <= %.2f: %.3f: %s\n", TARGET_RATIO, v[1],
		v[1] <= TARGET_RATIO ? "PASS" : "MISS");
}

static void print_markdown(FILE *o, const struct ctx *c, const struct run *rs, const char *load0,
			   const char *load1)
{
	struct utsname u;
	double v[3], tot[3];

	uname(&u);
	mmm(rs, c->p.runs, S_TOTAL, tot);
	fprintf(o,
		"\n### A flow on its way to disk: CPU per flow at a 1M-flow churn, stage by stage\n\n");
	fprintf(o,
		"%ld CPUs, kernel %s, SQLite %s. `build/bench/churn%s`: %zu flows of one packet each "
		"in a real generation map, drained, exported at shutdown and written by the real "
		"modules; %d run%s, min / median / max; load average %s before, %s after.\n\n",
		sysconf(_SC_NPROCESSORS_ONLN), u.release, sqlite3_libversion(),
		c->p.quick ? " --quick" : "", c->p.flows, c->p.runs, c->p.runs > 1 ? "s" : "",
		load0, load1);
	fprintf(o, "| stage | CPU ns per flow (min / median / max) | share of total |\n");
	fprintf(o, "| --- | ---: | ---: |\n");
	for (int st = 0; st < S_RATIO; st++) {
		mmm(rs, c->p.runs, st, v);
		fprintf(o, "| %s%s | %.0f / %.0f / %.0f | %s%.1f%%%s |\n",
			stage_info[st].sub ? "&nbsp;&nbsp;" : "", stage_info[st].name, v[0], v[1],
			v[2], st == S_RAW ? "(" : "", 100 * v[1] / tot[1], st == S_RAW ? ")" : "");
	}
	mmm(rs, c->p.runs, S_RATIO, v);
	fprintf(o,
		"\n**Target** flowmaster's CPU per flow at a 1M-flow churn (drain, flow table, "
		"records, fan-out, device cache, writer) / a raw SQLite insert loop's per row <= "
		"%.2f: %.3f (min %.3f, max %.3f): **%s**\n\n",
		TARGET_RATIO, v[1], v[0], v[2], v[1] <= TARGET_RATIO ? "PASS" : "MISS");
	{
		double m[S__N];

		for (int st = 0; st < S__N; st++) {
			mmm(rs, c->p.runs, st, v);
			m[st] = v[1];
		}
		fprintf(o,
			"- Where the time above the raw loop goes (medians, ns per flow): total %.0f - "
			"raw %.0f = %.0f, of which the drain %.0f (the kernel's batch lookup-and-delete "
			"alone %.0f), the export %.0f, the devices %.0f (cache %.0f, SQL %.0f), and the "
			"writer's flow rows themselves (formatting, INSERT, COMMIT, the rest) %.0f "
			"against the raw loop's %.0f.\n",
			m[S_TOTAL], m[S_RAW], m[S_TOTAL] - m[S_RAW], m[S_DRAIN], m[S_DRAIN_SYS],
			m[S_EXPORT], m[S_WR_DEV] + m[S_WR_DEVSQL], m[S_WR_DEV], m[S_WR_DEVSQL],
			m[S_WRITER] - m[S_WR_DEV] - m[S_WR_DEVSQL], m[S_RAW]);
	}
	fprintf(o,
		"- Main stages are measured in place (CPU time of the main thread for drain and export, "
		"of the rest of the process, the store's writer, until `store_close` returned); their "
		"parts are the same work run alone on the same data, and the part marked *rest* is "
		"what remains. The raw loop is `sqlite_ingest`'s (the store's 24 columns, formatted per "
		"row by the store's own functions, one prepared INSERT, %d rows per transaction). Every run checks the database: %zu rows, as many "
		"packets, the devices' sent and received totals equal.\n",
		RAW_BATCH, c->p.flows);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "quick", no_argument, NULL, 'q' },
		{ "flows", required_argument, NULL, 'n' },
		{ "runs", required_argument, NULL, 'r' },
		{ "dir", required_argument, NULL, 'd' },
		{ "markdown", required_argument, NULL, 'm' },
		{ "help", no_argument, NULL, 'h' },
		{ "verbose", no_argument, NULL, 'v' },
		{ 0 },
	};
	static struct ctx c;
	struct run rs[MAX_RUNS];
	bool flows_set = false, runs_set = false;
	char tmpl[4096], load0[64], load1[64], *dir;
	int opt, ret = 1;

	c.p.flows = 1000000;
	c.p.runs = 3;
	while ((opt = getopt_long(argc, argv, "hv", opts, NULL)) != -1) {
		char *end;
		unsigned long v;

		switch (opt) {
		case 'q':
			c.p.quick = true;
			break;
		case 'n':
		case 'r':
			errno = 0;
			v = strtoul(optarg, &end, 10);
			if (errno || *end || !v || v > 16000000 || (opt == 'r' && v > MAX_RUNS) ||
			    (opt == 'n' && v < 1000)) {
				fprintf(stderr, "churn: bad number '%s'\n", optarg);
				return 2;
			}
			if (opt == 'n') {
				c.p.flows = v;
				flows_set = true;
			} else {
				c.p.runs = v;
				runs_set = true;
			}
			break;
		case 'd':
			c.p.dir = optarg;
			break;
		case 'm':
			c.p.md_path = optarg;
			break;
		case 'v':
			c.p.verbose = true;
			break;
		case 'h':
			printf("usage: churn [--quick] [--flows N] [--runs N] [--dir DIR] "
			       "[--markdown=FILE]\n"
			       "  --quick      200000 flows, 1 run\n"
			       "  --flows N    distinct flows (1000000)\n"
			       "  --runs N     runs, min / median / max (3, at most %d)\n"
			       "  --dir DIR    where the databases go ($TMPDIR or /tmp)\n"
			       "  --markdown=FILE  append the Markdown section to FILE\n",
			       MAX_RUNS);
			return 0;
		default:
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "churn: unexpected argument '%s'\n", argv[optind]);
		return 2;
	}
	if (c.p.quick) {
		if (!flows_set)
			c.p.flows = 200000;
		if (!runs_set)
			c.p.runs = 1;
	}
	fm_log_level = LOG_LVL_WARN;
	if (!c.p.dir)
		c.p.dir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	snprintf(tmpl, sizeof(tmpl), "%s/churn.XXXXXX", c.p.dir);
	dir = mkdtemp(tmpl);
	if (!dir) {
		fprintf(stderr, "churn: mkdtemp in %s: %s\n", c.p.dir, strerror(errno));
		return 1;
	}
	snprintf(c.dir, sizeof(c.dir), "%s", dir);
	read_loadavg(load0, sizeof(load0));
	if (setup(&c))
		goto out;
	for (int k = 0; k < c.p.runs; k++) {
		if (one_run(&c, &rs[k], k))
			goto out;
		fprintf(stderr,
			"  # run %d: drain %.0f, export %.0f, writer %.0f, total %.0f ns/flow; raw "
			"loop %.0f ns/row; ratio %.3f\n",
			k + 1, rs[k].ns[S_DRAIN], rs[k].ns[S_EXPORT], rs[k].ns[S_WRITER],
			rs[k].ns[S_TOTAL], rs[k].ns[S_RAW], rs[k].ns[S_RATIO]);
	}
	read_loadavg(load1, sizeof(load1));
	print_text(stdout, &c, rs);
	if (c.p.md_path) {
		FILE *f = fopen(c.p.md_path, "a");

		if (!f) {
			fprintf(stderr, "churn: %s: %s\n", c.p.md_path, strerror(errno));
			goto out;
		}
		print_markdown(f, &c, rs, load0, load1);
		fclose(f);
	}
	ret = 0;
out:
	loader_close(&c.l);
	free(c.keys);
	free(c.vals);
	free(c.recs);
	rmdir(dir);
	return ret;
}
