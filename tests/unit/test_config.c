// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Config files (lib/config.h): "key = value" lines, comments and quotes,
 * the command line winning, every mistake a usage error naming FILE:LINE,
 * the values and their origins as -v prints them; and `run --config` on
 * run's real option table.
 */
#include <stdbool.h>
#include <unistd.h>
#include "../testlib.h"
#include "cli/run.h"
#include "lib/config.h"
#include "lib/opts.h"

TESTLIB_MAIN("config")

struct t_cfg {
	const char *name;
	uint64_t n, secs;
	int mode, verbose, nr_items;
	bool flag;
	const char *items[3];
};

static const char *const modes[] = { "one", "two", "three", NULL };

static const struct opt t_table[] = {
	{ "name", 'n', OPT_STRING, "NAME", "a name", .def = "anon", OPT_AT(struct t_cfg, name) },
	{ "number", 0, OPT_U64, "N", "a number", .def = "5", OPT_AT(struct t_cfg, n), .min = 1,
	  .max = 99 },
	{ "wait", 0, OPT_DURATION, "S", "how long", .def = "1m", OPT_AT(struct t_cfg, secs),
	  .min = 2, .max = 3600 },
	{ "mode", 0, OPT_ENUM, NULL, "the mode", .def = "two", OPT_AT(struct t_cfg, mode),
	  .names = modes },
	{ "item", 'I', OPT_LIST, "ITEM", "an item", OPT_AT(struct t_cfg, items),
	  OPT_COUNT_AT(struct t_cfg, nr_items), .max = 3 },
	{ "flag", 'f', OPT_FLAG, NULL, "a flag", OPT_AT(struct t_cfg, flag) },
	{ "verbose", 'v', OPT_COUNT, NULL, "more", OPT_AT(struct t_cfg, verbose), .max = 2 },
	{ "config", 0, OPT_STRING, "FILE", "the file", OPT_AT(struct t_cfg, name) },
	{ 0 },
};

static const struct opts_cmd t_cmd = {
	.name = "test",
	.usage = "usage: flowmaster test [OPTIONS]",
	.about = "A test.\n",
	.opts = t_table,
	.cfg_size = sizeof(struct t_cfg),
};

enum { O_NAME, O_NUMBER, O_WAIT, O_MODE, O_ITEM, O_FLAG, O_VERBOSE };

static char path[64];

/* A config file with text, at path. */
static void write_file(const char *text)
{
	FILE *f;

	snprintf(path, sizeof(path), "/tmp/fm-test-config-%d.conf", (int)getpid());
	f = fopen(path, "w");
	fputs(text, f);
	fclose(f);
}

/* fd 2 into a temporary file while capturing. */
static int cap_fd = -1, cap_saved = -1;

static void capture(void)
{
	char p[] = "/tmp/fm-test-config-XXXXXX";

	fflush(stderr);
	cap_fd = mkstemp(p);
	unlink(p);
	cap_saved = dup(2);
	dup2(cap_fd, 2);
}

static const char *captured(void)
{
	static char buf[4096];
	ssize_t n;

	fflush(stderr);
	dup2(cap_saved, 2);
	close(cap_saved);
	n = pread(cap_fd, buf, sizeof(buf) - 1, 0);
	buf[n > 0 ? n : 0] = 0;
	close(cap_fd);
	return buf;
}

/* config_load of text with defaults and given; its stderr in *err. */
static int load(struct config *cf, struct t_cfg *c, const char *text, uint64_t given,
		const char **err)
{
	int r;

	write_file(text);
	opts_defaults(&t_cmd, c);
	capture();
	r = config_load(cf, &t_cmd, c, path, given);
	*err = captured();
	unlink(path);
	return r;
}

