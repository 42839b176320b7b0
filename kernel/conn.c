// SPDX-License-Identifier: GPL-2.0
/*
 * The replication link: the connection thread connects (lower node id) or
 * accepts (higher node id) a data and a meta TCP stream, authenticates the
 * peer on each, exchanges state, runs the data receiver, and tears down and
 * reconnects with backoff when anything fails.
 */
#include <linux/random.h>
#include <linux/tcp.h>
#include <linux/delay.h>
#include <crypto/algapi.h>
#include <net/sock.h>
#include <net/tcp.h>
#include "hablk.h"

/* Free a socket that others may be sending on or shutting down. */
static void sock_free_shared(struct hablk_resource *res, struct socket **sockp,
			     struct mutex *send_mutex)
{
	struct socket *s;

	mutex_lock(send_mutex);
	mutex_lock(&res->conn.sock_mutex);
	s = *sockp;
	*sockp = NULL;
	mutex_unlock(&res->conn.sock_mutex);
	mutex_unlock(send_mutex);
	hablk_socket_free(&s);
}

void hablk_conn_init(struct hablk_resource *res)
{
	mutex_init(&res->conn.sock_mutex);
}

/* MAC over both nonces, ids, stream and resource: proves the secret, binds the session. */
static int auth_mac(struct hablk_resource *res, u32 from, u32 to, u8 stream,
		    const u8 *nonce_to, const u8 *nonce_from, u8 *mac)
{
	SHASH_DESC_ON_STACK(desc, res->hmac);
	__be32 ids[2] = { cpu_to_be32(from), cpu_to_be32(to) };
	static const char label[] = "hablk-auth-v1";
	char name[HABLK_WIRE_NAME_LEN] = {};
	int ret;

	strscpy(name, res->cfg.name, sizeof(name));
	desc->tfm = res->hmac;
	ret = crypto_shash_init(desc) ?:
	      crypto_shash_update(desc, label, sizeof(label)) ?:
	      crypto_shash_update(desc, name, sizeof(name)) ?:
	      crypto_shash_update(desc, (u8 *)ids, sizeof(ids)) ?:
	      crypto_shash_update(desc, &stream, 1) ?:
	      crypto_shash_update(desc, nonce_to, HABLK_NONCE_LEN) ?:
	      crypto_shash_update(desc, nonce_from, HABLK_NONCE_LEN) ?:
	      crypto_shash_final(desc, mac);
	shash_desc_zero(desc);
	return ret;
}

/*
 * Hello and mutual authentication on one stream. @stream is what the
 * connector opens; the acceptor learns it from the connector's hello.
 */
static int handshake(struct hablk_resource *res, struct socket *sock, int *stream)
{
	struct hablk_p_hello mine = {}, theirs;
	struct hablk_p_auth auth, want;
	u32 pmin, pmax;
	int ret;

	mine.proto_min = cpu_to_be32(HABLK_PROTO_MIN);
	mine.proto_max = cpu_to_be32(HABLK_PROTO_MAX);
	mine.node_id = cpu_to_be32(res->cfg.local_id);
	mine.peer_id = cpu_to_be32(res->cfg.peer_id);
	mine.stream = *stream < 0 ? 0xff : *stream;
	get_random_bytes(mine.nonce, sizeof(mine.nonce));
	strscpy(mine.res_name, res->cfg.name, sizeof(mine.res_name));

	ret = hablk_socket_send_pkt(sock, HABLK_P_HELLO, &mine, sizeof(mine), 0, 0);
	if (ret)
		return ret;
	ret = hablk_socket_recv_pkt(sock, HABLK_P_HELLO, &theirs, sizeof(theirs));
	if (ret)
		return ret;
	pmin = be32_to_cpu(theirs.proto_min);
	pmax = be32_to_cpu(theirs.proto_max);
	if (pmin > HABLK_PROTO_MAX || pmax < HABLK_PROTO_MIN || pmin > pmax)
		return -EPROTONOSUPPORT;
	theirs.res_name[sizeof(theirs.res_name) - 1] = 0;
	if (strcmp(theirs.res_name, res->cfg.name) ||
	    be32_to_cpu(theirs.node_id) != res->cfg.peer_id ||
	    be32_to_cpu(theirs.peer_id) != res->cfg.local_id)
		return -EBADMSG;
	if (*stream < 0) {
		if (theirs.stream != HABLK_STREAM_DATA && theirs.stream != HABLK_STREAM_META)
			return -EBADMSG;
		*stream = theirs.stream;
	} else if (theirs.stream != 0xff) {
		return -EBADMSG;
	}

	ret = auth_mac(res, res->cfg.local_id, res->cfg.peer_id, *stream,
		       theirs.nonce, mine.nonce, auth.mac);
	if (ret)
		return ret;
	ret = hablk_socket_send_pkt(sock, HABLK_P_AUTH, &auth, sizeof(auth), 0, 0);
	if (ret)
		return ret;
	ret = hablk_socket_recv_pkt(sock, HABLK_P_AUTH, &auth, sizeof(auth));
	if (ret)
		return ret;
	ret = auth_mac(res, res->cfg.peer_id, res->cfg.local_id, *stream,
		       mine.nonce, theirs.nonce, want.mac);
	if (ret)
		return ret;
	if (crypto_memneq(auth.mac, want.mac, HABLK_MAC_LEN))
		return -EKEYREJECTED;
	return 0;
}

