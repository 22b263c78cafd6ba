// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "table/record.h"

const char *fm_end_reason_str(enum fm_end_reason r)
{
	static const char *const names[FM_END__MAX] = {
		[FM_END_IDLE] = "idle",		[FM_END_ACTIVE] = "active",
		[FM_END_TCP_END] = "tcp_end",	[FM_END_SHUTDOWN] = "shutdown",
		[FM_END_PRESSURE] = "pressure", [FM_END_OVERFLOW] = "overflow",
	};

	if ((unsigned)r >= FM_END__MAX)
		return "unknown";
	return names[r];
}
