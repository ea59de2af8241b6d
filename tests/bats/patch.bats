#!/usr/bin/env bats
# patch.bats - mmpatch: write, write_byte, batches, scripts and undo.

load helpers

setup() {
	cd "$BATS_TEST_TMPDIR"
	printf 'hello world\n' >t.txt
}

teardown() {
	teardown_mnt_immutable
}

@test "mmpatch writes TEXT at OFFSET in place, nothing else changes" {
	run -0 --separate-stderr mmpatch t.txt 6 WORLD
	assert_output ""
	[ -z "$stderr" ]
	[ "$(cat t.txt)" = "hello WORLD" ]
	[ "$(stat -c %s t.txt)" = 12 ]
}

@test "mmpatch takes -x HEX, -f FILE and -f - (standard input)" {
	run -0 mmpatch t.txt 0 -x '48:45 4c'
	[ "$(cat t.txt)" = "HELlo world" ]
	run -0 mmpatch -x 0x4c4f t.txt 3
	[ "$(cat t.txt)" = "HELLO world" ]
	printf 'W\0' >data.bin
	run -0 mmpatch -f data.bin t.txt 6
	[ "$(mmread -x t.txt)" = "48454c4c4f205700726c640a" ]
	printf 'xy' | mmpatch t.txt 9 -f -
	[ "$(mmread -x t.txt 6)" = "57007278790a" ]
}

@test "mmpatch counts negative offsets from the end, with or without --" {
	run -0 mmpatch t.txt -6 WORLD
	[ "$(cat t.txt)" = "hello WORLD" ]
	run -0 mmpatch -- t.txt -12 H
	[ "$(cat t.txt)" = "Hello WORLD" ]
	run -0 mmpatch t.txt -0x1 -x 21
	[ "$(cat t.txt)" = "Hello WORLD!" ]
}

@test "mmpatch takes a TEXT that looks like a negative number as data" {
	run -0 mmpatch t.txt 0 -42
	[ "$(cat t.txt)" = "-42lo world" ]
}

@test "mmpatch refuses a write past the end and leaves the file unchanged" {
	before=$(sum t.txt)
	run -2 --separate-stderr mmpatch t.txt 4096 x
	assert_equal "$stderr" "mmpatch: t.txt: offset 4096 is past the end of the file (size 12)"
	run -2 --separate-stderr mmpatch t.txt 10 xyz
	assert_equal "$stderr" "mmpatch: t.txt: 3 bytes at offset 10 would pass the end of the file (size 12)"
	run -2 --separate-stderr mmpatch t.txt -13 x
	assert_equal "$stderr" "mmpatch: t.txt: offset -13 is before the start of the file (size 12)"
	run -2 --separate-stderr mmpatch t.txt 0 --repeat=13 x
	[[ "$stderr" == *"13 bytes at offset 0 would pass the end"* ]]
	assert_equal "$(sum t.txt)" "$before"
}

@test "mmpatch with empty data is a no-op that succeeds, even on an empty file" {
	before=$(sum t.txt)
	run -0 --separate-stderr mmpatch t.txt 12 -x ''
	run -0 --separate-stderr mmpatch t.txt 3 -x 0x
	run -0 --separate-stderr mmpatch t.txt 0 ''
	assert_equal "$(sum t.txt)" "$before"
	: >empty
	run -0 --separate-stderr mmpatch empty 0 -x ''
	run -2 --separate-stderr mmpatch empty 0 x
	[[ "$stderr" == "mmpatch: empty: 1 byte at offset 0 would pass the end of the file (size 0)" ]]
	[ ! -s empty ]
	run -2 --separate-stderr mmpatch t.txt 13 -x ''
	[[ "$stderr" == *"offset 13 is past the end"* ]]
}

@test "mmpatch --expect writes only when the old bytes are there, else exit 1" {
	run -0 mmpatch t.txt 0 --expect=68656c6c6f HELLO
	[ "$(cat t.txt)" = "HELLO world" ]
	before=$(sum t.txt)
	run -1 --separate-stderr mmpatch t.txt 0 --expect=68656c6c6f jello
	assert_output ""
	assert_equal "$stderr" "mmpatch: t.txt: the bytes at offset 0 are 48454c4c4f, not 68656c6c6f; nothing written"
	run -1 --separate-stderr mmpatch t.txt 0 --expect-text=hello jello
	assert_equal "$(sum t.txt)" "$before"
	run -0 mmpatch t.txt -6 --expect-text=wo -x 574f
	[ "$(cat t.txt)" = "HELLO WOrld" ]
}

@test "mmpatch --expect with empty data holds only as an empty expectation" {
	before=$(sum t.txt)
	run -2 --separate-stderr mmpatch t.txt 12 -x '' --expect=41
	[[ "$stderr" == "mmpatch: the expectation has 1 byte but the data written has 0; they must be of one length"* ]]
	run -2 --separate-stderr mmpatch t.txt - -x '' --expect-text=h <<<$'0\n12'
	assert_equal "$(sum t.txt)" "$before"
	run -0 mmpatch t.txt 12 -x '' --expect-text=
	run -0 mmpatch t.txt 10 -x '' --expect=
	assert_equal "$(sum t.txt)" "$before"
}

