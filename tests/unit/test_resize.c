/*
 * test_resize.c - the size grammar, resize plans, resizes at the end and
 * in the middle (both the file system's way and the tail move, which
 * must give the same bytes), fill patterns, range flushes, and the file
 * size limit (RLIMIT_FSIZE).
 */
#include "config.h"

#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/mm.h"
#include "engine/move.h"
#include "engine/resize.h"
#include "engine/flush.h"
#include "tap.h"

static char dir[] = "/tmp/mmresize-test.XXXXXX";
static uint64_t rng = 88172645463325252ULL;

static uint64_t
rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* ---------------------------------------------------------------- grammar */

static void
spec_is(const char *s, int op, uint64_t val)
{
	struct mm_size_spec sp = { MM_SIZE_SET, 999 };
	int rc = mm_size_spec_parse(s, &sp);

	ok(rc == 0 && (int)sp.op == op && sp.val == val,
	    "size '%s' is %c%llu (rc %d)", s, op, (unsigned long long)val, rc);
}

static void
spec_err(const char *s, int want)
{
	struct mm_size_spec sp;
	int rc = mm_size_spec_parse(s, &sp);

	ok(rc == want, "size '%s' fails with %d (got %d)", s, want, rc);
}

static void
apply_is(const char *s, uint64_t old, uint64_t want)
{
	struct mm_size_spec sp;
	uint64_t n = 12345;
	int rc = mm_size_spec_parse(s, &sp);

	if (rc == 0)
		rc = mm_size_spec_apply(&sp, old, &n);
	ok(rc == 0 && n == want, "'%s' on %llu gives %llu (rc %d, got %llu)",
	    s, (unsigned long long)old, (unsigned long long)want, rc,
	    (unsigned long long)n);
}

static void
apply_err(const char *s, uint64_t old, int want)
{
	struct mm_size_spec sp;
	uint64_t n;
	int rc = mm_size_spec_parse(s, &sp);

	if (rc == 0)
		rc = mm_size_spec_apply(&sp, old, &n);
	ok(rc == want, "'%s' on %llu fails with %d (got %d)", s,
	    (unsigned long long)old, want, rc);
}

static void
test_grammar(void)
{
	spec_is("0", '=', 0);
	spec_is("10K", '=', 10240);
	spec_is("+5", '+', 5);
	spec_is("-0x10", '-', 16);
	spec_is("<1KB", '<', 1000);
	spec_is(">1MiB", '>', 1048576);
	spec_is("/4k", '/', 4096);
	spec_is("%512", '%', 512);
	spec_is("9223372036854775807", '=', MM_OFF_MAX);
	spec_err("", -EINVAL);
	spec_err("+", -EINVAL);
	spec_err("-", -EINVAL);
	spec_err("10Q", -EINVAL);
	spec_err("1.5K", -EINVAL);
	spec_err("++5", -EINVAL);
	spec_err("+-5", -EINVAL);
	spec_err(" 5", -EINVAL);
	spec_err("5 ", -EINVAL);
	spec_err("=5", -EINVAL);
	spec_err("16E", -ERANGE);
	spec_err("+0xffffffffffffffff", -ERANGE);
	spec_err("9223372036854775808", -ERANGE);
	spec_err("/0", -EDOM);
	spec_err("%0", -EDOM);
	spec_err("%0x0", -EDOM);

	apply_is("100", 7, 100);
	apply_is("+100", 7, 107);
	apply_is("-3", 7, 4);
	apply_is("-7", 7, 0);
	apply_is("-8", 7, 0);
	apply_is("-1E", 7, 0);
	apply_is("<5", 7, 5);
	apply_is("<9", 7, 7);
	apply_is(">5", 7, 7);
	apply_is(">9", 7, 9);
	apply_is("/4", 7, 4);
	apply_is("/4", 8, 8);
	apply_is("/8", 7, 0);
	apply_is("%4", 7, 8);
	apply_is("%4", 8, 8);
	apply_is("%4", 0, 0);
	apply_is("/1", 7, 7);
	apply_is("+0", MM_OFF_MAX, MM_OFF_MAX);
	apply_is("+1", MM_OFF_MAX - 1, MM_OFF_MAX);
	apply_err("+1", MM_OFF_MAX, -EFBIG);
	apply_err("+4E", 5ULL << 60, -EFBIG);
	apply_err("%5E", (5ULL << 60) + 1, -EFBIG);
	apply_is("%4E", 4ULL << 60, 4ULL << 60);
}

