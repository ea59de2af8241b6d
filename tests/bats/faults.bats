#!/usr/bin/env bats
# faults.bats - every applet under the faults a shell script may meet: a
# file cut by another process while it is mapped, interrupts during long
# changes, read-only files and file systems, FIFOs, /proc, directories, a
# full output device, two writers at once, offsets past 2 and 4 GiB.
# The answer is always exit 2 with a message (or the right result), never
# a signal death, and never a damaged file.
#
# Covered elsewhere, not repeated here:
#   a file cut during mmfind -a / mmread       find.bats, read.bats
#   ENOSPC: mmresize --allocate / --fill       resize.bats (tiny tmpfs)
#   ENOSPC: mmpatch / mmmove into a hole       patch.bats, move.bats
#   SIGINT/SIGTERM during 256 MiB moves        move.bats, resize.bats
#   two batch patchers, two --at inserts       patch.bats, resize.bats

load helpers

setup() {
	cd "$BATS_TEST_TMPDIR"
	printf 'hello world\n' >t.txt
	MNT=
	IMMUTABLE=
}

teardown() {
	teardown_mnt_immutable
}

# signalled STATUS: fail when a run ended by a signal (128+N, not 130/143).
not_killed() {
	case "$1" in
	13[0-9] | 1[4-9][0-9] | 2[0-9][0-9])
		fail "killed by signal $(($1 - 128))" ;;
	esac
}

# ------------------------------------------------------------ cut files

@test "mmpatch: a file cut between the check and the first write gives exit 2, nothing written" {
	# The undo script goes to a pipe nobody reads yet: mmpatch blocks
	# after the check, before the first write, while the file is cut.
	need_python
	"$PYTHON3" -c '
for i in range(0, 8 << 20, 512):
    print(i)' >offsets
	printf '# a script\n' >script
	"$PYTHON3" -c '
for i in range(0, 8 << 20, 512):
    print(i, "4142")' >>script
	for how in offsets script; do
		rm -f big
		truncate -s 8M big
		if [ $how = offsets ]; then
			set -- - -x 4142
		else
			set -- --script=script
		fi
		( set +e; mmpatch --undo=- big "$@" <offsets; echo "rc=$?" >rc ) \
		    2>err | {
			wait_reading big
			sleep 0.5
			truncate -s 4096 big
			cat >/dev/null
		}
		assert_equal "$(cat rc)" "rc=2"
		run cat err
		assert_output "mmpatch: big: the file shrank from 8388608 to 4096 bytes while it was patched"
		# What the other process left is all zeros: nothing written.
		assert_equal "$(tr -d '\0' <big | wc -c)" 0
	done
}

# cut_move DELAY: cut the file DELAY seconds after mmmove has mapped it,
# with mmmove stopped meanwhile so the cut lands where the delay says.
cut_move() {
	local delay=$1 pid rc i
	rm -f mv
	head -c $((64 << 20)) /dev/zero | tr '\0' 'x' >mv
	truncate -s 256M mv
	mmmove mv 1 0 $((256 * 1024 * 1024 - 1)) 2>err 3>&- &
	pid=$!
	wait_mapped mv $pid
	sleep "$delay"
	kill -STOP $pid 2>/dev/null || true
	truncate -s 4096 mv
	kill -CONT $pid 2>/dev/null || true
	rc=0
	wait $pid || rc=$?
	not_killed $rc
	if [ $rc = 0 ]; then
		# Done before the cut: fine, and nothing to check.
		echo "moved before the cut (delay $delay)" >&3
		return
	fi
	assert_equal $rc 2
	run cat err
	# A cut that falls between mmmove's size check and its next write
	# is seen after that write, which ended short of the old end.
	assert_output --regexp "^mmmove: mv: the file shrank from 268435456 to [0-9]+ bytes while bytes were moved\$"
	[ "$(stat -c %s mv)" -lt 268435456 ]
}

@test "mmmove: a file cut before and during the copy gives exit 2, never SIGBUS" {
	[ -r /proc/self/maps ] || skip "no /proc/PID/maps to see the mapping"
	cut_move 0
	cut_move 0.02
	cut_move 0.08
}

