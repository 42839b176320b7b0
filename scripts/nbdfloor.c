// SPDX-License-Identifier: GPL-2.0
// nbdfloor: the least a network block device does, for scripts/bench: the kernel's nbd client
// on one guest, a single-threaded server writing to a disk on the other. One TCP connection
// (TCP_NODELAY), one request and one reply per I/O, no replication: its fio figures are what
// the block layer, TCP and the link cost together, a reference for any replicated write.
//   nbdfloor serve PORT DEV           serve one connection from DEV (O_DIRECT) until it closes
//   nbdfloor attach HOST PORT NBD MIB  connect NBD (/dev/nbd0) to HOST:PORT, MIB in size, and
//                                     return once the device is live (a child keeps it so)
//   nbdfloor detach NBD               disconnect NBD (the server then exits)
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/nbd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tcp1.h"

#define CHUNK (1 << 20)	/* the server moves a request's data in pieces of at most this */

/* The request's data, in CHUNK pieces, between the socket and the disk. */
static int serve_data(int fd, int disk, char *buf, uint32_t type, uint64_t from, uint32_t len)
{
	while (len) {
		size_t n = len < CHUNK ? len : CHUNK;

		if (type == NBD_CMD_WRITE) {
			xfer_all(fd, buf, n, 0);
			if (pwrite(disk, buf, n, from) != (ssize_t)n)
				return EIO;
		} else {
			if (pread(disk, buf, n, from) != (ssize_t)n)
				return EIO;
			xfer_all(fd, buf, n, 1);
		}
		from += n;
		len -= n;
	}
	return 0;
}

static int serve(int port, const char *dev)
{
	struct nbd_request rq;
	struct nbd_reply rp = { .magic = htonl(NBD_REPLY_MAGIC) };
	int fd, disk;
	char *buf;

	disk = open(dev, O_RDWR | O_DIRECT);
	if (disk < 0)
		die(dev);
	if (posix_memalign((void **)&buf, 4096, CHUNK))
		die("posix_memalign");
	fd = accept_nodelay(listen_on(port));
	while (xfer(fd, &rq, sizeof(rq), 0)) {
		uint32_t type = ntohl(rq.type) & 0xffff, len = ntohl(rq.len);
		uint64_t from = be64toh(rq.from);

		if (ntohl(rq.magic) != NBD_REQUEST_MAGIC) {
			fprintf(stderr, "nbdfloor: bad request magic\n");
			return 1;
		}
		if (type == NBD_CMD_DISC)
			break;
		rp.error = 0;
		if (type == NBD_CMD_WRITE) {
			rp.error = htonl(serve_data(fd, disk, buf, type, from, len));
		} else if (type == NBD_CMD_READ) {
			/* A read's reply goes before its data. */
			memcpy(rp.handle, rq.handle, sizeof(rp.handle));
			xfer_all(fd, &rp, sizeof(rp), 1);
			if (serve_data(fd, disk, buf, type, from, len)) {
				fprintf(stderr, "nbdfloor: read failed\n");
				return 1;
			}
			continue;
		} else if (type != NBD_CMD_FLUSH && type != NBD_CMD_TRIM) {
			rp.error = htonl(EINVAL);
		}
		memcpy(rp.handle, rq.handle, sizeof(rp.handle));
		xfer_all(fd, &rp, sizeof(rp), 1);
	}
	return 0;
}

static int attach(const char *host, int port, const char *nbd, long mib)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
	char sysfs[64];
	int fd, dev, i;
	pid_t child;

	if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
		fprintf(stderr, "nbdfloor: bad address %s\n", host);
		return 2;
	}
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)))
		die("connect");
	nodelay(fd);
	dev = open(nbd, O_RDWR);
	if (dev < 0)
		die(nbd);
	if (ioctl(dev, NBD_SET_BLKSIZE, 4096UL) ||
	    ioctl(dev, NBD_SET_SIZE_BLOCKS, (unsigned long)mib * 256) ||
	    ioctl(dev, NBD_SET_SOCK, (unsigned long)fd))
		die("nbd ioctl");
	child = fork();
	if (child < 0)
		die("fork");
	if (child == 0) {
		int null = open("/dev/null", O_RDWR);

		/* Hold no one's pipe open: the caller's stdout must end when the parent exits. */
		if (null >= 0) {
			dup2(null, 0);
			dup2(null, 1);
			dup2(null, 2);
		}
		setsid();
		if (ioctl(dev, NBD_DO_IT))
			_exit(errno == EPIPE || errno == ECONNRESET ? 0 : 1);
		_exit(0);
	}
	/* NBD_DO_IT sets the size as it starts: wait for it, or for the child to fail. */
	snprintf(sysfs, sizeof(sysfs), "/sys/block/%s/size", strrchr(nbd, '/') + 1);
	for (i = 0; i < 1000; i++) {
		struct timespec ms = { 0, 10 * 1000 * 1000 };
		long sectors = 0;
		FILE *f = fopen(sysfs, "r");

		if (f) {
			if (fscanf(f, "%ld", &sectors) != 1)
				sectors = 0;
			fclose(f);
		}
		if (sectors > 0)
			return 0;
		if (waitpid(child, NULL, WNOHANG) == child) {
			fprintf(stderr, "nbdfloor: %s did not start\n", nbd);
			return 1;
		}
		nanosleep(&ms, NULL);
	}
	fprintf(stderr, "nbdfloor: %s did not come up in 10 s\n", nbd);
	return 1;
}

static int detach(const char *nbd)
{
	int dev = open(nbd, O_RDWR);

	if (dev < 0)
		die(nbd);
	if (ioctl(dev, NBD_DISCONNECT))
		die("NBD_DISCONNECT");
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 4 && !strcmp(argv[1], "serve"))
		return serve(atoi(argv[2]), argv[3]);
	if (argc == 6 && !strcmp(argv[1], "attach") && strrchr(argv[4], '/'))
		return attach(argv[2], atoi(argv[3]), argv[4], atol(argv[5]));
	if (argc == 3 && !strcmp(argv[1], "detach"))
		return detach(argv[2]);
	fprintf(stderr, "usage: nbdfloor serve PORT DEV | attach HOST PORT /dev/nbdN MIB | detach /dev/nbdN\n");
	return 2;
}