TEST(lines_comments_quotes)
{
	struct config cf;
	struct t_cfg c;
	const char *err;
	char buf[128];

	ASSERT_EQ(load(&cf, &c,
		       "# a comment\n"
		       "\n"
		       "   name=bob\n"
		       "number = 7   # seven\n"
		       "wait\t=\t5m\r\n"
		       "  # indented comment\n"
		       "mode = three\n"
		       "item = a\n"
		       "item = \"b # c \"  # quoted\n"
		       "flag = yes\n"
		       "verbose = 2",
		       0, &err),
		  0, "load");
	EXPECT_STREQ(err, "", "nothing printed");
	EXPECT_STREQ(c.name, "bob", "no spaces around '='");
	EXPECT_EQ(c.n, 7, "comment after the value");
	EXPECT_EQ(c.secs, 300, "tab, CRLF, a unit");
	EXPECT_EQ(c.mode, 2, "enum");
	EXPECT_EQ(c.nr_items, 2, "a list: one line per value");
	EXPECT_STREQ(c.items[0], "a", "first item");
	EXPECT_STREQ(c.items[1], "b # c ", "quotes keep '#' and spaces");
	EXPECT_TRUE(c.flag, "flag = yes");
	EXPECT_EQ(c.verbose, 2, "a count as a number, last line without newline");
	EXPECT_STREQ(config_origin(&cf, O_NUMBER, buf, sizeof(buf)) + strlen(path), ":4",
		     "origin: FILE:LINE");
	EXPECT_STREQ(config_origin(&cf, O_ITEM, buf, sizeof(buf)) + strlen(path), ":9",
		     "a list's origin: its last line");
	config_free(&cf);
}

TEST(command_line_wins)
{
	struct config cf;
	struct t_cfg c;
	const char *err;
	char buf[128];

	write_file("number = 7\nitem = x\nitem = y\nname = file\n");
	opts_defaults(&t_cmd, &c);
	{
		char *argv[] = { "test", "--number", "9", "-I", "cli", NULL };
		uint64_t given;

		ASSERT_EQ(opts_argv(&t_cmd, 5, argv, &c, &given), OPTS_RUN, "argv");
		capture();
		ASSERT_EQ(config_load(&cf, &t_cmd, &c, path, given), 0, "load");
		err = captured();
	}
	unlink(path);
	EXPECT_STREQ(err, "", "nothing printed");
	EXPECT_EQ(c.n, 9, "the command line's number");
	EXPECT_EQ(c.nr_items, 1, "the command line's list replaces the file's");
	EXPECT_STREQ(c.items[0], "cli", "the command line's item");
	EXPECT_STREQ(c.name, "file", "what the command line did not give comes from the file");
	EXPECT_STREQ(config_origin(&cf, O_NUMBER, buf, sizeof(buf)), "command line", "origin");
	EXPECT_STREQ(config_origin(&cf, O_WAIT, buf, sizeof(buf)), "default", "origin");
	config_free(&cf);
}

/* Each mistake: -EINVAL and a message naming FILE:LINE and what is wrong. */
static void expect_error(const char *text, uint64_t given, const char *want)
{
	struct config cf;
	struct t_cfg c;
	const char *err;
	char full[512];
	int r = load(&cf, &c, text, given, &err);

	snprintf(full, sizeof(full), "flowmaster: %s%s\n", path, want);
	EXPECT_EQ(r, -EINVAL, text);
	EXPECT_STREQ(err, full, text);
}

TEST(errors_name_file_and_line)
{
	expect_error("name = a\nbogus = 1\n", 0, ":2: 'bogus' is not an option of 'test'");
	expect_error("\n\nnumber = 100\n", 0,
		     ":3: number: '100' is not a whole number from 1 to 99");
	expect_error("mode = four\n", 0, ":1: mode: 'four' is not one, two or three");
	expect_error("wait = 1\n", 0, ":1: wait: must be at least 2 s");
	expect_error("flag = maybe\n", 0, ":1: flag: 'maybe' is not true or false");
	expect_error("name bob\n", 0, ":1: expected 'key = value' (key: a long option name)");
	expect_error("= bob\n", 0, ":1: expected 'key = value' (key: a long option name)");
	expect_error("name =\n", 0, ":1: no value (quote an empty one: \"\")");
	expect_error("name = \"bob\n", 0, ":1: no closing '\"'");
	expect_error("name = \"bob\" x\n", 0, ":1: text after the closing '\"'");
	expect_error("item = a\nitem = b\nitem = c\nitem = d\n", 0,
		     ":4: item: at most 3 can be given");
	expect_error("config = other.conf\n", 0, ":1: config: cannot be set in a config file");
	/* Checked also when the command line overrides it. */
	expect_error("number = 0\n", 1ULL << O_NUMBER,
		     ":1: number: '0' is not a whole number from 1 to 99");
	expect_error("--number = 1\n", 0, ":1: '--number' is not an option of 'test'");
}

TEST(missing_file)
{
	struct config cf;
	struct t_cfg c;

	opts_defaults(&t_cmd, &c);
	capture();
	EXPECT_EQ(config_load(&cf, &t_cmd, &c, "/nonexistent/fm.conf", 0), -ENOENT, "ENOENT");
	EXPECT_STREQ(captured(), "", "nothing printed: the caller decides");
	EXPECT_EQ(c.n, 5, "cfg untouched");
}

