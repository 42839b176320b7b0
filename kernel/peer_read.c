// SPDX-License-Identifier: GPL-2.0
/*
 * Reads served by the peer, for a primary whose disk failed (detached,
 * diskless) or returned a read error; and the peer's side that answers them.
 */
#include <linux/highmem.h>
#include <linux/slab.h>
#include "hablk.h"

static void retry_work(struct work_struct *work);

void hablk_peer_read_init(struct hablk_resource *res)
{
	spin_lock_init(&res->pread.lock);
	INIT_LIST_HEAD(&res->pread.retry);
	INIT_WORK(&res->pread.retry_work, retry_work);
}

/* A read that failed locally (any context): read it from the peer instead. */
void hablk_read_retry(struct hablk_resource *res, struct hablk_req *req)
{
	unsigned long flags;

	spin_lock_irqsave(&res->pread.lock, flags);
	list_add_tail(&req->send_list, &res->pread.retry);
	spin_unlock_irqrestore(&res->pread.lock, flags);
	queue_work(res->wq, &res->pread.retry_work);
}

/* Can reads and writes go to the peer instead of the local disk? */
bool hablk_peer_can_serve(struct hablk_resource *res)
{
	return READ_ONCE(res->st.conn) == HABLK_CONN_CONNECTED &&
	       !atomic_read(&res->conn.failed) &&
	       READ_ONCE(res->st.peer_disk) == HABLK_DISK_UPTODATE;
}

/* Send the read @req (its master bio) to the peer; fails the bio if it cannot. */
void hablk_read_from_peer(struct hablk_resource *res, struct hablk_req *req)
{
	req->kind = HABLK_REQ_READ;
	req->flags = 0;
	req->sector = req->master->bi_iter.bi_sector;
	req->size = req->master->bi_iter.bi_size;
	req->wire_flags = 0;
	req->local_status = BLK_STS_OK;
	INIT_LIST_HEAD(&req->send_list);
	atomic_set(&req->ref, 2);		/* the reply (or cancel), and the sender */
	atomic_set(&req->complete_pending, 2);	/* never reaches 0: hablk_read_done completes */
	if (!hablk_peer_can_serve(res) || hablk_req_queue_net(res, req)) {
		atomic_set(&req->ref, 1);
		req->local_status = BLK_STS_IOERR;
		hablk_read_done(req, -ENOTCONN);
	}
}

/* A read the peer answered (status 0: its data is in the master bio), or gave up. */
void hablk_read_done(struct hablk_req *req, int status)
{
	struct bio *master = req->master;

	master->bi_status = status ? BLK_STS_IOERR : BLK_STS_OK;
	bio_end_io_acct(master, req->start_time);
	req->master = NULL;
	bio_endio(master);
	hablk_req_put(req);
}

/* Read errors are retried through the peer from here (endio is atomic context). */
static void retry_work(struct work_struct *work)
{
	struct hablk_resource *res = container_of(work, struct hablk_resource, pread.retry_work);
	struct hablk_req *req, *tmp;
	LIST_HEAD(list);

	spin_lock_irq(&res->pread.lock);
	list_splice_init(&res->pread.retry, &list);
	spin_unlock_irq(&res->pread.lock);
	list_for_each_entry_safe(req, tmp, &list, send_list) {
		list_del_init(&req->send_list);
		hablk_read_from_peer(res, req);
	}
}

/* Primary: the peer's READ_REPLY for a read we sent; its data lands in the bio. */
int hablk_read_reply(struct hablk_resource *res, u32 len)
{
	struct hablk_p_data d;
	struct hablk_req *req;
	struct bvec_iter iter;
	struct bio_vec bv;
	u32 status;
	void *p;
	int ret;

	ret = hablk_data_recv(res, &d, sizeof(d));
	if (ret)
		return ret;
	req = hablk_slot_take(res, be64_to_cpu(d.id));
	if (!req)
		return -EPROTO;
	if (req->kind != HABLK_REQ_READ) {
		hablk_req_give_up(res, req);
		return -EPROTO;
	}
	status = be32_to_cpu(d.flags);
	if (be32_to_cpu(d.size) != req->size ||
	    be64_to_cpu(d.sector) != req->sector || status > MAX_ERRNO ||
	    len - sizeof(d) != (status ? 0 : req->size)) {
		hablk_read_done(req, -EIO);
		return -EPROTO;
	}
	if (!status) {
		bio_for_each_segment(bv, req->master, iter) {
			p = bvec_kmap_local(&bv);
			ret = hablk_data_recv(res, p, bv.bv_len);
			kunmap_local(p);
			if (ret)
				break;
		}
	}
	hablk_read_done(req, ret ? ret : -(int)status);
	return ret;
}

/* Secondary: read what the primary asks for; the ack work sends the data back. */
int hablk_read_serve(struct hablk_resource *res, u32 len)
{
	struct hablk_peer_req *preq;
	struct hablk_p_data d;
	struct bio *bio;
	u32 size;
	int ret;

	if (len != sizeof(d))
		return -EPROTO;
	ret = hablk_data_recv(res, &d, sizeof(d));
	if (ret)
		return ret;
	size = be32_to_cpu(d.size);
	if (d.flags || !size || size > HABLK_MAX_DATA || (size & 511) ||
	    be64_to_cpu(d.sector) > res->dev.size_sectors ||
	    (size >> SECTOR_SHIFT) > res->dev.size_sectors - be64_to_cpu(d.sector) ||
	    READ_ONCE(res->st.peer_role) != HABLK_ROLE_PRIMARY)
		return -EPROTO;
	preq = hablk_peer_req_alloc(res, DIV_ROUND_UP(size, PAGE_SIZE), REQ_OP_READ, &d);
	preq->is_read = true;
	bio = &preq->bio;
	if (hablk_pool_add_pages(res, bio, size, GFP_NOIO)) {
		hablk_peer_req_free(preq);
		return -ENOMEM;
	}
	atomic_inc(&res->rx.inflight);
	if (READ_ONCE(res->st.disk) != HABLK_DISK_UPTODATE) {
		bio->bi_status = BLK_STS_IOERR;	/* ours failed too: say so */
		hablk_peer_endio(bio);
	} else {
		submit_bio(bio);
	}
	return 0;
}

/* The ack work's part: send a served read back on the data stream. */
int hablk_read_send_reply(struct hablk_resource *res, struct hablk_peer_req *preq)
{
	struct hablk_p_data d;
	struct bio_vec *bv;
	struct bvec_iter_all it;
	u32 size = preq->bio.bi_iter.bi_size;
	int ret;

	/* a completed bio's iterator is consumed: the size is the sum of its pages */
	size = 0;
	bio_for_each_segment_all(bv, &preq->bio, it)
		size += bv->bv_len;
	d.id = cpu_to_be64(preq->id);
	d.sector = cpu_to_be64(preq->sector);
	d.size = cpu_to_be32(size);
	d.flags = cpu_to_be32(-preq->status);
	mutex_lock(&res->send.data_mutex);
	ret = res->conn.data_sock ? hablk_socket_send_pkt(res->conn.data_sock, HABLK_P_READ_REPLY, &d, sizeof(d),
					      preq->status ? 0 : size,
					      preq->status ? 0 : MSG_MORE) : -ENOTCONN;
	if (!ret && !preq->status) {
		bio_for_each_segment_all(bv, &preq->bio, it) {
			ret = hablk_socket_send_bvecs(res->conn.data_sock, bv, 1, 0);
			if (ret)
				break;
		}
	}
	mutex_unlock(&res->send.data_mutex);
	return ret;
}
