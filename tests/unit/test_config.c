// SPDX-License-Identifier: GPL-2.0
/* test_config.c - check(3) unit tests of userspace/config.c (hablk.conf(5)). */
#define _POSIX_C_SOURCE 200809L

#include <check.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../userspace/config.h"
#include "suites.h"

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

/* The example of SPEC.md, verbatim. */
static const char spec_example[] =
	"resource r0 {\n"
	"    minor 0                      # /dev/hablk0\n"
	"    protocol C                   # C: ack after both disks have it (default); A: after local + sent\n"
	"    secret \"s3cr3t\"              # peers and arbiter authenticate with it; no secret → refused\n"
	"    on-no-quorum suspend-io      # or io-error\n"
	"    allow-two-primaries no       # yes needs protocol C\n"
	"    node alpha {\n"
	"        id 0\n"
	"        address 192.0.2.1:7788   # replication link; hablkd listens on the same IP, port+1,\n"
	"        disk /dev/vdb            #   unless \"control IP:PORT\" is given\n"
	"        meta-disk internal       # or a device path (external metadata)\n"
	"    }\n"
	"    node beta {\n"
	"        id 1\n"
	"        address 192.0.2.2:7788\n"
	"        disk /dev/vdb\n"
	"        meta-disk internal\n"
	"    }\n"
	"    arbiter gamma {              # optional third vote; stores metadata only\n"
	"        id 2\n"
	"        address 198.51.100.3:7799\n"
	"    }\n"
	"}\n";

/*
 * A minimal resource, built from pieces so that error cases can insert or
 * replace one piece. Line numbers: HEAD 1-3, ALPHA 4-9, BETA 10-15.
 */
#define HEAD	"resource r0 {\n  minor 0\n  secret \"x\"\n"
#define ALPHA_START "  node alpha {\n    id 0\n"
#define ALPHA_REST "    address 192.0.2.1:7788\n    disk /dev/vdb\n" \
		   "    meta-disk internal\n  }\n"
#define ALPHA	ALPHA_START ALPHA_REST
#define BETA	"  node beta {\n    id 1\n    address 192.0.2.2:7788\n" \
		"    disk /dev/vdb\n    meta-disk internal\n  }\n"
#define MINIMAL	HEAD ALPHA BETA "}\n"

/* r1: the same hosts, minor 1, ports 7790 (control 7791) */
#define R1	"resource r1 {\n  minor 1\n  secret \"y\"\n" \
		"  node alpha {\n    id 0\n    address 192.0.2.1:7790\n" \
		"    disk /dev/vdc\n    meta-disk internal\n  }\n" \
		"  node beta {\n    id 1\n    address 192.0.2.2:7790\n" \
		"    disk /dev/vdc\n    meta-disk internal\n  }\n}\n"

static struct hablk_config cfg;
static char err[512];

static void setup(void)
{
	memset(&cfg, 0xa5, sizeof(cfg));	/* loaders must overwrite it */
	err[0] = '\0';
}

static void teardown(void)
{
	if (cfg.nr_res != (size_t)0xa5a5a5a5a5a5a5a5ULL)	/* never loaded */
		hablk_config_free(&cfg);
}

static const struct hablk_res *load_ok(const char *text)
{
	int ret = hablk_config_load_string(&cfg, "t.res", text, err, sizeof(err));

	ck_assert_msg(ret == 0, "unexpected error: %s", err);
	ck_assert_uint_ge(cfg.nr_res, 1);
	return &cfg.res[0];
}

static void assert_empty(void)
{
	ck_assert_ptr_null(cfg.res);
	ck_assert_uint_eq(cfg.nr_res, 0);
}

static void assert_addr(const struct sockaddr_storage *ss, socklen_t len,
			const char *want)
{
	char buf[HABLK_ADDRSTRLEN];

	ck_assert_ptr_nonnull(hablk_addr_format(ss, len, buf, sizeof(buf)));
	ck_assert_str_eq(buf, want);
}

START_TEST(spec_example_parses)
{
	const struct hablk_res *r = load_ok(spec_example);
	const struct hablk_node *a = &r->nodes[0], *b = &r->nodes[1];

	ck_assert_uint_eq(cfg.nr_res, 1);
	ck_assert_str_eq(r->name, "r0");
	ck_assert_uint_eq(r->minor, 0);
	ck_assert_int_eq(r->protocol, 'C');
	ck_assert_str_eq(r->secret, "s3cr3t");
	ck_assert_int_eq(r->on_no_quorum, HABLK_QP_SUSPEND_IO);
	ck_assert(!r->allow_two_primaries);
	ck_assert_str_eq(r->file, "t.res");
	ck_assert_uint_eq(r->line, 1);

	ck_assert_str_eq(a->name, "alpha");
	ck_assert_uint_eq(a->id, 0);
	ck_assert(!a->is_arbiter);
	ck_assert_uint_eq(a->line, 7);
	assert_addr(&a->addr, a->addr_len, "192.0.2.1:7788");
	ck_assert_uint_eq(a->addr_len, sizeof(struct sockaddr_in));
	assert_addr(&a->control, a->control_len, "192.0.2.1:7789");
	ck_assert_str_eq(a->disk, "/dev/vdb");
	ck_assert_str_eq(a->meta_disk, "");

	ck_assert_str_eq(b->name, "beta");
	ck_assert_uint_eq(b->id, 1);
	assert_addr(&b->addr, b->addr_len, "192.0.2.2:7788");
	assert_addr(&b->control, b->control_len, "192.0.2.2:7789");
	ck_assert_str_eq(b->disk, "/dev/vdb");
	ck_assert_str_eq(b->meta_disk, "");

	ck_assert(r->has_arbiter);
	ck_assert_str_eq(r->arbiter.name, "gamma");
	ck_assert_uint_eq(r->arbiter.id, 2);
	ck_assert(r->arbiter.is_arbiter);
	ck_assert_uint_eq(r->arbiter.line, 19);
	assert_addr(&r->arbiter.addr, r->arbiter.addr_len, "198.51.100.3:7799");
	assert_addr(&r->arbiter.control, r->arbiter.control_len,
		    "198.51.100.3:7800");
	ck_assert_str_eq(r->arbiter.disk, "");
	ck_assert_str_eq(r->arbiter.meta_disk, "");
}
END_TEST

