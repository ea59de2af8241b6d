/*
 * read.c - mmread: read, readline, read_byte and size of a file.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "applet.h"
#include "engine/scan.h"
#include "engine/source.h"
#include "sink.h"

enum mode { MODE_RAW, MODE_LINE, MODE_WHOLE, MODE_BYTE, MODE_SIZE };

struct job {
	struct mm_file	*f;
	struct sink	*sink;
	enum mode	 mode;
	uint64_t	 start;
	uint64_t	 count;		/* UINT64_MAX: to the end */
	int		 past_end;	/* streams: the start was never reached */
	enum mm_io	 io;
	struct mm_source *src;
	int		 out_err;
};

/*
 * The pieces of the range to the sink, under the SIGBUS guard: it may
 * leave by longjmp, so the source is opened and closed by its caller.
 */
static int
copy_range(void *arg)
{
	struct job *j = arg;
	struct mm_piece p;
	const unsigned char *nl;
	uint64_t len;
	int rc;

	while ((rc = mm_source_next(j->src, &p)) > 0) {
		len = p.len;
		if (p.data == NULL) {
			if ((rc = sink_zeros(j->sink, len)) < 0) {
				j->out_err = 1;
				break;
			}
			continue;
		}
		if (j->mode == MODE_LINE &&
		    (nl = memchr(p.data, '\n', (size_t)len)) != NULL)
			len = (uint64_t)(nl - p.data) + 1;
		if ((rc = sink_put(j->sink, p.data, (size_t)len)) < 0) {
			j->out_err = 1;
			break;
		}
		if (j->mode == MODE_LINE && p.data[len - 1] == '\n')
			break;
	}
	return rc < 0 ? rc : 0;
}

/* Copy [j->start, + j->count) of j->f to j->sink. */
static int
copy_file(struct job *j)
{
	uint64_t end;
	enum mm_io io = j->io;
	int rc;

	end = j->count == UINT64_MAX || j->count > MM_OFF_MAX - j->start ?
	    UINT64_MAX : j->start + j->count;
	/* A line is short: read it, with no probe of the whole rest. */
	if (j->mode == MODE_LINE && io == MM_IO_AUTO)
		io = MM_IO_READ;
	/* Holes are answered without reading them where -C squeezes. */
	if ((rc = mm_source_open(&j->src, j->f, io, j->start, end,
	    MM_SOURCE_THREAD | (j->sink->fmt == FMT_HEXDUMP &&
	    j->mode == MODE_RAW ? MM_SOURCE_HOLES : 0))) == 0) {
		j->sink->direct = mm_source_io(j->src) == MM_IO_READ;
		rc = mm_guard(copy_range, j);
		if (j->f->kind == MM_KIND_STREAM &&
		    mm_source_consumed(j->src) < j->start)
			j->past_end = 1;
	}
	mm_source_close(j->src);
	j->src = NULL;
	return rc;
}

/* The last '\n' of [P, P + LEN), or NULL. */
static const unsigned char *
last_nl(const unsigned char *p, size_t len)
{
#ifdef HAVE_MEMRCHR
	return memrchr(p, '\n', len);
#else
	while (len > 0)
		if (p[--len] == '\n')
			return p + len;
	return NULL;
#endif
}

struct back {
	struct mm_source *src;
	uint64_t	 start;
};

static int
find_back(void *arg)
{
	struct back *b = arg;
	struct mm_piece p;
	const unsigned char *nl;
	int rc;

	while ((rc = mm_source_next(b->src, &p)) > 0) {
		/* A hole holds no '\n'. */
		if (p.data != NULL &&
		    (nl = last_nl(p.data, (size_t)p.len)) != NULL) {
			b->start = p.off + (uint64_t)(nl - p.data) + 1;
			return 0;
		}
	}
	return rc;
}

/*
 * Where the line that holds the byte at END starts (--whole-line): just
 * after the last '\n' before END, or 0.  Read backwards a piece at a
 * time, so that a line of any length is never held whole.
 */
