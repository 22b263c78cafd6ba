// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The pin directory; see pins.h. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/vfs.h>
#include <linux/magic.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "bpf/flowmaster.h" /* the skeleton names its types */
#include "flowmaster.skel.h"
#include "kernel/loader.h"
#include "kernel/pins.h"
#include "lib/log.h"

#define BPFFS_ROOT "/sys/fs/bpf"

const char *const fm_pin_names[FM_NR_PINS] = {
	"flows_a", "flows_b", "flow_gens", "counters", "ctl", "events", "daemon",
};

static bool on_bpffs(int fd)
{
	struct statfs sfs;

	return !fstatfs(fd, &sfs) && sfs.f_type == BPF_FS_MAGIC;
}

/* Remove the pins by name; the directory is ours (locked). */
static void unpin_all(const char *dir)
{
	char path[PATH_MAX];

	for (int i = 0; i < FM_NR_PINS; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, fm_pin_names[i]);
		unlink(path);
	}
}

/* /sys/fs/bpf is not mounted at boot everywhere: mount it when dir is in it. */
static void mount_bpffs(const char *dir)
{
	struct statfs sfs;

	if (strncmp(dir, BPFFS_ROOT "/", sizeof(BPFFS_ROOT)))
		return;
	if (statfs(BPFFS_ROOT, &sfs) || sfs.f_type == BPF_FS_MAGIC)
		return;
	if (mount("bpf", BPFFS_ROOT, "bpf", 0, NULL))
		pr_warn("mounting bpffs on %s: %s\n", BPFFS_ROOT, strerror(errno));
}

int pins_lock(struct pin_dir *p, const char *dir)
{
	int fd, err;

	p->fd = -1;
	p->path = strdup(dir);
	if (!p->path)
		return -ENOMEM;
	mount_bpffs(dir);
	if (mkdir(dir, 0700) && errno != EEXIST) {
		err = -errno;
		if (err == -EPERM || err == -EACCES)
			pr_err("pin path %s: %s; give --pin-path a directory on a BPF filesystem that you may write (needs root or CAP_BPF)\n",
			       dir, strerror(-err));
		else
			pr_err("pin path %s: %s\n", dir, strerror(-err));
		goto fail;
	}
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		pr_err("pin path %s: %s\n", dir, strerror(-err));
		goto fail;
	}
	/* The kernel refuses pins elsewhere with a bare EINVAL: say why first. */
	if (!on_bpffs(fd)) {
		pr_err("pin path %s is not on a BPF filesystem (bpffs): give --pin-path a directory under %s, or mount one there (mount -t bpf bpf DIR)\n",
		       dir, BPFFS_ROOT);
		close(fd);
		err = -EINVAL;
		goto fail;
	}
	if (flock(fd, LOCK_EX | LOCK_NB)) {
		pr_err("pin path %s is in use by another flowmaster; stop it or give --pin-path\n",
		       dir);
		close(fd);
		err = -EBUSY;
		goto fail;
	}
	p->fd = fd;
	/* We hold the lock: pins still there are a crashed daemon's. */
	unpin_all(dir);
	return 0;
fail:
	free(p->path);
	p->path = NULL;
	return err;
}

int pins_pin(struct pin_dir *p, struct loader *l)
{
	char path[PATH_MAX];
	struct bpf_map *m;
	int err;

	for (int i = 0; i < FM_NR_PINS; i++) {
		m = bpf_object__find_map_by_name(l->skel->obj, fm_pin_names[i]);
		snprintf(path, sizeof(path), "%s/%s", p->path, fm_pin_names[i]);
		err = m ? bpf_map__pin(m, path) : -ENOENT;
		if (err) {
			pr_err("pin %s: %s\n", path, strerror(-err));
			unpin_all(p->path);
			return err;
		}
	}
	return 0;
}

void pins_release(struct pin_dir *p)
{
	if (p->fd < 0)
		return;
	unpin_all(p->path);
	rmdir(p->path);
	close(p->fd);
	p->fd = -1;
	free(p->path);
	p->path = NULL;
}

