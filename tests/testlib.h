/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * A tiny test runner shared by the C suites. Each test is a function
 * registered with TEST(); EXPECT_* records a failure and goes on, ASSERT_*
 * records it and leaves the test. Output, one line per test:
 *   ok - name | FAIL - name | skip - name: why
 * and a last line "SUITE: P passed, F failed, S skipped" that
 * tools/run-tests.sh adds up. Exit status is 1 when anything failed.
 */
#ifndef FM_TESTLIB_H
#define FM_TESTLIB_H

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct tl_test {
	const char *name;
	void (*fn)(void);
	struct tl_test *next;
};

extern struct tl_test *tl_head, **tl_tail;
extern int tl_failed_now, tl_skipped_now;

#define TEST(n)                                                                                    \
	static void test_##n(void);                                                                \
	static struct tl_test tl_t_##n = { #n, test_##n, NULL };                                   \
	__attribute__((constructor)) static void tl_reg_##n(void)                                  \
	{                                                                                          \
		*tl_tail = &tl_t_##n;                                                              \
		tl_tail = &tl_t_##n.next;                                                          \
	}                                                                                          \
	static void test_##n(void)

#define TL_FAIL(fmt, ...)                                                                          \
	do {                                                                                       \
		fprintf(stderr, "  %s:%d: " fmt "\n", __FILE__, __LINE__, ##__VA_ARGS__);          \
		tl_failed_now = 1;                                                                 \
	} while (0)

#define EXPECT_TRUE(c, what)                                                                       \
	do {                                                                                       \
		if (!(c))                                                                          \
			TL_FAIL("%s: expected true: %s", what, #c);                                \
	} while (0)
#define ASSERT_TRUE(c, what)                                                                       \
	do {                                                                                       \
		if (!(c)) {                                                                        \
			TL_FAIL("%s: expected true: %s", what, #c);                                \
			return;                                                                    \
		}                                                                                  \
	} while (0)
#define EXPECT_EQ(a, b, what)                                                                      \
	do {                                                                                       \
		long long _a = (long long)(a), _b = (long long)(b);                                \
		if (_a != _b)                                                                      \
			TL_FAIL("%s: %s == %lld, expected %s == %lld", what, #a, _a, #b, _b);      \
	} while (0)
#define ASSERT_EQ(a, b, what)                                                                      \
	do {                                                                                       \
		long long _a = (long long)(a), _b = (long long)(b);                                \
		if (_a != _b) {                                                                    \
			TL_FAIL("%s: %s == %lld, expected %s == %lld", what, #a, _a, #b, _b);      \
			return;                                                                    \
		}                                                                                  \
	} while (0)
#define EXPECT_STREQ(a, b, what)                                                                   \
	do {                                                                                       \
		const char *_a = (a), *_b = (b);                                                   \
		if (!_a || !_b || strcmp(_a, _b))                                                  \
			TL_FAIL("%s: \"%s\", expected \"%s\"", what, _a ? _a : "(null)",           \
				_b ? _b : "(null)");                                               \
	} while (0)
#define SKIP(fmt, ...)                                                                             \
	do {                                                                                       \
		printf("skip - %s: " fmt "\n", tl_current, ##__VA_ARGS__);                         \
		tl_skipped_now = 1;                                                                \
		return;                                                                            \
	} while (0)

extern const char *tl_current;

/* Define in exactly one file of each suite, before main. */
#define TESTLIB_MAIN(suite)                                                                        \
	struct tl_test *tl_head, **tl_tail = &tl_head;                                             \
	int tl_failed_now, tl_skipped_now;                                                         \
	const char *tl_current;                                                                    \
	int main(int argc, char **argv)                                                            \
	{                                                                                          \
		int passed = 0, failed = 0, skipped = 0;                                           \
		for (struct tl_test *t = tl_head; t; t = t->next) {                                \
			if (argc > 1 && !strstr(t->name, argv[1]))                                 \
				continue;                                                          \
			tl_current = t->name;                                                      \
			tl_failed_now = tl_skipped_now = 0;                                        \
			t->fn();                                                                   \
			fflush(stderr);                                                            \
			if (tl_skipped_now) {                                                      \
				skipped++;                                                         \
			} else if (tl_failed_now) {                                                \
				printf("FAIL - %s\n", t->name);                                    \
				failed++;                                                          \
			} else {                                                                   \
				printf("ok - %s\n", t->name);                                      \
				passed++;                                                          \
			}                                                                          \
			fflush(stdout);                                                            \
		}                                                                                  \
		printf("%s: %d passed, %d failed, %d skipped\n", suite, passed, failed, skipped);  \
		return failed ? 1 : 0;                                                             \
	}

#endif
