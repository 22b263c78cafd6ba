// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The drain against the real program: packets run through BPF_PROG_TEST_RUN
 * land in a generation, the ring buffer and the overflow counters; the
 * drain moves them out while the flow table and the sinks refuse some of
 * them, and every packet the kernel counted must come out somewhere: in the
 * table, in a record exported at once, or in an unattributed (overflow)
 * record. Also the doorbell's re-arm against a program running on another
 * CPU. Needs root (BPF); each test loads its own program.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "tests/testlib.h"
#include "bpf/flowmaster.h"
#include "flowmaster.skel.h"
#include "kernel/drain.h"
#include "kernel/loader.h"
#include "table/flowtab.h"
#include "bpftest.h"
#include "frames.h"

/* What reached an emit callback, by end reason; refuses after `budget` records. */
struct sink_tally {
	long budget; /* records still accepted; < 0: unlimited */
	uint64_t records, refused;
	uint64_t packets[FM_END__MAX], bytes[FM_END__MAX];
};

static int tally_emit(const struct fm_record *r, void *ctx)
{
	struct sink_tally *t = ctx;

	if (!t->budget) {
		t->refused++;
		return -EAGAIN;
	}
	if (t->budget > 0)
		t->budget--;
	t->records++;
	t->packets[r->end_reason] += r->packets;
	t->bytes[r->end_reason] += r->bytes;
	return 0;
}

static uint64_t tally_packets(const struct sink_tally *t)
{
	uint64_t n = 0;

	for (int i = 0; i < FM_END__MAX; i++)
		n += t->packets[i];
	return n;
}

static uint64_t tally_bytes(const struct sink_tally *t)
{
	uint64_t n = 0;

	for (int i = 0; i < FM_END__MAX; i++)
		n += t->bytes[i];
	return n;
}

/* Send flows sport0.. sport0 + n - 1, one packet each; false on a failure. */
static bool send_flows(struct loader *l, uint16_t sport0, int n, size_t *len)
{
	for (int i = 0; i < n; i++)
		if (!bpftest_send_udp(l, (uint16_t)(sport0 + i), len))
			return false;
	return true;
}

/*
 * Everything out of the kernel and the table into t (accepting all now),
 * then check that t holds exactly what the kernel counted.
 */
static void check_reconciles(struct loader *l, struct drain *d, struct sink_tally *t,
			     const char *what)
{
	struct fm_counters c;
	long n;

	t->budget = -1;
	n = drain_unattributed(d, 1, tally_emit, t);
	EXPECT_TRUE(n >= 0, "drain_unattributed");
	n = flowtab_flush(d->ft, FM_END_SHUTDOWN, tally_emit, t);
	EXPECT_TRUE(n >= 0, "flowtab_flush");
	ASSERT_EQ(loader_read_counters(l, 0, &c), 0, "loader_read_counters");
	printf("# %s: kernel %llu packets; out: table %llu, exported at once %llu, unattributed %llu\n",
	       what, (unsigned long long)c.packets, (unsigned long long)t->packets[FM_END_SHUTDOWN],
	       (unsigned long long)t->packets[FM_END_PRESSURE],
	       (unsigned long long)t->packets[FM_END_OVERFLOW]);
	EXPECT_EQ(tally_packets(t), c.packets, what);
	EXPECT_EQ(tally_bytes(t), c.bytes, what);
}

/*
 * Defect 1 (issue 11): libbpf consumes a ring record before it calls back,
 * so a record the callback refused was lost. 64 flows fill the map, 300
 * more become ring records; the table takes 50 of them, the sink 60 as
 * records of their own, the rest must be kept as unattributed counts.
 */
