// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Option tables (lib/opts.h): defaults, the command line, values set by key
 * as a config file will, the help and the machine-readable list, checks of
 * broken tables; and every subcommand's real table.
 */
#include <stdbool.h>
#include <unistd.h>
#include "../testlib.h"
#include "cli/cli.h"
#include "cli/run.h"
#include "lib/log.h"
#include "lib/opts.h"

TESTLIB_MAIN("opts")

struct t_cfg {
	const char *name;
	uint64_t n, secs;
	int mode, verbose, nr_items;
	bool flag;
	const char *items[3];
	const char *secs_text;
	uint64_t machine; /* what def_fn reads, set by init */
};

static const char *const modes[] = { "one", "two", "three", NULL };

static void t_init(void *cfg)
{
	((struct t_cfg *)cfg)->machine = 4242;
}

static uint64_t t_def_machine(const void *cfg)
{
	return ((const struct t_cfg *)cfg)->machine;
}

static int t_odd(const char *label, const char *value, const void *parsed)
{
	if (*(const uint64_t *)parsed % 2)
		return 0;
	fprintf(stderr, "flowmaster: %s: '%s' is even\n", label, value);
	return -EINVAL;
}

static const struct opt t_table[] = {
	{ "name", 'n', OPT_STRING, "NAME", "a name", .def = "anon", OPT_AT(struct t_cfg, name) },
	{ "number", 0, OPT_U64, "N", "a number from {min} to {max}", .def = "5",
	  OPT_AT(struct t_cfg, n), .min = 1, .max = 99 },
	{ "odd", 0, OPT_U64, "N", "an odd number", .def_fn = t_def_machine, .def_from = "memory",
	  OPT_AT(struct t_cfg, machine), .min = 1, .max = 100000, .check = t_odd },
	{ "wait", 0, OPT_DURATION, "S", "how long", .def = "1m", OPT_AT(struct t_cfg, secs),
	  OPT_TEXT_AT(struct t_cfg, secs_text), .min = 2, .max = 3600 },
	{ "mode", 0, OPT_ENUM, NULL, "the mode", .def = "two", OPT_AT(struct t_cfg, mode),
	  .names = modes },
	{ "item", 'I', OPT_LIST, "ITEM", "an item (up to {max})", OPT_AT(struct t_cfg, items),
	  OPT_COUNT_AT(struct t_cfg, nr_items), .max = 3 },
	{ "flag", 'f', OPT_FLAG, NULL,
	  "a flag with a long help text that goes on and on, so that it has to be wrapped "
	  "over more than one line of the help",
	  OPT_AT(struct t_cfg, flag) },
	{ "verbose", 'v', OPT_COUNT, NULL, "more", OPT_AT(struct t_cfg, verbose), .max = 2 },
	{ 0 },
};

static const struct opts_cmd t_cmd = {
	.name = "test",
	.usage = "usage: flowmaster test [OPTIONS]",
	.about = "A test.\n",
	.footer = "The end.\n",
	.opts = t_table,
	.cfg_size = sizeof(struct t_cfg),
	.init = t_init,
};

/* fd 2 (or 1) into a temporary file while capturing; what was written. */
static int cap_fd = -1, cap_saved = -1, cap_which;

static void capture(int which)
{
	char path[] = "/tmp/fm-test-opts-XXXXXX";

	fflush(which == 1 ? stdout : stderr);
	cap_which = which;
	cap_fd = mkstemp(path);
	unlink(path);
	cap_saved = dup(which);
	dup2(cap_fd, which);
}

static const char *captured(void)
{
	static char buf[8192];
	ssize_t n;

	fflush(cap_which == 1 ? stdout : stderr);
	dup2(cap_saved, cap_which);
	close(cap_saved);
	n = pread(cap_fd, buf, sizeof(buf) - 1, 0);
	buf[n > 0 ? n : 0] = 0;
	close(cap_fd);
	return buf;
}

