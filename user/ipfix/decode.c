// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* IPFIX, NetFlow v9 and v5 decoder; see decode.h. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "ipfix/decode.h"
#include "ipfix/ipfix.h"

#define MAX_EXPORTERS_DEFAULT 4096
#define MAX_TEMPLATES_DEFAULT 1024
#define TPL_MAX_FIELDS 512 /* more is no real exporter's; refused */

struct dec_field {
	uint16_t id, len; /* len IPFIX_VARLEN: variable */
	uint32_t pen;	  /* enterprise number, 0: IANA */
};

struct dec_tpl {
	uint16_t id;
	uint16_t nfields;
	uint16_t scope; /* options: the scope fields, first */
	bool options;
	size_t minlen; /* bytes of a record, variable fields at their least (1) */
	bool varlen;
	struct dec_field f[];
};

struct dec {
	struct dec_opts o;
	struct dec_exporter **exp;
	size_t nexp, cap_exp;
	struct dec_stats st;
};

static const char *const err_names[DEC_ERR__MAX] = {
	[DEC_OK] = "ok",
	[DEC_ERR_SHORT] = "short",
	[DEC_ERR_VERSION] = "version",
	[DEC_ERR_LENGTH] = "length",
	[DEC_ERR_SET] = "set_length",
	[DEC_ERR_TEMPLATE] = "template",
	[DEC_ERR_RECORD] = "record",
	[DEC_ERR_EXPORTERS] = "too_many_exporters",
	[DEC_ERR_TEMPLATES] = "too_many_templates",
};

const char *dec_err_str(enum dec_err e)
{
	return (unsigned)e < DEC_ERR__MAX ? err_names[e] : "?";
}

const char *dec_proto_str(enum dec_proto p)
{
	static const char *const n[] = { "ipfix", "netflow9", "netflow5" };

	return (unsigned)p < DEC_PROTO__MAX ? n[p] : "?";
}

int dec_new(struct dec **out, const struct dec_opts *o)
{
	struct dec *d = calloc(1, sizeof(*d));

	if (!d)
		return -ENOMEM;
	if (o)
		d->o = *o;
	if (!d->o.max_exporters)
		d->o.max_exporters = MAX_EXPORTERS_DEFAULT;
	if (!d->o.max_templates)
		d->o.max_templates = MAX_TEMPLATES_DEFAULT;
	*out = d;
	return 0;
}

void dec_free(struct dec *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->nexp; i++) {
		for (size_t j = 0; j < d->exp[i]->ntpls; j++)
			free(d->exp[i]->tpls[j]);
		free(d->exp[i]->tpls);
		free(d->exp[i]);
	}
	free(d->exp);
	free(d);
}

const struct dec_stats *dec_get_stats(const struct dec *d)
{
	return &d->st;
}

size_t dec_exporters(const struct dec *d, struct dec_exporter *const **list)
{
	*list = d->exp;
	return d->nexp;
}

/* The exporter (address of from, domain, proto), made if new; NULL when
 * refused (*err says why). */
static struct dec_exporter *exporter_of(struct dec *d, const struct sockaddr *from, uint32_t domain,
					enum dec_proto proto, int64_t now, enum dec_err *err)
{
	uint8_t addr[16] = { 0 };
	uint16_t port = 0;
	struct dec_exporter *e;

	if (from && from->sa_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)from;

