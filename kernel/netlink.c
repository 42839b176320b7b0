// SPDX-License-Identifier: GPL-2.0
/*
 * Generic netlink family "hablk": commands (admin only where they change
 * state), status and the lock table as doit or dump, the "events" multicast
 * group (state changes) and the "locks" group (lock wants, for hablkd).
 */
#include <linux/ctype.h>
#include <linux/in.h>
#include <linux/in6.h>
#include <net/genetlink.h>
#include "hablk.h"

static struct genl_family hablk_family;

static const struct nla_policy hablk_policy[HABLK_A_MAX + 1] = {
	[HABLK_A_RES_NAME]	= { .type = NLA_NUL_STRING, .len = HABLK_NAME_LEN - 1 },
	[HABLK_A_MINOR]		= NLA_POLICY_MAX(NLA_U32, HABLK_MINOR_MAX),
	[HABLK_A_PROTOCOL]	= { .type = NLA_U8 },
	[HABLK_A_SECRET]	= { .type = NLA_BINARY, .len = HABLK_SECRET_MAX },
	[HABLK_A_LOCAL_ID]	= NLA_POLICY_MAX(NLA_U32, HABLK_NODE_ID_MAX),
	[HABLK_A_PEER_ID]	= NLA_POLICY_MAX(NLA_U32, HABLK_NODE_ID_MAX),
	[HABLK_A_PEER_NAME]	= { .type = NLA_NUL_STRING, .len = HABLK_NAME_LEN - 1 },
	[HABLK_A_DISK]		= { .type = NLA_NUL_STRING, .len = 255 },
	[HABLK_A_META_DISK]	= { .type = NLA_NUL_STRING, .len = 255 },
	[HABLK_A_LOCAL_ADDR]	= { .type = NLA_BINARY, .len = sizeof(struct sockaddr_in6) },
	[HABLK_A_PEER_ADDR]	= { .type = NLA_BINARY, .len = sizeof(struct sockaddr_in6) },
	[HABLK_A_PING_INT_MS]	= { .type = NLA_U32 },
	[HABLK_A_PING_TIMEOUT_MS] = { .type = NLA_U32 },
	[HABLK_A_CONNECT_INT_MS] = { .type = NLA_U32 },
	[HABLK_A_CONNECT_MAX_MS] = { .type = NLA_U32 },
	[HABLK_A_FORCE]		= { .type = NLA_FLAG },
	[HABLK_A_DISCARD_MY_DATA] = { .type = NLA_FLAG },
	[HABLK_A_AFTER_SB]	= NLA_POLICY_MAX(NLA_U8, __HABLK_ASB_MAX - 1),
	[HABLK_A_SB_SAVE_DIR]	= { .type = NLA_NUL_STRING, .len = 255 },
	[HABLK_A_HELPER]	= { .type = NLA_NUL_STRING, .len = 255 },
	[HABLK_A_DATA_INTEGRITY] = NLA_POLICY_MAX(NLA_U8, 1),
	[HABLK_A_CSUM_RESYNC]	= NLA_POLICY_MAX(NLA_U8, 1),
	[HABLK_A_ON_NO_QUORUM]	= NLA_POLICY_MAX(NLA_U8, HABLK_QP_IO_ERROR),
	[HABLK_A_QUORUM]	= NLA_POLICY_MAX(NLA_U8, 1),
	[HABLK_A_THAW]		= { .type = NLA_FLAG },
	[HABLK_A_AUTO_PROMOTE]	= NLA_POLICY_MAX(NLA_U8, 1),
	[HABLK_A_TWO_PRIMARIES]	= NLA_POLICY_MAX(NLA_U8, 1),
	[HABLK_A_LOCK_EXTENT]	= { .type = NLA_U32 },
	[HABLK_A_LOCK_OP]	= NLA_POLICY_MAX(NLA_U8, HABLK_LOCK_TAKE_ALL),
	[HABLK_A_LOCK_FIRST]	= { .type = NLA_U64 },
	[HABLK_A_LOCK_COUNT]	= { .type = NLA_U64 },
	[HABLK_A_LOCK_SEQ]	= { .type = NLA_U64 },
};

/* Group numbers, in the order of hablk_mcgrps[]. */
enum {
	HABLK_MCGRP_EVENTS,	/* state changes, for everyone */
	HABLK_MCGRP_LOCKS,	/* wanted and released locks, for hablkd only */
};

static const struct genl_multicast_group hablk_mcgrps[] = {
	[HABLK_MCGRP_EVENTS] = { .name = HABLK_GENL_MCGRP_EVENTS },
	[HABLK_MCGRP_LOCKS] = { .name = HABLK_GENL_MCGRP_LOCKS, .flags = GENL_MCAST_CAP_NET_ADMIN },
};

