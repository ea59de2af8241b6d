/*
 * fuzz_search.c - the search kernels against a naive reference: every CPU
 * level this machine has, mm_find and mm_rfind for every needle, and
 * mm_findset and mm_rfindset for all of them together, on fuzzer-chosen
 * needles and haystacks.
 *
 * Input (text-friendly, so seeds are readable files):
 *   byte 0   control: bit 0 ignore case, bit 1 wildcards, bits 2-4 repeat
 *            the haystack piece 2^n times, bit 5 rank against no sample,
 *            bit 6 rank against the first needle instead of the haystack,
 *            bit 7 search from the second byte of the buffer (unaligned)
 *   byte 1   the separator between fields
 *   byte 2   the wildcard byte (with bit 1, needle bytes equal to it match
 *            any byte)
 *   rest     NEEDLE SEP NEEDLE SEP ... SEP HAYSTACK (the last field)
 * The haystack is searched from a buffer of exactly its size, so
 * AddressSanitizer sees any read past either end.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "search.h"
#include "fuzz.h"

#define MAXNEEDLES	12
/* Past two of the 64 KiB chunks of the portable and SSE2 set scans. */
#define MAXHAY		((size_t)160 * 1024)
/* Keep the naive reference affordable: haystack bytes x needle bytes. */
#define MAXWORK		((size_t)2 << 20)
#define SAMPLE		4096

struct pat {
	const unsigned char	*data;
	unsigned char		*mask;		/* NULL: no wildcard */
	size_t			 len;
};

static ptrdiff_t
naive_find(const struct pat *p, const unsigned char *h, size_t n, int icase)
{
	size_t i;

	if (p->len > n)
		return -1;
	for (i = 0; i + p->len <= n; i++)
		if (fuzz_match(p->data, p->mask, p->len, h + i, icase))
			return (ptrdiff_t)i;
	return -1;
}

static ptrdiff_t
naive_rfind(const struct pat *p, const unsigned char *h, size_t n, int icase)
{
	size_t i;

	if (p->len > n)
		return -1;
	for (i = n - p->len + 1; i-- > 0;)
		if (fuzz_match(p->data, p->mask, p->len, h + i, icase))
			return (ptrdiff_t)i;
	return -1;
}

/* The reference answers for one haystack. */
struct want {
	const unsigned char	*h;		/* exactly n bytes */
	size_t			 n;
	ptrdiff_t		 f[MAXNEEDLES], r[MAXNEEDLES], s[2];
	size_t			 si[2];
};

/*
 * The set's answer from each needle's: at one offset the longest needle
 * wins, then the lowest index.  An empty needle matches at 0 (at the end
 * backwards).
 */
static ptrdiff_t
naive_findset(const struct pat *p, size_t np, const struct want *w, int rev,
    size_t *which)
{
	ptrdiff_t best = -1, r;
	size_t i, blen = 0, bidx = 0;

	for (i = 0; i < np; i++) {
		r = rev ? w->r[i] : w->f[i];
		if (r < 0)
			continue;
		if (best < 0 || (rev ? r > best : r < best) ||
		    (r == best && p[i].len > blen)) {
			best = r;
			blen = p[i].len;
			bidx = i;
		}
	}
	*which = bidx;
	return best;
}

/*
 * Compile the needles and the set at every CPU level up to TOP and search
 * the haystack of X with them.
 */
