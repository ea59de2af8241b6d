/*
 * patch.h - the edit list behind mmpatch: parse edits (a patch script, or
 * offsets in mmfind -a format), check the whole batch against a file
 * (every range in bounds, no overlap, every expectation met), then write
 * it all, or write nothing.
 *
 * Like the rest of the engine this never prints: failures return -errno
 * and leave their details in struct mm_patch_error for the applet to word.
 */
#ifndef MM_PATCH_H
#define MM_PATCH_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

#include "mm.h"

/* One write: DATA, REPEAT times, at OFF, if the bytes there are EXPECT. */
struct mm_edit {
	uint64_t		 mag;		/* the offset as given ... */
	int			 neg;		/* ... counted from the end */
	uint64_t		 off;		/* resolved by mm_patch_check */
	const unsigned char	*data;
	size_t			 len;
	uint64_t		 repeat;
	const unsigned char	*expect;	/* NULL: unconditional */
	size_t			 explen;
	unsigned char		*old;		/* MM_PATCH_KEEP_OLD: the bytes
						   that were there */
	const char		*tok;		/* the offset as given */
	size_t			 line;		/* input line (from 1) */
	uint64_t		 total;		/* len * repeat */
};

enum mm_patch_why {
	MM_PATCH_OK,
	MM_PATCH_SYNTAX,	/* line: not OFFSET NEWHEX [OLDHEX] */
	MM_PATCH_BAD_OFFSET,	/* tok: rc -EINVAL syntax, -ERANGE too big */
	MM_PATCH_BAD_HEX,	/* tok; pos: the offending character */
	MM_PATCH_OTHER_FILE,	/* tok: a FILE: prefix naming another file */
	MM_PATCH_TOO_MANY,	/* the repeat count overflows */
	MM_PATCH_EXPECT_LEN,	/* explen, total: EXPECT is not as long as
				   the data written */
	MM_PATCH_BEFORE_START,	/* edit: a negative offset before byte 0 */
	MM_PATCH_PAST_END,	/* edit: the offset is past the end */
	MM_PATCH_TOO_LONG,	/* edit: the data would pass the end */
	MM_PATCH_OVERLAP,	/* edit and other: their bytes overlap */
	MM_PATCH_MISMATCH,	/* edit: the bytes there are not EXPECT */
	MM_PATCH_IO		/* rc: mapping or touching the file failed */
};

struct mm_patch_error {
	enum mm_patch_why	 why;
	int			 rc;
	size_t			 line;		/* input line, 0: none */
	const char		*tok;		/* the offending token */
	size_t			 pos;		/* BAD_HEX: index in tok */
	size_t			 edit;		/* index of the failing edit */
	size_t			 other;		/* OVERLAP: the earlier edit */
	unsigned char		 found[32];	/* MISMATCH: what is there */
	size_t			 foundlen;
	size_t			 explen;	/* EXPECT_LEN: the lengths */
	uint64_t		 total;
};

struct mm_patch_win;
struct mm_patch_blob;
struct mm_patch_run;

struct mm_patch {
	struct mm_edit		*e;
	size_t			 n, cap;
	struct mm_patch_error	 err;
	int			 flags;
	struct mm_patch_blob	*blobs;		/* inputs, decoded bytes */
	unsigned char		*oldpool;	/* KEEP_OLD */
	unsigned char		*jpool;		/* the bytes now there, in
						   file order, for a rollback */
	size_t			*order;		/* edits sorted by offset */
	struct mm_patch_win	*win;		/* mapped windows */
	size_t			 nwin;
	struct mm_file		*f;
	enum mm_io		 io;		/* asked: AUTO, MAP, READ */
	int			 by_write;	/* chosen: pread/pwrite */
	struct mm_patch_run	*runs;		/* by_write: one pwrite each */
	size_t			 nruns;
	unsigned char		*buf;		/* by_write: bounce buffer */
};

#define MM_PATCH_KEEP_OLD	0x1	/* save the old bytes (undo, reports) */
#define MM_PATCH_SYNC		0x2	/* flush the written ranges (mm_flush) */
#define MM_PATCH_RESUME		0x4	/* an expectation also holds where
					   bytes are already the new ones */

void	mm_patch_init(struct mm_patch *, int flags);
/* Unmap, free every edit and buffer; the struct may be initialised again. */
void	mm_patch_free(struct mm_patch *);

/*
 * Append one edit (copied; its pointers must outlive the patch).  An
 * expectation must be exactly as long as the data written (LEN * REPEAT):
 * -EINVAL (MM_PATCH_EXPECT_LEN) otherwise, since bytes written but not
 * expected would be overwritten unchecked.
 */
int	mm_patch_add(struct mm_patch *, const struct mm_edit *);

