// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Query strings of the web view (web/qs.h). Nothing here trusts its input:
 * it comes from whoever can reach the port. Every copy is bounded by the
 * destination, every number by its range, and what is refused is said.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include "lib/proto.h"
#include "web/qs.h"

static int refuse(char *why, size_t len, int err, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int refuse(char *why, size_t len, int err, const char *fmt, ...)
{
	va_list ap;

	if (why && len) {
		va_start(ap, fmt);
		vsnprintf(why, len, fmt, ap);
		va_end(ap);
	}
	return err;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decode s[0..len) into out (size bytes with the NUL). */
static int decode(const char *s, size_t len, char *out, size_t size, bool key, char *why,
		  size_t why_len)
{
	size_t o = 0;

	for (size_t i = 0; i < len; i++) {
		int c = (unsigned char)s[i];

		if (c == '+') {
			c = ' ';
		} else if (c == '%') {
			int hi = i + 2 < len ? hexval(s[i + 1]) : -1;
			int lo = i + 2 < len ? hexval(s[i + 2]) : -1;

			if (hi < 0 || lo < 0)
				return refuse(why, why_len, -EINVAL,
					      "a %% not followed by two hex digits");
			c = hi << 4 | lo;
			i += 2;
		}
		if (c < 0x20 || c == 0x7f)
			return refuse(why, why_len, -EINVAL, "a control character in the query");
		if (key && !((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
			return refuse(why, why_len, -EINVAL,
				      "a parameter name may only hold a-z, 0-9 and _");
		if (o + 1 >= size)
			return refuse(why, why_len, -E2BIG, "a %s longer than %zu bytes",
				      key ? "parameter name" : "value", size - 1);
		out[o++] = (char)c;
	}
	out[o] = 0;
	return 0;
}

int qs_parse(const char *s, size_t len, struct qs *q, char *why, size_t why_len)
{
	size_t i = 0;
	int err;

	q->n = 0;
	if (len && s[0] == '?')
		i = 1;
	if (len > QS_MAX_LEN)
		return refuse(why, why_len, -E2BIG, "query string longer than %d bytes",
			      QS_MAX_LEN);
	while (i < len) {
		size_t end = i, eq;
		struct qs_param *p;

		while (end < len && s[end] != '&')
			end++;
		if (end == i) {
			i++;
			continue;
		}
		if (q->n >= QS_MAX_PARAMS)
			return refuse(why, why_len, -E2BIG, "more than %d parameters",
				      QS_MAX_PARAMS);
		p = &q->p[q->n];
		for (eq = i; eq < end && s[eq] != '='; eq++)
			;
		if (eq == i)
			return refuse(why, why_len, -EINVAL, "a value without a parameter name");
		err = decode(s + i, eq - i, p->key, sizeof(p->key), true, why, why_len);
		if (!err)
			err = eq < end ? decode(s + eq + 1, end - eq - 1, p->val, sizeof(p->val),
						false, why, why_len) :
					 (p->val[0] = 0);
		if (err)
			return err;
		if (qs_get(q, p->key))
			return refuse(why, why_len, -EINVAL, "parameter '%s' given twice", p->key);
		q->n++;
		i = end + 1;
	}
	return 0;
}

const char *qs_get(const struct qs *q, const char *key)
{
	for (int i = 0; i < q->n; i++)
		if (!strcmp(q->p[i].key, key))
			return q->p[i].val;
	return NULL;
}

/* A whole decimal number in [min, max]. */
static bool parse_num(const char *s, int64_t min, int64_t max, int64_t *out)
{
	int64_t v = 0;
	size_t i = 0;

	if (!s[0])
		return false;
	for (; s[i]; i++) {
		if (s[i] < '0' || s[i] > '9' || i >= 18)
			return false;
		v = v * 10 + (s[i] - '0');
	}
	if (v < min || v > max)
		return false;
	*out = v;
	return true;
}

/* N[smhd] as milliseconds, 1 s up to WEB_WINDOW_MAX_MS. */
static bool parse_dur(const char *s, int64_t *ms)
{
	char num[24];
	size_t n = strlen(s);
	int64_t mul = 1000, v;

	if (!n || n >= sizeof(num))
		return false;
	memcpy(num, s, n + 1);
	switch (num[n - 1]) {
	case 's':
		num[--n] = 0;
		break;
	case 'm':
		mul = 60 * 1000;
		num[--n] = 0;
		break;
	case 'h':
		mul = 3600 * 1000;
		num[--n] = 0;
		break;
	case 'd':
		mul = 86400 * 1000;
		num[--n] = 0;
		break;
	}
	if (!parse_num(num, 1, WEB_WINDOW_MAX_MS / mul, &v))
		return false;
	*ms = v * mul;
	return true;
}

static int parse_addr(const char *s, struct web_filter *f, char *why, size_t why_len)
{
	char host[64];
	const char *slash = strchr(s, '/');
	size_t n = slash ? (size_t)(slash - s) : strlen(s);
	int64_t prefix = -1;

	if (n >= sizeof(host))
		return refuse(why, why_len, -EINVAL, "addr: not an IP address or network");
	memcpy(host, s, n);
	host[n] = 0;
	if (inet_pton(AF_INET, host, f->net) == 1)
		f->family = AF_INET;
	else if (inet_pton(AF_INET6, host, f->net) == 1)
		f->family = AF_INET6;
	else
		return refuse(
			why, why_len, -EINVAL,
			"addr: not an IPv4 or IPv6 address, or a network such as 198.18.0.0/16");
	if (slash && !parse_num(slash + 1, 0, f->family == AF_INET ? 32 : 128, &prefix))
		return refuse(why, why_len, -EINVAL, "addr: the prefix length after / is 0-%d",
			      f->family == AF_INET ? 32 : 128);
	/* A network: keep the network's bits only. */
	if (prefix >= 0) {
		int bytes = f->family == AF_INET ? 4 : 16;

		for (int b = 0; b < bytes; b++) {
			int keep = (int)prefix - b * 8;

			if (keep <= 0)
				f->net[b] = 0;
			else if (keep < 8)
				f->net[b] &= (unsigned char)(0xff << (8 - keep));
		}
	}
	f->prefix = (int)prefix;
	if (!inet_ntop(f->family, f->net, f->addr, sizeof(f->addr)))
		return refuse(why, why_len, -EINVAL, "addr: cannot print it");
	return 0;
}

bool web_net_contains(int family, const unsigned char *net, int prefix, const char *a)
{
	unsigned char b[16];
	int bits = family == AF_INET ? 32 : 128;

	if (!a || prefix < 0 || prefix > bits || inet_pton(family, a, b) != 1)
		return false;
	for (int i = 0; i < prefix / 8; i++)
		if (b[i] != net[i])
			return false;
	if (prefix % 8) {
		unsigned char m = (unsigned char)(0xff << (8 - prefix % 8));

		if ((b[prefix / 8] & m) != net[prefix / 8])
			return false;
	}
	return true;
}

static int parse_proto(const char *s, int *out)
{
	int64_t v;

	if (parse_num(s, 0, 255, &v)) {
		*out = (int)v;
		return 0;
	}
	for (int p = 0; p < 256; p++) {
		const char *name = proto_name(p);

		if (name && !strcasecmp(name, s)) {
			*out = p;
			return 0;
		}
	}
	return -EINVAL;
}

static const char *const known_keys[] = {
	"since", "until", "last",  "step", "interface", "direction", "protocol",
	"addr",	 "port",  "limit", "sort", "by",	"token",     NULL,
};

int web_filter_parse(const struct qs *q, int64_t now_ms, struct web_filter *f, char *why,
		     size_t why_len)
{
	const char *v;
	int64_t n, last = WEB_LAST_DEFAULT_MS;

	memset(f, 0, sizeof(*f));
	f->direction = f->protocol = f->port = f->prefix = -1;
	f->limit = WEB_LIMIT_DEFAULT;
	for (int i = 0; i < q->n; i++) {
		int k = 0;

		while (known_keys[k] && strcmp(known_keys[k], q->p[i].key))
			k++;
		if (!known_keys[k])
			return refuse(why, why_len, -EINVAL, "unknown parameter '%s'", q->p[i].key);
	}
	if ((v = qs_get(q, "last"))) {
		if (!parse_dur(v, &last))
			return refuse(why, why_len, -EINVAL,
				      "last: a duration such as 15m, 1h or 24h (s, m, h, d)");
		f->window_given = true;
	}
	f->until_ms = now_ms + 1;
	if ((v = qs_get(q, "until"))) {
		if (!parse_num(v, 0, INT64_MAX / 4, &f->until_ms))
			return refuse(why, why_len, -EINVAL, "until: Unix time in milliseconds");
		f->window_given = true;
	}
	f->since_ms = f->until_ms - last;
	if ((v = qs_get(q, "since"))) {
		if (!parse_num(v, 0, INT64_MAX / 4, &f->since_ms))
			return refuse(why, why_len, -EINVAL, "since: Unix time in milliseconds");
		if (qs_get(q, "last"))
			return refuse(why, why_len, -EINVAL, "give since or last, not both");
		f->window_given = true;
	}
	if (f->since_ms >= f->until_ms)
		return refuse(why, why_len, -EINVAL, "the window is empty: since >= until");
	if (f->until_ms - f->since_ms > WEB_WINDOW_MAX_MS)
		return refuse(why, why_len, -EINVAL, "the window is longer than ten years");
	/* About 120 buckets, in whole seconds, at most WEB_BUCKETS_MAX. */
	f->step_ms = ((f->until_ms - f->since_ms) / 120 + 999) / 1000 * 1000;
	if ((v = qs_get(q, "step")) && !parse_dur(v, &f->step_ms))
		return refuse(why, why_len, -EINVAL, "step: a duration such as 10s or 5m");
	if (f->step_ms < 1000)
		f->step_ms = 1000;
	if ((f->until_ms - f->since_ms + f->step_ms - 1) / f->step_ms > WEB_BUCKETS_MAX)
		return refuse(why, why_len, -EINVAL,
			      "step: more than %d buckets in the window; give a longer step",
			      WEB_BUCKETS_MAX);
	if ((v = qs_get(q, "interface"))) {
		if (!v[0] || strlen(v) >= sizeof(f->iface))
			return refuse(why, why_len, -EINVAL, "interface: a name of 1 to %zu bytes",
				      sizeof(f->iface) - 1);
		strcpy(f->iface, v);
	}
	if ((v = qs_get(q, "direction")) && v[0]) {
		if (!strcmp(v, "ingress"))
			f->direction = 0;
		else if (!strcmp(v, "egress"))
			f->direction = 1;
		else
			return refuse(why, why_len, -EINVAL, "direction: ingress or egress");
	}
	if ((v = qs_get(q, "protocol")) && v[0] && parse_proto(v, &f->protocol))
		return refuse(why, why_len, -EINVAL,
			      "protocol: a name such as tcp, udp, icmp, or a number 0-255");
	if ((v = qs_get(q, "addr")) && v[0]) {
		int err = parse_addr(v, f, why, why_len);

		if (err)
			return err;
	}
	if ((v = qs_get(q, "port")) && v[0]) {
		if (!parse_num(v, 0, 65535, &n))
			return refuse(why, why_len, -EINVAL, "port: a number 0-65535");
		f->port = (int)n;
	}
	if ((v = qs_get(q, "limit"))) {
		if (!parse_num(v, 1, WEB_LIMIT_MAX, &n))
			return refuse(why, why_len, -EINVAL, "limit: a number 1-%d", WEB_LIMIT_MAX);
		f->limit = (unsigned)n;
	}
	if ((v = qs_get(q, "sort"))) {
		if (!strcmp(v, "bytes"))
			f->sort = SORT_BYTES;
		else if (!strcmp(v, "packets"))
			f->sort = SORT_PACKETS;
		else if (!strcmp(v, "flows"))
			f->sort = SORT_FLOWS;
		else
			return refuse(why, why_len, -EINVAL, "sort: bytes, packets or flows");
	}
	if ((v = qs_get(q, "by"))) {
		if (!strcmp(v, "protocol"))
			f->group = GROUP_PROTOCOL;
		else if (!strcmp(v, "direction"))
			f->group = GROUP_DIRECTION;
		else
			return refuse(why, why_len, -EINVAL, "by: protocol or direction");
	}
	if ((v = qs_get(q, "token"))) {
		if (strlen(v) >= sizeof(f->token))
			return refuse(why, why_len, -EINVAL, "token: too long");
		strcpy(f->token, v);
	}
	return 0;
}
