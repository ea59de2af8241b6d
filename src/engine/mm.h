/*
 * mm.h - the shared mmap engine of mmutils.
 *
 * The engine never prints and never exits: every function returns 0 (or a
 * count) on success and -errno on failure.  Applets word the messages and
 * choose the exit codes.
 */
#ifndef MM_H
#define MM_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Largest file offset: SPEC rejects anything above it. */
#define MM_OFF_MAX	((uint64_t)INT64_MAX)

struct mm_progress;

/* ---------------------------------------------------------------- files */

enum mm_access {
	MM_ACCESS_READ,		/* PROT_READ, MAP_SHARED, O_RDONLY */
	MM_ACCESS_WRITE,	/* PROT_READ|PROT_WRITE, MAP_SHARED, O_RDWR */
	MM_ACCESS_COPY		/* PROT_READ|PROT_WRITE, MAP_PRIVATE, O_RDONLY */
};

enum mm_kind {
	MM_KIND_REGULAR,	/* mapped; size from fstat */
	MM_KIND_BLOCK,		/* mapped; size from BLKGETSIZE64 */
	MM_KIND_STREAM,		/* pipe, FIFO, char device, /proc: read() only */
	MM_KIND_MEMORY		/* a stream slurped into memory (mm_file_slurp) */
};

struct mm_file {
	int		 fd;
	enum mm_kind	 kind;
	enum mm_access	 access;
	off_t		 size;		/* -1 for a stream not yet slurped */
	unsigned char	*mem;		/* MM_KIND_MEMORY: the bytes */
	int		 close_fd;	/* 0 for standard input */
};

#define MM_OPEN_CREATE	0x1	/* create a missing file (mode 0666 & ~umask) */
#define MM_OPEN_MAPPED	0x2	/* refuse what cannot be mapped: -ENODEV */
#define MM_OPEN_NOCREAT	0x4	/* with CREATE: report a missing file as -ENOENT */
#define MM_OPEN_EXCL	0x8	/* with CREATE: create or fail, -EEXIST */

/*
 * Open PATH ("-" is standard input) for ACCESS.  Directories give -EISDIR.
 * With MM_OPEN_MAPPED, pipes, FIFOs and character devices give -ENODEV
 * without being opened (so a FIFO never blocks a writer).
 */
int	mm_open(struct mm_file *, const char *path, enum mm_access, int flags);
int	mm_close(struct mm_file *);
/* Re-read the size (fstat or ioctl); the file may have changed. */
int	mm_file_stat(struct mm_file *);
/*
 * Whether another process made F shorter than F->size says: its size is
 * read again, F->size is left as it was, *NOW (unless NULL) gets the size
 * read.  The engine's operations ask this and leave F->size as they found
 * it, so that the caller can ask mm_fault_cause afterwards.
 */
int	mm_file_shrank(struct mm_file *, off_t *now);
/*
 * Why an operation on F that ended in ERR failed, when ERR is the -EIO
 * of a mapping's fault: MM_FAULT_SHRANK: the file is smaller than F->size
 * said (mm_file_shrank; F->size now says how small, *WAS what it was);
 * MM_FAULT_FULL: a full tmpfs, which cannot give a page even to a read of
 * a hole; MM_FAULT_NONE: any other error or cause.
 */
enum { MM_FAULT_NONE, MM_FAULT_SHRANK, MM_FAULT_FULL };
int	mm_fault_cause(struct mm_file *, int err, off_t *was);
/* Read a stream to its end into memory; afterwards it behaves as mapped. */
int	mm_file_slurp(struct mm_file *);
/*
 * Copy a stream to its end into an unnamed file in $TMPDIR (else /tmp),
 * as tac does, and go on as that regular file: memory stays bounded
 * whatever the stream's length; a full disk is -ENOSPC.
 */
int	mm_file_spool(struct mm_file *);
/* $TMPDIR, else /tmp. */
const char *mm_tmpdir(void);
/*
 * A new file in DIR with no name, gone when closed: O_TMPFILE where the
 * file system has it, else a named one removed at once.  fd or -errno.
 */
int	mm_unnamed_file(const char *dir);
/*
 * Read (OUT 0) or write (OUT 1) all N bytes at OFF of FD.  A read that
 * meets the end of the file, or a write that makes no progress, is -EIO.
 */
int	mm_transfer(int fd, void *buf, size_t n, uint64_t off, int out);

/*
 * How a scan's bytes reach it: MAP, windows of a mapping; READ, pread()
 * into reused buffers (a reader thread filling the next while the last
 * is searched); AUTO, whichever this file costs less, found by probing
 * it.  The answers are the same either way.
 */
