#!/usr/bin/env bats
# read.bats - mmread: read, readline, read_byte and size.

load helpers

setup() {
	cd "$BATS_TEST_TMPDIR"
	printf 'hello\nworld\n' >t.txt
}

@test "mmread prints a whole file raw" {
	run -0 --separate-stderr mmread t.txt
	assert_output "$(printf 'hello\nworld')"
	cmp <(mmread t.txt) t.txt
}

@test "mmread takes OFFSET and COUNT, and negative offsets from the end" {
	run -0 mmread t.txt 6 3
	assert_output "wor"
	run -0 mmread t.txt -6 5
	assert_output "world"
	run -0 mmread t.txt -0x6 0x5
	assert_output "world"
	run -0 mmread t.txt -- -12 5
	assert_output "hello"
}

@test "mmread cuts COUNT at the end of the file, even a huge one" {
	run -0 mmread t.txt 6 100
	assert_output "world"
	run -0 mmread t.txt 6 7E
	assert_output "world"
}

@test "mmread at OFFSET equal to the size prints nothing and succeeds" {
	run -0 --separate-stderr mmread t.txt 12
	assert_output ""
	[ -z "$stderr" ]
	run -0 mmread -x t.txt 12
	assert_output ""
}

@test "mmread refuses an offset past the end, exit 2, naming file and size" {
	run -2 --separate-stderr mmread t.txt 13
	assert_output ""
	assert_equal "$stderr" "mmread: t.txt: offset 13 is past the end of the file (size 12)"
	run -2 --separate-stderr mmread t.txt -13
	[[ "$stderr" == "mmread: t.txt: offset -13 is before the start"* ]]
}

@test "mmread -x prints lowercase hex and a newline" {
	printf '\x00\xff\x7fAz' >b.bin
	run -0 mmread -x b.bin
	assert_output "00ff7f417a"
	[ "$(mmread -x b.bin | od -An -c | tr -d ' ')" = "00ff7f417a\\n" ]
}

@test "mmread -l reads one line, with its newline, or to the end" {
	run -0 mmread -l t.txt
	assert_output "hello"
	[ "$(mmread -l t.txt | od -An -c | tr -d ' ')" = 'hello\n' ]
	run -0 mmread -l t.txt 3
	assert_output "lo"
	printf 'no newline' >n.txt
	run -0 mmread -l n.txt 3
	assert_output "newline"
	run -0 mmread -l n.txt 10
	assert_output ""
}

@test "mmread -b prints one byte as a decimal number" {
	run -0 mmread -b t.txt
	assert_output "104"
	run -0 mmread -b t.txt -1
	assert_output "10"
	printf '\xff' >ff.bin
	run -0 mmread -b ff.bin 0
	assert_output "255"
	run -2 --separate-stderr mmread -b t.txt 12
	[[ "$stderr" == "mmread: t.txt: no byte at offset 12"* ]]
}

@test "mmread --size prints the size, also of an empty file and stdin" {
	run -0 mmread --size t.txt
	assert_output "12"
	: >empty
	run -0 mmread --size empty
	assert_output "0"
	run -0 bash -c 'printf abc | mmread --size -'
	assert_output "3"
}

@test "mmread of an empty file prints nothing and succeeds" {
	: >empty
	run -0 --separate-stderr mmread empty
	assert_output ""
	run -0 --separate-stderr mmread -C empty
	assert_output ""
	run -2 --separate-stderr mmread -b empty
}

