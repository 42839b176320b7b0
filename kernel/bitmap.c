// SPDX-License-Identifier: GPL-2.0
/*
 * The out-of-sync bitmap (one bit per block the peer may lack, 4 KiB by
 * default, the granularity create-md wrote in the superblock) and the
 * write-intent map (one bit per 4 MiB extent that may have writes in flight,
 * on disk before the write starts), which together tell after any crash
 * which blocks to resync.
 */
#include <linux/slab.h>
#include <linux/vmalloc.h>
#include "hablk.h"

#define EXTENT_SECTORS	(HABLK_MD_EXTENT_BYTES >> SECTOR_SHIFT)
#define BITS_PER_PAGE	(PAGE_SIZE * 8)

/* --- disk I/O of bitmap pages --- */

/* Read or write one page of metadata at byte @offset, from or into @buf. */
static int area_io(struct hablk_resource *res, u64 offset, void *buf, blk_opf_t opf)
{
	struct page *page = alloc_page(GFP_NOIO);
	int ret;

	if (!page)
		return -ENOMEM;
	if (op_is_write(opf))
		memcpy(page_address(page), buf, PAGE_SIZE);
	ret = hablk_md_io(res, page, offset, opf);
	if (!ret && !op_is_write(opf))
		memcpy(buf, page_address(page), PAGE_SIZE);
	__free_page(page);
	return ret;
}

#define LONGS_PER_PAGE	(PAGE_SIZE / sizeof(long))

static void from_le(unsigned long *buf, u64 words)
{
	u64 i;

	for (i = 0; i < words; i++)
		buf[i] = le64_to_cpu((__force __le64)buf[i]);
}

static void to_le(unsigned long *dst, const unsigned long *src, u64 words)
{
	u64 i;

	for (i = 0; i < words; i++)
		dst[i] = (__force unsigned long)cpu_to_le64(src[i]);
}

/* --- the out-of-sync bitmap --- */

static void mark_dirty_page(struct hablk_bitmap *bm, u64 bit)
{
	set_bit(bit / BITS_PER_PAGE, bm->dirty);
}

/* Set the blocks that [sector, sector + sectors) touches. */
void hablk_bm_set(struct hablk_resource *res, sector_t sector, u64 sectors)
{
	struct hablk_bitmap *bm = &res->bm;
	u64 b, first, last;
	unsigned long flags;
	long n = 0;

	if (!sectors || !bm->nbits)
		return;
	first = sector >> bm->shift;
	last = min_t(u64, (sector + sectors - 1) >> bm->shift, bm->nbits - 1);
	spin_lock_irqsave(&bm->lock, flags);
	for (b = first; b <= last; b++) {
		if (!__test_and_set_bit(b, bm->bits)) {
			n++;
			mark_dirty_page(bm, b);
		}
	}
	bm->weight += n;
	spin_unlock_irqrestore(&bm->lock, flags);
}

/* Clear the blocks [sector, sector + sectors) covers completely; returns how many were set. */
u64 hablk_bm_clear(struct hablk_resource *res, sector_t sector, u64 sectors)
{
	struct hablk_bitmap *bm = &res->bm;
	u64 b, first, end;
	unsigned long flags;
	long n = 0;

	first = (sector + (1ULL << bm->shift) - 1) >> bm->shift;
	end = (sector + sectors) >> bm->shift;
	/* the last block may be short: the device end counts as covering it */
	if (sector + sectors >= res->dev.size_sectors)
		end = bm->nbits;
	end = min_t(u64, end, bm->nbits);
	if (first >= end)
		return 0;
	spin_lock_irqsave(&bm->lock, flags);
	if (bm->weight) {
		for (b = first; b < end; b++) {
			if (__test_and_clear_bit(b, bm->bits)) {
				n++;
				mark_dirty_page(bm, b);
			}
		}
		bm->weight -= n;
	}
	spin_unlock_irqrestore(&bm->lock, flags);
	return n;
}

