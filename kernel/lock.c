// SPDX-License-Identifier: GPL-2.0
/*
 * Two primaries: per-extent write locks, granted by hablkd's lock manager
 * (docs/protocol.md, section 12). A write waits, parked (never inside
 * submit_bio), until this node holds every extent it touches; an extent is
 * given up only once every write there is on both disks; a write from the
 * peer to an extent this node holds is refused.
 *
 * The table itself (what is held, releasing, wanted, told) and its decisions
 * are in lock_table.c, shared with the unit tests; here are the spinlock
 * around it, the parked bios, the work that drains releases and tells
 * hablkd, and the events.
 */
#include <linux/slab.h>
#include <linux/vmalloc.h>
#include "hablk.h"

#define REANNOUNCE	(1 * HZ)	/* wants hablkd has not answered are told again */

/* When a run of wanted extents was first told to hablkd (for the wait time). */
struct lock_wait {
	struct list_head list;
	u64 first, count;
	ktime_t since;
};

static void lock_work(struct work_struct *work);
static void announce(struct hablk_resource *res);
static void finish_releases(struct hablk_resource *res);
static void reannounce(struct work_struct *work);

void hablk_lock_init(struct hablk_resource *res)
{
	struct hablk_locks *lk = &res->locks;

	spin_lock_init(&lk->lock);
	bio_list_init(&lk->waiting);
	INIT_LIST_HEAD(&lk->wait_runs);
	INIT_WORK(&lk->work, lock_work);
	mutex_init(&lk->finish);
	INIT_DELAYED_WORK(&lk->reannounce, reannounce);
}

static void bitmaps_free(unsigned long **maps)
{
	int i;

	for (i = 0; i < HABLK_LOCK_MAPS; i++) {
		bitmap_free(maps[i]);
		maps[i] = NULL;
	}
}

static int bitmaps_alloc(unsigned long **maps, u64 nextents)
{
	int i;

	for (i = 0; i < HABLK_LOCK_MAPS; i++) {
		maps[i] = bitmap_zalloc(nextents, GFP_KERNEL);
		if (!maps[i]) {
			bitmaps_free(maps);
			return -ENOMEM;
		}
	}
	return 0;
}

/* For STATE: log2 of the lock extent's bytes with two primaries, else 0. */
u8 hablk_lock_shift(struct hablk_resource *res)
{
	return res->cfg.two_primaries ? ilog2(res->cfg.lock_extent) : 0;
}

/* At up: the table for @sectors of data, if the resource allows two primaries. */
int hablk_lock_setup(struct hablk_resource *res, sector_t sectors)
{
	struct hablk_locks *lk = &res->locks;

	lk->on = res->cfg.two_primaries;
	if (!lk->on)
		return 0;
	lk->shift = ilog2(res->cfg.lock_extent) - SECTOR_SHIFT;
	lk->t.nextents = DIV_ROUND_UP_ULL(sectors, 1ULL << lk->shift);
	return bitmaps_alloc(lk->t.maps, lk->t.nextents);
}

void hablk_lock_free(struct hablk_resource *res)
{
	struct hablk_locks *lk = &res->locks;
	struct lock_wait *w, *tmp;

	cancel_delayed_work_sync(&lk->reannounce);
	cancel_work_sync(&lk->work);
	list_for_each_entry_safe(w, tmp, &lk->wait_runs, list) {
		list_del(&w->list);
		kfree(w);
	}
	bitmaps_free(lk->t.maps);
}

/* Online grow (writes quiesced): the table for @sectors; the new extents are nobody's. */
int hablk_lock_grow(struct hablk_resource *res, sector_t sectors)
{
	struct hablk_locks *lk = &res->locks;
	unsigned long *maps[HABLK_LOCK_MAPS], *old[HABLK_LOCK_MAPS];
	u64 n;
	int i, ret;

	if (!lk->on)
		return 0;
	n = DIV_ROUND_UP_ULL(sectors, 1ULL << lk->shift);
	ret = bitmaps_alloc(maps, n);
	if (ret)
		return ret;
	spin_lock_irq(&lk->lock);
	for (i = 0; i < HABLK_LOCK_MAPS; i++) {
		bitmap_copy(maps[i], lk->t.maps[i], lk->t.nextents);
		old[i] = lk->t.maps[i];
		lk->t.maps[i] = maps[i];
	}
	lk->t.nextents = n;
	spin_unlock_irq(&lk->lock);
	bitmaps_free(old);
	return 0;
}

