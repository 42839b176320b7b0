// SPDX-License-Identifier: GPL-2.0
/* nl.c - generic netlink client for the "hablk" family: requests with the
 * kernel's extended-ack message, status dumps, event subscription. */
#include <assert.h>
#include <errno.h>
#include <stddef.h>
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

static struct nla_policy ext_ack_policy[NLMSGERR_ATTR_MAX + 1] = {
	[NLMSGERR_ATTR_MSG] = { .type = NLA_STRING },
};

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
	    !nla_parse(tb, NLMSGERR_ATTR_MAX, (struct nlattr *)((char *)e + ack_len), len,
		       ext_ack_policy) &&
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
	/*
	 * A buffer larger than any message the kernel sends (a dump's skb is
	 * at most 32 KiB): one recvmsg() per read, without libnl's MSG_PEEK
	 * call before each (lock events and lock commands are on a handover's
	 * path).
	 */
	nl_socket_set_msg_buf_size(nl->sk, 64 << 10);
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

/* Where a status attribute is: at the top, in HABLK_A_PEER, in HABLK_A_LOCKS. */
enum nest { N_TOP, N_PEER, N_LOCKS, N_NESTS };

/* How a status attribute is read and stored. */
enum kind {
	K_STRING,	/* NUL-terminated, cut to the member's size */
	K_BOOL,		/* u8: 0 false, else true */
	K_U8,		/* u8, u32, u64: into an integer member of 1, 4 or 8 bytes */
	K_U32,
	K_U64,
};

#define MEMBER(m)	offsetof(struct hablk_status, m), sizeof(((struct hablk_status *)0)->m)

/*
 * Where each attribute of a status reply or an event goes in struct
 * hablk_status, and in which nest. The netlink policies are made from
 * these rows, so an attribute of the wrong size, a string without its NUL
 * or a name longer than the UAPI allows makes the message rejected, not
 * read. A new status field is a member of struct hablk_status and a row here.
 */
