// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * flowmaster replay: count a capture (pcap or pcapng) as if live. Every
 * frame goes through the same XDP program (BPF_PROG_TEST_RUN) into the
 * same flow maps, flow table and sinks as `run`, with the capture's
 * timestamps as the program's clock and the flow table's: idle and active
 * timeouts expire on capture time. Only the wiring is here; the frames
 * come from source/pcap.c.
 *
 * --ipfix sends the records to collectors as they are made (as fast as
 * the replay goes; what the socket cannot take is counted as not sent and
 * makes the exit status 1); --db none stores nothing.
 *
 * Nothing else writes the program's maps meanwhile, so a cycle drains the
 * active generation in place (no swap, no RCU grace period to wait for).
 */
#include <errno.h>
#include <stddef.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "bpf/flowmaster.h"
#include "cli/cli.h"
#include "daemon/daemon.h"
#include "ipfix/encode.h"
#include "ipfix/export.h"
#include "kernel/drain.h"
#include "kernel/loader.h"
#include "lib/clock.h"
#include "lib/log.h"
#include "lib/opts.h"
#include "source/pcap.h"
#include "store/store.h"

#define REPLAY_CYCLE_FRAMES 32768 /* drain at least this often (frames)... */
#define REPLAY_CYCLE_MS 1000	  /* ...and every second of capture time */
#define REPLAY_RINGBUF (1U << 20)
#define REPLAY_WAIT_MS 30000 /* how long the end waits for a stuck writer */
#define REPLAY_IPFIX_MAX 4   /* --ipfix collectors */

struct replay_cfg {
	const char *file;
	const char *db;
	uint64_t idle_s, active_s, max_flows;
	const char *ipfix[REPLAY_IPFIX_MAX];
	int nr_ipfix;
	uint64_t ipfix_domain, ipfix_msg_size;
	bool quiet;
	int verbose;
};

static const struct opt replay_table[] = {
	{ "read", 'r', OPT_STRING, "FILE", "the capture to replay (pcap or pcapng, Ethernet)",
	  OPT_AT(struct replay_cfg, file) },
	{ "db", 0, OPT_STRING, "PATH", "SQLite database; none: export only (with --ipfix)",
	  .def = FM_DEFAULT_DB, OPT_AT(struct replay_cfg, db) },
	{ "ipfix", 0, OPT_LIST, "HOST:PORT",
	  "also export every flow record over IPFIX (UDP) to this collector, as fast as the "
	  "replay goes (repeat, up to {max})",
	  OPT_AT(struct replay_cfg, ipfix), OPT_COUNT_AT(struct replay_cfg, nr_ipfix),
	  .max = REPLAY_IPFIX_MAX },
	{ "ipfix-domain", 0, OPT_U64, "N", "IPFIX observation domain id", .def = "0",
	  OPT_AT(struct replay_cfg, ipfix_domain), .max = UINT32_MAX },
	{ "ipfix-mtu", 0, OPT_U64, "BYTES", "largest IPFIX message (UDP payload)", .def = "512",
	  OPT_AT(struct replay_cfg, ipfix_msg_size), .min = 512, .max = 65000 },
	{ "idle-timeout", 0, OPT_DURATION, "S", "export a flow idle this long (capture time)",
	  .def = "15", OPT_AT(struct replay_cfg, idle_s), .min = 1, .max = 86400 },
	{ "active-timeout", 0, OPT_DURATION, "S",
	  "export a long flow every S of capture time, continuing it", .def = "60",
	  OPT_AT(struct replay_cfg, active_s), .min = 1, .max = 7 * 86400 },
	{ "max-flows", 0, OPT_U64, "N", "flows per kernel generation map", .def = "131072",
	  OPT_AT(struct replay_cfg, max_flows), .min = 65536, .max = 1U << 24 },
	{ "quiet", 'q', OPT_FLAG, NULL, "warnings and errors only (no progress, no summary)",
	  OPT_AT(struct replay_cfg, quiet) },
	{ "verbose", 'v', OPT_COUNT, NULL, "debug output; -vv adds libbpf's",
	  OPT_AT(struct replay_cfg, verbose), .max = 2 },
	{ 0 },
};

