/*
 * fuzz_scan.c - the whole-file scanner (mm_scan_file over a memory file)
 * against a naive find-all built from SPEC's reading of Python's
 * find/rfind: every match lies wholly inside [start, end); -a is
 * successive find (non-overlapping, an empty match steps one byte), with
 * --overlap every start; -r -a is successive rfind, each match's start
 * ending the next window; at one offset the longest pattern wins, then
 * the first given.  An emit that says stop ends the scan with its value.
 *
 * Input: byte 0 as in fuzz_search.c (bit 0 ignore case, bit 1 wildcards,
 * bits 2-4 repeat the haystack), byte 1 the scan flags (bit 0 all, bit 1
 * overlap, bit 2 reverse; bits 3-5: stop after that many matches, 0
 * never), byte 2 start (low 6 bits), byte 3 how far before the end the
 * range ends (low 6 bits), byte 4 the separator, byte 5 the wildcard
 * byte, then PATTERN SEP ... SEP HAYSTACK.  Letters from '@' up are
 * every choice, so seeds stay text: "@" nothing, "A" -a, "G" -a -r
 * --overlap, "I" -a -m 1.
 *
 * The same bytes are then scanned as a file (a memfd whose pages of
 * zeros are holes; bit 5 of byte 0 puts two such pages first), read in
 * pieces of 1 to 76 bytes (the top bits of bytes 2 and 3) and mapped,
 * so that every seam between pieces and every edge of a hole is
 * crossed, and holes answered by arithmetic.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <sys/mman.h>
#include <unistd.h>

#include "mm.h"
#include "scan.h"
#include "source.h"
#include "fuzz.h"

#define MAXPATS		8
#define MAXHAY		((size_t)24 * 1024)
#define ZPREFIX		((size_t)8192)
#define MAXWORK		((size_t)4 << 20)
#define STOPCODE	77

struct hitlist {
	uint64_t	off[MAXHAY + 2];
	size_t		len[MAXHAY + 2];
	size_t		n;
	size_t		stop;		/* 0: never */
};

static struct hitlist got, want;

/* The best match starting exactly at I within [.., END): its length. */
static int
best_at(const struct mm_bytes *p, size_t np, const unsigned char *h,
    size_t i, size_t end, int icase, size_t *len)
{
	size_t k;
	int found = 0;

	for (k = 0; k < np; k++)
		if (p[k].len <= end - i && fuzz_match(p[k].data,
		    p[k].mask, p[k].len, h + i, icase) &&
		    (!found || p[k].len > *len)) {
			*len = p[k].len;
			found = 1;
		}
	return found;
}

static int
add(struct hitlist *l, uint64_t off, size_t len)
{
	l->off[l->n] = off;
	l->len[l->n++] = len;
	return l->stop != 0 && l->n == l->stop ? STOPCODE : 0;
}

static int
emit(void *ctx, uint64_t off, size_t len)
{
	if (got.n > MAXHAY + 1)
		FUZZ_FAIL("more matches than offsets");
	(void)ctx;
	return add(&got, off, len);
}

static int
naive(const struct mm_bytes *p, size_t np, const unsigned char *h,
    size_t size, uint64_t start, uint64_t end, int flags, int icase)
{
	size_t i, len = 0, lim, ov = flags & MM_SCAN_OVERLAP;
	int rc;

	if (end > size)
		end = size;
	if (start > end)
		return 0;
	if (!(flags & MM_SCAN_REVERSE) || ov) {
		/* Forward; reversed afterwards for -r --overlap. */
		struct hitlist *l = &want;
		size_t stop = l->stop;

		if (flags & MM_SCAN_REVERSE)
			l->stop = 0;
		for (i = start; i <= end; ) {
			if (!best_at(p, np, h, i, end, icase, &len)) {
				i++;
				continue;
			}
			if ((rc = add(l, i, len)) != 0)
				return rc;
			if (!(flags & MM_SCAN_ALL) && !(flags & MM_SCAN_REVERSE))
				return 0;
			i += ov ? 1 : len ? len : 1;
		}
		if (flags & MM_SCAN_REVERSE) {
			struct hitlist tmp = *l;

			l->n = 0;
			l->stop = stop;
			for (i = tmp.n; i-- > 0;) {
				if ((rc = add(l, tmp.off[i], tmp.len[i])) != 0)
					return rc;
				if (!(flags & MM_SCAN_ALL))
					break;
			}
		}
		return 0;
	}
	/* Successive rfind: the next window ends where a match starts. */
	lim = end;
	for (;;) {
		int found = 0;

		for (i = lim + 1; i-- > start;)
			if (best_at(p, np, h, i, lim, icase, &len)) {
				found = 1;
				break;
			}
		if (!found)
			return 0;
		if ((rc = add(&want, i, len)) != 0)
			return rc;
		if (!(flags & MM_SCAN_ALL) || (len == 0 && i == start))
			return 0;
		lim = len == 0 ? i - 1 : i;
	}
}

