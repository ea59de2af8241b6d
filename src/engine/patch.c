/*
 * patch.c - the edit list behind mmpatch.  A batch is checked whole
 * before its first write: every edit in bounds, no two overlapping, every
 * expectation met, every target page writable (a full disk shows before
 * anything changes).  Only then is any byte written.
 *
 * Only the pages the edits touch are mapped: the batch is cut into
 * windows of nearby edits, each mapped once and kept for the three
 * passes (check, fault in, write), so a patch costs what it writes and
 * not what the file weighs.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "flush.h"
#include "journal.h"
#include "patch.h"

/* Edits closer than this share one mapping (more when the file is huge). */
#define WINDOW_SPAN	((uint64_t)1 << 30)
#define MAX_WINDOWS	4096

/*
 * By pread and pwrite: the bounce buffer, for reads and for runs of
 * several edits.  Edits closer than READ_GAP share one pread: copying
 * the bytes between costs less than another system call (2 us, or 25
 * KiB copied, measured under a hypervisor; both are cheaper on bare
 * metal).
 */
#define RW_BUF		((size_t)256 << 10)
#ifndef READ_GAP
#define READ_GAP	((uint64_t)16 << 10)
#endif

struct mm_patch_win {
	struct mm_map	 map;
	size_t		 first, end;	/* edits order[first..end) */
};

/* Memory that lives as long as the patch: inputs and decoded bytes. */
struct mm_patch_blob {
	struct mm_patch_blob	*next;
	unsigned char		 data[];
};

/*
 * LEN bytes for one of the batch's arrays, freed with free().  A large
 * one is aligned for huge pages: the first touch of each 4 KiB page
 * costs a fault, which under a hypervisor with shadow page tables costs
 * more than filling the page (100,000 edits: 7,000 faults, 20 ms).
 */
static void *
big_alloc(size_t len)
{
	const size_t huge = (size_t)2 << 20;
	void *p;

	if (len < huge)
		return malloc(len);
	len = (len + huge - 1) / huge * huge;
	if (posix_memalign(&p, huge, len) != 0)
		return NULL;
	(void)madvise(p, len, MADV_HUGEPAGE);
	return p;
}

/* LEN+1 bytes that live until mm_patch_free. */
static void *
blob_new(struct mm_patch *p, size_t len)
{
	struct mm_patch_blob *b;

	if (len > SIZE_MAX - sizeof(*b) - 1)
		return NULL;
	if ((b = big_alloc(sizeof(*b) + len + 1)) == NULL)
		return NULL;
	b->next = p->blobs;
	p->blobs = b;
	return b->data;
}

/* Room for N more edits, in one allocation rather than by doubling. */
static int
reserve_edits(struct mm_patch *p, size_t n)
{
	struct mm_edit *ne;

	if (n <= p->cap - p->n)
		return 0;
	if (n > SIZE_MAX / sizeof(*ne) - p->n - 1 ||
	    (ne = big_alloc((p->n + n + 1) * sizeof(*ne))) == NULL)
		return -ENOMEM;
	if (p->n > 0)
		memcpy(ne, p->e, p->n * sizeof(*ne));
	free(p->e);
	p->e = ne;
	p->cap = p->n + n + 1;
	return 0;
}

void
mm_patch_init(struct mm_patch *p, int flags)
{
	memset(p, 0, sizeof(*p));
	p->flags = flags;
}

static void
unmap_windows(struct mm_patch *p)
{
	size_t i;

	for (i = 0; i < p->nwin; i++)
		mm_unmap(&p->win[i].map);
	free(p->win);
	p->win = NULL;
	p->nwin = 0;
}

void
mm_patch_free(struct mm_patch *p)
{
	struct mm_patch_blob *b, *next;
	enum mm_io io;

	unmap_windows(p);
	for (b = p->blobs; b != NULL; b = next) {
		next = b->next;
		free(b);
	}
	free(p->e);
	free(p->oldpool);
	free(p->jpool);
	free(p->order);
	free(p->runs);
	free(p->buf);
	io = p->io;
	mm_patch_init(p, p->flags);
	p->io = io;
}

static int
fail(struct mm_patch *p, enum mm_patch_why why, int rc, size_t line,
    const char *tok)
{
	p->err.why = why;
	p->err.rc = rc;
	p->err.line = line;
	p->err.tok = tok;
	return rc;
}

int
mm_patch_add(struct mm_patch *p, const struct mm_edit *e)
{
	struct mm_edit *ne;
	size_t cap;

	if (e->len != 0 && e->repeat > MM_OFF_MAX / e->len)
		return fail(p, MM_PATCH_TOO_MANY, -EOVERFLOW, e->line, e->tok);
	if (e->expect != NULL && e->explen != (uint64_t)e->len * e->repeat) {
		p->err.explen = e->explen;
		p->err.total = (uint64_t)e->len * e->repeat;
		return fail(p, MM_PATCH_EXPECT_LEN, -EINVAL, e->line, e->tok);
	}
	if (p->n == p->cap) {
		cap = p->cap ? p->cap * 2 : 64;
		if (cap > SIZE_MAX / sizeof(*ne) ||
		    (ne = realloc(p->e, cap * sizeof(*ne))) == NULL)
			return fail(p, MM_PATCH_IO, -ENOMEM, e->line, NULL);
		p->e = ne;
		p->cap = cap;
	}
	ne = &p->e[p->n++];
	*ne = *e;
	ne->total = (uint64_t)e->len * e->repeat;
	ne->old = NULL;
	return 0;
}

