/*
 * patch.c - the edit list behind mmpatch.  A batch is checked whole
 * before its first write: every edit in bounds, no two overlapping, every
 * expectation met, every target page writable (a full disk shows before
 * anything changes).  Only then is any byte written.
 *
 * Only the pages the edits touch are mapped: the batch is cut into
 * windows of nearby edits, each mapped once and kept for the three
 * passes (check, fault in, write), so a patch costs what it writes and
 * not what the file weighs.  The other way to the file, pread and
 * pwrite, is patch_rw.c; the parsers are patch_parse.c, the undo script
 * and the dry-run report patch_undo.c.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/mman.h>
#include <sys/statvfs.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "journal.h"
#include "patch_int.h"

#define MAX_WINDOWS	4096

struct mm_patch_win {
	struct mm_map	 map;
	size_t		 first, end;	/* edits order[first..end) */
};

/*
 * LEN bytes for one of the batch's arrays, freed with free().  A large
 * one is aligned for huge pages: the first touch of each 4 KiB page
 * costs a fault, which under a hypervisor with shadow page tables costs
 * more than filling the page (100,000 edits: 7,000 faults, 20 ms).
 */
void *
mm_patch_alloc(size_t len)
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

int
mm_patch_fail(struct mm_patch *p, enum mm_patch_why why, int rc, size_t line,
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
		return mm_patch_fail(p, MM_PATCH_TOO_MANY, -EOVERFLOW, e->line,
		    e->tok);
	if (e->expect != NULL && e->explen != (uint64_t)e->len * e->repeat) {
		p->err.explen = e->explen;
		p->err.total = (uint64_t)e->len * e->repeat;
		return mm_patch_fail(p, MM_PATCH_EXPECT_LEN, -EINVAL, e->line,
		    e->tok);
	}
	if (p->n == p->cap) {
		cap = p->cap ? p->cap * 2 : 64;
		if (cap > SIZE_MAX / sizeof(*ne) ||
		    (ne = realloc(p->e, cap * sizeof(*ne))) == NULL)
			return mm_patch_fail(p, MM_PATCH_IO, -ENOMEM, e->line,
			    NULL);
		p->e = ne;
		p->cap = cap;
	}
	ne = &p->e[p->n++];
	*ne = *e;
	ne->total = (uint64_t)e->len * e->repeat;
	ne->old = NULL;
	return 0;
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
	    (a = mm_patch_alloc(2 * p->n * sizeof(*a))) == NULL)
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

uint64_t
mm_patch_bytes(const struct mm_patch *p)
{
	uint64_t total = 0;
	size_t i;

	for (i = 0; i < p->n; i++)
		total += p->e[i].total;
	return total;
}

