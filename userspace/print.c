// SPDX-License-Identifier: GPL-2.0
/* print.c - the text-or-JSON printer of print.h: member separators, nesting
 * and string escaping in JSON mode, the callers' formats in text mode. */
#include <assert.h>
#include <math.h>
#include <stdarg.h>

#include "print.h"

void hablk_pr_init(struct hablk_pr *p, FILE *f, bool json)
{
	p->f = f;
	p->json = json;
	p->depth = 0;
	p->more = 0;
}

static bool cont(unsigned char c)
{
	return (c & 0xc0) == 0x80;
}

/*
 * Bytes of the well-formed UTF-8 character at u (RFC 3629: no overlong
 * forms, no surrogates, nothing above U+10FFFF), or 0 if it is not one. The
 * NUL at the end of the string is no continuation byte: no read goes past it.
 */
static size_t utf8_len(const unsigned char *u)
{
	unsigned char lo = 0x80, hi = 0xbf;

	if (u[0] < 0x80)
		return 1;
	if (u[0] >= 0xc2 && u[0] <= 0xdf)
		return cont(u[1]) ? 2 : 0;
	if (u[0] >= 0xe0 && u[0] <= 0xef) {
		if (u[0] == 0xe0)
			lo = 0xa0;	/* overlong below */
		if (u[0] == 0xed)
			hi = 0x9f;	/* surrogates above */
		return u[1] >= lo && u[1] <= hi && cont(u[2]) ? 3 : 0;
	}
	if (u[0] >= 0xf0 && u[0] <= 0xf4) {
		if (u[0] == 0xf0)
			lo = 0x90;	/* overlong below */
		if (u[0] == 0xf4)
			hi = 0x8f;	/* above U+10FFFF */
		return u[1] >= lo && u[1] <= hi && cont(u[2]) && cont(u[3]) ? 4 : 0;
	}
	return 0;
}

/* s as a JSON string: '"', '\' and control characters escaped, non-UTF-8 bytes as U+FFFD. */
static void json_string(FILE *f, const char *s)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t n;

	fputc('"', f);
	while (*u) {
		n = utf8_len(u);
		if (!n) {
			fputs("\\ufffd", f);
			n = 1;
		} else if (n > 1) {
			fwrite(u, 1, n, f);
		} else if (*u == '"' || *u == '\\') {
			fprintf(f, "\\%c", *u);
		} else if (*u < 0x20) {
			fprintf(f, "\\u%04x", *u);
		} else {
			fputc(*u, f);
		}
		u += n;
	}
	fputc('"', f);
}

/* Before a value in JSON mode: a comma after an earlier member, then "key":. */
static void member(struct hablk_pr *p, const char *key)
{
	if (p->depth && (p->more & 1u << p->depth))
		fputc(',', p->f);
	p->more |= 1u << p->depth;
	if (key) {
		json_string(p->f, key);
		fputc(':', p->f);
	}
}

static void open_nest(struct hablk_pr *p, const char *key, char c)
{
	if (!p->json)
		return;
	assert(p->depth < 31);
	member(p, key);
	fputc(c, p->f);
	p->depth++;
	p->more &= ~(1u << p->depth);
}

static void close_nest(struct hablk_pr *p, char c)
{
	if (!p->json)
		return;
	assert(p->depth > 0);
	p->depth--;
	fputc(c, p->f);
}

void hablk_pr_open_object(struct hablk_pr *p, const char *key) { open_nest(p, key, '{'); }
void hablk_pr_close_object(struct hablk_pr *p) { close_nest(p, '}'); }
void hablk_pr_open_array(struct hablk_pr *p, const char *key) { open_nest(p, key, '['); }
void hablk_pr_close_array(struct hablk_pr *p) { close_nest(p, ']'); }

/* Does a call to this form print? In JSON mode it starts the member too. */
static bool json_field(struct hablk_pr *p, enum hablk_pr_to to, const char *key)
{
	if (!p->json || to == HABLK_PR_TEXT)
		return false;
	member(p, key);
	return true;
}

static bool text_field(const struct hablk_pr *p, enum hablk_pr_to to, const char *fmt)
{
	return !p->json && to != HABLK_PR_JSON && fmt;
}

void hablk_pr_string(struct hablk_pr *p, enum hablk_pr_to to, const char *key,
		     const char *fmt, const char *v)
{
	if (json_field(p, to, key))
		json_string(p->f, v);
	else if (text_field(p, to, fmt))
		fprintf(p->f, fmt, v);
}

void hablk_pr_uint(struct hablk_pr *p, enum hablk_pr_to to, const char *key,
		   const char *fmt, unsigned int v)
{
	if (json_field(p, to, key))
		fprintf(p->f, "%u", v);
	else if (text_field(p, to, fmt))
		fprintf(p->f, fmt, v);
}

void hablk_pr_int(struct hablk_pr *p, enum hablk_pr_to to, const char *key,
		  const char *fmt, int v)
{
	if (json_field(p, to, key))
		fprintf(p->f, "%d", v);
	else if (text_field(p, to, fmt))
		fprintf(p->f, fmt, v);
}

void hablk_pr_u64(struct hablk_pr *p, enum hablk_pr_to to, const char *key,
		  const char *fmt, uint64_t v)
{
	if (json_field(p, to, key))
		fprintf(p->f, "%llu", (unsigned long long)v);
	else if (text_field(p, to, fmt))
		fprintf(p->f, fmt, (unsigned long long)v);
}

void hablk_pr_bool(struct hablk_pr *p, enum hablk_pr_to to, const char *key,
		   const char *fmt, bool v)
{
	const char *s = v ? "true" : "false";

	if (json_field(p, to, key))
		fputs(s, p->f);
	else if (text_field(p, to, fmt))
		fprintf(p->f, fmt, s);
}

void hablk_pr_float(struct hablk_pr *p, enum hablk_pr_to to, const char *key,
		    const char *fmt, int decimals, double v)
{
	char num[64];

	snprintf(num, sizeof(num), "%.*f", decimals, v);
	if (json_field(p, to, key))
		fputs(isfinite(v) ? num : "null", p->f);
	else if (text_field(p, to, fmt))
		fprintf(p->f, fmt, num);
}

void hablk_pr_null(struct hablk_pr *p, const char *key)
{
	if (json_field(p, HABLK_PR_JSON, key))
		fputs("null", p->f);
}

void hablk_pr_text(struct hablk_pr *p, const char *fmt, ...)
{
	va_list ap;

	if (p->json)
		return;
	va_start(ap, fmt);
	vfprintf(p->f, fmt, ap);
	va_end(ap);
}

void hablk_pr_end(struct hablk_pr *p)
{
	if (p->json)
		fputc('\n', p->f);
}
