/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Pure decision of what two nodes must do when they connect, from their data
 * generation identifiers. Shared by hablk.ko and the userspace unit tests.
 */
#ifndef HABLK_SYNC_RULES_H
#define HABLK_SYNC_RULES_H

#ifdef __KERNEL__
#include <linux/types.h>
#else
#include <stdint.h>
#include <stdbool.h>
#include <linux/types.h>
#endif
#include "uapi/linux/hablk.h"

/* What one side knows about itself when the nodes meet. */
struct hablk_gen {
	__u64 current_uuid;	/* 0: never been UpToDate (fresh metadata) */
	__u64 bitmap_uuid;	/* != 0: wrote since it lost the peer at this generation */
	__u64 history_uuid;	/* the previous bitmap_uuid, after a resync */
	bool consistent;	/* UpToDate or Outdated; false: Inconsistent */
	/*
	 * Inconsistent only: the source's generation of the sync this node was
	 * the target of when it was interrupted; 0 if none can be resumed.
	 */
	__u64 sync_uuid;
	/* may hold writes the peer lacks in this generation (crashed primary, failed peer write) */
	bool dirty;
	/* after a split-brain, this node's writes are to be discarded (connect --discard-my-data) */
	bool discard;
};

enum hablk_sync_decision {
	HABLK_SYNC_NONE,		/* in sync, nothing to do */
	HABLK_SYNC_BOTH_INCONSISTENT,	/* no good data anywhere: needs primary --force */
	HABLK_SYNC_SOURCE,		/* local -> peer, blocks changed since bitmap_uuid */
	HABLK_SYNC_TARGET,		/* peer -> local, blocks changed since bitmap_uuid */
	HABLK_SYNC_SOURCE_FULL,		/* local -> peer, every block */
	HABLK_SYNC_TARGET_FULL,		/* peer -> local, every block */
	HABLK_SYNC_SPLIT_BRAIN,		/* both wrote since they parted */
	HABLK_SYNC_UNRELATED,		/* no common history: refuse */
};

/* A split-brain side, for the after-sb policies. */
struct hablk_sb_side {
	__u64 changes;		/* blocks written since the split (bitmap weight) */
	__u64 primary_since;	/* wall-clock seconds it last became primary; 0: not since up */
	bool primary;		/* primary now */
	__u8 policy;		/* its configured enum hablk_after_sb */
};

enum hablk_sb_verdict {
	HABLK_SB_UNRESOLVED,	/* disconnect: an administrator decides */
	HABLK_SB_LOCAL_LOSES,	/* local changes are discarded (after being saved) */
	HABLK_SB_PEER_LOSES,
};

enum hablk_sb_verdict hablk_sb_resolve(const struct hablk_sb_side *local,
				       const struct hablk_sb_side *peer);

/* What a rule's decision means besides the direction (hablk_sync_rule_flags()). */
#define HABLK_RULE_RESUMES	(1U << 0)	/* an interrupted sync resumes from the bitmap */
#define HABLK_RULE_POLICY	(1U << 1)	/* a split-brain an after-sb policy may resolve */

enum hablk_sync_decision hablk_sync_decide(const struct hablk_gen *local,
					   const struct hablk_gen *peer,
					   int *rule);
unsigned int hablk_sync_rule_flags(int number);
const char *hablk_sync_decision_name(enum hablk_sync_decision d);

#endif /* HABLK_SYNC_RULES_H */
