/*
 * resize.c - growing and shrinking files, at the end or in the middle.
 *
 * The rule everywhere: reserve what a step needs before the step that
 * cannot be taken back, and undo the earlier steps when a later one
 * fails.  Growing reserves the blocks first (fallocate past the end, or
 * faulting the pages in for writing), an insert or remove that moves the
 * tail lets mm_move reserve its destination before the first byte moves,
 * and fallocate's insert/collapse range are single steps of the file
 * system.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#ifdef HAVE_LINUX_FALLOC_H
#include <linux/falloc.h>
#endif
/* Linux's values, for headers that lack them: the kernel then says no. */
#ifndef FALLOC_FL_KEEP_SIZE
#define FALLOC_FL_KEEP_SIZE		0x01
#endif
#ifndef FALLOC_FL_COLLAPSE_RANGE
#define FALLOC_FL_COLLAPSE_RANGE	0x08
#endif
#ifndef FALLOC_FL_INSERT_RANGE
#define FALLOC_FL_INSERT_RANGE		0x20
#endif

#include "journal.h"
#include "move.h"
#include "resize.h"

/* Copy a fill pattern from its own first bytes in blocks this size. */
#define FILL_BLOCK	((size_t)256 << 10)

/* ---------------------------------------------------------------- grammar */

int
mm_size_spec_parse(const char *s, struct mm_size_spec *spec)
{
	uint64_t v;
	int rc;

	switch (s[0]) {
	case '+': case '-': case '<': case '>': case '/': case '%':
		spec->op = (enum mm_size_op)s[0];
		s++;
		break;
	default:
		spec->op = MM_SIZE_SET;
		break;
	}
	if ((rc = mm_parse_size(s, &v)) < 0)
		return rc;
	if (v == 0 && (spec->op == MM_SIZE_DOWN || spec->op == MM_SIZE_UP))
		return -EDOM;
	spec->val = v;
	return 0;
}

int
mm_size_spec_apply(const struct mm_size_spec *spec, uint64_t old,
    uint64_t *newsize)
{
	uint64_t v = spec->val, r;

	switch (spec->op) {
	case MM_SIZE_SET:
		*newsize = v;
		return 0;
	case MM_SIZE_GROW:
		if (v > MM_OFF_MAX - old)
			return -EFBIG;
		*newsize = old + v;
		return 0;
	case MM_SIZE_SHRINK:
		/* As truncate: shrinking past zero gives an empty file. */
		*newsize = v > old ? 0 : old - v;
		return 0;
	case MM_SIZE_ATMOST:
		*newsize = old < v ? old : v;
		return 0;
	case MM_SIZE_ATLEAST:
		*newsize = old > v ? old : v;
		return 0;
	case MM_SIZE_DOWN:
		*newsize = old - old % v;
		return 0;
	case MM_SIZE_UP:
		r = old % v;
		if (r == 0) {
			*newsize = old;
			return 0;
		}
		if (v - r > MM_OFF_MAX - old)
			return -EFBIG;
		*newsize = old + (v - r);
		return 0;
	}
	return -EINVAL;
}

/* ---------------------------------------------------------------- plan */

int
mm_resize_plan(uint64_t old, uint64_t newsize, int at_given, uint64_t at,
    struct mm_resize *r)
{
	memset(r, 0, sizeof(*r));
	if (old > MM_OFF_MAX || newsize > MM_OFF_MAX)
		return -EFBIG;
	r->old_size = old;
	r->new_size = newsize;
	r->at_given = at_given;
	/* Without --at, bytes come and go at the end. */
	r->at = at_given ? at : newsize > old ? old : newsize;
	/* An insert may start at the end; a removal must end by the end. */
	if (at_given && (newsize >= old ? at > old : at > newsize))
		return -ERANGE;
	r->how = newsize == old ? MM_HOW_NONE :
	    r->at == (newsize > old ? old : newsize) ? MM_HOW_END :
	    MM_HOW_MOVE;
	return 0;
}

