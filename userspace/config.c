// SPDX-License-Identifier: GPL-2.0
/* config.c - parse and check hablk.conf(5) files; IPv4/IPv6 address helpers. */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include "config.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TOKEN_MAX	4096	/* longest word or string, NUL included */
#define MS_MIN		10
#define MS_MAX		600000
#define NAME_MAX_LEN	(HABLK_NAME_LEN - 1)	/* without the NUL */

enum tok_type { TOK_EOF, TOK_WORD, TOK_STRING, TOK_LBRACE, TOK_RBRACE };

struct parser {
	struct hablk_config *c;		/* resources of earlier files/blocks */
	const char *file;
	const char *pos, *end;
	unsigned int line;		/* line of pos */
	enum tok_type type;		/* current token ... */
	unsigned int tok_line;		/* ... the line it starts on ... */
	char tok[TOKEN_MAX];		/* ... and its text, unescaped */
	const char *where;		/* "resource 'r0'" or "node 'a' of ..." */
	char res_where[96];
	char node_where[192];
	char *err;
	size_t errlen;
};

struct key;
typedef int (*key_set_fn)(struct parser *p, const struct key *k, void *obj);

/* A "KEY VALUE" line: its setter stores p->tok at obj + off. */
struct key {
	const char *name;
	key_set_fn set;
	size_t off;
	unsigned int min, max;		/* for set_uint */
};

/* Lines the keys of the current block were seen on (0: not given). */
enum {
	K_MINOR, K_PROTOCOL, K_SECRET, K_ONQ, K_TWO_PRIMARIES,
	K_PING_INT, K_PING_TMO, K_CONN_INT, K_CONN_MAX, K_AFTER_SB, K_SB_SAVE, K_INTEGRITY,
	K_CSUM_RESYNC, K_AUTO_PROMOTE, K_FENCE_PEER, K_LOCK_EXTENT, NR_RES_KEYS
};
enum { K_ID, K_ADDRESS, K_CONTROL, K_DISK, K_META_DISK, NR_NODE_KEYS };

struct res_state {
	unsigned int seen[NR_RES_KEYS];
	unsigned int nr_nodes;		/* data nodes completed so far */
};

__attribute__((format(printf, 3, 4)))
static void errmsg(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* Report "FILE:LINE: message"; always returns -1. */
__attribute__((format(printf, 3, 4)))
static int fail(struct parser *p, unsigned int line, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!p->err || !p->errlen)
		return -1;
	n = snprintf(p->err, p->errlen, "%s:%u: ", p->file, line);
	if (n < 0 || (size_t)n >= p->errlen)
		return -1;
	va_start(ap, fmt);
	vsnprintf(p->err + n, p->errlen - n, fmt, ap);
	va_end(ap);
	return -1;
}

/* ---- lexer ---- */

static int is_blank(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\v' || ch == '\f';
}

static int is_word_char(char ch)
{
	return ch && ch != '\n' && !is_blank(ch) && ch != '{' && ch != '}' &&
	       ch != '"' && ch != '#';
}

static void skip_blanks(struct parser *p)
{
	while (p->pos < p->end) {
		if (*p->pos == '#') {
			while (p->pos < p->end && *p->pos != '\n')
				p->pos++;
		} else if (*p->pos == '\n') {
			p->line++;
			p->pos++;
		} else if (is_blank(*p->pos)) {
			p->pos++;
		} else {
			break;
		}
	}
}

static int lex_string(struct parser *p)
{
	size_t n = 0;
	char ch;

	p->pos++;
	for (;;) {
		if (p->pos == p->end || *p->pos == '\n')
			return fail(p, p->tok_line, "unterminated string");
		ch = *p->pos++;
		if (ch == '"')
			break;
		if (ch == '\0')
			return fail(p, p->tok_line, "NUL byte in string");
		if (ch == '\\') {
			if (p->pos == p->end || *p->pos == '\n')
				return fail(p, p->tok_line, "unterminated string");
			ch = *p->pos++;
			if (ch != '"' && ch != '\\')
				return fail(p, p->tok_line,
					    "invalid escape '\\%c' in string (only \\\" and \\\\)",
					    ch);
		}
		if (n == TOKEN_MAX - 1)
			return fail(p, p->tok_line, "string longer than %d bytes",
				    TOKEN_MAX - 1);
		p->tok[n++] = ch;
	}
	p->tok[n] = '\0';
	p->type = TOK_STRING;
	return 0;
}

static int lex_word(struct parser *p)
{
	size_t n = 0;

	while (p->pos < p->end && is_word_char(*p->pos)) {
		if (n == TOKEN_MAX - 1)
			return fail(p, p->tok_line, "word longer than %d bytes",
				    TOKEN_MAX - 1);
		p->tok[n++] = *p->pos++;
	}
	p->tok[n] = '\0';
	p->type = TOK_WORD;
	return 0;
}

