/*
 * search_kernel.h - the packed-pair search kernel, written once.
 *
 * For each of up to three filter positions t of the needle, the vector at
 * hay + i + pos[t] is compared with the broadcast needle byte; where every
 * position matches, a start at i + lane is a candidate, verified against
 * the whole needle.  The forward kernel (find, and find-all with every
 * match handed to the callback inside the loop), the backward one, their
 * instances and the drivers that add filter positions when candidates
 * are too many are written here once, over a vector type and its few
 * operations, the way Rust's memchr writes packedpair.rs once over its
 * Vector trait.  search_sse2.c, search_avx2.c and search_avx512.c each
 * define them and include this file, which then defines mm_find_ISA,
 * mm_rfind_ISA and (with KERN_UALL) mm_findall_ISA of search.h.
 *
 * What the including file defines first:
 *   KERN_ISA          the suffix of the exported names (sse2, ...)
 *   KERN_T            the target attribute of every function
 *   kvec, kmask       the vector; a mask with a bit a lane (typedefs)
 *   KERN_W            lanes (bytes) a vector
 *   KERN_FULL         the kmask of all KERN_W lanes
 *   KERN_U            vectors an iteration of find and rfind
 *   KERN_UALL         the same for find-all; undefined: no mm_findall_ISA
 *   KERN_LEAD         1: find takes one lone vector before the wide loop
 *   KERN_SET1(c)      every lane the byte c
 *   KERN_LOADU(p)     an unaligned load
 *   KERN_COMB(a, b)   two filter results made one, for KERN_NONE
 *   KERN_NONE(r)      true when filter result r holds no candidate
 *   KERN_MASK(r)      the candidates of filter result r, a bit a lane
 *   KERN_CTZ(m), KERN_TOP(m)  the lowest and the highest set bit of m
 *   KERN_TEDDY        optional: the Teddy set scanner's shared pieces
 *                     (struct fpt, fpt_setup(), set_block()), with
 *   KERN_BCAST16(p)   the 16 bytes at p in every 128-bit lane
 *   KERN_STOREU(p, v) an unaligned store
 * and either KERN_AND(a, b) and KERN_CMPEQ(a, b), for the compare filter
 * below (0xff in a lane: a candidate), or KERN_MASKED and, after the
 * inclusion, the functions kfilt(), kfilt_part() and verify() declared
 * below: an ISA with fault-free masked loads filters and verifies its
 * partial tails in place.  Without them the last partial vector is redone
 * as one full vector ending exactly at the last start (its already-seen
 * lanes masked off), and haystacks too short for one vector go to the
 * scalar scanner in search_portable.c.
 */

#define INLINE	static inline __attribute__((always_inline))

#define KERN_CAT(a, b)	a##_##b
#define KERN_CAT2(a, b)	KERN_CAT(a, b)
#define KERN_NAME(f)	KERN_CAT2(f, KERN_ISA)

/* Broadcast filter bytes; kept in named registers, never in an array. */
struct filt {
	const unsigned char *q0, *q1, *q2;
	kvec		 b0, b1, b2, m0, m1, m2;
};

/* The filter results of one iteration's vectors, likewise. */
struct blk {
	kvec		 r0, r1, r2, r3;
};

INLINE kmask
lowmask(size_t cnt)
{
	return cnt >= KERN_W ? KERN_FULL : (((kmask)1 << cnt) - 1);
}

INLINE KERN_T void
setup(struct filt *f, const struct mm_needle *n, const unsigned char *hay,
    const int np)
{
	f->q0 = hay + n->pos[0];
	f->b0 = KERN_SET1((char)n->pv[0]);
	f->m0 = KERN_SET1((char)n->pm[0]);
	f->q1 = f->q2 = f->q0;
	f->b1 = f->b2 = f->b0;
	f->m1 = f->m2 = f->m0;
	if (np >= 2) {
		f->q1 = hay + n->pos[1];
		f->b1 = KERN_SET1((char)n->pv[1]);
		f->m1 = KERN_SET1((char)n->pm[1]);
	}
	if (np >= 3) {
		f->q2 = hay + n->pos[2];
		f->b2 = KERN_SET1((char)n->pv[2]);
		f->m2 = KERN_SET1((char)n->pm[2]);
	}
}

