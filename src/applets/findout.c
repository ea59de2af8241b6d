/*
 * findout.c - what mmfind prints of each match beyond its offset.
 *
 * The matched bytes come from the scan's own window while the match is
 * emitted (so -o works on streams too); the line around a match, its
 * context and line numbers come from the file read again, through one
 * window that follows the matches (forwards or backwards), so that a
 * million matches cost a few hundred reads, not a million.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "applet.h"
#include "findout.h"
#include "sink.h"

/* The window the file is read again through. */
#define RD_CAP		((size_t)1 << 20)
/* How much of it is kept behind where reading goes on. */
#define BEHIND		((size_t)64 << 10)
/*
 * With the scan's window in memory, only what straddles its edges is read
 * again: the request and this much around it.
 */
#define EDGE		((size_t)16 << 10)
/* Output held before it is written. */
#define OB_CAP		((size_t)256 << 10)

static uint64_t
min64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

/* ------------------------------------------------------ the bytes again */

/* Can the file be read again at any offset? */
static int
reread(const struct fo_file *u)
{
	return u->f->kind == MM_KIND_REGULAR || u->f->kind == MM_KIND_BLOCK;
}

/*
 * Read the window again so that it holds [AT, AT + N) with room around:
 * a little behind AT going forwards (the next match's line starts
 * there), most of it behind going backwards.  0 or -errno (-EIO: the
 * file shrank).
 */
static int
refill(struct fo_file *u, uint64_t at, size_t n, int backwards)
{
	uint64_t s, size = (uint64_t)u->f->size;
	size_t len, cap = RD_CAP, keep = BEHIND;
	int rc;

	if (at + n > size)
		return -EIO;
	if (u->buf == NULL && (u->buf = malloc(RD_CAP)) == NULL)
		return -ENOMEM;
	/* Measured: 1 MiB per window edge re-read the whole file for -C. */
	if (u->view.hay != NULL) {
		cap = (size_t)min64(RD_CAP, n + 2 * EDGE);
		keep = EDGE;
	}
	if (backwards)
		s = at + n > cap - keep ? at + n - (cap - keep) : 0;
	else
		s = at > keep ? at - keep : 0;
	/* The request itself fits whole, whatever room is kept around it. */
	if (s + cap < at + n)
		s = at + n - cap;
	if (s > at)
		s = at;
	len = (size_t)min64(cap, size - s);
	u->len = 0;
	if ((rc = mm_transfer(u->f->fd, u->buf, len, s, 0)) < 0)
		return rc;
	u->base = s;
	u->len = len;
	return 0;
}

/*
 * The bytes at AT (up to TO) held in memory without reading: in the
 * scan's window, the file's memory, or the window read again.  *N is 0
 * when none are.
 */
static void
held(struct fo_file *u, uint64_t at, uint64_t to, const unsigned char **p,
    size_t *n)
{
	const struct mm_scan_view *v = &u->view;

	*n = 0;
	if (v->hay != NULL && at >= v->base && at < v->base + v->len) {
		*p = v->hay + (at - v->base);
		*n = (size_t)(min64(v->base + v->len, to) - at);
	} else if (u->f->kind == MM_KIND_MEMORY &&
	    at < (uint64_t)u->f->size) {
		*p = u->f->mem + at;
		*n = (size_t)min64(min64((uint64_t)u->f->size, to) - at,
		    RD_CAP);
	} else if (u->buf != NULL && at >= u->base && at < u->base + u->len) {
		*p = u->buf + (at - u->base);
		*n = (size_t)(min64(u->base + u->len, to) - at);
	}
}

/* Bytes from AT onwards (fewer than TO - AT maybe, at least one). */
static int
ahead(struct fo_file *u, uint64_t at, uint64_t to, const unsigned char **p,
    size_t *n)
{
	int rc;

	held(u, at, to, p, n);
	if (*n > 0)
		return 0;
	if (!reread(u))
		return -ESPIPE;
	if ((rc = refill(u, at, 1, 0)) < 0)
		return rc;
	held(u, at, to, p, n);
	return 0;
}

