/*
 * findreplace.c - mmfind --replace (see findreplace.h).  A file is
 * opened as mmpatch opens it (mapped only, locked), searched under the
 * lock, and every match becomes one edit of a batch whose expectation
 * is the bytes matched, so a change made meanwhile by a writer that
 * takes no lock is found and nothing is written.  The batch is checked
 * and applied by the code mmpatch uses (batch.c): no second writer.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "applet.h"
#include "applets/batch.h"
#include "applets/findreplace.h"

/* Room for one offset in decimal and its NUL. */
#define TOKLEN	21

/* The matches of one file, and the first of another length. */
struct found {
	const struct replace	*r;
	uint64_t		*off;
	size_t			 n, cap;
	size_t			 len;		/* every match's length */
	uint64_t		 bad_off;	/* a match of another length */
	size_t			 bad_len;
	int			 bad;
	int			 nomem;
};

#define STOP_BAD	1	/* a match of another length */
#define STOP_MAX	2	/* -m reached */
#define STOP_NOMEM	3

static int
on_match(void *ctx, uint64_t off, size_t len)
{
	struct found *fd = ctx;

	if (len != fd->len) {
		fd->bad = 1;
		fd->bad_off = off;
		fd->bad_len = len;
		return STOP_BAD;
	}
	if (app_grow(&fd->off, &fd->cap, fd->n + 1, sizeof(*fd->off),
	    64) < 0) {
		fd->nomem = 1;
		return STOP_NOMEM;
	}
	fd->off[fd->n++] = off;
	return fd->n >= fd->r->maxcount ? STOP_MAX : 0;
}

static int
another_length(const char *path, uint64_t off, size_t len, size_t want)
{
	return app_error("%s: the match at offset %" PRIu64 " has %zu bytes "
	    "but the replacement has %zu; a replacement keeps the file's "
	    "length (mmresize --at inserts or removes bytes); nothing "
	    "written", path, off, len, want);
}

/* Word a scan of C's file that failed; EXIT_FAIL. */
static int
scan_message(const struct replace *r, struct app_change *c, int rc)
{
	if (find_regex_failed(c->path, r->re, rc, "; nothing written") ||
	    app_change_error(c, rc, "it was searched"))
		return EXIT_FAIL;
	return app_file_error(c->path, rc);
}

/* Read the N matches of LEN bytes at OFF into OLD, nearby ones at once. */
static int
read_matches(struct mm_file *f, const uint64_t *off, size_t n, size_t len,
    unsigned char *old)
{
	const size_t win = (size_t)256 << 10;
	unsigned char *buf;
	size_t i, j, k;
	uint64_t span;
	int rc = 0;

	if ((buf = malloc(win > len ? win : len)) == NULL)
		return -ENOMEM;
	for (i = 0; i < n && rc == 0; i = j) {
		/* Matches are in file order and do not overlap. */
		for (j = i + 1; j < n && off[j] + len - off[i] <= win; j++)
			;
		span = off[j - 1] + len - off[i];
		if ((rc = mm_transfer(f->fd, buf, (size_t)span, off[i],
		    0)) < 0)
			break;
		for (k = i; k < j; k++)
			memcpy(old + k * len, buf + (off[k] - off[i]), len);
	}
	free(buf);
	return rc;
}

/*
 * One file: EXIT_OK replaced, EXIT_NO nothing matched (unchanged),
 * EXIT_FAIL failed (message printed, unchanged), or 128 + a signal.
 */
