/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Two primaries: the per-extent write-lock table's decisions (docs/protocol.md,
 * section 12.1), bitmaps only: no locking, no bios, no events. kernel/lock.c
 * calls these under its spinlock. Shared by hablk.ko and the userspace unit
 * tests.
 */
#ifndef HABLK_LOCK_TABLE_H
#define HABLK_LOCK_TABLE_H

#ifdef __KERNEL__
#include <linux/types.h>
#else
#include <stdint.h>
#include <stdbool.h>
#include <linux/types.h>
#endif

#define HABLK_LOCK_MAPS	5

/*
 * Bit e of a map is extent e; each map is a bitmap of unsigned long words,
 * as bitmap_zalloc() makes them, and its bits past nextents stay clear.
 * Ranges are [first, last] or [first, +count), within nextents.
 */
struct hablk_lock_table {
	__u64 nextents;
	union {
		unsigned long *maps[HABLK_LOCK_MAPS];
		struct {
			unsigned long *held;	  /* extents this node may write */
			unsigned long *releasing; /* held, being given up: no new writes */
			unsigned long *wanted;	  /* parked writes wait for these */
			unsigned long *announced; /* wanted, and hablkd was told */
			unsigned long *unheld;	  /* asked to release, not held: say so */
		};
	};
	__u64 nreleasing;		/* bits in releasing */
	__u64 grants, releases;		/* extents newly held, extents given up */
};

/* The extents [*first, *last] a range of sectors touches (a 0-byte one: its sector's). */
void hablk_lt_extents(const struct hablk_lock_table *t, unsigned int shift, __u64 sector,
		      __u32 size, __u64 *first, __u64 *last);
/* May a write of this node go to [first, last] now: all held, none releasing? */
bool hablk_lt_covered(const struct hablk_lock_table *t, __u64 first, __u64 last);
/* A write to [first, last] parks: want what it lacks. True if a new want appeared. */
bool hablk_lt_want(struct hablk_lock_table *t, __u64 first, __u64 last);
/* hablkd granted [first, +count): held, no longer wanted. False: beyond the device. */
bool hablk_lt_grant(struct hablk_lock_table *t, __u64 first, __u64 count);
/* hablkd asks for [first, +count): held ones start releasing, others are unheld. */
bool hablk_lt_release(struct hablk_lock_table *t, __u64 first, __u64 count);
/* The peer is fenced: every extent is held, nothing wanted. */
void hablk_lt_take_all(struct hablk_lock_table *t);
/* Demoted: everything held starts releasing, nothing is wanted. */
void hablk_lt_drop_all(struct hablk_lock_table *t);
/* Releasing extents [first, +count) have no writes left: given up. */
void hablk_lt_released(struct hablk_lock_table *t, __u64 first, __u64 count);
/* The next run of unheld extents at or after @from, cleared: its first extent, or nextents. */
__u64 hablk_lt_take_unheld(struct hablk_lock_table *t, __u64 from, __u64 *count);
/*
 * The next run at or after @from of extents wanted and not yet announced,
 * marked announced: its first extent and *count, or nextents.
 */
__u64 hablk_lt_announce_next(struct hablk_lock_table *t, __u64 from, __u64 *count);
/* The next run of @map at or after @from: its first extent and *count, or nextents. */
__u64 hablk_lt_next_run(const struct hablk_lock_table *t, const unsigned long *map,
			__u64 from, __u64 *count);
/* Is every extent of [first, +count) held (releasing or not)? */
bool hablk_lt_all_held(const struct hablk_lock_table *t, __u64 first, __u64 count);
/* Is any extent of [first, last] held (a peer's write there is refused)? */
bool hablk_lt_any_held(const struct hablk_lock_table *t, __u64 first, __u64 last);
/* Is any bit of @map set? */
bool hablk_lt_any(const struct hablk_lock_table *t, const unsigned long *map);
/* How many extents of @map are set. */
__u64 hablk_lt_weight(const struct hablk_lock_table *t, const unsigned long *map);

#endif /* HABLK_LOCK_TABLE_H */
