/*
 * scan_threads.c - a mapped window front to back, split between threads.
 *
 * Threads compute blocks ahead and the calling thread hands their
 * matches out in file order; where a non-overlapping match runs over a
 * block boundary, the next block's chain of matches is re-synchronised
 * from its end (they almost always meet again at once).
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "scan_int.h"

/* A thread gives up collecting a block past this many matches. */
#define BLOCK_MAXHITS	65536

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
	if ((rc = mm_scan_hits_add(&b->s->h, o, b->len, BLOCK_MAXHITS)) < 0) {
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
		rc = mm_scan_hits_add(&k->s->h, o, l, BLOCK_MAXHITS);
		if (rc < 0) {
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
		return mm_scan_range(w, bs, lim);
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

int
mm_scan_threads(struct win *w, int nthreads)
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
		rc = mm_guard(mm_scan_forward, w);
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
