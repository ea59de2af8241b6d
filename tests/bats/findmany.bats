#!/usr/bin/env bats
# findmany.bats - mmfind over several files at once (-j): the output of a
# run on one thread, byte for byte, in command-line order, with bounded
# memory, stopping at once when output fails or -q has its answer.

load helpers

setup() {
	cd "$BATS_TEST_TMPDIR"
}

# many: f00..f49, 0 to 100 KB, holding 0 to 2000 "abc"s (some "ABC"),
# plus a directory and a name that does not exist among them.
many() {
	"$PYTHON3" - <<'PY'
import random
r = random.Random(16)
for i in range(50):
    data = bytearray(r.randbytes(r.choice([0, 10, 5000, 100000])))
    for _ in range(r.choice([0, 0, 1, 3, 50, 2000])):
        if len(data) > 10:
            p = r.randrange(len(data) - 5)
            data[p:p + 3] = r.choice([b'abc', b'abc', b'ABC'])
    open('f%02d' % i, 'wb').write(data)
PY
	mkdir f17.d
}

# same ARGS...: mmfind -j2 prints what -j1 does, stdout and stderr apart,
# and -j8 with both on one descriptor; both exit as -j1 does, whose exit
# status is left in s.
same() {
	local p
	mmfind -j1 "$@" >s.out 2>s.err && s=0 || s=$?
	mmfind -j1 "$@" >s.all 2>&1 || :
	mmfind -j2 "$@" >p.out 2>p.err && p=0 || p=$?
	[ "$s" = "$p" ] || fail "-j2 $*: exit $p, not $s"
	cmp -s s.out p.out || fail "-j2 $*: standard output differs"
	cmp -s s.err p.err || fail "-j2 $*: standard error differs"
	mmfind -j8 "$@" >p.all 2>&1 && p=0 || p=$?
	[ "$s" = "$p" ] || fail "-j8 $*: exit $p, not $s"
	cmp -s s.all p.all || fail "-j8 $*: the interleaving differs"
}

@test "mmfind -c, -l, -r over 50 files: -j2 and -j8 print what -j1 does" {
	need_python
	many
	local files=(f0* missing f17.d f1* f[2-4]* f00)
	same -c abc "${files[@]}"
	[ "$(wc -l <s.out)" -eq 51 ] && [ "$(wc -l <s.err)" -eq 3 ] ||
	    fail "expected 51 counts and 3 messages"
	[ "$s" = 2 ] || fail "exit $s with a missing file"
	same -l abc "${files[@]}"
	same -r abc "${files[@]}"
	same -c --overlap -i abc "${files[@]}"
	same -c -P '(?i)abc|zq' "${files[@]}"
	same -H -s 100 -E -100 abc "${files[@]}"
	same abc "${files[@]}"
	# Exit 1 when nothing matches, 0 when all files are there.
	same -c zzzqqq f0* f2*
	[ "$s" = 1 ] || fail "exit $s when nothing matches"
	same -l abc f0* f2*
	[ "$s" = 0 ] || fail "exit $s when files match"
}

@test "mmfind -a over 50 files: -j2 and -j8 print what -j1 does" {
	need_python
	many
	local files=(f0* missing f17.d f1* f[2-4]* f00)
	same -a abc "${files[@]}"
	[ "$(wc -l <s.out)" -gt 4000 ] || fail "too few matches to test"
	same -m 3 -a abc "${files[@]}"
	same -r -a abc "${files[@]}"
	same -a -P 'a[b]c' "${files[@]}"
	same -a -e abc -e ABC "${files[@]}"
	same -a --radix=x -h -x 616263 "${files[@]}"
}

@test "mmfind -q over many files: messages of the files before the first match only" {
	need_python
	many
	same -q zzzqqq f0* missing f17.d f1*
	[ "$s" = 2 ] && [ "$(wc -l <s.err)" -eq 3 ] || fail "-q with no match"
	# f49 has matches: what follows it is never reported, however the
	# threads race.
	for i in 1 2 3 4; do
		same -q abc missing1 f17.d f49 missing2 f0*
		[ "$s" = 0 ] || fail "exit $s"
	done
	run -0 --separate-stderr mmfind -j2 -q abc missing1 f49 missing2
	[ "$stderr" = "mmfind: missing1: No such file or directory" ] ||
	    fail "stderr: $stderr"
}

