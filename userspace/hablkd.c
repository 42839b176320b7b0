// SPDX-License-Identifier: GPL-2.0
/* hablkd.c - the hablk daemon (docs/hablkd.8): options, the main loop, the UDP
 * sockets and the heartbeats; a data node's part and the arbiter's are in hablkd_*.c. */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include "hablkd.h"
#include "lkmsg.h"

#define TICK_MS		100		/* decisions are re-taken this often */
#define STATE_DIR	"/var/lib/hablk"	/* the arbiter's store */

static bool foreground;
static volatile sig_atomic_t stop;

void hablkd_log(int prio, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (foreground) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		fprintf(stderr, "%lld.%03ld hablkd: ", (long long)ts.tv_sec, ts.tv_nsec / 1000000);
		vfprintf(stderr, fmt, ap);
		fputc('\n', stderr);
	} else {
		vsyslog(prio, fmt, ap);
	}
	va_end(ap);
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int hablkd_watch(struct hablkd *d, int fd, void (*fn)(struct hablkd *d, void *arg, uint64_t now),
		 void *arg)
{
	if (d->nwatch == HABLKD_MAX_WATCH)
		return -1;
	d->watch[d->nwatch++] = (struct hablkd_watch){ .fd = fd, .fn = fn, .arg = arg };
	return 0;
}

const struct hablk_node *hablkd_node(const struct hablkd_res *c, int id)
{
	int i;

	for (i = 0; i < c->nvoters; i++)
		if ((int)c->voters[i]->id == id)
			return c->voters[i];
	return NULL;
}

/* --- sockets: one per distinct local address, shared by resources --- */

static void receive(struct hablkd *d, void *arg, uint64_t now);

