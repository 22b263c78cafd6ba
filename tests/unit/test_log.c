// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Log lines: the format with a timestamp and with journal priorities, long
 * lines cut, libbpf's pieces joined, and two threads logging into one pipe
 * and one file without a line of one inside a line of the other.
 */
#include <fcntl.h>
#include <pthread.h>
#include <regex.h>
#include <stdarg.h>
#include <stdbool.h>
#include <unistd.h>
#include <sys/stat.h>
#include <bpf/libbpf.h>
#include "../testlib.h"
#include "lib/log.h"

TESTLIB_MAIN("log")

/* The daemon's format unless a test says otherwise. */
__attribute__((constructor)) static void stamped(void)
{
	fm_log_stamped = true;
}

#define THREAD_LINES 10000
#define TS_RE "[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z"

/* Where fd 2 pointed before a test took it; restored by stderr_restore. */
static int saved_fd2 = -1;

static void stderr_to(int fd)
{
	fflush(stderr);
	saved_fd2 = dup(STDERR_FILENO);
	dup2(fd, STDERR_FILENO);
}

static void stderr_restore(void)
{
	dup2(saved_fd2, STDERR_FILENO);
	close(saved_fd2);
	saved_fd2 = -1;
}

/* A fresh, unlinked temporary file. */
static int tmp_file(void)
{
	char path[] = "/tmp/fm-test-log-XXXXXX";
	int fd = mkstemp(path);

	if (fd >= 0)
		unlink(path);
	return fd;
}

/* The whole of file fd, NUL-terminated (malloc'd). */
static char *slurp(int fd, size_t *len)
{
	struct stat st;
	char *buf;

	if (fstat(fd, &st))
		return NULL;
	buf = malloc((size_t)st.st_size + 1);
	if (!buf)
		return NULL;
	*len = (size_t)pread(fd, buf, (size_t)st.st_size, 0);
	buf[*len] = 0;
	return buf;
}

static bool matches(const char *re, const char *s)
{
	regex_t r;
	bool ok;

	if (regcomp(&r, re, REG_EXTENDED | REG_NOSUB))
		return false;
	ok = !regexec(&r, s, 0, NULL, 0);
	regfree(&r);
	return ok;
}

TEST(format_with_timestamp)
{
	/* 2026-12-02T12:01:02.345Z */
	const struct timespec t = { .tv_sec = 1796212862, .tv_nsec = 345999999 };
	char out[LOG_LINE_MAX];
	size_t n;

	n = fm_log_format(out, sizeof(out), LOG_LVL_INFO, false, false, &t, "eth0: attached\n");
	out[n] = 0;
	EXPECT_STREQ(out, "2026-12-02T12:01:02.345Z info: eth0: attached\n", "info line");
	n = fm_log_format(out, sizeof(out), LOG_LVL_WARN, false, false, &t, "no newline");
	out[n] = 0;
	EXPECT_STREQ(out, "2026-12-02T12:01:02.345Z warning: no newline\n", "newline added");
	n = fm_log_format(out, sizeof(out), LOG_LVL_ERR, false, false, &t, "bad\n");
	out[n] = 0;
	EXPECT_STREQ(out, "2026-12-02T12:01:02.345Z error: bad\n", "error line");
	n = fm_log_format(out, sizeof(out), LOG_LVL_DEBUG, false, false, &t, "a\nb\n");
	out[n] = 0;
	EXPECT_STREQ(out, "2026-12-02T12:01:02.345Z debug: a\n2026-12-02T12:01:02.345Z debug: b\n",
		     "each line of a message prefixed");
	n = fm_log_format(out, sizeof(out), LOG_LVL_DEBUG, true, false, &t, "libbpf: map 'x'\n");
	out[n] = 0;
	EXPECT_STREQ(out, "2026-12-02T12:01:02.345Z libbpf: map 'x'\n", "libbpf line, one tag");
	n = fm_log_format(out, sizeof(out), -2, false, false, &t, "x");
	out[n] = 0;
	EXPECT_STREQ(out, "2026-12-02T12:01:02.345Z error: x\n", "below error: error");
}

