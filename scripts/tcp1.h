/* SPDX-License-Identifier: GPL-2.0 */
// tcp1.h: the socket helpers scripts/rr.c and scripts/nbdfloor.c share (each is one static
// binary built from one file plus this header).
#ifndef TCP1_H
#define TCP1_H

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

static void die(const char *what)
{
	perror(what);
	exit(1);
}

static void nodelay(int fd)
{
	int one = 1;

	if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)))
		die("TCP_NODELAY");
}

/*
 * Move exactly @len bytes: 1 when done, 0 if a read meets the end of the stream before the
 * first byte (the peer closed between messages). Exits if it closes partway.
 */
static int xfer(int fd, void *buf, size_t len, int writing)
{
	char *p = buf;
	size_t done = 0;

	while (done < len) {
		ssize_t n = writing ? write(fd, p + done, len - done) : read(fd, p + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			die(writing ? "write" : "read");
		if (n == 0) {
			if (done == 0 && !writing)
				return 0;
			fprintf(stderr, "connection closed mid-message\n");
			exit(1);
		}
		done += n;
	}
	return 1;
}

/* The same, where the end of the stream is an error wherever it comes. */
static void xfer_all(int fd, void *buf, size_t len, int writing)
{
	if (!xfer(fd, buf, len, writing)) {
		fprintf(stderr, "connection closed\n");
		exit(1);
	}
}

/* A socket listening on TCP @port, any address (SO_REUSEADDR: the bench reuses ports). */
static int listen_on(int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
	int one = 1, ls = socket(AF_INET, SOCK_STREAM, 0);

	if (ls < 0)
		die("socket");
	setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(ls, (struct sockaddr *)&sa, sizeof(sa)) || listen(ls, 1))
		die("bind/listen");
	return ls;
}

/* The next connection on @ls, with TCP_NODELAY. */
static int accept_nodelay(int ls)
{
	int fd = accept(ls, NULL, NULL);

	if (fd < 0)
		die("accept");
	nodelay(fd);
	return fd;
}

#endif
