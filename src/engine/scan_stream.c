/*
 * scan_stream.c - a file or a stream read front to back into memory
 * bounded by the matches: a regex over its bytes, rfind as the last
 * match of a forward scan, a regex's every match backwards from a spool,
 * and a stream's last bytes kept in a ring.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "scan_int.h"

/*
 * A regex over a stream, front to back, in memory bounded by the
 * matches: PCRE2's hard partial matching says when a match might go on
 * past the bytes read so far, and only then are bytes kept, from that
 * match's start (less the regex's lookbehind, and at least one byte so
 * that ^ never matches at a seam).  Everything the chain of matches has
 * passed is dropped.
 */
int
mm_scan_regex_stream(const struct mm_scan *sc, struct mm_file *f,
    uint64_t start, uint64_t end, uint64_t lag)
{
	struct src r;
	struct win w;
	struct mm_piece pc;
	unsigned char *buf = NULL, *nb;
	size_t len, blen = 0, cap = 0, pos = 0, o, l, drop;
	size_t back = mm_matcher_lookbehind(sc->m) + 1;
	uint64_t boff = start;
	int rc, more = 1, given = 0;

	/* Its bytes are copied: read, never mapped (no SIGBUS to guard). */
	if ((rc = mm_scan_src_init(&r, f, MM_IO_READ, start, end, lag,
	    sc->threads != 1 ? MM_SOURCE_THREAD : 0)) < 0) {
		mm_scan_src_free(&r);
		return rc;
	}
	memset(&w, 0, sizeof(w));
	w.sc = sc;
	while (more) {
		if ((rc = mm_scan_src_next(&r, &pc)) < 0)
			break;
		len = rc > 0 ? (size_t)pc.len : 0;
		if (rc == 0 && !given && !r.reached)
			break;		/* nothing at all past START */
		given = 1;
		more = rc > 0;
		if (blen + len + 1 > cap) {
			cap = (blen + len + 1) * 2;
			if ((nb = realloc(buf, cap)) == NULL) {
				rc = -ENOMEM;
				break;
			}
			buf = nb;
			/*
			 * JIT may read ahead of the subject's end: defined
			 * bytes.
			 */
			memset(buf + blen, 0, cap - blen);
		}
		if (len > 0)
			memcpy(buf + blen, pc.data, len);
		blen += len;
		w.hay = buf;
		w.base = boff;
		w.len = blen;
		rc = 0;
		drop = pos;
		while (pos <= blen) {
			rc = mm_match_partial(sc->m, buf, blen, pos, more, &o,
			    &l);
			if (rc <= 0) {
				if (rc == 0)
					drop = pos = more ? blen : blen + 1;
				break;
			}
			if (rc == 2) {
				/* No match can start before the partial one. */
				drop = pos = o;
				rc = 0;
				break;
			}
			if ((rc = emit(&w, o, l)) != 0)
				break;
			drop = pos = o + step(&w, l);
		}
		if (rc != 0)
			break;
		mm_progress_update(sc->progress, boff + blen - start);
		/* Keep what the next search may see; drop the rest. */
		drop = drop > back ? drop - back : 0;
		if (drop > blen)
			drop = blen;
		memmove(buf, buf + drop, blen - drop);
		blen -= drop;
		pos -= drop;
		boff += drop;
	}
	mm_scan_src_free(&r);
	free(buf);
	if (rc == STOPPED)
		return w.stop;
	return rc < 0 ? rc : 0;
}

/* The last of the matches a forward scan gives: rfind on a stream. */
struct last {
	const struct mm_scan	*sc;	/* the caller's, for its view */
	uint64_t		 off;
	size_t			 len;
	int			 found;
	unsigned char		*bytes;	/* a copy of the match, for a view */
	size_t			 cap;
};

static int
keep_last(void *ctx, uint64_t off, size_t len)
{
	struct last *k = ctx;

	const struct mm_scan_view *v = k->sc->view;
	void *p;

	k->off = off;
	k->len = len;
	k->found = 1;
	if (v == NULL || v->hay == NULL || off < v->base ||
	    off + len > v->base + v->len || len == 0)
		return 0;
	if (len > k->cap) {
		if ((p = realloc(k->bytes, len)) == NULL)
			return -ENOMEM;
		k->bytes = p;
		k->cap = len;
	}
	memcpy(k->bytes, v->hay + (off - v->base), len);
	return 0;
}

/*
 * A stream front to back.  rfind's one answer is the last match of a
 * forward scan (overlapping, for literals: the rightmost start, with the
 * longest needle there as mm_rfindset has it; a regex's last is the last
 * of its forward matches), so only that is kept.
 */
