#!/usr/bin/env bats
# find.bats - mmfind: find, rfind, all, count, hex, sets, regex, threads.

load helpers

setup() {
	cd "$BATS_TEST_TMPDIR"
	printf 'one two ones' >o.txt
}

@test "mmfind prints the offset of the first match, exit 0" {
	run -0 --separate-stderr mmfind on o.txt
	assert_output "0"
	[ -z "$stderr" ]
	run -0 mmfind two o.txt
	assert_output "4"
}

@test "mmfind exits 1 and prints nothing when nothing matches" {
	run -1 --separate-stderr mmfind zzz o.txt
	assert_output ""
	[ -z "$stderr" ]
}

@test "mmfind -a prints every non-overlapping match; --overlap adds the rest" {
	printf 'aaaa' >a.txt
	run -0 mmfind -a aa a.txt
	assert_output "$(printf '0\n2')"
	run -0 mmfind -a --overlap aa a.txt
	assert_output "$(printf '0\n1\n2')"
	run -0 mmfind -c aa a.txt
	assert_output "2"
	run -0 mmfind -c --overlap aa a.txt
	assert_output "3"
}

@test "mmfind -r is rfind; -r -a goes from the end backwards" {
	run -0 mmfind -r on o.txt
	assert_output "8"
	run -0 mmfind -r -a o o.txt
	assert_output "$(printf '8\n6\n0')"
	printf 'aaaaa' >a.txt
	run -0 mmfind -r -a aa a.txt
	assert_output "$(printf '3\n1')"
	run -0 mmfind -r -a --overlap aa a.txt
	assert_output "$(printf '3\n2\n1\n0')"
}

@test "mmfind -c counts, and prints 0 with exit 1 when nothing matches" {
	run -0 mmfind -c o o.txt
	assert_output "3"
	run -1 mmfind -c zz o.txt
	assert_output "0"
}

@test "mmfind -m stops after N matches" {
	run -0 mmfind -a -m 2 o o.txt
	assert_output "$(printf '0\n6')"
	run -0 mmfind -c -m 2 o o.txt
	assert_output "2"
	run -1 mmfind -a -m 0 o o.txt
	assert_output ""
}

@test "mmfind -x takes hex with separators and ?? wildcards" {
	printf 'ab\x00\xffcd\x00\xee' >b.bin
	run -0 mmfind -x '00 ff' b.bin
	assert_output "2"
	run -0 mmfind -x '0x00:ff' b.bin
	assert_output "2"
	run -0 mmfind -a -x '00??' b.bin
	assert_output "$(printf '2\n6')"
	run -0 mmfind -a -x '??00' b.bin
	assert_output "$(printf '1\n5')"
}

@test "mmfind -e finds several patterns in one pass, leftmost then longest" {
	run -0 mmfind -a -e two -e one -e ones o.txt
	assert_output "$(printf '0\n4\n8')"
	run -0 mmfind -c -e on -e ones o.txt
	assert_output "2"
	run -0 mmfind -a -x 6f -e two o.txt
	assert_output "$(printf '0\n4\n8')"
}

@test "mmfind -f takes a whole file as the pattern, NUL bytes included" {
	printf 'x\x00y' >pat
	printf 'aax\x00yb x\x00y' >h.bin
	run -0 mmfind -a -f pat h.bin
	assert_output "$(printf '2\n7')"
	run -0 bash -c 'printf "two" | mmfind -f - o.txt'
	assert_output "4"
}

@test "mmfind -i matches ASCII letters in either case" {
	printf 'Hello HELLO hello' >h.txt
	run -0 mmfind -a -i hello h.txt
	assert_output "$(printf '0\n6\n12')"
	run -0 mmfind -c -i -x '68454c' h.txt
	assert_output "3"
}

