// SPDX-License-Identifier: GPL-2.0
/*
 * The backing disk (and an external metadata disk): opened exclusively at up,
 * closed at down, detached when it fails.
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

	ret = bdev_get(res, res->cfg.disk_path, &res->bk.handle, &res->bk.bdev);
	if (ret) {
		if (ret == -EBUSY)
			NL_SET_ERR_MSG(extack, "backing disk is in use");
		else
			NL_SET_ERR_MSG(extack, "cannot open the backing disk");
		return ret;
	}
	res->md.bdev = res->bk.bdev;
	if (!res->cfg.meta_path[0])
		return 0;
	ret = bdev_get(res, res->cfg.meta_path, &res->md.handle, &res->md.bdev);
	if (!ret && res->md.bdev == res->bk.bdev) {	/* two names of one device */
		bdev_put(res->md.handle, res->md.bdev);
		ret = -EINVAL;
	}
	if (ret) {
		if (ret == -EBUSY)
			NL_SET_ERR_MSG(extack, "metadata disk is in use");
		else
			NL_SET_ERR_MSG(extack, "cannot open the metadata disk");
		bdev_put(res->bk.handle, res->bk.bdev);
	}
	return ret;
}

static void backing_put(struct hablk_resource *res)
{
	if (res->md.bdev != res->bk.bdev)
		bdev_put(res->md.handle, res->md.bdev);
	bdev_put(res->bk.handle, res->bk.bdev);
	res->md.bdev = NULL;
}

/* The backing disk (and the metadata disk), its metadata and bitmap. */
int hablk_backing_open(struct hablk_resource *res, struct netlink_ext_ack *extack)
{
	int ret;

	ret = backing_get(res, extack);
	if (ret)
		return ret;
	ret = hablk_md_open(res, extack);
	if (ret)
		backing_put(res);
	return ret;
}

void hablk_backing_close(struct hablk_resource *res)
{
	hablk_bm_free(res);
	backing_put(res);
	res->bk.bdev = NULL;
}

/* The disk returned an I/O error (any context): detach it (on-io-error detach). */
void hablk_backing_failed(struct hablk_resource *res)
{
	if (!atomic_xchg(&res->bk.detaching, 1))
		queue_work(res->wq, &res->bk.detach_work);
}

static void detach_work(struct work_struct *work)
{
	hablk_state_detached(container_of(work, struct hablk_resource, bk.detach_work));
}

void hablk_backing_init(struct hablk_resource *res)
{
	INIT_WORK(&res->bk.detach_work, detach_work);
}
