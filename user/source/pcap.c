// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The capture source, reading side (libpcap); see pcap.h. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <pcap/pcap.h> /* its struct bpf_insn clashes with linux/bpf.h: no BPF here */
#include "lib/log.h"
#include "source/pcap.h"

int pcap_src_open(struct pcap_src *s, const char *path)
{
	char err[PCAP_ERRBUF_SIZE] = "";
	struct stat sb;
	int dlt;

	memset(s, 0, sizeof(*s));
	s->path = path;
	s->p = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, err);
	if (!s->p) {
		pr_err("%s: %s\n", path, err);
		return -EINVAL;
	}
	dlt = pcap_datalink(s->p);
	if (dlt != DLT_EN10MB) {
		const char *name = pcap_datalink_val_to_name(dlt);
		const char *desc = pcap_datalink_val_to_description(dlt);

		pr_err("%s: link type %d (%s%s%s%s) is not Ethernet: replay reads Ethernet captures only (capture with tcpdump -i IFACE on an Ethernet interface, not -i any)\n",
		       path, dlt, name ? "LINKTYPE_" : "", name ? name : "unknown",
		       desc ? ", " : "", desc ? desc : "");
		pcap_close(s->p);
		s->p = NULL;
		return -EPROTONOSUPPORT;
	}
	if (!stat(path, &sb))
		s->size = sb.st_size;
	return 0;
}

int pcap_src_next(struct pcap_src *s, const uint8_t **data, uint32_t *len, int64_t *ts_ns)
{
	struct pcap_pkthdr *h;
	const u_char *d;
	int rc = pcap_next_ex(s->p, &h, &d);

	if (rc == PCAP_ERROR_BREAK)
		return 0;
	if (rc != 1) {
		pr_err("%s: truncated or damaged after %llu frames: %s\n", s->path,
		       (unsigned long long)s->frames, pcap_geterr(s->p));
		return -EIO;
	}
	s->frames++;
	if (h->caplen < h->len)
		s->snap_cut++;
	*data = d;
	*len = h->caplen;
	/* Nanosecond precision was asked for: tv_usec holds nanoseconds. */
	*ts_ns = (int64_t)h->ts.tv_sec * 1000000000 + h->ts.tv_usec;
	if (!s->first_ns)
		s->first_ns = *ts_ns;
	s->last_ns = *ts_ns;
	return 1;
}

double pcap_src_progress(const struct pcap_src *s)
{
	FILE *f = s->p ? pcap_file(s->p) : NULL;
	long pos;

	if (!f || s->size <= 0)
		return 0;
	pos = ftell(f);
	return pos < 0 ? 0 : (double)pos / (double)s->size;
}

void pcap_src_close(struct pcap_src *s)
{
	if (s->p)
		pcap_close(s->p);
	s->p = NULL;
}
