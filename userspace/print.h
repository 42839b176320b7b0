/* SPDX-License-Identifier: GPL-2.0 */
/* print.h - one call per field prints its text form or its JSON form, as iproute2's
 * json_print does: hablkadm status and events, and hablkd's RES.json. */
#ifndef HABLK_PRINT_H
#define HABLK_PRINT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* Which forms a call prints in. */
enum hablk_pr_to {
	HABLK_PR_ANY,		/* both: fmt in text mode, the member in JSON mode */
	HABLK_PR_TEXT,		/* text mode only (a label, a field shown another way) */
	HABLK_PR_JSON,		/* JSON mode only */
};

/*
 * A printer, in text or JSON mode. In JSON mode the calls build values:
 * objects and arrays nest (at most 31 deep), commas go between members,
 * strings are escaped and are valid JSON whatever bytes they hold (what is
 * not UTF-8 becomes U+FFFD). A top-level value ends with hablk_pr_end(). In
 * text mode only the fmt of the calls is printed, with the value as is.
 */
struct hablk_pr {
	FILE *f;
	bool json;
	unsigned int depth;	/* objects and arrays open */
	uint32_t more;		/* bit per depth: it has a member already */
};

void hablk_pr_init(struct hablk_pr *p, FILE *f, bool json);

/*
 * JSON mode only: open or close an object or array; the member called key,
 * or (key NULL) an element of an array or a top-level value.
 */
void hablk_pr_open_object(struct hablk_pr *p, const char *key);
void hablk_pr_close_object(struct hablk_pr *p);
void hablk_pr_open_array(struct hablk_pr *p, const char *key);
void hablk_pr_close_array(struct hablk_pr *p);

/*
 * A field. Text mode (to ANY or TEXT): fmt with the value, nothing if fmt is
 * NULL. JSON mode (to ANY or JSON): "key":value (the value alone if key is
 * NULL). fmt takes a string as %s, unsigned int as %u, int as %d, uint64_t as
 * %llu, bool as %s ("true" or "false").
 */
void hablk_pr_string(struct hablk_pr *p, enum hablk_pr_to to, const char *key,
		     const char *fmt, const char *v);
void hablk_pr_uint(struct hablk_pr *p, enum hablk_pr_to to, const char *key,
		   const char *fmt, unsigned int v);
void hablk_pr_int(struct hablk_pr *p, enum hablk_pr_to to, const char *key,
		  const char *fmt, int v);
void hablk_pr_u64(struct hablk_pr *p, enum hablk_pr_to to, const char *key,
		  const char *fmt, uint64_t v);
void hablk_pr_bool(struct hablk_pr *p, enum hablk_pr_to to, const char *key,
		   const char *fmt, bool v);
/*
 * A number with decimals digits after the point, the same digits in both
 * forms: fmt takes it as %s. JSON null if it is not finite.
 */
void hablk_pr_float(struct hablk_pr *p, enum hablk_pr_to to, const char *key,
		    const char *fmt, int decimals, double v);
/* JSON mode only: "key":null. */
void hablk_pr_null(struct hablk_pr *p, const char *key);

/* Text mode only: labels, separators and line ends around the fields. */
void hablk_pr_text(struct hablk_pr *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* The end of a top-level value: a newline in JSON mode, nothing in text mode. */
void hablk_pr_end(struct hablk_pr *p);

#endif /* HABLK_PRINT_H */