/* ---------------------------------------------------------------- plans */

static void
test_plan(void)
{
	struct mm_resize r;

	ok(mm_resize_plan(10, 20, 0, 0, &r) == 0 && r.at == 10 &&
	    r.how == MM_HOW_END, "growing without --at adds at the end");
	ok(mm_resize_plan(10, 4, 0, 0, &r) == 0 && r.at == 4 &&
	    r.how == MM_HOW_END, "shrinking without --at cuts at the end");
	ok(mm_resize_plan(10, 10, 1, 10, &r) == 0 && r.how == MM_HOW_NONE,
	    "the same size is nothing to do");
	ok(mm_resize_plan(10, 10, 1, 11, &r) == -ERANGE,
	    "but an offset past the end is still an error");
	ok(mm_resize_plan(10, 15, 1, 10, &r) == 0 && r.how == MM_HOW_END,
	    "an insert at the end is an append");
	ok(mm_resize_plan(10, 15, 1, 11, &r) == -ERANGE,
	    "an insert past the end is an error");
	ok(mm_resize_plan(10, 15, 1, 3, &r) == 0 && r.how == MM_HOW_MOVE &&
	    mm_resize_work(&r) == 7, "an insert in the middle moves the tail");
	ok(mm_resize_plan(10, 6, 1, 6, &r) == 0 && r.how == MM_HOW_END,
	    "removing the last bytes is a truncation");
	ok(mm_resize_plan(10, 6, 1, 7, &r) == -ERANGE,
	    "removing past the end is an error");
	ok(mm_resize_plan(10, 6, 1, 2, &r) == 0 && r.how == MM_HOW_MOVE &&
	    mm_resize_work(&r) == 4, "a removal in the middle moves the tail");
	ok(mm_resize_plan(10, 0, 1, 0, &r) == 0 && r.how == MM_HOW_END,
	    "removing everything from 0 empties the file");
	ok(mm_resize_plan(10, 0, 1, 1, &r) == -ERANGE,
	    "removing everything from 1 is past the end");
}

/* ---------------------------------------------------------------- files */

static const char *
path_of(const char *name)
{
	static char path[256];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return path;
}

static void
write_file(const char *path, const unsigned char *p, size_t len)
{
	int fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0644);

	if (fd < 0 || (len && write(fd, p, len) != (ssize_t)len))
		abort();
	close(fd);
}

static unsigned char *
read_file(const char *path, size_t *len)
{
	struct stat st;
	unsigned char *p;
	int fd = open(path, O_RDONLY);

	if (fd < 0 || fstat(fd, &st) < 0)
		abort();
	p = malloc((size_t)st.st_size + 1);
	if (p == NULL || pread(fd, p, (size_t)st.st_size, 0) != st.st_size)
		abort();
	close(fd);
	*len = (size_t)st.st_size;
	return p;
}

/* The expected bytes of a resize, built the obvious way. */
static unsigned char *
model(const unsigned char *old, size_t oldlen, size_t newlen, size_t at,
    const unsigned char *pat, size_t plen)
{
	unsigned char *p = calloc(newlen + 1, 1);
	size_t i, n;

	if (p == NULL)
		abort();
	if (newlen >= oldlen) {
		n = newlen - oldlen;
		memcpy(p, old, at);
		for (i = 0; i < n; i++)
			p[at + i] = pat != NULL ? pat[i % plen] : 0;
		memcpy(p + at + n, old + at, oldlen - at);
	} else {
		n = oldlen - newlen;
		memcpy(p, old, at);
		memcpy(p + at, old + at + n, oldlen - at - n);
	}
	return p;
}

/* Resize NAME (made of OLDLEN random bytes) and compare with the model. */
static int
resize_case(const char *name, size_t oldlen, size_t newlen, int at_given,
    size_t at, const unsigned char *pat, size_t plen, int flags,
    enum mm_resize_how *how)
{
	const char *path = path_of(name);
	unsigned char *old, *want, *got;
	struct mm_file f;
	struct mm_resize r;
	size_t i, gotlen;
	int rc, same;