		addr[10] = addr[11] = 0xff;
		memcpy(addr + 12, &s4->sin_addr, 4);
		port = ntohs(s4->sin_port);
	} else if (from && from->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)from;

		memcpy(addr, &s6->sin6_addr, 16);
		port = ntohs(s6->sin6_port);
	}
	for (size_t i = 0; i < d->nexp; i++) {
		e = d->exp[i];
		if (e->domain == domain && e->proto == proto && !memcmp(e->addr, addr, 16)) {
			/* Move toward the front: one busy exporter is found first. */
			if (i) {
				d->exp[i] = d->exp[i - 1];
				d->exp[i - 1] = e;
			}
			e->port = port;
			return e;
		}
	}
	if (d->nexp >= d->o.max_exporters) {
		*err = DEC_ERR_EXPORTERS;
		return NULL;
	}
	if (d->nexp == d->cap_exp) {
		size_t cap = d->cap_exp ? d->cap_exp * 2 : 16;
		struct dec_exporter **n = realloc(d->exp, cap * sizeof(*n));

		if (!n) {
			*err = DEC_ERR_EXPORTERS;
			return NULL;
		}
		d->exp = n;
		d->cap_exp = cap;
	}
	e = calloc(1, sizeof(*e));
	if (!e) {
		*err = DEC_ERR_EXPORTERS;
		return NULL;
	}
	memcpy(e->addr, addr, 16);
	if (addr[10] == 0xff && addr[11] == 0xff && !memcmp(addr, "\0\0\0\0\0\0\0\0\0\0", 10))
		inet_ntop(AF_INET, addr + 12, e->addr_text, sizeof(e->addr_text));
	else
		inet_ntop(AF_INET6, addr, e->addr_text, sizeof(e->addr_text));
	e->port = port;
	e->domain = domain;
	e->proto = (uint8_t)proto;
	e->first_ms = now;
	if (d->o.exporter_new && d->o.exporter_new(d->o.ctx, e)) {
		free(e);
		*err = DEC_ERR_EXPORTERS;
		return NULL;
	}
	d->exp[d->nexp++] = e;
	return e;
}

static struct dec_tpl *tpl_find(struct dec_exporter *e, uint16_t id)
{
	for (size_t i = 0; i < e->ntpls; i++)
		if (e->tpls[i]->id == id)
			return e->tpls[i];
	return NULL;
}

/* Replace or add t (taking it); DEC_ERR_TEMPLATES when full. */
static enum dec_err tpl_store(struct dec *d, struct dec_exporter *e, struct dec_tpl *t)
{
	for (size_t i = 0; i < e->ntpls; i++) {
		if (e->tpls[i]->id == t->id) {
			free(e->tpls[i]);
			e->tpls[i] = t;
			return DEC_OK;
		}
	}
	if (e->ntpls >= d->o.max_templates) {
		free(t);
		return DEC_ERR_TEMPLATES;
	}
	if (e->ntpls == e->cap_tpls) {
		size_t cap = e->cap_tpls ? e->cap_tpls * 2 : 8;
		struct dec_tpl **n = realloc(e->tpls, cap * sizeof(*n));

		if (!n) {
			free(t);
			return DEC_ERR_TEMPLATES;
		}
		e->tpls = n;
		e->cap_tpls = cap;
	}
	e->tpls[e->ntpls++] = t;
	return DEC_OK;
}

static void tpl_withdraw(struct dec_exporter *e, uint16_t id)
{
	for (size_t i = 0; i < e->ntpls; i++) {
		if (e->tpls[i]->id == id) {
			free(e->tpls[i]);
			e->tpls[i] = e->tpls[--e->ntpls];
			return;
		}
	}
}

/*
 * One template record at p (left bytes in its set); ipfix: with enterprise
 * numbers, else NetFlow v9. nf9_scope_len/nf9_opt_len: a v9 options
 * template's byte lengths (scope and option fields), else 0. *used: its
 * length. Returns DEC_OK and *out (NULL for a withdrawal), or an error.
 */
static enum dec_err tpl_parse(const uint8_t *p, size_t left, bool ipfix, bool options,
			      struct dec_tpl **out, size_t *used)
{
	uint16_t id, n, scope = 0;
	size_t off;
	struct dec_tpl *t;

