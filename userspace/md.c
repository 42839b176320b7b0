/* md.c - create-md: writes the superblock laid out in kernel/meta_format.h
 * and zeroes the activity log and bitmap, after checking the disk is unused. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <linux/fs.h>
#include "../kernel/meta_format.h"
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

static bool has_hablk_md(int fd, unsigned long long size)
{
	struct hablk_md_sb sb;

	if (size < HABLK_MD_SB_BYTES)
		return false;
	if (pread(fd, &sb, sizeof(sb), (off_t)((size & ~4095ULL) - HABLK_MD_SB_BYTES)) !=
	    (ssize_t)sizeof(sb))
		return false;
	return le64_to_cpu(sb.magic) == HABLK_MD_MAGIC;
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

int hablk_md_create(const char *disk, unsigned int node_id, bool force, char *err,
		    size_t errlen)
{
	unsigned char *buf = NULL;
	struct hablk_md_layout l;
	struct hablk_md_sb sb;
	unsigned long long size, off;
	const char *sig;
	int fd, ret = -1;
	ssize_t got;

	fd = open(disk, O_RDWR | O_EXCL | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;

		snprintf(err, errlen, "%s: %s", disk,
			 e == EBUSY ? "device is in use (mounted, or hablk is up on it)" : strerror(e));
		return e == EBUSY ? 1 : -1;
	}
	if (disk_size(fd, &size)) {
		snprintf(err, errlen, "%s: %s", disk, strerror(errno));
		goto out;
	}
	size &= ~4095ULL;	/* the kernel works from the 4 KiB-rounded size too */
	if (hablk_md_layout(size, &l)) {
		snprintf(err, errlen, "%s: disk is too small for hablk (%llu bytes)", disk, size);
		ret = 1;
		goto out;
	}
	buf = calloc(1, PROBE_BYTES);
	if (!buf) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	got = pread(fd, buf, PROBE_BYTES, 0);
	sig = got > 0 ? hablk_md_signature(buf, (size_t)got) : NULL;
	if (!force && has_hablk_md(fd, size)) {
		snprintf(err, errlen, "%s: holds hablk metadata already (use --force to overwrite)", disk);
		ret = 1;
		goto out;
	}
	if (!force && sig) {
		snprintf(err, errlen, "%s: holds a %s (use --force to overwrite)", disk, sig);
		ret = 1;
		goto out;
	}
	/* activity log and bitmap start empty */
	memset(buf, 0, PROBE_BYTES);
	for (off = l.bm_offset; off < l.sb_offset; off += 4096)
		if (write_all(fd, buf, 4096, off))
			goto io_err;
	memset(&sb, 0, sizeof(sb));
	sb.magic = cpu_to_le64(HABLK_MD_MAGIC);
	sb.version = cpu_to_le32(HABLK_MD_VERSION);
	sb.node_id = cpu_to_le32(node_id);
	sb.bm_block = cpu_to_le32(HABLK_MD_BM_BLOCK);
	sb.disk_bytes = cpu_to_le64(size & ~4095ULL);
	sb.data_sectors = cpu_to_le64(l.data_sectors);
	sb.md_offset = cpu_to_le64(l.md_offset);
	sb.bm_offset = cpu_to_le64(l.bm_offset);
	sb.al_offset = cpu_to_le64(l.al_offset);
	sb.seq = cpu_to_le64(1);
	sb.crc = cpu_to_le32(hablk_md_crc32(&sb, sizeof(sb)));
	memcpy(buf, &sb, sizeof(sb));
	if (write_all(fd, buf, 4096, l.sb_offset) || fsync(fd))
		goto io_err;
	ret = 0;
	goto out;
io_err:
	snprintf(err, errlen, "%s: write failed: %s", disk, strerror(errno));
	ret = -1;
out:
	free(buf);
	close(fd);
	return ret;
}
