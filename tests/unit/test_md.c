// SPDX-License-Identifier: GPL-2.0
/* test_md.c - check(3) unit tests of kernel/md_format.h and userspace/md.c (create-md). */
#define _GNU_SOURCE

#include <check.h>
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../kernel/md_format.h"
#include "../../userspace/md.h"
#include "suites.h"

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#define KiB		(1ULL << 10)
#define MiB		(1ULL << 20)
#define GiB		(1ULL << 30)
#define TiB		(1ULL << 40)
#define PROBE_BYTES	(68 * KiB)	/* what md.c reads to look for signatures */

/* Smallest disk with room for data: 1 MiB of metadata + 2 MiB of data. */
#define MIN_DISK	(3 * MiB)

/* The signatures md.c knows, where they are and what they are called. */
static const struct {
	const char *name;
	size_t off;
	const char *magic;
	size_t len;
} sigs[] = {
	{ "ext2/3/4 filesystem", 1080, "\x53\xef", 2 },
	{ "XFS filesystem", 0, "XFSB", 4 },
	{ "btrfs filesystem", 65600, "_BHRfS_M", 8 },
	{ "swap space", 4086, "SWAPSPACE2", 10 },
	{ "LUKS volume", 0, "LUKS\xba\xbe", 6 },
	{ "LVM physical volume", 512 + 24, "LVM2 001", 8 },
	{ "GPT partition table", 512, "EFI PART", 8 },
	{ "OCFS2 filesystem", 8192, "OCFSV2", 6 },
	{ "DOS partition table or FAT", 510, "\x55\xaa", 2 },
};

static unsigned long long round_up(unsigned long long x, unsigned long long to)
{
	return (x + to - 1) / to * to;
}

/* ---- layout ---- */

/*
 * Every property the layout of an accepted size must have. Returns false and
 * describes the first broken one in why[]. Plain C, not ck_assert: the sweeps
 * below call it tens of thousands of times.
 */
static bool layout_ok(unsigned long long size, char *why, size_t len)
{
	unsigned long long rounded = size & ~4095ULL;
	unsigned long long bits = size / 4096;	/* the layout uses whole 4 KiB blocks */
	unsigned long long bm_bytes, md_bytes;
	struct hablk_md_layout l;
	const char *what = NULL;

	if (hablk_md_layout(size, HABLK_MD_BM_BLOCK, &l)) {
		snprintf(why, len, "size %llu: rejected", size);
		return false;
	}
	md_bytes = rounded - l.md_offset;
	bm_bytes = l.intent_offset - l.bm_offset;
	if (l.md_offset % 4096 || l.bm_offset % 4096 || l.intent_offset % 4096 || l.sb_offset % 4096)
		what = "offsets not 4 KiB aligned";
	/* in order: data < bitmap < intent map < superblock */
	else if (!(l.md_offset <= l.bm_offset && l.bm_offset < l.intent_offset &&
		   l.intent_offset < l.sb_offset))
		what = "areas out of order";
	/* superblock in the last 4 KiB, intent map right before it */
	else if (l.sb_offset != rounded - HABLK_MD_SB_BYTES)
		what = "superblock not in the last 4 KiB";
	else if (l.intent_offset != l.sb_offset - hablk_md_intent_bytes(size & ~4095ULL))
		what = "intent map not right before the superblock";
	else if (hablk_md_intent_bytes(size & ~4095ULL) * 8 * (4ULL << 20) < (size & ~4095ULL))
		what = "write-intent map too small for one bit per 4 MiB";
	/* the data ends where the metadata starts, and leaves at least 2 MiB */
	else if (l.data_sectors * 512 != l.md_offset)
		what = "data_sectors * 512 != md_offset";
	else if (l.md_offset < 2 * MiB)
		what = "less than 2 MiB of data";
	/* the metadata area is a whole number of MiB, and 1 MiB aligned on MiB disks */
	else if (md_bytes % MiB)
		what = "metadata area not a multiple of 1 MiB";
	else if (size % MiB == 0 && l.md_offset % MiB)
		what = "metadata area not 1 MiB aligned";
	/* one bitmap bit per 4 KiB of the disk, at most 32 KiB per GiB (+ rounding) */
	else if (bm_bytes * 8 < bits)
		what = "bitmap too small for one bit per 4 KiB";
	else if (bm_bytes > round_up(round_up(bits, 8) / 8, 4096) ||
		 bm_bytes > 32 * KiB * (size / GiB + 1))
		what = "bitmap larger than 32 KiB per GiB";
	/* and the area wastes less than the 1 MiB rounding */
	else if (md_bytes >= bm_bytes + hablk_md_intent_bytes(size & ~4095ULL) + HABLK_MD_SB_BYTES + MiB)
		what = "metadata area larger than needed";
	if (!what)
		return true;
	snprintf(why, len, "size %llu: %s (md %llu bm %llu al %llu sb %llu data_sectors %llu)",
		 size, what, (unsigned long long)l.md_offset, (unsigned long long)l.bm_offset,
		 (unsigned long long)l.intent_offset, (unsigned long long)l.sb_offset,
		 (unsigned long long)l.data_sectors);
	return false;
}

