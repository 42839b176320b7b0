// SPDX-License-Identifier: GPL-2.0
/*
 * Role, disk and connection state: every change goes through here, is
 * persisted before it takes effect where a crash could make it matter, and
 * is announced on the events multicast group.
 */
#include <linux/random.h>
#include <linux/umh.h>
#include "hablk.h"

static const char * const field_names[] = {
	[HABLK_S_ROLE] = "role",
	[HABLK_S_DISK] = "disk",
	[HABLK_S_CONN] = "connection",
	[HABLK_S_REPL] = "replication",
	[HABLK_S_PEER_ROLE] = "peer-role",
	[HABLK_S_PEER_DISK] = "peer-disk",
};

static u8 *field(struct hablk_resource *res, int what)
{
	switch (what) {
	case HABLK_S_ROLE:	return &res->role;
	case HABLK_S_DISK:	return &res->disk;
	case HABLK_S_CONN:	return &res->conn;
	case HABLK_S_REPL:	return &res->repl;
	case HABLK_S_PEER_ROLE:	return &res->peer_role;
	default:		return &res->peer_disk;
	}
}

/* Set one state field; announce it if it changed. */
void hablk_state_set(struct hablk_resource *res, int what, u8 val, const char *why)
{
	bool changed;
	u8 *f;

	spin_lock_irq(&res->state_lock);
	f = field(res, what);
	changed = *f != val;
	*f = val;
	spin_unlock_irq(&res->state_lock);
	if (changed)
		hablk_genl_event(res, why ? why : field_names[what]);
}

bool hablk_state_may_write(struct hablk_resource *res)
{
	if (READ_ONCE(res->role) != HABLK_ROLE_PRIMARY)
		return false;
	if (READ_ONCE(res->disk) == HABLK_DISK_UPTODATE)
		return true;
	/* diskless (detached): through the peer only */
	return READ_ONCE(res->disk) == HABLK_DISK_DISKLESS && hablk_peer_can_serve(res);
}

/* The backing disk returned an I/O error (any context): detach it (on-io-error detach). */
void hablk_state_disk_failed(struct hablk_resource *res)
{
	if (!atomic_xchg(&res->detaching, 1))
		queue_work(res->wq, &res->detach_work);
}

void hablk_detach_work(struct work_struct *work)
{
	struct hablk_resource *res = container_of(work, struct hablk_resource, detach_work);

	spin_lock_irq(&res->state_lock);
	res->disk = HABLK_DISK_DISKLESS;
	spin_unlock_irq(&res->state_lock);
	pr_err("%s: I/O error on the backing disk: detached, %s\n", res->cfg.name,
	       res->role == HABLK_ROLE_PRIMARY ? "serving through the peer" : "diskless");
	hablk_genl_event(res, "disk");
	if (READ_ONCE(res->conn) == HABLK_CONN_CONNECTED && hablk_send_state(res))
		hablk_conn_fail(res, "sending state failed");
}

/*
 * A write is about to reach only the local disk. Before the first such write
 * completes, a new data generation must be on disk, so that the peer is known
 * to be behind after any crash.
 */
int hablk_state_write_alone(struct hablk_resource *res)
{
	int ret = 0;

	if (READ_ONCE(res->solo_ready))
		return 0;
	mutex_lock(&res->solo_mutex);
	if (!res->solo_ready) {
		spin_lock_irq(&res->state_lock);
		hablk_md_new_generation(res);
		spin_unlock_irq(&res->state_lock);
		ret = hablk_md_set_flags(res, 0, 0);
		if (!ret) {
			WRITE_ONCE(res->solo_ready, true);
			pr_info("%s: writing without the peer, new generation %016llx\n",
				res->cfg.name, (unsigned long long)res->gen.current_uuid);
		}
	}
	mutex_unlock(&res->solo_mutex);
	return ret;
}

/*
 * The peer may lack blocks we wrote in this generation (their bits are set):
 * the next connection resyncs them even if the generations are equal.
 * Returns true if the node was not dirty before.
 */
static bool mark_dirty(struct hablk_resource *res)
{
	bool first;

	spin_lock_irq(&res->state_lock);
	first = !res->gen.dirty;
	res->gen.dirty = true;
	spin_unlock_irq(&res->state_lock);
	if (first)
		hablk_md_set_flags(res, HABLK_MDF_PEER_FULL_SYNC, 0);
	return first;
}