/* The socket bound to addr, opened on first use; -1 with a log line on failure. */
static int sock_for(struct hablkd *d, const struct sockaddr_storage *addr, socklen_t len)
{
	char buf[HABLK_ADDRSTRLEN];
	int i, fd, one = 1;

	for (i = 0; i < d->nsocks; i++)
		if (hablk_addr_equal(&d->socks[i].addr, addr))
			return i;
	if (d->nsocks == HABLKD_MAX_SOCKS) {
		hablkd_log(LOG_ERR, "too many local addresses");
		return -1;
	}
	fd = socket(addr->ss_family, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(fd, (const struct sockaddr *)addr, len) ||
	    hablkd_watch(d, fd, receive, (void *)(intptr_t)d->nsocks)) {
		hablkd_log(LOG_ERR, "cannot listen on %s: %s",
			   hablk_addr_format(addr, len, buf, sizeof(buf)), strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	d->socks[d->nsocks].addr = *addr;
	d->socks[d->nsocks].len = len;
	d->socks[d->nsocks].fd = fd;
	return d->nsocks++;
}

/* The address of path for node n: the control address, or the replication IP with its port. */
bool hablkd_path_addr(const struct hablk_node *n, int path, struct sockaddr_storage *out,
		      socklen_t *len)
{
	*out = n->control;
	*len = n->control_len;
	if (path == HABLK_HB_PATH_CONTROL)
		return true;
	if (n->is_arbiter)
		return false;
	*out = n->addr;
	*len = n->addr_len;
	if (out->ss_family == AF_INET)
		((struct sockaddr_in *)out)->sin_port = ((const struct sockaddr_in *)&n->control)->sin_port;
	else
		((struct sockaddr_in6 *)out)->sin6_port =
			((const struct sockaddr_in6 *)&n->control)->sin6_port;
	return !hablk_addr_equal(out, &n->control);	/* the same address: one path */
}

/* --- per resource --- */

/* The voters of r, and the quorum's rules. */
static int res_voters(struct hablkd_res *c, const struct hablk_res *r)
{
	uint32_t voters = 0;
	int i;

	c->voters[c->nvoters++] = &r->nodes[0];
	c->voters[c->nvoters++] = &r->nodes[1];
	c->data_mask = 1u << r->nodes[0].id | 1u << r->nodes[1].id;
	c->arb = -1;
	if (r->has_arbiter) {
		c->voters[c->nvoters++] = &r->arbiter;
		c->arb = (int)r->arbiter.id;
	}
	for (i = 0; i < c->nvoters; i++)
		voters |= 1u << c->voters[i]->id;
	c->timeout = r->timing.ping_timeout_ms;
	c->alive = 1u << c->self->id;
	/* a voter that drops out must stay for two timeouts before it counts again */
	return hq_init(&c->q, c->self->id, voters, c->timeout, 2 * c->timeout);
}

/* 1 if node is not in r, 0 when set up, -1 (logged) on failure. */
static int res_init(struct hablkd *d, struct hablkd_res *c, const struct hablk_res *r,
		    const char *node, uint64_t now)
{
	const struct hablk_node *self = NULL, *peer = NULL;
	struct sockaddr_storage a;
	socklen_t len;
	int i, where;

	memset(c, 0, sizeof(*c));
	where = hablk_res_local(r, node, &self, &peer);
	if (where == HABLK_LOCAL_NONE)
		return 1;	/* not ours */
	c->d = d;
	c->r = r;
	c->self = self;
	c->is_arbiter = where == HABLK_LOCAL_ARBITER;
	c->peer = peer ? (int)peer->id : -1;
	if (res_voters(c, r))
		return -1;
	for (i = 0; i < HABLK_HB_PATHS; i++) {
		c->sock[i] = -1;
		if (hablkd_path_addr(self, i, &a, &len)) {
			c->sock[i] = sock_for(d, &a, len);
			if (c->sock[i] < 0)
				return -1;
		}
	}
	if (c->is_arbiter && hablkd_arbiter_init(c, now))
		return -1;
	if (!c->is_arbiter) {
		hablkd_data_init(c);
		hablkd_locks_init(c);
	}
	hablkd_log(LOG_INFO, "%s: %s %s (id %u)%s", r->name, c->is_arbiter ? "arbiter" : "data node",
		   self->name, self->id,
		   r->has_arbiter || c->is_arbiter ? "" : ", no arbiter: quorum needs the peer");
	return 0;
}

/* --- heartbeats --- */

static void send_hb(struct hablkd_res *c, const struct hablk_node *to, uint8_t flags, uint64_t now)
{
	struct hablk_hb m = { .type = HABLK_HB_HEARTBEAT };
	const struct hablkd_data *dn = &c->data;
	bool kernel = !c->is_arbiter && dn->up;
	uint8_t buf[HABLK_HB_LEN];
	struct sockaddr_storage a;
	socklen_t len;
	int path;

	m.sender_id = (uint8_t)c->self->id;
	m.dest_id = (uint8_t)to->id;
	m.role = kernel ? (uint8_t)dn->st.role : HABLK_HB_ROLE_NONE;
	m.disk = kernel ? (uint8_t)dn->st.disk : HABLK_HB_DISK_NONE;
	m.flags = flags;
	snprintf(m.res, sizeof(m.res), "%s", c->r->name);
	m.boot_id = c->d->boot_id;
	m.echo_boot = c->pv[to->id].hb.boot_id;
	m.sees = hq_alive_mask(&c->q, now);
	m.current_uuid = dn->up ? dn->st.current_uuid : 0;
	for (path = 0; path < HABLK_HB_PATHS; path++) {
		if (c->sock[path] < 0 || !hablkd_path_addr(to, path, &a, &len))
			continue;
		m.path = (uint8_t)path;
		m.seq = ++c->seq;
		hablk_hb_encode(&m, c->r->secret, buf);
		/* a path that is down fails here; its silence tells the peer */
		(void)sendto(c->d->socks[c->sock[path]].fd, buf, sizeof(buf), 0,
			     (const struct sockaddr *)&a, len);
	}
}

/* Heartbeats to every other voter: when due, and at once when the flags for it changed. */
static void send_all(struct hablkd_res *c, uint64_t now)
{
	uint8_t flags = c->is_arbiter ? 0 : hablkd_data_flags(c);
	bool due = now >= c->next_send;
	int k;

	if (due)
		c->next_send = now + c->r->timing.ping_interval_ms;
	for (k = 0; k < c->nvoters; k++) {
		const struct hablk_node *to = c->voters[k];
		uint8_t f = flags;

		if (to == c->self)
			continue;
		if (c->is_arbiter)
			f |= hablkd_arbiter_flags(c, to);
		/* a change (a vote asked for, given, taken back) goes out at once */
		if (due || f != c->sent_flags[to->id]) {
			c->sent_flags[to->id] = f;
			send_hb(c, to, f, now);
		}
	}
}

/* A fresh message from a voter. */
static void heard(struct hablkd_res *c, const struct hablk_hb *m, uint64_t now)
{
	struct hablkd_peer_view *v = &c->pv[m->sender_id];

	hq_heard(&c->q, m->sender_id, m->path, now);
	v->last = *m;
	v->last_at = now;
	if (c->is_arbiter)
		hablkd_arbiter_heard(c, m, now);
	else
		hablkd_data_heard(c, m, now);
}

/* The socket at index arg is readable: every datagram waiting on it. */
static void receive(struct hablkd *d, void *arg, uint64_t now)
{
	int s = (int)(intptr_t)arg;
	uint8_t buf[HABLK_LK_MAX + 1];
	struct hablk_hb m;
	char res[HABLK_HB_RES_LEN + 1];
	size_t i;
	ssize_t n;
	int ret;

	while ((n = recv(d->socks[s].fd, buf, sizeof(buf), 0)) >= 0) {
		if (hablk_lk_is(buf, (size_t)n)) {
			hablkd_locks_receive(d, s, buf, (size_t)n, now);	/* two primaries */
			continue;
		}
		if (n != HABLK_HB_LEN)
			continue;
		/* the name picks the resource (and its secret); the MAC then decides */
		memcpy(res, buf + offsetof(struct hablk_hb_wire, res), HABLK_HB_RES_LEN);
		res[HABLK_HB_RES_LEN] = 0;
		for (i = 0; i < d->nres; i++) {
			struct hablkd_res *c = &d->res[i];

			if (strcmp(c->r->name, res))
				continue;
			ret = hablk_hb_decode(buf, (size_t)n, c->r->secret, c->r->name, c->self->id, &m);
			if (ret) {
				hablkd_log(LOG_DEBUG, "%s: dropped a heartbeat: %s", c->r->name,
					   hablk_hb_strerror(ret));
				break;
			}
			if (!hablkd_node(c, m.sender_id) || c->sock[m.path] != s)
				break;	/* not a voter, or not on the path it names */
			if (hablk_hb_fresh(&c->pv[m.sender_id].hb, &m, d->boot_id) == 1)
				heard(c, &m, now);
			break;
		}
	}
}

/* Log voters that came or went, with the paths they are heard on. */
static void log_liveness(struct hablkd_res *c, uint64_t now)
{
	uint32_t alive = hq_alive_mask(&c->q, now), changed = alive ^ c->alive;
	int k;

	for (k = 0; k < c->nvoters; k++) {
		const struct hablk_node *n = c->voters[k];

		if (n == c->self || !(changed & 1u << n->id))
			continue;
		if (alive & 1u << n->id)
			hablkd_log(LOG_INFO, "%s: %s %s is reachable (%s%s)", c->r->name,
				   n->is_arbiter ? "arbiter" : "node", n->name,
				   hq_path_alive(&c->q, n->id, HABLK_HB_PATH_LINK, now) ? "link " : "",
				   hq_path_alive(&c->q, n->id, HABLK_HB_PATH_CONTROL, now) ? "control" : "");
		else
			hablkd_log(LOG_WARNING, "%s: %s %s is gone", c->r->name,
				   n->is_arbiter ? "arbiter" : "node", n->name);
	}
	c->alive = alive;
}

/* --- RUN_DIR/RES.json --- */

/* This daemon's view of c: its voters and their paths, and each part's own. */
static void view_fill(const struct hablkd_res *c, uint64_t now, struct hablk_view *v)
{
	int k;

	memset(v, 0, sizeof(*v));
	v->pid = (int)getpid();
	snprintf(v->node, sizeof(v->node), "%s", c->self->name);
	v->is_arbiter = c->is_arbiter;
	if (c->is_arbiter)
		hablkd_arbiter_view(c, v);
	else
		hablkd_data_view(c, now, v);
	if (!c->is_arbiter)
		hablkd_locks_view(c, v);
	for (k = 0; k < c->nvoters && k < HABLK_VIEW_VOTERS; k++) {
		const struct hablk_node *n = c->voters[k];
		struct hablk_view_voter *w = &v->voters[v->nvoters++];
		bool me = n == c->self;

		snprintf(w->name, sizeof(w->name), "%s", n->name);
		w->id = n->id;
		w->arbiter = n->is_arbiter;
		w->alive = me || hq_alive(&c->q, n->id, now);
		w->link = !me && hq_path_alive(&c->q, n->id, HABLK_HB_PATH_LINK, now);
		w->control = !me && hq_path_alive(&c->q, n->id, HABLK_HB_PATH_CONTROL, now);
	}
}

int hablkd_replace_file(const char *path, const char *text)
{
	char tmp[PATH_MAX];
	bool ok;
	FILE *f;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	f = fopen(tmp, "w");
	ok = f && fputs(text, f) >= 0;
	if (f)
		ok = !fclose(f) && ok;
	if (!ok || rename(tmp, path)) {
		int err = errno;

		unlink(tmp);
		errno = err;
		return -1;
	}
	return 0;
}

/* RUN_DIR/RES.json, replaced when it changes: the view for hablkadm status and events. */
static void write_view(struct hablkd_res *c, uint64_t now)
{
	struct hablk_view v;
	char path[512], *json;

	view_fill(c, now, &v);
	json = hablk_view_json(&v);
	if (!json || (c->view && !strcmp(json, c->view))) {
		free(json);
		return;
	}
	snprintf(path, sizeof(path), "%s/%s.json", c->d->run_dir, c->r->name);
	if (hablkd_replace_file(path, json)) {
		hablkd_log(LOG_WARNING, "%s: cannot write %s: %s", c->r->name, path, strerror(errno));
		free(json);
		return;
	}
	free(c->view);
	c->view = json;
}

/* --- the main loop --- */

/* Every TICK_MS, for each resource in turn. */
static void tick(struct hablkd *d, uint64_t now)
{
	size_t i;

	for (i = 0; i < d->nres; i++) {
		struct hablkd_res *c = &d->res[i];

		log_liveness(c, now);
		if (c->is_arbiter)
			hablkd_arbiter_tick(c, now);
		else
			hablkd_data_tick(c, now);
		write_view(c, now);
		if (!c->is_arbiter)
			hablkd_locks_write(c);
		send_all(c, now);
	}
}

/* Tick, and read what arrives in between, until a signal stops it. Returns the exit status. */
static int loop(struct hablkd *d)
{
	struct pollfd pfd[HABLKD_MAX_WATCH];
	uint64_t next = 0, now, wake;
	int i, n, nfds;

	while (!stop) {
		now = now_ms();
		if (now >= next) {
			tick(d, now);
			next = now + TICK_MS;
		}
		/* the lock managers' timers run between ticks: a handover waits for no tick */
		if (hablkd_locks_next(d) <= now)
			hablkd_locks_timers(d, now);
		wake = hablkd_locks_next(d);
		if (wake > next)
			wake = next;
		nfds = d->nwatch;	/* a watch added meanwhile is polled next turn */
		for (i = 0; i < nfds; i++)
			pfd[i] = (struct pollfd){ .fd = d->watch[i].fd, .events = POLLIN };
		n = poll(pfd, (nfds_t)nfds, wake > now ? (int)(wake - now) : 0);
		if (n < 0 && errno != EINTR) {
			hablkd_log(LOG_ERR, "poll: %s", strerror(errno));
			return 1;
		}
		now = now_ms();
		for (i = 0; n > 0 && i < nfds; i++)
			if (pfd[i].revents & POLLIN)
				d->watch[i].fn(d, d->watch[i].arg, now);
	}
	return 0;
}

/* --- main --- */

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: hablkd [-c FILE] [--node NAME] [-f|--foreground] [--state-dir DIR]"
		" [--run-dir DIR]\n");
}

