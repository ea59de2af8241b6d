/*
 * test_advise.c - the advice table, ranges widened to pages, residency
 * runs, prefetch with waiting, evict keeping dirty data, and remove
 * zeroing exactly its range.
 */
#include "config.h"

#include <sys/mman.h>
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

#include "engine/advise.h"
#include "engine/advise_int.h"
#include "tap.h"

static char dir[] = "/tmp/mmadvtest.XXXXXX";

static const char *
make_file(const char *name, size_t len, unsigned seed)
{
	static char path[256];
	unsigned char *buf;
	size_t i;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((buf = malloc(len + 1)) == NULL)
		abort();
	for (i = 0; i < len; i++)
		buf[i] = (unsigned char)(seed * 31 + i * 7 + i / 4096);
	fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0644);
	if (fd < 0 || (len && write(fd, buf, len) != (ssize_t)len) ||
	    fsync(fd) != 0)
		abort();
	close(fd);
	free(buf);
	return path;
}

static void
test_table(void)
{
	const struct mm_advice *t, *a;
	size_t n, i, j;
	int dup = 0, nohelp = 0;

	t = mm_advice_table(&n);
	ok(n >= 20, "the table has every advice (%zu)", n);
	for (i = 0; i < n; i++) {
		if (t[i].help == NULL || t[i].help[0] == '\0')
			nohelp++;
		for (j = i + 1; j < n; j++)
			if (strcmp(t[i].name, t[j].name) == 0)
				dup++;
	}
	ok(dup == 0 && nohelp == 0, "names are unique, each has a help line");

	a = mm_advice_find("willneed");
	ok(a != NULL && a->advice == MADV_WILLNEED &&
	    (a->flags & MM_ADV_FETCH), "willneed is MADV_WILLNEED, a fetch");
	ok(mm_advice_find("WILLNEED") == a &&
	    mm_advice_find("MADV_WILLNEED") == a &&
	    mm_advice_find("madv_willneed") == a,
	    "names are found in either case, with or without MADV_");
	a = mm_advice_find("populate_read");
	ok(a != NULL && strcmp(a->name, "populate-read") == 0,
	    "'_' and '-' are the same in names");
	a = mm_advice_find("evict");
	ok(a != NULL && (a->flags & MM_ADV_EVICT), "evict is there");
	a = mm_advice_find("remove");
	ok(a != NULL && (a->flags & MM_ADV_WRITE) && (a->flags & MM_ADV_DATA),
	    "remove needs write access and changes data");
	a = mm_advice_find("populate-write");
	ok(a != NULL && (a->flags & MM_ADV_WRITE) &&
	    !(a->flags & MM_ADV_DATA), "populate-write needs write access");
	ok(mm_advice_find("bogus") == NULL && mm_advice_find("") == NULL &&
	    mm_advice_find("madv_") == NULL &&
	    mm_advice_find("willneedwillneedwillneedwillneedwillneed") ==
	    NULL, "unknown and over-long names are not found");
	ok(mm_advice_find("hwpoison") == NULL &&
	    mm_advice_find("soft-offline") == NULL,
	    "advice that takes memory out of service is left out");
}

