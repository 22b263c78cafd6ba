// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* ADDR:PORT arguments; see hostport.h. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lib/hostport.h"

int hostport_parse(const char *s, const char *def_addr, struct sockaddr_storage *ss, socklen_t *len)
{
	char host[64];
	const char *port_s, *colon;
	char *end;
	unsigned long port;
	size_t hl;
	bool bracket;

	memset(ss, 0, sizeof(*ss));
	if (!s || !*s)
		return -EINVAL;
	bracket = *s == '[';
	if (bracket) { /* [IPv6]:PORT */
		const char *rb = strchr(s, ']');

		if (!rb || rb[1] != ':')
			return -EINVAL;
		hl = (size_t)(rb - s - 1);
		if (hl >= sizeof(host))
			return -EINVAL;
		memcpy(host, s + 1, hl);
		host[hl] = 0;
		port_s = rb + 2;
	} else if ((colon = strrchr(s, ':'))) {
		hl = (size_t)(colon - s);
		if (hl >= sizeof(host))
			return -EINVAL;
		memcpy(host, s, hl);
		host[hl] = 0;
		port_s = colon + 1;
	} else { /* a bare port */
		host[0] = 0;
		port_s = s;
	}
	/* An IPv6 address only in brackets, and brackets only around one. */
	if (*host && bracket != (strchr(host, ':') != NULL))
		return -EINVAL;
	if (!*host)
		snprintf(host, sizeof(host), "%s", def_addr);
	errno = 0;
	port = strtoul(port_s, &end, 10);
	if (!*port_s || *end || errno || port < 1 || port > 65535 || *port_s == '-' ||
	    *port_s == '+')
		return -EINVAL;
	if (strchr(host, ':')) {
		struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;

		if (inet_pton(AF_INET6, host, &a6->sin6_addr) != 1)
			return -EINVAL;
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons((uint16_t)port);
		*len = sizeof(*a6);
	} else {
		struct sockaddr_in *a4 = (struct sockaddr_in *)ss;

		if (inet_pton(AF_INET, host, &a4->sin_addr) != 1)
			return -EINVAL;
		a4->sin_family = AF_INET;
		a4->sin_port = htons((uint16_t)port);
		*len = sizeof(*a4);
	}
	return 0;
}
