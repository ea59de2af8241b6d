/*
 * find.c - mmfind: find, rfind, find-all and count over files.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "applet.h"
#include "engine/match.h"
#include "engine/scan.h"
#include "findout.h"
#include "findpool.h"
#include "findreplace.h"
#include "findwalk.h"

struct opts {
	struct mm_bytes	*pats;
	size_t		 npats;
	char		*regex;
	int		 icase, reverse, all, overlap, count, quiet;
	int		 files_with, with_name, no_name, progress;
	struct find_span span;		/* --start, --end */
	char		*radix;
	char		*max;
	char		*threads_s;
	int		 threads;
	char		*io_s;
	enum mm_io	 io;
	uint64_t	 maxcount;	/* UINT64_MAX: no limit */
	int		 hex_radix;
	/* What is printed of each match, and of each file. */
	int		 only, hexout, json, line, word, files_without, null;
	char		*after_s, *before_s, *context_s;
	char		**pfrom;	/* --patterns-from, in order */
	size_t		*pfrom_at;	/* how many patterns came before each */
	int		 npfrom;
	int		 hex_given;	/* -x: --patterns-from lines are hex */
	int		 no_pats;	/* patterns came from files, maybe none */
	struct fo_opts	 fo;
	int		 recursive;
	char		*replace, *replace_hex, *undo;
};

/* Per file: what the engine's matches turn into. */
struct out {
	const struct opts	*o;
	const char		*prefix;	/* "FILE:" or "" */
	size_t			 prefix_len;	/* -Z: the ':' is a NUL */
	const char		*name;
	uint64_t		 n;		/* matches so far */
	int			 err;		/* output failed */
	int			 rerr;		/* -errno: reading again failed */
	struct fo_file		 fo;
};

enum { OPT_HEX = 1, OPT_PAT, OPT_FILE, OPT_REGEX, OPT_OVERLAP,
	OPT_RADIX, OPT_PROGRESS, OPT_PFROM };

#define STOP_MAX	1	/* -m reached, or one match was enough */
#define STOP_OUT	2	/* standard output failed */

static int
on_match(void *ctx, uint64_t off, size_t len)
{
	struct out *u = ctx;
	const struct opts *o = u->o;

	int rc, outerr = 0;

	u->n++;
	if (o->quiet || o->files_with || o->files_without)
		return STOP_MAX;
	if (!o->count && (rc = fo_match(&u->fo, off, len, &outerr)) < 0) {
		if (outerr)
			u->err = 1;
		else
			u->rerr = rc;
		return STOP_OUT;
	}
	return u->n >= o->maxcount ? STOP_MAX : 0;
}

/*
 * A run of matches (the zeros of a hole): counted at once when nothing is
 * printed per match.
 */
static int
on_run(void *ctx, uint64_t off, int64_t step, uint64_t n, size_t len)
{
	struct out *u = ctx;
	const struct opts *o = u->o;
	uint64_t i, left;
	int rc;

	if (o->count && !o->quiet && !o->files_with && !o->files_without) {
		left = o->maxcount - u->n;
		u->n += n < left ? n : left;
		return u->n >= o->maxcount ? STOP_MAX : 0;
	}
	for (i = 0; i < n; i++)
		if ((rc = on_match(ctx, off + (uint64_t)step * i, len)) != 0)
			return rc;
	return 0;
}

/* Python slice rules: negative from the end, and not before its start. */
static uint64_t
slice_index(uint64_t v, int neg, uint64_t size)
{
	if (neg && v != 0)
		return v >= size ? 0 : size - v;
	return v;
}

int
find_regex_failed(const char *path, const struct mm_matcher *re, int rc,
    const char *tail)
{
	char msg[256];

	if (rc != -E2BIG || re == NULL)
		return 0;
	if (mm_regex_limit(re->re_err) != NULL)
		return app_error("%s: the regular expression needs too much "
		    "backtracking (PCRE2 %s); simplify it%s", path,
		    mm_regex_limit(re->re_err), tail);
	mm_regex_error(re->re_err, msg, sizeof(msg));
	return app_error("%s: the regex failed at run time: %s%s", path, msg,
	    tail);
}

