/*
 * applet.c - the user-facing half shared by every applet: messages, popt,
 * operand parsing and checked standard output.
 */
#include "config.h"

#include <sys/mman.h>
#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "applet.h"
#include "engine/flush.h"

const char *app_name = PACKAGE;

static int out_errno;		/* first error writing standard output */

/* Where this thread's output goes instead, while app_capture says so. */
static __thread app_sink_fn sink;
static __thread void *sink_ctx;

void
app_capture(app_sink_fn fn, void *ctx)
{
	sink = fn;
	sink_ctx = ctx;
}

/* FMT with AP, into BUF of LEN bytes or else a malloc'd copy; or NULL. */
static char *
vformat(char *buf, size_t len, size_t *n, const char *fmt, va_list ap)
{
	va_list aq;
	char *p;
	int r;

	va_copy(aq, ap);
	r = vsnprintf(buf, len, fmt, aq);
	va_end(aq);
	if (r < 0)
		return NULL;
	*n = (size_t)r;
	if ((size_t)r < len)
		return buf;
	if ((p = malloc((size_t)r + 1)) != NULL)
		vsnprintf(p, (size_t)r + 1, fmt, ap);
	return p;
}

static void
vmessage(const char *fmt, va_list ap)
{
	if (sink != NULL) {
		char buf[512], *p;
		size_t n;

		if ((p = vformat(buf, sizeof(buf), &n, fmt, ap)) == NULL)
			return;
		sink(sink_ctx, 2, app_name, strlen(app_name));
		sink(sink_ctx, 2, ": ", 2);
		sink(sink_ctx, 2, p, n);
		sink(sink_ctx, 2, "\n", 1);
		if (p != buf)
			free(p);
		return;
	}
	fflush(stdout);
	fprintf(stderr, "%s: ", app_name);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

int
app_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmessage(fmt, ap);
	va_end(ap);
	return EXIT_FAIL;
}

const char *
app_strerror(int err)
{
	switch (err) {
	case -EISDIR:
		return "is a directory";
	case -ENODEV:
		return "cannot be mapped (a pipe, FIFO, character device or /proc file)";
	case -EIO:
		return "I/O error (or the file shrank while mapped)";
	case -EFBIG:
		/* Mostly ulimit -f: "File too large" would blame the file. */
		return "file size limit exceeded";
	default:
		return strerror(err < 0 ? -err : err);
	}
}

int
app_grow(void *pp, size_t *cap, size_t need, size_t size, size_t first)
{
	void *p, *q;
	size_t n;

	if (need <= *cap)
		return 0;
	for (n = *cap > 0 ? *cap : first; n < need; n *= 2)
		if (n > SIZE_MAX / 2 / size)
			return -ENOMEM;
	/* *PP is some T *: copied, not read through a void **. */
	memcpy(&p, pp, sizeof(p));
	if ((q = realloc(p, n * size)) == NULL)
		return -ENOMEM;
	memcpy(pp, &q, sizeof(q));
	*cap = n;
	return 0;
}

const char *
app_s(uintmax_t n)
{
	return n == 1 ? "" : "s";
}

int
app_file_error(const char *file, int err)
{
	return app_error("%s: %s", file, app_strerror(err));
}

int
app_usage(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmessage(fmt, ap);
	va_end(ap);
	fprintf(stderr, "Try '%s --help' for more information.\n", app_name);
	return EXIT_FAIL;
}

static void
version_cb(poptContext pc, enum poptCallbackReason reason,
    const struct poptOption *opt, const char *arg, void *data)
{
	(void)pc;
	(void)reason;
	(void)opt;
	(void)arg;
	(void)data;
	app_printf("%s (%s) %s\n", app_name, PACKAGE, PACKAGE_VERSION);
	exit(app_finish(EXIT_OK));
}

struct poptOption app_common_options[] = {
	{ NULL, '\0', POPT_ARG_CALLBACK, (void *)version_cb, 0, NULL, NULL },
	{ "version", 'V', POPT_ARG_NONE, NULL, 0,
	    "print the version and exit", NULL },
	POPT_TABLEEND
};

