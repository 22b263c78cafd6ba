/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Shared by the libFuzzer targets: FUZZ_CHECK(cond, fmt, ...) and
 * FUZZ_FAIL(fmt, ...) print what failed and abort, which libFuzzer reports
 * as a crash, saving the input (crash-<sha1>, see -artifact_prefix).
 */
#ifndef FM_FUZZ_H
#define FM_FUZZ_H

#include <stdio.h>
#include <stdlib.h>

/* stdout: fuzz_args points stderr at /dev/null to silence args_*. */
#define FUZZ_CHECK(cond, fmt, ...)                                                                 \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			printf("%s:%d: check failed: %s: " fmt "\n", __FILE__, __LINE__, #cond,    \
			       ##__VA_ARGS__);                                                     \
			fflush(stdout);                                                            \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

#define FUZZ_FAIL(fmt, ...)                                                                        \
	do {                                                                                       \
		printf("%s:%d: check failed: " fmt "\n", __FILE__, __LINE__, ##__VA_ARGS__);       \
		fflush(stdout);                                                                    \
		abort();                                                                           \
	} while (0)

#endif
