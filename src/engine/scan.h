/*
 * scan.h - find, rfind and find-all over a whole file: one matcher
 * (match.h: a literal, a set of literals or a regex) run over a mapped
 * window, a stream, or a mapped window split between threads, with the
 * matches handed back in file order (or from the end backwards).
 */
#ifndef MM_SCAN_H
#define MM_SCAN_H

#include <stddef.h>
#include <stdint.h>

#include "match.h"
#include "mm.h"

#define MM_SCAN_ALL	0x1	/* every match, not just the first */
#define MM_SCAN_OVERLAP	0x2	/* with ALL: matches may overlap */
#define MM_SCAN_REVERSE	0x4	/* from the end backwards (rfind) */

/*
 * Called once per match, in order; a non-zero return stops the scan and
 * is returned by mm_scan.
 */
typedef int (*mm_emit_fn)(void *ctx, uint64_t off, size_t len);
/*
 * N matches of LEN bytes at OFF, OFF + STEP, OFF + 2 * STEP... (STEP is
 * negative from the end backwards), as N emits would say them: how a
 * hole of a sparse file answers a pattern of zeros without being read.
 */
typedef int (*mm_emit_run_fn)(void *ctx, uint64_t off, int64_t step,
    uint64_t n, size_t len);

/*
 * Where the bytes of the match being emitted are, for callers that want
 * them (-o): HAY holds the file's bytes [BASE, BASE + LEN) while the emit
 * runs; HAY is NULL when they are not in memory, and ZEROS then says the
 * match lies in a hole, all zeros.
 */
struct mm_scan_view {
	const unsigned char	*hay;
	uint64_t		 base;
	uint64_t		 len;
	int			 zeros;
};

struct mm_scan {
	/* The literals to find (compiled per file against its bytes)... */
	const struct mm_bytes	*pats;
	size_t			 npats;
	int			 mflags;	/* MM_MATCHER_ICASE */
	/* ...or a compiled regex matcher. */
	struct mm_matcher	*re;
	struct mm_matcher	*m;		/* set by mm_scan_file */
	int			 flags;
	/*
	 * 1: this thread only; 0: a reader thread may read ahead; >1 also
	 * splits a mapped file between that many threads.
	 */
	int			 threads;
	enum mm_io		 io;		/* how bytes reach the matcher */
	/*
	 * Streams only: START (SNEG) or END (ENEG) counts from the end, as
	 * a Python slice index; what is kept is bounded by that count.
	 */
	int			 sneg, eneg;
	struct mm_progress	*progress;	/* may be NULL */
	mm_emit_fn		 emit;
	mm_emit_run_fn		 emit_run;	/* may be NULL: emit each */
	void			*ctx;
	struct mm_scan_view	*view;		/* may be NULL */
};

/*
 * Scan [START, END) of F (a mapped file, a memory file or a stream read
 * front to back) as Python's find/rfind would, calling emit per match.
 * On a stream, a negative START keeps its last |START| bytes, a negative
 * END holds |END| bytes back; only successive rfind (-r -a) reads a
 * stream whole into memory.
 * Mapped files are scanned under the SIGBUS guard: -EIO when the file
 * shrinks.  Returns 0, the emit's non-zero value, or -errno.
 */
int	mm_scan_file(const struct mm_scan *, struct mm_file *, uint64_t start,
	    uint64_t end);

/*
 * The last MAG bytes of a stream, as tail -c keeps them: a ring that
 * grows with the input up to MAG bytes, then wraps, so an endless stream
 * costs MAG bytes.  TOTAL is the stream's size; the bytes in order are
 * ring[head..len) then ring[0..head).  0 or -errno.
 */
struct mm_tail {
	unsigned char	*ring;
	size_t		 len;
	size_t		 head;
	uint64_t	 total;
};

int	mm_tail_read(struct mm_file *, uint64_t mag, struct mm_tail *);
void	mm_tail_free(struct mm_tail *);

#endif /* MM_SCAN_H */
