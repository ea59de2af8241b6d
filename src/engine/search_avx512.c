/*
 * search_avx512.c - AVX-512BW packed-pair search, forward and backward,
 * and the Teddy set scanner.
 *
 * search_kernel.h over 64-byte vectors, with this file's filter: for each
 * filter position t the vector at hay + i + pos[t] is XORed with the
 * broadcast needle byte and the results ORed, so a zero byte c means
 * every filter byte matches for a needle starting at i + c.  Survivors are
 * verified with one masked 64-byte compare per needle chunk.  The loop
 * covers 2 x 64 positions per iteration after one lone block: measured
 * here, 4 x 64 and software prefetch bought nothing on streaming scans
 * (both run at the OR-scan limit) and cost 10-20% on find-all loops with
 * close matches, where every call pays for the blocks past its match.
 * Tails use masked loads, which do not fault on masked-off bytes, so
 * nothing outside hay[0..haylen) is read.
 * Functions carry target attributes, so the file builds with plain CFLAGS;
 * search.c only calls them after mm_cpu_detect() said AVX512.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stddef.h>
#include <stdint.h>

#include "search_int.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

#define T512	__attribute__((target("avx512f,avx512bw,avx512vl,bmi,bmi2")))

/*
 * The kernel of search_kernel.h: one lone vector, then 2 x 64 positions
 * per iteration; the find-all loop takes one vector, not two: where
 * matches are dense (a common word in text) the "any candidate" branch
 * is what costs, and a narrower block mispredicts it less (measured here:
 * 156 -> 134 ms for "that" over 1 GiB of text).  A filter result is zero
 * in the lanes of candidates, so two results combine by their minimum.
 */
#define KERN_ISA	avx512
#define KERN_T		T512
typedef __m512i		kvec;
typedef __mmask64	kmask;
#define KERN_W		64
#define KERN_FULL	(~(__mmask64)0)
#define KERN_U		2
#define KERN_UALL	1
#define KERN_LEAD	1
#define KERN_MASKED	1
#define KERN_SET1(c)	_mm512_set1_epi8(c)
#define KERN_LOADU(p)	_mm512_loadu_si512((const void *)(p))
#define KERN_COMB(a, b)	_mm512_min_epu8(a, b)
#define KERN_NONE(r)	(_mm512_testn_epi8_mask(r, r) == 0)
#define KERN_MASK(r)	_mm512_testn_epi8_mask(r, r)
#define KERN_CTZ(m)	__builtin_ctzll(m)
#define KERN_TOP(m)	(63 - __builtin_clzll(m))
/* The pieces of the Teddy set scanner below that search_kernel.h holds */
#define KERN_STOREU(p, v) _mm512_storeu_si512((void *)(p), v)
#define KERN_BCAST16(p) _mm512_broadcast_i32x4(			\
	_mm_loadu_si128((const __m128i *)(const void *)(p)))
#define KERN_TEDDY	1

/* mm_find_avx512, mm_rfind_avx512, mm_findall_avx512 */
#include "search_kernel.h"

#define ONES	KERN_FULL

INLINE T512 __m512i
load(const unsigned char *p, __mmask64 k, const int partial)
{
	if (partial)
		return _mm512_maskz_loadu_epi8(k, p);
	return _mm512_loadu_si512((const void *)p);
}

/*
 * Byte c of the result is zero when every filter byte matches for a start
 * at i + c.  XOR-and-OR (ternary logic) keeps the dependency chain at
 * three single-cycle ops and off port 5, where byte compares into mask
 * registers queue; that chain is what a find-all loop waits on after
 * every match.
 */
INLINE T512 __m512i
filtv(const struct filt *f, size_t i, __mmask64 k, const int np,
    const int fold, const int partial)
{
	__m512i x0, x1, x2, r;

	x0 = load(f->q0 + i, k, partial);
	if (fold) {
		/* (x & m) ^ b, then OR of the three */
		r = _mm512_ternarylogic_epi32(x0, f->m0, f->b0, 0x6a);
		if (np >= 2) {
			x1 = load(f->q1 + i, k, partial);
			x1 = _mm512_ternarylogic_epi32(x1, f->m1, f->b1, 0x6a);
			if (np >= 3) {
				x2 = load(f->q2 + i, k, partial);
				x2 = _mm512_ternarylogic_epi32(x2, f->m2, f->b2,
				    0x6a);
				r = _mm512_ternarylogic_epi32(r, x1, x2, 0xfe);
			} else
				r = _mm512_or_si512(r, x1);
		}
		return r;
	}
	r = _mm512_xor_si512(x0, f->b0);
	if (np >= 2) {
		/* r | (x ^ b) */
		x1 = load(f->q1 + i, k, partial);
		r = _mm512_ternarylogic_epi32(r, x1, f->b1, 0xf6);
	}
	if (np >= 3) {
		x2 = load(f->q2 + i, k, partial);
		r = _mm512_ternarylogic_epi32(r, x2, f->b2, 0xf6);
	}
	return r;
}

INLINE T512 __m512i
kfilt(const struct filt *f, size_t i, const int np, const int fold)
{
	return filtv(f, i, ONES, np, fold, 0);
}

