// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * flowmaster status: what a daemon has pinned under --pin-path, read live
 * from the kernel. Everything comes from the pins and the kernel's own
 * bookkeeping, so it needs nothing from the daemon and works after a crash:
 *
 *   daemon     the flock run holds on the pin directory (holder's pid from
 *              /proc/locks)
 *   program    the fm_xdp program whose maps include the pinned counters
 *   interfaces its .bss (cfg_ifindex: slot -> ifindex) and, per
 *              ifindex, what XDP reports attached in this network namespace
 *   counters   the pinned per-CPU counters, summed over CPUs
 *   map fill   keys in the generation slot 0 of flow_gens points at
 *   ring       producer minus consumer position of the pinned ring buffer
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <net/if.h>
#include <sqlite3.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "bpf/flowmaster.h"
#include "flowmaster.skel.h" /* struct flowmaster_bpf__rodata */
#include "cli/cli.h"
#include "lib/log.h"
#include "kernel/loader.h"
#include "kernel/attach.h"
#include "kernel/pins.h"
#include "kernel/tc.h"
#include "lib/clock.h"
#include "lib/fmt.h"
#include "lib/json.h"
#include "lib/opts.h"
#include "store/reader.h"

#define MAP_COUNT_BUDGET_MS 1000 /* counting keys costs a syscall each */
#define PROG_MAP_IDS 64		 /* fm_xdp uses 7 maps */
#define RODATA_MAX 4096

/* ----------------------------------------------------------------- status */

struct status_cfg {
	const char *pin_path;
	const char *db;
	bool json; /* --json: one JSON object instead of the report */
};

/* What status found out about the daemon's program. */
struct daemon_prog {
	__u32 id; /* 0: not found (the daemon is gone) */
	int nr_ifaces;
	__u32 ifindex[FM_MAX_IFACES]; /* slot i + 1 */
	/* The name here of each ifindex ("" when there is none), and whether
	 * the program is attached to it: an ifindex is per network namespace,
	 * so a name without the program may be another interface, or ours
	 * with the program detached from outside. */
	char ifname[FM_MAX_IFACES][IF_NAMESIZE];
	bool attached[FM_MAX_IFACES];
	__u32 mode_flag[FM_MAX_IFACES];
	/* What the daemon last published (the daemon pin), if readable. */
	bool have_state;
	bool other_netns; /* the daemon runs in another network namespace */
	struct fm_daemon_state state;
};

static const struct opt status_table[] = {
	{ "pin-path", 0, OPT_STRING, "DIR", "where the daemon pins its maps",
	  .def = FM_DEFAULT_PIN_PATH, OPT_AT(struct status_cfg, pin_path) },
	{ "db", 0, OPT_STRING, "PATH", "also print the latest metrics from this database",
	  OPT_AT(struct status_cfg, db) },
	{ "json", 0, OPT_FLAG, NULL,
	  "print one JSON object (state, interfaces with their counters and reconciliation, "
	  "flow table, map fill, ring buffer, metrics) instead of the report",
	  OPT_AT(struct status_cfg, json) },
	{ 0 },
};

const struct opts_cmd status_opts = {
	.name = "status",
	.usage = "usage: flowmaster status [--pin-path DIR] [--db PATH] [--json]",
	.about = "Show the flowmaster whose maps are pinned in DIR: whether its daemon is\n"
		 "running, the interfaces its XDP program is attached to (mode, program\n"
		 "id), the kernel's counters per interface (packets, bytes, parse errors\n"
		 "by reason, map-full fallbacks to the ring buffer, drops, overflow),\n"
		 "how full the active flow map is, and with --db the last metrics the\n"
		 "daemon wrote. Interfaces are looked up in the current network\n"
		 "namespace: run it where the daemon runs.\n",
	.footer = "The first line says one of:\n"
		  "  flowmaster is running (pid N) ...\n"
		  "  flowmaster is not running (no pins in DIR)\n"
		  "  no daemon running (stale pins from a crash?) ...\n"
		  "Exit status: 0 whenever the state could be read, running or not (so\n"
		  "scripts that poll can test the first line); 1 if it could not be\n"
		  "(e.g. not root); 2 for a usage error.\n",
	.opts = status_table,
	.cfg_size = sizeof(struct status_cfg),
};

static int map_info(int fd, struct bpf_map_info *info)
{
	__u32 len = sizeof(*info);

	memset(info, 0, sizeof(*info));
	return bpf_obj_get_info_by_fd(fd, info, &len) ? -errno : 0;
}

/*
 * Copy the program's global data section map_id (one array element) into
 * out (size bytes, zero-filled past what the map holds). Returns 0, or -1
 * when the map cannot be read or holds fewer than need bytes.
 */
static int read_section(__u32 map_id, void *out, size_t size, size_t need)
{
	struct bpf_map_info info;
	char buf[RODATA_MAX];
	__u32 zero = 0;
	int fd = bpf_map_get_fd_by_id(map_id), err = -1;

	if (fd < 0)
		return -1;
	if (!map_info(fd, &info) && info.value_size <= sizeof(buf) && info.value_size >= need &&
	    !bpf_map_lookup_elem(fd, &zero, buf)) {
		memset(out, 0, size);
		memcpy(out, buf, info.value_size < size ? info.value_size : size);
		err = 0;
	}
	close(fd);
	return err;
}

