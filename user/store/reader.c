// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <sqlite3.h>
#include <string.h>
#include <sys/stat.h>
#include "lib/log.h"
#include "store/reader.h"

#define BUSY_TIMEOUT_MS 5000	/* a checkpoint by the daemon can hold us briefly */

int store_open_readonly(const char *path, sqlite3 **out)
{
	sqlite3_stmt *st = NULL;
	sqlite3 *db = NULL;
	struct stat sb;
	int rc, err = 0;

	/* SQLite's own message for a missing file is "unable to open". */
	if (stat(path, &sb)) {
		err = -errno;
		if (err == -ENOENT)
			pr_err("%s: no such database; give --db PATH, or create it with 'flowmaster run'\n",
			       path);
		else
			pr_err("%s: %s\n", path, strerror(-err));
		return err;
	}
	rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL);
	if (rc != SQLITE_OK) {
		pr_err("%s: %s\n", path, db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
		err = rc == SQLITE_CANTOPEN ? -EACCES : -EIO;
		goto fail;
	}
	sqlite3_busy_timeout(db, BUSY_TIMEOUT_MS);
	rc = sqlite3_prepare_v2(db, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'flows'",
				-1, &st, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		pr_err("%s: no flows table: not a flowmaster database\n", path);
		err = -EINVAL;
	} else if (rc != SQLITE_ROW) {
		pr_err("%s: %s\n", path, sqlite3_errmsg(db));
		err = (rc & 0xff) == SQLITE_NOTADB ? -EINVAL : -EIO;
	}
	sqlite3_finalize(st);
	if (err)
		goto fail;
	*out = db;
	return 0;
fail:
	sqlite3_close(db);
	return err;
}
