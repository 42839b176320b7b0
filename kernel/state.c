// SPDX-License-Identifier: GPL-2.0
/*
 * Role, disk, connection and replication state: the one writer of it
 * (hablk_state_set, checked against a transition table and the rules of the
 * pair), what each command needs of it (a table of preconditions), and the
 * node's own role and disk changes, persisted before they take effect where
 * a crash could make it matter. peer.c handles what the peer says.
 */
#include <linux/random.h>
#include "hablk.h"

static const char * const field_names[__HABLK_S_MAX] = {
	[HABLK_S_ROLE] = "role",
	[HABLK_S_DISK] = "disk",
	[HABLK_S_CONN] = "connection",
	[HABLK_S_REPL] = "replication",
	[HABLK_S_PEER_ROLE] = "peer",
	[HABLK_S_PEER_DISK] = "peer",
};

static const u8 field_offset[__HABLK_S_MAX] = {
	[HABLK_S_ROLE] = offsetof(struct hablk_state, role),
	[HABLK_S_DISK] = offsetof(struct hablk_state, disk),
	[HABLK_S_CONN] = offsetof(struct hablk_state, conn),
	[HABLK_S_REPL] = offsetof(struct hablk_state, repl),
	[HABLK_S_PEER_ROLE] = offsetof(struct hablk_state, peer_role),
	[HABLK_S_PEER_DISK] = offsetof(struct hablk_state, peer_disk),
};

static u8 *field(struct hablk_state *s, enum hablk_state_field f)
{
	return (u8 *)s + field_offset[f];
}

#define R(x)	BIT(HABLK_ROLE_##x)
#define D(x)	BIT(HABLK_DISK_##x)
#define C(x)	BIT(HABLK_CONN_##x)
#define P(x)	BIT(HABLK_REPL_##x)
#define ANY	0xffU

/*
 * The transitions each field may make: [field][from] is a bit per value it
 * may change to. Anything else is a bug (WARN_ONCE), not a refusal.
 */
static const u8 transitions[__HABLK_S_MAX][8] = {
	[HABLK_S_ROLE] = {
		[HABLK_ROLE_SECONDARY] = R(PRIMARY),
		[HABLK_ROLE_PRIMARY] = R(SECONDARY),
	},
	[HABLK_S_DISK] = {
		/* attach: what the superblock says */
		[HABLK_DISK_DISKLESS] = D(INCONSISTENT) | D(OUTDATED) | D(UPTODATE),
		/* synced (or forced primary); detached after an I/O error */
		[HABLK_DISK_INCONSISTENT] = D(UPTODATE) | D(DISKLESS),
		[HABLK_DISK_OUTDATED] = D(UPTODATE) | D(INCONSISTENT) | D(DISKLESS),
		[HABLK_DISK_UPTODATE] = D(OUTDATED) | D(INCONSISTENT) | D(DISKLESS),
	},
	[HABLK_S_CONN] = {
		[HABLK_CONN_STANDALONE] = C(CONNECTING),
		[HABLK_CONN_CONNECTING] = C(CONNECTED) | C(STANDALONE),
		[HABLK_CONN_CONNECTED] = C(CONNECTING),
	},
	[HABLK_S_REPL] = {
		[HABLK_REPL_OFF] = P(ESTABLISHED) | P(SYNC_SOURCE) | P(SYNC_TARGET),
		[HABLK_REPL_ESTABLISHED] = P(OFF) | P(SYNC_SOURCE) | P(SYNC_TARGET) |
					   P(VERIFY_SOURCE) | P(VERIFY_TARGET),
		[HABLK_REPL_SYNC_SOURCE] = P(OFF) | P(ESTABLISHED),
		[HABLK_REPL_SYNC_TARGET] = P(OFF) | P(ESTABLISHED),
		/* a verify that found differences resyncs them */
		[HABLK_REPL_VERIFY_SOURCE] = P(OFF) | P(ESTABLISHED) | P(SYNC_SOURCE),
		[HABLK_REPL_VERIFY_TARGET] = P(OFF) | P(ESTABLISHED),
	},
	/* the peer's word, whatever it says (peer.c validates its range) */
	[HABLK_S_PEER_ROLE] = { ANY, ANY, ANY },
	[HABLK_S_PEER_DISK] = { ANY, ANY, ANY, ANY, ANY, ANY },
};