/* opts_parse on a NULL-terminated list of arguments after argv[0]. */
#define PARSE(cmd, cfg, ...)                                                                       \
	({                                                                                         \
		char *_argv[] = { (char *)(cmd)->name, __VA_ARGS__, NULL };                        \
		opts_parse(cmd, sizeof(_argv) / sizeof(_argv[0]) - 1, _argv, cfg);                 \
	})

/* stderr of opts_parse, and its result in *r. */
#define PARSE_ERR(r, cmd, cfg, ...)                                                                \
	({                                                                                         \
		capture(2);                                                                        \
		*(r) = PARSE(cmd, cfg, __VA_ARGS__);                                               \
		captured();                                                                        \
	})

TEST(defaults)
{
	struct t_cfg c;

	memset(&c, 0x5a, sizeof(c));
	opts_defaults(&t_cmd, &c);
	EXPECT_STREQ(c.name, "anon", "string default");
	EXPECT_EQ(c.n, 5, "number default");
	EXPECT_EQ(c.machine, 4242, "computed default, after init");
	EXPECT_EQ(c.secs, 60, "duration default, with its unit");
	EXPECT_STREQ(c.secs_text, "1m", "duration default as given");
	EXPECT_EQ(c.mode, 1, "enum default: index of 'two'");
	EXPECT_EQ(c.nr_items, 0, "list empty");
	EXPECT_TRUE(!c.flag && !c.verbose, "flag and count zero");
}

TEST(command_line)
{
	struct t_cfg c;
	uint64_t given;
	char *argv[] = { "test", "-n", "x",	 "--number=7", "--wait", "2m",	  "--mode", "three",
			 "-I",	 "a",  "--item", "b",	       "-fvv",	 "--odd", "3",	    NULL };

	opts_defaults(&t_cmd, &c);
	ASSERT_EQ(opts_argv(&t_cmd, 15, argv, &c, &given), OPTS_RUN, "parsed");
	EXPECT_STREQ(c.name, "x", "-n");
	EXPECT_EQ(c.n, 7, "--number=7");
	EXPECT_EQ(c.secs, 120, "--wait 2m");
	EXPECT_STREQ(c.secs_text, "2m", "--wait as given");
	EXPECT_EQ(c.mode, 2, "--mode three");
	EXPECT_EQ(c.nr_items, 2, "two items");
	EXPECT_STREQ(c.items[0], "a", "first item");
	EXPECT_STREQ(c.items[1], "b", "second item");
	EXPECT_TRUE(c.flag, "-f");
	EXPECT_EQ(c.verbose, 2, "-vv");
	EXPECT_EQ(c.machine, 3, "--odd");
	EXPECT_EQ(given, 0xff, "every option given");

	ASSERT_EQ(PARSE(&t_cmd, &c, "-v", "-v", "-v"), OPTS_RUN, "-v -v -v");
	EXPECT_EQ(c.verbose, 2, "counts stop at max");
	ASSERT_EQ(PARSE(&t_cmd, &c, "-n", "y"), OPTS_RUN, "parsed again");
	EXPECT_STREQ(c.name, "y", "a second parse starts afresh");
	EXPECT_EQ(c.n, 5, "...from the defaults");
	EXPECT_EQ(c.verbose, 0, "...and a count from 0");
}

