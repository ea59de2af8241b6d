/*
 * map.c - mapping windows of files, the SIGBUS guard, and the chunked
 * reader that makes mapped files and streams look the same.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/statfs.h>

#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#ifdef HAVE_LINUX_MAGIC_H
#include <linux/magic.h>
#endif
#ifndef EXT4_SUPER_MAGIC
#define EXT4_SUPER_MAGIC	0xef53
#endif
#ifndef TMPFS_MAGIC
#define TMPFS_MAGIC		0x01021994
#endif
#ifndef EXT4_IOC_GETSTATE
#define EXT4_IOC_GETSTATE	_IOW('f', 41, uint32_t)
#endif

#include "mm.h"

/* Faulting in for writing goes a window at a time; it copies nothing. */
#define RESERVE_WINDOW	((size_t)64 << 20)

/* A valid address for empty maps: mmap(len 0) is EINVAL, NULL+0 is UB. */
static unsigned char empty_map[1];

int
mm_map(const struct mm_file *f, off_t off, size_t len, struct mm_map *m)
{
	size_t ps = mm_pagesize(), lead;
	off_t aligned;
	int prot, flags;
	void *p;

	memset(m, 0, sizeof(*m));
	if (off < 0 || f->size < 0 || off > f->size ||
	    len > (uint64_t)(f->size - off))
		return -ERANGE;
	m->off = off;
	m->len = len;
	if (f->kind == MM_KIND_MEMORY) {
		m->data = len ? f->mem + off : empty_map;
		return 0;
	}
	if (len == 0) {
		m->data = empty_map;
		return 0;
	}
	if (f->kind == MM_KIND_STREAM)
		return -ENODEV;
	aligned = off - (off_t)((uint64_t)off % ps);
	lead = (size_t)(off - aligned);
	if (len > SIZE_MAX - lead)
		return -ENOMEM;
	prot = PROT_READ;
	flags = MAP_SHARED;
	if (f->access == MM_ACCESS_WRITE)
		prot |= PROT_WRITE;
	else if (f->access == MM_ACCESS_COPY) {
		prot |= PROT_WRITE;
		flags = MAP_PRIVATE;
	}
	p = mmap(NULL, lead + len, prot, flags, f->fd, aligned);
	if (p == MAP_FAILED)
		return -errno;
	m->base = p;
	m->baselen = lead + len;
	m->data = (unsigned char *)p + lead;
	return 0;
}

int
mm_unmap(struct mm_map *m)
{
	int rc = 0;

	if (m->base != NULL && munmap(m->base, m->baselen) == -1)
		rc = -errno;
	memset(m, 0, sizeof(*m));
	return rc;
}

int
mm_map_sync(const struct mm_map *m, off_t off, size_t len, int flags)
{
	size_t ps = mm_pagesize();
	uintptr_t a, e;

	if (m->base == NULL || len == 0)
		return 0;
	if (off < m->off || (uint64_t)(off - m->off) > m->len ||
	    len > m->len - (size_t)(off - m->off))
		return -ERANGE;
	a = (uintptr_t)(m->data + (off - m->off));
	e = a + len;
	a -= a % ps;
	if (msync((void *)a, e - a, flags) == -1)
		return -errno;
	return 0;
}

int
mm_prefault_write(void *p, size_t len)
{
#ifdef MADV_POPULATE_WRITE
	size_t ps = mm_pagesize();
	uintptr_t a = (uintptr_t)p, e = a + len;

	if (len == 0)
		return 0;
	a -= a % ps;
	if (madvise((void *)a, e - a, MADV_POPULATE_WRITE) == 0)
		return 0;
	return errno == EINVAL ? -EOPNOTSUPP : -errno;
#else
	(void)p;
	(void)len;
	return -EOPNOTSUPP;
#endif
}

/* Kernels before 5.14: write each page's first byte back to itself. */
static int
touch_pages(void *arg)
{
	const struct mm_map *m = arg;
	volatile unsigned char *p = m->base;
	size_t i, ps = mm_pagesize();

	for (i = 0; i < m->baselen; i += ps)
		p[i] = p[i];
	return 0;
}

