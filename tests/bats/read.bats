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
	# Written data, not a hole (a hole's zeros are not read), cut
	# while mmread waits on the pipe, mapped or reading.
	local io
	for io in mmap read; do
		head -c 64M /dev/zero >shrinking
		cut_mid_output shrinking mmread --io=$io shrinking
		assert_equal "$(cat rc)" "rc=2"
		run cat err
		assert_output --partial "mmread: shrinking: the file shrank"
	done
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

@test "mmread reports a bad offset with the operand as given, sign and all" {
	run -2 --separate-stderr mmread t.txt -1.5
	assert_equal "$stderr" "mmread: invalid offset '-1.5'"
	run -2 --separate-stderr mmread t.txt -16E
	assert_equal "$stderr" "mmread: offset '-16E' is too large (the limit is 2^63-1)"
	run -2 --separate-stderr mmread t.txt --5
	[[ "$stderr" == *"--5"* ]]
}

@test "mmread FILE - prints for each line of offsets what one mmread per line prints" {
	randfile r.bin 5000 11
	printf '0\n17 5\n-1\n-0x10 3\n0x20\n4999\n5000\n  12\t 0x4 \n\n-5000 2\n' >offs
	local line
	run -0 --separate-stderr mmread r.bin - <offs
	[ -z "$stderr" ]
	cmp <(mmread r.bin - <offs) <(while read -r line; do
		[ -z "$line" ] || mmread r.bin $line; done <offs)
	cmp <(mmread -x r.bin - <offs) <(while read -r line; do
		[ -z "$line" ] || mmread -x r.bin $line; done <offs)
	cmp <(mmread -C r.bin - <offs) <(while read -r line; do
		[ -z "$line" ] || mmread -C r.bin $line; done <offs)
	# Raw answers follow each other with nothing between them.
	printf '0 2\n6 2\n' >two
	run -0 mmread t.txt - <two
	assert_output "hewo"
}

@test "mmread FILE - COUNT applies COUNT to the lines without one" {
	printf '0\n6 5\n-3\n' | mmread t.txt - 2 >out
	assert_equal "$(cat out)" "heworldld"
	printf '0\n6 0\n' | mmread -C t.txt - 3 >out
	cmp out <(hexdump -C -n 3 t.txt)
}

@test "mmread FILE - and --whole-line agree with Python's mmap, by mapping and by read()" {
	need_python
	randfile r.bin 200000 12
	# Lines of every length, some longer than a window read at once.
	"$PYTHON3" -c '
import random, sys
r = random.Random(5)
out = bytearray()
while len(out) < 300000:
    n = r.choice([0, 1, 5, 80, 200, 5000, 40000, 70000])
    out += bytes(r.choice(b"abcdef ") for _ in range(n)) + b"\n"
sys.stdout.buffer.write(out[:300000])' >lines.txt
	"$PYTHON3" - lines.txt r.bin t.txt <<'PY'
import mmap, random, subprocess, sys

def whole(m, o):
    """The line holding offset o: after the '\n' before it, to its '\n'."""
    e = m.find(b'\n', o)
    return m[m.rfind(b'\n', 0, o) + 1:len(m) if e < 0 else e + 1]

def readline(m, o):
    m.seek(o)
    return m.readline()

for path in sys.argv[1:]:
    fh = open(path, 'rb')
    m = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
    n = len(m)
    r = random.Random(9)
    offs = sorted(r.randrange(0, n + 1) for _ in range(300))
    offs += [r.randrange(-n, 0) for _ in range(40)] + [0, n, n - 1, -1]
    text = ''.join('%s\n' % (hex(o) if o >= 0 and r.random() < .5 else o)
                   for o in offs)
    res = [o if o >= 0 else n + o for o in offs]
    counts = [r.choice([None, 0, 1, 7, 100, 3000]) for _ in offs]
    ctext = ''.join('%d%s\n' % (o, '' if c is None else ' %d' % c)
                    for o, c in zip(offs, counts))
    for io in ('mmap', 'read'):
        def run(opts, inp=text):
            args = ['mmread', '--io=' + io] + opts + [path, '-']
            p = subprocess.run(args, input=inp.encode(), capture_output=True)
            if p.returncode != 0:
                sys.exit('%r: rc %d %r' % (args, p.returncode, p.stderr))
            return p.stdout
        checks = [
            (['-l'], b''.join(readline(m, o) for o in res)),
            (['-x', '-l'], b''.join(readline(m, o).hex().encode() + b'\n'
                                    for o in res)),
            (['--whole-line'], b''.join(whole(m, o) for o in res)),
            (['-x', '--whole-line'], b''.join(whole(m, o).hex().encode() +
                                              b'\n' for o in res)),
            ([], b''.join(m[o:n if c is None else o + c]
                          for o, c in zip(res, counts)), ctext),
            (['-x'], b''.join(m[o:n if c is None else o + c].hex().encode()
                              + b'\n' for o, c in zip(res, counts)), ctext),
        ]
        for chk in checks:
            got = run(chk[0], *chk[2:])
            if got != chk[1]:
                sys.exit('%s --io=%s %r differs' % (path, io, chk[0]))
        inside = ''.join('%d\n' % o for o in res if o < n)
        want = b''.join(b'%d\n' % m[o] for o in res if o < n)
        if run(['-b'], inside) != want:
            sys.exit('%s --io=%s -b differs' % (path, io))
        # One --whole-line per offset, on the command line, agrees too.
        for o in offs[::40]:
            p = subprocess.run(['mmread', '--io=' + io, '--whole-line',
                                path, '--', str(o)], capture_output=True)
            if p.stdout != whole(m, o if o >= 0 else n + o):
                sys.exit('%s --whole-line %d differs' % (path, o))
PY
}