/* A one-shot command (top, status): the level word, none for info. */
TEST(format_without_timestamp)
{
	char out[LOG_LINE_MAX];
	size_t n;

	n = fm_log_format(out, sizeof(out), LOG_LVL_ERR, false, false, NULL, "bad\n");
	out[n] = 0;
	EXPECT_STREQ(out, "error: bad\n", "error");
	n = fm_log_format(out, sizeof(out), LOG_LVL_WARN, false, false, NULL, "hmm");
	out[n] = 0;
	EXPECT_STREQ(out, "warning: hmm\n", "warning");
	n = fm_log_format(out, sizeof(out), LOG_LVL_INFO, false, false, NULL, "a\nb\n");
	out[n] = 0;
	EXPECT_STREQ(out, "a\nb\n", "info: bare lines");
	n = fm_log_format(out, sizeof(out), LOG_LVL_DEBUG, true, false, NULL, "libbpf: x\n");
	out[n] = 0;
	EXPECT_STREQ(out, "libbpf: x\n", "libbpf: tagged once");
}

TEST(format_for_journal)
{
	const struct timespec t = { .tv_sec = 1796212862 };
	char out[LOG_LINE_MAX];
	size_t n;

	n = fm_log_format(out, sizeof(out), LOG_LVL_ERR, false, true, &t, "bad\n");
	out[n] = 0;
	EXPECT_STREQ(out, "<3>bad\n", "error: priority 3");
	n = fm_log_format(out, sizeof(out), LOG_LVL_WARN, false, true, &t, "hmm\n");
	out[n] = 0;
	EXPECT_STREQ(out, "<4>hmm\n", "warning: priority 4");
	n = fm_log_format(out, sizeof(out), LOG_LVL_INFO, false, true, &t, "ok\n");
	out[n] = 0;
	EXPECT_STREQ(out, "<6>ok\n", "info: priority 6");
	n = fm_log_format(out, sizeof(out), LOG_LVL_DEBUG, false, true, &t, "a\nb");
	out[n] = 0;
	EXPECT_STREQ(out, "<7>a\n<7>b\n", "debug: priority 7 on each line");
	n = fm_log_format(out, sizeof(out), LOG_LVL_DEBUG, true, true, &t, "libbpf: x\n");
	out[n] = 0;
	EXPECT_STREQ(out, "<7>libbpf: x\n", "libbpf: priority 7, tagged once");
}

TEST(long_lines_cut)
{
	const struct timespec t = { 0 };
	static char big[3 * LOG_LINE_MAX], out[LOG_LINE_MAX + 64];
	size_t n;

	memset(big, 'x', sizeof(big) - 1);
	memset(out, '#', sizeof(out));
	n = fm_log_format(out, LOG_LINE_MAX, LOG_LVL_INFO, false, false, &t, big);
	EXPECT_EQ(n, LOG_LINE_MAX, "a cut line fills the buffer");
	EXPECT_TRUE(!memcmp(out + n - 4, "...\n", 4), "ends in ... and a newline");
	EXPECT_EQ(out[LOG_LINE_MAX], '#', "nothing written past the buffer");
	EXPECT_TRUE(memchr(out, '\n', n) == out + n - 1, "one line");
	n = fm_log_format(out, 40, LOG_LVL_INFO, false, true, &t, big);
	EXPECT_EQ(n, 40, "small buffer: cut to its size");
	EXPECT_TRUE(!memcmp(out, "<6>xxx", 6) && !memcmp(out + 36, "...\n", 4),
		    "small buffer line");
	n = fm_log_format(out, 8, LOG_LVL_INFO, false, false, &t, "hello");
	EXPECT_EQ(n, 0, "no room for the prefix: nothing");

	/* Through fm_log: a message longer than a line. */
	int fd = tmp_file();
	size_t len;
	char *got;

	ASSERT_TRUE(fd >= 0, "temporary file");
	stderr_to(fd);
	pr_warn("%s\n", big);
	pr_warn("after\n");
	stderr_restore();
	got = slurp(fd, &len);
	close(fd);
	ASSERT_TRUE(got, "read back");
	EXPECT_TRUE(len > LOG_LINE_MAX, "two lines");
	EXPECT_TRUE(!memcmp(got + LOG_LINE_MAX - 4, "...\n", 4), "first line cut at LOG_LINE_MAX");
	EXPECT_TRUE(matches("^" TS_RE " warning: after\n$", got + LOG_LINE_MAX),
		    "next line intact");
	free(got);
}

