// SPDX-License-Identifier: GPL-2.0
/*
 * Quorum and freezing, driven by hablkd: a node without quorum never
 * acknowledges a write the peer lacks, and a managed primary that loses its
 * peer freezes until hablkd has fenced the peer (or found it has no quorum).
 */
#include "hablk.h"

/*
 * A write that arrives while frozen waits in frozen_bios; without quorum and
 * with on-no-quorum io-error it fails. Returns true if the bio was taken.
 */
bool hablk_quorum_gate(struct hablk_resource *res, struct bio *bio)
{
	unsigned long flags;
	bool fail = false, taken = true;

	if (likely(READ_ONCE(res->quorum) && !READ_ONCE(res->frozen)))
		return false;
	spin_lock_irqsave(&res->defer_lock, flags);
	if (res->frozen)
		bio_list_add(&res->frozen_bios, bio);
	else if (!res->quorum)
		fail = true;
	else
		taken = false;
	spin_unlock_irqrestore(&res->defer_lock, flags);
	if (fail)
		bio_io_error(bio);
	return taken;
}

/*
 * A write is done on this node but the peer lacks it: while frozen it is
 * not acknowledged (held until thawed); without quorum it fails. Returns
 * true if @master was held. Process or interrupt context.
 */
bool hablk_quorum_hold(struct hablk_resource *res, struct bio *master)
{
	unsigned long flags;
	bool held = false;

	if (likely(READ_ONCE(res->quorum) && !READ_ONCE(res->frozen)))
		return false;
	spin_lock_irqsave(&res->defer_lock, flags);
	if (res->frozen) {
		bio_list_add(&res->held_bios, master);
		held = true;
	} else if (!res->quorum) {
		master->bi_status = BLK_STS_IOERR;
	}
	spin_unlock_irqrestore(&res->defer_lock, flags);
	return held;
}

/* Caller holds defer_lock. */
static void freeze_locked(struct hablk_resource *res, const char *why)
{
	lockdep_assert_held(&res->defer_lock);
	if (!res->frozen)
		pr_warn("%s: I/O frozen: %s\n", res->cfg.name, why);
	res->frozen = true;
}

/* Caller holds defer_lock: no longer frozen; the held and the waiting writes are the caller's. */
static void unfreeze_locked(struct hablk_resource *res, struct bio_list *held,
			    struct bio_list *waiting)
{
	lockdep_assert_held(&res->defer_lock);
	res->frozen = false;
	bio_list_merge(held, &res->held_bios);
	bio_list_init(&res->held_bios);
	bio_list_merge(waiting, &res->frozen_bios);
	bio_list_init(&res->frozen_bios);
}

/*
 * The established link failed: a managed primary freezes before any write
 * that missed the peer can complete (the teardown cancels them after this).
 */
void hablk_quorum_peer_lost(struct hablk_resource *res)
{
	unsigned long flags;
	bool froze = false;

	if (!READ_ONCE(res->managed) || READ_ONCE(res->role) != HABLK_ROLE_PRIMARY)
		return;
	spin_lock_irqsave(&res->defer_lock, flags);
	/*
	 * Until the teardown ends, res->conn still says connected: the status
	 * must not, or hablkd would see "frozen yet replicating" and thaw.
	 */
	res->link_lost = true;
	if (res->managed && !res->frozen) {
		freeze_locked(res, "the peer is lost; waiting for hablkd to fence it");
		froze = true;
	}
	spin_unlock_irqrestore(&res->defer_lock, flags);
	if (froze)
		hablk_genl_event(res, "suspended");
}

/*
 * Let the held and the waiting writes go: held ones complete (with an error
 * if @fail), waiting ones are submitted again (or fail too).
 */
static void release(struct hablk_resource *res, struct bio_list *held,
		    struct bio_list *waiting, bool fail)
{
	struct bio *bio;

	while ((bio = bio_list_pop(held))) {
		if (fail)
			bio->bi_status = BLK_STS_IOERR;
		bio_endio(bio);
	}
	if (fail) {
		while ((bio = bio_list_pop(waiting)))
			bio_io_error(bio);
		return;
	}
	if (bio_list_empty(waiting))
		return;
	spin_lock_irq(&res->defer_lock);
	bio_list_merge(&res->deferred, waiting);
	spin_unlock_irq(&res->defer_lock);
	queue_work(res->wq, &res->submit_work);
}

/*
 * hablkd's verdict. Losing quorum freezes (suspend-io) or fails what waits
 * and what comes (io-error). With quorum, @thaw lets frozen I/O go.
 */
int hablk_quorum_set(struct hablk_resource *res, bool quorum, bool thaw,
		     struct netlink_ext_ack *extack)
{
	struct bio_list held = BIO_EMPTY_LIST, waiting = BIO_EMPTY_LIST;
	bool io_error = res->cfg.on_no_quorum == HABLK_QP_IO_ERROR;
	bool changed, fail = false, go = false;

	if (!quorum && thaw) {
		NL_SET_ERR_MSG(extack, "no quorum: frozen I/O stays frozen");
		return -EBUSY;
	}
	spin_lock_irq(&res->defer_lock);
	res->managed = true;
	changed = res->quorum != quorum;
	res->quorum = quorum;
	if (!quorum && !io_error) {
		freeze_locked(res, "no quorum (on-no-quorum suspend-io)");
	} else if ((!quorum && io_error) || (thaw && res->frozen)) {
		fail = !quorum;
		go = true;
		changed |= res->frozen;
		unfreeze_locked(res, &held, &waiting);
	}
	spin_unlock_irq(&res->defer_lock);
	/*
	 * Held writes are about to be acknowledged while the peer may lack
	 * them: a new generation first, unless the link is back and the
	 * resync of their bits is already done.
	 */
	if (go && !fail && !bio_list_empty(&held) && !hablk_state_peer_has_all(res) &&
	    hablk_state_write_alone(res))
		fail = true;
	if (go) {
		pr_info("%s: I/O %s\n", res->cfg.name,
			fail ? "frozen writes failed (no quorum, or no new generation on disk)" :
			"resumed");
		release(res, &held, &waiting, fail);
	}
	if (changed)
		hablk_genl_event(res, "quorum");
	return 0;
}

/* Going down: nothing may stay held. */
void hablk_quorum_drain(struct hablk_resource *res)
{
	struct bio_list held = BIO_EMPTY_LIST, waiting = BIO_EMPTY_LIST;

	spin_lock_irq(&res->defer_lock);
	unfreeze_locked(res, &held, &waiting);
	spin_unlock_irq(&res->defer_lock);
	release(res, &held, &waiting, true);
}
