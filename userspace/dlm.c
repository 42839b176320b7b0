// SPDX-License-Identifier: GPL-2.0
/*
 * dlm.c - the lock manager of two primaries (dlm.h; docs/protocol.md,
 * section 12): the master's grants and blocking callbacks, the follower's
 * requests and releases, units given up whole, grants grown while
 * uncontended, a minimum hold against ping-pong.
 */
#include <string.h>
#include "bits.h"
#include "dlm.h"

static uint32_t stamp(const struct hablk_dlm *d, uint64_t now)
{
	uint32_t t = (uint32_t)(now - d->epoch);

	return t ? t : 1;	/* 0 means never */
}

int hablk_dlm_init(struct hablk_dlm *d, uint64_t nextents, bool master,
		   unsigned int min_hold_ms, unsigned int contention_ms,
		   const struct hablk_dlm_ops *ops, void *ctx, uint64_t now)
{
	memset(d, 0, sizeof(*d));
	d->nextents = nextents;
	d->master = master;
	d->min_hold_ms = min_hold_ms;
	d->contention_ms = contention_ms;
	d->ops = ops;
	d->ctx = ctx;
	d->epoch = now;
	d->mine = bits_alloc(nextents);
	d->mine_start = bits_alloc(nextents);
	d->want = bits_alloc(nextents);
	d->asked = bits_alloc(nextents);
	d->blocked = bits_alloc(nextents);
	d->releasing = bits_alloc(nextents);
	d->acquired = calloc((size_t)nextents + 1, sizeof(uint32_t));
	if (master) {
		d->theirs = bits_alloc(nextents);
		d->theirs_start = bits_alloc(nextents);
		d->their_want = bits_alloc(nextents);
		d->blocking = bits_alloc(nextents);
		d->prev_theirs = bits_alloc(nextents);
		d->ever_held = bits_alloc(nextents);
		d->moved = calloc((size_t)nextents + 1, sizeof(uint32_t));
		d->their_seq = calloc((size_t)nextents + 1, sizeof(uint32_t));
	}
	if (!d->mine || !d->mine_start || !d->want || !d->asked || !d->blocked ||
	    !d->releasing || !d->acquired ||
	    (master && (!d->theirs || !d->theirs_start || !d->their_want || !d->blocking ||
			!d->prev_theirs || !d->ever_held || !d->moved || !d->their_seq))) {
		hablk_dlm_free(d);
		return -1;
	}
	return 0;
}

void hablk_dlm_free(struct hablk_dlm *d)
{
	free(d->mine);
	free(d->mine_start);
	free(d->want);
	free(d->asked);
	free(d->blocked);
	free(d->releasing);
	free(d->acquired);
	free(d->theirs);
	free(d->theirs_start);
	free(d->their_want);
	free(d->blocking);
	free(d->prev_theirs);
	free(d->ever_held);
	free(d->moved);
	free(d->their_seq);
	memset(d, 0, sizeof(*d));
}

/* Clip [first, +count) to the device; false if nothing is left. */
static bool clip(const struct hablk_dlm *d, uint64_t *first, uint64_t *count)
{
	if (*first >= d->nextents || !*count)
		return false;
	if (*count > d->nextents - *first)
		*count = d->nextents - *first;
	return true;
}

/* --- units: held runs cut where grants began --- */

/* Add [first, +count) to a holder's runs as one unit. */
static void unit_add(struct hablk_dlm *d, uint64_t *held, uint64_t *start, uint64_t first,
		     uint64_t count)
{
	uint64_t end = first + count;

	bits_assign(held, first, count, true);
	bits_assign(start, first, count, false);
	bits_set(start, first);
	if (end < d->nextents && bits_test(held, end))
		bits_set(start, end);	/* the next unit keeps its own start */
}

/* Remove [first, +count) from a holder's runs; what follows keeps a start. */
static void unit_remove(struct hablk_dlm *d, uint64_t *held, uint64_t *start, uint64_t first,
			uint64_t count)
{
	uint64_t end = first + count;

	bits_assign(held, first, count, false);
	bits_assign(start, first, count, false);
	if (end < d->nextents && bits_test(held, end))
		bits_set(start, end);
}

