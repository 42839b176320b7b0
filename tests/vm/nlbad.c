// SPDX-License-Identifier: GPL-2.0
/* nlbad.c - sends malformed requests to the "hablk" genl family and checks
 * each is rejected and creates nothing. Run in a VM with hablk.ko loaded;
 * prints one line per case, exits 1 if any was accepted. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <netinet/in.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include "../../kernel/uapi/linux/hablk.h"

static struct nl_sock *sk;
static int family;

/* A valid UP request for resource "bad" with attribute @skip left out and
 * @extra (if non-NULL) called to add something malformed. */
static struct nl_msg *up_msg(int skip, void (*extra)(struct nl_msg *))
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(7000) };
	struct sockaddr_in b = { .sin_family = AF_INET, .sin_port = htons(7001) };
	struct nl_msg *m = nlmsg_alloc();

	a.sin_addr.s_addr = htonl(0xc0000201);
	b.sin_addr.s_addr = htonl(0xc0000202);
	genlmsg_put(m, NL_AUTO_PORT, NL_AUTO_SEQ, family, 0, 0, HABLK_CMD_UP, 1);
	if (skip != HABLK_A_RES_NAME)
		nla_put_string(m, HABLK_A_RES_NAME, "bad");
	if (skip != HABLK_A_MINOR)
		nla_put_u32(m, HABLK_A_MINOR, 7);
	if (skip != HABLK_A_SECRET)
		nla_put(m, HABLK_A_SECRET, 3, "abc");
	if (skip != HABLK_A_LOCAL_ID)
		nla_put_u32(m, HABLK_A_LOCAL_ID, 0);
	if (skip != HABLK_A_PEER_ID)
		nla_put_u32(m, HABLK_A_PEER_ID, 1);
	if (skip != HABLK_A_DISK)
		nla_put_string(m, HABLK_A_DISK, "/dev/vdc");
	if (skip != HABLK_A_LOCAL_ADDR)
		nla_put(m, HABLK_A_LOCAL_ADDR, sizeof(a), &a);
	if (skip != HABLK_A_PEER_ADDR)
		nla_put(m, HABLK_A_PEER_ADDR, sizeof(b), &b);
	if (extra)
		extra(m);
	return m;
}

static void long_secret(struct nl_msg *m) { char s[HABLK_SECRET_MAX + 1] = { 1 }; nla_put(m, HABLK_A_SECRET, sizeof(s), s); }
static void big_minor(struct nl_msg *m) { nla_put_u32(m, HABLK_A_MINOR, 300); }
static void big_id(struct nl_msg *m) { nla_put_u32(m, HABLK_A_PEER_ID, 32); }
static void same_id(struct nl_msg *m) { nla_put_u32(m, HABLK_A_PEER_ID, 0); }
static void bad_proto(struct nl_msg *m) { nla_put_u8(m, HABLK_A_PROTOCOL, 'B'); }
static void unknown_attr(struct nl_msg *m) { nla_put_u32(m, HABLK_A_MAX + 5, 1); }
static void short_addr(struct nl_msg *m) { nla_put(m, HABLK_A_PEER_ADDR, 6, "abcdef"); }
static void bad_family(struct nl_msg *m)
{
	struct sockaddr_in6 a = { .sin6_family = AF_INET6, .sin6_port = htons(7001) };

	nla_put(m, HABLK_A_PEER_ADDR, sizeof(a), &a);
}
static void no_nul_name(struct nl_msg *m) { nla_put(m, HABLK_A_RES_NAME, 3, "bad"); }
static void bad_name(struct nl_msg *m) { nla_put_string(m, HABLK_A_RES_NAME, "a/b"); }
static void u8_for_u32(struct nl_msg *m) { nla_put_u8(m, HABLK_A_LOCAL_ID, 0); }
static void rel_disk(struct nl_msg *m) { nla_put_string(m, HABLK_A_DISK, "vdc"); }
static void tiny_ping(struct nl_msg *m) { nla_put_u32(m, HABLK_A_PING_INT_MS, 1); }
static void empty_secret(struct nl_msg *m) { nla_put(m, HABLK_A_SECRET, 0, ""); }

static const struct {
	const char *what;
	int skip;
	void (*extra)(struct nl_msg *);
} cases[] = {
	{ "no resource name", HABLK_A_RES_NAME, NULL },
	{ "no secret", HABLK_A_SECRET, NULL },
	{ "no disk", HABLK_A_DISK, NULL },
	{ "no peer address", HABLK_A_PEER_ADDR, NULL },
	{ "secret over 128 bytes", 0, long_secret },
	{ "empty secret", HABLK_A_SECRET, empty_secret },
	{ "minor 300", HABLK_A_MINOR, big_minor },
	{ "peer id 32", HABLK_A_PEER_ID, big_id },
	{ "peer id = local id", HABLK_A_PEER_ID, same_id },
	{ "protocol B", 0, bad_proto },
	{ "unknown attribute", 0, unknown_attr },
	{ "6-byte address", HABLK_A_PEER_ADDR, short_addr },
	{ "IPv6 peer, IPv4 local", HABLK_A_PEER_ADDR, bad_family },
	{ "name not NUL-terminated", HABLK_A_RES_NAME, no_nul_name },
	{ "name with a slash", HABLK_A_RES_NAME, bad_name },
	{ "u8 where u32 belongs", HABLK_A_LOCAL_ID, u8_for_u32 },
	{ "relative disk path", HABLK_A_DISK, rel_disk },
	{ "ping interval 1 ms", 0, tiny_ping },
};

int main(void)
{
	unsigned int i, bad = 0;
	int ret;

	sk = nl_socket_alloc();
	if (!sk || genl_connect(sk) || (family = genl_ctrl_resolve(sk, HABLK_GENL_NAME)) < 0) {
		fprintf(stderr, "nlbad: no hablk genl family\n");
		return 2;
	}
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct nl_msg *m = up_msg(cases[i].skip, cases[i].extra);

		ret = nl_send_sync(sk, m);	/* frees m; waits for the ack */
		printf("%-26s %s (%d)\n", cases[i].what, ret < 0 ? "rejected" : "ACCEPTED", ret);
		if (ret >= 0)
			bad++;
	}
	nl_socket_free(sk);
	return bad ? 1 : 0;
}
