/*
 * match.c - one interface over the three kinds of pattern mmfind takes:
 * a literal (search kernels), several literals (one-pass set) and a
 * PCRE2 regex over raw bytes.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "match.h"

int
mm_matcher_literals(struct mm_matcher *m, const struct mm_bytes *pats,
    size_t n, int flags, const unsigned char *sample, size_t samplelen)
{
	struct mm_needle **nv;
	size_t i;
	int rc, nflags = flags & MM_MATCHER_ICASE ? MM_NEEDLE_ICASE : 0;

	memset(m, 0, sizeof(*m));
	if (n == 0)
		return -EINVAL;
	if ((nv = calloc(n, sizeof(*nv))) == NULL)
		return -ENOMEM;
	m->minlen = SIZE_MAX;
	for (i = 0; i < n; i++) {
		rc = mm_needle_new(&nv[i], pats[i].data, pats[i].mask,
		    pats[i].len, nflags, sample, samplelen);
		if (rc < 0)
			goto fail;
		if (pats[i].len < m->minlen)
			m->minlen = pats[i].len;
		if (pats[i].len > m->maxlen)
			m->maxlen = pats[i].len;
	}
	m->needles = nv;
	m->nneedles = n;
	if (n == 1) {
		m->needle = nv[0];
		return 0;
	}
	if ((rc = mm_needleset_new(&m->set, nv, n, sample, samplelen)) < 0)
		goto fail;
	return 0;
fail:
	m->needles = nv;
	m->nneedles = n;
	mm_matcher_free(m);
	return rc;
}

/*
 * The literal bytes every match of RE starts with, when RE begins with
 * plain characters and has no alternation at all (a conservative test).
 * The search kernels then find candidates at literal speed and PCRE2
 * only confirms them, anchored: the leftmost candidate that matches is
 * the leftmost match, since every match starts with these bytes.
 */
static size_t
re_prefix(const char *re, unsigned char *out, size_t cap)
{
	const unsigned char *p = (const unsigned char *)re;
	size_t n = 0, adv;
	unsigned char c;
	unsigned int v;

	if (strchr(re, '|') != NULL)
		return 0;
	while (*p != '\0' && n < cap) {
		if (p[0] == '\\') {
			if (p[1] != '\0' && (ispunct(p[1]) || p[1] == ' ')) {
				c = p[1];
				adv = 2;
			} else if (p[1] == 'x' && isxdigit(p[2]) &&
			    isxdigit(p[3]) && sscanf((const char *)p + 2,
			    "%2x", &v) == 1) {
				c = (unsigned char)v;
				adv = 4;
			} else if (p[1] == 'n' || p[1] == 't' || p[1] == 'r') {
				c = p[1] == 'n' ? '\n' : p[1] == 't' ? '\t' :
				    '\r';
				adv = 2;
			} else
				break;
		} else if (strchr(".^$*+?()[]{}", p[0]) != NULL) {
			break;
		} else {
			c = p[0];
			adv = 1;
		}
		p += adv;
		/* A quantified character is not always there. */
		if (*p == '*' || *p == '?' || *p == '{')
			break;
		out[n++] = c;
		if (*p == '+')
			break;
	}
	return n;
}

/*
 * A matcher's own match data and context for CODE (each thread needs
 * its own): 0, or -ENOMEM with M cleared.
 */
static int
match_state(struct mm_matcher *m, const pcre2_code *code)
{
	m->md = pcre2_match_data_create_from_pattern(code, NULL);
	m->mc = pcre2_match_context_create(NULL);
	if (m->md != NULL && m->mc != NULL)
		return 0;
	if (m->md != NULL)
		pcre2_match_data_free(m->md);
	if (m->mc != NULL)
		pcre2_match_context_free(m->mc);
	memset(m, 0, sizeof(*m));
	return -ENOMEM;
}

