#!/usr/bin/env bats
# findrr.bats - mmfind -R (walk directories) and --replace (find and
# replace in place, as one mmpatch batch).

load helpers

setup() {
	cd "$BATS_TEST_TMPDIR"
}

# tree: a tree of files holding "needle" or not, nested directories,
# names that sort differently as paths and as strings (a, a-b, a.c),
# symbolic links to a file and to a directory, a FIFO and an empty
# directory below it.
tree() {
	mkdir -p t/a/b/c t/a-b t/a.c t/e t/z
	printf 'xx needle xx' >t/a/one
	printf 'nothing here' >t/a/two
	printf 'needle needle' >t/a/b/c/deep
	printf 'needle' >t/a-b/n
	printf 'a needle' >t/a.c/n
	printf 'needle at the top' >t/top
	printf 'no match' >t/z/none
	printf 'needle in B' >t/B
	ln -s ../top t/z/link-to-file
	ln -s ../a t/z/link-to-dir
	mkfifo t/a/fifo
}

# walk DIR PATTERN: the regular files below DIR that hold PATTERN, in
# path order (each directory's entries sorted by name, depth first),
# links not followed: what mmfind -R -l must print.
walk() {
	"$PYTHON3" - "$1" "$2" <<'PY'
import os, stat, sys
def walk(d, pat):
    for name in sorted(os.listdir(os.fsencode(d))):
        p = os.path.join(os.fsencode(d), name)
        st = os.lstat(p)
        if stat.S_ISDIR(st.st_mode):
            walk(p, pat)
        elif stat.S_ISREG(st.st_mode) and pat in open(p, 'rb').read():
            sys.stdout.buffer.write(p + b'\n')
walk(sys.argv[1], os.fsencode(sys.argv[2]))
PY
}

@test "mmfind -R -l lists the files grep -r -l lists, in path order" {
	need_python
	tree
	run -0 --separate-stderr timeout 60 mmfind -R -l needle t
	[ -z "$stderr" ] || fail "$stderr"
	assert_output "$(walk t needle)"
	# The same files as grep -r (which takes no links below either).
	diff <(printf '%s\n' "$output" | LC_ALL=C sort) \
	    <(grep -r -l needle t | LC_ALL=C sort)
	# -j1 and -j2 print alike.
	run -0 timeout 60 mmfind -j1 -R -l needle t
	assert_output "$(walk t needle)"
}

@test "mmfind -R prints each file's matches together, FILE: first, in path order" {
	need_python
	tree
	run -0 timeout 60 mmfind -R -a needle t
	exp=""
	while IFS= read -r f; do
		for off in $(mmfind -a needle "$f"); do
			exp+="$f:$off"$'\n'
		done
	done < <(walk t needle)
	assert_output "${exp%$'\n'}"
	# t/a: b/c/deep, (fifo skipped), one, two.
	run -0 timeout 60 mmfind -R -h -c needle t/a
	assert_output "$(printf '2\n1\n0')"
}

@test "mmfind -R follows a link given as FILE, not links below, and skips FIFOs" {
	tree
	run -0 --separate-stderr timeout 60 mmfind -R -l needle t/z/link-to-dir
	assert_output "$(printf 't/z/link-to-dir/b/c/deep\nt/z/link-to-dir/one')"
	run -1 --separate-stderr timeout 60 mmfind -R -l needle t/z
	assert_output ""
	[ -z "$stderr" ]
	# A FIFO named as FILE is still read, as without -R.
	run -0 timeout 60 bash -c 'printf needle >t/a/fifo & mmfind -R t/a/fifo -e needle'
	assert_output "0"
}

@test "mmfind -R without FILE walks the current directory, names without ./" {
	need_python
	tree
	cd t
	run -0 timeout 60 mmfind -R -l needle
	assert_output "$(walk . needle | sed 's|^\./||')"
	run -0 timeout 60 mmfind -R -l needle .
	assert_output "$(walk . needle)"
}

@test "mmfind -R names files as grep -r does: not for one file, -h drops them" {
	tree
	run -0 mmfind -R needle t/top
	assert_output "0"
	run -0 mmfind -R needle t/a-b
	assert_output "t/a-b/n:0"
	run -0 mmfind -R -h needle t/a-b
	assert_output "0"
	run -0 mmfind -R -H needle t/top
	assert_output "t/top:0"
}

@test "mmfind -R over an empty directory finds nothing, exit 1" {
	mkdir empty
	run -1 --separate-stderr mmfind -R -l x empty
	assert_output ""
	[ -z "$stderr" ]
}

@test "mmfind without -R says a directory is one, searches the rest, exit 2" {
	tree
	run -2 --separate-stderr mmfind -l needle t t/top
	assert_output "t/top"
	[ "$stderr" = "mmfind: t: is a directory" ]
}

