// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The daemon's pipeline from the kernel to the sinks; see daemon.h. */
#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <stdio.h>
#include <unistd.h>
#include <sys/stat.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "bpf/flowmaster.h"
#include "flowmaster.skel.h"
#include "daemon/daemon.h"
#include "lib/clock.h"
#include "lib/log.h"

/* The flow table's and the drain's emit: stage the record for the sinks
 * and count it as exported once the fan-out has it. */
static int daemon_emit(const struct fm_record *r, void *ctx)
{
	struct daemon *dm = ctx;
	int err = fanout_emit(r, &dm->fan);

	if (err)
		return err;
	dm->exported[loader_slot_of(dm->l, r->key.ifindex)][r->key.direction == FM_DIR_EGRESS] +=
		r->packets;
	dm->records_exported++;
	return 0;
}

static int64_t drain_clock_now(struct daemon *dm)
{
	return drain_now_ms(&dm->d);
}

int daemon_init(struct daemon *dm, struct loader *l, const struct daemon_opts *o)
{
	int err;

	memset(dm, 0, sizeof(*dm));
	dm->l = l;
	dm->to = o->to;
	dm->now_ms = drain_clock_now;
	dm->ft = flowtab_new(o->table_limit && o->table_limit < l->max_flows ? o->table_limit :
									       l->max_flows);
	if (!dm->ft) {
		pr_err("flow table: %s\n", strerror(errno));
		return -ENOMEM;
	}
	flowtab_set_limit(dm->ft, o->table_limit);
	err = fanout_init(&dm->fan);
	if (err)
		goto fail;
	err = drain_init(&dm->d, l, dm->ft);
	if (err)
		goto fail;
	dm->d.emit = daemon_emit;
	dm->d.emit_ctx = dm;
	dm->inserts_at_swap = l->ctl->inserts;
	return 0;
fail:
	fanout_free(&dm->fan);
	flowtab_free(dm->ft);
	dm->ft = NULL;
	return err;
}

void daemon_free(struct daemon *dm)
{
	drain_free(&dm->d);
	fanout_free(&dm->fan);
	flowtab_free(dm->ft);
	dm->ft = NULL;
}

int daemon_add_sink(struct daemon *dm, struct sink *s)
{
	return fanout_add(&dm->fan, s);
}

long daemon_shed(struct daemon *dm, size_t n)
{
	size_t before = flowtab_count(dm->ft);

	/* A refusal (the sinks are full) just ends it: what went out went. */
	flowtab_evict_oldest(dm->ft, n, FM_END_PRESSURE, daemon_emit, dm);
	fanout_deliver(&dm->fan);
	return (long)(before - flowtab_count(dm->ft));
}

/*
 * Is there room for the active generation? At most (inserts since it
 * became active) of its flows are new to the table (most are usually
 * flows the table has already). What the table cannot take goes to the
 * sinks as records of their own; only when the sinks cannot take that
 * either does the generation stay in the kernel, which goes on counting
 * (its map, then the ring and the overflow counters) until room comes
 * back, instead of folding flows into unattributed counts here.
 */
static bool room_for_generation(struct daemon *dm)
{
	size_t limit = flowtab_limit(dm->ft), count = flowtab_count(dm->ft);
	uint64_t pending = dm->l->ctl->inserts - dm->inserts_at_swap;

	if (!limit || count + pending <= limit)
		return true;
	return count + pending - limit <= fanout_room(&dm->fan);
}

/* Swap generations and drain the idle one, unless deferred. */
static int swap_and_drain(struct daemon *dm, bool force)
{
	uint64_t inserts;
	long n;
	int fd;

	if (!force && !room_for_generation(dm)) {
		dm->deferred_swaps++;
		return 0;
	}
	inserts = dm->l->ctl->inserts;
	fd = loader_swap(dm->l);
	if (fd < 0) {
		pr_err("swapping flow generations: %s\n", strerror(-fd));
		return fd;
	}
	dm->inserts_at_swap = inserts;
	n = drain_generation(&dm->d, fd);
	return n < 0 ? (int)n : 0;
}

static int drain_all(struct daemon *dm, bool force)
{
	double t0 = clock_ms_f(CLOCK_MONOTONIC);
	long n;
	int err;

	drain_clock(&dm->d);
	err = swap_and_drain(dm, force);
	n = drain_ring(&dm->d);
	if (n < 0 && !err)
		err = (int)n;
	n = drain_unattributed(&dm->d, dm->now_ms(dm), daemon_emit, dm);
	if (n < 0 && n != -EAGAIN && !err)
		err = (int)n;
	dm->d.doorbell = false;
	dm->drain_ms = clock_ms_f(CLOCK_MONOTONIC) - t0;
	return err;
}

