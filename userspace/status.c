// SPDX-License-Identifier: GPL-2.0
/* status.c - hablkadm status (text and JSON), events, and the wait-*
 * commands, which subscribe to events before they look, so nothing is missed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "../kernel/uapi/linux/hablk.h"
#include "hablkadm.h"
#include "print.h"
#include "view.h"

static bool syncing(const struct hablk_status *s)
{
	return s->repl == HABLK_REPL_SYNC_SOURCE || s->repl == HABLK_REPL_SYNC_TARGET ||
	       s->repl == HABLK_REPL_VERIFY_SOURCE || s->repl == HABLK_REPL_VERIFY_TARGET ||
	       s->repl == HABLK_REPL_PAUSED;
}

/* KiB/s of the running sync or verify so far, and seconds left at that rate (-1: unknown). */
static double sync_rate(const struct hablk_status *s)
{
	return syncing(s) && s->sync_elapsed_ms ?
	       (double)s->sync_done / 2.0 / ((double)s->sync_elapsed_ms / 1000.0) : 0.0;
}

static double sync_eta(const struct hablk_status *s)
{
	double rate = sync_rate(s);

	return rate > 0 ? (double)(s->sync_total - s->sync_done) / 2.0 / rate : -1.0;
}

static double sync_percent(const struct hablk_status *s)
{
	if (!syncing(s))
		return s->oos_sectors ? 0.0 : 100.0;
	if (!s->sync_total)
		return 0.0;
	return 100.0 * (double)s->sync_done / (double)s->sync_total;
}

/* The peer: the second text line (and the last error), or the "peers" array. */
static void print_peer(struct hablk_pr *p, const struct hablk_status *s)
{
	enum hablk_pr_to sync = syncing(s) ? HABLK_PR_ANY : HABLK_PR_JSON;
	bool show_error = s->last_error[0] && s->conn != HABLK_CONN_CONNECTED;

	hablk_pr_open_array(p, "peers");
	hablk_pr_open_object(p, NULL);
	hablk_pr_string(p, HABLK_PR_JSON, "name", NULL, s->peer_name);
	hablk_pr_string(p, HABLK_PR_TEXT, NULL, "  %s", s->peer_name[0] ? s->peer_name : "peer");
	hablk_pr_uint(p, HABLK_PR_JSON, "node_id", NULL, s->peer_id);
	hablk_pr_string(p, HABLK_PR_ANY, "connection", " connection:%s", hablk_conn_name(s->conn));
	hablk_pr_string(p, HABLK_PR_ANY, "role", " role:%s", hablk_role_name(s->peer_role));
	hablk_pr_string(p, HABLK_PR_ANY, "disk", " disk:%s", hablk_disk_name(s->peer_disk));
	hablk_pr_string(p, HABLK_PR_ANY, "replication", " replication:%s", hablk_repl_name(s->repl));
	hablk_pr_u64(p, HABLK_PR_ANY, "out_of_sync_kib", " out-of-sync:%lluKiB", s->oos_sectors / 2);
	hablk_pr_float(p, sync, "sync_done_percent", " done:%s%%", 1, sync_percent(s));
	hablk_pr_float(p, sync, "sync_rate_kib_s", " rate:%sKiB/s", 0, sync_rate(s));
	hablk_pr_float(p, sync, "sync_eta_s", " eta:%ss", 0, sync_eta(s));
	hablk_pr_text(p, "\n");
	hablk_pr_string(p, show_error ? HABLK_PR_ANY : HABLK_PR_JSON, "last_error",
			"  last error: %s\n", s->last_error);
	hablk_pr_close_object(p);
	hablk_pr_close_array(p);
}

/*
 * Two primaries: this node's extent locks, the "locks" member or a line:
 * held, writes waiting now, extents granted and given up so far, and the
 * writes that had to wait for a lock (how many, how long on average).
 */