/*
 * States the pair must never be in. A change into one is refused where it
 * is asked for (hablk_state_allows(), peer.c for the peer's word), and
 * warned about if it happens anyway.
 */
#define INV_UNLESS_TWO_PRIMARIES	BIT(0)	/* allow-two-primaries lifts the row */

static const struct hablk_invariant {
	u8 field_a, value_a, field_b, value_b;
	u8 flags;
	const char *msg;
} invariants[] = {
	/* one primary at a time, unless the extent locks order the two nodes' writes */
	{ HABLK_S_ROLE, HABLK_ROLE_PRIMARY, HABLK_S_PEER_ROLE, HABLK_ROLE_PRIMARY,
	  INV_UNLESS_TWO_PRIMARIES, "peer is primary" },
};

/* The rule @s breaks, or NULL. */
static const char *broken(struct hablk_resource *res, struct hablk_state *s)
{
	const struct hablk_invariant *iv;

	for (iv = invariants; iv < invariants + ARRAY_SIZE(invariants); iv++) {
		if ((iv->flags & INV_UNLESS_TWO_PRIMARIES) && res->cfg.two_primaries)
			continue;
		if (*field(s, iv->field_a) == iv->value_a && *field(s, iv->field_b) == iv->value_b)
			return iv->msg;
	}
	return NULL;
}

/* Would setting @f to @val break a rule of the pair? Its message, or NULL. */
const char *hablk_state_breaks(struct hablk_resource *res, enum hablk_state_field f, u8 val)
{
	struct hablk_state next = res->st.cur;

	lockdep_assert_held(&res->st.lock);
	*field(&next, f) = val;
	return broken(res, &next);
}

/* A refusal's reason, from a table (NL_SET_ERR_MSG wants a literal). */
static void set_msg(struct netlink_ext_ack *extack, const char *msg)
{
	if (extack && msg)
		extack->_msg = msg;
}

/* Pseudo-fields of the precondition table, after the state's own. */
enum {
	HABLK_V_OPEN = __HABLK_S_MAX,	/* 1: the device is open */
	HABLK_V_QUORUM,			/* 0: hablkd manages us and gave us no quorum */
	HABLK_V_MANAGED,		/* 1: hablkd manages us (quorum, locks) */
};

#define PC_UNLESS_FORCE		BIT(0)	/* --force skips the row */
#define PC_TWO_PRIMARIES	BIT(1)	/* only with allow-two-primaries */
#define PC_ONE_PRIMARY		BIT(2)	/* only without it */

/*
 * What each operation needs: it is refused with the first row whose field
 * holds none of the allowed values. An operation that changes a role is
 * also held against the invariants (effects[]).
 */
