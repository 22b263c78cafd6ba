/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* A flow record on its way from the flow table (or a collector) to the sinks. */
#ifndef FM_RECORD_H
#define FM_RECORD_H

#include <stdint.h>
#include "bpf/flowmaster.h"

enum fm_end_reason {
	FM_END_IDLE = 0,
	FM_END_ACTIVE,
	FM_END_TCP_END,
	FM_END_SHUTDOWN,
	FM_END_PRESSURE,
	FM_END_OVERFLOW, /* unattributed packets: key columns stored NULL */
	FM_END__MAX,
};

/* Text stored in flows.end_reason. */
const char *fm_end_reason_str(enum fm_end_reason r);

struct fm_record {
	struct fm_flow_key key; /* OVERFLOW: only key.ifindex and direction are meaningful */
	uint64_t packets;
	uint64_t bytes;	       /* frame bytes at the hook (layer 2, FCS excluded) */
	uint64_t ip_bytes;     /* IP header + payload bytes; 0 for non-IP (stored NULL) */
	int64_t first_seen_ms; /* Unix epoch milliseconds */
	int64_t last_seen_ms;
	uint32_t exporter_id; /* exporters.id of a collected record; 0: seen by this host */
	uint8_t tcp_flags;
	uint8_t end_reason; /* enum fm_end_reason */
};

#endif
