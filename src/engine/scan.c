/*
 * scan.c - mm_scan_file: a matcher run over a file the way Python's find
 * and rfind would, repeated for "all".  Here the scan is chosen: a
 * mapped window (scan_window.c, scan_threads.c), a small file read whole,
 * the pieces of a file read or mapped around its holes (scan_pieces.c),
 * a stream (scan_stream.c) or its tail; and literals are compiled
 * against a sample of the file's own bytes.
 */
#include "config.h"

#include <sys/mman.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "scan_int.h"

#define SAMPLE	(64 * 1024)

struct prep {
	const unsigned char	*hay;
	size_t			 len;
	unsigned char		*sample;	/* SAMPLE bytes */
	size_t			 n;
};

/*
 * Copy a sample of the file's own bytes, under the guard; the buffer is
 * allocated and the literals compiled outside it, since a SIGBUS leaves
 * the guarded function by longjmp and would leak what it allocated.
 */
static int
take_sample(void *arg)
{
	struct prep *p = arg;
	size_t cap = p->len / 8;

	/*
	 * A small file is searched in less time than a histogram of 64 KiB
	 * takes: an eighth of it (4 KiB at least) ranks its bytes well
	 * enough.
	 */
	cap = cap < 4096 ? 4096 : cap > SAMPLE ? SAMPLE : cap;
	p->n = mm_sample(p->hay, p->len, p->sample, cap);
	return 0;
}

static int
scan_mapped(struct mm_scan *sc, struct mm_file *f, uint64_t start,
    uint64_t end)
{
	struct mm_matcher lit;
	struct mm_map map;
	struct prep pr;
	struct win w;
	int rc, rc2;

	if ((rc = mm_map(f, (off_t)start, (size_t)(end - start), &map)) < 0)
		return rc;
	memset(&lit, 0, sizeof(lit));
	if (sc->m == NULL) {
		pr.hay = map.data;
		pr.len = map.len;
		pr.n = 0;
		pr.sample = map.len > 0 ? malloc(SAMPLE) : NULL;
		rc = pr.sample == NULL ? 0 : f->kind == MM_KIND_MEMORY ?
		    take_sample(&pr) : mm_guard(take_sample, &pr);
		if (rc == 0)
			rc = mm_matcher_literals(&lit, sc->pats, sc->npats,
			    sc->mflags, pr.sample, pr.n);
		free(pr.sample);
		if (rc < 0) {
			mm_unmap(&map);
			return rc;
		}
		sc->m = &lit;
	}
	if (map.base != NULL && map.len > BLOCK &&
	    !(sc->flags & MM_SCAN_REVERSE))
		madvise(map.base, map.baselen, MADV_SEQUENTIAL);
	memset(&w, 0, sizeof(w));
	w.sc = sc;
	w.hay = map.data;
	w.base = start;
	w.len = end - start;
	/* Memory raises no SIGBUS: no guard, and no mask saved for it. */
	if (sc->flags & MM_SCAN_REVERSE)
		rc = f->kind == MM_KIND_MEMORY ? mm_scan_reverse(&w) :
		    mm_guard(mm_scan_reverse, &w);
	else if (sc->threads > 1 && sc->m->re == NULL && w.len > BLOCK)
		rc = mm_scan_threads(&w, sc->threads);
	else
		rc = f->kind == MM_KIND_MEMORY ? mm_scan_forward(&w) :
		    mm_guard(mm_scan_forward, &w);
	hits_free(&w.rh);
	free(w.ck);
	rc2 = mm_unmap(&map);
	mm_matcher_free(&lit);
	if (rc == STOPPED)
		return w.stop;
	return rc < 0 ? rc : rc2;
}

/*
 * A small file without holes is read whole with one pread and searched
 * in memory, as a mapped one is: a walk over a tree of small files pays
 * open, fstat, read and close per file, not a sample read, a second
 * read, readahead advice and a guard as well.
 */
#define SMALL_FILE	((uint64_t)256 << 10)

/*
 * Search [START, END) of F, END at most SMALL_FILE, from one read of
 * [0, END).  *DONE 0: not searched so (the read came short, as when the
 * file shrinks, or no memory), for the caller to search it as usual.
 */
