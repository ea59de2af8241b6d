/*
 * findpool.c - mmfind's several files at once: one file per worker
 * thread, printed as one thread would print them.
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "applet.h"
#include "findpool.h"

/*
 * With several FILEs, files are searched at once, one per worker thread,
 * and printed as one thread prints them: file after file, each file's
 * lines and messages in their order.  The head, the first file not yet
 * printed, writes straight out; the others hold their output (the bytes
 * of standard output and of messages, in order) until their turn.  A
 * file holding more than HOLD_MAX bytes waits for its turn, and no new
 * file starts while finished ones hold more than HOLD_DONE bytes between
 * them, so memory stays bounded whatever the files hold.
 */
#define HOLD_MAX	((size_t)4 << 20)
#define HOLD_DONE	((size_t)16 << 20)

struct pool {
	find_file_fn		 fn;
	const struct opts	*o;
	const struct mm_matcher	*re;
	int			 show;
	struct job		*jobs;
	int			 n;
	int			 next;		/* the next job to start */
	int			 head;		/* the first job not printed, or -1 */
	int			 limit;		/* the last job that counts */
	size_t			 held;		/* held by finished jobs */
	int			 idle;		/* workers done with it all */
	int			 over;		/* every job that counts printed */
	int			 nwait;		/* workers waiting on cv */
	pthread_mutex_t		 mu;
	pthread_cond_t		 cv;		/* a turn, a job done */
	pthread_cond_t		 over_cv;	/* over, for the caller */
};

struct worker {
	struct pool		*p;
	pthread_t		 tid;
	int			 idx;		/* its job */
	struct mm_matcher	 re;		/* its clone of the regex */
	int			 have_re;
};

/*
 * Waits and wake-ups under the lock.  Wake-ups are skipped when nobody
 * waits: a file that ends is no news to anyone most of the time, and a
 * futex call per file costs as much as searching a small one.
 */
static void
pool_wait(struct pool *p)
{
	p->nwait++;
	pthread_cond_wait(&p->cv, &p->mu);
	p->nwait--;
}

static void
pool_wake(struct pool *p)
{
	if (p->nwait > 0)
		pthread_cond_broadcast(&p->cv);
}

static int
my_turn(struct pool *p, int idx)
{
	return __atomic_load_n(&p->head, __ATOMIC_ACQUIRE) == idx;
}

/* Keep LEN bytes for FD at the end of J's held output. */
static int
hold(struct job *j, int fd, const void *buf, size_t len)
{
	/* Nothing to keep (-h -c writes an empty prefix): no memcpy of NULL. */
	if (len == 0)
		return 0;
	if (app_grow(&j->buf, &j->cap, j->len + len, 1, 4096) < 0)
		return -ENOMEM;
	if (j->nsegs == 0 || j->segs[j->nsegs - 1].fd != fd) {
		if (app_grow(&j->segs, &j->segcap, j->nsegs + 1,
		    sizeof(*j->segs), 8) < 0)
			return -ENOMEM;
		j->segs[j->nsegs].fd = fd;
		j->segs[j->nsegs++].len = 0;
	}
	memcpy(j->buf + j->len, buf, len);
	j->len += len;
	j->segs[j->nsegs - 1].len += len;
	return 0;
}

/* Print what J holds, in order, and forget it; stops at an error. */
static int
emit_held(struct job *j, int release)
{
	size_t i, at = 0;
	int rc = 0;

	for (i = 0; i < j->nsegs && rc == 0; i++) {
		rc = app_emit(j->segs[i].fd, j->buf + at, j->segs[i].len);
		at += j->segs[i].len;
	}
	j->len = 0;
	j->nsegs = 0;
	if (release) {
		free(j->buf);
		free(j->segs);
		j->buf = NULL;
		j->segs = NULL;
		j->cap = j->segcap = 0;
	}
	return rc;
}

