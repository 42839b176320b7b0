// SPDX-License-Identifier: GPL-2.0
/* cmds.c - hablkadm subcommands that change state: create-md, up, and the
 * per-resource commands (down, primary, secondary, connect, disconnect). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include "../kernel/uapi/linux/hablk.h"
#include "hablkadm.h"
#include "md.h"
#include "../kernel/md_format.h"

int cmd_create_md(const struct opts *o)
{
	const struct hablk_node *self, *peer;
	const struct hablk_res *res;
	struct hablk_config cfg;
	char err[512];
	int ret;

	ret = load_res(o, &cfg, &res, &self, &peer);
	if (ret)
		goto out;
	ret = hablk_md_create(self->disk, self->meta_disk[0] ? self->meta_disk : NULL, self->id,
			      o->bm_block ? o->bm_block : HABLK_MD_BM_BLOCK, o->force,
			      err, sizeof(err));
	if (ret) {
		errorf("create-md %s: %s", o->res, err);
		ret = EXIT_REFUSED;
		goto out;
	}
	printf("%s: metadata written on %s (node %s, id %u, %u KiB per bitmap bit)\n", o->res,
	       self->meta_disk[0] ? self->meta_disk : self->disk, self->name, self->id,
	       (o->bm_block ? o->bm_block : (unsigned int)HABLK_MD_BM_BLOCK) >> 10);
out:
	hablk_config_free(&cfg);
	return ret;
}

static int put_up_attrs(struct nl_msg *m, const struct hablk_res *r,
			const struct hablk_node *self, const struct hablk_node *peer)
{
	return nla_put_string(m, HABLK_A_RES_NAME, r->name) ||
	       nla_put_u32(m, HABLK_A_MINOR, r->minor) ||
	       nla_put_u8(m, HABLK_A_PROTOCOL, (uint8_t)r->protocol) ||
	       nla_put(m, HABLK_A_SECRET, (int)strlen(r->secret), r->secret) ||
	       nla_put_u32(m, HABLK_A_LOCAL_ID, self->id) ||
	       nla_put_u32(m, HABLK_A_PEER_ID, peer->id) ||
	       nla_put_string(m, HABLK_A_PEER_NAME, peer->name) ||
	       nla_put_string(m, HABLK_A_DISK, self->disk) ||
	       nla_put_string(m, HABLK_A_META_DISK, self->meta_disk) ||
	       nla_put(m, HABLK_A_LOCAL_ADDR, (int)self->addr_len, &self->addr) ||
	       nla_put(m, HABLK_A_PEER_ADDR, (int)peer->addr_len, &peer->addr) ||
	       nla_put_u32(m, HABLK_A_PING_INT_MS, r->timing.ping_interval_ms) ||
	       nla_put_u32(m, HABLK_A_PING_TIMEOUT_MS, r->timing.ping_timeout_ms) ||
	       nla_put_u32(m, HABLK_A_CONNECT_INT_MS, r->timing.connect_interval_ms) ||
	       nla_put_u32(m, HABLK_A_CONNECT_MAX_MS, r->timing.connect_interval_max_ms) ||
	       nla_put_u8(m, HABLK_A_AFTER_SB, (uint8_t)r->after_sb) ||
	       nla_put_u8(m, HABLK_A_DATA_INTEGRITY, r->data_integrity) ||
	       nla_put_u8(m, HABLK_A_CSUM_RESYNC, r->checksum_resync) ||
	       nla_put_u8(m, HABLK_A_ON_NO_QUORUM, (uint8_t)r->on_no_quorum) ||
	       nla_put_u8(m, HABLK_A_AUTO_PROMOTE, r->auto_promote) ||
	       nla_put_u8(m, HABLK_A_TWO_PRIMARIES, r->allow_two_primaries) ||
	       nla_put_u32(m, HABLK_A_LOCK_EXTENT, r->lock_extent) ||
	       (r->split_brain_save[0] &&
		nla_put_string(m, HABLK_A_SB_SAVE_DIR, r->split_brain_save));
}

/* The kernel runs this very program to save a split-brain's losing changes. */
static int put_helper(struct nl_msg *m)
{
	char self[256];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	if (n <= 0 || n >= (ssize_t)sizeof(self) - 1)
		return 0;	/* no helper: a save cannot be done, so nothing is discarded */
	self[n] = 0;
	return nla_put_string(m, HABLK_A_HELPER, self);
}

