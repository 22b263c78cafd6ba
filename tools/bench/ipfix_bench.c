// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * IPFIX benchmark, in one process, no privileges:
 *   encode    records/s into 512-byte messages (ipfix/encode.c)
 *   export    records/s through the exporter sink: encode and sendto() a
 *             UDP socket on 127.0.0.1 that nobody reads (what the daemon
 *             pays per record), and CPU seconds per million records
 *   decode    records/s the collector's decoder reads from those messages
 *   collect   rows/s from datagrams to committed rows: decode, then the
 *             store's writer (exporter_id set, no devices: what
 *             `flowmaster collect` does after recvmmsg)
 *   raw       rows/s of a raw prepared-insert loop of the same rows into
 *             the same schema (10,000 per transaction), the SQLite ceiling
 * and the ratios decode cost / collect cost and collect / raw.
 *
 * Usage: build/bench/ipfix_bench [RECORDS] [DIR]   (1000000, /tmp)
 *        build/bench/ipfix_bench --send HOST:PORT RECORDS RATE
 * The second form sends RECORDS records as IPFIX messages of 512 bytes
 * to HOST:PORT at RATE records/s (0: as fast as it can), paced per
 * millisecond, and prints what it sent: the load for `flowmaster collect`
 * end to end (tools/bench/ipfix.sh).
 *        build/bench/ipfix_bench --pcap FILE RECORDS
 * The third form writes the same messages as a pcap file of Ethernet
 * frames (MACs zero, as on a loopback) 198.18.0.2:40000 -> 198.18.0.1:4739,
 * UDP checksum 0 (none, allowed over IPv4), 1 us apart: the recorded
 * stream tcpreplay offers to each collector in tools/bench/ipfix.sh.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sqlite3.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include "ipfix/decode.h"
#include "ipfix/encode.h"
#include "ipfix/export.h"
#include "ipfix/ipfix.h"
#include "store/store.h"
#include "common/rawloop.h"

#define SRC_ADDRS 15625
#define RAW_BATCH 10000
#define RUNS 3

static void make_record(struct fm_record *r, size_t i, int64_t t0)
{
	uint32_t a = 0xc6128000u + (uint32_t)(i % SRC_ADDRS);

	memset(r, 0, sizeof(*r));
	r->key.ifindex = 2;
	r->key.eth_type = 0x0800;
	memcpy(r->key.src_mac, "\x02\x00\x00\x00\x00\x01", 6);
	memcpy(r->key.dst_mac, "\x02\x00\x00\x00\x00\x02", 6);
	r->key.src_addr[10] = r->key.src_addr[11] = 0xff;
	r->key.dst_addr[10] = r->key.dst_addr[11] = 0xff;
	r->key.src_addr[12] = (uint8_t)(a >> 24);
	r->key.src_addr[13] = (uint8_t)(a >> 16);
	r->key.src_addr[14] = (uint8_t)(a >> 8);
	r->key.src_addr[15] = (uint8_t)a;
	r->key.dst_addr[12] = 198, r->key.dst_addr[13] = 18, r->key.dst_addr[15] = 2;
	r->key.src_port = (uint16_t)(10000 + i % 64);
	r->key.dst_port = 9;
	r->key.protocol = 17;
	r->packets = 10;
	r->bytes = 600;
	r->ip_bytes = 460;
	r->first_seen_ms = t0 + (int64_t)(i % 1000000) / 100;
	r->last_seen_ms = r->first_seen_ms + 9000;
	r->end_reason = FM_END_IDLE;
}

struct msgs {
	uint8_t *buf; /* n messages, IPFIX_MSG_DEFAULT bytes apart */
	size_t *len;
	size_t n;
};

