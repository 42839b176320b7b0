// SPDX-License-Identifier: GPL-2.0
/*
 * hablkd_locks.c - a data node's lock manager for two primaries (docs/protocol.md,
 * section 12): the kernel's wants and releases (the "locks" group), the lock
 * channel to the peer's hablkd, and dlm.c deciding in between.
 */
#define _GNU_SOURCE		/* open_memstream() */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>
#include <sys/socket.h>
#include "hablkd.h"
#include "lkmsg.h"

#define MIN_HOLD_MS	10	/* a unit is kept this long before it is given up */
#define CONTENTION_MS	1000	/* extents that moved this recently are not grown into */
#define DEMOTE_RETRY_MS	2000	/* a fenced primary tries to become secondary this often */

/* --- what the lock manager does (struct hablk_dlm_ops) --- */

static int op_grant(void *ctx, uint64_t first, uint64_t count, uint64_t seq)
{
	struct hablkd_res *c = ctx;
	int ret = hablk_nl_lock(&c->d->nl, c->r->name, HABLK_LOCK_GRANT, first, count, seq);

	if (ret)
		hablkd_log(LOG_DEBUG, "%s: the kernel took no grant of extents %llu+%llu: %s",
			   c->r->name, (unsigned long long)first, (unsigned long long)count,
			   c->d->nl.errmsg);
	return ret;
}

static void op_release(void *ctx, uint64_t first, uint64_t count)
{
	struct hablkd_res *c = ctx;

	if (hablk_nl_lock(&c->d->nl, c->r->name, HABLK_LOCK_RELEASE, first, count, 0))
		hablkd_log(LOG_ERR, "%s: cannot release extents %llu+%llu: %s", c->r->name,
			   (unsigned long long)first, (unsigned long long)count, c->d->nl.errmsg);
}

static void op_take_all(void *ctx)
{
	struct hablkd_res *c = ctx;
	int ret = hablk_nl_lock(&c->d->nl, c->r->name, HABLK_LOCK_TAKE_ALL, 0, 0, 0);

	hablkd_log(ret ? LOG_ERR : LOG_NOTICE, "%s: the peer is fenced; every lock is ours: %s",
		   c->r->name, ret ? c->d->nl.errmsg : "done");
}

static void op_send(void *ctx, const struct hablk_dlm_msg *m)
{
	struct hablkd_res *c = ctx;
	uint8_t buf[HABLK_CHAN_MSG_MAX];
	int len = hablk_dlm_encode(m, buf, sizeof(buf));

	if (c->locks.overflow)
		return;		/* lost anyway: the resync after the drain tells it all */
	if (len < 0 || hablk_chan_queue(&c->locks.chan, buf, (size_t)len)) {
		hablkd_log(LOG_WARNING, "%s: the lock channel is full: the lock managers "
			   "resync once the peer has the rest", c->r->name);
		c->locks.overflow = true;
	}
}

static const struct hablk_dlm_ops dlm_ops = {
	.grant = op_grant, .release = op_release, .take_all = op_take_all, .send = op_send,
};

/* --- the lock channel --- */

/*
 * One datagram to the peer: on the replication link's path while the peer is
 * heard there, else on the control path; a message sent again goes on every
 * path (the peer drops duplicates).
 */
static void chan_send(void *ctx, const struct hablk_chan_hdr *h, const uint8_t *payload,
		      size_t len, bool again)
{
	struct hablkd_res *c = ctx;
	const struct hablk_node *peer = hablkd_node(c, c->peer);
	struct hablk_lk m = { .sender_id = (uint8_t)c->self->id, .dest_id = (uint8_t)c->peer,
			      .h = *h, .len = (uint16_t)len };
	uint8_t buf[HABLK_LK_MAX];
	struct sockaddr_storage a;
	socklen_t alen;
	int path, n, one;

	snprintf(m.res, sizeof(m.res), "%s", c->r->name);
	memcpy(m.payload, payload, len);
	n = hablk_lk_encode(&m, c->r->secret, buf, sizeof(buf));
	if (n < 0)
		return;
	one = again ? -1 : hq_path_alive(&c->q, c->peer, HABLK_HB_PATH_LINK, c->locks.now) ?
	      HABLK_HB_PATH_LINK : HABLK_HB_PATH_CONTROL;
	for (path = 0; path < HABLK_HB_PATHS; path++) {
		if ((one >= 0 && path != one) || c->sock[path] < 0 ||
		    !hablkd_path_addr(peer, path, &a, &alen))
			continue;
		(void)sendto(c->d->socks[c->sock[path]].fd, buf, (size_t)n, 0,
			     (const struct sockaddr *)&a, alen);
	}
}

