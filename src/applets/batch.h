/*
 * batch.h - applying a checked batch of edits (engine/patch.h) the way
 * mmpatch does: under the lock with signals held, every range and
 * expectation checked before the first write, an undo script saved
 * first, a dry run reported as "OFFSET: OLDHEX -> NEWHEX".  Shared by
 * mmpatch and mmfind --replace, so both write alike and say alike.
 */
#ifndef BATCH_H
#define BATCH_H

#include <stdio.h>

#include "engine/patch.h"

struct batch {
	const char	*path;		/* the file, for messages */
	const char	*src;		/* where the edits were read ("fix.patch",
					   "standard input"); NULL: the
					   command line */
	const char	*undo;		/* --undo=FILE, or NULL */
	const char	*prefix;	/* before each reported edit: "FILE:"
					   or "" */
	int		 dry_run;	/* report, change nothing */
	int		 verbose;	/* report each edit on standard error */
	int		 quiet;		/* a dry run reports nothing */
};

/*
 * Check P's edits against F (opened by app_change_open, dry run or not
 * as B says), then report them (dry run) or save the undo script and
 * write them.  Holds signals from the check on unless it is a dry run.
 * Returns the exit status, after a message: EXIT_NO when an expectation
 * did not hold, 128 + the signal that arrived meanwhile.  Neither F
 * nor P is released.
 */
int	batch_run(const struct batch *b, struct mm_file *f,
	    struct mm_patch *p);

/* Word the error of a patch parse (P's err) whose edits came from B. */
int	batch_parse_message(const struct mm_patch *p, const struct batch *b);

/*
 * Print "PREFIXOFFSET: OLDHEX -> NEWHEX" per edit of a checked batch
 * kept with MM_PATCH_KEEP_OLD, to standard output (checked) or FP.
 * 0 or -errno.
 */
int	batch_report(const struct mm_patch *p, const char *prefix, FILE *fp);

#endif /* BATCH_H */