TEST(fm_log_levels_and_errno)
{
	int fd = tmp_file(), saved = fm_log_level;
	size_t len;
	char *got;

	ASSERT_TRUE(fd >= 0, "temporary file");
	unsetenv("JOURNAL_STREAM");
	stderr_to(fd);
	fm_log_level = LOG_LVL_INFO;
	errno = EBUSY;
	pr_info("one %d\n", 1);
	EXPECT_EQ(errno, EBUSY, "errno kept across a log line");
	pr_debug("hidden\n");
	pr_err("two\n");
	fm_log_level = saved;
	stderr_restore();
	got = slurp(fd, &len);
	close(fd);
	ASSERT_TRUE(got, "read back");
	EXPECT_TRUE(matches("^" TS_RE " info: one 1\n" TS_RE " error: two\n$", got), got);
	free(got);
}

/* JOURNAL_STREAM naming fd 2's file: priorities; naming another: timestamps. */
TEST(journal_detected_by_device_and_inode)
{
	int fd = tmp_file(), other = tmp_file();
	struct stat st, ost;
	char env[64];
	size_t len;
	char *got;

	ASSERT_TRUE(fd >= 0 && other >= 0, "temporary files");
	fstat(fd, &st);
	fstat(other, &ost);
	snprintf(env, sizeof(env), "%llu:%llu", (unsigned long long)st.st_dev,
		 (unsigned long long)st.st_ino);
	setenv("JOURNAL_STREAM", env, 1);
	stderr_to(fd);
	EXPECT_TRUE(fm_log_to_journal(), "fd 2 is the stream named");
	pr_warn("to the journal\n");
	/* --log-file: fd 2 now another file, the variable still set. */
	dup2(other, STDERR_FILENO);
	EXPECT_TRUE(!fm_log_to_journal(), "fd 2 moved: not the journal");
	pr_warn("to a file\n");
	stderr_restore();
	unsetenv("JOURNAL_STREAM");
	got = slurp(fd, &len);
	EXPECT_STREQ(got, "<4>to the journal\n", "journal line");
	free(got);
	got = slurp(other, &len);
	EXPECT_TRUE(got && matches("^" TS_RE " warning: to a file\n$", got), got ? got : "(null)");
	free(got);
	setenv("JOURNAL_STREAM", "garbage", 1);
	EXPECT_TRUE(!fm_log_to_journal(), "unparsable variable: not the journal");
	unsetenv("JOURNAL_STREAM");
	close(fd);
	close(other);
}

static int call_print(libbpf_print_fn_t fn, enum libbpf_print_level lvl, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = fn(lvl, fmt, ap);
	va_end(ap);
	return n;
}

/* libbpf's messages: pieces joined into one line, several lines split,
 * a huge piece (a verifier log) kept whole, levels filtered. */
TEST(libbpf_pieces)
{
	int fd = tmp_file(), saved = fm_log_level;
	libbpf_print_fn_t fn;
	static char huge[3 * LOG_LINE_MAX];
	size_t len;
	char *got;

	ASSERT_TRUE(fd >= 0, "temporary file");
	fm_log_setup_libbpf();
	fn = libbpf_set_print(NULL);
	libbpf_set_print(fn);
	ASSERT_TRUE(fn, "our print function");
	for (size_t i = 0; i < sizeof(huge) - 1; i++)
		huge[i] = i % 100 == 99 ? '\n' : 'a' + (char)(i % 26);
	stderr_to(fd);
	fm_log_level = LOG_LVL_DEBUG;
	call_print(fn, LIBBPF_WARN, "libbpf: prog '%s': ", "fm_xdp");
	call_print(fn, LIBBPF_WARN, "failed %s", "to load");
	call_print(fn, LIBBPF_WARN, "\nline two\nline three\n");
	call_print(fn, LIBBPF_DEBUG, "hidden below -vv\n");
	call_print(fn, LIBBPF_WARN, "%s", huge);
	call_print(fn, LIBBPF_WARN, "end\n");
	fm_log_level = saved;
	stderr_restore();
	got = slurp(fd, &len);
	close(fd);
	ASSERT_TRUE(got, "read back");
	EXPECT_TRUE(matches("^" TS_RE " libbpf: prog 'fm_xdp': failed to load\n" TS_RE
			    " libbpf: line two\n" TS_RE " libbpf: line three\n",
			    got),
		    got);
	EXPECT_TRUE(!strstr(got, "hidden"), "debug output needs -vv");
	/* The huge piece: 3 * 4096 / 100 = 122 full lines, then "end"
	 * completes its unfinished last one. */
	int lines = 0;
	for (char *p = got; (p = strchr(p, '\n')); p++)
		lines++;
	EXPECT_EQ(lines, 3 + (int)(sizeof(huge) - 1) / 100 + 1, "every line of the huge piece");
	char re[64];
	snprintf(re, sizeof(re), " libbpf: [a-z]{%zu}end\n$", (sizeof(huge) - 1) % 100);
	EXPECT_TRUE(matches(re, got), "last piece completes the line");
	free(got);
}

