/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Opening a flowmaster database to read it: top, status, web. */
#ifndef FM_STORE_READER_H
#define FM_STORE_READER_H

struct sqlite3;

/*
 * Open a flowmaster database read-only (a running daemon keeps writing in
 * WAL mode meanwhile). On read-only media, where the -shm a WAL reader
 * needs cannot be created, the file is read as it is, a snapshot (SQLite's
 * immutable mode), and a line on stderr says so. Returns 0 and *out, or
 * -ENOENT for a missing file, -EISDIR for a directory, -EINVAL for a file
 * that is not a flowmaster database, another -errno; the message is
 * printed.
 */
int store_open_readonly(const char *path, struct sqlite3 **out);

#endif