static int
is_blank(int c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/*
 * Copy TEXT into the patch and hand out its lines one by one, each cut
 * at '\n' and NUL-terminated in place, so that tokens may point into it.
 */
struct lines {
	char	*cur, *end;
	size_t	 no;
};

static int
lines_init(struct mm_patch *p, struct lines *l, const unsigned char *text,
    size_t len)
{
	const unsigned char *s, *end = text + len;
	char *copy;
	size_t n = 1;

	for (s = text; len > 0 && (s = memchr(s, '\n', (size_t)(end - s))) !=
	    NULL; s++)
		n++;
	if ((copy = blob_new(p, len)) == NULL || reserve_edits(p, n) < 0)
		return fail(p, MM_PATCH_IO, -ENOMEM, 0, NULL);
	if (len > 0)
		memcpy(copy, text, len);
	copy[len] = '\0';
	l->cur = copy;
	l->end = copy + len;
	l->no = 0;
	return 0;
}

/* The next line, trimmed, or NULL at the end; *HASNUL if it held a NUL. */
static char *
lines_next(struct lines *l, int *hasnul)
{
	char *s, *nl, *e;

	if (l->cur >= l->end)
		return NULL;
	s = l->cur;
	if ((nl = memchr(s, '\n', (size_t)(l->end - s))) == NULL)
		nl = l->end;
	*hasnul = memchr(s, '\0', (size_t)(nl - s)) != NULL;
	*nl = '\0';
	l->cur = nl + 1;
	l->no++;
	while (is_blank((unsigned char)*s))
		s++;
	for (e = s + strlen(s); e > s && is_blank((unsigned char)e[-1]); e--)
		;
	*e = '\0';
	return s;
}

int
mm_patch_parse_offsets(struct mm_patch *p, const unsigned char *text,
    size_t len, const char *file, const struct mm_edit *template)
{
	struct mm_edit e = *template;
	struct lines l;
	char *s, *tok;
	int rc, hasnul;

	if ((rc = lines_init(p, &l, text, len)) < 0)
		return rc;
	while ((s = lines_next(&l, &hasnul)) != NULL) {
		if (hasnul)
			return fail(p, MM_PATCH_SYNTAX, -EINVAL, l.no, s);
		rc = mm_parse_offset_line(s, file, &e.mag, &e.neg, &tok, NULL);
		if (rc == 1)
			continue;
		if (rc == -EXDEV)
			return fail(p, MM_PATCH_OTHER_FILE, -EINVAL, l.no, tok);
		if (rc < 0)
			return fail(p, MM_PATCH_BAD_OFFSET, rc, l.no, tok);
		e.tok = tok;
		e.line = l.no;
		if ((rc = mm_patch_add(p, &e)) < 0)
			return rc;
	}
	return 0;
}

static int
hex_digit(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
		return (c | 0x20) - 'a' + 10;
	return -1;
}

/* Decode hex TOK into the pool at *AT; fails naming the character. */
static int
script_hex(struct mm_patch *p, char *tok, size_t line, unsigned char **at,
    const unsigned char **data, size_t *len)
{
	struct mm_bytes b;
	size_t pos = 0, i;
	int rc, hi, lo;

	/* Plain pairs of digits, the usual case: no allocation. */
	for (i = 0; (hi = hex_digit(tok[i])) >= 0 &&
	    (lo = hex_digit(tok[i + 1])) >= 0; i += 2)
		(*at)[i / 2] = (unsigned char)(hi << 4 | lo);
	if (tok[i] == '\0') {
		*data = *at;
		*len = i / 2;
		*at += i / 2;
		return 0;
	}
	if ((rc = mm_parse_hex(tok, 0, &b, &pos)) < 0) {
		rc = fail(p, rc == -EINVAL ? MM_PATCH_BAD_HEX : MM_PATCH_IO,
		    rc, line, tok);
		p->err.pos = pos;
		return rc;
	}
	if (b.len > 0)
		memcpy(*at, b.data, b.len);
	*data = *at;
	*len = b.len;
	*at += b.len;
	mm_bytes_free(&b);
	return 0;
}

int
mm_patch_parse_script(struct mm_patch *p, const unsigned char *text,
    size_t len)
{
	struct mm_edit e;
	struct lines l;
	unsigned char *pool;
	char *s, *hash, *tok[4];
	int rc, hasnul, nt;

	if ((rc = lines_init(p, &l, text, len)) < 0)
		return rc;
	/* Hex takes two characters a byte: half the text always suffices. */
	if ((pool = blob_new(p, len / 2)) == NULL)
		return fail(p, MM_PATCH_IO, -ENOMEM, 0, NULL);
	while ((s = lines_next(&l, &hasnul)) != NULL) {
		if (hasnul)
			return fail(p, MM_PATCH_SYNTAX, -EINVAL, l.no, s);
		if ((hash = strchr(s, '#')) != NULL)
			*hash = '\0';
		for (nt = 0; nt < 4; nt++) {
			while (is_blank((unsigned char)*s))
				s++;
			if (*s == '\0')
				break;
			tok[nt] = s;
			while (*s != '\0' && !is_blank((unsigned char)*s))
				s++;
			if (*s != '\0')
				*s++ = '\0';
		}
		if (nt == 0)
			continue;
		if (nt == 1 || nt == 4)
			return fail(p, MM_PATCH_SYNTAX, -EINVAL, l.no,
			    nt == 4 ? tok[3] : tok[0]);
		memset(&e, 0, sizeof(e));
		e.repeat = 1;
		e.tok = tok[0];
		e.line = l.no;
		if ((rc = mm_parse_offset(tok[0], &e.mag, &e.neg)) < 0)
			return fail(p, MM_PATCH_BAD_OFFSET, rc, l.no, tok[0]);
		if ((rc = script_hex(p, tok[1], l.no, &pool, &e.data,
		    &e.len)) < 0)
			return rc;
		if (nt == 3 && (rc = script_hex(p, tok[2], l.no, &pool,
		    &e.expect, &e.explen)) < 0)
			return rc;
		if ((rc = mm_patch_add(p, &e)) < 0)
			return rc;
	}
	return 0;
}

/* The bytes an edit reads or writes: what must lie apart from others. */
static uint64_t
span_of(const struct mm_edit *e, uint64_t size)
{
	uint64_t exp = e->expect == NULL ? 0 : e->explen;

	if (exp > size - e->off)
		exp = size - e->off;
	return e->total > exp ? e->total : exp;
}

struct keyed {
	uint64_t	 off;
	size_t		 i;
};

/*
 * Put the edits' indices in p->order by offset, ties in input order: a
 * radix sort, a byte a pass and only over the bytes the offsets use
 * (qsort's calls to a comparison cost 17 ms for 100,000 edits, more
 * than reading them).  Input already in order (mmfind's) costs a look.
 */
static int
sort_by_offset(struct mm_patch *p)
{
	struct keyed *a, *b, *t;
	size_t i, count[256], pos, c;
	uint64_t used = 0;
	unsigned shift;

	for (i = 0; i < p->n; i++) {
		p->order[i] = i;
		used |= p->e[i].off;
	}
	for (i = 1; i < p->n && p->e[i - 1].off <= p->e[i].off; i++)
		;
	if (i >= p->n)
		return 0;
	if (p->n > SIZE_MAX / (2 * sizeof(*a)) ||
	    (a = big_alloc(2 * p->n * sizeof(*a))) == NULL)
		return -ENOMEM;
	b = a + p->n;
	for (i = 0; i < p->n; i++) {
		a[i].off = p->e[i].off;
		a[i].i = i;
	}
	/* Each pass is stable, so equal offsets keep their input order. */
	for (shift = 0; shift < 64 && (used >> shift) != 0; shift += 8) {
		memset(count, 0, sizeof(count));
		for (i = 0; i < p->n; i++)
			count[(a[i].off >> shift) & 255]++;
		for (pos = 0, i = 0; i < 256; i++) {
			c = count[i];
			count[i] = pos;
			pos += c;
		}
		for (i = 0; i < p->n; i++)
			b[count[(a[i].off >> shift) & 255]++] = a[i];
		t = a;
		a = b;
		b = t;
	}
	for (i = 0; i < p->n; i++)
		p->order[i] = a[i].i;
	free(a < b ? a : b);
	return 0;
}

/* Resolve every offset and require every edit inside the file. */
/* The bytes a checked batch writes, in all. */
static uint64_t
batch_bytes(const struct mm_patch *p)
{
	uint64_t total = 0;
	size_t i;

	for (i = 0; i < p->n; i++)
		total += p->e[i].total;
	return total;
}

static int
check_ranges(struct mm_patch *p, uint64_t size, size_t *oldlen)
{
	struct mm_edit *e;
	size_t i;

	*oldlen = 0;
	for (i = 0; i < p->n; i++) {
		e = &p->e[i];
		p->err.edit = i;
		if (mm_offset_resolve(e->mag, e->neg, size, &e->off) < 0)
			return fail(p, MM_PATCH_BEFORE_START, -ERANGE, e->line,
			    e->tok);
		if (e->off > size)
			return fail(p, MM_PATCH_PAST_END, -ERANGE, e->line,
			    e->tok);
		if (e->total > size - e->off)
			return fail(p, MM_PATCH_TOO_LONG, -ERANGE, e->line,
			    e->tok);
		if (p->flags & MM_PATCH_KEEP_OLD) {
			if (e->total > SIZE_MAX - *oldlen)
				return fail(p, MM_PATCH_IO, -ENOMEM, e->line,
				    e->tok);
			*oldlen += (size_t)e->total;
		}
	}
	return 0;
}

/* Sort by offset and refuse two edits whose bytes overlap. */
static int
check_overlap(struct mm_patch *p, uint64_t size)
{
	uint64_t maxend = 0, span;
	size_t k, i, who = 0;
	int any = 0;

	if (p->n > SIZE_MAX / sizeof(*p->order) ||
	    (p->order = big_alloc((p->n + 1) * sizeof(*p->order))) == NULL)
		return fail(p, MM_PATCH_IO, -ENOMEM, 0, NULL);
	if (sort_by_offset(p) < 0)
		return fail(p, MM_PATCH_IO, -ENOMEM, 0, NULL);
	for (k = 0; k < p->n; k++) {
		i = p->order[k];
		if ((span = span_of(&p->e[i], size)) == 0)
			continue;
		if (any && p->e[i].off < maxend) {
			/* Blame the later line; name the earlier. */
			p->err.edit = i > who ? i : who;
			p->err.other = i > who ? who : i;
			return fail(p, MM_PATCH_OVERLAP, -ERANGE,
			    p->e[p->err.edit].line, p->e[p->err.edit].tok);
		}
		if (!any || p->e[i].off + span > maxend) {
			maxend = p->e[i].off + span;
			who = i;
		}
		any = 1;
	}
	return 0;
}

static unsigned char *
at(const struct mm_patch_win *w, uint64_t off)
{
	return w->map.data + (off - (uint64_t)w->map.off);
}

/*
 * A fault on a file mapping reads around it: read_ahead_kb, often 8 MiB.
 * For 8 bytes in a hole of a big sparse file that is milliseconds of
 * zero pages (300 times a pwrite, measured).  So no read-around, and
 * read ahead only what the edits touch: the whole window when they
 * cover much of it, else each large edit.  Advice is a hint; errors
 * change nothing.
 */
#define DENSE_FRACTION	16
#define LARGE_EDIT	((uint64_t)64 << 10)

static void
advise_window(struct mm_patch *p, const struct mm_patch_win *w, uint64_t size)
{
	uint64_t ps = mm_pagesize(), touched = 0, span;
	const struct mm_edit *e;
	size_t k;

	if (w->map.base == NULL)
		return;
	madvise(w->map.base, w->map.baselen, MADV_RANDOM);
	for (k = w->first; k < w->end; k++) {
		e = &p->e[p->order[k]];
		touched += span_of(e, size) + ps;
	}
	if (touched >= w->map.baselen / DENSE_FRACTION) {
		madvise(w->map.base, w->map.baselen, MADV_WILLNEED);
		return;
	}
	for (k = w->first; k < w->end; k++) {
		e = &p->e[p->order[k]];
		span = span_of(e, size);
		if (span >= LARGE_EDIT) {
			uintptr_t a = (uintptr_t)at(w, e->off);

			madvise((void *)(a - a % ps), (size_t)span + a % ps,
			    MADV_WILLNEED);
		}
	}
}

/* Group the sorted edits that touch bytes into windows, and map them. */
static int
map_windows(struct mm_patch *p, uint64_t size)
{
	struct mm_patch_win *w;
	uint64_t wspan = WINDOW_SPAN, lo, hi, end;
	size_t k, nwin = 0;
	int rc;

	/* A huge file gets wider windows, to bound the number of maps. */
	if (size / MAX_WINDOWS > wspan)
		wspan = size / MAX_WINDOWS;
	if ((p->win = calloc(p->n + 1, sizeof(*p->win))) == NULL)
		return fail(p, MM_PATCH_IO, -ENOMEM, 0, NULL);
	for (k = 0; k < p->n; ) {
		const struct mm_edit *e = &p->e[p->order[k]];

		if (span_of(e, size) == 0) {
			k++;
			continue;
		}
		w = &p->win[nwin];
		w->first = k;
		lo = e->off;
		hi = lo + span_of(e, size);
		for (k++; k < p->n; k++) {
			e = &p->e[p->order[k]];
			end = e->off + span_of(e, size);
			if (end - lo > wspan && end > hi)
				break;
			if (end > hi)
				hi = end;
		}
		w->end = k;
		if (hi - lo > SIZE_MAX)
			return fail(p, MM_PATCH_IO, -ENOMEM, 0, NULL);
		if ((rc = mm_map(p->f, (off_t)lo, (size_t)(hi - lo),
		    &w->map)) < 0)
			return fail(p, MM_PATCH_IO, rc, 0, NULL);
		p->nwin = ++nwin;
		advise_window(p, w, size);
	}
	return 0;
}

/*
 * RESUME: a batch cut short left each byte either as expected (the edit
 * not made yet) or already new; anything else is a real mismatch.
 */
static int
partly_done_at(const struct mm_edit *e, const unsigned char *cur,
    uint64_t from, size_t n)
{
	size_t i, j;

	if (e->len == 0 || e->explen != e->total)
		return 0;
	/* CUR holds the bytes FROM to FROM+N of the edit's. */
	for (i = 0, j = (size_t)(from % e->len); i < n; i++) {
		if (cur[i] != e->expect[from + i] && cur[i] != e->data[j])
			return 0;
		if (++j == e->len)
			j = 0;
	}
	return 1;
}

static int
partly_done(const struct mm_edit *e, const unsigned char *cur)
{
	return partly_done_at(e, cur, 0, e->explen);
}

/* Under the guard: compare the expectations, save the old bytes. */
static int
read_pass(void *arg)
{
	struct mm_patch *p = arg;
	uint64_t size = (uint64_t)p->f->size;
	unsigned char *old = p->oldpool, *now = p->jpool;
	const struct mm_patch_win *w;
	struct mm_edit *e;
	size_t i, k;

	for (i = 0; i < p->n; i++)
		p->e[i].old = old;
	/* Old bytes are stored in file order; each edit points at its own. */
	for (i = 0; i < p->nwin; i++) {
		w = &p->win[i];
		for (k = w->first; k < w->end; k++) {
			e = &p->e[p->order[k]];
			if (e->expect != NULL && (e->explen > size - e->off ||
			    (e->explen > 0 && memcmp(at(w, e->off), e->expect,
			    e->explen) != 0 && !((p->flags & MM_PATCH_RESUME) &&
			    partly_done(e, at(w, e->off)))))) {
				p->err.edit = p->order[k];
				p->err.foundlen = e->explen > size - e->off ?
				    0 : e->explen < sizeof(p->err.found) ?
				    e->explen : sizeof(p->err.found);
				memcpy(p->err.found, at(w, e->off),
				    p->err.foundlen);
				return fail(p, MM_PATCH_MISMATCH, -ECANCELED,
				    e->line, e->tok);
			}
			if (now != NULL && e->total > 0) {
				memcpy(now, at(w, e->off), (size_t)e->total);
				now += e->total;
			}
			if ((p->flags & MM_PATCH_KEEP_OLD) && e->total > 0) {
				/*
				 * What was there before the batch: the
				 * expected bytes, though some be new
				 * already (RESUME).
				 */
				e->old = old;
				memcpy(old, e->expect != NULL ? e->expect :
				    at(w, e->off), (size_t)e->total);
				old += e->total;
			}
		}
	}
	return 0;
}

/*
 * An edit at the very end of the file with no bytes to write spans
 * nothing, so no window holds it and read_pass never sees it; yet an
 * expectation there names bytes the file does not have.  Such edits come
 * last in file order, so checking them after read_pass keeps the first
 * mismatch in file order the one reported.
 */
static int
check_at_end(struct mm_patch *p, uint64_t size)
{
	const struct mm_edit *e;
	size_t k;

	for (k = 0; k < p->n; k++) {
		e = &p->e[p->order[k]];
		if (e->expect != NULL && e->explen > 0 && e->off == size &&
		    e->total == 0) {
			p->err.edit = p->order[k];
			p->err.foundlen = 0;
			return fail(p, MM_PATCH_MISMATCH, -ECANCELED, e->line,
			    e->tok);
		}
	}
	return 0;
}

static int	make_runs(struct mm_patch *);
static int	choose_write(struct mm_patch *);
static int	pread_pass(struct mm_patch *);

int
mm_patch_check(struct mm_patch *p, struct mm_file *f)
{
	uint64_t jlen;
	size_t oldlen;
	int rc;

	memset(&p->err, 0, sizeof(p->err));
	unmap_windows(p);
	free(p->order);
	free(p->oldpool);
	free(p->jpool);
	free(p->runs);
	free(p->buf);
	p->order = NULL;
	p->oldpool = NULL;
	p->jpool = NULL;
	p->runs = NULL;
	p->nruns = 0;
	p->buf = NULL;
	p->by_write = 0;
	p->f = f;
	if (f->size < 0)
		return fail(p, MM_PATCH_IO, -ENODEV, 0, NULL);
	if ((rc = check_ranges(p, (uint64_t)f->size, &oldlen)) < 0)
		return rc;
	if ((rc = check_overlap(p, (uint64_t)f->size)) < 0)
		return rc;
	if ((p->oldpool = big_alloc(oldlen + 1)) == NULL)
		return fail(p, MM_PATCH_IO, -ENOMEM, 0, NULL);
	if ((rc = make_runs(p)) < 0)
		return rc;
	if ((p->by_write = choose_write(p))) {
		/* Read here, the old bytes cost no system call per run. */
		if (f->access == MM_ACCESS_WRITE &&
		    (jlen = batch_bytes(p)) <= MM_JOURNAL_MEM &&
		    (p->jpool = big_alloc(jlen + 1)) == NULL)
			return fail(p, MM_PATCH_IO, -ENOMEM, 0, NULL);
		if ((p->buf = malloc(RW_BUF)) == NULL)
			return fail(p, MM_PATCH_IO, -ENOMEM, 0, NULL);
		if ((rc = pread_pass(p)) < 0)
			return rc;
		return check_at_end(p, (uint64_t)f->size);
	}
	/*
	 * A real write keeps the bytes it overwrites for a rollback; read
	 * here, under the guard, they cost no system call per edit.
	 */
	if (f->access == MM_ACCESS_WRITE && !(p->flags & MM_PATCH_RESUME) &&
	    (jlen = batch_bytes(p)) <= MM_JOURNAL_MEM &&
	    (p->jpool = big_alloc(jlen + 1)) == NULL)
		return fail(p, MM_PATCH_IO, -ENOMEM, 0, NULL);
	if ((rc = map_windows(p, (uint64_t)f->size)) < 0)
		return rc;
	rc = mm_guard(read_pass, p);
	if (rc == -EIO && p->jpool != NULL) {
		/*
		 * A full tmpfs has no page even to read a hole through a
		 * mapping; the journal will pread the bytes instead.
		 */
		free(p->jpool);
		p->jpool = NULL;
		rc = mm_guard(read_pass, p);
	}
	if (rc == -EIO)
		return fail(p, MM_PATCH_IO, rc, 0, NULL);
	if (rc < 0)
		return rc;
	return check_at_end(p, (uint64_t)f->size);
}

/* Fault [P, P+LEN) in for writing; -EFAULT when no block can be had. */
static int
populate(unsigned char *p, size_t len)
{
	int rc = mm_prefault_write(p, len);

	return rc == -EOPNOTSUPP ? 0 : rc;
}

static int
populate_pass(struct mm_patch *p)
{
	uint64_t ps = mm_pagesize(), lo = 0, hi = 0;
	const struct mm_patch_win *w;
	const struct mm_edit *e;
	size_t i, k;
	int rc, any;

	for (i = 0; i < p->nwin; i++) {
		w = &p->win[i];
		any = 0;
		for (k = w->first; k < w->end; k++) {
			e = &p->e[p->order[k]];
			if (e->total == 0)
				continue;
			/* Neighbouring edits on one run of pages: one call. */
			if (any && e->off / ps <= (hi - 1) / ps + 1) {
				if (e->off + e->total > hi)
					hi = e->off + e->total;
				continue;
			}
			if (any && (rc = populate(at(w, lo),
			    (size_t)(hi - lo))) < 0)
				return rc;
			lo = e->off;
			hi = e->off + e->total;
			any = 1;
		}
		if (any && (rc = populate(at(w, lo), (size_t)(hi - lo))) < 0)
			return rc;
	}
	return 0;
}

/* DATA (LEN bytes) REPEAT times at DST: the fill doubles what it wrote. */
static void
fill(unsigned char *dst, const unsigned char *data, size_t len,
    uint64_t total)
{
	uint64_t done, n;

	if (total == 0)
		return;
	if (len == 1) {
		memset(dst, data[0], (size_t)total);
		return;
	}
	memcpy(dst, data, len);
	for (done = len; done < total; done += n) {
		n = done < total - done ? done : total - done;
		memcpy(dst + done, dst, (size_t)n);
	}
}

static int
write_pass(void *arg)
{
	struct mm_patch *p = arg;
	const struct mm_patch_win *w;
	const struct mm_edit *e;
	size_t i, k;

	for (i = 0; i < p->nwin; i++) {
		w = &p->win[i];
		for (k = w->first; k < w->end; k++) {
			e = &p->e[p->order[k]];
			fill(at(w, e->off), e->data, e->len, e->total);
		}
	}
	return 0;
}

static int
sync_pass(struct mm_patch *p)
{
	const struct mm_patch_win *w;
	const struct mm_edit *e;
	uint64_t lo, hi;
	size_t i, k;
	int rc, any;

	for (i = 0; i < p->nwin; i++) {
		w = &p->win[i];
		any = 0;
		lo = hi = 0;
		for (k = w->first; k < w->end; k++) {
			e = &p->e[p->order[k]];
			if (e->total == 0)
				continue;
			if (!any || e->off < lo)
				lo = e->off;
			if (!any || e->off + e->total > hi)
				hi = e->off + e->total;
			any = 1;
		}
		if (any && (rc = mm_map_sync(&w->map, (off_t)lo,
		    (size_t)(hi - lo), MS_SYNC)) < 0)
			return rc;
	}
	return 0;
}

/* A fault while touching the file: did it shrink, or is the disk full? */
static int
fault_cause(struct mm_patch *p, int rc)
{
	off_t size0 = p->f->size;

	if (rc != -EFAULT && rc != -EIO)
		return rc;
	if (mm_file_stat(p->f) == 0 && p->f->size < size0)
		return -EIO;
	p->f->size = size0;
	/* A fault on a page inside the file: no block could be had for it. */
	return rc == -EFAULT ? -ENOSPC : rc;
}

/*
 * Begin a journal of every byte the batch overwrites, so that a write
 * failing half-way (a copy-on-write file system out of space, an I/O
 * error) is put back.  Dry runs write a private copy: nothing to keep.
 */
static int
journal_batch(struct mm_patch *p, struct mm_journal *j)
{
	const unsigned char *now = p->jpool;
	const struct mm_edit *e;
	uint64_t total = batch_bytes(p);
	size_t i;
	int rc;

	if ((rc = mm_journal_begin(j, p->f, total, total)) < 0)
		return rc;
	for (i = 0; i < p->n; i++) {
		/* The pool holds them in file order (read_pass). */
		e = &p->e[p->order[i]];
		if (now != NULL) {
			rc = mm_journal_ref(j, e->off, now, e->total);
			now += e->total;
		} else
			rc = mm_journal_save(j, e->off, e->total);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/*
 * A write fault on a page the file holds, put back since: a copy-on-write
 * file system that found no block for it leaves no other trace.  Say so
 * when its free space is below what the batch writes.
 */
static int
space_short(const struct mm_patch *p, const struct mm_journal *j)
{
	struct statvfs sv;

	if (!j->cow || fstatvfs(p->f->fd, &sv) != 0)
		return 0;
	return (uint64_t)sv.f_bavail * sv.f_frsize < batch_bytes(p);
}

/* ------------------------------------------------------- pread, pwrite */

/*
 * The other way to the file: read what the check needs with pread, and
 * write each run of adjacent edits with one pwrite.  The kernel copies
 * through its own mapping of the page cache, so no page of ours is
 * faulted in.  Where the page cache holds the file in 4 KiB folios, a
 * mapping pays a fault for every page on its first read and another on
 * its first write; under a hypervisor with shadow page tables each
 * costs more than a system call (see choose_write).
 */

/* One pwrite: the edits order[first..end), whose bytes follow on. */
struct mm_patch_run {
	uint64_t	 lo, hi;
	uint64_t	 pool;		/* where jpool holds its old bytes */
	const unsigned char *data;	/* its bytes, if one edit has them */
	size_t		 first, end;
	int		 hole;		/* touches a hole: may need blocks */
};


/* The bytes of the file in the bounce buffer: [lo, hi). */
struct rdbuf {
	uint64_t	 lo, hi;
};

/* Cut the sorted edits into runs of adjacent ones. */
static int
make_runs(struct mm_patch *p)
{
	struct mm_patch_run *r = NULL;
	const struct mm_edit *e;
	uint64_t pool = 0;
	size_t k;

	free(p->runs);
	p->nruns = 0;
	if ((p->runs = big_alloc((p->n + 1) * sizeof(*p->runs))) == NULL)
		return fail(p, MM_PATCH_IO, -ENOMEM, 0, NULL);
	for (k = 0; k < p->n; k++) {
		e = &p->e[p->order[k]];
		if (e->total == 0)
			continue;
		/* check_overlap left no overlap: adjacent or apart. */
		if (r != NULL && e->off == r->hi) {
			r->hi += e->total;
			r->end = k + 1;
			r->data = NULL;
		} else {
			r = &p->runs[p->nruns++];
			r->lo = e->off;
			r->hi = e->off + e->total;
			r->pool = pool;
			r->first = k;
			r->end = k + 1;
			r->hole = 0;
			r->data = e->len == e->total ? e->data : NULL;
		}
		pool += e->total;
	}
	return 0;
}

/* The pages the runs write, each counted once. */
static uint64_t
pages_touched(const struct mm_patch *p)
{
	uint64_t ps = mm_pagesize(), n = 0, last = UINT64_MAX, a, b;
	size_t i;

	for (i = 0; i < p->nruns; i++) {
		a = p->runs[i].lo / ps;
		b = (p->runs[i].hi - 1) / ps;
		if (a == last)
			a++;
		if (a <= b)
			n += b - a + 1;
		last = b;
	}
	return n;
}

/*
 * Map, or pread and pwrite?  Measured (Linux 6.18 under a hypervisor,
 * 100,000 scattered 8-byte edits into 512 MiB in 4 KiB folios): a page
 * first touched through a mapping costs about 5 us (a read fault, whose
 * fault-around maps its neighbours too, and a write fault), a pwrite of
 * a run 3 us, and the reads 0.4 us an edit.  So a run costs less than a
 * page: pwrite, unless the runs are so many to a page (dense small
 * edits) that their system calls outweigh the page's faults.  On bare
 * metal both are cheaper and the balance is the same to within a
 * factor of two.  A mapping is never subject to RLIMIT_FSIZE, which
 * refuses a pwrite past it even over bytes the file has: there, map.
 */
#define RUNS_PER_PAGE	2

static int
choose_write(struct mm_patch *p)
{
	uint64_t end;

	if (p->io == MM_IO_MAP || p->nruns == 0)
		return p->io == MM_IO_READ;
	end = p->runs[p->nruns - 1].hi;
	if (p->f->access == MM_ACCESS_WRITE && mm_fsize_check(end) < 0)
		return 0;
	if (p->io == MM_IO_READ)
		return 1;
	return p->nruns <= RUNS_PER_PAGE * pages_touched(p);
}

/*
 * Point *OUT at the file's bytes [OFF, OFF+LEN), LEN <= RW_BUF, reading
 * them, if the buffer lacks them, with those of the edits after
 * order[K] that lie close enough to share the read.
 */
static int
rd_get(struct mm_patch *p, struct rdbuf *r, size_t k, uint64_t off,
    size_t len, const unsigned char **out)
{
	uint64_t size = (uint64_t)p->f->size, hi = off + len, end, span;
	const struct mm_edit *e;
	int rc;

	if (off >= r->lo && hi <= r->hi) {
		*out = p->buf + (off - r->lo);
		return 0;
	}
	for (k++; k < p->n; k++) {
		e = &p->e[p->order[k]];
		if ((span = span_of(e, size)) == 0)
			continue;
		if (e->off > hi + READ_GAP)
			break;
		end = e->off + span;
		if (end - off > RW_BUF)
			break;
		if (end > hi)
			hi = end;
	}
	r->lo = r->hi = 0;
	if ((rc = mm_transfer(p->f->fd, p->buf, (size_t)(hi - off), off,
	    0)) < 0)
		return rc;
	r->lo = off;
	r->hi = hi;
	*out = p->buf;
	return 0;
}

/* Edit order[K]'s expectation is not met: say what is there. */
static int
mismatch(struct mm_patch *p, size_t k)
{
	const struct mm_edit *e = &p->e[p->order[k]];
	uint64_t size = (uint64_t)p->f->size;

	p->err.edit = p->order[k];
	p->err.foundlen = e->explen > size - e->off ? 0 :
	    e->explen < sizeof(p->err.found) ? e->explen :
	    sizeof(p->err.found);
	if (p->err.foundlen > 0 && mm_transfer(p->f->fd, p->err.found,
	    p->err.foundlen, e->off, 0) < 0)
		p->err.foundlen = 0;
	return fail(p, MM_PATCH_MISMATCH, -ECANCELED, e->line, e->tok);
}

/* read_pass, by pread: the same checks, the same bytes kept. */
static int
pread_pass(struct mm_patch *p)
{
	uint64_t size = (uint64_t)p->f->size, span, d, m;
	unsigned char *old = p->oldpool, *now = p->jpool;
	struct rdbuf r = { 0, 0 };
	const unsigned char *q;
	struct mm_edit *e;
	size_t i, k, n;
	int rc;

	for (i = 0; i < p->n; i++)
		p->e[i].old = old;
	for (k = 0; k < p->n; k++) {
		e = &p->e[p->order[k]];
		if ((span = span_of(e, size)) == 0)
			continue;
		if (e->expect != NULL && e->explen > size - e->off)
			return mismatch(p, k);
		for (d = 0; d < span; d += n) {
			n = span - d < RW_BUF ? (size_t)(span - d) : RW_BUF;
			if ((rc = rd_get(p, &r, k, e->off + d, n, &q)) < 0)
				return fail(p, MM_PATCH_IO, rc, 0, NULL);
			m = e->expect == NULL || d >= e->explen ? 0 :
			    e->explen - d < n ? e->explen - d : n;
			if (m > 0 && memcmp(q, e->expect + d, (size_t)m) != 0 &&
			    !((p->flags & MM_PATCH_RESUME) &&
			    partly_done_at(e, q, d, (size_t)m)))
				return mismatch(p, k);
			m = d >= e->total ? 0 : e->total - d < n ?
			    e->total - d : n;
			if (m > 0 && now != NULL)
				memcpy(now + d, q, (size_t)m);
			/* RESUME: the old bytes are the expected ones. */
			if (m > 0 && (p->flags & MM_PATCH_KEEP_OLD))
				memcpy(old + d, e->expect != NULL ?
				    e->expect + d : q, (size_t)m);
		}
		if (e->total == 0)
			continue;
		if (now != NULL)
			now += e->total;
		if (p->flags & MM_PATCH_KEEP_OLD) {
			e->old = old;
			old += e->total;
		}
	}
	return 0;
}

/*
 * Mark the runs that touch a hole, where a write needs new blocks: one
 * sweep, two lseeks for each hole the runs meet.  Where holes cannot be
 * found, every run may need blocks.
 */
static void
mark_holes(struct mm_patch *p)
{
	uint64_t size = (uint64_t)p->f->size, h = 0, d = 0;
	struct mm_patch_run *r;
	size_t i;
	off_t x;
	int known = 0, all = 0;

	for (i = 0; i < p->nruns; i++) {
		r = &p->runs[i];
		/* A block device overwrites in place. */
		if (p->f->kind != MM_KIND_REGULAR)
			continue;
		if (!all && (!known || r->lo >= d)) {
			/* [h, d): the first hole at or after r->lo. */
			if ((x = lseek(p->f->fd, (off_t)r->lo, SEEK_HOLE)) < 0)
				all = 1;
			else if ((uint64_t)x >= size)
				h = d = UINT64_MAX;
			else {
				h = (uint64_t)x;
				x = lseek(p->f->fd, x, SEEK_DATA);
				if (x < 0 && errno != ENXIO)
					all = 1;
				d = x < 0 ? size : (uint64_t)x;
			}
			known = 1;
		}
		r->hole = all || (r->hi > h && r->lo < d);
	}
}

/* DATA (LEN bytes) repeated, its bytes [POS, POS+N), at DST. */
static void
fill_at(unsigned char *dst, const unsigned char *data, size_t len,
    uint64_t pos, size_t n)
{
	size_t i = (size_t)(pos % len), c;

	c = len - i < n ? len - i : n;
	memcpy(dst, data + i, c);
	fill(dst + c, data, len, n - c);
}

/* Write N bytes at OFF; *DONE counts those that reached the file. */
static int
put(int fd, const unsigned char *buf, size_t n, uint64_t off,
    uint64_t *done)
{
	ssize_t w;

	while (n > 0) {
		w = pwrite(fd, buf, n, (off_t)off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return w < 0 ? -errno : -EIO;
		buf += w;
		off += (uint64_t)w;
		n -= (size_t)w;
		*done += (uint64_t)w;
	}
	return 0;
}

/*
 * Write the bytes of run R that lie before STOP; *DONE counts those
 * written, from r->lo on, so that a rollback writes back only them (an
 * old byte written back into a hole would want a block of a full disk).
 */
static int
write_run(struct mm_patch *p, const struct mm_patch_run *r, uint64_t stop,
    uint64_t *done)
{
	const struct mm_edit *e;
	uint64_t at = r->lo, pos, n;
	size_t have = 0, k, c;
	int rc;

	if (stop > r->hi)
		stop = r->hi;
	if (stop <= r->lo)
		return 0;
	/* One edit of plain bytes: from where they are. */
	if (r->data != NULL)
		return put(p->f->fd, r->data, (size_t)(stop - r->lo), r->lo,
		    done);
	for (k = r->first; k < r->end && at < stop; k++) {
		e = &p->e[p->order[k]];
		for (pos = 0; pos < e->total; pos += c) {
			c = RW_BUF - have;
			if (c > e->total - pos)
				c = (size_t)(e->total - pos);
			fill_at(p->buf + have, e->data, e->len, pos, c);
			have += c;
			if (have < RW_BUF)
				continue;
			n = stop - at < have ? stop - at : have;
			if ((rc = put(p->f->fd, p->buf, (size_t)n, at,
			    done)) < 0)
				return rc;
			at += have;
			have = 0;
			if (at >= stop)
				return 0;
		}
	}
	if (at >= stop)
		return 0;
	n = stop - at < have ? stop - at : have;
	return put(p->f->fd, p->buf, (size_t)n, at, done);
}

/*
 * The last byte of the file goes through a mapping.  A pwrite past the
 * end grows a file: had another process cut it meanwhile, the writes
 * would make it long again.  As no pwrite reaches the old end, a file
 * cut at any time ends up shorter than it was, and the check after the
 * last write sees it; the store through the mapping cannot grow it.
 */
struct tail {
	struct mm_map	 map;
	unsigned char	 byte;
};

static int
tail_store(void *arg)
{
	struct tail *t = arg;

	t->map.data[0] = t->byte;
	return 0;
}

static int
tail_prepare(struct mm_patch *p, struct tail *t)
{
	const struct mm_patch_run *r = &p->runs[p->nruns - 1];
	const struct mm_edit *e;
	size_t k;
	int rc;

	if (r->hi != (uint64_t)p->f->size)
		return 0;
	for (k = r->end; k-- > r->first;) {
		e = &p->e[p->order[k]];
		if (e->total > 0) {
			t->byte = e->data[(e->total - 1) % e->len];
			break;
		}
	}
	if ((rc = mm_map(p->f, (off_t)r->hi - 1, 1, &t->map)) < 0)
		return rc;
	/* Its block now: a full disk shows before anything changes. */
	return populate(t->map.data, 1);
}

/* Did the file shrink?  Then its size says by how much. */
static int
shrank(struct mm_patch *p, off_t size0)
{
	if (mm_file_stat(p->f) == 0 && p->f->size < size0)
		return 1;
	p->f->size = size0;
	return 0;
}

static int
sync_runs(struct mm_patch *p)
{
	uint64_t lo, hi;
	size_t i, k;
	int rc;

	for (i = 0; i < p->nruns; i = k) {
		lo = p->runs[i].lo;
		hi = p->runs[i].hi;
		for (k = i + 1; k < p->nruns &&
		    p->runs[k].hi - lo <= WINDOW_SPAN; k++)
			hi = p->runs[k].hi;
		if ((rc = mm_flush(p->f, lo, hi - lo, MS_SYNC, NULL,
		    NULL)) < 0)
			return rc;
	}
	return 0;
}

static int
write_apply(struct mm_patch *p)
{
	const struct mm_patch_run *r;
	struct mm_journal j;
	struct tail t;
	off_t size0 = p->f->size;
	uint64_t done;
	size_t i;
	int rc, rc2, hole, started = 0;

	/* A dry run reads the file only. */
	if (p->f->access != MM_ACCESS_WRITE || p->nruns == 0)
		return 0;
	memset(&t, 0, sizeof(t));
	if ((rc = mm_journal_begin(&j, p->f, batch_bytes(p),
	    batch_bytes(p))) < 0)
		return fail(p, MM_PATCH_IO, rc, 0, NULL);
	mark_holes(p);
	if ((rc = tail_prepare(p, &t)) < 0) {
		rc = fault_cause(p, rc);
		goto out;
	}
	/*
	 * Runs into holes go first: the file system finds their blocks as
	 * they are written, and a full disk there puts back only them.
	 * Where no journal could put them back (more than MM_JOURNAL_MEM on
	 * ext4 or tmpfs), their blocks are had before the first write.
	 */
	for (i = 0; i < p->nruns && !j.on; i++) {
		r = &p->runs[i];
		if (r->hole && (rc = mm_reserve_write(p->f, r->lo,
		    r->hi - r->lo)) < 0)
			goto out;
	}
	if (shrank(p, size0)) {
		rc = -EIO;
		goto out;
	}
	for (hole = 1; hole >= 0; hole--) {
		for (i = 0; i < p->nruns; i++) {
			r = &p->runs[i];
			if (r->hole != hole)
				continue;
			/* Without the pool, the journal reads them now. */
			if (p->jpool == NULL && (rc = mm_journal_save(&j,
			    r->lo, r->hi - r->lo)) < 0)
				goto out;
			started = 1;
			done = 0;
			rc = write_run(p, r, (uint64_t)size0 - 1, &done);
			if (rc == 0 && r->hi == (uint64_t)size0 &&
			    (rc = mm_guard(tail_store, &t)) == 0)
				done++;
			if (p->jpool != NULL && done > 0 &&
			    (rc2 = mm_journal_ref(&j, r->lo, p->jpool + r->pool,
			    done)) < 0 && rc == 0)
				rc = rc2;
			if (rc < 0)
				goto out;
		}
	}
	if (shrank(p, size0))
		rc = -EIO;
out:
	if (rc < 0 && started) {
		if (rc == -EIO && p->f->size == size0)
			(void)shrank(p, size0);
		/* Put back what was written; if that fails, it is changed. */
		if (mm_journal_rollback(&j) < 0)
			rc = -EIO;
	}
	mm_journal_end(&j);
	mm_unmap(&t.map);
	if (rc < 0)
		return fail(p, MM_PATCH_IO, rc, 0, NULL);
	if ((p->flags & MM_PATCH_SYNC) && (rc = sync_runs(p)) < 0)
		return fail(p, MM_PATCH_IO, rc, 0, NULL);
	return 0;
}

int
mm_patch_apply(struct mm_patch *p)
{
	struct mm_journal j;
	int rc;

	memset(&p->err, 0, sizeof(p->err));
	if (p->f == NULL || p->order == NULL)
		return fail(p, MM_PATCH_IO, -EINVAL, 0, NULL);
	if (p->by_write)
		return write_apply(p);
	/* The reserve first, then the blocks; private maps (dry runs)
	 * would only copy pages here. */
	if ((rc = journal_batch(p, &j)) < 0 ||
	    (p->f->access == MM_ACCESS_WRITE && (rc = populate_pass(p)) < 0)) {
		mm_journal_end(&j);
		return fail(p, MM_PATCH_IO, fault_cause(p, rc), 0, NULL);
	}
	if ((rc = mm_guard(write_pass, p)) < 0) {
		rc = fault_cause(p, rc);
		/* Before the rollback frees the reserve: */
		if (rc == -EIO && space_short(p, &j))
			rc = -ENOSPC;
		/* Put back what was written; if that fails, it is changed. */
		if (mm_journal_rollback(&j) < 0)
			rc = -EIO;
		mm_journal_end(&j);
		return fail(p, MM_PATCH_IO, rc, 0, NULL);
	}
	mm_journal_end(&j);
	if ((p->flags & MM_PATCH_SYNC) && p->f->access == MM_ACCESS_WRITE &&
	    (rc = sync_pass(p)) < 0)
		return fail(p, MM_PATCH_IO, rc, 0, NULL);
	return 0;
}

/* ---------------------------------------------------------------- undo */

/*
 * Output gathered in a buffer of the heap.  Each piece is formatted
 * straight into it, so the undo costs what it writes: a one-byte edit
 * is a handful of bytes of work, not a block.
 */
#define WBUF_SIZE	(64 * 1024)

struct wbuf {
	int	 fd;
	int	 err;
	size_t	 n;
	char	*buf;
};

static int
wb_flush(struct wbuf *w)
{
	size_t done = 0;
	ssize_t r;

	while (w->err == 0 && done < w->n) {
		r = write(w->fd, w->buf + done, w->n - done);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			w->err = r < 0 ? errno : EIO;
		else
			done += (size_t)r;
	}
	w->n = 0;
	return -w->err;
}

/* Room for at least NEED bytes (NEED <= WBUF_SIZE); what there is. */
static size_t
wb_room(struct wbuf *w, size_t need)
{
	if (WBUF_SIZE - w->n < need)
		wb_flush(w);
	return WBUF_SIZE - w->n;
}

static void
wb_put(struct wbuf *w, const void *s, size_t len)
{
	const char *p = s;
	size_t n;

	while (len > 0 && w->err == 0) {
		n = wb_room(w, 1);
		n = n < len ? n : len;
		memcpy(w->buf + w->n, p, n);
		w->n += n;
		p += n;
		len -= n;
	}
}

static void
wb_hex(struct wbuf *w, const unsigned char *p, size_t len)
{
	size_t n;

	/* mm_hex_format ends with a NUL: one byte more than the digits. */
	while (len > 0 && w->err == 0) {
		n = (wb_room(w, 3) - 1) / 2;
		n = n < len ? n : len;
		mm_hex_format(p, n, w->buf + w->n);
		w->n += 2 * n;
		p += n;
		len -= n;
	}
}

/* DATA REPEAT times: the hex of one copy, copied on, never reformatted. */
static void
wb_hex_repeat(struct wbuf *w, const unsigned char *data, size_t len,
    uint64_t repeat)
{
	char *one;
	size_t start;

	if (repeat == 1 || len == 0 || len > WBUF_SIZE / 4) {
		for (; repeat > 0 && w->err == 0; repeat--)
			wb_hex(w, data, len);
		return;
	}
	wb_room(w, 2 * len + 1);
	start = w->n;
	wb_hex(w, data, len);
	one = w->buf + start;
	/* Kept until the buffer fills; then from the start of the next. */
	for (repeat--; repeat > 0 && w->err == 0; repeat--) {
		if (WBUF_SIZE - w->n < 2 * len) {
			wb_flush(w);
			memmove(w->buf, one, 2 * len);
			one = w->buf;
			w->n = 2 * len;
			continue;
		}
		memcpy(w->buf + w->n, one, 2 * len);
		w->n += 2 * len;
	}
}

/* Decimal OFF and a blank, without printf's cost per edit. */
static void
wb_offset(struct wbuf *w, uint64_t off)
{
	char num[24], *s = num + sizeof(num);

	*--s = ' ';
	do {
		*--s = (char)('0' + off % 10);
		off /= 10;
	} while (off > 0);
	wb_put(w, s, (size_t)(num + sizeof(num) - s));
}

static int
write_undo(const struct mm_patch *p, int fd, const char *comment)
{
	struct wbuf w;
	size_t i;

	w.fd = fd;
	w.err = 0;
	w.n = 0;
	if ((w.buf = malloc(WBUF_SIZE)) == NULL)
		return -ENOMEM;
	if (comment != NULL) {
		wb_put(&w, "# ", 2);
		wb_put(&w, comment, strlen(comment));
		wb_put(&w, "\n", 1);
	}
	for (i = 0; i < p->n && w.err == 0; i++) {
		const struct mm_edit *e = &p->e[i];

		if (e->total == 0)
			continue;
		wb_offset(&w, e->off);
		wb_hex(&w, e->old, (size_t)e->total);
		wb_put(&w, " ", 1);
		wb_hex_repeat(&w, e->data, e->len, e->repeat);
		wb_put(&w, "\n", 1);
	}
	wb_flush(&w);
	free(w.buf);
	return -w.err;
}

static int
sync_fd(int fd)
{
	/* Pipes and terminals (an undo to standard output) cannot sync. */
	if (fsync(fd) == -1 && errno != EINVAL && errno != EROFS)
		return -errno;
	return 0;
}

/* Open PATH's directory, and point *BASE at PATH's last component. */
static int
open_dir_of(const char *path, const char **base)
{
	const char *slash = strrchr(path, '/');
	char *dir;
	int fd;

	if (slash == NULL) {
		*base = path;
		fd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		return fd == -1 ? -errno : fd;
	}
	*base = slash + 1;
	if ((dir = strndup(path, slash == path ? 1 : (size_t)(slash -
	    path))) == NULL)
		return -ENOMEM;
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	free(dir);
	return fd == -1 ? -errno : fd;
}

void
mm_undo_close(struct mm_undo *u)
{
	if (u->dirfd >= 0)
		close(u->dirfd);
	free(u->name);
	u->dirfd = -1;
	u->name = NULL;
}

int
mm_undo_remove(struct mm_undo *u)
{
	struct stat st;
	int rc = 0;

	if (u->dirfd < 0 || u->name == NULL)
		return 0;
	/* Only the file saved: never one put in its place since. */
	if (fstatat(u->dirfd, u->name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    st.st_dev == u->dev && st.st_ino == u->ino) {
		if (unlinkat(u->dirfd, u->name, 0) == -1)
			rc = -errno;
		else
			rc = sync_fd(u->dirfd);
	}
	mm_undo_close(u);
	return rc;
}

int
mm_patch_save_undo(const struct mm_patch *p, const char *path,
    const char *comment, struct mm_undo *u)
{
	struct stat st, fst;
	const char *base;
	int fd, rc;

	u->dirfd = -1;
	u->name = NULL;
	if (!(p->flags & MM_PATCH_KEEP_OLD) || p->f == NULL)
		return -EINVAL;
	if (fstat(p->f->fd, &fst) == -1)
		return -errno;
	if (strcmp(path, "-") == 0) {
		/* Never write into the very file about to be patched. */
		if (fstat(STDOUT_FILENO, &st) == -1)
			return -errno;
		if (st.st_dev == fst.st_dev && st.st_ino == fst.st_ino)
			return -EINVAL;
		if ((rc = write_undo(p, STDOUT_FILENO, comment)) < 0)
			return rc;
		return sync_fd(STDOUT_FILENO);
	}
	/*
	 * The directory is held open: the file is made, synced and, if
	 * need be, removed in this very directory, whatever is renamed.
	 */
	if ((u->dirfd = open_dir_of(path, &base)) < 0) {
		rc = u->dirfd;
		u->dirfd = -1;
		return rc;
	}
	if (*base == '\0') {
		mm_undo_close(u);
		return -EISDIR;
	}
	/*
	 * Only a new file: an earlier undo is never lost, and a symbolic
	 * link planted here never leads the write elsewhere.  0600: it
	 * holds the old bytes, which may be secret.
	 */
	fd = openat(u->dirfd, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_NOCTTY | O_CLOEXEC, 0600);
	if (fd == -1) {
		rc = -errno;
		if (rc == -EEXIST && fstatat(u->dirfd, base, &st, 0) == 0 &&
		    st.st_dev == fst.st_dev && st.st_ino == fst.st_ino)
			rc = -EINVAL;
		mm_undo_close(u);
		return rc;
	}
	if ((u->name = strdup(base)) == NULL || fstat(fd, &st) == -1) {
		rc = u->name == NULL ? -ENOMEM : -errno;
		unlinkat(u->dirfd, base, 0);
		close(fd);
		mm_undo_close(u);
		return rc;
	}
	u->dev = st.st_dev;
	u->ino = st.st_ino;
	rc = write_undo(p, fd, comment);
	if (rc == 0)
		rc = sync_fd(fd);
	if (close(fd) == -1 && rc == 0)
		rc = -errno;
	if (rc == 0)
		rc = sync_fd(u->dirfd);
	if (rc < 0) {
		mm_undo_remove(u);
		return rc;
	}
	return 0;
}

int
mm_patch_unchanged(const struct mm_patch *p)
{
	unsigned char buf[64 * 1024];
	const struct mm_edit *e;
	uint64_t done;
	size_t i, n;
	ssize_t r;

	if (!(p->flags & MM_PATCH_KEEP_OLD) || p->f == NULL)
		return -EINVAL;
	for (i = 0; i < p->n; i++) {
		e = &p->e[i];
		for (done = 0; done < e->total; done += n) {
			n = e->total - done < sizeof(buf) ?
			    (size_t)(e->total - done) : sizeof(buf);
			r = pread(p->f->fd, buf, n, (off_t)(e->off + done));
			if (r == -1 && errno == EINTR) {
				n = 0;
				continue;
			}
			if (r == -1)
				return -errno;
			/* Short: the file shrank, the old bytes are gone. */
			if ((size_t)r != n || memcmp(buf, e->old + done, n) != 0)
				return 0;
		}
	}
	return 1;
}
