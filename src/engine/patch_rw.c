/*
 * patch_rw.c - the other way from the edit list to the file: read what
 * the check needs with pread, and write each run of adjacent edits with
 * one pwrite.  The kernel copies through its own mapping of the page
 * cache, so no page of ours is faulted in.  Where the page cache holds
 * the file in 4 KiB folios, a mapping pays a fault for every page on its
 * first read and another on its first write; under a hypervisor with
 * shadow page tables each costs more than a system call (see
 * mm_patch_choose_write).
 */
#include "config.h"

#include <sys/mman.h>
#include <sys/types.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "flush.h"
#include "journal.h"
#include "patch_int.h"

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
int
mm_patch_make_runs(struct mm_patch *p)
{
	struct mm_patch_run *r = NULL;
	const struct mm_edit *e;
	uint64_t pool = 0;
	size_t k;

	free(p->runs);
	p->nruns = 0;
	if ((p->runs = mm_patch_alloc((p->n + 1) * sizeof(*p->runs))) == NULL)
		return mm_patch_fail(p, MM_PATCH_IO, -ENOMEM, 0, NULL);
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

int
mm_patch_choose_write(struct mm_patch *p)
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
		if ((span = mm_patch_span(e, size)) == 0)
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
	return mm_patch_fail(p, MM_PATCH_MISMATCH, -ECANCELED, e->line, e->tok);
}

/* read_pass of patch.c, by pread: the same checks, the same bytes kept. */
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
		if ((span = mm_patch_span(e, size)) == 0)
			continue;
		if (e->expect != NULL && e->explen > size - e->off)
			return mismatch(p, k);
		for (d = 0; d < span; d += n) {
			n = span - d < RW_BUF ? (size_t)(span - d) : RW_BUF;
			if ((rc = rd_get(p, &r, k, e->off + d, n, &q)) < 0)
				return mm_patch_fail(p, MM_PATCH_IO, rc, 0,
				    NULL);
			m = e->expect == NULL || d >= e->explen ? 0 :
			    e->explen - d < n ? e->explen - d : n;
			if (m > 0 && memcmp(q, e->expect + d, (size_t)m) != 0 &&
			    !((p->flags & MM_PATCH_RESUME) &&
			    mm_patch_partly_done(e, q, d, (size_t)m)))
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

int
mm_patch_rw_check(struct mm_patch *p)
{
	uint64_t jlen;

	/* Read here, the old bytes cost no system call per run. */
	if (p->f->access == MM_ACCESS_WRITE &&
	    (jlen = mm_patch_bytes(p)) <= MM_JOURNAL_MEM &&
	    (p->jpool = mm_patch_alloc(jlen + 1)) == NULL)
		return mm_patch_fail(p, MM_PATCH_IO, -ENOMEM, 0, NULL);
	if ((p->buf = malloc(RW_BUF)) == NULL)
		return mm_patch_fail(p, MM_PATCH_IO, -ENOMEM, 0, NULL);
	return pread_pass(p);
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
	mm_patch_fill(dst + c, data, len, n - c);
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
	return mm_patch_populate(t->map.data, 1);
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
		    p->runs[k].hi - lo <= MM_PATCH_WINDOW; k++)
			hi = p->runs[k].hi;
		if ((rc = mm_flush(p->f, lo, hi - lo, MS_SYNC, NULL,
		    NULL)) < 0)
			return rc;
	}
	return 0;
}

int
mm_patch_rw_apply(struct mm_patch *p)
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
	if ((rc = mm_journal_begin(&j, p->f, mm_patch_bytes(p),
	    mm_patch_bytes(p))) < 0)
		return mm_patch_fail(p, MM_PATCH_IO, rc, 0, NULL);
	mark_holes(p);
	if ((rc = tail_prepare(p, &t)) < 0) {
		rc = mm_patch_fault_cause(p, rc);
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
	if (mm_file_shrank(p->f, NULL)) {
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
	if (mm_file_shrank(p->f, NULL))
		rc = -EIO;
out:
	if (rc < 0 && started) {
		/* Put back what was written; if that fails, it is changed. */
		if (mm_journal_rollback(&j) < 0)
			rc = -EIO;
	}
	mm_journal_end(&j);
	mm_unmap(&t.map);
	if (rc < 0)
		return mm_patch_fail(p, MM_PATCH_IO, rc, 0, NULL);
	if ((p->flags & MM_PATCH_SYNC) && (rc = sync_runs(p)) < 0)
		return mm_patch_fail(p, MM_PATCH_IO, rc, 0, NULL);
	return 0;
}