@test "mmpatch --repeat writes a fill, and rejects an overflowing count" {
	head -c 100 /dev/zero >z.bin
	run -0 mmpatch z.bin 10 --repeat=30 -x abcd
	want=$("$PYTHON3" -c 'import sys; b=bytearray(100); b[10:70]=b"\xab\xcd"*30; print(bytes(b).hex())' 2>/dev/null || true)
	if [ -n "$want" ]; then
		assert_equal "$(mmread -x z.bin)" "$want"
	fi
	[ "$(mmread -x z.bin 68 4)" = "abcd0000" ]
	before=$(sum z.bin)
	run -0 mmpatch z.bin 0 --repeat=0 abc
	run -2 --separate-stderr mmpatch z.bin 0 --repeat=4E ab
	[[ "$stderr" == *"larger than the largest file"* ]]
	run -2 --separate-stderr mmpatch z.bin 0 --repeat=16E a
	[[ "$stderr" == *"repeat count '16E' is too large"* ]]
	run -2 --separate-stderr mmpatch z.bin 0 --repeat=-1 a
	[[ "$stderr" == *"must not be negative"* ]]
	assert_equal "$(sum z.bin)" "$before"
}

@test "mmpatch FILE - writes the data at each offset read from standard input" {
	head -c 32 /dev/zero >z.bin
	printf '0\n0x8\n\nz.bin:16\n-1\n' | mmpatch z.bin - -x 7f
	[ "$(mmread -x z.bin)" = "7f000000000000007f000000000000007f00000000000000000000000000007f" ]
}

@test "mmpatch FILE - refuses offsets of another file, bad lines, overlap: nothing written" {
	head -c 32 /dev/zero >z.bin
	before=$(sum z.bin)
	run -2 --separate-stderr mmpatch z.bin - -x 7f <<<$'1\nother.bin:3\n'
	assert_equal "$stderr" "mmpatch: z.bin: standard input:2: 'other.bin:3' is not an offset in this file"
	run -2 --separate-stderr mmpatch z.bin - -x 7f <<<$'1\n2\nthree\n'
	assert_equal "$stderr" "mmpatch: z.bin: standard input:3: invalid offset 'three'"
	run -2 --separate-stderr mmpatch z.bin - -x 7f7f <<<$'4\n0\n5\n'
	assert_equal "$stderr" "mmpatch: z.bin: standard input:3: the edit at offset 5 overlaps the edit of line 1, at offset 4 (edits in one batch must not overlap)"
	run -2 --separate-stderr mmpatch z.bin - -x 7f <<<$'0\n31\n32\n'
	assert_equal "$stderr" "mmpatch: z.bin: standard input:3: 1 byte at offset 32 would pass the end of the file (size 32)"
	run -0 mmpatch z.bin 8 -x 01
	before=$(sum z.bin)
	run -1 --separate-stderr mmpatch z.bin - -x 7f --expect=00 <<<$'0\n8\n'
	assert_equal "$stderr" "mmpatch: z.bin: standard input:2: the bytes at offset 8 are 01, not 00; nothing written"
	assert_equal "$(sum z.bin)" "$before"
	run -2 --separate-stderr mmpatch z.bin - -f - </dev/null
	[[ "$stderr" == *"standard input cannot give both"* ]]
}

@test "mmpatch with no offsets on standard input succeeds doing nothing" {
	before=$(sum t.txt)
	run -0 --separate-stderr mmpatch t.txt - -x 41 </dev/null
	assert_equal "$(sum t.txt)" "$before"
}

@test "the find-and-replace pipeline equals Python's bytes.replace" {
	need_python
	for seed in 1 2 3; do
		"$PYTHON3" - "$seed" <<'PY'
import random, sys
r = random.Random(int(sys.argv[1]))
old, new = b"abcab", b"XYZ!?"
parts = []
for _ in range(400):
    parts.append(bytes(r.choice(b"abc\n") for _ in range(r.randrange(0, 12))))
    if r.random() < 0.5:
        parts.append(old)
data = b"".join(parts)
open("f.bin", "wb").write(data)
open("want.bin", "wb").write(data.replace(old, new))
offs, i = [], data.find(old)
while i >= 0:
    offs.append(i)
    i = data.find(old, i + len(old))
open("offsets", "w").write("".join("%d\n" % o for o in offs))
PY
		[ -s offsets ]
		mmpatch f.bin - -x "$(printf 'XYZ!?' | od -An -tx1 | tr -d ' \n')" \
		    --expect-text=abcab <offsets
		cmp f.bin want.bin
	done
}

@test "mmpatch --script applies OFFSET NEWHEX [OLDHEX] lines with comments" {
	cat >fix.patch <<'EOF'
# make it shout
0 48454c4c4f	# HELLO
-7 20574f 20776f   # " WO", only over " wo"

0xb 21
EOF
	run -0 --separate-stderr mmpatch --script=fix.patch t.txt
	[ "$(cat t.txt)" = "HELLO WOrld!" ]
	run -0 mmpatch --script=- t.txt <<<"1 656c"
	[ "$(cat t.txt)" = "HelLO WOrld!" ]
}