/* Read the next token into p->type, p->tok_line and p->tok. */
static int next(struct parser *p)
{
	skip_blanks(p);
	p->tok_line = p->line;
	p->tok[0] = '\0';
	if (p->pos == p->end) {
		p->type = TOK_EOF;
		return 0;
	}
	switch (*p->pos) {
	case '{':
	case '}':
		p->type = *p->pos == '{' ? TOK_LBRACE : TOK_RBRACE;
		p->tok[0] = *p->pos++;
		p->tok[1] = '\0';
		return 0;
	case '"':
		return lex_string(p);
	case '\0':
		return fail(p, p->line, "NUL byte in file");
	default:
		return lex_word(p);
	}
}

static int unexpected(struct parser *p, const char *expected)
{
	if (p->type == TOK_EOF)
		return fail(p, p->tok_line, "expected %s, found end of file",
			    expected);
	if (p->type == TOK_STRING)
		return fail(p, p->tok_line, "expected %s, found string \"%s\"",
			    expected, p->tok);
	return fail(p, p->tok_line, "expected %s, found '%s'", expected, p->tok);
}

/* ---- values ---- */

/* Decimal digits only, no sign; 0 if 0 <= value <= max. */
static int parse_ulong(const char *s, unsigned long max, unsigned long *out)
{
	unsigned long v = 0;

	if (!*s)
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		if (v > (max - (unsigned long)(*s - '0')) / 10)
			return -1;
		v = v * 10 + (unsigned long)(*s - '0');
	}
	*out = v;
	return 0;
}

static int valid_name(const char *s)
{
	static const char chars[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-";
	size_t n = strlen(s);

	return n >= 1 && n <= NAME_MAX_LEN && strspn(s, chars) == n;
}

static int set_uint(struct parser *p, const struct key *k, void *obj)
{
	unsigned long v;

	if (parse_ulong(p->tok, k->max, &v) || v < k->min)
		return fail(p, p->tok_line, "invalid %s '%s' in %s (expected %u..%u)",
			    k->name, p->tok, p->where, k->min, k->max);
	*(unsigned int *)((char *)obj + k->off) = (unsigned int)v;
	return 0;
}

/* A size: bytes, or with a K, M or G suffix (powers of 1024); a power of two in [min, max]. */
static int set_pow2_size(struct parser *p, const struct key *k, void *obj)
{
	unsigned long v, unit = 1;
	char num[32];
	size_t n = strlen(p->tok);

	if (n && n < sizeof(num)) {
		switch (p->tok[n - 1]) {
		case 'K': unit = 1UL << 10; n--; break;
		case 'M': unit = 1UL << 20; n--; break;
		case 'G': unit = 1UL << 30; n--; break;
		}
	}
	if (!n || n >= sizeof(num))
		goto bad;
	memcpy(num, p->tok, n);
	num[n] = 0;
	if (parse_ulong(num, k->max / unit, &v))
		goto bad;
	v *= unit;
	if (v < k->min || v > k->max || (v & (v - 1)))
		goto bad;
	*(unsigned int *)((char *)obj + k->off) = (unsigned int)v;
	return 0;
bad:
	return fail(p, p->tok_line, "invalid %s '%s' in %s (a power of two from %uK to %uG)",
		    k->name, p->tok, p->where, k->min >> 10, k->max >> 30);
}

static int set_protocol(struct parser *p, const struct key *k, void *obj)
{
	struct hablk_res *r = obj;

	if (strcmp(p->tok, "A") && strcmp(p->tok, "C"))
		return fail(p, p->tok_line, "invalid %s '%s' in %s (expected A or C)",
			    k->name, p->tok, p->where);
	r->protocol = p->tok[0];
	return 0;
}

/* The secret is never echoed into a message. */
static int set_secret(struct parser *p, const struct key *k, void *obj)
{
	struct hablk_res *r = obj;
	size_t n = strlen(p->tok);

	if (n < 1 || n > HABLK_SECRET_MAX)
		return fail(p, p->tok_line, "%s in %s must be 1..%d bytes, is %zu",
			    k->name, p->where, HABLK_SECRET_MAX, n);
	memcpy(r->secret, p->tok, n + 1);
	return 0;
}

static int set_on_no_quorum(struct parser *p, const struct key *k, void *obj)
{
	struct hablk_res *r = obj;

	if (!strcmp(p->tok, "suspend-io"))
		r->on_no_quorum = HABLK_QP_SUSPEND_IO;
	else if (!strcmp(p->tok, "io-error"))
		r->on_no_quorum = HABLK_QP_IO_ERROR;
	else
		return fail(p, p->tok_line,
			    "invalid %s '%s' in %s (expected suspend-io or io-error)",
			    k->name, p->tok, p->where);
	return 0;
}

static int set_after_sb(struct parser *p, const struct key *k, void *obj)
{
	static const char *const names[] = {
		"disconnect", "discard-zero-changes", "discard-least-changes",
		"discard-younger-primary", "discard-secondary",
	};
	struct hablk_res *r = obj;
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!strcmp(p->tok, names[i])) {
			r->after_sb = (int)i;	/* the order of enum hablk_after_sb */
			return 0;
		}
	}
	return fail(p, p->tok_line,
		    "invalid %s '%s' in %s (expected disconnect, discard-zero-changes, "
		    "discard-least-changes, discard-younger-primary or discard-secondary)",
		    k->name, p->tok, p->where);
}

