// SPDX-License-Identifier: GPL-2.0
/*
 * test_dlm.c - check(3) tests of the lock manager of two primaries
 * (userspace/dlm.c) and its channel (userspace/chan.c): two managers over a
 * simulated link with two fake kernels, by hand and at random, with races
 * (a request crossing a callback, restarts, a peer fenced mid-transfer).
 * Whatever happens, the two kernels never hold one extent at once.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bits.h"
#include "chan.h"
#include "dlm.h"
#include "lkmsg.h"
#include "suites.h"

/* ------------------------------------------------------------------ chan */

struct wire {
	struct hablk_chan_hdr h[4096];
	uint8_t p[4096][HABLK_CHAN_MSG_MAX];
	size_t len[4096];
	bool again[4096];
	int n;
};

static void wire_send(void *ctx, const struct hablk_chan_hdr *h, const uint8_t *p, size_t len,
		      bool again)
{
	struct wire *w = ctx;

	ck_assert_int_lt(w->n, 4096);
	w->again[w->n] = again;
	w->h[w->n] = *h;
	memcpy(w->p[w->n], p ? p : (const uint8_t *)"", len);
	w->len[w->n] = len;
	w->n++;
}

struct got {
	int n;
	int v[4096];
};

static void got_deliver(void *ctx, const uint8_t *p, size_t len)
{
	struct got *g = ctx;

	ck_assert_uint_eq(len, sizeof(int));
	memcpy(&g->v[g->n++], p, sizeof(int));
}

/* Deliver what @w holds to @c, dropping (1 in @drop, 0: none) and duplicating at random. */
static void carry(struct wire *w, struct hablk_chan *c, struct got *g, unsigned int drop,
		  unsigned int *seed)
{
	int i, k;

	for (i = 0; i < w->n; i++) {
		if (drop && rand_r(seed) % drop == 0)
			continue;
		for (k = rand_r(seed) % 5 == 0 ? 2 : 1; k > 0; k--)
			hablk_chan_input(c, &w->h[i], w->p[i], w->len[i], 0, got_deliver, g);
	}
	w->n = 0;
}

START_TEST(chan_in_order_over_loss)
{
	static struct hablk_chan a, b;
	static struct wire ab, ba;
	static struct got ga, gb;
	unsigned int seed = 7;
	uint64_t now = 1000;
	int i, sent = 0;

	memset(&ab, 0, sizeof(ab));
	memset(&ba, 0, sizeof(ba));
	memset(&ga, 0, sizeof(ga));
	memset(&gb, 0, sizeof(gb));
	hablk_chan_init(&a, 11);
	hablk_chan_init(&b, 22);
	ck_assert(hablk_chan_peer(&a, 22));
	ck_assert(hablk_chan_peer(&b, 11));
	ck_assert(!hablk_chan_peer(&a, 22));
	for (i = 0; i < 20000 && (sent < 500 || a.qlen); i++, now += 5) {
		if (sent < 500 && hablk_chan_queue(&a, &sent, sizeof(sent)) == 0)
			sent++;
		hablk_chan_flush(&a, now, wire_send, &ab);
		carry(&ab, &b, &gb, 10, &seed);
		hablk_chan_flush(&b, now, wire_send, &ba);
		carry(&ba, &a, &ga, 10, &seed);
	}
	ck_assert_int_eq(sent, 500);
	ck_assert_int_eq(gb.n, 500);	/* each once, in order, though a tenth was lost */
	for (i = 0; i < 500; i++)
		ck_assert_int_eq(gb.v[i], i);
	ck_assert_uint_eq(a.qlen, 0);	/* all acked */
	ck_assert_uint_gt(a.retransmits, 0);
	ck_assert_int_eq(ga.n, 0);
}
END_TEST

