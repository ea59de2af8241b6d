/*
 * patch_undo.c - the text of a checked batch, one serializer for both
 * its forms: the undo script ("OFFSET OLDHEX NEWHEX", itself a patch
 * script) and the report of a dry run ("OFFSET: OLDHEX -> NEWHEX");
 * saving an undo script durably, and taking it away again.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "patch_int.h"

/*
 * Output gathered in a buffer of the heap, handed on when full.  Each
 * piece is formatted straight into it, so the text costs what it says:
 * a one-byte edit is a handful of bytes of work, not a block.
 */
#define TEXT_BUF	((size_t)64 << 10)

struct text {
	mm_patch_out	 out;
	void		*arg;
	int		 err;		/* the first error, an errno */
	size_t		 n;
	char		*buf;
};

static void
tx_flush(struct text *t)
{
	int rc;

	if (t->err == 0 && t->n > 0 && (rc = t->out(t->arg, t->buf,
	    t->n)) < 0)
		t->err = -rc;
	t->n = 0;
}

/* Room for at least NEED bytes (NEED <= TEXT_BUF); what there is. */
static size_t
tx_room(struct text *t, size_t need)
{
	if (TEXT_BUF - t->n < need)
		tx_flush(t);
	return TEXT_BUF - t->n;
}

static void
tx_put(struct text *t, const void *s, size_t len)
{
	const char *p = s;
	size_t n;

	while (len > 0 && t->err == 0) {
		n = tx_room(t, 1);
		n = n < len ? n : len;
		memcpy(t->buf + t->n, p, n);
		t->n += n;
		p += n;
		len -= n;
	}
}

static void
tx_hex(struct text *t, const unsigned char *p, size_t len)
{
	size_t n;

	/* mm_hex_format ends with a NUL: one byte more than the digits. */
	while (len > 0 && t->err == 0) {
		n = (tx_room(t, 3) - 1) / 2;
		n = n < len ? n : len;
		mm_hex_format(p, n, t->buf + t->n);
		t->n += 2 * n;
		p += n;
		len -= n;
	}
}

/* DATA REPEAT times: the hex of one copy, copied on, never reformatted. */
static void
tx_hex_repeat(struct text *t, const unsigned char *data, size_t len,
    uint64_t repeat)
{
	char *one;
	size_t start;

	if (repeat == 1 || len == 0 || len > TEXT_BUF / 4) {
		for (; repeat > 0 && t->err == 0; repeat--)
			tx_hex(t, data, len);
		return;
	}
	tx_room(t, 2 * len + 1);
	start = t->n;
	tx_hex(t, data, len);
	one = t->buf + start;
	/* Kept until the buffer fills; then from the start of the next. */
	for (repeat--; repeat > 0 && t->err == 0; repeat--) {
		if (TEXT_BUF - t->n < 2 * len) {
			tx_flush(t);
			memmove(t->buf, one, 2 * len);
			one = t->buf;
			t->n = 2 * len;
			continue;
		}
		memcpy(t->buf + t->n, one, 2 * len);
		t->n += 2 * len;
	}
}

/* Decimal OFF, without printf's cost per edit. */
static void
tx_offset(struct text *t, uint64_t off)
{
	char num[24], *s = num + sizeof(num);

	do {
		*--s = (char)('0' + off % 10);
		off /= 10;
	} while (off > 0);
	tx_put(t, s, (size_t)(num + sizeof(num) - s));
}

/*
 * The one serializer: "# COMMENT" first when COMMENT is not NULL, then
 * for each edit that writes bytes "PREFIX OFFSET SEP OLDHEX ARROW
 * NEWHEX", without the blanks.
 */
static int
text(const struct mm_patch *p, const char *comment, const char *prefix,
    const char *sep, const char *arrow, mm_patch_out out, void *arg)
{
	size_t i, plen = strlen(prefix), slen = strlen(sep),
	    alen = strlen(arrow);
	struct text t;

	if (!(p->flags & MM_PATCH_KEEP_OLD) || p->f == NULL)
		return -EINVAL;
	t.out = out;
	t.arg = arg;
	t.err = 0;
	t.n = 0;
	if ((t.buf = malloc(TEXT_BUF)) == NULL)
		return -ENOMEM;
	if (comment != NULL) {
		tx_put(&t, "# ", 2);
		tx_put(&t, comment, strlen(comment));
		tx_put(&t, "\n", 1);
	}
	for (i = 0; i < p->n && t.err == 0; i++) {
		const struct mm_edit *e = &p->e[i];

		if (e->total == 0)
			continue;
		tx_put(&t, prefix, plen);
		tx_offset(&t, e->off);
		tx_put(&t, sep, slen);
		tx_hex(&t, e->old, (size_t)e->total);
		tx_put(&t, arrow, alen);
		tx_hex_repeat(&t, e->data, e->len, e->repeat);
		tx_put(&t, "\n", 1);
	}
	tx_flush(&t);
	free(t.buf);
	return -t.err;
}

int
mm_patch_undo_text(const struct mm_patch *p, const char *comment,
    mm_patch_out out, void *arg)
{
	return text(p, comment, "", " ", " ", out, arg);
}

int
mm_patch_report(const struct mm_patch *p, const char *prefix,
    mm_patch_out out, void *arg)
{
	return text(p, NULL, prefix, ": ", " -> ", out, arg);
}

