/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Config files for a command's option table (lib/opts.h): the keys are the
 * long option names, the values read as on the command line.
 *
 *	# a comment
 *	interface = eth0
 *	interface = eth1        # a list option: one line per value
 *	idle-timeout = 30s
 *	index-addresses = yes   # a flag: true/false, yes/no, 1/0
 *	db = "/var/lib/flowmaster/flow#1.db"   # quotes keep '#' and spaces
 *
 * Blank lines and lines starting with '#' are skipped; a '#' after
 * whitespace starts a comment unless the value is quoted. Options the
 * command line gave are not set from the file (the command line wins), but
 * their lines are still checked: an unknown key, a bad value or a line
 * that is not "key = value" is a usage error naming FILE:LINE.
 */
#ifndef FM_CONFIG_H
#define FM_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include "lib/opts.h"

struct config {
	const char *path;   /* the file read, NULL: none */
	char *text;	    /* its contents: cfg's strings point into it */
	uint64_t given;	    /* bit i: c->opts[i] came from the command line */
	uint64_t from_file; /* bit i: c->opts[i] was set from the file */
	int line[OPTS_MAX]; /* the (last) line that set c->opts[i] */
};

/*
 * Read path into cfg as described above; given: opts_argv's mask. The
 * contents stay in cf->text until config_free. Returns 0, -ENOENT when the
 * file does not exist (nothing printed: the caller decides whether that is
 * an error), -EINVAL after a usage error, or another -errno when the file
 * cannot be read (messages printed to stderr).
 */
int config_load(struct config *cf, const struct opts_cmd *c, void *cfg, const char *path,
		uint64_t given);
/* config_load on text (malloc'ed, NUL-terminated, taken over: freed by
 * config_free or on an error) read from path. */
int config_parse(struct config *cf, const struct opts_cmd *c, void *cfg, const char *path,
		 char *text, uint64_t given);
void config_free(struct config *cf);

/*
 * Option i's value in cfg as a config line would give it ("30", "auto",
 * "eth0, eth1" for a list; "" for a string not set). Returns buf.
 */
const char *config_value(const struct opts_cmd *c, const void *cfg, int i, char *buf, size_t len);
/* Where option i's value came from: "command line", "FILE:LINE" or "default". */
const char *config_origin(const struct config *cf, int i, char *buf, size_t len);

#endif
