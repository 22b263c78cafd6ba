// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * sqlite_ingest: flow rows per second that the store module (user/store.c:
 * its writer thread, adaptive batches, device cache and upserts) writes,
 * as a ratio of a raw insert loop of the same rows into the same schema in
 * the same run.
 *
 * The rows are a 1M-flow churn with many hosts, the device cache's hard
 * case: N distinct IPv4/UDP flows on one interface, source port
 * 10000 + i % 64 and source address 198.18.128.0 + i % 15625 (coprime, so
 * the first 1M keys are all different) to 198.18.0.2:9, one pair of MACs,
 * as `flowmaster run` exports them at shutdown. With --index-addresses the
 * first N / INDEX_CASE_DIV of them.
 *
 * store: store_open with the daemon's default sizes (sizing_defaults),
 *   store_interface_attach, store_start, store_submit in chunks of 4096
 *   (retrying on -EAGAIN, as the daemon does), until every row is
 *   committed, then store_close.
 * raw: the same database schema, made by store_open on a fresh file (so
 *   tables, indexes and pragmas are the store's own), then one prepared
 *   INSERT of the same 24 columns with the same values, formatted the same
 *   way (MACs and addresses to text per row; tools/bench/common/rawloop.c,
 *   which churn and ipfix_bench use too), one transaction per --batch
 *   rows, WAL, synchronous=NORMAL, a passive checkpoint and close at the
 *   end as store_close does. Device ids are bound as plain numbers: the
 *   raw loop keeps no devices, which is part of what the ratio measures.
 * Both timed from the first row to the database closed. Without and with
 * the address indexes (--index-addresses). Each figure is the median of
 * --runs runs; the ratio is taken within each run, the two loops in
 * alternating order.
 *
 * Usage: sqlite_ingest [--quick] [--rows N] [--runs N] [--batch N]
 *                      [--dir DIR] [--markdown[=FILE]] [-v]
 * Exit 0 when every case ran (a missed target is reported, not an error),
 * 1 on a runtime error or a wrong row count, 2 on a usage error.
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
#include <sys/resource.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>
#include "lib/log.h"
#include "table/record.h"
#include "daemon/sizing.h"
#include "store/store.h"
#include "common/rawloop.h"

#define MAX_RUNS 15
#define SUBMIT_CHUNK 4096 /* as user/run.c */
#define IFINDEX 7
#define IFNAME "bench0"
#define SRC_PORTS 64
#define SRC_ADDRS 15625	    /* 64 * 15625 = 1M distinct keys */
#define PACKETS_PER_FLOW 11 /* ~1.1 Mpps for 10 s over 1M flows */
#define FRAME_BYTES 60
#define TARGET_RATIO 0.7
/* The --index-addresses case writes this fraction of the rows: every row
 * costs it ~3.5x more (two text indexes), and its ratio settles long
 * before a million. */
#define INDEX_CASE_DIV 4

struct params {
	size_t rows;
	int runs;
	size_t batch;
	const char *dir;
	bool quick, verbose;
	int only;	     /* 0: both; 1: the store alone; 2: the raw loop alone */
	const char *md_path; /* NULL: none; "-": stdout instead of text */
};

struct result {
	double store_rps, raw_rps, ratio;
	double store_cpu, raw_cpu; /* process CPU seconds / wall seconds */
	double avg_batch, hit_ratio;
	uint64_t batches, cache_hits, cache_misses, devices_written, queue_full;
};

static int64_t epoch_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: sqlite_ingest [--quick] [--rows N] [--runs N] [--batch N] [--dir DIR]\n"
		"                     [--markdown[=FILE]] [-v]\n"
		"  --quick          200000 rows, 1 run (a smoke test)\n"
		"  --rows N         flow rows (1000000; a quarter with --index-addresses)\n"
		"  --runs N         median of N runs (3, at most %d)\n"
		"  --batch N        rows per transaction of the raw loop (10000)\n"
		"  --dir DIR        where the databases go ($TMPDIR or /tmp)\n"
		"  --markdown       print the results as Markdown instead of text\n"
		"  --markdown=FILE  print text, and write the Markdown section to FILE\n"
		"  --only store|raw run one side alone (to profile it; no ratio)\n"
		"  -v               the store's own log lines\n",
		MAX_RUNS);
}