static void
test_range(void)
{
	struct mm_file f;
	uint64_t ps = mm_pagesize(), lo, hi;

	memset(&f, 0, sizeof(f));
	f.size = (off_t)(3 * ps + 100);
	ok(mm_page_span(100, 10, (uint64_t)f.size, &lo, &hi) == 0 && lo == 0 && hi == ps,
	    "a range inside one page widens to that page");
	ok(mm_page_span(ps - 1, 2, (uint64_t)f.size, &lo, &hi) == 0 && lo == 0 &&
	    hi == 2 * ps, "a range across a page boundary widens to both");
	ok(mm_page_span(3 * ps + 50, 50, (uint64_t)f.size, &lo, &hi) == 0 &&
	    lo == 3 * ps && hi == 3 * ps + 100,
	    "the last page is cut at the end of the file");
	ok(mm_page_span(0, 3 * ps + 101, (uint64_t)f.size, &lo, &hi) == -ERANGE,
	    "a range past the end is -ERANGE");
	ok(mm_page_span(3 * ps + 101, 0, (uint64_t)f.size, &lo, &hi) == -ERANGE,
	    "an offset past the end is -ERANGE");
	ok(mm_page_span(UINT64_MAX, 1, (uint64_t)f.size, &lo, &hi) == -ERANGE &&
	    mm_page_span(1, UINT64_MAX, (uint64_t)f.size, &lo, &hi) == -ERANGE,
	    "huge offsets and lengths do not wrap around");
	ok(mm_page_span(ps + 7, 0, (uint64_t)f.size, &lo, &hi) == 0 &&
	    lo == ps && hi == ps && mm_pages(lo, hi) == 0,
	    "an empty range stays empty: no pages");
	ok(mm_page_span(ps - 1, 2, (uint64_t)f.size, &lo, &hi) == 0 &&
	    mm_pages(lo, hi) == 2 && mm_pages(3 * ps, 3 * ps + 100) == 1,
	    "mm_pages counts the pages a span touches");
}

struct runs {
	uint64_t	next;		/* where the next run must start */
	uint64_t	resident;	/* bytes in resident runs */
	int		last;		/* state of the last run, -1: none */
	int		bad;
	int		count;
};

static int
check_run(void *arg, uint64_t off, uint64_t len, int resident)
{
	struct runs *r = arg;

	if (off != r->next || len == 0 || resident == r->last ||
	    off % mm_pagesize() != 0)
		r->bad++;
	r->next = off + len;
	r->last = resident;
	r->count++;
	if (resident)
		r->resident += len;
	return 0;
}

static int
stop_walk(void *arg, uint64_t off, uint64_t len, int resident)
{
	(void)arg;
	(void)off;
	(void)len;
	(void)resident;
	return -ECANCELED;
}

static int evict_works;

static void
test_residency(void)
{
	struct mm_file f;
	struct mm_residency r;
	struct runs runs;
	const struct mm_advice *evict = mm_advice_find("evict");
	const struct mm_advice *willneed = mm_advice_find("willneed");
	uint64_t ps = mm_pagesize(), size = 64 * ps + 100;
	const char *path = make_file("res", (size_t)size, 1);
	int rc;

	ok(mm_open(&f, path, MM_ACCESS_READ, MM_OPEN_MAPPED) == 0,
	    "open a file of 64 pages and 100 bytes");
	ok(mm_residency_visible(&f) == 0,
	    "residency of our own file is visible");
	ok(mm_advise(&f, evict, 0, size, NULL) == 0, "evict it");
	ok(mm_residency(&f, 0, size, NULL, NULL, &r) == 0 && r.pages == 65 &&
	    r.bytes == size, "65 pages, every byte counted");
	evict_works = r.resident_pages == 0;
	if (!evict_works)
		printf("# eviction does not work here (%ju pages stay)\n",
		    (uintmax_t)r.resident_pages);

	rc = mm_advise(&f, willneed, 0, size, NULL);
	ok(rc == 0, "willneed");
	rc = mm_fetch_wait(&f, 0, size, 30, NULL, &r);
	ok(rc == 0 && r.resident_pages == r.pages &&
	    r.resident_bytes == size, "after waiting, all of it is resident");

	memset(&runs, 0, sizeof(runs));
	runs.last = -1;
	ok(mm_residency(&f, 0, size, check_run, &runs, &r) == 0 &&
	    runs.bad == 0 && runs.next == size && runs.count == 1 &&
	    runs.resident == size, "one resident run covers the file");

	if (evict_works) {
		/* Evict every other 8-page block: runs alternate. */
		uint64_t b;

		for (b = 0; b < 64; b += 16)
			mm_advise(&f, evict, b * ps, 8 * ps, NULL);
		memset(&runs, 0, sizeof(runs));
		runs.last = -1;
		rc = mm_residency(&f, 0, size, check_run, &runs, &r);
		ok(rc == 0 && runs.bad == 0 && runs.next == size &&
		    runs.resident == r.resident_bytes &&
		    r.resident_pages == 33 && runs.count == 8,
		    "runs alternate, cover the file, and sum to the count "
		    "(%d runs, %ju resident)", runs.count,
		    (uintmax_t)r.resident_pages);
		rc = mm_residency(&f, 4 * ps, 8 * ps, NULL, NULL, &r);
		ok(rc == 0 && r.pages == 8 && r.resident_pages == 4,
		    "a range counts only its own pages");
		rc = mm_fetch_wait(&f, ps, 1, 30, NULL, &r);
		ok(rc == 0 && mm_residency(&f, ps, 1, NULL, NULL, &r) == 0 &&
		    r.pages == 1 && r.resident_pages == 1 && r.bytes == 1,
		    "waiting for one byte fetches its page");
	} else {
		ok(1, "# SKIP eviction does not work on this file system");
		ok(1, "# SKIP eviction does not work on this file system");
		ok(1, "# SKIP eviction does not work on this file system");
	}

	ok(mm_residency(&f, 0, size, stop_walk, NULL, &r) == -ECANCELED,
	    "a callback's error stops the walk and is returned");
	ok(mm_residency(&f, size, 0, NULL, NULL, &r) == 0 && r.pages == 0,
	    "an empty range at the end has no pages");
	ok(mm_residency(&f, size, 1, NULL, NULL, &r) == -ERANGE &&
	    mm_advise(&f, willneed, 0, size + 1, NULL) == -ERANGE &&
	    mm_fetch_wait(&f, size + 1, 0, 1, NULL, &r) == -ERANGE,
	    "ranges past the end are -ERANGE everywhere");
	mm_close(&f);
}

