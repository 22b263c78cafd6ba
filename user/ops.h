/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Helpers shared by the operator commands top, status and detach: human
 * units and aligned tables (top.c), a read-only database (top.c), and what
 * the kernel says is attached and who holds a pin directory (status.c).
 */
#ifndef FM_OPS_H
#define FM_OPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>
#include <linux/types.h>

#define FM_XDP_PROG_NAME "fm_xdp"	/* the kernel's name for our program */


/*
 * Human units; each writes at most len bytes into buf and returns buf.
 * Bytes in binary units with one decimal from KiB on ("512 B", "1.5 KiB"),
 * counts in decimal ones ("999", "1.2k", "3.4M"), rates with one decimal,
 * durations in the two largest units ("850ms", "12.3s", "5m07s", "2h03m").
 */
const char *fmt_bytes(char *buf, size_t len, uint64_t bytes);
const char *fmt_count(char *buf, size_t len, uint64_t n);
const char *fmt_rate(char *buf, size_t len, double per_s);
const char *fmt_duration(char *buf, size_t len, int64_t ms);
/* "tcp", "udp", "icmp", ... or the number. */
const char *fmt_proto(char *buf, size_t len, int proto);
/* "198.18.0.1:80", "[2001:2::1]:80", or the address alone when port < 0. */
const char *fmt_endpoint(char *buf, size_t len, const char *addr, int port);

/*
 * A text table: rows of cells (copied), printed with each column as wide as
 * its widest cell, numbers right-aligned. Returns NULL with errno set.
 */
#define TABLE_MAX_COLS 12
struct table;
struct table *table_new(int ncols, const char *const *headers, unsigned right_mask);
int table_add(struct table *t, const char *const *cells);
void table_print(const struct table *t, FILE *f, const char *indent);
void table_free(struct table *t);

/*
 * Open a flowmaster database read-only (a running daemon keeps writing in
 * WAL mode meanwhile). Returns 0 and *out, or -ENOENT for a missing file,
 * -EINVAL for a file without a flows table, another -errno; the message
 * is printed.
 */
struct sqlite3;
int ops_db_open(const char *path, struct sqlite3 **out);

/* One XDP program on an interface of this network namespace. */
struct xdp_att {
	int ifindex;
	char ifname[16];	/* IF_NAMESIZE */
	__u32 prog_id;
	char prog_name[16];	/* BPF_OBJ_NAME_LEN */
	__u32 mode_flag;	/* XDP_FLAGS_DRV_MODE, _SKB_MODE or _HW_MODE */
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

/*
 * Is a daemon holding dir's lock (run.c takes an exclusive flock on the
 * pin directory for its lifetime)? Returns 1 and *pid (0 if unknown) when
 * held, 0 when free, or a negative errno (-ENOENT: no such directory).
 */
int pin_holder(const char *dir, pid_t *pid);

#endif
