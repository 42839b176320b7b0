// SPDX-License-Identifier: GPL-2.0
/*
 * The primary's data path: reads go to the backing disk; writes go to the
 * backing disk and, through a slot and the send queue, to the peer. A write
 * completes per protocol (C: both disks; A: local disk, and copied or sent).
 */
#include <linux/slab.h>
#include "hablk.h"

int hablk_req_init(struct hablk_resource *res)
{
	int ret;

	/* docs/performance.md ("Memory") promises these bounds per request */
	BUILD_BUG_ON(sizeof(struct hablk_req) > 320);
	BUILD_BUG_ON(sizeof(struct hablk_peer_req) > 192);
	ret = bioset_init(&res->req_bs, 64, offsetof(struct hablk_req, clone),
			  BIOSET_NEED_BVECS);
	if (ret)
		return ret;
	ret = bioset_init(&res->peer_bs, 64, offsetof(struct hablk_peer_req, bio),
			  BIOSET_NEED_BVECS);
	if (ret)
		goto err_req;
	res->slots = kvcalloc(HABLK_SLOTS, sizeof(*res->slots), GFP_KERNEL);
	res->tx_hdr = kmalloc(HABLK_TX_HDR_SIZE, GFP_KERNEL);
	if (!res->slots || !res->tx_hdr) {
		kvfree(res->slots);
		kfree(res->tx_hdr);
		ret = -ENOMEM;
		goto err_peer;
	}
	return 0;

err_peer:
	bioset_exit(&res->peer_bs);
err_req:
	bioset_exit(&res->req_bs);
	return ret;
}

void hablk_req_exit(struct hablk_resource *res)
{
	WARN_ON(res->slots_used);
	kvfree(res->slots);
	kfree(res->tx_hdr);
	bioset_exit(&res->peer_bs);
	bioset_exit(&res->req_bs);
}

/* --- write intervals: overlapping writes wait for each other --- */

static bool iv_try_insert(struct hablk_resource *res, struct interval_tree_node *iv,
			  sector_t sector, u32 size)
{
	bool ok = false;

	spin_lock_irq(&res->iv_lock);
	if (!interval_tree_iter_first(&res->iv_tree, sector,
				      sector + (size >> SECTOR_SHIFT) - 1)) {
		iv->start = sector;
		iv->last = sector + (size >> SECTOR_SHIFT) - 1;
		interval_tree_insert(iv, &res->iv_tree);
		ok = true;
	}
	spin_unlock_irq(&res->iv_lock);
	return ok;
}

void hablk_iv_lock(struct hablk_resource *res, struct interval_tree_node *iv,
		   sector_t sector, u32 size)
{
	wait_event(res->iv_wait, iv_try_insert(res, iv, sector, size));
}

/*
 * For sync chunks: give up when the link fails, because the write holding
 * the interval may wait for an ack that only the teardown will cancel.
 */
int hablk_iv_lock_net(struct hablk_resource *res, struct interval_tree_node *iv,
		      sector_t sector, u32 size)
{
	wait_event(res->iv_wait, atomic_read(&res->conn_failed) ||
		   iv_try_insert(res, iv, sector, size));
	if (!atomic_read(&res->conn_failed))
		return 0;
	/* it may have got the interval just as the link failed */
	if (RB_EMPTY_NODE(&iv->rb))
		return -ENOTCONN;
	hablk_iv_unlock(res, iv);
	return -ENOTCONN;
}

void hablk_iv_unlock(struct hablk_resource *res, struct interval_tree_node *iv)
{
	unsigned long flags;

	spin_lock_irqsave(&res->iv_lock, flags);
	interval_tree_remove(iv, &res->iv_tree);
	spin_unlock_irqrestore(&res->iv_lock, flags);
	if (wq_has_sleeper(&res->iv_wait))
		wake_up_all(&res->iv_wait);
}

/* --- slots: requests that wait for the peer's ack, found by the ack's id --- */

/* Caller holds state_lock. Returns false when all slots are taken. */
static bool slot_get(struct hablk_resource *res, struct hablk_req *req)
{
	unsigned int slot;

	lockdep_assert_held(&res->state_lock);
	if (res->slots_used >= HABLK_SLOTS)
		return false;
	slot = res->slot_hint;
	while (res->slots[slot])
		slot = (slot + 1) & (HABLK_SLOTS - 1);
	res->slot_hint = (slot + 1) & (HABLK_SLOTS - 1);
	res->slots[slot] = req;
	res->slots_used++;
	res->slot_seq++;
	req->id = ((u64)res->slot_seq << HABLK_SLOT_BITS) | slot;
	return true;
}

