// SPDX-License-Identifier: GPL-2.0
/*
 * Receiving the data stream's packets (writes, sync, state, role requests,
 * reads) on the connection thread; the meta stream is meta.c's. Every packet
 * is validated before it is acted on.
 */
#include <linux/crc32.h>
#include <linux/moduleparam.h>
#include <linux/slab.h>
#include <net/sock.h>
#include <net/tcp.h>
#include "hablk.h"

static unsigned int hablk_fault_corrupt_rx;
module_param_named(fault_corrupt_rx, hablk_fault_corrupt_rx, uint, 0644);
MODULE_PARM_DESC(fault_corrupt_rx,
		 "fault injection for tests: flip a bit in every Nth checksummed data packet received (0: off)");

static void queue_ack(struct hablk_peer_req *preq);

int hablk_rx_init(struct hablk_resource *res)
{
	BUILD_BUG_ON(sizeof(struct hablk_peer_req) > 192);	/* docs/performance.md, "Memory" */
	init_waitqueue_head(&res->rx.wait);
	spin_lock_init(&res->rx.ack_lock);
	INIT_LIST_HEAD(&res->rx.ack_queue);
	INIT_WORK(&res->rx.ack_work, hablk_ack_work);
	return bioset_init(&res->rx.bs, 64, offsetof(struct hablk_peer_req, bio),
			   BIOSET_NEED_BVECS);
}

void hablk_rx_exit(struct hablk_resource *res)
{
	bioset_exit(&res->rx.bs);
}

void hablk_peer_endio(struct bio *bio)
{
	struct hablk_peer_req *preq = container_of(bio, struct hablk_peer_req, bio);
	struct hablk_resource *res = preq->res;

	preq->status = blk_status_to_errno(bio->bi_status);
	if (preq->status && READ_ONCE(res->st.disk) != HABLK_DISK_DISKLESS)
		hablk_backing_failed(res);
	if (preq->status)
		pr_err_ratelimited("%s: I/O for the peer failed: %d at sector %llu\n",
				   res->cfg.name, preq->status,
				   (unsigned long long)preq->sector);
	queue_ack(preq);
}

/* Queue the ack (or read reply) of a finished peer request for the ack work. */
static void queue_ack(struct hablk_peer_req *preq)
{
	struct hablk_resource *res = preq->res;
	unsigned long flags;

	spin_lock_irqsave(&res->rx.ack_lock, flags);
	list_add_tail(&preq->ack_list, &res->rx.ack_queue);
	spin_unlock_irqrestore(&res->rx.ack_lock, flags);
	/*
	 * A synchronous disk (brd) completed it in the receiver itself, not in
	 * an interrupt that happens to run on top of it: ack now, no hand-off.
	 */
	if (in_task() && current == READ_ONCE(res->conn.thread))
		hablk_ack_inline(res);
	else
		queue_work(res->wq, &res->rx.ack_work);
	/* only after the work is queued: teardown waits for this count, then flushes */
	atomic_dec(&res->rx.inflight);
	wake_up(&res->rx.wait);
}

/* A request from the peer: its bio, with room for @nr_pages pages, ends in hablk_peer_endio. */
struct hablk_peer_req *hablk_peer_req_alloc(struct hablk_resource *res, unsigned int nr_pages,
					    blk_opf_t opf, const struct hablk_p_data *d)
{
	struct bio *bio = bio_alloc_bioset(res->bk.bdev, nr_pages, opf, GFP_NOIO, &res->rx.bs);
	struct hablk_peer_req *preq = container_of(bio, struct hablk_peer_req, bio);

	preq->res = res;
	preq->id = be64_to_cpu(d->id);
	preq->sector = be64_to_cpu(d->sector);
	preq->is_sync = false;
	preq->is_read = false;
	preq->status = 0;
	hablk_obj_get(HABLK_OBJ_PEER_REQ);
	bio->bi_iter.bi_sector = preq->sector;
	bio->bi_end_io = hablk_peer_endio;
	return preq;
}