/* Encode recs into messages (templates first); returns seconds. */
static double encode_all(const struct fm_record *recs, size_t n, struct msgs *m)
{
	struct ipfix_enc e;
	size_t cap = n / 4 + 16, i = 0;
	double t0;

	m->buf = malloc(cap * IPFIX_MSG_DEFAULT);
	m->len = malloc(cap * sizeof(size_t));
	m->n = 0;
	t0 = bench_now_s();
	ipfix_enc_init(&e, m->buf, IPFIX_MSG_DEFAULT, 1);
	ipfix_msg_begin(&e, 1764745000);
	ipfix_put_templates(&e, false, false);
	m->len[m->n++] = ipfix_msg_end(&e);
	while (i < n && m->n < cap) {
		e.buf = m->buf + m->n * IPFIX_MSG_DEFAULT;
		ipfix_msg_begin(&e, 1764745000);
		while (i < n && !ipfix_put_record(&e, &recs[i]))
			i++;
		m->len[m->n++] = ipfix_msg_end(&e);
	}
	return bench_now_s() - t0;
}

static int count(const struct fm_record *r, void *ctx)
{
	(void)r;
	(*(size_t *)ctx)++;
	return 0;
}

struct to_store {
	struct store *st;
	struct fm_record buf[4096];
	size_t n;
};

static void submit(struct to_store *t)
{
	while (t->n && store_submit(t->st, t->buf, t->n) == -EAGAIN)
		usleep(500);
	t->n = 0;
}

static int to_store(const struct fm_record *r, void *ctx)
{
	struct to_store *t = ctx;

	t->buf[t->n++] = *r;
	if (t->n == 4096)
		submit(t);
	return 0;
}

static int new_exporter(void *ctx, struct dec_exporter *e)
{
	(void)ctx;
	e->id = 1;
	return 0;
}

/* The raw loop (tools/bench/common/rawloop.c) with what the collector
 * stores: no interface, no devices, exporter 1. Seconds, or -1. */