/* Bytes that end at END (at least one; END > 0): [END - *N, END). */
static int
behind(struct fo_file *u, uint64_t end, const unsigned char **p, size_t *n)
{
	const unsigned char *q;
	size_t k;
	int rc;

	held(u, end - 1, end, &q, &k);
	if (k == 0) {
		if (!reread(u))
			return -ESPIPE;
		if ((rc = refill(u, end - 1, 1, 1)) < 0)
			return rc;
	}
	/* How far back the memory that holds END - 1 goes. */
	if (u->view.hay != NULL && end - 1 >= u->view.base &&
	    end <= u->view.base + u->view.len && k > 0) {
		*n = (size_t)min64(end - u->view.base, RD_CAP);
		*p = u->view.hay + (end - u->view.base) - *n;
	} else if (u->f->kind == MM_KIND_MEMORY) {
		*n = (size_t)min64(end, RD_CAP);
		*p = u->f->mem + end - *n;
	} else {
		*n = (size_t)(end - u->base);
		*p = u->buf;
	}
	return 0;
}

/*
 * N bytes (N <= RD_CAP) at OFF of the file into *P, in one piece.
 * 0 or -errno.
 */
static int
bytes_at(struct fo_file *u, uint64_t off, size_t n, const unsigned char **p)
{
	size_t k;
	int rc;

	if (n == 0)
		return 0;
	held(u, off, off + n, p, &k);
	if (k == n)
		return 0;
	if (!reread(u))
		return -ESPIPE;
	if ((rc = refill(u, off, n, u->len > 0 && off < u->base)) < 0)
		return rc;
	held(u, off, off + n, p, &k);
	return k == n ? 0 : -EIO;
}

/* Call FN over the bytes [FROM, TO) of the file, piece by piece. */
static int
each_piece(struct fo_file *u, uint64_t from, uint64_t to,
    int (*fn)(void *, const unsigned char *, size_t), void *arg)
{
	const unsigned char *p;
	size_t n;
	int rc;

	for (; from < to; from += n) {
		if ((rc = ahead(u, from, to, &p, &n)) < 0)
			return rc;
		if ((rc = fn(arg, p, n)) != 0)
			return rc;
	}
	return 0;
}

/* The line holding [OFF, OFF + LEN): [*LS, *LE), LE past its '\n'. */
static int
line_of(struct fo_file *u, uint64_t off, size_t len, uint64_t *ls,
    uint64_t *le)
{
	uint64_t size = (uint64_t)u->f->size, at, from;
	const unsigned char *p, *q;
	size_t n;
	int rc;

	if (u->have_line && off >= u->ls && off < u->le &&
	    off + len <= u->le) {
		*ls = u->ls;
		*le = u->le;
		return 0;
	}
	for (at = off, q = NULL; at > 0 && q == NULL; at -= n) {
		if ((rc = behind(u, at, &p, &n)) < 0)
			return rc;
		if ((q = memrchr(p, '\n', n)) != NULL)
			*ls = at - n + (uint64_t)(q - p) + 1;
	}
	if (q == NULL)
		*ls = 0;
	from = len > 0 ? off + len - 1 : off;
	for (at = from, q = NULL; at < size && q == NULL; at += n) {
		if ((rc = ahead(u, at, size, &p, &n)) < 0)
			return rc;
		if ((q = memchr(p, '\n', n)) != NULL)
			*le = at + (uint64_t)(q - p) + 1;
	}
	if (q == NULL)
		*le = size > off + len ? size : off + len;
	u->ls = *ls;
	u->le = *le;
	u->have_line = 1;
	return 0;
}

static int
count_nl(void *arg, const unsigned char *p, size_t n)
{
	const unsigned char *end = p + n, *q;
	uint64_t *c = arg;

	/* Lines are tens of bytes: memchr's stride, not a byte loop. */
	for (; (q = memchr(p, '\n', (size_t)(end - p))) != NULL; p = q + 1)
		++*c;
	return 0;
}

/* The number of the line that starts at LS (1 for the first). */
static int
line_number(struct fo_file *u, uint64_t ls, uint64_t *num)
{
	uint64_t c = 0;
	int rc;

	if (ls >= u->nl_pos) {
		rc = each_piece(u, u->nl_pos, ls, count_nl, &c);
		u->nl_count += c;
	} else {
		rc = each_piece(u, ls, u->nl_pos, count_nl, &c);
		u->nl_count -= c;
	}
	if (rc < 0)
		return rc;
	u->nl_pos = ls;
	*num = u->nl_count + 1;
	return 0;
}

/* ------------------------------------------------------------ output */

/* What put() holds goes out: before other output, and at the end. */
static int
flush_out(struct fo_file *u, int *outerr)
{
	int rc = 0;

	if (u->obn > 0 && (rc = app_write(u->ob, u->obn)) < 0)
		*outerr = 1;
	u->obn = 0;
	return rc;
}

/*
 * Room at *O for N (<= OB_CAP) more bytes of output: the forms write
 * there, then say with used() how much they wrote.  One write() for many
 * small pieces, and no copy through a buffer of their own.
 */
