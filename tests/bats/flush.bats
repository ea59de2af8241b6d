#!/usr/bin/env bats
# flush.bats - mmflush: msync over a range, widened to pages.

load helpers

setup() {
	cd "$BATS_TEST_TMPDIR"
	head -c 10000 /dev/zero | tr '\0' z >f
}

# dirty FILE [OFFSET LENGTH]: how many of FILE's pages in the range are
# dirty in the page cache (cachestat(2), Linux 6.5); exit 3 if unknown.
dirty() {
	"$PYTHON3" - "$@" <<'PY'
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
class Range(ctypes.Structure):
    _fields_ = [("off", ctypes.c_uint64), ("len", ctypes.c_uint64)]
class Stat(ctypes.Structure):
    _fields_ = [(n, ctypes.c_uint64) for n in
                ("cache", "dirty", "writeback", "evicted", "recent")]
fd = os.open(sys.argv[1], os.O_RDONLY)
r = Range(int(sys.argv[2]) if len(sys.argv) > 2 else 0,
          int(sys.argv[3]) if len(sys.argv) > 3 else 0)
s = Stat()
if libc.syscall(451, fd, ctypes.byref(r), ctypes.byref(s), 0) != 0:
    sys.exit(3)
print(s.dirty)
PY
}

need_cachestat() {
	need_python
	dirty f >/dev/null || skip "no cachestat(2) on this kernel"
}

# A Python process that writes a page at 0, 4 MiB and 8 MiB of FILE
# through its own mapping (in three page-cache folios, however large),
# never flushes, and holds the mapping until told to stop.
start_writer() {
	rm -f ready stop
	"$PYTHON3" - "$1" <<'PY' &
import mmap, os, sys, time
with open(sys.argv[1], "r+b") as f:
    m = mmap.mmap(f.fileno(), 0)
    for p in range(3):
        m[p << 22:(p << 22) + 5] = b"DIRTY"
    open("ready", "w").close()
    for _ in range(600):
        if os.path.exists("stop"):
            break
        time.sleep(0.05)
PY
	writer=$!
	for _ in $(seq 1 500); do
		[ -e ready ] && return 0
		kill -0 "$writer" 2>/dev/null || break
		sleep 0.02
	done
	fail "the Python writer did not start"
}

stop_writer() {
	touch stop
	wait "$writer"
}

@test "mmflush flushes the whole file by default, exit 0, quiet" {
	run -0 --separate-stderr mmflush f
	assert_output ""
	[ -z "$stderr" ]
	run -0 --separate-stderr mmflush -v f
	assert_equal "$stderr" "mmflush: f: flushed bytes [0, 10000) (3 pages)"
}

@test "mmflush widens unaligned ranges to whole pages and says which" {
	run -0 --separate-stderr mmflush -v f 100 10
	assert_equal "$stderr" "mmflush: f: flushed bytes [0, 4096) (1 page)"
	run -0 --separate-stderr mmflush -v f 4096 4096
	assert_equal "$stderr" "mmflush: f: flushed bytes [4096, 8192) (1 page)"
	run -0 --separate-stderr mmflush -v f 4095 2
	assert_equal "$stderr" "mmflush: f: flushed bytes [0, 8192) (2 pages)"
	run -0 --separate-stderr mmflush -v f 0x1001
	assert_equal "$stderr" "mmflush: f: flushed bytes [4096, 10000) (2 pages)"
	run -0 --separate-stderr mmflush -v f -1
	assert_equal "$stderr" "mmflush: f: flushed bytes [8192, 10000) (1 page)"
	run -0 --separate-stderr mmflush -v --async f 0 1
	assert_equal "$stderr" "mmflush: f: scheduled bytes [0, 4096) (1 page)"
	run -0 --separate-stderr mmflush --invalidate f 1K 1K
	run -0 --separate-stderr mmflush --async --invalidate f
}

@test "mmflush of an empty file or an empty range succeeds doing nothing" {
	: >e
	run -0 --separate-stderr mmflush -v e
	assert_equal "$stderr" "mmflush: e: nothing to flush"
	run -0 --separate-stderr mmflush -v e 0 0
	run -0 --separate-stderr mmflush -v f 10000
	assert_equal "$stderr" "mmflush: f: nothing to flush"
	run -0 --separate-stderr mmflush -v f 5 0
	assert_equal "$stderr" "mmflush: f: nothing to flush"
}

@test "mmflush refuses a range past the end, exit 2, file unchanged" {
	before=$(sum f)
	run -2 --separate-stderr mmflush f 10001
	assert_equal "$stderr" "mmflush: f: offset 10001 is past the end of the file (size 10000)"
	run -2 --separate-stderr mmflush f 9000 1001
	assert_equal "$stderr" "mmflush: f: range [9000, 10001) (1001 bytes) passes the end of the file (size 10000)"
	run -2 --separate-stderr mmflush f 1 7E
	run -2 --separate-stderr mmflush f -10001
	assert_equal "$stderr" "mmflush: f: offset -10001 is before the start of the file (size 10000)"
	: >e
	run -2 --separate-stderr mmflush e 0 1
	assert_equal "$(sum f)" "$before"
}