static void
test_advise_errors(void)
{
	struct mm_advice none = { "none", -1, 0, "not in any build" };
	struct mm_file f;
	const char *path = make_file("err", 8192, 2);

	ok(mm_open(&f, path, MM_ACCESS_READ, MM_OPEN_MAPPED) == 0,
	    "open a small file");
	ok(mm_advise(&f, &none, 0, 8192, NULL) == -ENOTSUP,
	    "an advice this build lacks is -ENOTSUP");
	ok(mm_advise(&f, mm_advice_find("remove"), 0, 8192, NULL) < 0,
	    "remove through a read-only mapping is refused");
	ok(mm_advise(&f, mm_advice_find("willneed"), 0, 0, NULL) == 0,
	    "an empty range does nothing and succeeds");

	/*
	 * A job started with & by a shell without job control (make check
	 * &, nohup ... &) begins with SIGINT ignored, which hold keeps so.
	 */
	signal(SIGINT, SIG_DFL);
	mm_signals_hold();
	raise(SIGINT);
	ok(mm_advise(&f, mm_advice_find("willneed"), 0, 8192, NULL) ==
	    -EINTR, "a held signal stops the work");
	ok(mm_signals_release() == SIGINT, "and is handed back");
	/* mm_signals_pending() keeps the last answer until the next hold. */
	mm_signals_hold();
	mm_signals_release();
	mm_close(&f);

	ok(mm_open(&f, dir, MM_ACCESS_READ, MM_OPEN_MAPPED) == -EISDIR,
	    "a directory is refused");
}

