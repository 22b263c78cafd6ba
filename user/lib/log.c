// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <bpf/libbpf.h>
#include "lib/log.h"

#define CUT_MARK "..."
#define LIBBPF_TAG "libbpf: " /* libbpf starts most of its messages with it */

int fm_log_level = LOG_LVL_INFO;
bool fm_log_stamped;

/* By level + 1 (LOG_LVL_ERR first); syslog priorities as in <syslog.h>. */
static const struct {
	const char *word;
	int priority;
} levels[] = {
	{ "error", 3 },	  /* LOG_ERR */
	{ "warning", 4 }, /* LOG_WARNING */
	{ "info", 6 },	  /* LOG_INFO */
	{ "debug", 7 },	  /* LOG_DEBUG */
	{ "libbpf", 7 },  /* libbpf's debug output is debug output */
};

static int level_index(int level)
{
	if (level < LOG_LVL_ERR)
		level = LOG_LVL_ERR;
	if (level > LOG_LVL_LIBBPF)
		level = LOG_LVL_LIBBPF;
	return level + 1;
}

/* The prefix of every line of one message, into p (64 bytes). */
static size_t line_prefix(char *p, size_t size, int level, bool from_libbpf, bool journal,
			  const struct timespec *now)
{
	int i = level_index(from_libbpf ? LOG_LVL_LIBBPF : level), n;
	struct tm tm;

	if (journal) {
		/* The journal stamps the time itself and reads the level
		 * from "<N>"; "libbpf: " still says whose line it is. */
		n = snprintf(p, size, "<%d>%s", levels[i].priority, from_libbpf ? LIBBPF_TAG : "");
	} else if (!now) {
		/* A command's own output on a terminal: the level is news
		 * only when it is not plain information. */
		n = level == LOG_LVL_INFO && !from_libbpf ?
			    0 :
			    snprintf(p, size, "%s: ", levels[i].word);
	} else {
		gmtime_r(&now->tv_sec, &tm);
		n = snprintf(p, size,
			     "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s: ", tm.tm_year + 1900,
			     tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
			     now->tv_nsec / 1000000, levels[i].word);
	}
	return n < 0 ? 0 : (size_t)n < size ? (size_t)n : size - 1;
}

size_t fm_log_format(char *out, size_t size, int level, bool from_libbpf, bool journal,
		     const struct timespec *now, const char *msg)
{
	char pre[64];
	size_t npre = line_prefix(pre, sizeof(pre), level, from_libbpf, journal, now), len = 0;
	const char *nl;

	if (size > LOG_LINE_MAX)
		size = LOG_LINE_MAX;
	/* Each line of msg becomes a line of its own, with the prefix, so
	 * that the journal and grep see the level of every line. */
	do {
		size_t n;

		nl = strchr(msg, '\n');
		n = nl ? (size_t)(nl - msg) : strlen(msg);
		if (from_libbpf && !strncmp(msg, LIBBPF_TAG, strlen(LIBBPF_TAG))) {
			msg += strlen(LIBBPF_TAG); /* the prefix says it already */
			n -= strlen(LIBBPF_TAG);
		}
		if (len + npre + n + 1 > size) {
			/* Cut the line, and say so; drop what follows. */
			if (len + npre + strlen(CUT_MARK) + 1 > size)
				break;
			n = size - len - npre - strlen(CUT_MARK) - 1;
			memcpy(out + len, pre, npre);
			memcpy(out + len + npre, msg, n);
			memcpy(out + len + npre + n, CUT_MARK "\n", strlen(CUT_MARK) + 1);
			len += npre + n + strlen(CUT_MARK) + 1;
			break;
		}
		memcpy(out + len, pre, npre);
		memcpy(out + len + npre, msg, n);
		len += npre + n;
		out[len++] = '\n';
		msg += n + 1;
	} while (nl && *msg);
	return len;
}

bool fm_log_to_journal(void)
{
	/* systemd sets JOURNAL_STREAM=DEV:INO for the stream it connects to
	 * stderr; fd 2 may since have been pointed elsewhere (--log-file,
	 * a shell redirection of a child), so compare with what fd 2 is now.
	 * An fstat per line only when the variable is set: lines are few. */
	const char *e = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	if (!e || sscanf(e, "%llu:%llu", &dev, &ino) != 2 || fstat(STDERR_FILENO, &st))
		return false;
	return st.st_dev == dev && st.st_ino == ino;
}