static bool valid_name(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isalnum(*s) && *s != '_' && *s != '.' && *s != '-')
			return false;
	return true;
}

/* A sockaddr_in or sockaddr_in6 with a port; returns its length or 0. */
static int parse_addr(const struct nlattr *a, struct sockaddr_storage *ss)
{
	int len = nla_len(a);

	memset(ss, 0, sizeof(*ss));
	if (len == sizeof(struct sockaddr_in)) {
		memcpy(ss, nla_data(a), len);
		if (ss->ss_family == AF_INET && ((struct sockaddr_in *)ss)->sin_port)
			return len;
	} else if (len == sizeof(struct sockaddr_in6)) {
		memcpy(ss, nla_data(a), len);
		if (ss->ss_family == AF_INET6 && ((struct sockaddr_in6 *)ss)->sin6_port)
			return len;
	}
	return 0;
}

static int get_ms(struct genl_info *info, int attr, u32 def, u32 min, u32 max, u32 *out)
{
	*out = info->attrs[attr] ? nla_get_u32(info->attrs[attr]) : def;
	if (*out < min || *out > max) {
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[attr], "timing out of range");
		return -ERANGE;
	}
	return 0;
}

/* The policies of a resource: after-sb, integrity, quorum, promotion, saves. */
static int parse_options(struct genl_info *info, struct hablk_config *cfg)
{
	struct nlattr **a = info->attrs;

	if (a[HABLK_A_AFTER_SB])
		cfg->after_sb = nla_get_u8(a[HABLK_A_AFTER_SB]);
	if (a[HABLK_A_DATA_INTEGRITY])
		cfg->data_integrity = nla_get_u8(a[HABLK_A_DATA_INTEGRITY]);
	if (a[HABLK_A_CSUM_RESYNC])
		cfg->csum_resync = nla_get_u8(a[HABLK_A_CSUM_RESYNC]);
	if (a[HABLK_A_ON_NO_QUORUM])
		cfg->on_no_quorum = nla_get_u8(a[HABLK_A_ON_NO_QUORUM]);
	if (a[HABLK_A_AUTO_PROMOTE])
		cfg->auto_promote = nla_get_u8(a[HABLK_A_AUTO_PROMOTE]);
	if (a[HABLK_A_TWO_PRIMARIES])
		cfg->two_primaries = nla_get_u8(a[HABLK_A_TWO_PRIMARIES]);
	cfg->lock_extent = a[HABLK_A_LOCK_EXTENT] ? nla_get_u32(a[HABLK_A_LOCK_EXTENT]) :
			   HABLK_LOCK_EXTENT_DEFAULT;
	if (!is_power_of_2(cfg->lock_extent) || cfg->lock_extent < HABLK_LOCK_EXTENT_MIN ||
	    cfg->lock_extent > HABLK_LOCK_EXTENT_MAX) {
		NL_SET_ERR_MSG_ATTR(info->extack, a[HABLK_A_LOCK_EXTENT],
				    "lock extent must be a power of two from 64 KiB to 1 GiB");
		return -EINVAL;
	}
	/* protocol A acks before the peer has a write: no order to hand over */
	if (cfg->two_primaries && cfg->protocol != 'C') {
		NL_SET_ERR_MSG_ATTR(info->extack, a[HABLK_A_TWO_PRIMARIES],
				    "allow-two-primaries needs protocol C");
		return -EINVAL;
	}
	if (a[HABLK_A_SB_SAVE_DIR])
		nla_strscpy(cfg->sb_save_dir, a[HABLK_A_SB_SAVE_DIR], sizeof(cfg->sb_save_dir));
	if (a[HABLK_A_HELPER])
		nla_strscpy(cfg->helper, a[HABLK_A_HELPER], sizeof(cfg->helper));
	if ((cfg->sb_save_dir[0] && cfg->sb_save_dir[0] != '/') ||
	    (cfg->helper[0] && cfg->helper[0] != '/')) {
		NL_SET_ERR_MSG(info->extack, "split-brain save dir and helper must be absolute paths");
		return -EINVAL;
	}
	return 0;
}