@test "mmfind -R reports an unreadable directory, searches the rest, exit 2" {
	local d run_as=()
	d=$(mktemp -d /tmp/mmutils.XXXXXX)
	chmod 755 "$d"
	mkdir -p "$d/a" "$d/locked/in" "$d/z"
	printf needle >"$d/a/f"
	printf needle >"$d/locked/in/f"
	printf needle >"$d/z/f"
	chmod -R a+rX "$d"
	chmod 000 "$d/locked"
	if [ "$(id -u)" = 0 ]; then
		# Root reads everything: the test runs mmfind as nobody.
		need_nobody
		run_as=(setpriv --reuid=65534 --regid=65534 --clear-groups)
	fi
	run -2 --separate-stderr "${run_as[@]}" "$MM_BUILDDIR/src/mmfind" \
	    -R -l needle "$d"
	chmod 755 "$d/locked"
	rm -rf "$d"
	assert_output "$(printf '%s\n' "$d/a/f" "$d/z/f")"
	[ "$stderr" = "mmfind: $d/locked: Permission denied" ] ||
	    fail "$stderr"
}

@test "mmfind -R -q with an unreadable directory still exits 0 on a match" {
	local d run_as=()
	d=$(mktemp -d /tmp/mmutils.XXXXXX)
	chmod 755 "$d"
	mkdir -p "$d/a" "$d/b"
	printf needle >"$d/b/f"
	chmod 000 "$d/a"
	if [ "$(id -u)" = 0 ]; then
		need_nobody
		run_as=(setpriv --reuid=65534 --regid=65534 --clear-groups)
	fi
	run -0 "${run_as[@]}" "$MM_BUILDDIR/src/mmfind" -R -q needle "$d"
	chmod 755 "$d/a"
	rm -rf "$d"
}

# ------------------------------------------------------------ --replace

# replaced FILE OLD NEW [COUNT]: FILE's bytes with every OLD replaced
# by NEW, left to right, none overlapping (bytes.replace), on stdout.
replaced() {
	"$PYTHON3" -c '
import sys
d = open(sys.argv[1], "rb").read()
n = int(sys.argv[4]) if len(sys.argv) > 4 else -1
sys.stdout.buffer.write(d.replace(sys.argv[2].encode(), sys.argv[3].encode(), n))
' "$@"
}

# seeded FILE: random bytes with "abcd", "ABCD", "aaaa" runs planted.
seeded() {
	"$PYTHON3" - "$1" <<'PY'
import random, sys
r = random.Random(7)
d = bytearray(r.randbytes(200000))
for _ in range(3000):
    p = r.randrange(len(d) - 8)
    d[p:p + 4] = r.choice([b'abcd', b'abcd', b'ABCD', b'aaaa', b'aaaaa'[:4]])
open(sys.argv[1], 'wb').write(d)
PY
}

@test "mmfind --replace replaces every match as bytes.replace does" {
	need_python
	seeded f
	cp f g
	replaced g abcd WXYZ >want
	run -0 --separate-stderr mmfind --replace=WXYZ abcd f
	assert_output ""
	[ -z "$stderr" ]
	cmp f want
	# Overlapping candidates: left to right, none overlapping.
	printf 'aaaaaaa' >h
	run -0 mmfind --replace=bb aa h
	[ "$(cat h)" = "bbbbbba" ]
	# -m N: the first N, as replace(old, new, N).
	cp g f
	replaced g aaaa QQQQ 17 >want
	run -0 mmfind -m 17 --replace-hex=51515151 aaaa f
	cmp f want
}

@test "mmfind --replace in a 9 MiB file, mapped or read, as bytes.replace" {
	need_python
	"$PYTHON3" - <<'PY'
import random
r = random.Random(3)
d = bytearray(r.randbytes(9 << 20))
for _ in range(5000):
    p = r.randrange(len(d) - 8)
    d[p:p + 4] = b'abcd'
open('g', 'wb').write(d)
open('want', 'wb').write(bytes(d).replace(b'abcd', b'WXYZ'))
PY
	for io in auto mmap read; do
		cp g f
		run -0 mmfind --io=$io --replace=WXYZ abcd f
		cmp f want || fail "--io=$io differs"
	done
}

