// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * flowmaster detach: take flowmaster's XDP program and its egress program
 * (fm_tc: a tcx link, or the clsact filter at flowmaster's own priority
 * and handle, never another filter) off interfaces of this network
 * namespace and, with --all, remove a crashed daemon's pins.
 *
 * Only a program the kernel names fm_xdp is touched, and only that program:
 * a bpf_link is detached through the link (the netlink path refuses while a
 * link holds the interface); a program attached without a link (ip link
 * set ... xdp obj) is removed with XDP_FLAGS_REPLACE against its own fd, so
 * a program put there meanwhile by someone else stays. Pins are removed
 * only while no daemon holds the pin directory's lock, only on bpffs, and
 * only the maps run pins there, checked by name.
 */
#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/vfs.h>
#include <linux/if_link.h>
#include <linux/magic.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "cli/cli.h"
#include "lib/log.h"
#include "kernel/loader.h"
#include "kernel/attach.h"
#include "kernel/pins.h"
#include "kernel/tc.h"
#include "lib/opts.h"

#define DETACH_MAX_IFACES 64

struct detach_cfg {
	const char *ifname[DETACH_MAX_IFACES];
	int nr_ifaces;
	bool all;
	const char *pin_path;
};

static const struct opt detach_table[] = {
	{ "interface", 'i', OPT_LIST, "IFACE", "detach from IFACE (repeat for more)",
	  OPT_AT(struct detach_cfg, ifname), OPT_COUNT_AT(struct detach_cfg, nr_ifaces),
	  .max = DETACH_MAX_IFACES },
	{ "all", 0, OPT_FLAG, NULL,
	  "detach from every interface, and remove the pins a crashed daemon left in DIR (not "
	  "while a daemon holds DIR)",
	  OPT_AT(struct detach_cfg, all) },
	{ "pin-path", 0, OPT_STRING, "DIR", "pin directory for --all", .def = FM_DEFAULT_PIN_PATH,
	  OPT_AT(struct detach_cfg, pin_path) },
	{ 0 },
};

static int detach_finish(void *cfg)
{
	struct detach_cfg *c = cfg;

	if (c->all == !!c->nr_ifaces) {
		fprintf(stderr, "flowmaster: detach: give -i IFACE or --all (not both)\n");
		return -EINVAL;
	}
	return 0;
}

const struct opts_cmd detach_opts = {
	.name = "detach",
	.usage = "usage: flowmaster detach -i IFACE [-i IFACE ...]\n"
		 "       flowmaster detach --all [--pin-path DIR]",
	.about = "Remove flowmaster's XDP program (the one named " FM_XDP_PROG_NAME
		 ") from interfaces\n"
		 "of this network namespace, and say what was removed. Any other XDP\n"
		 "program is left alone. A daemon whose interface is detached keeps\n"
		 "running without it: stop daemons with SIGTERM for a clean exit.\n",
	.footer = "Exit status: 0 when done (also when there was nothing to remove), 1 if\n"
		  "something could not be removed, 2 for a usage error.\n",
	.opts = detach_table,
	.cfg_size = sizeof(struct detach_cfg),
	.finish = detach_finish,
};

/* The XDP link holding prog_id on ifindex: its fd (and *id), or -ENOENT. */
static int find_xdp_link(int ifindex, __u32 prog_id, __u32 *link_id)
{
	__u32 id = 0;

	while (!bpf_link_get_next_id(id, &id)) {
		struct bpf_link_info info = { 0 };
		__u32 len = sizeof(info);
		int fd = bpf_link_get_fd_by_id(id);

		if (fd < 0)
			continue; /* released meanwhile */
		/* Link ifindexes are per namespace; the prog id (global)
		 * ties the link to the program seen on our interface. */
		if (!bpf_obj_get_info_by_fd(fd, &info, &len) && info.type == BPF_LINK_TYPE_XDP &&
		    (int)info.xdp.ifindex == ifindex && info.prog_id == prog_id) {
			*link_id = id;
			return fd;
		}
		close(fd);
	}
	return -ENOENT;
}

