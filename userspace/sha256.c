/* sha256.c - SHA-256 (FIPS 180-4), HMAC-SHA256 (RFC 2104), constant-time compare. */
#define _DEFAULT_SOURCE		/* explicit_bzero() */

#include <string.h>

#include "sha256.h"

static const uint32_t k[64] = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1,
	0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3,
	0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
	0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
	0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147,
	0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
	0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
	0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
	0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
	0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
	0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

static uint32_t ror(uint32_t x, unsigned int n)
{
	return (x >> n) | (x << (32 - n));
}

static uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
}

/* Mix one 64-byte block into the chaining state. */
static void compress(uint32_t h[8], const uint8_t *blk)
{
	uint32_t w[64], s[8], t1, t2;
	int i;

	for (i = 0; i < 16; i++)
		w[i] = get_be32(blk + 4 * i);
	for (; i < 64; i++)
		w[i] = w[i - 16] + (ror(w[i - 15], 7) ^ ror(w[i - 15], 18) ^ (w[i - 15] >> 3)) +
		       w[i - 7] + (ror(w[i - 2], 17) ^ ror(w[i - 2], 19) ^ (w[i - 2] >> 10));
	memcpy(s, h, sizeof(s));
	for (i = 0; i < 64; i++) {
		t1 = s[7] + (ror(s[4], 6) ^ ror(s[4], 11) ^ ror(s[4], 25)) +
		     ((s[4] & s[5]) ^ (~s[4] & s[6])) + k[i] + w[i];
		t2 = (ror(s[0], 2) ^ ror(s[0], 13) ^ ror(s[0], 22)) +
		     ((s[0] & s[1]) ^ (s[0] & s[2]) ^ (s[1] & s[2]));
		memmove(s + 1, s, 7 * sizeof(s[0]));
		s[4] += t1;
		s[0] = t1 + t2;
	}
	for (i = 0; i < 8; i++)
		h[i] += s[i];
	explicit_bzero(w, sizeof(w));
	explicit_bzero(s, sizeof(s));
}

void hablk_sha256_init(struct hablk_sha256 *c)
{
	static const uint32_t iv[8] = {
		0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
		0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
	};

	memcpy(c->h, iv, sizeof(iv));
	c->len = 0;
}

void hablk_sha256_update(struct hablk_sha256 *c, const void *p, size_t n)
{
	const uint8_t *in = p;
	size_t used = c->len % HABLK_SHA256_BLOCK;
	size_t take;

	if (!n)
		return;
	c->len += n;
	if (used) {
		take = HABLK_SHA256_BLOCK - used < n ? HABLK_SHA256_BLOCK - used : n;
		memcpy(c->buf + used, in, take);
		in += take;
		n -= take;
		if (used + take < HABLK_SHA256_BLOCK)
			return;
		compress(c->h, c->buf);
	}
	for (; n >= HABLK_SHA256_BLOCK; in += HABLK_SHA256_BLOCK, n -= HABLK_SHA256_BLOCK)
		compress(c->h, in);
	memcpy(c->buf, in, n);
}

void hablk_sha256_final(struct hablk_sha256 *c, uint8_t out[HABLK_SHA256_LEN])
{
	uint64_t bits = c->len * 8;
	size_t used = c->len % HABLK_SHA256_BLOCK;
	int i;

	c->buf[used++] = 0x80;
	if (used > HABLK_SHA256_BLOCK - 8) {
		memset(c->buf + used, 0, HABLK_SHA256_BLOCK - used);
		compress(c->h, c->buf);
		used = 0;
	}
	memset(c->buf + used, 0, HABLK_SHA256_BLOCK - 8 - used);
	put_be32(c->buf + 56, bits >> 32);
	put_be32(c->buf + 60, bits);
	compress(c->h, c->buf);
	for (i = 0; i < 8; i++)
		put_be32(out + 4 * i, c->h[i]);
	explicit_bzero(c, sizeof(*c));
}

void hablk_sha256(const void *p, size_t n, uint8_t out[HABLK_SHA256_LEN])
{
	struct hablk_sha256 c;

	hablk_sha256_init(&c);
	hablk_sha256_update(&c, p, n);
	hablk_sha256_final(&c, out);
}

void hablk_hmac_sha256(const void *key, size_t klen, const void *msg, size_t n,
		       uint8_t out[HABLK_SHA256_LEN])
{
	uint8_t pad[HABLK_SHA256_BLOCK] = { 0 };
	uint8_t inner[HABLK_SHA256_LEN];
	struct hablk_sha256 c;
	int i;

	if (klen > HABLK_SHA256_BLOCK)
		hablk_sha256(key, klen, pad);
	else if (klen)
		memcpy(pad, key, klen);

	for (i = 0; i < HABLK_SHA256_BLOCK; i++)
		pad[i] ^= 0x36;
	hablk_sha256_init(&c);
	hablk_sha256_update(&c, pad, sizeof(pad));
	hablk_sha256_update(&c, msg, n);
	hablk_sha256_final(&c, inner);

	for (i = 0; i < HABLK_SHA256_BLOCK; i++)
		pad[i] ^= 0x36 ^ 0x5c;
	hablk_sha256_init(&c);
	hablk_sha256_update(&c, pad, sizeof(pad));
	hablk_sha256_update(&c, inner, sizeof(inner));
	hablk_sha256_final(&c, out);

	explicit_bzero(pad, sizeof(pad));
	explicit_bzero(inner, sizeof(inner));
}

int hablk_memeq_ct(const void *a, const void *b, size_t n)
{
	const volatile uint8_t *x = a, *y = b;
	uint8_t diff = 0;
	size_t i;

	for (i = 0; i < n; i++)
		diff |= x[i] ^ y[i];
	return diff == 0;
}
