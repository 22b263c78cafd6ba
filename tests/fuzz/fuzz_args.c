// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * libFuzzer target: args_u64() and args_duration_s() on arbitrary strings
 * and bounds, checked against a plain reference of their contract (args.h):
 * accepted exactly when the whole string is decimal digits (a duration may
 * end in one of s, m, h, d) whose value fits and lies within the bounds,
 * and then the value is the one written.
 *
 * Input: byte 0 picks the function, bytes 1..16 the bounds (two
 * little-endian 64-bit words; for a duration only the first, max_s), the
 * rest is the string, up to its first NUL.
 *
 * With bit 1 of byte 0 set, the option parser instead (lib/opts.h, as a
 * config file will use it): opts_set() on flowmaster run's real table, byte
 * 1 picking the option, the string its value. A refused value must leave
 * the configuration as it was; an accepted number must lie within the
 * option's bounds, an enum index within its names.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli/run.h"
#include "lib/args.h"
#include "lib/opts.h"
#include "fuzz.h"

#define FUZZ_STR_MAX 64 /* longer digit strings only overflow the same way */

/* Little-endian word at p (8 bytes available). */
static uint64_t le64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

/* Bounds that are often small, so that "within bounds" is not only the whole range. */
static uint64_t shape(uint64_t raw)
{
	switch (raw & 3) {
	case 0:
		return raw >> 2 & 0xff;
	case 1:
		return raw >> 2 & 0xffffff;
	case 2:
		return UINT64_MAX - (raw >> 2 & 0xff);
	default:
		return raw;
	}
}

/* The leading digits of s as a number; false when they overflow 64 bits. */
static bool ref_digits(const char *s, size_t *ndigits, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;

	for (i = 0; s[i] >= '0' && s[i] <= '9'; i++) {
		unsigned int d = (unsigned int)(s[i] - '0');

		if (v > (UINT64_MAX - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*ndigits = i;
	*out = v;
	return true;
}

static bool ref_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	size_t n;
	uint64_t v;

	if (!ref_digits(s, &n, &v) || !n || s[n] || v < min || v > max)
		return false;
	*out = v;
	return true;
}

static bool ref_duration(const char *s, uint64_t max_s, uint64_t *out)
{
	uint64_t v, mul;
	size_t n;

	if (!ref_digits(s, &n, &v) || !n || v > max_s)
		return false;
	switch (s[n]) {
	case 0:
	case 's':
		mul = 1;
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
		return false;
	}
	if (s[n] && s[n + 1])
		return false;
	/* v * mul <= max_s, without overflow: compare in 128 bits. */
	if ((unsigned __int128)v * mul > max_s)
		return false;
	*out = v * mul;
	return true;
}

/* run's defaults, made once: sizing_defaults reads /proc. */
static struct run_cfg run_defaults;
static size_t nr_run_opts;

static void fuzz_opts(uint8_t pick, const char *value)
{
	const struct opt *o = &run_opts.opts[pick % nr_run_opts];
	struct run_cfg c = run_defaults;
	const void *f = (const char *)&c + o->off - 1;
	uint64_t v;
	int err;

	err = opts_set(&run_opts, &c, o->name, value, pick & 0x80 ? "fuzz.conf:1" : NULL);
	FUZZ_CHECK(err == 0 || err == -EINVAL, "--%s '%s': %d", o->name, value, err);
	if (err) {
		FUZZ_CHECK(!memcmp(&c, &run_defaults, sizeof(c)), "--%s '%s' refused but stored",
			   o->name, value);
		return;
	}
	switch (o->kind) {
	case OPT_U64:
	case OPT_DURATION:
		memcpy(&v, f, sizeof(v));
		FUZZ_CHECK(v >= o->min && v <= o->max, "--%s '%s' accepted as %llu", o->name, value,
			   (unsigned long long)v);
		break;
	case OPT_ENUM:
		for (v = 0; o->names[v]; v++)
			;
		FUZZ_CHECK(*(const int *)f >= 0 && (uint64_t) * (const int *)f < v,
			   "--%s '%s' accepted as %d", o->name, value, *(const int *)f);
		break;
	case OPT_COUNT:
		FUZZ_CHECK((uint64_t) * (const int *)f <= o->max, "--%s '%s' counted %d", o->name,
			   value, *(const int *)f);
		break;
	default:
		break;
	}
	FUZZ_CHECK(opts_set(&run_opts, &c, value, "1", NULL) == -ENOENT ||
			   opts_find(&run_opts, value) >= 0,
		   "unknown key '%s' accepted", value);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	opts_defaults(&run_opts, &run_defaults);
	while (run_opts.opts[nr_run_opts].name)
		nr_run_opts++;
	/*
	 * args_* explain every refusal on stderr; at a million calls a second
	 * that is all the log would hold. Sanitizer and libFuzzer reports
	 * do not go through this FILE, so they still show.
	 */
	stderr = fopen("/dev/null", "w");
	return stderr ? 0 : -1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char s[FUZZ_STR_MAX + 1];
	uint64_t lo, hi, got = 0xdeadbeef, want = 0;
	size_t n;
	bool ok, ref;

	if (size < 17)
		return 0;
	lo = shape(le64(data + 1));
	hi = shape(le64(data + 9));
	n = size - 17 < FUZZ_STR_MAX ? size - 17 : FUZZ_STR_MAX;
	memcpy(s, data + 17, n);
	s[n] = 0;

	if (data[0] & 2) {
		fuzz_opts(data[1], s);
		return 0;
	}
	if (data[0] & 1) {
		ok = args_duration_s("--fuzz", s, lo, &got) == 0;
		ref = ref_duration(s, lo, &want);
		FUZZ_CHECK(!ok || got <= lo, "duration \"%s\" accepted as %llu s, max %llu", s,
			   (unsigned long long)got, (unsigned long long)lo);
	} else {
		ok = args_u64("--fuzz", s, lo, hi, &got) == 0;
		ref = ref_u64(s, lo, hi, &want);
		FUZZ_CHECK(!ok || (got >= lo && got <= hi),
			   "\"%s\" accepted as %llu, bounds %llu..%llu", s, (unsigned long long)got,
			   (unsigned long long)lo, (unsigned long long)hi);
	}
	FUZZ_CHECK(ok == ref && (!ok || got == want),
		   "args_%s(\"%s\", %llu, %llu): %s %llu, the contract says %s %llu",
		   data[0] & 1 ? "duration_s" : "u64", s, (unsigned long long)lo,
		   (unsigned long long)hi, ok ? "accepted" : "refused", (unsigned long long)got,
		   ref ? "accept" : "refuse", (unsigned long long)want);
	return 0;
}
