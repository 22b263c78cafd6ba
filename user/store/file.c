// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The database file. A database we create is DB_FILE_MODE whatever the
 * umask. Before each transaction the writer checks that the path still
 * names the file it has open (ensure_db): a database deleted, moved or
 * replaced while in use is reported, let go, and a database at the path is
 * opened (created) in its place, so rows keep going where a reader of that
 * path finds them. While none can be opened the records stay queued, as on
 * a full disk.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "store/internal.h"

static bool is_memory_db(const char *path);

int sqlite_errno(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_OK:
		return 0;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return -EBUSY;
	case SQLITE_NOMEM:
		return -ENOMEM;
	case SQLITE_FULL:
		return -ENOSPC;
	case SQLITE_READONLY:
	case SQLITE_PERM:
	case SQLITE_AUTH:
		return -EACCES;
	case SQLITE_CANTOPEN:
		return -ENOENT;
	case SQLITE_NOTADB:
	case SQLITE_CORRUPT:
		return -EINVAL;
	default:
		return -EIO;
	}
}

int store_prepare(struct store *s, const char *sql, sqlite3_stmt **st)
{
	/* PERSISTENT: these live as long as the connection. */
	int rc = sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, st, NULL);

	if (rc != SQLITE_OK)
		conn_err(s, "store: %s: preparing \"%s\": %s\n", s->path, sql,
			 sqlite3_errmsg(s->db));
	return rc;
}

/* st_dev/st_ino of a file, or 0/0 when it does not exist. */
static void file_ident(const char *path, dev_t *dev, ino_t *ino)
{
	struct stat sb;

	*dev = 0;
	*ino = 0;
	if (!stat(path, &sb)) {
		*dev = sb.st_dev;
		*ino = sb.st_ino;
	}
}

static bool same_file(const char *path, dev_t dev, ino_t ino)
{
	dev_t d;
	ino_t i;

	file_ident(path, &d, &i);
	return ino && d == dev && i == ino;
}

static bool is_memory_db(const char *path)
{
	return !strcmp(path, ":memory:");
}

/*
 * Close the connection (if any). persist_wal: the path may no longer name
 * our file, so SQLite must not delete "<path>-wal" by name (it could be
 * another database's now); we remove the -wal and -shm ourselves, and only
 * while they are still the files our connection used: a WAL left at the
 * path would otherwise be replayed into the next database created there.
 */
void db_disconnect(struct store *s, bool persist_wal)
{
	int on = 1;

	rows_finalize(s);
	if (s->db) {
		if (persist_wal)
			sqlite3_file_control(s->db, "main", SQLITE_FCNTL_PERSIST_WAL, &on);
		if (sqlite3_close(s->db) != SQLITE_OK)
			pr_warn("store: %s: close: %s\n", s->path, sqlite3_errmsg(s->db));
		s->db = NULL;
		if (persist_wal) {
			if (same_file(s->wal_path, s->wal_dev, s->wal_ino))
				unlink(s->wal_path);
			if (same_file(s->shm_path, s->shm_dev, s->shm_ino))
				unlink(s->shm_path);
		}
	}
	/* After SQLite closed its fds (see ident_fd). */
	if (s->ident_fd >= 0)
		close(s->ident_fd);
	s->ident_fd = -1;
}

/*
 * A database file that our failed connect created: remove it while it is
 * still the file we created and still empty (0 bytes: not even the WAL
 * switch wrote to it), so a start on a full disk leaves nothing behind.
 * A file another flowmaster has begun to use meanwhile is not empty.
 */
static void remove_created(struct store *s, dev_t dev, ino_t ino)
{
	struct stat sb;

	if (lstat(s->path, &sb) || sb.st_dev != dev || sb.st_ino != ino || sb.st_size)
		return;
	if (unlink(s->path))
		pr_warn("store: %s: removing the empty file we created: %s\n", s->path,
			strerror(errno));
	else
		pr_debug("store: %s: removed the empty file we created\n", s->path);
}