@test "mmfind -a PATTERN LOG | mmread LOG - --whole-line prints the lines grep prints" {
	"$PYTHON3" -c '
import random
r = random.Random(2)
w = ["alpha", "ERROR", "beta", "gamma", "warn"]
for i in range(3000):
    print(i, " ".join(r.choice(w) for _ in range(r.randint(0, 12))))
print(3000, "last ERROR, unended", end="")' >app.log
	# Each match prints its line: a line with two matches, twice.
	cmp <(mmfind -a ERROR app.log | mmread app.log - --whole-line | uniq) \
	    <(grep ERROR app.log)
	[ "$(mmfind -a ERROR app.log | mmread app.log - --whole-line | wc -l)" = \
	    "$(($(grep -o ERROR app.log | wc -l) - 1))" ]
	# grep -b -o gives the offsets; -n the line numbers.
	cmp <(grep -bo ERROR app.log | cut -d: -f1 | mmread app.log - --whole-line) \
	    <(mmfind -a ERROR app.log | mmread app.log - --whole-line)
	cmp <(mmfind -a --radix=x ERROR app.log | mmread app.log - --whole-line |
	    uniq | cut -d' ' -f1) <(grep -n ERROR app.log | cut -d: -f1 |
	    while read -r n; do echo $((n - 1)); done)
	cmp <(mmfind -a ERROR app.log | head -50 | mmread -x app.log - --whole-line) \
	    <(grep -bo ERROR app.log | head -50 | cut -d: -f1 | while read -r o; do
		mmread -x app.log --whole-line "$o"; done)
}

@test "mmread FILE - takes the FILE: prefix of this FILE only, as mmpatch does" {
	run -0 --separate-stderr bash -c 'mmfind -H -a o t.txt | mmread t.txt - 2'
	assert_output "o"$'\n'"or"
	[ "$(mmfind -H -a o t.txt)" = "$(printf 't.txt:4\nt.txt:7')" ]
	cp t.txt 'a b:c.txt'
	run -0 bash -c "printf 'a b:c.txt:6\n a b:c.txt: 0x1 \n' | mmread 'a b:c.txt' - 1"
	assert_output "we"
	run -2 --separate-stderr bash -c 'printf "t.txt:0\nother.txt:3\n0\n" | mmread t.txt - 1'
	assert_output "h"
	assert_equal "$stderr" "mmread: t.txt: standard input:2: 'other.txt:3' is not an offset in this file"
	run -2 --separate-stderr bash -c 'printf "./t.txt:3\n" | mmread t.txt -'
	assert_equal "$stderr" "mmread: t.txt: standard input:1: './t.txt:3' is not an offset in this file"
}

