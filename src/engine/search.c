/*
 * search.c - needle compilation, CPU dispatch, the portable kernel, the
 * Two-Way fallback and multi-needle sets.
 *
 * The fast path is a "packed pair" filter (Mula's generic SIMD search): the
 * two (or three) rarest needle positions, ranked by a byte histogram taken
 * from the haystack itself, are compared against a whole vector of
 * haystack positions at once and only the survivors are verified.  A static
 * rank fails on data unlike its training text (NUL-heavy binaries make 0x00
 * the commonest byte, not a rare one), hence the sample.  When the filter
 * stops filtering, the kernels escalate to a third position and finally
 * hand over to Two-Way, which is linear in the worst case.
 *
 * Dispatch: mm_needle_new() stores the find/rfind kernels of the level in
 * force (mm_cpu_force(), else mm_cpu_detect() on first use) in the needle,
 * so a call costs one indirect jump and no allocation.
 *
 * Worst cases: plain and ICASE needles are O(n + m).  Two-Way cannot
 * skip wildcards, so a needle with "??" positions stays on the filter and
 * verifier: O(n * m) on input where every filter position matches,
 * e.g. "a??a...a" in "aaaa..." (with a 64-byte vector or an 8-byte word
 * compared per step, so m / 64 or m / 8 steps per position).  Sets are
 * O(n * total needle length) on adversarial input.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif

#include <sys/types.h>

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MM_SEARCH_PRIVATE
#include "search.h"

#if defined(__x86_64__) || defined(__i386__)
#define MM_X86 1
#endif

/* -1: not chosen yet; set once by detection or by mm_cpu_force. */
static int cur_level = -1;

static unsigned char canon_id[256];
static unsigned char canon_up[256];
static int canon_ready;

enum mm_cpu
mm_cpu_detect(void)
{
#ifdef MM_X86
	__builtin_cpu_init();
	if (__builtin_cpu_supports("avx512f") &&
	    __builtin_cpu_supports("avx512bw") &&
	    __builtin_cpu_supports("avx512vl") &&
	    __builtin_cpu_supports("bmi") && __builtin_cpu_supports("bmi2"))
		return MM_CPU_AVX512;
	if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("bmi") &&
	    __builtin_cpu_supports("bmi2"))
		return MM_CPU_AVX2;
	if (__builtin_cpu_supports("sse2"))
		return MM_CPU_SSE2;
#endif
	return MM_CPU_PORTABLE;
}

int
mm_cpu_force(enum mm_cpu level)
{
	if ((int)level < MM_CPU_PORTABLE || level > MM_CPU_AVX512)
		return -EINVAL;
	if (level > mm_cpu_detect())
		return -ENOTSUP;
	__atomic_store_n(&cur_level, (int)level, __ATOMIC_RELAXED);
	return 0;
}

const char *
mm_cpu_name(enum mm_cpu level)
{
	switch (level) {
	case MM_CPU_PORTABLE:
		return "portable";
	case MM_CPU_SSE2:
		return "sse2";
	case MM_CPU_AVX2:
		return "avx2";
	case MM_CPU_AVX512:
		return "avx512";
	}
	return "unknown";
}

static enum mm_cpu
level_now(void)
{
	int l;

	l = __atomic_load_n(&cur_level, __ATOMIC_RELAXED);
	if (l < 0) {
		l = (int)mm_cpu_detect();
		__atomic_store_n(&cur_level, l, __ATOMIC_RELAXED);
	}
	return (enum mm_cpu)l;
}

/* Tables are constant once built; racing builders write the same bytes. */
static void
canon_init(void)
{
	int c;

	if (__atomic_load_n(&canon_ready, __ATOMIC_ACQUIRE))
		return;
	for (c = 0; c < 256; c++) {
		canon_id[c] = (unsigned char)c;
		canon_up[c] = (unsigned char)(c >= 'a' && c <= 'z' ?
		    c - 32 : c);
	}
	__atomic_store_n(&canon_ready, 1, __ATOMIC_RELEASE);
}

static int
is_alpha(unsigned char c)
{
	c |= 0x20;
	return c >= 'a' && c <= 'z';
}

/* ------------------------------------------------------ byte frequency */

/*
 * Without a sample, guess: text bytes and NUL are common, the rest rare.
 * Only used when the caller has no haystack bytes to show us.
 */
static void
freq_default(uint64_t freq[256])
{
	static const char common[] = " etaoinsrhldcumwfgypb\n.,0123456789";
	size_t i, k;

	for (i = 0; i < 256; i++)
		freq[i] = 2;
	for (i = 'A'; i <= 'Z'; i++)
		freq[i] = 8;
	for (i = 0; common[i] != '\0'; i++) {
		k = (unsigned char)common[i];
		freq[k] = 200 - 5 * i;
	}
	freq[0x00] = 120;
	freq[0xff] = 20;
}

