/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * IPFIX message encoder (RFC 7011): flow records into messages of at most
 * a given size, with the templates flowmaster sends. No I/O: the exporter
 * (export.c) sends what this builds.
 *
 * Templates (ids fixed, so a collector that restarts sees the same ones):
 *   256 IPv4 flows, 257 IPv6 flows, 258 non-IP frames (MACs and EtherType),
 *   259 unattributed counts (end_reason 'overflow': no key, only the
 *       interface, direction and counts),
 *   260 options template: exporting process statistics, scoped by
 *       observationDomainId,
 *   261 options template: interfaceName (16 octets, NUL-padded) scoped by
 *       ingressInterface (the ifindex flow records carry).
 * Every flow template carries flowStartMilliseconds, flowEndMilliseconds,
 * packetDeltaCount, layer2OctetDeltaCount (frame bytes, flows.bytes),
 * ingressInterface and egressInterface (the ifindex on the record's side,
 * 0 on the other), flowDirection and flowEndReason; the IP templates add
 * octetDeltaCount (flows.ip_bytes: what the store stores, so 0 when the
 * kernel did not measure it and the column is NULL), addresses, ports,
 * protocolIdentifier, tcpControlBits (length 1, which pmacct needs),
 * ipClassOfService and icmpTypeCode; IP and non-IP add the MACs, vlanId
 * (0 when untagged) and ethernetType.
 *
 * Sequence numbers count data records of this stream (RFC 7011 3.1),
 * options data records included: an exporter with statistics on shows
 * nfcapd one sequence failure per statistics record, since nfcapd counts
 * flow records only.
 *
 * Use: ipfix_msg_begin, then ipfix_put_templates / ipfix_put_record /
 * ipfix_put_stats until one returns -ENOSPC (the message is unchanged by
 * the call that failed), then ipfix_msg_end, send, and begin again.
 */
#ifndef FM_IPFIX_ENCODE_H
#define FM_IPFIX_ENCODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "table/record.h"

enum ipfix_tpl {
	IPFIX_TPL_IPV4 = 256,
	IPFIX_TPL_IPV6 = 257,
	IPFIX_TPL_NONIP = 258,
	IPFIX_TPL_UNATTR = 259,
	IPFIX_TPL_STATS = 260,
	IPFIX_TPL_IFNAME = 261,
};

#define IPFIX_MSG_DEFAULT 512 /* octets: safe when the path MTU is unknown */
#define IPFIX_MSG_MIN 512     /* the template set must fit in one message */
#define IPFIX_MSG_MAX 65000   /* below the UDP maximum of 65507 */

/* What the statistics options record says (cumulative). */
struct ipfix_stats_rec {
	uint64_t messages; /* exportedMessageTotalCount */
	uint64_t records;  /* exportedFlowRecordTotalCount */
	uint64_t octets;   /* exportedOctetTotalCount */
	uint64_t not_sent; /* notSentFlowTotalCount */
};

struct ipfix_enc {
	uint8_t *buf;	      /* cap bytes */
	size_t cap, len;      /* the message's size limit and what is written */
	size_t set_off;	      /* offset of the open set's header, 0: none */
	uint16_t set_id;      /* the open set's id */
	uint32_t domain;      /* observation domain id */
	uint32_t seq;	      /* data records of this stream before this message */
	uint32_t msg_records; /* data records in this message */
	uint32_t msg_flows;   /* flow (not options) records in this message */
};

/* buf holds cap bytes (IPFIX_MSG_MIN..IPFIX_MSG_MAX). */
void ipfix_enc_init(struct ipfix_enc *e, uint8_t *buf, size_t cap, uint32_t domain);
/* Start a message stamped with export time export_s (Unix seconds). */
void ipfix_msg_begin(struct ipfix_enc *e, uint32_t export_s);
/* The template set and (with stats, ifnames) the options template set; 0
 * or -ENOSPC. */
int ipfix_put_templates(struct ipfix_enc *e, bool stats, bool ifnames);
/* One flow record in its template's data set; 0 or -ENOSPC. */
int ipfix_put_record(struct ipfix_enc *e, const struct fm_record *r);
/* One statistics options record; 0 or -ENOSPC. */
int ipfix_put_stats(struct ipfix_enc *e, const struct ipfix_stats_rec *s);
/* One interface name options record (template 261); 0 or -ENOSPC. */
int ipfix_put_ifname(struct ipfix_enc *e, uint32_t ifindex, const char *name);
/* Close the message: its length, and the stream's sequence moves past its
 * data records. Returns the message's length in bytes. */
size_t ipfix_msg_end(struct ipfix_enc *e);
/* The template a record goes out with. */
enum ipfix_tpl ipfix_tpl_of(const struct fm_record *r);
/* Bytes one record of template t takes in a data set. */
size_t ipfix_tpl_reclen(enum ipfix_tpl t);

#endif