int
mm_matcher_regex(struct mm_matcher *m, const char *re, int flags,
    int *errcode, size_t *erroff)
{
	unsigned char pre[64];
	size_t npre;
	pcre2_code *code;
	uint32_t opts = PCRE2_NEVER_UTF | PCRE2_NEVER_UCP;
	PCRE2_SIZE eo = 0;
	int ec = 0;

	memset(m, 0, sizeof(*m));
	if (flags & MM_MATCHER_ICASE)
		opts |= PCRE2_CASELESS;
	code = pcre2_compile((PCRE2_SPTR)re, PCRE2_ZERO_TERMINATED, opts,
	    &ec, &eo, NULL);
	if (code == NULL) {
		*errcode = ec;
		*erroff = eo;
		return -EINVAL;
	}
	/*
	 * Without JIT (some builds, some CPUs) the interpreter still works.
	 * Streams are searched with hard partial matching.
	 */
	(void)pcre2_jit_compile(code, PCRE2_JIT_COMPLETE |
	    PCRE2_JIT_PARTIAL_HARD);
	if (match_state(m, code) < 0) {
		pcre2_code_free(code);
		return -ENOMEM;
	}
	m->re = code;
	m->maxlen = SIZE_MAX;
	/* Short prefixes gain nothing over PCRE2's own first-byte scan. */
	if ((npre = re_prefix(re, pre, sizeof(pre))) >= 3 &&
	    mm_needle_new(&m->re_prefix, pre, NULL, npre,
	    (flags & MM_MATCHER_ICASE) ? MM_NEEDLE_ICASE : 0, NULL, 0) < 0)
		m->re_prefix = NULL;
	return 0;
}

void
mm_regex_error(int code, char *buf, size_t len)
{
	if (pcre2_get_error_message(code, (PCRE2_UCHAR *)buf, len) < 0)
		snprintf(buf, len, "PCRE2 error %d", code);
}

const char *
mm_regex_limit(int code)
{
	switch (code) {
	case PCRE2_ERROR_MATCHLIMIT:
		return "match limit";
	case PCRE2_ERROR_DEPTHLIMIT:
		return "depth limit";
	case PCRE2_ERROR_HEAPLIMIT:
		return "heap limit";
	case PCRE2_ERROR_JIT_STACKLIMIT:
		return "JIT stack limit";
	}
	return NULL;
}

int
mm_matcher_clone(struct mm_matcher *m, const struct mm_matcher *src)
{
	memset(m, 0, sizeof(*m));
	if (src->re == NULL)
		return -EINVAL;
	if (match_state(m, src->re) < 0)
		return -ENOMEM;
	m->re = src->re;
	m->re_prefix = src->re_prefix;
	m->minlen = src->minlen;
	m->maxlen = src->maxlen;
	m->borrowed = 1;
	return 0;
}

void
mm_matcher_free(struct mm_matcher *m)
{
	size_t i;

	if (m->set != NULL)
		mm_needleset_free(m->set);
	for (i = 0; i < m->nneedles; i++)
		if (m->needles[i] != NULL)
			mm_needle_free(m->needles[i]);
	free(m->needles);
	if (m->re_prefix != NULL && !m->borrowed)
		mm_needle_free(m->re_prefix);
	if (m->md != NULL)
		pcre2_match_data_free(m->md);
	if (m->mc != NULL)
		pcre2_match_context_free(m->mc);
	if (m->re != NULL && !m->borrowed)
		pcre2_code_free(m->re);
	memset(m, 0, sizeof(*m));
}

/*
 * The backtracking budget.  PCRE2 counts its match limit afresh at each
 * start position, so a pattern that backtracks hard at every position
 * runs for minutes under the default limit without ever reaching it.
 * The limit per start position is a whole-search budget spread over the
 * subject: RE_BUDGET steps in all, yet never under RE_LIMIT_MIN (what
 * ordinary patterns need) nor above PCRE2's own default.  A search then
 * costs at most the larger of RE_BUDGET and RE_LIMIT_MIN steps per byte.
 */
#define RE_BUDGET	((uint64_t)500 * 1000 * 1000)
#define RE_LIMIT_MIN	((uint64_t)100 * 1000)
#define RE_LIMIT_MAX	((uint64_t)10 * 1000 * 1000)

static void
re_budget(struct mm_matcher *m, size_t len)
{
	uint64_t lim = RE_BUDGET / (len ? len : 1);

	if (lim < RE_LIMIT_MIN)
		lim = RE_LIMIT_MIN;
	if (lim > RE_LIMIT_MAX)
		lim = RE_LIMIT_MAX;
	pcre2_set_match_limit(m->mc, (uint32_t)lim);
	/* The interpreter's depth: JIT ignores it, the match limit holds. */
	pcre2_set_depth_limit(m->mc, (uint32_t)lim);
}