/* Caller holds state_lock: @req leaves its slot. */
static void slot_put(struct hablk_resource *res, unsigned int slot, struct hablk_req *req)
{
	lockdep_assert_held(&res->state_lock);
	res->slots[slot] = NULL;
	res->slots_used--;
	if (test_bit(HABLK_REQF_PEER_FLUSH, &req->flags))
		res->flush_slots--;
}

/* Take the request an ack names out of its slot; NULL if the id is not in flight. */
struct hablk_req *hablk_slot_take(struct hablk_resource *res, u64 id)
{
	unsigned int slot = id & (HABLK_SLOTS - 1);
	struct hablk_req *req;
	unsigned long flags;

	spin_lock_irqsave(&res->state_lock, flags);
	req = res->slots[slot];
	if (req && req->id == id && test_bit(HABLK_REQF_SENDING, &req->flags))
		slot_put(res, slot, req);
	else
		req = NULL;
	spin_unlock_irqrestore(&res->state_lock, flags);
	if (req && wq_has_sleeper(&res->slot_wait))
		wake_up_all(&res->slot_wait);
	return req;
}

/* Completion rules of one request. */
static void req_complete_put(struct hablk_req *req)
{
	struct bio *master = req->master;

	if (!atomic_dec_and_test(&req->complete_pending))
		return;
	if (master) {
		master->bi_status = req->local_status;
		bio_end_io_acct(master, req->start_time);
		/* the peer lacks it: acknowledged only with quorum and not frozen */
		if ((!test_bit(HABLK_REQF_NET, &req->flags) ||
		     test_bit(HABLK_REQF_NET_FAILED, &req->flags)) &&
		    hablk_quorum_hold(req->res, master))
			return;
		bio_endio(master);
	}
}

void hablk_req_put(struct hablk_req *req)
{
	struct hablk_resource *res = req->res;

	if (!atomic_dec_and_test(&req->ref))
		return;
	if (test_bit(HABLK_REQF_INTENT, &req->flags))
		hablk_intent_end(res, req->sector, req->size >> SECTOR_SHIFT);
	if (test_bit(HABLK_REQF_IV, &req->flags))
		hablk_iv_unlock(res, &req->iv);
	if (req->kind == HABLK_REQ_SYNC || req->kind == HABLK_REQ_VERIFY)	/* chunks */
		hablk_bio_pages_put(res, &req->clone);
	if (req->copy) {
		kvfree(req->copy);
		atomic_sub(req->size, &res->copy_bytes);
	}
	bio_put(&req->clone);
	hablk_obj_put(HABLK_OBJ_REQ);
}

/*
 * The socket has the request's data and the sender no longer touches the
 * application's bio. Protocol A completes here.
 */
void hablk_req_sent(struct hablk_req *req)
{
	if (!test_and_set_bit(HABLK_REQF_SENT, &req->flags))
		req_complete_put(req);
}

/* The peer acked (status 0), failed (errno), or is gone (-ENOTCONN). */
void hablk_req_net_done(struct hablk_req *req, int status)
{
	struct hablk_resource *res = req->res;

	if (req->kind == HABLK_REQ_SYNC) {
		hablk_sync_chunk_acked(req, status);
		return;
	}
	if (req->kind == HABLK_REQ_VERIFY) {	/* only a cancel: replies come another way */
		hablk_verify_reply(req, 0, status ? status : -EIO);
		return;
	}
	if (req->kind == HABLK_REQ_READ) {	/* likewise */
		hablk_read_done(req, status ? status : -EIO);
		return;
	}
	if (!test_bit(HABLK_REQF_PEER_FLUSH, &req->flags))
		atomic_dec(&res->app_inflight);
	if (status) {
		/* a write whose local copy failed too has failed */
		set_bit(HABLK_REQF_NET_FAILED, &req->flags);
		smp_mb__after_atomic();	/* pairs with req_local_endio: one of us sees both */
		if (test_bit(HABLK_REQF_LOCAL_FAILED, &req->flags))
			req->local_status = BLK_STS_IOERR;
	}
	if (status) {
		/* the peer may lack it: resync these blocks later */
		hablk_bm_set(res, req->sector, req->size >> SECTOR_SHIFT);
		if (status != -ENOTCONN)
			hablk_state_peer_write_failed(res, status);
	} else {
		/* in the peer's cache at least: stable there after its next flush */
		hablk_flush_acked(res, req);
		/* both disks have it now (blocks it covers completely) */
		if (hablk_bm_weight(res))
			hablk_bm_clear(res, req->sector, req->size >> SECTOR_SHIFT);
	}
	if (!test_and_set_bit(HABLK_REQF_SENT, &req->flags))
		req_complete_put(req);	/* given up before it was sent */
	if (test_bit(HABLK_REQF_WAIT_ACK, &req->flags))
		req_complete_put(req);
	hablk_req_put(req);
}

