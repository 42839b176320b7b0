// SPDX-License-Identifier: GPL-2.0
/* test_nl.c - check(3) unit tests of userspace/nl.c's reading of status replies
 * and events: every attribute to its field, and malformed messages rejected. */
#include <check.h>
#include <errno.h>
#include <string.h>
#include <netlink/genl/genl.h>

#include "../../userspace/nl.h"
#include "suites.h"

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

/* An extra attribute put after the good ones, at the top or inside HABLK_A_PEER. */
struct extra {
	int attr;
	bool peer;
	int len;		/* bytes of payload, or -1: the string data and its NUL */
	const char *data;	/* NULL: len zero bytes */
};

static int put_extra(struct nl_msg *m, const struct extra *x)
{
	static const uint8_t zeros[16];

	if (x->len < 0)
		return nla_put_string(m, x->attr, x->data);
	return nla_put(m, x->attr, x->len, x->data ? (const void *)x->data : zeros);
}

/*
 * A status message as the kernel builds it (kernel/netlink.c), with every
 * attribute, or (minimal) the name alone; then x, if any.
 */
static struct nl_msg *status_msg(bool minimal, const struct extra *x)
{
	struct nl_msg *m = nlmsg_alloc();
	struct nlattr *peer = NULL;
	int ok = 1;

	ck_assert_ptr_nonnull(m);
	ck_assert_ptr_nonnull(genlmsg_put(m, 0, 0, 0x20, 0, 0, HABLK_CMD_GET_STATUS,
					  HABLK_GENL_VERSION));
	ok &= !nla_put_string(m, HABLK_A_RES_NAME, "r0");
	if (!minimal) {
		ok &= !nla_put_u32(m, HABLK_A_MINOR, 7);
		ok &= !nla_put_u8(m, HABLK_A_PROTOCOL, 'A');
		ok &= !nla_put_u32(m, HABLK_A_LOCAL_ID, 3);
		ok &= !nla_put_u8(m, HABLK_A_ROLE, HABLK_ROLE_PRIMARY);
		ok &= !nla_put_u8(m, HABLK_A_DISK_STATE, HABLK_DISK_UPTODATE);
		ok &= !nla_put_u8(m, HABLK_A_SUSPENDED, 2);	/* any non-zero: true */
		ok &= !nla_put_u8(m, HABLK_A_QUORUM, 0);
		ok &= !nla_put_u8(m, HABLK_A_MANAGED, 1);
		ok &= !nla_put_u64(m, HABLK_A_SIZE_SECTORS, 0x123456789abcdef0ull);
		ok &= !nla_put_u64(m, HABLK_A_CURRENT_UUID, UINT64_MAX);
		ok &= !nla_put_u32(m, HABLK_A_BM_BLOCK, 65536);
		ok &= !nla_put_string(m, HABLK_A_EVENT_WHAT, "role");
	}
	if (!minimal || (x && x->peer)) {
		peer = nla_nest_start(m, HABLK_A_PEER);
		ck_assert_ptr_nonnull(peer);
	}
	if (!minimal) {
		ok &= !nla_put_u32(m, HABLK_A_PEER_ID, 30);
		ok &= !nla_put_string(m, HABLK_A_PEER_NAME, "beta");
		ok &= !nla_put_u8(m, HABLK_A_CONN_STATE, HABLK_CONN_CONNECTED);
		ok &= !nla_put_u8(m, HABLK_A_PEER_ROLE, HABLK_ROLE_SECONDARY);
		ok &= !nla_put_u8(m, HABLK_A_PEER_DISK, HABLK_DISK_INCONSISTENT);
		ok &= !nla_put_u8(m, HABLK_A_REPL_STATE, HABLK_REPL_SYNC_SOURCE);
		ok &= !nla_put_u64(m, HABLK_A_OOS_SECTORS, 1000);
		ok &= !nla_put_u64(m, HABLK_A_SYNC_TOTAL, 4000);
		ok &= !nla_put_u64(m, HABLK_A_SYNC_DONE, 3000);
		ok &= !nla_put_u64(m, HABLK_A_SYNC_ELAPSED_MS, 12345);
		ok &= !nla_put_string(m, HABLK_A_LAST_ERROR, "refused");
	}
	if (x && x->peer)
		ok &= !put_extra(m, x);
	if (peer)
		nla_nest_end(m, peer);
	if (x && !x->peer)
		ok &= !put_extra(m, x);
	ck_assert(ok);
	return m;
}

START_TEST(every_field)
{
	struct nl_msg *m = status_msg(false, NULL);
	struct hablk_status s;

	ck_assert_int_eq(hablk_nl_parse_status(nlmsg_hdr(m), &s), 0);
	ck_assert_str_eq(s.name, "r0");
	ck_assert_uint_eq(s.minor, 7);
	ck_assert_int_eq(s.protocol, 'A');
	ck_assert_uint_eq(s.local_id, 3);
	ck_assert_int_eq(s.role, HABLK_ROLE_PRIMARY);
	ck_assert_int_eq(s.disk, HABLK_DISK_UPTODATE);
	ck_assert(s.suspended);
	ck_assert(!s.quorum);
	ck_assert(s.managed);
	ck_assert_uint_eq(s.size_sectors, 0x123456789abcdef0ull);
	ck_assert_uint_eq(s.current_uuid, UINT64_MAX);
	ck_assert_uint_eq(s.bm_block, 65536);
	ck_assert_str_eq(s.what, "role");
	ck_assert_uint_eq(s.peer_id, 30);
	ck_assert_str_eq(s.peer_name, "beta");
	ck_assert_int_eq(s.conn, HABLK_CONN_CONNECTED);
	ck_assert_int_eq(s.peer_role, HABLK_ROLE_SECONDARY);
	ck_assert_int_eq(s.peer_disk, HABLK_DISK_INCONSISTENT);
	ck_assert_int_eq(s.repl, HABLK_REPL_SYNC_SOURCE);
	ck_assert_uint_eq(s.oos_sectors, 1000);
	ck_assert_uint_eq(s.sync_total, 4000);
	ck_assert_uint_eq(s.sync_done, 3000);
	ck_assert_uint_eq(s.sync_elapsed_ms, 12345);
	ck_assert_str_eq(s.last_error, "refused");
	nlmsg_free(m);
}
END_TEST