static int
line_start(struct mm_file *f, enum mm_io io, uint64_t end, uint64_t *start)
{
	struct back b = { NULL, 0 };
	int rc;

	*start = 0;
	if (end == 0)
		return 0;
	/* As for -l: a line is short, so no probe of the whole file. */
	if (io == MM_IO_AUTO)
		io = MM_IO_READ;
	if ((rc = mm_source_open(&b.src, f, io, 0, end, MM_SOURCE_REVERSE |
	    MM_SOURCE_HOLES)) == 0)
		rc = mm_guard(find_back, &b);
	mm_source_close(b.src);
	*start = b.start;
	return rc;
}

/* A stream's size: read to the end, keeping nothing. */
static int
stream_size(struct mm_file *f, uint64_t *size)
{
	struct mm_tail t;
	int rc;

	if ((rc = mm_tail_read(f, 0, &t)) == 0)
		*size = t.total;
	mm_tail_free(&t);
	return rc;
}

/*
 * What needs a stream's end, in memory bounded by the answer: --size
 * keeps nothing, a negative OFFSET (AR) the last |OFFSET| bytes, -b at
 * a plain OFFSET one byte.  Returns an exit status (messages printed).
 */
static int
read_stream_end(const char *path, struct mm_file *f, enum mode mode,
    enum format fmt, const struct app_range *ar)
{
	static struct sink sink;
	struct mm_source *src;
	struct mm_piece pc;
	const unsigned char *seg[2], *nl;
	size_t len, seglen[2];
	struct mm_tail t;
	const char *offstr = ar->offstr;
	uint64_t size = 0, start, n, offval = ar->mag;
	uint64_t count = ar->has_len ? ar->len : UINT64_MAX;
	int rc, i, st = EXIT_OK;

	if (mode == MODE_SIZE) {
		if ((rc = stream_size(f, &size)) < 0)
			return app_file_error(path, rc);
		return app_printf("%" PRIu64 "\n", size) < 0 ? EXIT_FAIL : 0;
	}
	if (!ar->neg) {
		/* -b at a plain offset: skip to it, take one byte. */
		if ((rc = mm_source_open(&src, f, MM_IO_READ, offval,
		    offval + 1, 0)) < 0) {
			mm_source_close(src);
			return app_file_error(path, rc);
		}
		rc = mm_source_next(src, &pc);
		if (rc > 0)
			app_printf("%u\n", pc.data[0]);
		else if (rc == 0 && mm_source_consumed(src) < offval)
			st = app_error("%s: offset %s is past the end of the "
			    "input", path, offstr);
		else if (rc == 0)
			st = app_error("%s: no byte at offset %s: it is the "
			    "end of the file (size %ju)", path, offstr ? offstr :
			    "0", (uintmax_t)mm_source_consumed(src));
		else
			st = app_file_error(path, rc);
		mm_source_close(src);
		return st;
	}
	if ((rc = mm_tail_read(f, offval, &t)) < 0)
		return app_file_error(path, rc);
	if (app_range(path, NULL, ar, t.total, APP_RANGE_CUT, &start, &n)) {
		st = EXIT_FAIL;
		goto out;
	}
	seg[0] = t.ring + t.head;
	seglen[0] = t.len - t.head;
	seg[1] = t.ring;
	seglen[1] = t.head;
	if (mode == MODE_BYTE) {
		app_printf("%u\n", seg[0][0]);
		goto out;
	}
	memset(&sink, 0, sizeof(sink));
	sink.fmt = fmt;
	sink.addr = start;
	for (i = 0, rc = 0; i < 2 && count > 0 && rc == 0; i++) {
		len = seglen[i] < count ? seglen[i] : (size_t)count;
		if (mode == MODE_LINE && len > 0 &&
		    (nl = memchr(seg[i], '\n', len)) != NULL) {
			len = (size_t)(nl - seg[i]) + 1;
			count = len;
		}
		rc = sink_put(&sink, seg[i], len);
		count -= len;
	}
	if (rc == 0)
		sink_end(&sink, start, ar->has_len && ar->len == 0);
out:
	mm_tail_free(&t);
	return st;
}

static const char *usage_ops = "[OPTION]... FILE [OFFSET [COUNT]]\n"
    "   or: mmread [OPTION]... FILE - [COUNT]  (offsets on standard input)";