/* Masked loads do not fault on masked-off bytes. */
INLINE T512 __mmask64
kfilt_part(const struct filt *f, size_t i, size_t cnt, const int np,
    const int fold)
{
	__m512i r;
	__mmask64 k;

	k = lowmask(cnt);
	r = filtv(f, i, k, np, fold, 1);
	return _mm512_mask_testn_epi8_mask(k, r, r);
}

/* One masked 64-byte compare per needle chunk. */
INLINE T512 int
verify(const struct mm_needle *n, const unsigned char *hay, size_t haylen,
    size_t c, __m512i v0, __m512i m0, __mmask64 k0)
{
	const unsigned char *p = hay + c;
	__m512i h;
	size_t off;
	__mmask64 k;

	(void)haylen;
	h = _mm512_maskz_loadu_epi8(k0, p);
	if (_mm512_mask_cmpneq_epi8_mask(k0, _mm512_and_si512(h, m0), v0))
		return 0;
	for (off = 64; off < n->len; off += 64) {
		k = lowmask(n->len - off);
		h = _mm512_maskz_loadu_epi8(k, p + off);
		h = _mm512_and_si512(h,
		    _mm512_loadu_si512((const void *)(n->msk + off)));
		if (_mm512_mask_cmpneq_epi8_mask(k, h,
		    _mm512_loadu_si512((const void *)(n->val + off))))
			return 0;
	}
	return 1;
}

/* ------------------------------------------------------------- Teddy */

/* Bucket bits of the bytes h: the lo-nibble and hi-nibble lookups ANDed. */
INLINE T512 __m512i
fp1(__m512i h, __m512i lo, __m512i hi, __m512i nib)
{
	return _mm512_and_si512(_mm512_shuffle_epi8(lo,
	    _mm512_and_si512(h, nib)), _mm512_shuffle_epi8(hi,
	    _mm512_and_si512(_mm512_srli_epi16(h, 4), nib)));
}

/* Byte c: the buckets whose 3-byte fingerprint matches at p + c. */
INLINE T512 __m512i
fp_block(const struct fpt *f, const unsigned char *p, __mmask64 k,
    const int partial)
{
	__m512i r;

	r = fp1(load(p, k, partial), f->lo0, f->hi0, f->nib);
	r = _mm512_and_si512(r, fp1(load(p + 1, k, partial), f->lo1, f->hi1,
	    f->nib));
	return _mm512_and_si512(r, fp1(load(p + 2, k, partial), f->lo2,
	    f->hi2, f->nib));
}

#define ANY(r)		_mm512_test_epi8_mask(r, r)

/* Fingerprint positions [0, haylen - 2); see search_set.c for the rules. */
T512 void
mm_setscan_avx512(const struct mm_needleset *s, const unsigned char *hay,
    size_t haylen, int rv, struct mm_setbest *best)
{
	struct fpt f;
	__m512i r0, r1;
	__mmask64 k;
	size_t J = haylen - (MM_SET_FP - 1), j, e, b;

	fpt_setup(&f, s);
	if (!rv) {
		for (j = 0; j + 128 <= J && best->off < 0; j += 128) {
			r0 = fp_block(&f, hay + j, ONES, 0);
			r1 = fp_block(&f, hay + j + 64, ONES, 0);
			if (__builtin_expect(ANY(_mm512_or_si512(r0, r1)) == 0,
			    1))
				continue;
			if (ANY(r0) != 0)
				set_block(s, hay, haylen, j, r0, ANY(r0), 0,
				    best);
			if (ANY(r1) != 0)
				set_block(s, hay, haylen, j + 64, r1, ANY(r1),
				    0, best);
		}
		for (; j < J; j += 64) {
			if (best->off >= 0 && j > (size_t)best->off + s->maxoff)
				return;
			k = lowmask(J - j);
			r0 = fp_block(&f, hay + j, k, k != ONES);
			if (_mm512_mask_test_epi8_mask(k, r0, r0) != 0)
				set_block(s, hay, haylen, j, r0,
				    _mm512_mask_test_epi8_mask(k, r0, r0), 0,
				    best);
		}
		return;
	}
	for (e = J; e >= 128 && best->off < 0; e = b) {
		b = e - 128;
		r0 = fp_block(&f, hay + b, ONES, 0);
		r1 = fp_block(&f, hay + b + 64, ONES, 0);
		if (__builtin_expect(ANY(_mm512_or_si512(r0, r1)) == 0, 1))
			continue;
		if (ANY(r1) != 0)
			set_block(s, hay, haylen, b + 64, r1, ANY(r1), 1, best);
		if (ANY(r0) != 0)
			set_block(s, hay, haylen, b, r0, ANY(r0), 1, best);
	}
	while (e > 0) {
		if (best->off >= 0 && e <= (size_t)best->off)
			return;
		b = e >= 64 ? e - 64 : 0;
		k = lowmask(e - b);
		r0 = fp_block(&f, hay + b, k, k != ONES);
		if (_mm512_mask_test_epi8_mask(k, r0, r0) != 0)
			set_block(s, hay, haylen, b, r0,
			    _mm512_mask_test_epi8_mask(k, r0, r0), 1, best);
		e = b;
	}
}

#else
/* Not x86: search.c and search_set.c never call this file. */
typedef int mm_search_avx512_unused;
#endif
