/*
 * resize.h - changing the size of a file: truncate's size grammar, and
 * growing or shrinking at the end or in the middle (--at) so that a
 * failure at any step leaves the file as it was.
 */
#ifndef MM_RESIZE_H
#define MM_RESIZE_H

#include "mm.h"

/* The size grammar of coreutils truncate: SIZE, +N, -N, <N, >N, /N, %N. */
enum mm_size_op {
	MM_SIZE_SET = '=',	/* N */
	MM_SIZE_GROW = '+',	/* grow by N */
	MM_SIZE_SHRINK = '-',	/* shrink by N, at most to 0 */
	MM_SIZE_ATMOST = '<',	/* at most N */
	MM_SIZE_ATLEAST = '>',	/* at least N */
	MM_SIZE_DOWN = '/',	/* round down to a multiple of N */
	MM_SIZE_UP = '%'	/* round up to a multiple of N */
};

struct mm_size_spec {
	enum mm_size_op	 op;
	uint64_t	 val;
};

/*
 * Parse a SIZE: an optional prefix, then a number as mm_parse_size reads
 * it.  -EINVAL for bad syntax, -ERANGE for a number above MM_OFF_MAX,
 * -EDOM for "/0" and "%0" (no multiple of 0).
 */
int	mm_size_spec_parse(const char *, struct mm_size_spec *);
/* The new size for a file of OLD bytes; -EFBIG past MM_OFF_MAX. */
int	mm_size_spec_apply(const struct mm_size_spec *, uint64_t old,
	    uint64_t *newsize);

#define MM_RESIZE_ALLOCATE	0x1	/* reserve blocks for new bytes */
#define MM_RESIZE_NO_FALLOCATE	0x2	/* never call fallocate(2) */

/* How a resize was (or would be) done. */
enum mm_resize_how {
	MM_HOW_NONE,		/* the size was already right */
	MM_HOW_END,		/* ftruncate at the end of the file */
	MM_HOW_RANGE,		/* fallocate insert/collapse range */
	MM_HOW_MOVE		/* the tail moved through the mapping */
};

struct mm_resize {
	/* In: what to do, from mm_resize_plan. */
	uint64_t		 old_size;
	uint64_t		 new_size;
	int			 at_given;
	uint64_t		 at;		/* where bytes go or come from */
	const unsigned char	*fill;		/* NULL: zero bytes */
	size_t			 fill_len;
	int			 flags;		/* MM_RESIZE_* */
	struct mm_progress	*progress;	/* may be NULL */
	/* Out. */
	enum mm_resize_how	 how;
	int			 damaged;	/* an I/O error mid-move */
};

/*
 * Check a resize of a file of OLD bytes to NEW, with bytes inserted or
 * removed at AT when AT_GIVEN, and fill R in.  -ERANGE when the range
 * [AT, AT+|NEW-OLD|) does not lie inside the file (an insert may start
 * at the end: that is an append).  Changes nothing.
 */
int	mm_resize_plan(uint64_t old, uint64_t newsize, int at_given,
	    uint64_t at, struct mm_resize *r);

/*
 * Do R on F (opened for writing, locked by the caller, signals held):
 * R->old_size must be F's size now.  New bytes are zero (sparse unless
 * ALLOCATE) or R->fill repeated from the first new byte.  Space is
 * reserved before the first byte changes, and a failure undoes what was
 * done, so an error (-ENOSPC, -EFBIG, ...) leaves F as it was; only an
 * I/O error in the middle of a tail move (-EIO with R->damaged set)
 * cannot be undone.  A change that writes up to a NEW past RLIMIT_FSIZE
 * (anything but a shrink at the end) is -EFBIG before it starts.
 * F->size is the new size on success.
 */
int	mm_resize_apply(struct mm_file *f, struct mm_resize *r);

/*
 * The bytes a slow resize works through, for a progress line: the tail
 * that moves, or the new bytes of a fill at the end.
 */
uint64_t mm_resize_work(const struct mm_resize *);

/* The file system block size that insert/collapse range need. */
uint64_t mm_resize_blocksize(const struct mm_file *);

#endif /* MM_RESIZE_H */
