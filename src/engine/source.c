/*
 * source.c - the bytes of a range of a file, in order, read the way this
 * file costs least.
 *
 * Why two ways: the page cache's layout decides what a mapping costs.  A
 * file written in 4 KiB writes sits in 4 KiB folios, each a page-table
 * entry and a fault on first touch, and a scan of its mapping runs at a
 * fifth of what read() into a reused buffer does on the same cached pages;
 * a file cached in large folios is mapped a folio per fault and scans
 * faster mapped than copied.  So mm_io_choose times a window each way.
 *
 * Holes (SEEK_DATA/SEEK_HOLE) are never mapped or read: a small one is
 * zeros written into the buffer, a large one a piece of zeros from
 * memory, or, with MM_SOURCE_HOLES, a piece without bytes for a caller
 * that can answer for zeros without looking at them.
 */
#include "config.h"

#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "source.h"

#define PIECE		mm_source_piece		/* read: bytes per piece */
#define RBLOCK		((uint64_t)mm_source_piece * 4)	/* backwards */
#define MAPWIN		((uint64_t)MM_WINDOW)	/* mapped: bytes per window */
#define MIN_HOLE	mm_source_min_hole	/* smaller: zeros in a piece */
#define MIN_RUN_AHEAD	((uint64_t)2 << 20)	/* sparse: shorter runs, no readaround */
#define SMALL		((uint64_t)8 << 20)	/* read, and with no thread */
#define PROBE		((size_t)2 << 20)	/* bytes timed each way */
#define PROBE_PIECE	((size_t)256 << 10)	/* read that way per call */
#define NSLOTS		4			/* the reader thread's ring */
#define ZEROS		((size_t)1 << 20)

size_t		mm_source_piece = (size_t)256 << 10;
uint64_t	mm_source_min_hole = (uint64_t)64 << 10;

/* Zeros that stand for a hole: never written, so never given a page. */
static const unsigned char zeros[ZEROS];

/* A run of the file: data, or a hole. */
struct run {
	uint64_t	off;
	uint64_t	len;
	int		hole;
};

struct slot {
	unsigned char	*buf;
	struct mm_piece	 p;
	int		 rc;		/* 1 a piece, 0 the end, -errno */
};

struct mm_source {
	struct mm_file	*f;
	enum mm_io	 io;
	int		 flags;
	int		 sparse;	/* [start, end) has holes */
	uint64_t	 start, end;
	/*
	 * The producer's place: forward, the next byte and the run it is
	 * in ([pos, run_end) all data or all hole); backwards, the end of
	 * what is left and a block's runs, taken from the top.
	 */
	uint64_t	 pos;
	uint64_t	 run_end;
	int		 run_hole;
	struct run	*runs;
	size_t		 nruns, runcap;
	uint64_t	 rblock;
	/* mapped */
	struct mm_map	 map;
	/* read: one slot, or NSLOTS that a reader thread fills ahead */
	struct slot	 slots[NSLOTS];
	size_t		 nslots;
	size_t		 bufsz;
	uint64_t	 taken, released, filled;
	int		 threaded, may_thread, stop;
	uint64_t	 given;		/* pieces given before any thread */
	double		 t_read, t_use, t_back;
	pthread_t	 tid;
	pthread_mutex_t	 mu;
	pthread_cond_t	 cv;
	/* streams */
	uint64_t	 consumed;
	int		 eof;
};


static uint64_t
min64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

int
mm_has_holes(const struct mm_file *f, uint64_t start, uint64_t end)
{
	off_t h;

	if (f->kind != MM_KIND_REGULAR || start >= end ||
	    start > MM_OFF_MAX)
		return 0;
	h = lseek(f->fd, (off_t)start, SEEK_HOLE);
	return h >= 0 && (uint64_t)h < end;
}

