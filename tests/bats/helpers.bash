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
