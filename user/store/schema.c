// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The schema (DESIGN.md, "SQLite schema") and its migrations, and the
 * connection's pragmas. Every connection that writes runs schema_setup
 * once: it creates the schema in a new file, migrates an older version in
 * place, refuses a newer one and refuses another application's database.
 *
 * A new database is made by the same steps that migrate an old one: the
 * tables of version 1 as the first release created them, then each
 * migration in turn. So every file, new or migrated, has the same columns
 * in the same order, and the migrations run on every start-up of a test.
 * The views are not part of the steps: they are made from the binary's
 * own tables (protocol names, TCP flags, lib/proto.c) and replaced when
 * the file holds another definition.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "lib/clock.h"
#include "lib/proto.h"
#include "store/internal.h"

/*
 * Version 1's tables and indexes, as release 8979b42 created them. Frozen:
 * a change to the schema is a new step below, never an edit here. The
 * comments inside CREATE TABLE are kept by SQLite and shown by `.schema`.
 */
static const char v1_sql[] =
	"CREATE TABLE interfaces(id INTEGER PRIMARY KEY,"
	" name TEXT, ifindex INTEGER, mac TEXT, xdp_mode TEXT,"
	" attached_ms INTEGER, detached_ms INTEGER);\n"
	"CREATE TABLE devices(id INTEGER PRIMARY KEY,\n"
	" -- a host seen as the source or destination of a flow; interface_id\n"
	" -- is the first interfaces row of that name, so it lasts across runs\n"
	" interface_id INTEGER, mac TEXT,\n"
	" -- as flows.src_ip prints it; '' (not NULL, which UNIQUE would never\n"
	" -- match) for a non-IP frame's device\n"
	" ip TEXT,\n"
	" first_seen_ms INTEGER, last_seen_ms INTEGER,"
	" packets_sent INTEGER, bytes_sent INTEGER,"
	" packets_received INTEGER, bytes_received INTEGER,"
	" UNIQUE(interface_id, mac, ip));\n"
	"CREATE TABLE flows(id INTEGER PRIMARY KEY,"
	" interface_id INTEGER, direction TEXT,"
	" first_seen_ms INTEGER, last_seen_ms INTEGER,"
	" src_mac TEXT, dst_mac TEXT, vlan_id INTEGER, eth_type INTEGER,"
	" src_ip TEXT, dst_ip TEXT, src_port INTEGER, dst_port INTEGER,"
	" protocol INTEGER, icmp_type INTEGER, icmp_code INTEGER,"
	" tcp_flags INTEGER, packets INTEGER, bytes INTEGER,"
	" end_reason TEXT, src_device_id INTEGER, dst_device_id INTEGER);\n"
	"CREATE TABLE metrics(ts_ms INTEGER, name TEXT, value REAL);\n"
	"CREATE INDEX flows_first_seen ON flows(first_seen_ms);\n"
	"CREATE INDEX metrics_ts ON metrics(ts_ms);\n";

/*
 * Version 1 to 2: IP-layer bytes, TOS and the exporter of collected
 * flows; the collector's exporters; one runs row per process that writes
 * the file, and its id on the metrics and interfaces rows it writes; the
 * totals that retention takes out of flows. ADD COLUMN only appends to
 * each row's record when it is next written: no table is copied, however
 * big, and old rows read the new columns as NULL.
 */
