// SPDX-License-Identifier: GPL-2.0
/*
 * The pages of the data path (peer writes and reads, sync and verify chunks),
 * counted in the "pages" object count so a test can prove none leaks, and a
 * per-resource pool of free ones, so a page is not allocated again for every
 * 4 KiB that arrives or is synced.
 */
#include <linux/bio.h>
#include <linux/gfp.h>
#include <linux/mm.h>
#include "hablk.h"

void hablk_pool_init(struct hablk_resource *res)
{
	spin_lock_init(&res->pool.lock);
	INIT_LIST_HEAD(&res->pool.pages);
}

static void page_free(struct page *page)
{
	put_page(page);
	hablk_obj_put(HABLK_OBJ_PAGE);
}

/*
 * Give @bio pages for @size bytes (the last one partly used), from the pool
 * while it has some, then from the allocator; the pool's lock is taken once.
 * Their contents are stale: every caller overwrites what it uses (a receive,
 * a disk read). The allocator would zero them first (init_on_alloc, on by
 * default in Debian's kernels): for a 1 MiB write that was 256 pages cleared
 * on the secondary, only to be overwritten. On -ENOMEM the pages already
 * added stay in @bio, for the caller's hablk_pool_put_pages().
 */
int hablk_pool_add_pages(struct hablk_resource *res, struct bio *bio, u32 size, gfp_t gfp)
{
	unsigned int i, n = DIV_ROUND_UP(size, PAGE_SIZE), pooled = 0;
	struct page *page, *tmp;
	unsigned long flags;
	LIST_HEAD(list);

	if (READ_ONCE(res->pool.count)) {
		spin_lock_irqsave(&res->pool.lock, flags);
		list_for_each_entry_safe(page, tmp, &res->pool.pages, lru) {
			if (pooled == n)
				break;
			list_move(&page->lru, &list);
			pooled++;
		}
		res->pool.count -= pooled;
		spin_unlock_irqrestore(&res->pool.lock, flags);
	}
	for (i = 0; i < n; i++) {
		page = list_first_entry_or_null(&list, struct page, lru);
		if (page) {
			list_del(&page->lru);
		} else {
			page = alloc_page(gfp);
			if (!page)
				return -ENOMEM;
			hablk_obj_get(HABLK_OBJ_PAGE);
		}
		__bio_add_page(bio, page, min_t(u32, PAGE_SIZE, size - i * PAGE_SIZE), 0);
	}
	return 0;
}

/*
 * Take back @bio's pages: into the pool while it has room, but only pages no
 * one else holds (TCP keeps a reference to a page it was given zero-copy
 * until its segment is acked; such a page is freed by whoever drops the last
 * reference), with one hold of the pool's lock.
 */
void hablk_pool_put_pages(struct hablk_resource *res, struct bio *bio)
{
	struct bvec_iter_all iter;
	struct page *page, *tmp;
	struct bio_vec *bv;
	unsigned long flags;
	LIST_HEAD(list);
	unsigned int n = 0;

	bio_for_each_segment_all(bv, bio, iter) {
		if (page_ref_count(bv->bv_page) == 1) {
			list_add(&bv->bv_page->lru, &list);
			n++;
		} else {
			page_free(bv->bv_page);
		}
	}
	if (n && READ_ONCE(res->pool.count) < HABLK_POOL_PAGES) {
		spin_lock_irqsave(&res->pool.lock, flags);
		list_for_each_entry_safe(page, tmp, &list, lru) {
			if (res->pool.count == HABLK_POOL_PAGES)
				break;
			list_move(&page->lru, &res->pool.pages);
			res->pool.count++;
		}
		spin_unlock_irqrestore(&res->pool.lock, flags);
	}
	list_for_each_entry_safe(page, tmp, &list, lru) {
		list_del(&page->lru);
		page_free(page);
	}
}

/* Give the pool's pages back (the connection ended, or the resource goes down). */
void hablk_pool_drain(struct hablk_resource *res)
{
	struct page *page, *tmp;
	LIST_HEAD(list);

	spin_lock_irq(&res->pool.lock);
	list_splice_init(&res->pool.pages, &list);
	res->pool.count = 0;
	spin_unlock_irq(&res->pool.lock);
	list_for_each_entry_safe(page, tmp, &list, lru) {
		list_del(&page->lru);
		page_free(page);
	}
}
