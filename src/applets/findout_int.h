/*
 * findout_int.h - what findout.c (the file read again, the output buffer,
 * the plain forms) lends findjson.c (--json).  Private to the two.
 */
#ifndef FINDOUT_INT_H
#define FINDOUT_INT_H

#include <stddef.h>
#include <stdint.h>

#include "findout.h"

/* The window the file is read again through. */
#define RD_CAP		((size_t)1 << 20)
/* Output held before it is written. */
#define OB_CAP		((size_t)256 << 10)

static inline uint64_t
min64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

/*
 * N bytes (N <= RD_CAP) at OFF of the file into *P, in one piece.
 * 0 or -errno (-ESPIPE: a stream cannot be read again; -EIO: it shrank).
 */
int	fo_bytes_at(struct fo_file *, uint64_t off, size_t n,
	    const unsigned char **p);
/* Call FN over the bytes [FROM, TO) of the file, piece by piece. */
int	fo_each_piece(struct fo_file *, uint64_t from, uint64_t to,
	    int (*fn)(void *, const unsigned char *, size_t), void *arg);
/* The line holding [OFF, OFF + LEN): [*LS, *LE), LE past its '\n'. */
int	fo_line_of(struct fo_file *, uint64_t off, size_t len, uint64_t *ls,
	    uint64_t *le);

/*
 * Room at *O for N (<= OB_CAP) more bytes of output: write them there,
 * then say with fo_used() how many.  0 or -errno (*OUTERR set when the
 * output failed).
 */
int	fo_room(struct fo_file *, int *outerr, size_t n, char **o);
void	fo_used(struct fo_file *, size_t n);
/* N bytes at P, or the string S, to the output. */
int	fo_put(struct fo_file *, int *outerr, const void *p, size_t n);
int	fo_puts(struct fo_file *, int *outerr, const char *s);
/*
 * P[0..N) coded by CODE straight into the output, in pieces of a multiple
 * of three bytes (but the last); PER: the most CODE writes for one byte.
 */
int	fo_put_coded(struct fo_file *, int *outerr, const unsigned char *p,
	    size_t n, size_t per,
	    char *(*code)(char *, const unsigned char *, size_t));
/* Bytes as -o prints them (ARG: a struct fo_wr), for fo_each_piece. */
int	fo_put_bytes(void *arg, const unsigned char *p, size_t n);
/* The string S, or V in decimal, at O; return the end. */
char	*fo_str(char *o, const char *s);
char	*fo_dec(char *o, uint64_t v);

/* --json: one match, and the file's end (its last group, "end"). */
int	fo_json_match(struct fo_file *, uint64_t off, size_t len,
	    int *outerr);
int	fo_json_end(struct fo_file *, int *outerr);

#endif /* FINDOUT_INT_H */