/*
 * The run at POS, clipped to LIM.  Where SEEK_DATA or SEEK_HOLE fails
 * (or sees no holes), everything is data.  No data up to LIM in a file
 * now shorter than LIM is a file cut while read: -EIO, as a read past
 * its end would say.
 */
static int
find_run(struct mm_source *s, uint64_t pos, uint64_t lim, struct run *r)
{
	struct stat st;
	off_t d, h;

	r->off = pos;
	r->len = lim - pos;
	r->hole = 0;
	if (!s->sparse)
		return 0;
	d = lseek(s->f->fd, (off_t)pos, SEEK_DATA);
	if (d < 0 && errno == ENXIO) {
		/* A hole to the end of the file, if it still ends past LIM. */
		if (fstat(s->f->fd, &st) < 0)
			return -errno;
		if ((uint64_t)st.st_size < lim)
			return -EIO;
		r->hole = 1;
		return 0;
	}
	if (d < 0)
		return 0;
	if ((uint64_t)d > pos) {
		r->hole = 1;
		r->len = min64((uint64_t)d, lim) - pos;
		return 0;
	}
	h = lseek(s->f->fd, (off_t)pos, SEEK_HOLE);
	if (h > (off_t)pos)
		r->len = min64((uint64_t)h, lim) - pos;
	return 0;
}

/* ------------------------------------------------------------ forward */

/*
 * Read data at OFF, in a run that ends at END.  A sparse file's
 * readahead is off (it would read the holes next to the data into the
 * page cache as zeros): the run ahead is asked for explicitly instead.
 */
static int
read_data(struct mm_source *s, unsigned char *buf, size_t len, uint64_t off,
    uint64_t end)
{
	uint64_t from = off + len;

	if (s->sparse && from < end)
		posix_fadvise(s->f->fd, (off_t)from,
		    (off_t)min64(end - from, MAPWIN / 16), POSIX_FADV_WILLNEED);
	return mm_transfer(s->f->fd, buf, len, off, 0);
}

static int
produce_read(struct mm_source *s, struct slot *sl)
{
	struct run r;
	size_t n = 0;
	uint64_t take;
	int rc;

	if (s->pos >= s->end)
		return 0;
	sl->p.off = s->pos;
	while (n < s->bufsz && s->pos < s->end) {
		if (s->pos >= s->run_end) {
			if ((rc = find_run(s, s->pos, s->end, &r)) < 0)
				return rc;
			s->run_end = r.off + r.len;
			s->run_hole = r.hole;
		}
		take = min64(s->run_end - s->pos, s->bufsz - n);
		if (s->run_hole && (s->flags & MM_SOURCE_HOLES) &&
		    s->run_end - s->pos >= MIN_HOLE) {
			if (n > 0)
				break;
			sl->p.data = NULL;
			sl->p.len = s->run_end - s->pos;
			s->pos = s->run_end;
			return 1;
		}
		if (s->run_hole)
			memset(sl->buf + n, 0, (size_t)take);
		else if ((rc = read_data(s, sl->buf + n, (size_t)take, s->pos,
		    s->run_end)) < 0)
			return rc;
		n += (size_t)take;
		s->pos += take;
	}
	sl->p.data = sl->buf;
	sl->p.len = n;
	return 1;
}

/* Read up to LEN bytes of a stream, short only at its end. */
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

static int
produce_stream(struct mm_source *s, struct slot *sl)
{
	size_t want;
	ssize_t n;

	if (s->eof)
		return 0;
	/* Streams cannot seek: read up to the start and drop it. */
	while (s->consumed < s->start) {
		want = (size_t)min64(s->start - s->consumed, s->bufsz);
		if ((n = read_full(s->f->fd, sl->buf, want)) < 0)
			return (int)n;
		s->consumed += (uint64_t)n;
		if ((size_t)n < want) {
			s->eof = 1;
			return 0;
		}
	}
	want = (size_t)min64(s->bufsz, s->end - s->consumed);
	if (want == 0) {
		s->eof = 1;
		return 0;
	}
	if ((n = read_full(s->f->fd, sl->buf, want)) < 0)
		return (int)n;
	if ((size_t)n < want || s->consumed + (uint64_t)n >= s->end)
		s->eof = 1;
	if (n == 0)
		return 0;
	sl->p.data = sl->buf;
	sl->p.off = s->consumed;
	sl->p.len = (uint64_t)n;
	s->consumed += (uint64_t)n;
	return 1;
}

