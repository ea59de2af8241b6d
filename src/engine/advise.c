/*
 * advise.c - the table of advices and madvise over a file, one window of
 * the file at a time.  evict is not an madvise: it writes the dirty pages
 * back (fdatasync) and then drops the range from the page cache
 * (posix_fadvise DONTNEED).  remove is not an madvise either: MADV_REMOVE
 * punches whole pages, and so zeroes bytes outside a range whose ends are
 * not page aligned; remove punches exactly the range instead.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
/* glibc's <sys/mman.h> lags the kernel's: MADV_COLLAPSE and later. */
#if defined(__has_include)
#if __has_include(<linux/mman.h>)
#include <linux/mman.h>
#endif
#endif

#include <linux/falloc.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "advise.h"
#include "advise_int.h"

#ifndef MADV_FREE
#define MADV_FREE		(-1)
#endif
#ifndef MADV_REMOVE
#define MADV_REMOVE		(-1)
#endif
#ifndef MADV_DONTFORK
#define MADV_DONTFORK		(-1)
#endif
#ifndef MADV_DOFORK
#define MADV_DOFORK		(-1)
#endif
#ifndef MADV_MERGEABLE
#define MADV_MERGEABLE		(-1)
#endif
#ifndef MADV_UNMERGEABLE
#define MADV_UNMERGEABLE	(-1)
#endif
#ifndef MADV_HUGEPAGE
#define MADV_HUGEPAGE		(-1)
#endif
#ifndef MADV_NOHUGEPAGE
#define MADV_NOHUGEPAGE		(-1)
#endif
#ifndef MADV_DONTDUMP
#define MADV_DONTDUMP		(-1)
#endif
#ifndef MADV_DODUMP
#define MADV_DODUMP		(-1)
#endif
#ifndef MADV_WIPEONFORK
#define MADV_WIPEONFORK		(-1)
#endif
#ifndef MADV_KEEPONFORK
#define MADV_KEEPONFORK		(-1)
#endif
#ifndef MADV_COLD
#define MADV_COLD		(-1)
#endif
#ifndef MADV_PAGEOUT
#define MADV_PAGEOUT		(-1)
#endif
#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ	(-1)
#endif
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE	(-1)
#endif
#ifndef MADV_DONTNEED_LOCKED
#define MADV_DONTNEED_LOCKED	(-1)
#endif
#ifndef MADV_COLLAPSE
#define MADV_COLLAPSE		(-1)
#endif
#ifndef MADV_GUARD_INSTALL
#define MADV_GUARD_INSTALL	(-1)
#endif
#ifndef MADV_GUARD_REMOVE
#define MADV_GUARD_REMOVE	(-1)
#endif

/*
 * Every advice Linux knows for a mapping, whether or not this build's
 * headers do (so a missing one is "not in this build", not "unknown").
 * Left out on purpose: MADV_HWPOISON and MADV_SOFT_OFFLINE, which take
 * memory out of service (a test tool for the kernel, not advice).
 */