static const struct hablk_precond {
	u8 op;
	u8 field;
	u8 flags;
	u8 allowed;
	int err;
	const char *msg;
} preconds[] = {
	/* it may be the outdated side of a partition (the arbiter knows) */
	{ HABLK_OP_PRIMARY, HABLK_V_QUORUM, PC_UNLESS_FORCE, BIT(1), -EBUSY,
	  "no quorum: hablkd has not given this node a majority" },
	{ HABLK_OP_PRIMARY, HABLK_S_DISK, PC_UNLESS_FORCE, D(UPTODATE), -EINVAL,
	  "local disk is not UpToDate (use --force only on first start)" },
	{ HABLK_OP_PRIMARY, HABLK_S_DISK, 0, (u8)~D(DISKLESS), -EBUSY,
	  "no disk (detached after an I/O error)" },
	{ HABLK_OP_PRIMARY, HABLK_S_REPL, 0, (u8)~P(SYNC_TARGET), -EBUSY,
	  "disk is being synced from the peer" },
	/* a primary's writes wait for locks only hablkd grants */
	{ HABLK_OP_PRIMARY, HABLK_V_MANAGED, PC_TWO_PRIMARIES, BIT(1), -EBUSY,
	  "allow-two-primaries needs hablkd, and it does not manage this node" },

	{ HABLK_OP_SECONDARY, HABLK_V_OPEN, 0, BIT(0), -EBUSY, "device is open" },

	{ HABLK_OP_DOWN, HABLK_V_OPEN, 0, BIT(0), -EBUSY, "device is open" },
	{ HABLK_OP_DOWN, HABLK_S_ROLE, PC_UNLESS_FORCE, R(SECONDARY), -EBUSY,
	  "resource is primary; make it secondary first" },

	{ HABLK_OP_DISCARD_MY_DATA, HABLK_S_ROLE, 0, R(SECONDARY), -EBUSY,
	  "a primary cannot discard its data; make it secondary" },
	{ HABLK_OP_DISCARD_MY_DATA, HABLK_S_CONN, 0, (u8)~C(CONNECTED), -EBUSY,
	  "already connected: nothing to discard" },

#define INVALIDATE_NEEDS "invalidate needs a secondary with a disk and no sync or verify running"
	{ HABLK_OP_INVALIDATE, HABLK_S_ROLE, 0, R(SECONDARY), -EBUSY, INVALIDATE_NEEDS },
	{ HABLK_OP_INVALIDATE, HABLK_S_DISK, 0, (u8)~D(DISKLESS), -EBUSY, INVALIDATE_NEEDS },
	{ HABLK_OP_INVALIDATE, HABLK_S_REPL, 0, P(OFF) | P(ESTABLISHED), -EBUSY, INVALIDATE_NEEDS },

#define OUTDATE_NEEDS "only a disconnected secondary can be outdated"
	/* with two primaries, the one that lost the arbiter's vote is outdated too */
	{ HABLK_OP_OUTDATE, HABLK_S_ROLE, PC_ONE_PRIMARY, R(SECONDARY), -EBUSY, OUTDATE_NEEDS },
	{ HABLK_OP_OUTDATE, HABLK_S_CONN, 0, (u8)~C(CONNECTED), -EBUSY, OUTDATE_NEEDS },

#define VERIFY_NEEDS "verify needs a connected pair, in sync, both UpToDate"
	{ HABLK_OP_VERIFY, HABLK_S_CONN, 0, C(CONNECTED), -EBUSY, VERIFY_NEEDS },
	{ HABLK_OP_VERIFY, HABLK_S_REPL, 0, P(ESTABLISHED), -EBUSY, VERIFY_NEEDS },
	{ HABLK_OP_VERIFY, HABLK_S_DISK, 0, D(UPTODATE), -EBUSY, VERIFY_NEEDS },
	{ HABLK_OP_VERIFY, HABLK_S_PEER_DISK, 0, D(UPTODATE), -EBUSY, VERIFY_NEEDS },
	/* differing blocks are repaired on the peer: never on a primary */
	{ HABLK_OP_VERIFY, HABLK_S_PEER_ROLE, 0, (u8)~R(PRIMARY), -EBUSY,
	  "the peer is primary: run verify there" },

#define RESIZE_NEEDS "resize needs a connected pair in sync, this disk UpToDate"
	{ HABLK_OP_RESIZE, HABLK_S_CONN, 0, C(CONNECTED), -EBUSY, RESIZE_NEEDS },
	{ HABLK_OP_RESIZE, HABLK_S_REPL, 0, P(ESTABLISHED), -EBUSY, RESIZE_NEEDS },
	{ HABLK_OP_RESIZE, HABLK_S_DISK, 0, D(UPTODATE), -EBUSY, RESIZE_NEEDS },

	/* the peer's data overwrites ours (the decision, or its SYNC_START) */
	{ HABLK_OP_SYNC_TARGET, HABLK_S_ROLE, 0, R(SECONDARY), -EPROTO, NULL },
	{ HABLK_OP_SYNC_TARGET, HABLK_S_DISK, 0, (u8)~D(DISKLESS), -EPROTO, NULL },

	/* the peer's requests: refused ones break the protocol */
	{ HABLK_OP_PEER_PRIMARY, HABLK_V_MANAGED, PC_TWO_PRIMARIES, BIT(1), -ENOLCK, NULL },
	{ HABLK_OP_PEER_WRITE, HABLK_S_PEER_ROLE, 0, R(PRIMARY), -EPROTO, NULL },
	{ HABLK_OP_PEER_SYNC, HABLK_S_ROLE, 0, R(SECONDARY), -EPROTO, NULL },
	{ HABLK_OP_PEER_SYNC, HABLK_S_REPL, 0, P(SYNC_TARGET), -EPROTO, NULL },
	{ HABLK_OP_PEER_VERIFY, HABLK_S_REPL, 0, P(ESTABLISHED), -EPROTO, NULL },
	{ HABLK_OP_PEER_VERIFY, HABLK_S_DISK, 0, D(UPTODATE), -EPROTO, NULL },
};

