// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The egress hook: tcx link, else clsact filter; see tc.h. */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "kernel/loader.h"
#include "kernel/tc.h"
#include "lib/log.h"

/* libbpf 1.1's and Debian 12's UAPI headers predate tcx (Linux 6.6). */
#define FM_BPF_TCX_EGRESS 47	/* enum bpf_attach_type */
#define FM_BPF_LINK_TYPE_TCX 11 /* enum bpf_link_type */
#define TCX_MAX_PROGS 64

const char *fm_tc_mode_str(enum fm_tc_mode m)
{
	switch (m) {
	case FM_TC_TCX:
		return "tcx";
	case FM_TC_CLSACT:
		return "clsact";
	default:
		return "auto";
	}
}

static int prog_info(__u32 id, char *name, size_t len)
{
	struct bpf_prog_info info = { 0 };
	__u32 ilen = sizeof(info);
	int fd = bpf_prog_get_fd_by_id(id), err = 0;

	if (fd < 0)
		return -errno;
	if (bpf_obj_get_info_by_fd(fd, &info, &ilen))
		err = -errno;
	else
		snprintf(name, len, "%s", info.name);
	close(fd);
	return err;
}

static __u32 prog_id_of(int prog_fd)
{
	struct bpf_prog_info info = { 0 };
	__u32 len = sizeof(info);

	return bpf_obj_get_info_by_fd(prog_fd, &info, &len) ? 0 : info.id;
}

static int attach_tcx(int prog_fd, int ifindex)
{
	/* tcx takes relative_fd/expected_revision in link_create.tcx, which
	 * sit where libbpf 1.1 puts nothing for this attach type: zero. */
	int fd = bpf_link_create(prog_fd, ifindex, FM_BPF_TCX_EGRESS, NULL);

	return fd < 0 ? -errno : fd;
}

static void egress_hook(struct bpf_tc_hook *h, int ifindex)
{
	memset(h, 0, sizeof(*h));
	h->sz = sizeof(*h);
	h->ifindex = ifindex;
	h->attach_point = BPF_TC_EGRESS;
}

/* The program id in our clsact slot (priority/handle), 0 if none. */
static __u32 clsact_ours(int ifindex)
{
	struct bpf_tc_hook h;
	LIBBPF_OPTS(bpf_tc_opts, q, .handle = FM_TC_HANDLE, .priority = FM_TC_PRIO);

	egress_hook(&h, ifindex);
	return bpf_tc_query(&h, &q) ? 0 : q.prog_id;
}

/* Delete the filter in our slot if it still holds prog_id (0: any fm_tc). */
static int clsact_delete(int ifindex, __u32 prog_id)
{
	struct bpf_tc_hook h;
	LIBBPF_OPTS(bpf_tc_opts, d, .handle = FM_TC_HANDLE, .priority = FM_TC_PRIO);
	char name[16] = "";
	__u32 id = clsact_ours(ifindex);

	if (!id)
		return -ENOENT;
	if (prog_id ? id != prog_id :
		      prog_info(id, name, sizeof(name)) || strcmp(name, FM_TC_PROG_NAME))
		return -EEXIST; /* someone else's program at our priority: leave it */
	egress_hook(&h, ifindex);
	return bpf_tc_detach(&h, &d);
}

static int attach_clsact(int prog_fd, int ifindex, const char *name)
{
	struct bpf_tc_hook h;
	LIBBPF_OPTS(bpf_tc_opts, o, .handle = FM_TC_HANDLE, .priority = FM_TC_PRIO,
		    .prog_fd = prog_fd);
	int err;

	egress_hook(&h, ifindex);
	err = bpf_tc_hook_create(&h);
	if (err && err != -EEXIST)
		return err;
	/* A crashed daemon's filter in our slot: remove it (only if fm_tc). */
	err = clsact_delete(ifindex, 0);
	if (!err)
		pr_info("%s: removed a stale flowmaster egress filter (clsact prio %#x) left by an earlier run\n",
			name, FM_TC_PRIO);
	else if (err == -EEXIST)
		pr_err("%s: clsact egress priority %#x handle %#x holds a program that is not flowmaster's\n",
		       name, FM_TC_PRIO, FM_TC_HANDLE);
	return bpf_tc_attach(&h, &o);
}

int tc_attach(int prog_fd, int ifindex, enum fm_tc_mode mode, struct tc_att *out)
{
	char name[IF_NAMESIZE] = "?";
	int fd = -EOPNOTSUPP, err;

	if_indextoname(ifindex, name);
	memset(out, 0, sizeof(*out));
	out->ifindex = ifindex;
	out->link_fd = -1;
	if (mode != FM_TC_CLSACT) {
		fd = attach_tcx(prog_fd, ifindex);
		if (fd >= 0) {
			/* A clsact filter of a crashed older run would count twice. */
			if (!clsact_delete(ifindex, 0))
				pr_info("%s: removed a stale flowmaster egress filter (clsact prio %#x) left by an earlier run\n",
					name, FM_TC_PRIO);
			out->link_fd = fd;
			out->mode = FM_TC_TCX;
			out->prog_id = prog_id_of(prog_fd);
			return 0;
		}
		if (mode == FM_TC_TCX || fd == -EPERM || fd == -ENODEV) {
			pr_err("attach egress (tcx) on %s: %s\n", name, strerror(-fd));
			return fd;
		}
		pr_info("%s: tcx refused (%s); attaching egress as a clsact filter (prio %#x)\n",
			name, strerror(-fd), FM_TC_PRIO);
	}
	err = attach_clsact(prog_fd, ifindex, name);
	if (err) {
		pr_err("attach egress (clsact) on %s: %s\n", name, strerror(-err));
		return err;
	}
	out->mode = FM_TC_CLSACT;
	out->prog_id = prog_id_of(prog_fd);
	return 0;
}