/* Flow i of the 1M-flow case, as the daemon exports it at shutdown. */
static void make_record(struct fm_record *r, size_t i, int64_t t0)
{
	static const uint8_t smac[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 };
	static const uint8_t dmac[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x02 };
	uint32_t a = 0xc6128000u + (uint32_t)(i % SRC_ADDRS); /* 198.18.128.0 + */

	memset(r, 0, sizeof(*r));
	r->key.ifindex = IFINDEX;
	r->key.eth_type = 0x0800;
	memcpy(r->key.src_mac, smac, 6);
	memcpy(r->key.dst_mac, dmac, 6);
	/* IPv4-mapped: ::ffff:a.b.c.d */
	r->key.src_addr[10] = r->key.src_addr[11] = 0xff;
	r->key.dst_addr[10] = r->key.dst_addr[11] = 0xff;
	r->key.src_addr[12] = a >> 24;
	r->key.src_addr[13] = a >> 16;
	r->key.src_addr[14] = a >> 8;
	r->key.src_addr[15] = a;
	r->key.dst_addr[12] = 198;
	r->key.dst_addr[13] = 18;
	r->key.dst_addr[14] = 0;
	r->key.dst_addr[15] = 2;
	r->key.src_port = 10000 + i % SRC_PORTS;
	r->key.dst_port = 9;
	r->key.protocol = 17;
	r->key.direction = FM_DIR_INGRESS;
	r->packets = PACKETS_PER_FLOW;
	r->bytes = PACKETS_PER_FLOW * FRAME_BYTES;
	r->first_seen_ms = t0 + (int64_t)(i % 1000000) / 100; /* over 10 s */
	r->last_seen_ms = r->first_seen_ms + 9000;
	r->end_reason = FM_END_SHUTDOWN;
}

static void store_defaults(struct store_opts *o, const char *path, bool idx)
{
	struct sizing m;

	sizing_defaults(&m);
	memset(o, 0, sizeof(*o));
	o->path = path;
	o->index_addresses = idx;
	o->cache_size = m.cache_size;
	o->queue_records = m.queue_records;
}

/* Rows and packets in a finished database; -1 on error. */
static int check_db(const char *path, size_t rows)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	int64_t n = -1, p = -1;
	int ret = -1;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
		goto out;
	if (sqlite3_prepare_v2(db, "SELECT count(*), sum(packets) FROM flows", -1, &st, NULL) !=
	    SQLITE_OK)
		goto out;
	if (sqlite3_step(st) == SQLITE_ROW) {
		n = sqlite3_column_int64(st, 0);
		p = sqlite3_column_int64(st, 1);
	}
	if (n == (int64_t)rows && p == (int64_t)rows * PACKETS_PER_FLOW)
		ret = 0;
	else
		fprintf(stderr,
			"sqlite_ingest: %s: %" PRId64 " rows, %" PRId64
			" packets; want %zu and %zu\n",
			path, n, p, rows, rows * PACKETS_PER_FLOW);
out:
	if (ret && !st)
		fprintf(stderr, "sqlite_ingest: %s: %s\n", path,
			db ? sqlite3_errmsg(db) : "cannot open");
	sqlite3_finalize(st);
	sqlite3_close(db);
	return ret;
}

