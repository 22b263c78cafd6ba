// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * fmt_ip4 and fmt_ip6 print what glibc's inet_ntop prints, byte for byte
 * (the flows and devices tables hold that text): every IPv4 byte value,
 * the special IPv6 forms, and a few hundred thousand addresses built from
 * zero, 0xffff and random groups so that every run of zeros, its position
 * and the mapped / compatible forms come up.
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../testlib.h"
#include "lib/fmt.h"

TESTLIB_MAIN("fmt_ip")

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint32_t next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 16);
}

/* 1 when fmt_ip6 differs from inet_ntop for a (reported once per test). */
static int check6(const uint8_t *a)
{
	char want[INET6_ADDRSTRLEN], got[INET6_ADDRSTRLEN + 8];
	size_t n;

	inet_ntop(AF_INET6, a, want, sizeof(want));
	memset(got, 'x', sizeof(got));
	n = fmt_ip6(got, a);
	if (strcmp(got, want) || n != strlen(want)) {
		TL_FAIL("fmt_ip6: \"%s\" (%zu), inet_ntop: \"%s\"", got, n, want);
		return 1;
	}
	return 0;
}

TEST(ip4_every_byte)
{
	char want[INET_ADDRSTRLEN], got[INET_ADDRSTRLEN];
	uint8_t a[4];

	for (unsigned v = 0; v < 256; v++) {
		for (int pos = 0; pos < 4; pos++) {
			memset(a, pos & 1 ? 0 : 255, 4);
			a[pos] = (uint8_t)v;
			inet_ntop(AF_INET, a, want, sizeof(want));
			EXPECT_EQ(fmt_ip4(got, a), strlen(want), want);
			EXPECT_STREQ(got, want, "fmt_ip4");
		}
	}
	for (int i = 0; i < 100000; i++) {
		uint32_t r = next_rand();

		memcpy(a, &r, 4);
		inet_ntop(AF_INET, a, want, sizeof(want));
		fmt_ip4(got, a);
		if (strcmp(got, want)) {
			EXPECT_STREQ(got, want, "fmt_ip4 random");
			break;
		}
	}
}

TEST(ip6_special_forms)
{
	static const char *const texts[] = {
		"::",
		"::1",
		"1::",
		"::ffff:198.18.0.1",
		"::198.18.0.1",
		"::ffff:0.0.0.0",
		"::ffff:0:0:0",
		"::1:0:0:0",
		"2001:2::1",
		"2001:2:0:1::a",
		"2001:0:0:1::1",
		"1:0:0:2:0:0:0:3",
		"1:0:0:2:0:0:3:4",
		"1:0:2:0:3:0:4:0",
		"fe80::1:ffff:0:1",
		"ff02::1:ff00:1",
		"1:2:3:4:5:6:7:8",
		"abcd:ef01:2345:6789:abcd:ef01:2345:6789",
		"0:0:1::",
		"64:ff9b::198.18.0.1",
		"::fffe:198.18.0.1",
		"::ffff:1:198.18.0.1",
		"1::ffff:198.18.0.1",
	};
	uint8_t a[16];

	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		ASSERT_EQ(inet_pton(AF_INET6, texts[i], a), 1, texts[i]);
		check6(a);
	}
}

TEST(ip6_generated)
{
	/* Each group zero, 0xffff, small or random: runs of zeros of every
	 * length at every place, ties between runs, mapped-looking forms. */
	for (int i = 0; i < 300000; i++) {
		uint8_t a[16];

		for (int g = 0; g < 8; g++) {
			uint32_t r = next_rand(), w;

			switch (r & 7) {
			case 0:
			case 1:
			case 2:
				w = 0;
				break;
			case 3:
				w = 0xffff;
				break;
			case 4:
				w = (r >> 3) & 0xf;
				break;
			case 5:
				w = (r >> 3) & 0xff;
				break;
			default:
				w = (r >> 3) & 0xffff;
				break;
			}
			a[2 * g] = (uint8_t)(w >> 8);
			a[2 * g + 1] = (uint8_t)w;
		}
		if (check6(a))
			break;
	}
	/* Every pattern of zero and non-zero groups, all 256. */
	for (unsigned m = 0; m < 256; m++) {
		uint8_t a[16] = { 0 };

		for (int g = 0; g < 8; g++)
			if (m & (1u << g))
				a[2 * g + 1] = (uint8_t)(g + 1);
		if (check6(a))
			break;
		a[10] = a[11] = 0xff; /* and with group 5 0xffff */
		if (check6(a))
			break;
	}
}