static void assert_layout(unsigned long long size)
{
	char why[256];

	ck_assert_msg(layout_ok(size, why, sizeof(why)), "%s", why);
}

/* For the sweeps: remember the first bad size, count them all. */
struct sweep {
	unsigned long long checked, bad;
	char first[256];
};

static void sweep_one(struct sweep *sw, unsigned long long size)
{
	char why[256];

	sw->checked++;
	if (layout_ok(size, why, sizeof(why)))
		return;
	if (!sw->bad++)
		strcpy(sw->first, why);
}

static void assert_sweep(const struct sweep *sw)
{
	ck_assert_msg(sw->bad == 0, "%llu of %llu sizes bad, first %s", sw->bad, sw->checked,
		      sw->first);
}

START_TEST(layout_examples)
{
	struct hablk_md_layout l;

	/* the smallest disk: 2 MiB of data, 1 MiB of metadata */
	ck_assert_int_eq(hablk_md_layout(MIN_DISK, HABLK_MD_BM_BLOCK, &l), 0);
	ck_assert_uint_eq(l.md_offset, 2 * MiB);
	ck_assert_uint_eq(l.data_sectors, 4096);
	ck_assert_uint_eq(l.sb_offset, MIN_DISK - 4096);
	ck_assert_uint_eq(l.intent_offset, MIN_DISK - 4096 - 32768);
	ck_assert_uint_eq(l.bm_offset, MIN_DISK - 4096 - 32768 - 4096);

	/* 1 GiB: 262144 bits = 32 KiB of bitmap */
	ck_assert_int_eq(hablk_md_layout(GiB, HABLK_MD_BM_BLOCK, &l), 0);
	ck_assert_uint_eq(l.md_offset, GiB - MiB);
	ck_assert_uint_eq(l.data_sectors, (GiB - MiB) / 512);
	ck_assert_uint_eq(l.sb_offset, GiB - 4096);
	ck_assert_uint_eq(l.intent_offset, GiB - 4096 - 32768);
	ck_assert_uint_eq(l.bm_offset, GiB - 4096 - 32768 - 32768);

	/* 1 TiB: 32 MiB of bitmap, 33 MiB of metadata */
	ck_assert_int_eq(hablk_md_layout(TiB, HABLK_MD_BM_BLOCK, &l), 0);
	ck_assert_uint_eq(l.intent_offset - l.bm_offset, 32 * MiB);
	ck_assert_uint_eq(l.md_offset, TiB - 33 * MiB);

	/* an odd size: rounded down to 4 KiB first */
	ck_assert_int_eq(hablk_md_layout(10 * MiB + 4096 + 123, HABLK_MD_BM_BLOCK, &l), 0);
	ck_assert_uint_eq(l.sb_offset, 10 * MiB);
	ck_assert_uint_eq(l.md_offset, 9 * MiB + 4096);
}
END_TEST

/* Bitmap granularity: powers of two from 4 KiB to 256 KiB, nothing else. */
START_TEST(granularity_ok)
{
	static const unsigned long long good[] = { 4096, 8192, 16384, 65536, 262144 };
	static const unsigned long long bad[] = { 0, 512, 2048, 4095, 4097, 12288, 100000,
						  524288, 1ULL << 32 };
	size_t i;

	for (i = 0; i < ARRAY_SIZE(good); i++)
		ck_assert_msg(hablk_md_bm_block_ok(good[i]), "%llu refused", good[i]);
	for (i = 0; i < ARRAY_SIZE(bad); i++)
		ck_assert_msg(!hablk_md_bm_block_ok(bad[i]), "%llu accepted", bad[i]);
}
END_TEST

