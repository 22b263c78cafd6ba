// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Bounded command-line number and duration parsing. */
#include "../testlib.h"
#include <unistd.h>
#include "lib/args.h"

TESTLIB_MAIN("args")

TEST(u64_accepts_bounds)
{
	uint64_t v = 0;

	EXPECT_EQ(args_u64("--n", "10", 10, 20, &v), 0, "lower bound");
	EXPECT_EQ(v, 10, "value");
	EXPECT_EQ(args_u64("--n", "20", 10, 20, &v), 0, "upper bound");
	EXPECT_EQ(v, 20, "value");
	EXPECT_EQ(args_u64("--n", "18446744073709551615", 0, UINT64_MAX, &v), 0, "u64 max");
	EXPECT_TRUE(v == UINT64_MAX, "u64 max value");
}

TEST(u64_rejects_garbage)
{
	const char *bad[] = {
		"", "-5", "+5", " 5", "5x", "x", "9", "21", "1e3", "0x10", "18446744073709551616"
	};
	uint64_t v = 42;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		EXPECT_EQ(args_u64("--n", bad[i], 10, 20, &v), -EINVAL, bad[i]);
		EXPECT_EQ(v, 42, "output untouched on error");
	}
	EXPECT_EQ(args_u64("--n", NULL, 0, 1, &v), -EINVAL, "missing value");
}

TEST(duration_units)
{
	uint64_t v;

	EXPECT_EQ(args_duration_s("--d", "30", 86400, &v), 0, "bare seconds");
	EXPECT_EQ(v, 30, "30");
	EXPECT_EQ(args_duration_s("--d", "90s", 86400, &v), 0, "seconds unit");
	EXPECT_EQ(v, 90, "90s");
	EXPECT_EQ(args_duration_s("--d", "5m", 86400, &v), 0, "minutes");
	EXPECT_EQ(v, 300, "5m");
	EXPECT_EQ(args_duration_s("--d", "2h", 86400, &v), 0, "hours");
	EXPECT_EQ(v, 7200, "2h");
	EXPECT_EQ(args_duration_s("--d", "1d", 86400, &v), 0, "days");
	EXPECT_EQ(v, 86400, "1d");
}

TEST(duration_rejects)
{
	const char *bad[] = { "-5", "5q", "5mm", "2d", "", "m" };
	uint64_t v;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		EXPECT_EQ(args_duration_s("--d", bad[i], 86400, &v), -EINVAL, bad[i]);
}

/* What args_* printed to stderr while fn ran (fd 2 to a temporary file). */
static const char *stderr_of(int (*fn)(const char *, const char *, uint64_t, uint64_t *),
			     const char *opt, const char *s, uint64_t max, int *ret)
{
	static char buf[512];
	char path[] = "/tmp/fm-test-args-XXXXXX";
	int fd = mkstemp(path), saved = dup(STDERR_FILENO);
	uint64_t v;
	ssize_t n;

	buf[0] = 0;
	if (fd < 0 || saved < 0)
		return buf;
	unlink(path);
	dup2(fd, STDERR_FILENO);
	*ret = fn(opt, s, max, &v);
	dup2(saved, STDERR_FILENO);
	close(saved);
	n = pread(fd, buf, sizeof(buf) - 1, 0);
	buf[n > 0 ? n : 0] = 0;
	close(fd);
	return buf;
}

/* A duration over the maximum is said to be that, in days (or hours,
 * minutes) and seconds, whatever unit it was given in: the bound applies
 * after the unit. */
TEST(duration_above_max_says_so)
{
	int ret = 0;

	EXPECT_STREQ(stderr_of(args_duration_s, "--idle-timeout", "99999m", 86400, &ret),
		     "flowmaster: --idle-timeout: '99999m' is more than 1d (86400 s)\n", "99999m");
	EXPECT_EQ(ret, -EINVAL, "99999m refused");
	EXPECT_STREQ(stderr_of(args_duration_s, "--idle-timeout", "86401", 86400, &ret),
		     "flowmaster: --idle-timeout: '86401' is more than 1d (86400 s)\n", "86401");
	EXPECT_STREQ(stderr_of(args_duration_s, "--active-timeout", "8d", 7 * 86400, &ret),
		     "flowmaster: --active-timeout: '8d' is more than 7d (604800 s)\n", "8d");
	EXPECT_STREQ(stderr_of(args_duration_s, "--d", "2m", 90, &ret),
		     "flowmaster: --d: '2m' is more than 90 s\n", "max in seconds");
	EXPECT_STREQ(stderr_of(args_duration_s, "--d", "3h", 7200, &ret),
		     "flowmaster: --d: '3h' is more than 2h (7200 s)\n", "max in hours");
	EXPECT_STREQ(stderr_of(args_duration_s, "--d", "99999999999999999999999d", 86400, &ret),
		     "flowmaster: --d: '99999999999999999999999d' is more than 1d (86400 s)\n",
		     "beyond 64 bits");
	EXPECT_STREQ(
		stderr_of(args_duration_s, "--d", "99999x", 86400, &ret),
		"flowmaster: --d: '99999x' is not a duration (e.g. 30, 90s, 5m, 2h) up to 86400 s\n",
		"a bad unit is not a duration");
	EXPECT_EQ(ret, -EINVAL, "bad unit refused");
	EXPECT_STREQ(stderr_of(args_duration_s, "--d", "1440m", 86400, &ret), "",
		     "1440m: no message");
	EXPECT_EQ(ret, 0, "1440m accepted");
}
