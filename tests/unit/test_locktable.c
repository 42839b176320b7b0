// SPDX-License-Identifier: GPL-2.0
/*
 * test_locktable.c - check(3) tests of kernel/lock_table.c, the per-extent
 * write-lock table of two primaries (docs/protocol.md, section 12.1): each
 * decision by hand, the bit helpers against plain loops, and a model: a
 * simulated kernel (writes that go, park, are resubmitted, drain) driven by
 * a simulated hablkd that grants what is wanted and calls extents back at
 * random. After every step no write goes without its lock, every parked
 * write waits only for what is wanted, and whatever is wanted is told; at
 * the end, with hablkd granting all it is asked, every write gets through.
 */
#include <check.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../kernel/lock_table.h"
#include "suites.h"

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#define BPL		(8 * sizeof(unsigned long))
#define WORDS(n)	((n) / BPL + 1)		/* one more: the tail is checked clear */

static void tbl_init(struct hablk_lock_table *t, __u64 n)
{
	int i;

	memset(t, 0, sizeof(*t));
	t->nextents = n;
	for (i = 0; i < HABLK_LOCK_MAPS; i++) {
		t->maps[i] = calloc(WORDS(n), sizeof(unsigned long));
		ck_assert_ptr_nonnull(t->maps[i]);
	}
}

static void tbl_free(struct hablk_lock_table *t)
{
	int i;

	for (i = 0; i < HABLK_LOCK_MAPS; i++)
		free(t->maps[i]);
}

/* The tests' own bit reader, not the table's. */
static bool bit(const unsigned long *map, __u64 e)
{
	return map[e / BPL] >> (e % BPL) & 1;
}

static void bit_set(unsigned long *map, __u64 e)
{
	map[e / BPL] |= 1UL << (e % BPL);
}

static __u64 ones(const unsigned long *map, __u64 first, __u64 last)
{
	__u64 e, sum = 0;

	for (e = first; e <= last; e++)
		sum += bit(map, e);
	return sum;
}

/* @map is set exactly at the extents listed in @spec ("2-4,7", "" for none). */
static void assert_map(const struct hablk_lock_table *t, const unsigned long *map,
		       const char *name, const char *spec)
{
	bool want[512] = { false };
	unsigned long a, b;
	const char *p = spec;
	char *end;
	__u64 e;

	ck_assert_uint_le(t->nextents, 512);
	while (*p) {
		a = strtoul(p, &end, 10);
		b = *end == '-' ? strtoul(end + 1, &end, 10) : a;
		for (e = a; e <= b; e++)
			want[e] = true;
		p = *end == ',' ? end + 1 : end;
	}
	for (e = 0; e < t->nextents; e++)
		if (bit(map, e) != want[e])
			ck_abort_msg("%s: extent %llu is %s, want {%s}", name,
				     (unsigned long long)e, bit(map, e) ? "set" : "clear", spec);
}

#define MAP(t, m, spec)	assert_map(t, (t)->m, #m, spec)

/* No map has a bit at or past nextents (the kernel's grow copies whole words). */
static void assert_tail_clear(const struct hablk_lock_table *t)
{
	__u64 e;
	int i;

	for (i = 0; i < HABLK_LOCK_MAPS; i++)
		for (e = t->nextents; e < WORDS(t->nextents) * BPL; e++)
			if (bit(t->maps[i], e))
				ck_abort_msg("map %d: bit %llu past the end set", i,
					     (unsigned long long)e);
}

/* ------------------------------------------------------------- directed */

START_TEST(park_on_unheld)
{
	struct hablk_lock_table t;

	tbl_init(&t, 16);
	ck_assert(!hablk_lt_covered(&t, 3, 4));
	ck_assert(hablk_lt_want(&t, 3, 4));
	MAP(&t, wanted, "3-4");
	ck_assert(!hablk_lt_want(&t, 3, 4));		/* asked already: nothing new */
	ck_assert(!hablk_lt_want(&t, 4, 4));
	ck_assert(hablk_lt_want(&t, 4, 5));		/* 5 is new */
	MAP(&t, wanted, "3-5");
	MAP(&t, held, "");
	MAP(&t, announced, "");
	tbl_free(&t);
}
END_TEST

START_TEST(park_on_held)
{
	struct hablk_lock_table t;

	tbl_init(&t, 16);
	ck_assert(hablk_lt_grant(&t, 2, 4));
	ck_assert(hablk_lt_covered(&t, 2, 5));
	ck_assert(hablk_lt_covered(&t, 3, 3));
	ck_assert(!hablk_lt_covered(&t, 1, 2));
	ck_assert(!hablk_lt_covered(&t, 5, 6));
	ck_assert(!hablk_lt_want(&t, 2, 5));		/* held: nothing to ask for */
	MAP(&t, wanted, "");
	ck_assert(hablk_lt_want(&t, 1, 3));		/* only what it lacks */
	MAP(&t, wanted, "1");
	tbl_free(&t);
}
END_TEST

/* The deadlock fixed in d4dd3bc: held but releasing is lacking, and wanted. */
START_TEST(park_on_releasing)
{
	struct hablk_lock_table t;
	__u64 e, n;

	tbl_init(&t, 16);
	ck_assert(hablk_lt_grant(&t, 0, 4));
	ck_assert(hablk_lt_release(&t, 1, 2));
	MAP(&t, releasing, "1-2");
	ck_assert_uint_eq(t.nreleasing, 2);
	ck_assert(hablk_lt_covered(&t, 0, 0));
	ck_assert(hablk_lt_covered(&t, 3, 3));
	ck_assert(!hablk_lt_covered(&t, 0, 1));
	ck_assert(!hablk_lt_covered(&t, 2, 3));
	ck_assert(hablk_lt_want(&t, 0, 3));
	MAP(&t, wanted, "1-2");
	/* the release completes; the want is still there, and told */
	hablk_lt_released(&t, 1, 2);
	MAP(&t, held, "0,3");
	MAP(&t, wanted, "1-2");
	e = hablk_lt_announce_next(&t, 0, &n);
	ck_assert_uint_eq(e, 1);
	ck_assert_uint_eq(n, 2);
	ck_assert(hablk_lt_grant(&t, 1, 2));
	ck_assert(hablk_lt_covered(&t, 0, 3));
	MAP(&t, wanted, "");
	tbl_free(&t);
}
END_TEST

