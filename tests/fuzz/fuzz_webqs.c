// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * libFuzzer target: the web view's query strings (user/web/qs.c), which
 * anyone who reaches the port can send. qs_parse() on arbitrary bytes, and
 * on what it accepts, web_filter_parse(). Checked against the contract
 * (web/qs.h):
 *   - an accepted string gives at most QS_MAX_PARAMS pairs, each key
 *     non-empty, of a-z 0-9 _, unique, each value without a control
 *     character and shorter than QS_VAL_MAX;
 *   - the pairs, percent-encoded again and joined, parse to the same pairs;
 *   - refused input says why;
 *   - accepted filters lie within their bounds: a non-empty window of at
 *     most ten years in at most WEB_BUCKETS_MAX steps of at least 1 s,
 *     limit, port, protocol and prefix in range, and an address that
 *     parses back and lies in its own network.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "web/qs.h"
#include "fuzz.h"

#define NOW 1796212700000LL

static void check_pairs(const struct qs *q)
{
	FUZZ_CHECK(q->n >= 0 && q->n <= QS_MAX_PARAMS, "%d pairs", q->n);
	for (int i = 0; i < q->n; i++) {
		const char *k = q->p[i].key, *v = q->p[i].val;
		size_t kn = strnlen(k, QS_KEY_MAX), vn = strnlen(v, QS_VAL_MAX);

		FUZZ_CHECK(kn > 0 && kn < QS_KEY_MAX, "key length %zu", kn);
		FUZZ_CHECK(vn < QS_VAL_MAX, "value length %zu", vn);
		for (size_t j = 0; j < kn; j++)
			FUZZ_CHECK((k[j] >= 'a' && k[j] <= 'z') || (k[j] >= '0' && k[j] <= '9') ||
					   k[j] == '_',
				   "key '%s'", k);
		for (size_t j = 0; j < vn; j++)
			FUZZ_CHECK((unsigned char)v[j] >= 0x20 && v[j] != 0x7f, "value of '%s'", k);
		for (int m = 0; m < i; m++)
			FUZZ_CHECK(strcmp(q->p[m].key, k), "key '%s' twice", k);
	}
}

/* The pairs encoded again: every byte but a-z 0-9 as %XX. */
static size_t encode(const struct qs *q, char *out)
{
	size_t n = 0;

	for (int i = 0; i < q->n; i++) {
		if (i)
			out[n++] = '&';
		n += (size_t)sprintf(out + n, "%s=", q->p[i].key);
		for (const char *v = q->p[i].val; *v; v++) {
			if ((*v >= 'a' && *v <= 'z') || (*v >= '0' && *v <= '9'))
				out[n++] = *v;
			else
				n += (size_t)sprintf(out + n, "%%%02X", (unsigned char)*v);
		}
	}
	out[n] = 0;
	return n;
}

static void check_filter(const struct web_filter *f)
{
	unsigned char b[16];
	int64_t w = f->until_ms - f->since_ms;

	FUZZ_CHECK(w > 0 && w <= WEB_WINDOW_MAX_MS, "window %lld ms", (long long)w);
	FUZZ_CHECK(f->step_ms >= 1000, "step %lld", (long long)f->step_ms);
	FUZZ_CHECK((w + f->step_ms - 1) / f->step_ms <= WEB_BUCKETS_MAX, "buckets");
	FUZZ_CHECK(f->limit >= 1 && f->limit <= WEB_LIMIT_MAX, "limit %u", f->limit);
	FUZZ_CHECK(f->port >= -1 && f->port <= 65535, "port %d", f->port);
	FUZZ_CHECK(f->protocol >= -1 && f->protocol <= 255, "protocol %d", f->protocol);
	FUZZ_CHECK(f->direction >= -1 && f->direction <= 1, "direction %d", f->direction);
	FUZZ_CHECK(strnlen(f->iface, sizeof(f->iface)) < sizeof(f->iface), "interface");
	if (f->addr[0]) {
		int bits = f->family == AF_INET ? 32 : 128;

		FUZZ_CHECK(f->family == AF_INET || f->family == AF_INET6, "family %d", f->family);
		FUZZ_CHECK(inet_pton(f->family, f->addr, b) == 1, "addr '%s'", f->addr);
		FUZZ_CHECK(f->prefix >= -1 && f->prefix <= bits, "prefix %d", f->prefix);
		if (f->prefix >= 0)
			FUZZ_CHECK(web_net_contains(f->family, f->net, f->prefix, f->addr),
				   "'%s/%d' not in its own network", f->addr, f->prefix);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char again[QS_MAX_PARAMS * (QS_KEY_MAX + 3 * QS_VAL_MAX + 2) + 1];
	struct qs q, q2;
	struct web_filter f;
	char why[256];
	int err;

	why[0] = 0;
	err = qs_parse((const char *)data, size, &q, why, sizeof(why));
	if (err) {
		FUZZ_CHECK(err == -EINVAL || err == -E2BIG, "error %d", err);
		FUZZ_CHECK(why[0], "refused without saying why");
		return 0;
	}
	check_pairs(&q);
	encode(&q, again);
	err = qs_parse(again, strlen(again), &q2, why, sizeof(why));
	if (!err) {
		FUZZ_CHECK(q2.n == q.n, "%d pairs, again %d", q.n, q2.n);
		for (int i = 0; i < q.n; i++)
			FUZZ_CHECK(!strcmp(q.p[i].key, q2.p[i].key) &&
					   !strcmp(q.p[i].val, q2.p[i].val),
				   "pair %d changed: '%s'='%s'", i, q.p[i].key, q.p[i].val);
	} else {
		/* Only the whole length can grow past its bound. */
		FUZZ_CHECK(err == -E2BIG && strlen(again) > QS_MAX_LEN, "re-encoded refused: %s",
			   why);
	}
	why[0] = 0;
	err = web_filter_parse(&q, NOW, &f, why, sizeof(why));
	if (err)
		FUZZ_CHECK(err == -EINVAL && why[0], "error %d without why", err);
	else
		check_filter(&f);
	return 0;
}