/* Read the number of slots from the program's .rodata. */
static void read_rodata(__u32 map_id, struct daemon_prog *d)
{
	struct flowmaster_bpf__rodata ro;

	if (!read_section(map_id, &ro, sizeof(ro),
			  offsetof(struct flowmaster_bpf__rodata, cfg_nr_ifaces) +
				  sizeof(ro.cfg_nr_ifaces)))
		d->nr_ifaces = ro.cfg_nr_ifaces < FM_MAX_IFACES ? ro.cfg_nr_ifaces : FM_MAX_IFACES;
}

/* Read the slot -> ifindex table from the program's .bss (the daemon
 * updates it when an interface comes back with a new ifindex). */
static void read_bss(__u32 map_id, struct daemon_prog *d)
{
	struct flowmaster_bpf__bss bss;

	if (!read_section(map_id, &bss, sizeof(bss),
			  offsetof(struct flowmaster_bpf__bss, cfg_ifindex) +
				  sizeof(bss.cfg_ifindex)))
		memcpy(d->ifindex, (const void *)bss.cfg_ifindex, sizeof(d->ifindex));
}

/* Whether map_id is the program's global data section ".rodata", ".bss". */
static bool is_section(__u32 map_id, const char *sec)
{
	struct bpf_map_info info;
	int fd = bpf_map_get_fd_by_id(map_id);
	size_t n, k = strlen(sec);
	bool yes = false;

	if (fd < 0)
		return false;
	if (!map_info(fd, &info)) {
		n = strlen(info.name);
		yes = info.type == BPF_MAP_TYPE_ARRAY && n >= k && !strcmp(info.name + n - k, sec);
	}
	close(fd);
	return yes;
}

/*
 * The daemon's program: the fm_xdp whose maps include the pinned counters
 * map. Prog ids are global, so this finds it in any network namespace.
 */
/* The daemon's own view of its interfaces and counts, from its pin. */
static void read_daemon_state(const char *dir, struct daemon_prog *d)
{
	struct stat sb;
	__u32 zero = 0;
	int fd = pins_open(dir, "daemon");

	if (fd < 0)
		return;
	d->have_state = !bpf_map_lookup_elem(fd, &zero, &d->state) && d->state.pid;
	close(fd);
	if (d->have_state && !stat("/proc/self/ns/net", &sb))
		d->other_netns = sb.st_ino != d->state.netns_ino;
}

static void find_daemon_prog(__u32 counters_id, const char *dir, struct daemon_prog *d)
{
	__u32 id = 0;

	memset(d, 0, sizeof(*d));
	read_daemon_state(dir, d);
	while (!bpf_prog_get_next_id(id, &id)) {
		__u32 maps[PROG_MAP_IDS], len, n;
		struct bpf_prog_info info = { 0 };
		bool ours = false;
		int fd = bpf_prog_get_fd_by_id(id);

		if (fd < 0)
			continue; /* unloaded meanwhile */
		info.nr_map_ids = PROG_MAP_IDS;
		info.map_ids = (__u64)(unsigned long)maps;
		len = sizeof(info);
		if (bpf_obj_get_info_by_fd(fd, &info, &len) ||
		    strcmp(info.name, FM_XDP_PROG_NAME)) {
			close(fd);
			continue;
		}
		close(fd);
		n = info.nr_map_ids < PROG_MAP_IDS ? info.nr_map_ids : PROG_MAP_IDS;
		for (__u32 i = 0; i < n; i++)
			ours |= maps[i] == counters_id;
		if (!ours)
			continue;
		d->id = id;
		for (__u32 i = 0; i < n; i++) {
			if (is_section(maps[i], ".rodata"))
				read_rodata(maps[i], d);
			else if (is_section(maps[i], ".bss"))
				read_bss(maps[i], d);
		}
		for (int i = 0; i < d->nr_ifaces; i++) {
			struct xdp_att a[3];
			int k;

			/* The daemon knows its interfaces' names, in any namespace. */
			if (d->have_state) {
				/* Not snprintf: gcc -fsanitize sees src and dst in
				 * one object and warns of an overlap they never have. */
				_Static_assert(sizeof(d->state.iface[0].name) == IF_NAMESIZE,
					       "one name size");
				memcpy(d->ifname[i], d->state.iface[i + 1].name, IF_NAMESIZE);
				d->ifname[i][IF_NAMESIZE - 1] = 0;
				continue;
			}
			/* An ifindex is per namespace: name only where ours is attached. */
			k = xdp_list(d->ifindex[i], a);
			while (k-- > 0)
				if (a[k].prog_id == id) {
					snprintf(d->ifname[i], IF_NAMESIZE, "%s", a[k].ifname);
					d->attached[i] = true;
					d->mode_flag[i] = a[k].mode_flag;
				}
		}
		return;
	}
}