START_TEST(grant_clears_wants)
{
	struct hablk_lock_table t;
	__u64 n;

	tbl_init(&t, 16);
	ck_assert(hablk_lt_want(&t, 0, 9));
	ck_assert_uint_eq(hablk_lt_announce_next(&t, 0, &n), 0);
	ck_assert_uint_eq(n, 10);
	ck_assert(hablk_lt_grant(&t, 3, 4));
	MAP(&t, held, "3-6");
	MAP(&t, wanted, "0-2,7-9");
	MAP(&t, announced, "0-2,7-9");
	ck_assert_uint_eq(t.grants, 4);
	ck_assert(hablk_lt_covered(&t, 3, 6));
	ck_assert(hablk_lt_grant(&t, 5, 3));		/* 5, 6 held already: only 7 counts */
	ck_assert_uint_eq(t.grants, 5);
	MAP(&t, held, "3-7");
	MAP(&t, wanted, "0-2,8-9");
	/* a waiting run ends when all of it is held */
	ck_assert(hablk_lt_all_held(&t, 3, 5));
	ck_assert(!hablk_lt_all_held(&t, 2, 2));
	ck_assert(!hablk_lt_all_held(&t, 7, 2));
	/* beyond the device: refused, nothing changed */
	ck_assert(!hablk_lt_grant(&t, 16, 1));
	ck_assert(!hablk_lt_grant(&t, 15, 2));
	ck_assert(!hablk_lt_grant(&t, 1, UINT64_MAX));
	ck_assert(!hablk_lt_grant(&t, UINT64_MAX, 2));
	ck_assert(!hablk_lt_release(&t, 15, 2));
	ck_assert(!hablk_lt_release(&t, 1, UINT64_MAX));
	ck_assert_uint_eq(t.grants, 5);
	MAP(&t, held, "3-7");
	MAP(&t, unheld, "");
	tbl_free(&t);
}
END_TEST

START_TEST(release_unheld)
{
	struct hablk_lock_table t;
	__u64 e, n;

	tbl_init(&t, 16);
	ck_assert(hablk_lt_release(&t, 2, 3));
	MAP(&t, unheld, "2-4");
	MAP(&t, releasing, "");
	ck_assert_uint_eq(t.nreleasing, 0);
	e = hablk_lt_take_unheld(&t, 0, &n);
	ck_assert_uint_eq(e, 2);
	ck_assert_uint_eq(n, 3);
	MAP(&t, unheld, "");
	ck_assert_uint_eq(hablk_lt_take_unheld(&t, 0, &n), 16);
	ck_assert_uint_eq(n, 0);
	/* partly held: the held part releases, the rest is answered at once */
	ck_assert(hablk_lt_grant(&t, 3, 1));
	ck_assert(hablk_lt_release(&t, 2, 3));
	ck_assert(hablk_lt_release(&t, 2, 3));		/* asked twice: counted once */
	MAP(&t, unheld, "2,4");
	MAP(&t, releasing, "3");
	ck_assert_uint_eq(t.nreleasing, 1);
	e = hablk_lt_take_unheld(&t, 0, &n);
	ck_assert_uint_eq(e, 2);
	ck_assert_uint_eq(n, 1);
	e = hablk_lt_take_unheld(&t, e + n, &n);
	ck_assert_uint_eq(e, 4);
	ck_assert_uint_eq(n, 1);
	ck_assert_uint_eq(hablk_lt_take_unheld(&t, e + n, &n), 16);
	tbl_free(&t);
}
END_TEST

START_TEST(drain_releases)
{
	struct hablk_lock_table t;
	__u64 e, n;

	tbl_init(&t, 16);
	ck_assert(hablk_lt_grant(&t, 0, 10));
	ck_assert(hablk_lt_release(&t, 2, 5));
	ck_assert_uint_eq(t.nreleasing, 5);
	e = hablk_lt_next_run(&t, t.releasing, 0, &n);
	ck_assert_uint_eq(e, 2);
	ck_assert_uint_eq(n, 5);
	hablk_lt_released(&t, 2, 2);			/* extent 4 still has a write */
	MAP(&t, releasing, "4-6");
	MAP(&t, held, "0-1,4-9");
	ck_assert_uint_eq(t.nreleasing, 3);
	ck_assert_uint_eq(t.releases, 2);
	e = hablk_lt_next_run(&t, t.releasing, 0, &n);
	ck_assert_uint_eq(e, 4);
	ck_assert_uint_eq(n, 3);
	hablk_lt_released(&t, 4, 3);
	MAP(&t, releasing, "");
	MAP(&t, held, "0-1,7-9");
	ck_assert_uint_eq(t.nreleasing, 0);
	ck_assert_uint_eq(t.releases, 5);
	ck_assert_uint_eq(hablk_lt_next_run(&t, t.releasing, 0, &n), 16);
	ck_assert_uint_eq(n, 0);
	ck_assert_uint_eq(hablk_lt_weight(&t, t.held), 5);
	tbl_free(&t);
}
END_TEST

