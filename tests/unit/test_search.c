/*
 * test_search.c - the search kernels against a naive reference, at every
 * CPU level this machine has, printing TAP.
 *
 * Haystacks are random bytes, two-letter alphabets, NUL-heavy records and
 * mixed-case text; needles are substrings at every alignment, random
 * strings, wildcards and ICASE, 0..130 bytes.  Guard-page tests put the
 * haystack against a PROT_NONE page on either side, so any over-read
 * crashes.  MM_TEST_SEED picks the seed, MM_TEST_SCALE (percent) the
 * amount of random work.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <sys/types.h>
#include <sys/mman.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* The Two-Way fallback is tested directly as well. */
#include "search_int.h"
#include "tap.h"

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;
static long scale = 100;

static uint64_t
rnd(void)
{
	uint64_t x = rng_state;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	rng_state = x;
	return x;
}

static size_t
rndn(size_t n)
{
	return n == 0 ? 0 : (size_t)(rnd() % n);
}

static long
iters(long n)
{
	n = n * scale / 100;
	return n < 1 ? 1 : n;
}

/* ------------------------------------------------------- the reference */

struct pat {
	unsigned char	 b[256];
	unsigned char	 m[256];
	size_t		 len;
	int		 flags;
	int		 masked;
};

static int
lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

static int
naive_at(const struct pat *p, const unsigned char *h)
{
	size_t i;

	for (i = 0; i < p->len; i++) {
		if (p->masked && p->m[i] == 0)
			continue;
		if (p->flags & MM_NEEDLE_ICASE) {
			if (lower(h[i]) != lower(p->b[i]))
				return 0;
		} else if (h[i] != p->b[i])
			return 0;
	}
	return 1;
}

static ptrdiff_t
naive_find(const struct pat *p, const unsigned char *h, size_t n)
{
	size_t i;

	if (p->len > n)
		return -1;
	for (i = 0; i + p->len <= n; i++)
		if (naive_at(p, h + i))
			return (ptrdiff_t)i;
	return -1;
}

static ptrdiff_t
naive_rfind(const struct pat *p, const unsigned char *h, size_t n)
{
	size_t i;

	if (p->len > n)
		return -1;
	for (i = n - p->len + 1; i > 0; i--)
		if (naive_at(p, h + i - 1))
			return (ptrdiff_t)(i - 1);
	return -1;
}

static ptrdiff_t
naive_set(const struct pat *ps, size_t cnt, const unsigned char *h, size_t n,
    int rev, size_t *which)
{
	size_t k, s, i, bi = 0, bl = 0;
	int found;

	for (k = 0; k <= n; k++) {
		s = rev ? n - k : k;
		found = 0;
		for (i = 0; i < cnt; i++) {
			if (ps[i].len > n - s || !naive_at(&ps[i], h + s))
				continue;
			if (!found || ps[i].len > bl) {
				found = 1;
				bi = i;
				bl = ps[i].len;
			}
		}
		if (found) {
			*which = bi;
			return (ptrdiff_t)s;
		}
	}
	return -1;
}

static struct mm_needle *
compile(const struct pat *p, const unsigned char *sample, size_t slen)
{
	struct mm_needle *n = NULL;
	int rc;

	rc = mm_needle_new(&n, p->b, p->masked ? p->m : NULL, p->len,
	    p->flags, sample, slen);
	if (rc != 0) {
		printf("# mm_needle_new: %d\n", rc);
		exit(1);
	}
	return n;
}

/* ------------------------------------------------------------ fixtures */

enum alpha { A_RAND, A_AB, A_NUL, A_TEXT, A_NALPHA };
static const char *alpha_name[] = { "random", "ab", "nul-heavy", "text" };

static unsigned char
gen_byte(enum alpha a, size_t i)
{
	static const char text[] = "etaoin shrdluETAOIN SHRDLU";

	switch (a) {
	case A_RAND:
		return (unsigned char)rnd();
	case A_AB:
		return (unsigned char)("ab"[rnd() & 1]);
	case A_NUL:
		return (i % 64) < 8 ? (unsigned char)rnd() : 0;
	default:
		return (unsigned char)text[rndn(sizeof(text) - 1)];
	}
}

static void
gen_hay(unsigned char *h, size_t n, enum alpha a)
{
	size_t i, start = rndn(64);

	for (i = 0; i < n; i++)
		h[i] = gen_byte(a, start + i);
}

