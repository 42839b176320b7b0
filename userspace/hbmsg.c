// SPDX-License-Identifier: GPL-2.0
/* hbmsg.c - encode, authenticate and decode hablkd heartbeats; replay filter. */
#define _DEFAULT_SOURCE		/* htobe64() and friends of <endian.h> */

#include <endian.h>
#include <errno.h>
#include <string.h>

#include "hbmsg.h"
#include "hash.h"

static void mac(const uint8_t *buf, const char *secret, uint8_t out[HABLK_SHA256_LEN])
{
	hablk_hmac_sha256(secret, strlen(secret), buf, HABLK_HB_MAC_OFF, out);
}

void hablk_hb_encode(const struct hablk_hb *in, const char *secret,
		     uint8_t buf[HABLK_HB_LEN])
{
	struct hablk_hb_wire w;

	memset(&w, 0, sizeof(w));
	w.magic = htobe32(HABLK_HB_MAGIC);
	w.version = HABLK_HB_VERSION;
	w.type = in->type;
	w.sender_id = in->sender_id;
	w.dest_id = in->dest_id;
	w.path = in->path;
	w.role = in->role;
	w.disk = in->disk;
	w.flags = in->flags & HABLK_HB_F_ALL;
	memcpy(w.res, in->res, strnlen(in->res, HABLK_HB_RES_LEN - 1));
	w.boot_id = htobe64(in->boot_id);
	w.seq = htobe64(in->seq);
	w.echo_boot = htobe64(in->echo_boot);
	w.sees = htobe32(in->sees);
	w.current_uuid = htobe64(in->current_uuid);
	memcpy(buf, &w, sizeof(w));
	mac(buf, secret, buf + HABLK_HB_MAC_OFF);
}

/* The header fields, in the order hablk_hb_decode() documents. */
static int check_fields(const struct hablk_hb_wire *w, const char *res,
			unsigned int self_id)
{
	if (be32toh(w->magic) != HABLK_HB_MAGIC)
		return -EPROTO;
	if (w->version != HABLK_HB_VERSION)
		return -EPROTONOSUPPORT;
	if (w->type != HABLK_HB_HEARTBEAT)
		return -EOPNOTSUPP;
	if (!memchr(w->res, '\0', sizeof(w->res)))
		return -ENAMETOOLONG;
	if (strcmp(w->res, res))
		return -ENOENT;
	if (w->sender_id > HABLK_HB_ID_MAX)
		return -ERANGE;
	if (w->sender_id == self_id)
		return -ELOOP;
	if (w->dest_id != self_id)
		return -EXDEV;
	if (w->path >= HABLK_HB_PATHS)
		return -EINVAL;
	if (w->pad || (w->flags & ~HABLK_HB_F_ALL))
		return -EILSEQ;
	return 0;
}

int hablk_hb_decode(const uint8_t *buf, size_t len, const char *secret,
		    const char *res, unsigned int self_id, struct hablk_hb *out)
{
	uint8_t want[HABLK_SHA256_LEN];
	struct hablk_hb_wire w;
	int ret;

	if (len != HABLK_HB_LEN)
		return -EMSGSIZE;
	mac(buf, secret, want);
	if (!hablk_memeq_ct(want, buf + HABLK_HB_MAC_OFF, sizeof(want)))
		return -EBADMSG;
	memcpy(&w, buf, sizeof(w));
	ret = check_fields(&w, res, self_id);
	if (ret)
		return ret;

	out->type = w.type;
	out->sender_id = w.sender_id;
	out->dest_id = w.dest_id;
	out->path = w.path;
	out->role = w.role;
	out->disk = w.disk;
	out->flags = w.flags;
	memcpy(out->res, w.res, sizeof(out->res));
	out->boot_id = be64toh(w.boot_id);
	out->seq = be64toh(w.seq);
	out->echo_boot = be64toh(w.echo_boot);
	out->sees = be32toh(w.sees);
	out->current_uuid = be64toh(w.current_uuid);
	return 0;
}

const char *hablk_hb_strerror(int err)
{
	switch (err) {
	case 0:			return "ok";
	case -EMSGSIZE:		return "wrong length";
	case -EBADMSG:		return "bad MAC (wrong secret?)";
	case -EPROTO:		return "bad magic";
	case -EPROTONOSUPPORT:	return "unsupported version";
	case -EOPNOTSUPP:	return "unknown message type";
	case -ENAMETOOLONG:	return "resource name not terminated";
	case -ENOENT:		return "for another resource";
	case -ERANGE:		return "sender id out of range";
	case -ELOOP:		return "our own message reflected back";
	case -EXDEV:		return "addressed to another node";
	case -EINVAL:		return "unknown path";
	case -EILSEQ:		return "reserved bits set";
	default:		return "unknown error";
	}
}

int hablk_hb_fresh(struct hablk_hb_peer *p, const struct hablk_hb *m,
		   uint64_t my_boot)
{
	if (m->boot_id < p->boot_id)
		return -1;
	if (m->boot_id == p->boot_id && m->seq <= p->last_seq)
		return -1;
	p->boot_id = m->boot_id;
	p->last_seq = m->seq;
	return m->echo_boot == my_boot;
}