/*
 * Does a write of [sector, +size) need a lock it lacks? Called with the
 * write's interval held, so that a release that starts after this check
 * waits for it (the release sets its bits under the same lock, then waits
 * for the intervals to drain).
 */
bool hablk_lock_missing(struct hablk_resource *res, sector_t sector, u32 size)
{
	struct hablk_locks *lk = &res->locks;
	u64 first, last;
	bool ok;

	if (!lk->on || !size)
		return false;
	hablk_lt_extents(&lk->t, lk->shift, sector, size, &first, &last);
	spin_lock_irq(&lk->lock);
	ok = hablk_lt_covered(&lk->t, first, last);
	spin_unlock_irq(&lk->lock);
	return !ok;
}

/*
 * Park @bio until this node holds its extents, and have hablkd asked for
 * them: told here, in the submitter's context (which may sleep), so the
 * request leaves without waiting for a worker. False if they are held by
 * now (the caller submits it again).
 */
bool hablk_lock_park(struct hablk_resource *res, struct bio *bio)
{
	struct hablk_locks *lk = &res->locks;
	u64 first, last;
	unsigned long flags;
	bool want;

	hablk_lt_extents(&lk->t, lk->shift, bio->bi_iter.bi_sector, bio->bi_iter.bi_size,
			 &first, &last);
	spin_lock_irqsave(&lk->lock, flags);
	if (hablk_lt_covered(&lk->t, first, last)) {
		spin_unlock_irqrestore(&lk->lock, flags);
		return false;
	}
	bio_list_add(&lk->waiting, bio);
	lk->nwaiting++;
	/* being given up counts as lacking: asked for again, granted after the release */
	want = hablk_lt_want(&lk->t, first, last);
	spin_unlock_irqrestore(&lk->lock, flags);
	if (want)
		announce(res);
	return true;
}

/* Caller holds lk->lock: the parked writes, to be submitted again. */
static void take_waiting(struct hablk_locks *lk, struct bio_list *out)
{
	bio_list_merge(out, &lk->waiting);
	bio_list_init(&lk->waiting);
	lk->nwaiting = 0;
}

/* Caller holds lk->lock: wants covered by held extents are answered; count their waits. */
static void waits_done(struct hablk_locks *lk)
{
	struct lock_wait *w, *tmp;
	ktime_t now = ktime_get();

	list_for_each_entry_safe(w, tmp, &lk->wait_runs, list) {
		if (!hablk_lt_all_held(&lk->t, w->first, w->count))
			continue;
		lk->waits++;
		lk->wait_us += ktime_us_delta(now, w->since);
		list_del(&w->list);
		kfree(w);
	}
}

/* hablkd: this node may write [first, +count); its parked writes go again. */
static int grant(struct hablk_resource *res, u64 first, u64 count, u64 seq)
{
	struct hablk_locks *lk = &res->locks;
	struct bio_list bios = BIO_EMPTY_LIST;

	spin_lock_irq(&lk->lock);
	if (!hablk_lt_grant(&lk->t, first, count)) {
		spin_unlock_irq(&lk->lock);
		return -ERANGE;
	}
	lk->seq = max(lk->seq, seq);
	waits_done(lk);
	take_waiting(lk, &bios);
	spin_unlock_irq(&lk->lock);
	if (!bio_list_empty(&bios))
		hablk_req_defer(res, &bios);
	return 0;
}

/* hablkd: give up [first, +count) once every write there is on both disks. */
static int release(struct hablk_resource *res, u64 first, u64 count)
{
	struct hablk_locks *lk = &res->locks;
	bool ok;

	spin_lock_irq(&lk->lock);
	ok = hablk_lt_release(&lk->t, first, count);
	spin_unlock_irq(&lk->lock);
	if (!ok)
		return -ERANGE;
	/*
	 * Extents without a write in flight (and those not held) are given up
	 * here: their event is queued before the command's ack, so hablkd
	 * answers the peer at once. The rest finish in the work, when their
	 * last write leaves (hablk_lock_iv_left).
	 */
	mutex_lock(&lk->finish);
	finish_releases(res);
	mutex_unlock(&lk->finish);
	return 0;
}

/* The peer is fenced: every extent is this node's. */
static void take_all(struct hablk_resource *res)
{
	struct hablk_locks *lk = &res->locks;
	struct bio_list bios = BIO_EMPTY_LIST;

	spin_lock_irq(&lk->lock);
	hablk_lt_take_all(&lk->t);
	lk->seq++;
	waits_done(lk);
	take_waiting(lk, &bios);
	spin_unlock_irq(&lk->lock);
	pr_info("%s: every lock is this node's (the peer is fenced)\n", res->cfg.name);
	if (!bio_list_empty(&bios))
		hablk_req_defer(res, &bios);
}