@test "mmflush refuses bad numbers, operands, streams and directories" {
	run -2 --separate-stderr mmflush
	[[ "$stderr" == *"missing FILE operand"* ]]
	[[ "$stderr" == *"Try 'mmflush --help'"* ]]
	run -2 --separate-stderr mmflush f 0 1 2
	[[ "$stderr" == *"extra operand '2'"* ]]
	run -2 --separate-stderr mmflush f 1.5K
	assert_equal "$stderr" "mmflush: invalid offset '1.5K'"
	run -2 --separate-stderr mmflush f 0 -5
	assert_equal "$stderr" "mmflush: size '-5' must not be negative"
	run -2 --separate-stderr mmflush f 0 16E
	run -2 --separate-stderr mmflush missing
	assert_equal "$stderr" "mmflush: missing: No such file or directory"
	mkdir d
	run -2 --separate-stderr mmflush d
	assert_equal "$stderr" "mmflush: d: is a directory"
	mkfifo fifo
	run -2 --separate-stderr mmflush fifo
	assert_equal "$stderr" "mmflush: fifo: cannot be mapped (a pipe, FIFO, character device or /proc file)"
	run -2 --separate-stderr mmflush /dev/null
	run -2 --separate-stderr bash -c 'printf x | mmflush -'
	assert_equal "$stderr" "mmflush: -: cannot be mapped (a pipe, FIFO, character device or /proc file)"
}

@test "mmflush writes back what another process wrote through its own mapping" {
	need_cachestat
	# The kernel's own writeback (other tests write much at once) may
	# clean a page meanwhile: try again then; a flush that cleans too
	# much does so every time.
	for try in 1 2 3; do
		rm -f w
		truncate -s 9M w
		start_writer w
		if [ "$(dirty w)" != 3 ]; then
			stop_writer
			[ "$try" = 3 ] && skip "pages were written back already"
			continue
		fi
		# Only the page at 4 MiB: the others stay dirty.
		run -0 mmflush w $(( (4 << 20) + 100 )) 10
		d0=$(dirty w 0 4096); d1=$(dirty w $((4 << 20)) 4096)
		d2=$(dirty w $((8 << 20)) 4096)
		[ "$d0$d2" = 11 ] && break
		[ "$try" = 3 ] || stop_writer
	done
	run -0 mmflush w
	all=$(dirty w)
	stop_writer
	assert_equal "$d1" 0
	assert_equal "$d0" 1
	assert_equal "$d2" 1
	assert_equal "$all" 0
	assert_equal "$(mmread w $((8 << 20)) 5)" DIRTY
}

@test "mmflush works past 4 GiB" {
	need_cachestat
	truncate -s 5G big
	printf 'X' | dd of=big bs=1 seek=$(( (4 << 30) + 5 )) conv=notrunc status=none
	[ "$(dirty big $((4 << 30)) 4096)" = 1 ] || skip "written back already"
	run -0 --separate-stderr mmflush -v big $(( (4 << 30) + 1 )) 1
	assert_equal "$stderr" "mmflush: big: flushed bytes [4294967296, 4294971392) (1 page)"
	assert_equal "$(dirty big $((4 << 30)) 4096)" 0
}

@test "mmflush flushes a file it may only read" {
	need_cachestat
	printf 'Y' | dd of=f bs=1 seek=5000 conv=notrunc status=none
	[ "$(dirty f)" -ge 1 ] || skip "written back already"
	if [ "$(id -u)" = 0 ]; then
		chattr +i f 2>/dev/null || skip "no immutable files here"
	else
		chmod 444 f
	fi
	run -0 --separate-stderr mmflush -v f 4096 10
	chattr -i f 2>/dev/null || true
	assert_equal "$stderr" "mmflush: f: flushed bytes [4096, 8192) (1 page)"
	assert_equal "$(dirty f)" 0
}

@test "mmflush reports a write-back error (EIO) with exit 2" {
	command -v cc >/dev/null || skip "no C compiler to build the EIO shim"
	cat >eio.c <<'C'
#include <errno.h>
#include <stddef.h>
int msync(void *a, size_t l, int f) { (void)a; (void)l; (void)f; errno = EIO; return -1; }
C
	cc -shared -fPIC -o eio.so eio.c || skip "cannot build a shared object"
	before=$(sum f)
	LD_PRELOAD=$PWD/eio.so ASAN_OPTIONS=verify_asan_link_order=0 \
	    run -2 --separate-stderr mmflush f
	assert_equal "$stderr" "mmflush: f: cannot flush bytes [0, 10000): I/O error (or the file shrank while mapped)"
	assert_equal "$(sum f)" "$before"
}

@test "mmflush OFFSET FILE names the order" {
	run -2 --separate-stderr mmflush 0 f
	assert_equal "$stderr" "mmflush: invalid offset 'f' (usage: mmflush FILE [OFFSET [SIZE]])"
}