static void flush(struct hablkd_res *c, uint64_t now)
{
	hablk_chan_flush(&c->locks.chan, now, chan_send, c);
}

static void deliver(void *ctx, const uint8_t *payload, size_t len)
{
	struct hablkd_res *c = ctx;
	struct hablk_dlm_msg m;

	if (hablk_dlm_decode(payload, len, &m)) {
		hablkd_log(LOG_WARNING, "%s: a malformed lock message from the peer, dropped",
			   c->r->name);
		return;
	}
	hablk_dlm_receive(&c->locks.dlm, &m, c->locks.now);
}

static void read_lock_events(struct hablkd *d, void *arg, uint64_t now);

void hablkd_locks_receive(struct hablkd *d, int sock, const uint8_t *buf, size_t len,
			  uint64_t now)
{
	char res[HABLK_LK_RES_LEN + 1];
	struct hablk_lk m;
	size_t i;
	int ret;

	if (len < HABLK_LK_HDR_LEN)
		return;
	memcpy(res, buf + 8, HABLK_LK_RES_LEN);
	res[HABLK_LK_RES_LEN] = 0;
	for (i = 0; i < d->nres; i++) {
		struct hablkd_res *c = &d->res[i];
		struct hablkd_locks *lk = &c->locks;

		if (strcmp(c->r->name, res) || c->is_arbiter)
			continue;
		ret = hablk_lk_decode(buf, len, c->r->secret, c->r->name, c->self->id, &m);
		if (ret) {
			hablkd_log(LOG_DEBUG, "%s: dropped a lock message: %s", c->r->name,
				   hablk_hb_strerror(ret));
			return;
		}
		if ((int)m.sender_id != c->peer ||
		    (c->sock[HABLK_HB_PATH_LINK] != sock && c->sock[HABLK_HB_PATH_CONTROL] != sock) ||
		    !lk->ready)
			return;
		lk->now = now;
		hablk_chan_input(&lk->chan, &m.h, m.payload, m.len, now, deliver, c);
		/*
		 * A release the message asked for may be done already (no write
		 * was in flight there): its event is waiting; answer it now,
		 * in the same datagram as the ack.
		 */
		if (d->lock_ev_ok)
			read_lock_events(d, NULL, now);
		flush(c, now);
		return;
	}
}

/* --- the kernel's events --- */

static struct hablkd_res *res_named(struct hablkd *d, const char *name)
{
	size_t i;

	for (i = 0; i < d->nres; i++)
		if (!d->res[i].is_arbiter && !strcmp(d->res[i].r->name, name))
			return &d->res[i];
	return NULL;
}

static void on_lock_event(const char *name, int op, uint64_t first, uint64_t count, void *arg)
{
	struct hablkd *d = arg;
	struct hablkd_res *c = res_named(d, name);

	if (!c || !c->locks.ready)
		return;
	if (op == HABLK_LOCK_WANT)
		hablk_dlm_kernel_want(&c->locks.dlm, first, count, d->lock_now);
	else if (op == HABLK_LOCK_RELEASED)
		hablk_dlm_kernel_released(&c->locks.dlm, first, count, d->lock_now);
	flush(c, d->lock_now);
}

static void read_lock_events(struct hablkd *d, void *arg, uint64_t now)
{
	size_t i;

	(void)arg;
	d->lock_now = now;
	if (hablk_nl_lock_events(&d->lock_ev, on_lock_event, d) != -ENOBUFS)
		return;
	/* events were lost: every lock manager learns its kernel's table again */
	hablkd_log(LOG_WARNING, "kernel lock events were lost; relearning the lock tables");
	for (i = 0; i < d->nres; i++)
		hablkd_locks_stop(&d->res[i]);
}

/* The "locks" group, joined once, polled by the main loop. */
static int lock_events_open(struct hablkd *d)
{
	if (d->lock_ev_ok)
		return 0;
	if (hablk_nl_open(&d->lock_ev))
		return -1;
	if (hablk_nl_subscribe_locks(&d->lock_ev) ||
	    hablkd_watch(d, nl_socket_get_fd(d->lock_ev.sk), read_lock_events, NULL)) {
		hablk_nl_close(&d->lock_ev);
		return -1;
	}
	d->lock_ev_ok = true;
	return 0;
}

/* --- set up from the kernel's table, and torn down --- */

static int learn_run(int op, uint64_t first, uint64_t count, unsigned int extent, void *arg)
{
	struct hablkd_res *c = arg;
	struct hablkd_locks *lk = &c->locks;

	(void)extent;
	if (op == HABLK_LOCK_HELD)
		hablk_dlm_kernel_held(&lk->dlm, first, count, lk->now);
	else if (op == HABLK_LOCK_RELEASING)
		hablk_dlm_kernel_releasing(&lk->dlm, first, count);
	else if (op == HABLK_LOCK_WANT)
		hablk_dlm_kernel_want(&lk->dlm, first, count, lk->now);
	return 0;
}