static void print_locks(struct hablk_pr *p, const struct hablk_status *s)
{
	double avg = s->lock_waits ? (double)s->lock_wait_us / 1000.0 / (double)s->lock_waits : 0;

	hablk_pr_open_object(p, "locks");
	hablk_pr_uint(p, HABLK_PR_ANY, "extent_kib", "  locks: extent:%uKiB", s->lock_extent >> 10);
	hablk_pr_u64(p, HABLK_PR_ANY, "held", " held:%llu", s->locks_held);
	hablk_pr_uint(p, HABLK_PR_ANY, "waiters", " waiting:%u", s->lock_waiters);
	hablk_pr_u64(p, HABLK_PR_ANY, "grants", " granted:%llu", s->lock_grants);
	hablk_pr_u64(p, HABLK_PR_ANY, "releases", " released:%llu", s->lock_releases);
	hablk_pr_u64(p, HABLK_PR_ANY, "waits", " waits:%llu", s->lock_waits);
	hablk_pr_u64(p, HABLK_PR_JSON, "wait_us", NULL, s->lock_wait_us);
	hablk_pr_float(p, HABLK_PR_ANY, "wait_avg_ms", " wait-avg:%sms", 2, avg);
	hablk_pr_text(p, "\n");
	hablk_pr_close_object(p);
}

/* hablkd's view, while the hablkd that wrote it runs: the "hablkd" member, the hablkd: line. */
static void print_view(struct hablk_pr *p, const char *name)
{
	struct hablk_view v;

	if (hablk_view_load(NULL, name, &v)) {
		hablk_pr_null(p, "hablkd");
		return;
	}
	hablk_pr_text(p, "  hablkd:");
	hablk_view_print(p, "hablkd", &v);
	hablk_pr_text(p, "\n");
}

/*
 * One resource of hablkadm status: a line for it, one for its peer (and the
 * last error, and hablkd's view), or its JSON object. An event's object
 * (events -j) leads with "event" and has no hablkd view.
 */
static void print_res(struct hablk_pr *p, const struct hablk_status *s, bool event)
{
	char dev[32], uuid[17], proto[2] = { s->protocol, 0 };

	snprintf(dev, sizeof(dev), "/dev/hablk%u", s->minor);
	snprintf(uuid, sizeof(uuid), "%016llx", (unsigned long long)s->current_uuid);
	hablk_pr_open_object(p, NULL);
	if (event)
		hablk_pr_string(p, HABLK_PR_JSON, "event", NULL, s->what);
	hablk_pr_string(p, HABLK_PR_ANY, "name", "%s", s->name);
	hablk_pr_uint(p, HABLK_PR_JSON, "minor", NULL, s->minor);
	hablk_pr_string(p, HABLK_PR_JSON, "device", NULL, dev);
	hablk_pr_string(p, HABLK_PR_ANY, "role", " role:%s", hablk_role_name(s->role));
	hablk_pr_string(p, HABLK_PR_ANY, "disk", " disk:%s", hablk_disk_name(s->disk));
	hablk_pr_u64(p, HABLK_PR_TEXT, NULL, " size:%lluKiB", s->size_sectors / 2);
	hablk_pr_string(p, HABLK_PR_TEXT, NULL, " device:%s", dev);
	hablk_pr_string(p, HABLK_PR_TEXT, NULL, " protocol:%s", proto);
	if (s->managed || !s->quorum || s->suspended)
		hablk_pr_text(p, " quorum:%s%s", s->quorum ? "yes" : "no",
			      s->suspended ? " suspended" : "");
	hablk_pr_text(p, "\n");
	hablk_pr_bool(p, HABLK_PR_JSON, "quorum", NULL, s->quorum);
	hablk_pr_bool(p, HABLK_PR_JSON, "suspended", NULL, s->suspended);
	hablk_pr_bool(p, HABLK_PR_JSON, "managed", NULL, s->managed);
	hablk_pr_string(p, HABLK_PR_JSON, "protocol", NULL, proto);
	hablk_pr_u64(p, HABLK_PR_JSON, "size_kib", NULL, s->size_sectors / 2);
	hablk_pr_string(p, HABLK_PR_JSON, "current_uuid", NULL, uuid);
	hablk_pr_uint(p, HABLK_PR_JSON, "bitmap_granularity_kib", NULL, s->bm_block >> 10);
	hablk_pr_bool(p, HABLK_PR_JSON, "two_primaries", NULL, s->two_primaries);
	if (s->lock_extent)
		print_locks(p, s);
	print_peer(p, s);
	if (!event)
		print_view(p, s->name);
	hablk_pr_close_object(p);
}

