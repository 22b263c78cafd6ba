// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Frame builders: see frames.h. Each header is written field by field in
 * wire order through a small bounded writer; lengths and checksums that
 * depend on what follows are patched in once the frame is complete.
 */
#include <string.h>
#include "frames.h"

/* A bounded big-endian writer: a write past cap marks the frame failed. */
struct writer {
	uint8_t *buf;
	size_t cap;
	size_t len;
	bool overflow;
};

static void put8(struct writer *w, uint8_t v)
{
	if (w->len + 1 > w->cap) {
		w->overflow = true;
		return;
	}
	w->buf[w->len++] = v;
}

static void put16(struct writer *w, uint16_t v)
{
	put8(w, v >> 8);
	put8(w, v & 0xff);
}

static void put32(struct writer *w, uint32_t v)
{
	put16(w, v >> 16);
	put16(w, v & 0xffff);
}

static void putn(struct writer *w, const void *p, size_t n)
{
	if (w->len + n > w->cap) {
		w->overflow = true;
		return;
	}
	memcpy(w->buf + w->len, p, n);
	w->len += n;
}

static void putzero(struct writer *w, size_t n)
{
	while (n--)
		put8(w, 0);
}

/* Store v big-endian at an offset already written. */
static void patch16(struct writer *w, size_t at, uint16_t v)
{
	if (w->overflow || at + 2 > w->len)
		return;
	w->buf[at] = v >> 8;
	w->buf[at + 1] = v & 0xff;
}

uint32_t frame_csum_add(uint32_t sum, const void *data, size_t len)
{
	const uint8_t *p = data;

	for (; len > 1; p += 2, len -= 2)
		sum += (uint32_t)p[0] << 8 | p[1];
	if (len)
		sum += (uint32_t)p[0] << 8; /* odd byte, padded with zero */
	return sum;
}

uint16_t frame_csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return sum;
}

/* CRC32c (Castagnoli, reflected polynomial 0x82F63B78), as SCTP uses it. */
static uint32_t crc32c(const uint8_t *p, size_t len)
{
	uint32_t crc = 0xffffffff;

	while (len--) {
		crc ^= *p++;
		for (int k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0x82F63B78 & -(crc & 1));
	}
	return ~crc;
}

size_t frame_ext_len(uint8_t type)
{
	switch (type) {
	case FRAME_IP_HOPOPTS:
	case FRAME_IP_DSTOPTS:
		return FRAME_EXT_OPTS_LEN;
	case FRAME_IP_ROUTING:
		return FRAME_EXT_ROUTING_LEN;
	case FRAME_IP_FRAGMENT:
		return FRAME_EXT_FRAG_LEN;
	case FRAME_IP_AH:
		return FRAME_EXT_AH_LEN;
	default:
		return 0;
	}
}

/* Ethernet header and VLAN tags; leaves the writer at the L3 header. */
static void put_eth(struct writer *w, const struct frame_spec *s, struct frame_offsets *off)
{
	putn(w, s->dst_mac, 6); /* destination first on the wire */
	putn(w, s->src_mac, 6);
	/* Each tag: TPID, then TCI = PCP (3 bits) | DEI (1, zero) | VID (12).
	 * The first TPID sits where an untagged frame has its EtherType. */
	for (int i = 0; i < s->nr_vlans; i++) {
		off->vlan[i] = w->len;
		put16(w, s->vlan[i].tpid);
		put16(w, (uint16_t)(s->vlan[i].pcp & 7) << 13 | (s->vlan[i].vid & 0x0fff));
	}
	put16(w, s->eth_type);
	off->l3 = w->len;
}

/* IPv4 header with options; total length and checksum are patched later. */
static void put_ipv4(struct writer *w, const struct frame_spec *s)
{
	uint16_t frag = (s->more_frags ? 0x2000 : 0) | (s->frag_offset & 0x1fff);

	put8(w, 4 << 4 | (5 + s->ip4_opt_len / 4)); /* version 4, IHL in words */
	put8(w, 0);				    /* DSCP/ECN */
	put16(w, 0);				    /* total length: patched */
	put16(w, s->ip_id);
	put16(w, frag); /* flags (MF) | offset, 8-byte units */
	put8(w, s->ttl ? s->ttl : 64);
	put8(w, s->l4_proto);
	put16(w, 0); /* header checksum: patched */
	putn(w, s->src4, 4);
	putn(w, s->dst4, 4);
	/* Options: NOPs (type 1) closed by End of Options List (type 0). */
	for (int i = 0; i < s->ip4_opt_len; i++)
		put8(w, i == s->ip4_opt_len - 1 ? 0 : 1);
}

static void put_ipv6(struct writer *w, const struct frame_spec *s)
{
	put32(w, 6u << 28);			      /* version 6, traffic class 0, flow label 0 */
	put16(w, 0);				      /* payload length: patched */
	put8(w, s->nr_ext ? s->ext[0] : s->l4_proto); /* next header */
	put8(w, s->ttl ? s->ttl : 64);		      /* hop limit */
	putn(w, s->src6, 16);
	putn(w, s->dst6, 16);
}