/* A needle: a haystack substring or a fresh string, maybe with extras. */
static void
gen_pat(struct pat *p, const unsigned char *h, size_t n, enum alpha a,
    size_t maxlen)
{
	size_t i, off;

	memset(p, 0, sizeof(*p));
	p->len = rndn(maxlen + 1);
	if (n >= p->len && (rnd() & 3) != 0) {
		off = rndn(n - p->len + 1);
		memcpy(p->b, h + off, p->len);
	} else
		for (i = 0; i < p->len; i++)
			p->b[i] = gen_byte(a, i);
	if (p->len > 0 && rndn(4) == 0) {
		/* Perturb one byte so near-misses are common. */
		i = rndn(p->len);
		p->b[i] = gen_byte(a, i);
	}
	if (rndn(4) == 0) {
		p->flags = MM_NEEDLE_ICASE;
		for (i = 0; i < p->len; i++)
			if (rnd() & 1)
				p->b[i] = (unsigned char)lower(p->b[i]);
	}
	if (rndn(4) == 0) {
		p->masked = 1;
		for (i = 0; i < p->len; i++)
			p->m[i] = rndn(5) == 0 ? 0 : 0xff;
	}
}

/* --------------------------------------------------------------- tests */

static void
test_api(const char *lv)
{
	struct mm_needle *n;
	unsigned char h[8] = "abcdefg";
	int good;

	good = mm_needle_new(&n, (const unsigned char *)"", NULL, 0, 0, NULL,
	    0) == 0;
	good = good && mm_needle_len(n) == 0 && mm_find(n, h, 7) == 0 &&
	    mm_rfind(n, h, 7) == 7 && mm_find(n, h, 0) == 0 &&
	    mm_rfind(n, h, 0) == 0 && mm_find(n, NULL, 0) == 0;
	mm_needle_free(n);
	ok(good, "%s: empty needle finds 0 and rfinds haylen", lv);

	good = mm_needle_new(&n, (const unsigned char *)"abcdefgh", NULL, 8,
	    0, NULL, 0) == 0;
	good = good && mm_needle_len(n) == 8 && mm_find(n, h, 7) == -1 &&
	    mm_rfind(n, h, 7) == -1 && mm_find(n, NULL, 0) == -1;
	mm_needle_free(n);
	ok(good, "%s: needle longer than haystack is not found", lv);

	good = mm_needle_new(&n, h, NULL, 3, 0x100, NULL, 0) == -EINVAL &&
	    n == NULL && mm_needle_new(NULL, h, NULL, 3, 0, NULL, 0) ==
	    -EINVAL && mm_needle_new(&n, NULL, NULL, 3, 0, NULL, 0) ==
	    -EINVAL && mm_needle_new(&n, h, NULL, 3, 0, NULL, 5) == -EINVAL;
	ok(good, "%s: bad arguments give -EINVAL", lv);
	mm_needle_free(NULL);
	mm_needleset_free(NULL);
}

static void
test_random(const char *lv)
{
	static unsigned char hay[6000], sample[4096];
	struct mm_needle *n;
	struct pat p;
	const unsigned char *smp;
	size_t hn, sn, off, fails = 0, cases = 0;
	ptrdiff_t got, want;
	long it, count = iters(6000);
	enum alpha a;

	for (it = 0; it < count; it++) {
		a = (enum alpha)(it % A_NALPHA);
		hn = rndn(8) == 0 ? rndn(sizeof(hay)) : rndn(400);
		gen_hay(hay, hn, a);
		gen_pat(&p, hay, hn, a, rndn(3) == 0 ? 130 : 20);
		switch (rndn(3)) {
		case 0:
			smp = NULL;
			sn = 0;
			break;
		case 1:
			smp = hay;
			sn = hn;
			break;
		default:
			sn = rndn(sizeof(sample));
			gen_hay(sample, sn, (enum alpha)rndn(A_NALPHA));
			smp = sample;
			break;
		}
		n = compile(&p, smp, sn);
		/* Sub-slices move the haystack across every alignment. */
		for (off = 0; off < 3 && off <= hn; off++) {
			cases++;
			got = mm_find(n, hay + off, hn - off);
			want = naive_find(&p, hay + off, hn - off);
			if (got != want && fails++ < 5)
				printf("# find %s hn=%zu off=%zu len=%zu "
				    "flags=%d masked=%d: got %td want %td\n",
				    alpha_name[a], hn, off, p.len, p.flags,
				    p.masked, got, want);
			got = mm_rfind(n, hay + off, hn - off);
			want = naive_rfind(&p, hay + off, hn - off);
			if (got != want && fails++ < 5)
				printf("# rfind %s hn=%zu off=%zu len=%zu "
				    "flags=%d masked=%d: got %td want %td\n",
				    alpha_name[a], hn, off, p.len, p.flags,
				    p.masked, got, want);
		}
		mm_needle_free(n);
	}
	ok(fails == 0, "%s: find and rfind agree with the naive search "
	    "(%zu random cases)", lv, cases);
}

