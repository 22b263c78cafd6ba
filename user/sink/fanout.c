// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The fan-out from the flow table to the sinks; see sink.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "lib/log.h"
#include "sink/sink.h"

int fanout_init(struct fanout *f)
{
	memset(f, 0, sizeof(*f));
	f->stage = calloc(FANOUT_STAGE, sizeof(*f->stage));
	return f->stage ? 0 : -ENOMEM;
}

void fanout_free(struct fanout *f)
{
	free(f->stage);
	f->stage = NULL;
}

int fanout_add(struct fanout *f, struct sink *s)
{
	if (f->nsinks == FANOUT_MAX_SINKS)
		return -E2BIG;
	f->sinks[f->nsinks++] = s;
	return 0;
}

long fanout_deliver(struct fanout *f)
{
	size_t n = f->staged;

	for (int i = 0; i < f->nsinks && n; i++) {
		size_t room = f->sinks[i]->room(f->sinks[i]);

		if (room < n)
			n = room;
	}
	if (!n)
		return (long)f->staged;
	for (int i = 0; i < f->nsinks; i++) {
		int err = f->sinks[i]->take(f->sinks[i], f->stage, n);

		/* room said yes, so this is a bug or a dead sink: the records
		 * stay staged for every sink, at the price of a duplicate in
		 * those that took them already. Say so. */
		if (err) {
			pr_err("sink %s refused %zu records it had room for: %s\n",
			       f->sinks[i]->name, n, strerror(-err));
			return err;
		}
	}
	f->delivered += n;
	f->staged -= n;
	memmove(f->stage, f->stage + n, f->staged * sizeof(f->stage[0]));
	return (long)f->staged;
}

int fanout_emit(const struct fm_record *r, void *ctx)
{
	struct fanout *f = ctx;

	if (f->staged == FANOUT_STAGE && fanout_deliver(f) != 0 && f->staged == FANOUT_STAGE) {
		f->refused++;
		return -EAGAIN;
	}
	f->stage[f->staged++] = *r;
	return 0;
}

size_t fanout_room(struct fanout *f)
{
	size_t room = SINK_ROOM_ANY;

	for (int i = 0; i < f->nsinks; i++) {
		size_t r = f->sinks[i]->room(f->sinks[i]);

		if (r < room)
			room = r;
	}
	/* The sinks take the staged records first; the stage's free part
	 * holds the rest. */
	if (room == SINK_ROOM_ANY)
		return SINK_ROOM_ANY;
	return (FANOUT_STAGE - f->staged) + (room > f->staged ? room - f->staged : 0);
}

void fanout_flush(struct fanout *f)
{
	for (int i = 0; i < f->nsinks; i++)
		if (f->sinks[i]->flush)
			f->sinks[i]->flush(f->sinks[i]);
}