@test "mmread FILE - stops at the first bad line, exit 2, naming it; what came before is printed" {
	local bad msg
	while IFS='|' read -r bad msg; do
		run -2 --separate-stderr bash -c "printf '0\n$bad\n6\n' | mmread t.txt - 1"
		assert_output "h"
		assert_equal "$stderr" "mmread: $msg"
	done <<'CASES'
three|t.txt: standard input:2: invalid offset 'three'
1.5|t.txt: standard input:2: invalid offset '1.5'
16E|t.txt: standard input:2: offset '16E' is too large (the limit is 2^63-1)
-0xffffffffffffffff|t.txt: standard input:2: offset '-0xffffffffffffffff' is too large (the limit is 2^63-1)
1 2 3|t.txt: standard input:2: expected 'OFFSET [COUNT]'
1 x|t.txt: standard input:2: invalid count 'x'
1 -2|t.txt: standard input:2: count '-2' must not be negative
1 8E|t.txt: standard input:2: count '8E' is too large (the limit is 2^63-1)
13|t.txt: standard input:2: offset 13 is past the end of the file (size 12)
-13|t.txt: standard input:2: offset -13 is before the start of the file (size 12)
CASES
	run -2 --separate-stderr bash -c "printf '1\n2 3\n' | mmread -l t.txt -"
	assert_output "ello"
	assert_equal "$stderr" "mmread: t.txt: standard input:2: expected one offset: --line takes no COUNT"
	run -2 --separate-stderr bash -c "printf '1 1\n' | mmread --whole-line t.txt -"
	assert_equal "$stderr" "mmread: t.txt: standard input:1: expected one offset: --whole-line takes no COUNT"
	run -2 --separate-stderr bash -c "printf '11\n12\n' | mmread -b t.txt -"
	assert_output "10"
	assert_equal "$stderr" "mmread: t.txt: standard input:2: no byte at offset 12: it is the end of the file (size 12)"
	run -2 --separate-stderr bash -c "printf '1\n2\0\n3\n' | mmread t.txt - 1"
	assert_output "e"
	assert_equal "$stderr" "mmread: t.txt: standard input:2: expected 'OFFSET [COUNT]'"
	run -2 --separate-stderr bash -c "head -c 2M /dev/zero | tr '\\\\0' 1 | mmread t.txt -"
	assert_equal "$stderr" "mmread: t.txt: standard input:1: a line of more than 1048576 bytes is no 'OFFSET [COUNT]'"
	# The COUNT of the command line is checked before any line is read.
	run -2 --separate-stderr bash -c "printf '0\n' | mmread t.txt - 1x"
	assert_output ""
	assert_equal "$stderr" "mmread: invalid count '1x'"
}

@test "mmread FILE - takes 0x, negative and suffixed offsets as the command line does" {
	printf '0x6 2\n-6 2\n-0x1 1\n-0 1\n0K 1\n' >offs
	run -0 --separate-stderr mmread -x t.txt - <offs
	assert_output "$(printf '776f\n776f\n0a\n68\n68')"
	randfile r.bin 5000 3
	run -0 bash -c 'printf "1K\n-1KiB\n4KB\n" | mmread -b r.bin -'
	assert_output "$(mmread -b r.bin 1024; mmread -b r.bin -1024; mmread -b r.bin 4000)"
}

@test "mmread FILE - with empty input, or blank lines only, prints nothing and succeeds" {
	run -0 --separate-stderr mmread t.txt - </dev/null
	assert_output ""
	[ -z "$stderr" ]
	for opt in -x -C -l -b --whole-line; do
		run -0 --separate-stderr bash -c "printf '\n  \n\t\n' | mmread $opt t.txt -"
		assert_output ""
		[ -z "$stderr" ]
	done
	# An empty FILE answers its one offset, 0, with nothing.
	: >empty
	run -0 bash -c 'printf "0\n-0\n" | mmread -x empty -'
	assert_output "$(printf '\n\n')"
	run -0 bash -c 'printf "0\n" | mmread --whole-line empty -'
	assert_output ""
}