static int
room(struct fo_file *u, int *outerr, size_t n, char **o)
{
	int rc;

	if (u->ob == NULL && (u->ob = malloc(OB_CAP)) == NULL)
		return -ENOMEM;
	if (u->obn + n > OB_CAP && (rc = flush_out(u, outerr)) < 0)
		return rc;
	*o = (char *)u->ob + u->obn;
	return 0;
}

static void
used(struct fo_file *u, size_t n)
{
	u->obn += n;
	u->printed += n;
}

static int
put(struct fo_file *u, int *outerr, const void *p, size_t n)
{
	char *o;
	int rc;

	if (n >= OB_CAP) {
		if ((rc = flush_out(u, outerr)) < 0)
			return rc;
		u->printed += n;
		if ((rc = app_write(p, n)) < 0)
			*outerr = 1;
		return rc;
	}
	if ((rc = room(u, outerr, n, &o)) < 0)
		return rc;
	memcpy(o, p, n);
	used(u, n);
	return 0;
}

/* The sink's output (-C) joins the rest. */
static int
put_sink(void *arg, const void *p, size_t n)
{
	struct fo_wr *w = arg;

	return put(w->u, w->outerr, p, n);
}

static int
puts_(struct fo_file *u, int *outerr, const char *s)
{
	return put(u, outerr, s, strlen(s));
}

/*
 * P[0..N) coded by CODE straight into the output, in pieces: PER is the
 * most bytes CODE writes for one (pieces are a multiple of three bytes,
 * as base64 wants, but for the last).
 */
static int
put_coded(struct fo_file *u, int *outerr, const unsigned char *p, size_t n,
    size_t per, char *(*code)(char *, const unsigned char *, size_t))
{
	size_t c, most = (OB_CAP - 8) / per / 3 * 3;
	char *o;
	int rc;

	for (; n > 0; p += c, n -= c) {
		c = n < most ? n : most;
		if ((rc = room(u, outerr, per * c + 8, &o)) < 0)
			return rc;
		used(u, (size_t)(code(o, p, c) - o));
	}
	return 0;
}

/* P[0..N) as -o shows it: C escapes, so that one match is one line. */
static char *
c_escape(char *o, const unsigned char *p, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t i;
	unsigned char c;

	for (i = 0; i < n; i++) {
		c = p[i];
		if (c == '\n' || c == '\t' || c == '\\') {
			*o++ = '\\';
			*o++ = c == '\n' ? 'n' : c == '\t' ? 't' : '\\';
		} else if (c >= 0x20 && c < 0x7f)
			*o++ = (char)c;
		else {
			*o++ = '\\';
			*o++ = 'x';
			*o++ = hex[c >> 4];
			*o++ = hex[c & 15];
		}
	}
	return o;
}

/* P[0..N) as -X shows it: hex pairs. */
static char *
hex_pairs(char *o, const unsigned char *p, size_t n)
{
	mm_hex_format(p, n, o);
	return o + 2 * n;
}

/* Bytes as -o prints them: escaped text, or hex with -X. */
static int
put_bytes(void *arg, const unsigned char *p, size_t n)
{
	struct fo_wr *w = arg;

	return put_coded(w->u, w->outerr, p, n, 4,
	    w->hex ? hex_pairs : c_escape);
}

static int
put_raw(void *arg, const unsigned char *p, size_t n)
{
	struct fo_wr *w = arg;

	return put(w->u, w->outerr, p, n);
}

/* V in decimal at the end of B (>= 21 bytes); returns its start. */
static char *
u64_dec(uint64_t v, char *end)
{
	static const char pairs[] =
	    "00010203040506070809101112131415161718192021222324"
	    "25262728293031323334353637383940414243444546474849"
	    "50515253545556575859606162636465666768697071727374"
	    "75767778798081828384858687888990919293949596979899";
	char *q = end;

	/* Two digits a division: offsets and line numbers, millions. */
	for (; v >= 100; v /= 100) {
		q -= 2;
		memcpy(q, pairs + 2 * (v % 100), 2);
	}
	if (v >= 10) {
		q -= 2;
		memcpy(q, pairs + 2 * v, 2);
	} else
		*--q = (char)('0' + v);
	return q;
}

/* The string S at O; returns the end. */
static char *
str(char *o, const char *s)
{
	size_t n = strlen(s);

	memcpy(o, s, n);
	return o + n;
}

/* V in decimal at O; returns the end. */
static char *
dec(char *o, uint64_t v)
{
	char b[24], *q = u64_dec(v, b + sizeof(b));

	memcpy(o, q, (size_t)(b + sizeof(b) - q));
	return o + (b + sizeof(b) - q);
}

