// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * flowmaster top: the biggest sources and flows in a flowmaster database,
 * as aligned tables in human units. The database is opened read-only, so
 * it can be read while `run` writes it (WAL readers never block the writer).
 *
 * A flow here is a flow key (interface, direction, MACs, VLAN, EtherType,
 * addresses, protocol, ports, ICMP type/code): the rows a long flow leaves
 * at each active timeout are added up into one.
 */
#include <errno.h>
#include <inttypes.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include "cli/cli.h"
#include "lib/log.h"
#include "lib/clock.h"
#include "lib/fmt.h"
#include "lib/json.h"
#include "lib/opts.h"
#include "lib/proto.h"
#include "store/reader.h"

#define TOP_LIMIT_DEFAULT 10
#define TOP_LIMIT_MAX 10000 /* a screenful is the point; this bounds memory */
#define SINCE_MAX_S (10 * 365 * 86400ULL)

/* ------------------------------------------------------------------- top */

struct top_cfg {
	const char *db;
	uint64_t limit;
	int by_packets;	       /* --by: 0 bytes, 1 packets */
	uint64_t since_s;      /* 0: all */
	const char *since_arg; /* as given, for the report */
	bool json;	       /* --json: one JSON object, exact numbers */
	bool csv;	       /* --csv: the top flows as CSV */
};

static const char *const top_by[] = { "bytes", "packets", NULL };

static const struct opt top_table[] = {
	{ "db", 0, OPT_STRING, "PATH", "database", .def = FM_DEFAULT_DB,
	  OPT_AT(struct top_cfg, db) },
	{ "limit", 0, OPT_U64, "N", "rows per table, {min} to {max}",
	  .def = OPT_STR(TOP_LIMIT_DEFAULT), OPT_AT(struct top_cfg, limit), .min = 1,
	  .max = TOP_LIMIT_MAX },
	{ "by", 0, OPT_ENUM, NULL, "what ranks talkers and flows", .def = "bytes",
	  OPT_AT(struct top_cfg, by_packets), .names = top_by },
	{ "since", 0, OPT_DURATION, "DURATION",
	  "only flows seen in the last DURATION (30s, 5m, 2h, 1d)", OPT_AT(struct top_cfg, since_s),
	  OPT_TEXT_AT(struct top_cfg, since_arg), .min = 1, .max = SINCE_MAX_S },
	{ "json", 0, OPT_FLAG, NULL,
	  "print one JSON object (totals, talkers, flows) with exact numbers instead of tables",
	  OPT_AT(struct top_cfg, json) },
	{ "csv", 0, OPT_FLAG, NULL, "print the top flows as CSV with a header line, exact numbers",
	  OPT_AT(struct top_cfg, csv) },
	{ 0 },
};

static int top_finish(void *cfg)
{
	const struct top_cfg *c = cfg;

	if (c->json && c->csv) {
		fprintf(stderr, "flowmaster: top: --json and --csv cannot be given together\n");
		return -EINVAL;
	}
	return 0;
}

const struct opts_cmd top_opts = {
	.name = "top",
	.usage = "usage: flowmaster top [--db PATH] [--limit N] [--by bytes|packets]\n"
		 "                      [--since DURATION] [--json | --csv]",
	.about = "Print the top talkers (sources) and top flows in a flowmaster database.\n"
		 "The database is only read, so this works while 'flowmaster run' writes it.\n"
		 "A flow's rows (one per active timeout) are added up into one line.\n",
	.footer = "Exit status: 0 (also when there are no flows), 1 if the database is\n"
		  "missing or not a flowmaster database, 2 for a usage error.\n",
	.opts = top_table,
	.cfg_size = sizeof(struct top_cfg),
	.finish = top_finish,
};

/* Flow records in the window (?1: oldest last_seen_ms) summed by flow key.
 * GROUP BY treats NULLs as equal, so untagged or non-IP keys group too. */
#define KEYED_CTE                                                                                  \
	"WITH k AS (SELECT interface_id, direction, src_mac, dst_mac, eth_type, src_ip, dst_ip,"   \
	" protocol, src_port, dst_port, icmp_type, icmp_code,"                                     \
	" sum(packets) AS packets, sum(bytes) AS bytes,"                                           \
	" min(first_seen_ms) AS first_ms, max(last_seen_ms) AS last_ms"                            \
	" FROM flows WHERE last_seen_ms >= ?1 AND end_reason IS NOT 'overflow'"                    \
	" GROUP BY interface_id, direction, src_mac, dst_mac, vlan_id, eth_type,"                  \
	" src_ip, dst_ip, protocol, src_port, dst_port, icmp_type, icmp_code) "