/* A coarser bitmap is smaller: a bit per granule, the last one may be short. */
START_TEST(granularity_layout)
{
	struct hablk_md_layout l4, l64, lx;

	/* 1 GiB at 64 KiB: 16384 bits = 2 KiB, one 4 KiB page */
	ck_assert_uint_eq(hablk_md_bm_bytes(GiB, 65536), 4096);
	ck_assert_uint_eq(hablk_md_bm_bytes(GiB, 4096), 32 * KiB);
	/* 1 TiB at 256 KiB: 4 Mi bits = 512 KiB */
	ck_assert_uint_eq(hablk_md_bm_bytes(TiB, 262144), 512 * KiB);
	/* a partial last granule still gets its bit */
	ck_assert_uint_eq(hablk_md_bm_bytes(65536ULL * 32768 + 4096, 65536), 8192);
	ck_assert_uint_eq(hablk_md_bm_bytes(65536ULL * 32768, 65536), 4096);

	ck_assert_int_eq(hablk_md_layout(TiB, 4096, &l4), 0);
	ck_assert_int_eq(hablk_md_layout(TiB, 65536, &l64), 0);
	ck_assert_uint_eq(l64.intent_offset - l64.bm_offset, 2 * MiB);
	ck_assert_uint_eq(l64.sb_offset, l4.sb_offset);
	ck_assert_uint_eq(l64.intent_offset, l4.intent_offset);
	/* the metadata area shrinks with the bitmap: 33 MiB becomes 3 MiB */
	ck_assert_uint_eq(l64.md_offset, TiB - 3 * MiB);
	ck_assert_uint_gt(l64.data_sectors, l4.data_sectors);

	ck_assert_int_eq(hablk_md_layout_external(TiB, 4 * MiB, 65536, &lx), 0);
	ck_assert_uint_eq(lx.bm_offset, 4096 + hablk_md_intent_bytes(TiB));
	ck_assert_int_eq(hablk_md_layout_external(TiB, 4 * MiB, 4096, &lx), -2);
}
END_TEST

START_TEST(layout_too_small)
{
	static const unsigned long long small[] = {
		0, 1, 511, 4096, MiB, 2 * MiB, MIN_DISK - 4096, MIN_DISK - 1,
	};
	struct hablk_md_layout l;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(small); i++)
		ck_assert_msg(hablk_md_layout(small[i], HABLK_MD_BM_BLOCK, &l) == -1,
			      "size %llu accepted", small[i]);
	assert_layout(MIN_DISK);
	assert_layout(MIN_DISK + 1);
	assert_layout(MIN_DISK + 4095);
}
END_TEST

START_TEST(layout_sizes)
{
	static const unsigned long long sizes[] = {
		MIN_DISK, 4 * MiB, 10 * MiB + 4096, 64 * MiB + 1000, 100 * MiB - 1, GiB - 1,
		GiB, GiB + 1, GiB + 4096, 100 * GiB + 12345, TiB, 16 * TiB - 512,
		(1ULL << 50) + 7, 1ULL << 60, (1ULL << 63) - 1,
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(sizes); i++)
		assert_layout(sizes[i]);
}
END_TEST

/* Every 4 KiB step of small disks, and byte-odd sizes around them. */
START_TEST(layout_sweep_small)
{
	struct sweep sw = { 0, 0, "" };
	unsigned long long size, accepted = 0;
	struct hablk_md_layout l;

	for (size = 0; size < MIN_DISK; size += 4096)
		accepted += hablk_md_layout(size, HABLK_MD_BM_BLOCK, &l) == 0 ||
			    hablk_md_layout(size + 4095, HABLK_MD_BM_BLOCK, &l) == 0;
	ck_assert_uint_eq(accepted, 0);
	for (size = MIN_DISK; size <= 40 * MiB; size += 4096) {
		sweep_one(&sw, size);
		sweep_one(&sw, size + 511);
	}
	assert_sweep(&sw);
}
END_TEST

/*
 * Where the bitmap plus intent map and superblock outgrow 1 MiB (about
 * 30 GiB), the metadata area grows to 2 MiB.
 */
