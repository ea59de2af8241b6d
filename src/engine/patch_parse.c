/*
 * patch_parse.c - edits from text: patch scripts ("OFFSET NEWHEX
 * [OLDHEX]" lines, as the undo script is) and lists of offsets in mmfind
 * -a format.  The text is copied into the patch once and cut into lines
 * in place, so that edits and error tokens point into it.
 */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "patch_int.h"

/* LEN+1 bytes that live until mm_patch_free. */
static void *
blob_new(struct mm_patch *p, size_t len)
{
	struct mm_patch_blob *b;

	if (len > SIZE_MAX - sizeof(*b) - 1)
		return NULL;
	if ((b = mm_patch_alloc(sizeof(*b) + len + 1)) == NULL)
		return NULL;
	b->next = p->blobs;
	p->blobs = b;
	return b->data;
}

/* Room for N more edits, in one allocation rather than by doubling. */
static int
reserve_edits(struct mm_patch *p, size_t n)
{
	struct mm_edit *ne;

	if (n <= p->cap - p->n)
		return 0;
	if (n > SIZE_MAX / sizeof(*ne) - p->n - 1 ||
	    (ne = mm_patch_alloc((p->n + n + 1) * sizeof(*ne))) == NULL)
		return -ENOMEM;
	if (p->n > 0)
		memcpy(ne, p->e, p->n * sizeof(*ne));
	free(p->e);
	p->e = ne;
	p->cap = p->n + n + 1;
	return 0;
}

