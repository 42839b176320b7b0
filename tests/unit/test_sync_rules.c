// SPDX-License-Identifier: GPL-2.0
/* test_sync_rules.c - check(3) unit tests of kernel/sync_rules.c (sync decision at connect). */
#include <check.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../kernel/sync_rules.h"
#include "suites.h"

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#define NR_RULES	18

/* Data generations: random 64-bit identifiers in real life. */
#define A	0x1111aaaa2222aaaaULL
#define B	0x3333bbbb4444bbbbULL
#define C	0x5555cccc6666ccccULL
#define D	0x7777dddd8888ddddULL

/* current, bitmap, history uuid; consistent, dirty */
#define GEN(cur, bm, hist, cons, drt) \
	{ .current_uuid = (cur), .bitmap_uuid = (bm), .history_uuid = (hist), \
	  .consistent = (cons), .dirty = (drt) }
/* an Inconsistent node that was the target of a sync from generation sync */
#define GENS(cur, bm, hist, sync) \
	{ .current_uuid = (cur), .bitmap_uuid = (bm), .history_uuid = (hist), \
	  .consistent = false, .sync_uuid = (sync) }
/* the same, and discard (connect --discard-my-data) */
#define GEND(cur, bm, hist, cons, drt, dis) \
	{ .current_uuid = (cur), .bitmap_uuid = (bm), .history_uuid = (hist), \
	  .consistent = (cons), .dirty = (drt), .discard = (dis) }

static const struct hablk_gen fresh = GEN(0, 0, 0, false, false);

/* The decision the peer must reach for the same meeting, seen from its side. */
static enum hablk_sync_decision mirror(enum hablk_sync_decision d)
{
	switch (d) {
	case HABLK_SYNC_SOURCE:		return HABLK_SYNC_TARGET;
	case HABLK_SYNC_TARGET:		return HABLK_SYNC_SOURCE;
	case HABLK_SYNC_SOURCE_FULL:	return HABLK_SYNC_TARGET_FULL;
	case HABLK_SYNC_TARGET_FULL:	return HABLK_SYNC_SOURCE_FULL;
	default:			return d;
	}
}

static void fmt_gen(char *buf, size_t len, const struct hablk_gen *g)
{
	snprintf(buf, len, "{cur %llx bm %llx hist %llx sync %llx%s%s}",
		 (unsigned long long)g->current_uuid, (unsigned long long)g->bitmap_uuid,
		 (unsigned long long)g->history_uuid, (unsigned long long)g->sync_uuid,
		 g->consistent ? " consistent" : " inconsistent", g->dirty ? " dirty" : "");
}

/* Decide for both sides; assert each decision and rule, and that they mirror. */
static void assert_meeting(const struct hablk_gen *l, const struct hablk_gen *p,
			   enum hablk_sync_decision want, int want_rule)
{
	enum hablk_sync_decision got, back;
	int rule = -1, back_rule = -1;

	got = hablk_sync_decide(l, p, &rule);
	ck_assert_msg(got == want && rule == want_rule, "got %s (rule %d), want %s (rule %d)",
		      hablk_sync_decision_name(got), rule, hablk_sync_decision_name(want),
		      want_rule);
	back = hablk_sync_decide(p, l, &back_rule);
	ck_assert_msg(back == mirror(want), "peer side: got %s (rule %d), want %s",
		      hablk_sync_decision_name(back), back_rule,
		      hablk_sync_decision_name(mirror(want)));
}

