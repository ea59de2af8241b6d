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
mm_map_walk(const struct mm_file *f, uint64_t off, uint64_t len,
    size_t win, int (*fn)(void *, struct mm_map *, uint64_t), void *arg)
{
	struct mm_map m;
	uint64_t done;
	size_t n;
	int rc = 0, rc2;

	for (done = 0; done < len && rc == 0; done += n) {
		n = len - done < win ? (size_t)(len - done) : win;
		if ((rc = mm_map(f, (off_t)(off + done), n, &m)) < 0)
			break;
		rc = fn(arg, &m, done);
		rc2 = mm_unmap(&m);
		if (rc == 0)
			rc = rc2;
	}
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

struct touch {
	volatile unsigned char	*p;
	size_t			 len;
	int			 write;
};

static int
touch_pages(void *arg)
{
	const struct touch *t = arg;
	size_t i, ps = mm_pagesize();

	for (i = 0; i < t->len; i += ps) {
		if (t->write)
			t->p[i] = t->p[i];
		else
			(void)t->p[i];
	}
	return 0;
}

int
mm_touch_pages(void *p, size_t len, int write)
{
	struct touch t = { p, len, write };

	return mm_guard(touch_pages, &t);
}

static int
populate_window(void *arg, struct mm_map *m, uint64_t done)
{
	int rc;

	(void)arg;
	(void)done;
	rc = mm_prefault_write(m->base, m->baselen);
	if (rc == -EOPNOTSUPP)
		rc = mm_touch_pages(m->base, m->baselen, 1);
	/* A fault the kernel could not serve: no block for it. */
	if (rc == -EFAULT || rc == -ENOMEM || rc == -EIO)
		rc = -ENOSPC;
	return rc;
}

int
mm_populate_write(const struct mm_file *f, uint64_t off, uint64_t len)
{
	return mm_map_walk(f, off, len, MM_WINDOW, populate_window, NULL);
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

