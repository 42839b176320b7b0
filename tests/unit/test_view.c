// SPDX-License-Identifier: GPL-2.0
/* test_view.c - check(3) unit tests of userspace/view.c: hablkd's RES.json printed,
 * parsed back (json-c) and loaded, and what is not such a view rejected. */
#define _GNU_SOURCE		/* open_memstream(), mkdtemp() */

#include <check.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>

#include "../../userspace/view.h"
#include "suites.h"

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

/* As hablkd wrote them before view.c existed (hablkd.c's write_status), byte for byte. */
static const char data_view[] =
	"{\"pid\":4242,\"node\":\"alpha\",\"kind\":\"data\",\"quorum\":true,"
	"\"arbiter\":\"reachable\",\"arbiter_vote\":false,\"peer\":\"alive, replication link cut\","
	"\"fencing\":\"frozen: fence-peer handler failed (exit 3)\",\"voters\":["
	"{\"name\":\"alpha\",\"id\":0,\"arbiter\":false,\"alive\":true,\"link\":false,\"control\":false},"
	"{\"name\":\"beta\",\"id\":1,\"arbiter\":false,\"alive\":true,\"link\":false,\"control\":true},"
	"{\"name\":\"gamma\",\"id\":31,\"arbiter\":true,\"alive\":false,\"link\":false,\"control\":false}]}\n";
static const char arbiter_view[] =
	"{\"pid\":7,\"node\":\"gamma\",\"kind\":\"arbiter\",\"vote_holder\":\"beta\",\"voters\":["
	"{\"name\":\"alpha\",\"id\":0,\"arbiter\":false,\"alive\":false,\"link\":false,\"control\":false},"
	"{\"name\":\"beta\",\"id\":1,\"arbiter\":false,\"alive\":true,\"link\":false,\"control\":true},"
	"{\"name\":\"gamma\",\"id\":2,\"arbiter\":true,\"alive\":true,\"link\":false,\"control\":false}]}\n";
/* Two primaries: the lock manager's part, as the master and as the follower writes it. */
static const char locks_view[] =
	"{\"pid\":9,\"node\":\"alpha\",\"kind\":\"data\",\"quorum\":true,"
	"\"arbiter\":\"reachable\",\"arbiter_vote\":false,\"peer\":\"replicating\","
	"\"fencing\":\"none\",\"locks\":{\"role\":\"master\",\"session\":true,\"alone\":false,"
	"\"extents\":256,\"held\":200,\"peer_held\":56,\"transfers\":7,\"blocks\":2,"
	"\"retransmits\":0},\"voters\":[]}\n";
static const char locks_follower[] =
	"{\"pid\":9,\"node\":\"beta\",\"kind\":\"data\",\"quorum\":true,"
	"\"arbiter\":\"none\",\"arbiter_vote\":false,\"peer\":\"replicating\","
	"\"fencing\":\"none\",\"locks\":{\"role\":\"follower\",\"session\":false,"
	"\"alone\":true,\"extents\":256,\"held\":256,\"peer_held\":null,\"transfers\":0,"
	"\"blocks\":0,\"retransmits\":3},\"voters\":[]}\n";
static const char arbiter_nobody[] =
	"{\"pid\":7,\"node\":\"gamma\",\"kind\":\"arbiter\",\"vote_holder\":null,\"voters\":[]}\n";

/* Parsed and printed again: the same bytes. */
START_TEST(round_trip)
{
	static const char *const views[] = { data_view, arbiter_view, arbiter_nobody, locks_view,
					     locks_follower };
	struct hablk_view v;
	char *json;

	ck_assert_int_eq(hablk_view_parse(views[_i], &v), 0);
	json = hablk_view_json(&v);
	ck_assert_ptr_nonnull(json);
	ck_assert_str_eq(json, views[_i]);
	free(json);
}
END_TEST