/* Connected, and the peer has every block we have (no resync owed to it). */
bool hablk_state_peer_has_all(struct hablk_resource *res)
{
	bool all;

	spin_lock_irq(&res->state_lock);
	all = res->conn == HABLK_CONN_CONNECTED && res->repl == HABLK_REPL_ESTABLISHED &&
	      res->peer_disk == HABLK_DISK_UPTODATE && !res->gen.dirty &&
	      !atomic_read(&res->conn_failed);
	spin_unlock_irq(&res->state_lock);
	return all;
}

/* The peer could not write a block we sent: it needs a resync. */
void hablk_state_peer_write_failed(struct hablk_resource *res, int status)
{
	if (mark_dirty(res))
		pr_warn("%s: peer failed a write (%d); it will be resynced\n",
			res->cfg.name, status);
}

/* The connection is gone (teardown, before requests are given up). */
void hablk_state_conn_lost(struct hablk_resource *res)
{
	bool writing;

	spin_lock_irq(&res->state_lock);
	res->repl = HABLK_REPL_OFF;
	res->peer_role = HABLK_ROLE_UNKNOWN;
	res->peer_disk = HABLK_DISK_UNKNOWN;
	if (res->conn == HABLK_CONN_CONNECTED)
		res->conn = HABLK_CONN_CONNECTING;
	/* application writes: the node's own flushes (flush.c) write nothing */
	writing = res->role == HABLK_ROLE_PRIMARY && res->slots_used > res->flush_slots;
	spin_unlock_irq(&res->state_lock);
	/*
	 * Writes in flight complete without the peer: a new generation first.
	 * Frozen, they are not acknowledged: the generation changes only if
	 * hablkd thaws them (quorum.c), so a node that never thaws is merely
	 * behind, not split from its peer. Until then they are on our disk and
	 * maybe not on the peer's in this same generation: dirty, so that a
	 * reconnect before the thaw resyncs their bits rather than trusting the
	 * equal generations (rule 4, not rule 6).
	 */
	if (writing && !READ_ONCE(res->frozen))
		hablk_state_write_alone(res);
	else if (writing)
		mark_dirty(res);
	hablk_genl_event(res, "connection");
}

static void set_error(struct hablk_resource *res, const char *msg)
{
	spin_lock_irq(&res->state_lock);
	strscpy(res->last_error, msg, sizeof(res->last_error));
	spin_unlock_irq(&res->state_lock);
}

/* Agree on the size both disks can hold. */
static int agree_size(struct hablk_resource *res)
{
	sector_t agreed = min_t(u64, res->data_sectors, res->peer_size_sectors);

	if (agreed == res->size_sectors)
		return 0;
	if (agreed < res->size_sectors &&
	    (res->role == HABLK_ROLE_PRIMARY || READ_ONCE(res->open_count))) {
		set_error(res, "peer's disk is smaller than this device");
		return -ECONNABORTED;
	}
	res->size_sectors = agreed;
	set_capacity_and_notify(res->gd, agreed);
	/* blocks past the agreed end are not replicated: no bits for them */
	hablk_bm_clear(res, round_up(agreed, hablk_bm_block_sectors(res)),
		       res->data_sectors);
	return 0;
}

/*
 * The peer's disk is gone: from now on only ours has the data. Start a new
 * generation and mark every block, on disk, so that whatever disk the peer
 * brings back is fully resynced rather than trusted.
 */
static void peer_detached(struct hablk_resource *res)
{
	if (READ_ONCE(res->disk) != HABLK_DISK_UPTODATE)
		return;
	hablk_bm_set_all(res);
	if (hablk_state_write_alone(res) || hablk_bm_write(res))
		pr_err("%s: cannot record that the peer's disk is gone\n", res->cfg.name);
}

/*
 * Save the changes this node is about to lose: run "HELPER save-divergent RES
 * --save DIR" (hablkadm), which copies every block of our bitmap into DIR.
 */