/*
 * A request the peer answered wrongly (taken out of its slot by a reply of
 * the wrong kind): given up on like on a lost link, which for a write means
 * recording a new generation first. Process context; the caller fails the
 * connection.
 */
void hablk_req_give_up(struct hablk_resource *res, struct hablk_req *req)
{
	if (req->kind == HABLK_REQ_WRITE)
		hablk_state_write_alone(res);
	hablk_req_net_done(req, -ENOTCONN);
}

/* The connection is gone: every request still waiting for the peer gives up. */
void hablk_req_cancel_all(struct hablk_resource *res)
{
	struct hablk_req *req;
	unsigned int slot;

	for (slot = 0; slot < HABLK_SLOTS; slot++) {
		spin_lock_irq(&res->state_lock);
		req = res->slots[slot];
		if (req)
			slot_put(res, slot, req);
		spin_unlock_irq(&res->state_lock);
		if (req)
			hablk_req_net_done(req, -ENOTCONN);
	}
	wake_up_all(&res->slot_wait);
}

static void req_local_endio(struct bio *clone)
{
	struct hablk_req *req = container_of(clone, struct hablk_req, clone);

	if (clone->bi_status) {
		pr_err_ratelimited("%s: local write error %d at sector %llu\n",
				   req->res->cfg.name, blk_status_to_errno(clone->bi_status),
				   (unsigned long long)req->sector);
		hablk_state_disk_failed(req->res);
		/* protocol C: if the peer has it, the write succeeded (the disk is detached) */
		set_bit(HABLK_REQF_LOCAL_FAILED, &req->flags);
		smp_mb__after_atomic();	/* pairs with hablk_req_net_done: one of us sees both */
		if (!test_bit(HABLK_REQF_NET, &req->flags) ||
		    !test_bit(HABLK_REQF_WAIT_ACK, &req->flags) ||
		    test_bit(HABLK_REQF_NET_FAILED, &req->flags))
			req->local_status = clone->bi_status;
	}
	req_complete_put(req);
	hablk_req_put(req);
}

static void read_endio(struct bio *clone)
{
	struct hablk_req *req = container_of(clone, struct hablk_req, clone);
	struct hablk_resource *res = req->res;
	struct bio *master = req->master;
	unsigned long flags;

	if (clone->bi_status) {
		pr_err_ratelimited("%s: local read error %d at sector %llu\n", res->cfg.name,
				   blk_status_to_errno(clone->bi_status),
				   (unsigned long long)master->bi_iter.bi_sector);
		hablk_state_disk_failed(res);
		if (READ_ONCE(res->role) == HABLK_ROLE_PRIMARY && hablk_peer_can_serve(res)) {
			/* read it from the peer instead */
			spin_lock_irqsave(&res->defer_lock, flags);
			list_add_tail(&req->send_list, &res->retry_list);
			spin_unlock_irqrestore(&res->defer_lock, flags);
			queue_work(res->wq, &res->retry_work);
			return;
		}
	}
	master->bi_status = clone->bi_status;
	bio_end_io_acct(master, req->start_time);
	bio_put(clone);
	hablk_obj_put(HABLK_OBJ_REQ);
	bio_endio(master);
}

static void read_endio_status(struct bio *clone, blk_status_t status)
{
	clone->bi_status = status;
	read_endio(clone);
}

