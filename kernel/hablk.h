/* SPDX-License-Identifier: GPL-2.0 */
/*
 * hablk internal interfaces: the resource, built from one struct per object
 * (each with its lock beside the fields it guards), and what each file
 * exports to the others, grouped by file.
 *
 * Lock order: st.lock -> slots.lock -> send.lock; quorum.lock, req.defer_lock,
 * iv.lock, pool.lock, rx.ack_lock, bm.lock and locks.lock nest inside nothing
 * of ours.
 */
#ifndef HABLK_H
#define HABLK_H

#include <linux/blkdev.h>
#include <linux/bio.h>
#include <linux/interval_tree.h>
#include <linux/kthread.h>
#include <linux/mutex.h>
#include <linux/net.h>
#include <linux/socket.h>
#include <linux/spinlock.h>
#include <linux/stddef.h>
#include <linux/wait.h>
#include <linux/workqueue.h>
#include <crypto/hash.h>
#include <linux/netlink.h>

#include "uapi/linux/hablk.h"
#include "wire.h"
#include "md_format.h"
#include "sync_rules.h"
#include "lock_table.h"

struct hablk_resource;
struct hablk_req;
struct hablk_peer_req;

/* main.c: module, resources, counted objects, threads */

/* Counted objects, so a test can prove nothing leaks (module param "objects"). */
enum hablk_obj {
	HABLK_OBJ_RESOURCE,
	HABLK_OBJ_REQ,
	HABLK_OBJ_PEER_REQ,
	HABLK_OBJ_SOCKET,
	HABLK_OBJ_THREAD,
	HABLK_OBJ_PAGE,			/* pages of the data path (pool.c) */
	__HABLK_OBJ_MAX
};

void hablk_obj_get(enum hablk_obj o);
void hablk_obj_put(enum hablk_obj o);
extern struct mutex hablk_cfg_mutex;
extern struct list_head hablk_resources;
struct hablk_resource *hablk_resource_find(const char *name);
struct hablk_resource *hablk_resource_find_minor(u32 minor);
struct hablk_config;
int hablk_resource_up(struct hablk_config *cfg, struct net *net,
		      struct netlink_ext_ack *extack);
int hablk_resource_down(struct hablk_resource *res, bool force,
			struct netlink_ext_ack *extack);
struct task_struct *hablk_thread_start(struct hablk_resource *res,
				       int (*fn)(void *), const char *what);
void hablk_thread_stop(struct task_struct **t);

/* Configuration of a resource, fixed from up to down (netlink.c parses it). */
struct hablk_config {
	char name[HABLK_NAME_LEN];
	char peer_name[HABLK_NAME_LEN];
	char disk_path[256];
	char meta_path[256];		/* "": internal metadata */
	u32 minor;
	u32 local_id;
	u32 peer_id;
	u8 protocol;			/* 'A' or 'C' */
	u8 secret[HABLK_SECRET_MAX];
	u32 secret_len;
	struct sockaddr_storage local_addr;
	struct sockaddr_storage peer_addr;
	int addr_len;
	u32 ping_int_ms;
	u32 ping_timeout_ms;
	u32 connect_int_ms;
	u32 connect_max_ms;
	u8 after_sb;			/* enum hablk_after_sb */
	bool data_integrity;		/* CRC-32 of every data packet, checked by the peer */
	bool csum_resync;		/* resync compares digests first, sends what differs */
	char sb_save_dir[256];		/* "" : split-brain losers do not save */
	char helper[256];		/* hablkadm, run for the save */
	u8 on_no_quorum;		/* enum hablk_quorum_policy */
	bool auto_promote;		/* an open for writing promotes when it is safe */
	bool two_primaries;		/* allow-two-primaries: writes need their extent's lock */
	u32 lock_extent;		/* bytes per lock extent (two primaries) */
};

/* state.c: role, disk, connection and replication state; the one writer of it */

/* The fields of the state, by number (transition table, preconditions). */
enum hablk_state_field {
	HABLK_S_ROLE,
	HABLK_S_DISK,
	HABLK_S_CONN,
	HABLK_S_REPL,
	HABLK_S_PEER_ROLE,
	HABLK_S_PEER_DISK,
	__HABLK_S_MAX
};

