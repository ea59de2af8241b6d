#!/usr/bin/env bats
# fs.bats - every writer on real file systems: tmpfs, ext4, XFS with
# reflinked extents and btrfs, loop-mounted, at several fill levels and
# with the file system filled up by "another writer" half-way through a
# change.  Whatever happens, exit 0 means the whole change and exit 2
# means the file as it was.

load helpers

setup() {
	cd "$BATS_TEST_TMPDIR"
}

teardown() {
	cd /
	umount_fs
}

# file40: mnt/m, 40 MiB of random bytes on the file system, with a
# reflinked twin on XFS, and orig, a copy elsewhere.
file40() {
	head -c 40M /dev/urandom >orig
	cp orig mnt/m
	if [ "$1" = xfs ]; then
		cp --reflink=always mnt/m mnt/m.twin ||
		    skip "cannot reflink on this XFS"
	fi
	sync
}

# fill_to KIB: leave about KIB KiB free on mnt.
fill_to() {
	local avail
	avail=$(df -k --output=avail mnt | tail -1)
	if [ "$avail" -gt "$1" ]; then
		head -c "$(((avail - $1) * 1024))" /dev/zero >mnt/fill 2>/dev/null ||
		    true
		sync
	fi
}

# whole_or_nothing WANT: the run exited 0 and mnt/m is WANT, or exited 2
# and mnt/m is orig.
whole_or_nothing() {
	not_killed "$status"
	case $status in
	0) assert_equal "$(sum mnt/m)" "$(sum "$1")" ;;
	2) assert_equal "$(sum mnt/m)" "$(sum orig)" ;;
	*) fail "exit $status: $stderr" ;;
	esac
}

# not_killed STATUS: no signal ended the applet.
not_killed() {
	[ "$1" -lt 128 ] || fail "killed by a signal (exit $1): $stderr"
}

# expect_move DEST SRC COUNT: orig moved as Python's mmap.move would, in moved.
expect_move() {
	"$PYTHON3" -c '
import sys
d = bytearray(open("orig", "rb").read())
dest, src, n = map(int, sys.argv[1:4])
d[dest:dest + n] = d[src:src + n]
open("moved", "wb").write(d)
' "$@"
}

move_filled_midway() {
	need_python
	build_fault_shim
	mount_fs "$1"
	file40 "$1"
	expect_move 0 $((8 << 20)) 22020096
	for k in 2 6 15; do
		rm -f mnt/fill
		cp orig mnt/m
		fill_to $((60 * 1024))
		FAULT_FILL=$MNT/fill with_fault pwrite "$k" fill \
		    run --separate-stderr mmmove mnt/m 0 8M 22020096
		whole_or_nothing moved
	done
}

@test "tmpfs: a move while another writer fills the file system: all or nothing" {
	move_filled_midway tmpfs
}

@test "ext4: a move while another writer fills the file system: all or nothing" {
	move_filled_midway ext4
}

@test "xfs: a move while another writer fills the file system: all or nothing" {
	move_filled_midway xfs
}

@test "btrfs: a move while another writer fills the file system: all or nothing" {
	move_filled_midway btrfs
	# Copy on write: the fill leaves no room, and the rollback had it.
	assert_equal "$status" 2
	assert_equal "$stderr" "mmmove: mnt/m: no space left on the device for the destination; nothing moved"
}

patch_filled_midway() {
	need_python
	build_fault_shim
	mount_fs "$1"
	file40 "$1"
	"$PYTHON3" -c '
d = bytearray(open("orig", "rb").read())
d[0:22020096] = b"\xab" * 22020096
open("patched", "wb").write(d)'
	rm -f mnt/fill
	fill_to $((60 * 1024))
	FAULT_FILL=$MNT/fill with_fault populate 1 fill \
	    run --separate-stderr mmpatch --io=mmap -x ab --repeat=22020096 mnt/m 0
	whole_or_nothing patched
	# By pwrite (256 KiB each): filled up before the 3rd and the 40th.
	for k in 3 40; do
		rm -f mnt/fill
		cp orig mnt/m
		fill_to $((60 * 1024))
		FAULT_FILL=$MNT/fill with_fault pwrite "$k" fill \
		    run --separate-stderr mmpatch --io=read -x ab \
		    --repeat=22020096 mnt/m 0
		whole_or_nothing patched
	done
}

