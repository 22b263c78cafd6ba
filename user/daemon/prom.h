/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * --metrics-listen: the daemon's figures in the Prometheus text format
 * (version 0.0.4) at GET /metrics, served by libmicrohttpd from a thread of
 * its own.
 *
 * The HTTP thread never touches the daemon's live structures: the main loop
 * publishes a snapshot (prom_publish_daemon after each cycle,
 * prom_set_metrics with each interval's metrics rows), copied under a
 * mutex, and a scrape renders a private copy of that snapshot. What is
 * served: every metric of the metrics table (flowmaster_*, converted to
 * base units where the table uses ms or MiB, counters named *_total) and,
 * per interface and direction, the kernel's counters (packets and bytes
 * seen, parse errors by reason, fallbacks) and what was exported.
 */
#ifndef FM_PROM_H
#define FM_PROM_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct prom;
struct daemon;

/* Connections served at once, and seconds an idle one is kept. */
#define PROM_MAX_CONNECTIONS 16
#define PROM_TIMEOUT_S 10
#define PROM_DEFAULT_ADDR "127.0.0.1"

/* Listen on addr (as hostport_parse takes it, PROM_DEFAULT_ADDR when none). 0 and *out, or -errno
 * (logged, naming the address). */
int prom_start(struct prom **out, const char *addr);
/* Stop serving and free p; NULL is a no-op. */
void prom_stop(struct prom *p);

/* The metrics table's rows of one interval (copied). */
void prom_set_metrics(struct prom *p, int64_t ts_ms, const char *const *names, const double *values,
		      size_t n);
/* The kernel's per-interface counters and the daemon's interface states
 * and exports, read now (main thread). */
void prom_publish_daemon(struct prom *p, struct daemon *dm);

/*
 * Render the current snapshot as the text format into a malloc'ed buffer
 * (*len bytes, NUL-terminated). For the HTTP thread and the tests.
 * Returns NULL on ENOMEM.
 */
char *prom_render(struct prom *p, size_t *len);
/* A prom that only holds snapshots, serving nothing (unit tests). */
struct prom *prom_new(void);

#endif
