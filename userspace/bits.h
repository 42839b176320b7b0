/* SPDX-License-Identifier: GPL-2.0 */
/* bits.h - bitmaps over extents (uint64_t words) for the lock manager: runs, ranges. */
#ifndef HABLK_BITS_H
#define HABLK_BITS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

static inline uint64_t *bits_alloc(uint64_t n)
{
	return calloc((size_t)(n + 63) / 64 + 1, sizeof(uint64_t));
}

static inline bool bits_test(const uint64_t *b, uint64_t i)
{
	return b[i / 64] >> (i % 64) & 1;
}

static inline void bits_set(uint64_t *b, uint64_t i)
{
	b[i / 64] |= 1ULL << (i % 64);
}

static inline void bits_clear(uint64_t *b, uint64_t i)
{
	b[i / 64] &= ~(1ULL << (i % 64));
}

/* Set or clear [first, first + count). */
static inline void bits_assign(uint64_t *b, uint64_t first, uint64_t count, bool v)
{
	uint64_t i = first, end = first + count;

	while (i < end) {
		if (i % 64 == 0 && end - i >= 64) {
			b[i / 64] = v ? ~0ULL : 0;
			i += 64;
			continue;
		}
		if (v)
			bits_set(b, i);
		else
			bits_clear(b, i);
		i++;
	}
}

/* The first index >= from, below n, whose bit is @v; n if none. */
static inline uint64_t bits_next(const uint64_t *b, uint64_t n, uint64_t from, bool v)
{
	uint64_t i = from, w;

	while (i < n) {
		w = v ? b[i / 64] : ~b[i / 64];
		w &= ~0ULL << (i % 64);
		if (w) {
			i = i / 64 * 64 + (uint64_t)__builtin_ctzll(w);
			return i < n ? i : n;
		}
		i = (i / 64 + 1) * 64;
	}
	return n;
}

/* Is any bit of [first, first + count) set? */
static inline bool bits_any(const uint64_t *b, uint64_t first, uint64_t count)
{
	return count && bits_next(b, first + count, first, true) < first + count;
}

/* Are all bits of [first, first + count) set? */
static inline bool bits_all(const uint64_t *b, uint64_t first, uint64_t count)
{
	return bits_next(b, first + count, first, false) >= first + count;
}

/* The last index < from whose bit is @v, or UINT64_MAX if none. */
static inline uint64_t bits_prev(const uint64_t *b, uint64_t from, bool v)
{
	while (from) {
		from--;
		if (bits_test(b, from) == v)
			return from;
	}
	return UINT64_MAX;
}

static inline uint64_t bits_weight(const uint64_t *b, uint64_t n)
{
	uint64_t i, w = 0;

	for (i = 0; i < n / 64; i++)
		w += (uint64_t)__builtin_popcountll(b[i]);
	for (i = n / 64 * 64; i < n; i++)
		w += bits_test(b, i);
	return w;
}

#endif /* HABLK_BITS_H */
