/*
 * search_avx2.c - AVX2 packed-pair search, forward and backward, and the
 * Teddy set scanner.
 *
 * The same filter as search_avx512.c on 4 x 32 positions per iteration.
 * AVX2 has no fault-free masked byte loads, so the last partial block is
 * redone as one full vector ending exactly at the last start position (its
 * already-seen lanes masked off), and haystacks too short for even one
 * vector go to the scalar scanner in search.c.
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
#define INLINE	static inline __attribute__((always_inline))

/* Broadcast filter bytes; kept in named registers, never in an array. */
struct filt {
	const unsigned char *q0, *q1, *q2;
	__m256i		 b0, b1, b2, m0, m1, m2;
};

INLINE T256 void
setup(struct filt *f, const struct mm_needle *n, const unsigned char *hay,
    const int np)
{
	f->q0 = hay + n->pos[0];
	f->b0 = _mm256_set1_epi8((char)n->pv[0]);
	f->m0 = _mm256_set1_epi8((char)n->pm[0]);
	f->q1 = f->q2 = f->q0;
	f->b1 = f->b2 = f->b0;
	f->m1 = f->m2 = f->m0;
	if (np >= 2) {
		f->q1 = hay + n->pos[1];
		f->b1 = _mm256_set1_epi8((char)n->pv[1]);
		f->m1 = _mm256_set1_epi8((char)n->pm[1]);
	}
	if (np >= 3) {
		f->q2 = hay + n->pos[2];
		f->b2 = _mm256_set1_epi8((char)n->pv[2]);
		f->m2 = _mm256_set1_epi8((char)n->pm[2]);
	}
}

INLINE T256 __m256i
filt1(const unsigned char *p, __m256i b, __m256i m, const int fold)
{
	__m256i x;

	x = _mm256_loadu_si256((const __m256i *)p);
	if (fold)
		x = _mm256_and_si256(x, m);
	return _mm256_cmpeq_epi8(x, b);
}

/* 0xff in lane c: all filter bytes match for a start at i + c. */
INLINE T256 __m256i
filt(const struct filt *f, size_t i, const int np, const int fold)
{
	__m256i r;

	r = filt1(f->q0 + i, f->b0, f->m0, fold);
	if (np >= 2)
		r = _mm256_and_si256(r, filt1(f->q1 + i, f->b1, f->m1, fold));
	if (np >= 3)
		r = _mm256_and_si256(r, filt1(f->q2 + i, f->b2, f->m2, fold));
	return r;
}

INLINE T256 unsigned int
filtmask(const struct filt *f, size_t i, const int np, const int fold)
{
	return (unsigned int)_mm256_movemask_epi8(filt(f, i, np, fold));
}

/* The first 32 bytes in one compare when they are in bounds. */
INLINE T256 int
verify(const struct mm_needle *n, const unsigned char *hay, size_t haylen,
    size_t c, __m256i v0, __m256i m0, unsigned int k0)
{
	__m256i h;
	unsigned int mm;

	if (haylen - c < 32)
		return mm_search_match(n, hay + c);
	h = _mm256_loadu_si256((const __m256i *)(hay + c));
	mm = (unsigned int)_mm256_movemask_epi8(_mm256_cmpeq_epi8(
	    _mm256_and_si256(h, m0), v0));
	if ((mm & k0) != k0)
		return 0;
	return n->len <= 32 || mm_search_match(n, hay + c);
}

#define SETUP() do {							\
	setup(&f, n, hay, np);						\
	k0 = n->len >= 32 ? ~0u : (1u << n->len) - 1;			\
	v0 = _mm256_loadu_si256((const __m256i *)n->val);		\
	m0 = _mm256_loadu_si256((const __m256i *)n->msk);		\
} while (0)

/* Verify the set bits of mask, lowest first, as starts base + bit. */
#define CHECK(base, mask) do {						\
	while ((mask) != 0) {						\
		c = (base) + (size_t)__builtin_ctz(mask);		\
		if (verify(n, hay, haylen, c, v0, m0, k0))		\
			return (ptrdiff_t)c;				\
		(mask) &= (mask) - 1;					\
		cand++;							\
	}								\
} while (0)

/* The same, highest first. */
#define RCHECK(base, mask) do {						\
	while ((mask) != 0) {						\
		bit = 31 - __builtin_clz(mask);				\
		c = (base) + (size_t)bit;				\
		if (verify(n, hay, haylen, c, v0, m0, k0))		\
			return (ptrdiff_t)c;				\
		(mask) &= ~(1u << bit);					\
		cand++;							\
	}								\
} while (0)

#define ANY4(a, b, c, d)						\
	(!_mm256_testz_si256(_mm256_or_si256(_mm256_or_si256(a, b),	\
	    _mm256_or_si256(c, d)), _mm256_set1_epi8(-1)))
#define MASK(a)	((unsigned int)_mm256_movemask_epi8(a))

/*
 * Starts [*ip, haylen - len] in ascending order.  Returns the match, -1,
 * or -2 with *ip set when mm_search_dense() says to change strategy.
 */
