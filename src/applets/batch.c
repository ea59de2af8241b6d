/*
 * batch.c - a checked batch of edits applied as mmpatch applies it, for
 * mmpatch and mmfind --replace alike (see batch.h).
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "applet.h"
#include "applets/batch.h"

/* "fix.patch:3: " for an edit read from a file, "" for the command line. */
static const char *
where(const struct batch *b, size_t line)
{
	static char buf[4096];

	if (b->src == NULL || line == 0)
		return "";
	snprintf(buf, sizeof(buf), "%s:%zu: ", b->src, line);
	return buf;
}

/* At most 32 bytes as hex, then "...", for a message. */
static const char *
short_hex(const unsigned char *p, size_t len)
{
	static char buf[2 * 32 + 4];
	size_t n = len < 32 ? len : 32;

	mm_hex_format(p, n, buf);
	if (n < len)
		strcat(buf, "...");
	if (len == 0)
		strcpy(buf, "(nothing)");
	return buf;
}

int
batch_parse_message(const struct mm_patch *p, const struct batch *b)
{
	const struct mm_patch_error *er = &p->err;
	const char *at = where(b, er->line);
	char w[4096 + 64];

	/*
	 * One read from a script or standard input is named as every other
	 * error of a batch is, "FILE: SRC:LINE: ", so one form tells where.
	 */
	if (*at != '\0' && b->path != NULL)
		snprintf(w, sizeof(w), "%s: %s", b->path, at);
	else
		snprintf(w, sizeof(w), "%s", at);

	switch (er->why) {
	case MM_PATCH_SYNTAX:
		return app_error("%sexpected 'OFFSET NEWHEX [OLDHEX]'%s", w,
		    b->src != NULL && strcmp(b->src, "standard input")
		    == 0 ? " or one offset" : "");
	case MM_PATCH_BAD_OFFSET:
		if (er->rc == -ERANGE)
			return app_error("%soffset '%s' is too large (the "
			    "limit is 2^63-1)", w, er->tok);
		return app_error("%sinvalid offset '%s'", w, er->tok);
	case MM_PATCH_OTHER_FILE:
		return app_error("%s'%s' is not an offset in this file",
		    w, er->tok);
	case MM_PATCH_BAD_HEX:
		return app_error("%sinvalid hex '%s' at character %zu%s", w,
		    er->tok, er->pos + 1, er->tok[er->pos] == '\0' ?
		    " (an odd number of digits)" : "");
	case MM_PATCH_TOO_MANY:
		return app_error("%sthe data repeated is larger than the "
		    "largest file (2^63-1 bytes)", w);
	case MM_PATCH_EXPECT_LEN:
		return app_error("%sOLDHEX has %zu byte%s but NEWHEX has %"
		    PRIu64 "; they must be of one length", w, er->explen,
		    app_s(er->explen), er->total);
	default:
		return app_error("%s", app_strerror(er->rc));
	}
}

/* Words a failed check or apply; returns the exit status. */
static int
check_message(const struct mm_patch *p, const struct batch *b)
{
	const struct mm_patch_error *er = &p->err;
	const struct mm_edit *e = er->edit < p->n ? &p->e[er->edit] : NULL;
	const char *w = where(b, er->line), *path = b->path;
	intmax_t size = (intmax_t)p->f->size;

	switch (er->why) {
	case MM_PATCH_BEFORE_START:
		return app_error("%s: %soffset %s is before the start of the "
		    "file (size %jd)", path, w, er->tok, size);
	case MM_PATCH_PAST_END:
		return app_error("%s: %soffset %s is past the end of the file "
		    "(size %jd)", path, w, er->tok, size);
	case MM_PATCH_TOO_LONG:
		return app_error("%s: %s%" PRIu64 " byte%s at offset %s would "
		    "pass the end of the file (size %jd)", path, w, e->total,
		    app_s(e->total), er->tok, size);
	case MM_PATCH_OVERLAP:
		if (p->e[er->other].line != 0)
			return app_error("%s: %sthe edit at offset %" PRIu64
			    " overlaps the edit of line %zu, at offset %" PRIu64
			    " (edits in one batch must not overlap)", path, w,
			    e->off, p->e[er->other].line, p->e[er->other].off);
		return app_error("%s: %sthe edit at offset %" PRIu64
		    " overlaps the edit at offset %" PRIu64 " (edits in one "
		    "batch must not overlap)", path, w, e->off,
		    p->e[er->other].off);
	case MM_PATCH_MISMATCH:
		if (e->explen > (uint64_t)size - e->off)
			app_error("%s: %sthe file ends before the %zu expected "
			    "byte%s at offset %" PRIu64 "; nothing written",
			    path, w, e->explen, app_s(e->explen), e->off);
		else {
			char found[2 * 32 + 4];

			strcpy(found, short_hex(er->found, er->foundlen));
			app_error("%s: %sthe bytes at offset %" PRIu64
			    " are %s, not %s; nothing written", path, w, e->off,
			    found, short_hex(e->expect, e->explen));
		}
		return EXIT_NO;
	default:
		break;
	}
	if (app_fault(path, p->f, er->rc, "it was patched"))
		return EXIT_FAIL;
	if (er->rc == -ENOSPC)
		return app_error("%s: no space left on the device for the "
		    "bytes to write; nothing written", path);
	return app_file_error(path, er->rc);
}

