// SPDX-License-Identifier: GPL-2.0
/*
 * Sending: a write alone on the link goes to the data stream from the
 * submitter's context; others from the sender thread, corked with MSG_MORE
 * while more are queued; the secondary's acks go on the meta
 * stream, from the receiver or the ack work, corked while more are coming.
 */
#include <linux/crc32.h>
#include <linux/highmem.h>
#include <linux/slab.h>
#include <net/tcp.h>
#include "hablk.h"

static unsigned int hablk_fault_bad_ack;
module_param_named(fault_bad_ack, hablk_fault_bad_ack, uint, 0644);
MODULE_PARM_DESC(fault_bad_ack,
		 "fault injection for tests: every Nth ack sent names a request the peer never sent (0: off)");

int hablk_send_init(struct hablk_resource *res)
{
	struct hablk_sender *s = &res->send;

	spin_lock_init(&s->lock);
	INIT_LIST_HEAD(&s->queue);
	init_waitqueue_head(&s->wait);
	mutex_init(&s->mutex);
	mutex_init(&s->data_mutex);
	mutex_init(&s->meta_mutex);
	s->tx_hdr = kmalloc(HABLK_TX_HDR_SIZE, GFP_KERNEL);
	return s->tx_hdr ? 0 : -ENOMEM;
}

void hablk_send_exit(struct hablk_resource *res)
{
	kfree(res->send.tx_hdr);
}

/* Caller holds st.lock and slots.lock (the queue and the connection state agree). */
void hablk_send_queue_add(struct hablk_resource *res, struct hablk_req *req)
{
	hablk_flush_queued(res, req);
	spin_lock(&res->send.lock);
	list_add_tail(&req->send_list, &res->send.queue);
	spin_unlock(&res->send.lock);
}

/* After the sender stopped: drop its hold on requests it never took. */
void hablk_send_queue_drop(struct hablk_resource *res)
{
	struct hablk_req *req, *tmp;
	LIST_HEAD(list);

	spin_lock_irq(&res->send.lock);
	list_splice_init(&res->send.queue, &list);
	spin_unlock_irq(&res->send.lock);
	list_for_each_entry_safe(req, tmp, &list, send_list) {
		list_del_init(&req->send_list);
		hablk_req_put(req);
	}
}

/*
 * A data packet whose payload is a bio: the header, the CRC and the first
 * segment go in one call into TCP (a 4 KiB write is one sendmsg, not two).
 * The header goes by page too, from res->send.tx_hdr (kmalloc'd: it never
 * straddles a page); the caller holds data_send_mutex, and TCP has copied it
 * when sendmsg returns. The other segments go zero-copy, up to
 * HABLK_SEND_BATCH at a time and all but the last corked: the bio's pages
 * stay unchanged until the peer acks it (the caller makes sure).
 */
static int send_data_bio(struct hablk_resource *res, unsigned int type,
			 const struct hablk_p_data *d, const __be32 *crc, struct bio *bio,
			 u32 size, int flags)
{
	u8 *hdr = res->send.tx_hdr;
	u32 n = sizeof(struct hablk_hdr) + sizeof(*d);
	struct bvec_iter iter = bio->bi_iter;
	struct bio_vec bv[HABLK_SEND_BATCH];
	unsigned int nr;
	int ret, seg_flags;
	bool zc;

	BUILD_BUG_ON(sizeof(struct hablk_hdr) + sizeof(*d) + sizeof(*crc) > HABLK_TX_HDR_SIZE);
	hablk_hdr_encode((struct hablk_hdr *)hdr, type, sizeof(*d) + (crc ? sizeof(*crc) : 0) + size);
	memcpy(hdr + sizeof(struct hablk_hdr), d, sizeof(*d));
	if (crc) {
		memcpy(hdr + n, crc, sizeof(*crc));
		n += sizeof(*crc);
	}
	bv[0].bv_page = virt_to_page(hdr);
	bv[0].bv_offset = offset_in_page(hdr);
	bv[0].bv_len = n;
	bv[1] = bio_iter_iovec(bio, iter);
	bio_advance_iter_single(bio, &iter, bv[1].bv_len);
	ret = hablk_socket_send_bvecs(res->conn.data_sock, bv, 2, iter.bi_size ? MSG_MORE : flags);
	while (!ret && iter.bi_size) {
		/* a run of pages that are all zero-copy safe, or one that is not (slab) */
		bv[0] = bio_iter_iovec(bio, iter);
		bio_advance_iter_single(bio, &iter, bv[0].bv_len);
		zc = sendpage_ok(bv[0].bv_page);
		for (nr = 1; zc && nr < HABLK_SEND_BATCH && iter.bi_size; nr++) {
			bv[nr] = bio_iter_iovec(bio, iter);
			if (!sendpage_ok(bv[nr].bv_page))
				break;
			bio_advance_iter_single(bio, &iter, bv[nr].bv_len);
		}
		seg_flags = iter.bi_size ? MSG_MORE : flags;
		ret = zc ? hablk_socket_send_pages(res->conn.data_sock, bv, nr, seg_flags) :
			hablk_socket_send_bvecs(res->conn.data_sock, bv, nr, seg_flags);
	}
	return ret;
}