#ifdef KERN_MASKED
/* The filter result of the vector at i. */
INLINE KERN_T kvec	 kfilt(const struct filt *, size_t, int, int);
/* The candidates among the cnt (< KERN_W) starts from i. */
INLINE KERN_T kmask	 kfilt_part(const struct filt *, size_t, size_t, int,
			    int);
/* Whether the needle starts at hay + c; k0 = lowmask(n->len). */
INLINE KERN_T int	 verify(const struct mm_needle *,
			    const unsigned char *, size_t, size_t, kvec, kvec,
			    kmask);
#else
INLINE KERN_T kvec
filt1(const unsigned char *p, kvec b, kvec m, const int fold)
{
	kvec x;

	x = KERN_LOADU(p);
	if (fold)
		x = KERN_AND(x, m);
	return KERN_CMPEQ(x, b);
}

/* 0xff in lane c: all filter bytes match for a start at i + c. */
INLINE KERN_T kvec
kfilt(const struct filt *f, size_t i, const int np, const int fold)
{
	kvec r;

	r = filt1(f->q0 + i, f->b0, f->m0, fold);
	if (np >= 2)
		r = KERN_AND(r, filt1(f->q1 + i, f->b1, f->m1, fold));
	if (np >= 3)
		r = KERN_AND(r, filt1(f->q2 + i, f->b2, f->m2, fold));
	return r;
}

/* The first KERN_W bytes in one compare when they are in bounds. */
INLINE KERN_T int
verify(const struct mm_needle *n, const unsigned char *hay, size_t haylen,
    size_t c, kvec v0, kvec m0, kmask k0)
{
	kvec h;
	kmask mm;

	if (haylen - c < KERN_W)
		return mm_search_match(n, hay + c);
	h = KERN_LOADU(hay + c);
	mm = KERN_MASK(KERN_CMPEQ(KERN_AND(h, m0), v0));
	if ((mm & k0) != k0)
		return 0;
	return n->len <= KERN_W || mm_search_match(n, hay + c);
}
#endif

/* Filter u vectors from i into r; true when none holds a candidate. */
INLINE KERN_T int
block(const struct filt *f, size_t i, const int np, const int fold,
    const int u, struct blk *r)
{
	r->r0 = kfilt(f, i, np, fold);
	if (u == 1)
		return KERN_NONE(r->r0);
	r->r1 = kfilt(f, i + KERN_W, np, fold);
	if (u == 2)
		return KERN_NONE(KERN_COMB(r->r0, r->r1));
	r->r2 = kfilt(f, i + 2 * KERN_W, np, fold);
	r->r3 = kfilt(f, i + 3 * KERN_W, np, fold);
	return KERN_NONE(KERN_COMB(KERN_COMB(r->r0, r->r1),
	    KERN_COMB(r->r2, r->r3)));
}

#define SETUP() do {							\
	setup(&f, n, hay, np);						\
	k0 = lowmask(n->len);						\
	v0 = KERN_LOADU(n->val);					\
	m0 = KERN_LOADU(n->msk);					\
} while (0)

/* Verify the set bits of mask, lowest first, as starts base + bit. */
#define CHECK1(base, mask) do {						\
	while ((mask) != 0) {						\
		c = (base) + (size_t)KERN_CTZ(mask);			\
		if (verify(n, hay, haylen, c, v0, m0, k0))		\
			return (ptrdiff_t)c;				\
		(mask) &= (mask) - 1;					\
		cand++;							\
	}								\
} while (0)

/* The same for find-all: every match at or after a->skip is queued. */
#define CHECKALL(base, mask) do {					\
	while ((mask) != 0) {						\
		c = (base) + (size_t)KERN_CTZ(mask);			\
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

#define CHECK(base, mask) do {						\
	if (all)							\
		CHECKALL(base, mask);					\
	else								\
		CHECK1(base, mask);					\
} while (0)