static const struct mm_advice advices[] = {
	{ "normal", MADV_NORMAL, 0,
	    "no special treatment: the default readahead" },
	{ "random", MADV_RANDOM, 0,
	    "expect random access: no readahead on faults" },
	{ "sequential", MADV_SEQUENTIAL, 0,
	    "expect sequential access: aggressive readahead" },
	{ "willneed", MADV_WILLNEED, MM_ADV_FETCH | MM_ADV_LASTING,
	    "read the range into the page cache in the background" },
	{ "dontneed", MADV_DONTNEED, 0,
	    "unmap the range here; the page cache keeps it (see evict)" },
	{ "free", MADV_FREE, 0,
	    "free private anonymous memory lazily (not for files)" },
	{ "remove", MADV_REMOVE, MM_ADV_WRITE | MM_ADV_DATA | MM_ADV_LASTING,
	    "zero exactly the range, freeing its blocks (a punched hole)" },
	{ "dontfork", MADV_DONTFORK, 0,
	    "do not pass the mapping on to child processes" },
	{ "dofork", MADV_DOFORK, 0,
	    "undo dontfork" },
	{ "mergeable", MADV_MERGEABLE, 0,
	    "let KSM merge identical pages (anonymous memory)" },
	{ "unmergeable", MADV_UNMERGEABLE, 0,
	    "undo mergeable" },
	{ "hugepage", MADV_HUGEPAGE, 0,
	    "back the range with transparent huge pages where possible" },
	{ "nohugepage", MADV_NOHUGEPAGE, 0,
	    "never back the range with transparent huge pages" },
	{ "dontdump", MADV_DONTDUMP, 0,
	    "leave the range out of core dumps" },
	{ "dodump", MADV_DODUMP, 0,
	    "undo dontdump" },
	{ "wipeonfork", MADV_WIPEONFORK, 0,
	    "a child sees the range zeroed (private anonymous memory)" },
	{ "keeponfork", MADV_KEEPONFORK, 0,
	    "undo wipeonfork" },
	{ "cold", MADV_COLD, MM_ADV_MAPPED | MM_ADV_LASTING,
	    "deactivate the cached pages: reclaimed first when memory is short" },
	{ "pageout", MADV_PAGEOUT, MM_ADV_MAPPED | MM_ADV_LASTING,
	    "reclaim the clean cached pages now" },
	{ "populate-read", MADV_POPULATE_READ, MM_ADV_FETCH | MM_ADV_LASTING,
	    "read the range in and map it, waiting for the reads" },
	{ "populate-write", MADV_POPULATE_WRITE,
	    MM_ADV_WRITE | MM_ADV_FETCH | MM_ADV_LASTING,
	    "fault the range in writable: allocates blocks under holes" },
	{ "dontneed-locked", MADV_DONTNEED_LOCKED, 0,
	    "as dontneed, locked pages too" },
	{ "collapse", MADV_COLLAPSE, 0,
	    "collapse the cached range into transparent huge pages now" },
	{ "guard-install", MADV_GUARD_INSTALL, 0,
	    "make the range fault on access, here only" },
	{ "guard-remove", MADV_GUARD_REMOVE, 0,
	    "undo guard-install" },
	{ "evict", 0, MM_ADV_EVICT | MM_ADV_LASTING,
	    "write back dirty pages, then drop the range from the page cache" },
};
#define NADVICES	(sizeof(advices) / sizeof(advices[0]))

const struct mm_advice *
mm_advice_table(size_t *count)
{
	*count = NADVICES;
	return advices;
}

const struct mm_advice *
mm_advice_find(const char *name)
{
	char norm[32];
	size_t i, n;

	if (strncasecmp(name, "madv_", 5) == 0)
		name += 5;
	for (n = 0; name[n] != '\0'; n++) {
		if (n + 1 >= sizeof(norm))
			return NULL;
		norm[n] = name[n] == '_' ? '-' :
		    (char)tolower((unsigned char)name[n]);
	}
	norm[n] = '\0';
	for (i = 0; i < NADVICES; i++)
		if (strcmp(advices[i].name, norm) == 0)
			return &advices[i];
	return NULL;
}

/* ------------------------------------------------------------ remove */

/* Punch [OFF, OFF+LEN) of FD out, keeping the size; -errno. */
static int
punch(int fd, uint64_t off, uint64_t len)
{
#ifdef HAVE_FALLOCATE
	while (fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
	    (off_t)off, (off_t)len) == -1) {
		if (errno != EINTR)
			return errno == ENOSYS ? -EOPNOTSUPP : -errno;
	}
	return 0;
#else
	(void)fd;
	(void)off;
	(void)len;
	return -EOPNOTSUPP;
#endif
}

