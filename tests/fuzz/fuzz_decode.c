// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * libFuzzer target: the collector's decoder (ipfix/decode.c) on arbitrary
 * datagrams from a few exporters, so templates learned from one datagram
 * meet data sets of the next. It must never read past a datagram, never
 * crash, count every datagram once (decoded or malformed by one reason),
 * emit only records with a valid end reason and the exporter's id, hand
 * on only printable interface names, and count no more flow records than
 * it emitted.
 *
 * Input: a sequence of datagrams, each a header of three bytes (the
 * sender: one of four addresses, IPv4 or IPv6; then the length, big
 * endian) and its bytes; a datagram the input cannot fill is cut to what
 * is left. Each is copied into a buffer of exactly its size so that ASan
 * sees any read past it. Seeds (tools/fuzz/corpus/fuzz_decode) are
 * datagrams captured in the interop tests: flowmaster's IPFIX, nfreplay's
 * NetFlow v9 and v5.
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "ipfix/decode.h"
#include "fuzz.h"

struct ctx {
	uint64_t emitted;
};

static int on_record(const struct fm_record *r, void *p)
{
	struct ctx *c = p;

	FUZZ_CHECK(r->end_reason < FM_END__MAX, "end reason %u", r->end_reason);
	FUZZ_CHECK(r->exporter_id >= 1 && r->exporter_id <= 8, "exporter id %u", r->exporter_id);
	c->emitted++;
	return 0;
}

static int new_exporter(void *ctx, struct dec_exporter *e)
{
	uint32_t *n = ctx;

	e->id = ++*n;
	return 0;
}

/* An interface name: printable ASCII, at most 64 characters. */
static void on_ifname(void *ctx, struct dec_exporter *e, uint32_t ifindex, const char *name)
{
	size_t n = strnlen(name, 65);

	(void)ctx;
	(void)ifindex;
	FUZZ_CHECK(n <= 64, "interface name of %zu characters", n);
	for (size_t i = 0; i < n; i++)
		FUZZ_CHECK(name[i] >= 0x20 && name[i] <= 0x7e, "byte %#x in a name",
			   (unsigned char)name[i]);
	FUZZ_CHECK(e->id >= 1 && e->id <= 8, "exporter id %u", e->id);
}

static void sender(uint8_t b, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (b & 4) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_addr.s6_addr[0] = 0x20;
		s6->sin6_addr.s6_addr[1] = 0x01;
		s6->sin6_addr.s6_addr[3] = 2;
		s6->sin6_addr.s6_addr[15] = (uint8_t)(b & 3);
		s6->sin6_port = htons(4739);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

		s4->sin_family = AF_INET;
		s4->sin_addr.s_addr = htonl(0xc6120000u | (b & 3));
		s4->sin_port = htons(4739);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dec_opts o = { .exporter_new = new_exporter,
			      .ifname = on_ifname,
			      .max_exporters = 8,
			      .max_templates = 8 };
	struct ctx c = { 0 };
	uint32_t ids = 0;
	struct dec *d;
	uint64_t n = 0, sum = 0;
	const struct dec_stats *st;

	o.ctx = &ids;
	if (dec_new(&d, &o))
		return 0;
	while (size >= 3) {
		struct sockaddr_storage ss;
		size_t len = (size_t)data[1] << 8 | data[2];
		uint8_t *buf;

		sender(data[0], &ss);
		data += 3;
		size -= 3;
		if (len > size)
			len = size;
		buf = malloc(len ? len : 1);
		if (!buf)
			break;
		memcpy(buf, data, len);
		dec_datagram(d, (struct sockaddr *)&ss, buf, len, 1764745000000, on_record, &c);
		free(buf);
		data += len;
		size -= len;
		n++;
	}
	st = dec_get_stats(d);
	FUZZ_CHECK(st->datagrams == n, "%llu datagrams counted of %llu",
		   (unsigned long long)st->datagrams, (unsigned long long)n);
	for (int i = 0; i < DEC_ERR__MAX; i++)
		sum += st->malformed[i];
	for (int i = 0; i < DEC_PROTO__MAX; i++)
		sum += st->by_proto[i];
	FUZZ_CHECK(sum == n, "decoded + malformed = %llu of %llu datagrams",
		   (unsigned long long)sum, (unsigned long long)n);
	FUZZ_CHECK(st->records == c.emitted, "%llu records counted, %llu emitted",
		   (unsigned long long)st->records, (unsigned long long)c.emitted);
	dec_free(d);
	return 0;
}
