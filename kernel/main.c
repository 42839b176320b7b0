// SPDX-License-Identifier: GPL-2.0
/*
 * hablk module entry: the list of resources, resource up/down, and the
 * object counters that prove nothing leaks.
 */
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/slab.h>
#include <net/net_namespace.h>
#include "hablk.h"

DEFINE_MUTEX(hablk_cfg_mutex);
LIST_HEAD(hablk_resources);

static atomic_t hablk_objs[__HABLK_OBJ_MAX];

void hablk_obj_get(enum hablk_obj o)
{
	atomic_inc(&hablk_objs[o]);
}

void hablk_obj_put(enum hablk_obj o)
{
	WARN_ON_ONCE(atomic_dec_return(&hablk_objs[o]) < 0);
}

static int hablk_objs_total(void)
{
	int i, n = 0;

	for (i = 0; i < __HABLK_OBJ_MAX; i++)
		n += atomic_read(&hablk_objs[i]);
	return n;
}

static int objects_get(char *buf, const struct kernel_param *kp)
{
	static const char * const names[__HABLK_OBJ_MAX] = {
		"resources", "requests", "peer_requests", "sockets", "threads", "pages",
	};
	int i, n = 0;

	for (i = 0; i < __HABLK_OBJ_MAX; i++)
		n += sysfs_emit_at(buf, n, "%s%d %s", i ? " " : "", atomic_read(&hablk_objs[i]),
				   names[i]);
	return n + sysfs_emit_at(buf, n, "\n");
}

static const struct kernel_param_ops objects_ops = {
	.get = objects_get,
};
module_param_cb(objects, &objects_ops, NULL, 0444);
MODULE_PARM_DESC(objects, "live objects of each kind (read-only, for leak tests)");

struct hablk_resource *hablk_resource_find(const char *name)
{
	struct hablk_resource *res;

	lockdep_assert_held(&hablk_cfg_mutex);
	list_for_each_entry(res, &hablk_resources, list)
		if (!strcmp(res->cfg.name, name))
			return res;
	return NULL;
}

struct hablk_resource *hablk_resource_find_minor(u32 minor)
{
	struct hablk_resource *res;

	lockdep_assert_held(&hablk_cfg_mutex);
	list_for_each_entry(res, &hablk_resources, list)
		if (res->cfg.minor == minor)
			return res;
	return NULL;
}

struct task_struct *hablk_thread_start(struct hablk_resource *res,
					int (*fn)(void *), const char *what)
{
	struct task_struct *t;

	t = kthread_run(fn, res, "hablk_%s/%u", what, res->cfg.minor);
	if (!IS_ERR(t)) {
		get_task_struct(t);
		hablk_obj_get(HABLK_OBJ_THREAD);
	}
	return t;
}

void hablk_thread_stop(struct task_struct **t)
{
	if (*t) {
		kthread_stop(*t);
		put_task_struct(*t);
		*t = NULL;
		hablk_obj_put(HABLK_OBJ_THREAD);
	}
}

#define HABLK_SWEEP_INTERVAL	(5 * HZ)

/*
 * Every few seconds: forget intent-map extents that stayed idle while the
 * peer was in sync, so that a crash resyncs only recently written extents.
 */
static void sweep_fn(struct work_struct *work)
{
	struct hablk_resource *res = container_of(to_delayed_work(work),
						  struct hablk_resource, sweep_work);
	bool in_sync;

	spin_lock_irq(&res->st.lock);
	in_sync = res->st.conn == HABLK_CONN_CONNECTED && res->st.repl == HABLK_REPL_ESTABLISHED &&
		  res->st.peer_disk == HABLK_DISK_UPTODATE && res->st.disk == HABLK_DISK_UPTODATE;
	spin_unlock_irq(&res->st.lock);
	if (!READ_ONCE(hablk_fault_peer_cache))
		hablk_flush_peer(res);	/* acked writes in the peer's cache: stable by the next sweep */
	hablk_intent_sweep(res, in_sync && !hablk_bm_weight(res));
	queue_delayed_work(res->wq, &res->sweep_work, HABLK_SWEEP_INTERVAL);
}

static struct hablk_resource *resource_alloc(struct hablk_config *cfg, struct net *net)
{
	struct hablk_resource *res;

	res = kzalloc(sizeof(*res), GFP_KERNEL);
	if (!res)
		return NULL;
	res->cfg = *cfg;
	res->net = get_net(net);
	INIT_DELAYED_WORK(&res->sweep_work, sweep_fn);
	hablk_state_init(res);
	hablk_backing_init(res);
	hablk_md_init(res);
	hablk_peer_read_init(res);
	hablk_conn_init(res);
	hablk_flush_init(res);
	hablk_quorum_init(res);
	hablk_sync_init(res);
	hablk_pool_init(res);
	hablk_resize_init(res);
	hablk_lock_init(res);
	hablk_obj_get(HABLK_OBJ_RESOURCE);
	return res;
}

static void resource_free(struct hablk_resource *res)
{
	hablk_pool_drain(res);
	put_net(res->net);
	memzero_explicit(res->cfg.secret, sizeof(res->cfg.secret));
	kfree(res);
	hablk_obj_put(HABLK_OBJ_RESOURCE);
}

