/* SPDX-License-Identifier: GPL-2.0 */
/* config.h - hablk.conf(5) resources, nodes, arbiters; loading and lookup. */
#ifndef HABLK_CONFIG_H
#define HABLK_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>
#include "../kernel/uapi/linux/hablk.h"

/*
 * The limits the kernel checks are the UAPI's: resource and node names of
 * 1..HABLK_NAME_LEN - 1 of [A-Za-z0-9_.-], a secret of 1..HABLK_SECRET_MAX
 * bytes, minors 0..HABLK_MINOR_MAX, node and arbiter ids 0..HABLK_NODE_ID_MAX;
 * on-no-quorum is an enum hablk_quorum_policy.
 */
#define HABLK_CONFIG_DIR	"/etc/hablk"	/* default for hablk_config_load_dir() */
#define HABLK_ADDRSTRLEN	64	/* enough for "[ipv6]:port" plus NUL */
#define HABLK_PATH_MAX		256	/* absolute paths of directories and handlers */

/* Timings in milliseconds; each 10..600000. */
struct hablk_timing {
	unsigned int ping_interval_ms;		/* heartbeat period (1000) */
	unsigned int ping_timeout_ms;		/* no answer for this long: peer dead (2000) */
	unsigned int connect_interval_ms;	/* first reconnect delay, doubles (200) */
	unsigned int connect_interval_max_ms;	/* cap of that backoff (5000) */
};

/* A data node or the arbiter of one resource. */
struct hablk_node {
	char name[HABLK_NAME_LEN];
	unsigned int id;			/* 0..31, unique in the resource */
	struct sockaddr_storage addr;		/* replication link (IPv4 or IPv6) */
	socklen_t addr_len;
	struct sockaddr_storage control;	/* hablkd; default addr with port+1 */
	socklen_t control_len;
	char *disk;		/* absolute path; "" for the arbiter */
	char *meta_disk;	/* absolute path; "" for internal metadata/arbiter */
	bool is_arbiter;
	unsigned int line;	/* line of "node NAME {" / "arbiter NAME {" */
};

/* One "resource NAME { ... }" block. */
struct hablk_res {
	char name[HABLK_NAME_LEN];
	unsigned int minor;			/* /dev/hablkN */
	char protocol;				/* 'A' or 'C' (default 'C') */
	char secret[HABLK_SECRET_MAX + 1];	/* NUL-terminated, never empty */
	enum hablk_quorum_policy on_no_quorum;	/* suspend-io (default) or io-error */
	bool allow_two_primaries;		/* only with protocol C */
	unsigned int lock_extent;		/* bytes per lock extent (1M) */
	int after_sb;				/* enum hablk_after_sb (disconnect) */
	bool data_integrity;			/* CRC-32 per data packet (no) */
	bool checksum_resync;			/* resync compares digests first (no) */
	bool auto_promote;			/* hablkd promotes a safe survivor (no) */
	char split_brain_save[HABLK_PATH_MAX];	/* "" or an absolute directory */
	char fence_peer[HABLK_PATH_MAX];	/* "" or the fence-peer handler */
	struct hablk_timing timing;
	struct hablk_node nodes[2];		/* the data nodes, in file order */
	bool has_arbiter;
	struct hablk_node arbiter;		/* valid if has_arbiter */
	char *file;				/* file it was declared in */
	unsigned int line;			/* line of "resource NAME {" */
};

/*
 * Everything loaded, in file order (files of a directory in sorted order).
 * Zero-initialise it or leave it; the loaders overwrite it without freeing.
 */
struct hablk_config {
	struct hablk_res *res;
	size_t nr_res;
};

/* hablk_res_local() results */
enum hablk_local {
	HABLK_LOCAL_NONE = -1,		/* the name is not in the resource */
	HABLK_LOCAL_DATA = 0,		/* a data node: *self and *peer set */
	HABLK_LOCAL_ARBITER = 1,	/* the arbiter: *self set, *peer NULL */
};

/*
 * Loaders: fill *c from one file, from text in memory (name is the file name
 * used in messages), or from every "*.res" file of dir (NULL: HABLK_CONFIG_DIR)
 * in strcmp() order, all checked together. Return 0, or -1 with *c empty
 * ({NULL, 0}) and one line in err: "FILE:LINE: what is wrong", or
 * "PATH: reason" when a file or directory cannot be read.
 * Free a loaded config with hablk_config_free().
 */
int hablk_config_load_file(struct hablk_config *c, const char *path,
			   char *err, size_t errlen);
int hablk_config_load_string(struct hablk_config *c, const char *name,
			     const char *text, char *err, size_t errlen);
int hablk_config_load_dir(struct hablk_config *c, const char *dir,
			  char *err, size_t errlen);
void hablk_config_free(struct hablk_config *c);

/* The resource called name, or NULL. Valid until hablk_config_free(). */
const struct hablk_res *hablk_config_find(const struct hablk_config *c,
					  const char *name);

/*
 * Find nodename in r. Returns enum hablk_local; self and peer may be NULL,
 * and whatever is not found is set to NULL.
 */
int hablk_res_local(const struct hablk_res *r, const char *nodename,
		    const struct hablk_node **self,
		    const struct hablk_node **peer);

/*
 * "a.b.c.d:port" or "[ipv6]:port" (port 1..65535; no host names, no zone
 * ids) to a sockaddr_in/sockaddr_in6. Returns 0, or -1 (errno EINVAL).
 */
int hablk_addr_parse(const char *s, struct sockaddr_storage *ss,
		     socklen_t *len);
/*
 * The reverse, into buf (HABLK_ADDRSTRLEN is enough). Returns buf, or NULL
 * (errno EAFNOSUPPORT or ENOSPC) for another family or a short buffer.
 */
const char *hablk_addr_format(const struct sockaddr_storage *ss, socklen_t len,
			      char *buf, size_t buflen);
/*
 * Same family, address and port (IPv4 or IPv6; the IPv6 flow label and
 * scope id are not compared: the parser never sets them).
 */
bool hablk_addr_equal(const struct sockaddr_storage *a,
		      const struct sockaddr_storage *b);

#endif /* HABLK_CONFIG_H */
