#!/usr/bin/env bats
# move.bats - mmmove: memmove inside a file, as Python's mmap.move.

load helpers

setup() {
	cd "$BATS_TEST_TMPDIR"
	printf 'ABCDEabcde' >t.bin
}

teardown() {
	teardown_mnt_immutable
}

@test "mmmove copies COUNT bytes from SRC to DEST (CPython's test_move)" {
	run -0 --separate-stderr mmmove t.bin 5 0 5
	assert_output ""
	[ -z "$stderr" ]
	[ "$(cat t.bin)" = "ABCDEABCDE" ]
}

@test "mmmove handles overlap both ways (PyPy's foobar cases)" {
	printf foobar >f
	run -0 mmmove f 1 3 3
	[ "$(cat f)" = fbarar ]
	run -0 mmmove f 1 3 2
	[ "$(cat f)" = frarar ]
	run -2 --separate-stderr mmmove f 7 1 2
	assert_equal "$stderr" "mmmove: f: destination 7 is past the end of the file (size 6)"
	run -2 --separate-stderr mmmove f 1 7 2
	assert_equal "$stderr" "mmmove: f: source 7 is past the end of the file (size 6)"
	run -2 --separate-stderr mmmove f 5 0 2
	assert_equal "$stderr" "mmmove: f: destination range [5, 7) (2 bytes) passes the end of the file (size 6)"
	[ "$(cat f)" = frarar ]
}

@test "mmmove agrees with Python's mmap.move on every triple of a 10-byte file" {
	need_python
	"$PYTHON3" - >want <<'PY'
import mmap, tempfile
with tempfile.TemporaryFile() as f:
    for dest in range(11):
        for src in range(11):
            for count in range(12):
                f.seek(0); f.write(b"ABCDEabcde"); f.flush()
                m = mmap.mmap(f.fileno(), 0)
                try:
                    m.move(dest, src, count)
                    rc = 0
                except ValueError:
                    rc = 2
                print(dest, src, count, rc, m[:].decode())
                m.close()
PY
	dests="0 1 2 3 4 5 6 7 8 9 10"
	[ "$MM_STRIDE" = 1 ] || dests="0 5 10"
	for dest in $dests; do
		for src in 0 1 2 3 4 5 6 7 8 9 10; do
			for count in 0 1 2 3 4 5 6 7 8 9 10 11; do
				printf 'ABCDEabcde' >t.bin
				rc=0
				mmmove t.bin "$dest" "$src" "$count" 2>/dev/null ||
				    rc=$?
				read -r -N 10 got <t.bin
				echo "$dest $src $count $rc $got"
			done
		done
	done >got
	grep -E "^($(echo $dests | tr ' ' '|')) " want >want.some
	[ "$(wc -l <got)" = $(($(echo $dests | wc -w) * 132)) ]
	diff want.some got
}

@test "mmmove on a 1-byte file: CPython's out-of-range cases fail, the rest succeed" {
	printf x >one
	for args in "0 0 2" "1 0 1" "0 1 1"; do
		run -2 --separate-stderr mmmove one $args
		[[ "$stderr" == *"passes the end"* || "$stderr" == *"past the end"* ]]
	done
	run -0 mmmove one 0 0 1
	run -0 mmmove one 0 0 0
	run -0 mmmove one 1 1 0
	[ "$(cat one)" = x ]
}

@test "mmmove rejects every negative argument and agrees with Python on the rest" {
	need_python
	randfile r.bin 10 4
	"$PYTHON3" - >want <<'PY'
import mmap, tempfile
vals = [-100, -1, 0, 1, 100]
orig = open("r.bin", "rb").read()
with tempfile.TemporaryFile() as f:
    for d in vals:
        for s in vals:
            for c in vals:
                f.seek(0); f.write(orig); f.flush()
                m = mmap.mmap(f.fileno(), 0)
                try:
                    m.move(d, s, c)
                    rc = 0
                except ValueError:
                    rc = 2
                print(d, s, c, rc, m[:].hex())
                m.close()
PY
	vals="-100 -1 0 1 100"
	for d in $vals; do for s in $vals; do for c in $vals; do
		cp r.bin t.bin
		rc=0
		mmmove t.bin "$d" "$s" "$c" 2>err || rc=$?
		echo "$d $s $c $rc $(mmread -x t.bin)"
		case "$d $s $c" in
		*-*) grep -q "must not be negative" err ||
			echo "move($d, $s, $c): $(cat err)" ;;
		esac
	done; done; done >got
	diff want got
}

