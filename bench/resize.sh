#!/bin/bash
# bench/resize.sh [BUILDDIR] - how mmresize's cost scales, side by side
# with truncate(1), fallocate(1) and an in-process memmove (Python mmap).
#
#   1. grow and shrink by 1 GiB: a 10 GiB sparse file vs a 1 MiB file
#      (goal: ratio <= 1.2, the cost does not depend on the size);
#   2. --at insert/remove of 4 KiB at offset 0: a 1 GiB file vs a 1 MiB
#      file (goal: ratio <= 1.5, insert/collapse range);
#   3. unaligned --at insert/remove of 100 bytes at offset 1 of a 512 MiB
#      file vs Python's mmap resize+move timed in-process (goal: mmresize
#      bandwidth >= 0.7 x memmove's).
#
# Files live in a temporary directory under /work (or $TMPDIR), removed
# at the end.  Prints medians (ms) and ratios.  RUNS=N changes the count.
set -eu

here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$here}
MM=$build/src/mmutils
[ -x "$MM" ] || { echo "resize.sh: $MM not found; build first" >&2; exit 2; }
RUNS=${RUNS:-21}
PY=${PYTHON3:-python3}

base=/work
[ -d "$base" ] && [ -w "$base" ] || base=${TMPDIR:-/var/tmp}
dir=$(mktemp -d "$base/tmp-bench-resize.XXXXXX")
trap 'rm -rf "$dir"' EXIT
cd "$dir"

now() { date +%s%N; }

# pair_ms FN A B: run "FN A" and "FN B" alternately, RUNS times each
# (so both see the same machine load); print both medians in ms.
pair_ms() {
	local i t0 t1 t2 out
	out=$(mktemp "$dir/times.XXXXXX")
	for i in $(seq 1 "$RUNS"); do
		t0=$(now); "$1" "$2" >/dev/null
		t1=$(now); "$1" "$3" >/dev/null
		t2=$(now)
		echo "$(( (t1 - t0) / 1000 )) $(( (t2 - t1) / 1000 ))"
	done >"$out"
	echo "$(median_col 1 "$out") $(median_col 2 "$out")"
	rm -f "$out"
}

median_col() {	# median_col N FILE: median of column N, us -> ms
	awk -v c="$1" '{ print $c }' "$2" | sort -n |
	    awk '{ a[NR] = $1 } END { printf "%.2f", a[int((NR + 1) / 2)] / 1000 }'
}

row() {	# label a b: "a ms  b ms  b/a"
	awk -v l="$1" -v a="$2" -v b="$3" 'BEGIN {
	    printf "%-44s %10.2f %10.2f %8.2f\n", l, a, b, (a > 0 ? b / a : 0) }'
}

mmr() { "$MM" resize "$@"; }
grow_shrink() { mmr "$1" +1G && mmr "$1" -1G; }
trunc_grow_shrink() { truncate -s +1G "$1" && truncate -s -1G "$1"; }
at_insert_remove() { mmr --at=0 "$1" +4K && mmr --at=0 "$1" -4K; }
fa_insert_remove() {
	fallocate --insert-range -o 0 -l 4096 "$1" &&
	    fallocate --collapse-range -o 0 -l 4096 "$1"
}

echo "mmresize benchmark: $(uname -r), $(nproc) CPUs, $RUNS runs each"
echo "work dir: $dir ($(stat -f -c %T "$dir"), block $(stat -f -c %S "$dir"))"
echo

truncate -s 10G sparse10g
head -c 1M /dev/urandom >small1m

printf '%-44s %10s %10s %8s\n' "1. grow +1G then shrink -1G (ms)" "1 MiB" "10 GiB" "ratio"
read -r a b < <(pair_ms grow_shrink small1m sparse10g)
row "mmresize" "$a" "$b"
read -r ta tb < <(pair_ms trunc_grow_shrink small1m sparse10g)
row "truncate -s" "$ta" "$tb"
row "mmresize vs truncate (10 GiB; >1 slower)" "$tb" "$b"
echo

