// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * flowmaster collect: receive IPFIX, NetFlow v9 and v5 over UDP, decode
 * (ipfix/decode.c) and store the records through the same writer as run
 * (exporter_id set), with a row per exporter in the exporters table.
 *
 * Datagrams are read in batches (recvmmsg) from a socket with a large
 * receive buffer; the kernel's count of datagrams it dropped for want of
 * room there (SO_RXQ_OVFL) is read and reported. When the writer's queue
 * is full the collector stops reading: the burst waits in the socket
 * buffer, and what overflows it is the kernel's drop count. SIGINT,
 * SIGTERM or --duration: read what the socket holds, commit everything,
 * write the exporters' counts, exit 0.
 *
 * The exporters rows are written through a connection of the collector's
 * own (WAL: the writer thread keeps its own): a new exporter's row at its
 * first datagram, since its records carry the row's id, and the counts
 * once a second and at the end.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <linux/sock_diag.h>
#include <sqlite3.h>
#include "cli/cli.h"
#include "ipfix/decode.h"
#include "ipfix/export.h"
#include "lib/clock.h"
#include "lib/log.h"
#include "lib/opts.h"
#include "store/store.h"

#define BATCH 64		/* datagrams per recvmmsg */
#define DGRAM_MAX 65536		/* bytes of one datagram */
#define PENDING_MAX 4096	/* records decoded, not yet queued to the writer */
#define RCVBUF_DEFAULT 33554432 /* 32 MiB: ~60,000 datagrams of 512 bytes */
#define STUCK_MS 30000		/* a writer without room this long is stuck */
#define IFNAMES_MAX 4096	/* interface names remembered (exporter, ifindex) */

#ifndef SO_RXQ_OVFL
#define SO_RXQ_OVFL 40
#endif

struct collect_cfg {
	const char *listen;
	const char *db;
	uint64_t rcvbuf, duration_s;
	bool quiet;
	int verbose;
};

static int collect_finish(void *cfg)
{
	struct collect_cfg *c = cfg;

	if (!c->listen) {
		fprintf(stderr, "flowmaster: collect: give the address to listen on with --listen "
				"ADDR:PORT (e.g. 0.0.0.0:4739 or [::]:4739)\n");
		return -EINVAL;
	}
	if (c->quiet && c->verbose) {
		fprintf(stderr, "flowmaster: collect: -q and -v cannot be given together\n");
		return -EINVAL;
	}
	if (c->quiet)
		fm_log_level = LOG_LVL_WARN;
	else if (c->verbose)
		fm_log_level = LOG_LVL_DEBUG;
	return 0;
}

static const struct opt collect_table[] = {
	{ "listen", 0, OPT_STRING, "ADDR:PORT",
	  "UDP address to receive IPFIX, NetFlow v9 and v5 on; [IPV6]:PORT for IPv6 ([::] also "
	  "receives IPv4)",
	  OPT_AT(struct collect_cfg, listen) },
	{ "db", 0, OPT_STRING, "PATH", "SQLite database", .def = FM_DEFAULT_DB,
	  OPT_AT(struct collect_cfg, db) },
	{ "rcvbuf", 0, OPT_U64, "BYTES",
	  "socket receive buffer: the burst held while SQLite is busy",
	  .def = OPT_STR(RCVBUF_DEFAULT), OPT_AT(struct collect_cfg, rcvbuf), .min = 65536,
	  .max = 1U << 30 },
	{ "duration", 0, OPT_DURATION, "SECONDS", "stop after this long; 0: until a signal",
	  .def = "0", OPT_AT(struct collect_cfg, duration_s), .max = 10 * 365 * 86400ULL },
	{ "quiet", 'q', OPT_FLAG, NULL, "warnings and errors only",
	  OPT_AT(struct collect_cfg, quiet) },
	{ "verbose", 'v', OPT_COUNT, NULL, "debug output", OPT_AT(struct collect_cfg, verbose),
	  .max = 1 },
	{ 0 },
};

const struct opts_cmd collect_opts = {
	.name = "collect",
	.usage = "usage: flowmaster collect --listen ADDR:PORT [--db PATH] [OPTIONS]",
	.about = "Receive IPFIX, NetFlow v9 and NetFlow v5 over UDP and store the flow records\n"
		 "in the database, one exporters row per exporter, until SIGINT/SIGTERM or\n"
		 "--duration.\n",
	.opts = collect_table,
	.cfg_size = sizeof(struct collect_cfg),
	.finish = collect_finish,
};

