/*
 * scan_pieces.c - literals over the pieces of a file or a stream, as
 * mm_source gives them (read, or mapped piece by piece around holes),
 * front to back or from the end backwards; a hole is answered by
 * arithmetic, never read.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "scan_int.h"

int
mm_scan_src_init(struct src *s, struct mm_file *f, enum mm_io io,
    uint64_t start, uint64_t end, uint64_t lag, int flags)
{
	memset(s, 0, sizeof(*s));
	s->start = s->boff = start;
	s->lag = lag;
	s->stream = f->kind == MM_KIND_STREAM;
	s->reached = !s->stream;
	if (lag > SIZE_MAX / 4)
		return -ENOMEM;
	return mm_source_open(&s->so, f, io, start, lag > 0 ? UINT64_MAX : end,
	    lag > 0 ? flags & ~MM_SOURCE_HOLES : flags);
}

int
mm_scan_src_next(struct src *s, struct mm_piece *p)
{
	struct mm_piece q;
	unsigned char *nb;
	size_t n;
	int rc;

	if (s->lag == 0) {
		rc = mm_source_next(s->so, p);
		if (rc > 0 || (s->stream &&
		    mm_source_consumed(s->so) >= s->start))
			s->reached = 1;
		return rc;
	}
	/*
	 * Drop what was given (nothing the first time, when there is no
	 * buffer yet); read until LAG bytes wait behind a piece.
	 */
	if (s->given > 0)
		memmove(s->buf, s->buf + s->given, s->blen - s->given);
	s->blen -= s->given;
	s->boff += s->given;
	s->given = 0;
	while (!s->reof && s->blen < s->lag + MM_READ_BUFSIZE) {
		if ((rc = mm_source_next(s->so, &q)) < 0)
			return rc;
		if (rc == 0) {
			s->reof = 1;
			break;
		}
		if (s->blen + q.len > s->cap) {
			s->cap = (s->blen + (size_t)q.len) * 2;
			if ((nb = realloc(s->buf, s->cap)) == NULL)
				return -ENOMEM;
			s->buf = nb;
		}
		memcpy(s->buf + s->blen, q.data, (size_t)q.len);
		s->blen += (size_t)q.len;
	}
	if (mm_source_consumed(s->so) >= s->start + s->lag)
		s->reached = 1;
	n = s->blen > s->lag ? (size_t)(s->blen - s->lag) : 0;
	if (n == 0)
		return 0;
	s->given = n;
	p->data = s->buf;
	p->off = s->boff;
	p->len = n;
	return 1;
}

void
mm_scan_src_free(struct src *s)
{
	mm_source_close(s->so);
	free(s->buf);
	s->so = NULL;
	s->buf = NULL;
}

/*
 * Literals over pieces.  Front to back, a piece settles the matches that
 * start in it at least KEEP (the longest pattern less one) bytes before
 * its end; a seam of 2 * KEEP bytes, the last KEEP of what came before
 * and the first KEEP of the next piece, settles those.  So every match is
 * seen whole, once, a set's longest match at an offset is never cut
 * short, and nothing is copied but the seams.  A hole settles by
 * arithmetic when the pattern matches zeros, else holds no match.
 *
 * From the end backwards: Python's successive rfind (each match's start
 * bounds the next search), or with --overlap the forward set handed out
 * in reverse.  A piece settles the starts in it at least KEEP bytes
 * before its end; the seam (its last KEEP bytes and the first KEEP of
 * what is above) settles those first.
 */
struct lits {
	struct win	 w;
	struct src	 r;
	uint64_t	 start, end;	/* the range */
	int		 reverse;
	size_t		 keep;
	size_t		 mlen;		/* the zero-matching needle's length */
	int		 zeros;		/* the needle matches runs of zeros */
	unsigned char	*seam;		/* 2 * keep bytes */
	size_t		 seamlen;
	/* Front to back: the seam holds the bytes from seamoff. */
	uint64_t	 seamoff;
	uint64_t	 next;		/* no match may start before */
	uint64_t	 settled;	/* starts below are done */
	/* From the end: the seam holds the first bytes above the piece. */
	uint64_t	 rend;		/* matches end at or before */
	unsigned char	*win;		/* 2 * keep bytes */
	int		 done;		/* a match at offset 0 ended it */
};

