// SPDX-License-Identifier: GPL-2.0
/*
 * Online verify: the source reads each chunk under its interval lock (so no
 * write is in flight there on either node), sends a CRC-32 per 4 KiB block,
 * the target compares with its own blocks; differing blocks go into the
 * bitmap and are resynced from the source when the pass is done.
 */
#include <linux/crc32.h>
#include <linux/slab.h>
#include "hablk.h"

#define BLOCK	4096U

static u32 block_crc(const void *p)
{
	return crc32_le(~0U, p, BLOCK) ^ ~0U;
}

static bool verify_should_stop(struct hablk_resource *res)
{
	return kthread_should_stop() || atomic_read(&res->conn.failed);
}

/* Read a chunk, replace its data by its digests, queue it for the sender. */
static int verify_chunk(struct hablk_resource *res, sector_t sector, u32 size)
{
	u32 crc[HABLK_VERIFY_MAX / BLOCK];
	struct hablk_req *req;
	struct bio_vec *bv;
	struct bvec_iter_all it;
	unsigned int i, n = 0;
	__be32 *digests;

	req = hablk_sync_chunk_read(res, sector, size, HABLK_REQ_VERIFY);
	if (IS_ERR(req))
		return PTR_ERR(req);
	bio_for_each_segment_all(bv, &req->clone, it)
		crc[n++] = block_crc(page_address(bv->bv_page));
	/* the data is not needed any more: the first page carries the digests */
	digests = page_address(req->clone.bi_io_vec[0].bv_page);
	for (i = 0; i < n; i++)
		digests[i] = cpu_to_be32(crc[i]);
	return hablk_sync_chunk_queue(res, req);
}

/*
 * checksum-resync: before a resync sends data, compare digests of every
 * out-of-sync block with the target's; the replies clear the bits of blocks
 * the target already has (hablk_verify_reply), so only differing ones travel.
 */
int hablk_verify_csum_pass(struct hablk_resource *res)
{
	u32 bs = hablk_bm_block_sectors(res), run;
	u64 block = 0, nblocks = DIV_ROUND_UP_ULL(res->dev.size_sectors, bs);
	int ret = 0;

	while (!ret) {
		wait_event_timeout(res->sync.wait, verify_should_stop(res) ||
				   (!READ_ONCE(res->sync.paused) &&
				    atomic_read(&res->sync.inflight) < HABLK_SYNC_WINDOW), HZ / 10);
		if (verify_should_stop(res))
			return -ENOTCONN;
		if (READ_ONCE(res->sync.paused) ||
		    atomic_read(&res->sync.inflight) >= HABLK_SYNC_WINDOW)
			continue;
		block = hablk_bm_next_run(res, block, (HABLK_VERIFY_MAX >> SECTOR_SHIFT) / bs, &run);
		if (block >= nblocks)
			break;
		run = min_t(u64, run, nblocks - block);
		ret = verify_chunk(res, block * bs,
				   min_t(u64, run * bs, res->dev.size_sectors - block * bs) << SECTOR_SHIFT);
		block += run;
	}
	wait_event(res->sync.wait, verify_should_stop(res) || !atomic_read(&res->sync.inflight));
	return verify_should_stop(res) ? -ENOTCONN : ret;
}

/* The verify source's thread: one pass over the device, then resync what differs. */
static int verify_fn(void *arg)
{
	struct hablk_resource *res = arg;
	struct hablk_p_sync_start vs;
	struct hablk_p_sync_done vd;
	sector_t sector, total = res->dev.size_sectors;
	u64 differ;
	u32 n;
	int ret;

	res->sync.total = total;
	res->sync.start = jiffies;
	atomic64_set(&res->sync.done, 0);
	atomic64_set(&res->sync.verify_mismatch, 0);
	vs.uuid = cpu_to_be64(READ_ONCE(res->st.gen.current_uuid));
	vs.total_sectors = cpu_to_be64(total);
	ret = hablk_send_data_pkt(res, HABLK_P_VERIFY_START, &vs, sizeof(vs));
	pr_info("%s: online verify started, %llu KiB\n", res->cfg.name,
		(unsigned long long)total / 2);
	for (sector = 0; !ret && sector < total; sector += n) {
		n = min_t(u64, HABLK_VERIFY_MAX >> SECTOR_SHIFT, total - sector);
		wait_event(res->sync.wait, verify_should_stop(res) ||
			   atomic_read(&res->sync.inflight) < HABLK_SYNC_WINDOW);
		if (verify_should_stop(res))
			return 0;
		ret = verify_chunk(res, sector, n << SECTOR_SHIFT);
	}
	if (ret == -ENOTCONN)
		return 0;
	if (ret) {
		hablk_conn_fail(res, "verify failed");
		return 0;
	}
	wait_event(res->sync.wait, verify_should_stop(res) || !atomic_read(&res->sync.inflight));
	if (verify_should_stop(res))
		return 0;
	differ = atomic64_read(&res->sync.verify_mismatch);
	vd.uuid = cpu_to_be64(differ);
	if (hablk_send_data_pkt(res, HABLK_P_VERIFY_DONE, &vd, sizeof(vd))) {
		hablk_conn_fail(res, "sending failed");
		return 0;
	}
	pr_info("%s: online verify done: %llu blocks (%llu KiB) differ\n", res->cfg.name,
		(unsigned long long)differ, (unsigned long long)differ * 4);
	hablk_genl_event(res, "verify-done");
	if (!differ) {
		hablk_state_change(res, HABLK_S_REPL, HABLK_REPL_ESTABLISHED, NULL);
		return 0;
	}
	/* the peer is the one repaired: this node's blocks are the reference */
	hablk_state_change(res, HABLK_S_REPL, HABLK_REPL_SYNC_SOURCE, NULL);
	hablk_sync_run(res);
	return 0;
}