/* What an operation changes, held against the invariants before it is done. */
static const struct {
	bool set;
	u8 field, value;
} effects[__HABLK_OP_MAX] = {
	[HABLK_OP_PRIMARY] = { true, HABLK_S_ROLE, HABLK_ROLE_PRIMARY },
	[HABLK_OP_PEER_PRIMARY] = { true, HABLK_S_PEER_ROLE, HABLK_ROLE_PRIMARY },
};

#undef R
#undef D
#undef C
#undef P

static u8 value_of(struct hablk_resource *res, unsigned int f)
{
	if (f == HABLK_V_OPEN)
		return !!res->st.open_count;
	if (f == HABLK_V_QUORUM)
		return !READ_ONCE(res->quorum.managed) || READ_ONCE(res->quorum.have);
	if (f == HABLK_V_MANAGED)
		return READ_ONCE(res->quorum.managed);
	return *field(&res->st.cur, f);
}

/*
 * May @op be done now? Caller holds st.lock, so the answer holds until it
 * drops it. 0, or the row's error, with its message in @extack.
 */
int hablk_state_allows(struct hablk_resource *res, enum hablk_op op, u32 opf,
		       struct netlink_ext_ack *extack)
{
	const struct hablk_precond *pc;
	struct hablk_state next;
	const char *msg;

	lockdep_assert_held(&res->st.lock);
	for (pc = preconds; pc < preconds + ARRAY_SIZE(preconds); pc++) {
		if (pc->op != op || ((pc->flags & PC_UNLESS_FORCE) && (opf & HABLK_OPF_FORCE)) ||
		    ((pc->flags & PC_TWO_PRIMARIES) && !res->cfg.two_primaries) ||
		    ((pc->flags & PC_ONE_PRIMARY) && res->cfg.two_primaries))
			continue;
		if (!(BIT(value_of(res, pc->field)) & pc->allowed)) {
			set_msg(extack, pc->msg);
			return pc->err;
		}
	}
	if (!effects[op].set)
		return 0;
	next = res->st.cur;
	*field(&next, effects[op].field) = effects[op].value;
	/* two nodes promoting at once: the lower node id counts as primary already */
	if (op == HABLK_OP_PEER_PRIMARY && res->st.promoting &&
	    res->cfg.local_id < res->cfg.peer_id)
		next.role = HABLK_ROLE_PRIMARY;
	msg = broken(res, &next);
	if (msg) {
		set_msg(extack, msg);
		return -EBUSY;
	}
	return 0;
}

/*
 * The one writer of the state: set field @f to @val. Caller holds st.lock
 * and announces the change with hablk_state_unlock(). A transition the
 * table lacks, or one into a state the invariants forbid, is a bug.
 */
void hablk_state_set(struct hablk_resource *res, enum hablk_state_field f, u8 val)
{
	u8 *p = field(&res->st.cur, f);
	const char *msg;

	lockdep_assert_held(&res->st.lock);
	if (*p == val)
		return;
	WARN_ONCE(*p >= ARRAY_SIZE(transitions[f]) || !(transitions[f][*p] & BIT(val)),
		  "hablk: %s: %s %u -> %u is not in the transition table\n",
		  res->cfg.name, field_names[f], *p, val);
	*p = val;
	msg = broken(res, &res->st.cur);
	WARN_ONCE(msg, "hablk: %s: state breaks a rule: %s\n", res->cfg.name, msg);
	if (!res->st.changed)
		res->st.changed = field_names[f];
}