/* One row per rule: an input where that rule is the first to match. */
static const struct {
	const char *what;
	struct hablk_gen local, peer;
	enum hablk_sync_decision decision;
	int rule;
} rows[] = {
	{ "both inconsistent", GEN(A, 0, 0, false, false), GEN(B, A, 0, false, true),
	  HABLK_SYNC_BOTH_INCONSISTENT, 0 },
	{ "local resumes a sync from the peer's generation", GENS(C, 0, 0, A),
	  GEN(A, 0, 0, true, false), HABLK_SYNC_TARGET, 16 },
	{ "local resumes, the peer wrote alone since", GENS(C, D, 0, A),
	  GEN(B, A, 0, true, true), HABLK_SYNC_TARGET, 16 },
	{ "peer resumes a sync from local's generation", GEN(A, 0, 0, true, false),
	  GENS(0, 0, 0, A), HABLK_SYNC_SOURCE, 17 },
	{ "peer resumes, local wrote alone since", GEN(B, A, D, true, false),
	  GENS(0, 0, 0, A), HABLK_SYNC_SOURCE, 17 },
	{ "local's sync was from another generation", GENS(C, 0, 0, D),
	  GEN(A, 0, 0, true, false), HABLK_SYNC_TARGET_FULL, 1 },
	{ "local's sync generation is only in the peer's history", GENS(C, 0, 0, A),
	  GEN(B, 0, A, true, false), HABLK_SYNC_TARGET_FULL, 1 },
	{ "both inconsistent, one with a sync to resume", GENS(C, 0, 0, A), GENS(A, 0, 0, 0),
	  HABLK_SYNC_BOTH_INCONSISTENT, 0 },
	{ "local inconsistent, peer has data", GEN(0, 0, 0, false, false),
	  GEN(A, 0, 0, true, false), HABLK_SYNC_TARGET_FULL, 1 },
	{ "peer inconsistent, local has data", GEN(A, 0, 0, true, false),
	  GEN(0, 0, 0, false, false), HABLK_SYNC_SOURCE_FULL, 2 },
	{ "same generation, both dirty", GEN(A, 0, 0, true, true), GEN(A, 0, 0, true, true),
	  HABLK_SYNC_SPLIT_BRAIN, 3 },
	{ "same generation, local dirty", GEN(A, 0, 0, true, true), GEN(A, 0, 0, true, false),
	  HABLK_SYNC_SOURCE, 4 },
	{ "same generation, peer dirty", GEN(A, 0, 0, true, false), GEN(A, 0, 0, true, true),
	  HABLK_SYNC_TARGET, 5 },
	{ "same generation", GEN(A, B, C, true, false), GEN(A, 0, 0, true, false),
	  HABLK_SYNC_NONE, 6 },
	{ "both diverged, local discards", GEND(B, A, 0, true, false, true),
	  GEN(C, A, 0, true, false), HABLK_SYNC_TARGET, 7 },
	{ "both diverged, peer discards", GEN(B, A, 0, true, false),
	  GEND(C, A, 0, true, false, true), HABLK_SYNC_SOURCE, 8 },
	{ "both diverged, both discard", GEND(B, A, 0, true, false, true),
	  GEND(C, A, 0, true, false, true), HABLK_SYNC_SPLIT_BRAIN, 9 },
	{ "both diverged", GEN(B, A, 0, true, false), GEN(C, A, 0, true, false),
	  HABLK_SYNC_SPLIT_BRAIN, 9 },
	{ "local ahead", GEN(B, A, 0, true, false), GEN(A, 0, 0, true, false),
	  HABLK_SYNC_SOURCE, 11 },
	{ "peer ahead", GEN(A, 0, 0, true, false), GEN(B, A, 0, true, false),
	  HABLK_SYNC_TARGET, 12 },
	{ "peer's generation in local history", GEN(B, 0, A, true, false),
	  GEN(A, 0, 0, true, false), HABLK_SYNC_SOURCE_FULL, 13 },
	{ "local bitmap is peer's history", GEN(C, B, 0, true, false),
	  GEN(A, 0, B, true, false), HABLK_SYNC_SOURCE_FULL, 13 },
	{ "local generation in peer history", GEN(A, 0, 0, true, false),
	  GEN(B, 0, A, true, false), HABLK_SYNC_TARGET_FULL, 14 },
	{ "peer bitmap is local history", GEN(A, 0, B, true, false),
	  GEN(C, B, 0, true, false), HABLK_SYNC_TARGET_FULL, 14 },
	{ "each descends from the other", GEN(B, A, 0, true, false),
	  GEN(A, B, 0, true, false), HABLK_SYNC_UNRELATED, 10 },
	{ "own ancestor", GEN(A, A, 0, true, false), GEN(B, 0, A, true, false),
	  HABLK_SYNC_UNRELATED, 10 },
	{ "unrelated", GEN(A, 0, 0, true, false), GEN(B, 0, 0, true, false),
	  HABLK_SYNC_UNRELATED, 15 },
};