@test "a bad script line late in a batch writes nothing and names the line" {
	before=$(sum t.txt)
	printf '0 41\n1 42\n2 43\n3 4g\n' >bad.patch
	run -2 --separate-stderr mmpatch --script=bad.patch t.txt
	assert_equal "$stderr" "mmpatch: t.txt: bad.patch:4: invalid hex '4g' at character 2"
	printf '0 41\n1 42\n\n99 43\n' >bad.patch
	run -2 --separate-stderr mmpatch --script=bad.patch t.txt
	assert_equal "$stderr" "mmpatch: t.txt: bad.patch:4: offset 99 is past the end of the file (size 12)"
	printf '0 41\n1 42 00\n' >bad.patch
	run -1 --separate-stderr mmpatch --script=bad.patch t.txt
	[[ "$stderr" == "mmpatch: t.txt: bad.patch:2: the bytes at offset 1 are 65, not 00"* ]]
	printf '0 41\n1\n' >bad.patch
	run -2 --separate-stderr mmpatch --script=bad.patch t.txt
	assert_equal "$stderr" "mmpatch: t.txt: bad.patch:2: expected 'OFFSET NEWHEX [OLDHEX]'"
	printf '0 4141\n1 42\n' >bad.patch
	run -2 --separate-stderr mmpatch --script=bad.patch t.txt
	[[ "$stderr" == *"bad.patch:2: the edit at offset 1 overlaps the edit of line 1"* ]]
	run -2 --separate-stderr mmpatch --script=missing.patch t.txt
	assert_equal "$stderr" "mmpatch: missing.patch: No such file or directory"
	assert_equal "$(sum t.txt)" "$before"
}

@test "mmpatch --script takes no OFFSET, data, --expect or --repeat" {
	printf '0 41\n' >p
	run -2 --separate-stderr mmpatch --script=p t.txt 0
	[[ "$stderr" == *"extra operand '0'"* ]]
	run -2 --separate-stderr mmpatch --script=p -x 41 t.txt
	[[ "$stderr" == *"Try 'mmpatch --help'"* ]]
	run -2 --separate-stderr mmpatch --script=p --repeat=2 t.txt
}

@test "mmpatch --undo saves a script that restores the file exactly" {
	randfile r.bin 4096 7
	orig=$(sum r.bin)
	printf '%s\n' 0 100 4000 | mmpatch r.bin - -x deadbeef --undo=r.undo
	[ "$(mmread -x r.bin 100 4)" = deadbeef ]
	head -1 r.undo | grep -q '^# mmpatch undo script'
	[ "$(grep -vc '^#' r.undo)" = 3 ]
	run -0 --separate-stderr mmpatch --script=r.undo r.bin
	assert_equal "$(sum r.bin)" "$orig"
}

@test "mmpatch --undo=- writes the undo script to standard output" {
	run -0 --separate-stderr mmpatch t.txt -6 --undo=- -x 574f
	assert_output $'# mmpatch undo script; apply with: mmpatch --script=- t.txt\n6 776f 574f'
	[ "$(cat t.txt)" = "hello WOrld" ]
	mmpatch --script=- t.txt <<<"$output"
	[ "$(cat t.txt)" = "hello world" ]
}

@test "an undo script refuses (exit 1) once the file changed since" {
	randfile r.bin 256 3
	mmpatch r.bin 10 --repeat=20 -x 00 --undo=r.undo
	mmpatch r.bin 15 -x ff
	before=$(sum r.bin)
	run -1 --separate-stderr mmpatch --script=r.undo r.bin
	[[ "$stderr" == *"r.undo:2: the bytes at offset 10 are 0000000000ff"* ]]
	assert_equal "$(sum r.bin)" "$before"
}

@test "an unwritable --undo path fails before anything is written" {
	before=$(sum t.txt)
	run -2 --separate-stderr mmpatch t.txt 0 X --undo=nodir/u
	assert_equal "$stderr" "mmpatch: nodir/u: cannot save the undo script: No such file or directory; nothing written"
	mkdir d
	run -2 --separate-stderr mmpatch t.txt 0 X --undo=d
	assert_equal "$stderr" "mmpatch: d: the undo file exists already (an undo is never overwritten); nothing written"
	run -2 --separate-stderr mmpatch t.txt 0 X --undo=d/
	[[ "$stderr" == "mmpatch: d/: cannot save the undo script: is a directory"* ]]
	run -2 --separate-stderr mmpatch t.txt 0 X --undo=t.txt
	assert_equal "$stderr" "mmpatch: t.txt: the undo file cannot be the file being patched; nothing written"
	run -2 --separate-stderr mmpatch t.txt 0 X --undo=/dev/full
	[[ "$stderr" == *"/dev/full: the undo file exists already"* ]]
	[ "$(ls d)" = "" ]
	assert_equal "$(sum t.txt)" "$before"
}

