// SPDX-License-Identifier: GPL-2.0
/*
 * The backing disk (and an external metadata disk): opened exclusively, the
 * superblock read, validated and written back crash-safely (FUA, sequence
 * number, checksum).
 */
#include <linux/blkdev.h>
#include <linux/random.h>
#include <linux/slab.h>
#include "hablk.h"

#ifdef COMPAT_BDEV_FILE
static int bdev_get(struct hablk_resource *res, const char *path, void **handle,
		    struct block_device **bdev)
{
	struct file *f;

	f = bdev_file_open_by_path(path, BLK_OPEN_READ | BLK_OPEN_WRITE, res, NULL);
	if (IS_ERR(f))
		return PTR_ERR(f);
	*handle = f;
	*bdev = file_bdev(f);
	return 0;
}

static void bdev_put(void *handle, struct block_device *bdev)
{
	bdev_fput(handle);
}
#else
static int bdev_get(struct hablk_resource *res, const char *path, void **handle,
		    struct block_device **bdev)
{
	struct block_device *b;

	b = blkdev_get_by_path(path, FMODE_READ | FMODE_WRITE | FMODE_EXCL, res);
	if (IS_ERR(b))
		return PTR_ERR(b);
	*handle = b;
	*bdev = b;
	return 0;
}

static void bdev_put(void *handle, struct block_device *bdev)
{
	blkdev_put(bdev, FMODE_READ | FMODE_WRITE | FMODE_EXCL);
}
#endif

/* The backing disk, and the metadata device if it is external. */
static int backing_get(struct hablk_resource *res, struct netlink_ext_ack *extack)
{
	int ret;

	ret = bdev_get(res, res->cfg.disk_path, &res->bdev_handle, &res->bdev);
	if (ret) {
		if (ret == -EBUSY)
			NL_SET_ERR_MSG(extack, "backing disk is in use");
		else
			NL_SET_ERR_MSG(extack, "cannot open the backing disk");
		return ret;
	}
	res->md_bdev = res->bdev;
	if (!res->cfg.meta_path[0])
		return 0;
	ret = bdev_get(res, res->cfg.meta_path, &res->md_handle, &res->md_bdev);
	if (!ret && res->md_bdev == res->bdev) {	/* two names of one device */
		bdev_put(res->md_handle, res->md_bdev);
		ret = -EINVAL;
	}
	if (ret) {
		if (ret == -EBUSY)
			NL_SET_ERR_MSG(extack, "metadata disk is in use");
		else
			NL_SET_ERR_MSG(extack, "cannot open the metadata disk");
		bdev_put(res->bdev_handle, res->bdev);
	}
	return ret;
}

static void backing_put(struct hablk_resource *res)
{
	if (res->md_bdev != res->bdev)
		bdev_put(res->md_handle, res->md_bdev);
	bdev_put(res->bdev_handle, res->bdev);
	res->md_bdev = NULL;
}

/* Synchronous I/O of one page of metadata at a byte offset of the metadata device. */
int hablk_md_io(struct hablk_resource *res, struct page *page, u64 offset, blk_opf_t opf)
{
	struct bio bio;
	struct bio_vec bvec;
	int ret;

	/* a flush meant for the data (sweep, superblock) must reach the data disk too */
	if ((opf & REQ_PREFLUSH) && res->md_bdev != res->bdev) {
		ret = blkdev_issue_flush(res->bdev);
		if (ret)
			return ret;
	}
	bio_init(&bio, res->md_bdev, &bvec, 1, opf);
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
	    le64_to_cpu(sb->al_offset) != l.al_offset) {
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
	u32 flags = le32_to_cpu(res->md.flags);

	res->gen.current_uuid = le64_to_cpu(res->md.current_uuid);
	res->gen.bitmap_uuid = le64_to_cpu(res->md.bitmap_uuid);
	res->gen.history_uuid = le64_to_cpu(res->md.history_uuid[0]);
	res->gen.consistent = !!(flags & HABLK_MDF_CONSISTENT);
	if (!(flags & HABLK_MDF_CONSISTENT))
		res->disk = HABLK_DISK_INCONSISTENT;
	else if (flags & HABLK_MDF_OUTDATED)
		res->disk = HABLK_DISK_OUTDATED;
	else
		res->disk = HABLK_DISK_UPTODATE;
	res->gen.dirty = !!(flags & HABLK_MDF_PEER_FULL_SYNC);
	/* still set: it stopped before flushing writes it had acked to the peer */
	res->lost_peer_writes = !!(flags & HABLK_MDF_PEER_WRITES);
	res->peer_writes_recorded = res->lost_peer_writes;
	res->solo_ready = res->gen.bitmap_uuid != 0;
	/* consumed: the next superblock write clears it (hablk_md_keep_sync) */
	res->gen.sync_uuid = res->gen.consistent ? 0 : le64_to_cpu(res->md.sync_uuid);
	res->md.sync_uuid = 0;
}

