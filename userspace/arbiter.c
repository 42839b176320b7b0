// SPDX-License-Identifier: GPL-2.0
/* arbiter.c - the arbiter's state file (load, atomic save) and its grant rule. */
#define _DEFAULT_SOURCE		/* O_CLOEXEC, O_DIRECTORY, strtok_r() */

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arbiter.h"

#define RES_NAME_MAX	(HABLK_NAME_LEN - 1)	/* a resource name without its NUL */
#define MAX_WORDS	4

static const char *const disk_names[] = {
	[HABLK_ARB_UNKNOWN] = "unknown",
	[HABLK_ARB_UPTODATE] = "uptodate",
	[HABLK_ARB_OUTDATED] = "outdated",
};

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

void hablk_arbiter_state_init(struct hablk_arb_state *st)
{
	memset(st, 0, sizeof(*st));
	st->primary = -1;
}

/* ---- parsing ---- */

/* Decimal (base 10) or hex (base 16) digits only, all of s, into *v. */
static bool parse_u64(const char *s, int base, uint64_t *v)
{
	char *end;

	if (!*s || strspn(s, base == 16 ? "0123456789abcdefABCDEF" : "0123456789") != strlen(s))
		return false;
	errno = 0;
	*v = strtoull(s, &end, base);
	return !errno && !*end;
}

static bool parse_id(const char *s, int *id)
{
	uint64_t v;

	if (!parse_u64(s, 10, &v) || v >= HABLK_ARB_NODES)
		return false;
	*id = v;
	return true;
}

static int parse_disk(const char *s)
{
	int i;

	for (i = 0; i < (int)(sizeof(disk_names) / sizeof(disk_names[0])); i++)
		if (!strcmp(s, disk_names[i]))
			return i;
	return -1;
}

/* Split line (modified) at blanks into w[]; returns the count, or -1 if too many. */
static int split(char *line, char *w[MAX_WORDS])
{
	char *save, *tok;
	int n = 0;

	for (tok = strtok_r(line, " \t\r", &save); tok; tok = strtok_r(NULL, " \t\r", &save)) {
		if (n == MAX_WORDS)
			return -1;
		w[n++] = tok;
	}
	return n;
}

/* Keys seen so far, to find duplicates and missing ones. */
enum { SEEN_VERSION = 1, SEEN_UUID = 2, SEEN_PRIMARY = 4, SEEN_ALL = 7 };

/* One non-empty line of words w[0..n-1] into *st. Returns a reason or NULL. */
static const char *parse_line(char **w, int n, struct hablk_arb_state *st,
			      unsigned int *seen, uint32_t *nodes)
{
	int id, d;

	if (!strcmp(w[0], "version")) {
		if (*seen & SEEN_VERSION)
			return "duplicate version";
		*seen |= SEEN_VERSION;
		return n == 2 && parse_u64(w[1], 10, &st->version) ? NULL : "bad version";
	}
	if (!strcmp(w[0], "current_uuid")) {
		if (*seen & SEEN_UUID)
			return "duplicate current_uuid";
		*seen |= SEEN_UUID;
		return n == 2 && strlen(w[1]) <= 16 && parse_u64(w[1], 16, &st->current_uuid) ?
		       NULL : "bad current_uuid (1 to 16 hex digits)";
	}
	if (!strcmp(w[0], "primary")) {
		if (*seen & SEEN_PRIMARY)
			return "duplicate primary";
		*seen |= SEEN_PRIMARY;
		if (n == 2 && !strcmp(w[1], "-1")) {
			st->primary = -1;
			return NULL;
		}
		return n == 2 && parse_id(w[1], &st->primary) ? NULL : "bad primary (-1 or 0..31)";
	}
	if (!strcmp(w[0], "node")) {
		if (n != 3 || !parse_id(w[1], &id))
			return "bad node (node ID uptodate|outdated|unknown)";
		if (*nodes & (1u << id))
			return "duplicate node";
		*nodes |= 1u << id;
		d = parse_disk(w[2]);
		if (d < 0)
			return "bad node state (uptodate|outdated|unknown)";
		st->disk[id] = d;
		return NULL;
	}
	return "unknown key";
}

int hablk_arbiter_parse(const char *text, struct hablk_arb_state *st,
			char *err, size_t errlen)
{
	struct hablk_arb_state new;
	unsigned int seen = 0, line = 0;
	uint32_t nodes = 0;
	char buf[HABLK_ARB_FILE_MAX + 1], *p, *nl, *w[MAX_WORDS];
	const char *why;
	int n;

	if (strlen(text) > HABLK_ARB_FILE_MAX)
		return fail(err, errlen, "longer than %d bytes", HABLK_ARB_FILE_MAX);
	strcpy(buf, text);
	hablk_arbiter_state_init(&new);
	for (p = buf; *p; p = nl + 1) {
		line++;
		nl = strchr(p, '\n');
		if (!nl)
			return fail(err, errlen, "line %u: no newline at the end (cut short?)", line);
		*nl = '\0';
		if (*p == '#')
			continue;
		n = split(p, w);
		if (n < 0)
			return fail(err, errlen, "line %u: too many words", line);
		why = n ? parse_line(w, n, &new, &seen, &nodes) : NULL;
		if (why)
			return fail(err, errlen, "line %u: %s", line, why);
	}
	if (seen != SEEN_ALL)
		return fail(err, errlen, "missing %s", !(seen & SEEN_VERSION) ? "version" :
			    !(seen & SEEN_UUID) ? "current_uuid" : "primary");
	*st = new;
	return 0;
}

/* ---- the file ---- */