TEST(usage_errors_name_the_option)
{
	struct t_cfg c;
	const char *e;
	int r;

	e = PARSE_ERR(&r, &t_cmd, &c, "--number", "100");
	EXPECT_EQ(r, 2, "out of range: exit 2");
	EXPECT_STREQ(e, "flowmaster: --number: '100' is not a whole number from 1 to 99\n",
		     "range");
	e = PARSE_ERR(&r, &t_cmd, &c, "--wait", "1");
	EXPECT_EQ(r, 2, "below the minimum");
	EXPECT_STREQ(e, "flowmaster: --wait: must be at least 2 s\n", "duration minimum");
	e = PARSE_ERR(&r, &t_cmd, &c, "--wait", "2h");
	EXPECT_STREQ(e, "flowmaster: --wait: '2h' is more than 1h (3600 s)\n", "duration maximum");
	e = PARSE_ERR(&r, &t_cmd, &c, "--mode", "four");
	EXPECT_STREQ(e, "flowmaster: --mode: 'four' is not one, two or three\n", "enum");
	e = PARSE_ERR(&r, &t_cmd, &c, "-I", "a", "-I", "b", "-I", "c", "-I", "d");
	EXPECT_EQ(r, 2, "too many items");
	EXPECT_STREQ(e, "flowmaster: --item: at most 3 can be given\n", "list maximum");
	e = PARSE_ERR(&r, &t_cmd, &c, "--odd", "4");
	EXPECT_STREQ(e, "flowmaster: --odd: '4' is even\n", "check callback");
	e = PARSE_ERR(&r, &t_cmd, &c, "extra");
	EXPECT_EQ(r, 2, "stray argument");
	EXPECT_STREQ(
		e, "flowmaster: test: unexpected argument 'extra'; try 'flowmaster test --help'\n",
		"stray argument message");
	e = PARSE_ERR(&r, &t_cmd, &c, "--bogus");
	EXPECT_EQ(r, 2, "unknown option");
	EXPECT_TRUE(strstr(e, "unrecognized option '--bogus'") &&
			    strstr(e, "Try 'flowmaster test --help'."),
		    e);
	e = PARSE_ERR(&r, &t_cmd, &c, "--name");
	EXPECT_EQ(r, 2, "missing argument");
	EXPECT_TRUE(strstr(e, "requires an argument"), e);
}

/* What a config file will do: keys are long names, bad values name the
 * place, and the command line wins. */
TEST(set_by_key)
{
	struct t_cfg c;
	uint64_t given;
	char *argv[] = { "test", "--number", "9", NULL };
	const char *e;
	int r;

	opts_defaults(&t_cmd, &c);
	ASSERT_EQ(opts_argv(&t_cmd, 3, argv, &c, &given), OPTS_RUN, "command line");
	EXPECT_EQ(opts_find(&t_cmd, "number"), 1, "index of number");
	EXPECT_EQ(opts_find(&t_cmd, "nope"), -ENOENT, "unknown key");
	EXPECT_EQ(given, 1ULL << opts_find(&t_cmd, "number"), "only --number given");
	/* The file says number = 3 and mode = one: number was given. */
	if (!(given & 1ULL << opts_find(&t_cmd, "number")))
		opts_set(&t_cmd, &c, "number", "3", "f.conf:1");
	if (!(given & 1ULL << opts_find(&t_cmd, "mode")))
		EXPECT_EQ(opts_set(&t_cmd, &c, "mode", "one", "f.conf:2"), 0, "mode from the file");
	EXPECT_EQ(c.n, 9, "the command line wins");
	EXPECT_EQ(c.mode, 0, "the file sets the rest");

	EXPECT_EQ(opts_set(&t_cmd, &c, "flag", "yes", "f.conf:3"), 0, "flag yes");
	EXPECT_TRUE(c.flag, "flag set");
	EXPECT_EQ(opts_set(&t_cmd, &c, "flag", "false", "f.conf:4"), 0, "flag false");
	EXPECT_TRUE(!c.flag, "flag cleared");
	EXPECT_EQ(opts_set(&t_cmd, &c, "verbose", "2", "f.conf:5"), 0, "count as a number");
	EXPECT_EQ(c.verbose, 2, "verbose 2");
	EXPECT_EQ(opts_set(&t_cmd, &c, "item", "x", "f.conf:6"), 0, "list item");
	EXPECT_EQ(c.nr_items, 1, "one item");

	capture(2);
	r = opts_set(&t_cmd, &c, "number", "0", "f.conf:7");
	e = captured();
	EXPECT_EQ(r, -EINVAL, "bad value");
	EXPECT_STREQ(e, "flowmaster: f.conf:7: number: '0' is not a whole number from 1 to 99\n",
		     "names file, line and key");
	EXPECT_EQ(c.n, 9, "a refused value changes nothing");
	capture(2);
	r = opts_set(&t_cmd, &c, "odd", "8", "f.conf:8");
	e = captured();
	EXPECT_EQ(r, -EINVAL, "refused by the check");
	EXPECT_EQ(c.machine, 4242, "...and not stored");
	capture(2);
	r = opts_set(&t_cmd, &c, "colour", "red", "f.conf:9");
	e = captured();
	EXPECT_EQ(r, -ENOENT, "unknown key");
	EXPECT_STREQ(e, "flowmaster: f.conf:9: 'colour' is not an option of 'test'\n",
		     "unknown key named");
	capture(2);
	r = opts_set(&t_cmd, &c, "flag", "maybe", "f.conf:10");
	e = captured();
	EXPECT_EQ(r, -EINVAL, "bad flag");
	EXPECT_STREQ(e, "flowmaster: f.conf:10: flag: 'maybe' is not true or false\n",
		     "flag value");
	capture(2);
	r = opts_set(&t_cmd, &c, "name", NULL, "f.conf:11");
	e = captured();
	EXPECT_EQ(r, -EINVAL, "a string needs a value");
}

