/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * hablk replication wire format: fixed-size big-endian packets, shared by the
 * kernel and the userspace unit tests. docs/protocol.md describes each one.
 */
#ifndef HABLK_WIRE_H
#define HABLK_WIRE_H

#ifdef __KERNEL__
#include <linux/types.h>
#include <linux/build_bug.h>
#include <asm/byteorder.h>
#else
#ifndef __packed
#error "userspace builds define __packed (see userspace/Makefile)"
#endif
#include <stdint.h>
#include <stddef.h>
#include <endian.h>
#include <linux/types.h>
#define cpu_to_be16(x) htobe16(x)
#define cpu_to_be32(x) htobe32(x)
#define cpu_to_be64(x) htobe64(x)
#define be16_to_cpu(x) be16toh(x)
#define be32_to_cpu(x) be32toh(x)
#define be64_to_cpu(x) be64toh(x)
#ifndef BUILD_BUG_ON
#define BUILD_BUG_ON(c) _Static_assert(!(c), #c)
#endif
#endif

#define HABLK_WIRE_MAGIC	0x48424c4bU	/* "HBLK" */
/*
 * 2: STATE carries sync_uuid (an interrupted sync resumes).
 * 3: STATE carries lost_writes (an unclean stop may have lost acked peer
 *    writes). Earlier versions are no longer spoken.
 */
#define HABLK_PROTO_MIN		3
#define HABLK_PROTO_MAX		3
#define HABLK_NONCE_LEN		32
#define HABLK_MAC_LEN		32
#define HABLK_WIRE_NAME_LEN	64
/* Largest payload of one data packet, and of one discard/zeroes range. */
#define HABLK_MAX_DATA		(1U << 20)
#define HABLK_MAX_DISCARD	(1U << 30)

enum hablk_pkt_type {
	/* handshake, on both streams */
	HABLK_P_HELLO = 1,
	HABLK_P_AUTH = 2,
	/* data stream */
	HABLK_P_STATE = 3,
	HABLK_P_DATA = 4,
	HABLK_P_SYNC_START = 5,
	HABLK_P_SYNC_DATA = 6,
	HABLK_P_SYNC_DONE = 7,
	/* meta stream */
	HABLK_P_ACK = 8,
	HABLK_P_PING = 9,
	HABLK_P_PING_ACK = 10,
	/* role consent: request on the data stream, reply on the meta stream */
	HABLK_P_ROLE_REQ = 11,
	HABLK_P_ROLE_REPLY = 12,
	HABLK_P_BITMAP = 13,		/* data stream: the sync target's out-of-sync bits */
	/* online verify: start, per-chunk digests, end on the data stream; replies on meta */
	HABLK_P_VERIFY_START = 14,
	HABLK_P_VERIFY_REQ = 15,
	HABLK_P_VERIFY_REPLY = 16,
	HABLK_P_VERIFY_DONE = 17,
	/* a diskless primary reads through its peer: both on the data stream */
	HABLK_P_READ_REQ = 18,
	HABLK_P_READ_REPLY = 19,	/* flags: 0 and the data, or a positive errno */
	__HABLK_P_MAX
};

enum hablk_stream {
	HABLK_STREAM_DATA = 0,
	HABLK_STREAM_META = 1,
};

/* Flags of P_DATA and P_SYNC_DATA. */
#define HABLK_WF_PREFLUSH	(1U << 0)	/* drain earlier writes, flush cache, then write */
#define HABLK_WF_FUA		(1U << 1)
#define HABLK_WF_DISCARD	(1U << 2)	/* no payload */
#define HABLK_WF_ZEROES		(1U << 3)	/* write zeroes; no payload */
#define HABLK_WF_NOUNMAP	(1U << 4)	/* with ZEROES: keep blocks allocated */
#define HABLK_WF_CSUM		(1U << 5)	/* data-integrity: CRC-32 of the payload before it */
#define HABLK_WF_ALL		0x3fU

/* Every packet starts with this header; len counts the bytes after it. */
struct hablk_hdr {
	__be32 magic;
	__be16 type;
	__be16 reserved;
	__be32 len;
	__be32 reserved2;
} __packed;

struct hablk_p_hello {
	__be32 proto_min;
	__be32 proto_max;
	__be32 node_id;		/* sender */
	__be32 peer_id;		/* whom the sender expects */
	__u8 stream;		/* enum hablk_stream */
	__u8 pad[7];
	__u8 nonce[HABLK_NONCE_LEN];
	char res_name[HABLK_WIRE_NAME_LEN];	/* NUL padded */
} __packed;

struct hablk_p_auth {
	__u8 mac[HABLK_MAC_LEN];
} __packed;

