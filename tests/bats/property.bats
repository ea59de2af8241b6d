#!/usr/bin/env bats
# property.bats - random operations on random files, each run through the
# applet and through a model of Python's mmap semantics (property.py),
# compared after every step: exit status, output, messages, every byte of
# the file.  About 5000 cases in all; under valgrind every MM_STRIDE-th.
# A failure prints the command and the seed that reproduce it:
#   cd /tmp/x && PATH=src:$PATH python3 tests/bats/property.py APPLET SEED N

load helpers

setup() {
	cd "$BATS_TEST_TMPDIR"
}

# property APPLET CASES SEED...: CASES operations from each seed.
property() {
	local applet=$1 cases=$2 seed
	shift 2
	need_python
	# Under valgrind a case costs a second: every 35th is plenty.
	local stride=$((MM_STRIDE == 1 ? 1 : MM_STRIDE * 5))
	for seed in "$@"; do
		# Not under run: the mismatch report shows with the failure.
		"$PYTHON3" "$MM_SRCDIR/tests/bats/property.py" \
		    "$applet" "$seed" "$cases" "$stride" ||
		    fail "property.py $applet $seed $cases: a mismatch"
	done
}

@test "mmread agrees with mmap.read, read_byte, readline and size on random files" {
	property read 200 1 2 3
}

@test "mmfind agrees with find and rfind (-a, -r, -c, --overlap, -i, ??, -s, -E, -m) on random files" {
	property find 250 1 2 3 4
}

@test "mmpatch agrees with slice assignment (batches, --repeat, --expect) on random files" {
	property patch 200 1 2 3
}

@test "mmmove agrees with mmap.move on random files" {
	property move 200 1 2 3
}

@test "mmresize agrees with mmap.resize and truncate's grammar (--at, --fill) on random files" {
	property resize 200 1 2 3
}

@test "mmflush and mmadvise check their ranges as mmap.flush and mmap.madvise do" {
	property flush 200 1 2
	property advise 200 1 2
}

@test "mixed sequences of every applet keep the file equal to the model" {
	property mixed 400 1 2 3 4 5
}
