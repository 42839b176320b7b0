// SPDX-License-Identifier: GPL-2.0
/*
 * The peer's disk cache: a write the peer acked may still be only in its
 * volatile cache. Which extents may hold such writes, the flushes that make
 * them stable, and what a lost link and an unclean stop of the peer do with
 * them (protocol.md, section 6.9).
 */
#include <linux/moduleparam.h>
#include <linux/slab.h>
#include "hablk.h"

#define EXTENT_SECTORS	(HABLK_MD_EXTENT_BYTES >> SECTOR_SHIFT)

static void held_drain(struct hablk_resource *res);

void hablk_flush_init(struct hablk_resource *res)
{
	atomic64_set(&res->flush.epoch, 1);	/* no extent's epoch (0) is unstable yet */
	atomic64_set(&res->flush.peer_flushed, 1);
	init_waitqueue_head(&res->flush.wait);
	INIT_LIST_HEAD(&res->flush.held_writes);
}

/* Raise *p to v; concurrent raisers keep the newest. */
static void epoch_raise(atomic64_t *p, s64 v)
{
	s64 old = atomic64_read(p);

	while (old < v && !atomic64_try_cmpxchg(p, &old, v))
		;
}

/* May the peer hold an acked write of extent @e only in its cache? */
bool hablk_flush_pending(struct hablk_resource *res, u64 e)
{
	return atomic64_read(&res->bm.peer_epoch[e]) >= atomic64_read(&res->flush.peer_flushed);
}

static bool any_pending(struct hablk_resource *res)
{
	return atomic64_read(&res->flush.acked_epoch) >= atomic64_read(&res->flush.peer_flushed);
}

/*
 * A request joins the send queue (caller holds slots.lock). A PREFLUSH
 * closes the epoch: once the peer acks it, every write acked before it was
 * queued is on the peer's stable storage, for the peer drains earlier
 * writes before it flushes (receive.c).
 */
void hablk_flush_queued(struct hablk_resource *res, struct hablk_req *req)
{
	lockdep_assert_held(&res->slots.lock);
	req->flush_no = (req->wire_flags & HABLK_WF_PREFLUSH) ?
			atomic64_inc_return(&res->flush.epoch) : 0;
}

/*
 * The peer acked a write (status 0), from any context but after the ack took
 * its slot (slots.lock): a flush queued after that reads a newer epoch. Its
 * extents are unstable until a flush queued after now is acked.
 */
void hablk_flush_acked(struct hablk_resource *res, struct hablk_req *req)
{
	s64 epoch = atomic64_read(&res->flush.epoch);
	u64 e, last;

	if (req->flush_no) {
		epoch_raise(&res->flush.peer_flushed, req->flush_no);
		if (wq_has_sleeper(&res->flush.wait))
			wake_up_all(&res->flush.wait);
	}
	if (!req->size || !res->bm.peer_epoch)
		return;
	last = min_t(u64, (req->sector + (req->size >> SECTOR_SHIFT) - 1) / EXTENT_SECTORS,
		     res->bm.nextents - 1);
	for (e = req->sector / EXTENT_SECTORS; e <= last; e++)
		epoch_raise(&res->bm.peer_epoch[e], epoch);
	epoch_raise(&res->flush.acked_epoch, epoch);
}

/*
 * Ask the peer to flush its cache if a write it acked may be in it: an
 * empty PREFLUSH write, like an application's. The sweep does this every
 * period. Only a primary sends writes; a node demoted flushed first
 * (hablk_state_secondary). Returns the flush's epoch, 0 if none was needed
 * or none can go now.
 */
s64 hablk_flush_peer(struct hablk_resource *res)
{
	struct hablk_req *req;
	struct bio *bio;
	bool net = false;
	s64 n;

	if (!any_pending(res) || READ_ONCE(res->st.role) != HABLK_ROLE_PRIMARY)
		return 0;
	bio = bio_alloc_bioset(res->bk.bdev, 0, REQ_OP_WRITE | REQ_PREFLUSH, GFP_NOIO, &res->req.bs);
	req = container_of(bio, struct hablk_req, clone);
	memset(req, 0, offsetof(struct hablk_req, clone));
	req->res = res;
	req->kind = HABLK_REQ_WRITE;
	req->wire_flags = HABLK_WF_PREFLUSH;
	__set_bit(HABLK_REQF_PEER_FLUSH, &req->flags);	/* not the application's */
	INIT_LIST_HEAD(&req->send_list);
	/* ours; the route adds the peer's and the sender's (no bio to complete) */
	atomic_set(&req->ref, 1);
	atomic_set(&req->complete_pending, 1);
	hablk_obj_get(HABLK_OBJ_REQ);
	if (!hablk_req_route(res, req, &net) || !net) {
		bio_put(bio);
		hablk_obj_put(HABLK_OBJ_REQ);
		return 0;
	}
	wake_up(&res->send.wait);
	n = req->flush_no;	/* set when it was queued */
	hablk_req_put(req);
	return n;
}