/* Options into d, *config and *node. Returns -1 to go on, or the exit status. */
static int parse_args(int argc, char **argv, struct hablkd *d, const char **config,
		      const char **node)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "node", required_argument, NULL, 'n' },
		{ "foreground", no_argument, NULL, 'f' },
		{ "state-dir", required_argument, NULL, 's' },
		{ "run-dir", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	while ((ch = getopt_long(argc, argv, "c:n:fh", opts, NULL)) != -1) {
		switch (ch) {
		case 'c': *config = optarg; break;
		case 'n': *node = optarg; break;
		case 'f': foreground = true; break;
		case 's': d->state_dir = optarg; break;
		case 'r': d->run_dir = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc) {
		usage(stderr);
		return 2;
	}
	return -1;
}

/*
 * The configuration, this node's name, the background, and a context for
 * each resource this node is in. Returns -1 to go on, or the exit status.
 */
static int start(struct hablkd *d, struct hablk_config *cfg, const char *config, const char *node)
{
	struct utsname u;
	struct timespec ts;
	char err[512];
	size_t i;
	int ret;

	if (config ? hablk_config_load_file(cfg, config, err, sizeof(err)) :
		     hablk_config_load_dir(cfg, NULL, err, sizeof(err))) {
		fprintf(stderr, "hablkd: %s\n", err);
		return 2;
	}
	if (!node) {
		if (uname(&u)) {
			fprintf(stderr, "hablkd: uname: %s\n", strerror(errno));
			return 1;
		}
		node = u.nodename;
	}
	if (!foreground && daemon(0, 0)) {
		fprintf(stderr, "hablkd: cannot daemonise: %s\n", strerror(errno));
		return 1;
	}
	openlog("hablkd", LOG_PID, LOG_DAEMON);
	clock_gettime(CLOCK_REALTIME, &ts);
	d->boot_id = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	d->res = calloc(cfg->nr_res ? cfg->nr_res : 1, sizeof(*d->res));
	if (!d->res)
		return 1;
	for (i = 0; i < cfg->nr_res; i++) {
		ret = res_init(d, &d->res[d->nres], &cfg->res[i], node, now_ms());
		if (ret < 0)
			return 1;
		if (!ret)
			d->nres++;
	}
	if (!d->nres) {
		hablkd_log(LOG_ERR, "node %s is in no resource", node);
		return 2;
	}
	return -1;
}

int main(int argc, char **argv)
{
	static struct hablkd d = { .state_dir = STATE_DIR, .run_dir = HABLK_RUN_DIR };
	struct hablk_config cfg = { 0 };
	const char *config = NULL, *node = NULL;
	char path[512];
	size_t i;
	int ret;

	ret = parse_args(argc, argv, &d, &config, &node);
	if (ret < 0)
		ret = start(&d, &cfg, config, node);
	if (ret >= 0)
		return ret;
	if (mkdir(d.run_dir, 0755) && errno != EEXIST)
		hablkd_log(LOG_WARNING, "cannot create %s: %s", d.run_dir, strerror(errno));
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	signal(SIGHUP, on_signal);
	signal(SIGPIPE, SIG_IGN);
	ret = loop(&d);
	hablkd_log(LOG_INFO, "stopping");
	for (i = 0; i < d.nres; i++) {
		snprintf(path, sizeof(path), "%s/%s.json", d.run_dir, d.res[i].r->name);
		unlink(path);
		free(d.res[i].view);
		hablkd_locks_stop(&d.res[i]);
	}
	if (d.nl_ok)
		hablk_nl_close(&d.nl);
	if (d.lock_ev_ok)
		hablk_nl_close(&d.lock_ev);
	hablk_config_free(&cfg);
	free(d.res);
	return ret;
}
