/*
 * findwalk.h - mmfind -R: the FILE operands with each directory replaced
 * by the regular files below it, in path order, for the several-files
 * search to take as if they had been given one by one.
 */
#ifndef FINDWALK_H
#define FINDWALK_H

#include <stddef.h>

struct walk_chunk;

struct walk {
	const char		**paths;	/* the files, in order */
	unsigned char		 *regular;	/* [i]: paths[i] was found below
						   a directory, a regular file */
	size_t			  n, cap;
	int			  walked;	/* a directory was walked */
	int			  failed;	/* something was unreadable */
	struct walk_chunk	 *chunks;	/* where the names live */
};

/*
 * Expand the N operands OPS into W.  A directory operand (or a symbolic
 * link to one: operands are followed) gives the regular files below it,
 * each directory's entries sorted by name (strcmp), depth first, so the
 * order is that of the paths; symbolic links below it are not followed
 * (nor searched), and FIFOs, sockets and devices are skipped.  Other
 * operands stay as given, for the search to open or report.  With
 * IMPLICIT the one operand is ".", the default, and the files below it
 * are named without "./", as grep -r names them.  A directory that
 * cannot be read is reported and sets W's failed; the walk goes on.
 * 0, or EXIT_FAIL after a message (out of memory).
 */
int	find_walk(struct walk *w, const char *const *ops, int n,
	    int implicit);
void	find_walk_free(struct walk *w);

#endif /* FINDWALK_H */