/* An absolute path into a char[HABLK_PATH_MAX] of the resource at k->off. */
static int set_abs_path(struct parser *p, const struct key *k, void *obj)
{
	char *dst = (char *)obj + k->off;

	if (p->tok[0] != '/' || strlen(p->tok) >= HABLK_PATH_MAX)
		return fail(p, p->tok_line, "%s '%s' in %s is not an absolute path (max 255)",
			    k->name, p->tok, p->where);
	strcpy(dst, p->tok);
	return 0;
}

static int set_yes_no(struct parser *p, const struct key *k, void *obj)
{
	bool *b = (bool *)((char *)obj + k->off);

	if (!strcmp(p->tok, "yes"))
		*b = true;
	else if (!strcmp(p->tok, "no"))
		*b = false;
	else
		return fail(p, p->tok_line, "invalid %s '%s' in %s (expected yes or no)",
			    k->name, p->tok, p->where);
	return 0;
}

static int is_unspecified(const struct sockaddr_storage *ss)
{
	const struct sockaddr_in *sin = (const void *)ss;
	const struct sockaddr_in6 *sin6 = (const void *)ss;

	if (ss->ss_family == AF_INET)
		return sin->sin_addr.s_addr == htonl(INADDR_ANY);
	return IN6_IS_ADDR_UNSPECIFIED(&sin6->sin6_addr);
}

static int store_addr(struct parser *p, const struct key *k,
		      struct sockaddr_storage *ss, socklen_t *len)
{
	if (hablk_addr_parse(p->tok, ss, len))
		return fail(p, p->tok_line,
			    "invalid %s '%s' in %s (expected A.B.C.D:PORT or [IPV6]:PORT, PORT 1..65535)",
			    k->name, p->tok, p->where);
	if (is_unspecified(ss))
		return fail(p, p->tok_line, "%s '%s' in %s is not a host address",
			    k->name, p->tok, p->where);
	return 0;
}

static int set_address(struct parser *p, const struct key *k, void *obj)
{
	struct hablk_node *n = obj;

	return store_addr(p, k, &n->addr, &n->addr_len);
}

static int set_control(struct parser *p, const struct key *k, void *obj)
{
	struct hablk_node *n = obj;

	return store_addr(p, k, &n->control, &n->control_len);
}

static int store_str(struct parser *p, const struct key *k, void *obj,
		     const char *v)
{
	char **s = (char **)((char *)obj + k->off);

	*s = strdup(v);
	if (!*s)
		return fail(p, p->tok_line, "out of memory");
	return 0;
}

static int set_path(struct parser *p, const struct key *k, void *obj)
{
	if (p->tok[0] != '/')
		return fail(p, p->tok_line, "%s '%s' in %s is not an absolute path",
			    k->name, p->tok, p->where);
	return store_str(p, k, obj, p->tok);
}

static int set_meta_disk(struct parser *p, const struct key *k, void *obj)
{
	if (!strcmp(p->tok, "internal"))
		return store_str(p, k, obj, "");
	if (p->tok[0] != '/')
		return fail(p, p->tok_line,
			    "%s '%s' in %s is neither 'internal' nor an absolute path",
			    k->name, p->tok, p->where);
	return store_str(p, k, obj, p->tok);
}

#define RES_OFF(f)	offsetof(struct hablk_res, f)
#define NODE_OFF(f)	offsetof(struct hablk_node, f)