START_TEST(rule)
{
	enum hablk_sync_decision got;
	int r = -1;

	got = hablk_sync_decide(&rows[_i].local, &rows[_i].peer, &r);
	ck_assert_msg(got == rows[_i].decision && r == rows[_i].rule,
		      "%s: got %s (rule %d), want %s (rule %d)", rows[_i].what,
		      hablk_sync_decision_name(got), r,
		      hablk_sync_decision_name(rows[_i].decision), rows[_i].rule);
}
END_TEST

/* The table above names every rule at least once. */
START_TEST(rows_cover_every_rule)
{
	bool seen[NR_RULES] = { false };
	size_t i;

	for (i = 0; i < ARRAY_SIZE(rows); i++) {
		ck_assert_int_ge(rows[i].rule, 0);
		ck_assert_int_lt(rows[i].rule, NR_RULES);
		seen[rows[i].rule] = true;
	}
	for (i = 0; i < NR_RULES; i++)
		ck_assert_msg(seen[i], "no row for rule %zu", i);
}
END_TEST

/* What the kernel reads of a rule besides its direction (state.c, peer.c). */
START_TEST(rule_flags)
{
	int n;

	for (n = 0; n <= 17; n++) {
		unsigned int want = n == 16 || n == 17 ? HABLK_RULE_RESUMES :
				    n == 9 ? HABLK_RULE_POLICY : 0;

		ck_assert_uint_eq(hablk_sync_rule_flags(n), want);
	}
	ck_assert_uint_eq(hablk_sync_rule_flags(99), 0);
}
END_TEST

START_TEST(rule_pointer_optional)
{
	struct hablk_gen l = GEN(B, A, 0, true, false), p = GEN(A, 0, 0, true, false);

	ck_assert_int_eq(hablk_sync_decide(&l, &p, NULL), HABLK_SYNC_SOURCE);
	ck_assert_int_eq(hablk_sync_decide(&fresh, &fresh, NULL), HABLK_SYNC_BOTH_INCONSISTENT);
}
END_TEST

static bool same_gen(const struct hablk_gen *a, const struct hablk_gen *b)
{
	return a->current_uuid == b->current_uuid && a->bitmap_uuid == b->bitmap_uuid &&
	       a->history_uuid == b->history_uuid && a->consistent == b->consistent &&
	       a->dirty == b->dirty && a->discard == b->discard && a->sync_uuid == b->sync_uuid;
}

/* The decision does not touch its inputs. */
START_TEST(inputs_untouched)
{
	struct hablk_gen l = GEN(B, A, C, true, true), p = GEN(A, D, B, false, true);
	struct hablk_gen l0 = l, p0 = p;
	int r;

	hablk_sync_decide(&l, &p, &r);
	ck_assert(same_gen(&l, &l0));
	ck_assert(same_gen(&p, &p0));
}
END_TEST

/*
 * Every combination of uuids {0, A, B, C} for each of the four fields and
 * the three booleans: 2048 generations, 4194304 meetings.
 */
#define NR_GENS 2048

static struct hablk_gen gen_nr(unsigned int n)
{
	static const __u64 v[] = { 0, A, B, C };
	struct hablk_gen g = GEND(v[n & 3], v[(n >> 2) & 3], v[(n >> 4) & 3],
				  (n >> 6) & 1, (n >> 7) & 1, (n >> 8) & 1);

	g.sync_uuid = v[(n >> 9) & 3];
	return g;
}

/* A generation that names itself as its own ancestor. */
static bool self_ancestor(const struct hablk_gen *g)
{
	return (g->current_uuid && (g->current_uuid == g->bitmap_uuid ||
				    g->current_uuid == g->history_uuid)) ||
	       (g->bitmap_uuid && g->bitmap_uuid == g->history_uuid);
}

/* b's current generation is an ancestor (bitmap or history uuid) of a's. */
static bool descends(const struct hablk_gen *a, const struct hablk_gen *b)
{
	return b->current_uuid &&
	       (a->bitmap_uuid == b->current_uuid || a->history_uuid == b->current_uuid);
}

/*
 * Histories no pair of nodes can reach when every new generation is a fresh
 * random uuid: a generation that is its own ancestor, or two that descend
 * from each other.
 */
static bool impossible(const struct hablk_gen *a, const struct hablk_gen *b)
{
	return self_ancestor(a) || self_ancestor(b) || (descends(a, b) && descends(b, a));
}

