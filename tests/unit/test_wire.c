// SPDX-License-Identifier: GPL-2.0
/* test_wire.c - check(3) unit tests of kernel/wire.h (the replication wire format). */
#define _DEFAULT_SOURCE		/* htobe16() and friends of <endian.h> */

#include <check.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../kernel/wire.h"
#include "suites.h"

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#define DATA_LEN	((__u32)sizeof(struct hablk_p_data))
#define MiB		(1ULL << 20)
#define GiB		(1ULL << 30)

/* Every packet type, with its fixed body size. */
static const struct {
	unsigned int type;
	__u32 len;
} types[] = {
	{ HABLK_P_HELLO, 120 },
	{ HABLK_P_AUTH, 32 },
	{ HABLK_P_STATE, 64 },
	{ HABLK_P_DATA, 24 },
	{ HABLK_P_SYNC_START, 16 },
	{ HABLK_P_SYNC_DATA, 24 },
	{ HABLK_P_SYNC_DONE, 8 },
	{ HABLK_P_ACK, 16 },
	{ HABLK_P_PING, 0 },
	{ HABLK_P_PING_ACK, 0 },
	{ HABLK_P_ROLE_REQ, 8 },
	{ HABLK_P_ROLE_REPLY, 8 },
};

static int is_data(unsigned int type)
{
	return type == HABLK_P_DATA || type == HABLK_P_SYNC_DATA;
}

/* A header as a peer could send it: raw fields, in wire byte order. */
static struct hablk_hdr raw_hdr(__u32 magic, __u16 type, __u16 reserved, __u32 len,
				__u32 reserved2)
{
	struct hablk_hdr h;

	h.magic = cpu_to_be32(magic);
	h.type = cpu_to_be16(type);
	h.reserved = cpu_to_be16(reserved);
	h.len = cpu_to_be32(len);
	h.reserved2 = cpu_to_be32(reserved2);
	return h;
}

static int decode(const struct hablk_hdr *h, __u32 *len)
{
	*len = 0xdeadbeef;
	return hablk_hdr_decode(h, len);
}

static struct hablk_p_data data_pkt(__u64 sector, __u32 size, __u32 flags)
{
	struct hablk_p_data d;

	d.id = cpu_to_be64(0x0102030405060708ULL);
	d.sector = cpu_to_be64(sector);
	d.size = cpu_to_be32(size);
	d.flags = cpu_to_be32(flags);
	return d;
}

/* hablk_data_check of a packet whose header length carries payload bytes. */
static int check_data(__u64 sector, __u32 size, __u32 flags, __u32 payload, __u64 dev_sectors)
{
	struct hablk_p_data d = data_pkt(sector, size, flags);

	return hablk_data_check(&d, DATA_LEN + payload, dev_sectors);
}

START_TEST(struct_sizes)
{
	hablk_wire_build_bug_on();
	ck_assert_uint_eq(sizeof(struct hablk_hdr), 16);
	ck_assert_uint_eq(sizeof(struct hablk_p_hello), 120);
	ck_assert_uint_eq(sizeof(struct hablk_p_auth), 32);
	ck_assert_uint_eq(sizeof(struct hablk_p_state), 64);
	ck_assert_uint_eq(sizeof(struct hablk_p_role), 8);
	ck_assert_uint_eq(sizeof(struct hablk_p_data), 24);
	ck_assert_uint_eq(sizeof(struct hablk_p_sync_start), 16);
	ck_assert_uint_eq(sizeof(struct hablk_p_sync_done), 8);
	ck_assert_uint_eq(sizeof(struct hablk_p_ack), 16);
}
END_TEST

