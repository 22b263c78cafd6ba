// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* flowmaster: subcommand dispatch. Exit 0 ok, 1 runtime error, 2 usage. */
#include <stdio.h>
#include <string.h>
#include "cli/cli.h"
#include "lib/log.h"

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *help;
} cmds[] = {
	{ "run", cmd_run, "attach to interfaces and write flows to SQLite" },
	{ "replay", cmd_replay, "count a capture (pcap, pcapng) into the database" },
	{ "collect", cmd_collect, "receive IPFIX and NetFlow into the database" },
	{ "top", cmd_top, "top talkers and flows from the database" },
	{ "status", cmd_status, "what is attached, live kernel counters, last metrics" },
	{ "detach", cmd_detach, "remove flowmaster's XDP programs and stale pins" },
	{ "web", cmd_web, "a read-only web view and JSON API of the database" },
	{ "version", cmd_version, "print versions of flowmaster, libbpf and the kernel" },
};

static void usage(FILE *f)
{
	fprintf(f, "usage: flowmaster COMMAND [OPTIONS]\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		fprintf(f, "  %-8s %s\n", cmds[i].name, cmds[i].help);
	fprintf(f, "\n'flowmaster COMMAND --help' describes each command.\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "--version"))
		return cmd_version(1, argv);
	fm_log_setup_libbpf();
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (!strcmp(argv[1], cmds[i].name))
			return cmds[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "flowmaster: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}