static const char totals_sql[] =
	"SELECT count(*), coalesce(sum(packets), 0), coalesce(sum(bytes), 0),"
	" min(first_seen_ms), max(last_seen_ms),"
	" coalesce(sum(CASE WHEN end_reason = 'overflow' THEN packets END), 0)"
	" FROM flows WHERE last_seen_ms >= ?1";

/* A source is an IP address, or for non-IP frames (ARP, LLDP...) a MAC, so
 * that the shares of all sources add up to the attributed traffic. */
static const char talkers_sql[] =
	KEYED_CTE "SELECT coalesce(src_ip, src_mac) AS source, sum(packets) AS p, sum(bytes) AS b,"
		  " count(*),"
		  " coalesce(sum(packets) FILTER (WHERE direction = 'ingress'), 0),"
		  " coalesce(sum(bytes) FILTER (WHERE direction = 'ingress'), 0),"
		  " coalesce(sum(packets) FILTER (WHERE direction = 'egress'), 0),"
		  " coalesce(sum(bytes) FILTER (WHERE direction = 'egress'), 0)"
		  " FROM k GROUP BY source ORDER BY %s DESC, source LIMIT ?2";

/* Whether the window has egress rows: then talkers show IN and OUT and
 * flows their direction (a database of ingress only looks as it did). */
static const char egress_sql[] =
	"SELECT EXISTS (SELECT 1 FROM flows WHERE last_seen_ms >= ?1 AND direction = 'egress')";

static const char flows_sql[] =
	KEYED_CTE "SELECT i.name, k.src_ip, k.src_port, k.dst_ip, k.dst_port, k.protocol,"
		  " k.icmp_type, k.icmp_code, k.eth_type, k.src_mac, k.dst_mac,"
		  " k.packets, k.bytes, k.first_ms, k.last_ms, k.direction"
		  " FROM k LEFT JOIN interfaces i ON i.id = k.interface_id"
		  " ORDER BY %s DESC, k.first_ms LIMIT ?2";

static int prepare(sqlite3 *db, const char *fmt, const char *order, int64_t since_ms,
		   uint64_t limit, sqlite3_stmt **st)
{
	char sql[2048];
	int rc;

	snprintf(sql, sizeof(sql), fmt, order);
	rc = sqlite3_prepare_v2(db, sql, -1, st, NULL);
	if (rc != SQLITE_OK) {
		pr_err("reading flows: %s\n", sqlite3_errmsg(db));
		return -EIO;
	}
	sqlite3_bind_int64(*st, 1, since_ms);
	if (sqlite3_bind_parameter_count(*st) >= 2)
		sqlite3_bind_int64(*st, 2, (sqlite3_int64)limit);
	return 0;
}

static const char *text(sqlite3_stmt *st, int col)
{
	const unsigned char *s = sqlite3_column_text(st, col);

	return s ? (const char *)s : "";
}

/* One top-flows row: IP flows by address and port, others by MAC; with
 * dir, a DIR column ("in", "out") after IFACE. */
static int add_flow_row(struct table *t, sqlite3_stmt *st, bool dir)
{
	char src[64], dst[64], proto[32], pk[16], by[16], pps[16], dur[16];
	int64_t first = sqlite3_column_int64(st, 13), last = sqlite3_column_int64(st, 14);
	uint64_t packets = sqlite3_column_int64(st, 11);

	if (sqlite3_column_type(st, 1) != SQLITE_NULL) {
		int p = sqlite3_column_int(st, 5);
		bool ports = proto_has_ports(p);

		fmt_endpoint(src, sizeof(src), text(st, 1), ports ? sqlite3_column_int(st, 2) : -1);
		fmt_endpoint(dst, sizeof(dst), text(st, 3), ports ? sqlite3_column_int(st, 4) : -1);
		fmt_proto(proto, sizeof(proto), p);
		if (sqlite3_column_type(st, 6) != SQLITE_NULL) {
			size_t n = strlen(proto);

			snprintf(proto + n, sizeof(proto) - n, " %d/%d", sqlite3_column_int(st, 6),
				 sqlite3_column_int(st, 7));
		}
	} else {
		int eth = sqlite3_column_int(st, 8);

		snprintf(src, sizeof(src), "%s", text(st, 9));
		snprintf(dst, sizeof(dst), "%s", text(st, 10));
		if (ethertype_name(eth))
			snprintf(proto, sizeof(proto), "%s", ethertype_name(eth));
		else
			snprintf(proto, sizeof(proto), "0x%04x", eth);
	}
	/* Average over the flow's lifetime; a single instant has none. */
	if (last > first)
		fmt_rate(pps, sizeof(pps), packets * 1000.0 / (last - first));
	else
		snprintf(pps, sizeof(pps), "-");
	const char *row[] = {
		text(st, 0),
		!strcmp(text(st, 15), "egress") ? "out" : "in",
		src,
		dst,
		proto,
		fmt_count(pk, sizeof(pk), packets),
		fmt_bytes(by, sizeof(by), sqlite3_column_int64(st, 12)),
		pps,
		fmt_duration(dur, sizeof(dur), last - first),
	};

	if (!dir) /* no DIR column: drop it */
		memmove(&row[1], &row[2], sizeof(row) - 2 * sizeof(row[0]));
	return table_add(t, row);
}