static const struct key res_keys[NR_RES_KEYS] = {
	[K_MINOR] = { "minor", set_uint, RES_OFF(minor), 0, HABLK_MINOR_MAX },
	[K_PROTOCOL] = { "protocol", set_protocol, 0, 0, 0 },
	[K_SECRET] = { "secret", set_secret, 0, 0, 0 },
	[K_ONQ] = { "on-no-quorum", set_on_no_quorum, 0, 0, 0 },
	[K_TWO_PRIMARIES] = { "allow-two-primaries", set_yes_no,
			      RES_OFF(allow_two_primaries), 0, 0 },
	[K_PING_INT] = { "ping-interval", set_uint,
			 RES_OFF(timing.ping_interval_ms), MS_MIN, MS_MAX },
	[K_PING_TMO] = { "ping-timeout", set_uint,
			 RES_OFF(timing.ping_timeout_ms), MS_MIN, MS_MAX },
	[K_CONN_INT] = { "connect-interval", set_uint,
			 RES_OFF(timing.connect_interval_ms), MS_MIN, MS_MAX },
	[K_CONN_MAX] = { "connect-interval-max", set_uint,
			 RES_OFF(timing.connect_interval_max_ms), MS_MIN, MS_MAX },
	[K_AFTER_SB] = { "after-sb", set_after_sb, 0, 0, 0 },
	[K_SB_SAVE] = { "split-brain-save", set_abs_path, RES_OFF(split_brain_save), 0, 0 },
	[K_INTEGRITY] = { "data-integrity", set_yes_no, RES_OFF(data_integrity), 0, 0 },
	[K_CSUM_RESYNC] = { "checksum-resync", set_yes_no, RES_OFF(checksum_resync), 0, 0 },
	[K_AUTO_PROMOTE] = { "auto-promote", set_yes_no, RES_OFF(auto_promote), 0, 0 },
	[K_FENCE_PEER] = { "fence-peer", set_abs_path, RES_OFF(fence_peer), 0, 0 },
	[K_LOCK_EXTENT] = { "lock-extent", set_pow2_size, RES_OFF(lock_extent),
			    HABLK_LOCK_EXTENT_MIN, HABLK_LOCK_EXTENT_MAX },
};

static const struct key node_keys[NR_NODE_KEYS] = {
	[K_ID] = { "id", set_uint, NODE_OFF(id), 0, HABLK_NODE_ID_MAX },
	[K_ADDRESS] = { "address", set_address, 0, 0, 0 },
	[K_CONTROL] = { "control", set_control, 0, 0, 0 },
	[K_DISK] = { "disk", set_path, NODE_OFF(disk), 0, 0 },
	[K_META_DISK] = { "meta-disk", set_meta_disk, NODE_OFF(meta_disk), 0, 0 },
};

/* Current token is a key of keys[]: read its value and store it. */
static int parse_key(struct parser *p, const struct key *keys, size_t nr,
		     unsigned int *seen, void *obj)
{
	unsigned int line = p->tok_line;
	size_t i;

	for (i = 0; i < nr && strcmp(keys[i].name, p->tok); i++)
		;
	if (i == nr)
		return fail(p, line, "unknown key '%s' in %s", p->tok, p->where);
	if (seen[i])
		return fail(p, line, "'%s' given twice in %s (first on line %u)",
			    keys[i].name, p->where, seen[i]);
	if (next(p))
		return -1;
	if ((p->type != TOK_WORD && p->type != TOK_STRING) || p->tok_line != line)
		return fail(p, line, "missing value for '%s' in %s",
			    keys[i].name, p->where);
	seen[i] = line;
	return keys[i].set(p, &keys[i], obj);
}

/* ---- blocks ---- */

/* "KIND NAME {": the current token is KIND. */
static int parse_header(struct parser *p, const char *kind, char *name)
{
	unsigned int line = p->tok_line;

	if (next(p))
		return -1;
	if ((p->type != TOK_WORD && p->type != TOK_STRING) || p->tok_line != line)
		return fail(p, line, "missing name after '%s'", kind);
	if (!valid_name(p->tok))
		return fail(p, line, "invalid %s name '%s' (1..%d of A-Z a-z 0-9 _ . -)",
			    kind, p->tok, NAME_MAX_LEN);
	strcpy(name, p->tok);
	if (next(p))
		return -1;
	if (p->type != TOK_LBRACE)
		return unexpected(p, "'{'");
	return 0;
}

static const char *node_kind(const struct hablk_node *n)
{
	return n->is_arbiter ? "arbiter" : "node";
}

/*
 * Addresses: one endpoint each, except that a host (same node name) may
 * give several resources the same control address.
 */
static int check_addrs(struct parser *p, const struct hablk_node *n,
		       const unsigned int *seen, const struct hablk_res *o,
		       const struct hablk_node *m, int same_res)
{
	const struct sockaddr_storage *mine[2] = { &n->addr, &n->control };
	const struct sockaddr_storage *theirs[2] = { &m->addr, &m->control };
	static const char *const what[2] = { "address", "control address" };
	unsigned int line;
	char buf[HABLK_ADDRSTRLEN];
	int i, j;

	for (i = 0; i < 2; i++) {
		for (j = 0; j < 2; j++) {
			if (!hablk_addr_equal(mine[i], theirs[j]))
				continue;
			if (i && j && !same_res && !strcmp(n->name, m->name))
				continue;
			/* a derived control address is blamed on 'address' */
			line = i && seen[K_CONTROL] ? seen[K_CONTROL] : seen[K_ADDRESS];
			hablk_addr_format(mine[i], sizeof(*mine[i]), buf, sizeof(buf));
			return fail(p, line,
				    "%s %s of %s is already the %s of %s '%s' in resource '%s'",
				    what[i], buf, p->where, what[j], node_kind(m),
				    m->name, o->name);
		}
	}
	return 0;
}

