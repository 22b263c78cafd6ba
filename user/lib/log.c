// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <stdarg.h>
#include <stdio.h>
#include <bpf/libbpf.h>
#include "lib/log.h"

int fm_log_level = LOG_LVL_INFO;

static const char *const prefix[] = { "error: ", "warning: ", "", "debug: ", "libbpf: " };

void fm_log(int level, const char *fmt, ...)
{
	va_list ap;

	if (level > fm_log_level)
		return;
	fputs(prefix[level + 1], stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
}

static int libbpf_print(enum libbpf_print_level lvl, const char *fmt, va_list ap)
{
	/* libbpf warns about things we handle (e.g. probing native XDP), so
	 * its warnings are our debug output and its debug output needs -vv. */
	int level = lvl == LIBBPF_DEBUG ? LOG_LVL_LIBBPF : LOG_LVL_DEBUG;

	if (level > fm_log_level)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

void fm_log_setup_libbpf(void)
{
	libbpf_set_print(libbpf_print);
}
