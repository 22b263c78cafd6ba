// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * libFuzzer target: config files (lib/config.h) of arbitrary bytes on
 * flowmaster run's real option table. The parser must return 0 or -EINVAL
 * (a usage error) and nothing else; after 0 every option the file set
 * holds a value that option accepts again (its config_value read back
 * through opts_set), lists stay within their bounds, and options the
 * "command line" gave (byte 0: bit i of a mask over the first options) are
 * untouched.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli/run.h"
#include "lib/config.h"
#include "lib/opts.h"
#include "fuzz.h"

#define FUZZ_TEXT_MAX 4096

static struct run_cfg run_defaults;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	opts_defaults(&run_opts, &run_defaults);
	/* Every refused line is explained on stderr. */
	stderr = fopen("/dev/null", "w");
	return stderr ? 0 : -1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct run_cfg c = run_defaults, again;
	struct config cf;
	uint64_t given;
	char *text, value[4096];
	int err;

	if (size < 1 || size > FUZZ_TEXT_MAX)
		return 0;
	given = data[0];
	text = malloc(size);
	if (!text)
		return 0;
	memcpy(text, data + 1, size - 1);
	text[size - 1] = 0;
	err = config_parse(&cf, &run_opts, &c, "fuzz.conf", text, given);
	FUZZ_CHECK(err == 0 || err == -EINVAL, "config_parse: %d", err);
	if (err)
		return 0;
	FUZZ_CHECK(c.nr_ifaces >= 0 && c.nr_ifaces <= FM_MAX_IFACES, "%d interfaces", c.nr_ifaces);
	for (int i = 0; run_opts.opts[i].name; i++) {
		const struct opt *o = &run_opts.opts[i];

		if (given & (1ULL << i)) {
			FUZZ_CHECK(!(cf.from_file & (1ULL << i)), "--%s given, set from the file",
				   o->name);
			continue;
		}
		if (!(cf.from_file & (1ULL << i)) || o->kind == OPT_LIST)
			continue;
		config_value(&run_opts, &c, i, value, sizeof(value));
		again = run_defaults;
		FUZZ_CHECK(!opts_set(&run_opts, &again, o->name, value, "again"),
			   "%s = '%s' (from the file) not accepted again", o->name, value);
	}
	config_free(&cf);
	return 0;
}