START_TEST(fields)
{
	struct hablk_view v;

	ck_assert_int_eq(hablk_view_parse(data_view, &v), 0);
	ck_assert_int_eq(v.pid, 4242);
	ck_assert_str_eq(v.node, "alpha");
	ck_assert(!v.is_arbiter && v.quorum && !v.arbiter_vote);
	ck_assert_str_eq(v.arbiter, "reachable");
	ck_assert_str_eq(v.peer, "alive, replication link cut");
	ck_assert_str_eq(v.fencing, "frozen: fence-peer handler failed (exit 3)");
	ck_assert_uint_eq(v.nvoters, 3);
	ck_assert_str_eq(v.voters[2].name, "gamma");
	ck_assert_uint_eq(v.voters[2].id, 31);
	ck_assert(v.voters[2].arbiter && !v.voters[2].alive);
	ck_assert(v.voters[1].control && !v.voters[1].link);

	ck_assert_int_eq(hablk_view_parse(arbiter_nobody, &v), 0);
	ck_assert(v.is_arbiter);
	ck_assert_str_eq(v.vote_holder, "");
	ck_assert_uint_eq(v.nvoters, 0);
}
END_TEST

static char *printed(const struct hablk_view *v, bool json)
{
	struct hablk_pr p;
	char *out = NULL;
	size_t len;
	FILE *f = open_memstream(&out, &len);

	ck_assert_ptr_nonnull(f);
	hablk_pr_init(&p, f, json);
	hablk_view_print(&p, json ? "hablkd" : NULL, v);
	fclose(f);
	return out;
}

/* The text form: what hablkadm status and events show after "hablkd:". */
START_TEST(text_form)
{
	struct hablk_view v;
	char *out;

	ck_assert_int_eq(hablk_view_parse(data_view, &v), 0);
	out = printed(&v, false);
	ck_assert_str_eq(out, " quorum:true arbiter:reachable vote:false peer:alive, replication "
			 "link cut fencing:frozen: fence-peer handler failed (exit 3)");
	free(out);
	ck_assert_int_eq(hablk_view_parse(arbiter_view, &v), 0);
	out = printed(&v, false);
	ck_assert_str_eq(out, " quorum:- arbiter:- vote:- peer:- fencing:-");
	free(out);
	/* as a member: "hablkd":{...} */
	out = printed(&v, true);
	ck_assert_int_eq(strncmp(out, "\"hablkd\":{\"pid\":7,", 18), 0);
	free(out);
}
END_TEST

/* Not hablkd's view: each is rejected. */
static const char *const bad[] = {
	"",
	"null",
	"[]",
	"{}",
	"{\"pid\":1,\"node\":\"a\",\"kind\":\"arbiter\",\"vote_holder\":null,\"voters\":[]} x",
	"{\"pid\":1,\"node\":\"a\",\"kind\":\"arbiter\",\"vote_holder\":null,\"voters\":[]",
	"{\"pid\":0,\"node\":\"a\",\"kind\":\"arbiter\",\"vote_holder\":null,\"voters\":[]}",
	"{\"pid\":-1,\"node\":\"a\",\"kind\":\"arbiter\",\"vote_holder\":null,\"voters\":[]}",
	"{\"pid\":1.5,\"node\":\"a\",\"kind\":\"arbiter\",\"vote_holder\":null,\"voters\":[]}",
	"{\"pid\":\"1\",\"node\":\"a\",\"kind\":\"arbiter\",\"vote_holder\":null,\"voters\":[]}",
	"{\"pid\":1,\"node\":\"a\",\"kind\":\"witness\",\"vote_holder\":null,\"voters\":[]}",
	"{\"pid\":1,\"node\":\"a\",\"kind\":\"arbiter\",\"voters\":[]}",
	"{\"pid\":1,\"node\":\"a\",\"kind\":\"arbiter\",\"vote_holder\":3,\"voters\":[]}",
	"{\"pid\":1,\"node\":\"a\",\"kind\":\"arbiter\",\"vote_holder\":null}",
	"{\"pid\":1,\"node\":\"a\",\"kind\":\"arbiter\",\"vote_holder\":null,\"voters\":{}}",
	"{\"pid\":1,\"node\":\"a\",\"kind\":\"arbiter\",\"vote_holder\":null,\"voters\":[1]}",
	"{\"pid\":1,\"node\":\"a\",\"kind\":\"arbiter\",\"vote_holder\":null,\"voters\":[{\"name\":\"x\","
	"\"id\":32,\"arbiter\":false,\"alive\":true,\"link\":false,\"control\":false}]}",
	"{\"pid\":1,\"node\":\"a\",\"kind\":\"arbiter\",\"vote_holder\":null,\"voters\":[{\"name\":\"x\","
	"\"id\":3,\"arbiter\":false,\"alive\":true,\"link\":false}]}",
	"{\"pid\":1,\"node\":\"a\",\"kind\":\"arbiter\",\"vote_holder\":null,\"voters\":[{},{},{},{}]}",
	/* a data node's fields missing or of another type */
	"{\"pid\":1,\"node\":\"a\",\"kind\":\"data\",\"voters\":[]}",
	"{\"pid\":1,\"node\":\"a\",\"kind\":\"data\",\"quorum\":\"true\",\"arbiter\":\"none\","
	"\"arbiter_vote\":false,\"peer\":\"gone\",\"fencing\":\"none\",\"voters\":[]}",
	"{\"pid\":1,\"node\":\"a\",\"kind\":\"data\",\"quorum\":true,\"arbiter\":\"none\","
	"\"arbiter_vote\":false,\"peer\":\"gone\",\"voters\":[]}",
	/* strings too long for the fields, with a NUL, not UTF-8 */
	"{\"pid\":1,\"node\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\","
	"\"kind\":\"arbiter\",\"vote_holder\":null,\"voters\":[]}",
	"{\"pid\":1,\"node\":\"a\",\"kind\":\"data\",\"quorum\":true,\"arbiter\":\"unreachable-unreachable\","
	"\"arbiter_vote\":false,\"peer\":\"gone\",\"fencing\":\"none\",\"voters\":[]}",
	"{\"pid\":1,\"node\":\"a\\u0000b\",\"kind\":\"arbiter\",\"vote_holder\":null,\"voters\":[]}",
	"{\"pid\":1,\"node\":\"a\xff\",\"kind\":\"arbiter\",\"vote_holder\":null,\"voters\":[]}",
};