/* The unit of held extent @e: its first extent, and *end. */
static uint64_t unit_of(const struct hablk_dlm *d, const uint64_t *held, const uint64_t *start,
			uint64_t e, uint64_t *end)
{
	uint64_t first = e, next;

	while (first > 0 && !bits_test(start, first) && bits_test(held, first - 1))
		first--;
	next = bits_next(start, d->nextents, e + 1, true);
	*end = bits_next(held, next, e + 1, false);
	return first;
}

/* --- sending --- */

static void send_ranges(struct hablk_dlm *d, uint8_t type, uint64_t seq, uint64_t first,
			uint64_t count)
{
	struct hablk_dlm_msg m = { .type = type, .seq = seq, .n = 1 };

	if (!d->session)
		return;
	m.r[0].first = first;
	m.r[0].count = count;
	d->ops->send(d->ctx, &m);
}

/* STATE: every run this node holds, as a list of messages, numbered @seq. */
static void send_state(struct hablk_dlm *d, uint64_t seq)
{
	struct hablk_dlm_msg m = { .type = HABLK_DLM_STATE, .flags = HABLK_DLM_F_BEGIN,
				   .seq = seq };
	uint64_t e = 0, end;

	if (!d->session)
		return;
	for (;;) {
		e = bits_next(d->mine, d->nextents, e, true);
		if (e >= d->nextents)
			break;
		end = bits_next(d->mine, d->nextents, e, false);
		m.r[m.n].first = e;
		m.r[m.n].count = end - e;
		if (++m.n == HABLK_DLM_RANGES) {
			d->ops->send(d->ctx, &m);
			m.flags = 0;
			m.n = 0;
		}
		e = end;
	}
	m.flags |= HABLK_DLM_F_END;
	d->ops->send(d->ctx, &m);
}

/*
 * Master: learn the follower's holdings again. Our STATE (numbered) asks;
 * the follower answers with its own, after every message we sent before
 * (the channel keeps the order), so the answer holds every grant we made;
 * until the answer to the newest ask is in, we grant nothing.
 */
static void resync(struct hablk_dlm *d)
{
	d->synced = false;
	d->state_begun = false;
	d->resync_seq++;
	bits_assign(d->their_want, 0, d->nextents, false);	/* it asks again */
	bits_assign(d->blocking, 0, d->nextents, false);
	send_state(d, d->resync_seq);
}

/* --- the master --- */

static bool contended(const struct hablk_dlm *d, uint64_t e, uint64_t now)
{
	return d->moved[e] && stamp(d, now) - d->moved[e] < d->contention_ms;
}

/* May a grant to one node grow over extent @e? */
static bool growable(const struct hablk_dlm *d, uint64_t e, uint64_t now)
{
	return !bits_test(d->mine, e) && !bits_test(d->theirs, e) && !bits_test(d->want, e) &&
	       !bits_test(d->their_want, e) && !contended(d, e, now);
}

/*
 * The largest range around [first, +count) (all free) that no one else
 * wants and that did not change hands lately: as Lustre grants the largest
 * non-conflicting extent, so a node that works alone needs one grant.
 */
static void grow(const struct hablk_dlm *d, uint64_t *first, uint64_t *count, uint64_t now)
{
	uint64_t a = *first, b = *first + *count;

	while (a > 0 && growable(d, a - 1, now))
		a--;
	while (b < d->nextents && growable(d, b, now))
		b++;
	*first = a;
	*count = b - a;
}

/* Note who holds [first, +count) now; extents that changed hands are stamped. */
static void note_owner(struct hablk_dlm *d, uint64_t first, uint64_t count, bool theirs,
		       uint64_t now)
{
	uint64_t e;

	for (e = first; e < first + count; e++) {
		if (bits_test(d->ever_held, e) && bits_test(d->prev_theirs, e) != theirs) {
			d->moved[e] = stamp(d, now);
			d->st.transfers++;
		}
		bits_set(d->ever_held, e);
		if (theirs)
			bits_set(d->prev_theirs, e);
		else
			bits_clear(d->prev_theirs, e);
	}
}