static void
freq_build(uint64_t freq[256], const unsigned char *sample, size_t len)
{
	uint64_t f[4][256];
	size_t i, c;

	if (sample == NULL || len == 0) {
		freq_default(freq);
		return;
	}
	/* Four tables break the store-to-load chain on runs of one byte. */
	memset(f, 0, sizeof(f));
	for (i = 0; i + 4 <= len; i += 4) {
		f[0][sample[i]]++;
		f[1][sample[i + 1]]++;
		f[2][sample[i + 2]]++;
		f[3][sample[i + 3]]++;
	}
	for (; i < len; i++)
		f[0][sample[i]]++;
	/*
	 * The guess stays in as a weak prior: it only breaks ties among
	 * bytes a small sample never saw.
	 */
	freq_default(freq);
	for (c = 0; c < 256; c++)
		freq[c] += 256 * (f[0][c] + f[1][c] + f[2][c] + f[3][c]);
}

/* Frequency of what position (v, m) accepts. */
static uint64_t
pos_freq(const uint64_t freq[256], unsigned char v, unsigned char m)
{
	if (m == 0)
		return UINT64_MAX;
	if (m == 0xdf)
		return freq[v] + freq[v | 0x20];
	return freq[v];
}

size_t
mm_sample(const unsigned char *hay, size_t haylen, unsigned char *out,
    size_t cap)
{
	size_t w, k, t, off, step;

	if (hay == NULL || out == NULL || cap == 0 || haylen == 0)
		return 0;
	if (haylen <= cap) {
		memcpy(out, hay, haylen);
		return haylen;
	}
	w = cap / 8;
	if (w < 4096)
		w = 4096;
	if (w > 16384)
		w = 16384;
	if (w > cap)
		w = cap;
	k = cap / w;
	step = k > 1 ? (haylen - w) / (k - 1) : 0;
	for (t = 0; t < k; t++) {
		off = k > 1 ? step * t : (haylen - w) / 2;
		memcpy(out + t * w, hay + off, w);
	}
	return k * w;
}

/* ------------------------------------------------------------- Two-Way */

/*
 * The maximal suffix of x[0..m) under byte order, or under the reversed
 * order with REV; its period goes to *PERIOD.  Starts are kept one below
 * (SIZE_MAX for none), as in glibc's str-two-way.h.
 */
static size_t
max_suffix(const unsigned char *x, size_t m, int rev, size_t *period)
{
	size_t ms = SIZE_MAX, j = 0, k = 1, p = 1;
	unsigned char a, b;

	while (j + k < m) {
		a = x[j + k];
		b = x[ms + k];
		if (rev ? b < a : a < b) {
			j += k;
			k = 1;
			p = j - ms;
		} else if (a == b) {
			if (k != p)
				k++;
			else {
				j += p;
				k = 1;
			}
		} else {
			ms = j++;
			k = p = 1;
		}
	}
	*period = p;
	return ms;
}

/*
 * Critical factorization (Crochemore-Perrin): the longer of the maximal
 * suffixes for both byte orders.
 */
static size_t
tw_factor(const unsigned char *x, size_t m, size_t *period)
{
	size_t p, pr, ms, msr;

	ms = max_suffix(x, m, 0, &p);
	msr = max_suffix(x, m, 1, &pr);
	if (msr + 1 < ms + 1) {
		*period = p;
		return ms + 1;
	}
	*period = pr;
	return msr + 1;
}

static void
tw_prepare(const unsigned char *x, size_t m, size_t *suffix, size_t *period,
    int *periodic)
{
	size_t s, p;

	s = tw_factor(x, m, &p);
	if (memcmp(x, x + p, s) == 0)
		*periodic = 1;
	else {
		*periodic = 0;
		p = (s > m - s ? s : m - s) + 1;
	}
	*suffix = s;
	*period = p;
}

/*
 * The search proper; rev reads the haystack back to front so the same code
 * finds the last match with the reversed needle.  Returns the offset in
 * the direction of travel, or -1.
 */