/* One write, so a line is never split by another thread's (up to PIPE_BUF
 * into a pipe; a short write into a file only on a full disk). */
static void write_line(const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(STDERR_FILENO, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return; /* nowhere to log to: nothing better to do */
		buf += n;
		len -= (size_t)n;
	}
}

static void emit(int level, bool from_libbpf, const char *msg)
{
	char line[LOG_LINE_MAX];
	struct timespec now;
	int saved = errno; /* callers may log between a failure and reading errno */
	size_t len;

	clock_gettime(CLOCK_REALTIME, &now);
	len = fm_log_format(line, sizeof(line), level, from_libbpf, fm_log_to_journal(),
			    fm_log_stamped ? &now : NULL, msg);
	write_line(line, len);
	errno = saved;
}

void fm_log(int level, const char *fmt, ...)
{
	char msg[LOG_LINE_MAX];
	va_list ap;

	if (level > fm_log_level)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap); /* too long: cut by the format */
	va_end(ap);
	emit(level, false, msg);
}

/*
 * libbpf may print a line in pieces, without a newline, or many lines at a
 * time (a verifier log): keep the start of an unfinished line per thread,
 * so pieces of two threads never mix, and emit each line when complete.
 */
static __thread char pending[LOG_LINE_MAX];
static __thread size_t npending;

/* Emit the complete lines of buf[0..len) (NUL at len); keep the rest. */
static void libbpf_lines(int level, char *buf, size_t len)
{
	char *start = buf, *end = buf + len, *nl;
	size_t rest;

	while ((nl = memchr(start, '\n', (size_t)(end - start)))) {
		*nl = 0;
		emit(level, true, start);
		start = nl + 1;
	}
	rest = (size_t)(end - start);
	if (rest >= sizeof(pending) - 1) {
		emit(level, true, start); /* no end in sight: out it goes, cut */
		rest = 0;
	}
	memmove(pending, start, rest);
	pending[rest] = 0;
	npending = rest;
}

static int libbpf_print(enum libbpf_print_level lvl, const char *fmt, va_list ap)
{
	/* libbpf warns about things we handle (e.g. probing native XDP), so
	 * its warnings are our debug output and its debug output needs -vv. */
	int level = lvl == LIBBPF_DEBUG ? LOG_LVL_LIBBPF : LOG_LVL_DEBUG, n;
	size_t room = sizeof(pending) - npending;
	va_list again;
	char *big;

	if (level > fm_log_level)
		return 0;
	va_copy(again, ap);
	n = vsnprintf(pending + npending, room, fmt, ap);
	if (n < 0) {
		va_end(again);
		return n;
	}
	if ((size_t)n < room) {
		va_end(again);
		libbpf_lines(level, pending, npending + (size_t)n);
		return n;
	}
	/* A big piece (a verifier log is one): format it whole on the heap. */
	big = malloc(npending + (size_t)n + 1);
	if (!big) {
		va_end(again);
		libbpf_lines(level, pending, sizeof(pending) - 1);
		return n;
	}
	memcpy(big, pending, npending);
	vsnprintf(big + npending, (size_t)n + 1, fmt, again);
	va_end(again);
	libbpf_lines(level, big, npending + (size_t)n);
	free(big);
	return n;
}

void fm_log_setup_libbpf(void)
{
	libbpf_set_print(libbpf_print);
}

int fm_log_set_verbosity(const char *cmd, bool quiet, int verbose)
{
	if (quiet && verbose) {
		fprintf(stderr,
			"flowmaster: %s: -q (--quiet) and -v (--verbose) cannot be given together\n",
			cmd);
		return -EINVAL;
	}
	if (quiet)
		fm_log_level = LOG_LVL_WARN;
	else if (verbose)
		fm_log_level = verbose == 1 ? LOG_LVL_DEBUG : LOG_LVL_LIBBPF;
	return 0;
}
