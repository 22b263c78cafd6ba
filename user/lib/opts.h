/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * A subcommand's options as one table: each entry says the option's long
 * and short name, its argument, its help, its kind and bounds, where in the
 * subcommand's config struct it is stored and its default. From that one
 * table come the getopt_long array, the --help text (aligned, wrapped, each
 * default shown as "(default X)"), the defaults themselves and a
 * machine-readable list (`flowmaster CMD --list-options`, which
 * tools/check-man.sh reads).
 *
 * Values from anywhere go through opts_set(), which is what a config file
 * (keys = long names) will use too: the command line is read first and
 * records which options it gave, a config file then sets only the others
 * (the command line wins), and opts_finish() checks what depends on several
 * options once every source is in:
 *
 *	opts_defaults(c, cfg);
 *	r = opts_argv(c, argc, argv, cfg, &given);
 *	... for each KEY = VALUE at FILE:LINE whose option is not in given:
 *	...	opts_set(c, cfg, KEY, VALUE, "FILE:LINE")	(usage error if < 0)
 *	r = opts_finish(c, cfg);
 *
 * opts_parse() does the three without a file. Messages go to stderr and
 * name the option ("flowmaster: --limit: '0' is not a whole number from 1
 * to 10000") or the file, line and key ("flowmaster: FILE:LINE: limit: ...").
 */
#ifndef FM_OPTS_H
#define FM_OPTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum opt_kind {
	OPT_FLAG,     /* no argument: bool, true when given */
	OPT_COUNT,    /* no argument, repeatable: int, counts (-v -v), up to max */
	OPT_STRING,   /* const char *, the argument itself (kept, not copied) */
	OPT_U64,      /* uint64_t, a whole number in [min, max] */
	OPT_DURATION, /* uint64_t seconds in [min, max]: 30, 90s, 5m, 2h, 1d */
	OPT_ENUM,     /* int: the index of the argument in names */
	OPT_LIST,     /* repeatable string: const char *[], its count in an int, up to max */
};

struct opt {
	const char *name; /* long name; also the key in a config file */
	char short_name;  /* 0: none */
	enum opt_kind kind;
	const char *arg;  /* the argument in --help ("PATH"); OPT_ENUM: NULL shows names */
	const char *help; /* wrapped in --help; "{min}" and "{max}" say the bounds */
	const char *def;  /* the default, read like a given value; NULL: zero */
	/* Or a default computed for this machine (from the config struct, after
	 * opts_cmd.init), shown "(default from DEF_FROM: N)". */
	uint64_t (*def_fn)(const void *cfg);
	const char *def_from;
	size_t off, size;	      /* OPT_AT(): where in the config struct, and its size */
	size_t count_off, count_size; /* OPT_LIST: OPT_COUNT_AT(), where the count goes */
	size_t text_off, text_size;   /* optional OPT_TEXT_AT(): the argument as given */
	uint64_t min, max;	      /* OPT_U64, OPT_DURATION; max: OPT_LIST, OPT_COUNT */
	const char *const *names;     /* OPT_ENUM: the accepted values, NULL-terminated */
	/* Optional: refuse a value the kind accepts (message printed, -EINVAL).
	 * parsed points at what would be stored (a uint64_t for numbers). */
	int (*check)(const char *label, const char *value, const void *parsed);
};

/* Offsets are stored + 1 so that 0 means "not stored". */
#define OPT_AT(type, member) .off = offsetof(type, member) + 1, .size = sizeof(((type *)0)->member)
#define OPT_COUNT_AT(type, member)                                                                 \
	.count_off = offsetof(type, member) + 1, .count_size = sizeof(((type *)0)->member)
#define OPT_TEXT_AT(type, member)                                                                  \
	.text_off = offsetof(type, member) + 1, .text_size = sizeof(((type *)0)->member)
/* A number's digits as a string, for .def: OPT_STR(TOP_LIMIT_DEFAULT). */
#define OPT_STR_(x) #x
#define OPT_STR(x) OPT_STR_(x)

/* At most this many options per command: opts_argv records them in a mask. */
#define OPTS_MAX 64

struct opts_cmd {
	const char *name;	/* "run", for messages and the help */
	const char *usage;	/* the usage line(s), from "usage: " */
	const char *about;	/* what the command does, before the options */
	const char *footer;	/* after the options (exit status), or NULL */
	const struct opt *opts; /* ends with an entry without a name */
	size_t cfg_size;	/* the config struct, zeroed by opts_defaults */
	/* Optional: before the defaults, fill in what def_fn reads. */
	void (*init)(void *cfg);
	/* Optional: after every source, check relations between options and
	 * apply them; returns 0, or -EINVAL with a message printed. */
	int (*finish)(void *cfg);
};

/* opts_parse's "go on": anything else is the exit status to return. */
#define OPTS_RUN (-1)

/* Defaults, command line, checks; returns OPTS_RUN, 0 (after --help) or 2. */
int opts_parse(const struct opts_cmd *c, int argc, char **argv, void *cfg);

/* Zero cfg, run c->init and set every default. */
void opts_defaults(const struct opts_cmd *c, void *cfg);
/*
 * Read argv (argv[0] the command's name) into cfg; bit i of *given is set
 * for each c->opts[i] the command line gave. --help prints the help and
 * --list-options the list, to stdout. Returns OPTS_RUN, 0 after --help or
 * --list-options, or 2 after a usage error (message printed).
 */
int opts_argv(const struct opts_cmd *c, int argc, char **argv, void *cfg, uint64_t *given);
/*
 * Set option key (its long name) to value in cfg, as if given where
 * (e.g. "FILE:LINE", which messages then name; NULL: the command line).
 * value NULL for OPT_FLAG and OPT_COUNT means given once; in a file a flag
 * takes true/false, yes/no or 1/0, a count a number. Strings are kept, not
 * copied. Returns 0, -ENOENT for an unknown key or -EINVAL for a bad
 * value, each with a message printed.
 */
int opts_set(const struct opts_cmd *c, void *cfg, const char *key, const char *value,
	     const char *where);
/* The index of option key in c->opts (its bit in given), or -ENOENT. */
int opts_find(const struct opts_cmd *c, const char *key);
/* Run c->finish: returns OPTS_RUN, or 2 after a usage error. */
int opts_finish(const struct opts_cmd *c, void *cfg);

/* The --help text, with the defaults as they are in cfg's machine. */
void opts_help(const struct opts_cmd *c, const void *cfg, FILE *f);
/*
 * --list-options: one line per option, tab-separated: the long option,
 * the short one or "-", the argument or "-", the kind (flag, count,
 * string, u64, duration, enum, list), the default as --help shows it
 * ("15", "from memory: 1048576") or "-", and the help text.
 */
void opts_list(const struct opts_cmd *c, const void *cfg, FILE *f);
/* Check a table (kinds against field sizes, names unique, defaults valid):
 * 0, or -EINVAL with the first problem in why. For the tests; opts_defaults
 * aborts on a broken table. */
int opts_validate(const struct opts_cmd *c, char *why, size_t len);

#endif