/* The store module writes recs; rows/s from the first submit to closed. */
static int run_store(const struct params *p, const struct fm_record *recs, bool idx,
		     const char *path, struct result *res)
{
	struct store_opts o;
	struct store_stats st;
	struct store *s;
	uint64_t unwritten = 0;
	double t0, t1, c0;
	size_t done = 0;
	int err;

	bench_remove_db(path);
	store_defaults(&o, path, idx);
	err = store_open(&s, &o);
	if (err) {
		fprintf(stderr, "sqlite_ingest: store_open %s: %s\n", path, strerror(-err));
		return -1;
	}
	err = store_interface_attach(s, IFNAME, IFINDEX, "02:00:00:00:00:02", "native", epoch_ms());
	if (!err)
		err = store_start(s);
	if (err) {
		fprintf(stderr, "sqlite_ingest: store: %s\n", strerror(-err));
		store_close(s, NULL);
		return -1;
	}

	t0 = bench_now_s();
	c0 = bench_cpu_s();
	while (done < p->rows) {
		size_t n = p->rows - done < SUBMIT_CHUNK ? p->rows - done : SUBMIT_CHUNK;

		err = store_submit(s, recs + done, n);
		if (err == -EAGAIN) {
			/* The writer is behind: the daemon keeps the rest for
			 * its next turn; here, wait a moment. */
			nanosleep(&(struct timespec){ .tv_nsec = 100000 }, NULL);
			continue;
		}
		if (err) {
			fprintf(stderr, "sqlite_ingest: store_submit: %s\n", strerror(-err));
			store_close(s, NULL);
			return -1;
		}
		done += n;
	}
	/* Wait until less than a batch is left: the writer holds such a
	 * tail for max_delay while running, store_close writes it at once.
	 * The counters then miss only that tail (one transaction). */
	for (;;) {
		store_get_stats(s, &st);
		if (st.pending < st.current_batch_size || st.db_errors)
			break;
		nanosleep(&(struct timespec){ .tv_nsec = 1000000 }, NULL);
	}
	err = store_close(s, &unwritten);
	t1 = bench_now_s();
	res->store_cpu = (bench_cpu_s() - c0) / (t1 - t0);
	if (err || unwritten || st.db_errors) {
		fprintf(stderr,
			"sqlite_ingest: store: %" PRIu64 " rows unwritten, %" PRIu64
			" failed transactions\n",
			unwritten, st.db_errors);
		return -1;
	}
	res->store_rps = p->rows / (t1 - t0);
	res->batches = st.batches + (st.pending > 0);
	res->avg_batch = (double)p->rows / res->batches;
	res->cache_hits = st.cache_hits;
	res->cache_misses = st.cache_misses;
	res->hit_ratio = st.cache_hits + st.cache_misses ?
				 (double)st.cache_hits / (st.cache_hits + st.cache_misses) :
				 0;
	res->devices_written = st.devices_written;
	res->queue_full = st.queue_full;
	return check_db(path, p->rows);
}

/* The raw loop; rows/s from the first row to closed. */
static int run_raw(const struct params *p, const struct fm_record *recs, bool idx, const char *path,
		   struct result *res)
{
	struct store_opts o;
	struct store *s;
	struct raw_loop l;
	struct raw_text t;
	double t0, t1, c0;
	int err;

	/* The store's own schema, indexes and interfaces row. */
	bench_remove_db(path);
	store_defaults(&o, path, idx);
	err = store_open(&s, &o);
	if (!err)
		err = store_interface_attach(s, IFNAME, IFINDEX, "02:00:00:00:00:02", "native",
					     epoch_ms());
	if (err) {
		fprintf(stderr, "sqlite_ingest: raw: creating %s: %s\n", path, strerror(-err));
		store_close(s, NULL);
		return -1;
	}
	store_close(s, NULL);
	if (raw_open(&l, path, "sqlite_ingest"))
		return -1;