/* An ack rides on the next message, or goes alone a little later; a resend says so. */
START_TEST(chan_acks_ride_on_messages)
{
	static struct hablk_chan a, b;
	static struct wire ab, ba;
	static struct got ga, gb;
	unsigned int seed = 3;
	int v = 1;

	memset(&ab, 0, sizeof(ab));
	memset(&ba, 0, sizeof(ba));
	memset(&ga, 0, sizeof(ga));
	memset(&gb, 0, sizeof(gb));
	hablk_chan_init(&a, 11);
	hablk_chan_init(&b, 22);
	hablk_chan_peer(&a, 22);
	hablk_chan_peer(&b, 11);
	ck_assert_int_eq(hablk_chan_queue(&a, &v, sizeof(v)), 0);
	hablk_chan_flush(&a, 100, wire_send, &ab);
	ck_assert_int_eq(ab.n, 1);
	ck_assert(!ab.again[0]);
	hablk_chan_input(&b, &ab.h[0], ab.p[0], ab.len[0], 100, got_deliver, &gb);
	ab.n = 0;
	ck_assert_int_eq(gb.n, 1);
	hablk_chan_flush(&b, 101, wire_send, &ba);
	ck_assert_int_eq(ba.n, 0);			/* the ack waits */
	ck_assert_uint_eq(hablk_chan_next_timer(&b), 100 + HABLK_CHAN_ACK_DELAY);
	ck_assert_int_eq(hablk_chan_queue(&b, &v, sizeof(v)), 0);
	hablk_chan_flush(&b, 102, wire_send, &ba);
	ck_assert_int_eq(ba.n, 1);			/* the reply carries it */
	ck_assert_uint_eq(ba.h[0].ack, 1);
	carry(&ba, &a, &ga, 0, &seed);
	ck_assert_uint_eq(a.qlen, 0);
	hablk_chan_flush(&b, 103, wire_send, &ba);
	ck_assert_int_eq(ba.n, 0);			/* no ack alone after that */
	hablk_chan_flush(&a, 102 + HABLK_CHAN_ACK_DELAY, wire_send, &ab);
	ck_assert_int_eq(ab.n, 1);			/* a's ack, alone, in time */
	ck_assert_uint_eq(ab.len[0], 0);
	/* b's message, its ack lost: sent again, marked so */
	ab.n = 0;
	hablk_chan_flush(&b, 1000, wire_send, &ba);
	ck_assert_int_eq(ba.n, 1);
	ck_assert(ba.again[0]);
}
END_TEST

START_TEST(chan_session_drops_the_old_run)
{
	static struct hablk_chan a, b;
	static struct wire ab, ba;
	static struct got gb;
	struct hablk_chan_hdr old;
	unsigned int seed = 1;
	int v = 42;

	memset(&ab, 0, sizeof(ab));
	memset(&ba, 0, sizeof(ba));
	memset(&gb, 0, sizeof(gb));
	hablk_chan_init(&a, 11);
	hablk_chan_init(&b, 22);
	hablk_chan_peer(&a, 22);
	hablk_chan_peer(&b, 11);
	ck_assert_int_eq(hablk_chan_queue(&a, &v, sizeof(v)), 0);
	hablk_chan_flush(&a, 1, wire_send, &ab);
	old = ab.h[0];
	carry(&ab, &b, &gb, 0, &seed);
	ck_assert_int_eq(gb.n, 1);
	/* a restarts: a new run; b learns it from its heartbeats */
	hablk_chan_init(&a, 33);
	hablk_chan_peer(&a, 22);
	ck_assert(hablk_chan_peer(&b, 33));
	/* the old run's datagram again (a replay): not delivered */
	hablk_chan_input(&b, &old, (const uint8_t *)&v, sizeof(v), 0, got_deliver, &gb);
	ck_assert_int_eq(gb.n, 1);
	/* the new run's first message is number 1 again, and gets through */
	v = 43;
	hablk_chan_queue(&a, &v, sizeof(v));
	hablk_chan_flush(&a, 2, wire_send, &ab);
	carry(&ab, &b, &gb, 0, &seed);
	ck_assert_int_eq(gb.n, 2);
	ck_assert_int_eq(gb.v[1], 43);
	/* a datagram for a run of b's that is not the current one: ignored */
	old = ab.h[0];
	hablk_chan_queue(&a, &v, sizeof(v));
	hablk_chan_flush(&a, 3, wire_send, &ab);
	ab.h[0].echo = 99;
	carry(&ab, &b, &gb, 0, &seed);
	ck_assert_int_eq(gb.n, 2);
}
END_TEST

START_TEST(chan_limits)
{
	static struct hablk_chan a;
	static uint8_t big[HABLK_CHAN_MSG_MAX + 1];
	int i;

	hablk_chan_init(&a, 1);
	ck_assert_int_eq(hablk_chan_queue(&a, big, sizeof(big)), -1);
	for (i = 0; i < HABLK_CHAN_QUEUE; i++)
		ck_assert_int_eq(hablk_chan_queue(&a, big, 1), 0);
	ck_assert_int_eq(hablk_chan_queue(&a, big, 1), -1);
	/* no peer known yet: nothing to send */
	ck_assert_uint_eq(hablk_chan_next_timer(&a), UINT64_MAX);
}
END_TEST

/* ------------------------------------------------------------- dlm: a pair */

#define NEXT	256		/* extents */
#define MIN_HOLD 10
#define CONTENTION 1000

struct msg {
	uint64_t at;
	struct hablk_dlm_msg m;
};

/* A fake kernel: what it holds, what it is giving up (and when that is done). */
struct kernel {
	uint64_t held[NEXT / 64 + 1];
	uint64_t want[NEXT / 64 + 1];
	uint64_t drain_at[NEXT];	/* releasing until then, 0: not releasing */
	bool primary;
	int grants, take_alls;
};

