/*
 * journal.c - original bytes kept for a rollback, and the space reserve
 * that lets the rollback write them on a full copy-on-write file system.
 *
 * Why a reserve: on btrfs (and XFS with shared extents) an overwrite
 * writes new blocks, so a change that runs out of space half-way would
 * also run out putting the old bytes back.  Measured on a 200 MiB btrfs
 * filled to ENOSPC: an 8 MiB overwrite fails; after closing an unnamed
 * file holding 8 MiB of fallocated blocks, the same overwrite succeeds.
 */
#include "config.h"

#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "journal.h"

/* The directory that holds the file open on FD, or -errno. */
static int
dir_of(int fd, char *dir, size_t size)
{
	char link[64];
	ssize_t n;
	char *slash;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	if ((n = readlink(link, dir, size - 1)) < 0)
		return -errno;
	if ((size_t)n >= size - 1)
		return -ENAMETOOLONG;
	dir[n] = '\0';
	/* A file removed meanwhile reads "PATH (deleted)"; a memfd too. */
	if (dir[0] != '/' || ((size_t)n >= 10 &&
	    strcmp(dir + n - 10, " (deleted)") == 0) ||
	    (slash = strrchr(dir, '/')) == NULL)
		return -ENOENT;
	if (slash == dir)
		slash[1] = '\0';
	else
		*slash = '\0';
	return 0;
}

/*
 * Give FD LEN bytes of blocks past its end, its size kept (0 bytes: no
 * file size limit applies).  -ENOSPC when there are none.
 */
static int
reserve_blocks(int fd, uint64_t len)
{
	int rc;

	do
		rc = fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, (off_t)len);
	while (rc != 0 && errno == EINTR);
	if (rc == 0)
		return 0;
	if (errno != EOPNOTSUPP)
		return errno == EDQUOT ? -ENOSPC : -errno;
	/* posix_fallocate writes zeros where fallocate is missing. */
	rc = posix_fallocate(fd, 0, (off_t)len);
	return rc == 0 ? 0 : rc == EDQUOT ? -ENOSPC : -rc;
}

/* An unnamed file in DIR on the file system of F, or -errno. */
static int
unnamed_beside(const struct mm_file *f, const char *dir)
{
	struct stat a, b;
	int fd;

	if ((fd = mm_unnamed_file(dir)) < 0)
		return fd;
	if (fstat(fd, &a) != 0 || fstat(f->fd, &b) != 0 ||
	    a.st_dev != b.st_dev) {
		/* A bind-mounted file, say: a reserve there saves nothing. */
		close(fd);
		return -EXDEV;
	}
	return fd;
}

/*
 * The whole keep at once (growing by doubling copies it all), in huge
 * pages where it is large: the first touch of each 4 KiB page costs a
 * fault, which under a hypervisor's shadow page tables cost more than
 * the copy itself (a 30 MiB move ran 5 times slower).
 */
static int
alloc_mem(struct mm_journal *j, size_t len)
{
	const size_t huge = (size_t)2 << 20;
	void *p;

	if (len < huge) {
		if ((j->mem = malloc(len)) == NULL)
			return -ENOMEM;
		j->memcap = len;
		return 0;
	}
	len = (len + huge - 1) / huge * huge;
	if (posix_memalign(&p, huge, len) != 0)
		return -ENOMEM;
	(void)madvise(p, len, MADV_HUGEPAGE);
	j->mem = p;
	j->memcap = len;
	return 0;
}

int
mm_journal_begin(struct mm_journal *j, struct mm_file *f, uint64_t max,
    uint64_t keep)
{
	char dir[PATH_MAX];
	int rc = 0;

	memset(j, 0, sizeof(*j));
	j->f = f;
	j->resfd = j->spillfd = -1;
	if (f->access != MM_ACCESS_WRITE || (max == 0 && keep == 0))
		return 0;
	j->on = 1;
	/* A block device overwrites in place: no reserve beside it. */
	j->cow = f->kind == MM_KIND_REGULAR && !mm_reserves_blocks(f);
	if (keep > 0 && keep <= MM_JOURNAL_MEM &&
	    (rc = alloc_mem(j, (size_t)keep)) < 0)
		return rc;
	if (!j->cow) {
		/* Blocks were reserved; only an I/O error is left. */
		if (keep > MM_JOURNAL_MEM)
			j->on = 0;
		return 0;
	}
	if (max > (uint64_t)INT64_MAX)
		return -EFBIG;
	if (max == 0)
		return 0;
	if (dir_of(f->fd, dir, sizeof(dir)) == 0 &&
	    (j->dir = strdup(dir)) == NULL)
		return -ENOMEM;
	if (j->dir == NULL || (rc = unnamed_beside(f, j->dir)) < 0) {
		/* No room beside it for a byte: a full file system. */
		if (j->dir != NULL && (rc == -ENOSPC || rc == -EDQUOT)) {
			mm_journal_end(j);
			return -ENOSPC;
		}
		/* Nowhere to hold a reserve: keep the bytes all the same. */
		return 0;
	}
	j->resfd = rc;
	if ((rc = reserve_blocks(j->resfd, max)) < 0) {
		mm_journal_end(j);
		return rc;
	}
	return 0;
}

static int
grow_records(struct mm_journal *j)
{
	struct mm_journal_rec *r;
	size_t cap;

	if (j->nrec < j->cap)
		return 0;
	cap = j->cap ? j->cap * 2 : 16;
	if ((r = realloc(j->rec, cap * sizeof(*r))) == NULL)
		return -ENOMEM;
	j->rec = r;
	j->cap = cap;
	return 0;
}

