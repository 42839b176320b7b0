/* SPDX-License-Identifier: GPL-2.0 */
/*
 * hablk internal interfaces: the resource object and the functions each file
 * exports to the others, grouped by file.
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
#include <linux/wait.h>
#include <linux/workqueue.h>
#include <crypto/hash.h>
#include <linux/netlink.h>

#include "uapi/linux/hablk.h"
#include "wire.h"
#include "meta_format.h"
#include "sync_rules.h"

#define HABLK_MAX_INFLIGHT_PEER	512	/* peer writes being written on the secondary */
#define HABLK_TX_HDR_SIZE	64	/* header, data packet body, CRC: 44 bytes */
#define HABLK_SEND_BATCH	16	/* pages per zero-copy call into TCP */
#define HABLK_RX_BUF_SIZE	64	/* a header, a data packet's body and CRC: 44 bytes */
#define HABLK_SYNC_CHUNK	(256U << 10)
#define HABLK_SYNC_WINDOW	8	/* sync chunks in flight while the application is idle */
#define HABLK_SYNC_BM_PERIOD	(5 * HZ)	/* a sync source writes its progress this often */
#define HABLK_SYNC_WINDOW_BUSY	1	/* ... and while it writes: its latency comes first */
#define HABLK_SLOT_BITS		10
#define HABLK_SLOTS		(1U << HABLK_SLOT_BITS)	/* writes in flight to the peer */
/* protocol A: data copied for the peer and not yet acked, at most (a send buffer) */
#define HABLK_COPY_MAX		(4U << 20)
/* free data-path pages a resource keeps for reuse (pool.c): 4 MiB */
#define HABLK_POOL_PAGES	1024

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

/*
 * Out-of-sync bitmap (bits, 1 per 4 KiB block) and write-intent map (intent,
 * 1 per 4 MiB extent), in memory; bitmap.c explains their rules.
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

/* Configuration of a resource, fixed from up to down. */
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
};

/* One replicated block device. */
struct hablk_resource {
	struct list_head list;		/* in hablk_resources, under hablk_cfg_mutex */
	struct hablk_config cfg;
	struct net *net;		/* namespace of the sockets */

	/* state, under state_lock; changed only through hablk_state_change() */
	spinlock_t state_lock;
	u8 role;			/* enum hablk_role */
	u8 disk;			/* enum hablk_disk_state */
	u8 conn;			/* enum hablk_conn_state */
	u8 repl;			/* enum hablk_repl_state */
	u8 peer_role;
	u8 peer_disk;
	bool want_connect;
	bool solo_ready;		/* a generation for writing alone is on disk */
	bool promoting;			/* waiting for the peer's consent */
	bool exchanging;		/* connect-time state exchange: no solo writes */
	bool discard_my_data;		/* next connect: lose a split-brain (admin's choice) */
	struct rw_semaphore resize_sem;	/* writes (read) vs. an online grow (write) */
	struct mutex resize_mutex;
	u64 primary_since;		/* wall-clock seconds of the last promotion */
	struct hablk_sb_side peer_sb;	/* the peer's split-brain facts, from its STATE */
	u8 peer_bm_shift;		/* its bitmap granularity (log2 bytes), 0: no disk */
	bool role_replied;
	u32 role_reply;
	wait_queue_head_t role_wait;
	struct mutex solo_mutex;
	struct mutex role_mutex;	/* one promotion at a time (command, open) */
	char last_error[96];

	/* block device */
	struct gendisk *gd;
	int open_count;			/* under state_lock */
	struct bio_set req_bs;		/* clones of application bios, front-padded requests */
	struct bio_set peer_bs;		/* bios of peer writes on the secondary */

	/* backing disk */
	void *bdev_handle;		/* compat: struct file * or struct block_device * */
	struct block_device *bdev;
	void *md_handle;		/* external metadata disk, if any */
	struct block_device *md_bdev;	/* where the metadata is: bdev, or the external disk */
	sector_t data_sectors;		/* usable sectors on the local disk */
	sector_t size_sectors;		/* exported size */
	u64 md_offset;
	struct mutex md_mutex;		/* serialises superblock writes */
	struct hablk_md_sb md;		/* in-memory superblock, under md_mutex */
	struct hablk_gen gen;		/* mirror of md uuids/flags, under state_lock */
	struct hablk_bitmap bm;
	struct delayed_work sweep_work;	/* forgets idle extents of the intent map */
	bool bm_received;		/* sync source: the target's bitmap is merged */

	/* write intervals: no two overlapping writes (or sync chunks) at once */
	spinlock_t iv_lock;
	struct rb_root_cached iv_tree;
	wait_queue_head_t iv_wait;

