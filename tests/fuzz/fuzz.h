/*
 * fuzz.h - shared by the libFuzzer harnesses in tests/fuzz.
 *
 * A harness that finds the engine disagreeing with its reference calls
 * FUZZ_FAIL: the message goes to standard error and abort() makes
 * libFuzzer save the input as a crash artifact.
 */
#ifndef FUZZ_H
#define FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_FAIL(...) do {						\
	fprintf(stderr, "fuzz mismatch: " __VA_ARGS__);			\
	fputc('\n', stderr);						\
	abort();							\
} while (0)

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* The input as a NUL-terminated string, cut at its first NUL. */
static inline char *
fuzz_cstr(const uint8_t *data, size_t size)
{
	char *s;

	if ((s = malloc(size + 1)) == NULL)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/*
 * The naive references' compare: does the LEN-byte pattern DATA match at
 * H, MASK (when not NULL) 0 where any byte matches, ICASE folding ASCII
 * letters?  A plain loop: libFuzzer's hook on memcmp would cost more
 * than the whole compare.
 */
static inline int
fuzz_match(const unsigned char *data, const unsigned char *mask, size_t len,
    const unsigned char *h, int icase)
{
	size_t j;
	int a, b;

	for (j = 0; j < len; j++) {
		if (mask != NULL && mask[j] == 0)
			continue;
		a = h[j];
		b = data[j];
		if (icase) {
			a = a >= 'A' && a <= 'Z' ? a + 32 : a;
			b = b >= 'A' && b <= 'Z' ? b + 32 : b;
		}
		if (a != b)
			return 0;
	}
	return 1;
}

#endif /* FUZZ_H */
