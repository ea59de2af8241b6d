/*
 * scan_int.h - what the parts of mm_scan_file share inside the engine:
 * scan.c chooses how a file is scanned; scan_window.c scans a window of
 * memory, scan_threads.c splits one between threads, scan_pieces.c runs
 * literals over the pieces of a file or a stream, scan_stream.c a regex
 * over a stream and rfind of a stream.
 */
#ifndef MM_SCAN_INT_H
#define MM_SCAN_INT_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "match.h"
#include "mm.h"
#include "scan.h"
#include "source.h"

/* Blocks for progress, readahead advice and thread work. */
#define BLOCK		((uint64_t)16 << 20)

/* Growing list of matches, for orders the matcher cannot give directly. */
struct hits {
	uint64_t	*off;
	size_t		*len;
	size_t		 n, cap;
	int		 full;
};

/* What is being scanned: a window of memory at a file offset. */
struct win {
	const struct mm_scan	*sc;
	const unsigned char	*hay;
	uint64_t		 base;	/* file offset of hay[0] */
	uint64_t		 len;
	uint64_t		 next;	/* relative: no match may start before */
	int			 stop;	/* the emit's non-zero return */
	/*
	 * reverse_collect's list: it grows under the SIGBUS guard, which
	 * may leave by longjmp, so its owner frees it after the guard.
	 */
	struct hits		 rh;
	uint64_t		*ck;	/* reverse_collect's checkpoints */
};

#define STOPPED	1		/* scan_* return: emit said stop, or first found */

static inline uint64_t
min64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

/* How far past LIMIT a literal match starting before LIMIT may reach. */
static inline uint64_t
search_end(const struct win *w, uint64_t limit)
{
	const struct mm_matcher *m = w->sc->m;

	if (m->re != NULL || m->maxlen > w->len)
		return w->len;
	return min64(w->len, limit + (m->maxlen ? m->maxlen - 1 : 0));
}

static inline uint64_t
step(const struct win *w, size_t mlen)
{
	if (w->sc->flags & MM_SCAN_OVERLAP)
		return 1;
	return mlen ? mlen : 1;
}

/* Tell the caller where the match's bytes are, if it asked. */
static inline void
set_view(const struct mm_scan *sc, const unsigned char *hay, uint64_t base,
    uint64_t len, int zeros)
{
	if (sc->view != NULL) {
		sc->view->hay = hay;
		sc->view->base = base;
		sc->view->len = len;
		sc->view->zeros = zeros;
	}
}

static inline int
emit(struct win *w, uint64_t off, size_t mlen)
{
	int rc;

	set_view(w->sc, w->hay, w->base, w->len, 0);
	rc = w->sc->emit(w->sc->ctx, w->base + off, mlen);

	if (rc != 0) {
		w->stop = rc;
		return STOPPED;
	}
	return (w->sc->flags & MM_SCAN_ALL) ? 0 : STOPPED;
}

/* Does the literal find-all kernel serve this scan? */
static inline int
literal_all(const struct win *w)
{
	return w->sc->m->needle != NULL && (w->sc->flags & MM_SCAN_ALL);
}

/* Add a match to H, which holds MAX at most (0: no limit). */
int	mm_scan_hits_add(struct hits *, uint64_t off, size_t len, size_t max);

static inline void
hits_free(struct hits *h)
{
	free(h->off);
	free(h->len);
	memset(h, 0, sizeof(*h));
}

/* ------------------------------------------------------ scan_window.c */

/*
 * Report the matches that start in [FROM, LIMIT) of W (relative; LIMIT
 * may be len + 1 so that an empty match at the very end counts), at or
 * after w->next.  0 when done, STOPPED, or -errno.
 */
int	mm_scan_range(struct win *, uint64_t from, uint64_t limit);
/* The window (a struct win) front to back, or from the end backwards. */
int	mm_scan_forward(void *win);
int	mm_scan_reverse(void *win);

/* ----------------------------------------------------- scan_threads.c */

/* The window front to back, its blocks searched by NTHREADS threads. */
int	mm_scan_threads(struct win *, int nthreads);

/* ------------------------------------------------------ scan_pieces.c */

/*
 * The pieces of [START, END) of a file or a stream, as mm_source gives
 * them, but LAG bytes behind the input: a byte is given only once LAG
 * more have been read, and the last LAG bytes never are.  So [START,
 * size - LAG) of a stream is searched without knowing its size first,
 * holding LAG bytes, not the stream.
 */
struct src {
	struct mm_source *so;
	uint64_t	 start;
	uint64_t	 lag;
	unsigned char	*buf;		/* lag > 0: bytes from offset boff */
	size_t		 blen, cap, given;
	uint64_t	 boff;
	int		 reof;		/* the input has ended */
	int		 reached;	/* the window [start, ...) exists */
	int		 stream;
};

int	mm_scan_src_init(struct src *, struct mm_file *, enum mm_io,
	    uint64_t start, uint64_t end, uint64_t lag, int flags);
int	mm_scan_src_next(struct src *, struct mm_piece *);
void	mm_scan_src_free(struct src *);

/*
 * Literals over the pieces of [START, END) of F, front to back (LAG as
 * for struct src), or from the end backwards with MM_SCAN_REVERSE (LAG
 * 0).  0, the emit's non-zero value, or -errno.
 */
int	mm_scan_pieces(const struct mm_scan *, struct mm_file *,
	    uint64_t start, uint64_t end, uint64_t lag);

/* ------------------------------------------------------ scan_stream.c */

/* A regex over the bytes of [START, END) of F, front to back. */
int	mm_scan_regex_stream(const struct mm_scan *, struct mm_file *,
	    uint64_t start, uint64_t end, uint64_t lag);
/* A regex's every match backwards, from a spool of its forward ones. */
int	mm_scan_regex_backwards(struct mm_scan *, struct mm_file *,
	    uint64_t start, uint64_t end);
/* A stream front to back; rfind as the last match of a forward scan. */
int	mm_scan_stream(const struct mm_scan *, struct mm_file *,
	    uint64_t start, uint64_t end, uint64_t lag);

#endif /* MM_SCAN_INT_H */
