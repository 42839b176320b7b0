// SPDX-License-Identifier: GPL-2.0
/* vmctl: host client of the hablk VM guest agent (guest-init.sh).  Sends a shell script over the
 * VM's control serial port (a QEMU unix socket), prints its output, exits with its exit code.
 *
 *   vmctl SOCKET [--timeout SEC] [--shared DIR] [-- WORDS...]
 *                                                 run WORDS (joined by spaces) or stdin as a script
 *   vmctl SOCKET --ping [--timeout SEC]           wait until the agent answers (VM booted)
 *   ... --pid PID                                 give up at once when process PID (QEMU) exits
 *   ... --shared DIR                              host dir of the guest's /shared: big scripts and
 *                                                 outputs travel through DIR/.hablk-agent (fast 9p)
 *                                                 instead of the serial line (~300 KB/s under TCG)
 *   vmctl SOCKET --poweroff [--timeout SEC]       power the guest off (returns once it acknowledged)
 *   vmctl --udp-ports N                           print N currently free UDP ports on 127.0.0.1
 *
 * Exit code: the script's (0-255), or 255 with a message on stderr on timeout/connection failure.
 * Wire format: see guest-init.sh.  Output before our own BEGIN marker (stale replies) is skipped. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define FAIL 255

static void die(const char *fmt, ...)
{
	va_list ap;

	fputs("vmctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(FAIL);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n);
	if (!p)
		die("out of memory");
	return p;
}

static char *base64(const unsigned char *in, size_t n)
{
	static const char tab[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char *out = xrealloc(NULL, (n + 2) / 3 * 4 + 1), *o = out;
	size_t i;

	for (i = 0; i + 2 < n; i += 3) {
		*o++ = tab[in[i] >> 2];
		*o++ = tab[((in[i] & 3) << 4) | (in[i + 1] >> 4)];
		*o++ = tab[((in[i + 1] & 15) << 2) | (in[i + 2] >> 6)];
		*o++ = tab[in[i + 2] & 63];
	}
	if (i < n) {
		*o++ = tab[in[i] >> 2];
		if (i + 1 < n) {
			*o++ = tab[((in[i] & 3) << 4) | (in[i + 1] >> 4)];
			*o++ = tab[(in[i + 1] & 15) << 2];
		} else {
			*o++ = tab[(in[i] & 3) << 4];
			*o++ = '=';
		}
		*o++ = '=';
	}
	*o = 0;
	return out;
}

static int qemu_pid;

/* Is process pid alive (not gone, not a zombie)? */
static int alive(int pid)
{
	char path[64], buf[512], *p;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	p = strrchr(buf, ')');
	return p && p[1] == ' ' && p[2] != 'Z' && p[2] != 'X';
}

static void check_qemu(const char *sock)
{
	if (qemu_pid && !alive(qemu_pid))
		die("QEMU (pid %d) exited (%s)", qemu_pid, sock);
}

static int connect_to(const char *path, double deadline, int retry)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path))
		die("socket path too long: %s", path);
	strcpy(sa.sun_path, path);
	for (;;) {
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			die("socket: %s", strerror(errno));
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
			return fd;
		int err = errno;
		close(fd);
		if (!retry || now() >= deadline)
			die("cannot connect to %s: %s", path, strerror(err));
		check_qemu(path);
		usleep(100 * 1000);
	}
}

static void write_all(int fd, const char *p, size_t n, int fatal)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			if (fatal)
				die("write: %s", strerror(errno));
			return; /* stdout gone: keep draining the reply */
		}
		p += w;
		n -= w;
	}
}

