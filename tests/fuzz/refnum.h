/*
 * refnum.h - an independent reading of SPEC's number grammar, for the
 * fuzzers to hold mm_parse_size against: decimal or 0x hex digits, then
 * nothing, K M G T P E (1024^n), KiB..EiB (1024^n) or KB..EB (1000^n) in
 * any case; above 2^63-1 is -ERANGE, bad syntax -EINVAL and wins.
 */
#ifndef REFNUM_H
#define REFNUM_H

#include <errno.h>
#include <stdint.h>

static inline int
ref_digit(int c, int base)
{
	int d;

	if (c >= '0' && c <= '9')
		d = c - '0';
	else if (base == 16 && c >= 'a' && c <= 'f')
		d = c - 'a' + 10;
	else if (base == 16 && c >= 'A' && c <= 'F')
		d = c - 'A' + 10;
	else
		return -1;
	return d;
}

static inline int
ref_ieq(char a, char b)
{
	if (a >= 'a' && a <= 'z')
		a -= 32;
	if (b >= 'a' && b <= 'z')
		b -= 32;
	return a == b;
}

static inline int
ref_parse_size(const char *s, uint64_t *out)
{
	const char *units = "KMGTPE";
	unsigned __int128 v = 0, mult = 1, lim = INT64_MAX;
	int base = 10, big = 0, d, n = 0, i, k;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
	}
	for (; (d = ref_digit((unsigned char)*s, base)) >= 0; s++, n++) {
		v = v * (unsigned)base + (unsigned)d;
		if (v > lim) {
			big = 1;
			v = lim + 1;	/* saturate: stays above the limit */
		}
	}
	if (n == 0)
		return -EINVAL;
	if (*s != '\0') {
		for (k = 0; k < 6; k++)
			if (ref_ieq(*s, units[k]))
				break;
		if (k == 6)
			return -EINVAL;
		if (s[1] == '\0' || (ref_ieq(s[1], 'i') && ref_ieq(s[2], 'b') &&
		    s[3] == '\0'))
			base = 1024;
		else if (ref_ieq(s[1], 'b') && s[2] == '\0')
			base = 1000;
		else
			return -EINVAL;
		for (i = 0; i <= k; i++)
			mult *= (unsigned)base;
	}
	if (big || v * mult > lim)
		return -ERANGE;
	*out = (uint64_t)(v * mult);
	return 0;
}

#endif /* REFNUM_H */