TEST(help_text)
{
	struct t_cfg c;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	ASSERT_TRUE(f, "memstream");
	opts_defaults(&t_cmd, &c);
	opts_help(&t_cmd, &c, f);
	fclose(f);
	EXPECT_STREQ(
		buf,
		"usage: flowmaster test [OPTIONS]\n"
		"\n"
		"A test.\n"
		"\n"
		"  -n, --name NAME           a name (default anon)\n"
		"      --number N            a number from 1 to 99 (default 5)\n"
		"      --odd N               an odd number (default from memory: 4242)\n"
		"      --wait S              how long (default 1m)\n"
		"      --mode one|two|three  the mode (default two)\n"
		"  -I, --item ITEM           an item (up to 3)\n"
		"  -f, --flag                a flag with a long help text that goes on and on, so\n"
		"                            that it has to be wrapped over more than one line of\n"
		"                            the help\n"
		"  -v, --verbose             more\n"
		"  -h, --help                this help\n"
		"\n"
		"The end.\n",
		"help");
	free(buf);
}

TEST(list_options)
{
	struct t_cfg c;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	ASSERT_TRUE(f, "memstream");
	opts_defaults(&t_cmd, &c);
	opts_list(&t_cmd, &c, f);
	fclose(f);
	EXPECT_STREQ(buf,
		     "--name\t-n\tNAME\tstring\tanon\ta name\n"
		     "--number\t-\tN\tu64\t5\ta number from 1 to 99\n"
		     "--odd\t-\tN\tu64\tfrom memory: 4242\tan odd number\n"
		     "--wait\t-\tS\tduration\t1m\thow long\n"
		     "--mode\t-\tone|two|three\tenum\ttwo\tthe mode\n"
		     "--item\t-I\tITEM\tlist\t-\tan item (up to 3)\n"
		     "--flag\t-f\t-\tflag\t-\ta flag with a long help text that goes on and on, so "
		     "that it has to be wrapped over more than one line of the help\n"
		     "--verbose\t-v\t-\tcount\t-\tmore\n"
		     "--help\t-h\t-\tflag\t-\tthis help\n",
		     "list");
	free(buf);
	capture(1);
	EXPECT_EQ(PARSE(&t_cmd, &c, "--list-options"), 0, "--list-options: exit 0");
	EXPECT_TRUE(!strncmp(captured(), "--name\t", 7), "--list-options prints the list");
	capture(1);
	EXPECT_EQ(PARSE(&t_cmd, &c, "-h"), 0, "-h: exit 0");
	EXPECT_TRUE(!strncmp(captured(), "usage: flowmaster test", 22), "-h prints the help");
}