void hablk_peer_req_free(struct hablk_peer_req *preq)
{
	hablk_pool_put_pages(preq->res, &preq->bio);
	bio_put(&preq->bio);
	hablk_obj_put(HABLK_OBJ_PEER_REQ);
}

static blk_opf_t wire_to_opf(struct hablk_resource *res, u32 f)
{
	blk_opf_t opf = REQ_OP_WRITE;

	if (f & HABLK_WF_DISCARD)
		opf = REQ_OP_DISCARD;
	if (f & HABLK_WF_ZEROES)
		opf = REQ_OP_WRITE_ZEROES | (f & HABLK_WF_NOUNMAP ? REQ_NOUNMAP : 0);
	if (f & HABLK_WF_PREFLUSH)
		opf |= REQ_PREFLUSH;
	if (f & HABLK_WF_FUA)
		opf |= REQ_FUA;
	return opf | REQ_SYNC;
}

/*
 * Move the unread bytes buf[*head..*tail) to the front, then read what the
 * socket has after them (at least one byte, or until sk_rcvtimeo): the
 * bytes read, or an error (-ECONNRESET at EOF).
 */
static int rx_fill(struct socket *sock, u8 *buf, u32 size, u32 *head, u32 *tail)
{
	struct msghdr msg = { .msg_flags = MSG_NOSIGNAL };
	struct kvec kv;
	int ret;

	if (*head) {
		memmove(buf, buf + *head, *tail - *head);
		*tail -= *head;
		*head = 0;
	}
	kv.iov_base = buf + *tail;
	kv.iov_len = size - *tail;
	iov_iter_kvec(&msg.msg_iter, ITER_DEST, &kv, 1, kv.iov_len);
	ret = sock_recvmsg(sock, &msg, MSG_NOSIGNAL);
	if (ret > 0)
		*tail += ret;
	return ret ? ret : -ECONNRESET;
}

/*
 * The data stream is read through a small buffer: the receive that waits for
 * a packet's header takes whatever else has arrived, up to HABLK_RX_BUF_SIZE
 * bytes, so a data packet's body (and CRC, and the start of its payload)
 * comes with it: two receives per write instead of three or four. Every read
 * of the data stream, once the receive loop runs, goes through these.
 */
/* Fill @msg's iterator: first from the buffer, then straight from the socket. */
static int data_recv_msg(struct hablk_resource *res, struct msghdr *msg)
{
	u32 n = min_t(u32, res->rx.tail - res->rx.head, msg_data_left(msg));

	res->rx.head += copy_to_iter(res->rx.buf + res->rx.head, n, &msg->msg_iter);
	return msg_data_left(msg) ? hablk_socket_recv_msg(res->conn.data_sock, msg) : 0;
}

int hablk_data_recv(struct hablk_resource *res, void *buf, u32 len)
{
	struct kvec kv = { .iov_base = buf, .iov_len = len };
	struct msghdr msg = { .msg_flags = MSG_NOSIGNAL };

	iov_iter_kvec(&msg.msg_iter, ITER_DEST, &kv, 1, len);
	return data_recv_msg(res, &msg);
}

/* Has the peer sent more than we have read: in the socket, or read ahead? */
bool hablk_data_pending(struct hablk_resource *res)
{
	return res->rx.head != res->rx.tail || tcp_inq(res->conn.data_sock->sk);
}

/* The next packet's header: wait for it, and read ahead what came with it. */
static int data_recv_hdr(struct hablk_resource *res, struct hablk_hdr *h)
{
	int ret;

	while (res->rx.tail - res->rx.head < sizeof(*h)) {
		ret = rx_fill(res->conn.data_sock, res->rx.buf, HABLK_RX_BUF_SIZE,
			      &res->rx.head, &res->rx.tail);
		if (ret < 0)
			return ret;
	}
	memcpy(h, res->rx.buf + res->rx.head, sizeof(*h));
	res->rx.head += sizeof(*h);
	return 0;
}

