// SPDX-License-Identifier: GPL-2.0
/*
 * Resync, full or from the bitmap: the source reads its disk in chunks,
 * each holding its interval until the peer acked it so application writes
 * never race a chunk; the target writes the chunks and takes the source's
 * generation when done.
 */
#include <linux/slab.h>
#include "hablk.h"

void hablk_sync_init(struct hablk_resource *res)
{
	mutex_init(&res->sync.mutex);
	init_waitqueue_head(&res->sync.wait);
}

/* A sync or verify of @total sectors starts: the status counts from here. */
void hablk_sync_progress_reset(struct hablk_resource *res, u64 total)
{
	WRITE_ONCE(res->sync.total, min_t(u64, total, res->dev.size_sectors));
	atomic64_set(&res->sync.done, 0);
	WRITE_ONCE(res->sync.start, jiffies);
}

struct hablk_req *hablk_sync_chunk_alloc(struct hablk_resource *res, sector_t sector, u32 size)
{
	struct hablk_req *req;
	struct bio *bio;

	bio = bio_alloc_bioset(res->bk.bdev, DIV_ROUND_UP(size, PAGE_SIZE), REQ_OP_READ, GFP_KERNEL,
			       &res->req.bs);
	req = container_of(bio, struct hablk_req, clone);
	memset(req, 0, offsetof(struct hablk_req, clone));
	req->res = res;
	req->kind = HABLK_REQ_SYNC;
	req->sector = sector;
	req->size = size;
	INIT_LIST_HEAD(&req->send_list);
	atomic_set(&req->ref, 1);
	atomic_set(&req->complete_pending, 1);
	hablk_obj_get(HABLK_OBJ_REQ);
	bio->bi_iter.bi_sector = sector;
	if (hablk_pool_add_pages(res, bio, size, GFP_KERNEL)) {
		hablk_req_put(req);
		return NULL;
	}
	return req;
}

/*
 * A sync or verify chunk of @kind, read from the local disk under its
 * interval (so no write is in flight there), or an ERR_PTR.
 */
struct hablk_req *hablk_sync_chunk_read(struct hablk_resource *res, sector_t sector, u32 size,
				   u8 kind)
{
	struct hablk_req *req;
	int ret;

	req = hablk_sync_chunk_alloc(res, sector, size);
	if (!req)
		return ERR_PTR(-ENOMEM);
	req->kind = kind;
	RB_CLEAR_NODE(&req->iv.rb);
	ret = hablk_iv_lock_net(res, &req->iv, sector, size);
	if (!ret) {
		__set_bit(HABLK_REQF_IV, &req->flags);
		ret = submit_bio_wait(&req->clone);
	}
	if (ret) {
		hablk_req_put(req);
		return ERR_PTR(ret);
	}
	return req;
}

/* Hand a read chunk to the sender; it counts in the window until answered. */
int hablk_sync_chunk_queue(struct hablk_resource *res, struct hablk_req *req)
{
	int ret;

	atomic_set(&req->ref, 2);	/* the answer (or cancel), and the sender */
	atomic_inc(&res->sync.inflight);
	ret = hablk_req_queue_net(res, req);
	if (ret) {
		atomic_dec(&res->sync.inflight);
		atomic_set(&req->ref, 1);
		hablk_req_put(req);
	}
	return ret;
}

/* Read one chunk and queue it for the sender. */
static int sync_chunk(struct hablk_resource *res, sector_t sector, u32 size)
{
	struct hablk_req *req = hablk_sync_chunk_read(res, sector, size, HABLK_REQ_SYNC);

	if (IS_ERR(req))
		return PTR_ERR(req);
	/* the read consumed the iterator: rewind it for the sender */
	req->clone.bi_iter.bi_sector = sector;
	req->clone.bi_iter.bi_size = size;
	req->clone.bi_iter.bi_idx = 0;
	req->clone.bi_iter.bi_bvec_done = 0;
	return hablk_sync_chunk_queue(res, req);
}

