// SPDX-License-Identifier: GPL-2.0
/*
 * The primary's data path: reads go to the backing disk; writes go to the
 * backing disk and, through a slot and the send queue, to the peer. A write
 * completes per protocol (C: both disks; A: local disk, and copied or sent).
 */
#include <linux/slab.h>
#include "hablk.h"

static void submit_work(struct work_struct *work);

int hablk_req_init(struct hablk_resource *res)
{
	int ret;

	/* docs/performance.md ("Memory") promises these bounds per request */
	BUILD_BUG_ON(sizeof(struct hablk_req) > 320);
	spin_lock_init(&res->iv.lock);
	res->iv.tree = RB_ROOT_CACHED;
	init_waitqueue_head(&res->iv.wait);
	spin_lock_init(&res->slots.lock);
	init_waitqueue_head(&res->slots.wait);
	spin_lock_init(&res->req.defer_lock);
	bio_list_init(&res->req.deferred);
	INIT_WORK(&res->req.submit_work, submit_work);
	ret = bioset_init(&res->req.bs, 64, offsetof(struct hablk_req, clone),
			  BIOSET_NEED_BVECS);
	if (ret)
		return ret;
	res->slots.req = kvcalloc(HABLK_SLOTS, sizeof(*res->slots.req), GFP_KERNEL);
	if (!res->slots.req) {
		bioset_exit(&res->req.bs);
		return -ENOMEM;
	}
	return 0;
}

void hablk_req_exit(struct hablk_resource *res)
{
	WARN_ON(res->slots.used);
	kvfree(res->slots.req);
	bioset_exit(&res->req.bs);
}

/* --- write intervals: overlapping writes wait for each other --- */

static bool iv_try_insert(struct hablk_resource *res, struct interval_tree_node *iv,
			  sector_t sector, u32 size)
{
	bool ok = false;

	spin_lock_irq(&res->iv.lock);
	if (!interval_tree_iter_first(&res->iv.tree, sector,
				      sector + (size >> SECTOR_SHIFT) - 1)) {
		iv->start = sector;
		iv->last = sector + (size >> SECTOR_SHIFT) - 1;
		interval_tree_insert(iv, &res->iv.tree);
		ok = true;
	}
	spin_unlock_irq(&res->iv.lock);
	return ok;
}

void hablk_iv_lock(struct hablk_resource *res, struct interval_tree_node *iv,
		   sector_t sector, u32 size)
{
	wait_event(res->iv.wait, iv_try_insert(res, iv, sector, size));
}

/*
 * For sync chunks: give up when the link fails, because the write holding
 * the interval may wait for an ack that only the teardown will cancel.
 */
int hablk_iv_lock_net(struct hablk_resource *res, struct interval_tree_node *iv,
		      sector_t sector, u32 size)
{
	wait_event(res->iv.wait, atomic_read(&res->conn.failed) ||
		   iv_try_insert(res, iv, sector, size));
	if (!atomic_read(&res->conn.failed))
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

	spin_lock_irqsave(&res->iv.lock, flags);
	interval_tree_remove(iv, &res->iv.tree);
	spin_unlock_irqrestore(&res->iv.lock, flags);
	if (wq_has_sleeper(&res->iv.wait))
		wake_up_all(&res->iv.wait);
	hablk_lock_iv_left(res);	/* a release waiting for this write */
}

/* Is no write (or sync chunk) holding an interval? (An online grow waits for it.) */
bool hablk_iv_empty(struct hablk_resource *res)
{
	bool empty;

	spin_lock_irq(&res->iv.lock);
	empty = RB_EMPTY_ROOT(&res->iv.tree.rb_root);
	spin_unlock_irq(&res->iv.lock);
	return empty;
}

/* --- slots: requests that wait for the peer's answer, found by its id --- */

