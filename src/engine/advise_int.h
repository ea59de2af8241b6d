/*
 * advise_int.h - what advise.c and resident.c share inside the engine.
 */
#ifndef MM_ADVISE_INT_H
#define MM_ADVISE_INT_H

#include <stddef.h>
#include <stdint.h>

#include "mm.h"

/*
 * remove zeroes [OFF, OFF+LEN) exactly.  Where only whole units of ALIGN
 * bytes can be punched (a block device discards whole sectors), the
 * range is cut in three: the partial unit at the start (HEAD) and the one
 * at the end (TAIL) are written with zeros, the whole units between them
 * (PUNCH) are punched.  A range that ends at the end of the file punches
 * up to there (the size of a device is whole sectors).  A range inside
 * one unit is all HEAD.  Any part may be empty (length 0).
 */
struct mm_adv_hole {
	uint64_t	head, headlen;
	uint64_t	punch, punchlen;
	uint64_t	tail, taillen;
};

/* The parts of [OFF, OFF+LEN), inside a file of SIZE bytes. */
void	mm_adv_hole_plan(uint64_t size, uint64_t off, uint64_t len,
	    uint64_t align, struct mm_adv_hole *);

/*
 * Punch, then zero the ends: a file system or device that cannot punch
 * fails before any byte changed.  F is open for writing.
 */
int	mm_adv_hole_apply(const struct mm_file *, const struct mm_adv_hole *);

/*
 * Zero [OFF, OFF+LEN) of F exactly, as fallocate --punch-hole does: the
 * blocks wholly inside are freed, partial ones zeroed, the size stays.
 * -ERANGE outside the file; -EOPNOTSUPP where the file system cannot
 * punch holes, with nothing changed.
 */
int	mm_adv_remove(const struct mm_file *, uint64_t off, uint64_t len);

/* Read [P, P+LEN) of a mapping in and map it, waiting for the reads. */
int	mm_adv_populate(unsigned char *p, size_t len);

#endif /* MM_ADVISE_INT_H */