START_TEST(layout_sweep_md_growth)
{
	/* bitmap bytes at which 4 KiB + 32 KiB + bitmap exceeds 1 MiB */
	const unsigned long long bm_max = MiB - HABLK_MD_SB_BYTES - HABLK_MD_INTENT_BYTES;
	const unsigned long long edge = bm_max * 8 * 4096;
	struct sweep sw = { 0, 0, "" };
	unsigned long long size;
	struct hablk_md_layout l;

	for (size = edge - 64 * MiB; size <= edge + 64 * MiB; size += 4096)
		sweep_one(&sw, size);
	assert_sweep(&sw);
	ck_assert_int_eq(hablk_md_layout(edge, HABLK_MD_BM_BLOCK, &l), 0);
	ck_assert_uint_eq(edge - l.md_offset, MiB);
	ck_assert_int_eq(hablk_md_layout(edge + 4096, HABLK_MD_BM_BLOCK, &l), 0);
	ck_assert_uint_eq(edge + 4096 - l.md_offset, 2 * MiB);
}
END_TEST

/* Pseudo-random sizes from 3 MiB to 8 EiB, deterministic. */
START_TEST(layout_random)
{
	unsigned long long x = 0x9e3779b97f4a7c15ULL, size;
	struct sweep sw = { 0, 0, "" };
	int i;

	for (i = 0; i < 20000; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		size = x >> (1 + i % 41);	/* below 2^63, many magnitudes */
		if (size < MIN_DISK)
			size += MIN_DISK;
		sweep_one(&sw, size);
	}
	assert_sweep(&sw);
}
END_TEST

/* ---- superblock, crc ---- */

START_TEST(sb_struct)
{
	ck_assert_uint_eq(sizeof(struct hablk_md_sb), 512);
	ck_assert_uint_eq(offsetof(struct hablk_md_sb, node_id), 16);
	ck_assert_uint_eq(offsetof(struct hablk_md_sb, disk_bytes), 24);
	ck_assert_uint_eq(offsetof(struct hablk_md_sb, current_uuid), 64);
	ck_assert_uint_eq(offsetof(struct hablk_md_sb, seq), 96);
	ck_assert_uint_eq(offsetof(struct hablk_md_sb, sync_uuid), 104);
	ck_assert_uint_eq(offsetof(struct hablk_md_sb, crc), 508);
	/* "HHABLKM1", little-endian */
	ck_assert_mem_eq(&(__le64){ cpu_to_le64(HABLK_MD_MAGIC) }, "HHABLKM1", 8);
}
END_TEST

START_TEST(crc32_vectors)
{
	static const char fox[] = "The quick brown fox jumps over the lazy dog";
	unsigned char zeros[32] = { 0 };

	ck_assert_uint_eq(hablk_md_crc32("123456789", 9), 0xCBF43926U);
	ck_assert_uint_eq(hablk_md_crc32("", 0), 0);
	ck_assert_uint_eq(hablk_md_crc32(NULL, 0), 0);
	ck_assert_uint_eq(hablk_md_crc32("a", 1), 0xE8B7BE43U);
	ck_assert_uint_eq(hablk_md_crc32(fox, strlen(fox)), 0x414FA339U);
	ck_assert_uint_eq(hablk_md_crc32(zeros, sizeof(zeros)), 0x190A55ADU);
}
END_TEST

/* ---- signatures ---- */

START_TEST(signature_each)
{
	unsigned char *buf = calloc(1, PROBE_BYTES);
	const char *got;

	ck_assert_ptr_nonnull(buf);
	memcpy(buf + sigs[_i].off, sigs[_i].magic, sigs[_i].len);
	got = hablk_md_signature(buf, PROBE_BYTES);
	ck_assert_ptr_nonnull(got);
	ck_assert_str_eq(got, sigs[_i].name);
	/* found when the buffer just holds it, not when it is cut short */
	got = hablk_md_signature(buf, sigs[_i].off + sigs[_i].len);
	ck_assert_ptr_nonnull(got);
	ck_assert_str_eq(got, sigs[_i].name);
	ck_assert_ptr_null(hablk_md_signature(buf, sigs[_i].off + sigs[_i].len - 1));
	/* one byte off is something else */
	buf[sigs[_i].off + sigs[_i].len - 1] ^= 0x01;
	ck_assert_ptr_null(hablk_md_signature(buf, PROBE_BYTES));
	free(buf);
}
END_TEST