struct node {
	struct hablk_dlm d;
	struct kernel k;
	struct msg out[8192];		/* to the other node, in order */
	int nout;
	int id;
	struct pair *pair;
};

struct pair {
	struct node n[2];
	uint64_t now;
	unsigned int seed;
	unsigned int delay;		/* ms a message takes, at most */
	bool apart;			/* the replication link is down */
	uint64_t last_at[2];		/* keeps each direction in order */
};

static int trace = -1;
#define TR(...) do { if (trace < 0) trace = getenv("DLM_TRACE") != NULL; \
		     if (trace) fprintf(stderr, __VA_ARGS__); } while (0)

static int k_grant(void *ctx, uint64_t first, uint64_t count, uint64_t seq)
{
	struct node *n = ctx;

	TR("%llu n%d kernel grant %llu+%llu%s\n", (unsigned long long)n->pair->now, n->id,
	   (unsigned long long)first, (unsigned long long)count, n->k.primary ? "" : " REFUSED");

	(void)seq;
	if (!n->k.primary)
		return -1;
	bits_assign(n->k.held, first, count, true);
	bits_assign(n->k.want, first, count, false);
	n->k.grants++;
	return 0;
}

static void k_release(void *ctx, uint64_t first, uint64_t count)
{
	struct node *n = ctx;
	struct pair *p = n->pair;
	uint64_t e;

	TR("%llu n%d kernel release %llu+%llu\n", (unsigned long long)p->now, n->id,
	   (unsigned long long)first, (unsigned long long)count);
	for (e = first; e < first + count; e++) {
		if (bits_test(n->k.held, e))
			n->k.drain_at[e] = p->now + 1 + rand_r(&p->seed) % 5;	/* writes drain */
		else
			hablk_dlm_kernel_released(&n->d, e, 1, p->now);
	}
}

static void k_take_all(void *ctx)
{
	struct node *n = ctx;

	bits_assign(n->k.held, 0, NEXT, true);
	bits_assign(n->k.want, 0, NEXT, false);
	memset(n->k.drain_at, 0, sizeof(n->k.drain_at));
	n->k.take_alls++;
}

static void k_send(void *ctx, const struct hablk_dlm_msg *m)
{
	struct node *n = ctx;
	struct pair *p = n->pair;
	uint64_t at = p->now + (p->delay ? 1 + rand_r(&p->seed) % p->delay : 1);

	if (at < p->last_at[n->id])
		at = p->last_at[n->id];
	p->last_at[n->id] = at;
	TR("%llu n%d send type %d seq %llu flags %d n %d first %llu+%llu\n",
	   (unsigned long long)p->now, n->id, m->type, (unsigned long long)m->seq, m->flags, m->n,
	   (unsigned long long)m->r[0].first, (unsigned long long)m->r[0].count);
	ck_assert_int_lt(n->nout, 8192);
	n->out[n->nout].at = at;
	n->out[n->nout].m = *m;
	n->nout++;
}

static const struct hablk_dlm_ops kops = {
	.grant = k_grant, .release = k_release, .take_all = k_take_all, .send = k_send,
};

/* The kernel tells hablkd what its writes wait for (at start, and again every second). */
static void announce(struct pair *p, int i)
{
	struct node *n = &p->n[i];
	uint64_t e, end;

	for (e = 0; (e = bits_next(n->k.want, NEXT, e, true)) < NEXT; e = end) {
		end = bits_next(n->k.want, NEXT, e, false);
		hablk_dlm_kernel_want(&n->d, e, end - e, p->now);
	}
}

static void node_start(struct pair *p, int i)
{
	struct node *n = &p->n[i];
	uint64_t e, end;

	n->pair = p;
	n->id = i;
	ck_assert_int_eq(hablk_dlm_init(&n->d, NEXT, i == 0, MIN_HOLD, CONTENTION, &kops, n,
					p->now), 0);
	hablk_dlm_link(&n->d, !p->apart, p->now);	/* the replication link, as it is */
	/* relearn the kernel: what it holds, and what it waits for */
	for (e = 0; (e = bits_next(n->k.held, NEXT, e, true)) < NEXT; e = end) {
		end = bits_next(n->k.held, NEXT, e, false);
		hablk_dlm_kernel_held(&n->d, e, end - e, p->now);
	}
	for (e = 0; e < NEXT; e++)
		if (n->k.drain_at[e])
			hablk_dlm_kernel_releasing(&n->d, e, 1);
	announce(p, i);
}

static void pair_init(struct pair *p, unsigned int seed, unsigned int delay)
{
	memset(p, 0, sizeof(*p));
	p->seed = seed;
	p->delay = delay;
	p->now = 1;
	p->n[0].k.primary = p->n[1].k.primary = true;
	node_start(p, 0);
	node_start(p, 1);
	hablk_dlm_session(&p->n[0].d, p->now);
	hablk_dlm_session(&p->n[1].d, p->now);
}

