/*
 * search_avx512.c - AVX-512BW packed-pair search, forward and backward,
 * and the Teddy set scanner.
 *
 * For each filter position t the vector at hay + i + pos[t] is XORed with
 * the broadcast needle byte and the results ORed, so a zero byte c means
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
#define INLINE	static inline __attribute__((always_inline))

INLINE __mmask64
lowmask(size_t cnt)
{
	return cnt >= 64 ? ~(__mmask64)0 : (((__mmask64)1 << cnt) - 1);
}

/* Broadcast filter bytes; kept in named registers, never in an array. */
struct filt {
	const unsigned char *q0, *q1, *q2;
	__m512i		 b0, b1, b2, m0, m1, m2;
};

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

/* Filter 64 start positions at i; k limits lanes for tails. */
INLINE T512 __mmask64
filt(const struct filt *f, size_t i, __mmask64 k, const int np,
    const int fold, const int partial)
{
	__m512i r;

	r = filtv(f, i, k, np, fold, partial);
	return _mm512_mask_testn_epi8_mask(k, r, r);
}

#define ONES	(~(__mmask64)0)

INLINE T512 int
verify(const struct mm_needle *n, const unsigned char *p, __m512i v0,
    __m512i m0, __mmask64 k0)
{
	__m512i h;
	size_t off;
	__mmask64 k;

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

INLINE T512 void
setup(struct filt *f, const struct mm_needle *n, const unsigned char *hay,
    const int np)
{
	f->q0 = hay + n->pos[0];
	f->b0 = _mm512_set1_epi8((char)n->pv[0]);
	f->m0 = _mm512_set1_epi8((char)n->pm[0]);
	f->q1 = f->q2 = f->q0;
	f->b1 = f->b2 = f->b0;
	f->m1 = f->m2 = f->m0;
	if (np >= 2) {
		f->q1 = hay + n->pos[1];
		f->b1 = _mm512_set1_epi8((char)n->pv[1]);
		f->m1 = _mm512_set1_epi8((char)n->pm[1]);
	}
	if (np >= 3) {
		f->q2 = hay + n->pos[2];
		f->b2 = _mm512_set1_epi8((char)n->pv[2]);
		f->m2 = _mm512_set1_epi8((char)n->pm[2]);
	}
}

/* Verify the set bits of mask, lowest first, as starts base + bit. */
#define CHECK(base, mask) do {						\
	while ((mask) != 0) {						\
		c = (base) + (size_t)__builtin_ctzll(mask);		\
		if (verify(n, hay + c, v0, m0, k0))			\
			return (ptrdiff_t)c;				\
		(mask) &= (mask) - 1;					\
		cand++;							\
	}								\
} while (0)

/* The same, highest first. */
#define RCHECK(base, mask) do {						\
	while ((mask) != 0) {						\
		bit = 63 - __builtin_clzll(mask);			\
		c = (base) + (size_t)bit;				\
		if (verify(n, hay + c, v0, m0, k0))			\
			return (ptrdiff_t)c;				\
		(mask) &= ~((__mmask64)1 << bit);			\
		cand++;							\
	}								\
} while (0)

/*
 * Starts [*ip, haylen - len] in ascending order.  Returns the match, -1,
 * or -2 with *ip set when mm_search_dense() says to change strategy.
 */