/* A verify chunk: the digests sit in its first page (verify.c). */
static int send_verify(struct hablk_resource *res, struct hablk_req *req, bool more)
{
	struct hablk_p_verify v = {
		.id = cpu_to_be64(req->id),
		.sector = cpu_to_be64(req->sector),
		.size = cpu_to_be32(req->size),
	};
	u32 n = req->size / 4096 * 4;
	int ret;

	set_bit(HABLK_REQF_SENDING, &req->flags);
	mutex_lock(&res->send.data_mutex);
	ret = res->conn.data_sock ? hablk_socket_send_pkt(res->conn.data_sock, HABLK_P_VERIFY_REQ, &v, sizeof(v),
					      n, MSG_MORE) : -ENOTCONN;
	if (!ret)
		ret = hablk_socket_send(res->conn.data_sock, page_address(req->clone.bi_io_vec[0].bv_page),
				      n, more ? MSG_MORE : 0);
	mutex_unlock(&res->send.data_mutex);
	return ret;
}

/* CRC-32 of a bio's data, as the peer computes it over what it received. */
static __be32 bio_crc(struct bio *bio)
{
	struct bvec_iter iter;
	struct bio_vec bv;
	u32 crc = ~0U;
	void *p;

	bio_for_each_segment(bv, bio, iter) {
		p = bvec_kmap_local(&bv);
		crc = crc32_le(crc, p, bv.bv_len);
		kunmap_local(p);
	}
	return cpu_to_be32(~crc);
}

static int send_req(struct hablk_resource *res, struct hablk_req *req, bool more)
{
	struct hablk_p_data d;
	bool payload = hablk_req_has_payload(req);
	int flags = more ? MSG_MORE : 0;
	__be32 crc = 0;
	struct bio *data;
	unsigned int type;
	bool csum;
	int ret;

	if (req->kind == HABLK_REQ_VERIFY)
		return send_verify(res, req, more);
	if (req->kind == HABLK_REQ_READ) {
		d.id = cpu_to_be64(req->id);
		d.sector = cpu_to_be64(req->sector);
		d.size = cpu_to_be32(req->size);
		d.flags = 0;
		set_bit(HABLK_REQF_SENDING, &req->flags);
		mutex_lock(&res->send.data_mutex);
		ret = res->conn.data_sock ? hablk_socket_send_pkt(res->conn.data_sock, HABLK_P_READ_REQ, &d, sizeof(d),
						      0, flags) : -ENOTCONN;
		mutex_unlock(&res->send.data_mutex);
		return ret;
	}
	/* protocol A's copy: the application's bio may be completed already */
	data = req->kind == HABLK_REQ_SYNC ? &req->clone : req->copy ? NULL : req->master;
	csum = payload && res->cfg.data_integrity;
	d.id = cpu_to_be64(req->id);
	d.sector = cpu_to_be64(req->sector);
	d.size = cpu_to_be32(req->size);
	d.flags = cpu_to_be32(req->wire_flags | (csum ? HABLK_WF_CSUM : 0));
	if (csum)
		crc = data ? bio_crc(data) : cpu_to_be32(~crc32_le(~0U, req->copy, req->size));
	set_bit(HABLK_REQF_SENDING, &req->flags);
	mutex_lock(&res->send.data_mutex);
	if (!res->conn.data_sock) {		/* torn down under an inline sender */
		mutex_unlock(&res->send.data_mutex);
		return -ENOTCONN;
	}
	type = req->kind == HABLK_REQ_SYNC ? HABLK_P_SYNC_DATA : HABLK_P_DATA;
	if (payload && data) {
		ret = send_data_bio(res, type, &d, csum ? &crc : NULL, data, req->size, flags);
	} else {
		ret = hablk_socket_send_pkt(res->conn.data_sock, type, &d, sizeof(d),
				     payload ? req->size + (csum ? 4 : 0) : 0,
				     payload ? MSG_MORE : flags);
		if (!ret && csum)
			ret = hablk_socket_send(res->conn.data_sock, &crc, sizeof(crc), MSG_MORE);
		if (!ret && payload)
			ret = hablk_socket_send(res->conn.data_sock, req->copy, req->size, flags);
	}
	mutex_unlock(&res->send.data_mutex);
	return ret;
}

