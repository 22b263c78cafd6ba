/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Human units and aligned text tables, for what the commands print. */
#ifndef FM_FMT_H
#define FM_FMT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

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
/* "tcp", "udp", "icmp", ... (lib/proto.h's names) or the number. */
const char *fmt_proto(char *buf, size_t len, int proto);
/* "198.18.0.1:80", "[2001:2::1]:80", or the address alone when port < 0. */
const char *fmt_endpoint(char *buf, size_t len, const char *addr, int port);
/*
 * Addresses exactly as glibc's inet_ntop prints them, without its
 * sprintf: an IPv4 address (4 bytes; out has room for 16) and an IPv6
 * one (16 bytes; room for 46, INET6_ADDRSTRLEN), with the longest run of
 * two or more zero groups (the first of equal runs) as "::", and the
 * IPv4-mapped and IPv4-compatible forms in dotted quads. Each writes a
 * NUL-terminated string and returns its length.
 */
size_t fmt_ip4(char *out, const uint8_t *a);
size_t fmt_ip6(char *out, const uint8_t *a);
/* "2026-12-02 11:57:30" (UTC) for epoch ms. */
const char *fmt_utc(char *buf, size_t len, int64_t ms);

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

#endif