	/* connection */
	struct task_struct *conn_thread;	/* connects, handshakes, receives data */
	struct task_struct *meta_thread;	/* meta packets but write acks; pings */
	struct task_struct *send_thread;	/* sends queued requests */
	struct socket *data_sock;
	struct socket *meta_sock;
	struct mutex sock_mutex;	/* socket pointers vs. hablk_conn_fail() */
	struct mutex data_send_mutex;	/* one packet at a time on each stream */
	struct mutex send_mutex;	/* one drainer of the send queue: order kept */
	struct mutex meta_send_mutex;
	u8 *tx_hdr;			/* a data packet's header, sent by page (send.c) */
	u8 rx_buf[HABLK_RX_BUF_SIZE];	/* the data stream's next bytes, read ahead (receive.c) */
	u32 rx_head, rx_tail;		/* unread: rx_buf[rx_head..rx_tail) */
	atomic_t conn_failed;
	u64 peer_size_sectors;
	struct hablk_gen peer_gen;

	/* requests waiting for the sender, and requests waiting for an ack */
	spinlock_t send_lock;
	struct list_head send_queue;
	wait_queue_head_t send_wait;
	struct hablk_req **slots;	/* under state_lock: id & mask -> request */
	unsigned int slots_used;
	unsigned int flush_slots;	/* of them, the node's own flushes (HABLK_REQF_PEER_FLUSH) */
	unsigned int slot_hint;
	u32 slot_seq;
	wait_queue_head_t slot_wait;

	/*
	 * The peer's disk cache (bitmap.c): a write the peer acked is stable
	 * there only after a flush sent after its ack. flush_epoch counts the
	 * flushes queued (under state_lock), peer_flushed is the newest one
	 * acked; an extent whose peer_epoch is not before it may have writes
	 * in the peer's volatile cache.
	 */
	atomic64_t flush_epoch;
	atomic64_t peer_flushed;
	atomic64_t acked_epoch;		/* the newest epoch an ack recorded */
	wait_queue_head_t flush_wait;
	/* an unclean stop of ours may have lost acked peer writes: tell the peer (STATE) */
	bool lost_peer_writes;
	bool peer_lost_writes;		/* the peer's STATE says so: our recent extents are owed */
	bool peer_writes_recorded;	/* HABLK_MDF_PEER_WRITES is on disk (conn thread) */
	struct list_head held_writes;	/* fault_peer_cache: acked, not written (conn thread) */

	/* peer writes on the secondary */
	atomic_t peer_inflight;
	wait_queue_head_t peer_wait;
	spinlock_t ack_lock;
	struct list_head ack_queue;
	struct work_struct ack_work;
	bool acks_held;			/* the receiver corked acks: push before it waits */
	struct workqueue_struct *wq;
	spinlock_t pool_lock;		/* free pages for reuse (pool.c) */
	struct list_head pool;		/* linked by page->lru */
	unsigned int pool_count;
	spinlock_t defer_lock;
	struct bio_list deferred;	/* writes that need a metadata update first */
	/* quorum (quorum.c), under defer_lock; read locklessly on the fast path */
	bool managed;			/* hablkd drives quorum: a lost peer freezes a primary */
	bool quorum;			/* true unless hablkd says otherwise */
	bool frozen;			/* new writes wait, writes the peer lacks are not acked */
	bool link_lost;			/* froze for this link's loss: not "connected" to hablkd */
	struct bio_list frozen_bios;	/* writes that came while frozen */
	struct bio_list held_bios;	/* done here, not on the peer: acked once thawed */
	struct work_struct submit_work;
	struct list_head retry_list;	/* reads that failed locally, for the peer */
	struct work_struct retry_work;
	struct work_struct detach_work;	/* the backing disk failed: go diskless */
	atomic_t detaching;

	/* resync */
	struct mutex sync_mutex;
	struct task_struct *sync_thread;
	atomic_t sync_inflight;
	wait_queue_head_t sync_wait;
	u64 sync_total;
	atomic64_t sync_done;
	atomic64_t verify_mismatch;	/* blocks found different by the running verify */
	unsigned long sync_start;	/* jiffies */
	bool sync_paused;		/* pause-sync on the source: no new chunks */
	atomic_t app_inflight;		/* application writes waiting for the peer */
	atomic_t copy_bytes;		/* protocol A: data copied, not yet acked */