/* One IPv6 extension header of a known type; next is its next-header value. */
static void put_ext(struct writer *w, const struct frame_spec *s, uint8_t type, uint8_t next)
{
	switch (type) {
	case FRAME_IP_HOPOPTS:
	case FRAME_IP_DSTOPTS:
		put8(w, next);
		put8(w, 0); /* Hdr Ext Len: (0 + 1) * 8 = 8 bytes */
		put8(w, 1); /* PadN option ... */
		put8(w, 4); /* ... with 4 bytes of padding */
		put32(w, 0);
		break;
	case FRAME_IP_ROUTING:
		/* Segment Routing Header (RFC 8754) with one segment. */
		put8(w, next);
		put8(w, 2);	      /* Hdr Ext Len: (2 + 1) * 8 = 24 bytes */
		put8(w, 4);	      /* routing type 4: SRH */
		put8(w, 0);	      /* segments left: at the final destination */
		put8(w, 0);	      /* last entry */
		put8(w, 0);	      /* flags */
		put16(w, 0);	      /* tag */
		putn(w, s->dst6, 16); /* segment list[0] */
		break;
	case FRAME_IP_FRAGMENT:
		put8(w, next);
		put8(w, 0); /* reserved */
		/* offset (13 bits, 8-byte units) << 3 | M flag */
		put16(w, (uint16_t)(s->frag_offset << 3) | (s->more_frags ? 1 : 0));
		put32(w, s->ip_id); /* identification */
		break;
	case FRAME_IP_AH:
		/* Authentication Header (RFC 4302): length in 4-byte words - 2. */
		put8(w, next);
		put8(w, FRAME_EXT_AH_LEN / 4 - 2);
		put16(w, 0);	 /* reserved */
		put32(w, 0x100); /* SPI */
		put32(w, 1);	 /* sequence number */
		putzero(w, 12);	 /* ICV, e.g. HMAC-SHA1-96 */
		break;
	}
}

/* L4 header; checksums are patched later. */
static void put_l4(struct writer *w, const struct frame_spec *s)
{
	switch (s->l4_proto) {
	case FRAME_IP_TCP:
		put16(w, s->sport);
		put16(w, s->dport);
		put32(w, 1);					/* sequence number */
		put32(w, s->tcp_flags & FRAME_TCP_ACK ? 1 : 0); /* acknowledgment */
		put8(w, 5 << 4);				/* data offset: 5 words */
		put8(w, s->tcp_flags);
		put16(w, 65535); /* window */
		put16(w, 0);	 /* checksum */
		put16(w, 0);	 /* urgent pointer */
		break;
	case FRAME_IP_UDP:
	case FRAME_IP_UDPLITE:
		put16(w, s->sport);
		put16(w, s->dport);
		put16(w, 0); /* UDP: length (patched); UDP-Lite: coverage 0 = all */
		put16(w, 0); /* checksum */
		break;
	case FRAME_IP_SCTP:
		put16(w, s->sport);
		put16(w, s->dport);
		put32(w, 1); /* verification tag */
		put32(w, 0); /* CRC32c: patched */
		break;
	case FRAME_IP_ICMP:
	case FRAME_IP_ICMPV6:
		put8(w, s->icmp_type);
		put8(w, s->icmp_code);
		put16(w, 0); /* checksum */
		put16(w, 1); /* echo identifier (rest of header for other types) */
		put16(w, 1); /* echo sequence */
		break;
	}
}

/* ARP request (RFC 826) for Ethernet/IPv4: who has dst4? tell src4. */
static void put_arp(struct writer *w, const struct frame_spec *s)
{
	put16(w, 1);		/* hardware type: Ethernet */
	put16(w, FRAME_ETH_IP); /* protocol type */
	put8(w, 6);		/* hardware address length */
	put8(w, 4);		/* protocol address length */
	put16(w, 1);		/* operation: request */
	putn(w, s->src_mac, 6); /* sender hardware address */
	putn(w, s->src4, 4);	/* sender protocol address */
	putzero(w, 6);		/* target hardware address: unknown */
	putn(w, s->dst4, 4);	/* target protocol address */
}

/* Minimal LLDPDU (IEEE 802.1AB): TLV header = type (7 bits) | length (9). */
static void put_lldp(struct writer *w, const struct frame_spec *s)
{
	put16(w, 1 << 9 | 7); /* Chassis ID, 7 bytes: */
	put8(w, 4);	      /*   subtype 4, MAC address */
	putn(w, s->src_mac, 6);
	put16(w, 2 << 9 | 3); /* Port ID, 3 bytes: */
	put8(w, 7);	      /*   subtype 7, locally assigned */
	putn(w, "p1", 2);
	put16(w, 3 << 9 | 2); /* Time To Live, 2 bytes: */
	put16(w, 120);	      /*   seconds */
	put16(w, 0);	      /* End of LLDPDU */
}