/* A table with a mistake is refused, saying which option. */
TEST(broken_tables_refused)
{
	struct bad_cfg {
		int small;
		uint64_t big;
		const char *s;
	};
	struct {
		struct opt o[3];
		const char *why;
	} cases[] = {
		{ { { "n", 0, OPT_U64, "N", "h", OPT_AT(struct bad_cfg, small) } },
		  "field of 4 bytes" },
		{ { { "f", 0, OPT_FLAG, NULL, "h", OPT_AT(struct bad_cfg, big) } },
		  "field of 8 bytes" },
		{ { { "a", 0, OPT_STRING, "S", "h", OPT_AT(struct bad_cfg, s) },
		    { "a", 0, OPT_STRING, "S", "h", OPT_AT(struct bad_cfg, s) } },
		  "twice" },
		{ { { "x", 'h', OPT_STRING, "S", "h", OPT_AT(struct bad_cfg, s) } }, "built in" },
		{ { { "help", 0, OPT_STRING, "S", "h", OPT_AT(struct bad_cfg, s) } }, "built in" },
		{ { { "n", 0, OPT_U64, "N", "h", .def = "7", OPT_AT(struct bad_cfg, big), .min = 10,
		      .max = 20 } },
		  "default" },
		{ { { "n", 0, OPT_U64, "N", "h", OPT_AT(struct bad_cfg, big), .min = 2,
		      .max = 1 } },
		  "bounds" },
		{ { { "e", 0, OPT_ENUM, NULL, "h", OPT_AT(struct bad_cfg, small) } }, "names" },
		{ { { "s", 0, OPT_STRING, NULL, "h", OPT_AT(struct bad_cfg, s) } },
		  "argument name" },
		{ { { "s", 0, OPT_STRING, "S", NULL, OPT_AT(struct bad_cfg, s) } }, "no help" },
	};
	char why[256];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct opts_cmd c = { .name = "bad",
				      .opts = cases[i].o,
				      .cfg_size = sizeof(struct bad_cfg) };
		int r;

		why[0] = 0;
		capture(2); /* a default that does not parse says so too */
		r = opts_validate(&c, why, sizeof(why));
		captured();
		EXPECT_EQ(r, -EINVAL, cases[i].why);
		EXPECT_TRUE(strstr(why, cases[i].why), why);
	}
}

static const struct opts_cmd *const commands[] = { &run_opts, &top_opts, &status_opts, &detach_opts,
						   &version_opts };

/* Every real table is sound, its help fits 80 columns, and its usage
 * line names only options it has. */
TEST(every_command_table)
{
	char why[256], cfg[4096];

	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		const struct opts_cmd *c = commands[i];
		char *buf = NULL, *line, *save;
		size_t len = 0;
		FILE *f;

		why[0] = 0;
		EXPECT_EQ(opts_validate(c, why, sizeof(why)), 0, why);
		ASSERT_TRUE(c->cfg_size <= sizeof(cfg), "config fits the test's buffer");
		opts_defaults(c, cfg);
		f = open_memstream(&buf, &len);
		ASSERT_TRUE(f, "memstream");
		opts_help(c, cfg, f);
		fclose(f);
		for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
			EXPECT_TRUE(strlen(line) <= 80, line);
		free(buf);
		for (const char *p = c->usage; (p = strstr(p, "--")); p += 2) {
			char name[64];

			if (sscanf(p + 2, "%63[a-z0-9-]", name) == 1)
				EXPECT_TRUE(opts_find(c, name) >= 0, name);
		}
	}
}

