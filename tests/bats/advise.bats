#!/usr/bin/env bats
# advise.bats - mmadvise: madvise over a file, evict, page-cache residency.

load helpers

setup() {
	cd "$BATS_TEST_TMPDIR"
	PS=$(getconf PAGESIZE)
	# 64 pages of reproducible bytes, and a partial 65th.
	randfile data.bin $((64 * PS + 100)) 7
}

teardown() {
	[ -z "${MOUNTED:-}" ] || umount "$MOUNTED"
	[ -z "${LOOPDEV:-}" ] || losetup -d "$LOOPDEV"
	# An immutable file left behind by a failing test blocks cleanup.
	[ ! -e "$BATS_TEST_TMPDIR/ro.bin" ] ||
	    chattr -i "$BATS_TEST_TMPDIR/ro.bin" 2>/dev/null || true
}

# resident FILE: the R of "FILE: R/N pages resident (P%)".
resident() {
	mmadvise "$1" | sed -n 's/^.*: \([0-9]*\)\/[0-9]* pages resident.*/\1/p'
}

# cold FILE: evict FILE, or skip where the page cache keeps it (tmpfs).
cold() {
	mmadvise "$1" evict
	[ "$(resident "$1")" = 0 ] ||
	    skip "eviction does not work on this file system ($(stat -f -c %T .))"
}

@test "mmadvise FILE prints 'FILE: R/N pages resident (P%)'" {
	run -0 --separate-stderr mmadvise data.bin
	assert_output --regexp '^data\.bin: [0-9]+/65 pages resident \(([0-9]+|[0-9]+\.[0-9])%\)$'
	[ -z "$stderr" ]
}

@test "mmadvise willneed --wait makes the whole file resident" {
	cold data.bin
	before=$(sum data.bin)
	run -0 --separate-stderr mmadvise data.bin willneed --wait
	[ -z "$stderr" ]
	run -0 mmadvise data.bin
	assert_output "data.bin: 65/65 pages resident (100%)"
	run -0 mmadvise --bytes data.bin
	assert_output "data.bin: $((64 * PS + 100))/$((64 * PS + 100)) bytes resident (100%)"
	assert_equal "$(sum data.bin)" "$before"
}

@test "mmadvise populate-read brings a range in and nothing else" {
	cold data.bin
	run -0 mmadvise data.bin populate-read $((8 * PS)) $((2 * PS))
	run -0 mmadvise --map data.bin
	# Readahead may bring neighbours; the range itself must be there.
	mmadvise --map=missing data.bin | while read -r o l; do
		[ $((o + l)) -le $((8 * PS)) ] || [ "$o" -ge $((10 * PS)) ] ||
		    fail "page in $o+$l is missing"
	done
	[ "$(resident data.bin)" -ge 2 ]
}

@test "mmadvise evict drops a clean file from the page cache" {
	cat data.bin >/dev/null
	[ "$(resident data.bin)" -gt 0 ]
	before=$(sum data.bin)
	run -0 --separate-stderr mmadvise data.bin evict
	[ -z "$stderr" ]
	r=$(resident data.bin)
	[ "$r" = 0 ] ||
	    skip "eviction does not work on this file system ($(stat -f -c %T .))"
	assert_equal "$(sum data.bin)" "$before"
}

@test "mmadvise evict of a range drops only the pages of that range" {
	cat data.bin >/dev/null
	cold data.bin
	cat data.bin >/dev/null
	run -0 mmadvise data.bin evict $((PS + 1)) $((2 * PS))
	# Bytes PS+1 .. 3PS widen to pages 1, 2 and 3.
	run -0 mmadvise --map=missing data.bin
	assert_output "$PS $((3 * PS))"
}