/* Fill the L4 checksum of an unfragmented packet; ph is the pseudo-header sum. */
static void l4_csum(struct writer *w, const struct frame_spec *s, size_t l4, uint32_t ph)
{
	size_t n = w->len - l4;
	size_t at;
	uint16_t c;

	switch (s->l4_proto) {
	case FRAME_IP_TCP:
		at = l4 + 16;
		break;
	case FRAME_IP_UDP:
	case FRAME_IP_UDPLITE:
		at = l4 + 6;
		break;
	case FRAME_IP_ICMP:
		ph = 0; /* ICMPv4 has no pseudo-header */
		at = l4 + 2;
		break;
	case FRAME_IP_ICMPV6:
		at = l4 + 2;
		break;
	case FRAME_IP_SCTP: {
		uint32_t crc = crc32c(w->buf + l4, n);

		/* The CRC goes on the wire least significant byte first. */
		for (int i = 0; i < 4; i++)
			w->buf[l4 + 8 + i] = crc >> (8 * i);
		return;
	}
	default:
		return;
	}
	if (at + 2 > w->len)
		return;
	c = ~frame_csum_fold(frame_csum_add(ph, w->buf + l4, n));

	/* UDP sends a computed zero as 0xffff (zero means "no checksum"). */
	if (!c && s->l4_proto == FRAME_IP_UDP)
		c = 0xffff;
	patch16(w, at, c);
}

size_t frame_build_off(const struct frame_spec *s, uint8_t *buf, size_t cap,
		       struct frame_offsets *off)
{
	struct writer w = { .buf = buf, .cap = cap };
	struct frame_offsets o_local;
	struct frame_offsets *o = off ? off : &o_local;
	bool is4 = s->eth_type == FRAME_ETH_IP, is6 = s->eth_type == FRAME_ETH_IPV6;
	bool l4_hdr = true, fragmented = false;

	memset(o, 0, sizeof(*o));
	if (s->nr_vlans < 0 || s->nr_vlans > FRAME_MAX_VLANS || s->nr_ext < 0 ||
	    s->nr_ext > FRAME_MAX_EXT || s->ip4_opt_len % 4 || s->ip4_opt_len > 40)
		return 0;
	for (int i = 0; i < s->nr_ext; i++)
		if (!frame_ext_len(s->ext[i]))
			return 0;

	put_eth(&w, s, o);
	if (is4) {
		put_ipv4(&w, s);
		fragmented = s->frag_offset || s->more_frags;
		l4_hdr = !s->frag_offset; /* later fragments carry data only */
	} else if (is6) {
		put_ipv6(&w, s);
		for (int i = 0; i < s->nr_ext; i++) {
			uint8_t next = i + 1 < s->nr_ext ? s->ext[i + 1] : s->l4_proto;

			o->ext[i] = w.len;
			put_ext(&w, s, s->ext[i], next);
			if (s->ext[i] != FRAME_IP_FRAGMENT)
				continue;
			fragmented = true;
			if (s->frag_offset) {
				/* Everything after the fragment header of a
				 * later fragment is data. */
				l4_hdr = false;
				break;
			}
		}
	} else if (s->eth_type == FRAME_ETH_ARP) {
		put_arp(&w, s);
	} else if (s->eth_type == FRAME_ETH_LLDP) {
		put_lldp(&w, s);
	}

	o->l4 = w.len;
	if ((is4 || is6) && l4_hdr)
		put_l4(&w, s);
	o->payload = w.len;
	for (int i = 0; i < s->payload_len; i++)
		put8(&w, i & 0xff);
	if (w.overflow)
		return 0;

	/* Lengths and checksums, now that the end is known. */
	if (is4) {
		size_t l3 = o->l3, hlen = FRAME_IPV4_LEN + s->ip4_opt_len;
		uint32_t ph;

		patch16(&w, l3 + 2, w.len - l3);
		patch16(&w, l3 + 10, ~frame_csum_fold(frame_csum_add(0, buf + l3, hlen)));
		/* pseudo-header: addresses, zero, protocol, L4 length */
		ph = frame_csum_add(0, buf + l3 + 12, 8);
		ph += s->l4_proto + (uint32_t)(w.len - o->l4);
		if (l4_hdr && s->l4_proto == FRAME_IP_UDP)
			patch16(&w, o->l4 + 4, w.len - o->l4);
		if (!fragmented)
			l4_csum(&w, s, o->l4, ph);
	} else if (is6) {
		size_t l3 = o->l3;
		uint32_t ph, n = w.len - o->l4;

		patch16(&w, l3 + 4, w.len - l3 - FRAME_IPV6_LEN);
		/* pseudo-header: addresses, 32-bit length, zeros, next header */
		ph = frame_csum_add(0, buf + l3 + 8, 32);
		ph += (n >> 16) + (n & 0xffff) + s->l4_proto;
		if (l4_hdr && s->l4_proto == FRAME_IP_UDP)
			patch16(&w, o->l4 + 4, n);
		if (!fragmented)
			l4_csum(&w, s, o->l4, ph);
	}

	while (w.len < s->pad_to)
		put8(&w, 0);
	if (w.overflow)
		return 0;
	o->len = w.len;
	return w.len;
}
