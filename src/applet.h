/*
 * applet.h - what every applet shares: its name in messages, the common
 * popt options, operand parsing with messages, and checked output.
 * Only applets talk to the user; the engine (engine/mm.h) never does.
 */
#ifndef APPLET_H
#define APPLET_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <popt.h>

#include "engine/mm.h"

/* Exit statuses (SPEC "Common rules"). */
#define EXIT_OK		0
#define EXIT_NO		1	/* a negative answer, nothing changed */
#define EXIT_FAIL	2	/* usage error or failure */

/* Every applet's entry point, from applets.def. */
#define APPLET(name, help)	int name##_main(int, const char **);
#include "applets.def"
#undef APPLET

/* "mmread" while mmread runs: the prefix of every message. */
extern const char *app_name;

/* Common options (--version); include as the last table of an applet. */
extern struct poptOption app_common_options[];
#define APP_COMMON_OPTIONS \
	{ NULL, '\0', POPT_ARG_INCLUDE_TABLE, app_common_options, 0, \
	    "Common options:", NULL }, \
	POPT_AUTOALIAS \
	POPT_AUTOHELP

/* "APPLET: message" on standard error; returns EXIT_FAIL. */
int	app_error(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2)));
/* "APPLET: FILE: message for -ERR" (ERR is a negative errno). */
int	app_file_error(const char *file, int err);
/* A usage error: message, then "Try 'APPLET --help' ..."; EXIT_FAIL. */
int	app_usage(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2)));

/*
 * The command line: a popt context for the applet in *PC, after moving
 * operands that look like negative numbers ("-4", "-0x10") out of popt's
 * way, so they are operands with or without "--"; the popt configuration
 * files (aliases) read; every option parsed, those with a val (not 0)
 * passed to ON_OPT (0 or an exit status); the remaining operands in *OPS
 * (NULL-terminated, maybe none) and *N.  0, or the exit status after a
 * message.  Free *PC with app_popt_free whatever this returns.
 */
int	app_args(poptContext *pc, int argc, const char **argv,
	    const struct poptOption *opts, const char *operands,
	    int (*on_opt)(poptContext, int, void *), void *ctx,
	    const char ***ops, int *n);
/* Free the context and what app_args made for it (NULL: nothing). */
void	app_popt_free(poptContext);

/*
 * The count of the N operands OPS: fewer than the words of NAMES ("FILE
 * SIZE"), one for each operand that must be given: "missing SIZE operand
 * after 'f'"; more than MAX: "extra operand 'X'"; either a usage message
 * and EXIT_FAIL.  Else 0.
 */
int	app_operands(const char **ops, int n, const char *names, int max);

/* Operands and option values, with an "APPLET: what 'S': why" message. */
int	app_size(const char *what, const char *s, uint64_t *val);
int	app_offset(const char *what, const char *s, uint64_t *val, int *neg);
/*
 * Does PATH name standard input: "-", /dev/stdin, /proc/self/fd/0 or any
 * other name of the file open on descriptor 0?
 */
int	app_is_stdin(const char *path);
/*
 * Operands in another order than the applet takes them: does S parse as
 * an OFFSET (maybe negative), does it name an existing file?  And the
 * message for an operand S, invalid as WHAT, that fits elsewhere:
 * "invalid WHAT 'S' (usage: APPLET ORDER)"; EXIT_FAIL.
 */
int	app_is_offset(const char *s);
int	app_is_file(const char *s);
int	app_misplaced(const char *what, const char *s, const char *order);
/*
 * --io=MODE (OPT, NULL when not given, then $MMUTILS_IO, then auto):
 * how a scan reads.  0, or EXIT_FAIL after a usage message.
 */
int	app_io(const char *opt, enum mm_io *io);
/* Byte strings from TEXT, HEX (WILD: allow ??) or a FILE; EXIT_FAIL. */
int	app_hex(const char *what, const char *s, int wild, struct mm_bytes *);
int	app_bytes_file(const char *path, struct mm_bytes *);

/*
 * The options of the applets that change a file, each declared once:
 * APP_CHANGE_OPTIONS(APP_SYNC | APP_VERBOSE ...) in an applet's table
 * includes the ones it takes, which set app_change_opts.
 */
#define APP_SYNC	0x01	/* --sync */
#define APP_NO_LOCK	0x02	/* --no-lock */
#define APP_DRY_RUN	0x04	/* --dry-run */
#define APP_VERBOSE	0x08	/* -v, --verbose */
#define APP_PROGRESS	0x10	/* --progress */
#define APP_WRITER	(APP_SYNC | APP_NO_LOCK | APP_DRY_RUN | APP_VERBOSE | \
			    APP_PROGRESS)
struct app_change_opts {
	int	sync, no_lock, dry_run, verbose, progress;
};
extern struct app_change_opts app_opts;
const struct poptOption *app_change_options(int which);
#define APP_CHANGE_OPTIONS(which) \
	{ NULL, '\0', POPT_ARG_INCLUDE_TABLE, \
	    (void *)app_change_options(which), 0, "Change options:", NULL },

/*
 * -v: "APPLET: FILE: what was done" on standard error, the one form of
 * every applet's report.
 */
