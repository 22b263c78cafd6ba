/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Load the XDP program, size its maps, swap flow generations, attach links. */
#ifndef FM_LOADER_H
#define FM_LOADER_H

#include <stdbool.h>
#include <linux/types.h>
#include "bpf/flowmaster.h"
#include "kernel/tc.h"

enum fm_xdp_mode {
	FM_XDP_AUTO = 0, /* native, else generic */
	FM_XDP_NATIVE,
	FM_XDP_GENERIC,
};

struct loader_opts {
	__u32 max_flows;      /* entries per generation */
	__u32 ringbuf_bytes;  /* power of two, >= page size */
	__u32 doorbell_pct;   /* ring when a generation is this full (0: never) */
	__u32 doorbell_every; /* ...and again every N inserts (power of two) */
	__u8 clock;	      /* enum fm_clock; only benchmarks change it */
	int nr_ifaces;	      /* interfaces the program keeps counters for */
	int ifindex[FM_MAX_IFACES];
};

struct loader_link {
	int ifindex;
	int link_fd;	       /* closing it detaches; never pinned, so a crash detaches too */
	enum fm_xdp_mode mode; /* what we got: NATIVE or GENERIC */
	__u32 prog_id;
};

struct flowmaster_bpf;

/* Former ifindexes of re-created interfaces remembered (the oldest go). */
#define LOADER_MAX_FORMER 64

struct loader {
	struct flowmaster_bpf *skel;
	volatile struct fm_ctl *ctl; /* the ctl map, mmaped */
	int gen_fd[2];		     /* flows_a, flows_b */
	int active;		     /* index into gen_fd of the generation in slot 0 */
	int nr_cpus;		     /* possible CPUs: per-CPU values come in this many */
	__u32 max_flows;
	int nr_ifaces; /* the program's interface slots 1..nr_ifaces */
	int ifindex[FM_MAX_IFACES];
	__u32 doorbell_fill;	       /* entries that ring the doorbell (0: off) */
	__u8 clock;		       /* enum fm_clock of the loaded program */
	__u64 ns_per_jiffy;	       /* 10^9 / HZ, measured at load */
	struct fm_clock_anchor anchor; /* taken at load */
	int nr_links;
	struct loader_link links[FM_MAX_IFACES];
	int nr_tc; /* egress attachments (kernel/tc.h) */
	struct tc_att tc[FM_MAX_IFACES];
	/* Ifindexes a slot had before loader_set_slot moved it on. */
	struct {
		int ifindex, slot;
	} former[LOADER_MAX_FORMER];
	int nr_former;
};

/* Open, size and load the program. Returns 0 or a negative errno, logged. */
int loader_open(struct loader *l, const struct loader_opts *o);
/* Point slot 0 at the other generation. When it returns (after an RCU grace
 * period) no program writes the old one. Returns its fd, or a negative errno. */
int loader_swap(struct loader *l);
/* Rearm the doorbell relative to the inserts counted so far. */
int loader_rearm_doorbell(struct loader *l);
/* Attach to an interface by bpf_link; mode AUTO tries native then generic. */
int loader_attach(struct loader *l, int ifindex, enum fm_xdp_mode mode);
int loader_detach(struct loader *l, int ifindex);
/* The TC program on ifindex's egress (tc.c); mode: enum fm_tc_mode. */
int loader_attach_egress(struct loader *l, int ifindex, enum fm_tc_mode mode);
int loader_detach_egress(struct loader *l, int ifindex);
/* The program's counter slot of ifindex: 1..nr_ifaces, or 0 (not ours). */
int loader_slot_of(const struct loader *l, __u32 ifindex);
/* Sum the per-CPU ingress counters of one interface slot (0..FM_MAX_IFACES). */
/* The program's counter slot of ifindex: 1..nr_ifaces, or 0 (not ours);
 * also for an ifindex the slot had before loader_set_slot. */
int loader_slot_of(const struct loader *l, __u32 ifindex);
/*
 * Point slot (1..nr_ifaces) at ifindex (0: none), live: for an interface
 * created again under its name, before attaching to it. The old ifindex
 * still maps to the slot (loader_slot_of). Returns 0 or -EINVAL.
 */
int loader_set_slot(struct loader *l, int slot, int ifindex);
/* Sum the per-CPU counters of one interface slot (0..FM_MAX_IFACES). */
int loader_read_counters(struct loader *l, __u32 slot, struct fm_counters *out);
/* The same for one direction (enum fm_direction). */
int loader_read_counters_dir(struct loader *l, __u32 slot, int dir, struct fm_counters *out);
/* The same for any counters map (a pinned one): index summed over CPUs
 * (slot, or FM_IFACE_SLOTS + slot for egress). */
int fm_counters_read(int map_fd, __u32 slot, struct fm_counters *out);
/* sum += c, field by field (every field is a __u64 counter). */
void fm_counters_add(struct fm_counters *sum, const struct fm_counters *c);
/*
 * The program's jiffies and CLOCK_MONOTONIC read together at load. Jiffies
 * are derived from CLOCK_MONOTONIC, so one anchor converts every time
 * stamp the same way for the program's life: a time drained twice (an
 * active-timeout split) never converts to two different milliseconds, as
 * it could with a fresh anchor (each off by up to a tick) per drain.
 */
int loader_clock_anchor(struct loader *l, struct fm_clock_anchor *a);
/* Convert a time stamped by the program to CLOCK_MONOTONIC ns, given an anchor. */
__s64 loader_mono_ns(const struct loader *l, const struct fm_clock_anchor *a, __u64 t);
/* Kernel memory charged to our maps (fdinfo memlock), in bytes. */
unsigned long long loader_map_memory(struct loader *l);
/* Events ring buffer fd, program fd. */
int loader_events_fd(struct loader *l);
int loader_prog_fd(struct loader *l);
int loader_tc_prog_fd(struct loader *l); /* the egress (TC) program */
void loader_close(struct loader *l);

const char *fm_xdp_mode_str(enum fm_xdp_mode m);

#endif
