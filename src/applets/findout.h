/*
 * findout.h - what mmfind prints of each match beyond its offset: the
 * matched bytes (-o, -X), the line holding it (--line), bytes of context
 * (-A, -B, -C) and ripgrep's JSON Lines (--json).
 */
#ifndef FINDOUT_H
#define FINDOUT_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "engine/scan.h"
#include "sink.h"

enum fo_form { FO_OFFSET, FO_ONLY, FO_LINE, FO_CONTEXT, FO_JSON };

struct fo_opts {
	enum fo_form		 form;
	int			 hex;		/* -X */
	int			 hex_radix;	/* --radix=x */
	uint64_t		 before, after;	/* -B, -A */
	const struct mm_bytes	*pats;		/* to tell which matched */
	size_t			 npats;
	int			 icase;
};

/* One match of a --json line group. */
struct fo_sub {
	uint64_t	 off;
	size_t		 len;
};

struct fo_file;

/* Output counted for --json's statistics; OUTERR says it was output. */
struct fo_wr {
	struct fo_file	*u;
	int		*outerr;
	int		 hex;		/* put_bytes: hex, not escaped text */
};

/* A file being printed. */
struct fo_file {
	const struct fo_opts	*o;
	const char		*name;
	const char		*prefix;	/* "FILE:" or "" */
	size_t			 prefix_len;	/* -Z: "FILE\0" */
	struct mm_file		*f;
	uint64_t		 start, end;	/* the range searched */
	struct mm_scan_view	 view;		/* the scan's window */
	unsigned char		*buf;		/* the file read again */
	uint64_t		 base;
	size_t			 len;
	uint64_t		 ls, le;	/* the last line found */
	int			 have_line;
	uint64_t		 nl_pos, nl_count; /* '\n' in [0, nl_pos) */
	/* --json: the line group being gathered, and the file's totals. */
	uint64_t		 gs, ge;
	struct fo_sub		*subs;
	size_t			 nsubs, subcap;
	int			 begun;
	char			*jpath;		/* the path as JSON */
	size_t			 jpath_len;
	uint64_t		 printed, matches, lines;
	struct timespec		 t0;
	/* -A/-B/-C: the span being gathered. */
	uint64_t		 cs, ce;
	int			 have_span;
	int			 any_span;
	struct sink		*sk;
	struct fo_wr		 skw;		/* where the sink writes */
	unsigned char		*ob;		/* output held, OB_CAP bytes */
	size_t			 obn;
};

/* Before a file's scan: F open, [START, END) its range. */
void	fo_begin(struct fo_file *, const struct fo_opts *, const char *name,
	    const char *prefix, size_t prefix_len, struct mm_file *f,
	    uint64_t start, uint64_t end);
/*
 * One match, in the scan's order: 0, -errno of reading the file again,
 * or -EPIPE (say) when output failed (*OUTERR set).
 */
int	fo_match(struct fo_file *, uint64_t off, size_t len, int *outerr);
/* After the scan: what is gathered is printed; same returns. */
int	fo_end(struct fo_file *, int *outerr);
void	fo_free(struct fo_file *);
/* --json's last line, for the whole run; 0 or -errno. */
int	fo_summary(const struct timespec *t0);
/* Does the form need to read the file again (not a stream)? */
int	fo_rereads(const struct fo_opts *);
/* The index of the pattern that matched LEN bytes at P (0 for a regex). */
size_t	fo_which(const struct fo_opts *, const unsigned char *p, size_t len);

#endif /* FINDOUT_H */
