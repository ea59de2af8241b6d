/*
 * search_int.h - what the parts of the search engine share inside it:
 * search.c compiles needles, picks the CPU level and holds the entry
 * points of search.h; search_twoway.c is the linear-time fallback,
 * search_portable.c the verifier and the kernel of every target,
 * search_set.c the multi-needle sets, and search_sse2.c, search_avx2.c,
 * search_avx512.c the x86 vector kernels.  Nothing outside
 * src/engine/search*.c (and the unit test) may rely on it.
 */
#ifndef MM_SEARCH_INT_H
#define MM_SEARCH_INT_H

#include <stddef.h>
#include <stdint.h>

#include "search.h"

#if defined(__x86_64__) || defined(__i386__)
#define MM_X86 1
#endif

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

/*
 * Frequency of what needle position (v, m) accepts, in a table of
 * mm_search_freq: UINT64_MAX for a wildcard, both cases for a letter.
 */
static inline uint64_t
mm_search_pos_freq(const uint64_t freq[256], unsigned char v,
    unsigned char m)
{
	if (m == 0)
		return UINT64_MAX;
	if (m == 0xdf)
		return freq[v] + freq[v | 0x20];
	return freq[v];
}

/* search.c */
enum mm_cpu	 mm_search_level(void);
void		 mm_search_freq(uint64_t freq[256], const unsigned char *,
		    size_t);
int		 mm_search_findall_loop(const struct mm_needle *,
		    const unsigned char *, size_t, size_t,
		    struct mm_findall *);
int		 mm_search_findall_tw(const struct mm_needle *,
		    const unsigned char *, size_t, size_t,
		    struct mm_findall *);
int		 mm_search_findall_scalar(const struct mm_needle *,
		    const unsigned char *, size_t, size_t, size_t,
		    struct mm_findall *);

/* search_twoway.c */
void		 mm_search_tw_prepare(const unsigned char *, size_t,
		    size_t *, size_t *, int *);
ptrdiff_t	 mm_search_tw_find(const struct mm_needle *,
		    const unsigned char *, size_t);
ptrdiff_t	 mm_search_tw_rfind(const struct mm_needle *,
		    const unsigned char *, size_t);

/* search_portable.c */
int		 mm_search_match(const struct mm_needle *,
		    const unsigned char *);
ptrdiff_t	 mm_search_scalar_find(const struct mm_needle *,
		    const unsigned char *, size_t, size_t, size_t);
ptrdiff_t	 mm_search_scalar_rfind(const struct mm_needle *,
		    const unsigned char *, size_t, size_t, size_t);
ptrdiff_t	 mm_find_portable(const struct mm_needle *,
		    const unsigned char *, size_t);
ptrdiff_t	 mm_rfind_portable(const struct mm_needle *,
		    const unsigned char *, size_t);

/* search_set.c */
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

#endif /* MM_SEARCH_INT_H */
