// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * egress_replay: two figures of issue 12.
 *
 * 1. The egress (TC) program's cost per packet beside the ingress (XDP)
 *    program's, as the kernel times them (BPF_PROG_TEST_RUN duration over a
 *    large repeat, medians of alternating runs), on the same frames: a hot
 *    64-byte UDP flow, a 1514-byte TCP frame, and a GSO skb of 4 segments
 *    (egress only: the skb program reads gso_segs and the header length).
 * 2. `flowmaster replay` on a capture of 1,000 UDP flows: frames/s end to
 *    end (the summary line), and what one BPF_PROG_TEST_RUN call costs
 *    here against the program inside it (repeat 1 in a loop against one
 *    call with a large repeat), which bounds the rate.
 *
 * The capture is written by hand in the classic pcap format (24-byte file
 * header, 16-byte record headers): a generator, nothing reads it here but
 * libpcap in flowmaster.
 *
 * Usage: egress_replay [--quick] [--markdown=FILE] [--flowmaster PATH]
 * Needs root. Exit 0, 1 on a runtime error, 2 on a usage error.
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "kernel/loader.h"
#include "lib/log.h"
#include "tests/bpf/frames.h"

#define RUNS 5
#define TARGET_RATIO 1.2
#define TARGET_FPS 200000.0

static bool quick;

static double median(double *v, int n)
{
	for (int i = 1; i < n; i++)
		for (int j = i; j > 0 && v[j] < v[j - 1]; j--) {
			double t = v[j];

			v[j] = v[j - 1];
			v[j - 1] = t;
		}
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

/* ns per run of prog on frame, as the kernel times a run of repeat. */
static int run_ns(int fd, bool skb, const uint8_t *frame, size_t len, uint32_t segs,
		  uint32_t repeat, double *ns)
{
	struct __sk_buff s = { .gso_segs = segs, .gso_size = segs > 1 ? 1448 : 0 };
	struct xdp_md x = { .data_end = len, .ingress_ifindex = 1 };
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frame, .data_size_in = len, .repeat = repeat);

	o.ctx_in = skb ? (void *)&s : (void *)&x;
	o.ctx_size_in = skb ? sizeof(s) : sizeof(x);
	if (bpf_prog_test_run_opts(fd, &o))
		return -errno;
	*ns = o.duration; /* the kernel's mean ns per repeat */
	return 0;
}

struct cost_row {
	const char *name;
	double in, out, ratio;
};

static int cost(struct loader *l, const char *name, const struct frame_spec *spec, uint32_t segs,
		struct cost_row *row)
{
	uint8_t frame[FRAME_MAX_LEN];
	size_t len = frame_build(spec, frame, sizeof(frame));
	uint32_t repeat = quick ? 100000 : 2000000;
	double in[RUNS], out[RUNS], ratio[RUNS];
	int err = 0;

	if (!len)
		return -EINVAL;
	for (int r = 0; r < RUNS && !err; r++) {
		err = run_ns(loader_prog_fd(l), false, frame, len, 1, repeat, &in[r]);
		err = err ?: run_ns(loader_tc_prog_fd(l), true, frame, len, segs, repeat, &out[r]);
		ratio[r] = in[r] > 0 ? out[r] / in[r] : 0;
	}
	if (err)
		return err;
	row->name = name;
	row->in = median(in, RUNS);
	row->out = median(out, RUNS);
	row->ratio = median(ratio, RUNS);
	return 0;
}

/* ns per BPF_PROG_TEST_RUN call with repeat 1 (the syscall and its setup). */
static int call_ns(struct loader *l, const uint8_t *frame, size_t len, uint32_t calls, double *ns)
{
	double t0 = now_s();

	for (uint32_t i = 0; i < calls; i++) {
		double d;
		int err = run_ns(loader_prog_fd(l), false, frame, len, 1, 1, &d);

		if (err)
			return err;
	}
	*ns = (now_s() - t0) * 1e9 / calls;
	return 0;
}