struct writer_arg {
	int id;
};

static void *writer(void *p)
{
	struct writer_arg *a = p;

	/* warnings and errors: the old code wrote their prefix separately */
	for (int i = 0; i < THREAD_LINES; i++) {
		if (a->id)
			pr_err("thread %d line %05d %s\n", a->id, i,
			       "................................................................");
		else
			pr_warn("thread %d line %05d %s\n", a->id, i,
				"................................................................");
	}
	return NULL;
}

struct reader_arg {
	int fd;
	char *buf;
	size_t len, cap;
};

static void *reader(void *p)
{
	struct reader_arg *r = p;
	ssize_t n;

	for (;;) {
		if (r->cap - r->len < 65536) {
			r->cap = r->cap ? r->cap * 2 : 1 << 20;
			r->buf = realloc(r->buf, r->cap);
			if (!r->buf)
				return NULL;
		}
		n = read(r->fd, r->buf + r->len, r->cap - r->len - 1);
		if (n <= 0)
			break;
		r->len += (size_t)n;
	}
	r->buf[r->len] = 0;
	return NULL;
}

/* Every line of buf intact, each thread's lines all there, in order. */
static void check_lines(char *buf, const char *what)
{
	int next[2] = { 0, 0 }, good[2] = { 0, 0 }, lines = 0, bad = 0;
	char *save, *line;
	regex_t r;

	ASSERT_TRUE(!regcomp(&r, "^" TS_RE " (warning|error): thread [01] line [0-9]{5} [.]{64}$",
			     REG_EXTENDED | REG_NOSUB),
		    "regex");
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *t = strstr(line, "thread ");
		int id, n;

		lines++;
		if (regexec(&r, line, 0, NULL, 0) || !t ||
		    sscanf(t, "thread %d line %d", &id, &n) != 2) {
			if (bad++ < 3)
				TL_FAIL("%s: broken line %d: '%.200s'", what, lines, line);
			continue;
		}
		/* A thread's lines come in its order, none lost. */
		if (n == next[id])
			good[id]++;
		next[id] = n + 1;
	}
	regfree(&r);
	EXPECT_EQ(lines, 2 * THREAD_LINES, what);
	EXPECT_EQ(bad, 0, "broken lines");
	EXPECT_EQ(good[0], THREAD_LINES, "thread 0's lines, in order");
	EXPECT_EQ(good[1], THREAD_LINES, "thread 1's lines, in order");
}

static void run_writers(void)
{
	struct writer_arg a[2] = { { 0 }, { 1 } };
	pthread_t t[2];

	for (int i = 0; i < 2; i++)
		pthread_create(&t[i], NULL, writer, &a[i]);
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
}

TEST(two_threads_into_a_pipe)
{
	struct reader_arg r = { 0 };
	int p[2], saved = fm_log_level;
	pthread_t rt;

	ASSERT_TRUE(!pipe(p), "pipe");
	r.fd = p[0];
	pthread_create(&rt, NULL, reader, &r);
	unsetenv("JOURNAL_STREAM");
	fm_log_level = LOG_LVL_INFO;
	stderr_to(p[1]);
	close(p[1]);
	run_writers();
	stderr_restore(); /* the last write end: the reader sees EOF */
	fm_log_level = saved;
	pthread_join(rt, NULL);
	close(p[0]);
	ASSERT_TRUE(r.buf, "read");
	check_lines(r.buf, "20,000 lines through the pipe");
	free(r.buf);
}

TEST(two_threads_into_a_file)
{
	int fd = tmp_file(), saved = fm_log_level;
	size_t len;
	char *got;

	ASSERT_TRUE(fd >= 0, "temporary file");
	unsetenv("JOURNAL_STREAM");
	fm_log_level = LOG_LVL_INFO;
	stderr_to(fd);
	run_writers();
	stderr_restore();
	fm_log_level = saved;
	got = slurp(fd, &len);
	close(fd);
	ASSERT_TRUE(got, "read back");
	check_lines(got, "20,000 lines in the file");
	free(got);
}