static size_t describe(char *buf, size_t len, const struct hablk_gen *a,
		       const struct hablk_gen *b, enum hablk_sync_decision ab, int rab,
		       enum hablk_sync_decision ba, int rba)
{
	char ga[128], gb[128];
	int n;

	fmt_gen(ga, sizeof(ga), a);
	fmt_gen(gb, sizeof(gb), b);
	n = snprintf(buf, len, "\n  a=%s b=%s: decide(a,b)=%s (rule %d), decide(b,a)=%s (rule %d)",
		     ga, gb, hablk_sync_decision_name(ab), rab, hablk_sync_decision_name(ba), rba);
	return n < 0 ? 0 : (size_t)n;
}

/*
 * Check decide(a, b) mirrors decide(b, a) (and names a rule of the table).
 * Returns the number of pairs that do not; first[] describes, for each rule
 * that decided decide(a, b), the first such pair where neither side is its
 * own ancestor (or else simply the first pair).
 */
static unsigned int check_symmetry(bool skip_impossible, char *first, size_t len)
{
	bool shown[NR_RULES + 1] = { false };
	unsigned int x, y, bad = 0;
	char any[512] = "";
	size_t used = 0;

	for (x = 0; x < NR_GENS; x++) {
		for (y = 0; y < NR_GENS; y++) {
			struct hablk_gen a = gen_nr(x), b = gen_nr(y);
			enum hablk_sync_decision ab, ba;
			int rab = -1, rba = -1, slot;

			if (skip_impossible && impossible(&a, &b))
				continue;
			ab = hablk_sync_decide(&a, &b, &rab);
			ba = hablk_sync_decide(&b, &a, &rba);
			slot = rab >= 0 && rab < NR_RULES ? rab : NR_RULES;
			if (ab == mirror(ba) && slot != NR_RULES)
				continue;
			if (!bad++)
				describe(any, sizeof(any), &a, &b, ab, rab, ba, rba);
			if (shown[slot] || used >= len || self_ancestor(&a) || self_ancestor(&b))
				continue;
			shown[slot] = true;
			used += describe(first + used, len - used, &a, &b, ab, rab, ba, rba);
		}
	}
	if (bad && !used)
		snprintf(first, len, "%s", any);
	return bad;
}

/* Both nodes must reach the same conclusion, each from its own side. */
START_TEST(symmetry_all)
{
	char first[2048] = "";
	unsigned int bad = check_symmetry(false, first, sizeof(first));

	ck_assert_msg(bad == 0, "%u of %u meetings not symmetric, e.g.:%s", bad,
		      NR_GENS * NR_GENS, first);
}
END_TEST

/* The same, leaving out the histories of impossible(). */
START_TEST(symmetry_possible)
{
	char first[2048] = "";
	unsigned int bad = check_symmetry(true, first, sizeof(first));

	ck_assert_msg(bad == 0, "%u meetings not symmetric, e.g.:%s", bad, first);
}
END_TEST

/* The generated set reaches every rule, and only the rules of the table. */
START_TEST(generated_set_reaches_every_rule)
{
	unsigned int x, y, hits[NR_RULES] = { 0 }, out_of_range = 0;
	int r;

	for (x = 0; x < NR_GENS; x++) {
		for (y = 0; y < NR_GENS; y++) {
			struct hablk_gen a = gen_nr(x), b = gen_nr(y);

			r = -1;
			hablk_sync_decide(&a, &b, &r);
			if (r >= 0 && r < NR_RULES)
				hits[r]++;
			else
				out_of_range++;
		}
	}
	ck_assert_uint_eq(out_of_range, 0);
	for (r = 0; r < NR_RULES; r++)
		ck_assert_msg(hits[r], "rule %d never reached", r);
}
END_TEST

/* The sequence of a cluster's life, as the nodes see it when they connect. */
START_TEST(story_fresh_pair)
{
	assert_meeting(&fresh, &fresh, HABLK_SYNC_BOTH_INCONSISTENT, 0);
}
END_TEST

START_TEST(story_forced_primary)
{
	/* `primary --force` on alpha: a new random generation, UpToDate */
	struct hablk_gen alpha = GEN(A, 0, 0, true, false);

	assert_meeting(&alpha, &fresh, HABLK_SYNC_SOURCE_FULL, 2);
	assert_meeting(&fresh, &alpha, HABLK_SYNC_TARGET_FULL, 1);
}
END_TEST

