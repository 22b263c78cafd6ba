// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Human units and aligned text tables for the operator commands. */
#include <errno.h>
#include <stdbool.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "lib/fmt.h"
#include "lib/proto.h"

const char *fmt_bytes(char *buf, size_t len, uint64_t bytes)
{
	static const char *const unit[] = { "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
	double v = bytes / 1024.0;
	int u = 0;

	if (bytes < 1024) {
		snprintf(buf, len, "%" PRIu64 " B", bytes);
		return buf;
	}
	/* Step up before "%.1f" would round to 1024.0. */
	while (v >= 1023.95 && u < 5) {
		v /= 1024;
		u++;
	}
	snprintf(buf, len, "%.1f %s", v, unit[u]);
	return buf;
}

const char *fmt_count(char *buf, size_t len, uint64_t n)
{
	static const char unit[] = "kMGTPE";
	double v = n / 1000.0;
	int u = 0;

	if (n < 1000) {
		snprintf(buf, len, "%" PRIu64, n);
		return buf;
	}
	while (v >= 999.95 && u < 5) {
		v /= 1000;
		u++;
	}
	snprintf(buf, len, "%.1f%c", v, unit[u]);
	return buf;
}

const char *fmt_rate(char *buf, size_t len, double per_s)
{
	if (per_s < 999.95) {
		snprintf(buf, len, "%.1f", per_s < 0 ? 0 : per_s);
		return buf;
	}
	return fmt_count(buf, len, (uint64_t)(per_s + 0.5));
}

const char *fmt_duration(char *buf, size_t len, int64_t ms)
{
	int64_t s = ms / 1000;

	if (ms < 0)
		snprintf(buf, len, "-");
	else if (ms < 1000)
		snprintf(buf, len, "%" PRId64 "ms", ms);
	else if (ms < 59950) /* 59.95 s would print as 60.0s */
		snprintf(buf, len, "%.1fs", ms / 1000.0);
	else if (s < 3600)
		snprintf(buf, len, "%" PRId64 "m%02" PRId64 "s", s / 60, s % 60);
	else if (s < 86400)
		snprintf(buf, len, "%" PRId64 "h%02" PRId64 "m", s / 3600, s / 60 % 60);
	else
		snprintf(buf, len, "%" PRId64 "d%02" PRId64 "h", s / 86400, s / 3600 % 24);
	return buf;
}

const char *fmt_proto(char *buf, size_t len, int proto)
{
	const char *name = proto_name(proto);

	if (name)
		snprintf(buf, len, "%s", name);
	else
		snprintf(buf, len, "%d", proto);
	return buf;
}

const char *fmt_endpoint(char *buf, size_t len, const char *addr, int port)
{
	if (port < 0)
		snprintf(buf, len, "%s", addr);
	else if (strchr(addr, ':')) /* IPv6: brackets keep the port apart */
		snprintf(buf, len, "[%s]:%d", addr, port);
	else
		snprintf(buf, len, "%s:%d", addr, port);
	return buf;
}

const char *fmt_utc(char *buf, size_t len, int64_t ms)
{
	time_t t = ms / 1000;
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%d %H:%M:%S", &tm);
	return buf;
}

/* ------------------------------------------------------------------ table */

struct table {
	int ncols;
	unsigned right;	   /* bit c: right-align column c */
	size_t nrows, cap; /* rows including the header row */
	char **cell;	   /* nrows * ncols strings, row-major */
};

struct table *table_new(int ncols, const char *const *headers, unsigned right_mask)
{
	struct table *t;

	if (ncols < 1 || ncols > TABLE_MAX_COLS) {
		errno = EINVAL;
		return NULL;
	}
	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->ncols = ncols;
	t->right = right_mask;
	if (table_add(t, headers)) {
		free(t->cell);
		free(t);
		return NULL;
	}
	return t;
}

int table_add(struct table *t, const char *const *cells)
{
	char **row;

	if (t->nrows == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 16;
		char **c = realloc(t->cell, cap * t->ncols * sizeof(*c));

		if (!c)
			return -ENOMEM;
		t->cell = c;
		t->cap = cap;
	}
	row = &t->cell[t->nrows * t->ncols];
	for (int i = 0; i < t->ncols; i++) {
		row[i] = strdup(cells[i] ? cells[i] : "");
		if (!row[i]) {
			while (i--)
				free(row[i]);
			return -ENOMEM;
		}
	}
	t->nrows++;
	return 0;
}

void table_print(const struct table *t, FILE *f, const char *indent)
{
	size_t w[TABLE_MAX_COLS] = { 0 };

	for (size_t r = 0; r < t->nrows; r++)
		for (int c = 0; c < t->ncols; c++) {
			size_t n = strlen(t->cell[r * t->ncols + c]);

			if (n > w[c])
				w[c] = n;
		}
	for (size_t r = 0; r < t->nrows; r++) {
		fputs(indent, f);
		for (int c = 0; c < t->ncols; c++) {
			const char *s = t->cell[r * t->ncols + c];
			bool last = c == t->ncols - 1;

			if (t->right & (1u << c))
				fprintf(f, "%*s", (int)w[c], s);
			else if (last) /* no trailing blanks */
				fputs(s, f);
			else
				fprintf(f, "%-*s", (int)w[c], s);
			if (!last)
				fputs("  ", f);
		}
		fputc('\n', f);
	}
}

void table_free(struct table *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->nrows * t->ncols; i++)
		free(t->cell[i]);
	free(t->cell);
	free(t);
}