@test "mmmove with COUNT 0 is a no-op, even on an empty file" {
	before=$(sum t.bin)
	run -0 --separate-stderr mmmove t.bin 3 7 0
	run -0 --separate-stderr mmmove t.bin 10 10 0
	assert_equal "$(sum t.bin)" "$before"
	: >empty
	run -0 --separate-stderr mmmove empty 0 0 0
	[ -z "$stderr" ]
	run -2 --separate-stderr mmmove empty 1 0 0
	[ ! -s empty ]
}

@test "mmmove refuses ranges past the end and leaves the file unchanged" {
	before=$(sum t.bin)
	run -2 --separate-stderr mmmove t.bin 0 6 5
	assert_equal "$stderr" "mmmove: t.bin: source range [6, 11) (5 bytes) passes the end of the file (size 10)"
	run -2 --separate-stderr mmmove t.bin 0 0 11
	run -2 --separate-stderr mmmove t.bin 0 0 7E
	run -2 --separate-stderr mmmove t.bin 11 0 0
	assert_equal "$(sum t.bin)" "$before"
}

@test "mmmove rejects bad numbers and missing operands, one line, exit 2" {
	before=$(sum t.bin)
	run -2 --separate-stderr mmmove t.bin 0 0
	assert_equal "$stderr" "mmmove: missing COUNT operand after '0'
Try 'mmmove --help' for more information."
	run -2 --separate-stderr mmmove t.bin
	[[ "$stderr" == "mmmove: missing DEST operand after 't.bin'"$'\n'* ]]
	run -2 --separate-stderr mmmove
	[[ "$stderr" == "mmmove: missing FILE operand"$'\n'* ]]
	run -2 --separate-stderr mmmove t.bin 0 0 1 1
	[[ "$stderr" == *"extra operand '1'"* ]]
	run -2 --separate-stderr mmmove t.bin 0 0 x1
	assert_equal "$stderr" "mmmove: invalid COUNT 'x1'"
	run -2 --separate-stderr mmmove t.bin 16E 0 1
	assert_equal "$stderr" "mmmove: DEST '16E' is too large (the limit is 2^63-1)"
	run -2 --separate-stderr mmmove t.bin 0 0xffffffffffffffff 1
	run -2 --separate-stderr mmmove t.bin -- -1 0 1
	assert_equal "$stderr" "mmmove: DEST '-1' must not be negative"
	assert_equal "$(sum t.bin)" "$before"
}

@test "mmmove refuses a directory, a missing file, a FIFO, /dev/null, standard input" {
	mkdir d
	run -2 --separate-stderr mmmove d 0 0 0
	assert_equal "$stderr" "mmmove: d: is a directory"
	run -2 --separate-stderr mmmove nosuch 0 0 0
	assert_equal "$stderr" "mmmove: nosuch: No such file or directory"
	mkfifo fifo
	run -2 --separate-stderr timeout 10 mmmove fifo 0 0 0
	assert_equal "$stderr" "mmmove: fifo: cannot be mapped (a pipe, FIFO, character device or /proc file)"
	run -2 --separate-stderr mmmove /dev/null 0 0 0
	[[ "$stderr" == "mmmove: /dev/null: cannot be mapped"* ]]
	run -2 --separate-stderr mmmove - 0 0 0 <t.bin
	[[ "$stderr" == *"standard input cannot be changed in place"* ]]
}

@test "mmmove refuses a read-only (immutable) file" {
	chattr +i t.bin 2>/dev/null || skip "chattr +i is not supported here"
	IMMUTABLE=$BATS_TEST_TMPDIR/t.bin
	before=$(sum t.bin)
	run -2 --separate-stderr mmmove t.bin 5 0 5
	assert_equal "$stderr" "mmmove: t.bin: Operation not permitted"
	run -0 --separate-stderr mmmove --dry-run t.bin 5 0 5
	assert_equal "$(sum t.bin)" "$before"
}