@test "dirty pages written through another process's mapping survive evict" {
	need_python
	printf 'x%.0s' $(seq 1 $((16 * PS))) >dirty.bin
	sync dirty.bin
	# Write through a shared mapping and exit without flushing.
	"$PYTHON3" -c '
import mmap, sys
with open(sys.argv[1], "r+b") as f:
    m = mmap.mmap(f.fileno(), 0)
    m[5000:5012] = b"dirty pages!"
    m[9 * mmap.PAGESIZE:9 * mmap.PAGESIZE + 4] = b"more"
    m.close()
' dirty.bin
	run -0 --separate-stderr mmadvise dirty.bin evict
	[ -z "$stderr" ]
	# What is on the disk, bypassing the page cache.
	dd if=dirty.bin of=disk.copy bs=$PS iflag=direct status=none ||
	    skip "O_DIRECT reads are not supported here"
	assert_equal "$(dd if=disk.copy bs=1 skip=5000 count=12 status=none)" \
	    "dirty pages!"
	assert_equal "$(dd if=disk.copy bs=1 skip=$((9 * PS)) count=4 status=none)" \
	    "more"
	assert_equal "$(sum disk.copy)" "$(sum dirty.bin)"
}

@test "dirty pages of a process still writing survive evict" {
	need_python
	printf 'y%.0s' $(seq 1 $((4 * PS))) >live.bin
	sync live.bin
	"$PYTHON3" -c '
import mmap, sys, time
with open(sys.argv[1], "r+b") as f:
    m = mmap.mmap(f.fileno(), 0)
    m[100:104] = b"live"
    open(sys.argv[2], "w").close()
    time.sleep(30)
' live.bin ready &
	pid=$!
	for _ in $(seq 1 100); do [ -e ready ] && break; sleep 0.05; done
	run -0 mmadvise live.bin evict
	dd if=live.bin of=disk.copy bs=$PS iflag=direct status=none ||
	    { kill "$pid"; skip "O_DIRECT reads are not supported here"; }
	kill "$pid"
	wait "$pid" || true
	assert_equal "$(dd if=disk.copy bs=1 skip=100 count=4 status=none)" "live"
}

@test "mmadvise --map ranges round-trip into willneed" {
	cold data.bin
	mmadvise data.bin willneed --wait
	mmadvise data.bin evict 0 $((8 * PS))
	mmadvise data.bin evict $((20 * PS)) $((5 * PS))
	run -0 --separate-stderr mmadvise --map=missing data.bin
	assert_output "$(printf '0 %d\n%d %d' $((8 * PS)) $((20 * PS)) $((5 * PS)))"
	[ -z "$stderr" ]
	# Feed the missing ranges back: then nothing is missing.
	mmadvise --map=missing data.bin | while read -r o l; do
		mmadvise data.bin willneed "$o" "$l" --wait
	done
	run -0 mmadvise --map=missing data.bin
	assert_output ""
	run -0 mmadvise --map data.bin
	assert_output "0 $((64 * PS + 100))"
}

@test "mmadvise --map, --map=missing and --map=all tile the file" {
	cold data.bin
	mmadvise data.bin willneed --wait
	mmadvise data.bin evict 0 $((3 * PS))
	mmadvise data.bin evict $((4 * PS)) $((26 * PS))
	mmadvise data.bin evict $((34 * PS))
	size=$((64 * PS + 100))
	all=$(mmadvise --map=all data.bin)
	# Runs are in order, contiguous, alternate, and end at the size.
	next=0 last=""
	while read -r o l state; do
		[ "$o" = "$next" ] || fail "gap or overlap at $o"
		[ "$state" != "$last" ] || fail "two $state runs in a row"
		next=$((o + l)) last=$state
	done <<<"$all"
	assert_equal "$next" "$size"
	assert_equal "$(mmadvise --map data.bin)" \
	    "$(awk '$3 == "resident" { print $1, $2 }' <<<"$all")"
	assert_equal "$(mmadvise --map=missing data.bin)" \
	    "$(awk '$3 == "missing" { print $1, $2 }' <<<"$all")"
	assert_equal "$(mmadvise --map data.bin)" \
	    "$(printf '%d %d\n%d %d' $((3 * PS)) $PS $((30 * PS)) $((4 * PS)))"
}

@test "mmadvise agrees with fincore on the number of resident pages" {
	command -v fincore >/dev/null || skip "fincore is not installed"
	cold data.bin
	mmadvise data.bin willneed --wait
	mmadvise data.bin evict $((10 * PS)) $((7 * PS))
	[ "$(resident data.bin)" = 58 ]
	want=$(fincore --raw --noheadings --output PAGES data.bin)
	assert_equal "$(resident data.bin)" "$want"
}