/* Wait until job IDX is the head (1), or counts no more (0). */
static int
wait_turn(struct pool *p, int idx)
{
	int mine;

	pthread_mutex_lock(&p->mu);
	while (p->head != idx && idx <= p->limit)
		pool_wait(p);
	mine = p->head == idx;
	pthread_mutex_unlock(&p->mu);
	return mine;
}

/* The app_capture sink of a worker: straight out, or held. */
static int
sink(void *ctx, int fd, const void *buf, size_t len)
{
	struct worker *w = ctx;
	struct job *j = &w->p->jobs[w->idx];
	int held = 0, rc;

	if (!my_turn(w->p, w->idx)) {
		/* Without memory to hold it, it waits for its turn. */
		if ((held = hold(j, fd, buf, len) == 0) && j->len < HOLD_MAX)
			return 0;
		if (!wait_turn(w->p, w->idx))
			return -ECANCELED;	/* an earlier file ended it */
	}
	if (j->nsegs > 0 && (rc = emit_held(j, 0)) < 0)
		return rc;
	return held ? 0 : app_emit(fd, buf, len);
}

/*
 * The owner of the head, job K, done: print the finished jobs that
 * follow it, and hand the head on to the first that is not.
 */
static void
advance(struct pool *p, int k)
{
	struct job *j;

	for (;;) {
		j = &p->jobs[k];
		/* Held output that cannot be printed ends it, as if written. */
		if (emit_held(j, 1) < 0)
			j->r = 3;
		pthread_mutex_lock(&p->mu);
		if (j->r == 3 && k < p->limit)
			p->limit = k;
		k++;
		if (k >= p->n || k > p->limit)
			p->over = 1;
		/* Past the last job that counts, it is nobody's turn. */
		__atomic_store_n(&p->head, p->over ? -1 : k, __ATOMIC_RELEASE);
		pool_wake(p);
		if (p->over)
			pthread_cond_signal(&p->over_cv);
		if (p->over || !p->jobs[k].done) {
			pthread_mutex_unlock(&p->mu);
			return;
		}
		p->held -= p->jobs[k].len;
		pthread_mutex_unlock(&p->mu);
	}
}

static void
finish(struct pool *p, int idx, int r)
{
	struct job *j = &p->jobs[idx];

	pthread_mutex_lock(&p->mu);
	j->r = r;
	j->done = 1;
	if (r == 3 && idx < p->limit)
		p->limit = idx;
	if (p->head != idx) {
		p->held += j->len;
		pool_wake(p);
		pthread_mutex_unlock(&p->mu);
		return;
	}
	pthread_mutex_unlock(&p->mu);
	advance(p, idx);
}

/* The next job to search, -1 when none is left; under the lock. */
static int
next_job(struct pool *p)
{
	int idx, after;

	/* Finished files hold too much: only the head may start. */
	while (p->held > HOLD_DONE && p->next != p->head &&
	    p->next <= p->limit)
		pool_wait(p);
	if (p->next >= p->n || p->next > p->limit)
		return -1;
	idx = p->next++;
	/* One stream read by two jobs at once would be split between them. */
	after = p->jobs[idx].after;
	while (after >= 0 && !p->jobs[after].done && idx <= p->limit)
		pool_wait(p);
	return idx;
}

static void *
work(void *arg)
{
	struct worker *w = arg;
	struct pool *p = w->p;
	int r, skip;

	for (;;) {
		pthread_mutex_lock(&p->mu);
		if ((w->idx = next_job(p)) < 0) {
			p->idle++;
			pthread_mutex_unlock(&p->mu);
			return NULL;
		}
		skip = w->idx > p->limit;
		pthread_mutex_unlock(&p->mu);
		r = 3;
		if (!skip) {
			app_capture(sink, w);
			r = p->fn(p->o, p->re != NULL ? &w->re : NULL,
			    p->jobs[w->idx].path, p->show);
			app_capture(NULL, NULL);
		}
		finish(p, w->idx, r);
	}
}