@test "mmfind --replace with -i, -x ??, -P and -s/-E matches as python's re.sub" {
	need_python
	seeded g
	for args in "-i abcd" "-x 61????64" "-P a[b-c]{2}d" "-s 1000 -E -5000 abcd" \
	    "-e abcd -e ABCD"; do
		cp g f
		set -- $args
		run -0 --separate-stderr mmfind --replace=1234 "$@" f
		"$PYTHON3" - "$args" <<'PY' >want
import re, sys
d = open('g', 'rb').read()
a = sys.argv[1].split()
s, e = 0, len(d)
if a[0] == '-i':
    d2 = re.sub(b'(?i)abcd', b'1234', d)
elif a[0] == '-x':
    d2 = re.sub(b'a..d', b'1234', d, flags=re.S)
elif a[0] == '-P':
    d2 = re.sub(b'a[b-c]{2}d', b'1234', d)
elif a[0] == '-s':
    s, e = int(a[1]), len(d) + int(a[3])
    d2 = d[:s] + d[s:e].replace(b'abcd', b'1234') + d[e:]
else:
    d2 = re.sub(b'abcd|ABCD', b'1234', d)
sys.stdout.buffer.write(d2)
PY
		cmp f want || fail "mmfind --replace $args differs"
	done
}

@test "mmfind --replace --dry-run shows what mmpatch --dry-run shows, changes nothing" {
	need_python
	seeded f
	before=$(sum f)
	run -0 --separate-stderr mmfind --dry-run --replace-hex=00ff00ff abcd f
	[ -z "$stderr" ]
	[ "$(sum f)" = "$before" ]
	[ "${#lines[@]}" = "$(mmfind -c abcd f)" ]
	[ "${lines[0]}" = "$(mmfind abcd f): 61626364 -> 00ff00ff" ]
	want=$(mmfind -a abcd f | mmpatch f - -x 00ff00ff --expect-text=abcd \
	    --dry-run)
	assert_output "$want"
	# With several files, FILE: first; -c counts instead.
	cp f f2
	run -0 mmfind --dry-run -c --replace=WXYZ abcd f f2
	n=$(mmfind -c abcd f)
	assert_output "$(printf 'f:%s\nf2:%s' "$n" "$n")"
	[ "$(sum f)" = "$before" ] && [ "$(sum f2)" = "$before" ]
}

@test "mmfind --replace --undo saves a script that mmpatch --script undoes" {
	need_python
	seeded f
	before=$(sum f)
	run -0 mmfind --undo=u --replace=WXYZ -P 'a[b-c]{2}d' f
	[ "$(sum f)" != "$before" ]
	head -1 u | grep -q '^# mmpatch undo script'
	run -0 mmpatch --script=u f
	[ "$(sum f)" = "$before" ]
	# An undo file is never overwritten: exit 2, nothing written.
	run -2 --separate-stderr mmfind --undo=u --replace=WXYZ abcd f
	[ "$(sum f)" = "$before" ]
	[[ "$stderr" == *"exists already"* ]]
	# One undo script is one file's.
	cp f f2
	run -2 --separate-stderr mmfind --undo=u2 --replace=WXYZ abcd f f2
	[[ "$stderr" == *"give one FILE"* ]]
	[ ! -e u2 ] && [ "$(sum f)" = "$before" ] && [ "$(sum f2)" = "$before" ]
}

@test "mmfind --replace of another length is a usage error, file unchanged" {
	printf 'ab abbb ab' >f
	before=$(sum f)
	run -2 --separate-stderr mmfind --replace=xyz ab f
	[[ "$stderr" == *"mmresize --at"* ]] || fail "$stderr"
	[ "$(sum f)" = "$before" ]
	# Several patterns, one of another length.
	run -2 --separate-stderr mmfind --replace=xy -e ab -e abb f
	[[ "$stderr" == *"a pattern has 3 bytes but the replacement has 2"* ]]
	[ "$(sum f)" = "$before" ]
	# A regex whose third match is longer: all are seen before any write.
	run -2 --separate-stderr mmfind --replace=xy -P 'ab+' f
	[ "$stderr" = "mmfind: f: the match at offset 3 has 4 bytes but the replacement has 2; a replacement keeps the file's length (mmresize --at inserts or removes bytes); nothing written" ]
	[ "$(sum f)" = "$before" ]
	# ... unless -m stops before it.
	run -0 mmfind -m 1 --replace=xy -P 'ab+' f
	[ "$(cat f)" = "xy abbb ab" ]
	run -2 --separate-stderr mmfind --replace= ab f
	[[ "$stderr" == *"the replacement is empty"* ]]
}

@test "mmfind --replace exits 1 and changes nothing when nothing matched" {
	printf 'hello' >f
	before=$(sum f)
	run -1 --separate-stderr mmfind --replace=zz qq f
	assert_output ""
	[ -z "$stderr" ]
	[ "$(sum f)" = "$before" ]
	run -1 mmfind -c --replace=zz qq f
	assert_output "0"
}