/* A host's disks serve one resource each. */
static int check_disks(struct parser *p, const struct hablk_node *n,
		       const unsigned int *seen, const struct hablk_res *o,
		       const struct hablk_node *m)
{
	const char *mine[2] = { n->disk, n->meta_disk };
	const char *theirs[2] = { m->disk, m->meta_disk };
	static const char *const what[2] = { "disk", "meta-disk" };
	int i, j;

	if (n->is_arbiter || m->is_arbiter || strcmp(n->name, m->name))
		return 0;
	for (i = 0; i < 2; i++)
		for (j = 0; j < 2; j++)
			if (*mine[i] && !strcmp(mine[i], theirs[j]))
				return fail(p, seen[i ? K_META_DISK : K_DISK],
					    "%s '%s' of %s is already the %s of node '%s' in resource '%s' (%s:%u)",
					    what[i], mine[i], p->where, what[j],
					    m->name, o->name, o->file, o->line);
	return 0;
}

/* The i-th finished node of r (the arbiter last), or NULL. */
static const struct hablk_node *nth_node(const struct hablk_res *r,
					 unsigned int nr_nodes, unsigned int i)
{
	if (i < nr_nodes)
		return &r->nodes[i];
	if (i == nr_nodes && r->has_arbiter)
		return &r->arbiter;
	return NULL;
}

/* Check n against every node finished before it, in any resource. */
static int check_node_unique(struct parser *p, const struct hablk_res *r,
			     unsigned int nr_nodes, const struct hablk_node *n,
			     const unsigned int *seen)
{
	const struct hablk_node *m;
	const struct hablk_res *o;
	size_t k;
	unsigned int i;

	for (k = 0; k <= p->c->nr_res; k++) {
		int same = k == p->c->nr_res;

		o = same ? r : &p->c->res[k];
		for (i = 0; (m = nth_node(o, same ? nr_nodes : 2, i)); i++) {
			if (same && !strcmp(m->name, n->name))
				return fail(p, n->line,
					    "duplicate node name '%s' in resource '%s' (first on line %u)",
					    n->name, r->name, m->line);
			if (same && m->id == n->id)
				return fail(p, seen[K_ID],
					    "id %u of %s is already used by %s '%s'",
					    n->id, p->where, node_kind(m), m->name);
			if (check_addrs(p, n, seen, o, m, same) ||
			    check_disks(p, n, seen, o, m))
				return -1;
		}
	}
	return 0;
}

static int node_finish(struct parser *p, const struct hablk_res *r,
		       unsigned int nr_nodes, struct hablk_node *n,
		       const unsigned int *seen)
{
	struct sockaddr_in *sin = (void *)&n->control;
	struct sockaddr_in6 *sin6 = (void *)&n->control;
	in_port_t *port;
	int i;

	for (i = 0; i < NR_NODE_KEYS; i++)
		if (!seen[i] && i != K_CONTROL && (!n->is_arbiter || i < K_DISK))
			return fail(p, n->line, "missing '%s' in %s",
				    node_keys[i].name, p->where);
	if (n->is_arbiter) {
		n->disk = strdup("");
		n->meta_disk = strdup("");
		if (!n->disk || !n->meta_disk)
			return fail(p, n->line, "out of memory");
	}
	if (!n->is_arbiter && !strcmp(n->disk, n->meta_disk))
		return fail(p, seen[K_META_DISK], "meta-disk of %s is the same as its disk", p->where);
	if (!seen[K_CONTROL]) {
		n->control = n->addr;
		n->control_len = n->addr_len;
		port = n->addr.ss_family == AF_INET ? &sin->sin_port : &sin6->sin6_port;
		if (ntohs(*port) == 65535)
			return fail(p, seen[K_ADDRESS],
				    "address port 65535 of %s leaves no port+1 for the control address; give 'control'",
				    p->where);
		*port = htons(ntohs(*port) + 1);
	} else if (hablk_addr_equal(&n->addr, &n->control)) {
		return fail(p, seen[K_CONTROL], "control address of %s is the same as its address",
			    p->where);
	}
	return check_node_unique(p, r, nr_nodes, n, seen);
}

/* "node NAME { ... }" or "arbiter NAME { ... }"; the current token is the kind. */
static int parse_node(struct parser *p, struct hablk_res *r,
		      struct res_state *st)
{
	unsigned int seen[NR_NODE_KEYS] = { 0 };
	bool arbiter = !strcmp(p->tok, "arbiter");
	struct hablk_node *n;

