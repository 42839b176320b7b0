// SPDX-License-Identifier: GPL-2.0
/* hablkadm.c - the administration tool: options, the table of subcommands,
 * and the helpers they share. See docs/hablkadm.8. */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/utsname.h>
#include "../kernel/uapi/linux/hablk.h"
#include "hablkadm.h"
#include "../kernel/md_format.h"

static int do_down(const struct opts *o) { return cmd_simple(o, HABLK_CMD_DOWN); }
static int do_primary(const struct opts *o) { return cmd_simple(o, HABLK_CMD_PRIMARY); }
static int do_secondary(const struct opts *o) { return cmd_simple(o, HABLK_CMD_SECONDARY); }
static int do_disconnect(const struct opts *o) { return cmd_simple(o, HABLK_CMD_DISCONNECT); }
static int do_verify(const struct opts *o) { return cmd_simple(o, HABLK_CMD_VERIFY); }
static int do_invalidate(const struct opts *o) { return cmd_simple(o, HABLK_CMD_INVALIDATE); }
static int do_resize(const struct opts *o) { return cmd_simple(o, HABLK_CMD_RESIZE); }
static int do_pause(const struct opts *o) { return cmd_simple(o, HABLK_CMD_PAUSE_SYNC); }
static int do_resume(const struct opts *o) { return cmd_simple(o, HABLK_CMD_RESUME_SYNC); }
static int do_wait_connect(const struct opts *o) { return cmd_wait(o, false); }
static int do_wait_sync(const struct opts *o) { return cmd_wait(o, true); }

static const struct {
	const char *name;
	int (*fn)(const struct opts *o);
	int res;		/* 1: RES required, 0: optional, -1: none */
	const char *help;
} commands[] = {
	{ "create-md", cmd_create_md, 1, "RES [--force] [--bitmap-granularity SIZE]  write fresh\n"
	  "                metadata on this node's disk (SIZE 4K (default) to 256K per bit)" },
	{ "up", cmd_up, 1, "RES             create the device, attach the disk, connect" },
	{ "down", do_down, 1, "RES             the reverse of up (refused while open)" },
	{ "primary", do_primary, 1, "RES [--force]   become primary (--force: first start)" },
	{ "secondary", do_secondary, 1, "RES             become secondary" },
	{ "connect", cmd_connect, 1, "RES [--discard-my-data [--save DIR]]  connect the link; after a\n"
	  "                split-brain, resync this node from the peer (saving its changes)" },
	{ "disconnect", do_disconnect, 1, "RES             disconnect the replication link" },
	{ "verify", do_verify, 1, "RES             online verify; blocks that differ are resynced\n"
	  "                from this node to the peer (run it on the primary)" },
	{ "invalidate", do_invalidate, 1, "RES             discard this secondary's data; full sync from the peer" },
	{ "resize", do_resize, 1, "RES             grow after the backing disks grew (run on both nodes)" },
	{ "pause-sync", do_pause, 1, "RES             pause syncs from this node until resume-sync" },
	{ "resume-sync", do_resume, 1, "RES             resume them" },
	{ "save-divergent", cmd_save_divergent, 1, "RES --save DIR  save the blocks this node changed\n"
	  "                (run by the kernel before a split-brain's losing changes go)" },
	{ "status", cmd_status, 0, "[RES]           show state (-j: JSON)" },
	{ "locks", cmd_locks, 1, "RES             two primaries: which extents this node (and the\n"
	  "                peer, on the master) holds (-j: JSON)" },
	{ "events", cmd_events, -1, "                one line per state change (-j: JSON lines)" },
	{ "wait-connect", do_wait_connect, 1, "RES [--timeout S]  wait until connected" },
	{ "wait-sync", do_wait_sync, 1, "RES [--timeout S]  wait until both disks are UpToDate" },
};

static const char *prog = "hablkadm";

void errorf(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: %s [-c FILE] [--node NAME] [-j|--json] COMMAND [RES] [options]\n\n",
		prog);
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-13s %s\n", commands[i].name, commands[i].help);
	fprintf(f, "\nExit codes: 0 done, 1 refused or failed, 2 usage or configuration error.\n");
}

int load_res(const struct opts *o, struct hablk_config *cfg, const struct hablk_res **res,
	     const struct hablk_node **self, const struct hablk_node **peer)
{
	char err[512];
	struct utsname u;
	const char *node = o->node;
	int where;

	memset(cfg, 0, sizeof(*cfg));
	if ((o->config ? hablk_config_load_file(cfg, o->config, err, sizeof(err)) :
			 hablk_config_load_dir(cfg, NULL, err, sizeof(err)))) {
		fprintf(stderr, "%s\n", err);
		return EXIT_USAGE;
	}
	*res = hablk_config_find(cfg, o->res);
	if (!*res) {
		errorf("%s: no such resource in %s", o->res, o->config ? o->config : HABLK_CONFIG_DIR);
		return EXIT_USAGE;
	}
	if (!node) {
		if (uname(&u)) {
			errorf("uname: %s", strerror(errno));
			return EXIT_USAGE;
		}
		node = u.nodename;
	}
	where = hablk_res_local(*res, node, self, peer);
	if (where == HABLK_LOCAL_ARBITER) {
		errorf("%s: node %s is the arbiter of this resource; it has no device", o->res, node);
		return EXIT_USAGE;
	}
	if (where != HABLK_LOCAL_DATA) {
		errorf("%s: node %s is not in this resource (%s:%u); use --node", o->res, node,
		       (*res)->file, (*res)->line);
		return EXIT_USAGE;
	}
	return EXIT_DONE;
}