	*out = NULL;
	if (left < 4)
		return DEC_ERR_TEMPLATE;
	id = ipfix_get16(p);
	n = ipfix_get16(p + 2);
	off = 4;
	if (options && ipfix) {
		if (n == 0) { /* withdrawal */
			*used = 4;
			return id >= IPFIX_SET_DATA_MIN ? DEC_OK : DEC_ERR_TEMPLATE;
		}
		if (left < 6)
			return DEC_ERR_TEMPLATE;
		scope = ipfix_get16(p + 4);
		off = 6;
		if (!scope || scope > n)
			return DEC_ERR_TEMPLATE;
	} else if (options) {
		/* v9: scope and option lengths in bytes, 4 per field. */
		uint16_t sl = n, ol;

		if (left < 6)
			return DEC_ERR_TEMPLATE;
		ol = ipfix_get16(p + 4);
		off = 6;
		if (sl % 4 || ol % 4)
			return DEC_ERR_TEMPLATE;
		n = (uint16_t)((sl + ol) / 4);
		scope = (uint16_t)(sl / 4);
	}
	if (id < IPFIX_SET_DATA_MIN)
		return DEC_ERR_TEMPLATE;
	if (n == 0) {
		*used = off;
		return ipfix ? DEC_OK : DEC_ERR_TEMPLATE; /* IPFIX withdrawal */
	}
	if (n > TPL_MAX_FIELDS)
		return DEC_ERR_TEMPLATE;
	t = calloc(1, sizeof(*t) + n * sizeof(t->f[0]));
	if (!t)
		return DEC_ERR_TEMPLATES;
	t->id = id;
	t->nfields = n;
	t->scope = scope;
	t->options = options;
	for (uint16_t i = 0; i < n; i++) {
		if (left - off < 4)
			goto bad;
		t->f[i].id = ipfix_get16(p + off);
		t->f[i].len = ipfix_get16(p + off + 2);
		off += 4;
		if (ipfix && (t->f[i].id & IPFIX_ENTERPRISE_BIT)) {
			if (left - off < 4)
				goto bad;
			t->f[i].id &= (uint16_t)~IPFIX_ENTERPRISE_BIT;
			t->f[i].pen = ipfix_get32(p + off);
			off += 4;
		}
		if (t->f[i].len == IPFIX_VARLEN) {
			if (!ipfix)
				goto bad;
			t->varlen = true;
			t->minlen += 1;
		} else {
			t->minlen += t->f[i].len;
		}
	}
	/* A record must take room, or a data set would hold endless ones. */
	if (!t->minlen || t->minlen > 65535)
		goto bad;
	*out = t;
	*used = off;
	return DEC_OK;
bad:
	free(t);
	return DEC_ERR_TEMPLATE;
}

/* Template or options template set body (after its header). */
static enum dec_err template_set(struct dec *d, struct dec_exporter *e, const uint8_t *p,
				 size_t len, bool ipfix, bool options)
{
	size_t off = 0, used;

	/* Fewer bytes than a template record header left: padding. */
	while (len - off >= 4) {
		struct dec_tpl *t;
		enum dec_err err = tpl_parse(p + off, len - off, ipfix, options, &t, &used);

		if (err)
			return err;
		off += used;
		if (!t) {
			tpl_withdraw(e, ipfix_get16(p + off - used));
			continue;
		}
		err = tpl_store(d, e, t);
		if (err)
			return err;
		e->templates++;
		d->st.templates++;
	}
	return DEC_OK;
}

/* What one record says, gathered field by field. */
struct acc {
	struct fm_record r;
	bool v4, v6, mac, eth, l2, start_ms, end_ms, egress_if, icmp;
	uint32_t ingress, egress;
	uint64_t start_up, end_up; /* v9 sysUptime ms */
	bool start_up_set, end_up_set;
	int has_reason;
};