/* Caller holds slots.lock. Returns false when all slots are taken. */
static bool slot_get(struct hablk_resource *res, struct hablk_req *req)
{
	struct hablk_slots *s = &res->slots;
	unsigned int slot;

	lockdep_assert_held(&s->lock);
	if (s->used >= HABLK_SLOTS)
		return false;
	slot = s->hint;
	while (s->req[slot])
		slot = (slot + 1) & (HABLK_SLOTS - 1);
	s->hint = (slot + 1) & (HABLK_SLOTS - 1);
	s->req[slot] = req;
	s->used++;
	if (test_bit(HABLK_REQF_PEER_FLUSH, &req->flags))
		s->flushes++;
	s->seq++;
	req->id = ((u64)s->seq << HABLK_SLOT_BITS) | slot;
	return true;
}

/* Caller holds slots.lock: @req leaves its slot. */
static void slot_put(struct hablk_resource *res, unsigned int slot, struct hablk_req *req)
{
	lockdep_assert_held(&res->slots.lock);
	res->slots.req[slot] = NULL;
	res->slots.used--;
	if (test_bit(HABLK_REQF_PEER_FLUSH, &req->flags))
		res->slots.flushes--;
}

/* Take the request an answer names out of its slot; NULL if the id is not in flight. */
struct hablk_req *hablk_slot_take(struct hablk_resource *res, u64 id)
{
	unsigned int slot = id & (HABLK_SLOTS - 1);
	struct hablk_req *req;
	unsigned long flags;

	spin_lock_irqsave(&res->slots.lock, flags);
	req = res->slots.req[slot];
	if (req && req->id == id && test_bit(HABLK_REQF_SENDING, &req->flags))
		slot_put(res, slot, req);
	else
		req = NULL;
	spin_unlock_irqrestore(&res->slots.lock, flags);
	if (req && wq_has_sleeper(&res->slots.wait))
		wake_up_all(&res->slots.wait);
	return req;
}

/* Caller holds st.lock: is the link up for requests (not being torn down)? */
static bool link_up(struct hablk_resource *res)
{
	lockdep_assert_held(&res->st.lock);
	return res->st.conn == HABLK_CONN_CONNECTED && !atomic_read(&res->conn.failed);
}

/* Caller holds st.lock: into a slot and the send queue, if one is free. */
static bool queue_net(struct hablk_resource *res, struct hablk_req *req)
{
	bool ok;

	spin_lock(&res->slots.lock);
	ok = slot_get(res, req);
	if (ok)
		hablk_send_queue_add(res, req);
	spin_unlock(&res->slots.lock);
	return ok;
}

/* --- what holds a request, and what its completion waits for --- */

/*
 * A request is freed when its last reference goes (hablk_req_put), and its
 * master bio completes when its last completion goes (req_complete_put).
 * Each party takes one of each, and drops both when it is done:
 *   the submitter       req_hold_submitter(), dropped by req_drop()
 *   the local write     req_hold_local(), dropped by req_local_endio()
 *   the peer            req_hold_net() (in the route, with the sender's): its
 *                       answer or the cancel drops the reference, and the
 *                       completion if the write waits for it (WAIT_ACK)
 *   the sender          req_hold_net(): hablk_req_sent() and send_queued()
 */
static void req_hold_submitter(struct hablk_req *req)
{
	atomic_set(&req->ref, 1);
	atomic_set(&req->complete_pending, 1);
}

static void req_hold_local(struct hablk_req *req)
{
	atomic_inc(&req->ref);
	atomic_inc(&req->complete_pending);
}

/* Before the request is visible to the sender and to the answer. */
static void req_hold_net(struct hablk_req *req)
{
	atomic_add(2, &req->ref);
	atomic_add(test_bit(HABLK_REQF_WAIT_ACK, &req->flags) ? 2 : 1, &req->complete_pending);
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
		hablk_pool_put_pages(res, &req->clone);
	if (req->copy) {
		kvfree(req->copy);
		atomic_sub(req->size, &res->req.copy_bytes);
	}
	bio_put(&req->clone);
	hablk_obj_put(HABLK_OBJ_REQ);
}

