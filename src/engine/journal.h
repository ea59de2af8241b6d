/*
 * journal.h - the rollback journal behind every writer: the original bytes
 * of what a change is about to overwrite, kept so that a write failing
 * half-way (a copy-on-write file system out of space, an I/O error) can
 * put the file back as it was.
 *
 * On a file system that can promise blocks before the write (ext4, tmpfs:
 * see mm_reserve_write) the journal is a safety net for I/O errors and
 * stays in memory; a change larger than MM_JOURNAL_MEM is not journalled
 * there.  On any other (btrfs and XFS copy on write, so does anything we
 * cannot identify) every overwritten byte may need a new block, so the
 * journal also holds a space reserve: an unnamed file beside the target
 * (on its file system), given as many blocks as the change will write.
 * It is released just before a rollback, so the rollback's own writes
 * find room.  Bytes past MM_JOURNAL_MEM go to a second unnamed file,
 * beside the target where it can be made, else in $TMPDIR.  Where no
 * reserve can be made beside the target (a directory we may not write),
 * the bytes are still kept, and a rollback may then find no room.
 */
#ifndef MM_JOURNAL_H
#define MM_JOURNAL_H

#include <stddef.h>
#include <stdint.h>

#include "mm.h"

/* Original bytes kept in memory; more spill to the unnamed file. */
#define MM_JOURNAL_MEM	((size_t)64 << 20)

struct mm_journal_rec {
	uint64_t	 off;		/* file offset of the saved bytes */
	uint64_t	 len;
	uint64_t	 at;		/* where they are: memory or spill */
	int		 spilled;
	const unsigned char *ref;	/* or the caller's copy */
};

struct mm_journal {
	struct mm_file		*f;
	int			 on;	/* 0: nothing is journalled */
	int			 cow;	/* overwrites may need blocks */
	int			 resfd;	/* the space reserve, or -1 */
	int			 spillfd; /* bytes past MM_JOURNAL_MEM, or -1 */
	char			*dir;	/* F's directory, NULL: unknown */
	uint64_t		 spill;	/* bytes spilled so far */
	struct mm_journal_rec	*rec;
	size_t			 nrec, cap;
	unsigned char		*mem;
	size_t			 memlen, memcap;
};

/*
 * Start journalling a change to F that will write at most RESERVE bytes
 * of it and keep at most KEEP of its old bytes.  On a copy-on-write file
 * system this reserves RESERVE bytes of space beside F: -ENOSPC when they
 * cannot be had, before anything changed.  Elsewhere a KEEP past
 * MM_JOURNAL_MEM turns the journal off (on == 0): the caller's blocks
 * were reserved, and only an I/O error could stop it half-way.
 */
int	mm_journal_begin(struct mm_journal *, struct mm_file *,
	    uint64_t reserve, uint64_t keep);

/* Keep LEN old bytes of [OFF, OFF+LEN) held by the caller at P, which
 * must live as long as the journal. */
int	mm_journal_ref(struct mm_journal *, uint64_t off,
	    const unsigned char *p, uint64_t len);

/* Release the space reserve now, for writes that put bytes back. */
void	mm_journal_release(struct mm_journal *);

/* Save the bytes now at [OFF, OFF+LEN) of the file, before they change. */
int	mm_journal_save(struct mm_journal *, uint64_t off, uint64_t len);

/*
 * Write every saved byte back, newest first (so where two saves overlap
 * the oldest bytes win), after releasing the reserve.  Bytes past the
 * file's present end (another process cut it) are left out: writing them
 * would grow the file, and the answer is -EIO.  The file size limit is
 * lifted to its hard value meanwhile (a rollback rewrites bytes the file
 * has).  0 when the file is as it was, or -errno.
 */
int	mm_journal_rollback(struct mm_journal *);

/* Drop the journal and its reserve; the change stands. */
void	mm_journal_end(struct mm_journal *);

#endif /* MM_JOURNAL_H */
