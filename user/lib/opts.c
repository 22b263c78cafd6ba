// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include "lib/args.h"
#include "lib/opts.h"

#define HELP_WIDTH 80	  /* --help lines wrap before this column */
#define VAL_LONG_ONLY 256 /* getopt's value for c->opts[i] without a short name: + i */
#define VAL_LIST_OPTIONS 255
#define NBSP '\x01' /* a space --help must not wrap at (inside "(default X)") */

static const char *const kind_names[] = {
	[OPT_FLAG] = "flag", [OPT_COUNT] = "count",	  [OPT_STRING] = "string",
	[OPT_U64] = "u64",   [OPT_DURATION] = "duration", [OPT_ENUM] = "enum",
	[OPT_LIST] = "list",
};

static size_t nr_opts(const struct opts_cmd *c)
{
	size_t n = 0;

	while (c->opts[n].name)
		n++;
	return n;
}

static void *field(void *cfg, size_t off)
{
	return (char *)cfg + off - 1;
}

static const void *cfield(const void *cfg, size_t off)
{
	return (const char *)cfg + off - 1;
}

/* "--name" on the command line, "FILE:LINE: name" from elsewhere. */
static void make_label(char *buf, size_t len, const struct opt *o, const char *where)
{
	if (where)
		snprintf(buf, len, "%s: %s", where, o->name);
	else
		snprintf(buf, len, "--%s", o->name);
}

static int parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = { "true", "yes", "1" }, *const no[] = { "false", "no",
										 "0" };

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (!strcmp(s, yes[i]) || !strcmp(s, no[i])) {
			*out = !strcmp(s, yes[i]);
			return 0;
		}
	}
	return -EINVAL;
}

/* "auto, native or generic" (sep ", ", last " or "), "bytes|packets" */
static void join_names(char *buf, size_t len, const char *const *names, const char *sep,
		       const char *last)
{
	size_t n = 0, at = 0;

	while (names[n])
		n++;
	buf[0] = 0;
	for (size_t i = 0; i < n && at < len; i++) {
		const char *before = i == n - 1 ? last : sep;

		at += (size_t)snprintf(buf + at, len - at, "%s%s", i ? before : "", names[i]);
	}
}

static int parse_enum(const struct opt *o, const char *label, const char *value, uint64_t *out)
{
	char names[256];

	for (size_t i = 0; o->names[i]; i++) {
		if (!strcmp(value, o->names[i])) {
			*out = i;
			return 0;
		}
	}
	join_names(names, sizeof(names), o->names, ", ", " or ");
	fprintf(stderr, "flowmaster: %s: '%s' is not %s\n", label, value, names);
	return -EINVAL;
}

/*
 * Parse value for o into what it stores; value NULL for a flag or count
 * given without one. Returns 0 or -EINVAL (message printed).
 */
static int parse_value(const struct opt *o, const char *label, const char *value, const void *cfg,
		       uint64_t *u, bool *b)
{
	switch (o->kind) {
	case OPT_FLAG:
		*b = true;
		if (value && parse_bool(value, b)) {
			fprintf(stderr, "flowmaster: %s: '%s' is not true or false\n", label,
				value);
			return -EINVAL;
		}
		return 0;
	case OPT_COUNT:
		if (value)
			return args_u64(label, value, 0, o->max, u);
		*u = (uint64_t) * (const int *)cfield(cfg, o->off);
		if (*u < o->max)
			(*u)++;
		return 0;
	case OPT_STRING:
		return 0;
	case OPT_U64:
		return args_u64(label, value, o->min, o->max, u);
	case OPT_DURATION:
		if (args_duration_s(label, value, o->max, u))
			return -EINVAL;
		if (*u < o->min) {
			fprintf(stderr, "flowmaster: %s: must be at least %" PRIu64 " s\n", label,
				o->min);
			return -EINVAL;
		}
		return 0;
	case OPT_ENUM:
		return parse_enum(o, label, value, u);
	case OPT_LIST:
		if ((uint64_t) * (const int *)cfield(cfg, o->count_off) >= o->max) {
			fprintf(stderr, "flowmaster: %s: at most %" PRIu64 " can be given\n", label,
				o->max);
			return -EINVAL;
		}
		return 0;
	}
	return -EINVAL;
}