/*
 * Keys in a flow map, bounded in time. *exact is false when the walk had
 * to stop, or ran past max_entries: a key deleted under it (the daemon
 * clearing a generation it just swapped out) restarts the walk.
 */
static long count_keys(int fd, __u32 max_entries, bool *exact)
{
	char a[sizeof(struct fm_map_key)], b[sizeof(struct fm_map_key)];
	void *prev = NULL, *next = a;
	int64_t t0 = mono_ms();
	long n = 0;

	*exact = true;
	while (!bpf_map_get_next_key(fd, prev, next)) {
		prev = next;
		next = next == a ? b : a;
		if (++n > (long)max_entries) {
			*exact = false;
			return max_entries;
		}
		if (!(n & 4095) && mono_ms() - t0 > MAP_COUNT_BUDGET_MS) {
			*exact = false;
			break;
		}
	}
	return n;
}

static void print_map_fill(const char *dir)
{
	struct bpf_map_info info;
	__u32 zero = 0, inner_id;
	int gens = pins_open(dir, "flow_gens"), fd = -1;
	long n;
	bool exact;

	if (gens < 0 || bpf_map_lookup_elem(gens, &zero, &inner_id)) {
		printf("map fill: unknown (flow_gens: %s)\n", strerror(errno));
		goto out;
	}
	fd = bpf_map_get_fd_by_id(inner_id);
	if (fd < 0 || map_info(fd, &info)) {
		printf("map fill: unknown (map id %u: %s)\n", inner_id, strerror(errno));
		goto out;
	}
	if (info.key_size != sizeof(struct fm_map_key)) {
		printf("map fill: unknown (map id %u is not a flow map of this version)\n",
		       inner_id);
		goto out;
	}
	n = count_keys(fd, info.max_entries, &exact);
	printf("map fill: %s%ld of %u flows in the active generation (%s, %.1f%%)\n",
	       exact ? "" : "about ", n, info.max_entries, info.name,
	       info.max_entries ? 100.0 * n / info.max_entries : 0.0);
out:
	if (fd >= 0)
		close(fd);
	if (gens >= 0)
		close(gens);
}

/* Bytes the program has written to the ring and the daemon not yet read. */
static void print_ring(const char *dir)
{
	long page = sysconf(_SC_PAGESIZE);
	struct bpf_map_info info;
	void *cons = MAP_FAILED, *prod = MAP_FAILED;
	char a[32], b[32];
	int fd = pins_open(dir, "events");

	if (fd < 0 || map_info(fd, &info)) {
		printf("ring buffer: unknown (events: %s)\n", strerror(errno));
		goto out;
	}
	if (info.type != BPF_MAP_TYPE_RINGBUF) {
		printf("ring buffer: unknown (events is not a ring buffer)\n");
		goto out;
	}
	/* Consumer position on the first page, producer on the second;
	 * read-only mappings of both are allowed. */
	cons = mmap(NULL, page, PROT_READ, MAP_SHARED, fd, 0);
	prod = mmap(NULL, page, PROT_READ, MAP_SHARED, fd, page);
	if (cons == MAP_FAILED || prod == MAP_FAILED) {
		printf("ring buffer: %s\n", fmt_bytes(a, sizeof(a), info.max_entries));
		goto out;
	}
	printf("ring buffer: %s, %s waiting for the daemon\n",
	       fmt_bytes(a, sizeof(a), info.max_entries),
	       fmt_bytes(b, sizeof(b),
			 __atomic_load_n((unsigned long *)prod, __ATOMIC_ACQUIRE) -
				 __atomic_load_n((unsigned long *)cons, __ATOMIC_ACQUIRE)));
out:
	if (cons != MAP_FAILED)
		munmap(cons, page);
	if (prod != MAP_FAILED)
		munmap(prod, page);
	if (fd >= 0)
		close(fd);
}

/* Interfaces in the program's list, and what this namespace has on them. */
static void print_interfaces(const struct daemon_prog *d)
{
	static const char *const hdr[] = { "SLOT", "INTERFACE", "IFINDEX", "XDP", "STATE" };
	struct table *t = table_new(5, hdr, 0x5);

	if (!t)
		return;
	for (int i = 0; i < d->nr_ifaces; i++) {
		const struct fm_daemon_iface *f = &d->state.iface[i + 1];
		bool here = d->ifname[i][0];
		char slot[16], idx[16];
		const char *mode = "-", *state;

		snprintf(slot, sizeof(slot), "%d", i + 1);
		snprintf(idx, sizeof(idx), "%u", d->ifindex[i]);
		if (d->have_state) {
			if (f->state == FM_IFS_ATTACHED)
				mode = f->mode;
			state = f->state == FM_IFS_ATTACHED ?
					"attached" :
				f->state == FM_IFS_DETACHED ?
					"detached from outside; not monitored" :
				f->state == FM_IFS_GONE ?
					"gone (deleted or moved); attached again if it comes back" :
				f->state == FM_IFS_WAITING ?
					"waiting for it to appear (--wait-interface)" :
					"starting";
		} else {
			if (d->attached[i])
				mode = xdp_mode_name(d->mode_flag[i]);
			state = d->attached[i] ? "attached" :
						 "not attached in this network namespace";
		}
		const char *row[] = { slot, here ? d->ifname[i] : "-", idx, mode, state };
		table_add(t, row);
	}
	table_print(t, stdout, "  ");
	if (d->other_netns)
		printf("  (interfaces as the daemon sees them in its own network namespace)\n");
	if (d->have_state) {
		int attached = 0;

		for (int i = 0; i < d->nr_ifaces; i++)
			attached += d->state.iface[i + 1].state == FM_IFS_ATTACHED;
		if (!attached)
			printf("warning: no interface is attached: this daemon monitors nothing until one comes back\n");
	}
	table_free(t);
}