static int
replace_file(const struct replace *r, const char *path, int show)
{
	struct app_change c;
	struct mm_scan sc;
	struct mm_patch p;
	struct mm_edit e;
	struct batch b;
	struct found fd;
	unsigned char *old = NULL;
	char *toks = NULL, prefix[4096];
	uint64_t start, end;
	size_t i, len = r->with.len;
	int rc, st = EXIT_OK;

	if (app_change_open(&c, path) != 0)
		return EXIT_FAIL;
	find_span_at(r->span, (uint64_t)c.f.size, &start, &end);

	memset(&fd, 0, sizeof(fd));
	fd.r = r;
	fd.len = len;
	memset(&sc, 0, sizeof(sc));
	sc.pats = r->pats;
	sc.npats = r->npats;
	sc.mflags = r->icase ? MM_MATCHER_ICASE : 0;
	sc.re = r->re;
	sc.flags = MM_SCAN_ALL;
	sc.io = r->io;
	sc.emit = on_match;
	sc.ctx = &fd;
	rc = 0;
	if (r->maxcount > 0 && start <= end)
		rc = mm_scan_file(&sc, &c.f, start, end);
	if (rc < 0) {
		st = scan_message(r, &c, rc);
		goto out;
	}
	if (fd.nomem) {
		st = app_error("%s: %s", path, app_strerror(-ENOMEM));
		goto out;
	}
	/* Every match is seen before anything is written. */
	if (fd.bad) {
		st = another_length(path, fd.bad_off, fd.bad_len, len);
		goto out;
	}
	snprintf(prefix, sizeof(prefix), "%s:", path);
	if (fd.n == 0)
		goto report;

	if ((old = malloc(fd.n * len)) == NULL ||
	    (toks = malloc(fd.n * TOKLEN)) == NULL) {
		st = app_error("%s: %s", path, app_strerror(-ENOMEM));
		goto out;
	}
	if ((rc = read_matches(&c.f, fd.off, fd.n, len, old)) < 0) {
		st = app_change_error(&c, rc, "it was searched") ? EXIT_FAIL :
		    app_file_error(path, rc);
		goto out;
	}
	mm_patch_init(&p, (r->undo != NULL || app_opts.dry_run ?
	    MM_PATCH_KEEP_OLD : 0) | (app_opts.sync ? MM_PATCH_SYNC : 0));
	p.io = r->io;
	memset(&e, 0, sizeof(e));
	e.data = r->with.data;
	e.len = len;
	e.repeat = 1;
	e.explen = len;
	for (i = 0; i < fd.n; i++) {
		e.mag = fd.off[i];
		e.expect = old + i * len;
		snprintf(toks + i * TOKLEN, TOKLEN, "%" PRIu64, fd.off[i]);
		e.tok = toks + i * TOKLEN;
		if ((rc = mm_patch_add(&p, &e)) < 0) {
			st = app_error("%s: %s", path, app_strerror(rc));
			mm_patch_free(&p);
			goto out;
		}
	}
	memset(&b, 0, sizeof(b));
	b.path = path;
	b.undo = r->undo;
	b.prefix = show ? prefix : "";
	b.dry_run = app_opts.dry_run;
	b.quiet = r->count || r->files_with || r->quiet;
	st = batch_run(&b, &c.f, &p);
	mm_patch_free(&p);
	/* A change made meanwhile is a failure here, not a "no". */
	if (st == EXIT_NO)
		st = EXIT_FAIL;
	if (st != EXIT_OK)
		goto out;
report:
	if (r->quiet)
		;
	else if (r->files_with) {
		if (fd.n > 0 && app_printf("%s\n", path) < 0)
			st = EXIT_FAIL;
	} else if (r->count) {
		if (app_printf("%s%zu\n", show ? prefix : "", fd.n) < 0)
			st = EXIT_FAIL;
	}
	if (st == EXIT_OK && fd.n == 0)
		st = EXIT_NO;
out:
	free(toks);
	free(old);
	free(fd.off);
	return app_change_close(&c, st);
}

int
find_replace_check(struct replace *r)
{
	size_t i;

	if (r->text != NULL && r->hex != NULL)
		return app_usage("--replace and --replace-hex cannot be "
		    "combined");
	if (r->reverse || r->overlap)
		return app_usage("--replace cannot be combined with %s (it "
		    "replaces every match, none overlapping)",
		    r->reverse ? "--reverse" : "--overlap");
	if (r->text != NULL && mm_bytes_text(r->text, &r->with) < 0)
		return app_error("%s", app_strerror(-ENOMEM));
	if (r->hex != NULL && app_hex("--replace-hex", r->hex, 0, &r->with))
		return EXIT_FAIL;
	if (r->with.len == 0)
		return app_usage("the replacement is empty; a replacement "
		    "keeps the file's length (mmresize --at removes bytes)");
	for (i = 0; i < r->npats; i++)
		if (r->pats[i].len != r->with.len)
			return app_usage("%s has %zu bytes but the "
			    "replacement has %zu; a replacement keeps the "
			    "file's length (mmresize --at inserts or removes "
			    "bytes)", r->npats == 1 ? "the pattern" :
			    "a pattern", r->pats[i].len, r->with.len);
	return 0;
}

int
find_replace_files(const struct replace *r, const char *const *ops, int n,
    int show)
{
	int i, rc, any = 0, failed = 0;

	if (r->undo != NULL && n != 1)
		return app_usage("--undo saves the undo script of one file: "
		    "give one FILE (%d files were given)", n);
	for (i = 0; i < n; i++) {
		rc = replace_file(r, ops[i], show);
		if (rc > 128)
			return rc;
		if (rc == EXIT_FAIL)
			failed = 1;
		else if (rc == EXIT_OK)
			any = 1;
	}
	return failed ? EXIT_FAIL : any ? EXIT_OK : EXIT_NO;
}

void
find_replace_free(struct replace *r)
{
	mm_bytes_free(&r->with);
}
