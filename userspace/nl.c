/* nl.c - generic netlink client for the "hablk" family: requests with the
 * kernel's extended-ack message, status dumps, event subscription. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/netlink.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include "../kernel/uapi/linux/hablk.h"
#include "nl.h"

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

static const char *const role_names[] = { "secondary", "primary", "unknown" };
static const char *const disk_names[] = {
	"diskless", "failed", "inconsistent", "outdated", "uptodate", "unknown",
};
static const char *const conn_names[] = { "standalone", "connecting", "connected" };
static const char *const repl_names[] = {
	"off", "established", "sync-source", "sync-target", "verify-source",
	"verify-target", "paused",
};

#define NAME_OF(tab, i) ((unsigned int)(i) < sizeof(tab) / sizeof(tab[0]) ? tab[i] : "unknown")

const char *hablk_role_name(int r) { return NAME_OF(role_names, r); }
const char *hablk_disk_name(int d) { return NAME_OF(disk_names, d); }
const char *hablk_conn_name(int c) { return NAME_OF(conn_names, c); }
const char *hablk_repl_name(int r) { return NAME_OF(repl_names, r); }

/* The extended ack's message, if the kernel gave one. */
static int err_cb(struct sockaddr_nl *nla, struct nlmsgerr *e, void *arg)
{
	struct hablk_nl *nl = arg;
	struct nlmsghdr *nlh = (struct nlmsghdr *)((char *)e - NLMSG_HDRLEN);
	struct nlattr *tb[NLMSGERR_ATTR_MAX + 1];
	int ack_len = sizeof(*e);
	int len;

	(void)nla;
	nl->err = e->error;
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
		ack_len += e->msg.nlmsg_len - NLMSG_HDRLEN;
	len = (int)nlh->nlmsg_len - NLMSG_HDRLEN - ack_len;
	if ((nlh->nlmsg_flags & NLM_F_ACK_TLVS) && len > 0 &&
	    !nla_parse(tb, NLMSGERR_ATTR_MAX, (struct nlattr *)((char *)e + ack_len), len, NULL) &&
	    tb[NLMSGERR_ATTR_MSG])
		snprintf(nl->errmsg, sizeof(nl->errmsg), "%s", (char *)nla_data(tb[NLMSGERR_ATTR_MSG]));
	return NL_STOP;
}

static int ack_cb(struct nl_msg *msg, void *arg)
{
	(void)msg;
	((struct hablk_nl *)arg)->err = 0;
	return NL_STOP;
}

int hablk_nl_open(struct hablk_nl *nl)
{
	int one = 1;

	memset(nl, 0, sizeof(*nl));
	nl->sk = nl_socket_alloc();
	if (!nl->sk)
		return -ENOMEM;
	if (genl_connect(nl->sk)) {
		nl_socket_free(nl->sk);
		nl->sk = NULL;
		return -ECONNREFUSED;
	}
	setsockopt(nl_socket_get_fd(nl->sk), SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	setsockopt(nl_socket_get_fd(nl->sk), SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
	nl->family = genl_ctrl_resolve(nl->sk, HABLK_GENL_NAME);
	if (nl->family < 0) {
		nl_socket_free(nl->sk);
		nl->sk = NULL;
		return -ENOENT;
	}
	return 0;
}

void hablk_nl_close(struct hablk_nl *nl)
{
	if (nl->sk)
		nl_socket_free(nl->sk);
	nl->sk = NULL;
}

struct nl_msg *hablk_nl_msg(struct hablk_nl *nl, int cmd, int flags)
{
	struct nl_msg *msg = nlmsg_alloc();

	if (msg && !genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, nl->family, 0, flags,
				cmd, HABLK_GENL_VERSION)) {
		nlmsg_free(msg);
		msg = NULL;
	}
	return msg;
}

static int run(struct hablk_nl *nl, struct nl_msg *msg, nl_recvmsg_msg_cb_t valid, void *arg)
{
	struct nl_cb *cb = nl_cb_alloc(NL_CB_DEFAULT);
	int ret;

	if (!cb) {
		nlmsg_free(msg);
		return -ENOMEM;
	}
	nl->err = 1;
	nl->errmsg[0] = 0;
	nl_cb_err(cb, NL_CB_CUSTOM, err_cb, nl);
	nl_cb_set(cb, NL_CB_ACK, NL_CB_CUSTOM, ack_cb, nl);
	nl_cb_set(cb, NL_CB_FINISH, NL_CB_CUSTOM, ack_cb, nl);
	if (valid)
		nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, valid, arg);
	ret = nl_send_auto(nl->sk, msg);
	nlmsg_free(msg);
	if (ret < 0) {
		nl->err = -EIO;
		goto out;
	}
	while (nl->err > 0) {
		ret = nl_recvmsgs(nl->sk, cb);
		if (ret < 0 && nl->err > 0)
			nl->err = -EIO;
	}
out:
	nl_cb_put(cb);
	if (nl->err && !nl->errmsg[0])
		snprintf(nl->errmsg, sizeof(nl->errmsg), "%s", strerror(-nl->err));
	return nl->err;
}