static int replay_finish(void *cfg)
{
	struct replay_cfg *c = cfg;

	if (!c->file) {
		fprintf(stderr, "flowmaster: replay: give the capture with -r FILE\n");
		return -EINVAL;
	}
	if (!strcmp(c->db, "none") && !c->nr_ipfix) {
		fprintf(stderr,
			"flowmaster: replay: --db none stores nothing: give --ipfix HOST:PORT "
			"too\n");
		return -EINVAL;
	}
	return fm_log_set_verbosity("replay", c->quiet, c->verbose);
}

const struct opts_cmd replay_opts = {
	.name = "replay",
	.usage = "usage: flowmaster replay -r FILE [--db PATH] [OPTIONS]",
	.about = "Count the frames of a capture (pcap or pcapng, Ethernet) through the same\n"
		 "XDP program, flow table and database as 'run', on the capture's own\n"
		 "timestamps. Progress on stderr; a summary at the end.\n",
	.footer = "Exit status: 0 when the whole file was replayed, 1 if it could not be\n"
		  "read to its end (what was read is stored) or on another error, 2 for a\n"
		  "usage error.\n",
	.opts = replay_table,
	.cfg_size = sizeof(struct replay_cfg),
	.finish = replay_finish,
};

struct replay {
	struct replay_cfg *cfg;
	struct loader l;
	struct daemon dm;
	struct store *st;
	struct sink store_sink;
	struct pcap_src src;
	int64_t now_ms; /* capture time of the last frame */
	struct ipfix_exporter *ipfix[REPLAY_IPFIX_MAX];
	int nr_ipfix;
};

static int64_t capture_now(struct daemon *dm)
{
	return ((struct replay *)((char *)dm - offsetof(struct replay, dm)))->now_ms;
}

/* Hand what the sinks can take; wait while the store pushes back. */
static void deliver(struct replay *r, bool wait)
{
	int64_t until = mono_ms() + REPLAY_WAIT_MS;

	fanout_deliver(&r->dm.fan);
	while (wait && fanout_blocked(&r->dm.fan) && mono_ms() < until) {
		usleep(1000);
		fanout_deliver(&r->dm.fan);
	}
}

/* The kernel's counts into the table, expiry on capture time, to the sinks. */
static int cycle(struct replay *r)
{
	struct daemon *dm = &r->dm;
	long n = drain_generation(&dm->d, r->l.gen_fd[r->l.active]);

	if (n < 0)
		return (int)n;
	n = drain_ring(&dm->d);
	if (n < 0)
		return (int)n;
	n = drain_unattributed(&dm->d, r->now_ms, dm->d.emit, dm->d.emit_ctx);
	if (n < 0 && n != -EAGAIN)
		return (int)n;
	flowtab_expire(dm->ft, r->now_ms, &dm->to, dm->d.emit, dm->d.emit_ctx);
	/* The store is slower than the program: let it keep up. */
	deliver(r, true);
	return 0;
}

static void progress(struct replay *r, double t0)
{
	double secs = (clock_ms_f(CLOCK_MONOTONIC) - t0) / 1000;

	pr_info("replay: %" PRIu64 " frames (%.0f%%), %.0f frames/s\n", r->src.frames,
		100 * pcap_src_progress(&r->src), secs > 0 ? r->src.frames / secs : 0.0);
}

