/*
 * patch.c - mmpatch: write bytes into a file in place (write, write_byte,
 * slice assignment), one edit or a batch that applies whole or not at all.
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
#include "engine/patch.h"

static const char *usage_ops = "[OPTION]... FILE OFFSET [TEXT]\n"
    "   or: mmpatch [OPTION]... --script=SCRIPT FILE";

struct opts {
	char	*hex, *from, *expect, *expect_text, *repeat, *script, *undo;
	char	*io_s;
	int	 dry_run, verbose, sync, no_lock, resume;
};

/* Where the edits came from, for messages: "SRC:LINE: ". */
struct source {
	const char	*name;		/* NULL: the command line */
};

static const char *
src_name(const char *path)
{
	return strcmp(path, "-") == 0 ? "standard input" : path;
}

/*
 * Does PATH name standard input: "-", /dev/stdin, /proc/self/fd/0 or any
 * other name of the file open on descriptor 0?
 */
static int
is_stdin(const char *path)
{
	struct stat st, in;

	if (strcmp(path, "-") == 0 || strcmp(path, "/dev/stdin") == 0 ||
	    strcmp(path, "/dev/fd/0") == 0 ||
	    strcmp(path, "/proc/self/fd/0") == 0)
		return 1;
	return fstat(STDIN_FILENO, &in) == 0 && stat(path, &st) == 0 &&
	    st.st_dev == in.st_dev && st.st_ino == in.st_ino;
}