int hablk_nl_do(struct hablk_nl *nl, struct nl_msg *msg)
{
	nlmsg_hdr(msg)->nlmsg_flags |= NLM_F_ACK;
	return run(nl, msg, NULL, NULL);
}

static void parse_status(struct nlattr **a, struct hablk_status *s)
{
	struct nlattr *p[HABLK_A_MAX + 1];

	memset(s, 0, sizeof(*s));
	s->role = s->disk = s->peer_role = s->peer_disk = -1;
	if (a[HABLK_A_RES_NAME])
		snprintf(s->name, sizeof(s->name), "%s", nla_get_string(a[HABLK_A_RES_NAME]));
	if (a[HABLK_A_MINOR])
		s->minor = nla_get_u32(a[HABLK_A_MINOR]);
	if (a[HABLK_A_PROTOCOL])
		s->protocol = (char)nla_get_u8(a[HABLK_A_PROTOCOL]);
	if (a[HABLK_A_LOCAL_ID])
		s->local_id = nla_get_u32(a[HABLK_A_LOCAL_ID]);
	if (a[HABLK_A_ROLE])
		s->role = nla_get_u8(a[HABLK_A_ROLE]);
	if (a[HABLK_A_DISK_STATE])
		s->disk = nla_get_u8(a[HABLK_A_DISK_STATE]);
	if (a[HABLK_A_SUSPENDED])
		s->suspended = nla_get_u8(a[HABLK_A_SUSPENDED]);
	s->quorum = !a[HABLK_A_QUORUM] || nla_get_u8(a[HABLK_A_QUORUM]);
	if (a[HABLK_A_MANAGED])
		s->managed = nla_get_u8(a[HABLK_A_MANAGED]);
	if (a[HABLK_A_SIZE_SECTORS])
		s->size_sectors = nla_get_u64(a[HABLK_A_SIZE_SECTORS]);
	if (a[HABLK_A_CURRENT_UUID])
		s->current_uuid = nla_get_u64(a[HABLK_A_CURRENT_UUID]);
	if (a[HABLK_A_BM_BLOCK])
		s->bm_block = nla_get_u32(a[HABLK_A_BM_BLOCK]);
	if (a[HABLK_A_EVENT_WHAT])
		snprintf(s->what, sizeof(s->what), "%s", nla_get_string(a[HABLK_A_EVENT_WHAT]));
	if (!a[HABLK_A_PEER] || nla_parse_nested(p, HABLK_A_MAX, a[HABLK_A_PEER], NULL))
		return;
	if (p[HABLK_A_PEER_ID])
		s->peer_id = nla_get_u32(p[HABLK_A_PEER_ID]);
	if (p[HABLK_A_PEER_NAME])
		snprintf(s->peer_name, sizeof(s->peer_name), "%s", nla_get_string(p[HABLK_A_PEER_NAME]));
	if (p[HABLK_A_CONN_STATE])
		s->conn = nla_get_u8(p[HABLK_A_CONN_STATE]);
	if (p[HABLK_A_PEER_ROLE])
		s->peer_role = nla_get_u8(p[HABLK_A_PEER_ROLE]);
	if (p[HABLK_A_PEER_DISK])
		s->peer_disk = nla_get_u8(p[HABLK_A_PEER_DISK]);
	if (p[HABLK_A_REPL_STATE])
		s->repl = nla_get_u8(p[HABLK_A_REPL_STATE]);
	if (p[HABLK_A_OOS_SECTORS])
		s->oos_sectors = nla_get_u64(p[HABLK_A_OOS_SECTORS]);
	if (p[HABLK_A_SYNC_TOTAL])
		s->sync_total = nla_get_u64(p[HABLK_A_SYNC_TOTAL]);
	if (p[HABLK_A_SYNC_DONE])
		s->sync_done = nla_get_u64(p[HABLK_A_SYNC_DONE]);
	if (p[HABLK_A_SYNC_ELAPSED_MS])
		s->sync_elapsed_ms = nla_get_u64(p[HABLK_A_SYNC_ELAPSED_MS]);
	if (p[HABLK_A_LAST_ERROR])
		snprintf(s->last_error, sizeof(s->last_error), "%s", nla_get_string(p[HABLK_A_LAST_ERROR]));
}