/*
 * Open (creating it DB_FILE_MODE if missing) the database at s->path, set
 * the pragmas, create or migrate the schema, prepare the statements, add
 * the runs row and note which file it is. Returns 0 or -errno; on failure
 * s->connect_rc and s->errmsg say why and nothing stays open.
 */
int db_connect(struct store *s)
{
	dev_t made_dev = 0;
	ino_t made_ino = 0;
	int rc, err, fd;

	s->connect_rc = SQLITE_OK;
	s->errmsg[0] = '\0';
	/* Created here rather than by SQLite, whose mode is 0644 less the
	 * umask. O_EXCL: an existing file keeps the mode its owner gave it.
	 * Any failure is left for sqlite3_open_v2 to report. */
	if (!is_memory_db(s->path)) {
		fd = open(s->path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
			  DB_FILE_MODE);
		if (fd >= 0) {
			struct stat sb;

			if (fchmod(fd, DB_FILE_MODE))
				pr_warn("store: %s: chmod %o: %s\n", s->path, DB_FILE_MODE,
					strerror(errno));
			if (!fstat(fd, &sb)) {
				made_dev = sb.st_dev;
				made_ino = sb.st_ino;
			}
			close(fd);
		}
	}
	/* NOMUTEX: one thread at a time uses the connection (the caller
	 * until store_start, then the writer). */
	rc = sqlite3_open_v2(s->path, &s->db,
			     SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
			     NULL);
	if (rc != SQLITE_OK) {
		conn_err(s, "store: %s: cannot open: %s\n", s->path,
			 s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
		err = s->db && sqlite3_system_errno(s->db) ? -sqlite3_system_errno(s->db) :
							     sqlite_errno(rc);
		goto fail;
	}
	sqlite3_extended_result_codes(s->db, 1);
	sqlite3_busy_timeout(s->db, BUSY_TIMEOUT_MS);

	err = schema_setup(s);
	if (err) {
		rc = err == -EPROTO || err == -EINVAL ? SQLITE_ERROR : sqlite3_errcode(s->db);
		goto fail;
	}
	rc = rows_prepare(s);
	if (rc == SQLITE_OK)
		rc = record_run(s);
	if (rc != SQLITE_OK) {
		err = sqlite_errno(rc);
		goto fail;
	}
	if (!is_memory_db(s->path)) {
		struct stat sb;

		/* Which file the path named when we opened it; the schema
		 * transaction above has created the -wal and -shm. */
		s->ident_fd = open(s->path, O_RDONLY | O_CLOEXEC);
		if (s->ident_fd < 0 || fstat(s->ident_fd, &sb)) {
			/* Gone already: without its identity we could not
			 * tell when the path stops naming it. */
			err = -errno;
			snprintf(s->errmsg, sizeof(s->errmsg), "opening it again: %s",
				 strerror(errno));
			conn_err(s, "store: %s: %s\n", s->path, s->errmsg);
			rc = SQLITE_CANTOPEN;
			goto fail;
		}
		s->ident_dev = sb.st_dev;
		s->ident_ino = sb.st_ino;
		file_ident(s->wal_path, &s->wal_dev, &s->wal_ino);
		file_ident(s->shm_path, &s->shm_dev, &s->shm_ino);
	}
	return 0;

fail:
	if (!s->errmsg[0])
		snprintf(s->errmsg, sizeof(s->errmsg), "%s",
			 s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
	s->connect_rc = rc != SQLITE_OK ? rc : SQLITE_ERROR;
	db_disconnect(s, false);
	if (made_ino)
		remove_created(s, made_dev, made_ino);
	return err;
}

/*
 * The file we write was moved (or replaced, its old self still linked
 * somewhere): finish it before letting go. The device traffic the cache
 * holds belongs to flows committed to it, so it is written there, with
 * the run's stop time; then every WAL frame is copied into it, since
 * SQLite does not checkpoint a moved file at close and its -wal, left at
 * the old name, is removed. Returns a SQLite code: on failure nothing is
 * let go and the writer tries again after its backoff, at most
 * CLOSE_ATTEMPTS times, after which the device totals are given up.
 */
static int finish_moved(struct store *s)
{
	size_t owed = devcache_dirty_count(s->dc);
	int log = 0, done = 0, rc;

	rc = write_owed_devices(s);
	if (rc != SQLITE_OK && ++s->owed_failures < CLOSE_ATTEMPTS)
		return rc;
	if (rc != SQLITE_OK)
		pr_warn("store: the unwritten totals of %zu devices are lost: %s\n", owed,
			s->errmsg);
	else if (owed)
		pr_debug("store: totals of %zu devices written into the moved file\n", owed);
	s->owed_failures = 0;
	if (sqlite3_wal_checkpoint_v2(s->db, NULL, SQLITE_CHECKPOINT_FULL, &log, &done) !=
		    SQLITE_OK ||
	    log != done)
		pr_warn("store: the old file is incomplete: its last transactions could not be copied from %s (%s)\n",
			s->wal_path, sqlite3_errmsg(s->db));
	return SQLITE_OK;
}

/*
 * Writer, before each transaction: make sure we write to the file that
 * s->path names. A database deleted, moved or replaced while open would
 * otherwise take every later row into a file nobody can read at that path
 * (deleted: gone at exit), while the daemon looks healthy. So: say so,
 * close it (a moved file finished first, see finish_moved), and open
 * (create, with the schema) the database now at the path; the queued
 * records go there. If that fails (e.g. the path now holds a file that is
 * not a database), nothing is connected and this returns the SQLite code:
 * the batch fails, stays queued, and the writer retries with its backoff
 * like on a full disk.
 */
int ensure_db(struct store *s)
{
	struct stat own;
	bool gone;
	int err, rc;

	if (s->db) {
		if (s->ident_fd < 0 || same_file(s->path, s->ident_dev, s->ident_ino))
			return SQLITE_OK;
		gone = !fstat(s->ident_fd, &own) && own.st_nlink == 0;
		if (!gone) {
			rc = finish_moved(s);
			if (rc != SQLITE_OK)
				return rc;
		}
		if (gone)
			pr_warn("store: %s was deleted while in use: the %" PRIu64
				" flow rows written to it since it was opened are lost with it, and the device totals of those not yet written; writing to a new database at %s\n",
				s->path, s->rows_in_file, s->path);
		else
			pr_warn("store: %s was moved or replaced while in use: its %" PRIu64
				" flow rows since it was opened, and their device totals, stay in the old file, wherever it is now; writing to the database now at %s\n",
				s->path, s->rows_in_file, s->path);
		db_disconnect(s, true);
		/* Device ids of the old file mean nothing in the next one.
		 * A moved file has its devices' traffic (finish_moved); a
		 * deleted one took it along with its flows. */
		devcache_clear(s->dc);
	}
	s->reconnecting = true;
	err = db_connect(s);
	s->reconnecting = false;
	if (err)
		return s->connect_rc;
	s->rows_in_file = 0;
	rc = rewrite_interfaces(s);
	if (rc != SQLITE_OK) {
		db_disconnect(s, false);
		return rc;
	}
	pr_warn("store: %s: now writing to this file (schema version %d)\n", s->path,
		SCHEMA_VERSION);
	return SQLITE_OK;
}

double wal_size_mb(const struct store *s)
{
	struct stat sb;

	if (stat(s->wal_path, &sb))
		return 0;
	return sb.st_size / (1024.0 * 1024.0);
}

void checkpoint(struct store *s)
{
	int log_frames = 0, done = 0;
	int rc;

	if (!s->db)
		return; /* a reconnect failed; the next transaction retries it */
	/* PASSIVE never waits for readers; what it cannot copy now (a CLI
	 * reader's snapshot) it copies on a later round. */
	rc = sqlite3_wal_checkpoint_v2(s->db, NULL, SQLITE_CHECKPOINT_PASSIVE, &log_frames, &done);
	if (rc != SQLITE_OK)
		pr_debug("store: %s: checkpoint: %s\n", s->path, sqlite3_errmsg(s->db));
	else if (log_frames != done)
		pr_debug(
			"store: %s: checkpoint: %d of %d WAL frames copied (a reader holds the rest)\n",
			s->path, done, log_frames);
}
