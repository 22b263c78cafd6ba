/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The pin directory (--pin-path, default /sys/fs/bpf/flowmaster): where a
 * daemon pins its maps, with BTF, for bpftool and `flowmaster status`, and
 * holds an exclusive flock for its lifetime, so a second daemon on the same
 * directory is refused and pins left by a crash are told apart from a live
 * daemon's. int functions return 0 or a negative errno, logged.
 */
#ifndef FM_PINS_H
#define FM_PINS_H

#include <sys/types.h>

struct loader;

/* The maps pins_pin pins, by name; nothing else is put in a pin directory. */
#define FM_NR_PINS 7
extern const char *const fm_pin_names[FM_NR_PINS];

struct pin_dir {
	char *path;
	int fd; /* the locked directory; -1 when not held */
};

/*
 * Make dir ours: bpffs mounted on /sys/fs/bpf if that is where it lies, the
 * directory created 0700 and on bpffs, its flock taken (-EBUSY: another
 * daemon has it), pins a crashed daemon left there removed.
 */
int pins_lock(struct pin_dir *p, const char *dir);
/* Pin l's maps into the locked directory. */
int pins_pin(struct pin_dir *p, struct loader *l);
/* Remove our pins and the directory, release the lock. Safe to call twice. */
void pins_release(struct pin_dir *p);

/*
 * Is a daemon holding dir's lock? Returns 1 and *pid (0 if unknown) when
 * held, 0 when free, or a negative errno (-ENOENT: no such directory).
 */
int pins_holder(const char *dir, pid_t *pid);
/* Open one of fm_pin_names in dir; an fd or a negative errno. */
int pins_open(const char *dir, const char *name);
/*
 * `detach --all`: remove the pins of a daemon that is gone, only while no
 * daemon holds the lock, only on bpffs and only maps named as ours, saying
 * on stdout what was removed. Returns 0 or -errno.
 */
int pins_remove_stale(const char *dir);

#endif