	t0 = bench_now_s();
	c0 = bench_cpu_s();
	for (size_t i = 0; i < p->rows; i++) {
		/* Device ids as the store's cache gives them: one per source
		 * address, then the one destination. */
		struct raw_ids ids = { .iface = 1,
				       .src_dev = 1 + (int64_t)(i % SRC_ADDRS),
				       .dst_dev = SRC_ADDRS + 1 };

		if (i % p->batch == 0 && raw_exec(&l, "BEGIN IMMEDIATE"))
			goto fail;
		raw_format(&recs[i], &t);
		if (raw_insert(&l, &recs[i], &t, &ids))
			goto fail;
		if (((i + 1) % p->batch == 0 || i + 1 == p->rows) && raw_exec(&l, "COMMIT"))
			goto fail;
	}
	err = raw_close(&l);
	t1 = bench_now_s();
	res->raw_cpu = (bench_cpu_s() - c0) / (t1 - t0);
	if (err)
		return -1;
	res->raw_rps = p->rows / (t1 - t0);
	return check_db(path, p->rows);

fail:
	raw_close(&l);
	return -1;
}

/* The three load averages, as /proc/loadavg gives them. */
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

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

#define MED(field, res, n)                                                                         \
	({                                                                                         \
		double v_[MAX_RUNS];                                                               \
		for (int i_ = 0; i_ < (n); i_++)                                                   \
			v_[i_] = (double)(res)[i_].field;                                          \
		median(v_, (n));                                                                   \
	})

struct summary {
	double store_rps, raw_rps, ratio, avg_batch, batches, hit_ratio, devices;
};

static void summarize(const struct result *res, int n, struct summary *s)
{
	s->store_rps = MED(store_rps, res, n);
	s->raw_rps = MED(raw_rps, res, n);
	s->ratio = MED(ratio, res, n);
	s->avg_batch = MED(avg_batch, res, n);
	s->batches = MED(batches, res, n);
	s->hit_ratio = MED(hit_ratio, res, n);
	s->devices = MED(devices_written, res, n);
}

static const char *idx_name[2] = { "flows(first_seen_ms) only", "+ --index-addresses" };

static void print_text(FILE *o, const struct params *p, const struct summary sum[2])
{
	fprintf(o, "%-26s %12s %12s %11s %9s %10s %13s\n", "indexes", "store rows/s", "raw rows/s",
		"store / raw", "batches", "avg batch", "dev hit ratio");
	for (int x = 0; x < 2; x++)
		fprintf(o, "%-26s %12.0f %12.0f %11.3f %9.0f %10.0f %13.4f\n", idx_name[x],
			sum[x].store_rps, sum[x].raw_rps, sum[x].ratio, sum[x].batches,
			sum[x].avg_batch, sum[x].hit_ratio);
	for (int x = 0; x < 2; x++)
		fprintf(o, "target store / raw >= %.1f, %s: %.3f: %s\n", TARGET_RATIO, idx_name[x],
			sum[x].ratio, sum[x].ratio >= TARGET_RATIO ? "PASS" : "MISS");
	fprintf(o,
		"(%zu rows, %zu with --index-addresses, median of %d run%s, raw loop %zu rows per transaction)\n",
		p->rows, p->rows / INDEX_CASE_DIV, p->runs, p->runs > 1 ? "s" : "", p->batch);
}

static void cpu_model(char *buf, size_t len)
{
	FILE *f = fopen("/proc/cpuinfo", "r");
	char line[256];

	snprintf(buf, len, "unknown CPU");
	while (f && fgets(line, sizeof(line), f)) {
		char *c = strchr(line, ':');

		if (!strncmp(line, "model name", 10) && c) {
			c += 2;
			c[strcspn(c, "\n")] = 0;
			snprintf(buf, len, "%s", c);
			break;
		}
	}
	if (f)
		fclose(f);
}

