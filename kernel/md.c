// SPDX-License-Identifier: GPL-2.0
/*
 * The on-disk metadata's superblock (md_format.h, docs/metadata.md): read
 * and validated at up, written back crash-safely (FUA, sequence number,
 * checksum) whenever the state it records changes.
 */
#include <linux/blkdev.h>
#include <linux/random.h>
#include "hablk.h"

void hablk_md_init(struct hablk_resource *res)
{
	mutex_init(&res->md.mutex);
}

/* Synchronous I/O of one page of metadata at a byte offset of the metadata device. */
int hablk_md_io(struct hablk_resource *res, struct page *page, u64 offset, blk_opf_t opf)
{
	struct bio bio;
	struct bio_vec bvec;
	int ret;

	/* a flush meant for the data (sweep, superblock) must reach the data disk too */
	if ((opf & REQ_PREFLUSH) && res->md.bdev != res->bk.bdev) {
		ret = blkdev_issue_flush(res->bk.bdev);
		if (ret)
			return ret;
	}
	bio_init(&bio, res->md.bdev, &bvec, 1, opf);
	bio.bi_iter.bi_sector = offset >> SECTOR_SHIFT;
	__bio_add_page(&bio, page, PAGE_SIZE, 0);
	ret = submit_bio_wait(&bio);
	bio_uninit(&bio);
	return ret;
}

static int md_validate(struct hablk_resource *res, const struct hablk_md_sb *sb,
		       u64 disk_bytes, u64 meta_bytes, struct netlink_ext_ack *extack)
{
	struct hablk_md_sb tmp = *sb;
	struct hablk_md_layout l;
	bool external = le32_to_cpu(sb->flags) & HABLK_MDF_EXTERNAL;
	u32 bm_block;
	int bad;

	if (le64_to_cpu(sb->magic) != HABLK_MD_MAGIC) {
		NL_SET_ERR_MSG(extack, "no hablk metadata on the disk (run create-md)");
		return -ENOMEDIUM;
	}
	if (le32_to_cpu(sb->version) != HABLK_MD_VERSION) {
		NL_SET_ERR_MSG(extack, "unsupported metadata version");
		return -EINVAL;
	}
	tmp.crc = 0;
	if (hablk_md_crc32(&tmp, sizeof(tmp)) != le32_to_cpu(sb->crc)) {
		NL_SET_ERR_MSG(extack, "metadata checksum mismatch");
		return -EUCLEAN;
	}
	if (external != !!res->cfg.meta_path[0]) {
		NL_SET_ERR_MSG(extack, "metadata is not where the configuration says (meta-disk)");
		return -EINVAL;
	}
	bm_block = le32_to_cpu(sb->bm_block);
	if (!hablk_md_bm_block_ok(bm_block)) {
		NL_SET_ERR_MSG(extack, "metadata has an unsupported bitmap granularity");
		return -EINVAL;
	}
	bad = external ? hablk_md_layout_external(le64_to_cpu(sb->disk_bytes), meta_bytes,
						  bm_block, &l) :
			 hablk_md_layout(le64_to_cpu(sb->disk_bytes), bm_block, &l);
	if (bad || le64_to_cpu(sb->disk_bytes) > disk_bytes ||
	    le64_to_cpu(sb->data_sectors) != l.data_sectors ||
	    le64_to_cpu(sb->md_offset) != l.md_offset ||
	    le64_to_cpu(sb->bm_offset) != l.bm_offset ||
	    le64_to_cpu(sb->intent_offset) != l.intent_offset) {
		NL_SET_ERR_MSG(extack, "metadata does not match the disk size");
		return -EINVAL;
	}
	if (le32_to_cpu(sb->node_id) != res->cfg.local_id) {
		NL_SET_ERR_MSG(extack, "metadata was created for another node id");
		return -EINVAL;
	}
	return 0;
}