@test "mmadvise reports several FILEs, and a failing one does not stop the rest" {
	printf 'abc' >small
	: >empty
	run -2 --separate-stderr mmadvise data.bin nosuch small empty
	assert_line --index 0 --regexp '^data\.bin: [0-9]+/65 pages resident'
	assert_line --index 1 --regexp '^small: [01]/1 pages resident'
	assert_line --index 2 "empty: 0/0 pages resident (100%)"
	assert_equal "$stderr" "mmadvise: nosuch: No such file or directory"
}

@test "mmadvise --map with several FILEs prefixes each line with FILE:" {
	printf 'abc' >small
	cat small >/dev/null
	run -0 mmadvise --map=all small small
	assert_output "$(printf 'small: 0 3 resident\nsmall: 0 3 resident')"
}

@test "an empty file has 0/0 pages, 100%, no ranges, and takes advice" {
	: >empty
	run -0 --separate-stderr mmadvise empty
	assert_output "empty: 0/0 pages resident (100%)"
	run -0 mmadvise --map=all empty
	assert_output ""
	run -0 --separate-stderr mmadvise empty willneed --wait
	[ -z "$stderr" ]
	run -0 mmadvise empty evict
	run -2 --separate-stderr mmadvise empty willneed 0
	assert_output ""
	[[ "$stderr" == *"empty: offset 0 is the end of the file, not inside it (size 0)"* ]]
}

@test "a huge sparse file is measured without being touched" {
	truncate -s 64G sparse.img || skip "cannot make a 64 GiB sparse file here"
	printf 'end' | dd of=sparse.img bs=1 seek=$((64 << 30)) conv=notrunc status=none
	blocks=$(stat -c %b sparse.img)
	run -0 --separate-stderr mmadvise sparse.img
	assert_output --regexp '^sparse\.img: [0-9]+/16777217 pages resident'
	run -0 mmadvise --map=missing sparse.img
	assert_equal "$(stat -c %b sparse.img)" "$blocks"
	[ "$(stat -c %s sparse.img)" = $(((64 << 30) + 3)) ]
}

@test "mmadvise gives advice with a negative OFFSET and hex numbers" {
	before=$(sum data.bin)
	run -0 --separate-stderr mmadvise data.bin sequential -0x1000
	[ -z "$stderr" ]
	run -0 mmadvise data.bin random 0x10 1K
	run -0 mmadvise data.bin normal -- -1 1
	run -0 mmadvise data.bin MADV_WILLNEED 0 1
	run -0 mmadvise data.bin dontneed
	run -0 mmadvise data.bin cold
	run -0 mmadvise data.bin pageout
	run -0 mmadvise data.bin hugepage
	run -0 mmadvise data.bin nohugepage
	run -0 mmadvise data.bin dontdump
	run -0 mmadvise data.bin dodump
	assert_equal "$(sum data.bin)" "$before"
}

@test "mmadvise -v says what was done" {
	run -0 --separate-stderr mmadvise -v data.bin willneed 100 10
	assert_output ""
	assert_equal "$stderr" "mmadvise: data.bin: willneed: bytes [100, 110) (1 page)"
}

@test "pageout after cold reclaims the cached pages of the file" {
	cat data.bin >/dev/null
	cold data.bin
	cat data.bin >/dev/null
	[ "$(resident data.bin)" -gt 0 ]
	run -0 mmadvise data.bin pageout
	[ "$(resident data.bin)" -lt 65 ] ||
	    skip "this kernel kept every page after pageout"
}

@test "mmadvise refuses an unknown advice, exit 2, file unchanged" {
	before=$(sum data.bin)
	run -2 --separate-stderr mmadvise data.bin frobnicate
	assert_output ""
	[[ "$stderr" == *"unknown advice 'frobnicate'"* ]]
	[[ "$stderr" == *"Try 'mmadvise --help'"* ]]
	run -2 --separate-stderr mmadvise data.bin frobnicate 0 10
	[[ "$stderr" == *"unknown advice 'frobnicate'"* ]]
	assert_equal "$(sum data.bin)" "$before"
}

