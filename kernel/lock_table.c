// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The per-extent write-lock table of two primaries: what is held, being
 * given up, wanted, told to hablkd (docs/protocol.md, section 12.1). Pure
 * bitmap logic; the caller (kernel/lock.c) serializes the calls. The bit
 * helpers are plain word-at-a-time loops, the same code in both worlds, so
 * that the unit tests run what the module runs.
 */
#include "lock_table.h"

#ifdef __KERNEL__
#include <linux/bitops.h>
#define lt_ffs(w)	__ffs(w)
#define lt_hweight(w)	hweight_long(w)
#else
#include <stddef.h>
#define lt_ffs(w)	((unsigned int)__builtin_ctzl(w))
#define lt_hweight(w)	((unsigned int)__builtin_popcountl(w))
#endif

#define LT_BITS		(8 * sizeof(unsigned long))
#define LT_WORD(e)	((e) / LT_BITS)
#define LT_BIT(e)	(1UL << ((e) % LT_BITS))

static bool lt_test(const unsigned long *map, __u64 e)
{
	return map[LT_WORD(e)] & LT_BIT(e);
}

static void lt_set(unsigned long *map, __u64 e)
{
	map[LT_WORD(e)] |= LT_BIT(e);
}

/* Word @i of (@a and not @b), or of its complement if !@set; @b may be NULL. */
static unsigned long lt_word(const unsigned long *a, const unsigned long *b, __u64 i, bool set)
{
	unsigned long w = a[i] & ~(b ? b[i] : 0UL);

	return set ? w : ~w;
}

/*
 * The first extent in [from, n) where (@a and not @b) is @set (set, or clear
 * if !@set); n if none. @b may be NULL.
 */
static __u64 lt_find(const unsigned long *a, const unsigned long *b, __u64 n, __u64 from,
		     bool set)
{
	__u64 i, e;
	unsigned long w;

	if (from >= n)
		return n;
	i = LT_WORD(from);
	w = lt_word(a, b, i, set) & (~0UL << (from % LT_BITS));
	while (!w) {
		if (++i * LT_BITS >= n)
			return n;
		w = lt_word(a, b, i, set);
	}
	e = i * LT_BITS + lt_ffs(w);
	return e < n ? e : n;
}

/* Set (or clear, if !@set) the bits [first, +count) of @map, a word at a time. */
static void lt_fill(unsigned long *map, __u64 first, __u64 count, bool set)
{
	__u64 e = first, end = first + count, next;
	unsigned long mask;

	while (e < end) {
		mask = ~0UL << (e % LT_BITS);
		next = (e | (LT_BITS - 1)) + 1;		/* the next word's first bit */
		if (next > end)
			mask &= ~0UL >> (LT_BITS - end % LT_BITS);
		if (set)
			map[LT_WORD(e)] |= mask;
		else
			map[LT_WORD(e)] &= ~mask;
		e = next;
	}
}

/* The set bits of @map among the first @n. */
static __u64 lt_count(const unsigned long *map, __u64 n)
{
	__u64 i, sum = 0;

	for (i = 0; i < LT_WORD(n); i++)
		sum += lt_hweight(map[i]);
	if (n % LT_BITS)
		sum += lt_hweight(map[i] & (~0UL >> (LT_BITS - n % LT_BITS)));
	return sum;
}

static bool lt_in_range(const struct hablk_lock_table *t, __u64 first, __u64 count)
{
	return first < t->nextents && count <= t->nextents - first;
}

void hablk_lt_extents(const struct hablk_lock_table *t, unsigned int shift, __u64 sector,
		      __u32 size, __u64 *first, __u64 *last)
{
	__u64 sectors = size >> 9 ? size >> 9 : 1;

	*first = sector >> shift;
	*last = (sector + sectors - 1) >> shift;
	if (*last > t->nextents - 1)
		*last = t->nextents - 1;
}

bool hablk_lt_covered(const struct hablk_lock_table *t, __u64 first, __u64 last)
{
	return lt_find(t->held, t->releasing, last + 1, first, false) > last;
}

