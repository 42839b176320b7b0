/* SPDX-License-Identifier: GPL-2.0 */
/* md.h - create-md: fresh hablk metadata on a backing disk. */
#ifndef HABLK_MD_H
#define HABLK_MD_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Write fresh metadata for node_id, with a bitmap bit per bm_block bytes:
 * internal on disk (meta NULL), or external on the device meta for all of
 * disk. Refuses (returns 1 with a reason in err) a bad granularity, or a disk
 * that holds hablk metadata or a known filesystem or volume signature unless
 * force; returns 0 when written, -1 on I/O errors.
 */
int hablk_md_create(const char *disk, const char *meta, unsigned int node_id,
		    unsigned int bm_block, bool force, char *err, size_t errlen);

/* The name of a signature found in the first 68 KiB of buf, or NULL. */
const char *hablk_md_signature(const unsigned char *buf, size_t len);

#endif /* HABLK_MD_H */
