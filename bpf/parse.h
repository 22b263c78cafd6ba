/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Frame parsing for the flow key. One helper per layer; each bounds-checks
 * against data_end, fills what it read into the key and returns the next
 * protocol, or PARSE_STOP when there is nothing more to read. A truncated
 * or invalid header bumps its reason counter and marks the key malformed:
 * the frame is still counted under what was parsed so far, so totals
 * reconcile even for garbage.
 */
#ifndef FM_PARSE_H
#define FM_PARSE_H

#include "flowmaster.h"

#define IP_OFFSET_MASK 0x1FFF  /* IPv4 fragment offset, in 8-byte units */
#define IP6_OFFSET_MASK 0xFFF8 /* IPv6 fragment offset, in place */

#define PARSE_STOP -1

struct cursor {
	void *pos;
	void *end;
};

/* What one parse yields besides the key. */
struct fm_pkt {
	__u32 ip_len;  /* IPv4 total length, IPv6 40 + payload length; 0 non-IP */
	__u32 l3_off;  /* bytes before the IP header (Ethernet and tags) */
	__u32 hdr_len; /* L2..L4 header bytes: what every GSO segment repeats */
	__u8 tcp_flags;
	__u8 l3; /* the IP addresses were read into the key */
};

static __always_inline int malformed(struct fm_map_key *key, __u64 *reason)
{
	key->flags |= FM_KF_MALFORMED;
	(*reason)++;
	return PARSE_STOP;
}

/* Ethernet and up to FM_MAX_VLAN_TAGS tags; returns the EtherType (host
 * order). The MACs are not read here: see fm_parse. */
static __always_inline int parse_eth(struct cursor *c, struct fm_map_key *key,
				     struct fm_counters *cnt)
{
	struct ethhdr *eth = c->pos;
	__u16 proto;

	if ((void *)(eth + 1) > c->end)
		return malformed(key, &cnt->err_eth);
	proto = bpf_ntohs(eth->h_proto);
	c->pos = eth + 1;

#pragma unroll
	for (int i = 0; i < FM_MAX_VLAN_TAGS; i++) {
		struct vlan_hdr *vh = c->pos;

		if (proto != FM_ETH_P_8021Q && proto != FM_ETH_P_8021AD)
			break;
		key->eth_type = proto;
		if ((void *)(vh + 1) > c->end)
			return malformed(key, &cnt->err_vlan);
		if (i == 0) {
			key->vlan_id = bpf_ntohs(vh->h_vlan_TCI) & 0x0FFF;
			key->flags |= FM_KF_VLAN;
		}
		proto = bpf_ntohs(vh->h_vlan_encapsulated_proto);
		c->pos = vh + 1;
	}
	key->eth_type = proto;
	return proto;
}

/* IPv4 with options; returns the L4 protocol or PARSE_STOP. */
static __always_inline int parse_ipv4(struct cursor *c, struct fm_map_key *key, struct fm_pkt *p,
				      struct fm_counters *cnt)
{
	struct iphdr *ip = c->pos;
	__u32 hlen;

	if ((void *)(ip + 1) > c->end || ip->version != 4 || ip->ihl < 5)
		return malformed(key, &cnt->err_ipv4);
	p->ip_len = bpf_ntohs(ip->tot_len);
	p->l3 = 1;
	/* IPv4-mapped IPv6 form, ::ffff:a.b.c.d, as whole words: byte
	 * stores here measured a few ns per packet. */
	*(__u32 *)&key->src_addr[8] = bpf_htonl(0x0000ffff);
	*(__u32 *)&key->dst_addr[8] = bpf_htonl(0x0000ffff);
	*(__u32 *)&key->src_addr[12] = ip->saddr;
	*(__u32 *)&key->dst_addr[12] = ip->daddr;
	key->protocol = ip->protocol;

	hlen = ip->ihl * 4;
	if (c->pos + hlen > c->end)
		return malformed(key, &cnt->err_ipv4_opts);
	c->pos += hlen;
	/* A later fragment has no L4 header: count it without ports. */
	if (ip->frag_off & bpf_htons(IP_OFFSET_MASK)) {
		key->flags |= FM_KF_FRAG;
		return PARSE_STOP;
	}
	return ip->protocol;
}

/* IPv6 and its extension headers; returns the L4 protocol or PARSE_STOP. */
static __always_inline int parse_ipv6(struct cursor *c, struct fm_map_key *key, struct fm_pkt *p,
				      struct fm_counters *cnt)
{
	struct ipv6hdr *ip6 = c->pos;
	__u8 nexthdr;