struct collector {
	struct collect_cfg *cfg;
	struct store *st;
	sqlite3 *db; /* the exporters rows */
	sqlite3_stmt *ins_exp, *upd_exp;
	struct dec *dec;
	struct fm_record pending[PENDING_MAX];
	size_t npending;
	uint64_t submitted, unstored;
	uint32_t drops; /* the socket's drop count, as last read */
	struct ifname {
		uint32_t exporter, ifindex;
		char name[65];
	} * ifnames;
	size_t nifnames;
	bool stop;
	int sfd;
};

static int new_exporter(void *ctx, struct dec_exporter *e)
{
	struct collector *c = ctx;
	sqlite3_stmt *st = c->ins_exp;
	int64_t now = now_ms();
	int rc;

	sqlite3_bind_text(st, 1, e->addr_text, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, e->port);
	sqlite3_bind_int64(st, 3, e->domain);
	sqlite3_bind_text(st, 4, dec_proto_str(e->proto), -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, now);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		e->id = (uint32_t)sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	if (rc != SQLITE_ROW) {
		pr_err("collect: exporters row for %s: %s\n", e->addr_text, sqlite3_errmsg(c->db));
		return -EIO;
	}
	pr_info("collect: new exporter %s port %u, %s, observation domain %" PRIu32
		" (exporters.id %" PRIu32 ")\n",
		e->addr_text, e->port, dec_proto_str(e->proto), e->domain, e->id);
	return 0;
}

/*
 * An interface name an exporter sent: an interfaces row (name, ifindex;
 * xdp_mode NULL), the interface_id of the flows with that ifindex from
 * then on. Only a new or changed name makes a row; the schema keeps no
 * exporter on interfaces, so exporters that number interfaces alike share
 * the latest name.
 */
static void on_ifname(void *ctx, struct dec_exporter *e, uint32_t ifindex, const char *name)
{
	struct collector *c = ctx;
	struct ifname *f = NULL;

	if (!*name)
		return;
	for (size_t i = 0; i < c->nifnames; i++)
		if (c->ifnames[i].exporter == e->id && c->ifnames[i].ifindex == ifindex)
			f = &c->ifnames[i];
	if (f && !strcmp(f->name, name))
		return;
	if (!f) {
		if (c->nifnames == IFNAMES_MAX)
			return;
		f = &c->ifnames[c->nifnames++];
		f->exporter = e->id;
		f->ifindex = ifindex;
	}
	snprintf(f->name, sizeof(f->name), "%s", name);
	if (store_interface_attach(c->st, name, (int)ifindex, NULL, NULL, now_ms()))
		pr_warn("collect: exporter %s: interface %" PRIu32 " (%s) not recorded\n",
			e->addr_text, ifindex, name);
	else
		pr_info("collect: exporter %s: interface %" PRIu32 " is %s\n", e->addr_text,
			ifindex, name);
}