/* Master: grant [first, +count) (free) to this node's kernel, grown. */
static void grant_mine(struct hablk_dlm *d, uint64_t first, uint64_t count, uint64_t now)
{
	grow(d, &first, &count, now);
	d->grant_seq++;
	bits_assign(d->want, first, count, false);
	if (d->ops->grant(d->ctx, first, count, d->grant_seq))
		return;		/* not primary: it wants nothing any more */
	unit_add(d, d->mine, d->mine_start, first, count);
	d->acquired[first] = stamp(d, now);
	note_owner(d, first, count, false, now);
	d->st.grants += count;
}

/* Master: grant [first, +count) (free) to the follower, grown. */
static void grant_theirs(struct hablk_dlm *d, uint64_t first, uint64_t count, uint64_t now)
{
	uint64_t e;

	grow(d, &first, &count, now);
	d->grant_seq++;
	for (e = first; e < first + count; e++)
		d->their_seq[e] = (uint32_t)d->grant_seq;
	unit_add(d, d->theirs, d->theirs_start, first, count);
	bits_assign(d->their_want, first, count, false);
	note_owner(d, first, count, true, now);
	d->st.grants += count;
	send_ranges(d, HABLK_DLM_GRANT, d->grant_seq, first, count);
}

/* Ask this node's kernel to give up its units overlapping [first, +count), after min_hold. */
static void block_mine(struct hablk_dlm *d, uint64_t first, uint64_t count)
{
	uint64_t e = first, a, end;

	for (;;) {
		e = bits_next(d->mine, first + count, e, true);
		if (e >= first + count)
			break;
		a = unit_of(d, d->mine, d->mine_start, e, &end);
		if (!bits_all(d->releasing, a, end - a)) {
			bits_assign(d->blocked, a, end - a, true);
			d->st.blocks++;
		}
		e = end;
	}
}

/*
 * Master: free extent @e is wanted by both nodes: the one that did not hold
 * it last goes first, so under contention the nodes take turns.
 */
static bool our_turn(const struct hablk_dlm *d, uint64_t e)
{
	return bits_test(d->want, e) && bits_test(d->their_want, e) &&
	       bits_test(d->prev_theirs, e);
}

static bool their_turn(const struct hablk_dlm *d, uint64_t e)
{
	return bits_test(d->want, e) && bits_test(d->their_want, e) &&
	       !bits_test(d->prev_theirs, e);
}

/*
 * Master: one run of what the follower wants: grant what is free (unless
 * @wait: we are still giving up units, and the grant should grow over them
 * once they are free), call back what is ours.
 */
static void serve_theirs(struct hablk_dlm *d, uint64_t first, uint64_t count, bool wait,
			 uint64_t now)
{
	uint64_t e = first, end, stop = first + count, b;

	while (e < stop) {
		if (bits_test(d->theirs, e)) {
			/* its already (a grant crossed the request) */
			end = bits_next(d->theirs, stop, e, false);
			bits_assign(d->their_want, e, end - e, false);
		} else if (bits_test(d->mine, e)) {
			end = bits_next(d->mine, stop, e, false);
			block_mine(d, e, end - e);
		} else {
			end = bits_next(d->mine, stop, e, true);
			end = bits_next(d->theirs, end, e, true);
			/* wanted by both: the node that did not hold it last goes first */
			if (our_turn(d, e)) {
				while (++e < end && our_turn(d, e))
					;
				continue;
			}
			for (b = e + 1; b < end && !our_turn(d, b); b++)
				;
			end = b;
			if (!wait)
				grant_theirs(d, e, end - e, now);
		}
		e = end;
	}
}

/* Master: one run of what this node wants: grant what is free (unless @wait), call back. */
static void serve_mine(struct hablk_dlm *d, uint64_t first, uint64_t count, bool wait,
		       uint64_t now)
{
	uint64_t e = first, end, stop = first + count, b, c;

	while (e < stop) {
		if (bits_test(d->theirs, e)) {
			end = bits_next(d->theirs, stop, e, false);
			/* a blocking callback for what was not called back yet */
			for (b = e; b < end; b = c) {
				b = bits_next(d->blocking, end, b, false);
				if (b >= end)
					break;
				c = bits_next(d->blocking, end, b, true);
				bits_assign(d->blocking, b, c - b, true);
				send_ranges(d, HABLK_DLM_BLOCK, 0, b, c - b);
			}
		} else if (bits_test(d->mine, e)) {
			/* ours, being given up: asked for again once it is released */
			end = bits_next(d->mine, stop, e, false);
		} else {
			end = bits_next(d->theirs, stop, e, true);
			end = bits_next(d->mine, end, e, true);
			if (their_turn(d, e)) {
				while (++e < end && their_turn(d, e))
					;
				continue;
			}
			for (b = e + 1; b < end && !their_turn(d, b); b++)
				;
			end = b;
			if (!wait)
				grant_mine(d, e, end - e, now);
		}
		e = end;
	}
}

