/*
 * advise.c - mmadvise: madvise over a file, and page-cache residency.
 *
 * mmadvise FILE ADVICE [OFFSET [LENGTH]] gives advice; mmadvise FILE...
 * (no ADVICE) tells how much of each FILE is in the page cache.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "applet.h"
#include "engine/advise.h"

enum map_what { MAP_NONE, MAP_RESIDENT, MAP_MISSING, MAP_ALL };

struct opts {
	int		 bytes, wait, list;
	const char	*map;
	const char	*timeout;
	enum map_what	 what;
	double		 secs;
};

static const char *usage_ops =
    "[OPTION]... FILE [ADVICE [OFFSET [LENGTH]]]\n"
    "   or: mmadvise [OPTION]... FILE...";

/* ------------------------------------------------------------ residency */

/* "12.5": tenths, never 0 or 100 unless exactly none or all. */
static void
percent(uint64_t part, uint64_t whole, char *buf, size_t len)
{
	uint64_t t;

	if (whole == 0 || part == whole) {
		snprintf(buf, len, "100");
		return;
	}
	if (part == 0) {
		snprintf(buf, len, "0");
		return;
	}
	/* part * 1000 cannot overflow: part <= 2^63 / page size. */
	t = part > UINT64_MAX / 1000 ? part / (whole / 1000) :
	    part * 1000 / whole;
	if (t < 1)
		t = 1;
	if (t > 999)
		t = 999;
	snprintf(buf, len, "%" PRIu64 ".%" PRIu64, t / 10, t % 10);
}

struct mapjob {
	const char	*prefix;	/* "FILE: " or "" */
	enum map_what	 what;
	int		 out_err;
};

static int
map_line(void *arg, uint64_t off, uint64_t len, int resident)
{
	struct mapjob *j = arg;

	if (j->what == MAP_RESIDENT && !resident)
		return 0;
	if (j->what == MAP_MISSING && resident)
		return 0;
	if (app_printf("%s%" PRIu64 " %" PRIu64 "%s\n", j->prefix, off, len,
	    j->what != MAP_ALL ? "" : resident ? " resident" : " missing")
	    < 0) {
		j->out_err = 1;
		return -EPIPE;
	}
	return 0;
}

static const char *hidden_msg = "Linux shows page-cache residency only to "
    "the file's owner or to who may write it";

/* One FILE's residency; EXIT_OK, or EXIT_FAIL after a message. */
static int
residency(const char *path, const struct opts *o, int several, int *out_err)
{
	struct mm_file f;
	struct mm_residency r;
	struct mapjob j;
	char pct[16], *prefix = NULL;
	int rc, st = EXIT_OK;

	if ((rc = mm_open(&f, path, MM_ACCESS_READ, MM_OPEN_MAPPED)) < 0)
		return app_file_error(path, rc);
	if (mm_residency_visible(&f) < 0) {
		st = app_error("%s: %s", path, hidden_msg);
		goto out;
	}
	j.prefix = "";
	if (several) {
		if ((prefix = malloc(strlen(path) + 3)) == NULL) {
			st = app_file_error(path, -ENOMEM);
			goto out;
		}
		sprintf(prefix, "%s: ", path);
		j.prefix = prefix;
	}
	j.what = o->what;
	j.out_err = 0;
	rc = mm_residency(&f, 0, (uint64_t)f.size, o->what != MAP_NONE ?
	    map_line : NULL, &j, &r);
	if (j.out_err) {
		*out_err = 1;
		goto out;
	}
	if (rc < 0) {
		st = app_file_error(path, rc);
		goto out;
	}
	if (o->what != MAP_NONE)
		goto out;
	if (o->bytes) {
		percent(r.resident_bytes, r.bytes, pct, sizeof(pct));
		rc = app_printf("%s: %" PRIu64 "/%" PRIu64 " bytes resident "
		    "(%s%%)\n", path, r.resident_bytes, r.bytes, pct);
	} else {
		percent(r.resident_pages, r.pages, pct, sizeof(pct));
		rc = app_printf("%s: %" PRIu64 "/%" PRIu64 " pages resident "
		    "(%s%%)\n", path, r.resident_pages, r.pages, pct);
	}
	if (rc < 0)
		*out_err = 1;
out:
	free(prefix);
	mm_close(&f);
	return st;
}