/* A party is done: its reference and its completion. */
static void req_drop(struct hablk_req *req)
{
	req_complete_put(req);
	hablk_req_put(req);
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

/* A write's answer: the peer acked (status 0), failed (errno), or is gone (-ENOTCONN). */
static void write_net_done(struct hablk_resource *res, struct hablk_req *req, int status)
{
	if (!test_bit(HABLK_REQF_PEER_FLUSH, &req->flags))
		atomic_dec(&res->req.app_inflight);
	if (status) {
		/* a write whose local copy failed too has failed */
		set_bit(HABLK_REQF_NET_FAILED, &req->flags);
		smp_mb__after_atomic();	/* pairs with req_local_endio: one of us sees both */
		if (test_bit(HABLK_REQF_LOCAL_FAILED, &req->flags))
			req->local_status = BLK_STS_IOERR;
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

/* The peer answered a request (status 0, or an errno), or is gone (-ENOTCONN). */
void hablk_req_net_done(struct hablk_req *req, int status)
{
	switch (req->kind) {
	case HABLK_REQ_SYNC:
		hablk_sync_chunk_acked(req, status);
		break;
	case HABLK_REQ_VERIFY:	/* only a cancel: replies come another way */
		hablk_verify_reply(req, 0, status ? status : -EIO);
		break;
	case HABLK_REQ_READ:	/* likewise */
		hablk_read_done(req, status ? status : -EIO);
		break;
	default:
		write_net_done(req->res, req, status);
	}
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
		spin_lock_irq(&res->slots.lock);
		req = res->slots.req[slot];
		if (req)
			slot_put(res, slot, req);
		spin_unlock_irq(&res->slots.lock);
		if (req)
			hablk_req_net_done(req, -ENOTCONN);
	}
	wake_up_all(&res->slots.wait);
}

/* Queue a sync chunk (or a read) for the peer; -ENOTCONN if the link is gone. */
int hablk_req_queue_net(struct hablk_resource *res, struct hablk_req *req)
{
	bool queued;

	for (;;) {
		spin_lock_irq(&res->st.lock);
		if (!link_up(res)) {
			spin_unlock_irq(&res->st.lock);
			return -ENOTCONN;
		}
		queued = queue_net(res, req);
		spin_unlock_irq(&res->st.lock);
		if (queued)
			break;
		wait_event(res->slots.wait, READ_ONCE(res->slots.used) < HABLK_SLOTS ||
			   atomic_read(&res->conn.failed));
	}
	wake_up(&res->send.wait);
	return 0;
}

/*
 * The peer got the request's data with a bad checksum (data-integrity): send
 * it again, in a new slot. False if the link is going away.
 */
bool hablk_req_resend(struct hablk_resource *res, struct hablk_req *req)
{
	bool ok;

	spin_lock_irq(&res->st.lock);
	spin_lock(&res->slots.lock);
	ok = link_up(res) && res->slots.used < HABLK_SLOTS;
	if (ok) {
		clear_bit(HABLK_REQF_SENDING, &req->flags);
		atomic_inc(&req->ref);		/* the sender's hold */
		slot_get(res, req);
		hablk_send_queue_add(res, req);
	}
	spin_unlock(&res->slots.lock);
	spin_unlock_irq(&res->st.lock);
	if (ok)
		wake_up(&res->send.wait);
	return ok;
}

/*
 * Decide, atomically with the connection state, whether the request goes to
 * the peer; if so it gets a slot and a place in the send queue, and the
 * peer's and the sender's holds. Returns false if it must wait (no free
 * slot, or the state exchange of a new connection) and should be retried.
 */
bool hablk_req_route(struct hablk_resource *res, struct hablk_req *req, bool *net)
{
	bool ok = true;

	spin_lock_irq(&res->st.lock);
	if (res->st.exchanging && !atomic_read(&res->conn.failed)) {
		/* the peer is deciding from our generation: do not change it now */
		spin_unlock_irq(&res->st.lock);
		return false;
	}
	*net = link_up(res) && res->st.peer_disk != HABLK_DISK_DISKLESS &&
	       (res->st.repl == HABLK_REPL_ESTABLISHED || res->st.repl == HABLK_REPL_SYNC_SOURCE ||
		res->st.repl == HABLK_REPL_VERIFY_SOURCE);
	if (*net) {
		spin_lock(&res->slots.lock);
		ok = res->slots.used < HABLK_SLOTS;
		if (ok) {
			set_bit(HABLK_REQF_NET, &req->flags);
			req_hold_net(req);
			slot_get(res, req);
			hablk_send_queue_add(res, req);
		}
		spin_unlock(&res->slots.lock);
	}
	spin_unlock_irq(&res->st.lock);
	return ok;
}

/* --- reads --- */

static void read_endio(struct bio *clone)
{
	struct hablk_req *req = container_of(clone, struct hablk_req, clone);
	struct hablk_resource *res = req->res;
	struct bio *master = req->master;

	if (clone->bi_status) {
		pr_err_ratelimited("%s: local read error %d at sector %llu\n", res->cfg.name,
				   blk_status_to_errno(clone->bi_status),
				   (unsigned long long)master->bi_iter.bi_sector);
		hablk_backing_failed(res);
		if (READ_ONCE(res->st.role) == HABLK_ROLE_PRIMARY && hablk_peer_can_serve(res)) {
			hablk_read_retry(res, req);	/* read it from the peer instead */
			return;
		}
	}
	master->bi_status = clone->bi_status;
	bio_end_io_acct(master, req->start_time);
	bio_put(clone);
	hablk_obj_put(HABLK_OBJ_REQ);
	bio_endio(master);
}

/* A read that cannot be served here (no data, or fenced): it fails, the disk is fine. */
static void read_fail(struct hablk_req *req)
{
	struct bio *master = req->master;

	master->bi_status = BLK_STS_IOERR;
	bio_end_io_acct(master, req->start_time);
	bio_put(&req->clone);
	hablk_obj_put(HABLK_OBJ_REQ);
	bio_endio(master);
}

static void submit_read(struct hablk_resource *res, struct bio *bio)
{
	struct bio *clone;
	struct hablk_req *req;

	clone = bio_alloc_clone(res->bk.bdev, bio, GFP_NOIO, &res->req.bs);
	req = container_of(clone, struct hablk_req, clone);
	req->res = res;
	req->master = bio;
	req->copy = NULL;
	req->start_time = bio_start_io_acct(bio);
	clone->bi_end_io = read_endio;
	hablk_obj_get(HABLK_OBJ_REQ);
	if (READ_ONCE(res->st.disk) == HABLK_DISK_OUTDATED &&
	    READ_ONCE(res->st.role) == HABLK_ROLE_PRIMARY)
		read_fail(req);		/* fenced: the peer went on without us */
	else if (READ_ONCE(res->st.disk) != HABLK_DISK_DISKLESS)
		submit_bio_noacct(clone);
	else if (READ_ONCE(res->st.role) == HABLK_ROLE_PRIMARY)
		hablk_read_from_peer(res, req);
	else
		read_fail(req);		/* a diskless secondary has no data */
}

/* --- writes: gate, allocate, reserve, route, submit (submit_write) --- */

static void req_local_endio(struct bio *clone)
{
	struct hablk_req *req = container_of(clone, struct hablk_req, clone);

	if (clone->bi_status) {
		pr_err_ratelimited("%s: local write error %d at sector %llu\n",
				   req->res->cfg.name, blk_status_to_errno(clone->bi_status),
				   (unsigned long long)req->sector);
		hablk_backing_failed(req->res);
		/* protocol C: if the peer has it, the write succeeded (the disk is detached) */
		set_bit(HABLK_REQF_LOCAL_FAILED, &req->flags);
		smp_mb__after_atomic();	/* pairs with write_net_done: one of us sees both */
		if (!test_bit(HABLK_REQF_NET, &req->flags) ||
		    !test_bit(HABLK_REQF_WAIT_ACK, &req->flags) ||
		    test_bit(HABLK_REQF_NET_FAILED, &req->flags))
			req->local_status = clone->bi_status;
	}
	req_drop(req);
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
 * Inside submit_bio (current->bio_list set), a bio we submit only starts
 * after we return: a write that must block first (a new intent extent, a new
 * data generation, an online grow) goes to the submit work, which runs the
 * same path where it may wait.
 */
static void defer_write(struct hablk_resource *res, struct bio *bio)
{
	struct bio_list one = BIO_EMPTY_LIST;

	bio_list_add(&one, bio);
	hablk_req_defer(res, &one);
}

/* Writes to submit again from the submit work (thawed ones too, quorum.c). */
void hablk_req_defer(struct hablk_resource *res, struct bio_list *bios)
{
	unsigned long flags;

	spin_lock_irqsave(&res->req.defer_lock, flags);
	bio_list_merge(&res->req.deferred, bios);
	spin_unlock_irqrestore(&res->req.defer_lock, flags);
	queue_work(res->wq, &res->req.submit_work);
}

static void submit_write(struct hablk_resource *res, struct bio *bio);

static void submit_work(struct work_struct *work)
{
	struct hablk_resource *res = container_of(work, struct hablk_resource, req.submit_work);
	struct bio_list list;
	struct bio *bio;

	spin_lock_irq(&res->req.defer_lock);
	list = res->req.deferred;
	bio_list_init(&res->req.deferred);
	spin_unlock_irq(&res->req.defer_lock);
	while ((bio = bio_list_pop(&list)))
		submit_write(res, bio);
}

/* Allocate: the request in the clone's front pad, held by the submitter. */
static struct hablk_req *write_alloc(struct hablk_resource *res, struct bio *bio)
{
	bool diskless = READ_ONCE(res->st.disk) == HABLK_DISK_DISKLESS;
	struct hablk_req *req;
	struct bio *clone;

	clone = bio_alloc_clone(res->bk.bdev, bio, GFP_NOIO, &res->req.bs);
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
	RB_CLEAR_NODE(&req->iv.rb);
	clone->bi_end_io = req_local_endio;
	hablk_obj_get(HABLK_OBJ_REQ);
	req_hold_submitter(req);
	if (diskless) {
		/* the peer's copy is the only one: its ack decides, whatever the protocol */
		__set_bit(HABLK_REQF_LOCAL_FAILED, &req->flags);
		__set_bit(HABLK_REQF_WAIT_ACK, &req->flags);
	} else if (res->cfg.protocol == 'C') {
		__set_bit(HABLK_REQF_WAIT_ACK, &req->flags);
	}
	return req;
}

/*
 * Reserve what the write needs before it may start: the online grow's gate
 * (until it holds its interval, a write uses the bitmap's arrays, which a
 * grow replaces), its extents in the intent map, its interval, and with two
 * primaries its extents' locks. -EAGAIN: it would have to block inside
 * submit_bio; nothing is held, defer it. -ENOLCK: a lock is missing; the
 * caller frees what is held and parks it.
 */
static int write_reserve(struct hablk_resource *res, struct hablk_req *req, bool can_block)
{
	int ret;

	if (can_block)
		down_read(&res->resize.sem);
	else if (!down_read_trylock(&res->resize.sem))
		return -EAGAIN;
	if (req->size && !test_bit(HABLK_REQF_LOCAL_FAILED, &req->flags)) {
		ret = hablk_intent_begin(res, req->sector, req->size >> SECTOR_SHIFT, can_block);
		if (ret == -EAGAIN) {
			up_read(&res->resize.sem);
			return ret;
		}
		if (ret)
			req->local_status = BLK_STS_IOERR;	/* cannot record the intent */
		else
			__set_bit(HABLK_REQF_INTENT, &req->flags);
	}
	if (req->size) {
		hablk_iv_lock(res, &req->iv, req->sector, req->size);
		__set_bit(HABLK_REQF_IV, &req->flags);
	}
	up_read(&res->resize.sem);
	/* two primaries: after the interval, so that a release waits for this write */
	if (hablk_lock_missing(res, req->sector, req->size))
		return -ENOLCK;
	return 0;
}

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

	if (test_bit(HABLK_REQF_WAIT_ACK, &req->flags) || req->local_status ||
	    !hablk_req_has_payload(req) || READ_ONCE(res->st.conn) != HABLK_CONN_CONNECTED)
		return;
	if (atomic_add_return(req->size, &res->req.copy_bytes) > HABLK_COPY_MAX)
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
	atomic_sub(req->size, &res->req.copy_bytes);
}

/* Routed to the peer: send it now, or leave it to the sender thread. */
static void write_to_peer(struct hablk_resource *res, struct hablk_req *req)
{
	atomic_inc(&res->req.app_inflight);
	if (req->copy) {
		/* the sender has its own copy: complete with the local disk */
		hablk_req_sent(req);
		wake_up(&res->send.wait);
	} else if (READ_ONCE(res->slots.used) > 1) {
		/*
		 * Behind writes that wait for their acks: left to the sender
		 * thread, which sends what queued meanwhile as one corked batch.
		 */
		wake_up(&res->send.wait);
	} else {
		hablk_send_kick(res);	/* alone on the link: sent now, from here */
	}
}

/* What became of a write's route. */
enum write_way {
	WRITE_TO_PEER,		/* and to the local disk, unless it has none */
	WRITE_ALONE,		/* to the local disk only */
	WRITE_FAILED,		/* nowhere: local_status says why */
	WRITE_PARK,		/* frozen, or without quorum: it waits (or fails) in quorum.c */
	WRITE_DEFER,		/* a new generation is due: not inside submit_bio */
};

/* Route: to the peer (a slot, the send queue), alone (a new generation first), or wait. */
static enum write_way write_route(struct hablk_resource *res, struct hablk_req *req,
				  bool can_block)
{
	bool net = false;

	if (req->local_status)
		return WRITE_FAILED;
	while (!hablk_req_route(res, req, &net))
		wait_event(res->slots.wait, (!READ_ONCE(res->st.exchanging) &&
					     READ_ONCE(res->slots.used) < HABLK_SLOTS) ||
			   atomic_read(&res->conn.failed));
	if (net)
		return WRITE_TO_PEER;
	if (test_bit(HABLK_REQF_LOCAL_FAILED, &req->flags)) {
		req->local_status = BLK_STS_IOERR;	/* no disk here, no peer there */
		return WRITE_FAILED;
	}
	/* frozen (the link just failed) or without quorum: it must not go alone */
	if (hablk_quorum_parks(res))
		return WRITE_PARK;
	if (!can_block && !READ_ONCE(res->st.solo_ready))
		return WRITE_DEFER;
	if (hablk_state_write_alone(res)) {
		req->local_status = BLK_STS_IOERR;	/* cannot record it: fail it */
		return WRITE_FAILED;
	}
	hablk_bm_set(res, req->sector, req->size >> SECTOR_SHIFT);
	return WRITE_ALONE;
}

/* Free a write that never started, without completing its bio. */
static void write_undo(struct hablk_req *req)
{
	req->master = NULL;
	req_drop(req);
}

static void submit_write(struct hablk_resource *res, struct bio *bio)
{
	bool can_block = !current->bio_list;
	struct hablk_req *req;

	if (!hablk_state_may_write(res)) {
		bio_io_error(bio);
		return;
	}
	if (hablk_quorum_gate(res, bio))
		return;		/* frozen, or failed for want of quorum */
	req = write_alloc(res, bio);
	switch (write_reserve(res, req, can_block)) {
	case 0:
		break;
	case -ENOLCK:
		write_undo(req);
		/* until hablkd grants the lock; held meanwhile: try again */
		if (!hablk_lock_park(res, bio))
			defer_write(res, bio);
		return;
	default:
		write_undo(req);
		defer_write(res, bio);
		return;
	}
	copy_for_peer(res, req, bio);
	switch (write_route(res, req, can_block)) {
	case WRITE_TO_PEER:
		write_to_peer(res, req);
		break;
	case WRITE_PARK:
		write_undo(req);
		/* waits in frozen_bios for the thaw (or fails, without quorum under io-error) */
		if (!hablk_quorum_gate(res, bio))
			defer_write(res, bio);	/* thawed meanwhile */
		return;
	case WRITE_DEFER:
		write_undo(req);
		defer_write(res, bio);
		return;
	case WRITE_ALONE:
	case WRITE_FAILED:
		break;
	}
	req->start_time = bio_start_io_acct(bio);
	if (!req->local_status && !test_bit(HABLK_REQF_LOCAL_FAILED, &req->flags)) {
		req_hold_local(req);
		submit_bio_noacct(&req->clone);
	}
	req_drop(req);
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