START_TEST(field_offsets)
{
	ck_assert_uint_eq(offsetof(struct hablk_hdr, type), 4);
	ck_assert_uint_eq(offsetof(struct hablk_hdr, len), 8);
	ck_assert_uint_eq(offsetof(struct hablk_hdr, reserved2), 12);
	ck_assert_uint_eq(offsetof(struct hablk_p_hello, stream), 16);
	ck_assert_uint_eq(offsetof(struct hablk_p_hello, nonce), 24);
	ck_assert_uint_eq(offsetof(struct hablk_p_hello, res_name), 56);
	ck_assert_uint_eq(offsetof(struct hablk_p_state, history_uuid), 24);
	ck_assert_uint_eq(offsetof(struct hablk_p_state, role), 32);
	ck_assert_uint_eq(offsetof(struct hablk_p_state, dirty), 34);
	ck_assert_uint_eq(offsetof(struct hablk_p_state, after_sb), 36);
	ck_assert_uint_eq(offsetof(struct hablk_p_state, bm_shift), 37);
	ck_assert_uint_eq(offsetof(struct hablk_p_state, lost_writes), 38);
	ck_assert_uint_eq(offsetof(struct hablk_p_state, sync_uuid), 56);
	ck_assert_uint_eq(offsetof(struct hablk_p_data, size), 16);
	ck_assert_uint_eq(offsetof(struct hablk_p_data, flags), 20);
	ck_assert_uint_eq(offsetof(struct hablk_p_ack, status), 8);
	ck_assert_uint_eq(offsetof(struct hablk_p_ack, is_sync), 12);
	ck_assert_uint_eq(offsetof(struct hablk_p_role, status), 4);
}
END_TEST

START_TEST(fixed_len)
{
	ck_assert_uint_eq(hablk_pkt_fixed_len(types[_i].type), types[_i].len);
}
END_TEST

START_TEST(fixed_len_unknown)
{
	ck_assert_uint_eq(hablk_pkt_fixed_len(0), 0);
	ck_assert_uint_eq(hablk_pkt_fixed_len(__HABLK_P_MAX), 0);
	ck_assert_uint_eq(hablk_pkt_fixed_len(0xffff), 0);
}
END_TEST

/* The header is big-endian on the wire, "HBLK" first, reserved fields zero. */
START_TEST(encode_bytes)
{
	static const unsigned char want[16] = {
		'H', 'B', 'L', 'K', 0x00, 0x0c, 0x00, 0x00,
		0x01, 0x02, 0x03, 0x04, 0x00, 0x00, 0x00, 0x00,
	};
	struct hablk_hdr h;

	memset(&h, 0xff, sizeof(h));
	hablk_hdr_encode(&h, HABLK_P_ROLE_REPLY, 0x01020304);
	ck_assert_mem_eq(&h, want, sizeof(want));
}
END_TEST

START_TEST(round_trip)
{
	unsigned int type = types[_i].type;
	struct hablk_hdr h;
	__u32 len;

	memset(&h, 0xff, sizeof(h));
	hablk_hdr_encode(&h, type, types[_i].len);
	ck_assert_int_eq(decode(&h, &len), (int)type);
	ck_assert_uint_eq(len, types[_i].len);

	if (!is_data(type))
		return;
	/* data packets carry up to HABLK_MAX_DATA bytes of payload */
	hablk_hdr_encode(&h, type, DATA_LEN + 512);
	ck_assert_int_eq(decode(&h, &len), (int)type);
	ck_assert_uint_eq(len, DATA_LEN + 512);
	hablk_hdr_encode(&h, type, DATA_LEN + HABLK_MAX_DATA);
	ck_assert_int_eq(decode(&h, &len), (int)type);
	ck_assert_uint_eq(len, DATA_LEN + HABLK_MAX_DATA);
}
END_TEST

START_TEST(decode_bad_magic)
{
	static const __u32 magics[] = {
		0, 0x4b4c4248U /* little-endian "HBLK" */, HABLK_WIRE_MAGIC ^ 1,
		HABLK_WIRE_MAGIC ^ 0x80000000U, 0xffffffffU,
	};
	struct hablk_hdr h;
	size_t i;
	__u32 len;

	for (i = 0; i < ARRAY_SIZE(magics); i++) {
		h = raw_hdr(magics[i], HABLK_P_PING, 0, 0, 0);
		ck_assert_int_eq(decode(&h, &len), -1);
	}
	/* an all-zero header, e.g. a zero-filled buffer */
	memset(&h, 0, sizeof(h));
	ck_assert_int_eq(decode(&h, &len), -1);
}
END_TEST

