// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The capture source, program side: one frame through BPF_PROG_TEST_RUN; see pcap.h. */
#include <errno.h>
#include <string.h>
#include <time.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "bpf/flowmaster.h" /* the skeleton names its types */
#include "flowmaster.skel.h"
#include "kernel/loader.h"
#include "lib/clock.h"
#include "source/pcap.h"

#define ETH_HDR_LEN 14
#define XDP_META_LEN 16

static int test_run(int fd, const void *data, uint32_t size, struct xdp_md *ctx)
{
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = data, .data_size_in = size, .ctx_in = ctx,
		    .ctx_size_in = sizeof(*ctx), .repeat = 1);

	return bpf_prog_test_run_opts(fd, &o) ? -errno : 0;
}

int pcap_src_feed(struct pcap_src *s, struct loader *l, const uint8_t *data, uint32_t len,
		  int64_t ts_ns)
{
	struct xdp_md ctx = { .data_end = len, .ingress_ifindex = PCAP_SRC_IFINDEX };
	uint8_t small[XDP_META_LEN + ETH_HDR_LEN] = { 0 };
	int fd = loader_prog_fd(l), err;
	double t0 = clock_ns(CLOCK_MONOTONIC);

	/* The program's clock: a plain store into its mmaped .bss. */
	l->skel->bss->replay_now = (__u64)ts_ns;
	if (len >= ETH_HDR_LEN) {
		err = test_run(fd, data, len, &ctx);
	} else {
		/* Test runs want an Ethernet header's worth of data: the
		 * frame ends early through data_end (as in tests/bpf). */
		memcpy(small, data, len);
		err = test_run(fd, small, ETH_HDR_LEN, &ctx);
		if (err == -EINVAL) {
			memset(small, 0, sizeof(small));
			memcpy(small + XDP_META_LEN, data, len);
			ctx.data = XDP_META_LEN;
			ctx.data_end = XDP_META_LEN + len;
			err = test_run(fd, small, XDP_META_LEN + len, &ctx);
		}
	}
	s->run_ns += clock_ns(CLOCK_MONOTONIC) - t0;
	if (err)
		s->run_errors++;
	return err;
}