/* Find an option by long or short name, looking into included tables. */
static const struct poptOption *
find_opt(const struct poptOption *o, const char *lname, size_t llen, int sname)
{
	const struct poptOption *r;

	for (; o->longName != NULL || o->shortName != '\0' ||
	    o->arg != NULL; o++) {
		unsigned int type = o->argInfo & POPT_ARG_MASK;

		if (type == POPT_ARG_INCLUDE_TABLE) {
			if ((r = find_opt(o->arg, lname, llen, sname)) != NULL)
				return r;
			continue;
		}
		if (type == POPT_ARG_CALLBACK)
			continue;
		if (lname != NULL && o->longName != NULL &&
		    strlen(o->longName) == llen &&
		    strncmp(o->longName, lname, llen) == 0)
			return o;
		if (lname == NULL && sname != '\0' && o->shortName == sname)
			return o;
	}
	return NULL;
}

static int
takes_arg(const struct poptOption *o)
{
	unsigned int type;

	if (o == NULL)
		return 0;
	type = o->argInfo & POPT_ARG_MASK;
	return type != POPT_ARG_NONE && type != POPT_ARG_VAL &&
	    !(o->argInfo & POPT_ARGFLAG_OPTIONAL);
}

static int
looks_negative(const char *s)
{
	return s[0] == '-' && isdigit((unsigned char)s[1]);
}

/*
 * Rewrite ARGV as options first, then "--", then the operands in their
 * order, so that popt never reads "-4" as an option.  Only done when such
 * an operand exists, to leave everything else to popt untouched.
 */
static const char **
reorder(int argc, const char **argv, const struct poptOption *opts, int *outc)
{
	const char **out, **ops;
	int i, j, no = 1, nops = 0, any = 0, after_dd = 0;

	for (i = 1; i < argc; i++)
		if (looks_negative(argv[i]))
			any = 1;
	if (!any)
		return NULL;
	out = calloc((size_t)argc + 2, sizeof(*out));
	ops = calloc((size_t)argc + 1, sizeof(*ops));
	if (out == NULL || ops == NULL) {
		free(out);
		free(ops);
		return NULL;
	}
	out[0] = argv[0];
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (after_dd || a[0] != '-' || a[1] == '\0' ||
		    looks_negative(a)) {
			ops[nops++] = a;
		} else if (strcmp(a, "--") == 0) {
			after_dd = 1;
		} else if (a[1] == '-') {
			const char *eq = strchr(a + 2, '=');
			size_t len = eq ? (size_t)(eq - a - 2) : strlen(a + 2);

			out[no++] = a;
			if (eq == NULL && i + 1 < argc &&
			    takes_arg(find_opt(opts, a + 2, len, 0)))
				out[no++] = argv[++i];
		} else {
			out[no++] = a;
			for (j = 1; a[j] != '\0'; j++) {
				if (!takes_arg(find_opt(opts, NULL, 0, a[j])))
					continue;
				if (a[j + 1] == '\0' && i + 1 < argc)
					out[no++] = argv[++i];
				break;
			}
		}
	}
	out[no++] = "--";
	for (i = 0; i < nops; i++)
		out[no++] = ops[i];
	out[no] = NULL;
	free(ops);
	*outc = no;
	return out;
}

/* The reordered argv, which lives as long as the popt context. */
static const char **moved;
/* The applet's option table, for suggestions after a mistyped option. */
static const struct poptOption *table;

static poptContext
app_popt(int argc, const char **argv, const struct poptOption *opts,
    const char *operands)
{
	poptContext pc;
	int n;

	table = opts;
	if ((moved = reorder(argc, argv, opts, &n)) != NULL) {
		argc = n;
		argv = moved;
	}
	pc = poptGetContext(app_name, argc, argv, opts, 0);
	if (pc == NULL) {
		app_error("cannot parse the command line");
		return NULL;
	}
	poptSetOtherOptionHelp(pc, operands);
	poptReadDefaultConfig(pc, 0);
	return pc;
}

void
app_popt_free(poptContext pc)
{
	if (pc != NULL)
		poptFreeContext(pc);
	free(moved);
	moved = NULL;
}

/*
 * The edit distance of A and B, a swap of two neighbours counting as one
 * edit ("--hepl" is one from "--help"); B at most 64 bytes.
 */
static size_t
distance(const char *a, const char *b)
{
	size_t rows[3][65], *two, *prev, *cur, *t, i, j, d;
	size_t la = strlen(a), lb = strlen(b);

	if (lb > 64)
		return (size_t)-1;
	two = rows[0];
	prev = rows[1];
	cur = rows[2];
	for (j = 0; j <= lb; j++)
		prev[j] = j;
	for (i = 1; i <= la; i++) {
		cur[0] = i;
		for (j = 1; j <= lb; j++) {
			d = prev[j - 1] + (a[i - 1] != b[j - 1]);
			if (prev[j] + 1 < d)
				d = prev[j] + 1;
			if (cur[j - 1] + 1 < d)
				d = cur[j - 1] + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] &&
			    a[i - 2] == b[j - 1] && two[j - 2] + 1 < d)
				d = two[j - 2] + 1;
			cur[j] = d;
		}
		t = two;
		two = prev;
		prev = cur;
		cur = t;
	}
	return prev[lb];
}