void
find_span_at(const struct find_span *s, uint64_t size, uint64_t *start,
    uint64_t *end)
{
	*start = s->start != NULL ? slice_index(s->sv, s->sneg, size) : 0;
	*end = s->end != NULL ? slice_index(s->ev, s->eneg, size) : size;
	if (*end > size)
		*end = size;
}

/*
 * Does -r change nothing but the order of what is found, and is nothing
 * listed?  A regex's reverse matches are its forward ones, and so are
 * overlapping ones; a count, -q and -l then need no order, so they scan
 * forwards, keeping no list (backwards a regex needs two passes).
 * Successive rfind of literals is another set, and keeps no list anyway.
 */
static int
same_set(const struct opts *o, const struct mm_matcher *re)
{
	if (!o->count && !o->quiet && !o->files_with && !o->files_without)
		return 0;
	return re != NULL || o->overlap || o->quiet || o->files_with ||
	    o->files_without;
}

/* 0 no match, 1 match, 2 error (message printed), 3 stop everything. */
static int
find_file(const struct opts *o, struct mm_matcher *re, const char *path,
    int show_name)
{
	struct app_progress pg;
	struct mm_scan sc;
	struct mm_file f;
	struct out u;
	const char *name = strcmp(path, "-") == 0 ? "(standard input)" : path;
	char prefix[4096];
	uint64_t start = 0, end = UINT64_MAX;
	int rc, outerr = 0;
	size_t plen;

	if ((rc = mm_open(&f, path, MM_ACCESS_READ, 0)) < 0)
		return app_file_error(path, rc);
	/* The line, context and JSON read a stream's bytes again: kept. */
	if (f.kind == MM_KIND_STREAM && fo_rereads(&o->fo) && !o->count &&
	    !o->quiet && !o->files_with && !o->files_without &&
	    (rc = mm_file_slurp(&f)) < 0) {
		app_file_error(name, rc);
		mm_close(&f);
		return 2;
	}
	if (f.kind != MM_KIND_STREAM) {
		find_span_at(&o->span, (uint64_t)f.size, &start, &end);
	} else {
		/* The engine resolves a stream's negative ends at its end. */
		start = o->span.sv;
		end = o->span.end != NULL ? o->span.ev : UINT64_MAX;
	}

	plen = (size_t)snprintf(prefix, sizeof(prefix), "%s:", name);
	if (plen >= sizeof(prefix))
		plen = sizeof(prefix) - 1;
	if (o->null)
		prefix[plen - 1] = '\0';
	memset(&u, 0, sizeof(u));
	u.o = o;
	u.prefix = show_name ? prefix : "";
	u.prefix_len = show_name ? plen : 0;
	u.name = name;
	fo_begin(&u.fo, &o->fo, name, u.prefix, u.prefix_len, &f, start, end);
	memset(&sc, 0, sizeof(sc));
	sc.pats = o->pats;
	sc.npats = o->npats;
	sc.mflags = o->icase ? MM_MATCHER_ICASE : 0;
	sc.re = re;
	sc.flags = (o->all || o->count ? MM_SCAN_ALL : 0) |
	    (o->overlap ? MM_SCAN_OVERLAP : 0) |
	    (o->reverse && !same_set(o, re) ? MM_SCAN_REVERSE : 0);
	/* Not given: a reader thread may read ahead; no split. */
	sc.threads = o->threads < 0 ? 0 : o->threads;
	sc.io = o->io;
	if (f.kind == MM_KIND_STREAM) {
		sc.sneg = o->span.sneg;
		sc.eneg = o->span.eneg;
	}
	sc.emit = on_match;
	sc.emit_run = on_run;
	sc.ctx = &u;
	sc.view = &u.fo.view;
	app_progress_start(&pg, o->progress, name,
	    f.kind == MM_KIND_STREAM || start > end ? 0 : end - start);
	sc.progress = &pg.mm;

	rc = 0;
	if (o->maxcount > 0 && (start <= end || sc.sneg || sc.eneg) &&
	    (o->npats > 0 || re != NULL))
		rc = mm_scan_file(&sc, &f, start, end);
	app_progress_end(&pg);
	if (rc >= 0 && !u.err && !u.rerr && !o->quiet && !o->count &&
	    !o->files_with && !o->files_without &&
	    (rc = fo_end(&u.fo, &outerr)) < 0) {
		if (outerr)
			u.err = 1;
		else
			u.rerr = rc;
	}
	fo_free(&u.fo);
	if (u.rerr < 0)
		rc = u.rerr;
	if (rc < 0) {
		if (u.err)
			rc = 0;
		else if (!find_regex_failed(name, re, rc, "") &&
		    !app_fault(name, &f, rc, "it was searched"))
			app_file_error(name, rc);
		mm_close(&f);
		return 2;
	}
	mm_close(&f);
	if (u.err)
		return 3;
	if (o->quiet && u.n > 0)
		return 3;
	if (o->files_with || o->files_without) {
		if ((o->files_with ? u.n > 0 : u.n == 0) &&
		    (app_write(name, strlen(name)) < 0 ||
		    app_write(o->null ? "" : "\n", 1) < 0))
			return 3;
	} else if (o->count) {
		if (app_write(u.prefix, u.prefix_len) < 0 ||
		    app_printf("%" PRIu64 "\n", u.n) < 0)
			return 3;
	}
	return u.n > 0;
}