INLINE T256 ptrdiff_t
fwd(const struct mm_needle *n, const unsigned char *hay, size_t haylen,
    size_t *ip, const int np, const int fold, int bail)
{
	struct filt f;
	__m256i v0, m0, a0, a1, a2, a3;
	unsigned int k0, m;
	const size_t last = haylen - n->len;
	size_t i = *ip, start = *ip, cand = 0, c, base;

	SETUP();
	while (i + 127 <= last) {
		a0 = filt(&f, i, np, fold);
		a1 = filt(&f, i + 32, np, fold);
		a2 = filt(&f, i + 64, np, fold);
		a3 = filt(&f, i + 96, np, fold);
		if (__builtin_expect(!ANY4(a0, a1, a2, a3), 1)) {
			i += 128;
			continue;
		}
		m = MASK(a0);
		CHECK(i, m);
		m = MASK(a1);
		CHECK(i + 32, m);
		m = MASK(a2);
		CHECK(i + 64, m);
		m = MASK(a3);
		CHECK(i + 96, m);
		i += 128;
		if (bail && mm_search_dense(n, bail, cand, i - start)) {
			*ip = i;
			return -2;
		}
	}
	for (; i + 31 <= last; i += 32) {
		m = filtmask(&f, i, np, fold);
		CHECK(i, m);
	}
	if (i > last)
		return -1;
	if (last < 31)
		return mm_search_scalar_find(n, hay, haylen, i, last);
	/* One more vector ending at the last start; mask what was seen. */
	base = last - 31;
	m = filtmask(&f, base, np, fold) & (~0u << (i - base));
	CHECK(base, m);
	return -1;
}

/*
 * fwd's loop for find-all: every verified start at or after a->skip is
 * queued for the callback inside the loop.  0 at the end, 1 when the
 * callback said stop, -2 with *ip set as fwd.  Two vectors per
 * iteration, not four: with dense matches the "any candidate" branch is
 * what costs, and a narrower block mispredicts it less (measured here:
 * 170 -> 140 ms for "that" over 1 GiB of text).
 */
#define CHECKALL(base, mask) do {					\
	while ((mask) != 0) {						\
		c = (base) + (size_t)__builtin_ctz(mask);		\
		(mask) &= (mask) - 1;					\
		if (c < a->skip)					\
			continue;					\
		if (!verify(n, hay, haylen, c, v0, m0, k0)) {		\
			cand++;						\
			continue;					\
		}							\
		if (mm_search_findall_hit(a, c))			\
			return 1;					\
	}								\
} while (0)

INLINE T256 int
fwdall(const struct mm_needle *n, const unsigned char *hay, size_t haylen,
    size_t *ip, const int np, const int fold, int bail, struct mm_findall *a)
{
	struct filt f;
	__m256i v0, m0, a0, a1;
	unsigned int k0, m;
	const size_t last = haylen - n->len;
	size_t i = *ip, start = *ip, cand = 0, c, base;

	SETUP();
	while (i + 63 <= last) {
		a0 = filt(&f, i, np, fold);
		a1 = filt(&f, i + 32, np, fold);
		if (__builtin_expect(_mm256_testz_si256(_mm256_or_si256(a0,
		    a1), _mm256_set1_epi8(-1)), 1)) {
			i += 64;
			continue;
		}
		m = MASK(a0);
		CHECKALL(i, m);
		m = MASK(a1);
		CHECKALL(i + 32, m);
		i += 64;
		if (bail && mm_search_dense(n, bail, cand, i - start)) {
			*ip = i;
			return -2;
		}
	}
	for (; i + 31 <= last; i += 32) {
		m = filtmask(&f, i, np, fold);
		CHECKALL(i, m);
	}
	if (i > last)
		return 0;
	if (last < 31)
		return mm_search_findall_scalar(n, hay, haylen, i, last, a);
	base = last - 31;
	m = filtmask(&f, base, np, fold) & (~0u << (i - base));
	CHECKALL(base, m);
	return 0;
}

/* Starts [0, *ep) in descending order; as fwd otherwise. */
INLINE T256 ptrdiff_t
rev(const struct mm_needle *n, const unsigned char *hay, size_t haylen,
    size_t *ep, const int np, const int fold, int bail)
{
	struct filt f;
	__m256i v0, m0, a0, a1, a2, a3;
	unsigned int k0, m;
	const size_t last = haylen - n->len;
	size_t e = *ep, start = *ep, cand = 0, c, b;
	int bit;

	SETUP();
	while (e >= 128) {
		b = e - 128;
		a0 = filt(&f, b, np, fold);
		a1 = filt(&f, b + 32, np, fold);
		a2 = filt(&f, b + 64, np, fold);
		a3 = filt(&f, b + 96, np, fold);
		if (__builtin_expect(!ANY4(a0, a1, a2, a3), 1)) {
			e = b;
			continue;
		}
		m = MASK(a3);
		RCHECK(b + 96, m);
		m = MASK(a2);
		RCHECK(b + 64, m);
		m = MASK(a1);
		RCHECK(b + 32, m);
		m = MASK(a0);
		RCHECK(b, m);
		e = b;
		if (bail && mm_search_dense(n, bail, cand, start - e)) {
			*ep = e;
			return -2;
		}
	}
	for (; e >= 32; e -= 32) {
		m = filtmask(&f, e - 32, np, fold);
		RCHECK(e - 32, m);
	}
	if (e == 0)
		return -1;
	if (last < 31)
		return mm_search_scalar_rfind(n, hay, haylen, 0, e - 1);
	m = filtmask(&f, 0, np, fold) & ((1u << e) - 1);
	RCHECK(0, m);
	return -1;
}

