// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* --metrics-listen: Prometheus text at /metrics; see prom.h. */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <microhttpd.h>
#include "bpf/flowmaster.h"
#include "daemon/daemon.h"
#include "daemon/prom.h"
#include "lib/hostport.h"
#include "lib/log.h"
#include "store/store.h"

/* More than the ~40 the daemon writes per interval; the rest is dropped. */
#define PROM_MAX_METRICS 128
/* Bytes of request headers a connection may use (MHD's default is 32 KiB). */
#define PROM_CONN_MEMORY 16384

struct prom_iface {
	char name[16];
	uint32_t state;		 /* enum fm_iface_state */
	struct fm_counters c[2]; /* the hooks' counters: ingress (XDP), egress (TC) */
	uint64_t exported[2];
	uint64_t unattributed[2];
};

/* What a scrape renders; copied whole under prom.lock. */
struct prom_snap {
	size_t nr_metrics;
	int64_t metrics_ms; /* when the metrics rows were taken; 0: none yet */
	char names[PROM_MAX_METRICS][STORE_METRIC_NAME_MAX];
	double values[PROM_MAX_METRICS];
	bool have_daemon;
	uint32_t nr_ifaces;
	uint64_t flows, table_limit, staged;
	struct prom_iface iface[FM_MAX_IFACES + 1];
};

struct prom {
	struct MHD_Daemon *mhd;
	pthread_mutex_t lock;
	struct prom_snap snap; /* under lock */
	uint64_t scrapes;      /* under lock */
};

/*
 * The metrics table's rows as Prometheus metrics: its name there, the name
 * here, whether it only ever grows (counter), the factor to the base unit
 * (ms to s, MiB to bytes, percent to a ratio) and the help text. A row not
 * in this table (a metric added later) is served as a gauge
 * flowmaster_NAME, as it is.
 */
struct prom_def {
	const char *table, *name;
	bool counter;
	double scale;
	const char *help;
};

#define MIB 1048576.0
static const struct prom_def defs[] = {
	{ "packets_processed", "packets_processed_total", true, 1,
	  "Packets the kernel counted on all interfaces" },
	{ "packets_per_second", "packets_per_second", false, 1,
	  "Packets per second over the last metrics interval" },
	{ "bytes_per_second", "bytes_per_second", false, 1,
	  "Bytes per second over the last metrics interval" },
	{ "flows_stored", "flows_stored_total", true, 1, "Flow rows committed to SQLite" },
	{ "active_flows", "active_flows", false, 1, "Flows in the daemon's flow table" },
	{ "batch_count", "batches_total", true, 1, "SQLite transactions committed" },
	{ "average_batch_size", "average_batch_size", false, 1,
	  "Flow rows per committed transaction" },
	{ "current_batch_size", "current_batch_size", false, 1,
	  "Flow records the next transaction may take" },
	{ "average_batch_processing_ms", "average_batch_processing_seconds", false, 1e-3,
	  "Mean transaction time, BEGIN to COMMIT" },
	{ "pending_batches", "pending_batches", false, 1,
	  "Records waiting for the writer, in batches of the current size" },
	{ "database_operations", "database_operations_total", true, 1,
	  "SQLite transactions attempted" },
	{ "database_error_ratio", "database_error_ratio", false, 1,
	  "Failed transactions over attempted ones" },
	{ "validation_errors", "validation_errors_total", true, 1,
	  "Malformed frames counted by the parser plus ring records refused" },
	{ "map_full_events", "map_full_events_total", true, 1,
	  "Flow inserts the kernel map refused (generation full)" },
	{ "ringbuf_events", "ringbuf_events_total", true, 1,
	  "Ring buffer records: fallback packets and doorbells" },
	{ "ringbuf_drops", "ringbuf_drops_total", true, 1, "Ring buffer reservations that failed" },
	{ "overflow_packets", "overflow_packets_total", true, 1,
	  "Packets counted only in the overflow counters" },
	{ "overflow_bytes", "overflow_bytes_total", true, 1,
	  "Bytes counted only in the overflow counters" },
	{ "map_fill_ratio", "map_fill_ratio", false, 1,
	  "Flows in the last drained generation over its size" },
	{ "drain_ms", "drain_seconds", false, 1e-3, "Time of the last swap and drain" },
	{ "wal_size_mb", "wal_size_bytes", false, MIB, "Size of the SQLite -wal file" },
	{ "memory_usage_mb", "memory_usage_bytes", false, MIB, "Resident memory of the daemon" },
	{ "cpu_usage_percent", "cpu_usage_ratio", false, 0.01,
	  "CPU time over wall time in the last interval (1 = one core)" },
	{ "runtime_seconds", "runtime_seconds", false, 1, "Seconds since the run started" },
	{ "staged_records", "staged_records", false, 1, "Records waiting for the sinks" },
	{ "queue_full_events", "queue_full_events_total", true, 1,
	  "Submits the writer's queue refused" },
	{ "cache_hit_ratio", "cache_hit_ratio", false, 1, "Device cache hits over lookups" },
	{ "cache_size", "cache_size", false, 1, "Device cache entries held" },
	{ "cache_capacity", "cache_capacity", false, 1, "Device cache entries it may hold" },
	{ "cache_evictions", "cache_evictions_total", true, 1, "Device cache entries evicted" },
	{ "bpf_map_memory_mb", "bpf_map_memory_bytes", false, MIB,
	  "Kernel memory of the BPF maps" },
	{ "memory_limit_mb", "memory_limit_bytes", false, MIB, "The --memory-limit budget" },
	{ "memory_pressure_events", "memory_pressure_events_total", true, 1,
	  "Times memory pressure exported flows early" },
	{ "flow_table_limit", "flow_table_limit", false, 1, "Flows the flow table may hold" },
	{ "flow_table_fill_ratio", "flow_table_fill_ratio", false, 1,
	  "Flows in the flow table over its limit" },
	{ "unattributed_packets", "unattributed_packets_total", true, 1,
	  "Packets stored without their flow (overflow rows)" },
	{ "unattributed_bytes", "unattributed_bytes_total", true, 1,
	  "Bytes stored without their flow (overflow rows)" },
	{ "table_refused_deltas", "table_refused_deltas_total", true, 1,
	  "Kernel deltas the flow table could not take" },
	{ "deferred_swaps", "deferred_swaps_total", true, 1,
	  "Cycles that left a generation in the kernel for lack of room" },
	{ "pressure_exports", "pressure_exports_total", true, 1,
	  "Flow records exported early for room" },
	{ "retired_flows", "retired_flows_total", true, 1,
	  "Flow rows deleted by --retention (their totals are in the retired table)" },
	{ "retired_metric_rows", "retired_metric_rows_total", true, 1,
	  "Metric rows deleted by --retention" },
};