@test "mmread agrees with Python's mmap.read on random files and ranges" {
	need_python
	randfile r.bin 70000 7
	"$PYTHON3" - r.bin <<'PY'
import mmap, os, random, subprocess, sys
path = sys.argv[1]
data = open(path, 'rb').read()
fh = open(path, 'rb')
m = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
r = random.Random(3)
n = len(data)
cases = [(0, None), (n, None), (n - 1, 1), (0, 0), (4096, 4096), (-1, None)]
cases += [(r.randrange(-n, n + 1), r.choice([None, r.randrange(0, 9000)]))
          for _ in range(150 // int(os.environ.get('MM_STRIDE') or 1))]
for off, cnt in cases:
    args = ['mmread', path, str(off)] + ([] if cnt is None else [str(cnt)])
    got = subprocess.run(args, capture_output=True)
    m.seek(off if off >= 0 else n + off)
    want = m.read(-1 if cnt is None else cnt)
    if got.returncode != 0 or got.stdout != want:
        sys.exit('mismatch for %r: rc %d' % (args, got.returncode))
    if cnt is not None and cnt >= 1 and off < n:
        b = subprocess.run(['mmread', '-b', path, str(off)],
                           capture_output=True).stdout
        m.seek(off if off >= 0 else n + off)
        if int(b) != m.read_byte():
            sys.exit('read_byte mismatch at %d' % off)
    line = subprocess.run(['mmread', '-l', path, str(off)],
                          capture_output=True).stdout
    m.seek(off if off >= 0 else n + off)
    if line != m.readline():
        sys.exit('readline mismatch at %d' % off)
PY
}

@test "mmread -C is byte-identical to hexdump -C on random and zero-heavy files" {
	command -v hexdump >/dev/null || skip "hexdump (bsdextrautils) is not installed"
	randfile r.bin 3000 5
	head -c 2000 /dev/zero >z.bin
	cat r.bin z.bin r.bin >mix.bin
	for f in r.bin z.bin mix.bin t.txt; do
		size=$(stat -c %s "$f")
		for spec in "0" "1" "15 17" "16 32" "100 1000" "3 0" "$size" \
		    "$((size - 1))" "2999 2100" "7 7000"; do
			set -- $spec
			[ "$1" -le "$size" ] || continue
			if [ $# = 2 ]; then
				cmp <(mmread -C "$f" "$1" "$2") \
				    <(hexdump -C -s "$1" -n "$2" "$f") ||
				    fail "differs: $f $spec"
			else
				cmp <(mmread -C "$f" "$1") \
				    <(hexdump -C -s "$1" "$f") ||
				    fail "differs: $f $spec"
			fi
		done
	done
}

@test "mmread reads pipes, FIFOs and /proc files with the same answers" {
	randfile r.bin 600000 9
	cmp <(cat r.bin | mmread - 1000 300000) <(mmread r.bin 1000 300000)
	cmp <(cat r.bin | mmread -C - -5000) <(mmread -C r.bin -5000)
	cmp <(cat r.bin | mmread -x - 599999) <(mmread -x r.bin 599999)
	cmp <(cat r.bin | mmread -l - 77) <(mmread -l r.bin 77)
	run -0 bash -c 'cat r.bin | mmread -b - 123'
	assert_output "$(mmread -b r.bin 123)"
	mkfifo fifo
	cat r.bin >fifo &
	cmp <(mmread fifo 5 10) <(mmread r.bin 5 10)
	wait
	run -0 mmread /proc/version
	assert_output "$(cat /proc/version)"
	run -2 --separate-stderr bash -c 'printf abc | mmread - 4'
	[[ "$stderr" == *"past the end"* ]]
}

@test "mmread reads across 2 GiB and 4 GiB in a 5 GiB sparse file" {
	truncate -s 5G sparse
	printf 'across' | dd of=sparse bs=1 seek=$((4 * 1024 * 1024 * 1024 - 3)) conv=notrunc status=none
	printf 'middle' | dd of=sparse bs=1 seek=$((2 * 1024 * 1024 * 1024 - 3)) conv=notrunc status=none
	run -0 mmread sparse 4294967293 6
	assert_output "across"
	run -0 mmread sparse 2G-3 6 2>/dev/null || run -0 mmread sparse 2147483645 6
	assert_output "middle"
	run -0 mmread --size sparse
	assert_output "5368709120"
	run -0 mmread -x sparse -1
	assert_output "00"
	run -0 mmread -C sparse 4294967290 16
	assert_line --index 0 "fffffffa  00 00 00 61 63 72 6f 73  73 00 00 00 00 00 00 00  |...across.......|"
}

@test "mmread gives exit 2, not a crash, when the file shrinks while read" {
	truncate -s 256M shrinking
	( set +e; mmread shrinking; echo "rc=$?" >rc ) 2>err | {
		wait_reading shrinking
		sleep 0.5
		truncate -s 4096 shrinking
		cat >/dev/null
	}
	assert_equal "$(cat rc)" "rc=2"
	run cat err
	assert_output --partial "mmread: shrinking: the file shrank"
}

@test "mmread reports a full output device and is quiet on a closed pipe" {
	run -2 --separate-stderr bash -c 'mmread t.txt >/dev/full'
	[[ "$stderr" == "mmread: write error: No space left on device" ]]
	truncate -s 64M big
	run -0 --separate-stderr bash -c 'mmread big | head -c 1 >/dev/null; exit 0'
	[ -z "$stderr" ]
}

@test "mmread rejects bad operands with exit 2 and one clear line" {
	run -2 --separate-stderr mmread t.txt 1.5K
	assert_equal "$stderr" "mmread: invalid offset '1.5K'"
	run -2 --separate-stderr mmread t.txt 16E
	assert_equal "$stderr" "mmread: offset '16E' is too large (the limit is 2^63-1)"
	run -2 --separate-stderr mmread t.txt 0xffffffffffffffff
	[[ "$stderr" == *"too large"* ]]
	run -2 --separate-stderr mmread t.txt 0 -1
	assert_equal "$stderr" "mmread: count '-1' must not be negative"
	run -2 --separate-stderr mmread t.txt 0 10Q
	assert_equal "$stderr" "mmread: invalid count '10Q'"
	run -2 --separate-stderr mmread missing.bin
	assert_equal "$stderr" "mmread: missing.bin: No such file or directory"
	run -2 --separate-stderr mmread .
	assert_equal "$stderr" "mmread: .: is a directory"
	run -2 --separate-stderr mmread
	[[ "$stderr" == *"missing FILE operand"* ]]
	run -2 --separate-stderr mmread t.txt 1 2 3
	[[ "$stderr" == *"extra operand '3'"* ]]
	run -2 --separate-stderr mmread -x -C t.txt
	run -2 --separate-stderr mmread -l -b t.txt
	run -2 --separate-stderr mmread --size t.txt 3
	run -2 --separate-stderr mmread --bogus t.txt
	[[ "$stderr" == *"Try 'mmread --help' for more information."* ]]
}

@test "mmread of an unreadable file is an error, exit 2" {
	chmod 000 t.txt
	if [ "$(id -u)" != 0 ]; then
		run -2 --separate-stderr mmread t.txt
	else
		# Root reads every file: ask as another user.
		need_nobody
		f=$(shared_copy t.txt 000)
		run -2 --separate-stderr as_nobody mmread "$f"
		rm -rf "${f%/*}"
	fi
	[[ "$stderr" == *"Permission denied"* ]]
}

@test "mmread OFFSET -0 is the start, as Python's index -0 is" {
	need_python
	for args in "-0" "-0 4" "-0x0 0x3" "-0K 1"; do
		set -- $args
		want=$("$PYTHON3" -c '
import sys
d = b"hello\nworld\n"
o = int(sys.argv[1], 0) if "x" in sys.argv[1] else int(sys.argv[1].rstrip("K"))
d = d[o:]
if len(sys.argv) > 2:
    d = d[:int(sys.argv[2], 0)]
sys.stdout.write(d.hex())' "$@")
		run -0 --separate-stderr mmread -x t.txt "$@"
		assert_output "$want"
		run -0 --separate-stderr mmread -x - "$@" <t.txt
		assert_output "$want"
		run -0 bash -c 'cat t.txt | mmread -x - "$@"' _ "$@"
		assert_output "$want"
	done
	run -0 mmread -l t.txt -0
	assert_output "hello"
	run -0 mmread -C t.txt -0 2
	assert_output "$(hexdump -C -n 2 t.txt)"
}

@test "mmread keeps only |OFFSET| bytes of a stream, as tail -c does" {
	randfile r.bin 300000 4
	for spec in "-1" "-70000 50000" "-300000" "-300000 1" "-5 0" "-0x100"; do
		set -- $spec
		cmp <(cat r.bin | mmread - "$@") <(mmread r.bin "$@") ||
		    fail "mmread - $spec"
		cmp <(cat r.bin | mmread -C - "$@") <(mmread -C r.bin "$@") ||
		    fail "mmread -C - $spec"
		cmp <(cat r.bin | mmread -x - "$@") <(mmread -x r.bin "$@") ||
		    fail "mmread -x - $spec"
	done
	run -0 bash -c 'cat r.bin | mmread -b - -7'
	assert_output "$(mmread -b r.bin -7)"
	run -0 bash -c 'cat r.bin | mmread -l - -200000'
	[ "$output" = "$(mmread -l r.bin -200000)" ]
	run -2 --separate-stderr bash -c 'cat r.bin | mmread - -300001'
	assert_equal "$stderr" "mmread: -: offset -300001 is before the start of the file (size 300000)"
	run -2 --separate-stderr bash -c 'printf abc | mmread -b - 3'
	assert_equal "$stderr" "mmread: -: no byte at offset 3: it is the end of the file (size 3)"
	run -2 --separate-stderr bash -c 'printf abc | mmread -b - 4'
	[[ "$stderr" == *"past the end"* ]]
}

@test "mmread on an endless stream runs in bounded memory, never out of it" {
	# tail -c 3 /dev/zero runs forever in a few bytes: so must this.
	for args in "-x /dev/zero -3 3" "--size /dev/zero" "-C /dev/zero -1M 16"; do
		run -124 --separate-stderr bash -c \
		    "${MM_NOLIMIT:+:} ulimit -v 300000; exec timeout 1 mmread $args"
		assert_output ""
		[ -z "$stderr" ] || fail "mmread $args: $stderr"
	done
	# What needs only the start of an endless stream ends at once.
	run -0 bash -c '${MM_NOLIMIT:+:} ulimit -v 300000; exec timeout 5 mmread -b /dev/zero 5M'
	assert_output "0"
	run -0 bash -c '${MM_NOLIMIT:+:} ulimit -v 300000; exec timeout 5 mmread -x /dev/zero 1G 4'
	assert_output "00000000"
}