static void pair_free(struct pair *p)
{
	hablk_dlm_free(&p->n[0].d);
	hablk_dlm_free(&p->n[1].d);
}

/* The one rule: never both kernels hold an extent. */
static void check_exclusive(struct pair *p)
{
	int i;

	for (i = 0; i < NEXT / 64 + 1; i++)
		ck_assert_msg(!(p->n[0].k.held[i] & p->n[1].k.held[i]),
			      "both kernels hold extents of word %d at %llu", i,
			      (unsigned long long)p->now);
}

/* One millisecond: messages due, drains done, timers. */
static void pair_step(struct pair *p)
{
	int i, j, k;
	uint64_t e;

	p->now++;
	for (i = 0; i < 2; i++) {
		struct node *from = &p->n[i], *to = &p->n[1 - i];

		for (j = 0; j < from->nout && from->out[j].at <= p->now; j++) {
			TR("%llu n%d recv type %d\n", (unsigned long long)p->now, to->id,
			   from->out[j].m.type);
			hablk_dlm_receive(&to->d, &from->out[j].m, p->now);
			check_exclusive(p);
		}
		for (k = 0; j < from->nout; j++, k++)
			from->out[k] = from->out[j];
		from->nout = k;
	}
	for (i = 0; i < 2; i++) {
		struct node *n = &p->n[i];

		for (e = 0; e < NEXT; e++) {
			if (!n->k.drain_at[e] || n->k.drain_at[e] > p->now)
				continue;
			n->k.drain_at[e] = 0;
			bits_clear(n->k.held, e);
			hablk_dlm_kernel_released(&n->d, e, 1, p->now);
			check_exclusive(p);
		}
		hablk_dlm_tick(&n->d, p->now);
		check_exclusive(p);
		if (p->now % 1000 == 0)
			announce(p, i);
	}
}

/* A write on node @i to extent @e: held already, or wanted (the kernel parks it). */
static void want(struct pair *p, int i, uint64_t e, uint64_t count)
{
	struct node *n = &p->n[i];
	uint64_t x;

	for (x = e; x < e + count; x++)
		if (!bits_test(n->k.held, x) || n->k.drain_at[x])
			bits_set(n->k.want, x);
	if (bits_any(n->k.want, e, count))
		hablk_dlm_kernel_want(&n->d, e, count, p->now);
	check_exclusive(p);
}

static bool satisfied(struct pair *p, int i, uint64_t e, uint64_t count)
{
	return bits_all(p->n[i].k.held, e, count) && !bits_any(p->n[i].k.want, e, count);
}

/* Run until node @i holds [e, +count), at most @ms; the milliseconds it took. */
static uint64_t until_held(struct pair *p, int i, uint64_t e, uint64_t count, uint64_t ms)
{
	uint64_t start = p->now;

	while (!satisfied(p, i, e, count)) {
		ck_assert_msg(p->now - start < ms, "node %d did not get [%llu, +%llu) in %llu ms",
			      i, (unsigned long long)e, (unsigned long long)count,
			      (unsigned long long)ms);
		pair_step(p);
	}
	return p->now - start;
}

static void quiesce(struct pair *p, uint64_t ms)
{
	uint64_t e;
	int i;

	while (ms--)
		pair_step(p);
	for (i = 0; i < 2; i++)
		for (e = 0; e < NEXT; e++)
			ck_assert_msg(!bits_test(p->n[i].k.want, e),
				      "node %d still waits for extent %llu", i, (unsigned long long)e);
}

START_TEST(dlm_master_alone_grows_to_the_device)
{
	static struct pair p;

	pair_init(&p, 1, 2);
	want(&p, 0, 0, 1);
	until_held(&p, 0, 0, 1, 50);		/* the follower's STATE first */
	ck_assert(bits_all(p.n[0].k.held, 0, NEXT));	/* one grant: everything */
	ck_assert_int_eq(p.n[0].k.grants, 1);
	pair_free(&p);
}
END_TEST

START_TEST(dlm_follower_one_round_trip)
{
	static struct pair p;

	pair_init(&p, 2, 2);
	want(&p, 1, 100, 1);
	until_held(&p, 1, 100, 1, 50);
	ck_assert(bits_all(p.n[1].k.held, 0, NEXT));
	ck_assert_int_eq(p.n[1].k.grants, 1);
	pair_free(&p);
}
END_TEST

/*
 * A migration: the source holds the device in one unit; the destination's
 * first write calls it back whole and gets it whole: one round trip (and
 * the source's drain), not one per extent.
 */