static void put32(FILE *f, uint32_t v)
{
	fwrite(&v, 4, 1, f);
}

/* A classic pcap (microseconds) of n frames over `flows` UDP flows, 10 us apart. */
static int write_capture(const char *path, uint32_t n, uint32_t flows)
{
	struct frame_spec s = {
		.src_mac = FRAME_MAC_A,
		.dst_mac = FRAME_MAC_B,
		.eth_type = FRAME_ETH_IP,
		.src4 = FRAME_IP4(0, 1),
		.dst4 = FRAME_IP4(0, 2),
		.l4_proto = FRAME_IP_UDP,
		.dport = 9,
		.payload_len = 18,
	};
	uint8_t frame[FRAME_MAX_LEN];
	FILE *f = fopen(path, "w");
	uint64_t t_us = 1796000000ULL * 1000000;

	if (!f)
		return -errno;
	put32(f, 0xa1b2c3d4); /* magic, microseconds */
	put32(f, 0x00040002); /* version 2.4 (minor, major as two 16-bit words) */
	put32(f, 0);	      /* thiszone */
	put32(f, 0);	      /* sigfigs */
	put32(f, 65535);      /* snaplen */
	put32(f, 1);	      /* LINKTYPE_ETHERNET */
	for (uint32_t i = 0; i < n; i++) {
		size_t len;

		s.sport = (uint16_t)(10000 + i % flows);
		len = frame_build(&s, frame, sizeof(frame));
		put32(f, (uint32_t)(t_us / 1000000));
		put32(f, (uint32_t)(t_us % 1000000));
		put32(f, (uint32_t)len);
		put32(f, (uint32_t)len);
		fwrite(frame, 1, len, f);
		t_us += 10;
	}
	return fclose(f) ? -errno : 0;
}