static const struct status_attr {
	int attr;
	enum kind kind;
	enum nest nest;
	size_t off, size;	/* the member */
	uint16_t maxlen;	/* strings: longest accepted, NUL included (0: any) */
} status_attrs[] = {
	{ HABLK_A_RES_NAME,	  K_STRING, N_TOP,  MEMBER(name), HABLK_NAME_LEN },
	{ HABLK_A_MINOR,	  K_U32,    N_TOP,  MEMBER(minor), 0 },
	{ HABLK_A_PROTOCOL,	  K_U8,     N_TOP,  MEMBER(protocol), 0 },
	{ HABLK_A_LOCAL_ID,	  K_U32,    N_TOP,  MEMBER(local_id), 0 },
	{ HABLK_A_ROLE,		  K_U8,     N_TOP,  MEMBER(role), 0 },
	{ HABLK_A_DISK_STATE,	  K_U8,     N_TOP,  MEMBER(disk), 0 },
	{ HABLK_A_SUSPENDED,	  K_BOOL,   N_TOP,  MEMBER(suspended), 0 },
	{ HABLK_A_QUORUM,	  K_BOOL,   N_TOP,  MEMBER(quorum), 0 },
	{ HABLK_A_MANAGED,	  K_BOOL,   N_TOP,  MEMBER(managed), 0 },
	{ HABLK_A_SIZE_SECTORS,	  K_U64,    N_TOP,  MEMBER(size_sectors), 0 },
	{ HABLK_A_CURRENT_UUID,	  K_U64,    N_TOP,  MEMBER(current_uuid), 0 },
	{ HABLK_A_BM_BLOCK,	  K_U32,    N_TOP,  MEMBER(bm_block), 0 },
	{ HABLK_A_EVENT_WHAT,	  K_STRING, N_TOP,  MEMBER(what), 0 },
	{ HABLK_A_PEER_ID,	  K_U32,    N_PEER, MEMBER(peer_id), 0 },
	{ HABLK_A_PEER_NAME,	  K_STRING, N_PEER, MEMBER(peer_name), HABLK_NAME_LEN },
	{ HABLK_A_CONN_STATE,	  K_U8,     N_PEER, MEMBER(conn), 0 },
	{ HABLK_A_PEER_ROLE,	  K_U8,     N_PEER, MEMBER(peer_role), 0 },
	{ HABLK_A_PEER_DISK,	  K_U8,     N_PEER, MEMBER(peer_disk), 0 },
	{ HABLK_A_REPL_STATE,	  K_U8,     N_PEER, MEMBER(repl), 0 },
	{ HABLK_A_OOS_SECTORS,	  K_U64,    N_PEER, MEMBER(oos_sectors), 0 },
	{ HABLK_A_SYNC_TOTAL,	  K_U64,    N_PEER, MEMBER(sync_total), 0 },
	{ HABLK_A_SYNC_DONE,	  K_U64,    N_PEER, MEMBER(sync_done), 0 },
	{ HABLK_A_SYNC_ELAPSED_MS, K_U64,   N_PEER, MEMBER(sync_elapsed_ms), 0 },
	{ HABLK_A_LAST_ERROR,	  K_STRING, N_PEER, MEMBER(last_error), 0 },
	{ HABLK_A_TWO_PRIMARIES,  K_BOOL,   N_TOP,  MEMBER(two_primaries), 0 },
	{ HABLK_A_LOCK_EXTENT,	  K_U32,    N_LOCKS, MEMBER(lock_extent), 0 },
	{ HABLK_A_LOCKS_HELD,	  K_U64,    N_LOCKS, MEMBER(locks_held), 0 },
	{ HABLK_A_LOCK_WAITERS,	  K_U32,    N_LOCKS, MEMBER(lock_waiters), 0 },
	{ HABLK_A_LOCK_GRANTS,	  K_U64,    N_LOCKS, MEMBER(lock_grants), 0 },
	{ HABLK_A_LOCK_RELEASES,  K_U64,    N_LOCKS, MEMBER(lock_releases), 0 },
	{ HABLK_A_LOCK_WAITS,	  K_U64,    N_LOCKS, MEMBER(lock_waits), 0 },
	{ HABLK_A_LOCK_WAIT_US,	  K_U64,    N_LOCKS, MEMBER(lock_wait_us), 0 },
};

#define NR_STATUS_ATTRS	(sizeof(status_attrs) / sizeof(status_attrs[0]))

/* The policies of a status message and of its nests, from status_attrs. */
static struct nla_policy policy[N_NESTS][HABLK_A_MAX + 1];

static void policies_init(void)
{
	static const struct nla_policy of_kind[] = {
		[K_STRING] = { .type = NLA_STRING },
		[K_BOOL] = { .type = NLA_U8, .minlen = 1, .maxlen = 1 },
		[K_U8] = { .type = NLA_U8, .minlen = 1, .maxlen = 1 },
		[K_U32] = { .type = NLA_U32, .minlen = 4, .maxlen = 4 },
		[K_U64] = { .type = NLA_U64, .minlen = 8, .maxlen = 8 },
	};
	static bool done;
	const struct status_attr *a;
	struct nla_policy *pol;

	if (done)
		return;
	for (a = status_attrs; a < status_attrs + NR_STATUS_ATTRS; a++) {
		assert(a->kind == K_STRING || a->size == 1 || a->size == 4 || a->size == 8);
		pol = &policy[a->nest][a->attr];
		*pol = of_kind[a->kind];
		if (a->maxlen)
			pol->maxlen = a->maxlen;
	}
	policy[N_TOP][HABLK_A_PEER].type = NLA_NESTED;
	policy[N_TOP][HABLK_A_LOCKS].type = NLA_NESTED;
	done = true;
}