/* A child writes through a shared mapping and exits without msync. */
static void
test_evict_dirty(void)
{
	struct mm_file f;
	struct mm_residency r;
	const char *p = make_file("dirty", 16 * 4096, 3);
	char path[256], back[16];
	pid_t pid;
	int fd, st, rc;

	snprintf(path, sizeof(path), "%s", p);
	pid = fork();
	if (pid == 0) {
		unsigned char *m;

		fd = open(path, O_RDWR);
		m = mmap(NULL, 16 * 4096, PROT_READ | PROT_WRITE, MAP_SHARED,
		    fd, 0);
		if (m == MAP_FAILED)
			_exit(1);
		memcpy(m + 5000, "dirty pages!", 12);
		_exit(0);
	}
	ok(waitpid(pid, &st, 0) == pid && WIFEXITED(st) &&
	    WEXITSTATUS(st) == 0, "a child dirtied a page and exited");
	rc = mm_open(&f, path, MM_ACCESS_READ, MM_OPEN_MAPPED);
	if (rc == 0)
		rc = mm_advise(&f, mm_advice_find("evict"), 0, 16 * 4096,
		    NULL);
	ok(rc == 0, "evict the file (%d)", rc);
	ok(mm_residency(&f, 0, 16 * 4096, NULL, NULL, &r) == 0 &&
	    (!evict_works || r.resident_pages == 0),
	    "no page stays cached (%ju)", (uintmax_t)r.resident_pages);
	fd = open(path, O_RDONLY);
	ok(fd >= 0 && pread(fd, back, 12, 5000) == 12 &&
	    memcmp(back, "dirty pages!", 12) == 0,
	    "the dirty bytes were written back, not dropped");
	close(fd);
	mm_close(&f);
}

static void
test_hole_plan(void)
{
	struct mm_adv_hole h;
	uint64_t ps = 4096, size = 3 * ps + 100;

	mm_adv_hole_plan(size, 100, 10, ps, &h);
	ok(h.head == 100 && h.headlen == 10 && h.punchlen == 0 &&
	    h.taillen == 0, "a range inside one page is only written");
	mm_adv_hole_plan(size, 4000, 200, ps, &h);
	ok(h.head == 4000 && h.headlen == 200 && h.punchlen == 0 &&
	    h.taillen == 0, "a range across a boundary without a whole "
	    "page is only written");
	mm_adv_hole_plan(size, ps - 10, ps + 20, ps, &h);
	ok(h.head == ps - 10 && h.headlen == 10 && h.punch == ps &&
	    h.punchlen == ps && h.tail == 2 * ps && h.taillen == 10,
	    "three pages: partial, punched, partial");
	mm_adv_hole_plan(size, ps, 2 * ps, ps, &h);
	ok(h.headlen == 0 && h.punch == ps && h.punchlen == 2 * ps &&
	    h.taillen == 0, "whole pages are only punched");
	mm_adv_hole_plan(size, 50, size - 50, ps, &h);
	ok(h.head == 50 && h.headlen == ps - 50 && h.punch == ps &&
	    h.punchlen == size - ps && h.taillen == 0,
	    "a range to the end of the file punches up to there");
	mm_adv_hole_plan(size, 3 * ps + 10, 90, ps, &h);
	ok(h.head == 3 * ps + 10 && h.headlen == 90 && h.punchlen == 0 &&
	    h.taillen == 0, "inside the partial last page: only written");
	mm_adv_hole_plan(size, 0, size, ps, &h);
	ok(h.headlen == 0 && h.punch == 0 && h.punchlen == size &&
	    h.taillen == 0, "the whole file is one punch");
	mm_adv_hole_plan(size, 100, 0, ps, &h);
	ok(h.headlen + h.punchlen + h.taillen == 0,
	    "an empty range has nothing to do");
}

/*
 * Remove [OFF, OFF+LEN) of the file at PATH (SPLIT: in parts, as on a
 * block device) and zero it in WANT, what PATH must hold: 0 when they
 * agree and the size is still SIZE.
 */
