// SPDX-License-Identifier: GPL-2.0
/*
 * The block device /dev/hablkN: gendisk, queue limits, and the open rules
 * (a secondary refuses opens for writing, or with auto-promote becomes
 * primary if that is safe).
 */
#include <linux/module.h>
#include "hablk.h"

static int hablk_major;

static void hablk_release_common(struct hablk_resource *res)
{
	spin_lock_irq(&res->st.lock);
	res->st.open_count--;
	spin_unlock_irq(&res->st.lock);
}

static int hablk_open_common(struct hablk_resource *res, blk_mode_t mode)
{
	bool promote = false;
	int ret = 0;

	spin_lock_irq(&res->st.lock);
	if ((mode & BLK_OPEN_WRITE) && res->st.role != HABLK_ROLE_PRIMARY) {
		promote = res->cfg.auto_promote;
		ret = promote ? 0 : -EROFS;
	}
	if (!ret)
		res->st.open_count++;	/* held while promoting: no down, no demotion */
	spin_unlock_irq(&res->st.lock);
	/* auto-promote: the same checks as the command (quorum, UpToDate, peer not primary) */
	if (promote && hablk_state_primary(res, false, NULL)) {
		hablk_release_common(res);
		ret = -EROFS;
	}
	return ret;
}

#ifdef COMPAT_OPEN_GENDISK
static int hablk_open(struct gendisk *disk, blk_mode_t mode)
{
	return hablk_open_common(disk->private_data, mode);
}

static void hablk_release(struct gendisk *disk)
{
	hablk_release_common(disk->private_data);
}
#else
static int hablk_open(struct block_device *bdev, fmode_t mode)
{
	return hablk_open_common(bdev->bd_disk->private_data, mode);
}

static void hablk_release(struct gendisk *disk, fmode_t mode)
{
	hablk_release_common(disk->private_data);
}
#endif

static const struct block_device_operations hablk_fops = {
	.owner = THIS_MODULE,
	.submit_bio = hablk_submit_bio,
	.open = hablk_open,
	.release = hablk_release,
};

/* The exported size changes (the pair agreed on it, or both disks grew). */
void hablk_device_set_size(struct hablk_resource *res, sector_t sectors)
{
	res->dev.size_sectors = sectors;
	set_capacity_and_notify(res->dev.gd, sectors);
}

void hablk_device_set_ro(struct hablk_resource *res, bool ro)
{
	set_disk_ro(res->dev.gd, ro);
}

int hablk_device_create(struct hablk_resource *res)
{
	struct block_device *b = res->bk.bdev;
	struct gendisk *gd;
	int ret;
#ifdef COMPAT_ALLOC_DISK_LIMITS
	struct queue_limits lim = {
		.logical_block_size = bdev_logical_block_size(b),
		.physical_block_size = bdev_physical_block_size(b),
		.io_min = bdev_io_min(b),
		.max_hw_sectors = HABLK_MAX_DATA >> SECTOR_SHIFT,
		.max_hw_discard_sectors = bdev_max_discard_sectors(b) ?
			min_t(u32, bdev_max_discard_sectors(b),
			      HABLK_MAX_DISCARD >> SECTOR_SHIFT) : 0,
		.discard_granularity = bdev_discard_granularity(b),
		.max_write_zeroes_sectors = min_t(u32, bdev_write_zeroes_sectors(b),
						  HABLK_MAX_DISCARD >> SECTOR_SHIFT),
#ifdef COMPAT_BLK_FEAT
		.features = BLK_FEAT_WRITE_CACHE | BLK_FEAT_FUA | BLK_FEAT_IO_STAT,
#endif
	};

	gd = blk_alloc_disk(&lim, NUMA_NO_NODE);
#else
	gd = blk_alloc_disk(NUMA_NO_NODE);
#endif
	if (IS_ERR_OR_NULL(gd))
		return gd ? PTR_ERR(gd) : -ENOMEM;
#ifndef COMPAT_ALLOC_DISK_LIMITS
	blk_queue_logical_block_size(gd->queue, bdev_logical_block_size(b));
	blk_queue_physical_block_size(gd->queue, bdev_physical_block_size(b));
	blk_queue_io_min(gd->queue, bdev_io_min(b));
	blk_queue_max_hw_sectors(gd->queue, HABLK_MAX_DATA >> SECTOR_SHIFT);
	if (bdev_max_discard_sectors(b)) {
		blk_queue_max_discard_sectors(gd->queue,
			min_t(u32, bdev_max_discard_sectors(b),
			      HABLK_MAX_DISCARD >> SECTOR_SHIFT));
		gd->queue->limits.discard_granularity = bdev_discard_granularity(b);
	}
	blk_queue_max_write_zeroes_sectors(gd->queue,
		min_t(u32, bdev_write_zeroes_sectors(b), HABLK_MAX_DISCARD >> SECTOR_SHIFT));
#endif
#ifndef COMPAT_BLK_FEAT
	blk_queue_write_cache(gd->queue, true, true);
	blk_queue_flag_set(QUEUE_FLAG_IO_STAT, gd->queue);
#endif
	gd->major = hablk_major;
	gd->first_minor = res->cfg.minor;
	gd->minors = 1;
	gd->fops = &hablk_fops;
	gd->private_data = res;
	snprintf(gd->disk_name, sizeof(gd->disk_name), "hablk%u", res->cfg.minor);
	set_capacity(gd, res->dev.size_sectors);
	set_disk_ro(gd, res->st.role != HABLK_ROLE_PRIMARY);
	res->dev.gd = gd;
	ret = add_disk(gd);
	if (ret) {
		put_disk(gd);
		res->dev.gd = NULL;
	}
	return ret;
}

void hablk_device_destroy(struct hablk_resource *res)
{
	del_gendisk(res->dev.gd);
	put_disk(res->dev.gd);
	res->dev.gd = NULL;
}

int hablk_device_register(void)
{
	hablk_major = register_blkdev(0, "hablk");
	return hablk_major < 0 ? hablk_major : 0;
}

void hablk_device_unregister(void)
{
	unregister_blkdev(hablk_major, "hablk");
}
