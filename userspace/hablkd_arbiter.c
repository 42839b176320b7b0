// SPDX-License-Identifier: GPL-2.0
/* hablkd_arbiter.c - hablkd on the arbiter: who asks for its vote, whom it gives
 * it to (the record saved before the grant goes out), and when it takes it back. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <sys/stat.h>
#include "../kernel/uapi/linux/hablk.h"
#include "hablkd.h"

int hablkd_arbiter_init(struct hablkd_res *c, uint64_t now)
{
	const char *dir = c->d->state_dir;
	char err[256];

	c->vote.grant = -1;
	c->vote.grant_free_at = now + c->timeout * 3 / 2;	/* a restarted arbiter's old lease */
	if (mkdir(dir, 0700) && errno != EEXIST) {
		hablkd_log(LOG_ERR, "%s: cannot create %s: %s", c->r->name, dir, strerror(errno));
		return -1;
	}
	if (hablk_arbiter_load(dir, c->r->name, &c->vote.as, err, sizeof(err))) {
		hablkd_log(LOG_ERR, "%s: %s", c->r->name, err);
		return -1;
	}
	return 0;
}

void hablkd_arbiter_heard(struct hablkd_res *c, const struct hablk_hb *m, uint64_t now)
{
	uint64_t *since = &c->vote.want_since[m->sender_id];

	if (!(m->flags & HABLK_HB_F_WANT_VOTE))
		*since = 0;
	else if (!*since)
		*since = now;
}

uint8_t hablkd_arbiter_flags(const struct hablkd_res *c, const struct hablk_node *to)
{
	uint8_t f = 0;

	if (c->vote.grant == (int)to->id)
		f |= HABLK_HB_F_GRANTED;
	if (c->vote.as.disk[to->id] == HABLK_ARB_OUTDATED)
		f |= HABLK_HB_F_OUTDATED;
	return f;
}

void hablkd_arbiter_view(const struct hablkd_res *c, struct hablk_view *v)
{
	if (c->vote.grant >= 0)
		snprintf(v->vote_holder, sizeof(v->vote_holder), "%s",
			 hablkd_node(c, c->vote.grant)->name);
}

static int save(struct hablkd_res *c)
{
	struct hablkd_vote *v = &c->vote;
	char err[256];

	v->unsaved = hablk_arbiter_save(c->d->state_dir, c->r->name, &v->as, err,
					sizeof(err)) != 0;
	if (v->unsaved)
		hablkd_log(LOG_ERR, "%s: %s (tried again)", c->r->name, err);
	return v->unsaved ? -1 : 0;
}

/* The data node that is not id. */
static int other_node(const struct hablkd_res *c, int id)
{
	return (int)__builtin_ctz(c->data_mask & ~(1u << id));
}

/* Data nodes alive that ask for the vote. */
static uint32_t requesters(const struct hablkd_res *c, uint32_t alive)
{
	uint32_t want = 0;
	int id;

	for (id = 0; id < HQ_MAX_VOTERS; id++)
		if ((c->data_mask & 1u << id) && c->vote.want_since[id] && (alive & 1u << id))
			want |= 1u << id;
	return want;
}

/* Node id and the other data node replicate, both UpToDate with the same generation. */
static bool together(const struct hablkd_res *c, int id, uint32_t want, uint32_t alive)
{
	int other = other_node(c, id);
	const struct hablk_hb *a = &c->pv[id].last, *b = &c->pv[other].last;

	return (alive & 1u << other) && !(want & (1u << id | 1u << other)) &&
	       a->disk == HABLK_DISK_UPTODATE && b->disk == HABLK_DISK_UPTODATE &&
	       a->current_uuid && a->current_uuid == b->current_uuid &&
	       (a->sees & 1u << other) && (b->sees & 1u << id);
}

/* Node id (or -1) is alive and says it is primary. */
static bool still_primary(const struct hablkd_res *c, int id, uint32_t alive)
{
	return id >= 0 && id < HQ_MAX_VOTERS && (alive & 1u << id) &&
	       c->pv[id].last.role == HABLK_HB_ROLE_PRIMARY;
}

/*
 * What the data nodes say of themselves, when they are together and current:
 * the primary, an outdated node current again, the holder's new generation.
 * True if the record changed.
 */