static const char v2_sql[] =
	"ALTER TABLE flows ADD COLUMN ip_bytes INTEGER;\n"
	"ALTER TABLE flows ADD COLUMN tos INTEGER;\n"
	"ALTER TABLE flows ADD COLUMN exporter_id INTEGER;\n"
	"ALTER TABLE metrics ADD COLUMN run_id INTEGER;\n"
	"ALTER TABLE interfaces ADD COLUMN run_id INTEGER;\n"
	"CREATE TABLE exporters(id INTEGER PRIMARY KEY,\n"
	" -- a device that sends flow records to `flowmaster collect`\n"
	" address TEXT, port INTEGER, domain_id INTEGER,\n"
	" -- ipfix, netflow9 or netflow5\n"
	" protocol TEXT,\n"
	" first_seen_ms INTEGER, last_seen_ms INTEGER,"
	" datagrams INTEGER, records INTEGER, lost_records INTEGER,"
	" malformed INTEGER, templates INTEGER,"
	" UNIQUE(address, domain_id, protocol));\n"
	"CREATE TABLE runs(id INTEGER PRIMARY KEY,\n"
	" -- one per process that wrote to this file: run, replay or collect\n"
	" command TEXT, pid INTEGER, hostname TEXT, version TEXT,\n"
	" -- stopped_ms is NULL while it runs, or after a crash\n"
	" started_ms INTEGER, stopped_ms INTEGER, args TEXT);\n"
	"CREATE TABLE retired(\n"
	" -- flows deleted by retention, added up, so that totals per interface\n"
	" -- and direction still reconcile: flows + retired = what was seen\n"
	" interface_id INTEGER, direction TEXT, exporter_id INTEGER,"
	" flows INTEGER, packets INTEGER, bytes INTEGER, ip_bytes INTEGER,"
	" first_seen_ms INTEGER, last_seen_ms INTEGER);\n"
	"CREATE INDEX metrics_run ON metrics(run_id, ts_ms);\n";

/* steps[i] takes a database from version i to version i + 1. */
static const char *const steps[] = { v1_sql, v2_sql };

_Static_assert(sizeof(steps) / sizeof(steps[0]) == SCHEMA_VERSION, "one step per schema version");

/* Only on request: a text-address index slows inserts about sevenfold. */
static const char address_index_sql[] =
	"CREATE INDEX IF NOT EXISTS flows_src_ip ON flows(src_ip);\n"
	"CREATE INDEX IF NOT EXISTS flows_dst_ip ON flows(dst_ip);\n";

/* For the snprintf formats below, hence the %%. */
#define ISO_TIME(col) "strftime('%%Y-%%m-%%dT%%H:%%M:%%fZ', " col " / 1000.0, 'unixepoch')"

/* The views, each as SQLite keeps it in sqlite_master ("CREATE VIEW name
 * AS ...", without IF NOT EXISTS), so that what a file holds can be
 * compared with it. */
enum { VIEW_FLOWS, VIEW_TALKERS, VIEW_DEVICES, VIEW_METRICS, VIEW__COUNT };
static const char *const view_names[VIEW__COUNT] = {
	"flows_readable",
	"top_talkers",
	"device_summary",
	"metrics_latest",
};

