#!/usr/bin/env bats
# sparse.bats - mmfind and mmread on sparse files: data blocks at odd
# offsets between holes of odd lengths, files that end inside a hole,
# apparent sizes up to 64 GiB.  Every answer is compared with Python's
# (sparse.py: mmap.find/rfind, re), under MMUTILS_IO=mmap, read and auto,
# on the test's own file system and on tmpfs, ext4, XFS, btrfs and ramfs
# (whose SEEK_HOLE sees the whole file as data); mmread's bytes with
# dd's and its -C with hexdump -C.  A search reads no hole: a file's
# page-cache residency is the same after it as before.

load helpers

setup() {
	cd "$BATS_TEST_TMPDIR"
}

teardown() {
	cd /
	umount_fs
}

G=$((1 << 30))
M=$((1 << 20))
U=$((256 << 10))

# put FILE OFFSET HEX: write the bytes HEX at OFFSET, in place.
put() {
	printf "$(printf '%s' "$3" | sed 's/../\\x&/g')" |
	    dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}

# putrand FILE OFFSET COUNT SEED: COUNT random bytes at OFFSET, in place.
putrand() {
	randfile blk "$3" "$4"
	dd if=blk of="$1" bs=64K seek="$2" oflag=seek_bytes conv=notrunc \
	    status=none
	rm -f blk
}

# mid FILE: 16 U + 12345 bytes, U being 256 KiB.  Random data at the
# start and at 5 U + 7; NEEDLE in a hole's middle, across a page
# boundary and right after a hole; "ab" just before a hole (at 2 U) and
# "cd" just after one (at 3 U); "AbC", "ab\0\0\0ab" and a lone "x" in
# holes; "TAIL", then a hole to the end, which is no page boundary.
mid() {
	truncate -s $((16 * U + 12345)) "$1"
	putrand "$1" 0 5000 1
	put "$1" $((U + 333)) 4e4545444c45
	put "$1" $((2 * U - 4)) 78796162
	put "$1" $((3 * U)) 63644e4545444c45
	putrand "$1" $((5 * U + 7)) 70000 2
	put "$1" $((6 * U - 3)) 4e4545444c45
	put "$1" $((8 * U + 4095)) 416243
	put "$1" $((9 * U + 1)) 61620000006162
	put "$1" $((12 * U + 100)) 78
	put "$1" $((16 * U - 10)) 5441494c
}

# tiny FILE: 1 MiB + 99 bytes, for the cases whose answers run to
# thousands: a hole first, "NEEDLEab" at 200000, "ab" before the page
# boundary at 512 KiB, random data at 700001, a hole at the end.
tiny() {
	truncate -s $((M + 99)) "$1"
	put "$1" 200000 4e4545444c456162
	put "$1" $((512 * 1024 - 2)) 6162
	putrand "$1" 700001 3000 3
}

# big FILE: 64 GiB + 1234 bytes: NEEDLE at 40 GiB + 3, "ab" just before
# 48 GiB (a hole after), "cd" at 56 GiB (a hole before), TAIL 4079 bytes
# before 64 GiB, then a hole to the end.
big() {
	truncate -s $((64 * G + 1234)) "$1"
	put "$1" $((40 * G + 3)) 4e4545444c45
	put "$1" $((48 * G - 2)) 6162
	put "$1" $((56 * G)) 6364
	put "$1" $((64 * G - 4079)) 5441494c
}

# differ FILE: run the cases on stdin through sparse.py (each under
# MMUTILS_IO=mmap, read and auto); fail with what differed.
differ() {
	run --separate-stderr "$PYTHON3" "$MM_SRCDIR/tests/bats/sparse.py" "$1"
	[ "$status" = 0 ] || fail "$output $stderr"
}

