// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The IPFIX exporter sink; see export.h. */
#include <errno.h>
#include <inttypes.h>
#include <net/if.h>
#include <netdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "ipfix/encode.h"
#include "ipfix/export.h"
#include "lib/clock.h"
#include "lib/log.h"

#define SNDBUF_BYTES (4 << 20)	  /* a whole fan-out stage's messages, and more */
#define IFNAMES_MAX 64		  /* interfaces whose names are sent (ifnames) */
#define PACE_BURST_NS 2000000	  /* paced: a send may run ahead of the rate by this */
#define PACE_CLOSE_MARGIN_MS 2000 /* paced: close waits queued/rate + this */

/* With a rate (o.rate > 0): the bounded queue the sender thread empties. */
struct pace {
	pthread_t thread;
	pthread_mutex_t mu; /* guards the queue, stop, and the exporter's stats */
	pthread_cond_t cv;  /* signalled on take(), flush() and close() */
	struct fm_record *q;
	size_t cap, head, count;   /* a ring: count records from head */
	bool stop;		   /* close(): send what is queued, then end */
	int64_t stop_by_mono;	   /* ...but give up on what is left at this time */
	int64_t next_ns;	   /* CLOCK_MONOTONIC when the next message may go */
	int64_t first_ns, last_ns; /* the first and the last data message sent */
	uint64_t paced_records;	   /* data records in them */
	bool started;
};

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
	struct pace pace; /* used only with a rate */
};

size_t ipfix_pace_queue_records(uint64_t rate)
{
	uint64_t n = rate / 4;

	if (n < IPFIX_PACE_QUEUE_MIN)
		n = IPFIX_PACE_QUEUE_MIN;
	if (n > IPFIX_PACE_QUEUE_MAX)
		n = IPFIX_PACE_QUEUE_MAX;
	return (size_t)n;
}

static int64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/*
 * Paced: wait until a message of flows records may go. A virtual clock
 * (next_ns) moves by flows/rate per message; it never lags now by more than
 * PACE_BURST_NS, so after a pause at most that much goes at once.
 */
