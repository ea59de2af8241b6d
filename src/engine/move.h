/*
 * move.h - moving bytes inside a file (Python's mmap.move), journalled so
 * that a failure puts the destination back.
 */
#ifndef MM_MOVE_H
#define MM_MOVE_H

#include "mm.h"

/*
 * Move COUNT bytes from SRC to DEST inside F (opened for writing or copy),
 * with memmove semantics, in chunks, updating PROGRESS (may be NULL).
 * Both ranges must lie inside the file (-ERANGE).  The destination is
 * faulted in for writing first, so a full disk under a sparse file is
 * -ENOSPC before anything changes, a file cut meanwhile -EIO, and a
 * destination past RLIMIT_FSIZE -EFBIG (mm_fsize_check).  The caller
 * locks the file and holds signals.
 */
int	mm_move(struct mm_file *, uint64_t dest, uint64_t src, uint64_t count,
	    struct mm_progress *);
/*
 * mm_move without a journal or a space reserve of its own: for undoing a
 * move whose caller released its reserve for this (mmresize --at).  A
 * failure after the first byte is -EIO.
 */
int	mm_move_unjournalled(struct mm_file *, uint64_t dest, uint64_t src,
	    uint64_t count, struct mm_progress *);

#endif /* MM_MOVE_H */
