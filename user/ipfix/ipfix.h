/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * IPFIX (RFC 7011) and NetFlow v9/v5 wire constants shared by the encoder
 * (encode.c), the exporter sink (export.c) and the collector's decoder
 * (decode.c). Information element numbers are IANA's ("IPFIX Information
 * Elements"); the flow columns they carry are in DESIGN.md's table.
 */
#ifndef FM_IPFIX_H
#define FM_IPFIX_H

#include <stdint.h>
#include <string.h>

#define IPFIX_VERSION 10
#define NETFLOW9_VERSION 9
#define NETFLOW5_VERSION 5
#define IPFIX_PORT 4739

#define IPFIX_MSG_HDR_LEN 16 /* version, length, export time, sequence, domain */
#define IPFIX_SET_HDR_LEN 4  /* set id, length */
#define IPFIX_SET_TEMPLATE 2
#define IPFIX_SET_OPTIONS 3
#define IPFIX_SET_DATA_MIN 256
#define NF9_SET_TEMPLATE 0
#define NF9_SET_OPTIONS 1
#define NF9_HDR_LEN 20
#define NF5_HDR_LEN 24
#define NF5_REC_LEN 48
#define IPFIX_VARLEN 65535 /* a field length meaning "variable" */
#define IPFIX_ENTERPRISE_BIT 0x8000
#define NF9_SCOPE_INTERFACE 2 /* a v9 options template's scope type: ifindex */
#define IPFIX_IFNAME_LEN 16   /* interfaceName as flowmaster sends it (IFNAMSIZ) */

/* The information elements flowmaster sends and reads. */
enum ipfix_ie {
	IE_OCTET_DELTA = 1,		 /* IP bytes (NetFlow v9 IN_BYTES) */
	IE_PACKET_DELTA = 2,		 /* NetFlow v9 IN_PKTS */
	IE_PROTOCOL = 4,		 /* protocolIdentifier */
	IE_TOS = 5,			 /* ipClassOfService */
	IE_TCP_FLAGS = 6,		 /* tcpControlBits: sent with length 1 */
	IE_SRC_PORT = 7,		 /* sourceTransportPort */
	IE_SRC_IPV4 = 8,		 /* sourceIPv4Address */
	IE_INGRESS_IF = 10,		 /* ingressInterface */
	IE_DST_PORT = 11,		 /* destinationTransportPort */
	IE_DST_IPV4 = 12,		 /* destinationIPv4Address */
	IE_EGRESS_IF = 14,		 /* egressInterface */
	IE_END_SYSUPTIME = 21,		 /* NetFlow v9 LAST_SWITCHED (ms of uptime) */
	IE_START_SYSUPTIME = 22,	 /* NetFlow v9 FIRST_SWITCHED */
	IE_SRC_IPV6 = 27,		 /* sourceIPv6Address */
	IE_DST_IPV6 = 28,		 /* destinationIPv6Address */
	IE_ICMP_V4 = 32,		 /* icmpTypeCodeIPv4: type * 256 + code */
	IE_SAMPLING_INTERVAL = 34,	 /* samplingInterval (v9 SAMPLING_INTERVAL) */
	IE_SAMPLER_RANDOM_INTERVAL = 50, /* samplerRandomInterval */
	IE_EXPORTED_OCTETS = 40,	 /* exportedOctetTotalCount */
	IE_EXPORTED_MSGS = 41,		 /* exportedMessageTotalCount */
	IE_EXPORTED_FLOWS = 42,		 /* exportedFlowRecordTotalCount */
	IE_SRC_MAC = 56,		 /* sourceMacAddress */
	IE_DST_MAC_V9 = 57,		 /* postDestinationMacAddress (v9 OUT_DST_MAC) */
	IE_VLAN = 58,			 /* vlanId */
	IE_DIRECTION = 61,		 /* flowDirection: 0 ingress, 1 egress */
	IE_DST_MAC = 80,		 /* destinationMacAddress */
	IE_IF_NAME = 82,		 /* interfaceName */
	IE_OCTET_TOTAL = 85,		 /* octetTotalCount */
	IE_PACKET_TOTAL = 86,		 /* packetTotalCount */
	IE_END_REASON = 136,		 /* flowEndReason */
	IE_ICMP_V6 = 139,		 /* icmpTypeCodeIPv6 */
	IE_DOMAIN_ID = 149,		 /* observationDomainId */
	IE_START_SEC = 150,		 /* flowStartSeconds */
	IE_END_SEC = 151,		 /* flowEndSeconds */
	IE_START_MS = 152,		 /* flowStartMilliseconds */
	IE_END_MS = 153,		 /* flowEndMilliseconds */
	IE_SYSINIT_MS = 160,		 /* systemInitTimeMilliseconds */
	IE_NOT_SENT_FLOWS = 166,	 /* notSentFlowTotalCount */
	IE_ICMP_TYPE_V4 = 176,		 /* icmpTypeIPv4 */
	IE_ICMP_CODE_V4 = 177,		 /* icmpCodeIPv4 */
	IE_ICMP_TYPE_V6 = 178,		 /* icmpTypeIPv6 */
	IE_ICMP_CODE_V6 = 179,		 /* icmpCodeIPv6 */
	IE_ETH_TYPE = 256,		 /* ethernetType */
	IE_SAMPLING_PKT_INTERVAL = 305,	 /* samplingPacketInterval: packets selected */
	IE_SAMPLING_PKT_SPACE = 306,	 /* samplingPacketSpace: then packets skipped */
	IE_L2_OCTET_DELTA = 352,	 /* layer2OctetDeltaCount: frame bytes */
};

/* flowEndReason values (RFC 5102). */
enum {
	IPFIX_END_IDLE = 1,
	IPFIX_END_ACTIVE = 2,
	IPFIX_END_END = 3,
	IPFIX_END_FORCED = 4,
	IPFIX_END_RESOURCES = 5,
};

static inline void ipfix_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void ipfix_put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static inline void ipfix_put64(uint8_t *p, uint64_t v)
{
	ipfix_put32(p, (uint32_t)(v >> 32));
	ipfix_put32(p + 4, (uint32_t)v);
}

static inline uint16_t ipfix_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t ipfix_get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* An unsigned integer of len 1..8 bytes (reduced-size encoding, RFC 7011
 * 6.2); longer fields give their last 8 bytes. */
static inline uint64_t ipfix_getn(const uint8_t *p, unsigned len)
{
	uint64_t v = 0;

	if (len > 8) {
		p += len - 8;
		len = 8;
	}
	for (unsigned i = 0; i < len; i++)
		v = v << 8 | p[i];
	return v;
}

#endif
