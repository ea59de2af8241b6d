/*
 * fuzz_size.c - mmresize's size grammar (mm_size_spec_parse and
 * mm_size_spec_apply) and mm_resize_plan against a reference written
 * from SPEC and coreutils truncate: SIZE, +N, -N, <N, >N, /N, %N.
 *
 * Input: a SIZE string; its bytes also choose the old size and --at.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "mm.h"
#include "resize.h"
#include "fuzz.h"
#include "refnum.h"

static uint64_t
pick(const uint8_t *data, size_t size, size_t at)
{
	static const uint64_t edges[] = { 0, 1, 4095, 4096, 1000000,
	    (uint64_t)1 << 32, MM_OFF_MAX - 1, MM_OFF_MAX };
	uint64_t v = 0;
	size_t i;

	if (size == 0)
		return 0;
	/* Small values mostly, the edges now and then. */
	for (i = 0; i < 3; i++)
		v = v << 8 | data[(at + i) % size];
	if (v % 16 == 0)
		return edges[(v >> 4) % 8];
	return v % 100003;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_cstr(data, size);
	struct mm_size_spec spec;
	struct mm_resize r;
	uint64_t old, want = 0, got = 0, v = 0, at;
	const char *num = s;
	int rc, wrc, op = '=';
	unsigned __int128 w;

	if (strchr("+-<>/%", s[0]) != NULL && s[0] != '\0')
		op = *num++;
	wrc = ref_parse_size(num, &v);
	if (wrc == 0 && v == 0 && (op == '/' || op == '%'))
		wrc = -EDOM;
	rc = mm_size_spec_parse(s, &spec);
	if (rc != wrc || (rc == 0 && ((int)spec.op != op || spec.val != v)))
		FUZZ_FAIL("mm_size_spec_parse('%s'): %d, want %d", s, rc, wrc);
	if (rc != 0)
		goto out;

	old = pick(data, size, 0);
	w = old;
	switch (op) {
	case '=': w = v; break;
	case '+': w = (unsigned __int128)old + v; break;
	case '-': w = v > old ? 0 : old - v; break;
	case '<': w = old < v ? old : v; break;
	case '>': w = old > v ? old : v; break;
	case '/': w = old / v * v; break;
	case '%': w = ((unsigned __int128)old + v - 1) / v * v; break;
	}
	wrc = w > MM_OFF_MAX ? -EFBIG : 0;
	want = (uint64_t)w;
	rc = mm_size_spec_apply(&spec, old, &got);
	if (rc != wrc || (rc == 0 && got != want))
		FUZZ_FAIL("'%s' applied to %" PRIu64 ": %d %" PRIu64
		    ", want %d %" PRIu64, s, old, rc, got, wrc, want);
	if (rc != 0)
		goto out;

	/* --at: an insert may start at the end, a removal must end by it. */
	at = pick(data, size, 3);
	rc = mm_resize_plan(old, got, 1, at, &r);
	wrc = (got >= old ? at > old : at + (old - got) > old) ? -ERANGE : 0;
	if (rc != wrc)
		FUZZ_FAIL("plan %" PRIu64 " -> %" PRIu64 " at %" PRIu64
		    ": %d, want %d", old, got, at, rc, wrc);
	if (rc == 0 && (r.old_size != old || r.new_size != got ||
	    r.at != at || (got == old) != (r.how == MM_HOW_NONE)))
		FUZZ_FAIL("plan %" PRIu64 " -> %" PRIu64 " at %" PRIu64
		    ": wrong plan", old, got, at);
	rc = mm_resize_plan(old, got, 0, 0, &r);
	if (rc != 0 || r.at != (got > old ? old : got) ||
	    r.how != (got == old ? MM_HOW_NONE : MM_HOW_END))
		FUZZ_FAIL("plan %" PRIu64 " -> %" PRIu64 " at the end",
		    old, got);
out:
	free(s);
	return 0;
}
