// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <net/if.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "bpf/flowmaster.h" /* the skeleton names its types */
#include "flowmaster.skel.h"
#include "kernel/attach.h"
#include "kernel/loader.h"
#include "lib/log.h"

static int measure_hz(struct loader *l);

static void explain_load_error(int err)
{
	if (err == -EPERM || err == -EACCES)
		pr_err("loading the XDP program was refused: needs root or CAP_BPF, CAP_NET_ADMIN and CAP_PERFMON\n");
	else if (err == -ENOENT || err == -ESRCH)
		pr_err("loading the XDP program failed (%s): the kernel needs BTF (/sys/kernel/btf/vmlinux) and kernel >= 5.12\n",
		       strerror(-err));
	else
		pr_err("loading the XDP program failed: %s (run with -v for the verifier log)\n",
		       strerror(-err));
}

int loader_open(struct loader *l, const struct loader_opts *o)
{
	struct flowmaster_bpf *skel;
	int err, i, tmpl_fd = -1;

	memset(l, 0, sizeof(*l));
	l->gen_fd[0] = l->gen_fd[1] = -1;
	l->nr_cpus = libbpf_num_possible_cpus();
	if (l->nr_cpus < 0)
		return l->nr_cpus;
	if (o->nr_ifaces > FM_MAX_IFACES)
		return -E2BIG;
	/* The program tests "every N inserts" with a mask. */
	if (o->doorbell_every & (o->doorbell_every - 1))
		return -EINVAL;

	skel = flowmaster_bpf__open();
	if (!skel) {
		err = -errno;
		pr_err("opening the BPF object: %s\n", strerror(-err));
		return err;
	}
	err = bpf_map__set_max_entries(skel->maps.flows_a, o->max_flows);
	err = err ?: bpf_map__set_max_entries(skel->maps.flows_b, o->max_flows);
	err = err ?: bpf_map__set_max_entries(skel->maps.events, o->ringbuf_bytes);
	/* flow_gens' inner-map template is libbpf's, made from struct
	 * flow_gen with its BTF: 6.1 also compares the template's BTF-derived
	 * fields (timer_off: -EINVAL without BTF, -ENOENT with) and refused a
	 * BTF-less template made here with EINVAL (make test-kernel). */
	if (err) {
		pr_err("sizing BPF maps: %s\n", strerror(-err));
		goto cleanup;
	}
	skel->rodata->cfg_nr_ifaces = o->nr_ifaces;
	for (i = 0; i < o->nr_ifaces; i++)
		skel->bss->cfg_ifindex[i] = (__u32)o->ifindex[i];
	if (o->doorbell_every)
		skel->rodata->cfg_doorbell_every = o->doorbell_every;
	skel->rodata->cfg_clock = o->clock;

	err = flowmaster_bpf__load(skel);
	close(tmpl_fd);
	tmpl_fd = -1;
	if (err) {
		explain_load_error(err);
		goto cleanup;
	}
	l->skel = skel;
	l->gen_fd[0] = bpf_map__fd(skel->maps.flows_a);
	l->gen_fd[1] = bpf_map__fd(skel->maps.flows_b);
	l->active = 0;
	l->max_flows = o->max_flows;
	l->nr_ifaces = o->nr_ifaces;
	memcpy(l->ifindex, o->ifindex, sizeof(l->ifindex));
	l->doorbell_fill = (__u64)o->max_flows * o->doorbell_pct / 100;
	l->clock = o->clock;
	l->ctl = mmap(NULL, sizeof(struct fm_ctl), PROT_READ | PROT_WRITE, MAP_SHARED,
		      bpf_map__fd(skel->maps.ctl), 0);
	if (l->ctl == MAP_FAILED) {
		err = -errno;
		l->ctl = NULL;
		pr_err("mapping the ctl map: %s\n", strerror(-err));
		loader_close(l);
		return err;
	}
	err = measure_hz(l);
	if (err) {
		pr_err("reading the BPF clock: %s\n", strerror(-err));
		loader_close(l);
		return err;
	}
	return loader_rearm_doorbell(l);
cleanup:
	if (tmpl_fd >= 0)
		close(tmpl_fd);
	flowmaster_bpf__destroy(skel);
	return err;
}