@test "mmfind -j2 searches files at once: a FIFO's writer waiting for a later FIFO" {
	mkfifo p1 p2
	# The writer opens p2 first; one file at a time would wait on p1.
	( exec 4>p2; printf abc >&4; exec 4>&-; printf abcabc >p1 ) &
	run -0 --separate-stderr timeout 10 mmfind -j2 -c abc p1 p2
	# Whatever happened, the writer must not be left blocked.
	kill $! 2>/dev/null || :
	wait
	assert_output "$(printf 'p1:2\np2:1')"
}

@test "mmfind over files at once keeps command-line order when the first is slow" {
	mkfifo slow
	printf 'abc' >fast1
	printf 'xabcabc' >fast2
	( sleep 0.3; printf 'abcabcabc' >slow ) &
	run -2 --separate-stderr mmfind -j2 -a abc slow fast1 missing fast2
	wait
	assert_output "$(printf 'slow:0\nslow:3\nslow:6\nfast1:0\nfast2:1\nfast2:4')"
	[ "$stderr" = "mmfind: missing: No such file or directory" ]
}

@test "mmfind over files at once: standard input and a FIFO named twice are read in turn" {
	printf 'abc' >x
	run -0 --separate-stderr mmfind -j4 -c abc - x - x < <(printf 'abcabc')
	assert_output "$(printf '(standard input):2\nx:1\n(standard input):0\nx:1')"
	mkfifo p
	( printf abcabc >p; sleep 0.2; printf abc >p ) &
	run -0 --separate-stderr timeout 10 mmfind -j4 -c abc p x p
	kill $! 2>/dev/null || :
	wait
	assert_output "$(printf 'p:2\nx:1\np:1')"
}

@test "mmfind over files at once: a file unreadable by its user is reported in its place" {
	need_nobody
	need_python
	local d
	d=$(mktemp -d /tmp/mmutils.XXXXXX)
	chmod 755 "$d"
	(cd "$d" && many && chmod 000 f05 f31)
	as_nobody mmfind -j1 -c abc "$d"/f* >s.out 2>s.err && s=0 || s=$?
	as_nobody mmfind -j2 -c abc "$d"/f* >p.out 2>p.err && p=0 || p=$?
	rm -rf "$d"
	[ "$s" = 2 ] && [ "$p" = 2 ] || fail "exit $s, $p"
	[ "$(wc -l <s.err)" = 3 ] || fail "$(cat s.err)"
	cmp s.out p.out && cmp s.err p.err
}

@test "mmfind over files at once stops everything when standard output fails" {
	need_python
	"$PYTHON3" -c 'import sys; sys.stdout.buffer.write(b"a" * 300000)' >a1
	cp a1 a2
	mkfifo never
	# A closed pipe kills with SIGPIPE...
	run -0 timeout 10 bash -c 'mmfind -j2 -a a a1 a2 never | head -1'
	assert_output "a1:0"
	# ...or, with SIGPIPE ignored, is a quiet exit 2, even with a thread
	# blocked on a FIFO that nobody writes.
	run -0 --separate-stderr timeout 10 bash -c \
	    'trap "" PIPE; mmfind -j2 -a a a1 a2 never a1 | head -1; echo "${PIPESTATUS[0]}"'
	assert_output "$(printf 'a1:0\n2')"
	[ -z "$stderr" ]
	# A full device is an error that names the cause.
	run -0 --separate-stderr timeout 10 bash -c \
	    'mmfind -j2 -a a a1 a2 never a1 >/dev/full; echo $?'
	assert_output 2
	[ "$stderr" = "mmfind: write error: No space left on device" ]
}

@test "mmfind -q over files at once answers without waiting for a later file" {
	printf 'abc' >m
	mkfifo never
	run -0 --separate-stderr timeout 10 mmfind -j2 -q abc m never
	[ -z "$output" ] && [ -z "$stderr" ]
}

@test "mmfind over files at once: a file with 2M matches waiting its turn stays bounded" {
	[ -z "${MM_NOLIMIT:-}" ] || skip "RSS means nothing under the sanitizers"
	[ -x /usr/bin/time ] || skip "no /usr/bin/time"
	need_python
	"$PYTHON3" -c 'import sys; sys.stdout.buffer.write(b"a" * 2000000)' >big
	printf 'a' >small
	mkfifo slow
	# big is searched while slow waits: its 25 MB of output cannot all
	# be kept until slow is printed.
	( sleep 0.5; printf 'aa' >slow ) &
	/usr/bin/time -f %M -o rss mmfind -j2 -a a slow big small | cksum >par
	wait
	( printf 'aa' >slow ) &
	mmfind -j1 -a a slow big small | cksum >seq
	wait
	cmp seq par || fail "the output differs from -j1's"
	[ "$(cat rss)" -lt 16000 ] || fail "max RSS $(cat rss) KB"
}