/* The exporters' counts since the last call, added to their rows. */
static void write_exporters(struct collector *c)
{
	struct dec_exporter *const *list;
	size_t n = dec_exporters(c->dec, &list);
	bool begun = false;

	for (size_t i = 0; i < n; i++) {
		struct dec_exporter *e = list[i];
		uint64_t now[6] = { e->datagrams, e->records,	e->lost,
				    e->malformed, e->templates, e->unknown_sets };
		sqlite3_stmt *st = c->upd_exp;
		int rc;

		if (!e->dirty || !e->id)
			continue;
		if (!begun)
			begun = sqlite3_exec(c->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) ==
				SQLITE_OK;
		sqlite3_bind_int(st, 1, e->port);
		sqlite3_bind_int64(st, 2, e->last_ms);
		for (int k = 0; k < 5; k++)
			sqlite3_bind_int64(st, 3 + k, (sqlite3_int64)(now[k] - e->saved[k]));
		sqlite3_bind_int64(st, 8, e->id);
		rc = sqlite3_step(st);
		sqlite3_reset(st);
		if (rc != SQLITE_DONE) {
			pr_warn("collect: exporters row %" PRIu32
				": %s; its counts are written later\n",
				e->id, sqlite3_errmsg(c->db));
			continue;
		}
		memcpy(e->saved, now, sizeof(now));
		e->dirty = false;
	}
	if (begun && sqlite3_exec(c->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		pr_warn("collect: exporters rows: %s\n", sqlite3_errmsg(c->db));
		sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
		for (size_t i = 0; i < n; i++)
			list[i]->dirty = true; /* written again, from saved */
	}
}

static int open_exporters_db(struct collector *c)
{
	static const char ins[] =
		"INSERT INTO exporters(address, port, domain_id, protocol, first_seen_ms,"
		" last_seen_ms, datagrams, records, lost_records, malformed, templates)"
		" VALUES(?1, ?2, ?3, ?4, ?5, ?5, 0, 0, 0, 0, 0)"
		" ON CONFLICT(address, domain_id, protocol) DO UPDATE SET port = excluded.port"
		" RETURNING id";
	static const char upd[] =
		"UPDATE exporters SET port = ?1, last_seen_ms = ?2,"
		" datagrams = ifnull(datagrams, 0) + ?3, records = ifnull(records, 0) + ?4,"
		" lost_records = ifnull(lost_records, 0) + ?5, malformed = ifnull(malformed, 0) + ?6,"
		" templates = ifnull(templates, 0) + ?7 WHERE id = ?8";

	if (sqlite3_open_v2(c->cfg->db, &c->db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK ||
	    sqlite3_busy_timeout(c->db, 10000) != SQLITE_OK ||
	    sqlite3_prepare_v2(c->db, ins, -1, &c->ins_exp, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(c->db, upd, -1, &c->upd_exp, NULL) != SQLITE_OK) {
		pr_err("collect: %s: %s\n", c->cfg->db,
		       c->db ? sqlite3_errmsg(c->db) : "no memory");
		return -EIO;
	}
	return 0;
}

/* Hand the pending records to the writer, waiting while its queue is full
 * (the socket buffer holds what arrives meanwhile). */
static void submit(struct collector *c)
{
	size_t off = 0;
	int64_t since = mono_ms();

	while (off < c->npending) {
		int err = store_submit(c->st, c->pending + off, c->npending - off);

		if (!err) {
			c->submitted += c->npending - off;
			break;
		}
		if (err != -EAGAIN || mono_ms() - since > STUCK_MS) {
			pr_err("collect: the writer takes no records (%s); %zu records not stored\n",
			       strerror(-err), c->npending - off);
			c->unstored += c->npending - off;
			break;
		}
		store_flush(c->st);
		usleep(2000);
	}
	c->npending = 0;
}

static int emit(const struct fm_record *r, void *ctx)
{
	struct collector *c = ctx;

	c->pending[c->npending++] = *r;
	if (c->npending == PENDING_MAX)
		submit(c);
	return 0;
}

static int open_socket(struct collector *c)
{
	struct sockaddr_storage ss;
	socklen_t len;
	const char *why;
	int fd, one = 1, zero = 0, buf = (int)c->cfg->rcvbuf, got = 0;
	socklen_t gl = sizeof(got);

	if (ipfix_parse_addr(c->cfg->listen, &ss, &len, &why)) {
		fprintf(stderr, "flowmaster: --listen %s: %s\n", c->cfg->listen, why);
		return -EINVAL;
	}
	fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (ss.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_RXQ_OVFL, &one, sizeof(one));
	/* FORCE passes net.core.rmem_max with CAP_NET_ADMIN; else the max. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof(buf)))
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
	getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &got, &gl);
	if (bind(fd, (struct sockaddr *)&ss, len)) {
		int err = -errno;

		pr_err("collect: --listen %s: %s\n", c->cfg->listen, strerror(errno));
		close(fd);
		return err;
	}
	pr_info("collect: listening on %s (UDP), receive buffer %d KiB; database %s\n",
		c->cfg->listen, got / 2048, c->cfg->db);
	return fd;
}

static uint8_t bufs[BATCH][DGRAM_MAX];
static char cbufs[BATCH][CMSG_SPACE(sizeof(uint32_t))];

/* Read and decode what the socket holds, up to `rounds` batches. Returns
 * the datagrams read. */
static size_t read_batches(struct collector *c, int fd, int rounds)
{
	struct mmsghdr m[BATCH];
	struct iovec iov[BATCH];
	struct sockaddr_storage from[BATCH];
	size_t total = 0;

	for (int r = 0; r < rounds; r++) {
		int n;

		for (int i = 0; i < BATCH; i++) {
			iov[i] = (struct iovec){ bufs[i], DGRAM_MAX };
			m[i].msg_hdr = (struct msghdr){
				.msg_name = &from[i],
				.msg_namelen = sizeof(from[i]),
				.msg_iov = &iov[i],
				.msg_iovlen = 1,
				.msg_control = cbufs[i],
				.msg_controllen = sizeof(cbufs[i]),
			};
		}
		n = recvmmsg(fd, m, BATCH, MSG_DONTWAIT, NULL);
		if (n <= 0)
			break;
		for (int i = 0; i < n; i++) {
			struct cmsghdr *cm;

			for (cm = CMSG_FIRSTHDR(&m[i].msg_hdr); cm;
			     cm = CMSG_NXTHDR(&m[i].msg_hdr, cm))
				if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SO_RXQ_OVFL)
					memcpy(&c->drops, CMSG_DATA(cm), sizeof(c->drops));
			dec_datagram(c->dec, (struct sockaddr *)&from[i], bufs[i], m[i].msg_len,
				     now_ms(), emit, c);
		}
		total += (size_t)n;
		if (n < BATCH)
			break;
	}
	if (c->npending)
		submit(c);
	return total;
}

/* The socket's drop count now: SO_RXQ_OVFL tells it only with a datagram
 * received, so drops after the last one show here. */
static void read_drops(struct collector *c, int fd)
{
	uint32_t mem[SK_MEMINFO_VARS] = { 0 };
	socklen_t len = sizeof(mem);

	if (!getsockopt(fd, SOL_SOCKET, SO_MEMINFO, mem, &len) &&
	    len > SK_MEMINFO_DROPS * sizeof(uint32_t) && mem[SK_MEMINFO_DROPS] > c->drops)
		c->drops = mem[SK_MEMINFO_DROPS];
}

static void write_metrics(struct collector *c, int64_t now)
{
	const struct dec_stats *d = dec_get_stats(c->dec);
	struct store_stats ss;
	uint64_t malformed = 0;
	const char *names[9 + DEC_ERR__MAX - 1];
	double v[9 + DEC_ERR__MAX - 1];
	char reason[DEC_ERR__MAX][STORE_METRIC_NAME_MAX];
	size_t n = 0;

	store_get_stats(c->st, &ss);
	for (int i = 1; i < DEC_ERR__MAX; i++)
		malformed += d->malformed[i];
#define M(name, val) (names[n] = (name), v[n++] = (double)(val))
	M("collector_datagrams", d->datagrams);
	M("collector_records", d->records);
	M("collector_malformed", malformed);
	M("collector_lost_records", d->lost);
	M("collector_unknown_sets", d->unknown_sets);
	M("collector_socket_drops", c->drops);
	M("collector_templates", d->templates);
	M("collector_sampled_records", d->sampled_records);
	M("flows_stored", ss.rows_written);
	for (int i = 1; i < DEC_ERR__MAX; i++) {
		snprintf(reason[i], sizeof(reason[i]), "collector_malformed_%s", dec_err_str(i));
		M(reason[i], d->malformed[i]);
	}
#undef M
	if (store_submit_metrics(c->st, now, names, v, n))
		pr_warn("metrics: writer queue full, this interval's metrics skipped\n");
}

static void log_totals(struct collector *c)
{
	const struct dec_stats *d = dec_get_stats(c->dec);
	char why[256] = "";
	uint64_t malformed = 0;

	for (int i = 1; i < DEC_ERR__MAX; i++) {
		malformed += d->malformed[i];
		if (d->malformed[i])
			snprintf(why + strlen(why), sizeof(why) - strlen(why), "%s%s %" PRIu64,
				 *why ? ", " : " (", dec_err_str(i), d->malformed[i]);
	}
	if (*why)
		strncat(why, ")", sizeof(why) - strlen(why) - 1);
	pr_info("collect: %" PRIu64 " datagrams (%" PRIu64 " IPFIX, %" PRIu64
		" NetFlow v9, %" PRIu64 " v5), %" PRIu64 " records, %" PRIu64
		" malformed%s, %" PRIu64 " data sets without their template, %" PRIu64
		" lost by sequence numbers, %" PRIu32 " dropped by the socket\n",
		d->datagrams, d->by_proto[DEC_IPFIX], d->by_proto[DEC_NF9], d->by_proto[DEC_NF5],
		d->records, malformed, why, d->unknown_sets, d->lost, c->drops);
	if (d->sampled_records) {
		struct dec_exporter *const *list;
		size_t n = dec_exporters(c->dec, &list);

		pr_info("collect: %" PRIu64 " records renormalized by their exporter's sampling "
			"rate (packets and bytes multiplied by it)\n",
			d->sampled_records);
		for (size_t i = 0; i < n; i++)
			if (list[i]->sampling > 1)
				pr_info("collect: exporter %s (%s, domain %" PRIu32
					") samples 1 in %" PRIu32 " packets\n",
					list[i]->addr_text, dec_proto_str(list[i]->proto),
					list[i]->domain, list[i]->sampling);
	}
}

static int make_signalfd(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	if (sigprocmask(SIG_BLOCK, &set, NULL))
		return -errno;
	signal(SIGPIPE, SIG_IGN);
	return signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
}

int cmd_collect(int argc, char **argv)
{
	struct collect_cfg cfg;
	struct collector *c;
	struct store_opts so = { 0 };
	struct dec_opts dopts = { 0 };
	int fd = -1, err, ret = 1;
	uint64_t unwritten = 0;
	int64_t end, next_stats;

	err = opts_parse(&collect_opts, argc, argv, &cfg);
	if (err != OPTS_RUN)
		return err;
	fm_log_stamped = true;
	c = calloc(1, sizeof(*c));
	if (!c)
		return 1;
	c->cfg = &cfg;
	c->sfd = make_signalfd();
	if (c->sfd < 0) {
		pr_err("signalfd: %s\n", strerror(errno));
		goto out;
	}
	fd = open_socket(c);
	if (fd < 0) {
		ret = fd == -EINVAL ? 2 : 1;
		goto out;
	}
	so.path = cfg.db;
	so.command = "collect";
	if (store_open(&c->st, &so))
		goto out;
	if (open_exporters_db(c))
		goto out;
	dopts.exporter_new = new_exporter;
	dopts.ifname = on_ifname;
	c->ifnames = calloc(IFNAMES_MAX, sizeof(*c->ifnames));
	if (!c->ifnames)
		goto out;
	dopts.ctx = c;
	if (dec_new(&c->dec, &dopts) || store_start(c->st))
		goto out;

	end = cfg.duration_s ? mono_ms() + (int64_t)cfg.duration_s * 1000 : INT64_MAX;
	next_stats = mono_ms() + 1000;
	while (!c->stop) {
		struct pollfd p[2] = { { fd, POLLIN, 0 }, { c->sfd, POLLIN, 0 } };
		int64_t now = mono_ms(), wait = next_stats - now;

		if (end - now < wait)
			wait = end - now;
		if (poll(p, 2, wait < 0 ? 0 : (int)wait) < 0 && errno != EINTR) {
			pr_err("poll: %s\n", strerror(errno));
			break;
		}
		if (p[0].revents & POLLIN)
			read_batches(c, fd, 16);
		if (p[1].revents & POLLIN) {
			struct signalfd_siginfo si;

			if (read(c->sfd, &si, sizeof(si)) == sizeof(si))
				pr_info("%s: stopping\n", strsignal((int)si.ssi_signo));
			c->stop = true;
		}
		now = mono_ms();
		if (now >= end)
			c->stop = true;
		if (now >= next_stats) {
			read_drops(c, fd);
			write_exporters(c);
			write_metrics(c, now_ms());
			next_stats = now + 1000;
		}
	}
	/* What the socket holds was received: store it too. */
	while (read_batches(c, fd, 16))
		;
	read_drops(c, fd);
	write_exporters(c);
	write_metrics(c, now_ms());
	log_totals(c);
	ret = 0;
out:
	if (fd >= 0)
		close(fd);
	if (c->st) {
		err = store_close(c->st, &unwritten);
		unwritten += c->unstored;
		if (err || unwritten) {
			pr_err("%" PRIu64 " flow records could not be written to %s\n", unwritten,
			       cfg.db);
			ret = 1;
		} else if (!ret) {
			pr_info("%" PRIu64 " flow records written to %s\n", c->submitted, cfg.db);
		}
	}
	sqlite3_finalize(c->ins_exp);
	sqlite3_finalize(c->upd_exp);
	if (c->db)
		sqlite3_close(c->db);
	dec_free(c->dec);
	free(c->ifnames);
	if (c->sfd >= 0)
		close(c->sfd);
	free(c);
	return ret;
}