TEST(values)
{
	struct t_cfg c;
	char buf[128];

	opts_defaults(&t_cmd, &c);
	c.items[0] = "a";
	c.items[1] = "b";
	c.nr_items = 2;
	EXPECT_STREQ(config_value(&t_cmd, &c, O_NAME, buf, sizeof(buf)), "anon", "string");
	EXPECT_STREQ(config_value(&t_cmd, &c, O_NUMBER, buf, sizeof(buf)), "5", "u64");
	EXPECT_STREQ(config_value(&t_cmd, &c, O_WAIT, buf, sizeof(buf)), "60", "duration (s)");
	EXPECT_STREQ(config_value(&t_cmd, &c, O_MODE, buf, sizeof(buf)), "two", "enum");
	EXPECT_STREQ(config_value(&t_cmd, &c, O_ITEM, buf, sizeof(buf)), "a, b", "list");
	EXPECT_STREQ(config_value(&t_cmd, &c, O_FLAG, buf, sizeof(buf)), "false", "flag");
	EXPECT_STREQ(config_value(&t_cmd, &c, O_VERBOSE, buf, sizeof(buf)), "0", "count");
}

/* run_parse_args on a NULL-terminated list of arguments; stderr in *err. */
#define RUN_PARSE(c, err, ...)                                                                     \
	({                                                                                         \
		char *_argv[] = { "run", __VA_ARGS__, NULL };                                      \
		int _r;                                                                            \
		capture();                                                                         \
		_r = run_parse_args(sizeof(_argv) / sizeof(_argv[0]) - 1, _argv, c);               \
		*(err) = captured();                                                               \
		_r;                                                                                \
	})

TEST(run_config)
{
	struct run_cfg c;
	const char *err;
	char cpath[64];

	write_file("interface = veth0\ninterface = veth1\nidle-timeout = 30s\n"
		   "xdp-mode = generic\nindex-addresses = true\ndb = /var/lib/x.db\n");
	snprintf(cpath, sizeof(cpath), "%s", path);
	EXPECT_EQ(RUN_PARSE(&c, &err, "--config", cpath, "--idle-timeout", "5"), OPTS_RUN, "parse");
	EXPECT_STREQ(err, "", "nothing printed");
	EXPECT_EQ(c.nr_ifaces, 2, "interfaces from the file");
	EXPECT_STREQ(c.ifname[1], "veth1", "second interface");
	EXPECT_EQ(c.idle_s, 5, "the command line wins");
	EXPECT_EQ(c.mode, FM_XDP_GENERIC, "xdp-mode");
	EXPECT_TRUE(c.index_addresses, "flag");
	EXPECT_STREQ(c.db, "/var/lib/x.db", "db");

	EXPECT_EQ(RUN_PARSE(&c, &err, "--config", cpath, "-i", "eth9"), OPTS_RUN, "parse");
	EXPECT_EQ(c.nr_ifaces, 1, "-i replaces the file's interfaces");
	EXPECT_STREQ(c.ifname[0], "eth9", "-i");

	/* Without interfaces anywhere: run's own check, after the file. */
	write_file("idle-timeout = 30\n");
	EXPECT_EQ(RUN_PARSE(&c, &err, "--config", cpath), 2, "no interface");
	EXPECT_STREQ(err, "flowmaster: run: give at least one interface with -i IFACE\n", "why");

	write_file("interface = veth0\nidle-timeout = forever\n");
	EXPECT_EQ(RUN_PARSE(&c, &err, "--config", cpath), 2, "bad value: usage error");
	EXPECT_TRUE(strstr(err, ":2: idle-timeout: ") != NULL, err);

	write_file("interface = veth0\nmax-flow = 10\n");
	EXPECT_EQ(RUN_PARSE(&c, &err, "--config", cpath), 2, "unknown key: usage error");
	EXPECT_TRUE(strstr(err, ":2: 'max-flow' is not an option of 'run'") != NULL, err);
	unlink(cpath);

	EXPECT_EQ(RUN_PARSE(&c, &err, "--config", cpath, "-i", "x"), 2, "explicit, missing");
	EXPECT_TRUE(strstr(err, "no such file") != NULL, err);
	EXPECT_EQ(RUN_PARSE(&c, &err, "--config", "none", "-i", "x"), OPTS_RUN, "none");
	EXPECT_EQ(c.idle_s, 15, "none: the defaults");
}
