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
/* A chunk of output built before it is written. */
#define OUT_CAP		4096
/* Output held before it is written. */
#define OB_CAP		((size_t)64 << 10)

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
	size_t len;
	int rc;

	if (at + n > size)
		return -EIO;
	if (u->buf == NULL && (u->buf = malloc(RD_CAP)) == NULL)
		return -ENOMEM;
	if (backwards)
		s = at + n > RD_CAP - BEHIND ? at + n - (RD_CAP - BEHIND) : 0;
	else
		s = at > BEHIND ? at - BEHIND : 0;
	/* The request itself fits whole, whatever room is kept around it. */
	if (s + RD_CAP < at + n)
		s = at + n - RD_CAP;
	if (s > at)
		s = at;
	len = (size_t)min64(RD_CAP, size - s);
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
	uint64_t *c = arg, k = 0;
	size_t i;

	for (i = 0; i < n; i++)
		k += p[i] == '\n';
	*c += k;
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

/* Output counted for --json's statistics; OUTERR says it was output. */
struct wr {
	struct fo_file	*u;
	int		*outerr;
	int		 hex;		/* put_bytes: hex, not escaped text */
};

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

/* Output gathered into whole blocks: one write for many small pieces. */
static int
put(struct fo_file *u, int *outerr, const void *p, size_t n)
{
	int rc;

	u->printed += n;
	if (u->ob == NULL && (u->ob = malloc(OB_CAP)) == NULL)
		return -ENOMEM;
	if (u->obn + n > OB_CAP && (rc = flush_out(u, outerr)) < 0)
		return rc;
	if (n >= OB_CAP) {
		if ((rc = app_write(p, n)) < 0)
			*outerr = 1;
		return rc;
	}
	memcpy(u->ob + u->obn, p, n);
	u->obn += n;
	return 0;
}

static int
puts_(struct fo_file *u, int *outerr, const char *s)
{
	return put(u, outerr, s, strlen(s));
}

/* A byte as -o shows it: C escapes, so that one match is one line. */
static size_t
c_escape(unsigned char c, char *o)
{
	static const char hex[] = "0123456789abcdef";

	if (c == '\n' || c == '\t' || c == '\\') {
		o[0] = '\\';
		o[1] = c == '\n' ? 'n' : c == '\t' ? 't' : '\\';
		return 2;
	}
	if (c >= 0x20 && c < 0x7f) {
		o[0] = (char)c;
		return 1;
	}
	o[0] = '\\';
	o[1] = 'x';
	o[2] = hex[c >> 4];
	o[3] = hex[c & 15];
	return 4;
}

/* Bytes as -o prints them: escaped text, or hex with -X. */
static int
put_bytes(void *arg, const unsigned char *p, size_t n)
{
	struct wr *w = arg;
	char out[OUT_CAP + 8];
	size_t i, k = 0;
	int rc;

	for (i = 0; i < n; i++) {
		if (w->hex) {
			mm_hex_format(p + i, 1, out + k);
			k += 2;
		} else
			k += c_escape(p[i], out + k);
		if (k >= OUT_CAP) {
			if ((rc = put(w->u, w->outerr, out, k)) < 0)
				return rc;
			k = 0;
		}
	}
	return k > 0 ? put(w->u, w->outerr, out, k) : 0;
}

static int
put_raw(void *arg, const unsigned char *p, size_t n)
{
	struct wr *w = arg;

	return put(w->u, w->outerr, p, n);
}

/* V in decimal at the end of B (>= 21 bytes); returns its start. */
static char *
u64_dec(uint64_t v, char *end)
{
	char *q = end;

	do
		*--q = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	return q;
}

/* S, then V in decimal: a JSON key and its number. */
static int
put_num(struct fo_file *u, int *outerr, const char *s, uint64_t v)
{
	char b[24], *q = u64_dec(v, b + sizeof(b));
	int rc;

	if ((rc = puts_(u, outerr, s)) < 0)
		return rc;
	return put(u, outerr, q, (size_t)(b + sizeof(b) - q));
}

