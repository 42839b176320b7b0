// SPDX-License-Identifier: GPL-2.0
/*
 * What the peer says of itself (P_STATE, role requests) and what its first
 * state on a new connection decides: the agreed size, who syncs whom, a
 * split-brain and its after-sb policy.
 */
#include <linux/umh.h>
#include "hablk.h"

/* Agree on the size both disks can hold. */
static int agree_size(struct hablk_resource *res)
{
	sector_t agreed = min_t(u64, res->md.data_sectors, res->st.peer_size_sectors);

	if (agreed == res->dev.size_sectors)
		return 0;
	if (agreed < res->dev.size_sectors &&
	    (res->st.role == HABLK_ROLE_PRIMARY || READ_ONCE(res->st.open_count))) {
		hablk_state_set_error(res, "peer's disk is smaller than this device");
		return -ECONNABORTED;
	}
	hablk_device_set_size(res, agreed);
	/* blocks past the agreed end are not replicated: no bits for them */
	hablk_bm_clear(res, round_up(agreed, hablk_bm_block_sectors(res)),
		       res->md.data_sectors);
	return 0;
}

/*
 * The peer's disk is gone: from now on only ours has the data. Start a new
 * generation and mark every block, on disk, so that whatever disk the peer
 * brings back is fully resynced rather than trusted.
 */
static void peer_detached(struct hablk_resource *res)
{
	if (READ_ONCE(res->st.disk) != HABLK_DISK_UPTODATE)
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
		.primary_since = res->st.primary_since,
		.primary = res->st.role == HABLK_ROLE_PRIMARY,
		.policy = res->cfg.after_sb,
	};
	enum hablk_sb_verdict v = hablk_sb_resolve(&me, &res->st.peer_sb);

	if (v == HABLK_SB_PEER_LOSES && !res->st.peer_sb.primary) {
		pr_warn("%s: split-brain resolved by after-sb: the peer's changes are discarded\n",
			res->cfg.name);
		hablk_state_change(res, HABLK_S_REPL, HABLK_REPL_SYNC_SOURCE, "split-brain-resolved");
		return hablk_sync_start_source(res, false, true);
	}
	if (v == HABLK_SB_LOCAL_LOSES && res->st.role != HABLK_ROLE_PRIMARY) {
		if (save_divergent(res)) {
			hablk_state_set_error(res, "split-brain: saving this node's changes failed; not discarded");
			return -ECONNABORTED;
		}
		pr_warn("%s: split-brain resolved by after-sb: this node's %llu changed blocks are discarded\n",
			res->cfg.name, (unsigned long long)me.changes);
		hablk_genl_event(res, "split-brain-resolved");
		return hablk_sync_target_begin(res, 0, 0, true);
	}
	hablk_state_set_error(res, "split-brain detected: both nodes wrote since they parted");
	return -ECONNABORTED;
}

/*
 * A node without a disk is served by the other, which must hold its latest
 * data: the same generation, or one the other moved on from while serving
 * it. A diskless node that wrote alone has lost those writes with its disk:
 * refuse rather than serve older data as if it were current.
 */
static int connected_diskless(struct hablk_resource *res)
{
	bool local = res->st.disk == HABLK_DISK_DISKLESS;
	const struct hablk_gen *dl = local ? &res->st.gen : &res->st.peer_gen;
	const struct hablk_gen *up = local ? &res->st.peer_gen : &res->st.gen;

	if (dl->current_uuid != up->current_uuid && dl->current_uuid != up->bitmap_uuid) {
		hablk_state_set_error(res, "the diskless node's last writes are on no disk: refused");
		return -ECONNABORTED;
	}
	/* nothing to sync to or from a node without a disk: serve through the other */
	pr_info("%s: connected to %s, %s diskless\n", res->cfg.name, res->cfg.peer_name,
		local ? "this node is" : "the peer is");
	if (res->st.peer_disk == HABLK_DISK_DISKLESS)
		peer_detached(res);
	hablk_state_change(res, HABLK_S_REPL, HABLK_REPL_ESTABLISHED, NULL);
	return 0;
}

/*
 * Two primaries that both wrote while apart, in one generation, look like a
 * split-brain (rule 3). But the arbiter gave one its vote and outdated the
 * other, whose writes since were never acknowledged: the outdated one is the
 * target, of the blocks either may lack (its bitmap goes to the source).
 */
static enum hablk_sync_decision two_primaries_decide(struct hablk_resource *res,
						     enum hablk_sync_decision d)
{
	lockdep_assert_held(&res->st.lock);
	if (!res->cfg.two_primaries || d != HABLK_SYNC_SPLIT_BRAIN ||
	    res->st.gen.current_uuid != res->st.peer_gen.current_uuid)
		return d;
	if (res->st.disk == HABLK_DISK_OUTDATED && res->st.peer_disk == HABLK_DISK_UPTODATE)
		return HABLK_SYNC_TARGET;
	if (res->st.disk == HABLK_DISK_UPTODATE && res->st.peer_disk == HABLK_DISK_OUTDATED)
		return HABLK_SYNC_SOURCE;
	return d;
}