START_TEST(announce_only_new)
{
	struct hablk_lock_table t;
	__u64 e, n;

	tbl_init(&t, 16);
	ck_assert(!hablk_lt_any(&t, t.wanted));
	ck_assert_uint_eq(hablk_lt_announce_next(&t, 0, &n), 16);
	ck_assert_uint_eq(n, 0);
	ck_assert(hablk_lt_want(&t, 2, 5));
	ck_assert(hablk_lt_any(&t, t.wanted));
	e = hablk_lt_announce_next(&t, 0, &n);
	ck_assert_uint_eq(e, 2);
	ck_assert_uint_eq(n, 4);
	ck_assert_uint_eq(hablk_lt_announce_next(&t, e + n, &n), 16);
	ck_assert_uint_eq(hablk_lt_announce_next(&t, 0, &n), 16);	/* told: not again */
	ck_assert(hablk_lt_want(&t, 6, 7));
	e = hablk_lt_announce_next(&t, 0, &n);
	ck_assert_uint_eq(e, 6);
	ck_assert_uint_eq(n, 2);
	/* a run around what was told: its two new ends */
	ck_assert(hablk_lt_want(&t, 0, 9));
	e = hablk_lt_announce_next(&t, 0, &n);
	ck_assert_uint_eq(e, 0);
	ck_assert_uint_eq(n, 2);
	e = hablk_lt_announce_next(&t, e + n, &n);
	ck_assert_uint_eq(e, 8);
	ck_assert_uint_eq(n, 2);
	ck_assert_uint_eq(hablk_lt_announce_next(&t, e + n, &n), 16);
	MAP(&t, announced, "0-9");
	/* the dump and the reannounce see the whole run */
	e = hablk_lt_next_run(&t, t.wanted, 0, &n);
	ck_assert_uint_eq(e, 0);
	ck_assert_uint_eq(n, 10);
	tbl_free(&t);
}
END_TEST

/* A run with told islands in it: each new stretch on its own. */
START_TEST(announce_partial_runs)
{
	struct hablk_lock_table t;
	__u64 e, n;
	static const __u64 want[][2] = { { 2, 2 }, { 5, 1 }, { 7, 1 }, { 9, 1 } };
	size_t i;

	tbl_init(&t, 12);
	ck_assert(hablk_lt_want(&t, 4, 4));
	ck_assert(hablk_lt_want(&t, 6, 6));
	ck_assert(hablk_lt_want(&t, 8, 8));
	ck_assert_uint_eq(hablk_lt_announce_next(&t, 0, &n), 4);
	ck_assert_uint_eq(hablk_lt_announce_next(&t, 5, &n), 6);
	ck_assert_uint_eq(hablk_lt_announce_next(&t, 7, &n), 8);
	ck_assert(hablk_lt_want(&t, 2, 9));
	MAP(&t, wanted, "2-9");
	for (e = 0, i = 0; i < ARRAY_SIZE(want); i++, e += n) {
		e = hablk_lt_announce_next(&t, e, &n);
		ck_assert_uint_eq(e, want[i][0]);
		ck_assert_uint_eq(n, want[i][1]);
	}
	ck_assert_uint_eq(hablk_lt_announce_next(&t, e, &n), 12);
	MAP(&t, announced, "2-9");
	/* from the middle of a new stretch: from there on */
	ck_assert(hablk_lt_want(&t, 10, 11));
	e = hablk_lt_announce_next(&t, 11, &n);
	ck_assert_uint_eq(e, 11);
	ck_assert_uint_eq(n, 1);
	MAP(&t, announced, "2-9,11");
	tbl_free(&t);
}
END_TEST

START_TEST(take_all_drop_all)
{
	struct hablk_lock_table t;

	tbl_init(&t, 70);
	ck_assert(hablk_lt_grant(&t, 5, 3));
	ck_assert(hablk_lt_want(&t, 10, 12));
	ck_assert_uint_eq(hablk_lt_announce_next(&t, 0, &(__u64){ 0 }), 10);
	ck_assert(hablk_lt_release(&t, 6, 1));
	hablk_lt_take_all(&t);
	ck_assert_uint_eq(t.grants, 70);
	MAP(&t, held, "0-69");
	MAP(&t, wanted, "");
	MAP(&t, announced, "");
	MAP(&t, releasing, "6");		/* a release under way goes on */
	assert_tail_clear(&t);
	ck_assert(hablk_lt_covered(&t, 7, 69));
	ck_assert(!hablk_lt_covered(&t, 6, 6));
	hablk_lt_take_all(&t);
	ck_assert_uint_eq(t.grants, 70);
	ck_assert(!hablk_lt_want(&t, 20, 21));		/* all held */
	ck_assert(hablk_lt_release(&t, 21, 1));
	ck_assert(hablk_lt_want(&t, 20, 21));
	MAP(&t, wanted, "21");
	hablk_lt_drop_all(&t);
	MAP(&t, releasing, "0-69");
	ck_assert_uint_eq(t.nreleasing, 70);
	MAP(&t, wanted, "");
	assert_tail_clear(&t);
	hablk_lt_released(&t, 0, 70);
	ck_assert_uint_eq(t.nreleasing, 0);
	ck_assert_uint_eq(t.releases, 70);
	MAP(&t, held, "");
	/* with nothing held: nothing to release */
	hablk_lt_drop_all(&t);
	ck_assert_uint_eq(t.nreleasing, 0);
	MAP(&t, releasing, "");
	tbl_free(&t);
}
END_TEST

START_TEST(peer_write)
{
	struct hablk_lock_table t;

	tbl_init(&t, 10);
	ck_assert(!hablk_lt_any_held(&t, 0, 9));
	ck_assert(hablk_lt_grant(&t, 4, 2));
	ck_assert(!hablk_lt_any_held(&t, 0, 3));
	ck_assert(hablk_lt_any_held(&t, 0, 4));
	ck_assert(hablk_lt_any_held(&t, 5, 9));
	ck_assert(!hablk_lt_any_held(&t, 6, 9));
	ck_assert(hablk_lt_release(&t, 4, 1));		/* releasing: still this node's */
	ck_assert(hablk_lt_any_held(&t, 4, 4));
	hablk_lt_released(&t, 4, 1);
	ck_assert(!hablk_lt_any_held(&t, 4, 4));
	tbl_free(&t);
}
END_TEST