/*
 * Master: is a unit of @held (one node's) being given up (@going, @going2)
 * inside [first, +count) or next to it across free extents? Then a grant of
 * that run to the other node waits, to grow over the whole unit once it is
 * free: a handover is one round trip, not one per extent.
 */
static bool going_near(const struct hablk_dlm *d, const uint64_t *held, const uint64_t *going,
		       const uint64_t *going2, uint64_t first, uint64_t count)
{
	uint64_t a = first, b = first + count;

	if (bits_any(held, first, count))
		return true;	/* called back now, or still going */
	while (a > 0 && !bits_test(d->mine, a - 1) && !bits_test(d->theirs, a - 1))
		a--;
	while (b < d->nextents && !bits_test(d->mine, b) && !bits_test(d->theirs, b))
		b++;
	return (a > 0 && bits_test(held, a - 1) &&
		(bits_test(going, a - 1) || (going2 && bits_test(going2, a - 1)))) ||
	       (b < d->nextents && bits_test(held, b) &&
		(bits_test(going, b) || (going2 && bits_test(going2, b))));
}

/*
 * Master: answer what both nodes wait for (the follower's first). A run
 * waits only for the units it would grow over (going_near), never for
 * handovers elsewhere: under contention neither node starves the other.
 */
static void master_process(struct hablk_dlm *d, uint64_t now)
{
	uint64_t e, end, n;
	int pass;

	if (!d->synced)
		return;		/* the follower may hold anything: grant nothing yet */
	/* the follower's again last: what we just took on our turn, it asks back */
	for (pass = 0; pass < 3; pass++) {
		uint64_t *want = pass == 1 ? d->want : d->their_want;

		for (e = 0;; e = end) {
			e = bits_next(want, d->nextents, e, true);
			if (e >= d->nextents)
				break;
			end = bits_next(want, d->nextents, e, false);
			n = end - e;
			if (pass == 1)
				serve_mine(d, e, n, going_near(d, d->theirs, d->blocking, NULL, e, n),
					   now);
			else
				serve_theirs(d, e, n, going_near(d, d->mine, d->blocked,
								 d->releasing, e, n), now);
		}
	}
}

/* --- the follower --- */

/* Ask the master for what the kernel wants, lacks and was not asked for yet. */
static void follower_process(struct hablk_dlm *d)
{
	uint64_t e, end, stop;

	if (!d->session)
		return;
	for (e = 0;; e = stop) {
		e = bits_next(d->want, d->nextents, e, true);
		if (e >= d->nextents)
			break;
		stop = bits_next(d->want, d->nextents, e, false);
		for (; e < stop; e = end) {
			if (bits_test(d->asked, e) || bits_test(d->mine, e)) {
				end = e + 1;
				continue;
			}
			end = bits_next(d->asked, stop, e, true);
			end = bits_next(d->mine, end, e, true);
			bits_assign(d->asked, e, end - e, true);
			send_ranges(d, HABLK_DLM_REQUEST, 0, e, end - e);
		}
	}
}

/* Follower: the master's grant. */
static void follower_grant(struct hablk_dlm *d, uint64_t first, uint64_t count, uint64_t seq,
			   uint64_t now)
{
	bits_assign(d->asked, first, count, false);
	if (seq > d->seen_seq)
		d->seen_seq = seq;
	if (d->ops->grant(d->ctx, first, count, seq)) {
		/* not primary any more: it is not ours, say so */
		send_ranges(d, HABLK_DLM_RELEASED, d->seen_seq, first, count);
		return;
	}
	unit_add(d, d->mine, d->mine_start, first, count);
	bits_assign(d->want, first, count, false);
	d->acquired[first] = stamp(d, now);
}

