// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * bench_prog: nanoseconds per packet of flowmaster's XDP program, measured
 * by the kernel (BPF_PROG_TEST_RUN, opts.duration) side by side in the same
 * run with an empty program and two minimal flow counters (bpf/bench.bpf.c).
 *
 * Hot-flow cases run one crafted frame with a large repeat. Round-robin and
 * new-flow cases cannot do that with one frame, so they run the xdp_rr
 * driver instead: it writes a flow number into the frame's ports and
 * tail-calls the program under test, so one test run with a large repeat
 * gives every packet the next flow. The driver's own cost is in the empty
 * column of those rows (driver + empty program). Each figure is the median
 * of several runs; within a run the programs take turns in slices, and the
 * fm_xdp / min_percpu ratio is taken per run before its median.
 *
 * Usage: bench_prog [--quick] [--markdown[=FILE]] [--cpu N] [-v]
 * Needs root (or CAP_BPF + CAP_NET_ADMIN + CAP_PERFMON). Exit 0 when every
 * case ran (a missed target is reported, not an error), 1 on a runtime
 * error, 2 on a usage error.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <net/if.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "bpf/flowmaster.h" /* the skeleton names its types */
#include "bench.skel.h"
#include "flowmaster.skel.h"
#include "kernel/loader.h"
#include "lib/log.h"
#include "tests/bpf/frames.h"

#define XDP_PASS_RET 2 /* enum xdp_action XDP_PASS */
#define RINGBUF_BYTES (1 << 20)
#define MAX_RUNS 15
#define MAX_THREADS 64

enum prog_id { P_FM, P_EMPTY, P_MIN_PERCPU, P_MIN_SHARED, NR_PROGS };

static const char *const prog_name[NR_PROGS] = { "fm_xdp", "empty", "min_percpu", "min_shared" };

/* Sizes of the cases; --quick shrinks them to a smoke test. */
struct params {
	__u32 runs;	     /* median of this many */
	__u32 repeat;	     /* packets per run: hot and round-robin cases */
	__u32 chunks;	     /* slices of a run the programs take in turn (<= repeat) */
	__u32 rr_small;	     /* flows in the first round-robin case */
	__u32 rr_big;	     /* ... and in the second */
	__u32 new_flows;     /* inserts per all-new-flows run (at most) */
	__u32 max_flows;     /* capacity of the flow maps */
	__u32 new_max_flows; /* ... in the all-new-flows case */
};

static const struct params full_params = {
	.runs = 5,
	.repeat = 1000000,
	.chunks = 4,
	.rr_small = 65536,
	.rr_big = 1000000,
	.new_flows = 100000,
	.max_flows = 1 << 20,
	.new_max_flows = 1 << 18,
};

static const struct params quick_params = {
	.runs = 3,
	.repeat = 50000,
	.chunks = 1,
	.rr_small = 16384,
	.rr_big = 50000,
	.new_flows = 10000,
	.max_flows = 1 << 16,
	.new_max_flows = 1 << 16,
};

static struct params P;
static bool quick;
static __u32 new_flows_used; /* inserts per new-flow run, as run */
static int lo_ifindex;

/* A frame and the offset of the 32-bit field xdp_rr varies (both ports). */
struct frame {
	__u8 buf[128];
	size_t len;
	__u32 vary_off;
};

/* One set of loaded programs: flowmaster (its default clock, jiffies, and
 * optionally one on bpf_ktime_get_coarse_ns to compare) and the bench object. */
struct progs {
	struct loader fm;
	struct loader fm_precise;
	bool have_fm, have_precise;
	struct bench_bpf *b;
	int fd[NR_PROGS];
	__u32 cap;	  /* entries of every flow map */
	int gen_fd;	  /* fm_xdp's generation made by fm_fresh_gen, or -1 */
	__u64 fm_packets; /* frames run through fm_xdp, to check its counters */
	__u64 fm_inserts; /* flows it inserted */
	__u64 fm_flows;	  /* flows its current generation should hold */
	__u64 min_flows;  /* ... and each baseline's map */
	bool ladder;	  /* the ladder's maps get cap entries too */
};

/* One result row: median ns per packet of each program. */
struct row {
	char name[48];
	double ns[NR_PROGS];
	double ratio; /* median over rounds of fm_xdp / min_percpu */
	bool hot;     /* counts towards the hot-flow target */
};

#define MAX_ROWS 16
static struct row rows[MAX_ROWS];
static int nr_rows;

struct clock_row {
	char name[48];
	double coarse, precise; /* medians */
	double diff;		/* median over rounds of precise - coarse */
};

static struct clock_row clock_rows[4];
static int nr_clock_rows;

/*
 * The ladder (bpf/bench.bpf.c): from min_percpu to fm_xdp one extra at a
 * time, each step with the ones before it.
 */
enum { L_EMPTY, L_MIN, L_KEY, L_VAL, L_CNT, L_SLOT, L_OUTER, L_FM, NR_LAD };

static const char *const lad_name[NR_LAD] = {
	"empty", "min_percpu", "lad_key", "lad_val", "lad_cnt", "lad_slot", "lad_outer", "fm_xdp",
};

static const char *const lad_what[NR_LAD] = {
	"XDP_PASS only",
	"40-byte 5-tuple key, 16-byte value",
	"+ flowmaster's map key (48 bytes: ifindex, EtherType, mapped addresses)",
	"+ flowmaster's value (56 bytes: ip_bytes, first/last seen, TCP flags, MACs)",
	"+ per-CPU counters (packets, bytes, map_packets)",
	"+ counters slot from the ifindex (.bss array)",
	"+ flow map through the generation ARRAY_OF_MAPS",
	"+ the full parser, full and doorbell paths: fm_xdp",
};

struct lad_row {
	char name[48];
	double ns[NR_LAD]; /* medians */
	double ratio;	   /* median over runs of fm_xdp / min_percpu */
};

static struct lad_row lad_rows[2];
static int nr_lad_rows;

/* Egress (TC): fm_tc against tc_min_percpu, hot flows. */
struct eg_row {
	char name[48];
	double fm, min, ratio; /* medians; ratio: of the per-run ratios */
};

static struct eg_row eg_rows[2];
static int nr_eg_rows;

static struct timespec t_start;

