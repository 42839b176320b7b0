/* SPDX-License-Identifier: GPL-2.0 */
/*
 * lkmsg.h - the lock channel's datagram between the two data nodes' hablkd
 * (docs/protocol.md, section 12.3): the channel header (chan.h) and one
 * lock manager message (dlm.h), authenticated with HMAC-SHA256.
 */
#ifndef HABLK_LKMSG_H
#define HABLK_LKMSG_H

#include <stddef.h>
#include <stdint.h>
#include "chan.h"

#define HABLK_LK_MAGIC		0x48424c4d	/* "HBLM" */
#define HABLK_LK_VERSION	1
#define HABLK_LK_RES_LEN	64
#define HABLK_LK_HDR_LEN	108		/* the MAC follows the payload */
#define HABLK_LK_MAC_LEN	32
#define HABLK_LK_MAX		(HABLK_LK_HDR_LEN + HABLK_CHAN_MSG_MAX + HABLK_LK_MAC_LEN)

/* A lock channel datagram, in host order. */
struct hablk_lk {
	uint8_t sender_id, dest_id;
	char res[HABLK_LK_RES_LEN];	/* NUL-terminated */
	struct hablk_chan_hdr h;
	uint16_t len;			/* payload bytes */
	uint8_t payload[HABLK_CHAN_MSG_MAX];
};

/* Is this datagram (of any length) a lock channel datagram? By its magic. */
int hablk_lk_is(const uint8_t *buf, size_t len);
/* Fill buf (HABLK_LK_MAX bytes at most); returns the length, or -1 (payload too long). */
int hablk_lk_encode(const struct hablk_lk *m, const char *secret, uint8_t *buf, size_t buflen);
/*
 * Check a received datagram for node self_id of resource res: the MAC first,
 * then the fields. 0, or a negative errno as hablk_hb_decode() gives them.
 */
int hablk_lk_decode(const uint8_t *buf, size_t len, const char *secret, const char *res,
		    unsigned int self_id, struct hablk_lk *out);

#endif /* HABLK_LKMSG_H */