void hablk_state_lock(struct hablk_resource *res)
	__acquires(&res->st.lock)
{
	spin_lock_irq(&res->st.lock);
}

/* Drop st.lock; announce what changed under it as @why (else the first field's name). */
void hablk_state_unlock(struct hablk_resource *res, const char *why)
	__releases(&res->st.lock)
{
	const char *changed = res->st.changed;

	res->st.changed = NULL;
	spin_unlock_irq(&res->st.lock);
	if (changed)
		hablk_genl_event(res, why ?: changed);
}

/* Set one field, and announce it if it changed. */
void hablk_state_change(struct hablk_resource *res, enum hablk_state_field f, u8 val,
			const char *why)
{
	hablk_state_lock(res);
	hablk_state_set(res, f, val);
	hablk_state_unlock(res, why);
}

void hablk_state_init(struct hablk_resource *res)
{
	struct hablk_st *st = &res->st;

	spin_lock_init(&st->lock);
	st->role = HABLK_ROLE_SECONDARY;
	st->disk = HABLK_DISK_DISKLESS;
	st->conn = HABLK_CONN_STANDALONE;
	st->repl = HABLK_REPL_OFF;
	st->peer_role = HABLK_ROLE_UNKNOWN;
	st->peer_disk = HABLK_DISK_UNKNOWN;
	mutex_init(&st->role_mutex);
	mutex_init(&st->solo_mutex);
	init_waitqueue_head(&st->role_wait);
}

void hablk_state_set_error(struct hablk_resource *res, const char *msg)
{
	unsigned long flags;

	spin_lock_irqsave(&res->st.lock, flags);
	strscpy(res->st.last_error, msg, sizeof(res->st.last_error));
	spin_unlock_irqrestore(&res->st.lock, flags);
}

/* Two primaries: this one lost the arbiter's vote (outdated): its I/O fails until demoted. */
bool hablk_state_fenced(struct hablk_resource *res)
{
	return res->cfg.two_primaries && READ_ONCE(res->st.role) == HABLK_ROLE_PRIMARY &&
	       READ_ONCE(res->st.disk) == HABLK_DISK_OUTDATED;
}

bool hablk_state_may_write(struct hablk_resource *res)
{
	if (READ_ONCE(res->st.role) != HABLK_ROLE_PRIMARY)
		return false;
	if (READ_ONCE(res->st.disk) == HABLK_DISK_UPTODATE)
		return true;
	/* diskless (detached): through the peer only */
	return READ_ONCE(res->st.disk) == HABLK_DISK_DISKLESS && hablk_peer_can_serve(res);
}

/*
 * A write is about to reach only the local disk. Before the first such write
 * completes, a new data generation must be on disk, so that the peer is known
 * to be behind after any crash.
 */
int hablk_state_write_alone(struct hablk_resource *res)
{
	int ret = 0;

	if (READ_ONCE(res->st.solo_ready))
		return 0;
	mutex_lock(&res->st.solo_mutex);
	if (!res->st.solo_ready) {
		spin_lock_irq(&res->st.lock);
		hablk_md_new_generation(res);
		spin_unlock_irq(&res->st.lock);
		ret = hablk_md_set_flags(res, 0, 0);
		if (!ret) {
			WRITE_ONCE(res->st.solo_ready, true);
			pr_info("%s: writing without the peer, new generation %016llx\n",
				res->cfg.name, (unsigned long long)res->st.gen.current_uuid);
		}
	}
	mutex_unlock(&res->st.solo_mutex);
	return ret;
}

/*
 * The peer may lack blocks we wrote in this generation (their bits are set):
 * the next connection resyncs them even if the generations are equal.
 * Returns true if the node was not dirty before.
 */
bool hablk_state_mark_dirty(struct hablk_resource *res)
{
	bool first;

	spin_lock_irq(&res->st.lock);
	first = !res->st.gen.dirty;
	res->st.gen.dirty = true;
	spin_unlock_irq(&res->st.lock);
	if (first)
		hablk_md_set_flags(res, HABLK_MDF_PEER_FULL_SYNC, 0);
	return first;
}