int tc_detach(struct tc_att *a)
{
	int err = 0;

	if (a->link_fd >= 0) {
		close(a->link_fd);
		a->link_fd = -1;
	} else if (a->mode == FM_TC_CLSACT) {
		err = clsact_delete(a->ifindex, a->prog_id);
		if (err == -ENOENT || err == -EEXIST || err == -ENODEV || err == -EINVAL)
			err = 0; /* gone already, or replaced by someone: not ours to remove */
	}
	a->mode = FM_TC_AUTO;
	return err;
}

bool tc_detached(const struct tc_att *a)
{
	struct bpf_link_info info = { 0 };
	__u32 len = sizeof(info);

	if (a->link_fd >= 0)
		return !bpf_obj_get_info_by_fd(a->link_fd, &info, &len) && !info.xdp.ifindex;
	return a->mode == FM_TC_CLSACT && clsact_ours(a->ifindex) != a->prog_id;
}

/* Program ids on ifindex's tcx egress; how many, or -errno. */
static int tcx_query(int ifindex, __u32 *ids, __u32 max)
{
	LIBBPF_OPTS(bpf_prog_query_opts, q, .prog_ids = ids, .prog_cnt = max);

	if (bpf_prog_query_opts(ifindex, FM_BPF_TCX_EGRESS, &q))
		return errno == EINVAL ? 0 : -errno; /* EINVAL: no tcx in this kernel */
	return (int)q.prog_cnt;
}

int tc_list(int ifindex, struct tc_seen *out, int max)
{
	__u32 ids[TCX_MAX_PROGS], id;
	int n = tcx_query(ifindex, ids, TCX_MAX_PROGS), k = 0;

	if (n < 0)
		return n;
	for (int i = 0; i <= n && k < max; i++) {
		struct tc_seen *s = &out[k];

		id = i < n ? ids[i] : clsact_ours(ifindex);
		if (!id)
			continue;
		memset(s, 0, sizeof(*s));
		if (prog_info(id, s->prog_name, sizeof(s->prog_name)) ||
		    strcmp(s->prog_name, FM_TC_PROG_NAME))
			continue;
		s->ifindex = ifindex;
		if (!if_indextoname(ifindex, s->ifname))
			snprintf(s->ifname, sizeof(s->ifname), "if%d", ifindex);
		s->prog_id = id;
		s->mode = i < n ? FM_TC_TCX : FM_TC_CLSACT;
		k++;
	}
	return k;
}

/* Detach the tcx link holding prog_id on ifindex; 0, -ENOENT or -errno. */
static int tcx_link_detach(int ifindex, __u32 prog_id, __u32 *link_id)
{
	__u32 id = 0;

	while (!bpf_link_get_next_id(id, &id)) {
		struct bpf_link_info info = { 0 };
		__u32 len = sizeof(info);
		int fd = bpf_link_get_fd_by_id(id), err;

		if (fd < 0)
			continue;
		/* tcx's {ifindex, attach_type} sits where xdp's ifindex does. */
		if (bpf_obj_get_info_by_fd(fd, &info, &len) || info.type != FM_BPF_LINK_TYPE_TCX ||
		    (int)info.xdp.ifindex != ifindex || info.prog_id != prog_id) {
			close(fd);
			continue;
		}
		err = bpf_link_detach(fd) ? -errno : 0;
		close(fd);
		*link_id = id;
		return err;
	}
	return -ENOENT;
}

int tc_remove(int ifindex, bool verbose)
{
	struct tc_seen s[8];
	int n = tc_list(ifindex, s, 8), removed = 0, err = 0;
	__u32 link_id = 0;

	if (n < 0)
		return n;
	for (int i = 0; i < n; i++) {
		int e;

		if (s[i].mode == FM_TC_TCX)
			e = tcx_link_detach(ifindex, s[i].prog_id, &link_id);
		else
			e = clsact_delete(ifindex, s[i].prog_id);
		if (e) {
			pr_err("%s: detaching %s (prog id %u, %s egress): %s\n", s[i].ifname,
			       s[i].prog_name, s[i].prog_id, fm_tc_mode_str(s[i].mode),
			       strerror(-e));
			err = e;
			continue;
		}
		removed++;
		if (!verbose)
			continue;
		if (s[i].mode == FM_TC_TCX)
			printf("%s: detached %s (prog id %u, tcx egress, bpf_link id %u)\n",
			       s[i].ifname, s[i].prog_name, s[i].prog_id, link_id);
		else
			printf("%s: detached %s (prog id %u, clsact egress filter prio %#x)\n",
			       s[i].ifname, s[i].prog_name, s[i].prog_id, FM_TC_PRIO);
	}
	return err ? err : removed;
}

int loader_attach_egress(struct loader *l, int ifindex, enum fm_tc_mode mode)
{
	int err;

	if (l->nr_tc >= FM_MAX_IFACES)
		return -E2BIG;
	err = tc_attach(loader_tc_prog_fd(l), ifindex, mode, &l->tc[l->nr_tc]);
	if (!err)
		l->nr_tc++;
	return err;
}

int loader_detach_egress(struct loader *l, int ifindex)
{
	for (int i = 0; i < l->nr_tc; i++) {
		int err;

		if (l->tc[i].ifindex != ifindex)
			continue;
		err = tc_detach(&l->tc[i]);
		l->tc[i] = l->tc[--l->nr_tc];
		return err;
	}
	return -ENOENT;
}