int hablk_verify_start(struct hablk_resource *res, struct netlink_ext_ack *extack)
{
	struct task_struct *t;
	int ret;

	hablk_state_lock(res);
	ret = hablk_state_allows(res, HABLK_OP_VERIFY, 0, extack);
	if (!ret)
		hablk_state_set(res, HABLK_S_REPL, HABLK_REPL_VERIFY_SOURCE);
	res->st.changed = NULL;		/* announced as verify-started */
	hablk_state_unlock(res, NULL);
	if (ret)
		return ret;
	mutex_lock(&res->sync.mutex);
	hablk_thread_stop(&res->sync.thread);	/* a finished one */
	t = hablk_thread_start(res, verify_fn, "verify");
	if (!IS_ERR(t))
		res->sync.thread = t;
	mutex_unlock(&res->sync.mutex);
	if (IS_ERR(t)) {
		hablk_state_change(res, HABLK_S_REPL, HABLK_REPL_ESTABLISHED, NULL);
		return PTR_ERR(t);
	}
	hablk_genl_event(res, "verify-started");
	return 0;
}

/* The peer starts a verify of us (VERIFY_START). */
int hablk_verify_target_begin(struct hablk_resource *res, u64 total)
{
	int ret;

	hablk_state_lock(res);
	ret = hablk_state_allows(res, HABLK_OP_PEER_VERIFY, 0, NULL);
	if (!ret) {
		hablk_state_set(res, HABLK_S_REPL, HABLK_REPL_VERIFY_TARGET);
		hablk_sync_progress_reset(res, total);
	}
	res->st.changed = NULL;		/* announced as verify-started */
	hablk_state_unlock(res, NULL);
	if (!ret)
		hablk_genl_event(res, "verify-started");
	return ret;
}

/* The target's answer for one chunk (or the link is gone: status). */
void hablk_verify_reply(struct hablk_req *req, u64 mismatch, int status)
{
	struct hablk_resource *res = req->res;
	unsigned int i, end, blocks = req->size / BLOCK;
	u64 cleared;

	if (!status && READ_ONCE(res->st.repl) == HABLK_REPL_SYNC_SOURCE) {
		/*
		 * checksum-based resync: bitmap blocks the peer already has need
		 * not travel. A run of equal 4 KiB blocks clears the bits it
		 * covers whole; a bit with one differing block stays set.
		 */
		u32 bs = hablk_bm_block_sectors(res);

		for (i = 0; i < blocks; i = end + 1) {
			end = i;
			while (end < blocks && !(mismatch & (1ULL << end)))
				end++;
			cleared = hablk_bm_clear(res, req->sector + i * (BLOCK >> SECTOR_SHIFT),
						 (end - i) * (BLOCK >> SECTOR_SHIFT));
			atomic64_add(cleared * bs, &res->sync.done);	/* done: equal */
		}
	} else if (!status) {
		for (i = 0; i < blocks; i++)
			if (mismatch & (1ULL << i))
				hablk_bm_set(res, req->sector + i * (BLOCK >> SECTOR_SHIFT),
					     BLOCK >> SECTOR_SHIFT);
		atomic64_add(hweight64(mismatch & (blocks < 64 ? (1ULL << blocks) - 1 : ~0ULL)),
			     &res->sync.verify_mismatch);
		atomic64_add(req->size >> SECTOR_SHIFT, &res->sync.done);
	}
	atomic_dec(&res->sync.inflight);
	wake_up(&res->sync.wait);
	hablk_req_put(req);
}

/* Verify target: compare the source's digests with our blocks and answer. */
int hablk_verify_serve(struct hablk_resource *res, u32 len)
{
	struct hablk_p_verify_reply r;
	struct hablk_p_verify *v;
	u64 mismatch = 0;
	struct hablk_req *req;
	unsigned int i, blocks;
	struct bio_vec *bv;
	struct bvec_iter_all it;
	int ret;

	v = kmalloc(len, GFP_NOIO);
	if (!v)
		return -ENOMEM;
	ret = hablk_data_recv(res, v, len);
	if (ret)
		goto out;
	if (hablk_verify_check(v, len, res->dev.size_sectors) ||
	    (READ_ONCE(res->st.repl) != HABLK_REPL_VERIFY_TARGET &&
	     READ_ONCE(res->st.repl) != HABLK_REPL_SYNC_TARGET)) {
		ret = -EPROTO;
		goto out;
	}
	req = hablk_sync_chunk_alloc(res, be64_to_cpu(v->sector), be32_to_cpu(v->size));
	if (!req) {
		ret = -ENOMEM;
		goto out;
	}
	ret = submit_bio_wait(&req->clone);
	blocks = be32_to_cpu(v->size) / BLOCK;
	i = 0;
	bio_for_each_segment_all(bv, &req->clone, it) {
		if (ret || block_crc(page_address(bv->bv_page)) != be32_to_cpu(v->crc[i]))
			mismatch |= 1ULL << i;	/* unreadable counts as different */
		i++;
	}
	hablk_req_put(req);
	if (READ_ONCE(res->st.repl) == HABLK_REPL_VERIFY_TARGET)	/* a resync counts its data */
		atomic64_add(be32_to_cpu(v->size) >> SECTOR_SHIFT, &res->sync.done);
	r.id = v->id;
	r.mismatch = cpu_to_be64(mismatch & (blocks < 64 ? (1ULL << blocks) - 1 : ~0ULL));
	ret = hablk_send_meta(res, HABLK_P_VERIFY_REPLY, &r, sizeof(r), 0);
out:
	kfree(v);
	return ret;
}
