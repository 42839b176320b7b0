/* status.c - hablkadm status (text and JSON), events, and the wait-*
 * commands, which subscribe to events before they look, so nothing is missed. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "../kernel/uapi/linux/hablk.h"
#include "hablkadm.h"

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

static void json_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fprintf(f, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			fprintf(f, "\\u%04x", *s);
		else
			fputc(*s, f);
	}
	fputc('"', f);
}

/*
 * hablkd's view of resource name (RUN_DIR/NAME.json, which it replaces as it
 * changes) into buf, if a running hablkd wrote it. Returns buf or NULL.
 */
static const char *hablkd_view(const char *name, char *buf, size_t len)
{
	char path[512];
	size_t n;
	FILE *f;
	int pid;

	snprintf(path, sizeof(path), "%s/%s.json", HABLKD_RUN_DIR, name);
	f = fopen(path, "r");
	if (!f)
		return NULL;
	n = fread(buf, 1, len - 1, f);
	fclose(f);
	buf[n] = 0;
	if (n < 2 || buf[0] != '{' || sscanf(buf, "{\"pid\":%d", &pid) != 1 || pid <= 0 ||
	    (kill(pid, 0) && errno == ESRCH))
		return NULL;	/* not ours, or its daemon is gone */
	buf[strcspn(buf, "\n")] = 0;
	return buf;
}

/* The string value of "key" in hablkd's flat JSON, or "-". */
static const char *view_field(const char *view, const char *key, char *out, size_t len)
{
	char pat[64];
	const char *p;
	size_t n;

	snprintf(pat, sizeof(pat), "\"%s\":", key);
	p = strstr(view, pat);
	if (!p)
		return "-";
	p += strlen(pat);
	if (*p == '"')
		n = strcspn(++p, "\"");
	else
		n = strcspn(p, ",}");
	snprintf(out, len, "%.*s", (int)n, p);
	return out;
}

static void print_json(FILE *f, const struct hablk_status *s, bool event)
{
	fprintf(f, "{");
	if (event) {
		fprintf(f, "\"event\":");
		json_string(f, s->what);
		fprintf(f, ",");
	}
	fprintf(f, "\"name\":");
	json_string(f, s->name);
	fprintf(f, ",\"minor\":%u,\"device\":\"/dev/hablk%u\",\"role\":\"%s\",\"disk\":\"%s\","
		"\"quorum\":%s,\"suspended\":%s,\"managed\":%s,\"protocol\":\"%c\","
		"\"size_kib\":%llu,\"current_uuid\":\"%016llx\",\"bitmap_granularity_kib\":%u,",
		s->minor, s->minor, hablk_role_name(s->role), hablk_disk_name(s->disk),
		s->quorum ? "true" : "false", s->suspended ? "true" : "false",
		s->managed ? "true" : "false", s->protocol,
		(unsigned long long)s->size_sectors / 2, (unsigned long long)s->current_uuid,
		s->bm_block >> 10);
	fprintf(f, "\"peers\":[{\"name\":");
	json_string(f, s->peer_name);
	fprintf(f, ",\"node_id\":%u,\"connection\":\"%s\",\"role\":\"%s\",\"disk\":\"%s\","
		"\"replication\":\"%s\",\"out_of_sync_kib\":%llu,\"sync_done_percent\":%.1f,"
		"\"sync_rate_kib_s\":%.0f,\"sync_eta_s\":%.0f,\"last_error\":",
		s->peer_id, hablk_conn_name(s->conn), hablk_role_name(s->peer_role),
		hablk_disk_name(s->peer_disk), hablk_repl_name(s->repl),
		(unsigned long long)s->oos_sectors / 2, sync_percent(s), sync_rate(s), sync_eta(s));
	json_string(f, s->last_error);
	fprintf(f, "}]");
	if (!event) {
		char view[4096];

		fprintf(f, ",\"hablkd\":%s", hablkd_view(s->name, view, sizeof(view)) ?: "null");
	}
	fprintf(f, "}");
}

