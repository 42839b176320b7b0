// SPDX-License-Identifier: GPL-2.0
/*
 * The replication link's TCP sockets: creation and options, sending
 * (buffers, bio pages, zero-copy pages, a packet's header and body) and
 * receiving whole messages.
 */
#include <linux/tcp.h>
#include <net/sock.h>
#include <net/tcp.h>
#include "hablk.h"

static int send_msg(struct socket *sock, struct msghdr *msg)
{
	int ret;

	while (msg_data_left(msg)) {
		ret = sock_sendmsg(sock, msg);
		if (ret <= 0)
			return ret ? ret : -EPIPE;
	}
	return 0;
}

int hablk_socket_send(struct socket *sock, const void *buf, size_t len, int flags)
{
	struct kvec kv = { .iov_base = (void *)buf, .iov_len = len };
	struct msghdr msg = { .msg_flags = flags | MSG_NOSIGNAL };

	iov_iter_kvec(&msg.msg_iter, ITER_SOURCE, &kv, 1, len);
	return send_msg(sock, &msg);
}

int hablk_socket_send_bvecs(struct socket *sock, struct bio_vec *bv, unsigned int n, int flags)
{
	struct msghdr msg = { .msg_flags = flags | MSG_NOSIGNAL };
	size_t len = 0;
	unsigned int i;

	for (i = 0; i < n; i++)
		len += bv[i].bv_len;
	iov_iter_bvec(&msg.msg_iter, ITER_SOURCE, bv, n, len);
	return send_msg(sock, &msg);
}

/*
 * Zero-copy: TCP takes references to the pages instead of copying them, so
 * their contents must not change until the peer has acked them (a protocol
 * C write, a sync chunk). Every page must pass sendpage_ok().
 */
int hablk_socket_send_pages(struct socket *sock, struct bio_vec *bv, unsigned int n, int flags)
{
#ifdef MSG_SPLICE_PAGES
	return hablk_socket_send_bvecs(sock, bv, n, flags | MSG_SPLICE_PAGES);
#else
	unsigned int i, off, len;
	int ret;

	for (i = 0; i < n; i++) {
		off = bv[i].bv_offset;
		len = bv[i].bv_len;
		while (len) {
			ret = kernel_sendpage(sock, bv[i].bv_page, off, len, MSG_NOSIGNAL |
					      (i + 1 < n ? flags | MSG_MORE : flags));
			if (ret <= 0)
				return ret ? ret : -EPIPE;
			off += ret;
			len -= ret;
		}
	}
	return 0;
#endif
}

/* Header and fixed body of one packet; @extra bytes of payload follow separately. */
int hablk_socket_send_pkt(struct socket *sock, unsigned int type, const void *body,
		   u32 len, u32 extra, int flags)
{
	struct {
		struct hablk_hdr h;
		u8 body[sizeof(struct hablk_p_hello)];
	} __packed buf;

	if (WARN_ON_ONCE(len > sizeof(buf.body)))
		return -EINVAL;
	hablk_hdr_encode(&buf.h, type, len + extra);
	memcpy(buf.body, body, len);
	return hablk_socket_send(sock, &buf, sizeof(buf.h) + len, flags);
}

/*
 * Receive exactly @len bytes. Returns 0, -EAGAIN if the receive timeout
 * passed before the first byte, or another negative error (-ECONNRESET at EOF).
 */
int hablk_socket_recv(struct socket *sock, void *buf, size_t len)
{
	struct kvec kv = { .iov_base = buf, .iov_len = len };
	struct msghdr msg = { .msg_flags = MSG_NOSIGNAL };

	iov_iter_kvec(&msg.msg_iter, ITER_DEST, &kv, 1, len);
	return hablk_socket_recv_msg(sock, &msg);
}

/* The same, into what @msg's iterator describes (pages, say). */
int hablk_socket_recv_msg(struct socket *sock, struct msghdr *msg)
{
	size_t len = msg_data_left(msg);
	int ret, stalls = 0;

	while (msg_data_left(msg)) {
		ret = sock_recvmsg(sock, msg, MSG_WAITALL | MSG_NOSIGNAL);
		/* partway through a packet: give the rest a few more timeouts */
		if (ret == -EAGAIN && msg_data_left(msg) < len && ++stalls < 8)
			continue;
		if (ret < 0)
			return ret;
		if (ret == 0)
			return -ECONNRESET;
	}
	return 0;
}

/* Receive a header and a fixed-size body of the expected type. */
int hablk_socket_recv_pkt(struct socket *sock, unsigned int want, void *body, u32 len)
{
	struct hablk_hdr h;
	u32 plen;
	int ret, type;

	ret = hablk_socket_recv(sock, &h, sizeof(h));
	if (ret)
		return ret;
	type = hablk_hdr_decode(&h, &plen);
	if (type != (int)want || plen != len)
		return -EPROTO;
	return hablk_socket_recv(sock, body, len);
}

void hablk_socket_setup(struct socket *sock, long rcvtimeo)
{
	struct sock *sk = sock->sk;

	sk->sk_allocation = GFP_NOIO;
	sk->sk_use_task_frag = false;
	sk->sk_rcvtimeo = rcvtimeo;
	sk->sk_sndtimeo = MAX_SCHEDULE_TIMEOUT;
	tcp_sock_set_nodelay(sk);
}

void hablk_socket_free(struct socket **sockp)
{
	struct socket *s = *sockp;

	if (s) {
		*sockp = NULL;
		sock_release(s);
		hablk_obj_put(HABLK_OBJ_SOCKET);
	}
}

int hablk_socket_new(struct hablk_resource *res, struct socket **sockp)
{
	int ret;

	ret = sock_create_kern(res->net, res->cfg.local_addr.ss_family, SOCK_STREAM,
			       IPPROTO_TCP, sockp);
	if (ret)
		return ret;
	hablk_obj_get(HABLK_OBJ_SOCKET);
	(*sockp)->sk->sk_reuse = SK_CAN_REUSE;
	return 0;
}