static int
next_mapped(struct mm_source *s, struct mm_piece *p)
{
	struct run r;
	uint64_t n;
	int rc;

	mm_unmap(&s->map);
	if (s->pos >= s->end)
		return 0;
	if (s->pos >= s->run_end) {
		if ((rc = find_run(s, s->pos, s->end, &r)) < 0)
			return rc;
		s->run_end = r.off + r.len;
		s->run_hole = r.hole;
	}
	p->off = s->pos;
	if (s->run_hole) {
		p->len = s->run_end - s->pos;
		if ((s->flags & MM_SOURCE_HOLES) && p->len >= MIN_HOLE) {
			p->data = NULL;
		} else {
			p->len = min64(p->len, ZEROS);
			p->data = zeros;
		}
		s->pos += p->len;
		return 1;
	}
	n = min64(s->run_end - s->pos, MAPWIN);
	if ((rc = mm_map(s->f, (off_t)s->pos, (size_t)n, &s->map)) < 0)
		return rc;
	/*
	 * A fault reads around itself, holes included: in a sparse file,
	 * a short run of data is faulted in alone.
	 */
	if (s->map.base != NULL && s->sparse && n < MIN_RUN_AHEAD)
		madvise(s->map.base, s->map.baselen, MADV_RANDOM);
	else if (s->map.base != NULL && n > 64 * 1024)
		madvise(s->map.base, s->map.baselen, MADV_SEQUENTIAL);
	p->data = s->map.data;
	p->len = n;
	s->pos += n;
	return 1;
}

/* ------------------------------------------------------------ backwards */

/* The runs of the block below s->pos, in file order. */
static int
block_runs(struct mm_source *s)
{
	uint64_t lo = s->pos - min64(s->rblock, s->pos - s->start), p;
	struct run *nr;
	int data = 0, rc;

	s->nruns = 0;
	for (p = lo; p < s->pos; p += s->runs[s->nruns++].len) {
		if (s->nruns == s->runcap) {
			s->runcap = s->runcap ? s->runcap * 2 : 16;
			nr = realloc(s->runs, s->runcap * sizeof(*nr));
			if (nr == NULL)
				return -ENOMEM;
			s->runs = nr;
		}
		if ((rc = find_run(s, p, s->pos, &s->runs[s->nruns])) < 0)
			return rc;
		data |= !s->runs[s->nruns].hole;
	}
	/* Across a long hole, blocks grow, so it costs few calls. */
	if (data)
		s->rblock = s->io == MM_IO_MAP ? MAPWIN : RBLOCK;
	else if (s->rblock < ((uint64_t)1 << 40))
		s->rblock *= 2;
	return 0;
}

/*
 * The top of what is left: a run's last bytes, at most MAX of data or
 * HMAX of a hole (a hole given without bytes is given whole).
 */
static int
top_run(struct mm_source *s, uint64_t max, uint64_t hmax, struct run *out)
{
	struct run *r;
	int rc;

	if (s->pos <= s->start)
		return 0;
	if (s->nruns == 0 && (rc = block_runs(s)) < 0)
		return rc;
	r = &s->runs[s->nruns - 1];
	*out = *r;
	if (r->hole && (s->flags & MM_SOURCE_HOLES) && r->len >= MIN_HOLE)
		max = r->len;
	else if (r->hole)
		max = hmax;
	if (r->len > max) {
		out->off = r->off + r->len - max;
		out->len = max;
	}
	r->len -= out->len;
	if (r->len == 0)
		s->nruns--;
	s->pos = out->off;
	return 1;
}