static int
is_blank(int c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/*
 * Copy TEXT into the patch and hand out its lines one by one, each cut
 * at '\n' and NUL-terminated in place, so that tokens may point into it.
 */
struct lines {
	char	*cur, *end;
	size_t	 no;
};

static int
lines_init(struct mm_patch *p, struct lines *l, const unsigned char *text,
    size_t len)
{
	const unsigned char *s, *end = text + len;
	char *copy;
	size_t n = 1;

	for (s = text; len > 0 && (s = memchr(s, '\n', (size_t)(end - s))) !=
	    NULL; s++)
		n++;
	if ((copy = blob_new(p, len)) == NULL || reserve_edits(p, n) < 0)
		return mm_patch_fail(p, MM_PATCH_IO, -ENOMEM, 0, NULL);
	if (len > 0)
		memcpy(copy, text, len);
	copy[len] = '\0';
	l->cur = copy;
	l->end = copy + len;
	l->no = 0;
	return 0;
}

/* The next line, trimmed, or NULL at the end; *HASNUL if it held a NUL. */
static char *
lines_next(struct lines *l, int *hasnul)
{
	char *s, *nl, *e;

	if (l->cur >= l->end)
		return NULL;
	s = l->cur;
	if ((nl = memchr(s, '\n', (size_t)(l->end - s))) == NULL)
		nl = l->end;
	*hasnul = memchr(s, '\0', (size_t)(nl - s)) != NULL;
	*nl = '\0';
	l->cur = nl + 1;
	l->no++;
	while (is_blank((unsigned char)*s))
		s++;
	for (e = s + strlen(s); e > s && is_blank((unsigned char)e[-1]); e--)
		;
	*e = '\0';
	return s;
}

int
mm_patch_parse_offsets(struct mm_patch *p, const unsigned char *text,
    size_t len, const char *file, const struct mm_edit *template)
{
	struct mm_edit e = *template;
	struct lines l;
	char *s, *tok;
	int rc, hasnul;

	if ((rc = lines_init(p, &l, text, len)) < 0)
		return rc;
	while ((s = lines_next(&l, &hasnul)) != NULL) {
		if (hasnul)
			return mm_patch_fail(p, MM_PATCH_SYNTAX, -EINVAL, l.no,
			    s);
		rc = mm_parse_offset_line(s, file, &e.mag, &e.neg, &tok, NULL);
		if (rc == 1)
			continue;
		if (rc == -EXDEV)
			return mm_patch_fail(p, MM_PATCH_OTHER_FILE, -EINVAL,
			    l.no, tok);
		if (rc < 0)
			return mm_patch_fail(p, MM_PATCH_BAD_OFFSET, rc, l.no,
			    tok);
		e.tok = tok;
		e.line = l.no;
		if ((rc = mm_patch_add(p, &e)) < 0)
			return rc;
	}
	return 0;
}

static int
hex_digit(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
		return (c | 0x20) - 'a' + 10;
	return -1;
}

/* Decode hex TOK into the pool at *AT; fails naming the character. */
static int
script_hex(struct mm_patch *p, char *tok, size_t line, unsigned char **at,
    const unsigned char **data, size_t *len)
{
	struct mm_bytes b;
	size_t pos = 0, i;
	int rc, hi, lo;

	/* Plain pairs of digits, the usual case: no allocation. */
	for (i = 0; (hi = hex_digit(tok[i])) >= 0 &&
	    (lo = hex_digit(tok[i + 1])) >= 0; i += 2)
		(*at)[i / 2] = (unsigned char)(hi << 4 | lo);
	if (tok[i] == '\0') {
		*data = *at;
		*len = i / 2;
		*at += i / 2;
		return 0;
	}
	if ((rc = mm_parse_hex(tok, 0, &b, &pos)) < 0) {
		rc = mm_patch_fail(p, rc == -EINVAL ? MM_PATCH_BAD_HEX :
		    MM_PATCH_IO, rc, line, tok);
		p->err.pos = pos;
		return rc;
	}
	if (b.len > 0)
		memcpy(*at, b.data, b.len);
	*data = *at;
	*len = b.len;
	*at += b.len;
	mm_bytes_free(&b);
	return 0;
}

int
mm_patch_parse_script(struct mm_patch *p, const unsigned char *text,
    size_t len)
{
	struct mm_edit e;
	struct lines l;
	unsigned char *pool;
	char *s, *hash, *tok[4];
	int rc, hasnul, nt;

	if ((rc = lines_init(p, &l, text, len)) < 0)
		return rc;
	/* Hex takes two characters a byte: half the text always suffices. */
	if ((pool = blob_new(p, len / 2)) == NULL)
		return mm_patch_fail(p, MM_PATCH_IO, -ENOMEM, 0, NULL);
	while ((s = lines_next(&l, &hasnul)) != NULL) {
		if (hasnul)
			return mm_patch_fail(p, MM_PATCH_SYNTAX, -EINVAL, l.no,
			    s);
		if ((hash = strchr(s, '#')) != NULL)
			*hash = '\0';
		for (nt = 0; nt < 4; nt++) {
			while (is_blank((unsigned char)*s))
				s++;
			if (*s == '\0')
				break;
			tok[nt] = s;
			while (*s != '\0' && !is_blank((unsigned char)*s))
				s++;
			if (*s != '\0')
				*s++ = '\0';
		}
		if (nt == 0)
			continue;
		if (nt == 1 || nt == 4)
			return mm_patch_fail(p, MM_PATCH_SYNTAX, -EINVAL, l.no,
			    nt == 4 ? tok[3] : tok[0]);
		memset(&e, 0, sizeof(e));
		e.repeat = 1;
		e.tok = tok[0];
		e.line = l.no;
		if ((rc = mm_parse_offset(tok[0], &e.mag, &e.neg)) < 0)
			return mm_patch_fail(p, MM_PATCH_BAD_OFFSET, rc, l.no,
			    tok[0]);
		if ((rc = script_hex(p, tok[1], l.no, &pool, &e.data,
		    &e.len)) < 0)
			return rc;
		if (nt == 3 && (rc = script_hex(p, tok[2], l.no, &pool,
		    &e.expect, &e.explen)) < 0)
			return rc;
		if ((rc = mm_patch_add(p, &e)) < 0)
			return rc;
	}
	return 0;
}
