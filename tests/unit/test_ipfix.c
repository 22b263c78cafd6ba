// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* IPFIX encoder and the collector's decoder: what one writes the other
 * reads back exactly; NetFlow v9 and v5 datagrams; malformed datagrams
 * counted by reason; sequence gaps; data before its template. */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "ipfix/decode.h"
#include "ipfix/encode.h"
#include "ipfix/export.h"
#include "ipfix/ipfix.h"
#include "../testlib.h"

#define MAXREC 256

struct got {
	struct fm_record r[MAXREC];
	size_t n;
};

static int collect(const struct fm_record *r, void *ctx)
{
	struct got *g = ctx;

	if (g->n < MAXREC)
		g->r[g->n++] = *r;
	return 0;
}

static int new_exporter(void *ctx, struct dec_exporter *e)
{
	(*(uint32_t *)ctx)++;
	e->id = *(uint32_t *)ctx;
	return 0;
}

static struct sockaddr_in from4(void)
{
	struct sockaddr_in s = { .sin_family = AF_INET, .sin_port = htons(40000) };

	inet_pton(AF_INET, "198.18.0.1", &s.sin_addr);
	return s;
}

static struct fm_record rec_ipv4(int i)
{
	struct fm_record r;

	memset(&r, 0, sizeof(r));
	r.key.ifindex = 7;
	r.key.eth_type = FM_ETH_P_IP;
	r.key.src_addr[10] = r.key.src_addr[11] = r.key.dst_addr[10] = r.key.dst_addr[11] = 0xff;
	r.key.src_addr[12] = 198, r.key.src_addr[13] = 18, r.key.src_addr[15] = 1;
	r.key.dst_addr[12] = 198, r.key.dst_addr[13] = 18, r.key.dst_addr[15] = 2;
	r.key.src_port = (uint16_t)(10000 + i);
	r.key.dst_port = 9;
	r.key.protocol = 17;
	r.key.tos = 0x28;
	memcpy(r.key.src_mac, "\x02\x00\x00\x00\x00\x01", 6);
	memcpy(r.key.dst_mac, "\x02\x00\x00\x00\x00\x02", 6);
	r.packets = 100 + (uint64_t)i;
	r.bytes = r.packets * 60;
	r.ip_bytes = r.packets * 46;
	r.first_seen_ms = 1764745000123 + i;
	r.last_seen_ms = 1764745009456 + i;
	r.end_reason = FM_END_IDLE;
	return r;
}

static struct fm_record rec_ipv6(void)
{
	struct fm_record r = rec_ipv4(0);

	r.key.eth_type = FM_ETH_P_IPV6;
	memset(r.key.src_addr, 0, 16);
	memset(r.key.dst_addr, 0, 16);
	r.key.src_addr[0] = 0x20, r.key.src_addr[1] = 0x01, r.key.src_addr[3] = 2;
	r.key.src_addr[15] = 1;
	memcpy(r.key.dst_addr, r.key.src_addr, 16);
	r.key.dst_addr[15] = 2;
	r.key.protocol = 58;
	r.key.src_port = r.key.dst_port = 0;
	r.key.icmp_type = 128;
	r.key.icmp_code = 0;
	r.key.direction = FM_DIR_EGRESS;
	r.key.flags = FM_KF_VLAN;
	r.key.vlan_id = 42;
	r.tcp_flags = 0;
	r.end_reason = FM_END_SHUTDOWN;
	return r;
}

static struct fm_record rec_nonip(void)
{
	struct fm_record r = rec_ipv4(0);

	r.key.eth_type = FM_ETH_P_ARP;
	memset(r.key.src_addr, 0, 16);
	memset(r.key.dst_addr, 0, 16);
	r.key.src_port = r.key.dst_port = 0;
	r.key.protocol = 0;
	r.key.tos = 0;
	r.ip_bytes = 0;
	r.end_reason = FM_END_ACTIVE;
	return r;
}

static struct fm_record rec_unattr(void)
{
	struct fm_record r;

	memset(&r, 0, sizeof(r));
	r.key.ifindex = 7;
	r.packets = 5;
	r.bytes = 300;
	r.first_seen_ms = 1764745000000;
	r.last_seen_ms = 1764745001000;
	r.end_reason = FM_END_OVERFLOW;
	return r;
}

