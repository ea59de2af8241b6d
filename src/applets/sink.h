/*
 * sink.h - bytes printed as they are (raw), as one line of hex, or as
 * hexdump -C prints them, fed piece by piece: mmread's output, and
 * mmfind's context.
 */
#ifndef SINK_H
#define SINK_H

#include <stddef.h>
#include <stdint.h>

enum format { FMT_RAW, FMT_HEX, FMT_HEXDUMP };

#define BOUNCE	(128 * 1024)

/* Where the bytes go: raw, one line of hex, or hexdump -C. */
struct sink {
	enum format	 fmt;
	uint64_t	 addr;		/* file offset of the next byte */
	unsigned char	 line[16];	/* hexdump: the line being filled */
	size_t		 fill;
	unsigned char	 prev[16];	/* hexdump: the last full line */
	int		 have_prev;
	int		 squeezing;
	int		 any;
	int		 direct;	/* bytes read, not mapped */
	/* Where the output goes: OUT(OUT_ARG, ...), or app_write if NULL. */
	int		(*out)(void *, const void *, size_t);
	void		*out_arg;
	unsigned char	 buf[BOUNCE];
};

/* Make S ready for output in FMT from file offset ADDR, to app_write. */
void	sink_start(struct sink *, enum format, uint64_t addr);
/*
 * LEN bytes at P, the next of the output (ADDR is the file offset of the
 * first; set it, and FMT, in a zeroed sink before the first call).
 * 0 or -errno of the output.
 */
int	sink_put(struct sink *, const unsigned char *p, size_t len);
/*
 * LEN zero bytes of a hole, for -C: the lines up to where "*" stands for
 * every further line of zeros, then those lines skipped unprinted.
 */
int	sink_zeros(struct sink *, uint64_t len);
/*
 * The end of the output: "\n" after hex, the last line and offset of -C
 * (START: where the output began; COUNT_ZERO: nothing was asked for).
 */
int	sink_end(struct sink *, uint64_t start, int count_zero);

#endif /* SINK_H */