@test "an advice the kernel rejects for a file is an error naming it" {
	before=$(sum data.bin)
	run -2 --separate-stderr mmadvise data.bin free
	assert_output ""
	assert_equal "$stderr" \
	    "mmadvise: data.bin: this kernel does not support advice 'free' on a mapped file"
	run -2 --separate-stderr mmadvise data.bin wipeonfork
	[[ "$stderr" == *"advice 'wipeonfork'"* ]]
	assert_equal "$(sum data.bin)" "$before"
}

@test "an advice this build lacks is an error naming it" {
	missing=$(mmadvise --list | sed -n 's/^\([a-z-]*\) .*(not in this build)$/\1/p' | head -1)
	[ -n "$missing" ] || skip "this build knows every advice"
	run -2 --separate-stderr mmadvise data.bin "$missing"
	[[ "$stderr" == *"advice '$missing' is not known to this build"* ]]
}

@test "mmadvise agrees with Python's mmap.madvise on which advice a file takes" {
	need_python
	while read -r name _; do
		case "$name" in evict|remove|populate-write) continue ;; esac
		py=$("$PYTHON3" -c '
import mmap, sys
name = "MADV_" + sys.argv[2].upper().replace("-", "_")
if not hasattr(mmap, name):
    print("absent"); sys.exit()
with open(sys.argv[1], "rb") as f:
    m = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
    try:
        m.madvise(getattr(mmap, name)); print("ok")
    except OSError:
        print("error")
' data.bin "$name")
		[ "$py" = absent ] && continue
		run mmadvise data.bin "$name"
		if [ "$py" = ok ]; then
			[ "$status" = 0 ] || fail "$name: Python ok, mmadvise $status"
		else
			[ "$status" = 2 ] || fail "$name: Python failed, mmadvise $status"
		fi
	done < <(mmadvise --list)
}

@test "mmadvise refuses ranges outside the file, exit 2, file unchanged" {
	size=$((64 * PS + 100))
	before=$(sum data.bin)
	run -2 --separate-stderr mmadvise data.bin willneed $size
	[[ "$stderr" == *"data.bin: offset $size is the end of the file, not inside it (size $size)"* ]]
	run -2 --separate-stderr mmadvise data.bin willneed 0 $((size + 1))
	[[ "$stderr" == *"data.bin: range [0, $((size + 1))) ($((size + 1)) bytes) passes the end of the file (size $size)"* ]]
	run -2 --separate-stderr mmadvise data.bin willneed 1 $size
	run -2 --separate-stderr mmadvise data.bin willneed -- -$((size + 1))
	[[ "$stderr" == *"is before the start of the file"* ]]
	run -2 --separate-stderr mmadvise data.bin willneed 0 -5
	[[ "$stderr" == *"length '-5' must not be negative"* ]]
	run -2 --separate-stderr mmadvise data.bin willneed 0 16E
	[[ "$stderr" == *"too large"* ]]
	run -2 --separate-stderr mmadvise data.bin willneed 0x 1
	[[ "$stderr" == *"invalid offset '0x'"* ]]
	run -2 --separate-stderr mmadvise data.bin evict 0 $((size + 1))
	run -2 --separate-stderr mmadvise data.bin remove 0 $((size + 1))
	assert_equal "$(sum data.bin)" "$before"
}

@test "mmadvise refuses a missing file, a directory, a FIFO and /dev/null" {
	run -2 --separate-stderr mmadvise nosuch willneed
	assert_equal "$stderr" "mmadvise: nosuch: No such file or directory"
	run -2 --separate-stderr mmadvise . willneed
	assert_equal "$stderr" "mmadvise: .: is a directory"
	run -2 --separate-stderr mmadvise .
	assert_equal "$stderr" "mmadvise: .: is a directory"
	mkfifo fifo
	run -2 --separate-stderr timeout 10 mmadvise fifo evict
	[[ "$stderr" == "mmadvise: fifo: cannot be mapped"* ]]
	run -2 --separate-stderr timeout 10 mmadvise fifo
	[[ "$stderr" == "mmadvise: fifo: cannot be mapped"* ]]
	run -2 --separate-stderr mmadvise /dev/null willneed
	[[ "$stderr" == "mmadvise: /dev/null: cannot be mapped"* ]]
	run -2 --separate-stderr bash -c 'cat data.bin | mmadvise -'
	[[ "$stderr" == "mmadvise: -: cannot be mapped"* ]]
	# Standard input that is a regular file is mapped.
	run -0 --separate-stderr mmadvise - < data.bin
	assert_output --regexp '^-: [0-9]+/65 pages resident'
}

