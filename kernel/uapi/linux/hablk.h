/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT */
/*
 * hablk generic netlink interface, shared by hablk.ko, hablkadm and hablkd.
 *
 * Family "hablk", version HABLK_GENL_VERSION, multicast groups "events"
 * (state changes, for everyone) and "locks" (lock wants and releases, with
 * CAP_NET_ADMIN). Every command that changes state needs CAP_NET_ADMIN
 * (GENL_ADMIN_PERM).
 *
 * HABLK_CMD_UP: create a resource and its device, attach the backing disk,
 *               start connecting to the peer.
 *    HABLK_A_RES_NAME       string, required
 *    HABLK_A_MINOR          u32, required (0..255)
 *    HABLK_A_PROTOCOL       u8, 'A' or 'C' (default 'C')
 *    HABLK_A_SECRET         binary, 1..128 bytes, required
 *    HABLK_A_LOCAL_ID       u32, 0..31, required
 *    HABLK_A_PEER_ID        u32, 0..31, required, != LOCAL_ID
 *    HABLK_A_PEER_NAME      string, for status
 *    HABLK_A_DISK           string, path of the backing block device, required
 *    HABLK_A_META_DISK      string, empty or absent: internal metadata; else the
 *                           device that holds it (external: all of DISK is data)
 *    HABLK_A_LOCAL_ADDR     binary, struct sockaddr_in or sockaddr_in6
 *    HABLK_A_PEER_ADDR      binary, same family as LOCAL_ADDR
 *    HABLK_A_PING_INT_MS    u32, 10..600000 (default 1000)
 *    HABLK_A_PING_TIMEOUT_MS u32, 10..600000 (default 2000)
 *    HABLK_A_CONNECT_INT_MS u32, 10..600000 (default 200)
 *    HABLK_A_CONNECT_MAX_MS u32, 10..600000 (default 5000)
 *    HABLK_A_AFTER_SB       u8, enum hablk_after_sb (default disconnect)
 *    HABLK_A_DATA_INTEGRITY u8, 0/1: CRC-32 of every data packet, checked by the peer
 *    HABLK_A_CSUM_RESYNC    u8, 0/1: a resync compares block digests first
 *    HABLK_A_SB_SAVE_DIR    string, absolute: where a split-brain's loser saves its changes
 *    HABLK_A_HELPER         string, absolute path of hablkadm, run by the kernel as
 *                           "HELPER save-divergent RES --save DIR" before such a resync
 *    HABLK_A_ON_NO_QUORUM   u8, enum hablk_quorum_policy (default suspend-io)
 *    HABLK_A_AUTO_PROMOTE   u8, 0/1: an open for writing on a secondary promotes it if
 *                           the primary command would succeed (default 0: EROFS)
 *    HABLK_A_TWO_PRIMARIES  u8, 0/1: both nodes may be primary at once (needs protocol C
 *                           and hablkd: every write then needs its extent's lock)
 *    HABLK_A_LOCK_EXTENT    u32, bytes per lock extent: a power of two, 64 KiB..1 GiB
 *                           (default 1 MiB)
 *
 * HABLK_CMD_DOWN, HABLK_CMD_DISCONNECT,
 * HABLK_CMD_SECONDARY:          HABLK_A_RES_NAME
 * HABLK_CMD_CONNECT:            HABLK_A_RES_NAME, HABLK_A_DISCARD_MY_DATA (flag: on a
 *                               split-brain, this node's changes lose and are resynced)
 * HABLK_CMD_VERIFY:             HABLK_A_RES_NAME: start an online verify from this node
 *                               (the peer's differing blocks are then resynced from here)
 * HABLK_CMD_INVALIDATE:         HABLK_A_RES_NAME: discard this (secondary) node's data;
 *                               a full sync from the peer follows
 * HABLK_CMD_PAUSE_SYNC, HABLK_CMD_RESUME_SYNC: HABLK_A_RES_NAME: syncs from this node
 *                               wait (the running one, and later ones) until resumed
 * HABLK_CMD_RESIZE:             HABLK_A_RES_NAME: the backing disk grew; run on both nodes
 * HABLK_CMD_GET_BITMAP (dump):  HABLK_A_RES_NAME; one message per non-zero stretch:
 *    HABLK_A_BITMAP_FIRST   u64, first 4 KiB block the words describe (a multiple of 64)
 *    HABLK_A_BITMAP_WORDS   binary, little-endian u64 words, bit i = block FIRST + i
 * HABLK_CMD_PRIMARY:            HABLK_A_RES_NAME, HABLK_A_FORCE (flag)
 * HABLK_CMD_SET_QUORUM:         HABLK_A_RES_NAME, HABLK_A_QUORUM (u8 0/1, required),
 *                               HABLK_A_THAW (flag): hablkd's verdict. The first one makes
 *                               the resource managed: from then on a primary that loses an
 *                               established link freezes until hablkd thaws it. Without
 *                               quorum, suspend-io freezes, io-error fails the frozen and
 *                               every new write; THAW (only with quorum) lets frozen I/O go.
 * HABLK_CMD_OUTDATE:            HABLK_A_RES_NAME: hablkd learnt from the arbiter that this
 *                               secondary's data is older than the peer's: its disk becomes
 *                               Outdated (on disk too) until a resync; refused on a primary
 *                               or while connected
 *
 * HABLK_CMD_LOCK:               HABLK_A_RES_NAME, HABLK_A_LOCK_OP (u8, required):
 *                               hablkd's lock manager (two primaries). GRANT: this node
 *                               may write extents [HABLK_A_LOCK_FIRST, +HABLK_A_LOCK_COUNT)
 *                               (u64 each), HABLK_A_LOCK_SEQ (u64) names the grant;
 *                               RELEASE: give them up once every write there is on both
 *                               disks (a LOCK_EVENT RELEASED follows); TAKE_ALL: the peer is
 *                               fenced, every extent is this node's
 * HABLK_CMD_GET_LOCKS (dump):   HABLK_A_RES_NAME; one message per run of extents:
 *    HABLK_A_LOCK_OP        u8, HABLK_LOCK_HELD, HABLK_LOCK_WANT or HABLK_LOCK_RELEASING
 *    HABLK_A_LOCK_FIRST, HABLK_A_LOCK_COUNT, HABLK_A_LOCK_EXTENT
 * HABLK_CMD_LOCK_EVENT (the "locks" multicast group, for hablkd): HABLK_A_RES_NAME,
 *    HABLK_A_LOCK_OP (HABLK_LOCK_WANT: writes wait for these extents; HABLK_LOCK_RELEASED:
 *    given up, or not held), HABLK_A_LOCK_FIRST, HABLK_A_LOCK_COUNT
 *
 * HABLK_CMD_GET_STATUS (dump, or doit with HABLK_A_RES_NAME) and the
 * HABLK_CMD_EVENT multicast messages carry one resource per message:
 *    HABLK_A_RES_NAME, HABLK_A_MINOR, HABLK_A_PROTOCOL, HABLK_A_LOCAL_ID,
 *    HABLK_A_ROLE           u8, enum hablk_role
 *    HABLK_A_DISK_STATE     u8, enum hablk_disk_state
 *    HABLK_A_SUSPENDED      u8, 0/1: writes frozen (no quorum, or a lost peer not yet fenced)
 *    HABLK_A_QUORUM         u8, 0/1 (1 until hablkd says otherwise)
 *    HABLK_A_MANAGED        u8, 0/1: hablkd drives this resource's quorum
 *    HABLK_A_BM_BLOCK       u32, bytes per bitmap bit (nodes with a disk bitmap)
 *    HABLK_A_SIZE_SECTORS   u64, exported size in 512-byte sectors
 *    HABLK_A_CURRENT_UUID   u64, current data generation
 *    HABLK_A_TWO_PRIMARIES  u8, 0/1
 *    HABLK_A_LOCKS          nested (two-primaries resources only):
 *        HABLK_A_LOCK_EXTENT    u32, bytes per lock extent
 *        HABLK_A_LOCKS_HELD     u64, extents this node holds
 *        HABLK_A_LOCK_WAITERS   u32, writes waiting for a lock now
 *        HABLK_A_LOCK_GRANTS    u64, extents granted to this node so far
 *        HABLK_A_LOCK_RELEASES  u64, extents it gave up so far
 *        HABLK_A_LOCK_WAITS     u64, times a write had to wait for its lock
 *        HABLK_A_LOCK_WAIT_US   u64, the time those waits took, in all
 *    HABLK_A_PEER           nested:
 *        HABLK_A_PEER_ID, HABLK_A_PEER_NAME,
 *        HABLK_A_CONN_STATE     u8, enum hablk_conn_state
 *        HABLK_A_PEER_ROLE      u8, enum hablk_role
 *        HABLK_A_PEER_DISK      u8, enum hablk_disk_state
 *        HABLK_A_REPL_STATE     u8, enum hablk_repl_state
 *        HABLK_A_OOS_SECTORS    u64, sectors the peer lacks (or we lack)
 *        HABLK_A_SYNC_TOTAL     u64, sectors of the running sync
 *        HABLK_A_SYNC_DONE      u64, sectors done of the running sync
 *        HABLK_A_SYNC_ELAPSED_MS u64, time since the running sync started (rate, ETA)
 *        HABLK_A_LAST_ERROR     string, why the last connection failed
 *    HABLK_A_EVENT_WHAT     string (events only): what changed, e.g. "role"
 */