static bool same(const struct fm_record *a, const struct fm_record *b, uint32_t exporter)
{
	struct fm_record x = *a;

	x.exporter_id = exporter;
	return !memcmp(&x, b, sizeof(x));
}

/* Encode recs (templates first) into messages of size cap; decode each. */
static size_t roundtrip(struct dec *d, const struct fm_record *recs, size_t n, size_t cap,
			struct got *g)
{
	uint8_t buf[IPFIX_MSG_MAX];
	struct ipfix_enc e;
	struct sockaddr_in s = from4();
	size_t msgs = 0, i = 0;

	ipfix_enc_init(&e, buf, cap, 3);
	ipfix_msg_begin(&e, 1764745010);
	ipfix_put_templates(&e, true, false);
	ipfix_put_stats(&e, &(struct ipfix_stats_rec){ 1, 2, 3, 4 });
	dec_datagram(d, (struct sockaddr *)&s, buf, ipfix_msg_end(&e), 0, collect, g);
	msgs++;
	while (i < n) {
		ipfix_msg_begin(&e, 1764745010);
		while (i < n && !ipfix_put_record(&e, &recs[i]))
			i++;
		dec_datagram(d, (struct sockaddr *)&s, buf, ipfix_msg_end(&e), 0, collect, g);
		msgs++;
	}
	return msgs;
}

TEST(ipfix_roundtrip_every_template)
{
	struct fm_record recs[40];
	struct got g = { .n = 0 };
	struct dec *d;
	uint32_t ids = 0;
	size_t msgs;

	for (int i = 0; i < 36; i++)
		recs[i] = rec_ipv4(i);
	recs[5].tcp_flags = 0x1b;
	recs[6].end_reason = FM_END_TCP_END;
	recs[7].key.direction = FM_DIR_EGRESS;
	recs[8].end_reason = FM_END_PRESSURE;
	recs[9].key.protocol = 1, recs[9].key.src_port = recs[9].key.dst_port = 0;
	recs[9].key.icmp_type = 8, recs[9].key.icmp_code = 0;
	recs[36] = rec_ipv6();
	recs[37] = rec_nonip();
	recs[38] = rec_unattr();
	recs[39] = rec_ipv4(99);
	ASSERT_TRUE(!dec_new(&d, &(struct dec_opts){ .exporter_new = new_exporter, .ctx = &ids }),
		    "dec_new");
	msgs = roundtrip(d, recs, 40, IPFIX_MSG_DEFAULT, &g);
	EXPECT_TRUE(msgs > 8, "512-byte messages: several");
	EXPECT_EQ(g.n, 40, "records decoded");
	for (size_t i = 0; i < g.n && i < 40; i++)
		if (!same(&recs[i], &g.r[i], 1))
			TL_FAIL("record %zu differs after the round trip", i);
	EXPECT_EQ(dec_get_stats(d)->option_records, 1, "the statistics record");
	EXPECT_EQ(dec_get_stats(d)->lost, 0, "nothing lost");
	EXPECT_EQ(dec_get_stats(d)->templates, 5, "templates");
	EXPECT_EQ(ids, 1, "one exporter");
	dec_free(d);
}

TEST(ipfix_message_sizes)
{
	uint8_t buf[IPFIX_MSG_MAX];
	struct ipfix_enc e;
	struct fm_record r = rec_ipv4(0), r6 = rec_ipv6();
	size_t n = 0, len;

	ipfix_enc_init(&e, buf, IPFIX_MSG_DEFAULT, 0);
	ipfix_msg_begin(&e, 0);
	EXPECT_EQ(ipfix_put_templates(&e, true, false), 0, "templates fit 512 bytes");
	len = ipfix_msg_end(&e);
	EXPECT_TRUE(len <= 512, "template message within 512");
	ipfix_msg_begin(&e, 0);
	while (!ipfix_put_record(&e, n % 2 ? &r6 : &r))
		n++;
	len = ipfix_msg_end(&e);
	EXPECT_TRUE(len <= 512 && len > 400, "a full data message is just under 512");
	EXPECT_EQ(ipfix_get16(buf + 2), len, "header length");
	EXPECT_EQ(e.seq, n, "sequence counts data records");
	EXPECT_EQ(ipfix_tpl_reclen(IPFIX_TPL_IPV4), 83, "IPv4 record bytes");
}

