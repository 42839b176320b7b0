// SPDX-License-Identifier: GPL-2.0
/* hash.c - SHA-256, HMAC-SHA256 and the constant-time compare of hash.h, by nettle. */
#define _DEFAULT_SOURCE		/* explicit_bzero() */

#include <string.h>
#include <nettle/hmac.h>
#include <nettle/memops.h>
#include <nettle/sha2.h>

#include "hash.h"

_Static_assert(HABLK_SHA256_LEN == SHA256_DIGEST_SIZE, "SHA-256 digest size");

void hablk_sha256(const void *p, size_t n, uint8_t out[HABLK_SHA256_LEN])
{
	struct sha256_ctx c;

	sha256_init(&c);
	sha256_update(&c, n, p);
	sha256_digest(&c, HABLK_SHA256_LEN, out);
	explicit_bzero(&c, sizeof(c));
}

void hablk_hmac_sha256(const void *key, size_t klen, const void *msg, size_t n,
		       uint8_t out[HABLK_SHA256_LEN])
{
	struct hmac_sha256_ctx c;

	hmac_sha256_set_key(&c, klen, key);
	hmac_sha256_update(&c, n, msg);
	hmac_sha256_digest(&c, HABLK_SHA256_LEN, out);
	explicit_bzero(&c, sizeof(c));	/* it holds the key's pads */
}

int hablk_memeq_ct(const void *a, const void *b, size_t n)
{
	return memeql_sec(a, b, n) != 0;
}
