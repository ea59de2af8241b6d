#!/usr/bin/env bats
# resize.bats - mmresize: truncate's size grammar, --at, --fill,
# --allocate, and nothing lost on any failure.

load helpers

setup() {
	cd "$BATS_TEST_TMPDIR"
	printf 'hello world' >t.txt
}

teardown() {
	cd /
	[ -e "$BATS_TEST_TMPDIR/ro" ] && chattr -i "$BATS_TEST_TMPDIR/ro" 2>/dev/null
	if mountpoint -q "$BATS_TEST_TMPDIR/mnt" 2>/dev/null; then
		umount "$BATS_TEST_TMPDIR/mnt"
	fi
	return 0
}

# pyresize FILE NEWSIZE: what Python's mmap.resize makes of FILE.
pyresize() {
	"$PYTHON3" - "$@" <<'PY'
import mmap, sys
path, new = sys.argv[1], int(sys.argv[2])
with open(path, "r+b") as f:
    if new == 0:
        f.truncate(0)        # mmap cannot resize to 0 (it breaks)
    else:
        m = mmap.mmap(f.fileno(), 0)
        m.resize(new)
        m.close()
PY
}

# pyat FILE AT DELTA [FILLHEX]: insert DELTA>0 bytes at AT, or remove
# -DELTA bytes from AT, with Python's mmap resize and move.
pyat() {
	"$PYTHON3" - "$@" <<'PY'
import mmap, os, sys
path, at, d = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
pat = bytes.fromhex(sys.argv[4]) if len(sys.argv) > 4 else b"\0"
old = os.path.getsize(path)
with open(path, "r+b") as f:
    m = mmap.mmap(f.fileno(), 0)
    if d > 0:
        m.resize(old + d)
        m.move(at + d, at, old - at)
        m[at:at + d] = (pat * (d // len(pat) + 1))[:d]
        m.close()
    else:
        n = -d
        m.move(at, at + n, old - at - n)
        if old - n == 0:
            m.close()
            f.truncate(0)
        else:
            m.resize(old - n)
            m.close()
PY
}

# fs_can_shift FILE: does this file system do insert/collapse range?
fs_can_shift() {
	local probe="$BATS_TEST_TMPDIR/.probe"
	head -c 8192 /dev/zero >"$probe"
	fallocate --insert-range -o 0 -l 4096 "$probe" 2>/dev/null
	local rc=$?
	rm -f "$probe"
	return $rc
}

@test "mmresize sets the size for every SIZE form, as truncate and Python's mmap.resize do" {
	need_python
	randfile base 3000 7
	for form in 0 5 100K 1KB 1KiB 2M +10 +1K -3 -0 -2999 -3000 -1M \
	    '<10' '<1G' '>10' '>1KB' '/7' '/4K' '%7' '%1K' '%1' '/1'; do
		cp base ref
		truncate -s "$form" ref
		want=$(stat -c %s ref)
		cp base py
		pyresize py "$want"
		cp base mm
		run -0 --separate-stderr mmresize mm -- "$form"
		[ -z "$stderr" ] || fail "$form: $stderr"
		assert_equal "$(stat -c %s mm)" "$want"
		cmp mm py || fail "SIZE $form: bytes differ from Python"
	done
	# Hexadecimal, which truncate does not read.
	for form in 0x10 +0x100 -0x10 '%0x1000' '/0x100' '>0xfff'; do
		cp base mm
		run -0 mmresize mm -- "$form"
		want=$("$PYTHON3" -c '
import sys
s, old = sys.argv[1], 3000
op = s[0] if s[0] in "+-<>/%" else ""
v = int(s[len(op):], 16)
print({"": v, "+": old + v, "-": max(0, old - v), "<": min(old, v),
       ">": max(old, v), "/": old // v * v,
       "%": -(-old // v) * v}[op])' "$form")
		cp base py
		pyresize py "$want"
		assert_equal "$(stat -c %s mm)" "$want"
		cmp mm py
	done
}

@test "mmresize grows sparse with zeros and shrinks to nothing" {
	printf 'abc' >s
	run -0 mmresize s 1M
	assert_equal "$(stat -c %s s)" 1048576
	[ "$(stat -c %b s)" -le 8 ]
	assert_equal "$(head -c 3 s)" abc
	assert_equal "$(tail -c +4 s | tr -d '\0' | wc -c)" 0
	run -0 mmresize s 0
	assert_equal "$(stat -c %s s)" 0
	run -0 mmresize s -- -5
	assert_equal "$(stat -c %s s)" 0
	run -0 mmresize s +2
	assert_equal "$(od -An -tx1 s | tr -d ' ')" 0000
}

@test "mmresize creates a missing file, but not with -c, nor on a failure" {
	run -0 --separate-stderr mmresize -v new.bin 10
	assert_equal "$(stat -c %s new.bin)" 10
	assert_equal "$stderr" "mmresize: new.bin: 0 -> 10 bytes (created)"
	run -0 --separate-stderr mmresize -c none.bin 10
	assert_output ""
	[ -z "$stderr" ]
	[ ! -e none.bin ]
	run -0 mmresize --no-create none.bin +1
	[ ! -e none.bin ]
	run -2 --separate-stderr mmresize --at=5 none.bin +1
	assert_equal "$stderr" "mmresize: none.bin: offset 5 is past the end of the file (size 0)"
	[ ! -e none.bin ]
	run -0 --separate-stderr mmresize --dry-run none.bin 4K
	assert_output "none.bin: 0 -> 4096 bytes (would be created)"
	[ ! -e none.bin ]
	run -2 --separate-stderr mmresize nodir/x 5
	[[ "$stderr" == "mmresize: nodir/x: No such file or directory" ]]
}

@test "mmresize -v reports APPLET: FILE: OLD -> NEW bytes, and --dry-run changes nothing" {
	run -0 --separate-stderr mmresize -v t.txt +5
	assert_output ""
	assert_equal "$stderr" "mmresize: t.txt: 11 -> 16 bytes"
	before=$(sum t.txt)
	run -0 --separate-stderr mmresize --dry-run --at=2 t.txt -- -3
	assert_output "t.txt: 16 -> 13 bytes (would remove 3 bytes at 2)"
	assert_equal "$(sum t.txt)" "$before"
	run -0 --separate-stderr mmresize --dry-run t.txt '%1K'
	assert_output "t.txt: 16 -> 1024 bytes"
	assert_equal "$(sum t.txt)" "$before"
	run -0 mmresize --sync t.txt 11
	assert_equal "$(cat t.txt)" "hello world"
}

@test "mmresize --fill repeats the pattern from the first new byte" {
	need_python
	run -0 mmresize --fill=0a0b0c t.txt +8
	assert_equal "$(mmread -x t.txt)" \
	    "$(printf 'hello world' | od -An -tx1 | tr -d ' \n')0a0b0c0a0b0c0a0b"
	run -0 mmresize --fill=ff t.txt 20
	assert_equal "$(mmread -x t.txt 19)" ff
	# A large fill, checked against Python.
	printf 'ab' >big
	run -0 mmresize --fill='de:ad be ef 01' big 3M
	"$PYTHON3" -c '
import sys
d = open("big", "rb").read()
p = bytes.fromhex("deadbeef01")
want = b"ab" + (p * (len(d) // 5 + 1))[:len(d) - 2]
sys.exit(d != want or len(d) != 3 << 20)'
	# Shrinking has no new bytes: the pattern is not used.
	run -0 mmresize --fill=aa big 1
	assert_equal "$(cat big)" a
}

@test "mmresize --allocate leaves no hole, plain growth stays sparse" {
	printf 'x' >a1
	cp a1 a2
	run -0 mmresize --allocate a1 8M
	run -0 mmresize a2 8M
	cmp a1 a2
	[ "$(( $(stat -c %b a1) * $(stat -c %B a1) ))" -ge 8388608 ]
	[ "$(( $(stat -c %b a2) * $(stat -c %B a2) ))" -le 65536 ]
	cp a1 a3
	MMUTILS_NO_FALLOCATE=1 run -0 mmresize --allocate a3 9M
	[ "$(( $(stat -c %b a3) * $(stat -c %B a3) ))" -ge 9437184 ]
}

@test "mmresize --at inserts and removes like Python's mmap, both ways, at random offsets" {
	need_python
	randfile base 50000 3
	bs=$(stat -c %o base)
	RANDOM=42
	for i in $(seq 1 16); do
		old=$(stat -c %s base)
		if [ $((i % 2)) = 0 ]; then
			at=$(( (RANDOM % 8) * bs )); n=$(( (1 + RANDOM % 3) * bs ))
		else
			at=$(( RANDOM % old )); n=$(( 1 + RANDOM % 9000 ))
		fi
		fill=""; fillopt=()
		if [ $((i % 3)) = 0 ]; then fill=5a6b7c; fillopt=(--fill=$fill); fi
		if [ $((i % 4)) -ge 2 ]; then
			[ $n -le $((old - at)) ] || n=$((old - at))
			size=-$n; delta=-$n
		else
			size=+$n; delta=$n
		fi
		cp base py; cp base fast; cp base slow
		pyat py "$at" "$delta" ${fill:+"$fill"}
		run -0 --separate-stderr mmresize -v --at="$at" "${fillopt[@]}" fast -- "$size"
		MMUTILS_NO_FALLOCATE=1 run -0 mmresize --at="$at" "${fillopt[@]}" slow -- "$size"
		cmp fast py || fail "case $i: at $at size $size (fast path): $stderr"
		cmp slow py || fail "case $i: at $at size $size (tail moved)"
	done
	# Negative --at counts from the end.
	cp base neg; cp base py
	run -0 mmresize --at=-100 neg +7
	pyat py $((50000 - 100)) 7
	cmp neg py
}

@test "mmresize --at uses the file system's insert/collapse range when aligned" {
	fs_can_shift || skip "this file system has no insert/collapse range ($(stat -f -c %T .))"
	randfile base 40000 5
	cp base f
	run -0 --separate-stderr mmresize -v --at=4096 f +8K
	assert_equal "$stderr" "mmresize: f: 40000 -> 48192 bytes (8192 bytes inserted at 4096, by the file system)"
	run -0 --separate-stderr mmresize -v --at=4096 f -- -8K
	assert_equal "$stderr" "mmresize: f: 48192 -> 40000 bytes (8192 bytes removed at 4096, by the file system)"
	cmp f base
	run -0 --separate-stderr mmresize -v --at=4095 f +4K
	assert_equal "$stderr" "mmresize: f: 40000 -> 44096 bytes (4096 bytes inserted at 4095, tail moved)"
	MMUTILS_NO_FALLOCATE=1 run -0 --separate-stderr mmresize -v --at=0 f -- -4K
	[[ "$stderr" == *"tail moved)" ]]
}

@test "mmresize refuses bad sizes with one line, exit 2, file unchanged" {
	before=$(sum t.txt)
	for bad in + - 10Q 1.5K '%0' '/0' 16E 0xffffffffffffffff \
	    +9223372036854775808 '' ' 5' '++1' 5x; do
		run -2 --separate-stderr mmresize t.txt -- "$bad"
		assert_output ""
		[ "$(printf '%s\n' "$stderr" | wc -l)" = 1 ] || fail "$bad: $stderr"
		[[ "$stderr" == "mmresize: "*"size '$bad'"* ]] || fail "$bad: $stderr"
	done
	run -2 --separate-stderr mmresize t.txt +9223372036854775807
	assert_equal "$stderr" "mmresize: t.txt: size +9223372036854775807 would make the file larger than 2^63-1 bytes (size 11)"
	assert_equal "$(sum t.txt)" "$before"
}

@test "mmresize refuses missing operands, bad options and bad --at/--fill" {
	before=$(sum t.txt)
	run -2 --separate-stderr mmresize
	[[ "$stderr" == *"missing FILE operand"* ]]
	[[ "$stderr" == *"Try 'mmresize --help'"* ]]
	run -2 --separate-stderr mmresize t.txt
	[[ "$stderr" == *"missing SIZE operand after 't.txt'"* ]]
	run -2 --separate-stderr mmresize t.txt 1 2
	[[ "$stderr" == *"extra operand '2'"* ]]
	run -2 --separate-stderr mmresize --fill= t.txt +1
	assert_equal "$stderr" "mmresize: --fill needs at least one byte"
	run -2 --separate-stderr mmresize --fill=abc t.txt +1
	[[ "$stderr" == "mmresize: invalid hex in --fill 'abc'"* ]]
	run -2 --separate-stderr mmresize --fill=zz t.txt +1
	run -2 --separate-stderr mmresize --at=1Q t.txt +1
	assert_equal "$stderr" "mmresize: invalid offset '1Q'"
	assert_equal "$(sum t.txt)" "$before"
}

@test "mmresize --at past the end, or before the start, is exit 2 with the file unchanged" {
	before=$(sum t.txt)
	run -2 --separate-stderr mmresize --at=12 t.txt +1
	assert_equal "$stderr" "mmresize: t.txt: offset 12 is past the end of the file (size 11)"
	run -2 --separate-stderr mmresize --at=8 t.txt -- -4
	assert_equal "$stderr" "mmresize: t.txt: cannot remove 4 bytes at offset 8: only 3 bytes follow it (size 11)"
	run -2 --separate-stderr mmresize --at=-12 t.txt +1
	assert_equal "$stderr" "mmresize: t.txt: offset -12 is before the start of the file (size 11)"
	run -2 --separate-stderr mmresize --at=1 t.txt -- -1M
	assert_equal "$(sum t.txt)" "$before"
	# At the very end an insert is an append, a removal a truncation.
	run -0 mmresize --at=11 t.txt +1
	run -0 mmresize --at=-1 t.txt -- -1
	assert_equal "$(sum t.txt)" "$before"
}

@test "mmresize refuses directories, FIFOs, character and block devices, read-only files" {
	mkdir d
	run -2 --separate-stderr mmresize d 5
	assert_equal "$stderr" "mmresize: d: is a directory"
	mkfifo fifo
	run -2 --separate-stderr mmresize fifo 5
	assert_equal "$stderr" "mmresize: fifo: cannot be mapped (a pipe, FIFO, character device or /proc file)"
	run -2 --separate-stderr mmresize /dev/null 5
	[[ "$stderr" == "mmresize: /dev/null: cannot be mapped"* ]]
	run -2 --separate-stderr mmresize - 5
	[[ "$stderr" == "mmresize: -: standard input cannot be resized"* ]]
	if mknod blk b 7 0 2>/dev/null; then
		run -2 --separate-stderr mmresize blk 5
		[[ "$stderr" == "mmresize: blk: "* ]]
	fi
	printf 'locked' >ro
	if chattr +i ro 2>/dev/null; then
		run -2 --separate-stderr mmresize ro +5
		assert_equal "$stderr" "mmresize: ro: Operation not permitted"
		assert_equal "$(cat ro)" locked
	elif [ "$(id -u)" != 0 ]; then
		chmod 444 ro
		run -2 --separate-stderr mmresize ro +5
		assert_equal "$(cat ro)" locked
	fi
}

@test "mmresize --at refuses a removal longer than the rest of the file, naming the count typed" {
	head -c 1024 /dev/urandom >f
	before=$(sum f)
	run -2 --separate-stderr mmresize --at=0 f -- -2000
	assert_equal "$stderr" "mmresize: f: cannot remove 2000 bytes at offset 0: only 1024 bytes follow it (size 1024)"
	run -2 --separate-stderr mmresize --at=1 f -- -2000
	assert_equal "$stderr" "mmresize: f: cannot remove 2000 bytes at offset 1: only 1023 bytes follow it (size 1024)"
	run -2 --separate-stderr mmresize --at=-1 f -- -2
	assert_equal "$stderr" "mmresize: f: cannot remove 2 bytes at offset 1023: only 1 byte follows it (size 1024)"
	# Other sizes say what the file becomes; --at only says where.
	run -2 --separate-stderr mmresize --at=1000 f 10
	assert_equal "$stderr" "mmresize: f: cannot remove 1014 bytes at offset 1000: only 24 bytes follow it (size 1024)"
	run -2 --separate-stderr mmresize --at=1000 f '<10'
	assert_equal "$(sum f)" "$before"
	# Exactly the rest is fine: that is a truncation at AT.
	run -0 mmresize --at=1000 f -- -24
	assert_equal "$(stat -c %s f)" 1000
	run -0 mmresize --at=0 f -- -1000
	assert_equal "$(stat -c %s f)" 0
}

@test "mmresize --at with absolute, <, >, / and % sizes inserts or removes at OFFSET" {
	need_python
	randfile f 1000 7
	cp f g
	run -0 mmresize --at=10 f 1024
	pyat g 10 24
	assert_equal "$(sum f)" "$(sum g)"
	run -0 mmresize --at=5 f '/1000'
	pyat g 5 -24
	assert_equal "$(sum f)" "$(sum g)"
	run -0 mmresize --at=0 f '%512'
	pyat g 0 24
	assert_equal "$(sum f)" "$(sum g)"
	run -0 mmresize --at=-5 f '<1020'
	pyat g 1019 -4
	assert_equal "$(sum f)" "$(sum g)"
	run -0 mmresize --fill=ab --at=3 f '>1022'
	pyat g 3 2 ab
	assert_equal "$(sum f)" "$(sum g)"
}

@test "mmresize --at removing from a missing file is an error and creates nothing" {
	run -2 --separate-stderr mmresize --at=0 nosuch -- -1
	assert_equal "$stderr" "mmresize: nosuch: cannot remove 1 byte: No such file or directory"
	[ ! -e nosuch ]
	run -2 --separate-stderr mmresize --dry-run --at=0 nosuch -- -1
	[ ! -e nosuch ]
	# As truncate -c: a missing file is nothing to do.
	run -0 --separate-stderr mmresize -c --at=0 nosuch -- -1
	[ ! -e nosuch ]
	# Without --at, as truncate -s -1: an empty file.
	run -0 mmresize nosuch -- -1
	assert_equal "$(stat -c %s nosuch)" 0
}

@test "a failing mmresize leaves no new file behind" {
	run -2 --separate-stderr bash -c 'ulimit -f 1; exec "$@"' _ mmresize nf 2M
	assert_equal "$stderr" "mmresize: nf: cannot resize from 0 to 2097152 bytes: file size limit exceeded; the new file is removed"
	[ ! -e nf ]
	run -2 --separate-stderr bash -c 'ulimit -f 1; exec "$@"' _ mmresize --fill=ab nf 2M
	[ ! -e nf ]
	# Past the file system's own limit (tmpfs has none below 2^63-1).
	run --separate-stderr mmresize nf 0x7fffffffffffffff
	if [ "$status" = 0 ]; then
		rm nf
	else
		assert_equal "$status" 2
		[[ "$stderr" == *"; the new file is removed" ]] || fail "$stderr"
		[ ! -e nf ]
	fi
	# An existing empty file stays.
	: >empty
	run -2 --separate-stderr bash -c 'ulimit -f 1; exec "$@"' _ mmresize empty 2M
	[[ "$stderr" == *"file size limit exceeded; the file is unchanged" ]]
	[ -e empty ]
}

@test "mmresize past ulimit -f: exit 2 before the first byte changes, the file unchanged" {
	head -c 1048576 /dev/urandom >g
	before=$(sum g)
	# 500 blocks of 1 KiB: the file is already past the limit.
	lim() { bash -c 'ulimit -f 500; exec "$@"' _ "$@"; }
	MMUTILS_NO_FALLOCATE=1 run -2 --separate-stderr lim mmresize --at=1 g -- -1
	assert_equal "$stderr" "mmresize: g: cannot resize from 1048576 to 1048575 bytes: file size limit exceeded; the file is unchanged"
	run -2 --separate-stderr lim mmresize --at=4096 g -- -4096
	[[ "$stderr" == *": file size limit exceeded; the file is unchanged" ]]
	for grow in "g +1" "--at=0 g +4096" "--at=1 g +1" "--fill=ab g +10" \
	    "--allocate g +10"; do
		# shellcheck disable=SC2086
		run -2 --separate-stderr lim mmresize $grow
		[[ "$stderr" == *": file size limit exceeded; the file is unchanged" ]] ||
		    fail "$grow: $stderr"
	done
	assert_equal "$(sum g)" "$before"
	# A shrink at the end writes nothing: as with truncate, it works.
	run -0 lim mmresize g -- -1
	assert_equal "$(stat -c %s g)" 1048575
}

# mount_small: a 2 MiB tmpfs at ./mnt, or skip saying why.
mount_small() {
	mkdir -p mnt
	mount -t tmpfs -o size=2m tmpfs mnt 2>/dev/null ||
	    skip "cannot mount a small tmpfs here (needs root)"
	head -c 1000000 /dev/urandom >mnt/f
}

@test "mmresize --allocate and --fill on a full disk: exit 2, no SIGBUS, file as before" {
	mount_small
	before=$(sum mnt/f)
	for nofa in "" 1; do
		MMUTILS_NO_FALLOCATE=$nofa run -2 --separate-stderr mmresize --allocate mnt/f +4M
		assert_equal "$stderr" "mmresize: mnt/f: cannot resize from 1000000 to 5194304 bytes: No space left on device; the file is unchanged"
		MMUTILS_NO_FALLOCATE=$nofa run -2 --separate-stderr mmresize --fill=abcd mnt/f +4M
		[[ "$stderr" == *"No space left on device; the file is unchanged" ]]
		MMUTILS_NO_FALLOCATE=$nofa run -2 --separate-stderr mmresize --at=3 mnt/f +1500K
		[[ "$stderr" == *"No space left on device; the file is unchanged" ]]
		assert_equal "$(stat -c %s mnt/f)" 1000000
		assert_equal "$(sum mnt/f)" "$before"
	done
	# A file it creates for that is removed again.
	run -2 --separate-stderr mmresize --allocate mnt/nf 4M
	assert_equal "$stderr" "mmresize: mnt/nf: cannot resize from 0 to 4194304 bytes: No space left on device; the new file is removed"
	[ ! -e mnt/nf ]
	# The space is given back: a fitting change still works.
	run -0 mmresize --allocate mnt/f +500K
	run -0 mmresize --at=0 --fill=ff mnt/f +100
	assert_equal "$(mmread -x mnt/f 0 2)" ffff
}

@test "SIGINT and SIGTERM during a long --at move: the move completes, exit 130/143" {
	need_python
	build_fault_shim
	"$PYTHON3" -c '
import sys
blk = bytes(range(256)) * 4096
with open("big", "wb") as f:
    for i in range(16):
        f.write(bytes([i]) + blk[1:])' # 16 MiB, every MiB marked
	want=$("$PYTHON3" -c '
import hashlib
d = open("big", "rb").read()
print(hashlib.sha256(d[:1] + b"\0" * 3 + d[1:]).hexdigest())')
	for sig in INT TERM; do
		cp big f
		# The signal comes just before the tail's third write.
		MMUTILS_NO_FALLOCATE=1 with_fault pwrite 3 $sig \
		    run --separate-stderr env --default-signal=INT,TERM \
		    mmresize --at=1 f +3
		case $sig in INT) assert_equal $status 130 ;; TERM) assert_equal $status 143 ;; esac
		assert_equal "$(sum f)" "$want"
	done
}

@test "mmresize writers are serialized by the lock; --no-lock skips it" {
	printf '0123456789' >f
	rm -f locked go seen
	flock f sh -c 'touch locked; while [ ! -e go ]; do sleep 0.02; done; stat -c %s f >seen' &
	holder=$!
	while [ ! -e locked ]; do sleep 0.02; done
	mmresize f +5 &
	writer=$!
	sleep 0.3
	touch go
	wait $holder
	wait $writer
	assert_equal "$(cat seen)" 10
	assert_equal "$(stat -c %s f)" 15

	rm -f locked go seen
	flock f sh -c 'touch locked; while [ ! -e go ]; do sleep 0.02; done; stat -c %s f >seen' &
	holder=$!
	while [ ! -e locked ]; do sleep 0.02; done
	run -0 mmresize --no-lock f +5
	touch go
	wait $holder
	assert_equal "$(cat seen)" 20
}

@test "two concurrent --at inserts never interleave" {
	need_python
	"$PYTHON3" -c 'open("f", "wb").write(bytes(range(256)) * (96 << 12))'
	cp f orig
	MMUTILS_NO_FALLOCATE=1 mmresize --at=1 --fill=aa f +4097 &
	a=$!
	MMUTILS_NO_FALLOCATE=1 mmresize --at=1 --fill=bb f +4097 &
	b=$!
	wait $a
	wait $b
	"$PYTHON3" -c '
import sys
o = open("orig", "rb").read()
d = open("f", "rb").read()
A, B = b"\xaa" * 4097, b"\xbb" * 4097
ok = d in (o[:1] + A + B + o[1:], o[:1] + B + A + o[1:])
sys.exit(0 if ok else 1)'
}

@test "mmresize works on sparse files past 4 GiB" {
	G=$((1 << 30))
	truncate -s 5G sp
	printf 'HEAD' | dd of=sp bs=1 seek=$((4 * G + 10)) conv=notrunc status=none
	run -0 mmresize sp +1G
	assert_equal "$(stat -c %s sp)" $((6 * G))
	printf 'TAIL' | dd of=sp bs=1 seek=$((6 * G - 8)) conv=notrunc status=none
	# Unaligned, near the end: only the last 10 bytes move.
	run -0 mmresize --at=$((6 * G - 10)) --fill=77 sp +3
	assert_equal "$(mmread sp $((6 * G - 5)) 4)" TAIL
	assert_equal "$(mmread -x sp $((6 * G - 10)) 3)" 777777
	run -0 mmresize --at=$((6 * G - 9)) sp -- -3
	assert_equal "$(mmread -x sp $((6 * G - 10)) 2)" 7700
	assert_equal "$(mmread sp $((6 * G - 8)) 4)" TAIL
	assert_equal "$(stat -c %s sp)" $((6 * G))
	if fs_can_shift; then
		# Aligned, past 4 GiB: the file system shifts 2 GiB in O(1).
		run -0 --separate-stderr mmresize -v --at=$((4 * G)) --fill=ab sp +4K
		[[ "$stderr" == *"by the file system)" ]]
		assert_equal "$(mmread sp $((4 * G + 4096 + 10)) 4)" HEAD
		assert_equal "$(mmread -x sp $((4 * G + 4094)) 2)" abab
		run -0 mmresize --at=$((4 * G)) sp -- -4K
		assert_equal "$(mmread sp $((4 * G + 10)) 4)" HEAD
	fi
	run -0 mmresize sp '/4G'
	assert_equal "$(stat -c %s sp)" $((4 * G))
	[ "$(stat -c %b sp)" -lt 100000 ]
}

@test "mmresize's messages count one byte as 1 byte" {
	run -0 --separate-stderr mmresize -v one.bin 1
	assert_equal "$stderr" "mmresize: one.bin: 0 -> 1 byte (created)"
	run -0 --separate-stderr mmresize -v --at=0 t.txt +1
	[[ "$stderr" == "mmresize: t.txt: 11 -> 12 bytes (1 byte inserted at 0"* ]]
	run -0 --separate-stderr mmresize --dry-run --at=0 t.txt -- -1
	assert_output "t.txt: 12 -> 11 bytes (would remove 1 byte at 0)"
	before=$(sum t.txt)
	run -2 --separate-stderr mmresize --at=11 t.txt -- -2
	assert_equal "$stderr" "mmresize: t.txt: cannot remove 2 bytes at offset 11: only 1 byte follows it (size 12)"
	assert_equal "$(sum t.txt)" "$before"
}

@test "mmresize SIZE FILE names the order, creates and changes nothing" {
	before=$(sum t.txt)
	run -2 --separate-stderr mmresize +10 t.txt
	assert_equal "$stderr" "mmresize: invalid size 't.txt' (usage: mmresize FILE SIZE)"
	run -2 --separate-stderr mmresize 1M t.txt
	assert_equal "$stderr" "mmresize: invalid size 't.txt' (usage: mmresize FILE SIZE)"
	assert_equal "$(sum t.txt)" "$before"
	[ ! -e +10 ] && [ ! -e 1M ]
	run -2 --separate-stderr mmresize t.txt nosuch
	assert_equal "$stderr" "mmresize: invalid size 'nosuch'"
}

@test "mmresize --at names the offset as typed, file unchanged" {
	printf 'abcdef' >h.bin
	before=$(sha256sum <h.bin)
	run -2 --separate-stderr mmresize --at=-0x10 h.bin +1
	assert_equal "$stderr" "mmresize: h.bin: offset -0x10 is before the start of the file (size 6)"
	run -2 --separate-stderr mmresize --at=0x10 h.bin +1
	assert_equal "$stderr" "mmresize: h.bin: offset 0x10 is past the end of the file (size 6)"
	assert_equal "$(sha256sum <h.bin)" "$before"
}