int daemon_cycle(struct daemon *dm)
{
	size_t limit = flowtab_limit(dm->ft);
	int err = drain_all(dm, false);

	if (err)
		pr_warn("drain: %s\n", strerror(-err));
	/* A refusal means the sinks are full: the rest waits in the table. */
	flowtab_expire(dm->ft, dm->now_ms(dm), &dm->to, daemon_emit, dm);
	if (limit && flowtab_count(dm->ft) > DAEMON_TABLE_HIGH * limit) {
		long shed =
			daemon_shed(dm, flowtab_count(dm->ft) - (size_t)(DAEMON_TABLE_LOW * limit));

		if (shed > 0) {
			dm->pressure_events++;
			dm->pressure_records += (uint64_t)shed;
		}
	}
	fanout_deliver(&dm->fan);
	daemon_publish(dm);
	return err;
}

void daemon_ring(struct daemon *dm)
{
	long r = drain_ring(&dm->d);

	if (r < 0)
		pr_warn("ring buffer: %s\n", strerror((int)-r));
}

uint64_t daemon_finish(struct daemon *dm, int wait_ms)
{
	int64_t until = mono_ms() + wait_ms;
	bool last_try = false;

	/* The swap's grace period also waits out programs still running
	 * after the detach; after two, both generations are quiescent. */
	for (int i = 0; i < 2; i++)
		if (drain_all(dm, true))
			pr_err("draining the kernel at shutdown failed; its counts are incomplete\n");
	fanout_flush(&dm->fan);
	for (;;) {
		long left;

		flowtab_flush(dm->ft, FM_END_SHUTDOWN, daemon_emit, dm);
		drain_unattributed(&dm->d, dm->now_ms(dm), daemon_emit, dm);
		left = fanout_deliver(&dm->fan);
		if (left < 0)
			break;
		if (!left && !flowtab_count(dm->ft))
			break;
		if (last_try)
			break;
		usleep(10000);
		last_try = mono_ms() >= until;
	}
	return dm->fan.staged + flowtab_count(dm->ft);
}

void daemon_set_iface(struct daemon *dm, int slot, const char *name, int ifindex,
		      enum fm_iface_state state, const char *mode)
{
	struct fm_daemon_iface *f = &dm->state.iface[slot];

	if (slot < 0 || slot > FM_MAX_IFACES)
		return;
	if (name)
		snprintf(f->name, sizeof(f->name), "%s", name);
	if (mode)
		snprintf(f->mode, sizeof(f->mode), "%s", mode);
	f->ifindex = (__u32)ifindex;
	f->state = state;
	if (slot > (int)dm->state.nr_ifaces)
		dm->state.nr_ifaces = (__u32)slot;
}

void daemon_publish(struct daemon *dm)
{
	struct fm_daemon_state *st = &dm->state;
	struct stat sb;
	__u32 zero = 0;

	if (!st->netns_ino && !stat("/proc/self/ns/net", &sb))
		st->netns_ino = sb.st_ino;
	st->pid = (__u32)getpid();
	st->updated_ms = (__u64)now_ms();
	st->flows = flowtab_count(dm->ft);
	st->table_limit = flowtab_limit(dm->ft);
	st->staged = dm->fan.staged;
	for (int slot = 0; slot <= FM_MAX_IFACES; slot++)
		for (int dir = 0; dir < 2; dir++) {
			st->iface[slot].exported[dir] = dm->exported[slot][dir];
			st->iface[slot].unattributed[dir] = dm->d.unattributed[slot][dir];
		}
	/* Only status reads it: a failure costs it a stale view, nothing else. */
	bpf_map_update_elem(bpf_map__fd(dm->l->skel->maps.daemon), &zero, st, BPF_ANY);
}

int daemon_slot_totals(struct daemon *dm, int slot, uint64_t *seen, uint64_t *exported)
{
	struct fm_counters c, e;
	int err = loader_read_counters(dm->l, (__u32)slot, &c);

	err = err ?: loader_read_counters_dir(dm->l, (__u32)slot, FM_DIR_EGRESS, &e);
	if (err)
		return err;
	*seen = c.packets + e.packets;
	*exported = dm->exported[slot][0] + dm->exported[slot][1];
	return 0;
}

int daemon_slot_totals_dir(struct daemon *dm, int slot, int dir, uint64_t *seen, uint64_t *exported)
{
	struct fm_counters c;
	int err = loader_read_counters_dir(dm->l, (__u32)slot, dir, &c);

	if (err)
		return err;
	*seen = c.packets;
	*exported = dm->exported[slot][dir == FM_DIR_EGRESS];
	return 0;
}