/* Both have disks: which one has the data the other needs (sync_rules.c). */
static enum hablk_sync_decision decide(struct hablk_resource *res, int *rule)
{
	enum hablk_sync_decision d;

	/*
	 * A node that stopped uncleanly may have lost writes it had acked but
	 * not flushed (flush.c): the other owes it its recent extents, which
	 * it took into its bitmap when the link went. Both sides see the flag,
	 * so both take the other's view the same way.
	 */
	if (res->st.peer_lost_writes && res->st.gen.consistent && hablk_state_mark_dirty(res))
		pr_info("%s: the peer may have lost writes it had acked: recent extents resync to it\n",
			res->cfg.name);
	spin_lock_irq(&res->st.lock);
	if (res->st.lost_peer_writes && res->st.peer_gen.consistent)
		res->st.peer_gen.dirty = true;
	res->st.gen.discard = res->st.discard_my_data;
	d = hablk_sync_decide(&res->st.gen, &res->st.peer_gen, rule);
	d = two_primaries_decide(res, d);
	res->st.discard_my_data = false;	/* used once */
	/* our data is the reference: nothing the peer holds is owed to us */
	if (d == HABLK_SYNC_SOURCE || d == HABLK_SYNC_SOURCE_FULL)
		res->st.lost_peer_writes = false;
	spin_unlock_irq(&res->st.lock);
	pr_info("%s: connected to %s: %s (rule %d)%s\n", res->cfg.name, res->cfg.peer_name,
		hablk_sync_decision_name(d), *rule,
		hablk_sync_rule_flags(*rule) & HABLK_RULE_RESUMES ?
		", the interrupted sync resumes" : "");
	return d;
}

/* Same data: leftover bits (a demoted node's intent extents) are moot. */
static int in_sync(struct hablk_resource *res)
{
	bool current_again;

	hablk_bm_clear_all(res);
	hablk_state_lock(res);
	/* outdated, but the peer wrote nothing since: current again */
	current_again = res->st.disk == HABLK_DISK_OUTDATED &&
			res->st.peer_disk == HABLK_DISK_UPTODATE;
	if (current_again)
		hablk_state_set(res, HABLK_S_DISK, HABLK_DISK_UPTODATE);
	hablk_state_set(res, HABLK_S_REPL, HABLK_REPL_ESTABLISHED);
	hablk_state_unlock(res, NULL);
	if (!current_again)
		return 0;
	hablk_md_set_flags(res, 0, HABLK_MDF_OUTDATED);
	/* the peer heard Outdated in our first STATE: it would wait for a sync forever */
	return hablk_send_state(res);
}

/* First state of the peer on a new connection: decide what to do. */
static int connected_decide(struct hablk_resource *res)
{
	enum hablk_sync_decision d;
	int rule, ret;

	ret = agree_size(res);
	if (ret)
		return ret;
	if (res->st.disk == HABLK_DISK_DISKLESS || res->st.peer_disk == HABLK_DISK_DISKLESS)
		return connected_diskless(res);
	if (res->st.peer_bm_shift != res->bm.shift + SECTOR_SHIFT) {
		/* bit i covers a different range on each node: bitmaps cannot be exchanged */
		hablk_state_set_error(res, "bitmap granularity differs from the peer's (create-md --bitmap-granularity)");
		return -ECONNABORTED;
	}
	d = decide(res, &rule);
	switch (d) {
	case HABLK_SYNC_NONE:
		return in_sync(res);
	case HABLK_SYNC_BOTH_INCONSISTENT:
		hablk_state_change(res, HABLK_S_REPL, HABLK_REPL_ESTABLISHED, NULL);
		return 0;
	case HABLK_SYNC_SOURCE:
	case HABLK_SYNC_SOURCE_FULL:
		hablk_state_change(res, HABLK_S_REPL, HABLK_REPL_SYNC_SOURCE, NULL);
		return hablk_sync_start_source(res, d == HABLK_SYNC_SOURCE_FULL,
					       d != HABLK_SYNC_SOURCE_FULL);
	case HABLK_SYNC_TARGET:
	case HABLK_SYNC_TARGET_FULL:
		if (res->st.role == HABLK_ROLE_PRIMARY) {
			hablk_state_set_error(res, "peer has newer data; this primary must not become sync target");
			/* two primaries: the fenced one connects again once it is secondary */
			return res->cfg.two_primaries ? -EBUSY : -ECONNABORTED;
		}
		return hablk_sync_target_begin(res, 0, 0, d == HABLK_SYNC_TARGET);
	case HABLK_SYNC_SPLIT_BRAIN:
		if (res->cfg.two_primaries && res->st.role == HABLK_ROLE_PRIMARY &&
		    res->st.peer_role == HABLK_ROLE_PRIMARY) {
			/* both froze with writes in flight: hablkd outdates one, it resyncs */
			hablk_state_set_error(res, "both primaries wrote while apart: one is to be fenced");
			return -EBUSY;
		}
		pr_alert("%s: split-brain detected: both nodes wrote since they parted\n",
			 res->cfg.name);
		hablk_genl_event(res, "split-brain");
		if (hablk_sync_rule_flags(rule) & HABLK_RULE_POLICY)
			return after_split_brain(res);
		hablk_state_set_error(res, "split-brain detected: both nodes wrote since they parted");
		return -ECONNABORTED;
	default:
		hablk_state_set_error(res, "peer's data is unrelated to ours");
		return -ECONNABORTED;
	}
}

