/* SPDX-License-Identifier: GPL-2.0 */
/* arbiter.h - the arbiter's durable per-resource state (DIR/RES.state) and
 * the rule by which it gives its vote to one of two data nodes. */
#ifndef HABLK_ARBITER_H
#define HABLK_ARBITER_H

#include <stddef.h>
#include <stdint.h>
#include "../kernel/uapi/linux/hablk.h"

#define HABLK_ARB_NODES		(HABLK_NODE_ID_MAX + 1)	/* node ids 0..31 */
#define HABLK_ARB_FILE_MAX	4096	/* a longer state file is malformed */

enum hablk_arb_disk {
	HABLK_ARB_UNKNOWN,	/* "unknown": never reported (the default) */
	HABLK_ARB_UPTODATE,	/* "uptodate" */
	HABLK_ARB_OUTDATED,	/* "outdated": fenced, never gets the vote */
};

/*
 * What the arbiter knows of one resource. As text, one "key value" per line,
 * '#' comments and blank lines allowed, each key once, every line ended by a
 * newline:
 *	version 7
 *	current_uuid 8f3a0c11d2e4b6a9
 *	primary 0			(or -1)
 *	node 0 uptodate			(a line per node not unknown)
 *	node 1 outdated
 */
struct hablk_arb_state {
	uint64_t version;		/* +1 on every save, 0: never saved */
	uint64_t current_uuid;		/* latest data generation, 0: none */
	int primary;			/* node id of the primary, or -1 */
	enum hablk_arb_disk disk[HABLK_ARB_NODES];	/* by data node id */
};

/* The empty state: version 0, no uuid, no primary, every node unknown. */
void hablk_arbiter_state_init(struct hablk_arb_state *st);

/*
 * Parse the text of a state file into *st. Returns 0, or -1 with *st
 * unchanged and one line in err: "line N: what is wrong".
 */
int hablk_arbiter_parse(const char *text, struct hablk_arb_state *st,
			char *err, size_t errlen);

/*
 * Load dir/res.state into *st; a missing file gives the empty state. Returns
 * 0, or -1 with *st unchanged and one line in err, "PATH: reason", for a bad
 * resource name, an unreadable or malformed file. dir/res.state.tmp (a save
 * cut short by a crash) is ignored.
 */
int hablk_arbiter_load(const char *dir, const char *res,
		       struct hablk_arb_state *st, char *err, size_t errlen);

/*
 * Replace dir/res.state atomically and durably with *st: write
 * res.state.tmp, fsync it, rename it over res.state, fsync dir. Bumps
 * st->version before writing, even if the write then fails, so no version
 * number ever names two contents. Returns 0, or -1 with one line in err.
 */
int hablk_arbiter_save(const char *dir, const char *res,
		       struct hablk_arb_state *st, char *err, size_t errlen);

/*
 * Whom the arbiter votes for among requesters (nodes that ask for its vote
 * because they cannot see each other); only ids in data_nodes count.
 * - A node recorded outdated never gets the vote.
 * - A single requester gets it.
 * - Of two: the recorded primary; else the one recorded uptodate; if both
 *   are equal (both uptodate or both unknown), the lower node id.
 * Returns the node id granted, or -1. The caller should save the outcome
 * (e.g. the loser as outdated) before it answers, so that a restarted
 * arbiter cannot give its vote to the other node as well.
 */
int hablk_arbiter_grant(const struct hablk_arb_state *st, uint32_t data_nodes,
			uint32_t requesters);

#endif /* HABLK_ARBITER_H */