/* Check, then store: a refused value leaves cfg as it was. */
static int set_value(const struct opt *o, const char *label, const char *value, void *cfg)
{
	uint64_t u = 0;
	bool b = false;
	const void *parsed;
	void *f = field(cfg, o->off);
	int *count;

	if (!value && o->kind != OPT_FLAG && o->kind != OPT_COUNT) {
		fprintf(stderr, "flowmaster: %s: needs a value\n", label);
		return -EINVAL;
	}
	if (parse_value(o, label, value, cfg, &u, &b))
		return -EINVAL;
	if (o->kind == OPT_FLAG)
		parsed = &b;
	else if (o->kind == OPT_STRING || o->kind == OPT_LIST)
		parsed = value;
	else
		parsed = &u;
	if (o->check && o->check(label, value, parsed))
		return -EINVAL;
	switch (o->kind) {
	case OPT_FLAG:
		*(bool *)f = b;
		break;
	case OPT_COUNT:
	case OPT_ENUM:
		*(int *)f = (int)u;
		break;
	case OPT_STRING:
		*(const char **)f = value;
		break;
	case OPT_U64:
	case OPT_DURATION:
		*(uint64_t *)f = u;
		break;
	case OPT_LIST:
		count = field(cfg, o->count_off);
		((const char **)f)[(*count)++] = value;
		break;
	}
	if (o->text_off)
		*(const char **)field(cfg, o->text_off) = value;
	return 0;
}

int opts_find(const struct opts_cmd *c, const char *key)
{
	for (size_t i = 0; c->opts[i].name; i++)
		if (!strcmp(c->opts[i].name, key))
			return (int)i;
	return -ENOENT;
}

int opts_set(const struct opts_cmd *c, void *cfg, const char *key, const char *value,
	     const char *where)
{
	int i = opts_find(c, key);
	char label[256];

	if (i < 0) {
		if (where)
			fprintf(stderr, "flowmaster: %s: '%s' is not an option of '%s'\n", where,
				key, c->name);
		else
			fprintf(stderr, "flowmaster: --%s is not an option of '%s'\n", key,
				c->name);
		return -ENOENT;
	}
	make_label(label, sizeof(label), &c->opts[i], where);
	return set_value(&c->opts[i], label, value, cfg);
}

/* Zero cfg, init, every default; -EINVAL when one does not parse. */
static int apply_defaults(const struct opts_cmd *c, void *cfg)
{
	char label[256];

	memset(cfg, 0, c->cfg_size);
	if (c->init)
		c->init(cfg);
	for (const struct opt *o = c->opts; o->name; o++) {
		snprintf(label, sizeof(label), "default of --%s", o->name);
		if (o->def_fn)
			*(uint64_t *)field(cfg, o->off) = o->def_fn(cfg);
		else if (o->def && set_value(o, label, o->def, cfg))
			return -EINVAL;
	}
	return 0;
}

void opts_defaults(const struct opts_cmd *c, void *cfg)
{
	char why[256];

	/* A broken table is a bug of this program, found by any run of the
	 * command (and by tests/unit/test_opts.c for every command). */
	if (opts_validate(c, why, sizeof(why))) {
		fprintf(stderr, "flowmaster: %s: option table: %s\n", c->name, why);
		abort();
	}
	apply_defaults(c, cfg);
}

static int validate_opt(const struct opts_cmd *c, size_t i, char *why, size_t len)
{
	const struct opt *o = &c->opts[i];
	size_t want;

	if (!strcmp(o->name, "help") || !strcmp(o->name, "list-options") || o->short_name == 'h')
		return snprintf(why, len, "--%s: help and list-options are built in", o->name),
		       -EINVAL;
	for (size_t j = 0; j < i; j++) {
		if (!strcmp(c->opts[j].name, o->name) ||
		    (o->short_name && c->opts[j].short_name == o->short_name))
			return snprintf(why, len, "--%s: name or short name twice", o->name),
			       -EINVAL;
	}
	if (!o->help || !o->off || (o->kind > OPT_LIST))
		return snprintf(why, len, "--%s: no help, field or kind", o->name), -EINVAL;
	switch (o->kind) {
	case OPT_FLAG:
		want = sizeof(bool);
		break;
	case OPT_COUNT:
	case OPT_ENUM:
		want = sizeof(int);
		break;
	case OPT_U64:
	case OPT_DURATION:
		want = sizeof(uint64_t);
		break;
	default: /* a string, or OPT_LIST's array */
		want = o->kind == OPT_LIST ? o->max * sizeof(char *) : sizeof(char *);
		break;
	}
	if (o->size != want && !(o->kind == OPT_LIST && o->size > want))
		return snprintf(why, len, "--%s: field of %zu bytes for a %s", o->name, o->size,
				kind_names[o->kind]),
		       -EINVAL;
	if ((o->kind == OPT_LIST) != !!o->count_off ||
	    (o->kind == OPT_LIST && (o->count_size != sizeof(int) || !o->max)))
		return snprintf(why, len, "--%s: a list needs a count (int) and a max", o->name),
		       -EINVAL;
	if ((o->kind == OPT_COUNT && !o->max) || (o->kind == OPT_U64 && o->min > o->max) ||
	    (o->kind == OPT_DURATION && (!o->max || o->min > o->max)))
		return snprintf(why, len, "--%s: bounds", o->name), -EINVAL;
	if (o->kind == OPT_ENUM && (!o->names || !o->names[0]))
		return snprintf(why, len, "--%s: an enum without names", o->name), -EINVAL;
	if (!o->arg && o->kind != OPT_FLAG && o->kind != OPT_COUNT && o->kind != OPT_ENUM)
		return snprintf(why, len, "--%s: no argument name", o->name), -EINVAL;
	if (o->arg && (o->kind == OPT_FLAG || o->kind == OPT_COUNT))
		return snprintf(why, len, "--%s: takes no argument", o->name), -EINVAL;
	if (o->text_off && o->text_size != sizeof(char *))
		return snprintf(why, len, "--%s: the text field is not a string", o->name), -EINVAL;
	if (o->def_fn &&
	    (o->def || !o->def_from || (o->kind != OPT_U64 && o->kind != OPT_DURATION)))
		return snprintf(why, len, "--%s: def_fn: a number, with def_from and no def",
				o->name),
		       -EINVAL;
	return 0;
}

