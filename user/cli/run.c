// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * flowmaster run: attach, then every poll interval swap the flow
 * generations, drain the idle one into the flow table, export what expired
 * and hand it to the SQLite writer. Nothing the kernel counted is dropped:
 * records the writer cannot take yet wait in a backlog here.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <net/if.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <linux/capability.h>
#include <linux/magic.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "kernel/attach.h"
#include "kernel/pins.h"
#include "lib/clock.h"
#include "cli/cli.h"
#include "cli/run.h"
#include "daemon/daemon.h"
#include "kernel/drain.h"
#include "table/flowtab.h"
#include "kernel/loader.h"
#include "lib/log.h"
#include "daemon/metrics.h"
#include "daemon/notify.h"
#include "daemon/prom.h"
#include "daemon/sizing.h"
#include "store/store.h"

#define DOORBELL_MIN_GAP_MS 100 /* a swap costs an RCU grace period (8-20 ms) */
#define SHUTDOWN_WAIT_MS 30000	/* how long a stop waits for a stuck writer */
#define PRESSURE_HIGH 0.9	/* of --memory-limit: RSS above this sheds memory */
#define PRESSURE_LOW 0.7	/* ...and below this the cache grows back */
#define LOG_FILE_MODE 0640	/* the log names interfaces and paths: not for everyone */

/* Older UAPI headers lack the split-out capabilities (Linux 5.8). */
#ifndef CAP_PERFMON
#define CAP_PERFMON 38
#endif
#ifndef CAP_BPF
#define CAP_BPF 39
#endif

struct run_state {
	struct run_cfg *cfg;
	struct loader l;
	struct daemon dm; /* kernel -> flow table -> sinks */
	struct store *st;
	struct sink store_sink;
	int64_t start_ms;
	struct metrics metrics;		     /* the last interval's readings */
	struct pin_dir pins;		     /* the locked pin directory */
	size_t cache_capacity;		     /* device cache entries now in effect */
	uint64_t rss_events;		     /* times RSS over the limit shed flows and cache */
	int64_t rss_hold_until;		     /* monotonic ms: let RSS settle after shedding */
	bool warned_no_links;		     /* every interface is gone: said so once */
	bool warned_back[FM_MAX_IFACES + 1]; /* a slot's interface is back, attach failed */
	struct prom *prom;		     /* --metrics-listen, or NULL */
};

static void write_metrics(struct run_state *s, int64_t now_ms)
{
	const struct metrics_src src = {
		.l = &s->l,
		.dm = &s->dm,
		.st = s->st,
		.memory_limit_mb = s->cfg->memory_limit_mb,
		.rss_events = s->rss_events,
		.start_ms = s->start_ms,
		.prom = s->prom,
	};

	metrics_write(&s->metrics, &src, now_ms);
	run_ipfix_metrics(s->st, now_ms);
}

/* systemd's STATUS= (Type=notify): what is attached, the last interval's
 * rate (since prev_packets at prev_ms) and the flows. */
static void notify_status(struct run_state *s, uint64_t prev_packets, int64_t prev_ms)
{
	double dt = (double)(s->metrics.last_ms - prev_ms) / 1000.0;

	fm_notifyf("STATUS=%d of %d interfaces attached; %.0f pps; %zu flows active; %" PRIu64
		   " records exported",
		   s->l.nr_links, s->cfg->nr_ifaces,
		   dt > 0 ? (double)(s->metrics.last_packets - prev_packets) / dt : 0.0,
		   flowtab_count(s->dm.ft), s->dm.records_exported);
}

/*
 * The flow table, the writer's queue and the device cache are sized to fit
 * --memory-limit, so RSS stays under it by construction. This is the
 * second line: should RSS pass PRESSURE_HIGH of the limit anyway (SQLite,
 * the allocator's slack), halve the device cache and export the oldest
 * quarter of the flows early ("pressure"); below PRESSURE_LOW, grow the
 * cache back. Freed memory is reused rather than returned, so RSS may not
 * fall at once: after shedding, wait an interval before judging again.
 */
