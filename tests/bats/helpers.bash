# helpers.bash - shared setup for the Bats suites.
# Loaded with `load helpers`; puts the build tree's applet links first on
# PATH, so tests run the real binary as users do.

bats_require_minimum_version 1.5.0
bats_load_library bats-support
bats_load_library bats-assert

: "${MM_BUILDDIR:=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)}"
: "${MM_SRCDIR:=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)}"
: "${PYTHON3:=python3}"
export MM_BUILDDIR MM_SRCDIR PYTHON3

# Under valgrind every run costs a second: differential sweeps take
# every MM_STRIDE-th case.
MM_STRIDE=1
[ -z "${MM_VALGRIND:-}" ] || MM_STRIDE=7
export MM_STRIDE

if [ -n "${MM_VALGRIND:-}" ]; then
	# make check-valgrind: every applet under memcheck, any error fails.
	# Valgrind's own words go to MM_VGLOG, not to the applet's standard
	# error, which tests compare: valgrind 3.19 warns about syscalls it
	# does not know (cachestat) even with -q.  An error still exits 99.
	MM_VGDIR="$BATS_RUN_TMPDIR/vgbin"
	: "${MM_VGLOG:=$MM_BUILDDIR/tests/valgrind.log}"
	mkdir -p "$MM_VGDIR" "$(dirname "$MM_VGLOG")"
	for a in mmutils $(cd "$MM_BUILDDIR/src" && ls mm* | grep -v '\.'); do
		# argv[0] stays the link's path, so the applet is found.
		cat >"$MM_VGDIR/$a" <<VG
#!/bin/sh
exec 9>>"$MM_VGLOG"
exec valgrind -q --log-fd=9 --error-exitcode=99 --leak-check=full \
    --errors-for-leak-kinds=definite "$MM_BUILDDIR/src/$a" "\$@"
VG
		chmod +x "$MM_VGDIR/$a"
	done
	PATH="$MM_VGDIR:$PATH"
else
	PATH="$MM_BUILDDIR/src:$PATH"
fi
export PATH

# Memory caps (ulimit -v, -d) in tests are written
# "${MM_NOLIMIT:+:} ulimit -v N": under AddressSanitizer, whose shadow
# memory alone reserves terabytes of address space (and under valgrind),
# MM_NOLIMIT turns them into no-ops; the answers are still checked, and LeakSanitizer's leaks.
# Valgrind likewise.
if [ -n "${MM_VALGRIND:-}" ] ||
    grep -q __asan_init "$MM_BUILDDIR/src/mmutils" 2>/dev/null; then
	MM_NOLIMIT=1
	export MM_NOLIMIT
fi

# sum FILE: a checksum that proves a file did not change.
sum() {
	sha256sum "$1" | cut -d' ' -f1
}

# randfile FILE SIZE [SEED]: SIZE reproducible random bytes.
randfile() {
	"$PYTHON3" -c '
import random, sys
r = random.Random(int(sys.argv[3]))
sys.stdout.buffer.write(bytes(r.getrandbits(8) for _ in range(int(sys.argv[2]))))
' "$1" "$2" "${3:-1}" >"$1"
}

# need_python: skip a differential test cleanly where python3 is missing.
need_python() {
	command -v "$PYTHON3" >/dev/null 2>&1 || skip "python3 is not installed"
}

# need_nobody: skip unless this test can run an applet as user nobody
# (root only), to see what root's rights would hide.
need_nobody() {
	[ "$(id -u)" = 0 ] || skip "needs root to run as another user"
	command -v setpriv >/dev/null || skip "setpriv is not installed"
}

# shared_copy FILE MODE: copy FILE, with MODE, into a new directory under
# /tmp that every user may enter (the test's own directory is private);
# print the copy's path.  The caller removes its directory.
shared_copy() {
	local d
	d=$(mktemp -d /tmp/mmutils.XXXXXX) && chmod 755 "$d" &&
	    cp "$1" "$d/${1##*/}" && chmod "$2" "$d/${1##*/}" &&
	    printf '%s\n' "$d/${1##*/}"
}

# as_nobody APPLET ARG...: run the build's APPLET as user nobody (after
# need_nobody); valgrind's wrapper is bypassed, its log is root's.
as_nobody() {
	setpriv --reuid=65534 --regid=65534 --clear-groups \
	    "$MM_BUILDDIR/src/$1" "${@:2}"
}