static int udp_ports(int n)
{
	int *fds = xrealloc(NULL, sizeof(int) * n);

	for (int i = 0; i < n; i++) {
		struct sockaddr_in sa = { .sin_family = AF_INET,
					  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
		socklen_t len = sizeof(sa);

		fds[i] = socket(AF_INET, SOCK_DGRAM, 0);
		if (fds[i] < 0 || bind(fds[i], (struct sockaddr *)&sa, sizeof(sa)) ||
		    getsockname(fds[i], (struct sockaddr *)&sa, &len))
			die("udp port: %s", strerror(errno));
		printf("%d\n", ntohs(sa.sin_port));
	}
	return 0;
}

/* Copy the agent's big output file to stdout and remove it. */
static void copy_out_file(const char *path, long long len)
{
	char buf[65536];
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		die("cannot open %s: %s", path, strerror(errno));
	while (len > 0) {
		ssize_t r = read(fd, buf, len < (long long)sizeof(buf) ? (size_t)len : sizeof(buf));

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			die("short output file %s", path);
		write_all(1, buf, r, 0);
		len -= r;
	}
	close(fd);
	unlink(path);
}

static char *read_stdin(size_t *n)
{
	size_t cap = 4096;
	char *buf = xrealloc(NULL, cap);

	*n = 0;
	for (;;) {
		ssize_t r = read(0, buf + *n, cap - *n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			die("read stdin: %s", strerror(errno));
		if (r == 0)
			return buf;
		*n += r;
		if (*n == cap)
			buf = xrealloc(buf, cap *= 2);
	}
}

static void usage(void)
{
	fputs("usage: vmctl SOCKET [--timeout SEC] [--pid QEMU_PID] [--shared DIR] [--ping|--poweroff]\n"
	      "             [-- WORDS...]\n"
	      "       vmctl --udp-ports N\n",
	      stderr);
	exit(2);
}

int main(int argc, char **argv)
{
	const char *sock = NULL, *mode = NULL, *shared = NULL;
	double timeout = 300;
	char **words = NULL;
	int nwords = -1, i;

	signal(SIGPIPE, SIG_IGN);
	if (argc == 3 && !strcmp(argv[1], "--udp-ports"))
		return udp_ports(atoi(argv[2]));
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--")) {
			words = argv + i + 1;
			nwords = argc - i - 1;
			break;
		} else if (!strcmp(argv[i], "--timeout") && i + 1 < argc) {
			timeout = atof(argv[++i]);
		} else if (!strcmp(argv[i], "--pid") && i + 1 < argc) {
			qemu_pid = atoi(argv[++i]);
		} else if (!strcmp(argv[i], "--shared") && i + 1 < argc) {
			shared = argv[++i];
		} else if (!strcmp(argv[i], "--ping")) {
			mode = "ping";
		} else if (!strcmp(argv[i], "--poweroff")) {
			mode = "poweroff";
		} else if (argv[i][0] != '-' && !sock) {
			sock = argv[i];
		} else {
			usage();
		}
	}
	if (!sock)
		usage();

	/* The request line. */
	char id[64], *req;
	size_t reqlen;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	snprintf(id, sizeof(id), "%d-%ld.%09ld", (int)getpid(), (long)ts.tv_sec, ts.tv_nsec);
	if (mode) {
		if (asprintf(&req, "\nHABLK %s %s\n", id, mode) < 0)
			die("out of memory");
	} else {
		char *script, *b64;
		size_t n = 0;

		if (nwords >= 0) {
			size_t cap = 1;
			for (int w = 0; w < nwords; w++)
				cap += strlen(words[w]) + 1;
			script = xrealloc(NULL, cap);
			script[0] = 0;
			for (int w = 0; w < nwords; w++) {
				strcat(script, words[w]);
				strcat(script, w + 1 < nwords ? " " : "\n");
			}
			n = strlen(script);
		} else {
			script = read_stdin(&n);
		}
		/* The serial line is slow: a big script goes through the shared directory. */
		if (shared && n > 2048) {
			char *dir, *path;
			int fd;

			if (asprintf(&dir, "%s/.hablk-agent", shared) < 0 ||
			    asprintf(&path, "%s/%s.sh", dir, id) < 0)
				die("out of memory");
			mkdir(dir, 0755);
			fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
			if (fd < 0)
				die("cannot create %s: %s", path, strerror(errno));
			write_all(fd, script, n, 1);
			close(fd);
			b64 = strdup("@");
		} else {
			b64 = base64((unsigned char *)script, n);
		}
		/* Guest-side kill a little after we give up; 0 = no limit on either side. */
		if (asprintf(&req, "\nHABLK %s %ld %s\n", id, timeout > 0 ? (long)timeout + 5 : 0L,
			     b64) < 0)
			die("out of memory");
		free(b64);
		free(script);
	}
	reqlen = strlen(req);

	double deadline = timeout > 0 ? now() + timeout : 1e300;
	int ping = mode && !strcmp(mode, "ping");
	int fd = connect_to(sock, deadline, ping);
	double next_send = 0;

	/* Reply parser state: 0 = seeking BEGIN, 1 = data, 2 = seeking END. */
	char begin[96], end[96];
	snprintf(begin, sizeof(begin), "@@HABLK BEGIN %s ", id);
	snprintf(end, sizeof(end), "@@HABLK END %s ", id);
	int state = 0;
	long long left = 0;
	size_t cap = 65536, len = 0;
	char *buf = xrealloc(NULL, cap);

	for (;;) {
		double t = now();

		if (next_send >= 0 && t >= next_send) {
			write_all(fd, req, reqlen, 1);
			/* A ping is repeated until the agent is up: earlier ones may be lost while the
			 * guest's UART driver initialises. */
			next_send = ping ? t + 0.5 : -1;
		}
		if (t >= deadline)
			die("timeout after %g s waiting for the guest (%s)", timeout, sock);
		check_qemu(sock);
		double wait = deadline - t;
		if (next_send >= 0 && next_send - t < wait)
			wait = next_send - t;
		if (qemu_pid && wait > 0.5)
			wait = 0.5;
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		int pr = poll(&pfd, 1, (int)(wait * 1000) + 1);
		if (pr < 0 && errno != EINTR)
			die("poll: %s", strerror(errno));
		if (pr <= 0)
			continue;
		if (len == cap)
			buf = xrealloc(buf, cap *= 2);
		ssize_t r = read(fd, buf + len, cap - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			die("read %s: %s", sock, strerror(errno));
		if (r == 0)
			die("connection closed by QEMU (VM died?) (%s)", sock);
		len += r;

		for (;;) {
			if (state == 0 || state == 2) {
				const char *mark = state == 0 ? begin : end;
				char *p = memmem(buf, len, mark, strlen(mark)), *nl;

				if (!p) {
					/* Keep a possible marker prefix only. */
					size_t keep = strlen(mark);
					if (len > keep) {
						memmove(buf, buf + len - keep, keep);
						len = keep;
					}
					break;
				}
				nl = memchr(p, '\n', buf + len - p);
				if (!nl)
					break;
				long long v = atoll(p + strlen(mark));
				/* "@@HABLK BEGIN ID LEN file@@": the output is in the shared dir. */
				int in_file = nl - p > 7 && !memcmp(nl - 7, " file@@", 7);
				size_t used = nl + 1 - buf;
				memmove(buf, nl + 1, len - used);
				len -= used;
				if (state == 2) {
					fflush(stdout);
					return (int)(v & 255);
				}
				if (in_file) {
					char *path;

					if (!shared)
						die("the guest sent its output through /shared; use --shared DIR");
					if (asprintf(&path, "%s/.hablk-agent/%s.out", shared, id) < 0)
						die("out of memory");
					copy_out_file(path, v);
					free(path);
					state = 2;
					continue;
				}
				left = v;
				state = 1;
			} else {
				size_t n = (long long)len < left ? len : (size_t)left;
				write_all(1, buf, n, 0);
				memmove(buf, buf + n, len - n);
				len -= n;
				left -= n;
				if (left)
					break;
				state = 2;
			}
		}
	}
}