/*
 * Send everything queued, in order; only one caller at a time (send_mutex).
 * Returns when the queue is empty.
 */
static void send_queued(struct hablk_resource *res)
{
	struct hablk_req *req, *tmp;
	LIST_HEAD(batch);
	int ret;

	for (;;) {
		spin_lock_irq(&res->send.lock);
		list_splice_init(&res->send.queue, &batch);
		spin_unlock_irq(&res->send.lock);
		if (list_empty(&batch))
			return;
		list_for_each_entry_safe(req, tmp, &batch, send_list) {
			list_del_init(&req->send_list);
			if (!atomic_read(&res->conn.failed)) {
				ret = send_req(res, req, !list_empty(&batch));
				if (ret)
					hablk_conn_fail(res, "sending failed");
			}
			/* sent, or given up: either way the sender is done with it */
			hablk_req_sent(req);
			hablk_req_put(req);
		}
	}
}

/*
 * A write was queued: send it from the submitter's context if no one else
 * is sending (no hand-off to the sender thread, the lowest latency), else
 * leave it to the sender thread.
 */
void hablk_send_kick(struct hablk_resource *res)
{
	if (!in_task() || !mutex_trylock(&res->send.mutex)) {
		wake_up(&res->send.wait);	/* the holder may have drained the queue already */
		return;
	}
	send_queued(res);
	mutex_unlock(&res->send.mutex);
}

/*
 * The sender thread runs below the submitters' priority. Woken at nice 0
 * on a busy CPU, it would preempt the submitter at every write and send
 * each alone (a TCP push and a NIC kick apiece); below it, the submitters
 * queue until they block and it sends the lot corked. Measured on one
 * vCPU: QD16 writes x1.3-2.0, QD1 unchanged (docs/performance.md).
 */
#define HABLK_SENDER_NICE 5

int hablk_sender_fn(void *arg)
{
	struct hablk_resource *res = arg;

	set_user_nice(current, HABLK_SENDER_NICE);
	while (!kthread_should_stop()) {
		wait_event_interruptible(res->send.wait, kthread_should_stop() ||
					 !list_empty_careful(&res->send.queue));
		mutex_lock(&res->send.mutex);
		send_queued(res);
		mutex_unlock(&res->send.mutex);
	}
	return 0;
}

/* Tell the peer our role, disk state and generations. */
int hablk_send_state(struct hablk_resource *res)
{
	struct hablk_p_state st = {};

	spin_lock_irq(&res->st.lock);
	st.size_sectors = cpu_to_be64(res->md.data_sectors);
	st.current_uuid = cpu_to_be64(res->st.gen.current_uuid);
	st.bitmap_uuid = cpu_to_be64(res->st.gen.bitmap_uuid);
	st.history_uuid = cpu_to_be64(res->st.gen.history_uuid);
	st.role = res->st.role;
	st.disk = res->st.disk;
	st.dirty = res->st.gen.dirty;
	st.discard = res->st.discard_my_data;
	st.after_sb = res->cfg.after_sb;
	st.bm_shift = res->bm.nbits ? res->bm.shift + SECTOR_SHIFT : 0;
	st.lost_writes = res->st.lost_peer_writes;
	st.lock_shift = hablk_lock_shift(res);
	st.primary_since = cpu_to_be64(res->st.primary_since);
	st.sync_uuid = cpu_to_be64(res->st.gen.consistent ? 0 : res->st.gen.sync_uuid);
	spin_unlock_irq(&res->st.lock);
	st.changes = cpu_to_be64(hablk_bm_weight(res));
	return hablk_send_data_pkt(res, HABLK_P_STATE, &st, sizeof(st));
}