static void store(struct hablk_status *s, const struct status_attr *a, struct nlattr *nla)
{
	char *dst = (char *)s + a->off;
	uint64_t v = 0;
	uint32_t v32;
	uint8_t v8;

	switch (a->kind) {
	case K_STRING:
		snprintf(dst, a->size, "%s", nla_get_string(nla));
		return;
	case K_BOOL:
		*(bool *)dst = nla_get_u8(nla) != 0;
		return;
	case K_U8:
		v = nla_get_u8(nla);
		break;
	case K_U32:
		v = nla_get_u32(nla);
		break;
	case K_U64:
		v = nla_get_u64(nla);
		break;
	}
	v8 = (uint8_t)v;
	v32 = (uint32_t)v;
	memcpy(dst, a->size == 1 ? (void *)&v8 : a->size == 4 ? (void *)&v32 : (void *)&v, a->size);
}

int hablk_nl_parse_status(struct nlmsghdr *nlh, struct hablk_status *s)
{
	struct nlattr *a[N_NESTS][HABLK_A_MAX + 1];
	const struct status_attr *f;

	policies_init();
	memset(s, 0, sizeof(*s));
	memset(a, 0, sizeof(a));
	if (genlmsg_parse(nlh, 0, a[N_TOP], HABLK_A_MAX, policy[N_TOP]) ||
	    (a[N_TOP][HABLK_A_PEER] &&
	     nla_parse_nested(a[N_PEER], HABLK_A_MAX, a[N_TOP][HABLK_A_PEER], policy[N_PEER])) ||
	    (a[N_TOP][HABLK_A_LOCKS] &&
	     nla_parse_nested(a[N_LOCKS], HABLK_A_MAX, a[N_TOP][HABLK_A_LOCKS], policy[N_LOCKS])))
		return -EBADMSG;
	s->role = s->disk = s->peer_role = s->peer_disk = -1;	/* unknown unless said */
	s->quorum = true;	/* the kernel's view before hablkd says otherwise */
	for (f = status_attrs; f < status_attrs + NR_STATUS_ATTRS; f++)
		if (a[f->nest][f->attr])
			store(s, f, a[f->nest][f->attr]);
	return 0;
}

struct collect {
	struct hablk_status *v;
	size_t n;
	int err;
};