# The cases on mid: needles in data, at and across the edges of holes,
# with zero bytes, all zeros, ?? wildcards, several patterns, -i, -P.
mid_cases() {
	differ "$1" <<EOF
# A needle in data, first, last, every one, counted, in ranges.
-x 4e4545444c45
-r -x 4e4545444c45
-a -x 4e4545444c45
-r -a -x 4e4545444c45
-c -x 4e4545444c45
-a -x 4e4545444c45 -s $((U + 334)) -E $((6 * U + 2))
-a -x 4e4545444c45 -s $((U + 334)) -E $((6 * U + 3))
-e NEEDLE -s $((3 * U + 1)) -E -100
-x 5441494c -r
-x 5441494c -s -10
# Across the edge of a hole: data then hole, hole then data.
-a -x 61620000
-r -x 61620000
-c -x 6162000000
-a -x 000063644e
-r -x 00000063
-a -x 0000636465 -s 100
-a -x 7800
-a -x 007800 -s $((12 * U)) -E $((12 * U + 102))
-a -x 007800 -s $((12 * U)) -E $((12 * U + 101))
# Zero bytes inside the needle.
-a -x 6162000000
-c -x 616200
-r -x 00416243
-a --overlap -x 00616200
# All zeros: counted, listed, backwards, cut inside holes.
-c -x 00
-c -x 00000000
-c --overlap -x 0000
-c --overlap -x 000000
-r -c -x 0000000000
-x 00000000
-x 000000 -s 4999
-r -x 00000000
-r -x 00 -E $((2 * U - 1))
-r -x 0000 -E $((3 * U + 1))
-a -m 7 -x 0000
-a -m 5 -x 0000 -s $((2 * U - 3))
-r -a -m 6 -x 000000
-r -a -m 6 -x 000000 -E $((9 * U + 8))
-a --overlap -m 9 -x 000000 -s $((3 * U - 4))
-r -a --overlap -m 9 -x 000000 -E $((3 * U + 2))
-c -m 1000 -x 00
-c -x 0000 -s $((U + 4097)) -E $((6 * U - 1))
-c --overlap -x 000000 -s $((U + 4097)) -E $((6 * U - 1))
-c -x 000000 -s $((2 * U + 1)) -E $((3 * U - 5))
-c -x 00000000 -s -12345
-c --overlap -x 00000000 -s -12340 -E -3
-r -c -x 000000 -s 5001 -E $((5 * U + 8))
-a -x 00000000 -s $((3 * U - 9)) -E $((3 * U + 3))
-a -x 00000000 -s $((16 * U + 12300))
-r -a -x 0000 -s -11
-a --overlap -x 0000 -s -9
-c -x 00 -s $((16 * U + 12345))
-c -x 00 -s $((16 * U + 12344))
# Wildcards.
-a -m 10 -x ??00??
-r -x ??00??
-r -a -m 4 -x ??00??
-c --overlap -x ??00?? -s $((2 * U - 100)) -E $((2 * U + 100))
-c -x ??00?? -s $((3 * U - 50)) -E $((3 * U + 50))
-a -x 62??00 -s $((9 * U))
-a -x 61??0000 -s $((U))
-r -x ????????5441
# Several patterns, one all zeros.
-a -m 6 -x 4e4545444c45 -x 00000000
-a -x 4e4545444c45 -x 00000000 -s $((U + 320)) -E $((U + 350))
-r -x 4e4545444c45 -x 000000000000
-r -a -m 5 -x 5441494c -x 0000
-c -x 4e4545444c45 -x 6162 -x 000000 -s $((6 * U - 50)) -E $((6 * U + 50))
-a -e NEEDLE -e cd -x 0000 -s $((3 * U - 5)) -E $((3 * U + 12))
-c --overlap -e ab -x 00 -s $((9 * U - 2)) -E $((9 * U + 12))
-r -c -x 6162 -x 61620000 -x 00000000 -s $((2 * U - 40)) -E $((2 * U + 40))
# Letters in either case.
-a -i -e abc
-r -i -e ABC
-c -i -x 4142
-a -i -x 4e45??444c -s $((3 * U - 1))
-a -i -e ab -x 0000 -s $((9 * U - 1)) -E $((9 * U + 10))
# Regular expressions.
-P '\x00{3}'
-r -P '\x00{3}' -s $((16 * U - 20))
-a -m 4 -P '\x00{3}' -s $((2 * U - 5))
-c -P 'ab\x00' -s $((U))
-a -P 'ab\x00'
-a -P 'ab\x00+' -s $((9 * U))
-r -a -P 'ab\x00' -E $((9 * U + 100))
-c -P '\x00{3}' -s $((3 * U - 12)) -E $((3 * U + 9))
-a -P 'x\x00+' -s $((12 * U + 99)) -E $((12 * U + 200))
-c -i -P 'needle' -s 4000
EOF
}