void hablk_bm_set_all(struct hablk_resource *res)
{
	hablk_bm_set(res, 0, res->dev.size_sectors);
}

void hablk_bm_clear_all(struct hablk_resource *res)
{
	hablk_bm_clear(res, 0, res->dev.size_sectors);
}

/* Sectors per bit: the granularity of the bitmap. */
u32 hablk_bm_block_sectors(struct hablk_resource *res)
{
	return 1U << res->bm.shift;
}

u64 hablk_bm_weight(struct hablk_resource *res)
{
	return READ_ONCE(res->bm.weight);
}

/*
 * The next run of set blocks at or after block @from, at most @max blocks
 * long: returns its first block and sets *len, or returns nbits.
 */
u64 hablk_bm_next_run(struct hablk_resource *res, u64 from, u32 max, u32 *len)
{
	struct hablk_bitmap *bm = &res->bm;
	u64 first, end;

	spin_lock_irq(&bm->lock);
	first = find_next_bit(bm->bits, bm->nbits, from);
	end = first < bm->nbits ? find_next_zero_bit(bm->bits, bm->nbits, first) : first;
	spin_unlock_irq(&bm->lock);
	*len = min_t(u64, end - first, max);
	return first;
}

/* OR in @nbits (a multiple of 64) little-endian bits from the peer, at @first. */
void hablk_bm_merge(struct hablk_resource *res, u64 first, const __le64 *words, u32 nbits)
{
	unsigned int shift = res->bm.shift;
	u64 limit = DIV_ROUND_UP_ULL(res->dev.size_sectors, 1ULL << shift);
	u64 w, b, i;

	for (i = 0; i < nbits / 64; i++) {
		w = le64_to_cpu(words[i]);
		while (w) {
			b = first + i * 64 + __ffs64(w);
			w &= w - 1;
			if (b < limit)	/* the peer's disk may be larger */
				hablk_bm_set(res, b << shift, 1ULL << shift);
		}
	}
}

/* Copy @words words of the bitmap from block @first (a multiple of 64), little-endian. */
void hablk_bm_copy_le(struct hablk_resource *res, u64 first, __le64 *dst, u64 words)
{
	struct hablk_bitmap *bm = &res->bm;

	spin_lock_irq(&bm->lock);
	to_le((unsigned long *)dst, bm->bits + first / BITS_PER_LONG, words);
	spin_unlock_irq(&bm->lock);
}

/* Send every non-zero page of the bitmap to the peer, then the end marker. */
int hablk_bm_send(struct hablk_resource *res)
{
	struct hablk_bitmap *bm = &res->bm;
	struct hablk_p_bitmap *p;
	u64 page, words, first;
	int ret = 0;

	p = kmalloc(sizeof(*p) + PAGE_SIZE, GFP_KERNEL);
	if (!p)
		return -ENOMEM;
	for (page = 0; page * BITS_PER_PAGE < bm->nbits && !ret; page++) {
		first = page * BITS_PER_PAGE;
		words = min_t(u64, BITS_PER_PAGE, round_up(bm->nbits - first, 64)) / 64;
		spin_lock_irq(&bm->lock);
		if (find_next_bit(bm->bits, min_t(u64, bm->nbits, first + BITS_PER_PAGE), first) >=
		    min_t(u64, bm->nbits, first + BITS_PER_PAGE)) {
			spin_unlock_irq(&bm->lock);
			continue;
		}
		to_le((unsigned long *)p->words, bm->bits + first / BITS_PER_LONG, words);
		spin_unlock_irq(&bm->lock);
		p->first_bit = cpu_to_be64(first);
		p->nbits = cpu_to_be32(words * 64);
		p->pad = 0;
		ret = hablk_send_data_pkt_extra(res, HABLK_P_BITMAP, p, sizeof(*p),
						p->words, words * 8);
	}
	if (!ret) {
		p->first_bit = 0;
		p->nbits = 0;
		ret = hablk_send_data_pkt(res, HABLK_P_BITMAP, p, sizeof(*p));
	}
	kfree(p);
	return ret;
}

