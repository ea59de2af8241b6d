/*
 * match.h - one matcher over the three kinds of pattern mmfind takes: a
 * literal, a set of literals or a PCRE2 regex over raw bytes, asked for
 * the first, the last or the next match in a buffer.
 */
#ifndef MM_MATCH_H
#define MM_MATCH_H

#include <stddef.h>

#include "mm.h"
#include "search.h"

/* What to look for: exactly one of needle, set, or regex. */
struct mm_matcher {
	struct mm_needle	**needles;	/* literals, owned */
	size_t			 nneedles;
	struct mm_needle	*needle;
	struct mm_needleset	*set;
	void			*re;		/* pcre2_code_8 */
	void			*md;		/* pcre2_match_data_8 */
	void			*mc;		/* pcre2_match_context_8 */
	struct mm_needle	*re_prefix;	/* literal start of every match */
	size_t			 minlen;	/* shortest match (literals) */
	size_t			 maxlen;	/* longest match (literals) */
	int			 re_err;	/* the last PCRE2 error code */
	int			 borrowed;	/* a clone: re, re_prefix not its own */
};

#define MM_MATCHER_ICASE	0x1

/*
 * Literals: the N byte strings PATS (with wildcard masks), ranked against
 * SAMPLE.  -ENOMEM or -EINVAL.  mm_matcher_free releases the needles too.
 */
int	mm_matcher_literals(struct mm_matcher *, const struct mm_bytes *pats,
	    size_t n, int flags, const unsigned char *sample,
	    size_t samplelen);
/*
 * A PCRE2 regex over bytes (no UTF), JIT-compiled when available.  On a
 * bad regex -EINVAL, with *ERRCODE and *ERROFF set for the message.
 */
int	mm_matcher_regex(struct mm_matcher *, const char *re, int flags,
	    int *errcode, size_t *erroff);
/*
 * A regex matcher for another thread: the compiled regex is shared,
 * read-only, and the clone has its own match data, limits and error
 * code, which PCRE2 forbids threads to share.  SRC must outlive the
 * clone; mm_matcher_free frees what is the clone's own.  0, -ENOMEM,
 * or -EINVAL when SRC is no regex (literals are compiled per file).
 */
int	mm_matcher_clone(struct mm_matcher *, const struct mm_matcher *src);
void	mm_matcher_free(struct mm_matcher *);
/* The text of PCRE2 error CODE into BUF. */
void	mm_regex_error(int code, char *buf, size_t len);
/*
 * The name of the PCRE2 limit that error CODE says a search ran into
 * ("match limit", "depth limit", "heap limit", "JIT stack limit"), or
 * NULL for other errors.
 */
const char *mm_regex_limit(int code);

/*
 * First (or last, with REVERSE) match lying wholly inside hay[0..len):
 * 1 with *OFF and *MLEN, 0 if none, -errno (regex failures: -E2BIG with
 * re_err set).  A regex's "last" match is the last of its forward,
 * non-overlapping matches.
 */
int	mm_match(struct mm_matcher *, const unsigned char *hay, size_t len,
	    int reverse, size_t *off, size_t *mlen);
/*
 * The first match starting at or after FROM in hay[0..len); a regex sees
 * the bytes before FROM (for lookbehind and \b) but does not match there.
 */
int	mm_match_from(struct mm_matcher *, const unsigned char *hay,
	    size_t len, size_t from, size_t *off, size_t *mlen);

/*
 * A regex over a window of a stream that MORE bytes may follow: as
 * mm_match_from, but a match that the next bytes could make another
 * (longer, or a match at all) is not given: 2, with *OFF where it
 * begins, says to come back with more bytes.  Without MORE the window's
 * end is the end.
 */
int	mm_match_partial(struct mm_matcher *, const unsigned char *hay,
	    size_t len, size_t from, int more, size_t *off, size_t *mlen);
/* How many bytes before a match's start a regex may look at. */
size_t	mm_matcher_lookbehind(const struct mm_matcher *);

#endif /* MM_MATCH_H */