/* Follower: the master's blocking callback: give up our units there; what we lack is free. */
static void follower_block(struct hablk_dlm *d, uint64_t first, uint64_t count)
{
	uint64_t e = first, end;

	d->st.blocks++;
	while (e < first + count) {
		if (bits_test(d->mine, e)) {
			end = bits_next(d->mine, first + count, e, false);
			block_mine(d, e, end - e);
		} else {
			end = bits_next(d->mine, first + count, e, true);
			send_ranges(d, HABLK_DLM_RELEASED, d->seen_seq, e, end - e);
		}
		e = end;
	}
}

/* --- both --- */

static void process(struct hablk_dlm *d, uint64_t now)
{
	if (d->alone)
		return;
	if (d->master)
		master_process(d, now);
	else
		follower_process(d);
	hablk_dlm_tick(d, now);
}

void hablk_dlm_kernel_held(struct hablk_dlm *d, uint64_t first, uint64_t count, uint64_t now)
{
	if (!clip(d, &first, &count))
		return;
	unit_add(d, d->mine, d->mine_start, first, count);
	d->acquired[first] = stamp(d, now);
}

void hablk_dlm_kernel_releasing(struct hablk_dlm *d, uint64_t first, uint64_t count)
{
	if (clip(d, &first, &count))
		bits_assign(d->releasing, first, count, true);
}

void hablk_dlm_kernel_want(struct hablk_dlm *d, uint64_t first, uint64_t count, uint64_t now)
{
	uint64_t e;

	if (!clip(d, &first, &count))
		return;
	/* what it holds but is giving up counts too: asked for once released */
	for (e = first; e < first + count; e++)
		if (!bits_test(d->mine, e) || bits_test(d->blocked, e) ||
		    bits_test(d->releasing, e))
			bits_set(d->want, e);
	process(d, now);
}

void hablk_dlm_kernel_released(struct hablk_dlm *d, uint64_t first, uint64_t count,
			       uint64_t now)
{
	if (!clip(d, &first, &count))
		return;
	unit_remove(d, d->mine, d->mine_start, first, count);
	bits_assign(d->releasing, first, count, false);
	bits_assign(d->blocked, first, count, false);
	if (!d->master && !d->alone)
		send_ranges(d, HABLK_DLM_RELEASED, d->seen_seq, first, count);
	process(d, now);
}

void hablk_dlm_session(struct hablk_dlm *d, uint64_t now)
{
	d->session = true;
	d->seen_seq = 0;	/* a new master run numbers its grants from 1 again */
	if (d->master && !d->alone)
		resync(d);
	process(d, now);
}

void hablk_dlm_resume(struct hablk_dlm *d, uint64_t grant_seq, uint64_t seen_seq, uint64_t now)
{
	d->session = true;
	d->grant_seq = grant_seq;	/* the follower knows our grants by these numbers */
	d->seen_seq = seen_seq;
	hablk_dlm_resync(d, now);
}

void hablk_dlm_session_lost(struct hablk_dlm *d)
{
	d->session = false;
}

void hablk_dlm_resync(struct hablk_dlm *d, uint64_t now)
{
	struct hablk_dlm_msg m = { .type = HABLK_DLM_RESYNC };

	if (d->alone)
		return;
	if (d->master)
		resync(d);
	else if (d->session)
		d->ops->send(d->ctx, &m);
	process(d, now);
}

void hablk_dlm_link(struct hablk_dlm *d, bool connected, uint64_t now)
{
	if (connected == d->connected)
		return;
	d->connected = connected;
	if (!d->master || d->alone)
		return;
	/* apart, the follower may be fenced and its kernel change: trust our map no more */
	if (connected)
		resync(d);
	else
		d->synced = false;
	process(d, now);
}

void hablk_dlm_peer_secondary(struct hablk_dlm *d, uint64_t now)
{
	if (!d->master || d->synced || d->alone || !d->connected)
		return;
	/* a secondary holds nothing, and gets nothing but from us */
	bits_assign(d->theirs, 0, d->nextents, false);
	bits_assign(d->theirs_start, 0, d->nextents, false);
	d->synced = true;
	process(d, now);
}