int opts_validate(const struct opts_cmd *c, char *why, size_t len)
{
	size_t n = nr_opts(c);
	void *scratch;
	int err;

	if (n > OPTS_MAX)
		return snprintf(why, len, "more than %d options", OPTS_MAX), -EINVAL;
	for (size_t i = 0; i < n; i++)
		if (validate_opt(c, i, why, len))
			return -EINVAL;
	scratch = malloc(c->cfg_size ? c->cfg_size : 1);
	if (!scratch)
		return snprintf(why, len, "out of memory"), -ENOMEM;
	err = apply_defaults(c, scratch);
	free(scratch);
	if (err)
		return snprintf(why, len, "a default does not parse"), -EINVAL;
	return 0;
}

/* ------------------------------------------------------------ the help */

/* o's help with {min} and {max} filled in. */
static void expand_help(char *buf, size_t len, const struct opt *o)
{
	const char *s = o->help;
	size_t at = 0;

	while (*s && at + 1 < len) {
		uint64_t v;

		if (!strncmp(s, "{min}", 5) || !strncmp(s, "{max}", 5)) {
			v = s[2] == 'i' ? o->min : o->max;
			at += (size_t)snprintf(buf + at, len - at, "%" PRIu64, v);
			s += 5;
			continue;
		}
		buf[at++] = *s++;
	}
	buf[at < len ? at : len - 1] = 0;
}

/* The default as --help says it ("15", "from memory: 1048576"), or NULL. */
static const char *def_text(char *buf, size_t len, const struct opt *o, const void *cfg)
{
	if (o->def_fn) {
		snprintf(buf, len, "from %s: %" PRIu64, o->def_from, o->def_fn(cfg));
		return buf;
	}
	return o->def;
}

/* "  -i, --interface IFACE" */
static void left_part(char *buf, size_t len, const struct opt *o)
{
	char names[128];
	const char *arg = o->arg;

	if (o->kind == OPT_ENUM && !arg) {
		join_names(names, sizeof(names), o->names, "|", "|");
		arg = names;
	}
	if (o->short_name)
		snprintf(buf, len, "  -%c, --%s%s%s", o->short_name, o->name, arg ? " " : "",
			 arg ? arg : "");
	else
		snprintf(buf, len, "      --%s%s%s", o->name, arg ? " " : "", arg ? arg : "");
}

/* Words of text from column at, wrapped at HELP_WIDTH to column col. */
static void print_wrapped(FILE *f, size_t col, size_t at, const char *text)
{
	while (*text) {
		size_t n = strcspn(text, " ");

		if (at > col && at + 1 + n > HELP_WIDTH) {
			fprintf(f, "\n%*s", (int)col, "");
			at = col;
		} else if (at > col) {
			fputc(' ', f);
			at++;
		}
		for (size_t i = 0; i < n; i++)
			fputc(text[i] == NBSP ? ' ' : text[i], f);
		at += n;
		text += n;
		text += strspn(text, " ");
	}
	fputc('\n', f);
}

static void print_opt(FILE *f, size_t col, const char *left, const char *help, const char *def)
{
	char text[1024];
	size_t at;

	at = (size_t)snprintf(text, sizeof(text), "%s", help);
	if (def && at < sizeof(text)) {
		/* "(default X)" stays on one line, for readers and check-man. */
		snprintf(text + at, sizeof(text) - at, " (default %s)", def);
		for (char *p = text + at + 1; *p; p++)
			if (*p == ' ')
				*p = NBSP;
	}
	fputs(left, f);
	fprintf(f, "%*s", (int)(col - strlen(left)), "");
	print_wrapped(f, col, col, text);
}