@test "mmmove --dry-run checks and reports, and changes nothing" {
	before=$(sum t.bin)
	run -0 --separate-stderr mmmove --dry-run t.bin 5 0 5
	assert_output "would move 5 bytes from offset 0 to offset 5"
	run -2 --separate-stderr mmmove --dry-run t.bin 6 0 5
	assert_equal "$(sum t.bin)" "$before"
}

@test "mmmove -v reports on stderr; --sync and --progress off a terminal are quiet" {
	run -0 --separate-stderr mmmove -v --sync t.bin 0 5 5
	assert_output ""
	assert_equal "$stderr" "mmmove: t.bin: moved 5 bytes from offset 5 to offset 0"
	[ "$(cat t.bin)" = abcdeabcde ]
	run -0 --separate-stderr mmmove --progress t.bin 5 0 5
	[ -z "$stderr" ]
}

@test "mmmove moves 40 MiB by one byte up and down, across chunks, exactly" {
	yes 'the quick brown fox jumps over' | head -c 40M >big
	n=$(stat -c %s big)
	want=$({ head -c 1 big; head -c $((n - 1)) big; } | sha256sum | cut -d' ' -f1)
	run -0 mmmove big 1 0 $((n - 1))
	assert_equal "$(sum big)" "$want"
	want=$({ tail -c +2 big; tail -c 1 big; } | sha256sum | cut -d' ' -f1)
	run -0 mmmove big 0 1 $((n - 1))
	assert_equal "$(sum big)" "$want"
}

@test "mmmove works past 4 GiB in a sparse file" {
	truncate -s 5G sparse.img
	mmpatch sparse.img 4G -x cafe
	run -0 mmmove sparse.img 0x100 4G 2
	[ "$(mmread -x sparse.img 0xff 4)" = 00cafe00 ]
	run -0 mmmove sparse.img 0x13ffffffe 0x100 2
	[ "$(mmread -x sparse.img 0x13ffffffd)" = 00cafe ]
	run -2 mmmove sparse.img 0x13fffffff 0x100 2
	[ "$(du -k sparse.img | cut -f1)" -lt 1024 ]
}

# A move of 256 MiB interrupted by SIG: the file ends fully moved or
# untouched, and an interrupt that landed exits 128+signal.  (cksum, not
# sum: a CRC is checksum enough here and ten times faster on 256 MiB.)
interrupted_move() {
	local sig=$1 code=$2 delay=$3
	yes 'abcdefghijklmnopqrstuvwxyz0123' | head -c 256M >big
	n=$(stat -c %s big)
	untouched=$(cksum <big)
	moved=$({ tail -c +2 big; tail -c 1 big; } | cksum)
	env --default-signal=INT,TERM mmmove big 0 1 $((n - 1)) \
	    >/dev/null 2>&1 3>&- &
	pid=$!
	sleep "$delay"
	kill -s "$sig" "$pid" 2>/dev/null || true
	rc=0
	wait "$pid" || rc=$?
	now=$(cksum <big)
	case "$rc" in
	0) assert_equal "$now" "$moved" ;;
	"$code") [ "$now" = "$moved" ] || [ "$now" = "$untouched" ] ||
		fail "exit $rc and the file is half moved" ;;
	*) fail "exit $rc" ;;
	esac
	echo "$rc" >>"$BATS_TEST_TMPDIR/outcomes"
}

@test "SIGINT or SIGTERM that comes mid-move is held: the move completes, then 130/143" {
	build_fault_shim
	yes 'abcdefghijklmnopqrstuvwxyz0123' | head -c 8M >orig
	moved=$({ tail -c +2 orig; tail -c 1 orig; } | cksum)
	for at in "pread 1" "pwrite 4"; do
		for sig in INT TERM; do
			cp orig big
			with_fault $at $sig run env --default-signal=INT,TERM \
			    mmmove big 0 1 $((8 * 1024 * 1024 - 1))
			case $sig in
			INT) assert_equal "$at $sig $status" "$at $sig 130" ;;
			TERM) assert_equal "$at $sig $status" "$at $sig 143" ;;
			esac
			assert_equal "$(cksum <big)" "$moved"
		done
	done
}