	old = malloc(oldlen + 1);
	for (i = 0; i < oldlen; i++)
		old[i] = (unsigned char)rnd();
	write_file(path, old, oldlen);
	if (mm_open(&f, path, MM_ACCESS_WRITE, MM_OPEN_MAPPED) < 0)
		abort();
	rc = mm_resize_plan(oldlen, newlen, at_given, at, &r);
	r.fill = pat;
	r.fill_len = plen;
	r.flags = flags;
	if (rc == 0)
		rc = mm_resize_apply(&f, &r);
	mm_close(&f);
	*how = r.how;
	want = model(old, oldlen, newlen, at_given ? at :
	    newlen > oldlen ? oldlen : newlen, pat, plen);
	got = read_file(path, &gotlen);
	same = rc == 0 && gotlen == newlen && memcmp(got, want, newlen) == 0;
	free(old);
	free(want);
	free(got);
	return same;
}

static const char *
how_name(enum mm_resize_how how)
{
	switch (how) {
	case MM_HOW_NONE:
		return "none";
	case MM_HOW_END:
		return "end";
	case MM_HOW_RANGE:
		return "range";
	case MM_HOW_MOVE:
		return "move";
	}
	return "?";
}

static void
test_end(void)
{
	static const unsigned char pat3[] = { 0xa1, 0xb2, 0xc3 };
	enum mm_resize_how how;
	struct mm_file f;
	struct stat st;
	struct mm_resize r;

	ok(resize_case("e1", 100, 5000, 0, 0, NULL, 0, 0, &how) &&
	    how == MM_HOW_END, "grow at the end with zeros");
	ok(resize_case("e2", 5000, 100, 0, 0, NULL, 0, 0, &how),
	    "shrink at the end");
	ok(resize_case("e3", 5000, 0, 0, 0, NULL, 0, 0, &how),
	    "shrink to nothing");
	ok(resize_case("e4", 0, 10000, 0, 0, pat3, 3, 0, &how),
	    "grow an empty file with a 3-byte pattern");
	ok(resize_case("e5", 10, 10000, 0, 0, pat3, 3, MM_RESIZE_NO_FALLOCATE,
	    &how), "the same without fallocate");
	ok(resize_case("e6", 10, 9000, 0, 0, NULL, 0, MM_RESIZE_ALLOCATE,
	    &how), "grow with --allocate");
	if (stat(path_of("e6"), &st) == 0)
		ok(st.st_blocks * 512 >= 8192, "--allocate left no hole "
		    "(%lld blocks)", (long long)st.st_blocks);
	ok(resize_case("e7", 10, 9000, 0, 0, NULL, 0, 0, &how) &&
	    stat(path_of("e7"), &st) == 0 && st.st_blocks * 512 <= 4096,
	    "plain growth stays sparse");

	/* Nothing changes a file when the size is stale. */
	write_file(path_of("s"), (const unsigned char *)"abc", 3);
	mm_open(&f, path_of("s"), MM_ACCESS_WRITE, 0);
	mm_resize_plan(4, 10, 0, 0, &r);
	ok(mm_resize_apply(&f, &r) == -ESTALE, "a stale old size is refused");
	mm_close(&f);
	mm_open(&f, path_of("s"), MM_ACCESS_READ, 0);
	mm_resize_plan(3, 10, 0, 0, &r);
	ok(mm_resize_apply(&f, &r) == -EBADF,
	    "a file opened for reading is refused");
	mm_close(&f);
}