/* HABLK_CMD_LOCK from hablkd. */
int hablk_lock_command(struct hablk_resource *res, u8 op, u64 first, u64 count, u64 seq,
		       struct netlink_ext_ack *extack)
{
	int ret = -EINVAL;

	if (!res->locks.on) {
		NL_SET_ERR_MSG(extack, "the resource does not allow two primaries: no locks");
		return -EINVAL;
	}
	switch (op) {
	case HABLK_LOCK_GRANT:
		if (READ_ONCE(res->st.role) != HABLK_ROLE_PRIMARY) {
			NL_SET_ERR_MSG(extack, "only a primary takes locks");
			return -EBUSY;
		}
		ret = grant(res, first, count, seq);
		break;
	case HABLK_LOCK_RELEASE:
		ret = release(res, first, count);
		break;
	case HABLK_LOCK_TAKE_ALL:
		if (READ_ONCE(res->st.role) != HABLK_ROLE_PRIMARY) {
			NL_SET_ERR_MSG(extack, "only a primary takes locks");
			return -EBUSY;
		}
		take_all(res);
		return 0;
	}
	if (ret == -ERANGE)
		NL_SET_ERR_MSG(extack, "extents beyond the device");
	return ret;
}

/* A demoted node holds nothing: all it held is released, at once (it writes nothing). */
void hablk_lock_drop_all(struct hablk_resource *res)
{
	struct hablk_locks *lk = &res->locks;
	struct lock_wait *w, *tmp;

	if (!lk->on)
		return;
	spin_lock_irq(&lk->lock);
	hablk_lt_drop_all(&lk->t);
	list_for_each_entry_safe(w, tmp, &lk->wait_runs, list) {	/* no grant ends them */
		list_del(&w->list);
		kfree(w);
	}
	spin_unlock_irq(&lk->lock);
	queue_work(res->wq, &lk->work);
}

/* Going down, or fenced: parked writes fail. */
void hablk_lock_fail_waiting(struct hablk_resource *res)
{
	struct hablk_locks *lk = &res->locks;
	struct bio_list bios = BIO_EMPTY_LIST;
	struct bio *bio;

	spin_lock_irq(&lk->lock);
	take_waiting(lk, &bios);
	spin_unlock_irq(&lk->lock);
	while ((bio = bio_list_pop(&bios)))
		bio_io_error(bio);
}

/* A write left its interval: a release may be drained now. */
void hablk_lock_iv_left(struct hablk_resource *res)
{
	if (READ_ONCE(res->locks.t.nreleasing))
		queue_work(res->wq, &res->locks.work);
}

/* Is any write (or sync chunk) of this node in extents [first, last]? */
static bool busy(struct hablk_resource *res, u64 first, u64 last)
{
	unsigned int shift = res->locks.shift;
	bool found;

	spin_lock_irq(&res->iv.lock);
	found = interval_tree_iter_first(&res->iv.tree, first << shift,
					 ((last + 1) << shift) - 1);
	spin_unlock_irq(&res->iv.lock);
	return found;
}

/*
 * Extents of @map (releasing ones, and those asked for but not held) whose
 * writes are all done: clear them and tell hablkd, a run at a time.
 */
static void finish_releases(struct hablk_resource *res)
{
	struct hablk_locks *lk = &res->locks;
	u64 e = 0, end, n, count;
	bool none;

	for (;;) {
		spin_lock_irq(&lk->lock);
		e = hablk_lt_next_run(&lk->t, lk->t.releasing, e, &count);
		none = e >= lk->t.nextents;
		spin_unlock_irq(&lk->lock);
		if (none)
			break;
		end = e + count;
		/* the first extent of the run that still has writes ends it */
		for (n = e; n < end && !busy(res, n, n); n++)
			;
		if (n > e) {
			spin_lock_irq(&lk->lock);
			hablk_lt_released(&lk->t, e, n - e);
			spin_unlock_irq(&lk->lock);
			hablk_genl_lock_event(res, HABLK_LOCK_RELEASED, e, n - e);
		}
		e = n == e ? n + 1 : n;
	}
	/* asked to release what it did not hold: said so at once */
	for (e = 0;; e += count) {
		spin_lock_irq(&lk->lock);
		e = hablk_lt_take_unheld(&lk->t, e, &count);
		none = e >= lk->t.nextents;
		spin_unlock_irq(&lk->lock);
		if (none)
			break;
		hablk_genl_lock_event(res, HABLK_LOCK_RELEASED, e, count);
	}
}

