#!/usr/bin/env bats
# findout.bats - mmfind's output for scripts and people: -o, -X, --line,
# -A/-B/-C, --json, -w, -L, -Z, --patterns-from; checked against Python,
# grep, hexdump and ripgrep.

load helpers

setup() {
	cd "$BATS_TEST_TMPDIR"
	printf 'hello foo world\nbar foo foo\n\377 foo\nnone\n' >t.txt
}

# pyfind FILE PATTERN...: "OFF:HEX" of every non-overlapping match of a
# set (longest at the leftmost offset), as Python would find them.
pyfind() {
	"$PYTHON3" - "$@" <<'PY'
import sys
data = open(sys.argv[1], 'rb').read()
pats = [p.encode('latin-1') for p in sys.argv[2:]]
i = 0
while True:
    best = None
    for p in pats:
        j = data.find(p, i)
        if j >= 0 and (best is None or j < best[0] or (j == best[0] and len(p) > len(best[1]))):
            best = (j, p)
    if best is None:
        break
    print('%d:%s' % (best[0], best[1].hex()))
    i = best[0] + max(len(best[1]), 1)
PY
}

@test "mmfind -o prints OFFSET:BYTES with C escapes, one match a line" {
	printf 'a\nb\tc\\d\001e\377f' >e.bin
	# Exact, byte for byte: every byte of the file escaped once.
	run -0 mmfind -a -o -P '(?s).' e.bin
	assert_output "$(printf '%s\n' '0:a' '1:\n' '2:b' '3:\t' '4:c' '5:\\' \
	    '6:d' '7:\x01' '8:e' '9:\xff' '10:f')"
	run -0 mmfind -o foo t.txt
	assert_output "6:foo"
}

@test "mmfind -o -X gives hex that mmpatch -x takes, as Python finds the matches" {
	randfile r.bin 65536 7
	run -0 mmfind -a -o -X -e abc -e '#' -x 'ff ?? 00' r.bin
	expected="$("$PYTHON3" - <<'PY'
import re
d = open('r.bin', 'rb').read()
for m in re.finditer(rb'abc|#|\xff[\x00-\xff]\x00', d, re.S):
    print('%d:%s' % (m.start(), m.group().hex()))
PY
)"
	assert_output "$expected"
	# Round trip: the hex patched back changes nothing.
	before=$(sum r.bin)
	mmfind -a -o -X -x 'ff ?? 00' r.bin | while IFS=: read -r off hex; do
		mmpatch r.bin "$off" -x "$hex" --expect="$hex"
	done
	[ "$(sum r.bin)" = "$before" ]
}

@test "mmfind -o on a pipe and backwards gives the same bytes as on the file" {
	run -0 mmfind -a -o -P 'fo+|ba.' t.txt
	file_out=$output
	run -0 sh -c 'cat t.txt | mmfind -a -o -P "fo+|ba."'
	assert_output "$file_out"
	run -0 sh -c 'cat t.txt | mmfind -r -o -P "b.r|o+ "'
	assert_output "21:oo "
	run -0 mmfind -r -a -o -X o t.txt
	assert_output "$("$PYTHON3" -c "
d = open('t.txt', 'rb').read()
print('\n'.join('%d:6f' % i for i in range(len(d) - 1, -1, -1) if d[i:i+1] == b'o'))")"
}

@test "mmfind --line prints the line holding each match, as Python slices it" {
	printf 'first ERROR here\nok\nERROR at end' >log
	run -0 mmfind -a --line ERROR log
	expected="$("$PYTHON3" - <<'PY'
d = open('log', 'rb').read()
i = d.find(b'ERROR')
while i >= 0:
    s = d.rfind(b'\n', 0, i) + 1
    e = d.find(b'\n', i)
    e = len(d) if e < 0 else e + 1
    line = d[s:e]
    print('%d:%s' % (i, line.decode().rstrip('\n')))
    i = d.find(b'ERROR', i + 5)
PY
)"
	assert_output "$expected"
	# The last line, with no '\n', gets one; a pipe gives the same.
	run -0 sh -c 'mmfind -a --line ERROR log | tail -c 1 | od -An -c'
	assert_output "  \\n"
	run -0 sh -c 'cat log | mmfind -a --line ERROR'
	assert_output "$expected"
	# A match over a line end prints both lines.
	run -0 mmfind --line -x '650a6f' log
	assert_output "$(printf '15:first ERROR here\nok')"
}

