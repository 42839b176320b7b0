/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Compatibility between the kernels hablk supports (Debian 12's 6.1 and 6.12).
 * Kbuild probes the headers and defines COMPAT_*; the code reads like 6.12.
 */
#ifndef HABLK_COMPAT_H
#define HABLK_COMPAT_H

#define pr_fmt(fmt) "hablk: " fmt

#include <linux/blkdev.h>

#ifndef COMPAT_OPEN_GENDISK
#define blk_mode_t	fmode_t
#define BLK_OPEN_READ	FMODE_READ
#define BLK_OPEN_WRITE	FMODE_WRITE
#define BLK_OPEN_EXCL	FMODE_EXCL
#endif

/* the request's attributes in a dumpit callback */
#ifdef COMPAT_DUMPIT_INFO_INFO
#define hablk_dumpit_attrs(cb)	(genl_dumpit_info(cb)->info.attrs)
#else
#define hablk_dumpit_attrs(cb)	(genl_dumpit_info(cb)->attrs)
#endif

#endif /* HABLK_COMPAT_H */