struct guess {
	const char	*bad;		/* without "--" and "=VALUE" */
	size_t		 badlen;
	const char	*prefixed;	/* the one option BAD begins, if one */
	int		 prefixes;
	const char	*near;		/* the nearest option, if one */
	size_t		 dist;
	int		 ties;
};

/* Weigh every long option of O, and of the tables it includes. */
static void
weigh(const struct poptOption *o, struct guess *g)
{
	char bad[65];
	size_t d;

	for (; o->longName != NULL || o->shortName != '\0' ||
	    o->arg != NULL; o++) {
		unsigned int type = o->argInfo & POPT_ARG_MASK;

		if (type == POPT_ARG_INCLUDE_TABLE) {
			weigh(o->arg, g);
			continue;
		}
		if (o->longName == NULL || type == POPT_ARG_CALLBACK)
			continue;
		if (strncmp(o->longName, g->bad, g->badlen) == 0) {
			g->prefixed = o->longName;
			g->prefixes++;
		}
		snprintf(bad, sizeof(bad), "%.*s", (int)g->badlen, g->bad);
		d = distance(o->longName, bad);
		if (d < g->dist) {
			g->near = o->longName;
			g->dist = d;
			g->ties = 0;
		} else if (d == g->dist)
			g->ties++;
	}
}

/*
 * The option that a mistyped "--NAME[=VALUE]" most likely meant: the one
 * long option NAME begins, else the one nearest by edit distance, if
 * that is near enough (a third of its letters); or NULL.
 */
static const char *
suggest(const char *opt)
{
	struct guess g;

	if (table == NULL || strncmp(opt, "--", 2) != 0 || opt[2] == '\0')
		return NULL;
	memset(&g, 0, sizeof(g));
	g.bad = opt + 2;
	g.badlen = strcspn(g.bad, "=");
	g.dist = (size_t)-1;
	if (g.badlen == 0 || g.badlen > 64)
		return NULL;
	weigh(table, &g);
	if (g.prefixes == 1)
		return g.prefixed;
	if (g.near != NULL && g.ties == 0 && g.dist > 0 &&
	    g.dist <= (g.badlen + 2) / 3)
		return g.near;
	return NULL;
}

static int
app_parse(poptContext pc, int (*on_opt)(poptContext, int, void *), void *ctx)
{
	const char *bad, *typed, *near;
	char from[256] = "";
	int rc, st;

	while ((rc = poptGetNextOpt(pc)) > 0) {
		if (on_opt != NULL && (st = on_opt(pc, rc, ctx)) != 0)
			return st;
	}
	if (rc >= -1)
		return 0;
	/*
	 * The option as popt saw it, after alias expansion: a bad option
	 * inside an alias is named, with the alias it came from.
	 */
	bad = poptBadOption(pc, 0);
	typed = poptBadOption(pc, POPT_BADOPTION_NOALIAS);
	if (bad == NULL)
		bad = typed;
	if (typed != NULL && strcmp(typed, bad) != 0)
		snprintf(from, sizeof(from), " (from the alias %s)", typed);
	if (rc == POPT_ERROR_BADOPT && (near = suggest(bad)) != NULL)
		return app_usage("%s: %s%s; did you mean '--%s'?", bad,
		    poptStrerror(rc), from, near);
	return app_usage("%s: %s%s", bad, poptStrerror(rc), from);
}

int
app_args(poptContext *pc, int argc, const char **argv,
    const struct poptOption *opts, const char *operands,
    int (*on_opt)(poptContext, int, void *), void *ctx, const char ***ops,
    int *n)
{
	static const char *none[] = { NULL };
	int st;

	*ops = none;
	*n = 0;
	if ((*pc = app_popt(argc, argv, opts, operands)) == NULL)
		return EXIT_FAIL;
	if ((st = app_parse(*pc, on_opt, ctx)) != 0)
		return st;
	if ((*ops = poptGetArgs(*pc)) == NULL)
		*ops = none;
	while ((*ops)[*n] != NULL)
		++*n;
	return 0;
}