@test "mmadvise remove punches a hole: the range reads back as zeros" {
	cp data.bin hole.bin
	run --separate-stderr mmadvise hole.bin remove $PS $((2 * PS))
	if [ "$status" = 2 ] && [[ "$stderr" == *"cannot punch holes"* ]]; then
		skip "this file system cannot punch holes"
	fi
	assert_equal "$status" 0
	[ -z "$stderr" ]
	assert_equal "$(stat -c %s hole.bin)" "$((64 * PS + 100))"
	cmp -n $PS hole.bin data.bin
	assert_equal "$(dd if=hole.bin bs=$PS skip=1 count=2 status=none | tr -d '\0' | wc -c)" 0
	cmp <(tail -c +$((3 * PS + 1)) hole.bin) <(tail -c +$((3 * PS + 1)) data.bin)
}

@test "mmadvise remove on an immutable file fails and changes nothing" {
	[ "$(id -u)" = 0 ] || skip "needs root for chattr +i"
	cp data.bin ro.bin
	chattr +i ro.bin 2>/dev/null || skip "chattr +i is not supported here"
	before=$(sum ro.bin)
	run -2 --separate-stderr mmadvise ro.bin remove
	[[ "$stderr" == "mmadvise: ro.bin: "* ]]
	run -2 --separate-stderr mmadvise ro.bin populate-write
	[[ "$stderr" == "mmadvise: ro.bin: "* ]]
	assert_equal "$(sum ro.bin)" "$before"
}

@test "residency hidden by the kernel is an error, not a false 100%" {
	need_nobody
	f=$(shared_copy data.bin 644)
	run -2 --separate-stderr as_nobody mmadvise "$f"
	run_stderr=$stderr
	run -0 as_nobody mmadvise "$f" willneed
	rm -rf "${f%/*}"
	[[ "$run_stderr" == *"Linux shows page-cache residency only to the file's owner"* ]]
}

@test "mmadvise --list names every advice with a description" {
	run -0 --separate-stderr mmadvise --list
	for a in normal random sequential willneed dontneed free remove \
	    dontfork dofork mergeable unmergeable hugepage nohugepage \
	    dontdump dodump wipeonfork keeponfork cold pageout \
	    populate-read populate-write collapse evict; do
		assert_line --regexp "^$a +[a-z]"
	done
}

@test "a file spelt like an advice is an advice; ./NAME is a file" {
	printf 'abc' >willneed
	run -0 mmadvise data.bin willneed
	assert_output ""
	run -0 mmadvise data.bin ./willneed
	assert_line --index 1 --regexp '^\./willneed: [01]/1 pages resident'
	printf 'abc' >other
	run -0 mmadvise data.bin other
	assert_line --index 1 --regexp '^other: [01]/1 pages resident'
}

@test "mmadvise rejects options that do not fit, exit 2 with a Try line" {
	run -2 --separate-stderr mmadvise
	[[ "$stderr" == *"missing FILE operand"* ]]
	run -2 --separate-stderr mmadvise --map data.bin willneed
	[[ "$stderr" == *"take no ADVICE"* ]]
	run -2 --separate-stderr mmadvise --bytes data.bin evict
	run -2 --separate-stderr mmadvise --wait data.bin cold
	[[ "$stderr" == *"--wait goes with willneed"* ]]
	run -2 --separate-stderr mmadvise --wait data.bin
	run -2 --separate-stderr mmadvise --timeout=5 data.bin willneed
	[[ "$stderr" == *"--timeout goes with --wait"* ]]
	run -2 --separate-stderr mmadvise --wait --timeout=soon data.bin willneed
	[[ "$stderr" == *"invalid --timeout 'soon'"* ]]
	run -2 --separate-stderr mmadvise --map=everything data.bin
	[[ "$stderr" == *"invalid --map 'everything'"* ]]
	run -2 --separate-stderr mmadvise data.bin willneed 0 1 2
	[[ "$stderr" == *"extra operand '2'"* ]]
	run -2 --separate-stderr mmadvise --list data.bin
	[[ "$stderr" == *"Try 'mmadvise --help'"* ]]
}