static const struct prom_def *find_def(const char *table)
{
	for (size_t i = 0; i < sizeof(defs) / sizeof(defs[0]); i++)
		if (!strcmp(defs[i].table, table))
			return &defs[i];
	return NULL;
}

/* Parse errors by reason: the label, and where the counter is. */
static const struct {
	const char *reason;
	size_t off;
} parse_errors[] = {
	{ "eth", offsetof(struct fm_counters, err_eth) },
	{ "vlan", offsetof(struct fm_counters, err_vlan) },
	{ "ipv4", offsetof(struct fm_counters, err_ipv4) },
	{ "ipv4_options", offsetof(struct fm_counters, err_ipv4_opts) },
	{ "ipv6", offsetof(struct fm_counters, err_ipv6) },
	{ "ipv6_ext", offsetof(struct fm_counters, err_ipv6_ext) },
	{ "ext_chain", offsetof(struct fm_counters, err_ext_chain) },
	{ "l4", offsetof(struct fm_counters, err_l4) },
};

static uint64_t counter_at(const struct fm_counters *c, size_t off)
{
	uint64_t v;

	memcpy(&v, (const char *)c + off, sizeof(v));
	return v;
}

struct prom *prom_new(void)
{
	struct prom *p = calloc(1, sizeof(*p));

	if (p)
		pthread_mutex_init(&p->lock, NULL);
	return p;
}

void prom_set_metrics(struct prom *p, int64_t ts_ms, const char *const *names, const double *values,
		      size_t n)
{
	if (!p)
		return;
	if (n > PROM_MAX_METRICS)
		n = PROM_MAX_METRICS;
	pthread_mutex_lock(&p->lock);
	for (size_t i = 0; i < n; i++) {
		snprintf(p->snap.names[i], sizeof(p->snap.names[i]), "%s", names[i]);
		p->snap.values[i] = values[i];
	}
	p->snap.nr_metrics = n;
	p->snap.metrics_ms = ts_ms;
	pthread_mutex_unlock(&p->lock);
}