/* What is not in the message: states unknown, quorum (the kernel's default) true. */
START_TEST(defaults)
{
	struct nl_msg *m = status_msg(true, NULL);
	struct hablk_status s;

	memset(&s, 0x5a, sizeof(s));
	ck_assert_int_eq(hablk_nl_parse_status(nlmsg_hdr(m), &s), 0);
	ck_assert_str_eq(s.name, "r0");
	ck_assert_int_eq(s.role, -1);
	ck_assert_int_eq(s.disk, -1);
	ck_assert_int_eq(s.peer_role, -1);
	ck_assert_int_eq(s.peer_disk, -1);
	ck_assert(s.quorum);
	ck_assert(!s.suspended && !s.managed);
	ck_assert_uint_eq(s.size_sectors, 0);
	ck_assert_str_eq(s.peer_name, "");
	ck_assert_str_eq(s.last_error, "");
	ck_assert_str_eq(s.what, "");
	nlmsg_free(m);
}
END_TEST

/*
 * Accepted: a name of HABLK_NAME_LEN - 1, a string of NULs (empty), a long
 * message (cut to the field), an attribute the status does not have.
 */
static const char name63[] = "nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn";
static char error300[300];

static const struct extra good[] = {
	{ HABLK_A_RES_NAME, false, -1, name63 },
	{ HABLK_A_RES_NAME, false, 4, NULL },
	{ HABLK_A_LAST_ERROR, true, -1, error300 },
	{ HABLK_A_DISK, false, 3, "abc" },
};

START_TEST(accepted)
{
	struct nl_msg *m;
	struct hablk_status s;

	ck_assert_uint_eq(strlen(name63), HABLK_NAME_LEN - 1);
	memset(error300, 'e', sizeof(error300) - 1);
	m = status_msg(false, &good[_i]);
	ck_assert_int_eq(hablk_nl_parse_status(nlmsg_hdr(m), &s), 0);
	ck_assert_str_eq(s.name, _i == 0 ? name63 : _i == 1 ? "" : "r0");
	ck_assert_uint_eq(strlen(s.last_error), _i == 2 ? sizeof(s.last_error) - 1 : 7);
	nlmsg_free(m);
}
END_TEST

/* Each of these in an otherwise good message makes it rejected. */
static const struct extra bad[] = {
	{ HABLK_A_MINOR, false, 1, NULL },		/* u32 as u8 */
	{ HABLK_A_MINOR, false, 8, NULL },		/* u32 as u64 */
	{ HABLK_A_ROLE, false, 4, NULL },		/* u8 as u32 */
	{ HABLK_A_ROLE, false, 0, NULL },
	{ HABLK_A_QUORUM, false, 2, NULL },
	{ HABLK_A_SIZE_SECTORS, false, 4, NULL },	/* u64 as u32 */
	{ HABLK_A_CURRENT_UUID, false, 16, NULL },
	{ HABLK_A_BM_BLOCK, false, 2, NULL },
	{ HABLK_A_RES_NAME, false, 0, NULL },		/* a string without its NUL */
	{ HABLK_A_RES_NAME, false, 4, "r0r0" },
	{ HABLK_A_RES_NAME, false, -1, "nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn" },
	{ HABLK_A_EVENT_WHAT, false, 4, "role" },
	{ HABLK_A_PEER_ID, true, 8, NULL },
	{ HABLK_A_PEER_NAME, true, 4, "beta" },
	{ HABLK_A_PEER_NAME, true, -1, "nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn" },
	{ HABLK_A_CONN_STATE, true, 4, NULL },
	{ HABLK_A_OOS_SECTORS, true, 1, NULL },
	{ HABLK_A_SYNC_ELAPSED_MS, true, 4, NULL },
	{ HABLK_A_LAST_ERROR, true, 0, NULL },
};

START_TEST(malformed)
{
	struct nl_msg *m = status_msg(_i % 2, &bad[_i]);	/* with the rest or alone */
	struct hablk_status s;

	ck_assert_int_eq(hablk_nl_parse_status(nlmsg_hdr(m), &s), -EBADMSG);
	nlmsg_free(m);
}
END_TEST

Suite *nl_suite(void)
{
	Suite *s = suite_create("nl");
	TCase *tc;

	tc = tcase_create("status");
	tcase_add_test(tc, every_field);
	tcase_add_test(tc, defaults);
	tcase_add_loop_test(tc, accepted, 0, ARRAY_SIZE(good));
	tcase_add_loop_test(tc, malformed, 0, ARRAY_SIZE(bad));
	suite_add_tcase(s, tc);
	return s;
}