# The cases on tiny, whose answers are long.
tiny_cases() {
	differ "$1" <<EOF
-c -x ??00??
-c --overlap -x ??00??
-a -x 4e4545444c45 -x ??00 -s 199000 -E 201000
-a -m 100 -x 4e4545444c456162 -x ??00 -s 199000
-c -x 6162 -x 0000 -s 150000 -E 250000
-c -P '\x00{3}'
-c -r -P '\x00{3}'
-r -a -P '\x00{3}' -s $((512 * 1024 - 60)) -E $((512 * 1024 + 60))
-c -P 'ab\x00'
-c -i -x 41 -x 00000000 -s 450000 -E 560000
-r -c -x 6162 -x 000000 -s 180000 -E 220000
-a -r -x ??00 -s 199990 -E 200020
EOF
}

# The cases on big: windows, early stops and the ends, so that Python
# reads a few pages, not 64 GiB.
big_cases() {
	differ "$1" <<EOF
-r -x 00000000
-r -a -m 3 -x 0000
-r -x 5441494c
-r -x 5441494c00
-a -m 3 -x 00 -s $((40 * G - 5))
-a -x 000000 -s $((40 * G - 5)) -E $((40 * G + 15))
-x 4e4545444c45 -s $((40 * G - M)) -E $((40 * G + M))
-c -x 0000 -s $((40 * G - M)) -E $((40 * G + M + 7))
-c --overlap -x 000000 -s $((40 * G - M)) -E $((40 * G + M + 7))
-r -x 61620000 -s $((48 * G - 4096)) -E $((48 * G + 4096))
-r -x 61620000 -s $((48 * G - 4096)) -E $((48 * G + 1))
-a -x 00006364 -s $((56 * G - 9)) -E $((56 * G + 9))
-a -x 0000 -s $((56 * G - 9)) -E $((56 * G + 9))
-a -m 2 -x ??00?? -s $((60 * G + 1))
-a -P 'ab\x00' -s $((48 * G - 100)) -E $((48 * G + 100))
-c -P '\x00{3}' -s $((56 * G - 30)) -E $((56 * G + 30))
-r -a -m 3 -x 5441494c -x 000000
-c -x 00 -s -1234
-i -e tail -s $((64 * G - 8192))
EOF
	# And what the layout alone says.
	run -0 mmfind -r -x 0000 "$1"
	assert_output $((64 * G + 1232))
	run -0 mmfind -a -m 2 -x 0000 -s -5 "$1"
	assert_output "$(printf '%d\n%d' $((64 * G + 1229)) $((64 * G + 1231)))"
	# 4 zeros, NEEDLE, 991 zeros.
	run -0 mmfind -c -x 000000 -s $((40 * G - 1)) -E $((40 * G + 1000)) "$1"
	assert_output $((4 / 3 + 991 / 3))
}

