// SPDX-License-Identifier: GPL-2.0
/* hablkd_data.c - hablkd on a data node: every tick the kernel's state, then
 * hablk_decide() says whether to tell it quorum, thaw, fence, promote or outdate. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include "../kernel/uapi/linux/hablk.h"
#include "decide.h"
#include "hablkd.h"

#define PROMOTE_RETRY_MS	2000	/* a refused promotion is tried again, not hammered */

void hablkd_data_init(struct hablkd_res *c)
{
	c->data.told_quorum = -1;
}

void hablkd_data_heard(struct hablkd_res *c, const struct hablk_hb *m, uint64_t now)
{
	if ((int)m->sender_id != c->arb)
		return;
	if (m->flags & HABLK_HB_F_GRANTED)
		c->data.grant_until = now + c->timeout;
	else
		c->data.grant_until = 0;	/* taken back: at once */
	c->data.told_outdated = m->flags & HABLK_HB_F_OUTDATED;
}

uint8_t hablkd_data_flags(const struct hablkd_res *c)
{
	const struct hablkd_data *dn = &c->data;
	uint8_t f = 0;

	if (dn->up && dn->st.conn != HABLK_CONN_CONNECTED)
		f |= HABLK_HB_F_WANT_VOTE;
	if (dn->up && dn->told_quorum == 1)
		f |= HABLK_HB_F_QUORUM;
	if (dn->up && dn->st.suspended)
		f |= HABLK_HB_F_SUSPENDED;
	return f;
}

void hablkd_data_view(const struct hablkd_res *c, uint64_t now, struct hablk_view *v)
{
	const struct hq *q = &c->q;
	bool connected = c->data.up && c->data.st.conn == HABLK_CONN_CONNECTED;
	bool peer_link = hq_path_alive(q, c->peer, HABLK_HB_PATH_LINK, now);
	bool peer_any = hq_alive(q, c->peer, now);

	v->quorum = c->data.told_quorum == 1;
	snprintf(v->arbiter, sizeof(v->arbiter), "%s", c->arb < 0 ? "none" :
		 hq_alive(q, c->arb, now) ? "reachable" : "unreachable");
	v->arbiter_vote = c->arb >= 0 && now < c->data.grant_until;
	snprintf(v->peer, sizeof(v->peer), "%s", connected ? "replicating" :
		 peer_any && !peer_link && c->sock[HABLK_HB_PATH_LINK] >= 0 ?
		 "alive, replication link cut" : peer_any ? "alive, not replicating" : "gone");
	hablkd_fence_describe(c, v->fencing, sizeof(v->fencing));
}

/* The kernel's state of the resource into c->data.st; c->data.up says if it has it. */
static void kernel_refresh(struct hablkd_res *c)
{
	struct hablkd *d = c->d;
	struct hablk_status *v = NULL;
	size_t n = 0;

	c->data.up = false;
	if (!d->nl_ok && !hablk_nl_open(&d->nl))
		d->nl_ok = true;
	if (!d->nl_ok || hablk_nl_status(&d->nl, c->r->name, &v, &n) || n != 1) {
		free(v);
		return;
	}
	c->data.st = v[0];
	c->data.up = true;
	free(v);
}

/* Why a kernel request failed: the kernel's message, or the error's. */
static const char *nl_reason(const struct hablkd_res *c, int ret)
{
	return c->d->nl.errmsg[0] ? c->d->nl.errmsg : strerror(-ret);
}

