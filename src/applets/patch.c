/*
 * patch.c - mmpatch: write bytes into a file in place (write, write_byte,
 * slice assignment), one edit or a batch that applies whole or not at all.
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

static const char *usage_ops = "[OPTION]... FILE OFFSET [TEXT]\n"
    "   or: mmpatch [OPTION]... --script=SCRIPT FILE";

struct opts {
	char	*hex, *from, *expect, *expect_text, *repeat, *script, *undo;
	char	*io_s;
	int	 resume;
};

static const char *
src_name(const char *path)
{
	return strcmp(path, "-") == 0 ? "standard input" : path;
}

/* Build the edit list from the command line, standard input or a script. */
static int
build(struct mm_patch *p, const struct opts *o, const char *path,
    const char *offstr, struct mm_bytes *data, struct mm_bytes *expect,
    struct batch *b)
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
		b->src = src_name(o->script);
		rc = mm_patch_parse_script(p, in.data, in.len);
		mm_bytes_free(&in);
		return rc < 0 ? batch_parse_message(p, b) : 0;
	}
	t.data = data->data;
	t.len = data->len;
	t.repeat = repeat;
	t.expect = expect->data;
	t.explen = expect->len;
	if (strcmp(offstr, "-") == 0) {
		if ((rc = mm_bytes_file("-", &in)) < 0)
			return app_file_error("standard input", rc);
		b->src = "standard input";
		rc = mm_patch_parse_offsets(p, in.data, in.len, path, &t);
		mm_bytes_free(&in);
		return rc < 0 ? batch_parse_message(p, b) : 0;
	}
	if (app_offset("offset", offstr, &t.mag, &t.neg))
		return EXIT_FAIL;
	t.tok = offstr;
	if (mm_patch_add(p, &t) < 0)
		return batch_parse_message(p, b);
	return 0;
}

static int
run(const struct opts *o, const char *path, struct mm_patch *p,
    struct batch *b)
{
	struct app_change c;
	int st;

	if (app_change_open(&c, path) != 0)
		return EXIT_FAIL;
	b->path = path;
	b->undo = o->undo;
	b->prefix = "";
	b->dry_run = app_opts.dry_run;
	b->verbose = app_opts.verbose;
	st = batch_run(b, &c.f, p);
	mm_patch_free(p);
	return app_change_close(&c, st);
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
		APP_CHANGE_OPTIONS(APP_SYNC | APP_NO_LOCK | APP_DRY_RUN |
		    APP_VERBOSE)
		{ "io", '\0', POPT_ARG_STRING, &o.io_s, 0,
		    "write through a mapping (mmap), with pwrite (read), or "
		    "whichever costs the batch less (auto, the default)",
		    "auto|mmap|read" },
		APP_COMMON_OPTIONS
		POPT_TABLEEND
	};
	struct mm_bytes data, expect;
	struct mm_patch p;
	struct batch b;
	poptContext pc;
	const char **ops, *path, *offstr = NULL;
	int n, st, sources;

	memset(&o, 0, sizeof(o));
	memset(&data, 0, sizeof(data));
	memset(&expect, 0, sizeof(expect));
	memset(&b, 0, sizeof(b));
	mm_patch_init(&p, 0);
	if ((st = app_args(&pc, argc, argv, table, usage_ops, NULL, NULL,
	    &ops, &n)) != 0)
		goto done;
	st = EXIT_FAIL;
	if (app_io(o.io_s, &p.io) != 0)
		goto done;
	if (o.script != NULL && n > 1) {
		app_usage("extra operand '%s' (--script gives the offsets and "
		    "the data)", ops[1]);
		goto done;
	}
	if (app_operands(ops, n, o.script != NULL ? "FILE" : "FILE OFFSET",
	    3) != 0)
		goto done;
	path = ops[0];
	if (o.script != NULL) {
		if (o.hex || o.from || o.expect || o.expect_text || o.repeat) {
			app_usage("--script cannot be combined with -x, -f, "
			    "--expect, --expect-text or --repeat");
			goto done;
		}
	} else {
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
		    app_is_stdin(o.from)) {
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
	p.flags = (o.undo != NULL || app_opts.dry_run || app_opts.verbose ?
	    MM_PATCH_KEEP_OLD : 0) | (app_opts.sync ? MM_PATCH_SYNC : 0) |
	    (o.resume ? MM_PATCH_RESUME : 0);
	b.path = path;
	if ((st = build(&p, &o, path, offstr, &data, &expect, &b)) != 0)
		goto done;
	st = run(&o, path, &p, &b);
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