/* hablkadm save-divergent RES DIR: what the kernel runs (see put_helper). */
int cmd_save_divergent(const struct opts *o)
{
	struct hablk_status *v = NULL;
	struct hablk_nl nl;
	size_t n = 0;
	int ret;

	if (!o->save_dir) {
		errorf("usage: save-divergent RES --save DIR");
		return EXIT_USAGE;
	}
	ret = nl_open_or_explain(&nl);
	if (ret)
		return ret;
	if (hablk_nl_status(&nl, o->res, &v, &n) || n != 1)
		ret = nl_failed(&nl, o->res);
	else
		ret = save_divergent(&nl, o->res, v[0].minor, o->save_dir);
	free(v);
	hablk_nl_close(&nl);
	return ret;
}

int cmd_up(const struct opts *o)
{
	const struct hablk_node *self, *peer;
	const struct hablk_res *res;
	struct hablk_config cfg;
	struct hablk_nl nl = { 0 };
	struct nl_msg *m;
	int ret;

	ret = load_res(o, &cfg, &res, &self, &peer);
	if (ret)
		goto out;
	ret = nl_open_or_explain(&nl);
	if (ret)
		goto out;
	m = hablk_nl_msg(&nl, HABLK_CMD_UP, 0);
	if (!m || put_up_attrs(m, res, self, peer) || put_helper(m)) {
		errorf("up %s: cannot build the request", o->res);
		nlmsg_free(m);
		ret = EXIT_REFUSED;
		goto out;
	}
	ret = hablk_nl_do(&nl, m) ? nl_failed(&nl, o->res) : EXIT_DONE;
out:
	hablk_nl_close(&nl);
	hablk_config_free(&cfg);
	return ret;
}

/* connect, optionally as the loser of a split-brain (saving its changes first). */
int cmd_connect(const struct opts *o)
{
	struct hablk_status *v = NULL;
	struct hablk_nl nl;
	struct nl_msg *m;
	size_t n = 0;
	int ret;

	ret = nl_open_or_explain(&nl);
	if (ret)
		return ret;
	if (o->save_dir) {
		if (hablk_nl_status(&nl, o->res, &v, &n) || n != 1) {
			ret = nl_failed(&nl, o->res);
			goto out;
		}
		if (v[0].conn == HABLK_CONN_CONNECTED) {
			errorf("%s: already connected: nothing to discard", o->res);
			ret = EXIT_REFUSED;
			goto out;
		}
		if (v[0].role == HABLK_ROLE_PRIMARY) {
			errorf("%s: a primary cannot discard its data; make it secondary", o->res);
			ret = EXIT_REFUSED;
			goto out;
		}
		ret = save_divergent(&nl, o->res, v[0].minor, o->save_dir);
		if (ret)
			goto out;
	}
	m = hablk_nl_msg(&nl, HABLK_CMD_CONNECT, 0);
	if (!m || nla_put_string(m, HABLK_A_RES_NAME, o->res) ||
	    (o->discard_my_data && nla_put_flag(m, HABLK_A_DISCARD_MY_DATA))) {
		nlmsg_free(m);
		errorf("%s: cannot build the request", o->res);
		ret = EXIT_REFUSED;
		goto out;
	}
	ret = hablk_nl_do(&nl, m) ? nl_failed(&nl, o->res) : EXIT_DONE;
out:
	free(v);
	hablk_nl_close(&nl);
	return ret;
}

int cmd_simple(const struct opts *o, int cmd)
{
	struct hablk_nl nl;
	struct nl_msg *m;
	int ret;

	ret = nl_open_or_explain(&nl);
	if (ret)
		return ret;
	m = hablk_nl_msg(&nl, cmd, 0);
	if (!m || nla_put_string(m, HABLK_A_RES_NAME, o->res) ||
	    (o->force && nla_put_flag(m, HABLK_A_FORCE))) {
		nlmsg_free(m);
		hablk_nl_close(&nl);
		errorf("%s: cannot build the request", o->res);
		return EXIT_REFUSED;
	}
	ret = hablk_nl_do(&nl, m) ? nl_failed(&nl, o->res) : EXIT_DONE;
	hablk_nl_close(&nl);
	return ret;
}
