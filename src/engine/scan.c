/*
 * scan.c - running a matcher over a file the way Python's find and rfind
 * would, repeated for "all", and split between threads for big files.
 *
 * Mapped files are scanned in blocks: a literal's search window is the
 * block plus the longest pattern less one byte, so each block reports
 * exactly the matches that start in it.  Threads compute blocks ahead and
 * the calling thread hands their matches out in file order; where a
 * non-overlapping match runs over a block boundary, the next block's
 * chain of matches is re-synchronised from its end (they almost always
 * meet again at once).
 */
#include "config.h"

#include <sys/mman.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "scan.h"
#include "source.h"

/* Blocks for progress, readahead advice and thread work. */
#define BLOCK		((uint64_t)16 << 20)
/* A thread gives up collecting a block past this many matches. */
#define BLOCK_MAXHITS	65536

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

static uint64_t
min64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

/* How far past LIMIT a literal match starting before LIMIT may reach. */
static uint64_t
search_end(const struct win *w, uint64_t limit)
{
	const struct mm_matcher *m = w->sc->m;

	if (m->re != NULL || m->maxlen > w->len)
		return w->len;
	return min64(w->len, limit + (m->maxlen ? m->maxlen - 1 : 0));
}

static uint64_t
step(const struct win *w, size_t mlen)
{
	if (w->sc->flags & MM_SCAN_OVERLAP)
		return 1;
	return mlen ? mlen : 1;
}

/* Tell the caller where the match's bytes are, if it asked. */
static void
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

static int
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
static int
literal_all(const struct win *w)
{
	return w->sc->m->needle != NULL && (w->sc->flags & MM_SCAN_ALL);
}

/* forward_range's state for mm_findall, which reports from hay + start. */
struct range {
	struct win	*w;
	uint64_t	 start;
	uint64_t	 limit;
	uint64_t	 pos;		/* where the next search would begin */
	size_t		 len;
	int		 rc;		/* emit's verdict */
};

static int
range_hit(void *arg, size_t off)
{
	struct range *r = arg;
	uint64_t o = r->start + off;

	if (o >= r->limit)
		return 1;
	if ((r->rc = emit(r->w, o, r->len)) != 0)
		return 1;
	r->pos = o + step(r->w, r->len);
	return 0;
}

/*
 * Report the matches that start in [FROM, LIMIT) (relative; LIMIT may be
 * len + 1 so that an empty match at the very end counts), at or after
 * w->next.  0 when done, STOPPED, or -errno.
 */
static int
forward_range(struct win *w, uint64_t from, uint64_t limit)
{
	uint64_t pos = from > w->next ? from : w->next;
	uint64_t hl = search_end(w, limit);
	struct range r;
	size_t o, l;
	int rc;

	if (literal_all(w) && pos < limit) {
		/* One kernel call for the whole range: no cost per match. */
		r.w = w;
		r.start = pos;
		r.limit = limit;
		r.pos = pos;
		r.len = mm_needle_len(w->sc->m->needle);
		r.rc = 0;
		if (pos <= hl)
			mm_findall(w->sc->m->needle, w->hay + pos, hl - pos,
			    (w->sc->flags & MM_SCAN_OVERLAP) != 0, range_hit,
			    &r);
		if (r.rc != 0)
			return r.rc;
		w->next = r.pos;
		return 0;
	}
	while (pos < limit) {
		rc = mm_match_from(w->sc->m, w->hay, hl, pos, &o, &l);
		if (rc <= 0) {
			if (rc < 0)
				return rc;
			break;
		}
		if (o >= limit)
			break;
		if ((rc = emit(w, o, l)) != 0)
			return rc;
		pos = o + step(w, l);
	}
	w->next = pos;
	return 0;
}

/* Readahead only works forwards: ask for the block below in advance. */
static void
advise_ahead(const struct win *w, uint64_t off, uint64_t len)
{
	size_t ps = mm_pagesize();
	uintptr_t a = (uintptr_t)(w->hay + off), e;

	if (len == 0 || off >= w->len)
		return;
	e = (uintptr_t)(w->hay + min64(w->len, off + len));
	a -= a % ps;
	madvise((void *)a, e - a, MADV_WILLNEED);
}

