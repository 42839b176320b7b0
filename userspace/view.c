// SPDX-License-Identifier: GPL-2.0
/* view.c - hablkd's view of a resource: printed (text or JSON) with print.h,
 * parsed back with json-c, loaded from RUN_DIR/RES.json. */
#define _GNU_SOURCE		/* open_memstream() */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>

#include "view.h"

#define VIEW_FILE_MAX	4096	/* a longer RES.json is not hablkd's */

static void print_locks(struct hablk_pr *p, const struct hablk_view_locks *l)
{
	hablk_pr_open_object(p, "locks");
	hablk_pr_string(p, HABLK_PR_ANY, "role", " locks:%s", l->role);
	hablk_pr_bool(p, HABLK_PR_JSON, "session", NULL, l->session);
	hablk_pr_bool(p, HABLK_PR_JSON, "alone", NULL, l->alone);
	hablk_pr_u64(p, HABLK_PR_JSON, "extents", NULL, l->extents);
	hablk_pr_u64(p, HABLK_PR_ANY, "held", " held:%llu", l->held);
	if (l->peer_held >= 0)
		hablk_pr_u64(p, HABLK_PR_ANY, "peer_held", " peer-held:%llu",
			     (uint64_t)l->peer_held);
	else
		hablk_pr_null(p, "peer_held");
	hablk_pr_u64(p, HABLK_PR_JSON, "transfers", NULL, l->transfers);
	hablk_pr_u64(p, HABLK_PR_JSON, "blocks", NULL, l->blocks);
	hablk_pr_u64(p, HABLK_PR_JSON, "retransmits", NULL, l->retransmits);
	hablk_pr_close_object(p);
}

void hablk_view_print(struct hablk_pr *p, const char *key, const struct hablk_view *v)
{
	unsigned int i;

	hablk_pr_open_object(p, key);
	hablk_pr_int(p, HABLK_PR_JSON, "pid", NULL, v->pid);
	hablk_pr_string(p, HABLK_PR_JSON, "node", NULL, v->node);
	hablk_pr_string(p, HABLK_PR_JSON, "kind", NULL, v->is_arbiter ? "arbiter" : "data");
	if (v->is_arbiter) {
		if (v->vote_holder[0])
			hablk_pr_string(p, HABLK_PR_JSON, "vote_holder", NULL, v->vote_holder);
		else
			hablk_pr_null(p, "vote_holder");
		hablk_pr_text(p, " quorum:- arbiter:- vote:- peer:- fencing:-");
	} else {
		hablk_pr_bool(p, HABLK_PR_ANY, "quorum", " quorum:%s", v->quorum);
		hablk_pr_string(p, HABLK_PR_ANY, "arbiter", " arbiter:%s", v->arbiter);
		hablk_pr_bool(p, HABLK_PR_ANY, "arbiter_vote", " vote:%s", v->arbiter_vote);
		hablk_pr_string(p, HABLK_PR_ANY, "peer", " peer:%s", v->peer);
		hablk_pr_string(p, HABLK_PR_ANY, "fencing", " fencing:%s", v->fencing);
		if (v->has_locks)
			print_locks(p, &v->locks);
	}
	hablk_pr_open_array(p, "voters");
	for (i = 0; i < v->nvoters; i++) {
		const struct hablk_view_voter *n = &v->voters[i];

		hablk_pr_open_object(p, NULL);
		hablk_pr_string(p, HABLK_PR_JSON, "name", NULL, n->name);
		hablk_pr_uint(p, HABLK_PR_JSON, "id", NULL, n->id);
		hablk_pr_bool(p, HABLK_PR_JSON, "arbiter", NULL, n->arbiter);
		hablk_pr_bool(p, HABLK_PR_JSON, "alive", NULL, n->alive);
		hablk_pr_bool(p, HABLK_PR_JSON, "link", NULL, n->link);
		hablk_pr_bool(p, HABLK_PR_JSON, "control", NULL, n->control);
		hablk_pr_close_object(p);
	}
	hablk_pr_close_array(p);
	hablk_pr_close_object(p);
}

char *hablk_view_json(const struct hablk_view *v)
{
	struct hablk_pr p;
	char *text = NULL;
	size_t len;
	FILE *f = open_memstream(&text, &len);

	if (!f)
		return NULL;
	hablk_pr_init(&p, f, true);
	hablk_view_print(&p, NULL, v);
	hablk_pr_end(&p);
	if (fclose(f)) {
		free(text);
		return NULL;
	}
	return text;
}

/* ---- parsing ---- */

/* o's member key, of type t (not null); NULL if it is missing or of another type. */
static struct json_object *get(struct json_object *o, const char *key, enum json_type t)
{
	struct json_object *m;

	return json_object_object_get_ex(o, key, &m) && m && json_object_is_type(m, t) ? m : NULL;
}

/* o has a member key that is null (json-c's NULL object). */
static bool is_null(struct json_object *o, const char *key)
{
	struct json_object *m;

	return json_object_object_get_ex(o, key, &m) && !m;
}

static bool get_bool(struct json_object *o, const char *key, bool *out)
{
	struct json_object *m = get(o, key, json_type_boolean);

	if (m)
		*out = json_object_get_boolean(m);
	return m;
}

static bool get_int(struct json_object *o, const char *key, int64_t min, int64_t max,
		    int64_t *out)
{
	struct json_object *m = get(o, key, json_type_int);

	if (!m)
		return false;
	*out = json_object_get_int64(m);
	return *out >= min && *out <= max;
}