/* A small packet on the data stream, between whole requests. */
int hablk_send_data_pkt(struct hablk_resource *res, unsigned int type, const void *body,
			u32 len)
{
	int ret;

	mutex_lock(&res->send.data_mutex);
	ret = res->conn.data_sock ? hablk_socket_send_pkt(res->conn.data_sock, type, body, len, 0, 0) :
			       -ENOTCONN;
	mutex_unlock(&res->send.data_mutex);
	return ret;
}

/* A packet with a body and a payload from kernel memory, on the data stream. */
int hablk_send_data_pkt_extra(struct hablk_resource *res, unsigned int type,
			      const void *body, u32 len, const void *extra, u32 extra_len)
{
	int ret;

	mutex_lock(&res->send.data_mutex);
	ret = res->conn.data_sock ? hablk_socket_send_pkt(res->conn.data_sock, type, body, len, extra_len,
					      MSG_MORE) : -ENOTCONN;
	if (!ret)
		ret = hablk_socket_send(res->conn.data_sock, extra, extra_len, 0);
	mutex_unlock(&res->send.data_mutex);
	return ret;
}

/* Send on the meta stream (acks, pings, replies). */
int hablk_send_meta(struct hablk_resource *res, unsigned int type, const void *body,
		    u32 len, int flags)
{
	int ret;

	mutex_lock(&res->send.meta_mutex);
	ret = res->conn.meta_sock ? hablk_socket_send_pkt(res->conn.meta_sock, type, body, len, 0, flags) :
			       -ENOTCONN;
	mutex_unlock(&res->send.meta_mutex);
	return ret;
}

/* fault_bad_ack: should this ack name the wrong request? */
static bool fault_bad_ack(void)
{
	static atomic_t nth = ATOMIC_INIT(0);
	unsigned int every = READ_ONCE(hablk_fault_bad_ack);

	return every && !(atomic_inc_return(&nth) % every);
}

/*
 * Send the acks of completed peer writes, corked, then free the writes.
 * @more: more data from the peer is waiting to be received (the receiver
 * acks inline): the last ack stays corked too, and hablk_ack_push() sends
 * it once the receiver has nothing more to read, so a burst of writes gets
 * its acks in one packet rather than one each.
 */
static void ack_send(struct hablk_resource *res, bool more)
{
	struct hablk_peer_req *preq, *tmp;
	struct hablk_p_ack a = {};
	LIST_HEAD(list);
	bool failed = false;

	spin_lock_irq(&res->rx.ack_lock);
	list_splice_init(&res->rx.ack_queue, &list);
	spin_unlock_irq(&res->rx.ack_lock);
	list_for_each_entry_safe(preq, tmp, &list, ack_list) {
		list_del(&preq->ack_list);
		if (preq->is_read) {	/* a read for a diskless primary: data stream */
			if (!failed && hablk_read_send_reply(res, preq))
				failed = true;
			hablk_peer_req_free(preq);
			continue;
		}
		a.id = cpu_to_be64(fault_bad_ack() ? preq->id ^ BIT_ULL(63) : preq->id);
		a.status = cpu_to_be32(-preq->status);
		a.is_sync = preq->is_sync;
		if (!failed && hablk_send_meta(res, HABLK_P_ACK, &a, sizeof(a),
					       list_empty(&list) && !more ? 0 : MSG_MORE))
			failed = true;
		else if (list_empty(&list) && more)
			WRITE_ONCE(res->rx.acks_held, true);
		hablk_peer_req_free(preq);
	}
	if (failed)
		hablk_conn_fail(res, "sending acks failed");
}

void hablk_ack_work(struct work_struct *work)
{
	ack_send(container_of(work, struct hablk_resource, rx.ack_work), false);
}

/* From the receiver, which completed peer writes itself. */
void hablk_ack_inline(struct hablk_resource *res)
{
	ack_send(res, hablk_data_pending(res));
}

/* The receiver is about to wait for data: send the acks it held back. */
void hablk_ack_push(struct hablk_resource *res)
{
	if (!READ_ONCE(res->rx.acks_held))
		return;
	WRITE_ONCE(res->rx.acks_held, false);
	mutex_lock(&res->send.meta_mutex);
	if (res->conn.meta_sock)
		tcp_sock_set_cork(res->conn.meta_sock->sk, false);	/* pushes what is queued */
	mutex_unlock(&res->send.meta_mutex);
}
