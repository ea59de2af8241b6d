/*
 * fuzz_number.c - mm_parse_size, mm_parse_offset and mm_offset_resolve
 * against an independent reading of the grammar (refnum.h), and round
 * trips of every accepted value through decimal, hex and suffix forms.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "mm.h"
#include "fuzz.h"
#include "refnum.h"

static void
roundtrip(uint64_t v)
{
	static const char *suffix[] = { "K", "MiB", "g", "Tib", "P", "E" };
	char buf[64];
	uint64_t got, m = 1;
	int i;

	snprintf(buf, sizeof(buf), "%" PRIu64, v);
	if (mm_parse_size(buf, &got) != 0 || got != v)
		FUZZ_FAIL("'%s' does not read back", buf);
	snprintf(buf, sizeof(buf), "0x%" PRIx64, v);
	if (mm_parse_size(buf, &got) != 0 || got != v)
		FUZZ_FAIL("'%s' does not read back", buf);
	for (i = 0; i < 6; i++) {
		m *= 1024;
		if (v % m != 0)
			break;
		snprintf(buf, sizeof(buf), "%" PRIu64 "%s", v / m, suffix[i]);
		if (mm_parse_size(buf, &got) != 0 || got != v)
			FUZZ_FAIL("'%s' does not read back as %" PRIu64, buf,
			    v);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_cstr(data, size);
	uint64_t got = 0, want = 0, res, fsize;
	int rc, wrc, neg;

	rc = mm_parse_size(s, &got);
	wrc = ref_parse_size(s, &want);
	if (rc != wrc || (rc == 0 && got != want))
		FUZZ_FAIL("mm_parse_size('%s'): %d %" PRIu64 ", want %d %"
		    PRIu64, s, rc, got, wrc, want);
	if (rc == 0) {
		if (got > MM_OFF_MAX)
			FUZZ_FAIL("'%s' gave %" PRIu64 " > 2^63-1", s, got);
		roundtrip(got);
	} else if (rc != -EINVAL && rc != -ERANGE)
		FUZZ_FAIL("mm_parse_size('%s'): unexpected %d", s, rc);

	got = want = 0;
	rc = mm_parse_offset(s, &got, &neg);
	wrc = ref_parse_size(s + (s[0] == '-'), &want);
	/* -0 is the start: no "from the end" left in it. */
	if (rc != wrc || (rc == 0 && got != want) ||
	    neg != (s[0] == '-' && (rc != 0 || got != 0)))
		FUZZ_FAIL("mm_parse_offset('%s'): %d %" PRIu64 " neg %d", s,
		    rc, got, neg);
	if (rc == 0) {
		/* Resolve against a size the input also chooses. */
		fsize = size > 0 ? (uint64_t)data[0] * 977 : 0;
		rc = mm_offset_resolve(got, neg, fsize, &res);
		if (!neg ? rc != 0 || res != got :
		    got > fsize ? rc != -ERANGE :
		    rc != 0 || res != fsize - got)
			FUZZ_FAIL("mm_offset_resolve(%" PRIu64 ", %d, %" PRIu64
			    "): %d %" PRIu64, got, neg, fsize, rc, res);
	}
	free(s);
	return 0;
}
