/*
 * flush.h - writing a file's changed pages back to storage (msync), the
 * one way every applet's --sync and mmflush make a change durable.
 */
#ifndef MM_FLUSH_H
#define MM_FLUSH_H

#include "mm.h"

/*
 * With MS_SYNC: the file's size changed too (mmresize), so the whole file
 * is synced, size and blocks with it (fsync), whatever the range.
 */
#define MM_FLUSH_SIZE	0x10000

/*
 * msync [OFF, OFF+LEN) of F with FLAGS (MS_SYNC or MS_ASYNC, maybe
 * MS_INVALIDATE, maybe MM_FLUSH_SIZE), widened to whole pages
 * (mm_page_span), through windows of a mapping.  The range must lie
 * inside the file (-ERANGE).  *START and *END (if not NULL) get the byte
 * range flushed: page aligned, END cut at the end of the file.  A
 * write-back error is returned (-EIO), never dropped.  Empty ranges do
 * nothing.  F should be open for writing: on a read-only descriptor msync
 * writes nothing back, so MS_SYNC becomes fdatasync of the whole file and
 * MS_ASYNC starts write-back of the range (sync_file_range).
 */
int	mm_flush(struct mm_file *f, uint64_t off, uint64_t len, int flags,
	    uint64_t *start, uint64_t *end);

#endif /* MM_FLUSH_H */