START_TEST(signature_none)
{
	unsigned char *buf = calloc(1, PROBE_BYTES);

	ck_assert_ptr_nonnull(buf);
	ck_assert_ptr_null(hablk_md_signature(buf, PROBE_BYTES));
	ck_assert_ptr_null(hablk_md_signature(buf, 0));
	ck_assert_ptr_null(hablk_md_signature(buf, 1));
	memset(buf, 0xff, PROBE_BYTES);
	ck_assert_ptr_null(hablk_md_signature(buf, PROBE_BYTES));
	free(buf);
}
END_TEST

/* ---- create-md on regular files ---- */

static char tmpdir[64];
static char path[128];
static char err[256];

/*
 * One directory for the test case, made and removed in the runner (an
 * unchecked fixture), so that a failed test leaves nothing behind; each test
 * starts without the disk file.
 */
static void dir_setup(void)
{
	strcpy(tmpdir, "/tmp/test_md.XXXXXX");
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		exit(EXIT_FAILURE);
	}
	snprintf(path, sizeof(path), "%s/disk", tmpdir);
}

static void dir_teardown(void)
{
	unlink(path);
	if (rmdir(tmpdir))
		perror(tmpdir);
}

static void md_setup(void)
{
	unlink(path);
	err[0] = '\0';
}

static void md_teardown(void)
{
	unlink(path);
}

/* A sparse, zero-filled file of size bytes. */
static void make_disk(unsigned long long size)
{
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(ftruncate(fd, (off_t)size), 0);
	ck_assert_int_eq(close(fd), 0);
}

static void put(unsigned long long off, const void *buf, size_t len)
{
	int fd = open(path, O_RDWR);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pwrite(fd, buf, len, (off_t)off), (ssize_t)len);
	ck_assert_int_eq(close(fd), 0);
}

static void get(unsigned long long off, void *buf, size_t len)
{
	int fd = open(path, O_RDONLY);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pread(fd, buf, len, (off_t)off), (ssize_t)len);
	ck_assert_int_eq(close(fd), 0);
}

static unsigned long long file_size(void)
{
	struct stat st;

	ck_assert_int_eq(stat(path, &st), 0);
	return (unsigned long long)st.st_size;
}

/* The whole file, to compare before and after a refused run. */
static unsigned char *snapshot(void)
{
	unsigned long long size = file_size();
	unsigned char *buf = malloc(size ? size : 1);

	ck_assert_ptr_nonnull(buf);
	if (size)
		get(0, buf, size);
	return buf;
}

static void assert_unchanged(unsigned char *before, unsigned long long size)
{
	unsigned char *after;

	ck_assert_uint_eq(file_size(), size);
	after = snapshot();
	ck_assert_msg(!memcmp(before, after, size), "a refused create-md changed the disk");
	free(after);
	free(before);
}

static bool all_zero(const unsigned char *p, size_t len)
{
	while (len--)
		if (*p++)
			return false;
	return true;
}

static int create(unsigned int node_id, bool force)
{
	err[0] = '\0';
	return hablk_md_create(path, NULL, node_id, HABLK_MD_BM_BLOCK, force, err, sizeof(err));
}

/* The superblock at the end of a disk of size bytes is what create-md writes. */
static void assert_sb(unsigned long long size, unsigned int node_id)
{
	unsigned char slot[4096];
	struct hablk_md_layout l;
	struct hablk_md_sb sb;
	__u32 crc;

	ck_assert_int_eq(hablk_md_layout(size, HABLK_MD_BM_BLOCK, &l), 0);
	get(l.sb_offset, slot, sizeof(slot));
	memcpy(&sb, slot, sizeof(sb));
	ck_assert_uint_eq(le64_to_cpu(sb.magic), HABLK_MD_MAGIC);
	ck_assert_uint_eq(le32_to_cpu(sb.version), HABLK_MD_VERSION);
	ck_assert_uint_eq(le32_to_cpu(sb.flags), 0);
	ck_assert_uint_eq(le32_to_cpu(sb.node_id), node_id);
	ck_assert_uint_eq(le32_to_cpu(sb.bm_block), HABLK_MD_BM_BLOCK);
	ck_assert_uint_eq(le64_to_cpu(sb.disk_bytes), size & ~4095ULL);
	ck_assert_uint_eq(le64_to_cpu(sb.data_sectors), l.data_sectors);
	ck_assert_uint_eq(le64_to_cpu(sb.md_offset), l.md_offset);
	ck_assert_uint_eq(le64_to_cpu(sb.bm_offset), l.bm_offset);
	ck_assert_uint_eq(le64_to_cpu(sb.intent_offset), l.intent_offset);
	ck_assert_uint_eq(le64_to_cpu(sb.current_uuid), 0);
	ck_assert_uint_eq(le64_to_cpu(sb.bitmap_uuid), 0);
	ck_assert_uint_eq(le64_to_cpu(sb.history_uuid[0]), 0);
	ck_assert_uint_eq(le64_to_cpu(sb.history_uuid[1]), 0);
	ck_assert_uint_eq(le64_to_cpu(sb.seq), 1);
	ck_assert_uint_eq(le64_to_cpu(sb.sync_uuid), 0);
	ck_assert(all_zero(sb.reserved, sizeof(sb.reserved)));
	crc = le32_to_cpu(sb.crc);
	sb.crc = 0;
	ck_assert_uint_eq(hablk_md_crc32(&sb, sizeof(sb)), crc);
	/* the rest of the 4 KiB slot is zero */
	ck_assert(all_zero(slot + sizeof(sb), sizeof(slot) - sizeof(sb)));
}