/* What a command (or a request of the peer) needs of the state: state.c's table. */
enum hablk_op {
	HABLK_OP_PRIMARY,		/* become primary (command, open, hablkd) */
	HABLK_OP_SECONDARY,
	HABLK_OP_DOWN,
	HABLK_OP_DISCARD_MY_DATA,	/* connect --discard-my-data */
	HABLK_OP_INVALIDATE,
	HABLK_OP_OUTDATE,
	HABLK_OP_VERIFY,
	HABLK_OP_RESIZE,
	HABLK_OP_SYNC_TARGET,		/* our disk becomes the target of a sync */
	HABLK_OP_PEER_PRIMARY,		/* the peer asks to become primary */
	HABLK_OP_PEER_WRITE,		/* the peer sends a write (or a read) */
	HABLK_OP_PEER_SYNC,		/* the peer sends a sync chunk */
	HABLK_OP_PEER_VERIFY,		/* the peer starts a verify of us */
	__HABLK_OP_MAX
};

/* Modifiers of an op: what the caller asked for. */
#define HABLK_OPF_FORCE		BIT(0)	/* --force */

/*
 * Everything st.lock guards. Role, disk, connection and replication (and
 * the peer's role and disk) change only through hablk_state_set().
 */
struct hablk_st {
	spinlock_t lock;

	struct_group_tagged(hablk_state, cur,
		u8 role;		/* enum hablk_role */
		u8 disk;		/* enum hablk_disk_state */
		u8 conn;		/* enum hablk_conn_state */
		u8 repl;		/* enum hablk_repl_state */
		u8 peer_role;		/* as the peer last said, UNKNOWN when not connected */
		u8 peer_disk;
	);
	const char *changed;		/* under lock: a field changed; its name, for the event */
	struct hablk_gen gen;		/* our generations (the superblock's, md.c) */
	struct hablk_gen peer_gen;	/* the peer's, from its STATE */
	u64 peer_size_sectors;		/* usable size of the peer's disk */
	struct hablk_sb_side peer_sb;	/* the peer's split-brain facts, from its STATE */
	u8 peer_bm_shift;		/* its bitmap granularity (log2 bytes), 0: no disk */
	int open_count;			/* opens of the device */
	u64 primary_since;		/* wall-clock seconds of the last promotion */
	bool solo_ready;		/* a generation for writing alone is on disk */
	bool exchanging;		/* connect-time state exchange: no solo writes */
	bool discard_my_data;		/* next connect: lose a split-brain (admin's choice) */
	/* an unclean stop of ours may have lost acked peer writes: tell the peer (STATE) */
	bool lost_peer_writes;
	bool peer_lost_writes;		/* the peer's STATE says so: our recent extents are owed */
	char last_error[96];		/* why the last connection failed */
	/* promotion: one at a time, and the peer's consent */
	struct mutex role_mutex;
	bool promoting;
	bool role_replied;
	u32 role_reply;
	wait_queue_head_t role_wait;
	struct mutex solo_mutex;	/* the generation for writing alone (solo_ready) */
};

void hablk_state_init(struct hablk_resource *res);
void hablk_state_set(struct hablk_resource *res, enum hablk_state_field f, u8 val);
void hablk_state_lock(struct hablk_resource *res) __acquires(&res->st.lock);
void hablk_state_unlock(struct hablk_resource *res, const char *why) __releases(&res->st.lock);
void hablk_state_change(struct hablk_resource *res, enum hablk_state_field f, u8 val,
			const char *why);
int hablk_state_allows(struct hablk_resource *res, enum hablk_op op, u32 opf,
		       struct netlink_ext_ack *extack);
bool hablk_state_may_write(struct hablk_resource *res);
bool hablk_state_fenced(struct hablk_resource *res);
int hablk_state_write_alone(struct hablk_resource *res);
bool hablk_state_peer_has_all(struct hablk_resource *res);
void hablk_state_peer_write_failed(struct hablk_resource *res, int status);
void hablk_state_conn_lost(struct hablk_resource *res);
void hablk_state_role_reply(struct hablk_resource *res, u32 status);
int hablk_state_primary(struct hablk_resource *res, bool force,
			struct netlink_ext_ack *extack);
int hablk_state_outdate(struct hablk_resource *res, struct netlink_ext_ack *extack);
int hablk_state_secondary(struct hablk_resource *res, struct netlink_ext_ack *extack);
int hablk_state_invalidate(struct hablk_resource *res, struct netlink_ext_ack *extack);
void hablk_state_detached(struct hablk_resource *res);
bool hablk_state_mark_dirty(struct hablk_resource *res);
const char *hablk_state_breaks(struct hablk_resource *res, enum hablk_state_field f, u8 val);
void hablk_state_set_error(struct hablk_resource *res, const char *msg);