/* Read the payload into fresh pages of @bio: what is buffered, then one receive. */
static int recv_pages(struct hablk_resource *res, struct bio *bio, u32 len)
{
	struct msghdr msg = { .msg_flags = MSG_NOSIGNAL };

	if (hablk_pool_add_pages(res, bio, len, GFP_NOIO))
		return -ENOMEM;
	iov_iter_bvec(&msg.msg_iter, ITER_DEST, bio->bi_io_vec, bio->bi_vcnt, len);
	return data_recv_msg(res, &msg);
}

/* Does the received data match the sender's CRC-32? (With the test fault injection.) */
static bool csum_ok(struct hablk_resource *res, struct bio *bio, __be32 want)
{
	static atomic_t nth = ATOMIC_INIT(0);
	struct bio_vec *bv;
	struct bvec_iter_all it;
	u32 crc = ~0U;
	unsigned int every = READ_ONCE(hablk_fault_corrupt_rx);

	if (every && !(atomic_inc_return(&nth) % every))
		((u8 *)page_address(bio_first_page_all(bio)))[0] ^= 1;
	bio_for_each_segment_all(bv, bio, it)
		crc = crc32_le(crc, page_address(bv->bv_page) + bv->bv_offset, bv->bv_len);
	return cpu_to_be32(~crc) == want;
}

/*
 * May the peer send us this write (or sync chunk) now? Never into an extent
 * this node holds (two primaries): the peer does not hold it, so the write
 * is refused, not applied.
 */
static bool may_receive_write(struct hablk_resource *res, const struct hablk_p_data *d,
			      bool is_sync)
{
	int ret;

	hablk_state_lock(res);
	ret = hablk_state_allows(res, is_sync ? HABLK_OP_PEER_SYNC : HABLK_OP_PEER_WRITE, 0, NULL);
	hablk_state_unlock(res, NULL);
	if (ret)
		return false;
	if (is_sync || hablk_lock_peer_may_write(res, be64_to_cpu(d->sector), be32_to_cpu(d->size)))
		return true;
	pr_warn_ratelimited("%s: the peer wrote at sector %llu, in an extent this node holds: refused\n",
			    res->cfg.name, (unsigned long long)be64_to_cpu(d->sector));
	return false;
}