START_TEST(create_fresh)
{
	const unsigned long long size = 64 * MiB;
	static const char data[] = "user data, not to be touched";
	unsigned char *junk = malloc(MiB), *md = malloc(MiB), got[sizeof(data)];
	struct hablk_md_layout l;

	ck_assert_ptr_nonnull(junk);
	ck_assert_ptr_nonnull(md);
	ck_assert_int_eq(hablk_md_layout(size, HABLK_MD_BM_BLOCK, &l), 0);
	make_disk(size);
	/* stale bytes in the bitmap and intent map; user data below them */
	memset(junk, 0xa5, MiB);
	put(l.md_offset, junk, l.sb_offset - l.md_offset);
	put(MiB, data, sizeof(data));
	put(l.md_offset - sizeof(data), data, sizeof(data));

	ck_assert_int_eq(create(1, false), 0);
	assert_sb(size, 1);
	ck_assert_uint_eq(file_size(), size);
	/* bitmap and intent map start empty */
	get(l.bm_offset, md, l.sb_offset - l.bm_offset);
	ck_assert(all_zero(md, l.sb_offset - l.bm_offset));
	/* the data area is the user's */
	get(MiB, got, sizeof(got));
	ck_assert_mem_eq(got, data, sizeof(data));
	get(l.md_offset - sizeof(data), got, sizeof(got));
	ck_assert_mem_eq(got, data, sizeof(data));
	free(junk);
	free(md);
}
END_TEST