START_TEST(defaults)
{
	const struct hablk_res *r = load_ok(MINIMAL);

	ck_assert_int_eq(r->protocol, 'C');
	ck_assert_int_eq(r->on_no_quorum, HABLK_QP_SUSPEND_IO);
	ck_assert(!r->allow_two_primaries);
	ck_assert_uint_eq(r->timing.ping_interval_ms, 1000);
	ck_assert_uint_eq(r->timing.ping_timeout_ms, 2000);
	ck_assert_uint_eq(r->timing.connect_interval_ms, 200);
	ck_assert_uint_eq(r->timing.connect_interval_max_ms, 5000);
	ck_assert(!r->has_arbiter);
	assert_addr(&r->nodes[0].control, r->nodes[0].control_len,
		    "192.0.2.1:7789");
}
END_TEST

START_TEST(all_keys_set)
{
	const struct hablk_res *r = load_ok(
		"resource r9 {\n"
		"  minor 255\n  protocol A\n  secret \"k\"\n"
		"  on-no-quorum io-error\n  allow-two-primaries no\n"
		"  ping-interval 10\n  ping-timeout 600000\n"
		"  connect-interval 300\n  connect-interval-max 300\n"
		"  node a { id 31 address 192.0.2.1:1 control 192.0.2.9:9\n"
		"           disk /dev/vdb meta-disk /dev/vdc }\n"
		"  node b { id 0 address 192.0.2.2:1 disk /dev/vdb meta-disk internal }\n"
		"}\n");

	ck_assert_uint_eq(r->minor, 255);
	ck_assert_int_eq(r->protocol, 'A');
	ck_assert_int_eq(r->on_no_quorum, HABLK_QP_IO_ERROR);
	ck_assert_uint_eq(r->timing.ping_interval_ms, 10);
	ck_assert_uint_eq(r->timing.ping_timeout_ms, 600000);
	ck_assert_uint_eq(r->timing.connect_interval_ms, 300);
	ck_assert_uint_eq(r->timing.connect_interval_max_ms, 300);
	ck_assert_uint_eq(r->nodes[0].id, 31);
	assert_addr(&r->nodes[0].control, r->nodes[0].control_len, "192.0.2.9:9");
	ck_assert_str_eq(r->nodes[0].meta_disk, "/dev/vdc");
	ck_assert_uint_eq(r->nodes[1].id, 0);
}
END_TEST

START_TEST(two_primaries_with_protocol_c)
{
	const struct hablk_res *r = load_ok(
		HEAD "  allow-two-primaries yes\n" ALPHA BETA "}\n");

	ck_assert(r->allow_two_primaries);
	ck_assert_uint_eq(r->lock_extent, 1U << 20);	/* the default */
	hablk_config_free(&cfg);
	r = load_ok(HEAD "  allow-two-primaries yes\n  lock-extent 64K\n" ALPHA BETA "}\n");
	ck_assert_uint_eq(r->lock_extent, 64U << 10);
	hablk_config_free(&cfg);
	r = load_ok(HEAD "  lock-extent 1G\n" ALPHA BETA "}\n");
	ck_assert_uint_eq(r->lock_extent, 1U << 30);
	hablk_config_free(&cfg);
	r = load_ok(HEAD "  lock-extent 4194304\n" ALPHA BETA "}\n");
	ck_assert_uint_eq(r->lock_extent, 4U << 20);
}
END_TEST

START_TEST(comments_strings_escapes)
{
	const struct hablk_res *r = load_ok(
		"# leading comment with { braces } and \"quotes\n"
		"resource \"r0\" # comment after the name\n"
		"{\n"
		"  minor 0#no space needed\n"
		"  secret \"a\\\"b\\\\c # not a comment {}\"\n"
		"\tnode alpha {\r\n"
		"    id 0\n    address 192.0.2.1:7788\n"
		"    disk \"/dev/disk/by-id/with space\"\n    meta-disk internal\n"
		"  }\n" BETA "}   # trailing\n# last line without newline");

	ck_assert_str_eq(r->name, "r0");
	ck_assert_str_eq(r->secret, "a\"b\\c # not a comment {}");
	ck_assert_str_eq(r->nodes[0].disk, "/dev/disk/by-id/with space");
	ck_assert_uint_eq(r->nodes[1].line, 12);
}
END_TEST

START_TEST(secret_lengths)
{
	char text[1024];
	char s128[HABLK_SECRET_MAX + 1];

	memset(s128, 'z', HABLK_SECRET_MAX);
	s128[HABLK_SECRET_MAX] = '\0';
	snprintf(text, sizeof(text), "resource r0 {\n minor 0\n secret %s\n"
		 ALPHA BETA "}\n", s128);
	ck_assert_str_eq(load_ok(text)->secret, s128);
	hablk_config_free(&cfg);

	snprintf(text, sizeof(text), "resource r0 {\n minor 0\n secret \"%sz\"\n"
		 ALPHA BETA "}\n", s128);
	ck_assert_int_eq(hablk_config_load_string(&cfg, "t.res", text, err,
						  sizeof(err)), -1);
	ck_assert_str_eq(err, "t.res:3: secret in resource 'r0' must be 1..128 bytes, is 129");
	assert_empty();
}
END_TEST

START_TEST(ipv6)
{
	const struct hablk_res *r = load_ok(
		"resource v6 {\n minor 3\n secret s\n"
		" node a { id 0 address [2001:db8::1]:7788 disk /dev/vdb meta-disk internal }\n"
		" node b { id 1 address [2001:db8::2]:7788 control [2001:db8::2]:9000\n"
		"          disk /dev/vdb meta-disk internal }\n"
		" arbiter c { id 5 address [::ffff:192.0.2.7]:7788 }\n}\n");

	ck_assert_int_eq(r->nodes[0].addr.ss_family, AF_INET6);
	ck_assert_uint_eq(r->nodes[0].addr_len, sizeof(struct sockaddr_in6));
	assert_addr(&r->nodes[0].addr, r->nodes[0].addr_len, "[2001:db8::1]:7788");
	assert_addr(&r->nodes[0].control, r->nodes[0].control_len,
		    "[2001:db8::1]:7789");
	assert_addr(&r->nodes[1].control, r->nodes[1].control_len,
		    "[2001:db8::2]:9000");
	assert_addr(&r->arbiter.addr, r->arbiter.addr_len,
		    "[::ffff:192.0.2.7]:7788");
}
END_TEST