START_TEST(dlm_handover_moves_the_whole_unit)
{
	static struct pair p;
	uint64_t e;

	pair_init(&p, 3, 2);
	want(&p, 0, 0, 1);
	until_held(&p, 0, 0, NEXT, 50);
	p.now += MIN_HOLD;
	want(&p, 1, 7, 1);
	until_held(&p, 1, 7, 1, 50);
	ck_assert(bits_all(p.n[1].k.held, 0, NEXT));
	ck_assert(!bits_any(p.n[0].k.held, 0, NEXT));
	for (e = 0; e < NEXT; e += 17)
		ck_assert(satisfied(&p, 1, e, 1));	/* no more traffic for its writes */
	ck_assert_int_eq(p.n[1].k.grants, 1);
	pair_free(&p);
}
END_TEST

/* Extents that just changed hands are contended: grants stop growing into them. */
START_TEST(dlm_contention_grants_exactly)
{
	static struct pair p;

	pair_init(&p, 4, 2);
	want(&p, 0, 0, 1);
	until_held(&p, 0, 0, NEXT, 50);
	p.now += MIN_HOLD;
	want(&p, 1, 10, 1);
	until_held(&p, 1, 10, 1, 50);
	p.now += MIN_HOLD;
	want(&p, 0, 20, 1);			/* back, soon after the move */
	until_held(&p, 0, 20, 1, 50);
	ck_assert(!bits_test(p.n[0].k.held, 19) && !bits_test(p.n[0].k.held, 21));
	want(&p, 1, 30, 1);			/* free now, but contended: exactly */
	until_held(&p, 1, 30, 1, 50);
	ck_assert(!bits_test(p.n[1].k.held, 31));
	pair_free(&p);
}
END_TEST

/*
 * Both want one free extent at once (the follower's request crosses the
 * master's own grant and then its blocking callback): each gets it in turn,
 * never both at once (pair_step checks that after every event).
 */
START_TEST(dlm_request_crosses_callback)
{
	static struct pair p;
	int i;

	pair_init(&p, 5, 5);
	want(&p, 0, 40, 1);
	want(&p, 1, 40, 1);
	for (i = 0; i < 200 && (bits_test(p.n[0].k.want, 40) || bits_test(p.n[1].k.want, 40)); i++)
		pair_step(&p);
	ck_assert(!bits_test(p.n[0].k.want, 40));
	ck_assert(!bits_test(p.n[1].k.want, 40));
	ck_assert_int_ge(p.n[0].k.grants + p.n[1].k.grants, 2);
	pair_free(&p);
}
END_TEST

/* A unit granted is kept min_hold before it is given up (against ping-pong). */
START_TEST(dlm_min_hold)
{
	static struct pair p;
	uint64_t took;

	pair_init(&p, 6, 1);
	want(&p, 1, 0, 1);
	until_held(&p, 1, 0, 1, 50);
	want(&p, 0, 0, 1);
	took = until_held(&p, 0, 0, 1, 100);
	ck_assert_uint_ge(took, MIN_HOLD - 2);
	pair_free(&p);
}
END_TEST

/* The master's hablkd restarts: it grants nothing until the follower said what it holds. */
START_TEST(dlm_master_restart_relearns)
{
	static struct pair p;

	pair_init(&p, 7, 2);
	want(&p, 1, 0, 1);
	until_held(&p, 1, 0, NEXT, 50);
	hablk_dlm_free(&p.n[0].d);
	p.n[0].nout = 0;			/* what it had sent is of the old run */
	node_start(&p, 0);
	want(&p, 0, 5, 1);			/* the kernel re-announces its wants */
	ck_assert(!bits_test(p.n[0].k.held, 5));	/* not synced: nothing */
	hablk_dlm_session(&p.n[0].d, p.now);
	hablk_dlm_session(&p.n[1].d, p.now);
	until_held(&p, 0, 5, 1, 100);
	ck_assert_uint_eq(p.n[0].d.st.conflicts, 0);
	quiesce(&p, 100);
	pair_free(&p);
}
END_TEST

/* The follower's hablkd restarts mid-transfer: it relearns its kernel and asks again. */
START_TEST(dlm_follower_restart_mid_transfer)
{
	static struct pair p;

	pair_init(&p, 8, 3);
	want(&p, 0, 0, 1);
	until_held(&p, 0, 0, NEXT, 50);
	want(&p, 1, 9, 1);
	pair_step(&p);
	pair_step(&p);
	hablk_dlm_free(&p.n[1].d);
	p.n[1].nout = 0;
	node_start(&p, 1);
	hablk_dlm_session(&p.n[0].d, p.now);
	hablk_dlm_session(&p.n[1].d, p.now);
	until_held(&p, 1, 9, 1, 200);
	quiesce(&p, 100);
	pair_free(&p);
}
END_TEST

