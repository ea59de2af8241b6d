/*
 * move.c - mmmove: copy COUNT bytes from SRC to DEST inside one file with
 * memmove semantics (Python's mmap.move); the file's size never changes.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "applet.h"
#include "engine/move.h"

static const char *usage_ops = "[OPTION]... FILE DEST SRC COUNT";

/*
 * Both ranges checked against the file, then the move, with the change
 * scaffold's lock, held signals, progress and --sync.
 */
static int
move_file(const char *path, struct app_range *dest, struct app_range *src,
    uint64_t count)
{
	struct app_change c;
	uint64_t to, from, n;
	int rc, st = EXIT_OK;

	if (app_change_open(&c, path) != 0)
		return EXIT_FAIL;
	if (app_range(path, NULL, dest, (uint64_t)c.f.size, 0, &to, &n) ||
	    app_range(path, NULL, src, (uint64_t)c.f.size, 0, &from, &n)) {
		st = EXIT_FAIL;
		goto out;
	}
	if (app_opts.dry_run) {
		/* Checked and reported; copying into a private map proves
		 * nothing more and could need as much memory as COUNT. */
		app_printf("would move %" PRIu64 " byte%s from offset %"
		    PRIu64 " to offset %" PRIu64 "\n", count, app_s(count),
		    from, to);
		goto out;
	}
	app_change_begin(&c, count);
	rc = mm_move(&c.f, to, from, count, &c.progress.mm);
	rc = app_change_end(&c, rc, to, count, 0);
	if ((st = app_change_error(&c, rc, "bytes were moved")) != 0)
		;
	else if (rc == -ENOSPC)
		st = app_error("%s: no space left on the device for the "
		    "destination; nothing moved", path);
	else if (rc == -EFBIG)
		st = app_error("%s: cannot write up to offset %" PRIu64 ": %s; "
		    "nothing moved", path, to + count, app_strerror(rc));
	else if (rc == -EIO)
		/* The journal could not put the old bytes back. */
		st = app_error("%s: I/O error while bytes were moved; the file "
		    "may be partly moved", path);
	else if (rc < 0)
		st = app_file_error(path, rc);
	else if (app_opts.verbose)
		app_verbose(path, "moved %" PRIu64 " byte%s from offset %"
		    PRIu64 " to offset %" PRIu64, count, app_s(count), from,
		    to);
out:
	return app_change_close(&c, st);
}

int
move_main(int argc, const char **argv)
{
	struct poptOption table[] = {
		APP_CHANGE_OPTIONS(APP_WRITER)
		APP_COMMON_OPTIONS
		POPT_TABLEEND
	};
	poptContext pc;
	const char **ops;
	struct app_range dest, src;
	uint64_t count;
	int n, st;

	if ((st = app_args(&pc, argc, argv, table, usage_ops, NULL, NULL,
	    &ops, &n)) != 0)
		goto done;
	if ((st = app_operands(ops, n, "FILE DEST SRC COUNT", 4)) != 0)
		goto done;
	/* "mmmove 0 t.bin 5 5": the file where DEST goes. */
	if (!app_is_offset(ops[1]) && app_is_file(ops[1]) &&
	    app_is_offset(ops[0]) && !app_is_file(ops[0])) {
		st = app_misplaced("DEST", ops[1], "FILE DEST SRC COUNT");
		goto done;
	}
	/* Plain non-negative numbers, as Python's move takes them. */
	memset(&dest, 0, sizeof(dest));
	memset(&src, 0, sizeof(src));
	dest.what = "destination";
	src.what = "source";
	dest.offstr = ops[1];
	src.offstr = ops[2];
	dest.has_len = src.has_len = 1;
	if (app_size("DEST", ops[1], &dest.mag) ||
	    app_size("SRC", ops[2], &src.mag) ||
	    app_size("COUNT", ops[3], &count)) {
		st = EXIT_FAIL;
		goto done;
	}
	dest.len = src.len = count;
	st = move_file(ops[0], &dest, &src, count);
done:
	app_popt_free(pc);
	return app_finish(st);
}