START_TEST(several_resources_and_find)
{
	load_ok("# two in one file\n" MINIMAL R1);
	ck_assert_uint_eq(cfg.nr_res, 2);
	ck_assert_str_eq(cfg.res[0].name, "r0");
	ck_assert_str_eq(cfg.res[1].name, "r1");
	ck_assert_uint_eq(cfg.res[1].line, 18);
	ck_assert_ptr_eq(hablk_config_find(&cfg, "r1"), &cfg.res[1]);
	ck_assert_ptr_eq(hablk_config_find(&cfg, "r0"), &cfg.res[0]);
	ck_assert_ptr_null(hablk_config_find(&cfg, "r2"));
}
END_TEST

START_TEST(empty_file)
{
	ck_assert_int_eq(hablk_config_load_string(&cfg, "t.res", "# nothing\n\n",
						  err, sizeof(err)), 0);
	assert_empty();
}
END_TEST

START_TEST(shared_control_same_host)
{
	/* one hablkd per host may serve several resources on one port */
	load_ok("resource r0 { minor 0 secret s\n"
		" node a { id 0 address 192.0.2.1:7788 control 192.0.2.1:7000 disk /dev/vdb meta-disk internal }\n"
		" node b { id 1 address 192.0.2.2:7788 control 192.0.2.2:7000 disk /dev/vdb meta-disk internal } }\n"
		"resource r1 { minor 1 secret s\n"
		" node a { id 0 address 192.0.2.1:7790 control 192.0.2.1:7000 disk /dev/vdc meta-disk internal }\n"
		" node b { id 1 address 192.0.2.2:7790 control 192.0.2.2:7000 disk /dev/vdc meta-disk internal } }\n");
	ck_assert_uint_eq(cfg.nr_res, 2);
}
END_TEST

START_TEST(many_resources)
{
	size_t size = 400 * 256, n = 0;
	char *text = malloc(size);
	int i;

	ck_assert_ptr_nonnull(text);
	for (i = 0; i <= HABLK_MINOR_MAX; i++)
		n += (size_t)snprintf(text + n, size - n,
			"resource r%d { minor %d secret s\n"
			" node a { id 0 address 192.0.2.1:%d disk /dev/a%d meta-disk internal }\n"
			" node b { id 1 address 192.0.2.2:%d disk /dev/b%d meta-disk internal } }\n",
			i, i, 1000 + 2 * i, i, 1000 + 2 * i, i);
	ck_assert_uint_lt(n, size);
	load_ok(text);
	free(text);
	ck_assert_uint_eq(cfg.nr_res, 256);
	ck_assert_uint_eq(hablk_config_find(&cfg, "r200")->minor, 200);
}
END_TEST

START_TEST(res_local)
{
	const struct hablk_res *r = load_ok(spec_example);
	const struct hablk_node *self, *peer;

	ck_assert_int_eq(hablk_res_local(r, "alpha", &self, &peer), HABLK_LOCAL_DATA);
	ck_assert_ptr_eq(self, &r->nodes[0]);
	ck_assert_ptr_eq(peer, &r->nodes[1]);

	ck_assert_int_eq(hablk_res_local(r, "beta", &self, &peer), HABLK_LOCAL_DATA);
	ck_assert_ptr_eq(self, &r->nodes[1]);
	ck_assert_ptr_eq(peer, &r->nodes[0]);

	ck_assert_int_eq(hablk_res_local(r, "gamma", &self, &peer),
			 HABLK_LOCAL_ARBITER);
	ck_assert_ptr_eq(self, &r->arbiter);
	ck_assert_ptr_null(peer);

	ck_assert_int_eq(hablk_res_local(r, "delta", &self, &peer),
			 HABLK_LOCAL_NONE);
	ck_assert_ptr_null(self);
	ck_assert_ptr_null(peer);

	ck_assert_int_eq(hablk_res_local(r, "beta", NULL, NULL), HABLK_LOCAL_DATA);
}
END_TEST

START_TEST(error_without_buffer)
{
	ck_assert_int_eq(hablk_config_load_string(&cfg, "t.res", "bogus", NULL, 0), -1);
	assert_empty();
	ck_assert_int_eq(hablk_config_load_string(&cfg, "t.res", "bogus", err, 1), -1);
	ck_assert_str_eq(err, "");
	ck_assert_int_eq(hablk_config_load_string(&cfg, "t.res", "bogus", err, 8), -1);
	ck_assert_str_eq(err, "t.res:1");
}
END_TEST

/* ---- every error: the text, and the one line it must give ---- */

#define NAME63 "0123456789abcdef0123456789ABCDEF0123456789abcdef0123456789_.-ab"
#define NAME64 NAME63 "x"

struct bad {
	const char *text;
	const char *msg;
};

