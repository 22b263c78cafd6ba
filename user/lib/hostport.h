/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* A listening address as given on the command line. */
#ifndef FM_HOSTPORT_H
#define FM_HOSTPORT_H

#include <sys/socket.h>

/*
 * Parse ADDR:PORT, [IPv6]:PORT, :PORT or PORT (the address then def_addr,
 * e.g. "127.0.0.1") into *ss and *len; numeric addresses only, port 1 to
 * 65535. Returns 0 or -EINVAL.
 */
int hostport_parse(const char *s, const char *def_addr, struct sockaddr_storage *ss,
		   socklen_t *len);

#endif