/* Write the bitmap pages that changed since they were last written. */
int hablk_bm_write(struct hablk_resource *res)
{
	struct hablk_bitmap *bm = &res->bm;
	unsigned long *tmp;
	u64 idx;
	int ret = 0;

	if (READ_ONCE(res->st.disk) == HABLK_DISK_DISKLESS)
		return -EIO;	/* detached */
	tmp = kmalloc(PAGE_SIZE, GFP_NOIO);
	if (!tmp)
		return -ENOMEM;
	mutex_lock(&bm->io_mutex);
	for_each_set_bit(idx, bm->dirty, bm->npages) {
		clear_bit(idx, bm->dirty);
		spin_lock_irq(&bm->lock);
		to_le(tmp, bm->bits + idx * LONGS_PER_PAGE, LONGS_PER_PAGE);
		spin_unlock_irq(&bm->lock);
		ret = area_io(res, bm->disk_offset + idx * PAGE_SIZE, tmp, REQ_OP_WRITE | REQ_FUA);
		if (ret) {
			set_bit(idx, bm->dirty);
			break;
		}
	}
	mutex_unlock(&bm->io_mutex);
	kfree(tmp);
	return ret;
}

/* --- the write-intent map --- */

static u64 extent_of(sector_t sector)
{
	return sector / EXTENT_SECTORS;
}

static int intent_write_page(struct hablk_resource *res, u64 page, blk_opf_t extra)
{
	struct hablk_bitmap *bm = &res->bm;
	unsigned long *tmp;
	int ret;

	if (READ_ONCE(res->st.disk) == HABLK_DISK_DISKLESS)
		return -EIO;	/* detached */
	tmp = kmalloc(PAGE_SIZE, GFP_NOIO);
	if (!tmp)
		return -ENOMEM;
	spin_lock_irq(&bm->lock);
	to_le(tmp, bm->intent + page * LONGS_PER_PAGE, LONGS_PER_PAGE);
	spin_unlock_irq(&bm->lock);
	ret = area_io(res, bm->intent_offset + page * PAGE_SIZE, tmp,
		      REQ_OP_WRITE | REQ_FUA | REQ_SYNC | extra);
	kfree(tmp);
	return ret;
}

/*
 * A write to [sector, +sectors) is about to start: its extents are marked
 * in the intent map on disk first (only the first write to an extent pays
 * for that), and counted as busy until hablk_intent_end(). Returns -EAGAIN
 * if that disk write is needed but the caller cannot block (submit_bio).
 */
int hablk_intent_begin(struct hablk_resource *res, sector_t sector, u64 sectors,
			bool can_block)
{
	struct hablk_bitmap *bm = &res->bm;
	u64 e, first = extent_of(sector), last = extent_of(sector + max_t(u64, sectors, 1) - 1);
	DECLARE_BITMAP(newly, HABLK_INTENT_SPAN);
	bool missing = false;
	u64 page;
	int ret = 0;

	last = min_t(u64, last, bm->nextents - 1);
	if (WARN_ON_ONCE(last - first >= HABLK_INTENT_SPAN))
		return -EINVAL;
	for (e = first; e <= last; e++) {
		atomic_inc(&bm->busy[e]);
		set_bit(e, bm->touched);
	}
	smp_mb__after_atomic();	/* pairs with the sweep's clear, then check of busy */
	for (e = first; e <= last; e++)
		if (!test_bit(e, bm->intent))
			missing = true;
	if (!missing)
		return 0;
	if (!can_block) {	/* the caller must retry where it may wait for I/O */
		hablk_intent_end(res, sector, sectors);
		return -EAGAIN;
	}

	/* first write to an extent: its intent bit is on disk before the write starts */
	bitmap_zero(newly, HABLK_INTENT_SPAN);
	mutex_lock(&bm->io_mutex);
	spin_lock_irq(&bm->lock);
	for (e = first; e <= last; e++)
		if (!__test_and_set_bit(e, bm->intent))
			__set_bit(e - first, newly);
	spin_unlock_irq(&bm->lock);
	if (!bitmap_empty(newly, HABLK_INTENT_SPAN)) {
		for (page = first / BITS_PER_PAGE; page <= last / BITS_PER_PAGE && !ret; page++)
			ret = intent_write_page(res, page, 0);
	}
	if (ret) {	/* not on disk: not set */
		spin_lock_irq(&bm->lock);
		for_each_set_bit(e, newly, HABLK_INTENT_SPAN)
			__clear_bit(first + e, bm->intent);
		spin_unlock_irq(&bm->lock);
	}
	mutex_unlock(&bm->io_mutex);
	if (ret)
		hablk_intent_end(res, sector, sectors);
	return ret;
}