int cmd_status(const struct opts *o)
{
	struct hablk_status *v = NULL;
	struct hablk_nl nl;
	struct hablk_pr p;
	size_t i, n = 0;
	int ret;

	ret = nl_open_or_explain(&nl);
	if (ret)
		return ret;
	if (hablk_nl_status(&nl, o->res, &v, &n)) {
		ret = nl_failed(&nl, o->res ? o->res : "status");
		goto out;
	}
	hablk_pr_init(&p, stdout, o->json);
	hablk_pr_open_object(&p, NULL);
	hablk_pr_open_array(&p, "resources");
	for (i = 0; i < n; i++)
		print_res(&p, &v[i], false);
	hablk_pr_close_array(&p);
	hablk_pr_close_object(&p);
	hablk_pr_end(&p);
out:
	free(v);
	hablk_nl_close(&nl);
	return ret;
}

/* A kernel event: one line, or (-j) the resource's JSON object with "event" first. */
static void print_event(struct hablk_pr *p, const struct hablk_status *ev)
{
	if (p->json) {
		print_res(p, ev, true);
		hablk_pr_end(p);
		return;
	}
	hablk_pr_text(p, "%s %s role:%s disk:%s connection:%s peer-role:%s peer-disk:%s "
		      "replication:%s", ev->what, ev->name, hablk_role_name(ev->role),
		      hablk_disk_name(ev->disk), hablk_conn_name(ev->conn),
		      hablk_role_name(ev->peer_role), hablk_disk_name(ev->peer_disk),
		      hablk_repl_name(ev->repl));
	if (ev->lock_extent)
		hablk_pr_text(p, " locks-held:%llu lock-waiters:%u",
			      (unsigned long long)ev->locks_held, ev->lock_waiters);
	hablk_pr_text(p, "\n");
}

/* First one "exists" line per resource, then one line per change. */
#define MAX_VIEWS 64

/* A resource's hablkd view as last printed by events. */
struct view_seen {
	char name[HABLK_NAME_LEN];
	char last[4096];	/* its JSON, or "null": no hablkd */
};

/* An "hablkd" event when the hablkd view of a resource changed (or went away). */
static void print_view_change(struct hablk_pr *p, struct view_seen *w)
{
	struct hablk_view v;
	bool have = !hablk_view_load(NULL, w->name, &v);
	char *json = have ? hablk_view_json(&v) : NULL;

	if ((have && !json) || !strcmp(json ?: "null", w->last)) {
		free(json);
		return;
	}
	snprintf(w->last, sizeof(w->last), "%s", json ?: "null");
	free(json);
	hablk_pr_open_object(p, NULL);
	hablk_pr_string(p, HABLK_PR_JSON, "event", NULL, "hablkd");
	hablk_pr_string(p, HABLK_PR_ANY, "name", "hablkd %s", w->name);
	if (have) {
		hablk_view_print(p, "hablkd", &v);
	} else {
		hablk_pr_null(p, "hablkd");
		hablk_pr_text(p, " stopped");
	}
	hablk_pr_close_object(p);
	hablk_pr_text(p, "\n");
	hablk_pr_end(p);
}

