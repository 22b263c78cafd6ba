/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Frame builders for BPF_PROG_TEST_RUN tests and benchmarks. A struct
 * frame_spec describes an Ethernet frame field by field (MACs, up to two
 * VLAN tags, IPv4 or IPv6 with options, fragments and extension headers,
 * an L4 header, a payload); frame_build() writes it into a caller buffer in
 * wire order and returns its length. Checksums are filled in where they can
 * be (IPv4 header; TCP, UDP, UDP-Lite, ICMP, ICMPv6 and SCTP on unfragmented
 * packets), so a built frame is also valid on a real link.
 *
 * Test addresses come from the benchmarking ranges only: 198.18.0.0/15 and
 * 2001:2::/48 (DESIGN.md, "Rules for tests").
 */
#ifndef FM_TESTS_FRAMES_H
#define FM_TESTS_FRAMES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* EtherTypes */
#define FRAME_ETH_IP 0x0800
#define FRAME_ETH_ARP 0x0806
#define FRAME_ETH_8021Q 0x8100 /* customer VLAN tag (C-tag) */
#define FRAME_ETH_IPV6 0x86DD
#define FRAME_ETH_8021AD 0x88A8 /* service VLAN tag (S-tag, QinQ outer) */
#define FRAME_ETH_LLDP 0x88CC

/* IP protocol numbers (also IPv6 next-header values) */
#define FRAME_IP_HOPOPTS 0
#define FRAME_IP_ICMP 1
#define FRAME_IP_TCP 6
#define FRAME_IP_UDP 17
#define FRAME_IP_ROUTING 43
#define FRAME_IP_FRAGMENT 44
#define FRAME_IP_GRE 47
#define FRAME_IP_AH 51
#define FRAME_IP_ICMPV6 58
#define FRAME_IP_NONE 59
#define FRAME_IP_DSTOPTS 60
#define FRAME_IP_SCTP 132
#define FRAME_IP_UDPLITE 136

/* TCP flags (byte 13 of the TCP header) */
#define FRAME_TCP_FIN 0x01
#define FRAME_TCP_SYN 0x02
#define FRAME_TCP_RST 0x04
#define FRAME_TCP_PSH 0x08
#define FRAME_TCP_ACK 0x10
#define FRAME_TCP_URG 0x20

/* Header sizes the builder writes, for callers that compute boundaries. */
#define FRAME_ETH_LEN 14
#define FRAME_VLAN_LEN 4
#define FRAME_IPV4_LEN 20 /* without options */
#define FRAME_IPV6_LEN 40
#define FRAME_TCP_LEN 20 /* no options */
#define FRAME_UDP_LEN 8
#define FRAME_SCTP_LEN 12 /* common header; no chunk is added */
#define FRAME_ICMP_LEN 8  /* type, code, checksum, echo id and sequence */
#define FRAME_ARP_LEN 28  /* Ethernet/IPv4 ARP body */

/* Sizes of the IPv6 extension headers the builder writes (see frames.c). */
#define FRAME_EXT_OPTS_LEN 8	 /* hop-by-hop / destination options: one PadN */
#define FRAME_EXT_ROUTING_LEN 24 /* segment routing header with one segment */
#define FRAME_EXT_FRAG_LEN 8
#define FRAME_EXT_AH_LEN 24 /* SPI, sequence and a 12-byte ICV */

#define FRAME_MAX_VLANS 2
#define FRAME_MAX_EXT 16 /* more than the program walks, to test its limit */
#define FRAME_MAX_LEN 2048

/* clang-format off */
/* Locally administered unicast MACs (bit 1 of the first byte set). */
#define FRAME_MAC_A { 0x02, 0x00, 0x00, 0x00, 0x00, 0x0a }
#define FRAME_MAC_B { 0x02, 0x00, 0x00, 0x00, 0x00, 0x0b }
/* 198.18.x.y and 2001:2::x:y, the benchmarking ranges. */
#define FRAME_IP4(x, y) { 198, 18, (x), (y) }
#define FRAME_IP6(x, y) { 0x20, 0x01, 0x00, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, (x), (y) }
/* clang-format on */

