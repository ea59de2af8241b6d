/*
 * flush.c - mmflush: write a file's changed pages in a range back to
 * storage (mmap.flush), widening the range to whole pages.
 */
#include "config.h"

#include <sys/mman.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "applet.h"
#include "engine/flush.h"

static const char *usage_ops = "[OPTION]... FILE [OFFSET [SIZE]]";

struct opts {
	int	async, invalidate, verbose;
};

static int
flush_file(const char *path, const char *offstr, const char *sizestr,
    const struct opts *o)
{
	struct app_range ar;
	struct mm_file f;
	uint64_t off, len, start, end, pages;
	int rc, st = EXIT_OK, flags;

	if (app_range_parse(&ar, offstr, "size", sizestr))
		return EXIT_FAIL;
	/*
	 * msync writes back only through a mapping of a descriptor open for
	 * writing; a file we may only read is still flushed, as sync(1)
	 * does, by the engine's fallback.
	 */
	rc = strcmp(path, "-") == 0 ? -EBADF :
	    mm_open(&f, path, MM_ACCESS_WRITE, MM_OPEN_MAPPED);
	if (rc == -EBADF || rc == -EACCES || rc == -EPERM || rc == -EROFS ||
	    rc == -ETXTBSY)
		rc = mm_open(&f, path, MM_ACCESS_READ, MM_OPEN_MAPPED);
	if (rc < 0)
		return app_file_error(path, rc);
	if (app_range(path, NULL, &ar, (uint64_t)f.size, 0, &off, &len)) {
		st = EXIT_FAIL;
		goto out;
	}
	flags = (o->async ? MS_ASYNC : MS_SYNC) |
	    (o->invalidate ? MS_INVALIDATE : 0);
	if ((rc = mm_flush(&f, off, len, flags, &start, &end)) < 0) {
		st = app_error("%s: cannot flush bytes [%ju, %ju): %s", path,
		    (uintmax_t)off, (uintmax_t)(off + len),
		    app_strerror(rc));
		goto out;
	}
	if (o->verbose) {
		pages = mm_pages(start, end);
		if (pages == 0)
			app_verbose(path, "nothing to flush");
		else
			app_verbose(path, "%s bytes [%ju, %ju) (%ju page%s)",
			    o->async ? "scheduled" : "flushed",
			    (uintmax_t)start, (uintmax_t)end,
			    (uintmax_t)pages, app_s(pages));
	}
out:
	mm_close(&f);
	return st;
}

int
flush_main(int argc, const char **argv)
{
	struct opts o = { 0, 0, 0 };
	struct poptOption table[] = {
		{ "async", '\0', POPT_ARG_NONE, &o.async, 0,
		    "schedule the write-back and return (MS_ASYNC)", NULL },
		{ "invalidate", '\0', POPT_ARG_NONE, &o.invalidate, 0,
		    "also invalidate other mappings' cached copies "
		    "(MS_INVALIDATE)", NULL },
		{ "verbose", 'v', POPT_ARG_NONE, &o.verbose, 0,
		    "report the page range flushed on standard error", NULL },
		APP_COMMON_OPTIONS
		POPT_TABLEEND
	};
	poptContext pc;
	const char **ops;
	int n, st;

	if ((st = app_args(&pc, argc, argv, table, usage_ops, NULL, NULL,
	    &ops, &n)) != 0)
		goto done;
	if ((st = app_operands(ops, n, "FILE", 3)) != 0)
		goto done;
	/* "mmflush 0 f": the file where OFFSET goes. */
	if (n > 1 && !app_is_offset(ops[1]) && app_is_file(ops[1]) &&
	    app_is_offset(ops[0]) && !app_is_file(ops[0])) {
		st = app_misplaced("offset", ops[1], "FILE [OFFSET [SIZE]]");
		goto done;
	}
	st = flush_file(ops[0], n > 1 ? ops[1] : NULL, n > 2 ? ops[2] : NULL,
	    &o);
done:
	app_popt_free(pc);
	return app_finish(st);
}
