/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * A growing text buffer for the web view's answers (JSON, HTML), capped:
 * past BUF_MAX it stops growing and remembers that it failed, which the
 * caller turns into an error answer instead of a truncated one.
 */
#ifndef FM_WEB_BUF_H
#define FM_WEB_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BUF_MAX (16u << 20)

struct buf {
	char *p;
	size_t len, cap;
	bool failed; /* out of memory or over BUF_MAX */
};

void buf_free(struct buf *b);
void buf_add(struct buf *b, const char *s, size_t n);
void buf_puts(struct buf *b, const char *s);
void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* s as a JSON string, quotes included; NULL as null. Bytes that are not
 * valid UTF-8 become U+FFFD. */
void buf_json_str(struct buf *b, const char *s);
/* s with HTML's five special characters escaped. */
void buf_html(struct buf *b, const char *s);
/* A JSON number: integer as is; a double with up to 6 significant
 * decimals, null when it is not finite. */
void buf_json_i64(struct buf *b, int64_t v);
void buf_json_dbl(struct buf *b, double v);

#endif