/*
 * N matches of LEN bytes at OFF, OFF + STEP, ...: one call of the
 * caller's emit_run when it has one, else one emit each.
 */
static int
emit_run(struct win *w, uint64_t off, int64_t st, uint64_t n, size_t len)
{
	const struct mm_scan *sc = w->sc;
	uint64_t i;
	int rc = 0;

	if (n == 0)
		return 0;
	if (!(sc->flags & MM_SCAN_ALL))
		n = 1;
	set_view(sc, NULL, 0, 0, 1);
	if (sc->emit_run != NULL)
		rc = sc->emit_run(sc->ctx, off, st, n, len);
	else
		for (i = 0; i < n && rc == 0; i++)
			rc = sc->emit(sc->ctx, off + (uint64_t)st * i, len);
	if (rc != 0) {
		w->stop = rc;
		return STOPPED;
	}
	return (sc->flags & MM_SCAN_ALL) ? 0 : STOPPED;
}

/* Does the one literal match a run of zeros (all its fixed bytes 0)? */
static int
matches_zeros(const struct mm_scan *sc)
{
	const struct mm_bytes *b;
	size_t i, j;

	if (sc->m->re != NULL)
		return -1;
	for (i = 0; i < sc->npats; i++) {
		b = &sc->pats[i];
		for (j = 0; j < b->len; j++)
			if (b->data[j] != 0 && (b->mask == NULL || b->mask[j]))
				break;
		if (j == b->len)
			return sc->npats == 1 ? 1 : -1;
	}
	return 0;
}

/*
 * Source flags for a scan: holes come without bytes when the matcher
 * can answer for them (no match in zeros, or one needle that matches
 * them all), else as zeros from memory.
 */
static int
source_flags(const struct mm_scan *sc)
{
	return (matches_zeros(sc) >= 0 ? MM_SOURCE_HOLES : 0) |
	    (sc->threads != 1 ? MM_SOURCE_THREAD : 0);
}

/* ------------------------------------------------------------ forwards */

/* Settle the starts below UPTO in hay[0..len) at file offset BASE. */
static int
settle(struct lits *q, const unsigned char *hay, uint64_t base, uint64_t len,
    uint64_t upto)
{
	int rc;

	if (upto <= q->settled)
		return 0;
	q->w.hay = hay;
	q->w.base = base;
	q->w.len = len;
	q->w.next = q->next > base ? q->next - base : 0;
	rc = mm_scan_range(&q->w, q->settled - base, upto - base);
	q->next = base + q->w.next;
	q->settled = upto;
	return rc;
}

/* Every start in [FROM, TO) of a run of zeros matches. */
static int
zero_run(struct lits *q, uint64_t from, uint64_t to)
{
	uint64_t first = from > q->next ? from : q->next;
	uint64_t st = step(&q->w, q->mlen), n;

	q->settled = to;
	if (first >= to)
		return 0;
	n = (to - first + st - 1) / st;
	q->next = first + n * st;
	return emit_run(&q->w, first, (int64_t)st, n, q->mlen);
}

static int
seq_piece(struct lits *q, const struct mm_piece *p)
{
	size_t k = q->keep, t = (size_t)min64(p->len, k);
	uint64_t cur = p->off, len = p->len;
	int rc;

	/* The seam: what came before, and this piece's first bytes. */
	if (t > 0) {
		if (p->data != NULL)
			memcpy(q->seam + q->seamlen, p->data, t);
		else
			memset(q->seam + q->seamlen, 0, t);
		q->seamlen += t;
		if (cur + t >= q->seamoff + k &&
		    (rc = settle(q, q->seam, q->seamoff, q->seamlen,
		    cur + t - k)) != 0)
			return rc;
	}
	if (len <= k) {
		if (q->seamlen > k) {
			memmove(q->seam, q->seam + q->seamlen - k, k);
			q->seamoff += q->seamlen - k;
			q->seamlen = k;
		}
		return 0;
	}
	if (p->data != NULL)
		rc = settle(q, p->data, cur, len, cur + len - k);
	else if (q->zeros)
		rc = zero_run(q, cur, cur + len - k);
	else
		q->settled = cur + len - k, rc = 0;
	if (rc != 0)
		return rc;
	if (p->data != NULL)
		memcpy(q->seam, p->data + len - k, k);
	else
		memset(q->seam, 0, k);
	q->seamlen = k;
	q->seamoff = cur + len - k;
	return 0;
}

