/* hablkd.c - the daemon on every data node and on the arbiter: authenticated
 * heartbeats on two paths, quorum with the arbiter's vote, the kernel's I/O
 * frozen or thawed accordingly, and automatic promotion of a safe survivor.
 * See docs/hablkd.8 and docs/design.md. */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include "../kernel/uapi/linux/hablk.h"
#include "arbiter.h"
#include "config.h"
#include "decide.h"
#include "hbmsg.h"
#include "nl.h"
#include "quorum.h"

#define TICK_MS		100		/* decisions are re-taken this often */
#define MAX_SOCKS	32
#define STATE_DIR	"/var/lib/hablk"	/* the arbiter's store */
#define FENCE_TIMEOUT_MS	60000	/* a fence-peer handler running longer has failed */
#define FENCE_RETRY_MS		10000	/* and is run again after this */
#define RUN_DIR		"/run/hablk"		/* RES.json: what hablkadm status shows
						 * (HABLKD_RUN_DIR in hablkadm.h) */

static bool foreground;
static volatile sig_atomic_t stop;

static void logf_(int prio, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void logf_(int prio, const char *fmt, ...)
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

/* --- sockets: one per distinct local address, shared by resources --- */

static struct {
	struct sockaddr_storage addr;
	socklen_t len;
	int fd;
} socks[MAX_SOCKS];
static int nsocks;

/* The socket bound to addr, opened on first use; -1 with a log line on failure. */
static int sock_for(const struct sockaddr_storage *addr, socklen_t len)
{
	char buf[HABLK_ADDRSTRLEN];
	int i, fd, one = 1;

	for (i = 0; i < nsocks; i++)
		if (hablk_addr_equal(&socks[i].addr, addr))
			return i;
	if (nsocks == MAX_SOCKS) {
		logf_(LOG_ERR, "too many local addresses");
		return -1;
	}
	fd = socket(addr->ss_family, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(fd, (const struct sockaddr *)addr, len)) {
		logf_(LOG_ERR, "cannot listen on %s: %s",
		      hablk_addr_format(addr, len, buf, sizeof(buf)), strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	socks[nsocks].addr = *addr;
	socks[nsocks].len = len;
	socks[nsocks].fd = fd;
	return nsocks++;
}

/* The address of path for node n: the control address, or the replication IP with its port. */
static bool path_addr(const struct hablk_node *n, int path, struct sockaddr_storage *out,
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

struct peer_view {
	struct hablk_hb_peer hb;	/* replay filter */
	struct hablk_hb last;		/* its last fresh message */
	uint64_t last_at;		/* when (0: never) */
};

struct rctx {
	const struct hablk_res *r;
	const struct hablk_node *self;
	const struct hablk_node *voters[3];	/* the data nodes and the arbiter */
	int nvoters;
	int arb;			/* the arbiter's node id, -1: none */
	int peer;			/* the other data node's id (data nodes) */
	uint32_t data_mask;
	bool is_arbiter;
	int sock[HABLK_HB_PATHS];	/* our sockets for each path, -1: none */
	struct hq q;
	struct peer_view pv[HQ_MAX_VOTERS];
	uint64_t seq, next_send;
	uint8_t sent_flags[HQ_MAX_VOTERS];	/* the flags last sent to each voter */
	unsigned int timeout;
	uint32_t alive;			/* voters alive at the last tick, logged on change */
	char status[2048];		/* last RES.json written */

	/* data node */
	struct hablk_status st;
	bool up;			/* the kernel has the resource */
	uint64_t grant_until;		/* the arbiter's vote counts until then */
	bool told_outdated;		/* the arbiter's last word: our data is outdated */
	int told_quorum;		/* last verdict given to the kernel, -1: none */
	uint64_t promote_at;		/* no auto-promote attempt before then */
	enum { FENCE_NONE, FENCE_RUNNING, FENCE_DONE, FENCE_FAILED } fence;
	pid_t fence_pid;
	uint64_t fence_at;		/* started, or (failed) when to retry */
	char fence_why[64];		/* how the last run failed */

	/* arbiter */
	struct hablk_arb_state as;
	int grant;			/* holder of our vote, -1: nobody */
	bool unsaved;			/* the store lags the memory: save again */
	uint64_t grant_free_at;		/* no new holder before then (the last one's lease) */
	uint64_t want_since[HQ_MAX_VOTERS];	/* asking since, 0: not asking */
};

static struct rctx *ctxs;
static size_t nctx;
static uint64_t boot_id;
static struct hablk_nl nl;
static bool nl_ok;
static const char *state_dir = STATE_DIR;
static const char *run_dir = RUN_DIR;

static const struct hablk_node *node_by_id(const struct rctx *c, int id)
{
	int i;

	for (i = 0; i < c->nvoters; i++)
		if ((int)c->voters[i]->id == id)
			return c->voters[i];
	return NULL;
}

static int ctx_init(struct rctx *c, const struct hablk_res *r, const char *node)
{
	const struct hablk_node *self = NULL, *peer = NULL;
	struct sockaddr_storage a;
	uint32_t voters = 0;
	socklen_t len;
	int i, where;
	char err[256];

	memset(c, 0, sizeof(*c));
	where = hablk_res_local(r, node, &self, &peer);
	if (where == HABLK_LOCAL_NONE)
		return 1;	/* not ours */
	c->r = r;
	c->self = self;
	c->is_arbiter = where == HABLK_LOCAL_ARBITER;
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
	c->peer = peer ? (int)peer->id : -1;
	c->timeout = r->timing.ping_timeout_ms;
	/* a voter that drops out must stay for two timeouts before it counts again */
	if (hq_init(&c->q, self->id, voters, c->timeout, 2 * c->timeout))
		return -1;
	c->told_quorum = -1;
	c->alive = 1u << self->id;
	c->grant = -1;
	c->grant_free_at = now_ms() + c->timeout * 3 / 2;	/* a restarted arbiter's old lease */
	for (i = 0; i < HABLK_HB_PATHS; i++) {
		c->sock[i] = -1;
		if (path_addr(self, i, &a, &len)) {
			c->sock[i] = sock_for(&a, len);
			if (c->sock[i] < 0)
				return -1;
		}
	}
	if (c->is_arbiter && mkdir(state_dir, 0700) && errno != EEXIST) {
		logf_(LOG_ERR, "%s: cannot create %s: %s", r->name, state_dir, strerror(errno));
		return -1;
	}
	if (c->is_arbiter && hablk_arbiter_load(state_dir, r->name, &c->as, err, sizeof(err))) {
		logf_(LOG_ERR, "%s: %s", r->name, err);
		return -1;
	}
	logf_(LOG_INFO, "%s: %s %s (id %u)%s", r->name, c->is_arbiter ? "arbiter" : "data node",
	      self->name, self->id, r->has_arbiter || c->is_arbiter ? "" : ", no arbiter: quorum needs the peer");
	return 0;
}

/* --- heartbeats --- */

static void send_hb(struct rctx *c, const struct hablk_node *to, uint8_t flags, uint64_t now)
{
	struct hablk_hb m = { .type = HABLK_HB_HEARTBEAT };
	uint8_t buf[HABLK_HB_LEN];
	struct sockaddr_storage a;
	socklen_t len;
	int path;

	m.sender_id = (uint8_t)c->self->id;
	m.dest_id = (uint8_t)to->id;
	m.role = c->is_arbiter || !c->up ? HABLK_HB_ROLE_NONE : (uint8_t)c->st.role;
	m.disk = c->is_arbiter || !c->up ? HABLK_HB_DISK_NONE : (uint8_t)c->st.disk;
	m.flags = flags;
	snprintf(m.res, sizeof(m.res), "%s", c->r->name);
	m.boot_id = boot_id;
	m.echo_boot = c->pv[to->id].hb.boot_id;
	m.sees = hq_alive_mask(&c->q, now);
	m.current_uuid = c->up ? c->st.current_uuid : 0;
	for (path = 0; path < HABLK_HB_PATHS; path++) {
		if (c->sock[path] < 0 || !path_addr(to, path, &a, &len))
			continue;
		m.path = (uint8_t)path;
		m.seq = ++c->seq;
		hablk_hb_encode(&m, c->r->secret, buf);
		/* a path that is down fails here; its silence tells the peer */
		(void)sendto(socks[c->sock[path]].fd, buf, sizeof(buf), 0,
			     (const struct sockaddr *)&a, len);
	}
}

/* A fresh message from a voter. */
static void heard(struct rctx *c, const struct hablk_hb *m, uint64_t now)
{
	struct peer_view *v = &c->pv[m->sender_id];

	hq_heard(&c->q, m->sender_id, m->path, now);
	v->last = *m;
	v->last_at = now;
	if ((int)m->sender_id == c->arb && !c->is_arbiter) {
		if (m->flags & HABLK_HB_F_GRANTED)
			c->grant_until = now + c->timeout;
		else
			c->grant_until = 0;	/* taken back: at once */
		c->told_outdated = m->flags & HABLK_HB_F_OUTDATED;
	}
	if (c->is_arbiter && (m->flags & HABLK_HB_F_WANT_VOTE)) {
		if (!c->want_since[m->sender_id])
			c->want_since[m->sender_id] = now;
	} else if (c->is_arbiter) {
		c->want_since[m->sender_id] = 0;
	}
}

static void receive(int s, uint64_t now)
{
	uint8_t buf[HABLK_HB_LEN + 1];
	struct hablk_hb m;
	char res[HABLK_HB_RES_LEN + 1];
	size_t i;
	ssize_t n;
	int ret;

	while ((n = recv(socks[s].fd, buf, sizeof(buf), 0)) >= 0) {
		if (n != HABLK_HB_LEN)
			continue;
		/* the name picks the resource (and its secret); the MAC then decides */
		memcpy(res, buf + offsetof(struct hablk_hb_wire, res), HABLK_HB_RES_LEN);
		res[HABLK_HB_RES_LEN] = 0;
		for (i = 0; i < nctx; i++) {
			struct rctx *c = &ctxs[i];

			if (strcmp(c->r->name, res))
				continue;
			ret = hablk_hb_decode(buf, (size_t)n, c->r->secret, c->r->name, c->self->id, &m);
			if (ret) {
				logf_(LOG_DEBUG, "%s: dropped a heartbeat: %s", c->r->name,
				      hablk_hb_strerror(ret));
				break;
			}
			if (!node_by_id(c, m.sender_id) || c->sock[m.path] != s)
				break;	/* not a voter, or not on the path it names */
			if (hablk_hb_fresh(&c->pv[m.sender_id].hb, &m, boot_id) == 1)
				heard(c, &m, now);
			break;
		}
	}
}

/* --- the arbiter --- */

static int arb_save(struct rctx *c)
{
	char err[256];

	c->unsaved = hablk_arbiter_save(state_dir, c->r->name, &c->as, err, sizeof(err)) != 0;
	if (c->unsaved)
		logf_(LOG_ERR, "%s: %s (tried again)", c->r->name, err);
	return c->unsaved ? -1 : 0;
}

/* Node id and the other data node replicate, both UpToDate with the same generation. */
static bool together(const struct rctx *c, int id, uint32_t want, uint32_t alive)
{
	int other = (int)__builtin_ctz(c->data_mask & ~(1u << id));
	const struct hablk_hb *a = &c->pv[id].last, *b = &c->pv[other].last;

	return (alive & 1u << other) && !(want & (1u << id | 1u << other)) &&
	       a->disk == HABLK_DISK_UPTODATE && b->disk == HABLK_DISK_UPTODATE &&
	       a->current_uuid && a->current_uuid == b->current_uuid &&
	       (a->sees & 1u << other) && (b->sees & 1u << id);
}

static void arbiter_tick(struct rctx *c, uint64_t now)
{
	uint32_t alive = hq_alive_mask(&c->q, now), want = 0, settled;
	int id, g, other;
	bool dirty = c->unsaved;

	for (id = 0; id < HQ_MAX_VOTERS; id++)
		if ((c->data_mask & 1u << id) && c->want_since[id] && (alive & 1u << id))
			want |= 1u << id;
	/* what the data nodes say of themselves, when they are together and current */
	for (id = 0; id < HQ_MAX_VOTERS; id++) {
		const struct hablk_hb *m = &c->pv[id].last;

		if (!(c->data_mask & 1u << id) || !(alive & 1u << id) || m->disk == HABLK_HB_DISK_NONE)
			continue;
		/* a primary replicating to its peer (it asks no vote) is the primary */
		if (m->role == HABLK_HB_ROLE_PRIMARY && c->as.primary != id && !(want & 1u << id)) {
			c->as.primary = id;
			dirty = true;
		}
		/*
		 * An outdated node is current again once it replicates with its
		 * peer, both UpToDate with one generation (a resync is over).
		 */
		if (c->as.disk[id] == HABLK_ARB_OUTDATED && together(c, id, want, alive)) {
			c->as.disk[id] = HABLK_ARB_UPTODATE;
			c->as.current_uuid = m->current_uuid;
			logf_(LOG_INFO, "%s: node %d is up to date again", c->r->name, id);
			dirty = true;
		}
		if (c->grant == id && m->current_uuid && m->current_uuid != c->as.current_uuid) {
			c->as.current_uuid = m->current_uuid;	/* the holder moved on */
			dirty = true;
		}
	}
	if (c->grant >= 0 && (!(alive & 1u << c->grant) || !(want & 1u << c->grant))) {
		logf_(LOG_INFO, "%s: vote taken back from node %d (%s)", c->r->name, c->grant,
		      alive & 1u << c->grant ? "no longer asks" : "silent");
		c->grant = -1;
		c->grant_free_at = now + c->timeout * 3 / 2;
	}
	if (c->grant < 0 && want && now >= c->grant_free_at) {
		/* give the other one a moment to ask too, if it is alive */
		settled = want;
		for (id = 0; id < HQ_MAX_VOTERS; id++)
			if ((want & 1u << id) && now - c->want_since[id] < 2 * c->r->timing.ping_interval_ms &&
			    (alive & c->data_mask & ~want))
				settled = 0;
		g = settled ? hablk_arbiter_grant(&c->as, c->data_mask, settled) : -1;
		/*
		 * Not away from the primary while it is heard now and then: it
		 * flaps rather than died. Gone means silent for two timeouts,
		 * as the peer waits before it promotes itself.
		 */
		if (g >= 0 && c->as.primary >= 0 && g != c->as.primary &&
		    hq_heard_within(&c->q, c->as.primary, 2ull * c->timeout, now))
			g = -1;
		if (g >= 0) {
			struct hablk_arb_state before = c->as;

			c->grant = g;
			other = (int)__builtin_ctz(c->data_mask & ~(1u << g));
			if (c->pv[g].last.disk == HABLK_DISK_UPTODATE) {
				c->as.disk[g] = HABLK_ARB_UPTODATE;
				c->as.disk[other] = HABLK_ARB_OUTDATED;
				c->as.current_uuid = c->pv[g].last.current_uuid;
				if (c->pv[g].last.role == HABLK_HB_ROLE_PRIMARY || c->as.primary == other)
					c->as.primary = c->pv[g].last.role == HABLK_HB_ROLE_PRIMARY ? g : -1;
			}
			/* on disk before the grant goes out: a restart must not forget it */
			if (arb_save(c)) {
				c->as = before;
				c->as.version++;	/* the failed save used this number */
				c->unsaved = true;
				c->grant = -1;
				return;
			}
			dirty = false;
			logf_(LOG_NOTICE, "%s: vote granted to node %d; node %d %s", c->r->name, g,
			      other, c->as.disk[other] == HABLK_ARB_OUTDATED ? "is outdated" : "keeps its state");
		}
	}
	if (dirty)
		arb_save(c);
}

/* --- a data node --- */

static void kernel_refresh(struct rctx *c)
{
	struct hablk_status *v = NULL;
	size_t n = 0;

	c->up = false;
	if (!nl_ok && !hablk_nl_open(&nl))
		nl_ok = true;
	if (!nl_ok || hablk_nl_status(&nl, c->r->name, &v, &n) || n != 1) {
		free(v);
		return;
	}
	c->st = v[0];
	c->up = true;
	free(v);
}

/*
 * The fence-peer handler: HANDLER RES PEER with HABLK_* in the environment
 * (docs/hablkd.8). Exit 0: the peer is fenced. Anything else, or running
 * longer than FENCE_TIMEOUT_MS: it is not, and I/O stays frozen.
 */
static void fence_start(struct rctx *c, uint64_t now)
{
	const struct hablk_node *peer = node_by_id(c, c->peer);
	char addr[HABLK_ADDRSTRLEN], ctl[HABLK_ADDRSTRLEN], id[16];
	pid_t pid;

	hablk_addr_format(&peer->addr, peer->addr_len, addr, sizeof(addr));
	hablk_addr_format(&peer->control, peer->control_len, ctl, sizeof(ctl));
	snprintf(id, sizeof(id), "%u", peer->id);
	pid = fork();
	if (pid == 0) {
		closefrom(3);	/* not our sockets, not libnl's */
		setsid();
		setenv("HABLK_RESOURCE", c->r->name, 1);
		setenv("HABLK_NODE", c->self->name, 1);
		setenv("HABLK_PEER", peer->name, 1);
		setenv("HABLK_PEER_ID", id, 1);
		setenv("HABLK_PEER_ADDRESS", addr, 1);
		setenv("HABLK_PEER_CONTROL", ctl, 1);
		setenv("HABLK_ARBITER", c->arb < 0 ? "none" :
		       hq_alive(&c->q, c->arb, now) ? "reachable" : "unreachable", 1);
		execl(c->r->fence_peer, c->r->fence_peer, c->r->name, peer->name, (char *)NULL);
		_exit(127);
	}
	if (pid < 0) {
		snprintf(c->fence_why, sizeof(c->fence_why), "fork: %s", strerror(errno));
		c->fence = FENCE_FAILED;
		c->fence_at = now + FENCE_RETRY_MS;
		return;
	}
	logf_(LOG_NOTICE, "%s: fencing %s: running %s", c->r->name, peer->name, c->r->fence_peer);
	c->fence = FENCE_RUNNING;
	c->fence_pid = pid;
	c->fence_at = now;
}

static void fence_reap(struct rctx *c, uint64_t now)
{
	int status;
	pid_t r = waitpid(c->fence_pid, &status, WNOHANG);

	if (r == 0 && now - c->fence_at < FENCE_TIMEOUT_MS)
		return;
	if (r == 0) {
		kill(-c->fence_pid, SIGKILL);	/* its process group: setsid() */
		waitpid(c->fence_pid, &status, 0);
		snprintf(c->fence_why, sizeof(c->fence_why), "hung: killed after %d s",
			 FENCE_TIMEOUT_MS / 1000);
	} else if (r > 0 && WIFEXITED(status) && !WEXITSTATUS(status)) {
		c->fence = FENCE_DONE;
		c->fence_pid = 0;
		logf_(LOG_NOTICE, "%s: the fence-peer handler fenced %s", c->r->name,
		      node_by_id(c, c->peer)->name);
		return;
	} else if (r > 0 && WIFEXITED(status)) {
		snprintf(c->fence_why, sizeof(c->fence_why), "exit %d", WEXITSTATUS(status));
	} else {
		snprintf(c->fence_why, sizeof(c->fence_why), "killed by signal %d",
			 r > 0 && WIFSIGNALED(status) ? WTERMSIG(status) : 0);
	}
	logf_(LOG_ERR, "%s: the fence-peer handler failed (%s): I/O stays frozen; again in %d s",
	      c->r->name, c->fence_why, FENCE_RETRY_MS / 1000);
	c->fence = FENCE_FAILED;
	c->fence_pid = 0;
	c->fence_at = now + FENCE_RETRY_MS;
}

/* Watch a running handler; together again, the next loss fences anew. */
static void fence_watch(struct rctx *c, bool connected, uint64_t now)
{
	if (c->fence_pid)
		fence_reap(c, now);
	if (connected && !c->fence_pid)
		c->fence = FENCE_NONE;
}

static void data_tick(struct rctx *c, uint64_t now)
{
	struct hablk_decide_in in = { 0 };
	struct hablk_decide_out out;
	int ret;

	kernel_refresh(c);
	if (!c->up)
		return;
	in.connected = c->st.conn == HABLK_CONN_CONNECTED;
	fence_watch(c, in.connected, now);
	/* a fresh message carried the vote: no damping, a restart of ours keeps it */
	in.granted = c->arb >= 0 && now < c->grant_until;
	in.has_arbiter = c->arb >= 0;
	in.has_handler = c->r->fence_peer[0];
	in.fenced = c->fence == FENCE_DONE;
	in.fence_busy = c->fence == FENCE_RUNNING || (c->fence == FENCE_FAILED && now < c->fence_at);
	in.primary = c->st.role == HABLK_ROLE_PRIMARY;
	in.uptodate = c->st.disk == HABLK_DISK_UPTODATE;
	in.suspended = c->st.suspended;
	/*
	 * For promotion the peer must have been silent for two timeouts, not
	 * one: a link that flaps under load must not move the primary. (Alive
	 * implies heard within one timeout, so this covers it.)
	 */
	in.peer_alive = hq_heard_within(&c->q, c->peer, 2ull * c->timeout, now);
	in.auto_promote = c->r->auto_promote;
	in.told_outdated = c->told_outdated;
	hablk_decide(&in, &out);

	if (out.outdate) {
		ret = hablk_nl_res_cmd(&nl, HABLK_CMD_OUTDATE, c->r->name, false);
		logf_(ret ? LOG_ERR : LOG_WARNING, "%s: the arbiter records this node outdated: %s",
		      c->r->name, ret ? (nl.errmsg[0] ? nl.errmsg : strerror(-ret)) : "disk marked Outdated");
	}

	if (out.fence)
		fence_start(c, now);
	/*
	 * Say it again when the kernel disagrees, and when it froze on its own
	 * (a lost link) where on-no-quorum io-error wants writes failed instead.
	 */
	if (out.quorum != c->told_quorum || out.thaw || !c->st.managed || c->st.quorum != out.quorum ||
	    (!out.quorum && c->st.suspended && c->r->on_no_quorum == HABLK_QP_IO_ERROR)) {
		ret = hablk_nl_set_quorum(&nl, c->r->name, out.quorum, out.thaw);
		if (ret)
			logf_(LOG_ERR, "%s: telling the kernel about quorum failed: %s", c->r->name,
			      nl.errmsg[0] ? nl.errmsg : strerror(-ret));
		else if (out.quorum != c->told_quorum || out.thaw)
			logf_(out.quorum ? LOG_INFO : LOG_WARNING, "%s: %s%s", c->r->name,
			      out.quorum ? (in.connected ? "quorum: replicating" :
					    in.granted ? "quorum: the arbiter's vote" :
					    "quorum: the peer is fenced") : "no quorum",
			      out.thaw ? "; frozen I/O resumed" : "");
		c->told_quorum = out.quorum;
	}
	/* a survivor takes over when the primary is gone for good and it is safe */
	if (out.promote && now >= c->promote_at) {
		c->promote_at = now + 2000;	/* a refusal is tried again, not hammered */
		ret = hablk_nl_res_cmd(&nl, HABLK_CMD_PRIMARY, c->r->name, false);
		logf_(ret ? LOG_ERR : LOG_NOTICE, "%s: peer %s is gone; promoting: %s", c->r->name,
		      node_by_id(c, c->peer)->name, ret ? (nl.errmsg[0] ? nl.errmsg : strerror(-ret)) : "done");
	}
}

/* What the fencing of a frozen primary waits for, for the status. */
static const char *fencing_state(const struct rctx *c, char *buf, size_t len)
{
	if (c->fence == FENCE_RUNNING)
		return "fence-peer handler running";
	if (!c->up || !c->st.suspended)
		return c->fence == FENCE_DONE ? "peer fenced" : "none";
	if (c->fence == FENCE_FAILED) {
		snprintf(buf, len, "frozen: fence-peer handler failed (%s)", c->fence_why);
		return buf;
	}
	if (c->told_quorum == 1)
		return "resuming";
	return c->arb >= 0 ? "frozen until quorum (the arbiter's vote)" : "frozen until the peer returns";
}

/*
 * RUN_DIR/RES.json, replaced when it changes: this daemon's view for
 * hablkadm status (voters and their paths, the arbiter's vote, fencing).
 */
static void write_status(struct rctx *c, uint64_t now)
{
	char buf[sizeof(c->status)], path[512], tmp[520], fence[128];
	size_t len = 0;
	bool ok;
	FILE *f;
	int k;

#define PUT(...) (len += (size_t)snprintf(buf + len, len < sizeof(buf) ? sizeof(buf) - len : 0, \
					   __VA_ARGS__))
	PUT("{\"pid\":%d,\"node\":\"%s\",\"kind\":\"%s\"", (int)getpid(), c->self->name,
	    c->is_arbiter ? "arbiter" : "data");
	if (c->is_arbiter) {
		PUT(",\"vote_holder\":");
		if (c->grant >= 0)
			PUT("\"%s\"", node_by_id(c, c->grant)->name);
		else
			PUT("null");
	} else {
		bool connected = c->up && c->st.conn == HABLK_CONN_CONNECTED;
		bool peer_link = hq_path_alive(&c->q, c->peer, HABLK_HB_PATH_LINK, now);
		bool peer_any = hq_alive(&c->q, c->peer, now);

		PUT(",\"quorum\":%s,\"arbiter\":\"%s\",\"arbiter_vote\":%s,\"peer\":\"%s\","
		    "\"fencing\":\"%s\"",
		    c->told_quorum == 1 ? "true" : "false",
		    c->arb < 0 ? "none" : hq_alive(&c->q, c->arb, now) ? "reachable" : "unreachable",
		    c->arb >= 0 && now < c->grant_until ? "true" : "false",
		    connected ? "replicating" : peer_any && !peer_link && c->sock[HABLK_HB_PATH_LINK] >= 0 ?
		    "alive, replication link cut" : peer_any ? "alive, not replicating" : "gone",
		    fencing_state(c, fence, sizeof(fence)));
	}
	PUT(",\"voters\":[");
	for (k = 0; k < c->nvoters; k++) {
		const struct hablk_node *n = c->voters[k];
		bool me = n == c->self;

		PUT("%s{\"name\":\"%s\",\"id\":%u,\"arbiter\":%s,\"alive\":%s,\"link\":%s,"
		    "\"control\":%s}", k ? "," : "", n->name, n->id, n->is_arbiter ? "true" : "false",
		    me || hq_alive(&c->q, n->id, now) ? "true" : "false",
		    !me && hq_path_alive(&c->q, n->id, HABLK_HB_PATH_LINK, now) ? "true" : "false",
		    !me && hq_path_alive(&c->q, n->id, HABLK_HB_PATH_CONTROL, now) ? "true" : "false");
	}
	PUT("]}\n");
#undef PUT
	if (len >= sizeof(buf) || !strcmp(buf, c->status))
		return;
	snprintf(path, sizeof(path), "%s/%s.json", run_dir, c->r->name);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	ok = f && fputs(buf, f) >= 0;
	if (f)
		ok = !fclose(f) && ok;
	if (!ok || rename(tmp, path)) {
		logf_(LOG_WARNING, "%s: cannot write %s: %s", c->r->name, path, strerror(errno));
		unlink(tmp);
		return;
	}
	memcpy(c->status, buf, len + 1);
}

/* Log voters that came or went, with the paths they are heard on. */
static void log_liveness(struct rctx *c, uint64_t now)
{
	uint32_t alive = hq_alive_mask(&c->q, now), changed = alive ^ c->alive;
	int k;

	for (k = 0; k < c->nvoters; k++) {
		const struct hablk_node *n = c->voters[k];

		if (n == c->self || !(changed & 1u << n->id))
			continue;
		if (alive & 1u << n->id)
			logf_(LOG_INFO, "%s: %s %s is reachable (%s%s)", c->r->name,
			      n->is_arbiter ? "arbiter" : "node", n->name,
			      hq_path_alive(&c->q, n->id, HABLK_HB_PATH_LINK, now) ? "link " : "",
			      hq_path_alive(&c->q, n->id, HABLK_HB_PATH_CONTROL, now) ? "control" : "");
		else
			logf_(LOG_WARNING, "%s: %s %s is gone", c->r->name,
			      n->is_arbiter ? "arbiter" : "node", n->name);
	}
	c->alive = alive;
}

static void tick(uint64_t now)
{
	size_t i;
	bool due;
	int k;

	for (i = 0; i < nctx; i++) {
		struct rctx *c = &ctxs[i];
		uint8_t flags = 0;

		log_liveness(c, now);
		if (c->is_arbiter) {
			arbiter_tick(c, now);
		} else {
			data_tick(c, now);
			if (c->up && c->st.conn != HABLK_CONN_CONNECTED)
				flags |= HABLK_HB_F_WANT_VOTE;
			if (c->up && c->told_quorum == 1)
				flags |= HABLK_HB_F_QUORUM;
			if (c->up && c->st.suspended)
				flags |= HABLK_HB_F_SUSPENDED;
		}
		write_status(c, now);
		due = now >= c->next_send;
		if (due)
			c->next_send = now + c->r->timing.ping_interval_ms;
		for (k = 0; k < c->nvoters; k++) {
			const struct hablk_node *to = c->voters[k];
			uint8_t f = flags;

			if (to == c->self)
				continue;
			if (c->is_arbiter && c->grant == (int)to->id)
				f |= HABLK_HB_F_GRANTED;
			if (c->is_arbiter && c->as.disk[to->id] == HABLK_ARB_OUTDATED)
				f |= HABLK_HB_F_OUTDATED;
			/* a change (a vote asked for, given, taken back) goes out at once */
			if (due || f != c->sent_flags[to->id]) {
				c->sent_flags[to->id] = f;
				send_hb(c, to, f, now);
			}
		}
	}
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

int main(int argc, char **argv)
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
	const char *config = NULL, *node = NULL;
	struct hablk_config cfg = { 0 };
	struct pollfd pfd[MAX_SOCKS];
	struct utsname u;
	struct timespec ts;
	char err[512];
	uint64_t next = 0, now;
	int ch, ret, status = 0;
	size_t i;

	while ((ch = getopt_long(argc, argv, "c:n:fh", opts, NULL)) != -1) {
		switch (ch) {
		case 'c': config = optarg; break;
		case 'n': node = optarg; break;
		case 'f': foreground = true; break;
		case 's': state_dir = optarg; break;
		case 'r': run_dir = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc) {
		usage(stderr);
		return 2;
	}
	if (config ? hablk_config_load_file(&cfg, config, err, sizeof(err)) :
		     hablk_config_load_dir(&cfg, NULL, err, sizeof(err))) {
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
	boot_id = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	ctxs = calloc(cfg.nr_res ? cfg.nr_res : 1, sizeof(*ctxs));
	if (!ctxs)
		return 1;
	for (i = 0; i < cfg.nr_res; i++) {
		ret = ctx_init(&ctxs[nctx], &cfg.res[i], node);
		if (ret < 0)
			return 1;
		if (!ret)
			nctx++;
	}
	if (!nctx) {
		logf_(LOG_ERR, "node %s is in no resource", node);
		return 2;
	}
	if (mkdir(run_dir, 0755) && errno != EEXIST)
		logf_(LOG_WARNING, "cannot create %s: %s", run_dir, strerror(errno));
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	signal(SIGHUP, on_signal);
	signal(SIGPIPE, SIG_IGN);
	for (i = 0; i < (size_t)nsocks; i++) {
		pfd[i].fd = socks[i].fd;
		pfd[i].events = POLLIN;
	}
	while (!stop) {
		now = now_ms();
		if (now >= next) {
			tick(now);
			next = now + TICK_MS;
		}
		ret = poll(pfd, (nfds_t)nsocks, (int)(next - now));
		if (ret < 0 && errno != EINTR) {
			logf_(LOG_ERR, "poll: %s", strerror(errno));
			status = 1;
			break;
		}
		now = now_ms();
		for (i = 0; ret > 0 && i < (size_t)nsocks; i++)
			if (pfd[i].revents & POLLIN)
				receive((int)i, now);
	}
	logf_(LOG_INFO, "stopping");
	for (i = 0; i < nctx; i++) {
		char path[512];

		snprintf(path, sizeof(path), "%s/%s.json", run_dir, ctxs[i].r->name);
		unlink(path);
	}
	if (nl_ok)
		hablk_nl_close(&nl);
	hablk_config_free(&cfg);
	free(ctxs);
	return status;
}
