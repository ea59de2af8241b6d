/*
 * move.c - memmove inside a file, in chunks, in the direction that never
 * overwrites a byte before it has been copied.
 *
 * The bytes travel through a small buffer with pread and pwrite: the
 * kernel then copies them through its own mapping of the page cache.  A
 * copy through our mapping pays a page fault for every page it touches
 * first, which on some machines (shadow page tables under a hypervisor)
 * costs several times the copy itself.  Before the first byte moves, the
 * destination's blocks are reserved (mm_reserve_write), so a full disk
 * under a sparse file fails then, not halfway.  The one chunk that ends at
 * the end of the file goes through a mapping of that chunk alone (see
 * check_size).
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "journal.h"
#include "move.h"

/*
 * The bounce buffer: big enough for each system call to run at copy speed,
 * small enough to stay in the CPU's caches.
 */
#define MOVE_CHUNK	((size_t)1 << 20)

struct move_job {
	struct mm_file		*f;
	unsigned char		*last;	/* the mapping of the chunk that ends
					   the file, or NULL */
	unsigned char		*buf;	/* MOVE_CHUNK bytes */
	uint64_t		 dest, src, count;
	struct mm_progress	*progress;
	struct mm_journal	 journal;
	int			 journalled;	/* roll back on failure */
	unsigned char		*undo;	/* MOVE_CHUNK: the chunk's old bytes */
	uint64_t		 done;	/* bytes of whole chunks copied */
	uint64_t		 cur_at;	/* the chunk being copied ... */
	size_t			 cur_n;		/* ... its length, 0: none */
	int			 started;	/* a byte may have changed */
	int			 in_map;	/* writing through the mapping */
};

/*
 * A pwrite past the end of a file grows it: had another process cut the
 * file, we would write it long again and report success.  So the size is
 * checked before every write and once after the last.  The cut can still
 * fall between a check and its write; that write then ends short of the
 * old end (the chunk that ends there goes through the mapping, which
 * cannot grow the file), and the next check sees the file shorter.
 */
static int
check_size(struct move_job *j)
{
	return mm_file_shrank(j->f, NULL) ? -EIO : 0;
}


/*
 * The chunk that ends the file goes through the mapping: fault it in for
 * writing now, so that whatever the file system needs for it (a block for
 * ext4's inline data, say) fails before the first byte moves, as -ENOSPC
 * and not as a SIGBUS half-way.
 */
static int
prefault_last(const struct move_job *j)
{
	uint64_t n = j->count < MOVE_CHUNK ? j->count : MOVE_CHUNK;

	if (j->last == NULL)
		return 0;
	return mm_populate_write(j->f, j->dest + j->count - n, n);
}

/* Move the N bytes at AT of the source to AT of the destination. */
static int
copy_chunk(struct move_job *j, uint64_t at, size_t n)
{
	uint64_t lo, hi;
	int rc;

	if (j->journalled) {
		/* The chunk's old bytes, to put back if it fails part-way. */
		if ((rc = mm_transfer(j->f->fd, j->undo, n, j->dest + at, 0)) < 0)
			return rc;
		j->cur_at = at;
		j->cur_n = n;
		/*
		 * Those of its bytes that lie outside the source cannot be
		 * found again in the file once overwritten: keep them.
		 */
		lo = j->dest + at;
		hi = lo + n;
		if (j->dest < j->src && hi > j->src)
			hi = j->src;
		if (j->dest > j->src && lo < j->src + j->count)
			lo = j->src + j->count;
		if (lo < hi &&
		    (rc = mm_journal_save(&j->journal, lo, hi - lo)) < 0)
			return rc;
	}
	j->started = 1;
	if ((rc = mm_transfer(j->f->fd, j->buf, n, j->src + at, 0)) < 0)
		return rc;
	if (j->last != NULL && j->dest + at + n == (uint64_t)j->f->size) {
		/* Through the mapping: a cut file gives SIGBUS, not growth. */
		j->in_map = 1;
		memcpy(j->last, j->buf, n);
		j->in_map = 0;
		return 0;
	}
	if ((rc = check_size(j)) < 0)
		return rc;
	return mm_transfer(j->f->fd, j->buf, n, j->dest + at, 1);
}

static int
move_chunks(void *arg)
{
	struct move_job *j = arg;
	uint64_t done, at;
	size_t n;
	int rc;

	for (done = 0; done < j->count; done += n) {
		n = j->count - done < MOVE_CHUNK ?
		    (size_t)(j->count - done) : MOVE_CHUNK;
		/* Down: front to back.  Up: back to front. */
		at = j->dest < j->src ? done : j->count - done - n;
		if ((rc = copy_chunk(j, at, n)) < 0)
			return rc;
		j->cur_n = 0;
		j->done = done + n;
		mm_progress_update(j->progress, done + n);
	}
	return check_size(j);
}

/* Copy N bytes from SRC to DEST of FD, memmove-wise, through BUF. */
static int
copy_back(int fd, unsigned char *buf, uint64_t dest, uint64_t src,
    uint64_t n)
{
	uint64_t done, at;
	size_t k;
	int rc;

	for (done = 0; done < n; done += k) {
		k = n - done < MOVE_CHUNK ? (size_t)(n - done) : MOVE_CHUNK;
		at = dest < src ? done : n - done - k;
		if ((rc = mm_transfer(fd, buf, k, src + at, 0)) < 0 ||
		    (rc = mm_transfer(fd, buf, k, dest + at, 1)) < 0)
			return rc;
	}
	return 0;
}

