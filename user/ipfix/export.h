/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The IPFIX exporter: a sink (sink/sink.h) that sends every record it
 * takes to one collector over UDP, in messages built by encode.c. It never
 * blocks and never pushes back (room is SINK_ROOM_ANY): a message the
 * socket will not take now (EAGAIN, ENOBUFS) or that fails otherwise is
 * dropped and its records are counted as not sent; the sequence numbers
 * still move past them, so the collector sees the loss too.
 *
 * Templates go out before the first data and again every refresh_s
 * seconds or refresh_msgs messages, whichever comes first, so a collector
 * that restarts decodes records again within that period. Each take()
 * ends with its records sent: nothing waits in the exporter between the
 * daemon's cycles.
 *
 * Not thread safe: the daemon's main thread owns it.
 */
#ifndef FM_IPFIX_EXPORT_H
#define FM_IPFIX_EXPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include "sink/sink.h"

#define IPFIX_REFRESH_S_DEFAULT 20     /* templates resent at least this often */
#define IPFIX_REFRESH_MSGS_DEFAULT 100 /* ...and every this many messages */

struct ipfix_export_opts {
	const char *dest;      /* "HOST:PORT", "[IPV6]:PORT" */
	uint32_t domain;       /* observation domain id */
	size_t msg_size;       /* octets per message (IPFIX_MSG_DEFAULT) */
	unsigned refresh_s;    /* 0: IPFIX_REFRESH_S_DEFAULT */
	unsigned refresh_msgs; /* 0: IPFIX_REFRESH_MSGS_DEFAULT */
	bool stats;	       /* send the statistics options record with the templates */
	bool ifnames;	       /* send each interface's name (options records) with them */
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
void ipfix_export_get_stats(const struct ipfix_exporter *x, struct ipfix_export_stats *st);
/* Send what is held and close. NULL is a no-op. */
void ipfix_export_close(struct ipfix_exporter *x);

/*
 * Parse "HOST:PORT" or "[IPV6]:PORT" (HOST a name or a literal) into *ss.
 * Returns 0, or -EINVAL with why set to a message.
 */
int ipfix_parse_addr(const char *s, struct sockaddr_storage *ss, socklen_t *len, const char **why);

#endif