/* Long patterns, and phases across the 64 MiB fill windows. */
static void
test_fill(void)
{
	static unsigned char big[300007];
	enum mm_resize_how how;
	const char *path = path_of("w");
	struct mm_file f;
	struct mm_resize r;
	unsigned char pat[7] = { 1, 2, 3, 4, 5, 6, 7 }, buf[16];
	uint64_t off;
	size_t i;
	int fd, good = 1;

	for (i = 0; i < sizeof(big); i++)
		big[i] = (unsigned char)rnd();
	ok(resize_case("f1", 33, 1000000, 0, 0, big, sizeof(big), 0, &how),
	    "a pattern longer than the copy block repeats exactly");
	ok(resize_case("f2", 33, 100, 0, 0, big, sizeof(big), 0, &how),
	    "a pattern longer than the new bytes is cut");
	ok(resize_case("f3", 1, 2, 0, 0, pat, 1, 0, &how),
	    "a one-byte pattern");

	write_file(path, (const unsigned char *)"x", 1);
	mm_open(&f, path, MM_ACCESS_WRITE, 0);
	mm_resize_plan(1, 1 + ((uint64_t)65 << 20) + 5, 0, 0, &r);
	r.fill = pat;
	r.fill_len = 7;
	ok(mm_resize_apply(&f, &r) == 0, "fill 65 MiB with a 7-byte pattern");
	mm_close(&f);
	fd = open(path, O_RDONLY);
	for (off = 1; off < r.new_size; off += ((uint64_t)1 << 20) - 3) {
		size_t n = r.new_size - off < 16 ? r.new_size - off : 16;

		if (pread(fd, buf, n, (off_t)off) != (ssize_t)n)
			good = 0;
		for (i = 0; i < n; i++)
			if (buf[i] != pat[(off - 1 + i) % 7])
				good = 0;
	}
	off = 1 + ((uint64_t)64 << 20) - 8;
	if (pread(fd, buf, 16, (off_t)off) != 16)
		good = 0;
	for (i = 0; i < 16; i++)
		if (buf[i] != pat[(off - 1 + i) % 7])
			good = 0;
	close(fd);
	ok(good, "the pattern keeps its phase across fill windows");
	unlink(path);
}

/* Random inserts and removes, both ways, against the model. */
static void
test_middle(void)
{
	static const unsigned char pat[] = { 0xde, 0xad, 0xbe, 0xef, 0x42 };
	uint64_t bs;
	enum mm_resize_how how;
	struct mm_file f;
	char name[32];
	int i, k, fast = 0, fastok = 1, moveok = 1, flags;

	write_file(path_of("bs"), (const unsigned char *)"", 0);
	mm_open(&f, path_of("bs"), MM_ACCESS_READ, 0);
	bs = mm_resize_blocksize(&f);
	mm_close(&f);
	ok(bs >= 512 && (bs & (bs - 1)) == 0, "block size %llu",
	    (unsigned long long)bs);

	for (k = 0; k < 2; k++) {
		flags = k ? MM_RESIZE_NO_FALLOCATE : 0;
		for (i = 0; i < 24; i++) {
			size_t oldlen = (size_t)(rnd() % (8 * bs)) + 1;
			size_t n, at, newlen;
			const unsigned char *p = i % 3 == 0 ? pat : NULL;

			if (i % 2 == 0) {
				/* Aligned: the file system may do it. */
				oldlen = (size_t)bs * (4 + rnd() % 8) +
				    (size_t)(rnd() % bs);
				at = (size_t)bs * (rnd() % 3);
				n = (size_t)bs * (1 + rnd() % 2);
			} else {
				at = (size_t)(rnd() % oldlen);
				n = (size_t)(rnd() % (2 * bs)) + 1;
			}
			if (i % 4 < 2) {
				newlen = oldlen + n;
			} else {
				if (n > oldlen - at)
					n = oldlen - at;
				newlen = oldlen - n;
			}
			snprintf(name, sizeof(name), "m%d-%d", k, i);
			if (!resize_case(name, oldlen, newlen, 1, at, p,
			    sizeof(pat), flags, &how)) {
				fprintf(stderr, "# %s: %zu -> %zu at %zu (%s)"
				    "\n", name, oldlen, newlen, at,
				    how_name(how));
				if (k)
					moveok = 0;
				else
					fastok = 0;
			}
			if (how == MM_HOW_RANGE)
				fast++;
			if (k && how == MM_HOW_RANGE)
				moveok = 0;
			unlink(path_of(name));
		}
	}
	ok(fastok, "24 inserts and removes with fallocate allowed match the "
	    "model (%d by the file system)", fast);
	ok(moveok, "24 inserts and removes with the tail moved match the "
	    "model, none by the file system");
}

/* ---------------------------------------------------------------- limit */

