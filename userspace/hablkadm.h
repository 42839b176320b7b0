/* SPDX-License-Identifier: GPL-2.0 */
/* hablkadm.h - what the hablkadm subcommands share: options and helpers. */
#ifndef HABLKADM_H
#define HABLKADM_H

#include <stdbool.h>
#include "config.h"
#include "nl.h"

/* Exit codes (SPEC): done, refused or failed, usage or configuration error. */
#define EXIT_DONE	0
#define EXIT_REFUSED	1
#define EXIT_USAGE	2

struct opts {
	const char *config;	/* -c FILE, or NULL: /etc/hablk/ *.res */
	const char *node;	/* --node NAME, or NULL: uname -n */
	bool json;		/* -j */
	bool force;		/* --force */
	bool discard_my_data;	/* --discard-my-data */
	const char *save_dir;	/* --save DIR */
	double timeout;		/* --timeout S, < 0: none */
	unsigned int bm_block;	/* --bitmap-granularity SIZE in bytes, 0: not given */
	const char *res;	/* the resource argument */
};

void errorf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Load the configuration and find res and this node in it; 0, or an exit code (said why). */
int load_res(const struct opts *o, struct hablk_config *cfg, const struct hablk_res **res,
	     const struct hablk_node **self, const struct hablk_node **peer);
/* Connect to the kernel; prints why not and returns EXIT_REFUSED on failure. */
int nl_open_or_explain(struct hablk_nl *nl);
/* Report a failed kernel request in one line; returns EXIT_REFUSED. */
int nl_failed(const struct hablk_nl *nl, const char *what);

int cmd_create_md(const struct opts *o);
int cmd_up(const struct opts *o);
int cmd_simple(const struct opts *o, int cmd);
int cmd_connect(const struct opts *o);
int cmd_save_divergent(const struct opts *o);
int save_divergent(struct hablk_nl *nl, const char *res, unsigned int minor, const char *dir);
int cmd_status(const struct opts *o);
int cmd_events(const struct opts *o);
int cmd_wait(const struct opts *o, bool sync);
int cmd_locks(const struct opts *o);

#endif /* HABLKADM_H */
