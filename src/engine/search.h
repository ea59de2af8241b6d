/*
 * search.h - byte-string search kernels of the mmutils engine.
 *
 * A needle is compiled once (mm_needle_new) against a byte-frequency sample
 * of the haystack, then searched any number of times, from any number of
 * threads, with no allocation per call.  Kernels are picked at compile time
 * from the level set by mm_cpu_detect()/mm_cpu_force(): AVX-512BW, AVX2,
 * SSE2 or portable C, all with the same answers.  No function reads outside
 * hay[0..haylen).
 */
#ifndef MM_SEARCH_H
#define MM_SEARCH_H

#include <stddef.h>
#include <sys/types.h>

enum mm_cpu {
	MM_CPU_PORTABLE = 0,
	MM_CPU_SSE2,
	MM_CPU_AVX2,
	MM_CPU_AVX512
};

/* Best level this CPU supports (runtime detection). */
enum mm_cpu	 mm_cpu_detect(void);
/* Use level for all later compiles; -ENOTSUP if the CPU lacks it. */
int		 mm_cpu_force(enum mm_cpu level);
/* "portable", "sse2", "avx2", "avx512"; "unknown" for anything else. */
const char	*mm_cpu_name(enum mm_cpu level);

#define MM_NEEDLE_ICASE	0x1	/* ASCII letters match either case */

struct mm_needle;

/*
 * Compile pat[0..len).  mask NULL, or mask[i] == 0 makes position i match
 * any byte.  sample[0..samplelen) (may be NULL/0) are haystack bytes that
 * rank byte frequency, so the prefilter compares the rarest positions.
 * Returns 0, -EINVAL or -ENOMEM.
 */
int		 mm_needle_new(struct mm_needle **np, const unsigned char *pat,
		    const unsigned char *mask, size_t len, int flags,
		    const unsigned char *sample, size_t samplelen);
void		 mm_needle_free(struct mm_needle *n);
size_t		 mm_needle_len(const struct mm_needle *n);
/* Lowest match offset in hay, or -1.  Empty needle: 0. */
ptrdiff_t	 mm_find(const struct mm_needle *n, const unsigned char *hay,
		    size_t haylen);
/* Highest match offset in hay, or -1.  Empty needle: haylen. */
ptrdiff_t	 mm_rfind(const struct mm_needle *n, const unsigned char *hay,
		    size_t haylen);
/*
 * Every match start in hay[0..haylen), in increasing order, with cb(ctx,
 * off) called for each: non-overlapping (the next search starts at
 * start + len) or, with overlap, every start.  A non-zero cb return stops
 * the search and is returned; 0 at the end.  Empty needle: every offset
 * 0..haylen.  The same answers as repeated mm_find, without leaving the
 * kernel between matches.
 */
typedef int	(*mm_hit_fn)(void *ctx, size_t off);
int		 mm_findall(const struct mm_needle *n, const unsigned char *hay,
		    size_t haylen, int overlap, mm_hit_fn cb, void *ctx);
/*
 * Copy up to cap bytes of hay, taken from spread-out 4-16 KiB windows, into
 * out as a frequency sample for mm_needle_new; returns bytes copied.
 */
size_t		 mm_sample(const unsigned char *hay, size_t haylen,
		    unsigned char *out, size_t cap);

struct mm_needleset;

/*
 * Search several needles in one pass.  The set does not own the needles;
 * they must outlive it.  Returns 0, -EINVAL or -ENOMEM.
 */
int		 mm_needleset_new(struct mm_needleset **sp,
		    struct mm_needle *const *needles, size_t count,
		    const unsigned char *sample, size_t samplelen);
void		 mm_needleset_free(struct mm_needleset *s);
/*
 * Leftmost match of any needle, or -1; *which gets its index.  At one
 * offset the longest needle wins, then the lowest index.
 */
ptrdiff_t	 mm_findset(const struct mm_needleset *s,
		    const unsigned char *hay, size_t haylen, size_t *which);
/* Rightmost match start; at one offset the longest wins, then lowest index. */
ptrdiff_t	 mm_rfindset(const struct mm_needleset *s,
		    const unsigned char *hay, size_t haylen, size_t *which);

#ifdef MM_SEARCH_PRIVATE
/*
 * Shared between search.c and the per-ISA kernel files only; nothing
 * outside src/engine/search*.c may rely on it.
 */
#include <stdint.h>

typedef ptrdiff_t (*mm_find_fn)(const struct mm_needle *,
    const unsigned char *, size_t);

/*
 * Every needle position is a (value, and-mask) pair: haystack byte h
 * matches when (h & msk) == val.  msk is 0xff for an exact byte, 0xdf for
 * an ASCII letter under ICASE (val is then the upper-case letter) and 0 for
 * a wildcard; one rule serves the SIMD filter and every verifier.
 */
struct mm_needle {
	size_t		 len;
	int		 flags;
	int		 plain;		/* no wildcard, no icase: memcmp */
	int		 wild;		/* has a wildcard: no Two-Way */
	int		 npos;		/* prefilter positions, 0..3 */
	int		 start3;	/* the sample predicts a dense pair */
	int		 fold;		/* a prefilter position needs the AND */
	size_t		 nchunk;	/* 64-byte verify chunks */
	size_t		 pos[3];	/* rarest first */
	unsigned char	 pv[3];
	unsigned char	 pm[3];
	unsigned char	*val;		/* len rounded up to 64, zero padded */
	unsigned char	*msk;
	unsigned char	*rval;		/* val reversed, for reverse Two-Way */
	size_t		 tw_suffix, tw_period;
	size_t		 twr_suffix, twr_period;
	int		 tw_periodic, twr_periodic;
	const unsigned char *canon;	/* identity, or ASCII upper case */
	enum mm_cpu	 level;
	mm_find_fn	 find;
	mm_find_fn	 rfind;
};