#define LIMIT		10000	/* RLIMIT_FSIZE of the child, in bytes */
#define LIMIT_FILE	20000	/* a file that is already past it */

/* Whether PATH still holds LEN bytes of OLD. */
static int
unchanged(const char *path, const unsigned char *old, size_t len)
{
	unsigned char *got;
	size_t gotlen;
	int same;

	got = read_file(path, &gotlen);
	same = gotlen == len && memcmp(got, old, len) == 0;
	free(got);
	return same;
}

/* Resize file NAME (LIMIT_FILE bytes) to NEWLEN (at AT): the rc. */
static int
limit_resize(const char *name, size_t newlen, int at_given, size_t at,
    int flags)
{
	struct mm_file f;
	struct mm_resize r;
	int rc;

	if (mm_open(&f, path_of(name), MM_ACCESS_WRITE, MM_OPEN_MAPPED) < 0)
		return -999;
	if ((rc = mm_resize_plan(LIMIT_FILE, newlen, at_given, at, &r)) == 0) {
		r.flags = flags;
		rc = mm_resize_apply(&f, &r);
	}
	mm_close(&f);
	return rc;
}

/*
 * In a child under RLIMIT_FSIZE of LIMIT bytes (the file is written
 * before the limit is set): each failed check sets one bit of the exit
 * status.
 */
static int
limit_child(void)
{
	static const struct rlimit rl = { LIMIT, RLIM_INFINITY };
	unsigned char old[LIMIT_FILE];
	struct mm_file f;
	size_t i;
	int fails = 0, rc;

	for (i = 0; i < sizeof(old); i++)
		old[i] = (unsigned char)rnd();
	write_file(path_of("mv"), old, LIMIT_FILE);
	write_file(path_of("l1"), old, LIMIT_FILE);
	write_file(path_of("l2"), old, LIMIT_FILE);
	write_file(path_of("l3"), old, LIMIT_FILE);
	write_file(path_of("l4"), old, LIMIT_FILE);
	signal(SIGXFSZ, SIG_IGN);
	if (setrlimit(RLIMIT_FSIZE, &rl) == -1)
		return 0xff;
	if (mm_fsize_check(0) != 0 || mm_fsize_check(LIMIT) != 0)
		fails |= 0x01;
	if (mm_fsize_check(LIMIT + 1) != -EFBIG ||
	    mm_fsize_check(MM_OFF_MAX) != -EFBIG)
		fails |= 0x02;
	/* pwrite past the limit fails even over existing bytes. */
	if (mm_open(&f, path_of("mv"), MM_ACCESS_WRITE, MM_OPEN_MAPPED) < 0)
		return 0xff;
	rc = mm_move(&f, 0, 1, LIMIT_FILE - 1, NULL);
	mm_close(&f);
	if (rc != -EFBIG || !unchanged(path_of("mv"), old, LIMIT_FILE))
		fails |= 0x04;
	mm_open(&f, path_of("mv"), MM_ACCESS_WRITE, MM_OPEN_MAPPED);
	rc = mm_move(&f, 1, 0, LIMIT - 1, NULL);
	mm_close(&f);
	if (rc != 0)
		fails |= 0x08;
	/* Growth, and removals in the middle either way, before a byte. */
	if (limit_resize("l1", LIMIT_FILE + 4096, 0, 0, 0) != -EFBIG ||
	    !unchanged(path_of("l1"), old, LIMIT_FILE))
		fails |= 0x10;
	if (limit_resize("l2", LIMIT_FILE - 4096, 1, 4096, 0) != -EFBIG ||
	    !unchanged(path_of("l2"), old, LIMIT_FILE))
		fails |= 0x20;
	if (limit_resize("l3", LIMIT_FILE - 1, 1, 1,
	    MM_RESIZE_NO_FALLOCATE) != -EFBIG ||
	    !unchanged(path_of("l3"), old, LIMIT_FILE))
		fails |= 0x40;
	/* A shrink at the end writes nothing: as truncate, it may. */
	if (limit_resize("l4", LIMIT_FILE - 1, 0, 0, 0) != 0)
		fails |= 0x80;
	return fails;
}