static void sync_finish(struct hablk_resource *res)
{
	/*
	 * The peer has our generation now: a later write alone needs a new one
	 * (a thaw during the sync may have started the one we have).
	 */
	mutex_lock(&res->st.solo_mutex);
	hablk_state_lock(res);
	if (res->st.gen.bitmap_uuid)
		res->st.gen.history_uuid = res->st.gen.bitmap_uuid;
	res->st.gen.bitmap_uuid = 0;
	res->st.gen.dirty = false;
	hablk_state_set(res, HABLK_S_REPL, HABLK_REPL_ESTABLISHED);	/* peer_disk: its STATE */
	res->st.changed = NULL;		/* announced as sync-done */
	hablk_state_unlock(res, NULL);
	WRITE_ONCE(res->st.solo_ready, false);
	mutex_unlock(&res->st.solo_mutex);
	hablk_md_set_flags(res, 0, HABLK_MDF_PEER_FULL_SYNC);
	hablk_bm_write(res);
	pr_info("%s: sync done (%llu KiB)\n", res->cfg.name,
		(unsigned long long)res->sync.total / 2);
	hablk_genl_event(res, "sync-done");
}

/*
 * The rate controller: a sync uses the whole window (and so the link's idle
 * capacity) only while no application write waits for the peer; while the
 * application writes, one chunk at a time, so its writes never queue behind
 * more than one chunk on the link.
 */
static int sync_window(struct hablk_resource *res)
{
	return atomic_read(&res->req.app_inflight) ? HABLK_SYNC_WINDOW_BUSY : HABLK_SYNC_WINDOW;
}

/* Pause (until resumed: also a sync that starts later) or resume syncs from this node. */
int hablk_sync_pause(struct hablk_resource *res, bool pause, struct netlink_ext_ack *extack)
{
	WRITE_ONCE(res->sync.paused, pause);
	wake_up_all(&res->sync.wait);
	hablk_genl_event(res, pause ? "sync-paused" : "sync-resumed");
	return 0;
}

static bool sync_should_stop(struct hablk_resource *res)
{
	return kthread_should_stop() || atomic_read(&res->conn.failed);
}

/*
 * The sync source: wait for the target's bitmap (bitmap syncs), then send
 * every out-of-sync block in runs of up to one chunk, pass after pass, until
 * the bitmap is empty and every chunk is acked.
 */
static int sync_source_fn(void *arg)
{
	struct hablk_resource *res = arg;

	wait_event(res->sync.wait, sync_should_stop(res) || READ_ONCE(res->sync.bm_received));
	if (!sync_should_stop(res))
		hablk_sync_run(res);
	return 0;
}

/*
 * Announce the sync to the target (SYNC_START) with what it covers; the
 * bitmap is on disk first: it then covers, even after a crash here,
 * whatever the target may still lack, so an interrupted sync can resume
 * from it (SYNC_START's uuid). With checksum-resync, the digest pass.
 */
static int sync_begin(struct hablk_resource *res)
{
	u32 bs = hablk_bm_block_sectors(res);
	struct hablk_p_sync_start ss;
	int ret;

	ret = hablk_bm_write(res);
	if (ret) {
		hablk_conn_fail(res, "cannot write the bitmap");
		return -ENOTCONN;
	}
	res->sync.total = hablk_bm_weight(res) * bs;
	res->sync.start = jiffies;
	atomic64_set(&res->sync.done, 0);
	ss.uuid = cpu_to_be64(READ_ONCE(res->st.gen.current_uuid));
	ss.total_sectors = cpu_to_be64(res->sync.total);
	ret = hablk_send_data_pkt(res, HABLK_P_SYNC_START, &ss, sizeof(ss));
	pr_info("%s: sync to peer started, %llu KiB out of sync\n", res->cfg.name,
		(unsigned long long)res->sync.total / 2);
	hablk_genl_event(res, "sync-started");
	if (!ret && res->cfg.csum_resync) {
		ret = hablk_verify_csum_pass(res);
		if (!ret)
			pr_info("%s: checksum-resync: %llu KiB differ and will be sent\n",
				res->cfg.name, (unsigned long long)hablk_bm_weight(res) * bs / 2);
	}
	return ret;
}

