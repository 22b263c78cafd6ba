// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <stdio.h>
#include <string.h>
#include "lib/proto.h"

/* IANA keywords, lower case, except "icmpv6" (IANA: ipv6-icmp), the name
 * tcpdump, nfdump and Wireshark users read. */
static const struct {
	int num;
	const char *name;
} protos[] = {
	{ FM_IPPROTO_ICMP, "icmp" }, { 2, "igmp" }, { 4, "ipip" }, { FM_IPPROTO_TCP, "tcp" },
	{ FM_IPPROTO_UDP, "udp" }, { 41, "ipv6" }, { 47, "gre" }, { 50, "esp" },
	{ FM_IPPROTO_AH, "ah" }, { FM_IPPROTO_ICMPV6, "icmpv6" }, { 89, "ospf" },
	{ 103, "pim" }, { 112, "vrrp" }, { FM_IPPROTO_SCTP, "sctp" },
	{ FM_IPPROTO_UDPLITE, "udplite" },
}, ethertypes[] = {
	{ FM_ETH_P_IP, "ipv4" }, { FM_ETH_P_ARP, "arp" }, { FM_ETH_P_IPV6, "ipv6" },
	{ FM_ETH_P_8021Q, "802.1q" }, { FM_ETH_P_8021AD, "802.1ad" }, { FM_ETH_P_LLDP, "lldp" },
	{ 0x8035, "rarp" }, { 0x8847, "mpls" }, { 0x8863, "pppoe-disc" },
	{ 0x8864, "pppoe" }, { 0x888e, "eapol" }, { 0x88f7, "ptp" },
};

/* TCP flag names by bit, FIN (bit 0) first, as tcpdump and nfdump list them. */
static const char *const tcp_flag_names[8] = { "FIN", "SYN", "RST", "PSH",
					       "ACK", "URG", "ECE", "CWR" };

#define N(a) (sizeof(a) / sizeof((a)[0]))

const char *proto_name(int proto)
{
	for (size_t i = 0; i < N(protos); i++)
		if (protos[i].num == proto)
			return protos[i].name;
	return NULL;
}

const char *ethertype_name(int eth_type)
{
	for (size_t i = 0; i < N(ethertypes); i++)
		if (ethertypes[i].num == eth_type)
			return ethertypes[i].name;
	return NULL;
}

bool proto_has_ports(int proto)
{
	return proto == FM_IPPROTO_TCP || proto == FM_IPPROTO_UDP || proto == FM_IPPROTO_SCTP ||
	       proto == FM_IPPROTO_UDPLITE;
}

const char *tcp_flags_str(char *buf, size_t len, unsigned flags)
{
	size_t n = 0;

	if (len)
		buf[0] = 0;
	for (int b = 0; b < 8; b++) {
		if (!(flags & (1u << b)) || n >= len)
			continue;
		n += (size_t)snprintf(buf + n, len - n, "%s%s", n ? "," : "", tcp_flag_names[b]);
	}
	return buf;
}

const char *proto_sql_case(const char *col)
{
	static char sql[1024];
	size_t n;

	n = (size_t)snprintf(sql, sizeof(sql), "CASE %s", col);
	for (size_t i = 0; i < N(protos) && n < sizeof(sql); i++)
		n += (size_t)snprintf(sql + n, sizeof(sql) - n, " WHEN %d THEN '%s'", protos[i].num,
				      protos[i].name);
	if (n < sizeof(sql))
		snprintf(sql + n, sizeof(sql) - n, " ELSE CAST(%s AS TEXT) END", col);
	return sql;
}

const char *tcp_flags_sql(const char *col)
{
	static char sql[1024];
	size_t n;

	/* Each set flag adds "NAME,"; rtrim drops the last comma. */
	n = (size_t)snprintf(sql, sizeof(sql), "rtrim(");
	for (int b = 0; b < 8 && n < sizeof(sql); b++)
		n += (size_t)snprintf(sql + n, sizeof(sql) - n,
				      "%sCASE WHEN %s & %d THEN '%s,' ELSE '' END", b ? " || " : "",
				      col, 1 << b, tcp_flag_names[b]);
	if (n < sizeof(sql))
		snprintf(sql + n, sizeof(sql) - n, ", ',')");
	return sql;
}