TEST(ipfix_sequence_gap_and_unknown_template)
{
	uint8_t buf[IPFIX_MSG_MAX];
	struct ipfix_enc e;
	struct fm_record r = rec_ipv4(1);
	struct sockaddr_in s = from4();
	struct got g = { .n = 0 };
	struct dec *d;
	size_t len;

	ASSERT_TRUE(!dec_new(&d, NULL), "dec_new");
	ipfix_enc_init(&e, buf, 1400, 0);
	/* Data before its template: counted, skipped. */
	ipfix_msg_begin(&e, 1);
	ipfix_put_record(&e, &r);
	ipfix_put_record(&e, &r);
	len = ipfix_msg_end(&e);
	EXPECT_EQ(dec_datagram(d, (struct sockaddr *)&s, buf, len, 0, collect, &g), DEC_OK,
		  "template-less data is not malformed");
	EXPECT_EQ(g.n, 0, "nothing decoded without the template");
	EXPECT_EQ(dec_get_stats(d)->unknown_sets, 1, "unknown set counted");
	ipfix_msg_begin(&e, 1);
	ipfix_put_templates(&e, false, false);
	dec_datagram(d, (struct sockaddr *)&s, buf, ipfix_msg_end(&e), 0, collect, &g);
	/* The two records above went unseen; now a message, then one lost. */
	ipfix_msg_begin(&e, 1);
	ipfix_put_record(&e, &r);
	dec_datagram(d, (struct sockaddr *)&s, buf, ipfix_msg_end(&e), 0, collect, &g);
	ipfix_msg_begin(&e, 1);
	ipfix_put_record(&e, &r);
	ipfix_put_record(&e, &r);
	ipfix_put_record(&e, &r);
	ipfix_msg_end(&e); /* never sent: 3 records lost */
	ipfix_msg_begin(&e, 1);
	ipfix_put_record(&e, &r);
	dec_datagram(d, (struct sockaddr *)&s, buf, ipfix_msg_end(&e), 0, collect, &g);
	EXPECT_EQ(g.n, 2, "records decoded");
	/* The 2 records of the first message were never decoded: lost too. */
	EXPECT_EQ(dec_get_stats(d)->lost, 2 + 3, "lost records by sequence");
	dec_free(d);
}

TEST(ipfix_malformed_counted)
{
	uint8_t buf[IPFIX_MSG_MAX], bad[IPFIX_MSG_MAX];
	struct ipfix_enc e;
	struct fm_record r = rec_ipv4(1);
	struct sockaddr_in s = from4();
	struct got g = { .n = 0 };
	struct dec *d;
	size_t len;

	ASSERT_TRUE(!dec_new(&d, NULL), "dec_new");
	ipfix_enc_init(&e, buf, 1400, 0);
	ipfix_msg_begin(&e, 1);
	ipfix_put_templates(&e, false, false);
	ipfix_put_record(&e, &r);
	len = ipfix_msg_end(&e);
	EXPECT_EQ(dec_datagram(d, (struct sockaddr *)&s, buf, 10, 0, collect, &g), DEC_ERR_SHORT,
		  "short");
	EXPECT_EQ(dec_datagram(d, (struct sockaddr *)&s, buf, len - 1, 0, collect, &g),
		  DEC_ERR_LENGTH, "truncated");
	memcpy(bad, buf, len);
	bad[1] = 11;
	EXPECT_EQ(dec_datagram(d, (struct sockaddr *)&s, bad, len, 0, collect, &g), DEC_ERR_VERSION,
		  "version");
	memcpy(bad, buf, len);
	ipfix_put16(bad + 18, 3); /* the template set's length */
	EXPECT_EQ(dec_datagram(d, (struct sockaddr *)&s, bad, len, 0, collect, &g), DEC_ERR_SET,
		  "set length");
	memcpy(bad, buf, len);
	ipfix_put16(bad + 20, 17); /* a template id below 256 */
	EXPECT_EQ(dec_datagram(d, (struct sockaddr *)&s, bad, len, 0, collect, &g),
		  DEC_ERR_TEMPLATE, "template id");
	EXPECT_EQ(g.n, 0, "nothing decoded from malformed datagrams");
	EXPECT_EQ(dec_datagram(d, (struct sockaddr *)&s, buf, len, 0, collect, &g), DEC_OK,
		  "the next good datagram");
	EXPECT_EQ(g.n, 1, "and its record");
	EXPECT_EQ(dec_get_stats(d)->malformed[DEC_ERR_SHORT], 1, "short counted");
	EXPECT_EQ(dec_get_stats(d)->malformed[DEC_ERR_LENGTH], 1, "length counted");
	EXPECT_EQ(dec_get_stats(d)->malformed[DEC_ERR_VERSION], 1, "version counted");
	dec_free(d);
}