static int
produce_read_back(struct mm_source *s, struct slot *sl)
{
	struct run r;
	int rc;

	if ((rc = top_run(s, s->bufsz, s->bufsz, &r)) <= 0)
		return rc;
	sl->p.off = r.off;
	sl->p.len = r.len;
	if (r.hole && (s->flags & MM_SOURCE_HOLES) && r.len >= MIN_HOLE) {
		sl->p.data = NULL;
		return 1;
	}
	sl->p.data = sl->buf;
	if (r.hole)
		memset(sl->buf, 0, (size_t)r.len);
	else if ((rc = read_data(s, sl->buf, (size_t)r.len, r.off,
	    r.off + r.len)) < 0)
		return rc;
	return 1;
}

static int
next_mapped_back(struct mm_source *s, struct mm_piece *p)
{
	struct run r;
	int rc;

	mm_unmap(&s->map);
	if ((rc = top_run(s, MAPWIN, ZEROS, &r)) <= 0)
		return rc;
	p->off = r.off;
	p->len = r.len;
	if (r.hole) {
		/* Without bytes, or zeros from memory. */
		p->data = r.len >= MIN_HOLE && (s->flags & MM_SOURCE_HOLES) ?
		    NULL : zeros;
		return 1;
	}
	if ((rc = mm_map(s->f, (off_t)r.off, (size_t)r.len, &s->map)) < 0)
		return rc;
	/* Readahead only works forwards: ask for the window now. */
	if (s->map.base != NULL && s->sparse && r.len < MIN_RUN_AHEAD)
		madvise(s->map.base, s->map.baselen, MADV_RANDOM);
	else if (s->map.base != NULL)
		madvise(s->map.base, s->map.baselen, MADV_WILLNEED);
	p->data = s->map.data;
	return 1;
}

/* ------------------------------------------------------------ the thread */

static int
produce(struct mm_source *s, struct slot *sl)
{
	if (s->f->kind == MM_KIND_STREAM)
		return produce_stream(s, sl);
	if (s->flags & MM_SOURCE_REVERSE)
		return produce_read_back(s, sl);
	return produce_read(s, sl);
}