int pins_open(const char *dir, const char *name)
{
	char path[PATH_MAX];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = bpf_obj_get(path);
	return fd < 0 ? -errno : fd;
}

/* The pid holding an flock on dev:ino, from /proc/locks; 0 if none seen. */
static pid_t flock_holder(dev_t dev, ino_t ino)
{
	FILE *f = fopen("/proc/locks", "re");
	char line[256], kind[16];
	unsigned int maj, min;
	unsigned long inode;
	pid_t pid = 0;
	int p;

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		/* "1: FLOCK  ADVISORY  WRITE 1234 00:1f:5678 0 EOF"; waiters have "->". */
		if (strstr(line, "->"))
			continue;
		if (sscanf(line, "%*d: %15s %*s %*s %d %x:%x:%lu", kind, &p, &maj, &min, &inode) !=
		    5)
			continue;
		if (!strcmp(kind, "FLOCK") && makedev(maj, min) == dev && inode == ino && p > 0) {
			pid = p;
			break;
		}
	}
	fclose(f);
	return pid;
}

int pins_holder(const char *dir, pid_t *pid)
{
	struct stat sb;
	int fd, held = 0;

	*pid = 0;
	if (stat(dir, &sb))
		return -errno;
	*pid = flock_holder(sb.st_dev, sb.st_ino);
	if (*pid)
		return 1;
	/* No /proc, or a holder in another pid namespace: the lock itself
	 * answers (held only for an instant when nobody else has it). */
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (flock(fd, LOCK_EX | LOCK_NB))
		held = errno == EWOULDBLOCK ? 1 : -errno;
	close(fd);
	return held;
}

/* See pins.h. */
int pins_remove_stale(const char *dir)
{
	struct statfs sfs;
	char path[4096];
	int fd, err = 0, removed = 0;
	pid_t pid;

	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT) {
			printf("%s: no pins\n", dir);
			return 0;
		}
		err = -errno;
		pr_err("pin path %s: %s\n", dir, strerror(-err));
		return err;
	}
	if (fstatfs(fd, &sfs) || sfs.f_type != BPF_FS_MAGIC) {
		pr_err("pin path %s is not on a BPF filesystem; left alone\n", dir);
		close(fd);
		return -EINVAL;
	}
	/* Held by us while we remove, so no daemon starts pinning meanwhile. */
	if (flock(fd, LOCK_EX | LOCK_NB)) {
		err = errno == EWOULDBLOCK ? 0 : -errno;
		if (!err) {
			pins_holder(dir, &pid);
			printf("%s: in use by a running flowmaster (pid %d); its pins left alone (it removes them when it stops)\n",
			       dir, (int)pid);
		} else {
			pr_err("pin path %s: %s\n", dir, strerror(-err));
		}
		close(fd);
		return err;
	}
	for (int i = 0; i < FM_NR_PINS; i++) {
		struct bpf_map_info info = { 0 };
		__u32 len = sizeof(info);
		int m;

		snprintf(path, sizeof(path), "%s/%s", dir, fm_pin_names[i]);
		m = bpf_obj_get(path);
		if (m < 0) {
			if (errno != ENOENT) {
				pr_err("%s: %s; left alone\n", path, strerror(errno));
				err = -EIO;
			}
			continue;
		}
		/* A map run pinned has the pin's name; anything else is not ours. */
		if (bpf_obj_get_info_by_fd(m, &info, &len) || strcmp(info.name, fm_pin_names[i])) {
			printf("%s: not a flowmaster map; left alone\n", path);
			close(m);
			continue;
		}
		close(m);
		if (unlink(path)) {
			pr_err("removing %s: %s\n", path, strerror(errno));
			err = -EIO;
			continue;
		}
		printf("removed stale pin %s\n", path);
		removed++;
	}
	if (rmdir(dir) == 0)
		printf("removed %s\n", dir);
	else if (errno == ENOTEMPTY)
		printf("%s: other files remain; directory left\n", dir);
	else
		pr_warn("removing %s: %s\n", dir, strerror(errno));
	if (!removed && !err)
		printf("%s: no stale pins\n", dir);
	close(fd);
	return err;
}