static int
forward_seq(void *arg)
{
	struct win *w = arg;
	uint64_t b, lim;
	int rc;

	/* A regex is not split: each block would rescan to the next match. */
	if (w->sc->m->re != NULL)
		return forward_range(w, 0, w->len + 1);
	for (b = 0; b <= w->len; b += BLOCK) {
		lim = b + BLOCK > w->len ? w->len + 1 : b + BLOCK;
		if ((rc = forward_range(w, b, lim)) != 0)
			return rc;
		mm_progress_update(w->sc->progress, min64(lim, w->len));
	}
	return 0;
}

/*
 * Backwards, Python's successive rfind: each match's start ends the
 * window of the next search (an empty match steps one byte down).  Block
 * by block from the end: a block's window reaches the longest pattern
 * less one byte past it, and no match can start above the block there,
 * since the block above found none below END.
 */
static int
reverse_literal(void *arg)
{
	struct win *w = arg;
	uint64_t bs, we, end = w->len;
	size_t o, l;
	int rc;

	for (bs = w->len - w->len % BLOCK; ; bs -= BLOCK) {
		advise_ahead(w, bs >= BLOCK ? bs - BLOCK : 0, bs ? BLOCK : 0);
		while ((we = min64(end, search_end(w, bs + BLOCK))) >= bs) {
			rc = mm_match(w->sc->m, w->hay + bs, we - bs, 1, &o,
			    &l);
			if (rc <= 0) {
				if (rc < 0)
					return rc;
				break;
			}
			o += bs;
			if ((rc = emit(w, o, l)) != 0)
				return rc;
			if (l == 0 && o == 0)
				return 0;
			end = l == 0 ? o - 1 : o;
		}
		mm_progress_update(w->sc->progress, w->len - bs);
		if (bs == 0)
			break;
	}
	return 0;
}

static int
hits_add(struct hits *h, uint64_t off, size_t len, size_t max)
{
	void *p;

	if (h->n == h->cap) {
		size_t cap = h->cap ? h->cap * 2 : 256;

		if (max && cap > max)
			cap = max;
		if (h->n >= cap) {
			h->full = 1;
			return -ENOSPC;
		}
		if ((p = realloc(h->off, cap * sizeof(*h->off))) == NULL)
			return -ENOMEM;
		h->off = p;
		if ((p = realloc(h->len, cap * sizeof(*h->len))) == NULL)
			return -ENOMEM;
		h->len = p;
		h->cap = cap;
	}
	h->off[h->n] = off;
	h->len[h->n++] = len;
	return 0;
}

static void
hits_free(struct hits *h)
{
	free(h->off);
	free(h->len);
	memset(h, 0, sizeof(*h));
}

/*
 * Where a regex's chain of forward, non-overlapping matches stands at
 * each block of BLK bytes: ck[k] is the offset the search that finds the
 * first match starting at or after k * BLK begins from.  One forward
 * pass, one number per block, no list of matches.
 */
static int
regex_checkpoints(struct win *w, uint64_t blk, uint64_t *ck, uint64_t nb)
{
	uint64_t pos = 0, k = 0;
	size_t o, l;
	int rc;

	while (pos <= w->len) {
		rc = mm_match_from(w->sc->m, w->hay, w->len, pos, &o, &l);
		if (rc < 0)
			return rc;
		if (rc == 0)
			break;
		while (k < nb && k * blk <= o)
			ck[k++] = pos;
		pos = o + step(w, l);
	}
	/* Blocks past the last match start where the chain ended. */
	while (k < nb)
		ck[k++] = pos;
	return 0;
}

/*
 * Backwards where successive rfind is not what the user gets from the
 * matcher directly: overlapping matches (the same set as forward, handed
 * out in reverse) and regexes (their forward matches, reversed).  Block by
 * block from the end, so memory stays bounded by one block's matches: a
 * block of overlapping literal matches starts afresh at the block, a
 * regex's block resumes its chain from a checkpoint of a first forward
 * pass (so a regex costs two passes).
 */