static void field(struct acc *a, const struct dec_field *f, const uint8_t *p, unsigned len)
{
	struct fm_flow_key *k = &a->r.key;
	uint64_t v;

	if (f->pen || !len)
		return;
	v = len <= 8 ? ipfix_getn(p, len) : 0;
	switch (f->id) {
	case IE_OCTET_DELTA:
	case IE_OCTET_TOTAL:
		a->r.ip_bytes = v;
		break;
	case IE_PACKET_DELTA:
	case IE_PACKET_TOTAL:
		a->r.packets = v;
		break;
	case IE_L2_OCTET_DELTA:
		a->r.bytes = v;
		a->l2 = true;
		break;
	case IE_PROTOCOL:
		k->protocol = (uint8_t)v;
		break;
	case IE_TOS:
		k->tos = (uint8_t)v;
		break;
	case IE_TCP_FLAGS:
		a->r.tcp_flags = (uint8_t)v;
		break;
	case IE_SRC_PORT:
		k->src_port = (uint16_t)v;
		break;
	case IE_DST_PORT:
		k->dst_port = (uint16_t)v;
		break;
	case IE_SRC_IPV4:
	case IE_DST_IPV4:
		if (len != 4)
			break;
		{
			uint8_t *dst = f->id == IE_SRC_IPV4 ? k->src_addr : k->dst_addr;

			memset(dst, 0, 10);
			dst[10] = dst[11] = 0xff;
			memcpy(dst + 12, p, 4);
			a->v4 = true;
		}
		break;
	case IE_SRC_IPV6:
	case IE_DST_IPV6:
		if (len != 16)
			break;
		memcpy(f->id == IE_SRC_IPV6 ? k->src_addr : k->dst_addr, p, 16);
		a->v6 = true;
		break;
	case IE_INGRESS_IF:
		a->ingress = (uint32_t)v;
		break;
	case IE_EGRESS_IF:
		a->egress = (uint32_t)v;
		break;
	case IE_ICMP_V4:
	case IE_ICMP_V6:
		k->icmp_type = (uint8_t)(v >> 8);
		a->icmp = true;
		k->icmp_code = (uint8_t)v;
		break;
	case IE_ICMP_TYPE_V4:
	case IE_ICMP_TYPE_V6:
		k->icmp_type = (uint8_t)v;
		a->icmp = true;
		break;
	case IE_ICMP_CODE_V4:
	case IE_ICMP_CODE_V6:
		k->icmp_code = (uint8_t)v;
		a->icmp = true;
		break;
	case IE_SRC_MAC:
	case IE_DST_MAC:
		if (len != 6)
			break;
		memcpy(f->id == IE_SRC_MAC ? k->src_mac : k->dst_mac, p, 6);
		a->mac = true;
		break;
	case IE_VLAN:
		if (v) {
			k->vlan_id = (uint16_t)(v & 0xfff);
			k->flags |= FM_KF_VLAN;
		}
		break;
	case IE_ETH_TYPE:
		k->eth_type = (uint16_t)v;
		a->eth = true;
		break;
	case IE_DIRECTION:
		k->direction = v == 1 ? FM_DIR_EGRESS : FM_DIR_INGRESS;
		break;
	case IE_END_REASON:
		a->has_reason = (int)(v & 0xff);
		break;
	case IE_START_SEC:
		a->r.first_seen_ms = (int64_t)(uint32_t)v * 1000; /* dateTimeSeconds: 32 bits */
		a->start_ms = true;
		break;
	case IE_END_SEC:
		a->r.last_seen_ms = (int64_t)(uint32_t)v * 1000;
		a->end_ms = true;
		break;
	case IE_START_MS:
		a->r.first_seen_ms = (int64_t)v;
		a->start_ms = true;
		break;
	case IE_END_MS:
		a->r.last_seen_ms = (int64_t)v;
		a->end_ms = true;
		break;
	case IE_START_SYSUPTIME:
		a->start_up = v;
		a->start_up_set = true;
		break;
	case IE_END_SYSUPTIME:
		a->end_up = v;
		a->end_up_set = true;
		break;
	default:
		break;
	}
}

/* Times from sysUptime-relative values: boot = export time - uptime. */
static int64_t from_uptime(uint64_t at_up, uint32_t uptime, int64_t export_ms)
{
	/* at_up is at or before uptime, modulo 2^32 (the counter wraps). */
	uint32_t ago = uptime - (uint32_t)at_up;

	return export_ms - ago;
}