TEST(netflow_v5)
{
	uint8_t b[NF5_HDR_LEN + 2 * NF5_REC_LEN] = { 0 };
	struct sockaddr_in s = from4();
	struct got g = { .n = 0 };
	struct dec *d;
	uint8_t *p = b + NF5_HDR_LEN;

	ipfix_put16(b, 5);
	ipfix_put16(b + 2, 2);
	ipfix_put32(b + 4, 100000);	/* uptime ms */
	ipfix_put32(b + 8, 1764745000); /* unix secs */
	ipfix_put32(b + 16, 50);	/* sequence */
	for (int i = 0; i < 2; i++, p += NF5_REC_LEN) {
		p[0] = 198, p[1] = 18, p[3] = 1;
		p[4] = 198, p[5] = 18, p[7] = 2;
		ipfix_put16(p + 12, 3);
		ipfix_put32(p + 16, 10);
		ipfix_put32(p + 20, 1000);
		ipfix_put32(p + 24, 90000);
		ipfix_put32(p + 28, 99000);
		ipfix_put16(p + 32, (uint16_t)(1000 + i));
		ipfix_put16(p + 34, 80);
		p[37] = 0x12;
		p[38] = 6;
	}
	ASSERT_TRUE(!dec_new(&d, NULL), "dec_new");
	EXPECT_EQ(dec_datagram(d, (struct sockaddr *)&s, b, sizeof(b), 0, collect, &g), DEC_OK,
		  "v5");
	ASSERT_TRUE(g.n == 2, "two records");
	EXPECT_EQ(g.r[1].key.src_port, 1001, "port");
	EXPECT_EQ(g.r[0].packets, 10, "packets");
	EXPECT_EQ(g.r[0].ip_bytes, 1000, "bytes");
	EXPECT_EQ(g.r[0].first_seen_ms, 1764745000000 - 10000, "first from uptime");
	EXPECT_EQ(g.r[0].last_seen_ms, 1764745000000 - 1000, "last from uptime");
	EXPECT_EQ(g.r[0].tcp_flags, 0x12, "flags");
	/* The next one skips 5 records. */
	ipfix_put32(b + 16, 57);
	dec_datagram(d, (struct sockaddr *)&s, b, sizeof(b), 0, collect, &g);
	EXPECT_EQ(dec_get_stats(d)->lost, 5, "v5 gap in records");
	EXPECT_EQ(dec_datagram(d, (struct sockaddr *)&s, b, sizeof(b) - 1, 0, collect, &g),
		  DEC_ERR_LENGTH, "truncated v5");
	dec_free(d);
}