/* Copy the superblock's generations and flags into the resource's state. */
static void md_to_state(struct hablk_resource *res)
{
	u32 flags = le32_to_cpu(res->md.sb.flags);

	res->st.gen.current_uuid = le64_to_cpu(res->md.sb.current_uuid);
	res->st.gen.bitmap_uuid = le64_to_cpu(res->md.sb.bitmap_uuid);
	res->st.gen.history_uuid = le64_to_cpu(res->md.sb.history_uuid[0]);
	res->st.gen.consistent = !!(flags & HABLK_MDF_CONSISTENT);
	hablk_state_lock(res);
	hablk_state_set(res, HABLK_S_DISK, !(flags & HABLK_MDF_CONSISTENT) ? HABLK_DISK_INCONSISTENT :
			flags & HABLK_MDF_OUTDATED ? HABLK_DISK_OUTDATED : HABLK_DISK_UPTODATE);
	res->st.changed = NULL;		/* not up yet: "up" announces it */
	hablk_state_unlock(res, NULL);
	res->st.gen.dirty = !!(flags & HABLK_MDF_PEER_FULL_SYNC);
	/* still set: it stopped before flushing writes it had acked to the peer */
	res->st.lost_peer_writes = !!(flags & HABLK_MDF_PEER_WRITES);
	res->flush.peer_writes_recorded = res->st.lost_peer_writes;
	res->st.solo_ready = res->st.gen.bitmap_uuid != 0;
	/* consumed: the next superblock write clears it (hablk_md_keep_sync) */
	res->st.gen.sync_uuid = res->st.gen.consistent ? 0 : le64_to_cpu(res->md.sb.sync_uuid);
	res->md.sb.sync_uuid = 0;
}

/*
 * Read and check the superblock (at the end of an internal area, at the
 * start of an external one), take the state it records, load the bitmap.
 */
int hablk_md_open(struct hablk_resource *res, struct netlink_ext_ack *extack)
{
	u64 disk_bytes = bdev_nr_bytes(res->bk.bdev), meta_bytes = bdev_nr_bytes(res->md.bdev);
	struct page *page;
	int ret;

	page = alloc_page(GFP_KERNEL);
	if (!page)
		return -ENOMEM;
	ret = hablk_md_io(res, page, res->cfg.meta_path[0] ? 0 :
			  (disk_bytes & ~4095ULL) - HABLK_MD_SB_BYTES, REQ_OP_READ);
	if (ret)
		NL_SET_ERR_MSG(extack, "cannot read the metadata");
	else
		memcpy(&res->md.sb, page_address(page), sizeof(res->md.sb));
	__free_page(page);
	if (!ret)
		ret = md_validate(res, &res->md.sb, disk_bytes, meta_bytes, extack);
	if (ret)
		return ret;
	res->md.data_sectors = le64_to_cpu(res->md.sb.data_sectors);
	res->dev.size_sectors = res->md.data_sectors;
	res->md.offset = res->cfg.meta_path[0] ? 0 :
			 le64_to_cpu(res->md.sb.disk_bytes) - HABLK_MD_SB_BYTES;
	md_to_state(res);
	ret = hablk_bm_load(res, le32_to_cpu(res->md.sb.bm_block),
			    le64_to_cpu(res->md.sb.bm_offset), le64_to_cpu(res->md.sb.intent_offset));
	if (ret) {
		NL_SET_ERR_MSG(extack, "cannot read the bitmap");
		return ret;
	}
	if (res->st.lost_peer_writes)
		pr_info("%s: unclean stop with peer writes maybe only in the disk cache: the peer resyncs its recent extents\n",
			res->cfg.name);
	if (res->bm.crashed) {
		/*
		 * Writes may have been in flight: those extents are out of sync.
		 * Only a primary's may hold writes the peer lacks in the same
		 * generation; a demoted node's were all completed on both.
		 */
		if (le32_to_cpu(res->md.sb.flags) & HABLK_MDF_PRIMARY)
			res->st.gen.dirty = true;
		pr_info("%s: unclean stop: %llu KiB of recently written extents to resync\n",
			res->cfg.name,
			(unsigned long long)hablk_bm_weight(res) * hablk_bm_block_sectors(res) / 2);
	}
	return 0;
}

