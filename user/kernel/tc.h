/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The egress hook: flowmaster's TC program (fm_tc) on an interface's
 * egress, by a tcx link where the kernel has tcx (6.6+: a crash leaves
 * nothing attached, the link goes with the process), else as a clsact
 * filter at flowmaster's own priority and handle, where a crashed daemon's
 * filter stays until the next start or `flowmaster detach` removes it.
 * Other filters and tcx programs on the interface are never touched (never
 * bpf_tc_hook_destroy: it flushes every egress filter). int functions
 * return 0 (or a count) or a negative errno.
 */
#ifndef FM_TC_H
#define FM_TC_H

#include <stdbool.h>
#include <linux/types.h>

#define FM_TC_PROG_NAME "fm_tc" /* the kernel's name for the egress program */
/* The clsact filter's priority and handle: flowmaster's, not tc's defaults. */
#define FM_TC_PRIO 0xf10e
#define FM_TC_HANDLE 0xf10e

enum fm_tc_mode {
	FM_TC_AUTO = 0, /* tcx, else clsact */
	FM_TC_TCX,
	FM_TC_CLSACT,
};

/* One egress attachment of ours. */
struct tc_att {
	int ifindex;
	int link_fd;	      /* tcx: closing it detaches; clsact: -1 */
	enum fm_tc_mode mode; /* what we got: TCX or CLSACT */
	__u32 prog_id;
};

const char *fm_tc_mode_str(enum fm_tc_mode m);
/* Attach prog_fd (fm_tc) to ifindex's egress in mode (AUTO: tcx, else clsact). */
int tc_attach(int prog_fd, int ifindex, enum fm_tc_mode mode, struct tc_att *out);
/* Undo tc_attach: close the link, or delete our filter if it still holds our program. */
int tc_detach(struct tc_att *a);
/*
 * Whether our attachment was taken away from outside (flowmaster detach,
 * tc filter del, the interface deleted or moved): the tcx link reports
 * no interface, or our clsact slot no longer holds our program.
 */
bool tc_detached(const struct tc_att *a);

/* An egress program of flowmaster's seen on an interface. */
struct tc_seen {
	int ifindex;
	char ifname[16];
	__u32 prog_id;
	enum fm_tc_mode mode; /* TCX or CLSACT */
	char prog_name[16];
};

/*
 * flowmaster's egress programs on ifindex: tcx programs named fm_tc and the
 * filter at our priority/handle. Fills up to max into out; returns how many.
 */
int tc_list(int ifindex, struct tc_seen *out, int max);
/*
 * Remove flowmaster's egress programs from ifindex: tcx links of fm_tc
 * (detached through the link) and our clsact filter when it holds fm_tc.
 * Says what it removed on stdout when verbose. Returns how many, or -errno.
 */
int tc_remove(int ifindex, bool verbose);

#endif
