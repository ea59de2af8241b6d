/*
 * search_avx2.c - AVX2 packed-pair search, forward and backward, and the
 * Teddy set scanner.
 *
 * search_kernel.h over 32-byte vectors.  AVX2 has no fault-free masked
 * byte loads, so the kernel's tails redo the last partial block as one
 * full vector ending exactly at the last start position, and haystacks
 * too short for even one vector go to the scalar scanner in search_portable.c.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stddef.h>
#include <stdint.h>

#include "search_int.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

#define T256	__attribute__((target("avx2,bmi,bmi2")))

/*
 * The kernel of search_kernel.h on 4 x 32 positions per iteration; the
 * find-all loop takes two vectors, not four: with dense matches the "any
 * candidate" branch is what costs, and a narrower block mispredicts it
 * less (measured here: 170 -> 140 ms for "that" over 1 GiB of text).
 */
#define KERN_ISA	avx2
#define KERN_T		T256
typedef __m256i		kvec;
typedef unsigned int	kmask;
#define KERN_W		32
#define KERN_FULL	(~0u)
#define KERN_U		4
#define KERN_UALL	2
#define KERN_LEAD	0
#define KERN_SET1(c)	_mm256_set1_epi8(c)
#define KERN_LOADU(p)	_mm256_loadu_si256((const __m256i *)(p))
#define KERN_AND(a, b)	_mm256_and_si256(a, b)
#define KERN_CMPEQ(a, b) _mm256_cmpeq_epi8(a, b)
#define KERN_COMB(a, b)	_mm256_or_si256(a, b)
#define KERN_NONE(r)	_mm256_testz_si256(r, _mm256_set1_epi8(-1))
#define KERN_MASK(r)	((unsigned int)_mm256_movemask_epi8(r))
#define KERN_CTZ(m)	__builtin_ctz(m)
#define KERN_TOP(m)	(31 - __builtin_clz(m))
/* The pieces of the Teddy set scanner below that search_kernel.h holds */
#define KERN_STOREU(p, v) _mm256_storeu_si256((__m256i *)(void *)(p), v)
#define KERN_BCAST16(p) _mm256_broadcastsi128_si256(			\
	_mm_loadu_si128((const __m128i *)(const void *)(p)))
#define KERN_TEDDY	1

/* mm_find_avx2, mm_rfind_avx2, mm_findall_avx2 */
#include "search_kernel.h"

/* ------------------------------------------------------------- Teddy */

/* Bucket bits of the bytes h: the lo-nibble and hi-nibble lookups ANDed. */
INLINE T256 __m256i
fp1(const unsigned char *p, __m256i lo, __m256i hi, __m256i nib)
{
	__m256i h;

	h = _mm256_loadu_si256((const __m256i *)p);
	return _mm256_and_si256(_mm256_shuffle_epi8(lo,
	    _mm256_and_si256(h, nib)), _mm256_shuffle_epi8(hi,
	    _mm256_and_si256(_mm256_srli_epi16(h, 4), nib)));
}

/* Byte c: the buckets whose 3-byte fingerprint matches at p + c. */
INLINE T256 __m256i
fp_block(const struct fpt *f, const unsigned char *p)
{
	return _mm256_and_si256(_mm256_and_si256(
	    fp1(p, f->lo0, f->hi0, f->nib), fp1(p + 1, f->lo1, f->hi1, f->nib)),
	    fp1(p + 2, f->lo2, f->hi2, f->nib));
}

/* A bit for each lane where r is not zero. */
#define ANY(r)		(~(unsigned int)_mm256_movemask_epi8(		\
	_mm256_cmpeq_epi8(r, _mm256_setzero_si256())))

/* Fingerprint positions [0, haylen - 2); see search_set.c for the rules. */
T256 void
mm_setscan_avx2(const struct mm_needleset *s, const unsigned char *hay,
    size_t haylen, int rv, struct mm_setbest *best)
{
	struct fpt f;
	__m256i r0, r1;
	size_t J = haylen - (MM_SET_FP - 1), j, e;

	fpt_setup(&f, s);
	if (!rv) {
		for (j = 0; j + 64 <= J; j += 64) {
			if (best->off >= 0 && j > (size_t)best->off + s->maxoff)
				return;
			r0 = fp_block(&f, hay + j);
			r1 = fp_block(&f, hay + j + 32);
			if (__builtin_expect(KERN_NONE(KERN_COMB(r0, r1)), 1))
				continue;
			set_block(s, hay, haylen, j, r0, ANY(r0), 0, best);
			set_block(s, hay, haylen, j + 32, r1, ANY(r1), 0,
			    best);
		}
		mm_search_set_scalar(s, hay, haylen, j, J, 0, best);
		return;
	}
	for (e = J; e >= 64; e -= 64) {
		if (best->off >= 0 && e <= (size_t)best->off)
			return;
		r0 = fp_block(&f, hay + e - 64);
		r1 = fp_block(&f, hay + e - 32);
		if (__builtin_expect(KERN_NONE(KERN_COMB(r0, r1)), 1))
			continue;
		set_block(s, hay, haylen, e - 32, r1, ANY(r1), 1, best);
		set_block(s, hay, haylen, e - 64, r0, ANY(r0), 1, best);
	}
	mm_search_set_scalar(s, hay, haylen, 0, e, 1, best);
}

#else
/* Not x86: search.c and search_set.c never call this file. */
typedef int mm_search_avx2_unused;
#endif