static void *
reader(void *arg)
{
	struct mm_source *s = arg;
	struct slot *sl;
	int rc;

	pthread_mutex_lock(&s->mu);
	for (;;) {
		while (!s->stop && s->filled - s->released >= s->nslots)
			pthread_cond_wait(&s->cv, &s->mu);
		if (s->stop)
			break;
		sl = &s->slots[s->filled % s->nslots];
		pthread_mutex_unlock(&s->mu);
		rc = produce(s, sl);
		pthread_mutex_lock(&s->mu);
		sl->rc = rc;
		s->filled++;
		pthread_cond_broadcast(&s->cv);
		if (rc <= 0)
			break;
	}
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

/* ------------------------------------------------------------ choosing */

/* Touch every cache line, so the faults and the memory traffic count. */
static int
touch(void *arg)
{
	const struct mm_map *m = arg;
	const volatile unsigned char *p = m->data;
	unsigned char acc = 0;
	size_t i;

	for (i = 0; i < m->len; i += 64)
		acc |= p[i];
	return acc;
}

enum mm_io
mm_io_choose(struct mm_file *f, uint64_t start, uint64_t end)
{
	struct mm_map m;
	struct iovec iov;
	unsigned char *buf;
	uint64_t at;
	size_t i;
	ssize_t n;
	double t0, tr, tm;
	int rc;

	if (f->kind == MM_KIND_STREAM)
		return MM_IO_READ;
	if (f->kind == MM_KIND_MEMORY)
		return MM_IO_MAP;
	if (end <= start || end - start < SMALL)
		return MM_IO_READ;
	if (mm_has_holes(f, start, end))
		return MM_IO_READ;
	/* A reused buffer, as reading uses it: its own faults paid first. */
	if ((buf = malloc(PROBE_PIECE)) == NULL)
		return MM_IO_MAP;
	memset(buf, 0, PROBE_PIECE);
	/* Two neighbouring windows, aligned as a large folio would be. */
	at = (start + PROBE - 1) / PROBE * PROBE;
	if (at + 2 * PROBE > end)
		at = start;
	/*
	 * The first read pays for the code path once, untimed, and says
	 * whether the file is cached: one that is not is read, since
	 * read() with readahead fetches it as well as faults do, and the
	 * copy costs nothing next to the disk.
	 */
	iov.iov_base = buf;
	iov.iov_len = PROBE_PIECE;
	n = preadv2(f->fd, &iov, 1, (off_t)at, RWF_NOWAIT);
	if (n >= 0 && (size_t)n < PROBE_PIECE && at + (uint64_t)n < end) {
		free(buf);
		return MM_IO_READ;
	}
	if (n < 0 && errno == EAGAIN) {
		free(buf);
		return MM_IO_READ;
	}
	if (n < 0 && mm_transfer(f->fd, buf, PROBE_PIECE, at, 0) < 0) {
		free(buf);
		return MM_IO_MAP;
	}
	t0 = mm_now();
	for (i = 0, rc = 0; i < PROBE && rc == 0; i += PROBE_PIECE)
		rc = mm_transfer(f->fd, buf, PROBE_PIECE, at + i, 0);
	tr = mm_now() - t0;
	free(buf);
	if (rc < 0)
		return MM_IO_MAP;
	/* A mapping costs its faults, its scan and its unmapping. */
	t0 = mm_now();
	if (mm_map(f, (off_t)(at + PROBE), PROBE, &m) < 0)
		return MM_IO_READ;
	rc = mm_guard(touch, &m);
	mm_unmap(&m);
	tm = mm_now() - t0;
	if (rc < 0)
		return MM_IO_READ;
	/*
	 * Reading copies into a buffer that stays in the cache, where the
	 * search then runs faster than over the mapping: a mapping must
	 * win the probe clearly to be taken.
	 */
	return tm * 1.25 < tr ? MM_IO_MAP : MM_IO_READ;
}

/* ------------------------------------------------------------ the API */

int
mm_source_open(struct mm_source **sp, struct mm_file *f, enum mm_io io,
    uint64_t start, uint64_t end, int flags)
{
	struct mm_source *s;

	*sp = NULL;
	if (f->kind != MM_KIND_STREAM) {
		if (end > (uint64_t)f->size)
			end = (uint64_t)f->size;
		if (start > end)
			return -ERANGE;
	} else if (flags & MM_SOURCE_REVERSE)
		return -EINVAL;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return -ENOMEM;
	s->f = f;
	s->flags = flags;
	s->start = start;
	s->end = end;
	s->pos = flags & MM_SOURCE_REVERSE ? end : start;
	s->run_end = s->pos;
	if (f->kind == MM_KIND_STREAM)
		io = MM_IO_READ;
	else if (f->kind == MM_KIND_MEMORY)
		io = MM_IO_MAP;
	else if (io == MM_IO_AUTO)
		io = mm_io_choose(f, start, end);
	s->io = io;
	s->sparse = mm_has_holes(f, start, end);
	s->rblock = io == MM_IO_MAP ? MAPWIN : RBLOCK;
	*sp = s;
	if (io == MM_IO_MAP)
		return 0;

	s->bufsz = flags & MM_SOURCE_REVERSE ? RBLOCK : PIECE;
	if (f->kind != MM_KIND_STREAM)
		s->bufsz = (size_t)min64(s->bufsz, end - start);
	if (s->bufsz == 0)
		s->bufsz = 1;
	if ((s->slots[0].buf = malloc(s->bufsz)) == NULL)
		return -ENOMEM;
	s->nslots = 1;
	s->may_thread = (flags & MM_SOURCE_THREAD) &&
	    f->kind != MM_KIND_STREAM && end - start >= SMALL;
	if (f->kind == MM_KIND_REGULAR && (s->sparse ||
	    !(flags & MM_SOURCE_REVERSE)))
		posix_fadvise(f->fd, (off_t)start, (off_t)(end - start),
		    s->sparse ? POSIX_FADV_RANDOM : POSIX_FADV_SEQUENTIAL);
	return 0;
}

/*
 * Hand the reading to a thread, from the next piece on, while the caller
 * keeps the piece in slot 0.  0, or -errno (reading goes on here).
 */
static int
start_thread(struct mm_source *s)
{
	size_t i;

	for (i = 1; i < NSLOTS; i++)
		if (s->slots[i].buf == NULL &&
		    (s->slots[i].buf = malloc(s->bufsz)) == NULL)
			return -ENOMEM;
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->cv, NULL);
	s->nslots = NSLOTS;
	/* Slot 0 is the piece the caller holds: taken, not yet released. */
	s->taken = s->filled = 1;
	s->released = 0;
	if (pthread_create(&s->tid, NULL, reader, s) != 0) {
		pthread_mutex_destroy(&s->mu);
		pthread_cond_destroy(&s->cv);
		s->nslots = 1;
		return -EAGAIN;
	}
	s->threaded = 1;
	return 0;
}