dd if=/dev/zero of=data1g bs=1M count=1024 status=none
cp small1m data1m
sync data1g data1m
printf '%-44s %10s %10s %8s\n' "2. --at=0 insert 4K then remove 4K (ms)" "1 MiB" "1 GiB" "ratio"
if fallocate --insert-range -o 0 -l 4096 data1m 2>/dev/null &&
    fallocate --collapse-range -o 0 -l 4096 data1m 2>/dev/null; then
	at_insert_remove data1g	# drops the tail's page cache once
	read -r a b < <(pair_ms at_insert_remove data1m data1g)
	row "mmresize --at" "$a" "$b"
	read -r fa fb < <(pair_ms fa_insert_remove data1m data1g)
	row "fallocate --insert/--collapse-range" "$fa" "$fb"
	row "mmresize vs fallocate (1 GiB; >1 slower)" "$fb" "$b"
else
	echo "   (skipped: $(stat -f -c %T .) has no insert/collapse range)"
fi
rm -f data1g data1m
echo

# 3. The tail moves: compare with memmove in-process.
"$PY" -c '
import sys
blk = bytes(range(256)) * 4096
with open("tail", "wb") as f:
    for i in range(512):
        f.write(blk)'
cat tail >/dev/null
pymove() {	# Python mmap: +100 at 1 then -100; medians in ms, in-process
	"$PY" - "$1" "$RUNS" <<'PY'
import mmap, statistics, sys, time
path, runs = sys.argv[1], int(sys.argv[2])

def insert(m, old):
    m.resize(old + 100)
    m.move(101, 1, old - 1)
    m[1:101] = b"\0" * 100

def remove(m, old):
    m.move(1, 101, old - 1)
    m.resize(old)

# Warm: one mapping for every run, its page faults paid once.
ins, rem = [], []
with open(path, "r+b") as f:
    m = mmap.mmap(f.fileno(), 0)
    old = len(m)
    for _ in range(runs):
        t = time.perf_counter(); insert(m, old); ins.append(time.perf_counter() - t)
        t = time.perf_counter(); remove(m, old); rem.append(time.perf_counter() - t)
    m.close()
# Fresh: open and map for each step, as a command must.
fins, frem = [], []
for _ in range(min(runs, 5)):
    for step, out in ((insert, fins), (remove, frem)):
        t = time.perf_counter()
        with open(path, "r+b") as f:
            m = mmap.mmap(f.fileno(), 0)
            step(m, len(m) if step is insert else len(m) - 100)
            m.close()
        out.append(time.perf_counter() - t)
print(" ".join("%.2f" % (statistics.median(v) * 1e3)
               for v in (ins, rem, fins, frem)))
PY
}
mm_ins() { MMUTILS_NO_FALLOCATE=1 mmr --at=1 tail +100; }
mm_rem() { MMUTILS_NO_FALLOCATE=1 mmr --at=1 tail -- -100; }
mm_step() { if [ "$1" = ins ]; then mm_ins; else mm_rem; fi; }
read -r pi pr pfi pfr < <(pymove tail)
read -r mi mr < <(pair_ms mm_step ins rem)
printf '%-34s %9s %9s %9s %7s %7s\n' "3. unaligned 100 B at 1, 512 MiB" \
    "memmove" "memmove" "mmresize" "bw" "bw"
printf '%-34s %9s %9s %9s %7s %7s\n' "   tail (ms)" "warm map" \
    "fresh map" "" "warm" "fresh"
for r in "insert (grow, move up) $pi $pfi $mi" \
    "remove (move down, shrink) $pr $pfr $mr"; do
	set -- $r
	awk -v l="$1 $2 $3 $4" -v a="$5" -v f="$6" -v b="$7" 'BEGIN {
	    printf "%-34s %9.2f %9.2f %9.2f %7.2f %7.2f\n", l, a, f, b,
	        a / b, f / b }'
done
echo
echo "Goals: 1. ratio <= 1.2; 2. ratio <= 1.5; 3. bw ratio >= 0.7"
echo "(bw = memmove time / mmresize time.  memmove is Python's mmap.move,"
echo " timed in-process: 'warm' reuses one mapping whose page faults were"
echo " paid before; 'fresh' opens and maps the file for each step, as a"
echo " command must.  mmresize is a whole process: exec, open, lock, map.)"
