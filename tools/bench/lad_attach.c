// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * lad_attach: attach one program of bpf/bench.bpf.c (xdp_empty,
 * xdp_min_percpu or a step of the ladder, xdp_lad_*) to an interface in
 * native XDP mode, its flow map as large as flowmaster's generation, for
 * tools/bench/insitu.sh to measure on the live link.
 *
 * Usage: lad_attach PROG IFNAME MAX_FLOWS [tc]
 * With tc, PROG (tc_min_percpu) goes on IFNAME's egress (clsact).
 * Prints "attached ID" (the program's id) once attached, then waits for
 * SIGINT or SIGTERM (also sent when its parent dies), detaches and exits
 * 0; 1 on an error, 2 on a usage error.
 */
#include <errno.h>
#include <net/if.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "bpf/flowmaster.h"
#include "bench.skel.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

int main(int argc, char **argv)
{
	struct bench_bpf *b = NULL;
	struct bpf_program *prog;
	struct bpf_prog_info info = {};
	__u32 info_len = sizeof(info);
	sigset_t block, none;
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook);
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, tc_opts, .handle = 1, .priority = 1);
	unsigned long max;
	int ifindex, fd, err;
	char *end;

	if (argc != 4 && !(argc == 5 && !strcmp(argv[4], "tc"))) {
		fprintf(stderr, "usage: lad_attach PROG IFNAME MAX_FLOWS [tc]\n");
		return 2;
	}
	ifindex = if_nametoindex(argv[2]);
	max = strtoul(argv[3], &end, 10);
	if (!ifindex || *end || !max || max > 1 << 24) {
		fprintf(stderr, "lad_attach: bad interface '%s' or size '%s'\n", argv[2], argv[3]);
		return 2;
	}
	sigemptyset(&none);
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigprocmask(SIG_BLOCK, &block, NULL); /* until sigsuspend: none is lost */
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	b = bench_bpf__open();
	if (!b) {
		fprintf(stderr, "lad_attach: opening the bench object: %s\n", strerror(errno));
		return 1;
	}
	/* Only the maps the program uses get the size (each is preallocated). */
	prog = bpf_object__find_program_by_name(b->obj, argv[1]);
	if (!prog) {
		fprintf(stderr, "lad_attach: no program '%s'\n", argv[1]);
		bench_bpf__destroy(b);
		return 2;
	}
	err = bpf_map__set_max_entries(b->maps.min_percpu_flows,
				       strstr(argv[1], "_min_percpu") ? max : 1);
	err = err ?: bpf_map__set_max_entries(b->maps.min_shared_flows, 1);
	err = err   ?:
		      bpf_map__set_max_entries(b->maps.lad_key_flows,
					       !strcmp(argv[1], "xdp_lad_key") ? max : 1);
	err = err   ?:
		      bpf_map__set_max_entries(b->maps.lad_flows,
					       !strncmp(argv[1], "xdp_lad_", 8) &&
							       strcmp(argv[1], "xdp_lad_key") ?
						       max :
						       1);
	err = err ?: bench_bpf__load(b);
	if (err) {
		fprintf(stderr, "lad_attach: loading: %s\n", strerror(-err));
		bench_bpf__destroy(b);
		return 1;
	}
	b->bss->lad_ifindex[0] = ifindex;
	fd = bpf_program__fd(prog);
	if (argc == 5) {
		hook.ifindex = ifindex;
		hook.attach_point = BPF_TC_EGRESS;
		err = bpf_tc_hook_create(&hook);
		if (err == -EEXIST)
			err = 0;
		tc_opts.prog_fd = fd;
		err = err ?: bpf_tc_attach(&hook, &tc_opts);
	} else {
		err = bpf_xdp_attach(ifindex, fd, XDP_FLAGS_DRV_MODE, NULL);
	}
	if (err || bpf_obj_get_info_by_fd(fd, &info, &info_len)) {
		fprintf(stderr, "lad_attach: attaching %s to %s: %s\n", argv[1], argv[2],
			strerror(err ? -err : errno));
		bench_bpf__destroy(b);
		return 1;
	}
	printf("attached %u\n", info.id);
	fflush(stdout);
	while (!stop)
		sigsuspend(&none);
	if (argc == 5) {
		tc_opts.prog_fd = tc_opts.prog_id = tc_opts.flags = 0;
		bpf_tc_detach(&hook, &tc_opts);
		hook.attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS;
		bpf_tc_hook_destroy(&hook);
	} else {
		bpf_xdp_detach(ifindex, XDP_FLAGS_DRV_MODE, NULL);
	}
	bench_bpf__destroy(b);
	return 0;
}