#ifndef _UAPI_LINUX_HABLK_H
#define _UAPI_LINUX_HABLK_H

#define HABLK_GENL_NAME		"hablk"
#define HABLK_GENL_VERSION	1
#define HABLK_GENL_MCGRP_EVENTS	"events"
#define HABLK_GENL_MCGRP_LOCKS	"locks"

#define HABLK_SECRET_MAX	128
#define HABLK_NAME_LEN		64
#define HABLK_MINOR_MAX		255
#define HABLK_NODE_ID_MAX	31

enum hablk_cmd {
	HABLK_CMD_UNSPEC,
	HABLK_CMD_UP,
	HABLK_CMD_DOWN,
	HABLK_CMD_PRIMARY,
	HABLK_CMD_SECONDARY,
	HABLK_CMD_CONNECT,
	HABLK_CMD_DISCONNECT,
	HABLK_CMD_GET_STATUS,
	HABLK_CMD_EVENT,
	HABLK_CMD_GET_BITMAP,
	HABLK_CMD_VERIFY,
	HABLK_CMD_INVALIDATE,
	HABLK_CMD_PAUSE_SYNC,
	HABLK_CMD_RESUME_SYNC,
	HABLK_CMD_RESIZE,
	HABLK_CMD_SET_QUORUM,
	HABLK_CMD_OUTDATE,
	HABLK_CMD_LOCK,
	HABLK_CMD_GET_LOCKS,
	HABLK_CMD_LOCK_EVENT,
	__HABLK_CMD_MAX
};
#define HABLK_CMD_MAX (__HABLK_CMD_MAX - 1)

