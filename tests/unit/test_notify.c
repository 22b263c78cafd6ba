// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * sd_notify's protocol (daemon/notify.h): one datagram to $NOTIFY_SOCKET,
 * a path or an abstract "@name", nothing without it, errors returned.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include "../testlib.h"
#include "daemon/notify.h"

TESTLIB_MAIN("notify")

/* A datagram socket bound to name (a path, or "@name": abstract). */
static int listener(const char *name)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t len = strlen(name);
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	memcpy(sa.sun_path, name, len);
	if (name[0] == '@')
		sa.sun_path[0] = 0;
	else
		len++;
	if (bind(fd, (struct sockaddr *)&sa,
		 (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len))) {
		close(fd);
		return -1;
	}
	return fd;
}

static const char *receive(int fd)
{
	static char buf[4096];
	ssize_t n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);

	buf[n > 0 ? n : 0] = 0;
	return buf;
}

TEST(path_socket)
{
	char path[64];
	int fd;

	snprintf(path, sizeof(path), "/tmp/fm-test-notify-%d.sock", (int)getpid());
	unlink(path);
	fd = listener(path);
	ASSERT_TRUE(fd >= 0, "bind");
	setenv("NOTIFY_SOCKET", path, 1);
	EXPECT_EQ(fm_notify("READY=1\nSTATUS=up"), 1, "sent");
	EXPECT_STREQ(receive(fd), "READY=1\nSTATUS=up", "one datagram, as given");
	EXPECT_EQ(fm_notifyf("STATUS=%d of %d", 1, 2), 1, "formatted");
	EXPECT_STREQ(receive(fd), "STATUS=1 of 2", "formatted");
	close(fd);
	unlink(path);
	EXPECT_TRUE(fm_notify("STOPPING=1") < 0, "no listener: an error");
	unsetenv("NOTIFY_SOCKET");
}

TEST(abstract_socket)
{
	char name[64];
	int fd;

	snprintf(name, sizeof(name), "@fm-test-notify-%d", (int)getpid());
	fd = listener(name);
	ASSERT_TRUE(fd >= 0, "bind");
	setenv("NOTIFY_SOCKET", name, 1);
	EXPECT_EQ(fm_notify("STOPPING=1"), 1, "sent");
	EXPECT_STREQ(receive(fd), "STOPPING=1", "to the abstract name");
	close(fd);
	unsetenv("NOTIFY_SOCKET");
}

TEST(no_socket)
{
	unsetenv("NOTIFY_SOCKET");
	EXPECT_EQ(fm_notify("READY=1"), 0, "not under systemd: nothing");
	EXPECT_EQ(fm_notifyf("STATUS=%s", "x"), 0, "not under systemd: nothing");
	setenv("NOTIFY_SOCKET", "vsock:2:1234", 1);
	EXPECT_EQ(fm_notify("READY=1"), -EAFNOSUPPORT, "unsupported address");
	setenv("NOTIFY_SOCKET", "@", 1);
	EXPECT_EQ(fm_notify("READY=1"), -EAFNOSUPPORT, "empty abstract name");
	unsetenv("NOTIFY_SOCKET");
}