START_TEST(decode_bad_type)
{
	static const __u16 bad[] = { 0, __HABLK_P_MAX, __HABLK_P_MAX + 1, 0x0100, 0x8000, 0xffff };
	struct hablk_hdr h;
	size_t i;
	__u32 len;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		h = raw_hdr(HABLK_WIRE_MAGIC, bad[i], 0, 0, 0);
		ck_assert_int_eq(decode(&h, &len), -2);
		h = raw_hdr(HABLK_WIRE_MAGIC, bad[i], 0, DATA_LEN, 0);
		ck_assert_int_eq(decode(&h, &len), -2);
	}
}
END_TEST

START_TEST(decode_reserved)
{
	static const __u32 bits[] = { 1, 0x80, 0x100, 0x8000 };
	unsigned int type = types[_i].type;
	struct hablk_hdr h;
	size_t i;
	__u32 len;

	for (i = 0; i < ARRAY_SIZE(bits); i++) {
		h = raw_hdr(HABLK_WIRE_MAGIC, type, (__u16)bits[i], types[_i].len, 0);
		ck_assert_int_eq(decode(&h, &len), -3);
		h = raw_hdr(HABLK_WIRE_MAGIC, type, 0, types[_i].len, bits[i]);
		ck_assert_int_eq(decode(&h, &len), -3);
		h = raw_hdr(HABLK_WIRE_MAGIC, type, 0, types[_i].len, bits[i] << 16);
		ck_assert_int_eq(decode(&h, &len), -3);
	}
	h = raw_hdr(HABLK_WIRE_MAGIC, type, 0xffff, types[_i].len, 0xffffffffU);
	ck_assert_int_eq(decode(&h, &len), -3);
}
END_TEST

START_TEST(decode_bad_len)
{
	unsigned int type = types[_i].type;
	__u32 fixed = types[_i].len;
	__u32 bad[8];
	size_t n = 0, i;
	struct hablk_hdr h;
	__u32 len;

	if (is_data(type)) {
		bad[n++] = 0;
		bad[n++] = fixed - 1;
		bad[n++] = fixed + 4 + HABLK_MAX_DATA + 1;	/* over the most, with a checksum */
		bad[n++] = fixed + 2 * HABLK_MAX_DATA;
		bad[n++] = 0x80000000U;
		bad[n++] = 0xffffffffU;
	} else {
		if (fixed)
			bad[n++] = fixed - 1;
		if (fixed > 1)
			bad[n++] = 0;
		bad[n++] = fixed + 1;
		bad[n++] = fixed + 512;
		bad[n++] = DATA_LEN + HABLK_MAX_DATA;
		bad[n++] = 0xffffffffU;
	}
	for (i = 0; i < n; i++) {
		h = raw_hdr(HABLK_WIRE_MAGIC, type, 0, bad[i], 0);
		ck_assert_msg(decode(&h, &len) == -4, "type %u len %u: %d", type, bad[i],
			      decode(&h, &len));
	}
}
END_TEST