/* The peer is fenced during a transfer: the survivor takes every lock, and the pair resumes. */
START_TEST(dlm_peer_fenced_mid_transfer)
{
	static struct pair p;

	pair_init(&p, 9, 3);
	want(&p, 1, 0, 1);
	until_held(&p, 1, 0, NEXT, 50);
	p.now += MIN_HOLD;
	want(&p, 0, 3, 1);
	pair_step(&p);
	pair_step(&p);				/* the callback is on its way, or being drained */
	/* the link is gone: the follower freezes, the master is given the vote and fences it */
	p.n[1].k.primary = false;
	memset(p.n[1].k.held, 0, sizeof(p.n[1].k.held));	/* fenced: it writes nothing */
	memset(p.n[1].k.drain_at, 0, sizeof(p.n[1].k.drain_at));
	p.n[0].nout = p.n[1].nout = 0;
	p.apart = true;
	hablk_dlm_link(&p.n[0].d, false, p.now);
	hablk_dlm_link(&p.n[1].d, false, p.now);
	hablk_dlm_session_lost(&p.n[0].d);
	hablk_dlm_alone(&p.n[0].d, true, p.now);
	ck_assert_int_eq(p.n[0].k.take_alls, 1);
	until_held(&p, 0, 3, 1, 10);
	/* the fenced node comes back as a secondary (its hablkd restarted); together again */
	hablk_dlm_free(&p.n[1].d);
	p.apart = false;
	node_start(&p, 1);
	hablk_dlm_link(&p.n[0].d, true, p.now);
	hablk_dlm_session(&p.n[1].d, p.now);
	hablk_dlm_session(&p.n[0].d, p.now);
	hablk_dlm_alone(&p.n[0].d, false, p.now);
	quiesce(&p, 50);
	p.n[1].k.primary = true;		/* promoted again */
	want(&p, 1, 200, 1);
	until_held(&p, 1, 200, 1, 100);
	pair_free(&p);
}
END_TEST

/*
 * Messages lost (hablkd's channel overflowed and dropped them): a request,
 * then a blocking callback. Nothing moves until the sender resyncs; then
 * each write gets its lock.
 */
START_TEST(dlm_lost_messages_resync)
{
	static struct pair p;
	int k;

	pair_init(&p, 6, 2);
	want(&p, 0, 0, 1);
	until_held(&p, 0, 0, NEXT, 50);
	p.now += MIN_HOLD;
	want(&p, 1, 5, 1);
	p.n[1].nout = 0;			/* the request is lost */
	for (k = 0; k < 200; k++)
		pair_step(&p);
	ck_assert(!satisfied(&p, 1, 5, 1));
	hablk_dlm_resync(&p.n[1].d, p.now);
	until_held(&p, 1, 5, 1, 50);

	p.now += MIN_HOLD;
	want(&p, 0, 5, 1);
	p.n[0].nout = 0;			/* the blocking callback is lost */
	for (k = 0; k < 200; k++)
		pair_step(&p);
	ck_assert(!satisfied(&p, 0, 5, 1));
	hablk_dlm_resync(&p.n[0].d, p.now);
	until_held(&p, 0, 5, 1, 50);
	pair_free(&p);
}
END_TEST

/*
 * Both nodes write at random over the same 16 extents, 8 writes in flight
 * each (fio's iodepth): neither starves, whichever node is the master.
 */
START_TEST(dlm_contention_is_fair)
{
	static struct pair p;
	uint64_t slot[2][8];
	unsigned long done[2] = { 0, 0 };
	int i, j, step;

	pair_init(&p, 5, 2);
	for (i = 0; i < 2; i++)
		for (j = 0; j < 8; j++) {
			slot[i][j] = 64 + rand_r(&p.seed) % 16;
			want(&p, i, slot[i][j], 1);
		}
	for (step = 0; step < 20000; step++) {
		for (i = 0; i < 2; i++)
			for (j = 0; j < 8; j++) {
				if (!satisfied(&p, i, slot[i][j], 1))
					continue;
				done[i]++;
				slot[i][j] = 64 + rand_r(&p.seed) % 16;
				want(&p, i, slot[i][j], 1);
			}
		pair_step(&p);
	}
	TR("fair: %lu %lu\n", done[0], done[1]);
	ck_assert_msg(done[0] * 2 > done[1] && done[1] * 2 > done[0],
		      "unfair: the master wrote %lu times, the follower %lu", done[0], done[1]);
	pair_free(&p);
}
END_TEST

/*
 * At random: both nodes write all over a small device, messages take up to
 * a few ms, drains too, and now and then either hablkd restarts, or a node
 * is fenced and comes back. The kernels never hold one extent at once, and
 * every write gets its lock.
 */