static int
add_pattern(struct opts *o, int kind, const char *arg)
{
	struct mm_bytes *p;
	int rc;

	p = realloc(o->pats, (o->npats + 1) * sizeof(*o->pats));
	if (p == NULL)
		return app_error("%s", strerror(ENOMEM));
	o->pats = p;
	p = &o->pats[o->npats];
	if (kind == OPT_HEX)
		rc = app_hex("pattern", arg, 1, p);
	else if (kind == OPT_FILE)
		rc = app_bytes_file(arg, p);
	else
		rc = mm_bytes_text(arg, p) < 0 ?
		    app_error("%s", strerror(ENOMEM)) : 0;
	if (rc == 0)
		o->npats++;
	return rc;
}

static int
on_opt(poptContext pc, int val, void *ctx)
{
	struct opts *o = ctx;
	char *arg = poptGetOptArg(pc);
	void *p;
	int rc = 0;

	switch (val) {
	case OPT_HEX:
		o->hex_given = 1;
		/* FALLTHROUGH */
	case OPT_PAT:
	case OPT_FILE:
		rc = add_pattern(o, val, arg);
		break;
	case OPT_PFROM:
		p = realloc(o->pfrom, (size_t)(o->npfrom + 1) *
		    sizeof(*o->pfrom));
		if (p == NULL)
			return app_error("%s", strerror(ENOMEM));
		o->pfrom = p;
		p = realloc(o->pfrom_at, (size_t)(o->npfrom + 1) *
		    sizeof(*o->pfrom_at));
		if (p == NULL)
			return app_error("%s", strerror(ENOMEM));
		o->pfrom_at = p;
		o->pfrom_at[o->npfrom] = o->npats;
		o->pfrom[o->npfrom++] = arg;
		arg = NULL;
		break;
	case OPT_REGEX:
		if (o->regex != NULL)
			rc = app_usage("only one --regex may be given");
		else {
			o->regex = arg;
			arg = NULL;
		}
		break;
	}
	free(arg);
	return rc;
}

/*
 * --patterns-from=FILE: one pattern a line, as grep -f reads them (a
 * last line without '\n' counts; an empty file gives none); hex lines
 * when -x was given.
 */