@test "--progress draws nothing when standard error is not a terminal" {
	run -0 --separate-stderr mmadvise --progress data.bin willneed --wait
	[ -z "$stderr" ]
}

@test "mmadvise --wait --timeout gives up with a message when it must" {
	randfile big.bin $((4 << 20)) 3
	cold big.bin
	run -0 mmadvise big.bin willneed --wait --timeout=60
	run -0 mmadvise big.bin
	assert_output "big.bin: 1024/1024 pages resident (100%)"
	# Cold again, and far too little time: the reads are still under way
	# when the deadline passes (a very fast disk may still make it).
	cold big.bin
	run --separate-stderr mmadvise big.bin willneed --wait --timeout=0.000001
	if [ "$status" = 2 ]; then
		[ -z "$output" ]
		[[ "$stderr" =~ ^"mmadvise: big.bin: only "[0-9]+"/1024 pages resident (".*"%) after 1e-06 seconds"$ ]]
	else
		assert_equal "$status" 0
	fi
}

# ------------------------------------------------------------ remove is exact

# zeroed SRC DEST OFF [LEN]: DEST is SRC with [OFF, OFF+LEN) zeroed (LEN
# defaults to the rest), the answer remove must give, worked out apart.
zeroed() {
	local size
	size=$(stat -c %s "$1")
	cp "$1" "$2"
	head -c "${4:-$((size - $3))}" /dev/zero |
	    dd of="$2" bs=64K seek="$3" oflag=seek_bytes conv=notrunc status=none
}

# remove_exact FILE OFF [LEN]: mmadvise FILE remove OFF [LEN] zeroes
# exactly those bytes, as dd and fallocate --punch-hole on a twin say,
# and keeps the size.
remove_exact() {
	local f=$1 off=$2 len=${3:-} size
	size=$(stat -c %s "$f")
	zeroed "$f" want "$off" $len
	cp "$f" twin
	run -0 --separate-stderr mmadvise "$f" remove "$off" $len
	[ -z "$stderr" ] || fail "remove $off $len: $stderr"
	assert_equal "$(stat -c %s "$f")" "$size"
	cmp "$f" want || fail "remove $off $len is not exact"
	if command -v fallocate >/dev/null &&
	    fallocate --punch-hole --offset "$off" --length \
	    "${len:-$((size - off))}" twin; then
		cmp "$f" twin || fail "remove $off $len differs from fallocate"
	fi
}

# remove_cases DIR: the exact cases, in DIR.
remove_cases() {
	local d=$1 size=$((3 * PS + 100))
	head -c 8192 /dev/zero | tr '\0' A >"$d/a.bin"
	remove_exact "$d/a.bin" 100 10
	head -c 8192 /dev/zero | tr '\0' A >"$d/a.bin"
	remove_exact "$d/a.bin" 4000 200
	head -c $size data.bin >"$d/r.bin"
	remove_exact "$d/r.bin" 0 1
	# Three pages touched, neither end aligned.
	head -c $size data.bin >"$d/r.bin"
	remove_exact "$d/r.bin" $((PS - 10)) $((PS + 20))
	head -c $size data.bin >"$d/r.bin"
	remove_exact "$d/r.bin" 100 $((3 * PS - 50))
	# Ends at the end of the file, inside its partial last page.
	head -c $size data.bin >"$d/r.bin"
	remove_exact "$d/r.bin" $((PS + 50)) $((2 * PS + 50))
	head -c $size data.bin >"$d/r.bin"
	remove_exact "$d/r.bin" $((3 * PS + 10))
	# The default range: the whole file, to the end.
	head -c $size data.bin >"$d/r.bin"
	run -0 --separate-stderr mmadvise "$d/r.bin" remove
	assert_equal "$(stat -c %s "$d/r.bin")" $size
	cmp "$d/r.bin" <(head -c $size /dev/zero)
	# A negative offset counts from the end.
	head -c $size data.bin >"$d/r.bin"
	zeroed "$d/r.bin" want $((size - 30))
	run -0 mmadvise "$d/r.bin" remove -- -30
	cmp "$d/r.bin" want
	# Out of range: exit 2, not one byte changed.
	head -c $size data.bin >"$d/r.bin"
	before=$(sum "$d/r.bin")
	run -2 --separate-stderr mmadvise "$d/r.bin" remove 100 $size
	[[ "$stderr" == *"passes the end of the file (size $size)"* ]]
	run -2 --separate-stderr mmadvise "$d/r.bin" remove $size 1
	[[ "$stderr" == *"is the end of the file, not inside it (size $size)"* ]]
	assert_equal "$(sum "$d/r.bin")" "$before"
}