/* Highest first, for rev. */
#define RCHECK(base, mask) do {						\
	while ((mask) != 0) {						\
		bit = KERN_TOP(mask);					\
		c = (base) + (size_t)bit;				\
		if (verify(n, hay, haylen, c, v0, m0, k0))		\
			return (ptrdiff_t)c;				\
		(mask) &= ~((kmask)1 << bit);				\
		cand++;							\
	}								\
} while (0)

/*
 * Starts [*ip, haylen - len] in ascending order, u vectors an iteration
 * (after one lone vector with lead: the next match is often close, and a
 * quick answer beats a wide one).  Returns the match, -1, or -2 with *ip
 * set when mm_search_dense() says to change strategy.  With all, every
 * verified start at or after a->skip goes to the callback, and it returns
 * 0 at the end, 1 when the callback said stop, or -2 as above.
 */
INLINE KERN_T ptrdiff_t
fwd(const struct mm_needle *n, const unsigned char *hay, size_t haylen,
    size_t *ip, const int np, const int fold, const int u, const int lead,
    int bail, const int all, struct mm_findall *a)
{
	struct filt f;
	struct blk r;
	kvec v0, m0;
	kmask k0, m;
	const size_t last = haylen - n->len, step = (size_t)u * KERN_W;
	size_t i = *ip, start = *ip, cand = 0, c, base;

	SETUP();
	if (lead && i + KERN_W - 1 <= last) {
		m = KERN_MASK(kfilt(&f, i, np, fold));
		CHECK(i, m);
		i += KERN_W;
	}
	while (i + (u * KERN_W - 1) <= last) {
		if (__builtin_expect(block(&f, i, np, fold, u, &r), 1)) {
			i += step;
			continue;
		}
		m = KERN_MASK(r.r0);
		CHECK(i, m);
		if (u >= 2) {
			m = KERN_MASK(r.r1);
			CHECK(i + KERN_W, m);
		}
		if (u >= 4) {
			m = KERN_MASK(r.r2);
			CHECK(i + 2 * KERN_W, m);
			m = KERN_MASK(r.r3);
			CHECK(i + 3 * KERN_W, m);
		}
		i += step;
		if (bail && mm_search_dense(n, bail, cand, i - start)) {
			*ip = i;
			return -2;
		}
	}
	for (; i + KERN_W - 1 <= last; i += KERN_W) {
		m = KERN_MASK(kfilt(&f, i, np, fold));
		CHECK(i, m);
	}
	if (i > last)
		return all ? 0 : -1;
#ifdef KERN_MASKED
	base = i;
	m = kfilt_part(&f, i, last - i + 1, np, fold);
#else
	if (last < KERN_W - 1)
		return all ? mm_search_findall_scalar(n, hay, haylen, i, last,
		    a) : mm_search_scalar_find(n, hay, haylen, i, last);
	/* One more vector ending at the last start; mask what was seen. */
	base = last - (KERN_W - 1);
	m = KERN_MASK(kfilt(&f, base, np, fold)) & (KERN_FULL << (i - base));
#endif
	CHECK(base, m);
	return all ? 0 : -1;
}

/*
 * Starts [0, *ep) in descending order; as fwd otherwise, without a lone
 * vector first: a last match is one call, and with it GCC 12 spilled the
 * loop of some instances to the stack (measured here: up to 1.8 times
 * slower on AVX-512).
 */
