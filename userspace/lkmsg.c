// SPDX-License-Identifier: GPL-2.0
/* lkmsg.c - encode, authenticate and decode the lock channel's datagrams (lkmsg.h). */
#define _DEFAULT_SOURCE		/* htobe64() and friends of <endian.h> */

#include <endian.h>
#include <errno.h>
#include <string.h>

#include "hash.h"
#include "lkmsg.h"

/* Offsets in the header, all big-endian. */
enum {
	OFF_MAGIC = 0, OFF_VERSION = 4, OFF_TYPE = 5, OFF_SENDER = 6, OFF_DEST = 7,
	OFF_RES = 8, OFF_BOOT = 72, OFF_ECHO = 80, OFF_SEQ = 88, OFF_ACK = 96,
	OFF_LEN = 104, OFF_PAD = 106,
};

static void put64(uint8_t *p, uint64_t v)
{
	v = htobe64(v);
	memcpy(p, &v, 8);
}

static uint64_t get64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return be64toh(v);
}

int hablk_lk_is(const uint8_t *buf, size_t len)
{
	uint32_t magic;

	if (len < 4)
		return 0;
	memcpy(&magic, buf, 4);
	return be32toh(magic) == HABLK_LK_MAGIC;
}

int hablk_lk_encode(const struct hablk_lk *m, const char *secret, uint8_t *buf, size_t buflen)
{
	size_t total = HABLK_LK_HDR_LEN + m->len + HABLK_LK_MAC_LEN;
	uint32_t magic = htobe32(HABLK_LK_MAGIC);
	uint16_t len = htobe16(m->len);

	if (m->len > HABLK_CHAN_MSG_MAX || buflen < total)
		return -1;
	memset(buf, 0, HABLK_LK_HDR_LEN);
	memcpy(buf + OFF_MAGIC, &magic, 4);
	buf[OFF_VERSION] = HABLK_LK_VERSION;
	buf[OFF_TYPE] = 1;
	buf[OFF_SENDER] = m->sender_id;
	buf[OFF_DEST] = m->dest_id;
	memcpy(buf + OFF_RES, m->res, strnlen(m->res, HABLK_LK_RES_LEN - 1));
	put64(buf + OFF_BOOT, m->h.boot);
	put64(buf + OFF_ECHO, m->h.echo);
	put64(buf + OFF_SEQ, m->h.seq);
	put64(buf + OFF_ACK, m->h.ack);
	memcpy(buf + OFF_LEN, &len, 2);
	memcpy(buf + HABLK_LK_HDR_LEN, m->payload, m->len);
	hablk_hmac_sha256(secret, strlen(secret), buf, HABLK_LK_HDR_LEN + m->len,
			  buf + HABLK_LK_HDR_LEN + m->len);
	return (int)total;
}

int hablk_lk_decode(const uint8_t *buf, size_t len, const char *secret, const char *res,
		    unsigned int self_id, struct hablk_lk *out)
{
	uint8_t want[HABLK_LK_MAC_LEN];
	uint16_t plen;

	if (len < HABLK_LK_HDR_LEN + HABLK_LK_MAC_LEN || len > HABLK_LK_MAX)
		return -EMSGSIZE;
	memcpy(&plen, buf + OFF_LEN, 2);
	plen = be16toh(plen);
	if (plen > HABLK_CHAN_MSG_MAX || len != HABLK_LK_HDR_LEN + (size_t)plen + HABLK_LK_MAC_LEN)
		return -EMSGSIZE;
	hablk_hmac_sha256(secret, strlen(secret), buf, HABLK_LK_HDR_LEN + plen, want);
	if (!hablk_memeq_ct(want, buf + HABLK_LK_HDR_LEN + plen, HABLK_LK_MAC_LEN))
		return -EBADMSG;
	if (!hablk_lk_is(buf, len))
		return -EPROTO;
	if (buf[OFF_VERSION] != HABLK_LK_VERSION)
		return -EPROTONOSUPPORT;
	if (buf[OFF_TYPE] != 1)
		return -EOPNOTSUPP;
	if (!memchr(buf + OFF_RES, '\0', HABLK_LK_RES_LEN))
		return -ENAMETOOLONG;
	if (strcmp((const char *)buf + OFF_RES, res))
		return -ENOENT;
	if (buf[OFF_SENDER] > 31)
		return -ERANGE;
	if (buf[OFF_SENDER] == self_id)
		return -ELOOP;
	if (buf[OFF_DEST] != self_id)
		return -EXDEV;
	if (buf[OFF_PAD] || buf[OFF_PAD + 1])
		return -EILSEQ;
	memset(out, 0, sizeof(*out));
	out->sender_id = buf[OFF_SENDER];
	out->dest_id = buf[OFF_DEST];
	memcpy(out->res, buf + OFF_RES, HABLK_LK_RES_LEN);
	out->h.boot = get64(buf + OFF_BOOT);
	out->h.echo = get64(buf + OFF_ECHO);
	out->h.seq = get64(buf + OFF_SEQ);
	out->h.ack = get64(buf + OFF_ACK);
	out->len = plen;
	memcpy(out->payload, buf + HABLK_LK_HDR_LEN, plen);
	return 0;
}