static int save_divergent(struct hablk_resource *res)
{
	char *argv[6], *envp[3];
	int ret;

	if (!res->cfg.sb_save_dir[0])
		return 0;
	if (!res->cfg.helper[0])
		return -ENOENT;
	argv[0] = res->cfg.helper;
	argv[1] = "save-divergent";
	argv[2] = res->cfg.name;
	argv[3] = "--save";
	argv[4] = res->cfg.sb_save_dir;
	argv[5] = NULL;
	envp[0] = "HOME=/";
	envp[1] = "PATH=/usr/sbin:/usr/bin:/sbin:/bin";
	envp[2] = NULL;
	ret = call_usermodehelper(argv[0], argv, envp, UMH_WAIT_PROC);
	pr_info("%s: %s save-divergent %s %s: exit %d\n", res->cfg.name, argv[0],
		res->cfg.name, res->cfg.sb_save_dir, ret);
	return ret;
}

/* A split-brain: the after-sb policy decides who loses, or nobody does. */
static int after_split_brain(struct hablk_resource *res)
{
	struct hablk_sb_side me = {
		.changes = hablk_bm_weight(res),
		.primary_since = res->primary_since,
		.primary = res->role == HABLK_ROLE_PRIMARY,
		.policy = res->cfg.after_sb,
	};
	enum hablk_sb_verdict v = hablk_sb_resolve(&me, &res->peer_sb);

	if (v == HABLK_SB_PEER_LOSES && !res->peer_sb.primary) {
		pr_warn("%s: split-brain resolved by after-sb: the peer's changes are discarded\n",
			res->cfg.name);
		hablk_state_set(res, HABLK_S_REPL, HABLK_REPL_SYNC_SOURCE, "split-brain-resolved");
		return hablk_sync_start_source(res, false, true);
	}
	if (v == HABLK_SB_LOCAL_LOSES && res->role != HABLK_ROLE_PRIMARY) {
		if (save_divergent(res)) {
			set_error(res, "split-brain: saving this node's changes failed; not discarded");
			return -ECONNABORTED;
		}
		pr_warn("%s: split-brain resolved by after-sb: this node's %llu changed blocks are discarded\n",
			res->cfg.name, (unsigned long long)me.changes);
		hablk_genl_event(res, "split-brain-resolved");
		return hablk_sync_target_begin(res, 0, 0, true);
	}
	set_error(res, "split-brain detected: both nodes wrote since they parted");
	return -ECONNABORTED;
}

