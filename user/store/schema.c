// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The schema (DESIGN.md, "SQLite schema") and its migrations, and the
 * connection's pragmas. Every connection that writes runs schema_migrate
 * once: it creates the schema in a new file, migrates an older version in
 * place and refuses a newer one.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "store/internal.h"

/*
 * Schema version 1 (DESIGN.md), created in one transaction. The comments
 * inside CREATE TABLE are kept by SQLite and shown by `.schema`.
 */
static const char schema_sql[] =
	"CREATE TABLE IF NOT EXISTS interfaces(id INTEGER PRIMARY KEY,"
	" name TEXT, ifindex INTEGER, mac TEXT, xdp_mode TEXT,"
	" attached_ms INTEGER, detached_ms INTEGER);\n"
	"CREATE TABLE IF NOT EXISTS devices(id INTEGER PRIMARY KEY,\n"
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
	"CREATE TABLE IF NOT EXISTS flows(id INTEGER PRIMARY KEY,"
	" interface_id INTEGER, direction TEXT,"
	" first_seen_ms INTEGER, last_seen_ms INTEGER,"
	" src_mac TEXT, dst_mac TEXT, vlan_id INTEGER, eth_type INTEGER,"
	" src_ip TEXT, dst_ip TEXT, src_port INTEGER, dst_port INTEGER,"
	" protocol INTEGER, icmp_type INTEGER, icmp_code INTEGER,"
	" tcp_flags INTEGER, packets INTEGER, bytes INTEGER,"
	" end_reason TEXT, src_device_id INTEGER, dst_device_id INTEGER);\n"
	"CREATE TABLE IF NOT EXISTS metrics(ts_ms INTEGER, name TEXT, value REAL);\n"
	"CREATE INDEX IF NOT EXISTS flows_first_seen ON flows(first_seen_ms);\n"
	"CREATE INDEX IF NOT EXISTS metrics_ts ON metrics(ts_ms);\n"
	"CREATE VIEW IF NOT EXISTS flows_readable AS SELECT f.id,"
	" i.name AS interface, f.direction,"
	" strftime('%Y-%m-%dT%H:%M:%fZ', f.first_seen_ms / 1000.0, 'unixepoch') AS first_seen,"
	" strftime('%Y-%m-%dT%H:%M:%fZ', f.last_seen_ms / 1000.0, 'unixepoch') AS last_seen,"
	" f.src_mac, f.dst_mac, f.vlan_id,"
	" CASE WHEN f.eth_type IS NULL THEN NULL ELSE printf('0x%04x', f.eth_type) END AS eth_type,"
	" f.src_ip, f.src_port, f.dst_ip, f.dst_port,"
	" CASE f.protocol WHEN 1 THEN 'icmp' WHEN 6 THEN 'tcp' WHEN 17 THEN 'udp'"
	" WHEN 58 THEN 'ipv6-icmp' WHEN 132 THEN 'sctp' WHEN 136 THEN 'udplite'"
	" ELSE CAST(f.protocol AS TEXT) END AS protocol,"
	" f.icmp_type, f.icmp_code, f.tcp_flags, f.packets, f.bytes, f.end_reason"
	" FROM flows f LEFT JOIN interfaces i ON i.id = f.interface_id;\n"
	"CREATE VIEW IF NOT EXISTS top_talkers AS SELECT src_ip,"
	" sum(bytes) AS bytes, sum(packets) AS packets, count(*) AS flows"
	" FROM flows WHERE src_ip IS NOT NULL GROUP BY src_ip ORDER BY bytes DESC;\n"
	"PRAGMA user_version = " STR(SCHEMA_VERSION) ";\n";

/* Added to version 1 without a version change: created by every open, so
 * a version 1 database written by an older flowmaster gains them too. */
static const char additive_sql[] =
	"CREATE VIEW IF NOT EXISTS device_summary AS SELECT d.id,"
	" i.name AS interface, d.mac, d.ip,"
	" strftime('%Y-%m-%dT%H:%M:%fZ', d.first_seen_ms / 1000.0, 'unixepoch') AS first_seen,"
	" strftime('%Y-%m-%dT%H:%M:%fZ', d.last_seen_ms / 1000.0, 'unixepoch') AS last_seen,"
	" d.packets_sent, d.bytes_sent, d.packets_received, d.bytes_received"
	" FROM devices d LEFT JOIN interfaces i ON i.id = d.interface_id"
	" ORDER BY d.bytes_sent + d.bytes_received DESC;\n"
	"CREATE VIEW IF NOT EXISTS metrics_latest AS SELECT"
	" strftime('%Y-%m-%dT%H:%M:%fZ', ts_ms / 1000.0, 'unixepoch') AS time, name, value"
	" FROM metrics WHERE ts_ms = (SELECT max(ts_ms) FROM metrics) ORDER BY name;\n";