int
app_operands(const char **ops, int n, const char *names, int max)
{
	const char *w = names;
	size_t len;
	int i;

	for (i = 0; *w != '\0'; i++) {
		len = strcspn(w, " ");
		if (i == n)
			return n == 0 ? app_usage("missing %.*s operand",
			    (int)len, w) : app_usage("missing %.*s operand "
			    "after '%s'", (int)len, w, ops[n - 1]);
		w += len;
		w += strspn(w, " ");
	}
	if (n > max)
		return app_usage("extra operand '%s'", ops[max]);
	return 0;
}

int
app_size(const char *what, const char *s, uint64_t *val)
{
	int rc = mm_parse_size(s, val);

	if (rc == -ERANGE)
		return app_error("%s '%s' is too large (the limit is 2^63-1)",
		    what, s);
	if (rc < 0) {
		if (s[0] == '-')
			return app_error("%s '%s' must not be negative",
			    what, s);
		return app_error("invalid %s '%s'", what, s);
	}
	return 0;
}

int
app_offset(const char *what, const char *s, uint64_t *val, int *neg)
{
	int rc = mm_parse_offset(s, val, neg);

	/* The operand as given, sign and all: never "invalid offset ''". */
	if (rc == -ERANGE)
		return app_error("%s '%s' is too large (the limit is 2^63-1)",
		    what, s);
	if (rc < 0)
		return app_error("invalid %s '%s'", what, s);
	return 0;
}

int
app_is_stdin(const char *path)
{
	struct stat st, in;

	if (strcmp(path, "-") == 0 || strcmp(path, "/dev/stdin") == 0 ||
	    strcmp(path, "/dev/fd/0") == 0 ||
	    strcmp(path, "/proc/self/fd/0") == 0)
		return 1;
	return fstat(STDIN_FILENO, &in) == 0 && stat(path, &st) == 0 &&
	    st.st_dev == in.st_dev && st.st_ino == in.st_ino;
}

int
app_is_offset(const char *s)
{
	uint64_t v;

	return mm_parse_size(s + (s[0] == '-'), &v) == 0;
}

int
app_is_file(const char *s)
{
	struct stat st;

	return stat(s, &st) == 0;
}

int
app_misplaced(const char *what, const char *s, const char *order)
{
	return app_error("invalid %s '%s' (usage: %s %s)", what, s, app_name,
	    order);
}

int
app_io(const char *opt, enum mm_io *io)
{
	const char *env = getenv("MMUTILS_IO");

	*io = MM_IO_AUTO;
	if (opt != NULL) {
		if (mm_parse_io(opt, io) < 0)
			return app_usage("--io must be auto, mmap or read, "
			    "not '%s'", opt);
	} else if (env != NULL && *env != '\0' && mm_parse_io(env, io) < 0)
		return app_usage("MMUTILS_IO must be auto, mmap or read, "
		    "not '%s'", env);
	return 0;
}

int
app_hex(const char *what, const char *s, int wild, struct mm_bytes *b)
{
	size_t pos = 0;
	int rc = mm_parse_hex(s, wild, b, &pos);

	if (rc == -EINVAL)
		return app_error("invalid hex in %s '%s' at character %zu%s",
		    what, s, pos + 1, s[pos] == '\0' ?
		    " (an odd number of digits)" : "");
	if (rc < 0)
		return app_error("%s", app_strerror(rc));
	return 0;
}

int
app_bytes_file(const char *path, struct mm_bytes *b)
{
	int rc = mm_bytes_file(path, b);

	return rc < 0 ? app_file_error(path, rc) : 0;
}

int
app_fault(const char *path, struct mm_file *f, int err, const char *doing)
{
	off_t was;

	switch (mm_fault_cause(f, err, &was)) {
	case MM_FAULT_SHRANK:
		return app_error("%s: the file shrank from %jd to %jd byte%s "
		    "while %s", path, (intmax_t)was, (intmax_t)f->size,
		    app_s((uintmax_t)f->size), doing);
	case MM_FAULT_FULL:
		return app_error("%s: the tmpfs that holds it is full, and a "
		    "mapping needs a page even to read a hole (free some "
		    "space there, or give it through a pipe)", path);
	default:
		return 0;
	}
}

struct app_change_opts app_opts;