START_TEST(story_initial_sync_done)
{
	/* the full sync is over: beta takes alpha's generation */
	struct hablk_gen alpha = GEN(A, 0, 0, true, false), beta = GEN(A, 0, 0, true, false);

	assert_meeting(&alpha, &beta, HABLK_SYNC_NONE, 6);
}
END_TEST

START_TEST(story_interrupted_sync)
{
	/* beta reconnects while still Inconsistent, half-way through the full sync */
	struct hablk_gen alpha = GEN(A, 0, 0, true, false), beta = GEN(0, 0, 0, false, false);

	assert_meeting(&beta, &alpha, HABLK_SYNC_TARGET_FULL, 1);
	/* `invalidate` on an in-sync node: its data is Inconsistent, same generation */
	beta = (struct hablk_gen)GEN(A, 0, 0, false, false);
	assert_meeting(&beta, &alpha, HABLK_SYNC_TARGET_FULL, 1);
	/* beta took SYNC_START from alpha at generation A: the sync resumes */
	beta = (struct hablk_gen)GENS(0, 0, 0, A);
	assert_meeting(&beta, &alpha, HABLK_SYNC_TARGET, 16);
	/* alpha wrote alone meanwhile: its bitmap covers both the rest and the new writes */
	alpha = (struct hablk_gen)GEN(B, A, 0, true, false);
	assert_meeting(&beta, &alpha, HABLK_SYNC_TARGET, 16);
	assert_meeting(&alpha, &beta, HABLK_SYNC_SOURCE, 17);
	/* alpha finished a sync with someone else's disk since: A is history, start over */
	alpha = (struct hablk_gen)GEN(B, 0, A, true, false);
	assert_meeting(&beta, &alpha, HABLK_SYNC_TARGET_FULL, 1);
}
END_TEST

START_TEST(story_primary_wrote_alone)
{
	/* alpha lost beta and wrote: bitmap = old current, current = new */
	struct hablk_gen alpha = GEN(B, A, 0, true, false), beta = GEN(A, 0, 0, true, false);

	assert_meeting(&alpha, &beta, HABLK_SYNC_SOURCE, 11);
	assert_meeting(&beta, &alpha, HABLK_SYNC_TARGET, 12);
	/* alpha crashed after that: its in-flight writes are in the bitmap too */
	alpha.dirty = true;
	assert_meeting(&alpha, &beta, HABLK_SYNC_SOURCE, 11);
}
END_TEST

START_TEST(story_split_brain)
{
	/* both were promoted while apart and wrote */
	struct hablk_gen alpha = GEN(B, A, 0, true, false), beta = GEN(C, A, 0, true, false);

	assert_meeting(&alpha, &beta, HABLK_SYNC_SPLIT_BRAIN, 9);
	assert_meeting(&beta, &alpha, HABLK_SYNC_SPLIT_BRAIN, 9);
}
END_TEST

START_TEST(story_crashed_primary)
{
	/* alpha crashed as primary in the same generation: its in-flight writes */
	struct hablk_gen alpha = GEN(A, 0, 0, true, true), beta = GEN(A, 0, 0, true, false);

	assert_meeting(&alpha, &beta, HABLK_SYNC_SOURCE, 4);
	assert_meeting(&beta, &alpha, HABLK_SYNC_TARGET, 5);
	/* both dirty (dual-primary crash): nobody knows who is right */
	beta.dirty = true;
	assert_meeting(&alpha, &beta, HABLK_SYNC_SPLIT_BRAIN, 3);
}
END_TEST

START_TEST(story_peer_restored_from_backup)
{
	/* alpha resynced beta after writing alone (history = that bitmap uuid);
	 * beta's disk is then restored to the older generation */
	struct hablk_gen alpha = GEN(B, 0, A, true, false), beta = GEN(A, 0, 0, true, false);

	assert_meeting(&alpha, &beta, HABLK_SYNC_SOURCE_FULL, 13);
	assert_meeting(&beta, &alpha, HABLK_SYNC_TARGET_FULL, 14);
}
END_TEST

