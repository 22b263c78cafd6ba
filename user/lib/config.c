// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Config files: "key = value" lines for an option table (lib/config.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lib/config.h"

#define CONFIG_MAX_BYTES (1 << 20) /* a config file is small; refuse anything else */

static int read_all(const char *path, char **out)
{
	FILE *f = fopen(path, "re");
	char *buf;
	size_t n;
	int err = 0;

	if (!f)
		return -errno;
	buf = malloc(CONFIG_MAX_BYTES + 1);
	if (!buf) {
		fclose(f);
		return -ENOMEM;
	}
	n = fread(buf, 1, CONFIG_MAX_BYTES + 1, f);
	if (ferror(f))
		err = -EIO;
	else if (n > CONFIG_MAX_BYTES)
		err = -EFBIG;
	fclose(f);
	if (err) {
		free(buf);
		return err;
	}
	buf[n] = 0;
	*out = buf;
	return 0;
}

static bool is_space(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r';
}

static char *skip_space(char *s)
{
	while (is_space(*s))
		s++;
	return s;
}

/*
 * Split line (NUL-terminated, modified in place) into key and value.
 * Returns 1 for a key/value line, 0 for a blank or comment line, or
 * -EINVAL with what is wrong in *why.
 */
static int split_line(char *line, char **key, char **value, const char **why)
{
	char *s = skip_space(line), *end;

	if (!*s || *s == '#')
		return 0;
	*key = s;
	while (*s && !is_space(*s) && *s != '=')
		s++;
	end = s;
	s = skip_space(s);
	if (*s != '=' || end == *key) {
		*why = "expected 'key = value' (key: a long option name)";
		return -EINVAL;
	}
	*end = 0;
	s = skip_space(s + 1);
	if (*s == '"') {
		*value = ++s;
		s = strchr(s, '"');
		if (!s) {
			*why = "no closing '\"'";
			return -EINVAL;
		}
		*s = 0;
		s = skip_space(s + 1);
		if (*s && *s != '#') {
			*why = "text after the closing '\"'";
			return -EINVAL;
		}
		return 1;
	}
	*value = s;
	/* The value ends at a '#' after whitespace, or at the end of the line. */
	for (end = s; *end; end++) {
		if (*end == '#' && end > s && is_space(end[-1]))
			break;
	}
	while (end > s && is_space(end[-1]))
		end--;
	*end = 0;
	if (!**value) {
		*why = "no value (quote an empty one: \"\")";
		return -EINVAL;
	}
	return 1;
}

int config_load(struct config *cf, const struct opts_cmd *c, void *cfg, const char *path,
		uint64_t given)
{
	char *text = NULL;
	int err;

	memset(cf, 0, sizeof(*cf));
	cf->given = given;
	err = read_all(path, &text);
	if (err == -ENOENT)
		return err;
	if (err) {
		fprintf(stderr, "flowmaster: config file %s: %s\n", path,
			err == -EFBIG ? "larger than 1 MiB" : strerror(-err));
		return err;
	}
	return config_parse(cf, c, cfg, path, text, given);
}

int config_parse(struct config *cf, const struct opts_cmd *c, void *cfg, const char *path,
		 char *text, uint64_t given)
{
	char where[512], *line, *next, *key, *value;
	const char *why = NULL;
	void *scratch = NULL;
	int err, i, lineno = 0;

	memset(cf, 0, sizeof(*cf));
	cf->given = given;
	cf->text = text;
	cf->path = path;
	/* Every line is checked on a copy of the defaults, also those the
	 * command line overrides: a mistake in the file is found the day
	 * it is made, not the day the flag is dropped. */
	scratch = malloc(c->cfg_size ? c->cfg_size : 1);
	if (!scratch) {
		err = -ENOMEM;
		goto fail;
	}
	opts_defaults(c, scratch);
	for (line = cf->text; line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = 0;
		lineno++;
		snprintf(where, sizeof(where), "%s:%d", path, lineno);
		err = split_line(line, &key, &value, &why);
		if (err == 0)
			continue;
		if (err < 0) {
			fprintf(stderr, "flowmaster: %s: %s\n", where, why);
			goto fail;
		}
		i = opts_find(c, key);
		if (i >= 0 && !strcmp(key, "config")) {
			fprintf(stderr, "flowmaster: %s: config: cannot be set in a config file\n",
				where);
			err = -EINVAL;
			goto fail;
		}
		err = opts_set(c, scratch, key, value, where);
		if (err) {
			err = -EINVAL;
			goto fail;
		}
		if (given & (1ULL << i))
			continue;
		err = opts_set(c, cfg, key, value, where);
		if (err) {
			err = -EINVAL;
			goto fail;
		}
		cf->from_file |= 1ULL << i;
		cf->line[i] = lineno;
	}
	free(scratch);
	return 0;
fail:
	free(scratch);
	config_free(cf);
	return err;
}

void config_free(struct config *cf)
{
	free(cf->text);
	cf->text = NULL;
}

static const void *cfield(const void *cfg, size_t off)
{
	return (const char *)cfg + off - 1;
}

const char *config_value(const struct opts_cmd *c, const void *cfg, int i, char *buf, size_t len)
{
	const struct opt *o = &c->opts[i];
	const void *f = cfield(cfg, o->off);
	const char *s;
	size_t at = 0;
	int n;

	buf[0] = 0;
	switch (o->kind) {
	case OPT_FLAG:
		snprintf(buf, len, "%s", *(const bool *)f ? "true" : "false");
		break;
	case OPT_COUNT:
		snprintf(buf, len, "%d", *(const int *)f);
		break;
	case OPT_ENUM:
		snprintf(buf, len, "%s", o->names[*(const int *)f]);
		break;
	case OPT_STRING:
		s = *(const char *const *)f;
		snprintf(buf, len, "%s", s ? s : "");
		break;
	case OPT_U64:
	case OPT_DURATION:
		snprintf(buf, len, "%" PRIu64, *(const uint64_t *)f);
		break;
	case OPT_LIST:
		n = *(const int *)cfield(cfg, o->count_off);
		for (int j = 0; j < n && at < len; j++)
			at += (size_t)snprintf(buf + at, len - at, "%s%s", j ? ", " : "",
					       ((const char *const *)f)[j]);
		break;
	}
	return buf;
}

const char *config_origin(const struct config *cf, int i, char *buf, size_t len)
{
	if (cf->given & (1ULL << i))
		snprintf(buf, len, "command line");
	else if (cf->from_file & (1ULL << i))
		snprintf(buf, len, "%s:%d", cf->path, cf->line[i]);
	else
		snprintf(buf, len, "default");
	return buf;
}