/* Every change option, once; app_change_options picks an applet's. */
static const struct poptOption change_options[] = {
	{ "sync", '\0', POPT_ARG_NONE, &app_opts.sync, APP_SYNC,
	    "make the change durable (flush it to storage) before exit",
	    NULL },
	{ "no-lock", '\0', POPT_ARG_NONE, &app_opts.no_lock, APP_NO_LOCK,
	    "do not take the exclusive lock (flock) on FILE", NULL },
	{ "dry-run", '\0', POPT_ARG_NONE, &app_opts.dry_run, APP_DRY_RUN,
	    "print what would be done, change nothing", NULL },
	{ "verbose", 'v', POPT_ARG_NONE, &app_opts.verbose, APP_VERBOSE,
	    "report what was done on standard error", NULL },
	{ "progress", '\0', POPT_ARG_NONE, &app_opts.progress, APP_PROGRESS,
	    "draw a progress line on standard error (a terminal)", NULL },
};

const struct poptOption *
app_change_options(int which)
{
	static struct poptOption t[sizeof(change_options) /
	    sizeof(change_options[0]) + 1];
	size_t i, n = 0;

	for (i = 0; i < sizeof(change_options) / sizeof(change_options[0]);
	    i++) {
		if (!(change_options[i].val & which))
			continue;
		t[n] = change_options[i];
		/* The flag picks; popt is handed no value to return. */
		t[n++].val = 0;
	}
	memset(&t[n], 0, sizeof(t[n]));
	return t;
}

void
app_verbose(const char *path, const char *fmt, ...)
{
	char buf[512], *p;
	va_list ap;
	size_t n;

	va_start(ap, fmt);
	p = vformat(buf, sizeof(buf), &n, fmt, ap);
	va_end(ap);
	if (p == NULL)
		return;
	app_error("%s: %s", path, p);
	if (p != buf)
		free(p);
}

int
app_change_open(struct app_change *c, const char *path)
{
	int rc;

	memset(c, 0, sizeof(*c));
	c->path = path;
	rc = mm_open(&c->f, path, app_opts.dry_run ? MM_ACCESS_COPY :
	    MM_ACCESS_WRITE, MM_OPEN_MAPPED);
	if (rc == -EBADF && strcmp(path, "-") == 0)
		return app_error("-: standard input cannot be changed in "
		    "place; name the file");
	if (rc < 0)
		return app_file_error(path, rc);
	/* The size that counts is the one under the lock. */
	if ((!app_opts.no_lock && (rc = mm_lock(&c->f)) < 0) ||
	    (rc = mm_file_stat(&c->f)) < 0) {
		mm_close(&c->f);
		return app_file_error(path, rc);
	}
	c->open = 1;
	return 0;
}

void
app_change_begin(struct app_change *c, uint64_t total)
{
	mm_signals_hold();
	app_progress_start(&c->progress, app_opts.progress, c->path, total);
}

int
app_change_end(struct app_change *c, int rc, uint64_t off, uint64_t len,
    int flags)
{
	app_progress_end(&c->progress);
	if (rc == 0 && app_opts.sync && (rc = mm_flush(&c->f, off, len,
	    MS_SYNC | flags, NULL, NULL)) < 0)
		c->sync_err = 1;
	c->sig = mm_signals_release();
	return rc;
}

int
app_change_error(struct app_change *c, int rc, const char *doing)
{
	if (c->sync_err)
		return app_error("%s: cannot sync: %s", c->path,
		    app_strerror(rc));
	return doing != NULL ? app_fault(c->path, &c->f, rc, doing) : 0;
}

int
app_change_close(struct app_change *c, int st)
{
	if (c->open && mm_close(&c->f) < 0 && st == EXIT_OK)
		st = app_error("%s: close failed: %s", c->path,
		    strerror(errno));
	c->open = 0;
	return c->sig != 0 ? 128 + c->sig : st;
}

int
app_range_parse(struct app_range *r, const char *offstr,
    const char *lenwhat, const char *lenstr)
{
	memset(r, 0, sizeof(*r));
	r->offstr = offstr;
	r->has_len = lenstr != NULL;
	if (offstr != NULL && app_offset("offset", offstr, &r->mag, &r->neg))
		return EXIT_FAIL;
	if (lenstr != NULL && app_size(lenwhat, lenstr, &r->len))
		return EXIT_FAIL;
	return 0;
}

