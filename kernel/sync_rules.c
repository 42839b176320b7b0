// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The connect-time sync decision as a table of rules, evaluated in order;
 * the first rule whose condition holds decides. docs/protocol.md lists them.
 */
#include "sync_rules.h"

#ifndef __KERNEL__
#include <stddef.h>
#endif

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

typedef bool (*hablk_rule_fn)(const struct hablk_gen *l, const struct hablk_gen *p);

/* Neither side has consistent data. */
static bool both_inconsistent(const struct hablk_gen *l, const struct hablk_gen *p)
{
	return !l->consistent && !p->consistent;
}

static bool local_inconsistent(const struct hablk_gen *l, const struct hablk_gen *p)
{
	return !l->consistent && p->consistent && p->current_uuid;
}

static bool peer_inconsistent(const struct hablk_gen *l, const struct hablk_gen *p)
{
	return l->consistent && !p->consistent && l->current_uuid;
}

/*
 * Local is the target of an interrupted sync from the peer's generation, as
 * the peer is now or as it was when it started writing without us: the
 * peer's bitmap covers what local lacks, so the sync resumes from it.
 */
static bool local_resumes(const struct hablk_gen *l, const struct hablk_gen *p)
{
	return !l->consistent && p->consistent && l->sync_uuid &&
	       (l->sync_uuid == p->current_uuid || l->sync_uuid == p->bitmap_uuid);
}

static bool peer_resumes(const struct hablk_gen *l, const struct hablk_gen *p)
{
	return local_resumes(p, l);
}

static bool same_generation(const struct hablk_gen *l, const struct hablk_gen *p)
{
	return l->current_uuid == p->current_uuid;
}

static bool same_both_dirty(const struct hablk_gen *l, const struct hablk_gen *p)
{
	return same_generation(l, p) && l->dirty && p->dirty;
}

static bool same_local_dirty(const struct hablk_gen *l, const struct hablk_gen *p)
{
	return same_generation(l, p) && l->dirty;
}

static bool same_peer_dirty(const struct hablk_gen *l, const struct hablk_gen *p)
{
	return same_generation(l, p) && p->dirty;
}

/* Both moved on from the same generation: both wrote while apart. */
static bool both_diverged(const struct hablk_gen *l, const struct hablk_gen *p)
{
	return l->bitmap_uuid && l->bitmap_uuid == p->bitmap_uuid;
}

/* Split-brain, and the administrator chose this node's data to be discarded. */
static bool diverged_local_discards(const struct hablk_gen *l, const struct hablk_gen *p)
{
	return both_diverged(l, p) && l->discard && !p->discard;
}

static bool diverged_peer_discards(const struct hablk_gen *l, const struct hablk_gen *p)
{
	return both_diverged(l, p) && p->discard && !l->discard;
}

/* Local wrote since the peer's generation; the peer did not. */
static bool local_ahead(const struct hablk_gen *l, const struct hablk_gen *p)
{
	return l->bitmap_uuid && l->bitmap_uuid == p->current_uuid;
}

static bool peer_ahead(const struct hablk_gen *l, const struct hablk_gen *p)
{
	return p->bitmap_uuid && p->bitmap_uuid == l->current_uuid;
}

/* The peer's generation is in our history: we are ahead, but no bitmap covers it. */
static bool local_ahead_history(const struct hablk_gen *l, const struct hablk_gen *p)
{
	return p->current_uuid &&
	       (l->history_uuid == p->current_uuid ||
		(l->bitmap_uuid && l->bitmap_uuid == p->history_uuid));
}

static bool peer_ahead_history(const struct hablk_gen *l, const struct hablk_gen *p)
{
	return l->current_uuid &&
	       (p->history_uuid == l->current_uuid ||
		(p->bitmap_uuid && p->bitmap_uuid == l->history_uuid));
}

/*
 * Histories that cannot come from honest nodes: a generation that is its own
 * ancestor, or two generations each descending from the other. Refuse.
 */
static bool contradictory(const struct hablk_gen *l, const struct hablk_gen *p)
{
	return (l->bitmap_uuid && l->bitmap_uuid == l->current_uuid) ||
	       (p->bitmap_uuid && p->bitmap_uuid == p->current_uuid) ||
	       (l->history_uuid && l->history_uuid == l->current_uuid) ||
	       (p->history_uuid && p->history_uuid == p->current_uuid) ||
	       (local_ahead(l, p) && peer_ahead(l, p)) ||
	       (local_ahead_history(l, p) && peer_ahead_history(l, p));
}

static bool always(const struct hablk_gen *l, const struct hablk_gen *p)
{
	(void)l;
	(void)p;
	return true;
}

/*
 * Evaluated in this order. A rule keeps its number (in logs and docs) when
 * rules are added, so the numbers are in the order rules were added. Its
 * flags (HABLK_RULE_*) tell the kernel what else the decision means.
 */
