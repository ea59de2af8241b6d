/*
 * findout.c - what mmfind prints of each match beyond its offset: the
 * file read again, the output buffer, and every form but --json
 * (findjson.c).
 *
 * The matched bytes come from the scan's own window while the match is
 * emitted (so -o works on streams too); the line around a match, its
 * context and line numbers come from the file read again, through one
 * window that follows the matches (forwards or backwards), so that a
 * million matches cost a few hundred reads, not a million.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "applet.h"
#include "findout_int.h"
#include "sink.h"

/* How much of the window is kept behind where reading goes on. */
#define BEHIND		((size_t)64 << 10)
/*
 * With the scan's window in memory, only what straddles its edges is read
 * again: the request and this much around it.
 */
#define EDGE		((size_t)16 << 10)

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
int
fo_bytes_at(struct fo_file *u, uint64_t off, size_t n, const unsigned char **p)
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
int
fo_each_piece(struct fo_file *u, uint64_t from, uint64_t to,
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
int
fo_line_of(struct fo_file *u, uint64_t off, size_t len, uint64_t *ls,
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

/* ------------------------------------------------------------ output */

/* What fo_put() holds goes out: before other output, and at the end. */
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
 * there, then say with fo_used() how much they wrote.  One write() for many
 * small pieces, and no copy through a buffer of their own.
 */
int
fo_room(struct fo_file *u, int *outerr, size_t n, char **o)
{
	int rc;

	if (u->ob == NULL && (u->ob = malloc(OB_CAP)) == NULL)
		return -ENOMEM;
	if (u->obn + n > OB_CAP && (rc = flush_out(u, outerr)) < 0)
		return rc;
	*o = (char *)u->ob + u->obn;
	return 0;
}

void
fo_used(struct fo_file *u, size_t n)
{
	u->obn += n;
	u->printed += n;
}

int
fo_put(struct fo_file *u, int *outerr, const void *p, size_t n)
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
	if ((rc = fo_room(u, outerr, n, &o)) < 0)
		return rc;
	memcpy(o, p, n);
	fo_used(u, n);
	return 0;
}

/* The sink's output (-C) joins the rest. */
static int
put_sink(void *arg, const void *p, size_t n)
{
	struct fo_wr *w = arg;

	return fo_put(w->u, w->outerr, p, n);
}

int
fo_puts(struct fo_file *u, int *outerr, const char *s)
{
	return fo_put(u, outerr, s, strlen(s));
}

/*
 * P[0..N) coded by CODE straight into the output, in pieces: PER is the
 * most bytes CODE writes for one (pieces are a multiple of three bytes,
 * as base64 wants, but for the last).
 */
int
fo_put_coded(struct fo_file *u, int *outerr, const unsigned char *p, size_t n,
    size_t per, char *(*code)(char *, const unsigned char *, size_t))
{
	size_t c, most = (OB_CAP - 8) / per / 3 * 3;
	char *o;
	int rc;

	for (; n > 0; p += c, n -= c) {
		c = n < most ? n : most;
		if ((rc = fo_room(u, outerr, per * c + 8, &o)) < 0)
			return rc;
		fo_used(u, (size_t)(code(o, p, c) - o));
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
int
fo_put_bytes(void *arg, const unsigned char *p, size_t n)
{
	struct fo_wr *w = arg;

	return fo_put_coded(w->u, w->outerr, p, n, 4,
	    w->hex ? hex_pairs : c_escape);
}

static int
put_raw(void *arg, const unsigned char *p, size_t n)
{
	struct fo_wr *w = arg;

	return fo_put(w->u, w->outerr, p, n);
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
char *
fo_str(char *o, const char *s)
{
	size_t n = strlen(s);

	memcpy(o, s, n);
	return o + n;
}

/* V in decimal at O; returns the end. */
char *
fo_dec(char *o, uint64_t v)
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

	if ((rc = fo_put(u, outerr, u->prefix, u->prefix_len)) < 0 ||
	    (rc = fo_room(u, outerr, 32, &o)) < 0)
		return rc;
	if (u->o->hex_radix) {
		e = fo_str(o, "0x");
		for (i = 60; i > 0 && (off >> i) == 0; i -= 4)
			;
		for (; i >= 0; i -= 4)
			*e++ = "0123456789abcdef"[(off >> i) & 15];
	} else
		e = fo_dec(o, off);
	fo_used(u, (size_t)(fo_str(e, end) - o));
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
			if ((rc = fo_put_bytes(w, z, n)) < 0)
				return rc;
		}
		return 0;
	}
	return fo_each_piece(u, off, off + len, fo_put_bytes, w);
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
	return fo_puts(u, outerr, "\n");
}

/* --line: OFFSET:LINE, the line as it is, ended by one '\n'. */
static int
line(struct fo_file *u, uint64_t off, size_t len, int *outerr)
{
	struct fo_wr w = { u, outerr, 0 };
	uint64_t ls, le;
	const unsigned char *p;
	int rc;

	if ((rc = fo_line_of(u, off, len, &ls, &le)) < 0 ||
	    (rc = put_offset(u, outerr, off, ":")) < 0 ||
	    (rc = fo_each_piece(u, ls, le, put_raw, &w)) < 0)
		return rc;
	if (le > ls && (rc = fo_bytes_at(u, le - 1, 1, &p)) < 0)
		return rc;
	if (le == ls || *p != '\n')
		return fo_puts(u, outerr, "\n");
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
	if (u->any_span && (rc = fo_puts(u, outerr, "--\n")) < 0)
		return rc;
	u->any_span = 1;
	if (u->prefix_len > 0 &&
	    ((rc = fo_put(u, outerr, u->prefix, u->prefix_len)) < 0 ||
	    (rc = fo_puts(u, outerr, "\n")) < 0))
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
		if ((rc = fo_bytes_at(u, at, n, &p)) < 0)
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
		return fo_json_match(u, off, len, outerr);
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
		rc = fo_json_end(u, outerr);
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
