// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* flowmaster run: the --ipfix exporters as sinks of the daemon, their
 * metrics and their totals at a stop. */
#include <inttypes.h>
#include <stdio.h>
#include "cli/run.h"
#include "daemon/daemon.h"
#include "ipfix/export.h"
#include "lib/log.h"
#include "store/store.h"

static struct ipfix_exporter *exporters[RUN_IPFIX_MAX];
static int nr_exporters;
static uint64_t last_unsent; /* records not sent, at the last metrics */

int run_ipfix_open(const struct run_cfg *c)
{
	for (int i = 0; i < c->nr_ipfix; i++) {
		struct ipfix_export_opts o = {
			.dest = c->ipfix[i],
			.domain = (uint32_t)c->ipfix_domain,
			.msg_size = c->ipfix_msg_size,
			.stats = c->ipfix_stats,
			.ifnames = c->ipfix_ifnames,
			.refresh_s = (unsigned)c->ipfix_refresh_s,
			.rate = c->ipfix_rate,
		};
		int err = ipfix_export_open(&exporters[nr_exporters], &o);

		if (err)
			return err;
		nr_exporters++;
		pr_info("ipfix: exporting to %s, observation domain %" PRIu64
			", messages of at most %" PRIu64 " bytes%s\n",
			c->ipfix[i], c->ipfix_domain, c->ipfix_msg_size,
			c->ipfix_stats ? ", with statistics records" : "");
		if (c->ipfix_rate)
			pr_info("ipfix: %s paced at %" PRIu64
				" records/s (a queue of %zu records)\n",
				c->ipfix[i], c->ipfix_rate,
				ipfix_pace_queue_records(c->ipfix_rate));
	}
	return 0;
}

int run_ipfix_add(struct daemon *dm)
{
	for (int i = 0; i < nr_exporters; i++) {
		struct sink *k = ipfix_export_sink(exporters[i]);
		int err = daemon_add_sink(dm, k);

		if (err) {
			pr_err("%s: too many sinks\n", k->name);
			return err;
		}
	}
	return 0;
}

static void sum_stats(struct ipfix_export_stats *t)
{
	struct ipfix_export_stats st;

	*t = (struct ipfix_export_stats){ 0 };
	for (int i = 0; i < nr_exporters; i++) {
		ipfix_export_get_stats(exporters[i], &st);
		t->messages += st.messages;
		t->records += st.records;
		t->octets += st.octets;
		t->records_unsent += st.records_unsent;
		t->messages_unsent += st.messages_unsent;
		t->template_messages += st.template_messages;
	}
}

void run_ipfix_metrics(struct store *s, int64_t now_ms)
{
	static const char *const names[] = {
		"ipfix_records_sent",	 "ipfix_records_unsent",    "ipfix_messages_sent",
		"ipfix_messages_unsent", "ipfix_template_messages", "ipfix_octets_sent",
	};
	struct ipfix_export_stats t;
	double v[6];

	if (!nr_exporters)
		return;
	sum_stats(&t);
	v[0] = (double)t.records;
	v[1] = (double)t.records_unsent;
	v[2] = (double)t.messages;
	v[3] = (double)t.messages_unsent;
	v[4] = (double)t.template_messages;
	v[5] = (double)t.octets;
	if (s && store_submit_metrics(s, now_ms, names, v, 6))
		pr_warn("metrics: writer queue full, this interval's IPFIX metrics skipped\n");
	pr_info("ipfix: %" PRIu64 " records sent in %" PRIu64 " messages, %" PRIu64
		" records not sent\n",
		t.records, t.messages, t.records_unsent);
	if (t.records_unsent > last_unsent)
		pr_warn("ipfix: %" PRIu64 " records could not be sent in the last interval\n",
			t.records_unsent - last_unsent);
	last_unsent = t.records_unsent;
}

void run_ipfix_close(void)
{
	for (int i = 0; i < nr_exporters; i++) {
		struct ipfix_export_stats st;
		struct sink *k = ipfix_export_sink(exporters[i]);

		k->flush(k);
		ipfix_export_finish(exporters[i]);
		ipfix_export_get_stats(exporters[i], &st);
		pr_info("%s: %" PRIu64 " records sent in %" PRIu64 " messages (%" PRIu64
			" bytes), %" PRIu64 " records not sent\n",
			k->name, st.records, st.messages, st.octets, st.records_unsent);
		ipfix_export_close(exporters[i]);
		exporters[i] = NULL;
	}
	nr_exporters = 0;
}
