// SPDX-License-Identifier: GPL-2.0
/* test_print.c - check(3) unit tests of userspace/print.c: the text-or-JSON printer
 * (nesting, member separators, string escaping, number forms). */
#define _GNU_SOURCE		/* open_memstream() */

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../userspace/print.h"
#include "suites.h"

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

static char *out;
static size_t outlen;
static FILE *f;
static struct hablk_pr pr;

static void start(bool json)
{
	free(out);
	f = open_memstream(&out, &outlen);
	ck_assert_ptr_nonnull(f);
	hablk_pr_init(&pr, f, json);
}

/* What was printed since start(); valid until the next start(). */
static const char *printed(void)
{
	fclose(f);
	f = NULL;
	return out;
}

static void teardown(void)
{
	if (f)
		fclose(f);
	f = NULL;
	free(out);
	out = NULL;
}

/* One resource-like record, printed the same way in both modes. */
static void record(void)
{
	hablk_pr_open_object(&pr, NULL);
	hablk_pr_string(&pr, HABLK_PR_ANY, "name", "%s", "r0");
	hablk_pr_uint(&pr, HABLK_PR_JSON, "minor", NULL, 7);
	hablk_pr_string(&pr, HABLK_PR_TEXT, NULL, " device:%s", "/dev/hablk7");
	hablk_pr_bool(&pr, HABLK_PR_ANY, "quorum", " quorum:%s", true);
	hablk_pr_u64(&pr, HABLK_PR_ANY, "size_kib", " size:%lluKiB", UINT64_MAX);
	hablk_pr_int(&pr, HABLK_PR_ANY, "eta", " eta:%d", -1);
	hablk_pr_float(&pr, HABLK_PR_ANY, "done", " done:%s%%", 1, 99.95);
	hablk_pr_text(&pr, "\n  ");
	hablk_pr_open_array(&pr, "peers");
	hablk_pr_open_object(&pr, NULL);
	hablk_pr_string(&pr, HABLK_PR_ANY, "name", "%s", "beta");
	hablk_pr_null(&pr, "error");
	hablk_pr_close_object(&pr);
	hablk_pr_open_object(&pr, NULL);
	hablk_pr_close_object(&pr);
	hablk_pr_close_array(&pr);
	hablk_pr_open_array(&pr, "empty");
	hablk_pr_close_array(&pr);
	hablk_pr_text(&pr, "\n");
	hablk_pr_close_object(&pr);
	hablk_pr_end(&pr);
}

START_TEST(json_record)
{
	start(true);
	record();
	record();	/* top-level values: one a line, no comma between */
	ck_assert_str_eq(printed(),
			 "{\"name\":\"r0\",\"minor\":7,\"quorum\":true,"
			 "\"size_kib\":18446744073709551615,\"eta\":-1,\"done\":100.0,"
			 "\"peers\":[{\"name\":\"beta\",\"error\":null},{}],\"empty\":[]}\n"
			 "{\"name\":\"r0\",\"minor\":7,\"quorum\":true,"
			 "\"size_kib\":18446744073709551615,\"eta\":-1,\"done\":100.0,"
			 "\"peers\":[{\"name\":\"beta\",\"error\":null},{}],\"empty\":[]}\n");
}
END_TEST

START_TEST(text_record)
{
	start(false);
	record();
	ck_assert_str_eq(printed(),
			 "r0 device:/dev/hablk7 quorum:true size:18446744073709551615KiB eta:-1"
			 " done:100.0%\n  beta\n");
}
END_TEST

/* Arrays of plain values, nesting, and the fields with no fmt in text mode. */
START_TEST(json_arrays)
{
	start(true);
	hablk_pr_open_array(&pr, NULL);
	hablk_pr_uint(&pr, HABLK_PR_ANY, NULL, "%u", 1);
	hablk_pr_open_array(&pr, NULL);
	hablk_pr_string(&pr, HABLK_PR_ANY, NULL, NULL, "a");
	hablk_pr_bool(&pr, HABLK_PR_ANY, NULL, NULL, false);
	hablk_pr_close_array(&pr);
	hablk_pr_open_object(&pr, NULL);
	hablk_pr_close_object(&pr);
	hablk_pr_uint(&pr, HABLK_PR_TEXT, NULL, "%u", 9);	/* not in JSON */
	hablk_pr_close_array(&pr);
	hablk_pr_end(&pr);
	ck_assert_str_eq(printed(), "[1,[\"a\",false],{}]\n");

	start(false);
	hablk_pr_uint(&pr, HABLK_PR_ANY, "n", NULL, 1);		/* no fmt: nothing */
	hablk_pr_uint(&pr, HABLK_PR_JSON, "n", "%u", 2);	/* JSON only */
	hablk_pr_null(&pr, "x");
	hablk_pr_end(&pr);
	ck_assert_str_eq(printed(), "");
}
END_TEST