static bool learn(struct hablkd_res *c, uint32_t alive, uint32_t want)
{
	struct hablk_arb_state *as = &c->vote.as;
	bool changed = false;
	int id;

	for (id = 0; id < HQ_MAX_VOTERS; id++) {
		const struct hablk_hb *m = &c->pv[id].last;

		if (!(c->data_mask & 1u << id) || !(alive & 1u << id) || m->disk == HABLK_HB_DISK_NONE)
			continue;
		/*
		 * A primary replicating to its peer (it asks no vote) is the
		 * primary; of two primaries, the one recorded first stays.
		 */
		if (m->role == HABLK_HB_ROLE_PRIMARY && as->primary != id && !(want & 1u << id) &&
		    !still_primary(c, as->primary, alive)) {
			as->primary = id;
			changed = true;
		}
		/*
		 * An outdated node is current again once it replicates with its
		 * peer, both UpToDate with one generation (a resync is over).
		 */
		if (as->disk[id] == HABLK_ARB_OUTDATED && together(c, id, want, alive)) {
			as->disk[id] = HABLK_ARB_UPTODATE;
			as->current_uuid = m->current_uuid;
			hablkd_log(LOG_INFO, "%s: node %d is up to date again", c->r->name, id);
			changed = true;
		}
		if (c->vote.grant == id && m->current_uuid && m->current_uuid != as->current_uuid) {
			as->current_uuid = m->current_uuid;	/* the holder moved on */
			changed = true;
		}
	}
	return changed;
}

/* The holder went silent or no longer asks: the vote is free after its lease. */
static void take_back(struct hablkd_res *c, uint32_t alive, uint32_t want, uint64_t now)
{
	struct hablkd_vote *v = &c->vote;

	if (v->grant < 0 || ((alive & 1u << v->grant) && (want & 1u << v->grant)))
		return;
	hablkd_log(LOG_INFO, "%s: vote taken back from node %d (%s)", c->r->name, v->grant,
		   alive & 1u << v->grant ? "no longer asks" : "silent");
	v->grant = -1;
	v->grant_free_at = now + c->timeout * 3 / 2;
}

/* Whom to give the free vote to among the requesters want, or -1: nobody yet. */
static int choose(const struct hablkd_res *c, uint32_t alive, uint32_t want, uint64_t now)
{
	const struct hablkd_vote *v = &c->vote;
	uint32_t settled = want;
	int id, g;

	/* give the other one a moment to ask too, if it is alive */
	for (id = 0; id < HQ_MAX_VOTERS; id++)
		if ((want & 1u << id) && now - v->want_since[id] < 2 * c->r->timing.ping_interval_ms &&
		    (alive & c->data_mask & ~want))
			settled = 0;
	g = settled ? hablk_arbiter_grant(&v->as, c->data_mask, settled) : -1;
	/*
	 * Not away from the primary while it is heard now and then: it flaps
	 * rather than died. Gone means silent for two timeouts, as the peer
	 * waits before it promotes itself.
	 */
	if (g >= 0 && v->as.primary >= 0 && g != v->as.primary &&
	    hq_heard_within(&c->q, v->as.primary, 2ull * c->timeout, now))
		g = -1;
	return g;
}

/*
 * Give the vote to g: if g is UpToDate, the other node is recorded outdated.
 * The record is on disk before the grant goes out, so a restart cannot give
 * the vote to the other node as well. False if it could not be saved: then
 * nothing is given, and the save is tried again.
 */
static bool give(struct hablkd_res *c, int g)
{
	struct hablkd_vote *v = &c->vote;
	const struct hablk_hb *m = &c->pv[g].last;
	struct hablk_arb_state before = v->as;
	int other = other_node(c, g);

	v->grant = g;
	if (m->disk == HABLK_DISK_UPTODATE) {
		v->as.disk[g] = HABLK_ARB_UPTODATE;
		v->as.disk[other] = HABLK_ARB_OUTDATED;
		v->as.current_uuid = m->current_uuid;
		if (m->role == HABLK_HB_ROLE_PRIMARY || v->as.primary == other)
			v->as.primary = m->role == HABLK_HB_ROLE_PRIMARY ? g : -1;
	}
	if (save(c)) {
		v->as = before;
		v->as.version++;	/* the failed save used this number */
		v->unsaved = true;
		v->grant = -1;
		return false;
	}
	hablkd_log(LOG_NOTICE, "%s: vote granted to node %d; node %d %s", c->r->name, g, other,
		   v->as.disk[other] == HABLK_ARB_OUTDATED ? "is outdated" : "keeps its state");
	return true;
}

void hablkd_arbiter_tick(struct hablkd_res *c, uint64_t now)
{
	struct hablkd_vote *v = &c->vote;
	uint32_t alive = hq_alive_mask(&c->q, now), want = requesters(c, alive);
	bool dirty = v->unsaved;
	int g;

	if (learn(c, alive, want))
		dirty = true;
	take_back(c, alive, want, now);
	if (v->grant < 0 && want && now >= v->grant_free_at) {
		g = choose(c, alive, want, now);
		if (g >= 0 && !give(c, g))
			return;		/* saved again next tick */
		if (g >= 0)
			dirty = false;	/* give() saved it all */
	}
	if (dirty)
		save(c);
}