static void check_rss(struct run_state *s, int64_t now_mono)
{
	double limit = (double)s->cfg->memory_limit_mb, rss = sizing_rss_mb();
	size_t want;

	if (now_mono < s->rss_hold_until || rss <= 0)
		return;
	if (rss > PRESSURE_HIGH * limit) {
		long out = daemon_shed(&s->dm, flowtab_count(s->dm.ft) / 4);

		want = s->cache_capacity / 2;
		if (s->st && !store_set_cache_capacity(s->st, want))
			s->cache_capacity = want;
		s->rss_events++;
		s->rss_hold_until = now_mono + (int64_t)s->cfg->metrics_s * 1000;
		pr_warn("memory pressure: RSS %.0f MiB of %.0f MiB limit; exported %ld oldest flows early%s, device cache now %zu entries\n",
			rss, limit, out,
			fanout_blocked(&s->dm.fan) ? " (the sinks took no more)" : "",
			s->cache_capacity);
	} else if (rss < PRESSURE_LOW * limit && s->cache_capacity < s->cfg->cache_size) {
		want = s->cache_capacity * 2;
		if (want > s->cfg->cache_size)
			want = s->cfg->cache_size;
		if (s->st && !store_set_cache_capacity(s->st, want)) {
			s->cache_capacity = want;
			pr_info("memory pressure eased (RSS %.0f MiB): device cache back to %zu entries\n",
				rss, want);
		}
	}
}

/*
 * Our bpf_link loses its interface in two ways: the interface is deleted
 * or moved to another network namespace (it takes the attachment with
 * it), or someone detaches the program (`flowmaster detach`, `ip link set
 * dev IF xdp off`, which detaches the link). Either way the kernel reports
 * the link with ifindex 0. Say which it was, record detached_ms and drop
 * the link. The interface's slot stays: its kernel counters are final and
 * its flows still in the table are exported as usual, so shutdown still
 * reconciles it.
 */
static void check_links(struct run_state *s)
{
	for (int i = s->l.nr_links - 1; i >= 0; i--) {
		struct loader_link *lk = &s->l.links[i];
		struct bpf_link_info info = { 0 };
		__u32 len = sizeof(info);
		char name[IF_NAMESIZE];
		struct fm_counters c = { 0 };
		int ifindex = lk->ifindex, slot = loader_slot_of(&s->l, (__u32)ifindex);
		const char *ifname = slot ? s->cfg->ifname[slot - 1] : "?";
		bool exists = if_indextoname((unsigned)ifindex, name) != NULL;

		if (!bpf_obj_get_info_by_fd(lk->link_fd, &info, &len)) {
			if (info.type != BPF_LINK_TYPE_XDP || info.xdp.ifindex)
				continue;
		} else if (exists) { /* cannot ask the link: ask the device */
			continue;
		}
		loader_read_counters(&s->l, (__u32)slot, &c);
		daemon_set_iface(&s->dm, slot, NULL, ifindex,
				 exists ? FM_IFS_DETACHED : FM_IFS_GONE, NULL);
		if (exists)
			pr_warn("%s: flowmaster's XDP program was detached from outside (flowmaster detach, or ip link set dev %s xdp off); the interface is no longer monitored, its %llu packets counted so far are kept\n",
				ifname, ifname, (unsigned long long)c.packets);
		else
			pr_warn("%s: interface gone (deleted or moved to another network namespace) while attached; no longer monitored, its %llu packets counted so far are kept\n",
				ifname, (unsigned long long)c.packets);
		if (s->st)
			store_interface_detach(s->st, ifindex, now_ms());
		loader_detach(&s->l, ifindex);
		daemon_publish(&s->dm);
	}
	/* The egress hook, taken away from outside: say so once, keep its counts. */
	for (int i = s->l.nr_tc - 1; i >= 0; i--) {
		int ifindex = s->l.tc[i].ifindex, slot = loader_slot_of(&s->l, (__u32)ifindex);

		if (!tc_detached(&s->l.tc[i]))
			continue;
		pr_warn("%s: flowmaster's egress program was detached from outside (flowmaster detach, tc filter del, or the interface went away); what leaves it is no longer counted\n",
			slot ? s->cfg->ifname[slot - 1] : "?");
		loader_detach_egress(&s->l, ifindex);
	}
	if (!s->l.nr_links && !s->l.nr_tc && !s->warned_no_links) {
		pr_warn("no interface left to monitor; still running until stopped\n");
		s->warned_no_links = true;
	}
}

