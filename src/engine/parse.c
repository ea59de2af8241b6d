/*
 * parse.c - numbers and byte strings, parsed in exactly one place.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "mm.h"

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* The multiplier named by a suffix, or 0 if S is not a suffix. */
static uint64_t
suffix_mult(const char *s)
{
	static const char letters[] = "KMGTPE";
	const char *p;
	uint64_t base, m;
	int i, n;

	if (*s == '\0')
		return 1;
	if ((s[0] & ~0x20) == 0 || (p = strchr(letters, s[0] & ~0x20)) == NULL)
		return 0;
	n = (int)(p - letters) + 1;
	if (s[1] == '\0' || strcasecmp(s + 1, "iB") == 0)
		base = 1024;
	else if (strcasecmp(s + 1, "B") == 0)
		base = 1000;
	else
		return 0;
	for (m = 1, i = 0; i < n; i++)
		m *= base;
	return m;
}

int
mm_parse_size(const char *s, uint64_t *val)
{
	uint64_t v = 0, mult;
	const char *p = s;
	int d, ndig = 0, hex = 0;

	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		hex = 1;
		p += 2;
	}
	for (;; p++, ndig++) {
		if (hex)
			d = hexval((unsigned char)*p);
		else
			d = *p >= '0' && *p <= '9' ? *p - '0' : -1;
		if (d < 0)
			break;
		if (v > (MM_OFF_MAX - (uint64_t)d) / (hex ? 16 : 10)) {
			/* Keep scanning so bad syntax still wins over range. */
			while ((hex ? hexval((unsigned char)*p) :
			    (*p >= '0' && *p <= '9' ? 0 : -1)) >= 0)
				p++;
			return suffix_mult(p) ? -ERANGE : -EINVAL;
		}
		v = v * (hex ? 16 : 10) + (uint64_t)d;
	}
	if (ndig == 0 || (mult = suffix_mult(p)) == 0)
		return -EINVAL;
	if (v != 0 && mult > MM_OFF_MAX / v)
		return -ERANGE;
	*val = v * mult;
	return 0;
}

int
mm_parse_offset(const char *s, uint64_t *val, int *neg)
{
	int rc, minus = s[0] == '-';

	*neg = minus;
	if ((rc = mm_parse_size(s + minus, val)) < 0)
		return rc;
	/* -0 is 0, the start, as Python's index -0 is: not the end. */
	*neg = minus && *val != 0;
	return 0;
}

int
mm_offset_resolve(uint64_t val, int neg, uint64_t size, uint64_t *out)
{
	if (!neg || val == 0) {
		*out = val;
		return 0;
	}
	if (val > size)
		return -ERANGE;
	*out = size - val;
	return 0;
}