/* Sectors to extents, and the last extent of a device. 1 MiB extents: shift 11. */
START_TEST(device_end)
{
	struct hablk_lock_table t;
	__u64 f, l, e, n;

	tbl_init(&t, 10);
	hablk_lt_extents(&t, 11, 0, 4096, &f, &l);
	ck_assert(f == 0 && l == 0);
	hablk_lt_extents(&t, 11, 2047, 1024, &f, &l);	/* across an extent's end */
	ck_assert(f == 0 && l == 1);
	hablk_lt_extents(&t, 11, 2047, 512, &f, &l);
	ck_assert(f == 0 && l == 0);
	hablk_lt_extents(&t, 11, 2047, 0, &f, &l);	/* an empty flush: its sector */
	ck_assert(f == 0 && l == 0);
	hablk_lt_extents(&t, 11, 2047, 100, &f, &l);	/* under a sector: one */
	ck_assert(f == 0 && l == 0);
	hablk_lt_extents(&t, 11, 2048, 1U << 20, &f, &l);
	ck_assert(f == 1 && l == 1);
	hablk_lt_extents(&t, 11, 2048, (1U << 20) + 512, &f, &l);
	ck_assert(f == 1 && l == 2);
	hablk_lt_extents(&t, 11, 10 * 2048 - 8, 4096, &f, &l);
	ck_assert(f == 9 && l == 9);
	hablk_lt_extents(&t, 11, 9 * 2048, 4U << 20, &f, &l);	/* past the end: clamped */
	ck_assert(f == 9 && l == 9);
	ck_assert(!hablk_lt_covered(&t, 9, 9));
	ck_assert(hablk_lt_want(&t, 8, 9));
	e = hablk_lt_announce_next(&t, 0, &n);
	ck_assert(e == 8 && n == 2);
	ck_assert(!hablk_lt_grant(&t, 9, 2));
	ck_assert(hablk_lt_grant(&t, 9, 1));
	ck_assert(hablk_lt_covered(&t, 9, 9));
	ck_assert(!hablk_lt_covered(&t, 8, 9));
	e = hablk_lt_next_run(&t, t.held, 0, &n);
	ck_assert(e == 9 && n == 1);
	ck_assert_uint_eq(hablk_lt_next_run(&t, t.held, 10, &n), 10);
	ck_assert_uint_eq(hablk_lt_next_run(&t, t.held, 1000, &n), 10);	/* a dump's cursor */
	ck_assert_uint_eq(n, 0);
	ck_assert(hablk_lt_release(&t, 9, 1));
	ck_assert(hablk_lt_release(&t, 8, 2));
	ck_assert_uint_eq(t.nreleasing, 1);
	MAP(&t, unheld, "8");
	ck_assert(!hablk_lt_release(&t, 10, 1));
	tbl_free(&t);
}
END_TEST

/* Sizes around word boundaries: the last word is partly used, runs span words. */
static const __u64 sizes[] = { 1, 2, 63, 64, 65, 127, 128, 129, 200, 257 };

START_TEST(not_multiple_of_64)
{
	__u64 size = sizes[_i], e, n;
	struct hablk_lock_table t;

	tbl_init(&t, size);
	hablk_lt_take_all(&t);
	assert_tail_clear(&t);
	ck_assert_uint_eq(t.grants, size);
	ck_assert_uint_eq(hablk_lt_weight(&t, t.held), size);
	ck_assert(hablk_lt_covered(&t, 0, size - 1));
	ck_assert(hablk_lt_all_held(&t, 0, size));
	e = hablk_lt_next_run(&t, t.held, 0, &n);
	ck_assert(e == 0 && n == size);
	ck_assert(hablk_lt_release(&t, size - 1, 1));
	ck_assert(!hablk_lt_covered(&t, 0, size - 1));
	ck_assert(hablk_lt_want(&t, size - 1, size - 1));
	e = hablk_lt_announce_next(&t, 0, &n);
	ck_assert(e == size - 1 && n == 1);
	hablk_lt_drop_all(&t);
	assert_tail_clear(&t);
	ck_assert_uint_eq(t.nreleasing, size);
	e = hablk_lt_next_run(&t, t.releasing, 0, &n);
	ck_assert(e == 0 && n == size);
	hablk_lt_released(&t, 0, size);
	ck_assert_uint_eq(hablk_lt_weight(&t, t.held), 0);
	ck_assert(hablk_lt_release(&t, 0, size));
	e = hablk_lt_take_unheld(&t, 0, &n);
	ck_assert(e == 0 && n == size);
	assert_tail_clear(&t);
	if (size > 130) {
		/* runs across words */
		ck_assert(hablk_lt_grant(&t, 60, 10));
		ck_assert(hablk_lt_grant(&t, 127, 2));
		e = hablk_lt_next_run(&t, t.held, 0, &n);
		ck_assert(e == 60 && n == 10);
		e = hablk_lt_next_run(&t, t.held, e + n, &n);
		ck_assert(e == 127 && n == 2);
		ck_assert(hablk_lt_covered(&t, 60, 69));
		ck_assert(!hablk_lt_covered(&t, 59, 69));
		ck_assert(!hablk_lt_covered(&t, 60, 70));
		ck_assert(!hablk_lt_any_held(&t, 70, 126));
		ck_assert(hablk_lt_any_held(&t, 70, 127));
		ck_assert(hablk_lt_release(&t, 62, 5));
		ck_assert(!hablk_lt_covered(&t, 63, 63));
		ck_assert(hablk_lt_covered(&t, 67, 69));
		ck_assert(hablk_lt_want(&t, 58, 130));
		MAP(&t, wanted, "58-59,62-66,70-126,129-130");
		assert_tail_clear(&t);
	}
	tbl_free(&t);
}
END_TEST