INLINE T512 ptrdiff_t
fwd(const struct mm_needle *n, const unsigned char *hay, size_t haylen,
    size_t *ip, const int np, const int fold, int bail)
{
	struct filt f;
	__m512i v0, m0;
	__m512i r0, r1, r2;
	__mmask64 k0, a0, a1, k;
	const size_t last = haylen - n->len;
	size_t i = *ip, start = *ip, cand = 0, c;

	setup(&f, n, hay, np);
	k0 = lowmask(n->len);
	v0 = _mm512_loadu_si512((const void *)n->val);
	m0 = _mm512_loadu_si512((const void *)n->msk);
	/*
	 * One block first: in find-all loops the next match is often close,
	 * and a quick answer beats a wide one.
	 */
	if (i + 63 <= last) {
		a0 = filt(&f, i, ONES, np, fold, 0);
		CHECK(i, a0);
		i += 64;
	}
	while (i + 127 <= last) {
		r0 = filtv(&f, i, ONES, np, fold, 0);
		r1 = filtv(&f, i + 64, ONES, np, fold, 0);
		r2 = _mm512_min_epu8(r0, r1);
		if (__builtin_expect(!_mm512_testn_epi8_mask(r2, r2), 1)) {
			i += 128;
			continue;
		}
		a0 = _mm512_testn_epi8_mask(r0, r0);
		a1 = _mm512_testn_epi8_mask(r1, r1);
		CHECK(i, a0);
		CHECK(i + 64, a1);
		i += 128;
		if (bail && mm_search_dense(n, bail, cand, i - start)) {
			*ip = i;
			return -2;
		}
	}
	for (; i <= last; i += 64) {
		k = lowmask(last - i + 1);
		if (k == ONES)
			a0 = filt(&f, i, k, np, fold, 0);
		else
			a0 = filt(&f, i, k, np, fold, 1);
		CHECK(i, a0);
	}
	return -1;
}

/*
 * fwd's loop for find-all: every verified start at or after a->skip is
 * queued for the callback inside the loop.  0 at the end, 1 when the
 * callback said stop, -2 with *ip set as fwd.  One block per iteration,
 * not two: where matches are dense (a common word in text) the "any
 * candidate" branch is what costs, and a narrower block mispredicts it
 * less (measured here: 156 -> 134 ms for "that" over 1 GiB of text).
 */
#define CHECKALL(base, mask) do {					\
	while ((mask) != 0) {						\
		c = (base) + (size_t)__builtin_ctzll(mask);		\
		(mask) &= (mask) - 1;					\
		if (c < a->skip)					\
			continue;					\
		if (!verify(n, hay + c, v0, m0, k0)) {			\
			cand++;						\
			continue;					\
		}							\
		if (mm_search_findall_hit(a, c))			\
			return 1;					\
	}								\
} while (0)

INLINE T512 int
fwdall(const struct mm_needle *n, const unsigned char *hay, size_t haylen,
    size_t *ip, const int np, const int fold, int bail, struct mm_findall *a)
{
	struct filt f;
	__m512i v0, m0;
	__mmask64 k0, a0, k;
	const size_t last = haylen - n->len;
	size_t i = *ip, start = *ip, cand = 0, c;

	setup(&f, n, hay, np);
	k0 = lowmask(n->len);
	v0 = _mm512_loadu_si512((const void *)n->val);
	m0 = _mm512_loadu_si512((const void *)n->msk);
	while (i + 63 <= last) {
		a0 = filt(&f, i, ONES, np, fold, 0);
		if (__builtin_expect(a0 == 0, 1)) {
			i += 64;
			continue;
		}
		CHECKALL(i, a0);
		i += 64;
		if (bail && mm_search_dense(n, bail, cand, i - start)) {
			*ip = i;
			return -2;
		}
	}
	for (; i <= last; i += 64) {
		k = lowmask(last - i + 1);
		if (k == ONES)
			a0 = filt(&f, i, k, np, fold, 0);
		else
			a0 = filt(&f, i, k, np, fold, 1);
		CHECKALL(i, a0);
	}
	return 0;
}