/*
 * Send every out-of-sync block, in runs of up to one chunk, pass after
 * pass, until the bitmap is empty and every chunk is acked. 0 when done,
 * -ENOTCONN when the link went (or the thread is stopped), or an error.
 */
static int sync_passes(struct hablk_resource *res)
{
	u32 bs = hablk_bm_block_sectors(res), run;
	u64 block = 0, nblocks = DIV_ROUND_UP_ULL(res->dev.size_sectors, bs);
	unsigned long bm_written = jiffies;
	int ret;

	for (;;) {
		wait_event_timeout(res->sync.wait, sync_should_stop(res) ||
				   (!READ_ONCE(res->sync.paused) &&
				    atomic_read(&res->sync.inflight) < sync_window(res)), HZ / 10);
		if (sync_should_stop(res))
			return -ENOTCONN;
		/*
		 * Progress to disk, every period and while paused (only pages
		 * that changed: none once the chunks in flight are acked), so
		 * that after a crash of this node the sync resumes from there,
		 * not from SYNC_START. A cleared bit is a chunk the target
		 * acked: it can lose that only in a crash of its own, which
		 * means a full sync anyway. A failed write leaves older, wider
		 * bits.
		 */
		if (READ_ONCE(res->sync.paused) ||
		    time_after(jiffies, bm_written + HABLK_SYNC_BM_PERIOD)) {
			hablk_bm_write(res);
			bm_written = jiffies;
		}
		if (READ_ONCE(res->sync.paused) || atomic_read(&res->sync.inflight) >= sync_window(res))
			continue;	/* the timeout re-reads the application's activity */
		block = hablk_bm_next_run(res, block, (HABLK_SYNC_CHUNK >> SECTOR_SHIFT) / bs, &run);
		if (block >= nblocks) {
			/* end of a pass: done when every chunk is acked and nothing is left */
			wait_event(res->sync.wait, sync_should_stop(res) ||
				   !atomic_read(&res->sync.inflight));
			if (sync_should_stop(res))
				return -ENOTCONN;
			if (!hablk_bm_weight(res))
				return 0;
			block = 0;
			continue;
		}
		ret = sync_chunk(res, block * bs,
				 min_t(u64, run * bs, res->dev.size_sectors - block * bs) << SECTOR_SHIFT);
		if (ret)
			return ret;
		block += run;
	}
}

/* Send every out-of-sync block to the peer (the sync or verify thread). */
void hablk_sync_run(struct hablk_resource *res)
{
	struct hablk_p_sync_done sd;
	int ret;

	ret = sync_begin(res) ?: sync_passes(res);
	if (ret == -ENOTCONN)
		return;
	if (ret) {
		hablk_conn_fail(res, "sync failed");
		return;
	}
	/*
	 * The target now has every block we have: it takes our generation as
	 * it is now (a thaw may have started one while the sync ran).
	 */
	sd.uuid = cpu_to_be64(READ_ONCE(res->st.gen.current_uuid));
	if (hablk_send_data_pkt(res, HABLK_P_SYNC_DONE, &sd, sizeof(sd))) {
		hablk_conn_fail(res, "sending failed");
		return;
	}
	sync_finish(res);
}

/*
 * Become sync source (from the connection thread or from primary --force):
 * @full sets every block out of sync; @peer_bits waits for the target's
 * bitmap (HABLK_P_BITMAP) and merges it first.
 */
int hablk_sync_start_source(struct hablk_resource *res, bool full, bool peer_bits)
{
	struct task_struct *t;
	int ret = 0;

	mutex_lock(&res->sync.mutex);
	hablk_thread_stop(&res->sync.thread);	/* a finished one */
	if (atomic_read(&res->conn.failed)) {
		ret = -ENOTCONN;
		goto out;
	}
	if (full)
		hablk_bm_set_all(res);
	/* the status shows 0 %, not the last sync's figures, until the run starts */
	res->sync.total = 0;
	atomic64_set(&res->sync.done, 0);
	WRITE_ONCE(res->sync.bm_received, !peer_bits);
	t = hablk_thread_start(res, sync_source_fn, "sync");
	if (IS_ERR(t))
		ret = PTR_ERR(t);
	else
		res->sync.thread = t;
out:
	mutex_unlock(&res->sync.mutex);
	return ret;
}

