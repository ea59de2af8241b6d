/*
 * test_source.c - mm_source gives every byte of a range once, in order,
 * mapped or read, forwards or backwards, with a reader thread or not,
 * and holes as pieces without bytes only when asked and only where the
 * file has them.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/mm.h"
#include "engine/source.h"
#include "tap.h"

#define MIB	((uint64_t)1 << 20)

static char path[4096];
static unsigned char *ref;	/* the whole file, as read */
static uint64_t refsize;

static void
put(int fd, uint64_t off, size_t len, unsigned seed)
{
	unsigned char *b = malloc(len);
	size_t i;

	for (i = 0; i < len; i++)
		b[i] = (unsigned char)(seed * 31 + i * 7 + (i >> 9));
	if (pwrite(fd, b, len, (off_t)off) != (ssize_t)len)
		abort();
	free(b);
}

/* Data, holes of several sizes, a hole at the end. */
static int
make_sparse(void)
{
	const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	int fd;

	snprintf(path, sizeof(path), "%s/test_source.XXXXXX", tmp);
	if ((fd = mkstemp(path)) < 0)
		return -1;
	refsize = 20 * MIB + 123;
	if (ftruncate(fd, (off_t)refsize) < 0)
		return -1;
	put(fd, 0, 100, 1);
	put(fd, MIB, 300 * 1024, 2);
	put(fd, MIB + 300 * 1024 + 8192, 5000, 3);	/* a short hole */
	put(fd, 10 * MIB + 5, 3 * 4096, 4);
	put(fd, 12 * MIB, 3 * MIB + 17, 5);
	ref = malloc(refsize);
	if (pread(fd, ref, refsize, 0) != (ssize_t)refsize)
		return -1;
	return fd;
}

/*
 * Walk [START, END) with IO and FLAGS; check contiguity, bytes, and
 * where holes come.  SLOW: wait a little per piece.
 */
static int
walk(struct mm_file *f, enum mm_io io, int flags, uint64_t start,
    uint64_t end, int slow, int *nholes, enum mm_io *used)
{
	struct mm_source *s;
	struct mm_piece p;
	uint64_t at = flags & MM_SOURCE_REVERSE ? end : start, i;
	int rc, bad = 0;

	*nholes = 0;
	if ((rc = mm_source_open(&s, f, io, start, end, flags)) < 0) {
		mm_source_close(s);
		return rc;
	}
	*used = mm_source_io(s);
	while ((rc = mm_source_next(s, &p)) > 0) {
		if (flags & MM_SOURCE_REVERSE) {
			if (p.off + p.len != at)
				bad = 1;
			at = p.off;
		} else {
			if (p.off != at)
				bad = 1;
			at = p.off + p.len;
		}
		if (p.len == 0)
			bad = 1;
		if (p.data == NULL) {
			(*nholes)++;
			if (!(flags & MM_SOURCE_HOLES) || p.len < 64 * 1024)
				bad = 1;
			for (i = 0; i < p.len; i++)
				if (ref[p.off + i] != 0)
					bad = 1;
		} else if (memcmp(p.data, ref + p.off, p.len) != 0)
			bad = 1;
		if (slow)
			usleep(3000);
	}
	mm_source_close(s);
	if (rc < 0)
		return rc;
	if (at != (flags & MM_SOURCE_REVERSE ? start : end))
		bad = 1;
	return bad ? -EILSEQ : 0;
}

