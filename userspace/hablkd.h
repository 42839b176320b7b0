/* SPDX-License-Identifier: GPL-2.0 */
/* hablkd.h - what hablkd's files share: the daemon, the context of each resource
 * it serves, and the calls between the main loop and the parts. Internal. */
#ifndef HABLKD_H
#define HABLKD_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>
#include "arbiter.h"
#include "chan.h"
#include "config.h"
#include "dlm.h"
#include "hbmsg.h"
#include "nl.h"
#include "quorum.h"
#include "view.h"

#define HABLKD_MAX_SOCKS	32	/* distinct local addresses */
#define HABLKD_MAX_WATCH	64	/* descriptors the main loop polls */

struct hablkd;

/* What we know of one voter from its heartbeats. */
struct hablkd_peer_view {
	struct hablk_hb_peer hb;	/* replay filter */
	struct hablk_hb last;		/* its last fresh message */
	uint64_t last_at;		/* when (0: never) */
};

/* A data node: the kernel's state and what it was told (hablkd_data.c). */
struct hablkd_data {
	struct hablk_status st;		/* the kernel's, read every tick */
	bool up;			/* the kernel has the resource */
	uint64_t grant_until;		/* the arbiter's vote counts until then */
	bool told_outdated;		/* the arbiter's last word: our data is outdated */
	int told_quorum;		/* last verdict given to the kernel, -1: none */
	uint64_t promote_at;		/* no auto-promote attempt before then */
};

enum hablkd_fence_state {
	HABLKD_FENCE_NONE,		/* not needed, or together again */
	HABLKD_FENCE_RUNNING,
	HABLKD_FENCE_DONE,		/* the handler fenced the peer */
	HABLKD_FENCE_FAILED,		/* it failed or hung: retried later */
};

/* A data node's fence-peer handler (hablkd_fence.c). */
struct hablkd_fence {
	enum hablkd_fence_state state;
	pid_t pid;			/* running, 0: not */
	uint64_t at;			/* started, or (failed) when to retry */
	char why[64];			/* how the last run failed */
};

/* The arbiter's vote (hablkd_arbiter.c). */
struct hablkd_vote {
	struct hablk_arb_state as;	/* the durable record */
	int grant;			/* holder of our vote, -1: nobody */
	bool unsaved;			/* the store lags the memory: save again */
	uint64_t grant_free_at;		/* no new holder before then (the last one's lease) */
	uint64_t want_since[HQ_MAX_VOTERS];	/* asking since, 0: not asking */
};

/* Two primaries: the lock manager and its channel to the peer's hablkd (hablkd_locks.c). */
struct hablkd_locks {
	bool on;			/* the resource allows two primaries */
	bool ready;			/* set up from the kernel's table */
	struct hablk_dlm dlm;
	struct hablk_chan chan;
	uint64_t nextents;		/* extents of the exported size */
	uint64_t size_sectors;		/* the size the table was made for */
	unsigned int extent;		/* and its extent, bytes */
	bool alone;			/* the peer is fenced: every lock is ours */
	bool overflow;			/* the channel dropped messages: resync once it drains */
	bool session;			/* the channel has a session with the peer's hablkd */
	uint64_t grant_seq, seen_seq;	/* the last manager's numbering, for the next */
	uint64_t demote_at;		/* a fenced primary tries to be secondary then */
	uint64_t now;			/* the time of the event being handled */
	char *map_text;			/* RES.locks as last written (master) */
};

/* One resource this node is in, as a data node or as its arbiter. */
struct hablkd_res {
	struct hablkd *d;
	const struct hablk_res *r;
	const struct hablk_node *self;
	const struct hablk_node *voters[3];	/* the data nodes and the arbiter */
	int nvoters;
	int arb;			/* the arbiter's node id, -1: none */
	int peer;			/* the other data node's id (data nodes) */
	uint32_t data_mask;		/* the data nodes' ids, a bit each */
	bool is_arbiter;
	unsigned int timeout;		/* ping-timeout, ms */

	/* heartbeats and liveness (hablkd.c) */
	int sock[HABLK_HB_PATHS];	/* our socket for each path, -1: none */
	struct hq q;
	struct hablkd_peer_view pv[HQ_MAX_VOTERS];
	uint64_t seq, next_send;
	uint8_t sent_flags[HQ_MAX_VOTERS];	/* the flags last sent to each voter */
	uint32_t alive;			/* voters alive at the last tick, logged on change */
	char *view;			/* RES.json as last written, malloc()ed */

	struct hablkd_data data;	/* data nodes only */
	struct hablkd_fence fence;	/* data nodes only */
	struct hablkd_locks locks;	/* data nodes of a two-primaries resource */
	struct hablkd_vote vote;	/* the arbiter only */
};

/* A socket bound to one local address, shared by the resources that use it. */
struct hablkd_sock {
	struct sockaddr_storage addr;
	socklen_t len;
	int fd;
};

/* A descriptor the main loop polls, and what reads it. */
struct hablkd_watch {
	int fd;
	void (*fn)(struct hablkd *d, void *arg, uint64_t now);
	void *arg;
};

