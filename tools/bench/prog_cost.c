// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * prog_cost: what BPF programs cost per run on a live system, as the
 * kernel measures them (run_time_ns / run_cnt). BPF_PROG_TEST_RUN times a
 * program on one frame over and over, its maps and code hot in the caches;
 * on a link the network stack runs between two packets and evicts them,
 * and that difference is what a packets/s ratio against an empty program
 * sees. The statistics are switched on with BPF_ENABLE_STATS, not the
 * global kernel.bpf_stats_enabled sysctl: they stay on only while this
 * process holds the returned fd and go off when it exits, however it exits.
 *
 * Usage: prog_cost NAME...
 * Prints "ready" once the statistics are on, waits for SIGINT or SIGTERM,
 * then prints for each loaded program named NAME one line
 * "NAME ID RUNS NS_PER_RUN" over the time in between. Exit 0, 1 on an
 * error, 2 on a usage error.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>

#define MAX_PROGS 64

struct sample {
	__u32 id;
	char name[BPF_OBJ_NAME_LEN];
	__u64 run_time_ns, run_cnt;
};

/* Every loaded program named one of names[]; returns how many, or -errno. */
static int snapshot(char **names, int nnames, struct sample *out)
{
	__u32 id = 0;
	int n = 0;

	while (n < MAX_PROGS && !bpf_prog_get_next_id(id, &id)) {
		struct bpf_prog_info info;
		__u32 len = sizeof(info);
		int fd = bpf_prog_get_fd_by_id(id), err;

		if (fd < 0)
			continue; /* unloaded meanwhile */
		memset(&info, 0, sizeof(info));
		err = bpf_obj_get_info_by_fd(fd, &info, &len);
		close(fd);
		if (err)
			return -errno;
		for (int i = 0; i < nnames; i++) {
			if (strcmp(info.name, names[i]))
				continue;
			out[n].id = id;
			snprintf(out[n].name, sizeof(out[n].name), "%s", info.name);
			out[n].run_time_ns = info.run_time_ns;
			out[n].run_cnt = info.run_cnt;
			n++;
			break;
		}
	}
	return n;
}

int main(int argc, char **argv)
{
	static struct sample before[MAX_PROGS], after[MAX_PROGS];
	int nb, na, stats_fd, sig;
	sigset_t set;

	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		fprintf(argc < 2 ? stderr : stdout, "usage: prog_cost NAME...\n");
		return argc < 2 ? 2 : 0;
	}
	/* Blocked before anything else, so a signal sent as soon as "ready"
	 * is read cannot kill us before sigwait. */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigprocmask(SIG_BLOCK, &set, NULL);

	stats_fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
	if (stats_fd < 0) {
		fprintf(stderr, "prog_cost: BPF_ENABLE_STATS: %s (needs root and kernel 5.8+)\n",
			strerror(errno));
		return 1;
	}
	nb = snapshot(argv + 1, argc - 1, before);
	if (nb < 0)
		goto fail;
	printf("ready\n");
	fflush(stdout);
	sigwait(&set, &sig);
	na = snapshot(argv + 1, argc - 1, after);
	if (na < 0)
		goto fail;
	for (int i = 0; i < na; i++) {
		__u64 t = after[i].run_time_ns, c = after[i].run_cnt;

		/* A program loaded after the start counts from zero. */
		for (int j = 0; j < nb; j++)
			if (before[j].id == after[i].id) {
				t -= before[j].run_time_ns;
				c -= before[j].run_cnt;
			}
		printf("%s %u %llu %.1f\n", after[i].name, after[i].id, (unsigned long long)c,
		       c ? (double)t / c : 0.0);
	}
	close(stats_fd);
	return 0;
fail:
	fprintf(stderr, "prog_cost: reading program info: %s\n", strerror(errno));
	close(stats_fd);
	return 1;
}
