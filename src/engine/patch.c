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

#include "journal.h"
#include "patch.h"

/* Edits closer than this share one mapping (more when the file is huge). */
#define WINDOW_SPAN	((uint64_t)1 << 30)
#define MAX_WINDOWS	4096

struct mm_patch_win {
	struct mm_map	 map;
	size_t		 first, end;	/* edits order[first..end) */
};

/* Memory that lives as long as the patch: inputs and decoded bytes. */
struct mm_patch_blob {
	struct mm_patch_blob	*next;
	unsigned char		 data[];
};

/* LEN+1 bytes that live until mm_patch_free. */
static void *
blob_new(struct mm_patch *p, size_t len)
{
	struct mm_patch_blob *b;

	if (len > SIZE_MAX - sizeof(*b) - 1)
		return NULL;
	if ((b = malloc(sizeof(*b) + len + 1)) == NULL)
		return NULL;
	b->next = p->blobs;
	p->blobs = b;
	return b->data;
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

	unmap_windows(p);
	for (b = p->blobs; b != NULL; b = next) {
		next = b->next;
		free(b);
	}
	free(p->e);
	free(p->oldpool);
	free(p->jpool);
	free(p->order);
	mm_patch_init(p, p->flags);
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
	char *copy;

	if ((copy = blob_new(p, len)) == NULL)
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
	size_t flen = file != NULL ? strlen(file) : 0;
	char *s;
	int rc, hasnul;

	if ((rc = lines_init(p, &l, text, len)) < 0)
		return rc;
	while ((s = lines_next(&l, &hasnul)) != NULL) {
		if (hasnul)
			return fail(p, MM_PATCH_SYNTAX, -EINVAL, l.no, s);
		if (*s == '\0')
			continue;
		/* "FILE:OFFSET" from mmfind -H, for this very FILE only. */
		if (flen > 0 && strncmp(s, file, flen) == 0 && s[flen] == ':')
			for (s += flen + 1; is_blank((unsigned char)*s); s++)
				;
		if ((rc = mm_parse_offset(s, &e.mag, &e.neg)) < 0)
			return fail(p, strchr(s, ':') != NULL ?
			    MM_PATCH_OTHER_FILE : MM_PATCH_BAD_OFFSET, rc,
			    l.no, s);
		e.tok = s;
		e.line = l.no;
		if ((rc = mm_patch_add(p, &e)) < 0)
			return rc;
	}
	return 0;
}

/* Decode hex TOK into the pool at *AT; fails naming the character. */
static int
script_hex(struct mm_patch *p, char *tok, size_t line, unsigned char **at,
    const unsigned char **data, size_t *len)
{
	struct mm_bytes b;
	size_t pos = 0;
	int rc;

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

static const struct mm_edit *sort_edits;

static int
by_offset(const void *a, const void *b)
{
	size_t i = *(const size_t *)a, j = *(const size_t *)b;
	uint64_t x = sort_edits[i].off, y = sort_edits[j].off;

	if (x != y)
		return x < y ? -1 : 1;
	return i < j ? -1 : i > j;
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
	    (p->order = malloc((p->n + 1) * sizeof(*p->order))) == NULL)
		return fail(p, MM_PATCH_IO, -ENOMEM, 0, NULL);
	for (i = 0; i < p->n; i++)
		p->order[i] = i;
	sort_edits = p->e;
	qsort(p->order, p->n, sizeof(*p->order), by_offset);
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
partly_done(const struct mm_edit *e, const unsigned char *cur)
{
	size_t i, j;

	if (e->len == 0 || e->explen != e->total)
		return 0;
	for (i = 0, j = 0; i < e->explen; i++) {
		if (cur[i] != e->expect[i] && cur[i] != e->data[j])
			return 0;
		if (++j == e->len)
			j = 0;
	}
	return 1;
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
	p->order = NULL;
	p->oldpool = NULL;
	p->f = f;
	if (f->size < 0)
		return fail(p, MM_PATCH_IO, -ENODEV, 0, NULL);
	if ((rc = check_ranges(p, (uint64_t)f->size, &oldlen)) < 0)
		return rc;
	if ((rc = check_overlap(p, (uint64_t)f->size)) < 0)
		return rc;
	if ((p->oldpool = malloc(oldlen + 1)) == NULL)
		return fail(p, MM_PATCH_IO, -ENOMEM, 0, NULL);
	/*
	 * A real write keeps the bytes it overwrites for a rollback; read
	 * here, under the guard, they cost no system call per edit.
	 */
	if (f->access == MM_ACCESS_WRITE && !(p->flags & MM_PATCH_RESUME) &&
	    (jlen = batch_bytes(p)) <= MM_JOURNAL_MEM &&
	    (p->jpool = malloc(jlen + 1)) == NULL)
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

int
mm_patch_apply(struct mm_patch *p)
{
	struct mm_journal j;
	int rc;

	memset(&p->err, 0, sizeof(p->err));
	if (p->f == NULL || p->order == NULL)
		return fail(p, MM_PATCH_IO, -EINVAL, 0, NULL);
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

int
mm_sync_range(struct mm_file *f, uint64_t off, uint64_t len)
{
	struct mm_map m;
	int rc, rc2;

	if (len == 0)
		return 0;
	if (len > SIZE_MAX)
		return -ENOMEM;
	if ((rc = mm_map(f, (off_t)off, (size_t)len, &m)) < 0)
		return rc;
	rc = mm_map_sync(&m, (off_t)off, (size_t)len, MS_SYNC);
	rc2 = mm_unmap(&m);
	return rc < 0 ? rc : rc2;
}
