/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The collector's decoder: IPFIX (RFC 7011), NetFlow v9 (RFC 3954) and
 * NetFlow v5 datagrams into flow records (table/record.h). No I/O and no
 * SQLite: the collector (cli/collect.c) feeds it datagrams and stores what
 * it emits; the fuzz target and the unit tests feed it bytes.
 *
 * Exporters are told apart by (address, observation domain, protocol) as
 * the exporters table keys them (v9: the source id; v5: engine type and
 * id); templates belong to their exporter, so they are kept per
 * (exporter address, domain, template id). A datagram's header and every
 * set's length are checked before anything in it is used: one that fails
 * is counted by reason and nothing of it is stored; a bad template or a
 * variable-length field past its set stops the decoding there (counted;
 * the records before it are sound and kept). A data set whose
 * template has not arrived is counted (unknown_sets) and skipped, never
 * guessed at. Sequence numbers are checked per exporter: IPFIX and v5
 * count records, so a gap adds the records missed to lost; v9 counts
 * datagrams, so there a gap adds the datagrams missed. A sequence number
 * that goes backwards (a restarted exporter, reordering) starts the count
 * afresh and is counted in seq_resets.
 *
 * Records: layer2OctetDeltaCount gives flows.bytes when the exporter sends
 * it, otherwise octetDeltaCount (the IP bytes) does; octetDeltaCount gives
 * ip_bytes. A record without flowEndReason is stored as 'idle'. A record
 * with no address, MAC or EtherType is an unattributed count ('overflow').
 * Options data records are read for two things. Sampling: an exporter
 * that announces a sampling rate N (samplingInterval, samplerRandomInterval,
 * or samplingPacketInterval P with samplingPacketSpace S: N = (P + S) / P;
 * N = 1 means none) has the packets and bytes of its later records
 * multiplied by N (renormalized, as nfcapd does), counted in
 * sampled_records. Interface names: interfaceName with the ifindex
 * (ingressInterface or egressInterface, scope or not; a v9 interface
 * scope) it names, or with none (softflowd: its one capture interface),
 * ifindex 0, goes to dec_opts.ifname.
 */
#ifndef FM_IPFIX_DECODE_H
#define FM_IPFIX_DECODE_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include "table/record.h"

/* Why a datagram was refused; counted per reason. */
enum dec_err {
	DEC_OK = 0,
	DEC_ERR_SHORT,	   /* shorter than its header */
	DEC_ERR_VERSION,   /* not 5, 9 or 10 */
	DEC_ERR_LENGTH,	   /* header length or record count beyond the datagram */
	DEC_ERR_SET,	   /* a set shorter than its header or past the message */
	DEC_ERR_TEMPLATE,  /* a template that cannot be (id, field count, lengths) */
	DEC_ERR_RECORD,	   /* a variable-length field past its set */
	DEC_ERR_EXPORTERS, /* a new exporter past max_exporters */
	DEC_ERR_TEMPLATES, /* a new template past max_templates of its exporter */
	DEC_ERR__MAX,
};

/* "short", "version", ... for logs and metrics. */
const char *dec_err_str(enum dec_err e);

enum dec_proto { DEC_IPFIX, DEC_NF9, DEC_NF5, DEC_PROTO__MAX };
/* exporters.protocol: "ipfix", "netflow9", "netflow5". */
const char *dec_proto_str(enum dec_proto p);

struct dec_tpl;

struct dec_exporter {
	uint8_t addr[16]; /* IPv4 as IPv4-mapped IPv6 */
	char addr_text[46];
	uint16_t port; /* the source port last seen */
	uint32_t domain;
	uint8_t proto; /* enum dec_proto */
	uint32_t id;   /* exporters.id, set by dec_opts.exporter_new; 0: none */
	/* Cumulative counts; dirty when changed since the caller cleared it. */
	uint64_t datagrams, records, lost, malformed, templates, unknown_sets;
	int64_t first_ms, last_ms;
	uint32_t sampling; /* the sampling rate announced; 0: none said */
	bool dirty;
	uint64_t saved[6]; /* the caller's: counts it has written already */
	/* Sequence state. */
	bool have_seq;
	uint32_t next_seq;
	/* Templates. */
	struct dec_tpl **tpls;
	size_t ntpls, cap_tpls;
};

struct dec_stats {
	uint64_t datagrams;	  /* every datagram offered */
	uint64_t records;	  /* flow records emitted */
	uint64_t option_records;  /* options data records read (not stored) */
	uint64_t sampled_records; /* records renormalized by a sampling rate > 1 */
	uint64_t unknown_sets;	  /* data sets without their template */
	uint64_t templates;	  /* template records accepted (refreshes included) */
	uint64_t lost;		  /* by sequence numbers: records (IPFIX, v5) or datagrams (v9) */
	uint64_t seq_resets;	  /* sequence numbers that went backwards */
	uint64_t malformed[DEC_ERR__MAX];  /* datagrams refused, by reason */
	uint64_t by_proto[DEC_PROTO__MAX]; /* datagrams decoded, by protocol */
};

struct dec_opts {
	/* A new exporter: set e->id (e.g. its exporters row) and return 0, or
	 * return -errno to refuse it (the datagram is dropped). May be NULL. */
	int (*exporter_new)(void *ctx, struct dec_exporter *e);
	/* An interface name an exporter sent (ifindex 0: not said). May be NULL. */
	void (*ifname)(void *ctx, struct dec_exporter *e, uint32_t ifindex, const char *name);
	void *ctx;
	size_t max_exporters; /* 0: 4096 */
	size_t max_templates; /* per exporter; 0: 1024 */
};

typedef int (*dec_emit_fn)(const struct fm_record *r, void *ctx);

struct dec;

/* 0 and *out, or -ENOMEM. */
int dec_new(struct dec **out, const struct dec_opts *o);
void dec_free(struct dec *d);
/*
 * Decode one datagram from `from` received at now_ms (epoch ms); emit each
 * flow record. Returns DEC_OK, or the reason it was refused (also counted).
 */
enum dec_err dec_datagram(struct dec *d, const struct sockaddr *from, const uint8_t *buf,
			  size_t len, int64_t now_ms, dec_emit_fn emit, void *ctx);
const struct dec_stats *dec_get_stats(const struct dec *d);
/* The exporters known, in the order first seen. */
size_t dec_exporters(const struct dec *d, struct dec_exporter *const **list);

#endif
