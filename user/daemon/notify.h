/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * systemd's service notification (sd_notify(3)) without libsystemd: one
 * datagram of "KEY=VALUE" lines to the AF_UNIX socket $NOTIFY_SOCKET names
 * (a path, or "@name" for an abstract socket). The unit is Type=notify:
 * READY=1 once every interface is attached, STATUS= a line each metrics
 * interval, STOPPING=1 when a stop begins. Without $NOTIFY_SOCKET (not run
 * by systemd) every call does nothing.
 */
#ifndef FM_NOTIFY_H
#define FM_NOTIFY_H

/*
 * Send msg ("READY=1\nSTATUS=...") to $NOTIFY_SOCKET. Returns 1 when sent,
 * 0 without $NOTIFY_SOCKET, or -errno (a bad address, no listener).
 */
int fm_notify(const char *msg);
/* fm_notify of a printf-formatted message. */
int fm_notifyf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