/* ------------------------------------------------------------ advice */

static int
advice_error(const char *path, const struct mm_advice *a, int rc,
    const struct opts *o, const struct mm_residency *r, struct mm_file *f)
{
	char pct[16];

	/* -ENOTSUP and -EOPNOTSUPP are one code on Linux. */
	if ((rc == -ENOTSUP || rc == -EOPNOTSUPP) &&
	    (a->flags & MM_ADV_EVICT) == 0 && a->advice < 0)
		return app_error("advice '%s' is not known to this build "
		    "(its system headers lack it)", a->name);
	switch (rc) {
	case -ENOTSUP:
#if EOPNOTSUPP != ENOTSUP
	case -EOPNOTSUPP:
#endif
		if (a->flags & MM_ADV_DATA)
			return app_error("%s: advice '%s': this file system "
			    "cannot punch holes", path, a->name);
		break;
	case -EINVAL:
		return app_error("%s: this kernel does not support advice "
		    "'%s' on a mapped file", path, a->name);
	case -ETIMEDOUT:
		percent(r->resident_pages, r->pages, pct, sizeof(pct));
		return app_error("%s: only %" PRIu64 "/%" PRIu64 " pages "
		    "resident (%s%%) after %g seconds", path,
		    r->resident_pages, r->pages, pct, o->secs);
	case -ENOMEM:
		if (o->wait)
			return app_error("%s: the range does not stay in "
			    "memory: %" PRIu64 "/%" PRIu64 " pages resident",
			    path, r->resident_pages, r->pages);
		break;
	case -EIO:
		if (app_fault(path, f, rc, "it was advised"))
			return EXIT_FAIL;
		break;
	}
	return app_error("%s: advice '%s': %s", path, a->name,
	    app_strerror(rc));
}

static int
advise(const char *path, const struct mm_advice *a, const char *offstr,
    const char *lenstr, const struct opts *o)
{
	struct app_change c;
	struct app_range ar;
	struct mm_residency r;
	const struct mm_advice *pop = NULL;
	uint64_t start = 0, len = 0, lo, hi, pages;
	int rc, st = EXIT_OK;

	memset(&r, 0, sizeof(r));
	if (app_range_parse(&ar, offstr, "length", lenstr))
		return EXIT_FAIL;
	if (!(a->flags & MM_ADV_EVICT) && a->advice < 0)
		return advice_error(path, a, -ENOTSUP, o, &r, NULL);

	memset(&c, 0, sizeof(c));
	c.path = path;
	rc = mm_open(&c.f, path, a->flags & MM_ADV_WRITE ? MM_ACCESS_WRITE :
	    MM_ACCESS_READ, MM_OPEN_MAPPED);
	if (rc < 0)
		return app_file_error(path, rc);
	c.open = 1;
	/* madvise's start must be a byte of the file; no OFFSET: all. */
	if (app_range(path, NULL, &ar, (uint64_t)c.f.size, offstr != NULL ?
	    APP_RANGE_INSIDE : 0, &start, &len)) {
		st = EXIT_FAIL;
		goto out;
	}
	if (((a->flags & MM_ADV_MAPPED) || o->wait) &&
	    mm_residency_visible(&c.f) < 0) {
		st = app_error("%s: %s", path, hidden_msg);
		goto out;
	}
	/* The advices that change the file are writes: one writer at once. */
	if ((a->flags & MM_ADV_WRITE) && (rc = mm_lock(&c.f)) < 0) {
		st = app_file_error(path, rc);
		goto out;
	}

	app_change_begin(&c, len);
	/*
	 * willneed --wait reads the range in at once, as populate-read
	 * does: async readahead of all of it first would only compete with
	 * the reads that wait.
	 */
	if (o->wait && a->advice == MADV_WILLNEED)
		pop = mm_advice_find("populate-read");
	if (pop != NULL && pop->advice >= 0) {
		rc = mm_advise(&c.f, pop, start, len, &c.progress.mm);
		/* A kernel before 5.14: no populate-read. */
		if (rc == -EINVAL)
			rc = mm_advise(&c.f, a, start, len, &c.progress.mm);
	} else
		rc = mm_advise(&c.f, a, start, len, &c.progress.mm);
	if (rc == 0 && o->wait && len > 0)
		rc = mm_fetch_wait(&c.f, start, len, o->secs, &c.progress.mm,
		    &r);
	/* mmadvise has no --sync: app_opts.sync is never set. */
	rc = app_change_end(&c, rc, start, len, 0);
	if (rc == -EINTR && c.sig != 0)
		goto out;
	if (rc < 0) {
		st = advice_error(path, a, rc, o, &r, &c.f);
		goto out;
	}
	if (app_opts.verbose) {
		(void)mm_page_span(start, len, (uint64_t)c.f.size, &lo, &hi);
		pages = mm_pages(lo, hi);
		app_verbose(path, "%s: bytes [%" PRIu64 ", %" PRIu64 ") (%"
		    PRIu64 " page%s)", a->name, start, start + len, pages,
		    app_s(pages));
		if (o->wait)
			app_verbose(path, "%" PRIu64 "/%" PRIu64 " pages "
			    "resident", r.pages, r.pages);
	}
out:
	return app_change_close(&c, st);
}

