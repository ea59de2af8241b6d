/*
 * test_map.c - opening, mapping, the source and the SIGBUS guard.
 */
#include "config.h"

#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/journal.h"
#include "engine/mm.h"
#include "engine/move.h"
#include "engine/source.h"
#include "tap.h"

static char dir[] = "/tmp/mmtest.XXXXXX";

static const char *
tmpfile_with(const char *name, const void *data, size_t len)
{
	static char path[256];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0644);
	if (fd < 0 || (len && write(fd, data, len) != (ssize_t)len))
		abort();
	close(fd);
	return path;
}

/*
 * Read all of [start,end) through an mm_source (mapped where it can be);
 * check that the pieces follow each other with no gap and no repeat.
 */
static int
reader_covers(struct mm_file *f, uint64_t start, uint64_t end,
    const unsigned char *want, size_t wantlen, int *chunks)
{
	struct mm_source *s;
	struct mm_piece p;
	uint64_t next = start;
	int rc;

	*chunks = 0;
	if (mm_source_open(&s, f, MM_IO_MAP, start, end, 0) < 0) {
		mm_source_close(s);
		return 0;
	}
	while ((rc = mm_source_next(s, &p)) > 0) {
		(*chunks)++;
		if (p.off != next || memcmp(p.data, want + (p.off - start),
		    p.len) != 0) {
			mm_source_close(s);
			return 0;
		}
		next = p.off + p.len;
	}
	mm_source_close(s);
	return rc == 0 && next == start + wantlen;
}

struct touch {
	const unsigned char	*p;
	size_t			 len;
	unsigned long		 sum;
};

static int
touch_all(void *arg)
{
	struct touch *t = arg;
	size_t i;

	for (i = 0; i < t->len; i += 4096)
		t->sum += t->p[i];
	return 0;
}

/* What mm_map_walk showed: the windows, in order, and the bytes seen. */
struct walk_seen {
	uint64_t	 off;		/* where the walk starts */
	uint64_t	 next;		/* DONE expected next */
	int		 windows;
	int		 stop_at;	/* window that returns -EINTR, or -1 */
	int		 bad;
};

static int
walk_window(void *arg, struct mm_map *m, uint64_t done)
{
	struct walk_seen *w = arg;

	if (done != w->next || (uint64_t)m->off != w->off + done ||
	    m->len == 0 || m->len > MM_WINDOW)
		w->bad = 1;
	/* A sparse file: a byte of the last page of the window is 0. */
	if (m->data[m->len - 1] != 0)
		w->bad = 1;
	w->next = done + m->len;
	return w->windows++ == w->stop_at ? -EINTR : 0;
}