static const struct bad bad[] = {
	/* lexical */
	{ HEAD "  protocol \"C\n" ALPHA BETA "}\n", "t.res:4: unterminated string" },
	{ HEAD "  protocol \"C\\", "t.res:4: unterminated string" },
	{ HEAD "  protocol \"\\C\"\n", "t.res:4: invalid escape '\\C' in string (only \\\" and \\\\)" },
	/* structure */
	{ "resource", "t.res:1: missing name after 'resource'" },
	{ "resource\nr0 {}", "t.res:1: missing name after 'resource'" },
	{ "resource r0 minor 0", "t.res:1: expected '{', found 'minor'" },
	{ "resource r0", "t.res:1: expected '{', found end of file" },
	{ "  resurce r0 {", "t.res:1: expected 'resource', found 'resurce'" },
	{ "\n}", "t.res:2: expected 'resource', found '}'" },
	{ "\"resource\" r0 {}", "t.res:1: expected 'resource', found string \"resource\"" },
	{ MINIMAL "{", "t.res:17: expected 'resource', found '{'" },
	{ HEAD ALPHA, "t.res:1: missing '}' of resource 'r0'" },
	{ HEAD ALPHA_START, "t.res:4: missing '}' of node 'alpha' of resource 'r0'" },
	{ HEAD ALPHA_START BETA "}\n", "t.res:6: 'node' inside node 'alpha' of resource 'r0' (missing '}'?)" },
	{ HEAD "  { }\n", "t.res:4: expected a key, 'node', 'arbiter' or '}', found '{'" },
	{ HEAD "  \"minor\" 1\n", "t.res:4: expected a key, 'node', 'arbiter' or '}', found string \"minor\"" },
	{ HEAD "  node alpha { { } }\n", "t.res:4: expected a key or '}', found '{'" },
	{ "resource r/0 {}", "t.res:1: invalid resource name 'r/0' (1..63 of A-Z a-z 0-9 _ . -)" },
	{ "resource \"\" {}", "t.res:1: invalid resource name '' (1..63 of A-Z a-z 0-9 _ . -)" },
	{ "resource " NAME64 " {}",
	  "t.res:1: invalid resource name '" NAME64 "' (1..63 of A-Z a-z 0-9 _ . -)" },
	{ "resource " NAME63 " {}", "t.res:1: missing 'minor' in resource '" NAME63 "'" },
	{ HEAD "  node al:pha {\n", "t.res:4: invalid node name 'al:pha' (1..63 of A-Z a-z 0-9 _ . -)" },
	{ HEAD "  arbiter {\n", "t.res:4: missing name after 'arbiter'" },
	/* keys */
	{ HEAD "  protcol C\n" ALPHA BETA "}\n", "t.res:4: unknown key 'protcol' in resource 'r0'" },
	{ HEAD ALPHA_START "    adress 192.0.2.1:7788\n", "t.res:6: unknown key 'adress' in node 'alpha' of resource 'r0'" },
	{ HEAD "  minor 1\n", "t.res:4: 'minor' given twice in resource 'r0' (first on line 2)" },
	{ HEAD ALPHA_START "    id 1\n", "t.res:6: 'id' given twice in node 'alpha' of resource 'r0' (first on line 5)" },
	{ HEAD "  protocol\n  C\n", "t.res:4: missing value for 'protocol' in resource 'r0'" },
	{ HEAD "  protocol }\n", "t.res:4: missing value for 'protocol' in resource 'r0'" },
	{ HEAD "  protocol", "t.res:4: missing value for 'protocol' in resource 'r0'" },
	/* values */
	{ "resource r0 {\n minor 256\n", "t.res:2: invalid minor '256' in resource 'r0' (expected 0..255)" },
	{ "resource r0 {\n minor -1\n", "t.res:2: invalid minor '-1' in resource 'r0' (expected 0..255)" },
	{ "resource r0 {\n minor 0x1\n", "t.res:2: invalid minor '0x1' in resource 'r0' (expected 0..255)" },
	{ "resource r0 {\n minor 99999999999999999999999\n", "t.res:2: invalid minor '99999999999999999999999' in resource 'r0' (expected 0..255)" },
	{ HEAD "  protocol B\n", "t.res:4: invalid protocol 'B' in resource 'r0' (expected A or C)" },
	{ HEAD "  protocol c\n", "t.res:4: invalid protocol 'c' in resource 'r0' (expected A or C)" },
	{ "resource r0 {\n secret \"\"\n", "t.res:2: secret in resource 'r0' must be 1..128 bytes, is 0" },
	{ HEAD "  on-no-quorum freeze\n", "t.res:4: invalid on-no-quorum 'freeze' in resource 'r0' (expected suspend-io or io-error)" },
	{ HEAD "  allow-two-primaries true\n", "t.res:4: invalid allow-two-primaries 'true' in resource 'r0' (expected yes or no)" },
	{ HEAD "  lock-extent 32K\n", "t.res:4: invalid lock-extent '32K' in resource 'r0' (a power of two from 64K to 1G)" },
	{ HEAD "  lock-extent 3M\n", "t.res:4: invalid lock-extent '3M' in resource 'r0' (a power of two from 64K to 1G)" },
	{ HEAD "  lock-extent 2G\n", "t.res:4: invalid lock-extent '2G' in resource 'r0' (a power of two from 64K to 1G)" },
	{ HEAD "  lock-extent M\n", "t.res:4: invalid lock-extent 'M' in resource 'r0' (a power of two from 64K to 1G)" },
	{ HEAD "  auto-promote on\n", "t.res:4: invalid auto-promote 'on' in resource 'r0' (expected yes or no)" },
	{ HEAD "  auto-promote yes\n  auto-promote no\n", "t.res:5: 'auto-promote' given twice in resource 'r0' (first on line 4)" },
	{ HEAD "  fence-peer fence.sh\n", "t.res:4: fence-peer 'fence.sh' in resource 'r0' is not an absolute path (max 255)" },
	{ HEAD "  fence-peer ./fence.sh\n", "t.res:4: fence-peer './fence.sh' in resource 'r0' is not an absolute path (max 255)" },
	{ HEAD "  fence-peer /a\n  fence-peer /b\n", "t.res:5: 'fence-peer' given twice in resource 'r0' (first on line 4)" },
	{ HEAD "  ping-interval 9\n", "t.res:4: invalid ping-interval '9' in resource 'r0' (expected 10..600000)" },
	{ HEAD "  ping-timeout 600001\n", "t.res:4: invalid ping-timeout '600001' in resource 'r0' (expected 10..600000)" },
	{ HEAD "  connect-interval 1s\n", "t.res:4: invalid connect-interval '1s' in resource 'r0' (expected 10..600000)" },
	{ HEAD "  connect-interval-max 0\n", "t.res:4: invalid connect-interval-max '0' in resource 'r0' (expected 10..600000)" },
	{ HEAD "  node alpha {\n    id 32\n", "t.res:5: invalid id '32' in node 'alpha' of resource 'r0' (expected 0..31)" },
	{ HEAD ALPHA_START "    disk vdb\n", "t.res:6: disk 'vdb' in node 'alpha' of resource 'r0' is not an absolute path" },
	{ HEAD ALPHA_START "    meta-disk external\n", "t.res:6: meta-disk 'external' in node 'alpha' of resource 'r0' is neither 'internal' nor an absolute path" },
	/* addresses */
#define ADDR_ERR(a, line) \
	{ HEAD ALPHA_START "    address " a "\n", \
	  "t.res:6: invalid address '" a "' in node 'alpha' of resource 'r0' (expected A.B.C.D:PORT or [IPV6]:PORT, PORT 1..65535)" }
	ADDR_ERR("192.0.2.1", 6),
	ADDR_ERR("192.0.2.1:", 6),
	ADDR_ERR("192.0.2.1:0", 6),
	ADDR_ERR("192.0.2.1:65536", 6),
	ADDR_ERR("192.0.2.1:+80", 6),
	ADDR_ERR("192.0.2:7788", 6),
	ADDR_ERR("192.0.2.256:7788", 6),
	ADDR_ERR("alpha.example:7788", 6),
	ADDR_ERR("2001:db8::1:7788", 6),
	ADDR_ERR("[2001:db8::1]", 6),
	ADDR_ERR("[2001:db8::1]7788", 6),
	ADDR_ERR("[192.0.2.1]:7788", 6),
	ADDR_ERR("[fe80::1%eth0]:7788", 6),
	ADDR_ERR(":7788", 6),
	{ HEAD ALPHA_START "    address 0.0.0.0:7788\n", "t.res:6: address '0.0.0.0:7788' in node 'alpha' of resource 'r0' is not a host address" },
	{ HEAD ALPHA_START "    control [::]:7788\n", "t.res:6: control '[::]:7788' in node 'alpha' of resource 'r0' is not a host address" },
	/* missing items: reported on the line of the block */
	{ "resource r0 {\n  secret x\n" ALPHA BETA "}\n", "t.res:1: missing 'minor' in resource 'r0'" },
	{ "resource r0 {\n  minor 0\n" ALPHA BETA "}\n", "t.res:1: missing 'secret' in resource 'r0'" },
	{ HEAD "  node alpha {\n    address 192.0.2.1:7788\n  }\n", "t.res:4: missing 'id' in node 'alpha' of resource 'r0'" },
	{ HEAD ALPHA_START "  }\n", "t.res:4: missing 'address' in node 'alpha' of resource 'r0'" },
	{ HEAD ALPHA_START "    address 192.0.2.1:7788\n  }\n", "t.res:4: missing 'disk' in node 'alpha' of resource 'r0'" },
	{ HEAD ALPHA_START "    address 192.0.2.1:7788\n    disk /dev/vdb\n  }\n", "t.res:4: missing 'meta-disk' in node 'alpha' of resource 'r0'" },
	{ HEAD "  arbiter g {\n  }\n", "t.res:4: missing 'id' in arbiter 'g' of resource 'r0'" },
	{ HEAD "  arbiter g {\n    id 2\n  }\n", "t.res:4: missing 'address' in arbiter 'g' of resource 'r0'" },
	/* node counts */
	{ HEAD ALPHA "}\n", "t.res:1: resource 'r0' needs exactly 2 'node' blocks, has 1" },
	{ "resource r0 { minor 0 secret x }", "t.res:1: resource 'r0' needs exactly 2 'node' blocks, has 0" },
	{ HEAD ALPHA BETA "  node delta {\n", "t.res:16: more than two 'node' blocks in resource 'r0'" },
	{ HEAD "  arbiter g { id 2 address 192.0.2.3:1 }\n  arbiter h {\n", "t.res:5: more than one 'arbiter' in resource 'r0'" },
	{ HEAD "  arbiter g {\n    disk /dev/vdb\n", "t.res:5: an arbiter has no 'disk' (arbiter 'g' of resource 'r0')" },
	{ HEAD "  arbiter g {\n    meta-disk internal\n", "t.res:5: an arbiter has no 'meta-disk' (arbiter 'g' of resource 'r0')" },
	/* combinations */
	{ HEAD "  protocol A\n  allow-two-primaries yes\n" ALPHA BETA "}\n", "t.res:5: allow-two-primaries yes needs protocol C in resource 'r0'" },
	{ HEAD "  connect-interval 6000\n" ALPHA BETA "}\n", "t.res:4: connect-interval 6000 is above connect-interval-max 5000 in resource 'r0'" },
	{ HEAD "  connect-interval-max 100\n" ALPHA BETA "}\n", "t.res:4: connect-interval 200 is above connect-interval-max 100 in resource 'r0'" },
	{ HEAD ALPHA_START "    address 192.0.2.1:7788\n    disk /dev/vdb\n    meta-disk /dev/vdb\n  }\n",
	  "t.res:8: meta-disk of node 'alpha' of resource 'r0' is the same as its disk" },
	{ HEAD ALPHA_START "    address 192.0.2.1:7788\n    control 192.0.2.1:7788\n"
	  "    disk /dev/vdb\n    meta-disk internal\n  }\n",
	  "t.res:7: control address of node 'alpha' of resource 'r0' is the same as its address" },
	{ HEAD ALPHA_START "    address 192.0.2.1:65535\n    disk /dev/vdb\n    meta-disk internal\n  }\n",
	  "t.res:6: address port 65535 of node 'alpha' of resource 'r0' leaves no port+1 for the control address; give 'control'" },
	/* duplicates within a resource */
	{ HEAD ALPHA "  node alpha {\n    id 1\n    address 192.0.2.2:7788\n    disk /dev/vdb\n    meta-disk internal\n  }\n",
	  "t.res:10: duplicate node name 'alpha' in resource 'r0' (first on line 4)" },
	{ HEAD ALPHA BETA "  arbiter beta { id 2 address 192.0.2.3:1 }\n",
	  "t.res:16: duplicate node name 'beta' in resource 'r0' (first on line 10)" },
	{ HEAD ALPHA "  node beta {\n    id 0\n    address 192.0.2.2:7788\n    disk /dev/vdb\n    meta-disk internal\n  }\n",
	  "t.res:11: id 0 of node 'beta' of resource 'r0' is already used by node 'alpha'" },
	{ HEAD ALPHA BETA "  arbiter g {\n    id 1\n    address 192.0.2.3:1\n  }\n",
	  "t.res:17: id 1 of arbiter 'g' of resource 'r0' is already used by node 'beta'" },
	{ HEAD ALPHA "  node beta {\n    id 1\n    address 192.0.2.1:7788\n    disk /dev/vdb\n    meta-disk internal\n  }\n",
	  "t.res:12: address 192.0.2.1:7788 of node 'beta' of resource 'r0' is already the address of node 'alpha' in resource 'r0'" },
	{ HEAD ALPHA "  node beta {\n    id 1\n    address 192.0.2.1:7789\n    disk /dev/vdb\n    meta-disk internal\n  }\n",
	  "t.res:12: address 192.0.2.1:7789 of node 'beta' of resource 'r0' is already the control address of node 'alpha' in resource 'r0'" },
	{ HEAD ALPHA "  node beta {\n    id 1\n    address 192.0.2.1:7787\n    disk /dev/vdb\n    meta-disk internal\n  }\n",
	  "t.res:12: control address 192.0.2.1:7788 of node 'beta' of resource 'r0' is already the address of node 'alpha' in resource 'r0'" },
	{ HEAD ALPHA BETA "  arbiter g {\n    id 2\n    address 192.0.2.3:1\n    control 192.0.2.2:7789\n  }\n",
	  "t.res:19: control address 192.0.2.2:7789 of arbiter 'g' of resource 'r0' is already the control address of node 'beta' in resource 'r0'" },
	/* duplicates across resources of one file */
	{ MINIMAL "resource r0 {}\n", "t.res:17: duplicate resource name 'r0' (first in t.res:1)" },
	{ MINIMAL "resource r1 { minor 0 secret s\n"
	  " node a { id 0 address 192.0.2.1:1 disk /dev/a meta-disk internal }\n"
	  " node b { id 1 address 192.0.2.2:1 disk /dev/b meta-disk internal } }\n",
	  "t.res:17: minor 0 of resource 'r1' is already used by resource 'r0' (t.res:1)" },
	{ MINIMAL "resource r1 { minor 1 secret s\n"
	  " node a { id 0 address 192.0.2.2:7788 disk /dev/a meta-disk internal }\n",
	  "t.res:18: address 192.0.2.2:7788 of node 'a' of resource 'r1' is already the address of node 'beta' in resource 'r0'" },
	{ MINIMAL "resource r1 { minor 1 secret s\n"
	  " node a { id 0 address 192.0.2.2:7000 control 192.0.2.1:7789 disk /dev/a meta-disk internal }\n",
	  "t.res:18: control address 192.0.2.1:7789 of node 'a' of resource 'r1' is already the control address of node 'alpha' in resource 'r0'" },
	{ MINIMAL "resource r1 { minor 1 secret s\n"
	  " node alpha {\n id 0 address 192.0.2.1:7000\n disk /dev/vdb\n meta-disk internal }\n",
	  "t.res:20: disk '/dev/vdb' of node 'alpha' of resource 'r1' is already the disk of node 'alpha' in resource 'r0' (t.res:1)" },
	{ MINIMAL "resource r1 { minor 1 secret s\n"
	  " node beta {\n id 0 address 192.0.2.2:7000\n disk /dev/vdc\n meta-disk /dev/vdb }\n",
	  "t.res:21: meta-disk '/dev/vdb' of node 'beta' of resource 'r1' is already the disk of node 'beta' in resource 'r0' (t.res:1)" },
};