START_TEST(story_unrelated)
{
	/* two clusters' disks, each forced primary on its own */
	struct hablk_gen alpha = GEN(A, 0, 0, true, false), beta = GEN(B, 0, 0, true, false);

	assert_meeting(&alpha, &beta, HABLK_SYNC_UNRELATED, 15);
	/* with unrelated histories too */
	alpha = (struct hablk_gen)GEN(A, C, D, true, false);
	beta = (struct hablk_gen)GEN(B, 0, 0, true, false);
	assert_meeting(&alpha, &beta, HABLK_SYNC_UNRELATED, 15);
}
END_TEST

START_TEST(names)
{
	static const struct {
		enum hablk_sync_decision d;
		const char *name;
	} want[] = {
		{ HABLK_SYNC_NONE, "in-sync" },
		{ HABLK_SYNC_BOTH_INCONSISTENT, "both-inconsistent" },
		{ HABLK_SYNC_SOURCE, "source" },
		{ HABLK_SYNC_TARGET, "target" },
		{ HABLK_SYNC_SOURCE_FULL, "source-full" },
		{ HABLK_SYNC_TARGET_FULL, "target-full" },
		{ HABLK_SYNC_SPLIT_BRAIN, "split-brain" },
		{ HABLK_SYNC_UNRELATED, "unrelated" },
	};
	static const enum hablk_sync_decision out_of_range[] = {
		(enum hablk_sync_decision)(HABLK_SYNC_UNRELATED + 1),
		(enum hablk_sync_decision)1000,
		(enum hablk_sync_decision)-1,
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(want); i++)
		ck_assert_str_eq(hablk_sync_decision_name(want[i].d), want[i].name);
	for (i = 0; i < ARRAY_SIZE(out_of_range); i++)
		ck_assert_str_eq(hablk_sync_decision_name(out_of_range[i]), "?");
}
END_TEST

/* after-sb policies: every verdict of every policy, and that both sides agree */
#define SB(chg, since, prim, pol) { .changes = (chg), .primary_since = (since), \
				    .primary = (prim), .policy = (pol) }

static enum hablk_sb_verdict flip(enum hablk_sb_verdict v)
{
	return v == HABLK_SB_LOCAL_LOSES ? HABLK_SB_PEER_LOSES :
	       v == HABLK_SB_PEER_LOSES ? HABLK_SB_LOCAL_LOSES : v;
}

