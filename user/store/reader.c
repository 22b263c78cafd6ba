// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Opening a flowmaster database to read it (top, status, web), with
 * messages that say what is wrong in words an operator can act on.
 *
 * A database in WAL mode is read through its -shm (the index of the -wal),
 * which a reader creates when it is missing. Where nobody can create it
 * (read-only media, a directory we may not write), SQLite refuses the
 * file, although nobody is writing it then: a writer would have made the
 * -shm. Such a file is read as "immutable", SQLite's way of reading a file
 * that does not change: the database file as it is, a snapshot, without
 * what a -wal left by a crash may still hold (said when there is one).
 */
#include <errno.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include "lib/log.h"
#include "store/reader.h"

#define BUSY_TIMEOUT_MS 5000 /* a checkpoint by the daemon can hold us briefly */

/* "file:PATH?immutable=1", with the characters a URI path may not hold
 * as themselves percent-encoded. NULL without memory. */
static char *immutable_uri(const char *path)
{
	static const char tail[] = "?immutable=1";
	char *uri = malloc(strlen("file:") + 3 * strlen(path) + sizeof(tail)), *p;

	if (!uri)
		return NULL;
	p = uri + sprintf(uri, "file:");
	for (const char *c = path; *c; c++) {
		if (*c == '%' || *c == '?' || *c == '#')
			p += sprintf(p, "%%%02X", (unsigned char)*c);
		else
			*p++ = *c;
	}
	strcpy(p, tail);
	return uri;
}

/*
 * Open path read-only (immutable: as a snapshot) and check that it holds
 * a flows table. Returns a SQLite code (SQLITE_DONE: no flows table); *db
 * is set either way, to be closed by the caller.
 */
static int open_probe(const char *path, bool immutable, sqlite3 **db)
{
	sqlite3_stmt *st = NULL;
	char *uri = NULL;
	int rc;

	*db = NULL;
	if (immutable) {
		uri = immutable_uri(path);
		if (!uri)
			return SQLITE_NOMEM;
	}
	/* URI only for the snapshot: a plain path is never parsed as one. */
	rc = sqlite3_open_v2(uri ? uri : path, db,
			     SQLITE_OPEN_READONLY | (uri ? SQLITE_OPEN_URI : 0), NULL);
	free(uri);
	if (rc != SQLITE_OK)
		return rc;
	sqlite3_extended_result_codes(*db, 1);
	sqlite3_busy_timeout(*db, BUSY_TIMEOUT_MS);
	/* Opening is lazy: this first read is where a file is refused. */
	rc = sqlite3_prepare_v2(
		*db, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'flows'", -1, &st,
		NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc;
}

/* Could the refusal rc be only for want of a -shm nobody can create? */
static bool wants_shm(const char *path, int rc)
{
	char shm[4096];
	struct stat sb;

	if ((rc & 0xff) != SQLITE_CANTOPEN && (rc & 0xff) != SQLITE_READONLY)
		return false;
	snprintf(shm, sizeof(shm), "%s-shm", path);
	return stat(shm, &sb) && errno == ENOENT;
}

static const char *why_no_shm(const char *path)
{
	struct statvfs vfs;

	if (!statvfs(path, &vfs) && (vfs.f_flag & ST_RDONLY))
		return "a read-only file system";
	return "its directory is not writable for this user";
}

int store_open_readonly(const char *path, sqlite3 **out)
{
	sqlite3 *db = NULL;
	struct stat sb;
	int rc, err = 0;

	/* SQLite's own message for a missing file is "unable to open", and
	 * for a directory "disk I/O error". */
	if (stat(path, &sb)) {
		err = -errno;
		if (err == -ENOENT)
			pr_err("%s: no such database; give --db PATH, or create it with 'flowmaster run'\n",
			       path);
		else
			pr_err("%s: %s\n", path, strerror(-err));
		return err;
	}
	if (S_ISDIR(sb.st_mode)) {
		pr_err("%s is a directory, not a database; give --db the database file (e.g. %s/flowmaster.db)\n",
		       path, strcmp(path, "/") ? path : "");
		return -EISDIR;
	}
	rc = open_probe(path, false, &db);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE && wants_shm(path, rc)) {
		char wal[4096];
		struct stat wb;

		sqlite3_close(db);
		rc = open_probe(path, true, &db);
		snprintf(wal, sizeof(wal), "%s-wal", path);
		if (rc == SQLITE_ROW && !stat(wal, &wb) && wb.st_size > 0)
			pr_warn("%s: reading a snapshot, the file as it is: its -shm is missing and cannot be made (%s); the %lld bytes of %s (the last transactions of a daemon that did not stop cleanly) are not read\n",
				path, why_no_shm(path), (long long)wb.st_size, wal);
		else if (rc == SQLITE_ROW)
			pr_info("%s: reading a snapshot, the file as it is: its -shm is missing and cannot be made (%s)\n",
				path, why_no_shm(path));
	}
	if (rc == SQLITE_DONE) {
		pr_err("%s: no flows table: not a flowmaster database\n", path);
		err = -EINVAL;
	} else if (rc != SQLITE_ROW) {
		pr_err("%s: %s\n", path, db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
		switch (rc & 0xff) {
		case SQLITE_NOTADB:
			err = -EINVAL;
			break;
		case SQLITE_CANTOPEN:
		case SQLITE_PERM:
		case SQLITE_AUTH:
			err = -EACCES;
			break;
		case SQLITE_NOMEM:
			err = -ENOMEM;
			break;
		default:
			err = -EIO;
		}
	}
	if (err) {
		sqlite3_close(db);
		return err;
	}
	*out = db;
	return 0;
}