/* A string that fits buf (NUL included) and holds no NUL of its own. */
static bool get_string(struct json_object *o, const char *key, char *buf, size_t size)
{
	struct json_object *m = get(o, key, json_type_string);
	int len;

	if (!m)
		return false;
	len = json_object_get_string_len(m);
	if ((size_t)len >= size || memchr(json_object_get_string(m), 0, (size_t)len))
		return false;
	memcpy(buf, json_object_get_string(m), (size_t)len + 1);
	return true;
}

static bool parse_voters(struct json_object *o, struct hablk_view *v)
{
	struct json_object *a = get(o, "voters", json_type_array), *e;
	size_t i, n = a ? json_object_array_length(a) : 0;
	int64_t id;

	if (!a || n > HABLK_VIEW_VOTERS)
		return false;
	for (i = 0; i < n; i++) {
		struct hablk_view_voter *w = &v->voters[i];

		e = json_object_array_get_idx(a, i);
		if (!json_object_is_type(e, json_type_object) ||
		    !get_string(e, "name", w->name, sizeof(w->name)) ||
		    !get_int(e, "id", 0, HABLK_NODE_ID_MAX, &id) ||
		    !get_bool(e, "arbiter", &w->arbiter) || !get_bool(e, "alive", &w->alive) ||
		    !get_bool(e, "link", &w->link) || !get_bool(e, "control", &w->control))
			return false;
		w->id = (unsigned int)id;
	}
	v->nvoters = (unsigned int)n;
	return true;
}

static bool get_u64(struct json_object *o, const char *key, uint64_t *out)
{
	int64_t v;

	if (!get_int(o, key, 0, INT64_MAX, &v))
		return false;
	*out = (uint64_t)v;
	return true;
}

/* "locks" (two primaries), if there: 1 read, 0 absent, -1 malformed. */
static int parse_locks(struct json_object *o, struct hablk_view *v)
{
	struct json_object *l = get(o, "locks", json_type_object);
	struct hablk_view_locks *k = &v->locks;
	uint64_t peer;

	if (!l)
		return json_object_object_get_ex(o, "locks", NULL) ? -1 : 0;
	if (!get_string(l, "role", k->role, sizeof(k->role)) ||
	    !get_bool(l, "session", &k->session) || !get_bool(l, "alone", &k->alone) ||
	    !get_u64(l, "extents", &k->extents) || !get_u64(l, "held", &k->held) ||
	    !get_u64(l, "transfers", &k->transfers) || !get_u64(l, "blocks", &k->blocks) ||
	    !get_u64(l, "retransmits", &k->retransmits))
		return -1;
	if (is_null(l, "peer_held"))
		k->peer_held = -1;
	else if (get_u64(l, "peer_held", &peer))
		k->peer_held = (int64_t)peer;
	else
		return -1;
	v->has_locks = true;
	return 1;
}

static bool parse_object(struct json_object *o, struct hablk_view *v)
{
	char kind[16];
	int64_t pid;

	if (!json_object_is_type(o, json_type_object) || !get_int(o, "pid", 1, INT32_MAX, &pid) ||
	    !get_string(o, "node", v->node, sizeof(v->node)) ||
	    !get_string(o, "kind", kind, sizeof(kind)) ||
	    (strcmp(kind, "data") && strcmp(kind, "arbiter")))
		return false;
	v->pid = (int)pid;
	v->is_arbiter = !strcmp(kind, "arbiter");
	if (v->is_arbiter) {
		if (!is_null(o, "vote_holder") &&
		    !get_string(o, "vote_holder", v->vote_holder, sizeof(v->vote_holder)))
			return false;
	} else if (!get_bool(o, "quorum", &v->quorum) ||
		   !get_string(o, "arbiter", v->arbiter, sizeof(v->arbiter)) ||
		   !get_bool(o, "arbiter_vote", &v->arbiter_vote) ||
		   !get_string(o, "peer", v->peer, sizeof(v->peer)) ||
		   !get_string(o, "fencing", v->fencing, sizeof(v->fencing)) ||
		   parse_locks(o, v) < 0) {
		return false;
	}
	return parse_voters(o, v);
}

int hablk_view_parse(const char *text, struct hablk_view *v)
{
	struct json_tokener *tok = json_tokener_new();
	struct json_object *o;
	size_t len = strlen(text);
	bool ok;

	if (!tok)
		return -1;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	o = json_tokener_parse_ex(tok, text, (int)len);
	/* one value, and nothing but white space after it */
	ok = o && json_tokener_get_error(tok) == json_tokener_success &&
	     strspn(text + json_tokener_get_parse_end(tok), " \t\r\n") ==
	     len - json_tokener_get_parse_end(tok);
	memset(v, 0, sizeof(*v));
	ok = ok && parse_object(o, v);
	json_object_put(o);
	json_tokener_free(tok);
	return ok ? 0 : -1;
}

int hablk_view_load(const char *dir, const char *name, struct hablk_view *v)
{
	char path[512], buf[VIEW_FILE_MAX];
	size_t n;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s.json", dir ? dir : HABLK_RUN_DIR, name);
	f = fopen(path, "re");
	if (!f)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	if (hablk_view_parse(buf, v))
		return -1;
	if (kill(v->pid, 0) && errno == ESRCH)
		return -1;	/* its hablkd is gone */
	return 0;
}
