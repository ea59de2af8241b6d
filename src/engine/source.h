/*
 * source.h - the bytes of a range of a file, in order, the cheapest way
 * this file allows: windows of a mapping, pread() into reused buffers
 * (filled ahead by a reader thread when a core is free), or read() of a
 * stream.  Holes of sparse files are found with SEEK_DATA/SEEK_HOLE and
 * never read: given as zeros from memory, or as pieces without bytes.
 */
#ifndef MM_SOURCE_H
#define MM_SOURCE_H

#include <stddef.h>
#include <stdint.h>

#include "mm.h"

/*
 * One piece of the range: LEN bytes at file offset OFF.  DATA NULL says
 * the piece is a hole (LEN zero bytes, not read), given only with
 * MM_SOURCE_HOLES.  The bytes stay valid until the next call; mapped
 * ones are read under mm_guard.
 */
struct mm_piece {
	const unsigned char	*data;
	uint64_t		 off;
	uint64_t		 len;
};

#define MM_SOURCE_HOLES		0x1	/* holes as pieces without bytes */
#define MM_SOURCE_REVERSE	0x2	/* from the end backwards */
#define MM_SOURCE_THREAD	0x4	/* a reader thread may fill ahead */

struct mm_source;

/*
 * [START, END) of F, with IO (MM_IO_AUTO: by probing the file).  A
 * stream is read forward from its current position, skipping to START;
 * END may be UINT64_MAX (its end).  0 or -errno.
 */
int	mm_source_open(struct mm_source **, struct mm_file *, enum mm_io io,
	    uint64_t start, uint64_t end, int flags);
/* 1 and the next piece, 0 at the end, or -errno. */
int	mm_source_next(struct mm_source *, struct mm_piece *);
/* How the bytes are read: MM_IO_MAP or MM_IO_READ. */
enum mm_io mm_source_io(const struct mm_source *);
/* Streams: bytes read so far (from the stream's start), and its end. */
uint64_t mm_source_consumed(const struct mm_source *);
int	mm_source_eof(const struct mm_source *);
void	mm_source_close(struct mm_source *);

/*
 * Which way F's bytes from START are cheaper, found by timing a window of
 * each (small files are read; files with holes in [START, END) too).
 */
enum mm_io mm_io_choose(struct mm_file *, uint64_t start, uint64_t end);
/* Does [START, END) of F hold a hole?  (SEEK_HOLE; 0 where unknown.) */
int	mm_has_holes(const struct mm_file *, uint64_t start, uint64_t end);

/*
 * Bytes per piece read forwards (backwards: four times as many), and the
 * shortest hole given without bytes.  Tests make them tiny, so that
 * every seam between pieces is crossed on small inputs.
 */
extern size_t	mm_source_piece;
extern uint64_t	mm_source_min_hole;

#endif /* MM_SOURCE_H */