enum mm_io {
	MM_IO_AUTO,
	MM_IO_MAP,
	MM_IO_READ
};

/* "auto", "mmap" or "read": 0 and *IO, or -EINVAL. */
int	mm_parse_io(const char *, enum mm_io *io);

/* ---------------------------------------------------------------- maps */

struct mm_map {
	unsigned char	*data;		/* the window: file offset OFF */
	size_t		 len;
	off_t		 off;
	void		*base;		/* what mmap returned (page aligned) */
	size_t		 baselen;
};

/*
 * Map [OFF, OFF+LEN) of F.  OFF need not be page aligned.  LEN 0 gives a
 * valid empty map without calling mmap (which would say EINVAL).  The
 * range must lie inside the file: -ERANGE otherwise.  Memory files give a
 * window into their buffer.
 */
int	mm_map(const struct mm_file *, off_t off, size_t len, struct mm_map *);
int	mm_unmap(struct mm_map *);

/*
 * A range longer than this is mapped a window at a time, so that a huge
 * file never needs a huge address range (nor a 32-bit one a large one).
 */
#define MM_WINDOW	((size_t)64 << 20)

/*
 * Walk [OFF, OFF+LEN) of F a window at a time: map at most WIN bytes
 * (MM_WINDOW unless a window has a cost of its own), call FN(ARG, MAP,
 * DONE) with DONE the bytes of the range before the window, unmap.  The
 * first non-zero return of FN (or an error of mapping) ends the walk and
 * is returned; 0 when every window was seen.
 */
int	mm_map_walk(const struct mm_file *, uint64_t off, uint64_t len,
	    size_t win, int (*fn)(void *arg, struct mm_map *, uint64_t done),
	    void *arg);
/* msync [OFF, OFF+LEN) of the map (file offsets), widened to pages. */
int	mm_map_sync(const struct mm_map *, off_t off, size_t len, int flags);

/*
 * Fault [P, P+LEN) of a writable shared mapping in for writing
 * (MADV_POPULATE_WRITE): on a sparse file this allocates the blocks, so a
 * full disk is an error return (-EFAULT, or -ENOMEM) before anything is
 * written rather than a SIGBUS half-way.  -EOPNOTSUPP on kernels before
 * 5.14, where callers write as they can.
 */
int	mm_prefault_write(void *p, size_t len);

/*
 * Fault [OFF, OFF+LEN) of F in for writing, a window at a time, so the
 * file system gives it whatever blocks a write there needs (touching each
 * page on kernels without MADV_POPULATE_WRITE).  0, -ENOSPC, or -errno.
 */
int	mm_populate_write(const struct mm_file *, uint64_t off, uint64_t len);

/*
 * Make sure that writing [OFF, OFF+LEN) of F cannot fail for want of
 * space: fault in for writing whatever may need new blocks (the holes, or
 * all of it on a file system that copies on write), with a fallback for
 * kernels without MADV_POPULATE_WRITE.  The bytes do not change.  0, or
 * -ENOSPC (also when the range now passes a cut file's end), or -errno.
 */
int	mm_reserve_write(const struct mm_file *, uint64_t off, uint64_t len);

/*
 * 1 when overwriting F's existing bytes needs no new blocks, so that
 * mm_reserve_write can promise a whole write (tmpfs, ext4); 0 where any
 * overwrite may need blocks (copy on write: btrfs, XFS reflinks) or we
 * cannot tell.
 */
int	mm_reserves_blocks(const struct mm_file *);

/*
 * Fault [P, P+LEN) of a mapping in a page at a time, by reading each
 * page's first byte or (WRITE) writing it back to itself: what kernels
 * before 5.14 do for MADV_POPULATE_READ and _WRITE.  Under mm_guard: a
 * page the file cannot give is -EIO.
 */
int	mm_touch_pages(void *p, size_t len, int write);

/*
 * Run FN(ARG) so that a SIGBUS raised while it touches a mapping (the file
 * was truncated under it, or an I/O error) makes mm_guard return -EIO
 * instead of killing the process.  Thread-safe and nestable.  FN must not
 * hold locks or allocations it cannot abandon.
 */
int	mm_guard(int (*fn)(void *), void *arg);

/* ---------------------------------------------------------------- reading */

/* Bytes per read() of a stream (spooling, slurping). */
#define MM_READ_BUFSIZE	(256 * 1024)

/* ---------------------------------------------------------------- parsing */

