// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* IPFIX message encoder; see encode.h. */
#include <errno.h>
#include <string.h>
#include "ipfix/encode.h"
#include "ipfix/ipfix.h"

struct ie_spec {
	uint16_t id, len;
};

#define COMMON_HEAD                                                                                \
	{ IE_START_MS, 8 }, { IE_END_MS, 8 }, { IE_PACKET_DELTA, 8 },                              \
	{                                                                                          \
		IE_L2_OCTET_DELTA, 8                                                               \
	}
#define COMMON_TAIL                                                                                \
	{ IE_INGRESS_IF, 4 }, { IE_EGRESS_IF, 4 }, { IE_DIRECTION, 1 },                            \
	{                                                                                          \
		IE_END_REASON, 1                                                                   \
	}
#define L2_FIELDS                                                                                  \
	{ IE_SRC_MAC, 6 }, { IE_DST_MAC, 6 }, { IE_VLAN, 2 },                                      \
	{                                                                                          \
		IE_ETH_TYPE, 2                                                                     \
	}
#define L4_FIELDS                                                                                  \
	{ IE_SRC_PORT, 2 }, { IE_DST_PORT, 2 }, { IE_PROTOCOL, 1 }, { IE_TCP_FLAGS, 1 },           \
	{                                                                                          \
		IE_TOS, 1                                                                          \
	}

static const struct ie_spec tpl_ipv4[] = {
	COMMON_HEAD, { IE_OCTET_DELTA, 8 }, { IE_SRC_IPV4, 4 }, { IE_DST_IPV4, 4 },
	L4_FIELDS,   { IE_ICMP_V4, 2 },	    L2_FIELDS,		COMMON_TAIL,
};
static const struct ie_spec tpl_ipv6[] = {
	COMMON_HEAD, { IE_OCTET_DELTA, 8 }, { IE_SRC_IPV6, 16 }, { IE_DST_IPV6, 16 },
	L4_FIELDS,   { IE_ICMP_V6, 2 },	    L2_FIELDS,		 COMMON_TAIL,
};
static const struct ie_spec tpl_nonip[] = { COMMON_HEAD, L2_FIELDS, COMMON_TAIL };
static const struct ie_spec tpl_unattr[] = { COMMON_HEAD, COMMON_TAIL };
/* Scope first (one field), then the counters. */
static const struct ie_spec tpl_stats[] = {
	{ IE_DOMAIN_ID, 4 },	   { IE_EXPORTED_MSGS, 8 },  { IE_EXPORTED_FLOWS, 8 },
	{ IE_EXPORTED_OCTETS, 8 }, { IE_NOT_SENT_FLOWS, 8 },
};
static const struct ie_spec tpl_ifname[] = {
	{ IE_INGRESS_IF, 4 },
	{ IE_IF_NAME, IPFIX_IFNAME_LEN },
};

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const struct {
	const struct ie_spec *f;
	size_t n;
} tpls[] = {
	{ tpl_ipv4, N(tpl_ipv4) },     { tpl_ipv6, N(tpl_ipv6) },   { tpl_nonip, N(tpl_nonip) },
	{ tpl_unattr, N(tpl_unattr) }, { tpl_stats, N(tpl_stats) }, { tpl_ifname, N(tpl_ifname) },
};
/* Record lengths, set by ipfix_enc_init (the same values every time). */
static size_t reclens[N(tpls)];

size_t ipfix_tpl_reclen(enum ipfix_tpl t)
{
	size_t i = (size_t)t - IPFIX_TPL_IPV4, len = 0;

	if (i >= N(tpls))
		return 0;
	for (size_t j = 0; j < tpls[i].n; j++)
		len += tpls[i].f[j].len;
	return len;
}

enum ipfix_tpl ipfix_tpl_of(const struct fm_record *r)
{
	if (r->end_reason == FM_END_OVERFLOW)
		return IPFIX_TPL_UNATTR;
	if (r->key.eth_type == FM_ETH_P_IP)
		return IPFIX_TPL_IPV4;
	if (r->key.eth_type == FM_ETH_P_IPV6)
		return IPFIX_TPL_IPV6;
	return IPFIX_TPL_NONIP;
}

void ipfix_enc_init(struct ipfix_enc *e, uint8_t *buf, size_t cap, uint32_t domain)
{
	memset(e, 0, sizeof(*e));
	for (size_t i = 0; i < N(tpls); i++)
		reclens[i] = ipfix_tpl_reclen((enum ipfix_tpl)(IPFIX_TPL_IPV4 + i));
	e->buf = buf;
	e->cap = cap;
	e->domain = domain;
}