static int read_mac(const char *ifname, char *out, size_t len)
{
	struct ifreq ifr = { 0 };
	unsigned char *m;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), err = 0;

	if (fd < 0)
		return -errno;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (ioctl(fd, SIOCGIFHWADDR, &ifr) < 0)
		err = -errno;
	close(fd);
	if (err)
		return err;
	m = (unsigned char *)ifr.ifr_hwaddr.sa_data;
	snprintf(out, len, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
	return 0;
}

/*
 * Attach the hooks --direction asks for on interface i; *mode names the
 * XDP mode (ingress) or, egress only, the TC attachment. Egress first,
 * so that once a request is counted arriving, its reply is counted leaving.
 */
static int attach_iface(struct run_state *s, int i, int ifindex, const char **mode)
{
	struct run_cfg *c = s->cfg;
	int err;

	if (RUN_EGRESS(c)) {
		struct tc_att *t;

		err = loader_attach_egress(&s->l, ifindex, c->tc_mode);
		if (err)
			return err;
		t = &s->l.tc[s->l.nr_tc - 1];
		*mode = fm_tc_mode_str(t->mode);
		pr_info("%s: egress attached (%s, ifindex %d, prog id %u)\n", c->ifname[i],
			fm_tc_mode_str(t->mode), ifindex, t->prog_id);
	}
	if (RUN_INGRESS(c)) {
		struct loader_link *lk;

		err = loader_attach(&s->l, ifindex, c->mode);
		if (err)
			return err;
		lk = &s->l.links[s->l.nr_links - 1];
		*mode = fm_xdp_mode_str(lk->mode);
		pr_info("%s: attached (%s XDP, ifindex %d, prog id %u)\n", c->ifname[i], *mode,
			ifindex, lk->prog_id);
	}
	return 0;
}

/*
 * An interface that went away (deleted, or moved to another network
 * namespace) and is back under its name, or one --wait-interface waited
 * for: point its slot at the new ifindex and attach. Checked every cycle
 * (one if_nametoindex per missing interface); not for a program detached
 * from outside, which was someone's decision. A failed attach (another
 * XDP program is there) is said once and tried again every cycle.
 */
static void check_returns(struct run_state *s)
{
	for (int slot = 1; slot <= s->cfg->nr_ifaces; slot++) {
		struct fm_daemon_iface *f = &s->dm.state.iface[slot];
		const char *name = s->cfg->ifname[slot - 1];
		bool waited = f->state == FM_IFS_WAITING;
		const char *mode = "?";
		char mac[32];
		int ifindex, err;
		LIBBPF_OPTS(bpf_xdp_query_opts, q);

		if (f->state != FM_IFS_GONE && !waited)
			continue;
		ifindex = (int)if_nametoindex(name);
		if (!ifindex)
			continue;
		if (RUN_INGRESS(s->cfg) && !bpf_xdp_query(ifindex, 0, &q) && q.prog_id) {
			if (!s->warned_back[slot])
				pr_warn("%s: %s, but another XDP program is attached (id %u); not attaching until it is removed (ip link set dev %s xdp off)\n",
					name, waited ? "appeared" : "is back", q.prog_id, name);
			s->warned_back[slot] = true;
			continue;
		}
		/* The egress attachment died with the old interface: forget it. */
		if (f->ifindex)
			loader_detach_egress(&s->l, (int)f->ifindex);
		loader_set_slot(&s->l, slot, ifindex);
		err = attach_iface(s, slot - 1, ifindex, &mode);
		if (err) {
			loader_detach_egress(&s->l, ifindex); /* all or nothing, next cycle */
			if (!s->warned_back[slot])
				pr_warn("%s: %s but attaching failed: %s; trying again every cycle\n",
					name, waited ? "appeared" : "is back", strerror(-err));
			s->warned_back[slot] = true;
			continue;
		}
		s->warned_back[slot] = false;
		if (read_mac(name, mac, sizeof(mac)))
			snprintf(mac, sizeof(mac), "?");
		if (s->st && store_interface_attach(s->st, name, ifindex, mac, mode, now_ms()))
			pr_warn("%s: its interfaces row could not be queued; its flows are stored without it\n",
				name);
		daemon_set_iface(&s->dm, slot, name, ifindex, FM_IFS_ATTACHED, mode);
		s->warned_no_links = false;
		if (RUN_INGRESS(s->cfg))
			pr_info("%s: %s: attached (%s XDP, ifindex %d, prog id %u)\n", name,
				waited ? "appeared" : "back", mode, ifindex,
				s->l.links[s->l.nr_links - 1].prog_id);
		else
			pr_info("%s: %s: attached (%s egress, ifindex %d)\n", name,
				waited ? "appeared" : "back", mode, ifindex);
		daemon_publish(&s->dm);
	}
}

