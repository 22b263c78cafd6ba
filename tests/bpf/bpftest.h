/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Helpers of the BPF suites: load the program, run a frame through it with
 * BPF_PROG_TEST_RUN, send a UDP flow. Failures are reported with TL_FAIL.
 */
#ifndef FM_TESTS_BPFTEST_H
#define FM_TESTS_BPFTEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <unistd.h>
#include "kernel/loader.h"

#define LO_IFINDEX 1 /* what BPF_PROG_TEST_RUN reports as ingress */
#define XDP_PASS_RET 2
#define TC_NEXT_RET -1 /* TC_ACT_UNSPEC == TCX_NEXT */
#define META_LEN 16    /* XDP metadata in front of frames shorter than 14 */

#define NEED_ROOT()                                                                                \
	do {                                                                                       \
		if (geteuid() != 0)                                                                \
			SKIP("needs root (BPF)");                                                  \
	} while (0)

/* loader_open, with libbpf's messages routed and a failure reported. */
int bpftest_open(struct loader *l, const struct loader_opts *o);
/*
 * Run the program once on len bytes of frame; returns the XDP verdict or a
 * negative errno. ingress_ifindex is lo's.
 */
int bpftest_run_frame(struct loader *l, const uint8_t *frame, size_t len);
/*
 * Run the TC (egress) program once on an skb of lo holding the frame (at
 * least an Ethernet header), with gso_segs and gso_size as given; its
 * verdict (TC_NEXT_RET) in *verdict. Returns 0 or a negative errno.
 */
int bpftest_run_tc(struct loader *l, const uint8_t *frame, size_t len, uint32_t gso_segs,
		   uint32_t gso_size, int *verdict);
/* Run and require XDP_PASS; what names the frame in a failure message. */
bool bpftest_pass(struct loader *l, const uint8_t *frame, size_t len, const char *what);
/* One UDP/IPv4 frame 198.18.0.1:sport -> 198.18.0.2:9; its length in *len. */
bool bpftest_send_udp(struct loader *l, uint16_t sport, size_t *len);

#endif
