// SPDX-License-Identifier: GPL-2.0
/*
 * Online grow: after the backing disks grew, each node moves its metadata to
 * the new end (or grows it on the metadata device); when both have, the
 * device grows and the primary syncs the new area to the peer.
 */
#include "hablk.h"

void hablk_resize_init(struct hablk_resource *res)
{
	init_rwsem(&res->resize.sem);
	mutex_init(&res->resize.mutex);
}

/* The device may grow to what both disks hold: do it (connection thread or resize). */
void hablk_resize_apply(struct hablk_resource *res)
{
	sector_t old, agreed;

	mutex_lock(&res->resize.mutex);
	old = res->dev.size_sectors;
	agreed = min_t(u64, res->md.data_sectors, READ_ONCE(res->st.peer_size_sectors));
	if (READ_ONCE(res->st.conn) != HABLK_CONN_CONNECTED || agreed <= old) {
		mutex_unlock(&res->resize.mutex);
		return;
	}
	hablk_device_set_size(res, agreed);
	mutex_unlock(&res->resize.mutex);
	pr_info("%s: grown from %llu to %llu KiB\n", res->cfg.name,
		(unsigned long long)old / 2, (unsigned long long)agreed / 2);
	hablk_genl_event(res, "resized");
	if (READ_ONCE(res->st.role) != HABLK_ROLE_PRIMARY)
		return;
	/* the new area holds whatever each disk had there: make the peer's ours */
	hablk_bm_set(res, old, agreed - old);
	hablk_state_change(res, HABLK_S_REPL, HABLK_REPL_SYNC_SOURCE, NULL);
	if (hablk_sync_start_source(res, false, false))
		hablk_conn_fail(res, "cannot start the sync of the grown area");
}

int hablk_resize(struct hablk_resource *res, struct netlink_ext_ack *extack)
{
	u64 disk_bytes = bdev_nr_bytes(res->bk.bdev) & ~4095ULL;
	u64 old_bytes = le64_to_cpu(res->md.sb.disk_bytes);
	u32 bm_block = le32_to_cpu(res->md.sb.bm_block);
	bool external = res->cfg.meta_path[0];
	struct hablk_md_layout l, old_l;
	int ret;

	hablk_state_lock(res);
	ret = hablk_state_allows(res, HABLK_OP_RESIZE, 0, extack);
	hablk_state_unlock(res, NULL);
	if (ret)
		return ret;
	ret = external ? hablk_md_layout_external(disk_bytes, bdev_nr_bytes(res->md.bdev),
						  bm_block, &l) :
			 hablk_md_layout(disk_bytes, bm_block, &l);
	if (ret == -2) {
		NL_SET_ERR_MSG(extack, "the metadata disk is too small for the grown disk");
		return -ENOSPC;
	}
	if (ret || l.data_sectors <= res->md.data_sectors) {
		NL_SET_ERR_MSG(extack, "the backing disk did not grow");
		return -EINVAL;
	}
	/*
	 * The superblock is written last: until then the old metadata must
	 * stay valid, so the new areas may not overlap the old ones.
	 */
	if (external) {
		hablk_md_layout_external(old_bytes, bdev_nr_bytes(res->md.bdev), bm_block, &old_l);
		if (l.bm_offset != old_l.bm_offset) {
			NL_SET_ERR_MSG(extack, "the bitmap would move: recreate the metadata");
			return -EOPNOTSUPP;
		}
	} else if (l.md_offset < old_bytes) {
		NL_SET_ERR_MSG(extack, "grow the disk by more than its metadata area (a few MiB)");
		return -EINVAL;
	}

	/* quiesce: new writes wait in submit_write, those in flight finish */
	down_write(&res->resize.sem);
	wait_event(res->iv.wait, hablk_iv_empty(res));
	ret = hablk_bm_grow(res, l.data_sectors, l.bm_offset, l.intent_offset) ?:
	      hablk_lock_grow(res, l.data_sectors);
	if (!ret) {
		mutex_lock(&res->md.mutex);
		res->md.sb.disk_bytes = cpu_to_le64(disk_bytes);
		res->md.sb.data_sectors = cpu_to_le64(l.data_sectors);
		res->md.sb.md_offset = cpu_to_le64(l.md_offset);
		res->md.sb.bm_offset = cpu_to_le64(l.bm_offset);
		res->md.sb.intent_offset = cpu_to_le64(l.intent_offset);
		res->md.offset = l.sb_offset;
		mutex_unlock(&res->md.mutex);
		ret = hablk_md_set_flags(res, 0, 0);	/* the new superblock: the switch */
	}
	if (!ret)
		res->md.data_sectors = l.data_sectors;
	up_write(&res->resize.sem);
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
	if (READ_ONCE(res->st.role) != HABLK_ROLE_PRIMARY)
		hablk_resize_apply(res);
	ret = hablk_send_state(res);
	if (ret)
		hablk_conn_fail(res, "sending state failed");
	if (READ_ONCE(res->st.role) == HABLK_ROLE_PRIMARY)
		hablk_resize_apply(res);
	return 0;
}