/* First state of the peer on a new connection: decide what to do. */
static int connected_decide(struct hablk_resource *res)
{
	enum hablk_sync_decision d;
	int rule, ret;

	ret = agree_size(res);
	if (ret)
		return ret;
	if (res->role == HABLK_ROLE_PRIMARY && res->peer_role == HABLK_ROLE_PRIMARY) {
		set_error(res, "both nodes are primary");
		return -ECONNABORTED;
	}
	if (res->disk == HABLK_DISK_DISKLESS || res->peer_disk == HABLK_DISK_DISKLESS) {
		/*
		 * A node without a disk is served by the other, which must hold
		 * its latest data: the same generation, or one the other moved on
		 * from while serving it. A diskless node that wrote alone has
		 * lost those writes with its disk: refuse rather than serve
		 * older data as if it were current.
		 */
		bool local = res->disk == HABLK_DISK_DISKLESS;
		const struct hablk_gen *dl = local ? &res->gen : &res->peer_gen;
		const struct hablk_gen *up = local ? &res->peer_gen : &res->gen;

		if (dl->current_uuid != up->current_uuid && dl->current_uuid != up->bitmap_uuid) {
			set_error(res, "the diskless node's last writes are on no disk: refused");
			return -ECONNABORTED;
		}
		/* nothing to sync to or from a node without a disk: serve through the other */
		pr_info("%s: connected to %s, %s diskless\n", res->cfg.name, res->cfg.peer_name,
			res->disk == HABLK_DISK_DISKLESS ? "this node is" : "the peer is");
		if (res->peer_disk == HABLK_DISK_DISKLESS)
			peer_detached(res);
		hablk_state_set(res, HABLK_S_REPL, HABLK_REPL_ESTABLISHED, NULL);
		return 0;
	}
	if (res->peer_bm_shift != res->bm.shift + SECTOR_SHIFT) {
		/* bit i covers a different range on each node: bitmaps cannot be exchanged */
		set_error(res, "bitmap granularity differs from the peer's (create-md --bitmap-granularity)");
		return -ECONNABORTED;
	}
	/*
	 * A node that stopped uncleanly may have lost writes it had acked but
	 * not flushed (flush.c): the other owes it its recent extents, which
	 * it took into its bitmap when the link went. Both sides see the flag,
	 * so both take the other's view the same way.
	 */
	if (res->peer_lost_writes && res->gen.consistent && mark_dirty(res))
		pr_info("%s: the peer may have lost writes it had acked: recent extents resync to it\n",
			res->cfg.name);
	spin_lock_irq(&res->state_lock);
	if (res->lost_peer_writes && res->peer_gen.consistent)
		res->peer_gen.dirty = true;
	res->gen.discard = res->discard_my_data;
	d = hablk_sync_decide(&res->gen, &res->peer_gen, &rule);
	res->discard_my_data = false;	/* used once */
	/* our data is the reference: nothing the peer holds is owed to us */
	if (d == HABLK_SYNC_SOURCE || d == HABLK_SYNC_SOURCE_FULL)
		res->lost_peer_writes = false;
	spin_unlock_irq(&res->state_lock);
	pr_info("%s: connected to %s: %s (rule %d)%s\n", res->cfg.name, res->cfg.peer_name,
		hablk_sync_decision_name(d), rule,
		rule == 16 || rule == 17 ? ", the interrupted sync resumes" : "");

	switch (d) {
	case HABLK_SYNC_NONE:
		/* same data: leftover bits (a demoted node's intent extents) are moot */
		hablk_bm_clear_all(res);
		if (res->disk == HABLK_DISK_OUTDATED && res->peer_disk == HABLK_DISK_UPTODATE) {
			/* outdated, but the peer wrote nothing since: current again */
			spin_lock_irq(&res->state_lock);
			res->disk = HABLK_DISK_UPTODATE;
			spin_unlock_irq(&res->state_lock);
			hablk_md_set_flags(res, 0, HABLK_MDF_OUTDATED);
		}
		hablk_state_set(res, HABLK_S_REPL, HABLK_REPL_ESTABLISHED, NULL);
		break;
	case HABLK_SYNC_BOTH_INCONSISTENT:
		hablk_state_set(res, HABLK_S_REPL, HABLK_REPL_ESTABLISHED, NULL);
		break;
	case HABLK_SYNC_SOURCE:
	case HABLK_SYNC_SOURCE_FULL:
		hablk_state_set(res, HABLK_S_REPL, HABLK_REPL_SYNC_SOURCE, NULL);
		return hablk_sync_start_source(res, d == HABLK_SYNC_SOURCE_FULL,
					       d != HABLK_SYNC_SOURCE_FULL);
	case HABLK_SYNC_TARGET:
	case HABLK_SYNC_TARGET_FULL:
		if (res->role == HABLK_ROLE_PRIMARY) {
			set_error(res, "peer has newer data; this primary must not become sync target");
			return -ECONNABORTED;
		}
		return hablk_sync_target_begin(res, 0, 0, d == HABLK_SYNC_TARGET);
	case HABLK_SYNC_SPLIT_BRAIN:
		pr_alert("%s: split-brain detected: both nodes wrote since they parted\n",
			 res->cfg.name);
		hablk_genl_event(res, "split-brain");
		if (rule == 9)	/* both diverged from one generation: a policy may decide */
			return after_split_brain(res);
		set_error(res, "split-brain detected: both nodes wrote since they parted");
		return -ECONNABORTED;
	default:
		set_error(res, "peer's data is unrelated to ours");
		return -ECONNABORTED;
	}
	return 0;
}