/* The record gathered: fill what the fields left open. */
static void finish(struct acc *a, uint32_t exporter_id, int64_t export_ms, bool v9, uint32_t uptime)
{
	struct fm_record *r = &a->r;
	struct fm_flow_key *k = &r->key;

	if (!a->eth && (a->v4 || a->v6))
		k->eth_type = a->v6 ? FM_ETH_P_IPV6 : FM_ETH_P_IP;
	if (!a->l2)
		r->bytes = r->ip_bytes;
	/* No ICMP type/code element: exporters that follow NetFlow v5 (pmacct's
	 * nfprobe) put type * 256 + code in the destination port. */
	if (!a->icmp && (k->protocol == FM_IPPROTO_ICMP || k->protocol == FM_IPPROTO_ICMPV6) &&
	    k->dst_port) {
		k->icmp_type = (uint8_t)(k->dst_port >> 8);
		k->icmp_code = (uint8_t)k->dst_port;
	}
	if (k->eth_type != FM_ETH_P_IP && k->eth_type != FM_ETH_P_IPV6)
		r->ip_bytes = 0;
	if (v9 && a->start_up_set && !a->start_ms)
		r->first_seen_ms = from_uptime(a->start_up, uptime, export_ms);
	if (v9 && a->end_up_set && !a->end_ms)
		r->last_seen_ms = from_uptime(a->end_up, uptime, export_ms);
	if (!a->start_ms && !(v9 && a->start_up_set))
		r->first_seen_ms = a->end_ms ? r->last_seen_ms : export_ms;
	if (!a->end_ms && !(v9 && a->end_up_set))
		r->last_seen_ms = export_ms;
	k->ifindex = k->direction == FM_DIR_EGRESS && a->egress ? a->egress :
		     a->ingress					? a->ingress :
								  a->egress;
	switch (a->has_reason) {
	case IPFIX_END_ACTIVE:
		r->end_reason = FM_END_ACTIVE;
		break;
	case IPFIX_END_END:
		r->end_reason = FM_END_TCP_END;
		break;
	case IPFIX_END_FORCED:
		r->end_reason = FM_END_SHUTDOWN;
		break;
	case IPFIX_END_RESOURCES:
		r->end_reason = FM_END_PRESSURE;
		break;
	default:
		r->end_reason = FM_END_IDLE;
	}
	if (!a->v4 && !a->v6 && !a->mac && !a->eth)
		r->end_reason = FM_END_OVERFLOW;
	r->exporter_id = exporter_id;
}

/* What one options record says. */
struct optacc {
	uint64_t ifindex, sint, srand, ppi, pps;
	bool have_if, have_name;
	char name[65];
};

static void opt_field(struct optacc *o, const struct dec_field *f, bool scope, bool v9,
		      const uint8_t *p, unsigned len)
{
	uint64_t v = len <= 8 ? ipfix_getn(p, len) : 0;

	if (f->pen || !len)
		return;
	if (v9 && scope) {
		if (f->id == NF9_SCOPE_INTERFACE) {
			o->ifindex = v;
			o->have_if = true;
		}
		return;
	}
	switch (f->id) {
	case IE_INGRESS_IF:
	case IE_EGRESS_IF:
		if (!o->have_if) {
			o->ifindex = v;
			o->have_if = true;
		}
		break;
	case IE_IF_NAME: {
		unsigned n = len < sizeof(o->name) - 1 ? len : (unsigned)sizeof(o->name) - 1;

		memcpy(o->name, p, n);
		o->name[n] = '\0';
		/* Only printable ASCII kept: it is shown and stored as text. */
		for (unsigned i = 0; o->name[i]; i++)
			if ((unsigned char)o->name[i] < 0x20 || (unsigned char)o->name[i] > 0x7e)
				o->name[i] = '?';
		o->have_name = true;
		break;
	}
	case IE_SAMPLING_INTERVAL:
		o->sint = v;
		break;
	case IE_SAMPLER_RANDOM_INTERVAL:
		o->srand = v;
		break;
	case IE_SAMPLING_PKT_INTERVAL:
		o->ppi = v;
		break;
	case IE_SAMPLING_PKT_SPACE:
		o->pps = v;
		break;
	default:
		break;
	}
}