@test "tmpfs: a patch while another writer fills the file system: all or nothing" {
	patch_filled_midway tmpfs
}

@test "ext4: a patch while another writer fills the file system: all or nothing" {
	patch_filled_midway ext4
}

@test "xfs: a patch while another writer fills the file system: all or nothing" {
	patch_filled_midway xfs
}

@test "btrfs: a patch while another writer fills the file system: all or nothing" {
	patch_filled_midway btrfs
	assert_equal "$status" 2
}

# At fill levels around what the change needs, with nobody else writing.
fill_levels() {
	local fs=$1 kib
	need_python
	mount_fs "$fs"
	file40 "$fs"
	expect_move 0 $((8 << 20)) 22020096
	for kib in 8192 16384 20480 22528 32768 45056 65536; do
		rm -f mnt/fill
		cp orig mnt/m
		fill_to "$kib"
		run --separate-stderr mmmove mnt/m 0 8M 22020096
		whole_or_nothing moved
		rm -f mnt/fill
		cp orig mnt/m
		fill_to "$kib"
		run --separate-stderr mmpatch -x ab --repeat=22020096 mnt/m 0
		not_killed "$status"
		[ "$status" = 0 ] || assert_equal "$(sum mnt/m)" "$(sum orig)"
	done
}

@test "ext4: writers at seven fill levels: all or nothing" {
	fill_levels ext4
}

@test "xfs: writers at seven fill levels: all or nothing" {
	fill_levels xfs
}

@test "btrfs: writers at seven fill levels: all or nothing" {
	fill_levels btrfs
}

# mmresize --at where the tail moves (no insert/collapse range: the
# offsets are not block aligned), the file system filled half-way.
resize_filled_midway() {
	need_python
	build_fault_shim
	mount_fs "$1"
	file40 "$1"
	"$PYTHON3" -c '
d = open("orig", "rb").read()
open("inserted", "wb").write(d[:1] + bytes(1000) + d[1:])
open("removed", "wb").write(d[:1] + d[1001:])'
	for k in 2 6; do
		rm -f mnt/fill
		cp orig mnt/m
		fill_to $((60 * 1024))
		FAULT_FILL=$MNT/fill with_fault pwrite "$k" fill \
		    run --separate-stderr mmresize --at=1 mnt/m +1000
		whole_or_nothing inserted
		[ "$status" = 0 ] || assert_equal "$(stat -c %s mnt/m)" $((40 << 20))
		rm -f mnt/fill
		cp orig mnt/m
		fill_to $((60 * 1024))
		FAULT_FILL=$MNT/fill with_fault pwrite "$k" fill \
		    run --separate-stderr mmresize --at=1 mnt/m -1000
		whole_or_nothing removed
	done
}

@test "tmpfs: mmresize --at while another writer fills the file system: all or nothing" {
	resize_filled_midway tmpfs
}

@test "ext4: mmresize --at while another writer fills the file system: all or nothing" {
	resize_filled_midway ext4
}

@test "xfs: mmresize --at while another writer fills the file system: all or nothing" {
	resize_filled_midway xfs
}

@test "btrfs: mmresize --at while another writer fills the file system: all or nothing" {
	resize_filled_midway btrfs
}

# The property suite's mixed sequences (every applet against a model of
# Python's mmap, every byte compared after each step) on each file system.
mixed_on() {
	need_python
	mount_fs "$1"
	cd mnt
	"$PYTHON3" "$MM_SRCDIR/tests/bats/property.py" mixed 11 150 \
	    $((MM_STRIDE == 1 ? 1 : MM_STRIDE * 5)) ||
	    fail "property.py mixed 11 150 on $1: a mismatch"
}

@test "tmpfs: mixed sequences of every applet keep the file equal to the model" {
	mixed_on tmpfs
}

@test "ext4: mixed sequences of every applet keep the file equal to the model" {
	mixed_on ext4
}

@test "xfs: mixed sequences of every applet keep the file equal to the model" {
	mixed_on xfs
}

@test "btrfs: mixed sequences of every applet keep the file equal to the model" {
	mixed_on btrfs
}