#define CNT(f, what)                                                                               \
	{                                                                                          \
		offsetof(struct fm_counters, f), #f, what                                          \
	}
static const struct {
	size_t off;
	const char *name, *what;
} counter_rows[] = {
	CNT(packets, "frames seen"),
	CNT(bytes, "their bytes, Ethernet header included"),
	CNT(map_packets, "counted in a flow map"),
	CNT(err_eth, "parse error: shorter than Ethernet"),
	CNT(err_vlan, "parse error: truncated VLAN tag"),
	CNT(err_ipv4, "parse error: bad IPv4 header"),
	CNT(err_ipv4_opts, "parse error: IPv4 options past the end"),
	CNT(err_ipv6, "parse error: bad IPv6 header"),
	CNT(err_ipv6_ext, "parse error: truncated extension header"),
	CNT(err_ext_chain, "parse error: too many extension headers"),
	CNT(err_l4, "parse error: truncated L4 header"),
	CNT(map_full, "flow map full: insert refused"),
	CNT(ringbuf_packets, "sent as ring buffer records instead"),
	CNT(ringbuf_bytes, "their bytes"),
	CNT(ringbuf_drops, "ring buffer full"),
	CNT(overflow_packets, "counted only in overflow (unattributed)"),
	CNT(overflow_bytes, "their bytes"),
	CNT(doorbells, "early-drain signals sent"),
	CNT(inserts, "flows inserted"),
	CNT(gso_skbs, "egress GSO skbs (counted as their segments)"),
};
#undef CNT
_Static_assert(sizeof(counter_rows) / sizeof(counter_rows[0]) ==
		       sizeof(struct fm_counters) / sizeof(__u64),
	       "a row for every counter");

/* Per-slot counters summed over CPUs; columns for the program's slots (or,
 * with the program gone, every slot that counted anything), and a column
 * "IFACE out" for each slot whose egress hook counted anything. */
static int print_counters(int fd, const struct daemon_prog *d)
{
	struct fm_counters sum[2][FM_MAX_IFACES + 1] = { { { 0 } } };
	const char *hdr[TABLE_MAX_COLS + 1] = { "COUNTER" };
	char names[2][FM_MAX_IFACES + 1][IF_NAMESIZE + 8];
	int col_slot[TABLE_MAX_COLS], col_dir[TABLE_MAX_COLS], ncols = 1, err = 0;
	struct table *t;

	for (int dir = 0; dir < 2; dir++)
		for (__u32 slot = 0; slot <= FM_MAX_IFACES; slot++) {
			err = fm_counters_read(fd, slot + dir * FM_IFACE_SLOTS, &sum[dir][slot]);
			if (err) {
				pr_err("reading counters slot %u: %s\n", slot, strerror(-err));
				return err;
			}
		}

	for (int slot = 1; slot <= FM_MAX_IFACES && ncols < TABLE_MAX_COLS - 2; slot++) {
		const char *name = d->id && d->ifname[slot - 1][0] ? d->ifname[slot - 1] : NULL;

		for (int dir = 0; dir < 2; dir++) {
			if (dir	  ? !sum[1][slot].packets :
			    d->id ? slot > d->nr_ifaces :
				    !sum[0][slot].packets)
				continue;
			if (name)
				snprintf(names[dir][slot], sizeof(names[dir][slot]), "%s%s", name,
					 dir ? " out" : "");
			else
				snprintf(names[dir][slot], sizeof(names[dir][slot]), "slot %d%s",
					 slot, dir ? " out" : "");
			col_slot[ncols] = slot;
			col_dir[ncols] = dir;
			hdr[ncols++] = names[dir][slot];
		}
	}
	if (ncols == 1 && !d->id) { /* nothing counted yet: show the first slot */
		snprintf(names[0][1], sizeof(names[0][1]), "slot 1");
		col_slot[ncols] = 1;
		col_dir[ncols] = 0;
		hdr[ncols++] = names[0][1];
	}
	if (sum[0][0].packets || sum[1][0].packets) { /* frames on an interface not in the list */
		col_slot[ncols] = 0;
		col_dir[ncols] = sum[0][0].packets ? 0 : 1;
		hdr[ncols++] = "other";
	}
	hdr[ncols] = "MEANING";
	t = table_new(ncols + 1, hdr, ((1u << ncols) - 1) & ~1u);
	if (!t)
		return -ENOMEM;
	for (size_t r = 0; r < sizeof(counter_rows) / sizeof(counter_rows[0]); r++) {
		char val[TABLE_MAX_COLS][24];
		const char *row[TABLE_MAX_COLS + 1] = { counter_rows[r].name };

		for (int c = 1; c < ncols; c++) {
			snprintf(val[c], sizeof(val[c]), "%llu",
				 *(unsigned long long *)((char *)&sum[col_dir[c]][col_slot[c]] +
							 counter_rows[r].off));
			row[c] = val[c];
		}
		row[ncols] = counter_rows[r].what;
		table_add(t, row);
	}
	printf("kernel counters since the program was loaded:\n");
	table_print(t, stdout, "  ");
	table_free(t);
	return 0;
}