static int read_clocks(struct loader *l, struct fm_clock_anchor *a)
{
	/* XDP test runs want at least an Ethernet header's worth of data. */
	char frame[64] = { 0 };
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame, .data_size_in = sizeof(frame),
		    .repeat = 1);

	if (bpf_prog_test_run_opts(bpf_program__fd(l->skel->progs.fm_clock), &opts))
		return -errno;
	*a = l->skel->bss->clock_anchor;
	return 0;
}

int loader_clock_anchor(struct loader *l, struct fm_clock_anchor *a)
{
	*a = l->anchor;
	return 0;
}

__s64 loader_mono_ns(const struct loader *l, const struct fm_clock_anchor *a, __u64 t)
{
	__s64 back, ns;

	if (l->clock != FM_CLOCK_JIFFIES)
		return (__s64)t;
	/* A stamp absurdly far from the anchor (a corrupt record) must not
	 * overflow: pin it to the anchor. */
	if (__builtin_mul_overflow((__s64)(a->jiffies - t), (__s64)l->ns_per_jiffy, &back) ||
	    __builtin_sub_overflow((__s64)a->mono_ns, back, &ns))
		return (__s64)a->mono_ns;
	return ns;
}

/*
 * HZ is a build option the kernel does not export; count ticks over 50 ms
 * and snap to the nearest value kernels are built with.
 */
static int measure_hz(struct loader *l)
{
	static const unsigned hz[] = { 100, 250, 300, 1000 };
	struct fm_clock_anchor a, b;
	double rate, best = 1e18;
	int err;

	err = read_clocks(l, &a);
	usleep(50000);
	err = err ?: read_clocks(l, &b);
	if (err)
		return err;
	l->anchor = b;
	rate = (double)(b.jiffies - a.jiffies) * 1e9 / (double)(b.mono_ns - a.mono_ns);
	for (size_t i = 0; i < sizeof(hz) / sizeof(hz[0]); i++) {
		double d = rate > hz[i] ? rate - hz[i] : hz[i] - rate;

		if (d < best) {
			best = d;
			l->ns_per_jiffy = 1000000000ULL / hz[i];
		}
	}
	pr_debug("kernel HZ %llu (measured %.0f)\n", 1000000000ULL / l->ns_per_jiffy, rate);
	return 0;
}

int loader_rearm_doorbell(struct loader *l)
{
	/* One aligned 8-byte store: the program's atomic adds to inserts,
	 * next to it, are never overwritten. Racing inserts may land before
	 * it; the doorbell is only a hint to rotate early, the poll interval
	 * still bounds everything. */
	l->ctl->doorbell_at = l->doorbell_fill ? l->ctl->inserts + l->doorbell_fill : 0;
	return 0;
}

int loader_swap(struct loader *l)
{
	int next = !l->active, fd = l->gen_fd[next];
	__u32 zero = 0;

	/* The syscall waits for an RCU grace period on map-in-map updates,
	 * so no program can still hold the old generation when it returns. */
	if (bpf_map_update_elem(bpf_map__fd(l->skel->maps.flow_gens), &zero, &fd, BPF_ANY))
		return -errno;
	l->active = next;
	loader_rearm_doorbell(l);
	return l->gen_fd[!next];
}

int loader_slot_of(const struct loader *l, __u32 ifindex)
{
	for (int i = 0; i < l->nr_ifaces; i++)
		if ((__u32)l->ifindex[i] == ifindex && ifindex)
			return i + 1;
	/* An earlier incarnation of a slot's interface: its flows may still
	 * be in the table or the kernel's maps. Newest first. */
	for (int i = l->nr_former; i-- > 0;)
		if ((__u32)l->former[i].ifindex == ifindex)
			return l->former[i].slot;
	return 0;
}