/* An options record read: the exporter's sampling rate, an interface name. */
static void opt_record(struct dec *d, struct dec_exporter *e, const struct optacc *o)
{
	uint64_t rate = o->sint ? o->sint : o->srand ? o->srand : 0;

	if (!rate && o->ppi)
		rate = (o->ppi + o->pps) / o->ppi;
	if (rate && rate <= UINT32_MAX)
		e->sampling = (uint32_t)rate;
	if (o->have_name && d->o.ifname)
		d->o.ifname(d->o.ctx, e, o->have_if ? (uint32_t)o->ifindex : 0, o->name);
}

/*
 * One data set body with template t; counts its records in *nrec.
 * DEC_ERR_RECORD when a variable-length field runs past the set.
 */
static enum dec_err data_set(struct dec *d, struct dec_exporter *e, const struct dec_tpl *t,
			     const uint8_t *p, size_t len, int64_t export_ms, bool v9,
			     uint32_t uptime, dec_emit_fn emit, void *ctx, uint32_t *nrec)
{
	size_t off = 0;

	/* Fewer bytes left than the least record: padding. */
	while (len - off >= t->minlen) {
		struct acc a;
		struct optacc o;

		memset(&a, 0, sizeof(a));
		memset(&o, 0, sizeof(o));
		for (uint16_t i = 0; i < t->nfields; i++) {
			size_t flen = t->f[i].len;

			if (flen == IPFIX_VARLEN) {
				if (len - off < 1)
					return DEC_ERR_RECORD;
				flen = p[off++];
				if (flen == 255) {
					if (len - off < 2)
						return DEC_ERR_RECORD;
					flen = ipfix_get16(p + off);
					off += 2;
				}
			}
			if (len - off < flen)
				return DEC_ERR_RECORD;
			if (!t->options)
				field(&a, &t->f[i], p + off, (unsigned)flen);
			else
				opt_field(&o, &t->f[i], i < t->scope, v9, p + off, (unsigned)flen);
			off += flen;
		}
		(*nrec)++;
		if (t->options) {
			d->st.option_records++;
			opt_record(d, e, &o);
			continue;
		}
		finish(&a, e->id, export_ms, v9, uptime);
		if (e->sampling > 1) {
			a.r.packets *= e->sampling;
			a.r.bytes *= e->sampling;
			a.r.ip_bytes *= e->sampling;
			d->st.sampled_records++;
		}
		d->st.records++;
		e->records++;
		if (emit)
			emit(&a.r, ctx);
	}
	return DEC_OK;
}

/*
 * Whether every set inside [off, *end) of buf has a sound length. pad:
 * fewer bytes than a set header at the end are padding, and *end is cut
 * to where the sets end (NetFlow v9, whose header has no length).
 */
static bool sets_sound(const uint8_t *buf, size_t off, size_t *end, bool pad)
{
	while (off < *end) {
		size_t setlen;

		if (*end - off < IPFIX_SET_HDR_LEN) {
			if (!pad)
				return false;
			*end = off;
			return true;
		}
		setlen = ipfix_get16(buf + off + 2);
		if (setlen < IPFIX_SET_HDR_LEN || setlen > *end - off)
			return false;
		off += setlen;
	}
	return true;
}

/* A sequence number seen: count a gap, expect the next. */
static void check_seq(struct dec *d, struct dec_exporter *e, uint32_t seq, uint32_t advance)
{
	if (e->have_seq && seq != e->next_seq) {
		uint32_t gap = seq - e->next_seq;

		if (gap < 0x80000000u) {
			e->lost += gap;
			d->st.lost += gap;
		} else {
			d->st.seq_resets++;
		}
	}
	e->have_seq = true;
	e->next_seq = seq + advance;
}