static u32 bio_wire_flags(struct bio *bio)
{
	u32 f = 0;

	if (bio->bi_opf & REQ_PREFLUSH)
		f |= HABLK_WF_PREFLUSH;
	if (bio->bi_opf & REQ_FUA)
		f |= HABLK_WF_FUA;
	if (bio_op(bio) == REQ_OP_DISCARD)
		f |= HABLK_WF_DISCARD;
	if (bio_op(bio) == REQ_OP_WRITE_ZEROES) {
		f |= HABLK_WF_ZEROES;
		if (bio->bi_opf & REQ_NOUNMAP)
			f |= HABLK_WF_NOUNMAP;
	}
	return f;
}

/*
 * Decide, atomically with the connection state, whether the request goes to
 * the peer; if so it gets a slot and a place in the send queue. Returns
 * false if the write must wait (no free slot) and should be retried.
 */
bool hablk_req_route(struct hablk_resource *res, struct hablk_req *req, bool *net)
{
	bool ok = true;

	spin_lock_irq(&res->state_lock);
	if (res->exchanging && !atomic_read(&res->conn_failed)) {
		/* the peer is deciding from our generation: do not change it now */
		spin_unlock_irq(&res->state_lock);
		return false;
	}
	*net = res->conn == HABLK_CONN_CONNECTED && !atomic_read(&res->conn_failed) &&
	       res->peer_disk != HABLK_DISK_DISKLESS &&
	       (res->repl == HABLK_REPL_ESTABLISHED || res->repl == HABLK_REPL_SYNC_SOURCE ||
		res->repl == HABLK_REPL_VERIFY_SOURCE);
	if (*net) {
		ok = slot_get(res, req);
		if (ok) {
			if (test_bit(HABLK_REQF_PEER_FLUSH, &req->flags))
				res->flush_slots++;
			set_bit(HABLK_REQF_NET, &req->flags);
			hablk_send_queue_add(res, req);
		}
	}
	spin_unlock_irq(&res->state_lock);
	return ok;
}

/* Queue a sync chunk for the peer; -ENOTCONN if the link is gone. */
int hablk_req_queue_net(struct hablk_resource *res, struct hablk_req *req)
{
	bool queued = false;

	for (;;) {
		spin_lock_irq(&res->state_lock);
		if (res->conn != HABLK_CONN_CONNECTED || atomic_read(&res->conn_failed)) {
			spin_unlock_irq(&res->state_lock);
			return -ENOTCONN;
		}
		queued = slot_get(res, req);
		if (queued)
			hablk_send_queue_add(res, req);
		spin_unlock_irq(&res->state_lock);
		if (queued)
			break;
		wait_event(res->slot_wait, res->slots_used < HABLK_SLOTS ||
			   atomic_read(&res->conn_failed));
	}
	wake_up(&res->send_wait);
	return 0;
}

/*
 * The peer got the request's data with a bad checksum (data-integrity): send
 * it again, in a new slot. False if the link is going away.
 */
bool hablk_req_resend(struct hablk_resource *res, struct hablk_req *req)
{
	bool ok;

	spin_lock_irq(&res->state_lock);
	ok = res->conn == HABLK_CONN_CONNECTED && !atomic_read(&res->conn_failed) &&
	     slot_get(res, req);
	if (ok) {
		clear_bit(HABLK_REQF_SENDING, &req->flags);
		atomic_inc(&req->ref);		/* the sender's hold */
		hablk_send_queue_add(res, req);
	}
	spin_unlock_irq(&res->state_lock);
	if (ok)
		wake_up(&res->send_wait);
	return ok;
}

static void submit_read(struct hablk_resource *res, struct bio *bio)
{
	struct bio *clone;
	struct hablk_req *req;

	clone = bio_alloc_clone(res->bdev, bio, GFP_NOIO, &res->req_bs);
	req = container_of(clone, struct hablk_req, clone);
	req->res = res;
	req->master = bio;
	req->copy = NULL;
	req->start_time = bio_start_io_acct(bio);
	clone->bi_end_io = read_endio;
	hablk_obj_get(HABLK_OBJ_REQ);
	if (READ_ONCE(res->disk) != HABLK_DISK_DISKLESS)
		submit_bio_noacct(clone);
	else if (READ_ONCE(res->role) == HABLK_ROLE_PRIMARY)
		hablk_read_from_peer(res, req);
	else
		read_endio_status(clone, BLK_STS_IOERR);	/* a diskless secondary has no data */
}

/*
 * Inside submit_bio (current->bio_list set), a bio we submit only starts
 * after we return: a write that needs a synchronous metadata update first
 * (a new intent extent, a new data generation) goes to the submit work.
 */