void hablk_dlm_alone(struct hablk_dlm *d, bool alone, uint64_t now)
{
	if (alone == d->alone)
		return;
	d->alone = alone;
	if (alone) {
		/* the peer is fenced: what it held is ours, what it wanted is moot */
		d->ops->take_all(d->ctx);
		bits_assign(d->mine, 0, d->nextents, true);
		bits_assign(d->mine_start, 0, d->nextents, false);
		bits_set(d->mine_start, 0);
		bits_assign(d->want, 0, d->nextents, false);
		bits_assign(d->asked, 0, d->nextents, false);
		bits_assign(d->blocked, 0, d->nextents, false);
		if (d->master) {
			bits_assign(d->theirs, 0, d->nextents, false);
			bits_assign(d->theirs_start, 0, d->nextents, false);
			bits_assign(d->their_want, 0, d->nextents, false);
			bits_assign(d->blocking, 0, d->nextents, false);
			d->synced = true;
		}
		return;
	}
	/* together again: the master learns the follower's holdings (all, if it is us) */
	hablk_dlm_resync(d, now);
}

/*
 * Master: the follower gave up [first, +count), as it knew our grants up to
 * @seen. An extent we granted it again since (a grant crossed the release,
 * or the reply to a callback it did not hold) stays its.
 */
static void master_released(struct hablk_dlm *d, uint64_t first, uint64_t count, uint64_t seen)
{
	uint64_t e, end;

	for (e = first; e < first + count; e = end) {
		for (end = e; end < first + count && bits_test(d->theirs, end) &&
		     (int32_t)(d->their_seq[end] - (uint32_t)seen) > 0; end++)
			;
		if (end > e)
			continue;	/* granted after: still its */
		for (end = e + 1; end < first + count && !(bits_test(d->theirs, end) &&
		     (int32_t)(d->their_seq[end] - (uint32_t)seen) > 0); end++)
			;
		unit_remove(d, d->theirs, d->theirs_start, e, end - e);
		bits_assign(d->blocking, e, end - e, false);
	}
}

/* Master: the follower's STATE (a list): its holdings, the answer to our newest ask. */
static void master_state(struct hablk_dlm *d, const struct hablk_dlm_msg *m, uint64_t now)
{
	uint64_t first, count, e;
	int i;

	if (m->seq != d->resync_seq || d->synced)
		return;		/* the answer to an older ask: the newer one comes */
	if (m->flags & HABLK_DLM_F_BEGIN) {
		bits_assign(d->theirs, 0, d->nextents, false);
		bits_assign(d->theirs_start, 0, d->nextents, false);
		d->state_begun = true;
	}
	if (!d->state_begun)
		return;
	for (i = 0; i < m->n; i++) {
		first = m->r[i].first;
		count = m->r[i].count;
		if (!clip(d, &first, &count))
			continue;
		/* never both: a node that holds what we hold is a bug; counted */
		if (bits_any(d->mine, first, count))
			d->st.conflicts++;
		unit_add(d, d->theirs, d->theirs_start, first, count);
		for (e = first; e < first + count; e++)
			d->their_seq[e] = 0;	/* held before any grant of ours it knows */
	}
	if (m->flags & HABLK_DLM_F_END) {
		d->synced = true;
		d->state_begun = false;
		process(d, now);
	}
}

/* Follower: the master asks what we hold; we answer, then ask again for what we want. */
static void follower_state(struct hablk_dlm *d, const struct hablk_dlm_msg *m, uint64_t now)
{
	if (m->flags & HABLK_DLM_F_BEGIN)
		bits_assign(d->asked, 0, d->nextents, false);
	if (m->flags & HABLK_DLM_F_END)
		send_state(d, m->seq);
	process(d, now);
}

void hablk_dlm_receive(struct hablk_dlm *d, const struct hablk_dlm_msg *m, uint64_t now)
{
	uint64_t first, count;
	int i;

	if (d->alone)
		return;		/* the peer is fenced: its word does not count */
	if (m->type == HABLK_DLM_STATE) {
		if (d->master)
			master_state(d, m, now);
		else
			follower_state(d, m, now);
		return;
	}
	if (m->type == HABLK_DLM_RESYNC) {
		if (d->master)
			resync(d);
		process(d, now);
		return;
	}
	for (i = 0; i < m->n; i++) {
		first = m->r[i].first;
		count = m->r[i].count;
		if (!clip(d, &first, &count))
			continue;
		switch (m->type) {
		case HABLK_DLM_REQUEST:
			if (!d->master)
				break;
			bits_assign(d->their_want, first, count, true);
			break;
		case HABLK_DLM_RELEASED:
			if (d->master)
				master_released(d, first, count, m->seq);
			break;
		case HABLK_DLM_GRANT:
			if (!d->master)
				follower_grant(d, first, count, m->seq, now);
			break;
		case HABLK_DLM_BLOCK:
			if (!d->master)
				follower_block(d, first, count);
			break;
		}
	}
	process(d, now);
}