/* The replication link: both addresses, one family, and its timings. */
static int parse_link(struct genl_info *info, struct hablk_config *cfg)
{
	struct nlattr **a = info->attrs;
	int la, pa;

	la = parse_addr(a[HABLK_A_LOCAL_ADDR], &cfg->local_addr);
	pa = parse_addr(a[HABLK_A_PEER_ADDR], &cfg->peer_addr);
	if (!la || la != pa) {
		NL_SET_ERR_MSG(info->extack, "addresses must be IPv4 or IPv6 of one family, with ports");
		return -EINVAL;
	}
	cfg->addr_len = la;
	return get_ms(info, HABLK_A_PING_INT_MS, 1000, 10, 600000, &cfg->ping_int_ms) ?:
	       get_ms(info, HABLK_A_PING_TIMEOUT_MS, 2000, 10, 600000, &cfg->ping_timeout_ms) ?:
	       get_ms(info, HABLK_A_CONNECT_INT_MS, 200, 10, 600000, &cfg->connect_int_ms) ?:
	       get_ms(info, HABLK_A_CONNECT_MAX_MS, 5000, 10, 600000, &cfg->connect_max_ms);
}

/* HABLK_CMD_UP's attributes into a configuration, each checked. */
static int parse_up(struct genl_info *info, struct hablk_config *cfg)
{
	struct nlattr **a = info->attrs;
	struct netlink_ext_ack *extack = info->extack;

	if (GENL_REQ_ATTR_CHECK(info, HABLK_A_RES_NAME) ||
	    GENL_REQ_ATTR_CHECK(info, HABLK_A_MINOR) ||
	    GENL_REQ_ATTR_CHECK(info, HABLK_A_SECRET) ||
	    GENL_REQ_ATTR_CHECK(info, HABLK_A_LOCAL_ID) ||
	    GENL_REQ_ATTR_CHECK(info, HABLK_A_PEER_ID) ||
	    GENL_REQ_ATTR_CHECK(info, HABLK_A_DISK) ||
	    GENL_REQ_ATTR_CHECK(info, HABLK_A_LOCAL_ADDR) ||
	    GENL_REQ_ATTR_CHECK(info, HABLK_A_PEER_ADDR))
		return -EINVAL;
	nla_strscpy(cfg->name, a[HABLK_A_RES_NAME], sizeof(cfg->name));
	if (!valid_name(cfg->name)) {
		NL_SET_ERR_MSG_ATTR(extack, a[HABLK_A_RES_NAME], "invalid resource name");
		return -EINVAL;
	}
	if (a[HABLK_A_PEER_NAME])
		nla_strscpy(cfg->peer_name, a[HABLK_A_PEER_NAME], sizeof(cfg->peer_name));
	cfg->minor = nla_get_u32(a[HABLK_A_MINOR]);
	cfg->local_id = nla_get_u32(a[HABLK_A_LOCAL_ID]);
	cfg->peer_id = nla_get_u32(a[HABLK_A_PEER_ID]);
	if (cfg->local_id == cfg->peer_id) {
		NL_SET_ERR_MSG_ATTR(extack, a[HABLK_A_PEER_ID], "peer has our own node id");
		return -EINVAL;
	}
	cfg->protocol = a[HABLK_A_PROTOCOL] ? nla_get_u8(a[HABLK_A_PROTOCOL]) : 'C';
	if (cfg->protocol != 'A' && cfg->protocol != 'C') {
		NL_SET_ERR_MSG_ATTR(extack, a[HABLK_A_PROTOCOL], "protocol must be A or C");
		return -EINVAL;
	}
	cfg->secret_len = nla_len(a[HABLK_A_SECRET]);
	if (!cfg->secret_len) {
		NL_SET_ERR_MSG_ATTR(extack, a[HABLK_A_SECRET], "empty secret");
		return -EINVAL;
	}
	memcpy(cfg->secret, nla_data(a[HABLK_A_SECRET]), cfg->secret_len);
	nla_strscpy(cfg->disk_path, a[HABLK_A_DISK], sizeof(cfg->disk_path));
	if (cfg->disk_path[0] != '/') {
		NL_SET_ERR_MSG_ATTR(extack, a[HABLK_A_DISK], "disk must be an absolute path");
		return -EINVAL;
	}
	if (a[HABLK_A_META_DISK])
		nla_strscpy(cfg->meta_path, a[HABLK_A_META_DISK], sizeof(cfg->meta_path));
	if (cfg->meta_path[0] && (cfg->meta_path[0] != '/' ||
				  !strcmp(cfg->meta_path, cfg->disk_path))) {
		NL_SET_ERR_MSG_ATTR(extack, a[HABLK_A_META_DISK],
				    "meta-disk must be an absolute path of another device");
		return -EINVAL;
	}
	return parse_options(info, cfg) ?: parse_link(info, cfg);
}

