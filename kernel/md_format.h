/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * hablk on-disk metadata: layout of the internal (or external) metadata area and the
 * superblock, shared by hablk.ko and hablkadm create-md (docs/metadata.md).
 */
#ifndef HABLK_MD_FORMAT_H
#define HABLK_MD_FORMAT_H

#ifdef __KERNEL__
#include <linux/types.h>
#include <asm/byteorder.h>
#else
#ifndef __packed
#error "userspace builds define __packed (see userspace/Makefile)"
#endif
#include <stdint.h>
#include <endian.h>
#include <linux/types.h>
#define cpu_to_le32(x) htole32(x)
#define cpu_to_le64(x) htole64(x)
#define le32_to_cpu(x) le32toh(x)
#define le64_to_cpu(x) le64toh(x)
#endif

#define HABLK_MD_MAGIC		0x314d4b4c42414848ULL	/* "HHABLKM1" little-endian */
#define HABLK_MD_VERSION	1
#define HABLK_MD_SB_BYTES	4096ULL		/* superblock slot, at the very end */
#define HABLK_MD_INTENT_BYTES	32768ULL	/* write-intent map, at least (covers 1 TiB) */
#define HABLK_MD_BM_BLOCK	4096ULL		/* bytes per bitmap bit (default) */
#define HABLK_MD_BM_BLOCK_MAX	(256ULL << 10)	/* at most one resync chunk per bit */
#define HABLK_MD_ALIGN		(1ULL << 20)	/* metadata area rounded to 1 MiB */
#define HABLK_MD_EXTENT_BYTES	(4ULL << 20)	/* data per write-intent bit */

/* Superblock flags. */
#define HABLK_MDF_CONSISTENT	(1U << 0)	/* data is not half-synced */
#define HABLK_MDF_UPTODATE	(1U << 1)	/* data was UpToDate when last written */
#define HABLK_MDF_OUTDATED	(1U << 2)	/* known older than the peer's */
#define HABLK_MDF_PRIMARY	(1U << 3)	/* node was primary (crash indicator) */
#define HABLK_MDF_PEER_FULL_SYNC (1U << 4)	/* a write failed on the peer: its bits are set */
#define HABLK_MDF_EXTERNAL	(1U << 5)	/* on its own device (meta-disk PATH) */
#define HABLK_MDF_PEER_WRITES	(1U << 6)	/* took peer writes not yet flushed (flush.c) */

/*
 * The superblock, little-endian, at offset (disk bytes - 4096) of the backing
 * disk, or at offset 0 of an external metadata device. The checksum
 * is CRC-32 (IEEE 802.3, as zlib's crc32()) over the 512-byte struct with
 * crc = 0.
 */
struct hablk_md_sb {
	__le64 magic;
	__le32 version;
	__le32 flags;
	__le32 node_id;
	__le32 bm_block;	/* bytes per bitmap bit */
	__le64 disk_bytes;	/* backing size when the metadata was created */
	__le64 data_sectors;	/* usable (exported) sectors from offset 0 */
	__le64 md_offset;	/* byte offset of the metadata area */
	__le64 bm_offset;	/* byte offset of the bitmap */
	__le64 intent_offset;	/* byte offset of the write-intent map */
	__le64 current_uuid;	/* data generation */
	__le64 bitmap_uuid;	/* generation the bitmap is relative to, or 0 */
	__le64 history_uuid[2];
	__le64 seq;		/* incremented on every write of the superblock */
	/*
	 * Written only by a clean down of an interrupted sync target, after a
	 * cache flush: the sync's generation, which the sync may resume from.
	 * Any later superblock write clears it. 0 in older metadata.
	 */
	__le64 sync_uuid;
	__u8 reserved[396];
	__le32 crc;
} __packed;

/*
 * Bytes of the write-intent map area: one bit per 4 MiB
 * extent of the disk, in whole 4 KiB pages, at least HABLK_MD_INTENT_BYTES.
 */