/* -v: what runs now, and the seconds since start. */
static void phase(const char *what)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	pr_debug("%6.1fs %s\n", t.tv_sec - t_start.tv_sec + (t.tv_nsec - t_start.tv_nsec) / 1e9,
		 what);
}

static void usage(FILE *f)
{
	fprintf(f, "usage: bench_prog [--quick] [--markdown[=FILE]] [--cpu N] [-v]\n"
		   "\n"
		   "ns/packet of fm_xdp against an empty XDP program and minimal per-CPU and\n"
		   "shared hash flow counters, measured with BPF_PROG_TEST_RUN (needs root).\n"
		   "\n"
		   "  --quick            small repeats and flow counts (a smoke test, < 10 s)\n"
		   "  --markdown         print the results as Markdown instead of text\n"
		   "  --markdown=FILE    print text, and write the Markdown section to FILE\n"
		   "  --cpu N            run on CPU N (default: the last online CPU)\n"
		   "  -v                 debug output (-vv: libbpf's too)\n");
}

/* 16384 -> "16k", 1000000 -> "1M", 1048576 -> "2^20", else the number. */
static void fmt_count(char *out, size_t n, __u32 v)
{
	if (v >= 1000000 && v % 1000000 == 0)
		snprintf(out, n, "%uM", v / 1000000);
	else if (v >= 1 << 20 && !(v & (v - 1)))
		snprintf(out, n, "2^%d", __builtin_ctz(v));
	else if (v >= 1024 && v % 1024 == 0)
		snprintf(out, n, "%uk", v / 1024);
	else
		snprintf(out, n, "%u", v);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(double *v, int n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static int pin_cpu(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		return -errno;
	return 0;
}

/*
 * One BPF_PROG_TEST_RUN of repeat packets. Returns 0 and the kernel's
 * average ns per run in *ns, or a negative errno (-EPROTO when the program
 * did not return XDP_PASS, e.g. a failed tail call in xdp_rr).
 */
static int test_run(int prog_fd, const struct frame *f, __u32 repeat, __u32 *ns)
{
	__u8 frame[sizeof(f->buf)];
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frame, .data_size_in = f->len,
		    .repeat = repeat);

	memcpy(frame, f->buf, f->len);
	if (bpf_prog_test_run_opts(prog_fd, &o))
		return -errno;
	if (o.retval != XDP_PASS_RET)
		return -EPROTO;
	*ns = o.duration;
	return 0;
}

/* test_run for a TC program (an skb on loopback); its verdict must be
 * TC_ACT_UNSPEC, as fm_tc returns. */
static int test_run_skb(int prog_fd, const struct frame *f, __u32 repeat, __u32 *ns)
{
	__u8 frame[sizeof(f->buf)];
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frame, .data_size_in = f->len,
		    .repeat = repeat);

	memcpy(frame, f->buf, f->len);
	if (bpf_prog_test_run_opts(prog_fd, &o))
		return -errno;
	if (o.retval != (__u32)-1)
		return -EPROTO;
	*ns = o.duration;
	return 0;
}

static void frame_make(struct frame *f, int family, int nr_vlans)
{
	struct frame_spec s = {
		.src_mac = FRAME_MAC_A,
		.dst_mac = FRAME_MAC_B,
		.nr_vlans = nr_vlans,
		.vlan = { { FRAME_ETH_8021AD, 100, 0 }, { FRAME_ETH_8021Q, 200, 0 } },
		.src4 = FRAME_IP4(0, 1),
		.dst4 = FRAME_IP4(0, 2),
		.src6 = FRAME_IP6(0, 1),
		.dst6 = FRAME_IP6(0, 2),
		/* Distinct ports per frame: the baselines' key has no VLAN. */
		.sport = 1024 + nr_vlans,
		.dport = 5001,
		.pad_to = 60,
	};
	struct frame_offsets off;

	if (family == 6) {
		s.eth_type = FRAME_ETH_IPV6;
		s.l4_proto = FRAME_IP_TCP;
		s.tcp_flags = FRAME_TCP_ACK;
	} else {
		s.eth_type = FRAME_ETH_IP;
		s.l4_proto = FRAME_IP_UDP;
		s.payload_len = 18; /* 60-byte frame untagged */
	}
	f->len = frame_build_off(&s, f->buf, sizeof(f->buf), &off);
	f->vary_off = off.l4; /* source and destination port */
}

/* Entries in a hash map, counted by batch lookups; or a negative errno. */
static long map_count(int fd, int nr_cpus)
{
	struct bpf_map_info info = {};
	__u32 info_len = sizeof(info), batch = 4096, n, in = 0, out;
	void *keys = NULL, *vals = NULL;
	LIBBPF_OPTS(bpf_map_batch_opts, o);
	bool first = true;
	size_t vsize;
	long count = 0;
	int err;

	if (bpf_obj_get_info_by_fd(fd, &info, &info_len))
		return -errno;
	vsize = (info.value_size + 7) / 8 * 8;
	if (info.type == BPF_MAP_TYPE_PERCPU_HASH)
		vsize *= nr_cpus;
	keys = malloc((size_t)info.key_size * batch);
	vals = malloc(vsize * batch);
	if (!keys || !vals) {
		count = -ENOMEM;
		goto out;
	}
	for (;;) {
		n = batch;
		err = bpf_map_lookup_batch(fd, first ? NULL : &in, &out, keys, vals, &n, &o);
		if (err && errno != ENOENT) {
			count = -errno;
			break;
		}
		count += n;
		if (err)
			break;
		in = out;
		first = false;
	}
out:
	free(keys);
	free(vals);
	return count;
}

static int fm_open(struct loader *l, bool precise, __u32 cap)
{
	struct loader_opts o = {
		.max_flows = cap,
		.ringbuf_bytes = RINGBUF_BYTES,
		.clock = precise ? FM_CLOCK_COARSE_NS : FM_CLOCK_JIFFIES,
		/* As the daemon runs it: one interface, the one test runs
		 * report (loopback), so packets land in counter slot 1. */
		.nr_ifaces = 1,
		.ifindex = { lo_ifindex },
	};

	return loader_open(l, &o);
}

static void bench_close(struct progs *p)
{
	bench_bpf__destroy(p->b);
	p->b = NULL;
	p->min_flows = 0;
}

