// SPDX-License-Identifier: GPL-2.0
/* test_hablkd.c - check(3) unit tests of hablkd's pure parts: SHA-256/HMAC, heartbeats
 * and the replay filter, quorum timing, the arbiter's store and vote, decisions. */
#define _DEFAULT_SOURCE		/* mkdtemp(), htobe32() */

#include <check.h>
#include <dirent.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../userspace/arbiter.h"
#include "../../userspace/decide.h"
#include "../../userspace/hbmsg.h"
#include "../../userspace/quorum.h"
#include "../../userspace/hash.h"
#include "suites.h"

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#define SECRET		"s3cr3t"
#define RES		"r0"
#define SELF		1	/* the receiving node in the heartbeat tests */

static const char *hex(const uint8_t *p, size_t n)
{
	static char s[2 * 64 + 1];
	size_t i;

	for (i = 0; i < n; i++)
		sprintf(s + 2 * i, "%02x", p[i]);
	return s;
}

/* ---- SHA-256 ---- */

static const char *sha_hex(const void *p, size_t n)
{
	uint8_t d[HABLK_SHA256_LEN];

	hablk_sha256(p, n, d);
	return hex(d, sizeof(d));
}

/* FIPS 180-2, appendix B.1, B.2, B.3; and the empty message. */
START_TEST(sha256_fips)
{
	ck_assert_str_eq(sha_hex("abc", 3),
			 "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	ck_assert_str_eq(sha_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56),
			 "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
	ck_assert_str_eq(sha_hex("", 0),
			 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}
END_TEST

START_TEST(sha256_million_a)
{
	char *a = malloc(1000000);

	ck_assert_ptr_nonnull(a);
	memset(a, 'a', 1000000);
	ck_assert_str_eq(sha_hex(a, 1000000),
			 "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
	free(a);
}
END_TEST

/*
 * Every length 0..199 around the padding edges (55, 56, 63, 64, 119, 120):
 * the digest of the digests of bytes i % 251, as Python's hashlib gives it.
 */
START_TEST(sha256_lengths)
{
	uint8_t msg[200], d[200][HABLK_SHA256_LEN];
	size_t i, n;

	for (i = 0; i < sizeof(msg); i++)
		msg[i] = i % 251;
	for (n = 0; n < sizeof(msg); n++)
		hablk_sha256(msg, n, d[n]);
	ck_assert_str_eq(sha_hex(d, sizeof(d)),
			 "ba7b0fcea7d10c06b855b43d2b4dce1e3e842fff6be0acefb0faf4f2dd05bb47");
}
END_TEST

/* RFC 4231, test cases 1-4, 6 and 7 (5 truncates the output). */
static const struct {
	const char *key, *data, *mac;
	size_t klen, dlen;
} rfc4231[] = {
	{ "\x0b\x0b\x0b\x0b\x0b\x0b\x0b\x0b\x0b\x0b\x0b\x0b\x0b\x0b\x0b\x0b\x0b\x0b\x0b\x0b",
	  "Hi There",
	  "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7", 20, 8 },
	{ "Jefe", "what do ya want for nothing?",
	  "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843", 4, 28 },
	{ NULL, NULL,
	  "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe", 20, 50 },
	{ "\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10"
	  "\x11\x12\x13\x14\x15\x16\x17\x18\x19", NULL,
	  "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b", 25, 50 },
	{ NULL, "Test Using Larger Than Block-Size Key - Hash Key First",
	  "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54", 131, 54 },
	{ NULL, "This is a test using a larger than block-size key and a larger than "
		"block-size data. The key needs to be hashed before being used by the "
		"HMAC algorithm.",
	  "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2", 131, 152 },
};

/* NULL key: klen bytes 0xaa; NULL data: dlen bytes 0xdd (case 3) or 0xcd (case 4). */
START_TEST(hmac_rfc4231)
{
	uint8_t key[131], data[50], d[HABLK_SHA256_LEN];
	const void *k = rfc4231[_i].key, *m = rfc4231[_i].data;

	memset(key, 0xaa, sizeof(key));
	memset(data, _i == 2 ? 0xdd : 0xcd, sizeof(data));
	hablk_hmac_sha256(k ? k : key, rfc4231[_i].klen, m ? m : data, rfc4231[_i].dlen, d);
	ck_assert_str_eq(hex(d, sizeof(d)), rfc4231[_i].mac);
}
END_TEST

START_TEST(memeq_ct)
{
	uint8_t a[32], b[32];
	size_t i;

	for (i = 0; i < sizeof(a); i++)
		a[i] = b[i] = i;
	ck_assert_int_eq(hablk_memeq_ct(a, b, sizeof(a)), 1);
	ck_assert_int_eq(hablk_memeq_ct(a, b, 0), 1);
	for (i = 0; i < sizeof(a); i++) {
		b[i] ^= 0x80;
		ck_assert_int_eq(hablk_memeq_ct(a, b, sizeof(a)), 0);
		ck_assert_int_eq(hablk_memeq_ct(a, b, i), 1);
		b[i] ^= 0x80;
	}
}
END_TEST

/* ---- heartbeat messages ---- */

static struct hablk_hb sample(void)
{
	struct hablk_hb m = {
		.type = HABLK_HB_HEARTBEAT,
		.sender_id = 0,
		.dest_id = SELF,
		.path = HABLK_HB_PATH_CONTROL,
		.role = HABLK_HB_ROLE_PRIMARY,
		.disk = 4,
		.flags = HABLK_HB_F_QUORUM,
		.res = RES,
		.boot_id = 0x1122334455667788ULL,
		.seq = 42,
		.echo_boot = 0x0102030405060708ULL,
		.sees = 0x7,
		.current_uuid = 0xa1b2c3d4e5f60718ULL,
	};

	return m;
}

static uint8_t *encoded(uint8_t buf[HABLK_HB_LEN])
{
	struct hablk_hb m = sample();

	hablk_hb_encode(&m, SECRET, buf);
	return buf;
}

/* Recompute the MAC: a message forged by someone who knows the secret. */
static void remac(uint8_t *buf)
{
	hablk_hmac_sha256(SECRET, strlen(SECRET), buf, HABLK_HB_MAC_OFF,
			  buf + HABLK_HB_MAC_OFF);
}

/* Field by field: the structs have padding. */
static void assert_hb_eq(const struct hablk_hb *a, const struct hablk_hb *b)
{
	ck_assert_uint_eq(a->type, b->type);
	ck_assert_uint_eq(a->sender_id, b->sender_id);
	ck_assert_uint_eq(a->dest_id, b->dest_id);
	ck_assert_uint_eq(a->path, b->path);
	ck_assert_uint_eq(a->role, b->role);
	ck_assert_uint_eq(a->disk, b->disk);
	ck_assert_uint_eq(a->flags, b->flags);
	ck_assert_mem_eq(a->res, b->res, sizeof(a->res));
	ck_assert_uint_eq(a->boot_id, b->boot_id);
	ck_assert_uint_eq(a->seq, b->seq);
	ck_assert_uint_eq(a->echo_boot, b->echo_boot);
	ck_assert_uint_eq(a->sees, b->sees);
	ck_assert_uint_eq(a->current_uuid, b->current_uuid);
}

static int decode(const uint8_t *buf, size_t len)
{
	struct hablk_hb out;

	return hablk_hb_decode(buf, len, SECRET, RES, SELF, &out);
}

START_TEST(hb_layout)
{
	ck_assert_uint_eq(sizeof(struct hablk_hb_wire), 148);
	ck_assert_uint_eq(offsetof(struct hablk_hb_wire, version), 4);
	ck_assert_uint_eq(offsetof(struct hablk_hb_wire, type), 5);
	ck_assert_uint_eq(offsetof(struct hablk_hb_wire, sender_id), 6);
	ck_assert_uint_eq(offsetof(struct hablk_hb_wire, dest_id), 7);
	ck_assert_uint_eq(offsetof(struct hablk_hb_wire, path), 8);
	ck_assert_uint_eq(offsetof(struct hablk_hb_wire, role), 9);
	ck_assert_uint_eq(offsetof(struct hablk_hb_wire, disk), 10);
	ck_assert_uint_eq(offsetof(struct hablk_hb_wire, flags), 11);
	ck_assert_uint_eq(offsetof(struct hablk_hb_wire, res), 12);
	ck_assert_uint_eq(offsetof(struct hablk_hb_wire, boot_id), 76);
	ck_assert_uint_eq(offsetof(struct hablk_hb_wire, seq), 84);
	ck_assert_uint_eq(offsetof(struct hablk_hb_wire, echo_boot), 92);
	ck_assert_uint_eq(offsetof(struct hablk_hb_wire, sees), 100);
	ck_assert_uint_eq(offsetof(struct hablk_hb_wire, pad), 104);
	ck_assert_uint_eq(offsetof(struct hablk_hb_wire, current_uuid), 108);
	ck_assert_uint_eq(offsetof(struct hablk_hb_wire, mac), 116);
}
END_TEST

/* Big-endian fields, NUL padding, and an HMAC over the first 116 bytes. */
START_TEST(hb_encode_bytes)
{
	static const uint8_t head[12] = {
		'H', 'B', 'K', 'D', 1, HABLK_HB_HEARTBEAT, 0, SELF, 1, 1, 4, 1,
	};
	static const uint8_t tail[40] = {
		0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88,	/* boot_id */
		0, 0, 0, 0, 0, 0, 0, 42,			/* seq */
		1, 2, 3, 4, 5, 6, 7, 8,				/* echo_boot */
		0, 0, 0, 7, 0, 0, 0, 0,				/* sees, pad */
		0xa1, 0xb2, 0xc3, 0xd4, 0xe5, 0xf6, 0x07, 0x18,	/* current_uuid */
	};
	uint8_t buf[HABLK_HB_LEN], res[HABLK_HB_RES_LEN] = RES, mac[32];

	memset(buf, 0xee, sizeof(buf));
	encoded(buf);
	ck_assert_mem_eq(buf, head, sizeof(head));
	ck_assert_mem_eq(buf + 12, res, sizeof(res));
	ck_assert_mem_eq(buf + 76, tail, sizeof(tail));
	hablk_hmac_sha256(SECRET, strlen(SECRET), buf, 116, mac);
	ck_assert_mem_eq(buf + 116, mac, sizeof(mac));
	/*
	 * The MAC as builds before nettle (their own SHA-256) and Python's hmac
	 * compute it: hablkd instances of either build accept each other.
	 */
	ck_assert_str_eq(hex(buf + 116, 32),
			 "06214edc5601659ce77268b6e8a8557c2d973a58faaa85537246fc1d2ad0123d");
}
END_TEST

START_TEST(hb_round_trip)
{
	struct hablk_hb in = sample(), out;
	uint8_t buf[HABLK_HB_LEN];

	hablk_hb_encode(&in, SECRET, buf);
	memset(&out, 0xee, sizeof(out));
	ck_assert_int_eq(hablk_hb_decode(buf, sizeof(buf), SECRET, RES, SELF, &out), 0);
	assert_hb_eq(&out, &in);
}
END_TEST

/* The extremes of every field that is checked are accepted. */
START_TEST(hb_edges_accepted)
{
	struct hablk_hb in = sample(), out;
	uint8_t buf[HABLK_HB_LEN];

	in.sender_id = HABLK_HB_ID_MAX;
	in.dest_id = 0;
	in.path = HABLK_HB_PATH_LINK;
	in.role = HABLK_HB_ROLE_NONE;
	in.disk = HABLK_HB_DISK_NONE;
	in.flags = HABLK_HB_F_ALL;
	memset(in.res, 'x', 63);
	in.res[63] = '\0';
	in.boot_id = in.seq = in.echo_boot = in.current_uuid = UINT64_MAX;
	in.sees = UINT32_MAX;
	hablk_hb_encode(&in, SECRET, buf);
	ck_assert_int_eq(hablk_hb_decode(buf, sizeof(buf), SECRET, in.res, 0, &out), 0);
	assert_hb_eq(&out, &in);
}
END_TEST

/* The encoder cuts the name to 63 bytes and clears unknown flag bits. */
START_TEST(hb_encode_sanitises)
{
	struct hablk_hb in = sample(), out;
	uint8_t buf[HABLK_HB_LEN];
	char cut[64];

	memset(in.res, 'y', sizeof(in.res));
	memset(cut, 'y', 63);
	cut[63] = '\0';
	in.flags = 0xff;
	hablk_hb_encode(&in, SECRET, buf);
	ck_assert_int_eq(buf[12 + 63], 0);
	ck_assert_int_eq(hablk_hb_decode(buf, sizeof(buf), SECRET, cut, SELF, &out), 0);
	ck_assert_str_eq(out.res, cut);
	ck_assert_uint_eq(out.flags, HABLK_HB_F_ALL);
}
END_TEST

START_TEST(hb_bad_length)
{
	uint8_t buf[HABLK_HB_LEN + 1];
	size_t len = _i;

	encoded(buf);
	buf[HABLK_HB_LEN] = 0;
	if (len == HABLK_HB_LEN)
		len++;
	ck_assert_int_eq(decode(buf, len), -EMSGSIZE);
}
END_TEST

START_TEST(hb_bad_length_huge)
{
	uint8_t buf[HABLK_HB_LEN];

	ck_assert_int_eq(decode(encoded(buf), 65535), -EMSGSIZE);
	ck_assert_int_eq(decode(buf, SIZE_MAX), -EMSGSIZE);
}
END_TEST

/* Any byte changed, MAC or not, and it is a bad MAC: nothing else is read first. */
START_TEST(hb_flip_byte)
{
	uint8_t buf[HABLK_HB_LEN];
	int bit;

	for (bit = 0; bit < 8; bit++) {
		encoded(buf);
		buf[_i] ^= 1u << bit;
		ck_assert_int_eq(decode(buf, sizeof(buf)), -EBADMSG);
	}
}
END_TEST

START_TEST(hb_wrong_secret)
{
	static const char *const secrets[] = { "s3cr3T", "s3cr3", "s3cr3t ", "", "x" };
	struct hablk_hb out;
	uint8_t buf[HABLK_HB_LEN];
	size_t i;

	encoded(buf);
	for (i = 0; i < ARRAY_SIZE(secrets); i++)
		ck_assert_int_eq(hablk_hb_decode(buf, sizeof(buf), secrets[i], RES, SELF, &out),
				 -EBADMSG);
}
END_TEST

/* Forged with the wrong secret and a bad magic: the MAC is what is reported. */
START_TEST(hb_mac_before_fields)
{
	struct hablk_hb in = sample();
	uint8_t buf[HABLK_HB_LEN];

	in.dest_id = 7;
	hablk_hb_encode(&in, "other", buf);
	buf[0] = 'X';
	ck_assert_int_eq(decode(buf, sizeof(buf)), -EBADMSG);
	remac(buf);
	ck_assert_int_eq(decode(buf, sizeof(buf)), -EPROTO);
}
END_TEST

/* A field set to a bad value by someone who knows the secret. */
static const struct {
	const char *what;
	size_t off, len;	/* bytes to overwrite */
	const char *val;
	int err;
} bad_fields[] = {
	{ "magic", 0, 4, "HBLK", -EPROTO },
	{ "magic byte 3", 3, 1, "\x00", -EPROTO },
	{ "magic little-endian", 0, 4, "DKBH", -EPROTO },
	{ "version 0", 4, 1, "\x00", -EPROTONOSUPPORT },
	{ "version 2", 4, 1, "\x02", -EPROTONOSUPPORT },
	{ "version 255", 4, 1, "\xff", -EPROTONOSUPPORT },
	{ "type 0", 5, 1, "\x00", -EOPNOTSUPP },
	{ "type 2", 5, 1, "\x02", -EOPNOTSUPP },
	{ "type 255", 5, 1, "\xff", -EOPNOTSUPP },
	{ "sender 32", 6, 1, "\x20", -ERANGE },
	{ "sender 255", 6, 1, "\xff", -ERANGE },
	{ "sender self", 6, 1, "\x01", -ELOOP },
	{ "dest 0", 7, 1, "\x00", -EXDEV },
	{ "dest 2", 7, 1, "\x02", -EXDEV },
	{ "dest 255", 7, 1, "\xff", -EXDEV },
	{ "path 2", 8, 1, "\x02", -EINVAL },
	{ "path 255", 8, 1, "\xff", -EINVAL },
	{ "res other", 12, 3, "r1", -ENOENT },
	{ "res longer", 12, 4, "r00", -ENOENT },
	{ "res shorter", 12, 2, "r", -ENOENT },
	{ "res empty", 12, 1, "", -ENOENT },
	{ "res case", 12, 1, "R", -ENOENT },
	{ "pad byte 0", 104, 1, "\x01", -EILSEQ },
	{ "pad byte 3", 107, 1, "\x80", -EILSEQ },
};

START_TEST(hb_bad_field)
{
	uint8_t buf[HABLK_HB_LEN];

	encoded(buf);
	memcpy(buf + bad_fields[_i].off, bad_fields[_i].val, bad_fields[_i].len);
	remac(buf);
	ck_assert_msg(decode(buf, sizeof(buf)) == bad_fields[_i].err, "%s: got %d, want %d",
		      bad_fields[_i].what, decode(buf, sizeof(buf)), bad_fields[_i].err);
}
END_TEST

/* Every flag bit beyond HABLK_HB_F_ALL, alone or with known ones, is refused. */
START_TEST(hb_reserved_flags)
{
	uint8_t buf[HABLK_HB_LEN];
	unsigned int bit;

	for (bit = 0; bit < 8; bit++) {
		encoded(buf);
		buf[11] = 1u << bit;
		remac(buf);
		ck_assert_int_eq(decode(buf, sizeof(buf)),
				 (HABLK_HB_F_ALL >> bit) & 1 ? 0 : -EILSEQ);
		buf[11] = HABLK_HB_F_ALL | 1u << bit;
		remac(buf);
		ck_assert_int_eq(decode(buf, sizeof(buf)),
				 (HABLK_HB_F_ALL >> bit) & 1 ? 0 : -EILSEQ);
	}
	ck_assert_uint_ne(HABLK_HB_F_ALL, 0xff);
}
END_TEST

/* Garbage after the name inside the 64 bytes is fine; no NUL at all is not. */
START_TEST(hb_res_termination)
{
	uint8_t buf[HABLK_HB_LEN];

	encoded(buf);
	memset(buf + 12 + 3, 'z', 61);
	remac(buf);
	ck_assert_int_eq(decode(buf, sizeof(buf)), 0);
	buf[12 + 2] = 'z';
	remac(buf);
	ck_assert_int_eq(decode(buf, sizeof(buf)), -ENAMETOOLONG);
	memset(buf + 12, 'r', 64);
	remac(buf);
	ck_assert_int_eq(decode(buf, sizeof(buf)), -ENAMETOOLONG);
}
END_TEST

START_TEST(hb_strerror)
{
	static const int errs[] = {
		-EMSGSIZE, -EBADMSG, -EPROTO, -EPROTONOSUPPORT, -EOPNOTSUPP, -ENAMETOOLONG,
		-ENOENT, -ERANGE, -ELOOP, -EXDEV, -EINVAL, -EILSEQ,
	};
	size_t i, j;

	ck_assert_str_eq(hablk_hb_strerror(0), "ok");
	ck_assert_str_eq(hablk_hb_strerror(-EIO), "unknown error");
	for (i = 0; i < ARRAY_SIZE(errs); i++) {
		ck_assert_str_ne(hablk_hb_strerror(errs[i]), "unknown error");
		for (j = 0; j < i; j++)
			ck_assert_str_ne(hablk_hb_strerror(errs[i]), hablk_hb_strerror(errs[j]));
	}
}
END_TEST

/* ---- replay filter ---- */

#define ME	1000	/* our boot_id */

static const struct {
	const char *what;
	uint64_t boot, last;		/* the peer as known before */
	uint64_t m_boot, m_seq, m_echo;	/* the message */
	int ret;
	uint64_t boot_after, last_after;
} fresh_rows[] = {
	{ "first ever, echoes us", 0, 0, 500, 1, ME, 1, 500, 1 },
	{ "first ever, not heard us yet", 0, 0, 500, 1, 0, 0, 500, 1 },
	{ "first ever, echoes our old run", 0, 0, 500, 7, ME - 1, 0, 500, 7 },
	{ "next seq", 500, 7, 500, 8, ME, 1, 500, 8 },
	{ "seq jumps (lost datagrams)", 500, 7, 500, 100, ME, 1, 500, 100 },
	{ "same seq: replay", 500, 7, 500, 7, ME, -1, 500, 7 },
	{ "older seq: replay", 500, 7, 500, 6, ME, -1, 500, 7 },
	{ "seq 0 after 0", 500, 0, 500, 0, ME, -1, 500, 0 },
	{ "same run, stale echo", 500, 7, 500, 8, ME - 1, 0, 500, 8 },
	{ "same run, no echo", 500, 7, 500, 8, 0, 0, 500, 8 },
	{ "same run, echo from the future", 500, 7, 500, 8, ME + 1, 0, 500, 8 },
	{ "peer restarted, echoes us", 500, 7, 600, 1, ME, 1, 600, 1 },
	{ "peer restarted, not heard us yet", 500, 7, 600, 1, 0, 0, 600, 1 },
	{ "peer restarted, seq below old", 500, 900, 600, 3, ME, 1, 600, 3 },
	{ "older run of the peer", 600, 1, 500, 8, ME, -1, 600, 1 },
	{ "older run, high seq", 600, 1, 500, UINT64_MAX, ME, -1, 600, 1 },
	{ "last seq possible", 500, UINT64_MAX - 1, 500, UINT64_MAX, ME, 1, 500, UINT64_MAX },
	{ "after the last seq", 500, UINT64_MAX, 500, UINT64_MAX, ME, -1, 500, UINT64_MAX },
};

START_TEST(hb_fresh_row)
{
	struct hablk_hb_peer p = { fresh_rows[_i].boot, fresh_rows[_i].last };
	struct hablk_hb m = sample();
	int ret;

	m.boot_id = fresh_rows[_i].m_boot;
	m.seq = fresh_rows[_i].m_seq;
	m.echo_boot = fresh_rows[_i].m_echo;
	ret = hablk_hb_fresh(&p, &m, ME);
	ck_assert_msg(ret == fresh_rows[_i].ret, "%s: got %d", fresh_rows[_i].what, ret);
	ck_assert_msg(p.boot_id == fresh_rows[_i].boot_after &&
		      p.last_seq == fresh_rows[_i].last_after, "%s: peer %llu/%llu",
		      fresh_rows[_i].what, (unsigned long long)p.boot_id,
		      (unsigned long long)p.last_seq);
}
END_TEST

static int fresh(struct hablk_hb_peer *p, uint64_t boot, uint64_t seq, uint64_t echo,
		 uint64_t my_boot)
{
	struct hablk_hb m = sample();

	m.boot_id = boot;
	m.seq = seq;
	m.echo_boot = echo;
	return hablk_hb_fresh(p, &m, my_boot);
}

/*
 * We restart (boot 2000 after 1000); an attacker replays what the peer (boot
 * 500) sent to our old run, even with seqs beyond the peer's real ones: none
 * of it counts. Only the peer's messages after it heard our new run do.
 */
START_TEST(hb_fresh_replay_after_our_restart)
{
	struct hablk_hb_peer p = { 0, 0 };
	uint64_t seq;

	for (seq = 1; seq <= 50; seq++)
		ck_assert_int_eq(fresh(&p, 500, seq, 1000, 2000), 0);
	ck_assert_int_eq(fresh(&p, 500, 51, 1000, 2000), 0);	/* the real peer */
	ck_assert_int_eq(fresh(&p, 500, 30, 1000, 2000), -1);
	ck_assert_int_eq(fresh(&p, 500, 52, 2000, 2000), 1);	/* it heard us */
	ck_assert_int_eq(fresh(&p, 500, 52, 2000, 2000), -1);
	ck_assert_int_eq(fresh(&p, 500, 53, 2000, 2000), 1);
}
END_TEST

/* The peer restarts: its old run's messages are dead forever. */
START_TEST(hb_fresh_replay_after_peer_restart)
{
	struct hablk_hb_peer p = { 0, 0 };

	ck_assert_int_eq(fresh(&p, 500, 1, ME, ME), 1);
	ck_assert_int_eq(fresh(&p, 500, 2, ME, ME), 1);
	ck_assert_int_eq(fresh(&p, 700, 1, ME, ME), 1);
	ck_assert_int_eq(fresh(&p, 500, 3, ME, ME), -1);
	ck_assert_int_eq(fresh(&p, 500, 1000, ME, ME), -1);
	ck_assert_int_eq(fresh(&p, 700, 2, ME, ME), 1);
	ck_assert_uint_eq(p.boot_id, 700);
	ck_assert_uint_eq(p.last_seq, 2);
}
END_TEST

/* ---- quorum ---- */

#define T	2000	/* timeout_ms in the quorum tests */

/* Node 0 (self), node 1 (peer) and the arbiter 2. */
static struct hq q3(unsigned int self, unsigned int stable)
{
	struct hq q;

	ck_assert_int_eq(hq_init(&q, self, 0x7, T, stable), 0);
	return q;
}

START_TEST(hq_init_checks)
{
	struct hq q;

	ck_assert_int_eq(hq_init(&q, 0, 0x3, T, 0), 0);
	ck_assert_int_eq(hq_init(&q, 2, 0x3, T, 0), -1);
	ck_assert_int_eq(hq_init(&q, 32, 0xffffffff, T, 0), -1);
	ck_assert_int_eq(hq_init(&q, 0, 0, T, 0), -1);
	ck_assert_int_eq(hq_init(&q, 0, 0x3, 0, 0), -1);
	ck_assert_int_eq(hq_init(&q, 31, 0x80000001u, 1, 0), 0);
}
END_TEST

/* Self alone: 1 of 3 is no quorum, 1 of 1 is. */
START_TEST(hq_self_only)
{
	struct hq q = q3(0, 0), one;

	ck_assert(hq_alive(&q, 0, 0));
	ck_assert(hq_alive(&q, 0, UINT64_MAX));
	ck_assert(!hq_alive(&q, 1, 0));
	ck_assert(!hq_alive(&q, 2, 0));
	ck_assert_uint_eq(hq_votes(&q, 12345), 1);
	ck_assert_uint_eq(hq_alive_mask(&q, 12345), 0x1);
	ck_assert(!hq_quorum(&q, 12345));
	ck_assert_int_eq(hq_init(&one, 5, 1u << 5, T, 0), 0);
	ck_assert(hq_quorum(&one, 0));
}
END_TEST

/* Heard at 1000: alive through 2999, dead at exactly 1000 + timeout. */
START_TEST(hq_exactly_at_timeout)
{
	struct hq q = q3(0, 0);

	hq_heard(&q, 1, HABLK_HB_PATH_LINK, 1000);
	ck_assert(hq_alive(&q, 1, 1000));
	ck_assert(hq_alive(&q, 1, 1000 + T - 1));
	ck_assert(hq_path_alive(&q, 1, HABLK_HB_PATH_LINK, 1000 + T - 1));
	ck_assert(hq_quorum(&q, 1000 + T - 1));
	ck_assert(!hq_alive(&q, 1, 1000 + T));
	ck_assert(!hq_path_alive(&q, 1, HABLK_HB_PATH_LINK, 1000 + T));
	ck_assert(!hq_quorum(&q, 1000 + T));
}
END_TEST

/* Time starts at 0: a heartbeat at 0 is a heartbeat. */
START_TEST(hq_heard_at_zero)
{
	struct hq q = q3(0, 0);

	hq_heard(&q, 1, HABLK_HB_PATH_LINK, 0);
	ck_assert(hq_alive(&q, 1, 0));
	ck_assert(hq_alive(&q, 1, T - 1));
	ck_assert(!hq_alive(&q, 1, T));
}
END_TEST

/* With stable_ms 3000, a voter counts 3000 ms after its run began, not before. */
START_TEST(hq_stable_first_run)
{
	struct hq q = q3(0, 3000);
	uint64_t t;

	for (t = 10000; t <= 14000; t += 1000) {
		hq_heard(&q, 1, HABLK_HB_PATH_LINK, t);
		ck_assert(hq_path_alive(&q, 1, HABLK_HB_PATH_LINK, t));
		ck_assert_msg(hq_alive(&q, 1, t) == (t >= 13000), "t=%llu",
			      (unsigned long long)t);
	}
	ck_assert(hq_alive(&q, 1, 14000 + T - 1));
	ck_assert(!hq_alive(&q, 1, 14000 + T));
}
END_TEST

/*
 * Up for a second (heard every 250 ms), silent for the timeout, for a
 * minute: with stable_ms 3000 it never counts, checked at every millisecond.
 */
START_TEST(hq_flapping_never_regains)
{
	struct hq q = q3(0, 3000);
	uint64_t t, start = 5000;

	for (t = start; t < start + 60000; t++) {
		uint64_t phase = (t - start) % (1000 + T);

		if (phase <= 1000 && phase % 250 == 0)
			hq_heard(&q, 1, t % 500 ? HABLK_HB_PATH_LINK : HABLK_HB_PATH_CONTROL, t);
		ck_assert_msg(!hq_alive(&q, 1, t), "alive at %llu", (unsigned long long)t);
		ck_assert(!hq_quorum(&q, t));
		/* ... yet never gone for two timeouts: no failover away from it */
		ck_assert_msg(hq_heard_within(&q, 1, 2 * T, t), "gone at %llu",
			      (unsigned long long)t);
	}
}
END_TEST

/* Heard within: any path, damping aside; exactly ms after the last hearing it is false. */
START_TEST(hq_heard_within_edges)
{
	struct hq q = q3(0, 3000);

	ck_assert(!hq_heard_within(&q, 1, 2 * T, 0));
	ck_assert(hq_heard_within(&q, 0, 2 * T, 0));	/* self */
	ck_assert(!hq_heard_within(&q, 3, 2 * T, 0));	/* not a voter */
	ck_assert(!hq_heard_within(&q, 40, 2 * T, 0));
	hq_heard(&q, 1, HABLK_HB_PATH_CONTROL, 1000);
	ck_assert(!hq_alive(&q, 1, 1000));		/* damped */
	ck_assert(hq_heard_within(&q, 1, 2 * T, 1000));
	ck_assert(hq_heard_within(&q, 1, 2 * T, 1000 + 2 * T - 1));
	ck_assert(!hq_heard_within(&q, 1, 2 * T, 1000 + 2 * T));
	hq_heard(&q, 1, HABLK_HB_PATH_LINK, 1000 + 2 * T);
	ck_assert(hq_heard_within(&q, 1, 2 * T, 1000 + 4 * T - 1));
}
END_TEST

/* Gaps just below the timeout keep the run going; one gap of the timeout ends it. */
START_TEST(hq_gap_edges)
{
	struct hq q = q3(0, 3000);
	uint64_t t = 0, end;

	for (; t <= 3 * (T - 1); t += T - 1)
		hq_heard(&q, 1, HABLK_HB_PATH_LINK, t);
	t -= T - 1;
	ck_assert(hq_alive(&q, 1, t));
	/* the next one comes exactly timeout_ms later: dead, and a new run */
	ck_assert(!hq_alive(&q, 1, t + T));
	t += T;
	hq_heard(&q, 1, HABLK_HB_PATH_LINK, t);
	ck_assert(!hq_alive(&q, 1, t));
	for (end = t + 3000; t < end; t += 1000) {
		ck_assert(!hq_alive(&q, 1, t));
		hq_heard(&q, 1, HABLK_HB_PATH_LINK, t + 1000);
	}
	ck_assert(hq_alive(&q, 1, end));
}
END_TEST

/* After flapping, a voter that stays up for stable_ms counts again. */
START_TEST(hq_flap_then_stable)
{
	struct hq q = q3(0, 3000);
	uint64_t t;

	hq_heard(&q, 1, HABLK_HB_PATH_LINK, 0);
	hq_heard(&q, 1, HABLK_HB_PATH_LINK, 500);
	hq_heard(&q, 1, HABLK_HB_PATH_LINK, 500 + T);
	for (t = 500 + T; t < 500 + T + 3000; t += 500) {
		ck_assert(!hq_alive(&q, 1, t));
		hq_heard(&q, 1, HABLK_HB_PATH_CONTROL, t + 500);
	}
	ck_assert(hq_alive(&q, 1, t));
	ck_assert(hq_quorum(&q, t));
}
END_TEST

/* The peer is dead, the arbiter alive: 2 of 3, as on the arbiter itself. */
START_TEST(hq_arbiter_majority)
{
	struct hq q = q3(0, 0), arb = q3(2, 0);

	hq_heard(&q, 2, HABLK_HB_PATH_CONTROL, 100);
	ck_assert(hq_quorum(&q, 100));
	ck_assert_uint_eq(hq_votes(&q, 100), 2);
	ck_assert_uint_eq(hq_alive_mask(&q, 100), 0x5);
	ck_assert(!hq_quorum(&q, 100 + T));

	hq_heard(&arb, 1, HABLK_HB_PATH_CONTROL, 100);
	ck_assert(hq_quorum(&arb, 100));
	ck_assert_uint_eq(hq_alive_mask(&arb, 100), 0x6);
	hq_heard(&arb, 0, HABLK_HB_PATH_CONTROL, 200);
	ck_assert_uint_eq(hq_votes(&arb, 200), 3);
	ck_assert_uint_eq(hq_alive_mask(&arb, 100 + T), 0x5);
	ck_assert(hq_quorum(&arb, 100 + T));
	ck_assert(!hq_quorum(&arb, 200 + T));
}
END_TEST

/* Two nodes, no arbiter: quorum needs both. */
START_TEST(hq_two_nodes)
{
	struct hq q;

	ck_assert_int_eq(hq_init(&q, 1, 0x3, T, 0), 0);
	ck_assert(!hq_quorum(&q, 0));
	hq_heard(&q, 0, HABLK_HB_PATH_LINK, 0);
	ck_assert(hq_quorum(&q, 0));
	ck_assert_uint_eq(hq_votes(&q, T - 1), 2);
	ck_assert(!hq_quorum(&q, T));
}
END_TEST

/* The replication link goes quiet while the control path keeps the peer alive. */
START_TEST(hq_link_cut)
{
	struct hq q = q3(0, 0);
	uint64_t t;

	for (t = 0; t <= 1000; t += 500) {
		hq_heard(&q, 1, HABLK_HB_PATH_LINK, t);
		hq_heard(&q, 1, HABLK_HB_PATH_CONTROL, t);
	}
	for (; t <= 10000; t += 500) {
		hq_heard(&q, 1, HABLK_HB_PATH_CONTROL, t);
		ck_assert(hq_alive(&q, 1, t));
		ck_assert(hq_path_alive(&q, 1, HABLK_HB_PATH_CONTROL, t));
		ck_assert(hq_path_alive(&q, 1, HABLK_HB_PATH_LINK, t) == (t < 1000 + T));
	}
	ck_assert(hq_quorum(&q, 10000));
	ck_assert(!hq_path_alive(&q, 1, HABLK_HB_PATHS, 10000));
	/* then the control path too: dead */
	ck_assert(hq_alive(&q, 1, 10000 + T - 1));
	ck_assert(!hq_alive(&q, 1, 10000 + T));
}
END_TEST

/* A path never heard is dead, also right at time 0. */
START_TEST(hq_path_never_heard)
{
	struct hq q = q3(0, 0);

	ck_assert(!hq_path_alive(&q, 1, HABLK_HB_PATH_LINK, 0));
	hq_heard(&q, 1, HABLK_HB_PATH_CONTROL, 0);
	ck_assert(!hq_path_alive(&q, 1, HABLK_HB_PATH_LINK, 0));
	ck_assert(hq_path_alive(&q, 1, HABLK_HB_PATH_CONTROL, 0));
	ck_assert(hq_alive(&q, 1, 0));
}
END_TEST

/* Non-voters, ids above 31, unknown paths and self are ignored. */
START_TEST(hq_ignored)
{
	struct hq q = q3(0, 0);

	hq_heard(&q, 3, HABLK_HB_PATH_LINK, 10);
	hq_heard(&q, 32, HABLK_HB_PATH_LINK, 10);
	hq_heard(&q, UINT32_MAX, HABLK_HB_PATH_LINK, 10);
	hq_heard(&q, 1, HABLK_HB_PATHS, 10);
	hq_heard(&q, 1, UINT32_MAX, 10);
	hq_heard(&q, 0, HABLK_HB_PATH_LINK, 10);
	ck_assert_uint_eq(hq_alive_mask(&q, 10), 0x1);
	ck_assert(!hq_alive(&q, 3, 10));
	ck_assert(!hq_alive(&q, 32, 10));
	ck_assert(!hq_path_alive(&q, 32, HABLK_HB_PATH_LINK, 10));
	ck_assert(!hq_path_alive(&q, 0, HABLK_HB_PATH_LINK, 10));
}
END_TEST

/* ---- arbiter: the vote ---- */

#define U	HABLK_ARB_UPTODATE
#define O	HABLK_ARB_OUTDATED
#define X	HABLK_ARB_UNKNOWN

static const struct {
	int primary;
	enum hablk_arb_disk a, b;	/* of the data nodes, lower id first */
	int req;			/* bit 0: the lower id asks, bit 1: the higher */
	int want;			/* 0: lower, 1: higher, -1: nobody */
} grant_rows[] = {
	/* both ask: the primary, unless outdated */
	{ 0, U, U, 3, 0 }, { 1, U, U, 3, 1 },
	{ 1, X, U, 3, 1 }, { 1, U, X, 3, 1 }, { 0, X, U, 3, 0 },
	{ 0, O, U, 3, 1 }, { 1, U, O, 3, 0 }, { 1, X, O, 3, 0 },
	{ 0, O, O, 3, -1 }, { 1, O, O, 3, -1 },
	/* both ask, no primary: the uptodate one, else the lower id */
	{ -1, U, U, 3, 0 }, { -1, X, X, 3, 0 },
	{ -1, X, U, 3, 1 }, { -1, U, X, 3, 0 },
	{ -1, O, U, 3, 1 }, { -1, O, X, 3, 1 }, { -1, X, O, 3, 0 },
	{ -1, O, O, 3, -1 },
	/* one asks: it gets the vote unless outdated */
	{ -1, X, X, 1, 0 }, { -1, X, X, 2, 1 }, { 0, U, U, 2, 1 },
	{ 1, U, U, 1, 0 }, { -1, O, U, 1, -1 }, { 1, U, O, 2, -1 },
	{ -1, U, O, 1, 0 }, { 0, O, X, 2, 1 },
	/* nobody asks */
	{ -1, U, U, 0, -1 }, { 0, U, U, 0, -1 },
};

#undef U
#undef O
#undef X

/* Every row with the data nodes 0 and 1, and again as 3 and 7 (ids need not be 0, 1). */
START_TEST(grant_row)
{
	static const int ids[2][2] = { { 0, 1 }, { 3, 7 } };
	struct hablk_arb_state st;
	int k, want;

	for (k = 0; k < 2; k++) {
		const int *id = ids[k];
		uint32_t req = 0;

		hablk_arbiter_state_init(&st);
		st.disk[id[0]] = grant_rows[_i].a;
		st.disk[id[1]] = grant_rows[_i].b;
		st.primary = grant_rows[_i].primary < 0 ? -1 : id[grant_rows[_i].primary];
		if (grant_rows[_i].req & 1)
			req |= 1u << id[0];
		if (grant_rows[_i].req & 2)
			req |= 1u << id[1];
		want = grant_rows[_i].want < 0 ? -1 : id[grant_rows[_i].want];
		ck_assert_int_eq(hablk_arbiter_grant(&st, 1u << id[0] | 1u << id[1], req), want);
		/* the arbiter (id 2) or a stranger asking changes nothing */
		ck_assert_int_eq(hablk_arbiter_grant(&st, 1u << id[0] | 1u << id[1],
						     req | 1u << 2 | 1u << 31), want);
	}
}
END_TEST

START_TEST(grant_not_data_node)
{
	struct hablk_arb_state st;

	hablk_arbiter_state_init(&st);
	st.primary = 2;
	ck_assert_int_eq(hablk_arbiter_grant(&st, 0x3, 0x4), -1);
	ck_assert_int_eq(hablk_arbiter_grant(&st, 0x3, 0x6), 1);
	ck_assert_int_eq(hablk_arbiter_grant(&st, 0, 0x3), -1);
}
END_TEST

/* ---- arbiter: the state file ---- */

static char dir[64];

static void dir_setup(void)
{
	strcpy(dir, "/tmp/test_hablkd.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void dir_teardown(void)
{
	struct dirent *e;
	DIR *d = opendir(dir);

	while (d && (e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			unlinkat(dirfd(d), e->d_name, e->d_type == DT_DIR ? AT_REMOVEDIR : 0);
	if (d)
		closedir(d);
	rmdir(dir);
}

static const char *file(const char *name)
{
	static char path[128];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return path;
}

static void put(const char *name, const char *text, size_t len)
{
	FILE *f = fopen(file(name), "w");

	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(text, 1, len, f), len);
	ck_assert_int_eq(fclose(f), 0);
}

static const char *get(const char *name)
{
	static char text[HABLK_ARB_FILE_MAX + 1];
	FILE *f = fopen(file(name), "r");
	size_t n;

	ck_assert_ptr_nonnull(f);
	n = fread(text, 1, sizeof(text) - 1, f);
	text[n] = '\0';
	fclose(f);
	return text;
}

static void assert_arb_eq(const struct hablk_arb_state *a, const struct hablk_arb_state *b)
{
	ck_assert_uint_eq(a->version, b->version);
	ck_assert_uint_eq(a->current_uuid, b->current_uuid);
	ck_assert_int_eq(a->primary, b->primary);
	ck_assert_mem_eq(a->disk, b->disk, sizeof(a->disk));
}

static struct hablk_arb_state full_state(void)
{
	struct hablk_arb_state st;

	hablk_arbiter_state_init(&st);
	st.version = 41;
	st.current_uuid = 0x8f3a0c11d2e4b6a9ULL;
	st.primary = 1;
	st.disk[0] = HABLK_ARB_OUTDATED;
	st.disk[1] = HABLK_ARB_UPTODATE;
	st.disk[31] = HABLK_ARB_UPTODATE;
	return st;
}

START_TEST(store_empty_state)
{
	struct hablk_arb_state st;
	int id;

	memset(&st, 0x5a, sizeof(st));
	hablk_arbiter_state_init(&st);
	ck_assert_uint_eq(st.version, 0);
	ck_assert_uint_eq(st.current_uuid, 0);
	ck_assert_int_eq(st.primary, -1);
	for (id = 0; id < HABLK_ARB_NODES; id++)
		ck_assert_int_eq(st.disk[id], HABLK_ARB_UNKNOWN);
}
END_TEST

START_TEST(store_missing_file)
{
	struct hablk_arb_state st = full_state(), empty;
	char err[256] = "";

	hablk_arbiter_state_init(&empty);
	ck_assert_int_eq(hablk_arbiter_load(dir, RES, &st, err, sizeof(err)), 0);
	assert_arb_eq(&st, &empty);
	ck_assert_str_eq(err, "");
}
END_TEST

START_TEST(store_round_trip)
{
	struct hablk_arb_state st = full_state(), back;
	char err[256];

	ck_assert_int_eq(hablk_arbiter_save(dir, RES, &st, err, sizeof(err)), 0);
	ck_assert_uint_eq(st.version, 42);
	ck_assert_str_eq(get(RES ".state"),
			 "# hablkd arbiter state; replaced atomically, do not edit\n"
			 "version 42\n"
			 "current_uuid 8f3a0c11d2e4b6a9\n"
			 "primary 1\n"
			 "node 0 outdated\n"
			 "node 1 uptodate\n"
			 "node 31 uptodate\n");
	ck_assert_int_eq(access(file(RES ".state.tmp"), F_OK), -1);
	ck_assert_int_eq(hablk_arbiter_load(dir, RES, &back, err, sizeof(err)), 0);
	assert_arb_eq(&back, &st);
	ck_assert_int_eq(access(file(RES ".state"), R_OK | W_OK), 0);
}
END_TEST

/* Each save replaces the file and bumps the version; resources are separate. */
START_TEST(store_versions)
{
	struct hablk_arb_state st, other, back;
	char err[256];
	int i;

	hablk_arbiter_state_init(&st);
	hablk_arbiter_state_init(&other);
	for (i = 1; i <= 5; i++) {
		st.primary = i % 2 ? 0 : -1;
		st.current_uuid = i;
		ck_assert_int_eq(hablk_arbiter_save(dir, RES, &st, err, sizeof(err)), 0);
		ck_assert_int_eq(hablk_arbiter_load(dir, RES, &back, err, sizeof(err)), 0);
		ck_assert_uint_eq(back.version, i);
		assert_arb_eq(&back, &st);
	}
	ck_assert_int_eq(hablk_arbiter_save(dir, "r1.x-y_z", &other, err, sizeof(err)), 0);
	ck_assert_int_eq(hablk_arbiter_load(dir, RES, &back, err, sizeof(err)), 0);
	ck_assert_uint_eq(back.version, 5);
	ck_assert_int_eq(hablk_arbiter_load(dir, "r1.x-y_z", &back, err, sizeof(err)), 0);
	ck_assert_uint_eq(back.version, 1);
	ck_assert_int_eq(back.primary, -1);
}
END_TEST

/* A crash left RES.state.tmp behind: load ignores it, save replaces and removes it. */
START_TEST(store_tmp_left_over)
{
	struct hablk_arb_state st = full_state(), back, empty;
	char err[256];

	hablk_arbiter_state_init(&empty);
	put(RES ".state.tmp", "version 99\ncurrent_uuid 1\nprimary 0\nnode 1 upt", 46);
	ck_assert_int_eq(hablk_arbiter_load(dir, RES, &back, err, sizeof(err)), 0);
	assert_arb_eq(&back, &empty);

	ck_assert_int_eq(hablk_arbiter_save(dir, RES, &st, err, sizeof(err)), 0);
	ck_assert_int_eq(access(file(RES ".state.tmp"), F_OK), -1);
	put(RES ".state.tmp", "garbage\n", 8);
	ck_assert_int_eq(hablk_arbiter_load(dir, RES, &back, err, sizeof(err)), 0);
	assert_arb_eq(&back, &st);

	st.primary = -1;
	ck_assert_int_eq(hablk_arbiter_save(dir, RES, &st, err, sizeof(err)), 0);
	ck_assert_int_eq(access(file(RES ".state.tmp"), F_OK), -1);
	ck_assert_int_eq(hablk_arbiter_load(dir, RES, &back, err, sizeof(err)), 0);
	assert_arb_eq(&back, &st);
	ck_assert_uint_eq(back.version, 43);
}
END_TEST

/* A tmp that cannot be replaced (a directory): the old state stays, the version still moves. */
START_TEST(store_save_fails)
{
	struct hablk_arb_state st = full_state(), back;
	char err[256];

	ck_assert_int_eq(hablk_arbiter_save(dir, RES, &st, err, sizeof(err)), 0);
	ck_assert_int_eq(mkdir(file(RES ".state.tmp"), 0700), 0);
	st.primary = 0;
	ck_assert_int_eq(hablk_arbiter_save(dir, RES, &st, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, RES ".state.tmp: "));
	ck_assert_uint_eq(st.version, 43);
	ck_assert_int_eq(rmdir(file(RES ".state.tmp")), 0);
	ck_assert_int_eq(hablk_arbiter_load(dir, RES, &back, err, sizeof(err)), 0);
	ck_assert_uint_eq(back.version, 42);
	ck_assert_int_eq(back.primary, 1);
	ck_assert_int_eq(hablk_arbiter_save(dir, RES, &st, err, sizeof(err)), 0);
	ck_assert_uint_eq(st.version, 44);
}
END_TEST

START_TEST(store_bad_args)
{
	struct hablk_arb_state st = full_state();
	char err[256], missing[128];

	ck_assert_int_eq(hablk_arbiter_load(dir, "", &st, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "bad resource name"));
	ck_assert_int_eq(hablk_arbiter_save(dir, "a/b", &st, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "bad resource name"));
	ck_assert_int_eq(hablk_arbiter_load(dir, "r 0", &st, err, sizeof(err)), -1);
	ck_assert_int_eq(hablk_arbiter_load(dir, "0123456789012345678901234567890123456789"
					    "012345678901234567890123", &st, err,
					    sizeof(err)), -1);
	ck_assert_uint_eq(st.version, 41);

	st.primary = 32;
	ck_assert_int_eq(hablk_arbiter_save(dir, RES, &st, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "bad primary"));
	st.primary = -2;
	ck_assert_int_eq(hablk_arbiter_save(dir, RES, &st, err, sizeof(err)), -1);
	st.primary = 0;
	st.disk[5] = 3;
	ck_assert_int_eq(hablk_arbiter_save(dir, RES, &st, err, sizeof(err)), -1);
	ck_assert_int_eq(access(file(RES ".state"), F_OK), -1);

	st.disk[5] = HABLK_ARB_UNKNOWN;
	snprintf(missing, sizeof(missing), "%s/nonexistent", dir);
	ck_assert_int_eq(hablk_arbiter_save(missing, RES, &st, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "No such file or directory"));
	ck_assert_uint_eq(st.version, 42);
}
END_TEST

START_TEST(parse_good)
{
	struct hablk_arb_state st;
	char err[256];

	ck_assert_int_eq(hablk_arbiter_parse("\n# comment\nnode 3 outdated\n  primary\t-1  \n"
					     "current_uuid 0\nversion 0\n\nnode 4 unknown\n"
					     "node 31 uptodate\r\n", &st, err, sizeof(err)), 0);
	ck_assert_uint_eq(st.version, 0);
	ck_assert_uint_eq(st.current_uuid, 0);
	ck_assert_int_eq(st.primary, -1);
	ck_assert_int_eq(st.disk[3], HABLK_ARB_OUTDATED);
	ck_assert_int_eq(st.disk[4], HABLK_ARB_UNKNOWN);
	ck_assert_int_eq(st.disk[31], HABLK_ARB_UPTODATE);
	ck_assert_int_eq(st.disk[0], HABLK_ARB_UNKNOWN);

	ck_assert_int_eq(hablk_arbiter_parse("version 18446744073709551615\n"
					     "current_uuid FFFFFFFFFFFFFFFF\nprimary 31\n",
					     &st, err, sizeof(err)), 0);
	ck_assert_uint_eq(st.version, UINT64_MAX);
	ck_assert_uint_eq(st.current_uuid, UINT64_MAX);
	ck_assert_int_eq(st.primary, 31);
}
END_TEST

#define OK_HEAD	"version 1\ncurrent_uuid ab\nprimary 0\n"

static const struct {
	const char *text, *err;
} malformed[] = {
	{ "", "missing version" },
	{ "\n# nothing\n", "missing version" },
	{ "version 1\nprimary 0\n", "missing current_uuid" },
	{ "version 1\ncurrent_uuid ab\n", "missing primary" },
	{ "version 1\ncurrent_uuid ab\nprimary 0", "line 3: no newline at the end" },
	{ OK_HEAD "node 1 upto", "line 4: no newline at the end" },
	{ OK_HEAD "version 2\n", "line 4: duplicate version" },
	{ OK_HEAD "current_uuid 1\n", "line 4: duplicate current_uuid" },
	{ OK_HEAD "primary 1\n", "line 4: duplicate primary" },
	{ OK_HEAD "node 1 uptodate\nnode 1 outdated\n", "line 5: duplicate node" },
	{ "version\n", "line 1: bad version" },
	{ "version -1\n", "line 1: bad version" },
	{ "version +1\n", "line 1: bad version" },
	{ "version 0x10\n", "line 1: bad version" },
	{ "version 18446744073709551616\n", "line 1: bad version" },
	{ "version 1 2\n", "line 1: bad version" },
	{ "current_uuid\n", "line 1: bad current_uuid" },
	{ "current_uuid 0x12\n", "line 1: bad current_uuid" },
	{ "current_uuid 12345678901234567\n", "line 1: bad current_uuid" },
	{ "current_uuid 00000000000000001\n", "line 1: bad current_uuid" },
	{ "current_uuid xyz\n", "line 1: bad current_uuid" },
	{ "primary 32\n", "line 1: bad primary" },
	{ "primary -2\n", "line 1: bad primary" },
	{ "primary none\n", "line 1: bad primary" },
	{ "primary\n", "line 1: bad primary" },
	{ OK_HEAD "node 32 uptodate\n", "line 4: bad node" },
	{ OK_HEAD "node -1 uptodate\n", "line 4: bad node" },
	{ OK_HEAD "node 1\n", "line 4: bad node" },
	{ OK_HEAD "node 1 UpToDate\n", "line 4: bad node state" },
	{ OK_HEAD "node 1 inconsistent\n", "line 4: bad node state" },
	{ OK_HEAD "node 1 uptodate x\n", "line 4: bad node" },
	{ OK_HEAD "node 1 uptodate x y\n", "line 4: too many words" },
	{ OK_HEAD "epoch 3\n", "line 4: unknown key" },
	{ "Version 1\n", "line 1: unknown key" },
};

/* The reason and line are reported, and *st is left as it was. */
START_TEST(parse_malformed)
{
	struct hablk_arb_state st = full_state(), before = st;
	char err[256] = "";

	ck_assert_int_eq(hablk_arbiter_parse(malformed[_i].text, &st, err, sizeof(err)), -1);
	ck_assert_msg(!strncmp(err, malformed[_i].err, strlen(malformed[_i].err)),
		      "text \"%s\": got \"%s\", want \"%s...\"", malformed[_i].text, err,
		      malformed[_i].err);
	ck_assert_ptr_null(strchr(err, '\n'));
	assert_arb_eq(&st, &before);
}
END_TEST

START_TEST(parse_too_long)
{
	struct hablk_arb_state st;
	char text[HABLK_ARB_FILE_MAX + 2], err[256];

	memset(text, '\n', sizeof(text));
	memcpy(text, OK_HEAD, strlen(OK_HEAD));
	text[HABLK_ARB_FILE_MAX] = '\0';
	ck_assert_int_eq(hablk_arbiter_parse(text, &st, err, sizeof(err)), 0);
	text[HABLK_ARB_FILE_MAX] = '\n';
	text[HABLK_ARB_FILE_MAX + 1] = '\0';
	ck_assert_int_eq(hablk_arbiter_parse(text, &st, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "longer than 4096 bytes");
}
END_TEST

/* A malformed file on disk: PATH: reason, in one line; nothing changes. */
START_TEST(store_malformed_file)
{
	struct hablk_arb_state st = full_state(), before = st;
	char err[256], want[256];

	put(RES ".state", OK_HEAD "node 1 sideways\n", strlen(OK_HEAD) + 16);
	ck_assert_int_eq(hablk_arbiter_load(dir, RES, &st, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s: line 4: bad node state (uptodate|outdated|unknown)",
		 file(RES ".state"));
	ck_assert_str_eq(err, want);
	assert_arb_eq(&st, &before);

	put(RES ".state", OK_HEAD "\0", strlen(OK_HEAD) + 1);
	ck_assert_int_eq(hablk_arbiter_load(dir, RES, &st, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "NUL byte"));

	put(RES ".state", "", 0);
	ck_assert_int_eq(hablk_arbiter_load(dir, RES, &st, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, ": missing version"));

	put(RES ".state", OK_HEAD, strlen(OK_HEAD));
	ck_assert_int_eq(hablk_arbiter_load(dir, RES, &st, err, sizeof(err)), 0);
}
END_TEST

/* A state file a whole block long is too long, even if it is all blank lines. */
START_TEST(store_long_file)
{
	struct hablk_arb_state st;
	char text[HABLK_ARB_FILE_MAX + 100], err[256];

	memset(text, '\n', sizeof(text));
	memcpy(text, OK_HEAD, strlen(OK_HEAD));
	put(RES ".state", text, sizeof(text));
	ck_assert_int_eq(hablk_arbiter_load(dir, RES, &st, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, ": longer than 4096 bytes"));
	put(RES ".state", text, HABLK_ARB_FILE_MAX);
	ck_assert_int_eq(hablk_arbiter_load(dir, RES, &st, err, sizeof(err)), 0);
}
END_TEST

/* The state file is a directory: an error, not an empty state. */
START_TEST(store_unreadable)
{
	struct hablk_arb_state st;
	char err[256];

	ck_assert_int_eq(mkdir(file(RES ".state"), 0700), 0);
	ck_assert_int_eq(hablk_arbiter_load(dir, RES, &st, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "Is a directory"));
}
END_TEST

/* --- a data node's decisions (decide.h) --- */

/* Named situations, and what must follow. */
static const struct decide_row {
	const char *what;
	struct hablk_decide_in in;
	struct hablk_decide_out out;
} decide_rows[] = {
	{ "replicating primary", { .connected = 1, .has_arbiter = 1, .primary = 1, .uptodate = 1,
	  .peer_alive = 1 }, { .quorum = 1 } },
	{ "link lost, frozen, waiting for the vote", { .has_arbiter = 1, .primary = 1, .uptodate = 1,
	  .suspended = 1, .peer_alive = 1 }, { 0 } },
	{ "link lost, the vote arrives: thaw", { .granted = 1, .has_arbiter = 1, .primary = 1,
	  .uptodate = 1, .suspended = 1 }, { .quorum = 1, .thaw = 1 } },
	{ "vote and a handler: fence first", { .granted = 1, .has_arbiter = 1, .has_handler = 1,
	  .primary = 1, .uptodate = 1, .suspended = 1 }, { .quorum = 1, .fence = 1 } },
	{ "vote and handler running: wait", { .granted = 1, .has_arbiter = 1, .has_handler = 1,
	  .fence_busy = 1, .primary = 1, .uptodate = 1, .suspended = 1 }, { .quorum = 1 } },
	{ "vote and peer fenced: thaw", { .granted = 1, .has_arbiter = 1, .has_handler = 1,
	  .fenced = 1, .primary = 1, .uptodate = 1, .suspended = 1 }, { .quorum = 1, .thaw = 1 } },
	{ "cut off from all, handler: never fence the survivor", { .has_arbiter = 1,
	  .has_handler = 1, .primary = 1, .uptodate = 1, .suspended = 1 }, { 0 } },
	{ "two nodes, handler, link lost: fence", { .has_handler = 1, .primary = 1, .uptodate = 1,
	  .suspended = 1, .peer_alive = 1 }, { .fence = 1 } },
	{ "two nodes, handler failed, retry later", { .has_handler = 1, .fence_busy = 1,
	  .primary = 1, .uptodate = 1, .suspended = 1 }, { 0 } },
	{ "two nodes, peer fenced: quorum and thaw", { .has_handler = 1, .fenced = 1, .primary = 1,
	  .uptodate = 1, .suspended = 1 }, { .quorum = 1, .thaw = 1 } },
	{ "two nodes, no handler: frozen until the peer returns", { .primary = 1, .uptodate = 1,
	  .suspended = 1 }, { 0 } },
	{ "survivor with the vote, peer gone: promote", { .granted = 1, .has_arbiter = 1,
	  .uptodate = 1, .auto_promote = 1 }, { .quorum = 1, .promote = 1 } },
	{ "survivor, peer alive on the control path: no promotion", { .granted = 1,
	  .has_arbiter = 1, .uptodate = 1, .peer_alive = 1, .auto_promote = 1 }, { .quorum = 1 } },
	{ "survivor without the vote: no promotion", { .has_arbiter = 1, .uptodate = 1,
	  .auto_promote = 1 }, { 0 } },
	{ "survivor not UpToDate: no promotion", { .granted = 1, .has_arbiter = 1,
	  .auto_promote = 1 }, { .quorum = 1 } },
	{ "auto-promote off", { .granted = 1, .has_arbiter = 1, .uptodate = 1 }, { .quorum = 1 } },
	{ "frozen secondary reconnects: thaw", { .connected = 1, .has_arbiter = 1, .has_handler = 1,
	  .uptodate = 1, .suspended = 1, .peer_alive = 1 }, { .quorum = 1, .thaw = 1 } },
	{ "told outdated while apart: outdate", { .has_arbiter = 1, .uptodate = 1,
	  .peer_alive = 1, .told_outdated = 1 }, { .outdate = 1 } },
	{ "told outdated but replicating: no", { .connected = 1, .has_arbiter = 1, .uptodate = 1,
	  .peer_alive = 1, .told_outdated = 1 }, { .quorum = 1 } },
	{ "told outdated, primary: no", { .has_arbiter = 1, .primary = 1, .uptodate = 1,
	  .suspended = 1, .told_outdated = 1 }, { 0 } },
	{ "told outdated: never promote", { .granted = 1, .has_arbiter = 1, .uptodate = 1,
	  .auto_promote = 1, .told_outdated = 1 }, { .quorum = 1, .outdate = 1 } },
	{ "two primaries, the loser: outdated, as a primary", { .has_arbiter = 1, .primary = 1,
	  .uptodate = 1, .suspended = 1, .told_outdated = 1, .two_primaries = 1 },
	  { .outdate = 1 } },
	{ "two primaries, the winner: quorum, thaw", { .granted = 1, .has_arbiter = 1,
	  .primary = 1, .uptodate = 1, .suspended = 1, .two_primaries = 1 },
	  { .quorum = 1, .thaw = 1 } },
};

START_TEST(decide_row)
{
	const struct decide_row *r = &decide_rows[_i];
	struct hablk_decide_out o;

	hablk_decide(&r->in, &o);
	ck_assert_msg(o.quorum == r->out.quorum && o.thaw == r->out.thaw &&
		      o.fence == r->out.fence && o.promote == r->out.promote &&
		      o.outdate == r->out.outdate,
		      "%s: got quorum %d thaw %d fence %d promote %d outdate %d", r->what, o.quorum,
		      o.thaw, o.fence, o.promote, o.outdate);
}
END_TEST

/* Every one of the 2^13 inputs keeps the safety rules. */
START_TEST(decide_invariants)
{
	struct hablk_decide_in in;
	struct hablk_decide_out o;
	unsigned int m;

	for (m = 0; m < 1u << 13; m++) {
		in = (struct hablk_decide_in){
			.connected = m & 1, .granted = m >> 1 & 1, .has_arbiter = m >> 2 & 1,
			.has_handler = m >> 3 & 1, .fenced = m >> 4 & 1, .fence_busy = m >> 5 & 1,
			.primary = m >> 6 & 1, .uptodate = m >> 7 & 1, .suspended = m >> 8 & 1,
			.peer_alive = m >> 9 & 1, .auto_promote = m >> 10 & 1,
			.told_outdated = m >> 11 & 1, .two_primaries = m >> 12 & 1,
		};
		if (in.granted && !in.has_arbiter)
			continue;	/* no arbiter, no vote */
		hablk_decide(&in, &o);
		/* apart, quorum only from the vote, or (no arbiter) a fenced peer */
		ck_assert(!o.quorum || in.connected || in.granted || (!in.has_arbiter && in.fenced));
		/* no thaw without quorum, nor apart before a configured handler fenced */
		ck_assert(!o.thaw || (o.quorum && in.suspended));
		ck_assert(!o.thaw || in.connected || !in.has_handler || in.fenced);
		/* the handler: a frozen primary apart, not busy, with the vote if there is an arbiter */
		ck_assert(!o.fence || (in.has_handler && !in.connected && in.primary && in.suspended &&
				       !in.fenced && !in.fence_busy));
		ck_assert(!o.fence || !in.has_arbiter || in.granted);
		/* promotion: with the vote, UpToDate, apart, peer gone, asked for */
		ck_assert(!o.promote || (in.granted && in.uptodate && !in.connected &&
					 !in.peer_alive && !in.primary && in.auto_promote &&
					 !in.told_outdated));
		/* outdating: only apart from its peer, when told; a primary only with two */
		ck_assert(!o.outdate || (in.told_outdated && !in.connected &&
					 (!in.primary || in.two_primaries)));
	}
}
END_TEST

Suite *hablkd_suite(void)
{
	Suite *s = suite_create("hablkd");
	TCase *tc;

	tc = tcase_create("sha256");
	tcase_add_test(tc, sha256_fips);
	tcase_add_test(tc, sha256_million_a);
	tcase_add_test(tc, sha256_lengths);
	tcase_add_loop_test(tc, hmac_rfc4231, 0, ARRAY_SIZE(rfc4231));
	tcase_add_test(tc, memeq_ct);
	tcase_set_timeout(tc, 60);	/* a million 'a' under valgrind */
	suite_add_tcase(s, tc);

	tc = tcase_create("hbmsg");
	tcase_add_test(tc, hb_layout);
	tcase_add_test(tc, hb_encode_bytes);
	tcase_add_test(tc, hb_round_trip);
	tcase_add_test(tc, hb_edges_accepted);
	tcase_add_test(tc, hb_encode_sanitises);
	tcase_add_loop_test(tc, hb_bad_length, 0, HABLK_HB_LEN + 1);
	tcase_add_test(tc, hb_bad_length_huge);
	tcase_add_loop_test(tc, hb_flip_byte, 0, HABLK_HB_LEN);
	tcase_add_test(tc, hb_wrong_secret);
	tcase_add_test(tc, hb_mac_before_fields);
	tcase_add_loop_test(tc, hb_bad_field, 0, ARRAY_SIZE(bad_fields));
	tcase_add_test(tc, hb_reserved_flags);
	tcase_add_test(tc, hb_res_termination);
	tcase_add_test(tc, hb_strerror);
	suite_add_tcase(s, tc);

	tc = tcase_create("replay");
	tcase_add_loop_test(tc, hb_fresh_row, 0, ARRAY_SIZE(fresh_rows));
	tcase_add_test(tc, hb_fresh_replay_after_our_restart);
	tcase_add_test(tc, hb_fresh_replay_after_peer_restart);
	suite_add_tcase(s, tc);

	tc = tcase_create("quorum");
	tcase_add_test(tc, hq_init_checks);
	tcase_add_test(tc, hq_self_only);
	tcase_add_test(tc, hq_exactly_at_timeout);
	tcase_add_test(tc, hq_heard_at_zero);
	tcase_add_test(tc, hq_stable_first_run);
	tcase_add_test(tc, hq_flapping_never_regains);
	tcase_add_test(tc, hq_heard_within_edges);
	tcase_add_test(tc, hq_gap_edges);
	tcase_add_test(tc, hq_flap_then_stable);
	tcase_add_test(tc, hq_arbiter_majority);
	tcase_add_test(tc, hq_two_nodes);
	tcase_add_test(tc, hq_link_cut);
	tcase_add_test(tc, hq_path_never_heard);
	tcase_add_test(tc, hq_ignored);
	suite_add_tcase(s, tc);

	tc = tcase_create("grant");
	tcase_add_loop_test(tc, grant_row, 0, ARRAY_SIZE(grant_rows));
	tcase_add_test(tc, grant_not_data_node);
	suite_add_tcase(s, tc);

	tc = tcase_create("decide");
	tcase_add_loop_test(tc, decide_row, 0, ARRAY_SIZE(decide_rows));
	tcase_add_test(tc, decide_invariants);
	suite_add_tcase(s, tc);

	tc = tcase_create("store");
	tcase_add_checked_fixture(tc, dir_setup, dir_teardown);
	tcase_add_test(tc, store_empty_state);
	tcase_add_test(tc, store_missing_file);
	tcase_add_test(tc, store_round_trip);
	tcase_add_test(tc, store_versions);
	tcase_add_test(tc, store_tmp_left_over);
	tcase_add_test(tc, store_save_fails);
	tcase_add_test(tc, store_bad_args);
	tcase_add_test(tc, parse_good);
	tcase_add_loop_test(tc, parse_malformed, 0, ARRAY_SIZE(malformed));
	tcase_add_test(tc, parse_too_long);
	tcase_add_test(tc, store_malformed_file);
	tcase_add_test(tc, store_long_file);
	tcase_add_test(tc, store_unreadable);
	suite_add_tcase(s, tc);
	return s;
}
