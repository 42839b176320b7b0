// SPDX-License-Identifier: GPL-2.0
/*
 * The pages of the data path (peer writes and reads, sync and verify chunks),
 * counted in the "pages" object count so a test can prove none leaks, and a
 * per-resource pool of free ones, so a page is not allocated again for every
 * 4 KiB that arrives or is synced.
 */
#include <linux/gfp.h>
#include <linux/mm.h>
#include "hablk.h"

/*
 * A page from the pool, else from the allocator. Its contents are stale:
 * every caller overwrites what it uses (a receive, a disk read). The
 * allocator would zero it first (init_on_alloc, on by default in Debian's
 * kernels): for a 1 MiB write that was 256 pages cleared on the secondary,
 * only to be overwritten.
 */
struct page *hablk_page_get(struct hablk_resource *res, gfp_t gfp)
{
	struct page *page = NULL;
	unsigned long flags;

	if (READ_ONCE(res->pool_count)) {
		spin_lock_irqsave(&res->pool_lock, flags);
		page = list_first_entry_or_null(&res->pool, struct page, lru);
		if (page) {
			list_del(&page->lru);
			res->pool_count--;
		}
		spin_unlock_irqrestore(&res->pool_lock, flags);
		if (page)
			return page;
	}
	page = alloc_page(gfp);
	if (page)
		hablk_obj_get(HABLK_OBJ_PAGE);
	return page;
}

/*
 * Back to the pool while it has room, but only a page no one else holds: TCP
 * keeps a reference to a page it was given zero-copy until its segment is
 * acked, and such a page is freed by whoever drops the last reference.
 */
void hablk_page_put(struct hablk_resource *res, struct page *page)
{
	unsigned long flags;
	bool pooled = false;

	if (page_ref_count(page) == 1 && READ_ONCE(res->pool_count) < HABLK_POOL_PAGES) {
		spin_lock_irqsave(&res->pool_lock, flags);
		if (res->pool_count < HABLK_POOL_PAGES) {
			list_add(&page->lru, &res->pool);
			res->pool_count++;
			pooled = true;
		}
		spin_unlock_irqrestore(&res->pool_lock, flags);
	}
	if (!pooled) {
		put_page(page);
		hablk_obj_put(HABLK_OBJ_PAGE);
	}
}

/* Give the pool's pages back (the connection ended, or the resource goes down). */
void hablk_pool_drain(struct hablk_resource *res)
{
	struct page *page, *tmp;
	LIST_HEAD(list);

	spin_lock_irq(&res->pool_lock);
	list_splice_init(&res->pool, &list);
	res->pool_count = 0;
	spin_unlock_irq(&res->pool_lock);
	list_for_each_entry_safe(page, tmp, &list, lru) {
		list_del(&page->lru);
		__free_page(page);
		hablk_obj_put(HABLK_OBJ_PAGE);
	}
}