/* The word-at-a-time helpers against bit-by-bit loops, on random maps. */
START_TEST(bits_random)
{
	unsigned int seed = 77 + _i;
	struct hablk_lock_table t;
	__u64 size = 1 + rand_r(&seed) % 300, e, f, l, n, x;
	int round, i, density;

	tbl_init(&t, size);
	for (round = 0; round < 200; round++) {
		density = 1 + rand_r(&seed) % 7;
		for (i = 0; i < HABLK_LOCK_MAPS; i++) {
			memset(t.maps[i], 0, WORDS(size) * sizeof(unsigned long));
			for (e = 0; e < size; e++)
				if (rand_r(&seed) % 8 < density)
					bit_set(t.maps[i], e);
		}
		f = rand_r(&seed) % size;
		l = f + rand_r(&seed) % (size - f);
		for (x = f; x <= l && bit(t.held, x) && !bit(t.releasing, x); x++)
			;
		ck_assert_int_eq(hablk_lt_covered(&t, f, l), x > l);
		ck_assert_int_eq(hablk_lt_any_held(&t, f, l), ones(t.held, f, l) > 0);
		ck_assert_int_eq(hablk_lt_all_held(&t, f, l - f + 1),
				 ones(t.held, f, l) == l - f + 1);
		ck_assert_uint_eq(hablk_lt_weight(&t, t.wanted), ones(t.wanted, 0, size - 1));
		ck_assert_int_eq(hablk_lt_any(&t, t.unheld), ones(t.unheld, 0, size - 1) > 0);
		for (x = f; x < size && !bit(t.held, x); x++)
			;
		e = hablk_lt_next_run(&t, t.held, f, &n);
		ck_assert_uint_eq(e, x);
		for (x = e; x < size && bit(t.held, x); x++)
			;
		ck_assert_uint_eq(n, x - e);
		for (x = f; x < size && !(bit(t.wanted, x) && !bit(t.announced, x)); x++)
			;
		e = hablk_lt_announce_next(&t, f, &n);
		ck_assert_uint_eq(e, x);
		for (; x < size && bit(t.wanted, x); x++)
			;
		ck_assert_uint_le(e + n, x);	/* up to the first told extent, or the run's end */
		for (x = e; x < e + n; x++)
			ck_assert(bit(t.announced, x));
	}
	tbl_free(&t);
}
END_TEST

/* ---------------------------------------------------------------- model */

#define SIM_WRITES	8
#define SIM_MAX		160

enum wstate {
	W_FREE,		/* no write in this slot */
	W_DEFER,	/* submitted (again): its interval and lock check next */
	W_MISSING,	/* lacked a lock: interval let go, about to park */
	W_PARKED,	/* waits in the kernel's list for a grant */
	W_FLIGHT,	/* went: holds its interval until it completes */
};

struct sim {
	struct hablk_lock_table t;
	unsigned int seed;
	unsigned long step;
	struct {
		enum wstate st;
		__u64 first, last;
		unsigned int need;	/* parked: bit k, extent first + k lacked */
	} w[SIM_WRITES];
	bool work, reannounce;		/* the kernel's work items, queued */
	bool closing;			/* to be demoted: no new writes */
	/* hablkd */
	bool asked[SIM_MAX];		/* a WANT arrived, not granted yet */
	bool granted[SIM_MAX];		/* it gave the kernel this one, no RELEASED since */
	bool recall[SIM_MAX];		/* RELEASE sent, no RELEASED yet */
	bool told[SIM_MAX];		/* WANT sent for it since its last grant */
	__u64 grants, releases;	/* expected counters */
	/* how often the interesting things happened */
	unsigned long went, parked, on_releasing, busy_drain, take_all, drop_all, restarts;
};

static unsigned int seed0;	/* for messages */

/* Not ck_assert_msg(): check(3) records the place of every assertion that holds (a write). */
#define FAIL_IF(s, cond, fmt, ...) do { \
	if (cond) \
		ck_abort_msg("seed %u, step %lu: " fmt, seed0, (s)->step, ##__VA_ARGS__); \
} while (0)

static unsigned int rnd(struct sim *s, unsigned int n)
{
	return rand_r(&s->seed) % n;
}

static bool lacking(const struct sim *s, __u64 e)
{
	return !bit(s->t.held, e) || bit(s->t.releasing, e);
}

/* Is any write in flight in extent @e? (lock.c's busy(), from the interval tree) */
static bool busy(const struct sim *s, __u64 e)
{
	int i;

	for (i = 0; i < SIM_WRITES; i++)
		if (s->w[i].st == W_FLIGHT && s->w[i].first <= e && e <= s->w[i].last)
			return true;
	return false;
}

/* hablkd hears LOCK_EVENT WANT [e, +n). */
static void ev_want(struct sim *s, __u64 e, __u64 n, bool fresh)
{
	__u64 x;

	FAIL_IF(s, n == 0 || e + n > s->t.nextents, "WANT %llu+%llu", (unsigned long long)e,
		(unsigned long long)n);
	for (x = e; x < e + n; x++) {
		FAIL_IF(s, !bit(s->t.wanted, x), "WANT of %llu, not wanted",
			(unsigned long long)x);
		FAIL_IF(s, fresh && s->told[x], "WANT of %llu told twice (only new parts)",
			(unsigned long long)x);
		/* reannounce() tells wants not yet announced too: announce() then again */
		if (fresh)
			s->told[x] = true;
		s->asked[x] = true;
	}
}

/* hablkd hears LOCK_EVENT RELEASED [e, +n). */
static void ev_released(struct sim *s, __u64 e, __u64 n)
{
	__u64 x;

	FAIL_IF(s, n == 0 || e + n > s->t.nextents, "RELEASED %llu+%llu", (unsigned long long)e,
		(unsigned long long)n);
	for (x = e; x < e + n; x++) {
		FAIL_IF(s, busy(s, x), "RELEASED %llu with a write in flight there",
			(unsigned long long)x);
		FAIL_IF(s, bit(s->t.held, x), "RELEASED %llu, still held", (unsigned long long)x);
		s->granted[x] = false;
		s->recall[x] = false;
	}
}