/*
 * Numbers: decimal or 0x hex, optional suffix K M G T P E (1024^n), KiB..EiB
 * (1024^n), KB..EB (1000^n), any case.  Nothing above MM_OFF_MAX.
 * mm_parse_size rejects a sign; mm_parse_offset accepts a leading '-'
 * (from the end: *NEG set, *VAL the magnitude).  -EINVAL for bad syntax,
 * -ERANGE for overflow.
 */
int	mm_parse_size(const char *, uint64_t *val);
int	mm_parse_offset(const char *, uint64_t *val, int *neg);
/* Resolve an offset against SIZE; -ERANGE if it falls before the start. */
int	mm_offset_resolve(uint64_t val, int neg, uint64_t size, uint64_t *out);

/*
 * One line of offsets as mmfind -a prints them (S, without its '\n'), cut
 * in place: blanks trimmed, then "FILE:" taken off (and blanks after it)
 * when FILE, if not NULL, is exactly the name the line starts with (as
 * mmfind -H prints it); a line of another file is an error, never read as
 * an offset.  With REST NULL the rest of the line is the offset (*TOK);
 * with REST, the offset ends at a blank and *REST is what follows the
 * blanks after it ("" for nothing).  1 for a blank line (nothing set), 0
 * and *VAL, *NEG, or -EINVAL, -ERANGE (bad offset *TOK) or -EXDEV (*TOK:
 * the whole line, which names another file).
 */
int	mm_parse_offset_line(char *s, const char *file, uint64_t *val,
	    int *neg, char **tok, char **rest);

/* A byte string, with an optional wildcard mask (mask[i] == 0: any byte). */
struct mm_bytes {
	unsigned char	*data;
	unsigned char	*mask;		/* NULL when every byte is fixed */
	size_t		 len;
};

/*
 * Hex: pairs of hex digits, whitespace and ':' allowed between pairs, a
 * leading 0x; "??" is a wildcard when WILD is set (-EINVAL otherwise).
 * On -EINVAL, *ERRPOS (if not NULL) is the index of the offending char.
 */
int	mm_parse_hex(const char *, int wild, struct mm_bytes *, size_t *errpos);
int	mm_bytes_text(const char *, struct mm_bytes *);
/* The whole content of PATH ("-": standard input). */
int	mm_bytes_file(const char *path, struct mm_bytes *);
void	mm_bytes_free(struct mm_bytes *);
/* Lowercase hex of LEN bytes into OUT (2*LEN chars + NUL). */
void	mm_hex_format(const unsigned char *, size_t len, char *out);

/* ---------------------------------------------------------------- writers */

/*
 * Whether this process may write a file up to offset END (exclusive):
 * -EFBIG when END passes RLIMIT_FSIZE (ulimit -f).  The kernel refuses
 * a write or pwrite whose range passes that limit even over bytes that
 * exist already, and an ftruncate or fallocate that grows a file past
 * it, but never checks stores through a mapping: a writer asks here
 * before its first byte changes rather than stop half-way.
 */
int	mm_fsize_check(uint64_t end);

/* Exclusive flock on F; waits for other writers. */
int	mm_lock(const struct mm_file *);

/*
 * Hold SIGINT, SIGTERM and SIGHUP while an operation that must not stop
 * half-way runs; mm_signals_release returns the signal that arrived
 * meanwhile (0 if none) and restores the old dispositions.
 */
void	mm_signals_hold(void);
int	mm_signals_release(void);
/* A signal held so far (0 if none): long loops may stop between steps. */
int	mm_signals_pending(void);

/* ---------------------------------------------------------------- progress */

/*
 * How far long work has come, for the front end to show (it alone
 * draws): the engine calls UPDATE with the bytes done so far, at every
 * chunk, and the front end decides what to show and how often.  A NULL
 * progress, or one without UPDATE, asks for nothing.
 */
struct mm_progress {
	void	(*update)(void *arg, uint64_t done);
	void	 *arg;
};

static inline void
mm_progress_update(struct mm_progress *p, uint64_t done)
{
	if (p != NULL && p->update != NULL)
		p->update(p->arg, done);
}

/* ---------------------------------------------------------------- misc */

size_t	mm_pagesize(void);
/*
 * [OFF, OFF+LEN) widened to whole pages, cut at the end of a file of SIZE
 * bytes: [*LO, *HI), empty (*HI == *LO) when LEN is 0.  -ERANGE when the
 * range does not lie inside the file.
 */
int	mm_page_span(uint64_t off, uint64_t len, uint64_t size, uint64_t *lo,
	    uint64_t *hi);
/* How many pages [LO, HI) touches (0 when empty). */
uint64_t mm_pages(uint64_t lo, uint64_t hi);
/* Seconds on the monotonic clock, for timeouts and rates. */
double	mm_now(void);

#endif /* MM_H */
