/* sha256.h - SHA-256 (FIPS 180-4), HMAC-SHA256 (RFC 2104) and a constant-time
 * compare, self-contained so that hablkd needs no crypto library. */
#ifndef HABLK_SHA256_H
#define HABLK_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define HABLK_SHA256_LEN	32	/* digest bytes */
#define HABLK_SHA256_BLOCK	64	/* block bytes */

/* Incremental hashing: init, update any number of times, final once. */
struct hablk_sha256 {
	uint32_t h[8];				/* chaining state */
	uint64_t len;				/* bytes hashed so far */
	uint8_t buf[HABLK_SHA256_BLOCK];	/* partial block, len % 64 bytes */
};

void hablk_sha256_init(struct hablk_sha256 *c);
void hablk_sha256_update(struct hablk_sha256 *c, const void *p, size_t n);
/* Writes the digest and wipes *c. */
void hablk_sha256_final(struct hablk_sha256 *c, uint8_t out[HABLK_SHA256_LEN]);

/* One-shot digest of n bytes at p. */
void hablk_sha256(const void *p, size_t n, uint8_t out[HABLK_SHA256_LEN]);

/* HMAC-SHA256 of msg under key; keys longer than a block are hashed first. */
void hablk_hmac_sha256(const void *key, size_t klen, const void *msg, size_t n,
		       uint8_t out[HABLK_SHA256_LEN]);

/*
 * 1 if the n bytes at a and b are equal, else 0, in a time that depends only
 * on n (for comparing MACs without telling an attacker where they differ).
 */
int hablk_memeq_ct(const void *a, const void *b, size_t n);

#endif /* HABLK_SHA256_H */