static int
reverse_collect(struct win *w)
{
	struct hits *h = &w->rh;
	uint64_t bs, lim, blk = BLOCK / 16, nb = w->len / blk + 1, pos;
	uint64_t *ck = NULL;
	size_t i, o, l;
	int rc = 0;

	if (w->sc->m->re != NULL) {
		/* Held by the window, which its owner frees after the guard. */
		if ((w->ck = ck = malloc(nb * sizeof(*ck))) == NULL)
			return -ENOMEM;
		if ((rc = regex_checkpoints(w, blk, ck, nb)) < 0)
			return rc;
	}
	bs = w->len - w->len % blk;
	for (;;) {
		lim = bs + blk > w->len ? w->len + 1 : bs + blk;
		h->n = 0;
		/* Forward within the block, collecting. */
		for (pos = ck != NULL ? ck[bs / blk] : bs; pos < lim; ) {
			rc = mm_match_from(w->sc->m, w->hay,
			    search_end(w, lim), pos, &o, &l);
			if (rc <= 0 || o >= lim)
				break;
			if ((rc = hits_add(h, o, l, 0)) < 0)
				goto out;
			pos = o + step(w, l);
		}
		if (rc < 0)
			goto out;
		for (i = h->n; i-- > 0; )
			if ((rc = emit(w, h->off[i], h->len[i])) != 0)
				goto out;
		mm_progress_update(w->sc->progress, w->len - bs);
		if (bs == 0)
			break;
		bs -= blk;
	}
	rc = 0;
out:
	return rc;
}

static int
reverse_seq(void *arg)
{
	struct win *w = arg;
	size_t o, l;
	int rc;

	if (w->sc->m->re != NULL && !(w->sc->flags & MM_SCAN_ALL)) {
		/* One regex match: the matcher keeps only the last. */
		if ((rc = mm_match(w->sc->m, w->hay, w->len, 1, &o, &l)) <= 0)
			return rc;
		return emit(w, o, l);
	}
	if (w->sc->m->re != NULL || (w->sc->flags & MM_SCAN_OVERLAP))
		return reverse_collect(w);
	return reverse_literal(w);
}

/* ------------------------------------------------------------ threads */

struct slot {
	uint64_t	 block;		/* which block it holds */
	int		 state;		/* 0 free, 1 busy, 2 done */
	int		 dense;		/* too many hits: redo in order */
	int		 err;
	struct hits	 h;
};

struct pool {
	struct win	*w;
	pthread_mutex_t	 mu;
	pthread_cond_t	 cv;
	uint64_t	 nblocks;
	uint64_t	 next_claim;	/* next block a worker takes */
	uint64_t	 consumed;	/* blocks handed out in order so far */
	size_t		 nslots;
	struct slot	*slots;
	int		 abort;
};

static uint64_t
block_limit(const struct win *w, uint64_t b)
{
	uint64_t lim = (b + 1) * BLOCK;

	return lim > w->len ? w->len + 1 : lim;
}

struct work {
	struct pool	*p;
	struct slot	*s;
	uint64_t	 b;
};

/* block_hits' state for mm_findall, which reports from hay + start. */
struct bhits {
	struct slot	*s;
	uint64_t	 start;
	uint64_t	 lim;
	size_t		 len;
	int		 rc;
};

static int
block_hit(void *arg, size_t off)
{
	struct bhits *b = arg;
	uint64_t o = b->start + off;
	int rc;

	if (o >= b->lim)
		return 1;
	if ((rc = hits_add(&b->s->h, o, b->len, BLOCK_MAXHITS)) < 0) {
		if (b->s->h.full)
			b->s->dense = 1;
		else
			b->rc = rc;
		return 1;
	}
	return 0;
}

/* One block's chain of matches, from the block's start. */
static int
block_hits(void *arg)
{
	struct work *k = arg;
	struct win *w = k->p->w;
	uint64_t pos = k->b * BLOCK, lim = block_limit(w, k->b);
	uint64_t hl;
	struct bhits b;
	size_t o, l;
	int rc;

	hl = search_end(w, lim);
	if (literal_all(w)) {
		b.s = k->s;
		b.start = pos;
		b.lim = lim;
		b.len = mm_needle_len(w->sc->m->needle);
		b.rc = 0;
		if (pos < lim && pos <= hl)
			mm_findall(w->sc->m->needle, w->hay + pos, hl - pos,
			    (w->sc->flags & MM_SCAN_OVERLAP) != 0, block_hit,
			    &b);
		return b.rc;
	}
	while (pos < lim) {
		if ((rc = mm_match_from(w->sc->m, w->hay, hl, pos, &o, &l)) <= 0)
			return rc;
		if (o >= lim)
			break;
		if ((rc = hits_add(&k->s->h, o, l, BLOCK_MAXHITS)) < 0) {
			if (k->s->h.full) {
				k->s->dense = 1;
				return 0;
			}
			return rc;
		}
		if (!(w->sc->flags & MM_SCAN_ALL))
			break;
		pos = o + step(w, l);
	}
	return 0;
}