/* peer.c: what the peer says (P_STATE, role requests); what its first state decides */
int hablk_state_peer_update(struct hablk_resource *res, const struct hablk_p_state *st,
			    bool initial);
int hablk_state_peer_role_request(struct hablk_resource *res, u32 role);

/* device.c: /dev/hablkN */
struct hablk_device {
	struct gendisk *gd;
	sector_t size_sectors;		/* exported size: what both disks hold */
};

int hablk_device_create(struct hablk_resource *res);
void hablk_device_destroy(struct hablk_resource *res);
void hablk_device_set_ro(struct hablk_resource *res, bool ro);
void hablk_device_set_size(struct hablk_resource *res, sector_t sectors);
int hablk_device_register(void);
void hablk_device_unregister(void);

/* backing.c: the backing disk */
struct hablk_backing {
	void *handle;			/* compat: struct file * or struct block_device * */
	struct block_device *bdev;
	struct work_struct detach_work;	/* the disk failed: go diskless */
	atomic_t detaching;
};

void hablk_backing_init(struct hablk_resource *res);
int hablk_backing_open(struct hablk_resource *res, struct netlink_ext_ack *extack);
void hablk_backing_close(struct hablk_resource *res);
void hablk_backing_failed(struct hablk_resource *res);

/* md.c: the on-disk metadata's superblock (md_format.h) */
struct hablk_md {
	void *handle;			/* an external metadata disk, if any */
	struct block_device *bdev;	/* where the metadata is: the backing disk, or that one */
	sector_t data_sectors;		/* usable sectors of the local disk */
	u64 offset;			/* byte offset of the superblock */
	struct mutex mutex;		/* serialises superblock writes */
	struct hablk_md_sb sb;		/* in memory, under mutex */
};

void hablk_md_init(struct hablk_resource *res);
int hablk_md_open(struct hablk_resource *res, struct netlink_ext_ack *extack);
int hablk_md_io(struct hablk_resource *res, struct page *page, u64 offset, blk_opf_t opf);
int hablk_md_write(struct hablk_resource *res);
void hablk_md_new_generation(struct hablk_resource *res);
int hablk_md_set_flags(struct hablk_resource *res, u32 set, u32 clear);
void hablk_md_keep_sync(struct hablk_resource *res);

/*
 * bitmap.c: the out-of-sync bitmap (bits, 1 per block, 4 KiB by default)
 * and the write-intent map (intent, 1 per 4 MiB extent), in memory.
 */
struct hablk_bitmap {
	spinlock_t lock;		/* bits, weight, intent changes */
	struct mutex io_mutex;		/* disk writes of bitmap and intent pages */
	unsigned long *bits;
	u64 nbits;
	unsigned int shift;		/* a bit covers 1 << shift sectors (the granularity) */
	u64 weight;			/* set bits */
	unsigned long *dirty;		/* bitmap pages not yet written */
	u64 npages;
	u64 disk_offset;
	unsigned long *intent;
	unsigned long *touched;		/* extents written since the last sweep */
	atomic_t *busy;			/* writes in flight per extent */
	atomic64_t *peer_epoch;		/* per extent: flush epoch of its last write the peer acked */
	u64 nextents;
	u64 intent_pages;
	u64 intent_offset;
	bool crashed;			/* intent bits were set at attach */
};

#define HABLK_INTENT_SPAN	512	/* extents one request may touch, at most */

int hablk_bm_load(struct hablk_resource *res, u32 bm_block, u64 bm_offset, u64 intent_offset);
u32 hablk_bm_block_sectors(struct hablk_resource *res);
void hablk_bm_free(struct hablk_resource *res);
void hablk_bm_set(struct hablk_resource *res, sector_t sector, u64 sectors);
u64 hablk_bm_clear(struct hablk_resource *res, sector_t sector, u64 sectors);
void hablk_bm_set_all(struct hablk_resource *res);
void hablk_bm_clear_all(struct hablk_resource *res);
u64 hablk_bm_weight(struct hablk_resource *res);
u64 hablk_bm_next_run(struct hablk_resource *res, u64 from, u32 max, u32 *len);
void hablk_bm_merge(struct hablk_resource *res, u64 first, const __le64 *words, u32 nbits);
int hablk_bm_send(struct hablk_resource *res);
void hablk_bm_copy_le(struct hablk_resource *res, u64 first, __le64 *dst, u64 words);
int hablk_bm_write(struct hablk_resource *res);
int hablk_bm_grow(struct hablk_resource *res, sector_t new_sectors, u64 bm_offset,
		  u64 intent_offset);