/* Every frame of the file; 0 at its end, -EIO when it breaks off. */
static int replay_frames(struct replay *r, const uint8_t *data, uint32_t len, int64_t ts)
{
	double t0 = clock_ms_f(CLOCK_MONOTONIC), next_progress = t0 + 2000;
	int64_t next_cycle_ms = ts / 1000000 + REPLAY_CYCLE_MS;
	uint64_t since_cycle = 0;
	int rc = 1, err;

	for (; rc == 1; rc = pcap_src_next(&r->src, &data, &len, &ts)) {
		/* Capture time only moves forward (a capture may hold a
		 * frame stamped earlier than the one before it). */
		if (ts / 1000000 > r->now_ms)
			r->now_ms = ts / 1000000;
		/* Cycle before counting the frame that moved time on, so a
		 * gap in the capture expires what went idle during it. */
		if (since_cycle >= REPLAY_CYCLE_FRAMES || r->now_ms >= next_cycle_ms) {
			err = cycle(r);
			if (err)
				return err;
			since_cycle = 0;
			next_cycle_ms = r->now_ms + REPLAY_CYCLE_MS;
			if (clock_ms_f(CLOCK_MONOTONIC) >= next_progress) {
				progress(r, t0);
				next_progress += 2000;
			}
		}
		pcap_src_feed(&r->src, &r->l, data, len, ts);
		since_cycle++;
	}
	return rc < 0 ? rc : 0;
}

/* The kernel's count of slot 1 against what reached the sinks. */
static int reconcile(struct replay *r, uint64_t *counted, uint64_t *unparseable)
{
	struct fm_counters c;
	uint64_t seen, exported;
	int err = loader_read_counters(&r->l, 1, &c);

	if (err || daemon_slot_totals(&r->dm, 1, &seen, &exported))
		return 1;
	*counted = c.packets;
	*unparseable = c.err_eth + c.err_vlan + c.err_ipv4 + c.err_ipv4_opts + c.err_ipv6 +
		       c.err_ipv6_ext + c.err_ext_chain + c.err_l4;
	if (seen == exported) {
		pr_debug("replay: kernel saw %" PRIu64 " packets, %" PRIu64 " exported\n", seen,
			 exported);
		return 0;
	}
	pr_err("replay: kernel saw %" PRIu64 " packets but %" PRIu64 " were exported\n", seen,
	       exported);
	return 1;
}

static int open_pipeline(struct replay *r, const char *name, int64_t first_ms)
{
	struct replay_cfg *c = r->cfg;
	struct loader_opts lo = {
		.max_flows = (__u32)c->max_flows,
		.ringbuf_bytes = REPLAY_RINGBUF,
		.clock = FM_CLOCK_REPLAY,
		.nr_ifaces = 1,
		.ifindex = { PCAP_SRC_IFINDEX },
	};
	struct daemon_opts dopts = {
		.to = { .idle_ms = c->idle_s * 1000,
			.active_ms = c->active_s * 1000,
			.tcp_linger_ms = FLOWTAB_TCP_LINGER_MS_DEFAULT },
	};
	struct store_opts so = { .path = c->db, .command = "replay", .args = c->file };
	int err;

	for (int i = 0; i < c->nr_ipfix; i++) {
		struct ipfix_export_opts xo = {
			.dest = c->ipfix[i],
			.domain = (uint32_t)c->ipfix_domain,
			.msg_size = c->ipfix_msg_size,
		};

		err = ipfix_export_open(&r->ipfix[r->nr_ipfix], &xo);
		if (err)
			return err;
		r->nr_ipfix++;
	}
	if (strcmp(c->db, "none")) {
		err = store_open(&r->st, &so);
		if (err)
			return err;
		store_sink_init(&r->store_sink, r->st);
	}
	err = loader_open(&r->l, &lo);
	if (err)
		return err;
	err = daemon_init(&r->dm, &r->l, &dopts);
	if (err)
		return err;
	r->dm.now_ms = capture_now;
	for (int i = 0; i < r->nr_ipfix; i++)
		daemon_add_sink(&r->dm, ipfix_export_sink(r->ipfix[i]));
	if (!r->st) {
		daemon_set_iface(&r->dm, 1, name, PCAP_SRC_IFINDEX, FM_IFS_ATTACHED, "replay");
		return 0;
	}
	daemon_add_sink(&r->dm, &r->store_sink);
	err = store_interface_attach(r->st, name, PCAP_SRC_IFINDEX, NULL, "replay", first_ms);
	err = err ?: store_start(r->st);
	if (!err)
		daemon_set_iface(&r->dm, 1, name, PCAP_SRC_IFINDEX, FM_IFS_ATTACHED, "replay");
	return err;
}

