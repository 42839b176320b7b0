// SPDX-License-Identifier: GPL-2.0
/*
 * The meta stream (acks, pings, role and verify replies). A write's ack
 * completes it in the socket's data_ready callback; the meta thread handles
 * every other packet, sends pings and detects a dead peer.
 */
#include <linux/slab.h>
#include <net/sock.h>
#include <net/tcp.h>
#include "hablk.h"

/*
 * The stream is parsed in a buffer by whoever holds the socket's lock: the
 * data_ready callback in softirq (or the lock's owner, when it releases the
 * lock), or the meta thread. The ack of a replicated write (status 0) is
 * handled right there, so no thread has to wake between the ack and the
 * application. Parsing stops at any other packet (a ping, an error, a sync
 * or verify reply) and wakes the meta thread, which takes that packet out,
 * handles it in process context, then lets the parsing go on: the stream's
 * order is kept.
 */
#define META_RX_SIZE 2048

union meta_body {
	struct hablk_p_ack a;
	struct hablk_p_role r;
	struct hablk_p_verify_reply v;
};

struct meta_rx {
	struct hablk_resource *res;
	void (*saved_data_ready)(struct sock *sk);
	void (*saved_state_change)(struct sock *sk);
	wait_queue_head_t wait;		/* the meta thread */
	unsigned long last_pkt;		/* jiffies: the last whole packet */
	unsigned int pkts;		/* whole packets so far */
	u32 head, tail;			/* unparsed bytes: buf[head..tail) */
	bool slow;			/* the packet at head is for the thread */
	const char *why;		/* the stream is broken: why */
	struct hablk_req *bad_req;	/* taken from its slot by a bogus ack */
	u8 buf[META_RX_SIZE];
};

/* A replicated write's ack, status 0, from any context. False: the stream is broken. */
static bool meta_ack_fast(struct meta_rx *rx, const struct hablk_p_ack *a)
{
	struct hablk_req *req = hablk_slot_take(rx->res, be64_to_cpu(a->id));

	if (!req || req->kind != HABLK_REQ_WRITE) {
		rx->bad_req = req;	/* given up on by the thread */
		rx->why = "peer sent a bogus ack or meta packet";
		return false;
	}
	hablk_req_net_done(req, 0);
	return true;
}

/* Handle the whole packets at the head; stop at one that is the thread's. */
static void meta_rx_parse(struct meta_rx *rx)
{
	struct hablk_p_ack a;
	struct hablk_hdr h;
	int type;
	u32 len;

	while (!rx->slow && !rx->why && rx->tail - rx->head >= sizeof(h)) {
		memcpy(&h, rx->buf + rx->head, sizeof(h));
		type = hablk_hdr_decode(&h, &len);
		if (type < 0 || len > sizeof(union meta_body)) {
			rx->why = "peer sent a malformed meta packet";
			break;
		}
		if (rx->tail - rx->head < sizeof(h) + len)
			break;
		WRITE_ONCE(rx->last_pkt, jiffies);
		WRITE_ONCE(rx->pkts, rx->pkts + 1);
		if (type == HABLK_P_ACK) {
			memcpy(&a, rx->buf + rx->head + sizeof(h), sizeof(a));
			if (!a.status && !a.is_sync) {
				rx->head += sizeof(h) + len;
				if (!meta_ack_fast(rx, &a))
					break;
				continue;
			}
		}
		rx->slow = true;
	}
	if (rx->slow || rx->why)
		wake_up(&rx->wait);
}

/* tcp_read_sock()'s actor: buffer what fits, then parse. */
static int meta_rx_actor(read_descriptor_t *desc, struct sk_buff *skb, unsigned int off,
			 size_t len)
{
	struct meta_rx *rx = desc->arg.data;
	u32 n;

	if (rx->head) {
		memmove(rx->buf, rx->buf + rx->head, rx->tail - rx->head);
		rx->tail -= rx->head;
		rx->head = 0;
	}
	n = min_t(size_t, len, META_RX_SIZE - rx->tail);
	if (!n || skb_copy_bits(skb, off, rx->buf + rx->tail, n))
		return 0;	/* full of packets the thread has not taken yet */
	rx->tail += n;
	meta_rx_parse(rx);
	return n;
}