@test "mmread FILE - reads a pipe or FIFO FILE as the command line does; standard input cannot be both" {
	printf '6 5\n-3\n0 1\n' >offs
	run -0 bash -c 'mmread <(cat t.txt) - <offs'
	assert_output "$(mmread t.txt - <offs)"
	mkfifo fifo
	cat t.txt >fifo &
	run -0 bash -c 'mmread --whole-line fifo - <<<7'
	assert_output "world"
	wait
	for f in - /dev/stdin t.txt; do
		run -2 --separate-stderr bash -c "mmread $f - <t.txt"
		[[ "$stderr" == "mmread: standard input cannot give both FILE and the offsets"* ]]
		[[ "$stderr" == *"Try 'mmread --help'"* ]]
	done
	run -2 --separate-stderr bash -c 'printf "99\n" | mmread <(cat t.txt) -'
	[[ "$stderr" == *"offset 99 is past the end of the file (size 12)" ]]
}

@test "mmread --whole-line prints the line holding OFFSET, also with -x and -C" {
	printf 'one\ntwo\n\nthree' >w.txt
	run -0 mmread --whole-line w.txt 0
	assert_output "one"
	run -0 mmread --whole-line w.txt 3
	assert_output "one"
	run -0 mmread --whole-line w.txt 5
	assert_output "two"
	run -0 mmread --whole-line w.txt 8
	assert_output ""
	[ "$(mmread --whole-line w.txt 8 | od -An -c | tr -d ' ')" = '\n' ]
	run -0 mmread --whole-line w.txt -1
	assert_output "three"
	run -0 mmread --whole-line w.txt 14
	assert_output "three"
	run -0 mmread -x --whole-line w.txt 6
	assert_output "74776f0a"
	cmp <(mmread -C --whole-line w.txt 5) <(hexdump -C -s 4 -n 4 w.txt)
	cmp <(printf '5\n0\n13\n8\n' | mmread -C --whole-line w.txt -) \
	    <(for o in 5 0 13 8; do mmread -C --whole-line w.txt $o; done)
	run -0 bash -c 'cat w.txt | mmread --whole-line - -3'
	assert_output "three"
	run -2 --separate-stderr mmread --whole-line w.txt 15
	assert_equal "$stderr" "mmread: w.txt: offset 15 is past the end of the file (size 14)"
	run -2 --separate-stderr mmread --whole-line w.txt 0 3
	assert_equal "${stderr%%$'\n'*}" "mmread: extra operand '3'"
	for opt in -l -b --size; do
		run -2 --separate-stderr mmread --whole-line $opt w.txt
		[[ "$stderr" == *"cannot be combined"* ]]
	done
}

@test "mmread --whole-line streams a long line, never holding it whole" {
	# A line of 96 MiB, read in 78 MiB of address space.
	{ printf 'first\n'; head -c 96M /dev/zero | tr '\0' a; printf '\nzzzz\n'; } >long.txt
	local io
	for io in mmap read auto; do
		run -0 bash -c "${MM_NOLIMIT:+:} ulimit -v 80000; mmread --io=$io --whole-line long.txt 50M >out"
		assert_equal "$(wc -c <out)" "$((96 * 1024 * 1024 + 1))"
		assert_equal "$(tr -d a <out)" ""
		run -0 bash -c "${MM_NOLIMIT:+:} ulimit -v 80000; printf '6\n90M\n-1\n3\n' | mmread --io=$io --whole-line long.txt - >out"
		assert_equal "$(wc -c <out)" "$((2 * (96 * 1024 * 1024 + 1) + 5 + 6))"
		assert_equal "$(tr -d a <out | od -An -c | tr -d ' \n')" '\n\nzzzz\nfirst\n'
	done
}

@test "mmread FILE - prints each answer before it waits for the next line" {
	mkfifo in
	# Held open here, read and write, the FIFO never ends.
	exec 5<>in
	echo 0 >&5
	# Killed while it waits: what it printed has reached the file.
	run -124 bash -c 'exec timeout 1 mmread t.txt - 5 <in >out'
	exec 5>&-
	assert_equal "$(cat out)" "hello"
}