static int
read_file(const char *path, enum mode mode, enum format fmt,
    const char *offstr, const char *countstr, enum mm_io io)
{
	static struct sink sink;
	struct app_range ar;
	struct mm_file f;
	struct job j;
	uint64_t start, n;
	int rc, st = EXIT_OK;

	if (app_range_parse(&ar, offstr, "count", countstr))
		return EXIT_FAIL;

	if ((rc = mm_open(&f, path, MM_ACCESS_READ, 0)) < 0)
		return app_file_error(path, rc);
	/* A line's start may lie behind OFFSET: a stream is kept, as tac. */
	if (mode == MODE_WHOLE && (rc = mm_file_spool(&f)) < 0) {
		st = app_file_error(path, rc);
		goto out;
	}
	/* A stream's size is known only at its end. */
	if (f.kind == MM_KIND_STREAM && (ar.neg || mode == MODE_SIZE ||
	    mode == MODE_BYTE)) {
		st = read_stream_end(path, &f, mode, fmt, &ar);
		goto out;
	}
	if (mode == MODE_SIZE) {
		app_printf("%jd\n", (intmax_t)f.size);
		goto out;
	}
	/* A stream's end is not known: OFFSET (not negative) is skipped to. */
	if (f.kind == MM_KIND_STREAM)
		start = ar.mag;
	else if (app_range(path, NULL, &ar, (uint64_t)f.size, APP_RANGE_CUT,
	    &start, &n)) {
		st = EXIT_FAIL;
		goto out;
	}
	if (mode == MODE_BYTE) {
		unsigned char b;
		ssize_t got;

		if (start >= (uint64_t)f.size) {
			st = app_error("%s: no byte at offset %s: it is the "
			    "end of the file (size %jd)", path, offstr ?
			    offstr : "0", (intmax_t)f.size);
			goto out;
		}
		/* One byte: pread gives the mapping's answer without a fault. */
		if (f.kind == MM_KIND_MEMORY)
			b = f.mem[start];
		else if ((got = pread(f.fd, &b, 1, (off_t)start)) != 1) {
			st = app_file_error(path, got < 0 ? -errno : -EIO);
			goto out;
		}
		app_printf("%u\n", b);
		goto out;
	}

	if (mode == MODE_WHOLE) {
		rc = line_start(&f, io, start, &start);
		if ((st = app_fault(path, &f, rc, "it was read")) != 0)
			goto out;
		if (rc < 0) {
			st = app_file_error(path, rc);
			goto out;
		}
		mode = MODE_LINE;
	}
	memset(&sink, 0, sizeof(sink));
	sink.fmt = fmt;
	sink.addr = start;
	memset(&j, 0, sizeof(j));
	j.f = &f;
	j.sink = &sink;
	j.mode = mode;
	j.start = start;
	j.count = ar.has_len ? ar.len : UINT64_MAX;
	j.io = io;
	rc = copy_file(&j);
	if ((st = app_fault(path, &f, rc, "it was read")) != 0)
		goto out;
	if (rc < 0 && !j.out_err) {
		st = app_file_error(path, rc);
		goto out;
	}
	if (j.past_end) {
		st = app_error("%s: offset %s is past the end of the input",
		    path, offstr);
		goto out;
	}
	if (!j.out_err)
		sink_end(&sink, start, ar.has_len && ar.len == 0);
out:
	mm_close(&f);
	return st;
}

/* ------------------------------------------------ OFFSET "-": a batch */

#define INBUF		((size_t)64 << 10)	/* stdin per read() */
#define LINE_LIMIT	((size_t)1 << 20)	/* longest line of offsets */
/*
 * A window of FILE that the answers of many lines come from, with no
 * system call of their own: a mapping (only the pages touched cost), or
 * one pread.  An answer longer than SHORT streams as a single one does.
 */
#define MAP_WIN		((uint64_t)16 << 20)
#define MAP_ALIGN	((uint64_t)64 << 10)
#define MAP_SHORT	((uint64_t)1 << 20)
#define READ_WIN	((uint64_t)32 << 10)
#define READ_ALIGN	((uint64_t)4 << 10)
#define READ_SHORT	((uint64_t)16 << 10)