/*
 * Workers left searching when the answer is known (see find_parallel):
 * volatile, so that the stores that keep them reachable stay.
 */
static struct pool	*volatile detached_pool;
static struct worker	*volatile detached_workers;

/* Does PATH read a stream (standard input, a FIFO...), and which? */
static int
stream_id(const char *path, struct stat *st)
{
	if (strcmp(path, "-") == 0) {
		if (fstat(STDIN_FILENO, st) != 0)
			st->st_dev = st->st_ino = 0;
		return 1;
	}
	if (stat(path, st) != 0)
		return 0;
	return S_ISFIFO(st->st_mode) || S_ISCHR(st->st_mode) ||
	    S_ISSOCK(st->st_mode);
}

int
find_parallel(find_file_fn fn, const struct opts *o,
    const struct mm_matcher *re,
    const char **ops, const unsigned char *regular, int n, int show,
    int nthreads, struct job **jobsp, int *detached)
{
	struct pool *p;
	struct worker *w;
	struct stat *sts;
	int i, k, nw = 0;

	*detached = 0;
	p = calloc(1, sizeof(*p));
	w = calloc((size_t)nthreads, sizeof(*w));
	sts = calloc((size_t)n, sizeof(*sts));
	if (p == NULL || w == NULL || sts == NULL ||
	    (p->jobs = calloc((size_t)n, sizeof(*p->jobs))) == NULL) {
		free(sts);
		free(w);
		free(p);
		return -1;
	}
	for (i = 0; i < n; i++) {
		p->jobs[i].path = ops[i];
		p->jobs[i].after = -1;
		if ((regular != NULL && regular[i]) ||
		    !stream_id(ops[i], &sts[i])) {
			sts[i].st_ino = 0;
			sts[i].st_dev = 0;
			sts[i].st_mode = 0;
			continue;
		}
		sts[i].st_mode = 1;	/* a stream */
		for (k = i - 1; k >= 0; k--)
			if (sts[k].st_mode == 1 &&
			    sts[k].st_dev == sts[i].st_dev &&
			    sts[k].st_ino == sts[i].st_ino)
				break;
		p->jobs[i].after = k;
	}
	free(sts);
	p->fn = fn;
	p->o = o;
	p->re = re;
	p->show = show;
	p->n = n;
	p->limit = n - 1;
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv, NULL);
	pthread_cond_init(&p->over_cv, NULL);
	for (i = 0; i < nthreads; i++) {
		w[nw].p = p;
		if (re != NULL && mm_matcher_clone(&w[nw].re, re) < 0)
			break;
		w[nw].have_re = re != NULL;
		if (pthread_create(&w[nw].tid, NULL, work, &w[nw]) != 0) {
			if (w[nw].have_re)
				mm_matcher_free(&w[nw].re);
			break;
		}
		nw++;
	}
	pthread_mutex_lock(&p->mu);
	if (nw == 0)
		p->over = 1;
	while (!p->over)
		pthread_cond_wait(&p->over_cv, &p->mu);
	*detached = p->idle < nw;
	k = nw == 0 ? -1 : p->limit;
	pthread_mutex_unlock(&p->mu);
	*jobsp = p->jobs;
	if (*detached) {
		/* Still theirs until the process ends: kept where seen. */
		detached_pool = p;
		detached_workers = w;
		for (i = 0; i < nw; i++)
			pthread_detach(w[i].tid);
		return k;
	}
	for (i = 0; i < nw; i++) {
		pthread_join(w[i].tid, NULL);
		if (w[i].have_re)
			mm_matcher_free(&w[i].re);
	}
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->cv);
	pthread_cond_destroy(&p->over_cv);
	free(w);
	free(p);
	return k;
}

void
find_jobs_free(struct job *jobs, int n)
{
	int i;

	for (i = 0; jobs != NULL && i < n; i++) {
		free(jobs[i].buf);
		free(jobs[i].segs);
	}
	free(jobs);
}