# cut_case WHICH CALL WANT DEST SRC COUNT: mmmove with the file cut to
# 4096 bytes just before its CALLth WHICH; exit 2 and a file of WANT bytes.
cut_case() {
	local which=$1 call=$2 want=$3 now
	shift 3
	cp orig mv
	with_fault "$which" "$call" cut run --separate-stderr mmmove mv "$@"
	not_killed "$status"
	assert_equal "$status" 2
	now=$(stat -c %s mv)
	assert_equal "$which $call $*: $now" "$which $call $*: $want"
	assert_equal "$stderr" "mmmove: mv: the file shrank from $size to $now bytes while bytes were moved"
}

@test "mmmove: a file cut just before a read or a write gives exit 2, never the old size" {
	build_fault_shim
	size=$((8 << 20)) M=$((1 << 20))
	seq 1 2000000 | head -c $size >orig
	for k in 1 2 5; do
		# Up to the end of the file: its last chunk goes first, through
		# the mapping.  A read after the cut finds the file short; a
		# write after it writes the file long again, to the end of that
		# write only, and the next check sees it short.
		cut_case pread $k 4096 1 0 $((size - 1))
		cut_case pwrite $k $((size - k * M)) 1 0 $((size - 1))
		# Up, ending before the end: every chunk through pwrite.
		cut_case pread $k 4096 1 0 $((size - 2))
		cut_case pwrite $k $((size - 1 - (k - 1) * M)) 1 0 $((size - 2))
		# Down, front to back.
		cut_case pread $k 4096 0 1 $((size - 1))
		cut_case pwrite $k $((k * M)) 0 1 $((size - 1))
	done
	# Cut before the first read of a move down: not a byte moved.
	cut_case pread 1 4096 0 1 $((size - 1))
	cmp mv <(head -c 4096 orig)
}

@test "mmfind -r -a and mmread -C: a file cut mid-output gives exit 2" {
	# Written zeros (a hole's are counted, not read), mapped and read.
	local io
	for io in mmap read; do
		head -c 64M /dev/zero >shrinking
		cut_mid_output shrinking mmfind --io=$io -r -a -x 00 shrinking
		assert_equal "$(cat rc)" "rc=2"
		run cat err
		assert_output "mmfind: shrinking: the file shrank from 67108864 to 4096 bytes while it was searched"
		# Lines that differ, or hexdump -C folds them into one '*'.
		seq 1 8000000 >shrinking
		size=$(stat -c %s shrinking)
		cut_mid_output shrinking mmread --io=$io -C shrinking
		assert_equal "$(cat rc)" "rc=2"
		run cat err
		assert_output "mmread: shrinking: the file shrank from $size to 4096 bytes while it was read"
	done
}

# ------------------------------------------------------------ interrupts

@test "SIGINT during a 512 MiB mmmove, SIGTERM during a 512 MiB mmresize --at: all done or untouched" {
	need_python
	# 512 MiB, every MiB marked, so a half-done move cannot hide.
	"$PYTHON3" -c '
blk = bytes(range(256)) * 4096
with open("big", "wb") as f:
    for i in range(512):
        f.write(i.to_bytes(2, "big") + blk[2:])'
	untouched=$(cksum <big)
	moved=$({ tail -c +2 big; tail -c 1 big; } | cksum)
	inserted=$({ head -c 1 big; printf '\0\0\0'; tail -c +2 big; } | cksum)

	cp big f
	env --default-signal=INT,TERM mmmove f 0 1 $((512 * 1024 * 1024 - 1)) \
	    2>/dev/null 3>&- &
	pid=$!
	sleep 0.3
	kill -s INT $pid 2>/dev/null || true
	rc=0
	wait $pid || rc=$?
	now=$(cksum <f)
	case $rc in
	0) assert_equal "$now" "$moved" ;;
	130) [ "$now" = "$moved" ] || [ "$now" = "$untouched" ] ||
		fail "exit 130 and the file is half moved" ;;
	*) fail "mmmove: exit $rc" ;;
	esac

	cp big f
	MMUTILS_NO_FALLOCATE=1 env --default-signal=INT,TERM \
	    mmresize --at=1 f +3 2>/dev/null 3>&- &
	pid=$!
	for _ in $(seq 1 2000); do
		[ "$(stat -c %s f)" != 536870912 ] && break
		sleep 0.005
	done
	kill -s TERM $pid 2>/dev/null || skip "the insert finished first"
	rc=0
	wait $pid || rc=$?
	assert_equal $rc 143
	assert_equal "$(cksum <f)" "$inserted"
}

# ------------------------------------------------------------ read-only