static void print_markdown(FILE *o, const struct params *p, const struct summary sum[2],
			   const char *load)
{
	struct utsname u;
	char cpu[128];

	uname(&u);
	cpu_model(cpu, sizeof(cpu));
	fprintf(o, "### SQLite ingest: the store module against a raw insert loop\n\n");
	fprintf(o,
		"%s, %ld CPUs, kernel %s, SQLite %s. `build/bench/sqlite_ingest%s`: %zu flow rows "
		"(a 1M-flow churn from 15625 hosts; the first %zu of them with --index-addresses, whose rows "
		"cost several times more), median of %d run%s; load average %s.\n\n",
		cpu, sysconf(_SC_NPROCESSORS_ONLN), u.release, sqlite3_libversion(),
		p->quick ? " --quick" : "", p->rows, p->rows / INDEX_CASE_DIV, p->runs,
		p->runs > 1 ? "s" : "", load);
	fprintf(o,
		"| indexes | store rows/s | raw loop rows/s | store / raw | store transactions | rows per transaction | device cache hit ratio |\n");
	fprintf(o, "| --- | ---: | ---: | ---: | ---: | ---: | ---: |\n");
	for (int x = 0; x < 2; x++)
		fprintf(o, "| %s | %.0f | %.0f | %.3f | %.0f | %.0f | %.4f |\n", idx_name[x],
			sum[x].store_rps, sum[x].raw_rps, sum[x].ratio, sum[x].batches,
			sum[x].avg_batch, sum[x].hit_ratio);
	fprintf(o, "\n");
	for (int x = 0; x < 2; x++)
		fprintf(o, "**Target** store / raw >= %.1f, %s: %.3f: **%s**\n\n", TARGET_RATIO,
			idx_name[x], sum[x].ratio, sum[x].ratio >= TARGET_RATIO ? "PASS" : "MISS");
	fprintf(o,
		"- *store*: `store_open` with the daemon's default sizes, `store_start`, `store_submit` "
		"in chunks of %d until every row is committed, `store_close`: the writer thread, its adaptive "
		"batches, and the device cache with its upserts and `devices` totals written back when the queue empties or every 2.5 s.\n",
		SUBMIT_CHUNK);
	fprintf(o,
		"- *raw loop*: the same schema and indexes (made by `store_open`), one prepared INSERT of "
		"the same 24 columns and values (MACs and addresses formatted per row by the store's "
		"own functions), %zu rows per "
		"transaction, WAL, `synchronous=NORMAL`; no devices.\n",
		p->batch);
	fprintf(o,
		"- Rows: %d source ports x %d source addresses (198.18.128.0 + i) to one destination, "
		"so %d source devices and 1 destination device; both timed from the first row until the "
		"database is closed; the ratio is taken within each run, the two in alternating order.\n",
		SRC_PORTS, SRC_ADDRS, SRC_ADDRS);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "quick", no_argument, NULL, 'q' },
		{ "rows", required_argument, NULL, 'n' },
		{ "runs", required_argument, NULL, 'r' },
		{ "batch", required_argument, NULL, 'b' },
		{ "dir", required_argument, NULL, 'd' },
		{ "markdown", optional_argument, NULL, 'm' },
		{ "only", required_argument, NULL, 'o' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct params p = { .rows = 1000000, .runs = 3, .batch = 10000 };
	bool rows_set = false, runs_set = false, md_only = false;
	struct result res[2][MAX_RUNS];
	struct summary sum[2];
	struct fm_record *recs;
	char store_path[4096], raw_path[4096], tmpl[4096], load[64];
	char *dir;
	int opt, ret = 0;
	FILE *f;

	while ((opt = getopt_long(argc, argv, "vh", opts, NULL)) != -1) {
		char *end;
		unsigned long v;

		switch (opt) {
		case 'q':
			p.quick = true;
			break;
		case 'n':
		case 'r':
		case 'b':
			errno = 0;
			v = strtoul(optarg, &end, 10);
			if (errno || *end || !v || v > 100000000 || (opt == 'r' && v > MAX_RUNS)) {
				fprintf(stderr, "sqlite_ingest: bad number '%s'\n", optarg);
				return 2;
			}
			if (opt == 'n') {
				p.rows = v;
				rows_set = true;
			} else if (opt == 'r') {
				p.runs = v;
				runs_set = true;
			} else {
				p.batch = v;
			}
			break;
		case 'd':
			p.dir = optarg;
			break;
		case 'm':
			if (optarg)
				p.md_path = optarg;
			else
				md_only = true;
			break;
		case 'o':
			if (!strcmp(optarg, "store"))
				p.only = 1;
			else if (!strcmp(optarg, "raw"))
				p.only = 2;
			else {
				fprintf(stderr, "sqlite_ingest: --only: '%s' is not store or raw\n",
					optarg);
				return 2;
			}
			break;
		case 'v':
			p.verbose = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "sqlite_ingest: unexpected argument '%s'\n", argv[optind]);
		return 2;
	}
	if (p.quick) {
		if (!rows_set)
			p.rows = 200000;
		if (!runs_set)
			p.runs = 1;
	}
	fm_log_level = p.verbose ? LOG_LVL_INFO : LOG_LVL_WARN;
	if (!p.dir)
		p.dir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	snprintf(tmpl, sizeof(tmpl), "%s/sqlite_ingest.XXXXXX", p.dir);
	dir = mkdtemp(tmpl);
	if (!dir) {
		fprintf(stderr, "sqlite_ingest: mkdtemp in %s: %s\n", p.dir, strerror(errno));
		return 1;
	}
	snprintf(store_path, sizeof(store_path), "%s/store.db", dir);
	snprintf(raw_path, sizeof(raw_path), "%s/raw.db", dir);

	recs = malloc(p.rows * sizeof(*recs));
	if (!recs) {
		fprintf(stderr, "sqlite_ingest: no memory for %zu records\n", p.rows);
		rmdir(dir);
		return 1;
	}
	{
		int64_t t0 = epoch_ms();

		for (size_t i = 0; i < p.rows; i++)
			make_record(&recs[i], i, t0);
	}
	read_loadavg(load, sizeof(load));
	for (int x = 0; x < 2 && !ret; x++) {
		struct params pc = p;

		if (x)
			pc.rows = p.rows / INDEX_CASE_DIV;
		for (int r = 0; r < p.runs && !ret; r++) {
			struct result *rs = &res[x][r];
			bool store_first = r % 2 == 0;

			memset(rs, 0, sizeof(*rs));
			for (int k = 0; k < 2 && !ret; k++) {
				bool store = (k == 0) == store_first;

				if (p.only && p.only != (store ? 1 : 2))
					continue;
				if (store)
					ret = run_store(&pc, recs, x, store_path, rs);
				else
					ret = run_raw(&pc, recs, x, raw_path, rs);
			}
			bench_remove_db(store_path);
			bench_remove_db(raw_path);
			if (ret)
				break;
			rs->ratio = rs->raw_rps ? rs->store_rps / rs->raw_rps : 0;
			fprintf(stderr,
				"  # %s, run %d: store %.0f rows/s (CPU %.2f of wall), raw %.0f rows/s (CPU %.2f), ratio %.3f; "
				"%" PRIu64 " transactions, cache %" PRIu64 " hits %" PRIu64
				" misses, %" PRIu64 " device updates, %" PRIu64
				" queue-full waits\n",
				idx_name[x], r + 1, rs->store_rps, rs->store_cpu, rs->raw_rps,
				rs->raw_cpu, rs->ratio, rs->batches, rs->cache_hits,
				rs->cache_misses, rs->devices_written, rs->queue_full);
		}
	}
	free(recs);
	rmdir(dir);
	if (ret)
		return 1;

	for (int x = 0; x < 2; x++)
		summarize(res[x], p.runs, &sum[x]);
	if (md_only) {
		print_markdown(stdout, &p, sum, load);
		return 0;
	}
	print_text(stdout, &p, sum);
	if (p.md_path) {
		f = fopen(p.md_path, "w");
		if (!f) {
			fprintf(stderr, "sqlite_ingest: %s: %s\n", p.md_path, strerror(errno));
			return 1;
		}
		print_markdown(f, &p, sum, load);
		fclose(f);
	}
	return 0;
}