int nl_open_or_explain(struct hablk_nl *nl)
{
	int ret = hablk_nl_open(nl);

	if (ret == -ENOENT)
		errorf("the hablk kernel module is not loaded (modprobe hablk)");
	else if (ret)
		errorf("cannot talk to the kernel: %s", strerror(-ret));
	return ret ? EXIT_REFUSED : EXIT_DONE;
}

int nl_failed(const struct hablk_nl *nl, const char *what)
{
	if (nl->err == -EPERM)
		errorf("%s: permission denied (needs CAP_NET_ADMIN)", what);
	else
		errorf("%s: %s", what, nl->errmsg);
	return EXIT_REFUSED;
}

static int parse_timeout(const char *s, double *out)
{
	char *end;

	errno = 0;
	*out = strtod(s, &end);
	return errno || *end || end == s || *out < 0 ? -1 : 0;
}

/* A byte count with an optional K/KiB or M/MiB suffix ("64K"). */
static int parse_size(const char *s, unsigned long long *out)
{
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *s == '-')
		return -1;
	if (!strcasecmp(end, "k") || !strcasecmp(end, "kib"))
		v <<= 10;
	else if (!strcasecmp(end, "m") || !strcasecmp(end, "mib"))
		v <<= 20;
	else if (*end)
		return -1;
	*out = v;
	return 0;
}

static const struct option longopts[] = {
	{ "config", required_argument, NULL, 'c' },
	{ "node", required_argument, NULL, 'n' },
	{ "json", no_argument, NULL, 'j' },
	{ "force", no_argument, NULL, 'f' },
	{ "timeout", required_argument, NULL, 't' },
	{ "discard-my-data", no_argument, NULL, 'D' },
	{ "save", required_argument, NULL, 'S' },
	{ "bitmap-granularity", required_argument, NULL, 'B' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* Options before the command ("+": stop at it) and after it. -1: go on. */
static int parse_opts(int argc, char **argv, const char *optstring, struct opts *o)
{
	unsigned long long size;
	int c;

	while ((c = getopt_long(argc, argv, optstring, longopts, NULL)) != -1) {
		switch (c) {
		case 'c': o->config = optarg; break;
		case 'n': o->node = optarg; break;
		case 'j': o->json = true; break;
		case 'f': o->force = true; break;
		case 'D': o->discard_my_data = true; break;
		case 'S': o->save_dir = optarg; break;
		case 'B':
			if (parse_size(optarg, &size) || !hablk_md_bm_block_ok(size)) {
				errorf("--bitmap-granularity: '%s' is not a power of two from 4K to 256K",
				       optarg);
				return EXIT_USAGE;
			}
			o->bm_block = (unsigned int)size;
			break;
		case 't':
			if (parse_timeout(optarg, &o->timeout)) {
				errorf("--timeout: not a number of seconds: '%s'", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'h': usage(stdout); return EXIT_DONE;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	return -1;
}

int main(int argc, char **argv)
{
	struct opts o = { .timeout = -1 };
	const char *cmd;
	size_t i;
	int ret;

	ret = parse_opts(argc, argv, "+c:jh", &o);
	if (ret >= 0)
		return ret;
	if (optind >= argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	cmd = argv[optind++];
	if (!strcmp(cmd, "help")) {
		usage(stdout);
		return EXIT_DONE;
	}
	/* the command's own arguments, options in any order (argv[0] is the command) */
	argv += optind - 1;
	argc -= optind - 1;
	optind = 0;
	ret = parse_opts(argc, argv, "c:jh", &o);
	if (ret >= 0)
		return ret;
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(cmd, commands[i].name))
			continue;
		if (optind < argc)
			o.res = argv[optind++];
		if (optind < argc || (commands[i].res == 1 && !o.res) ||
		    (commands[i].res == -1 && o.res)) {
			errorf("usage: %s %s", cmd, commands[i].help);
			return EXIT_USAGE;
		}
		if (o.force && strcmp(cmd, "create-md") && strcmp(cmd, "primary")) {
			errorf("%s: --force is not an option of this command", cmd);
			return EXIT_USAGE;
		}
		if (o.bm_block && strcmp(cmd, "create-md")) {
			errorf("%s: --bitmap-granularity is an option of create-md", cmd);
			return EXIT_USAGE;
		}
		if (o.discard_my_data && strcmp(cmd, "connect")) {
			errorf("%s: --discard-my-data is an option of connect", cmd);
			return EXIT_USAGE;
		}
		if (o.save_dir && strcmp(cmd, "connect") && strcmp(cmd, "save-divergent")) {
			errorf("%s: --save is an option of connect and save-divergent", cmd);
			return EXIT_USAGE;
		}
		if (o.save_dir && !o.discard_my_data && !strcmp(cmd, "connect")) {
			errorf("connect: --save goes with --discard-my-data");
			return EXIT_USAGE;
		}
		return commands[i].fn(&o);
	}
	errorf("unknown command '%s' (see '%s help')", cmd, prog);
	return EXIT_USAGE;
}