/*
 * Open path read-only and prepare the query of the last interval's metrics
 * rows (ts_ms, name, value). Returns 0, or -EIO (said) with *db NULL when
 * the file cannot be opened, or with *db open when the query fails.
 */
static int last_metrics(const char *path, sqlite3 **db, sqlite3_stmt **st)
{
	*db = NULL;
	*st = NULL;
	if (store_open_readonly(path, db)) {
		*db = NULL;
		return -EIO;
	}
	if (sqlite3_prepare_v2(*db,
			       "SELECT ts_ms, name, value FROM metrics"
			       " WHERE ts_ms = (SELECT max(ts_ms) FROM metrics) ORDER BY rowid",
			       -1, st, NULL) != SQLITE_OK) {
		pr_err("%s: reading metrics: %s\n", path, sqlite3_errmsg(*db));
		return -EIO;
	}
	return 0;
}

/* The metrics the daemon wrote last (the rows with the latest ts_ms). */
static int print_metrics(const char *path)
{
	static const char *const hdr[] = { "METRIC", "VALUE" };
	sqlite3_stmt *st = NULL;
	struct table *t = NULL;
	sqlite3 *db;
	int64_t ts = 0;
	int rc, err = 0;
	char when[32];

	err = last_metrics(path, &db, &st);
	if (err == -EIO && !db)
		return err;
	if (err)
		goto out;
	t = table_new(2, hdr, 0x2);
	if (!t) {
		err = -ENOMEM;
		goto out;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		char v[32];

		ts = sqlite3_column_int64(st, 0);
		snprintf(v, sizeof(v), "%.10g", sqlite3_column_double(st, 2));
		const char *row[] = { (const char *)sqlite3_column_text(st, 1), v };
		table_add(t, row);
	}
	if (rc != SQLITE_DONE) {
		pr_err("%s: reading metrics: %s\n", path, sqlite3_errmsg(db));
		err = -EIO;
		goto out;
	}
	if (!ts) {
		printf("\n%s: no metrics yet\n", path);
		goto out;
	}
	printf("\nlast metrics in %s, at %s UTC (%llds ago):\n", path,
	       fmt_utc(when, sizeof(when), ts), (long long)((now_ms() - ts) / 1000));
	table_print(t, stdout, "  ");
out:
	table_free(t);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return err;
}

/*
 * Per interface: what the kernel saw, what the daemon handed to its sinks
 * (and how much of that without its flow), and the difference, still in the
 * kernel's maps or the daemon's flow table (or, after a crash, lost).
 */
static void print_reconciliation(int counters_fd, const struct daemon_prog *d, bool running)
{
	static const char *const hdr[] = { "INTERFACE", "SEEN", "EXPORTED", "UNATTRIBUTED",
					   "NOT YET EXPORTED" };
	struct table *t;

	if (!d->have_state)
		return;
	t = table_new(5, hdr, 0x1e);
	if (!t)
		return;
	for (__u32 slot = 1; slot <= d->state.nr_ifaces && slot <= FM_MAX_IFACES; slot++) {
		const struct fm_daemon_iface *f = &d->state.iface[slot];
		struct fm_counters c[2];
		bool both;

		if (fm_counters_read(counters_fd, slot, &c[0]) ||
		    fm_counters_read(counters_fd, slot + FM_IFACE_SLOTS, &c[1]))
			continue;
		/* One row per direction once egress counted anything. */
		both = c[1].packets || f->exported[1];
		for (int dir = 0; dir < (both ? 2 : 1); dir++) {
			unsigned long long exp = f->exported[dir] + (both ? 0 : f->exported[1]);
			unsigned long long un =
				f->unattributed[dir] + (both ? 0 : f->unattributed[1]);
			unsigned long long seen = c[dir].packets;
			char nm[IF_NAMESIZE + 8], a[24], b[24], u[24], n[24];

			snprintf(nm, sizeof(nm), "%s%s", f->name,
				 both ? (dir ? " out" : " in") : "");
			snprintf(a, sizeof(a), "%llu", seen);
			snprintf(b, sizeof(b), "%llu", exp);
			snprintf(u, sizeof(u), "%llu", un);
			snprintf(n, sizeof(n), "%llu", seen >= exp ? seen - exp : 0);
			const char *row[] = { nm, a, b, u, n };
			table_add(t, row);
		}
	}
	printf("reconciliation, packets (the daemon's view at %s UTC):\n",
	       fmt_utc((char[32]){ 0 }, 32, (int64_t)d->state.updated_ms));
	table_print(t, stdout, "  ");
	printf("  %s\n",
	       running ?
		       "not yet exported: in the kernel's maps or the daemon's flow table, on their way" :
		       "not yet exported: lost with the daemon, which stopped without exporting them");
	printf("flow table: %llu flows of %llu; %llu records waiting for the sinks\n",
	       (unsigned long long)d->state.flows, (unsigned long long)d->state.table_limit,
	       (unsigned long long)d->state.staged);
	table_free(t);
}