static int
patterns_from(struct opts *o, const char *path, size_t place)
{
	struct mm_bytes all, *tmp;
	size_t i, at, first = o->npats, lineno = 0;
	char *line;
	int rc = 0;

	if (app_bytes_file(path, &all) != 0)
		return EXIT_FAIL;
	for (at = 0; at < all.len && rc == 0; at = i + 1) {
		const unsigned char *nl = memchr(all.data + at, '\n',
		    all.len - at);
		struct mm_bytes b;
		char what[4096 + 64];

		i = nl != NULL ? (size_t)(nl - all.data) : all.len;
		lineno++;
		memset(&b, 0, sizeof(b));
		if (!o->hex_given) {
			/* The bytes as they are, NULs and all. */
			b.len = i - at;
			if ((b.data = malloc(b.len + 1)) == NULL) {
				rc = app_error("%s", strerror(ENOMEM));
				break;
			}
			memcpy(b.data, all.data + at, b.len);
		} else {
			if ((line = strndup((const char *)all.data + at,
			    i - at)) == NULL) {
				rc = app_error("%s", strerror(ENOMEM));
				break;
			}
			snprintf(what, sizeof(what), "pattern of %s:%zu",
			    path, lineno);
			rc = app_hex(what, line, 1, &b);
			free(line);
			if (rc != 0)
				break;
		}
		if ((tmp = realloc(o->pats, (o->npats + 1) *
		    sizeof(*o->pats))) == NULL) {
			mm_bytes_free(&b);
			rc = app_error("%s", strerror(ENOMEM));
			break;
		}
		o->pats = tmp;
		o->pats[o->npats++] = b;
	}
	mm_bytes_free(&all);
	/* In their place among the -e, -x and -f patterns. */
	if (rc == 0 && place < first && o->npats > first) {
		size_t k = o->npats - first;

		if ((tmp = malloc(k * sizeof(*tmp))) == NULL)
			return app_error("%s", strerror(ENOMEM));
		memcpy(tmp, o->pats + first, k * sizeof(*tmp));
		memmove(o->pats + place + k, o->pats + place,
		    (first - place) * sizeof(*tmp));
		memcpy(o->pats + place, tmp, k * sizeof(*tmp));
		free(tmp);
	}
	return rc;
}

/* A byte of a literal as a regex atom. */
static size_t
re_byte(const struct mm_bytes *b, size_t i, char *out)
{
	if (b->mask != NULL && b->mask[i] == 0)
		return (size_t)sprintf(out, "[\\x00-\\xff]");
	return (size_t)sprintf(out, "\\x%02x", b->data[i]);
}

static int
longer_first(const void *a, const void *b)
{
	const struct mm_bytes *x = *(const struct mm_bytes *const *)a;
	const struct mm_bytes *y = *(const struct mm_bytes *const *)b;

	if (x->len != y->len)
		return x->len > y->len ? -1 : 1;
	return x < y ? -1 : x > y;
}

/*
 * -w as a regex: the literals (longest first, so that the longest word
 * at an offset wins as a set's longest match does) or the regex RE,
 * between lookarounds that want no word byte next to the match.
 */
static char *
word_regex(const struct opts *o, const char *re)
{
	static const char pre[] = "(?<![A-Za-z0-9_])(?:";
	static const char post[] = ")(?![A-Za-z0-9_])";
	const struct mm_bytes **v;
	size_t n = sizeof(pre) + sizeof(post), i, k;
	char *s, *q;

	if (re != NULL) {
		n += strlen(re);
		if ((s = malloc(n)) != NULL)
			snprintf(s, n, "%s%s%s", pre, re, post);
		return s;
	}
	if ((v = calloc(o->npats + 1, sizeof(*v))) == NULL)
		return NULL;
	for (i = 0; i < o->npats; i++) {
		v[i] = &o->pats[i];
		n += 12 * o->pats[i].len + 1;
	}
	qsort(v, o->npats, sizeof(*v), longer_first);
	if ((s = malloc(n)) != NULL) {
		q = s + sprintf(s, "%s", pre);
		for (i = 0; i < o->npats; i++) {
			if (i > 0)
				*q++ = '|';
			for (k = 0; k < v[i]->len; k++)
				q += re_byte(v[i], k, q);
		}
		strcpy(q, post);
	}
	free(v);
	return s;
}

static int
online_cpus(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n > 0 ? (int)(n > 256 ? 256 : n) : 1;
}

/* What is printed of each match: one form at most. */
static int
check_forms(struct opts *o)
{
	struct fo_opts *f = &o->fo;
	uint64_t a = 0, b = 0, c = 0;

	if ((o->after_s && app_size("context", o->after_s, &a)) ||
	    (o->before_s && app_size("context", o->before_s, &b)) ||
	    (o->context_s && app_size("context", o->context_s, &c)))
		return EXIT_FAIL;
	if (o->only + o->line + o->json +
	    (o->after_s || o->before_s || o->context_s) > 1)
		return app_usage("only one of --only-matching, --line, --json "
		    "and -A/-B/-C may be given");
	if (o->hexout && !o->only && !o->json)
		return app_usage("--hex-output needs --only-matching or "
		    "--json");
	if (o->files_with && o->files_without)
		return app_usage("--files-with-matches and "
		    "--files-without-match cannot be combined");
	f->form = o->only ? FO_ONLY : o->line ? FO_LINE : o->json ? FO_JSON :
	    o->after_s || o->before_s || o->context_s ? FO_CONTEXT :
	    FO_OFFSET;
	f->hex = o->hexout;
	f->hex_radix = o->hex_radix;
	f->before = o->before_s ? b : c;
	f->after = o->after_s ? a : c;
	f->icase = o->icase;
	return 0;
}