/* Caller holds the socket's lock (owned, or bh-locked in softirq). */
static void meta_rx_read(struct sock *sk, struct meta_rx *rx)
{
	read_descriptor_t desc = { .arg.data = rx, .count = 1 };

	meta_rx_parse(rx);	/* what the thread's last packet held back */
	if (!rx->why)
		tcp_read_sock(sk, &desc, meta_rx_actor);
}

static void meta_data_ready(struct sock *sk)
{
	struct meta_rx *rx;

	read_lock_bh(&sk->sk_callback_lock);
	rx = sk->sk_user_data;
	if (rx)
		meta_rx_read(sk, rx);
	read_unlock_bh(&sk->sk_callback_lock);
}

static void meta_state_change(struct sock *sk)
{
	void (*saved)(struct sock *sk) = NULL;
	struct meta_rx *rx;

	read_lock_bh(&sk->sk_callback_lock);
	rx = sk->sk_user_data;
	if (rx) {
		wake_up(&rx->wait);
		saved = rx->saved_state_change;
	}
	read_unlock_bh(&sk->sk_callback_lock);
	if (saved)
		saved(sk);
}

static void meta_rx_install(struct sock *sk, struct meta_rx *rx)
{
	write_lock_bh(&sk->sk_callback_lock);
	rx->saved_data_ready = sk->sk_data_ready;
	rx->saved_state_change = sk->sk_state_change;
	sk->sk_user_data = rx;
	sk->sk_data_ready = meta_data_ready;
	sk->sk_state_change = meta_state_change;
	write_unlock_bh(&sk->sk_callback_lock);
}

/* After this, no callback touches @rx. */
static void meta_rx_remove(struct sock *sk, struct meta_rx *rx)
{
	write_lock_bh(&sk->sk_callback_lock);
	sk->sk_data_ready = rx->saved_data_ready;
	sk->sk_state_change = rx->saved_state_change;
	sk->sk_user_data = NULL;
	write_unlock_bh(&sk->sk_callback_lock);
}

static bool meta_closed(struct sock *sk)
{
	return (READ_ONCE(sk->sk_shutdown) & RCV_SHUTDOWN) || READ_ONCE(sk->sk_err);
}

/* Every other ack: errors, sync chunks; an ack from the thread (process context). */
static int meta_ack(struct hablk_resource *res, const struct hablk_p_ack *a)
{
	struct hablk_req *req = hablk_slot_take(res, be64_to_cpu(a->id));
	u32 status = be32_to_cpu(a->status);

	if (!req)
		return -EPROTO;
	if ((req->kind != HABLK_REQ_WRITE && req->kind != HABLK_REQ_SYNC) ||
	    a->is_sync != (req->kind == HABLK_REQ_SYNC) || status > MAX_ERRNO) {
		hablk_req_give_up(res, req);
		return -EPROTO;
	}
	/*
	 * A bad checksum on the way: send it again while its data is still ours
	 * (protocol C, protocol A's copy, or a sync chunk), a few times at most.
	 */
	if (status == EBADMSG && req->resends < 3 &&
	    (req->kind == HABLK_REQ_SYNC || test_bit(HABLK_REQF_WAIT_ACK, &req->flags) ||
	     req->copy) &&
	    hablk_req_resend(res, req)) {
		req->resends++;
		pr_warn_ratelimited("%s: data-integrity: peer got sector %llu corrupted, sent again\n",
				    res->cfg.name, (unsigned long long)req->sector);
		return 0;
	}
	hablk_req_net_done(req, -(int)status);
	return 0;
}

static int meta_verify_reply(struct hablk_resource *res, const struct hablk_p_verify_reply *v)
{
	struct hablk_req *req = hablk_slot_take(res, be64_to_cpu(v->id));

	if (!req)
		return -EPROTO;
	if (req->kind != HABLK_REQ_VERIFY) {
		hablk_req_give_up(res, req);
		return -EPROTO;
	}
	hablk_verify_reply(req, be64_to_cpu(v->mismatch), 0);
	return 0;
}

