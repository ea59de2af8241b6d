/*
 * resize.c - mmresize: set the size of a file, at the end or in the
 * middle (--at), as truncate does and as mmap.resize does.
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "applet.h"
#include "engine/flush.h"
#include "engine/resize.h"

static const char *usage_ops = "[OPTION]... FILE SIZE";

struct opts {
	char	*at;
	char	*fill;
	int	 allocate, no_create;
};

/* What the command line asks, checked before any file is touched. */
struct req {
	const char		*path;
	const char		*sizestr;
	struct mm_size_spec	 spec;
	int			 at_given;
	struct app_range	 at;
	struct mm_bytes		 fill;
	int			 flags;
};

static int
parse_size(const char *s, struct mm_size_spec *spec)
{
	switch (mm_size_spec_parse(s, spec)) {
	case 0:
		return 0;
	case -ERANGE:
		return app_error("size '%s' is too large (the limit is 2^63-1)",
		    s);
	case -EDOM:
		return app_error("invalid size '%s': there is no multiple of 0",
		    s);
	default:
		return app_error("invalid size '%s'", s);
	}
}

/*
 * Resolve the request against a file of OLD bytes into R; a message and
 * EXIT_FAIL when it cannot be done.
 */
static int
plan(const struct req *q, uint64_t old, struct mm_resize *r)
{
	uint64_t newsize, at = 0, cut;
	int rc;

	if (mm_size_spec_apply(&q->spec, old, &newsize) < 0)
		return app_error("%s: size %s would make the file larger than "
		    "2^63-1 bytes (size %ju)", q->path, q->sizestr,
		    (uintmax_t)old);
	if (q->at_given) {
		if (app_range(q->path, NULL, &q->at, old, 0, &at, &cut))
			return EXIT_FAIL;
		/*
		 * In the middle, -N names the bytes to remove: fewer than
		 * typed (truncate's "at most to 0") would be a surprise.
		 */
		cut = q->spec.op == MM_SIZE_SHRINK ? q->spec.val :
		    newsize < old ? old - newsize : 0;
		if (cut > old - at)
			return app_error("%s: cannot remove %ju byte%s at "
			    "offset %ju: only %ju %s it (size %ju)",
			    q->path, (uintmax_t)cut, app_s(cut),
			    (uintmax_t)at, (uintmax_t)(old - at),
			    old - at == 1 ? "byte follows" : "bytes follow",
			    (uintmax_t)old);
	}
	if ((rc = mm_resize_plan(old, newsize, q->at_given, at, r)) < 0)
		return app_file_error(q->path, rc);
	r->fill = q->fill.len > 0 ? q->fill.data : NULL;
	r->fill_len = q->fill.len;
	r->flags = q->flags;
	return 0;
}

/*
 * "OLD -> NEW bytes" and, for --at, what happened in the middle: after
 * "FILE: " on standard output (a dry run), or as -v reports.
 */
static void
report(const char *path, const struct mm_resize *r, int created, int dry)
{
	uint64_t old = r->old_size, newsize = r->new_size;
	uint64_t n = newsize > old ? newsize - old : old - newsize;
	const char *how;
	char buf[256], mid[128] = "";

	if (r->at_given && newsize != old && r->how != MM_HOW_END) {
		switch (r->how) {
		case MM_HOW_RANGE:
			how = ", by the file system";
			break;
		case MM_HOW_MOVE:
			how = ", tail moved";
			break;
		default:
			how = "";
			break;
		}
		if (dry)
			snprintf(mid, sizeof(mid), " (would %s %ju byte%s at "
			    "%ju)", newsize > old ? "insert" : "remove",
			    (uintmax_t)n, app_s(n), (uintmax_t)r->at);
		else
			snprintf(mid, sizeof(mid), " (%ju byte%s %s at %ju%s)",
			    (uintmax_t)n, app_s(n), newsize > old ?
			    "inserted" : "removed", (uintmax_t)r->at, how);
	}
	snprintf(buf, sizeof(buf), "%ju -> %ju byte%s%s%s", (uintmax_t)old,
	    (uintmax_t)newsize, app_s(newsize), !created ? "" : dry ?
	    " (would be created)" : " (created)", mid);
	if (dry)
		app_printf("%s: %s\n", path, buf);
	else
		app_verbose(path, "%s", buf);
}