/* When may the blocked run [a, end) be given up: min_hold after its unit's grant. */
static uint64_t release_due(const struct hablk_dlm *d, uint64_t a)
{
	uint64_t e = a;

	while (e > 0 && !bits_test(d->mine_start, e) && bits_test(d->mine, e - 1))
		e--;
	return d->epoch + d->acquired[e] + d->min_hold_ms;
}

void hablk_dlm_tick(struct hablk_dlm *d, uint64_t now)
{
	uint64_t e, end;

	for (e = 0;; e = end) {
		e = bits_next(d->blocked, d->nextents, e, true);
		if (e >= d->nextents)
			break;
		end = bits_next(d->blocked, d->nextents, e, false);
		if (now < release_due(d, e))
			continue;
		bits_assign(d->blocked, e, end - e, false);
		bits_assign(d->releasing, e, end - e, true);
		d->ops->release(d->ctx, e, end - e);
	}
}

uint64_t hablk_dlm_next_timer(const struct hablk_dlm *d)
{
	uint64_t e, end, due, next = UINT64_MAX;

	for (e = 0;; e = end) {
		e = bits_next(d->blocked, d->nextents, e, true);
		if (e >= d->nextents)
			break;
		end = bits_next(d->blocked, d->nextents, e, false);
		due = release_due(d, e);
		if (due < next)
			next = due;
	}
	return next;
}

uint64_t hablk_dlm_next_run(const struct hablk_dlm *d, bool theirs, uint64_t from,
			    uint64_t *count)
{
	const uint64_t *map = theirs ? d->theirs : d->mine;
	uint64_t e, end;

	if (!map) {
		*count = 0;
		return d->nextents;
	}
	e = bits_next(map, d->nextents, from, true);
	end = e < d->nextents ? bits_next(map, d->nextents, e, false) : e;
	*count = end - e;
	return e;
}

/* Wire: type, flags, n (big-endian 16), seq (64), then n ranges of two 64-bit values. */
static void put64(uint8_t *p, uint64_t v)
{
	int i;

	for (i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

static uint64_t get64(const uint8_t *p)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

int hablk_dlm_encode(const struct hablk_dlm_msg *m, uint8_t *buf, size_t len)
{
	size_t need = 12 + (size_t)m->n * 16;
	int i;

	if (m->n > HABLK_DLM_RANGES || len < need)
		return -1;
	buf[0] = m->type;
	buf[1] = m->flags;
	buf[2] = (uint8_t)(m->n >> 8);
	buf[3] = (uint8_t)m->n;
	put64(buf + 4, m->seq);
	for (i = 0; i < m->n; i++) {
		put64(buf + 12 + i * 16, m->r[i].first);
		put64(buf + 20 + i * 16, m->r[i].count);
	}
	return (int)need;
}

int hablk_dlm_decode(const uint8_t *buf, size_t len, struct hablk_dlm_msg *m)
{
	int i;

	if (len < 12)
		return -1;
	memset(m, 0, sizeof(*m));
	m->type = buf[0];
	m->flags = buf[1];
	m->n = (uint16_t)(buf[2] << 8 | buf[3]);
	m->seq = get64(buf + 4);
	if (m->type == 0 || m->type >= __HABLK_DLM_MAX || m->n > HABLK_DLM_RANGES ||
	    (m->flags & ~(HABLK_DLM_F_BEGIN | HABLK_DLM_F_END)) ||
	    (m->flags && m->type != HABLK_DLM_STATE) || len != 12 + (size_t)m->n * 16)
		return -1;
	for (i = 0; i < m->n; i++) {
		m->r[i].first = get64(buf + 12 + i * 16);
		m->r[i].count = get64(buf + 20 + i * 16);
	}
	return 0;
}
