/*
 * test_parse.c - numbers and byte strings, corner by corner.
 */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/mm.h"
#include "tap.h"

static void
size_is(const char *s, uint64_t want)
{
	uint64_t v = 12345;
	int rc = mm_parse_size(s, &v);

	ok(rc == 0 && v == want, "size '%s' is %llu (rc %d, got %llu)", s,
	    (unsigned long long)want, rc, (unsigned long long)v);
}

static void
size_err(const char *s, int want)
{
	uint64_t v = 777;
	int rc = mm_parse_size(s, &v);

	ok(rc == want && v == 777, "size '%s' fails with %d (got %d)", s,
	    want, rc);
}

static void
offset_is(const char *s, uint64_t want, int wantneg)
{
	uint64_t v = 0;
	int neg = -1, rc = mm_parse_offset(s, &v, &neg);

	ok(rc == 0 && v == want && neg == wantneg, "offset '%s' is %s%llu",
	    s, wantneg ? "-" : "", (unsigned long long)want);
}

static void
hex_is(const char *s, int wild, const char *want, size_t len,
    const char *wantmask)
{
	struct mm_bytes b;
	int rc = mm_parse_hex(s, wild, &b, NULL);
	int good = rc == 0 && b.len == len && memcmp(b.data, want, len) == 0;

	if (good && wantmask == NULL)
		good = b.mask == NULL;
	else if (good)
		good = b.mask != NULL && memcmp(b.mask, wantmask, len) == 0;
	ok(good, "hex '%s' parses to %zu bytes", s, len);
	if (rc == 0)
		mm_bytes_free(&b);
}

/*
 * A line of offsets for FILE: RC, and with RC 0 the offset, its text
 * and (WANTREST not NULL: with a COUNT) what follows it.
 */
static void
line_is(const char *line, const char *file, int wantrc, uint64_t want,
    int wantneg, const char *wanttok, const char *wantrest)
{
	char buf[256], *tok = NULL, *rest = NULL;
	uint64_t v = 0;
	int neg = -1, rc, good;

	snprintf(buf, sizeof(buf), "%s", line);
	rc = mm_parse_offset_line(buf, file, &v, &neg, &tok,
	    wantrest != NULL ? &rest : NULL);
	good = rc == wantrc;
	if (good && rc <= 0 && wanttok != NULL)
		good = tok != NULL && strcmp(tok, wanttok) == 0;
	if (good && rc == 0)
		good = v == want && neg == wantneg && (wantrest == NULL ||
		    (rest != NULL && strcmp(rest, wantrest) == 0));
	ok(good, "line '%s' of '%s': rc %d (got %d, tok '%s', rest '%s')",
	    line, file != NULL ? file : "(none)", wantrc, rc,
	    tok != NULL ? tok : "", rest != NULL ? rest : "");
}

static void
hex_err(const char *s, int wild, size_t wantpos)
{
	struct mm_bytes b;
	size_t pos = 999;
	int rc = mm_parse_hex(s, wild, &b, &pos);

	ok(rc == -EINVAL && pos == wantpos,
	    "hex '%s' is an error at %zu (rc %d, pos %zu)", s, wantpos, rc,
	    pos);
}