static void
check(const char *how, int flags, uint64_t start, uint64_t stop,
    size_t haylen, int rc, int wrc)
{
	size_t i;

	if (rc != wrc || got.n != want.n)
		FUZZ_FAIL("%s scan flags %d [%" PRIu64 ", %" PRIu64 ") of %zu: "
		    "rc %d, %zu matches; want rc %d, %zu", how, flags, start,
		    stop, haylen, rc, got.n, wrc, want.n);
	for (i = 0; i < got.n; i++)
		if (got.off[i] != want.off[i] || got.len[i] != want.len[i])
			FUZZ_FAIL("%s scan flags %d: match %zu at %" PRIu64
			    " (%zu), want %" PRIu64 " (%zu)", how, flags, i,
			    got.off[i], got.len[i], want.off[i], want.len[i]);
}

/*
 * The hay as a file whose pages of zeros are holes, scanned read in
 * pieces of PIECE bytes and mapped: the same answers as in memory.
 */
static void
file_scans(struct mm_scan *sc, const unsigned char *hay, size_t haylen,
    uint64_t start, uint64_t stop, int flags, int wrc, size_t piece)
{
	static const unsigned char zero[4096];
	struct mm_file f;
	size_t at, n, ps = 4096;
	int fd, rc, io;

	if ((fd = memfd_create("fuzz_scan", 0)) < 0)
		return;
	if (ftruncate(fd, (off_t)haylen) < 0)
		abort();
	for (at = 0; at < haylen; at += n) {
		n = haylen - at < ps ? haylen - at : ps;
		if (memcmp(hay + at, zero, n) != 0 &&
		    pwrite(fd, hay + at, n, (off_t)at) != (ssize_t)n)
			abort();
	}
	memset(&f, 0, sizeof(f));
	f.fd = fd;
	f.kind = MM_KIND_REGULAR;
	f.access = MM_ACCESS_READ;
	f.size = (off_t)haylen;
	mm_source_piece = piece;
	mm_source_min_hole = ps;
	for (io = MM_IO_MAP; io <= MM_IO_READ; io++) {
		sc->io = (enum mm_io)io;
		got.n = 0;
		rc = mm_scan_file(sc, &f, start, stop);
		check(io == MM_IO_MAP ? "mapped file" : "read file", flags,
		    start, stop, haylen, rc, wrc);
	}
	close(fd);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mm_bytes p[MAXPATS];
	struct mm_scan sc;
	struct mm_file f;
	const unsigned char *fl, *end, *piece;
	unsigned char ctl, sep, wc, *hay;
	size_t np = 0, i, j, piecelen, rep, haylen, longest = 1, zp;
	uint64_t start, stop;
	int flags, icase, rc, wrc;

	if (size < 7)
		return 0;
	ctl = data[0];
	flags = data[1] & 7;
	sep = data[4];
	wc = data[5];
	icase = ctl & 1;
	fl = data + 6;
	end = data + size;
	for (;;) {
		const unsigned char *s = memchr(fl, sep, (size_t)(end - fl));

		if (s == NULL || np == MAXPATS)
			break;
		p[np].data = (unsigned char *)fl;
		p[np].len = (size_t)(s - fl);
		p[np].mask = NULL;
		if ((ctl & 2) && p[np].len > 0 &&
		    memchr(fl, wc, p[np].len) != NULL) {
			if ((p[np].mask = malloc(p[np].len)) == NULL)
				abort();
			for (j = 0; j < p[np].len; j++)
				p[np].mask[j] = fl[j] == wc ? 0 : 0xff;
		}
		if (p[np].len > longest)
			longest = p[np].len;
		np++;
		fl = s + 1;
	}
	if (np == 0)
		return 0;
	piece = fl;
	piecelen = (size_t)(end - fl);
	rep = (size_t)1 << ((ctl >> 2) & 7);
	while (rep > 1 && (piecelen * rep > MAXHAY - ZPREFIX ||
	    piecelen * rep * longest * np > MAXWORK))
		rep >>= 1;
	haylen = piecelen * rep;
	if (haylen > MAXHAY - ZPREFIX || haylen * longest * np > MAXWORK)
		goto out;
	zp = (ctl & 0x20) ? ZPREFIX : 0;
	if ((hay = calloc(1, haylen + zp + 1)) == NULL)
		abort();
	for (i = 0; i < rep; i++)
		memcpy(hay + zp + i * piecelen, piece, piecelen);
	haylen += zp;
	start = (data[2] & 0x3f) % (haylen + 3);
	stop = (uint64_t)(data[3] & 0x3f) % (haylen + 3);
	stop = stop > haylen ? haylen + 100 : haylen - stop;

	memset(&f, 0, sizeof(f));
	f.fd = -1;
	f.kind = MM_KIND_MEMORY;
	f.access = MM_ACCESS_READ;
	f.size = (off_t)haylen;
	f.mem = hay;
	memset(&sc, 0, sizeof(sc));
	sc.pats = p;
	sc.npats = np;
	sc.mflags = icase ? MM_MATCHER_ICASE : 0;
	sc.flags = flags;
	sc.threads = 1;
	sc.emit = emit;
	got.n = want.n = 0;
	got.stop = want.stop = (data[1] >> 3) & 7;
	rc = mm_scan_file(&sc, &f, start, stop);
	wrc = naive(p, np, hay, haylen, start, stop, flags, icase);
	check("memory", flags, start, stop, haylen, rc, wrc);
	file_scans(&sc, hay, haylen, start, stop, flags, wrc,
	    1 + (((size_t)(data[2] >> 6) << 2 | (size_t)(data[3] >> 6)) * 5));
	free(hay);
out:
	for (i = 0; i < np; i++)
		free(p[i].mask);
	return 0;
}