static enum dec_err sets(struct dec *d, struct dec_exporter *e, const uint8_t *buf, size_t off,
			 size_t end, bool v9, int64_t export_ms, uint32_t uptime, dec_emit_fn emit,
			 void *ctx, uint32_t *nrec)
{
	enum dec_err err = DEC_OK;

	while (off < end && !err) {
		uint16_t id = ipfix_get16(buf + off);
		size_t setlen = ipfix_get16(buf + off + 2);
		const uint8_t *body = buf + off + IPFIX_SET_HDR_LEN;
		size_t blen = setlen - IPFIX_SET_HDR_LEN;

		off += setlen;
		if (id == (v9 ? NF9_SET_TEMPLATE : IPFIX_SET_TEMPLATE)) {
			err = template_set(d, e, body, blen, !v9, false);
		} else if (id == (v9 ? NF9_SET_OPTIONS : IPFIX_SET_OPTIONS)) {
			err = template_set(d, e, body, blen, !v9, true);
		} else if (id >= IPFIX_SET_DATA_MIN) {
			const struct dec_tpl *t = tpl_find(e, id);

			if (!t) {
				d->st.unknown_sets++;
				e->unknown_sets++;
				continue;
			}
			err = data_set(d, e, t, body, blen, export_ms, v9, uptime, emit, ctx, nrec);
		}
		/* Other ids are reserved: skipped. */
	}
	return err;
}

static enum dec_err ipfix_msg(struct dec *d, const struct sockaddr *from, const uint8_t *buf,
			      size_t len, int64_t now, dec_emit_fn emit, void *ctx,
			      struct dec_exporter **ep)
{
	size_t mlen;
	uint32_t seq, nrec = 0;
	int64_t export_ms;
	enum dec_err err = DEC_OK;
	struct dec_exporter *e;

	if (len < IPFIX_MSG_HDR_LEN)
		return DEC_ERR_SHORT;
	mlen = ipfix_get16(buf + 2);
	if (mlen < IPFIX_MSG_HDR_LEN || mlen > len)
		return DEC_ERR_LENGTH;
	if (!sets_sound(buf, IPFIX_MSG_HDR_LEN, &mlen, false))
		return DEC_ERR_SET;
	export_ms = (int64_t)ipfix_get32(buf + 4) * 1000;
	seq = ipfix_get32(buf + 8);
	e = exporter_of(d, from, ipfix_get32(buf + 12), DEC_IPFIX, now, &err);
	if (!e)
		return err;
	*ep = e;
	err = sets(d, e, buf, IPFIX_MSG_HDR_LEN, mlen, false, export_ms, 0, emit, ctx, &nrec);
	check_seq(d, e, seq, nrec);
	return err;
}

static enum dec_err nf9_msg(struct dec *d, const struct sockaddr *from, const uint8_t *buf,
			    size_t len, int64_t now, dec_emit_fn emit, void *ctx,
			    struct dec_exporter **ep)
{
	uint32_t uptime, seq, nrec = 0;
	int64_t export_ms;
	enum dec_err err = DEC_OK;
	struct dec_exporter *e;

	if (len < NF9_HDR_LEN)
		return DEC_ERR_SHORT;
	/* No length in the header: the sets run to the datagram's end. */
	if (!sets_sound(buf, NF9_HDR_LEN, &len, true))
		return DEC_ERR_SET;
	uptime = ipfix_get32(buf + 4);
	export_ms = (int64_t)ipfix_get32(buf + 8) * 1000;
	seq = ipfix_get32(buf + 12);
	e = exporter_of(d, from, ipfix_get32(buf + 16), DEC_NF9, now, &err);
	if (!e)
		return err;
	*ep = e;
	err = sets(d, e, buf, NF9_HDR_LEN, len, true, export_ms, uptime, emit, ctx, &nrec);
	check_seq(d, e, seq, 1); /* v9 counts datagrams */
	return err;
}