# readonly_all FILE: readers answer, writers refuse with MESSAGE, FILE
# stays as it was.
readonly_all() {
	local f=$1 msg=$2 before
	before=$(sum "$f")
	run -0 mmfind -c o "$f"
	assert_output 2
	run -0 mmread "$f" 6 5
	assert_output world
	run -0 mmread --size "$f"
	assert_output 12
	run -2 --separate-stderr mmpatch "$f" 0 X
	assert_equal "$stderr" "mmpatch: $f: $msg"
	run -2 --separate-stderr mmpatch "$f" - -x 58 <<<$'0\n1'
	assert_equal "$stderr" "mmpatch: $f: $msg"
	run -0 mmpatch --dry-run "$f" 0 X
	assert_output "0: 68 -> 58"
	run -2 --separate-stderr mmmove "$f" 0 6 5
	assert_equal "$stderr" "mmmove: $f: $msg"
	run -2 --separate-stderr mmresize "$f" 100
	[[ "$stderr" == "mmresize: $f: "* ]]
	run -2 --separate-stderr mmresize --at=0 "$f" +1
	[[ "$stderr" == "mmresize: $f: "* ]]
	run -0 --separate-stderr mmflush "$f"
	run -0 mmadvise "$f"
	run -0 mmadvise "$f" willneed
	run -2 --separate-stderr mmadvise "$f" populate-write
	[[ "$stderr" == "mmadvise: $f: "* ]]
	assert_equal "$(sum "$f")" "$before"
	assert_equal "$(stat -c %s "$f")" 12
}

@test "an immutable file: readers read it, every writer refuses it unchanged" {
	[ "$(id -u)" = 0 ] || skip "chattr +i needs root"
	chattr +i t.txt 2>/dev/null || skip "this file system has no immutable files"
	IMMUTABLE=$BATS_TEST_TMPDIR/t.txt
	readonly_all t.txt "Operation not permitted"
}

@test "a file on a read-only mount: readers read it, every writer refuses it unchanged" {
	mkdir -p mnt
	mount -t tmpfs -o size=1m tmpfs mnt 2>/dev/null ||
	    skip "cannot mount a tmpfs here (needs root)"
	MNT=$BATS_TEST_TMPDIR/mnt
	printf 'hello world\n' >mnt/t.txt
	mount -o remount,ro mnt 2>/dev/null || skip "cannot remount read-only"
	readonly_all mnt/t.txt "Read-only file system"
	# A missing file cannot be created there either; -c creates nothing.
	run -2 --separate-stderr mmresize mnt/new 10
	assert_equal "$stderr" "mmresize: mnt/new: Read-only file system"
	run -0 mmresize -c mnt/new 10
	[ ! -e mnt/new ]
}

# ------------------------------------------------------------ odd files

@test "a FIFO: mmfind and mmread read it, every other applet refuses it at once" {
	mkfifo fifo
	( printf 'abcxabc' >fifo & )
	run -0 timeout 10 mmfind -a abc fifo
	assert_output $'0\n4'
	( printf 'abcxabc' >fifo & )
	run -0 timeout 10 mmread fifo 1 3
	assert_output bcx
	# No writer on the other end: these must not block on the open.
	for cmd in "mmpatch fifo 0 x" "mmmove fifo 0 0 0" "mmresize fifo 0" \
	    "mmflush fifo" "mmadvise fifo" "mmadvise fifo willneed"; do
		run -2 --separate-stderr timeout 10 $cmd
		assert_equal "$stderr" "${cmd%% *}: fifo: cannot be mapped (a pipe, FIFO, character device or /proc file)"
	done
}

@test "/proc files: mmfind and mmread give cat's answers, the rest refuse them" {
	[ -r /proc/version ] || skip "no /proc here"
	want=$(head -c 5 /proc/version)
	run -0 mmread /proc/version 0 5
	assert_output "$want"
	run -0 mmfind "$want" /proc/version
	assert_output 0
	run -0 mmread -x /proc/self/status 0 5
	assert_output "$(head -c 5 /proc/self/status | od -An -tx1 | tr -d ' \n')"
	for cmd in "mmpatch /proc/version 0 x" "mmmove /proc/version 0 0 0" \
	    "mmresize /proc/version 0" "mmflush /proc/version" \
	    "mmadvise /proc/version" "mmadvise /proc/version willneed"; do
		run -2 --separate-stderr $cmd
		assert_equal "$stderr" "${cmd%% *}: /proc/version: cannot be mapped (a pipe, FIFO, character device or /proc file)"
	done
	assert_equal "$(head -c 5 /proc/version)" "$want"
}

