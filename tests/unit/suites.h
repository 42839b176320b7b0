/* SPDX-License-Identifier: GPL-2.0 */
/* suites.h - the check(3) suites of the unit tests, one per test_NAME.c,
 * all run by runner.c's main(). */
#ifndef HABLK_TEST_SUITES_H
#define HABLK_TEST_SUITES_H

#include <check.h>

Suite *config_suite(void);	/* userspace/config.c: hablk.conf(5), addresses */
Suite *wire_suite(void);	/* kernel/wire.h: the replication wire format */
Suite *sync_rules_suite(void);	/* kernel/sync_rules.c: the sync decision at connect */
Suite *md_suite(void);		/* kernel/md_format.h, userspace/md.c: create-md */
Suite *hablkd_suite(void);	/* hablkd's pure parts: hashing, heartbeats, quorum, arbiter */
Suite *nl_suite(void);		/* userspace/nl.c: status replies and events read by policy */
Suite *print_suite(void);	/* userspace/print.c: the text-or-JSON printer */
Suite *view_suite(void);	/* userspace/view.c: hablkd's RES.json */
Suite *dlm_suite(void);		/* userspace/dlm.c, chan.c, lkmsg.c: two primaries' locks */
Suite *locktable_suite(void);	/* kernel/lock_table.c: the kernel's lock table */

#endif /* HABLK_TEST_SUITES_H */