struct batch {
	const char	*path;
	struct mm_file	*f;
	enum mode	 mode;
	enum format	 fmt;
	enum mm_io	 io;
	const char	*countstr;	/* COUNT after '-', or NULL */
	uint64_t	 count;
	struct sink	*sink;
	/* standard input: [inpos, inlen) of in is still to be parsed */
	char		*in;
	size_t		 inpos, inlen, incap;
	int		 ineof;
	size_t		 lineno;
	/* the window: wlen bytes at woff, at w */
	int		 by_read;
	struct mm_map	 map;
	unsigned char	*wbuf;
	const unsigned char *w;
	uint64_t	 woff, wlen;
	int		 have_win;
	int		 st;		/* EXIT_FAIL after a message */
	int		 out_err;
};

/*
 * "FILE: standard input:3: ", for messages about a line that does not
 * parse, in the form of every other error of a batch.
 */
static const char *
where(const struct batch *b)
{
	static char buf[4096 + 64];

	snprintf(buf, sizeof(buf), "%s: standard input:%zu: ", b->path,
	    b->lineno);
	return buf;
}

/* "standard input:3: ", after a message's "FILE: ". */
static const char *
line_at(const struct batch *b)
{
	static char buf[64];

	snprintf(buf, sizeof(buf), "standard input:%zu: ", b->lineno);
	return buf;
}

/*
 * The next line of standard input, its '\n' cut off, in place: 1, or 0
 * at the end, or -errno (-E2BIG: a line longer than LINE_LIMIT).  What is
 * printed goes out before each wait for more input.
 */