/* Connected, and the peer has every block we have (no resync owed to it). */
bool hablk_state_peer_has_all(struct hablk_resource *res)
{
	bool all;

	spin_lock_irq(&res->st.lock);
	all = res->st.conn == HABLK_CONN_CONNECTED && res->st.repl == HABLK_REPL_ESTABLISHED &&
	      res->st.peer_disk == HABLK_DISK_UPTODATE && !res->st.gen.dirty &&
	      !atomic_read(&res->conn.failed);
	spin_unlock_irq(&res->st.lock);
	return all;
}

/* The peer could not write a block we sent: it needs a resync. */
void hablk_state_peer_write_failed(struct hablk_resource *res, int status)
{
	if (hablk_state_mark_dirty(res))
		pr_warn("%s: peer failed a write (%d); it will be resynced\n",
			res->cfg.name, status);
}

/* The connection is gone (teardown, before requests are given up). */
void hablk_state_conn_lost(struct hablk_resource *res)
{
	bool writing;

	hablk_state_lock(res);
	hablk_state_set(res, HABLK_S_REPL, HABLK_REPL_OFF);
	hablk_state_set(res, HABLK_S_PEER_ROLE, HABLK_ROLE_UNKNOWN);
	hablk_state_set(res, HABLK_S_PEER_DISK, HABLK_DISK_UNKNOWN);
	if (res->st.conn == HABLK_CONN_CONNECTED)
		hablk_state_set(res, HABLK_S_CONN, HABLK_CONN_CONNECTING);
	/* application writes: the node's own flushes (flush.c) write nothing */
	spin_lock(&res->slots.lock);
	writing = res->st.role == HABLK_ROLE_PRIMARY && res->slots.used > res->slots.flushes;
	spin_unlock(&res->slots.lock);
	res->st.changed = NULL;		/* announced below, whatever changed */
	hablk_state_unlock(res, NULL);
	/*
	 * Writes in flight complete without the peer: a new generation first.
	 * Frozen, they are not acknowledged: the generation changes only if
	 * hablkd thaws them (quorum.c), so a node that never thaws is merely
	 * behind, not split from its peer. Until then they are on our disk and
	 * maybe not on the peer's in this same generation: dirty, so that a
	 * reconnect before the thaw resyncs their bits rather than trusting the
	 * equal generations (rule 4, not rule 6).
	 */
	if (writing && !READ_ONCE(res->quorum.frozen))
		hablk_state_write_alone(res);
	else if (writing)
		hablk_state_mark_dirty(res);
	hablk_genl_event(res, "connection");
}

/* Our backing disk failed (backing.c's detach work): diskless from now on. */
void hablk_state_detached(struct hablk_resource *res)
{
	hablk_state_change(res, HABLK_S_DISK, HABLK_DISK_DISKLESS, NULL);
	pr_err("%s: I/O error on the backing disk: detached, %s\n", res->cfg.name,
	       READ_ONCE(res->st.role) == HABLK_ROLE_PRIMARY ? "serving through the peer" :
							       "diskless");
	if (READ_ONCE(res->st.conn) == HABLK_CONN_CONNECTED && hablk_send_state(res))
		hablk_conn_fail(res, "sending state failed");
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
	left = wait_event_timeout(res->st.role_wait, READ_ONCE(res->st.role_replied) ||
				  atomic_read(&res->conn.failed),
				  msecs_to_jiffies(res->cfg.ping_timeout_ms * 2));
	if (!READ_ONCE(res->st.role_replied)) {
		ret = left ? -ENOTCONN : -ETIMEDOUT;
		goto fail;
	}
	if (res->st.role_reply == ENOLCK) {
		NL_SET_ERR_MSG(extack, "allow-two-primaries needs hablkd on the peer too");
		return -EBUSY;
	}
	if (res->st.role_reply) {
		NL_SET_ERR_MSG(extack, "peer is primary (or is becoming primary)");
		return -EBUSY;
	}
	return 0;
fail:
	NL_SET_ERR_MSG(extack, "peer did not answer the role request");
	return ret;
}

void hablk_state_role_reply(struct hablk_resource *res, u32 status)
{
	spin_lock_irq(&res->st.lock);
	if (res->st.promoting) {
		res->st.role_reply = status > MAX_ERRNO ? EIO : status;
		res->st.role_replied = true;
	}
	spin_unlock_irq(&res->st.lock);
	wake_up_all(&res->st.role_wait);
}