TEST(netflow_v9)
{
	uint8_t b[256] = { 0 };
	struct sockaddr_in s = from4();
	struct got g = { .n = 0 };
	struct dec *d;
	size_t off = NF9_HDR_LEN;
	static const uint16_t f[][2] = { { 8, 4 }, { 12, 4 }, { 7, 2 },	 { 11, 2 }, { 4, 1 },
					 { 2, 4 }, { 1, 4 },  { 22, 4 }, { 21, 4 } };

	ipfix_put16(b, 9);
	ipfix_put32(b + 4, 100000);
	ipfix_put32(b + 8, 1764745000);
	ipfix_put32(b + 12, 7);
	ipfix_put32(b + 16, 1);
	/* Template set 0: template 300. */
	ipfix_put16(b + off, 0);
	ipfix_put16(b + off + 2, (uint16_t)(8 + 4 * 9));
	ipfix_put16(b + off + 4, 300);
	ipfix_put16(b + off + 6, 9);
	for (int i = 0; i < 9; i++) {
		ipfix_put16(b + off + 8 + 4 * i, f[i][0]);
		ipfix_put16(b + off + 10 + 4 * i, f[i][1]);
	}
	off += 8 + 4 * 9;
	/* Data set 300: one record of 29 bytes, 3 bytes of padding. */
	ipfix_put16(b + off, 300);
	ipfix_put16(b + off + 2, 4 + 29 + 3);
	{
		uint8_t *p = b + off + 4;

		p[0] = 198, p[1] = 18, p[3] = 1, p[4] = 198, p[5] = 18, p[7] = 2;
		ipfix_put16(p + 8, 5000);
		ipfix_put16(p + 10, 53);
		p[12] = 17;
		ipfix_put32(p + 13, 4);
		ipfix_put32(p + 17, 400);
		ipfix_put32(p + 21, 95000);
		ipfix_put32(p + 25, 99500);
	}
	off += 36;
	ASSERT_TRUE(!dec_new(&d, NULL), "dec_new");
	EXPECT_EQ(dec_datagram(d, (struct sockaddr *)&s, b, off, 0, collect, &g), DEC_OK, "v9");
	ASSERT_TRUE(g.n == 1, "one record");
	EXPECT_EQ(g.r[0].key.eth_type, FM_ETH_P_IP, "IPv4 from the addresses");
	EXPECT_EQ(g.r[0].key.dst_port, 53, "port");
	EXPECT_EQ(g.r[0].packets, 4, "packets");
	EXPECT_EQ(g.r[0].bytes, 400, "bytes from IN_BYTES");
	EXPECT_EQ(g.r[0].first_seen_ms, 1764745000000 - 5000, "first");
	EXPECT_EQ(g.r[0].last_seen_ms, 1764745000000 - 500, "last");
	/* v9 counts datagrams: 7, then 9 is one datagram lost. */
	ipfix_put32(b + 12, 9);
	dec_datagram(d, (struct sockaddr *)&s, b, off, 0, collect, &g);
	EXPECT_EQ(dec_get_stats(d)->lost, 1, "v9 gap in datagrams");
	dec_free(d);
}
struct names {
	uint32_t ifindex[4];
	char name[4][65];
	int n;
};

static void on_ifname(void *ctx, struct dec_exporter *e, uint32_t ifindex, const char *name)
{
	struct names *nm = ctx;

	(void)e;
	if (nm->n < 4) {
		nm->ifindex[nm->n] = ifindex;
		snprintf(nm->name[nm->n++], 65, "%s", name);
	}
}

/* --ipfix-ifnames: template 261 and its records decode to (ifindex, name);
 * they count in the sequence numbers; 512-byte template messages hold
 * the statistics and the names' templates too. */
TEST(ipfix_ifnames_roundtrip)
{
	uint8_t buf[IPFIX_MSG_DEFAULT];
	struct ipfix_enc e;
	struct sockaddr_in s = from4();
	struct names nm = { .n = 0 };
	struct got g = { .n = 0 };
	struct fm_record r = rec_ipv4(0);
	struct dec *d;
	size_t len;

	ipfix_enc_init(&e, buf, sizeof(buf), 3);
	ipfix_msg_begin(&e, 1764745000);
	EXPECT_EQ(ipfix_put_templates(&e, true, true), 0, "both options templates fit");
	EXPECT_EQ(ipfix_put_ifname(&e, 7, "veth-0123456789abcdef"), 0, "a name");
	EXPECT_EQ(ipfix_put_ifname(&e, 9, "lo"), 0, "another");
	EXPECT_EQ(ipfix_put_record(&e, &r), 0, "a record");
	len = ipfix_msg_end(&e);
	EXPECT_TRUE(len <= 512, "within 512");
	EXPECT_EQ(e.seq, 3, "the names count as data records");
	ASSERT_TRUE(!dec_new(&d, &(struct dec_opts){ .ifname = on_ifname, .ctx = &nm }), "dec");
	EXPECT_EQ(dec_datagram(d, (struct sockaddr *)&s, buf, len, 0, collect, &g), DEC_OK, "ok");
	ASSERT_TRUE(nm.n == 2, "two names");
	EXPECT_EQ(nm.ifindex[0], 7, "ifindex");
	EXPECT_TRUE(!strcmp(nm.name[0], "veth-0123456789a"), "cut at 16 octets");
	EXPECT_EQ(nm.ifindex[1], 9, "ifindex 2");
	EXPECT_TRUE(!strcmp(nm.name[1], "lo"), "NUL padding dropped");
	EXPECT_EQ(g.n, 1, "the flow record");
	EXPECT_EQ(dec_get_stats(d)->option_records, 2, "options records");
	dec_free(d);
}