/* ------------------------------------------------------------ backwards */

/* Successive rfind for the starts in [LO, HI) of hay at BASE. */
static int
rfind_region(struct lits *q, const unsigned char *hay, uint64_t base,
    uint64_t len, uint64_t lo, uint64_t hi)
{
	const struct mm_matcher *m = q->w.sc->m;
	uint64_t we;
	size_t o, l;
	int rc;

	while (!q->done) {
		we = min64(q->rend, min64(base + len,
		    hi + (m->maxlen ? m->maxlen - 1 : 0)));
		if (we < lo)
			break;
		rc = mm_match(q->w.sc->m, hay + (lo - base), we - lo, 1, &o,
		    &l);
		if (rc <= 0)
			return rc;
		if ((rc = emit(&q->w, lo + o, l)) != 0)
			return rc;
		if (l == 0 && lo + o == 0)
			q->done = 1;
		else
			q->rend = l == 0 ? lo + o - 1 : lo + o;
	}
	return 0;
}

/* Every start in [LO, HI), collected forwards, handed out backwards. */
static int
collect_region(struct lits *q, const unsigned char *hay, uint64_t base,
    uint64_t len, uint64_t lo, uint64_t hi)
{
	struct hits *h = &q->w.rh;
	uint64_t bs, blk = BLOCK / 16, hl;
	size_t i, o, l, pos;
	int rc = 0;

	q->w.hay = hay;
	q->w.len = len;
	for (bs = hi; bs > lo; ) {
		bs = bs - lo > blk ? bs - blk : lo;
		h->n = 0;
		hl = search_end(&q->w, min64(hi, bs + blk) - base);
		for (pos = (size_t)(bs - base); ; pos = o + 1) {
			rc = mm_match_from(q->w.sc->m, hay, hl, pos, &o, &l);
			if (rc <= 0 || o + base >= min64(hi, bs + blk))
				break;
			if ((rc = mm_scan_hits_add(h, base + o, l, 0)) < 0)
				return rc;
		}
		if (rc < 0)
			return rc;
		for (i = h->n; i-- > 0; )
			if ((rc = emit(&q->w, h->off[i], h->len[i])) != 0)
				return rc;
	}
	return 0;
}

static int
region(struct lits *q, const unsigned char *hay, uint64_t base, uint64_t len,
    uint64_t lo, uint64_t hi)
{
	if (lo >= hi)
		return 0;
	if (q->w.sc->flags & MM_SCAN_OVERLAP)
		return collect_region(q, hay, base, len, lo, hi);
	return rfind_region(q, hay, base, len, lo, hi);
}

/* A hole's starts in [LO, HI), matches of zeros, from the top. */
static int
zero_region(struct lits *q, uint64_t lo, uint64_t hi)
{
	uint64_t top, st = q->w.sc->flags & MM_SCAN_OVERLAP ? 1 :
	    (q->mlen ? q->mlen : 1), n;
	int rc;

	if (q->done)
		return 0;
	if (q->w.sc->flags & MM_SCAN_OVERLAP)
		top = hi;
	else if (q->rend >= lo + q->mlen)
		top = min64(hi, q->rend - q->mlen + 1);
	else
		return 0;
	if (top <= lo)
		return 0;
	n = (top - 1 - lo) / st + 1;
	if ((rc = emit_run(&q->w, top - 1, -(int64_t)st, n, q->mlen)) != 0)
		return rc;
	if (!(q->w.sc->flags & MM_SCAN_OVERLAP)) {
		top = top - 1 - (n - 1) * st;
		if (q->mlen == 0 && top == 0)
			q->done = 1;
		else
			q->rend = q->mlen == 0 ? top - 1 : top;
	}
	return 0;
}

