// SPDX-License-Identifier: GPL-2.0
/*
 * locks.c - hablkadm locks RES: which node holds which extents (two
 * primaries): this node's kernel table, and the peer's as the master's
 * hablkd knows it (RUN_DIR/RES.locks).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/utsname.h>
#include <json-c/json.h>
#include "hablkadm.h"
#include "print.h"
#include "view.h"

#define LOCKS_FILE_MAX	(1 << 20)	/* a longer RES.locks is not hablkd's */

struct runs {
	uint64_t (*r)[2];		/* first, count */
	size_t n;
};

struct table {
	struct runs kind[3];		/* held, wanted, releasing */
};

static int kind_of(int op)
{
	return op == HABLK_LOCK_HELD ? 0 : op == HABLK_LOCK_WANT ? 1 :
	       op == HABLK_LOCK_RELEASING ? 2 : -1;
}

static int add_run(struct runs *rs, uint64_t first, uint64_t count)
{
	uint64_t (*r)[2] = realloc(rs->r, (rs->n + 1) * sizeof(*r));

	if (!r)
		return -ENOMEM;
	rs->r = r;
	rs->r[rs->n][0] = first;
	rs->r[rs->n][1] = count;
	rs->n++;
	return 0;
}

static int collect(int op, uint64_t first, uint64_t count, unsigned int extent, void *arg)
{
	struct table *t = arg;
	int k = kind_of(op);

	(void)extent;
	return k < 0 ? 0 : add_run(&t->kind[k], first, count);
}

/* The peer's runs as the master's hablkd wrote them; 0, or -1 if there are none to read. */
static int load_peer(const char *res, char *peer, size_t peerlen, struct runs *out)
{
	char path[512], *buf;
	struct json_object *o = NULL, *runs, *name, *pid, *e;
	size_t i, n;
	FILE *f;
	int ret = -1;

	snprintf(path, sizeof(path), "%s/%s.locks", HABLK_RUN_DIR, res);
	f = fopen(path, "re");
	if (!f)
		return -1;
	buf = malloc(LOCKS_FILE_MAX);
	n = buf ? fread(buf, 1, LOCKS_FILE_MAX - 1, f) : 0;
	fclose(f);
	if (!buf)
		return -1;
	buf[n] = 0;
	o = json_tokener_parse(buf);
	free(buf);
	/* a map left by a hablkd that is gone is not shown */
	if (!o || !json_object_object_get_ex(o, "pid", &pid) ||
	    !json_object_is_type(pid, json_type_int) || json_object_get_int(pid) <= 0 ||
	    (kill((pid_t)json_object_get_int(pid), 0) && errno == ESRCH) ||
	    !json_object_object_get_ex(o, "peer", &name) ||
	    !json_object_is_type(name, json_type_string) ||
	    !json_object_object_get_ex(o, "runs", &runs) ||
	    !json_object_is_type(runs, json_type_array))
		goto out;
	snprintf(peer, peerlen, "%s", json_object_get_string(name));
	for (i = 0; i < json_object_array_length(runs); i++) {
		e = json_object_array_get_idx(runs, i);
		if (!json_object_is_type(e, json_type_array) || json_object_array_length(e) != 2 ||
		    add_run(out, (uint64_t)json_object_get_int64(json_object_array_get_idx(e, 0)),
			    (uint64_t)json_object_get_int64(json_object_array_get_idx(e, 1))))
			goto out;
	}
	ret = 0;
out:
	json_object_put(o);
	return ret;
}

/* A list of runs: "0-99 200-255" (inclusive, in extents), or [[first,count],...]. */
static void print_runs(struct hablk_pr *p, const char *key, const char *label,
		       const struct runs *rs)
{
	size_t i;

	hablk_pr_text(p, "  %s", label);
	hablk_pr_open_array(p, key);
	for (i = 0; i < rs->n; i++) {
		hablk_pr_open_array(p, NULL);
		hablk_pr_u64(p, HABLK_PR_JSON, NULL, NULL, rs->r[i][0]);
		hablk_pr_u64(p, HABLK_PR_JSON, NULL, NULL, rs->r[i][1]);
		hablk_pr_close_array(p);
		if (rs->r[i][1] == 1)
			hablk_pr_text(p, " %llu", (unsigned long long)rs->r[i][0]);
		else
			hablk_pr_text(p, " %llu-%llu", (unsigned long long)rs->r[i][0],
				      (unsigned long long)(rs->r[i][0] + rs->r[i][1] - 1));
	}
	hablk_pr_close_array(p);
	hablk_pr_text(p, "%s\n", rs->n ? "" : " none");
}

int cmd_locks(const struct opts *o)
{
	struct table t = { 0 };
	struct runs peer = { 0 };
	struct hablk_status *v = NULL;
	char peer_name[HABLK_NAME_LEN], label[HABLK_NAME_LEN + 32];
	const char *self = o->node;
	struct utsname u;
	struct hablk_nl nl;
	struct hablk_pr p;
	size_t n = 0;
	int ret, k;

	if (!self && !uname(&u))
		self = u.nodename;
	ret = nl_open_or_explain(&nl);
	if (ret)
		return ret;
	if (hablk_nl_status(&nl, o->res, &v, &n) || n != 1) {
		ret = nl_failed(&nl, o->res);
		goto out;
	}
	if (!v[0].lock_extent) {
		errorf("%s: allow-two-primaries is off: no extent locks", o->res);
		ret = EXIT_REFUSED;
		goto out;
	}
	if (hablk_nl_locks(&nl, o->res, collect, &t)) {
		ret = nl_failed(&nl, o->res);
		goto out;
	}
	hablk_pr_init(&p, stdout, o->json);
	hablk_pr_open_object(&p, NULL);
	hablk_pr_string(&p, HABLK_PR_ANY, "name", "%s:", v[0].name);
	hablk_pr_uint(&p, HABLK_PR_ANY, "extent_kib", " extents of %uKiB", v[0].lock_extent >> 10);
	hablk_pr_u64(&p, HABLK_PR_ANY, "extents", ", %llu in all\n",
		     (v[0].size_sectors * 512 + v[0].lock_extent - 1) / v[0].lock_extent);
	hablk_pr_string(&p, HABLK_PR_JSON, "node", NULL, self ? self : "");
	print_runs(&p, "held", "this node holds:", &t.kind[0]);
	print_runs(&p, "wanted", "its writes wait for:", &t.kind[1]);
	print_runs(&p, "releasing", "it is giving up:", &t.kind[2]);
	if (!load_peer(o->res, peer_name, sizeof(peer_name), &peer)) {
		hablk_pr_open_object(&p, "peer");
		hablk_pr_string(&p, HABLK_PR_JSON, "name", NULL, peer_name);
		snprintf(label, sizeof(label), "%s holds (the master's map):", peer_name);
		print_runs(&p, "held", label, &peer);
		hablk_pr_close_object(&p);
	} else {
		hablk_pr_null(&p, "peer");
		hablk_pr_text(&p, "  the peer's locks: see hablkadm locks on the master "
			      "(the data node with the lower id)\n");
	}
	hablk_pr_close_object(&p);
	hablk_pr_end(&p);
out:
	for (k = 0; k < 3; k++)
		free(t.kind[k].r);
	free(peer.r);
	free(v);
	hablk_nl_close(&nl);
	return ret;
}