void hablkd_locks_stop(struct hablkd_res *c)
{
	struct hablkd_locks *lk = &c->locks;

	if (!lk->ready)
		return;
	lk->grant_seq = lk->dlm.grant_seq;	/* the next manager numbers on */
	lk->seen_seq = lk->dlm.seen_seq;
	hablk_dlm_free(&lk->dlm);
	lk->ready = false;
	if (lk->map_text) {
		char path[512];

		snprintf(path, sizeof(path), "%s/%s.locks", c->d->run_dir, c->r->name);
		unlink(path);
		free(lk->map_text);
		lk->map_text = NULL;
	}
}

/* The manager for the kernel's table as it is now (events first, so none is missed). */
static void start(struct hablkd_res *c, uint64_t now)
{
	struct hablkd_locks *lk = &c->locks;
	const struct hablk_status *st = &c->data.st;
	uint64_t extent_sectors = st->lock_extent / 512;
	int ret;

	if (!st->lock_extent || lock_events_open(c->d))
		return;
	lk->size_sectors = st->size_sectors;
	lk->extent = st->lock_extent;
	lk->nextents = (st->size_sectors + extent_sectors - 1) / extent_sectors;
	if (hablk_dlm_init(&lk->dlm, lk->nextents, c->self->id < (unsigned int)c->peer,
			   MIN_HOLD_MS, CONTENTION_MS, &dlm_ops, c, now)) {
		hablkd_log(LOG_ERR, "%s: no memory for the lock manager", c->r->name);
		return;
	}
	lk->now = now;
	ret = hablk_nl_locks(&c->d->nl, c->r->name, learn_run, c);
	if (ret) {
		hablkd_log(LOG_ERR, "%s: cannot read the kernel's locks: %s", c->r->name,
			   c->d->nl.errmsg);
		hablk_dlm_free(&lk->dlm);
		return;
	}
	lk->ready = true;
	lk->alone = false;
	/* the channel's session goes on: the peer has not restarted, we start over */
	if (lk->session)
		hablk_dlm_resume(&lk->dlm, lk->grant_seq, lk->seen_seq, now);
	hablkd_log(LOG_INFO, "%s: lock manager up, %s of %llu extents of %u KiB", c->r->name,
		   lk->dlm.master ? "master" : "follower", (unsigned long long)lk->nextents,
		   st->lock_extent >> 10);
}

void hablkd_locks_init(struct hablkd_res *c)
{
	c->locks.on = c->r->allow_two_primaries && c->peer >= 0;
	/* one channel per run of hablkd: its sessions outlive a manager made again */
	hablk_chan_init(&c->locks.chan, c->d->boot_id);
}

/* --- every tick, after hablk_decide() --- */

/* A fenced primary (the peer went on without it) is made secondary once nothing has it open. */
static void demote_fenced(struct hablkd_res *c, uint64_t now)
{
	const struct hablk_status *st = &c->data.st;
	int ret;

	if (st->role != HABLK_ROLE_PRIMARY || st->disk != HABLK_DISK_OUTDATED ||
	    now < c->locks.demote_at)
		return;
	c->locks.demote_at = now + DEMOTE_RETRY_MS;
	ret = hablk_nl_res_cmd(&c->d->nl, HABLK_CMD_SECONDARY, c->r->name, false);
	if (!ret)
		hablkd_log(LOG_NOTICE, "%s: fenced: made secondary; it resyncs from the peer",
			   c->r->name);
}