static int view_sql(int v, char *buf, size_t len)
{
	char flags[1024];
	int n = -1;

	switch (v) {
	case VIEW_FLOWS:
		/* tcp_flags_sql and proto_sql_case share one static buffer
		 * each: copy the first before the second is built. */
		snprintf(flags, sizeof(flags), "%s", tcp_flags_sql("f.tcp_flags"));
		n = snprintf(
			buf, len,
			"CREATE VIEW flows_readable AS SELECT f.id,"
			" i.name AS interface, f.direction,"
			" " ISO_TIME(
				"f.first_seen_ms") " AS first_seen,"
						   " " ISO_TIME(
							   "f.last_seen_ms") " AS last_seen,"
									     " f.src_mac, f.dst_mac, f.vlan_id,"
									     " CASE WHEN f.eth_type IS NULL THEN NULL ELSE printf('0x%%04x', f.eth_type) END AS eth_type,"
									     " f.src_ip, f.src_port, f.dst_ip, f.dst_port,"
									     " %s AS protocol,"
									     " f.icmp_type, f.icmp_code,"
									     " CASE WHEN f.protocol = %d THEN %s END AS tcp_flags,"
									     " f.tcp_flags AS tcp_flags_num, f.tos,"
									     " f.packets, f.bytes, f.ip_bytes, f.end_reason,"
									     " e.address AS exporter"
									     " FROM flows f LEFT JOIN interfaces i ON i.id = f.interface_id"
									     " LEFT JOIN exporters e ON e.id = f.exporter_id",
			proto_sql_case("f.protocol"), FM_IPPROTO_TCP, flags);
		break;
	case VIEW_TALKERS:
		/* As version 1 made it. */
		n = snprintf(
			buf, len,
			"CREATE VIEW top_talkers AS SELECT src_ip,"
			" sum(bytes) AS bytes, sum(packets) AS packets, count(*) AS flows"
			" FROM flows WHERE src_ip IS NOT NULL GROUP BY src_ip ORDER BY bytes DESC");
		break;
	case VIEW_DEVICES:
		n = snprintf(
			buf, len,
			"CREATE VIEW device_summary AS SELECT d.id,"
			" i.name AS interface, d.mac, d.ip,"
			" " ISO_TIME(
				"d.first_seen_ms") " AS first_seen,"
						   " " ISO_TIME(
							   "d.last_seen_ms") " AS last_seen,"
									     " d.packets_sent, d.bytes_sent, d.packets_received, d.bytes_received"
									     " FROM devices d LEFT JOIN interfaces i ON i.id = d.interface_id"
									     " ORDER BY d.bytes_sent + d.bytes_received DESC");
		break;
	case VIEW_METRICS:
		/* The last interval of each run (two daemons on one file,
		 * or one after another); rows of version 1 have no run. */
		n = snprintf(
			buf, len,
			"CREATE VIEW metrics_latest AS SELECT m.run_id, r.command, r.pid,"
			" " ISO_TIME(
				"m.ts_ms") " AS time, m.name, m.value"
					   " FROM metrics m JOIN (SELECT run_id, max(ts_ms) AS ts_ms FROM metrics"
					   " GROUP BY run_id) l ON l.run_id IS m.run_id AND l.ts_ms = m.ts_ms"
					   " LEFT JOIN runs r ON r.id = m.run_id ORDER BY m.run_id, m.name");
		break;
	}
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/*
 * Note a failed statement: s->errmsg says what failed and why, and it is
 * logged, except while a busy database may still be retried (schema_setup
 * says so if it gives up). Returns rc.
 */
static int schema_err(struct store *s, int rc, const char *what)
{
	snprintf(s->errmsg, sizeof(s->errmsg), "%s: %s", what, sqlite3_errmsg(s->db));
	if (sqlite_errno(rc) != -EBUSY)
		conn_err(s, "store: %s: %s\n", s->path, s->errmsg);
	return rc;
}

static int exec_sql(struct store *s, const char *sql, const char *what)
{
	int rc = sqlite3_exec(s->db, sql, NULL, NULL, NULL);

	return rc == SQLITE_OK ? rc : schema_err(s, rc, what);
}

/* One integer from a query of one row (a pragma). Returns a SQLite code. */
static int query_int(struct store *s, const char *sql, const char *what, int *out)
{
	sqlite3_stmt *st = NULL;
	int rc;

	rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*out = sqlite3_column_int(st, 0);
		rc = SQLITE_OK;
	} else {
		schema_err(s, rc, what);
	}
	sqlite3_finalize(st);
	return rc;
}

/*
 * A new file: incremental auto-vacuum, so that retention can give the
 * space of deleted rows back to the file system. It can only be chosen
 * before page 1 is written, which the switch to WAL does; an existing
 * file keeps what it has. WAL so readers never block the writer; NORMAL
 * because in WAL mode it loses at most the last commits on power loss,
 * never consistency. Returns a SQLite code.
 */
static int schema_pragmas(struct store *s)
{
	sqlite3_stmt *st = NULL;
	const unsigned char *mode;
	int rc, pages = -1;

	rc = query_int(s, "PRAGMA page_count", "reading the file", &pages);
	if (rc == SQLITE_OK && pages == 0)
		rc = exec_sql(s, "PRAGMA auto_vacuum = INCREMENTAL", "setting up the new file");
	if (rc != SQLITE_OK)
		return rc;
	rc = sqlite3_prepare_v2(s->db, "PRAGMA journal_mode = WAL", -1, &st, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		schema_err(s, rc, "setting WAL mode");
		goto cleanup;
	}
	mode = sqlite3_column_text(st, 0);
	if (!mode || strcmp((const char *)mode, "wal"))
		pr_warn("store: %s: journal mode is %s, not WAL; readers will block the writer\n",
			s->path, mode ? (const char *)mode : "unknown");
	rc = exec_sql(s,
		      "PRAGMA synchronous = NORMAL;"
		      "PRAGMA journal_size_limit = " STR(JOURNAL_SIZE_LIMIT) ";",
		      "setting pragmas");
	if (rc == SQLITE_OK) {
		char sql[64];

		/* Negative: KiB, the budget's unit, not pages. */
		snprintf(sql, sizeof(sql), "PRAGMA cache_size = -%zu", s->opts.page_cache_kib);
		rc = exec_sql(s, sql, "sizing the page cache");
	}
cleanup:
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? SQLITE_OK : rc;
}