static int
put_offset(struct fo_file *u, int *outerr, uint64_t off, const char *end)
{
	char *o, *e;
	int i, rc;

	if ((rc = put(u, outerr, u->prefix, u->prefix_len)) < 0 ||
	    (rc = room(u, outerr, 32, &o)) < 0)
		return rc;
	if (u->o->hex_radix) {
		e = str(o, "0x");
		for (i = 60; i > 0 && (off >> i) == 0; i -= 4)
			;
		for (; i >= 0; i -= 4)
			*e++ = "0123456789abcdef"[(off >> i) & 15];
	} else
		e = dec(o, off);
	used(u, (size_t)(str(e, end) - o));
	return 0;
}

/* The matched bytes: in the scan's window, in a hole, or read again. */
static int
match_bytes(struct fo_file *u, uint64_t off, size_t len, struct fo_wr *w)
{
	static const unsigned char z[4096];
	size_t n;
	int rc;

	if (u->view.hay == NULL && u->view.zeros) {
		for (; len > 0; len -= n) {
			n = len < sizeof(z) ? len : sizeof(z);
			if ((rc = put_bytes(w, z, n)) < 0)
				return rc;
		}
		return 0;
	}
	return each_piece(u, off, off + len, put_bytes, w);
}

/* -o: OFFSET:BYTES. */
static int
only(struct fo_file *u, uint64_t off, size_t len, int *outerr)
{
	struct fo_wr w = { u, outerr, u->o->hex };
	int rc;

	if ((rc = put_offset(u, outerr, off, ":")) < 0 ||
	    (rc = match_bytes(u, off, len, &w)) < 0)
		return rc;
	return puts_(u, outerr, "\n");
}

/* --line: OFFSET:LINE, the line as it is, ended by one '\n'. */
static int
line(struct fo_file *u, uint64_t off, size_t len, int *outerr)
{
	struct fo_wr w = { u, outerr, 0 };
	uint64_t ls, le;
	const unsigned char *p;
	int rc;

	if ((rc = line_of(u, off, len, &ls, &le)) < 0 ||
	    (rc = put_offset(u, outerr, off, ":")) < 0 ||
	    (rc = each_piece(u, ls, le, put_raw, &w)) < 0)
		return rc;
	if (le > ls && (rc = bytes_at(u, le - 1, 1, &p)) < 0)
		return rc;
	if (le == ls || *p != '\n')
		return puts_(u, outerr, "\n");
	return 0;
}

/* ------------------------------------------------------------ context */

/* The span gathered so far, as hexdump -C -s CS -n (CE - CS) prints it. */
static int
span_flush(struct fo_file *u, int *outerr)
{
	struct sink *s;
	const unsigned char *p;
	uint64_t at;
	size_t n;
	int rc = 0;

	if (!u->have_span)
		return 0;
	u->have_span = 0;
	if (u->any_span && (rc = puts_(u, outerr, "--\n")) < 0)
		return rc;
	u->any_span = 1;
	if (u->prefix_len > 0 &&
	    ((rc = put(u, outerr, u->prefix, u->prefix_len)) < 0 ||
	    (rc = puts_(u, outerr, "\n")) < 0))
		return rc;
	if (u->sk == NULL && (u->sk = malloc(sizeof(*u->sk))) == NULL)
		return -ENOMEM;
	s = u->sk;
	sink_start(s, FMT_HEXDUMP, u->cs);
	u->skw.u = u;
	u->skw.outerr = outerr;
	s->out = put_sink;
	s->out_arg = &u->skw;
	for (at = u->cs; at < u->ce && rc == 0; at += n) {
		n = (size_t)min64(RD_CAP, u->ce - at);
		if ((rc = bytes_at(u, at, n, &p)) < 0)
			return rc;
		rc = sink_put(s, p, n);
	}
	return rc == 0 ? sink_end(s, u->cs, 0) : rc;
}

/* -A/-B/-C: spans that touch or overlap are one group. */
static int
context(struct fo_file *u, uint64_t off, size_t len, int *outerr)
{
	uint64_t size = (uint64_t)u->f->size;
	uint64_t cs = off > u->o->before ? off - u->o->before : 0;
	uint64_t ce = off + len + min64(u->o->after, size - (off + len));
	int rc;

	if (u->have_span && cs <= u->ce && ce >= u->cs) {
		u->cs = min64(u->cs, cs);
		u->ce = ce > u->ce ? ce : u->ce;
		return 0;
	}
	if ((rc = span_flush(u, outerr)) < 0)
		return rc;
	u->cs = cs;
	u->ce = ce;
	u->have_span = 1;
	return 0;
}