@test "mmfind -i finds letters when the common bytes around them filter worse" {
	# ".,;" is frequent, 'e' more so, ".,;e" occurs once: the search
	# tunes its filter onto the letter, which must then match either case.
	{
		printf 'ee.,;x%.0s' $(seq 1000)
		printf '.,;e'
		printf 'ee.,;x%.0s' $(seq 10)
	} >t.bin
	run -0 mmfind -i '.,;E' t.bin
	assert_output 6000
	run -0 mmfind -i -r -a '.,;E' t.bin
	assert_output 6000
	run -0 mmfind -i -c -x '2e2c3b45' t.bin
	assert_output 1
}

@test "mmfind -P matches a PCRE2 regex over the bytes, across newlines" {
	printf 'ab\ncd\nxyz12' >r.txt
	run -0 mmfind -a -P '[0-9]+' r.txt
	assert_output "9"
	run -0 mmfind -P 'b\ncd' r.txt
	assert_output "1"
	run -0 mmfind -P '\x00\xff' <(printf 'a\x00\xff')
	assert_output "1"
	run -0 mmfind -c -i -P 'XY' r.txt
	assert_output "1"
	run -0 mmfind -r -P '[a-z]' r.txt
	assert_output "8"
}

@test "mmfind reports an invalid regex with PCRE2's reason and position" {
	run -2 --separate-stderr mmfind -P 'a(b' o.txt
	[[ "$stderr" == "mmfind: invalid regex 'a(b' at offset 3: missing closing parenthesis" ]]
}

@test "mmfind --radix=x prints 0x offsets that mmread takes as they are" {
	run -0 mmfind --radix=x -a o o.txt
	assert_output "$(printf '0x0\n0x6\n0x8')"
	off=$(mmfind --radix=x two o.txt)
	run -0 mmread o.txt "$off" 3
	assert_output "two"
	run -2 --separate-stderr mmfind --radix=o o o.txt
}

@test "mmfind with several files prefixes FILE: and follows grep's exit rules" {
	printf 'nix hier' >n.txt
	run -0 mmfind o o.txt n.txt
	assert_output "o.txt:0"
	run -1 mmfind zz o.txt n.txt
	run -0 mmfind -c o o.txt n.txt
	assert_output "$(printf 'o.txt:3\nn.txt:0')"
	run -0 mmfind -h -a two o.txt o.txt
	assert_output "$(printf '4\n4')"
	run -0 mmfind -H two o.txt
	assert_output "o.txt:4"
	run -0 mmfind -l e o.txt n.txt
	assert_output "$(printf 'o.txt\nn.txt')"
	run -2 --separate-stderr mmfind two missing o.txt
	assert_output "o.txt:4"
	assert_equal "$stderr" "mmfind: missing: No such file or directory"
	run -0 --separate-stderr mmfind -q two missing o.txt
	run -0 --separate-stderr mmfind -q two o.txt missing
	[ -z "$stderr" ]
	run -1 mmfind -q zz o.txt
}

@test "mmfind reads standard input, pipes, FIFOs and /proc" {
	run -0 bash -c 'cat o.txt | mmfind -a o'
	assert_output "$(printf '0\n6\n8')"
	run -0 bash -c 'cat o.txt | mmfind -r o -'
	assert_output "8"
	run -0 bash -c 'cat o.txt | mmfind -a -s -6 o -'
	assert_output "$(printf '6\n8')"
	mkfifo fifo
	cat o.txt >fifo &
	run -0 mmfind -c o fifo
	assert_output "3"
	wait
	run -0 mmfind Linux /proc/version
	assert_output "0"
}