static void
test_limit(void)
{
	static const char *what[] = {
		"mm_fsize_check allows writing up to the limit",
		"mm_fsize_check refuses a byte past the limit (-EFBIG)",
		"mm_move past the limit is -EFBIG, file unchanged",
		"mm_move within the limit works in a file past it",
		"growing past the limit is -EFBIG, file unchanged",
		"removing in the middle (fallocate allowed) past the limit "
		    "is -EFBIG",
		"removing in the middle (tail moved) past the limit is "
		    "-EFBIG, file unchanged",
		"shrinking at the end of a file past the limit works",
	};
	struct rlimit rl;
	pid_t pid;
	int status, i;

	if (getrlimit(RLIMIT_FSIZE, &rl) == 0 && rl.rlim_cur == RLIM_INFINITY)
		ok(mm_fsize_check(MM_OFF_MAX) == 0,
		    "mm_fsize_check: no limit, any size");
	fflush(stdout);
	if ((pid = fork()) == -1)
		abort();
	if (pid == 0)
		_exit(limit_child());
	if (waitpid(pid, &status, 0) == -1 || !WIFEXITED(status) ||
	    WEXITSTATUS(status) == 0xff) {
		ok(0, "the limit child ran (status %#x)", status);
		return;
	}
	for (i = 0; i < 8; i++)
		ok(!(WEXITSTATUS(status) & (1 << i)), "%s", what[i]);
}

/* ---------------------------------------------------------------- flush */

static void
test_flush(void)
{
	static unsigned char data[10000];
	const char *path = path_of("fl");
	struct mm_file f;
	uint64_t a = 1, e = 1;

	memset(data, 'z', sizeof(data));
	write_file(path, data, sizeof(data));
	mm_open(&f, path, MM_ACCESS_READ, MM_OPEN_MAPPED);
	ok(mm_flush(&f, 100, 10, MS_SYNC, &a, &e) == 0 && a == 0 &&
	    e == 4096, "a read-only file flushes too (fdatasync)");
	ok(mm_flush(&f, 100, 10, MS_ASYNC, &a, &e) == 0,
	    "and schedules its write-back (sync_file_range)");
	mm_close(&f);
	mm_open(&f, path, MM_ACCESS_WRITE, MM_OPEN_MAPPED);
	ok(mm_flush(&f, 0, 10000, MS_SYNC, &a, &e) == 0 && a == 0 &&
	    e == 10000, "flush the whole file");
	ok(mm_flush(&f, 100, 10, MS_SYNC, &a, &e) == 0 && a == 0 &&
	    e == 4096, "an unaligned range widens to its page");
	ok(mm_flush(&f, 4097, 4095, MS_SYNC, &a, &e) == 0 && a == 4096 &&
	    e == 8192, "a range ending on a page boundary");
	ok(mm_flush(&f, 9999, 1, MS_ASYNC | MS_INVALIDATE, &a, &e) == 0 &&
	    a == 8192 && e == 10000, "the last byte, async, invalidate");
	ok(mm_flush(&f, 10000, 0, MS_SYNC, &a, &e) == 0 && a == e,
	    "an empty range at the end does nothing");
	ok(mm_flush(&f, 10001, 0, MS_SYNC, NULL, NULL) == -ERANGE,
	    "an offset past the end is -ERANGE");
	ok(mm_flush(&f, 9000, 1001, MS_SYNC, NULL, NULL) == -ERANGE,
	    "a range past the end is -ERANGE");
	ok(mm_flush(&f, 1, UINT64_MAX, MS_SYNC, NULL, NULL) == -ERANGE,
	    "a huge size does not wrap around");
	mm_close(&f);
	write_file(path, data, 0);
	mm_open(&f, path, MM_ACCESS_WRITE, MM_OPEN_MAPPED);
	ok(mm_flush(&f, 0, 0, MS_SYNC, &a, &e) == 0,
	    "an empty file flushes, doing nothing");
	mm_close(&f);
	unlink(path);
}

int
main(void)
{
	char cmd[300];
	int rc;

	if (mkdtemp(dir) == NULL)
		return 99;
	test_grammar();
	test_plan();
	test_end();
	test_fill();
	test_middle();
	test_flush();
	test_limit();
	rc = tap_done();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		rc = 1;
	return rc;
}