/* Load the baselines and the driver, with flow maps of p->cap entries. */
static int bench_open(struct progs *p)
{
	int err;

	p->b = bench_bpf__open();
	if (!p->b) {
		err = -errno;
		pr_err("opening the bench BPF object: %s\n", strerror(-err));
		return err;
	}
	err = bpf_map__set_max_entries(p->b->maps.min_percpu_flows, p->cap);
	err = err ?: bpf_map__set_max_entries(p->b->maps.min_shared_flows, p->cap);
	/* The ladder's maps only where it runs: each is as big as the others. */
	err = err ?: bpf_map__set_max_entries(p->b->maps.lad_key_flows, p->ladder ? p->cap : 1);
	err = err ?: bpf_map__set_max_entries(p->b->maps.lad_flows, p->ladder ? p->cap : 1);
	err = err ?: bench_bpf__load(p->b);
	if (err) {
		pr_err("loading the bench BPF object: %s\n", strerror(-err));
		bench_close(p);
		return err;
	}
	p->fd[P_EMPTY] = bpf_program__fd(p->b->progs.xdp_empty);
	p->fd[P_MIN_PERCPU] = bpf_program__fd(p->b->progs.xdp_min_percpu);
	p->fd[P_MIN_SHARED] = bpf_program__fd(p->b->progs.xdp_min_shared);
	p->b->bss->lad_ifindex[0] = lo_ifindex;
	return 0;
}

static void progs_close(struct progs *p)
{
	if (p->b)
		bench_close(p);
	if (p->have_fm)
		loader_close(&p->fm);
	if (p->have_precise)
		loader_close(&p->fm_precise);
	if (p->gen_fd >= 0)
		close(p->gen_fd);
	memset(p, 0, sizeof(*p));
	p->gen_fd = -1;
}

/* fm_xdp (and with_precise, a second one on the precise clock) and the
 * bench programs, every flow map with cap entries. */
static int progs_open(struct progs *p, bool with_precise, bool ladder, __u32 cap)
{
	int err;

	memset(p, 0, sizeof(*p));
	p->gen_fd = -1;
	p->cap = cap;
	p->ladder = ladder;
	err = fm_open(&p->fm, false, cap);
	if (err)
		return err;
	p->have_fm = true;
	p->fd[P_FM] = loader_prog_fd(&p->fm);
	if (with_precise) {
		err = fm_open(&p->fm_precise, true, cap);
		if (err)
			goto fail;
		p->have_precise = true;
	}
	err = bench_open(p);
	if (err)
		goto fail;
	return 0;
fail:
	progs_close(p);
	return err;
}

/*
 * Give fm_xdp a freshly created, empty generation in slot 0, as a swap in
 * the daemon would (it reuses the loader's drained maps; this is the
 * never-used case). The update waits for an RCU grace period.
 */
static int fm_fresh_gen(struct progs *p)
{
	__u32 zero = 0;
	int fd, err;

	fd = bpf_map_create(BPF_MAP_TYPE_PERCPU_HASH, "fm_bench_gen", sizeof(struct fm_map_key),
			    sizeof(struct fm_flow_value), p->cap, NULL);
	if (fd < 0)
		return -errno;
	if (bpf_map_update_elem(bpf_map__fd(p->fm.skel->maps.flow_gens), &zero, &fd, BPF_ANY)) {
		err = -errno;
		close(fd);
		return err;
	}
	if (p->gen_fd >= 0)
		close(p->gen_fd);
	p->gen_fd = fd;
	return 0;
}

/*
 * Check that every program counted what it was given: fm_xdp's counters
 * say every frame went into the flow map and none was refused, each map
 * holds the flows we sent, and the baselines never failed an insert.
 */
static int progs_check(struct progs *p, const char *what)
{
	struct fm_counters c;
	long n[3];
	int err;

	phase("  checking counts");
	err = loader_read_counters(&p->fm, 1, &c);
	if (err) {
		pr_err("%s: reading fm_xdp counters: %s\n", what, strerror(-err));
		return err;
	}
	if (c.packets != p->fm_packets || c.map_packets != c.packets || c.map_full ||
	    c.inserts != p->fm_inserts) {
		pr_err("%s: fm_xdp counted %llu packets (%llu into the map, %llu refused, %llu "
		       "flows), expected %llu packets in %llu flows\n",
		       what, (unsigned long long)c.packets, (unsigned long long)c.map_packets,
		       (unsigned long long)c.map_full, (unsigned long long)c.inserts,
		       (unsigned long long)p->fm_packets, (unsigned long long)p->fm_inserts);
		return -EPROTO;
	}
	n[0] = map_count(p->gen_fd >= 0 ? p->gen_fd : p->fm.gen_fd[p->fm.active], p->fm.nr_cpus);
	n[1] = map_count(bpf_map__fd(p->b->maps.min_percpu_flows), p->fm.nr_cpus);
	n[2] = map_count(bpf_map__fd(p->b->maps.min_shared_flows), p->fm.nr_cpus);
	if (p->ladder) /* min_shared sits the ladder out */
		n[2] = (long)p->min_flows;
	if (n[0] != (long)p->fm_flows || n[1] != (long)p->min_flows || n[2] != (long)p->min_flows ||
	    p->b->bss->min_update_fail) {
		pr_err("%s: flow maps hold %ld (fm_xdp), %ld (min_percpu), %ld (min_shared) flows, "
		       "expected %llu, %llu, %llu; %llu failed baseline inserts\n",
		       what, n[0], n[1], n[2], (unsigned long long)p->fm_flows,
		       (unsigned long long)p->min_flows, (unsigned long long)p->min_flows,
		       (unsigned long long)p->b->bss->min_update_fail);
		return -EPROTO;
	}
	return 0;
}

/*
 * Add a row from ns[prog][round]. Programs ran interleaved within each
 * round, so the ratio is taken per round and then the median: that cancels
 * slow drifts of the machine's speed (other load, frequency) that a ratio
 * of medians would keep.
 */
