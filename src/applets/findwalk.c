/*
 * findwalk.c - mmfind -R: walk directory operands into a list of files
 * (see findwalk.h).  readdir's d_type tells most entries' kind, so a walk
 * stats nothing but what the file system leaves untyped: the list is
 * path strings only, whatever the tree holds.
 */
#include "config.h"

#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "applet.h"
#include "applets/findwalk.h"

/* Paths are kept in chunks, not one allocation each. */
#define CHUNK_SIZE	((size_t)256 << 10)

struct walk_chunk {
	struct walk_chunk	*next;
	size_t			 used, cap;
	char			 data[];
};

/* One directory's entries: names in one buffer, sorted through ENT. */
struct ent {
	size_t		 at;		/* where its name starts */
	unsigned char	 type;		/* its d_type */
};

struct entries {
	char		*names;
	size_t		 len, cap;
	struct ent	*ent;
	size_t		 n, ncap;
};

/* The directory being walked, and room for its entries' paths. */
struct pathbuf {
	char		*buf;
	size_t		 len, cap;
};

static const char *
keep(struct walk *w, const char *s, size_t len)
{
	struct walk_chunk *c = w->chunks;
	char *p;

	if (c == NULL || c->cap - c->used < len + 1) {
		size_t cap = len + 1 > CHUNK_SIZE ? len + 1 : CHUNK_SIZE;

		if ((c = malloc(sizeof(*c) + cap)) == NULL)
			return NULL;
		c->next = w->chunks;
		c->used = 0;
		c->cap = cap;
		w->chunks = c;
	}
	p = c->data + c->used;
	memcpy(p, s, len);
	p[len] = '\0';
	c->used += len + 1;
	return p;
}

static int
add(struct walk *w, const char *s, size_t len, int regular)
{
	const char **q;
	unsigned char *r;
	size_t cap;

	if (w->n >= INT_MAX)
		return -EOVERFLOW;
	if (w->n == w->cap) {
		cap = w->cap ? w->cap * 2 : 256;
		if ((q = realloc(w->paths, cap * sizeof(*q))) == NULL)
			return -ENOMEM;
		w->paths = q;
		if ((r = realloc(w->regular, cap)) == NULL)
			return -ENOMEM;
		w->regular = r;
		w->cap = cap;
	}
	if ((w->paths[w->n] = keep(w, s, len)) == NULL)
		return -ENOMEM;
	w->regular[w->n++] = (unsigned char)regular;
	return 0;
}

static int
entry_add(struct entries *e, const char *name, unsigned char type)
{
	size_t len = strlen(name) + 1;

	if (app_grow(&e->names, &e->cap, e->len + len, 1, 4096) < 0 ||
	    app_grow(&e->ent, &e->ncap, e->n + 1, sizeof(*e->ent), 64) < 0)
		return -ENOMEM;
	memcpy(e->names + e->len, name, len);
	e->ent[e->n].at = e->len;
	e->ent[e->n++].type = type;
	e->len += len;
	return 0;
}

static void
entries_free(struct entries *e)
{
	free(e->names);
	free(e->ent);
}

/* qsort's view of the names being sorted. */
static const char	*sort_names;

static int
by_name(const void *a, const void *b)
{
	const struct ent *x = a, *y = b;

	return strcmp(sort_names + x->at, sort_names + y->at);
}

/* Make PB hold the path of NAME in the directory it holds, now LEN long. */
static int
child(struct pathbuf *pb, size_t len, const char *name)
{
	size_t nlen = strlen(name), need;
	int sep = len > 0 && pb->buf[len - 1] != '/';
	char *q;

	need = len + sep + nlen + 1;
	if (need > pb->cap) {
		if ((q = realloc(pb->buf, need * 2)) == NULL)
			return -ENOMEM;
		pb->buf = q;
		pb->cap = need * 2;
	}
	if (sep)
		pb->buf[len] = '/';
	memcpy(pb->buf + len + sep, name, nlen + 1);
	pb->len = len + sep + nlen;
	return 0;
}

/*
 * Walk the directory whose path PB holds (empty: the current one, its
 * files named bare); -ENOMEM is the only error that stops the walk.
 */
static int
walk_dir(struct walk *w, struct pathbuf *pb)
{
	struct entries e;
	struct dirent *de;
	struct stat st;
	const char *shown = pb->len == 0 ? "." : pb->buf;
	size_t i, len = pb->len;
	DIR *d;
	int rc = 0;

	memset(&e, 0, sizeof(e));
	if ((d = opendir(shown)) == NULL) {
		app_file_error(shown, -errno);
		w->failed = 1;
		return 0;
	}
	for (;;) {
		errno = 0;
		if ((de = readdir(d)) == NULL) {
			if (errno != 0) {
				app_file_error(shown, -errno);
				w->failed = 1;
			}
			break;
		}
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if ((rc = entry_add(&e, de->d_name, de->d_type)) < 0)
			break;
	}
	closedir(d);
	/* An empty directory has no list at all to sort. */
	if (rc == 0 && e.n > 0) {
		sort_names = e.names;
		qsort(e.ent, e.n, sizeof(*e.ent), by_name);
	}
	for (i = 0; i < e.n && rc == 0; i++) {
		unsigned char type = e.ent[i].type;

		if ((rc = child(pb, len, e.names + e.ent[i].at)) < 0)
			break;
		/* Some file systems leave the kind to a stat. */
		if (type == DT_UNKNOWN)
			type = lstat(pb->buf, &st) == 0 ?
			    IFTODT(st.st_mode) : DT_UNKNOWN;
		if (type == DT_REG)
			rc = add(w, pb->buf, pb->len, 1);
		else if (type == DT_DIR)
			rc = walk_dir(w, pb);
	}
	pb->len = len;
	if (len > 0)
		pb->buf[len] = '\0';
	entries_free(&e);
	return rc;
}

int
find_walk(struct walk *w, const char *const *ops, int n, int implicit)
{
	struct pathbuf pb;
	struct stat st;
	int i, rc = 0;

	memset(w, 0, sizeof(*w));
	memset(&pb, 0, sizeof(pb));
	for (i = 0; i < n && rc == 0; i++) {
		/* An operand is followed: stat, not lstat. */
		if (strcmp(ops[i], "-") == 0 || stat(ops[i], &st) != 0 ||
		    !S_ISDIR(st.st_mode)) {
			rc = add(w, ops[i], strlen(ops[i]), 0);
			continue;
		}
		w->walked = 1;
		if ((rc = child(&pb, 0, implicit ? "" : ops[i])) == 0)
			rc = walk_dir(w, &pb);
	}
	free(pb.buf);
	if (rc < 0)
		return app_error("%s", app_strerror(rc));
	return 0;
}

void
find_walk_free(struct walk *w)
{
	struct walk_chunk *c, *next;

	for (c = w->chunks; c != NULL; c = next) {
		next = c->next;
		free(c);
	}
	free(w->paths);
	free(w->regular);
	memset(w, 0, sizeof(*w));
}