static int
put_offset(struct fo_file *u, int *outerr, uint64_t off, const char *end)
{
	char b[24], *q = b;
	int rc;

	if ((rc = put(u, outerr, u->prefix, u->prefix_len)) < 0)
		return rc;
	if (u->o->hex_radix)
		snprintf(b, sizeof(b), "0x%" PRIx64, off);
	else {
		q = u64_dec(off, b + sizeof(b) - 1);
		b[sizeof(b) - 1] = '\0';
	}
	if ((rc = puts_(u, outerr, q)) < 0)
		return rc;
	return puts_(u, outerr, end);
}

/* The matched bytes: in the scan's window, in a hole, or read again. */
static int
match_bytes(struct fo_file *u, uint64_t off, size_t len, struct wr *w)
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
	struct wr w = { u, outerr, u->o->hex };
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
	struct wr w = { u, outerr, 0 };
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
	if ((rc = flush_out(u, outerr)) < 0)
		return rc;
	if (u->sk == NULL && (u->sk = malloc(sizeof(*u->sk))) == NULL)
		return -ENOMEM;
	s = u->sk;
	sink_start(s, FMT_HEXDUMP, u->cs);
	for (at = u->cs; at < u->ce && rc == 0; at += n) {
		n = (size_t)min64(RD_CAP, u->ce - at);
		if ((rc = bytes_at(u, at, n, &p)) < 0)
			return rc;
		if ((rc = sink_put(s, p, n)) < 0)
			*outerr = 1;
	}
	if (rc == 0 && (rc = sink_end(s, u->cs, 0)) < 0)
		*outerr = 1;
	return rc;
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