/*
 * Wants not yet told to hablkd: tell them, a run at a time, and note when.
 * From a parking write and from the work; each run is told once (marked
 * announced under the lock).
 */
static void announce(struct hablk_resource *res)
{
	struct hablk_locks *lk = &res->locks;
	struct lock_wait *w;
	u64 e = 0, count;
	bool any = false, none;

	for (;; e += count) {
		w = kmalloc(sizeof(*w), GFP_NOIO | __GFP_NOWARN);
		spin_lock_irq(&lk->lock);
		/* a run of wanted extents hablkd has not heard of, now told */
		e = hablk_lt_announce_next(&lk->t, e, &count);
		none = e >= lk->t.nextents;
		if (!none && w) {
			w->first = e;
			w->count = count;
			w->since = ktime_get();
			list_add_tail(&w->list, &lk->wait_runs);
			w = NULL;
		}
		any |= hablk_lt_any(&lk->t, lk->t.wanted);
		spin_unlock_irq(&lk->lock);
		kfree(w);
		if (none)
			break;
		hablk_genl_lock_event(res, HABLK_LOCK_WANT, e, count);
	}
	if (any)
		queue_delayed_work(res->wq, &lk->reannounce, REANNOUNCE);
}

static void lock_work(struct work_struct *work)
{
	struct hablk_resource *res = container_of(work, struct hablk_resource, locks.work);

	mutex_lock(&res->locks.finish);
	finish_releases(res);
	mutex_unlock(&res->locks.finish);
	announce(res);
}

/*
 * Wants still unanswered a while later (hablkd restarted, an event lost):
 * told again, every second while any is left; their waits go on.
 */
static void reannounce(struct work_struct *work)
{
	struct hablk_resource *res = container_of(to_delayed_work(work), struct hablk_resource,
						  locks.reannounce);
	struct hablk_locks *lk = &res->locks;
	bool any = false, none;
	u64 e, count;

	for (e = 0;; e += count) {
		spin_lock_irq(&lk->lock);
		e = hablk_lt_next_run(&lk->t, lk->t.wanted, e, &count);
		none = e >= lk->t.nextents;
		spin_unlock_irq(&lk->lock);
		if (none)
			break;
		hablk_genl_lock_event(res, HABLK_LOCK_WANT, e, count);
		any = true;
	}
	if (any)
		queue_delayed_work(res->wq, &lk->reannounce, REANNOUNCE);
}

/* Refuse a peer's write into an extent this node holds: the peer does not hold it. */
bool hablk_lock_peer_may_write(struct hablk_resource *res, sector_t sector, u32 size)
{
	struct hablk_locks *lk = &res->locks;
	u64 first, last;
	bool ok;

	if (!lk->on || !size)
		return true;
	hablk_lt_extents(&lk->t, lk->shift, sector, size, &first, &last);
	spin_lock_irq(&lk->lock);
	ok = !hablk_lt_any_held(&lk->t, first, last);
	spin_unlock_irq(&lk->lock);
	return ok;
}

/* For the status. */
void hablk_lock_stats(struct hablk_resource *res, struct hablk_lock_stats *s)
{
	struct hablk_locks *lk = &res->locks;

	spin_lock_irq(&lk->lock);
	s->held = hablk_lt_weight(&lk->t, lk->t.held);
	s->waiters = lk->nwaiting;
	s->grants = lk->t.grants;
	s->releases = lk->t.releases;
	s->waits = lk->waits;
	s->wait_us = lk->wait_us;
	spin_unlock_irq(&lk->lock);
}

/*
 * The dump: the next run at or after extent @from of what @op names (held,
 * wanted, releasing); its first extent, and *count, or nextents.
 */
u64 hablk_lock_next_run(struct hablk_resource *res, u8 op, u64 from, u64 *count)
{
	struct hablk_locks *lk = &res->locks;
	u64 e;

	spin_lock_irq(&lk->lock);
	e = hablk_lt_next_run(&lk->t, op == HABLK_LOCK_WANT ? lk->t.wanted :
			      op == HABLK_LOCK_RELEASING ? lk->t.releasing : lk->t.held,
			      from, count);
	spin_unlock_irq(&lk->lock);
	return e;
}
