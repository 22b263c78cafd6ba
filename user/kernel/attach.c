// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * XDP attachments: flowmaster's own, by bpf_link (never pinned, so a crash
 * detaches them), and what the kernel reports attached on the interfaces
 * of this network namespace.
 */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "bpf/flowmaster.h" /* the skeleton names its types */
#include "flowmaster.skel.h"
#include "kernel/attach.h"
#include "kernel/loader.h"
#include "lib/log.h"

const char *fm_xdp_mode_str(enum fm_xdp_mode m)
{
	switch (m) {
	case FM_XDP_NATIVE:
		return "native";
	case FM_XDP_GENERIC:
		return "generic";
	default:
		return "auto";
	}
}

static int link_xdp(struct loader *l, int ifindex, __u32 flags)
{
	LIBBPF_OPTS(bpf_link_create_opts, opts, .flags = flags);
	int fd = bpf_link_create(bpf_program__fd(l->skel->progs.fm_xdp), ifindex, BPF_XDP, &opts);

	return fd < 0 ? -errno : fd;
}

/*
 * Whether native XDP failed for a reason of the driver's own, which the
 * generic hook (on the skb, in the core) does not share, so that auto mode
 * may try generic: no native XDP at all, an MTU too large for the driver's
 * XDP buffers (veth: ERANGE; others EINVAL), too few queues (veth:
 * ENOSPC), no memory for XDP rings. Never past a program that is already
 * attached (generic must not sneak in beside it), nor for missing
 * privileges or an interface that is gone: generic would fail alike, and
 * native's error is the one to report.
 */
static bool native_only_failure(int err)
{
	switch (err) {
	case -EBUSY:
	case -EEXIST:
	case -EPERM:
	case -EACCES:
	case -ENODEV:
	case -ENXIO:
		return false;
	default:
		return true;
	}
}

/* What a driver's refusal of native XDP most likely means, or NULL. */
static const char *native_hint(int err)
{
	switch (err) {
	case -EOPNOTSUPP:
		return "the driver has no native XDP";
	case -ERANGE:
		return "the MTU (on a veth: its peer's) is too large for native XDP on this driver";
	case -EINVAL:
		return "the driver refuses native XDP as configured, e.g. an MTU too large for it";
	case -ENOSPC:
		return "the driver has too few queues for native XDP";
	case -ENOMEM:
		return "the driver could not set up its XDP rings";
	default:
		return NULL;
	}
}

/* Log why attaching in mode failed, and what to do. */
static void attach_error(const char *name, enum fm_xdp_mode mode, int err)
{
	const char *hint = mode == FM_XDP_NATIVE ? native_hint(err) : NULL;

	if (err == -EBUSY || err == -EEXIST)
		pr_err("%s: another XDP program is already attached; remove it (ip link set dev %s xdp off, or flowmaster detach -i %s if it is ours) or pick another interface\n",
		       name, name, name);
	else if (err == -EPERM)
		pr_err("attach XDP on %s: needs root or CAP_NET_ADMIN\n", name);
	else if (hint)
		pr_err("attach XDP on %s (native): %s: %s; try --xdp-mode generic or auto\n", name,
		       strerror(-err), hint);
	else
		pr_err("attach XDP on %s (%s): %s\n", name, fm_xdp_mode_str(mode), strerror(-err));
}

int loader_attach(struct loader *l, int ifindex, enum fm_xdp_mode mode)
{
	char name[IF_NAMESIZE] = "?";
	struct loader_link *lk;
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	int fd;

	if (l->nr_links >= FM_MAX_IFACES)
		return -E2BIG;
	if_indextoname(ifindex, name);
	fd = link_xdp(l, ifindex, mode == FM_XDP_GENERIC ? XDP_FLAGS_SKB_MODE : XDP_FLAGS_DRV_MODE);
	if (mode == FM_XDP_AUTO) {
		mode = FM_XDP_NATIVE;
		if (fd < 0 && native_only_failure(fd)) {
			const char *hint = native_hint(fd);

			pr_info("%s: native XDP refused (%s%s%s); attaching in generic mode\n",
				name, strerror(-fd), hint ? ": " : "", hint ? hint : "");
			fd = link_xdp(l, ifindex, XDP_FLAGS_SKB_MODE);
			mode = FM_XDP_GENERIC;
		}
	}
	if (fd < 0) {
		attach_error(name, mode, fd);
		return fd;
	}
	lk = &l->links[l->nr_links++];
	lk->ifindex = ifindex;
	lk->link_fd = fd;
	lk->mode = mode;
	if (!bpf_xdp_query(ifindex,
			   mode == FM_XDP_GENERIC ? XDP_FLAGS_SKB_MODE : XDP_FLAGS_DRV_MODE, &q))
		lk->prog_id = mode == FM_XDP_GENERIC ? q.skb_prog_id : q.drv_prog_id;
	return 0;
}