START_TEST(data_ok)
{
	const __u64 dev = 2048;	/* 1 MiB */

	/* plain write, with FUA, with PREFLUSH, with both */
	ck_assert_int_eq(check_data(0, 4096, 0, 4096, dev), 0);
	ck_assert_int_eq(check_data(8, 512, HABLK_WF_FUA, 512, dev), 0);
	ck_assert_int_eq(check_data(8, 512, HABLK_WF_PREFLUSH, 512, dev), 0);
	ck_assert_int_eq(check_data(8, 512, HABLK_WF_PREFLUSH | HABLK_WF_FUA, 512, dev), 0);
	ck_assert_int_eq(check_data(0, HABLK_MAX_DATA, 0, HABLK_MAX_DATA, dev), 0);
	/* discard, write zeroes (unmapping or not), no payload */
	ck_assert_int_eq(check_data(0, 4096, HABLK_WF_DISCARD, 0, dev), 0);
	ck_assert_int_eq(check_data(0, 4096, HABLK_WF_ZEROES, 0, dev), 0);
	ck_assert_int_eq(check_data(0, 4096, HABLK_WF_ZEROES | HABLK_WF_NOUNMAP, 0, dev), 0);
	ck_assert_int_eq(check_data(0, 4096, HABLK_WF_DISCARD | HABLK_WF_PREFLUSH |
				    HABLK_WF_FUA, 0, dev), 0);
	/* one range may exceed HABLK_MAX_DATA, up to HABLK_MAX_DISCARD */
	ck_assert_int_eq(check_data(0, HABLK_MAX_DISCARD, HABLK_WF_DISCARD, 0, 4 * GiB / 512), 0);
	ck_assert_int_eq(check_data(0, HABLK_MAX_DISCARD, HABLK_WF_ZEROES, 0, 4 * GiB / 512), 0);
	/* the flags of a peer are not trusted, but every known one is accepted */
	ck_assert_int_eq(check_data(0, 512, HABLK_WF_ALL & ~(HABLK_WF_DISCARD | HABLK_WF_CSUM),
				    0, dev), 0);
	/* data-integrity: a CRC-32 precedes the payload */
	ck_assert_int_eq(check_data(0, 4096, HABLK_WF_CSUM, 4100, dev), 0);
	ck_assert_int_eq(check_data(0, 4096, HABLK_WF_CSUM, 4096, dev), -3);
	ck_assert_int_eq(check_data(0, 0, HABLK_WF_CSUM | HABLK_WF_PREFLUSH, 4, dev), -3);
	ck_assert_int_eq(check_data(0, 4096, HABLK_WF_CSUM | HABLK_WF_DISCARD, 0, dev), -3);
}
END_TEST

START_TEST(data_empty_preflush)
{
	ck_assert_int_eq(check_data(0, 0, HABLK_WF_PREFLUSH, 0, 2048), 0);
	ck_assert_int_eq(check_data(0, 0, HABLK_WF_PREFLUSH | HABLK_WF_FUA, 0, 2048), 0);
	ck_assert_int_eq(check_data(2048, 0, HABLK_WF_PREFLUSH, 0, 2048), 0);
	ck_assert_int_eq(check_data(2049, 0, HABLK_WF_PREFLUSH, 0, 2048), -4);
	ck_assert_int_eq(check_data(UINT64_MAX, 0, HABLK_WF_PREFLUSH, 0, 2048), -4);
	/* an empty flush may not carry a payload */
	ck_assert_int_eq(check_data(0, 0, HABLK_WF_PREFLUSH, 512, 2048), -3);
}
END_TEST

START_TEST(data_bad_flags)
{
	static const __u32 unknown[] = { 1U << 6, 1U << 8, 1U << 31, 0xffffffffU, ~HABLK_WF_ALL };
	size_t i;

	for (i = 0; i < ARRAY_SIZE(unknown); i++) {
		ck_assert_int_eq(check_data(0, 512, unknown[i], 512, 2048), -1);
		ck_assert_int_eq(check_data(0, 512, unknown[i] | HABLK_WF_FUA, 512, 2048), -1);
	}
	/* DISCARD and ZEROES exclude each other */
	ck_assert_int_eq(check_data(0, 512, HABLK_WF_DISCARD | HABLK_WF_ZEROES, 0, 2048), -1);
	ck_assert_int_eq(check_data(0, 512, HABLK_WF_DISCARD | HABLK_WF_ZEROES |
				    HABLK_WF_NOUNMAP, 0, 2048), -1);
	/* NOUNMAP only with ZEROES */
	ck_assert_int_eq(check_data(0, 512, HABLK_WF_NOUNMAP, 512, 2048), -1);
	ck_assert_int_eq(check_data(0, 512, HABLK_WF_NOUNMAP, 0, 2048), -1);
	ck_assert_int_eq(check_data(0, 512, HABLK_WF_NOUNMAP | HABLK_WF_DISCARD, 0, 2048), -1);
	ck_assert_int_eq(check_data(0, 512, HABLK_WF_NOUNMAP | HABLK_WF_FUA, 512, 2048), -1);
}
END_TEST