static const struct {
	const char *what;
	struct hablk_sb_side l, p;
	enum hablk_sb_verdict want;
} sb_rows[] = {
	{ "disconnect never resolves", SB(0, 0, false, HABLK_ASB_DISCONNECT),
	  SB(5, 0, true, HABLK_ASB_DISCONNECT), HABLK_SB_UNRESOLVED },
	{ "policies differ", SB(0, 0, false, HABLK_ASB_DISCARD_ZERO_CHANGES),
	  SB(5, 0, false, HABLK_ASB_DISCARD_LEAST_CHANGES), HABLK_SB_UNRESOLVED },
	{ "zero changes: local wrote nothing", SB(0, 0, false, HABLK_ASB_DISCARD_ZERO_CHANGES),
	  SB(5, 0, false, HABLK_ASB_DISCARD_ZERO_CHANGES), HABLK_SB_LOCAL_LOSES },
	{ "zero changes: peer wrote nothing", SB(3, 0, false, HABLK_ASB_DISCARD_ZERO_CHANGES),
	  SB(0, 0, false, HABLK_ASB_DISCARD_ZERO_CHANGES), HABLK_SB_PEER_LOSES },
	{ "zero changes: both wrote", SB(3, 0, false, HABLK_ASB_DISCARD_ZERO_CHANGES),
	  SB(5, 0, false, HABLK_ASB_DISCARD_ZERO_CHANGES), HABLK_SB_UNRESOLVED },
	{ "zero changes: neither wrote", SB(0, 0, false, HABLK_ASB_DISCARD_ZERO_CHANGES),
	  SB(0, 0, false, HABLK_ASB_DISCARD_ZERO_CHANGES), HABLK_SB_UNRESOLVED },
	{ "least changes: local fewer", SB(3, 0, false, HABLK_ASB_DISCARD_LEAST_CHANGES),
	  SB(5, 0, false, HABLK_ASB_DISCARD_LEAST_CHANGES), HABLK_SB_LOCAL_LOSES },
	{ "least changes: peer fewer", SB(9, 0, false, HABLK_ASB_DISCARD_LEAST_CHANGES),
	  SB(5, 0, false, HABLK_ASB_DISCARD_LEAST_CHANGES), HABLK_SB_PEER_LOSES },
	{ "least changes: tie", SB(5, 0, false, HABLK_ASB_DISCARD_LEAST_CHANGES),
	  SB(5, 0, false, HABLK_ASB_DISCARD_LEAST_CHANGES), HABLK_SB_UNRESOLVED },
	{ "younger primary: local promoted later",
	  SB(1, 2000, true, HABLK_ASB_DISCARD_YOUNGER_PRIMARY),
	  SB(1, 1000, true, HABLK_ASB_DISCARD_YOUNGER_PRIMARY), HABLK_SB_LOCAL_LOSES },
	{ "younger primary: peer promoted later",
	  SB(1, 1000, false, HABLK_ASB_DISCARD_YOUNGER_PRIMARY),
	  SB(1, 3000, false, HABLK_ASB_DISCARD_YOUNGER_PRIMARY), HABLK_SB_PEER_LOSES },
	{ "younger primary: same second", SB(1, 1000, true, HABLK_ASB_DISCARD_YOUNGER_PRIMARY),
	  SB(1, 1000, true, HABLK_ASB_DISCARD_YOUNGER_PRIMARY), HABLK_SB_UNRESOLVED },
	{ "secondary: local is secondary", SB(9, 0, false, HABLK_ASB_DISCARD_SECONDARY),
	  SB(1, 0, true, HABLK_ASB_DISCARD_SECONDARY), HABLK_SB_LOCAL_LOSES },
	{ "secondary: peer is secondary", SB(1, 0, true, HABLK_ASB_DISCARD_SECONDARY),
	  SB(9, 0, false, HABLK_ASB_DISCARD_SECONDARY), HABLK_SB_PEER_LOSES },
	{ "secondary: both secondary", SB(1, 0, false, HABLK_ASB_DISCARD_SECONDARY),
	  SB(9, 0, false, HABLK_ASB_DISCARD_SECONDARY), HABLK_SB_UNRESOLVED },
	{ "unknown policy", SB(0, 0, false, 200), SB(5, 0, false, 200), HABLK_SB_UNRESOLVED },
};

START_TEST(sb_policy)
{
	ck_assert_msg(hablk_sb_resolve(&sb_rows[_i].l, &sb_rows[_i].p) == sb_rows[_i].want,
		      "%s", sb_rows[_i].what);
	ck_assert_msg(hablk_sb_resolve(&sb_rows[_i].p, &sb_rows[_i].l) == flip(sb_rows[_i].want),
		      "%s (seen from the peer)", sb_rows[_i].what);
}
END_TEST

Suite *sync_rules_suite(void)
{
	Suite *s = suite_create("sync_rules");
	TCase *tc;

	tc = tcase_create("rules");
	tcase_add_loop_test(tc, rule, 0, ARRAY_SIZE(rows));
	tcase_add_loop_test(tc, sb_policy, 0, ARRAY_SIZE(sb_rows));
	tcase_add_test(tc, rows_cover_every_rule);
	tcase_add_test(tc, rule_pointer_optional);
	tcase_add_test(tc, rule_flags);
	tcase_add_test(tc, inputs_untouched);
	tcase_add_test(tc, names);
	suite_add_tcase(s, tc);

	tc = tcase_create("symmetry");
	tcase_add_test(tc, symmetry_all);
	tcase_add_test(tc, symmetry_possible);
	tcase_add_test(tc, generated_set_reaches_every_rule);
	suite_add_tcase(s, tc);

	tc = tcase_create("stories");
	tcase_add_test(tc, story_fresh_pair);
	tcase_add_test(tc, story_forced_primary);
	tcase_add_test(tc, story_initial_sync_done);
	tcase_add_test(tc, story_interrupted_sync);
	tcase_add_test(tc, story_primary_wrote_alone);
	tcase_add_test(tc, story_split_brain);
	tcase_add_test(tc, story_crashed_primary);
	tcase_add_test(tc, story_peer_restored_from_backup);
	tcase_add_test(tc, story_unrelated);
	suite_add_tcase(s, tc);
	return s;
}