# reads FILE OFFSET COUNT...: mmread of each range equals dd's bytes, and
# mmread -C hexdump -C's lines, under each MMUTILS_IO.
reads() {
	local f=$1 mode
	shift
	while [ $# -gt 0 ]; do
		for mode in mmap read auto; do
			export MMUTILS_IO=$mode
			cmp <(mmread "$f" "$1" "$2") \
			    <(dd if="$f" bs=64K iflag=skip_bytes,count_bytes \
			    skip="$1" count="$2" status=none) ||
			    fail "MMUTILS_IO=$mode mmread $f $1 $2 differs from dd"
			diff <(mmread -C "$f" "$1" "$2") \
			    <(hexdump -C -s "$1" -n "$2" "$f") ||
			    fail "MMUTILS_IO=$mode mmread -C $f $1 $2 differs from hexdump -C"
		done
		unset MMUTILS_IO
		shift 2
	done
}

mid_reads() {
	reads "$1" 0 $((5 * U + 123)) $((2 * U - 100)) 20000 \
	    $((2 * U + 5)) 70000 $((3 * U - 17)) 40 $((12 * U + 1)) 4000 \
	    $((16 * U - 50)) 12395 $((16 * U + 12000)) 345 0 $((16 * U + 12345))
}

big_reads() {
	reads "$1" $((40 * G - 64)) 65536 $((48 * G - 100)) 5000 \
	    $((56 * G - 7)) 300 $((64 * G - 5000)) 6234 $((64 * G + 1)) 1233
}

@test "mmfind on a sparse file agrees with Python: needles at hole edges, zeros, ??, -e, -i, -P" {
	need_python
	mid f
	mid_cases f
}

@test "mmfind on a sparse file agrees with Python where the answers run to thousands" {
	need_python
	tiny f
	tiny_cases f
}

@test "mmfind on a 64 GiB sparse file agrees with Python and with the layout" {
	need_python
	big f
	big_cases f
}

@test "mmread of ranges across holes equals dd's bytes; -C squeezes holes as hexdump -C does" {
	need_python
	mid f
	mid_reads f
	big g
	big_reads g
	# A range wholly in a hole: one line, then *, then the end.
	run -0 mmread -C g $((50 * G)) $M
	assert_equal "${#lines[@]}" 3
	assert_equal "${lines[1]}" "*"
}

@test "mmfind -c leaves the page-cache residency of a 1 GiB sparse file as it was" {
	# Reading a hole, through a mapping or read(), fills the page cache
	# with zero pages (a mapping's fault reads around itself, holes
	# included): fincore's count after the search is the proof that it
	# read none.  The four pages of data it searched may stay.
	command -v fincore >/dev/null || fail "fincore (util-linux) is missing"
	local mode before after want=
	truncate -s $G r
	for o in 100 300000000 600000001 $((G - 6)); do
		put r "$o" 4e4545444c45
	done
	for mode in mmap read auto; do
		run -0 --separate-stderr mmadvise r evict
		before=$(fincore -b -n -o PAGES r)
		run -0 --separate-stderr env MMUTILS_IO=$mode mmfind -c NEEDLE r
		assert_output 4
		run -0 --separate-stderr env MMUTILS_IO=$mode mmfind -c -x 00 r
		assert_output $((G - 24))
		after=$(fincore -b -n -o PAGES r)
		[ "$after" -le $((before + 4)) ] ||
		    want="$want MMUTILS_IO=$mode: $before pages before, $after after;"
	done
	[ -z "$want" ] || fail "the search read holes:$want"
}

# all_in DIR: the cases above on files in DIR (but tiny's, whose point
# is long answers, not where the bytes are).
all_in() {
	need_python
	mid "$1"/mid
	mid_cases "$1"/mid
	big "$1"/big
	big_cases "$1"/big
	mid_reads "$1"/mid
	big_reads "$1"/big
}

# on FS: every case above on a file system of that type.
on() {
	mount_fs "$1"
	all_in mnt
}

@test "tmpfs: mmfind and mmread on sparse files agree with Python, dd and hexdump" {
	on tmpfs
}

@test "ext4: mmfind and mmread on sparse files agree with Python, dd and hexdump" {
	on ext4
}

@test "xfs: mmfind and mmread on sparse files agree with Python, dd and hexdump" {
	on xfs
}

@test "btrfs: mmfind and mmread on sparse files agree with Python, dd and hexdump" {
	on btrfs
}

@test "ramfs, whose SEEK_HOLE sees no hole: the same answers" {
	mount_fs ramfs
	truncate -s $M mnt/probe
	run -0 "$PYTHON3" -c '
import os, sys
fd = os.open(sys.argv[1], os.O_RDONLY)
print(os.lseek(fd, 0, os.SEEK_DATA), os.lseek(fd, 0, os.SEEK_HOLE))' mnt/probe
	assert_output "0 $M"
	all_in mnt
}