int cmd_replay(int argc, char **argv)
{
	struct replay_cfg cfg;
	struct replay r = { .cfg = &cfg };
	uint64_t counted = 0, unparseable = 0, unwritten = 0, undelivered;
	const uint8_t *data = NULL;
	char *path_copy = NULL;
	int64_t ts = 0;
	uint32_t len = 0;
	double t0, secs;
	int err, rc, ret = 1;

	err = opts_parse(&replay_opts, argc, argv, &cfg);
	if (err != OPTS_RUN)
		return err;
	if (pcap_src_open(&r.src, cfg.file))
		return 1;
	rc = pcap_src_next(&r.src, &data, &len, &ts);
	if (rc <= 0) {
		if (!rc)
			pr_err("%s: no frames\n", cfg.file);
		pcap_src_close(&r.src);
		return 1;
	}
	r.now_ms = ts / 1000000;
	path_copy = strdup(cfg.file);
	if (!path_copy)
		goto out;
	if (open_pipeline(&r, basename(path_copy), r.now_ms))
		goto out;
	t0 = clock_ms_f(CLOCK_MONOTONIC);
	err = replay_frames(&r, data, len, ts);
	secs = (clock_ms_f(CLOCK_MONOTONIC) - t0) / 1000;
	/* What was read is counted and stored, even after a broken file. */
	undelivered = daemon_finish(&r.dm, REPLAY_WAIT_MS);
	ret = err || undelivered ? 1 : 0;
	ret |= reconcile(&r, &counted, &unparseable);
	for (int i = 0; i < r.nr_ipfix; i++) {
		struct ipfix_export_stats xs;

		ipfix_export_get_stats(r.ipfix[i], &xs);
		pr_info("replay: ipfix %s: %" PRIu64 " records sent in %" PRIu64
			" messages, %" PRIu64 " not sent\n",
			cfg.ipfix[i], xs.records, xs.messages, xs.records_unsent);
		if (xs.records_unsent)
			ret = 1;
	}
	err = 0;
	if (r.st) {
		store_flush(r.st);
		err = store_close(r.st, &unwritten);
		r.st = NULL;
	}
	if (err || unwritten + undelivered) {
		pr_err("%" PRIu64 " flow records could not be written to %s\n",
		       unwritten + undelivered, cfg.db);
		ret = 1;
	}
	pr_info("replay: %s: %" PRIu64 " frames read, %" PRIu64 " counted, %" PRIu64
		" unparseable, %" PRIu64
		" flow records to %s; %.1f s of capture in %.2f s, %.0f frames/s (%.0f%% in BPF_PROG_TEST_RUN)\n",
		cfg.file, r.src.frames, counted, unparseable, r.dm.records_exported, cfg.db,
		(r.src.last_ns - r.src.first_ns) / 1e9, secs, secs > 0 ? r.src.frames / secs : 0.0,
		secs > 0 ? 100 * r.src.run_ns / 1e9 / secs : 0.0);
	if (r.src.snap_cut)
		pr_warn("replay: %" PRIu64
			" frames were captured shorter than sent (snaplen): their bytes count what was captured\n",
			r.src.snap_cut);
	if (r.src.run_errors)
		pr_warn("replay: BPF_PROG_TEST_RUN refused %" PRIu64 " frames\n", r.src.run_errors);
out:
	if (r.st)
		store_close(r.st, NULL);
	if (r.dm.ft)
		daemon_free(&r.dm);
	for (int i = 0; i < r.nr_ipfix; i++)
		ipfix_export_close(r.ipfix[i]);
	if (r.l.skel)
		loader_close(&r.l);
	pcap_src_close(&r.src);
	free(path_copy);
	return ret;
}