static int
check_opts(struct opts *o)
{
	if (o->span.start != NULL && app_offset("start", o->span.start,
	    &o->span.sv, &o->span.sneg))
		return EXIT_FAIL;
	if (o->span.end != NULL && app_offset("end", o->span.end,
	    &o->span.ev, &o->span.eneg))
		return EXIT_FAIL;
	o->maxcount = UINT64_MAX;
	if (o->max != NULL && app_size("max count", o->max, &o->maxcount))
		return EXIT_FAIL;
	if (o->radix != NULL) {
		if (strcmp(o->radix, "d") == 0)
			o->hex_radix = 0;
		else if (strcmp(o->radix, "x") == 0)
			o->hex_radix = 1;
		else
			return app_usage("--radix must be d or x, not '%s'",
			    o->radix);
	}
	if (o->threads_s != NULL) {
		const char *p = o->threads_s;

		/* Plain digits: no sign, no blank, not empty (strtol takes all). */
		if (*p == '\0' || strspn(p, "0123456789") != strlen(p) ||
		    strlen(p) > 3 || atoi(p) > 256)
			return app_usage("--threads must be a number between 0 "
			    "and 256, not '%s'", o->threads_s);
		o->threads = atoi(p);
	}
	if (app_io(o->io_s, &o->io) != 0)
		return EXIT_FAIL;
	if (o->threads == 0)
		o->threads = online_cpus();
	if (check_forms(o) != 0)
		return EXIT_FAIL;
	if (o->regex != NULL && o->npats > 0)
		return app_usage("--regex cannot be combined with --hex, "
		    "--pattern or --from-file");
	if (o->overlap && !o->all && !o->count && o->replace == NULL &&
	    o->replace_hex == NULL)
		return app_usage("--overlap needs --all or --count");
	/* A replacement prints nothing per match: no form of one. */
	if ((o->replace != NULL || o->replace_hex != NULL) &&
	    (o->fo.form != FO_OFFSET || o->files_without))
		return app_usage("--replace cannot be combined with %s (it "
		    "replaces every match; -c counts them, -l names the "
		    "files)", o->fo.form == FO_ONLY ? "--only-matching" :
		    o->fo.form == FO_LINE ? "--line" :
		    o->fo.form == FO_JSON ? "--json" :
		    o->fo.form == FO_CONTEXT ? "context (-A/-B/-C)" :
		    "--files-without-match");
	return 0;
}

/* --replace's options from mmfind's, checked; 0 or EXIT_FAIL. */
static int
replace_opts(struct replace *r, const struct opts *o, struct mm_matcher *re)
{
	if (o->replace == NULL && o->replace_hex == NULL) {
		if (o->undo != NULL || app_opts.dry_run || app_opts.sync ||
		    app_opts.no_lock)
			return app_usage("--%s needs --replace or "
			    "--replace-hex", o->undo != NULL ? "undo" :
			    app_opts.dry_run ? "dry-run" : app_opts.sync ?
			    "sync" : "no-lock");
		return 0;
	}
	r->pats = o->pats;
	r->npats = o->npats;
	r->icase = o->icase;
	r->re = re;
	r->span = &o->span;
	r->maxcount = o->maxcount;
	r->io = o->io;
	r->text = o->replace;
	r->hex = o->replace_hex;
	r->undo = o->undo;
	r->count = o->count;
	r->files_with = o->files_with;
	r->quiet = o->quiet;
	r->reverse = o->reverse;
	r->overlap = o->overlap;
	return find_replace_check(r);
}

static const char *usage_ops =
    "[OPTION]... PATTERN [FILE]...\n"
    "   or: mmfind [OPTION]... -x HEX|-e TEXT|-f FILE|-P RE [FILE]...";