static const struct {
	int number;
	hablk_rule_fn when;
	enum hablk_sync_decision then;
	unsigned int flags;
} hablk_rules[] = {
	{ 0, both_inconsistent,		HABLK_SYNC_BOTH_INCONSISTENT, 0 },
	{ 16, local_resumes,		HABLK_SYNC_TARGET, HABLK_RULE_RESUMES },
	{ 17, peer_resumes,		HABLK_SYNC_SOURCE, HABLK_RULE_RESUMES },
	{ 1, local_inconsistent,	HABLK_SYNC_TARGET_FULL, 0 },
	{ 2, peer_inconsistent,		HABLK_SYNC_SOURCE_FULL, 0 },
	{ 3, same_both_dirty,		HABLK_SYNC_SPLIT_BRAIN, 0 },
	{ 4, same_local_dirty,		HABLK_SYNC_SOURCE, 0 },
	{ 5, same_peer_dirty,		HABLK_SYNC_TARGET, 0 },
	{ 6, same_generation,		HABLK_SYNC_NONE, 0 },
	{ 7, diverged_local_discards,	HABLK_SYNC_TARGET, 0 },
	{ 8, diverged_peer_discards,	HABLK_SYNC_SOURCE, 0 },
	/* both diverged from one generation: an after-sb policy may pick the loser */
	{ 9, both_diverged,		HABLK_SYNC_SPLIT_BRAIN, HABLK_RULE_POLICY },
	{ 10, contradictory,		HABLK_SYNC_UNRELATED, 0 },
	{ 11, local_ahead,		HABLK_SYNC_SOURCE, 0 },
	{ 12, peer_ahead,		HABLK_SYNC_TARGET, 0 },
	{ 13, local_ahead_history,	HABLK_SYNC_SOURCE_FULL, 0 },
	{ 14, peer_ahead_history,	HABLK_SYNC_TARGET_FULL, 0 },
	{ 15, always,			HABLK_SYNC_UNRELATED, 0 },
};

enum hablk_sync_decision hablk_sync_decide(const struct hablk_gen *local,
					   const struct hablk_gen *peer,
					   int *rule)
{
	unsigned int i;

	for (i = 0; i < ARRAY_LEN(hablk_rules); i++) {
		if (hablk_rules[i].when(local, peer)) {
			if (rule)
				*rule = hablk_rules[i].number;
			return hablk_rules[i].then;
		}
	}
	return HABLK_SYNC_UNRELATED;	/* not reached: the last rule always holds */
}

unsigned int hablk_sync_rule_flags(int number)
{
	unsigned int i;

	for (i = 0; i < ARRAY_LEN(hablk_rules); i++)
		if (hablk_rules[i].number == number)
			return hablk_rules[i].flags;
	return 0;
}

/* Who loses under one comparison: the side with the larger key, or nobody on a tie. */
static enum hablk_sb_verdict larger_loses(__u64 l, __u64 p)
{
	if (l == p)
		return HABLK_SB_UNRESOLVED;
	return l > p ? HABLK_SB_LOCAL_LOSES : HABLK_SB_PEER_LOSES;
}

/*
 * The after-sb policy, decided the same way (mirrored) on both nodes. Both
 * must have configured the same policy, or nothing is resolved.
 */
enum hablk_sb_verdict hablk_sb_resolve(const struct hablk_sb_side *l,
				       const struct hablk_sb_side *p)
{
	if (l->policy != p->policy)
		return HABLK_SB_UNRESOLVED;
	switch (l->policy) {
	case HABLK_ASB_DISCARD_ZERO_CHANGES:
		if (!l->changes == !p->changes)
			return HABLK_SB_UNRESOLVED;
		return l->changes ? HABLK_SB_PEER_LOSES : HABLK_SB_LOCAL_LOSES;
	case HABLK_ASB_DISCARD_LEAST_CHANGES:
		/* fewer changes lose: compare the negated counts */
		return larger_loses(p->changes, l->changes);
	case HABLK_ASB_DISCARD_YOUNGER_PRIMARY:
		return larger_loses(l->primary_since, p->primary_since);
	case HABLK_ASB_DISCARD_SECONDARY:
		if (l->primary == p->primary)
			return HABLK_SB_UNRESOLVED;
		return l->primary ? HABLK_SB_PEER_LOSES : HABLK_SB_LOCAL_LOSES;
	default:
		return HABLK_SB_UNRESOLVED;
	}
}

const char *hablk_sync_decision_name(enum hablk_sync_decision d)
{
	static const char * const names[] = {
		[HABLK_SYNC_NONE] = "in-sync",
		[HABLK_SYNC_BOTH_INCONSISTENT] = "both-inconsistent",
		[HABLK_SYNC_SOURCE] = "source",
		[HABLK_SYNC_TARGET] = "target",
		[HABLK_SYNC_SOURCE_FULL] = "source-full",
		[HABLK_SYNC_TARGET_FULL] = "target-full",
		[HABLK_SYNC_SPLIT_BRAIN] = "split-brain",
		[HABLK_SYNC_UNRELATED] = "unrelated",
	};

	if ((unsigned int)d >= ARRAY_LEN(names) || !names[d])
		return "?";
	return names[d];
}