int
app_range(const char *path, const char *where, const struct app_range *r,
    uint64_t size, int flags, uint64_t *start, uint64_t *len)
{
	const char *what = r->what != NULL ? r->what : "offset";
	char typed[32];
	const char *off = r->offstr;
	uint64_t n;

	if (where == NULL)
		where = "";
	if (off == NULL) {
		snprintf(typed, sizeof(typed), "%ju", (uintmax_t)r->mag);
		off = typed;
	}
	if (mm_offset_resolve(r->mag, r->neg, size, start) < 0)
		return app_error("%s: %s%s %s is before the start of the file "
		    "(size %ju)", path, where, what, off, (uintmax_t)size);
	if (*start > size)
		return app_error("%s: %s%s %s is past the end of the file "
		    "(size %ju)", path, where, what, off, (uintmax_t)size);
	/* madvise's rule: its start must be a byte of the file. */
	if ((flags & APP_RANGE_INSIDE) && *start == size)
		return app_error("%s: %s%s %s is the end of the file, not "
		    "inside it (size %ju)", path, where, what, off,
		    (uintmax_t)size);
	n = r->has_len ? r->len : size - *start;
	if (n > size - *start) {
		if (flags & APP_RANGE_CUT)
			n = size - *start;
		else
			return app_error("%s: %s%s%srange [%ju, %ju) (%ju "
			    "byte%s) passes the end of the file (size %ju)",
			    path, where, r->what != NULL ? r->what : "",
			    r->what != NULL ? " " : "", (uintmax_t)*start,
			    (uintmax_t)(*start + n), (uintmax_t)n, app_s(n),
			    (uintmax_t)size);
	}
	*len = n;
	return 0;
}

/* app_write itself: standard output, whoever captures. */
static int
out_write(const void *p, size_t len)
{
	if (out_errno != 0)
		return -out_errno;
	errno = 0;
	if (len != 0 && fwrite(p, 1, len, stdout) != len) {
		out_errno = errno != 0 ? errno : EIO;
		return -out_errno;
	}
	return 0;
}

int
app_write(const void *p, size_t len)
{
	if (sink != NULL)
		return sink(sink_ctx, 1, p, len);
	return out_write(p, len);
}

int
app_flush(void)
{
	if (sink != NULL)
		return 0;
	if (out_errno != 0)
		return -out_errno;
	errno = 0;
	if (fflush(stdout) != 0) {
		out_errno = errno != 0 ? errno : EIO;
		return -out_errno;
	}
	return 0;
}

int
app_emit(int fd, const void *p, size_t len)
{
	if (fd == 1)
		return out_write(p, len);
	/* As vmessage prints: what standard output holds goes first. */
	fflush(stdout);
	fwrite(p, 1, len, stderr);
	return 0;
}

int
app_printf(const char *fmt, ...)
{
	va_list ap;
	int n;

	if (sink != NULL) {
		char buf[256], *p;
		size_t len;

		va_start(ap, fmt);
		p = vformat(buf, sizeof(buf), &len, fmt, ap);
		va_end(ap);
		if (p == NULL)
			return -ENOMEM;
		n = sink(sink_ctx, 1, p, len);
		if (p != buf)
			free(p);
		return n;
	}
	if (out_errno != 0)
		return -out_errno;
	errno = 0;
	va_start(ap, fmt);
	n = vfprintf(stdout, fmt, ap);
	va_end(ap);
	if (n < 0) {
		out_errno = errno != 0 ? errno : EIO;
		return -out_errno;
	}
	return 0;
}

static int out_closed;		/* app_finish has run */
static int out_reported;	/* out_errno has had its message */

void
app_output_reported(void)
{
	if (out_errno != 0)
		out_reported = 1;
}

/*
 * At exit, for the paths that exit without app_finish (popt's --help and
 * --usage call exit(0) themselves): a full output device is still an
 * error, as with coreutils' close_stdout.
 */
static void
finish_at_exit(void)
{
	if (out_closed)
		return;
	errno = 0;
	if (fflush(stdout) == 0 && !ferror(stdout) && out_errno == 0)
		return;
	if (out_errno == 0)
		out_errno = errno != 0 ? errno : EIO;
	_exit(app_finish(EXIT_OK));
}

void
app_finish_at_exit(void)
{
	atexit(finish_at_exit);
}

int
app_finish(int status)
{
	int err = out_errno;

	if (out_closed)
		return status;
	out_closed = 1;

	if (fflush(stdout) != 0 && err == 0)
		err = errno;
	if (ferror(stdout) && err == 0)
		err = EIO;
	if (fclose(stdout) != 0 && err == 0)
		err = errno;
	if (err == 0)
		return status;
	if (err == EPIPE || out_reported)
		return EXIT_FAIL;
	app_error("write error: %s", err == EFBIG ? app_strerror(-err) :
	    strerror(err));
	return EXIT_FAIL;
}