/* Let the writer commit what it has queued, so the last metrics row
 * (flows_stored, batches) describes the finished run; store_close does the
 * rest if the database will not take them. Bounded: ~2 s without progress
 * is a stuck database. */
static void wait_for_writer(struct run_state *s, int64_t until)
{
	struct store_stats st;

	if (!s->st)
		return;
	store_flush(s->st);
	store_get_stats(s->st, &st);
	for (uint64_t written = st.rows_written, stall = 0;
	     st.pending && stall < 200 && mono_ms() < until; stall++) {
		usleep(10000);
		store_get_stats(s->st, &st);
		if (st.rows_written != written) {
			written = st.rows_written;
			stall = 0;
		}
	}
}

/* --direction both: one reconciliation line per direction; 1 on a mismatch. */
static int reconcile_directions(struct run_state *s, int i)
{
	static const char *const dir_name[] = { "in", "out" };
	uint64_t seen, exported;
	int ret = 0;

	for (int dir = 0; dir < 2; dir++) {
		if (daemon_slot_totals_dir(&s->dm, i + 1, dir, &seen, &exported))
			continue;
		if (seen == exported) {
			pr_info("%s %s: kernel saw %" PRIu64 " packets, %" PRIu64 " exported\n",
				s->cfg->ifname[i], dir_name[dir], seen, exported);
		} else {
			pr_err("%s %s: kernel saw %" PRIu64 " packets but %" PRIu64
			       " were exported\n",
			       s->cfg->ifname[i], dir_name[dir], seen, exported);
			ret = 1;
		}
	}
	return ret;
}

/* Detach, drain both generations and the ring, export everything, reconcile. */
static int shutdown_run(struct run_state *s)
{
	int64_t now = now_ms(), until = mono_ms() + SHUTDOWN_WAIT_MS;
	uint64_t unwritten = 0, undelivered, seen, exported;
	int err, ret = 0;

	for (int i = 0; i < s->cfg->nr_ifaces; i++) {
		int ifindex = s->l.ifindex[i];

		bool was = loader_detach(&s->l, ifindex) == 0;

		was |= loader_detach_egress(&s->l, ifindex) == 0;
		if (was && s->st)
			store_interface_detach(s->st, ifindex, now);
	}
	undelivered = daemon_finish(&s->dm, SHUTDOWN_WAIT_MS);
	if (undelivered) {
		pr_err("writer stuck: %" PRIu64 " records could not be handed to it%s\n",
		       undelivered,
		       s->cfg->ipfix_rate ?
			       " (or --ipfix-rate is too low for the flows at a stop)" :
			       "");
		ret = 1;
	}
	wait_for_writer(s, until);
	write_metrics(s, now_ms());

	for (int i = 0; i < s->l.nr_ifaces; i++) {
		if (s->cfg->direction != RUN_DIR_BOTH) {
			if (daemon_slot_totals(&s->dm, i + 1, &seen, &exported))
				continue;
			if (seen == exported) {
				pr_info("%s: kernel saw %" PRIu64 " packets, %" PRIu64
					" exported\n",
					s->cfg->ifname[i], seen, exported);
			} else {
				pr_err("%s: kernel saw %" PRIu64 " packets but %" PRIu64
				       " were exported\n",
				       s->cfg->ifname[i], seen, exported);
				ret = 1;
			}
			continue;
		}
		ret |= reconcile_directions(s, i);
	}
	run_ipfix_close();
	err = store_close(s->st, &unwritten);
	s->st = NULL;
	unwritten += undelivered;
	if (err || unwritten) {
		pr_err("%" PRIu64 " flow records could not be written to %s\n", unwritten,
		       s->cfg->db);
		ret = 1;
	} else {
		pr_info("%" PRIu64 " flow records %s %s\n", s->dm.records_exported,
			strcmp(s->cfg->db, "none") ? "written to" : "exported, --db", s->cfg->db);
	}
	pr_info("peak memory %.0f MiB (VmHWM) of the %" PRIu64 " MiB limit\n", sizing_peak_rss_mb(),
		s->cfg->memory_limit_mb);
	return ret;
}