/* Who holds a link open: the first process with an fd on it, or 0. */
static pid_t link_holder(__u32 link_id)
{
	DIR *proc = opendir("/proc"), *fds;
	struct dirent *p, *f;
	char path[600], line[128]; /* two d_names fit */
	pid_t pid = 0;

	if (!proc)
		return 0;
	while (!pid && (p = readdir(proc))) {
		if (p->d_name[0] < '1' || p->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/fdinfo", p->d_name);
		fds = opendir(path);
		if (!fds)
			continue;
		while (!pid && (f = readdir(fds))) {
			FILE *fi;
			unsigned int id;

			if (f->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "/proc/%s/fdinfo/%s", p->d_name, f->d_name);
			fi = fopen(path, "re");
			if (!fi)
				continue;
			while (fgets(line, sizeof(line), fi))
				if (sscanf(line, "link_id: %u", &id) == 1) {
					if (id == link_id)
						pid = atoi(p->d_name);
					break;
				}
			fclose(fi);
		}
		closedir(fds);
	}
	closedir(proc);
	return pid;
}

/* A process's command name ("?" if it is gone), newline stripped. */
static const char *comm_of(pid_t pid, char *buf, size_t len)
{
	char path[64];
	FILE *f;

	snprintf(buf, len, "?");
	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return buf;
	if (fgets(buf, len, f))
		buf[strcspn(buf, "\n")] = 0;
	fclose(f);
	return buf;
}

/* Take flowmaster's program a off its interface. Returns 0 or -errno. */
static int detach_prog(const struct xdp_att *a)
{
	const char *mode = xdp_mode_name(a->mode_flag);
	char comm[32];
	__u32 link_id;
	pid_t holder;
	int fd, err;

	fd = find_xdp_link(a->ifindex, a->prog_id, &link_id);
	if (fd >= 0) {
		holder = link_holder(link_id);
		err = bpf_link_detach(fd) ? -errno : 0;
		close(fd);
		if (err) {
			pr_err("%s: detaching bpf_link %u (%s, prog id %u): %s\n", a->ifname,
			       link_id, a->prog_name, a->prog_id, strerror(-err));
			return err;
		}
		printf("%s: detached %s (prog id %u, %s XDP, bpf_link id %u)\n", a->ifname,
		       a->prog_name, a->prog_id, mode, link_id);
		if (holder)
			printf("%s: the process holding the link (pid %d, %s) keeps running without %s\n",
			       a->ifname, (int)holder, comm_of(holder, comm, sizeof(comm)),
			       a->ifname);
		return 0;
	}

	/* No link: attached over netlink. REPLACE against this program's fd
	 * removes it and nothing attached in its place since we looked. */
	fd = bpf_prog_get_fd_by_id(a->prog_id);
	if (fd < 0) {
		printf("%s: %s (prog id %u) is already gone\n", a->ifname, a->prog_name,
		       a->prog_id);
		return 0;
	}
	LIBBPF_OPTS(bpf_xdp_attach_opts, o, .old_prog_fd = fd);
	err = bpf_xdp_detach(a->ifindex, a->mode_flag, &o);
	close(fd);
	if (err) {
		if (err == -EEXIST)
			pr_err("%s: the XDP program changed while detaching; nothing removed, run again\n",
			       a->ifname);
		else
			pr_err("%s: detaching %s (prog id %u, %s XDP): %s\n", a->ifname,
			       a->prog_name, a->prog_id, mode, strerror(-err));
		return err;
	}
	printf("%s: detached %s (prog id %u, %s XDP, attached without a link)\n", a->ifname,
	       a->prog_name, a->prog_id, mode);
	return 0;
}

/* Detach flowmaster from the n programs in a; report the others. Returns
 * the number removed, or a negative errno if any removal failed. */
static int detach_list(const struct xdp_att *a, int n, bool quiet_foreign)
{
	int removed = 0, err = 0;

	for (int i = 0; i < n; i++) {
		if (!xdp_is_flowmaster(&a[i])) {
			if (!quiet_foreign)
				printf("%s: XDP program '%s' (prog id %u, %s) is not flowmaster's; left alone\n",
				       a[i].ifname, a[i].prog_name, a[i].prog_id,
				       xdp_mode_name(a[i].mode_flag));
			continue;
		}
		if (detach_prog(&a[i]))
			err = -EIO;
		else
			removed++;
	}
	return err ? err : removed;
}

/* Naming an attached program takes CAP_SYS_ADMIN (bpf_prog_get_fd_by_id). */
static const char *perm_hint(int err)
{
	return err == -EPERM || err == -EACCES ? ": needs root" : "";
}

/* flowmaster's egress programs (tcx links, our clsact filter) on every
 * interface of this namespace; how many were removed, or -errno. */
static int detach_egress_all(void)
{
	struct if_nameindex *ifs = if_nameindex(), *i;
	int total = 0, err = 0;

	if (!ifs)
		return -errno;
	for (i = ifs; i->if_index; i++) {
		int n = tc_remove((int)i->if_index, true);

		if (n < 0 && n != -ENODEV)
			err = n;
		else if (n > 0)
			total += n;
	}
	if_freenameindex(ifs);
	return err ? err : total;
}

int cmd_detach(int argc, char **argv)
{
	struct detach_cfg c;
	struct xdp_att *all = NULL, a[3];
	int err, n, total = 0, ret = 0;

	err = opts_parse(&detach_opts, argc, argv, &c);
	if (err != OPTS_RUN)
		return err;
	if (c.all) {
		n = xdp_scan(&all);
		if (n < 0) {
			pr_err("querying XDP programs: %s%s\n", strerror(-n), perm_hint(n));
			return 1;
		}
		err = detach_list(all, n, true);
		free(all);
		if (err < 0)
			ret = 1;
		else
			total += err;
		err = detach_egress_all();
		if (err < 0)
			ret = 1;
		else
			total += err;
		if (!total && !ret)
			printf("no flowmaster XDP program attached in this network namespace\n");
		if (pins_remove_stale(c.pin_path))
			ret = 1;
		return ret;
	}
	for (int i = 0; i < c.nr_ifaces; i++) {
		int ifindex = if_nametoindex(c.ifname[i]);

		if (!ifindex) {
			pr_err("%s: no such interface\n", c.ifname[i]);
			ret = 1;
			continue;
		}
		n = xdp_list(ifindex, a);
		if (n < 0) {
			pr_err("%s: querying XDP: %s%s\n", c.ifname[i], strerror(-n), perm_hint(n));
			ret = 1;
			continue;
		}
		err = detach_list(a, n, false);
		n = tc_remove(ifindex, true);
		if (err < 0 || n < 0)
			ret = 1;
		else if (!err && !n)
			printf("%s: no flowmaster XDP program attached\n", c.ifname[i]);
	}
	return ret;
}