/* The egress programs (fm_tc) on the daemon's interfaces of this namespace. */
static void print_egress(const struct daemon_prog *d)
{
	for (int i = 0; i < d->nr_ifaces; i++) {
		struct tc_seen s[4];
		int n = tc_list(d->ifindex[i], s, 4);

		for (int k = 0; k < n; k++)
			printf("  egress: %s %s prog id %u (%s)\n", s[k].ifname, s[k].prog_name,
			       s[k].prog_id, fm_tc_mode_str(s[k].mode));
	}
}

/* Nothing pinned here: say so, and point at flowmaster programs that are
 * attached anyway (a daemon with another --pin-path). */
static int status_not_running(const struct status_cfg *c)
{
	struct xdp_att *a = NULL;
	pid_t pid;
	int n;

	if (pins_holder(c->pin_path, &pid) == 1)
		printf("flowmaster (pid %d) holds %s but has pinned nothing: starting up or stopping\n",
		       (int)pid, c->pin_path);
	else
		printf("flowmaster is not running (no pins in %s)\n", c->pin_path);
	n = xdp_scan(&a);
	for (int i = 0; i < n; i++)
		if (xdp_is_flowmaster(&a[i]))
			printf("note: %s (prog id %u, %s) is attached to %s: a daemon with another --pin-path?\n",
			       a[i].prog_name, a[i].prog_id, xdp_mode_name(a[i].mode_flag),
			       a[i].ifname);
	free(a);
	if (c->db && print_metrics(c->db))
		return 1;
	return 0;
}

static int status_json(const struct status_cfg *c);

int cmd_status(int argc, char **argv)
{
	struct status_cfg c;
	struct daemon_prog d;
	struct bpf_map_info info;
	pid_t pid;
	int err, fd, held;

	err = opts_parse(&status_opts, argc, argv, &c);
	if (err != OPTS_RUN)
		return err;
	if (c.json)
		return status_json(&c);
	fd = pins_open(c.pin_path, "counters");
	if (fd < 0) {
		err = fd;
		if (err == -ENOENT)
			return status_not_running(&c);
		if (err == -EPERM || err == -EACCES)
			pr_err("%s/counters: %s: needs root or CAP_BPF\n", c.pin_path,
			       strerror(-err));
		else
			pr_err("%s/counters: %s\n", c.pin_path, strerror(-err));
		return 1;
	}
	if (map_info(fd, &info) || info.type != BPF_MAP_TYPE_PERCPU_ARRAY ||
	    info.value_size != sizeof(struct fm_counters) || info.max_entries != FM_COUNTER_SLOTS) {
		pr_err("%s/counters is not the counters map of this flowmaster version\n",
		       c.pin_path);
		close(fd);
		return 1;
	}

	held = pins_holder(c.pin_path, &pid);
	if (held == 1 && pid)
		printf("flowmaster is running (pid %d), pins in %s\n", (int)pid, c.pin_path);
	else if (held == 1)
		printf("flowmaster is running (pid unknown), pins in %s\n", c.pin_path);
	else
		printf("no daemon running (stale pins from a crash?) in %s; 'flowmaster detach --all --pin-path %s' removes them\n",
		       c.pin_path, c.pin_path);

	find_daemon_prog(info.id, c.pin_path, &d);
	if (d.id) {
		printf("program %s, id %u, on %d interface%s:\n", FM_XDP_PROG_NAME, d.id,
		       d.nr_ifaces, d.nr_ifaces == 1 ? "" : "s");
		print_interfaces(&d);
		print_egress(&d);
	} else {
		printf("program: gone (unloaded with its daemon); counters are the last it counted\n");
	}
	err = print_counters(fd, &d);
	if (!err)
		print_reconciliation(fd, &d, held == 1);
	close(fd);
	if (err)
		return 1;
	print_map_fill(c.pin_path);
	print_ring(c.pin_path);
	if (c.db && print_metrics(c.db))
		return 1;
	return 0;
}

/* --------------------------------------------------------- status --json */

/* "metrics": {"ts_ms": N, "values": {NAME: VALUE, ...}} of the last
 * interval in the database, or null when it has none. */