void hablk_sync_stop(struct hablk_resource *res)
{
	mutex_lock(&res->sync.mutex);
	hablk_thread_stop(&res->sync.thread);
	mutex_unlock(&res->sync.mutex);
}

/* The peer acked a chunk, or the link is gone. */
void hablk_sync_chunk_acked(struct hablk_req *req, int status)
{
	struct hablk_resource *res = req->res;

	if (status && status != -ENOTCONN) {
		pr_err("%s: peer failed a sync write (%d)\n", res->cfg.name, status);
		hablk_conn_fail(res, "peer failed a sync write");
	} else if (!status) {
		atomic64_add(req->size >> SECTOR_SHIFT, &res->sync.done);
		hablk_bm_clear(res, req->sector, req->size >> SECTOR_SHIFT);
	}
	atomic_dec(&res->sync.inflight);
	wake_up(&res->sync.wait);
	hablk_req_put(req);
}

/*
 * This node's disk is about to be overwritten by the peer's: at the decision
 * (@total 0, @send_bm for a bitmap sync: send our bits to the source) or at
 * SYNC_START (@total: what the source will send, @uuid: its generation, which
 * an interrupted sync can resume from; the superblock written here says
 * none, so a crash from now on means a full sync).
 */
int hablk_sync_target_begin(struct hablk_resource *res, u64 total, u64 uuid, bool send_bm)
{
	int ret;

	hablk_state_lock(res);
	ret = hablk_state_allows(res, HABLK_OP_SYNC_TARGET, 0, NULL);
	if (ret) {
		hablk_state_unlock(res, NULL);
		return ret;
	}
	hablk_state_set(res, HABLK_S_REPL, HABLK_REPL_SYNC_TARGET);
	hablk_state_set(res, HABLK_S_DISK, HABLK_DISK_INCONSISTENT);
	res->st.gen.consistent = false;
	if (total) {
		res->st.gen.sync_uuid = uuid;
		hablk_sync_progress_reset(res, total);
	}
	res->st.changed = NULL;		/* announced once it is on disk */
	hablk_state_unlock(res, NULL);
	ret = hablk_md_set_flags(res, 0, HABLK_MDF_CONSISTENT | HABLK_MDF_UPTODATE |
				 HABLK_MDF_OUTDATED);
	hablk_genl_event(res, total ? "sync-started" : "disk");
	if (!ret && send_bm)
		ret = hablk_bm_send(res);
	return ret;
}

/* The source sent everything and every write is on our disk. */
int hablk_sync_target_done(struct hablk_resource *res, u64 uuid)
{
	int ret;

	if (READ_ONCE(res->st.repl) != HABLK_REPL_SYNC_TARGET || !uuid)
		return -EPROTO;
	ret = blkdev_issue_flush(res->bk.bdev);
	if (ret)
		return ret;
	hablk_bm_clear_all(res);
	hablk_state_lock(res);
	res->st.gen.current_uuid = uuid;
	res->st.gen.bitmap_uuid = 0;
	res->st.gen.dirty = false;
	res->st.gen.consistent = true;
	res->st.gen.sync_uuid = 0;
	hablk_state_set(res, HABLK_S_DISK, HABLK_DISK_UPTODATE);
	hablk_state_set(res, HABLK_S_REPL, HABLK_REPL_ESTABLISHED);
	res->st.lost_peer_writes = false;	/* what our cache lost came back with the sync */
	res->st.changed = NULL;		/* announced as sync-done */
	hablk_state_unlock(res, NULL);
	ret = hablk_md_set_flags(res, HABLK_MDF_CONSISTENT | HABLK_MDF_UPTODATE,
				 HABLK_MDF_OUTDATED | HABLK_MDF_PEER_FULL_SYNC);
	if (ret)
		return ret;
	hablk_bm_write(res);
	pr_info("%s: sync from peer done\n", res->cfg.name);
	hablk_genl_event(res, "sync-done");
	return hablk_send_state(res);
}