static inline __u64 hablk_md_intent_bytes(__u64 disk_bytes)
{
	__u64 extents = (disk_bytes + HABLK_MD_EXTENT_BYTES - 1) / HABLK_MD_EXTENT_BYTES;
	__u64 bytes = ((extents + 7) / 8 + 4095) & ~4095ULL;

	return bytes > HABLK_MD_INTENT_BYTES ? bytes : HABLK_MD_INTENT_BYTES;
}

/* Bitmap granularity: a power of two from 4 KiB to HABLK_MD_BM_BLOCK_MAX. */
static inline int hablk_md_bm_block_ok(__u64 bm_block)
{
	return bm_block >= HABLK_MD_BM_BLOCK && bm_block <= HABLK_MD_BM_BLOCK_MAX &&
	       !(bm_block & (bm_block - 1));
}

/* Bytes of the bitmap area: a bit per bm_block (the last one may be short), whole 4 KiB pages. */
static inline __u64 hablk_md_bm_bytes(__u64 disk_bytes, __u64 bm_block)
{
	__u64 bits = (disk_bytes + bm_block - 1) / bm_block;

	return ((bits + 7) / 8 + 4095) & ~4095ULL;
}

struct hablk_md_layout {
	__u64 data_sectors;
	__u64 md_offset;
	__u64 bm_offset;
	__u64 intent_offset;
	__u64 sb_offset;
};

/*
 * Internal metadata layout for a backing disk of disk_bytes and a bitmap bit
 * per bm_block bytes, or -1 when the disk is too small (less than 2 MiB of
 * data would be left). [ data ... | bitmap | intent map | superblock ]
 * The bitmap is sized for the whole disk, so it also covers the data area.
 */
static inline int hablk_md_layout(__u64 disk_bytes, __u64 bm_block, struct hablk_md_layout *l)
{
	__u64 bm_bytes = hablk_md_bm_bytes(disk_bytes &= ~4095ULL, bm_block);
	__u64 intent_bytes = hablk_md_intent_bytes(disk_bytes);
	__u64 md_bytes = HABLK_MD_SB_BYTES + intent_bytes + bm_bytes;

	md_bytes = (md_bytes + HABLK_MD_ALIGN - 1) & ~(HABLK_MD_ALIGN - 1);
	if (disk_bytes < md_bytes + (2ULL << 20))
		return -1;
	l->md_offset = disk_bytes - md_bytes;
	l->data_sectors = l->md_offset >> 9;
	l->sb_offset = disk_bytes - HABLK_MD_SB_BYTES;
	l->intent_offset = l->sb_offset - intent_bytes;
	l->bm_offset = l->intent_offset - bm_bytes;
	return 0;
}

/*
 * External metadata, on its own device of meta_bytes, for a data disk of
 * disk_bytes (all of it exported) and a bitmap bit per bm_block bytes:
 * [superblock 4 KiB | intent map | bitmap] from offset 0. Returns -1 if the
 * data disk is under 2 MiB, -2 if the metadata device is too small.
 */
static inline int hablk_md_layout_external(__u64 disk_bytes, __u64 meta_bytes, __u64 bm_block,
					   struct hablk_md_layout *l)
{
	__u64 bm_bytes = hablk_md_bm_bytes(disk_bytes &= ~4095ULL, bm_block);
	__u64 intent_bytes = hablk_md_intent_bytes(disk_bytes);

	if (disk_bytes < (2ULL << 20))
		return -1;
	if (HABLK_MD_SB_BYTES + intent_bytes + bm_bytes > meta_bytes)
		return -2;
	l->md_offset = 0;
	l->sb_offset = 0;
	l->intent_offset = HABLK_MD_SB_BYTES;
	l->bm_offset = HABLK_MD_SB_BYTES + intent_bytes;
	l->data_sectors = disk_bytes >> 9;
	return 0;
}

static inline __u32 hablk_md_crc32(const void *buf, unsigned long len)
{
	const unsigned char *p = buf;
	__u32 crc = ~0U;
	int k;

	while (len--) {
		crc ^= *p++;
		for (k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0xedb88320U & (0U - (crc & 1)));
	}
	return ~crc;
}

#endif /* HABLK_MD_FORMAT_H */