/* ------------------------------------------------------------ main */

static int
list_advices(void)
{
	const struct mm_advice *t;
	size_t i, n;

	t = mm_advice_table(&n);
	for (i = 0; i < n; i++)
		app_printf("%-16s %s%s\n", t[i].name, t[i].help,
		    !(t[i].flags & MM_ADV_EVICT) && t[i].advice < 0 ?
		    " (not in this build)" : "");
	return EXIT_OK;
}

/* A word that could only be meant as an advice: letters, '-', '_'. */
static int
looks_like_advice(const char *s)
{
	struct stat st;

	if (!isalpha((unsigned char)*s) || stat(s, &st) == 0)
		return 0;
	for (; *s != '\0'; s++)
		if (!isalnum((unsigned char)*s) && *s != '-' && *s != '_')
			return 0;
	return 1;
}

static int
is_number(const char *s)
{
	uint64_t v;

	if (*s == '-')
		s++;
	return mm_parse_size(s, &v) != -EINVAL;
}

/*
 * "mmadvise willneed big.bin", "mmadvise big.bin 0 4096 willneed": an
 * advice name that is no file, one file (or none, alone) and at most two
 * numbers, in
 * another order than FILE ADVICE [OFFSET [LENGTH]].  Rather than a
 * residency report and "willneed: No such file", say the order; else 0.
 */
static int
misplaced_advice(const char **ops, int n)
{
	int i, advice = -1, files = 0;

	if (n > 4)
		return 0;
	for (i = 0; i < n; i++) {
		if (advice < 0 && mm_advice_find(ops[i]) != NULL &&
		    !app_is_file(ops[i]))
			advice = i;
		else if (app_is_file(ops[i]))
			files++;
		else if (!is_number(ops[i]))
			return 0;
	}
	if (advice < 0 || files != (n > 1))
		return 0;
	return app_error("'%s' is an advice, not a file (usage: mmadvise "
	    "FILE ADVICE [OFFSET [LENGTH]])", ops[advice]);
}

/*
 * popt would take the operand after a bare "--map" for its optional
 * value; a bare "--map" means "--map=resident".
 */
