/*
 * resident.c - page-cache residency from mincore, and fetching a range
 * until all of it is resident.
 *
 * mincore over a mapping that is never touched reads nothing in: a cold
 * file stays cold and a sparse file stays sparse while it is measured.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "advise.h"
#include "advise_int.h"

int
mm_adv_populate(unsigned char *p, size_t len)
{
	if (len == 0)
		return 0;
#if defined(MADV_POPULATE_READ)
	while (madvise(p, len, MADV_POPULATE_READ) == -1) {
		if ((errno == EINTR || errno == EAGAIN) &&
		    !mm_signals_pending())
			continue;
		if (errno == EINTR)
			return -EINTR;
		/* Before Linux 5.14: touch one byte per page instead. */
		if (errno == EINVAL)
			goto touch;
		return errno == EFAULT ? -EIO : -errno;
	}
	return 0;
touch:
#endif
	return mm_touch_pages(p, len, 0);
}

int
mm_residency_visible(const struct mm_file *f)
{
	struct stat st;
	char path[64];

	if (geteuid() == 0)
		return 0;
	if (fstat(f->fd, &st) == -1)
		return -errno;
	if (st.st_uid == geteuid())
		return 0;
	/* What the kernel asks: could this process open it for writing? */
	snprintf(path, sizeof(path), "/proc/self/fd/%d", f->fd);
	if (faccessat(AT_FDCWD, path, W_OK, AT_EACCESS) == 0)
		return 0;
	/* Without /proc there is no telling: trust the kernel. */
	return errno == ENOENT ? 0 : -EACCES;
}

/*
 * cachestat (Linux 6.5) counts the cached pages of a range by walking
 * only what the cache holds, where mincore looks at every page: a window
 * with nothing cached (a cold or sparse part of a huge file) is then
 * known at once, and so is a window with every page cached.  mincore
 * looks at the windows in between.  (cachestat also counts pages still
 * being read, which mincore does not: waiting asks mincore alone.)
 */
#if defined(__linux__) && !defined(__NR_cachestat)
#define __NR_cachestat	451
#endif

struct cachestat_range {
	uint64_t	off, len;
};

struct cachestat {
	uint64_t	nr_cache, nr_dirty, nr_writeback, nr_evicted,
			nr_recently_evicted;
};

/* Cached pages of [OFF, OFF+LEN), or -1 when cachestat cannot tell. */
static int64_t
cached_pages(int fd, uint64_t off, uint64_t len)
{
#ifdef __NR_cachestat
	static int unsupported;
	struct cachestat_range r = { off, len };
	struct cachestat cs;

	if (unsupported)
		return -1;
	if (syscall(__NR_cachestat, fd, &r, &cs, 0) == -1) {
		if (errno == ENOSYS || errno == EPERM)
			unsupported = 1;
		return -1;
	}
	return (int64_t)cs.nr_cache;
#else
	(void)fd;
	(void)off;
	(void)len;
	return -1;
#endif
}

/* The run being built while pages are walked. */
struct walk {
	mm_run_fn	 fn;
	void		*arg;
	uint64_t	 start;
	int		 state;		/* -1: no run yet */
};

static int
walk_page(struct walk *w, uint64_t at, int state)
{
	int rc = 0;

	if (state == w->state)
		return 0;
	if (w->state >= 0 && w->fn != NULL)
		rc = w->fn(w->arg, w->start, at - w->start, w->state);
	w->start = at;
	w->state = state;
	return rc;
}