static int print_top_machine(sqlite3 *db, const struct top_cfg *c, int64_t now_ms);

static int print_top(sqlite3 *db, const struct top_cfg *c, int64_t now_ms)
{
	const char *by = c->by_packets ? "packets" : "bytes";
	int64_t since_ms = c->since_s ? now_ms - (int64_t)c->since_s * 1000 : INT64_MIN;
	char a[32], b[32], d[32], window[64] = "";
	sqlite3_stmt *st = NULL;
	struct table *t = NULL;
	uint64_t records, packets, bytes, overflow, total;
	int64_t first_ms, last_ms;
	bool dir = false;
	int rc, err;

	if (c->json || c->csv)
		return print_top_machine(db, c, now_ms);
	if (c->since_s)
		snprintf(window, sizeof(window), " in the last %s", c->since_arg);
	err = prepare(db, totals_sql, "", since_ms, 0, &st);
	if (err)
		return err;
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		pr_err("reading flows: %s\n", sqlite3_errmsg(db));
		sqlite3_finalize(st);
		return -EIO;
	}
	records = sqlite3_column_int64(st, 0);
	packets = sqlite3_column_int64(st, 1);
	bytes = sqlite3_column_int64(st, 2);
	first_ms = sqlite3_column_int64(st, 3);
	last_ms = sqlite3_column_int64(st, 4);
	overflow = sqlite3_column_int64(st, 5);
	sqlite3_finalize(st);
	if (!records) {
		printf("%s: no flows%s\n", c->db, window);
		return 0;
	}
	fmt_utc(a, sizeof(a), first_ms);
	fmt_utc(b, sizeof(b), last_ms);
	printf("%s: %" PRIu64 " flow record%s%s, %s to %s UTC\n", c->db, records,
	       records == 1 ? "" : "s", window, a, b);
	printf("total %s packets, %s", fmt_count(a, sizeof(a), packets),
	       fmt_bytes(b, sizeof(b), bytes));
	if (overflow)
		printf(" (%s packets unattributed: map and ring buffer were full)",
		       fmt_count(d, sizeof(d), overflow));
	printf("\n");
	total = c->by_packets ? packets : bytes;
	err = prepare(db, egress_sql, "", since_ms, 0, &st);
	if (err)
		return err;
	dir = sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0);
	sqlite3_finalize(st);

	/* Talkers: share of the window's total, attributed or not; with
	 * egress rows, what of it was seen arriving (IN) and leaving (OUT). */
	static const char *const th[] = { "SOURCE", "PACKETS", "BYTES", "FLOWS", "SHARE" };
	static const char *const thd[] = { "SOURCE", "PACKETS", "BYTES", "IN",
					   "OUT",    "FLOWS",	"SHARE" };
	t = dir ? table_new(7, thd, 0x7e) : table_new(5, th, 0x1e);
	if (!t)
		return -ENOMEM;
	err = prepare(db, talkers_sql, c->by_packets ? "p" : "b", since_ms, c->limit, &st);
	while (!err && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		uint64_t p = sqlite3_column_int64(st, 1), bb = sqlite3_column_int64(st, 2);
		char pk[16], bs[16], fl[24], share[16], in[16], out[16];
		int col = c->by_packets ? 4 : 5; /* IN; OUT is col + 2 */

		snprintf(fl, sizeof(fl), "%lld", sqlite3_column_int64(st, 3));
		snprintf(share, sizeof(share), "%.1f%%",
			 total ? 100.0 * (c->by_packets ? p : bb) / total : 0.0);
		if (c->by_packets) {
			fmt_count(in, sizeof(in), sqlite3_column_int64(st, col));
			fmt_count(out, sizeof(out), sqlite3_column_int64(st, col + 2));
		} else {
			fmt_bytes(in, sizeof(in), sqlite3_column_int64(st, col));
			fmt_bytes(out, sizeof(out), sqlite3_column_int64(st, col + 2));
		}
		const char *row[] = { text(st, 0), fmt_count(pk, sizeof(pk), p),
				      fmt_bytes(bs, sizeof(bs), bb), fl, share };
		const char *rowd[] = { text(st, 0),
				       fmt_count(pk, sizeof(pk), p),
				       fmt_bytes(bs, sizeof(bs), bb),
				       in,
				       out,
				       fl,
				       share };
		err = table_add(t, dir ? rowd : row);
	}
	if (!err && rc != SQLITE_DONE) {
		pr_err("reading flows: %s\n", sqlite3_errmsg(db));
		err = -EIO;
	}
	sqlite3_finalize(st);
	st = NULL;
	if (err)
		goto out;
	printf("\ntop talkers by %s\n", by);
	table_print(t, stdout, "  ");
	table_free(t);

	static const char *const fh[] = { "IFACE",   "SOURCE", "DESTINATION", "PROTO",
					  "PACKETS", "BYTES",  "AVG PPS",     "DURATION" };
	static const char *const fhd[] = { "IFACE",   "DIR",   "SOURCE",  "DESTINATION", "PROTO",
					   "PACKETS", "BYTES", "AVG PPS", "DURATION" };
	t = dir ? table_new(9, fhd, 0x1e0) : table_new(8, fh, 0xf0);
	if (!t)
		return -ENOMEM;
	err = prepare(db, flows_sql, c->by_packets ? "k.packets" : "k.bytes", since_ms, c->limit,
		      &st);
	while (!err && (rc = sqlite3_step(st)) == SQLITE_ROW)
		err = add_flow_row(t, st, dir);
	if (!err && rc != SQLITE_DONE) {
		pr_err("reading flows: %s\n", sqlite3_errmsg(db));
		err = -EIO;
	}
	sqlite3_finalize(st);
	if (err)
		goto out;
	printf("\ntop flows by %s\n", by);
	table_print(t, stdout, "  ");