static void print_text(FILE *f, const struct hablk_status *s)
{
	char view[4096], a[64], b[64], c[64], d[64], e[64];

	fprintf(f, "%s role:%s disk:%s size:%lluKiB device:/dev/hablk%u protocol:%c",
		s->name, hablk_role_name(s->role), hablk_disk_name(s->disk),
		(unsigned long long)s->size_sectors / 2, s->minor, s->protocol);
	if (s->managed || !s->quorum || s->suspended)
		fprintf(f, " quorum:%s%s", s->quorum ? "yes" : "no",
			s->suspended ? " suspended" : "");
	fputc('\n', f);
	fprintf(f, "  %s connection:%s role:%s disk:%s replication:%s out-of-sync:%lluKiB",
		s->peer_name[0] ? s->peer_name : "peer", hablk_conn_name(s->conn),
		hablk_role_name(s->peer_role), hablk_disk_name(s->peer_disk),
		hablk_repl_name(s->repl), (unsigned long long)s->oos_sectors / 2);
	if (syncing(s))
		fprintf(f, " done:%.1f%% rate:%.0fKiB/s eta:%.0fs", sync_percent(s), sync_rate(s),
			sync_eta(s));
	fputc('\n', f);
	if (s->last_error[0] && s->conn != HABLK_CONN_CONNECTED)
		fprintf(f, "  last error: %s\n", s->last_error);
	if (hablkd_view(s->name, view, sizeof(view)))
		fprintf(f, "  hablkd: quorum:%s arbiter:%s vote:%s peer:%s fencing:%s\n",
			view_field(view, "quorum", a, sizeof(a)), view_field(view, "arbiter", b, sizeof(b)),
			view_field(view, "arbiter_vote", c, sizeof(c)),
			view_field(view, "peer", d, sizeof(d)), view_field(view, "fencing", e, sizeof(e)));
}

int cmd_status(const struct opts *o)
{
	struct hablk_status *v = NULL;
	struct hablk_nl nl;
	size_t i, n = 0;
	int ret;

	ret = nl_open_or_explain(&nl);
	if (ret)
		return ret;
	if (hablk_nl_status(&nl, o->res, &v, &n)) {
		ret = nl_failed(&nl, o->res ? o->res : "status");
		goto out;
	}
	if (o->json) {
		printf("{\"resources\":[");
		for (i = 0; i < n; i++) {
			if (i)
				printf(",");
			print_json(stdout, &v[i], false);
		}
		printf("]}\n");
	} else {
		for (i = 0; i < n; i++)
			print_text(stdout, &v[i]);
	}
out:
	free(v);
	hablk_nl_close(&nl);
	return ret;
}

static void print_event(const struct opts *o, const struct hablk_status *ev)
{
	if (o->json) {
		print_json(stdout, ev, true);
		putchar('\n');
		return;
	}
	printf("%s %s role:%s disk:%s connection:%s peer-role:%s peer-disk:%s replication:%s\n",
	       ev->what, ev->name, hablk_role_name(ev->role), hablk_disk_name(ev->disk),
	       hablk_conn_name(ev->conn), hablk_role_name(ev->peer_role),
	       hablk_disk_name(ev->peer_disk), hablk_repl_name(ev->repl));
}

/* First one "exists" line per resource, then one line per change. */
#define MAX_VIEWS 64

/* A resource's hablkd view as last printed by events. */
struct view_seen {
	char name[64];
	char last[4096];
};

/* Print an "hablkd" event when the hablkd view of a resource changed (or went away). */
static void print_view_change(const struct opts *o, struct view_seen *w)
{
	char view[4096], a[64], b[64], c[64], d[64], e[64];
	const char *now = hablkd_view(w->name, view, sizeof(view)) ?: "null";

	if (!strcmp(now, w->last))
		return;
	snprintf(w->last, sizeof(w->last), "%s", now);
	if (o->json) {
		printf("{\"event\":\"hablkd\",\"name\":");
		json_string(stdout, w->name);
		printf(",\"hablkd\":%s}\n", now);
	} else if (!strcmp(now, "null")) {
		printf("hablkd %s stopped\n", w->name);
	} else {
		printf("hablkd %s quorum:%s arbiter:%s vote:%s peer:%s fencing:%s\n", w->name,
		       view_field(now, "quorum", a, sizeof(a)), view_field(now, "arbiter", b, sizeof(b)),
		       view_field(now, "arbiter_vote", c, sizeof(c)),
		       view_field(now, "peer", d, sizeof(d)), view_field(now, "fencing", e, sizeof(e)));
	}
}

int cmd_events(const struct opts *o)
{
	static struct view_seen views[MAX_VIEWS];
	struct hablk_status ev, *v = NULL;
	struct hablk_nl nl, events;
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
	for (i = 0; i < n; i++) {
		snprintf(v[i].what, sizeof(v[i].what), "exists");
		print_event(o, &v[i]);
	}
	for (i = 0; i < MAX_VIEWS; i++)
		strcpy(views[i].last, "null");	/* no hablkd: nothing to say */
	for (i = 0; i < n && i < MAX_VIEWS; i++)
		snprintf(views[i].name, sizeof(views[i].name), "%s", v[i].name);
	nviews = i;
	/* kernel events as they come; hablkd's view, when it changes, within half a second */
	while ((ret = hablk_nl_next_event(&events, &ev, 500)) >= 0) {
		if (ret > 0) {
			print_event(o, &ev);
			for (i = 0; i < nviews && strcmp(views[i].name, ev.name); i++)
				;
			if (i == nviews && nviews < MAX_VIEWS)
				snprintf(views[nviews++].name, sizeof(views[0].name), "%s", ev.name);
		}
		for (i = 0; i < nviews; i++)
			print_view_change(o, &views[i]);
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