static int
write_zeros(int fd, uint64_t off, uint64_t len)
{
	static const unsigned char zeros[4096];
	ssize_t n;

	while (len > 0) {
		n = pwrite(fd, zeros, len < sizeof(zeros) ? (size_t)len :
		    sizeof(zeros), (off_t)off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return -errno;
		if (n == 0)
			return -EIO;
		off += (uint64_t)n;
		len -= (uint64_t)n;
	}
	return 0;
}

void
mm_adv_hole_plan(uint64_t size, uint64_t off, uint64_t len, uint64_t align,
    struct mm_adv_hole *h)
{
	uint64_t end = off + len, lo, hi;

	lo = off + (align - off % align) % align;
	hi = end == size ? end : end - end % align;
	h->head = off;
	if (lo >= hi) {
		/* No whole unit inside: every byte is written. */
		h->headlen = len;
		h->punch = h->tail = end;
		h->punchlen = h->taillen = 0;
		return;
	}
	h->headlen = lo - off;
	h->punch = lo;
	h->punchlen = hi - lo;
	h->tail = hi;
	h->taillen = end - hi;
}

int
mm_adv_hole_apply(const struct mm_file *f, const struct mm_adv_hole *h)
{
	int rc;

	/* The punch first: if it cannot be done, nothing has changed. */
	if (h->punchlen > 0 && (rc = punch(f->fd, h->punch, h->punchlen)) < 0)
		return rc;
	if (h->headlen > 0 && (rc = write_zeros(f->fd, h->head, h->headlen))
	    < 0)
		return rc;
	if (h->taillen > 0 && (rc = write_zeros(f->fd, h->tail, h->taillen))
	    < 0)
		return rc;
	return 0;
}

/*
 * Whether block device F can punch (write zeroes without writing them):
 * a range too small to hold a whole page is only written, and must not
 * succeed where a larger one would fail.  0 when it can or when sysfs
 * does not say.
 */
static int
device_punches(const struct mm_file *f)
{
	static const char *where[] = { "queue", "../queue" };
	struct stat st;
	char path[96];
	unsigned long long max;
	size_t i;
	FILE *fp;
	int n;

	if (fstat(f->fd, &st) == -1)
		return -errno;
	/* A partition has its disk's queue. */
	for (i = 0; i < sizeof(where) / sizeof(where[0]); i++) {
		snprintf(path, sizeof(path), "/sys/dev/block/%u:%u/%s/"
		    "write_zeroes_max_bytes", major(st.st_rdev),
		    minor(st.st_rdev), where[i]);
		if ((fp = fopen(path, "re")) == NULL)
			continue;
		n = fscanf(fp, "%llu", &max);
		fclose(fp);
		if (n == 1)
			return max == 0 ? -EOPNOTSUPP : 0;
	}
	return 0;
}

int
mm_adv_remove(const struct mm_file *f, uint64_t off, uint64_t len)
{
	struct mm_adv_hole h;
	uint64_t lo, hi;
	int rc;

	if ((rc = mm_page_span(off, len, (uint64_t)f->size, &lo, &hi)) < 0)
		return rc;
	if (len == 0)
		return 0;
	/*
	 * MADV_REMOVE is this fallocate over whole pages.  Over the exact
	 * range, the file system zeroes the partial blocks at the ends
	 * itself, in the same call, and refuses before it changes anything
	 * if it cannot punch.
	 */
	rc = punch(f->fd, off, len);
	if (rc != -EINVAL || f->kind != MM_KIND_BLOCK)
		return rc;
	/* A device punches whole sectors only (an unaligned range: EINVAL). */
	if ((rc = device_punches(f)) < 0)
		return rc;
	mm_adv_hole_plan((uint64_t)f->size, off, len, mm_pagesize(), &h);
	return mm_adv_hole_apply(f, &h);
}

/* ------------------------------------------------------------ madvise */

/* Map the cached pages of [P, P+LEN) here, without reading any in. */
static int
map_resident(unsigned char *p, size_t len, unsigned char *vec)
{
	size_t ps = mm_pagesize(), np = (len + ps - 1) / ps, i, j;
	int rc;

	if (mincore(p, len, vec) == -1)
		return -errno;
	for (i = 0; i < np; i = j) {
		for (; i < np && !(vec[i] & 1); i++)
			;
		for (j = i; j < np && (vec[j] & 1); j++)
			;
		if (j > i && (rc = mm_adv_populate(p + i * ps,
		    (j - i) * ps < len - i * ps ? (j - i) * ps : len - i * ps))
		    < 0)
			return rc;
	}
	return 0;
}

static int
advise_chunk(struct mm_file *f, const struct mm_advice *a, unsigned char *p,
    size_t len, uint64_t fileoff, unsigned char *vec)
{
	int rc;

	if (a->flags & MM_ADV_EVICT) {
		uint64_t lo, hi;

		/* Whole pages: fadvise keeps a partial last page. */
		(void)mm_page_span(fileoff, len, MM_OFF_MAX, &lo, &hi);
		return -posix_fadvise(f->fd, (off_t)lo, (off_t)(hi - lo),
		    POSIX_FADV_DONTNEED);
	}
	/*
	 * cold and pageout walk this process's page tables: a page of the
	 * cache that is not mapped here is not seen.  Map the cached ones.
	 */
	if ((a->flags & MM_ADV_MAPPED) && (rc = map_resident(p, len, vec)) < 0)
		return rc;
	while (madvise(p, len, a->advice) == -1) {
		if (errno == EAGAIN || errno == EINTR)
			continue;
		/* A populate that faults past the end: the file shrank. */
		return errno == EFAULT ? -EIO : -errno;
	}
	return 0;
}

struct advise_job {
	struct mm_file		*f;
	const struct mm_advice	*a;
	uint64_t		 lo;	/* where the walk starts */
	unsigned char		*vec;	/* mincore's, for MM_ADV_MAPPED */
	struct mm_progress	*progress;
};

static int
advise_window(void *arg, struct mm_map *m, uint64_t done)
{
	struct advise_job *j = arg;
	int rc;

	/* Populating faults page by page: read ahead in bulk. */
	if ((j->a->flags & MM_ADV_FETCH) && j->a->advice != MADV_WILLNEED)
		madvise(m->base, m->baselen, MADV_SEQUENTIAL);
	/* Stop between windows. */
	rc = mm_signals_pending() ? -EINTR : advise_chunk(j->f, j->a,
	    m->data, m->len, j->lo + done, j->vec);
	mm_progress_update(j->progress, done + m->len);
	return rc;
}

int
mm_advise(struct mm_file *f, const struct mm_advice *a, uint64_t off,
    uint64_t len, struct mm_progress *progress)
{
	struct advise_job j;
	uint64_t lo, hi;
	int rc;

	if (!(a->flags & MM_ADV_EVICT) && a->advice < 0)
		return -ENOTSUP;
	if (a->flags & MM_ADV_DATA) {
		if ((rc = mm_adv_remove(f, off, len)) == 0)
			mm_progress_update(progress, len);
		return rc;
	}
	if ((rc = mm_page_span(off, len, (uint64_t)f->size, &lo, &hi)) < 0)
		return rc;
	if (len == 0)
		return 0;
	/*
	 * fadvise drops clean pages only: clean them first, and commit, or
	 * the file system may still hold on to them.  Not msync: a mapping
	 * of a file open read-only is not shared for msync, which then does
	 * nothing.  fdatasync also catches pages that other processes
	 * dirtied through their own mappings.
	 */
	if ((a->flags & MM_ADV_EVICT) && fdatasync(f->fd) == -1 &&
	    errno != EINVAL)
		return -errno;
	j.f = f;
	j.a = a;
	j.lo = lo;
	j.vec = NULL;
	j.progress = progress;
	if ((a->flags & MM_ADV_MAPPED) &&
	    (j.vec = malloc(MM_WINDOW / mm_pagesize() + 1)) == NULL)
		return -ENOMEM;
	rc = mm_map_walk(f, lo, hi - lo, MM_WINDOW, advise_window, &j);
	free(j.vec);
	return rc;
}