static void row_add(const char *name, bool hot, double ns[NR_PROGS][MAX_RUNS])
{
	struct row *r = &rows[nr_rows++];
	double ratios[MAX_RUNS];

	snprintf(r->name, sizeof(r->name), "%s", name);
	r->hot = hot;
	for (__u32 run = 0; run < P.runs; run++)
		ratios[run] = ns[P_FM][run] / ns[P_MIN_PERCPU][run];
	r->ratio = median(ratios, P.runs);
	for (int i = 0; i < NR_PROGS; i++)
		r->ns[i] = median(ns[i], P.runs);
}

/* Point xdp_rr at a program and at flow number first of nflows (0: no wrap). */
static int rr_set(struct progs *p, int prog_fd, const struct frame *f, __u32 nflows, __u32 first)
{
	__u32 zero = 0;

	p->b->bss->rr_off = f->vary_off;
	p->b->bss->rr_base = (__u32)2048 << 16; /* ports 2048:0, 2048:1, ...: not a hot flow */
	p->b->bss->rr_nflows = nflows;
	p->b->bss->rr_next = first;
	if (bpf_map_update_elem(bpf_map__fd(p->b->maps.rr_target), &zero, &prog_fd, BPF_ANY))
		return -errno;
	return 0;
}

static void rr_clear(struct progs *p)
{
	__u32 zero = 0;

	/* The slot holds a reference to the program and so to its maps. */
	bpf_map_delete_elem(bpf_map__fd(p->b->maps.rr_target), &zero);
}

/*
 * P.runs timed runs of P.repeat packets for each of nr programs, into
 * ns[prog][run]. Each run is cut into P.chunks slices and the programs take
 * turns slice by slice, so that a change in the machine's speed (other
 * load) hits them alike. (Slices are not free: every test run with a
 * repeat count adds the program to the XDP dispatcher and removes it,
 * about 20 ms here, outside the timing.) With nflows, packets go through
 * xdp_rr, each program continuing its round robin where it stopped.
 */
static int timed_runs(struct progs *p, const int *fds, int nr, const struct frame *f, __u32 nflows,
		      double ns[][MAX_RUNS])
{
	__u32 slice = P.repeat / P.chunks, pos[16] = {}, d;
	int rr_fd = bpf_program__fd(p->b->progs.xdp_rr), err;

	for (__u32 run = 0; run < P.runs; run++) {
		for (int i = 0; i < nr; i++)
			ns[i][run] = 0;
		for (__u32 c = 0; c < P.chunks; c++) {
			for (int i = 0; i < nr; i++) {
				if (nflows) {
					err = rr_set(p, fds[i], f, nflows, pos[i]);
					err = err ?: test_run(rr_fd, f, slice, &d);
					pos[i] = (pos[i] + slice) % nflows;
				} else {
					err = test_run(fds[i], f, slice, &d);
				}
				if (err)
					return err;
				ns[i][run] += (double)d / P.chunks;
			}
		}
	}
	return 0;
}

/* Hot flow: one frame, the same flow every packet. */
static int case_hot(struct progs *p, const char *name, const struct frame *f)
{
	double ns[NR_PROGS + 1][MAX_RUNS], diff[MAX_RUNS];
	int fds[NR_PROGS + 1], nr = NR_PROGS;
	__u32 d;
	int err;

	phase(name);
	memcpy(fds, p->fd, sizeof(p->fd));
	if (p->have_precise)
		fds[nr++] = loader_prog_fd(&p->fm_precise);
	/* Warm-up: inserts the flow, warms caches and branch predictors. */
	for (int i = 0; i < nr; i++) {
		err = test_run(fds[i], f, P.repeat / 10, &d);
		if (err)
			goto fail;
	}
	err = timed_runs(p, fds, nr, f, 0, ns);
	if (err)
		goto fail;
	p->fm_packets += P.repeat / 10 + (__u64)P.repeat / P.chunks * P.chunks * P.runs;
	p->fm_inserts++;
	p->fm_flows++;
	p->min_flows++;
	row_add(name, true, ns);
	if (p->have_precise) {
		struct clock_row *c = &clock_rows[nr_clock_rows++];

		for (__u32 run = 0; run < P.runs; run++)
			diff[run] = ns[NR_PROGS][run] - ns[P_FM][run];
		snprintf(c->name, sizeof(c->name), "%s", name);
		c->coarse = rows[nr_rows - 1].ns[P_FM];
		c->precise = median(ns[NR_PROGS], P.runs);
		c->diff = median(diff, P.runs);
	}
	return 0;
fail:
	pr_err("%s: test run: %s\n", name, strerror(-err));
	return err;
}

struct par_arg {
	int cpu, prog_fd;
	const struct frame *f;
	pthread_barrier_t *bar;
	__u32 ns;
	int err;
};

static void *par_thread(void *arg)
{
	struct par_arg *a = arg;

	a->err = pin_cpu(a->cpu);
	pthread_barrier_wait(a->bar);
	if (!a->err)
		a->err = test_run(a->prog_fd, a->f, P.repeat, &a->ns);
	return NULL;
}

/*
 * Hot flow on every online CPU at once (one thread pinned to each): the
 * case where shared values bounce a cache line between CPUs. The figure is
 * the mean of the threads' ns per packet.
 */
static int case_hot_parallel(struct progs *p, const char *name, const struct frame *f,
			     int nr_threads)
{
	double ns[NR_PROGS][MAX_RUNS];
	struct par_arg a[MAX_THREADS];
	pthread_t th[MAX_THREADS];
	pthread_barrier_t bar;
	int err = 0;

	phase(name);
	pthread_barrier_init(&bar, NULL, nr_threads);
	for (__u32 run = 0; run < P.runs && !err; run++) {
		for (int i = 0; i < NR_PROGS && !err; i++) {
			double sum = 0;

			for (int t = 0; t < nr_threads; t++) {
				a[t] = (struct par_arg){
					.cpu = t, .prog_fd = p->fd[i], .f = f, .bar = &bar
				};
				err = -pthread_create(&th[t], NULL, par_thread, &a[t]);
				if (err) {
					nr_threads = t; /* join what started, then stop */
					break;
				}
			}
			for (int t = 0; t < nr_threads; t++) {
				pthread_join(th[t], NULL);
				err = err ?: a[t].err;
				sum += a[t].ns;
			}
			ns[i][run] = sum / nr_threads;
		}
	}
	pthread_barrier_destroy(&bar);
	if (err) {
		pr_err("%s: %s\n", name, strerror(-err));
		return err;
	}
	row_add(name, false, ns);
	p->fm_packets += (__u64)P.repeat * P.runs * nr_threads;
	return 0;
}