@test "mmfind finds matches that straddle the read buffer of a pipe" {
	need_python
	"$PYTHON3" -c '
import sys
buf = bytearray(b"." * (1 << 20))
for off in (100, 262144 - 3, 524287, 786430, len(buf) - 6):
    buf[off:off + 6] = b"NEEDLE"
sys.stdout.buffer.write(buf)' >big.txt
	want=$(mmfind -a NEEDLE big.txt)
	run -0 bash -c 'cat big.txt | mmfind -a NEEDLE'
	assert_output "$want"
	[ "$(echo "$want" | wc -l)" = 5 ]
	run -0 bash -c 'cat big.txt | mmfind -a -e NEEDLE -e DLE.'
	assert_output "$(mmfind -a -e NEEDLE -e DLE. big.txt)"
}

@test "mmfind agrees with Python's find/rfind for every start and end" {
	need_python
	"$PYTHON3" - <<'PY'
import os, subprocess, sys
data = b'one two ones'
open('o.txt', 'wb').write(data)
n = len(data)
stride = int(os.environ.get('MM_STRIDE') or 1)
for sub in (b'o', b'on', b'two', b'ones', b's', b''):
    for i in range(-n - 1, n + 2, stride):
        for j in range(-n - 1, n + 2):
            for rev in (0, 1):
                want = (data.rfind if rev else data.find)(sub, i, j)
                args = ['mmfind', '-s', str(i), '-E', str(j)]
                args += ['-r'] if rev else []
                args += ['-x', sub.hex(), 'o.txt']
                got = subprocess.run(args, capture_output=True)
                out = got.stdout.decode().strip()
                if want < 0:
                    ok = got.returncode == 1 and out == ''
                else:
                    ok = got.returncode == 0 and out == str(want)
                if not ok:
                    sys.exit('%r: want %d, got rc %d %r' %
                             (args, want, got.returncode, out))
PY
}

