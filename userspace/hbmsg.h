/* SPDX-License-Identifier: GPL-2.0 */
/* hbmsg.h - the authenticated heartbeat datagram between hablkd instances:
 * wire layout, encode/decode, and the replay filter. */
#ifndef HABLK_HBMSG_H
#define HABLK_HBMSG_H

#include <stddef.h>
#include <stdint.h>
#include "../kernel/uapi/linux/hablk.h"

#define HABLK_HB_MAGIC		0x48424b44	/* "HBKD" */
#define HABLK_HB_VERSION	1
#define HABLK_HB_RES_LEN	64	/* NUL-padded resource name */
#define HABLK_HB_ID_MAX		31	/* node ids 0..31 */

/* The wire format is fixed; names and ids the configuration allows must fit it. */
_Static_assert(HABLK_NAME_LEN <= HABLK_HB_RES_LEN, "a resource name fits the heartbeat");
_Static_assert(HABLK_NODE_ID_MAX <= HABLK_HB_ID_MAX, "a node id fits the heartbeat");

enum hablk_hb_type {
	HABLK_HB_HEARTBEAT = 1,		/* the only type of version 1 */
};

enum hablk_hb_path {
	HABLK_HB_PATH_LINK = 0,		/* sent over the replication link's address */
	HABLK_HB_PATH_CONTROL = 1,	/* sent over the control address */
	HABLK_HB_PATHS
};

#define HABLK_HB_ROLE_SECONDARY	0
#define HABLK_HB_ROLE_PRIMARY	1
#define HABLK_HB_ROLE_NONE	0xff	/* the arbiter, or no device */
#define HABLK_HB_DISK_NONE	0xff	/* else enum hablk_disk_state */

#define HABLK_HB_F_QUORUM	(1u << 0)	/* the sender has quorum */
#define HABLK_HB_F_SUSPENDED	(1u << 1)	/* the sender froze its I/O */
#define HABLK_HB_F_OUTDATED	(1u << 2)	/* arbiter to data node: you are recorded outdated */
#define HABLK_HB_F_WANT_VOTE	(1u << 3)	/* data node to arbiter: apart from my peer */
#define HABLK_HB_F_GRANTED	(1u << 4)	/* arbiter to data node: you have my vote */
#define HABLK_HB_F_ALL		0x1fu

/* On the wire: big-endian, 148 bytes, MAC over everything before it. */
struct hablk_hb_wire {
	uint32_t magic;			/* HABLK_HB_MAGIC */
	uint8_t version;		/* HABLK_HB_VERSION */
	uint8_t type;			/* enum hablk_hb_type */
	uint8_t sender_id;		/* 0..31 */
	uint8_t dest_id;		/* 0..31, the receiver */
	uint8_t path;			/* enum hablk_hb_path */
	uint8_t role;			/* HABLK_HB_ROLE_* */
	uint8_t disk;			/* enum hablk_disk_state, HABLK_HB_DISK_NONE */
	uint8_t flags;			/* HABLK_HB_F_*, other bits zero */
	char res[HABLK_HB_RES_LEN];	/* resource name, NUL-padded */
	uint64_t boot_id;		/* sender's run: CLOCK_REALTIME ns at start */
	uint64_t seq;			/* per boot_id, +1 per message on any path */
	uint64_t echo_boot;		/* receiver's boot_id as last seen, 0: none */
	uint32_t sees;			/* node ids the sender counts alive, itself too */
	uint32_t pad;			/* zero */
	uint64_t current_uuid;		/* sender's data generation, 0: none */
	uint8_t mac[32];		/* HMAC-SHA256(secret, all bytes above) */
} __attribute__((__packed__));

#define HABLK_HB_LEN		148
#define HABLK_HB_MAC_OFF	116

_Static_assert(sizeof(struct hablk_hb_wire) == HABLK_HB_LEN, "heartbeat size");
_Static_assert(offsetof(struct hablk_hb_wire, mac) == HABLK_HB_MAC_OFF, "MAC offset");

/* A heartbeat in host order; magic and version are implied. */
struct hablk_hb {
	uint8_t type, sender_id, dest_id, path, role, disk, flags;
	char res[HABLK_HB_RES_LEN];	/* NUL-terminated */
	uint64_t boot_id, seq, echo_boot;
	uint32_t sees;
	uint64_t current_uuid;
};

/*
 * Fill buf with in, MACed with secret. in->res is cut to 63 bytes; reserved
 * bits and fields are sent as zero.
 */
void hablk_hb_encode(const struct hablk_hb *in, const char *secret,
		     uint8_t buf[HABLK_HB_LEN]);

/*
 * Check a received datagram of len bytes for node self_id of resource res and
 * fill *out. The length is checked first, then the MAC, and only then any
 * other field. Returns 0, or a negative errno naming the first fault:
 *   -EMSGSIZE		not HABLK_HB_LEN bytes
 *   -EBADMSG		bad MAC (another secret, or corrupted)
 *   -EPROTO		bad magic
 *   -EPROTONOSUPPORT	another version
 *   -EOPNOTSUPP	unknown type
 *   -ENAMETOOLONG	resource name without a NUL in 64 bytes
 *   -ENOENT		for another resource
 *   -ERANGE		sender_id above 31
 *   -ELOOP		sender_id is self_id (our own message reflected back)
 *   -EXDEV		dest_id is not self_id (meant for another node)
 *   -EINVAL		unknown path
 *   -EILSEQ		pad or an unknown flag bit is not zero
 */
int hablk_hb_decode(const uint8_t *buf, size_t len, const char *secret,
		    const char *res, unsigned int self_id, struct hablk_hb *out);

/* A short phrase for a hablk_hb_decode() result, for logs. */
const char *hablk_hb_strerror(int err);

/*
 * Replay filter: what we know of one peer. Start zeroed. A message is proof
 * of life only if it is new (a later boot_id, or the known boot_id with a
 * seq above last_seq) and it echoes our own current boot_id. So a message
 * recorded during an earlier run of ours or of the peer and replayed later
 * never counts: the peer must have heard this run of ours first. The
 * echo_boot to send a peer is its hablk_hb_peer.boot_id.
 */
struct hablk_hb_peer {
	uint64_t boot_id;	/* the peer's latest run seen, 0: none */
	uint64_t last_seq;	/* highest seq seen in that run */
};

/*
 * Judge an authentic message m (decoded) from the peer p; my_boot is our own
 * boot_id. Returns:
 *   1	fresh and live: new (see above) and m->echo_boot == my_boot
 *   0	new but not proof of life yet: echo_boot is not my_boot (the peer has
 *	not heard this run of ours); recorded, so later messages can count
 *  -1	replay or stale: older boot_id, or same boot_id and seq <= last_seq;
 *	*p is unchanged
 */
int hablk_hb_fresh(struct hablk_hb_peer *p, const struct hablk_hb *m,
		   uint64_t my_boot);

#endif /* HABLK_HBMSG_H */
