/*
 * move.c - memmove inside a mapped file, in chunks, in the direction that
 * never overwrites a byte before it has been copied.
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "mm.h"

/* Big enough to run at memmove speed, small enough for a lively progress. */
#define MOVE_CHUNK	((size_t)32 << 20)

struct move_job {
	unsigned char		*base;	/* file offset LO */
	uint64_t		 dest, src, count, lo;
	struct mm_progress	*progress;
};

/*
 * Fault the destination in before copying, so a full disk under a sparse
 * file fails before the first byte moves.
 */
static int
prefault(unsigned char *p, size_t len)
{
	int rc = mm_prefault_write(p, len);

	if (rc == -EOPNOTSUPP)
		return 0;
	return rc == -EFAULT || rc == -ENOMEM ? -ENOSPC : rc;
}

/*
 * Faulting in a page past the end fails as a full disk does (EFAULT); a
 * file that another process cut meanwhile is not a full disk, and the
 * caller must hear -EIO, as when the cut comes during the copy.
 */
static int
shrank(struct mm_file *f)
{
	off_t size0 = f->size;
	int cut;

	cut = mm_file_stat(f) == 0 && f->size < size0;
	f->size = size0;
	return cut;
}

static int
move_chunks(void *arg)
{
	struct move_job *j = arg;
	unsigned char *d = j->base + (j->dest - j->lo);
	unsigned char *s = j->base + (j->src - j->lo);
	uint64_t done = 0;
	size_t n;
	int rc;

	/* All of the destination first: fail before the first byte moves. */
	for (done = 0; done < j->count; done += n) {
		n = j->count - done < MOVE_CHUNK ?
		    (size_t)(j->count - done) : MOVE_CHUNK;
		if ((rc = prefault(d + done, n)) < 0)
			return rc;
	}
	for (done = 0; done < j->count; ) {
		n = j->count - done < MOVE_CHUNK ?
		    (size_t)(j->count - done) : MOVE_CHUNK;
		if (j->dest <= j->src) {
			/* Moving down: front to back. */
			memmove(d + done, s + done, n);
		} else {
			/* Moving up: back to front. */
			uint64_t at = j->count - done - n;

			memmove(d + at, s + at, n);
		}
		done += n;
		mm_progress_update(j->progress, done);
	}
	return 0;
}

int
mm_move(struct mm_file *f, uint64_t dest, uint64_t src, uint64_t count,
    struct mm_progress *progress)
{
	struct move_job j;
	struct mm_map m;
	uint64_t lo, hi;
	int rc, rc2;

	if (f->size < 0 || dest > (uint64_t)f->size ||
	    src > (uint64_t)f->size || count > (uint64_t)f->size - dest ||
	    count > (uint64_t)f->size - src)
		return -ERANGE;
	if (count == 0 || dest == src)
		return 0;
	lo = dest < src ? dest : src;
	hi = (dest > src ? dest : src) + count;
	if (hi - lo > SIZE_MAX)
		return -ENOMEM;
	if ((rc = mm_map(f, (off_t)lo, (size_t)(hi - lo), &m)) < 0)
		return rc;
	j.base = m.data;
	j.dest = dest;
	j.src = src;
	j.count = count;
	j.lo = lo;
	j.progress = progress;
	rc = mm_guard(move_chunks, &j);
	rc2 = mm_unmap(&m);
	if (rc == -ENOSPC && shrank(f))
		rc = -EIO;
	return rc < 0 ? rc : rc2;
}
