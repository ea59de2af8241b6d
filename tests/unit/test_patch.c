/*
 * test_patch.c - the edit list: parsing scripts and offsets, checking a
 * batch whole, writing it, undo scripts and reports, and a file that
 * shrinks.
 */
#include "config.h"

#include <sys/mman.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/flush.h"
#include "engine/patch.h"
#include "tap.h"

static char dir[] = "/tmp/mmpatchtest.XXXXXX";
static char path[256];

static void
put(const void *data, size_t len)
{
	int fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0644);

	if (fd < 0 || (len && write(fd, data, len) != (ssize_t)len))
		abort();
	close(fd);
}

static int
is(const void *data, size_t len)
{
	unsigned char buf[256];
	int fd = open(path, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		abort();
	n = read(fd, buf, sizeof(buf));
	close(fd);
	return n == (ssize_t)len && memcmp(buf, data, len) == 0;
}

static int
script(struct mm_patch *p, const char *s)
{
	return mm_patch_parse_script(p, (const unsigned char *)s, strlen(s));
}

/*
 * The sample batch (two edits that write, one empty) parsed, keeping the
 * old bytes, and checked against a fresh "0123456789": the check's result.
 */
static int
checked_sample(struct mm_patch *p, struct mm_file *f)
{
	put("0123456789", 10);
	mm_patch_init(p, MM_PATCH_KEEP_OLD);
	script(p, "1 4142\n-1 5a\n4 0x\n");
	if (mm_open(f, path, MM_ACCESS_WRITE, MM_OPEN_MAPPED) < 0)
		abort();
	return mm_patch_check(p, f);
}

/* Parse S as a script and run it on the test file: the check's result. */
static int
run_script(const char *s, int flags, int *applied)
{
	struct mm_patch p;
	struct mm_file f;
	int rc;

	*applied = 0;
	mm_patch_init(&p, flags);
	if (script(&p, s) < 0 || mm_open(&f, path, MM_ACCESS_WRITE,
	    MM_OPEN_MAPPED) < 0)
		abort();
	if ((rc = mm_patch_check(&p, &f)) == 0 && mm_patch_apply(&p) == 0)
		*applied = 1;
	mm_patch_free(&p);
	mm_close(&f);
	return rc;
}

static void
test_parse_script(void)
{
	struct mm_patch p;
	int rc;

	mm_patch_init(&p, 0);
	rc = script(&p, "# a comment\n\n  0x10 de:ad  # trailing\n"
	    "-2\t0xbeef 0000\r\n5 0x\n");
	ok(rc == 0 && p.n == 3, "a script with comments, blanks, CRLF parses");
	ok(p.e[0].mag == 16 && !p.e[0].neg && p.e[0].len == 2 &&
	    p.e[0].data[0] == 0xde && p.e[0].data[1] == 0xad &&
	    p.e[0].expect == NULL && p.e[0].line == 3,
	    "OFFSET NEWHEX: offset, bytes, line number, no expectation");
	ok(p.e[1].neg && p.e[1].mag == 2 && p.e[1].len == 2 &&
	    p.e[1].explen == 2 && p.e[1].expect[0] == 0 && p.e[1].line == 4,
	    "OFFSET NEWHEX OLDHEX: a negative offset and an expectation");
	ok(p.e[2].len == 0, "0x is the empty byte string");
	mm_patch_free(&p);

	rc = script(&p, "0 41\n1 42\n2 zz\n");
	ok(rc == -EINVAL && p.err.why == MM_PATCH_BAD_HEX && p.err.line == 3 &&
	    strcmp(p.err.tok, "zz") == 0 && p.err.pos == 0,
	    "bad hex names line 3 and the token");
	mm_patch_free(&p);
	rc = script(&p, "0 414\n");
	ok(rc == -EINVAL && p.err.why == MM_PATCH_BAD_HEX && p.err.pos == 3,
	    "an odd digit count is bad hex at the end");
	mm_patch_free(&p);
	rc = script(&p, "\n\n7\n");
	ok(rc == -EINVAL && p.err.why == MM_PATCH_SYNTAX && p.err.line == 3,
	    "an offset without data is a syntax error");
	mm_patch_free(&p);
	rc = script(&p, "0 41 42 43\n");
	ok(rc == -EINVAL && p.err.why == MM_PATCH_SYNTAX &&
	    strcmp(p.err.tok, "43") == 0, "four fields are a syntax error");
	mm_patch_free(&p);
	rc = script(&p, "0 41\n16E 41\n");
	ok(rc == -ERANGE && p.err.why == MM_PATCH_BAD_OFFSET &&
	    p.err.line == 2, "an offset over 2^63-1 is out of range");
	mm_patch_free(&p);
	rc = script(&p, "zero 41\n");
	ok(rc == -EINVAL && p.err.why == MM_PATCH_BAD_OFFSET,
	    "a word is not an offset");
	mm_patch_free(&p);
	rc = mm_patch_parse_script(&p, (const unsigned char *)"0 41\n1\0 42\n",
	    11);
	ok(rc == -EINVAL && p.err.why == MM_PATCH_SYNTAX && p.err.line == 2,
	    "a NUL byte in a line is a syntax error");
	mm_patch_free(&p);
}

static void
test_parse_offsets(void)
{
	static const unsigned char x[] = { 0x58 };
	struct mm_patch p;
	struct mm_edit t;
	const char *in = "0\n\n0x10\ndisk.img:7\n  -3  \n";
	int rc;

	memset(&t, 0, sizeof(t));
	t.data = x;
	t.len = 1;
	t.repeat = 4;
	mm_patch_init(&p, 0);
	rc = mm_patch_parse_offsets(&p, (const unsigned char *)in, strlen(in),
	    "disk.img", &t);
	ok(rc == 0 && p.n == 4 && p.e[0].mag == 0 && p.e[1].mag == 16 &&
	    p.e[2].mag == 7 && p.e[3].neg && p.e[3].mag == 3,
	    "offsets: decimal, 0x, FILE: prefix, negative, blanks skipped");
	ok(p.e[2].line == 4 && p.e[1].total == 4 && p.e[3].data == x,
	    "each offset is a copy of the template, with its line");
	mm_patch_free(&p);
	in = "1\nother.img:7\n";
	rc = mm_patch_parse_offsets(&p, (const unsigned char *)in, strlen(in),
	    "disk.img", &t);
	ok(rc < 0 && p.err.why == MM_PATCH_OTHER_FILE && p.err.line == 2,
	    "an offset for another file is refused");
	mm_patch_free(&p);
	t.len = 2;
	t.repeat = (uint64_t)1 << 62;
	in = "1\n";
	rc = mm_patch_parse_offsets(&p, (const unsigned char *)in, strlen(in),
	    NULL, &t);
	ok(rc == -EOVERFLOW && p.err.why == MM_PATCH_TOO_MANY,
	    "data repeated past 2^63-1 bytes overflows");
	mm_patch_free(&p);
}

static void
test_check(void)
{
	int applied, rc;

	put("0123456789", 10);
	rc = run_script("0 41\n9 42 39\n", 0, &applied);
	ok(rc == 0 && applied && is("A12345678B", 10),
	    "a batch with an expectation that holds is written");

	put("0123456789", 10);
	rc = run_script("0 41\n9 4243\n", 0, &applied);
	ok(rc == -ERANGE && !applied && is("0123456789", 10),
	    "a batch whose last edit passes the end writes nothing");
	rc = run_script("0 41\n11 42\n", 0, &applied);
	ok(rc == -ERANGE && !applied && is("0123456789", 10),
	    "an offset past the end: nothing written");
	rc = run_script("10 0x\n-10 41\n", 0, &applied);
	ok(rc == 0 && applied && is("A123456789", 10),
	    "empty data at the end and -SIZE are in range");
	put("0123456789", 10);
	rc = run_script("-11 41\n", 0, &applied);
	ok(rc == -ERANGE && !applied, "one before the start is out of range");
	rc = run_script("0 41\n5 4142 3536\n2 43\n", 0, &applied);
	ok(rc == 0 && applied && is("A1C34AB789", 10),
	    "edits in any order, adjacent ones fine");
	put("0123456789", 10);
	rc = run_script("0 41\n5 42\n4 4343\n7 44\n", 0, &applied);
	ok(rc == -ERANGE && !applied && is("0123456789", 10),
	    "overlapping edits are refused whole");
	rc = run_script("0 41\n4 41424344 34353637\n6 44\n", 0, &applied);
	ok(rc == -ERANGE && !applied,
	    "an edit with an expectation that overlaps another is refused");
	rc = run_script("0 41\n1 42 31\n8 43 39\n", 0, &applied);
	ok(rc == -ECANCELED && !applied && is("0123456789", 10),
	    "one unmet expectation and nothing is written");
	rc = run_script("10 0x 0x\n", 0, &applied);
	ok(rc == 0 && applied, "an empty expectation at the end holds");
}

static void
test_expect_len(void)
{
	struct mm_patch p;
	struct mm_edit e;
	int rc;

	mm_patch_init(&p, 0);
	rc = script(&p, "0 41 42\n3 4142 43\n");
	ok(rc == -EINVAL && p.err.why == MM_PATCH_EXPECT_LEN &&
	    p.err.line == 2 && p.err.explen == 1 && p.err.total == 2,
	    "OLDHEX shorter than NEWHEX is refused, naming the line");
	mm_patch_free(&p);
	rc = script(&p, "10 0x 41\n");
	ok(rc == -EINVAL && p.err.why == MM_PATCH_EXPECT_LEN,
	    "an expectation with no data written is refused");
	mm_patch_free(&p);
	memset(&e, 0, sizeof(e));
	e.data = (const unsigned char *)"ab";
	e.len = 2;
	e.repeat = 3;
	e.expect = (const unsigned char *)"123456";
	e.explen = 6;
	rc = mm_patch_add(&p, &e);
	e.explen = 2;
	ok(rc == 0 && mm_patch_add(&p, &e) == -EINVAL &&
	    p.err.why == MM_PATCH_EXPECT_LEN && p.err.total == 6 && p.n == 1,
	    "with a repeat, the expectation is as long as all that is written");
	mm_patch_free(&p);
}

static void
test_resume(void)
{
	static const char *batch = "0 4142 3031\n5 434445 353637\n";
	struct mm_patch p;
	struct mm_file f;
	int rc, applied;

	/* Cut short: the first edit half made, the second a byte. */
	put("0B234C6789", 10);
	rc = run_script(batch, 0, &applied);
	ok(rc == -ECANCELED && !applied && is("0B234C6789", 10),
	    "a batch cut short fails its expectations");
	mm_patch_init(&p, MM_PATCH_RESUME | MM_PATCH_KEEP_OLD);
	if (script(&p, batch) < 0 || mm_open(&f, path, MM_ACCESS_WRITE,
	    MM_OPEN_MAPPED) < 0)
		abort();
	rc = mm_patch_check(&p, &f);
	ok(rc == 0 && memcmp(p.e[0].old, "01", 2) == 0 &&
	    memcmp(p.e[1].old, "567", 3) == 0,
	    "RESUME: bytes old or new hold; the old bytes kept are the "
	    "expected ones");
	ok(mm_patch_apply(&p) == 0 && is("AB234CDE89", 10),
	    "RESUME finishes the batch");
	mm_patch_free(&p);
	mm_close(&f);
	put("0B234CX789", 10);
	rc = run_script(batch, MM_PATCH_RESUME, &applied);
	ok(rc == -ECANCELED && !applied && is("0B234CX789", 10),
	    "RESUME still refuses a byte neither old nor new");
}

static void
test_fill_and_old(void)
{
	static unsigned char big[200];
	struct mm_patch p;
	struct mm_file f;
	struct mm_edit e;
	unsigned char want[200];
	size_t i;
	int rc;

	for (i = 0; i < sizeof(big); i++)
		big[i] = (unsigned char)i;
	put(big, sizeof(big));
	mm_patch_init(&p, MM_PATCH_KEEP_OLD | MM_PATCH_SYNC);
	memset(&e, 0, sizeof(e));
	e.data = (const unsigned char *)"xyz";
	e.len = 3;
	e.repeat = 50;
	e.mag = 20;
	e.tok = "20";
	mm_patch_add(&p, &e);
	e.data = (const unsigned char *)"!";
	e.len = 1;
	e.repeat = 7;
	e.mag = 7;
	e.neg = 1;
	mm_patch_add(&p, &e);
	if (mm_open(&f, path, MM_ACCESS_WRITE, MM_OPEN_MAPPED) < 0)
		abort();
	rc = mm_patch_check(&p, &f);
	ok(rc == 0 && p.e[0].off == 20 && p.e[1].off == 193 &&
	    memcmp(p.e[0].old, big + 20, 150) == 0 &&
	    memcmp(p.e[1].old, big + 193, 7) == 0,
	    "the check resolves offsets and keeps the old bytes");
	rc = mm_patch_apply(&p);
	memcpy(want, big, sizeof(want));
	for (i = 0; i < 150; i++)
		want[20 + i] = (unsigned char)"xyz"[i % 3];
	memset(want + 193, '!', 7);
	ok(rc == 0 && is(want, sizeof(want)),
	    "repeat fills a 3-byte and a 1-byte pattern exactly");
	mm_patch_free(&p);
	mm_close(&f);
}

static void
test_undo(void)
{
	struct mm_patch p;
	struct mm_file f;
	struct mm_undo u;
	struct stat st;
	char undo[300], link[300], text[4096];
	int rc, fd, applied;
	mode_t mask;
	ssize_t n;

	snprintf(undo, sizeof(undo), "%s/undo", dir);
	rc = checked_sample(&p, &f);
	mask = umask(0);
	ok(rc == 0 && mm_patch_save_undo(&p, undo, "undo it", &u) == 0,
	    "an undo script is saved");
	umask(mask);
	mm_undo_close(&u);
	ok(stat(undo, &st) == 0 && (st.st_mode & 07777) == 0600,
	    "it is made mode 0600, even under umask 0");
	ok(mm_patch_save_undo(&p, path, NULL, &u) == -EINVAL &&
	    is("0123456789", 10),
	    "the patched file itself is refused as the undo file");
	ok(mm_patch_save_undo(&p, undo, NULL, &u) == -EEXIST,
	    "an existing undo file is refused");
	snprintf(link, sizeof(link), "%s/link", dir);
	if (symlink("nowhere", link) == -1)
		abort();
	ok(mm_patch_save_undo(&p, link, NULL, &u) == -EEXIST &&
	    lstat(link, &st) == 0 && S_ISLNK(st.st_mode),
	    "a dangling symbolic link is refused, not followed");
	unlink(link);
	ok(mm_patch_save_undo(&p, link, NULL, &u) == 0 &&
	    mm_patch_unchanged(&p) == 1 && mm_undo_remove(&u) == 0 &&
	    access(link, F_OK) == -1 && u.name == NULL,
	    "mm_undo_remove takes away the undo of a change not made");
	mm_patch_apply(&p);
	ok(mm_patch_unchanged(&p) == 0, "mm_patch_unchanged sees the change");
	mm_patch_free(&p);
	mm_close(&f);
	fd = open(undo, O_RDONLY);
	n = read(fd, text, sizeof(text) - 1);
	close(fd);
	text[n < 0 ? 0 : n] = '\0';
	ok(strcmp(text, "# undo it\n1 3132 4142\n9 39 5a\n") == 0,
	    "the undo script restores old bytes and expects the new ones");
	rc = run_script(text, 0, &applied);
	ok(rc == 0 && applied && is("0123456789", 10),
	    "applying the undo script restores the file");
	rc = run_script(text, 0, &applied);
	ok(rc == -ECANCELED && !applied && is("0123456789", 10),
	    "applying it again is refused: the new bytes are gone");
}

static void
test_shrink_and_windows(void)
{
	struct mm_patch p;
	struct mm_file f;
	unsigned char c = 0;
	off_t size0, was;
	int rc, fd;

	/* Edits 3 GiB apart in a sparse file: two windows, both written. */
	fd = open(path, O_CREAT | O_TRUNC | O_RDWR, 0644);
	if (fd < 0 || ftruncate(fd, ((off_t)3 << 30) + 100) == -1)
		abort();
	close(fd);
	mm_patch_init(&p, 0);
	p.io = MM_IO_MAP;
	script(&p, "3G 6162\n10 63\n");
	if (mm_open(&f, path, MM_ACCESS_WRITE, MM_OPEN_MAPPED) < 0)
		abort();
	rc = mm_patch_check(&p, &f);
	ok(rc == 0 && p.nwin == 2 && !p.by_write,
	    "edits far apart get windows of their own");
	rc = mm_patch_apply(&p);
	fd = open(path, O_RDONLY);
	if (pread(fd, &c, 1, ((off_t)3 << 30) + 1) != 1)
		c = 0;
	close(fd);
	ok(rc == 0 && c == 'b', "a write 3 GiB into a sparse file lands");
	ok(mm_flush(&f, (uint64_t)3 << 30, 2, MS_SYNC, NULL, NULL) == 0 &&
	    mm_flush(&f, 0, 0, MS_SYNC, NULL, NULL) == 0,
	    "mm_flush flushes a range far into a sparse file");
	mm_patch_free(&p);

	/* The file shrinks between the check and the write. */
	script(&p, "3G 6162\n");
	rc = mm_patch_check(&p, &f);
	if (ftruncate(f.fd, 4096) == -1)
		abort();
	size0 = f.size;
	rc = mm_patch_apply(&p);
	ok(rc == -EIO && p.err.why == MM_PATCH_IO && f.size == size0 &&
	    mm_fault_cause(&f, rc, &was) == MM_FAULT_SHRANK && was == size0 &&
	    f.size == 4096,
	    "a file that shrank under the patch is -EIO, no crash, its size "
	    "left for mm_fault_cause to tell");
	mm_patch_free(&p);
	mm_close(&f);

	/* By pwrite, too: the writes must not make it long again. */
	fd = open(path, O_CREAT | O_TRUNC | O_RDWR, 0644);
	if (fd < 0 || ftruncate(fd, (off_t)1 << 20) == -1)
		abort();
	close(fd);
	mm_patch_init(&p, 0);
	p.io = MM_IO_READ;
	script(&p, "-1 61\n8192 62\n");
	if (mm_open(&f, path, MM_ACCESS_WRITE, MM_OPEN_MAPPED) < 0)
		abort();
	rc = mm_patch_check(&p, &f);
	ok(rc == 0 && p.by_write && p.nruns == 2,
	    "MM_IO_READ checks by pread, one run per pwrite");
	if (ftruncate(f.fd, 4096) == -1)
		abort();
	rc = mm_patch_apply(&p);
	ok(rc == -EIO && f.size == ((off_t)1 << 20) &&
	    lseek(f.fd, 0, SEEK_END) < ((off_t)1 << 20),
	    "a file cut before the pwrites is -EIO, not grown back");
	mm_patch_free(&p);
	mm_close(&f);
	unlink(path);
}

/*
 * The same random batches by mapping and by pwrite: the same answer,
 * the same bytes, the same old bytes kept.
 */
static void
test_both_ways(void)
{
	static unsigned char orig[8192], got[2][8192];
	static char text[65536];
	struct mm_patch p;
	struct mm_file f;
	size_t i, len, n;
	int rc[2], round, way, fd, same = 1, refused = 0;
	unsigned seed = 7;

	for (round = 0; round < 200; round++) {
		for (i = 0; i < sizeof(orig); i++)
			orig[i] = (unsigned char)rand_r(&seed);
		len = 0;
		n = 1 + (size_t)rand_r(&seed) % 30;
		for (i = 0; i < n; i++) {
			/* Near each other: adjacent, sometimes overlapping. */
			unsigned off = (unsigned)rand_r(&seed) % 1200 +
			    (i % 3 == 0 ? 7000u : 0u);
			unsigned k, w = 1 + (unsigned)rand_r(&seed) % 9;

			len += (size_t)snprintf(text + len, sizeof(text) - len,
			    "%u ", off);
			for (k = 0; k < w; k++)
				len += (size_t)snprintf(text + len,
				    sizeof(text) - len, "%02x",
				    (unsigned)rand_r(&seed) & 255);
			text[len++] = '\n';
		}
		text[len] = '\0';
		for (way = 0; way < 2; way++) {
			put(orig, sizeof(orig));
			mm_patch_init(&p, MM_PATCH_KEEP_OLD);
			p.io = way ? MM_IO_READ : MM_IO_MAP;
			script(&p, text);
			if (mm_open(&f, path, MM_ACCESS_WRITE,
			    MM_OPEN_MAPPED) < 0)
				abort();
			rc[way] = mm_patch_check(&p, &f);
			if (rc[way] == 0)
				rc[way] = mm_patch_apply(&p);
			if (rc[way] == 0 && p.by_write != way)
				same = 0;
			mm_patch_free(&p);
			mm_close(&f);
			fd = open(path, O_RDONLY);
			if (fd < 0 || read(fd, got[way], sizeof(got[way])) !=
			    (ssize_t)sizeof(got[way]))
				abort();
			close(fd);
		}
		if (rc[0] != rc[1] || memcmp(got[0], got[1], sizeof(got[0])))
			same = 0;
		refused += rc[0] != 0;
	}
	ok(same && refused > 0 && refused < 200,
	    "200 random batches: by pwrite as by mapping, refusals too");
}

/* An mm_patch_out into memory; FAIL_AT: fail the call that reaches it. */
struct sinkbuf {
	char	*buf;
	size_t	 len, cap, calls, most;
	size_t	 fail_at;
};

static int
to_mem(void *arg, const void *p, size_t len)
{
	struct sinkbuf *s = arg;

	s->calls++;
	if (len > s->most)
		s->most = len;
	if (s->fail_at != 0 && s->len + len >= s->fail_at)
		return -ENOSPC;
	if (s->len + len + 1 > s->cap) {
		s->cap = (s->len + len + 1) * 2;
		if ((s->buf = realloc(s->buf, s->cap)) == NULL)
			abort();
	}
	memcpy(s->buf + s->len, p, len);
	s->len += len;
	s->buf[s->len] = '\0';
	return 0;
}

static void
test_text(void)
{
	static unsigned char big[100000];
	struct sinkbuf s;
	struct mm_patch p;
	struct mm_edit e;
	struct mm_file f;
	size_t i;
	int rc, good;

	rc = checked_sample(&p, &f);
	memset(&s, 0, sizeof(s));
	ok(rc == 0 && mm_patch_report(&p, "f:", to_mem, &s) == 0 &&
	    strcmp(s.buf, "f:1: 3132 -> 4142\nf:9: 39 -> 5a\n") == 0,
	    "the report: one line per edit that writes, old -> new");
	s.len = 0;
	ok(mm_patch_undo_text(&p, "c", to_mem, &s) == 0 &&
	    strcmp(s.buf, "# c\n1 3132 4142\n9 39 5a\n") == 0,
	    "the undo text: the same serializer, in script form");
	mm_patch_free(&p);
	mm_close(&f);

	/* A repeat longer than the buffer: handed on in pieces. */
	free(s.buf);
	memset(&s, 0, sizeof(s));
	put(big, sizeof(big));
	mm_patch_init(&p, MM_PATCH_KEEP_OLD);
	memset(&e, 0, sizeof(e));
	e.data = (const unsigned char *)"\xab";
	e.len = 1;
	e.repeat = 50000;
	if (mm_patch_add(&p, &e) < 0 || mm_open(&f, path, MM_ACCESS_WRITE,
	    MM_OPEN_MAPPED) < 0)
		abort();
	rc = mm_patch_check(&p, &f);
	ok(rc == 0 && mm_patch_undo_text(&p, NULL, to_mem, &s) == 0 &&
	    s.len == 2 + 2 * 50000 + 1 + 2 * 50000 + 1 && s.calls > 1 &&
	    s.most <= (size_t)64 << 10,
	    "a long line goes out in pieces of at most 64 KiB");
	good = s.len > 0;
	for (i = 0; good && i < 50000; i++)
		good = memcmp(s.buf + 2 + 2 * i, "00", 2) == 0 &&
		    memcmp(s.buf + 3 + 2 * 50000 + 2 * i, "ab", 2) == 0;
	ok(good && strncmp(s.buf, "0 ", 2) == 0, "and says it whole");
	s.len = 0;
	s.calls = 0;
	s.fail_at = 100000;
	ok(mm_patch_report(&p, "", to_mem, &s) == -ENOSPC && s.len < 100000,
	    "an error of the output ends the text with its errno");
	mm_patch_free(&p);
	mm_patch_init(&p, 0);
	ok(mm_patch_report(&p, "", to_mem, &s) == -EINVAL,
	    "without KEEP_OLD there is no text");
	mm_patch_free(&p);
	mm_close(&f);
	free(s.buf);
}

int
main(void)
{
	if (mkdtemp(dir) == NULL)
		return 99;
	snprintf(path, sizeof(path), "%s/file", dir);
	test_parse_script();
	test_parse_offsets();
	test_check();
	test_expect_len();
	test_resume();
	test_fill_and_old();
	test_undo();
	test_text();
	test_shrink_and_windows();
	test_both_ways();
	unlink(path);
	{
		char undo[300];

		snprintf(undo, sizeof(undo), "%s/undo", dir);
		unlink(undo);
	}
	rmdir(dir);
	return tap_done();
}
