// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The IPFIX exporter sink; see export.h. */
#include <errno.h>
#include <inttypes.h>
#include <net/if.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "ipfix/encode.h"
#include "ipfix/export.h"
#include "lib/clock.h"
#include "lib/log.h"

#define SNDBUF_BYTES (4 << 20) /* a whole fan-out stage's messages, and more */
#define IFNAMES_MAX 64	       /* interfaces whose names are sent (ifnames) */

struct ipfix_exporter {
	struct sink sink;
	char name[80]; /* "ipfix HOST:PORT" */
	int fd;
	struct sockaddr_storage to;
	socklen_t tolen;
	struct ipfix_export_opts o;
	struct ipfix_enc enc;
	uint8_t *buf;
	bool open_msg;		     /* enc holds a message begun */
	int64_t next_tpl_mono;	     /* when templates are due again (0: now) */
	unsigned msgs_since_tpl;     /* data messages since the templates */
	int last_err;		     /* the errno last reported, to say each kind once */
	uint32_t ifidx[IFNAMES_MAX]; /* ifnames: the ifindexes records carried */
	unsigned nifidx;
	struct ipfix_export_stats st;
};

int ipfix_parse_addr(const char *s, struct sockaddr_storage *ss, socklen_t *len, const char **why)
{
	char host[256];
	const char *colon, *port, *h = s;
	size_t hlen;
	struct addrinfo hints = { .ai_socktype = SOCK_DGRAM }, *res = NULL;
	char *end;
	unsigned long p;
	int rc;

	if (*s == '[') {
		const char *rb = strchr(s, ']');

		if (!rb || rb[1] != ':') {
			*why = "expected [IPV6]:PORT";
			return -EINVAL;
		}
		h = s + 1;
		hlen = (size_t)(rb - h);
		port = rb + 2;
		hints.ai_flags = AI_NUMERICHOST;
	} else {
		colon = strrchr(s, ':');
		if (!colon || strchr(s, ':') != colon) {
			*why = "expected HOST:PORT (an IPv6 address in brackets: [2001:db8::1]:4739)";
			return -EINVAL;
		}
		hlen = (size_t)(colon - s);
		port = colon + 1;
	}
	errno = 0;
	p = strtoul(port, &end, 10);
	if (!*port || *end || errno || p > 65535) {
		*why = "the port is not a number from 0 to 65535";
		return -EINVAL;
	}
	if (hlen == 0 || hlen >= sizeof(host)) {
		*why = "no host before the port";
		return -EINVAL;
	}
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	rc = getaddrinfo(host, NULL, &hints, &res);
	if (rc || !res) {
		*why = rc ? gai_strerror(rc) : "no address";
		return -EINVAL;
	}
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*len = res->ai_addrlen;
	if (ss->ss_family == AF_INET)
		((struct sockaddr_in *)ss)->sin_port = htons((uint16_t)p);
	else
		((struct sockaddr_in6 *)ss)->sin6_port = htons((uint16_t)p);
	freeaddrinfo(res);
	return 0;
}

/* Send the message in enc; count it as sent or not. */
static void send_msg(struct ipfix_exporter *x)
{
	uint32_t flows = x->enc.msg_flows;
	size_t len = ipfix_msg_end(&x->enc);
	ssize_t n;

	x->open_msg = false;
	n = sendto(x->fd, x->buf, len, MSG_DONTWAIT, (struct sockaddr *)&x->to, x->tolen);
	if (n == (ssize_t)len) {
		x->st.messages++;
		x->st.records += flows;
		x->st.octets += len;
		return;
	}
	x->st.messages_unsent++;
	x->st.records_unsent += flows;
	if (n < 0 && errno != x->last_err) {
		x->last_err = errno;
		pr_warn("%s: %s; messages that cannot be sent are dropped and counted "
			"(ipfix_records_unsent)\n",
			x->name, strerror(errno));
	}
}

static void begin(struct ipfix_exporter *x)
{
	ipfix_msg_begin(&x->enc, (uint32_t)(now_ms() / 1000));
	x->open_msg = true;
}

/* The templates (and the statistics record) in a message of their own. */
static void send_templates(struct ipfix_exporter *x)
{
	struct ipfix_stats_rec r = {
		.messages = x->st.messages,
		.records = x->st.records,
		.octets = x->st.octets,
		.not_sent = x->st.records_unsent,
	};

	begin(x);
	ipfix_put_templates(&x->enc, x->o.stats, x->o.ifnames);
	if (x->o.stats)
		ipfix_put_stats(&x->enc, &r);
	for (unsigned i = 0; i < x->nifidx; i++) {
		char name[IF_NAMESIZE] = "";

		/* Gone since: the name is not known any more, "" says so. */
		if (!if_indextoname(x->ifidx[i], name))
			name[0] = '\0';
		if (!ipfix_put_ifname(&x->enc, x->ifidx[i], name))
			continue;
		send_msg(x);
		begin(x);
		ipfix_put_ifname(&x->enc, x->ifidx[i], name);
	}
	x->st.template_messages++;
	send_msg(x);
	x->msgs_since_tpl = 0;
	x->next_tpl_mono = mono_ms() + (int64_t)x->o.refresh_s * 1000;
}

