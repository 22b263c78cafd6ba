// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* sd_notify's protocol: a datagram to $NOTIFY_SOCKET (daemon/notify.h). */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include "daemon/notify.h"

#define NOTIFY_MSG_MAX 4096

int fm_notify(const char *msg)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t len, msg_len = strlen(msg);
	socklen_t sa_len;
	ssize_t n;
	int fd, err = 0;

	if (!path || !*path)
		return 0;
	len = strlen(path);
	/* A path or an abstract name ("@name": a leading NUL, not counted
	 * as a terminator); nothing else (e.g. vsock:) is supported. */
	if ((path[0] != '/' && path[0] != '@') || len >= sizeof(sa.sun_path) || len < 2)
		return -EAFNOSUPPORT;
	memcpy(sa.sun_path, path, len);
	if (path[0] == '@')
		sa.sun_path[0] = 0;
	sa_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len + (path[0] == '/'));
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	n = sendto(fd, msg, msg_len, MSG_NOSIGNAL, (struct sockaddr *)&sa, sa_len);
	if (n < 0)
		err = -errno;
	else if ((size_t)n != msg_len)
		err = -EMSGSIZE;
	close(fd);
	return err ? err : 1;
}

int fm_notifyf(const char *fmt, ...)
{
	char msg[NOTIFY_MSG_MAX];
	va_list ap;

	if (!getenv("NOTIFY_SOCKET"))
		return 0;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return fm_notify(msg);
}
