/*
 * advise.h - madvise over a file, page-cache residency (mincore), and
 * the advices that outlive the process: prefetch and evict.
 *
 * Like the rest of the engine, nothing here prints or exits: every
 * function returns 0 or -errno.
 */
#ifndef MM_ADVISE_H
#define MM_ADVISE_H

#include <stdint.h>

#include "mm.h"

/* What an advice needs and does (struct mm_advice.flags). */
#define MM_ADV_WRITE	0x01	/* needs a writable mapping: opens O_RDWR */
#define MM_ADV_MAPPED	0x02	/* acts on pages mapped here: map the resident */
#define MM_ADV_EVICT	0x04	/* no madvise: msync, then fadvise DONTNEED */
#define MM_ADV_FETCH	0x08	/* reads the range into the page cache */
#define MM_ADV_LASTING	0x10	/* the page cache keeps the effect after exit */
#define MM_ADV_DATA	0x20	/* changes the file's content */

struct mm_advice {
	const char	*name;		/* "populate-read" */
	int		 advice;	/* MADV_ value; -1: not in this build */
	int		 flags;
	const char	*help;		/* one line */
};

/* The table, in the order of the MADV_ values; *COUNT entries. */
const struct mm_advice *mm_advice_table(size_t *count);

/*
 * The advice called NAME: lower or upper case, with or without "MADV_",
 * '_' or '-' between words.  NULL if no advice has that name.
 */
const struct mm_advice *mm_advice_find(const char *name);

/*
 * Give advice A for [OFF, OFF+LEN) of F, widened to whole pages, one
 * window of the file at a time (so a huge file needs no huge address
 * range).  F is open for writing when A has MM_ADV_WRITE.  The range must
 * lie inside the file (-ERANGE).  -ENOTSUP if this build lacks the
 * advice; the kernel's -EINVAL when it rejects it; -EINTR when a held
 * signal (mm_signals_hold) stopped the work between windows.  PROGRESS
 * (may be NULL) counts bytes done.
 *
 * An advice with MM_ADV_DATA (remove) is never widened: it zeroes exactly
 * [OFF, OFF+LEN) in one step, as fallocate --punch-hole does, and keeps
 * the size; -EOPNOTSUPP, with nothing changed, where the file system
 * cannot punch holes (Linux's -ENOTSUP too: an advice this build lacks
 * has advice < 0).
 */
int	mm_advise(struct mm_file *, const struct mm_advice *, uint64_t off,
	    uint64_t len, struct mm_progress *);

/*
 * Page-cache residency of [OFF, OFF+LEN) of F, from mincore over a
 * read-only mapping that is never touched (so nothing is read in, sparse
 * files stay sparse).  Pages count every page the range overlaps; bytes
 * stop at the end of the file.
 */
struct mm_residency {
	uint64_t	pages;
	uint64_t	resident_pages;
	uint64_t	bytes;
	uint64_t	resident_bytes;
};

/*
 * FN(ARG, OFF, LEN, RESIDENT) is called for each maximal run of pages in
 * one state, in file order, in bytes (page aligned, the last one cut at
 * the end of the file); a non-zero return stops the walk and is
 * returned.  FN may be NULL.
 */
typedef int	(*mm_run_fn)(void *arg, uint64_t off, uint64_t len,
		    int resident);

int	mm_residency(const struct mm_file *, uint64_t off, uint64_t len,
	    mm_run_fn fn, void *arg, struct mm_residency *);

/*
 * Linux (5.2 and later) tells the page-cache residency of a file only to
 * its owner, a privileged process, or one that may write the file;
 * mincore says "all resident" to anyone else.  0 when the answer can be
 * trusted, -EACCES when it cannot.
 */
int	mm_residency_visible(const struct mm_file *);

/*
 * Make [OFF, OFF+LEN) of F resident and return only when mincore says it
 * all is, or -ETIMEDOUT after TIMEOUT seconds (0: no limit).  Pages still
 * missing are read in with MADV_POPULATE_READ (or one touch per page), so
 * pages evicted meanwhile are fetched again.  -ENOMEM when pass after
 * pass ends no better (the range does not fit in memory).  -EINTR when a
 * held signal stopped it.  *RES is the last count.
 */
int	mm_fetch_wait(struct mm_file *, uint64_t off, uint64_t len,
	    double timeout, struct mm_progress *, struct mm_residency *res);

#endif /* MM_ADVISE_H */
