/*
 * search_sse2.c - SSE2 packed-pair search, forward and backward.
 *
 * The baseline of every x86-64 CPU: the filter of search_avx512.c on
 * 4 x 16 positions per iteration, tails handled as in search_avx2.c.  Sets
 * run these kernels chunk by chunk at this level (Teddy needs SSSE3's
 * pshufb); see set_chunked() in search.c.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stddef.h>
#include <stdint.h>

#include "search_int.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

#define T128	__attribute__((target("sse2")))
#define INLINE	static inline __attribute__((always_inline))

/* Broadcast filter bytes; kept in named registers, never in an array. */
struct filt {
	const unsigned char *q0, *q1, *q2;
	__m128i		 b0, b1, b2, m0, m1, m2;
};

INLINE T128 void
setup(struct filt *f, const struct mm_needle *n, const unsigned char *hay,
    const int np)
{
	f->q0 = hay + n->pos[0];
	f->b0 = _mm_set1_epi8((char)n->pv[0]);
	f->m0 = _mm_set1_epi8((char)n->pm[0]);
	f->q1 = f->q2 = f->q0;
	f->b1 = f->b2 = f->b0;
	f->m1 = f->m2 = f->m0;
	if (np >= 2) {
		f->q1 = hay + n->pos[1];
		f->b1 = _mm_set1_epi8((char)n->pv[1]);
		f->m1 = _mm_set1_epi8((char)n->pm[1]);
	}
	if (np >= 3) {
		f->q2 = hay + n->pos[2];
		f->b2 = _mm_set1_epi8((char)n->pv[2]);
		f->m2 = _mm_set1_epi8((char)n->pm[2]);
	}
}

INLINE T128 __m128i
filt1(const unsigned char *p, __m128i b, __m128i m, const int fold)
{
	__m128i x;

	x = _mm_loadu_si128((const __m128i *)p);
	if (fold)
		x = _mm_and_si128(x, m);
	return _mm_cmpeq_epi8(x, b);
}

/* 0xff in lane c: all filter bytes match for a start at i + c. */
INLINE T128 __m128i
filt(const struct filt *f, size_t i, const int np, const int fold)
{
	__m128i r;

	r = filt1(f->q0 + i, f->b0, f->m0, fold);
	if (np >= 2)
		r = _mm_and_si128(r, filt1(f->q1 + i, f->b1, f->m1, fold));
	if (np >= 3)
		r = _mm_and_si128(r, filt1(f->q2 + i, f->b2, f->m2, fold));
	return r;
}

INLINE T128 unsigned int
filtmask(const struct filt *f, size_t i, const int np, const int fold)
{
	return (unsigned int)_mm_movemask_epi8(filt(f, i, np, fold));
}

/* The first 16 bytes in one compare when they are in bounds. */
INLINE T128 int
verify(const struct mm_needle *n, const unsigned char *hay, size_t haylen,
    size_t c, __m128i v0, __m128i m0, unsigned int k0)
{
	__m128i h;
	unsigned int mm;

	if (haylen - c < 16)
		return mm_search_match(n, hay + c);
	h = _mm_loadu_si128((const __m128i *)(hay + c));
	mm = (unsigned int)_mm_movemask_epi8(_mm_cmpeq_epi8(
	    _mm_and_si128(h, m0), v0));
	if ((mm & k0) != k0)
		return 0;
	return n->len <= 16 || mm_search_match(n, hay + c);
}

#define SETUP() do {							\
	setup(&f, n, hay, np);						\
	k0 = n->len >= 16 ? 0xffffu : (1u << n->len) - 1;		\
	v0 = _mm_loadu_si128((const __m128i *)n->val);		\
	m0 = _mm_loadu_si128((const __m128i *)n->msk);		\
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
	(_mm_movemask_epi8(_mm_or_si128(_mm_or_si128(a, b),		\
	    _mm_or_si128(c, d))) != 0)
#define MASK(a)	((unsigned int)_mm_movemask_epi8(a))