TEST(run_defaults_and_log_level)
{
	struct run_cfg c;
	int saved = fm_log_level, r;
	const char *e;

	ASSERT_EQ(PARSE(&run_opts, &c, "-i", "x"), OPTS_RUN, "-i x");
	EXPECT_EQ(c.idle_s, 15, "idle");
	EXPECT_EQ(c.active_s, 60, "active");
	EXPECT_EQ(c.poll_ms, 1000, "poll");
	EXPECT_EQ(c.metrics_s, 10, "metrics");
	EXPECT_EQ(c.duration_s, 0, "duration: until stopped");
	EXPECT_EQ(c.ringbuf_bytes, 8 << 20, "ring buffer");
	EXPECT_EQ(c.mode, FM_XDP_AUTO, "xdp mode");
	EXPECT_STREQ(c.db, FM_DEFAULT_DB, "db");
	EXPECT_STREQ(c.pin_path, FM_DEFAULT_PIN_PATH, "pin path");
	EXPECT_TRUE(!c.log_file, "no log file");
	EXPECT_EQ(c.max_flows, c.machine.max_flows, "max-flows from the machine");
	EXPECT_EQ(c.cache_size, c.machine.cache_size, "cache-size from the machine");
	EXPECT_EQ(c.memory_limit_mb, c.machine.memory_limit_mb, "memory-limit from the machine");
	EXPECT_TRUE(c.machine.cpus > 0, "machine filled in");

	ASSERT_EQ(PARSE(&run_opts, &c, "-i", "x", "--xdp-mode", "generic", "-i", "y"), OPTS_RUN,
		  "two interfaces");
	EXPECT_EQ(c.mode, FM_XDP_GENERIC, "generic");
	EXPECT_EQ(c.nr_ifaces, 2, "two");
	EXPECT_STREQ(c.ifname[1], "y", "second interface");

	fm_log_level = LOG_LVL_INFO;
	EXPECT_EQ(PARSE(&run_opts, &c, "-i", "x", "-q"), OPTS_RUN, "-q");
	EXPECT_EQ(fm_log_level, LOG_LVL_WARN, "-q: warnings and errors");
	EXPECT_EQ(PARSE(&run_opts, &c, "-i", "x", "-v"), OPTS_RUN, "-v");
	EXPECT_EQ(fm_log_level, LOG_LVL_DEBUG, "-v: debug");
	EXPECT_EQ(PARSE(&run_opts, &c, "-i", "x", "-vv"), OPTS_RUN, "-vv");
	EXPECT_EQ(fm_log_level, LOG_LVL_LIBBPF, "-vv: libbpf's too");
	fm_log_level = LOG_LVL_INFO;

	e = PARSE_ERR(&r, &run_opts, &c, "-i", "x", "-q", "-v");
	EXPECT_EQ(r, 2, "-q -v: usage error");
	EXPECT_STREQ(e,
		     "flowmaster: run: -q (--quiet) and -v (--verbose) cannot be given together\n",
		     "-q -v message");
	EXPECT_EQ(fm_log_level, LOG_LVL_INFO, "-q -v: level unchanged");
	e = PARSE_ERR(&r, &run_opts, &c, "-i", "x", "--idle-timeout", "99999m");
	EXPECT_EQ(r, 2, "99999m: usage error");
	EXPECT_STREQ(e, "flowmaster: --idle-timeout: '99999m' is more than 1d (86400 s)\n",
		     "99999m message");
	e = PARSE_ERR(&r, &run_opts, &c, "-i", "x", "--ringbuf-size", "12288");
	EXPECT_EQ(r, 2, "ring buffer not a power of two");
	EXPECT_TRUE(strstr(e, "--ringbuf-size: '12288' is not a power of two"), e);
	e = PARSE_ERR(&r, &run_opts, &c, "--db", "x.db");
	EXPECT_EQ(r, 2, "no interface");
	EXPECT_STREQ(e, "flowmaster: run: give at least one interface with -i IFACE\n",
		     "no interface message");
	fm_log_level = saved;
}

TEST(detach_needs_one_of_interface_or_all)
{
	char cfg[4096];
	const char *e;
	int r;

	e = PARSE_ERR(&r, &detach_opts, cfg, "--pin-path", "/x");
	EXPECT_EQ(r, 2, "neither");
	EXPECT_STREQ(e, "flowmaster: detach: give -i IFACE or --all (not both)\n", "message");
	PARSE_ERR(&r, &detach_opts, cfg, "-i", "lo", "--all");
	EXPECT_EQ(r, 2, "both");
	EXPECT_EQ(PARSE(&detach_opts, cfg, "--all"), OPTS_RUN, "--all");
	EXPECT_EQ(PARSE(&detach_opts, cfg, "-i", "lo"), OPTS_RUN, "-i lo");
}