int hablk_intent_begin(struct hablk_resource *res, sector_t sector, u64 sectors,
		       bool can_block);
void hablk_intent_end(struct hablk_resource *res, sector_t sector, u64 sectors);
int hablk_intent_sweep(struct hablk_resource *res, bool in_sync);
int hablk_intent_clear_all(struct hablk_resource *res);

/* request.c: the primary's requests: writes, intervals, slots */

#define HABLK_SLOT_BITS		10
#define HABLK_SLOTS		(1U << HABLK_SLOT_BITS)	/* requests in flight to the peer */
/* protocol A: data copied for the peer and not yet acked, at most (a send buffer) */
#define HABLK_COPY_MAX		(4U << 20)

/* The primary's requests. */
struct hablk_reqs {
	struct bio_set bs;		/* clones of application bios, front-padded requests */
	atomic_t app_inflight;		/* application writes waiting for the peer */
	atomic_t copy_bytes;		/* protocol A: data copied, not yet acked */
	spinlock_t defer_lock;
	struct bio_list deferred;	/* writes that need to block first (metadata, resize) */
	struct work_struct submit_work;	/* submits them */
};

/* Write intervals: no two overlapping writes (or sync chunks) at once. */
struct hablk_iv {
	spinlock_t lock;
	struct rb_root_cached tree;
	wait_queue_head_t wait;
};

/* Requests that wait for the peer's answer, found by the answer's id. */
struct hablk_slots {
	spinlock_t lock;		/* under st.lock where the route needs the state */
	struct hablk_req **req;		/* id & mask -> request */
	unsigned int used;
	unsigned int flushes;		/* of them, the node's own flushes (HABLK_REQF_PEER_FLUSH) */
	unsigned int hint;
	u32 seq;
	wait_queue_head_t wait;
};

/* What a request is. */
enum hablk_req_kind {
	HABLK_REQ_WRITE,		/* application write, flush, discard, zeroes */
	HABLK_REQ_SYNC,			/* full-sync chunk, owns its pages */
	HABLK_REQ_VERIFY,		/* verify chunk, owns its pages: the first holds the digests */
	HABLK_REQ_READ,			/* a read served by the peer (diskless, read error) */
};

/* Request bits. */
enum {
	HABLK_REQF_SENDING,		/* the sender started: an ack may come */
	HABLK_REQF_SENT,		/* the sender is done with it (or gave up) */
	HABLK_REQF_NET,			/* replicated: waits for the peer */
	HABLK_REQF_IV,			/* holds an interval */
	HABLK_REQF_INTENT,		/* counted busy in the intent map */
	HABLK_REQF_LOCAL_FAILED,	/* the local write failed: the peer's copy decides */
	HABLK_REQF_NET_FAILED,		/* the peer did not write it */
	HABLK_REQF_WAIT_ACK,		/* completes only with the peer's ack (C, or diskless) */
	HABLK_REQF_PEER_FLUSH,		/* the node's own empty flush (flush.c), not the app's */
};

/*
 * A write in flight on the primary (or a sync chunk on the sync source).
 * It lives in the front pad of the bio submitted to the backing disk.
 */
struct hablk_req {
	struct hablk_resource *res;
	struct bio *master;		/* the application's bio; NULL for sync */
	struct interval_tree_node iv;
	struct list_head send_list;
	unsigned long flags;
	u8 kind;			/* enum hablk_req_kind */
	u8 resends;			/* data-integrity: times sent again after a bad checksum */
	u64 id;				/* slot | sequence << HABLK_SLOT_BITS */
	u32 wire_flags;			/* HABLK_WF_* */
	s64 flush_no;			/* a PREFLUSH: the flush epoch it closes */
	sector_t sector;
	u32 size;
	atomic_t ref;			/* frees the request */
	atomic_t complete_pending;	/* completes the master bio */
	blk_status_t local_status;
	unsigned long start_time;	/* I/O accounting */
	void *copy;			/* protocol A: the data, sent from here (kvmalloc) */
	struct bio clone;		/* must be last */
};

/* Does the request carry data on the wire (a write; not a discard or zeroes)? */
static inline bool hablk_req_has_payload(const struct hablk_req *req)
{
	return req->size && !(req->wire_flags & (HABLK_WF_DISCARD | HABLK_WF_ZEROES));
}