static int
scan_small(struct mm_scan *sc, struct mm_file *f, uint64_t start,
    uint64_t end, int *done)
{
	struct mm_file mf;
	unsigned char *buf;
	int rc;

	*done = 0;
	if ((buf = malloc(end > 0 ? (size_t)end : 1)) == NULL)
		return 0;
	if (mm_transfer(f->fd, buf, (size_t)end, 0, 0) < 0) {
		free(buf);
		return 0;
	}
	mf = *f;
	mf.kind = MM_KIND_MEMORY;
	mf.mem = buf;
	mf.size = (off_t)end;
	mf.close_fd = 0;
	rc = scan_mapped(sc, &mf, start, end);
	free(buf);
	*done = 1;
	return rc;
}

/* Python's slice index: negative from the end, clamped to [0, size]. */
static uint64_t
slice_index(uint64_t v, int neg, uint64_t size)
{
	if (neg && v != 0)
		return v >= size ? 0 : size - v;
	return v < size ? v : size;
}

/* Matches of a stream's tail, at their offsets in the stream. */
struct rebase {
	const struct mm_scan	*sc;
	uint64_t		 base;
};

static int
rebase_emit(void *ctx, uint64_t off, size_t len)
{
	struct rebase *rb = ctx;

	if (rb->sc->view != NULL)
		rb->sc->view->base += rb->base;
	return rb->sc->emit(rb->sc->ctx, rb->base + off, len);
}

/*
 * A start counted from the end of a stream: only the last START bytes
 * can hold a match, so only they are kept, then searched in memory.
 */
static int
scan_tail(struct mm_scan *sc, struct mm_file *f, uint64_t start,
    uint64_t end)
{
	struct mm_file mf;
	struct mm_scan tsc = *sc;
	struct mm_tail t;
	struct rebase rb;
	unsigned char *lin;
	uint64_t s, e;
	int rc;

	if ((rc = mm_tail_read(f, start, &t)) < 0)
		return rc;
	/* Zeros past the end, where JIT's vector loads may reach. */
	if ((lin = calloc(1, t.len + 64)) == NULL) {
		mm_tail_free(&t);
		return -ENOMEM;
	}
	/* In order: the oldest byte is at HEAD once the ring is full. */
	memcpy(lin, t.ring + t.head, t.len - t.head);
	memcpy(lin + t.len - t.head, t.ring, t.head);
	s = slice_index(start, 1, t.total);
	e = slice_index(end, sc->eneg, t.total);
	memset(&mf, 0, sizeof(mf));
	mf.fd = -1;
	mf.kind = MM_KIND_MEMORY;
	mf.mem = lin;
	mf.size = (off_t)t.len;
	rb.sc = sc;
	rb.base = t.total - t.len;
	mm_tail_free(&t);
	tsc.emit = rebase_emit;
	tsc.ctx = &rb;
	tsc.progress = NULL;
	rc = s > e ? 0 : scan_mapped(&tsc, &mf, s - rb.base, e - rb.base);
	mm_close(&mf);
	return rc;
}

/*
 * A sample of the file's own bytes, read: four windows spread over the
 * range, or, in a sparse file, the first data (a hole would be read as
 * zeros into the page cache, and zeros rank nothing).
 */
static size_t
read_sample(struct mm_file *f, uint64_t start, uint64_t end,
    unsigned char *buf, size_t cap)
{
	uint64_t len = end - start, at;
	size_t n = 0, part = cap / 4, i;
	off_t d, h;

	if (f->kind == MM_KIND_MEMORY)
		return mm_sample(f->mem + start, (size_t)len, buf, cap);
	if (len <= cap)
		return mm_transfer(f->fd, buf, (size_t)len, start, 0) < 0 ?
		    0 : (size_t)len;
	if (mm_has_holes(f, start, end)) {
		/* Readahead would read the holes next to it as zeros. */
		posix_fadvise(f->fd, 0, 0, POSIX_FADV_RANDOM);
		if ((d = lseek(f->fd, (off_t)start, SEEK_DATA)) < 0 ||
		    (uint64_t)d >= end)
			return 0;
		h = lseek(f->fd, d, SEEK_HOLE);
		len = h > d ? min64((uint64_t)(h - d), end - (uint64_t)d) : 0;
		len = min64(len, cap);
		return mm_transfer(f->fd, buf, (size_t)len, (uint64_t)d, 0) <
		    0 ? 0 : (size_t)len;
	}
	for (i = 0; i < 4; i++) {
		at = start + (len - part) / 3 * i;
		if (mm_transfer(f->fd, buf + n, part, at, 0) == 0)
			n += part;
	}
	return n;
}

