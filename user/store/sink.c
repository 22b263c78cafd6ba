// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The store as a sink (sink/sink.h): room is the free part of its queue. */
#include "sink/sink.h"
#include "store/internal.h"

static size_t store_room(struct sink *k)
{
	struct store *s = k->priv;
	size_t room;

	pthread_mutex_lock(&s->lock);
	room = s->rec_cap - s->rec_count;
	/* Asked and found wanting: write now rather than at the deadline. */
	if (!room) {
		s->st.queue_full++;
		s->flush_now = true;
		pthread_cond_signal(&s->wake);
	}
	pthread_mutex_unlock(&s->lock);
	return room;
}

static int store_take(struct sink *k, const struct fm_record *recs, size_t n)
{
	return store_submit(k->priv, recs, n);
}

static void store_hurry(struct sink *k)
{
	store_flush(k->priv);
}

void store_sink_init(struct sink *k, struct store *s)
{
	*k = (struct sink){
		.name = "store",
		.room = store_room,
		.take = store_take,
		.flush = store_hurry,
		.priv = s,
	};
}