@test "mmfind -A/-B/-C print hexdump -C of each span, groups split by --" {
	randfile r.bin 4096 3
	printf 'NEEDLE' | mmpatch r.bin 100 -f /dev/stdin
	printf 'NEEDLE' | mmpatch r.bin 130 -f /dev/stdin
	printf 'NEEDLE' | mmpatch r.bin 3000 -f /dev/stdin
	run -0 mmfind -a -C 20 NEEDLE r.bin
	expected="$(hexdump -C -s 80 -n 76 r.bin; echo --; hexdump -C -s 2980 -n 46 r.bin)"
	assert_output "$expected"
	run -0 mmfind -a -B 4 -A 1 NEEDLE r.bin
	assert_output "$(hexdump -C -s 96 -n 11 r.bin; echo --; \
	    hexdump -C -s 126 -n 11 r.bin; echo --; hexdump -C -s 2996 -n 11 r.bin)"
	# Clipped at the ends of the file.
	run -0 mmfind -C 1000000 -x "$(mmread -x r.bin 0 4)" r.bin
	assert_output "$(hexdump -C r.bin)"
}

@test "mmfind -C at window edges and past 4 GiB prints what hexdump -C prints" {
	# Spans that straddle the scan's windows (read again from the file)
	# and offsets of nine hex digits, on a sparse file.
	truncate -s 5G big.bin
	offs="262141 524286 1048575 2097150 4294967290 4294967396"
	for o in $offs; do
		printf 'NEEDLE' | mmpatch big.bin "$o" -f /dev/stdin
	done
	run -0 mmfind -a -C 9 NEEDLE big.bin
	expected=
	for o in $offs; do
		expected+="${expected:+$'\n'--$'\n'}$(hexdump -C -s $((o - 9)) -n 24 big.bin)"
	done
	assert_output "$expected"
}

