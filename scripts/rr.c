// SPDX-License-Identifier: GPL-2.0
// rr: TCP request/response time (TCP_NODELAY), for scripts/bench.
//   rr server PORT [split]      serve one connection: read REQ bytes, reply RESP bytes, until EOF
//   rr client HOST PORT [N [D [split]]]
//                               N timed round trips (default 2000, after 100 untimed ones),
//                               D of them in flight at once (default 1: one after another);
//                               prints "n=N depth=D ops_s=X mean_us=X p50_us=X p99_us=X max_us=X"
// With "split" (both sides) requests go on one connection and replies on a second, as hablk's
// writes and acks do: neither side's TCP ACK can ride on the other direction's data.
// With D > 1 the client sends a new request whenever a response comes back, so D requests are
// always on their way: the rate a pipelined replication can reach over the link (QD D).
// Request 4096 bytes, response 64 bytes: the shape of a replicated 4 KiB write and its ack.
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "tcp1.h"

#define REQ 4096
#define RESP 64
#define WARMUP 100

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static int server(int port, int split)
{
	static char buf[REQ];
	int ls = listen_on(port), fd, out;

	fd = accept_nodelay(ls);
	out = split ? accept_nodelay(ls) : fd;	/* split: the client connects twice */
	for (;;) {
		size_t got = 0;

		while (got < REQ) {
			ssize_t n = read(fd, buf + got, REQ - got);

			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0)
				die("read");
			if (n == 0)
				return 0;	/* client done */
			got += n;
		}
		xfer_all(out, buf, RESP, 1);
	}
}

static int client(const char *host, int port, int n, int depth, int split)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
	static char buf[REQ];
	double *t, *sent, sum = 0, start = 0, elapsed;
	int fd, in, i, tries, total = WARMUP + n;

	if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
		fprintf(stderr, "rr: bad address %s\n", host);
		return 2;
	}
	t = calloc(n, sizeof(*t));
	sent = calloc(total, sizeof(*sent));
	if (!t || !sent)
		die("calloc");
	for (tries = 0;; tries++) {	/* the server may still be starting: retry for ~10 s */
		fd = socket(AF_INET, SOCK_STREAM, 0);
		if (fd < 0)
			die("socket");
		if (!connect(fd, (struct sockaddr *)&sa, sizeof(sa)))
			break;
		if (tries == 100)
			die("connect");
		close(fd);
		usleep(100000);
	}
	nodelay(fd);
	in = fd;
	if (split) {
		in = socket(AF_INET, SOCK_STREAM, 0);
		if (in < 0 || connect(in, (struct sockaddr *)&sa, sizeof(sa)))
			die("connect");
		nodelay(in);
	}
	memset(buf, 0xa5, sizeof(buf));
	/* Request k is sent when response k - depth has come back; responses come in order. */
	for (i = 0; i < depth && i < total; i++) {
		sent[i] = now_us();
		xfer_all(fd, buf, REQ, 1);
	}
	for (i = 0; i < total; i++) {
		xfer_all(in, buf, RESP, 0);
		if (i == WARMUP)
			start = sent[i];
		if (i >= WARMUP)
			t[i - WARMUP] = now_us() - sent[i];
		if (i + depth < total) {
			sent[i + depth] = now_us();
			xfer_all(fd, buf, REQ, 1);
		}
	}
	elapsed = now_us() - start;	/* n responses in this time */
	close(fd);
	if (split)
		close(in);
	printf("n=%d depth=%d ops_s=%.0f", n, depth, n / elapsed * 1e6);
	for (i = 0; i < n; i++)
		sum += t[i];
	qsort(t, n, sizeof(*t), cmp);
	printf(" mean_us=%.1f p50_us=%.1f p99_us=%.1f max_us=%.1f\n", sum / n,
	       t[n / 2], t[(int)(n * 0.99)], t[n - 1]);
	free(t);
	free(sent);
	return 0;
}

int main(int argc, char **argv)
{
	if ((argc == 3 || (argc == 4 && !strcmp(argv[3], "split"))) && !strcmp(argv[1], "server"))
		return server(atoi(argv[2]), argc == 4);
	if (argc >= 4 && argc <= 7 && !strcmp(argv[1], "client") &&
	    (argc < 7 || !strcmp(argv[6], "split"))) {
		int n = argc >= 5 ? atoi(argv[4]) : 2000;
		int depth = argc >= 6 ? atoi(argv[5]) : 1;

		if (n < 1 || depth < 1 || depth > 256) {
			fprintf(stderr, "rr: N must be >= 1 and D 1..256\n");
			return 2;
		}
		return client(argv[2], atoi(argv[3]), n, depth, argc == 7);
	}
	fprintf(stderr, "usage: rr server PORT [split] | rr client HOST PORT [N [D [split]]]\n");
	return 2;
}