static bool state_valid(const struct hablk_p_state *st)
{
	return st->role <= HABLK_ROLE_PRIMARY && st->disk <= HABLK_DISK_UPTODATE &&
	       st->dirty <= 1 && st->discard <= 1 && st->lost_writes <= 1 &&
	       st->after_sb < __HABLK_ASB_MAX &&
	       (!st->lock_shift || (st->lock_shift >= ilog2(HABLK_LOCK_EXTENT_MIN) &&
				    st->lock_shift <= ilog2(HABLK_LOCK_EXTENT_MAX))) &&
	       (!st->bm_shift || (st->bm_shift >= ilog2(HABLK_MD_BM_BLOCK) &&
				  st->bm_shift <= ilog2(HABLK_MD_BM_BLOCK_MAX)));
}

/* Caller holds st.lock: what the peer says of its data, and of a split-brain. */
static void take_peer_facts(struct hablk_resource *res, const struct hablk_p_state *st)
{
	res->st.peer_size_sectors = be64_to_cpu(st->size_sectors);
	res->st.peer_gen.current_uuid = be64_to_cpu(st->current_uuid);
	res->st.peer_gen.bitmap_uuid = be64_to_cpu(st->bitmap_uuid);
	res->st.peer_gen.history_uuid = be64_to_cpu(st->history_uuid);
	res->st.peer_gen.consistent = st->disk == HABLK_DISK_UPTODATE ||
				      st->disk == HABLK_DISK_OUTDATED;
	res->st.peer_gen.dirty = st->dirty;
	res->st.peer_gen.discard = st->discard;
	res->st.peer_gen.sync_uuid = res->st.peer_gen.consistent ? 0 : be64_to_cpu(st->sync_uuid);
	res->st.peer_sb.changes = be64_to_cpu(st->changes);
	res->st.peer_sb.primary_since = be64_to_cpu(st->primary_since);
	res->st.peer_sb.primary = st->role == HABLK_ROLE_PRIMARY;
	res->st.peer_sb.policy = st->after_sb;
	res->st.peer_bm_shift = st->bm_shift;
}

/* A P_STATE from the peer: at connect (@initial) or after a change. */
int hablk_state_peer_update(struct hablk_resource *res, const struct hablk_p_state *st,
			    bool initial)
{
	const char *rule;
	bool changed;

	if (!state_valid(st))
		return -EPROTO;
	if (st->lock_shift != hablk_lock_shift(res)) {
		/* the two lock tables would number different extents: both could write one */
		hablk_state_set_error(res, "allow-two-primaries or lock-extent differs from the peer's");
		return initial ? -ECONNABORTED : -EPROTO;
	}
	if (initial)
		hablk_quorum_link_new(res);
	hablk_state_lock(res);
	rule = hablk_state_breaks(res, HABLK_S_PEER_ROLE, st->role);
	if (rule) {
		hablk_state_unlock(res, NULL);
		if (!initial)
			return -EPROTO;		/* it became primary without asking */
		hablk_state_set_error(res, rule);
		return -ECONNABORTED;
	}
	changed = res->st.peer_role != st->role || res->st.peer_disk != st->disk;
	hablk_state_set(res, HABLK_S_PEER_ROLE, st->role);
	hablk_state_set(res, HABLK_S_PEER_DISK, st->disk);
	take_peer_facts(res, st);
	if (initial) {
		res->st.peer_lost_writes = st->lost_writes;
		hablk_state_set(res, HABLK_S_CONN, HABLK_CONN_CONNECTED);
		res->st.last_error[0] = 0;
		res->st.solo_ready = false;
	}
	res->st.changed = NULL;		/* announced below */
	hablk_state_unlock(res, NULL);
	if (initial) {
		hablk_genl_event(res, "connection");
		return connected_decide(res);
	}
	if (changed && st->disk == HABLK_DISK_DISKLESS)
		peer_detached(res);
	if (res->st.peer_size_sectors > res->dev.size_sectors)
		hablk_resize_apply(res);	/* the peer grew too */
	if (changed)
		hablk_genl_event(res, "peer");
	return 0;
}

/* The peer asks to become primary. Returns 0 to grant, or a negative errno. */
int hablk_state_peer_role_request(struct hablk_resource *res, u32 role)
{
	int ret;

	if (role != HABLK_ROLE_PRIMARY)
		return -EINVAL;
	hablk_state_lock(res);
	ret = hablk_state_allows(res, HABLK_OP_PEER_PRIMARY, 0, NULL);
	if (!ret)
		hablk_state_set(res, HABLK_S_PEER_ROLE, HABLK_ROLE_PRIMARY);
	hablk_state_unlock(res, NULL);
	return ret;
}