/*
 * Point stderr, where every log line goes, at path (appending, created
 * LOG_FILE_MODE). dup2 swaps the file under fd 2 atomically, so the writer
 * thread logging meanwhile writes to the old file or the new one, never
 * nowhere. Returns 0 or -errno.
 */
static int open_log(const char *path)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, LOG_FILE_MODE);
	int err = 0;

	if (fd < 0)
		return -errno;
	if (fd != STDERR_FILENO) {
		if (dup2(fd, STDERR_FILENO) < 0)
			err = -errno;
		close(fd);
	}
	return err;
}

/* SIGHUP: after a log rotation (the file renamed away), log to a new file
 * at the path. Without --log-file there is nothing to reopen. */
static void reopen_log(const char *path)
{
	int err;

	if (!path) {
		pr_debug("SIGHUP: logging to stderr, nothing to reopen\n");
		return;
	}
	err = open_log(path);
	if (err)
		pr_warn("SIGHUP: reopening the log %s: %s; still logging to the old file\n", path,
			strerror(-err));
	else
		pr_info("SIGHUP: log reopened\n");
}

/*
 * Fail early, with what to do, when loading and attaching will be refused:
 * BPF needs CAP_BPF and CAP_PERFMON (or CAP_SYS_ADMIN, which implies them),
 * XDP attachment CAP_NET_ADMIN. Returns 0 when they are there (or the
 * capabilities cannot be read: the kernel then has the last word).
 */
static int check_privileges(void)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3] = { { 0 } };
	static const struct {
		int cap;
		const char *name;
	} need[] = {
		{ CAP_BPF, "CAP_BPF" },
		{ CAP_NET_ADMIN, "CAP_NET_ADMIN" },
		{ CAP_PERFMON, "CAP_PERFMON" },
	};
	char missing[64] = "";
	bool sys_admin;

	if (syscall(SYS_capget, &h, d))
		return 0;
#define HAVE_CAP(c) (d[(c) / 32].effective & (1U << ((c) % 32)))
	sys_admin = HAVE_CAP(CAP_SYS_ADMIN);
	for (size_t i = 0; i < sizeof(need) / sizeof(need[0]); i++) {
		if (HAVE_CAP(need[i].cap) || (sys_admin && need[i].cap != CAP_NET_ADMIN))
			continue;
		snprintf(missing + strlen(missing), sizeof(missing) - strlen(missing), "%s%s",
			 *missing ? ", " : "", need[i].name);
	}
#undef HAVE_CAP
	if (!*missing)
		return 0;
	pr_err("run needs root or CAP_BPF, CAP_NET_ADMIN and CAP_PERFMON (missing: %s); run it as root (e.g. with sudo) or grant those capabilities\n",
	       missing);
	return -EPERM;
}

static int make_signalfd(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &set, NULL))
		return -errno;
	signal(SIGPIPE, SIG_IGN);
	return signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
}

static int epoll_add(int ep, int fd)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };

	return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) ? -errno : 0;
}