/* Numbers: the digits asked for, the same in both forms; not finite: null. */
START_TEST(floats)
{
	start(true);
	hablk_pr_open_object(&pr, NULL);
	hablk_pr_float(&pr, HABLK_PR_ANY, "a", "%s", 0, -1.0);
	hablk_pr_float(&pr, HABLK_PR_ANY, "b", "%s", 0, 12150.6);
	hablk_pr_float(&pr, HABLK_PR_ANY, "c", "%s", 1, 100.0);
	hablk_pr_float(&pr, HABLK_PR_ANY, "d", "%s", 1, NAN);
	hablk_pr_float(&pr, HABLK_PR_ANY, "e", "%s", 0, INFINITY);
	hablk_pr_close_object(&pr);
	ck_assert_str_eq(printed(), "{\"a\":-1,\"b\":12151,\"c\":100.0,\"d\":null,\"e\":null}");

	start(false);
	hablk_pr_float(&pr, HABLK_PR_ANY, "a", "a:%s ", 0, -1.0);
	hablk_pr_float(&pr, HABLK_PR_ANY, "b", "b:%sKiB/s ", 0, 12150.6);
	hablk_pr_float(&pr, HABLK_PR_ANY, "c", "c:%s%%", 1, 33.333);
	ck_assert_str_eq(printed(), "a:-1 b:12151KiB/s c:33.3%");
}
END_TEST

/* Strings: escaped in JSON, as they are in text. */
static const struct {
	const char *in, *json;
} strings[] = {
	{ "", "\"\"" },
	{ "plain name_0.9-x", "\"plain name_0.9-x\"" },
	{ "q\"b\\s/", "\"q\\\"b\\\\s/\"" },
	{ "\x01\t\n\x1f\x20\x7f", "\"\\u0001\\u0009\\u000a\\u001f \x7f\"" },
	/* well-formed UTF-8 of 2, 3 and 4 bytes, at the edges of each form */
	{ "r\xc3\xa9sum\xc3\xa9", "\"r\xc3\xa9sum\xc3\xa9\"" },
	{ "\xc2\x80\xdf\xbf", "\"\xc2\x80\xdf\xbf\"" },
	{ "\xe0\xa0\x80\xed\x9f\xbf\xee\x80\x80\xef\xbf\xbf",
	  "\"\xe0\xa0\x80\xed\x9f\xbf\xee\x80\x80\xef\xbf\xbf\"" },
	{ "\xf0\x90\x80\x80\xf4\x8f\xbf\xbf", "\"\xf0\x90\x80\x80\xf4\x8f\xbf\xbf\"" },
	/* not UTF-8: every byte that starts no well-formed character is U+FFFD */
	{ "a\x80z", "\"a\\ufffdz\"" },				/* lone continuation */
	{ "\xc3", "\"\\ufffd\"" },				/* cut at the end */
	{ "\xc3z", "\"\\ufffdz\"" },				/* cut by an ASCII byte */
	{ "\xc0\xaf", "\"\\ufffd\\ufffd\"" },			/* overlong '/' */
	{ "\xc1\xbf", "\"\\ufffd\\ufffd\"" },			/* overlong */
	{ "\xe0\x80\xaf", "\"\\ufffd\\ufffd\\ufffd\"" },	/* overlong, 3 bytes */
	{ "\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\"" },	/* a surrogate */
	{ "\xf0\x80\x80\xaf", "\"\\ufffd\\ufffd\\ufffd\\ufffd\"" },	/* overlong, 4 */
	{ "\xf4\x90\x80\x80", "\"\\ufffd\\ufffd\\ufffd\\ufffd\"" },	/* above U+10FFFF */
	{ "\xf5\xff\xfe", "\"\\ufffd\\ufffd\\ufffd\"" },
	{ "\xe2\x82", "\"\\ufffd\\ufffd\"" },			/* cut 3-byte form */
	{ "\xf0\x9f\x98", "\"\\ufffd\\ufffd\\ufffd\"" },	/* cut 4-byte form */
	{ "\"\xff\"", "\"\\\"\\ufffd\\\"\"" },
};

START_TEST(json_strings)
{
	start(true);
	hablk_pr_string(&pr, HABLK_PR_ANY, NULL, "%s", strings[_i].in);
	ck_assert_str_eq(printed(), strings[_i].json);

	start(false);
	hablk_pr_string(&pr, HABLK_PR_ANY, "k", "%s", strings[_i].in);
	ck_assert_str_eq(printed(), strings[_i].in);
}
END_TEST

/* Keys are escaped the same way. */
START_TEST(json_keys)
{
	start(true);
	hablk_pr_open_object(&pr, NULL);
	hablk_pr_uint(&pr, HABLK_PR_JSON, "a\"b\xff", NULL, 1);
	hablk_pr_close_object(&pr);
	ck_assert_str_eq(printed(), "{\"a\\\"b\\ufffd\":1}");
}
END_TEST

Suite *print_suite(void)
{
	Suite *s = suite_create("print");
	TCase *tc;

	tc = tcase_create("print");
	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, json_record);
	tcase_add_test(tc, text_record);
	tcase_add_test(tc, json_arrays);
	tcase_add_test(tc, floats);
	tcase_add_loop_test(tc, json_strings, 0, ARRAY_SIZE(strings));
	tcase_add_test(tc, json_keys);
	suite_add_tcase(s, tc);
	return s;
}