INLINE KERN_T ptrdiff_t
rev(const struct mm_needle *n, const unsigned char *hay, size_t haylen,
    size_t *ep, const int np, const int fold, const int u, int bail)
{
	struct filt f;
	struct blk r;
	kvec v0, m0;
	kmask k0, m;
	const size_t step = (size_t)u * KERN_W;
	size_t e = *ep, start = *ep, cand = 0, c, b;
	int bit;

	SETUP();
	while (e >= step) {
		b = e - step;
		if (__builtin_expect(block(&f, b, np, fold, u, &r), 1)) {
			e = b;
			continue;
		}
		if (u >= 4) {
			m = KERN_MASK(r.r3);
			RCHECK(b + 3 * KERN_W, m);
			m = KERN_MASK(r.r2);
			RCHECK(b + 2 * KERN_W, m);
		}
		if (u >= 2) {
			m = KERN_MASK(r.r1);
			RCHECK(b + KERN_W, m);
		}
		m = KERN_MASK(r.r0);
		RCHECK(b, m);
		e = b;
		if (bail && mm_search_dense(n, bail, cand, start - e)) {
			*ep = e;
			return -2;
		}
	}
	for (; e >= KERN_W; e -= KERN_W) {
		m = KERN_MASK(kfilt(&f, e - KERN_W, np, fold));
		RCHECK(e - KERN_W, m);
	}
	if (e == 0)
		return -1;
#ifdef KERN_MASKED
	m = kfilt_part(&f, 0, e, np, fold);
#else
	if (haylen - n->len < KERN_W - 1)
		return mm_search_scalar_rfind(n, hay, haylen, 0, e - 1);
	m = KERN_MASK(kfilt(&f, 0, np, fold)) & (((kmask)1 << e) - 1);
#endif
	RCHECK(0, m);
	return -1;
}

/*
 * One out-of-line instance per (positions, fold) and kind: each gets the
 * whole register file, so the loop keeps its broadcasts out of the stack.
 * All take the same arguments; a is the find-all state, or NULL.
 */
#define INST(np, fold)							\
static KERN_T __attribute__((noinline)) ptrdiff_t			\
fwd_##np##fold(const struct mm_needle *n, const unsigned char *hay,	\
    size_t haylen, size_t *ip, int bail, struct mm_findall *a)		\
{									\
	return fwd(n, hay, haylen, ip, np, fold, KERN_U, KERN_LEAD,	\
	    bail, 0, a);						\
}									\
static KERN_T __attribute__((noinline)) ptrdiff_t			\
rev_##np##fold(const struct mm_needle *n, const unsigned char *hay,	\
    size_t haylen, size_t *ep, int bail, struct mm_findall *a)		\
{									\
	(void)a;							\
	return rev(n, hay, haylen, ep, np, fold, KERN_U, bail);		\
}									\
INST_ALL(np, fold)

#ifdef KERN_UALL
#define INST_ALL(np, fold)						\
static KERN_T __attribute__((noinline)) ptrdiff_t			\
all_##np##fold(const struct mm_needle *n, const unsigned char *hay,	\
    size_t haylen, size_t *ip, int bail, struct mm_findall *a)		\
{									\
	return fwd(n, hay, haylen, ip, np, fold, KERN_UALL, 0, bail, 1,	\
	    a);								\
}
#else
#define INST_ALL(np, fold)
#endif

INST(1, 0)
INST(2, 0)
INST(3, 0)
INST(1, 1)
INST(2, 1)
INST(3, 1)
#undef INST
#undef INST_ALL

/* k's instance for np positions and the needle's fold. */
#define NP(k)								\
static KERN_T ptrdiff_t							\
k##_np(const struct mm_needle *n, const unsigned char *hay,		\
    size_t haylen, size_t *at, int np, int bail, struct mm_findall *a)	\
{									\
	if (n->fold)							\
		return np == 1 ? k##_11(n, hay, haylen, at, bail, a) :	\
		    np == 2 ? k##_21(n, hay, haylen, at, bail, a) :	\
		    k##_31(n, hay, haylen, at, bail, a);		\
	return np == 1 ? k##_10(n, hay, haylen, at, bail, a) :		\
	    np == 2 ? k##_20(n, hay, haylen, at, bail, a) :		\
	    k##_30(n, hay, haylen, at, bail, a);			\
}
NP(fwd)
NP(rev)
#ifdef KERN_UALL
NP(all)
#endif
#undef NP