/* lock.c's lock_work(): finish_releases(), then announce(). */
static void run_work(struct sim *s)
{
	__u64 e, end, m, n, before;

	s->work = false;
	for (e = 0;;) {
		e = hablk_lt_next_run(&s->t, s->t.releasing, e, &n);
		if (e >= s->t.nextents)
			break;
		end = e + n;
		for (m = e; m < end && !busy(s, m); m++)
			;
		s->busy_drain += m < end;
		if (m > e) {
			before = s->t.nreleasing;
			hablk_lt_released(&s->t, e, m - e);
			FAIL_IF(s, s->t.nreleasing != before - (m - e), "nreleasing");
			s->releases += m - e;
			ev_released(s, e, m - e);
		}
		e = m == e ? m + 1 : m;
	}
	for (e = 0;; e += n) {
		e = hablk_lt_take_unheld(&s->t, e, &n);
		if (e >= s->t.nextents)
			break;
		FAIL_IF(s, n == 0, "empty unheld run");
		for (m = e; m < e + n; m++)
			FAIL_IF(s, s->granted[m], "RELEASED (not held) %llu, which hablkd granted",
				(unsigned long long)m);
		ev_released(s, e, n);
	}
	for (e = 0;; e += n) {
		e = hablk_lt_announce_next(&s->t, e, &n);
		if (e >= s->t.nextents)
			break;
		ev_want(s, e, n, true);
	}
	if (hablk_lt_any(&s->t, s->t.wanted))
		s->reannounce = true;
	/* (c) whatever is wanted has been told */
	for (e = 0; e < s->t.nextents; e++)
		FAIL_IF(s, bit(s->t.wanted, e) && !bit(s->t.announced, e),
			"extent %llu wanted, not told after the work ran", (unsigned long long)e);
}

/* lock.c's reannounce(): every wanted run again. */
static void run_reannounce(struct sim *s)
{
	__u64 e, n;

	s->reannounce = false;
	for (e = 0;; e += n) {
		e = hablk_lt_next_run(&s->t, s->t.wanted, e, &n);
		if (e >= s->t.nextents)
			break;
		ev_want(s, e, n, false);
		s->reannounce = true;
	}
}

/* Every parked write goes again (grant(), take_all(): take_waiting()). */
static void resubmit_parked(struct sim *s)
{
	int i;

	for (i = 0; i < SIM_WRITES; i++)
		if (s->w[i].st == W_PARKED)
			s->w[i].st = W_DEFER;
}

static void grant(struct sim *s, __u64 e, __u64 n)
{
	__u64 x, fresh = 0;

	for (x = e; x < e + n; x++) {
		FAIL_IF(s, s->recall[x], "hablkd grants %llu while calling it back",
			(unsigned long long)x);
		fresh += !bit(s->t.held, x);
	}
	FAIL_IF(s, !hablk_lt_grant(&s->t, e, n), "GRANT %llu+%llu refused", (unsigned long long)e,
		(unsigned long long)n);
	s->grants += fresh;
	for (x = e; x < e + n; x++) {
		s->granted[x] = true;
		s->asked[x] = false;
		s->told[x] = false;
	}
	resubmit_parked(s);
}

/* hablkd grants a run it was asked for, sometimes grown over free extents after it. */
static void hablkd_grant(struct sim *s)
{
	__u64 n = s->t.nextents, e = rnd(s, n), k, end;

	for (k = 0; k < n && !(s->asked[(e + k) % n] && !s->recall[(e + k) % n]); k++)
		;
	if (k == n)
		return;
	e = (e + k) % n;
	for (end = e; end < n && s->asked[end] && !s->recall[end]; end++)
		;
	for (k = rnd(s, 3) ? 0 : rnd(s, 4); k && end < n && !s->recall[end]; k--)
		end++;
	grant(s, e, end - e);
}

/* hablkd calls back a random range, held or not. */
static void hablkd_release(struct sim *s)
{
	__u64 n = s->t.nextents, e = rnd(s, n), c = 1 + rnd(s, 4), x;

	if (c > n - e)
		c = n - e;
	for (x = e; x < e + c; x++)
		s->recall[x] = true;
	FAIL_IF(s, !hablk_lt_release(&s->t, e, c), "RELEASE %llu+%llu refused", (unsigned long long)e,
		(unsigned long long)c);
	s->work = true;
}

/* A write of slot @i takes its interval and checks its locks (write_reserve). */
static void submit(struct sim *s, int i)
{
	__u64 e;

	if (!hablk_lt_covered(&s->t, s->w[i].first, s->w[i].last)) {
		s->w[i].st = W_MISSING;
		return;
	}
	/* (b) it goes only where this node holds every extent, none being given up */
	for (e = s->w[i].first; e <= s->w[i].last; e++) {
		FAIL_IF(s, lacking(s, e), "a write goes to extent %llu, %s",
			(unsigned long long)e, bit(s->t.held, e) ? "releasing" : "not held");
		FAIL_IF(s, !s->granted[e] || s->recall[e],
			"a write goes to extent %llu, which hablkd %s", (unsigned long long)e,
			s->granted[e] ? "calls back" : "did not grant");
	}
	s->w[i].st = W_FLIGHT;
	s->went++;
}

/* hablk_lock_park(): parked, its missing extents wanted; or held by now: again. */
static void park(struct sim *s, int i)
{
	__u64 e;

	if (hablk_lt_covered(&s->t, s->w[i].first, s->w[i].last)) {
		s->w[i].st = W_DEFER;
		return;
	}
	s->w[i].st = W_PARKED;
	s->w[i].need = 0;
	for (e = s->w[i].first; e <= s->w[i].last; e++)
		if (lacking(s, e)) {
			s->w[i].need |= 1U << (e - s->w[i].first);
			s->on_releasing += bit(s->t.releasing, e);
		}
	s->parked++;
	if (hablk_lt_want(&s->t, s->w[i].first, s->w[i].last))
		s->work = true;
}