START_TEST(rejected)
{
	struct hablk_view v;

	ck_assert_msg(hablk_view_parse(bad[_i], &v) == -1, "accepted: %s", bad[_i]);
}
END_TEST

/* Unknown members are left alone: a newer hablkd's view still shows. */
START_TEST(unknown_members)
{
	struct hablk_view v;

	ck_assert_int_eq(hablk_view_parse("{\"pid\":1,\"node\":\"a\",\"kind\":\"arbiter\","
					  "\"locks\":[1,2],\"vote_holder\":null,\"voters\":[]}", &v), 0);
	ck_assert(v.is_arbiter);
}
END_TEST

/* A file in dir, loaded while its writer runs, not once it has gone. */
START_TEST(load)
{
	char dir[] = "/tmp/hablk-view-XXXXXX", path[64], text[256], *argv[] = { "true", NULL };
	struct hablk_view v;
	pid_t gone;
	FILE *f;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/r0.json", dir);
	ck_assert_int_eq(hablk_view_load(dir, "r0", &v), -1);	/* no file */

	snprintf(text, sizeof(text), "{\"pid\":%d,\"node\":\"a\",\"kind\":\"arbiter\","
		 "\"vote_holder\":null,\"voters\":[]}\n", (int)getpid());
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
	ck_assert_int_eq(hablk_view_load(dir, "r0", &v), 0);
	ck_assert_int_eq(v.pid, getpid());

	/* a process that has ended (exec'd, so valgrind does not follow it) */
	ck_assert_int_eq(posix_spawn(&gone, "/bin/true", NULL, NULL, argv, environ), 0);
	ck_assert_int_eq(waitpid(gone, NULL, 0), gone);
	snprintf(text, sizeof(text), "{\"pid\":%d,\"node\":\"a\",\"kind\":\"arbiter\","
		 "\"vote_holder\":null,\"voters\":[]}\n", (int)gone);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
	ck_assert_int_eq(hablk_view_load(dir, "r0", &v), -1);

	ck_assert_int_eq(unlink(path), 0);
	ck_assert_int_eq(rmdir(dir), 0);
}
END_TEST

Suite *view_suite(void)
{
	Suite *s = suite_create("view");
	TCase *tc;

	tc = tcase_create("view");
	tcase_add_loop_test(tc, round_trip, 0, 5);
	tcase_add_test(tc, fields);
	tcase_add_test(tc, text_form);
	tcase_add_loop_test(tc, rejected, 0, ARRAY_SIZE(bad));
	tcase_add_test(tc, unknown_members);
	tcase_add_test(tc, load);
	suite_add_tcase(s, tc);
	return s;
}