struct collect {
	struct hablk_status *v;
	size_t n;
	int err;
};

static int status_cb(struct nl_msg *msg, void *arg)
{
	struct collect *c = arg;
	struct nlattr *a[HABLK_A_MAX + 1];
	struct hablk_status *v;

	if (genlmsg_hdr(nlmsg_hdr(msg))->cmd != HABLK_CMD_GET_STATUS ||
	    genlmsg_parse(nlmsg_hdr(msg), 0, a, HABLK_A_MAX, NULL))
		return NL_SKIP;
	v = realloc(c->v, (c->n + 1) * sizeof(*v));
	if (!v) {
		c->err = -ENOMEM;
		return NL_STOP;
	}
	c->v = v;
	parse_status(a, &c->v[c->n++]);
	return NL_OK;
}

int hablk_nl_status(struct hablk_nl *nl, const char *name, struct hablk_status **out,
		    size_t *n)
{
	struct collect c = { 0 };
	struct nl_msg *msg;
	int ret;

	msg = hablk_nl_msg(nl, HABLK_CMD_GET_STATUS, name ? 0 : NLM_F_DUMP);
	if (!msg)
		return -ENOMEM;
	if (name && nla_put_string(msg, HABLK_A_RES_NAME, name)) {
		nlmsg_free(msg);
		return -EINVAL;
	}
	if (name)
		nlmsg_hdr(msg)->nlmsg_flags |= NLM_F_ACK;
	ret = run(nl, msg, status_cb, &c);
	if (!ret)
		ret = c.err;
	if (ret) {
		free(c.v);
		return ret;
	}
	*out = c.v;
	*n = c.n;
	return 0;
}

static int no_seq_check(struct nl_msg *msg, void *arg)
{
	(void)msg;
	(void)arg;
	return NL_OK;
}

struct bitmap_arg {
	int (*fn)(uint64_t first, const uint64_t *words, size_t n, unsigned int bm_block,
		  void *arg);
	void *arg;
	int err;
};

static int bitmap_cb(struct nl_msg *msg, void *arg)
{
	struct bitmap_arg *b = arg;
	struct nlattr *a[HABLK_A_MAX + 1];
	unsigned int bm_block;

	if (genlmsg_hdr(nlmsg_hdr(msg))->cmd != HABLK_CMD_GET_BITMAP ||
	    genlmsg_parse(nlmsg_hdr(msg), 0, a, HABLK_A_MAX, NULL) ||
	    !a[HABLK_A_BITMAP_FIRST] || !a[HABLK_A_BITMAP_WORDS] || !a[HABLK_A_BM_BLOCK])
		return NL_SKIP;
	bm_block = nla_get_u32(a[HABLK_A_BM_BLOCK]);
	if (bm_block < 4096 || (bm_block & (bm_block - 1))) {
		b->err = -EPROTO;
		return NL_STOP;
	}
	b->err = b->fn(nla_get_u64(a[HABLK_A_BITMAP_FIRST]), nla_data(a[HABLK_A_BITMAP_WORDS]),
		       (size_t)nla_len(a[HABLK_A_BITMAP_WORDS]) / 8, bm_block, b->arg);
	return b->err ? NL_STOP : NL_OK;
}