/*
 * Offsets, one per line, in mmfind -a format: decimal or 0x, optionally
 * negative, optionally after "FILE:" when FILE is exactly the name given.
 * Blank lines are skipped.  Each offset becomes a copy of TEMPLATE.
 */
int	mm_patch_parse_offsets(struct mm_patch *, const unsigned char *text,
	    size_t len, const char *file, const struct mm_edit *template);
/*
 * A patch script: lines "OFFSET NEWHEX [OLDHEX]", '#' starts a comment,
 * blank lines are skipped.  OLDHEX, when given, is the expectation, and
 * as long as NEWHEX.
 */
int	mm_patch_parse_script(struct mm_patch *, const unsigned char *text,
	    size_t len);

/*
 * How a batch reaches the file: set P's io before mm_patch_check.
 * MM_IO_MAP maps the pages the edits touch and writes through the
 * mapping; MM_IO_READ reads with pread and writes each run of adjacent
 * edits with one pwrite; MM_IO_AUTO (the default) takes whichever costs
 * this batch less: a mapping pays a page fault for each page it touches
 * first, pwrite a system call for each run.  The result is the same.
 */

/*
 * Check the whole batch against F (opened MM_ACCESS_WRITE or COPY, locked
 * by the caller): resolve the offsets, require every edit inside the file,
 * refuse edits whose bytes (written or expected) overlap, compare every
 * expectation, and with KEEP_OLD save the current bytes.  With RESUME
 * an expectation holds too where each byte is either the expected or
 * the new one (a batch cut short by a kill or a power cut), and the old
 * bytes kept are the expected ones.  Nothing is
 * written.  -ERANGE (a range), -ECANCELED (an expectation), or -errno;
 * the details are in the patch's err.  The touched pages stay mapped for
 * mm_patch_apply.
 */
int	mm_patch_check(struct mm_patch *, struct mm_file *);

/*
 * Write a checked batch.  The touched pages are faulted in for writing
 * first, so a full disk under a sparse file is -ENOSPC before the first
 * byte changes (by pwrite: the runs into holes are written first, and a
 * full disk there puts back what they wrote).  A write that fails
 * half-way is put back from the journal.  A file that shrinks meanwhile
 * gives -EIO.  The caller holds the lock and the signals.
 */
int	mm_patch_apply(struct mm_patch *);

/*
 * Where the text of a batch goes: OUT(ARG, BYTES, LEN) takes LEN bytes
 * and returns 0, or -errno, which ends the text.
 */
typedef int (*mm_patch_out)(void *arg, const void *, size_t);

/*
 * The text of a checked batch (with KEEP_OLD), one line for each edit
 * that writes bytes, in the order given, handed to OUT in pieces of at
 * most 64 KiB.  The undo script: "OFFSET OLDHEX NEWHEX" lines, which
 * restore the old bytes only where the new ones are still there, after
 * "# COMMENT" if COMMENT is not NULL.  The report of a dry run: lines
 * "PREFIXOFFSET: OLDHEX -> NEWHEX".  0, -EINVAL without KEEP_OLD, or
 * -errno (OUT's, or -ENOMEM).
 */
int	mm_patch_undo_text(const struct mm_patch *, const char *comment,
	    mm_patch_out out, void *arg);
int	mm_patch_report(const struct mm_patch *, const char *prefix,
	    mm_patch_out out, void *arg);

/* An undo script saved: enough to remove it again, and only it. */
struct mm_undo {
	int		 dirfd;		/* its directory; -1: none */
	char		*name;		/* its name in that directory */
	dev_t		 dev;
	ino_t		 ino;
};

/*
 * Save, durably, the undo script of the checked batch (see
 * mm_patch_undo_text) in PATH, a file created new (O_EXCL, never
 * through a symbolic link, mode 0600): -EEXIST if it is there already,
 * -EINVAL if it is the patched file itself.  Needs KEEP_OLD.  The script
 * is complete and synced (the file and its directory) on success; on
 * failure nothing of it is left.  U says where it is, for
 * mm_undo_remove; release it with mm_undo_close.  (An undo script to
 * standard output is the front end's: mm_patch_undo_text.)
 */
int	mm_patch_save_undo(const struct mm_patch *, const char *path,
	    const char *comment, struct mm_undo *u);
/* Remove the undo script U saved, if it is still that file; sync. */
int	mm_undo_remove(struct mm_undo *u);
/* Forget U, keeping its file. */
void	mm_undo_close(struct mm_undo *u);

/*
 * After a failed mm_patch_apply: 1 if every byte the checked batch
 * (with KEEP_OLD) was to write still holds its old value, as read from
 * the file, 0 if not (or the file shrank), -errno if it cannot be read.
 */
int	mm_patch_unchanged(const struct mm_patch *);

#endif /* MM_PATCH_H */
