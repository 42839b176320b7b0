// SPDX-License-Identifier: GPL-2.0
/* md.c - create-md: writes the superblock laid out in kernel/md_format.h
 * and zeroes the intent map and bitmap, after checking the disk is unused. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <linux/fs.h>
#include "../kernel/md_format.h"
#include "md.h"

#define PROBE_BYTES (68 * 1024)

static const struct {
	const char *name;
	size_t off;
	const char *magic;
	size_t len;
} signatures[] = {
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

const char *hablk_md_signature(const unsigned char *buf, size_t len)
{
	size_t i;

	for (i = 0; i < sizeof(signatures) / sizeof(signatures[0]); i++)
		if (signatures[i].off + signatures[i].len <= len &&
		    !memcmp(buf + signatures[i].off, signatures[i].magic, signatures[i].len))
			return signatures[i].name;
	return NULL;
}

static int disk_size(int fd, unsigned long long *size)
{
	struct stat st;

	if (fstat(fd, &st))
		return -1;
	if (S_ISREG(st.st_mode)) {
		*size = (unsigned long long)st.st_size;
		return 0;
	}
	if (!S_ISBLK(st.st_mode)) {
		errno = ENOTBLK;
		return -1;
	}
	return ioctl(fd, BLKGETSIZE64, size);
}

static int write_all(int fd, const void *buf, size_t len, unsigned long long off)
{
	const char *p = buf;
	ssize_t n;

	while (len) {
		n = pwrite(fd, p, len, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		off += (unsigned long long)n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * Fill and write the superblock at sb_off after zeroing [zero_from, zero_to)
 * (the intent map and the bitmap start empty).
 */
static int write_md(int fd, const struct hablk_md_layout *l, unsigned long long disk_bytes,
		    unsigned int node_id, __u32 flags, unsigned int bm_block,
		    unsigned long long zero_from, unsigned long long zero_to, unsigned char *buf)
{
	struct hablk_md_sb sb;
	unsigned long long off;

	memset(buf, 0, 4096);
	for (off = zero_from; off < zero_to; off += 4096)
		if (write_all(fd, buf, 4096, off))
			return -1;
	memset(&sb, 0, sizeof(sb));
	sb.magic = cpu_to_le64(HABLK_MD_MAGIC);
	sb.version = cpu_to_le32(HABLK_MD_VERSION);
	sb.flags = cpu_to_le32(flags);
	sb.node_id = cpu_to_le32(node_id);
	sb.bm_block = cpu_to_le32(bm_block);
	sb.disk_bytes = cpu_to_le64(disk_bytes);
	sb.data_sectors = cpu_to_le64(l->data_sectors);
	sb.md_offset = cpu_to_le64(l->md_offset);
	sb.bm_offset = cpu_to_le64(l->bm_offset);
	sb.intent_offset = cpu_to_le64(l->intent_offset);
	sb.seq = cpu_to_le64(1);
	sb.crc = cpu_to_le32(hablk_md_crc32(&sb, sizeof(sb)));
	memcpy(buf, &sb, sizeof(sb));
	if (write_all(fd, buf, 4096, l->sb_offset) || fsync(fd))
		return -1;
	return 0;
}

/* Refuse (1) a device with hablk metadata or a known signature, unless force. */
static int check_unused(int fd, const char *path, unsigned long long size, bool force,
			unsigned long long sb_at, unsigned char *buf, char *err, size_t errlen)
{
	struct hablk_md_sb sb;
	const char *sig;
	ssize_t got;

	if (force)
		return 0;
	if (pread(fd, &sb, sizeof(sb), (off_t)sb_at) == (ssize_t)sizeof(sb) &&
	    le64_to_cpu(sb.magic) == HABLK_MD_MAGIC) {
		snprintf(err, errlen, "%s: holds hablk metadata already (use --force to overwrite)", path);
		return 1;
	}
	got = pread(fd, buf, PROBE_BYTES, 0);
	sig = got > 0 ? hablk_md_signature(buf, (size_t)got) : NULL;
	if (sig) {
		snprintf(err, errlen, "%s: holds a %s (use --force to overwrite)", path, sig);
		return 1;
	}
	(void)size;
	return 0;
}

static int open_dev(const char *path, int flags, unsigned long long *size, char *err,
		    size_t errlen, int *fd)
{
	int e;

	*fd = open(path, flags | O_EXCL | O_CLOEXEC);
	if (*fd < 0) {
		e = errno;
		snprintf(err, errlen, "%s: %s", path,
			 e == EBUSY ? "device is in use (mounted, or hablk is up on it)" : strerror(e));
		return e == EBUSY ? 1 : -1;
	}
	if (disk_size(*fd, size)) {
		e = errno;
		snprintf(err, errlen, "%s: %s", path, strerror(e));
		close(*fd);
		*fd = -1;
		return -1;
	}
	*size &= ~4095ULL;	/* the kernel works from the 4 KiB-rounded size too */
	return 0;
}

int hablk_md_create(const char *disk, const char *meta, unsigned int node_id,
		    unsigned int bm_block, bool force, char *err, size_t errlen)
{
	unsigned long long size, meta_size = 0;
	unsigned char *buf = NULL;
	struct hablk_md_layout l;
	int fd = -1, mfd = -1, ret;

	ret = open_dev(disk, meta ? O_RDONLY : O_RDWR, &size, err, errlen, &fd);
	if (ret)
		return ret;
	if (meta) {
		ret = open_dev(meta, O_RDWR, &meta_size, err, errlen, &mfd);
		if (ret)
			goto out;
	}
	if (!hablk_md_bm_block_ok(bm_block)) {
		snprintf(err, errlen, "bitmap granularity %u: not a power of two from 4 KiB to %llu KiB",
			 bm_block, HABLK_MD_BM_BLOCK_MAX >> 10);
		ret = 1;
		goto out;
	}
	ret = meta ? hablk_md_layout_external(size, meta_size, bm_block, &l) :
		     hablk_md_layout(size, bm_block, &l);
	if (ret) {
		if (ret == -2)
			snprintf(err, errlen, "%s: too small for the metadata of %s (%llu bytes)",
				 meta, disk, meta_size);
		else
			snprintf(err, errlen, "%s: disk is too small for hablk (%llu bytes)", disk, size);
		ret = 1;
		goto out;
	}
	buf = calloc(1, PROBE_BYTES);
	if (!buf) {
		snprintf(err, errlen, "out of memory");
		ret = -1;
		goto out;
	}
	ret = meta ? check_unused(mfd, meta, meta_size, force, 0, buf, err, errlen) :
		     check_unused(fd, disk, size, force, size - HABLK_MD_SB_BYTES, buf, err, errlen);
	if (ret)
		goto out;
	if (meta)
		ret = write_md(mfd, &l, size, node_id, HABLK_MDF_EXTERNAL, bm_block, l.intent_offset,
			       l.bm_offset + hablk_md_bm_bytes(size, bm_block), buf);
	else
		ret = write_md(fd, &l, size, node_id, 0, bm_block, l.bm_offset, l.sb_offset, buf);
	if (ret)
		snprintf(err, errlen, "%s: write failed: %s", meta ? meta : disk, strerror(errno));
out:
	free(buf);
	if (mfd >= 0)
		close(mfd);
	close(fd);
	return ret;
}