int
main(void)
{
	uint64_t v;
	char path[] = "/tmp/mmtest.XXXXXX";
	struct mm_bytes b;
	char hex[16];
	int fd;

	size_is("0", 0);
	size_is("17", 17);
	size_is("0x10", 16);
	size_is("0XfF", 255);
	size_is("1K", 1024);
	size_is("1k", 1024);
	size_is("1KiB", 1024);
	size_is("1kib", 1024);
	size_is("1KB", 1000);
	size_is("1kb", 1000);
	size_is("2M", 2 << 20);
	size_is("3MB", 3000000);
	size_is("1G", 1ULL << 30);
	size_is("1GiB", 1ULL << 30);
	size_is("1T", 1ULL << 40);
	size_is("1P", 1ULL << 50);
	size_is("7E", 7ULL << 60);
	size_is("1EB", 1000000000000000000ULL);
	size_is("0x10K", 16384);
	size_is("9223372036854775807", INT64_MAX);
	size_is("0x7fffffffffffffff", INT64_MAX);
	size_is("007", 7);
	size_is("0K", 0);
	size_err("9223372036854775808", -ERANGE);
	size_err("18446744073709551615", -ERANGE);
	size_err("18446744073709551616", -ERANGE);
	size_err("99999999999999999999999999", -ERANGE);
	size_err("0xffffffffffffffff", -ERANGE);
	size_err("0x8000000000000000", -ERANGE);
	size_err("8E", -ERANGE);
	size_err("16E", -ERANGE);
	size_err("8192P", -ERANGE);
	size_err("", -EINVAL);
	size_err("0x", -EINVAL);
	size_err("-1", -EINVAL);
	size_err("+1", -EINVAL);
	size_err(" 1", -EINVAL);
	size_err("1 ", -EINVAL);
	size_err("1.5K", -EINVAL);
	size_err("10Q", -EINVAL);
	size_err("1KK", -EINVAL);
	size_err("1Ki", -EINVAL);
	size_err("1KIBB", -EINVAL);
	size_err("K", -EINVAL);
	size_is("0x1g", 1ULL << 30);
	size_is("0x1EB", 0x1eb);
	size_err("12abc", -EINVAL);
	size_err("1 K", -EINVAL);
	size_err("99999999999999999999Q", -EINVAL);

	offset_is("4", 4, 0);
	offset_is("-4", 4, 1);
	offset_is("-0x10", 16, 1);
	offset_is("-1K", 1024, 1);
	/* -0 is the start, as Python's index -0 is, in every spelling. */
	offset_is("-0", 0, 0);
	offset_is("-0x0", 0, 0);
	offset_is("-0K", 0, 0);
	ok(mm_parse_offset("--4", &v, &fd) == -EINVAL, "offset '--4' is bad");
	ok(mm_parse_offset("-", &v, &fd) == -EINVAL, "offset '-' is bad");

	ok(mm_offset_resolve(4, 1, 10, &v) == 0 && v == 6, "-4 of 10 is 6");
	ok(mm_offset_resolve(10, 1, 10, &v) == 0 && v == 0, "-10 of 10 is 0");
	ok(mm_offset_resolve(11, 1, 10, &v) == -ERANGE, "-11 of 10 fails");
	ok(mm_offset_resolve(0, 1, 10, &v) == 0 && v == 0, "-0 of 10 is 0");
	ok(mm_offset_resolve(0, 1, 0, &v) == 0 && v == 0, "-0 of 0 is 0");
	ok(mm_offset_resolve(99, 0, 10, &v) == 0 && v == 99,
	    "positive offsets are not checked against the size here");

	/* Lines of mmfind -a output, as mmpatch and mmread take them. */
	line_is("42", "f.bin", 0, 42, 0, "42", NULL);
	line_is("  0x10 \r", "f.bin", 0, 16, 0, "0x10", NULL);
	line_is("-4", NULL, 0, 4, 1, "-4", NULL);
	line_is("f.bin:7", "f.bin", 0, 7, 0, "7", NULL);
	line_is("f.bin: 7", "f.bin", 0, 7, 0, "7", NULL);
	line_is("my file.bin:7", "my file.bin", 0, 7, 0, "7", "");
	line_is("g.bin:7", "f.bin", -EXDEV, 0, 0, "g.bin:7", NULL);
	line_is("f.bin:7", NULL, -EXDEV, 0, 0, "f.bin:7", NULL);
	line_is("f.bin:7", "f", -EXDEV, 0, 0, "f.bin:7", NULL);
	line_is("other file:7 3", "f.bin", -EXDEV, 0, 0, "other file:7 3",
	    "");
	line_is("", "f.bin", 1, 0, 0, NULL, NULL);
	line_is(" \t ", "f.bin", 1, 0, 0, NULL, "");
	line_is("seven", "f.bin", -EINVAL, 0, 0, "seven", NULL);
	line_is("16E", "f.bin", -ERANGE, 0, 0, "16E", NULL);
	/* Without REST the whole line is the offset; with it, a COUNT. */
	line_is("5 6", "f.bin", -EINVAL, 0, 0, "5 6", NULL);
	line_is("5 6", "f.bin", 0, 5, 0, "5", "6");
	line_is("f.bin:0x5\t 6 ", "f.bin", 0, 5, 0, "0x5", "6");
	line_is("five 6", "f.bin", -EINVAL, 0, 0, "five", "");
	line_is("5", "f.bin", 0, 5, 0, "5", "");

	hex_is("deadbeef", 0, "\xde\xad\xbe\xef", 4, NULL);
	hex_is("DE AD:be\tef\n", 0, "\xde\xad\xbe\xef", 4, NULL);
	hex_is("0xdead", 0, "\xde\xad", 2, NULL);
	hex_is("0Xdead", 0, "\xde\xad", 2, NULL);
	hex_is("", 0, "", 0, NULL);
	hex_is("0x", 0, "", 0, NULL);
	hex_is("  ", 0, "", 0, NULL);
	hex_is("00", 0, "\0", 1, NULL);
	hex_is("de??ef", 1, "\xde\x00\xef", 3, "\xff\x00\xff");
	hex_is("????", 1, "\0\0", 2, "\0\0");
	hex_err("abc", 0, 3);
	hex_err("a", 0, 1);
	hex_err("zz", 0, 0);
	hex_err("0g", 0, 1);
	hex_err("de ad b", 0, 7);
	hex_err("d e", 0, 1);
	hex_err("de??", 0, 2);
	hex_err("de?a", 1, 2);
	hex_err("0x0x00", 0, 3);
	hex_err("-1", 0, 0);

	ok(mm_bytes_text("a\tb", &b) == 0 && b.len == 3 &&
	    memcmp(b.data, "a\tb", 3) == 0 && b.mask == NULL,
	    "text is taken literally");
	mm_bytes_free(&b);
	ok(mm_bytes_text("", &b) == 0 && b.len == 0 && b.data != NULL,
	    "empty text is an empty byte string");
	mm_bytes_free(&b);

	fd = mkstemp(path);
	ok(fd >= 0 && write(fd, "x\0y\n", 4) == 4, "make a pattern file");
	close(fd);
	ok(mm_bytes_file(path, &b) == 0 && b.len == 4 &&
	    memcmp(b.data, "x\0y\n", 4) == 0, "a file is taken whole");
	mm_bytes_free(&b);
	unlink(path);
	ok(mm_bytes_file(path, &b) == -ENOENT, "a missing file is ENOENT");
	ok(mm_bytes_file("/", &b) == -EISDIR, "a directory is EISDIR");

	mm_hex_format((const unsigned char *)"\x00\x7f\xff", 3, hex);
	ok(strcmp(hex, "007fff") == 0, "hex format is lowercase pairs");
	return tap_done();
}