static const char *err_why(int err)
{
	switch (err) {
	case -EKEYREJECTED:	return "peer failed authentication (secret mismatch)";
	case -EBADMSG:		return "peer has a different resource or node id";
	case -EPROTONOSUPPORT:	return "peer speaks an incompatible protocol version";
	case -EPROTO:		return "peer sent a malformed packet";
	case -ECONNREFUSED:	return "connection refused";
	case -EAGAIN:
	case -ETIMEDOUT:	return "timed out";
	default:		return "connection failed";
	}
}

static void conn_error(struct hablk_resource *res, int err, const char *what)
{
	char msg[sizeof(res->st.last_error)];

	snprintf(msg, sizeof(msg), "%s: %s", what, err_why(err));
	hablk_state_set_error(res, msg);
	if (err == -EKEYREJECTED || err == -EBADMSG || err == -EPROTO ||
	    err == -EPROTONOSUPPORT)
		pr_warn_ratelimited("%s: %s: %s (%d), dropped\n", res->cfg.name, what,
				    err_why(err), err);
}

static int connect_one(struct hablk_resource *res, struct socket **sockp, int stream)
{
	struct sockaddr_storage src = res->cfg.local_addr;
	struct socket *s;
	int ret;

	ret = hablk_socket_new(res, &s);
	if (ret)
		return ret;
	/* bind to the replication address with any port */
	if (src.ss_family == AF_INET)
		((struct sockaddr_in *)&src)->sin_port = 0;
	else
		((struct sockaddr_in6 *)&src)->sin6_port = 0;
	hablk_socket_setup(s, msecs_to_jiffies(res->cfg.ping_timeout_ms));
	s->sk->sk_sndtimeo = msecs_to_jiffies(res->cfg.ping_timeout_ms);
	ret = kernel_bind(s, (struct sockaddr *)&src, res->cfg.addr_len);
	if (!ret)
		ret = kernel_connect(s, (struct sockaddr *)&res->cfg.peer_addr,
				     res->cfg.addr_len, 0);
	s->sk->sk_sndtimeo = MAX_SCHEDULE_TIMEOUT;
	if (!ret)
		ret = handshake(res, s, &stream);
	if (ret) {
		hablk_socket_free(&s);
		return ret;
	}
	mutex_lock(&res->conn.sock_mutex);
	*sockp = s;
	mutex_unlock(&res->conn.sock_mutex);
	return 0;
}

static int listen_start(struct hablk_resource *res, struct socket **lsock)
{
	int ret;

	ret = hablk_socket_new(res, lsock);
	if (ret)
		return ret;
	(*lsock)->sk->sk_rcvtimeo = msecs_to_jiffies(200);
	ret = kernel_bind(*lsock, (struct sockaddr *)&res->cfg.local_addr, res->cfg.addr_len);
	if (!ret)
		ret = kernel_listen(*lsock, 4);
	if (ret)
		hablk_socket_free(lsock);
	return ret;
}

/* Accept one authenticated stream; -EAGAIN when nobody came in time. */
static int accept_one(struct hablk_resource *res, struct socket *lsock,
		      struct socket **sockp, int *stream)
{
	struct socket *s;
	int ret;

	ret = kernel_accept(lsock, &s, 0);
	if (ret)
		return ret;
	hablk_obj_get(HABLK_OBJ_SOCKET);
	hablk_socket_setup(s, msecs_to_jiffies(res->cfg.ping_timeout_ms));
	*stream = -1;
	ret = handshake(res, s, stream);
	if (ret) {
		conn_error(res, ret, "accept");
		sock_release(s);
		hablk_obj_put(HABLK_OBJ_SOCKET);
		return ret;
	}
	*sockp = s;
	return 0;
}