# wait_mapped FILE [PID]: wait (up to 60 s) until some process has FILE
# mapped, so that a test acts on a command while it is under way whatever
# its speed: under valgrind, start-up alone takes a second or more.  With
# PID, also stop waiting when that process has ended (it was quicker).
wait_mapped() {
	local path i
	path=$(realpath "$1")
	for i in $(seq 1 6000); do
		grep -qsF "$path" /proc/[0-9]*/maps && return 0
		[ -z "${2:-}" ] || kill -0 "$2" 2>/dev/null || return 0
		sleep 0.01
	done
	return 1
}

# wait_reading FILE [PID]: as wait_mapped, but a process that has FILE
# open will do too: a search that reads with pread (MMUTILS_IO=read), or
# that reads nothing of a file that is all hole, may never map it.
wait_reading() {
	local path i
	path=$(realpath "$1")
	for i in $(seq 1 6000); do
		grep -qsF "$path" /proc/[0-9]*/maps && return 0
		ls -l /proc/[0-9]*/fd/ 2>/dev/null | grep -qF -- "-> $path" &&
		    return 0
		[ -z "${2:-}" ] || kill -0 "$2" 2>/dev/null || return 0
		sleep 0.01
	done
	return 1
}

# build_fault_shim: fault.so, an LD_PRELOAD library that acts just before
# the Nth pread or pwrite of the command it is loaded into (see
# with_fault): it cuts the file to 4096 bytes (through the command's own
# descriptor), sends the command SIGINT or SIGTERM, or fails that one
# call: "enospc" with nothing written, "short" after writing half (the
# next call then fails), as a full copy-on-write file system does,
# "stuck" failing that call and every pwrite after it; or
# "fill" the file system holding FAULT_FILL (a path) to the last byte.
# WHICH "populate" acts just after the Nth MADV_POPULATE_WRITE instead.  So a test lands a
# cut or a signal exactly where it means to, however fast the machine.
build_fault_shim() {
	command -v cc >/dev/null || skip "no C compiler to build the shim"
	cat >fault.c <<'C'
#define _GNU_SOURCE
#include <dlfcn.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
static long calls[3];
/* Fill the file system that holds FAULT_FILL, as another writer might. */
static void fill_up(void)
{
	static char buf[65536];
	const char *path = getenv("FAULT_FILL");
	size_t n;
	int fd;

	if (path == NULL || (fd = open(path, O_CREAT | O_WRONLY, 0600)) < 0)
		return;
	for (n = sizeof(buf); n > 0; n /= 16)
		while (write(fd, buf, n) > 0)
			;
	(void)fsync(fd);
	(void)syncfs(fd);
	close(fd);
}
/* 0: go on; 1: fail the call with ENOSPC; 2: write half, then fail. */
static int fault(int out, int fd)
{
	const char *w = getenv("FAULT_WHICH"), *n = getenv("FAULT_CALL");
	const char *what = getenv("FAULT_DO");
	static int failnext;

	if (out == 1 && failnext) {
		failnext = failnext == 3 ? 3 : 0;
		return 1;
	}
	if (w == NULL || n == NULL || what == NULL ||
	    strcmp(w, out == 2 ? "populate" : out ? "pwrite" : "pread") != 0 ||
	    ++calls[out] != atol(n))
		return 0;
	if (strcmp(what, "cut") == 0)
		(void)ftruncate(fd, 4096);
	else if (strcmp(what, "enospc") == 0)
		return 1;
	else if (strcmp(what, "stuck") == 0) {
		failnext = 3;
		return 1;
	}
	else if (strcmp(what, "short") == 0)
		return failnext = 2;
	else if (strcmp(what, "fill") == 0)
		fill_up();
	else
		kill(getpid(), strcmp(what, "INT") == 0 ? SIGINT : SIGTERM);
	return 0;
}
ssize_t pread(int fd, void *b, size_t n, off_t o)
{
	ssize_t (*real)(int, void *, size_t, off_t) =
	    (ssize_t (*)(int, void *, size_t, off_t))dlsym(RTLD_NEXT, "pread");
	if (fault(0, fd)) {
		errno = EIO;
		return -1;
	}
	return real(fd, b, n, o);
}
ssize_t pwrite(int fd, const void *b, size_t n, off_t o)
{
	ssize_t (*real)(int, const void *, size_t, off_t) =
	    (ssize_t (*)(int, const void *, size_t, off_t))dlsym(RTLD_NEXT,
	    "pwrite");
	switch (fault(1, fd)) {
	case 1:
		errno = ENOSPC;
		return -1;
	case 2:
		return real(fd, b, n / 2 ? n / 2 : 1, o);
	}
	return real(fd, b, n, o);
}
/* "populate": after the Nth MADV_POPULATE_WRITE (23) has reserved. */
int madvise(void *a, size_t n, int advice)
{
	int (*real)(void *, size_t, int) =
	    (int (*)(void *, size_t, int))dlsym(RTLD_NEXT, "madvise");
	int rc = real(a, n, advice);

	if (advice == 23)
		(void)fault(2, -1);
	return rc;
}
ssize_t pread64(int fd, void *b, size_t n, off_t o) { return pread(fd, b, n, o); }
ssize_t pwrite64(int fd, const void *b, size_t n, off_t o) { return pwrite(fd, b, n, o); }
C
	cc -shared -fPIC -o fault.so fault.c -ldl ||
	    skip "cannot build a shared object"
}