# mount_fs TYPE MB: a fresh file system of TYPE, MB MiB, on ./mnt (loop
# mounted; unmounted by teardown); skips where it cannot be had.
mount_fs() {
	[ "$(id -u)" = 0 ] || skip "needs root to mount"
	command -v "mkfs.$1" >/dev/null || skip "mkfs.$1 is not installed"
	mkdir -p mnt
	truncate -s "${2}M" fs.img
	"mkfs.$1" -q fs.img >/dev/null 2>&1 || skip "mkfs.$1 failed here"
	mount -o loop fs.img mnt || skip "cannot loop-mount $1 here"
	MOUNTED=$PWD/mnt
}

@test "remove zeroes exactly the range, as fallocate --punch-hole does" {
	remove_cases .
}

@test "remove is exact on tmpfs" {
	[ "$(id -u)" = 0 ] || skip "needs root to mount"
	mkdir mnt
	mount -t tmpfs -o size=16m tmpfs mnt
	MOUNTED=$PWD/mnt
	remove_cases mnt
}

@test "remove is exact on ext4" {
	mount_fs ext4 32
	remove_cases mnt
}

@test "remove is exact on XFS" {
	mount_fs xfs 320
	remove_cases mnt
}

@test "remove is exact on btrfs" {
	mount_fs btrfs 128
	remove_cases mnt
}

@test "remove is exact on a block device" {
	[ "$(id -u)" = 0 ] || skip "needs root for a loop device"
	head -c $((8 * PS)) data.bin >dev.img
	LOOPDEV=$(losetup -f --show dev.img) || skip "no loop device here"
	cp dev.img cur.bin
	for r in "100 10" "$((PS - 10)) $((PS + 20))" "0 1" "$((7 * PS + 1))"; do
		zeroed cur.bin want $r
		run -0 --separate-stderr mmadvise "$LOOPDEV" remove $r
		[ -z "$stderr" ] || fail "remove $r: $stderr"
		cmp "$LOOPDEV" want || fail "remove $r is not exact"
		cp want cur.bin
	done
	assert_equal "$(blockdev --getsize64 "$LOOPDEV")" $((8 * PS))
}

@test "where the file system cannot punch holes, remove changes nothing" {
	[ "$(id -u)" = 0 ] || skip "needs root to mount"
	grep -qw ramfs /proc/filesystems || skip "no ramfs in this kernel"
	mkdir mnt
	mount -t ramfs ramfs mnt
	MOUNTED=$PWD/mnt
	cp data.bin mnt/d.bin
	fallocate --punch-hole --offset $PS --length $PS mnt/d.bin 2>/dev/null &&
	    skip "ramfs punches holes on this kernel"
	before=$(sum mnt/d.bin)
	# Partial pages at both ends, and a range inside one page.
	for r in "100 $((3 * PS))" "100 10" ""; do
		run -2 --separate-stderr mmadvise mnt/d.bin remove $r
		assert_output ""
		assert_equal "$stderr" \
		    "mmadvise: mnt/d.bin: advice 'remove': this file system cannot punch holes"
		assert_equal "$(sum mnt/d.bin)" "$before"
	done
}

