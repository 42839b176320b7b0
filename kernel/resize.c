// SPDX-License-Identifier: GPL-2.0
/*
 * Online grow: after the backing disks grew, each node moves its metadata to
 * the new end (or grows it on the metadata device); when both have, the
 * device grows and the primary syncs the new area to the peer.
 */
#include "hablk.h"

/* The device may grow to what both disks hold: do it (connection thread or resize). */
void hablk_resize_apply(struct hablk_resource *res)
{
	sector_t old, agreed;

	mutex_lock(&res->resize_mutex);
	old = res->size_sectors;
	agreed = min_t(u64, res->data_sectors, READ_ONCE(res->peer_size_sectors));
	if (READ_ONCE(res->conn) != HABLK_CONN_CONNECTED || agreed <= old) {
		mutex_unlock(&res->resize_mutex);
		return;
	}
	res->size_sectors = agreed;
	set_capacity_and_notify(res->gd, agreed);
	mutex_unlock(&res->resize_mutex);
	pr_info("%s: grown from %llu to %llu KiB\n", res->cfg.name,
		(unsigned long long)old / 2, (unsigned long long)agreed / 2);
	hablk_genl_event(res, "resized");
	if (READ_ONCE(res->role) != HABLK_ROLE_PRIMARY)
		return;
	/* the new area holds whatever each disk had there: make the peer's ours */
	hablk_bm_set(res, old, agreed - old);
	hablk_state_set(res, HABLK_S_REPL, HABLK_REPL_SYNC_SOURCE, NULL);
	if (hablk_sync_start_source(res, false, false))
		hablk_conn_fail(res, "cannot start the sync of the grown area");
}

static bool writes_drained(struct hablk_resource *res)
{
	bool empty;

	spin_lock_irq(&res->iv_lock);
	empty = RB_EMPTY_ROOT(&res->iv_tree.rb_root);
	spin_unlock_irq(&res->iv_lock);
	return empty;
}

int hablk_resize(struct hablk_resource *res, struct netlink_ext_ack *extack)
{
	u64 disk_bytes = bdev_nr_bytes(res->bdev) & ~4095ULL;
	u64 old_bytes = le64_to_cpu(res->md.disk_bytes);
	u32 bm_block = le32_to_cpu(res->md.bm_block);
	bool external = res->cfg.meta_path[0];
	struct hablk_md_layout l, old_l;
	int ret;

	if (READ_ONCE(res->conn) != HABLK_CONN_CONNECTED ||
	    READ_ONCE(res->repl) != HABLK_REPL_ESTABLISHED ||
	    READ_ONCE(res->disk) != HABLK_DISK_UPTODATE) {
		NL_SET_ERR_MSG(extack, "resize needs a connected pair in sync, this disk UpToDate");
		return -EBUSY;
	}
	ret = external ? hablk_md_layout_external(disk_bytes, bdev_nr_bytes(res->md_bdev),
						  bm_block, &l) :
			 hablk_md_layout(disk_bytes, bm_block, &l);
	if (ret == -2) {
		NL_SET_ERR_MSG(extack, "the metadata disk is too small for the grown disk");
		return -ENOSPC;
	}
	if (ret || l.data_sectors <= res->data_sectors) {
		NL_SET_ERR_MSG(extack, "the backing disk did not grow");
		return -EINVAL;
	}
	/*
	 * The superblock is written last: until then the old metadata must
	 * stay valid, so the new areas may not overlap the old ones.
	 */
	if (external) {
		hablk_md_layout_external(old_bytes, bdev_nr_bytes(res->md_bdev), bm_block, &old_l);
		if (l.bm_offset != old_l.bm_offset) {
			NL_SET_ERR_MSG(extack, "the bitmap would move: recreate the metadata");
			return -EOPNOTSUPP;
		}
	} else if (l.md_offset < old_bytes) {
		NL_SET_ERR_MSG(extack, "grow the disk by more than its metadata area (a few MiB)");
		return -EINVAL;
	}

	/* quiesce: new writes wait in submit_write, those in flight finish */
	down_write(&res->resize_sem);
	wait_event(res->iv_wait, writes_drained(res));
	ret = hablk_bm_grow(res, l.data_sectors, l.bm_offset, l.al_offset);
	if (!ret) {
		mutex_lock(&res->md_mutex);
		res->md.disk_bytes = cpu_to_le64(disk_bytes);
		res->md.data_sectors = cpu_to_le64(l.data_sectors);
		res->md.md_offset = cpu_to_le64(l.md_offset);
		res->md.bm_offset = cpu_to_le64(l.bm_offset);
		res->md.al_offset = cpu_to_le64(l.al_offset);
		res->md_offset = l.sb_offset;
		mutex_unlock(&res->md_mutex);
		ret = hablk_md_set_flags(res, 0, 0);	/* the new superblock: the switch */
	}
	if (!ret)
		res->data_sectors = l.data_sectors;
	up_write(&res->resize_sem);
	if (ret) {
		NL_SET_ERR_MSG(extack, "cannot write the metadata at the new place");
		return ret;
	}
	pr_info("%s: backing disk grown to %llu KiB of data\n", res->cfg.name,
		(unsigned long long)l.data_sectors / 2);
	/*
	 * The primary tells its new size before it may start syncing the new
	 * area; a secondary grows its device before the primary learns it may.
	 */
	if (READ_ONCE(res->role) != HABLK_ROLE_PRIMARY)
		hablk_resize_apply(res);
	ret = hablk_send_state(res);
	if (ret)
		hablk_conn_fail(res, "sending state failed");
	if (READ_ONCE(res->role) == HABLK_ROLE_PRIMARY)
		hablk_resize_apply(res);
	return 0;
}
