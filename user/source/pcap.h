/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The capture source of `flowmaster replay`: frames of a pcap or pcapng
 * file, read with libpcap, each run through the loaded XDP program with
 * BPF_PROG_TEST_RUN while the program's clock (FM_CLOCK_REPLAY) reads the
 * frame's capture time. int functions return 0 (or 1 for a frame) or a
 * negative errno, with the cause logged.
 */
#ifndef FM_SOURCE_PCAP_H
#define FM_SOURCE_PCAP_H

#include <stdbool.h>
#include <stdint.h>

struct loader;
struct pcap;

#define PCAP_SRC_IFINDEX 1 /* BPF_PROG_TEST_RUN's ingress device: lo */

struct pcap_src {
	struct pcap *p;
	const char *path;
	long long size;		   /* file bytes, for progress (0: unknown) */
	uint64_t frames;	   /* read */
	uint64_t snap_cut;	   /* captured shorter than on the wire (snaplen) */
	uint64_t run_errors;	   /* frames BPF_PROG_TEST_RUN refused */
	int64_t first_ns, last_ns; /* capture times of the first and last frame */
	double run_ns;		   /* time spent in BPF_PROG_TEST_RUN calls */
};

/* Open path (pcap or pcapng); refuses a link type other than Ethernet. */
int pcap_src_open(struct pcap_src *s, const char *path);
/*
 * The next frame: 1 with *data, *len (captured bytes) and *ts_ns (epoch
 * ns), 0 at the end, -EIO when the file is truncated or damaged (logged,
 * naming how many frames were read).
 */
int pcap_src_next(struct pcap_src *s, const uint8_t **data, uint32_t *len, int64_t *ts_ns);
/* Share of the file read so far, 0..1 (0 when unknown). */
double pcap_src_progress(const struct pcap_src *s);
/* Run one frame through l's XDP program at capture time ts_ns. */
int pcap_src_feed(struct pcap_src *s, struct loader *l, const uint8_t *data, uint32_t len,
		  int64_t ts_ns);
void pcap_src_close(struct pcap_src *s);

#endif