START_TEST(dlm_random)
{
	static struct pair p;
	unsigned int seed = 1000 + (unsigned int)_i;
	uint64_t e, n, fence_until = 0;
	int step, i, fenced = -1;

	pair_init(&p, seed, 1 + seed % 6);
	for (step = 0; step < 20000; step++) {
		i = rand_r(&p.seed) % 2;
		if (i != fenced && rand_r(&p.seed) % 4 == 0) {
			e = rand_r(&p.seed) % NEXT;
			n = rand_r(&p.seed) % 8 ? 1 : 1 + rand_r(&p.seed) % 6;
			want(&p, i, e, n < NEXT - e ? n : NEXT - e);
		}
		if (fenced < 0 && rand_r(&p.seed) % 7000 == 0) {
			/*
			 * i is fenced (the link is gone, the other has the
			 * vote): its kernel drops its locks and writes
			 * nothing; the other takes every lock.
			 */
			TR("%llu n%d FENCED\n", (unsigned long long)p.now, i);
			fenced = i;
			fence_until = p.now + 50 + rand_r(&p.seed) % 200;
			p.n[i].k.primary = false;
			memset(p.n[i].k.want, 0, sizeof(p.n[i].k.want));
			memset(p.n[i].k.drain_at, 0, sizeof(p.n[i].k.drain_at));
			for (e = 0; e < NEXT; e++) {
				if (!bits_test(p.n[i].k.held, e))
					continue;
				bits_clear(p.n[i].k.held, e);
				hablk_dlm_kernel_released(&p.n[i].d, e, 1, p.now);
			}
			p.apart = true;
			hablk_dlm_link(&p.n[0].d, false, p.now);
			hablk_dlm_link(&p.n[1].d, false, p.now);
			hablk_dlm_alone(&p.n[1 - i].d, true, p.now);
			check_exclusive(&p);
		}
		if (fenced >= 0 && p.now >= fence_until) {
			/* resynced, connected and promoted again */
			TR("%llu n%d BACK\n", (unsigned long long)p.now, fenced);
			p.apart = false;
			hablk_dlm_link(&p.n[0].d, true, p.now);
			hablk_dlm_link(&p.n[1].d, true, p.now);
			hablk_dlm_alone(&p.n[1 - fenced].d, false, p.now);
			p.n[fenced].k.primary = true;
			fenced = -1;
		}
		if (fenced < 0 && rand_r(&p.seed) % 4000 == 0) {
			/* i's channel overflowed: what it had in flight is lost, then it resyncs */
			TR("%llu n%d LOST %d\n", (unsigned long long)p.now, i, p.n[i].nout);
			p.n[i].nout = 0;
			hablk_dlm_resync(&p.n[i].d, p.now);
		}
		if (fenced < 0 && rand_r(&p.seed) % 5000 == 0) {
			/* i's manager made again in the same session (its resource grew) */
			uint64_t g = p.n[i].d.grant_seq, s = p.n[i].d.seen_seq;

			TR("%llu n%d REMADE\n", (unsigned long long)p.now, i);
			hablk_dlm_free(&p.n[i].d);
			node_start(&p, i);
			hablk_dlm_resume(&p.n[i].d, g, s, p.now);
		}
		if (fenced < 0 && rand_r(&p.seed) % 5000 == 0) {
			/* hablkd i restarts: a new session for both */
			TR("%llu n%d RESTART\n", (unsigned long long)p.now, i);
			hablk_dlm_free(&p.n[i].d);
			p.n[0].nout = p.n[1].nout = 0;
			p.last_at[0] = p.last_at[1] = 0;
			node_start(&p, i);
			hablk_dlm_session(&p.n[0].d, p.now);
			hablk_dlm_session(&p.n[1].d, p.now);
		}
		pair_step(&p);
	}
	if (fenced >= 0) {
		p.apart = false;
		hablk_dlm_link(&p.n[0].d, true, p.now);
		hablk_dlm_link(&p.n[1].d, true, p.now);
		hablk_dlm_alone(&p.n[1 - fenced].d, false, p.now);
		p.n[fenced].k.primary = true;
	}
	quiesce(&p, 2000);
	ck_assert_uint_eq(p.n[0].d.st.conflicts, 0);
	pair_free(&p);
}
END_TEST

START_TEST(dlm_codec)
{
	struct hablk_dlm_msg m = { .type = HABLK_DLM_STATE, .flags = HABLK_DLM_F_END, .n = 2,
				   .seq = 5 }, back;
	uint8_t buf[1024];
	int len;

	m.r[0].first = 1;
	m.r[0].count = 2;
	m.r[1].first = 1ULL << 40;
	m.r[1].count = 7;
	len = hablk_dlm_encode(&m, buf, sizeof(buf));
	ck_assert_int_eq(len, 12 + 32);
	ck_assert_int_eq(hablk_dlm_decode(buf, (size_t)len, &back), 0);
	ck_assert_int_eq(back.type, m.type);
	ck_assert_int_eq(back.n, 2);
	ck_assert_uint_eq(back.r[1].first, 1ULL << 40);
	ck_assert_int_eq(hablk_dlm_decode(buf, (size_t)len - 1, &back), -1);	/* short */
	buf[0] = 0;
	ck_assert_int_eq(hablk_dlm_decode(buf, (size_t)len, &back), -1);	/* no type */
	buf[0] = HABLK_DLM_GRANT;
	ck_assert_int_eq(hablk_dlm_decode(buf, (size_t)len, &back), -1);	/* flags on a GRANT */
	buf[1] = 0;
	buf[3] = HABLK_DLM_RANGES + 1;
	ck_assert_int_eq(hablk_dlm_decode(buf, (size_t)len, &back), -1);	/* too many */
	m.n = HABLK_DLM_RANGES + 1;
	ck_assert_int_eq(hablk_dlm_encode(&m, buf, sizeof(buf)), -1);
}
END_TEST