@test "mmfind -a and -c agree with Python on random files with NUL bytes" {
	need_python
	"$PYTHON3" - <<'PY'
import os, random, re, subprocess, sys
r = random.Random(11)
for t in range(40 // int(os.environ.get('MM_STRIDE') or 1)):
    n = r.choice([0, 1, 5, 100, 5000, 70000])
    alpha = r.choice([b'ab', b'\x00\x01', bytes(range(256)), b'a\x00'])
    data = bytes(r.choice(alpha) for _ in range(n))
    open('h.bin', 'wb').write(data)
    if n and r.random() < 0.7:
        i = r.randrange(n)
        sub = data[i:i + r.randint(1, 9)]
    else:
        sub = bytes(r.choice(alpha) for _ in range(r.randint(1, 4)))
    want, i = [], 0
    while True:
        k = data.find(sub, i)
        if k < 0:
            break
        want.append(k)
        i = k + len(sub)
    over = [k for k in range(n) if data.startswith(sub, k)]
    for args, exp in ((['-a'], want), (['-a', '--overlap'], over),
                      (['-r', '-a', '--overlap'], over[::-1])):
        got = subprocess.run(['mmfind'] + args + ['-x', sub.hex(), 'h.bin'],
                             capture_output=True).stdout.split()
        if [int(x) for x in got] != exp:
            sys.exit('%s %r in %d bytes: %r != %r' % (args, sub, n, got[:5], exp[:5]))
    c = subprocess.run(['mmfind', '-c', '-x', sub.hex(), 'h.bin'],
                       capture_output=True).stdout
    if int(c) != data.count(sub):
        sys.exit('count %r: %s != %d' % (sub, c, data.count(sub)))
PY
}

@test "mmfind -P -a agrees with Python's re.finditer" {
	need_python
	"$PYTHON3" - <<'PY'
import random, re, subprocess, sys
r = random.Random(5)
data = bytes(r.choice(b'ab \n0123') for _ in range(20000))
open('t.bin', 'wb').write(data)
pats = (rb'[0-9]+', rb'a b', rb'\d\s', rb'(?s)a.b', rb'^a', rb'b$', rb'x*',
        rb'ab 0+', rb'a b?1', rb'\n\n0', rb'01 [0-9]', rb'ba\ ab+\d',
        rb'b\x20a{2}', rb'0123|ab a')
upper = (rb'AB 0+', rb'A B?1', rb'01 [0-9]', rb'BA\ AB+', rb'0123|AB A')
for pat, icase in [(p, 0) for p in pats] + [(p, 1) for p in upper]:
    want = [m.start() for m in re.finditer(pat, data, re.I if icase else 0)]
    args = ['mmfind', '-a'] + (['-i'] if icase else [])
    got = subprocess.run(args + ['-P', pat.decode(), 't.bin'],
                         capture_output=True).stdout.split()
    if [int(x) for x in got] != want:
        sys.exit('%r icase %d: %r != %r' % (pat, icase, got[:5], want[:5]))
PY
}

@test "mmfind -j gives output identical to -j1, in file order" {
	need_python
	"$PYTHON3" -c '
import random, sys
r = random.Random(2)
buf = bytearray(r.getrandbits(8) for _ in range(1 << 16)) * 1200
for k in range(0, len(buf) - 40, 987_653):
    buf[k:k + 4] = b"abab"
sys.stdout.buffer.write(buf)' >big.bin
	for args in "-a -x 6162" "-a -x 61626162" "-a --overlap -x 6162" \
	    "-c -x 6162" "-x 61626162" "-a -e abab -e bab" "-c -x 00"; do
		one=$(mmfind -j1 $args big.bin)
		two=$(mmfind -j2 $args big.bin)
		four=$(mmfind -j4 $args big.bin)
		[ "$one" = "$two" ] || fail "-j2 differs for $args"
		[ "$one" = "$four" ] || fail "-j4 differs for $args"
	done
	printf 'ab%.0s' $(seq 1 20000000) >ab.txt
	run -0 mmfind -j2 -c --overlap aba ab.txt
	assert_output "19999999"
	run -0 mmfind -j2 -c aba ab.txt
	assert_output "$(mmfind -j1 -c aba ab.txt)"
}

@test "mmfind finds a needle past 4 GiB in a 5 GiB sparse file" {
	truncate -s 5G sparse
	printf 'NEEDLE' | dd of=sparse bs=1 seek=$((4 * 1024 * 1024 * 1024 + 12345)) conv=notrunc status=none
	run -0 mmfind -r NEEDLE sparse
	assert_output "4294979641"
	run -0 mmfind -s 4G NEEDLE sparse
	assert_output "4294979641"
	run -0 mmread sparse 4294979641 6
	assert_output "NEEDLE"
}

@test "mmfind gives exit 2, not a crash, when the file shrinks during the scan" {
	# Every byte matches, so mmfind blocks on the full pipe mid-scan
	# while the file is cut under its mapping or its reads.  Written
	# data, not a hole: a hole's zeros are counted, not read.
	local io
	head -c 64M /dev/zero >shrinking
	for io in mmap read; do
		truncate -s 64M shrinking
		head -c 64M /dev/zero | dd of=shrinking conv=notrunc status=none
		cut_mid_output shrinking mmfind --io=$io -a -x 00 shrinking
		assert_equal "$(cat rc)" "rc=2"
		run cat err
		assert_output "mmfind: shrinking: the file shrank from 67108864 to 4096 bytes while it was searched"
	done
}

@test "mmfind treats empty files and the empty pattern as bytes.find does" {
	: >empty
	run -1 mmfind x empty
	run -0 mmfind -x '' empty
	assert_output "0"
	run -0 mmfind -c -x '' o.txt
	assert_output "13"
	run -0 mmfind -r -x '' o.txt
	assert_output "12"
	run -1 mmfind -x '' -s 99 o.txt
	run -0 bash -c 'cat o.txt | mmfind -c -x ""'
	assert_output "13"
}

@test "mmfind rejects bad input with exit 2 and a clear message" {
	run -2 --separate-stderr mmfind -x 'abc' o.txt
	[[ "$stderr" == "mmfind: invalid hex in pattern 'abc' at character 4"* ]]
	run -2 --separate-stderr mmfind -x 'zz' o.txt
	run -2 --separate-stderr mmfind -s 1.5 o o.txt
	assert_equal "$stderr" "mmfind: invalid start '1.5'"
	run -2 --separate-stderr mmfind -E 16E o o.txt
	[[ "$stderr" == *"too large"* ]]
	run -2 --separate-stderr mmfind -m -1 o o.txt
	run -2 --separate-stderr mmfind o .
	assert_equal "$stderr" "mmfind: .: is a directory"
	run -2 --separate-stderr mmfind
	[[ "$stderr" == "mmfind: missing PATTERN operand"$'\n'"Try 'mmfind --help'"* ]]
	run -2 --separate-stderr mmfind -f missing o.txt
	assert_equal "$stderr" "mmfind: missing: No such file or directory"
	run -2 --separate-stderr mmfind -P a -e b o.txt
	run -2 --separate-stderr mmfind --overlap o o.txt
	run -2 --separate-stderr mmfind -j -1 o o.txt
	run -2 --separate-stderr mmfind --bogus o o.txt
	[[ "$stderr" == *"Try 'mmfind --help' for more information."* ]]
}

@test "mmfind is exact across its 16 MiB blocks, forwards, backwards and threaded" {
	need_python
	"$PYTHON3" - <<'PY'
import re, subprocess, sys
M = 1 << 24
buf = bytearray(b'.' * (40 << 20))
for base in (M, 2 * M):
    for d in (-9, -7, -4, -3, -2, -1, 0, 1, 5):
        buf[base + d * 3:base + d * 3 + 5] = b'abcab'
data = bytes(buf)
open('blocks.bin', 'wb').write(data)

def run(*args):
    out = subprocess.run(['mmfind'] + list(args) + ['blocks.bin'],
                         capture_output=True).stdout.split()
    return [int(x) for x in out]

def greedy(subs):
    res, i = [], 0
    while True:
        best = None
        for s in subs:
            k = data.find(s, i)
            if k >= 0 and (best is None or k < best[0] or
                           (k == best[0] and len(s) > best[1])):
                best = (k, len(s))
        if best is None:
            return res
        res.append(best[0])
        i = best[0] + best[1]

def overlap(subs):
    return sorted({k for s in subs for k in
                   [m.start() for m in re.finditer(b'(?=' + re.escape(s) + b')', data)]})

def rgreedy(sub):
    res, e = [], len(data)
    while True:
        k = data.rfind(sub, 0, e)
        if k < 0:
            return res
        res.append(k)
        e = k

checks = [
    (['-a', '-x', b'abcab'.hex()], greedy([b'abcab'])),
    (['-a', '-j2', '-x', b'abcab'.hex()], greedy([b'abcab'])),
    (['-a', '-j3', '-e', 'cab', '-e', 'abc', '-e', 'bcab'],
     greedy([b'cab', b'abc', b'bcab'])),
    (['-a', '-e', 'cab', '-e', 'abc', '-e', 'bcab'],
     greedy([b'cab', b'abc', b'bcab'])),
    (['-a', '--overlap', '-j2', '-x', b'abcab'.hex()], overlap([b'abcab'])),
    (['-a', '--overlap', '-e', 'ca', '-e', 'bcab'], overlap([b'ca', b'bcab'])),
    (['-r', '-a', '-x', b'abcab'.hex()], rgreedy(b'abcab')),
    (['-r', '-a', '--overlap', '-x', b'abcab'.hex()],
     overlap([b'abcab'])[::-1]),
    (['-a', '-P', 'ab(c|x)a'],
     [m.start() for m in re.finditer(rb'ab(c|x)a', data)]),
    (['-r', '-x', b'abcab'.hex()], [data.rfind(b'abcab')]),
    (['-j2', '-x', b'abcab'.hex()], [data.find(b'abcab')]),
]
for args, want in checks:
    got = run(*args)
    if got != want:
        sys.exit('%r: %r != %r' % (args, got[:8], want[:8]))
PY
}

@test "mmfind -s and -E take -0 as 0, as Python's find does" {
	need_python
	"$PYTHON3" - <<'PY'
import subprocess, sys
data = b'ABCABC'
open('z.txt', 'wb').write(data)
n = len(data)
vals = ['-0', '0', '-1', '3', '-3', '-0x0']
for sub in (b'A', b'C', b'BC', b''):
    for s in vals + [None]:
        for e in vals + [None]:
            for rev in (0, 1):
                for pipe in (0, 1):
                    si = 0 if s is None else int(s, 0)
                    ei = n if e is None else int(e, 0)
                    want = (data.rfind if rev else data.find)(sub, si, ei)
                    args = ['mmfind'] + (['-s', s] if s else [])
                    args += (['-E', e] if e else []) + (['-r'] if rev else [])
                    args += ['-x', sub.hex()] + ([] if pipe else ['z.txt'])
                    got = subprocess.run(args, capture_output=True,
                                         input=data if pipe else None)
                    out = got.stdout.decode().strip()
                    ok = (got.returncode == 1 and out == '') if want < 0 \
                        else (got.returncode == 0 and out == str(want))
                    if not ok:
                        sys.exit('%r pipe=%d: want %d, got rc %d %r %r' %
                                 (args, pipe, want, got.returncode, out,
                                  got.stderr))
PY
}

@test "mmfind -j takes plain digits only: empty, blank or signed is a usage error" {
	printf 'one two ones' >o.txt
	for j in '' ' 4' '4 ' '+4' '4x' '0x4' '257' '99999999999'; do
		run -2 --separate-stderr mmfind -j "$j" o o.txt
		assert_output ""
		[[ "$stderr" == "mmfind: --threads must be a number between 0 and 256, not '$j'"* ]] ||
		    fail "-j '$j': $stderr"
	done
	run -0 --separate-stderr mmfind -a -j 4 o o.txt
	assert_output "$(printf '0\n6\n8')"
	run -0 --separate-stderr mmfind -a --threads=0 o o.txt
	run -0 --separate-stderr mmfind -a -j 256 o o.txt
}

@test "mmfind -P stops a regex that backtracks too much: exit 2, clear message" {
	need_python
	"$PYTHON3" -c 'import sys; sys.stdout.write("a" * 60000 + "b")' >ab.txt
	"$PYTHON3" -c 'import sys; sys.stdout.write(("a" * 30 + "b\n") * 1900)' >lines.txt
	for f in ab.txt lines.txt; do
		SECONDS=0
		run -2 --separate-stderr timeout 10 mmfind -P '(?m)(a|aa)+$' "$f"
		[ "$SECONDS" -le 3 ] || fail "$f took $SECONDS s"
		assert_output ""
		[[ "$stderr" =~ ^"mmfind: $f: the regular expression needs too much backtracking (PCRE2 "(match|depth|heap|JIT\ stack)" limit); simplify it"$ ]] ||
		    fail "$f: $stderr"
		run -2 --separate-stderr timeout 10 mmfind -c -P '(?m)(a|aa)+$' "$f"
	done
	# An ordinary pattern over the same bytes is not limited.
	run -0 --separate-stderr mmfind -c -P '(?m)a+b$' lines.txt
	assert_output 1900
}

@test "mmfind -r -c and -r -a with a regex keep no list of every match" {
	need_python
	head -c 32M /dev/zero | tr '\0' x >x32
	# Every match kept took 559 MB here; a count keeps none.
	run -0 --separate-stderr bash -c '${MM_NOLIMIT:+:} ulimit -v 200000; exec mmfind -r -c -P x x32'
	assert_output "$("$PYTHON3" -c 'print(open("x32", "rb").read().count(b"x"))')"
	run -0 --separate-stderr bash -c '${MM_NOLIMIT:+:} ulimit -v 200000; exec mmfind -r -a -m 3 -P xx x32'
	assert_output "$(printf '33554430\n33554428\n33554426')"
	run -0 --separate-stderr bash -c '${MM_NOLIMIT:+:} ulimit -v 200000; exec mmfind -r -c --overlap -P xx x32'
	assert_output 33554431
}

@test "mmfind -r -a with a regex agrees with Python across its 1 MiB blocks" {
	need_python
	"$PYTHON3" - <<'PY'
import random, re, subprocess, sys
r = random.Random(7)
data = bytes(r.choice(b'aabbcx\n') for _ in range(2 * 2**20 + 77))
open('m.bin', 'wb').write(data)
for pat in (rb'a[^b]{0,40}b', rb'c+|x\n', rb'(?m)^a*'):
    want = [m.start() for m in re.finditer(pat, data)][::-1]
    got = subprocess.run(['mmfind', '-r', '-a', '-P', pat.decode(), 'm.bin'],
                         capture_output=True)
    out = [int(x) for x in got.stdout.split()]
    if out != want:
        sys.exit('%r: %d matches, want %d; first diff %r' % (pat, len(out),
                 len(want), next((i for i, (a, b) in
                 enumerate(zip(out, want)) if a != b), None)))
    got = subprocess.run(['mmfind', '-r', '-c', '-P', pat.decode(), 'm.bin'],
                         capture_output=True)
    if int(got.stdout) != len(want):
        sys.exit('%r: -r -c %s, want %d' % (pat, got.stdout, len(want)))
PY
}

@test "mmfind gives a pipe the answers of the file, regexes and -r included" {
	need_python
	"$PYTHON3" - <<'PY'
import random, subprocess, sys
r = random.Random(11)
data = bytes(r.choice(b"aabbcxAB\n") for _ in range(700000))
open("s.bin", "wb").write(data)
pats = [["-P", "a[^b]{0,40}b"], ["-P", "(?<=x)a+"], ["-P", "(?m)^b+$"],
        ["-P", r"\bx"], ["-P", "(?s)c.{0,300000}x$"], ["-P", "^"],
        ["-P", "$"], ["-P", "(?m)^"], ["-e", "ab", "-e", "bc"],
        ["-i", "-e", "ab"], ["-x", "61??62"], ["-e", ""], ["-P", ""]]
optss = [["-a"], ["-r"], ["-c"], ["-a", "-m", "5"],
         ["-a", "-s", "100000", "-E", "600000"],
         ["-r", "-s", "7", "-E", "699990"], []]
for pat in pats:
    for opts in optss:
        args = ["mmfind"] + opts + pat
        f = subprocess.run(args + ["s.bin"], capture_output=True)
        p = subprocess.run(args, input=data, capture_output=True)
        if (f.returncode, f.stdout) != (p.returncode, p.stdout):
            sys.exit("%r: pipe %d %r %r, file %d %r" % (args, p.returncode,
                     p.stdout[:60], p.stderr, f.returncode, f.stdout[:60]))
PY
}

@test "mmfind -m N stops reading an endless stream at the Nth match, any pattern" {
	for pat in "-e ''" "-P ''" "-x 00??00" "-e abc -e ''" "-i -e ''" \
	    "-P '\\x00\\x00'" "-x ''"; do
		run -0 --separate-stderr bash -c "${MM_NOLIMIT:+:} ulimit -v 300000; exec timeout 5 mmfind -a -m 3 $pat /dev/zero"
		[ "${#lines[@]}" = 3 ] || fail "$pat: $output $stderr"
	done
	run -0 --separate-stderr bash -c '${MM_NOLIMIT:+:} ulimit -v 300000; exec timeout 5 mmfind -a -e "" -m 3 /dev/urandom'
	assert_output "$(printf '0\n1\n2')"
	run -0 --separate-stderr bash -c '${MM_NOLIMIT:+:} ulimit -v 300000; exec timeout 5 mmfind -c -P "\\x00" -m 3 /dev/zero'
	assert_output 3
	# What needs the end of an endless stream runs in bounded memory.
	for args in "-r -x 00" "-r -P \\x00" "-c -x 00"; do
		run -124 --separate-stderr bash -c "${MM_NOLIMIT:+:} ulimit -v 300000; exec timeout 1 mmfind $args /dev/zero"
		[ -z "$stderr" ] || fail "mmfind $args: $stderr"
	done
}

@test "mmfind -s/-E from the end of a pipe agree with Python, holding only that much" {
	need_python
	"$PYTHON3" - <<'PY'
import random, re, subprocess, sys
r = random.Random(5)
data = bytes(r.choice(b"abcx\n") for _ in range(600000))
open("w.bin", "wb").write(data)
n = len(data)
for s, e in (("-5", None), (None, "-7"), ("-300000", "-1"), ("100", "-299999"),
             ("-600001", "-600000"), ("-1", "-1"), ("-270000", "400000"),
             ("599990", "-20"), ("-3", None)):
    si = 0 if s is None else int(s)
    ei = n if e is None else int(e)
    for pat in (["-x", "6162"], ["-e", "ab", "-e", "bcx"], ["-e", ""],
                ["-P", "a[bc]+x"], ["-P", "(?m)^x+$"], ["-P", ""]):
        for opts in ([], ["-c"], ["-r"], ["-r", "-a", "-m", "3"], ["-a", "-m", "3"]):
            args = ["mmfind"] + opts + (["-s", s] if s else []) + \
                (["-E", e] if e else []) + pat
            p = subprocess.run(args, input=data, capture_output=True)
            m = subprocess.run(args + ["w.bin"], capture_output=True)
            if (p.returncode, p.stdout) != (m.returncode, m.stdout):
                sys.exit("%r: pipe %d %r %r, file %d %r" % (args, p.returncode,
                         p.stdout[:60], p.stderr, m.returncode, m.stdout[:60]))
            if opts == [] and pat[0] == "-x":
                want = data.find(bytes.fromhex(pat[1]), si, ei)
                got = int(p.stdout) if p.stdout else -1
                if got != want:
                    sys.exit("%r: %d, Python %d" % (args, got, want))
PY
	# A start from the end keeps |START| bytes; an end from the end
	# holds |END| bytes back and still stops at the -m th match.
	run -124 --separate-stderr bash -c '${MM_NOLIMIT:+:} ulimit -v 300000; exec timeout 1 mmfind -s -3 -x 00 /dev/zero'
	[ -z "$stderr" ]
	run -0 --separate-stderr bash -c '${MM_NOLIMIT:+:} ulimit -v 300000; exec timeout 5 mmfind -a -m 2 -E -1M -P "\\x00" /dev/zero'
	assert_output "$(printf '0\n1')"
	run -0 --separate-stderr bash -c '${MM_NOLIMIT:+:} ulimit -v 300000; exec timeout 5 mmfind -a -m 2 -E -5 -x 00 /dev/zero'
	assert_output "$(printf '0\n1')"
}

@test "mmfind -r -a on a long pipe keeps it in a temporary file, not in memory" {
	# 300 MiB through a pipe under a 150 MB data limit (heap and private
	# maps): reading it into memory fails, a spool file does not.
	run -0 --separate-stderr bash -c \
	    'head -c 300M /dev/zero | { ${MM_NOLIMIT:+:} ulimit -d 150000; exec mmfind -r -a -c -x 0000; }'
	assert_output 157286400
	printf 'abcabcXabc' >t
	run -0 --separate-stderr sh -c 'cat t | mmfind -r -a abc'
	assert_output "$(printf '7\n3\n0')"
}