@test "a directory: every applet says so, exit 2" {
	mkdir d
	for cmd in "mmfind x d" "mmread d" "mmpatch d 0 x" "mmmove d 0 0 0" \
	    "mmresize d 0" "mmresize --at=0 d +1" "mmflush d" "mmadvise d" \
	    "mmadvise d willneed"; do
		run -2 --separate-stderr $cmd
		assert_equal "$stderr" "${cmd%% *}: d: is a directory"
	done
	[ -d d ]
}

@test "a full output device: every applet that prints exits 2 with a write error" {
	[ -w /dev/full ] || skip "no /dev/full here"
	for cmd in "mmfind o t.txt" "mmfind -c o t.txt" "mmfind -a -r o t.txt" \
	    "mmread t.txt" "mmread -C t.txt" "mmread -x t.txt" \
	    "mmread --size t.txt" "mmread -b t.txt" "mmread -l t.txt" \
	    "mmadvise t.txt" "mmpatch --dry-run t.txt 0 X" \
	    "mmmove --dry-run t.txt 0 1 2" "mmresize --dry-run t.txt 5" \
	    "mmutils --list" "mmutils --help" "mmutils --version" \
	    "mmread --help" "mmfind --usage" "mmpatch --version" \
	    "mmmove --help" "mmresize --help" "mmflush --help" \
	    "mmadvise --help"; do
		run -2 --separate-stderr bash -c "$cmd >/dev/full"
		name=${cmd%% *}
		assert_equal "$stderr" "$name: write error: No space left on device"
	done
	# The undo script is written before the patch: nothing is written.
	before=$(sum t.txt)
	run -2 --separate-stderr bash -c 'mmpatch --undo=- t.txt 0 X >/dev/full'
	[[ "$stderr" == "mmpatch: -: cannot save the undo script: No space left on device; nothing written" ]]
	assert_equal "$(sum t.txt)" "$before"
}

# ------------------------------------------------------------ two writers

@test "mmresize --at and a mmpatch batch at once end in one of the two serial results" {
	need_python
	randfile base 1000000 5
	"$PYTHON3" -c '
for i in range(0, 1000000, 997):
    print(i)' >offsets
	# The two serial orders, worked out in Python.
	"$PYTHON3" - <<'PY'
d = open("base", "rb").read()
offs = [int(x) for x in open("offsets")]
def patch(b):
    b = bytearray(b)
    for o in offs:
        b[o:o + 2] = b"PQ"
    return bytes(b)
def insert(b):
    return b[:4096] + b"\0" * 8192 + b[4096:]
open("want1", "wb").write(insert(patch(d)))
open("want2", "wb").write(patch(insert(d))[:len(d) + 8192])
PY
	for round in 1 2 3; do
		cp base f
		mmresize --at=4096 f +8K &
		p1=$!
		mmpatch f - -x 5051 <offsets &
		p2=$!
		rc1=0 rc2=0
		wait $p1 || rc1=$?
		wait $p2 || rc2=$?
		assert_equal "$rc1 $rc2" "0 0"
		now=$(sum f)
		[ "$now" = "$(sum want1)" ] || [ "$now" = "$(sum want2)" ] ||
		    fail "round $round: not a serial result"
	done
}

@test "mmmove and a mmpatch batch at once end in one of the two serial results" {
	need_python
	randfile base 4000000 6
	"$PYTHON3" -c '
for i in range(0, 4000000, 1009):
    print(i)' >offsets
	"$PYTHON3" - <<'PY'
d = open("base", "rb").read()
offs = [int(x) for x in open("offsets")]
def patch(b):
    b = bytearray(b)
    for o in offs:
        b[o:o + 1] = b"Z"
    return bytes(b)
def move(b):
    b = bytearray(b)
    b[1:3000001] = b[1000000:4000000]
    return bytes(b)
open("want1", "wb").write(move(patch(d)))
open("want2", "wb").write(patch(move(d)))
PY
	for round in 1 2 3; do
		cp base f
		mmmove f 1 1000000 3000000 &
		p1=$!
		mmpatch f - Z <offsets &
		p2=$!
		rc1=0 rc2=0
		wait $p1 || rc1=$?
		wait $p2 || rc2=$?
		assert_equal "$rc1 $rc2" "0 0"
		now=$(sum f)
		[ "$now" = "$(sum want1)" ] || [ "$now" = "$(sum want2)" ] ||
		    fail "round $round: not a serial result"
	done
}