/* Resolve every offset and require every edit inside the file. */
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
			return mm_patch_fail(p, MM_PATCH_BEFORE_START, -ERANGE,
			    e->line, e->tok);
		if (e->off > size)
			return mm_patch_fail(p, MM_PATCH_PAST_END, -ERANGE,
			    e->line, e->tok);
		if (e->total > size - e->off)
			return mm_patch_fail(p, MM_PATCH_TOO_LONG, -ERANGE,
			    e->line, e->tok);
		if (p->flags & MM_PATCH_KEEP_OLD) {
			if (e->total > SIZE_MAX - *oldlen)
				return mm_patch_fail(p, MM_PATCH_IO, -ENOMEM,
				    e->line, e->tok);
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
	    (p->order = mm_patch_alloc((p->n + 1) * sizeof(*p->order))) == NULL)
		return mm_patch_fail(p, MM_PATCH_IO, -ENOMEM, 0, NULL);
	if (sort_by_offset(p) < 0)
		return mm_patch_fail(p, MM_PATCH_IO, -ENOMEM, 0, NULL);
	for (k = 0; k < p->n; k++) {
		i = p->order[k];
		if ((span = mm_patch_span(&p->e[i], size)) == 0)
			continue;
		if (any && p->e[i].off < maxend) {
			/* Blame the later line; name the earlier. */
			p->err.edit = i > who ? i : who;
			p->err.other = i > who ? who : i;
			return mm_patch_fail(p, MM_PATCH_OVERLAP, -ERANGE,
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
		touched += mm_patch_span(e, size) + ps;
	}
	if (touched >= w->map.baselen / DENSE_FRACTION) {
		madvise(w->map.base, w->map.baselen, MADV_WILLNEED);
		return;
	}
	for (k = w->first; k < w->end; k++) {
		e = &p->e[p->order[k]];
		span = mm_patch_span(e, size);
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
	uint64_t wspan = MM_PATCH_WINDOW, lo, hi, end;
	size_t k, nwin = 0;
	int rc;

	/* A huge file gets wider windows, to bound the number of maps. */
	if (size / MAX_WINDOWS > wspan)
		wspan = size / MAX_WINDOWS;
	if ((p->win = calloc(p->n + 1, sizeof(*p->win))) == NULL)
		return mm_patch_fail(p, MM_PATCH_IO, -ENOMEM, 0, NULL);
	for (k = 0; k < p->n; ) {
		const struct mm_edit *e = &p->e[p->order[k]];

		if (mm_patch_span(e, size) == 0) {
			k++;
			continue;
		}
		w = &p->win[nwin];
		w->first = k;
		lo = e->off;
		hi = lo + mm_patch_span(e, size);
		for (k++; k < p->n; k++) {
			e = &p->e[p->order[k]];
			end = e->off + mm_patch_span(e, size);
			if (end - lo > wspan && end > hi)
				break;
			if (end > hi)
				hi = end;
		}
		w->end = k;
		if (hi - lo > SIZE_MAX)
			return mm_patch_fail(p, MM_PATCH_IO, -ENOMEM, 0, NULL);
		if ((rc = mm_map(p->f, (off_t)lo, (size_t)(hi - lo),
		    &w->map)) < 0)
			return mm_patch_fail(p, MM_PATCH_IO, rc, 0, NULL);
		p->nwin = ++nwin;
		advise_window(p, w, size);
	}
	return 0;
}

/*
 * RESUME: a batch cut short left each byte either as expected (the edit
 * not made yet) or already new; anything else is a real mismatch.
 */
int
mm_patch_partly_done(const struct mm_edit *e, const unsigned char *cur,
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
	return mm_patch_partly_done(e, cur, 0, e->explen);
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
				return mm_patch_fail(p, MM_PATCH_MISMATCH,
				    -ECANCELED, e->line, e->tok);
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
			return mm_patch_fail(p, MM_PATCH_MISMATCH, -ECANCELED,
			    e->line, e->tok);
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
		return mm_patch_fail(p, MM_PATCH_IO, -ENODEV, 0, NULL);
	if ((rc = check_ranges(p, (uint64_t)f->size, &oldlen)) < 0)
		return rc;
	if ((rc = check_overlap(p, (uint64_t)f->size)) < 0)
		return rc;
	if ((p->oldpool = mm_patch_alloc(oldlen + 1)) == NULL)
		return mm_patch_fail(p, MM_PATCH_IO, -ENOMEM, 0, NULL);
	if ((rc = mm_patch_make_runs(p)) < 0)
		return rc;
	if ((p->by_write = mm_patch_choose_write(p))) {
		if ((rc = mm_patch_rw_check(p)) < 0)
			return rc;
		return check_at_end(p, (uint64_t)f->size);
	}
	/*
	 * A real write keeps the bytes it overwrites for a rollback; read
	 * here, under the guard, they cost no system call per edit.
	 */
	if (f->access == MM_ACCESS_WRITE && !(p->flags & MM_PATCH_RESUME) &&
	    (jlen = mm_patch_bytes(p)) <= MM_JOURNAL_MEM &&
	    (p->jpool = mm_patch_alloc(jlen + 1)) == NULL)
		return mm_patch_fail(p, MM_PATCH_IO, -ENOMEM, 0, NULL);
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
		return mm_patch_fail(p, MM_PATCH_IO, rc, 0, NULL);
	if (rc < 0)
		return rc;
	return check_at_end(p, (uint64_t)f->size);
}

int
mm_patch_populate(unsigned char *p, size_t len)
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
			if (any && (rc = mm_patch_populate(at(w, lo),
			    (size_t)(hi - lo))) < 0)
				return rc;
			lo = e->off;
			hi = e->off + e->total;
			any = 1;
		}
		if (any && (rc = mm_patch_populate(at(w, lo),
		    (size_t)(hi - lo))) < 0)
			return rc;
	}
	return 0;
}

/* DATA (LEN bytes) REPEAT times at DST: the fill doubles what it wrote. */
void
mm_patch_fill(unsigned char *dst, const unsigned char *data, size_t len,
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
			mm_patch_fill(at(w, e->off), e->data, e->len, e->total);
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

int
mm_patch_fault_cause(struct mm_patch *p, int rc)
{
	if (rc != -EFAULT && rc != -EIO)
		return rc;
	if (mm_file_shrank(p->f, NULL))
		return -EIO;
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
	uint64_t total = mm_patch_bytes(p);
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
	return (uint64_t)sv.f_bavail * sv.f_frsize < mm_patch_bytes(p);
}

int
mm_patch_apply(struct mm_patch *p)
{
	struct mm_journal j;
	int rc;

	memset(&p->err, 0, sizeof(p->err));
	if (p->f == NULL || p->order == NULL)
		return mm_patch_fail(p, MM_PATCH_IO, -EINVAL, 0, NULL);
	if (p->by_write)
		return mm_patch_rw_apply(p);
	/* The reserve first, then the blocks; private maps (dry runs)
	 * would only copy pages here. */
	if ((rc = journal_batch(p, &j)) < 0 ||
	    (p->f->access == MM_ACCESS_WRITE && (rc = populate_pass(p)) < 0)) {
		mm_journal_end(&j);
		return mm_patch_fail(p, MM_PATCH_IO,
		    mm_patch_fault_cause(p, rc), 0, NULL);
	}
	if ((rc = mm_guard(write_pass, p)) < 0) {
		rc = mm_patch_fault_cause(p, rc);
		/* Before the rollback frees the reserve: */
		if (rc == -EIO && space_short(p, &j))
			rc = -ENOSPC;
		/* Put back what was written; if that fails, it is changed. */
		if (mm_journal_rollback(&j) < 0)
			rc = -EIO;
		mm_journal_end(&j);
		return mm_patch_fail(p, MM_PATCH_IO, rc, 0, NULL);
	}
	mm_journal_end(&j);
	if ((p->flags & MM_PATCH_SYNC) && p->f->access == MM_ACCESS_WRITE &&
	    (rc = sync_pass(p)) < 0)
		return mm_patch_fail(p, MM_PATCH_IO, rc, 0, NULL);
	return 0;
}

