// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
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
	fprintf(stderr,
		"flowmaster: %s: '%s' is not a whole number from %" PRIu64 " to %" PRIu64 "\n", opt,
		s ? s : "", min, max);
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

/* max_s as a person says it: "1d (86400 s)", "90 s". */
static void say_max(char *buf, size_t size, uint64_t max_s)
{
	static const struct {
		char unit;
		uint64_t s;
	} units[] = { { 'd', 86400 }, { 'h', 3600 }, { 'm', 60 } };

	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (max_s && max_s % units[i].s == 0) {
			snprintf(buf, size, "%" PRIu64 "%c (%" PRIu64 " s)", max_s / units[i].s,
				 units[i].unit, max_s);
			return;
		}
	}
	snprintf(buf, size, "%" PRIu64 " s", max_s);
}

int args_duration_s(const char *opt, const char *s, uint64_t max_s, uint64_t *out_s)
{
	unsigned long long v;
	uint64_t mul = 1;
	char *end, max[64];
	bool huge;

	if (!s || !isdigit((unsigned char)s[0]))
		goto bad;
	errno = 0;
	v = strtoull(s, &end, 10);
	huge = errno == ERANGE; /* more than 64 bits: more than any maximum */
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
	/* The bound applies to the value in seconds, after the unit: "99999m"
	 * is a duration, only a too long one. */
	if (huge || v > max_s / mul) {
		say_max(max, sizeof(max), max_s);
		fprintf(stderr, "flowmaster: %s: '%s' is more than %s\n", opt, s, max);
		return -EINVAL;
	}
	*out_s = v * mul;
	return 0;
bad:
	fprintf(stderr,
		"flowmaster: %s: '%s' is not a duration (e.g. 30, 90s, 5m, 2h) up to %" PRIu64
		" s\n",
		opt, s ? s : "", max_s);
	return -EINVAL;
}