void prom_publish_daemon(struct prom *p, struct daemon *dm)
{
	struct prom_iface ifs[FM_MAX_IFACES + 1];
	const struct fm_daemon_state *st = &dm->state;
	uint32_t n = st->nr_ifaces;

	if (!p)
		return;
	if (n > FM_MAX_IFACES)
		n = FM_MAX_IFACES;
	/* The map reads (a syscall per slot) outside the lock. */
	memset(ifs, 0, sizeof(ifs));
	for (uint32_t slot = 1; slot <= n; slot++) {
		const struct fm_daemon_iface *f = &st->iface[slot];

		snprintf(ifs[slot].name, sizeof(ifs[slot].name), "%s", f->name);
		ifs[slot].state = f->state;
		for (int dir = 0; dir < 2; dir++)
			loader_read_counters_dir(dm->l, slot, dir, &ifs[slot].c[dir]);
		for (int dir = 0; dir < 2; dir++) {
			ifs[slot].exported[dir] = dm->exported[slot][dir];
			ifs[slot].unattributed[dir] = dm->d.unattributed[slot][dir];
		}
	}
	pthread_mutex_lock(&p->lock);
	memcpy(p->snap.iface, ifs, sizeof(ifs));
	p->snap.nr_ifaces = n;
	p->snap.flows = st->flows;
	p->snap.table_limit = st->table_limit;
	p->snap.staged = st->staged;
	p->snap.have_daemon = true;
	pthread_mutex_unlock(&p->lock);
}

/* A label value as the text format wants it: \, " and newline escaped. */
static void put_label(FILE *f, const char *v)
{
	for (; *v; v++) {
		if (*v == '\\' || *v == '"')
			fprintf(f, "\\%c", *v);
		else if (*v == '\n')
			fputs("\\n", f);
		else
			fputc(*v, f);
	}
}

static void put_double(FILE *f, double v)
{
	if (isnan(v))
		fputs("NaN", f);
	else if (isinf(v))
		fputs(v > 0 ? "+Inf" : "-Inf", f);
	else
		fprintf(f, "%.17g", v);
}

static void put_head(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP flowmaster_%s %s\n# TYPE flowmaster_%s %s\n", name, help, name, type);
}

static void put_metrics(FILE *f, const struct prom_snap *s)
{
	for (size_t i = 0; i < s->nr_metrics; i++) {
		const struct prom_def *d = find_def(s->names[i]);
		char name[STORE_METRIC_NAME_MAX], help[160];
		bool dup = false;

		/* A name given twice in one interval: the first wins. */
		for (size_t j = 0; j < i && !dup; j++)
			dup = !strcmp(s->names[j], s->names[i]);
		if (dup)
			continue;
		if (d) {
			snprintf(name, sizeof(name), "%s", d->name);
			snprintf(help, sizeof(help), "%s (metrics table: %s)", d->help, d->table);
		} else {
			/* Only [a-zA-Z0-9_] in a metric name. */
			snprintf(name, sizeof(name), "%s", s->names[i]);
			for (char *c = name; *c; c++)
				if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
				      (*c >= '0' && *c <= '9') || *c == '_'))
					*c = '_';
			snprintf(help, sizeof(help), "The metrics table's %s", s->names[i]);
		}
		put_head(f, name, d && d->counter ? "counter" : "gauge", help);
		fprintf(f, "flowmaster_%s ", name);
		put_double(f, s->values[i] * (d ? d->scale : 1));
		fputc('\n', f);
	}
}

/* One labelled line per attached-at-some-time interface: NAME{interface="x",
 * direction="ingress"[,EXTRA]} VALUE. */
static void put_if_line(FILE *f, const char *name, const char *ifname, const char *dir,
			const char *extra, uint64_t v)
{
	fprintf(f, "flowmaster_%s{interface=\"", name);
	put_label(f, ifname);
	fprintf(f, "\",direction=\"%s\"%s} %" PRIu64 "\n", dir, extra ? extra : "", v);
}

/* Each interface slot i and direction d (egress only once its hook counted). */
#define FOR_IFACE_DIR(s, i, d)                                                                     \
	for (uint32_t i = 1; i <= (s)->nr_ifaces; i++)                                             \
		for (int d = 0; d < 2; d++)                                                        \
			if (!d || (s)->iface[i].c[1].packets)

