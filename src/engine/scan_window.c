/*
 * scan_window.c - a matcher run over a window of memory (a mapped file,
 * a file read whole, a seam between pieces) the way Python's find and
 * rfind would, repeated for "all".
 *
 * A mapped window is scanned in blocks: a literal's search window is the
 * block plus the longest pattern less one byte, so each block reports
 * exactly the matches that start in it.
 */
#include "config.h"

#include <sys/mman.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "scan_int.h"

/* mm_scan_range's state for mm_findall, which reports from hay + start. */
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

int
mm_scan_range(struct win *w, uint64_t from, uint64_t limit)
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

int
mm_scan_forward(void *arg)
{
	struct win *w = arg;
	uint64_t b, lim;
	int rc;

	/* A regex is not split: each block would rescan to the next match. */
	if (w->sc->m->re != NULL)
		return mm_scan_range(w, 0, w->len + 1);
	for (b = 0; b <= w->len; b += BLOCK) {
		lim = b + BLOCK > w->len ? w->len + 1 : b + BLOCK;
		if ((rc = mm_scan_range(w, b, lim)) != 0)
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

int
mm_scan_hits_add(struct hits *h, uint64_t off, size_t len, size_t max)
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
			if ((rc = mm_scan_hits_add(h, o, l, 0)) < 0)
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

int
mm_scan_reverse(void *arg)
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