/* Teddy-style set: up to 8 buckets, a 3-byte fingerprint per needle. */
#define MM_SET_FP	3

struct mm_needleset {
	size_t		 count;
	struct mm_needle **needles;
	size_t		*off;		/* fingerprint offset in each needle */
	size_t		 maxoff;
	size_t		*members;	/* needle indexes grouped by bucket */
	size_t		 bstart[9];	/* bucket b: [bstart[b], bstart[b+1]) */
	unsigned char	 lo[MM_SET_FP][16];	/* bit b: bucket b */
	unsigned char	 hi[MM_SET_FP][16];
	unsigned char	 tab[MM_SET_FP][256];	/* the same, per byte */
	int		 has_short;	/* a needle shorter than MM_SET_FP */
	int		 has_empty;
	size_t		 empty_idx;
	enum mm_cpu	 level;
};

/* Best match so far of a set scan. */
struct mm_setbest {
	ptrdiff_t	 off;		/* -1: none yet */
	size_t		 len;
	size_t		 idx;
};

/*
 * Has the filter stopped filtering?  cand false candidates over scanned
 * bytes.  bail 1: pairs are dense, escalate to three positions (a verify
 * costs as much as scanning ~256 bytes at memory speed, so at one per KiB
 * the third compare, ~10% on streaming, already pays).  bail 2: the
 * verify work of a long needle outgrows the bytes scanned, hand over to
 * Two-Way so the whole search stays linear.  Needles of at most 64 bytes
 * never need it: one verify is O(1) per position already.
 */
static inline int
mm_search_dense(const struct mm_needle *n, int bail, size_t cand,
    size_t scanned)
{
	if (bail == 1)
		return cand > (scanned >> 10) + 16;
	if (bail == 2)
		return !n->wild && n->nchunk > 1 &&
		    cand * n->nchunk > (scanned >> 1) + 1024;
	return 0;
}

/*
 * A find-all in progress: matches starting before skip are not wanted.
 * Kernels queue matches in buf and hand a full batch to cb at once, so
 * the loop does not spill its vector registers around a call per match.
 */
#define MM_FINDALL_BATCH	64

struct mm_findall {
	mm_hit_fn	 cb;
	void		*ctx;
	size_t		 adv;		/* 1 or the needle length */
	size_t		 skip;
	int		 rc;		/* cb's non-zero return */
	size_t		 nbuf;
	size_t		 buf[MM_FINDALL_BATCH];
};

/* Queue match c; 1 when a flush made cb say stop (a->rc). */
int		 mm_search_findall_flush(struct mm_findall *);

static inline int
mm_search_findall_hit(struct mm_findall *a, size_t c)
{
	a->buf[a->nbuf++] = c;
	a->skip = c + a->adv;
	return a->nbuf == MM_FINDALL_BATCH && mm_search_findall_flush(a);
}

/* search.c */
int		 mm_search_findall_loop(const struct mm_needle *,
		    const unsigned char *, size_t, size_t,
		    struct mm_findall *);
int		 mm_search_findall_tw(const struct mm_needle *,
		    const unsigned char *, size_t, size_t,
		    struct mm_findall *);
int		 mm_search_findall_scalar(const struct mm_needle *,
		    const unsigned char *, size_t, size_t, size_t,
		    struct mm_findall *);
int		 mm_search_match(const struct mm_needle *,
		    const unsigned char *);
ptrdiff_t	 mm_search_tw_find(const struct mm_needle *,
		    const unsigned char *, size_t);
ptrdiff_t	 mm_search_tw_rfind(const struct mm_needle *,
		    const unsigned char *, size_t);
ptrdiff_t	 mm_search_scalar_find(const struct mm_needle *,
		    const unsigned char *, size_t, size_t, size_t);
ptrdiff_t	 mm_search_scalar_rfind(const struct mm_needle *,
		    const unsigned char *, size_t, size_t, size_t);
void		 mm_search_set_cand(const struct mm_needleset *,
		    const unsigned char *, size_t, size_t, unsigned int,
		    int, struct mm_setbest *);
void		 mm_search_set_scalar(const struct mm_needleset *,
		    const unsigned char *, size_t, size_t, size_t, int,
		    struct mm_setbest *);

/* search_sse2.c, search_avx2.c, search_avx512.c (x86 only) */
ptrdiff_t	 mm_find_sse2(const struct mm_needle *, const unsigned char *,
		    size_t);
ptrdiff_t	 mm_rfind_sse2(const struct mm_needle *, const unsigned char *,
		    size_t);
ptrdiff_t	 mm_find_avx2(const struct mm_needle *, const unsigned char *,
		    size_t);
ptrdiff_t	 mm_rfind_avx2(const struct mm_needle *, const unsigned char *,
		    size_t);
ptrdiff_t	 mm_find_avx512(const struct mm_needle *, const unsigned char *,
		    size_t);
ptrdiff_t	 mm_rfind_avx512(const struct mm_needle *,
		    const unsigned char *, size_t);
int		 mm_findall_avx2(const struct mm_needle *,
		    const unsigned char *, size_t, struct mm_findall *);
int		 mm_findall_avx512(const struct mm_needle *,
		    const unsigned char *, size_t, struct mm_findall *);
void		 mm_setscan_avx2(const struct mm_needleset *,
		    const unsigned char *, size_t, int, struct mm_setbest *);
void		 mm_setscan_avx512(const struct mm_needleset *,
		    const unsigned char *, size_t, int, struct mm_setbest *);
#endif /* MM_SEARCH_PRIVATE */

#endif /* MM_SEARCH_H */