static int hablk_nl_up(struct sk_buff *skb, struct genl_info *info)
{
	struct hablk_config *cfg;
	int ret;

	cfg = kzalloc(sizeof(*cfg), GFP_KERNEL);
	if (!cfg)
		return -ENOMEM;
	ret = parse_up(info, cfg);
	if (!ret) {
		mutex_lock(&hablk_cfg_mutex);
		ret = hablk_resource_up(cfg, genl_info_net(info), info->extack);
		mutex_unlock(&hablk_cfg_mutex);
	}
	kfree_sensitive(cfg);
	return ret;
}

/* Look up the resource the request names; caller holds hablk_cfg_mutex. */
static struct hablk_resource *named(struct genl_info *info)
{
	struct hablk_resource *res;

	if (GENL_REQ_ATTR_CHECK(info, HABLK_A_RES_NAME))
		return ERR_PTR(-EINVAL);
	res = hablk_resource_find(nla_data(info->attrs[HABLK_A_RES_NAME]));
	if (!res) {
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[HABLK_A_RES_NAME],
				    "no such resource is up");
		return ERR_PTR(-ENOENT);
	}
	return res;
}

static int do_down(struct hablk_resource *res, struct genl_info *info)
{
	return hablk_resource_down(res, false, info->extack);
}

static int do_primary(struct hablk_resource *res, struct genl_info *info)
{
	return hablk_state_primary(res, nla_get_flag(info->attrs[HABLK_A_FORCE]),
				   info->extack);
}

static int do_secondary(struct hablk_resource *res, struct genl_info *info)
{
	return hablk_state_secondary(res, info->extack);
}

static int do_connect(struct hablk_resource *res, struct genl_info *info)
{
	int ret = 0;

	if (nla_get_flag(info->attrs[HABLK_A_DISCARD_MY_DATA])) {
		hablk_state_lock(res);
		ret = hablk_state_allows(res, HABLK_OP_DISCARD_MY_DATA, 0, info->extack);
		if (!ret)
			res->st.discard_my_data = true;
		hablk_state_unlock(res, NULL);
	}
	return ret ?: hablk_conn_start(res);
}

static int do_disconnect(struct hablk_resource *res, struct genl_info *info)
{
	hablk_conn_stop(res);
	return 0;
}

static int do_verify(struct hablk_resource *res, struct genl_info *info)
{
	return hablk_verify_start(res, info->extack);
}

static int do_invalidate(struct hablk_resource *res, struct genl_info *info)
{
	return hablk_state_invalidate(res, info->extack);
}

static int do_pause(struct hablk_resource *res, struct genl_info *info)
{
	return hablk_sync_pause(res, info->genlhdr->cmd == HABLK_CMD_PAUSE_SYNC, info->extack);
}

static int do_resize(struct hablk_resource *res, struct genl_info *info)
{
	return hablk_resize(res, info->extack);
}

static int do_set_quorum(struct hablk_resource *res, struct genl_info *info)
{
	if (GENL_REQ_ATTR_CHECK(info, HABLK_A_QUORUM))
		return -EINVAL;
	return hablk_quorum_set(res, nla_get_u8(info->attrs[HABLK_A_QUORUM]),
				nla_get_flag(info->attrs[HABLK_A_THAW]), info->extack);
}

static int do_outdate(struct hablk_resource *res, struct genl_info *info)
{
	return hablk_state_outdate(res, info->extack);
}

static int do_lock(struct hablk_resource *res, struct genl_info *info)
{
	struct nlattr **a = info->attrs;
	u8 op;

	if (GENL_REQ_ATTR_CHECK(info, HABLK_A_LOCK_OP))
		return -EINVAL;
	op = nla_get_u8(a[HABLK_A_LOCK_OP]);
	if (op != HABLK_LOCK_TAKE_ALL &&
	    (GENL_REQ_ATTR_CHECK(info, HABLK_A_LOCK_FIRST) ||
	     GENL_REQ_ATTR_CHECK(info, HABLK_A_LOCK_COUNT)))
		return -EINVAL;
	return hablk_lock_command(res, op,
				  a[HABLK_A_LOCK_FIRST] ? nla_get_u64(a[HABLK_A_LOCK_FIRST]) : 0,
				  a[HABLK_A_LOCK_COUNT] ? nla_get_u64(a[HABLK_A_LOCK_COUNT]) : 0,
				  a[HABLK_A_LOCK_SEQ] ? nla_get_u64(a[HABLK_A_LOCK_SEQ]) : 0,
				  info->extack);
}