/* One regex match starting at or after FROM; 1, 0 or -E2BIG. */
static int
re_match(struct mm_matcher *m, const unsigned char *hay, size_t len,
    size_t from, size_t *off, size_t *mlen)
{
	PCRE2_SIZE *ov;
	ptrdiff_t q;
	int rc;

	re_budget(m, len);

	if (m->re_prefix != NULL) {
		/* Candidates from the literal prefix, confirmed anchored. */
		for (;;) {
			if (from > len || (q = mm_find(m->re_prefix,
			    hay + from, len - from)) < 0)
				return 0;
			rc = pcre2_match(m->re, hay, len, from + (size_t)q,
			    PCRE2_ANCHORED, m->md, m->mc);
			if (rc != PCRE2_ERROR_NOMATCH)
				break;
			from += (size_t)q + 1;
		}
	} else
		rc = pcre2_match(m->re, hay, len, from, 0, m->md, m->mc);
	if (rc == PCRE2_ERROR_NOMATCH)
		return 0;
	if (rc < 0) {
		m->re_err = rc;
		return -E2BIG;
	}
	ov = pcre2_get_ovector_pointer(m->md);
	*off = ov[0];
	*mlen = ov[1] - ov[0];
	return 1;
}

int
mm_match_partial(struct mm_matcher *m, const unsigned char *hay, size_t len,
    size_t from, int more, size_t *off, size_t *mlen)
{
	PCRE2_SIZE *ov;
	int rc;

	if (!more)
		return mm_match_from(m, hay, len, from, off, mlen);
	re_budget(m, len);
	rc = pcre2_match(m->re, hay, len, from, PCRE2_PARTIAL_HARD, m->md,
	    m->mc);
	if (rc == PCRE2_ERROR_NOMATCH)
		return 0;
	ov = pcre2_get_ovector_pointer(m->md);
	if (rc == PCRE2_ERROR_PARTIAL) {
		/* Where the match that the next bytes may complete begins. */
		*off = ov[0];
		return 2;
	}
	if (rc < 0) {
		m->re_err = rc;
		return -E2BIG;
	}
	*off = ov[0];
	*mlen = ov[1] - ov[0];
	return 1;
}

size_t
mm_matcher_lookbehind(const struct mm_matcher *m)
{
	uint32_t lb = 0;

	if (pcre2_pattern_info(m->re, PCRE2_INFO_MAXLOOKBEHIND, &lb) != 0)
		lb = 255;
	return lb;
}

int
mm_match_from(struct mm_matcher *m, const unsigned char *hay, size_t len,
    size_t from, size_t *off, size_t *mlen)
{
	int rc;

	if (from > len)
		return 0;
	if (m->re != NULL)
		return re_match(m, hay, len, from, off, mlen);
	rc = mm_match(m, hay + from, len - from, 0, off, mlen);
	if (rc > 0)
		*off += from;
	return rc;
}

int
mm_match(struct mm_matcher *m, const unsigned char *hay, size_t len,
    int reverse, size_t *off, size_t *mlen)
{
	ptrdiff_t q;
	size_t which = 0, o, l, from;
	int rc, found = 0;

	if (m->re != NULL) {
		if (!reverse)
			return re_match(m, hay, len, 0, off, mlen);
		/* The last of the forward, non-overlapping matches. */
		for (from = 0; from <= len; ) {
			if ((rc = re_match(m, hay, len, from, &o, &l)) <= 0)
				return rc < 0 ? rc : found;
			*off = o;
			*mlen = l;
			found = 1;
			from = o + (l ? l : 1);
		}
		return found;
	}
	if (m->set != NULL) {
		q = reverse ? mm_rfindset(m->set, hay, len, &which) :
		    mm_findset(m->set, hay, len, &which);
		if (q < 0)
			return 0;
		*off = (size_t)q;
		*mlen = mm_needle_len(m->needles[which]);
		return 1;
	}
	q = reverse ? mm_rfind(m->needle, hay, len) :
	    mm_find(m->needle, hay, len);
	if (q < 0)
		return 0;
	*off = (size_t)q;
	*mlen = mm_needle_len(m->needle);
	return 1;
}
