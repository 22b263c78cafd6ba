/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Subcommands; each returns the process exit status (0, 1 runtime, 2 usage). */
#ifndef FM_CLI_H
#define FM_CLI_H

#define FM_DEFAULT_PIN_PATH "/sys/fs/bpf/flowmaster"
#define FM_DEFAULT_DB "flowmaster.db"

struct opts_cmd;
/* Each command's options (lib/opts.h); run's are in cli/run.h. */
extern const struct opts_cmd top_opts, status_opts, detach_opts, version_opts;
extern const struct opts_cmd replay_opts;
extern const struct opts_cmd collect_opts;
extern const struct opts_cmd web_opts;

int cmd_run(int argc, char **argv);
int cmd_top(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_detach(int argc, char **argv);
int cmd_version(int argc, char **argv);
int cmd_replay(int argc, char **argv);
int cmd_collect(int argc, char **argv);
int cmd_web(int argc, char **argv);

#endif