int hablk_backing_open(struct hablk_resource *res, struct netlink_ext_ack *extack)
{
	struct page *page;
	u64 disk_bytes, meta_bytes;
	int ret;

	ret = backing_get(res, extack);
	if (ret)
		return ret;
	disk_bytes = bdev_nr_bytes(res->bdev);
	meta_bytes = bdev_nr_bytes(res->md_bdev);
	page = alloc_page(GFP_KERNEL);
	if (!page) {
		ret = -ENOMEM;
		goto err_put;
	}
	/* the superblock: at the end of an internal area, at the start of an external one */
	ret = hablk_md_io(res, page, res->cfg.meta_path[0] ? 0 :
			  (disk_bytes & ~4095ULL) - HABLK_MD_SB_BYTES, REQ_OP_READ);
	if (ret) {
		NL_SET_ERR_MSG(extack, "cannot read the metadata");
		goto err_page;
	}
	memcpy(&res->md, page_address(page), sizeof(res->md));
	ret = md_validate(res, &res->md, disk_bytes, meta_bytes, extack);
	if (ret)
		goto err_page;
	__free_page(page);
	res->data_sectors = le64_to_cpu(res->md.data_sectors);
	res->size_sectors = res->data_sectors;
	res->md_offset = res->cfg.meta_path[0] ? 0 :
			 le64_to_cpu(res->md.disk_bytes) - HABLK_MD_SB_BYTES;
	md_to_state(res);
	ret = hablk_bm_load(res, le32_to_cpu(res->md.bm_block), le64_to_cpu(res->md.bm_offset),
			    le64_to_cpu(res->md.al_offset));
	if (ret) {
		NL_SET_ERR_MSG(extack, "cannot read the bitmap");
		goto err_put;
	}
	if (res->lost_peer_writes)
		pr_info("%s: unclean stop with peer writes maybe only in the disk cache: the peer resyncs its recent extents\n",
			res->cfg.name);
	if (res->bm.crashed) {
		/*
		 * Writes may have been in flight: those extents are out of sync.
		 * Only a primary's may hold writes the peer lacks in the same
		 * generation; a demoted node's were all completed on both.
		 */
		if (le32_to_cpu(res->md.flags) & HABLK_MDF_PRIMARY)
			res->gen.dirty = true;
		pr_info("%s: unclean stop: %llu KiB of recently written extents to resync\n",
			res->cfg.name,
			(unsigned long long)hablk_bm_weight(res) * hablk_bm_block_sectors(res) / 2);
	}
	return 0;

err_page:
	__free_page(page);
err_put:
	backing_put(res);
	return ret;
}

void hablk_backing_close(struct hablk_resource *res)
{
	hablk_bm_free(res);
	backing_put(res);
	res->bdev = NULL;
}

/* Write the in-memory superblock; caller holds md_mutex. */
static int md_write_locked(struct hablk_resource *res)
{
	struct page *page;
	int ret;

	lockdep_assert_held(&res->md_mutex);
	if (READ_ONCE(res->disk) == HABLK_DISK_DISKLESS)
		return -EIO;	/* detached: the disk failed, leave it alone */
	page = alloc_page(GFP_NOIO | __GFP_ZERO);
	if (!page)
		return -ENOMEM;
	res->md.seq = cpu_to_le64(le64_to_cpu(res->md.seq) + 1);
	res->md.crc = 0;
	res->md.crc = cpu_to_le32(hablk_md_crc32(&res->md, sizeof(res->md)));
	memcpy(page_address(page), &res->md, sizeof(res->md));
	ret = hablk_md_io(res, page, res->md_offset,
		    REQ_OP_WRITE | REQ_PREFLUSH | REQ_FUA | REQ_SYNC);
	__free_page(page);
	if (ret)
		pr_err("%s: metadata write failed: %d\n", res->cfg.name, ret);
	return ret;
}

int hablk_md_write(struct hablk_resource *res)
{
	int ret;

	mutex_lock(&res->md_mutex);
	ret = md_write_locked(res);
	mutex_unlock(&res->md_mutex);
	return ret;
}

/* Mirror the state's generations into the superblock, set/clear flags, write it. */
int hablk_md_set_flags(struct hablk_resource *res, u32 set, u32 clear)
{
	int ret;

	mutex_lock(&res->md_mutex);
	spin_lock_irq(&res->state_lock);
	res->md.current_uuid = cpu_to_le64(res->gen.current_uuid);
	res->md.bitmap_uuid = cpu_to_le64(res->gen.bitmap_uuid);
	res->md.history_uuid[0] = cpu_to_le64(res->gen.history_uuid);
	spin_unlock_irq(&res->state_lock);
	res->md.flags = cpu_to_le32((le32_to_cpu(res->md.flags) & ~clear) | set);
	ret = md_write_locked(res);
	mutex_unlock(&res->md_mutex);
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

	spin_lock_irq(&res->state_lock);
	uuid = res->gen.consistent ? 0 : res->gen.sync_uuid;
	spin_unlock_irq(&res->state_lock);
	if (!uuid || READ_ONCE(res->disk) == HABLK_DISK_DISKLESS || blkdev_issue_flush(res->bdev))
		return;
	mutex_lock(&res->md_mutex);
	res->md.sync_uuid = cpu_to_le64(uuid);
	if (!md_write_locked(res))
		pr_info("%s: down during a sync from the peer: it will resume\n", res->cfg.name);
	res->md.sync_uuid = 0;
	mutex_unlock(&res->md_mutex);
}

/*
 * Start a new data generation: this node writes without its peer. The old
 * generation becomes the bitmap generation (unless one is already open), so
 * that on reconnect the peer is recognised as behind, not as diverged.
 * Caller holds state_lock.
 */
void hablk_md_new_generation(struct hablk_resource *res)
{
	u64 uuid;

	lockdep_assert_held(&res->state_lock);
	if (res->gen.bitmap_uuid && res->gen.current_uuid)
		return;
	get_random_bytes(&uuid, sizeof(uuid));
	uuid |= 1;	/* never 0 */
	if (res->gen.current_uuid)
		res->gen.bitmap_uuid = res->gen.current_uuid;
	res->gen.current_uuid = uuid;
}