/* ------------------------------------------------------------ JSON */

#define ONES	0x0101010101010101ull
#define HIGHS	0x8080808080808080ull

/* Is P[0..N) well-formed UTF-8? */
static int
utf8_ok(const unsigned char *p, size_t n)
{
	size_t i = 0, k;
	uint64_t x;
	unsigned c;

	while (i < n) {
		/* Text is mostly ASCII: eight bytes at a time. */
		if (n - i >= 8) {
			memcpy(&x, p + i, 8);
			if ((x & HIGHS) == 0) {
				i += 8;
				continue;
			}
		}
		c = p[i];
		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			k = 1;
		else if (c >= 0xe0 && c <= 0xef)
			k = 2;
		else if (c >= 0xf0 && c <= 0xf4)
			k = 3;
		else
			return 0;
		if (n - i <= k)
			return 0;
		/* No overlong forms, no surrogates, nothing past U+10FFFF. */
		if ((c == 0xe0 && p[i + 1] < 0xa0) ||
		    (c == 0xed && p[i + 1] > 0x9f) ||
		    (c == 0xf0 && p[i + 1] < 0x90) ||
		    (c == 0xf4 && p[i + 1] > 0x8f))
			return 0;
		for (i++; k > 0; k--, i++)
			if ((p[i] & 0xc0) != 0x80)
				return 0;
	}
	return 1;
}

/* Does the word X hold a byte JSON escapes: '"', '\\' or one below 0x20? */
static int
has_escape(uint64_t x)
{
	uint64_t q = x ^ (ONES * '"'), b = x ^ (ONES * '\\');

	/* The first flagged byte is exact; the caller then goes bytewise. */
	return ((((x - ONES * 0x20) & ~x) | ((q - ONES) & ~q) |
	    ((b - ONES) & ~b)) & HIGHS) != 0;
}

/* C as a JSON string holds it, at O (up to 6 bytes); returns the end. */
static char *
json_char(char *o, unsigned char c)
{
	static const char hex[] = "0123456789abcdef";

	if (c >= 0x20 && c != '"' && c != '\\') {
		*o = (char)c;
		return o + 1;
	}
	o[0] = '\\';
	switch (c) {
	case '"':
	case '\\':
		o[1] = (char)c;
		return o + 2;
	case '\n':
		o[1] = 'n';
		return o + 2;
	case '\t':
		o[1] = 't';
		return o + 2;
	case '\r':
		o[1] = 'r';
		return o + 2;
	case '\b':
		o[1] = 'b';
		return o + 2;
	case '\f':
		o[1] = 'f';
		return o + 2;
	}
	memcpy(o + 1, "u00", 3);
	o[4] = hex[c >> 4];
	o[5] = hex[c & 15];
	return o + 6;
}

/* P[0..N) escaped for a JSON string at O (6 * N bytes); returns the end. */
static char *
json_esc(char *o, const unsigned char *p, size_t n)
{
	size_t i = 0, k;
	uint64_t x;

	for (; n - i >= 8; i += 8) {
		memcpy(&x, p + i, 8);
		if (!has_escape(x)) {
			memcpy(o, &x, 8);
			o += 8;
		} else
			for (k = 0; k < 8; k++)
				o = json_char(o, p[i + k]);
	}
	for (; i < n; i++)
		o = json_char(o, p[i]);
	return o;
}

/*
 * Base64 of P[0..N) at O (4 * ceil(N / 3) bytes); returns the end.
 * Pieces of one value hold a multiple of three bytes but for the last.
 */