void ipfix_msg_begin(struct ipfix_enc *e, uint32_t export_s)
{
	ipfix_put16(e->buf, IPFIX_VERSION);
	ipfix_put16(e->buf + 2, 0);
	ipfix_put32(e->buf + 4, export_s);
	ipfix_put32(e->buf + 8, e->seq);
	ipfix_put32(e->buf + 12, e->domain);
	e->len = IPFIX_MSG_HDR_LEN;
	e->set_off = 0;
	e->set_id = 0;
	e->msg_records = 0;
	e->msg_flows = 0;
}

static void close_set(struct ipfix_enc *e)
{
	if (!e->set_off)
		return;
	ipfix_put16(e->buf + e->set_off + 2, (uint16_t)(e->len - e->set_off));
	e->set_off = 0;
	e->set_id = 0;
}

/* Make sure a set of id is open with room for need more bytes. */
static int want_set(struct ipfix_enc *e, uint16_t id, size_t need)
{
	if (e->set_off && e->set_id == id)
		return e->len + need <= e->cap ? 0 : -ENOSPC;
	if (e->len + IPFIX_SET_HDR_LEN + need > e->cap)
		return -ENOSPC;
	close_set(e);
	e->set_off = e->len;
	e->set_id = id;
	ipfix_put16(e->buf + e->len, id);
	e->len += IPFIX_SET_HDR_LEN;
	return 0;
}

static size_t tpl_bytes(size_t i, bool options)
{
	return (options ? 6 : 4) + 4 * tpls[i].n;
}

static void put_tpl(struct ipfix_enc *e, size_t i, bool options)
{
	uint8_t *p = e->buf + e->len;

	ipfix_put16(p, (uint16_t)(IPFIX_TPL_IPV4 + i));
	ipfix_put16(p + 2, (uint16_t)tpls[i].n);
	p += 4;
	if (options) {
		ipfix_put16(p, 1); /* scope field count */
		p += 2;
	}
	for (size_t j = 0; j < tpls[i].n; j++, p += 4) {
		ipfix_put16(p, tpls[i].f[j].id);
		ipfix_put16(p + 2, tpls[i].f[j].len);
	}
	e->len = (size_t)(p - e->buf);
}

int ipfix_put_templates(struct ipfix_enc *e, bool stats, bool ifnames)
{
	size_t flows = 0, opts = 0, need;

	for (size_t i = 0; i < 4; i++)
		flows += tpl_bytes(i, false);
	need = IPFIX_SET_HDR_LEN + flows;
	if (stats)
		opts += tpl_bytes(4, true);
	if (ifnames)
		opts += tpl_bytes(5, true);
	if (opts)
		need += IPFIX_SET_HDR_LEN + opts;
	if ((!e->set_off || e->set_id != IPFIX_SET_TEMPLATE) && e->len + need > e->cap)
		return -ENOSPC;
	if (want_set(e, IPFIX_SET_TEMPLATE, flows))
		return -ENOSPC;
	for (size_t i = 0; i < 4; i++)
		put_tpl(e, i, false);
	if (opts && want_set(e, IPFIX_SET_OPTIONS, opts))
		return -ENOSPC; /* not reached: need counted it */
	if (stats)
		put_tpl(e, 4, true);
	if (ifnames)
		put_tpl(e, 5, true);
	close_set(e);
	return 0;
}

static uint8_t end_reason_ie(uint8_t r)
{
	switch (r) {
	case FM_END_IDLE:
		return IPFIX_END_IDLE;
	case FM_END_ACTIVE:
		return IPFIX_END_ACTIVE;
	case FM_END_TCP_END:
		return IPFIX_END_END;
	case FM_END_SHUTDOWN:
		return IPFIX_END_FORCED;
	default: /* pressure, overflow */
		return IPFIX_END_RESOURCES;
	}
}

