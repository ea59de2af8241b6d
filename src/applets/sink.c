/*
 * sink.c - bytes to standard output raw, as hex, or as hexdump -C.
 */
#include "config.h"

#include <stddef.h>
#include <string.h>

#include "applet.h"
#include "sink.h"

static int
emit(struct sink *s, const void *p, size_t len)
{
	return s->out != NULL ? s->out(s->out_arg, p, len) : app_write(p, len);
}

/* Every byte as two hex digits. */
static const char pairs[] =
    "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
    "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f"
    "404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f"
    "606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f"
    "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f"
    "a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf"
    "c0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedf"
    "e0e1e2e3e4e5e6e7e8e9eaebecedeeeff0f1f2f3f4f5f6f7f8f9fafbfcfdfeff";

/* AT in hex, at least 8 digits, as hexdump prints offsets. */
static char *
offset_hex(char *o, uint64_t at)
{
	static const char hex[] = "0123456789abcdef";
	int i, n = 8;

	if (at <= 0xffffffff) {
		for (i = 0; i < 4; i++)
			memcpy(o + 2 * i, pairs + 2 * ((at >> (24 - 8 * i)) & 255),
			    2);
		return o + 8;
	}
	while (n < 16 && at >> (4 * n) != 0)
		n++;
	for (i = 0; i < n; i++)
		o[i] = hex[(at >> (4 * (n - 1 - i))) & 15];
	return o + n;
}

static int
hexdump_line(struct sink *s, const unsigned char *p, size_t n, uint64_t at)
{
	char out[96], *o;
	size_t i;

	/* By hand, not printf per byte: mmfind -C, mmread - print millions. */
	o = offset_hex(out, at);
	/* The hex columns: blanks first, then the digits of N bytes. */
	memset(o, ' ', 52);
	for (i = 0; i < n; i++)
		memcpy(o + 2 + 3 * i + (i >= 8), pairs + 2 * p[i], 2);
	o += 52;
	*o++ = '|';
	for (i = 0; i < n; i++)
		o[i] = (unsigned char)(p[i] - 0x20) < 0x5f ? (char)p[i] : '.';
	o += n;
	*o++ = '|';
	*o++ = '\n';
	return emit(s, out, (size_t)(o - out));
}

/* A full 16-byte line: printed, or squeezed to "*" like hexdump. */
static int
hexdump_full(struct sink *s, const unsigned char *p, uint64_t at)
{
	int rc = 0;

	if (s->have_prev && memcmp(p, s->prev, 16) == 0) {
		if (!s->squeezing)
			rc = emit(s, "*\n", 2);
		s->squeezing = 1;
		return rc;
	}
	s->squeezing = 0;
	memcpy(s->prev, p, 16);
	s->have_prev = 1;
	return hexdump_line(s, p, 16, at);
}

void
sink_start(struct sink *s, enum format fmt, uint64_t addr)
{
	memset(s, 0, offsetof(struct sink, buf));
	s->fmt = fmt;
	s->addr = addr;
	s->out = NULL;
}

int
sink_put(struct sink *s, const unsigned char *p, size_t len)
{
	size_t n;
	int rc = 0;

	if (len > 0)
		s->any = 1;
	switch (s->fmt) {
	case FMT_RAW:
		/*
		 * Mapped bytes are copied through a buffer of our own: a
		 * fault on a shrunken file then happens here, under the
		 * SIGBUS guard, and not as EFAULT inside write().
		 */
		if (s->direct) {
			rc = emit(s, p, len);
			break;
		}
		for (; len > 0 && rc == 0; p += n, len -= n) {
			n = len < BOUNCE ? len : BOUNCE;
			memcpy(s->buf, p, n);
			rc = emit(s, s->buf, n);
		}
		break;
	case FMT_HEX:
		for (; len > 0 && rc == 0; p += n, len -= n) {
			n = len < BOUNCE / 2 ? len : BOUNCE / 2 - 1;
			mm_hex_format(p, n, (char *)s->buf);
			rc = emit(s, s->buf, 2 * n);
		}
		break;
	case FMT_HEXDUMP:
		while (len > 0 && rc == 0) {
			if (s->fill == 0 && len >= 16) {
				rc = hexdump_full(s, p, s->addr);
				n = 16;
			} else {
				n = 16 - s->fill < len ? 16 - s->fill : len;
				memcpy(s->line + s->fill, p, n);
				s->fill += n;
				if (s->fill == 16) {
					rc = hexdump_full(s, s->line,
					    s->addr - (16 - n));
					s->fill = 0;
				}
			}
			s->addr += n;
			p += n;
			len -= n;
		}
		return rc;
	}
	s->addr += len;
	return rc;
}

int
sink_zeros(struct sink *s, uint64_t len)
{
	static const unsigned char z[16];
	uint64_t n;
	int rc = 0;

	while (len > 0 && rc == 0) {
		if (s->fill == 0 && s->squeezing &&
		    memcmp(s->prev, z, 16) == 0 && len >= 16) {
			n = len - len % 16;
			s->addr += n;
			len -= n;
			continue;
		}
		n = len < 16 ? len : 16 - s->fill;
		if (n > len)
			n = len;
		rc = sink_put(s, z, (size_t)n);
		len -= n;
	}
	return rc;
}

int
sink_end(struct sink *s, uint64_t start, int count_zero)
{
	char b[24], *o;
	int rc = 0;

	if (s->fmt == FMT_HEX)
		return emit(s, "\n", 1);
	if (s->fmt != FMT_HEXDUMP || count_zero)
		return 0;
	if (s->fill > 0)
		rc = hexdump_line(s, s->line, s->fill, s->addr - s->fill);
	/* hexdump prints the end offset unless nothing at all was shown. */
	if (rc == 0 && (s->any || start > 0)) {
		o = offset_hex(b, s->addr);
		*o++ = '\n';
		rc = emit(s, b, (size_t)(o - b));
	}
	return rc;
}