/*
 * After a failure, remove PATH, which this run created (MADE: its fstat
 * then), so that no empty file is left behind; but only while PATH still
 * names that very file, never one put in its place meanwhile.
 */
static int
remove_created(const char *path, const struct stat *made)
{
	struct stat st;

	if (lstat(path, &st) == -1 || st.st_dev != made->st_dev ||
	    st.st_ino != made->st_ino)
		return EXIT_OK;
	if (unlink(path) == -1)
		return app_error("%s: cannot remove the file it created: %s",
		    path, strerror(errno));
	return EXIT_OK;
}

/* Why a resize failed, in words; EFBIG names which limit was passed. */
static const char *
cause(int rc, uint64_t newsize)
{
	if (rc == -EFBIG && mm_fsize_check(newsize) == 0)
		return "file size limit exceeded (of the file system)";
	return app_strerror(rc);
}

static int
resize_file(const struct req *q, const struct opts *o)
{
	struct app_change c;
	struct mm_resize r;
	struct stat made;
	int rc, st = EXIT_OK, created = 0, done = 0;

	if (strcmp(q->path, "-") == 0)
		return app_error("-: standard input cannot be resized "
		    "(name a file called - as ./-)");
	memset(&c, 0, sizeof(c));
	c.path = q->path;
	rc = mm_open(&c.f, q->path, app_opts.dry_run ? MM_ACCESS_READ :
	    MM_ACCESS_WRITE, MM_OPEN_MAPPED);
	if (rc == -ENOENT) {
		/* Like truncate -c: nothing to do, and that is no error. */
		if (o->no_create)
			return EXIT_OK;
		/* There are no bytes to remove in the middle of nothing. */
		if (q->at_given && q->spec.op == MM_SIZE_SHRINK &&
		    q->spec.val > 0)
			return app_error("%s: cannot remove %ju byte%s: %s",
			    q->path, (uintmax_t)q->spec.val,
			    app_s(q->spec.val), app_strerror(rc));
		/* Check against the empty file it would be, then create. */
		if (plan(q, 0, &r) != 0)
			return EXIT_FAIL;
		if (app_opts.dry_run) {
			report(q->path, &r, 1, 1);
			return EXIT_OK;
		}
		/*
		 * Create it new (O_EXCL), to know that a failure may remove
		 * it; one that appeared meanwhile is opened as it is.
		 */
		rc = mm_open(&c.f, q->path, MM_ACCESS_WRITE,
		    MM_OPEN_MAPPED | MM_OPEN_CREATE | MM_OPEN_EXCL);
		if (rc == 0 && fstat(c.f.fd, &made) == 0)
			created = 1;
		else if (rc == -EEXIST)
			rc = mm_open(&c.f, q->path, MM_ACCESS_WRITE,
			    MM_OPEN_MAPPED | MM_OPEN_CREATE);
	}
	if (rc < 0)
		return app_file_error(q->path, rc);
	c.open = 1;
	if (c.f.kind != MM_KIND_REGULAR) {
		st = app_error("%s: is a block device; its size cannot be "
		    "changed", q->path);
		goto out;
	}
	if (!app_opts.dry_run && !app_opts.no_lock &&
	    (rc = mm_lock(&c.f)) < 0) {
		st = app_error("%s: cannot lock: %s", q->path,
		    app_strerror(rc));
		goto out;
	}
	/* Another writer may have changed it while we waited. */
	if ((rc = mm_file_stat(&c.f)) < 0) {
		st = app_file_error(q->path, rc);
		goto out;
	}
	/* Bytes that another writer put in are not ours to remove. */
	if (c.f.size != 0)
		created = 0;
	if (plan(q, (uint64_t)c.f.size, &r) != 0) {
		st = EXIT_FAIL;
		goto out;
	}
	if (app_opts.dry_run) {
		report(q->path, &r, 0, 1);
		goto out;
	}

	app_change_begin(&c, mm_resize_work(&r));
	r.progress = &c.progress.mm;
	rc = mm_resize_apply(&c.f, &r);
	/* The size changed: the whole file is synced. */
	rc = app_change_end(&c, rc, 0, 0, MM_FLUSH_SIZE);
	if ((st = app_change_error(&c, rc, NULL)) != 0)
		;
	else if (rc < 0) {
		st = app_error("%s: cannot resize from %ju to %ju byte%s: %s%s",
		    q->path, (uintmax_t)r.old_size, (uintmax_t)r.new_size,
		    app_s(r.new_size), cause(rc, r.new_size), r.damaged ?
		    "; the file may be damaged" : created ?
		    "; the new file is removed" : "; the file is unchanged");
	} else {
		done = 1;
		if (app_opts.verbose)
			report(q->path, &r, created, 0);
	}
out:
	st = app_change_close(&c, st);
	if (created && (!done || st == EXIT_FAIL) &&
	    remove_created(q->path, &made) != EXIT_OK)
		st = EXIT_FAIL;
	return st;
}