int loader_set_slot(struct loader *l, int slot, int ifindex)
{
	int old;

	if (slot < 1 || slot > l->nr_ifaces)
		return -EINVAL;
	old = l->ifindex[slot - 1];
	if (old == ifindex)
		return 0;
	if (old) {
		if (l->nr_former == LOADER_MAX_FORMER) { /* forget the oldest */
			memmove(l->former, l->former + 1,
				sizeof(l->former[0]) * (LOADER_MAX_FORMER - 1));
			l->nr_former--;
		}
		l->former[l->nr_former].ifindex = old;
		l->former[l->nr_former++].slot = slot;
	}
	l->ifindex[slot - 1] = ifindex;
	/* The .bss map is mmaped: the program sees it at its next packet. */
	__atomic_store_n(&l->skel->bss->cfg_ifindex[slot - 1], (__u32)ifindex, __ATOMIC_RELEASE);
	return 0;
}

void fm_counters_add(struct fm_counters *sum, const struct fm_counters *c)
{
	__u64 *to = (__u64 *)sum;
	const __u64 *from = (const __u64 *)c;

	for (size_t i = 0; i < sizeof(*sum) / sizeof(__u64); i++)
		to[i] += from[i];
}

int fm_counters_read(int map_fd, __u32 slot, struct fm_counters *out)
{
	int ncpu = libbpf_num_possible_cpus();
	struct fm_counters *percpu;
	int err = 0;

	if (ncpu < 0)
		return ncpu;
	percpu = calloc(ncpu, sizeof(*percpu));
	if (!percpu)
		return -ENOMEM;
	memset(out, 0, sizeof(*out));
	if (bpf_map_lookup_elem(map_fd, &slot, percpu))
		err = -errno;
	for (int cpu = 0; !err && cpu < ncpu; cpu++)
		fm_counters_add(out, &percpu[cpu]);
	free(percpu);
	return err;
}

int loader_read_counters(struct loader *l, __u32 slot, struct fm_counters *out)
{
	return fm_counters_read(bpf_map__fd(l->skel->maps.counters), slot, out);
}

int loader_read_counters_dir(struct loader *l, __u32 slot, int dir, struct fm_counters *out)
{
	return fm_counters_read(bpf_map__fd(l->skel->maps.counters),
				slot + (dir == FM_DIR_EGRESS ? FM_IFACE_SLOTS : 0), out);
}

unsigned long long loader_map_memory(struct loader *l)
{
	unsigned long long sum = 0, v;
	struct bpf_map *m;
	char path[64], line[128];

	bpf_object__for_each_map(m, l->skel->obj)
	{
		FILE *f;

		snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", bpf_map__fd(m));
		f = fopen(path, "r");
		while (f && fgets(line, sizeof(line), f))
			if (sscanf(line, "memlock: %llu", &v) == 1)
				sum += v;
		if (f)
			fclose(f);
	}
	return sum;
}

int loader_events_fd(struct loader *l)
{
	return bpf_map__fd(l->skel->maps.events);
}

int loader_prog_fd(struct loader *l)
{
	return bpf_program__fd(l->skel->progs.fm_xdp);
}

int loader_tc_prog_fd(struct loader *l)
{
	return bpf_program__fd(l->skel->progs.fm_tc);
}

void loader_close(struct loader *l)
{
	while (l->nr_links)
		loader_detach(l, l->links[0].ifindex);
	while (l->nr_tc)
		loader_detach_egress(l, l->tc[0].ifindex);
	if (l->ctl)
		munmap((void *)l->ctl, sizeof(struct fm_ctl));
	l->ctl = NULL;
	flowmaster_bpf__destroy(l->skel);
	l->skel = NULL;
}