void	app_verbose(const char *path, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

/*
 * --progress: a line on standard error of the bytes done, percent, rate
 * and time left, drawn only on a terminal and at most ten times a
 * second; inactive unless ENABLE and standard error is a terminal.  The
 * engine is given &P->mm, and counts the bytes done through it.
 */
struct app_progress {
	struct mm_progress	 mm;
	int			 active;
	int			 drawn;
	const char		*label;
	uint64_t		 total;
	uint64_t		 done;
	double			 start;
	double			 last;
};

void	app_progress_start(struct app_progress *, int enable,
	    const char *label, uint64_t total);
/* The line drawn once more, complete, and ended; nothing if none was. */
void	app_progress_end(struct app_progress *);

/*
 * One change to one file, the way every writer makes it: opened (and
 * locked), signals held and a progress line drawn while the engine
 * works, the change synced with --sync, then the exit status.
 */
struct app_change {
	const char		*path;
	struct mm_file		 f;
	struct app_progress	 progress;	/* the engine gets &progress.mm */
	int			 open;		/* F is open */
	int			 sync_err;	/* the --sync flush failed */
	int			 sig;		/* the signal that arrived */
};
/*
 * Open PATH to change it in place: mapped files only, for writing or,
 * with --dry-run, copy-on-write; locked unless --no-lock; its size read
 * again under the lock.  0, or EXIT_FAIL after a message.
 */
int	app_change_open(struct app_change *, const char *path);
/* Hold signals; draw a progress line (--progress) over TOTAL bytes. */
void	app_change_begin(struct app_change *, uint64_t total);
/*
 * The engine's call returned RC: the progress line ends; with --sync and
 * RC 0, [OFF, OFF+LEN) is flushed (mm_flush, MS_SYNC | FLAGS); the
 * signals are released.  Returns RC, or the flush's -errno.
 */
int	app_change_end(struct app_change *, int rc, uint64_t off, uint64_t len,
	    int flags);
/*
 * Word what every writer words alike: a failed --sync, a file that shrank
 * while it was DOING ("bytes were moved"), a full tmpfs (app_fault; not
 * when DOING is NULL, for a change of the size).
 * EXIT_FAIL after the message, else 0 and the applet words RC.
 */
int	app_change_error(struct app_change *, int rc, const char *doing);
/* Close the file; the status: ST, or 128 + the signal that arrived. */
int	app_change_close(struct app_change *, int st);

/*
 * If ERR is the -EIO of a mapping's fault in a file that shrank while it
 * was DOING ("read", "searched"...), or in a full tmpfs that could give
 * no page for a hole, say so and return EXIT_FAIL; else 0.  The engine
 * leaves F's size as it found it (mm_fault_cause).
 */
int	app_fault(const char *path, struct mm_file *, int err,
	    const char *doing);

/*
 * OFFSET [LENGTH] against a file of SIZE bytes, the one rule and wording
 * of every applet: OFFSET (NULL: 0) may be negative, from the end; it
 * must not pass the end (nor, with APP_RANGE_INSIDE, be the end); LENGTH
 * (NULL: the rest) must not reach past the end, or with APP_RANGE_CUT is
 * cut there.  WHAT names the offset ("offset", "destination").  Messages
 * "FILE: WHEREoffset X is past the end of the file (size N)", "FILE:
 * WHERErange [A, B) (N bytes) passes the end of the file (size N)".
 */
#define APP_RANGE_INSIDE	0x1
#define APP_RANGE_CUT		0x2
struct app_range {
	const char	*what;		/* "offset" unless set */
	const char	*offstr;	/* as typed; NULL: none */
	uint64_t	 mag;		/* parsed by app_range_parse */
	int		 neg;
	int		 has_len;
	uint64_t	 len;
};
/*
 * Parse OFFSTR (may be NULL) and LENSTR (may be NULL, a LENWHAT: "length",
 * "count") into all of R (its what NULL: "offset") before any file is
 * opened.  0, or EXIT_FAIL after a message.
 */
int	app_range_parse(struct app_range *, const char *offstr,
	    const char *lenwhat, const char *lenstr);
/*
 * Resolve R against SIZE: *START and *LEN, or EXIT_FAIL after a message
 * naming PATH, and WHERE ("standard input:3: ", or NULL) after it.
 */
int	app_range(const char *path, const char *where,
	    const struct app_range *, uint64_t size, int flags,
	    uint64_t *start, uint64_t *len);

/* Checked output to standard output. */
int	app_write(const void *, size_t);
int	app_printf(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2)));
/* Hand what standard output holds to the kernel now: 0 or -errno. */
int	app_flush(void);
/*
 * Output that must wait its turn: while a thread has a sink, what it
 * would print goes to FN instead, with FD 1 for standard output
 * (app_write, app_printf) and 2 for a whole message line of app_error
 * and the like; FN returns 0 or -errno, which app_write and app_printf
 * return.  NULL ends the capture.  For threads that search several
 * files at once but must print as one would, file after file.
 */
typedef int (*app_sink_fn)(void *ctx, int fd, const void *, size_t);
void	app_capture(app_sink_fn fn, void *ctx);
/*
 * Print captured bytes where they were going, never to a sink: FD 1
 * checked as app_write, FD 2 after what standard output holds, as a
 * message is.  0 or -errno.
 */
int	app_emit(int fd, const void *, size_t);
/*
 * The write error standard output met so far has been worded by the
 * caller in a message of its own: app_finish still fails, quietly.
 */
void	app_output_reported(void);
/*
 * Flush and close standard output; a write error (full disk, EIO) turns
 * STATUS into EXIT_FAIL with a message; a closed pipe is quiet.
 */
int	app_finish(int status);
/* Have exit() check standard output too, if app_finish never ran. */
void	app_finish_at_exit(void);

/* "s" unless N is 1, for messages: "%ju byte%s", n, app_s(n). */
/*
 * Make the array *PP (a pointer to a pointer) hold at least NEED items of
 * SIZE bytes: *CAP doubles, from FIRST, until it does.  0, or -ENOMEM
 * with *PP and *CAP as they were.
 */
int	app_grow(void *pp, size_t *cap, size_t need, size_t size,
	    size_t first);
const char *app_s(uintmax_t n);

/* The description of an errno value for messages about FILE. */
const char *app_strerror(int err);

#endif /* APPLET_H */