static void defer_write(struct hablk_resource *res, struct bio *bio)
{
	spin_lock_irq(&res->defer_lock);
	bio_list_add(&res->deferred, bio);
	spin_unlock_irq(&res->defer_lock);
	queue_work(res->wq, &res->submit_work);
}

static void submit_write(struct hablk_resource *res, struct bio *bio);

/*
 * Protocol A: copy the data for the sender, so that the write completes
 * when the local disk has it, never waiting for the network. Within
 * HABLK_COPY_MAX bytes copied and not yet acked; beyond, or if memory is
 * short, the sender sends from the application's bio and the write
 * completes once it is sent.
 */
static void copy_for_peer(struct hablk_resource *res, struct hablk_req *req, struct bio *bio)
{
	unsigned int noio, off = 0;
	struct bvec_iter iter;
	struct bio_vec bv;

	if (atomic_add_return(req->size, &res->copy_bytes) > HABLK_COPY_MAX)
		goto undo;
	noio = memalloc_noio_save();
	req->copy = kvmalloc(req->size, GFP_KERNEL | __GFP_NOWARN);
	memalloc_noio_restore(noio);
	if (!req->copy)
		goto undo;
	bio_for_each_segment(bv, bio, iter) {
		memcpy_from_bvec(req->copy + off, &bv);
		off += bv.bv_len;
	}
	return;
undo:
	atomic_sub(req->size, &res->copy_bytes);
}

void hablk_submit_work(struct work_struct *work)
{
	struct hablk_resource *res = container_of(work, struct hablk_resource, submit_work);
	struct bio_list list;
	struct bio *bio;

	spin_lock_irq(&res->defer_lock);
	list = res->deferred;
	bio_list_init(&res->deferred);
	spin_unlock_irq(&res->defer_lock);
	while ((bio = bio_list_pop(&list)))
		submit_write(res, bio);
}