uint64_t
mm_resize_work(const struct mm_resize *r)
{
	uint64_t old = r->old_size, newsize = r->new_size;

	if (newsize > old)
		return r->at < old ? old - r->at :
		    r->fill != NULL ? newsize - old : 0;
	if (newsize < old && r->at < newsize)
		return newsize - r->at;
	return 0;
}

uint64_t
mm_resize_blocksize(const struct mm_file *f)
{
	struct stat st;

	if (fstat(f->fd, &st) == 0 && st.st_blksize > 0)
		return (uint64_t)st.st_blksize;
	return mm_pagesize();
}

/* ---------------------------------------------------------------- steps */

/* fallocate(2) as -errno; where it does not exist, as unsupported. */
static int
falloc(int fd, int mode, uint64_t off, uint64_t len)
{
#ifdef HAVE_FALLOCATE
	int rc;

	while ((rc = fallocate(fd, mode, (off_t)off, (off_t)len)) == -1 &&
	    errno == EINTR)
		;
	return rc == -1 ? -errno : 0;
#else
	(void)fd;
	(void)mode;
	(void)off;
	(void)len;
	return -EOPNOTSUPP;
#endif
}

/* The errors that say "this file system cannot", not "this went wrong". */
static int
unsupported(int rc)
{
	return rc == -EOPNOTSUPP || rc == -ENOSYS || rc == -ENOTTY ||
	    rc == -EINVAL;
}

static int
set_size(struct mm_file *f, uint64_t size)
{
	while (ftruncate(f->fd, (off_t)size) == -1) {
		if (errno != EINTR)
			return -errno;
	}
	f->size = (off_t)size;
	return 0;
}

/*
 * A sealed memfd refuses some changes only half-way through (the tail
 * moved, then the shrink is refused): refuse the whole change up front.
 */
static int
check_seals(const struct mm_file *f)
{
#ifdef F_GET_SEALS
	int seals = fcntl(f->fd, F_GET_SEALS);

	if (seals > 0 && (seals & (F_SEAL_SHRINK | F_SEAL_GROW |
	    F_SEAL_WRITE)))
		return -EPERM;
#ifdef F_SEAL_FUTURE_WRITE
	if (seals > 0 && (seals & F_SEAL_FUTURE_WRITE))
		return -EPERM;
#endif
#else
	(void)f;
#endif
	return 0;
}

struct fill_job {
	unsigned char		*d;
	size_t			 len;
	const unsigned char	*pat;		/* NULL: zero */
	size_t			 plen;
	uint64_t		 phase;		/* pattern index of d[0] */
	struct mm_progress	*progress;
};

/*
 * Lay the pattern down once, then copy the filled part onto what
 * follows, in blocks that are a multiple of the pattern's length.
 */
static int
fill_chunk(void *arg)
{
	struct fill_job *j = arg;
	size_t i, k, n, block;

	if (j->pat == NULL || j->plen == 1) {
		memset(j->d, j->pat == NULL ? 0 : j->pat[0], j->len);
		return 0;
	}
	k = j->plen < j->len ? j->plen : j->len;
	for (i = 0; i < k; i++)
		j->d[i] = j->pat[(j->phase + i) % j->plen];
	block = FILL_BLOCK > j->plen ? FILL_BLOCK - FILL_BLOCK % j->plen :
	    j->plen;
	while (k < j->len) {
		n = k < block ? k : block;
		if (n > j->len - k)
			n = j->len - k;
		memcpy(j->d + k, j->d, n);
		k += n;
	}
	return 0;
}

static int
fill_window(void *arg, struct mm_map *m, uint64_t done)
{
	struct fill_job *j = arg;
	int rc;

	j->d = m->data;
	j->len = m->len;
	j->phase = j->pat != NULL ? done % j->plen : 0;
	if ((rc = mm_guard(fill_chunk, j)) == 0)
		mm_progress_update(j->progress, done + m->len);
	return rc;
}

