/*
 * search_set.c - several needles searched in one pass: mm_needleset_new,
 * mm_findset, mm_rfindset.
 *
 * The set is Teddy (Hyperscan's literal matcher) with a twist: every
 * needle contributes a 3-byte fingerprint taken at its rarest 3-byte
 * window (by the sample) rather than its prefix, and lives in one of 8
 * buckets.  A haystack position j is a candidate for bucket b when the
 * three bytes at j match some fingerprint of b; a needle of b with window
 * offset o then starts at j - o.  Since offsets differ, a forward scan that
 * found a match at s keeps going until j > s + maxoff before it is sure
 * nothing starts earlier (and the reverse scan until j < s).
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "search_int.h"

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

/* Needle IDX (N) at ST, if it fits, beats BEST and matches: the best. */
static inline void
set_try(const struct mm_needle *n, const unsigned char *hay, size_t haylen,
    size_t st, size_t idx, int rev, struct mm_setbest *best)
{
	if (n->len > haylen - st || !set_better(best, st, n->len, idx, rev) ||
	    !mm_search_match(n, hay + st))
		return;
	best->off = (ptrdiff_t)st;
	best->len = n->len;
	best->idx = idx;
}

void
mm_search_set_cand(const struct mm_needleset *s, const unsigned char *hay,
    size_t haylen, size_t j, unsigned int bits, int rev,
    struct mm_setbest *best)
{
	const struct mm_needle *n;
	size_t k, idx, o;
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
			set_try(n, hay, haylen, j - o, idx, rev, best);
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
			if (n->len != 0 && n->len < MM_SET_FP)
				set_try(n, hay, haylen, st, i, rev, best);
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
	mm_search_freq(freq, sample, samplelen);
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
				f = (double)mm_search_pos_freq(freq,
				    n->val[o + k], n->msk[o + k]) /
				    (double)total;
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
	s->level = mm_search_level();
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