/* Is P[0..N) well-formed UTF-8? */
static int
utf8_ok(const unsigned char *p, size_t n)
{
	size_t i = 0, k;
	unsigned c;

	while (i < n) {
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

static int
json_text(void *arg, const unsigned char *p, size_t n)
{
	struct wr *w = arg;
	char out[OUT_CAP + 8];
	size_t i, k = 0, run;
	int rc;

	for (i = 0; i < n; i++) {
		unsigned char c = p[i];

		/* A run that needs no escape goes as it is. */
		for (run = i; run < n && p[run] >= 0x20 && p[run] != '"' &&
		    p[run] != '\\'; run++)
			;
		if (run - i >= 16) {
			if ((k > 0 && (rc = put(w->u, w->outerr, out, k)) < 0) ||
			    (rc = put(w->u, w->outerr, p + i, run - i)) < 0)
				return rc;
			k = 0;
			i = run - 1;
			continue;
		}
		if (c == '"' || c == '\\') {
			out[k++] = '\\';
			out[k++] = (char)c;
		} else if (c == '\n') {
			out[k++] = '\\';
			out[k++] = 'n';
		} else if (c == '\t') {
			out[k++] = '\\';
			out[k++] = 't';
		} else if (c == '\r') {
			out[k++] = '\\';
			out[k++] = 'r';
		} else if (c == '\b') {
			out[k++] = '\\';
			out[k++] = 'b';
		} else if (c == '\f') {
			out[k++] = '\\';
			out[k++] = 'f';
		} else if (c < 0x20)
			k += (size_t)sprintf(out + k, "\\u%04x", c);
		else
			out[k++] = (char)c;
		if (k >= OUT_CAP) {
			if ((rc = put(w->u, w->outerr, out, k)) < 0)
				return rc;
			k = 0;
		}
	}
	return k > 0 ? put(w->u, w->outerr, out, k) : 0;
}

/* Base64 of whole groups of three; the caller passes the tail last. */
static int
json_b64(void *arg, const unsigned char *p, size_t n)
{
	static const char b64[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	struct wr *w = arg;
	char out[OUT_CAP + 8];
	size_t i, k = 0;
	unsigned v;
	int rc;

	for (i = 0; i < n; i += 3) {
		v = (unsigned)p[i] << 16;
		if (i + 1 < n)
			v |= (unsigned)p[i + 1] << 8;
		if (i + 2 < n)
			v |= p[i + 2];
		out[k++] = b64[v >> 18];
		out[k++] = b64[(v >> 12) & 63];
		out[k++] = i + 1 < n ? b64[(v >> 6) & 63] : '=';
		out[k++] = i + 2 < n ? b64[v & 63] : '=';
		if (k >= OUT_CAP) {
			if ((rc = put(w->u, w->outerr, out, k)) < 0)
				return rc;
			k = 0;
		}
	}
	return k > 0 ? put(w->u, w->outerr, out, k) : 0;
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
	struct wr w = { u, outerr, 0 };
	const unsigned char *p;
	uint64_t at;
	size_t n, cut;
	int rc, text = 1;

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
				rc = json_b64(&w, p, n);
		}
	if (rc == 0 && hex) {
		w.hex = 1;
		if ((rc = puts_(u, outerr, "\",\"hex\":\"")) == 0)
			rc = each_piece(u, from, to, put_bytes, &w);
	}
	return rc < 0 ? rc : puts_(u, outerr, "\"}");
}

/* A path: {"text":...}, or {"bytes":...} when it is not UTF-8. */
static int
json_path(struct fo_file *u, int *outerr)
{
	struct wr w = { u, outerr, 0 };
	const unsigned char *p = (const unsigned char *)u->name;
	size_t n = strlen(u->name);
	int rc, text = utf8_ok(p, n);

	if ((rc = puts_(u, outerr, text ? "{\"text\":\"" :
	    "{\"bytes\":\"")) < 0)
		return rc;
	if ((rc = (text ? json_text : json_b64)(&w, p, n)) < 0)
		return rc;
	return puts_(u, outerr, "\"}");
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
	const unsigned char *p;
	uint64_t num, nl;
	size_t i, k;
	int rc;

	if (u->nsubs == 0)
		return 0;
	if (!u->begun && (rc = json_begin(u, outerr)) < 0)
		return rc;
	if ((rc = line_number(u, u->gs, &num)) < 0)
		return rc;
	if ((rc = puts_(u, outerr, "{\"type\":\"match\",\"data\":{\"path\":")) <
	    0 || (rc = json_path(u, outerr)) < 0 ||
	    (rc = puts_(u, outerr, ",\"lines\":")) < 0 ||
	    (rc = json_bytes(u, u->gs, u->ge, 0, outerr)) < 0)
		return rc;
	if ((rc = put_num(u, outerr, ",\"line_number\":", num)) < 0 ||
	    (rc = put_num(u, outerr, ",\"absolute_offset\":", u->gs)) < 0 ||
	    (rc = puts_(u, outerr, ",\"submatches\":[")) < 0)
		return rc;
	for (i = 0; i < u->nsubs; i++) {
		/* In file order, whichever way the scan went. */
		const struct fo_sub *s = &u->subs[u->subs[0].off >
		    u->subs[u->nsubs - 1].off ? u->nsubs - 1 - i : i];
		const unsigned char *p;

		if ((rc = puts_(u, outerr, i ? ",{\"match\":" :
		    "{\"match\":")) < 0 ||
		    (rc = json_bytes(u, s->off, s->off + s->len, u->o->hex,
		    outerr)) < 0)
			return rc;
		k = 0;
		if (u->o->npats > 1 && s->len <= RD_CAP &&
		    (rc = bytes_at(u, s->off, s->len, &p)) == 0)
			k = fo_which(u->o, p, s->len);
		if (rc < 0)
			return rc;
		if ((rc = put_num(u, outerr, ",\"start\":", s->off - u->gs)) <
		    0 || (rc = put_num(u, outerr, ",\"end\":", s->off +
		    s->len - u->gs)) < 0 ||
		    (rc = put_num(u, outerr, ",\"pattern\":", k)) < 0 ||
		    (rc = puts_(u, outerr, "}")) < 0)
			return rc;
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
	u->buf = NULL;
	u->subs = NULL;
}