/* Write field f of record r at p (f.len bytes). */
static void put_field(uint8_t *p, const struct ie_spec *f, const struct fm_record *r)
{
	const struct fm_flow_key *k = &r->key;
	bool egress = k->direction == FM_DIR_EGRESS;

	switch (f->id) {
	case IE_START_MS:
		ipfix_put64(p, (uint64_t)r->first_seen_ms);
		break;
	case IE_END_MS:
		ipfix_put64(p, (uint64_t)r->last_seen_ms);
		break;
	case IE_PACKET_DELTA:
		ipfix_put64(p, r->packets);
		break;
	case IE_L2_OCTET_DELTA:
		ipfix_put64(p, r->bytes);
		break;
	case IE_OCTET_DELTA:
		ipfix_put64(p, r->ip_bytes);
		break;
	case IE_SRC_IPV4:
		memcpy(p, k->src_addr + 12, 4);
		break;
	case IE_DST_IPV4:
		memcpy(p, k->dst_addr + 12, 4);
		break;
	case IE_SRC_IPV6:
		memcpy(p, k->src_addr, 16);
		break;
	case IE_DST_IPV6:
		memcpy(p, k->dst_addr, 16);
		break;
	case IE_SRC_PORT:
		ipfix_put16(p, k->src_port);
		break;
	case IE_DST_PORT:
		ipfix_put16(p, k->dst_port);
		break;
	case IE_PROTOCOL:
		*p = k->protocol;
		break;
	case IE_TCP_FLAGS:
		*p = r->tcp_flags;
		break;
	case IE_TOS:
		*p = k->tos;
		break;
	case IE_ICMP_V4:
	case IE_ICMP_V6:
		ipfix_put16(p, (uint16_t)(k->icmp_type << 8 | k->icmp_code));
		break;
	case IE_SRC_MAC:
		memcpy(p, k->src_mac, 6);
		break;
	case IE_DST_MAC:
		memcpy(p, k->dst_mac, 6);
		break;
	case IE_VLAN:
		ipfix_put16(p, k->flags & FM_KF_VLAN ? k->vlan_id : 0);
		break;
	case IE_ETH_TYPE:
		ipfix_put16(p, k->eth_type);
		break;
	case IE_INGRESS_IF:
		ipfix_put32(p, egress ? 0 : k->ifindex);
		break;
	case IE_EGRESS_IF:
		ipfix_put32(p, egress ? k->ifindex : 0);
		break;
	case IE_DIRECTION:
		*p = egress;
		break;
	case IE_END_REASON:
		*p = end_reason_ie(r->end_reason);
		break;
	default:
		memset(p, 0, f->len);
	}
}

int ipfix_put_record(struct ipfix_enc *e, const struct fm_record *r)
{
	enum ipfix_tpl t = ipfix_tpl_of(r);
	size_t i = t - IPFIX_TPL_IPV4;
	uint8_t *p;

	if (want_set(e, (uint16_t)t, reclens[i]))
		return -ENOSPC;
	p = e->buf + e->len;
	for (size_t j = 0; j < tpls[i].n; j++) {
		put_field(p, &tpls[i].f[j], r);
		p += tpls[i].f[j].len;
	}
	e->len = (size_t)(p - e->buf);
	e->msg_records++;
	e->msg_flows++;
	return 0;
}

int ipfix_put_stats(struct ipfix_enc *e, const struct ipfix_stats_rec *s)
{
	uint8_t *p;

	if (want_set(e, IPFIX_TPL_STATS, ipfix_tpl_reclen(IPFIX_TPL_STATS)))
		return -ENOSPC;
	p = e->buf + e->len;
	ipfix_put32(p, e->domain);
	ipfix_put64(p + 4, s->messages);
	ipfix_put64(p + 12, s->records);
	ipfix_put64(p + 20, s->octets);
	ipfix_put64(p + 28, s->not_sent);
	e->len += 36;
	e->msg_records++;
	return 0;
}

int ipfix_put_ifname(struct ipfix_enc *e, uint32_t ifindex, const char *name)
{
	uint8_t *p;
	size_t n = strnlen(name, IPFIX_IFNAME_LEN);

	if (want_set(e, IPFIX_TPL_IFNAME, 4 + IPFIX_IFNAME_LEN))
		return -ENOSPC;
	p = e->buf + e->len;
	ipfix_put32(p, ifindex);
	memset(p + 4, 0, IPFIX_IFNAME_LEN);
	memcpy(p + 4, name, n);
	e->len += 4 + IPFIX_IFNAME_LEN;
	e->msg_records++;
	return 0;
}

size_t ipfix_msg_end(struct ipfix_enc *e)
{
	close_set(e);
	ipfix_put16(e->buf + 2, (uint16_t)e->len);
	e->seq += e->msg_records;
	return e->len;
}