# with_fault WHICH CALL WHAT COMMAND...: run COMMAND with fault.so doing
# WHAT (cut, INT, TERM, enospc, short, stuck, fill) just before its CALLth WHICH (pread, pwrite).
with_fault() {
	local which=$1 call=$2 what=$3
	shift 3
	FAULT_WHICH=$which FAULT_CALL=$call FAULT_DO=$what \
	    LD_PRELOAD=$PWD/fault.so \
	    ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0 \
	    "$@"
}

# mount_fs TYPE: a fresh file system of TYPE at ./mnt (MNT), or skip
# saying why: tmpfs, ramfs (whose SEEK_HOLE sees no holes: the whole
# file is data), or a loop-mounted ext4, xfs or btrfs.  XFS gets
# reflinks, so that a reflinked twin makes every overwrite copy on write.
# The test's teardown calls umount_fs.
mount_fs() {
	[ "$(id -u)" = 0 ] || skip "needs root to mount a file system"
	mkdir -p mnt
	case $1 in
	tmpfs)
		mount -t tmpfs -o size=64m tmpfs mnt 2>/dev/null ||
		    skip "cannot mount a tmpfs here"
		;;
	ramfs)
		mount -t ramfs ramfs mnt 2>/dev/null ||
		    skip "cannot mount a ramfs here"
		;;
	ext4|xfs|btrfs)
		command -v "mkfs.$1" >/dev/null ||
		    skip "mkfs.$1 is not installed (bootstrap installs it)"
		truncate -s 300M "$1.img"
		case $1 in
		ext4) mkfs.ext4 -q -F "$1.img" ;;
		xfs) mkfs.xfs -q -f -m reflink=1 "$1.img" ;;
		btrfs) mkfs.btrfs -q -f "$1.img" >/dev/null 2>&1 ;;
		esac || skip "mkfs.$1 failed"
		mount -o loop "$1.img" mnt 2>/dev/null ||
		    skip "cannot mount a loop device here"
		;;
	esac
	MNT=$PWD/mnt
}

# cut_mid_output FILE COMMAND...: run COMMAND with its standard output
# into a pipe that takes 1 MiB, then cuts FILE to 4096 bytes and drains
# the rest, so that the cut lands while COMMAND waits on the full pipe,
# mid-file, whatever its speed.  COMMAND's exit status goes to ./rc as
# "rc=N", its standard error to ./err.
cut_mid_output() {
	local file=$1
	shift
	( set +e; "$@"; echo "rc=$?" >rc ) 2>err | {
		head -c 1M >/dev/null
		truncate -s 4096 "$file"
		cat >/dev/null
	}
}

# teardown_mnt_immutable: from teardown, undo what a failing test may
# leave behind to block the cleanup of its directory: IMMUTABLE (a file
# made immutable with chattr +i) and MNT (a mount), where set.
teardown_mnt_immutable() {
	cd /
	if [ -n "${IMMUTABLE:-}" ]; then
		chattr -i "$IMMUTABLE" 2>/dev/null || true
	fi
	umount_fs
}

# umount_fs: unmount what mount_fs mounted, if anything (from teardown,
# after leaving the mount).
umount_fs() {
	if [ -n "${MNT:-}" ]; then
		umount "$MNT" 2>/dev/null || umount -l "$MNT" 2>/dev/null || true
		MNT=
	fi
}