	if (arbiter && r->has_arbiter)
		return fail(p, p->tok_line, "more than one 'arbiter' in resource '%s'",
			    r->name);
	if (!arbiter && st->nr_nodes == 2)
		return fail(p, p->tok_line, "more than two 'node' blocks in resource '%s'",
			    r->name);
	n = arbiter ? &r->arbiter : &r->nodes[st->nr_nodes];
	n->is_arbiter = arbiter;
	n->line = p->tok_line;
	if (parse_header(p, node_kind(n), n->name))
		return -1;
	snprintf(p->node_where, sizeof(p->node_where), "%s '%s' of resource '%s'",
		 node_kind(n), n->name, r->name);
	p->where = p->node_where;
	for (;;) {
		if (next(p))
			return -1;
		if (p->type == TOK_RBRACE)
			break;
		if (p->type == TOK_EOF)
			return fail(p, n->line, "missing '}' of %s", p->where);
		if (p->type != TOK_WORD)
			return unexpected(p, "a key or '}'");
		if (!strcmp(p->tok, "node") || !strcmp(p->tok, "arbiter") ||
		    !strcmp(p->tok, "resource"))
			return fail(p, p->tok_line, "'%s' inside %s (missing '}'?)",
				    p->tok, p->where);
		if (arbiter && (!strcmp(p->tok, "disk") || !strcmp(p->tok, "meta-disk")))
			return fail(p, p->tok_line, "an arbiter has no '%s' (%s)",
				    p->tok, p->where);
		if (parse_key(p, node_keys, NR_NODE_KEYS, seen, n))
			return -1;
	}
	if (node_finish(p, r, st->nr_nodes, n, seen))
		return -1;
	if (arbiter)
		r->has_arbiter = true;
	else
		st->nr_nodes++;
	p->where = p->res_where;
	return 0;
}

static int res_finish(struct parser *p, struct hablk_res *r,
		      const struct res_state *st)
{
	const unsigned int *seen = st->seen;
	const struct hablk_timing *t = &r->timing;
	size_t i;

	if (!seen[K_MINOR] || !seen[K_SECRET])
		return fail(p, r->line, "missing '%s' in %s",
			    seen[K_MINOR] ? "secret" : "minor", p->where);
	if (st->nr_nodes != 2)
		return fail(p, r->line, "%s needs exactly 2 'node' blocks, has %u",
			    p->where, st->nr_nodes);
	if (r->allow_two_primaries && r->protocol != 'C')
		return fail(p, seen[K_TWO_PRIMARIES],
			    "allow-two-primaries yes needs protocol C in %s", p->where);
	if (t->connect_interval_ms > t->connect_interval_max_ms)
		return fail(p, seen[K_CONN_INT] > seen[K_CONN_MAX] ?
			    seen[K_CONN_INT] : seen[K_CONN_MAX],
			    "connect-interval %u is above connect-interval-max %u in %s",
			    t->connect_interval_ms, t->connect_interval_max_ms, p->where);
	for (i = 0; i < p->c->nr_res; i++)
		if (p->c->res[i].minor == r->minor)
			return fail(p, seen[K_MINOR], "minor %u of %s is already used by resource '%s' (%s:%u)",
				    r->minor, p->where, p->c->res[i].name,
				    p->c->res[i].file, p->c->res[i].line);
	r->file = strdup(p->file);
	if (!r->file)
		return fail(p, r->line, "out of memory");
	return 0;
}

static void res_free(struct hablk_res *r)
{
	int i;

	for (i = 0; i < 2; i++) {
		free(r->nodes[i].disk);
		free(r->nodes[i].meta_disk);
	}
	free(r->arbiter.disk);
	free(r->arbiter.meta_disk);
	free(r->file);
}

static const struct hablk_res res_defaults = {
	.protocol = 'C',
	.on_no_quorum = HABLK_QP_SUSPEND_IO,
	.lock_extent = HABLK_LOCK_EXTENT_DEFAULT,
	.timing = {
		.ping_interval_ms = 1000,
		.ping_timeout_ms = 2000,
		.connect_interval_ms = 200,
		.connect_interval_max_ms = 5000,
	},
};

static int parse_res_body(struct parser *p, struct hablk_res *r,
			  struct res_state *st)
{
	for (;;) {
		if (next(p))
			return -1;
		if (p->type == TOK_RBRACE)
			return res_finish(p, r, st);
		if (p->type == TOK_EOF)
			return fail(p, r->line, "missing '}' of %s", p->where);
		if (p->type != TOK_WORD)
			return unexpected(p, "a key, 'node', 'arbiter' or '}'");
		if (!strcmp(p->tok, "node") || !strcmp(p->tok, "arbiter")) {
			if (parse_node(p, r, st))
				return -1;
		} else if (parse_key(p, res_keys, NR_RES_KEYS, st->seen, r)) {
			return -1;
		}
	}
}