/* A P_STATE from the peer: at connect (@initial) or after a change. */
int hablk_state_peer_update(struct hablk_resource *res, const struct hablk_p_state *st,
			    bool initial)
{
	u8 role = st->role, disk = st->disk;
	bool changed;

	if (role > HABLK_ROLE_PRIMARY || disk > HABLK_DISK_UPTODATE || st->dirty > 1 ||
	    st->discard > 1 || st->lost_writes > 1 || st->after_sb >= __HABLK_ASB_MAX ||
	    (st->bm_shift && (st->bm_shift < ilog2(HABLK_MD_BM_BLOCK) ||
			      st->bm_shift > ilog2(HABLK_MD_BM_BLOCK_MAX))))
		return -EPROTO;
	if (initial) {
		spin_lock_irq(&res->defer_lock);
		res->link_lost = false;		/* a new link: the status may say connected */
		spin_unlock_irq(&res->defer_lock);
	}
	spin_lock_irq(&res->state_lock);
	if (!initial && role == HABLK_ROLE_PRIMARY && res->role == HABLK_ROLE_PRIMARY) {
		spin_unlock_irq(&res->state_lock);
		return -EPROTO;
	}
	changed = res->peer_role != role || res->peer_disk != disk;
	res->peer_role = role;
	res->peer_disk = disk;
	res->peer_size_sectors = be64_to_cpu(st->size_sectors);
	res->peer_gen.current_uuid = be64_to_cpu(st->current_uuid);
	res->peer_gen.bitmap_uuid = be64_to_cpu(st->bitmap_uuid);
	res->peer_gen.history_uuid = be64_to_cpu(st->history_uuid);
	res->peer_gen.consistent = disk == HABLK_DISK_UPTODATE || disk == HABLK_DISK_OUTDATED;
	res->peer_gen.dirty = st->dirty;
	res->peer_gen.discard = st->discard;
	res->peer_gen.sync_uuid = res->peer_gen.consistent ? 0 : be64_to_cpu(st->sync_uuid);
	res->peer_sb.changes = be64_to_cpu(st->changes);
	res->peer_sb.primary_since = be64_to_cpu(st->primary_since);
	res->peer_sb.primary = role == HABLK_ROLE_PRIMARY;
	res->peer_sb.policy = st->after_sb;
	res->peer_bm_shift = st->bm_shift;
	if (initial) {
		res->peer_lost_writes = st->lost_writes;
		res->conn = HABLK_CONN_CONNECTED;
		res->last_error[0] = 0;
		res->solo_ready = false;
	}
	spin_unlock_irq(&res->state_lock);
	if (initial) {
		hablk_genl_event(res, "connection");
		return connected_decide(res);
	}
	if (changed && disk == HABLK_DISK_DISKLESS)
		peer_detached(res);
	if (res->peer_size_sectors > res->size_sectors)
		hablk_resize_apply(res);	/* the peer grew too */
	if (changed)
		hablk_genl_event(res, "peer");
	return 0;
}

/* The peer asks to become primary. Returns 0 to grant, or a negative errno. */
int hablk_state_peer_role_request(struct hablk_resource *res, u32 role)
{
	int status = 0;

	if (role != HABLK_ROLE_PRIMARY)
		return -EINVAL;
	spin_lock_irq(&res->state_lock);
	if (res->role == HABLK_ROLE_PRIMARY ||
	    (res->promoting && res->cfg.local_id < res->cfg.peer_id))
		status = -EBUSY;
	else
		res->peer_role = HABLK_ROLE_PRIMARY;
	spin_unlock_irq(&res->state_lock);
	if (!status)
		hablk_genl_event(res, "peer");
	return status;
}

void hablk_state_role_reply(struct hablk_resource *res, u32 status)
{
	spin_lock_irq(&res->state_lock);
	if (res->promoting) {
		res->role_reply = status > MAX_ERRNO ? EIO : status;
		res->role_replied = true;
	}
	spin_unlock_irq(&res->state_lock);
	wake_up_all(&res->role_wait);
}

/* Ask a connected peer's consent to become primary. */
static int ask_peer(struct hablk_resource *res, struct netlink_ext_ack *extack)
{
	struct hablk_p_role r = { .role = cpu_to_be32(HABLK_ROLE_PRIMARY) };
	long left;
	int ret;

	ret = hablk_send_data_pkt(res, HABLK_P_ROLE_REQ, &r, sizeof(r));
	if (ret)
		goto fail;
	left = wait_event_timeout(res->role_wait, READ_ONCE(res->role_replied) ||
				  atomic_read(&res->conn_failed),
				  msecs_to_jiffies(res->cfg.ping_timeout_ms * 2));
	if (!READ_ONCE(res->role_replied)) {
		ret = left ? -ENOTCONN : -ETIMEDOUT;
		goto fail;
	}
	if (res->role_reply) {
		NL_SET_ERR_MSG(extack, "peer is primary (or is becoming primary)");
		return -EBUSY;
	}
	return 0;
fail:
	NL_SET_ERR_MSG(extack, "peer did not answer the role request");
	return ret;
}