/* 0..255 in decimal, without leading zeros; returns the digits written. */
static size_t put_u8(char *out, unsigned v)
{
	if (v >= 100) {
		out[0] = (char)('0' + v / 100);
		out[1] = (char)('0' + v / 10 % 10);
		out[2] = (char)('0' + v % 10);
		return 3;
	}
	if (v >= 10) {
		out[0] = (char)('0' + v / 10);
		out[1] = (char)('0' + v % 10);
		return 2;
	}
	out[0] = (char)('0' + v);
	return 1;
}

size_t fmt_ip4(char *out, const uint8_t *a)
{
	size_t n = 0;

	for (int i = 0; i < 4; i++) {
		n += put_u8(out + n, a[i]);
		out[n++] = i < 3 ? '.' : '\0';
	}
	return n - 1;
}

/* One group in lower-case hex without leading zeros, as "%x" prints it. */
static size_t put_x16(char *out, unsigned v)
{
	static const char hex[] = "0123456789abcdef";
	size_t n = 0;

	for (int shift = 12; shift > 0; shift -= 4)
		if (v >> shift || n)
			out[n++] = hex[(v >> shift) & 15];
	out[n++] = hex[v & 15];
	return n;
}

/* glibc's inet_ntop6 (from BIND), step by step, so the text is the same. */
size_t fmt_ip6(char *out, const uint8_t *a)
{
	unsigned w[8];
	int best_base = -1, best_len = 0, cur_base = -1, cur_len = 0;
	size_t n = 0;

	for (int i = 0; i < 8; i++)
		w[i] = (unsigned)a[2 * i] << 8 | a[2 * i + 1];
	for (int i = 0; i < 8; i++) {
		if (!w[i]) {
			if (cur_base < 0) {
				cur_base = i;
				cur_len = 1;
			} else {
				cur_len++;
			}
		} else if (cur_base >= 0) {
			if (best_base < 0 || cur_len > best_len) {
				best_base = cur_base;
				best_len = cur_len;
			}
			cur_base = -1;
		}
	}
	if (cur_base >= 0 && (best_base < 0 || cur_len > best_len)) {
		best_base = cur_base;
		best_len = cur_len;
	}
	if (best_base >= 0 && best_len < 2)
		best_base = -1;
	for (int i = 0; i < 8; i++) {
		if (best_base >= 0 && i >= best_base && i < best_base + best_len) {
			if (i == best_base)
				out[n++] = ':';
			continue;
		}
		if (i)
			out[n++] = ':';
		/* IPv4-compatible ::a.b.c.d, IPv4-mapped ::ffff:a.b.c.d */
		if (i == 6 && best_base == 0 &&
		    (best_len == 6 || (best_len == 5 && w[5] == 0xffff)))
			return n + fmt_ip4(out + n, a + 12);
		n += put_x16(out + n, w[i]);
	}
	if (best_base >= 0 && best_base + best_len == 8)
		out[n++] = ':';
	out[n] = '\0';
	return n;
}
