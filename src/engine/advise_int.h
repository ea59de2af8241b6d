/*
 * advise_int.h - what advise.c and resident.c share inside the engine.
 */
#ifndef MM_ADVISE_INT_H
#define MM_ADVISE_INT_H

#include <stddef.h>
#include <stdint.h>

#include "mm.h"

/*
 * Files are mapped one window at a time, so a huge file needs no huge
 * address range; work inside a window goes in chunks, between which
 * progress is drawn and held signals are looked at.
 */
#define MM_ADV_WINDOW	(sizeof(void *) < 8 ? (size_t)64 << 20 : \
			    (size_t)1 << 30)
#define MM_ADV_CHUNK	((size_t)64 << 20)

/*
 * [*LO, *HI): [OFF, OFF+LEN) widened to whole pages and cut at the end of
 * F.  -ERANGE if the range does not lie inside the file.
 */
int	mm_adv_range(const struct mm_file *, uint64_t off, uint64_t len,
	    uint64_t *lo, uint64_t *hi);

/* Read [P, P+LEN) of a mapping in and map it, waiting for the reads. */
int	mm_adv_populate(unsigned char *p, size_t len);

#endif /* MM_ADVISE_INT_H */