/* "resource NAME { ... }"; the current token is "resource". */
static int parse_res(struct parser *p)
{
	struct hablk_res r = res_defaults, *res;
	struct res_state st = { { 0 }, 0 };
	const struct hablk_res *old;

	r.line = p->tok_line;
	if (parse_header(p, "resource", r.name))
		goto err;
	old = hablk_config_find(p->c, r.name);
	if (old) {
		fail(p, r.line, "duplicate resource name '%s' (first in %s:%u)",
		     r.name, old->file, old->line);
		goto err;
	}
	snprintf(p->res_where, sizeof(p->res_where), "resource '%s'", r.name);
	p->where = p->res_where;
	if (parse_res_body(p, &r, &st))
		goto err;
	res = realloc(p->c->res, (p->c->nr_res + 1) * sizeof(*res));
	if (!res) {
		fail(p, r.line, "out of memory");
		goto err;
	}
	p->c->res = res;
	p->c->res[p->c->nr_res++] = r;
	return 0;
err:
	res_free(&r);
	return -1;
}

/* Parse text and append its resources to c. */
static int parse_text(struct hablk_config *c, const char *file,
		      const char *text, size_t len, char *err, size_t errlen)
{
	struct parser *p;
	int ret = -1;

	p = calloc(1, sizeof(*p));
	if (!p) {
		errmsg(err, errlen, "%s: %s", file, strerror(errno));
		return -1;
	}
	p->c = c;
	p->file = file;
	p->pos = text;
	p->end = text + len;
	p->line = 1;
	p->err = err;
	p->errlen = errlen;
	for (;;) {
		if (next(p))
			break;
		if (p->type == TOK_EOF) {
			ret = 0;
			break;
		}
		if (p->type != TOK_WORD || strcmp(p->tok, "resource")) {
			unexpected(p, "'resource'");
			break;
		}
		if (parse_res(p))
			break;
	}
	free(p);
	return ret;
}

/* ---- files ---- */

