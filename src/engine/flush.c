/*
 * flush.c - msync over a range of a file, through windows of a mapping
 * so that a huge file never needs a huge address range.
 */
#include "config.h"

#include <sys/mman.h>

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "flush.h"

/*
 * msync(MS_SYNC) of a window ends as an fsync of the file: a 64 GiB file
 * in 64 MiB windows took 23 times as long as in 1 GiB ones.
 */
#define FLUSH_WINDOW	(sizeof(void *) < 8 ? MM_WINDOW : (size_t)1 << 30)

struct flush_job {
	uint64_t	 a;	/* the page-aligned start of the walk */
	int		 flags;
};

static int
flush_window(void *arg, struct mm_map *m, uint64_t done)
{
	struct flush_job *j = arg;

	return mm_map_sync(m, (off_t)(j->a + done), m->len, j->flags);
}

int
mm_flush(struct mm_file *f, uint64_t off, uint64_t len, int flags,
    uint64_t *start, uint64_t *end)
{
	struct flush_job j;
	uint64_t a, e;

	if (f->size < 0 || mm_page_span(off, len, (uint64_t)f->size, &a,
	    &e) < 0)
		return -ERANGE;
	if (start != NULL)
		*start = a;
	if (end != NULL)
		*end = e;
	/* A new size is the inode's: only fsync makes it durable. */
	if ((flags & MM_FLUSH_SIZE) && (flags & MS_SYNC))
		return fsync(f->fd) == -1 ? -errno : 0;
	flags &= ~MM_FLUSH_SIZE;
	if (e <= a)
		return 0;
	/*
	 * A read-only descriptor's MAP_SHARED mapping is not VM_SHARED to
	 * the kernel, and msync over it writes nothing back: use the
	 * descriptor itself.  fdatasync covers more than the range; it is
	 * the one call that also flushes the disk's cache.
	 */
	if (f->access != MM_ACCESS_WRITE) {
		if (!(flags & MS_SYNC)) {
#ifdef SYNC_FILE_RANGE_WRITE
			if (sync_file_range(f->fd, (off_t)a, (off_t)(e - a),
			    SYNC_FILE_RANGE_WRITE) == -1 && errno != ESPIPE)
				return -errno;
#endif
			return 0;
		}
		return fdatasync(f->fd) == -1 ? -errno : 0;
	}
	/* Window starts are page aligned, so each window's msync is too. */
	j.a = a;
	j.flags = flags;
	return mm_map_walk(f, a, e - a, FLUSH_WINDOW, flush_window, &j);
}