static int json_metrics(const char *path)
{
	sqlite3_stmt *st = NULL;
	sqlite3 *db;
	int rc, n = 0, err = 0;

	err = last_metrics(path, &db, &st);
	if (err == -EIO && !db)
		return err;
	if (err)
		goto out;
	printf(",\"metrics\":");
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (!n++)
			printf("{\"ts_ms\":%lld,\"values\":{",
			       (long long)sqlite3_column_int64(st, 0));
		else
			putchar(',');
		json_str(stdout, (const char *)sqlite3_column_text(st, 1));
		putchar(':');
		json_num(stdout, sqlite3_column_double(st, 2));
	}
	printf(n ? "}}" : "null");
	if (rc != SQLITE_DONE) {
		pr_err("%s: reading metrics: %s\n", path, sqlite3_errmsg(db));
		err = -EIO;
	}
out:
	sqlite3_finalize(st);
	sqlite3_close(db);
	return err;
}

/* "map_fill" and "ring_buffer", or null where they cannot be read. */
static void json_maps(const char *dir)
{
	long page = sysconf(_SC_PAGESIZE);
	struct bpf_map_info info;
	__u32 zero = 0, inner_id;
	int gens = pins_open(dir, "flow_gens"), fd = -1;
	void *cons = MAP_FAILED, *prod = MAP_FAILED;
	bool exact;
	long n;

	printf(",\"map_fill\":");
	if (gens >= 0 && !bpf_map_lookup_elem(gens, &zero, &inner_id) &&
	    (fd = bpf_map_get_fd_by_id(inner_id)) >= 0 && !map_info(fd, &info) &&
	    info.key_size == sizeof(struct fm_map_key)) {
		n = count_keys(fd, info.max_entries, &exact);
		printf("{\"flows\":%ld,\"max_flows\":%u,\"exact\":%s,\"map\":", n, info.max_entries,
		       exact ? "true" : "false");
		json_str(stdout, info.name);
		printf("}");
	} else {
		printf("null");
	}
	if (fd >= 0)
		close(fd);
	if (gens >= 0)
		close(gens);
	printf(",\"ring_buffer\":");
	fd = pins_open(dir, "events");
	if (fd >= 0 && !map_info(fd, &info) && info.type == BPF_MAP_TYPE_RINGBUF) {
		cons = mmap(NULL, page, PROT_READ, MAP_SHARED, fd, 0);
		prod = mmap(NULL, page, PROT_READ, MAP_SHARED, fd, page);
	}
	if (cons != MAP_FAILED && prod != MAP_FAILED)
		printf("{\"bytes\":%u,\"pending_bytes\":%lu}", info.max_entries,
		       __atomic_load_n((unsigned long *)prod, __ATOMIC_ACQUIRE) -
			       __atomic_load_n((unsigned long *)cons, __ATOMIC_ACQUIRE));
	else
		printf("null");
	if (cons != MAP_FAILED)
		munmap(cons, page);
	if (prod != MAP_FAILED)
		munmap(prod, page);
	if (fd >= 0)
		close(fd);
}

/* One interface slot: names, state, the kernel's counters, and what the
 * daemon exported of them. Returns whether it is attached. */
/* c: the ingress hook's counters of the slot, o: the egress hook's. */
static bool json_iface(int slot, const struct daemon_prog *d, const struct fm_counters *c,
		       const struct fm_counters *o)
{
	const struct fm_daemon_iface *f = &d->state.iface[slot];
	bool in_prog = d->id && slot <= d->nr_ifaces, attached;
	const char *state, *mode = NULL;

	if (d->have_state) {
		attached = f->state == FM_IFS_ATTACHED;
		state = attached		    ? "attached" :
			f->state == FM_IFS_DETACHED ? "detached" :
			f->state == FM_IFS_GONE	    ? "gone" :
			f->state == FM_IFS_WAITING  ? "waiting" :
						      "starting";
		if (attached)
			mode = f->mode;
	} else {
		attached = in_prog && d->attached[slot - 1];
		state = attached ? "attached" : in_prog ? "not_attached_here" : "unknown";
		if (attached)
			mode = xdp_mode_name(d->mode_flag[slot - 1]);
	}
	printf("{\"slot\":%d,\"name\":", slot);
	json_str(stdout, in_prog && d->ifname[slot - 1][0] ? d->ifname[slot - 1] : NULL);
	printf(",\"ifindex\":");
	if (in_prog)
		printf("%u", d->ifindex[slot - 1]);
	else
		printf("null");
	printf(",\"state\":\"%s\",\"attached\":%s,\"xdp_mode\":", state,
	       attached ? "true" : "false");
	json_str(stdout, mode);
	printf(",\"counters\":{");
	for (size_t r = 0; r < sizeof(counter_rows) / sizeof(counter_rows[0]); r++)
		printf("%s\"%s\":%llu", r ? "," : "", counter_rows[r].name,
		       *(const unsigned long long *)((const char *)c + counter_rows[r].off));
	printf("},\"egress_counters\":{");
	for (size_t r = 0; r < sizeof(counter_rows) / sizeof(counter_rows[0]); r++)
		printf("%s\"%s\":%llu", r ? "," : "", counter_rows[r].name,
		       *(const unsigned long long *)((const char *)o + counter_rows[r].off));
	printf("}");
	if (d->have_state) {
		unsigned long long exp = f->exported[0] + f->exported[1];

		printf(",\"exported_packets\":{\"ingress\":%llu,\"egress\":%llu},"
		       "\"unattributed_packets\":{\"ingress\":%llu,\"egress\":%llu},"
		       "\"not_yet_exported_packets\":%llu",
		       (unsigned long long)f->exported[0], (unsigned long long)f->exported[1],
		       (unsigned long long)f->unattributed[0],
		       (unsigned long long)f->unattributed[1],
		       c->packets + o->packets >= exp ?
			       (unsigned long long)(c->packets + o->packets - exp) :
			       0);
	}
	printf("}");
	return attached;
}

