/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Now, in the units the daemon counts in. */
#ifndef FM_CLOCK_H
#define FM_CLOCK_H

#include <stdint.h>
#include <time.h>

/* Milliseconds of clock id: CLOCK_REALTIME gives Unix epoch ms. */
static inline int64_t clock_ms(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static inline int64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Milliseconds with a fraction, for timing work. */
static inline double clock_ms_f(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Unix epoch ms. */
static inline int64_t now_ms(void)
{
	return clock_ms(CLOCK_REALTIME);
}

/* CLOCK_MONOTONIC ms, for deadlines and intervals. */
static inline int64_t mono_ms(void)
{
	return clock_ms(CLOCK_MONOTONIC);
}

#endif