void hablk_intent_end(struct hablk_resource *res, sector_t sector, u64 sectors)
{
	struct hablk_bitmap *bm = &res->bm;
	u64 e, first = extent_of(sector), last = extent_of(sector + max_t(u64, sectors, 1) - 1);

	last = min_t(u64, last, bm->nextents - 1);
	for (e = first; e <= last; e++)
		atomic_dec(&bm->busy[e]);
}

/*
 * Forget extents that are idle while the peer is in sync: clear their intent
 * bits on disk. Runs every few seconds; an extent must have been idle for a
 * whole period. Returns the number of extents cleared.
 */
int hablk_intent_sweep(struct hablk_resource *res, bool in_sync)
{
	struct hablk_bitmap *bm = &res->bm;
	u64 e, page, last_page = U64_MAX;
	int n = 0;

	mutex_lock(&bm->io_mutex);
	for_each_set_bit(e, bm->intent, bm->nextents) {
		if (test_and_clear_bit(e, bm->touched) || !in_sync || atomic_read(&bm->busy[e]) ||
		    hablk_flush_pending(res, e))	/* maybe only in the peer's cache */
			continue;
		spin_lock_irq(&bm->lock);
		clear_bit(e, bm->intent);
		spin_unlock_irq(&bm->lock);
		smp_mb();	/* pairs with intent_begin's busy, then check */
		if (atomic_read(&bm->busy[e])) {
			set_bit(e, bm->intent);	/* a write just started: keep it */
			continue;
		}
		n++;
		page = e / BITS_PER_PAGE;
		/* the preflush makes the extents' data durable before they are forgotten */
		if (last_page != U64_MAX && page != last_page)
			intent_write_page(res, last_page, REQ_PREFLUSH);
		last_page = page;
	}
	if (last_page != U64_MAX)
		intent_write_page(res, last_page, REQ_PREFLUSH);
	mutex_unlock(&bm->io_mutex);
	return n;
}

/* Clear the whole intent map on disk (clean down: the bitmap is on disk). */
int hablk_intent_clear_all(struct hablk_resource *res)
{
	struct hablk_bitmap *bm = &res->bm;
	u64 page;
	int ret = 0;

	mutex_lock(&bm->io_mutex);
	spin_lock_irq(&bm->lock);
	bitmap_zero(bm->intent, bm->intent_pages * BITS_PER_PAGE);
	spin_unlock_irq(&bm->lock);
	for (page = 0; page < bm->intent_pages && !ret; page++)
		ret = intent_write_page(res, page, 0);
	mutex_unlock(&bm->io_mutex);
	return ret;
}

/* --- life cycle --- */

/*
 * Load the bitmap and the intent map from disk. An intent bit left set means
 * the node stopped with writes possibly in flight in that extent: all its
 * blocks become out of sync, and the node is marked dirty.
 */
