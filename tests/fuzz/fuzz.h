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

#endif /* FUZZ_H */