static void put_kernel(FILE *f, const struct prom_snap *s)
{
	static const char *const dirs[2] = { "ingress", "egress" };
	static const char *const states[] = { "none", "attached", "detached", "gone", "waiting" };
	uint32_t attached = 0;
	char extra[64];

	if (!s->have_daemon)
		return;
	/* Per interface slot and hook; egress lines once the TC hook counted. */
	put_head(f, "kernel_packets_total", "counter", "Frames the kernel hook saw");
	FOR_IFACE_DIR(s, i, d)
	put_if_line(f, "kernel_packets_total", s->iface[i].name, dirs[d], NULL,
		    s->iface[i].c[d].packets);
	put_head(
		f, "kernel_bytes_total", "counter",
		"Bytes of the frames the kernel hook saw (Ethernet header included, FCS excluded)");
	FOR_IFACE_DIR(s, i, d)
	put_if_line(f, "kernel_bytes_total", s->iface[i].name, dirs[d], NULL,
		    s->iface[i].c[d].bytes);
	put_head(f, "kernel_parse_errors_total", "counter",
		 "Malformed or truncated frames by reason (counted, never dropped)");
	FOR_IFACE_DIR(s, i, d)
	for (size_t r = 0; r < sizeof(parse_errors) / sizeof(parse_errors[0]); r++) {
		snprintf(extra, sizeof(extra), ",reason=\"%s\"", parse_errors[r].reason);
		put_if_line(f, "kernel_parse_errors_total", s->iface[i].name, dirs[d], extra,
			    counter_at(&s->iface[i].c[d], parse_errors[r].off));
	}
	put_head(f, "kernel_map_full_total", "counter",
		 "Flow inserts refused because the generation map was full");
	FOR_IFACE_DIR(s, i, d)
	put_if_line(f, "kernel_map_full_total", s->iface[i].name, dirs[d], NULL,
		    s->iface[i].c[d].map_full);
	put_head(f, "kernel_fallback_packets_total", "counter",
		 "Packets that missed the flow map: sent as ring buffer records (path=ringbuf) or "
		 "only counted (path=overflow)");
	FOR_IFACE_DIR(s, i, d)
	{
		put_if_line(f, "kernel_fallback_packets_total", s->iface[i].name, dirs[d],
			    ",path=\"ringbuf\"", s->iface[i].c[d].ringbuf_packets);
		put_if_line(f, "kernel_fallback_packets_total", s->iface[i].name, dirs[d],
			    ",path=\"overflow\"", s->iface[i].c[d].overflow_packets);
	}
	put_head(f, "kernel_fallback_bytes_total", "counter",
		 "Bytes of the packets that missed the flow map, by path");
	FOR_IFACE_DIR(s, i, d)
	{
		put_if_line(f, "kernel_fallback_bytes_total", s->iface[i].name, dirs[d],
			    ",path=\"ringbuf\"", s->iface[i].c[d].ringbuf_bytes);
		put_if_line(f, "kernel_fallback_bytes_total", s->iface[i].name, dirs[d],
			    ",path=\"overflow\"", s->iface[i].c[d].overflow_bytes);
	}
	put_head(f, "kernel_ringbuf_drops_total", "counter",
		 "Ring buffer reservations that failed (the packet went to the overflow counters)");
	FOR_IFACE_DIR(s, i, d)
	put_if_line(f, "kernel_ringbuf_drops_total", s->iface[i].name, dirs[d], NULL,
		    s->iface[i].c[d].ringbuf_drops);
	put_head(f, "exported_packets_total", "counter",
		 "Packets handed to the sinks in flow records; equals kernel_packets_total once "
		 "every flow is exported");
	for (uint32_t i = 1; i <= s->nr_ifaces; i++)
		for (int dir = 0; dir < 2; dir++)
			if (!dir || s->iface[i].exported[dir])
				put_if_line(f, "exported_packets_total", s->iface[i].name,
					    dirs[dir], NULL, s->iface[i].exported[dir]);
	put_head(f, "unattributed_exported_packets_total", "counter",
		 "Of the exported packets, those in overflow records (without their flow)");
	for (uint32_t i = 1; i <= s->nr_ifaces; i++)
		for (int dir = 0; dir < 2; dir++)
			if (!dir || s->iface[i].unattributed[dir])
				put_if_line(f, "unattributed_exported_packets_total",
					    s->iface[i].name, dirs[dir], NULL,
					    s->iface[i].unattributed[dir]);
	put_head(f, "interface_attached", "gauge",
		 "1 while flowmaster's program is attached to the interface, else 0 (state says "
		 "why)");
	for (uint32_t i = 1; i <= s->nr_ifaces; i++) {
		uint32_t st = s->iface[i].state;

		attached += st == FM_IFS_ATTACHED;
		fputs("flowmaster_interface_attached{interface=\"", f);
		put_label(f, s->iface[i].name);
		fprintf(f, "\",state=\"%s\"} %d\n",
			st < sizeof(states) / sizeof(states[0]) ? states[st] : "unknown",
			st == FM_IFS_ATTACHED);
	}
	put_head(f, "interfaces_attached", "gauge",
		 "Interfaces being monitored now; 0 means the daemon sees no traffic at all");
	fprintf(f, "flowmaster_interfaces_attached %" PRIu32 "\n", attached);
	put_head(f, "flow_table_flows", "gauge", "Flows in the flow table at the last cycle");
	fprintf(f, "flowmaster_flow_table_flows %" PRIu64 "\n", s->flows);
}