static int state_primary(struct hablk_resource *res, bool force,
			 struct netlink_ext_ack *extack)
{
	bool connected, forced = false, start_sync;
	int ret;

	if (res->role == HABLK_ROLE_PRIMARY)
		return 0;
	if (READ_ONCE(res->managed) && !READ_ONCE(res->quorum) && !force) {
		/* it may be the outdated side of a partition (the arbiter knows) */
		NL_SET_ERR_MSG(extack, "no quorum: hablkd has not given this node a majority");
		return -EBUSY;
	}
	if (res->disk != HABLK_DISK_UPTODATE) {
		if (!force) {
			NL_SET_ERR_MSG(extack, "local disk is not UpToDate (use --force only on first start)");
			return -EINVAL;
		}
		if (res->disk == HABLK_DISK_DISKLESS) {
			NL_SET_ERR_MSG(extack, "no disk (detached after an I/O error)");
			return -EBUSY;
		}
		if (res->repl == HABLK_REPL_SYNC_TARGET) {
			NL_SET_ERR_MSG(extack, "disk is being synced from the peer");
			return -EBUSY;
		}
		forced = true;
	}
	spin_lock_irq(&res->state_lock);
	connected = res->conn == HABLK_CONN_CONNECTED;
	if (connected && res->peer_role == HABLK_ROLE_PRIMARY) {
		spin_unlock_irq(&res->state_lock);
		NL_SET_ERR_MSG(extack, "peer is primary");
		return -EBUSY;
	}
	res->promoting = true;
	res->role_replied = false;
	spin_unlock_irq(&res->state_lock);

	ret = connected ? ask_peer(res, extack) : 0;
	if (ret)
		goto out;

	spin_lock_irq(&res->state_lock);
	if (forced) {
		get_random_bytes(&res->gen.current_uuid, sizeof(res->gen.current_uuid));
		res->gen.current_uuid |= 1;
		res->gen.bitmap_uuid = 0;
		res->gen.consistent = true;
		res->gen.sync_uuid = 0;
		res->gen.dirty = false;
	}
	spin_unlock_irq(&res->state_lock);
	if (!connected)
		hablk_state_write_alone(res);
	ret = hablk_md_set_flags(res, HABLK_MDF_PRIMARY | HABLK_MDF_CONSISTENT |
				 HABLK_MDF_UPTODATE, HABLK_MDF_OUTDATED);
	if (!ret)
		hablk_flush_promoted(res);
	if (ret) {
		NL_SET_ERR_MSG(extack, "cannot write the metadata");
		if (connected && hablk_send_state(res))	/* undo the peer's grant */
			hablk_conn_fail(res, "sending state failed");
		goto out;
	}
	spin_lock_irq(&res->state_lock);
	res->role = HABLK_ROLE_PRIMARY;
	res->disk = HABLK_DISK_UPTODATE;
	res->primary_since = ktime_get_real_seconds();
	start_sync = connected && res->conn == HABLK_CONN_CONNECTED &&
		     res->peer_disk == HABLK_DISK_INCONSISTENT &&
		     res->repl == HABLK_REPL_ESTABLISHED;
	spin_unlock_irq(&res->state_lock);
	hablk_device_set_ro(res, false);
	pr_info("%s: primary%s\n", res->cfg.name, forced ? " (forced)" : "");
	hablk_genl_event(res, "role");
	if (connected && hablk_send_state(res))
		hablk_conn_fail(res, "sending state failed");
	if (start_sync) {
		hablk_state_set(res, HABLK_S_REPL, HABLK_REPL_SYNC_SOURCE, NULL);
		if (hablk_sync_start_source(res, true, false))
			hablk_conn_fail(res, "cannot start the sync");
	}
out:
	spin_lock_irq(&res->state_lock);
	res->promoting = false;
	spin_unlock_irq(&res->state_lock);
	return ret;
}

