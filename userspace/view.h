/* SPDX-License-Identifier: GPL-2.0 */
/* view.h - hablkd's view of a resource (voters, quorum, the arbiter's vote, fencing, locks):
 * what hablkd writes to RUN_DIR/RES.json and hablkadm status and events read back. */
#ifndef HABLK_VIEW_H
#define HABLK_VIEW_H

#include <stdbool.h>
#include "../kernel/uapi/linux/hablk.h"
#include "print.h"

#define HABLK_RUN_DIR		"/run/hablk"	/* hablkd's RES.json (hablkd --run-dir) */
#define HABLK_VIEW_VOTERS	3		/* the two data nodes and the arbiter */

/* Two primaries: hablkd's lock manager (hablkd_locks.c). */
struct hablk_view_locks {
	char role[16];		/* master, follower */
	bool session;		/* the peer's hablkd hears us */
	bool alone;		/* the peer is fenced: every lock is ours */
	uint64_t extents;	/* of the device */
	uint64_t held;		/* by this node */
	int64_t peer_held;	/* by the peer (the master knows), -1: not known here */
	uint64_t transfers;	/* extents that changed hands (the master counts) */
	uint64_t blocks;	/* times this node was asked to give extents up */
	uint64_t retransmits;	/* lock messages sent again */
};

struct hablk_view_voter {
	char name[HABLK_NAME_LEN];
	unsigned int id;
	bool arbiter;		/* the arbiter, not a data node */
	bool alive;		/* counted alive (the writer itself: always) */
	bool link, control;	/* heard on that path within ping-timeout */
};

/*
 * One resource as the hablkd on this node sees it. As JSON, one object:
 *   {"pid":N,"node":NAME,"kind":"data"|"arbiter",
 *    data nodes:  "quorum":B,"arbiter":S,"arbiter_vote":B,"peer":S,"fencing":S,
 *                 two primaries: "locks":{"role":S,"session":B,"alone":B,"extents":N,
 *                 "held":N,"peer_held":N|null,"transfers":N,"blocks":N,"retransmits":N},
 *    the arbiter: "vote_holder":NAME|null,
 *    "voters":[{"name":NAME,"id":N,"arbiter":B,"alive":B,"link":B,"control":B},...]}
 */
struct hablk_view {
	int pid;				/* the hablkd that wrote it */
	char node[HABLK_NAME_LEN];		/* the node it runs on */
	bool is_arbiter;			/* "kind" */
	/* the arbiter */
	char vote_holder[HABLK_NAME_LEN];	/* the node holding its vote, "": nobody */
	/* a data node */
	bool quorum;				/* hablkd's verdict for the kernel */
	char arbiter[16];			/* none, reachable, unreachable */
	bool arbiter_vote;			/* it holds the arbiter's vote */
	char peer[32];				/* replicating, alive, replication link cut, ... */
	char fencing[128];			/* what the fencing of a frozen primary waits for */
	bool has_locks;				/* two primaries: "locks" */
	struct hablk_view_locks locks;
	unsigned int nvoters;
	struct hablk_view_voter voters[HABLK_VIEW_VOTERS];
};

/*
 * Print v: in JSON mode as the object above (the member key, or a value if
 * key is NULL); in text mode " quorum:B arbiter:S vote:B peer:S fencing:S"
 * (a dash for each on the arbiter), and with two primaries " locks:ROLE
 * held:N peer-held:N".
 */
void hablk_view_print(struct hablk_pr *p, const char *key, const struct hablk_view *v);

/* v as RES.json holds it: the JSON object and a newline; malloc()ed, NULL if out of memory. */
char *hablk_view_json(const struct hablk_view *v);

/* JSON text into *v. 0, or -1 if it is not such an object (json-c parses it). */
int hablk_view_parse(const char *text, struct hablk_view *v);

/*
 * DIR/NAME.json (DIR NULL: HABLK_RUN_DIR) into *v, if it parses and the
 * hablkd that wrote it still runs. 0, or -1.
 */
int hablk_view_load(const char *dir, const char *name, struct hablk_view *v);

#endif /* HABLK_VIEW_H */
