/*
 * findjson.c - mmfind --json: ripgrep's JSON Lines (begin, one match
 * message per group of lines, end, summary), with the pattern that
 * matched.  Text is escaped and checked for UTF-8 a word at a time, the
 * path made once a file, numbers written by hand: a million matches
 * print a quarter of a gigabyte.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "applet.h"
#include "findout_int.h"

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
		rc = fo_each_piece(u, u->nl_pos, ls, count_nl, &c);
		u->nl_count += c;
	} else {
		rc = fo_each_piece(u, ls, u->nl_pos, count_nl, &c);
		u->nl_count -= c;
	}
	if (rc < 0)
		return rc;
	u->nl_pos = ls;
	*num = u->nl_count + 1;
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
	static const char named[0x20] = {
		['\b'] = 'b', ['\t'] = 't', ['\n'] = 'n', ['\f'] = 'f', ['\r'] = 'r'
	};

	if (c >= 0x20 && c != '"' && c != '\\') {
		*o = (char)c;
		return o + 1;
	}
	o[0] = '\\';
	if (c >= 0x20 || named[c] != 0) {
		o[1] = c >= 0x20 ? (char)c : named[c];
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

	return fo_put_coded(w->u, w->outerr, p, n, 6, json_esc);
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
		if ((rc = fo_bytes_at(u, from, n, &p)) < 0)
			return rc;
		if (utf8_ok(p, n)) {
			if ((rc = fo_room(u, outerr, 8 * n + 32, &o)) < 0)
				return rc;
			s = json_esc(fo_str(o, "{\"text\":\""), p, n);
			if (hex) {
				s = fo_str(s, "\",\"hex\":\"");
				mm_hex_format(p, n, s);
				s += 2 * n;
			}
			s = fo_str(s, "\"}");
			fo_used(u, (size_t)(s - o));
			return 0;
		}
	}
	for (at = from; at < to && text; at += cut) {
		n = (size_t)min64(RD_CAP, to - at);
		if ((rc = fo_bytes_at(u, at, n, &p)) < 0)
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
	if ((rc = fo_puts(u, outerr, text ? "{\"text\":\"" : "{\"bytes\":\"")) < 0)
		return rc;
	if (text)
		rc = fo_each_piece(u, from, to, json_text, &w);
	else
		for (at = from; at < to && rc == 0; at += n) {
			n = (size_t)min64(RD_CAP - RD_CAP % 3, to - at);
			if ((rc = fo_bytes_at(u, at, n, &p)) == 0)
				rc = fo_put_coded(u, outerr, p, n, 2, b64);
		}
	if (rc == 0 && hex) {
		w.hex = 1;
		if ((rc = fo_puts(u, outerr, "\",\"hex\":\"")) == 0)
			rc = fo_each_piece(u, from, to, fo_put_bytes, &w);
	}
	return rc < 0 ? rc : fo_puts(u, outerr, "\"}");
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
	return fo_put(u, outerr, u->jpath, u->jpath_len);
}

static int
json_begin(struct fo_file *u, int *outerr)
{
	int rc;

	u->begun = 1;
	if ((rc = fo_puts(u, outerr, "{\"type\":\"begin\",\"data\":{\"path\":")) <
	    0 || (rc = json_path(u, outerr)) < 0)
		return rc;
	return fo_puts(u, outerr, "}}\n");
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
	    (rc = fo_puts(u, outerr, "{\"type\":\"match\",\"data\":{\"path\":")) <
	    0 || (rc = json_path(u, outerr)) < 0 ||
	    (rc = fo_puts(u, outerr, ",\"lines\":")) < 0 ||
	    (rc = json_bytes(u, u->gs, u->ge, 0, outerr)) < 0 ||
	    (rc = fo_room(u, outerr, 128, &o)) < 0)
		return rc;
	e = fo_dec(fo_str(o, ",\"line_number\":"), num);
	e = fo_dec(fo_str(e, ",\"absolute_offset\":"), u->gs);
	fo_used(u, (size_t)(fo_str(e, ",\"submatches\":[") - o));
	for (i = 0; i < u->nsubs; i++) {
		/* In file order, whichever way the scan went. */
		sub = &u->subs[u->subs[0].off > u->subs[u->nsubs - 1].off ?
		    u->nsubs - 1 - i : i];
		if ((rc = fo_puts(u, outerr, i ? ",{\"match\":" :
		    "{\"match\":")) < 0 ||
		    (rc = json_bytes(u, sub->off, sub->off + sub->len,
		    u->o->hex, outerr)) < 0)
			return rc;
		k = 0;
		if (u->o->npats > 1 && sub->len <= RD_CAP &&
		    (rc = fo_bytes_at(u, sub->off, sub->len, &p)) == 0)
			k = fo_which(u->o, p, sub->len);
		if (rc < 0 || (rc = fo_room(u, outerr, 128, &o)) < 0)
			return rc;
		e = fo_dec(fo_str(o, ",\"start\":"), sub->off - u->gs);
		e = fo_dec(fo_str(e, ",\"end\":"), sub->off + sub->len - u->gs);
		e = fo_dec(fo_str(e, ",\"pattern\":"), k);
		fo_used(u, (size_t)(fo_str(e, "}") - o));
	}
	/* As ripgrep counts them: every line the group spans. */
	nl = 0;
	if (u->ge > u->gs) {
		if ((rc = fo_each_piece(u, u->gs, u->ge, count_nl, &nl)) < 0 ||
		    (rc = fo_bytes_at(u, u->ge - 1, 1, &p)) < 0)
			return rc;
		nl += *p != '\n';
	}
	u->lines += nl > 0 ? nl : 1;
	u->nsubs = 0;
	return fo_puts(u, outerr, "]}}\n");
}

int
fo_json_match(struct fo_file *u, uint64_t off, size_t len, int *outerr)
{
	uint64_t ls, le;
	int rc;

	if ((rc = fo_line_of(u, off, len, &ls, &le)) < 0)
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
	if (app_grow(&u->subs, &u->subcap, u->nsubs + 1, sizeof(*u->subs),
	    16) < 0)
		return -ENOMEM;
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

int
fo_json_end(struct fo_file *u, int *outerr)
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
	if ((rc = fo_puts(u, outerr, "{\"type\":\"end\",\"data\":{\"path\":")) <
	    0 || (rc = json_path(u, outerr)) < 0)
		return rc;
	snprintf(b, sizeof(b), ",\"binary_offset\":null,\"stats\":{"
	    "\"elapsed\":%s,\"searches\":1,\"searches_with_match\":1,"
	    "\"bytes_searched\":%" PRIu64 ",\"bytes_printed\":%" PRIu64
	    ",\"matched_lines\":%" PRIu64 ",\"matches\":%" PRIu64 "}}}\n",
	    el, searched, printed, u->lines, u->matches);
	rc = fo_puts(u, outerr, b);
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