static double raw_loop(const char *path, const struct fm_record *recs, size_t n)
{
	struct store *s;
	struct store_opts o = { .path = path };
	const struct raw_ids ids = { .exporter = 1 };
	struct raw_loop l;
	struct raw_text t;
	double t0, dt;

	bench_remove_db(path);
	if (store_open(&s, &o))
		return -1;
	store_close(s, NULL);
	if (raw_open(&l, path, "ipfix_bench"))
		return -1;
	t0 = bench_now_s();
	for (size_t i = 0; i < n; i++) {
		if (i % RAW_BATCH == 0 && raw_exec(&l, "BEGIN IMMEDIATE"))
			goto fail;
		raw_format(&recs[i], &t);
		if (raw_insert(&l, &recs[i], &t, &ids))
			goto fail;
		if ((i % RAW_BATCH == RAW_BATCH - 1 || i == n - 1) && raw_exec(&l, "COMMIT"))
			goto fail;
	}
	if (raw_close(&l))
		return -1;
	dt = bench_now_s() - t0;
	bench_remove_db(path);
	return dt;
fail:
	raw_close(&l);
	return -1;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static int send_mode(const char *dest, size_t n, double rate)
{
	struct fm_record *recs = malloc(n * sizeof(*recs));
	struct sockaddr_storage to;
	socklen_t tl;
	const char *why;
	struct msgs m;
	size_t sent = 0, failed = 0;
	double t0, t;
	int fd;

	if (!recs || ipfix_parse_addr(dest, &to, &tl, &why)) {
		fprintf(stderr, "ipfix_bench: --send %s: %s\n", dest, recs ? why : "no memory");
		return 2;
	}
	for (size_t i = 0; i < n; i++)
		make_record(&recs[i], i, 1764745000000);
	encode_all(recs, n, &m);
	fd = socket(to.ss_family, SOCK_DGRAM, 0);
	t0 = bench_now_s();
	for (size_t i = 0; i < m.n; i++) {
		/* Records due by now at RATE: wait for the next millisecond. */
		while (rate > 0 && i * (n / (double)m.n) > (bench_now_s() - t0) * rate)
			usleep(1000);
		if (sendto(fd, m.buf + i * IPFIX_MSG_DEFAULT, m.len[i], 0, (struct sockaddr *)&to,
			   tl) < 0)
			failed++;
		else
			sent++;
	}
	t = bench_now_s() - t0;
	printf("sent %zu messages (%zu records) in %.3f s: %.0f records/s; %zu sends failed\n",
	       sent, n, t, n / t, failed);
	close(fd);
	return failed ? 1 : 0;
}

/* The internet checksum of an IPv4 header. */
static uint16_t ip_csum(const uint8_t *p, size_t n)
{
	uint32_t s = 0;

	for (size_t i = 0; i < n; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

static int pcap_mode(const char *file, size_t n)
{
	struct fm_record *recs = malloc(n * sizeof(*recs));
	/* pcap global header: magic, 2.4, tz 0, sigfigs 0, snaplen, DLT_EN10MB. */
	uint32_t gh[6] = { 0xa1b2c3d4, 0x00040002, 0, 0, 65535, 1 };
	struct msgs m;
	FILE *f;

	if (!recs)
		return 1;
	for (size_t i = 0; i < n; i++)
		make_record(&recs[i], i, 1764745000000);
	encode_all(recs, n, &m);
	f = fopen(file, "w");
	if (!f) {
		perror(file);
		return 1;
	}
	fwrite(gh, sizeof(gh), 1, f);
	for (size_t i = 0; i < m.n; i++) {
		uint8_t h[42] = { 0 };
		size_t ulen = 8 + m.len[i], ilen = 20 + ulen;
		uint32_t ph[4] = { 1764745000 + (uint32_t)(i / 1000000), (uint32_t)(i % 1000000),
				   (uint32_t)(14 + ilen), (uint32_t)(14 + ilen) };

		h[12] = 0x08; /* EtherType IPv4; the MACs zero */
		h[14] = 0x45;
		h[16] = (uint8_t)(ilen >> 8), h[17] = (uint8_t)ilen;
		h[20] = 0x40; /* don't fragment */
		h[22] = 64, h[23] = 17;
		/* 198.18.0.2 -> 198.18.0.1: an injected frame from 127/8 is a
		 * martian to the receiving stack; the receiver's namespace puts
		 * 198.18.0.1 on its loopback. */
		h[26] = 198, h[27] = 18, h[29] = 2;
		h[30] = 198, h[31] = 18, h[33] = 1;
		ipfix_put16(h + 24, ip_csum(h + 14, 20));
		ipfix_put16(h + 34, 40000);
		ipfix_put16(h + 36, IPFIX_PORT);
		ipfix_put16(h + 38, (uint16_t)ulen);
		fwrite(ph, sizeof(ph), 1, f);
		fwrite(h, sizeof(h), 1, f);
		fwrite(m.buf + i * IPFIX_MSG_DEFAULT, m.len[i], 1, f);
	}
	if (fclose(f)) {
		perror(file);
		return 1;
	}
	printf("wrote %zu datagrams (%zu records, the first the templates) to %s\n", m.n, n, file);
	return 0;
}

int main(int argc, char **argv)
{
	size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 1000000, got = 0;
	const char *dir = argc > 2 ? argv[2] : "/tmp";
	struct fm_record *recs = malloc(n * sizeof(*recs));
	struct msgs m;
	struct ipfix_exporter *x;
	struct ipfix_export_stats xs;
	struct sockaddr_in sin = { .sin_family = AF_INET,
				   .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t sl = sizeof(sin);
	struct sink *k;
	struct dec *d;
	char dest[64], path[4096];
	double t, c0, enc_s, exp_s, exp_cpu, dec_s, col_s, raw_s, col[RUNS], raw[RUNS];
	int sink_fd;

	if (argc == 4 && !strcmp(argv[1], "--pcap"))
		return pcap_mode(argv[2], strtoul(argv[3], NULL, 10));
	if (argc == 5 && !strcmp(argv[1], "--send"))
		return send_mode(argv[2], strtoul(argv[3], NULL, 10), strtod(argv[4], NULL));
	if (!recs || !n)
		return 1;
	for (size_t i = 0; i < n; i++)
		make_record(&recs[i], i, 1764745000000);

	enc_s = encode_all(recs, n, &m);

	/* A socket that receives (and drops, once full) what is sent. */
	sink_fd = socket(AF_INET, SOCK_DGRAM, 0);
	bind(sink_fd, (struct sockaddr *)&sin, sizeof(sin));
	getsockname(sink_fd, (struct sockaddr *)&sin, &sl);
	snprintf(dest, sizeof(dest), "127.0.0.1:%u", ntohs(sin.sin_port));
	if (ipfix_export_open(&x, &(struct ipfix_export_opts){ .dest = dest }))
		return 1;
	k = ipfix_export_sink(x);
	c0 = bench_cpu_s();
	t = bench_now_s();
	for (size_t i = 0; i < n; i += 4096)
		k->take(k, recs + i, n - i < 4096 ? n - i : 4096);
	exp_s = bench_now_s() - t;
	exp_cpu = bench_cpu_s() - c0;
	ipfix_export_get_stats(x, &xs);
	ipfix_export_close(x);
	close(sink_fd);

	dec_new(&d, &(struct dec_opts){ .exporter_new = new_exporter });
	{
		struct sockaddr_in from = sin;

		t = bench_now_s();
		for (size_t i = 0; i < m.n; i++)
			dec_datagram(d, (struct sockaddr *)&from, m.buf + i * IPFIX_MSG_DEFAULT,
				     m.len[i], 0, count, &got);
		dec_s = bench_now_s() - t;
	}
	dec_free(d);

	snprintf(path, sizeof(path), "%s/ipfix_bench-%d.db", dir, (int)getpid());
	/* The two SQLite sides alternate, RUNS times each: medians, since
	 * other work on the machine moves single runs by tens of percent. */
	for (int run = 0; run < RUNS; run++) {
		struct to_store *ts = calloc(1, sizeof(*ts));
		struct store_opts o = { .path = path, .command = "collect" };
		struct sockaddr_in from = sin;
		uint64_t unwritten = 0;

		bench_remove_db(path);
		if (!ts || store_open(&ts->st, &o) || store_start(ts->st))
			return 1;
		dec_new(&d, &(struct dec_opts){ .exporter_new = new_exporter });
		t = bench_now_s();
		for (size_t i = 0; i < m.n; i++)
			dec_datagram(d, (struct sockaddr *)&from, m.buf + i * IPFIX_MSG_DEFAULT,
				     m.len[i], 0, to_store, ts);
		submit(ts);
		store_close(ts->st, &unwritten);
		col[run] = bench_now_s() - t;
		dec_free(d);
		free(ts);
		bench_remove_db(path);
		if (unwritten)
			fprintf(stderr, "ipfix_bench: %llu rows not written\n",
				(unsigned long long)unwritten);
		raw[run] = raw_loop(path, recs, n);
		if (raw[run] < 0)
			return 1;
	}
	qsort(col, RUNS, sizeof(double), cmp);
	qsort(raw, RUNS, sizeof(double), cmp);
	col_s = col[RUNS / 2];
	raw_s = raw[RUNS / 2];

	printf("ipfix_bench: %zu records (IPv4, %zu messages of <= %d bytes)\n", n, m.n,
	       IPFIX_MSG_DEFAULT);
	printf("  encode            %12.0f records/s\n", n / enc_s);
	printf("  export (sendto)   %12.0f records/s, %.2f CPU s per million records, %llu "
	       "messages, %llu records not sent\n",
	       n / exp_s, exp_cpu / (n / 1e6), (unsigned long long)xs.messages,
	       (unsigned long long)xs.records_unsent);
	printf("  decode            %12.0f records/s (%zu decoded)\n", got / dec_s, got);
	printf("  collect (decode + store) %5.0f rows/s (median of %d)\n", n / col_s, RUNS);
	printf("  raw insert loop   %12.0f rows/s (median of %d)\n", n / raw_s, RUNS);
	printf("  decode share of the collector's per-record cost %.1f %%; collect / raw %.3f\n",
	       100 * dec_s / col_s, raw_s / col_s);
	return 0;
}