enum hablk_attr {
	HABLK_A_UNSPEC,
	HABLK_A_RES_NAME,
	HABLK_A_MINOR,
	HABLK_A_PROTOCOL,
	HABLK_A_SECRET,
	HABLK_A_LOCAL_ID,
	HABLK_A_PEER_ID,
	HABLK_A_PEER_NAME,
	HABLK_A_DISK,
	HABLK_A_META_DISK,
	HABLK_A_LOCAL_ADDR,
	HABLK_A_PEER_ADDR,
	HABLK_A_PING_INT_MS,
	HABLK_A_PING_TIMEOUT_MS,
	HABLK_A_CONNECT_INT_MS,
	HABLK_A_CONNECT_MAX_MS,
	HABLK_A_FORCE,
	HABLK_A_ROLE,
	HABLK_A_DISK_STATE,
	HABLK_A_SUSPENDED,
	HABLK_A_SIZE_SECTORS,
	HABLK_A_CURRENT_UUID,
	HABLK_A_PEER,
	HABLK_A_CONN_STATE,
	HABLK_A_PEER_ROLE,
	HABLK_A_PEER_DISK,
	HABLK_A_REPL_STATE,
	HABLK_A_OOS_SECTORS,
	HABLK_A_SYNC_TOTAL,
	HABLK_A_SYNC_DONE,
	HABLK_A_LAST_ERROR,
	HABLK_A_EVENT_WHAT,
	HABLK_A_PAD,
	HABLK_A_DISCARD_MY_DATA,
	HABLK_A_BITMAP_FIRST,
	HABLK_A_BITMAP_WORDS,
	HABLK_A_SYNC_ELAPSED_MS,
	HABLK_A_AFTER_SB,
	HABLK_A_SB_SAVE_DIR,
	HABLK_A_HELPER,
	HABLK_A_DATA_INTEGRITY,
	HABLK_A_CSUM_RESYNC,
	HABLK_A_BM_BLOCK,		/* u32: bytes per bitmap bit (status, bitmap dump) */
	HABLK_A_ON_NO_QUORUM,
	HABLK_A_QUORUM,
	HABLK_A_THAW,
	HABLK_A_MANAGED,
	HABLK_A_AUTO_PROMOTE,
	HABLK_A_TWO_PRIMARIES,
	HABLK_A_LOCK_EXTENT,
	HABLK_A_LOCK_OP,
	HABLK_A_LOCK_FIRST,
	HABLK_A_LOCK_COUNT,
	HABLK_A_LOCK_SEQ,
	HABLK_A_LOCKS,
	HABLK_A_LOCKS_HELD,
	HABLK_A_LOCK_WAITERS,
	HABLK_A_LOCK_GRANTS,
	HABLK_A_LOCK_RELEASES,
	HABLK_A_LOCK_WAITS,
	HABLK_A_LOCK_WAIT_US,
	__HABLK_A_MAX
};
#define HABLK_A_MAX (__HABLK_A_MAX - 1)