@test "SIGINT during a large move leaves the file fully moved or untouched (130)" {
	interrupted_move INT 130 0.05
	interrupted_move INT 130 0.15
}

@test "SIGTERM during a large move leaves the file fully moved or untouched (143)" {
	interrupted_move TERM 143 0.1
}

@test "mmmove into a sparse hole on a full file system: ENOSPC, nothing moved" {
	MNT=$BATS_TEST_TMPDIR/mnt
	mkdir -p "$MNT"
	mount -t tmpfs -o size=1m tmpfs "$MNT" 2>/dev/null ||
	    { MNT=; skip "cannot mount a tmpfs here (not root?)"; }
	truncate -s 4M "$MNT/f"
	head -c 65536 /dev/urandom | dd of="$MNT/f" conv=notrunc status=none
	dd if=/dev/zero of="$MNT/fill" bs=4k status=none 2>/dev/null || true
	before=$(sum "$MNT/f")
	run -2 --separate-stderr mmmove "$MNT/f" 3M 0 64K
	[[ "$stderr" == *"/f: no space left on the device"*"nothing moved" ]]
	assert_equal "$(sum "$MNT/f")" "$before"
}

@test "mmmove on a full ext4 where the file's bytes sit in its inode: ENOSPC, nothing moved" {
	# ext4's inline_data keeps a small file inside its inode; a write
	# through a mapping must first give it a block of its own.
	command -v mkfs.ext4 >/dev/null || skip "mkfs.ext4 is not installed"
	truncate -s 4M img
	mkfs.ext4 -q -O inline_data -b 1024 -N 64 img 2>/dev/null ||
	    skip "mkfs.ext4 cannot make inline_data file systems"
	MNT=$BATS_TEST_TMPDIR/mnt
	mkdir -p "$MNT"
	mount -o loop img "$MNT" 2>/dev/null ||
	    { MNT=; skip "cannot mount a loop device here (not root?)"; }
	printf 'hello world, inline' >"$MNT/f"
	sync "$MNT/f"
	dd if=/dev/zero of="$MNT/fill" bs=1k status=none 2>/dev/null || true
	# Writing back the fill frees the blocks ext4 had held for its
	# metadata: fill those too, or the move may find one.
	sync
	dd if=/dev/zero of="$MNT/fill2" bs=1k status=none 2>/dev/null || true
	sync
	[ "$(stat -c %b "$MNT/f")" -le 1 ] || skip "the file got a block"
	run -2 --separate-stderr mmmove "$MNT/f" 1 0 18
	assert_equal "$stderr" "mmmove: $MNT/f: no space left on the device for the destination; nothing moved"
	assert_equal "$(cat "$MNT/f")" "hello world, inline"
}

@test "mmmove past ulimit -f: exit 2 before the first byte moves, the file unchanged" {
	head -c 1048576 /dev/urandom >f
	before=$(sum f)
	# 500 blocks of 1 KiB: pwrite refuses a range past 512000 bytes even
	# over bytes that exist, so the move must be refused whole.
	run -2 --separate-stderr bash -c 'ulimit -f 500; exec "$@"' _ \
	    mmmove f 0 1 1048575
	assert_equal "$stderr" "mmmove: f: cannot write up to offset 1048575: file size limit exceeded; nothing moved"
	run -2 --separate-stderr bash -c 'ulimit -f 500; exec "$@"' _ \
	    mmmove f 600000 0 100
	assert_equal "$(sum f)" "$before"
	# A destination inside the limit moves, though the file passes it.
	run -0 bash -c 'ulimit -f 500; exec "$@"' _ mmmove f 0 600000 100
	assert_equal "$(mmread -x f 0 100)" "$(mmread -x f 600000 100)"
}

@test "output past ulimit -f is exit 2 with a message, not death by SIGXFSZ" {
	# The limit is 1 KiB, not 0: standard error is a file here too.
	head -c 10000 /dev/urandom >big
	run -2 --separate-stderr bash -c 'ulimit -f 1; exec "$@" >out' _ \
	    mmread big
	assert_equal "$stderr" "mmread: write error: file size limit exceeded"
	assert_equal "$(stat -c %s out)" 1024
	head -c 5000 /dev/zero >zeros
	run -2 --separate-stderr bash -c 'ulimit -f 1; exec "$@" >out' _ \
	    mmfind -a -x 00 zeros
	assert_equal "$stderr" "mmfind: write error: file size limit exceeded"
}