static void new_write(struct sim *s, int i)
{
	__u64 n = s->t.nextents;

	s->w[i].first = rnd(s, n);
	s->w[i].last = s->w[i].first + rnd(s, 3);
	if (s->w[i].last >= n)
		s->w[i].last = n - 1;		/* extents_of() clamps at the device's end */
	s->w[i].st = W_DEFER;
}

static bool any_write(const struct sim *s, enum wstate st)
{
	int i;

	for (i = 0; i < SIM_WRITES; i++)
		if (s->w[i].st == st)
			return true;
	return false;
}

static int pick(struct sim *s, enum wstate st)
{
	int i, k = rnd(s, SIM_WRITES);

	for (i = 0; i < SIM_WRITES; i++)
		if (s->w[(k + i) % SIM_WRITES].st == st)
			return (k + i) % SIM_WRITES;
	return -1;
}

static void check(struct sim *s)
{
	const struct hablk_lock_table *t = &s->t;
	bool wanted = false;
	__u64 e;
	int i;

	/*
	 * (a) A parked write is not covered (a grant that covers it resubmits
	 * it), and each extent it lacked when it parked is wanted until then.
	 * An extent it held then may have been called back since, unwanted:
	 * the grant of the others resubmits it, and it asks for that one then.
	 */
	for (i = 0; i < SIM_WRITES; i++) {
		if (s->w[i].st != W_PARKED)
			continue;
		FAIL_IF(s, hablk_lt_covered(t, s->w[i].first, s->w[i].last),
			"write %d [%llu, %llu] parked, covered, not resubmitted", i,
			(unsigned long long)s->w[i].first, (unsigned long long)s->w[i].last);
		FAIL_IF(s, !s->w[i].need, "write %d parked, lacking nothing", i);
		for (e = s->w[i].first; e <= s->w[i].last; e++) {
			if (!(s->w[i].need & 1U << (e - s->w[i].first)))
				continue;
			FAIL_IF(s, !lacking(s, e), "write %d parked for extent %llu, held now", i,
				(unsigned long long)e);
			FAIL_IF(s, !bit(t->wanted, e),
				"write %d parked for extent %llu (%s), which is not wanted", i,
				(unsigned long long)e, bit(t->held, e) ? "releasing" : "not held");
		}
	}
	/* (b) writes in flight keep their extents: no release drops them */
	for (i = 0; i < SIM_WRITES; i++)
		if (s->w[i].st == W_FLIGHT)
			for (e = s->w[i].first; e <= s->w[i].last; e++)
				FAIL_IF(s, !bit(t->held, e) || !s->granted[e],
					"extent %llu lost under a write in flight",
					(unsigned long long)e);
	for (e = 0; e < t->nextents; e++) {
		/* the kernel holds only what hablkd granted */
		FAIL_IF(s, bit(t->held, e) && !s->granted[e], "extent %llu held, not granted",
			(unsigned long long)e);
		/* (c) a want not yet told is about to be: the work is queued */
		FAIL_IF(s, bit(t->wanted, e) && !bit(t->announced, e) && !s->work,
			"extent %llu wanted, not told, no work queued", (unsigned long long)e);
		FAIL_IF(s, bit(t->announced, e) && !bit(t->wanted, e),
			"extent %llu told, not wanted", (unsigned long long)e);
		FAIL_IF(s, bit(t->wanted, e) && !lacking(s, e),
			"extent %llu wanted while held", (unsigned long long)e);
		FAIL_IF(s, bit(t->releasing, e) && !bit(t->held, e),
			"extent %llu releasing, not held", (unsigned long long)e);
		FAIL_IF(s, bit(t->releasing, e) && !s->work && !busy(s, e),
			"extent %llu releasing, drained, no work queued", (unsigned long long)e);
		FAIL_IF(s, bit(t->unheld, e) && !s->work, "extent %llu unheld, no work queued",
			(unsigned long long)e);
		wanted |= bit(t->wanted, e);
	}
	/* hablkd may lose WANTs (a restart): they are told again */
	FAIL_IF(s, wanted && !s->work && !s->reannounce, "wants left, nothing will tell them");
	/* (d) counters */
	FAIL_IF(s, t->nreleasing != ones(t->releasing, 0, t->nextents - 1),
		"nreleasing %llu, %llu releasing", (unsigned long long)t->nreleasing,
		(unsigned long long)ones(t->releasing, 0, t->nextents - 1));
	FAIL_IF(s, t->grants != s->grants, "grants %llu, want %llu",
		(unsigned long long)t->grants, (unsigned long long)s->grants);
	FAIL_IF(s, t->releases != s->releases, "releases %llu, want %llu",
		(unsigned long long)t->releases, (unsigned long long)s->releases);
	assert_tail_clear(t);
}