/*
 * One out-of-line instance per (positions, fold): each gets the whole
 * register file, so the loop keeps its broadcasts out of the stack.
 */
#define INST(np, fold)							\
static T256 __attribute__((noinline)) ptrdiff_t			\
fwd_##np##fold(const struct mm_needle *n, const unsigned char *hay,	\
    size_t haylen, size_t *ip, int bail)				\
{									\
	return fwd(n, hay, haylen, ip, np, fold, bail);			\
}									\
static T256 __attribute__((noinline)) ptrdiff_t			\
rev_##np##fold(const struct mm_needle *n, const unsigned char *hay,	\
    size_t haylen, size_t *ep, int bail)				\
{									\
	(void)haylen;							\
	return rev(n, hay, haylen, ep, np, fold, bail);			\
}
INST(1, 0)
INST(2, 0)
INST(3, 0)
INST(1, 1)
INST(2, 1)
INST(3, 1)
#undef INST

#define INST(np, fold)							\
static T256 __attribute__((noinline)) int				\
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

static T256 int
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
T256 int
mm_findall_avx2(const struct mm_needle *n, const unsigned char *hay,
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

static T256 ptrdiff_t
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

static T256 ptrdiff_t
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

T256 ptrdiff_t
mm_find_avx2(const struct mm_needle *n, const unsigned char *hay,
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

T256 ptrdiff_t
mm_rfind_avx2(const struct mm_needle *n, const unsigned char *hay,
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
	__m256i		 lo0, lo1, lo2, hi0, hi1, hi2, nib;
};

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

static T256 void
set_block(const struct mm_needleset *s, const unsigned char *hay,
    size_t haylen, size_t j, __m256i r, int rv, struct mm_setbest *best)
{
	unsigned char bits[32];
	unsigned int m;
	int bit;

	m = ~(unsigned int)_mm256_movemask_epi8(_mm256_cmpeq_epi8(r,
	    _mm256_setzero_si256()));
	_mm256_storeu_si256((__m256i *)bits, r);
	while (m != 0) {
		if (rv) {
			bit = 31 - __builtin_clz(m);
			m &= ~(1u << bit);
		} else {
			bit = __builtin_ctz(m);
			m &= m - 1;
		}
		mm_search_set_cand(s, hay, haylen, j + (size_t)bit, bits[bit],
		    rv, best);
	}
}

#define BCAST(t)	_mm256_broadcastsi128_si256(			\
	_mm_loadu_si128((const __m128i *)(t)))
#define NONE(a, b)	_mm256_testz_si256(_mm256_or_si256(a, b),	\
	_mm256_set1_epi8(-1))

/* Fingerprint positions [0, haylen - 2); see search.c for the rules. */
T256 void
mm_setscan_avx2(const struct mm_needleset *s, const unsigned char *hay,
    size_t haylen, int rv, struct mm_setbest *best)
{
	struct fpt f;
	__m256i r0, r1;
	size_t J = haylen - (MM_SET_FP - 1), j, e;

	f.lo0 = BCAST(s->lo[0]);
	f.lo1 = BCAST(s->lo[1]);
	f.lo2 = BCAST(s->lo[2]);
	f.hi0 = BCAST(s->hi[0]);
	f.hi1 = BCAST(s->hi[1]);
	f.hi2 = BCAST(s->hi[2]);
	f.nib = _mm256_set1_epi8(0x0f);
	if (!rv) {
		for (j = 0; j + 64 <= J; j += 64) {
			if (best->off >= 0 && j > (size_t)best->off + s->maxoff)
				return;
			r0 = fp_block(&f, hay + j);
			r1 = fp_block(&f, hay + j + 32);
			if (__builtin_expect(NONE(r0, r1), 1))
				continue;
			set_block(s, hay, haylen, j, r0, 0, best);
			set_block(s, hay, haylen, j + 32, r1, 0, best);
		}
		mm_search_set_scalar(s, hay, haylen, j, J, 0, best);
		return;
	}
	for (e = J; e >= 64; e -= 64) {
		if (best->off >= 0 && e <= (size_t)best->off)
			return;
		r0 = fp_block(&f, hay + e - 64);
		r1 = fp_block(&f, hay + e - 32);
		if (__builtin_expect(NONE(r0, r1), 1))
			continue;
		set_block(s, hay, haylen, e - 32, r1, 1, best);
		set_block(s, hay, haylen, e - 64, r0, 1, best);
	}
	mm_search_set_scalar(s, hay, haylen, 0, e, 1, best);
}

#else
/* Not x86: search.c never refers to this file's functions. */
typedef int mm_search_avx2_unused;
#endif