static void inputs(const struct hablkd_res *c, uint64_t now, struct hablk_decide_in *in)
{
	const struct hablk_status *st = &c->data.st;

	memset(in, 0, sizeof(*in));
	in->connected = st->conn == HABLK_CONN_CONNECTED;
	/* a fresh message carried the vote: no damping, a restart of ours keeps it */
	in->granted = c->arb >= 0 && now < c->data.grant_until;
	in->has_arbiter = c->arb >= 0;
	in->has_handler = c->r->fence_peer[0];
	in->fenced = hablkd_fence_done(c);
	in->fence_busy = hablkd_fence_busy(c, now);
	in->primary = st->role == HABLK_ROLE_PRIMARY;
	in->uptodate = st->disk == HABLK_DISK_UPTODATE;
	in->suspended = st->suspended;
	/*
	 * For promotion the peer must have been silent for two timeouts, not
	 * one: a link that flaps under load must not move the primary. (Alive
	 * implies heard within one timeout, so this covers it.)
	 */
	in->peer_alive = hq_heard_within(&c->q, c->peer, 2ull * c->timeout, now);
	in->auto_promote = c->r->auto_promote;
	in->told_outdated = c->data.told_outdated;
	in->two_primaries = c->r->allow_two_primaries;
}

static void outdate(struct hablkd_res *c)
{
	int ret = hablk_nl_res_cmd(&c->d->nl, HABLK_CMD_OUTDATE, c->r->name, false);

	hablkd_log(ret ? LOG_ERR : LOG_WARNING, "%s: the arbiter records this node outdated: %s",
		   c->r->name, ret ? nl_reason(c, ret) : "disk marked Outdated");
}

/*
 * The verdict for the kernel: again when the kernel disagrees, and when it
 * froze on its own (a lost link) where on-no-quorum io-error wants writes
 * failed instead.
 */
static void tell_quorum(struct hablkd_res *c, const struct hablk_decide_in *in,
			const struct hablk_decide_out *out)
{
	struct hablkd_data *dn = &c->data;
	int ret;

	if (!(out->quorum != dn->told_quorum || out->thaw || !dn->st.managed ||
	      dn->st.quorum != out->quorum ||
	      (!out->quorum && dn->st.suspended && c->r->on_no_quorum == HABLK_QP_IO_ERROR)))
		return;
	ret = hablk_nl_set_quorum(&c->d->nl, c->r->name, out->quorum, out->thaw);
	if (ret)
		hablkd_log(LOG_ERR, "%s: telling the kernel about quorum failed: %s", c->r->name,
			   nl_reason(c, ret));
	else if (out->quorum != dn->told_quorum || out->thaw)
		hablkd_log(out->quorum ? LOG_INFO : LOG_WARNING, "%s: %s%s", c->r->name,
			   out->quorum ? (in->connected ? "quorum: replicating" :
					  in->granted ? "quorum: the arbiter's vote" :
					  "quorum: the peer is fenced") : "no quorum",
			   out->thaw ? "; frozen I/O resumed" : "");
	dn->told_quorum = out->quorum;
}

/* A survivor takes over when the primary is gone for good and it is safe. */
static void promote(struct hablkd_res *c, uint64_t now)
{
	int ret;

	c->data.promote_at = now + PROMOTE_RETRY_MS;
	ret = hablk_nl_res_cmd(&c->d->nl, HABLK_CMD_PRIMARY, c->r->name, false);
	hablkd_log(ret ? LOG_ERR : LOG_NOTICE, "%s: peer %s is gone; promoting: %s", c->r->name,
		   hablkd_node(c, c->peer)->name, ret ? nl_reason(c, ret) : "done");
}

void hablkd_data_tick(struct hablkd_res *c, uint64_t now)
{
	struct hablk_decide_in in;
	struct hablk_decide_out out;

	kernel_refresh(c);
	if (!c->data.up) {
		hablkd_locks_stop(c);	/* down: the next up starts with an empty table */
		return;
	}
	hablkd_fence_watch(c, c->data.st.conn == HABLK_CONN_CONNECTED, now);
	inputs(c, now, &in);
	hablk_decide(&in, &out);
	if (out.outdate)
		outdate(c);
	if (out.fence)
		hablkd_fence_start(c, now);
	/* two primaries: a survivor takes every lock before its frozen writes go */
	hablkd_locks_tick(c, out.quorum, now);
	tell_quorum(c, &in, &out);
	if (out.promote && now >= c->data.promote_at)
		promote(c, now);
}