struct hablkd {
	struct hablkd_res *res;		/* the resources this node is in */
	size_t nres;
	uint64_t boot_id;		/* this run: CLOCK_REALTIME ns at start */
	const char *state_dir;		/* the arbiter's store */
	const char *run_dir;		/* RES.json for hablkadm status */
	struct hablk_nl nl;		/* the kernel (data nodes), opened on first use */
	bool nl_ok;
	struct hablk_nl lock_ev;	/* the kernel's "locks" group (two primaries) */
	bool lock_ev_ok;
	uint64_t lock_now;		/* the time its events are read at */
	struct hablkd_sock socks[HABLKD_MAX_SOCKS];
	int nsocks;
	struct hablkd_watch watch[HABLKD_MAX_WATCH];
	int nwatch;
};

/* hablkd.c: logging, the main loop, voters */
void hablkd_log(int prio, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Poll fd in the main loop; fn reads it when it is readable. 0, or -1 if the table is full. */
int hablkd_watch(struct hablkd *d, int fd, void (*fn)(struct hablkd *d, void *arg, uint64_t now),
		 void *arg);
/* The voter of c with node id id, or NULL. */
const struct hablk_node *hablkd_node(const struct hablkd_res *c, int id);
/* Replace path with text (written to path.tmp, then renamed): 0, or -1 with errno set. */
int hablkd_replace_file(const char *path, const char *text);
/* The address of path (HABLK_HB_PATH_*) for node n; false if n has no such path. */
bool hablkd_path_addr(const struct hablk_node *n, int path, struct sockaddr_storage *out,
		      socklen_t *len);

/* hablkd_data.c: a data node */
void hablkd_data_init(struct hablkd_res *c);
/* A fresh heartbeat m from a voter: the arbiter's grant and verdict. */
void hablkd_data_heard(struct hablkd_res *c, const struct hablk_hb *m, uint64_t now);
/* Every tick: the kernel's state, hablk_decide(), and what it says to do. */
void hablkd_data_tick(struct hablkd_res *c, uint64_t now);
/* HABLK_HB_F_* for our heartbeats. */
uint8_t hablkd_data_flags(const struct hablkd_res *c);
/* Its part of the view: quorum, the arbiter, the peer, fencing. */
void hablkd_data_view(const struct hablkd_res *c, uint64_t now, struct hablk_view *v);

/* hablkd_locks.c: two primaries' lock manager */
void hablkd_locks_init(struct hablkd_res *c);
/* Every tick, with hablkd's verdict on quorum: set up, sessions, the link, fencing. */
void hablkd_locks_tick(struct hablkd_res *c, bool quorum, uint64_t now);
void hablkd_locks_stop(struct hablkd_res *c);
/* A lock channel datagram arrived on socket sock (its MAC is checked here). */
void hablkd_locks_receive(struct hablkd *d, int sock, const uint8_t *buf, size_t len,
			  uint64_t now);
/* When the lock managers have work between ticks (UINT64_MAX: none), and doing it. */
uint64_t hablkd_locks_next(const struct hablkd *d);
void hablkd_locks_timers(struct hablkd *d, uint64_t now);
void hablkd_locks_view(const struct hablkd_res *c, struct hablk_view *v);
/* The master's map of the peer's holdings, RUN_DIR/RES.locks, when it changed. */
void hablkd_locks_write(struct hablkd_res *c);

/* hablkd_fence.c: a data node's fence-peer handler */
void hablkd_fence_start(struct hablkd_res *c, uint64_t now);
/* Reap a handler that ended, kill a hung one; connected again, the next loss fences anew. */
void hablkd_fence_watch(struct hablkd_res *c, bool connected, uint64_t now);
bool hablkd_fence_done(const struct hablkd_res *c);
/* Running, or failed and not yet due again. */
bool hablkd_fence_busy(const struct hablkd_res *c, uint64_t now);
/* What the fencing of a frozen primary waits for, for the status, into buf. */
void hablkd_fence_describe(const struct hablkd_res *c, char *buf, size_t len);

/* hablkd_arbiter.c: the arbiter */
/* Its store: DIR/RES.state loaded (the directory made if need be). 0, or -1 logged. */
int hablkd_arbiter_init(struct hablkd_res *c, uint64_t now);
/* A fresh heartbeat m from a data node: does it ask for the vote? */
void hablkd_arbiter_heard(struct hablkd_res *c, const struct hablk_hb *m, uint64_t now);
/* Every tick: learn from the data nodes, take back the vote or give it. */
void hablkd_arbiter_tick(struct hablkd_res *c, uint64_t now);
/* HABLK_HB_F_* for our heartbeats to node to. */
uint8_t hablkd_arbiter_flags(const struct hablkd_res *c, const struct hablk_node *to);
/* Its part of the view: the holder of its vote. */
void hablkd_arbiter_view(const struct hablkd_res *c, struct hablk_view *v);

#endif /* HABLKD_H */