@test "mmfind --replace words a regex that backtracks too much as mmfind does, nothing written" {
	"$PYTHON3" -c 'import sys; sys.stdout.write("a" * 60000 + "b")' >ab.txt
	before=$(sum ab.txt)
	run -2 --separate-stderr timeout 10 mmfind --replace=x -P '(?m)(a|aa)+$' ab.txt
	[[ "$stderr" =~ ^"mmfind: ab.txt: the regular expression needs too much backtracking (PCRE2 "(match|depth|heap|JIT\ stack)" limit); simplify it; nothing written"$ ]] ||
	    fail "$stderr"
	[ "$(sum ab.txt)" = "$before" ]
}

@test "mmfind --replace searches the range mmfind searches: -s past the end, nothing" {
	printf 'hello' >f
	# Not even the empty match at the end that -s 5 finds.
	run -1 --separate-stderr mmfind -a -P 'x*' -s 6 f
	run -1 --separate-stderr mmfind --replace=y -P 'x*' -s 6 f
	[ -z "$stderr" ]
	assert_equal "$(cat f)" hello
	run -0 mmfind -a -P 'x*' -s 5 f
	assert_output "5"
	run -2 --separate-stderr mmfind --replace=y -P 'x*' -s 5 f
	[[ "$stderr" == *"the match at offset 5 has 0 bytes"* ]]
}

@test "mmfind --replace refuses standard input, pipes and a read-only file" {
	printf 'hello' >f
	before=$(sum f)
	run -2 --separate-stderr mmfind --replace=J h <f
	[[ "$stderr" == *"standard input cannot be changed in place"* ]]
	run -2 --separate-stderr bash -c 'cat f | mmfind --replace=J h -'
	[[ "$stderr" == *"standard input cannot be changed in place"* ]]
	mkfifo p
	run -2 --separate-stderr timeout 20 mmfind --replace=J h p
	[[ "$stderr" == *"p: cannot be mapped"* ]]
	if [ "$(id -u)" = 0 ]; then
		need_nobody
		ro=$(shared_copy f 444)
		run -2 --separate-stderr as_nobody mmfind --replace=J h "$ro"
		rm -rf "${ro%/*}"
	else
		chmod 444 f
		run -2 --separate-stderr mmfind --replace=J h f
	fi
	[[ "$stderr" == *"Permission denied"* ]] || fail "$stderr"
	[ "$(sum f)" = "$before" ]
}

@test "mmfind --replace over several files: each its own batch, a failure the rest goes on" {
	printf 'ab ab' >f1
	printf 'ab abb' >f2
	printf 'ab' >f3
	b2=$(sum f2)
	run -2 --separate-stderr mmfind -c --replace=XY -P 'ab+' f1 f2 f3 missing
	assert_output "$(printf 'f1:2\nf3:1')"
	[ "$(cat f1)" = "XY XY" ] && [ "$(cat f3)" = "XY" ]
	[ "$(sum f2)" = "$b2" ]
	[ "${#stderr_lines[@]}" = 2 ]
	run -0 mmfind -l --replace=QQ XY f1 f2 f3
	assert_output "$(printf 'f1\nf3')"
}

@test "mmfind -R --replace replaces in every file below" {
	tree
	run -0 --separate-stderr timeout 60 mmfind -R -c --replace=NEEDLE needle t
	[ -z "$stderr" ]
	run -1 timeout 60 mmfind -R -l needle t
	[ "$(cat t/a/b/c/deep)" = "NEEDLE NEEDLE" ]
	[ "$(cat t/a/two)" = "nothing here" ]
}

@test "mmfind -a | mmpatch - --expect still replaces as --replace does" {
	need_python
	seeded f
	cp f g
	mmfind -a -x 61626364 f | mmpatch f - -x 57585960 --expect=61626364
	run -0 mmfind --replace-hex=57585960 -x 61626364 g
	cmp f g
}

@test "mmfind --replace refuses -r, --overlap, both replacements; writer options need it" {
	printf 'aaaa' >f
	before=$(sum f)
	run -2 --separate-stderr mmfind -r --replace=b a f
	[[ "$stderr" == *"--reverse"* ]]
	run -2 --separate-stderr mmfind -a --overlap --replace=b a f
	[[ "$stderr" == *"--overlap"* ]]
	run -2 --separate-stderr mmfind --replace=b --replace-hex=62 a f
	[[ "$stderr" == *"cannot be combined"* ]]
	for opt in --dry-run --undo=u --sync --no-lock; do
		run -2 --separate-stderr mmfind "$opt" a f
		[[ "$stderr" == *"needs --replace"* ]] || fail "$opt: $stderr"
	done
	[ "$(sum f)" = "$before" ]
}