int hablk_req_init(struct hablk_resource *res);
void hablk_req_exit(struct hablk_resource *res);
void hablk_submit_bio(struct bio *bio);
void hablk_req_defer(struct hablk_resource *res, struct bio_list *bios);
bool hablk_req_route(struct hablk_resource *res, struct hablk_req *req, bool *net);
void hablk_req_net_done(struct hablk_req *req, int status);
void hablk_req_give_up(struct hablk_resource *res, struct hablk_req *req);
void hablk_req_sent(struct hablk_req *req);
void hablk_req_put(struct hablk_req *req);
void hablk_req_cancel_all(struct hablk_resource *res);
int hablk_req_queue_net(struct hablk_resource *res, struct hablk_req *req);
bool hablk_req_resend(struct hablk_resource *res, struct hablk_req *req);
struct hablk_req *hablk_slot_take(struct hablk_resource *res, u64 id);
void hablk_iv_lock(struct hablk_resource *res, struct interval_tree_node *iv,
		   sector_t sector, u32 size);
void hablk_iv_unlock(struct hablk_resource *res, struct interval_tree_node *iv);
int hablk_iv_lock_net(struct hablk_resource *res, struct interval_tree_node *iv,
		      sector_t sector, u32 size);
bool hablk_iv_empty(struct hablk_resource *res);

/* peer_read.c: reads served by the peer */
struct hablk_peer_read {
	spinlock_t lock;
	struct list_head retry;		/* reads that failed locally, for the peer */
	struct work_struct retry_work;
};

void hablk_peer_read_init(struct hablk_resource *res);
bool hablk_peer_can_serve(struct hablk_resource *res);
void hablk_read_from_peer(struct hablk_resource *res, struct hablk_req *req);
void hablk_read_retry(struct hablk_resource *res, struct hablk_req *req);
void hablk_read_done(struct hablk_req *req, int status);
int hablk_read_reply(struct hablk_resource *res, u32 len);
int hablk_read_serve(struct hablk_resource *res, u32 len);
int hablk_read_send_reply(struct hablk_resource *res, struct hablk_peer_req *preq);

/* socket.c: TCP sockets of the replication link */
int hablk_socket_new(struct hablk_resource *res, struct socket **sockp);
void hablk_socket_setup(struct socket *sock, long rcvtimeo);
void hablk_socket_free(struct socket **sockp);
int hablk_socket_send(struct socket *sock, const void *buf, size_t len, int flags);
int hablk_socket_send_bvecs(struct socket *sock, struct bio_vec *bv, unsigned int n,
			    int flags);
int hablk_socket_send_pages(struct socket *sock, struct bio_vec *bv, unsigned int n,
			    int flags);
int hablk_socket_send_pkt(struct socket *sock, unsigned int type, const void *body,
			  u32 len, u32 extra, int flags);
int hablk_socket_recv(struct socket *sock, void *buf, size_t len);
int hablk_socket_recv_msg(struct socket *sock, struct msghdr *msg);
int hablk_socket_recv_pkt(struct socket *sock, unsigned int want, void *body, u32 len);

/* conn.c: the replication link's two streams, handshake, teardown, reconnect */
struct hablk_conn {
	struct task_struct *thread;	/* connects, handshakes, receives data */
	struct task_struct *meta_thread; /* meta packets but write acks; pings */
	bool want;			/* keep connecting (READ_ONCE) */
	atomic_t failed;		/* the link is failing: everything waiting wakes */
	struct mutex sock_mutex;	/* socket pointers vs. hablk_conn_fail() */
	struct socket *data_sock;
	struct socket *meta_sock;
};

void hablk_conn_init(struct hablk_resource *res);
int hablk_conn_start(struct hablk_resource *res);
void hablk_conn_stop(struct hablk_resource *res);
void hablk_conn_fail(struct hablk_resource *res, const char *why);

/* send.c: the sender, state packets, the secondary's acks */

#define HABLK_TX_HDR_SIZE	64	/* header, data packet body, CRC: 44 bytes */
#define HABLK_SEND_BATCH	16	/* pages per zero-copy call into TCP */

struct hablk_sender {
	struct task_struct *thread;	/* sends what queued behind others */
	spinlock_t lock;
	struct list_head queue;		/* requests waiting for the sender */
	wait_queue_head_t wait;
	struct mutex mutex;		/* one drainer of the queue: order kept */
	struct mutex data_mutex;	/* one packet at a time on each stream */
	struct mutex meta_mutex;
	u8 *tx_hdr;			/* a data packet's header, sent by page */
};