char *prom_render(struct prom *p, size_t *len)
{
	struct prom_snap *s = malloc(sizeof(*s));
	uint64_t scrapes;
	char *buf = NULL;
	size_t n = 0;
	FILE *f;

	if (!s)
		return NULL;
	pthread_mutex_lock(&p->lock);
	memcpy(s, &p->snap, sizeof(*s));
	scrapes = ++p->scrapes;
	pthread_mutex_unlock(&p->lock);

	f = open_memstream(&buf, &n);
	if (!f) {
		free(s);
		return NULL;
	}
	put_metrics(f, s);
	put_kernel(f, s);
	put_head(f, "scrapes_total", "counter", "Scrapes of /metrics served, this one included");
	fprintf(f, "flowmaster_scrapes_total %" PRIu64 "\n", scrapes);
	put_head(f, "metrics_timestamp_seconds", "gauge",
		 "When the metrics table's rows served here were taken (Unix time; 0: not yet)");
	fprintf(f, "flowmaster_metrics_timestamp_seconds %.3f\n", s->metrics_ms / 1000.0);
	if (fclose(f)) {
		free(buf);
		buf = NULL;
	}
	free(s);
	*len = buf ? n : 0;
	return buf;
}

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned status, const char *text,
			     const char *allow)
{
	struct MHD_Response *r =
		MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_PERSISTENT);
	enum MHD_Result ret;

	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; charset=utf-8");
	if (allow)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, allow);
	ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ret;
}

/* Only GET (and HEAD) of /metrics; answered at the first call, so a
 * request body (not read) ends the connection. */
static enum MHD_Result handle(void *cls, struct MHD_Connection *conn, const char *url,
			      const char *method, const char *version, const char *upload_data,
			      size_t *upload_data_size, void **con_cls)
{
	struct prom *p = cls;
	struct MHD_Response *r;
	enum MHD_Result ret;
	size_t len;
	char *body;

	(void)version;
	(void)upload_data;
	(void)upload_data_size;
	(void)con_cls;
	if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD))
		return reply(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "only GET /metrics\n", "GET, HEAD");
	if (strcmp(url, "/metrics"))
		return reply(conn, MHD_HTTP_NOT_FOUND, "not found: flowmaster serves /metrics\n",
			     NULL);
	body = prom_render(p, &len);
	if (!body)
		return reply(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n", NULL);
	r = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	if (!r) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
				"text/plain; version=0.0.4; charset=utf-8");
	ret = MHD_queue_response(conn, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return ret;
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[512];

	(void)cls;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	pr_debug("metrics-listen: %s%s", msg, strchr(msg, '\n') ? "" : "\n");
}

int prom_start(struct prom **out, const char *addr)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	struct prom *p;
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;
	char shown[INET6_ADDRSTRLEN + 8];
	int err = hostport_parse(addr, PROM_DEFAULT_ADDR, &ss, &sl);

	if (err) {
		pr_err("--metrics-listen %s: not ADDR:PORT\n", addr);
		return err;
	}
	p = prom_new();
	if (!p)
		return -ENOMEM;
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	errno = 0;
	p->mhd = MHD_start_daemon(flags, 0, NULL, NULL, handle, p, MHD_OPTION_SOCK_ADDR, &ss,
				  MHD_OPTION_CONNECTION_LIMIT, (unsigned)PROM_MAX_CONNECTIONS,
				  MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)PROM_TIMEOUT_S,
				  MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)PROM_CONN_MEMORY,
				  MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL, MHD_OPTION_END);
	if (!p->mhd) {
		err = errno ? -errno : -EADDRNOTAVAIL;
		pr_err("--metrics-listen %s: cannot listen: %s\n", addr, strerror(-err));
		pthread_mutex_destroy(&p->lock);
		free(p);
		return err;
	}
	if (ss.ss_family == AF_INET6)
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, shown, sizeof(shown));
	else
		inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, shown, sizeof(shown));
	pr_info("metrics: Prometheus text at http://%s%s%s:%u/metrics\n",
		ss.ss_family == AF_INET6 ? "[" : "", shown, ss.ss_family == AF_INET6 ? "]" : "",
		ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port :
						 ((struct sockaddr_in *)&ss)->sin_port));
	*out = p;
	return 0;
}

void prom_stop(struct prom *p)
{
	if (!p)
		return;
	if (p->mhd)
		MHD_stop_daemon(p->mhd);
	pthread_mutex_destroy(&p->lock);
	free(p);
}
