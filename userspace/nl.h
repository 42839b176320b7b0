/* SPDX-License-Identifier: GPL-2.0 */
/* nl.h - talking to hablk.ko over generic netlink (libnl-3): commands with
 * the kernel's error message, status snapshots, and the events group. */
#ifndef HABLK_NL_H
#define HABLK_NL_H

#include <stdbool.h>
#include <stdint.h>
#include <netlink/genl/genl.h>
#include "../kernel/uapi/linux/hablk.h"

/* One resource as the kernel reports it (status and events); nl.c's status_attrs
 * says which attribute fills which member. */
struct hablk_status {
	char name[HABLK_NAME_LEN];
	unsigned int minor;
	char protocol;
	unsigned int local_id;
	int role, disk;
	bool suspended;		/* writes frozen */
	bool quorum;		/* the kernel's view: true unless hablkd said otherwise */
	bool managed;		/* hablkd drives the resource's quorum */
	uint64_t size_sectors;
	uint64_t current_uuid;
	unsigned int bm_block;	/* bytes per bitmap bit, 0: no disk */
	unsigned int peer_id;
	char peer_name[HABLK_NAME_LEN];
	int conn, peer_role, peer_disk, repl;
	uint64_t oos_sectors, sync_total, sync_done, sync_elapsed_ms;
	char last_error[128];
	char what[32];		/* events: what changed */
	bool two_primaries;	/* allow-two-primaries */
	/* two primaries: this node's extent locks (HABLK_A_LOCKS) */
	unsigned int lock_extent;	/* bytes per extent, 0: no locks */
	uint64_t locks_held;		/* extents held */
	unsigned int lock_waiters;	/* writes waiting for a lock now */
	uint64_t lock_grants, lock_releases;	/* extents granted, given up, so far */
	uint64_t lock_waits, lock_wait_us;	/* writes that waited, and how long in all */
};

struct hablk_nl {
	struct nl_sock *sk;
	int family;
	int err;		/* last error, negative errno */
	char errmsg[256];	/* the kernel's reason, if it gave one */
};

int hablk_nl_open(struct hablk_nl *nl);
void hablk_nl_close(struct hablk_nl *nl);
/* A message for cmd, to add attributes to; NULL on allocation failure. */
struct nl_msg *hablk_nl_msg(struct hablk_nl *nl, int cmd, int flags);
/* Send and wait for the ack. 0, or a negative errno with nl->errmsg set. */
int hablk_nl_do(struct hablk_nl *nl, struct nl_msg *msg);
/* Status of every resource (name NULL) or one; *out malloc()ed, *n entries. */
int hablk_nl_status(struct hablk_nl *nl, const char *name,
		    struct hablk_status **out, size_t *n);
/*
 * The out-of-sync bitmap of resource name: fn is called for every non-zero
 * stretch, words little-endian, bit i = block first + i of bm_block bytes.
 */
int hablk_nl_bitmap(struct hablk_nl *nl, const char *name,
		    int (*fn)(uint64_t first, const uint64_t *words, size_t n,
			      unsigned int bm_block, void *arg),
		    void *arg);
/*
 * Read a status reply or an event (the policy checks every attribute's type
 * and size) into *s; absent attributes leave their defaults (role and disk
 * states unknown, quorum true). 0, or -EBADMSG for a malformed message.
 */
int hablk_nl_parse_status(struct nlmsghdr *nlh, struct hablk_status *s);
/* A command naming one resource (HABLK_A_FORCE if force): 0 or a negative errno. */
int hablk_nl_res_cmd(struct hablk_nl *nl, int cmd, const char *name, bool force);
/* hablkd's verdict on quorum; thaw lets frozen I/O go (only with quorum). */
int hablk_nl_set_quorum(struct hablk_nl *nl, const char *name, bool quorum, bool thaw);
/* Join the events group; then hablk_nl_next_event() returns them one by one. */
int hablk_nl_subscribe(struct hablk_nl *nl);
/* Wait up to timeout_ms (-1: forever) for an event. 1 got one, 0 timeout, <0 error. */
int hablk_nl_next_event(struct hablk_nl *nl, struct hablk_status *ev, int timeout_ms);

/* hablkd's lock manager: HABLK_CMD_LOCK (op: GRANT, RELEASE, TAKE_ALL). 0 or a negative errno. */
int hablk_nl_lock(struct hablk_nl *nl, const char *name, int op, uint64_t first,
		  uint64_t count, uint64_t seq);
/*
 * The kernel's lock table of resource name: fn is called for every run
 * (op HABLK_LOCK_HELD, WANT or RELEASING) of extents of extent bytes each.
 */
int hablk_nl_locks(struct hablk_nl *nl, const char *name,
		   int (*fn)(int op, uint64_t first, uint64_t count, unsigned int extent,
			     void *arg),
		   void *arg);
/* Join the "locks" group (hablkd); hablk_nl_lock_events() reads what came. */
int hablk_nl_subscribe_locks(struct hablk_nl *nl);
/*
 * Read what is waiting on a socket subscribed to the locks group, without
 * blocking: fn gets every LOCK_EVENT (HABLK_LOCK_WANT or RELEASED). 0, or a
 * negative errno (-ENOBUFS: events were lost, dump the table again).
 */
int hablk_nl_lock_events(struct hablk_nl *nl,
			 void (*fn)(const char *name, int op, uint64_t first, uint64_t count,
				    void *arg),
			 void *arg);

const char *hablk_role_name(int role);
const char *hablk_disk_name(int disk);
const char *hablk_conn_name(int conn);
const char *hablk_repl_name(int repl);

#endif /* HABLK_NL_H */
