/*
 * search_portable.c - the verifier every kernel shares, the scalar
 * scanner for short tails, and the kernel of every target without a
 * vector one: memchr on the rarest position, or eight start positions
 * per step in a 64-bit word.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "search_int.h"

/* ------------------------------------------------------- verification */

int
mm_search_match(const struct mm_needle *n, const unsigned char *p)
{
	uint64_t h, m, v;
	size_t i;

	if (n->plain)
		return memcmp(p, n->val, n->len) == 0;
	for (i = 0; i + 8 <= n->len; i += 8) {
		memcpy(&h, p + i, 8);
		memcpy(&m, n->msk + i, 8);
		memcpy(&v, n->val + i, 8);
		if ((h & m) != v)
			return 0;
	}
	for (; i < n->len; i++)
		if ((p[i] & n->msk[i]) != n->val[i])
			return 0;
	return 1;
}

static inline int
prefilter_ok(const struct mm_needle *n, const unsigned char *p)
{
	int t;

	for (t = 0; t < n->npos; t++)
		if ((p[n->pos[t]] & n->pm[t]) != n->pv[t])
			return 0;
	return 1;
}

/* First match starting in [from, to], to <= haylen - len; no fallback. */
ptrdiff_t
mm_search_scalar_find(const struct mm_needle *n, const unsigned char *hay,
    size_t haylen, size_t from, size_t to)
{
	size_t i;

	(void)haylen;
	for (i = from; i <= to; i++)
		if (prefilter_ok(n, hay + i) && mm_search_match(n, hay + i))
			return (ptrdiff_t)i;
	return -1;
}

/* Last match starting in [from, to]. */
ptrdiff_t
mm_search_scalar_rfind(const struct mm_needle *n, const unsigned char *hay,
    size_t haylen, size_t from, size_t to)
{
	size_t i;

	(void)haylen;
	for (i = to + 1; i > from; i--)
		if (prefilter_ok(n, hay + i - 1) &&
		    mm_search_match(n, hay + i - 1))
			return (ptrdiff_t)(i - 1);
	return -1;
}

/* ----------------------------------------------------- portable kernel */

static const unsigned char *
rmemchr(const unsigned char *p, unsigned char c, size_t len)
{
#if defined(HAVE_MEMRCHR) || defined(__GLIBC__)
	return memrchr(p, c, len);
#else
	while (len > 0) {
		len--;
		if (p[len] == c)
			return p + len;
	}
	return NULL;
#endif
}

/*
 * memchr (glibc's is vectorised on every target) on the rarest position,
 * then the other filter positions, then the verifier.  When the rarest
 * byte turns out common (a memchr call per 32 bytes or worse), restarting
 * memchr costs more than it skips; a plain loop over the two rarest
 * positions takes over.
 */
struct pscan {
	size_t		 p0, p1;
	unsigned char	 v0, v1, m0, m1;
	int		 use_memchr;
	size_t		 hits, skipped;
};

static void
pscan_init(struct pscan *ps, const struct mm_needle *n)
{
	int t = n->npos >= 2 ? 1 : 0;

	ps->p0 = n->pos[0];
	ps->v0 = n->pv[0];
	ps->m0 = n->pm[0];
	ps->p1 = n->pos[t];
	ps->v1 = n->pv[t];
	ps->m1 = n->pm[t];
	ps->use_memchr = ps->m0 == 0xff;
	ps->hits = ps->skipped = 0;
}

static inline int
pscan_at(const struct pscan *ps, const unsigned char *p)
{
	return (p[ps->p0] & ps->m0) == ps->v0 && (p[ps->p1] & ps->m1) == ps->v1;
}

/*
 * Exact per-byte zero flags of a 64-bit word (0x80 in each zero byte), so
 * eight start positions are filtered per step on any target.
 */
#define SWAR_01	0x0101010101010101ULL
#define SWAR_7F	0x7f7f7f7f7f7f7f7fULL

static inline uint64_t
swar_zero(uint64_t t)
{
	return ~(((t & SWAR_7F) + SWAR_7F) | t) & (SWAR_7F + SWAR_01);
}

/* Any candidate among starts p-relative [0, 8)?  p..p+7+pos in bounds. */
static inline int
pscan_any8(const struct pscan *ps, const unsigned char *p)
{
	uint64_t x0, x1;

	memcpy(&x0, p + ps->p0, 8);
	memcpy(&x1, p + ps->p1, 8);
	return (swar_zero((x0 & (SWAR_01 * ps->m0)) ^ (SWAR_01 * ps->v0)) &
	    swar_zero((x1 & (SWAR_01 * ps->m1)) ^ (SWAR_01 * ps->v1))) != 0;
}

static void
pscan_account(struct pscan *ps, size_t skipped)
{
	ps->hits++;
	ps->skipped += skipped;
	if (ps->hits >= 64 && ps->skipped < ps->hits * 32)
		ps->use_memchr = 0;
}

ptrdiff_t
mm_find_portable(const struct mm_needle *n, const unsigned char *hay,
    size_t haylen)
{
	struct pscan ps;
	const unsigned char *q;
	size_t last = haylen - n->len, i = 0, j, cand = 0;
	ptrdiff_t r;

	pscan_init(&ps, n);
	while (i <= last) {
		if (ps.use_memchr) {
			q = memchr(hay + i + ps.p0, ps.v0, last - i + 1);
			if (q == NULL)
				return -1;
			j = (size_t)(q - hay) - ps.p0;
			pscan_account(&ps, j - i);
			i = j;
		} else {
			while (i + 7 <= last && !pscan_any8(&ps, hay + i))
				i += 8;
			while (i <= last && !pscan_at(&ps, hay + i))
				i++;
			if (i > last)
				return -1;
		}
		if (prefilter_ok(n, hay + i) && mm_search_match(n, hay + i))
			return (ptrdiff_t)i;
		i++;
		cand++;
		if (mm_search_dense(n, 2, cand, i)) {
			r = mm_search_tw_find(n, hay + i, haylen - i);
			return r < 0 ? -1 : r + (ptrdiff_t)i;
		}
	}
	return -1;
}

ptrdiff_t
mm_rfind_portable(const struct mm_needle *n, const unsigned char *hay,
    size_t haylen)
{
	struct pscan ps;
	const unsigned char *q;
	size_t e = haylen - n->len + 1, i, cand = 0;

	pscan_init(&ps, n);
	while (e > 0) {
		if (ps.use_memchr) {
			q = rmemchr(hay + ps.p0, ps.v0, e);
			if (q == NULL)
				return -1;
			i = (size_t)(q - hay) - ps.p0;
			pscan_account(&ps, e - 1 - i);
		} else {
			while (e >= 8 && !pscan_any8(&ps, hay + e - 8))
				e -= 8;
			if (e == 0)
				return -1;
			i = e - 1;
			while (!pscan_at(&ps, hay + i))
				if (i-- == 0)
					return -1;
		}
		if (prefilter_ok(n, hay + i) && mm_search_match(n, hay + i))
			return (ptrdiff_t)i;
		e = i;
		cand++;
		if (e > 0 && mm_search_dense(n, 2, cand, haylen - e))
			return mm_search_tw_rfind(n, hay, e - 1 + n->len);
	}
	return -1;
}