/* Where a report goes: standard output (checked), or the FILE * ARG. */
static int
out_stream(void *arg, const void *s, size_t len)
{
	FILE *fp = arg;

	if (fp == stdout)
		return app_write(s, len);
	return fwrite(s, 1, len, fp) == len ? 0 : -EIO;
}

int
batch_report(const struct mm_patch *p, const char *prefix, FILE *fp)
{
	return mm_patch_report(p, prefix, out_stream, fp);
}

/* What the undo script says about itself in its first line. */
static const char *
undo_comment(const char *path, const char *undo)
{
	static char buf[8192];
	char *s;

	snprintf(buf, sizeof(buf), "mmpatch undo script; apply with: "
	    "mmpatch --script=%s %s", undo, path);
	for (s = buf; *s != '\0'; s++)
		if (*s == '\n' || *s == '\r')
			*s = '?';
	return buf;
}

/*
 * --undo=-: the undo script on standard output, through the checked
 * output, flushed and, where it can be, synced before the first write.
 */
static int
undo_to_stdout(const struct mm_patch *p, const struct mm_file *f,
    const char *comment)
{
	struct stat st, fst;
	int rc;

	if (fstat(f->fd, &fst) == -1)
		return -errno;
	/* Never write into the very file about to be patched. */
	if (fstat(STDOUT_FILENO, &st) == -1)
		return -errno;
	if (st.st_dev == fst.st_dev && st.st_ino == fst.st_ino)
		return -EINVAL;
	if ((rc = mm_patch_undo_text(p, comment, out_stream, stdout)) < 0 ||
	    (rc = app_flush()) < 0) {
		/* Worded here: no second message at exit. */
		app_output_reported();
		return rc;
	}
	/* Pipes and terminals cannot sync. */
	if (fsync(STDOUT_FILENO) == -1 && errno != EINVAL && errno != EROFS)
		return -errno;
	return 0;
}

int
batch_run(const struct batch *b, struct mm_file *f, struct mm_patch *p)
{
	struct mm_undo u = { -1, NULL, 0, 0 };
	const char *path = b->path;
	int rc, sig = 0, st = EXIT_OK;

	if (!b->dry_run)
		mm_signals_hold();
	if (mm_patch_check(p, f) < 0) {
		st = check_message(p, b);
		goto release;
	}
	/* Interrupted while checking: nothing has changed yet, stop here. */
	if (!b->dry_run && mm_signals_pending())
		goto release;
	if (b->dry_run) {
		if (!b->quiet && batch_report(p, b->prefix, stdout) < 0)
			st = EXIT_FAIL;
		goto out;
	}
	if (b->undo != NULL && (rc = strcmp(b->undo, "-") == 0 ?
	    undo_to_stdout(p, f, undo_comment(path, b->undo)) :
	    mm_patch_save_undo(p, b->undo, undo_comment(path, b->undo),
	    &u)) < 0) {
		if (rc == -EINVAL)
			st = app_error("%s: the undo file cannot be the file "
			    "being patched; nothing written", b->undo);
		else if (rc == -EEXIST)
			st = app_error("%s: the undo file exists already (an "
			    "undo is never overwritten); nothing written",
			    b->undo);
		else
			st = app_error("%s: cannot save the undo script: %s; "
			    "nothing written", b->undo, app_strerror(rc));
		goto release;
	}
	if (mm_patch_apply(p) < 0) {
		st = check_message(p, b);
		/* The undo of a change that did not happen would mislead. */
		if (u.name != NULL) {
			if (mm_patch_unchanged(p) == 1) {
				if ((rc = mm_undo_remove(&u)) < 0)
					app_error("%s: cannot remove the undo "
					    "script: %s", b->undo,
					    app_strerror(rc));
			} else
				app_error("%s: kept: %s may be partly changed; "
				    "'mmpatch --resume --script=%s %s' undoes "
				    "it", b->undo, path, b->undo, path);
		}
		goto release;
	}
	/* -v: each edit as every applet reports, "APPLET: FILE: ...". */
	if (b->verbose) {
		char *pre;

		if ((pre = malloc(strlen(app_name) + strlen(path) + 5)) !=
		    NULL) {
			sprintf(pre, "%s: %s: ", app_name, path);
			fflush(stdout);
			batch_report(p, pre, stderr);
			free(pre);
		}
	}
release:
	if (!b->dry_run)
		sig = mm_signals_release();
	if (sig != 0)
		st = 128 + sig;
out:
	mm_undo_close(&u);
	return st;
}