static int
next_line(struct batch *b, char **line, size_t *len)
{
	char *p, *nl, *nb;
	size_t n;
	ssize_t r;
	int rc;

	/* A buffer before the first read: no memchr or memmove of NULL. */
	if (b->in == NULL) {
		if ((b->in = malloc(INBUF + 1)) == NULL)
			return -ENOMEM;
		b->incap = INBUF + 1;
	}
	for (;;) {
		p = b->in + b->inpos;
		n = b->inlen - b->inpos;
		nl = n > 0 ? memchr(p, '\n', n) : NULL;
		if (nl != NULL || (b->ineof && n > 0)) {
			if (nl == NULL)
				nl = p + n;	/* the last line, unended */
			*nl = '\0';
			*line = p;
			*len = (size_t)(nl - p);
			b->inpos += *len + (*len < n);
			b->lineno++;
			return 1;
		}
		if (b->ineof)
			return 0;
		if (n > LINE_LIMIT) {
			b->lineno++;
			return -E2BIG;
		}
		memmove(b->in, p, n);
		b->inpos = 0;
		b->inlen = n;
		/* Room for a read and the NUL of an unended last line. */
		if (b->incap - n < INBUF + 1) {
			if ((nb = realloc(b->in, n + INBUF + 1)) == NULL)
				return -ENOMEM;
			b->in = nb;
			b->incap = n + INBUF + 1;
		}
		if ((rc = app_flush()) < 0) {
			b->out_err = 1;
			return 0;
		}
		r = read(STDIN_FILENO, b->in + n, b->incap - n - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			b->ineof = 1;
		b->inlen += (size_t)r;
	}
}

/*
 * The bytes of FILE at OFF, NEED of them at least (at most the SHORT of
 * the window), through the window, moved only when it misses: *AVAIL of
 * them from OFF are there (and OFF - woff before it).  NULL on failure,
 * with *RC.
 */
static const unsigned char *
win_get(struct batch *b, uint64_t off, uint64_t need, uint64_t *avail,
    int *rc)
{
	uint64_t size = (uint64_t)b->f->size, win, align, at;

	*rc = 0;
	if (!b->have_win || off < b->woff || off + need > b->woff + b->wlen ||
	    (off == b->woff + b->wlen && off < size)) {
		win = b->by_read ? READ_WIN : MAP_WIN;
		align = b->by_read ? READ_ALIGN : MAP_ALIGN;
		/* At the very end, the window ends there: lines look back. */
		at = off < size ? off : size > 0 ? size - 1 : 0;
		at -= at % align;
		b->have_win = 0;
		b->wlen = size - at < win ? size - at : win;
		b->woff = at;
		if (b->by_read) {
			if (b->wlen > 0 && (*rc = mm_transfer(b->f->fd, b->wbuf,
			    (size_t)b->wlen, at, 0)) < 0)
				return NULL;
			b->w = b->wbuf;
		} else {
			mm_unmap(&b->map);
			if ((*rc = mm_map(b->f, (off_t)at, (size_t)b->wlen,
			    &b->map)) < 0)
				return NULL;
			b->w = b->map.data;
		}
		b->have_win = 1;
	}
	*avail = b->woff + b->wlen - off;
	return b->w + (off - b->woff);
}

/*
 * Give the window's address space back before a long answer maps windows
 * of its own: under a tight ulimit -v the two might not fit.
 */
static void
win_drop(struct batch *b)
{
	if (!b->by_read)
		mm_unmap(&b->map);
	b->have_win = 0;
}

/* An answer too long for the window, streamed as a single one is. */
static int
batch_long(struct batch *b, enum mode mode, uint64_t start, uint64_t count)
{
	struct job j;
	int rc;

	win_drop(b);
	memset(&j, 0, sizeof(j));
	j.f = b->f;
	j.sink = b->sink;
	j.mode = mode;
	j.start = start;
	j.count = count;
	j.io = b->io;
	rc = copy_file(&j);
	b->out_err = j.out_err;
	b->sink->direct = b->by_read;
	return rc;
}

/*
 * COUNT of a line, parsed; 0, or EXIT_FAIL after a message.  It must be
 * the last thing on the line, and only plain reads take one.
 */
static int
line_count(struct batch *b, const char *s, uint64_t *count)
{
	int rc;

	if (strpbrk(s, " \t\r\v\f") != NULL)
		return app_error("%sexpected 'OFFSET [COUNT]'", where(b));
	if (b->mode != MODE_RAW)
		return app_error("%sexpected one offset: --%s takes no COUNT",
		    where(b), b->mode == MODE_LINE ? "line" :
		    b->mode == MODE_BYTE ? "byte" : "whole-line");
	if ((rc = mm_parse_size(s, count)) == -ERANGE)
		return app_error("%scount '%s' is too large (the limit is "
		    "2^63-1)", where(b), s);
	if (rc < 0 && s[0] == '-')
		return app_error("%scount '%s' must not be negative",
		    where(b), s);
	if (rc < 0)
		return app_error("%sinvalid count '%s'", where(b), s);
	return 0;
}

/*
 * Answer one line "[FILE:]OFFSET [COUNT]": 0 (also for a blank line or
 * an output error, which b->out_err tells), -errno reading FILE, or 0
 * with b->st set after a message.
 */
static int
batch_line(struct batch *b, char *line, size_t len)
{
	struct app_range ar;
	const unsigned char *p, *nl;
	uint64_t mag, start, size, count = b->count, avail, n, ls, woff;
	char *tok, *rest;
	int neg, rc, counted = b->countstr != NULL;

	if (memchr(line, '\0', len) != NULL) {
		b->st = app_error("%sexpected 'OFFSET [COUNT]'", where(b));
		return 0;
	}
	rc = mm_parse_offset_line(line, b->path, &mag, &neg, &tok, &rest);
	if (rc == 1)
		return 0;
	if (rc == -EXDEV)
		b->st = app_error("%s'%s' is not an offset in this file",
		    where(b), tok);
	else if (rc == -ERANGE)
		b->st = app_error("%soffset '%s' is too large (the limit is "
		    "2^63-1)", where(b), tok);
	else if (rc < 0)
		b->st = app_error("%sinvalid offset '%s'", where(b), tok);
	else if (*rest != '\0') {
		b->st = line_count(b, rest, &count);
		counted = 1;
	}
	if (b->st != 0)
		return 0;

	/* Answers may go back: a stream is kept first, as tac does. */
	if ((rc = mm_file_spool(b->f)) < 0)
		return rc;
	size = (uint64_t)b->f->size;
	memset(&ar, 0, sizeof(ar));
	ar.offstr = tok;
	ar.mag = mag;
	ar.neg = neg;
	ar.has_len = 1;
	ar.len = count;
	/* N: COUNT cut at the end of the file. */
	if ((b->st = app_range(b->path, line_at(b), &ar, size, APP_RANGE_CUT,
	    &start, &n)) != 0)
		return 0;

	switch (b->mode) {
	case MODE_BYTE:
		if (start == size) {
			b->st = app_error("%s: %sno byte at offset %s: it is "
			    "the end of the file (size %" PRIu64 ")", b->path,
			    line_at(b), tok, size);
			return 0;
		}
		if ((p = win_get(b, start, 1, &avail, &rc)) == NULL)
			return rc;
		if (app_printf("%u\n", p[0]) < 0)
			b->out_err = 1;
		return 0;
	case MODE_RAW:
		if (n > (b->by_read ? READ_SHORT : MAP_SHORT)) {
			sink_start(b->sink, b->fmt, start);
			if ((rc = batch_long(b, MODE_RAW, start, n)) < 0)
				return rc;
			break;
		}
		if ((p = win_get(b, start, n, &avail, &rc)) == NULL)
			return rc;
		sink_start(b->sink, b->fmt, start);
		b->sink->direct = b->by_read;
		if (sink_put(b->sink, p, (size_t)n) < 0)
			b->out_err = 1;
		break;
	case MODE_WHOLE:
		if ((p = win_get(b, start, 0, &avail, &rc)) == NULL)
			return rc;
		woff = b->woff;
		if ((nl = last_nl(b->w, (size_t)(start - woff))) != NULL)
			ls = woff + (uint64_t)(nl - b->w) + 1;
		else if (woff > 0) {
			win_drop(b);
			if ((rc = line_start(b->f, b->io, woff, &ls)) < 0)
				return rc;
		} else
			ls = 0;
		/* A line that began before the window streams whole. */
		if (ls < woff) {
			sink_start(b->sink, b->fmt, ls);
			if ((rc = batch_long(b, MODE_LINE, ls,
			    UINT64_MAX)) < 0)
				return rc;
			break;
		}
		/* The rest is -l from the line's start. */
		start = ls;
		/* FALLTHROUGH */
	case MODE_LINE:
		if ((p = win_get(b, start, 0, &avail, &rc)) == NULL)
			return rc;
		if ((nl = memchr(p, '\n', (size_t)avail)) != NULL)
			n = (uint64_t)(nl - p) + 1;
		else if (b->woff + b->wlen == size)
			n = avail;
		else {
			/* Longer than the window: streamed. */
			sink_start(b->sink, b->fmt, start);
			if ((rc = batch_long(b, MODE_LINE, start,
			    UINT64_MAX)) < 0)
				return rc;
			break;
		}
		sink_start(b->sink, b->fmt, start);
		b->sink->direct = b->by_read;
		if (sink_put(b->sink, p, (size_t)n) < 0)
			b->out_err = 1;
		break;
	default:
		break;
	}
	if (!b->out_err && sink_end(b->sink, start, counted && count == 0) < 0)
		b->out_err = 1;
	return 0;
}

/* Every line of standard input, under the SIGBUS guard. */
static int
batch_run(void *arg)
{
	struct batch *b = arg;
	char *line = NULL;
	size_t len = 0;
	int rc = 0;

	while (b->st == 0 && !b->out_err &&
	    (rc = next_line(b, &line, &len)) > 0)
		if ((rc = batch_line(b, line, len)) < 0)
			return rc;
	if (rc == -E2BIG) {
		b->st = app_error("%sa line of more than %zu bytes is no "
		    "'OFFSET [COUNT]'", where(b), LINE_LIMIT);
		return 0;
	}
	if (rc < 0) {
		b->st = app_file_error("standard input", rc);
		return 0;
	}
	return 0;
}

/*
 * OFFSET "-": each line of standard input, "[FILE:]OFFSET [COUNT]", is
 * answered as the command line would answer it, in order, printed as it
 * comes; the first bad line ends the batch (exit 2).
 */
static int
read_batch(const char *path, enum mode mode, enum format fmt,
    const char *countstr, enum mm_io io)
{
	static struct sink sink;
	struct mm_file f;
	struct batch b;
	int rc;

	memset(&b, 0, sizeof(b));
	b.count = UINT64_MAX;
	if (countstr != NULL && app_size("count", countstr, &b.count))
		return EXIT_FAIL;
	if ((rc = mm_open(&f, path, MM_ACCESS_READ, 0)) < 0)
		return app_file_error(path, rc);
	b.path = path;
	b.f = &f;
	b.mode = mode;
	b.fmt = fmt;
	b.io = io;
	b.countstr = countstr;
	b.sink = &sink;
	b.by_read = io == MM_IO_READ;
	if (b.by_read && (b.wbuf = malloc(READ_WIN)) == NULL) {
		mm_close(&f);
		return app_file_error(path, -ENOMEM);
	}
	rc = mm_guard(batch_run, &b);
	if (rc < 0) {
		if ((b.st = app_fault(path, &f, rc, "it was read")) == 0)
			b.st = app_file_error(path, rc);
	}
	mm_unmap(&b.map);
	free(b.wbuf);
	free(b.in);
	mm_close(&f);
	return b.st;
}

struct opts {
	int	 hex, hexdump, line, whole, byte, size;
	char	*io_s;
};

int
read_main(int argc, const char **argv)
{
	struct opts o = { 0, 0, 0, 0, 0, 0, NULL };
	struct poptOption table[] = {
		{ "hex", 'x', POPT_ARG_NONE, &o.hex, 0,
		    "print lowercase hex digits and a newline", NULL },
		{ "hexdump", 'C', POPT_ARG_NONE, &o.hexdump, 0,
		    "print a canonical hex+ASCII dump (as hexdump -C)", NULL },
		{ "line", 'l', POPT_ARG_NONE, &o.line, 0,
		    "read one line from OFFSET, up to and including '\\n'",
		    NULL },
		{ "whole-line", '\0', POPT_ARG_NONE, &o.whole, 0,
		    "read the whole line that holds OFFSET: from just after "
		    "the '\\n' before it up to and including the next one",
		    NULL },
		{ "byte", 'b', POPT_ARG_NONE, &o.byte, 0,
		    "print the byte at OFFSET as a decimal number", NULL },
		{ "size", '\0', POPT_ARG_NONE, &o.size, 0,
		    "print the size of the file in bytes", NULL },
		{ "io", '\0', POPT_ARG_STRING, &o.io_s, 0,
		    "read files through a mapping (mmap), with read(), or "
		    "the faster for each file (auto, the default)",
		    "auto|mmap|read" },
		APP_COMMON_OPTIONS
		POPT_TABLEEND
	};
	poptContext pc;
	const char **ops;
	enum mode mode = MODE_RAW;
	enum format fmt = FMT_RAW;
	enum mm_io io;
	int n, st;

	if ((st = app_args(&pc, argc, argv, table, usage_ops, NULL, NULL,
	    &ops, &n)) != 0)
		goto done;
	if ((st = app_io(o.io_s, &io)) != 0)
		goto done;
	if (o.hex + o.hexdump > 1) {
		st = app_usage("--hex and --hexdump cannot be combined");
		goto done;
	}
	if (o.line + o.whole + o.byte + o.size > 1) {
		st = app_usage("--line, --whole-line, --byte and --size cannot "
		    "be combined");
		goto done;
	}
	if ((o.byte || o.size) && o.hex + o.hexdump > 0) {
		st = app_usage("--byte and --size print numbers; they take "
		    "no --hex or --hexdump");
		goto done;
	}
	/* FILE, FILE OFFSET, or FILE OFFSET COUNT. */
	if ((st = app_operands(ops, n, "FILE", o.size ? 1 :
	    o.byte || o.line || o.whole ? 2 : 3)) != 0)
		goto done;
	mode = o.line ? MODE_LINE : o.whole ? MODE_WHOLE : o.byte ? MODE_BYTE :
	    o.size ? MODE_SIZE : MODE_RAW;
	fmt = o.hex ? FMT_HEX : o.hexdump ? FMT_HEXDUMP : FMT_RAW;
	if (n > 1 && strcmp(ops[1], "-") == 0) {
		if (app_is_stdin(ops[0])) {
			st = app_usage("standard input cannot give both FILE "
			    "and the offsets");
			goto done;
		}
		st = read_batch(ops[0], mode, fmt, n > 2 ? ops[2] : NULL, io);
		goto done;
	}
	st = read_file(ops[0], mode, fmt, n > 1 ? ops[1] : NULL,
	    n > 2 ? ops[2] : NULL, io);
done:
	free(o.io_s);
	app_popt_free(pc);
	return app_finish(st);
}