int hablk_bm_load(struct hablk_resource *res, u32 bm_block, u64 bm_offset, u64 intent_offset)
{
	struct hablk_bitmap *bm = &res->bm;
	u64 idx, e;
	int ret;

	spin_lock_init(&bm->lock);
	mutex_init(&bm->io_mutex);
	bm->shift = ilog2(bm_block) - SECTOR_SHIFT;
	bm->nbits = DIV_ROUND_UP_ULL(res->md.data_sectors, 1ULL << bm->shift);
	bm->npages = DIV_ROUND_UP_ULL(bm->nbits, BITS_PER_PAGE);
	bm->nextents = DIV_ROUND_UP_ULL(res->md.data_sectors, EXTENT_SECTORS);
	bm->intent_pages = DIV_ROUND_UP_ULL(bm->nextents, BITS_PER_PAGE);
	bm->disk_offset = bm_offset;
	bm->intent_offset = intent_offset;
	{
		u64 end_bm = bm_offset + bm->npages * PAGE_SIZE;
		u64 end_in = intent_offset + bm->intent_pages * PAGE_SIZE;
		u64 sb = res->md.offset, md_bytes = bdev_nr_bytes(res->md.bdev);

		/* the two areas and the superblock must not overlap, all on the device */
		if (!(end_bm <= intent_offset || end_in <= bm_offset) ||
		    !(end_bm <= sb || bm_offset >= sb + HABLK_MD_SB_BYTES) ||
		    !(end_in <= sb || intent_offset >= sb + HABLK_MD_SB_BYTES) ||
		    end_bm > md_bytes || end_in > md_bytes)
			return -EINVAL;
	}
	bm->bits = kvzalloc(bm->npages * PAGE_SIZE, GFP_KERNEL);
	bm->dirty = bitmap_zalloc(bm->npages, GFP_KERNEL);
	bm->intent = kvzalloc(bm->intent_pages * PAGE_SIZE, GFP_KERNEL);
	bm->touched = bitmap_zalloc(bm->nextents, GFP_KERNEL);
	bm->busy = kvcalloc(bm->nextents, sizeof(*bm->busy), GFP_KERNEL);
	bm->peer_epoch = kvcalloc(bm->nextents, sizeof(*bm->peer_epoch), GFP_KERNEL);
	if (!bm->bits || !bm->dirty || !bm->intent || !bm->touched || !bm->busy ||
	    !bm->peer_epoch) {
		ret = -ENOMEM;
		goto err;
	}
	for (idx = 0; idx < bm->npages; idx++) {
		ret = area_io(res, bm_offset + idx * PAGE_SIZE, bm->bits + idx * LONGS_PER_PAGE,
			      REQ_OP_READ);
		if (ret)
			goto err;
	}
	for (idx = 0; idx < bm->intent_pages; idx++) {
		ret = area_io(res, intent_offset + idx * PAGE_SIZE,
			      bm->intent + idx * LONGS_PER_PAGE, REQ_OP_READ);
		if (ret)
			goto err;
	}
	from_le(bm->bits, bm->npages * PAGE_SIZE / sizeof(long));
	from_le(bm->intent, bm->intent_pages * PAGE_SIZE / sizeof(long));
	/* bits past the device's end are not ours */
	bitmap_clear(bm->bits, bm->nbits, bm->npages * BITS_PER_PAGE - bm->nbits);
	bitmap_clear(bm->intent, bm->nextents, bm->intent_pages * BITS_PER_PAGE - bm->nextents);
	bm->weight = bitmap_weight(bm->bits, bm->nbits);
	for_each_set_bit(e, bm->intent, bm->nextents)
		hablk_bm_set(res, e * EXTENT_SECTORS,
			     min_t(u64, EXTENT_SECTORS, res->md.data_sectors - e * EXTENT_SECTORS));
	bm->crashed = !bitmap_empty(bm->intent, bm->nextents);
	return 0;
err:
	hablk_bm_free(res);
	return ret;
}