void hablkd_locks_tick(struct hablkd_res *c, bool quorum, uint64_t now)
{
	struct hablkd_locks *lk = &c->locks;
	const struct hablk_status *st = &c->data.st;
	bool connected = st->conn == HABLK_CONN_CONNECTED;
	uint64_t peer_boot = c->pv[c->peer].hb.boot_id;

	if (!lk->on)
		return;
	demote_fenced(c, now);
	if (lk->ready && (st->size_sectors != lk->size_sectors || st->lock_extent != lk->extent))
		hablkd_locks_stop(c);	/* grown, or up again otherwise: a new table */
	if (!lk->ready)
		start(c, now);
	if (!lk->ready)
		return;
	lk->now = now;
	/* a new run of the peer's hablkd (its fresh heartbeats say which): a new session */
	if (peer_boot && hablk_chan_peer(&lk->chan, peer_boot)) {
		lk->overflow = false;	/* the new session starts from what each holds */
		lk->session = true;
		hablk_dlm_session(&lk->dlm, now);
	}
	if (lk->overflow && !lk->chan.qlen) {
		lk->overflow = false;
		hablk_dlm_resync(&lk->dlm, now);
	}
	hablk_dlm_link(&lk->dlm, connected, now);
	if (connected && st->peer_role == HABLK_ROLE_SECONDARY)
		hablk_dlm_peer_secondary(&lk->dlm, now);
	/*
	 * Apart with quorum (the arbiter's vote, or a handler fenced the peer):
	 * the peer is fenced; a primary takes every lock before its frozen
	 * writes go (the thaw follows this, in hablkd_data_tick).
	 */
	lk->alone = !connected && quorum && st->role == HABLK_ROLE_PRIMARY;
	hablk_dlm_alone(&lk->dlm, lk->alone, now);
	hablk_dlm_tick(&lk->dlm, now);
	flush(c, now);
	hablkd_locks_write(c);
}

/* Between ticks: a unit's minimum hold over, a message to send again. */
uint64_t hablkd_locks_next(const struct hablkd *d)
{
	uint64_t next = UINT64_MAX, t;
	size_t i;

	for (i = 0; i < d->nres; i++) {
		const struct hablkd_locks *lk = &d->res[i].locks;

		if (!lk->ready)
			continue;
		t = hablk_dlm_next_timer(&lk->dlm);
		if (t < next)
			next = t;
		t = hablk_chan_next_timer(&lk->chan);
		if (t < next)
			next = t;
	}
	return next;
}

void hablkd_locks_timers(struct hablkd *d, uint64_t now)
{
	size_t i;

	for (i = 0; i < d->nres; i++) {
		struct hablkd_res *c = &d->res[i];

		if (!c->locks.ready)
			continue;
		c->locks.now = now;
		hablk_dlm_tick(&c->locks.dlm, now);
		flush(c, now);
	}
}

/*
 * The master's map of the peer's holdings, for hablkadm locks: RUN_DIR/RES.locks,
 * {"pid":PID,"peer":NAME,"runs":[[FIRST,COUNT],...]}, replaced when it changes.
 */
void hablkd_locks_write(struct hablkd_res *c)
{
	struct hablkd_locks *lk = &c->locks;
	char path[512], *text = NULL;
	const char *sep = "";
	uint64_t e, n;
	size_t len = 0;
	FILE *f;

	if (!lk->ready || !lk->dlm.master)
		return;
	f = open_memstream(&text, &len);
	if (!f)
		return;
	fprintf(f, "{\"pid\":%d,\"peer\":\"%s\",\"runs\":[", (int)getpid(),
		hablkd_node(c, c->peer)->name);
	for (e = 0; (e = hablk_dlm_next_run(&lk->dlm, true, e, &n)) < lk->nextents; e += n) {
		fprintf(f, "%s[%llu,%llu]", sep, (unsigned long long)e, (unsigned long long)n);
		sep = ",";
	}
	fprintf(f, "]}\n");
	if (fclose(f) || (lk->map_text && !strcmp(text, lk->map_text))) {
		free(text);
		return;
	}
	snprintf(path, sizeof(path), "%s/%s.locks", c->d->run_dir, c->r->name);
	if (hablkd_replace_file(path, text)) {
		free(text);
		return;
	}
	free(lk->map_text);
	lk->map_text = text;
}

/* Its part of the view: who masters, what each node holds, what moved. */
void hablkd_locks_view(const struct hablkd_res *c, struct hablk_view *v)
{
	const struct hablkd_locks *lk = &c->locks;
	const struct hablk_dlm_stats *s = &lk->dlm.st;
	uint64_t e, n, held = 0, peer_held = 0;

	if (!lk->on || !lk->ready)
		return;
	for (e = 0; (e = hablk_dlm_next_run(&lk->dlm, false, e, &n)) < lk->nextents; e += n)
		held += n;
	for (e = 0; (e = hablk_dlm_next_run(&lk->dlm, true, e, &n)) < lk->nextents; e += n)
		peer_held += n;
	v->has_locks = true;
	snprintf(v->locks.role, sizeof(v->locks.role), "%s", lk->dlm.master ? "master" : "follower");
	v->locks.session = lk->dlm.session;
	v->locks.alone = lk->alone;
	v->locks.extents = lk->nextents;
	v->locks.held = held;
	v->locks.peer_held = lk->dlm.master ? (int64_t)peer_held : -1;
	v->locks.transfers = s->transfers;
	v->locks.blocks = s->blocks;
	v->locks.retransmits = lk->chan.retransmits;
}
