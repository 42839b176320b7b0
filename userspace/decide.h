/* SPDX-License-Identifier: GPL-2.0 */
/* decide.h - what a data node's hablkd does about quorum, freezing, fencing and
 * promotion, as one pure function of what it knows (unit-tested as a table). */
#ifndef HABLK_DECIDE_H
#define HABLK_DECIDE_H

#include <stdbool.h>

struct hablk_decide_in {
	bool connected;		/* the kernel replicates to the peer */
	bool granted;		/* a fresh heartbeat from the arbiter grants us its vote */
	bool has_arbiter;	/* the resource has one */
	bool has_handler;	/* a fence-peer handler is configured */
	bool fenced;		/* it fenced the peer since the link was last up */
	bool fence_busy;	/* it is running, or waits to be retried */
	bool primary;		/* our role */
	bool uptodate;		/* our disk */
	bool suspended;		/* the kernel froze our writes */
	bool peer_alive;	/* heard from the peer on any path */
	bool auto_promote;	/* the resource asks for automatic promotion */
	bool told_outdated;	/* the arbiter says our data is outdated */
	bool two_primaries;	/* allow-two-primaries: a primary that lost the vote is outdated too */
};

struct hablk_decide_out {
	bool quorum;		/* the verdict for the kernel */
	bool thaw;		/* let frozen writes go */
	bool fence;		/* start the fence-peer handler */
	bool promote;		/* become primary */
	bool outdate;		/* mark our disk Outdated in the kernel (and on disk) */
};

/*
 * Replicating, the pair is a majority. Apart, only the arbiter's vote makes
 * one; without an arbiter, a handler that fenced the peer does. A frozen
 * primary resumes with quorum once, if a handler is configured, it fenced
 * the peer. The handler runs on a frozen primary apart from its peer, with
 * an arbiter only while it holds the vote (a primary cut off from everyone
 * must not shoot the survivor). A secondary promotes itself only with the
 * vote, UpToDate data, and a peer that is gone on every path. A secondary
 * apart from its peer that the arbiter records outdated marks its disk so;
 * with two primaries, so does a primary (its writes then fail: the peer
 * took every lock).
 */
void hablk_decide(const struct hablk_decide_in *in, struct hablk_decide_out *out);

#endif /* HABLK_DECIDE_H */