# ------------------------------------------------------------ 5 GiB

@test "a 5 GiB sparse file: every applet at offsets across 2 GiB and 4 GiB" {
	G=$((1024 * 1024 * 1024))
	truncate -s 5G big || skip "no room for a 5 GiB sparse file"
	printf 'MIDDLE' | dd of=big bs=1 seek=$((2 * G - 3)) conv=notrunc status=none
	# mmpatch across 4 GiB, then read back by mmread and mmfind.
	run -0 mmpatch big $((4 * G - 3)) ACROSS
	run -0 mmread big $((4 * G - 3)) 6
	assert_output ACROSS
	run -0 mmread -x big $((4 * G - 1)) 2
	assert_output 524f
	run -0 mmfind -a -e MIDDLE -e ACROSS -s $((2 * G - 100)) -E $((2 * G + 100)) big
	assert_output $((2 * G - 3))
	run -0 mmfind -a -e MIDDLE -e ACROSS -s -$((G + 100)) -E -$((G - 100)) big
	assert_output $((4 * G - 3))
	run -0 mmfind -r -s 2G -x 00 big
	assert_output $((5 * G - 1))
	run -0 mmfind -c -s $((4 * G - 4)) -E $((4 * G + 4)) ACROSS big
	assert_output 1
	# mmmove from across 4 GiB to across 2 GiB, overlapping nothing.
	run -0 mmmove big $((2 * G - 3)) $((4 * G - 3)) 6
	run -0 mmread big $((2 * G - 3)) 6
	assert_output ACROSS
	run -0 mmflush big $((4 * G - 3)) 6
	run -0 mmflush big $((2 * G - 3)) 6
	run -0 mmadvise big willneed $((2 * G - 4096)) 8192
	run -0 mmadvise big dontneed $((4 * G - 4096)) 8192
	run -0 mmadvise big
	[[ "$output" == "big: "*"/1310720 pages resident ("* ]]
	# mmresize at the end, and inserting and removing across 2 GiB.
	run -0 mmresize big +1
	assert_equal "$(stat -c %s big)" $((5 * G + 1))
	run -0 mmresize big 5G
	run -0 mmresize --at=2G big +4K
	run -0 mmread big $((2 * G - 3)) 3
	assert_output ACR
	run -0 mmread -x big $((2 * G)) 4
	assert_output 00000000
	run -0 mmread big $((2 * G + 4096)) 3
	assert_output OSS
	run -0 mmresize --at=2G big -4K
	run -0 mmread big $((2 * G - 3)) 6
	assert_output ACROSS
	assert_equal "$(stat -c %s big)" $((5 * G))
	# The file stayed sparse: a few pages, not gigabytes.
	[ "$(stat -c %b big)" -lt 100000 ]
}

@test "a hole on a full tmpfs: readers answer without reading it, mapped or read" {
	# A mapping's fault on a hole needs a page, which a full tmpfs
	# cannot give: the readers never touch a hole, so they answer.
	local io
	mkdir -p mnt
	mount -t tmpfs -o size=1m tmpfs mnt 2>/dev/null ||
	    skip "cannot mount a tmpfs here (needs root)"
	MNT=$PWD/mnt
	truncate -s 10M mnt/f
	printf x | dd of=mnt/f bs=1 seek=7340031 conv=notrunc status=none
	head -c 2M /dev/zero >mnt/fill 2>/dev/null || true
	for io in mmap read auto; do
		run -0 --separate-stderr mmread --io=$io -x mnt/f 5M 8
		assert_output "0000000000000000"
		run -0 --separate-stderr mmread --io=$io -C mnt/f
		assert_output "$(hexdump -C mnt/f)"
		run -0 --separate-stderr mmfind --io=$io -a x mnt/f
		assert_output 7340031
		run -0 --separate-stderr mmfind --io=$io -c -x 0000 mnt/f
		assert_output $(( (10 * 1024 * 1024 - 1) / 2 ))
		run -0 --separate-stderr mmfind --io=$io -r -a -P 'x' mnt/f
		assert_output 7340031
	done
	run -1 --separate-stderr sh -c 'cat mnt/f | mmfind -c y'
	assert_output 0
}