static void
check_levels(struct pat *p, size_t np, const struct want *x, int icase,
    const unsigned char *sample, size_t samplelen, enum mm_cpu top)
{
	struct mm_needle *nd[MAXNEEDLES];
	struct mm_needleset *set = NULL;
	enum mm_cpu level;
	ptrdiff_t got;
	size_t i, wi;
	int rev;

	for (level = MM_CPU_PORTABLE; level <= top; level++) {
		if (mm_cpu_force(level) != 0)
			FUZZ_FAIL("cannot force level %s", mm_cpu_name(level));
		for (i = 0; i < np; i++)
			if (mm_needle_new(&nd[i], p[i].data, p[i].mask,
			    p[i].len, icase ? MM_NEEDLE_ICASE : 0, sample,
			    samplelen) != 0)
				FUZZ_FAIL("mm_needle_new failed at %s",
				    mm_cpu_name(level));
		if (np > 0 && mm_needleset_new(&set, nd, np, sample,
		    samplelen) != 0)
			FUZZ_FAIL("mm_needleset_new failed");
		for (i = 0; i < np; i++) {
			if ((got = mm_find(nd[i], x->h, x->n)) != x->f[i])
				FUZZ_FAIL("%s: mm_find of needle %zu (len %zu) "
				    "in %zu bytes: %td, want %td",
				    mm_cpu_name(level), i, p[i].len, x->n, got,
				    x->f[i]);
			if ((got = mm_rfind(nd[i], x->h, x->n)) != x->r[i])
				FUZZ_FAIL("%s: mm_rfind of needle %zu (len %zu) "
				    "in %zu bytes: %td, want %td",
				    mm_cpu_name(level), i, p[i].len, x->n, got,
				    x->r[i]);
		}
		for (rev = 0; rev < 2 && np > 0; rev++) {
			wi = SIZE_MAX;
			got = rev ? mm_rfindset(set, x->h, x->n, &wi) :
			    mm_findset(set, x->h, x->n, &wi);
			if (got != x->s[rev] || (got >= 0 && wi != x->si[rev]))
				FUZZ_FAIL("%s: mm_%sfindset of %zu needles in "
				    "%zu bytes: %td (needle %zu), want %td "
				    "(needle %zu)", mm_cpu_name(level),
				    rev ? "r" : "", np, x->n, got, wi,
				    x->s[rev], x->si[rev]);
		}
		mm_needleset_free(set);
		set = NULL;
		for (i = 0; i < np; i++)
			mm_needle_free(nd[i]);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pat p[MAXNEEDLES];
	const unsigned char *f, *end, *piece, *sample;
	unsigned char ctl, sep, wc, *hay, *buf, *h, *masks[MAXNEEDLES];
	size_t np = 0, i, j, piecelen, rep, haylen, samplelen, longest = 1;
	unsigned char smp[SAMPLE];
	struct want w;
	int icase;

	if (size < 4)
		return 0;
	ctl = data[0];
	sep = data[1];
	wc = data[2];
	icase = ctl & 1;
	f = data + 3;
	end = data + size;
	/* Fields up to the last separator are needles; the rest is hay. */
	for (;;) {
		const unsigned char *s = memchr(f, sep, (size_t)(end - f));

		if (s == NULL || np == MAXNEEDLES)
			break;
		p[np].data = f;
		p[np].len = (size_t)(s - f);
		p[np].mask = NULL;
		masks[np] = NULL;
		if ((ctl & 2) && p[np].len > 0 &&
		    memchr(f, wc, p[np].len) != NULL) {
			masks[np] = malloc(p[np].len);
			if (masks[np] == NULL)
				abort();
			for (j = 0; j < p[np].len; j++)
				masks[np][j] = f[j] == wc ? 0 : 0xff;
			p[np].mask = masks[np];
		}
		if (p[np].len > longest)
			longest = p[np].len;
		np++;
		f = s + 1;
	}
	piece = f;
	piecelen = (size_t)(end - f);
	rep = (size_t)1 << ((ctl >> 2) & 7);
	while (rep > 1 && (piecelen * rep > MAXHAY ||
	    piecelen * rep * longest * (np + 1) > MAXWORK))
		rep >>= 1;
	haylen = piecelen * rep;
	if (haylen * longest * (np + 1) > MAXWORK)
		goto out;
	if ((hay = malloc(haylen > 0 ? haylen : 1)) == NULL)
		abort();
	for (i = 0; i < rep; i++)
		memcpy(hay + i * piecelen, piece, piecelen);

	if (ctl & 0x20) {
		sample = NULL;
		samplelen = 0;
	} else if ((ctl & 0x40) && np > 0) {
		sample = p[0].data;
		samplelen = p[0].len;
	} else {
		/* As the scanner does: a sample spread over the haystack. */
		samplelen = mm_sample(hay, haylen, smp, sizeof(smp));
		sample = smp;
	}
	/*
	 * A buffer of exactly the haystack's size, or (bit 7) one a byte
	 * longer searched from its second byte, so the kernels also start
	 * off the allocator's alignment.
	 */
	w.n = haylen;
	if ((buf = malloc(haylen + 1)) == NULL)
		abort();
	h = buf + ((ctl & 0x80) != 0);
	memcpy(h, hay, haylen);
	w.h = h;
	for (i = 0; i < np; i++) {
		w.f[i] = p[i].len == 0 ? 0 : naive_find(&p[i], h, w.n, icase);
		w.r[i] = p[i].len == 0 ? (ptrdiff_t)w.n :
		    naive_rfind(&p[i], h, w.n, icase);
	}
	for (j = 0; j < 2; j++)
		w.s[j] = naive_findset(p, np, &w, (int)j, &w.si[j]);
	check_levels(p, np, &w, icase, sample, samplelen, mm_cpu_detect());
	free(buf);
	free(hay);
out:
	for (i = 0; i < np; i++)
		free(masks[i]);
	return 0;
}