/* An IPFIX options template with samplingPacketInterval 1 and
 * samplingPacketSpace 3 (softflowd -s 4), then a record by an ICMP
 * template without an ICMP element (type.code in the destination port):
 * packets and bytes x 4, ICMP 3.3 from port 771. */
TEST(ipfix_sampling_and_icmp_port)
{
	uint8_t b[256] = { 0 };
	struct sockaddr_in s = from4();
	struct got g = { .n = 0 };
	struct dec *d;
	size_t off = IPFIX_MSG_HDR_LEN;
	static const uint16_t of[][2] = { { 143, 4 }, { 305, 4 }, { 306, 4 } };
	static const uint16_t ff[][2] = { { 8, 4 }, { 12, 4 }, { 7, 2 }, { 11, 2 },
					  { 4, 1 }, { 2, 4 },  { 1, 4 } };

	ipfix_put16(b, 10);
	ipfix_put32(b + 4, 1764745000);
	/* Options template 400: scope meteringProcessId, interval, space. */
	ipfix_put16(b + off, 3);
	ipfix_put16(b + off + 2, (uint16_t)(4 + 6 + 4 * 3));
	ipfix_put16(b + off + 4, 400);
	ipfix_put16(b + off + 6, 3);
	ipfix_put16(b + off + 8, 1);
	for (int i = 0; i < 3; i++) {
		ipfix_put16(b + off + 10 + 4 * i, of[i][0]);
		ipfix_put16(b + off + 12 + 4 * i, of[i][1]);
	}
	off += 22;
	/* Template 401. */
	ipfix_put16(b + off, 2);
	ipfix_put16(b + off + 2, (uint16_t)(8 + 4 * 7));
	ipfix_put16(b + off + 4, 401);
	ipfix_put16(b + off + 6, 7);
	for (int i = 0; i < 7; i++) {
		ipfix_put16(b + off + 8 + 4 * i, ff[i][0]);
		ipfix_put16(b + off + 10 + 4 * i, ff[i][1]);
	}
	off += 36;
	/* Options data: process 1, interval 1, space 3. */
	ipfix_put16(b + off, 400);
	ipfix_put16(b + off + 2, 4 + 12);
	ipfix_put32(b + off + 4, 1);
	ipfix_put32(b + off + 8, 1);
	ipfix_put32(b + off + 12, 3);
	off += 16;
	/* Data: ICMP 198.18.0.1 -> 198.18.0.2, port 771, 5 packets, 420 bytes. */
	ipfix_put16(b + off, 401);
	ipfix_put16(b + off + 2, 4 + 21);
	{
		uint8_t *p = b + off + 4;

		p[0] = 198, p[1] = 18, p[3] = 1, p[4] = 198, p[5] = 18, p[7] = 2;
		ipfix_put16(p + 10, 771);
		p[12] = 1;
		ipfix_put32(p + 13, 5);
		ipfix_put32(p + 17, 420);
	}
	off += 25;
	ipfix_put16(b + 2, (uint16_t)off);
	ASSERT_TRUE(!dec_new(&d, NULL), "dec_new");
	EXPECT_EQ(dec_datagram(d, (struct sockaddr *)&s, b, off, 0, collect, &g), DEC_OK, "ok");
	ASSERT_TRUE(g.n == 1, "one record");
	EXPECT_EQ(g.r[0].packets, 20, "packets x 4");
	EXPECT_EQ(g.r[0].ip_bytes, 1680, "bytes x 4");
	EXPECT_EQ(g.r[0].key.icmp_type, 3, "ICMP type from the port");
	EXPECT_EQ(g.r[0].key.icmp_code, 3, "ICMP code from the port");
	EXPECT_EQ(dec_get_stats(d)->sampled_records, 1, "counted");
	{
		struct dec_exporter *const *list;

		ASSERT_TRUE(dec_exporters(d, &list) == 1, "one exporter");
		EXPECT_EQ(list[0]->sampling, 4, "rate 1 in 4");
	}
	dec_free(d);
}