START_TEST(errors)
{
	const struct bad *b = &bad[_i];
	int ret = hablk_config_load_string(&cfg, "t.res", b->text, err, sizeof(err));

	ck_assert_msg(ret == -1, "accepted: %s", b->text);
	ck_assert_str_eq(err, b->msg);
	assert_empty();
}
END_TEST

/* An error in the second resource leaves nothing of the first one. */
START_TEST(error_after_good_resource)
{
	ck_assert_int_eq(hablk_config_load_string(&cfg, "t.res", MINIMAL R1 "x",
						  err, sizeof(err)), -1);
	ck_assert_str_eq(err, "t.res:33: expected 'resource', found 'x'");
	assert_empty();
}
END_TEST

/* ---- addresses ---- */

START_TEST(addr_parse_format)
{
	static const char *const good[] = {
		"192.0.2.1:1", "255.255.255.255:65535", "0.0.0.0:7788",
		"[::1]:7788", "[2001:db8::1]:1", "[::ffff:192.0.2.1]:80",
	};
	struct sockaddr_storage ss;
	char buf[HABLK_ADDRSTRLEN];
	socklen_t len;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(good); i++) {
		ck_assert_int_eq(hablk_addr_parse(good[i], &ss, &len), 0);
		ck_assert_str_eq(hablk_addr_format(&ss, len, buf, sizeof(buf)), good[i]);
	}
	ck_assert_int_eq(hablk_addr_parse("[2001:DB8:0::0001]:07788", &ss, &len), 0);
	ck_assert_str_eq(hablk_addr_format(&ss, len, buf, sizeof(buf)),
			 "[2001:db8::1]:7788");

	errno = 0;
	ck_assert_int_eq(hablk_addr_parse("", &ss, &len), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(hablk_addr_parse("[", &ss, &len), -1);
	ck_assert_int_eq(hablk_addr_parse("1.2.3.4:5:6", &ss, &len), -1);
	ck_assert_int_eq(hablk_addr_parse("[::1]:1 ", &ss, &len), -1);
	ck_assert_int_eq(hablk_addr_parse("[0000:0000:0000:0000:0000:0000:0000:0000:0]:1",
					  &ss, &len), -1);

	/* the longest form fits HABLK_ADDRSTRLEN */
	ck_assert_int_eq(hablk_addr_parse("[ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255]:65535",
					  &ss, &len), 0);
	ck_assert_ptr_nonnull(hablk_addr_format(&ss, len, buf, sizeof(buf)));

	ck_assert_int_eq(hablk_addr_parse("192.0.2.1:7788", &ss, &len), 0);
	errno = 0;
	ck_assert_ptr_null(hablk_addr_format(&ss, len, buf, 14));
	ck_assert_int_eq(errno, ENOSPC);
	ck_assert_ptr_nonnull(hablk_addr_format(&ss, len, buf, 15));
	ck_assert_ptr_null(hablk_addr_format(&ss, len - 1, buf, sizeof(buf)));
	ss.ss_family = AF_UNIX;
	errno = 0;
	ck_assert_ptr_null(hablk_addr_format(&ss, sizeof(ss), buf, sizeof(buf)));
	ck_assert_int_eq(errno, EAFNOSUPPORT);
}
END_TEST

