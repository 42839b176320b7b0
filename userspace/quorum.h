/* SPDX-License-Identifier: GPL-2.0 */
/* quorum.h - voter liveness from heartbeats, with flap damping, and the
 * majority rule; pure functions of the millisecond time the caller passes. */
#ifndef HABLK_QUORUM_H
#define HABLK_QUORUM_H

#include <stdbool.h>
#include <stdint.h>
#include "../kernel/uapi/linux/hablk.h"

#define HQ_MAX_VOTERS	(HABLK_NODE_ID_MAX + 1)	/* node ids 0..31 */
#define HQ_PATHS	2	/* enum hablk_hb_path: replication link, control */

/*
 * Rules. Times are CLOCK_MONOTONIC milliseconds and never go back.
 * - A voter is heard on a path at the times hq_heard() reports. A path is
 *   alive while it was heard less than timeout_ms ago.
 * - A run is a stretch of hearing a voter (on any path) with every gap below
 *   timeout_ms; a gap of timeout_ms or more ends it and the next hearing
 *   starts a new run.
 * - A voter is alive while its run is unbroken (heard on any path less than
 *   timeout_ms ago) and has lasted stable_ms (0: at once). A voter that keeps
 *   dropping out (flapping) never counts until it stays up for stable_ms.
 * - Self is always alive. Quorum is a strict majority of the voters: 2 of 3
 *   with an arbiter. Without one, 2 of 2: a two-node cluster without an
 *   arbiter loses quorum whenever the peer is dead or unreachable.
 */
_Static_assert(HQ_MAX_VOTERS <= 32, "voters are a bit each in a uint32_t");

struct hq_voter {
	uint64_t heard[HQ_PATHS];	/* last heard on each path, if ever */
	uint32_t heard_paths;		/* paths heard at least once, bit per path */
	uint64_t last;			/* last heard on any path */
	uint64_t since;			/* start of the current run */
};

struct hq {
	unsigned int self;		/* our node id, one of the voters */
	uint32_t voters;		/* data nodes and arbiter, bit per node id */
	unsigned int timeout_ms;	/* silence that makes a path or voter dead */
	unsigned int stable_ms;		/* a run that makes a voter alive */
	struct hq_voter v[HQ_MAX_VOTERS];
};

/* Start with nobody heard. Returns 0, or -1 if self is not in voters or timeout_ms is 0. */
int hq_init(struct hq *q, unsigned int self, uint32_t voters,
	    unsigned int timeout_ms, unsigned int stable_ms);
/* An authentic, fresh heartbeat from id on path; others (self too) are ignored. */
void hq_heard(struct hq *q, unsigned int id, unsigned int path, uint64_t now);

bool hq_alive(const struct hq *q, unsigned int id, uint64_t now);
/* Heard on path less than timeout_ms ago (no damping): link cut vs peer dead. */
bool hq_path_alive(const struct hq *q, unsigned int id, unsigned int path,
		   uint64_t now);
/*
 * Heard on any path less than ms ago, damping aside: a flapping voter is not
 * alive, yet not gone either. Failover waits until the primary is gone.
 */
bool hq_heard_within(const struct hq *q, unsigned int id, uint64_t ms, uint64_t now);
/* Alive voters, self included, as a bit per node id (the heartbeat's "sees"). */
uint32_t hq_alive_mask(const struct hq *q, uint64_t now);
unsigned int hq_votes(const struct hq *q, uint64_t now);
bool hq_quorum(const struct hq *q, uint64_t now);

#endif /* HABLK_QUORUM_H */