/* Every length and alignment, needle planted at both ends. */
static void
test_ends(const char *lv)
{
	static unsigned char hay[700];
	struct mm_needle *n;
	struct pat p;
	size_t len, hn, fails = 0, step;
	ptrdiff_t f, r;

	step = scale < 100 ? 7 : 1;
	for (len = 1; len <= 130; len += step) {
		for (hn = len; hn < len + 300; hn += 1 + hn % 3) {
			memset(&p, 0, sizeof(p));
			p.len = len;
			gen_hay(hay, hn, A_TEXT);
			memset(p.b, 'q', len);
			p.b[len / 2] = 'x';
			memcpy(hay, p.b, len);
			memcpy(hay + hn - len, p.b, len);
			n = compile(&p, hay, hn);
			f = mm_find(n, hay, hn);
			r = mm_rfind(n, hay, hn);
			if ((f != naive_find(&p, hay, hn) ||
			    r != naive_rfind(&p, hay, hn) ||
			    (hn >= 2 * len && (f != 0 ||
			    r != (ptrdiff_t)(hn - len)))) && fails++ < 5)
				printf("# len=%zu hn=%zu: find %td rfind %td\n",
				    len, hn, f, r);
			mm_needle_free(n);
		}
	}
	ok(fails == 0, "%s: needles at the very start and end are found", lv);
}

/*
 * Periodic input that defeats any filter.  The kinds: 0 'a'* against
 * a*b with a sample that calls 'a' rare; 1 (ab)* against (ab)^k b; 2
 * (a^150 b)* against a^len, where every verify fails late and the kernels
 * must hand over to Two-Way; 3 as 2 with random case and ICASE.
 */
static void
adv_fill(unsigned char *h, size_t hn, int kind)
{
	size_t i;

	for (i = 0; i < hn; i++) {
		if (kind == 0)
			h[i] = 'a';
		else if (kind == 1)
			h[i] = "ab"[i & 1];
		else
			h[i] = i % 151 == 150 ? 'b' : 'a';
		if (kind == 3 && (rnd() & 1))
			h[i] = (unsigned char)(h[i] - 32);
	}
}

static void
adv_pat(struct pat *p, size_t len, int kind, int rev, int wild)
{
	size_t i;

	memset(p, 0, sizeof(*p));
	p->len = len;
	for (i = 0; i < len; i++)
		p->b[i] = kind == 1 ? "ab"[(i + (size_t)rev) & 1] : 'a';
	if (kind <= 1)
		p->b[rev ? 0 : len - 1] = kind == 1 && rev ? 'a' : 'b';
	if (kind == 1 && rev)
		p->b[1] = 'a';
	if (kind == 3)
		p->flags = MM_NEEDLE_ICASE;
	if (wild) {
		p->masked = 1;
		memset(p->m, 0xff, len);
		/* Away from the byte that decides. */
		p->m[rev ? len - 1 : 0] = 0;
	}
}

/* One needle against one filled haystack; returns the failures. */
static size_t
adv_case(unsigned char *hay, size_t hn, int kind, size_t len, int rev,
    int wild)
{
	static const unsigned char bsample[] = "bbbbbbbbbbbbbbbb";
	struct mm_needle *n;
	struct pat p;
	size_t small = hn / 16, at, fails = 0;
	ptrdiff_t got, want;

	adv_pat(&p, len, kind, rev, wild);
	if (kind == 0)
		n = compile(&p, bsample, sizeof(bsample) - 1);
	else
		n = compile(&p, hay, 4096);
	got = rev ? mm_rfind(n, hay, hn) : mm_find(n, hay, hn);
	if (got != -1 && fails++ < 5)
		printf("# kind=%d len=%zu rev=%d wild=%d: got %td\n", kind,
		    len, rev, wild, got);
	/* One real match, off-centre, in a prefix the reference can afford. */
	at = small / 3 + rndn(64);
	memcpy(hay + at, p.b, len);
	got = rev ? mm_rfind(n, hay, small) : mm_find(n, hay, small);
	want = rev ? naive_rfind(&p, hay, small) : naive_find(&p, hay, small);
	if (got != want && fails++ < 5)
		printf("# kind=%d len=%zu rev=%d wild=%d: got %td want %td\n",
		    kind, len, rev, wild, got, want);
	adv_fill(hay, small, kind);
	mm_needle_free(n);
	return fails;
}

