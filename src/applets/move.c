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
#include "engine/patch.h"

static const char *usage_ops = "[OPTION]... FILE DEST SRC COUNT";

struct opts {
	int	progress, sync, verbose, no_lock, dry_run;
};

/* The range [AT, AT+COUNT) named WHAT must lie inside a file of SIZE. */
static int
in_file(const char *path, const char *what, uint64_t at, uint64_t count,
    uint64_t size)
{
	if (at > size)
		return app_error("%s: %s %" PRIu64 " is past the end of the "
		    "file (size %" PRIu64 ")", path, what, at, size);
	if (count > size - at)
		return app_error("%s: %s range [%" PRIu64 ", %" PRIu64 ") (%"
		    PRIu64 " byte%s) passes the end of the file (size %" PRIu64
		    ")", path, what, at, at + count, count, app_s(count), size);
	return 0;
}

static int
move_file(const struct opts *o, const char *path, uint64_t dest,
    uint64_t src, uint64_t count)
{
	struct app_progress prog;
	struct mm_file f;
	off_t size0;
	int rc, sig = 0, st = EXIT_OK, moved;

	if (app_open_change(&f, path, o->dry_run, o->no_lock) != 0)
		return EXIT_FAIL;
	size0 = f.size;
	if (in_file(path, "destination", dest, count, (uint64_t)f.size) ||
	    in_file(path, "source", src, count, (uint64_t)f.size)) {
		st = EXIT_FAIL;
		goto out;
	}
	if (o->dry_run) {
		/* Checked and reported; copying into a private map proves
		 * nothing more and could need as much memory as COUNT. */
		app_printf("would move %" PRIu64 " byte%s from offset %"
		    PRIu64 " to offset %" PRIu64 "\n", count, app_s(count),
		    src, dest);
		goto out;
	}
	mm_signals_hold();
	app_progress_start(&prog, o->progress, "mmmove", count);
	rc = mm_move(&f, dest, src, count, &prog.mm);
	app_progress_end(&prog);
	moved = rc == 0;
	if (rc == 0 && o->sync)
		rc = mm_sync_range(&f, dest, count);
	sig = mm_signals_release();
	if (app_shrank(path, &f, size0, rc, "bytes were moved"))
		st = EXIT_FAIL;
	else if (rc == -ENOSPC)
		st = app_error("%s: no space left on the device for the "
		    "destination; nothing moved", path);
	else if (rc == -EFBIG)
		st = app_error("%s: cannot write up to offset %" PRIu64 ": %s; "
		    "nothing moved", path, dest + count, app_strerror(rc));
	else if (rc == -EIO && !moved)
		/* The journal could not put the old bytes back. */
		st = app_error("%s: I/O error while bytes were moved; the file "
		    "may be partly moved", path);
	else if (rc < 0)
		st = app_file_error(path, rc);
	else if (o->verbose)
		app_error("%s: moved %" PRIu64 " byte%s from offset %" PRIu64
		    " to offset %" PRIu64, path, count, app_s(count), src,
		    dest);
	if (sig != 0)
		st = 128 + sig;
out:
	mm_close(&f);
	return st;
}

int
move_main(int argc, const char **argv)
{
	struct opts o = { 0, 0, 0, 0, 0 };
	struct poptOption table[] = {
		{ "progress", '\0', POPT_ARG_NONE, &o.progress, 0,
		    "show a progress line on standard error (a terminal)",
		    NULL },
		{ "sync", '\0', POPT_ARG_NONE, &o.sync, 0,
		    "flush the moved bytes to storage before exit", NULL },
		{ "verbose", 'v', POPT_ARG_NONE, &o.verbose, 0,
		    "report the move on standard error", NULL },
		{ "no-lock", '\0', POPT_ARG_NONE, &o.no_lock, 0,
		    "do not take the exclusive lock (flock) on FILE", NULL },
		{ "dry-run", '\0', POPT_ARG_NONE, &o.dry_run, 0,
		    "check the ranges and report the move, change nothing",
		    NULL },
		APP_COMMON_OPTIONS
		POPT_TABLEEND
	};
	static const char *const names[] = { "FILE", "DEST", "SRC", "COUNT" };
	poptContext pc;
	const char **ops;
	uint64_t dest, src, count;
	int n, st;

	if ((pc = app_popt(argc, argv, table, usage_ops)) == NULL)
		return EXIT_FAIL;
	if ((st = app_parse(pc, NULL, NULL)) != 0)
		goto done;
	ops = app_operands(pc, &n);
	if (n < 4) {
		st = app_usage("missing %s operand", names[n]);
		goto done;
	}
	if (n > 4) {
		st = app_usage("extra operand '%s'", ops[4]);
		goto done;
	}
	/* "mmmove 0 t.bin 5 5": the file where DEST goes. */
	if (!app_is_offset(ops[1]) && app_is_file(ops[1]) &&
	    app_is_offset(ops[0]) && !app_is_file(ops[0])) {
		st = app_misplaced("DEST", ops[1], "FILE DEST SRC COUNT");
		goto done;
	}
	/* Plain non-negative numbers, as Python's move takes them. */
	if (app_size("DEST", ops[1], &dest) || app_size("SRC", ops[2], &src) ||
	    app_size("COUNT", ops[3], &count)) {
		st = EXIT_FAIL;
		goto done;
	}
	st = move_file(&o, ops[0], dest, src, count);
done:
	app_popt_free(pc);
	return app_finish(st);
}
