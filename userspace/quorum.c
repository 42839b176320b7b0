// SPDX-License-Identifier: GPL-2.0
/* quorum.c - voter liveness with flap damping and the majority rule (see quorum.h). */
#include <string.h>

#include "quorum.h"

static bool is_voter(const struct hq *q, unsigned int id)
{
	return id < HQ_MAX_VOTERS && (q->voters & (1u << id));
}

int hq_init(struct hq *q, unsigned int self, uint32_t voters,
	    unsigned int timeout_ms, unsigned int stable_ms)
{
	memset(q, 0, sizeof(*q));
	q->self = self;
	q->voters = voters;
	q->timeout_ms = timeout_ms;
	q->stable_ms = stable_ms;
	return is_voter(q, self) && timeout_ms ? 0 : -1;
}

/* last is less than timeout_ms before now. */
static bool recent(const struct hq *q, uint64_t last, uint64_t now)
{
	return now - last < q->timeout_ms;
}

void hq_heard(struct hq *q, unsigned int id, unsigned int path, uint64_t now)
{
	struct hq_voter *v;

	if (!is_voter(q, id) || id == q->self || path >= HQ_PATHS)
		return;
	v = &q->v[id];
	if (!v->heard_paths || !recent(q, v->last, now))
		v->since = now;
	v->heard[path] = now;
	v->heard_paths |= 1u << path;
	v->last = now;
}

bool hq_alive(const struct hq *q, unsigned int id, uint64_t now)
{
	const struct hq_voter *v;

	if (!is_voter(q, id))
		return false;
	if (id == q->self)
		return true;
	v = &q->v[id];
	return v->heard_paths && recent(q, v->last, now) &&
	       now - v->since >= q->stable_ms;
}

bool hq_path_alive(const struct hq *q, unsigned int id, unsigned int path,
		   uint64_t now)
{
	if (!is_voter(q, id) || path >= HQ_PATHS)
		return false;
	return (q->v[id].heard_paths & (1u << path)) &&
	       recent(q, q->v[id].heard[path], now);
}

bool hq_heard_within(const struct hq *q, unsigned int id, uint64_t ms, uint64_t now)
{
	if (!is_voter(q, id))
		return false;
	if (id == q->self)
		return true;
	return q->v[id].heard_paths && now - q->v[id].last < ms;
}

uint32_t hq_alive_mask(const struct hq *q, uint64_t now)
{
	uint32_t mask = 0;
	unsigned int id;

	for (id = 0; id < HQ_MAX_VOTERS; id++)
		if (hq_alive(q, id, now))
			mask |= 1u << id;
	return mask;
}

unsigned int hq_votes(const struct hq *q, uint64_t now)
{
	return __builtin_popcount(hq_alive_mask(q, now));
}

bool hq_quorum(const struct hq *q, uint64_t now)
{
	return hq_votes(q, now) * 2 > (unsigned int)__builtin_popcount(q->voters);
}
