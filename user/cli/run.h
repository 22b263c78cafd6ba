/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* flowmaster run: its configuration, from the options in run_opts.c. */
#ifndef FM_RUN_H
#define FM_RUN_H

#include <stdbool.h>
#include <stdint.h>
#include "bpf/flowmaster.h"
#include "daemon/sizing.h"
#include "kernel/loader.h"
#include "lib/opts.h"

struct run_cfg {
	const char *ifname[FM_MAX_IFACES];
	int nr_ifaces;
	const char *db;
	const char *pin_path;
	const char *log_file;	    /* NULL: stderr as given */
	const char *metrics_listen; /* --metrics-listen ADDR:PORT, NULL: none */
	uint64_t ringbuf_bytes;
	enum fm_xdp_mode mode;
	uint64_t duration_s, idle_s, active_s, poll_ms, max_flows, metrics_s;
	uint64_t cache_size, memory_limit_mb;
	uint64_t retention_s;  /* --retention, 0: keep everything */
	struct sizing machine; /* what the defaults came from */
	bool index_addresses;
	bool wait_iface; /* --wait-interface: start before an interface exists */
	bool quiet;	 /* -q: sets fm_log_level */
	int verbose;	 /* -v, -vv: sets fm_log_level */
};

extern const struct opts_cmd run_opts;

/*
 * Fill *c from the defaults and the command line (argv[0] = "run") and set
 * the log level. Returns OPTS_RUN, or the exit status to return now: 0
 * after --help, 2 after a usage error (message printed).
 */
int run_parse_args(int argc, char **argv, struct run_cfg *c);

#endif
