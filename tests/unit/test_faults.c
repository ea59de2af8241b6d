/*
 * test_faults.c - the engine when a file shrinks under it: every writer
 * and the scanner say -EIO (the applets then say "the file shrank"),
 * never a SIGBUS, never "no space left".  The file is cut through a
 * second descriptor between the steps, as another process would.  Under
 * --enable-sanitizers, LeakSanitizer also proves that nothing allocated
 * under the SIGBUS guard is lost when the guard jumps out.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/mm.h"
#include "engine/move.h"
#include "engine/patch.h"
#include "engine/scan.h"
#include "tap.h"

#define BIG	((off_t)8 << 20)

static char dir[] = "/tmp/mmfaults.XXXXXX";
static char path[256];

/* A file of SIZE bytes, all 'x' in the first MiB, sparse after. */
static void
make(off_t size)
{
	static unsigned char buf[1 << 20];
	int fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0644);

	memset(buf, 'x', sizeof(buf));
	if (fd < 0 || write(fd, buf, sizeof(buf)) != (ssize_t)sizeof(buf) ||
	    ftruncate(fd, size) != 0)
		abort();
	close(fd);
}

static void
cut(off_t size)
{
	if (truncate(path, size) != 0)
		abort();
}

static void
open_rw(struct mm_file *f)
{
	if (mm_open(f, path, MM_ACCESS_WRITE, MM_OPEN_MAPPED) != 0)
		abort();
}

static void
test_move(void)
{
	struct mm_file f;
	int rc;

	/* Cut before the move: the destination cannot be faulted in. */
	make(BIG);
	open_rw(&f);
	cut(4096);
	rc = mm_move(&f, 1, 0, (uint64_t)BIG - 1, NULL);
	ok(rc == -EIO, "mm_move on a file cut before it starts: -EIO (%d)",
	    rc);
	mm_close(&f);

	/* Cut to just below the source: the copy itself faults. */
	make(BIG);
	open_rw(&f);
	cut(BIG / 2);
	rc = mm_move(&f, 0, (uint64_t)BIG / 2, (uint64_t)BIG / 2, NULL);
	ok(rc == -EIO, "mm_move reading past a cut: -EIO (%d)", rc);
	mm_close(&f);
}

static void
test_patch(void)
{
	struct mm_patch p;
	struct mm_file f;
	int rc;
	const char *s = "0 41\n4194304 42\n8388607 43\n";

	make(BIG);
	open_rw(&f);
	mm_patch_init(&p, MM_PATCH_KEEP_OLD);
	if (mm_patch_parse_script(&p, (const unsigned char *)s,
	    strlen(s)) != 0)
		abort();
	rc = mm_patch_check(&p, &f);
	ok(rc == 0, "the batch checks");
	cut(4096);
	rc = mm_patch_apply(&p);
	ok(rc == -EIO && p.err.why == MM_PATCH_IO,
	    "mm_patch_apply after a cut: -EIO, not -ENOSPC (%d)", rc);
	mm_patch_free(&p);
	mm_close(&f);
	/* The check reads the old bytes (for an undo script) past a cut. */
	make(BIG);
	open_rw(&f);
	mm_patch_init(&p, MM_PATCH_KEEP_OLD);
	if (mm_patch_parse_script(&p, (const unsigned char *)s,
	    strlen(s)) != 0)
		abort();
	cut(0);
	rc = mm_patch_check(&p, &f);
	ok(rc == -EIO && p.err.why == MM_PATCH_IO,
	    "mm_patch_check reading the old bytes of a cut file: -EIO (%d)",
	    rc);
	mm_patch_free(&p);
	mm_close(&f);
}

static int
count_emit(void *ctx, uint64_t off, size_t len)
{
	(void)off;
	(void)len;
	(*(uint64_t *)ctx)++;
	return 0;
}

static void
test_scan(void)
{
	struct mm_bytes pat;
	struct mm_scan sc;
	struct mm_file f;
	uint64_t n = 0;
	int rc;

	/* Past the scanner's 16 MiB blocks, so that threads split it. */
	make(5 * BIG);
	if (mm_open(&f, path, MM_ACCESS_READ, 0) != 0 ||
	    mm_parse_hex("00", 0, &pat, NULL) != 0)
		abort();
	cut(4096);
	memset(&sc, 0, sizeof(sc));
	sc.pats = &pat;
	sc.npats = 1;
	sc.flags = MM_SCAN_ALL;
	sc.threads = 1;
	sc.emit = count_emit;
	sc.ctx = &n;
	rc = mm_scan_file(&sc, &f, 0, 5 * (uint64_t)BIG);
	ok(rc == -EIO, "mm_scan_file over a cut file: -EIO (%d)", rc);
	sc.flags = MM_SCAN_ALL | MM_SCAN_REVERSE;
	rc = mm_scan_file(&sc, &f, 0, 5 * (uint64_t)BIG);
	ok(rc == -EIO, "backwards too (%d)", rc);
	/* Backwards with --overlap, which collects a block's matches. */
	cut(5 * BIG - (512 << 10));
	sc.flags = MM_SCAN_ALL | MM_SCAN_OVERLAP | MM_SCAN_REVERSE;
	rc = mm_scan_file(&sc, &f, 0, 5 * (uint64_t)BIG);
	ok(rc == -EIO, "backwards with --overlap, cut mid-block (%d)", rc);
	cut(4096);
	sc.flags = MM_SCAN_ALL;
	sc.threads = 2;
	rc = mm_scan_file(&sc, &f, 0, 5 * (uint64_t)BIG);
	ok(rc == -EIO, "and with two threads (%d)", rc);
	mm_bytes_free(&pat);
	mm_close(&f);
}

int
main(void)
{
	if (mkdtemp(dir) == NULL)
		return 99;
	snprintf(path, sizeof(path), "%s/f", dir);
	test_move();
	test_patch();
	test_scan();
	unlink(path);
	rmdir(dir);
	return tap_done();
}