/*
 * Before a commanded disconnect or a demotion: have the peer flush, so that
 * nothing stays pending. Bounded by the ping timeout.
 */
void hablk_flush_peer_wait(struct hablk_resource *res)
{
	s64 n = hablk_flush_peer(res);

	if (!n)
		return;
	wait_event_timeout(res->flush.wait, atomic64_read(&res->flush.peer_flushed) >= n ||
			   atomic_read(&res->conn.failed),
			   msecs_to_jiffies(res->cfg.ping_timeout_ms));
}

/*
 * The link is gone (teardown, every request given up): extents the peer may
 * hold only in its cache join the bitmap. The next connection drops them if
 * the peer stopped cleanly (rule 6), and resyncs them if it reports that it
 * did not (STATE lost_writes, connected_decide).
 */
void hablk_flush_link_lost(struct hablk_resource *res)
{
	struct hablk_bitmap *bm = &res->bm;
	u64 e, n = 0;

	down_read(&res->resize.sem);
	for (e = 0; bm->peer_epoch && e < bm->nextents; e++) {
		if (!hablk_flush_pending(res, e))
			continue;
		hablk_bm_set(res, e * EXTENT_SECTORS,
			     min_t(u64, EXTENT_SECTORS, res->md.data_sectors - e * EXTENT_SECTORS));
		n++;
	}
	up_read(&res->resize.sem);
	/* every extent is stable again: those that were are in the bitmap now */
	spin_lock_irq(&res->slots.lock);
	atomic64_set(&res->flush.peer_flushed, atomic64_inc_return(&res->flush.epoch));
	spin_unlock_irq(&res->slots.lock);
	if (n)
		pr_info("%s: the peer may hold acked writes only in its disk cache: %llu MiB out of sync until it reports a clean stop\n",
			res->cfg.name, (unsigned long long)n * (HABLK_MD_EXTENT_BYTES >> 20));
}

/*
 * Secondary: the first peer write of a connection. Record on disk that this
 * node may hold acked writes in its cache, until the teardown flushes them;
 * after a crash, the next connection tells the peer (hablk_flush_teardown).
 */
int hablk_flush_first_peer_write(struct hablk_resource *res)
{
	if (res->flush.peer_writes_recorded || READ_ONCE(res->st.disk) == HABLK_DISK_DISKLESS)
		return 0;
	if (hablk_md_set_flags(res, HABLK_MDF_PEER_WRITES, 0)) {
		/* unrecorded, a crash would lose acked writes silently: take none */
		hablk_conn_fail(res, "cannot record peer writes in the metadata");
		return -EIO;
	}
	res->flush.peer_writes_recorded = true;
	return 0;
}

/* The peer writes taken are on stable storage, and no longer recorded. */
static bool peer_writes_forget(struct hablk_resource *res)
{
	if (blkdev_issue_flush(res->bk.bdev) || hablk_md_set_flags(res, 0, HABLK_MDF_PEER_WRITES))
		return false;
	res->flush.peer_writes_recorded = false;
	return true;
}

/*
 * Teardown, once every peer write is done: flush them, then clear the record
 * of them, unless an unclean stop is still to be reported to the peer.
 */
void hablk_flush_teardown(struct hablk_resource *res)
{
	held_drain(res);
	if (!res->flush.peer_writes_recorded || res->st.lost_peer_writes ||
	    READ_ONCE(res->st.disk) == HABLK_DISK_DISKLESS)
		return;
	if (peer_writes_forget(res))
		return;
	/* maybe not on stable storage: the next connection hears of it */
	pr_warn("%s: cannot flush the peer's writes; they will be resynced\n", res->cfg.name);
	spin_lock_irq(&res->st.lock);
	res->st.lost_peer_writes = true;
	spin_unlock_irq(&res->st.lock);
}