/*
 * A file of schema version 0 must be empty: flowmaster sets the version
 * in the transaction that creates its tables, so anything else in it is
 * another application's, which must not get our tables added (nor be
 * switched to WAL). Returns 0, -EINVAL (s->errmsg says what the file
 * holds) or a SQLite failure as -errno.
 */
static int check_foreign(struct store *s)
{
	sqlite3_stmt *st = NULL;
	char names[160] = "";
	size_t n = 0;
	int rc, count = 0, tables = 0;

	/* One statement, so version and objects are of one snapshot: another
	 * flowmaster may be creating the schema right now. Tables first:
	 * they are what an operator recognises. */
	rc = sqlite3_prepare_v2(s->db,
				"SELECT type, name FROM sqlite_master"
				" WHERE (SELECT user_version FROM pragma_user_version) = 0"
				" AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'"
				" ORDER BY type != 'table', name",
				-1, &st, NULL);
	if (rc == SQLITE_OK) {
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			const char *type = (const char *)sqlite3_column_text(st, 0);
			const char *name = (const char *)sqlite3_column_text(st, 1);
			bool table = type && !strcmp(type, "table");

			/* Its tables, or if it has none, whatever it has. */
			tables += table;
			count++;
			if ((tables && !table) || n >= sizeof(names) - 1)
				continue;
			n += (size_t)snprintf(names + n, sizeof(names) - n, "%s%s",
					      count > 1 ? ", " : "", name ? name : "?");
		}
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return sqlite_errno(schema_err(s, rc, "reading the schema"));
	if (!count)
		return 0;
	if (n >= sizeof(names) - 1)
		snprintf(names + sizeof(names) - 5, 5, "...");
	snprintf(s->errmsg, sizeof(s->errmsg),
		 "holds %s %s: another application's database; give --db a new file",
		 tables > 1 ? "tables" :
		 tables	    ? "table" :
			      "objects",
		 names);
	conn_err(s, "store: %s %s\n", s->path, s->errmsg);
	return -EINVAL;
}

/* Make each view as view_sql has it, unless the file has it so already. */
static int sync_views(struct store *s)
{
	char want[4096];
	sqlite3_stmt *st = NULL;
	int rc = SQLITE_OK;

	rc = sqlite3_prepare_v2(s->db,
				"SELECT sql FROM sqlite_master WHERE type = 'view' AND name = ?1",
				-1, &st, NULL);
	if (rc != SQLITE_OK)
		return schema_err(s, rc, "reading the views");
	for (int v = 0; v < VIEW__COUNT && rc == SQLITE_OK; v++) {
		const unsigned char *have;
		bool same;
		char drop[96];

		if (view_sql(v, want, sizeof(want))) {
			/* A programming error: the buffer is too small. */
			snprintf(s->errmsg, sizeof(s->errmsg), "view %s too long", view_names[v]);
			pr_err("store: %s\n", s->errmsg);
			rc = SQLITE_INTERNAL;
			break;
		}
		sqlite3_bind_text(st, 1, view_names[v], -1, SQLITE_STATIC);
		rc = sqlite3_step(st);
		have = rc == SQLITE_ROW ? sqlite3_column_text(st, 0) : NULL;
		same = have && !strcmp((const char *)have, want);
		sqlite3_reset(st);
		if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
			schema_err(s, rc, "reading the views");
			break;
		}
		rc = SQLITE_OK;
		if (same)
			continue;
		snprintf(drop, sizeof(drop), "DROP VIEW IF EXISTS %s", view_names[v]);
		rc = exec_sql(s, drop, "replacing a view");
		if (rc == SQLITE_OK)
			rc = exec_sql(s, want, "creating a view");
	}
	sqlite3_finalize(st);
	return rc;
}

