// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* flowmaster version: the versions of flowmaster, libbpf and the kernel. */
#include <stdio.h>
#include <sys/utsname.h>
#include <bpf/libbpf.h>
#include "cli/cli.h"
#include "lib/opts.h"
#include "version.h" /* generated: FM_VERSION */

struct version_cfg {
	char unused; /* no options but --help */
};

static const struct opt version_table[] = {
	{ 0 },
};

const struct opts_cmd version_opts = {
	.name = "version",
	.usage = "usage: flowmaster version",
	.about = "Print the versions of flowmaster, libbpf and the running kernel.\n",
	.opts = version_table,
	.cfg_size = sizeof(struct version_cfg),
};

int cmd_version(int argc, char **argv)
{
	struct version_cfg c;
	struct utsname u;
	int err;

	err = opts_parse(&version_opts, argc, argv, &c);
	if (err != OPTS_RUN)
		return err;
	uname(&u);
	printf("flowmaster %s\nlibbpf %s\nkernel %s %s\n", FM_VERSION, libbpf_version_string(),
	       u.release, u.machine);
	return 0;
}
