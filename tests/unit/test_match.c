/*
 * test_match.c - a regex matcher cloned for other threads: the clones
 * share the compiled regex, each has its own match data and error code,
 * and freeing a clone leaves its source whole.  mmfind gives one clone
 * to each thread that searches a file.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/match.h"
#include "tap.h"

#define HAYLEN	(256 * 1024)
#define ROUNDS	200

static unsigned char hay[HAYLEN];
static size_t expect;		/* matches of the regex in hay */

/* Every non-overlapping match of M in hay, or -1 on an error. */
static long
count_all(struct mm_matcher *m)
{
	size_t from = 0, off, len;
	long n = 0;
	int rc;

	while ((rc = mm_match_from(m, hay, HAYLEN, from, &off, &len)) > 0) {
		n++;
		from = off + (len ? len : 1);
	}
	return rc < 0 ? -1 : n;
}

struct run {
	struct mm_matcher	*m;
	int			 bad;	/* rounds with a wrong count */
};

static void *
hammer(void *arg)
{
	struct run *r = arg;
	int i;

	for (i = 0; i < ROUNDS; i++)
		if (count_all(r->m) != (long)expect)
			r->bad++;
	return NULL;
}

static void
test_threads(struct mm_matcher *src)
{
	struct mm_matcher cl[3];
	struct run runs[4];
	pthread_t tid[4];
	int i, made = 0, bad = 0;

	for (i = 0; i < 3; i++)
		if (mm_matcher_clone(&cl[i], src) == 0)
			made++;
	ok(made == 3, "three clones of one regex");
	if (made != 3)
		return;
	/* The source searches too, alongside its clones. */
	for (i = 0; i < 4; i++) {
		runs[i].m = i < 3 ? &cl[i] : src;
		runs[i].bad = 0;
		if (pthread_create(&tid[i], NULL, hammer, &runs[i]) != 0)
			abort();
	}
	for (i = 0; i < 4; i++) {
		pthread_join(tid[i], NULL);
		bad += runs[i].bad;
	}
	ok(bad == 0, "four threads, %d searches each, all find %zu matches "
	    "(%d wrong)", ROUNDS, expect, bad);
	for (i = 0; i < 3; i++)
		mm_matcher_free(&cl[i]);
	ok(count_all(src) == (long)expect,
	    "the source still matches once its clones are freed");
}

int
main(void)
{
	struct mm_matcher src, lit, cl;
	struct mm_bytes pat;
	size_t i, off, len;
	uint32_t x = 2463534242u;
	int ec, rc;
	size_t eo;

	/* Random lowercase text with "key=NNN" planted now and then. */
	for (i = 0; i < HAYLEN; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		hay[i] = (unsigned char)('a' + x % 26);
	}
	for (i = 100; i + 8 < HAYLEN; i += 997 + i % 89) {
		memcpy(hay + i, "key=", 4);
		hay[i + 4] = (unsigned char)('0' + i % 10);
		hay[i + 5] = (unsigned char)('0' + i / 10 % 10);
		expect++;
	}

	rc = mm_matcher_regex(&src, "key=[0-9]+", 0, &ec, &eo);
	ok(rc == 0, "compile key=[0-9]+");
	if (rc != 0)
		return tap_done();
	ok(count_all(&src) == (long)expect, "the source finds %zu matches",
	    expect);

	memset(&cl, 0xa5, sizeof(cl));
	rc = mm_matcher_clone(&cl, &src);
	ok(rc == 0 && cl.re == src.re && cl.md != src.md && cl.mc != src.mc,
	    "a clone shares the regex, not the match data");
	ok(count_all(&cl) == (long)expect, "the clone finds the same");
	rc = mm_match(&cl, hay, HAYLEN, 1, &off, &len);
	ok(rc == 1 && memcmp(hay + off, "key=", 4) == 0,
	    "the clone's reverse match: the last key=");
	mm_matcher_free(&cl);
	ok(cl.re == NULL && cl.md == NULL, "a freed clone is emptied");
	ok(count_all(&src) == (long)expect,
	    "freeing the clone leaves the source whole");

	test_threads(&src);

	/* A search that fails sets the error of the matcher that ran it. */
	{
		struct mm_matcher bt, btc;
		static unsigned char as[4096];

		/* The b makes PCRE2 try, the c makes it backtrack. */
		memset(as, 'a', sizeof(as));
		memcpy(as + sizeof(as) - 2, "cb", 2);
		rc = mm_matcher_regex(&bt, "(a|aa)*b", 0, &ec, &eo);
		if (rc == 0 && mm_matcher_clone(&btc, &bt) == 0) {
			rc = mm_match_from(&btc, as, sizeof(as), 0, &off,
			    &len);
			ok(rc == -E2BIG && btc.re_err != 0 && bt.re_err == 0,
			    "a clone's failure is its own (%d, re_err %d/%d)",
			    rc, btc.re_err, bt.re_err);
			mm_matcher_free(&btc);
		} else
			ok(0, "compile and clone the backtracking regex");
		if (rc == 0 || rc == -E2BIG)
			mm_matcher_free(&bt);
	}

	/* Literals are compiled per file, so there is nothing to clone. */
	pat.data = (unsigned char *)"key";
	pat.mask = NULL;
	pat.len = 3;
	rc = mm_matcher_literals(&lit, &pat, 1, 0, NULL, 0);
	ok(rc == 0 && mm_matcher_clone(&cl, &lit) == -EINVAL,
	    "a literal matcher cannot be cloned: -EINVAL");
	if (rc == 0)
		mm_matcher_free(&lit);
	mm_matcher_free(&src);
	return tap_done();
}
