/*
 * findpool.h - mmfind's several files searched at once, on worker
 * threads, their output printed in command-line order.
 */
#ifndef FINDPOOL_H
#define FINDPOOL_H

#include <stddef.h>

#include "engine/match.h"

struct opts;

/* Search one file; 0 no match, 1 match, 2 error, 3 stop everything. */
typedef int (*find_file_fn)(const struct opts *, struct mm_matcher *,
    const char *path, int show);

/* A run of held bytes bound for one descriptor. */
struct seg {
	int		 fd;		/* 1 standard output, 2 a message */
	size_t		 len;
};

struct job {
	const char	*path;
	int		 after;		/* an earlier job on the same stream */
	int		 done;
	int		 r;		/* find_file's answer */
	unsigned char	*buf;		/* held output */
	size_t		 len, cap;
	struct seg	*segs;
	size_t		 nsegs, segcap;
};

/*
 * Search the N files of OPS with FN on NTHREADS workers (each with its
 * own clone of the regex RE).  Returns the index of the last job that
 * counts, with each job's answer in JOBS; or -1 when no worker could
 * start (nothing searched).  *DETACHED says workers
 * still search files past the last that counts (-q matched, or output
 * failed): they end with the process, so nothing they use may be freed.
 * REGULAR[i] (REGULAR may be NULL) says a walk found ops[i] a regular
 * file: no stream, and no stat needed to tell.
 */
int	find_parallel(find_file_fn fn, const struct opts *o,
	    const struct mm_matcher *re, const char **ops,
	    const unsigned char *regular, int n, int show, int nthreads,
	    struct job **jobsp, int *detached);
/* Free the N jobs and what they still hold. */
void	find_jobs_free(struct job *jobs, int n);

#endif /* FINDPOOL_H */