/*
 * Put the file back after a failure.  The chunk that failed gets its old
 * bytes from the undo buffer.  In the chunks copied whole, the bytes that
 * lay inside the source are still in the file, moved by the shift (a
 * move down ran from the front, a move up from the back, so what they
 * became was copied already): copy them back.  The rest the journal kept.
 */
static int
roll_back(struct move_job *j)
{
	uint64_t shift, x = j->done;
	int rc;

	mm_journal_release(&j->journal);
	if (mm_file_shrank(j->f, NULL))
		return -EIO;
	if (j->cur_n > 0 && (rc = mm_transfer(j->f->fd, j->undo, j->cur_n,
	    j->dest + j->cur_at, 1)) < 0)
		return rc;
	shift = j->dest < j->src ? j->src - j->dest : j->dest - j->src;
	if (x > shift) {
		if (j->dest < j->src)
			rc = copy_back(j->f->fd, j->buf, j->src, j->dest,
			    x - shift);
		else
			rc = copy_back(j->f->fd, j->buf,
			    j->dest + j->count - x,
			    j->dest + j->count - x + shift, x - shift);
		if (rc < 0)
			return rc;
	}
	return mm_journal_rollback(&j->journal);
}

/*
 * A copy that failed after its first write: put the old bytes back.  The
 * file is then as it was and the first error stands; if it cannot be put
 * back (or was cut by another process meanwhile), -EIO: changed.
 */
static int
undo_failed(struct move_job *j, int rc)
{
	if (rc >= 0 || !j->started)
		return rc;
	if (!j->journalled || roll_back(j) < 0 ||
	    mm_file_shrank(j->f, NULL))
		return -EIO;
	/*
	 * Put back whole.  A fault through the mapping (the last chunk) on
	 * a copy-on-write file system is one that found no block.
	 */
	return rc == -EIO && j->in_map && j->journal.cow ? -ENOSPC : rc;
}

/* The bytes a move overwrites that its source does not hold. */
static uint64_t
lost_bytes(uint64_t dest, uint64_t src, uint64_t count)
{
	uint64_t shift = dest < src ? src - dest : dest - src;

	return shift < count ? shift : count;
}

static int
move(struct mm_file *f, uint64_t dest, uint64_t src, uint64_t count,
    struct mm_progress *progress, int journal)
{
	struct move_job j;
	struct mm_map m;
	size_t last;
	int rc, rc2;

	if (f->size < 0 || dest > (uint64_t)f->size ||
	    src > (uint64_t)f->size || count > (uint64_t)f->size - dest ||
	    count > (uint64_t)f->size - src)
		return -ERANGE;
	if (count == 0 || dest == src)
		return 0;
	/* pwrite would stop at RLIMIT_FSIZE half-way: refuse it now. */
	if ((rc = mm_fsize_check(dest + count)) < 0)
		return rc;
	j.f = f;
	j.dest = dest;
	j.src = src;
	j.count = count;
	j.progress = progress;
	if ((j.buf = malloc(count < MOVE_CHUNK ? count : MOVE_CHUNK)) == NULL)
		return -ENOMEM;
	if ((j.undo = malloc(count < MOVE_CHUNK ? count : MOVE_CHUNK)) ==
	    NULL) {
		free(j.buf);
		return -ENOMEM;
	}
	/* Only a move up can end at the end of the file. */
	last = count < MOVE_CHUNK ? (size_t)count : MOVE_CHUNK;
	memset(&m, 0, sizeof(m));
	if (dest > src && dest + count == (uint64_t)f->size &&
	    (rc = mm_map(f, (off_t)(dest + count - last), last, &m)) < 0) {
		free(j.buf);
		free(j.undo);
		return rc;
	}
	j.last = m.data;
	j.started = j.in_map = 0;
	j.done = 0;
	j.cur_n = 0;
	/*
	 * All of the destination first: fail before the first byte moves.
	 * The journal keeps what the source cannot give back: at most the
	 * shift's worth of bytes, so it is always on where it is small.
	 */
	rc = mm_journal_begin(&j.journal, f, journal ? count : 0,
	    journal ? lost_bytes(dest, src, count) : 0);
	j.journalled = journal && j.journal.on;
	if (rc == 0 &&
	    (rc = mm_reserve_write(f, dest, count)) == 0 &&
	    (rc = prefault_last(&j)) == 0)
		rc = mm_guard(move_chunks, &j);
	else if (rc == -ENOSPC && mm_file_shrank(f, NULL))
		/*
		 * Faulting in a page past the end fails as a full disk does;
		 * a file another process cut meanwhile is not a full disk:
		 * -EIO, as when the cut comes during the copy.
		 */
		rc = -EIO;
	rc = undo_failed(&j, rc);
	mm_journal_end(&j.journal);
	rc2 = mm_unmap(&m);
	free(j.buf);
	free(j.undo);
	return rc < 0 ? rc : rc2;
}

int
mm_move(struct mm_file *f, uint64_t dest, uint64_t src, uint64_t count,
    struct mm_progress *progress)
{
	return move(f, dest, src, count, progress, 1);
}

int
mm_move_unjournalled(struct mm_file *f, uint64_t dest, uint64_t src,
    uint64_t count, struct mm_progress *progress)
{
	return move(f, dest, src, count, progress, 0);
}