static void sim_step(struct sim *s)
{
	unsigned int r = rnd(s, 1000);
	__u64 e, c, n = s->t.nextents;
	int i;

	/*
	 * Demotion once the device is closed (no write waits): wants go, as
	 * nobody waits for them; what hablkd was asked may still be granted.
	 */
	if (s->closing && !any_write(s, W_DEFER) && !any_write(s, W_MISSING) &&
	    !any_write(s, W_PARKED)) {
		hablk_lt_drop_all(&s->t);
		memset(s->told, 0, sizeof(s->told));
		s->drop_all++;
		s->work = true;
		s->closing = false;
		return;
	}
	if (r < 250) {				/* an application write */
		i = s->closing ? -1 : pick(s, W_FREE);
		if (i >= 0)
			new_write(s, i);
	} else if (r < 400) {			/* submit_write() */
		i = pick(s, W_DEFER);
		if (i >= 0)
			submit(s, i);
	} else if (r < 500) {			/* write_undo(), hablk_lock_park() */
		i = pick(s, W_MISSING);
		if (i >= 0)
			park(s, i);
	} else if (r < 650) {			/* a write completes: hablk_lock_iv_left() */
		i = pick(s, W_FLIGHT);
		if (i >= 0) {
			s->w[i].st = W_FREE;
			if (s->t.nreleasing)
				s->work = true;
		}
	} else if (r < 750) {
		if (s->work)
			run_work(s);
	} else if (r < 850) {
		hablkd_grant(s);
	} else if (r < 930) {
		hablkd_release(s);
	} else if (r < 960) {
		if (s->reannounce)
			run_reannounce(s);
	} else if (r < 975) {			/* hablkd restarts: forgets what it was asked */
		memset(s->asked, 0, sizeof(s->asked));
		s->restarts++;
	} else if (r < 990) {			/* hablkd grants what nobody asked for */
		e = rnd(s, n);
		c = n - e < 3 ? n - e : 1 + rnd(s, 3);
		for (n = 0; n < c && !s->recall[e + n]; n++)
			;
		if (n)
			grant(s, e, n);
	} else if (r < 996) {
		s->closing = true;
	} else {
		/*
		 * The peer is fenced: TAKE_ALL. Not while the answer to a
		 * release of extents not held is still to come: it would say
		 * RELEASED of extents held by then (hablkd starts a new session
		 * with the peer after a fence, and relearns what is held).
		 */
		if (hablk_lt_any(&s->t, s->t.unheld))
			return;
		s->grants += n - hablk_lt_weight(&s->t, s->t.held);
		hablk_lt_take_all(&s->t);
		s->take_all++;
		for (e = 0; e < n; e++) {
			s->granted[e] = true;
			s->asked[e] = false;
			s->told[e] = false;
		}
		resubmit_parked(s);
	}
}

/* (e) hablkd grants everything it is asked for: every write gets through. */
static void sim_drain(struct sim *s)
{
	int round, i;
	bool left = true;

	for (round = 0; round < 100 && left; round++) {
		s->step++;
		for (i = 0; i < SIM_WRITES; i++) {
			if (s->w[i].st == W_FLIGHT) {
				s->w[i].st = W_FREE;
				if (s->t.nreleasing)
					s->work = true;
			}
			if (s->w[i].st == W_DEFER)
				submit(s, i);
			if (s->w[i].st == W_MISSING)
				park(s, i);
		}
		if (s->work)
			run_work(s);
		if (s->reannounce)
			run_reannounce(s);
		while (hablk_lt_any(&s->t, s->t.wanted)) {
			__u64 before = hablk_lt_weight(&s->t, s->t.wanted);

			hablkd_grant(s);
			if (hablk_lt_weight(&s->t, s->t.wanted) == before)
				break;		/* what is left is being called back */
		}
		check(s);
		left = false;
		for (i = 0; i < SIM_WRITES; i++)
			left |= s->w[i].st != W_FREE;
	}
	for (i = 0; i < SIM_WRITES; i++)
		FAIL_IF(s, s->w[i].st != W_FREE, "write %d [%llu, %llu] waits forever (state %d)",
			i, (unsigned long long)s->w[i].first, (unsigned long long)s->w[i].last,
			s->w[i].st);
	FAIL_IF(s, hablk_lt_any(&s->t, s->t.wanted), "wants left after every grant");
	FAIL_IF(s, s->t.nreleasing, "releases left undrained");
}

static const __u64 sim_sizes[] = { 1, 2, 3, 7, 16, 63, 64, 65, 100, 130, 160 };

START_TEST(model_random)
{
	struct sim *s = calloc(1, sizeof(*s));

	ck_assert_ptr_nonnull(s);
	seed0 = 1000 + (unsigned int)_i;
	s->seed = seed0;
	tbl_init(&s->t, sim_sizes[_i % ARRAY_SIZE(sim_sizes)]);
	for (s->step = 0; s->step < 10000; s->step++) {
		sim_step(s);
		check(s);
	}
	sim_drain(s);
	if (getenv("LOCKTABLE_STATS"))
		printf("seed %u, %llu extents: %lu went, %lu parked (%lu on releasing), %lu drains stopped by a write, %lu take_all, %lu drop_all, %lu hablkd restarts\n",
		       seed0, (unsigned long long)s->t.nextents, s->went, s->parked,
		       s->on_releasing, s->busy_drain, s->take_all, s->drop_all, s->restarts);
	/* the model went through the interesting states */
	ck_assert_uint_gt(s->went, 100);
	ck_assert_uint_gt(s->parked, 10);
	ck_assert_uint_gt(s->releases, 0);
	tbl_free(&s->t);
	free(s);
}
END_TEST

Suite *locktable_suite(void)
{
	Suite *s = suite_create("locktable");
	TCase *tc;

	tc = tcase_create("decisions");
	tcase_add_test(tc, park_on_unheld);
	tcase_add_test(tc, park_on_held);
	tcase_add_test(tc, park_on_releasing);
	tcase_add_test(tc, grant_clears_wants);
	tcase_add_test(tc, release_unheld);
	tcase_add_test(tc, drain_releases);
	tcase_add_test(tc, announce_only_new);
	tcase_add_test(tc, announce_partial_runs);
	tcase_add_test(tc, take_all_drop_all);
	tcase_add_test(tc, peer_write);
	tcase_add_test(tc, device_end);
	tcase_add_loop_test(tc, not_multiple_of_64, 0, ARRAY_SIZE(sizes));
	tcase_add_loop_test(tc, bits_random, 0, 20);
	suite_add_tcase(s, tc);

	tc = tcase_create("model");
	tcase_set_timeout(tc, 120);		/* under valgrind */
	tcase_add_loop_test(tc, model_random, 0, 44);
	suite_add_tcase(s, tc);
	return s;
}