/* Commands that name one resource, by command; a command without a row is refused. */
static int (*const res_cmds[__HABLK_CMD_MAX])(struct hablk_resource *, struct genl_info *) = {
	[HABLK_CMD_SET_QUORUM] = do_set_quorum,
	[HABLK_CMD_OUTDATE] = do_outdate,
	[HABLK_CMD_LOCK] = do_lock,
	[HABLK_CMD_RESIZE] = do_resize,
	[HABLK_CMD_VERIFY] = do_verify,
	[HABLK_CMD_INVALIDATE] = do_invalidate,
	[HABLK_CMD_PAUSE_SYNC] = do_pause,
	[HABLK_CMD_RESUME_SYNC] = do_pause,
	[HABLK_CMD_DOWN] = do_down,
	[HABLK_CMD_PRIMARY] = do_primary,
	[HABLK_CMD_SECONDARY] = do_secondary,
	[HABLK_CMD_CONNECT] = do_connect,
	[HABLK_CMD_DISCONNECT] = do_disconnect,
};

static int hablk_nl_res_cmd(struct sk_buff *skb, struct genl_info *info)
{
	u8 cmd = info->genlhdr->cmd;
	struct hablk_resource *res;
	int ret;

	if (cmd >= ARRAY_SIZE(res_cmds) || !res_cmds[cmd])
		return -EOPNOTSUPP;
	mutex_lock(&hablk_cfg_mutex);
	res = named(info);
	ret = IS_ERR(res) ? PTR_ERR(res) : res_cmds[cmd](res, info);
	mutex_unlock(&hablk_cfg_mutex);
	return ret;
}

/* HABLK_A_LOCKS: what this node holds and waits for (two primaries). */
static int put_locks(struct sk_buff *skb, struct hablk_resource *res)
{
	struct hablk_lock_stats s;
	struct nlattr *nest;

	if (!res->locks.on)
		return 0;
	hablk_lock_stats(res, &s);
	nest = nla_nest_start(skb, HABLK_A_LOCKS);
	if (!nest ||
	    nla_put_u32(skb, HABLK_A_LOCK_EXTENT, res->cfg.lock_extent) ||
	    nla_put_u64_64bit(skb, HABLK_A_LOCKS_HELD, s.held, HABLK_A_PAD) ||
	    nla_put_u32(skb, HABLK_A_LOCK_WAITERS, s.waiters) ||
	    nla_put_u64_64bit(skb, HABLK_A_LOCK_GRANTS, s.grants, HABLK_A_PAD) ||
	    nla_put_u64_64bit(skb, HABLK_A_LOCK_RELEASES, s.releases, HABLK_A_PAD) ||
	    nla_put_u64_64bit(skb, HABLK_A_LOCK_WAITS, s.waits, HABLK_A_PAD) ||
	    nla_put_u64_64bit(skb, HABLK_A_LOCK_WAIT_US, s.wait_us, HABLK_A_PAD))
		return -EMSGSIZE;
	nla_nest_end(skb, nest);
	return 0;
}