/* NetFlow v9 options: scope type 2 (interface) = 5, IF_NAME "ge-0/0/1",
 * SAMPLING_INTERVAL 100. */
TEST(netflow_v9_options)
{
	uint8_t b[128] = { 0 };
	struct sockaddr_in s = from4();
	struct names nm = { .n = 0 };
	struct dec *d;
	size_t off = NF9_HDR_LEN;

	ipfix_put16(b, 9);
	ipfix_put32(b + 8, 1764745000);
	/* Options template set 1: id 260, scope 4 bytes, options 8 bytes. */
	ipfix_put16(b + off, 1);
	ipfix_put16(b + off + 2, 6 + 4 + 12);
	ipfix_put16(b + off + 4, 260);
	ipfix_put16(b + off + 6, 4);
	ipfix_put16(b + off + 8, 8);
	ipfix_put16(b + off + 10, 2), ipfix_put16(b + off + 12, 4);
	ipfix_put16(b + off + 14, 82), ipfix_put16(b + off + 16, 16);
	ipfix_put16(b + off + 18, 34), ipfix_put16(b + off + 20, 4);
	off += 22;
	ipfix_put16(b + off, 260);
	ipfix_put16(b + off + 2, 4 + 24);
	ipfix_put32(b + off + 4, 5);
	memcpy(b + off + 8, "ge-0/0/1", 8);
	ipfix_put32(b + off + 24, 100);
	off += 28;
	ASSERT_TRUE(!dec_new(&d, &(struct dec_opts){ .ifname = on_ifname, .ctx = &nm }), "dec");
	EXPECT_EQ(dec_datagram(d, (struct sockaddr *)&s, b, off, 0, NULL, NULL), DEC_OK, "ok");
	ASSERT_TRUE(nm.n == 1, "a name");
	EXPECT_EQ(nm.ifindex[0], 5, "ifindex from the interface scope");
	EXPECT_TRUE(!strcmp(nm.name[0], "ge-0/0/1"), "name");
	{
		struct dec_exporter *const *list;

		ASSERT_TRUE(dec_exporters(d, &list) == 1, "one exporter");
		EXPECT_EQ(list[0]->sampling, 100, "SAMPLING_INTERVAL");
	}
	dec_free(d);
}

/* The exporter sink over a real UDP socket on 127.0.0.1: every record
 * arrives, templates come first and again every refresh_msgs messages,
 * sequence numbers run without a gap. (Sends that fail: test-ipfix.sh's
 * test_export_unreachable.) */
TEST(exporter_sink_over_loopback)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
				   .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t sl = sizeof(sin);
	struct fm_record recs[50];
	struct ipfix_exporter *x;
	struct ipfix_export_stats st;
	struct got g = { .n = 0 };
	struct dec *d;
	char dest[32];
	uint8_t buf[2048];
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	size_t dgrams = 0;
	struct sink *k;

	ASSERT_TRUE(fd >= 0 && !bind(fd, (struct sockaddr *)&sin, sizeof(sin)), "bind");
	getsockname(fd, (struct sockaddr *)&sin, &sl);
	snprintf(dest, sizeof(dest), "127.0.0.1:%u", ntohs(sin.sin_port));
	for (int i = 0; i < 50; i++)
		recs[i] = rec_ipv4(i);
	ASSERT_TRUE(!ipfix_export_open(
			    &x, &(struct ipfix_export_opts){ .dest = dest, .refresh_msgs = 3 }),
		    "open");
	k = ipfix_export_sink(x);
	EXPECT_EQ(k->room(k), SINK_ROOM_ANY, "never pushes back");
	EXPECT_EQ(k->take(k, recs, 50), 0, "take 50");
	ipfix_export_get_stats(x, &st);
	/* 5 IPv4 records per 512-byte message: 10 data messages; templates
	 * before the 1st, 4th, 7th and 10th. */
	EXPECT_EQ(st.records, 50, "records sent");
	EXPECT_EQ(st.template_messages, 4, "template messages");
	EXPECT_EQ(st.messages, 14, "messages");
	ASSERT_TRUE(!dec_new(&d, NULL), "dec_new");
	for (;;) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);

		if (n <= 0)
			break;
		EXPECT_TRUE(n <= IPFIX_MSG_DEFAULT, "message within 512 bytes");
		EXPECT_EQ(dec_datagram(d, (struct sockaddr *)&sin, buf, (size_t)n, 0, collect, &g),
			  DEC_OK, "decodes");
		dgrams++;
	}
	EXPECT_EQ(dgrams, 14, "datagrams received");
	EXPECT_EQ(g.n, 50, "records decoded");
	EXPECT_EQ(dec_get_stats(d)->lost, 0, "sequence without a gap");
	EXPECT_EQ(dec_get_stats(d)->templates, 16, "4 templates x 4");
	dec_free(d);
	ipfix_export_close(x);
	close(fd);
}