/* External metadata: [superblock | intent map | bitmap] from offset 0 of its own device. */
START_TEST(create_external)
{
	const unsigned long long size = 64 * MiB;
	char meta[sizeof(path) + 8];
	struct hablk_md_layout l;
	struct hablk_md_sb sb;
	unsigned char *md = malloc(MiB);
	int fd;

	ck_assert_ptr_nonnull(md);
	make_disk(size);
	snprintf(meta, sizeof(meta), "%s.meta", path);
	fd = open(meta, O_RDWR | O_CREAT | O_TRUNC, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(ftruncate(fd, 4096), 0);	/* too small first */
	ck_assert_int_eq(hablk_md_create(path, meta, 3, HABLK_MD_BM_BLOCK, false, err, sizeof(err)), 1);
	ck_assert_msg(strstr(err, "too small for the metadata"), "%s", err);
	memset(md, 0xa5, MiB);
	ck_assert_int_eq(pwrite(fd, md, MiB, 0), (ssize_t)MiB);	/* 1 MiB of junk */
	ck_assert_int_eq(hablk_md_create(path, meta, 3, HABLK_MD_BM_BLOCK, false, err, sizeof(err)), 0);
	ck_assert_int_eq(hablk_md_layout_external(size, MiB, HABLK_MD_BM_BLOCK, &l), 0);
	ck_assert_uint_eq(l.data_sectors, size / 512);	/* all of the data disk is data */
	ck_assert_int_eq(pread(fd, &sb, sizeof(sb), 0), (ssize_t)sizeof(sb));
	ck_assert_uint_eq(le64_to_cpu(sb.magic), HABLK_MD_MAGIC);
	ck_assert_uint_eq(le32_to_cpu(sb.flags), HABLK_MDF_EXTERNAL);
	ck_assert_uint_eq(le32_to_cpu(sb.node_id), 3);
	ck_assert_uint_eq(le64_to_cpu(sb.data_sectors), l.data_sectors);
	ck_assert_uint_eq(le64_to_cpu(sb.bm_offset), l.bm_offset);
	ck_assert_uint_eq(le64_to_cpu(sb.intent_offset), l.intent_offset);
	ck_assert_uint_eq(le64_to_cpu(sb.disk_bytes), size);
	/* intent map and bitmap start empty */
	ck_assert_int_eq(pread(fd, md, l.bm_offset + 4096 - l.intent_offset, (off_t)l.intent_offset),
			 (ssize_t)(l.bm_offset + 4096 - l.intent_offset));
	ck_assert(all_zero(md, l.bm_offset + 4096 - l.intent_offset));
	/* a second run refuses, --force overwrites */
	ck_assert_int_eq(hablk_md_create(path, meta, 3, HABLK_MD_BM_BLOCK, false, err, sizeof(err)), 1);
	ck_assert_msg(strstr(err, "holds hablk metadata"), "%s", err);
	ck_assert_int_eq(hablk_md_create(path, meta, 3, HABLK_MD_BM_BLOCK, true, err, sizeof(err)), 0);
	close(fd);
	unlink(meta);
	free(md);
}
END_TEST

START_TEST(create_smallest_and_odd_sizes)
{
	make_disk(MIN_DISK);
	ck_assert_int_eq(create(0, false), 0);
	assert_sb(MIN_DISK, 0);

	/* not a multiple of 4 KiB: the tail is ignored, and found again */
	make_disk(8 * MiB + 1000);
	ck_assert_int_eq(create(7, false), 0);
	assert_sb(8 * MiB + 1000, 7);
	ck_assert_int_eq(create(7, false), 1);
	ck_assert_ptr_nonnull(strstr(err, "hablk metadata"));
}
END_TEST

START_TEST(create_twice)
{
	const unsigned long long size = 8 * MiB;
	unsigned char *before;

	make_disk(size);
	ck_assert_int_eq(create(0, false), 0);
	ck_assert_str_eq(err, "");

	before = snapshot();
	ck_assert_int_eq(create(1, false), 1);
	ck_assert_msg(strstr(err, "hablk metadata") && strstr(err, path) && strstr(err, "--force"),
		      "message: %s", err);
	assert_unchanged(before, size);
	assert_sb(size, 0);

	ck_assert_int_eq(create(1, true), 0);
	assert_sb(size, 1);
}
END_TEST

START_TEST(create_over_ext4)
{
	const unsigned long long size = 8 * MiB;
	unsigned char *before;

	make_disk(size);
	put(1080, "\x53\xef", 2);
	before = snapshot();
	ck_assert_int_eq(create(0, false), 1);
	ck_assert_msg(strstr(err, "ext2/3/4 filesystem") && strstr(err, path),
		      "message: %s", err);
	assert_unchanged(before, size);

	ck_assert_int_eq(create(0, true), 0);
	assert_sb(size, 0);
}
END_TEST

/* Every known signature makes create-md refuse, and names it. */
START_TEST(create_over_signature)
{
	const unsigned long long size = 4 * MiB;
	unsigned char *before;

	make_disk(size);
	put(sigs[_i].off, sigs[_i].magic, sigs[_i].len);
	before = snapshot();
	ck_assert_int_eq(create(0, false), 1);
	ck_assert_msg(strstr(err, sigs[_i].name) != NULL, "message: %s", err);
	assert_unchanged(before, size);
	ck_assert_int_eq(create(0, true), 0);
	assert_sb(size, 0);
}
END_TEST

START_TEST(create_too_small)
{
	static const unsigned long long small[] = { 0, 4096, 2 * MiB, MIN_DISK - 4096, MIN_DISK - 1 };
	unsigned char *before;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(small); i++) {
		make_disk(small[i]);
		before = snapshot();
		ck_assert_int_eq(create(0, false), 1);
		ck_assert_msg(strstr(err, "too small") && strstr(err, path), "message: %s", err);
		/* force does not make room */
		ck_assert_int_eq(create(0, true), 1);
		assert_unchanged(before, small[i]);
	}
}
END_TEST