/* What a resource needs before its disk: the link's MAC, a work queue, request pools. */
static int resource_setup(struct hablk_resource *res, struct netlink_ext_ack *extack)
{
	int ret;

	res->hmac = crypto_alloc_shash("hmac(sha256)", 0, 0);
	if (IS_ERR(res->hmac)) {
		NL_SET_ERR_MSG(extack, "hmac(sha256) is not available");
		return PTR_ERR(res->hmac);
	}
	ret = crypto_shash_setkey(res->hmac, res->cfg.secret, res->cfg.secret_len);
	if (ret)
		goto err_hmac;
	res->wq = alloc_workqueue("hablk_%s", WQ_MEM_RECLAIM | WQ_HIGHPRI, 0, res->cfg.name);
	if (!res->wq) {
		ret = -ENOMEM;
		goto err_hmac;
	}
	ret = hablk_req_init(res);
	if (ret)
		goto err_wq;
	ret = hablk_rx_init(res);
	if (ret)
		goto err_req;
	ret = hablk_send_init(res);
	if (ret)
		goto err_rx;
	return 0;

err_rx:
	hablk_rx_exit(res);
err_req:
	hablk_req_exit(res);
err_wq:
	destroy_workqueue(res->wq);
err_hmac:
	crypto_free_shash(res->hmac);
	return ret;
}

static void resource_unsetup(struct hablk_resource *res)
{
	hablk_send_exit(res);
	hablk_rx_exit(res);
	hablk_req_exit(res);
	destroy_workqueue(res->wq);
	crypto_free_shash(res->hmac);
}

int hablk_resource_up(struct hablk_config *cfg, struct net *net,
		      struct netlink_ext_ack *extack)
{
	struct hablk_resource *res;
	int ret;

	lockdep_assert_held(&hablk_cfg_mutex);
	if (hablk_resource_find(cfg->name)) {
		NL_SET_ERR_MSG(extack, "resource is already up");
		return -EEXIST;
	}
	if (hablk_resource_find_minor(cfg->minor)) {
		NL_SET_ERR_MSG(extack, "minor is used by another resource");
		return -EEXIST;
	}
	res = resource_alloc(cfg, net);
	if (!res)
		return -ENOMEM;
	ret = resource_setup(res, extack);
	if (ret)
		goto err_free;
	ret = hablk_backing_open(res, extack);
	if (ret)
		goto err_setup;
	ret = hablk_lock_setup(res, res->md.data_sectors);
	if (ret)
		goto err_backing;
	ret = hablk_device_create(res);
	if (ret) {
		NL_SET_ERR_MSG(extack, "cannot create the block device");
		goto err_backing;
	}
	list_add_tail(&res->list, &hablk_resources);
	queue_delayed_work(res->wq, &res->sweep_work, HABLK_SWEEP_INTERVAL);
	res->conn.want = true;
	ret = hablk_conn_start(res);
	if (ret) {
		list_del(&res->list);
		cancel_delayed_work_sync(&res->sweep_work);
		goto err_device;
	}
	pr_info("%s: up, minor %u, %llu sectors, disk %s\n", cfg->name, cfg->minor,
		(unsigned long long)res->dev.size_sectors,
		res->st.disk == HABLK_DISK_UPTODATE ? "uptodate" : "inconsistent");
	hablk_genl_event(res, "up");
	return 0;

err_device:
	hablk_device_destroy(res);
err_backing:
	hablk_lock_free(res);
	hablk_backing_close(res);
err_setup:
	resource_unsetup(res);
err_free:
	resource_free(res);
	return ret;
}

int hablk_resource_down(struct hablk_resource *res, bool force,
			struct netlink_ext_ack *extack)
{
	int ret;

	lockdep_assert_held(&hablk_cfg_mutex);
	hablk_state_lock(res);
	ret = hablk_state_allows(res, HABLK_OP_DOWN, force ? HABLK_OPF_FORCE : 0, extack);
	hablk_state_unlock(res, NULL);
	if (ret)
		return ret;
	hablk_device_set_ro(res, true);
	res->conn.want = false;
	hablk_conn_stop(res);
	hablk_quorum_drain(res);
	hablk_lock_fail_waiting(res);
	cancel_delayed_work_sync(&res->sweep_work);
	/* nothing is in flight: the bitmap on disk says all, the intent map nothing */
	if (!hablk_bm_write(res))
		hablk_intent_clear_all(res);
	hablk_md_keep_sync(res);
	list_del(&res->list);
	hablk_genl_event(res, "down");
	hablk_device_destroy(res);
	hablk_lock_free(res);
	hablk_backing_close(res);
	resource_unsetup(res);
	pr_info("%s: down\n", res->cfg.name);
	resource_free(res);
	return 0;
}

static int __init hablk_init(void)
{
	int ret;

	hablk_wire_build_bug_on();
	BUILD_BUG_ON(sizeof(struct hablk_md_sb) != 512);
	ret = hablk_device_register();
	if (ret)
		return ret;
	ret = hablk_genl_init();
	if (ret) {
		hablk_device_unregister();
		return ret;
	}
	pr_info("loaded, protocol %u\n", HABLK_PROTO_MAX);
	return 0;
}

static void __exit hablk_exit(void)
{
	struct hablk_resource *res, *tmp;

	hablk_genl_exit();
	mutex_lock(&hablk_cfg_mutex);
	list_for_each_entry_safe(res, tmp, &hablk_resources, list)
		WARN_ON(hablk_resource_down(res, true, NULL));
	mutex_unlock(&hablk_cfg_mutex);
	hablk_device_unregister();
	pr_info("unloaded, %d objects leaked\n", hablk_objs_total());
}

module_init(hablk_init);
module_exit(hablk_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("hablk: replicated block device");
MODULE_SOFTDEP("pre: hmac sha256");