enum hablk_role {
	HABLK_ROLE_SECONDARY,
	HABLK_ROLE_PRIMARY,
	HABLK_ROLE_UNKNOWN,
};

enum hablk_disk_state {
	HABLK_DISK_DISKLESS,
	HABLK_DISK_FAILED,
	HABLK_DISK_INCONSISTENT,
	HABLK_DISK_OUTDATED,
	HABLK_DISK_UPTODATE,
	HABLK_DISK_UNKNOWN,
};

enum hablk_conn_state {
	HABLK_CONN_STANDALONE,
	HABLK_CONN_CONNECTING,
	HABLK_CONN_CONNECTED,
};

/* What to do when both nodes wrote while apart (after-sb in the configuration). */
enum hablk_after_sb {
	HABLK_ASB_DISCONNECT,		/* nothing: an administrator decides */
	HABLK_ASB_DISCARD_ZERO_CHANGES,	/* a node that wrote nothing loses */
	HABLK_ASB_DISCARD_LEAST_CHANGES, /* the node that wrote fewer blocks loses */
	HABLK_ASB_DISCARD_YOUNGER_PRIMARY, /* the node that became primary last loses */
	HABLK_ASB_DISCARD_SECONDARY,	/* the node that is secondary now loses */
	__HABLK_ASB_MAX
};

/* What a node without quorum does with writes (on-no-quorum in the configuration). */
enum hablk_quorum_policy {
	HABLK_QP_SUSPEND_IO,		/* freeze them until quorum returns */
	HABLK_QP_IO_ERROR,		/* fail them */
};

/* HABLK_A_LOCK_OP: hablkd's commands, the kernel's events, the dump's kinds of run. */
enum hablk_lock_op {
	HABLK_LOCK_GRANT,		/* command: these extents are this node's */
	HABLK_LOCK_RELEASE,		/* command: give these up */
	HABLK_LOCK_TAKE_ALL,		/* command: the peer is fenced: all are this node's */
	HABLK_LOCK_WANT,		/* event, dump: writes wait for these */
	HABLK_LOCK_RELEASED,		/* event: given up (or never held) */
	HABLK_LOCK_HELD,		/* dump: held */
	HABLK_LOCK_RELEASING,		/* dump: being given up, writes there draining */
	__HABLK_LOCK_OP_MAX
};

#define HABLK_LOCK_EXTENT_MIN	(64U << 10)
#define HABLK_LOCK_EXTENT_MAX	(1U << 30)
#define HABLK_LOCK_EXTENT_DEFAULT (1U << 20)

enum hablk_repl_state {
	HABLK_REPL_OFF,
	HABLK_REPL_ESTABLISHED,
	HABLK_REPL_SYNC_SOURCE,
	HABLK_REPL_SYNC_TARGET,
	HABLK_REPL_VERIFY_SOURCE,
	HABLK_REPL_VERIFY_TARGET,
	HABLK_REPL_PAUSED,
};

#endif /* _UAPI_LINUX_HABLK_H */
