/*
 * fuzz_patch.c - mmpatch's edit lists: mm_patch_parse_script and
 * mm_patch_parse_offsets against a reference parser written from SPEC,
 * then mm_patch_check and mm_patch_apply on a memory file (memfd) against
 * a model: a batch applies whole or not at all, and only where every
 * range is in bounds, no two edits overlap and every expectation holds.
 *
 * Input: byte 0 chooses the mode (bit 0: offsets, else a script; bits
 * 1-2: --repeat 1-4; bit 3: the offsets' template has an expectation;
 * bit 4: keep the old bytes; "@" a script, "A" offsets), byte 1 the file
 * size (low 6 bits, x 7: "@" is empty, "A" 7 bytes).  A script is
 * the rest.  Offsets: the rest is "DATA\nEXPECT\nOFFSETS...", DATA and
 * EXPECT taken literally.  The file "f" holds "abcdefghijklmnopqrstuvwxyz
 * 0123456789" over and over, so seeds can expect readable bytes.
 */
#include "config.h"

#include <sys/mman.h>

#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "mm.h"
#include "patch.h"
#include "fuzz.h"
#include "refnum.h"

static const char alnum[] = "abcdefghijklmnopqrstuvwxyz0123456789";

struct redit {
	uint64_t	 mag;
	int		 neg;
	unsigned char	*data;
	size_t		 len;
	unsigned char	*expect;	/* NULL: none */
	size_t		 explen;
	uint64_t	 total;
	uint64_t	 off;
};

struct rpatch {
	struct redit	*e;
	size_t		 n;
	enum mm_patch_why why;
	size_t		 line;
};