int
mm_populate_write(const struct mm_file *f, uint64_t off, uint64_t len)
{
	struct mm_map m;
	uint64_t done;
	size_t n;
	int rc = 0;

	for (done = 0; done < len && rc == 0; done += n) {
		n = len - done < RESERVE_WINDOW ? (size_t)(len - done) :
		    RESERVE_WINDOW;
		if ((rc = mm_map(f, (off_t)(off + done), n, &m)) < 0)
			return rc;
		rc = mm_prefault_write(m.base, m.baselen);
		if (rc == -EOPNOTSUPP)
			rc = mm_guard(touch_pages, &m);
		/* A fault the kernel could not serve: no block for it. */
		if (rc == -EFAULT || rc == -ENOMEM || rc == -EIO)
			rc = -ENOSPC;
		mm_unmap(&m);
	}
	return rc;
}

/*
 * Whether only the holes of F need blocks for a write, and SEEK_HOLE finds
 * them.  File systems that overwrite a block in place need no new one for
 * bytes the file holds: tmpfs, and ext2/3/4 when the ext4 driver serves
 * them (it answers an ext4-only ioctl; the old ext2 driver does not, and
 * its SEEK_HOLE sees no holes).  Copy-on-write ones (btrfs, reflinked
 * xfs), and any we do not know, may need blocks anywhere.
 */
static int
holes_only(int fd)
{
	struct statfs sfs;
	uint32_t state = 0;

	if (fstatfs(fd, &sfs) != 0)
		return 0;
	if (sfs.f_type == TMPFS_MAGIC)
		return 1;
	return sfs.f_type == EXT4_SUPER_MAGIC &&
	    ioctl(fd, EXT4_IOC_GETSTATE, &state) == 0;
}

int
mm_reserves_blocks(const struct mm_file *f)
{
	return f->kind == MM_KIND_REGULAR && holes_only(f->fd);
}

int
mm_reserve_write(const struct mm_file *f, uint64_t off, uint64_t len)
{
	uint64_t end = off + len;
	off_t h, d;
	int rc;

	if (len == 0)
		return 0;
	if (off > UINT64_MAX - len)
		return -ERANGE;
	if (f->kind != MM_KIND_REGULAR || !holes_only(f->fd))
		return mm_populate_write(f, off, len);
	/* Only the holes need blocks. */
	while (off < end) {
		if ((h = lseek(f->fd, (off_t)off, SEEK_HOLE)) < 0)
			return mm_populate_write(f, off, end - off);
		if ((uint64_t)h >= end)
			break;
		/* No data after the hole (ENXIO): it runs to the end. */
		d = lseek(f->fd, h, SEEK_DATA);
		if (d <= h || (uint64_t)d > end)
			d = (off_t)end;
		rc = mm_populate_write(f, (uint64_t)h, (uint64_t)(d - h));
		if (rc < 0)
			return rc;
		off = (uint64_t)d;
	}
	return 0;
}

/*
 * The SIGBUS guard.  Each thread has its own jump buffer; a SIGBUS outside
 * any guard is re-raised with the default action, as if we were not here.
 */
static __thread sigjmp_buf *guard_jmp;

static void
sigbus_handler(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	/* Only a fault the kernel raised: not kill -BUS mid-malloc. */
	if (guard_jmp != NULL && si != NULL && si->si_code > 0)
		siglongjmp(*guard_jmp, 1);
	signal(sig, SIG_DFL);
	raise(sig);
}

static void
guard_install(void)
{
	static int installed;
	struct sigaction sa;

	if (__atomic_exchange_n(&installed, 1, __ATOMIC_SEQ_CST))
		return;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = sigbus_handler;
	sa.sa_flags = SA_SIGINFO | SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGBUS, &sa, NULL);
}

int
mm_guard(int (*fn)(void *), void *arg)
{
	sigjmp_buf jb;
	sigjmp_buf *volatile prev = guard_jmp;
	int rc;

	guard_install();
	if (sigsetjmp(jb, 1) != 0) {
		guard_jmp = prev;
		return -EIO;
	}
	guard_jmp = &jb;
	rc = fn(arg);
	guard_jmp = prev;
	return rc;
}

/*
 * The reader.  Mapped files are seen through windows of the mapping so a
 * huge file needs no huge address range at once; streams go through a
 * reused buffer of MM_READ_BUFSIZE plus the overlap.
 */