START_TEST(data_bad_alignment)
{
	static const __u32 sizes[] = { 1, 511, 513, 4095, 4097, HABLK_MAX_DATA - 1 };
	size_t i;

	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		ck_assert_int_eq(check_data(0, sizes[i], 0, sizes[i], 4096), -2);
		ck_assert_int_eq(check_data(0, sizes[i], HABLK_WF_DISCARD, 0, 4096), -2);
		ck_assert_int_eq(check_data(0, sizes[i], HABLK_WF_ZEROES, 0, 4096), -2);
	}
}
END_TEST

START_TEST(data_bad_discard)
{
	static const __u32 ranged[] = { HABLK_WF_DISCARD, HABLK_WF_ZEROES,
					HABLK_WF_ZEROES | HABLK_WF_NOUNMAP };
	const __u64 dev = 8 * GiB / 512;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(ranged); i++) {
		/* no payload allowed */
		ck_assert_int_eq(check_data(0, 512, ranged[i], 512, dev), -3);
		ck_assert_int_eq(check_data(0, 4096, ranged[i], 512, dev), -3);
		ck_assert_int_eq(check_data(0, 4096, ranged[i], HABLK_MAX_DATA, dev), -3);
		/* size 0, even with PREFLUSH */
		ck_assert_int_eq(check_data(0, 0, ranged[i], 0, dev), -3);
		ck_assert_int_eq(check_data(0, 0, ranged[i] | HABLK_WF_PREFLUSH, 0, dev), -3);
		/* more than HABLK_MAX_DISCARD */
		ck_assert_int_eq(check_data(0, HABLK_MAX_DISCARD + 512, ranged[i], 0, dev), -3);
		ck_assert_int_eq(check_data(0, 0xfffffe00U, ranged[i], 0, dev), -3);
	}
}
END_TEST

START_TEST(data_bad_payload)
{
	/* a write carries exactly size bytes */
	ck_assert_int_eq(check_data(0, 4096, 0, 0, 2048), -3);
	ck_assert_int_eq(check_data(0, 4096, 0, 512, 2048), -3);
	ck_assert_int_eq(check_data(0, 4096, 0, 4096 + 512, 2048), -3);
	ck_assert_int_eq(check_data(0, 512, HABLK_WF_FUA, 1024, 2048), -3);
	ck_assert_int_eq(check_data(0, 512, HABLK_WF_PREFLUSH, 0, 2048), -3);
	ck_assert_int_eq(check_data(0, 2 * HABLK_MAX_DATA, 0, HABLK_MAX_DATA, 8192), -3);
	/* size 0 is only an empty flush */
	ck_assert_int_eq(check_data(0, 0, 0, 0, 2048), -3);
	ck_assert_int_eq(check_data(0, 0, HABLK_WF_FUA, 0, 2048), -3);
}
END_TEST

START_TEST(data_bounds)
{
	const __u64 dev = 2048;

	/* the last sectors of the device, exactly at its end */
	ck_assert_int_eq(check_data(dev - 1, 512, 0, 512, dev), 0);
	ck_assert_int_eq(check_data(dev - 8, 4096, 0, 4096, dev), 0);
	ck_assert_int_eq(check_data(0, 2048 * 512, HABLK_WF_DISCARD, 0, dev), 0);
	ck_assert_int_eq(check_data(dev - 8, 4096, HABLK_WF_ZEROES, 0, dev), 0);
	/* one sector past the end */
	ck_assert_int_eq(check_data(dev, 512, 0, 512, dev), -4);
	ck_assert_int_eq(check_data(dev - 7, 4096, 0, 4096, dev), -4);
	ck_assert_int_eq(check_data(0, 2049 * 512, HABLK_WF_DISCARD, 0, dev), -4);
	ck_assert_int_eq(check_data(dev - 7, 4096, HABLK_WF_ZEROES, 0, dev), -4);
	/* far out of range */
	ck_assert_int_eq(check_data(dev + 1, 512, 0, 512, dev), -4);
	ck_assert_int_eq(check_data(1ULL << 40, 512, 0, 512, dev), -4);
	/* an empty device takes nothing but an empty flush */
	ck_assert_int_eq(check_data(0, 512, 0, 512, 0), -4);
	ck_assert_int_eq(check_data(0, 0, HABLK_WF_PREFLUSH, 0, 0), 0);
}
END_TEST

