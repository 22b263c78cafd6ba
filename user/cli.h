/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Subcommands; each returns the process exit status (0, 1 runtime, 2 usage). */
#ifndef FM_CLI_H
#define FM_CLI_H

int cmd_run(int argc, char **argv);

#endif