/* Equal: the same family, address and port; what hablkd matches its sockets with. */
START_TEST(addr_equal)
{
	static const struct {
		const char *a, *b;
		bool equal;
	} pairs[] = {
		{ "192.0.2.1:7788", "192.0.2.1:7788", true },
		{ "192.0.2.1:7788", "192.0.2.1:7789", false },
		{ "192.0.2.1:7788", "192.0.2.2:7788", false },
		{ "[2001:db8::1]:7788", "[2001:DB8:0::1]:7788", true },
		{ "[2001:db8::1]:7788", "[2001:db8::1]:7789", false },
		{ "[2001:db8::1]:7788", "[2001:db8::2]:7788", false },
		{ "[::ffff:192.0.2.1]:7788", "192.0.2.1:7788", false },	/* another family */
	};
	struct sockaddr_storage a, b;
	socklen_t len;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(pairs); i++) {
		ck_assert_int_eq(hablk_addr_parse(pairs[i].a, &a, &len), 0);
		ck_assert_int_eq(hablk_addr_parse(pairs[i].b, &b, &len), 0);
		ck_assert_msg(hablk_addr_equal(&a, &b) == pairs[i].equal, "%s vs %s",
			      pairs[i].a, pairs[i].b);
		ck_assert_msg(hablk_addr_equal(&b, &a) == pairs[i].equal, "%s vs %s",
			      pairs[i].b, pairs[i].a);
	}
}
END_TEST

