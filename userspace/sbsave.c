// SPDX-License-Identifier: GPL-2.0
/* sbsave.c - the blocks a split-brain's losing node changed (its out-of-sync bitmap),
 * saved as an image plus an index before its resync, so they can still be recovered. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <endian.h>
#include <sys/stat.h>
#include "hablkadm.h"

/* The image and its index are in 4 KiB blocks, whatever the bitmap's granularity. */
#define BLK 4096

struct save {
	int dev, img;
	FILE *idx;
	void *buf;
	uint64_t dev_bytes;
	uint64_t n;		/* 4 KiB blocks saved */
};

/* Append the 4 KiB blocks of [off, off + len) to the image, a line each in the index. */
static int save_range(struct save *s, uint64_t off, uint64_t len)
{
	uint64_t end = off + len < s->dev_bytes ? off + len : s->dev_bytes;

	for (; off < end; off += BLK) {
		if (pread(s->dev, s->buf, BLK, (off_t)off) != BLK ||
		    write(s->img, s->buf, BLK) != BLK)
			return errno ? -errno : -EIO;
		/* block number on the device, byte offset in the image */
		fprintf(s->idx, "%llu %llu\n", (unsigned long long)(off / BLK),
			(unsigned long long)(s->n * BLK));
		s->n++;
	}
	return 0;
}

static int save_words(uint64_t first, const uint64_t *words, size_t n, unsigned int bm_block,
		      void *arg)
{
	struct save *s = arg;
	uint64_t w, b;
	size_t i;
	int ret;

	for (i = 0; i < n; i++) {
		for (w = le64toh(words[i]); w; w &= w - 1) {
			b = first + i * 64 + (uint64_t)__builtin_ctzll(w);
			ret = save_range(s, b * bm_block, bm_block);
			if (ret)
				return ret;
		}
	}
	return 0;
}

int save_divergent(struct hablk_nl *nl, const char *res, unsigned int minor, const char *dir)
{
	char dev[64], img[4096], idx[4096], stamp[32];
	struct save s = { .dev = -1, .img = -1 };
	time_t now = time(NULL);
	int ret = EXIT_REFUSED, err, tries, fd;
	long hdr_len = 0;

	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", gmtime(&now));
	snprintf(dev, sizeof(dev), "/dev/hablk%u", minor);
	snprintf(img, sizeof(img), "%s/%s-%s.img", dir, res, stamp);
	snprintf(idx, sizeof(idx), "%s/%s-%s.idx", dir, res, stamp);
	if (mkdir(dir, 0700) && errno != EEXIST) {
		errorf("%s: cannot create %s: %s", res, dir, strerror(errno));
		return EXIT_REFUSED;
	}
	s.dev = open(dev, O_RDONLY | O_DIRECT | O_CLOEXEC);
	s.img = open(img, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	fd = open(idx, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	s.idx = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (fd >= 0 && !s.idx)
		close(fd);
	if (s.dev >= 0) {
		off_t end = lseek(s.dev, 0, SEEK_END);

		s.dev_bytes = end > 0 ? (uint64_t)end & ~(uint64_t)(BLK - 1) : 0;
	}
	if (s.dev < 0 || s.img < 0 || !s.idx || !s.dev_bytes || posix_memalign(&s.buf, BLK, BLK)) {
		errorf("%s: cannot save the divergent blocks to %s: %s", res, dir, strerror(errno));
		goto out;
	}
	fprintf(s.idx, "# hablk split-brain save of %s from %s: <block (4 KiB) on the device> "
		"<byte offset in %s>\n", res, dev, strrchr(img, '/') + 1);
	fflush(s.idx);
	hdr_len = ftell(s.idx);
	/* the kernel answers EBUSY while it is busy with another command: start again */
	for (tries = 0; (err = hablk_nl_bitmap(nl, res, save_words, &s)) == -EBUSY && tries < 50;
	     tries++) {
		usleep(100000);
		s.n = 0;
		if (ftruncate(s.img, 0) || lseek(s.img, 0, SEEK_SET) ||
		    fseek(s.idx, hdr_len, SEEK_SET) || ftruncate(fileno(s.idx), hdr_len))
			break;
	}
	if (err) {
		errorf("%s: saving the divergent blocks failed: %s", res, nl->errmsg[0] ? nl->errmsg :
		       strerror(-err));
		goto out;
	}
	if (fflush(s.idx) || fsync(fileno(s.idx)) || fsync(s.img)) {
		errorf("%s: cannot write %s: %s", res, dir, strerror(errno));
		goto out;
	}
	printf("%s: saved %llu changed blocks (%llu KiB) to %s\n", res,
	       (unsigned long long)s.n, (unsigned long long)s.n * 4, img);
	ret = EXIT_DONE;
out:
	free(s.buf);
	if (s.idx)
		fclose(s.idx);
	if (s.img >= 0)
		close(s.img);
	if (s.dev >= 0)
		close(s.dev);
	return ret;
}