/* Establish both streams, as connector or acceptor. */
static int establish(struct hablk_resource *res, struct socket *lsock)
{
	struct socket *s;
	int ret, stream;

	if (!lsock) {
		ret = connect_one(res, &res->conn.data_sock, HABLK_STREAM_DATA);
		if (ret) {
			conn_error(res, ret, "connect");
			return ret;
		}
		ret = connect_one(res, &res->conn.meta_sock, HABLK_STREAM_META);
		if (ret)
			conn_error(res, ret, "connect meta");
		return ret;
	}
	while (!kthread_should_stop()) {
		ret = accept_one(res, lsock, &s, &stream);
		if (ret == -EAGAIN)
			continue;
		if (ret)
			return ret;
		if (stream == HABLK_STREAM_META && res->conn.data_sock) {
			mutex_lock(&res->conn.sock_mutex);
			res->conn.meta_sock = s;
			mutex_unlock(&res->conn.sock_mutex);
			return 0;
		}
		if (stream == HABLK_STREAM_META) {
			hablk_socket_free(&s);	/* meta before data: out of step, start over */
			continue;
		}
		sock_free_shared(res, &res->conn.data_sock, &res->send.data_mutex);
		mutex_lock(&res->conn.sock_mutex);
		res->conn.data_sock = s;
		mutex_unlock(&res->conn.sock_mutex);
	}
	return -EINTR;
}

static unsigned int hablk_fault_slow_fail;
module_param_named(fault_slow_fail, hablk_fault_slow_fail, uint, 0644);
MODULE_PARM_DESC(fault_slow_fail,
		 "fault injection for tests: ms between the freeze for a lost link and its teardown (0: off)");

/*
 * Wake everything that waits on the link: called, in process context, by
 * whoever sees it fail. The connection thread then tears it down.
 */
void hablk_conn_fail(struct hablk_resource *res, const char *why)
{
	unsigned int slow_ms = READ_ONCE(hablk_fault_slow_fail);

	/*
	 * Before anything else, by every caller: a managed primary freezes
	 * before any write that missed the peer can complete (the teardown,
	 * which also calls this first, cancels them).
	 */
	if (READ_ONCE(res->st.conn) == HABLK_CONN_CONNECTED) {
		hablk_quorum_peer_lost(res);
		if (why && slow_ms && !atomic_read(&res->conn.failed))
			msleep(slow_ms);
	}
	if (atomic_xchg(&res->conn.failed, 1))
		return;
	if (why)
		hablk_state_set_error(res, why);
	mutex_lock(&res->conn.sock_mutex);
	if (res->conn.data_sock)
		kernel_sock_shutdown(res->conn.data_sock, SHUT_RDWR);
	if (res->conn.meta_sock)
		kernel_sock_shutdown(res->conn.meta_sock, SHUT_RDWR);
	mutex_unlock(&res->conn.sock_mutex);
	wake_up_all(&res->send.wait);
	wake_up_all(&res->rx.wait);
	wake_up_all(&res->sync.wait);
	wake_up_all(&res->slots.wait);
	wake_up_all(&res->st.role_wait);
	wake_up_all(&res->iv.wait);
	wake_up_all(&res->flush.wait);
}

/* Undo a connection: stop helpers, give up on the peer's acks, free sockets. */
static void teardown(struct hablk_resource *res)
{
	hablk_conn_fail(res, NULL);
	hablk_sync_stop(res);
	hablk_thread_stop(&res->conn.meta_thread);
	hablk_thread_stop(&res->send.thread);
	wait_event(res->rx.wait, !atomic_read(&res->rx.inflight));
	flush_work(&res->rx.ack_work);
	hablk_flush_teardown(res);	/* the peer's writes: on stable storage */
	hablk_state_conn_lost(res);	/* new generation if writes go unreplicated */
	hablk_req_cancel_all(res);
	hablk_flush_link_lost(res);	/* ours the peer may hold only in its cache */
	hablk_send_queue_drop(res);
	sock_free_shared(res, &res->conn.meta_sock, &res->send.meta_mutex);
	sock_free_shared(res, &res->conn.data_sock, &res->send.data_mutex);
	hablk_pool_drain(res);	/* no need to keep pages while unconnected */
}

/* Both sides send their state first, then read the peer's, then decide. */
static int state_exchange(struct hablk_resource *res)
{
	struct hablk_p_state st;
	int ret;

	spin_lock_irq(&res->st.lock);
	res->st.exchanging = true;
	spin_unlock_irq(&res->st.lock);
	ret = hablk_send_state(res);
	if (!ret)
		ret = hablk_socket_recv_pkt(res->conn.data_sock, HABLK_P_STATE, &st, sizeof(st));
	if (!ret)
		ret = hablk_state_peer_update(res, &st, true);
	spin_lock_irq(&res->st.lock);
	res->st.exchanging = false;
	spin_unlock_irq(&res->st.lock);
	wake_up_all(&res->slots.wait);
	return ret;
}

