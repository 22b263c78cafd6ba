// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Bounded command-line number and duration parsing. */
#include "../testlib.h"
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
	const char *bad[] = { "", "-5", "+5", " 5", "5x", "x", "9", "21", "1e3", "0x10",
			      "18446744073709551616" };
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