/* Run flowmaster replay on path; its frames/s and test-run share from the summary. */
static int replay(const char *fm, const char *path, const char *db, double *fps, double *share,
		  double *wall)
{
	char cmd[1024], line[1024];
	double t0 = now_s();
	bool found = false;
	FILE *p;

	snprintf(cmd, sizeof(cmd), "%s replay -r %s --db %s 2>&1", fm, path, db);
	p = popen(cmd, "r");
	if (!p)
		return -errno;
	while (fgets(line, sizeof(line), p)) {
		char *s = strstr(line, " frames/s (");

		if (!s || !strstr(line, "frames read"))
			continue;
		while (s > line && s[-1] != ' ')
			s--;
		found = sscanf(s, "%lf frames/s (%lf%%", fps, share) == 2;
	}
	*wall = now_s() - t0;
	if (pclose(p) || !found) {
		fprintf(stderr, "egress_replay: '%s' failed or printed no summary\n", cmd);
		return -EIO;
	}
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: egress_replay [--quick] [--markdown=FILE] [--flowmaster PATH]\n");
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "quick", no_argument, NULL, 'q' },
		{ "markdown", required_argument, NULL, 'm' },
		{ "flowmaster", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *md = NULL, *fm = "build/flowmaster";
	struct loader_opts o = { .max_flows = 65536, .ringbuf_bytes = 1 << 20 };
	struct frame_spec udp = { .src_mac = FRAME_MAC_A,
				  .dst_mac = FRAME_MAC_B,
				  .eth_type = FRAME_ETH_IP,
				  .src4 = FRAME_IP4(0, 1),
				  .dst4 = FRAME_IP4(0, 2),
				  .l4_proto = FRAME_IP_UDP,
				  .sport = 1000,
				  .dport = 9,
				  .payload_len = 18 };
	struct frame_spec tcp = udp;
	struct cost_row rows[3];
	char dir[] = "/tmp/fm-bench-replay.XXXXXX", cap[64], db[64];
	uint32_t frames = quick ? 100000 : 1000000, calls;
	double fps = 0, share = 0, wall = 0, call = 0, worst = 0;
	uint8_t frame[FRAME_MAX_LEN];
	size_t len;
	struct loader l;
	int c, err;
	FILE *out;

	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'q':
			quick = true;
			break;
		case 'm':
			md = optarg;
			break;
		case 'f':
			fm = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	frames = quick ? 100000 : 1000000;
	calls = quick ? 50000 : 500000;
	fm_log_setup_libbpf();
	if (loader_open(&l, &o))
		return 1;
	tcp.l4_proto = FRAME_IP_TCP;
	tcp.tcp_flags = FRAME_TCP_ACK;
	tcp.payload_len = 1460;
	err = cost(&l, "hot UDP flow, 64-byte frame", &udp, 1, &rows[0]);
	err = err ?: cost(&l, "hot TCP flow, 1514-byte frame", &tcp, 1, &rows[1]);
	tcp.payload_len = 1900; /* frames.h builds up to 2 KiB: a small super-packet */
	err = err   ?:
		      cost(&l, "TCP GSO skb of 4 segments, per skb (ingress: as one frame)", &tcp,
			   4, &rows[2]);
	len = frame_build(&udp, frame, sizeof(frame));
	err = err ?: call_ns(&l, frame, len, calls, &call);
	loader_close(&l);
	if (err) {
		fprintf(stderr, "egress_replay: BPF_PROG_TEST_RUN: %s\n", strerror(-err));
		return 1;
	}
	for (int i = 0; i < 2; i++)
		if (rows[i].ratio > worst)
			worst = rows[i].ratio;

	if (!mkdtemp(dir))
		return 1;
	snprintf(cap, sizeof(cap), "%s/1k-flows.pcap", dir);
	snprintf(db, sizeof(db), "%s/replay.db", dir);
	err = write_capture(cap, frames, 1000);
	err = err ?: replay(fm, cap, db, &fps, &share, &wall);
	unlink(cap);
	snprintf(cap, sizeof(cap), "%s/replay.db-wal", dir);
	unlink(cap);
	snprintf(cap, sizeof(cap), "%s/replay.db-shm", dir);
	unlink(cap);
	unlink(db);
	rmdir(dir);
	if (err)
		return 1;

	out = md ? fopen(md, "w") : NULL;
	for (int pass = 0; pass < (out ? 2 : 1); pass++) {
		FILE *f = pass ? out : stdout;

		fprintf(f, "### Egress and replay\n\n");
		fprintf(f,
			"Ingress (XDP, fm_xdp) and egress (TC, fm_tc) on the same frames, "
			"BPF_PROG_TEST_RUN, kernel-timed mean ns per run, median of %d "
			"alternating runs%s.\n\n",
			RUNS, quick ? " (--quick)" : "");
		fprintf(f, "| frame | ingress ns | egress ns | egress / ingress |\n");
		fprintf(f, "| --- | ---: | ---: | ---: |\n");
		for (int i = 0; i < 3; i++)
			fprintf(f, "| %s | %.1f | %.1f | %.2fx |\n", rows[i].name, rows[i].in,
				rows[i].out, rows[i].ratio);
		fprintf(f, "\n**Target**: egress <= %.1fx ingress per packet: worst %.2fx: %s\n",
			TARGET_RATIO, worst, worst <= TARGET_RATIO ? "**PASS**" : "**MISS**");
		fprintf(f,
			"\n`flowmaster replay` of %u frames over 1,000 UDP flows: %.0f frames/s "
			"(%.2f s wall including load and store), %.0f%% of its replay loop in "
			"BPF_PROG_TEST_RUN calls. One call with repeat 1 costs %.0f ns here, the "
			"program inside it %.0f ns: the syscall and its per-call setup (context "
			"copy, skb/xdp_buff, timing) bound the rate at about %.0f frames/s.\n",
			frames, fps, wall, share, call, rows[0].in, 1e9 / call);
		fprintf(f, "\n**Target**: replay >= %.0fk frames/s: %.0fk: %s\n", TARGET_FPS / 1000,
			fps / 1000, fps >= TARGET_FPS ? "**PASS**" : "**MISS**");
	}
	if (out)
		fclose(out);
	return 0;
}