static int
rseq_piece(struct lits *q, const struct mm_piece *p)
{
	size_t k = q->keep, t = (size_t)min64(p->len, k), s = q->seamlen;
	uint64_t a = p->off, b = p->off + p->len;
	int rc;

	/* The seam: this piece's last bytes, then what is above. */
	if (p->data != NULL)
		memcpy(q->win, p->data + p->len - t, t);
	else
		memset(q->win, 0, t);
	memcpy(q->win + t, q->seam, s);
	if ((rc = region(q, q->win, b - t, t + s, b - t, b)) != 0)
		return rc;
	if (p->len > k) {
		if (p->data != NULL)
			rc = region(q, p->data, a, p->len, a, b - k);
		else if (q->zeros)
			rc = zero_region(q, a, b - k);
		if (rc != 0)
			return rc;
	}
	/* The seam from now: the first KEEP bytes from A up. */
	memmove(q->win, q->win + t, s);
	if (p->len >= k) {
		if (p->data != NULL)
			memcpy(q->seam, p->data, k);
		else
			memset(q->seam, 0, k);
		q->seamlen = k;
	} else {
		if (p->data != NULL)
			memcpy(q->seam, p->data, t);
		else
			memset(q->seam, 0, t);
		memcpy(q->seam + t, q->win, k - t < s ? k - t : s);
		q->seamlen = t + (k - t < s ? k - t : s);
	}
	return 0;
}

/* ------------------------------------------------------------ the walk */

static int
walk(void *arg)
{
	struct lits *q = arg;
	struct mm_piece p;
	int rc = 0;

	/* Backwards, the empty pattern's match at the very end is first. */
	if (q->reverse &&
	    (rc = region(q, q->win, q->end, 0, q->end, q->end + 1)) != 0)
		return rc;
	while (!q->done && (rc = mm_scan_src_next(&q->r, &p)) > 0) {
		rc = q->reverse ? rseq_piece(q, &p) : seq_piece(q, &p);
		if (rc != 0)
			return rc;
		mm_progress_update(q->w.sc->progress, q->reverse ?
		    q->end - p.off : p.off + p.len - q->start);
	}
	if (rc < 0 || q->reverse)
		return rc < 0 ? rc : 0;
	/*
	 * Forwards, the end settles the rest, and the empty pattern's match
	 * at the very end; a stream that ends exactly at START gives no
	 * piece, yet matches there, as b''.find(b'', n) == n for len n.
	 */
	if (!q->r.reached)
		return 0;
	return settle(q, q->seam, q->seamoff, q->seamlen,
	    q->seamoff + q->seamlen + 1);
}

int
mm_scan_pieces(const struct mm_scan *sc, struct mm_file *f, uint64_t start,
    uint64_t end, uint64_t lag)
{
	struct lits q;
	int rc, flags = source_flags(sc);

	memset(&q, 0, sizeof(q));
	q.w.sc = sc;
	q.reverse = (sc->flags & MM_SCAN_REVERSE) != 0;
	q.start = start;
	q.end = q.rend = end;
	q.keep = sc->m->maxlen ? sc->m->maxlen - 1 : 0;
	q.zeros = matches_zeros(sc) == 1;
	q.mlen = sc->m->maxlen;
	q.next = q.settled = q.seamoff = start;
	q.seam = malloc(2 * q.keep + 1);
	q.win = q.reverse ? malloc(2 * q.keep + 1) : NULL;
	if (q.seam == NULL || (q.reverse && q.win == NULL)) {
		free(q.seam);
		free(q.win);
		return -ENOMEM;
	}
	if ((rc = mm_scan_src_init(&q.r, f, sc->io, start, end, lag,
	    q.reverse ? flags | MM_SOURCE_REVERSE : flags)) == 0)
		rc = mm_guard(walk, &q);
	mm_scan_src_free(&q.r);
	hits_free(&q.w.rh);
	free(q.seam);
	free(q.win);
	if (rc == STOPPED)
		return q.w.stop;
	return rc < 0 ? rc : 0;
}