int hablk_send_init(struct hablk_resource *res);
void hablk_send_exit(struct hablk_resource *res);
void hablk_send_queue_add(struct hablk_resource *res, struct hablk_req *req);
void hablk_send_queue_drop(struct hablk_resource *res);
int hablk_sender_fn(void *arg);
void hablk_send_kick(struct hablk_resource *res);
int hablk_send_state(struct hablk_resource *res);
int hablk_send_data_pkt(struct hablk_resource *res, unsigned int type, const void *body,
			u32 len);
int hablk_send_data_pkt_extra(struct hablk_resource *res, unsigned int type,
			      const void *body, u32 len, const void *extra, u32 extra_len);
int hablk_send_meta(struct hablk_resource *res, unsigned int type, const void *body,
		    u32 len, int flags);
void hablk_ack_work(struct work_struct *work);
void hablk_ack_inline(struct hablk_resource *res);
void hablk_ack_push(struct hablk_resource *res);

/* receive.c: the data stream, and the peer's requests it starts */

#define HABLK_MAX_INFLIGHT_PEER	512	/* peer writes being written here */
#define HABLK_RX_BUF_SIZE	64	/* a header, a data packet's body and CRC: 44 bytes */

struct hablk_rx {
	u8 buf[HABLK_RX_BUF_SIZE];	/* the data stream's next bytes, read ahead */
	u32 head, tail;			/* unread: buf[head..tail) */
	struct bio_set bs;		/* bios of the peer's requests */
	atomic_t inflight;		/* peer requests being done here */
	wait_queue_head_t wait;
	spinlock_t ack_lock;
	struct list_head ack_queue;	/* done, the ack (or read reply) not yet sent */
	struct work_struct ack_work;
	bool acks_held;			/* the receiver corked acks: push before it waits */
};

/* A request received from the peer (a write, or a read for a diskless primary). */
struct hablk_peer_req {
	struct hablk_resource *res;
	struct list_head ack_list;
	u64 id;
	sector_t sector;
	int status;
	bool is_sync;
	bool is_read;			/* a read the primary asked for (diskless primary) */
	struct bio bio;			/* must be last */
};

int hablk_rx_init(struct hablk_resource *res);
void hablk_rx_exit(struct hablk_resource *res);
struct hablk_peer_req *hablk_peer_req_alloc(struct hablk_resource *res, unsigned int nr_pages,
					    blk_opf_t opf, const struct hablk_p_data *d);
void hablk_peer_req_free(struct hablk_peer_req *preq);
void hablk_peer_req_start(struct hablk_peer_req *preq);
void hablk_peer_endio(struct bio *bio);
int hablk_data_recv(struct hablk_resource *res, void *buf, u32 len);
bool hablk_data_pending(struct hablk_resource *res);
int hablk_receive_loop(struct hablk_resource *res);

/* meta.c: the meta stream */
int hablk_meta_fn(void *arg);

/* flush.c: acked writes that may sit in the peer's volatile disk cache */
struct hablk_flush {
	/*
	 * A write the peer acked is stable there only after a flush sent after
	 * its ack. epoch counts the flushes queued (under slots.lock),
	 * peer_flushed is the newest one acked; an extent whose peer_epoch is
	 * not before it may have writes in the peer's volatile cache.
	 */
	atomic64_t epoch;
	atomic64_t peer_flushed;
	atomic64_t acked_epoch;		/* the newest epoch an ack recorded */
	wait_queue_head_t wait;
	bool peer_writes_recorded;	/* HABLK_MDF_PEER_WRITES is on disk (conn thread) */
	struct list_head held_writes;	/* fault_peer_cache: acked, not written (conn thread) */
};

void hablk_flush_init(struct hablk_resource *res);
bool hablk_flush_pending(struct hablk_resource *res, u64 e);
void hablk_flush_queued(struct hablk_resource *res, struct hablk_req *req);
void hablk_flush_acked(struct hablk_resource *res, struct hablk_req *req);
s64 hablk_flush_peer(struct hablk_resource *res);
void hablk_flush_peer_wait(struct hablk_resource *res);
void hablk_flush_link_lost(struct hablk_resource *res);
int hablk_flush_first_peer_write(struct hablk_resource *res);
void hablk_flush_promoted(struct hablk_resource *res);
void hablk_flush_teardown(struct hablk_resource *res);
extern unsigned int hablk_fault_peer_cache;
bool hablk_fault_cache_hold(struct hablk_resource *res, struct bio *bio, u32 flags,
			    bool is_sync);