struct hablk_p_state {
	__be64 size_sectors;	/* usable size of the sender's disk */
	__be64 current_uuid;
	__be64 bitmap_uuid;
	__be64 history_uuid;
	__u8 role;		/* enum hablk_role */
	__u8 disk;		/* enum hablk_disk_state */
	__u8 dirty;		/* 1: holds writes the peer may lack (same generation) */
	__u8 discard;		/* 1: on a split-brain, this node's writes lose */
	__u8 after_sb;		/* its enum hablk_after_sb */
	__u8 bm_shift;		/* log2 of bytes per bitmap bit (12: 4 KiB), 0: no disk */
	__u8 lost_writes;	/* 1: stopped uncleanly holding acked peer writes maybe unflushed */
	__u8 lock_shift;	/* two primaries: log2 of the lock extent's bytes; 0: one primary */
	__be64 changes;		/* out-of-sync blocks (split-brain: blocks written apart) */
	__be64 primary_since;	/* wall-clock seconds it last became primary, 0: not since up */
	__be64 sync_uuid;	/* Inconsistent: the interrupted sync's generation, 0: none */
} __packed;

/*
 * Out-of-sync bits of blocks [first_bit, first_bit + nbits), little-endian
 * 64-bit words, follow. nbits 0 ends the bitmap.
 */
struct hablk_p_bitmap {
	__be64 first_bit;
	__be32 nbits;		/* a multiple of 64, at most HABLK_BITMAP_MAX_BITS */
	__be32 pad;
	__le64 words[];
} __packed;
#define HABLK_BITMAP_MAX_BITS	32768U

/* Digests of a chunk the verify source read; CRC-32 per 4 KiB block follows. */
struct hablk_p_verify {
	__be64 id;
	__be64 sector;
	__be32 size;		/* a multiple of 4096, at most HABLK_VERIFY_MAX */
	__be32 pad;
	__be32 crc[];
} __packed;
#define HABLK_VERIFY_MAX	(64U * 4096)

/* The verify target's answer: bit i set = block i of the chunk differs. */
struct hablk_p_verify_reply {
	__be64 id;
	__be64 mismatch;
} __packed;

/* A node asks its peer's consent before it becomes primary. */
struct hablk_p_role {
	__be32 role;		/* the role asked for */
	__be32 status;		/* reply: 0 granted, or a positive errno */
} __packed;

struct hablk_p_data {
	__be64 id;		/* echoed in the ack */
	__be64 sector;
	__be32 size;		/* bytes written; payload follows unless DISCARD/ZEROES */
	__be32 flags;		/* HABLK_WF_* */
} __packed;

struct hablk_p_sync_start {
	__be64 uuid;		/* the source's current uuid */
	__be64 total_sectors;
} __packed;

struct hablk_p_sync_done {
	__be64 uuid;
} __packed;

struct hablk_p_ack {
	__be64 id;
	__be32 status;		/* 0, or a positive errno */
	__u8 is_sync;
	__u8 pad[3];
} __packed;

static inline void hablk_wire_build_bug_on(void)
{
	BUILD_BUG_ON(sizeof(struct hablk_hdr) != 16);
	BUILD_BUG_ON(sizeof(struct hablk_p_hello) != 120);
	BUILD_BUG_ON(sizeof(struct hablk_p_auth) != 32);
	BUILD_BUG_ON(sizeof(struct hablk_p_state) != 64);
	BUILD_BUG_ON(sizeof(struct hablk_p_data) != 24);
	BUILD_BUG_ON(sizeof(struct hablk_p_ack) != 16);
	BUILD_BUG_ON(sizeof(struct hablk_p_role) != 8);
	BUILD_BUG_ON(sizeof(struct hablk_p_bitmap) != 16);
	BUILD_BUG_ON(sizeof(struct hablk_p_verify) != 24);
	BUILD_BUG_ON(sizeof(struct hablk_p_verify_reply) != 16);
}

static inline void hablk_hdr_encode(struct hablk_hdr *h, unsigned int type, __u32 len)
{
	h->magic = cpu_to_be32(HABLK_WIRE_MAGIC);
	h->type = cpu_to_be16(type);
	h->reserved = 0;
	h->len = cpu_to_be32(len);
	h->reserved2 = 0;
}

/* Fixed payload size of each packet type, excluding trailing data. */
static inline __u32 hablk_pkt_fixed_len(unsigned int type)
{
	switch (type) {
	case HABLK_P_HELLO:	 return sizeof(struct hablk_p_hello);
	case HABLK_P_AUTH:	 return sizeof(struct hablk_p_auth);
	case HABLK_P_STATE:	 return sizeof(struct hablk_p_state);
	case HABLK_P_DATA:
	case HABLK_P_SYNC_DATA:
	case HABLK_P_READ_REQ:
	case HABLK_P_READ_REPLY: return sizeof(struct hablk_p_data);
	case HABLK_P_SYNC_START: return sizeof(struct hablk_p_sync_start);
	case HABLK_P_SYNC_DONE:	 return sizeof(struct hablk_p_sync_done);
	case HABLK_P_ACK:	 return sizeof(struct hablk_p_ack);
	case HABLK_P_ROLE_REQ:
	case HABLK_P_ROLE_REPLY: return sizeof(struct hablk_p_role);
	case HABLK_P_BITMAP:	 return sizeof(struct hablk_p_bitmap);
	case HABLK_P_VERIFY_START: return sizeof(struct hablk_p_sync_start);
	case HABLK_P_VERIFY_REQ: return sizeof(struct hablk_p_verify);
	case HABLK_P_VERIFY_REPLY: return sizeof(struct hablk_p_verify_reply);
	case HABLK_P_VERIFY_DONE: return sizeof(struct hablk_p_sync_done);
	case HABLK_P_PING:
	case HABLK_P_PING_ACK:	 return 0;
	}
	return 0;
}