/*
 * A file read with pread (or mapped piece by piece around its holes):
 * literals over pieces, either way; a regex over its stream of bytes
 * forwards, backwards its last match from a forward scan, and its every
 * match from a spool of them.
 */
static int
scan_read(struct mm_scan *sc, struct mm_file *f, uint64_t start,
    uint64_t end)
{
	struct mm_matcher lit;
	unsigned char *sample;
	size_t n = 0;
	int rc;

	if (sc->m == NULL) {
		if ((sample = malloc(SAMPLE)) == NULL)
			return -ENOMEM;
		n = read_sample(f, start, end, sample, SAMPLE);
		rc = mm_matcher_literals(&lit, sc->pats, sc->npats,
		    sc->mflags, sample, n);
		free(sample);
		if (rc < 0)
			return rc;
		sc->m = &lit;
	}
	if (sc->m->re == NULL)
		rc = mm_scan_pieces(sc, f, start, end, 0);
	else if (!(sc->flags & MM_SCAN_REVERSE))
		rc = mm_scan_regex_stream(sc, f, start, end, 0);
	else if (sc->flags & MM_SCAN_ALL)
		rc = mm_scan_regex_backwards(sc, f, start, end);
	else
		rc = mm_scan_stream(sc, f, start, end, 0);
	if (sc->m == &lit)
		mm_matcher_free(&lit);
	return rc;
}

int
mm_scan_file(const struct mm_scan *scan, struct mm_file *f, uint64_t start,
    uint64_t end)
{
	struct mm_scan sc = *scan;
	struct mm_matcher lit;
	int rc;

	sc.m = sc.re;
	if (f->kind == MM_KIND_STREAM && sc.sneg && start != 0)
		return scan_tail(&sc, f, start, end);
	if (f->kind == MM_KIND_STREAM) {
		/*
		 * Successive rfind needs the whole stream: it is copied to a
		 * temporary file (memory stays bounded) and searched there.
		 */
		if ((sc.flags & MM_SCAN_REVERSE) && (sc.flags & MM_SCAN_ALL)) {
			if ((rc = mm_file_spool(f)) < 0)
				return rc;
			if (sc.eneg)
				end = slice_index(end, 1, (uint64_t)f->size);
		} else if (sc.re != NULL) {
			return mm_scan_stream(&sc, f, start,
			    sc.eneg ? UINT64_MAX : end, sc.eneg ? end : 0);
		} else {
			/* Nothing to sample before reading: default ranks. */
			if ((rc = mm_matcher_literals(&lit, sc.pats, sc.npats,
			    sc.mflags, NULL, 0)) < 0)
				return rc;
			sc.m = &lit;
			rc = mm_scan_stream(&sc, f, start,
			    sc.eneg ? UINT64_MAX : end, sc.eneg ? end : 0);
			mm_matcher_free(&lit);
			return rc;
		}
	}
	if (end > (uint64_t)f->size)
		end = (uint64_t)f->size;
	if (start > end)
		return 0;
	if (f->kind == MM_KIND_REGULAR && sc.io != MM_IO_MAP &&
	    end <= SMALL_FILE && !mm_has_holes(f, 0, end)) {
		int done;

		rc = scan_small(&sc, f, start, end, &done);
		if (done)
			return rc;
	}
	if (sc.io == MM_IO_AUTO)
		sc.io = mm_io_choose(f, start, end);
	/*
	 * Mapped whole: threads split one mapping, and a match may lie
	 * anywhere in it.  A range the address space cannot hold so (on a
	 * 32-bit machine) is mapped a window at a time, as around holes.
	 */
	if (sc.io == MM_IO_MAP && end - start <= SIZE_MAX / 4 &&
	    !mm_has_holes(f, start, end))
		return scan_mapped(&sc, f, start, end);
	return scan_read(&sc, f, start, end);
}