static int fill_res(struct sk_buff *skb, struct hablk_resource *res, u32 portid, u32 seq,
		    int flags, u8 cmd, const char *what)
{
	u8 role, disk, conn, repl, peer_role, peer_disk;
	bool frozen, link_lost;
	u64 current_uuid, total, done, oos, elapsed;
	char err[sizeof(res->st.last_error)];
	struct nlattr *peer;
	void *hdr;

	/* one snapshot: a freeze for a lost link is never seen without the loss */
	hablk_quorum_snapshot(res, &frozen, &link_lost);
	spin_lock_irq(&res->st.lock);
	role = res->st.role;
	disk = res->st.disk;
	conn = res->st.conn;
	repl = res->st.repl;
	peer_role = res->st.peer_role;
	peer_disk = res->st.peer_disk;
	current_uuid = res->st.gen.current_uuid;
	memcpy(err, res->st.last_error, sizeof(err));
	total = res->sync.total;
	done = min_t(u64, atomic64_read(&res->sync.done), total);
	elapsed = jiffies_to_msecs(jiffies - res->sync.start);
	if (repl == HABLK_REPL_SYNC_SOURCE && res->sync.paused)
		repl = HABLK_REPL_PAUSED;
	spin_unlock_irq(&res->st.lock);
	if (link_lost && conn == HABLK_CONN_CONNECTED)
		conn = HABLK_CONN_CONNECTING;	/* being torn down */
	oos = hablk_bm_weight(res) * hablk_bm_block_sectors(res);
	if (repl == HABLK_REPL_SYNC_TARGET)
		oos = max(oos, total - done);	/* the source's bits count too */

	hdr = genlmsg_put(skb, portid, seq, &hablk_family, flags, cmd);
	if (!hdr)
		return -EMSGSIZE;
	if (nla_put_string(skb, HABLK_A_RES_NAME, res->cfg.name) ||
	    nla_put_u32(skb, HABLK_A_MINOR, res->cfg.minor) ||
	    nla_put_u8(skb, HABLK_A_PROTOCOL, res->cfg.protocol) ||
	    nla_put_u32(skb, HABLK_A_LOCAL_ID, res->cfg.local_id) ||
	    nla_put_u8(skb, HABLK_A_ROLE, role) ||
	    nla_put_u8(skb, HABLK_A_DISK_STATE, disk) ||
	    nla_put_u8(skb, HABLK_A_SUSPENDED, frozen) ||
	    nla_put_u8(skb, HABLK_A_QUORUM, READ_ONCE(res->quorum.have)) ||
	    nla_put_u8(skb, HABLK_A_MANAGED, READ_ONCE(res->quorum.managed)) ||
	    nla_put_u64_64bit(skb, HABLK_A_SIZE_SECTORS, res->dev.size_sectors, HABLK_A_PAD) ||
	    nla_put_u64_64bit(skb, HABLK_A_CURRENT_UUID, current_uuid, HABLK_A_PAD) ||
	    (res->bm.nbits && nla_put_u32(skb, HABLK_A_BM_BLOCK,
					  hablk_bm_block_sectors(res) << SECTOR_SHIFT)) ||
	    nla_put_u8(skb, HABLK_A_TWO_PRIMARIES, res->cfg.two_primaries) ||
	    (what && nla_put_string(skb, HABLK_A_EVENT_WHAT, what)) || put_locks(skb, res))
		goto nla_fail;
	peer = nla_nest_start(skb, HABLK_A_PEER);
	if (!peer ||
	    nla_put_u32(skb, HABLK_A_PEER_ID, res->cfg.peer_id) ||
	    nla_put_string(skb, HABLK_A_PEER_NAME, res->cfg.peer_name) ||
	    nla_put_u8(skb, HABLK_A_CONN_STATE, conn) ||
	    nla_put_u8(skb, HABLK_A_PEER_ROLE, peer_role) ||
	    nla_put_u8(skb, HABLK_A_PEER_DISK, peer_disk) ||
	    nla_put_u8(skb, HABLK_A_REPL_STATE, repl) ||
	    nla_put_u64_64bit(skb, HABLK_A_OOS_SECTORS, oos, HABLK_A_PAD) ||
	    nla_put_u64_64bit(skb, HABLK_A_SYNC_TOTAL, total, HABLK_A_PAD) ||
	    nla_put_u64_64bit(skb, HABLK_A_SYNC_DONE, done, HABLK_A_PAD) ||
	    nla_put_u64_64bit(skb, HABLK_A_SYNC_ELAPSED_MS, elapsed, HABLK_A_PAD) ||
	    nla_put_string(skb, HABLK_A_LAST_ERROR, err))
		goto nla_fail;
	nla_nest_end(skb, peer);
	genlmsg_end(skb, hdr);
	return 0;

nla_fail:
	genlmsg_cancel(skb, hdr);
	return -EMSGSIZE;
}

static int hablk_nl_get(struct sk_buff *skb, struct genl_info *info)
{
	struct hablk_resource *res;
	struct sk_buff *msg;
	int ret;

	msg = nlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	mutex_lock(&hablk_cfg_mutex);
	res = named(info);
	ret = IS_ERR(res) ? PTR_ERR(res) :
	      fill_res(msg, res, info->snd_portid, info->snd_seq, 0, HABLK_CMD_GET_STATUS, NULL);
	mutex_unlock(&hablk_cfg_mutex);
	if (ret) {
		nlmsg_free(msg);
		return ret;
	}
	return genlmsg_reply(msg, info);
}

static int hablk_nl_dump(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct hablk_resource *res;
	long i = 0, skip = cb->args[0];

	mutex_lock(&hablk_cfg_mutex);
	list_for_each_entry(res, &hablk_resources, list) {
		if (i++ < skip)
			continue;
		if (fill_res(skb, res, NETLINK_CB(cb->skb).portid, cb->nlh->nlmsg_seq,
			     NLM_F_MULTI, HABLK_CMD_GET_STATUS, NULL)) {
			i--;
			break;
		}
	}
	mutex_unlock(&hablk_cfg_mutex);
	cb->args[0] = i;
	return skb->len;
}

/*
 * The out-of-sync bitmap, one message per page that has a bit set (so an
 * administrator can save a split-brain's divergent blocks before they go).
 * cb->args: [0] resource looked up, [1] next block.
 */
