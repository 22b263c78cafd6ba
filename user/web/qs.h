/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The web view's query strings: "a=1&b=x%20y" split and percent-decoded
 * into bounded key/value pairs (qs_parse), and the pairs read as the
 * filters every page and /api/ endpoint takes (web_filter_parse). Both
 * take anything a client sends: every length and count is bounded, and
 * whatever is refused says why in words for the error page.
 */
#ifndef FM_WEB_QS_H
#define FM_WEB_QS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define QS_MAX_LEN 2048	 /* a whole query string, as received */
#define QS_MAX_PARAMS 16 /* key=value pairs */
#define QS_KEY_MAX 16	 /* bytes of a key, with its NUL */
#define QS_VAL_MAX 256	 /* bytes of a decoded value, with its NUL */

struct qs_param {
	char key[QS_KEY_MAX];
	char val[QS_VAL_MAX];
};

struct qs {
	int n;
	struct qs_param p[QS_MAX_PARAMS];
};

/*
 * Split and decode s (len bytes, no NUL needed; a leading '?' is skipped).
 * Keys are [a-z0-9_] only; values are percent-decoded ('+' is a space) and
 * may not hold a NUL or a control character. Empty pairs ("a=1&&b=2") are
 * skipped; a key without '=' has the value "". Returns 0, or -EINVAL (bad
 * key, bad escape, control character, a key twice) or -E2BIG (too long,
 * too many pairs) with why (len bytes) filled in.
 */
int qs_parse(const char *s, size_t len, struct qs *q, char *why, size_t why_len);
/* The value of key, or NULL. */
const char *qs_get(const struct qs *q, const char *key);

enum web_sort { SORT_BYTES, SORT_PACKETS, SORT_FLOWS };
enum web_group { GROUP_PROTOCOL, GROUP_DIRECTION };

#define WEB_LIMIT_DEFAULT 25
#define WEB_LIMIT_MAX 1000
#define WEB_BUCKETS_MAX 1000 /* points of a time series */
#define WEB_LAST_DEFAULT_MS (3600 * 1000LL)
#define WEB_WINDOW_MAX_MS (3660LL * 86400 * 1000) /* ten years */

/* The filters of a request. Absent ones are -1 or "". */
struct web_filter {
	int64_t since_ms, until_ms; /* the window, [since, until) */
	bool window_given;	    /* since, until or last was in the query */
	int64_t step_ms;	    /* a time series' bucket */
	char iface[32];		    /* interface name */
	int direction;		    /* 0 ingress, 1 egress */
	int protocol;		    /* IP protocol number */
	int port;		    /* either port */
	/* Address or network: addr as inet_ntop prints it, prefix -1 for one
	 * address; net the network's bytes (4 or 16 of them, by family). */
	char addr[48];
	int prefix, family;
	unsigned char net[16];
	unsigned limit;
	enum web_sort sort;
	enum web_group group;
	char token[128]; /* ?token=, checked by the server */
};

/*
 * Read the filters in q, for a request at now_ms. Keys: since, until (Unix
 * ms), last (N[smhd], up to ten years; default 1h), step (N[smhd]; default:
 * the window in about 120 buckets), interface, direction (ingress,
 * egress), protocol (a name such as tcp, or 0-255), addr (an IPv4 or IPv6
 * address, or a network in CIDR form), port (0-65535), limit (1-1000),
 * sort (bytes, packets, flows), by (protocol, direction), token. Any other
 * key is refused. Returns 0 or -EINVAL with why filled in.
 */
int web_filter_parse(const struct qs *q, int64_t now_ms, struct web_filter *f, char *why,
		     size_t why_len);

/* Whether the address text a (as inet_ntop prints it) lies in the
 * network of family (AF_INET, AF_INET6), bytes net and prefix bits. */
bool web_net_contains(int family, const unsigned char *net, int prefix, const char *a);

#endif
