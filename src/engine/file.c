/*
 * file.c - opening files for the engine: what can be mapped, what must be
 * read, and how big it is.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statfs.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#ifdef HAVE_LINUX_FS_H
#include <linux/fs.h>
#endif
#ifdef HAVE_LINUX_MAGIC_H
#include <linux/magic.h>
#endif
#ifndef PROC_SUPER_MAGIC
#define PROC_SUPER_MAGIC	0x9fa0
#endif
#ifndef TMPFS_MAGIC
#define TMPFS_MAGIC		0x01021994
#endif
#ifndef SYSFS_MAGIC
#define SYSFS_MAGIC		0x62656572
#endif
#ifndef DEBUGFS_MAGIC
#define DEBUGFS_MAGIC		0x64626720
#endif

#include "mm.h"

size_t
mm_pagesize(void)
{
	static size_t ps;

	if (ps == 0) {
		long v = sysconf(_SC_PAGESIZE);
		ps = v > 0 ? (size_t)v : 4096;
	}
	return ps;
}

int
mm_page_span(uint64_t off, uint64_t len, uint64_t size, uint64_t *lo,
    uint64_t *hi)
{
	uint64_t ps = mm_pagesize(), end;

	if (off > size || len > size - off)
		return -ERANGE;
	*lo = off - off % ps;
	end = off + len;
	/* Whole pages, but never past the end: END <= SIZE < 2^63. */
	if (len == 0)
		end = *lo;
	else if (end % ps != 0)
		end += ps - end % ps;
	*hi = end < size ? end : size;
	if (*hi < *lo)
		*hi = *lo;
	return 0;
}

uint64_t
mm_pages(uint64_t lo, uint64_t hi)
{
	uint64_t ps = mm_pagesize();

	return hi <= lo ? 0 : (hi - 1) / ps - lo / ps + 1;
}

double
mm_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int
mm_file_shrank(struct mm_file *f, off_t *now)
{
	off_t size0 = f->size;
	int cut;

	cut = mm_file_stat(f) == 0 && f->size < size0;
	if (now != NULL)
		*now = f->size;
	f->size = size0;
	return cut;
}

int
mm_fault_cause(struct mm_file *f, int err, off_t *was)
{
	struct statfs sfs;
	off_t now;

	if (err != -EIO || f->kind != MM_KIND_REGULAR)
		return MM_FAULT_NONE;
	if (mm_file_shrank(f, &now)) {
		*was = f->size;
		f->size = now;
		return MM_FAULT_SHRANK;
	}
	/* tmpfs gives even a read of a hole a page, through a mapping. */
	if (fstatfs(f->fd, &sfs) == 0 && sfs.f_type == TMPFS_MAGIC &&
	    sfs.f_bavail == 0)
		return MM_FAULT_FULL;
	return MM_FAULT_NONE;
}

/*
 * Files of /proc and /sys say they are regular but have no real size:
 * st_size is 0 (or a page) whatever they hold.  They must be read.
 */
static int
is_pseudo(int fd, const struct stat *st)
{
	/* The last device seen to be no pseudo file system: one fstatfs
	   per device, not per file, when a walk opens thousands. */
	static __thread dev_t real_dev;
	static __thread int have_real_dev;
	struct statfs sfs;
	unsigned char c;

	if (!have_real_dev || st->st_dev != real_dev) {
		if (fstatfs(fd, &sfs) == 0 && (sfs.f_type == PROC_SUPER_MAGIC ||
		    sfs.f_type == SYSFS_MAGIC || sfs.f_type == DEBUGFS_MAGIC))
			return 1;
		real_dev = st->st_dev;
		have_real_dev = 1;
	}
	return st->st_size == 0 && pread(fd, &c, 1, 0) == 1;
}

