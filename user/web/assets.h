/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The web view's files, embedded at build time (tools/embed-assets.sh). */
#ifndef FM_WEB_ASSETS_H
#define FM_WEB_ASSETS_H

#include <stddef.h>

struct web_asset {
	const char *path; /* "/static/app.js" */
	const char *type; /* Content-Type */
	const unsigned char *data;
	size_t len;
};

/* Ends with an entry whose path is NULL. */
extern const struct web_asset web_assets[];

#endif