static inline __attribute__((always_inline)) ptrdiff_t
tw_run(const unsigned char *x, size_t m, size_t suffix, size_t period,
    int periodic, const unsigned char *canon, const unsigned char *hay,
    size_t n, const int rev)
{
	size_t i, j, memory;

#define H(o)	canon[rev ? hay[n - 1 - (o)] : hay[o]]
	if (n < m)
		return -1;
	j = 0;
	if (periodic) {
		memory = 0;
		while (j <= n - m) {
			i = suffix > memory ? suffix : memory;
			while (i < m && x[i] == H(i + j))
				i++;
			if (i >= m) {
				i = suffix - 1;
				while (memory < i + 1 && x[i] == H(i + j))
					i--;
				if (i + 1 < memory + 1)
					return (ptrdiff_t)j;
				j += period;
				memory = m - period;
			} else {
				j += i - suffix + 1;
				memory = 0;
			}
		}
	} else {
		while (j <= n - m) {
			i = suffix;
			while (i < m && x[i] == H(i + j))
				i++;
			if (i >= m) {
				i = suffix - 1;
				while (i != SIZE_MAX && x[i] == H(i + j))
					i--;
				if (i == SIZE_MAX)
					return (ptrdiff_t)j;
				j += period;
			} else
				j += i - suffix + 1;
		}
	}
#undef H
	return -1;
}

ptrdiff_t
mm_search_tw_find(const struct mm_needle *n, const unsigned char *hay,
    size_t haylen)
{
	return tw_run(n->val, n->len, n->tw_suffix, n->tw_period,
	    n->tw_periodic, n->canon, hay, haylen, 0);
}

ptrdiff_t
mm_search_tw_rfind(const struct mm_needle *n, const unsigned char *hay,
    size_t haylen)
{
	ptrdiff_t j;

	j = tw_run(n->rval, n->len, n->twr_suffix, n->twr_period,
	    n->twr_periodic, n->canon, hay, haylen, 1);
	if (j < 0)
		return -1;
	return (ptrdiff_t)(haylen - n->len) - j;
}

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