static int read_all(const char *path, char **text, size_t *len)
{
	size_t n = 0, size = 0;
	char *buf = NULL, *nbuf;
	ssize_t r;
	int fd, e;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	for (;;) {
		if (n == size) {
			size = size ? size * 2 : 8192;
			nbuf = realloc(buf, size);
			if (!nbuf)
				goto err;
			buf = nbuf;
		}
		r = read(fd, buf + n, size - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			goto err;
		if (r == 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	*text = buf;
	*len = n;
	return 0;
err:
	e = errno;
	free(buf);
	close(fd);
	errno = e;
	return -1;
}

static int load_file(struct hablk_config *c, const char *path, char *err,
		     size_t errlen)
{
	char *text;
	size_t len;
	int ret;

	if (read_all(path, &text, &len)) {
		errmsg(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	ret = parse_text(c, path, text, len, err, errlen);
	free(text);
	return ret;
}

/* Hand tmp over to c on success; otherwise free it and leave c empty. */
static int commit(struct hablk_config *c, struct hablk_config *tmp, int ret)
{
	if (ret) {
		hablk_config_free(tmp);
		c->res = NULL;
		c->nr_res = 0;
		return -1;
	}
	*c = *tmp;
	return 0;
}

int hablk_config_load_string(struct hablk_config *c, const char *name,
			     const char *text, char *err, size_t errlen)
{
	struct hablk_config tmp = { NULL, 0 };

	return commit(c, &tmp, parse_text(&tmp, name, text, strlen(text),
					  err, errlen));
}

int hablk_config_load_file(struct hablk_config *c, const char *path,
			   char *err, size_t errlen)
{
	struct hablk_config tmp = { NULL, 0 };

	return commit(c, &tmp, load_file(&tmp, path, err, errlen));
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names of dir's "*.res" files (hidden ones skipped, as glob(7) does). */
static int list_res_files(const char *dir, char ***names, size_t *nr)
{
	char **v = NULL, **nv;
	struct dirent *de;
	size_t n = 0, len;
	DIR *d;
	int e;

	d = opendir(dir);
	if (!d)
		return -1;
	while ((errno = 0, de = readdir(d))) {
		len = strlen(de->d_name);
		if (de->d_name[0] == '.' || len < 4 ||
		    strcmp(de->d_name + len - 4, ".res"))
			continue;
		nv = realloc(v, (n + 1) * sizeof(*v));
		if (!nv)
			goto err;
		v = nv;
		v[n] = strdup(de->d_name);
		if (!v[n])
			goto err;
		n++;
	}
	if (errno)
		goto err;
	closedir(d);
	if (n)
		qsort(v, n, sizeof(*v), cmp_names);
	*names = v;
	*nr = n;
	return 0;
err:
	e = errno ? errno : ENOMEM;
	while (n)
		free(v[--n]);
	free(v);
	closedir(d);
	errno = e;
	return -1;
}

int hablk_config_load_dir(struct hablk_config *c, const char *dir,
			  char *err, size_t errlen)
{
	struct hablk_config tmp = { NULL, 0 };
	char **names = NULL, *path;
	size_t i, len, nr = 0;
	int ret = 0;

	if (!dir)
		dir = HABLK_CONFIG_DIR;
	if (list_res_files(dir, &names, &nr)) {
		errmsg(err, errlen, "%s: %s", dir, strerror(errno));
		return commit(c, &tmp, -1);
	}
	for (i = 0; i < nr && !ret; i++) {
		len = strlen(dir) + strlen(names[i]) + 2;
		path = malloc(len);
		if (!path) {
			errmsg(err, errlen, "%s: %s", names[i], strerror(errno));
			ret = -1;
			break;
		}
		snprintf(path, len, "%s/%s", dir, names[i]);
		ret = load_file(&tmp, path, err, errlen);
		free(path);
	}
	for (i = 0; i < nr; i++)
		free(names[i]);
	free(names);
	return commit(c, &tmp, ret);
}

void hablk_config_free(struct hablk_config *c)
{
	size_t i;

	for (i = 0; i < c->nr_res; i++)
		res_free(&c->res[i]);
	free(c->res);
	c->res = NULL;
	c->nr_res = 0;
}

const struct hablk_res *hablk_config_find(const struct hablk_config *c,
					  const char *name)
{
	size_t i;

	for (i = 0; i < c->nr_res; i++)
		if (!strcmp(c->res[i].name, name))
			return &c->res[i];
	return NULL;
}

int hablk_res_local(const struct hablk_res *r, const char *nodename,
		    const struct hablk_node **self,
		    const struct hablk_node **peer)
{
	const struct hablk_node *s = NULL, *o = NULL;
	int ret = HABLK_LOCAL_NONE;
	int i;

	for (i = 0; i < 2; i++) {
		if (!strcmp(r->nodes[i].name, nodename)) {
			s = &r->nodes[i];
			o = &r->nodes[!i];
			ret = HABLK_LOCAL_DATA;
		}
	}
	if (r->has_arbiter && !strcmp(r->arbiter.name, nodename)) {
		s = &r->arbiter;
		ret = HABLK_LOCAL_ARBITER;
	}
	if (self)
		*self = s;
	if (peer)
		*peer = o;
	return ret;
}

/* ---- addresses ---- */

int hablk_addr_parse(const char *s, struct sockaddr_storage *ss,
		     socklen_t *len)
{
	struct sockaddr_in *sin = (void *)ss;
	struct sockaddr_in6 *sin6 = (void *)ss;
	char host[INET6_ADDRSTRLEN];
	const char *start = s, *end, *port;
	unsigned long pnum;
	int v6 = *s == '[';

	if (v6) {
		start = s + 1;
		end = strchr(start, ']');
		if (!end || end[1] != ':')
			goto inval;
		port = end + 2;
	} else {
		end = strchr(s, ':');
		if (!end)
			goto inval;
		port = end + 1;
	}
	if (end == start || (size_t)(end - start) >= sizeof(host) ||
	    parse_ulong(port, 65535, &pnum) || pnum == 0)
		goto inval;
	memcpy(host, start, (size_t)(end - start));
	host[end - start] = '\0';
	memset(ss, 0, sizeof(*ss));
	if (v6) {
		if (inet_pton(AF_INET6, host, &sin6->sin6_addr) != 1)
			goto inval;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)pnum);
		*len = sizeof(*sin6);
	} else {
		if (inet_pton(AF_INET, host, &sin->sin_addr) != 1)
			goto inval;
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)pnum);
		*len = sizeof(*sin);
	}
	return 0;
inval:
	errno = EINVAL;
	return -1;
}

const char *hablk_addr_format(const struct sockaddr_storage *ss, socklen_t len,
			      char *buf, size_t buflen)
{
	const struct sockaddr_in *sin = (const void *)ss;
	const struct sockaddr_in6 *sin6 = (const void *)ss;
	char host[INET6_ADDRSTRLEN];
	int n;

	if (ss->ss_family == AF_INET && len >= sizeof(*sin)) {
		inet_ntop(AF_INET, &sin->sin_addr, host, sizeof(host));
		n = snprintf(buf, buflen, "%s:%u", host, ntohs(sin->sin_port));
	} else if (ss->ss_family == AF_INET6 && len >= sizeof(*sin6)) {
		inet_ntop(AF_INET6, &sin6->sin6_addr, host, sizeof(host));
		n = snprintf(buf, buflen, "[%s]:%u", host, ntohs(sin6->sin6_port));
	} else {
		errno = EAFNOSUPPORT;
		return NULL;
	}
	if (n < 0 || (size_t)n >= buflen) {
		errno = ENOSPC;
		return NULL;
	}
	return buf;
}

bool hablk_addr_equal(const struct sockaddr_storage *a,
		      const struct sockaddr_storage *b)
{
	const struct sockaddr_in *a4 = (const void *)a, *b4 = (const void *)b;
	const struct sockaddr_in6 *a6 = (const void *)a, *b6 = (const void *)b;

	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET)
		return a4->sin_port == b4->sin_port &&
		       a4->sin_addr.s_addr == b4->sin_addr.s_addr;
	return a6->sin6_port == b6->sin6_port &&
	       !memcmp(&a6->sin6_addr, &b6->sin6_addr, sizeof(a6->sin6_addr));
}