/* quorum.c: hablkd's verdict; freezing */
struct hablk_quorum {
	spinlock_t lock;
	/* read locklessly on the fast path */
	bool managed;			/* hablkd drives quorum: a lost peer freezes a primary */
	bool have;			/* quorum: true unless hablkd says otherwise */
	bool frozen;			/* new writes wait, writes the peer lacks are not acked */
	bool link_lost;			/* froze for this link's loss: not "connected" to hablkd */
	struct bio_list frozen_bios;	/* writes that came while frozen */
	struct bio_list held_bios;	/* done here, not on the peer: acked once thawed */
};

void hablk_quorum_init(struct hablk_resource *res);
bool hablk_quorum_gate(struct hablk_resource *res, struct bio *bio);
bool hablk_quorum_hold(struct hablk_resource *res, struct bio *master);
bool hablk_quorum_parks(struct hablk_resource *res);
void hablk_quorum_peer_lost(struct hablk_resource *res);
void hablk_quorum_link_new(struct hablk_resource *res);
void hablk_quorum_snapshot(struct hablk_resource *res, bool *frozen, bool *link_lost);
int hablk_quorum_set(struct hablk_resource *res, bool quorum, bool thaw,
		     struct netlink_ext_ack *extack);
void hablk_quorum_drain(struct hablk_resource *res);

/* sync.c: resync (and verify.c: online verify, checksum-resync's digests) */

#define HABLK_SYNC_CHUNK	(256U << 10)
#define HABLK_SYNC_WINDOW	8	/* sync chunks in flight while the application is idle */
#define HABLK_SYNC_WINDOW_BUSY	1	/* ... and while it writes: its latency comes first */
#define HABLK_SYNC_BM_PERIOD	(5 * HZ)	/* a sync source writes its progress this often */

struct hablk_sync {
	struct mutex mutex;		/* starting and stopping the thread */
	struct task_struct *thread;	/* the sync or verify source */
	atomic_t inflight;		/* chunks sent, not answered */
	wait_queue_head_t wait;
	u64 total;			/* sectors of the running sync (status) */
	atomic64_t done;		/* sectors done */
	unsigned long start;		/* jiffies */
	atomic64_t verify_mismatch;	/* blocks found different by the running verify */
	bool paused;			/* pause-sync on the source: no new chunks */
	bool bm_received;		/* sync source: the target's bitmap is merged */
};

void hablk_sync_init(struct hablk_resource *res);
int hablk_sync_start_source(struct hablk_resource *res, bool full, bool peer_bits);
void hablk_sync_run(struct hablk_resource *res);
void hablk_sync_stop(struct hablk_resource *res);
int hablk_sync_pause(struct hablk_resource *res, bool pause, struct netlink_ext_ack *extack);
void hablk_sync_progress_reset(struct hablk_resource *res, u64 total);
struct hablk_req *hablk_sync_chunk_alloc(struct hablk_resource *res, sector_t sector,
					 u32 size);
struct hablk_req *hablk_sync_chunk_read(struct hablk_resource *res, sector_t sector,
					u32 size, u8 kind);
int hablk_sync_chunk_queue(struct hablk_resource *res, struct hablk_req *req);
void hablk_sync_chunk_acked(struct hablk_req *req, int status);
int hablk_sync_target_begin(struct hablk_resource *res, u64 total, u64 uuid, bool send_bm);
int hablk_sync_target_done(struct hablk_resource *res, u64 uuid);

/* verify.c */
int hablk_verify_start(struct hablk_resource *res, struct netlink_ext_ack *extack);
int hablk_verify_target_begin(struct hablk_resource *res, u64 total);
void hablk_verify_reply(struct hablk_req *req, u64 mismatch, int status);
int hablk_verify_serve(struct hablk_resource *res, u32 len);
int hablk_verify_csum_pass(struct hablk_resource *res);

/* pool.c: the data path's pages */

#define HABLK_POOL_PAGES	1024	/* free pages a resource keeps for reuse: 4 MiB */

struct hablk_pool {
	spinlock_t lock;
	struct list_head pages;		/* linked by page->lru */
	unsigned int count;
};

