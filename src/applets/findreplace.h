/*
 * findreplace.h - mmfind --replace: every match of a file replaced in
 * place by bytes of the same length, as one mmpatch batch (batch.h);
 * and what it shares with mmfind's search, defined in find.c: the
 * range searched, the words of a regex that failed.
 */
#ifndef FINDREPLACE_H
#define FINDREPLACE_H

#include <stddef.h>
#include <stdint.h>

#include "engine/scan.h"

/* -s, -E: parsed once, before any file. */
struct find_span {
	char		*start, *end;	/* as given; NULL: not given */
	uint64_t	 sv, ev;	/* parsed */
	int		 sneg, eneg;	/* ...counted from the end */
};

/*
 * [*START, *END) of S in a file of SIZE bytes, the rule of every search
 * of mmfind, as Python slices: a negative offset counts from the end,
 * and is 0 before its start; END stops at SIZE; START may pass END, and
 * then nothing is searched.
 */
void	find_span_at(const struct find_span *s, uint64_t size,
	    uint64_t *start, uint64_t *end);

/*
 * A scan of PATH with the regex RE (NULL: none) failed with RC: if it is
 * PCRE2's -E2BIG (a match limit, an error at run time), say so, TAIL
 * after the message ("" or "; nothing written"), and return EXIT_FAIL;
 * else 0.
 */
int	find_regex_failed(const char *path, const struct mm_matcher *re,
	    int rc, const char *tail);

struct replace {
	/* What to find, as mmfind's options say it. */
	const struct mm_bytes	*pats;
	size_t			 npats;
	int			 icase;
	struct mm_matcher	*re;		/* or NULL: the literals */
	const struct find_span	*span;		/* -s, -E */
	uint64_t		 maxcount;	/* UINT64_MAX: no limit */
	enum mm_io		 io;
	/* What to write, and how. */
	const char		*text, *hex;	/* --replace, --replace-hex */
	struct mm_bytes		 with;		/* the bytes (find_replace_check) */
	const char		*undo;		/* and app_opts: --dry-run,
						   --sync, --no-lock */
	/* What to say. */
	int			 count, files_with, quiet;
	/* Options that cannot go with a replacement. */
	int			 reverse, overlap;
};

/*
 * Before any file: the replacement's bytes into R's with, and the
 * options checked together (a literal pattern of another length than
 * the replacement is a usage error).  0, or EXIT_FAIL after a message.
 */
int	find_replace_check(struct replace *r);

/*
 * Replace in the N files OPS, one batch per file, in order, prefixing
 * reports with "FILE:" when SHOW.  A file that fails is reported and
 * left as it was; the others go on.  Returns the exit status: 0 if
 * any file changed (or would, with --dry-run), 1 if nothing matched,
 * 2 if any file failed, 128 + a signal that stopped it all.
 */
int	find_replace_files(const struct replace *r, const char *const *ops,
	    int n, int show);

/* Free what find_replace_check made. */
void	find_replace_free(struct replace *r);

#endif /* FINDREPLACE_H */