/* The spill file: beside the target, else in $TMPDIR; made when needed. */
static int
spill_file(struct mm_journal *j)
{
	int fd = -1;

	if (j->spillfd >= 0)
		return 0;
	if (j->dir != NULL)
		fd = mm_unnamed_file(j->dir);
	if (fd < 0 && (fd = mm_unnamed_file(mm_tmpdir())) < 0)
		return fd;
	j->spillfd = fd;
	return 0;
}

static int
spill(struct mm_journal *j, uint64_t off, uint64_t len)
{
	unsigned char buf[64 * 1024];
	uint64_t done;
	size_t n;
	int rc;

	if ((rc = spill_file(j)) < 0)
		return rc;
	for (done = 0; done < len; done += n) {
		n = len - done < sizeof(buf) ? (size_t)(len - done) :
		    sizeof(buf);
		if ((rc = mm_transfer(j->f->fd, buf, n, off + done, 0)) < 0 ||
		    (rc = mm_transfer(j->spillfd, buf, n, j->spill + done,
		    1)) < 0)
			return rc;
	}
	return 0;
}

int
mm_journal_ref(struct mm_journal *j, uint64_t off,
    const unsigned char *p, uint64_t len)
{
	struct mm_journal_rec *r;
	int rc;

	if (!j->on || len == 0)
		return 0;
	if ((rc = grow_records(j)) < 0)
		return rc;
	r = &j->rec[j->nrec++];
	memset(r, 0, sizeof(*r));
	r->off = off;
	r->len = len;
	r->ref = p;
	return 0;
}

void
mm_journal_release(struct mm_journal *j)
{
	if (j->resfd >= 0) {
		close(j->resfd);
		j->resfd = -1;
	}
}

int
mm_journal_save(struct mm_journal *j, uint64_t off, uint64_t len)
{
	struct mm_journal_rec *r;
	unsigned char *m;
	size_t cap;
	int rc;

	if (!j->on || len == 0)
		return 0;
	if ((rc = grow_records(j)) < 0)
		return rc;
	r = &j->rec[j->nrec];
	r->off = off;
	r->len = len;
	r->ref = NULL;
	if (len <= MM_JOURNAL_MEM - j->memlen) {
		if (j->memlen + len > j->memcap) {
			cap = j->memcap ? j->memcap : 4096;
			while (cap < j->memlen + len)
				cap = cap > MM_JOURNAL_MEM / 2 ?
				    MM_JOURNAL_MEM : cap * 2;
			if ((m = realloc(j->mem, cap)) == NULL)
				return -ENOMEM;
			j->mem = m;
			j->memcap = cap;
		}
		if ((rc = mm_transfer(j->f->fd, j->mem + j->memlen,
		    (size_t)len, off, 0)) < 0)
			return rc;
		r->at = j->memlen;
		r->spilled = 0;
		j->memlen += (size_t)len;
	} else {
		if ((rc = spill(j, off, len)) < 0)
			return rc;
		r->at = j->spill;
		r->spilled = 1;
		j->spill += len;
	}
	j->nrec++;
	return 0;
}

/* Put one record back, up to END (the file's present size). */
static int
restore(struct mm_journal *j, const struct mm_journal_rec *r, uint64_t end)
{
	unsigned char buf[64 * 1024];
	uint64_t len, done;
	size_t n;
	int rc;

	if (r->off >= end)
		return 0;
	len = end - r->off < r->len ? end - r->off : r->len;
	if (r->ref != NULL)
		/* Written from, never into. */
		return mm_transfer(j->f->fd, (unsigned char *)r->ref,
		    (size_t)len, r->off, 1);
	if (!r->spilled)
		return mm_transfer(j->f->fd, j->mem + r->at, (size_t)len,
		    r->off, 1);
	for (done = 0; done < len; done += n) {
		n = len - done < sizeof(buf) ? (size_t)(len - done) :
		    sizeof(buf);
		if ((rc = mm_transfer(j->spillfd, buf, n, r->at + done, 0)) < 0 ||
		    (rc = mm_transfer(j->f->fd, buf, n, r->off + done, 1)) < 0)
			return rc;
	}
	return 0;
}

int
mm_journal_rollback(struct mm_journal *j)
{
	off_t size0 = j->f->size;
	struct rlimit lim, high;
	uint64_t end;
	size_t i;
	int rc, first = 0, lifted;

	if (!j->on)
		return -EIO;
	/* Free the reserve's blocks for the writes below. */
	mm_journal_release(j);
	rc = mm_file_stat(j->f);
	end = (uint64_t)j->f->size;
	j->f->size = size0;
	if (rc < 0)
		return rc;
	lifted = getrlimit(RLIMIT_FSIZE, &lim) == 0 &&
	    lim.rlim_cur != lim.rlim_max;
	if (lifted) {
		high = lim;
		high.rlim_cur = lim.rlim_max;
		lifted = setrlimit(RLIMIT_FSIZE, &high) == 0;
	}
	for (i = j->nrec; i-- > 0;)
		if ((rc = restore(j, &j->rec[i], end)) < 0 && first == 0)
			first = rc;
	if (lifted)
		(void)setrlimit(RLIMIT_FSIZE, &lim);
	/* Cut by another process: what it removed is not ours to put back. */
	if (first == 0 && end < (uint64_t)size0)
		first = -EIO;
	return first;
}

void
mm_journal_end(struct mm_journal *j)
{
	if (j->resfd >= 0)
		close(j->resfd);
	if (j->spillfd >= 0)
		close(j->spillfd);
	free(j->dir);
	free(j->rec);
	free(j->mem);
	memset(j, 0, sizeof(*j));
	j->resfd = j->spillfd = -1;
}
