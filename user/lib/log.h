/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Leveled logging to fd 2; libbpf's own messages come through here too.
 *
 * Every line is formatted whole and written with one write(2), so the lines
 * of the daemon's threads never interleave, and always to fd 2, so a log
 * file swapped under it with dup2 (--log-file, SIGHUP) takes the next line.
 * A line reads
 *   2026-12-02T12:01:02.345Z warning: MESSAGE    (UTC, milliseconds)
 * with the level error, warning, info, debug or libbpf (libbpf's messages);
 * when fd 2 is the systemd journal (JOURNAL_STREAM names its device and
 * inode), it reads "<4>MESSAGE" instead: the syslog priority, which the
 * journal parses, and the journal adds the time itself.
 */
#ifndef FM_LOG_H
#define FM_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

enum fm_log_level {
	LOG_LVL_ERR = -1,   /* always shown */
	LOG_LVL_WARN = 0,   /* always shown unless -q */
	LOG_LVL_INFO = 1,   /* default */
	LOG_LVL_DEBUG = 2,  /* -v */
	LOG_LVL_LIBBPF = 3, /* -vv: libbpf's debug output */
};

/* A line is at most PIPE_BUF bytes: one write that size to a pipe is atomic. */
#define LOG_LINE_MAX 4096

extern int fm_log_level; /* highest level printed: LOG_LVL_WARN with -q */
/* Stamp lines with the time (the daemon's log); false for the one-shot
 * commands, whose lines read "error: MESSAGE" and info lines bare. */
extern bool fm_log_stamped;

void fm_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/*
 * The level a command's -q and -v (counted) ask for; both together are a
 * usage error, said for command cmd. Returns 0 or -EINVAL.
 */
int fm_log_set_verbosity(const char *cmd, bool quiet, int verbose);
/* Route libbpf's messages: its warnings become our debug lines. */
void fm_log_setup_libbpf(void);

/*
 * The line(s) fm_log writes for message msg at level, into out (size
 * bytes, at most LOG_LINE_MAX are used): each line of msg gets the prefix
 * (the journal's "<N>" when journal, else now as UTC and the level word;
 * now NULL: the level word alone, none for info),
 * and a line that does not fit is cut and ends in "...". from_libbpf marks
 * libbpf's lines (level word "libbpf"). Returns the length written.
 * Exposed for the tests.
 */
size_t fm_log_format(char *out, size_t size, int level, bool from_libbpf, bool journal,
		     const struct timespec *now, const char *msg);
/* Whether fd 2 is the stream systemd's JOURNAL_STREAM names. */
bool fm_log_to_journal(void);

#define pr_err(fmt, ...) fm_log(LOG_LVL_ERR, fmt, ##__VA_ARGS__)
#define pr_warn(fmt, ...) fm_log(LOG_LVL_WARN, fmt, ##__VA_ARGS__)
#define pr_info(fmt, ...) fm_log(LOG_LVL_INFO, fmt, ##__VA_ARGS__)
#define pr_debug(fmt, ...) fm_log(LOG_LVL_DEBUG, fmt, ##__VA_ARGS__)

#endif