static int
blank(int c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

static int
hexdig(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Strict hex as SPEC has it; -1 on error.  OUT has room for strlen/2. */
static long
ref_hex(const char *s, unsigned char *out)
{
	long n = 0;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		s += 2;
	for (;;) {
		while (*s == ':' || *s == ' ' || (*s >= '\t' && *s <= '\r'))
			s++;
		if (*s == '\0')
			return n;
		if (hexdig((unsigned char)s[0]) < 0 ||
		    hexdig((unsigned char)s[1]) < 0)
			return -1;
		out[n++] = (unsigned char)(hexdig((unsigned char)s[0]) * 16 +
		    hexdig((unsigned char)s[1]));
		s += 2;
	}
}

static void
radd(struct rpatch *r, const struct redit *e)
{
	struct redit *ne;

	if ((ne = realloc(r->e, (r->n + 1) * sizeof(*ne))) == NULL)
		abort();
	r->e = ne;
	r->e[r->n++] = *e;
}

static void
rfree(struct rpatch *r)
{
	size_t i;

	for (i = 0; i < r->n; i++) {
		free(r->e[i].data);
		free(r->e[i].expect);
	}
	free(r->e);
}

/*
 * Both grammars, line by line: MODE 0 a script, 1 offsets (with the
 * template's DATA, EXPECT and REPEAT).  Returns 0 or -1 with why/line.
 */
static int
ref_parse(struct rpatch *r, const unsigned char *text, size_t len, int mode,
    const struct redit *tmpl, uint64_t repeat)
{
	size_t pos = 0, eol, line = 0, nt;
	char *s, *p, *tok[4];
	struct redit e;
	long n;

	while (pos < len) {
		const unsigned char *nl = memchr(text + pos, '\n', len - pos);

		eol = nl != NULL ? (size_t)(nl - text) : len;
		line++;
		r->line = line;
		if (memchr(text + pos, '\0', eol - pos) != NULL) {
			r->why = MM_PATCH_SYNTAX;
			return -1;
		}
		s = fuzz_cstr(text + pos, eol - pos);
		pos = eol + 1;
		memset(&e, 0, sizeof(e));
		if (mode == 1) {
			for (p = s; blank((unsigned char)*p); p++)
				;
			for (nt = strlen(p); nt > 0 &&
			    blank((unsigned char)p[nt - 1]); nt--)
				p[nt - 1] = '\0';
			if (*p == '\0') {
				free(s);
				continue;
			}
			if (strncmp(p, "f:", 2) == 0)
				for (p += 2; blank((unsigned char)*p); p++)
					;
			e.neg = p[0] == '-';
			if (ref_parse_size(p + e.neg, &e.mag) < 0) {
				r->why = strchr(p, ':') != NULL ?
				    MM_PATCH_OTHER_FILE : MM_PATCH_BAD_OFFSET;
				free(s);
				return -1;
			}
			e.neg = e.neg && e.mag != 0;	/* -0 is the start */
			/* SPEC: expect exactly the bytes written. */
			if (tmpl->expect != NULL &&
			    tmpl->explen != tmpl->len * repeat) {
				r->why = MM_PATCH_EXPECT_LEN;
				free(s);
				return -1;
			}
			e.len = tmpl->len;
			e.data = malloc(e.len + 1);
			memcpy(e.data, tmpl->data, e.len);
			if (tmpl->expect != NULL) {
				e.explen = tmpl->explen;
				e.expect = malloc(e.explen + 1);
				memcpy(e.expect, tmpl->expect, e.explen);
			}
			e.total = e.len * repeat;
			radd(r, &e);
			free(s);
			continue;
		}
		if ((p = strchr(s, '#')) != NULL)
			*p = '\0';
		for (nt = 0, p = s; nt < 4; nt++) {
			while (blank((unsigned char)*p))
				p++;
			if (*p == '\0')
				break;
			tok[nt] = p;
			while (*p != '\0' && !blank((unsigned char)*p))
				p++;
			if (*p != '\0')
				*p++ = '\0';
		}
		if (nt == 0) {
			free(s);
			continue;
		}
		r->why = MM_PATCH_SYNTAX;
		if (nt == 1 || nt == 4)
			goto bad;
		r->why = MM_PATCH_BAD_OFFSET;
		e.neg = tok[0][0] == '-';
		if (ref_parse_size(tok[0] + e.neg, &e.mag) < 0)
			goto bad;
		e.neg = e.neg && e.mag != 0;	/* -0 is the start */
		r->why = MM_PATCH_BAD_HEX;
		e.data = malloc(strlen(tok[1]) / 2 + 1);
		if ((n = ref_hex(tok[1], e.data)) < 0) {
			free(e.data);
			goto bad;
		}
		e.len = (size_t)n;
		if (nt == 3) {
			e.expect = malloc(strlen(tok[2]) / 2 + 1);
			if ((n = ref_hex(tok[2], e.expect)) < 0) {
				free(e.data);
				free(e.expect);
				goto bad;
			}
			e.explen = (size_t)n;
			if (e.explen != e.len) {
				free(e.data);
				free(e.expect);
				r->why = MM_PATCH_EXPECT_LEN;
				goto bad;
			}
		}
		e.total = e.len;
		radd(r, &e);
		free(s);
		continue;
bad:
		free(s);
		return -1;
	}
	return 0;
}

static uint64_t
span(const struct redit *e, uint64_t size)
{
	uint64_t x = e->expect != NULL ? e->explen : 0;

	if (x > size - e->off)
		x = size - e->off;
	return e->total > x ? e->total : x;
}

/* The model's verdict on the batch: MM_PATCH_OK or why it fails. */
static enum mm_patch_why
ref_check(struct rpatch *r, const unsigned char *file, uint64_t size)
{
	struct redit *a, *b;
	size_t i, j;

	for (i = 0; i < r->n; i++) {
		a = &r->e[i];
		if (a->neg && a->mag > size)
			return MM_PATCH_BEFORE_START;
		a->off = a->neg ? size - a->mag : a->mag;
		if (a->off > size)
			return MM_PATCH_PAST_END;
		if (a->total > size - a->off)
			return MM_PATCH_TOO_LONG;
	}
	for (i = 0; i < r->n; i++)
		for (j = i + 1; j < r->n; j++) {
			a = &r->e[i];
			b = &r->e[j];
			if (span(a, size) > 0 && span(b, size) > 0 &&
			    a->off < b->off + span(b, size) &&
			    b->off < a->off + span(a, size))
				return MM_PATCH_OVERLAP;
		}
	for (i = 0; i < r->n; i++) {
		a = &r->e[i];
		if (a->expect != NULL && (a->explen > size - a->off ||
		    memcmp(file + a->off, a->expect, a->explen) != 0))
			return MM_PATCH_MISMATCH;
	}
	return MM_PATCH_OK;
}

static int memfd = -1;
static struct mm_file mf;

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mm_patch p;
	struct rpatch r;
	struct redit tmpl;
	struct mm_edit et;
	const unsigned char *text, *nl1, *nl2;
	unsigned char *file, *now;
	uint64_t fsize, repeat, i, k;
	size_t textlen;
	int mode, rc, wrc, flags;
	char path[64];

	if (size < 2)
		return 0;
	if (memfd < 0) {
		if ((memfd = memfd_create("fuzz_patch", 0)) < 0)
			abort();
		snprintf(path, sizeof(path), "/proc/self/fd/%d", memfd);
		if (mm_open(&mf, path, MM_ACCESS_WRITE, MM_OPEN_MAPPED) != 0)
			abort();
	}
	mode = data[0] & 1;
	repeat = ((data[0] >> 1) & 3) + 1;
	flags = (data[0] & 0x10) ? MM_PATCH_KEEP_OLD : 0;
	fsize = (uint64_t)(data[1] & 0x3f) * 7;
	text = data + 2;
	textlen = size - 2;

	memset(&r, 0, sizeof(r));
	memset(&tmpl, 0, sizeof(tmpl));
	mm_patch_init(&p, flags);
	if (mode == 1) {
		/* DATA \n EXPECT \n OFFSETS */
		nl1 = memchr(text, '\n', textlen);
		nl2 = nl1 != NULL ? memchr(nl1 + 1, '\n',
		    textlen - (size_t)(nl1 + 1 - text)) : NULL;
		if (nl2 == NULL)
			goto out;
		tmpl.data = (unsigned char *)text;
		tmpl.len = (size_t)(nl1 - text);
		if (data[0] & 8) {
			tmpl.expect = (unsigned char *)nl1 + 1;
			tmpl.explen = (size_t)(nl2 - nl1 - 1);
		}
		memset(&et, 0, sizeof(et));
		et.data = tmpl.data;
		et.len = tmpl.len;
		et.expect = tmpl.expect;
		et.explen = tmpl.explen;
		et.repeat = repeat;
		textlen -= (size_t)(nl2 + 1 - text);
		text = nl2 + 1;
		rc = mm_patch_parse_offsets(&p, text, textlen, "f", &et);
	} else
		rc = mm_patch_parse_script(&p, text, textlen);
	wrc = ref_parse(&r, text, textlen, mode, &tmpl, repeat);
	if ((rc == 0) != (wrc == 0))
		FUZZ_FAIL("parse: %d, reference %d (why %d line %zu)", rc,
		    wrc, (int)r.why, r.line);
	if (rc != 0) {
		if (p.err.why != r.why || p.err.line != r.line)
			FUZZ_FAIL("parse error: why %d line %zu, want %d %zu",
			    (int)p.err.why, p.err.line, (int)r.why, r.line);
		goto out;
	}
	if (p.n != r.n)
		FUZZ_FAIL("parse: %zu edits, want %zu", p.n, r.n);
	for (i = 0; i < p.n; i++) {
		const struct mm_edit *e = &p.e[i];
		const struct redit *w = &r.e[i];

		if (e->mag != w->mag || e->neg != w->neg || e->len != w->len ||
		    (e->len > 0 && memcmp(e->data, w->data, e->len) != 0) ||
		    (e->expect == NULL) != (w->expect == NULL) ||
		    (e->expect != NULL && (e->explen != w->explen ||
		    (e->explen > 0 &&
		    memcmp(e->expect, w->expect, e->explen) != 0))) ||
		    e->total != w->total)
			FUZZ_FAIL("parse: edit %" PRIu64 " differs", i);
	}

	/* The file, and the model's copy of it. */
	if ((file = malloc(fsize + 1)) == NULL ||
	    (now = malloc(fsize + 1)) == NULL)
		abort();
	for (i = 0; i < fsize; i++)
		file[i] = (unsigned char)alnum[i % 36];
	if (ftruncate(memfd, 0) != 0 || ftruncate(memfd, (off_t)fsize) != 0 ||
	    pwrite(memfd, file, fsize, 0) != (ssize_t)fsize)
		abort();
	mf.size = (off_t)fsize;

	wrc = ref_check(&r, file, fsize);
	rc = mm_patch_check(&p, &mf);
	if ((rc == 0) != (wrc == MM_PATCH_OK) ||
	    (rc != 0 && p.err.why != (enum mm_patch_why)wrc &&
	    !(wrc == MM_PATCH_OVERLAP && p.err.why == MM_PATCH_OVERLAP)))
		FUZZ_FAIL("check: %d (why %d), reference why %d", rc,
		    (int)p.err.why, wrc);
	if (rc == 0) {
		for (i = 0; i < p.n && (flags & MM_PATCH_KEEP_OLD); i++)
			if (p.e[i].total > 0 && memcmp(p.e[i].old,
			    file + r.e[i].off, p.e[i].total) != 0)
				FUZZ_FAIL("old bytes of edit %" PRIu64, i);
		if ((rc = mm_patch_apply(&p)) != 0)
			FUZZ_FAIL("apply: %d", rc);
		for (i = 0; i < r.n; i++)
			for (k = 0; k < r.e[i].total; k++)
				file[r.e[i].off + k] =
				    r.e[i].data[k % r.e[i].len];
	}
	mm_patch_free(&p);
	if (pread(memfd, now, fsize, 0) != (ssize_t)fsize)
		abort();
	if (memcmp(now, file, fsize) != 0)
		FUZZ_FAIL("the file differs from the model (check %d)", rc);
	free(file);
	free(now);
out:
	mm_patch_free(&p);
	rfree(&r);
	return 0;
}