/*
 * Round robin over nflows existing flows: one pass of xdp_rr inserts them
 * into each program's map (untimed), then the timed runs send packets each
 * to the next flow in turn.
 */
static int case_rr(struct progs *p, const char *name, const struct frame *f, __u32 nflows)
{
	double ns[NR_PROGS][MAX_RUNS];
	__u32 d;
	int err;

	phase(name);
	for (int i = 0; i < NR_PROGS; i++) {
		err = rr_set(p, p->fd[i], f, nflows, 0);
		err = err ?: test_run(bpf_program__fd(p->b->progs.xdp_rr), f, nflows, &d);
		if (err)
			goto fail;
	}
	phase("  flows inserted");
	err = timed_runs(p, p->fd, NR_PROGS, f, nflows, ns);
	if (err)
		goto fail;
	rr_clear(p);
	row_add(name, false, ns);
	p->fm_packets += nflows + (__u64)P.repeat / P.chunks * P.chunks * P.runs;
	p->fm_inserts += nflows;
	p->fm_flows += nflows;
	p->min_flows += nflows;
	return 0;
fail:
	rr_clear(p);
	pr_err("%s: test run: %s\n", name, strerror(-err));
	return err;
}

/*
 * Every packet a new flow: for each run, fresh maps (for fm_xdp a new
 * generation in slot 0, for the baselines a reload), then nflows packets
 * with distinct ports. The maps hold new_max_flows, so they never fill, and
 * nflows stays within the share of the preallocated free list that belongs
 * to this CPU (the kernel splits it evenly over the possible CPUs), so no
 * insert takes an element from another CPU's list. Creating preallocated
 * per-CPU maps costs about 1.5 us per entry, hence the smaller maps here.
 */
static int case_new(const char *name, const struct frame *f, __u32 nflows)
{
	double ns[NR_PROGS][MAX_RUNS];
	struct progs p;
	__u32 d;
	int err;

	err = progs_open(&p, false, false, P.new_max_flows);
	if (err)
		return err;
	for (__u32 run = 0; run < P.runs; run++) {
		phase(name);
		if (run) {
			bench_close(&p);
			err = bench_open(&p);
			err = err ?: fm_fresh_gen(&p);
			if (err) {
				pr_err("%s: fresh maps: %s\n", name, strerror(-err));
				goto out;
			}
		}
		for (int i = 0; i < NR_PROGS; i++) {
			err = rr_set(&p, p.fd[i], f, 0, 0);
			err = err ?: test_run(bpf_program__fd(p.b->progs.xdp_rr), f, nflows, &d);
			if (err) {
				pr_err("%s: test run: %s\n", name, strerror(-err));
				goto out;
			}
			ns[i][run] = d;
		}
		rr_clear(&p);
		p.fm_packets += nflows;
		p.fm_inserts += nflows;
		p.fm_flows = p.min_flows = nflows;
		err = progs_check(&p, name);
		phase("  checked");
		if (err)
			goto out;
	}
	row_add(name, false, ns);
out:
	if (p.b)
		rr_clear(&p);
	progs_close(&p);
	return err;
}

/*
 * The ladder on one frame: hot (nflows 0) or a round robin over nflows
 * flows (inserted first, untimed). The programs take turns as in the
 * other cases; fm_xdp runs too, so every step is measured in the same run.
 */
static int case_ladder(struct progs *p, const char *name, const struct frame *f, __u32 nflows)
{
	double ns[NR_LAD][MAX_RUNS], ratios[MAX_RUNS];
	struct lad_row *r = &lad_rows[nr_lad_rows];
	int fds[NR_LAD], err;
	__u32 d;

	phase(name);
	fds[L_EMPTY] = p->fd[P_EMPTY];
	fds[L_MIN] = p->fd[P_MIN_PERCPU];
	fds[L_KEY] = bpf_program__fd(p->b->progs.xdp_lad_key);
	fds[L_VAL] = bpf_program__fd(p->b->progs.xdp_lad_val);
	fds[L_CNT] = bpf_program__fd(p->b->progs.xdp_lad_cnt);
	fds[L_SLOT] = bpf_program__fd(p->b->progs.xdp_lad_slot);
	fds[L_OUTER] = bpf_program__fd(p->b->progs.xdp_lad_outer);
	fds[L_FM] = p->fd[P_FM];
	/* Warm-up, or the round robin's inserts. */
	for (int i = 0; i < NR_LAD; i++) {
		if (nflows) {
			err = rr_set(p, fds[i], f, nflows, 0);
			err = err ?: test_run(bpf_program__fd(p->b->progs.xdp_rr), f, nflows, &d);
		} else {
			err = test_run(fds[i], f, P.repeat / 10, &d);
		}
		if (err)
			goto fail;
	}
	err = timed_runs(p, fds, NR_LAD, f, nflows, ns);
	if (nflows)
		rr_clear(p);
	if (err)
		goto fail;
	p->fm_packets += (nflows ?: P.repeat / 10) + (__u64)P.repeat / P.chunks * P.chunks * P.runs;
	p->fm_inserts += nflows ?: 1;
	p->fm_flows += nflows ?: 1;
	p->min_flows += nflows ?: 1;
	snprintf(r->name, sizeof(r->name), "%s", name);
	for (__u32 run = 0; run < P.runs; run++)
		ratios[run] = ns[L_FM][run] / ns[L_MIN][run];
	r->ratio = median(ratios, P.runs);
	for (int i = 0; i < NR_LAD; i++)
		r->ns[i] = median(ns[i], P.runs);
	nr_lad_rows++;
	return 0;
fail:
	pr_err("%s: test run: %s\n", name, strerror(-err));
	return err;
}

/*
 * Egress hot flow: fm_tc and tc_min_percpu on one frame, taking turns
 * slice by slice as the XDP cases do. Checks that fm_tc counted every
 * packet into its flow map (egress counters of slot 1).
 */
