// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* flowmaster run's options: one table for getopt, --help and the defaults. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "cli/cli.h"
#include "cli/run.h"
#include "lib/config.h"
#include "lib/hostport.h"
#include "lib/log.h"
#include "version.h" /* generated: FM_CONFIG_DEFAULT */

/* ~80k fallback records between two drains: 8 MiB */
#define RINGBUF_DEFAULT 8388608
#define RINGBUF_MAX (1U << 30)
#define DURATION_MAX_S (10 * 365 * 86400ULL)

/* --xdp-mode stores the index of its name: the names in enum order. */
static const char *const xdp_modes[] = { "auto", "native", "generic", NULL };
_Static_assert(FM_XDP_AUTO == 0 && FM_XDP_NATIVE == 1 && FM_XDP_GENERIC == 2,
	       "xdp_modes[] follows enum fm_xdp_mode");
_Static_assert(sizeof(enum fm_xdp_mode) == sizeof(int), "--xdp-mode stores an int");

/* --direction: index = FM_DIR_INGRESS, FM_DIR_EGRESS, RUN_DIR_BOTH. */
static const char *const directions[] = { "ingress", "egress", "both", NULL };
_Static_assert(FM_DIR_INGRESS == 0 && FM_DIR_EGRESS == 1 && RUN_DIR_BOTH == 2,
	       "directions[] follows enum fm_direction");
/* --tc-attach: the names in enum fm_tc_mode order. */
static const char *const tc_modes[] = { "auto", "tcx", "clsact", NULL };
_Static_assert(FM_TC_AUTO == 0 && FM_TC_TCX == 1 && FM_TC_CLSACT == 2,
	       "tc_modes[] follows enum fm_tc_mode");
_Static_assert(sizeof(enum fm_tc_mode) == sizeof(int), "--tc-attach stores an int");

static void run_init(void *cfg)
{
	sizing_defaults(&((struct run_cfg *)cfg)->machine);
}

static uint64_t def_max_flows(const void *cfg)
{
	return ((const struct run_cfg *)cfg)->machine.max_flows;
}

static uint64_t def_cache_size(const void *cfg)
{
	return ((const struct run_cfg *)cfg)->machine.cache_size;
}

static uint64_t def_memory_limit(const void *cfg)
{
	return ((const struct run_cfg *)cfg)->machine.memory_limit_mb;
}

/* --metrics-listen: an address to listen on, numeric. */
static int check_listen(const char *label, const char *value, const void *parsed)
{
	struct sockaddr_storage ss;
	socklen_t len;

	(void)parsed;
	if (!hostport_parse(value, "127.0.0.1", &ss, &len))
		return 0;
	fprintf(stderr,
		"flowmaster: %s: '%s' is not ADDR:PORT, [ADDR6]:PORT, :PORT or PORT (numeric "
		"address, port 1-65535)\n",
		label, value);
	return -EINVAL;
}

/* The kernel wants a power-of-two number of pages. */
static int check_ringbuf(const char *label, const char *value, const void *parsed)
{
	uint64_t v = *(const uint64_t *)parsed;
	long page = sysconf(_SC_PAGESIZE);

	if (!(v & (v - 1)) && v >= (uint64_t)page)
		return 0;
	fprintf(stderr, "flowmaster: %s: '%s' is not a power of two of at least %ld bytes\n", label,
		value, page);
	return -EINVAL;
}