/* Write the in-memory superblock; caller holds md.mutex. */
static int md_write_locked(struct hablk_resource *res)
{
	struct page *page;
	int ret;

	lockdep_assert_held(&res->md.mutex);
	if (READ_ONCE(res->st.disk) == HABLK_DISK_DISKLESS)
		return -EIO;	/* detached: the disk failed, leave it alone */
	page = alloc_page(GFP_NOIO | __GFP_ZERO);
	if (!page)
		return -ENOMEM;
	res->md.sb.seq = cpu_to_le64(le64_to_cpu(res->md.sb.seq) + 1);
	res->md.sb.crc = 0;
	res->md.sb.crc = cpu_to_le32(hablk_md_crc32(&res->md.sb, sizeof(res->md.sb)));
	memcpy(page_address(page), &res->md.sb, sizeof(res->md.sb));
	ret = hablk_md_io(res, page, res->md.offset,
		    REQ_OP_WRITE | REQ_PREFLUSH | REQ_FUA | REQ_SYNC);
	__free_page(page);
	if (ret)
		pr_err("%s: metadata write failed: %d\n", res->cfg.name, ret);
	return ret;
}

int hablk_md_write(struct hablk_resource *res)
{
	int ret;

	mutex_lock(&res->md.mutex);
	ret = md_write_locked(res);
	mutex_unlock(&res->md.mutex);
	return ret;
}

/* Mirror the state's generations into the superblock, set/clear flags, write it. */
int hablk_md_set_flags(struct hablk_resource *res, u32 set, u32 clear)
{
	int ret;

	mutex_lock(&res->md.mutex);
	spin_lock_irq(&res->st.lock);
	res->md.sb.current_uuid = cpu_to_le64(res->st.gen.current_uuid);
	res->md.sb.bitmap_uuid = cpu_to_le64(res->st.gen.bitmap_uuid);
	res->md.sb.history_uuid[0] = cpu_to_le64(res->st.gen.history_uuid);
	spin_unlock_irq(&res->st.lock);
	res->md.sb.flags = cpu_to_le32((le32_to_cpu(res->md.sb.flags) & ~clear) | set);
	ret = md_write_locked(res);
	mutex_unlock(&res->md.mutex);
	return ret;
}

/*
 * At down, an interrupted sync target keeps the sync's generation on disk, so
 * that the next connection resumes the sync: the source took every chunk
 * acked so far off its bitmap, so they must be stable first (cache flush).
 * Without it (a crash) the next sync is a full one.
 */
void hablk_md_keep_sync(struct hablk_resource *res)
{
	u64 uuid;

	spin_lock_irq(&res->st.lock);
	uuid = res->st.gen.consistent ? 0 : res->st.gen.sync_uuid;
	spin_unlock_irq(&res->st.lock);
	if (!uuid || READ_ONCE(res->st.disk) == HABLK_DISK_DISKLESS || blkdev_issue_flush(res->bk.bdev))
		return;
	mutex_lock(&res->md.mutex);
	res->md.sb.sync_uuid = cpu_to_le64(uuid);
	if (!md_write_locked(res))
		pr_info("%s: down during a sync from the peer: it will resume\n", res->cfg.name);
	res->md.sb.sync_uuid = 0;
	mutex_unlock(&res->md.mutex);
}

/*
 * Start a new data generation: this node writes without its peer. The old
 * generation becomes the bitmap generation (unless one is already open), so
 * that on reconnect the peer is recognised as behind, not as diverged.
 * Caller holds st.lock.
 */
void hablk_md_new_generation(struct hablk_resource *res)
{
	u64 uuid;

	lockdep_assert_held(&res->st.lock);
	if (res->st.gen.bitmap_uuid && res->st.gen.current_uuid)
		return;
	get_random_bytes(&uuid, sizeof(uuid));
	uuid |= 1;	/* never 0 */
	if (res->st.gen.current_uuid)
		res->st.gen.bitmap_uuid = res->st.gen.current_uuid;
	res->st.gen.current_uuid = uuid;
}