int cmd_events(const struct opts *o)
{
	static struct view_seen views[MAX_VIEWS];
	struct hablk_status ev, *v = NULL;
	struct hablk_nl nl, events;
	struct hablk_pr p;
	size_t i, n = 0, nviews;
	int ret;

	ret = nl_open_or_explain(&nl);
	if (ret)
		return ret;
	ret = nl_open_or_explain(&events);
	if (ret)
		goto out;
	if (hablk_nl_subscribe(&events)) {
		errorf("events: cannot join the events group");
		ret = EXIT_REFUSED;
		goto out;
	}
	if (hablk_nl_status(&nl, NULL, &v, &n)) {
		ret = nl_failed(&nl, "events");
		goto out;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	hablk_pr_init(&p, stdout, o->json);
	for (i = 0; i < n; i++) {
		snprintf(v[i].what, sizeof(v[i].what), "exists");
		print_event(&p, &v[i]);
	}
	for (i = 0; i < MAX_VIEWS; i++)
		strcpy(views[i].last, "null");	/* no hablkd: nothing to say */
	for (i = 0; i < n && i < MAX_VIEWS; i++)
		snprintf(views[i].name, sizeof(views[i].name), "%s", v[i].name);
	nviews = i;
	/* kernel events as they come; hablkd's view, when it changes, within half a second */
	while ((ret = hablk_nl_next_event(&events, &ev, 500)) >= 0) {
		if (ret > 0) {
			print_event(&p, &ev);
			for (i = 0; i < nviews && strcmp(views[i].name, ev.name); i++)
				;
			if (i == nviews && nviews < MAX_VIEWS)
				snprintf(views[nviews++].name, sizeof(views[0].name), "%s", ev.name);
		}
		for (i = 0; i < nviews; i++)
			print_view_change(&p, &views[i]);
	}
	errorf("events: lost the kernel connection");
	ret = EXIT_REFUSED;
out:
	free(v);
	hablk_nl_close(&events);
	hablk_nl_close(&nl);
	return ret;
}

/* 1: reached, 0: not yet, -1: cannot happen without an administrator. */
static int wait_reached(const struct hablk_status *s, bool sync)
{
	if (s->conn == HABLK_CONN_STANDALONE)
		return -1;
	if (s->conn != HABLK_CONN_CONNECTED)
		return 0;
	if (!sync)
		return 1;
	return s->disk == HABLK_DISK_UPTODATE && s->peer_disk == HABLK_DISK_UPTODATE &&
	       s->repl == HABLK_REPL_ESTABLISHED;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int cmd_wait(const struct opts *o, bool sync)
{
	const char *what = sync ? "wait-sync" : "wait-connect";
	struct hablk_status *v = NULL, ev;
	struct hablk_nl nl, events;
	double deadline = o->timeout >= 0 ? now() + o->timeout : -1;
	size_t n;
	int ret, r, ms;

	ret = nl_open_or_explain(&nl);
	if (ret)
		return ret;
	ret = nl_open_or_explain(&events);
	if (ret)
		goto out_nl;
	if (hablk_nl_subscribe(&events)) {
		errorf("%s: cannot join the events group", what);
		ret = EXIT_REFUSED;
		goto out;
	}
	if (hablk_nl_status(&nl, o->res, &v, &n) || n != 1) {
		ret = nl_failed(&nl, o->res);
		goto out;
	}
	ev = v[0];
	for (;;) {
		r = wait_reached(&ev, sync);
		if (r > 0) {
			ret = EXIT_DONE;
			break;
		}
		if (r < 0) {
			errorf("%s %s: connection is standalone%s%s", what, o->res,
			       ev.last_error[0] ? ": " : "", ev.last_error);
			ret = EXIT_REFUSED;
			break;
		}
		ms = deadline < 0 ? -1 : (int)((deadline - now()) * 1000);
		if (deadline >= 0 && ms <= 0) {
			errorf("%s %s: timed out (connection:%s disk:%s peer-disk:%s replication:%s)",
			       what, o->res, hablk_conn_name(ev.conn), hablk_disk_name(ev.disk),
			       hablk_disk_name(ev.peer_disk), hablk_repl_name(ev.repl));
			ret = EXIT_REFUSED;
			break;
		}
		do {
			r = hablk_nl_next_event(&events, &ev, ms);
		} while (r > 0 && strcmp(ev.name, o->res));
		if (r < 0) {
			errorf("%s: lost the kernel connection", what);
			ret = EXIT_REFUSED;
			break;
		}
		if (r > 0 && !strcmp(ev.what, "down")) {
			errorf("%s %s: resource went down", what, o->res);
			ret = EXIT_REFUSED;
			break;
		}
	}
out:
	free(v);
	hablk_nl_close(&events);
out_nl:
	hablk_nl_close(&nl);
	return ret;
}