/* "fix.patch:3: " for an edit read from a file, "" for the command line. */
static const char *
where(const struct source *src, size_t line)
{
	static char buf[4096];

	if (src->name == NULL || line == 0)
		return "";
	snprintf(buf, sizeof(buf), "%s:%zu: ", src->name, line);
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

/*
 * Words an edit that does not parse.  One read from a script or standard
 * input is named as every other error of a batch is, "FILE: SRC:LINE: ",
 * so one form tells where, whatever went wrong.
 */
static int
parse_message(const struct mm_patch *p, const struct source *src,
    const char *path)
{
	const struct mm_patch_error *er = &p->err;
	const char *at = where(src, er->line);
	char w[4096 + 64];

	if (*at != '\0')
		snprintf(w, sizeof(w), "%s: %s", path, at);
	else
		w[0] = '\0';

	switch (er->why) {
	case MM_PATCH_SYNTAX:
		return app_error("%sexpected 'OFFSET NEWHEX [OLDHEX]'%s", w,
		    src->name != NULL && strcmp(src->name, "standard input")
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
check_message(const struct mm_patch *p, const struct source *src,
    const char *path, off_t size0)
{
	const struct mm_patch_error *er = &p->err;
	const struct mm_edit *e = er->edit < p->n ? &p->e[er->edit] : NULL;
	const char *w = where(src, er->line);
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
	if (er->rc == -EIO && size < (intmax_t)size0)
		return app_error("%s: the file shrank from %jd to %jd byte%s "
		    "while it was patched", path, (intmax_t)size0, size,
		    app_s((uintmax_t)size));
	if (er->rc == -ENOSPC)
		return app_error("%s: no space left on the device for the "
		    "bytes to write; nothing written", path);
	return app_file_error(path, er->rc);
}

/* Print "OFFSET: OLDHEX -> NEWHEX" per edit, to standard output or error. */
static int
report(const struct mm_patch *p, FILE *fp)
{
	static char hex[2 * 4096 + 1];
	const struct mm_edit *e;
	size_t i, n, done;
	uint64_t r;
	int rc = 0;

#define PUT(s, l) do {							\
	if (fp == stdout)						\
		rc = app_write((s), (l));				\
	else if (fwrite((s), 1, (l), fp) != (l))			\
		rc = -EIO;						\
} while (0)
	for (i = 0; i < p->n && rc == 0; i++) {
		e = &p->e[i];
		if (e->total == 0)
			continue;
		n = (size_t)snprintf(hex, sizeof(hex), "%" PRIu64 ": ",
		    e->off);
		PUT(hex, n);
		for (done = 0; done < e->total && rc == 0; done += n) {
			n = e->total - done < 4096 ? (size_t)(e->total - done) :
			    4096;
			mm_hex_format(e->old + done, n, hex);
			PUT(hex, 2 * n);
		}
		PUT(" -> ", 4);
		for (r = 0; r < e->repeat && rc == 0; r++) {
			for (done = 0; done < e->len && rc == 0; done += n) {
				n = e->len - done < 4096 ? e->len - done : 4096;
				mm_hex_format(e->data + done, n, hex);
				PUT(hex, 2 * n);
			}
		}
		PUT("\n", 1);
	}
#undef PUT
	return rc;
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

/* Build the edit list from the command line, standard input or a script. */
static int
build(struct mm_patch *p, const struct opts *o, const char *path,
    const char *offstr, struct mm_bytes *data, struct mm_bytes *expect,
    struct source *src)
{
	struct mm_bytes in;
	struct mm_edit t;
	uint64_t repeat = 1;
	int rc;

	memset(&t, 0, sizeof(t));
	if (o->repeat != NULL && app_size("repeat count", o->repeat, &repeat))
		return EXIT_FAIL;
	/*
	 * The expectation guards exactly the bytes written: a shorter one
	 * would let the rest be overwritten unchecked.
	 */
	if ((o->expect != NULL || o->expect_text != NULL) && (data->len == 0 ?
	    expect->len != 0 : repeat > MM_OFF_MAX / data->len ||
	    expect->len != data->len * repeat)) {
		char times[64] = "";

		if (repeat != 1)
			snprintf(times, sizeof(times), " (%zu byte%s %" PRIu64
			    " times)", data->len, app_s(data->len), repeat);
		if (data->len != 0 && repeat > MM_OFF_MAX / data->len)
			return app_usage("the expectation has %zu byte%s but "
			    "the data written is larger than the largest "
			    "file", expect->len, app_s(expect->len));
		return app_usage("the expectation has %zu byte%s but the data "
		    "written has %" PRIu64 "%s; they must be of one length",
		    expect->len, app_s(expect->len),
		    (uint64_t)data->len * repeat, times);
	}
	if (o->script != NULL) {
		if ((rc = mm_bytes_file(o->script, &in)) < 0)
			return app_file_error(src_name(o->script), rc);
		src->name = src_name(o->script);
		rc = mm_patch_parse_script(p, in.data, in.len);
		mm_bytes_free(&in);
		return rc < 0 ? parse_message(p, src, path) : 0;
	}
	t.data = data->data;
	t.len = data->len;
	t.repeat = repeat;
	t.expect = expect->data;
	t.explen = expect->len;
	if (strcmp(offstr, "-") == 0) {
		if ((rc = mm_bytes_file("-", &in)) < 0)
			return app_file_error("standard input", rc);
		src->name = "standard input";
		rc = mm_patch_parse_offsets(p, in.data, in.len, path, &t);
		mm_bytes_free(&in);
		return rc < 0 ? parse_message(p, src, path) : 0;
	}
	if (app_offset("offset", offstr, &t.mag, &t.neg))
		return EXIT_FAIL;
	t.tok = offstr;
	if (mm_patch_add(p, &t) < 0)
		return parse_message(p, src, path);
	return 0;
}

static int
run(const struct opts *o, const char *path, struct mm_patch *p,
    const struct source *src)
{
	struct mm_undo u = { -1, NULL, 0, 0 };
	struct mm_file f;
	off_t size0;
	int rc, sig = 0, st = EXIT_OK;

	if (app_open_change(&f, path, o->dry_run, o->no_lock) != 0)
		return EXIT_FAIL;
	size0 = f.size;
	if (!o->dry_run)
		mm_signals_hold();
	if (mm_patch_check(p, &f) < 0) {
		st = check_message(p, src, path, size0);
		goto release;
	}
	/* Interrupted while checking: nothing has changed yet, stop here. */
	if (!o->dry_run && mm_signals_pending())
		goto release;
	if (o->dry_run) {
		if (report(p, stdout) < 0)
			st = EXIT_FAIL;
		goto out;
	}
	if (o->undo != NULL && (rc = mm_patch_save_undo(p, o->undo,
	    undo_comment(path, o->undo), &u)) < 0) {
		if (rc == -EINVAL)
			st = app_error("%s: the undo file cannot be the file "
			    "being patched; nothing written", o->undo);
		else if (rc == -EEXIST)
			st = app_error("%s: the undo file exists already (an "
			    "undo is never overwritten); nothing written",
			    o->undo);
		else
			st = app_error("%s: cannot save the undo script: %s; "
			    "nothing written", o->undo, app_strerror(rc));
		goto release;
	}
	if (mm_patch_apply(p) < 0) {
		st = check_message(p, src, path, size0);
		/* The undo of a change that did not happen would mislead. */
		if (u.name != NULL) {
			if (mm_patch_unchanged(p) == 1) {
				if ((rc = mm_undo_remove(&u)) < 0)
					app_error("%s: cannot remove the undo "
					    "script: %s", o->undo,
					    app_strerror(rc));
			} else
				app_error("%s: kept: %s may be partly changed; "
				    "'mmpatch --resume --script=%s %s' undoes "
				    "it", o->undo, path, o->undo, path);
		}
		goto release;
	}
	if (o->verbose)
		report(p, stderr);
release:
	if (!o->dry_run)
		sig = mm_signals_release();
	if (sig != 0)
		st = 128 + sig;
out:
	mm_undo_close(&u);
	mm_patch_free(p);
	mm_close(&f);
	return st;
}

int
patch_main(int argc, const char **argv)
{
	struct opts o;
	struct poptOption table[] = {
		{ "hex", 'x', POPT_ARG_STRING, &o.hex, 0,
		    "the data as hex digits", "HEX" },
		{ "from-file", 'f', POPT_ARG_STRING, &o.from, 0,
		    "the data is the whole content of FILE ('-': standard "
		    "input)", "FILE" },
		{ "expect", '\0', POPT_ARG_STRING, &o.expect, 0,
		    "write only if the bytes at OFFSET are these, as many as "
		    "written (else exit 1)", "HEX" },
		{ "expect-text", '\0', POPT_ARG_STRING, &o.expect_text, 0,
		    "the same, with the bytes of TEXT", "TEXT" },
		{ "repeat", '\0', POPT_ARG_STRING, &o.repeat, 0,
		    "write the data N times back to back (a fill)", "N" },
		{ "script", '\0', POPT_ARG_STRING, &o.script, 0,
		    "apply a patch script: lines 'OFFSET NEWHEX [OLDHEX]'",
		    "SCRIPT" },
		{ "undo", '\0', POPT_ARG_STRING, &o.undo, 0,
		    "first save a script that undoes the patch in UNDO, a new "
		    "file", "UNDO" },
		{ "resume", '\0', POPT_ARG_NONE, &o.resume, 0,
		    "let an expectation hold where bytes are already the new "
		    "ones (finish or undo a batch cut short)", NULL },
		{ "dry-run", '\0', POPT_ARG_NONE, &o.dry_run, 0,
		    "print 'OFFSET: OLDHEX -> NEWHEX' per edit, change nothing",
		    NULL },
		{ "verbose", 'v', POPT_ARG_NONE, &o.verbose, 0,
		    "print each edit made on standard error", NULL },
		{ "sync", '\0', POPT_ARG_NONE, &o.sync, 0,
		    "flush the written pages to storage before exit", NULL },
		{ "no-lock", '\0', POPT_ARG_NONE, &o.no_lock, 0,
		    "do not take the exclusive lock (flock) on FILE", NULL },
		{ "io", '\0', POPT_ARG_STRING, &o.io_s, 0,
		    "write through a mapping (mmap), with pwrite (read), or "
		    "whichever costs the batch less (auto, the default)",
		    "auto|mmap|read" },
		APP_COMMON_OPTIONS
		POPT_TABLEEND
	};
	struct mm_bytes data, expect;
	struct mm_patch p;
	struct source src = { NULL };
	poptContext pc;
	const char **ops, *path, *offstr = NULL;
	int n, st, sources;

	memset(&o, 0, sizeof(o));
	memset(&data, 0, sizeof(data));
	memset(&expect, 0, sizeof(expect));
	mm_patch_init(&p, 0);
	if ((pc = app_popt(argc, argv, table, usage_ops)) == NULL)
		return EXIT_FAIL;
	if ((st = app_parse(pc, NULL, NULL)) != 0)
		goto done;
	ops = app_operands(pc, &n);
	st = EXIT_FAIL;
	if (app_io(o.io_s, &p.io) != 0)
		goto done;
	if (n < 1) {
		app_usage("missing FILE operand");
		goto done;
	}
	path = ops[0];
	if (o.script != NULL) {
		if (n > 1) {
			app_usage("extra operand '%s' (--script gives the "
			    "offsets and the data)", ops[1]);
			goto done;
		}
		if (o.hex || o.from || o.expect || o.expect_text || o.repeat) {
			app_usage("--script cannot be combined with -x, -f, "
			    "--expect, --expect-text or --repeat");
			goto done;
		}
	} else {
		if (n < 2) {
			app_usage("missing OFFSET operand after '%s'", path);
			goto done;
		}
		if (n > 3) {
			app_usage("extra operand '%s'", ops[3]);
			goto done;
		}
		offstr = ops[1];
		sources = (n == 3) + (o.hex != NULL) + (o.from != NULL);
		if (sources == 0) {
			app_usage("missing data: give TEXT, -x HEX or -f FILE");
			goto done;
		}
		if (sources > 1) {
			app_usage("give the data once: TEXT, -x HEX or "
			    "-f FILE");
			goto done;
		}
		if (o.expect != NULL && o.expect_text != NULL) {
			app_usage("--expect and --expect-text cannot be "
			    "combined");
			goto done;
		}
		/* "mmpatch 0 t.bin hello", "mmpatch t.bin hello 0" */
		if (strcmp(offstr, "-") != 0 && !app_is_offset(offstr) &&
		    ((app_is_offset(path) && !app_is_file(path) &&
		    app_is_file(offstr)) || (n == 3 &&
		    app_is_offset(ops[2])))) {
			app_misplaced("offset", offstr,
			    "FILE OFFSET [TEXT]");
			goto done;
		}
		if (strcmp(offstr, "-") == 0 && o.from != NULL &&
		    is_stdin(o.from)) {
			app_usage("standard input cannot give both the offsets "
			    "and the data");
			goto done;
		}
	}
	if (o.hex != NULL && app_hex("data", o.hex, 0, &data))
		goto done;
	if (o.from != NULL && app_bytes_file(o.from, &data))
		goto done;
	if (n == 3 && o.script == NULL && mm_bytes_text(ops[2], &data) < 0) {
		app_error("%s", app_strerror(-ENOMEM));
		goto done;
	}
	if (o.expect != NULL && app_hex("--expect", o.expect, 0, &expect))
		goto done;
	if (o.expect_text != NULL && mm_bytes_text(o.expect_text,
	    &expect) < 0) {
		app_error("%s", app_strerror(-ENOMEM));
		goto done;
	}
	p.flags = (o.undo != NULL || o.dry_run || o.verbose ?
	    MM_PATCH_KEEP_OLD : 0) | (o.sync ? MM_PATCH_SYNC : 0) |
	    (o.resume ? MM_PATCH_RESUME : 0);
	if ((st = build(&p, &o, path, offstr, &data, &expect, &src)) != 0)
		goto done;
	st = run(&o, path, &p, &src);
done:
	mm_patch_free(&p);
	mm_bytes_free(&data);
	mm_bytes_free(&expect);
	free(o.hex);
	free(o.from);
	free(o.expect);
	free(o.expect_text);
	free(o.repeat);
	free(o.script);
	free(o.undo);
	free(o.io_s);
	app_popt_free(pc);
	return app_finish(st);
}