TEST(ring_records_refused_by_table_are_kept)
{
	struct loader_opts o = { .max_flows = 64, .ringbuf_bytes = 64 * 1024 };
	struct sink_tally t = { .budget = 60 };
	struct loader l;
	struct drain d;
	struct flowtab *ft;
	size_t len;
	long n;

	NEED_ROOT();
	if (bpftest_open(&l, &o))
		return;
	ft = flowtab_new(64);
	ASSERT_TRUE(ft && !drain_init(&d, &l, ft), "flowtab_new, drain_init");
	flowtab_set_limit(ft, 50);
	d.emit = tally_emit;
	d.emit_ctx = &t;
	if (!send_flows(&l, 10000, 64 + 300, &len))
		goto out;
	n = drain_ring(&d);
	EXPECT_EQ(n, 300, "ring records read");
	EXPECT_EQ(flowtab_count(ft), 50, "flows the table took");
	EXPECT_EQ(d.table_refused, 250, "deltas the table refused");
	EXPECT_EQ(d.direct_records, 60, "exported at once");
	EXPECT_EQ(d.folded_packets, 190, "folded");
	/* The generation too, with the table full and the sink refusing. */
	n = drain_generation(&d, loader_swap(&l));
	EXPECT_EQ(n, 64, "entries of the generation");
	EXPECT_EQ(d.folded_packets, 190 + 64, "folded from the generation");
	check_reconciles(&l, &d, &t, "ring and generation, table at its limit");
	EXPECT_EQ(t.packets[FM_END_OVERFLOW], 190 + 64, "unattributed packets");
out:
	drain_free(&d);
	flowtab_free(ft);
	loader_close(&l);
}

/* The VM size now, in bytes, from /proc/self/status. */
static unsigned long long vm_size(void)
{
	unsigned long long kb = 0;
	char line[128];
	FILE *f = fopen("/proc/self/status", "r");

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "VmSize: %llu kB", &kb) == 1)
			break;
	if (f)
		fclose(f);
	return kb * 1024;
}

/*
 * The same with a real allocation failure: the address space is capped
 * just above what the process uses, so the flow table's first slab (1.3
 * MiB) cannot be allocated and every merge fails with -ENOMEM. ASan needs
 * terabytes of address space, so not under it.
 */
TEST(ring_records_kept_when_allocation_fails)
{
	struct loader_opts o = { .max_flows = 64, .ringbuf_bytes = 64 * 1024 };
	struct sink_tally t = { .budget = 0 };
	struct rlimit old, cap;
	struct loader l;
	struct drain d;
	struct flowtab *ft;
	size_t len;
	long n;

#if defined(__SANITIZE_ADDRESS__)
	SKIP("an address-space limit and ASan do not mix");
#endif
	NEED_ROOT();
	if (bpftest_open(&l, &o))
		return;
	ft = flowtab_new(16);
	ASSERT_TRUE(ft && !drain_init(&d, &l, ft), "flowtab_new, drain_init");
	d.emit = tally_emit;
	d.emit_ctx = &t;
	if (!send_flows(&l, 20000, 64 + 100, &len))
		goto out;
	getrlimit(RLIMIT_AS, &old);
	cap = old;
	cap.rlim_cur = vm_size() + (512 << 10);
	ASSERT_EQ(setrlimit(RLIMIT_AS, &cap), 0, "setrlimit(RLIMIT_AS)");
	n = drain_ring(&d);
	setrlimit(RLIMIT_AS, &old);
	EXPECT_EQ(n, 100, "ring records read");
	EXPECT_EQ(flowtab_count(ft), 0, "no flow could be allocated");
	EXPECT_EQ(d.table_refused, 100, "every merge failed");
	EXPECT_EQ(d.folded_packets, 100, "all folded (the sink refused too)");
	n = drain_generation(&d, loader_swap(&l));
	EXPECT_EQ(n, 64, "entries of the generation, with memory back");
	check_reconciles(&l, &d, &t, "ring drained without memory");
out:
	drain_free(&d);
	flowtab_free(ft);
	loader_close(&l);
}

/*
 * Defect 2: one entry the table refused ended the drain of a batch whose
 * entries were already deleted from the kernel. 2,000 flows in a
 * generation; the table takes 500, the sink 700; the other 800 are kept.
 */