static int hablk_nl_bitmap_dump(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct nlattr *name = hablk_dumpit_attrs(cb)[HABLK_A_RES_NAME];
	struct hablk_resource *res;
	u64 block = cb->args[1];
	u32 run;
	void *hdr;
	int ret = 0;

	if (!name)
		return -EINVAL;
	/*
	 * Not mutex_lock(): the split-brain save helper runs this from the
	 * connection thread, which a down/disconnect holding the mutex may be
	 * waiting for. Failing the save keeps the data, and that is safe.
	 */
	if (!mutex_trylock(&hablk_cfg_mutex))
		return -EBUSY;
	res = hablk_resource_find(nla_data(name));
	if (!res) {
		ret = -ENOENT;
		goto out;
	}
	while (!ret) {
		u64 first, words;
		__le64 *w;
		struct nlattr *a;

		block = hablk_bm_next_run(res, block, 1, &run);
		if (block >= res->bm.nbits)
			break;
		first = round_down(block, 64);
		words = min_t(u64, 512, DIV_ROUND_UP_ULL(res->bm.nbits - first, 64));
		hdr = genlmsg_put(skb, NETLINK_CB(cb->skb).portid, cb->nlh->nlmsg_seq,
				  &hablk_family, NLM_F_MULTI, HABLK_CMD_GET_BITMAP);
		if (!hdr)
			break;
		a = nla_reserve_64bit(skb, HABLK_A_BITMAP_WORDS, words * 8, HABLK_A_PAD);
		if (!a || nla_put_u64_64bit(skb, HABLK_A_BITMAP_FIRST, first, HABLK_A_PAD) ||
		    nla_put_u32(skb, HABLK_A_BM_BLOCK, hablk_bm_block_sectors(res) << SECTOR_SHIFT)) {
			genlmsg_cancel(skb, hdr);
			break;
		}
		w = nla_data(a);
		hablk_bm_copy_le(res, first, w, words);
		genlmsg_end(skb, hdr);
		block = first + words * 64;
	}
	cb->args[1] = block;
out:
	mutex_unlock(&hablk_cfg_mutex);
	return ret ? ret : skb->len;
}

/*
 * The lock table, one message per run of held, wanted or releasing extents
 * (hablkd relearns it after a restart; hablkadm locks prints it).
 * cb->args: [0] the kind of run being dumped (HABLK_LOCK_HELD, WANT,
 * RELEASING), [1] the next extent.
 */
static int hablk_nl_locks_dump(struct sk_buff *skb, struct netlink_callback *cb)
{
	static const u8 kinds[] = { HABLK_LOCK_HELD, HABLK_LOCK_WANT, HABLK_LOCK_RELEASING };
	struct nlattr *name = hablk_dumpit_attrs(cb)[HABLK_A_RES_NAME];
	struct hablk_resource *res;
	u64 e, count;
	void *hdr;
	int ret = 0;

	if (!name)
		return -EINVAL;
	mutex_lock(&hablk_cfg_mutex);
	res = hablk_resource_find(nla_data(name));
	if (!res || !res->locks.on) {
		ret = res ? -EINVAL : -ENOENT;
		goto out;
	}
	while (cb->args[0] < ARRAY_SIZE(kinds)) {
		e = hablk_lock_next_run(res, kinds[cb->args[0]], cb->args[1], &count);
		if (e >= res->locks.t.nextents) {
			cb->args[0]++;
			cb->args[1] = 0;
			continue;
		}
		hdr = genlmsg_put(skb, NETLINK_CB(cb->skb).portid, cb->nlh->nlmsg_seq,
				  &hablk_family, NLM_F_MULTI, HABLK_CMD_GET_LOCKS);
		if (!hdr)
			break;
		if (nla_put_u8(skb, HABLK_A_LOCK_OP, kinds[cb->args[0]]) ||
		    nla_put_u64_64bit(skb, HABLK_A_LOCK_FIRST, e, HABLK_A_PAD) ||
		    nla_put_u64_64bit(skb, HABLK_A_LOCK_COUNT, count, HABLK_A_PAD) ||
		    nla_put_u32(skb, HABLK_A_LOCK_EXTENT, res->cfg.lock_extent)) {
			genlmsg_cancel(skb, hdr);
			break;
		}
		genlmsg_end(skb, hdr);
		cb->args[1] = e + count;
	}
out:
	mutex_unlock(&hablk_cfg_mutex);
	return ret ? ret : skb->len;
}

/* Announce a state change of @res on the events group. */
void hablk_genl_event(struct hablk_resource *res, const char *what)
{
	struct sk_buff *msg;

	msg = nlmsg_new(NLMSG_GOODSIZE, GFP_NOIO);
	if (!msg)
		return;
	if (fill_res(msg, res, 0, 0, 0, HABLK_CMD_EVENT, what)) {
		nlmsg_free(msg);
		return;
	}
	genlmsg_multicast_netns(&hablk_family, res->net, msg, 0, HABLK_MCGRP_EVENTS, GFP_NOIO);
}