/* ---- files and directories ---- */

static char tmpdir[64];

static void dir_setup(void)
{
	setup();
	strcpy(tmpdir, "/tmp/test_config.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void rm_rf(const char *dir)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}

static void dir_teardown(void)
{
	rm_rf(tmpdir);
	teardown();
}

static void write_file(const char *name, const char *text, size_t len)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(text, 1, len, f), len);
	ck_assert_int_eq(fclose(f), 0);
}

#define WRITE(name, text)	write_file(name, text, strlen(text))

START_TEST(load_file_ok)
{
	char path[128];

	WRITE("r0.res", spec_example);
	snprintf(path, sizeof(path), "%s/r0.res", tmpdir);
	ck_assert_int_eq(hablk_config_load_file(&cfg, path, err, sizeof(err)), 0);
	ck_assert_uint_eq(cfg.nr_res, 1);
	ck_assert_str_eq(cfg.res[0].file, path);
	ck_assert_str_eq(cfg.res[0].arbiter.name, "gamma");
}
END_TEST

START_TEST(load_file_errors)
{
	char path[128], want[256];

	snprintf(path, sizeof(path), "%s/none.res", tmpdir);
	ck_assert_int_eq(hablk_config_load_file(&cfg, path, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s: No such file or directory", path);
	ck_assert_str_eq(err, want);
	assert_empty();

	write_file("nul.res", "resource r0 {\n\0", 15);
	snprintf(path, sizeof(path), "%s/nul.res", tmpdir);
	ck_assert_int_eq(hablk_config_load_file(&cfg, path, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s:2: NUL byte in file", path);
	ck_assert_str_eq(err, want);
	assert_empty();

	ck_assert_int_eq(hablk_config_load_file(&cfg, tmpdir, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s: Is a directory", tmpdir);
	ck_assert_str_eq(err, want);
	assert_empty();
}
END_TEST

START_TEST(load_dir_sorted)
{
	WRITE("b.res", R1);
	WRITE("a.res", MINIMAL);
	WRITE("c.res.orig", "garbage");
	WRITE(".hidden.res", "garbage");
	WRITE("res", "garbage");
	ck_assert_int_eq(hablk_config_load_dir(&cfg, tmpdir, err, sizeof(err)), 0);
	ck_assert_uint_eq(cfg.nr_res, 2);
	ck_assert_str_eq(cfg.res[0].name, "r0");
	ck_assert_str_eq(cfg.res[1].name, "r1");
	ck_assert_ptr_nonnull(strstr(cfg.res[1].file, "/b.res"));
	ck_assert_uint_eq(cfg.res[1].line, 1);
}
END_TEST

START_TEST(load_dir_cross_file_duplicate)
{
	char want[256];

	WRITE("a.res", MINIMAL);
	WRITE("b.res", "# again\n" MINIMAL);
	ck_assert_int_eq(hablk_config_load_dir(&cfg, tmpdir, err, sizeof(err)), -1);
	snprintf(want, sizeof(want),
		 "%s/b.res:2: duplicate resource name 'r0' (first in %s/a.res:1)",
		 tmpdir, tmpdir);
	ck_assert_str_eq(err, want);
	assert_empty();
}
END_TEST

START_TEST(load_dir_cross_file_minor)
{
	char want[256];

	WRITE("a.res", MINIMAL);
	WRITE("b.res", "resource r1 {\n  minor 0\n");
	ck_assert_int_eq(hablk_config_load_dir(&cfg, tmpdir, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s/b.res:1: missing '}' of resource 'r1'",
		 tmpdir);
	ck_assert_str_eq(err, want);
	assert_empty();

	WRITE("b.res", R1);
	WRITE("c.res", "resource r2 { minor 1 secret s\n"
	      " node a { id 0 address 192.0.2.1:1 disk /dev/a meta-disk internal }\n"
	      " node b { id 1 address 192.0.2.2:1 disk /dev/b meta-disk internal } }\n");
	ck_assert_int_eq(hablk_config_load_dir(&cfg, tmpdir, err, sizeof(err)), -1);
	snprintf(want, sizeof(want),
		 "%s/c.res:1: minor 1 of resource 'r2' is already used by resource 'r1' (%s/b.res:1)",
		 tmpdir, tmpdir);
	ck_assert_str_eq(err, want);
	assert_empty();
}
END_TEST

START_TEST(load_dir_empty_and_missing)
{
	char path[128], want[256];

	ck_assert_int_eq(hablk_config_load_dir(&cfg, tmpdir, err, sizeof(err)), 0);
	assert_empty();

	snprintf(path, sizeof(path), "%s/nope", tmpdir);
	ck_assert_int_eq(hablk_config_load_dir(&cfg, path, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s: No such file or directory", path);
	ck_assert_str_eq(err, want);
	assert_empty();
}
END_TEST

/* after-sb and split-brain-save: the default, every policy, and bad values */
START_TEST(after_sb_keys)
{
	static const char *const names[] = {
		"disconnect", "discard-zero-changes", "discard-least-changes",
		"discard-younger-primary", "discard-secondary",
	};
	char text[1024];
	size_t i;

	ck_assert_int_eq(load_ok(MINIMAL)->after_sb, 0);
	ck_assert_str_eq(cfg.res[0].split_brain_save, "");
	hablk_config_free(&cfg);
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(text, sizeof(text), HEAD "  after-sb %s\n  split-brain-save /var/sb\n"
			 ALPHA BETA "}\n", names[i]);
		ck_assert_int_eq(load_ok(text)->after_sb, (int)i);
		ck_assert_str_eq(cfg.res[0].split_brain_save, "/var/sb");
		hablk_config_free(&cfg);
	}
	ck_assert_int_eq(hablk_config_load_string(&cfg, "t.res",
			 HEAD "  after-sb discard-everything\n" ALPHA BETA "}\n", err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "t.res:4: invalid after-sb 'discard-everything'"), "%s", err);
	assert_empty();
	ck_assert_int_eq(hablk_config_load_string(&cfg, "t.res",
			 HEAD "  split-brain-save sb\n" ALPHA BETA "}\n", err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "t.res:4: split-brain-save 'sb'"), "%s", err);
	assert_empty();
}
END_TEST

/* auto-promote: no by default, yes and no accepted */
START_TEST(auto_promote_key)
{
	ck_assert(!load_ok(MINIMAL)->auto_promote);
	hablk_config_free(&cfg);
	ck_assert(load_ok(HEAD "  auto-promote yes\n" ALPHA BETA "}\n")->auto_promote);
	hablk_config_free(&cfg);
	ck_assert(!load_ok(HEAD "  auto-promote no\n" ALPHA BETA "}\n")->auto_promote);
}
END_TEST

/* fence-peer: none by default; an absolute path of at most 255 bytes, quoted too */
START_TEST(fence_peer_key)
{
	char path[300], text[1024], want[512];

	ck_assert_str_eq(load_ok(MINIMAL)->fence_peer, "");
	hablk_config_free(&cfg);
	ck_assert_str_eq(load_ok(HEAD "  fence-peer /usr/local/sbin/fence-beta\n" ALPHA BETA "}\n")
			 ->fence_peer, "/usr/local/sbin/fence-beta");
	hablk_config_free(&cfg);
	ck_assert_str_eq(load_ok(HEAD "  fence-peer \"/etc/hablk/fence peer\"\n" ALPHA BETA "}\n")
			 ->fence_peer, "/etc/hablk/fence peer");
	hablk_config_free(&cfg);

	/* 255 bytes: the longest accepted */
	memset(path, 'f', 255);
	path[0] = '/';
	path[255] = '\0';
	snprintf(text, sizeof(text), HEAD "  fence-peer %s\n" ALPHA BETA "}\n", path);
	ck_assert_str_eq(load_ok(text)->fence_peer, path);
	hablk_config_free(&cfg);

	/* 256 bytes: refused */
	path[255] = 'f';
	path[256] = '\0';
	snprintf(text, sizeof(text), HEAD "  fence-peer %s\n" ALPHA BETA "}\n", path);
	ck_assert_int_eq(hablk_config_load_string(&cfg, "t.res", text, err, sizeof(err)), -1);
	snprintf(want, sizeof(want),
		 "t.res:4: fence-peer '%s' in resource 'r0' is not an absolute path (max 255)", path);
	ck_assert_str_eq(err, want);
	assert_empty();
}
END_TEST

Suite *config_suite(void)
{
	Suite *s = suite_create("config");
	TCase *tc;

	tc = tcase_create("parse");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, spec_example_parses);
	tcase_add_test(tc, defaults);
	tcase_add_test(tc, after_sb_keys);
	tcase_add_test(tc, auto_promote_key);
	tcase_add_test(tc, fence_peer_key);
	tcase_add_test(tc, all_keys_set);
	tcase_add_test(tc, two_primaries_with_protocol_c);
	tcase_add_test(tc, comments_strings_escapes);
	tcase_add_test(tc, secret_lengths);
	tcase_add_test(tc, ipv6);
	tcase_add_test(tc, several_resources_and_find);
	tcase_add_test(tc, empty_file);
	tcase_add_test(tc, shared_control_same_host);
	tcase_add_test(tc, many_resources);
	tcase_add_test(tc, res_local);
	suite_add_tcase(s, tc);

	tc = tcase_create("errors");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, errors, 0, ARRAY_SIZE(bad));
	tcase_add_test(tc, error_after_good_resource);
	tcase_add_test(tc, error_without_buffer);
	suite_add_tcase(s, tc);

	tc = tcase_create("addr");
	tcase_add_test(tc, addr_parse_format);
	tcase_add_test(tc, addr_equal);
	suite_add_tcase(s, tc);

	tc = tcase_create("files");
	tcase_add_checked_fixture(tc, dir_setup, dir_teardown);
	tcase_add_test(tc, load_file_ok);
	tcase_add_test(tc, load_file_errors);
	tcase_add_test(tc, load_dir_sorted);
	tcase_add_test(tc, load_dir_cross_file_duplicate);
	tcase_add_test(tc, load_dir_cross_file_minor);
	tcase_add_test(tc, load_dir_empty_and_missing);
	suite_add_tcase(s, tc);
	return s;
}
