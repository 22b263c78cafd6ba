/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * XDP attachments: the daemon's own (bpf_links in struct loader) and what
 * the kernel reports attached on the interfaces of this network namespace.
 * int functions return 0 (or a count) or a negative errno.
 */
#ifndef FM_ATTACH_H
#define FM_ATTACH_H

#include <stdbool.h>
#include <linux/types.h>
#include "kernel/loader.h"

#define FM_XDP_PROG_NAME "fm_xdp" /* the kernel's name for our program */

/* Attach fm_xdp to ifindex by bpf_link; AUTO tries native, then generic when
 * the driver refused native XDP for a reason of its own (no support, MTU,
 * queues; never when a program is attached or for privileges), saying why.
 * Logs what went wrong and what to do. */
int loader_attach(struct loader *l, int ifindex, enum fm_xdp_mode mode);
/* Close the link on ifindex (detaching the program); -ENOENT if none. */
int loader_detach(struct loader *l, int ifindex);
const char *fm_xdp_mode_str(enum fm_xdp_mode m);

/* One XDP program on an interface of this network namespace. */
struct xdp_att {
	int ifindex;
	char ifname[16]; /* IF_NAMESIZE */
	__u32 prog_id;
	char prog_name[16]; /* BPF_OBJ_NAME_LEN */
	__u32 mode_flag;    /* XDP_FLAGS_DRV_MODE, _SKB_MODE or _HW_MODE */
};

/* "native", "generic" or "offload" for an xdp_att.mode_flag. */
const char *xdp_mode_name(__u32 mode_flag);
/* Fill out[] (room for 3: native, generic, offload) with the programs on
 * ifindex. Returns how many, or a negative errno. */
int xdp_list(int ifindex, struct xdp_att *out);
bool xdp_is_flowmaster(const struct xdp_att *a);
/* Every XDP program on every interface of this network namespace, into a
 * malloc'ed *out the caller frees. Returns how many, or a negative errno. */
int xdp_scan(struct xdp_att **out);

/* The kernel's name for program id; -ENOENT if it is gone, -EPERM without root. */
int fm_prog_name(__u32 id, char *buf, size_t len);

#endif
