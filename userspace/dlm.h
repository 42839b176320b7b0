/* SPDX-License-Identifier: GPL-2.0 */
/*
 * dlm.h - the lock manager of two primaries (docs/protocol.md, section 12):
 * who may write which extent, as a pure state machine of one data node's
 * hablkd, driven by its kernel's wants and releases, the peer's messages and
 * the clock, acting through callbacks. Unit-tested with two of them.
 */
#ifndef HABLK_DLM_H
#define HABLK_DLM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Messages between the two data nodes' hablkd, over a reliable, ordered channel. */
enum hablk_dlm_type {
	HABLK_DLM_STATE = 1,	/* master: what do you hold (numbered); follower: this (same number) */
	HABLK_DLM_REQUEST,	/* follower to master: its kernel wants these */
	HABLK_DLM_GRANT,	/* master to follower: these are yours */
	HABLK_DLM_BLOCK,	/* master to follower: give up what you hold of these */
	HABLK_DLM_RELEASED,	/* follower to master: given up (or not held), knowing grants to seq */
	HABLK_DLM_RESYNC,	/* follower to master: ask me what I hold (I was alone) */
	__HABLK_DLM_MAX
};

#define HABLK_DLM_F_BEGIN	1	/* STATE: the first message of the list */
#define HABLK_DLM_F_END		2	/* STATE: the last */
#define HABLK_DLM_RANGES	32	/* ranges per message, at most */

struct hablk_dlm_range {
	uint64_t first, count;		/* extents */
};

struct hablk_dlm_msg {
	uint8_t type;			/* enum hablk_dlm_type */
	uint8_t flags;			/* HABLK_DLM_F_* */
	uint16_t n;			/* ranges */
	uint64_t seq;			/* GRANT: the master's grant number; STATE: the ask's */
	struct hablk_dlm_range r[HABLK_DLM_RANGES];
};

/* What the lock manager does: its node's kernel, and the peer's hablkd. */
struct hablk_dlm_ops {
	/* this node may write these: 0, or the kernel refused (not primary) */
	int (*grant)(void *ctx, uint64_t first, uint64_t count, uint64_t seq);
	/* give these up once every write there is on both disks (released() follows) */
	void (*release)(void *ctx, uint64_t first, uint64_t count);
	/* the peer is fenced: every extent is this node's */
	void (*take_all)(void *ctx);
	void (*send)(void *ctx, const struct hablk_dlm_msg *m);
};

struct hablk_dlm_stats {
	uint64_t held;			/* extents this node holds (or is being granted) */
	uint64_t peer_held;		/* master: extents the follower holds */
	uint64_t wanted;		/* extents this node's writes wait for */
	uint64_t grants;		/* master: extents granted (to either node) */
	uint64_t transfers;		/* master: extents that moved from one node to the other */
	uint64_t blocks;		/* times this node was asked to give extents up */
	uint64_t conflicts;		/* master: extents the follower said it held that we held */
};

struct hablk_dlm {
	uint64_t nextents;
	bool master;			/* the lower node id masters every extent */
	unsigned int min_hold_ms;	/* a unit is kept this long before it is given up */
	unsigned int contention_ms;	/* an extent moved this recently is not grown into */
	const struct hablk_dlm_ops *ops;
	void *ctx;
	uint64_t epoch;			/* time 0 of the uint32 millisecond stamps */

	/* this node's kernel: runs of held extents, cut into units as granted */
	uint64_t *mine, *mine_start;
	uint64_t *want;			/* its writes wait for these */
	uint64_t *asked;		/* follower: requested from the master */
	uint64_t *blocked;		/* asked to give up; told to the kernel after min_hold */
	uint64_t *releasing;		/* told to the kernel, not yet released */
	uint32_t *acquired;		/* at a unit's first extent: when it became ours (ms) */

	/* master: the follower's holdings and wants, and when extents last moved */
	uint64_t *theirs, *theirs_start;
	uint64_t *their_want;
	uint64_t *blocking;		/* BLOCK sent, RELEASED not yet back */
	uint64_t *prev_theirs;		/* the last holder was the follower */
	uint64_t *ever_held;		/* held by either node at some time */
	uint32_t *moved;		/* per extent: when it last changed hands (ms, 0: never) */
	uint32_t *their_seq;		/* per extent the follower holds: the grant that gave it */
	uint64_t seen_seq;		/* follower: the newest grant it applied (RELEASED says it) */