@test "mmpatch --dry-run prints OFFSET: OLDHEX -> NEWHEX and changes nothing" {
	before=$(sum t.txt)
	run -0 --separate-stderr mmpatch --dry-run t.txt -5 --repeat=2 -x 4142 --undo=u
	assert_output "7: 6f726c64 -> 41424142"
	[ -z "$stderr" ]
	[ ! -e u ]
	printf '0 48\n6 57 77\n' >p
	run -0 --separate-stderr mmpatch --dry-run --script=p t.txt
	assert_output $'0: 68 -> 48\n6: 77 -> 57'
	run -1 --separate-stderr mmpatch --dry-run t.txt 0 --expect=00 X
	assert_output ""
	run -2 --separate-stderr mmpatch --dry-run t.txt 12 X
	assert_equal "$(sum t.txt)" "$before"
}

@test "mmpatch -v reports each edit on standard error" {
	run -0 --separate-stderr mmpatch -v t.txt 0 -x 48
	assert_output ""
	assert_equal "$stderr" "mmpatch: t.txt: 0: 68 -> 48"
	run -0 --separate-stderr mmpatch --sync t.txt 1 E
	[ "$(cat t.txt)" = "HEllo world" ]
}

@test "mmpatch agrees with Python's mmap write at random offsets, in and out of range" {
	need_python
	randfile r.bin 64 11
	cp r.bin py.bin
	"$PYTHON3" - >cases <<'PY'
import mmap, os, random
r = random.Random(5)
with open("py.bin", "r+b") as f:
    m = mmap.mmap(f.fileno(), 0)
    for _ in range(150 // int(os.environ.get("MM_STRIDE") or 1)):
        off = r.randrange(-80, 80)
        data = bytes(r.randrange(256) for _ in range(r.randrange(0, 12)))
        try:
            m.seek(off, 0 if off >= 0 else 2)
            m.write(data)
            rc = 0
        except ValueError:
            rc = 2
        print(off, data.hex() or "0x", rc)
    m.close()
PY
	fails=0
	while read -r off hex want; do
		got=0
		mmpatch r.bin "$off" -x "$hex" 2>/dev/null || got=$?
		if [ "$got" != "$want" ]; then
			echo "offset $off data $hex: exit $got, Python says $want"
			fails=$((fails + 1))
		fi
	done <cases
	[ "$fails" = 0 ]
	cmp r.bin py.bin
}

@test "mmpatch rejects malformed hex and numbers with one line, exit 2" {
	before=$(sum t.txt)
	run -2 --separate-stderr mmpatch t.txt 0 -x 4g
	assert_equal "$stderr" "mmpatch: invalid hex in data '4g' at character 2"
	run -2 --separate-stderr mmpatch t.txt 0 -x 414
	[[ "$stderr" == *"(an odd number of digits)" ]]
	run -2 --separate-stderr mmpatch t.txt 0 --expect=zz X
	run -2 --separate-stderr mmpatch t.txt 0x1z X
	assert_equal "$stderr" "mmpatch: invalid offset '0x1z'"
	run -2 --separate-stderr mmpatch t.txt 0xffffffffffffffff X
	[[ "$stderr" == *"is too large (the limit is 2^63-1)" ]]
	run -2 --separate-stderr mmpatch t.txt 16E X
	run -2 --separate-stderr mmpatch t.txt -9223372036854775807 X
	[[ "$stderr" == *"before the start of the file"* ]]
	assert_equal "$(sum t.txt)" "$before"
}

@test "mmpatch reports missing operands and two data sources as usage errors" {
	run -2 --separate-stderr mmpatch
	[[ "$stderr" == *"missing FILE operand"* ]]
	run -2 --separate-stderr mmpatch t.txt
	[[ "$stderr" == *"missing OFFSET operand"* ]]
	run -2 --separate-stderr mmpatch t.txt 0
	[[ "$stderr" == *"missing data"*"Try 'mmpatch --help'"* ]]
	run -2 --separate-stderr mmpatch t.txt 0 X -x 41
	[[ "$stderr" == *"give the data once"* ]]
	run -2 --separate-stderr mmpatch t.txt 0 X Y
	[[ "$stderr" == *"extra operand 'Y'"* ]]
	run -2 --separate-stderr mmpatch t.txt 0 X --expect=58 --expect-text=X
	[[ "$stderr" == *"cannot be combined"* ]]
}

@test "mmpatch refuses a directory, a missing file, a FIFO and /dev/null" {
	mkdir d
	run -2 --separate-stderr mmpatch d 0 X
	assert_equal "$stderr" "mmpatch: d: is a directory"
	run -2 --separate-stderr mmpatch nosuch 0 X
	assert_equal "$stderr" "mmpatch: nosuch: No such file or directory"
	[ ! -e nosuch ]
	mkfifo fifo
	run -2 --separate-stderr timeout 10 mmpatch fifo 0 X
	assert_equal "$stderr" "mmpatch: fifo: cannot be mapped (a pipe, FIFO, character device or /proc file)"
	run -2 --separate-stderr mmpatch /dev/null 0 X
	[[ "$stderr" == "mmpatch: /dev/null: cannot be mapped"* ]]
	run -2 --separate-stderr mmpatch - 0 X
}

@test "mmpatch refuses a read-only (immutable) file; --dry-run still reads it" {
	chattr +i t.txt 2>/dev/null || skip "chattr +i is not supported here"
	IMMUTABLE=$BATS_TEST_TMPDIR/t.txt
	before=$(sum t.txt)
	run -2 --separate-stderr mmpatch t.txt 0 X
	assert_equal "$stderr" "mmpatch: t.txt: Operation not permitted"
	run -0 --separate-stderr mmpatch --dry-run t.txt 0 X
	assert_output "0: 68 -> 58"
	assert_equal "$(sum t.txt)" "$before"
}

@test "mmpatch writes at 5 GiB into a sparse file without filling it" {
	truncate -s 6G sparse.img
	run -0 --separate-stderr mmpatch sparse.img 5G -x deadbeef
	[ "$(mmread -x sparse.img 5G 4)" = deadbeef ]
	[ "$(mmread -x sparse.img 0x13fffffff 6)" = 00deadbeef00 ]
	[ "$(stat -c %s sparse.img)" = 6442450944 ]
	# A handful of blocks, not gigabytes.
	[ "$(du -k sparse.img | cut -f1)" -lt 1024 ]
	run -0 mmpatch sparse.img -1G -x 01
	[ "$(mmread -x sparse.img 5G 1)" = 01 ]
}

@test "two concurrent batch patchers end in one of the two serial results" {
	head -c 65536 /dev/zero >c.bin
	seq 0 4 65532 >offs
	for i in 1 2 3; do
		mmpatch c.bin - -x 41414141 <offs &
		a=$!
		mmpatch c.bin - -x 42424242 <offs &
		b=$!
		wait "$a"
		wait "$b"
		got=$(tr -d A <c.bin | wc -c)
		[ "$got" = 0 ] || [ "$(tr -d B <c.bin | wc -c)" = 0 ] ||
		    fail "round $i: the two batches interleaved"
	done
	# Compare-and-swap: exactly one of two racing patchers wins.
	head -c 65536 /dev/zero >c.bin
	mmpatch c.bin - -x 41414141 --expect=00000000 <offs 2>/dev/null &
	a=$!
	mmpatch c.bin - -x 42424242 --expect=00000000 <offs 2>/dev/null &
	b=$!
	rca=0; wait "$a" || rca=$?
	rcb=0; wait "$b" || rcb=$?
	[ "$((rca + rcb))" = 1 ]
	[ "$(tr -d A <c.bin | wc -c)" = 0 ] || [ "$(tr -d B <c.bin | wc -c)" = 0 ]
}

@test "mmpatch waits for another writer's lock; --no-lock does not" {
	command -v flock >/dev/null || skip "flock(1) is not installed"
	# The holder keeps the lock until told: under valgrind the
	# applets alone take longer than any fixed sleep.
	flock t.txt sh -c 'touch locked; i=0
	    while [ ! -e go ] && [ $i -lt 3000 ]; do sleep 0.02; i=$((i+1)); done' \
	    >/dev/null 2>&1 3>&- &
	holder=$!
	while [ ! -e locked ]; do sleep 0.02; done
	run -124 --separate-stderr timeout 1 mmpatch t.txt 0 A
	[ "$(cat t.txt)" = "hello world" ]
	run -0 --separate-stderr timeout 30 mmpatch --no-lock t.txt 0 B
	[ "$(cat t.txt)" = "Bello world" ]
	touch go
	wait "$holder" 2>/dev/null || true
}

@test "mmpatch into a sparse hole on a full file system: ENOSPC, nothing written" {
	MNT=$BATS_TEST_TMPDIR/mnt
	mkdir -p "$MNT"
	mount -t tmpfs -o size=1m tmpfs "$MNT" 2>/dev/null ||
	    { MNT=; skip "cannot mount a tmpfs here (not root?)"; }
	truncate -s 4M "$MNT/f"
	printf 'data' | dd of="$MNT/f" conv=notrunc status=none
	dd if=/dev/zero of="$MNT/fill" bs=4k status=none 2>/dev/null || true
	before=$(sum "$MNT/f")
	run -2 --separate-stderr mmpatch "$MNT/f" 3M -x 41
	[[ "$stderr" == *"/f: no space left on the device"*"nothing written" ]]
	run -2 --separate-stderr mmpatch "$MNT/f" - -x 41 <<<$'0\n3M'
	[[ "$stderr" == *"no space left"* ]]
	assert_equal "$(sum "$MNT/f")" "$before"
	[ "$(mmread "$MNT/f" 0 4)" = data ]
	run -0 mmpatch "$MNT/f" 0 D
	[ "$(mmread "$MNT/f" 0 4)" = Data ]
}

@test "mmpatch --undo refuses an existing undo file: it and the file stay as they were" {
	printf '# an earlier undo\n0 68 48\n' >keep.undo
	undo_before=$(sum keep.undo)
	before=$(sum t.txt)
	run -2 --separate-stderr mmpatch t.txt 0 X --undo=keep.undo
	assert_equal "$stderr" "mmpatch: keep.undo: the undo file exists already (an undo is never overwritten); nothing written"
	run -2 --separate-stderr mmpatch t.txt - -x 58 --undo=keep.undo <<<$'0\n2'
	assert_equal "$(sum keep.undo)" "$undo_before"
	assert_equal "$(sum t.txt)" "$before"
	run -0 --separate-stderr mmpatch t.txt 0 X --undo=new.undo
	[ "$(cat t.txt)" = "Xello world" ]
	assert_equal "$(sum keep.undo)" "$undo_before"
}

@test "mmpatch --undo refuses a symbolic link, dangling or not, and leaves its target alone" {
	printf 'secret\n' >target
	ln -s target link
	ln -s nowhere dangling
	before=$(sum t.txt)
	target_before=$(sum target)
	run -2 --separate-stderr mmpatch t.txt 0 X --undo=link
	[[ "$stderr" == "mmpatch: link: the undo file exists already"* ]]
	run -2 --separate-stderr mmpatch t.txt 0 X --undo=dangling
	[[ "$stderr" == "mmpatch: dangling: the undo file exists already"* ]]
	[ ! -e nowhere ]
	[ -L dangling ]
	assert_equal "$(sum target)" "$target_before"
	assert_equal "$(sum t.txt)" "$before"
}

@test "mmpatch --undo creates its file mode 0600, whatever the umask" {
	chmod 600 t.txt
	(umask 000 && mmpatch t.txt 0 X --undo=u)
	[ "$(stat -c %a u)" = 600 ]
	(umask 022 && mmpatch t.txt 0 Y --undo=u2)
	[ "$(stat -c %a u2)" = 600 ]
}

@test "mmpatch --undo on a full file system leaves no partial undo and the file unchanged" {
	MNT=$BATS_TEST_TMPDIR/mnt
	mkdir -p "$MNT"
	mount -t tmpfs -o size=64k tmpfs "$MNT" 2>/dev/null ||
	    { MNT=; skip "cannot mount a tmpfs here (not root?)"; }
	head -c 100000 /dev/zero >z.bin
	before=$(sum z.bin)
	run -2 --separate-stderr mmpatch z.bin 0 --repeat=100000 -x 41 --undo="$MNT/p.undo"
	[[ "$stderr" == *"p.undo: cannot save the undo script: No space left on device; nothing written" ]]
	[ ! -e "$MNT/p.undo" ]
	assert_equal "$(sum z.bin)" "$before"
}

@test "mmpatch --undo removes its undo again when the change then fails" {
	# ext4 (a read of a hole allocates nothing): the check passes, the
	# write finds the disk full.  The undo of a change that never
	# happened must not stay behind.
	command -v mkfs.ext4 >/dev/null || skip "mkfs.ext4 is not installed"
	MNT=$BATS_TEST_TMPDIR/mnt
	mkdir -p "$MNT"
	truncate -s 8M ext4.img
	mkfs.ext4 -q -F ext4.img >/dev/null 2>&1 || skip "mkfs.ext4 failed"
	mount -o loop ext4.img "$MNT" 2>/dev/null ||
	    { MNT=; skip "cannot mount a loop device here (not root?)"; }
	truncate -s 4M "$MNT/f"
	dd if=/dev/zero of="$MNT/fill" bs=4k status=none 2>/dev/null || true
	before=$(sum "$MNT/f")
	# Through the mapping: a pwrite may still find a block there (ext4
	# lends from its reserve), a fault does not.
	MMUTILS_IO=mmap run -2 --separate-stderr mmpatch "$MNT/f" - -x 41 --undo=f.undo <<<$'0\n3M'
	[[ "$stderr" == *"no space left on the device"* ]]
	[ ! -e f.undo ]
	assert_equal "$(sum "$MNT/f")" "$before"
}

@test "mmpatch refuses an expectation of another length than the data written" {
	printf 'an ERROR here, an ERROR there\n' >log
	before=$(sum log)
	run -2 --separate-stderr mmpatch log 3 WARNING --expect-text=ERROR
	assert_equal "${stderr%%$'\n'*}" "mmpatch: the expectation has 5 bytes but the data written has 7; they must be of one length"
	run -2 --separate-stderr mmpatch log - WARNING --expect-text=ERROR <<<$'3\n18'
	[[ "$stderr" == *"5 bytes but the data written has 7"* ]]
	run -2 --separate-stderr mmpatch log - WARNING --expect-text=ERROR </dev/null
	run -2 --separate-stderr mmpatch log 3 -x 41 --repeat=5 --expect=45
	[[ "$stderr" == *"1 byte but the data written has 5 (1 byte 5 times)"* ]]
	run -2 --separate-stderr mmpatch log 3 -x '' --expect=45
	printf '0 41\n3 5741524e 4552524f52\n' >bad.patch
	run -2 --separate-stderr mmpatch --script=bad.patch log
	assert_equal "$stderr" "mmpatch: log: bad.patch:2: OLDHEX has 5 bytes but NEWHEX has 4; they must be of one length"
	assert_equal "$(sum log)" "$before"
	run -0 --separate-stderr mmpatch log 3 -x 41 --repeat=5 --expect-text=ERROR
	[ "$(cat log)" = "an AAAAA here, an ERROR there" ]
}

@test "mmpatch refuses standard input as both the data and the offsets, however named" {
	head -c 32 /dev/zero >z.bin
	before=$(sum z.bin)
	printf '0\n8\n' >offs
	for name in - /dev/stdin /proc/self/fd/0 /dev/fd/0; do
		run -2 --separate-stderr mmpatch -f "$name" z.bin - <offs
		[[ "$stderr" == *"standard input cannot give both the offsets and the data"* ]]
		printf '0\n' | { run -2 --separate-stderr mmpatch -f "$name" z.bin -; }
	done
	run -2 --separate-stderr mmpatch -f offs z.bin - <offs
	[[ "$stderr" == *"standard input cannot give both"* ]]
	assert_equal "$(sum z.bin)" "$before"
	printf 'AB' >data
	run -0 --separate-stderr mmpatch -f data z.bin - <offs
	[ "$(mmread -x z.bin 0 10)" = 41420000000000004142 ]
}

@test "after a batch cut short, --resume applies the undo script (or finishes the batch)" {
	randfile r.bin 20000 5
	orig=$(sum r.bin)
	seq 0 100 19900 >offs
	mmpatch r.bin - -x 5a5a5a5a --undo=r.undo <offs
	done_all=$(sum r.bin)
	# As a SIGKILL would leave it: the edits from 10000 on never made,
	# the one at 5000 half made.
	grep -v '^#' r.undo | awk '$1 >= 10000 { print $1, $2 }' |
	    mmpatch --script=- r.bin
	grep -v '^#' r.undo | awk '$1 == 5000 { print $1 + 2, substr($2, 5) }' |
	    mmpatch --script=- r.bin
	cut=$(sum r.bin)
	run -1 --separate-stderr mmpatch --script=r.undo r.bin
	[[ "$stderr" == *"r.undo:52: the bytes at offset 5000 are "* ]]
	assert_equal "$(sum r.bin)" "$cut"
	run -0 --separate-stderr mmpatch --resume --script=r.undo r.bin
	assert_equal "$(sum r.bin)" "$orig"
	# Or finish it: the batch again, its expectations met or made.
	mmpatch r.bin - -x 5a5a5a5a --undo=r2.undo <offs
	grep -v '^#' r2.undo | awk '$1 >= 10000 { print $1, $2 }' |
	    mmpatch --script=- r.bin
	grep -v '^#' r2.undo | awk '{ print $1, $2 }' >expects
	run -0 --separate-stderr mmpatch --resume --script=<(awk '{ print $1, "5a5a5a5a", $2 }' expects) r.bin
	assert_equal "$(sum r.bin)" "$done_all"
	# A byte that is neither the old nor the new one is still refused.
	mmpatch r.bin 100 -x 00
	cut=$(sum r.bin)
	run -1 --separate-stderr mmpatch --resume --script=r.undo r.bin
	assert_equal "$(sum r.bin)" "$cut"
}

@test "mmpatch --io=read and --io=mmap write the same bytes and refuse the same batches" {
	need_python
	randfile orig 70000 5
	"$PYTHON3" - <<'PY'
import random
r = random.Random(11)
for n in range(40):
    with open("s%d" % n, "w") as o:
        at = r.randrange(60000)
        for _ in range(r.randrange(1, 300)):
            # Mostly apart, often adjacent, now and then overlapping
            # (refused either way), with and without expectations.
            k = r.random()
            at = (at + (r.randrange(1, 9) if k < 0.3 else
                  0 if k < 0.7 else r.randrange(1, 5000))) % 69990
            data = r.randbytes(r.randrange(1, 9))
            o.write("%d %s\n" % (at, data.hex()))
            at += len(data) if k >= 0.3 else 0
PY
	for n in $(seq 0 $MM_STRIDE 39); do
		for io in mmap read; do
			cp orig "f$io"
			run --separate-stderr mmpatch --io=$io --script="s$n" "f$io"
			eval "st_$io=\$status err_$io=\${stderr//f$io/F}"
		done
		assert_equal "$st_read" "$st_mmap"
		assert_equal "$err_read" "$err_mmap"
		assert_equal "$(sum fread)" "$(sum fmmap)"
		[ "$st_read" = 0 ] || assert_equal "$(sum fread)" "$(sum orig)"
	done
	# Fills and expectations from standard input, offsets in any order.
	seq 900 -37 0 >offs
	for io in mmap read; do
		cp orig "f$io"
		MMUTILS_IO=$io run -0 mmpatch "f$io" - -x 616263 --repeat=5 <offs
		cp "f$io" "g$io"
		MMUTILS_IO=$io run -0 mmpatch "g$io" - -x 5a --repeat=15 \
		    --expect="$("$PYTHON3" -c 'print("616263" * 5)')" <offs
	done
	assert_equal "$(sum fread)" "$(sum fmmap)"
	assert_equal "$(sum gread)" "$(sum gmmap)"
	# A fill longer than the bounce buffer, its pattern across its seams.
	for io in mmap read; do
		randfile "h$io" 400000 6
		MMUTILS_IO=$io run -0 mmpatch "h$io" 1 -x 78797a --repeat=99000
	done
	assert_equal "$(sum hread)" "$(sum hmmap)"
	[ "$(mmread hread 296990 10)" = yzxyzxyzxy ]
	"$PYTHON3" -c '
d = bytearray(open("orig", "rb").read())
for o in range(900, -1, -37):
    d[o:o + 15] = b"abc" * 5
open("want", "wb").write(d)'
	assert_equal "$(sum fread)" "$(sum want)"
}

@test "mmpatch --io=read: ENOSPC or a short write at any pwrite leaves the file as it was" {
	need_python
	build_fault_shim
	randfile orig 300000 3
	"$PYTHON3" -c '
import random
r = random.Random(4)
for s in sorted(r.sample(range(300000 // 16), 200)):
    print(s * 16 + r.randrange(9), r.randbytes(8).hex())
print(299990, "00112233445566778899")' >script
	for what in enospc short; do
		for k in 1 2 7 100 201; do
			cp orig f
			rm -f f.undo
			MMUTILS_IO=read with_fault pwrite "$k" "$what" \
			    run -2 --separate-stderr mmpatch --script=script \
			    --undo=f.undo f
			assert_equal "$stderr" "mmpatch: f: no space left on the device for the bytes to write; nothing written"
			assert_equal "$(sum f)" "$(sum orig)"
			[ ! -e f.undo ]
		done
	done
	# The 202nd pwrite is past the batch: all of it written.
	cp orig f
	MMUTILS_IO=read with_fault pwrite 202 enospc run -0 mmpatch --script=script f
	cp orig g
	MMUTILS_IO=mmap run -0 mmpatch --script=script g
	assert_equal "$(sum f)" "$(sum g)"
}

@test "mmpatch --io=read writes through the mapping where ulimit -f refuses pwrite" {
	head -c 2M /dev/zero >z.bin
	# 1 MiB of ulimit: a pwrite at 1.5 MiB is refused even inside the
	# file, a store through a mapping is not.
	run -0 --separate-stderr bash -c 'ulimit -f 1024; MMUTILS_IO=read exec mmpatch z.bin 1536K -x 4142'
	[ "$(mmread z.bin 1536K 2)" = AB ]
	run -0 --separate-stderr bash -c 'ulimit -f 1024; exec mmpatch --io=read z.bin - -x 43 <<<$'"'"'10\n2000000'"'"
	[ "$(mmread z.bin 2000000 1)" = C ]
	[ "$(mmread z.bin 10 1)" = C ]
}

@test "mmpatch --io takes auto, mmap or read, and MMUTILS_IO the same" {
	before=$(sum t.txt)
	run -2 --separate-stderr mmpatch --io=fast t.txt 0 X
	assert_equal "${stderr%%$'\n'*}" "mmpatch: --io must be auto, mmap or read, not 'fast'"
	MMUTILS_IO=fast run -2 --separate-stderr mmpatch t.txt 0 X
	assert_equal "${stderr%%$'\n'*}" "mmpatch: MMUTILS_IO must be auto, mmap or read, not 'fast'"
	assert_equal "$(sum t.txt)" "$before"
	for io in auto mmap read; do
		run -0 mmpatch --io=$io t.txt 0 X
	done
	[ "$(cat t.txt)" = "Xello world" ]
}

@test "mmpatch by pwrite into a 10 GiB sparse file: the bytes land, the holes stay" {
	truncate -s 10G big
	printf '%s\n' 1 4096 5G 10G-8 | sed 's/10G-8/10737418232/' >offs
	run -0 --separate-stderr mmpatch --io=read big - -x 0102030405060708 <offs
	[ "$(mmread -x big 5G 8)" = 0102030405060708 ]
	[ "$(mmread -x big -8)" = 0102030405060708 ]
	[ "$(mmread -x big 0 12)" = 000102030405060708000000 ]
	[ "$(du -k big | cut -f1)" -lt 1024 ]
}

@test "mmpatch with its operands out of order names the order, writes nothing" {
	before=$(sum t.txt)
	run -2 --separate-stderr mmpatch t.txt hello 0
	assert_equal "$stderr" "mmpatch: invalid offset 'hello' (usage: mmpatch FILE OFFSET [TEXT])"
	run -2 --separate-stderr mmpatch 0 t.txt hello
	assert_equal "$stderr" "mmpatch: invalid offset 't.txt' (usage: mmpatch FILE OFFSET [TEXT])"
	run -2 --separate-stderr mmpatch 0 t.txt -x 41
	assert_equal "$stderr" "mmpatch: invalid offset 't.txt' (usage: mmpatch FILE OFFSET [TEXT])"
	# No other order would do: no hint.
	run -2 --separate-stderr mmpatch t.txt hello world
	assert_equal "$stderr" "mmpatch: invalid offset 'hello'"
	assert_equal "$(sum t.txt)" "$before"
	[ ! -e 0 ]
}