/* Tell hablkd (the locks group) what this node wants or gave up. */
void hablk_genl_lock_event(struct hablk_resource *res, u8 op, u64 first, u64 count)
{
	struct sk_buff *msg;
	void *hdr;

	msg = nlmsg_new(NLMSG_DEFAULT_SIZE, GFP_NOIO);
	if (!msg)
		return;
	hdr = genlmsg_put(msg, 0, 0, &hablk_family, 0, HABLK_CMD_LOCK_EVENT);
	if (!hdr || nla_put_string(msg, HABLK_A_RES_NAME, res->cfg.name) ||
	    nla_put_u8(msg, HABLK_A_LOCK_OP, op) ||
	    nla_put_u64_64bit(msg, HABLK_A_LOCK_FIRST, first, HABLK_A_PAD) ||
	    nla_put_u64_64bit(msg, HABLK_A_LOCK_COUNT, count, HABLK_A_PAD)) {
		nlmsg_free(msg);
		return;
	}
	genlmsg_end(msg, hdr);
	genlmsg_multicast_netns(&hablk_family, res->net, msg, 0, HABLK_MCGRP_LOCKS, GFP_NOIO);
}

static const struct genl_ops hablk_ops[] = {
	{ .cmd = HABLK_CMD_UP, .doit = hablk_nl_up, .flags = GENL_ADMIN_PERM },
	{ .cmd = HABLK_CMD_DOWN, .doit = hablk_nl_res_cmd, .flags = GENL_ADMIN_PERM },
	{ .cmd = HABLK_CMD_PRIMARY, .doit = hablk_nl_res_cmd, .flags = GENL_ADMIN_PERM },
	{ .cmd = HABLK_CMD_SECONDARY, .doit = hablk_nl_res_cmd, .flags = GENL_ADMIN_PERM },
	{ .cmd = HABLK_CMD_CONNECT, .doit = hablk_nl_res_cmd, .flags = GENL_ADMIN_PERM },
	{ .cmd = HABLK_CMD_DISCONNECT, .doit = hablk_nl_res_cmd, .flags = GENL_ADMIN_PERM },
	{ .cmd = HABLK_CMD_GET_STATUS, .doit = hablk_nl_get, .dumpit = hablk_nl_dump },
	{ .cmd = HABLK_CMD_GET_BITMAP, .dumpit = hablk_nl_bitmap_dump, .flags = GENL_ADMIN_PERM },
	{ .cmd = HABLK_CMD_VERIFY, .doit = hablk_nl_res_cmd, .flags = GENL_ADMIN_PERM },
	{ .cmd = HABLK_CMD_INVALIDATE, .doit = hablk_nl_res_cmd, .flags = GENL_ADMIN_PERM },
	{ .cmd = HABLK_CMD_PAUSE_SYNC, .doit = hablk_nl_res_cmd, .flags = GENL_ADMIN_PERM },
	{ .cmd = HABLK_CMD_SET_QUORUM, .doit = hablk_nl_res_cmd, .flags = GENL_ADMIN_PERM },
	{ .cmd = HABLK_CMD_OUTDATE, .doit = hablk_nl_res_cmd, .flags = GENL_ADMIN_PERM },
	{ .cmd = HABLK_CMD_RESUME_SYNC, .doit = hablk_nl_res_cmd, .flags = GENL_ADMIN_PERM },
	{ .cmd = HABLK_CMD_RESIZE, .doit = hablk_nl_res_cmd, .flags = GENL_ADMIN_PERM },
	{ .cmd = HABLK_CMD_LOCK, .doit = hablk_nl_res_cmd, .flags = GENL_ADMIN_PERM },
	{ .cmd = HABLK_CMD_GET_LOCKS, .dumpit = hablk_nl_locks_dump },
};

static struct genl_family hablk_family __ro_after_init = {
	.name = HABLK_GENL_NAME,
	.version = HABLK_GENL_VERSION,
	.maxattr = HABLK_A_MAX,
	.policy = hablk_policy,
	.netnsok = true,
	.module = THIS_MODULE,
	.ops = hablk_ops,
	.n_ops = ARRAY_SIZE(hablk_ops),
	.mcgrps = hablk_mcgrps,
	.n_mcgrps = ARRAY_SIZE(hablk_mcgrps),
};

int __init hablk_genl_init(void)
{
	return genl_register_family(&hablk_family);
}

void hablk_genl_exit(void)
{
	genl_unregister_family(&hablk_family);
}