static void *
worker(void *arg)
{
	struct pool *p = arg;
	struct work k;
	struct slot *s;
	uint64_t b;
	int rc;

	pthread_mutex_lock(&p->mu);
	for (;;) {
		while (!p->abort && p->next_claim < p->nblocks &&
		    p->next_claim >= p->consumed + p->nslots)
			pthread_cond_wait(&p->cv, &p->mu);
		if (p->abort || p->next_claim >= p->nblocks)
			break;
		b = p->next_claim++;
		s = &p->slots[b % p->nslots];
		s->block = b;
		s->state = 1;
		s->dense = 0;
		s->err = 0;
		s->h.n = 0;
		s->h.full = 0;
		pthread_mutex_unlock(&p->mu);

		k.p = p;
		k.s = s;
		k.b = b;
		rc = mm_guard(block_hits, &k);

		pthread_mutex_lock(&p->mu);
		s->err = rc < 0 ? rc : 0;
		s->state = 2;
		pthread_cond_broadcast(&p->cv);
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

/* Hand out block B's matches in order, re-synchronising if needed. */
static int
consume(struct win *w, struct slot *s, uint64_t b)
{
	uint64_t bs = b * BLOCK, lim = block_limit(w, b);
	uint64_t hl = search_end(w, lim);
	size_t i = 0, o, l;
	int rc;

	if (s->dense)
		return forward_range(w, bs, lim);
	/* Matches the previous block's last match ran over are not matches. */
	while (w->next > bs && i < s->h.n && s->h.off[i] < w->next)
		i++;
	if (w->next > bs && !(w->sc->flags & MM_SCAN_OVERLAP)) {
		for (;;) {
			rc = mm_match_from(w->sc->m, w->hay, hl, w->next, &o,
			    &l);
			if (rc < 0)
				return rc;
			if (rc == 0 || o >= lim) {
				w->next = w->next > lim ? w->next : lim;
				return 0;
			}
			while (i < s->h.n && s->h.off[i] < o)
				i++;
			if (i < s->h.n && s->h.off[i] == o)
				break;		/* the chains meet again */
			if ((rc = emit(w, o, l)) != 0)
				return rc;
			w->next = o + step(w, l);
		}
	}
	for (; i < s->h.n; i++) {
		if (s->h.off[i] < w->next)
			continue;
		if ((rc = emit(w, s->h.off[i], s->h.len[i])) != 0)
			return rc;
		w->next = s->h.off[i] + step(w, s->h.len[i]);
	}
	if (w->next < lim)
		w->next = lim;
	return 0;
}

static int
consume_all(void *arg)
{
	struct pool *p = arg;
	struct slot *s;
	uint64_t b;
	int rc = 0;

	for (b = 0; b < p->nblocks; b++) {
		s = &p->slots[b % p->nslots];
		pthread_mutex_lock(&p->mu);
		while (!(s->state == 2 && s->block == b))
			pthread_cond_wait(&p->cv, &p->mu);
		pthread_mutex_unlock(&p->mu);
		rc = s->err ? s->err : consume(p->w, s, b);
		mm_progress_update(p->w->sc->progress,
		    min64(block_limit(p->w, b), p->w->len));
		pthread_mutex_lock(&p->mu);
		s->state = 0;
		p->consumed = b + 1;
		pthread_cond_broadcast(&p->cv);
		pthread_mutex_unlock(&p->mu);
		if (rc != 0)
			break;
	}
	return rc;
}

static int
forward_threads(struct win *w, int nthreads)
{
	struct pool p;
	pthread_t *tids;
	int i, started = 0, rc;

	memset(&p, 0, sizeof(p));
	p.w = w;
	p.nblocks = w->len / BLOCK + 1;
	p.nslots = (size_t)nthreads * 2;
	p.slots = calloc(p.nslots, sizeof(*p.slots));
	tids = calloc((size_t)nthreads, sizeof(*tids));
	if (p.slots == NULL || tids == NULL) {
		free(p.slots);
		free(tids);
		return -ENOMEM;
	}
	pthread_mutex_init(&p.mu, NULL);
	pthread_cond_init(&p.cv, NULL);
	for (i = 0; i < nthreads; i++)
		if (pthread_create(&tids[i], NULL, worker, &p) == 0)
			started++;
	if (started == 0)
		rc = mm_guard(forward_seq, w);
	else
		rc = mm_guard(consume_all, &p);
	pthread_mutex_lock(&p.mu);
	p.abort = 1;
	pthread_cond_broadcast(&p.cv);
	pthread_mutex_unlock(&p.mu);
	for (i = 0; i < started; i++)
		pthread_join(tids[i], NULL);
	for (i = 0; i < (int)p.nslots; i++)
		hits_free(&p.slots[i].h);
	pthread_mutex_destroy(&p.mu);
	pthread_cond_destroy(&p.cv);
	free(p.slots);
	free(tids);
	return rc;
}

/* ------------------------------------------------------------ pieces */

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

static int
src_init(struct src *s, struct mm_file *f, enum mm_io io, uint64_t start,
    uint64_t end, uint64_t lag, int flags)
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

static int
src_next(struct src *s, struct mm_piece *p)
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

static void
src_free(struct src *s)
{
	mm_source_close(s->so);
	free(s->buf);
	s->so = NULL;
	s->buf = NULL;
}

/*
 * Literals over pieces, front to back.  A piece settles the matches that
 * start in it at least KEEP (the longest pattern less one) bytes before
 * its end; a seam of 2 * KEEP bytes, the last KEEP of what came before
 * and the first KEEP of the next piece, settles those.  So every match is
 * seen whole, once, a set's longest match at an offset is never cut
 * short, and nothing is copied but the seams.  A hole settles by
 * arithmetic when the pattern matches zeros, else holds no match.
 */
struct seq {
	struct win	 w;
	uint64_t	 next;		/* no match may start before */
	uint64_t	 settled;	/* starts below are done */
	size_t		 keep;
	size_t		 mlen;		/* the zero-matching needle's length */
	unsigned char	*seam;		/* 2 * keep bytes */
	size_t		 seamlen;
	uint64_t	 seamoff;
	int		 zeros;		/* the needle matches runs of zeros */
};

/* Settle the starts below UPTO in hay[0..len) at file offset BASE. */
static int
settle(struct seq *q, const unsigned char *hay, uint64_t base, uint64_t len,
    uint64_t upto)
{
	int rc;

	if (upto <= q->settled)
		return 0;
	q->w.hay = hay;
	q->w.base = base;
	q->w.len = len;
	q->w.next = q->next > base ? q->next - base : 0;
	rc = forward_range(&q->w, q->settled - base, upto - base);
	q->next = base + q->w.next;
	q->settled = upto;
	return rc;
}

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

/* Every start in [FROM, TO) of a run of zeros matches. */
static int
zero_run(struct seq *q, uint64_t from, uint64_t to)
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
seq_piece(struct seq *q, const struct mm_piece *p)
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

/* What a walk over pieces needs, for mm_guard. */
struct walk {
	const struct mm_scan	*sc;
	struct src		*r;
	void			*q;	/* struct seq or struct rseq */
	uint64_t		 start, end;
};

static int
seq_walk(void *arg)
{
	struct walk *k = arg;
	struct seq *q = k->q;
	struct mm_piece p;
	int rc;

	while ((rc = src_next(k->r, &p)) > 0) {
		if ((rc = seq_piece(q, &p)) != 0)
			return rc;
		mm_progress_update(k->sc->progress, p.off + p.len - k->start);
	}
	if (rc < 0)
		return rc;
	/*
	 * The end settles the rest, and the empty pattern's match at the
	 * very end; a stream that ends exactly at START gives no piece, yet
	 * matches there, as b''.find(b'', n) == n for len n.
	 */
	if (!k->r->reached)
		return 0;
	return settle(q, q->seam, q->seamoff, q->seamlen,
	    q->seamoff + q->seamlen + 1);
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

static int
forward_stream(const struct mm_scan *sc, struct mm_file *f, uint64_t start,
    uint64_t end, uint64_t lag)
{
	struct src r;
	struct seq q;
	struct walk k;
	int rc;

	memset(&q, 0, sizeof(q));
	q.w.sc = sc;
	q.keep = sc->m->maxlen ? sc->m->maxlen - 1 : 0;
	q.zeros = matches_zeros(sc) == 1;
	q.mlen = sc->m->maxlen;
	q.next = q.settled = q.seamoff = start;
	if ((q.seam = malloc(2 * q.keep + 1)) == NULL)
		return -ENOMEM;
	if ((rc = src_init(&r, f, sc->io, start, end, lag,
	    source_flags(sc))) == 0) {
		memset(&k, 0, sizeof(k));
		k.sc = sc;
		k.r = &r;
		k.q = &q;
		k.start = start;
		rc = mm_guard(seq_walk, &k);
	}
	src_free(&r);
	free(q.seam);
	if (rc == STOPPED)
		return q.w.stop;
	return rc < 0 ? rc : 0;
}

/*
 * Literals over pieces from the end backwards: Python's successive rfind
 * (each match's start bounds the next search), or with --overlap the
 * forward set handed out in reverse.  A piece settles the starts in it
 * at least KEEP bytes before its end; the seam (its last KEEP bytes and
 * the first KEEP of what is above) settles those first.
 */
struct rseq {
	struct win	 w;
	uint64_t	 end;		/* matches end at or before */
	size_t		 keep;
	size_t		 mlen;
	unsigned char	*seam;		/* 2 * keep bytes */
	size_t		 seamlen;	/* the first bytes above the piece */
	unsigned char	*win;		/* 2 * keep bytes */
	int		 zeros;
	int		 done;		/* a match at offset 0 ended it */
};

/* Successive rfind for the starts in [LO, HI) of hay at BASE. */
static int
rfind_region(struct rseq *q, const unsigned char *hay, uint64_t base,
    uint64_t len, uint64_t lo, uint64_t hi)
{
	const struct mm_matcher *m = q->w.sc->m;
	uint64_t we;
	size_t o, l;
	int rc;

	while (!q->done) {
		we = min64(q->end, min64(base + len,
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
			q->end = l == 0 ? lo + o - 1 : lo + o;
	}
	return 0;
}

/* Every start in [LO, HI), collected forwards, handed out backwards. */
static int
collect_region(struct rseq *q, const unsigned char *hay, uint64_t base,
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
			if ((rc = hits_add(h, base + o, l, 0)) < 0)
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
region(struct rseq *q, const unsigned char *hay, uint64_t base, uint64_t len,
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
zero_region(struct rseq *q, uint64_t lo, uint64_t hi)
{
	uint64_t top, st = q->w.sc->flags & MM_SCAN_OVERLAP ? 1 :
	    (q->mlen ? q->mlen : 1), n;
	int rc;

	if (q->done)
		return 0;
	if (q->w.sc->flags & MM_SCAN_OVERLAP)
		top = hi;
	else if (q->end >= lo + q->mlen)
		top = min64(hi, q->end - q->mlen + 1);
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
			q->end = q->mlen == 0 ? top - 1 : top;
	}
	return 0;
}

static int
rseq_piece(struct rseq *q, const struct mm_piece *p)
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

static int
rseq_walk(void *arg)
{
	struct walk *k = arg;
	struct rseq *q = k->q;
	struct mm_piece p;
	int rc;

	/* The empty pattern's match at the very end. */
	if ((rc = region(q, q->win, k->end, 0, k->end, k->end + 1)) != 0)
		return rc;
	while (!q->done && (rc = src_next(k->r, &p)) > 0) {
		if ((rc = rseq_piece(q, &p)) != 0)
			return rc;
		mm_progress_update(k->sc->progress, k->end - p.off);
	}
	return rc < 0 ? rc : 0;
}

static int
reverse_pieces(const struct mm_scan *sc, struct mm_file *f, uint64_t start,
    uint64_t end)
{
	struct src r;
	struct rseq q;
	struct walk k;
	int rc;

	memset(&q, 0, sizeof(q));
	q.w.sc = sc;
	q.end = end;
	q.keep = sc->m->maxlen ? sc->m->maxlen - 1 : 0;
	q.zeros = matches_zeros(sc) == 1;
	q.mlen = sc->m->maxlen;
	q.seam = malloc(2 * q.keep + 1);
	q.win = malloc(2 * q.keep + 1);
	if (q.seam == NULL || q.win == NULL) {
		free(q.seam);
		free(q.win);
		return -ENOMEM;
	}
	if ((rc = src_init(&r, f, sc->io, start, end, 0,
	    source_flags(sc) | MM_SOURCE_REVERSE)) == 0) {
		memset(&k, 0, sizeof(k));
		k.sc = sc;
		k.r = &r;
		k.q = &q;
		k.start = start;
		k.end = end;
		rc = mm_guard(rseq_walk, &k);
	}
	src_free(&r);
	hits_free(&q.w.rh);
	free(q.seam);
	free(q.win);
	if (rc == STOPPED)
		return q.w.stop;
	return rc < 0 ? rc : 0;
}

/*
 * A regex over a stream, front to back, in memory bounded by the
 * matches: PCRE2's hard partial matching says when a match might go on
 * past the bytes read so far, and only then are bytes kept, from that
 * match's start (less the regex's lookbehind, and at least one byte so
 * that ^ never matches at a seam).  Everything the chain of matches has
 * passed is dropped.
 */
static int
regex_stream(const struct mm_scan *sc, struct mm_file *f, uint64_t start,
    uint64_t end, uint64_t lag)
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
	if ((rc = src_init(&r, f, MM_IO_READ, start, end, lag,
	    sc->threads != 1 ? MM_SOURCE_THREAD : 0)) < 0) {
		src_free(&r);
		return rc;
	}
	memset(&w, 0, sizeof(w));
	w.sc = sc;
	while (more) {
		if ((rc = src_next(&r, &pc)) < 0)
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
			/* JIT may read ahead of the subject's end: defined bytes. */
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
	src_free(&r);
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
static int
scan_stream(const struct mm_scan *scan, struct mm_file *f, uint64_t start,
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
	rc = sc.m->re ? regex_stream(&sc, f, start, end, lag) :
	    forward_stream(&sc, f, start, end, lag);
	if (rc == 0 && (scan->flags & MM_SCAN_REVERSE) && k.found) {
		set_view(scan, k.bytes, k.off, k.bytes ? k.len : 0, 0);
		rc = scan->emit(scan->ctx, k.off, k.len);
	}
	free(k.bytes);
	return rc;
}

/* ------------------------------------------------------------ entry */

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
		rc = f->kind == MM_KIND_MEMORY ? reverse_seq(&w) :
		    mm_guard(reverse_seq, &w);
	else if (sc->threads > 1 && sc->m->re == NULL && w.len > BLOCK)
		rc = forward_threads(&w, sc->threads);
	else
		rc = f->kind == MM_KIND_MEMORY ? forward_seq(&w) :
		    mm_guard(forward_seq, &w);
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

static int
regex_backwards(struct mm_scan *sc, struct mm_file *f, uint64_t start,
    uint64_t end)
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
	if ((rc = regex_stream(&fw, f, start, end, 0)) == 0)
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
 * forwards, literals over pieces and a regex over its stream of bytes;
 * backwards, literals over pieces from the end, a regex's last match
 * from a forward scan, and its every match from a spool of them.
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
	if ((sc->flags & MM_SCAN_REVERSE) && sc->m->re != NULL)
		rc = (sc->flags & MM_SCAN_ALL) ?
		    regex_backwards(sc, f, start, end) :
		    scan_stream(sc, f, start, end, 0);
	else if (sc->flags & MM_SCAN_REVERSE)
		rc = reverse_pieces(sc, f, start, end);
	else if (sc->m->re != NULL)
		rc = regex_stream(sc, f, start, end, 0);
	else
		rc = forward_stream(sc, f, start, end, 0);
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
			return scan_stream(&sc, f, start,
			    sc.eneg ? UINT64_MAX : end, sc.eneg ? end : 0);
		} else {
			/* Nothing to sample before reading: default ranks. */
			if ((rc = mm_matcher_literals(&lit, sc.pats, sc.npats,
			    sc.mflags, NULL, 0)) < 0)
				return rc;
			sc.m = &lit;
			rc = scan_stream(&sc, f, start,
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
	if (sc.io == MM_IO_MAP && !mm_has_holes(f, start, end))
		return scan_mapped(&sc, f, start, end);
	return scan_read(&sc, f, start, end);
}
