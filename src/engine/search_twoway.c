/*
 * search_twoway.c - Two-Way (Crochemore-Perrin), the search the kernels
 * hand over to when their filter stops filtering: linear in the worst
 * case, forward and (on the reversed needle) backward.  It compares whole
 * bytes through n->canon, so it serves plain and ICASE needles, not
 * wildcards.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "search_int.h"

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

/*
 * Factor x[0..m) once per needle: the critical position (*suffix), the
 * shift after a match (*period) and whether x has that period.
 */
void
mm_search_tw_prepare(const unsigned char *x, size_t m, size_t *suffix,
    size_t *period, int *periodic)
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