/* sector + size must not wrap around and look in range. */
START_TEST(data_overflow)
{
	const __u64 dev = 2048;
	const __u64 huge = UINT64_MAX;

	ck_assert_int_eq(check_data(huge, 512, 0, 512, dev), -4);
	ck_assert_int_eq(check_data(huge - 7, 4096, 0, 4096, dev), -4);
	ck_assert_int_eq(check_data(huge - 6, 4096, 0, 4096, dev), -4);
	ck_assert_int_eq(check_data(huge - 1, HABLK_MAX_DISCARD, HABLK_WF_DISCARD, 0, dev), -4);
	ck_assert_int_eq(check_data(1ULL << 63, 512, 0, 512, dev), -4);
	/* a device as large as sectors go */
	ck_assert_int_eq(check_data(huge - 8, 4096, 0, 4096, huge), 0);
	ck_assert_int_eq(check_data(huge - 1, 512, 0, 512, huge), 0);
	ck_assert_int_eq(check_data(huge - 7, 4096, 0, 4096, huge), -4);
	ck_assert_int_eq(check_data(huge, 512, 0, 512, huge), -4);
	ck_assert_int_eq(check_data(huge - 1, HABLK_MAX_DISCARD, HABLK_WF_ZEROES, 0, huge), -4);
	ck_assert_int_eq(check_data(huge, 0, HABLK_WF_PREFLUSH, 0, huge), 0);
}
END_TEST

/* A decoded header followed by a checked body: the receive path in order. */
START_TEST(decode_then_check)
{
	struct hablk_p_data d = data_pkt(16, 8192, HABLK_WF_FUA);
	struct hablk_hdr h;
	__u32 len;

	hablk_hdr_encode(&h, HABLK_P_DATA, DATA_LEN + 8192);
	ck_assert_int_eq(decode(&h, &len), HABLK_P_DATA);
	ck_assert_int_eq(hablk_data_check(&d, len, 1024), 0);
	ck_assert_int_eq(hablk_data_check(&d, len, 16 + 15), -4);

	hablk_hdr_encode(&h, HABLK_P_SYNC_DATA, DATA_LEN);
	ck_assert_int_eq(decode(&h, &len), HABLK_P_SYNC_DATA);
	ck_assert_int_eq(hablk_data_check(&d, len, 1024), -3);
	d = data_pkt(16, 8192, HABLK_WF_DISCARD);
	ck_assert_int_eq(hablk_data_check(&d, len, 1024), 0);
}
END_TEST

Suite *wire_suite(void)
{
	Suite *s = suite_create("wire");
	TCase *tc;

	tc = tcase_create("layout");
	tcase_add_test(tc, struct_sizes);
	tcase_add_test(tc, field_offsets);
	tcase_add_loop_test(tc, fixed_len, 0, ARRAY_SIZE(types));
	tcase_add_test(tc, fixed_len_unknown);
	suite_add_tcase(s, tc);

	tc = tcase_create("header");
	tcase_add_test(tc, encode_bytes);
	tcase_add_loop_test(tc, round_trip, 0, ARRAY_SIZE(types));
	tcase_add_test(tc, decode_bad_magic);
	tcase_add_test(tc, decode_bad_type);
	tcase_add_loop_test(tc, decode_reserved, 0, ARRAY_SIZE(types));
	tcase_add_loop_test(tc, decode_bad_len, 0, ARRAY_SIZE(types));
	suite_add_tcase(s, tc);

	tc = tcase_create("data");
	tcase_add_test(tc, data_ok);
	tcase_add_test(tc, data_empty_preflush);
	tcase_add_test(tc, data_bad_flags);
	tcase_add_test(tc, data_bad_alignment);
	tcase_add_test(tc, data_bad_discard);
	tcase_add_test(tc, data_bad_payload);
	tcase_add_test(tc, data_bounds);
	tcase_add_test(tc, data_overflow);
	tcase_add_test(tc, decode_then_check);
	suite_add_tcase(s, tc);
	return s;
}