static int count_rec(const struct fm_record *r, void *ctx)
{
	(void)r;
	(*(size_t *)ctx)++;
	return 0;
}

/* Paced (rate > 0): room is the queue's, take() queues, the thread sends
 * every record no faster than the rate, finish() waits for it: a full queue
 * (10,000 records) at 40,000 records/s takes about 0.25 s, and every record
 * arrives in sequence. */
TEST(exporter_paced)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
				   .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t sl = sizeof(sin);
	enum { RATE = 40000 };
	size_t n = ipfix_pace_queue_records(RATE), got = 0;
	struct fm_record *recs = calloc(n, sizeof(*recs));
	struct ipfix_exporter *x;
	struct ipfix_export_stats st;
	struct timespec t0, t1;
	int rcvbuf = 4 << 20;
	uint8_t buf[2048];
	struct dec *d;
	char dest[32];
	double s;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	struct sink *k;

	EXPECT_EQ(n, RATE / 4, "a queue of a quarter second");
	EXPECT_EQ(ipfix_pace_queue_records(1000), IPFIX_PACE_QUEUE_MIN, "at least the minimum");
	EXPECT_EQ(ipfix_pace_queue_records(1000000), IPFIX_PACE_QUEUE_MAX, "at most the maximum");
	ASSERT_TRUE(recs && fd >= 0 && !bind(fd, (struct sockaddr *)&sin, sizeof(sin)), "bind");
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	getsockname(fd, (struct sockaddr *)&sin, &sl);
	snprintf(dest, sizeof(dest), "127.0.0.1:%u", ntohs(sin.sin_port));
	for (size_t i = 0; i < n; i++)
		recs[i] = rec_ipv4((int)i);
	ASSERT_TRUE(
		!ipfix_export_open(&x, &(struct ipfix_export_opts){ .dest = dest, .rate = RATE }),
		"open");
	k = ipfix_export_sink(x);
	EXPECT_EQ(k->room(k), n, "room: the empty queue");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	EXPECT_EQ(k->take(k, recs, n), 0, "take a queue's worth");
	EXPECT_TRUE(k->room(k) < n, "queued, not all sent at once");
	k->flush(k);
	ipfix_export_finish(x);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	EXPECT_TRUE(s >= 0.22 && s < 2.0, "paced: about n / rate seconds");
	ipfix_export_get_stats(x, &st);
	EXPECT_EQ(st.records, n, "records sent");
	EXPECT_EQ(st.records_unsent, 0, "none unsent");
	ASSERT_TRUE(!dec_new(&d, NULL), "dec_new");
	for (;;) {
		ssize_t r = recv(fd, buf, sizeof(buf), 0);

		if (r <= 0)
			break;
		EXPECT_EQ(dec_datagram(d, (struct sockaddr *)&sin, buf, (size_t)r, 0, count_rec,
				       &got),
			  DEC_OK, "decodes");
	}
	EXPECT_EQ(got, n, "records received");
	EXPECT_EQ(dec_get_stats(d)->lost, 0, "sequence without a gap");
	dec_free(d);
	ipfix_export_close(x);
	close(fd);
	free(recs);
}

TESTLIB_MAIN("ipfix")