int
find_main(int argc, const char **argv)
{
	struct opts o;
	struct poptOption table[] = {
		{ "hex", 'x', POPT_ARG_STRING, NULL, OPT_HEX,
		    "a pattern in hex; ?? matches any byte", "HEX" },
		{ "pattern", 'e', POPT_ARG_STRING, NULL, OPT_PAT,
		    "a pattern (repeatable: a match of any counts)", "TEXT" },
		{ "from-file", 'f', POPT_ARG_STRING, NULL, OPT_FILE,
		    "the whole content of FILE is a pattern", "FILE" },
		{ "regex", 'P', POPT_ARG_STRING, NULL, OPT_REGEX,
		    "a Perl-compatible regular expression over the bytes",
		    "RE" },
		{ "ignore-case", 'i', POPT_ARG_NONE, &o.icase, 0,
		    "ASCII letters match either case", NULL },
		{ "start", 's', POPT_ARG_STRING, &o.span.start, 0,
		    "search from OFFSET (negative: from the end)", "OFFSET" },
		{ "end", 'E', POPT_ARG_STRING, &o.span.end, 0,
		    "search up to OFFSET; matches lie wholly before it",
		    "OFFSET" },
		{ "reverse", 'r', POPT_ARG_NONE, &o.reverse, 0,
		    "the last match (rfind); with -a, from the end backwards",
		    NULL },
		{ "all", 'a', POPT_ARG_NONE, &o.all, 0,
		    "every match, one per line, non-overlapping", NULL },
		{ "overlap", '\0', POPT_ARG_NONE, &o.overlap, 0,
		    "with -a or -c: matches may overlap", NULL },
		{ "count", 'c', POPT_ARG_NONE, &o.count, 0,
		    "print the number of matches", NULL },
		{ "max-count", 'm', POPT_ARG_STRING, &o.max, 0,
		    "stop after N matches (per file)", "N" },
		{ "quiet", 'q', POPT_ARG_NONE, &o.quiet, 0,
		    "print nothing; the exit status tells", NULL },
		{ "files-with-matches", 'l', POPT_ARG_NONE, &o.files_with, 0,
		    "print the names of files that match", NULL },
		{ "with-filename", 'H', POPT_ARG_NONE, &o.with_name, 0,
		    "prefix each line with FILE:", NULL },
		{ "no-filename", 'h', POPT_ARG_NONE, &o.no_name, 0,
		    "never prefix lines with FILE:", NULL },
		{ "radix", '\0', POPT_ARG_STRING, &o.radix, 0,
		    "offsets in decimal (d, the default) or 0x hex (x)",
		    "d|x" },
		{ "threads", 'j', POPT_ARG_STRING, &o.threads_s, 0,
		    "threads: one FILE is split between them, several FILEs "
		    "are searched N at once (0: one per CPU, the default with "
		    "several FILEs)", "N" },
		{ "io", '\0', POPT_ARG_STRING, &o.io_s, 0,
		    "read files through a mapping (mmap), with read(), or "
		    "the faster for each file (auto, the default)",
		    "auto|mmap|read" },
		{ "only-matching", 'o', POPT_ARG_NONE, &o.only, 0,
		    "print each match as OFFSET:BYTES (C escapes)", NULL },
		{ "hex-output", 'X', POPT_ARG_NONE, &o.hexout, 0,
		    "with -o or --json: the matched bytes in hex", NULL },
		{ "json", '\0', POPT_ARG_NONE, &o.json, 0,
		    "JSON Lines in ripgrep's --json schema", NULL },
		{ "after-context", 'A', POPT_ARG_STRING, &o.after_s, 0,
		    "N bytes after each match, as hexdump -C", "N" },
		{ "before-context", 'B', POPT_ARG_STRING, &o.before_s, 0,
		    "N bytes before each match, as hexdump -C", "N" },
		{ "context", 'C', POPT_ARG_STRING, &o.context_s, 0,
		    "N bytes around each match, as hexdump -C", "N" },
		{ "line", '\0', POPT_ARG_NONE, &o.line, 0,
		    "print the line holding each match, as OFFSET:LINE", NULL },
		{ "word-regexp", 'w', POPT_ARG_NONE, &o.word, 0,
		    "a match must not touch a word byte [A-Za-z0-9_]", NULL },
		{ "files-without-match", 'L', POPT_ARG_NONE, &o.files_without,
		    0, "print the names of files that do not match", NULL },
		{ "null", 'Z', POPT_ARG_NONE, &o.null, 0,
		    "end file names with NUL (-l, -L, -H)", NULL },
		{ "patterns-from", '\0', POPT_ARG_STRING, NULL, OPT_PFROM,
		    "one pattern a line (hex lines with -x)", "FILE" },
		{ "progress", '\0', POPT_ARG_NONE, &o.progress, 0,
		    "show progress on standard error (a terminal; not while "
		    "several files are searched at once)", NULL },
		{ "recursive", 'R', POPT_ARG_NONE, &o.recursive, 0,
		    "search the files below each directory FILE (no FILE: "
		    "the current directory), in path order; symbolic links "
		    "below it are not followed", NULL },
		{ "replace", '\0', POPT_ARG_STRING, &o.replace, 0,
		    "replace every match in place with TEXT, of the same "
		    "length, as one all-or-nothing batch", "TEXT" },
		{ "replace-hex", '\0', POPT_ARG_STRING, &o.replace_hex, 0,
		    "the same, with the bytes of HEX", "HEX" },
		{ "dry-run", '\0', POPT_ARG_NONE, &app_opts.dry_run, 0,
		    "with --replace: print 'OFFSET: OLDHEX -> NEWHEX' per "
		    "match, change nothing", NULL },
		{ "undo", '\0', POPT_ARG_STRING, &o.undo, 0,
		    "with --replace: first save an mmpatch script that undoes "
		    "it in UNDO, a new file", "UNDO" },
		{ "sync", '\0', POPT_ARG_NONE, &app_opts.sync, 0,
		    "with --replace: flush the written pages to storage "
		    "before exit", NULL },
		{ "no-lock", '\0', POPT_ARG_NONE, &app_opts.no_lock, 0,
		    "with --replace: do not take the exclusive lock (flock)",
		    NULL },
		APP_COMMON_OPTIONS
		POPT_TABLEEND
	};
	struct mm_matcher re;
	struct timespec t0;
	char *wre = NULL;
	struct replace rp;
	struct walk w;
	poptContext pc;
	const char **ops;
	const char *stdin_only[] = { "-", NULL }, *dot[] = { ".", NULL };
	struct opts po;
	struct job *jobs = NULL;
	int n, i, st, show, any = 0, failed = 0, have_re = 0;
	int nthreads, last, detached = 0, outfail = 0;
	size_t n0;

	memset(&o, 0, sizeof(o));
	memset(&re, 0, sizeof(re));
	memset(&rp, 0, sizeof(rp));
	memset(&w, 0, sizeof(w));
	o.threads = -1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if ((st = app_args(&pc, argc, argv, table, usage_ops, on_opt, &o,
	    &ops, &n)) != 0 || (st = check_opts(&o)) != 0)
		goto done;
	/* From the last, so that the places of the earlier ones hold. */
	for (i = o.npfrom - 1; i >= 0; i--) {
		if (o.regex != NULL) {
			st = app_usage("--regex cannot be combined with "
			    "--patterns-from");
			goto done;
		}
		if ((st = patterns_from(&o, o.pfrom[i], o.pfrom_at[i])) != 0)
			goto done;
		o.no_pats = 1;
	}
	if (o.npats == 0 && o.regex == NULL && !o.no_pats) {
		if ((st = app_operands(ops, n, "PATTERN", INT_MAX)) != 0)
			goto done;
		if ((st = add_pattern(&o, OPT_PAT, ops[0])) != 0)
			goto done;
		ops++;
		n--;
	}
	o.fo.pats = o.pats;
	o.fo.npats = o.npats;
	/* -w: literals and regex alike become a regex with lookarounds. */
	if (o.word && (o.regex != NULL || o.npats > 0)) {
		if ((wre = word_regex(&o, o.regex)) == NULL) {
			st = app_error("%s", strerror(ENOMEM));
			goto done;
		}
		if (mm_matcher_regex(&re, wre, o.icase ? MM_MATCHER_ICASE : 0,
		    &i, &n0) < 0) {
			char msg[256];

			mm_regex_error(i, msg, sizeof(msg));
			if (o.regex != NULL)
				st = app_error("invalid regex '%s' with -w: %s",
				    o.regex, msg);
			else
				st = app_error("-w searches the %zu patterns as "
				    "one regex, which PCRE2 refuses: %s",
				    o.npats, msg);
			goto done;
		}
		have_re = 1;
		o.npats = 0;
	} else if (o.regex != NULL) {
		int ec;
		size_t eo;
		char msg[256];

		if (mm_matcher_regex(&re, o.regex,
		    o.icase ? MM_MATCHER_ICASE : 0, &ec, &eo) < 0) {
			mm_regex_error(ec, msg, sizeof(msg));
			st = app_error("invalid regex '%s' at offset %zu: %s",
			    o.regex, eo, msg);
			goto done;
		}
		have_re = 1;
	}
	if ((st = replace_opts(&rp, &o, have_re ? &re : NULL)) != 0)
		goto done;
	/* -R without FILE: the current directory, as grep -r. */
	if (o.recursive) {
		if ((st = find_walk(&w, n > 0 ? ops : dot, n > 0 ? n : 1,
		    n == 0)) != 0)
			goto done;
		ops = w.paths;
		n = (int)w.n;
	} else if (n == 0) {
		ops = stdin_only;
		n = 1;
	}
	show = o.with_name || ((n > 1 || w.walked) && !o.no_name);
	if (o.no_name)
		show = 0;
	if (rp.with.len > 0) {
		st = find_replace_files(&rp, ops, n, show);
		if (w.failed && st < 128)
			st = EXIT_FAIL;
		goto done;
	}
	failed = w.failed;
	/* Several files: -j is how many are searched at once. */
	nthreads = n > 1 && o.threads_s == NULL ? online_cpus() : o.threads;
	if (nthreads > n)
		nthreads = n;
	last = -1;
	if (n > 1 && nthreads > 1) {
		po = o;
		po.threads = 1;
		po.progress = 0;
		last = find_parallel(find_file, &po, have_re ? &re : NULL, ops,
		    w.regular, n, show, nthreads, &jobs, &detached);
	}
	for (i = 0; i < n; i++) {
		int r;

		if (last >= 0 && i > last)
			break;
		r = last >= 0 ? jobs[i].r :
		    find_file(&o, have_re ? &re : NULL, ops[i], show);
		if (r == 3) {
			any = o.quiet ? 1 : any;
			if (!o.quiet)
				failed = outfail = 1;
			break;
		}
		if (r == 2)
			failed = 1;
		else if (r == 1)
			any = 1;
	}
	if (o.json && !o.quiet && !o.count && !o.files_with &&
	    !o.files_without && !outfail && fo_summary(&t0) < 0)
		failed = 1;
	if (o.quiet && any)
		st = EXIT_OK;
	else
		st = failed ? EXIT_FAIL : any ? EXIT_OK : EXIT_NO;
	/*
	 * Workers still search files past the one that ended it all (-q
	 * matched, or output failed): exit now, as one thread would have,
	 * with what they use still in place.
	 */
	if (detached)
		exit(app_finish(st));
	/* What files past the answer held (messages of a -q run) goes too. */
	find_jobs_free(jobs, n);
done:
	if (have_re)
		mm_matcher_free(&re);
	for (i = 0; i < (int)o.fo.npats; i++)
		mm_bytes_free(&o.pats[i]);
	if (o.fo.pats == NULL)
		for (i = 0; i < (int)o.npats; i++)
			mm_bytes_free(&o.pats[i]);
	for (i = 0; i < o.npfrom; i++)
		free(o.pfrom[i]);
	free(o.pfrom);
	free(o.pfrom_at);
	free(wre);
	free(o.after_s);
	free(o.before_s);
	free(o.context_s);
	free(o.pats);
	free(o.regex);
	free(o.span.start);
	free(o.span.end);
	free(o.radix);
	free(o.max);
	free(o.threads_s);
	free(o.io_s);
	free(o.replace);
	free(o.replace_hex);
	free(o.undo);
	find_replace_free(&rp);
	find_walk_free(&w);
	app_popt_free(pc);
	return app_finish(st);
}