/* Being given up counts as lacking: asked for again, granted after the release. */
bool hablk_lt_want(struct hablk_lock_table *t, __u64 first, __u64 last)
{
	bool fresh = false;
	__u64 e;

	for (e = first; e <= last; e++) {
		if ((!lt_test(t->held, e) || lt_test(t->releasing, e)) &&
		    !lt_test(t->wanted, e)) {
			lt_set(t->wanted, e);
			fresh = true;
		}
	}
	return fresh;
}

bool hablk_lt_grant(struct hablk_lock_table *t, __u64 first, __u64 count)
{
	__u64 e;

	if (!lt_in_range(t, first, count))
		return false;
	for (e = first; e < first + count; e++) {
		if (!lt_test(t->held, e)) {
			lt_set(t->held, e);
			t->grants++;
		}
	}
	lt_fill(t->wanted, first, count, false);
	lt_fill(t->announced, first, count, false);
	return true;
}

/* Extents not held are answered at once (no write of this node can be there). */
bool hablk_lt_release(struct hablk_lock_table *t, __u64 first, __u64 count)
{
	__u64 e;

	if (!lt_in_range(t, first, count))
		return false;
	for (e = first; e < first + count; e++) {
		if (!lt_test(t->held, e)) {
			lt_set(t->unheld, e);
		} else if (!lt_test(t->releasing, e)) {
			lt_set(t->releasing, e);
			t->nreleasing++;
		}
	}
	return true;
}

void hablk_lt_take_all(struct hablk_lock_table *t)
{
	t->grants += t->nextents - lt_count(t->held, t->nextents);
	lt_fill(t->held, 0, t->nextents, true);
	lt_fill(t->wanted, 0, t->nextents, false);
	lt_fill(t->announced, 0, t->nextents, false);
}

void hablk_lt_drop_all(struct hablk_lock_table *t)
{
	__u64 i;

	for (i = 0; i * LT_BITS < t->nextents; i++)
		t->releasing[i] |= t->held[i];
	t->nreleasing = lt_count(t->releasing, t->nextents);
	lt_fill(t->wanted, 0, t->nextents, false);
	lt_fill(t->announced, 0, t->nextents, false);
}

void hablk_lt_released(struct hablk_lock_table *t, __u64 first, __u64 count)
{
	lt_fill(t->releasing, first, count, false);
	lt_fill(t->held, first, count, false);
	t->nreleasing -= count;
	t->releases += count;
}

__u64 hablk_lt_take_unheld(struct hablk_lock_table *t, __u64 from, __u64 *count)
{
	__u64 e = hablk_lt_next_run(t, t->unheld, from, count);

	lt_fill(t->unheld, e, *count, false);
	return e;
}

/* A run partly told already: only its new part. */
__u64 hablk_lt_announce_next(struct hablk_lock_table *t, __u64 from, __u64 *count)
{
	__u64 e = lt_find(t->wanted, t->announced, t->nextents, from, true);
	__u64 end = lt_find(t->wanted, t->announced, t->nextents, e, false);

	lt_fill(t->announced, e, end - e, true);
	*count = end - e;
	return e;
}

__u64 hablk_lt_next_run(const struct hablk_lock_table *t, const unsigned long *map,
			__u64 from, __u64 *count)
{
	__u64 e = lt_find(map, NULL, t->nextents, from, true);

	*count = lt_find(map, NULL, t->nextents, e, false) - e;
	return e;
}

bool hablk_lt_all_held(const struct hablk_lock_table *t, __u64 first, __u64 count)
{
	return lt_find(t->held, NULL, first + count, first, false) >= first + count;
}

bool hablk_lt_any_held(const struct hablk_lock_table *t, __u64 first, __u64 last)
{
	return lt_find(t->held, NULL, last + 1, first, true) <= last;
}

bool hablk_lt_any(const struct hablk_lock_table *t, const unsigned long *map)
{
	return lt_find(map, NULL, t->nextents, 0, true) < t->nextents;
}

__u64 hablk_lt_weight(const struct hablk_lock_table *t, const unsigned long *map)
{
	return lt_count(map, t->nextents);
}