static int status_cb(struct nl_msg *msg, void *arg)
{
	struct collect *c = arg;
	struct hablk_status *v;

	/* on an error, read on to the end of the dump, keeping nothing more */
	if (c->err || genlmsg_hdr(nlmsg_hdr(msg))->cmd != HABLK_CMD_GET_STATUS)
		return NL_SKIP;
	v = realloc(c->v, (c->n + 1) * sizeof(*v));
	if (!v) {
		c->err = -ENOMEM;
		return NL_SKIP;
	}
	c->v = v;
	c->err = hablk_nl_parse_status(nlmsg_hdr(msg), &c->v[c->n]);
	if (!c->err)
		c->n++;
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
	if (!ret && c.err) {
		ret = nl->err = c.err;
		snprintf(nl->errmsg, sizeof(nl->errmsg), "%s", c.err == -EBADMSG ?
			 "malformed status reply from the kernel" : strerror(-c.err));
	}
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

static const struct nla_policy bitmap_policy[HABLK_A_MAX + 1] = {
	[HABLK_A_RES_NAME] = { .type = NLA_STRING, .maxlen = HABLK_NAME_LEN },
	[HABLK_A_BITMAP_FIRST] = { .type = NLA_U64, .minlen = 8, .maxlen = 8 },
	[HABLK_A_BITMAP_WORDS] = { .type = NLA_UNSPEC },	/* u64 words: checked below */
	[HABLK_A_BM_BLOCK] = { .type = NLA_U32, .minlen = 4, .maxlen = 4 },
};

/* After an error, the rest of the dump is read to its end and dropped. */
static int bitmap_cb(struct nl_msg *msg, void *arg)
{
	struct bitmap_arg *b = arg;
	struct nlattr *a[HABLK_A_MAX + 1];
	unsigned int bm_block;

	if (b->err || genlmsg_hdr(nlmsg_hdr(msg))->cmd != HABLK_CMD_GET_BITMAP)
		return NL_SKIP;
	if (genlmsg_parse(nlmsg_hdr(msg), 0, a, HABLK_A_MAX, bitmap_policy) ||
	    !a[HABLK_A_BITMAP_FIRST] || !a[HABLK_A_BITMAP_WORDS] || !a[HABLK_A_BM_BLOCK] ||
	    nla_len(a[HABLK_A_BITMAP_WORDS]) % 8) {
		b->err = -EBADMSG;
		return NL_SKIP;
	}
	bm_block = nla_get_u32(a[HABLK_A_BM_BLOCK]);
	if (bm_block < 4096 || (bm_block & (bm_block - 1))) {
		b->err = -EPROTO;
		return NL_SKIP;
	}
	b->err = b->fn(nla_get_u64(a[HABLK_A_BITMAP_FIRST]), nla_data(a[HABLK_A_BITMAP_WORDS]),
		       (size_t)nla_len(a[HABLK_A_BITMAP_WORDS]) / 8, bm_block, b->arg);
	return NL_OK;
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

	/* a malformed event is dropped, not shown half-read */
	if (genlmsg_hdr(nlmsg_hdr(msg))->cmd != HABLK_CMD_EVENT ||
	    hablk_nl_parse_status(nlmsg_hdr(msg), e->ev))
		return NL_SKIP;
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

int hablk_nl_lock(struct hablk_nl *nl, const char *name, int op, uint64_t first,
		  uint64_t count, uint64_t seq)
{
	struct nl_msg *msg = hablk_nl_msg(nl, HABLK_CMD_LOCK, 0);

	if (!msg)
		return -ENOMEM;
	if (nla_put_string(msg, HABLK_A_RES_NAME, name) ||
	    nla_put_u8(msg, HABLK_A_LOCK_OP, (uint8_t)op) ||
	    (op != HABLK_LOCK_TAKE_ALL &&
	     (nla_put_u64(msg, HABLK_A_LOCK_FIRST, first) ||
	      nla_put_u64(msg, HABLK_A_LOCK_COUNT, count) ||
	      nla_put_u64(msg, HABLK_A_LOCK_SEQ, seq)))) {
		nlmsg_free(msg);
		return -EINVAL;
	}
	return hablk_nl_do(nl, msg);
}

static const struct nla_policy lock_policy[HABLK_A_MAX + 1] = {
	[HABLK_A_RES_NAME] = { .type = NLA_STRING, .maxlen = HABLK_NAME_LEN },
	[HABLK_A_LOCK_OP] = { .type = NLA_U8, .minlen = 1, .maxlen = 1 },
	[HABLK_A_LOCK_FIRST] = { .type = NLA_U64, .minlen = 8, .maxlen = 8 },
	[HABLK_A_LOCK_COUNT] = { .type = NLA_U64, .minlen = 8, .maxlen = 8 },
	[HABLK_A_LOCK_EXTENT] = { .type = NLA_U32, .minlen = 4, .maxlen = 4 },
};

struct locks_arg {
	int (*fn)(int op, uint64_t first, uint64_t count, unsigned int extent, void *arg);
	void *arg;
	int err;
};

static int locks_cb(struct nl_msg *msg, void *arg)
{
	struct locks_arg *l = arg;
	struct nlattr *a[HABLK_A_MAX + 1];

	if (l->err || genlmsg_hdr(nlmsg_hdr(msg))->cmd != HABLK_CMD_GET_LOCKS)
		return NL_SKIP;
	if (genlmsg_parse(nlmsg_hdr(msg), 0, a, HABLK_A_MAX, lock_policy) || !a[HABLK_A_LOCK_OP] ||
	    !a[HABLK_A_LOCK_FIRST] || !a[HABLK_A_LOCK_COUNT] || !a[HABLK_A_LOCK_EXTENT]) {
		l->err = -EBADMSG;
		return NL_SKIP;
	}
	l->err = l->fn(nla_get_u8(a[HABLK_A_LOCK_OP]), nla_get_u64(a[HABLK_A_LOCK_FIRST]),
		       nla_get_u64(a[HABLK_A_LOCK_COUNT]), nla_get_u32(a[HABLK_A_LOCK_EXTENT]),
		       l->arg);
	return NL_OK;
}

int hablk_nl_locks(struct hablk_nl *nl, const char *name,
		   int (*fn)(int op, uint64_t first, uint64_t count, unsigned int extent,
			     void *arg),
		   void *arg)
{
	struct locks_arg l = { .fn = fn, .arg = arg };
	struct nl_msg *msg;
	int ret;

	msg = hablk_nl_msg(nl, HABLK_CMD_GET_LOCKS, NLM_F_DUMP);
	if (!msg)
		return -ENOMEM;
	if (nla_put_string(msg, HABLK_A_RES_NAME, name)) {
		nlmsg_free(msg);
		return -EINVAL;
	}
	ret = run(nl, msg, locks_cb, &l);
	return ret ? ret : l.err;
}

int hablk_nl_subscribe_locks(struct hablk_nl *nl)
{
	int grp = genl_ctrl_resolve_grp(nl->sk, HABLK_GENL_NAME, HABLK_GENL_MCGRP_LOCKS);

	if (grp < 0)
		return -ENOENT;
	if (nl_socket_add_membership(nl->sk, grp))
		return -EIO;
	nl_socket_set_nonblocking(nl->sk);
	return 0;
}

struct lock_event_arg {
	void (*fn)(const char *name, int op, uint64_t first, uint64_t count, void *arg);
	void *arg;
};

static int lock_event_cb(struct nl_msg *msg, void *arg)
{
	struct lock_event_arg *e = arg;
	struct nlattr *a[HABLK_A_MAX + 1];

	if (genlmsg_hdr(nlmsg_hdr(msg))->cmd != HABLK_CMD_LOCK_EVENT ||
	    genlmsg_parse(nlmsg_hdr(msg), 0, a, HABLK_A_MAX, lock_policy) ||
	    !a[HABLK_A_RES_NAME] || !a[HABLK_A_LOCK_OP] || !a[HABLK_A_LOCK_FIRST] ||
	    !a[HABLK_A_LOCK_COUNT])
		return NL_SKIP;		/* malformed: dropped, the kernel says it again */
	e->fn(nla_get_string(a[HABLK_A_RES_NAME]), nla_get_u8(a[HABLK_A_LOCK_OP]),
	      nla_get_u64(a[HABLK_A_LOCK_FIRST]), nla_get_u64(a[HABLK_A_LOCK_COUNT]), e->arg);
	return NL_OK;
}

int hablk_nl_lock_events(struct hablk_nl *nl,
			 void (*fn)(const char *name, int op, uint64_t first, uint64_t count,
				    void *arg),
			 void *arg)
{
	struct lock_event_arg e = { .fn = fn, .arg = arg };
	struct nl_cb *cb;
	int ret;

	cb = nl_cb_alloc(NL_CB_DEFAULT);
	if (!cb)
		return -ENOMEM;
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, lock_event_cb, &e);
	nl_cb_set(cb, NL_CB_SEQ_CHECK, NL_CB_CUSTOM, no_seq_check, NULL);
	do {
		ret = nl_recvmsgs(nl->sk, cb);
	} while (ret >= 0);
	nl_cb_put(cb);
	if (ret == -NLE_AGAIN)
		return 0;
	return ret == -NLE_NOMEM ? -ENOBUFS : -EIO;
}
