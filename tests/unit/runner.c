// SPDX-License-Identifier: GPL-2.0
/* runner.c - the unit tests' one main(): every suite of suites.h in one check(3)
 * runner, or only those named: test_all [SUITE [TCASE]]. */
#include <stdio.h>
#include <stdlib.h>

#include "suites.h"

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

static Suite *(*const suites[])(void) = {
	config_suite, wire_suite, sync_rules_suite, md_suite, hablkd_suite, nl_suite,
	print_suite, view_suite, dlm_suite, locktable_suite,
};

int main(int argc, char **argv)
{
	SRunner *sr;
	size_t i;
	int failed;

	if (argc > 3) {
		fprintf(stderr, "usage: %s [SUITE [TCASE]]\n", argv[0]);
		return 2;
	}
	sr = srunner_create(suites[0]());
	for (i = 1; i < ARRAY_SIZE(suites); i++)
		srunner_add_suite(sr, suites[i]());
	/* NULL: every suite or test case (or CK_RUN_SUITE, CK_RUN_CASE) */
	srunner_run(sr, argc > 1 ? argv[1] : NULL, argc > 2 ? argv[2] : NULL, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