static const struct opt run_table[] = {
	{ "interface", 'i', OPT_LIST, "IFACE", "interface to monitor (repeat, up to {max})",
	  OPT_AT(struct run_cfg, ifname), OPT_COUNT_AT(struct run_cfg, nr_ifaces),
	  .max = FM_MAX_IFACES },
	{ "db", 0, OPT_STRING, "PATH", "SQLite database; none: export only (with --ipfix)",
	  .def = FM_DEFAULT_DB, OPT_AT(struct run_cfg, db) },
	{ "duration", 0, OPT_DURATION, "SECONDS",
	  "stop after this long (30, 5m, 2h); 0: run until stopped by a signal", .def = "0",
	  OPT_AT(struct run_cfg, duration_s), .max = DURATION_MAX_S },
	{ "xdp-mode", 0, OPT_ENUM, "MODE", "auto (native, else generic), native or generic",
	  .def = "auto", OPT_AT(struct run_cfg, mode), .names = xdp_modes },
	{ "idle-timeout", 0, OPT_DURATION, "S", "export a flow idle this long", .def = "15",
	  OPT_AT(struct run_cfg, idle_s), .min = 1, .max = 86400 },
	{ "active-timeout", 0, OPT_DURATION, "S", "export a long flow every S, continuing it",
	  .def = "60", OPT_AT(struct run_cfg, active_s), .min = 1, .max = 7 * 86400 },
	{ "poll-interval", 0, OPT_U64, "MS", "drain the kernel maps this often", .def = "1000",
	  OPT_AT(struct run_cfg, poll_ms), .min = 10, .max = 60000 },
	{ "max-flows", 0, OPT_U64, "N", "flows per kernel generation map", .def_fn = def_max_flows,
	  .def_from = "memory", OPT_AT(struct run_cfg, max_flows), .min = 64, .max = 1U << 26 },
	{ "cache-size", 0, OPT_U64, "N", "device cache entries", .def_fn = def_cache_size,
	  .def_from = "memory", OPT_AT(struct run_cfg, cache_size), .min = 64, .max = 1U << 26 },
	{ "memory-limit", 0, OPT_U64, "MB",
	  "the daemon's memory budget in MiB: the flow table, the writer's queue and the device "
	  "cache are sized to fit it",
	  .def_fn = def_memory_limit, .def_from = "memory", OPT_AT(struct run_cfg, memory_limit_mb),
	  .min = 16, .max = 1U << 20 },
	{ "metrics-interval", 0, OPT_DURATION, "S", "write metrics and a status line this often",
	  .def = "10", OPT_AT(struct run_cfg, metrics_s), .min = 1, .max = 86400 },
	{ "index-addresses", 0, OPT_FLAG, NULL, "index flows by address (slower inserts)",
	  OPT_AT(struct run_cfg, index_addresses) },
	{ "pin-path", 0, OPT_STRING, "DIR", "where maps are pinned", .def = FM_DEFAULT_PIN_PATH,
	  OPT_AT(struct run_cfg, pin_path) },
	{ "log-file", 0, OPT_STRING, "PATH",
	  "log here instead of stderr; SIGHUP reopens it (logrotate)",
	  OPT_AT(struct run_cfg, log_file) },
	{ "ringbuf-size", 0, OPT_U64, "BYTES",
	  "advanced: ring buffer for packets the flow map had no room for; a power of two >= the "
	  "page size",
	  .def = OPT_STR(RINGBUF_DEFAULT), OPT_AT(struct run_cfg, ringbuf_bytes), .min = 4096,
	  .max = RINGBUF_MAX, .check = check_ringbuf },
	{ "direction", 0, OPT_ENUM, "DIR",
	  "count what arrives (ingress: XDP), what leaves (egress: TC) or both", .def = "both",
	  OPT_AT(struct run_cfg, direction), .names = directions },
	{ "tc-attach", 0, OPT_ENUM, "MODE",
	  "advanced: attach the egress program by tcx link (kernel 6.6+), clsact filter, or auto "
	  "(tcx, else clsact)",
	  .def = "auto", OPT_AT(struct run_cfg, tc_mode), .names = tc_modes },
	{ "ipfix", 0, OPT_LIST, "HOST:PORT",
	  "also export every flow record over IPFIX (UDP) to this collector; [IPV6]:PORT for IPv6 "
	  "(repeat, up to {max})",
	  OPT_AT(struct run_cfg, ipfix), OPT_COUNT_AT(struct run_cfg, nr_ipfix),
	  .max = RUN_IPFIX_MAX },
	{ "ipfix-domain", 0, OPT_U64, "N", "IPFIX observation domain id", .def = "0",
	  OPT_AT(struct run_cfg, ipfix_domain), .max = UINT32_MAX },
	{ "ipfix-mtu", 0, OPT_U64, "BYTES",
	  "largest IPFIX message (UDP payload); raise it only when the path MTU to every "
	  "collector allows",
	  .def = "512", OPT_AT(struct run_cfg, ipfix_msg_size), .min = 512, .max = 65000 },
	{ "ipfix-stats", 0, OPT_FLAG, NULL,
	  "with the templates, send exporter statistics (an options record); nfcapd then counts "
	  "a sequence failure for each, as it counts flow records only",
	  OPT_AT(struct run_cfg, ipfix_stats) },
	{ "ipfix-ifnames", 0, OPT_FLAG, NULL,
	  "with the templates, send each interface's name (interfaceName by ingressInterface, "
	  "options records); nfcapd counts a sequence failure for each",
	  OPT_AT(struct run_cfg, ipfix_ifnames) },
	{ "ipfix-refresh", 0, OPT_DURATION, "SECONDS",
	  "send the templates again at least this often (and every 100 messages), so that a "
	  "collector that restarts decodes again within it",
	  .def = "20", OPT_AT(struct run_cfg, ipfix_refresh_s), .min = 1, .max = 3600 },
	{ "ipfix-rate", 0, OPT_U64, "RECORDS",
	  "send at most this many flow records per second to each collector, queueing the rest "
	  "(what does not fit waits in the flow table), so a burst such as the flush at a stop "
	  "does not overrun the collector; 0: unlimited",
	  .def = "0", OPT_AT(struct run_cfg, ipfix_rate), .max = 100000000 },
	{ "retention", 0, OPT_DURATION, "DURATION",
	  "delete flows and metrics older than this (30m, 7d), in small chunks, keeping their "
	  "totals in the retired table; 0: keep everything",
	  .def = "0", OPT_AT(struct run_cfg, retention_s), .max = DURATION_MAX_S },
	{ "wait-interface", 0, OPT_FLAG, NULL,
	  "start even when an interface does not exist yet, and attach when it appears "
	  "(an interface deleted while running is always attached again when it comes back)",
	  OPT_AT(struct run_cfg, wait_iface) },
	{ "metrics-listen", 0, OPT_STRING, "ADDR:PORT",
	  "serve the metrics in the Prometheus text format at http://ADDR:PORT/metrics "
	  "(127.0.0.1 when only :PORT or PORT is given)",
	  OPT_AT(struct run_cfg, metrics_listen), .check = check_listen },
	{ "quiet", 'q', OPT_FLAG, NULL, "warnings and errors only (not with -v)",
	  OPT_AT(struct run_cfg, quiet) },
	{ "verbose", 'v', OPT_COUNT, NULL, "debug output; -vv adds libbpf's",
	  OPT_AT(struct run_cfg, verbose), .max = 2 },
	{ "config", 0, OPT_STRING, "FILE",
	  "read options from FILE, 'key = value' lines with the long option names as keys; the "
	  "command line wins; the default file is read only when it exists; none: no file",
	  .def = FM_CONFIG_DEFAULT, OPT_AT(struct run_cfg, config) },
	{ 0 },
};