/* Returns 0 on a requested stop, or a negative errno. */
static int main_loop(struct run_state *s, int sfd)
{
	struct run_cfg *c = s->cfg;
	int64_t now = mono_ms(), next_drain = now + c->poll_ms;
	int64_t end = c->duration_s ? now + (int64_t)c->duration_s * 1000 : INT64_MAX;
	int64_t last_swap = now, next_metrics = now + (int64_t)c->metrics_s * 1000;
	struct epoll_event evs[4];
	int ep, err;

	ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0)
		return -errno;
	err = epoll_add(ep, sfd);
	if (!err)
		err = epoll_add(ep, drain_ring_fd(&s->dm.d));
	if (err) {
		pr_err("epoll: %s\n", strerror(-err));
		goto out;
	}

	for (;;) {
		int64_t wait = next_drain < end ? next_drain - now : end - now;
		int n = epoll_wait(ep, evs, 4, wait < 0 ? 0 : (int)wait);

		if (n < 0 && errno != EINTR) {
			err = -errno;
			break;
		}
		for (int i = 0; i < n; i++) {
			struct signalfd_siginfo si;

			if (evs[i].data.fd != sfd) {
				daemon_ring(&s->dm);
				continue;
			}
			while (read(sfd, &si, sizeof(si)) == sizeof(si)) {
				if (si.ssi_signo == SIGHUP) {
					reopen_log(c->log_file);
					continue;
				}
				pr_info("%s: stopping\n", strsignal((int)si.ssi_signo));
				goto out;
			}
		}
		now = mono_ms();
		if (now >= end)
			break;
		if (now >= next_drain ||
		    (s->dm.d.doorbell && now - last_swap >= DOORBELL_MIN_GAP_MS)) {
			daemon_cycle(&s->dm);
			check_links(s);
			check_returns(s);
			check_rss(s, now);
			prom_publish_daemon(s->prom, &s->dm);
			last_swap = now;
			next_drain = now + c->poll_ms;
			if (now >= next_metrics) {
				uint64_t prev_packets = s->metrics.last_packets;
				int64_t prev_ms = s->metrics.last_ms;

				write_metrics(s, s->dm.now_ms(&s->dm));
				notify_status(s, prev_packets, prev_ms);
				next_metrics = now + (int64_t)c->metrics_s * 1000;
			}
		}
	}
out:
	close(ep);
	return err;
}

/*
 * Share --memory-limit between the flow table, the writer's queue, the
 * device cache and SQLite's page cache (sizing_budget), and say so.
 * Returns 0, or 2 (a usage error) when the limit cannot hold them.
 */
static int apply_budget(struct run_cfg *c, struct budget *b, bool cache_given)
{
	int err = sizing_budget(b, c->memory_limit_mb, c->ringbuf_bytes, c->cache_size, cache_given,
				c->machine.queue_records, sizeof(struct fm_record),
				flowtab_flow_bytes(), store_cache_entry_bytes());

	if (err) {
		fprintf(stderr,
			"flowmaster: --memory-limit %" PRIu64 " MiB is too small: at least %" PRIu64
			" MiB are needed%s\n",
			c->memory_limit_mb, b->min_mb,
			cache_given ? " with this --cache-size" : "");
		return 2;
	}
	if (b->cache_size < c->cache_size)
		pr_info("device cache: %" PRIu64 " entries fit the memory limit (not %" PRIu64
			")\n",
			b->cache_size, c->cache_size);
	c->cache_size = b->cache_size;
	return 0;
}