void hablk_pool_init(struct hablk_resource *res);
int hablk_pool_add_pages(struct hablk_resource *res, struct bio *bio, u32 size, gfp_t gfp);
void hablk_pool_put_pages(struct hablk_resource *res, struct bio *bio);
void hablk_pool_drain(struct hablk_resource *res);

/* resize.c: online grow */
struct hablk_resize {
	struct rw_semaphore sem;	/* writes (read) vs. an online grow (write) */
	struct mutex mutex;		/* one change of the exported size at a time */
};

void hablk_resize_init(struct hablk_resource *res);
int hablk_resize(struct hablk_resource *res, struct netlink_ext_ack *extack);
void hablk_resize_apply(struct hablk_resource *res);

/* lock.c: two primaries' per-extent write locks, granted by hablkd */

struct hablk_locks {
	spinlock_t lock;
	bool on;			/* two primaries allowed: every write needs its lock */
	unsigned int shift;		/* log2 of sectors per extent */
	/* maps and counters (t.nreleasing: READ_ONCE on the fast path), under lock */
	struct hablk_lock_table t;
	struct bio_list waiting;	/* writes parked for their locks */
	unsigned int nwaiting;
	struct list_head wait_runs;	/* when each run of wants was told to hablkd */
	struct work_struct work;	/* tells hablkd what is wanted, finishes releases */
	struct mutex finish;		/* one finish_releases() at a time: work or command */
	struct delayed_work reannounce;	/* wants unanswered for a while: told again */
	u64 seq;			/* the newest grant's sequence number */
	u64 waits, wait_us;		/* for the status, with t.grants, t.releases */
};

struct hablk_lock_stats {
	u64 held;
	u32 waiters;
	u64 grants, releases, waits, wait_us;
};

void hablk_lock_init(struct hablk_resource *res);
u8 hablk_lock_shift(struct hablk_resource *res);
int hablk_lock_setup(struct hablk_resource *res, sector_t sectors);
void hablk_lock_free(struct hablk_resource *res);
int hablk_lock_grow(struct hablk_resource *res, sector_t sectors);
bool hablk_lock_missing(struct hablk_resource *res, sector_t sector, u32 size);
bool hablk_lock_park(struct hablk_resource *res, struct bio *bio);
int hablk_lock_command(struct hablk_resource *res, u8 op, u64 first, u64 count, u64 seq,
		       struct netlink_ext_ack *extack);
void hablk_lock_drop_all(struct hablk_resource *res);
void hablk_lock_fail_waiting(struct hablk_resource *res);
void hablk_lock_iv_left(struct hablk_resource *res);
bool hablk_lock_peer_may_write(struct hablk_resource *res, sector_t sector, u32 size);
void hablk_lock_stats(struct hablk_resource *res, struct hablk_lock_stats *s);
u64 hablk_lock_next_run(struct hablk_resource *res, u8 op, u64 from, u64 *count);

/* netlink.c */
int hablk_genl_init(void);
void hablk_genl_exit(void);
void hablk_genl_event(struct hablk_resource *res, const char *what);
void hablk_genl_lock_event(struct hablk_resource *res, u8 op, u64 first, u64 count);

/* One replicated block device. */
struct hablk_resource {
	struct list_head list;		/* in hablk_resources, under hablk_cfg_mutex */
	struct hablk_config cfg;
	struct net *net;		/* namespace of the sockets */
	struct workqueue_struct *wq;
	struct crypto_shash *hmac;	/* authentication of the link (conn.c) */
	struct delayed_work sweep_work;	/* main.c: intent-map sweep, peer flushes */

	struct hablk_st st;		/* state.c */
	struct hablk_device dev;	/* device.c */
	struct hablk_backing bk;	/* backing.c */
	struct hablk_md md;		/* md.c */
	struct hablk_bitmap bm;		/* bitmap.c */
	struct hablk_reqs req;		/* request.c */
	struct hablk_iv iv;		/* request.c */
	struct hablk_slots slots;	/* request.c */
	struct hablk_peer_read pread;	/* peer_read.c */
	struct hablk_conn conn;		/* conn.c */
	struct hablk_sender send;	/* send.c */
	struct hablk_rx rx;		/* receive.c */
	struct hablk_flush flush;	/* flush.c */
	struct hablk_quorum quorum;	/* quorum.c */
	struct hablk_sync sync;		/* sync.c, verify.c */
	struct hablk_pool pool;		/* pool.c */
	struct hablk_resize resize;	/* resize.c */
	struct hablk_locks locks;	/* lock.c */
};

#endif /* HABLK_H */