/* Begin a data message, after the templates when they are due: the
 * message's sequence number then counts the statistics record. */
static void begin_data(struct ipfix_exporter *x)
{
	if (!x->next_tpl_mono || x->msgs_since_tpl >= x->o.refresh_msgs ||
	    mono_ms() >= x->next_tpl_mono)
		send_templates(x);
	begin(x);
}

/* Send the data message begun, if it has records. */
static void send_data(struct ipfix_exporter *x)
{
	if (!x->open_msg)
		return;
	if (!x->enc.msg_records) {
		x->open_msg = false;
		return;
	}
	send_msg(x);
	x->msgs_since_tpl++;
}

static size_t ipfix_room(struct sink *k)
{
	(void)k;
	return SINK_ROOM_ANY;
}

/* ifnames: whether ifindex is new (then remembered, while there is room). */
static bool new_ifindex(struct ipfix_exporter *x, uint32_t ifindex)
{
	for (unsigned i = 0; i < x->nifidx; i++)
		if (x->ifidx[i] == ifindex)
			return false;
	if (x->nifidx == IFNAMES_MAX)
		return false;
	x->ifidx[x->nifidx++] = ifindex;
	return true;
}

static int ipfix_take(struct sink *k, const struct fm_record *recs, size_t n)
{
	struct ipfix_exporter *x = k->priv;

	for (size_t i = 0; i < n; i++) {
		if (x->o.ifnames && recs[i].key.ifindex && new_ifindex(x, recs[i].key.ifindex)) {
			/* Its name before its first record: templates again now. */
			send_data(x);
			x->next_tpl_mono = 0;
		}
		if (!x->open_msg)
			begin_data(x);
		if (!ipfix_put_record(&x->enc, &recs[i]))
			continue;
		send_data(x);
		begin_data(x);
		ipfix_put_record(&x->enc, &recs[i]); /* fits an empty message */
	}
	send_data(x);
	return 0;
}

static void ipfix_flush(struct sink *k)
{
	send_data(k->priv);
}

int ipfix_export_open(struct ipfix_exporter **out, const struct ipfix_export_opts *o)
{
	struct ipfix_exporter *x;
	const char *why = NULL;
	int sndbuf = SNDBUF_BYTES, err;

	x = calloc(1, sizeof(*x));
	if (!x)
		return -ENOMEM;
	x->o = *o;
	if (!x->o.msg_size)
		x->o.msg_size = IPFIX_MSG_DEFAULT;
	if (!x->o.refresh_s)
		x->o.refresh_s = IPFIX_REFRESH_S_DEFAULT;
	if (!x->o.refresh_msgs)
		x->o.refresh_msgs = IPFIX_REFRESH_MSGS_DEFAULT;
	x->fd = -1;
	if (x->o.msg_size < IPFIX_MSG_MIN || x->o.msg_size > IPFIX_MSG_MAX) {
		fprintf(stderr, "flowmaster: IPFIX message size %zu out of %d..%d\n", x->o.msg_size,
			IPFIX_MSG_MIN, IPFIX_MSG_MAX);
		err = -EINVAL;
		goto fail;
	}
	err = ipfix_parse_addr(o->dest, &x->to, &x->tolen, &why);
	if (err) {
		fprintf(stderr, "flowmaster: --ipfix %s: %s\n", o->dest, why);
		goto fail;
	}
	x->buf = malloc(x->o.msg_size);
	if (!x->buf) {
		err = -ENOMEM;
		goto fail;
	}
	x->fd = socket(x->to.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (x->fd < 0) {
		err = -errno;
		pr_err("--ipfix %s: socket: %s\n", o->dest, strerror(errno));
		goto fail;
	}
	/* Best effort: a bigger buffer absorbs a burst of messages. */
	setsockopt(x->fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
	snprintf(x->name, sizeof(x->name), "ipfix %s", o->dest);
	ipfix_enc_init(&x->enc, x->buf, x->o.msg_size, o->domain);
	x->sink = (struct sink){
		.name = x->name,
		.room = ipfix_room,
		.take = ipfix_take,
		.flush = ipfix_flush,
		.priv = x,
	};
	*out = x;
	return 0;
fail:
	ipfix_export_close(x);
	return err;
}

struct sink *ipfix_export_sink(struct ipfix_exporter *x)
{
	return &x->sink;
}

void ipfix_export_get_stats(const struct ipfix_exporter *x, struct ipfix_export_stats *st)
{
	*st = x->st;
}

void ipfix_export_close(struct ipfix_exporter *x)
{
	if (!x)
		return;
	if (x->fd >= 0) {
		send_data(x);
		close(x->fd);
	}
	free(x->buf);
	free(x);
}