out:
	table_free(t);
	return err;
}

/* ---------------------------------------------------- --json and --csv */

/* A column as a JSON value: null, an integer or a string. */
static void json_col(FILE *f, sqlite3_stmt *st, int col)
{
	switch (sqlite3_column_type(st, col)) {
	case SQLITE_NULL:
		fputs("null", f);
		break;
	case SQLITE_INTEGER:
		fprintf(f, "%lld", (long long)sqlite3_column_int64(st, col));
		break;
	case SQLITE_FLOAT:
		json_num(f, sqlite3_column_double(st, col));
		break;
	default:
		json_str(f, (const char *)sqlite3_column_text(st, col));
	}
}

/* The top flows' columns (flows_sql), named as in the flows table. */
static const char *const flow_cols[] = {
	"interface", "src_ip",	  "src_port",  "dst_ip",	"dst_port",
	"protocol",  "icmp_type", "icmp_code", "eth_type",	"src_mac",
	"dst_mac",   "packets",	  "bytes",     "first_seen_ms", "last_seen_ms",
};
#define NR_FLOW_COLS (int)(sizeof(flow_cols) / sizeof(flow_cols[0]))

static int step_err(sqlite3 *db, int rc)
{
	if (rc == SQLITE_DONE)
		return 0;
	pr_err("reading flows: %s\n", sqlite3_errmsg(db));
	return -EIO;
}

/* --csv: the top flows, one line each under a header; exact numbers,
 * times as epoch ms, NULL as an empty field. */