/* Write zeros or the pattern over [OFF, OFF+LEN) through the mapping. */
static int
fill_range(struct mm_file *f, uint64_t off, uint64_t len,
    const unsigned char *pat, size_t plen, struct mm_progress *progress)
{
	struct fill_job j;

	j.pat = pat;
	j.plen = plen;
	j.progress = progress;
	return mm_map_walk(f, off, len, MM_WINDOW, fill_window, &j);
}

/* ---------------------------------------------------------------- the end */

static int
grow_end(struct mm_file *f, struct mm_resize *r)
{
	uint64_t old = r->old_size, count = r->new_size - old;
	int need = r->fill != NULL || (r->flags & MM_RESIZE_ALLOCATE);
	int reserved = 0, rc;

	/*
	 * Reserve past the end without changing the size (KEEP_SIZE), so a
	 * full disk fails here with the file as it was; the blocks become
	 * the file's when it grows over them.
	 */
	if (need && !(r->flags & MM_RESIZE_NO_FALLOCATE)) {
		rc = falloc(f->fd, FALLOC_FL_KEEP_SIZE, old, count);
		if (rc == 0)
			reserved = 1;
		else if (!unsupported(rc)) {
			/* Give back what a partial reservation took. */
			set_size(f, old);
			return rc;
		}
	}
	if ((rc = set_size(f, r->new_size)) < 0) {
		if (reserved)
			set_size(f, old);
		return rc;
	}
	if (need && !reserved && (rc = mm_reserve_write(f, old, count)) < 0)
		goto undo;
	if (r->fill != NULL && (rc = fill_range(f, old, count, r->fill,
	    r->fill_len, r->progress)) < 0)
		goto undo;
	r->how = MM_HOW_END;
	return 0;
undo:
	set_size(f, old);
	return rc;
}

/* ---------------------------------------------------------------- inserts */

/* After a failed fallocate, make sure the size is what it was. */
static int
check_unchanged(struct mm_file *f, struct mm_resize *r, int rc)
{
	struct stat st;

	if (fstat(f->fd, &st) == 0 && (uint64_t)st.st_size != r->old_size) {
		r->damaged = 1;
		set_size(f, r->old_size);
	}
	return rc;
}

static int
insert_fast(struct mm_file *f, struct mm_resize *r)
{
	uint64_t at = r->at, count = r->new_size - r->old_size;
	int rc;

	if ((rc = falloc(f->fd, FALLOC_FL_INSERT_RANGE, at, count)) < 0)
		return unsupported(rc) ? rc : check_unchanged(f, r, rc);
	f->size = (off_t)r->new_size;
	r->how = MM_HOW_RANGE;
	if (r->fill == NULL && !(r->flags & MM_RESIZE_ALLOCATE))
		return 0;
	/* The new range is a hole: give it blocks, then the pattern. */
	rc = falloc(f->fd, 0, at, count);
	if (unsupported(rc))
		rc = mm_reserve_write(f, at, count);
	if (rc == 0 && r->fill != NULL)
		rc = fill_range(f, at, count, r->fill, r->fill_len,
		    r->progress);
	if (rc == 0)
		return 0;
	/* Take the inserted range out again. */
	if (falloc(f->fd, FALLOC_FL_COLLAPSE_RANGE, at, count) < 0)
		r->damaged = 1;
	else
		f->size = (off_t)r->old_size;
	return rc;
}

static int
insert_move(struct mm_file *f, struct mm_resize *r)
{
	uint64_t at = r->at, old = r->old_size, count = r->new_size - old;
	struct mm_journal spare;
	int rc;

	/* Grow, then move the tail up over the new end. */
	if ((rc = set_size(f, r->new_size)) < 0)
		return rc;
	/*
	 * The gap is written last; it must not be the one to fail.  On a
	 * copy-on-write file system it still may: hold room for moving the
	 * tail back (a journal that saves nothing is a space reserve).
	 */
	if ((rc = mm_reserve_write(f, at, count)) < 0 ||
	    (rc = mm_journal_begin(&spare, f, old - at, 0)) < 0)
		goto undo;
	rc = mm_move(f, at + count, at, old - at, r->progress);
	/* Any failure but -EIO was put back whole by mm_move. */
	if (rc == -EIO) {
		mm_journal_end(&spare);
		r->damaged = 1;
		return rc;
	}
	if (rc < 0) {
		mm_journal_end(&spare);
		goto undo;
	}
	r->how = MM_HOW_MOVE;
	rc = fill_range(f, at, count, r->fill, r->fill_len, NULL);
	mm_journal_end(&spare);
	if (rc < 0) {
		/* The tail is whole at its new place: move it back. */
		if (mm_move_unjournalled(f, at, at + count, old - at,
		    NULL) < 0) {
			r->damaged = 1;
			return rc;
		}
		goto undo;
	}
	return 0;
undo:
	set_size(f, old);
	return rc;
}

