/* SPDX-License-Identifier: GPL-2.0 */
/* hash.h - SHA-256, HMAC-SHA256 and a constant-time compare for hablkd's
 * heartbeats: a thin wrapper over nettle (libnettle8, nettle-dev to build). */
#ifndef HABLK_HASH_H
#define HABLK_HASH_H

#include <stddef.h>
#include <stdint.h>

#define HABLK_SHA256_LEN	32	/* digest bytes */

/* The SHA-256 digest (FIPS 180-4) of n bytes at p. */
void hablk_sha256(const void *p, size_t n, uint8_t out[HABLK_SHA256_LEN]);

/* HMAC-SHA256 (RFC 2104) of msg under key; keys longer than a block are hashed first. */
void hablk_hmac_sha256(const void *key, size_t klen, const void *msg, size_t n,
		       uint8_t out[HABLK_SHA256_LEN]);

/*
 * 1 if the n bytes at a and b are equal, else 0, in a time that depends only
 * on n (for comparing MACs without telling an attacker where they differ).
 */
int hablk_memeq_ct(const void *a, const void *b, size_t n);

#endif /* HABLK_HASH_H */