static int recv_write(struct hablk_resource *res, u32 len, bool is_sync)
{
	struct hablk_peer_req *preq;
	struct hablk_p_data d;
	struct bio *bio;
	u32 size, flags, payload = len - sizeof(d);
	bool emulate;
	__be32 crc;
	int ret = 0;

	ret = hablk_data_recv(res, &d, sizeof(d));
	if (ret)
		return ret;
	if (hablk_data_check(&d, len, res->dev.size_sectors) || !may_receive_write(res, &d, is_sync))
		return -EPROTO;
	size = be32_to_cpu(d.size);
	flags = be32_to_cpu(d.flags);
	preq = hablk_peer_req_alloc(res, DIV_ROUND_UP(payload, PAGE_SIZE),
				    wire_to_opf(res, flags), &d);
	preq->is_sync = is_sync;
	bio = &preq->bio;
	if (flags & HABLK_WF_CSUM) {
		ret = hablk_data_recv(res, &crc, sizeof(crc));
		payload -= sizeof(crc);
	}
	if (!ret)
		ret = recv_pages(res, bio, payload);
	if (ret) {
		hablk_peer_req_free(preq);
		return ret;
	}
	if ((flags & HABLK_WF_CSUM) && !csum_ok(res, bio, crc)) {
		/* corrupted on the way: not written; the primary sends it again */
		pr_warn_ratelimited("%s: data-integrity: checksum mismatch at sector %llu, asking again\n",
				    res->cfg.name, (unsigned long long)preq->sector);
		preq->status = -EBADMSG;
		atomic_inc(&res->rx.inflight);
		queue_ack(preq);
		return 0;
	}
	/* a disk without discard or write-zeroes gets explicit zeroes */
	emulate = ((flags & HABLK_WF_DISCARD) && !bdev_max_discard_sectors(res->bk.bdev)) ||
		  ((flags & HABLK_WF_ZEROES) && !bdev_write_zeroes_sectors(res->bk.bdev));
	if (flags & (HABLK_WF_DISCARD | HABLK_WF_ZEROES))
		bio->bi_iter.bi_size = size;

	/* acked peer writes may sit in our cache: recorded on disk first */
	ret = is_sync ? 0 : hablk_flush_first_peer_write(res);
	if (ret) {
		hablk_peer_req_free(preq);
		return ret;
	}
	wait_event(res->rx.wait, atomic_read(&res->rx.inflight) < HABLK_MAX_INFLIGHT_PEER ||
		   atomic_read(&res->conn.failed));
	/* epoch boundary: writes received before a flush are on disk before it */
	if (flags & HABLK_WF_PREFLUSH)
		wait_event(res->rx.wait, !atomic_read(&res->rx.inflight) ||
			   atomic_read(&res->conn.failed));
	if (is_sync) {
		atomic64_add(size >> SECTOR_SHIFT, &res->sync.done);
		hablk_bm_clear(res, preq->sector, size >> SECTOR_SHIFT);
	}
	atomic_inc(&res->rx.inflight);
	if (READ_ONCE(res->st.disk) == HABLK_DISK_DISKLESS) {
		bio->bi_status = BLK_STS_IOERR;	/* detached: the primary learns it from the ack */
		hablk_peer_endio(bio);
	} else if (hablk_fault_cache_hold(res, bio, flags, is_sync)) {
		hablk_peer_endio(bio);		/* a volatile cache's ack, for tests */
	} else if (emulate) {
		ret = blkdev_issue_zeroout(res->bk.bdev, preq->sector, size >> SECTOR_SHIFT,
					   GFP_NOIO, 0);
		if (!ret && (flags & (HABLK_WF_PREFLUSH | HABLK_WF_FUA)))
			ret = blkdev_issue_flush(res->bk.bdev);
		bio->bi_status = errno_to_blk_status(ret);
		hablk_peer_endio(bio);
	} else {
		submit_bio(bio);
	}
	return 0;
}

static int recv_body(struct hablk_resource *res, void *body, u32 want, u32 len)
{
	if (want != len)
		return -EPROTO;
	return hablk_data_recv(res, body, len);
}

static int recv_role_req(struct hablk_resource *res, u32 len)
{
	struct hablk_p_role r;
	int ret;

	ret = recv_body(res, &r, sizeof(r), len);
	if (ret)
		return ret;
	r.status = cpu_to_be32(-hablk_state_peer_role_request(res, be32_to_cpu(r.role)));
	return hablk_send_meta(res, HABLK_P_ROLE_REPLY, &r, sizeof(r), 0);
}

/* The sync target's out-of-sync bits, merged into ours before the sync starts. */
static int recv_bitmap(struct hablk_resource *res, u32 len)
{
	struct hablk_p_bitmap *b;
	int ret;

	if (READ_ONCE(res->st.repl) != HABLK_REPL_SYNC_SOURCE || READ_ONCE(res->sync.bm_received))
		return -EPROTO;
	b = kmalloc(len, GFP_NOIO);
	if (!b)
		return -ENOMEM;
	ret = hablk_data_recv(res, b, len);
	if (!ret && hablk_bitmap_check(b, len, res->bm.nbits))
		ret = -EPROTO;
	if (!ret && b->nbits)
		hablk_bm_merge(res, be64_to_cpu(b->first_bit), b->words, be32_to_cpu(b->nbits));
	if (!ret && !b->nbits) {
		WRITE_ONCE(res->sync.bm_received, true);
		wake_up_all(&res->sync.wait);
	}
	kfree(b);
	return ret;
}