@test "no advice but remove changes a byte, even of pages left dirty" {
	need_python
	head -c $((8 * PS + 100)) data.bin >live.bin
	# Another process dirties pages through a shared mapping and exits
	# without flushing: the page cache holds bytes the disk does not.
	"$PYTHON3" -c '
import mmap, sys
with open(sys.argv[1], "r+b") as f:
    m = mmap.mmap(f.fileno(), 0)
    m[90:130] = b"d" * 40
    m[4 * mmap.PAGESIZE - 5:4 * mmap.PAGESIZE + 5] = b"e" * 10
    m.close()
' live.bin
	want=$(sum live.bin)
	while read -r name _; do
		case "$name" in remove) continue ;; esac
		# Unaligned ends inside dirty pages, and the whole file.
		for r in "100 10" "$((4 * PS - 3)) 6" ""; do
			st=0
			mmadvise live.bin "$name" $r 2>/dev/null || st=$?
			[ "$st" = 0 ] || [ "$st" = 2 ] ||
			    fail "$name $r: exit $st"
		done
	done < <(mmadvise --list)
	assert_equal "$(sum live.bin)" "$want"
	mmadvise live.bin evict
	assert_equal "$(sum live.bin)" "$want"
}

@test "mmadvise with the advice before the file names the order, does nothing" {
	run -2 --separate-stderr mmadvise willneed data.bin
	assert_output ""
	assert_equal "$stderr" "mmadvise: 'willneed' is an advice, not a file (usage: mmadvise FILE ADVICE [OFFSET [LENGTH]])"
	run -2 --separate-stderr mmadvise data.bin 0 4096 willneed
	assert_equal "$stderr" "mmadvise: 'willneed' is an advice, not a file (usage: mmadvise FILE ADVICE [OFFSET [LENGTH]])"
	run -2 --separate-stderr mmadvise evict
	assert_equal "$stderr" "mmadvise: 'evict' is an advice, not a file (usage: mmadvise FILE ADVICE [OFFSET [LENGTH]])"
	# A file of that name is a file.
	cp data.bin willneed
	run -0 --separate-stderr mmadvise willneed data.bin
	assert_line --index 0 --regexp '^willneed: [0-9]+/65 pages resident'
}

# The example of mmadvise(1) under "Prefetch only what is missing", as a
# shell script.
man_prefetch_example() {
	sed -n '/^Prefetch only what is missing/,/^\.RE/p' \
	    "$MM_SRCDIR/man/mmadvise.1" | sed -n 's/^\.B //p' |
	    sed 's/^"\(.*\)"$/\1/; s/\\-/-/g'
}

@test "the man page's prefetch of what is missing makes a 64 MiB file wholly resident" {
	head -c 64M /dev/zero >data.db
	cold data.db
	# Half of it in already: the example fetches the rest.
	mmadvise --wait data.db willneed 16M 32M
	script=$(man_prefetch_example)
	[[ "$script" == *"--map=missing data.db"* ]] || fail "no example: $script"
	run -0 --separate-stderr bash -c "$script"
	[ -z "$stderr" ]
	run -0 mmadvise data.db
	n=$((64 * 1024 * 1024 / PS))
	assert_output "data.db: $n/$n pages resident (100%)"
}

@test "mmadvise words OFFSET [LENGTH] as mmflush and mmread do, file unchanged" {
	printf '%030d' 0 >r30
	before=$(sum r30)
	run -2 --separate-stderr mmadvise r30 willneed 1000
	assert_equal "$stderr" "mmadvise: r30: offset 1000 is past the end of the file (size 30)"
	run -2 --separate-stderr mmadvise r30 willneed 30
	assert_equal "$stderr" "mmadvise: r30: offset 30 is the end of the file, not inside it (size 30)"
	run -2 --separate-stderr mmadvise r30 remove 0 1000
	assert_equal "$stderr" "mmadvise: r30: range [0, 1000) (1000 bytes) passes the end of the file (size 30)"
	run -2 --separate-stderr mmflush r30 0 1000
	assert_equal "$stderr" "mmflush: r30: range [0, 1000) (1000 bytes) passes the end of the file (size 30)"
	run -2 --separate-stderr mmread r30 1000
	assert_equal "$stderr" "mmread: r30: offset 1000 is past the end of the file (size 30)"
	assert_equal "$(sum r30)" "$before"
}

@test "mmadvise -v reports in the APPLET: FILE: form" {
	printf '%030d' 0 >r30
	run -0 --separate-stderr mmadvise -v r30 willneed 0 10
	assert_equal "$stderr" "mmadvise: r30: willneed: bytes [0, 10) (1 page)"
}
