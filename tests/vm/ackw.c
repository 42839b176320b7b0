// SPDX-License-Identifier: GPL-2.0
/* ackw.c - acknowledged-write logger for crash tests.
 *   ackw write DEV FIRST_BLOCK NBLOCKS COUNT LOG   write COUNT random 4 KiB blocks (O_DIRECT),
 *       each stamped with its block number and a sequence number; after each write returns,
 *       append "block seq" to LOG (on the host's shared folder, so it survives a crash)
 *   ackw check DEV LOG    every logged block holds its stamp or a newer one; exit 1 if not */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BLK 4096
#define MAGIC 0x61636b77626c6b31ULL	/* "ackwblk1" */

struct stamp {
	uint64_t magic, block, seq;
};

static int do_write(const char *dev, long first, long n, long count, const char *logpath)
{
	struct stamp *s;
	void *buf;
	FILE *log;
	long i, b;
	int fd;

	fd = open(dev, O_WRONLY | O_DIRECT);
	log = fopen(logpath, "a");
	if (fd < 0 || !log || posix_memalign(&buf, BLK, BLK)) {
		perror("ackw write");
		return 2;
	}
	setvbuf(log, NULL, _IONBF, 0);
	srandom((unsigned int)getpid());
	for (i = 1; i <= count; i++) {
		b = first + random() % n;
		for (s = buf; (char *)s < (char *)buf + BLK; s++)
			*s = (struct stamp){ MAGIC, (uint64_t)b, (uint64_t)i };
		if (pwrite(fd, buf, BLK, (off_t)b * BLK) != BLK) {
			perror("ackw pwrite");
			return 1;
		}
		fprintf(log, "%ld %ld\n", b, i);	/* acknowledged: now it must survive */
	}
	return 0;
}

static int do_check(const char *dev, const char *logpath)
{
	long b, seq, n = 0, bad = 0;
	struct stamp s;
	char line[64];
	FILE *log;
	int fd;

	fd = open(dev, O_RDONLY | O_DIRECT);
	log = fopen(logpath, "r");
	if (fd < 0 || !log) {
		perror("ackw check");
		return 2;
	}
	while (fgets(line, sizeof(line), log)) {
		static char buf[BLK] __attribute__((aligned(BLK)));

		if (sscanf(line, "%ld %ld", &b, &seq) != 2)
			continue;	/* a line cut by the crash was never acknowledged */
		if (pread(fd, buf, BLK, (off_t)b * BLK) != BLK) {
			perror("ackw pread");
			return 2;
		}
		memcpy(&s, buf, sizeof(s));
		n++;
		if (s.magic != MAGIC || s.block != (uint64_t)b || s.seq < (uint64_t)seq) {
			if (bad++ < 10)
				printf("block %ld: acknowledged seq %ld, found magic %llx block %llu seq %llu\n",
				       b, seq, (unsigned long long)s.magic, (unsigned long long)s.block,
				       (unsigned long long)s.seq);
		}
	}
	printf("%ld acknowledged writes checked, %ld lost\n", n, bad);
	return bad ? 1 : 0;
}

int main(int argc, char **argv)
{
	if (argc == 7 && !strcmp(argv[1], "write"))
		return do_write(argv[2], atol(argv[3]), atol(argv[4]), atol(argv[5]), argv[6]);
	if (argc == 4 && !strcmp(argv[1], "check"))
		return do_check(argv[2], argv[3]);
	fprintf(stderr, "usage: ackw write DEV FIRST NBLOCKS COUNT LOG | ackw check DEV LOG\n");
	return 2;
}