/* Starts [0, *ep) in descending order; as fwd otherwise. */
INLINE T512 ptrdiff_t
rev(const struct mm_needle *n, const unsigned char *hay, size_t *ep,
    const int np, const int fold, int bail)
{
	struct filt f;
	__m512i v0, m0, r0, r1, r2;
	__mmask64 k0, a0, a1;
	size_t e = *ep, start = *ep, cand = 0, c, b;
	int bit;

	setup(&f, n, hay, np);
	k0 = lowmask(n->len);
	v0 = _mm512_loadu_si512((const void *)n->val);
	m0 = _mm512_loadu_si512((const void *)n->msk);
	if (e >= 64) {
		a0 = filt(&f, e - 64, ONES, np, fold, 0);
		RCHECK(e - 64, a0);
		e -= 64;
	}
	while (e >= 128) {
		b = e - 128;
		r0 = filtv(&f, b, ONES, np, fold, 0);
		r1 = filtv(&f, b + 64, ONES, np, fold, 0);
		r2 = _mm512_min_epu8(r0, r1);
		if (__builtin_expect(!_mm512_testn_epi8_mask(r2, r2), 1)) {
			e = b;
			continue;
		}
		a0 = _mm512_testn_epi8_mask(r0, r0);
		a1 = _mm512_testn_epi8_mask(r1, r1);
		RCHECK(b + 64, a1);
		RCHECK(b, a0);
		e = b;
		if (bail && mm_search_dense(n, bail, cand, start - e)) {
			*ep = e;
			return -2;
		}
	}
	while (e > 0) {
		b = e >= 64 ? e - 64 : 0;
		if (e - b == 64)
			a0 = filt(&f, b, ONES, np, fold, 0);
		else
			a0 = filt(&f, b, lowmask(e - b), np, fold, 1);
		RCHECK(b, a0);
		e = b;
	}
	return -1;
}

/*
 * One out-of-line instance per (positions, fold): each gets the whole
 * register file, so the loop keeps its broadcasts out of the stack.
 */
#define INST(np, fold)							\
static T512 __attribute__((noinline)) ptrdiff_t			\
fwd_##np##fold(const struct mm_needle *n, const unsigned char *hay,	\
    size_t haylen, size_t *ip, int bail)				\
{									\
	return fwd(n, hay, haylen, ip, np, fold, bail);			\
}									\
static T512 __attribute__((noinline)) ptrdiff_t			\
rev_##np##fold(const struct mm_needle *n, const unsigned char *hay,	\
    size_t haylen, size_t *ep, int bail)				\
{									\
	(void)haylen;							\
	return rev(n, hay, ep, np, fold, bail);			\
}
INST(1, 0)
INST(2, 0)
INST(3, 0)
INST(1, 1)
INST(2, 1)
INST(3, 1)
#undef INST

#define INST(np, fold)							\
static T512 __attribute__((noinline)) int				\
fwdall_##np##fold(const struct mm_needle *n, const unsigned char *hay,	\
    size_t haylen, size_t *ip, int bail, struct mm_findall *a)		\
{									\
	return fwdall(n, hay, haylen, ip, np, fold, bail, a);		\
}
INST(1, 0)
INST(2, 0)
INST(3, 0)
INST(1, 1)
INST(2, 1)
INST(3, 1)
#undef INST

static T512 int
fwdall_np(const struct mm_needle *n, const unsigned char *hay, size_t haylen,
    size_t *ip, int np, int bail, struct mm_findall *a)
{
	if (n->fold)
		return np == 1 ? fwdall_11(n, hay, haylen, ip, bail, a) :
		    np == 2 ? fwdall_21(n, hay, haylen, ip, bail, a) :
		    fwdall_31(n, hay, haylen, ip, bail, a);
	return np == 1 ? fwdall_10(n, hay, haylen, ip, bail, a) : np == 2 ?
	    fwdall_20(n, hay, haylen, ip, bail, a) :
	    fwdall_30(n, hay, haylen, ip, bail, a);
}

/* mm_findall's kernel: haylen >= len, at least one filter position. */
T512 int
mm_findall_avx512(const struct mm_needle *n, const unsigned char *hay,
    size_t haylen, struct mm_findall *a)
{
	size_t i = 0;
	int np, r;

	np = n->npos < 3 ? n->npos : (n->start3 ? 3 : 2);
	for (;;) {
		r = fwdall_np(n, hay, haylen, &i, np, np < n->npos ? 1 : 2, a);
		if (r != -2)
			return r > 0 ? a->rc : 0;
		if (np < n->npos) {
			np++;
			continue;
		}
		return mm_search_findall_tw(n, hay, haylen, i, a);
	}
}

static T512 ptrdiff_t
fwd_np(const struct mm_needle *n, const unsigned char *hay, size_t haylen,
    size_t *ip, int np, int bail)
{
	if (n->fold)
		return np == 1 ? fwd_11(n, hay, haylen, ip, bail) : np == 2 ?
		    fwd_21(n, hay, haylen, ip, bail) :
		    fwd_31(n, hay, haylen, ip, bail);
	return np == 1 ? fwd_10(n, hay, haylen, ip, bail) : np == 2 ?
	    fwd_20(n, hay, haylen, ip, bail) : fwd_30(n, hay, haylen, ip, bail);
}