static int
remove_case(const char *path, unsigned char *want, size_t size, int split,
    uint64_t off, uint64_t len)
{
	struct mm_file f;
	struct mm_adv_hole h;
	unsigned char *got;
	struct stat st;
	int fd, rc, same;

	memset(want + off, 0, (size_t)len);
	if ((rc = mm_open(&f, path, MM_ACCESS_WRITE, MM_OPEN_MAPPED)) < 0)
		return rc;
	if (split) {
		mm_adv_hole_plan((uint64_t)f.size, off, len, mm_pagesize(),
		    &h);
		rc = mm_adv_hole_apply(&f, &h);
	} else
		rc = mm_advise(&f, mm_advice_find("remove"), off, len, NULL);
	mm_close(&f);
	if (rc < 0)
		return rc;
	if ((got = malloc(size + 1)) == NULL)
		abort();
	fd = open(path, O_RDONLY);
	same = fd >= 0 && fstat(fd, &st) == 0 && st.st_size == (off_t)size &&
	    read(fd, got, size + 1) == (ssize_t)size &&
	    memcmp(got, want, size) == 0;
	close(fd);
	free(got);
	return same ? 0 : -EILSEQ;
}

static void
test_remove(void)
{
	struct mm_file f;
	uint64_t ps = mm_pagesize();
	size_t size = (size_t)(5 * ps + 100);
	const char *p = make_file("rm", size, 4);
	char path[256];
	unsigned char *want;
	int fd, rc;

	snprintf(path, sizeof(path), "%s", p);
	if ((want = malloc(size)) == NULL)
		abort();
	fd = open(path, O_RDONLY);
	if (fd < 0 || read(fd, want, size) != (ssize_t)size)
		abort();
	close(fd);
	rc = remove_case(path, want, size, 0, 100, 10);
	if (rc == -EOPNOTSUPP) {
		for (rc = 0; rc < 13; rc++)
			ok(1, "# SKIP this file system cannot punch holes");
		free(want);
		return;
	}
	ok(rc == 0, "remove 100 10 zeroes those 10 bytes (%d)", rc);
	ok(remove_case(path, want, size, 0, ps - 96, 200) == 0,
	    "remove across a page boundary zeroes only the range");
	ok(remove_case(path, want, size, 0, 0, 1) == 0,
	    "remove of the first byte");
	ok(remove_case(path, want, size, 0, ps + 7, 3 * ps - 14) == 0,
	    "remove over whole pages with unaligned ends");
	ok(remove_case(path, want, size, 0, 4 * ps + 3, ps + 97) == 0,
	    "remove to the end of the file keeps the size");

	/* What a block device does: pages punched, the ends written. */
	ok(remove_case(path, want, size, 1, 2 * ps - 5, 10) == 0,
	    "split: a range without a whole page is written");
	ok(remove_case(path, want, size, 1, 200, 2 * ps + 11) == 0,
	    "split: pages punched, partial ends written");
	ok(remove_case(path, want, size, 1, 3 * ps + 1, 2 * ps + 99) == 0,
	    "split: a range to the end of the file");

	ok(mm_open(&f, path, MM_ACCESS_WRITE, MM_OPEN_MAPPED) == 0,
	    "open it again");
	ok(mm_advise(&f, mm_advice_find("remove"), 1, size, NULL) ==
	    -ERANGE && mm_adv_remove(&f, size + 1, 0) == -ERANGE,
	    "a range past the end is -ERANGE");
	ok(mm_adv_remove(&f, size, 0) == 0, "an empty range at the end "
	    "does nothing");
	mm_close(&f);
	ok(remove_case(path, want, size, 0, 0, 0) == 0,
	    "and the file is as the last remove left it");
	free(want);

	/* Once more with the whole file. */
	p = make_file("rmall", size, 5);
	snprintf(path, sizeof(path), "%s", p);
	if ((want = calloc(1, size)) == NULL)
		abort();
	ok(remove_case(path, want, size, 0, 0, size) == 0,
	    "remove of a whole file with a partial last page");
	free(want);
}

int
main(void)
{
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	test_table();
	test_range();
	test_residency();
	test_advise_errors();
	test_evict_dirty();
	test_hole_plan();
	test_remove();
	if (system(NULL)) {
		char cmd[300];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			printf("# could not remove %s\n", dir);
	}
	return tap_done();
}