/* A packet the parsing left to the thread. */
static int meta_handle(struct hablk_resource *res, int type, const union meta_body *b)
{
	switch (type) {
	case HABLK_P_PING:
		return hablk_send_meta(res, HABLK_P_PING_ACK, NULL, 0, 0);
	case HABLK_P_PING_ACK:
		return 0;
	case HABLK_P_ACK:
		return meta_ack(res, &b->a);
	case HABLK_P_ROLE_REPLY:
		hablk_state_role_reply(res, be32_to_cpu(b->r.status));
		return 0;
	case HABLK_P_VERIFY_REPLY:
		return meta_verify_reply(res, &b->v);
	default:
		return -EPROTO;
	}
}

/*
 * Take the thread's packet out, if there is one (its type, else 0), after
 * reading what the socket has; and what broke the stream, if anything.
 */
static int meta_take(struct sock *sk, struct meta_rx *rx, union meta_body *b,
		     const char **why, struct hablk_req **bad_req)
{
	struct hablk_hdr h;
	int type = 0;
	u32 len;

	lock_sock(sk);
	meta_rx_read(sk, rx);
	if (rx->slow) {
		memcpy(&h, rx->buf + rx->head, sizeof(h));
		type = hablk_hdr_decode(&h, &len);	/* checked by the parsing */
		memset(b, 0, sizeof(*b));
		memcpy(b, rx->buf + rx->head + sizeof(h), len);
		rx->head += sizeof(h) + len;
		rx->slow = false;
	}
	*why = rx->why;
	*bad_req = rx->bad_req;
	rx->bad_req = NULL;
	release_sock(sk);
	return type;
}

/* The meta stream's thread: packets other than write acks; pings; a dead peer. */
int hablk_meta_fn(void *arg)
{
	struct hablk_resource *res = arg;
	struct sock *sk = res->conn.meta_sock->sk;
	unsigned long ping_int = msecs_to_jiffies(res->cfg.ping_int_ms);
	unsigned long ping_timeout = msecs_to_jiffies(res->cfg.ping_timeout_ms);
	unsigned long ping_sent = 0, now, timeout;
	const char *why = NULL;
	struct hablk_req *bad_req;
	unsigned int ping_pkts = 0;
	bool ping_out = false;
	struct meta_rx *rx;
	union meta_body b;
	int type;

	rx = kzalloc(sizeof(*rx), GFP_NOIO);
	if (!rx) {
		hablk_conn_fail(res, "out of memory");
		return 0;
	}
	rx->res = res;
	rx->last_pkt = jiffies;
	init_waitqueue_head(&rx->wait);
	meta_rx_install(sk, rx);
	while (!kthread_should_stop() && !atomic_read(&res->conn.failed)) {
		type = meta_take(sk, rx, &b, &why, &bad_req);
		if (bad_req)
			hablk_req_give_up(res, bad_req);
		if (why)
			break;
		if (type) {
			if (meta_handle(res, type, &b)) {
				why = "peer sent a bogus ack or meta packet";
				break;
			}
			continue;
		}
		if (meta_closed(sk)) {
			why = "meta connection closed";
			break;
		}
		/* nothing for a ping interval: ask, then wait at most ping-timeout */
		now = jiffies;
		if (ping_out && READ_ONCE(rx->pkts) != ping_pkts)
			ping_out = false;
		if (ping_out && time_after(now, ping_sent + ping_timeout)) {
			why = "peer did not answer pings";
			break;
		}
		if (!ping_out && time_after_eq(now, READ_ONCE(rx->last_pkt) + ping_int)) {
			ping_pkts = READ_ONCE(rx->pkts);
			if (hablk_send_meta(res, HABLK_P_PING, NULL, 0, 0)) {
				why = "meta connection closed";
				break;
			}
			ping_out = true;
			ping_sent = now;
		}
		if (ping_out)
			timeout = min(ping_int, ping_timeout) / 4 + 1;
		else
			timeout = READ_ONCE(rx->last_pkt) + ping_int - now;
		wait_event_interruptible_timeout(rx->wait, READ_ONCE(rx->slow) ||
						 READ_ONCE(rx->why) || meta_closed(sk) ||
						 kthread_should_stop() ||
						 atomic_read(&res->conn.failed),
						 min(timeout, ping_int));
	}
	meta_rx_remove(sk, rx);
	/* a bogus ack while the thread stopped: its request was taken, not yet given up */
	if (rx->bad_req)
		hablk_req_give_up(res, rx->bad_req);
	kfree(rx);
	if (!kthread_should_stop())
		hablk_conn_fail(res, why ?: "meta connection closed");
	return 0;
}