/* A forced promotion: this node's data is the reference, a generation of its own. */
static void force_generation(struct hablk_resource *res)
{
	spin_lock_irq(&res->st.lock);
	get_random_bytes(&res->st.gen.current_uuid, sizeof(res->st.gen.current_uuid));
	res->st.gen.current_uuid |= 1;
	res->st.gen.bitmap_uuid = 0;
	res->st.gen.consistent = true;
	res->st.gen.sync_uuid = 0;
	res->st.gen.dirty = false;
	spin_unlock_irq(&res->st.lock);
}

/* The peer granted (or is not there): on disk first, then primary. */
static int become_primary(struct hablk_resource *res, bool connected, bool forced,
			  struct netlink_ext_ack *extack)
{
	bool start_sync;
	int ret;

	if (forced)
		force_generation(res);
	if (!connected)
		hablk_state_write_alone(res);
	ret = hablk_md_set_flags(res, HABLK_MDF_PRIMARY | HABLK_MDF_CONSISTENT |
				 HABLK_MDF_UPTODATE, HABLK_MDF_OUTDATED);
	if (ret) {
		NL_SET_ERR_MSG(extack, "cannot write the metadata");
		if (connected && hablk_send_state(res))	/* undo the peer's grant */
			hablk_conn_fail(res, "sending state failed");
		return ret;
	}
	hablk_flush_promoted(res);
	hablk_state_lock(res);
	hablk_state_set(res, HABLK_S_ROLE, HABLK_ROLE_PRIMARY);
	hablk_state_set(res, HABLK_S_DISK, HABLK_DISK_UPTODATE);
	res->st.primary_since = ktime_get_real_seconds();
	start_sync = connected && res->st.conn == HABLK_CONN_CONNECTED &&
		     res->st.peer_disk == HABLK_DISK_INCONSISTENT &&
		     res->st.repl == HABLK_REPL_ESTABLISHED;
	res->st.changed = NULL;		/* announced once the device is writable */
	hablk_state_unlock(res, NULL);
	hablk_device_set_ro(res, false);
	pr_info("%s: primary%s\n", res->cfg.name, forced ? " (forced)" : "");
	hablk_genl_event(res, "role");
	if (connected && hablk_send_state(res))
		hablk_conn_fail(res, "sending state failed");
	if (start_sync) {
		hablk_state_change(res, HABLK_S_REPL, HABLK_REPL_SYNC_SOURCE, NULL);
		if (hablk_sync_start_source(res, true, false))
			hablk_conn_fail(res, "cannot start the sync");
	}
	return 0;
}

static int state_primary(struct hablk_resource *res, bool force,
			 struct netlink_ext_ack *extack)
{
	bool connected, forced;
	int ret;

	hablk_state_lock(res);
	if (res->st.role == HABLK_ROLE_PRIMARY) {
		hablk_state_unlock(res, NULL);
		return 0;
	}
	ret = hablk_state_allows(res, HABLK_OP_PRIMARY, force ? HABLK_OPF_FORCE : 0, extack);
	if (ret) {
		hablk_state_unlock(res, NULL);
		return ret;
	}
	forced = res->st.disk != HABLK_DISK_UPTODATE;
	connected = res->st.conn == HABLK_CONN_CONNECTED;
	res->st.promoting = true;
	res->st.role_replied = false;
	hablk_state_unlock(res, NULL);

	ret = connected ? ask_peer(res, extack) : 0;
	if (!ret)
		ret = become_primary(res, connected, forced, extack);
	spin_lock_irq(&res->st.lock);
	res->st.promoting = false;
	spin_unlock_irq(&res->st.lock);
	return ret;
}

/* Become primary: from the netlink command, or from an open for writing (auto-promote). */
int hablk_state_primary(struct hablk_resource *res, bool force,
			struct netlink_ext_ack *extack)
{
	int ret;

	mutex_lock(&res->st.role_mutex);
	ret = state_primary(res, force, extack);
	mutex_unlock(&res->st.role_mutex);
	return ret;
}