static char *
b64(char *o, const unsigned char *p, size_t n)
{
	static const char d[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t i;
	unsigned v;

	for (i = 0; i < n; i += 3) {
		v = (unsigned)p[i] << 16;
		if (i + 1 < n)
			v |= (unsigned)p[i + 1] << 8;
		if (i + 2 < n)
			v |= p[i + 2];
		*o++ = d[v >> 18];
		*o++ = d[(v >> 12) & 63];
		*o++ = i + 1 < n ? d[(v >> 6) & 63] : '=';
		*o++ = i + 2 < n ? d[v & 63] : '=';
	}
	return o;
}

/* Text as a JSON string holds it, straight into the output. */
static int
json_text(void *arg, const unsigned char *p, size_t n)
{
	struct fo_wr *w = arg;

	return put_coded(w->u, w->outerr, p, n, 6, json_esc);
}

/*
 * {"text":"..."} for UTF-8, else {"bytes":"BASE64"}; with -X also
 * "hex":"...".  Pieces hold a multiple of three bytes but for the last,
 * and a UTF-8 sequence cut between pieces is checked whole: the bytes
 * are checked in pieces that end at a character's end.
 */
static int
json_bytes(struct fo_file *u, uint64_t from, uint64_t to, int hex,
    int *outerr)
{
	struct fo_wr w = { u, outerr, 0 };
	const unsigned char *p;
	uint64_t at;
	size_t n, cut;
	char *o, *s;
	int rc, text = 1;

	/* A line or a match of text, as most are: checked and written whole. */
	n = (size_t)(to - from);
	if (n <= OB_CAP / 16) {
		if ((rc = bytes_at(u, from, n, &p)) < 0)
			return rc;
		if (utf8_ok(p, n)) {
			if ((rc = room(u, outerr, 8 * n + 32, &o)) < 0)
				return rc;
			s = json_esc(str(o, "{\"text\":\""), p, n);
			if (hex) {
				s = str(s, "\",\"hex\":\"");
				mm_hex_format(p, n, s);
				s += 2 * n;
			}
			s = str(s, "\"}");
			used(u, (size_t)(s - o));
			return 0;
		}
	}
	for (at = from; at < to && text; at += cut) {
		n = (size_t)min64(RD_CAP, to - at);
		if ((rc = bytes_at(u, at, n, &p)) < 0)
			return rc;
		/* Back to the start of a character, unless at the end. */
		cut = n;
		if (at + n < to)
			while (cut > 0 && n - cut < 4 &&
			    (p[cut - 1] & 0xc0) == 0x80)
				cut--;
		if (at + n < to && cut > 0 && p[cut - 1] >= 0xc0)
			cut--;
		if (cut == 0)
			cut = n;
		text = utf8_ok(p, cut);
	}
	if ((rc = puts_(u, outerr, text ? "{\"text\":\"" : "{\"bytes\":\"")) < 0)
		return rc;
	if (text)
		rc = each_piece(u, from, to, json_text, &w);
	else
		for (at = from; at < to && rc == 0; at += n) {
			n = (size_t)min64(RD_CAP - RD_CAP % 3, to - at);
			if ((rc = bytes_at(u, at, n, &p)) == 0)
				rc = put_coded(u, outerr, p, n, 2, b64);
		}
	if (rc == 0 && hex) {
		w.hex = 1;
		if ((rc = puts_(u, outerr, "\",\"hex\":\"")) == 0)
			rc = each_piece(u, from, to, put_bytes, &w);
	}
	return rc < 0 ? rc : puts_(u, outerr, "\"}");
}

/*
 * A path: {"text":...}, or {"bytes":...} when it is not UTF-8; made once
 * a file, printed with every message.
 */
static int
json_path(struct fo_file *u, int *outerr)
{
	const unsigned char *p = (const unsigned char *)u->name;
	size_t n = strlen(u->name);
	char *o;

	if (u->jpath == NULL) {
		if ((u->jpath = malloc(6 * n + 16)) == NULL)
			return -ENOMEM;
		if (utf8_ok(p, n)) {
			o = stpcpy(u->jpath, "{\"text\":\"");
			o = json_esc(o, p, n);
		} else {
			o = stpcpy(u->jpath, "{\"bytes\":\"");
			o = b64(o, p, n);
		}
		o = stpcpy(o, "\"}");
		u->jpath_len = (size_t)(o - u->jpath);
	}
	return put(u, outerr, u->jpath, u->jpath_len);
}

static int
json_begin(struct fo_file *u, int *outerr)
{
	int rc;

	u->begun = 1;
	if ((rc = puts_(u, outerr, "{\"type\":\"begin\",\"data\":{\"path\":")) <
	    0 || (rc = json_path(u, outerr)) < 0)
		return rc;
	return puts_(u, outerr, "}}\n");
}

/* The gathered line group as one "match" message. */
static int
json_flush(struct fo_file *u, int *outerr)
{
	const struct fo_sub *sub;
	const unsigned char *p;
	uint64_t num, nl;
	size_t i, k;
	char *o, *e;
	int rc;

	if (u->nsubs == 0)
		return 0;
	if (!u->begun && (rc = json_begin(u, outerr)) < 0)
		return rc;
	if ((rc = line_number(u, u->gs, &num)) < 0 ||
	    (rc = puts_(u, outerr, "{\"type\":\"match\",\"data\":{\"path\":")) <
	    0 || (rc = json_path(u, outerr)) < 0 ||
	    (rc = puts_(u, outerr, ",\"lines\":")) < 0 ||
	    (rc = json_bytes(u, u->gs, u->ge, 0, outerr)) < 0 ||
	    (rc = room(u, outerr, 128, &o)) < 0)
		return rc;
	e = dec(str(o, ",\"line_number\":"), num);
	e = dec(str(e, ",\"absolute_offset\":"), u->gs);
	used(u, (size_t)(str(e, ",\"submatches\":[") - o));
	for (i = 0; i < u->nsubs; i++) {
		/* In file order, whichever way the scan went. */
		sub = &u->subs[u->subs[0].off > u->subs[u->nsubs - 1].off ?
		    u->nsubs - 1 - i : i];
		if ((rc = puts_(u, outerr, i ? ",{\"match\":" :
		    "{\"match\":")) < 0 ||
		    (rc = json_bytes(u, sub->off, sub->off + sub->len,
		    u->o->hex, outerr)) < 0)
			return rc;
		k = 0;
		if (u->o->npats > 1 && sub->len <= RD_CAP &&
		    (rc = bytes_at(u, sub->off, sub->len, &p)) == 0)
			k = fo_which(u->o, p, sub->len);
		if (rc < 0 || (rc = room(u, outerr, 128, &o)) < 0)
			return rc;
		e = dec(str(o, ",\"start\":"), sub->off - u->gs);
		e = dec(str(e, ",\"end\":"), sub->off + sub->len - u->gs);
		e = dec(str(e, ",\"pattern\":"), k);
		used(u, (size_t)(str(e, "}") - o));
	}
	/* As ripgrep counts them: every line the group spans. */
	nl = 0;
	if (u->ge > u->gs) {
		if ((rc = each_piece(u, u->gs, u->ge, count_nl, &nl)) < 0 ||
		    (rc = bytes_at(u, u->ge - 1, 1, &p)) < 0)
			return rc;
		nl += *p != '\n';
	}
	u->lines += nl > 0 ? nl : 1;
	u->nsubs = 0;
	return puts_(u, outerr, "]}}\n");
}

static int
json_match(struct fo_file *u, uint64_t off, size_t len, int *outerr)
{
	uint64_t ls, le;
	void *q;
	int rc;

	if ((rc = line_of(u, off, len, &ls, &le)) < 0)
		return rc;
	if (u->nsubs > 0 && (ls >= u->ge || le <= u->gs) &&
	    (rc = json_flush(u, outerr)) < 0)
		return rc;
	if (u->nsubs == 0) {
		u->gs = ls;
		u->ge = le;
	}
	u->gs = min64(u->gs, ls);
	u->ge = le > u->ge ? le : u->ge;
	if (u->nsubs == u->subcap) {
		size_t cap = u->subcap ? 2 * u->subcap : 16;

		if ((q = realloc(u->subs, cap * sizeof(*u->subs))) == NULL)
			return -ENOMEM;
		u->subs = q;
		u->subcap = cap;
	}
	u->subs[u->nsubs].off = off;
	u->subs[u->nsubs++].len = len;
	u->matches++;
	return 0;
}

/* Time since T0 as ripgrep's "elapsed" object. */
static void
elapsed(const struct timespec *t0, char *b, size_t n)
{
	struct timespec t;
	uint64_t ns;

	clock_gettime(CLOCK_MONOTONIC, &t);
	ns = (uint64_t)(t.tv_sec - t0->tv_sec) * 1000000000u +
	    (uint64_t)t.tv_nsec - (uint64_t)t0->tv_nsec;
	snprintf(b, n, "{\"secs\":%" PRIu64 ",\"nanos\":%" PRIu64
	    ",\"human\":\"%.6fs\"}", ns / 1000000000u, ns % 1000000000u,
	    (double)ns / 1e9);
}

/* The run's totals, for the summary; files may end on several threads. */
static uint64_t	tot_printed, tot_searched, tot_lines, tot_matches;
static uint64_t	tot_searches, tot_with;

static void
add(uint64_t *t, uint64_t v)
{
	__atomic_add_fetch(t, v, __ATOMIC_RELAXED);
}

static int
json_end(struct fo_file *u, int *outerr)
{
	char b[512], el[128];
	uint64_t searched = u->end > u->start ? u->end - u->start : 0;
	uint64_t printed;
	int rc;

	if ((rc = json_flush(u, outerr)) < 0)
		return rc;
	add(&tot_searches, 1);
	add(&tot_searched, searched);
	if (!u->begun)
		return 0;
	elapsed(&u->t0, el, sizeof(el));
	printed = u->printed;
	if ((rc = puts_(u, outerr, "{\"type\":\"end\",\"data\":{\"path\":")) <
	    0 || (rc = json_path(u, outerr)) < 0)
		return rc;
	snprintf(b, sizeof(b), ",\"binary_offset\":null,\"stats\":{"
	    "\"elapsed\":%s,\"searches\":1,\"searches_with_match\":1,"
	    "\"bytes_searched\":%" PRIu64 ",\"bytes_printed\":%" PRIu64
	    ",\"matched_lines\":%" PRIu64 ",\"matches\":%" PRIu64 "}}}\n",
	    el, searched, printed, u->lines, u->matches);
	rc = puts_(u, outerr, b);
	add(&tot_with, 1);
	add(&tot_printed, printed);
	add(&tot_lines, u->lines);
	add(&tot_matches, u->matches);
	return rc;
}

int
fo_summary(const struct timespec *t0)
{
	char b[640], el[128];

	elapsed(t0, el, sizeof(el));
	snprintf(b, sizeof(b), "{\"data\":{\"elapsed_total\":%s,\"stats\":{"
	    "\"bytes_printed\":%" PRIu64 ",\"bytes_searched\":%" PRIu64
	    ",\"elapsed\":%s,\"matched_lines\":%" PRIu64 ",\"matches\":%"
	    PRIu64 ",\"searches\":%" PRIu64 ",\"searches_with_match\":%"
	    PRIu64 "}},\"type\":\"summary\"}\n", el, tot_printed,
	    tot_searched, el, tot_lines, tot_matches, tot_searches, tot_with);
	return app_write(b, strlen(b));
}

/* ------------------------------------------------------------ entry */

int
fo_rereads(const struct fo_opts *o)
{
	return o->form == FO_LINE || o->form == FO_CONTEXT ||
	    o->form == FO_JSON;
}

/* Does P[0..LEN) match pattern B (its wildcards, -i)? */
static int
pat_matches(const struct mm_bytes *b, const unsigned char *p, size_t len,
    int icase)
{
	size_t i;
	unsigned char x, y;

	if (b->len != len)
		return 0;
	for (i = 0; i < len; i++) {
		if (b->mask != NULL && b->mask[i] == 0)
			continue;
		x = p[i];
		y = b->data[i];
		if (icase) {
			x = (unsigned char)(x >= 'A' && x <= 'Z' ? x + 32 : x);
			y = (unsigned char)(y >= 'A' && y <= 'Z' ? y + 32 : y);
		}
		if (x != y)
			return 0;
	}
	return 1;
}

size_t
fo_which(const struct fo_opts *o, const unsigned char *p, size_t len)
{
	size_t i;

	for (i = 0; i < o->npats; i++)
		if (pat_matches(&o->pats[i], p, len, o->icase))
			return i;
	return 0;
}

void
fo_begin(struct fo_file *u, const struct fo_opts *o, const char *name,
    const char *prefix, size_t prefix_len, struct mm_file *f, uint64_t start,
    uint64_t end)
{
	memset(u, 0, sizeof(*u));
	u->o = o;
	u->name = name;
	u->prefix = prefix;
	u->prefix_len = prefix_len;
	u->f = f;
	u->start = start;
	u->end = end;
	clock_gettime(CLOCK_MONOTONIC, &u->t0);
}

int
fo_match(struct fo_file *u, uint64_t off, size_t len, int *outerr)
{
	switch (u->o->form) {
	case FO_OFFSET:
		return put_offset(u, outerr, off, "\n");
	case FO_ONLY:
		return only(u, off, len, outerr);
	case FO_LINE:
		return line(u, off, len, outerr);
	case FO_CONTEXT:
		return context(u, off, len, outerr);
	case FO_JSON:
		return json_match(u, off, len, outerr);
	}
	return 0;
}

int
fo_end(struct fo_file *u, int *outerr)
{
	/* What is gathered is in the file, not in a scan's window now. */
	int rc = 0;

	memset(&u->view, 0, sizeof(u->view));
	if (u->o->form == FO_CONTEXT)
		rc = span_flush(u, outerr);
	else if (u->o->form == FO_JSON)
		rc = json_end(u, outerr);
	if (rc == 0)
		rc = flush_out(u, outerr);
	return rc;
}

void
fo_free(struct fo_file *u)
{
	int outerr;

	/* Whatever was printed before an error goes out before its message. */
	flush_out(u, &outerr);
	free(u->ob);
	free(u->sk);
	free(u->buf);
	free(u->subs);
	free(u->jpath);
	u->buf = NULL;
	u->subs = NULL;
}
