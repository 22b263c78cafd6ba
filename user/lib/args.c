// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include "lib/args.h"

static int parse(const char *opt, const char *s, uint64_t min, uint64_t max, uint64_t *out,
		 char **end)
{
	unsigned long long v;

	/* strtoull accepts "-5" and wraps it: refuse signs and spaces first. */
	if (!s || !isdigit((unsigned char)s[0]))
		goto bad;
	errno = 0;
	v = strtoull(s, end, 10);
	if (errno || v < min || v > max)
		goto bad;
	*out = v;
	return 0;
bad:
	fprintf(stderr, "flowmaster: %s: '%s' is not a whole number from %" PRIu64 " to %" PRIu64 "\n",
		opt, s ? s : "", min, max);
	return -EINVAL;
}

int args_u64(const char *opt, const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	char *end;
	uint64_t v;

	if (parse(opt, s, min, max, &v, &end))
		return -EINVAL;
	if (*end) {
		fprintf(stderr, "flowmaster: %s: '%s' is not a whole number\n", opt, s);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

int args_duration_s(const char *opt, const char *s, uint64_t max_s, uint64_t *out_s)
{
	char *end;
	uint64_t v, mul = 1;

	if (parse(opt, s, 0, max_s, &v, &end))
		return -EINVAL;
	switch (*end) {
	case 0:
	case 's':
		break;
	case 'm':
		mul = 60;
		break;
	case 'h':
		mul = 3600;
		break;
	case 'd':
		mul = 86400;
		break;
	default:
		goto bad;
	}
	if (*end && end[1])
		goto bad;
	if (v > max_s / mul)
		goto bad;
	*out_s = v * mul;
	return 0;
bad:
	fprintf(stderr, "flowmaster: %s: '%s' is not a duration (e.g. 30, 90s, 5m, 2h) up to %" PRIu64 " s\n",
		opt, s, max_s);
	return -EINVAL;
}
