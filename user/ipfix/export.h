/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The IPFIX exporter: a sink (sink/sink.h) that sends every record it
 * takes to one collector over UDP, in messages built by encode.c. It never
 * blocks and never pushes back (room is SINK_ROOM_ANY): a message the
 * socket will not take now (EAGAIN, ENOBUFS) or that fails otherwise is
 * dropped and its records are counted as not sent; the sequence numbers
 * still move past them, so the collector sees the loss too.
 *
 * With a rate (records per second, o.rate > 0) it paces instead: room is
 * the free part of a bounded queue (ipfix_pace_queue_records), take()
 * copies records into it, and a sender thread, which then owns the
 * encoder, the templates and the sequence numbers, sends them in messages
 * no faster than the rate (a token bucket: at most PACE_BURST_NS ahead),
 * so a collector's socket is not overrun by a burst, e.g. every flow at a
 * stop. What does not fit in the queue stays aggregated in the flow table:
 * nothing is dropped for the pacing's sake.
 *
 * Templates go out before the first data and again every refresh_s
 * seconds or refresh_msgs messages, whichever comes first, so a collector
 * that restarts decodes records again within that period. Each take()
 * ends with its records sent (unpaced) or queued for the thread (paced,
 * which sends a message that is not full as soon as the queue is empty).
 *
 * The sink's functions and close are for the daemon's main thread only.
 */
#ifndef FM_IPFIX_EXPORT_H
#define FM_IPFIX_EXPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include "sink/sink.h"

#define IPFIX_REFRESH_S_DEFAULT 20     /* templates resent at least this often */
#define IPFIX_REFRESH_MSGS_DEFAULT 100 /* ...and every this many messages */
#define IPFIX_PACE_QUEUE_MIN 4096      /* paced: queue records, at least */
#define IPFIX_PACE_QUEUE_MAX 65536     /* ...at most (rate/4 between) */

struct ipfix_export_opts {
	const char *dest;      /* "HOST:PORT", "[IPV6]:PORT" */
	uint32_t domain;       /* observation domain id */
	size_t msg_size;       /* octets per message (IPFIX_MSG_DEFAULT) */
	unsigned refresh_s;    /* 0: IPFIX_REFRESH_S_DEFAULT */
	unsigned refresh_msgs; /* 0: IPFIX_REFRESH_MSGS_DEFAULT */
	bool stats;	       /* send the statistics options record with the templates */
	bool ifnames;	       /* send each interface's name (options records) with them */
	uint64_t rate;	       /* records per second; 0: unpaced, no thread */
};

struct ipfix_export_stats {
	uint64_t messages;	    /* messages sent, templates included */
	uint64_t records;	    /* flow records sent */
	uint64_t octets;	    /* bytes of the messages sent */
	uint64_t records_unsent;    /* flow records in messages that could not be sent */
	uint64_t messages_unsent;   /* messages that could not be sent */
	uint64_t template_messages; /* of messages: those carrying the templates */
};

struct ipfix_exporter;

/*
 * Resolve dest and open a non-blocking UDP socket to it. Returns 0 and *out,
 * or -EINVAL (a bad HOST:PORT, message printed) or another -errno (logged).
 */
int ipfix_export_open(struct ipfix_exporter **out, const struct ipfix_export_opts *o);
/* The exporter as a sink; valid until ipfix_export_close. */
struct sink *ipfix_export_sink(struct ipfix_exporter *x);
void ipfix_export_get_stats(struct ipfix_exporter *x, struct ipfix_export_stats *st);
/* Paced: let the thread send what is queued (waiting queued/rate + 2 s at
 * most, what is left then counted as not sent) and end it; the stats are
 * then final. Unpaced, or NULL: nothing. */
void ipfix_export_finish(struct ipfix_exporter *x);
/* Records the queue of a paced exporter holds at rate. */
size_t ipfix_pace_queue_records(uint64_t rate);
/* Send what is held (finishing first) and close. NULL is a no-op. */
void ipfix_export_close(struct ipfix_exporter *x);

/*
 * Parse "HOST:PORT" or "[IPV6]:PORT" (HOST a name or a literal) into *ss.
 * Returns 0, or -EINVAL with why set to a message.
 */
int ipfix_parse_addr(const char *s, struct sockaddr_storage *ss, socklen_t *len, const char **why);

#endif