/* ---------------------------------------------------------------- removes */

static int
remove_fast(struct mm_file *f, struct mm_resize *r)
{
	uint64_t count = r->old_size - r->new_size;
	int rc;

	if ((rc = falloc(f->fd, FALLOC_FL_COLLAPSE_RANGE, r->at, count)) < 0)
		return unsupported(rc) ? rc : check_unchanged(f, r, rc);
	f->size = (off_t)r->new_size;
	r->how = MM_HOW_RANGE;
	return 0;
}

static int
remove_move(struct mm_file *f, struct mm_resize *r)
{
	uint64_t at = r->at, count = r->old_size - r->new_size;
	int rc;

	/* Move the tail down (faulting its destination in first), shrink. */
	rc = mm_move(f, at, at + count, r->old_size - at - count,
	    r->progress);
	if (rc < 0) {
		r->damaged = rc == -EIO;
		return rc;
	}
	r->how = MM_HOW_MOVE;
	if ((rc = set_size(f, r->new_size)) < 0)
		r->damaged = 1;
	return rc;
}

/* ---------------------------------------------------------------- apply */

/* Block aligned, file system willing, not forbidden: try fallocate. */
static int
want_fast(const struct mm_file *f, const struct mm_resize *r)
{
	uint64_t bs, count;

	if (r->flags & MM_RESIZE_NO_FALLOCATE)
		return 0;
	bs = mm_resize_blocksize(f);
	count = r->new_size > r->old_size ? r->new_size - r->old_size :
	    r->old_size - r->new_size;
	return r->at % bs == 0 && count % bs == 0;
}

int
mm_resize_apply(struct mm_file *f, struct mm_resize *r)
{
	uint64_t old = r->old_size, newsize = r->new_size;
	int rc;

	r->damaged = 0;
	if (f->kind != MM_KIND_REGULAR || f->access != MM_ACCESS_WRITE)
		return -EBADF;
	if (f->size < 0 || (uint64_t)f->size != old)
		return -ESTALE;
	if (newsize == old) {
		r->how = MM_HOW_NONE;
		return 0;
	}
	if ((rc = check_seals(f)) < 0)
		return rc;
	/*
	 * Past RLIMIT_FSIZE the kernel refuses ftruncate and pwrite but not
	 * the stores of a fill: check once, up front.  Growing writes up to
	 * the new size, and so does a removal in the middle (the tail that
	 * moves down ends there) whichever way it is done, so that the
	 * answer does not depend on the file system.  Only a shrink at the
	 * end is free, as with truncate.
	 */
	if (!(newsize < old && r->at == newsize) &&
	    (rc = mm_fsize_check(newsize)) < 0)
		return rc;
	if (newsize < old && r->at == newsize) {
		/* Shrinking at the end: the bytes past NEW simply go. */
		if ((rc = set_size(f, newsize)) < 0)
			return rc;
		r->how = MM_HOW_END;
		return 0;
	}
	if (newsize > old && r->at == old)
		return grow_end(f, r);
	if (want_fast(f, r)) {
		rc = newsize > old ? insert_fast(f, r) : remove_fast(f, r);
		if (rc == 0 || !unsupported(rc) || r->damaged)
			return rc;
	}
	return newsize > old ? insert_move(f, r) : remove_move(f, r);
}