	if ((void *)(ip6 + 1) > c->end || ip6->version != 6)
		return malformed(key, &cnt->err_ipv6);
	p->ip_len = sizeof(*ip6) + bpf_ntohs(ip6->payload_len);
	p->l3 = 1;
	__builtin_memcpy(key->src_addr, &ip6->saddr, 16);
	__builtin_memcpy(key->dst_addr, &ip6->daddr, 16);
	nexthdr = ip6->nexthdr;
	c->pos = ip6 + 1;

#pragma unroll
	for (int i = 0; i < FM_MAX_EXT_HDRS; i++) {
		struct ipv6_opt_hdr *opt = c->pos;
		struct frag_hdr *frag = c->pos;

		key->protocol = nexthdr;
		switch (nexthdr) {
		case FM_IPPROTO_HOPOPTS:
		case FM_IPPROTO_ROUTING:
		case FM_IPPROTO_DSTOPTS:
			if ((void *)(opt + 1) > c->end)
				return malformed(key, &cnt->err_ipv6_ext);
			nexthdr = opt->nexthdr;
			c->pos += (opt->hdrlen + 1) * 8;
			if (c->pos > c->end)
				return malformed(key, &cnt->err_ipv6_ext);
			break;
		case FM_IPPROTO_AH:
			if ((void *)(opt + 1) > c->end)
				return malformed(key, &cnt->err_ipv6_ext);
			nexthdr = opt->nexthdr;
			c->pos += (opt->hdrlen + 2) * 4;
			if (c->pos > c->end)
				return malformed(key, &cnt->err_ipv6_ext);
			break;
		case FM_IPPROTO_FRAGMENT:
			if ((void *)(frag + 1) > c->end)
				return malformed(key, &cnt->err_ipv6_ext);
			nexthdr = frag->nexthdr;
			c->pos = frag + 1;
			if (frag->frag_off & bpf_htons(IP6_OFFSET_MASK)) {
				key->protocol = nexthdr;
				key->flags |= FM_KF_FRAG;
				return PARSE_STOP;
			}
			break;
		default:
			return nexthdr;
		}
	}
	key->protocol = nexthdr;
	switch (nexthdr) {
	case FM_IPPROTO_HOPOPTS:
	case FM_IPPROTO_ROUTING:
	case FM_IPPROTO_DSTOPTS:
	case FM_IPPROTO_AH:
	case FM_IPPROTO_FRAGMENT:
		return malformed(key, &cnt->err_ext_chain);
	}
	return nexthdr;
}

/* Ports (ICMP: type and code in their place) and TCP flags; moves c->pos
 * past a TCP or UDP header. */
static __always_inline void parse_l4(struct cursor *c, int proto, struct fm_map_key *key,
				     __u8 *tcp_flags, struct fm_counters *cnt)
{
	struct tcphdr *th = c->pos;
	struct udphdr *uh = c->pos;
	struct sctphdr *sh = c->pos;
	struct icmphdr *ih = c->pos;

	switch (proto) {
	case FM_IPPROTO_TCP:
		if ((void *)(th + 1) > c->end)
			break;
		key->src_port = bpf_ntohs(th->source);
		key->dst_port = bpf_ntohs(th->dest);
		*tcp_flags = ((__u8 *)th)[13];
		c->pos += th->doff * 4;
		return;
	case FM_IPPROTO_UDP:
	case FM_IPPROTO_UDPLITE:
		if ((void *)(uh + 1) > c->end)
			break;
		key->src_port = bpf_ntohs(uh->source);
		key->dst_port = bpf_ntohs(uh->dest);
		c->pos = uh + 1;
		return;
	case FM_IPPROTO_SCTP:
		if ((void *)(sh + 1) > c->end)
			break;
		key->src_port = bpf_ntohs(sh->source);
		key->dst_port = bpf_ntohs(sh->dest);
		return;
	case FM_IPPROTO_ICMP:
	case FM_IPPROTO_ICMPV6:
		/* type, code, checksum: the fixed part of both ICMPs */
		if (c->pos + 4 > c->end)
			break;
		key->src_port = ih->type;
		key->dst_port = ih->code;
		return;
	default:
		return;
	}
	malformed(key, &cnt->err_l4);
}

/*
 * The one parser of both hooks: the frame in [data, end) into key and p.
 * XDP passes the whole frame, TC the skb's linear part (where the stack
 * keeps the headers). A frame whose IP addresses were not read keys its
 * MACs in their place (FM_KF_L2); an IP flow's go in its value on insert.
 */
static __always_inline void fm_parse(void *data, void *end, struct fm_map_key *key,
				     struct fm_pkt *p, struct fm_counters *cnt)
{
	struct cursor c = { .pos = data, .end = end };
	int proto;

	proto = parse_eth(&c, key, cnt);
	p->l3_off = c.pos - data;
	if (proto == FM_ETH_P_IP)
		proto = parse_ipv4(&c, key, p, cnt);
	else if (proto == FM_ETH_P_IPV6)
		proto = parse_ipv6(&c, key, p, cnt);
	else
		proto = PARSE_STOP;
	if (proto != PARSE_STOP)
		parse_l4(&c, proto, key, &p->tcp_flags, cnt);
	p->hdr_len = c.pos - data;
	if (!p->l3) {
		struct ethhdr *eth = data;

		key->flags |= FM_KF_L2;
		if ((void *)(eth + 1) <= end) {
			__builtin_memcpy(key->src_addr, eth->h_source, 6);
			__builtin_memcpy(key->dst_addr, eth->h_dest, 6);
		}
	}
}

#endif