static int case_egress(struct progs *p, const char *name, const struct frame *f)
{
	int fds[2] = { loader_tc_prog_fd(&p->fm), bpf_program__fd(p->b->progs.tc_min_percpu) };
	double ns[2][MAX_RUNS], ratios[MAX_RUNS];
	struct eg_row *r = &eg_rows[nr_eg_rows];
	__u32 slice = P.repeat / P.chunks, d;
	struct fm_counters c0, c;
	int err;

	phase(name);
	err = loader_read_counters_dir(&p->fm, 1, FM_DIR_EGRESS, &c0);
	for (int i = 0; i < 2 && !err; i++)
		err = test_run_skb(fds[i], f, P.repeat / 10, &d);
	for (__u32 run = 0; run < P.runs && !err; run++) {
		ns[0][run] = ns[1][run] = 0;
		for (__u32 ch = 0; ch < P.chunks && !err; ch++)
			for (int i = 0; i < 2 && !err; i++) {
				err = test_run_skb(fds[i], f, slice, &d);
				ns[i][run] += (double)d / P.chunks;
			}
		ratios[run] = ns[0][run] / ns[1][run];
	}
	err = err ?: loader_read_counters_dir(&p->fm, 1, FM_DIR_EGRESS, &c);
	if (err) {
		pr_err("%s: %s\n", name, strerror(-err));
		return err;
	}
	if (c.packets - c0.packets != P.repeat / 10 + (__u64)slice * P.chunks * P.runs ||
	    c.map_packets - c0.map_packets != c.packets - c0.packets) {
		pr_err("%s: fm_tc counted %llu packets, %llu into its map\n", name,
		       (unsigned long long)(c.packets - c0.packets),
		       (unsigned long long)(c.map_packets - c0.map_packets));
		return -EPROTO;
	}
	snprintf(r->name, sizeof(r->name), "%s", name);
	r->ratio = median(ratios, P.runs);
	r->fm = median(ns[0], P.runs);
	r->min = median(ns[1], P.runs);
	nr_eg_rows++;
	return 0;
}

#define TARGET_RATIO 1.15

static void machine(char *out, size_t n)
{
	char line[256], model[128] = "unknown CPU";
	FILE *f = fopen("/proc/cpuinfo", "r");
	struct utsname u;

	while (f && fgets(line, sizeof(line), f)) {
		char *v = strchr(line, ':');

		if (strncmp(line, "model name", 10) || !v)
			continue;
		snprintf(model, sizeof(model), "%s", v + 2);
		model[strcspn(model, "\n")] = 0;
		break;
	}
	if (f)
		fclose(f);
	uname(&u);
	snprintf(out, n, "%s, %ld CPUs, kernel %s", model, sysconf(_SC_NPROCESSORS_ONLN),
		 u.release);
}

/* Worst hot-flow ratio and the case it comes from. */
static const struct row *worst_hot(void)
{
	const struct row *w = NULL;

	for (int i = 0; i < nr_rows; i++)
		if (rows[i].hot && (!w || rows[i].ratio > w->ratio))
			w = &rows[i];
	return w;
}

/* The ladder as a table: a row per step, per case its ns and the step's cost. */
static void print_ladder(FILE *o, bool md)
{
	if (!nr_lad_rows)
		return;
	if (md) {
		fprintf(o, "\n| step | adds |");
		for (int c = 0; c < nr_lad_rows; c++)
			fprintf(o, " %s | step |", lad_rows[c].name);
		fprintf(o, "\n| --- | --- |");
		for (int c = 0; c < nr_lad_rows; c++)
			fprintf(o, " ---: | ---: |");
		fprintf(o, "\n");
	} else {
		fprintf(o, "\nladder, ns/packet (step: over the row above)\n%-12s", "step");
		for (int c = 0; c < nr_lad_rows; c++)
			fprintf(o, " %28.28s %6s", lad_rows[c].name, "step");
		fprintf(o, "\n");
	}
	for (int i = 0; i < NR_LAD; i++) {
		if (md)
			fprintf(o, "| %s | %s |", lad_name[i], lad_what[i]);
		else
			fprintf(o, "%-12s", lad_name[i]);
		for (int c = 0; c < nr_lad_rows; c++) {
			const struct lad_row *r = &lad_rows[c];
			double step = i ? r->ns[i] - r->ns[i - 1] : 0;

			if (md)
				fprintf(o, " %.0f | %+.0f |", r->ns[i], step);
			else
				fprintf(o, " %28.0f %+6.0f", r->ns[i], step);
		}
		fprintf(o, "\n");
	}
	if (md) {
		fprintf(o, "| fm_xdp / min_percpu | median of the per-run ratios |");
		for (int c = 0; c < nr_lad_rows; c++)
			fprintf(o, " %.2f | |", lad_rows[c].ratio);
		fprintf(o, "\n");
	} else {
		fprintf(o, "%-12s", "fm/min");
		for (int c = 0; c < nr_lad_rows; c++)
			fprintf(o, " %27.2fx %6s", lad_rows[c].ratio, "");
		fprintf(o, "\n");
	}
}

/* Worst egress ratio. */
static const struct eg_row *worst_eg(void)
{
	const struct eg_row *w = NULL;

	for (int i = 0; i < nr_eg_rows; i++)
		if (!w || eg_rows[i].ratio > w->ratio)
			w = &eg_rows[i];
	return w;
}

static void print_egress(FILE *o, bool md)
{
	const struct eg_row *w = worst_eg();

	if (!w)
		return;
	if (md) {
		fprintf(o, "\n| egress (TC) | fm_tc | tc_min_percpu | fm_tc / tc_min_percpu |\n");
		fprintf(o, "| --- | ---: | ---: | ---: |\n");
	} else {
		fprintf(o, "\n%-34s %8s %13s %9s\n", "egress (TC)", "fm_tc", "tc_min_percpu",
			"fm/min");
	}
	for (int i = 0; i < nr_eg_rows; i++) {
		const struct eg_row *r = &eg_rows[i];

		if (md)
			fprintf(o, "| %s | %.0f | %.0f | %.2f |\n", r->name, r->fm, r->min,
				r->ratio);
		else
			fprintf(o, "%-34s %8.0f %13.0f %8.2fx\n", r->name, r->fm, r->min, r->ratio);
	}
	fprintf(o,
		"\n%sTarget%s: egress hot flow fm_tc <= %.2fx tc_min_percpu: worst %.2fx (%s): %s%s%s\n",
		md ? "**" : "", md ? "**" : "", TARGET_RATIO, w->ratio, w->name, md ? "**" : "",
		w->ratio <= TARGET_RATIO ? "PASS" : "MISS", md ? "**" : "");
}