static void pace_wait(struct ipfix_exporter *x, uint32_t flows)
{
	struct pace *p = &x->pace;
	int64_t now = mono_ns();

	if (p->next_ns < now - PACE_BURST_NS)
		p->next_ns = now - PACE_BURST_NS;
	if (p->next_ns > now) {
		struct timespec ts = {
			.tv_sec = p->next_ns / 1000000000,
			.tv_nsec = p->next_ns % 1000000000,
		};

		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
			;
		now = mono_ns();
	}
	p->next_ns += (int64_t)((uint64_t)flows * 1000000000 / x->o.rate);
	if (!p->paced_records)
		p->first_ns = now;
	p->last_ns = now;
	p->paced_records += flows;
}

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

	int err;

	x->open_msg = false;
	if (x->pace.started && flows)
		pace_wait(x, flows);
	n = sendto(x->fd, x->buf, len, MSG_DONTWAIT, (struct sockaddr *)&x->to, x->tolen);
	err = errno;
	if (x->pace.started)
		pthread_mutex_lock(&x->pace.mu);
	if (n == (ssize_t)len) {
		x->st.messages++;
		x->st.records += flows;
		x->st.octets += len;
	} else {
		x->st.messages_unsent++;
		x->st.records_unsent += flows;
	}
	if (x->pace.started)
		pthread_mutex_unlock(&x->pace.mu);
	if (n == (ssize_t)len)
		return;
	if (n < 0 && err != x->last_err) {
		x->last_err = err;
		errno = err;
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

/* Put n records in messages, sending each that fills; the last stays open. */
static void encode_records(struct ipfix_exporter *x, const struct fm_record *recs, size_t n)
{
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
}

static int ipfix_take(struct sink *k, const struct fm_record *recs, size_t n)
{
	struct ipfix_exporter *x = k->priv;

	encode_records(x, recs, n);
	send_data(x);
	return 0;
}

static void ipfix_flush(struct sink *k)
{
	send_data(k->priv);
}

/* Paced: the queue's free slots. */
static size_t paced_room(struct sink *k)
{
	struct ipfix_exporter *x = k->priv;
	size_t room;

	pthread_mutex_lock(&x->pace.mu);
	room = x->pace.cap - x->pace.count;
	pthread_mutex_unlock(&x->pace.mu);
	return room;
}

/* Paced: copy the records into the queue (n <= room) for the thread. */
static int paced_take(struct sink *k, const struct fm_record *recs, size_t n)
{
	struct ipfix_exporter *x = k->priv;
	struct pace *p = &x->pace;
	int err = 0;

	pthread_mutex_lock(&p->mu);
	if (n > p->cap - p->count) {
		err = -ENOSPC;
		goto out;
	}
	for (size_t done = 0; done < n;) {
		size_t tail = (p->head + p->count) % p->cap;
		size_t chunk = p->cap - tail;

		if (chunk > n - done)
			chunk = n - done;
		memcpy(&p->q[tail], &recs[done], chunk * sizeof(*recs));
		p->count += chunk;
		done += chunk;
	}
	pthread_cond_signal(&p->cv);
out:
	pthread_mutex_unlock(&p->mu);
	return err;
}

/* Paced: the thread sends what is queued anyway; wake it. */
static void paced_flush(struct sink *k)
{
	struct ipfix_exporter *x = k->priv;

	pthread_mutex_lock(&x->pace.mu);
	pthread_cond_signal(&x->pace.cv);
	pthread_mutex_unlock(&x->pace.mu);
}

/*
 * The sender thread: owns the encoder, the templates and the sequence
 * numbers while it runs. It encodes the queued records in place (take()
 * writes only past them), freeing their slots once sent, and sends a
 * message that is not full as soon as the queue is empty, so that no record
 * waits for more to come.
 */
static void *pace_thread(void *arg)
{
	struct ipfix_exporter *x = arg;
	struct pace *p = &x->pace;

	pthread_mutex_lock(&p->mu);
	for (;;) {
		size_t n;

		while (!p->count && !p->stop)
			pthread_cond_wait(&p->cv, &p->mu);
		if (!p->count)
			break;
		if (p->stop && mono_ms() >= p->stop_by_mono) {
			x->st.records_unsent += p->count;
			p->count = 0;
			break;
		}
		n = p->count;
		if (n > p->cap - p->head)
			n = p->cap - p->head;
		if (n > 256) /* free slots as it goes */
			n = 256;
		pthread_mutex_unlock(&p->mu);
		encode_records(x, &p->q[p->head], n);
		pthread_mutex_lock(&p->mu);
		p->head = (p->head + n) % p->cap;
		p->count -= n;
		if (!p->count) {
			pthread_mutex_unlock(&p->mu);
			send_data(x);
			pthread_mutex_lock(&p->mu);
		}
	}
	pthread_mutex_unlock(&p->mu);
	send_data(x);
	return NULL;
}

static int pace_start(struct ipfix_exporter *x)
{
	struct pace *p = &x->pace;
	int err;

	p->cap = ipfix_pace_queue_records(x->o.rate);
	p->q = calloc(p->cap, sizeof(*p->q));
	if (!p->q)
		return -ENOMEM;
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv, NULL);
	p->started = true; /* before the thread reads it */
	err = pthread_create(&p->thread, NULL, pace_thread, x);
	if (err) {
		p->started = false;
		pr_err("%s: cannot start the sender thread: %s\n", x->name, strerror(err));
		pthread_cond_destroy(&p->cv);
		pthread_mutex_destroy(&p->mu);
		return -err;
	}
	x->sink.room = paced_room;
	x->sink.take = paced_take;
	x->sink.flush = paced_flush;
	return 0;
}

/* Let the thread send what is queued, within queued/rate + a margin, and
 * join it; what is left then is counted as not sent. */
static void pace_stop(struct ipfix_exporter *x)
{
	struct pace *p = &x->pace;

	if (!p->started)
		return;
	pthread_mutex_lock(&p->mu);
	p->stop = true;
	p->stop_by_mono = mono_ms() + (int64_t)(p->count * 1000 / x->o.rate) + PACE_CLOSE_MARGIN_MS;
	pthread_cond_signal(&p->cv);
	pthread_mutex_unlock(&p->mu);
	pthread_join(p->thread, NULL);
	p->started = false;
	pthread_cond_destroy(&p->cv);
	pthread_mutex_destroy(&p->mu);
	if (p->paced_records > 1 && p->last_ns > p->first_ns)
		pr_info("%s: paced at %" PRIu64 " records/s: %" PRIu64
			" records in %.3f s, %.0f records/s\n",
			x->name, x->o.rate, p->paced_records,
			(double)(p->last_ns - p->first_ns) / 1e9,
			(double)p->paced_records * 1e9 / (double)(p->last_ns - p->first_ns));
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
	if (x->o.rate) {
		err = pace_start(x);
		if (err)
			goto fail;
	}
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

void ipfix_export_get_stats(struct ipfix_exporter *x, struct ipfix_export_stats *st)
{
	if (x->pace.started)
		pthread_mutex_lock(&x->pace.mu);
	*st = x->st;
	if (x->pace.started)
		pthread_mutex_unlock(&x->pace.mu);
}

void ipfix_export_finish(struct ipfix_exporter *x)
{
	if (x)
		pace_stop(x);
}

void ipfix_export_close(struct ipfix_exporter *x)
{
	if (!x)
		return;
	pace_stop(x);
	free(x->pace.q);
	if (x->fd >= 0) {
		send_data(x);
		close(x->fd);
	}
	free(x->buf);
	free(x);
}