@test "mmfind --json matches ripgrep's --json on a text file" {
	command -v rg >/dev/null || skip "ripgrep is not installed"
	printf 'alpha beta\nno\n"quoted" \\ beta\tgamma\nbeta beta beta\n\001ctl\n' >j.txt
	norm='
import json, sys
for l in sys.stdin:
    m = json.loads(l)
    d = m["data"]
    if m["type"] == "match":
        for s in d["submatches"]:
            s.pop("pattern", None)
    if m["type"] in ("end", "summary"):
        st = d["stats"]
        st = {k: st[k] for k in ("matches", "matched_lines", "searches_with_match", "bytes_searched")}
        d = {"stats": st, "path": d.get("path")}
    print(json.dumps({"type": m["type"], "data": d}, sort_keys=True))
'
	rg --json -e beta -e gamma -e ctl j.txt | "$PYTHON3" -c "$norm" >rg.out
	mmfind -a --json -e beta -e gamma -e ctl j.txt | "$PYTHON3" -c "$norm" >mm.out
	diff rg.out mm.out
	[ "$(wc -l <mm.out)" -ge 6 ]
	# Which pattern matched, per submatch.
	run -0 sh -c 'mmfind -a --json -e beta -e gamma j.txt | python3 -c "
import json, sys
for l in sys.stdin:
    m = json.loads(l)
    if m[\"type\"] == \"match\":
        print(*[s[\"pattern\"] for s in m[\"data\"][\"submatches\"]])"'
	assert_output "$(printf '0\n0 1\n0 0 0')"
}

@test "mmfind --json gives bytes in base64 when not UTF-8, hex with -X" {
	printf 'ok \377\376 end\n' >b.bin
	run -0 sh -c 'mmfind --json -X -x "ff fe" b.bin | python3 -c "
import json, sys, base64
for l in sys.stdin:
    m = json.loads(l)
    if m[\"type\"] == \"match\":
        s = m[\"data\"][\"submatches\"][0]
        print(base64.b64decode(m[\"data\"][\"lines\"][\"bytes\"]), base64.b64decode(s[\"match\"][\"bytes\"]), s[\"match\"][\"hex\"], s[\"start\"], s[\"end\"], m[\"data\"][\"absolute_offset\"], m[\"data\"][\"line_number\"])
    print(m[\"type\"])"'
	assert_output "$(printf '%s\n' begin "b'ok \\xff\\xfe end\\n' b'\\xff\\xfe' fffe 3 5 0 1" match end summary)"
	# Nothing matched: the summary alone, exit 1.
	run -1 mmfind --json zzz b.bin
	assert_output --partial '"type":"summary"'
	assert_equal "$(printf '%s\n' "$output" | wc -l)" 1
}

@test "mmfind -w wants no word byte next to a match, as grep -w -o -b finds them" {
	printf 'foo food foo_bar (foo) xfoo foo\nfoo-foo 9foo foo9 foo\n' >w.txt
	run -0 mmfind -a -w foo w.txt
	assert_output "$(grep -a -o -b -w -F foo w.txt | cut -d: -f1)"
	run -0 mmfind -a -w -P 'fo+' w.txt
	assert_output "$(grep -a -o -b -w -P 'fo+' w.txt | cut -d: -f1)"
	run -0 mmfind -c -w -i FOO w.txt
	assert_output "$(grep -a -o -w -i -F foo w.txt | wc -l)"
	# The longest word at an offset, else a shorter one.
	printf 'ab-cd ab-c ' >s.txt
	run -0 mmfind -a -o -w -e ab -e ab-c s.txt
	assert_output "$(printf '0:ab\n6:ab-c')"
	# The edges of the range count as non-word bytes.
	printf 'xfoo foo_ foo\n' >e.txt
	run -1 mmfind -w foo e.txt -E 4
	run -0 mmfind -a -w foo e.txt -s 1
	assert_output "$(printf '1\n10')"
	run -0 mmfind -w fo e.txt -s 10 -E 12
	assert_output "10"
}

@test "mmfind -L names the files without a match; exit status as grep's" {
	printf 'needle' >a
	printf 'hay' >b
	run -0 mmfind -L needle a b
	assert_output "b"
	grep -L needle a b >/dev/null; want=$?
	[ "$status" -eq "$want" ]
	run -1 mmfind -L needle b
	assert_output "b"
	run -2 mmfind -l -L needle a b
	assert_output --partial "cannot be combined"
}

@test "mmfind -Z ends file names with NUL for -l, -L and -H" {
	printf 'needle' >a
	printf 'hay' >b
	run -0 sh -c 'mmfind -l -Z needle a b | od -An -c'
	assert_output "   a  \\0"
	run -0 sh -c 'mmfind -L -Z needle a b | od -An -c'
	assert_output "   b  \\0"
	run -0 sh -c 'mmfind -c -Z needle a b | od -An -c | tr -s " "'
	assert_output " a \\0 1 \\n b \\0 0 \\n"
	run -0 sh -c 'mmfind -a -o -H -Z ee a | od -An -c | tr -s " "'
	assert_output " a \\0 1 : e e \\n"
	[ "$(mmfind -l -Z needle a b | xargs -0 echo)" = "a" ]
}

@test "mmfind --patterns-from reads one pattern a line, in one pass" {
	printf 'foo\nbar\n' >pats
	run -0 mmfind -a -o --patterns-from=pats t.txt
	assert_output "$(pyfind t.txt foo bar | while IFS=: read -r o h; do
	    printf '%s:%s\n' "$o" "$(printf '%s' "$h" | xxd -r -p)"; done)"
	# A last line without '\n' counts; -e adds to them.
	printf 'foo\nbar' >pats2
	run -0 mmfind -c --patterns-from=pats2 -e none t.txt
	assert_output "6"
	# With -x, each line is hex.
	printf '66 6f 6f\n6e6f\n' >hex
	run -0 mmfind -c -x 7a7a --patterns-from=hex t.txt
	assert_output "5"
	# An empty file gives no pattern: nothing matches, and -L lists all.
	run -1 --separate-stderr mmfind --patterns-from=/dev/null t.txt
	assert_output ""
	run -1 mmfind -L --patterns-from=/dev/null t.txt
	assert_output "t.txt"
	# A missing file is an error.
	run -2 mmfind --patterns-from=missing t.txt
	assert_output --partial "missing"
	# Patterns then index --json's "pattern".
	run -0 sh -c 'mmfind --json --patterns-from=pats -s 16 t.txt | grep -o "\"pattern\":[0-9]"'
	assert_output '"pattern":1'
}

@test "mmfind output forms: one at a time, -X needs -o or --json, counts win" {
	run -2 mmfind -o --line foo t.txt
	assert_output --partial "only one of"
	run -2 mmfind --json -C 3 foo t.txt
	assert_output --partial "only one of"
	run -2 mmfind -X foo t.txt
	assert_output --partial "needs --only-matching"
	run -2 mmfind -C x foo t.txt
	assert_output --partial "'x'"
	run -0 mmfind -c -o foo t.txt
	assert_output "4"
	run -0 mmfind -l --json foo t.txt
	assert_output "t.txt"
	run -0 --separate-stderr mmfind -q --line foo t.txt
	assert_output ""
}

@test "mmfind --line, -C and --json read a FIFO as they read a file" {
	mkfifo f
	(cat t.txt >f &)
	run -0 mmfind -a -C 2 foo f
	assert_output "$(mmfind -a -C 2 foo t.txt)"
	(cat t.txt >f &)
	run -0 mmfind -a --json foo f
	assert_output --partial '"line_number":3,"absolute_offset":28'
}

@test "mmfind --json on a line longer than the re-read window (2.5 MB)" {
	"$PYTHON3" -c "import sys; sys.stdout.buffer.write(b'a' * 2500000 + b'NEEDLE' + b'b' * 10)" >l.txt
	run -0 sh -c 'mmfind --json NEEDLE l.txt | python3 -c "
import json, sys
for l in sys.stdin:
    m = json.loads(l)
    if m[\"type\"] == \"match\":
        print(m[\"data\"][\"submatches\"][0][\"start\"], len(m[\"data\"][\"lines\"][\"text\"]))"'
	assert_output "2500000 2500016"
	run -0 mmfind --line NEEDLE l.txt
	[ "${#output}" -eq $((8 + 2500016)) ]
}

@test "mmfind --json numbers patterns in the order given, --patterns-from among -e" {
	printf 'foo\n' >a1
	printf 'xx foo bar end qux\n' >s.txt
	run -0 sh -c 'mmfind -a --json -e qux --patterns-from=a1 -e end s.txt |
	    grep -o "\"text\":\"[a-z]*\"},\"start\":[0-9]*,\"end\":[0-9]*,\"pattern\":[0-9]"'
	assert_output "$(printf '%s\n' \
	    '"text":"foo"},"start":3,"end":6,"pattern":1' \
	    '"text":"end"},"start":11,"end":14,"pattern":2' \
	    '"text":"qux"},"start":15,"end":18,"pattern":0')"
	# A match over a line end counts both lines, as ripgrep does.
	printf 'abc\ndef' >n.txt
	run -0 sh -c 'mmfind --json -P "c\\nd" n.txt | tail -1 | grep -o "\"matched_lines\":[0-9]*"'
	assert_output '"matched_lines":2'
}

@test "mmfind: bad --patterns-from lines, huge -w sets, --replace with a form: exit 2" {
	printf '626172\nzz\n' >hp
	run -2 mmfind -x 62 --patterns-from=hp t.txt
	assert_output --partial "hp:2 'zz'"
	"$PYTHON3" -c "
import random
random.seed(1)
print('\n'.join('w%dxyzzy%d' % (i, random.randint(0, 10**9)) for i in range(30000)))" >words
	run -2 --separate-stderr mmfind -a -w --patterns-from=words t.txt
	[[ "$stderr" == *"30000 patterns as one regex"* ]]
	[ "${#stderr}" -lt 300 ]
	before=$(sum t.txt)
	run -2 mmfind --json --replace=BAR foo t.txt
	assert_output --partial "cannot be combined with --json"
	[ "$(sum t.txt)" = "$before" ]
}