static int run_connected(struct hablk_resource *res)
{
	int ret;

	res->send.thread = hablk_thread_start(res, hablk_sender_fn, "send");
	if (IS_ERR(res->send.thread)) {
		ret = PTR_ERR(res->send.thread);
		res->send.thread = NULL;
		return ret;
	}
	res->conn.meta_thread = hablk_thread_start(res, hablk_meta_fn, "meta");
	if (IS_ERR(res->conn.meta_thread)) {
		ret = PTR_ERR(res->conn.meta_thread);
		res->conn.meta_thread = NULL;
		return ret;
	}
	res->conn.data_sock->sk->sk_rcvtimeo = MAX_SCHEDULE_TIMEOUT;
	ret = state_exchange(res);
	if (ret)
		return ret;
	return hablk_receive_loop(res);
}

static int hablk_conn_fn(void *arg)
{
	struct hablk_resource *res = arg;
	struct socket *lsock = NULL;
	unsigned int backoff = res->cfg.connect_int_ms;
	bool acceptor = res->cfg.local_id > res->cfg.peer_id;
	int ret;

	while (!kthread_should_stop() && READ_ONCE(res->conn.want)) {
		hablk_state_change(res, HABLK_S_CONN, HABLK_CONN_CONNECTING, NULL);
		atomic_set(&res->conn.failed, 0);
		if (hablk_state_fenced(res)) {
			/* the peer went on without us: we reconnect once we are secondary */
			hablk_socket_free(&lsock);
			schedule_timeout_interruptible(msecs_to_jiffies(res->cfg.connect_max_ms));
			continue;
		}
		if (acceptor && !lsock) {
			ret = listen_start(res, &lsock);
			if (ret)
				conn_error(res, ret, "listen");
		}
		if (!acceptor || lsock) {
			ret = establish(res, lsock);
			if (!ret) {
				backoff = res->cfg.connect_int_ms;
				ret = run_connected(res);
				pr_info("%s: connection lost: %s\n", res->cfg.name,
					res->st.last_error[0] ? res->st.last_error : "closed");
			}
			teardown(res);
			if (ret == -ECONNABORTED) {
				/* split-brain, unrelated data, two primaries: an administrator decides */
				WRITE_ONCE(res->conn.want, false);
				break;
			}
		}
		if (kthread_should_stop() || !READ_ONCE(res->conn.want))
			break;
		if (ret == -EKEYREJECTED || ret == -EPROTO || ret == -EBADMSG)
			hablk_genl_event(res, "connect-failed");
		schedule_timeout_interruptible(msecs_to_jiffies(backoff));
		backoff = min(backoff * 2, res->cfg.connect_max_ms);
	}
	hablk_socket_free(&lsock);
	hablk_state_change(res, HABLK_S_CONN, HABLK_CONN_STANDALONE, NULL);
	/* wait for kthread_stop, so the owner can reap us */
	set_current_state(TASK_INTERRUPTIBLE);
	while (!kthread_should_stop()) {
		schedule();
		set_current_state(TASK_INTERRUPTIBLE);
	}
	__set_current_state(TASK_RUNNING);
	return 0;
}

int hablk_conn_start(struct hablk_resource *res)
{
	struct task_struct *t;

	if (res->conn.thread && READ_ONCE(res->conn.want))
		return 0;
	hablk_thread_stop(&res->conn.thread);	/* one that gave up (split-brain...) */
	WRITE_ONCE(res->conn.want, true);
	hablk_state_change(res, HABLK_S_CONN, HABLK_CONN_CONNECTING, NULL);
	t = hablk_thread_start(res, hablk_conn_fn, "conn");
	if (IS_ERR(t))
		return PTR_ERR(t);
	res->conn.thread = t;
	return 0;
}

void hablk_conn_stop(struct hablk_resource *res)
{
	if (!res->conn.thread)
		return;
	WRITE_ONCE(res->conn.want, false);
	hablk_flush_peer_wait(res);	/* a link taken down on purpose marks nothing */
	hablk_conn_fail(res, "disconnected by the administrator");
	hablk_thread_stop(&res->conn.thread);
	hablk_state_change(res, HABLK_S_CONN, HABLK_CONN_STANDALONE, NULL);
}