/*
 * Read here, timing the reads and what the caller does between them: a
 * thread pays (a core is free, and its bytes cross to this core's cache)
 * only when searching costs at least half of what reading does.
 */
static int
next_here(struct mm_source *s, struct mm_piece *p)
{
	double t0 = mm_now();
	int rc;

	if (s->given > 0)
		s->t_use += t0 - s->t_back;
	rc = produce(s, &s->slots[0]);
	s->t_back = mm_now();
	s->t_read += s->t_back - t0;
	if (rc <= 0)
		return rc;
	*p = s->slots[0].p;
	if (++s->given == 8 && s->may_thread && s->t_use * 2 >= s->t_read)
		start_thread(s);
	return rc;
}

int
mm_source_next(struct mm_source *s, struct mm_piece *p)
{
	struct slot *sl;
	int rc;

	if (s->io == MM_IO_MAP)
		return s->flags & MM_SOURCE_REVERSE ?
		    next_mapped_back(s, p) : next_mapped(s, p);
	if (!s->threaded)
		return next_here(s, p);
	pthread_mutex_lock(&s->mu);
	/* The piece given last time is done with. */
	s->released = s->taken;
	pthread_cond_broadcast(&s->cv);
	while (s->filled <= s->taken)
		pthread_cond_wait(&s->cv, &s->mu);
	sl = &s->slots[s->taken % s->nslots];
	rc = sl->rc;
	if (rc > 0) {
		*p = sl->p;
		s->taken++;
	}
	pthread_mutex_unlock(&s->mu);
	return rc;
}

enum mm_io
mm_source_io(const struct mm_source *s)
{
	return s->io;
}

uint64_t
mm_source_consumed(const struct mm_source *s)
{
	return s->consumed;
}

int
mm_source_eof(const struct mm_source *s)
{
	return s->eof;
}

void
mm_source_close(struct mm_source *s)
{
	size_t i;

	if (s == NULL)
		return;
	if (s->threaded) {
		pthread_mutex_lock(&s->mu);
		s->stop = 1;
		pthread_cond_broadcast(&s->cv);
		pthread_mutex_unlock(&s->mu);
		pthread_join(s->tid, NULL);
		pthread_mutex_destroy(&s->mu);
		pthread_cond_destroy(&s->cv);
	}
	for (i = 0; i < NSLOTS; i++)
		free(s->slots[i].buf);
	mm_unmap(&s->map);
	free(s->runs);
	free(s);
}
