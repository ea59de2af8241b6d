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

#endif /* MM_SEARCH_H */