int
mm_scan_stream(const struct mm_scan *scan, struct mm_file *f, uint64_t start,
    uint64_t end, uint64_t lag)
{
	struct mm_scan sc = *scan;
	struct last k;
	int rc;

	memset(&k, 0, sizeof(k));
	k.sc = scan;
	if (sc.flags & MM_SCAN_REVERSE) {
		sc.flags = MM_SCAN_ALL | (sc.m->re ? 0 : MM_SCAN_OVERLAP);
		sc.emit = keep_last;
		sc.ctx = &k;
	}
	rc = sc.m->re ? mm_scan_regex_stream(&sc, f, start, end, lag) :
	    mm_scan_pieces(&sc, f, start, end, lag);
	if (rc == 0 && (scan->flags & MM_SCAN_REVERSE) && k.found) {
		set_view(scan, k.bytes, k.off, k.bytes ? k.len : 0, 0);
		rc = scan->emit(scan->ctx, k.off, k.len);
	}
	free(k.bytes);
	return rc;
}

/*
 * A regex's every match backwards, read: its forward matches (the same
 * set) go to an unnamed file as they are found, 16 bytes each, and are
 * handed out from that file's end, so memory stays bounded whatever
 * their number, and the file is read once, holes never.
 */
struct spool {
	int		 fd;
	uint64_t	 rec[2 * 4096];
	size_t		 n;
	uint64_t	 written;	/* records in the file */
};

static int
spool_flush(struct spool *sp)
{
	int rc;

	if (sp->n == 0)
		return 0;
	if ((rc = mm_transfer(sp->fd, sp->rec, sp->n * 16, sp->written * 16,
	    1)) < 0)
		return rc;
	sp->written += sp->n;
	sp->n = 0;
	return 0;
}

static int
spool_emit(void *ctx, uint64_t off, size_t len)
{
	struct spool *sp = ctx;
	int rc;

	sp->rec[2 * sp->n] = off;
	sp->rec[2 * sp->n + 1] = len;
	if (++sp->n == sizeof(sp->rec) / 16 && (rc = spool_flush(sp)) < 0)
		return rc;
	return 0;
}

int
mm_scan_regex_backwards(struct mm_scan *sc, struct mm_file *f,
    uint64_t start, uint64_t end)
{
	struct mm_scan fw = *sc;
	struct spool *sp;
	uint64_t top, n, i;
	int rc;

	if ((sp = calloc(1, sizeof(*sp))) == NULL)
		return -ENOMEM;
	if ((sp->fd = mm_unnamed_file(mm_tmpdir())) < 0) {
		rc = sp->fd;
		free(sp);
		return rc;
	}
	fw.flags &= ~MM_SCAN_REVERSE;
	fw.emit = spool_emit;
	fw.emit_run = NULL;
	fw.ctx = sp;
	if ((rc = mm_scan_regex_stream(&fw, f, start, end, 0)) == 0)
		rc = spool_flush(sp);
	/* From the end: the last block first, each read backwards. */
	for (top = sp->written; rc == 0 && top > 0; top -= n) {
		n = top < sizeof(sp->rec) / 16 ? top : sizeof(sp->rec) / 16;
		if ((rc = mm_transfer(sp->fd, sp->rec, n * 16, (top - n) * 16,
		    0)) < 0)
			break;
		set_view(sc, NULL, 0, 0, 0);
		for (i = n; rc == 0 && i-- > 0; )
			rc = sc->emit(sc->ctx, sp->rec[2 * i],
			    (size_t)sp->rec[2 * i + 1]);
	}
	close(sp->fd);
	free(sp);
	return rc;
}

int
mm_tail_read(struct mm_file *f, uint64_t mag, struct mm_tail *t)
{
	struct mm_source *so;
	struct mm_piece pc;
	const unsigned char *p;
	unsigned char *nr;
	size_t len, n, cap = 0, want;
	int rc;

	memset(t, 0, sizeof(*t));
	if (mag > SIZE_MAX / 4)
		return -ENOMEM;
	if ((rc = mm_source_open(&so, f, MM_IO_READ, 0, UINT64_MAX, 0)) < 0) {
		mm_source_close(so);
		return rc;
	}
	while ((rc = mm_source_next(so, &pc)) > 0) {
		p = pc.data;
		len = (size_t)pc.len;
		t->total += len;
		/* Only the last MAG bytes of a piece can stay. */
		if (len > mag) {
			p += len - mag;
			len = (size_t)mag;
		}
		/* Grow with the input, so a short one costs little. */
		if (t->len + len > cap && cap < mag) {
			for (want = cap ? cap : 4096; want < t->len + len &&
			    want < mag; want *= 2)
				;
			want = want < mag ? want : (size_t)mag;
			if ((nr = realloc(t->ring, want)) == NULL) {
				rc = -ENOMEM;
				break;
			}
			t->ring = nr;
			cap = want;
		}
		for (; len > 0; p += n, len -= n) {
			if (t->len < cap) {
				n = cap - t->len < len ? cap - t->len : len;
				memcpy(t->ring + t->len, p, n);
				t->len += n;
			} else {
				/* Full: overwrite the oldest bytes. */
				n = cap - t->head < len ? cap - t->head : len;
				memcpy(t->ring + t->head, p, n);
				t->head = (t->head + n) % cap;
			}
		}
	}
	mm_source_close(so);
	if (rc < 0)
		mm_tail_free(t);
	return rc;
}

void
mm_tail_free(struct mm_tail *t)
{
	free(t->ring);
	memset(t, 0, sizeof(*t));
}