int loader_detach(struct loader *l, int ifindex)
{
	for (int i = 0; i < l->nr_links; i++) {
		if (l->links[i].ifindex != ifindex)
			continue;
		close(l->links[i].link_fd);
		l->links[i] = l->links[--l->nr_links];
		return 0;
	}
	return -ENOENT;
}

const char *xdp_mode_name(__u32 mode_flag)
{
	switch (mode_flag) {
	case XDP_FLAGS_DRV_MODE:
		return "native";
	case XDP_FLAGS_SKB_MODE:
		return "generic";
	case XDP_FLAGS_HW_MODE:
		return "offload";
	default:
		return "?";
	}
}

int fm_prog_name(__u32 id, char *buf, size_t len)
{
	struct bpf_prog_info info = { 0 };
	__u32 ilen = sizeof(info);
	int fd = bpf_prog_get_fd_by_id(id), err = 0;

	if (fd < 0)
		return -errno;
	if (bpf_obj_get_info_by_fd(fd, &info, &ilen))
		err = -errno;
	else
		snprintf(buf, len, "%s", info.name);
	close(fd);
	return err;
}

int xdp_list(int ifindex, struct xdp_att *out)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	int n = 0, err;

	err = bpf_xdp_query(ifindex, 0, &q);
	if (err)
		return err;
	/* One program per mode at most; the kernel reports each. */
	const struct {
		__u32 id, flag;
	} m[] = {
		{ q.drv_prog_id, XDP_FLAGS_DRV_MODE },
		{ q.skb_prog_id, XDP_FLAGS_SKB_MODE },
		{ q.hw_prog_id, XDP_FLAGS_HW_MODE },
	};
	for (int i = 0; i < 3; i++) {
		struct xdp_att *a = &out[n];

		if (!m[i].id)
			continue;
		memset(a, 0, sizeof(*a));
		a->ifindex = ifindex;
		if (!if_indextoname(ifindex, a->ifname))
			snprintf(a->ifname, sizeof(a->ifname), "if%d", ifindex);
		a->prog_id = m[i].id;
		a->mode_flag = m[i].flag;
		err = fm_prog_name(a->prog_id, a->prog_name, sizeof(a->prog_name));
		if (err == -ENOENT)
			continue; /* detached and unloaded since the query */
		if (err)
			return err;
		n++;
	}
	return n;
}

bool xdp_is_flowmaster(const struct xdp_att *a)
{
	return !strcmp(a->prog_name, FM_XDP_PROG_NAME);
}

int xdp_scan(struct xdp_att **out)
{
	struct if_nameindex *ifs = if_nameindex(), *i;
	struct xdp_att *all = NULL;
	size_t n = 0, cap = 0;
	int err = 0;

	if (!ifs)
		return -errno;
	for (i = ifs; i->if_index; i++) {
		struct xdp_att a[3];
		int k = xdp_list(i->if_index, a);

		if (k == -ENODEV)
			continue; /* went away since if_nameindex */
		if (k < 0) {
			err = k;
			break;
		}
		if (!k)
			continue;
		if (n + k > cap) {
			struct xdp_att *p;

			cap = cap ? cap * 2 : 8;
			p = realloc(all, cap * sizeof(*p));
			if (!p) {
				err = -ENOMEM;
				break;
			}
			all = p;
		}
		memcpy(all + n, a, k * sizeof(*a));
		n += k;
	}
	if_freenameindex(ifs);
	if (err) {
		free(all);
		return err;
	}
	*out = all;
	return (int)n;
}