	bool session;			/* the peer's hablkd hears us */
	bool connected;			/* the replication link is up */
	bool synced;			/* master: the follower's holdings are known */
	uint64_t resync_seq;		/* master: its newest ask for the follower's holdings */
	bool alone;			/* the peer is fenced: everything is ours */
	bool state_begun;		/* master: receiving the follower's STATE */
	uint64_t grant_seq;
	struct hablk_dlm_stats st;
};

int hablk_dlm_init(struct hablk_dlm *d, uint64_t nextents, bool master,
		   unsigned int min_hold_ms, unsigned int contention_ms,
		   const struct hablk_dlm_ops *ops, void *ctx, uint64_t now);
void hablk_dlm_free(struct hablk_dlm *d);

/* The kernel's table (its dump at start), and its events. */
void hablk_dlm_kernel_held(struct hablk_dlm *d, uint64_t first, uint64_t count, uint64_t now);
/* The dump at start: held extents the kernel is giving up already (a released() follows). */
void hablk_dlm_kernel_releasing(struct hablk_dlm *d, uint64_t first, uint64_t count);
void hablk_dlm_kernel_want(struct hablk_dlm *d, uint64_t first, uint64_t count, uint64_t now);
void hablk_dlm_kernel_released(struct hablk_dlm *d, uint64_t first, uint64_t count,
			       uint64_t now);

/*
 * A new session with the peer's hablkd (it restarted, or we did): the
 * master asks the follower what it holds, and grants nothing until it knows.
 */
void hablk_dlm_session(struct hablk_dlm *d, uint64_t now);
/*
 * The replication link is up (true) or not. Apart, nothing is granted (the
 * primaries are frozen, and the follower may be fenced meanwhile); together
 * again, the master asks the follower what it holds.
 */
void hablk_dlm_link(struct hablk_dlm *d, bool connected, uint64_t now);
/*
 * A manager made again in the same session (the resource was down, or
 * grew), its kernel's table relearnt: the grants' numbering goes on from the
 * last manager's (@grant_seq, @seen_seq), and both sides start over from
 * what each holds (hablk_dlm_resync()).
 */
void hablk_dlm_resume(struct hablk_dlm *d, uint64_t grant_seq, uint64_t seen_seq, uint64_t now);
/* The session is gone (the peer's hablkd is silent): nothing is sent meanwhile. */
void hablk_dlm_session_lost(struct hablk_dlm *d);
/*
 * Messages of ours were lost (the channel's queue overflowed), the rest are
 * delivered: start over from what each node holds (the master asks the
 * follower; the follower asks the master to ask).
 */
void hablk_dlm_resync(struct hablk_dlm *d, uint64_t now);
/* Master: the peer is secondary (our kernel says so): it holds nothing. */
void hablk_dlm_peer_secondary(struct hablk_dlm *d, uint64_t now);
/*
 * The peer is fenced (true: every extent becomes ours, its word is ignored),
 * or back (false: this node tells what it holds; the peer holds nothing).
 */
void hablk_dlm_alone(struct hablk_dlm *d, bool alone, uint64_t now);

void hablk_dlm_receive(struct hablk_dlm *d, const struct hablk_dlm_msg *m, uint64_t now);
void hablk_dlm_tick(struct hablk_dlm *d, uint64_t now);
/* When hablk_dlm_tick() has work next (a unit's min_hold ends), or UINT64_MAX. */
uint64_t hablk_dlm_next_timer(const struct hablk_dlm *d);

/* Runs of what this node holds (or, master, the follower: @theirs), for the status. */
uint64_t hablk_dlm_next_run(const struct hablk_dlm *d, bool theirs, uint64_t from,
			    uint64_t *count);

/* The message on the wire: a length, or -1 if @len cannot hold it / it is malformed. */
int hablk_dlm_encode(const struct hablk_dlm_msg *m, uint8_t *buf, size_t len);
int hablk_dlm_decode(const uint8_t *buf, size_t len, struct hablk_dlm_msg *m);

#endif /* HABLK_DLM_H */