struct frame_vlan {
	uint16_t tpid; /* FRAME_ETH_8021Q or FRAME_ETH_8021AD (or anything) */
	uint16_t vid;  /* 12 bits */
	uint8_t pcp;   /* priority, 3 bits */
};

struct frame_spec {
	uint8_t src_mac[6];
	uint8_t dst_mac[6];
	int nr_vlans; /* 0..FRAME_MAX_VLANS, vlan[0] is the outer tag */
	struct frame_vlan vlan[FRAME_MAX_VLANS];
	/* EtherType after the tags. IP and IPv6 get their headers below; ARP
	 * gets an ARP request (src4 asks for dst4); LLDP a minimal LLDPDU;
	 * anything else only payload_len bytes of payload. */
	uint16_t eth_type;

	uint8_t src4[4]; /* IPv4 (ARP too), network order */
	uint8_t dst4[4];
	uint8_t ip4_opt_len; /* IPv4 option bytes, a multiple of 4, <= 40 */
	uint16_t ip_id;	     /* IPv4 identification / IPv6 fragment id */
	uint8_t ttl;	     /* IPv4 TTL / IPv6 hop limit; 0 means 64 */

	uint8_t src6[16]; /* IPv6 */
	uint8_t dst6[16];
	/* IPv6 extension headers, in order, before the L4 header: any of
	 * FRAME_IP_HOPOPTS, _ROUTING, _FRAGMENT, _DSTOPTS, _AH. */
	int nr_ext;
	uint8_t ext[FRAME_MAX_EXT];

	/* Fragmentation: IPv4 header fields, or the IPv6 fragment header
	 * (which must then be in ext[]). A frame with frag_offset != 0 has no
	 * L4 header, only payload. */
	uint16_t frag_offset; /* in 8-byte units */
	bool more_frags;

	uint8_t l4_proto; /* FRAME_IP_*; another value writes no L4 header */
	uint16_t sport;	  /* TCP, UDP, UDP-Lite, SCTP; host order */
	uint16_t dport;
	uint8_t tcp_flags; /* FRAME_TCP_* */
	uint8_t icmp_type; /* ICMP / ICMPv6 */
	uint8_t icmp_code;

	uint16_t payload_len; /* bytes after the last header (pattern i & 0xff) */
	uint16_t pad_to;      /* zero-pad the frame to at least this (e.g. 60) */
};

/* Where each header starts in a built frame (byte offsets). */
struct frame_offsets {
	size_t vlan[FRAME_MAX_VLANS]; /* each tag (TPID first); valid < nr_vlans */
	size_t l3;		      /* IPv4/IPv6/ARP/LLDP header, after the tags */
	size_t ext[FRAME_MAX_EXT];    /* IPv6 extension headers */
	size_t l4;		      /* L4 header (== payload when there is none) */
	size_t payload;
	size_t len; /* whole frame, padding included */
};

/*
 * Write the frame described by s into buf (cap bytes). Returns its length,
 * or 0 when it does not fit or the spec is invalid (too many tags or
 * extension headers, an extension header type it cannot write, IPv4
 * options not a multiple of 4 or over 40 bytes).
 * off, if not NULL, receives where each header starts.
 */
size_t frame_build_off(const struct frame_spec *s, uint8_t *buf, size_t cap,
		       struct frame_offsets *off);

static inline size_t frame_build(const struct frame_spec *s, uint8_t *buf, size_t cap)
{
	return frame_build_off(s, buf, cap, NULL);
}

/* Size in bytes of one IPv6 extension header type as frame_build writes it. */
size_t frame_ext_len(uint8_t type);

/* The Internet checksum (RFC 1071) of len bytes, folded, not inverted,
 * starting from a partial sum. */
uint32_t frame_csum_add(uint32_t sum, const void *data, size_t len);
uint16_t frame_csum_fold(uint32_t sum);

#endif
