/*
 * fuzz_hex.c - mm_parse_hex, with and without wildcards, against a
 * reference written from SPEC: pairs of hex digits, whitespace and ':'
 * between pairs, a leading 0x, "??" a wildcard; an odd digit count or a
 * stray character is -EINVAL at the index of the offending character.
 * Accepted strings must also read back from mm_hex_format's output.
 */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "mm.h"
#include "fuzz.h"

static int
hexdig(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

static int
sep(int c)
{
	return c == ':' || c == ' ' || (c >= '\t' && c <= '\r');
}

/* Returns the byte count, or -1 with *ERR the offending index. */
static long
ref_hex(const char *s, int wild, unsigned char *out, unsigned char *mask,
    size_t *err)
{
	size_t i = 0;
	long n = 0;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		i = 2;
	for (;;) {
		while (sep((unsigned char)s[i]))
			i++;
		if (s[i] == '\0')
			return n;
		if (wild && s[i] == '?' && s[i + 1] == '?') {
			out[n] = 0;
			mask[n++] = 0;
		} else if (hexdig((unsigned char)s[i]) < 0) {
			*err = i;
			return -1;
		} else if (hexdig((unsigned char)s[i + 1]) < 0) {
			*err = i + 1;
			return -1;
		} else {
			out[n] = (unsigned char)(hexdig((unsigned char)s[i]) *
			    16 + hexdig((unsigned char)s[i + 1]));
			mask[n++] = 0xff;
		}
		i += 2;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_cstr(data, size), *txt;
	unsigned char *out, *mask;
	struct mm_bytes b, b2;
	size_t err = 0, werr = 0, i;
	long n;
	int wild, rc, anywild;

	out = malloc(size + 1);
	mask = malloc(size + 1);
	if (out == NULL || mask == NULL)
		abort();
	for (wild = 0; wild < 2; wild++) {
		n = ref_hex(s, wild, out, mask, &werr);
		err = SIZE_MAX;
		rc = mm_parse_hex(s, wild, &b, &err);
		if (n < 0) {
			if (rc != -EINVAL || err != werr)
				FUZZ_FAIL("'%s' (wild %d): %d at %zu, want "
				    "-EINVAL at %zu", s, wild, rc, err, werr);
			continue;
		}
		if (rc != 0 || b.len != (size_t)n)
			FUZZ_FAIL("'%s' (wild %d): %d, %zu bytes, want %ld",
			    s, wild, rc, b.len, n);
		anywild = 0;
		for (i = 0; i < b.len; i++)
			if (mask[i] == 0)
				anywild = 1;
		if (anywild != (b.mask != NULL))
			FUZZ_FAIL("'%s': mask present %d, want %d", s,
			    b.mask != NULL, anywild);
		for (i = 0; i < b.len; i++)
			if ((b.mask != NULL && b.mask[i] != mask[i]) ||
			    b.data[i] != out[i])
				FUZZ_FAIL("'%s': byte %zu differs", s, i);
		/* Formatted back, the fixed bytes read the same. */
		if (b.mask == NULL) {
			if ((txt = malloc(2 * b.len + 1)) == NULL)
				abort();
			mm_hex_format(b.data, b.len, txt);
			if (mm_parse_hex(txt, 0, &b2, NULL) != 0 ||
			    b2.len != b.len ||
			    memcmp(b2.data, b.data, b.len) != 0)
				FUZZ_FAIL("'%s' does not read back", txt);
			mm_bytes_free(&b2);
			free(txt);
		}
		mm_bytes_free(&b);
	}
	free(out);
	free(mask);
	free(s);
	return 0;
}