static bool valid_res(const char *res)
{
	size_t len = strlen(res);

	return len && len <= RES_NAME_MAX &&
	       strspn(res, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
			   "0123456789_.-") == len;
}

/* dir/res.state plus suffix into path; -1 with err set for a bad res or a long path. */
static int state_path(char *path, const char *dir, const char *res,
		      const char *suffix, char *err, size_t errlen)
{
	int len;

	if (!valid_res(res))
		return fail(err, errlen, "%s: bad resource name '%s'", dir, res);
	len = snprintf(path, PATH_MAX, "%s/%s.state%s", dir, res, suffix);
	if (len < 0 || len >= PATH_MAX)
		return fail(err, errlen, "%s: path too long", dir);
	return 0;
}

/* Read all of fd into buf (size bytes, NUL-terminated); -1 and errno on errors. */
static ssize_t read_all(int fd, char *buf, size_t size)
{
	size_t got = 0;
	ssize_t r;

	while (got < size - 1) {
		r = read(fd, buf + got, size - 1 - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (!r)
			break;
		got += r;
	}
	buf[got] = '\0';
	return got;
}

int hablk_arbiter_load(const char *dir, const char *res,
		       struct hablk_arb_state *st, char *err, size_t errlen)
{
	char path[PATH_MAX], buf[HABLK_ARB_FILE_MAX + 2], why[128];
	ssize_t len;
	int fd;

	if (state_path(path, dir, res, "", err, errlen))
		return -1;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT) {
		hablk_arbiter_state_init(st);
		return 0;
	}
	if (fd < 0)
		return fail(err, errlen, "%s: %s", path, strerror(errno));
	len = read_all(fd, buf, sizeof(buf));
	if (len < 0) {
		fail(err, errlen, "%s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	close(fd);
	if (strlen(buf) != (size_t)len)
		return fail(err, errlen, "%s: holds a NUL byte", path);
	if (hablk_arbiter_parse(buf, st, why, sizeof(why)))
		return fail(err, errlen, "%s: %s", path, why);
	return 0;
}

/* The text of a state file into buf; HABLK_ARB_FILE_MAX bytes hold the longest (~700). */
static size_t format(const struct hablk_arb_state *st, char *buf, size_t size)
{
	size_t off;
	int id;

	off = snprintf(buf, size, "# hablkd arbiter state; replaced atomically, do not edit\n"
		       "version %" PRIu64 "\ncurrent_uuid %016" PRIx64 "\nprimary %d\n",
		       st->version, st->current_uuid, st->primary);
	for (id = 0; id < HABLK_ARB_NODES; id++)
		if (st->disk[id] != HABLK_ARB_UNKNOWN)
			off += snprintf(buf + off, size - off, "node %d %s\n", id,
					disk_names[st->disk[id]]);
	return off;
}

static bool valid_state(const struct hablk_arb_state *st)
{
	int id;

	for (id = 0; id < HABLK_ARB_NODES; id++)
		if (st->disk[id] > HABLK_ARB_OUTDATED)
			return false;
	return st->primary >= -1 && st->primary < HABLK_ARB_NODES;
}

static int write_all(int fd, const char *buf, size_t len)
{
	ssize_t r;

	while (len) {
		r = write(fd, buf, len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		buf += r;
		len -= r;
	}
	return 0;
}

/* Create tmp afresh (removing a leftover of a crash) holding buf, synced. */
static int write_tmp(const char *tmp, const char *buf, size_t len)
{
	int fd, ret;

	if (unlink(tmp) && errno != ENOENT)
		return -1;
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	ret = write_all(fd, buf, len);
	if (!ret)
		ret = fsync(fd);
	if (close(fd) && !ret)
		ret = -1;
	return ret;
}

static int fsync_dir(const char *dir)
{
	int fd, ret;

	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ret = fsync(fd);
	close(fd);
	return ret;
}

int hablk_arbiter_save(const char *dir, const char *res,
		       struct hablk_arb_state *st, char *err, size_t errlen)
{
	char path[PATH_MAX], tmp[PATH_MAX], buf[HABLK_ARB_FILE_MAX];
	size_t len;

	if (state_path(path, dir, res, "", err, errlen) ||
	    state_path(tmp, dir, res, ".tmp", err, errlen))
		return -1;
	if (!valid_state(st))
		return fail(err, errlen, "%s: bad primary or node state", path);
	st->version++;
	len = format(st, buf, sizeof(buf));
	if (write_tmp(tmp, buf, len)) {
		fail(err, errlen, "%s: %s", tmp, strerror(errno));
		unlink(tmp);
		return -1;
	}
	if (rename(tmp, path)) {
		fail(err, errlen, "%s: rename: %s", path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	if (fsync_dir(dir))
		return fail(err, errlen, "%s: fsync: %s", dir, strerror(errno));
	return 0;
}

/* ---- the vote ---- */

int hablk_arbiter_grant(const struct hablk_arb_state *st, uint32_t data_nodes,
			uint32_t requesters)
{
	uint32_t cand = requesters & data_nodes, up = 0;
	int id;

	for (id = 0; id < HABLK_ARB_NODES; id++) {
		if (!(cand & (1u << id)))
			continue;
		if (st->disk[id] == HABLK_ARB_OUTDATED)
			cand &= ~(1u << id);
		else if (st->disk[id] == HABLK_ARB_UPTODATE)
			up |= 1u << id;
	}
	if (!cand)
		return -1;
	if (st->primary >= 0 && st->primary < HABLK_ARB_NODES &&
	    (cand & (1u << st->primary)))
		return st->primary;
	return __builtin_ctz(up ? up : cand);
}
