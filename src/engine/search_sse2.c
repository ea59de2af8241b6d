/*
 * search_sse2.c - SSE2 packed-pair search, forward and backward.
 *
 * The baseline of every x86-64 CPU: search_kernel.h over 16-byte vectors,
 * 4 x 16 positions per iteration.  There is no find-all kernel at this
 * level (mm_findall loops over mm_find), and sets run these kernels chunk
 * by chunk (Teddy needs SSSE3's pshufb); see set_chunked() in search_set.c.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stddef.h>
#include <stdint.h>

#include "search_int.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

/* The kernel of search_kernel.h on 4 x 16 positions per iteration. */
#define KERN_ISA	sse2
#define KERN_T		__attribute__((target("sse2")))
typedef __m128i		kvec;
typedef unsigned int	kmask;
#define KERN_W		16
#define KERN_FULL	0xffffu
#define KERN_U		4
#define KERN_LEAD	0
#define KERN_SET1(c)	_mm_set1_epi8(c)
#define KERN_LOADU(p)	_mm_loadu_si128((const __m128i *)(p))
#define KERN_AND(a, b)	_mm_and_si128(a, b)
#define KERN_CMPEQ(a, b) _mm_cmpeq_epi8(a, b)
#define KERN_COMB(a, b)	_mm_or_si128(a, b)
#define KERN_NONE(r)	(_mm_movemask_epi8(r) == 0)
#define KERN_MASK(r)	((unsigned int)_mm_movemask_epi8(r))
#define KERN_CTZ(m)	__builtin_ctz(m)
#define KERN_TOP(m)	(31 - __builtin_clz(m))

/* mm_find_sse2, mm_rfind_sse2 */
#include "search_kernel.h"

#else
/* Not x86: search.c and search_set.c never call this file. */
typedef int mm_search_sse2_unused;
#endif