int
resize_main(int argc, const char **argv)
{
	struct opts o;
	struct poptOption table[] = {
		{ "at", '\0', POPT_ARG_STRING, &o.at, 0,
		    "insert or remove bytes at OFFSET instead of the end",
		    "OFFSET" },
		{ "fill", '\0', POPT_ARG_STRING, &o.fill, 0,
		    "new bytes repeat this pattern instead of zero", "HEX" },
		{ "allocate", '\0', POPT_ARG_NONE, &o.allocate, 0,
		    "reserve disk blocks for the new bytes (no sparse holes)",
		    NULL },
		{ "no-create", 'c', POPT_ARG_NONE, &o.no_create, 0,
		    "do not create a missing file", NULL },
		APP_CHANGE_OPTIONS(APP_WRITER)
		APP_COMMON_OPTIONS
		POPT_TABLEEND
	};
	struct req q;
	poptContext pc;
	const char **ops;
	const char *env;
	int n, st;

	memset(&o, 0, sizeof(o));
	memset(&q, 0, sizeof(q));
	if ((st = app_args(&pc, argc, argv, table, usage_ops, NULL, NULL,
	    &ops, &n)) != 0)
		goto done;
	if ((st = app_operands(ops, n, "FILE SIZE", 2)) != 0)
		goto done;
	q.path = ops[0];
	q.sizestr = ops[1];
	/* "mmresize 1M f" would otherwise be told only that f is no size. */
	if (mm_size_spec_parse(ops[1], &q.spec) == -EINVAL &&
	    app_is_file(ops[1]) && !app_is_file(ops[0]) &&
	    mm_size_spec_parse(ops[0], &q.spec) == 0) {
		st = app_misplaced("size", ops[1], "FILE SIZE");
		goto done;
	}
	if ((st = parse_size(q.sizestr, &q.spec)) != 0)
		goto done;
	if (o.at != NULL) {
		q.at_given = 1;
		if ((st = app_range_parse(&q.at, o.at, NULL, NULL)) != 0)
			goto done;
	}
	if (o.fill != NULL) {
		if ((st = app_hex("--fill", o.fill, 0, &q.fill)) != 0)
			goto done;
		if (q.fill.len == 0) {
			st = app_error("--fill needs at least one byte");
			goto done;
		}
	}
	if (o.allocate)
		q.flags |= MM_RESIZE_ALLOCATE;
	env = getenv("MMUTILS_NO_FALLOCATE");
	if (env != NULL && env[0] != '\0' && strcmp(env, "0") != 0)
		q.flags |= MM_RESIZE_NO_FALLOCATE;
	st = resize_file(&q, &o);
done:
	mm_bytes_free(&q.fill);
	free(o.at);
	free(o.fill);
	app_popt_free(pc);
	return app_finish(st);
}
