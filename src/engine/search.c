/*
 * search.c - CPU dispatch, needle compilation and the entry points of
 * search.h but the sets.  The parts: search_portable.c (the verifier and
 * the kernel of every target), search_sse2.c, search_avx2.c and
 * search_avx512.c (x86 vector kernels), search_twoway.c (the fallback),
 * search_set.c (several needles at once); search_int.h is what they share.
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

#include <sys/types.h>

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "search_int.h"

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

/* The level in force: forced, else detected once. */
enum mm_cpu
mm_search_level(void)
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

/* Byte frequencies of sample[0..len), for ranking needle positions. */
void
mm_search_freq(uint64_t freq[256], const unsigned char *sample, size_t len)
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
			f = mm_search_pos_freq(freq, n->val[i], n->msk[i]);
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
			est = (double)mm_search_pos_freq(freq, n->pv[0],
			    n->pm[0]) / (double)total *
			    (double)mm_search_pos_freq(freq, n->pv[1],
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
		est *= (double)mm_search_pos_freq(freq, n->pv[t], n->pm[t]) /
		    (double)total;
	if (est < 1.0 / 65536)
		return;
	/* The six rarest positions by byte, by insertion into cand[]. */
	for (i = 0; i < n->len; i++) {
		if (n->msk[i] == 0)
			continue;
		f = mm_search_pos_freq(freq, n->val[i], n->msk[i]);
		for (k = (size_t)nc; k > 0; k--) {
			if (mm_search_pos_freq(freq, n->val[cand[k - 1]],
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
		n->find = mm_find_portable;
		n->rfind = mm_rfind_portable;
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
		mm_search_tw_prepare(n->val, len, &n->tw_suffix,
		    &n->tw_period, &n->tw_periodic);
		mm_search_tw_prepare(n->rval, len, &n->twr_suffix,
		    &n->twr_period, &n->twr_periodic);
	}
	mm_search_freq(freq, sample, samplelen);
	pick_positions(n, freq);
	tune_positions(n, freq, sample, samplelen);
	/* From the final positions: tuning may trade a byte for a letter. */
	for (i = 0; i < (size_t)n->npos; i++)
		if (n->pm[i] != 0xff)
			n->fold = 1;
	set_kernels(n, mm_search_level());
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

/*
 * Matches from max(from, skip) on by repeated find.  Always inlined, so
 * each caller below keeps its own loop and calls its find directly.
 */
static inline __attribute__((always_inline)) int
findall_by(const struct mm_needle *n, mm_find_fn find,
    const unsigned char *hay, size_t haylen, size_t from,
    struct mm_findall *a)
{
	ptrdiff_t r;

	for (;;) {
		if (from < a->skip)
			from = a->skip;
		if (from > haylen || haylen - from < n->len)
			return 0;
		if ((r = find(n, hay + from, haylen - from)) < 0)
			return 0;
		if (findall_hit(a, from + (size_t)r))
			return a->rc;
	}
}

/* By the needle's own kernel. */
int
mm_search_findall_loop(const struct mm_needle *n, const unsigned char *hay,
    size_t haylen, size_t from, struct mm_findall *a)
{
	return findall_by(n, n->find, hay, haylen, from, a);
}

/* By Two-Way, for kernels that gave up filtering. */
int
mm_search_findall_tw(const struct mm_needle *n, const unsigned char *hay,
    size_t haylen, size_t from, struct mm_findall *a)
{
	return findall_by(n, mm_search_tw_find, hay, haylen, from, a);
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