static int
kind_of(const struct stat *st, enum mm_kind *kind)
{
	if (S_ISDIR(st->st_mode))
		return -EISDIR;
	if (S_ISREG(st->st_mode))
		*kind = MM_KIND_REGULAR;
	else if (S_ISBLK(st->st_mode))
		*kind = MM_KIND_BLOCK;
	else
		*kind = MM_KIND_STREAM;
	return 0;
}

int
mm_file_stat(struct mm_file *f)
{
	struct stat st;

	if (f->kind == MM_KIND_MEMORY)
		return 0;
	if (fstat(f->fd, &st) == -1)
		return -errno;
	if (f->kind == MM_KIND_REGULAR) {
		f->size = st.st_size;
		return 0;
	}
	if (f->kind == MM_KIND_BLOCK) {
#ifdef BLKGETSIZE64
		uint64_t sz;

		if (ioctl(f->fd, BLKGETSIZE64, &sz) == -1)
			return -errno;
		if (sz > MM_OFF_MAX)
			return -EFBIG;
		f->size = (off_t)sz;
		return 0;
#else
		off_t end = lseek(f->fd, 0, SEEK_END);

		if (end == -1)
			return -errno;
		f->size = end;
		return 0;
#endif
	}
	f->size = -1;
	return 0;
}

int
mm_open(struct mm_file *f, const char *path, enum mm_access access, int flags)
{
	struct stat st;
	int oflags, rc;

	memset(f, 0, sizeof(*f));
	f->fd = -1;
	f->access = access;
	f->size = -1;

	if (strcmp(path, "-") == 0) {
		if (access == MM_ACCESS_WRITE)
			return -EBADF;
		if (fstat(STDIN_FILENO, &st) == -1)
			return -errno;
		if ((rc = kind_of(&st, &f->kind)) < 0)
			return rc;
		if (f->kind == MM_KIND_REGULAR && is_pseudo(STDIN_FILENO, &st))
			f->kind = MM_KIND_STREAM;
		if (f->kind != MM_KIND_REGULAR && (flags & MM_OPEN_MAPPED))
			return -ENODEV;
		f->fd = STDIN_FILENO;
		return mm_file_stat(f);
	}

	/*
	 * Look before opening: opening a FIFO for reading blocks until a
	 * writer comes, which a writing applet must never wait for.  A
	 * reader reads a FIFO anyway, and the fstat below tells it all.
	 */
	if (access != MM_ACCESS_READ || flags != 0) {
		if (stat(path, &st) == 0) {
			if ((rc = kind_of(&st, &f->kind)) < 0)
				return rc;
			if (f->kind == MM_KIND_STREAM &&
			    (flags & MM_OPEN_MAPPED))
				return -ENODEV;
		} else if (errno != ENOENT || !(flags & MM_OPEN_CREATE) ||
		    (flags & MM_OPEN_NOCREAT))
			return -errno;
	}

	oflags = (access == MM_ACCESS_WRITE ? O_RDWR : O_RDONLY) | O_CLOEXEC;
	if (flags & MM_OPEN_CREATE)
		oflags |= O_CREAT | (flags & MM_OPEN_EXCL ? O_EXCL : 0);
	f->fd = open(path, oflags, 0666);
	if (f->fd == -1)
		return -errno;
	f->close_fd = 1;
	/* Between stat and open the path may have changed: trust the fd. */
	rc = fstat(f->fd, &st) == -1 ? -errno : kind_of(&st, &f->kind);
	if (rc == 0 && f->kind == MM_KIND_REGULAR && is_pseudo(f->fd, &st))
		f->kind = MM_KIND_STREAM;
	if (rc == 0 && f->kind == MM_KIND_STREAM && (flags & MM_OPEN_MAPPED))
		rc = -ENODEV;
	if (rc == 0 && f->kind == MM_KIND_REGULAR)
		f->size = st.st_size;
	else if (rc == 0)
		rc = mm_file_stat(f);
	if (rc < 0) {
		mm_close(f);
		return rc;
	}
	return 0;
}

