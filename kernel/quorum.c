// SPDX-License-Identifier: GPL-2.0
/*
 * Quorum and freezing, driven by hablkd: a node without quorum never
 * acknowledges a write the peer lacks, and a managed primary that loses its
 * peer freezes until hablkd has fenced the peer (or found it has no quorum).
 */
#include "hablk.h"

void hablk_quorum_init(struct hablk_resource *res)
{
	spin_lock_init(&res->quorum.lock);
	res->quorum.have = true;
	bio_list_init(&res->quorum.frozen_bios);
	bio_list_init(&res->quorum.held_bios);
}

/*
 * A write that arrives while frozen waits in frozen_bios; without quorum and
 * with on-no-quorum io-error it fails. Returns true if the bio was taken.
 */
bool hablk_quorum_gate(struct hablk_resource *res, struct bio *bio)
{
	unsigned long flags;
	bool fail = false, taken = true;

	if (likely(READ_ONCE(res->quorum.have) && !READ_ONCE(res->quorum.frozen)))
		return false;
	spin_lock_irqsave(&res->quorum.lock, flags);
	if (res->quorum.frozen)
		bio_list_add(&res->quorum.frozen_bios, bio);
	else if (!res->quorum.have)
		fail = true;
	else
		taken = false;
	spin_unlock_irqrestore(&res->quorum.lock, flags);
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

	if (likely(READ_ONCE(res->quorum.have) && !READ_ONCE(res->quorum.frozen)))
		return false;
	spin_lock_irqsave(&res->quorum.lock, flags);
	if (res->quorum.frozen) {
		bio_list_add(&res->quorum.held_bios, master);
		held = true;
	} else if (!res->quorum.have) {
		master->bi_status = BLK_STS_IOERR;
	}
	spin_unlock_irqrestore(&res->quorum.lock, flags);
	return held;
}

/* Frozen, or without quorum: a write that missed the peer must not go alone. */
bool hablk_quorum_parks(struct hablk_resource *res)
{
	return READ_ONCE(res->quorum.frozen) ||
	       (READ_ONCE(res->quorum.managed) && !READ_ONCE(res->quorum.have));
}

/* A new link is up: the status may say connected again. */
void hablk_quorum_link_new(struct hablk_resource *res)
{
	spin_lock_irq(&res->quorum.lock);
	res->quorum.link_lost = false;
	spin_unlock_irq(&res->quorum.lock);
}

/* For the status: frozen, and for a lost link (never seen without the loss). */
void hablk_quorum_snapshot(struct hablk_resource *res, bool *frozen, bool *link_lost)
{
	spin_lock_irq(&res->quorum.lock);
	*frozen = res->quorum.frozen;
	*link_lost = res->quorum.link_lost;
	spin_unlock_irq(&res->quorum.lock);
}

/* Caller holds quorum.lock. */
static void freeze_locked(struct hablk_resource *res, const char *why)
{
	lockdep_assert_held(&res->quorum.lock);
	if (!res->quorum.frozen)
		pr_warn("%s: I/O frozen: %s\n", res->cfg.name, why);
	res->quorum.frozen = true;
}

/* Caller holds quorum.lock: no longer frozen; the held and the waiting writes are the caller's. */
static void unfreeze_locked(struct hablk_resource *res, struct bio_list *held,
			    struct bio_list *waiting)
{
	lockdep_assert_held(&res->quorum.lock);
	res->quorum.frozen = false;
	bio_list_merge(held, &res->quorum.held_bios);
	bio_list_init(&res->quorum.held_bios);
	bio_list_merge(waiting, &res->quorum.frozen_bios);
	bio_list_init(&res->quorum.frozen_bios);
}

/*
 * The established link failed: a managed primary freezes before any write
 * that missed the peer can complete (the teardown cancels them after this).
 */
void hablk_quorum_peer_lost(struct hablk_resource *res)
{
	unsigned long flags;
	bool froze = false;

	if (!READ_ONCE(res->quorum.managed) || READ_ONCE(res->st.role) != HABLK_ROLE_PRIMARY)
		return;
	spin_lock_irqsave(&res->quorum.lock, flags);
	/*
	 * Until the teardown ends, res->st.conn still says connected: the status
	 * must not, or hablkd would see "frozen yet replicating" and thaw.
	 */
	res->quorum.link_lost = true;
	if (res->quorum.managed && !res->quorum.frozen) {
		freeze_locked(res, "the peer is lost; waiting for hablkd to fence it");
		froze = true;
	}
	spin_unlock_irqrestore(&res->quorum.lock, flags);
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
	if (!bio_list_empty(waiting))
		hablk_req_defer(res, waiting);
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
	spin_lock_irq(&res->quorum.lock);
	res->quorum.managed = true;
	changed = res->quorum.have != quorum;
	res->quorum.have = quorum;
	if (!quorum && !io_error) {
		freeze_locked(res, "no quorum (on-no-quorum suspend-io)");
	} else if ((!quorum && io_error) || (thaw && res->quorum.frozen)) {
		fail = !quorum;
		go = true;
		changed |= res->quorum.frozen;
		unfreeze_locked(res, &held, &waiting);
	}
	spin_unlock_irq(&res->quorum.lock);
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

	spin_lock_irq(&res->quorum.lock);
	unfreeze_locked(res, &held, &waiting);
	spin_unlock_irq(&res->quorum.lock);
	release(res, &held, &waiting, true);
}