static void print_text(FILE *o, int cpu)
{
	const struct row *w = worst_hot();
	char m[256];

	machine(m, sizeof(m));
	fprintf(o, "XDP program cost, ns/packet (BPF_PROG_TEST_RUN duration; median of %u runs)\n",
		P.runs);
	fprintf(o, "%s; pinned to CPU %d\n\n", m, cpu);
	fprintf(o, "%-34s %8s %8s %11s %11s %9s\n", "case", prog_name[P_FM], prog_name[P_EMPTY],
		prog_name[P_MIN_PERCPU], prog_name[P_MIN_SHARED], "fm/min");
	for (int i = 0; i < nr_rows; i++) {
		const struct row *r = &rows[i];

		fprintf(o, "%-34s %8.0f %8.0f %11.0f %11.0f %8.2fx\n", r->name, r->ns[P_FM],
			r->ns[P_EMPTY], r->ns[P_MIN_PERCPU], r->ns[P_MIN_SHARED], r->ratio);
	}
	fprintf(o, "(* through the round-robin driver: its cost is in every column, see empty)\n");
	if (w)
		fprintf(o, "\ntarget: hot flow fm_xdp <= %.2fx min_percpu: worst %.2fx (%s): %s\n",
			TARGET_RATIO, w->ratio, w->name,
			w->ratio <= TARGET_RATIO ? "PASS" : "MISS");
	if (nr_clock_rows) {
		fprintf(o, "\n%-34s %8s %8s %11s\n", "fm_xdp clock", "jiffies", "coarse_ns",
			"difference");
		for (int i = 0; i < nr_clock_rows; i++)
			fprintf(o, "%-34s %8.0f %8.0f %+11.0f\n", clock_rows[i].name,
				clock_rows[i].coarse, clock_rows[i].precise, clock_rows[i].diff);
	}
	print_ladder(o, false);
	print_egress(o, false);
}