int
mm_fsize_check(uint64_t end)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_FSIZE, &rl) == -1)
		return -errno;
	if (rl.rlim_cur != RLIM_INFINITY && end > (uint64_t)rl.rlim_cur)
		return -EFBIG;
	return 0;
}

int
mm_close(struct mm_file *f)
{
	int rc = 0;

	if (f->close_fd && f->fd >= 0 && close(f->fd) == -1)
		rc = -errno;
	free(f->mem);
	f->mem = NULL;
	f->fd = -1;
	f->close_fd = 0;
	return rc;
}

int
mm_file_slurp(struct mm_file *f)
{
	unsigned char *buf = NULL, *nb;
	size_t cap = 0, len = 0;
	ssize_t n;

	if (f->kind != MM_KIND_STREAM)
		return 0;
	for (;;) {
		if (len == cap) {
			cap = cap ? cap * 2 : MM_READ_BUFSIZE;
			if ((nb = realloc(buf, cap)) == NULL) {
				free(buf);
				return -ENOMEM;
			}
			buf = nb;
		}
		n = read(f->fd, buf + len, cap - len);
		if (n == 0)
			break;
		if (n < 0) {
			if (errno == EINTR)
				continue;
			free(buf);
			return -errno;
		}
		len += (size_t)n;
	}
	f->mem = buf;
	f->size = (off_t)len;
	f->kind = MM_KIND_MEMORY;
	return 0;
}

const char *
mm_tmpdir(void)
{
	const char *tmp = getenv("TMPDIR");

	return tmp != NULL && *tmp != '\0' ? tmp : "/tmp";
}

int
mm_unnamed_file(const char *dir)
{
	char path[4096];
	int fd;

	fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd >= 0 || (errno != EOPNOTSUPP && errno != EISDIR &&
	    errno != EINVAL))
		return fd < 0 ? -errno : fd;
	if ((size_t)snprintf(path, sizeof(path), "%s/.mmutils.XXXXXX",
	    dir) >= sizeof(path))
		return -ENAMETOOLONG;
	if ((fd = mkostemp(path, O_CLOEXEC)) < 0)
		return -errno;
	(void)unlink(path);
	return fd;
}

int
mm_transfer(int fd, void *buf, size_t n, uint64_t off, int out)
{
	unsigned char *p = buf;
	size_t done = 0;
	ssize_t r;

	while (done < n) {
		r = out ? pwrite(fd, p + done, n - done, (off_t)(off + done)) :
		    pread(fd, p + done, n - done, (off_t)(off + done));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			return -EIO;
		done += (size_t)r;
	}
	return 0;
}

int
mm_file_spool(struct mm_file *f)
{
	unsigned char *buf;
	ssize_t n, w, off;
	off_t len = 0;
	int fd, rc = 0;

	if (f->kind != MM_KIND_STREAM)
		return 0;
	if ((fd = mm_unnamed_file(mm_tmpdir())) < 0)
		return fd;
	if ((buf = malloc(MM_READ_BUFSIZE)) == NULL) {
		close(fd);
		return -ENOMEM;
	}
	for (;;) {
		n = read(f->fd, buf, MM_READ_BUFSIZE);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			rc = n < 0 ? -errno : 0;
			break;
		}
		for (off = 0; off < n; off += w) {
			w = write(fd, buf + off, (size_t)(n - off));
			if (w < 0 && errno == EINTR)
				w = 0;
			else if (w <= 0) {
				rc = w < 0 ? -errno : -EIO;
				break;
			}
		}
		if (rc < 0)
			break;
		len += n;
	}
	free(buf);
	if (rc < 0) {
		close(fd);
		return rc;
	}
	if (f->close_fd)
		close(f->fd);
	f->fd = fd;
	f->close_fd = 1;
	f->kind = MM_KIND_REGULAR;
	f->size = len;
	return 0;
}