static ptrdiff_t
find_portable(const struct mm_needle *n, const unsigned char *hay,
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

static ptrdiff_t
rfind_portable(const struct mm_needle *n, const unsigned char *hay,
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

/* ------------------------------------------------------------- needles */

/*
 * Pick up to three filter positions, rarest first, preferring byte values
 * not already picked: "ntnt" must not compare 'n' twice.
 */
static void
pick_positions(struct mm_needle *n, const uint64_t freq[256])
{
	uint64_t f, best, total;
	size_t i, bi;
	int t, u, dup, bestdup;
	double est;

	n->npos = 0;
	for (t = 0; t < 3; t++) {
		bi = SIZE_MAX;
		best = UINT64_MAX;
		bestdup = 2;
		for (i = 0; i < n->len; i++) {
			if (n->msk[i] == 0)
				continue;
			dup = 0;
			for (u = 0; u < t; u++) {
				if (n->pos[u] == i)
					break;
				if (n->pv[u] == n->val[i])
					dup = 1;
			}
			if (u < t)
				continue;
			f = pos_freq(freq, n->val[i], n->msk[i]);
			if (dup < bestdup || (dup == bestdup && f < best)) {
				bi = i;
				best = f;
				bestdup = dup;
			}
		}
		if (bi == SIZE_MAX)
			break;
		n->pos[t] = bi;
		n->pv[t] = n->val[bi];
		n->pm[t] = n->msk[bi];
		n->npos++;
	}
	n->start3 = 0;
	if (n->npos == 3) {
		total = 0;
		for (i = 0; i < 256; i++)
			total += freq[i];
		if (total > 0) {
			est = (double)pos_freq(freq, n->pv[0], n->pm[0]) /
			    (double)total * (double)pos_freq(freq, n->pv[1],
			    n->pm[1]) / (double)total;
			n->start3 = est > 1.0 / 1024;
		}
	}
}

/* How many sample positions pass the filter made of positions ps[0..np)? */
static size_t
filter_hits(const struct mm_needle *n, const size_t *ps, int np,
    const unsigned char *sample, size_t slen)
{
	size_t i, b, end, hits = 0;
	int t;

	/* A quarter of every 8 KiB keeps the cost down and the spread wide. */
	for (b = 0; b + n->len <= slen; b += 8192) {
		end = b + 2048;
		if (end > slen - n->len + 1)
			end = slen - n->len + 1;
		for (i = b; i < end; i++) {
			for (t = 0; t < np; t++)
				if ((sample[i + ps[t]] & n->msk[ps[t]]) !=
				    n->val[ps[t]])
					break;
			hits += t == np;
		}
	}
	return hits;
}

/*
 * Bytes that are each common can be rare together, and the reverse: the
 * letters of "hen" are common and so is the trigram.  When the per-byte
 * estimate says the filter will fire often, try every triple of the six
 * rarest positions on the sample itself and keep the one that fires least
 * (under 1 ms, only for needles made of common bytes).
 */
static void
tune_positions(struct mm_needle *n, const uint64_t freq[256],
    const unsigned char *sample, size_t slen)
{
	size_t cand[6], best[3], trial[3], i, k, hits, besthits;
	uint64_t f, total = 0;
	int nc = 0, a, b, c, t, u;
	double est;

	if (n->npos < 3 || sample == NULL || slen < 4096 || n->len > slen / 4)
		return;
	for (i = 0; i < 256; i++)
		total += freq[i];
	est = 1.0;
	for (t = 0; t < 3; t++)
		est *= (double)pos_freq(freq, n->pv[t], n->pm[t]) /
		    (double)total;
	if (est < 1.0 / 65536)
		return;
	/* The six rarest positions by byte, by insertion into cand[]. */
	for (i = 0; i < n->len; i++) {
		if (n->msk[i] == 0)
			continue;
		f = pos_freq(freq, n->val[i], n->msk[i]);
		for (k = (size_t)nc; k > 0; k--) {
			if (pos_freq(freq, n->val[cand[k - 1]],
			    n->msk[cand[k - 1]]) <= f)
				break;
			if (k < 6)
				cand[k] = cand[k - 1];
		}
		if (k < 6) {
			cand[k] = i;
			if (nc < 6)
				nc++;
		}
	}
	for (t = 0; t < 3; t++)
		best[t] = n->pos[t];
	besthits = filter_hits(n, best, 3, sample, slen);
	for (a = 0; a < nc && besthits > 0; a++)
		for (b = a + 1; b < nc; b++)
			for (c = b + 1; c < nc; c++) {
				trial[0] = cand[a];
				trial[1] = cand[b];
				trial[2] = cand[c];
				hits = filter_hits(n, trial, 3, sample, slen);
				if (hits < besthits) {
					besthits = hits;
					memcpy(best, trial, sizeof(best));
				}
			}
	/* Lead with the pair of the triple that filters best on its own. */
	besthits = SIZE_MAX;
	for (u = 0; u < 3; u++) {
		trial[0] = best[u];
		trial[1] = best[(u + 1) % 3];
		trial[2] = best[(u + 2) % 3];
		hits = filter_hits(n, trial, 2, sample, slen);
		if (hits < besthits) {
			besthits = hits;
			for (t = 0; t < 3; t++) {
				n->pos[t] = trial[t];
				n->pv[t] = n->val[trial[t]];
				n->pm[t] = n->msk[trial[t]];
			}
		}
	}
	/* More than one pair candidate per 1024 sampled positions. */
	n->start3 = besthits * 4 * 1024 > slen;
}

static void
set_kernels(struct mm_needle *n, enum mm_cpu level)
{
	n->level = level;
	switch (level) {
#ifdef MM_X86
	case MM_CPU_AVX512:
		n->find = mm_find_avx512;
		n->rfind = mm_rfind_avx512;
		return;
	case MM_CPU_AVX2:
		n->find = mm_find_avx2;
		n->rfind = mm_rfind_avx2;
		return;
	case MM_CPU_SSE2:
		n->find = mm_find_sse2;
		n->rfind = mm_rfind_sse2;
		return;
#endif
	default:
		n->level = MM_CPU_PORTABLE;
		n->find = find_portable;
		n->rfind = rfind_portable;
		return;
	}
}

int
mm_needle_new(struct mm_needle **np, const unsigned char *pat,
    const unsigned char *mask, size_t len, int flags,
    const unsigned char *sample, size_t samplelen)
{
	struct mm_needle *n;
	uint64_t freq[256];
	size_t i, padded;
	unsigned char c;

	if (np == NULL)
		return -EINVAL;
	*np = NULL;
	if ((len > 0 && pat == NULL) || (flags & ~MM_NEEDLE_ICASE) != 0 ||
	    len > PTRDIFF_MAX - 128 || (sample == NULL && samplelen > 0))
		return -EINVAL;
	canon_init();
	if ((n = calloc(1, sizeof(*n))) == NULL)
		return -ENOMEM;
	/* Padding lets the vector verifier load whole 64-byte chunks. */
	padded = (len + 63) / 64 * 64 + 64;
	n->val = calloc(1, padded);
	n->msk = calloc(1, padded);
	n->rval = calloc(1, padded);
	if (n->val == NULL || n->msk == NULL || n->rval == NULL) {
		mm_needle_free(n);
		return -ENOMEM;
	}
	n->len = len;
	n->flags = flags;
	n->nchunk = (len + 63) / 64;
	n->plain = 1;
	for (i = 0; i < len; i++) {
		c = pat[i];
		if (mask != NULL && mask[i] == 0) {
			n->msk[i] = 0;
			n->val[i] = 0;
			n->wild = 1;
			n->plain = 0;
		} else if ((flags & MM_NEEDLE_ICASE) && is_alpha(c)) {
			n->msk[i] = 0xdf;
			n->val[i] = c & 0xdf;
			n->plain = 0;
		} else {
			n->msk[i] = 0xff;
			n->val[i] = c;
		}
	}
	for (i = 0; i < len; i++)
		n->rval[i] = n->val[len - 1 - i];
	n->canon = (flags & MM_NEEDLE_ICASE) ? canon_up : canon_id;
	if (len > 0 && !n->wild) {
		tw_prepare(n->val, len, &n->tw_suffix, &n->tw_period,
		    &n->tw_periodic);
		tw_prepare(n->rval, len, &n->twr_suffix, &n->twr_period,
		    &n->twr_periodic);
	}
	freq_build(freq, sample, samplelen);
	pick_positions(n, freq);
	tune_positions(n, freq, sample, samplelen);
	/* From the final positions: tuning may trade a byte for a letter. */
	for (i = 0; i < (size_t)n->npos; i++)
		if (n->pm[i] != 0xff)
			n->fold = 1;
	set_kernels(n, level_now());
	*np = n;
	return 0;
}

void
mm_needle_free(struct mm_needle *n)
{
	if (n == NULL)
		return;
	free(n->val);
	free(n->msk);
	free(n->rval);
	free(n);
}

size_t
mm_needle_len(const struct mm_needle *n)
{
	return n->len;
}

ptrdiff_t
mm_find(const struct mm_needle *n, const unsigned char *hay, size_t haylen)
{
	if (n->len == 0)
		return 0;
	if (haylen < n->len || hay == NULL)
		return -1;
	if (n->npos == 0)
		return 0;
	return n->find(n, hay, haylen);
}

/* ----------------------------------------------------------- find-all */

/* Hand the queued matches to cb; 1 when it said stop. */
int
mm_search_findall_flush(struct mm_findall *a)
{
	size_t i, nb = a->nbuf;

	a->nbuf = 0;
	for (i = 0; i < nb; i++)
		if ((a->rc = a->cb(a->ctx, a->buf[i])) != 0)
			return 1;
	return 0;
}

#define findall_hit	mm_search_findall_hit

/* Matches from max(from, skip) on by repeated n->find. */
int
mm_search_findall_loop(const struct mm_needle *n, const unsigned char *hay,
    size_t haylen, size_t from, struct mm_findall *a)
{
	ptrdiff_t r;

	for (;;) {
		if (from < a->skip)
			from = a->skip;
		if (from > haylen || haylen - from < n->len)
			return 0;
		if ((r = n->find(n, hay + from, haylen - from)) < 0)
			return 0;
		if (findall_hit(a, from + (size_t)r))
			return a->rc;
	}
}

/* The same by Two-Way, for kernels that gave up filtering. */
int
mm_search_findall_tw(const struct mm_needle *n, const unsigned char *hay,
    size_t haylen, size_t from, struct mm_findall *a)
{
	ptrdiff_t r;

	for (;;) {
		if (from < a->skip)
			from = a->skip;
		if (from > haylen || haylen - from < n->len)
			return 0;
		if ((r = mm_search_tw_find(n, hay + from, haylen - from)) < 0)
			return 0;
		if (findall_hit(a, from + (size_t)r))
			return a->rc;
	}
}

/* Starts in [max(from, skip), to], to <= haylen - len; 1 when stopped. */
int
mm_search_findall_scalar(const struct mm_needle *n, const unsigned char *hay,
    size_t haylen, size_t from, size_t to, struct mm_findall *a)
{
	ptrdiff_t r;

	for (;;) {
		if (from < a->skip)
			from = a->skip;
		if (from > to)
			return 0;
		if ((r = mm_search_scalar_find(n, hay, haylen, from, to)) < 0)
			return 0;
		if (findall_hit(a, (size_t)r))
			return 1;
	}
}

int
mm_findall(const struct mm_needle *n, const unsigned char *hay,
    size_t haylen, int overlap, mm_hit_fn cb, void *ctx)
{
	struct mm_findall a;
	size_t i;
	int rc;

	if (n->len == 0) {
		for (i = 0; i <= haylen; i++)
			if ((rc = cb(ctx, i)) != 0)
				return rc;
		return 0;
	}
	if (haylen < n->len || hay == NULL)
		return 0;
	a.cb = cb;
	a.ctx = ctx;
	a.adv = overlap ? 1 : n->len;
	a.skip = 0;
	a.rc = 0;
	a.nbuf = 0;
	if (n->npos == 0) {
		/* All wildcards: a match everywhere it fits. */
		for (i = 0; i <= haylen - n->len; i += a.adv)
			if ((rc = cb(ctx, i)) != 0)
				return rc;
		return 0;
	}
	switch (n->level) {
#ifdef MM_X86
	case MM_CPU_AVX512:
		rc = mm_findall_avx512(n, hay, haylen, &a);
		break;
	case MM_CPU_AVX2:
		rc = mm_findall_avx2(n, hay, haylen, &a);
		break;
#endif
	default:
		rc = mm_search_findall_loop(n, hay, haylen, 0, &a);
		break;
	}
	if (rc == 0 && mm_search_findall_flush(&a))
		rc = a.rc;
	return rc;
}

ptrdiff_t
mm_rfind(const struct mm_needle *n, const unsigned char *hay, size_t haylen)
{
	if (n->len == 0)
		return (ptrdiff_t)haylen;
	if (haylen < n->len || hay == NULL)
		return -1;
	if (n->npos == 0)
		return (ptrdiff_t)(haylen - n->len);
	return n->rfind(n, hay, haylen);
}

/* ---------------------------------------------------------------- sets */

/*
 * The set is Teddy (Hyperscan's literal matcher) with a twist: every
 * needle contributes a 3-byte fingerprint taken at its rarest 3-byte
 * window (by the sample) rather than its prefix, and lives in one of 8
 * buckets.  A haystack position j is a candidate for bucket b when the
 * three bytes at j match some fingerprint of b; a needle of b with window
 * offset o then starts at j - o.  Since offsets differ, a forward scan that
 * found a match at s keeps going until j > s + maxoff before it is sure
 * nothing starts earlier (and the reverse scan until j < s).
 */

static int
set_better(const struct mm_setbest *b, size_t off, size_t len, size_t idx,
    int rev)
{
	if (b->off < 0)
		return 1;
	if ((ptrdiff_t)off != b->off)
		return rev ? (ptrdiff_t)off > b->off : (ptrdiff_t)off < b->off;
	if (len != b->len)
		return len > b->len;
	return idx < b->idx;
}

void
mm_search_set_cand(const struct mm_needleset *s, const unsigned char *hay,
    size_t haylen, size_t j, unsigned int bits, int rev,
    struct mm_setbest *best)
{
	const struct mm_needle *n;
	size_t k, idx, o, st;
	int b;

	while (bits != 0) {
		b = __builtin_ctz(bits);
		bits &= bits - 1;
		for (k = s->bstart[b]; k < s->bstart[b + 1]; k++) {
			idx = s->members[k];
			n = s->needles[idx];
			o = s->off[idx];
			if (j < o)
				continue;
			st = j - o;
			if (n->len > haylen - st ||
			    !set_better(best, st, n->len, idx, rev))
				continue;
			if (mm_search_match(n, hay + st)) {
				best->off = (ptrdiff_t)st;
				best->len = n->len;
				best->idx = idx;
			}
		}
	}
}

/* Fingerprint positions j in [from, to); j + 2 < haylen is the caller's. */
void
mm_search_set_scalar(const struct mm_needleset *s, const unsigned char *hay,
    size_t haylen, size_t from, size_t to, int rev, struct mm_setbest *best)
{
	const unsigned char *t0 = s->tab[0], *t1 = s->tab[1], *t2 = s->tab[2];
	unsigned int bits;
	size_t j;

	if (!rev) {
		for (j = from; j < to; j++) {
			if ((bits = t0[hay[j]]) == 0)
				continue;
			bits &= t1[hay[j + 1]] & t2[hay[j + 2]];
			if (bits == 0)
				continue;
			if (best->off >= 0 && j > (size_t)best->off + s->maxoff)
				return;
			mm_search_set_cand(s, hay, haylen, j, bits, 0, best);
		}
	} else {
		for (j = to; j > from; j--) {
			if ((bits = t0[hay[j - 1]]) == 0)
				continue;
			bits &= t1[hay[j]] & t2[hay[j + 1]];
			if (bits == 0)
				continue;
			if (best->off >= 0 && j - 1 < (size_t)best->off)
				return;
			mm_search_set_cand(s, hay, haylen, j - 1, bits, 1,
			    best);
		}
	}
}

/* Starts s >= haylen - 2 are only reachable by needles shorter than 3. */
static void
set_tail(const struct mm_needleset *s, const unsigned char *hay,
    size_t haylen, size_t from, int rev, struct mm_setbest *best)
{
	const struct mm_needle *n;
	size_t st, k, i;

	for (k = from; k < haylen; k++) {
		st = rev ? haylen - 1 - (k - from) : k;
		for (i = 0; i < s->count; i++) {
			n = s->needles[i];
			if (n->len == 0 || n->len >= MM_SET_FP ||
			    n->len > haylen - st ||
			    !set_better(best, st, n->len, i, rev))
				continue;
			if (mm_search_match(n, hay + st)) {
				best->off = (ptrdiff_t)st;
				best->len = n->len;
				best->idx = i;
			}
		}
	}
}

static void
set_add(struct mm_needleset *s, int k, unsigned char byte, int b)
{
	s->lo[k][byte & 15] |= (unsigned char)(1u << b);
	s->hi[k][byte >> 4] |= (unsigned char)(1u << b);
	s->tab[k][byte] |= (unsigned char)(1u << b);
}

int
mm_needleset_new(struct mm_needleset **sp, struct mm_needle *const *needles,
    size_t count, const unsigned char *sample, size_t samplelen)
{
	struct mm_needleset *s;
	const struct mm_needle *n;
	uint64_t freq[256], total;
	double cost, bestcost, f;
	size_t i, o, k, c, pos, fill[8];
	int b, kk;

	if (sp == NULL)
		return -EINVAL;
	*sp = NULL;
	if ((count > 0 && needles == NULL) || count > SIZE_MAX / 64 ||
	    (sample == NULL && samplelen > 0))
		return -EINVAL;
	for (i = 0; i < count; i++)
		if (needles[i] == NULL)
			return -EINVAL;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return -ENOMEM;
	s->count = count;
	s->needles = calloc(count + 1, sizeof(*s->needles));
	s->off = calloc(count + 1, sizeof(*s->off));
	s->members = calloc(count + 1, sizeof(*s->members));
	if (s->needles == NULL || s->off == NULL || s->members == NULL) {
		mm_needleset_free(s);
		return -ENOMEM;
	}
	freq_build(freq, sample, samplelen);
	total = 0;
	for (c = 0; c < 256; c++)
		total += freq[c];
	if (total == 0)
		total = 1;
	memset(fill, 0, sizeof(fill));
	for (i = 0; i < count; i++) {
		s->needles[i] = needles[i];
		n = needles[i];
		if (n->len == 0) {
			if (!s->has_empty) {
				s->has_empty = 1;
				s->empty_idx = i;
			}
			continue;
		}
		if (n->len < MM_SET_FP)
			s->has_short = 1;
		/* The window whose three bytes are least likely together. */
		bestcost = 2.0;
		for (o = 0; o + MM_SET_FP <= n->len || o == 0; o++) {
			cost = 1.0;
			for (k = 0; k < MM_SET_FP && o + k < n->len; k++) {
				if (n->msk[o + k] == 0)
					continue;
				f = (double)pos_freq(freq, n->val[o + k],
				    n->msk[o + k]) / (double)total;
				cost *= f;
			}
			if (cost < bestcost) {
				bestcost = cost;
				s->off[i] = o;
			}
			if (o + MM_SET_FP >= n->len)
				break;
		}
		if (s->off[i] > s->maxoff)
			s->maxoff = s->off[i];
		b = (int)(i % 8);
		fill[b]++;
		o = s->off[i];
		for (kk = 0; kk < MM_SET_FP; kk++) {
			pos = o + (size_t)kk;
			if (pos >= n->len || n->msk[pos] == 0) {
				for (c = 0; c < 256; c++)
					set_add(s, kk, (unsigned char)c, b);
				continue;
			}
			set_add(s, kk, n->val[pos], b);
			if (n->msk[pos] == 0xdf)
				set_add(s, kk, n->val[pos] | 0x20, b);
		}
	}
	s->bstart[0] = 0;
	for (b = 0; b < 8; b++)
		s->bstart[b + 1] = s->bstart[b] + fill[b];
	memset(fill, 0, sizeof(fill));
	for (i = 0; i < count; i++) {
		if (needles[i]->len == 0)
			continue;
		b = (int)(i % 8);
		s->members[s->bstart[b] + fill[b]++] = i;
	}
	s->level = level_now();
	*sp = s;
	return 0;
}

void
mm_needleset_free(struct mm_needleset *s)
{
	if (s == NULL)
		return;
	free(s->needles);
	free(s->off);
	free(s->members);
	free(s);
}

/*
 * Without pshufb (SSE2, portable) a scalar fingerprint loop runs at about
 * a byte per cycle, slower than the needles' own kernels.  So walk the
 * haystack in L2-sized chunks and run every needle's kernel over each:
 * memory is still read once, and the per-needle rescans hit the cache.
 */
#define SET_CHUNK	((size_t)64 * 1024)

static void
set_chunked(const struct mm_needleset *s, const unsigned char *hay,
    size_t haylen, int rev, struct mm_setbest *best)
{
	const struct mm_needle *n;
	size_t c, span, cs, ce, wl, i;
	ptrdiff_t r;

	if (!rev) {
		for (c = 0; c < haylen && best->off < 0; c += span) {
			/* starts [c, c + span) */
			span = haylen - c < SET_CHUNK ? haylen - c : SET_CHUNK;
			for (i = 0; i < s->count; i++) {
				n = s->needles[i];
				if (n->len == 0 || n->len > haylen - c)
					continue;
				wl = haylen - c - n->len + 1 > span ?
				    span + n->len - 1 : haylen - c;
				r = mm_find(n, hay + c, wl);
				if (r >= 0 && set_better(best, c + (size_t)r,
				    n->len, i, 0)) {
					best->off = (ptrdiff_t)c + r;
					best->len = n->len;
					best->idx = i;
				}
			}
		}
		return;
	}
	for (ce = haylen; ce > 0 && best->off < 0; ce = cs) {
		/* starts [cs, ce) */
		cs = ce > SET_CHUNK ? ce - SET_CHUNK : 0;
		for (i = 0; i < s->count; i++) {
			n = s->needles[i];
			if (n->len == 0 || n->len > haylen - cs)
				continue;
			wl = haylen - cs - n->len + 1 > ce - cs ?
			    ce - cs + n->len - 1 : haylen - cs;
			r = mm_rfind(n, hay + cs, wl);
			if (r >= 0 && set_better(best, cs + (size_t)r, n->len,
			    i, 1)) {
				best->off = (ptrdiff_t)cs + r;
				best->len = n->len;
				best->idx = i;
			}
		}
	}
}

/* Teddy over fingerprint positions; only called at AVX2 and above. */
static void
set_scan(const struct mm_needleset *s, const unsigned char *hay,
    size_t haylen, int rev, struct mm_setbest *best)
{
	if (haylen < MM_SET_FP)
		return;
#ifdef MM_X86
	if (s->level == MM_CPU_AVX512)
		mm_setscan_avx512(s, hay, haylen, rev, best);
	else
		mm_setscan_avx2(s, hay, haylen, rev, best);
#else
	(void)s;
	(void)hay;
	(void)rev;
	(void)best;
#endif
}

ptrdiff_t
mm_findset(const struct mm_needleset *s, const unsigned char *hay,
    size_t haylen, size_t *which)
{
	struct mm_setbest best = { -1, 0, 0 };
	const struct mm_needle *n;
	size_t i;

	if (hay == NULL)
		haylen = 0;
	if (s->has_empty) {
		/* Offset 0 is as far left as it gets; only length competes. */
		best.off = 0;
		best.idx = s->empty_idx;
		for (i = 0; i < s->count; i++) {
			n = s->needles[i];
			if (n->len > 0 && n->len <= haylen &&
			    set_better(&best, 0, n->len, i, 0) &&
			    mm_search_match(n, hay)) {
				best.len = n->len;
				best.idx = i;
			}
		}
	} else if (haylen > 0 && s->level < MM_CPU_AVX2)
		set_chunked(s, hay, haylen, 0, &best);
	else if (haylen > 0) {
		set_scan(s, hay, haylen, 0, &best);
		if (s->has_short)
			set_tail(s, hay, haylen, haylen >= MM_SET_FP ?
			    haylen - (MM_SET_FP - 1) : 0, 0, &best);
	}
	if (best.off >= 0 && which != NULL)
		*which = best.idx;
	return best.off;
}

ptrdiff_t
mm_rfindset(const struct mm_needleset *s, const unsigned char *hay,
    size_t haylen, size_t *which)
{
	struct mm_setbest best = { -1, 0, 0 };

	if (hay == NULL)
		haylen = 0;
	if (s->has_empty) {
		/* Nothing but an empty needle starts at haylen. */
		best.off = (ptrdiff_t)haylen;
		best.idx = s->empty_idx;
	} else if (haylen > 0 && s->level < MM_CPU_AVX2)
		set_chunked(s, hay, haylen, 1, &best);
	else if (haylen > 0) {
		if (s->has_short)
			set_tail(s, hay, haylen, haylen >= MM_SET_FP ?
			    haylen - (MM_SET_FP - 1) : 0, 1, &best);
		set_scan(s, hay, haylen, 1, &best);
	}
	if (best.off >= 0 && which != NULL)
		*which = best.idx;
	return best.off;
}