void opts_help(const struct opts_cmd *c, const void *cfg, FILE *f)
{
	static const char help_left[] = "  -h, --help";
	char left[512], help[512], def[64];
	size_t col = sizeof(help_left) - 1;

	for (const struct opt *o = c->opts; o->name; o++) {
		left_part(left, sizeof(left), o);
		if (strlen(left) > col)
			col = strlen(left);
	}
	col += 2;
	fprintf(f, "%s\n\n%s\n", c->usage, c->about);
	for (const struct opt *o = c->opts; o->name; o++) {
		left_part(left, sizeof(left), o);
		expand_help(help, sizeof(help), o);
		print_opt(f, col, left, help, def_text(def, sizeof(def), o, cfg));
	}
	print_opt(f, col, help_left, "this help", NULL);
	if (c->footer)
		fprintf(f, "\n%s", c->footer);
}

void opts_list(const struct opts_cmd *c, const void *cfg, FILE *f)
{
	char help[512], def[64], names[256];
	const char *d;

	for (const struct opt *o = c->opts; o->name; o++) {
		const char *arg = o->arg;

		if (o->kind == OPT_ENUM && !arg) {
			join_names(names, sizeof(names), o->names, "|", "|");
			arg = names;
		}
		expand_help(help, sizeof(help), o);
		d = def_text(def, sizeof(def), o, cfg);
		fprintf(f, "--%s\t%s%c\t%s\t%s\t%s\t%s\n", o->name, o->short_name ? "-" : "",
			o->short_name ? o->short_name : '-', arg ? arg : "-", kind_names[o->kind],
			d ? d : "-", help);
	}
	fprintf(f, "--help\t-h\t-\tflag\t-\tthis help\n");
}

/* ------------------------------------------------------- command line */

/* The getopt_long array and short options of c; returns the count. */
static size_t build_getopt(const struct opts_cmd *c, struct option *lo, char *shorts)
{
	size_t n = 0, s = 0;

	for (const struct opt *o = c->opts; o->name; o++, n++) {
		bool arg = o->kind != OPT_FLAG && o->kind != OPT_COUNT;

		lo[n] = (struct option){ o->name, arg ? required_argument : no_argument, NULL,
					 o->short_name ? o->short_name : VAL_LONG_ONLY + (int)n };
		if (o->short_name) {
			shorts[s++] = o->short_name;
			if (arg)
				shorts[s++] = ':';
		}
	}
	lo[n++] = (struct option){ "help", no_argument, NULL, 'h' };
	lo[n++] = (struct option){ "list-options", no_argument, NULL, VAL_LIST_OPTIONS };
	lo[n] = (struct option){ 0 };
	shorts[s++] = 'h';
	shorts[s] = 0;
	return n;
}

/* getopt's value back to an index in c->opts, or -1. */
static int opt_of_val(const struct opts_cmd *c, int val)
{
	if (val >= VAL_LONG_ONLY)
		return val - VAL_LONG_ONLY < (int)nr_opts(c) ? val - VAL_LONG_ONLY : -1;
	for (size_t i = 0; c->opts[i].name; i++)
		if (c->opts[i].short_name && c->opts[i].short_name == val)
			return (int)i;
	return -1;
}

int opts_argv(const struct opts_cmd *c, int argc, char **argv, void *cfg, uint64_t *given)
{
	struct option lo[OPTS_MAX + 3];
	char shorts[2 * OPTS_MAX + 2], label[256];
	int val, i;

	*given = 0;
	build_getopt(c, lo, shorts);
	optind = 0; /* 0, not 1: glibc then also forgets a half-read "-vv" */
	while ((val = getopt_long(argc, argv, shorts, lo, NULL)) != -1) {
		if (val == 'h') {
			opts_help(c, cfg, stdout);
			return 0;
		}
		if (val == VAL_LIST_OPTIONS) {
			opts_list(c, cfg, stdout);
			return 0;
		}
		i = opt_of_val(c, val);
		if (i < 0) { /* getopt said what was wrong */
			fprintf(stderr, "Try 'flowmaster %s --help'.\n", c->name);
			return 2;
		}
		make_label(label, sizeof(label), &c->opts[i], NULL);
		if (set_value(&c->opts[i], label, optarg, cfg))
			return 2;
		*given |= 1ULL << i;
	}
	if (optind < argc) {
		fprintf(stderr,
			"flowmaster: %s: unexpected argument '%s'; try 'flowmaster %s --help'\n",
			c->name, argv[optind], c->name);
		return 2;
	}
	return OPTS_RUN;
}

int opts_finish(const struct opts_cmd *c, void *cfg)
{
	return c->finish && c->finish(cfg) ? 2 : OPTS_RUN;
}

int opts_parse(const struct opts_cmd *c, int argc, char **argv, void *cfg)
{
	uint64_t given;
	int r;

	opts_defaults(c, cfg);
	r = opts_argv(c, argc, argv, cfg, &given);
	return r == OPTS_RUN ? opts_finish(c, cfg) : r;
}