/*
 * Validate a received header. Returns the packet type, or a negative value
 * when the header is malformed: bad magic, unknown type, reserved bits set,
 * or a length that does not fit the type. Never trusts the peer.
 */
static inline int hablk_hdr_decode(const struct hablk_hdr *h, __u32 *len)
{
	unsigned int type = be16_to_cpu(h->type);
	__u32 l = be32_to_cpu(h->len);

	if (be32_to_cpu(h->magic) != HABLK_WIRE_MAGIC)
		return -1;
	if (type == 0 || type >= __HABLK_P_MAX)
		return -2;
	if (h->reserved || h->reserved2)
		return -3;
	if (type == HABLK_P_DATA || type == HABLK_P_SYNC_DATA || type == HABLK_P_READ_REPLY) {
		if (l < sizeof(struct hablk_p_data) ||
		    l > sizeof(struct hablk_p_data) + 4 + HABLK_MAX_DATA)
			return -4;
	} else if (type == HABLK_P_VERIFY_REQ) {
		if (l < sizeof(struct hablk_p_verify) ||
		    l > sizeof(struct hablk_p_verify) + HABLK_VERIFY_MAX / 4096 * 4)
			return -4;
	} else if (type == HABLK_P_BITMAP) {
		if (l < sizeof(struct hablk_p_bitmap) ||
		    l > sizeof(struct hablk_p_bitmap) + HABLK_BITMAP_MAX_BITS / 8)
			return -4;
	} else if (l != hablk_pkt_fixed_len(type)) {
		return -4;
	}
	*len = l;
	return (int)type;
}

/*
 * Validate a data packet body against the header length and the device size.
 * Returns 0 when the packet is well formed.
 */
static inline int hablk_data_check(const struct hablk_p_data *d, __u32 pkt_len,
				   __u64 dev_sectors)
{
	__u64 sector = be64_to_cpu(d->sector);
	__u32 size = be32_to_cpu(d->size);
	__u32 flags = be32_to_cpu(d->flags);
	__u32 payload = pkt_len - sizeof(*d);

	if (flags & ~HABLK_WF_ALL)
		return -1;
	if ((flags & HABLK_WF_DISCARD) && (flags & HABLK_WF_ZEROES))
		return -1;
	if ((flags & HABLK_WF_NOUNMAP) && !(flags & HABLK_WF_ZEROES))
		return -1;
	if (size & 511)
		return -2;
	if (flags & (HABLK_WF_DISCARD | HABLK_WF_ZEROES)) {
		if (payload != 0 || size == 0 || size > HABLK_MAX_DISCARD ||
		    (flags & HABLK_WF_CSUM))
			return -3;
	} else if (flags & HABLK_WF_CSUM) {
		if (size == 0 || payload != size + 4)
			return -3;
	} else if (payload != size) {
		return -3;
	}
	if (size == 0 && !(flags & HABLK_WF_PREFLUSH))
		return -3;
	if (sector > dev_sectors || (size >> 9) > dev_sectors - sector)
		return -4;
	return 0;
}

/*
 * Validate a bitmap packet: word-aligned, the payload matches nbits, and the
 * bits lie within a device of dev_bits blocks (rounded up to a word).
 */
static inline int hablk_bitmap_check(const struct hablk_p_bitmap *b, __u32 pkt_len,
				     __u64 dev_bits)
{
	__u64 first = be64_to_cpu(b->first_bit);
	__u32 nbits = be32_to_cpu(b->nbits);
	__u64 limit = (dev_bits + 63) & ~63ULL;

	if (b->pad || (first & 63) || (nbits & 63) || nbits > HABLK_BITMAP_MAX_BITS)
		return -1;
	if (pkt_len - sizeof(*b) != nbits / 8)
		return -2;
	if (first > limit || nbits > limit - first)
		return -3;
	return 0;
}

/* Validate a verify request: whole 4 KiB blocks, one digest each, inside the device. */
static inline int hablk_verify_check(const struct hablk_p_verify *v, __u32 pkt_len,
				     __u64 dev_sectors)
{
	__u64 sector = be64_to_cpu(v->sector);
	__u32 size = be32_to_cpu(v->size);

	if (v->pad || !size || (size & 4095) || size > HABLK_VERIFY_MAX || (sector & 7))
		return -1;
	if (pkt_len - sizeof(*v) != size / 4096 * 4)
		return -2;
	if (sector > dev_sectors || (size >> 9) > dev_sectors - sector)
		return -3;
	return 0;
}

#endif /* HABLK_WIRE_H */