/* The text into the file open on *(int *)ARG. */
static int
fd_out(void *arg, const void *buf, size_t len)
{
	const char *p = buf;
	int fd = *(int *)arg;
	ssize_t r;

	while (len > 0) {
		r = write(fd, p, len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return r < 0 ? -errno : -EIO;
		p += r;
		len -= (size_t)r;
	}
	return 0;
}

static int
sync_fd(int fd)
{
	/* Where nothing can be synced (EINVAL, EROFS), nothing is lost. */
	if (fsync(fd) == -1 && errno != EINVAL && errno != EROFS)
		return -errno;
	return 0;
}

/* Open PATH's directory, and point *BASE at PATH's last component. */
static int
open_dir_of(const char *path, const char **base)
{
	const char *slash = strrchr(path, '/');
	char *dir;
	int fd;

	if (slash == NULL) {
		*base = path;
		fd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		return fd == -1 ? -errno : fd;
	}
	*base = slash + 1;
	if ((dir = strndup(path, slash == path ? 1 : (size_t)(slash -
	    path))) == NULL)
		return -ENOMEM;
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	free(dir);
	return fd == -1 ? -errno : fd;
}

void
mm_undo_close(struct mm_undo *u)
{
	if (u->dirfd >= 0)
		close(u->dirfd);
	free(u->name);
	u->dirfd = -1;
	u->name = NULL;
}

int
mm_undo_remove(struct mm_undo *u)
{
	struct stat st;
	int rc = 0;

	if (u->dirfd < 0 || u->name == NULL)
		return 0;
	/* Only the file saved: never one put in its place since. */
	if (fstatat(u->dirfd, u->name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    st.st_dev == u->dev && st.st_ino == u->ino) {
		if (unlinkat(u->dirfd, u->name, 0) == -1)
			rc = -errno;
		else
			rc = sync_fd(u->dirfd);
	}
	mm_undo_close(u);
	return rc;
}


int
mm_patch_save_undo(const struct mm_patch *p, const char *path,
    const char *comment, struct mm_undo *u)
{
	struct stat st, fst;
	const char *base;
	int fd, rc;

	u->dirfd = -1;
	u->name = NULL;
	if (!(p->flags & MM_PATCH_KEEP_OLD) || p->f == NULL)
		return -EINVAL;
	if (fstat(p->f->fd, &fst) == -1)
		return -errno;
	/*
	 * The directory is held open: the file is made, synced and, if
	 * need be, removed in this very directory, whatever is renamed.
	 */
	if ((u->dirfd = open_dir_of(path, &base)) < 0) {
		rc = u->dirfd;
		u->dirfd = -1;
		return rc;
	}
	if (*base == '\0') {
		mm_undo_close(u);
		return -EISDIR;
	}
	/*
	 * Only a new file: an earlier undo is never lost, and a symbolic
	 * link planted here never leads the write elsewhere.  0600: it
	 * holds the old bytes, which may be secret.
	 */
	fd = openat(u->dirfd, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_NOCTTY | O_CLOEXEC, 0600);
	if (fd == -1) {
		rc = -errno;
		if (rc == -EEXIST && fstatat(u->dirfd, base, &st, 0) == 0 &&
		    st.st_dev == fst.st_dev && st.st_ino == fst.st_ino)
			rc = -EINVAL;
		mm_undo_close(u);
		return rc;
	}
	if ((u->name = strdup(base)) == NULL || fstat(fd, &st) == -1) {
		rc = u->name == NULL ? -ENOMEM : -errno;
		unlinkat(u->dirfd, base, 0);
		close(fd);
		mm_undo_close(u);
		return rc;
	}
	u->dev = st.st_dev;
	u->ino = st.st_ino;
	rc = mm_patch_undo_text(p, comment, fd_out, &fd);
	if (rc == 0)
		rc = sync_fd(fd);
	if (close(fd) == -1 && rc == 0)
		rc = -errno;
	if (rc == 0)
		rc = sync_fd(u->dirfd);
	if (rc < 0) {
		mm_undo_remove(u);
		return rc;
	}
	return 0;
}

int
mm_patch_unchanged(const struct mm_patch *p)
{
	const size_t blen = (size_t)64 << 10;
	const struct mm_edit *e;
	unsigned char *buf;
	uint64_t done;
	size_t i, n;
	ssize_t r;
	int rc = 1;

	if (!(p->flags & MM_PATCH_KEEP_OLD) || p->f == NULL)
		return -EINVAL;
	if ((buf = malloc(blen)) == NULL)
		return -ENOMEM;
	for (i = 0; i < p->n && rc == 1; i++) {
		e = &p->e[i];
		for (done = 0; done < e->total; done += n) {
			n = e->total - done < blen ?
			    (size_t)(e->total - done) : blen;
			r = pread(p->f->fd, buf, n, (off_t)(e->off + done));
			if (r == -1 && errno == EINTR) {
				n = 0;
				continue;
			}
			if (r == -1) {
				rc = -errno;
				break;
			}
			/* Short: the file shrank, the old bytes are gone. */
			if ((size_t)r != n || memcmp(buf, e->old + done,
			    n) != 0) {
				rc = 0;
				break;
			}
		}
	}
	free(buf);
	return rc;
}