int
main(void)
{
	struct mm_file f;
	struct mm_map m;
	struct touch t;
	unsigned char *big;
	const char *path;
	size_t i, n = 3 * 1024 * 1024 + 17;
	int pfd[2], chunks, rc;
	pid_t pid;

	if (mkdtemp(dir) == NULL)
		abort();
	big = malloc(n);
	for (i = 0; i < n; i++)
		big[i] = (unsigned char)(i * 7 + i / 251);

	path = tmpfile_with("empty", "", 0);
	ok(mm_open(&f, path, MM_ACCESS_READ, 0) == 0 && f.size == 0 &&
	    f.kind == MM_KIND_REGULAR, "an empty file opens, size 0");
	ok(mm_map(&f, 0, 0, &m) == 0 && m.data != NULL && m.len == 0,
	    "an empty file maps without EINVAL");
	mm_unmap(&m);
	ok(mm_map(&f, 1, 0, &m) == -ERANGE, "offset 1 of an empty file fails");
	mm_close(&f);

	path = tmpfile_with("big", big, n);
	ok(mm_open(&f, path, MM_ACCESS_READ, 0) == 0 && f.size == (off_t)n,
	    "a file opens with its size");
	ok(mm_map(&f, 4097, 10000, &m) == 0 &&
	    memcmp(m.data, big + 4097, 10000) == 0, "an unaligned window maps");
	mm_unmap(&m);
	ok(mm_map(&f, (off_t)n - 5, 6, &m) == -ERANGE,
	    "a window past the end is ERANGE");
	ok(mm_map(&f, (off_t)n, 0, &m) == 0, "an empty window at the end");
	mm_unmap(&m);
	ok(reader_covers(&f, 0, UINT64_MAX, big, n, &chunks) && chunks == 1,
	    "the source gives a mapped file whole");
	ok(reader_covers(&f, 100, 5000, big + 100, 4900, &chunks),
	    "the source gives a mapped range");
	mm_close(&f);

	{
		struct walk_seen w = { 5, 0, 0, -1, 0 };
		uint64_t size = 2 * (uint64_t)MM_WINDOW + 4097;

		path = tmpfile_with("sparse", "", 0);
		if (truncate(path, (off_t)size) < 0)
			abort();
		ok(mm_open(&f, path, MM_ACCESS_READ, 0) == 0 &&
		    mm_map_walk(&f, 5, size - 5, MM_WINDOW, walk_window,
		    &w) == 0 &&
		    !w.bad && w.windows == 3 && w.next == size - 5,
		    "a walk maps a range in windows, in order, each once");
		w.next = 0;
		w.windows = 0;
		w.stop_at = 1;
		ok(mm_map_walk(&f, 5, size - 5, MM_WINDOW, walk_window,
		    &w) == -EINTR && w.windows == 2 && !w.bad,
		    "a walk stops at the first window that fails");
		w.next = 0;
		w.windows = 0;
		w.stop_at = -1;
		ok(mm_map_walk(&f, 5, 0, MM_WINDOW, walk_window, &w) == 0 &&
		    w.windows == 0, "an empty walk calls nothing");
		ok(mm_map_walk(&f, size - 1, 2, MM_WINDOW, walk_window,
		    &w) == -ERANGE, "a walk past the end is ERANGE");
		mm_close(&f);
	}

	ok(mm_open(&f, dir, MM_ACCESS_READ, 0) == -EISDIR,
	    "a directory is EISDIR");
	ok(mm_open(&f, "/nonexistent/x", MM_ACCESS_READ, 0) == -ENOENT,
	    "a missing file is ENOENT");
	ok(mm_open(&f, "/dev/null", MM_ACCESS_WRITE, MM_OPEN_MAPPED) ==
	    -ENODEV, "a character device is refused for mapping");
	ok(mm_open(&f, "/dev/null", MM_ACCESS_READ, 0) == 0 &&
	    f.kind == MM_KIND_STREAM, "a character device is a stream");
	mm_close(&f);

	/* A pipe: chunks of the read buffer, with the overlap kept. */
	if (pipe(pfd) < 0)
		abort();
	if ((pid = fork()) == 0) {
		close(pfd[0]);
		for (i = 0; i < n; i += 1000)
			if (write(pfd[1], big + i, n - i < 1000 ? n - i :
			    1000) < 0)
				_exit(1);
		_exit(0);
	}
	close(pfd[1]);
	dup2(pfd[0], 0);
	close(pfd[0]);
	ok(mm_open(&f, "-", MM_ACCESS_READ, 0) == 0 &&
	    f.kind == MM_KIND_STREAM, "a pipe on stdin is a stream");
	ok(reader_covers(&f, 3, UINT64_MAX, big + 3, n - 3, &chunks) &&
	    chunks > 5, "the source gives a pipe in pieces from offset 3");
	mm_close(&f);
	waitpid(pid, NULL, 0);

	/* The guard: a file truncated under its mapping. */
	path = tmpfile_with("shrink", big, n);
	ok(mm_open(&f, path, MM_ACCESS_READ, 0) == 0 &&
	    mm_map(&f, 0, n, &m) == 0, "map a file that will shrink");
	ok(truncate(path, 4096) == 0, "truncate it under the mapping");
	t.p = m.data;
	t.len = n;
	t.sum = 0;
	rc = mm_guard(touch_all, &t);
	ok(rc == -EIO, "touching past the new end is EIO, not SIGBUS (%d)",
	    rc);
	t.len = 4096;
	ok(mm_guard(touch_all, &t) == 0, "the guard works again afterwards");
	mm_unmap(&m);
	mm_close(&f);

	/* A sparse file past 4 GiB. */
	path = tmpfile_with("sparse", "", 0);
	if (truncate(path, 5LL << 30) == 0) {
		int fd = open(path, O_WRONLY);

		ok(fd >= 0 && pwrite(fd, "needle", 6, (5LL << 30) - 100) == 6,
		    "write into a 5 GiB sparse file");
		close(fd);
		ok(mm_open(&f, path, MM_ACCESS_READ, 0) == 0 &&
		    f.size == 5LL << 30 &&
		    mm_map(&f, (5LL << 30) - 100, 6, &m) == 0 &&
		    memcmp(m.data, "needle", 6) == 0,
		    "map a window past 4 GiB");
		mm_unmap(&m);
		mm_close(&f);
		unlink(path);
	} else
		ok(1, "# SKIP no sparse files here");

	/* mm_move: every triple on a 10-byte file against memmove. */
	{
		const char *orig = "0123456789";
		char want[10], got[11];
		int d, sr, c, bad = 0, rng = 0;

		for (d = 0; d <= 10; d++)
			for (sr = 0; sr <= 10; sr++)
				for (c = 0; c <= 10; c++) {
					int in = d + c <= 10 && sr + c <= 10;

					path = tmpfile_with("move", orig, 10);
					if (mm_open(&f, path, MM_ACCESS_WRITE,
					    MM_OPEN_MAPPED) < 0)
						abort();
					rc = mm_move(&f, (uint64_t)d,
					    (uint64_t)sr, (uint64_t)c, NULL);
					mm_close(&f);
					memcpy(want, orig, 10);
					if (in)
						memmove(want + d, want + sr,
						    (size_t)c);
					{
						int fd = open(path, O_RDONLY);

						if (fd < 0 || read(fd, got, 11)
						    != 10)
							abort();
						close(fd);
					}
					if (in && (rc != 0 ||
					    memcmp(got, want, 10) != 0))
						bad++;
					if (!in && (rc != -ERANGE || memcmp(got,
					    orig, 10) != 0))
						rng++;
				}
		ok(bad == 0, "mm_move matches memmove for every in-range triple");
		ok(rng == 0, "mm_move refuses out-of-range triples, file intact");
	}

	/*
	 * mm_move on a file of a few copy chunks: shifts below and above a
	 * chunk, both ways, the chunk that ends at the end of the file and
	 * counts that are not a multiple of a chunk, against memmove.
	 */
	{
		static const uint64_t moves[][3] = {
			{ 1, 0, 0 }, { 0, 1, 0 }, { 4096, 0, 0 },
			{ 0, 4096, 0 }, { 3, 1, 2100000 },
			{ 1, 3, 2100000 }, { 2200003, 5, 0 },
			{ 7, 2200003, 0 }, { 100, 1200000, 1000000 },
		};
		size_t size = (3u << 20) + 12345, i, k;
		unsigned char *want = malloc(size), *got = malloc(size);
		int bad = 0;

		if (want == NULL || got == NULL)
			abort();
		for (i = 0; i < size; i++)
			want[i] = (unsigned char)(i * 2654435761u >> 13);
		path = tmpfile_with("chunks", want, size);
		for (k = 0; k < sizeof(moves) / sizeof(moves[0]); k++) {
			uint64_t d = moves[k][0], sr = moves[k][1];
			uint64_t c = moves[k][2] ? moves[k][2] :
			    size - (d > sr ? d : sr);
			int fd;

			if (mm_open(&f, path, MM_ACCESS_WRITE,
			    MM_OPEN_MAPPED) < 0)
				abort();
			rc = mm_move(&f, d, sr, c, NULL);
			mm_close(&f);
			memmove(want + d, want + sr, (size_t)c);
			if ((fd = open(path, O_RDONLY)) < 0 ||
			    read(fd, got, size) != (ssize_t)size)
				abort();
			close(fd);
			if (rc != 0 || memcmp(got, want, size) != 0) {
				bad++;
				printf("# move %d: %" PRIu64 " %" PRIu64 " %"
				    PRIu64 " gave %d\n", (int)k, d, sr, c, rc);
			}
		}
		ok(bad == 0, "mm_move across copy chunks matches memmove");
		free(want);
		free(got);
	}

	/*
	 * mm_reserve_write gives a hole its blocks and changes no byte; a
	 * range past a cut file's end is -ENOSPC.
	 */
	{
		size_t mib = 1u << 20;
		unsigned char *data = malloc(mib), *back = malloc(4 * mib);
		struct stat st;
		blkcnt_t before;
		int fd, same = 1;
		size_t i;

		if (data == NULL || back == NULL)
			abort();
		memset(data, 'd', mib);
		path = tmpfile_with("holes", data, mib);
		if ((fd = open(path, O_WRONLY)) < 0 ||
		    pwrite(fd, data, mib, 3 * (off_t)mib) != (ssize_t)mib)
			abort();
		close(fd);
		if (stat(path, &st) != 0)
			abort();
		before = st.st_blocks;
		if (mm_open(&f, path, MM_ACCESS_WRITE, MM_OPEN_MAPPED) < 0)
			abort();
		ok(mm_reserve_write(&f, 5, 0) == 0, "reserve nothing");
		rc = mm_reserve_write(&f, mib / 2, 3 * mib);
		mm_close(&f);
		if (stat(path, &st) != 0 || (fd = open(path, O_RDONLY)) < 0 ||
		    read(fd, back, 4 * mib) != (ssize_t)(4 * mib))
			abort();
		close(fd);
		for (i = 0; i < 4 * mib; i++)
			if (back[i] != (i < mib || i >= 3 * mib ? 'd' : 0))
				same = 0;
		if (before >= 4 * (blkcnt_t)(mib / 512))
			ok(1, "# SKIP no holes in files here");
		else
			ok(rc == 0 && st.st_blocks >= 4 * (blkcnt_t)(mib / 512),
			    "reserve gives the hole its blocks (%d, %jd -> %jd)",
			    rc, (intmax_t)before, (intmax_t)st.st_blocks);
		ok(same, "reserve changes no byte");
		if (mm_open(&f, path, MM_ACCESS_WRITE, MM_OPEN_MAPPED) < 0 ||
		    truncate(path, (off_t)mib) != 0)
			abort();
		rc = mm_reserve_write(&f, 2 * mib, mib);
		ok(rc == -ENOSPC, "reserve past a cut end: -ENOSPC (%d)", rc);
		mm_close(&f);
		free(data);
		free(back);
	}

	/* The rollback journal: saved bytes come back, newest save first. */
	{
		struct mm_journal j;
		struct mm_file f;
		unsigned char orig[10000], now[10000];
		const char *path;
		size_t i;

		for (i = 0; i < sizeof(orig); i++)
			orig[i] = (unsigned char)(i * 7 + 3);
		path = tmpfile_with("journal", orig, sizeof(orig));
		if (mm_open(&f, path, MM_ACCESS_WRITE, MM_OPEN_MAPPED) < 0)
			abort();
		rc = mm_journal_begin(&j, &f, 5000, 5000);
		ok(rc == 0 && j.on, "journal begins (%d)", rc);
		ok(mm_journal_save(&j, 100, 3000) == 0 &&
		    pwrite(f.fd, "xxxxxxxxxx", 10, 100) == 10 &&
		    pwrite(f.fd, "yyyy", 4, 2000) == 4 &&
		    mm_journal_save(&j, 9000, 1000) == 0 &&
		    pwrite(f.fd, "zz", 2, 9998) == 2,
		    "saves and writes");
		rc = mm_journal_rollback(&j);
		ok(rc == 0 && pread(f.fd, now, sizeof(now), 0) ==
		    (ssize_t)sizeof(now) && memcmp(now, orig, sizeof(orig)) == 0,
		    "rollback puts every saved byte back (%d)", rc);
		mm_journal_end(&j);

		/* A file cut meanwhile: never grown back, and -EIO. */
		rc = mm_journal_begin(&j, &f, 2000, 2000);
		ok(rc == 0 && mm_journal_save(&j, 8000, 2000) == 0 &&
		    ftruncate(f.fd, 9000) == 0, "save, then cut");
		rc = mm_journal_rollback(&j);
		ok(rc == -EIO, "rollback of a cut file: -EIO (%d)", rc);
		ok(lseek(f.fd, 0, SEEK_END) == 9000 &&
		    pread(f.fd, now, 1000, 8000) == 1000 &&
		    memcmp(now, orig + 8000, 1000) == 0,
		    "bytes inside the cut end are back, none past it");
		mm_journal_end(&j);

		/* A dry run (copy access) journals nothing. */
		mm_close(&f);
		if (mm_open(&f, path, MM_ACCESS_COPY, MM_OPEN_MAPPED) < 0)
			abort();
		rc = mm_journal_begin(&j, &f, 100, 100);
		ok(rc == 0 && !j.on && mm_journal_save(&j, 0, 10) == 0,
		    "a private map keeps no journal");
		mm_journal_end(&j);
		mm_close(&f);
	}

	free(big);
	{
		char cmd[300];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			ok(0, "clean up");
	}
	return tap_done();
}
