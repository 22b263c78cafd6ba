/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Bounded parsing of command-line values; messages name the option. */
#ifndef FM_ARGS_H
#define FM_ARGS_H

#include <stdint.h>

/*
 * Parse a whole decimal integer in [min, max] for option `opt`. Returns 0,
 * or -EINVAL after printing "flowmaster: OPT: 'S' is not ..." to stderr.
 */
int args_u64(const char *opt, const char *s, uint64_t min, uint64_t max, uint64_t *out);
/* Parse a duration: a number with an optional unit s, m, h or d (default s). */
int args_duration_s(const char *opt, const char *s, uint64_t max_s, uint64_t *out_s);

#endif
