/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The little JSON and CSV the commands print with --json and --csv. */
#ifndef FM_JSON_H
#define FM_JSON_H

#include <stdio.h>

/* s as a JSON string, quotes included (RFC 8259 escapes); NULL: null. */
void json_str(FILE *f, const char *s);
/* A number; NaN and infinities (which JSON lacks) as null. */
void json_num(FILE *f, double v);
/* s as a CSV field (RFC 4180): quoted when it holds a comma, a quote or a
 * line break, quotes doubled; NULL: an empty field. */
void csv_field(FILE *f, const char *s);

#endif