TEST(generation_entries_refused_are_kept)
{
	struct loader_opts o = { .max_flows = 4096, .ringbuf_bytes = 64 * 1024 };
	struct sink_tally t = { .budget = 700 };
	struct loader l;
	struct drain d;
	struct flowtab *ft;
	size_t len;
	long n;

	NEED_ROOT();
	if (bpftest_open(&l, &o))
		return;
	ft = flowtab_new(512);
	ASSERT_TRUE(ft && !drain_init(&d, &l, ft), "flowtab_new, drain_init");
	/* Small batches, so that refusals span several of them. */
	d.batch = 256;
	flowtab_set_limit(ft, 500);
	d.emit = tally_emit;
	d.emit_ctx = &t;
	if (!send_flows(&l, 1000, 2000, &len) || !send_flows(&l, 1000, 2000, &len))
		goto out;
	n = drain_generation(&d, loader_swap(&l));
	EXPECT_EQ(n, 2000, "entries drained");
	EXPECT_EQ(flowtab_count(ft), 500, "flows in the table");
	EXPECT_EQ(d.direct_records, 700, "exported at once");
	EXPECT_EQ(d.folded_packets, 800 * 2, "folded packets (2 per flow)");
	check_reconciles(&l, &d, &t, "generation, table and sink refusing");
	EXPECT_EQ(t.packets[FM_END_PRESSURE], 700 * 2, "packets exported at once");
	EXPECT_EQ(t.packets[FM_END_OVERFLOW], 800 * 2, "packets unattributed");
	EXPECT_EQ(t.packets[FM_END_SHUTDOWN], 500 * 2, "packets from the table");
out:
	drain_free(&d);
	flowtab_free(ft);
	loader_close(&l);
}

struct inserter {
	struct loader *l;
	volatile bool stop;
	int sent;
};

static void *insert_flows(void *arg)
{
	struct inserter *in = arg;

	/* New flows only: every packet is an insert, counted with an
	 * atomic add next to doorbell_at. */
	for (int i = 0; i < 60000 && !in->stop; i++) {
		if (!bpftest_send_udp(in->l, (uint16_t)(i + 1), NULL))
			break;
		in->sent++;
	}
	return NULL;
}

/*
 * Defect 3: the re-arm read the whole control struct and wrote it back,
 * so inserts the program counted in between went missing and the counter
 * went backwards. With the program inserting on another thread (the other
 * CPU), re-arm in a loop: the counter, read by syscall, never decreases,
 * and ends equal to the inserts the per-CPU counters saw.
 */
TEST(doorbell_rearm_keeps_inserts)
{
	struct loader_opts o = { .max_flows = 65536,
				 .ringbuf_bytes = 64 * 1024,
				 .doorbell_pct = 50,
				 .doorbell_every = 4096 };
	struct inserter in = { 0 };
	struct fm_counters c;
	struct fm_ctl ctl;
	struct loader l;
	pthread_t th;
	__u64 last = 0;
	__u32 zero = 0;
	long decreases = 0, rearms = 0;

	NEED_ROOT();
	if (bpftest_open(&l, &o))
		return;
	in.l = &l;
	ASSERT_EQ(pthread_create(&th, NULL, insert_flows, &in), 0, "pthread_create");
	while (!in.stop && in.sent < 60000) {
		if (loader_rearm_doorbell(&l))
			break;
		rearms++;
		if (bpf_map_lookup_elem(bpf_map__fd(l.skel->maps.ctl), &zero, &ctl))
			break;
		if (ctl.inserts < last)
			decreases++;
		last = ctl.inserts;
		if (rearms > 2000000)
			break;
		/* Stop when the inserter is done. */
		if (pthread_tryjoin_np(th, NULL) == 0) {
			in.stop = true;
			th = 0;
		}
	}
	in.stop = true;
	if (th)
		pthread_join(th, NULL);
	ASSERT_EQ(loader_read_counters(&l, 0, &c), 0, "loader_read_counters");
	ASSERT_EQ(bpf_map_lookup_elem(bpf_map__fd(l.skel->maps.ctl), &zero, &ctl), 0, "read ctl");
	printf("# %ld re-arms while %d flows were inserted\n", rearms, in.sent);
	EXPECT_TRUE(rearms > 1000, "re-armed many times during the inserts");
	EXPECT_EQ(decreases, 0, "times the inserts counter went backwards");
	EXPECT_EQ(ctl.inserts, c.inserts, "ctl.inserts == inserts counted per CPU");
	EXPECT_EQ(c.inserts, in.sent, "one insert per new flow sent");
	loader_close(&l);
}

TESTLIB_MAIN("drain")
