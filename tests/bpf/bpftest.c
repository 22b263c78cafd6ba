// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "tests/testlib.h"
#include "lib/log.h"
#include "bpftest.h"
#include "frames.h"

int bpftest_open(struct loader *l, const struct loader_opts *o)
{
	int err;

	fm_log_setup_libbpf();
	err = loader_open(l, o);
	if (err)
		TL_FAIL("loader_open(max_flows %u, ringbuf %u): %s", o->max_flows, o->ringbuf_bytes,
			strerror(-err));
	return err;
}

static int test_run(struct loader *l, const uint8_t *data, size_t size, struct xdp_md *ctx)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = data, .data_size_in = size, .ctx_in = ctx,
		    .ctx_size_in = sizeof(*ctx), .repeat = 1);

	if (bpf_prog_test_run_opts(loader_prog_fd(l), &opts))
		return -errno;
	return opts.retval;
}

/*
 * BPF_PROG_TEST_RUN refuses less data than an Ethernet header. A shorter
 * frame is still passed as the program's whole linear data: newer kernels
 * (6.18 here) let ctx.data_end end the linear part early, the rest of the
 * 14 bytes going to a fragment the program does not read; older
 * kernels take 16 bytes of XDP metadata in front instead, which the
 * program does not see either (its data starts after them).
 */
int bpftest_run_frame(struct loader *l, const uint8_t *frame, size_t len)
{
	uint8_t data[META_LEN + FRAME_ETH_LEN] = { 0 };
	struct xdp_md ctx = { .data_end = len, .ingress_ifindex = LO_IFINDEX };
	int ret;

	if (len >= FRAME_ETH_LEN)
		return test_run(l, frame, len, &ctx);
	memcpy(data, frame, len);
	ret = test_run(l, data, FRAME_ETH_LEN, &ctx);
	if (ret != -EINVAL)
		return ret;
	memset(data, 0, META_LEN);
	memcpy(data + META_LEN, frame, len);
	ctx.data = META_LEN;
	ctx.data_end = META_LEN + len;
	return test_run(l, data, META_LEN + len, &ctx);
}

int bpftest_run_tc(struct loader *l, const uint8_t *frame, size_t len, uint32_t gso_segs,
		   uint32_t gso_size, int *verdict)
{
	struct __sk_buff skb = { .gso_segs = gso_segs, .gso_size = gso_size };
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame, .data_size_in = len, .ctx_in = &skb,
		    .ctx_size_in = sizeof(skb), .repeat = 1);

	if (bpf_prog_test_run_opts(loader_tc_prog_fd(l), &opts))
		return -errno;
	*verdict = (int)opts.retval;
	return 0;
}

bool bpftest_pass(struct loader *l, const uint8_t *frame, size_t len, const char *what)
{
	int ret = bpftest_run_frame(l, frame, len);

	if (ret < 0) {
		TL_FAIL("%s: BPF_PROG_TEST_RUN on %zu bytes: %s", what, len, strerror(-ret));
		return false;
	}
	if (ret != XDP_PASS_RET) {
		TL_FAIL("%s: verdict %d, expected XDP_PASS", what, ret);
		return false;
	}
	return true;
}

bool bpftest_send_udp(struct loader *l, uint16_t sport, size_t *len_out)
{
	struct frame_spec s = {
		.src_mac = FRAME_MAC_A,
		.dst_mac = FRAME_MAC_B,
		.eth_type = FRAME_ETH_IP,
		.src4 = FRAME_IP4(0, 1),
		.dst4 = FRAME_IP4(0, 2),
		.l4_proto = FRAME_IP_UDP,
		.sport = sport,
		.dport = 9,
	};
	uint8_t frame[FRAME_MAX_LEN];
	size_t len = frame_build(&s, frame, sizeof(frame));

	if (len_out)
		*len_out = len;
	return bpftest_pass(l, frame, len, "UDP frame");
}
