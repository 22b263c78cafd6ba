/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Leveled logging to stderr; libbpf's own messages come through here too. */
#ifndef FM_LOG_H
#define FM_LOG_H

enum fm_log_level {
	LOG_LVL_WARN = 0,	/* always shown unless -q */
	LOG_LVL_INFO = 1,	/* default */
	LOG_LVL_DEBUG = 2,	/* -v */
	LOG_LVL_LIBBPF = 3,	/* -vv: libbpf's debug output */
};

extern int fm_log_level;	/* highest level printed; -1 with -q prints errors only */

void fm_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Route libbpf's messages: its warnings become our debug lines. */
void fm_log_setup_libbpf(void);

#define pr_err(fmt, ...) fm_log(-1, fmt, ##__VA_ARGS__)
#define pr_warn(fmt, ...) fm_log(LOG_LVL_WARN, fmt, ##__VA_ARGS__)
#define pr_info(fmt, ...) fm_log(LOG_LVL_INFO, fmt, ##__VA_ARGS__)
#define pr_debug(fmt, ...) fm_log(LOG_LVL_DEBUG, fmt, ##__VA_ARGS__)

#endif