int hablk_state_secondary(struct hablk_resource *res, struct netlink_ext_ack *extack)
{
	int ret;

	if (READ_ONCE(res->st.role) == HABLK_ROLE_SECONDARY)
		return 0;
	/* while still primary: a secondary sends the peer no writes, flushes included */
	hablk_flush_peer_wait(res);
	hablk_state_lock(res);
	ret = hablk_state_allows(res, HABLK_OP_SECONDARY, 0, extack);
	if (ret) {
		hablk_state_unlock(res, NULL);
		return ret;
	}
	hablk_state_set(res, HABLK_S_ROLE, HABLK_ROLE_SECONDARY);
	res->st.changed = NULL;		/* announced once the device is read-only */
	hablk_state_unlock(res, NULL);
	hablk_device_set_ro(res, true);
	hablk_lock_drop_all(res);	/* a secondary writes nothing: it holds no lock */
	hablk_md_set_flags(res, 0, HABLK_MDF_PRIMARY);
	pr_info("%s: secondary\n", res->cfg.name);
	hablk_genl_event(res, "role");
	if (READ_ONCE(res->st.conn) == HABLK_CONN_CONNECTED && hablk_send_state(res))
		hablk_conn_fail(res, "sending state failed");
	return 0;
}

/* Discard this node's data: it becomes Inconsistent, and a full sync from the peer follows. */
int hablk_state_invalidate(struct hablk_resource *res, struct netlink_ext_ack *extack)
{
	int ret;

	hablk_state_lock(res);
	ret = hablk_state_allows(res, HABLK_OP_INVALIDATE, 0, extack);
	if (ret) {
		hablk_state_unlock(res, NULL);
		return ret;
	}
	hablk_state_set(res, HABLK_S_DISK, HABLK_DISK_INCONSISTENT);
	res->st.gen.consistent = false;
	res->st.gen.sync_uuid = 0;		/* a full sync: no earlier sync resumes */
	res->st.changed = NULL;		/* announced once it is on disk */
	hablk_state_unlock(res, NULL);
	ret = hablk_md_set_flags(res, 0, HABLK_MDF_CONSISTENT | HABLK_MDF_UPTODATE |
				 HABLK_MDF_OUTDATED);
	if (ret) {
		NL_SET_ERR_MSG(extack, "cannot write the metadata");
		return ret;
	}
	pr_info("%s: invalidated: the data will be copied from the peer\n", res->cfg.name);
	hablk_genl_event(res, "disk");
	/* reconnect: the state exchange then decides target-full (rule 1) */
	if (READ_ONCE(res->st.conn) == HABLK_CONN_CONNECTED)
		hablk_conn_fail(res, "invalidated: resyncing from the peer");
	return 0;
}

/*
 * The arbiter says the peer went on without us (hablkd): mark the disk
 * Outdated, on disk too, so that not even a restart without hablkd makes it
 * primary unless forced. A resync from the peer ends it. A primary (two
 * primaries: it lost the vote, the peer took every lock) fails its frozen
 * and parked writes, and every I/O from now on: its data is behind.
 */
int hablk_state_outdate(struct hablk_resource *res, struct netlink_ext_ack *extack)
{
	bool primary;
	int ret;

	hablk_state_lock(res);
	ret = hablk_state_allows(res, HABLK_OP_OUTDATE, 0, extack);
	if (ret || res->st.disk != HABLK_DISK_UPTODATE) {
		hablk_state_unlock(res, NULL);
		return ret;	/* refused; or outdated, inconsistent or diskless already */
	}
	hablk_state_set(res, HABLK_S_DISK, HABLK_DISK_OUTDATED);
	primary = res->st.role == HABLK_ROLE_PRIMARY;
	res->st.changed = NULL;
	hablk_state_unlock(res, NULL);
	ret = hablk_md_set_flags(res, HABLK_MDF_OUTDATED, 0);
	pr_warn("%s: outdated: the peer went on without this node%s\n", res->cfg.name,
		primary ? "; its I/O fails until it is secondary and resynced" : "");
	if (primary) {
		hablk_quorum_drain(res);
		hablk_lock_fail_waiting(res);
	}
	hablk_genl_event(res, "disk");
	return ret;
}