static int
is_blank(int c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

int
mm_parse_offset_line(char *s, const char *file, uint64_t *val, int *neg,
    char **tok, char **rest)
{
	size_t flen = file != NULL ? strlen(file) : 0;
	char *e, *line, *cut = NULL, saved = '\0';
	int rc;

	while (is_blank((unsigned char)*s))
		s++;
	for (e = s + strlen(s); e > s && is_blank((unsigned char)e[-1]); e--)
		;
	*e = '\0';
	if (*s == '\0')
		return 1;
	/* "FILE:OFFSET" from mmfind -H, for this very FILE only. */
	if (flen > 0 && strncmp(s, file, flen) == 0 && s[flen] == ':')
		for (s += flen + 1; is_blank((unsigned char)*s); s++)
			;
	line = s;
	if (rest != NULL) {
		for (e = s; *e != '\0' && !is_blank((unsigned char)*e); e++)
			;
		cut = e;
		saved = *e;
		for (; is_blank((unsigned char)*e); e++)
			;
		*cut = '\0';
		*rest = e;
	}
	*tok = s;
	if ((rc = mm_parse_offset(s, val, neg)) < 0 && cut != NULL)
		*cut = saved;
	/* Not an offset, with a name before a ':': another file's line. */
	if (rc < 0 && strchr(line, ':') != NULL) {
		*tok = line;
		return -EXDEV;
	}
	if (rc < 0 && cut != NULL)
		*cut = '\0';
	return rc;
}

void
mm_bytes_free(struct mm_bytes *b)
{
	free(b->data);
	free(b->mask);
	memset(b, 0, sizeof(*b));
}

static int
bytes_alloc(struct mm_bytes *b, size_t len)
{
	memset(b, 0, sizeof(*b));
	/* One spare byte so that even empty strings own a buffer. */
	if ((b->data = malloc(len + 1)) == NULL)
		return -ENOMEM;
	return 0;
}

int
mm_bytes_text(const char *s, struct mm_bytes *b)
{
	size_t len = strlen(s);

	if (bytes_alloc(b, len) < 0)
		return -ENOMEM;
	memcpy(b->data, s, len + 1);
	b->len = len;
	return 0;
}

static int
is_sep(int c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' ||
	    c == '\v' || c == '\f' || c == ':';
}

int
mm_parse_hex(const char *s, int wild, struct mm_bytes *b, size_t *errpos)
{
	const char *p = s;
	size_t n = 0, i;
	int hi, lo, anywild = 0;

	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X'))
		p += 2;
	if (bytes_alloc(b, strlen(p) / 2) < 0)
		return -ENOMEM;
	if ((b->mask = malloc(strlen(p) / 2 + 1)) == NULL) {
		mm_bytes_free(b);
		return -ENOMEM;
	}
	for (;;) {
		while (is_sep((unsigned char)*p))
			p++;
		if (*p == '\0')
			break;
		if (wild && p[0] == '?' && p[1] == '?') {
			b->data[n] = 0;
			b->mask[n++] = 0;
			anywild = 1;
			p += 2;
			continue;
		}
		hi = hexval((unsigned char)p[0]);
		lo = hi < 0 ? -1 : hexval((unsigned char)p[1]);
		if (hi < 0 || lo < 0) {
			if (errpos != NULL)
				*errpos = (size_t)(p - s) + (hi < 0 ? 0 : 1);
			mm_bytes_free(b);
			return -EINVAL;
		}
		b->data[n] = (unsigned char)(hi << 4 | lo);
		b->mask[n++] = 0xff;
		p += 2;
	}
	b->len = n;
	if (!anywild) {
		free(b->mask);
		b->mask = NULL;
	} else {
		for (i = 0; i < n; i++)
			b->data[i] &= b->mask[i];
	}
	return 0;
}

int
mm_bytes_file(const char *path, struct mm_bytes *b)
{
	struct mm_file f;
	int rc;

	memset(b, 0, sizeof(*b));
	if ((rc = mm_open(&f, path, MM_ACCESS_READ, 0)) < 0)
		return rc;
	/*
	 * Read, do not map: the data must stay stable while the applet
	 * writes it, even into the very file it came from.
	 */
	f.kind = f.kind == MM_KIND_MEMORY ? f.kind : MM_KIND_STREAM;
	if ((rc = mm_file_slurp(&f)) < 0) {
		mm_close(&f);
		return rc;
	}
	b->data = f.mem;
	b->len = (size_t)f.size;
	f.mem = NULL;
	mm_close(&f);
	return 0;
}

void
mm_hex_format(const unsigned char *p, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < len; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 15];
	}
	out[2 * len] = '\0';
}

int
mm_parse_io(const char *s, enum mm_io *io)
{
	if (strcmp(s, "auto") == 0)
		*io = MM_IO_AUTO;
	else if (strcmp(s, "mmap") == 0)
		*io = MM_IO_MAP;
	else if (strcmp(s, "read") == 0)
		*io = MM_IO_READ;
	else
		return -EINVAL;
	return 0;
}
