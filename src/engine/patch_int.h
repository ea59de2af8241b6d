/*
 * patch_int.h - what the parts of the edit list share inside the engine:
 * patch.c (the list, the check, writing through a mapping), patch_rw.c
 * (the check and the writes by pread and pwrite), patch_parse.c (patch
 * scripts and offset lists) and patch_undo.c (the text of a batch: undo
 * scripts and dry-run reports).
 */
#ifndef MM_PATCH_INT_H
#define MM_PATCH_INT_H

#include <stddef.h>
#include <stdint.h>

#include "patch.h"

/* Edits closer than this share one mapping (more when the file is huge). */
#define MM_PATCH_WINDOW	((uint64_t)1 << 30)

/* Memory that lives as long as the patch: inputs and decoded bytes. */
struct mm_patch_blob {
	struct mm_patch_blob	*next;
	unsigned char		 data[];
};

/*
 * LEN bytes for one of the batch's arrays, freed with free(); large ones
 * aligned for huge pages.
 */
void	*mm_patch_alloc(size_t len);

/* Record why P failed in its err; returns RC. */
int	mm_patch_fail(struct mm_patch *, enum mm_patch_why, int rc,
	    size_t line, const char *tok);

/* The bytes a checked batch writes, in all. */
uint64_t mm_patch_bytes(const struct mm_patch *);

/* The bytes an edit reads or writes: what must lie apart from others. */
static inline uint64_t
mm_patch_span(const struct mm_edit *e, uint64_t size)
{
	uint64_t exp = e->expect == NULL ? 0 : e->explen;

	if (exp > size - e->off)
		exp = size - e->off;
	return e->total > exp ? e->total : exp;
}

/*
 * RESUME: does CUR, the file's bytes FROM to FROM+N of edit E's, hold in
 * each byte either the expected one or the new one?
 */
int	mm_patch_partly_done(const struct mm_edit *, const unsigned char *cur,
	    uint64_t from, size_t n);

/* DATA (LEN bytes) repeated up to TOTAL bytes at DST. */
void	mm_patch_fill(unsigned char *dst, const unsigned char *data,
	    size_t len, uint64_t total);

/* Fault [P, P+LEN) in for writing; -EFAULT when no block can be had. */
int	mm_patch_populate(unsigned char *p, size_t len);

/* A fault while touching the file: did it shrink, or is the disk full? */
int	mm_patch_fault_cause(struct mm_patch *, int rc);

/*
 * By pread and pwrite (patch_rw.c).  After the check has sorted the
 * edits: cut them into runs of adjacent ones; then choose the way to the
 * file (1: pread and pwrite, 0: a mapping); by pread, check the batch
 * as read_pass does through a mapping, and write it.
 */
int	mm_patch_make_runs(struct mm_patch *);
int	mm_patch_choose_write(struct mm_patch *);
int	mm_patch_rw_check(struct mm_patch *);
int	mm_patch_rw_apply(struct mm_patch *);

#endif /* MM_PATCH_INT_H */