/*
 * The status as one JSON object on one line: "state" is "running",
 * "not_running", "starting" (the pin directory is held, nothing pinned yet)
 * or "stale" (pins without a daemon); "interfaces_attached" counts the
 * interfaces being monitored, so 0 with "running" is a daemon that sees
 * nothing. Exit status as without --json.
 */
static int status_json(const struct status_cfg *c)
{
	struct fm_counters sum[FM_MAX_IFACES + 1] = { 0 }, out[FM_MAX_IFACES + 1] = { 0 };
	struct bpf_map_info info;
	struct daemon_prog d;
	int fd, held, nslots = 0, attached = 0, n = 0, err = 0;
	pid_t pid = 0;
	const char *state;

	fd = pins_open(c->pin_path, "counters");
	if (fd < 0 && fd != -ENOENT) {
		pr_err("%s/counters: %s%s\n", c->pin_path, strerror(-fd),
		       fd == -EPERM || fd == -EACCES ? ": needs root or CAP_BPF" : "");
		return 1;
	}
	if (fd >= 0 && (map_info(fd, &info) || info.type != BPF_MAP_TYPE_PERCPU_ARRAY ||
			info.value_size != sizeof(struct fm_counters) ||
			info.max_entries != FM_COUNTER_SLOTS)) {
		pr_err("%s/counters is not the counters map of this flowmaster version\n",
		       c->pin_path);
		close(fd);
		return 1;
	}
	held = pins_holder(c->pin_path, &pid);
	if (fd < 0)
		state = held == 1 ? "starting" : "not_running";
	else
		state = held == 1 ? "running" : "stale";
	printf("{\"pin_path\":");
	json_str(stdout, c->pin_path);
	printf(",\"state\":\"%s\",\"running\":%s,\"pid\":", state, held == 1 ? "true" : "false");
	if (held == 1 && pid)
		printf("%d", (int)pid);
	else
		printf("null");
	if (fd >= 0) {
		for (__u32 slot = 0; slot <= FM_MAX_IFACES && !err; slot++) {
			err = fm_counters_read(fd, slot, &sum[slot]);
			if (!err)
				err = fm_counters_read(fd, slot + FM_IFACE_SLOTS, &out[slot]);
		}
		close(fd);
		if (err) {
			printf("}\n");
			pr_err("reading counters: %s\n", strerror(-err));
			return 1;
		}
		find_daemon_prog(info.id, c->pin_path, &d);
		printf(",\"program\":");
		if (d.id)
			printf("{\"id\":%u,\"name\":\"%s\"}", d.id, FM_XDP_PROG_NAME);
		else
			printf("null");
		nslots = d.have_state ? (int)d.state.nr_ifaces : d.nr_ifaces;
		if (!d.id && !d.have_state)
			for (int slot = FM_MAX_IFACES; slot > 0 && !nslots; slot--)
				if (sum[slot].packets)
					nslots = slot;
		if (nslots > FM_MAX_IFACES)
			nslots = FM_MAX_IFACES;
		printf(",\"interfaces\":[");
		for (int slot = 1; slot <= nslots; slot++) {
			if (n++)
				putchar(',');
			attached += json_iface(slot, &d, &sum[slot], &out[slot]);
		}
		printf("],\"interfaces_attached\":%d,\"other_packets\":%llu", attached,
		       (unsigned long long)sum[0].packets);
		if (d.have_state)
			printf(",\"daemon\":{\"updated_ms\":%llu,\"flows\":%llu,"
			       "\"table_limit\":%llu,\"staged\":%llu,\"other_netns\":%s}",
			       (unsigned long long)d.state.updated_ms,
			       (unsigned long long)d.state.flows,
			       (unsigned long long)d.state.table_limit,
			       (unsigned long long)d.state.staged,
			       d.other_netns ? "true" : "false");
		json_maps(c->pin_path);
	} else {
		printf(",\"program\":null,\"interfaces\":[],\"interfaces_attached\":0");
	}
	if (c->db && json_metrics(c->db))
		err = -EIO;
	printf("}\n");
	return err ? 1 : 0;
}