/* Create or migrate the schema in one transaction. Returns 0 or -errno;
 * s->errmsg says why. */
static int schema_migrate(struct store *s)
{
	char sql[64];
	int rc, version, err;

	/* IMMEDIATE: a second flowmaster starting on the same file waits
	 * instead of racing us through the version check. */
	rc = exec_sql(s, "BEGIN IMMEDIATE", "starting the schema transaction");
	if (rc != SQLITE_OK)
		return sqlite_errno(rc);
	rc = query_int(s, "PRAGMA user_version", "reading the schema version", &version);
	if (rc != SQLITE_OK)
		goto fail;

	if (version > SCHEMA_VERSION) {
		snprintf(s->errmsg, sizeof(s->errmsg),
			 "schema version %d is newer than this flowmaster (%d)", version,
			 SCHEMA_VERSION);
		conn_err(s, "store: %s: %s; use a newer flowmaster or another --db\n", s->path,
			 s->errmsg);
		err = -EPROTO;
		goto refuse;
	}
	if (version == 0) {
		/* Again, under the lock: made by someone else meanwhile? */
		err = check_foreign(s);
		if (err)
			goto refuse;
	}
	for (int v = version; v < SCHEMA_VERSION; v++) {
		pr_debug("store: %s: schema version %d to %d\n", s->path, v, v + 1);
		rc = exec_sql(s, steps[v], v ? "migrating the schema" : "creating the schema");
		if (rc != SQLITE_OK)
			goto fail;
	}
	if (version < SCHEMA_VERSION) {
		snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", SCHEMA_VERSION);
		rc = exec_sql(s, sql, "setting the schema version");
		if (rc != SQLITE_OK)
			goto fail;
		if (version)
			pr_info("store: %s: schema migrated from version %d to %d\n", s->path,
				version, SCHEMA_VERSION);
	}
	rc = sync_views(s);
	if (rc == SQLITE_OK && s->opts.index_addresses)
		rc = exec_sql(s, address_index_sql, "creating address indexes");
	if (rc == SQLITE_OK)
		rc = exec_sql(s, "COMMIT", "committing the schema");
	if (rc != SQLITE_OK)
		goto fail;
	return 0;

fail:
	err = sqlite_errno(rc);
refuse:
	if (!sqlite3_get_autocommit(s->db))
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	return err;
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* Pseudo-random jitter, seeded differently in each process and time. */
static unsigned jitter(unsigned *seed, unsigned max)
{
	*seed ^= *seed << 13;
	*seed ^= *seed >> 17;
	*seed ^= *seed << 5;
	return *seed % (max + 1);
}

int schema_setup(struct store *s)
{
	int64_t start = mono_ms(), waited;
	unsigned pause = 1, tries = 0,
		 seed = ((unsigned)getpid() * 2654435761u ^ (unsigned)start) | 1;
	int err;

	/*
	 * The busy handler (busy_timeout) does not cover every lock taken
	 * here: SQLite returns SQLITE_BUSY at once where waiting could
	 * deadlock, as when two connections switch one new file to WAL or
	 * start its schema at the same moment. So: retry the whole of it,
	 * with a doubling pause and some jitter so two openers fall out of
	 * step, for as long as busy_timeout would have waited.
	 */
	for (;;) {
		tries++;
		/* Before the pragmas, which would change another
		 * application's file (auto_vacuum, WAL). */
		err = check_foreign(s);
		if (!err)
			err = sqlite_errno(schema_pragmas(s));
		if (!err)
			err = schema_migrate(s);
		waited = mono_ms() - start;
		if (err != -EBUSY || waited >= BUSY_TIMEOUT_MS)
			break;
		sleep_ms(pause + jitter(&seed, pause));
		if (pause < 100)
			pause *= 2;
	}
	if (err == -EBUSY)
		conn_err(s, "store: %s: %s (another process held it for %lld ms, %u attempts)\n",
			 s->path, s->errmsg, (long long)waited, tries);
	else if (tries > 1)
		pr_debug(
			"store: %s: schema ready after %u attempts (%lld ms): another process was opening it too\n",
			s->path, tries, (long long)waited);
	return err;
}