/* The lock channel's datagram: the MAC decides first, then every field is checked. */
START_TEST(lkmsg_codec)
{
	struct hablk_lk m = { .sender_id = 0, .dest_id = 1, .res = "r0", .len = 12 }, out;
	uint8_t buf[HABLK_LK_MAX], bad[HABLK_LK_MAX];
	int len;

	m.h = (struct hablk_chan_hdr){ .boot = 5, .echo = 6, .seq = 7, .ack = 8 };
	memcpy(m.payload, "hello world!", 12);
	len = hablk_lk_encode(&m, "s3cr3t", buf, sizeof(buf));
	ck_assert_int_eq(len, HABLK_LK_HDR_LEN + 12 + HABLK_LK_MAC_LEN);
	ck_assert(hablk_lk_is(buf, (size_t)len));
	ck_assert_int_eq(hablk_lk_decode(buf, (size_t)len, "s3cr3t", "r0", 1, &out), 0);
	ck_assert_uint_eq(out.h.boot, 5);
	ck_assert_uint_eq(out.h.ack, 8);
	ck_assert_int_eq(out.len, 12);
	ck_assert_mem_eq(out.payload, "hello world!", 12);
	ck_assert_int_eq(hablk_lk_decode(buf, (size_t)len, "other", "r0", 1, &out), -EBADMSG);
	ck_assert_int_eq(hablk_lk_decode(buf, (size_t)len - 1, "s3cr3t", "r0", 1, &out), -EMSGSIZE);
	ck_assert_int_eq(hablk_lk_decode(buf, (size_t)len, "s3cr3t", "r1", 1, &out), -ENOENT);
	ck_assert_int_eq(hablk_lk_decode(buf, (size_t)len, "s3cr3t", "r0", 0, &out), -ELOOP);
	ck_assert_int_eq(hablk_lk_decode(buf, (size_t)len, "s3cr3t", "r0", 2, &out), -EXDEV);
	memcpy(bad, buf, (size_t)len);
	bad[HABLK_LK_HDR_LEN] ^= 1;		/* a payload bit: the MAC catches it */
	ck_assert_int_eq(hablk_lk_decode(bad, (size_t)len, "s3cr3t", "r0", 1, &out), -EBADMSG);
	m.len = HABLK_CHAN_MSG_MAX + 1;
	ck_assert_int_eq(hablk_lk_encode(&m, "s3cr3t", buf, sizeof(buf)), -1);
	ck_assert(!hablk_lk_is((const uint8_t *)"HBKD", 4));
}
END_TEST

Suite *dlm_suite(void)
{
	Suite *s = suite_create("dlm");
	TCase *tc;

	tc = tcase_create("chan");
	tcase_add_test(tc, chan_in_order_over_loss);
	tcase_add_test(tc, chan_session_drops_the_old_run);
	tcase_add_test(tc, chan_acks_ride_on_messages);
	tcase_add_test(tc, chan_limits);
	tcase_add_test(tc, lkmsg_codec);
	suite_add_tcase(s, tc);

	tc = tcase_create("locks");
	tcase_add_test(tc, dlm_codec);
	tcase_add_test(tc, dlm_master_alone_grows_to_the_device);
	tcase_add_test(tc, dlm_follower_one_round_trip);
	tcase_add_test(tc, dlm_handover_moves_the_whole_unit);
	tcase_add_test(tc, dlm_contention_grants_exactly);
	tcase_add_test(tc, dlm_request_crosses_callback);
	tcase_add_test(tc, dlm_min_hold);
	tcase_add_test(tc, dlm_master_restart_relearns);
	tcase_add_test(tc, dlm_follower_restart_mid_transfer);
	tcase_add_test(tc, dlm_peer_fenced_mid_transfer);
	suite_add_tcase(s, tc);

	tc = tcase_create("random");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, dlm_contention_is_fair);
	tcase_add_test(tc, dlm_lost_messages_resync);
	tcase_add_loop_test(tc, dlm_random, 0, 40);
	suite_add_tcase(s, tc);
	return s;
}