static void submit_write(struct hablk_resource *res, struct bio *bio)
{
	bool can_block = !current->bio_list, diskless;
	struct hablk_req *req;
	struct bio *clone;
	bool net = false;
	int ret;

	if (!hablk_state_may_write(res)) {
		bio_io_error(bio);
		return;
	}
	if (hablk_quorum_gate(res, bio))
		return;		/* frozen, or failed for want of quorum */
	/*
	 * Until it holds its interval, a write uses the bitmap's arrays, which
	 * an online grow replaces: the grow takes this lock for writing. Never
	 * wait for it inside submit_bio (the grow waits for our writes).
	 */
	if (can_block) {
		down_read(&res->resize_sem);
	} else if (!down_read_trylock(&res->resize_sem)) {
		defer_write(res, bio);
		return;
	}
	clone = bio_alloc_clone(res->bdev, bio, GFP_NOIO, &res->req_bs);
	req = container_of(clone, struct hablk_req, clone);
	req->res = res;
	req->master = bio;
	req->kind = HABLK_REQ_WRITE;
	req->resends = 0;
	req->flags = 0;
	req->local_status = BLK_STS_OK;
	req->sector = bio->bi_iter.bi_sector;
	req->size = bio->bi_iter.bi_size;
	req->wire_flags = bio_wire_flags(bio);
	req->copy = NULL;
	INIT_LIST_HEAD(&req->send_list);
	clone->bi_end_io = req_local_endio;
	hablk_obj_get(HABLK_OBJ_REQ);

	diskless = READ_ONCE(res->disk) == HABLK_DISK_DISKLESS;
	if (diskless) {
		/* the peer's copy is the only one: its ack decides, whatever the protocol */
		__set_bit(HABLK_REQF_LOCAL_FAILED, &req->flags);
		__set_bit(HABLK_REQF_WAIT_ACK, &req->flags);
	} else if (res->cfg.protocol == 'C') {
		__set_bit(HABLK_REQF_WAIT_ACK, &req->flags);
	}
	if (req->size && diskless) {
		hablk_iv_lock(res, &req->iv, req->sector, req->size);
		__set_bit(HABLK_REQF_IV, &req->flags);
	} else if (req->size) {
		ret = hablk_intent_begin(res, req->sector, req->size >> SECTOR_SHIFT, can_block);
		if (ret == -EAGAIN) {
			up_read(&res->resize_sem);
			bio_put(clone);
			hablk_obj_put(HABLK_OBJ_REQ);
			defer_write(res, bio);
			return;
		}
		if (ret)
			req->local_status = BLK_STS_IOERR;	/* cannot record the intent */
		else
			__set_bit(HABLK_REQF_INTENT, &req->flags);
		hablk_iv_lock(res, &req->iv, req->sector, req->size);
		__set_bit(HABLK_REQF_IV, &req->flags);
	}
	up_read(&res->resize_sem);
	if (!test_bit(HABLK_REQF_WAIT_ACK, &req->flags) && !req->local_status &&
	    hablk_req_has_payload(req) && READ_ONCE(res->conn) == HABLK_CONN_CONNECTED)
		copy_for_peer(res, req, bio);
	/*
	 * References: submit, local I/O, and if replicated the peer's ack and
	 * the sender. Completion waits for: submit, local I/O, and if
	 * replicated the sender being done with the bio, and (protocol C) the ack.
	 */
	atomic_set(&req->ref, 4);
	atomic_set(&req->complete_pending, test_bit(HABLK_REQF_WAIT_ACK, &req->flags) ? 4 : 3);
	while (!req->local_status && !hablk_req_route(res, req, &net))
		wait_event(res->slot_wait, (!READ_ONCE(res->exchanging) &&
					    READ_ONCE(res->slots_used) < HABLK_SLOTS) ||
			   atomic_read(&res->conn_failed));
	if (req->local_status) {
		net = false;
		atomic_set(&req->ref, 2);
		atomic_set(&req->complete_pending, 2);
	} else if (!net && diskless) {
		atomic_set(&req->ref, 2);
		atomic_set(&req->complete_pending, 2);
		req->local_status = BLK_STS_IOERR;	/* no disk here, no peer there */
	} else if (!net) {
		/* frozen (the link just failed) or without quorum: it must not go alone */
		bool park = READ_ONCE(res->frozen) ||
			    (READ_ONCE(res->managed) && !READ_ONCE(res->quorum));

		atomic_set(&req->ref, 2);
		atomic_set(&req->complete_pending, 2);
		if (park || (!can_block && !READ_ONCE(res->solo_ready))) {
			/*
			 * Undo it. Parked, it waits in frozen_bios for the thaw
			 * (or fails, without quorum under io-error); else a new
			 * generation must be written first, not inside submit_bio:
			 * it is retried from the submit work.
			 */
			req->master = NULL;
			req_complete_put(req);
			req_complete_put(req);
			hablk_req_put(req);
			hablk_req_put(req);
			if (!park || !hablk_quorum_gate(res, bio))
				defer_write(res, bio);
			return;
		}
		if (hablk_state_write_alone(res))
			req->local_status = BLK_STS_IOERR;	/* cannot record it: fail it */
		else
			hablk_bm_set(res, req->sector, req->size >> SECTOR_SHIFT);
	} else if (req->copy) {
		/* the sender has its own copy: complete with the local disk */
		atomic_inc(&res->app_inflight);
		hablk_req_sent(req);
		wake_up(&res->send_wait);
	} else {
		atomic_inc(&res->app_inflight);
		/*
		 * Alone on the link: sent now, from here, the lowest latency.
		 * Behind writes that wait for their acks: left to the sender
		 * thread, which sends what queued meanwhile as one corked
		 * batch (send.c, hablk_sender_fn).
		 */
		if (READ_ONCE(res->slots_used) > 1)
			wake_up(&res->send_wait);
		else
			hablk_send_kick(res);
	}
	req->start_time = bio_start_io_acct(bio);
	if (req->local_status || diskless) {
		req_complete_put(req);		/* the local I/O that will not happen */
		hablk_req_put(req);
	} else {
		submit_bio_noacct(clone);
	}
	req_complete_put(req);
	hablk_req_put(req);
}

void hablk_submit_bio(struct bio *bio)
{
	struct hablk_resource *res = bio->bi_bdev->bd_disk->private_data;

	bio = bio_split_to_limits(bio);
	if (!bio)
		return;
	switch (bio_op(bio)) {
	case REQ_OP_READ:
		submit_read(res, bio);
		break;
	case REQ_OP_WRITE:
	case REQ_OP_DISCARD:
	case REQ_OP_WRITE_ZEROES:
		submit_write(res, bio);
		break;
	default:
		bio->bi_status = BLK_STS_NOTSUPP;
		bio_endio(bio);
	}
}