/* create-md with a 64 KiB granularity records it, and a bad one changes nothing. */
START_TEST(create_granularity)
{
	const unsigned long long size = 64 * MiB;
	unsigned char slot[4096];
	struct hablk_md_layout l;
	struct hablk_md_sb sb;

	make_disk(size);
	err[0] = '\0';
	ck_assert_int_eq(hablk_md_create(path, NULL, 2, 12288, false, err, sizeof(err)), 1);
	ck_assert_ptr_nonnull(strstr(err, "bitmap granularity 12288"));
	ck_assert_int_eq(hablk_md_layout(size, 4096, &l), 0);
	get(l.sb_offset, slot, sizeof(slot));
	ck_assert(all_zero(slot, sizeof(slot)));	/* nothing written */

	ck_assert_int_eq(hablk_md_create(path, NULL, 2, 65536, false, err, sizeof(err)), 0);
	ck_assert_int_eq(hablk_md_layout(size, 65536, &l), 0);
	get(l.sb_offset, slot, sizeof(slot));
	memcpy(&sb, slot, sizeof(sb));
	ck_assert_uint_eq(le32_to_cpu(sb.bm_block), 65536);
	ck_assert_uint_eq(le64_to_cpu(sb.bm_offset), l.bm_offset);
	ck_assert_uint_eq(le64_to_cpu(sb.data_sectors), l.data_sectors);
	ck_assert_uint_eq(l.intent_offset - l.bm_offset, 4096);
}
END_TEST

START_TEST(create_missing)
{
	char want[256];

	ck_assert_int_eq(create(0, false), -1);
	snprintf(want, sizeof(want), "%s: No such file or directory", path);
	ck_assert_str_eq(err, want);
	ck_assert_int_eq(create(0, true), -1);
	ck_assert_int_eq(access(path, F_OK), -1);	/* not created */
}
END_TEST

START_TEST(create_not_a_disk)
{
	char small[16];

	/* a directory cannot be opened for writing */
	err[0] = '\0';
	ck_assert_int_eq(hablk_md_create(tmpdir, NULL, 0, HABLK_MD_BM_BLOCK, true, err,
					 sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, tmpdir));
	/* a character device is neither a file nor a block device */
	err[0] = '\0';
	ck_assert_int_eq(hablk_md_create("/dev/null", NULL, 0, HABLK_MD_BM_BLOCK, true, err,
					 sizeof(err)), -1);
	ck_assert_str_eq(err, "/dev/null: Block device required");
	/* a short error buffer is cut, not overrun */
	memset(small, 'x', sizeof(small));
	ck_assert_int_eq(hablk_md_create(path, NULL, 0, HABLK_MD_BM_BLOCK, false, small, 8), -1);
	ck_assert_uint_eq(strlen(small), 7);
	ck_assert_int_eq(small[8], 'x');
}
END_TEST

Suite *md_suite(void)
{
	Suite *s = suite_create("md");
	TCase *tc;

	tc = tcase_create("layout");
	tcase_set_timeout(tc, 60);	/* the sweeps are slow under valgrind */
	tcase_add_test(tc, layout_examples);
	tcase_add_test(tc, granularity_ok);
	tcase_add_test(tc, granularity_layout);
	tcase_add_test(tc, layout_too_small);
	tcase_add_test(tc, layout_sizes);
	tcase_add_test(tc, layout_sweep_small);
	tcase_add_test(tc, layout_sweep_md_growth);
	tcase_add_test(tc, layout_random);
	suite_add_tcase(s, tc);

	tc = tcase_create("format");
	tcase_add_test(tc, sb_struct);
	tcase_add_test(tc, crc32_vectors);
	tcase_add_loop_test(tc, signature_each, 0, ARRAY_SIZE(sigs));
	tcase_add_test(tc, signature_none);
	suite_add_tcase(s, tc);

	tc = tcase_create("create");
	tcase_set_timeout(tc, 60);
	tcase_add_unchecked_fixture(tc, dir_setup, dir_teardown);
	tcase_add_checked_fixture(tc, md_setup, md_teardown);
	tcase_add_test(tc, create_fresh);
	tcase_add_test(tc, create_external);
	tcase_add_test(tc, create_smallest_and_odd_sizes);
	tcase_add_test(tc, create_twice);
	tcase_add_test(tc, create_over_ext4);
	tcase_add_loop_test(tc, create_over_signature, 0, ARRAY_SIZE(sigs));
	tcase_add_test(tc, create_too_small);
	tcase_add_test(tc, create_missing);
	tcase_add_test(tc, create_granularity);
	tcase_add_test(tc, create_not_a_disk);
	suite_add_tcase(s, tc);
	return s;
}