/* Only on request: a text-address index slows inserts about sevenfold. */
static const char address_index_sql[] =
	"CREATE INDEX IF NOT EXISTS flows_src_ip ON flows(src_ip);\n"
	"CREATE INDEX IF NOT EXISTS flows_dst_ip ON flows(dst_ip);\n";

int store_exec(struct store *s, const char *sql, const char *what)
{
	int rc = sqlite3_exec(s->db, sql, NULL, NULL, NULL);

	if (rc != SQLITE_OK)
		conn_err(s, "store: %s: %s: %s\n", s->path, what, sqlite3_errmsg(s->db));
	return rc;
}

/* WAL so readers never block the writer; NORMAL because in WAL mode it
 * loses at most the last commits on power loss, never consistency. */
int schema_pragmas(struct store *s)
{
	sqlite3_stmt *st = NULL;
	const unsigned char *mode;
	int rc;

	rc = sqlite3_prepare_v2(s->db, "PRAGMA journal_mode = WAL", -1, &st, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		conn_err(s, "store: %s: %s\n", s->path, sqlite3_errmsg(s->db));
		goto cleanup;
	}
	mode = sqlite3_column_text(st, 0);
	if (!mode || strcmp((const char *)mode, "wal"))
		pr_warn("store: %s: journal mode is %s, not WAL; readers will block the writer\n",
			s->path, mode ? (const char *)mode : "unknown");
	rc = store_exec(s, "PRAGMA synchronous = NORMAL;"
			 "PRAGMA journal_size_limit = " STR(JOURNAL_SIZE_LIMIT) ";",
		      "setting pragmas");
	if (rc == SQLITE_OK) {
		char sql[64];

		/* Negative: KiB, the budget's unit, not pages. */
		snprintf(sql, sizeof(sql), "PRAGMA cache_size = -%zu", s->opts.page_cache_kib);
		rc = store_exec(s, sql, "sizing the page cache");
	}
cleanup:
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? SQLITE_OK : rc;
}

/* Create or migrate the schema in one transaction. Returns 0 or -errno. */
int schema_migrate(struct store *s)
{
	sqlite3_stmt *st = NULL;
	int rc, version;

	/* IMMEDIATE: a second flowmaster starting on the same file waits
	 * instead of racing us through the version check. */
	rc = store_exec(s, "BEGIN IMMEDIATE", "starting the schema transaction");
	if (rc != SQLITE_OK)
		return sqlite_errno(rc);
	rc = sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &st, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		conn_err(s, "store: %s: reading the schema version: %s\n", s->path,
		       sqlite3_errmsg(s->db));
		goto fail;
	}
	version = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	st = NULL;

	if (version > SCHEMA_VERSION) {
		conn_err(s, "store: %s: schema version %d is newer than this flowmaster (%d); use a newer flowmaster or another --db\n",
		       s->path, version, SCHEMA_VERSION);
		snprintf(s->errmsg, sizeof(s->errmsg),
			 "schema version %d is newer than this flowmaster (%d)", version,
			 SCHEMA_VERSION);
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
		return -EPROTO;
	}
	if (version < SCHEMA_VERSION) {
		pr_debug("store: %s: creating schema version %d\n", s->path, SCHEMA_VERSION);
		rc = store_exec(s, schema_sql, "creating the schema");
		if (rc != SQLITE_OK)
			goto fail;
	}
	rc = store_exec(s, additive_sql, "adding views");
	if (rc != SQLITE_OK)
		goto fail;
	if (s->opts.index_addresses) {
		rc = store_exec(s, address_index_sql, "creating address indexes");
		if (rc != SQLITE_OK)
			goto fail;
	}
	rc = store_exec(s, "COMMIT", "committing the schema");
	if (rc != SQLITE_OK)
		goto fail;
	return 0;

fail:
	sqlite3_finalize(st);
	if (!sqlite3_get_autocommit(s->db))
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	return sqlite_errno(rc);
}