/* What no single option can check; then the log level. */
static int run_finish(void *cfg)
{
	struct run_cfg *c = cfg;

	if (!c->nr_ifaces) {
		fprintf(stderr, "flowmaster: run: give at least one interface with -i IFACE\n");
		return -EINVAL;
	}
	if (!strcmp(c->db, "none") && !c->nr_ipfix) {
		fprintf(stderr,
			"flowmaster: run: --db none needs --ipfix HOST:PORT (the records must "
			"go somewhere)\n");
		return -EINVAL;
	}
	if (c->ipfix_rate && !c->nr_ipfix) {
		fprintf(stderr, "flowmaster: run: --ipfix-rate needs --ipfix HOST:PORT\n");
		return -EINVAL;
	}
	return fm_log_set_verbosity("run", c->quiet, c->verbose);
}

const struct opts_cmd run_opts = {
	.name = "run",
	.usage = "usage: flowmaster run -i IFACE [-i IFACE ...] [OPTIONS]",
	.about = "Attach the XDP flow counter to each IFACE and write flow records and\n"
		 "metrics to SQLite until SIGINT/SIGTERM or --duration.\n",
	.opts = run_table,
	.cfg_size = sizeof(struct run_cfg),
	.init = run_init,
	.finish = run_finish,
};

/* The config file read: its text backs the strings of the run_cfg. */
static struct config run_config;

int run_parse_args(int argc, char **argv, struct run_cfg *c)
{
	int ci = opts_find(&run_opts, "config"), r, err;
	uint64_t given;

	opts_defaults(&run_opts, c);
	r = opts_argv(&run_opts, argc, argv, c, &given);
	if (r != OPTS_RUN)
		return r;
	config_free(&run_config);
	memset(&run_config, 0, sizeof(run_config));
	run_config.given = given;
	if (strcmp(c->config, "none")) {
		err = config_load(&run_config, &run_opts, c, c->config, given);
		if (err == -ENOENT && (given & (1ULL << ci))) {
			fprintf(stderr, "flowmaster: --config %s: no such file\n", c->config);
			return 2;
		}
		if (err == -EINVAL)
			return 2;
		if (err && err != -ENOENT)
			return 1;
	}
	return opts_finish(&run_opts, c);
}

void run_log_config(const struct run_cfg *c)
{
	char value[1024], origin[512];
	int n = 0;

	for (int i = 0; run_opts.opts[i].name; i++)
		n += !!(run_config.from_file & (1ULL << i));
	if (run_config.path)
		pr_info("config %s: %d option%s set from it\n", run_config.path, n,
			n == 1 ? "" : "s");
	else
		pr_debug("config: no file read (%s)\n",
			 strcmp(c->config, "none") ? c->config : "--config none");
	for (int i = 0; run_opts.opts[i].name; i++)
		pr_debug("config: %s = %s (%s)\n", run_opts.opts[i].name,
			 config_value(&run_opts, c, i, value, sizeof(value)),
			 config_origin(&run_config, i, origin, sizeof(origin)));
}