#define READER_WINDOW	((size_t)1 << 30)

int
mm_reader_init(struct mm_reader *r, struct mm_file *f, off_t start, off_t end,
    size_t keep)
{
	memset(r, 0, sizeof(*r));
	r->f = f;
	r->pos = start;
	r->end = end;
	r->keep = keep;
	if (f->kind != MM_KIND_STREAM) {
		if (end < 0 || end > f->size)
			r->end = f->size;
		if (start < 0 || start > r->end)
			return -ERANGE;
		r->window = READER_WINDOW;
		if (keep >= r->window / 2)
			r->window = keep * 2 + mm_pagesize();
		return 0;
	}
	if (start < 0 || keep > SIZE_MAX / 4)
		return -ERANGE;
	r->start = start;
	r->cap = keep + MM_READ_BUFSIZE;
	if ((r->buf = malloc(r->cap)) == NULL)
		return -ENOMEM;
	return 0;
}

static int
reader_next_mapped(struct mm_reader *r, const unsigned char **data,
    size_t *len, off_t *off)
{
	off_t from;
	size_t n, back;
	int rc;

	if (r->pos >= r->end)
		return 0;
	/* Repeat the last KEEP bytes of the previous window. */
	from = r->pos;
	if (r->have) {
		back = (size_t)(r->pos - r->map.off);
		from -= (off_t)(r->keep < back ? r->keep : back);
	}
	mm_unmap(&r->map);
	n = (uint64_t)(r->end - from) < r->window ?
	    (size_t)(r->end - from) : r->window;
	if ((rc = mm_map(r->f, from, n, &r->map)) < 0)
		return rc;
	if (n > 64 * 1024 && r->map.base != NULL)
		madvise(r->map.base, r->map.baselen, MADV_SEQUENTIAL);
	r->pos = from + (off_t)n;
	r->have = 1;
	r->eof = r->pos >= r->end;
	*data = r->map.data;
	*len = n;
	*off = from;
	return 1;
}

/* Read up to LEN bytes, stopping early only at the end of the stream. */
static ssize_t
read_full(int fd, unsigned char *p, size_t len)
{
	size_t got = 0;
	ssize_t n;

	while (got < len) {
		n = read(fd, p + got, len - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

int
mm_reader_next(struct mm_reader *r, const unsigned char **data, size_t *len,
    off_t *off)
{
	size_t kept, want;
	ssize_t n = 0;

	if (r->f->kind != MM_KIND_STREAM)
		return reader_next_mapped(r, data, len, off);
	if (r->eof)
		return 0;

	/* Streams cannot seek: read up to the start and drop it. */
	while (r->consumed < r->start) {
		want = (uint64_t)(r->start - r->consumed) < r->cap ?
		    (size_t)(r->start - r->consumed) : r->cap;
		if ((n = read_full(r->f->fd, r->buf, want)) < 0)
			return (int)n;
		r->consumed += n;
		if ((size_t)n < want) {
			r->eof = 1;
			return 0;
		}
	}
	kept = r->keep < r->have ? r->keep : r->have;
	memmove(r->buf, r->buf + r->have - kept, kept);
	want = r->cap - kept;
	if (r->end >= 0 && (uint64_t)(r->end - r->consumed) < want)
		want = (size_t)(r->end - r->consumed);
	/* Nothing read here, whatever skipping to the start read before. */
	n = 0;
	if (want > 0 && (n = read_full(r->f->fd, r->buf + kept, want)) < 0)
		return (int)n;
	if ((size_t)n < want || (r->end >= 0 && r->consumed + n >= r->end))
		r->eof = 1;
	/*
	 * At the end, a chunk of only the kept bytes is still given once,
	 * marked last, so a caller that holds back matches near a chunk's
	 * end can settle them.
	 */
	if (n == 0 && kept == 0) {
		r->eof = 1;
		return 0;
	}
	*data = r->buf;
	*len = kept + (size_t)n;
	*off = r->consumed - (off_t)kept;
	r->have = *len;
	r->consumed += n;
	return 1;
}

void
mm_reader_free(struct mm_reader *r)
{
	mm_unmap(&r->map);
	free(r->buf);
	r->buf = NULL;
}