typedef ptrdiff_t (*kern_np_fn)(const struct mm_needle *,
    const unsigned char *, size_t, size_t *, int, int, struct mm_findall *);

/*
 * Runs kernel k with two filter positions (three where pairs match
 * often), adding one whenever it says -2, up to the needle's all; -2
 * from that last one, with *at where to resume, means Two-Way.
 */
INLINE KERN_T ptrdiff_t
climb(const struct mm_needle *n, const unsigned char *hay, size_t haylen,
    size_t *at, kern_np_fn k, struct mm_findall *a)
{
	ptrdiff_t r;
	int np;

	np = n->npos < 3 ? n->npos : (n->start3 ? 3 : 2);
	while ((r = k(n, hay, haylen, at, np, np < n->npos ? 1 : 2, a)) ==
	    -2 && np < n->npos)
		np++;
	return r;
}

KERN_T ptrdiff_t
KERN_NAME(mm_find)(const struct mm_needle *n, const unsigned char *hay,
    size_t haylen)
{
	size_t i = 0;
	ptrdiff_t r;

	if ((r = climb(n, hay, haylen, &i, fwd_np, NULL)) != -2)
		return r;
	r = mm_search_tw_find(n, hay + i, haylen - i);
	return r < 0 ? -1 : r + (ptrdiff_t)i;
}

KERN_T ptrdiff_t
KERN_NAME(mm_rfind)(const struct mm_needle *n, const unsigned char *hay,
    size_t haylen)
{
	size_t e = haylen - n->len + 1;
	ptrdiff_t r;

	if ((r = climb(n, hay, haylen, &e, rev_np, NULL)) != -2)
		return r;
	if (e == 0)
		return -1;
	return mm_search_tw_rfind(n, hay, e - 1 + n->len);
}

#ifdef KERN_UALL
/* mm_findall's kernel: haylen >= len, at least one filter position. */
KERN_T int
KERN_NAME(mm_findall)(const struct mm_needle *n, const unsigned char *hay,
    size_t haylen, struct mm_findall *a)
{
	size_t i = 0;
	ptrdiff_t r;

	if ((r = climb(n, hay, haylen, &i, all_np, a)) != -2)
		return r > 0 ? a->rc : 0;
	return mm_search_findall_tw(n, hay, haylen, i, a);
}
#endif

#ifdef KERN_TEDDY
/* Teddy's nibble tables per fingerprint byte, in named registers. */
struct fpt {
	kvec		 lo0, lo1, lo2, hi0, hi1, hi2, nib;
};

INLINE KERN_T void
fpt_setup(struct fpt *f, const struct mm_needleset *s)
{
	f->lo0 = KERN_BCAST16(s->lo[0]);
	f->lo1 = KERN_BCAST16(s->lo[1]);
	f->lo2 = KERN_BCAST16(s->lo[2]);
	f->hi0 = KERN_BCAST16(s->hi[0]);
	f->hi1 = KERN_BCAST16(s->hi[1]);
	f->hi2 = KERN_BCAST16(s->hi[2]);
	f->nib = KERN_SET1(0x0f);
}

/*
 * Teddy: r holds the bucket bits of positions j + lane, m a bit for each
 * lane where they are not zero; each goes to mm_search_set_cand(), lowest
 * first, or highest first with rv.
 */
static KERN_T void
set_block(const struct mm_needleset *s, const unsigned char *hay,
    size_t haylen, size_t j, kvec r, kmask m, int rv,
    struct mm_setbest *best)
{
	unsigned char bits[KERN_W];
	int bit;

	KERN_STOREU(bits, r);
	while (m != 0) {
		if (rv) {
			bit = KERN_TOP(m);
			m &= ~((kmask)1 << bit);
		} else {
			bit = KERN_CTZ(m);
			m &= m - 1;
		}
		mm_search_set_cand(s, hay, haylen, j + (size_t)bit, bits[bit],
		    rv, best);
	}
}
#endif