/*
 * A promotion: this node's data is the reference from now on. The peer
 * writes it took as secondary are flushed and no longer recorded, and a
 * loss not yet reported is moot. While the peer is primary too (it may
 * still send writes) the record stays.
 */
void hablk_flush_promoted(struct hablk_resource *res)
{
	spin_lock_irq(&res->st.lock);
	res->st.lost_peer_writes = false;
	spin_unlock_irq(&res->st.lock);
	if (!res->flush.peer_writes_recorded || READ_ONCE(res->st.peer_role) == HABLK_ROLE_PRIMARY ||
	    READ_ONCE(res->st.disk) == HABLK_DISK_DISKLESS)
		return;
	peer_writes_forget(res);	/* if it fails, the flag stays: a later report is only spurious */
}

/* --- a volatile disk cache, for tests --- */

unsigned int hablk_fault_peer_cache;
module_param_named(fault_peer_cache, hablk_fault_peer_cache, uint, 0644);
MODULE_PARM_DESC(fault_peer_cache,
		 "fault injection for tests: a volatile disk cache: peer writes are acked but held in memory until a flush, a FUA or sync write, or the teardown (a crash loses them); the sweep sends no flushes (0: off)");

struct held_write {
	struct list_head list;
	sector_t sector;
	u32 size;
	u8 *data;	/* kmalloc: aligned to its size, or to a page from 8 KiB on */
};

/* Write one held write, in bios of at most BIO_MAX_VECS pages. */
static int held_write_out(struct hablk_resource *res, struct held_write *hw)
{
	struct bio *bio = NULL;
	u32 off = 0, len;
	int ret = 0;
	u8 *p;

	while (!ret && off < hw->size) {
		if (!bio) {
			bio = bio_alloc(res->bk.bdev, BIO_MAX_VECS, REQ_OP_WRITE, GFP_NOIO);
			bio->bi_iter.bi_sector = hw->sector + (off >> SECTOR_SHIFT);
		}
		p = hw->data + off;
		len = min_t(u32, PAGE_SIZE - offset_in_page(p), hw->size - off);
		if (bio_add_page(bio, virt_to_page(p), len, offset_in_page(p)) == len) {
			off += len;
			if (off < hw->size)
				continue;
		}
		ret = submit_bio_wait(bio);
		bio_put(bio);
		bio = NULL;
	}
	return ret;
}

/* Write what the fault cache holds, in order (the connection thread). */
static void held_drain(struct hablk_resource *res)
{
	struct held_write *hw, *tmp;

	list_for_each_entry_safe(hw, tmp, &res->flush.held_writes, list) {
		if (READ_ONCE(res->st.disk) != HABLK_DISK_DISKLESS && held_write_out(res, hw))
			pr_warn("%s: fault_peer_cache: a held write failed\n", res->cfg.name);
		list_del(&hw->list);
		kfree(hw->data);
		kfree(hw);
	}
}

/*
 * receive.c, a peer write about to be written: with fault_peer_cache, keep
 * a plain write in memory and return true (the caller acks it); any other
 * write (sync, flush, FUA) first writes what is held, in order.
 */
bool hablk_fault_cache_hold(struct hablk_resource *res, struct bio *bio, u32 flags, bool is_sync)
{
	struct held_write *hw;
	struct bvec_iter it;
	struct bio_vec bv;
	u32 off = 0;

	if (!READ_ONCE(hablk_fault_peer_cache) || !bio->bi_iter.bi_size || is_sync ||
	    (flags & (HABLK_WF_PREFLUSH | HABLK_WF_FUA | HABLK_WF_DISCARD | HABLK_WF_ZEROES)) ||
	    READ_ONCE(res->st.disk) == HABLK_DISK_DISKLESS) {
		held_drain(res);
		return false;
	}
	hw = kmalloc(sizeof(*hw), GFP_NOIO | __GFP_NOWARN);
	if (hw)
		hw->data = kmalloc(bio->bi_iter.bi_size, GFP_NOIO | __GFP_NOWARN);
	if (!hw || !hw->data) {
		kfree(hw);
		held_drain(res);
		return false;
	}
	hw->sector = bio->bi_iter.bi_sector;
	hw->size = bio->bi_iter.bi_size;
	bio_for_each_segment(bv, bio, it) {
		memcpy_from_bvec(hw->data + off, &bv);
		off += bv.bv_len;
	}
	list_add_tail(&hw->list, &res->flush.held_writes);
	return true;
}