static enum dec_err nf5_msg(struct dec *d, const struct sockaddr *from, const uint8_t *buf,
			    size_t len, int64_t now, dec_emit_fn emit, void *ctx,
			    struct dec_exporter **ep)
{
	uint16_t count;
	uint32_t uptime, seq;
	int64_t export_ms;
	enum dec_err err = DEC_OK;
	struct dec_exporter *e;

	if (len < NF5_HDR_LEN)
		return DEC_ERR_SHORT;
	count = ipfix_get16(buf + 2);
	if (count == 0 || count > 30 || (size_t)NF5_HDR_LEN + (size_t)count * NF5_REC_LEN > len)
		return DEC_ERR_LENGTH;
	uptime = ipfix_get32(buf + 4);
	export_ms = (int64_t)ipfix_get32(buf + 8) * 1000 + ipfix_get32(buf + 12) / 1000000;
	seq = ipfix_get32(buf + 16);
	e = exporter_of(d, from, (uint32_t)buf[20] << 8 | buf[21], DEC_NF5, now, &err);
	if (!e)
		return err;
	*ep = e;
	for (uint16_t i = 0; i < count; i++) {
		const uint8_t *p = buf + NF5_HDR_LEN + (size_t)i * NF5_REC_LEN;
		struct fm_record r;
		struct fm_flow_key *k = &r.key;

		memset(&r, 0, sizeof(r));
		k->src_addr[10] = k->src_addr[11] = k->dst_addr[10] = k->dst_addr[11] = 0xff;
		memcpy(k->src_addr + 12, p, 4);
		memcpy(k->dst_addr + 12, p + 4, 4);
		k->eth_type = FM_ETH_P_IP;
		k->ifindex = ipfix_get16(p + 12);
		r.packets = ipfix_get32(p + 16);
		r.ip_bytes = r.bytes = ipfix_get32(p + 20);
		r.first_seen_ms = from_uptime(ipfix_get32(p + 24), uptime, export_ms);
		r.last_seen_ms = from_uptime(ipfix_get32(p + 28), uptime, export_ms);
		k->src_port = ipfix_get16(p + 32);
		k->dst_port = ipfix_get16(p + 34);
		r.tcp_flags = p[37];
		k->protocol = p[38];
		k->tos = p[39];
		if (k->protocol == FM_IPPROTO_ICMP) {
			/* v5 exporters put type * 256 + code in the destination port. */
			k->icmp_type = (uint8_t)(k->dst_port >> 8);
			k->icmp_code = (uint8_t)k->dst_port;
		}
		r.end_reason = FM_END_IDLE;
		r.exporter_id = e->id;
		d->st.records++;
		e->records++;
		if (emit)
			emit(&r, ctx);
	}
	check_seq(d, e, seq, count);
	return DEC_OK;
}

enum dec_err dec_datagram(struct dec *d, const struct sockaddr *from, const uint8_t *buf,
			  size_t len, int64_t now_ms, dec_emit_fn emit, void *ctx)
{
	struct dec_exporter *e = NULL;
	enum dec_err err;
	int proto = -1;

	d->st.datagrams++;
	if (len < 2) {
		err = DEC_ERR_SHORT;
		goto out;
	}
	switch (ipfix_get16(buf)) {
	case IPFIX_VERSION:
		proto = DEC_IPFIX;
		err = ipfix_msg(d, from, buf, len, now_ms, emit, ctx, &e);
		break;
	case NETFLOW9_VERSION:
		proto = DEC_NF9;
		err = nf9_msg(d, from, buf, len, now_ms, emit, ctx, &e);
		break;
	case NETFLOW5_VERSION:
		proto = DEC_NF5;
		err = nf5_msg(d, from, buf, len, now_ms, emit, ctx, &e);
		break;
	default:
		err = DEC_ERR_VERSION;
	}
out:
	if (e) {
		e->datagrams++;
		e->last_ms = now_ms;
		e->dirty = true;
		if (err)
			e->malformed++;
	}
	if (err)
		d->st.malformed[err]++;
	else if (proto >= 0)
		d->st.by_proto[proto]++;
	return err;
}