/*
 * Starts [*ip, haylen - len] in ascending order.  Returns the match, -1,
 * or -2 with *ip set when mm_search_dense() says to change strategy.
 */
INLINE T128 ptrdiff_t
fwd(const struct mm_needle *n, const unsigned char *hay, size_t haylen,
    size_t *ip, const int np, const int fold, int bail)
{
	struct filt f;
	__m128i v0, m0, a0, a1, a2, a3;
	unsigned int k0, m;
	const size_t last = haylen - n->len;
	size_t i = *ip, start = *ip, cand = 0, c, base;

	SETUP();
	while (i + 63 <= last) {
		a0 = filt(&f, i, np, fold);
		a1 = filt(&f, i + 16, np, fold);
		a2 = filt(&f, i + 32, np, fold);
		a3 = filt(&f, i + 48, np, fold);
		if (__builtin_expect(!ANY4(a0, a1, a2, a3), 1)) {
			i += 64;
			continue;
		}
		m = MASK(a0);
		CHECK(i, m);
		m = MASK(a1);
		CHECK(i + 16, m);
		m = MASK(a2);
		CHECK(i + 32, m);
		m = MASK(a3);
		CHECK(i + 48, m);
		i += 64;
		if (bail && mm_search_dense(n, bail, cand, i - start)) {
			*ip = i;
			return -2;
		}
	}
	for (; i + 15 <= last; i += 16) {
		m = filtmask(&f, i, np, fold);
		CHECK(i, m);
	}
	if (i > last)
		return -1;
	if (last < 15)
		return mm_search_scalar_find(n, hay, haylen, i, last);
	/* One more vector ending at the last start; mask what was seen. */
	base = last - 15;
	m = filtmask(&f, base, np, fold) & (0xffffu << (i - base));
	CHECK(base, m);
	return -1;
}

/* Starts [0, *ep) in descending order; as fwd otherwise. */
INLINE T128 ptrdiff_t
rev(const struct mm_needle *n, const unsigned char *hay, size_t haylen,
    size_t *ep, const int np, const int fold, int bail)
{
	struct filt f;
	__m128i v0, m0, a0, a1, a2, a3;
	unsigned int k0, m;
	const size_t last = haylen - n->len;
	size_t e = *ep, start = *ep, cand = 0, c, b;
	int bit;

	SETUP();
	while (e >= 64) {
		b = e - 64;
		a0 = filt(&f, b, np, fold);
		a1 = filt(&f, b + 16, np, fold);
		a2 = filt(&f, b + 32, np, fold);
		a3 = filt(&f, b + 48, np, fold);
		if (__builtin_expect(!ANY4(a0, a1, a2, a3), 1)) {
			e = b;
			continue;
		}
		m = MASK(a3);
		RCHECK(b + 48, m);
		m = MASK(a2);
		RCHECK(b + 32, m);
		m = MASK(a1);
		RCHECK(b + 16, m);
		m = MASK(a0);
		RCHECK(b, m);
		e = b;
		if (bail && mm_search_dense(n, bail, cand, start - e)) {
			*ep = e;
			return -2;
		}
	}
	for (; e >= 16; e -= 16) {
		m = filtmask(&f, e - 16, np, fold);
		RCHECK(e - 16, m);
	}
	if (e == 0)
		return -1;
	if (last < 15)
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
static T128 __attribute__((noinline)) ptrdiff_t			\
fwd_##np##fold(const struct mm_needle *n, const unsigned char *hay,	\
    size_t haylen, size_t *ip, int bail)				\
{									\
	return fwd(n, hay, haylen, ip, np, fold, bail);			\
}									\
static T128 __attribute__((noinline)) ptrdiff_t			\
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

static T128 ptrdiff_t
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

static T128 ptrdiff_t
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

T128 ptrdiff_t
mm_find_sse2(const struct mm_needle *n, const unsigned char *hay,
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

T128 ptrdiff_t
mm_rfind_sse2(const struct mm_needle *n, const unsigned char *hay,
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

#else
/* Not x86: search.c never refers to this file's functions. */
typedef int mm_search_sse2_unused;
#endif