@test "mmmove waits for another writer's lock; --no-lock does not" {
	command -v flock >/dev/null || skip "flock(1) is not installed"
	# The holder keeps the lock until told: under valgrind the
	# applets alone take longer than any fixed sleep.
	flock t.bin sh -c 'touch locked; i=0
	    while [ ! -e go ] && [ $i -lt 3000 ]; do sleep 0.02; i=$((i+1)); done' \
	    >/dev/null 2>&1 3>&- &
	holder=$!
	while [ ! -e locked ]; do sleep 0.02; done
	run -124 --separate-stderr timeout 1 mmmove t.bin 5 0 5
	[ "$(cat t.bin)" = ABCDEabcde ]
	run -0 --separate-stderr timeout 30 mmmove --no-lock t.bin 5 0 5
	[ "$(cat t.bin)" = ABCDEABCDE ]
	touch go
	wait "$holder" 2>/dev/null || true
}

# The pwrite failures of a full copy-on-write file system, landed exactly
# with the fault shim: the bytes already moved are put back.
@test "a write failing half-way (ENOSPC) puts every moved byte back: exit 2, file unchanged" {
	build_fault_shim
	M=$((1 << 20))
	randfile orig $((6 * M)) 7
	for c in "0 $((2 * M)) $((3 * M))" "$((2 * M)) 0 $((3 * M))" \
	    "1 0 $((5 * M))" "0 1 $((5 * M))" "0 $((3 * M)) $((3 * M))"; do
		for k in 1 2 3; do
			for how in enospc short; do
				cp orig mv
				# shellcheck disable=SC2086
				with_fault pwrite "$k" "$how" \
				    run -2 --separate-stderr mmmove mv $c
				assert_equal "$(sum mv)" "$(sum orig)"
				assert_equal "$stderr" "mmmove: mv: no space left on the device for the destination; nothing moved"
			done
		done
	done
}

@test "a move whose old bytes cannot be written back says the file may be partly moved" {
	build_fault_shim
	M=$((1 << 20))
	randfile orig $((4 * M)) 9
	cp orig mv
	with_fault pwrite 2 stuck run -2 --separate-stderr mmmove mv 0 $((2 * M)) $((2 * M))
	assert_equal "$stderr" "mmmove: mv: I/O error while bytes were moved; the file may be partly moved"
	[ "$(sum mv)" != "$(sum orig)" ]
}

@test "mmmove's messages count one byte as 1 byte, ranges as [START, END)" {
	before=$(sum t.bin)
	run -2 --separate-stderr mmmove t.bin 9 0 2
	assert_equal "$stderr" "mmmove: t.bin: destination range [9, 11) (2 bytes) passes the end of the file (size 10)"
	run -0 --separate-stderr mmmove --dry-run t.bin 9 0 1
	assert_output "would move 1 byte from offset 0 to offset 9"
	assert_equal "$(sum t.bin)" "$before"
	run -0 --separate-stderr mmmove -v t.bin 9 0 1
	assert_equal "$stderr" "mmmove: t.bin: moved 1 byte from offset 0 to offset 9"
	[ "$(cat t.bin)" = "ABCDEabcdA" ]
}

@test "mmmove with the file after a number names the order, moves nothing" {
	before=$(sum t.bin)
	run -2 --separate-stderr mmmove 0 t.bin 5 5
	assert_equal "$stderr" "mmmove: invalid DEST 't.bin' (usage: mmmove FILE DEST SRC COUNT)"
	assert_equal "$(sum t.bin)" "$before"
}

@test "mmmove names DEST and SRC as typed in its range messages, file unchanged" {
	printf 'abcdef' >h.bin
	before=$(sha256sum <h.bin)
	run -2 --separate-stderr mmmove h.bin 0x10 0 1
	assert_equal "$stderr" "mmmove: h.bin: destination 0x10 is past the end of the file (size 6)"
	assert_equal "$(sha256sum <h.bin)" "$before"
}