static int
residency(const struct mm_file *f, uint64_t off, uint64_t len, int exact,
    mm_run_fn fn, void *arg, struct mm_residency *res)
{
	struct walk w = { fn, arg, 0, -1 };
	struct mm_map m;
	unsigned char *vec;
	uint64_t ps = mm_pagesize(), lo, hi, end, pos, at, a, b;
	size_t n, i, np;
	int64_t cached;
	int rc;

	memset(res, 0, sizeof(*res));
	if ((rc = mm_page_span(off, len, (uint64_t)f->size, &lo, &hi)) < 0)
		return rc;
	if (len == 0)
		return 0;
	end = off + len;
	if ((vec = malloc(MM_WINDOW / ps + 1)) == NULL)
		return -ENOMEM;
	for (pos = lo; pos < hi && rc == 0; pos += n) {
		n = hi - pos < MM_WINDOW ? (size_t)(hi - pos) :
		    MM_WINDOW;
		np = (n + ps - 1) / ps;
		cached = exact ? -1 : cached_pages(f->fd, pos, n);
		if (cached == 0 || cached == (int64_t)np) {
			a = pos < off ? off : pos;
			b = pos + n > end ? end : pos + n;
			res->pages += np;
			res->bytes += b - a;
			if (cached > 0) {
				res->resident_pages += np;
				res->resident_bytes += b - a;
			}
			rc = walk_page(&w, pos, cached > 0);
			continue;
		}
		if ((rc = mm_map(f, (off_t)pos, n, &m)) < 0)
			break;
		while (mincore(m.data, n, vec) == -1) {
			if (errno != EAGAIN) {
				rc = -errno;
				break;
			}
		}
		for (i = 0; i < np && rc == 0; i++) {
			at = pos + i * ps;
			/* The bytes of this page inside [off, off+len). */
			a = at < off ? off : at;
			b = at + ps > end ? end : at + ps;
			res->pages++;
			res->bytes += b - a;
			if (vec[i] & 1) {
				res->resident_pages++;
				res->resident_bytes += b - a;
			}
			rc = walk_page(&w, at, vec[i] & 1);
		}
		mm_unmap(&m);
	}
	free(vec);
	if (rc == 0 && w.state >= 0 && fn != NULL)
		rc = fn(arg, w.start, hi - w.start, w.state);
	return rc;
}

int
mm_residency(const struct mm_file *f, uint64_t off, uint64_t len,
    mm_run_fn fn, void *arg, struct mm_residency *res)
{
	return residency(f, off, len, 0, fn, arg, res);
}

struct fetch {
	struct mm_file		*f;
	struct mm_progress	*progress;
	uint64_t		 lo;
	uint64_t		 run;		/* where fetch_run's run starts */
	double			 deadline;	/* 0: none */
};

static int
fetch_window(void *arg, struct mm_map *m, uint64_t done)
{
	struct fetch *x = arg;
	int rc;

	if (mm_signals_pending())
		return -EINTR;
	if (x->deadline > 0 && mm_now() > x->deadline)
		return -ETIMEDOUT;
	/* Faults then read ahead in large requests. */
	madvise(m->base, m->baselen, MADV_SEQUENTIAL);
	if ((rc = mm_adv_populate(m->data, m->len)) == 0)
		mm_progress_update(x->progress, x->run + done + m->len - x->lo);
	return rc;
}

/* A run of missing pages: read it in, a window at a time. */
static int
fetch_run(void *arg, uint64_t off, uint64_t len, int resident)
{
	struct fetch *x = arg;

	if (resident)
		return 0;
	x->run = off;
	return mm_map_walk(x->f, off, len, MM_WINDOW, fetch_window, x);
}

/* Passes in a row that end no better than the best one so far. */
#define FETCH_STALLS	5

int
mm_fetch_wait(struct mm_file *f, uint64_t off, uint64_t len, double timeout,
    struct mm_progress *progress, struct mm_residency *res)
{
	struct fetch x;
	struct timespec nap = { 0, 10 * 1000 * 1000 };
	uint64_t hi, best = 0;
	int rc, pass, stalls = 0;

	if ((rc = mm_page_span(off, len, (uint64_t)f->size, &x.lo, &hi)) < 0)
		return rc;
	x.f = f;
	x.progress = progress;
	x.deadline = timeout > 0 ? mm_now() + timeout : 0;
	for (pass = 0;; pass++) {
		/* Counts what was resident before this pass fetched. */
		rc = residency(f, off, len, 1, fetch_run, &x, res);
		if (rc < 0 && rc != -ETIMEDOUT)
			return rc;
		if (rc == 0 && res->resident_pages == res->pages)
			return 0;
		if (rc == -ETIMEDOUT ||
		    (x.deadline > 0 && mm_now() > x.deadline)) {
			/* The last word: what is resident now. */
			rc = residency(f, off, len, 1, NULL, NULL, res);
			if (rc == 0 && res->resident_pages == res->pages)
				return 0;
			return rc < 0 ? rc : -ETIMEDOUT;
		}
		/*
		 * Pages evicted as fast as they come in: the range does not
		 * fit in memory, and no number of passes will change that.
		 */
		if (pass > 0 && res->resident_pages <= best) {
			if (++stalls >= FETCH_STALLS)
				return -ENOMEM;
		} else
			stalls = 0;
		if (res->resident_pages > best)
			best = res->resident_pages;
		if (pass > 0)
			nanosleep(&nap, NULL);
	}
}