	/* authentication */
	struct crypto_shash *hmac;
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

/* A write received from the primary, being written on the secondary. */
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

/* peer_read.c */
bool hablk_peer_can_serve(struct hablk_resource *res);
void hablk_read_from_peer(struct hablk_resource *res, struct hablk_req *req);
void hablk_read_done(struct hablk_req *req, int status);
void hablk_read_retry_work(struct work_struct *work);
int hablk_read_reply(struct hablk_resource *res, u32 len);
int hablk_read_serve(struct hablk_resource *res, u32 len);
int hablk_read_send_reply(struct hablk_resource *res, struct hablk_peer_req *preq);

/* main.c */
extern struct mutex hablk_cfg_mutex;
struct hablk_resource *hablk_resource_find(const char *name);
struct hablk_resource *hablk_resource_find_minor(u32 minor);
int hablk_resource_up(struct hablk_config *cfg, struct net *net,
		      struct netlink_ext_ack *extack);
int hablk_resource_down(struct hablk_resource *res, bool force,
			struct netlink_ext_ack *extack);
extern struct list_head hablk_resources;

/* device.c */
int hablk_device_create(struct hablk_resource *res);
void hablk_device_destroy(struct hablk_resource *res);
void hablk_device_set_ro(struct hablk_resource *res, bool ro);
int hablk_device_register(void);
void hablk_device_unregister(void);

/* backing.c */
int hablk_backing_open(struct hablk_resource *res, struct netlink_ext_ack *extack);
void hablk_backing_close(struct hablk_resource *res);
int hablk_md_write(struct hablk_resource *res);
int hablk_md_io(struct hablk_resource *res, struct page *page, u64 offset, blk_opf_t opf);
void hablk_md_new_generation(struct hablk_resource *res);
int hablk_md_set_flags(struct hablk_resource *res, u32 set, u32 clear);
void hablk_md_keep_sync(struct hablk_resource *res);

/* bitmap.c */
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
int hablk_intent_begin(struct hablk_resource *res, sector_t sector, u64 sectors,
			bool can_block);
void hablk_intent_end(struct hablk_resource *res, sector_t sector, u64 sectors);
int hablk_intent_sweep(struct hablk_resource *res, bool in_sync);
int hablk_intent_clear_all(struct hablk_resource *res);
int hablk_bm_grow(struct hablk_resource *res, sector_t new_sectors, u64 bm_offset,
		  u64 intent_offset);

/* flush.c */
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

/* request.c */
bool hablk_req_route(struct hablk_resource *res, struct hablk_req *req, bool *net);
int hablk_req_init(struct hablk_resource *res);
void hablk_req_exit(struct hablk_resource *res);
void hablk_submit_bio(struct bio *bio);
void hablk_submit_work(struct work_struct *work);
void hablk_req_net_done(struct hablk_req *req, int status);
void hablk_req_give_up(struct hablk_resource *res, struct hablk_req *req);
void hablk_req_sent(struct hablk_req *req);
void hablk_req_put(struct hablk_req *req);
void hablk_iv_lock(struct hablk_resource *res, struct interval_tree_node *iv,
		   sector_t sector, u32 size);
void hablk_iv_unlock(struct hablk_resource *res, struct interval_tree_node *iv);
int hablk_iv_lock_net(struct hablk_resource *res, struct interval_tree_node *iv,
		      sector_t sector, u32 size);
struct hablk_req *hablk_slot_take(struct hablk_resource *res, u64 id);
void hablk_req_cancel_all(struct hablk_resource *res);
int hablk_req_queue_net(struct hablk_resource *res, struct hablk_req *req);
bool hablk_req_resend(struct hablk_resource *res, struct hablk_req *req);
extern unsigned int hablk_fault_corrupt_rx;

/* conn.c */
int hablk_conn_start(struct hablk_resource *res);
void hablk_conn_stop(struct hablk_resource *res);
void hablk_conn_fail(struct hablk_resource *res, const char *why);
struct task_struct *hablk_thread_start(struct hablk_resource *res,
				       int (*fn)(void *), const char *what);
void hablk_thread_stop(struct task_struct **t);
int hablk_sock_send(struct socket *sock, const void *buf, size_t len, int flags);
int hablk_sock_send_bvecs(struct socket *sock, struct bio_vec *bv, unsigned int n, int flags);
int hablk_sock_send_pages(struct socket *sock, struct bio_vec *bv, unsigned int n, int flags);
int hablk_sock_send_bvec(struct socket *sock, struct bio_vec *bv, int flags);
int hablk_send_pkt(struct socket *sock, unsigned int type, const void *body,
		   u32 len, u32 extra, int flags);
int hablk_sock_recv(struct socket *sock, void *buf, size_t len);
int hablk_sock_recv_msg(struct socket *sock, struct msghdr *msg);

/* send.c */
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
void hablk_peer_req_free(struct hablk_peer_req *preq);
int hablk_bio_add_pages(struct hablk_resource *res, struct bio *bio, u32 size, gfp_t gfp);
void hablk_bio_pages_put(struct hablk_resource *res, struct bio *bio);
void hablk_pool_drain(struct hablk_resource *res);
void hablk_ack_work(struct work_struct *work);
void hablk_ack_inline(struct hablk_resource *res);
void hablk_ack_push(struct hablk_resource *res);

/* receive.c */
void hablk_peer_endio(struct bio *bio);
struct hablk_peer_req *hablk_peer_req_alloc(struct hablk_resource *res, unsigned int nr_pages,
					    blk_opf_t opf, const struct hablk_p_data *d);
int hablk_data_recv(struct hablk_resource *res, void *buf, u32 len);
bool hablk_data_pending(struct hablk_resource *res);
int hablk_receive_loop(struct hablk_resource *res);
int hablk_meta_fn(void *arg);

/* sync.c */
int hablk_sync_start_source(struct hablk_resource *res, bool full, bool peer_bits);
void hablk_sync_run(struct hablk_resource *res);
struct hablk_req *hablk_chunk_alloc(struct hablk_resource *res, sector_t sector, u32 size);
struct hablk_req *hablk_chunk_read(struct hablk_resource *res, sector_t sector, u32 size,
				   u8 kind);
int hablk_chunk_queue(struct hablk_resource *res, struct hablk_req *req);
void hablk_sync_stop(struct hablk_resource *res);
int hablk_sync_target_begin(struct hablk_resource *res, u64 total, u64 uuid, bool send_bm);
int hablk_sync_target_done(struct hablk_resource *res, u64 uuid);
int hablk_verify_start(struct hablk_resource *res, struct netlink_ext_ack *extack);
void hablk_verify_reply(struct hablk_req *req, u64 mismatch, int status);
int hablk_verify_serve(struct hablk_resource *res, u32 len);
int hablk_csum_pass(struct hablk_resource *res);
void hablk_sync_chunk_acked(struct hablk_req *req, int status);

/* state.c */
enum hablk_state_field {
	HABLK_S_ROLE,
	HABLK_S_DISK,
	HABLK_S_CONN,
	HABLK_S_REPL,
	HABLK_S_PEER_ROLE,
	HABLK_S_PEER_DISK,
};
void hablk_state_set(struct hablk_resource *res, int what, u8 val, const char *why);
bool hablk_state_may_write(struct hablk_resource *res);
int hablk_state_write_alone(struct hablk_resource *res);
bool hablk_state_peer_has_all(struct hablk_resource *res);
void hablk_state_peer_write_failed(struct hablk_resource *res, int status);
void hablk_state_conn_lost(struct hablk_resource *res);
int hablk_state_peer_update(struct hablk_resource *res, const struct hablk_p_state *st,
			    bool initial);
int hablk_state_peer_role_request(struct hablk_resource *res, u32 role);
void hablk_state_role_reply(struct hablk_resource *res, u32 status);
int hablk_state_primary(struct hablk_resource *res, bool force,
			struct netlink_ext_ack *extack);
int hablk_state_outdate(struct hablk_resource *res, struct netlink_ext_ack *extack);
int hablk_state_secondary(struct hablk_resource *res, struct netlink_ext_ack *extack);
int hablk_state_invalidate(struct hablk_resource *res, struct netlink_ext_ack *extack);
int hablk_resize(struct hablk_resource *res, struct netlink_ext_ack *extack);

/* quorum.c */
bool hablk_quorum_gate(struct hablk_resource *res, struct bio *bio);
bool hablk_quorum_hold(struct hablk_resource *res, struct bio *master);
void hablk_quorum_peer_lost(struct hablk_resource *res);
int hablk_quorum_set(struct hablk_resource *res, bool quorum, bool thaw,
		     struct netlink_ext_ack *extack);
void hablk_quorum_drain(struct hablk_resource *res);
void hablk_resize_apply(struct hablk_resource *res);
void hablk_state_disk_failed(struct hablk_resource *res);
void hablk_detach_work(struct work_struct *work);
int hablk_sync_pause(struct hablk_resource *res, bool pause, struct netlink_ext_ack *extack);

/* netlink.c */
int hablk_genl_init(void);
void hablk_genl_exit(void);
void hablk_genl_event(struct hablk_resource *res, const char *what);

#endif /* HABLK_H */