static T512 ptrdiff_t
rev_np(const struct mm_needle *n, const unsigned char *hay, size_t haylen,
    size_t *ep, int np, int bail)
{
	if (n->fold)
		return np == 1 ? rev_11(n, hay, haylen, ep, bail) : np == 2 ?
		    rev_21(n, hay, haylen, ep, bail) :
		    rev_31(n, hay, haylen, ep, bail);
	return np == 1 ? rev_10(n, hay, haylen, ep, bail) : np == 2 ?
	    rev_20(n, hay, haylen, ep, bail) : rev_30(n, hay, haylen, ep, bail);
}

T512 ptrdiff_t
mm_find_avx512(const struct mm_needle *n, const unsigned char *hay,
    size_t haylen)
{
	size_t i = 0;
	ptrdiff_t r;
	int np;

	np = n->npos < 3 ? n->npos : (n->start3 ? 3 : 2);
	for (;;) {
		r = fwd_np(n, hay, haylen, &i, np, np < n->npos ? 1 : 2);
		if (r != -2)
			return r;
		if (np < n->npos) {
			np++;
			continue;
		}
		r = mm_search_tw_find(n, hay + i, haylen - i);
		return r < 0 ? -1 : r + (ptrdiff_t)i;
	}
}

T512 ptrdiff_t
mm_rfind_avx512(const struct mm_needle *n, const unsigned char *hay,
    size_t haylen)
{
	size_t e = haylen - n->len + 1;
	ptrdiff_t r;
	int np;

	np = n->npos < 3 ? n->npos : (n->start3 ? 3 : 2);
	for (;;) {
		r = rev_np(n, hay, haylen, &e, np, np < n->npos ? 1 : 2);
		if (r != -2)
			return r;
		if (np < n->npos) {
			np++;
			continue;
		}
		if (e == 0)
			return -1;
		return mm_search_tw_rfind(n, hay, e - 1 + n->len);
	}
}

/* ------------------------------------------------------------- Teddy */

/* Nibble tables per fingerprint byte, in named registers. */
struct fpt {
	__m512i		 lo0, lo1, lo2, hi0, hi1, hi2, nib;
};

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

static T512 void
set_block(const struct mm_needleset *s, const unsigned char *hay,
    size_t haylen, size_t j, __m512i r, __mmask64 m, int rv,
    struct mm_setbest *best)
{
	unsigned char bits[64];
	int bit;

	_mm512_storeu_si512((void *)bits, r);
	while (m != 0) {
		if (rv) {
			bit = 63 - __builtin_clzll(m);
			m &= ~((__mmask64)1 << bit);
		} else {
			bit = __builtin_ctzll(m);
			m &= m - 1;
		}
		mm_search_set_cand(s, hay, haylen, j + (size_t)bit, bits[bit],
		    rv, best);
	}
}

#define BCAST(t)	_mm512_broadcast_i32x4(				\
	_mm_loadu_si128((const __m128i *)(t)))
#define ANY(r)		_mm512_test_epi8_mask(r, r)

/* Fingerprint positions [0, haylen - 2); see search.c for the rules. */
T512 void
mm_setscan_avx512(const struct mm_needleset *s, const unsigned char *hay,
    size_t haylen, int rv, struct mm_setbest *best)
{
	struct fpt f;
	__m512i r0, r1;
	__mmask64 k;
	size_t J = haylen - (MM_SET_FP - 1), j, e, b;

	f.lo0 = BCAST(s->lo[0]);
	f.lo1 = BCAST(s->lo[1]);
	f.lo2 = BCAST(s->lo[2]);
	f.hi0 = BCAST(s->hi[0]);
	f.hi1 = BCAST(s->hi[1]);
	f.hi2 = BCAST(s->hi[2]);
	f.nib = _mm512_set1_epi8(0x0f);
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
/* Not x86: search.c never refers to this file's functions. */
typedef int mm_search_avx512_unused;
#endif