int
main(void)
{
	static const int fl[] = { 0, MM_SOURCE_HOLES, MM_SOURCE_REVERSE,
	    MM_SOURCE_HOLES | MM_SOURCE_REVERSE, MM_SOURCE_THREAD,
	    MM_SOURCE_THREAD | MM_SOURCE_HOLES | MM_SOURCE_REVERSE };
	static const uint64_t rg[][2] = { { 0, 20 * MIB + 123 },
	    { 77, 10 * MIB + 4100 }, { MIB + 5, MIB + 6 }, { 3 * MIB, 3 * MIB },
	    { 13 * MIB + 1, 20 * MIB } };
	struct mm_file f, mf;
	enum mm_io used;
	size_t i, r;
	int fd, io, holes, rc, sparse;

	if ((fd = make_sparse()) < 0) {
		ok(0, "make a sparse file");
		return tap_done();
	}
	close(fd);
	if (mm_open(&f, path, MM_ACCESS_READ, 0) < 0) {
		ok(0, "open");
		return tap_done();
	}
	sparse = mm_has_holes(&f, 0, refsize);
	ok(1, "sparse file made (holes seen: %d)", sparse);
	for (io = MM_IO_MAP; io <= MM_IO_READ; io++)
		for (i = 0; i < sizeof(fl) / sizeof(fl[0]); i++)
			for (r = 0; r < sizeof(rg) / sizeof(rg[0]); r++) {
				rc = walk(&f, (enum mm_io)io, fl[i], rg[r][0],
				    rg[r][1], 0, &holes, &used);
				ok(rc == 0 && used == (enum mm_io)io &&
				    (!(fl[i] & MM_SOURCE_HOLES) || r != 0 ||
				    !sparse || holes >= 3),
				    "%s flags %d [%ju, %ju): every byte once, "
				    "in order (%d holes)", io == MM_IO_MAP ?
				    "mapped" : "read", fl[i],
				    (uintmax_t)rg[r][0], (uintmax_t)rg[r][1],
				    holes);
			}
	/* Auto: what has holes, or is small, is read. */
	rc = walk(&f, MM_IO_AUTO, 0, 0, refsize, 0, &holes, &used);
	ok(rc == 0 && (!sparse || used == MM_IO_READ),
	    "auto reads a file with holes");
	rc = walk(&f, MM_IO_AUTO, 0, 0, 100, 0, &holes, &used);
	ok(rc == 0 && used == MM_IO_READ, "auto reads a small range");
	/* A consumer slower than reading gets the reader thread: same bytes. */
	rc = walk(&f, MM_IO_READ, MM_SOURCE_THREAD, 12 * MIB, 15 * MIB + 17,
	    1, &holes, &used);
	ok(rc == 0, "a slow consumer with the reader thread: every byte");
	rc = walk(&f, MM_IO_READ, MM_SOURCE_THREAD | MM_SOURCE_REVERSE, 0,
	    refsize, 1, &holes, &used);
	ok(rc == 0, "backwards, slow, with the thread: every byte");
	/* A range past the end is an error. */
	{
		struct mm_source *s;

		rc = mm_source_open(&s, &f, MM_IO_READ, refsize + 1,
		    refsize + 2, 0);
		ok(rc == -ERANGE, "a start past the end is -ERANGE (%d)", rc);
		mm_source_close(s);
	}
	memset(&mf, 0, sizeof(mf));
	mf.fd = -1;
	mf.kind = MM_KIND_MEMORY;
	mf.mem = ref;
	mf.size = (off_t)refsize;
	rc = walk(&mf, MM_IO_AUTO, MM_SOURCE_HOLES, 5, refsize - 5, 0, &holes,
	    &used);
	ok(rc == 0 && used == MM_IO_MAP && holes == 0,
	    "a memory file is its own window, without holes");
	mm_close(&f);
	if ((fd = open(path, O_RDWR)) >= 0) {
		struct mm_source *s;
		struct mm_piece p;

		mm_open(&f, path, MM_ACCESS_READ, 0);
		rc = mm_source_open(&s, &f, MM_IO_READ, 12 * MIB, refsize, 0);
		if (rc == 0)
			rc = mm_source_next(s, &p);
		if (ftruncate(fd, (off_t)(12 * MIB + 1000)) < 0)
			rc = -1;
		while (rc > 0)
			rc = mm_source_next(s, &p);
		ok(rc == -EIO, "a file cut while read gives -EIO (%d)", rc);
		mm_source_close(s);
		mm_close(&f);
		close(fd);
	}
	unlink(path);
	free(ref);
	return tap_done();
}