static void
bare_map(int argc, const char **argv)
{
	int i;

	for (i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
		if (strcmp(argv[i], "--map") == 0)
			argv[i] = "--map=resident";
}

static int
check_opts(struct opts *o)
{
	char *end;

	if (o->map == NULL)
		o->what = MAP_NONE;
	else if (strcmp(o->map, "resident") == 0)
		o->what = MAP_RESIDENT;
	else if (strcmp(o->map, "missing") == 0)
		o->what = MAP_MISSING;
	else if (strcmp(o->map, "all") == 0)
		o->what = MAP_ALL;
	else
		return app_usage("invalid --map '%s' (resident, missing or "
		    "all)", o->map);
	o->secs = 0;
	if (o->timeout != NULL) {
		errno = 0;
		o->secs = strtod(o->timeout, &end);
		if (end == o->timeout || *end != '\0' || errno != 0 ||
		    !isfinite(o->secs) || o->secs < 0)
			return app_usage("invalid --timeout '%s' (seconds)",
			    o->timeout);
		if (!o->wait)
			return app_usage("--timeout goes with --wait");
	}
	return 0;
}

int
advise_main(int argc, const char **argv)
{
	struct opts o;
	struct poptOption table[] = {
		{ "map", '\0', POPT_ARG_STRING | POPT_ARGFLAG_OPTIONAL, &o.map,
		    0, "without ADVICE: print the resident (or missing, or "
		    "all) ranges as OFFSET LENGTH lines",
		    "resident|missing|all" },
		{ "bytes", 'b', POPT_ARG_NONE, &o.bytes, 0,
		    "without ADVICE: count bytes instead of pages", NULL },
		{ "wait", 'w', POPT_ARG_NONE, &o.wait, 0,
		    "willneed, populate-*: return only when all of the range "
		    "is resident", NULL },
		{ "timeout", '\0', POPT_ARG_STRING, &o.timeout, 0,
		    "with --wait: give up after SECONDS (default: no limit)",
		    "SECONDS" },
		APP_CHANGE_OPTIONS(APP_VERBOSE | APP_PROGRESS)
		{ "list", 'l', POPT_ARG_NONE, &o.list, 0,
		    "list the advices and what they do", NULL },
		APP_COMMON_OPTIONS
		POPT_TABLEEND
	};
	const struct mm_advice *a = NULL;
	poptContext pc;
	const char **ops;
	int i, n, st, out_err = 0, several;

	memset(&o, 0, sizeof(o));
	bare_map(argc, argv);
	if ((st = app_args(&pc, argc, argv, table, usage_ops, NULL, NULL,
	    &ops, &n)) != 0)
		goto done;
	if ((st = check_opts(&o)) != 0)
		goto done;
	if (o.list) {
		if ((st = app_operands(ops, n, "", 0)) == 0)
			st = list_advices();
		goto done;
	}
	if ((st = app_operands(ops, n, "FILE", INT_MAX)) != 0)
		goto done;
	if (n >= 2)
		a = mm_advice_find(ops[1]);
	if (a == NULL && n >= 2 && n <= 4 && looks_like_advice(ops[1]) &&
	    (n < 3 || is_number(ops[2])) && (n < 4 || is_number(ops[3]))) {
		st = app_usage("unknown advice '%s' (and no file of that "
		    "name); 'mmadvise --list' shows the advices", ops[1]);
		goto done;
	}
	if (a != NULL) {
		if ((st = app_operands(ops, n, "FILE", 4)) != 0)
			goto done;
		if (o.what != MAP_NONE || o.bytes) {
			st = app_usage("--map and --bytes report residency; "
			    "they take no ADVICE");
			goto done;
		}
		if (o.wait && !(a->flags & MM_ADV_FETCH)) {
			st = app_usage("--wait goes with willneed, "
			    "populate-read or populate-write, not '%s'",
			    a->name);
			goto done;
		}
		st = advise(ops[0], a, n > 2 ? ops[2] : NULL,
		    n > 3 ? ops[3] : NULL, &o);
		goto done;
	}
	if ((st = misplaced_advice(ops, n)) != 0)
		goto done;
	if (o.wait || app_opts.progress) {
		st = app_usage("--wait and --progress go with an ADVICE");
		goto done;
	}
	several = n > 1;
	for (i = 0; i < n && !out_err; i++)
		if (residency(ops[i], &o, several, &out_err) != EXIT_OK)
			st = EXIT_FAIL;
done:
	/* popt hands string values over to us. */
	free((void *)o.map);
	free((void *)o.timeout);
	app_popt_free(pc);
	return app_finish(st);
}