static void print_markdown(FILE *o, int cpu)
{
	const struct row *w = worst_hot();
	char m[256], rep[16], cap[16], new_cap[16];

	machine(m, sizeof(m));
	fmt_count(rep, sizeof(rep), P.repeat);
	fmt_count(cap, sizeof(cap), P.max_flows);
	fmt_count(new_cap, sizeof(new_cap), P.new_max_flows);
	fprintf(o, "### XDP program cost (BPF_PROG_TEST_RUN)\n\n");
	fprintf(o,
		"%s. `build/bench/bench_prog%s`, pinned to CPU %d. Nanoseconds per packet as "
		"the kernel measures them (`opts.duration`), median of %u runs; within a run "
		"the programs take turns%s, and the ratio is the median of the per-run "
		"ratios.\n\n",
		m, quick ? " --quick" : "", cpu, P.runs, P.chunks > 1 ? " slice by slice" : "");
	fprintf(o, "| case | fm_xdp | empty | min_percpu | min_shared | fm_xdp / min_percpu |\n");
	fprintf(o, "| --- | ---: | ---: | ---: | ---: | ---: |\n");
	for (int i = 0; i < nr_rows; i++) {
		const struct row *r = &rows[i];

		fprintf(o, "| %s | %.0f | %.0f | %.0f | %.0f | %.2f |\n", r->name, r->ns[P_FM],
			r->ns[P_EMPTY], r->ns[P_MIN_PERCPU], r->ns[P_MIN_SHARED], r->ratio);
	}
	if (w)
		fprintf(o,
			"\n**Target**: hot flow fm_xdp <= %.2fx min_percpu: worst %.2fx (%s): "
			"**%s**\n",
			TARGET_RATIO, w->ratio, w->name,
			w->ratio <= TARGET_RATIO ? "PASS" : "MISS");
	if (nr_clock_rows) {
		fprintf(o,
			"\n| fm_xdp, ns/packet | jiffies (default) | coarse ns clock | coarse ns - "
			"jiffies |\n");
		fprintf(o, "| --- | ---: | ---: | ---: |\n");
		for (int i = 0; i < nr_clock_rows; i++)
			fprintf(o, "| %s | %.0f | %.0f | %+.0f |\n", clock_rows[i].name,
				clock_rows[i].coarse, clock_rows[i].precise, clock_rows[i].diff);
	}
	if (nr_lad_rows)
		fprintf(o,
			"\nThe ladder from min_percpu to fm_xdp, one of fm_xdp's extras added per "
			"step (`bpf/bench.bpf.c`, `xdp_lad_*`; each step keeps the ones above "
			"it), in maps of %s entries, every program in the same runs; *step* is "
			"the row's cost over the row above. (fm_xdp reads its control map only "
			"when it inserts a flow, so no step adds it.)\n",
			cap);
	print_ladder(o, true);
	print_egress(o, true);
	if (nr_eg_rows)
		fprintf(o,
			"\n*tc_min_percpu* is min_percpu at the TC hook (`bpf/bench.bpf.c`); "
			"both egress programs run on an skb of the hot-flow frame (test runs put "
			"it on loopback, fm_tc's interface here).\n");
	fprintf(o,
		"\n- *empty* returns XDP_PASS: the cost of the test loop itself. *min_percpu* is "
		"the least a flow counter does: Ethernet and VLAN tags, an IPv4/IPv6 5-tuple key "
		"(40 bytes), one lookup in a preallocated per-CPU hash, an insert on a miss, "
		"packets and bytes added. *min_shared* is the same with a plain hash and atomic "
		"adds (`bpf/bench.bpf.c`).\n"
		"- *fm_xdp* runs as the daemon loads it: one interface, generations of %s "
		"entries, the jiffies clock unless the clock table says otherwise.\n"
		"- Hot-flow rows send one frame (60-byte IPv4 UDP, 74-byte IPv6 TCP, 68-byte "
		"802.1ad + 802.1Q IPv4 UDP) %s times per run; its flow exists before timing. "
		"The CPUs-at-once row does that on every CPU simultaneously (mean of the CPUs): "
		"shared values then move between the CPUs' caches, per-CPU ones do not (how much "
		"that costs depends on the CPUs really running at once; virtual CPUs may not).\n"
		"- Rows marked * need a different flow per packet, which one frame with a repeat "
		"count cannot give. A driver program (`xdp_rr`) writes the next flow's ports into "
		"the frame and tail-calls the program under test, so one test run walks the flows "
		"back to back, as packets of a NAPI batch arrive, and the kernel times the whole "
		"walk. The driver's cost is in every column: *empty* there is driver + empty "
		"program.\n"
		"- Round-robin rows insert their flows first (untimed), then time %s packets per "
		"run, each the next flow in turn, in maps of %s entries. New-flow rows time %u "
		"inserts per run, each run into fresh maps of %s entries (for fm_xdp a new "
		"generation in slot 0, as a swap gives it), which never fill.\n"
		"- On a shared or virtual machine the absolute figures move by 10-20%% between "
		"runs; the ratios, taken within each run, move much less.\n",
		cap, rep, rep, cap, new_flows_used, new_cap);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "quick", no_argument, NULL, 'q' },
		{ "markdown", optional_argument, NULL, 'm' },
		{ "cpu", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int cpu = sysconf(_SC_NPROCESSORS_ONLN) - 1, nr_cpus = cpu + 1, opt, err;
	const char *md_path = NULL;
	bool md_stdout = false;
	struct frame v4, v6, qinq;
	struct progs p = {};
	char label[48], n[16];
	char *end;

	clock_gettime(CLOCK_MONOTONIC, &t_start);
	P = full_params;
	while ((opt = getopt_long(argc, argv, "vh", longopts, NULL)) != -1) {
		switch (opt) {
		case 'q':
			P = quick_params;
			quick = true;
			break;
		case 'm':
			if (optarg)
				md_path = optarg;
			else
				md_stdout = true;
			break;
		case 'c':
			errno = 0;
			cpu = strtol(optarg, &end, 10);
			if (errno || *end || cpu < 0 || cpu >= nr_cpus) {
				fprintf(stderr, "bench_prog: --cpu %s: not an online CPU (0-%d)\n",
					optarg, nr_cpus - 1);
				return 2;
			}
			break;
		case 'v':
			fm_log_level++;
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
		usage(stderr);
		return 2;
	}
	fm_log_setup_libbpf();
	if (geteuid() != 0)
		pr_warn("not root: BPF_PROG_TEST_RUN needs root or CAP_BPF, CAP_NET_ADMIN and "
			"CAP_PERFMON\n");
	lo_ifindex = if_nametoindex("lo");
	err = pin_cpu(cpu);
	if (err) {
		pr_err("pinning to CPU %d: %s\n", cpu, strerror(-err));
		return 1;
	}
	frame_make(&v4, 4, 0);
	frame_make(&v6, 6, 0);
	frame_make(&qinq, 4, 2);
	if (!v4.len || !v6.len || !qinq.len) {
		pr_err("building test frames failed\n");
		return 1;
	}

	/* Hot flows and the smaller round robin share one set of maps. */
	phase("loading");
	err = progs_open(&p, true, false, P.max_flows);
	if (err)
		return 1;
	err = case_hot(&p, "hot flow, IPv4 UDP", &v4);
	err = err ?: case_hot(&p, "hot flow, IPv6 TCP", &v6);
	err = err ?: case_hot(&p, "hot flow, 2 VLAN tags, IPv4 UDP", &qinq);
	if (!err && nr_cpus > 1) {
		snprintf(label, sizeof(label), "hot flow, IPv4 UDP, %d CPUs at once",
			 nr_cpus < MAX_THREADS ? nr_cpus : MAX_THREADS);
		err = case_hot_parallel(&p, label, &v4,
					nr_cpus < MAX_THREADS ? nr_cpus : MAX_THREADS);
	}
	fmt_count(n, sizeof(n), P.rr_small);
	snprintf(label, sizeof(label), "round robin, %s flows *", n);
	err = err ?: case_rr(&p, label, &v4, P.rr_small);
	err = err ?: progs_check(&p, "hot and round-robin cases");
	progs_close(&p);
	if (err)
		return 1;

	/* The big round robin gets maps of its own. */
	phase("loading");
	err = progs_open(&p, false, false, P.max_flows);
	if (err)
		return 1;
	fmt_count(n, sizeof(n), P.rr_big);
	snprintf(label, sizeof(label), "round robin, %s flows *", n);
	err = case_rr(&p, label, &v4, P.rr_big);
	err = err ?: progs_check(&p, label);
	progs_close(&p);
	if (err)
		return 1;

	/* The ladder gets maps of its own. */
	phase("loading");
	err = progs_open(&p, false, true, P.max_flows);
	if (err)
		return 1;
	err = case_ladder(&p, "hot flow, IPv4 UDP", &v4, 0);
	fmt_count(n, sizeof(n), P.rr_small);
	snprintf(label, sizeof(label), "round robin, %s flows *", n);
	err = err ?: case_ladder(&p, label, &v4, P.rr_small);
	err = err ?: progs_check(&p, "ladder");
	progs_close(&p);
	if (err)
		return 1;

	/* Egress: fm_tc against the same minimal counter at the TC hook. */
	phase("loading");
	err = progs_open(&p, false, false, P.max_flows);
	if (err)
		return 1;
	err = case_egress(&p, "egress hot flow, IPv4 UDP", &v4);
	err = err ?: case_egress(&p, "egress hot flow, IPv6 TCP", &v6);
	progs_close(&p);
	if (err)
		return 1;

	new_flows_used = P.new_max_flows / libbpf_num_possible_cpus();
	if (new_flows_used > P.new_flows)
		new_flows_used = P.new_flows;
	if (case_new("new flow every packet *", &v4, new_flows_used))
		return 1;
	phase("done");

	if (md_stdout) {
		print_markdown(stdout, cpu);
	} else {
		print_text(stdout, cpu);
		if (md_path) {
			FILE *f = fopen(md_path, "w");

			if (!f) {
				pr_err("%s: %s\n", md_path, strerror(errno));
				return 1;
			}
			print_markdown(f, cpu);
			if (fclose(f)) {
				pr_err("%s: %s\n", md_path, strerror(errno));
				return 1;
			}
		}
	}
	return 0;
}