static void
test_adversarial(const char *lv)
{
	static unsigned char hay[1 << 20];
	size_t hn, len, fails = 0;
	clock_t t0;
	double secs;
	int rev, wild, kind;

	hn = scale < 100 ? sizeof(hay) / 8 : sizeof(hay);
	t0 = clock();
	for (kind = 0; kind < 4; kind++) {
		adv_fill(hay, hn, kind);
		for (len = 2; len <= 256; len = len * 2 + 1) {
			if ((kind >= 2 && len < 100) || (kind == 1 && len < 5))
				continue;
			for (rev = 0; rev < 2; rev++)
				for (wild = 0; wild < 2; wild++)
					fails += adv_case(hay, hn, kind, len,
					    rev, wild);
		}
	}
	secs = (double)(clock() - t0) / CLOCKS_PER_SEC;
	ok(fails == 0, "%s: periodic worst cases are correct (%.2f s)", lv,
	    secs);
}

static void
test_guard(const char *lv)
{
	long ps = sysconf(_SC_PAGESIZE);
	unsigned char *map, *h, *sub;
	struct mm_needle *n;
	struct mm_needleset *set;
	struct mm_needle *ns[3];
	struct pat p[3];
	size_t hn, len, fails = 0, k, which, w2;
	ptrdiff_t got, want;
	int side, v;

	map = mmap(NULL, (size_t)ps * 3, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (map == MAP_FAILED || mprotect(map, (size_t)ps, PROT_NONE) != 0 ||
	    mprotect(map + 2 * ps, (size_t)ps, PROT_NONE) != 0) {
		ok(0, "%s: guard pages could not be set up", lv);
		return;
	}
	for (side = 0; side < 2; side++) {
		for (hn = 0; hn <= 300; hn++) {
			/* side 0: ends at a guard; side 1: starts after one. */
			h = side == 0 ? map + 2 * ps - hn : map + ps;
			gen_hay(h, hn, (enum alpha)(hn % A_NALPHA));
			for (v = 0; v < 7; v++) {
				memset(&p[0], 0, sizeof(p[0]));
				len = v < 2 ? 1 + rndn(hn < 70 ? hn + 1 : 70) :
				    1 + rndn(8);
				p[0].len = len;
				if (hn >= len && v < 5)
					memcpy(p[0].b, v & 1 ? h : h + hn - len,
					    len);
				else if (v != 6)
					memset(p[0].b, 0xee, len);
				else {
					/* Absent and ICASE: no memchr. */
					memset(p[0].b, 'Q', len);
					p[0].flags = MM_NEEDLE_ICASE;
				}
				if (v == 2)
					p[0].flags = MM_NEEDLE_ICASE;
				if (v == 3) {
					p[0].masked = 1;
					memset(p[0].m, 0xff, len);
					p[0].m[0] = 0;
				}
				n = compile(&p[0], h, hn);
				got = mm_find(n, h, hn);
				want = naive_find(&p[0], h, hn);
				if (got != want && fails++ < 5)
					printf("# guard find hn=%zu len=%zu: "
					    "%td != %td\n", hn, len, got, want);
				got = mm_rfind(n, h, hn);
				want = naive_rfind(&p[0], h, hn);
				if (got != want && fails++ < 5)
					printf("# guard rfind hn=%zu len=%zu: "
					    "%td != %td\n", hn, len, got, want);
				mm_needle_free(n);
			}
			/* Sets, including needles shorter than the print. */
			for (k = 0; k < 3; k++) {
				memset(&p[k], 0, sizeof(p[k]));
				p[k].len = 1 + rndn(k == 0 ? 2 : 40);
				if (hn >= p[k].len)
					memcpy(p[k].b, h + hn - p[k].len -
					    rndn(2 > hn - p[k].len + 1 ? 1 :
					    2), p[k].len);
				ns[k] = compile(&p[k], h, hn);
			}
			if (mm_needleset_new(&set, ns, 3, h, hn) != 0)
				fails++;
			else {
				sub = h;
				which = w2 = 99;
				got = mm_findset(set, sub, hn, &which);
				want = naive_set(p, 3, sub, hn, 0, &w2);
				if ((got != want ||
				    (got >= 0 && which != w2)) && fails++ < 5)
					printf("# guard findset hn=%zu\n", hn);
				got = mm_rfindset(set, sub, hn, &which);
				want = naive_set(p, 3, sub, hn, 1, &w2);
				if ((got != want ||
				    (got >= 0 && which != w2)) && fails++ < 5)
					printf("# guard rfindset hn=%zu\n", hn);
				mm_needleset_free(set);
			}
			for (k = 0; k < 3; k++)
				mm_needle_free(ns[k]);
		}
	}
	munmap(map, (size_t)ps * 3);
	ok(fails == 0, "%s: no reads past either end of the haystack "
	    "(sizes 0..300, guard pages)", lv);
}

/* ------------------------------------------------------------ find-all */

/* The reference: repeated naive_find from the last start + len (or + 1). */
static size_t
naive_all(const struct pat *p, const unsigned char *h, size_t n, int overlap,
    size_t *out, size_t max)
{
	size_t from = 0, cnt = 0;
	ptrdiff_t r;

	while (from <= n && cnt < max) {
		if ((r = naive_find(p, h + from, n - from)) < 0)
			break;
		out[cnt++] = from + (size_t)r;
		from += (size_t)r + (overlap || p->len == 0 ? 1 : p->len);
	}
	return cnt;
}

struct collect {
	size_t	*off;
	size_t	 n, cap;
	size_t	 stopat;	/* 0: never stop */
	int	 order;		/* offsets went up strictly */
};

static int
collect_hit(void *arg, size_t off)
{
	struct collect *c = arg;

	if (c->n > 0 && off <= c->off[c->n - 1])
		c->order = 0;
	if (c->n < c->cap)
		c->off[c->n] = off;
	c->n++;
	if (c->stopat != 0 && c->n == c->stopat)
		return 7;
	return 0;
}

/*
 * mm_findall against naive_all on hay[0..hn): the same offsets, in
 * order, and with a random early stop the callback's value and no more
 * calls.  Returns 0 when they agree.
 */
static int
findall_case(const char *what, const struct pat *p, struct mm_needle *n,
    const unsigned char *h, size_t hn, int overlap, int stop)
{
	static size_t want[70000], got[70000];
	struct collect c;
	size_t wn, i;
	int rc, wrc = 0;

	wn = naive_all(p, h, hn, overlap, want, sizeof(want) /
	    sizeof(want[0]));
	memset(&c, 0, sizeof(c));
	c.off = got;
	c.cap = sizeof(got) / sizeof(got[0]);
	c.order = 1;
	if (stop && wn > 0) {
		c.stopat = 1 + rndn(wn);
		wn = c.stopat;
		wrc = 7;
	}
	rc = mm_findall(n, h, hn, overlap, collect_hit, &c);
	if (rc == wrc && c.n == wn && c.order &&
	    memcmp(got, want, wn * sizeof(want[0])) == 0)
		return 0;
	printf("# findall %s hn=%zu len=%zu flags=%d masked=%d overlap=%d "
	    "stop=%d: rc %d want %d, %zu hits want %zu\n", what, hn, p->len,
	    p->flags, p->masked, overlap, stop, rc, wrc, c.n, wn);
	for (i = 0; i < wn && i < c.n; i++)
		if (got[i] != want[i]) {
			printf("#   hit %zu: got %zu want %zu\n", i, got[i],
			    want[i]);
			break;
		}
	return 1;
}

static void
test_findall(const char *lv)
{
	static unsigned char hay[65536];
	struct mm_needle *n;
	struct pat p;
	size_t hn, i, fails = 0, cases = 0;
	long it, count = iters(3000);
	enum alpha a;
	int ov;

	/* Random text, dense alphabets, every flag. */
	for (it = 0; it < count; it++) {
		a = (enum alpha)(it % A_NALPHA);
		hn = rndn(8) == 0 ? rndn(20000) : rndn(600);
		gen_hay(hay, hn, a);
		gen_pat(&p, hay, hn, a, rndn(3) == 0 ? 130 : 8);
		n = rnd() & 1 ? compile(&p, hay, hn) : compile(&p, NULL, 0);
		for (ov = 0; ov < 2; ov++) {
			cases += 2;
			fails += findall_case(alpha_name[a], &p, n, hay, hn,
			    ov, 0);
			fails += findall_case(alpha_name[a], &p, n, hay, hn,
			    ov, 1);
		}
		mm_needle_free(n);
	}
	ok(fails == 0, "%s: findall agrees with the naive search, overlapping "
	    "or not, with early stops (%zu random cases)", lv, cases);

	/*
	 * Runs of 'a' broken by rare 'b's: candidates dense enough that the
	 * kernel adds filter positions and falls back to Two-Way mid-scan.
	 */
	fails = 0;
	for (it = 0; it < iters(40); it++) {
		hn = sizeof(hay) / (it % 4 == 0 ? 1 : 8);
		for (i = 0; i < hn; i++)
			hay[i] = rndn(it % 3 == 0 ? 40 : 300) == 0 ? 'b' : 'a';
		memset(&p, 0, sizeof(p));
		p.len = (size_t[]){ 2, 3, 5, 17, 33, 64, 65, 70, 130,
		    250 }[it % 10];
		memset(p.b, 'a', p.len);
		if (it & 1)
			p.b[rndn(p.len)] = 'b';
		if (it % 5 == 0) {
			p.masked = 1;
			memset(p.m, 0xff, p.len);
			p.m[rndn(p.len)] = 0;
		}
		n = compile(&p, hay, hn);
		for (ov = 0; ov < 2; ov++)
			fails += findall_case("runs", &p, n, hay, hn, ov,
			    (int)(it & 2));
		mm_needle_free(n);
	}
	ok(fails == 0, "%s: findall is correct where candidates are dense",
	    lv);
}

/* findall near guard pages: no read outside hay[0..hn). */
static void
test_findall_guard(const char *lv)
{
	long ps = sysconf(_SC_PAGESIZE);
	unsigned char *map, *h;
	struct mm_needle *n;
	struct pat p;
	size_t hn, fails = 0;
	int side, v;

	map = mmap(NULL, (size_t)ps * 3, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (map == MAP_FAILED || mprotect(map, (size_t)ps, PROT_NONE) != 0 ||
	    mprotect(map + 2 * ps, (size_t)ps, PROT_NONE) != 0) {
		ok(0, "%s: guard pages could not be set up", lv);
		return;
	}
	for (side = 0; side < 2; side++) {
		for (hn = 0; hn <= 300; hn++) {
			h = side == 0 ? map + 2 * ps - hn : map + ps;
			gen_hay(h, hn, hn % 2 ? A_AB : A_TEXT);
			for (v = 0; v < 6; v++) {
				memset(&p, 0, sizeof(p));
				p.len = v < 2 ? 1 + rndn(hn < 70 ? hn + 1 :
				    70) : 1 + rndn(4);
				if (hn >= p.len)
					memcpy(p.b, v & 1 ? h : h + hn - p.len,
					    p.len);
				else
					memset(p.b, 'a', p.len);
				if (v == 2)
					p.flags = MM_NEEDLE_ICASE;
				if (v == 3) {
					p.masked = 1;
					memset(p.m, 0xff, p.len);
					p.m[0] = 0;
				}
				n = compile(&p, h, hn);
				fails += findall_case("guard", &p, n, h, hn,
				    v & 1, 0);
				fails += findall_case("guard", &p, n, h, hn,
				    !(v & 1), 0);
				mm_needle_free(n);
			}
		}
	}
	munmap(map, (size_t)ps * 3);
	ok(fails == 0, "%s: findall reads nothing past either end of the "
	    "haystack (sizes 0..300, guard pages)", lv);
}

static void
test_sets(const char *lv)
{
	static unsigned char hay[3000];
	struct mm_needle *ns[16];
	struct mm_needleset *set;
	struct pat p[16];
	size_t cnt, k, hn, which, w2, fails = 0, cases = 0, off;
	ptrdiff_t got, want;
	long it, count = iters(1500);
	enum alpha a;

	for (it = 0; it < count; it++) {
		a = (enum alpha)(it % A_NALPHA);
		hn = rndn(6) == 0 ? rndn(sizeof(hay)) : rndn(300);
		gen_hay(hay, hn, a);
		cnt = 1 + rndn(rndn(4) == 0 ? 16 : 8);
		for (k = 0; k < cnt; k++) {
			gen_pat(&p[k], hay, hn, a, rndn(3) == 0 ? 70 : 8);
			if (p[k].len == 0 && rndn(4) != 0) {
				/* Few empty needles: they end searches. */
				p[k].len = 1;
				p[k].b[0] = 'a';
			}
			ns[k] = compile(&p[k], hay, hn);
		}
		if (mm_needleset_new(&set, ns, cnt, hay, hn) != 0) {
			fails++;
			continue;
		}
		for (off = 0; off < 2 && off <= hn; off++) {
			cases++;
			which = w2 = 99;
			got = mm_findset(set, hay + off, hn - off, &which);
			want = naive_set(p, cnt, hay + off, hn - off, 0, &w2);
			if ((got != want || (got >= 0 && which != w2)) &&
			    fails++ < 5)
				printf("# findset %s cnt=%zu hn=%zu: got "
				    "%td/%zu want %td/%zu\n", alpha_name[a],
				    cnt, hn, got, which, want, w2);
			got = mm_rfindset(set, hay + off, hn - off, &which);
			want = naive_set(p, cnt, hay + off, hn - off, 1, &w2);
			if ((got != want || (got >= 0 && which != w2)) &&
			    fails++ < 5)
				printf("# rfindset %s cnt=%zu hn=%zu: got "
				    "%td/%zu want %td/%zu\n", alpha_name[a],
				    cnt, hn, got, which, want, w2);
		}
		mm_needleset_free(set);
		for (k = 0; k < cnt; k++)
			mm_needle_free(ns[k]);
	}
	ok(fails == 0, "%s: sets agree with naive leftmost/rightmost-longest "
	    "(%zu cases)", lv, cases);
}

/*
 * Haystacks of 4 KiB and more let mm_needle_new tune its filter positions
 * on the sample; with -i the tuned triple may take a letter where the
 * first pick had none, and the kernels must then fold case.
 */
static void
test_tuned(const char *lv)
{
	static const char *mixes[] = { "ee.,;x", "aA0123 ", "tT-.-..,", "zZ\n" };
	static unsigned char hay[16384], smp[4096];
	struct mm_needle *n;
	struct pat p;
	size_t hn, i, k, slen, fails = 0;
	ptrdiff_t got, want;
	long it, count = iters(300);
	const char *mix;

	/* ".,;" is common and rarer than 'e'; only ".,;e" is the match. */
	hn = 0;
	for (i = 0; i < 1000; i++, hn += 6)
		memcpy(hay + hn, "ee.,;x", 6);
	memcpy(hay + hn, ".,;e", 4);
	hn += 4;
	for (i = 0; i < 10; i++, hn += 6)
		memcpy(hay + hn, "ee.,;x", 6);
	slen = mm_sample(hay, hn, smp, sizeof(smp));
	memset(&p, 0, sizeof(p));
	memcpy(p.b, ".,;E", 4);
	p.len = 4;
	p.flags = MM_NEEDLE_ICASE;
	n = compile(&p, smp, slen);
	ok(mm_find(n, hay, hn) == 6000 && mm_rfind(n, hay, hn) == 6000,
	    "%s: -i finds \".,;E\" once the filter is tuned onto the letter",
	    lv);
	mm_needle_free(n);

	for (it = 0; it < count; it++) {
		mix = mixes[it % 4];
		hn = 4096 + rndn(sizeof(hay) - 4096);
		for (i = 0; i < hn; i++)
			hay[i] = (unsigned char)mix[rndn(strlen(mix))];
		memset(&p, 0, sizeof(p));
		p.len = 3 + rndn(10);
		k = rndn(hn - p.len + 1);
		memcpy(p.b, hay + k, p.len);
		p.flags = MM_NEEDLE_ICASE;
		for (i = 0; i < p.len; i++)
			if (rnd() & 1)
				p.b[i] ^= (p.b[i] | 0x20) >= 'a' &&
				    (p.b[i] | 0x20) <= 'z' ? 0x20 : 0;
		slen = mm_sample(hay, hn, smp, sizeof(smp));
		n = compile(&p, smp, slen);
		got = mm_find(n, hay, hn);
		want = naive_find(&p, hay, hn);
		if (got != want && fails++ < 5)
			printf("# find mix %ld len %zu hn %zu: got %td want "
			    "%td\n", it % 4, p.len, hn, got, want);
		got = mm_rfind(n, hay, hn);
		want = naive_rfind(&p, hay, hn);
		if (got != want && fails++ < 5)
			printf("# rfind mix %ld len %zu hn %zu: got %td want "
			    "%td\n", it % 4, p.len, hn, got, want);
		mm_needle_free(n);
	}
	ok(fails == 0, "%s: -i needles agree with naive on 4-16 KiB "
	    "haystacks sampled for tuning (%ld cases)", lv, count);
}

/* Same-offset ties: the longest needle wins, then the lowest index. */
static void
test_set_ties(const char *lv)
{
	static const unsigned char hay[] = "xxabcdexxabcxx";
	const char *pats[] = { "abc", "abcde", "ab", "abcde", "" };
	struct mm_needle *ns[5];
	struct mm_needleset *set;
	size_t k, which = 99;
	ptrdiff_t f, r;
	int good = 1;

	for (k = 0; k < 5; k++)
		if (mm_needle_new(&ns[k], (const unsigned char *)pats[k],
		    NULL, strlen(pats[k]), 0, NULL, 0) != 0)
			good = 0;
	if (good && mm_needleset_new(&set, ns, 4, NULL, 0) == 0) {
		f = mm_findset(set, hay, sizeof(hay) - 1, &which);
		good = f == 2 && which == 1;
		r = mm_rfindset(set, hay, sizeof(hay) - 1, &which);
		good = good && r == 9 && which == 0;
		mm_needleset_free(set);
	} else
		good = 0;
	if (good && mm_needleset_new(&set, ns, 5, NULL, 0) == 0) {
		f = mm_findset(set, hay, sizeof(hay) - 1, &which);
		good = f == 0 && which == 4;
		f = mm_findset(set, hay + 2, sizeof(hay) - 3, &which);
		good = good && f == 0 && which == 1;
		r = mm_rfindset(set, hay, sizeof(hay) - 1, &which);
		good = good && r == (ptrdiff_t)sizeof(hay) - 1 && which == 4;
		mm_needleset_free(set);
	} else
		good = 0;
	if (good && mm_needleset_new(&set, ns, 0, NULL, 0) == 0) {
		good = mm_findset(set, hay, sizeof(hay) - 1, &which) == -1 &&
		    mm_rfindset(set, hay, sizeof(hay) - 1, &which) == -1;
		mm_needleset_free(set);
	} else
		good = 0;
	for (k = 0; k < 5; k++)
		mm_needle_free(ns[k]);
	ok(good, "%s: set ties go to the longest, then the lowest index", lv);
}

/* Two-Way alone: the kernels only reach it on hostile input. */
static void
test_twoway(void)
{
	static unsigned char hay[2000];
	struct mm_needle *n;
	struct pat p;
	size_t hn, i, fails = 0;
	ptrdiff_t got, want;
	long it, count = iters(20000);
	int sigma;

	for (it = 0; it < count; it++) {
		sigma = 2 + (int)rndn(2);
		hn = rndn(it % 10 == 0 ? sizeof(hay) : 60);
		for (i = 0; i < hn; i++)
			hay[i] = (unsigned char)('a' + rndn((size_t)sigma));
		memset(&p, 0, sizeof(p));
		p.len = 1 + rndn(it % 3 == 0 ? 40 : 8);
		for (i = 0; i < p.len; i++)
			p.b[i] = (unsigned char)('a' + rndn((size_t)sigma));
		if (rndn(4) == 0) {
			p.flags = MM_NEEDLE_ICASE;
			for (i = 0; i < hn; i++)
				if (rnd() & 1)
					hay[i] = (unsigned char)(hay[i] - 32);
		}
		n = compile(&p, NULL, 0);
		got = mm_search_tw_find(n, hay, hn);
		want = naive_find(&p, hay, hn);
		if (got != want && fails++ < 5)
			printf("# tw find hn=%zu len=%zu: %td != %td\n", hn,
			    p.len, got, want);
		got = hn >= p.len ? mm_search_tw_rfind(n, hay, hn) : -1;
		want = naive_rfind(&p, hay, hn);
		if (got != want && fails++ < 5)
			printf("# tw rfind hn=%zu len=%zu: %td != %td\n", hn,
			    p.len, got, want);
		mm_needle_free(n);
	}
	ok(fails == 0, "Two-Way fallback agrees with the naive search");
}

static void
test_sample(void)
{
	static unsigned char big[1 << 20], out[65536];
	size_t i, got;
	int good;

	for (i = 0; i < sizeof(big); i++)
		big[i] = (unsigned char)(i * 7);
	got = mm_sample(big, sizeof(big), out, sizeof(out));
	good = got > 0 && got <= sizeof(out);
	good = good && mm_sample(big, 100, out, sizeof(out)) == 100 &&
	    memcmp(out, big, 100) == 0;
	good = good && mm_sample(big, sizeof(big), out, 0) == 0 &&
	    mm_sample(NULL, 0, out, 10) == 0;
	got = mm_sample(big, sizeof(big), out, 1000);
	good = good && got > 0 && got <= 1000;
	ok(good, "mm_sample copies at most cap bytes");
}

int
main(void)
{
	enum mm_cpu best, lv;
	const char *e;
	uint64_t seed;

	if ((e = getenv("MM_TEST_SCALE")) != NULL)
		scale = strtol(e, NULL, 10);
	seed = (e = getenv("MM_TEST_SEED")) != NULL ?
	    strtoull(e, NULL, 0) : 0x5eed5eedULL;
	rng_state ^= seed * 0x2545f4914f6cdd1dULL;
	if (rng_state == 0)
		rng_state = 1;
	printf("# seed %#llx, scale %ld%%\n", (unsigned long long)seed, scale);
	best = mm_cpu_detect();
	printf("# best cpu level: %s\n", mm_cpu_name(best));
	ok(strcmp(mm_cpu_name(MM_CPU_PORTABLE), "portable") == 0 &&
	    strcmp(mm_cpu_name(MM_CPU_AVX512), "avx512") == 0 &&
	    (best == MM_CPU_AVX512 || mm_cpu_force(MM_CPU_AVX512) ==
	    -ENOTSUP), "cpu names and forcing an absent level");
	test_sample();
	test_twoway();
	for (lv = MM_CPU_PORTABLE; lv <= best; lv++) {
		if (mm_cpu_force(lv) != 0) {
			ok(0, "mm_cpu_force(%s)", mm_cpu_name(lv));
			continue;
		}
		test_api(mm_cpu_name(lv));
		test_random(mm_cpu_name(lv));
		test_ends(mm_cpu_name(lv));
		test_adversarial(mm_cpu_name(lv));
		test_guard(mm_cpu_name(lv));
		test_findall(mm_cpu_name(lv));
		test_findall_guard(mm_cpu_name(lv));
		test_sets(mm_cpu_name(lv));
		test_set_ties(mm_cpu_name(lv));
		test_tuned(mm_cpu_name(lv));
	}
	return tap_done();
}
