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

#define RUN_DIR_BOTH 2 /* --direction both: FM_DIR_INGRESS and FM_DIR_EGRESS */
#define RUN_INGRESS(c) ((c)->direction != FM_DIR_EGRESS)
#define RUN_EGRESS(c) ((c)->direction != FM_DIR_INGRESS)
#define RUN_IPFIX_MAX 4 /* --ipfix collectors: sinks beside the store */

struct run_cfg {
	const char *ifname[FM_MAX_IFACES];
	int nr_ifaces;
	const char *db;
	const char *pin_path;
	const char *log_file;	    /* NULL: stderr as given */
	const char *config;	    /* --config FILE, "none": no file */
	const char *metrics_listen; /* --metrics-listen ADDR:PORT, NULL: none */
	uint64_t ringbuf_bytes;
	enum fm_xdp_mode mode;
	int direction;		 /* FM_DIR_INGRESS, FM_DIR_EGRESS or RUN_DIR_BOTH */
	enum fm_tc_mode tc_mode; /* how the egress program attaches */
	uint64_t duration_s, idle_s, active_s, poll_ms, max_flows, metrics_s;
	uint64_t cache_size, memory_limit_mb;
	uint64_t retention_s;  /* --retention, 0: keep everything */
	struct sizing machine; /* what the defaults came from */
	bool index_addresses;
	/* IPFIX export (user/ipfix/, wired in run_ipfix.c) */
	const char *ipfix[RUN_IPFIX_MAX];
	int nr_ipfix;
	uint64_t ipfix_domain, ipfix_msg_size;
	bool ipfix_stats;
	bool ipfix_ifnames;
	uint64_t ipfix_refresh_s;
	uint64_t ipfix_rate;
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
/* The effective configuration, one debug line per option with where its
 * value came from (command line, FILE:LINE, default); which file was read. */
void run_log_config(const struct run_cfg *c);

/* Open an exporter per --ipfix: 0, -EINVAL for a bad HOST:PORT (a usage
 * error, message printed) or another -errno (logged). run_ipfix_add makes
 * them the daemon's sinks; run_ipfix_close closes them (also after a
 * failure). */
struct daemon;
struct store;
int run_ipfix_open(const struct run_cfg *c);
int run_ipfix_add(struct daemon *dm);
/* Queue the exporters' metrics (ipfix_*) in st (NULL: none) and log a line
 * for any that could not send. */
void run_ipfix_metrics(struct store *st, int64_t now_ms);
/* At a stop: each exporter's totals in the log; then close them. */
void run_ipfix_close(void);

#endif