static int print_top_csv(sqlite3 *db, const struct top_cfg *c, int64_t since_ms)
{
	sqlite3_stmt *st = NULL;
	int rc = SQLITE_DONE, err;

	for (int i = 0; i < NR_FLOW_COLS; i++)
		printf("%s%s", i ? "," : "", flow_cols[i]);
	printf(",protocol_name\n");
	err = prepare(db, flows_sql, c->by_packets ? "k.packets" : "k.bytes", since_ms, c->limit,
		      &st);
	while (!err && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		for (int i = 0; i < NR_FLOW_COLS; i++) {
			if (i)
				putchar(',');
			csv_field(stdout, (const char *)sqlite3_column_text(st, i));
		}
		putchar(',');
		if (sqlite3_column_type(st, 5) != SQLITE_NULL)
			csv_field(stdout, proto_name(sqlite3_column_int(st, 5)));
		putchar('\n');
	}
	if (!err)
		err = step_err(db, rc);
	sqlite3_finalize(st);
	return err;
}

/* --json: {"db", "since_s", "by", "totals": {...}, "talkers": [...],
 * "flows": [...]}, every number exact (packets, bytes, epoch ms). */
static int print_top_json(sqlite3 *db, const struct top_cfg *c, int64_t since_ms)
{
	static const char *const tot[] = {
		"records",	 "packets",	 "bytes",
		"first_seen_ms", "last_seen_ms", "unattributed_packets"
	};
	static const char *const talk[] = { "source", "packets", "bytes", "flows" };
	sqlite3_stmt *st = NULL;
	int rc, err, n = 0;
	uint64_t total = 0;

	printf("{\"db\":");
	json_str(stdout, c->db);
	printf(",\"since_s\":");
	if (c->since_s)
		printf("%" PRIu64, c->since_s);
	else
		printf("null");
	printf(",\"by\":\"%s\",\"totals\":{", c->by_packets ? "packets" : "bytes");
	err = prepare(db, totals_sql, "", since_ms, 0, &st);
	if (err)
		return err;
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		sqlite3_finalize(st);
		return step_err(db, rc == SQLITE_DONE ? SQLITE_ERROR : rc);
	}
	for (int i = 0; i < 6; i++) {
		printf("%s\"%s\":", i ? "," : "", tot[i]);
		json_col(stdout, st, i);
	}
	total = (uint64_t)sqlite3_column_int64(st, c->by_packets ? 1 : 2);
	sqlite3_finalize(st);
	printf("},\"talkers\":[");
	err = prepare(db, talkers_sql, c->by_packets ? "p" : "b", since_ms, c->limit, &st);
	while (!err && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		printf("%s{", n++ ? "," : "");
		for (int i = 0; i < 4; i++) {
			printf("%s\"%s\":", i ? "," : "", talk[i]);
			json_col(stdout, st, i);
		}
		printf(",\"share\":");
		json_num(stdout, total ? (double)sqlite3_column_int64(st, c->by_packets ? 1 : 2) /
						 (double)total :
					 0);
		printf("}");
	}
	if (!err)
		err = step_err(db, rc);
	sqlite3_finalize(st);
	st = NULL;
	if (err)
		return err;
	printf("],\"flows\":[");
	n = 0;
	err = prepare(db, flows_sql, c->by_packets ? "k.packets" : "k.bytes", since_ms, c->limit,
		      &st);
	while (!err && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		printf("%s{", n++ ? "," : "");
		for (int i = 0; i < NR_FLOW_COLS; i++) {
			printf("%s\"%s\":", i ? "," : "", flow_cols[i]);
			json_col(stdout, st, i);
		}
		printf(",\"protocol_name\":");
		json_str(stdout, sqlite3_column_type(st, 5) == SQLITE_NULL ?
					 NULL :
					 proto_name(sqlite3_column_int(st, 5)));
		printf("}");
	}
	if (!err)
		err = step_err(db, rc);
	sqlite3_finalize(st);
	if (!err)
		printf("]}\n");
	return err;
}

static int print_top_machine(sqlite3 *db, const struct top_cfg *c, int64_t now_ms)
{
	int64_t since_ms = c->since_s ? now_ms - (int64_t)c->since_s * 1000 : INT64_MIN;

	return c->json ? print_top_json(db, c, since_ms) : print_top_csv(db, c, since_ms);
}

int cmd_top(int argc, char **argv)
{
	struct top_cfg c;
	sqlite3 *db;
	int err;

	err = opts_parse(&top_opts, argc, argv, &c);
	if (err != OPTS_RUN)
		return err;
	if (store_open_readonly(c.db, &db))
		return 1;
	err = print_top(db, &c, now_ms());
	sqlite3_close(db);
	return err ? 1 : 0;
}
