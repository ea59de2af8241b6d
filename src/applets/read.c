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

enum mode { MODE_RAW, MODE_LINE, MODE_BYTE, MODE_SIZE };

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
 * keeps nothing, a negative OFFSET the last |OFFSET| bytes, -b at a
 * plain OFFSET one byte.  Returns an exit status (messages printed).
 */
static int
read_stream_end(const char *path, struct mm_file *f, enum mode mode,
    enum format fmt, const char *offstr, uint64_t offval, int neg,
    const char *countstr, uint64_t count)
{
	static struct sink sink;
	struct mm_source *src;
	struct mm_piece pc;
	const unsigned char *seg[2], *nl;
	size_t len, seglen[2];
	struct mm_tail t;
	uint64_t size = 0, count0 = count;
	int rc, i, st = EXIT_OK;

	if (mode == MODE_SIZE) {
		if ((rc = stream_size(f, &size)) < 0)
			return app_file_error(path, rc);
		return app_printf("%" PRIu64 "\n", size) < 0 ? EXIT_FAIL : 0;
	}
	if (!neg) {
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
	if (t.total < offval) {
		st = app_error("%s: offset %s is before the start of the file "
		    "(size %" PRIu64 ")", path, offstr, t.total);
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
	sink.addr = t.total - offval;
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
		sink_end(&sink, t.total - offval, countstr != NULL &&
		    count0 == 0);
out:
	mm_tail_free(&t);
	return st;
}

static const char *usage_ops = "[OPTION]... FILE [OFFSET [COUNT]]";

static int
read_file(const char *path, enum mode mode, enum format fmt,
    const char *offstr, const char *countstr, enum mm_io io)
{
	static struct sink sink;
	struct mm_file f;
	struct job j;
	uint64_t offval = 0, start, count = UINT64_MAX;
	int neg = 0, rc, st = EXIT_OK;
	off_t size0;

	if (offstr != NULL && app_offset("offset", offstr, &offval, &neg))
		return EXIT_FAIL;
	if (countstr != NULL && app_size("count", countstr, &count))
		return EXIT_FAIL;

	if ((rc = mm_open(&f, path, MM_ACCESS_READ, 0)) < 0)
		return app_file_error(path, rc);
	/* A stream's size is known only at its end. */
	if (f.kind == MM_KIND_STREAM && (neg || mode == MODE_SIZE ||
	    mode == MODE_BYTE)) {
		st = read_stream_end(path, &f, mode, fmt, offstr, offval, neg,
		    countstr, count);
		goto out;
	}
	if (mode == MODE_SIZE) {
		app_printf("%jd\n", (intmax_t)f.size);
		goto out;
	}
	if (mm_offset_resolve(offval, neg, f.kind == MM_KIND_STREAM ? 0 :
	    (uint64_t)f.size, &start) < 0) {
		st = app_error("%s: offset %s is before the start of the file "
		    "(size %jd)", path, offstr, (intmax_t)f.size);
		goto out;
	}
	if (f.kind != MM_KIND_STREAM && start > (uint64_t)f.size) {
		st = app_error("%s: offset %s is past the end of the file "
		    "(size %jd)", path, offstr, (intmax_t)f.size);
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

	memset(&sink, 0, sizeof(sink));
	sink.fmt = fmt;
	sink.addr = start;
	memset(&j, 0, sizeof(j));
	j.f = &f;
	j.sink = &sink;
	j.mode = mode;
	j.start = start;
	j.count = count;
	j.io = io;
	size0 = f.size;
	rc = copy_file(&j);
	if ((st = app_shrank(path, &f, size0, rc, "it was read")) != 0)
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
		sink_end(&sink, start, countstr != NULL && count == 0);
out:
	mm_close(&f);
	return st;
}

struct opts {
	int	 hex, hexdump, line, byte, size;
	char	*io_s;
};

int
read_main(int argc, const char **argv)
{
	struct opts o = { 0, 0, 0, 0, 0, NULL };
	struct poptOption table[] = {
		{ "hex", 'x', POPT_ARG_NONE, &o.hex, 0,
		    "print lowercase hex digits and a newline", NULL },
		{ "hexdump", 'C', POPT_ARG_NONE, &o.hexdump, 0,
		    "print a canonical hex+ASCII dump (as hexdump -C)", NULL },
		{ "line", 'l', POPT_ARG_NONE, &o.line, 0,
		    "read one line from OFFSET, up to and including '\\n'",
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

	if ((pc = app_popt(argc, argv, table, usage_ops)) == NULL)
		return EXIT_FAIL;
	if ((st = app_parse(pc, NULL, NULL)) != 0)
		goto done;
	ops = app_operands(pc, &n);
	if ((st = app_io(o.io_s, &io)) != 0)
		goto done;
	if (o.hex + o.hexdump > 1) {
		st = app_usage("--hex and --hexdump cannot be combined");
		goto done;
	}
	if (o.line + o.byte + o.size > 1) {
		st = app_usage("--line, --byte and --size cannot be combined");
		goto done;
	}
	if ((o.byte || o.size) && o.hex + o.hexdump > 0) {
		st = app_usage("--byte and --size print numbers; they take "
		    "no --hex or --hexdump");
		goto done;
	}
	if (n < 1) {
		st = app_usage("missing FILE operand");
		goto done;
	}
	if (n > 3 || (o.size && n > 1) || ((o.byte || o.line) && n > 2)) {
		st = app_usage("extra operand '%s'",
		    ops[o.size ? 1 : (o.byte || o.line) ? 2 : 3]);
		goto done;
	}
	mode = o.line ? MODE_LINE : o.byte ? MODE_BYTE : o.size ? MODE_SIZE :
	    MODE_RAW;
	fmt = o.hex ? FMT_HEX : o.hexdump ? FMT_HEXDUMP : FMT_RAW;
	st = read_file(ops[0], mode, fmt, n > 1 ? ops[1] : NULL,
	    n > 2 ? ops[2] : NULL, io);
done:
	free(o.io_s);
	app_popt_free(pc);
	return app_finish(st);
}