/* Discard this node's data: it becomes Inconsistent, and a full sync from the peer follows. */
int hablk_state_invalidate(struct hablk_resource *res, struct netlink_ext_ack *extack)
{
	int ret;

	spin_lock_irq(&res->state_lock);
	if (res->role == HABLK_ROLE_PRIMARY || res->disk == HABLK_DISK_DISKLESS ||
	    res->repl == HABLK_REPL_SYNC_TARGET ||
	    res->repl == HABLK_REPL_SYNC_SOURCE || res->repl == HABLK_REPL_VERIFY_SOURCE ||
	    res->repl == HABLK_REPL_VERIFY_TARGET) {
		spin_unlock_irq(&res->state_lock);
		NL_SET_ERR_MSG(extack, "invalidate needs a secondary with a disk and no sync or verify running");
		return -EBUSY;
	}
	res->disk = HABLK_DISK_INCONSISTENT;
	res->gen.consistent = false;
	res->gen.sync_uuid = 0;		/* a full sync: no earlier sync resumes */
	spin_unlock_irq(&res->state_lock);
	ret = hablk_md_set_flags(res, 0, HABLK_MDF_CONSISTENT | HABLK_MDF_UPTODATE |
				 HABLK_MDF_OUTDATED);
	if (ret) {
		NL_SET_ERR_MSG(extack, "cannot write the metadata");
		return ret;
	}
	pr_info("%s: invalidated: the data will be copied from the peer\n", res->cfg.name);
	hablk_genl_event(res, "disk");
	/* reconnect: the state exchange then decides target-full (rule 1) */
	if (READ_ONCE(res->conn) == HABLK_CONN_CONNECTED)
		hablk_conn_fail(res, "invalidated: resyncing from the peer");
	return 0;
}

/*
 * The arbiter says the peer went on without us (hablkd): mark the disk
 * Outdated, on disk too, so that not even a restart without hablkd makes it
 * primary unless forced. A resync from the peer ends it.
 */
int hablk_state_outdate(struct hablk_resource *res, struct netlink_ext_ack *extack)
{
	int ret;

	spin_lock_irq(&res->state_lock);
	if (res->role == HABLK_ROLE_PRIMARY || res->conn == HABLK_CONN_CONNECTED) {
		spin_unlock_irq(&res->state_lock);
		NL_SET_ERR_MSG(extack, "only a disconnected secondary can be outdated");
		return -EBUSY;
	}
	if (res->disk != HABLK_DISK_UPTODATE) {
		spin_unlock_irq(&res->state_lock);
		return 0;	/* outdated, inconsistent or diskless already */
	}
	res->disk = HABLK_DISK_OUTDATED;
	spin_unlock_irq(&res->state_lock);
	ret = hablk_md_set_flags(res, HABLK_MDF_OUTDATED, 0);
	pr_warn("%s: outdated: the peer went on without this node\n", res->cfg.name);
	hablk_genl_event(res, "disk");
	return ret;
}

/* Become primary: from the netlink command, or from an open for writing (auto-promote). */
int hablk_state_primary(struct hablk_resource *res, bool force,
			struct netlink_ext_ack *extack)
{
	int ret;

	mutex_lock(&res->role_mutex);
	ret = state_primary(res, force, extack);
	mutex_unlock(&res->role_mutex);
	return ret;
}

int hablk_state_secondary(struct hablk_resource *res, struct netlink_ext_ack *extack)
{
	if (res->role == HABLK_ROLE_SECONDARY)
		return 0;
	/* while still primary: a secondary sends the peer no writes, flushes included */
	hablk_flush_peer_wait(res);
	spin_lock_irq(&res->state_lock);
	if (res->open_count) {
		spin_unlock_irq(&res->state_lock);
		NL_SET_ERR_MSG(extack, "device is open");
		return -EBUSY;
	}
	res->role = HABLK_ROLE_SECONDARY;
	spin_unlock_irq(&res->state_lock);
	hablk_device_set_ro(res, true);
	hablk_md_set_flags(res, 0, HABLK_MDF_PRIMARY);
	pr_info("%s: secondary\n", res->cfg.name);
	hablk_genl_event(res, "role");
	if (READ_ONCE(res->conn) == HABLK_CONN_CONNECTED && hablk_send_state(res))
		hablk_conn_fail(res, "sending state failed");
	return 0;
}
