// SPDX-License-Identifier: GPL-2.0
/*
 * The pages of the data path (peer writes and reads, sync and verify chunks),
 * counted in the "pages" object count so a test can prove none leaks.
 */
#include <linux/gfp.h>
#include "hablk.h"

struct page *hablk_page_get(struct hablk_resource *res, gfp_t gfp)
{
	struct page *page = alloc_page(gfp);

	if (page)
		hablk_obj_get(HABLK_OBJ_PAGE);
	return page;
}

void hablk_page_put(struct hablk_resource *res, struct page *page)
{
	__free_page(page);
	hablk_obj_put(HABLK_OBJ_PAGE);
}