int hablk_nl_bitmap(struct hablk_nl *nl, const char *name,
		    int (*fn)(uint64_t first, const uint64_t *words, size_t n,
			      unsigned int bm_block, void *arg),
		    void *arg)
{
	struct bitmap_arg b = { .fn = fn, .arg = arg };
	struct nl_msg *msg;
	int ret;

	msg = hablk_nl_msg(nl, HABLK_CMD_GET_BITMAP, NLM_F_DUMP);
	if (!msg)
		return -ENOMEM;
	if (nla_put_string(msg, HABLK_A_RES_NAME, name)) {
		nlmsg_free(msg);
		return -EINVAL;
	}
	ret = run(nl, msg, bitmap_cb, &b);
	return ret ? ret : b.err;
}

int hablk_nl_res_cmd(struct hablk_nl *nl, int cmd, const char *name, bool force)
{
	struct nl_msg *msg = hablk_nl_msg(nl, cmd, 0);

	if (!msg)
		return -ENOMEM;
	if (nla_put_string(msg, HABLK_A_RES_NAME, name) ||
	    (force && nla_put_flag(msg, HABLK_A_FORCE))) {
		nlmsg_free(msg);
		return -EINVAL;
	}
	return hablk_nl_do(nl, msg);
}

int hablk_nl_set_quorum(struct hablk_nl *nl, const char *name, bool quorum, bool thaw)
{
	struct nl_msg *msg = hablk_nl_msg(nl, HABLK_CMD_SET_QUORUM, 0);

	if (!msg)
		return -ENOMEM;
	if (nla_put_string(msg, HABLK_A_RES_NAME, name) ||
	    nla_put_u8(msg, HABLK_A_QUORUM, quorum) ||
	    (thaw && nla_put_flag(msg, HABLK_A_THAW))) {
		nlmsg_free(msg);
		return -EINVAL;
	}
	return hablk_nl_do(nl, msg);
}

struct event_arg {
	struct hablk_status *ev;
	int got;
};

static int event_cb(struct nl_msg *msg, void *arg)
{
	struct event_arg *e = arg;
	struct nlattr *a[HABLK_A_MAX + 1];

	if (genlmsg_hdr(nlmsg_hdr(msg))->cmd != HABLK_CMD_EVENT ||
	    genlmsg_parse(nlmsg_hdr(msg), 0, a, HABLK_A_MAX, NULL))
		return NL_SKIP;
	parse_status(a, e->ev);
	e->got = 1;
	return NL_STOP;
}

int hablk_nl_subscribe(struct hablk_nl *nl)
{
	int grp = genl_ctrl_resolve_grp(nl->sk, HABLK_GENL_NAME, HABLK_GENL_MCGRP_EVENTS);

	if (grp < 0)
		return -ENOENT;
	return nl_socket_add_membership(nl->sk, grp) ? -EIO : 0;
}

int hablk_nl_next_event(struct hablk_nl *nl, struct hablk_status *ev, int timeout_ms)
{
	struct event_arg e = { .ev = ev };
	struct pollfd pfd = { .fd = nl_socket_get_fd(nl->sk), .events = POLLIN };
	struct nl_cb *cb;
	int ret = 0;

	cb = nl_cb_alloc(NL_CB_DEFAULT);
	if (!cb)
		return -ENOMEM;
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, event_cb, &e);
	nl_cb_set(cb, NL_CB_SEQ_CHECK, NL_CB_CUSTOM, no_seq_check, NULL);
	while (!e.got) {
		ret = poll(&pfd, 1, timeout_ms);
		if (ret < 0 && errno == EINTR)
			continue;
		if (ret <= 0)
			break;
		if (nl_recvmsgs(nl->sk, cb) < 0) {
			ret = -EIO;
			break;
		}
	}
	nl_cb_put(cb);
	return e.got ? 1 : ret < 0 ? ret : 0;
}