int cmd_run(int argc, char **argv)
{
	struct run_cfg cfg;
	struct run_state s = { .cfg = &cfg, .pins = { .fd = -1 } };
	struct loader_opts lo = {
		.doorbell_pct = 50,
		.doorbell_every = 4096,
	};
	struct daemon_opts dopts = { 0 };
	struct store_opts so = { 0 };
	struct budget budget;
	char mac[32];
	int err, sfd = -1, ret = 1;

	err = run_parse_args(argc, argv, &cfg);
	if (err != OPTS_RUN)
		return err;
	fm_log_stamped = true; /* a daemon's log: when, not only what */
	err = apply_budget(&cfg, &budget, cfg.cache_size != cfg.machine.cache_size);
	if (err)
		return err;
	if (cfg.log_file) {
		err = open_log(cfg.log_file);
		if (err) {
			pr_err("log file %s: %s\n", cfg.log_file, strerror(-err));
			return 1;
		}
	}
	run_log_config(&cfg);
	if (check_privileges())
		return 1;
	/* Before the slow start-up, so a stop request then is not lost: it
	 * is read at the first turn of the main loop and shuts down cleanly. */
	sfd = make_signalfd();
	if (sfd < 0) {
		pr_err("signalfd: %s\n", strerror(errno));
		return 1;
	}
	for (int i = 0; i < cfg.nr_ifaces; i++) {
		lo.ifindex[i] = if_nametoindex(cfg.ifname[i]);
		if (!lo.ifindex[i] && cfg.wait_iface) {
			pr_info("%s: no such interface yet; waiting for it (--wait-interface)\n",
				cfg.ifname[i]);
		} else if (!lo.ifindex[i]) {
			pr_err("%s: no such interface (--wait-interface starts without it and attaches when it appears)\n",
			       cfg.ifname[i]);
			goto cleanup_sfd;
		}
		for (int j = 0; j < i; j++)
			if (!strcmp(cfg.ifname[j], cfg.ifname[i]) ||
			    (lo.ifindex[i] && lo.ifindex[j] == lo.ifindex[i])) {
				fprintf(stderr, "flowmaster: %s given twice\n", cfg.ifname[i]);
				ret = 2;
				goto cleanup_sfd;
			}
	}
	/* Fail before the slow part (preallocating the maps) when an
	 * interface is taken; the attach would be refused anyway. */
	for (int i = 0; i < cfg.nr_ifaces && RUN_INGRESS(&cfg); i++) {
		LIBBPF_OPTS(bpf_xdp_query_opts, q);

		if (lo.ifindex[i] && !bpf_xdp_query(lo.ifindex[i], 0, &q) && q.prog_id) {
			pr_err("%s: another XDP program is already attached (id %u); remove it (ip link set dev %s xdp off, or flowmaster detach -i %s if it is a flowmaster's) or pick another interface\n",
			       cfg.ifname[i], q.prog_id, cfg.ifname[i], cfg.ifname[i]);
			goto cleanup_sfd;
		}
	}
	lo.nr_ifaces = cfg.nr_ifaces;
	lo.max_flows = cfg.max_flows;
	lo.ringbuf_bytes = (__u32)cfg.ringbuf_bytes;
	dopts.to = (struct flowtab_timeouts){
		.idle_ms = cfg.idle_s * 1000,
		.active_ms = cfg.active_s * 1000,
		.tcp_linger_ms = FLOWTAB_TCP_LINGER_MS_DEFAULT,
	};
	dopts.table_limit = budget.table_flows;

	so.path = cfg.db;
	so.index_addresses = cfg.index_addresses;
	so.cache_size = cfg.cache_size;
	so.queue_records = budget.queue_records;
	so.page_cache_kib = budget.page_cache_kib;
	so.retention_ms = (int64_t)cfg.retention_s * 1000;
	s.cache_capacity = cfg.cache_size;
	/* A bad --ipfix address is a usage error, found before anything is made. */
	err = run_ipfix_open(&cfg);
	if (err) {
		if (err == -EINVAL)
			ret = 2;
		goto cleanup_sfd;
	}
	/* The pin directory first: a second daemon on it, or a path that is
	 * not on bpffs, is refused before the database is created. */
	err = pins_lock(&s.pins, cfg.pin_path);
	if (err)
		goto cleanup_sfd;
	if (strcmp(cfg.db, "none")) {
		err = store_open(&s.st, &so);
		if (err)
			goto cleanup_pins;
		store_sink_init(&s.store_sink, s.st);
	}
	err = loader_open(&s.l, &lo);
	if (err)
		goto cleanup_store;
	err = daemon_init(&s.dm, &s.l, &dopts);
	if (err)
		goto cleanup_loader;
	if (s.st)
		daemon_add_sink(&s.dm, &s.store_sink);
	err = run_ipfix_add(&s.dm);
	if (err)
		goto cleanup_daemon;
	err = pins_pin(&s.pins, &s.l);
	if (err)
		goto cleanup_daemon;
	s.start_ms = s.metrics.last_ms = now_ms();
	for (int i = 0; i < cfg.nr_ifaces; i++) {
		const char *mode = "?";

		if (!lo.ifindex[i]) { /* --wait-interface: check_returns attaches it */
			daemon_set_iface(&s.dm, i + 1, cfg.ifname[i], 0, FM_IFS_WAITING, NULL);
			continue;
		}
		err = attach_iface(&s, i, lo.ifindex[i], &mode);
		if (err)
			goto cleanup_links;
		if (read_mac(cfg.ifname[i], mac, sizeof(mac)))
			snprintf(mac, sizeof(mac), "?");
		err = !s.st ? 0 :
			      store_interface_attach(s.st, cfg.ifname[i], lo.ifindex[i], mac, mode,
						     now_ms());
		if (err)
			goto cleanup_links;
		daemon_set_iface(&s.dm, i + 1, cfg.ifname[i], lo.ifindex[i], FM_IFS_ATTACHED, mode);
	}
	err = s.st ? store_start(s.st) : 0;
	if (err)
		goto cleanup_links;
	if (cfg.metrics_listen) {
		err = prom_start(&s.prom, cfg.metrics_listen);
		if (err)
			goto cleanup_links;
		prom_publish_daemon(s.prom, &s.dm);
	}
	pr_info("machine: %d CPUs, %" PRIu64 " MiB; max-flows %" PRIu64
		" per generation (x2, %.0f MiB of kernel memory), ring %u KiB\n",
		cfg.machine.cpus, cfg.machine.mem_mb, cfg.max_flows,
		loader_map_memory(&s.l) / 1048576.0, lo.ringbuf_bytes >> 10);
	pr_info("memory-limit %" PRIu64 " MiB: flow table %" PRIu64 " flows, writer queue %" PRIu64
		" records, device cache %" PRIu64 " entries, SQLite cache %" PRIu64 " MiB\n",
		cfg.memory_limit_mb, budget.table_flows, budget.queue_records, budget.cache_size,
		budget.page_cache_kib >> 10);
	pr_info("db %s; poll %" PRIu64 " ms; idle %" PRIu64 " s, active %" PRIu64
		" s; metrics every %" PRIu64 " s; pins in %s\n",
		cfg.db, cfg.poll_ms, cfg.idle_s, cfg.active_s, cfg.metrics_s, cfg.pin_path);
	if (cfg.retention_s)
		pr_info("retention %" PRIu64
			" s: older flows and metrics are deleted, their totals kept in the retired table\n",
			cfg.retention_s);

	daemon_publish(&s.dm);
	if (fm_notifyf("READY=1\nMAINPID=%d\nSTATUS=%d of %d interfaces attached; starting",
		       (int)getpid(), s.l.nr_links, cfg.nr_ifaces) < 0)
		pr_warn("NOTIFY_SOCKET %s: cannot notify systemd\n", getenv("NOTIFY_SOCKET"));
	err = main_loop(&s, sfd);
	if (err)
		pr_err("main loop: %s\n", strerror(-err));
	fm_notify("STOPPING=1\nSTATUS=stopping: exporting the open flows");
	ret = shutdown_run(&s) || err ? 1 : 0;

cleanup_links:
	prom_stop(s.prom);
	s.prom = NULL;
	while (s.l.nr_links)
		loader_detach(&s.l, s.l.links[0].ifindex);
	while (s.l.nr_tc)
		loader_detach_egress(&s.l, s.l.tc[0].ifindex);
cleanup_daemon:
	daemon_free(&s.dm);
cleanup_loader:
	loader_close(&s.l);
cleanup_store:
	if (s.st)
		store_close(s.st, NULL);
cleanup_pins:
	pins_release(&s.pins);
cleanup_sfd:
	run_ipfix_close();
	close(sfd);
	return ret;
}