/* The data stream, until the connection fails. */
/* The peer's SYNC_DONE: once every write it sent is on our disk. */
static int recv_sync_done(struct hablk_resource *res, u32 len)
{
	struct hablk_p_sync_done sd;
	int ret;

	ret = recv_body(res, &sd, sizeof(sd), len);
	if (ret)
		return ret;
	wait_event(res->rx.wait, !atomic_read(&res->rx.inflight) ||
		   atomic_read(&res->conn.failed));
	return hablk_sync_target_done(res, be64_to_cpu(sd.uuid));
}

/* The peer's VERIFY_DONE: its uuid field carries how many blocks differ. */
static int recv_verify_done(struct hablk_resource *res, u32 len)
{
	struct hablk_p_sync_done vd;
	int ret;

	ret = recv_body(res, &vd, sizeof(vd), len);
	if (ret)
		return ret;
	if (READ_ONCE(res->st.repl) != HABLK_REPL_VERIFY_TARGET)
		return -EPROTO;
	pr_info("%s: online verify by the peer done: %llu blocks differ\n",
		res->cfg.name, (unsigned long long)be64_to_cpu(vd.uuid));
	hablk_state_change(res, HABLK_S_REPL, HABLK_REPL_ESTABLISHED, "verify-done");
	return 0;
}

/* One packet of the data stream, its header read. */
static int recv_packet(struct hablk_resource *res, int type, u32 len)
{
	union {
		struct hablk_p_state st;
		struct hablk_p_sync_start ss;
	} b;

	switch (type) {
	case HABLK_P_DATA:
	case HABLK_P_SYNC_DATA:
		return recv_write(res, len, type == HABLK_P_SYNC_DATA);
	case HABLK_P_STATE:
		return recv_body(res, &b.st, sizeof(b.st), len) ?:
		       hablk_state_peer_update(res, &b.st, false);
	case HABLK_P_SYNC_START:
		return recv_body(res, &b.ss, sizeof(b.ss), len) ?:
		       hablk_sync_target_begin(res, be64_to_cpu(b.ss.total_sectors),
					       be64_to_cpu(b.ss.uuid), false);
	case HABLK_P_SYNC_DONE:
		return recv_sync_done(res, len);
	case HABLK_P_ROLE_REQ:
		return recv_role_req(res, len);
	case HABLK_P_BITMAP:
		return recv_bitmap(res, len);
	case HABLK_P_VERIFY_START:
		return recv_body(res, &b.ss, sizeof(b.ss), len) ?:
		       hablk_verify_target_begin(res, be64_to_cpu(b.ss.total_sectors));
	case HABLK_P_VERIFY_REQ:
		return hablk_verify_serve(res, len);
	case HABLK_P_VERIFY_DONE:
		return recv_verify_done(res, len);
	case HABLK_P_READ_REQ:
		return hablk_read_serve(res, len);
	case HABLK_P_READ_REPLY:
		return hablk_read_reply(res, len);
	default:
		return -EPROTO;
	}
}

int hablk_receive_loop(struct hablk_resource *res)
{
	struct hablk_hdr h;
	int ret, type = 0;
	u32 len;

	res->rx.head = 0;	/* a new connection: nothing read ahead */
	res->rx.tail = 0;
	do {
		if (!hablk_data_pending(res))
			hablk_ack_push(res);
		ret = data_recv_hdr(res, &h);
		if (ret)
			break;
		type = hablk_hdr_decode(&h, &len);
		ret = recv_packet(res, type, len);
	} while (!ret);
	if (ret == -EPROTO) {
		pr_warn_ratelimited("%s: malformed or unexpected packet from peer (type %d)\n",
				    res->cfg.name, type);
		hablk_conn_fail(res, "peer sent a malformed or unexpected packet");
	} else {
		hablk_conn_fail(res, "connection closed");
	}
	return ret;
}