/*
 * Online grow (writes quiesced, no extent busy): bitmap and intent map for
 * new_sectors of data at new offsets, written there before the caller writes
 * the superblock that points to them.
 */
int hablk_bm_grow(struct hablk_resource *res, sector_t new_sectors, u64 bm_offset,
		  u64 intent_offset)
{
	struct hablk_bitmap *bm = &res->bm, nb = {}, old;
	u64 page;
	int ret = 0;

	nb.nbits = DIV_ROUND_UP_ULL(new_sectors, 1ULL << bm->shift);
	nb.npages = DIV_ROUND_UP_ULL(nb.nbits, BITS_PER_PAGE);
	nb.nextents = DIV_ROUND_UP_ULL(new_sectors, EXTENT_SECTORS);
	nb.intent_pages = DIV_ROUND_UP_ULL(nb.nextents, BITS_PER_PAGE);
	nb.bits = kvzalloc(nb.npages * PAGE_SIZE, GFP_KERNEL);
	nb.dirty = bitmap_zalloc(nb.npages, GFP_KERNEL);
	nb.intent = kvzalloc(nb.intent_pages * PAGE_SIZE, GFP_KERNEL);
	nb.touched = bitmap_zalloc(nb.nextents, GFP_KERNEL);
	nb.busy = kvcalloc(nb.nextents, sizeof(*nb.busy), GFP_KERNEL);
	nb.peer_epoch = kvcalloc(nb.nextents, sizeof(*nb.peer_epoch), GFP_KERNEL);
	if (!nb.bits || !nb.dirty || !nb.intent || !nb.touched || !nb.busy || !nb.peer_epoch) {
		ret = -ENOMEM;
		goto free_new;
	}
	mutex_lock(&bm->io_mutex);
	spin_lock_irq(&bm->lock);
	bitmap_copy(nb.bits, bm->bits, bm->nbits);
	bitmap_copy(nb.intent, bm->intent, bm->nextents);
	memcpy(nb.peer_epoch, bm->peer_epoch, bm->nextents * sizeof(*nb.peer_epoch));
	bitmap_fill(nb.dirty, nb.npages);	/* all of it goes to the new place */
	old = *bm;
	bm->bits = nb.bits;
	bm->nbits = nb.nbits;
	bm->npages = nb.npages;
	bm->dirty = nb.dirty;
	bm->intent = nb.intent;
	bm->touched = nb.touched;
	bm->busy = nb.busy;
	bm->peer_epoch = nb.peer_epoch;
	bm->nextents = nb.nextents;
	bm->intent_pages = nb.intent_pages;
	bm->disk_offset = bm_offset;
	bm->intent_offset = intent_offset;
	spin_unlock_irq(&bm->lock);
	for (page = 0; page < bm->intent_pages && !ret; page++)
		ret = intent_write_page(res, page, 0);
	mutex_unlock(&bm->io_mutex);
	if (!ret)
		ret = hablk_bm_write(res);
	kvfree(old.bits);
	bitmap_free(old.dirty);
	kvfree(old.intent);
	bitmap_free(old.touched);
	kvfree(old.busy);
	kvfree(old.peer_epoch);
	return ret;

free_new:
	kvfree(nb.bits);
	bitmap_free(nb.dirty);
	kvfree(nb.intent);
	bitmap_free(nb.touched);
	kvfree(nb.busy);
	kvfree(nb.peer_epoch);
	return ret;
}

void hablk_bm_free(struct hablk_resource *res)
{
	struct hablk_bitmap *bm = &res->bm;

	kvfree(bm->bits);
	bitmap_free(bm->dirty);
	kvfree(bm->intent);
	bitmap_free(bm->touched);
	kvfree(bm->busy);
	kvfree(bm->peer_epoch);
	memset(bm, 0, sizeof(*bm));
}
