#!/bin/bash
# advise.sh - mmadvise against its peers, side by side:
#   residency of a 1 GiB file (cached, and cold) vs fincore and vmtouch;
#   prefetch of a cold 1 GiB file vs vmtouch -t and cat.
# Prints the median wall time of each and the ratio peer/mmadvise
# (above 1: mmadvise is faster).
#
# usage: bench/advise.sh [BUILDDIR]
#   BUILDDIR holds src/mmutils (default: the tree this script sits in).
#   MM_BENCH_DIR  where the test file goes (default /work/tmp-bench-advise,
#                 or $TMPDIR/mmbench-advise); it needs 1 GiB free.
#   MM_BENCH_MIB  the file size in MiB (default 1024).
#   MM_BENCH_RUNS runs per residency measure (default 21).
#   MM_BENCH_PRUNS runs per prefetch and evict measure (default 7).
set -eu

here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$here}
mmutils="$build/src/mmutils"
[ -x "$mmutils" ] || { echo "advise.sh: no $mmutils; build first" >&2; exit 2; }
mib=${MM_BENCH_MIB:-1024}
runs=${MM_BENCH_RUNS:-21}
pruns=${MM_BENCH_PRUNS:-7}

if [ -n "${MM_BENCH_DIR:-}" ]; then
	base=$MM_BENCH_DIR
elif [ -d /work ] && [ -w /work ]; then
	base=/work/tmp-bench-advise
else
	base=${TMPDIR:-/var/tmp}/mmbench-advise
fi
mkdir -p "$base"
dir=$(mktemp -d "$base/run.XXXXXX")
trap 'rm -rf "$dir"; rmdir "$base" 2>/dev/null || true' EXIT

# vmtouch is optional: the bench's own install, nothing else's.
if ! command -v vmtouch >/dev/null 2>&1 && [ "$(id -u)" = 0 ] &&
    command -v apt-get >/dev/null 2>&1; then
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq vmtouch \
	    >/dev/null 2>&1 || true
fi
have_vmtouch=0
command -v vmtouch >/dev/null 2>&1 && have_vmtouch=1
have_fincore=0
command -v fincore >/dev/null 2>&1 && have_fincore=1

mmadvise() { "$mmutils" advise "$@"; }

f="$dir/file.bin"
echo "advise.sh: writing a $mib MiB file in $dir ..." >&2
dd if=/dev/urandom of="$f" bs=1M count="$mib" conv=fsync status=none

# now: microseconds, from bash's clock.
now() {
	local t=${EPOCHREALTIME/./}
	echo "$t"
}

# median N...: the middle value, in milliseconds with two decimals.
median() {
	printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 }
	    END { m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2;
	    printf "%.2f", m / 1000 }'
}

# race PREP RUNS LABEL CMD [LABEL CMD]...: the commands in turns, PREP
# before each run, so a machine whose load drifts treats them alike; sets
# MS[LABEL] to each one's median.
declare -A MS
race() {
	local prep=$1 n=$2 i j t0 t1
	shift 2
	local -a labels=() cmds=()
	declare -A ts=()
	while [ $# -gt 0 ]; do
		labels+=("$1")
		cmds+=("$2")
		shift 2
	done
	local m=${#cmds[@]} k
	for ((i = 0; i < n; i++)); do
		# Each round starts with the next command: no one always
		# runs first, or always after the same other one.
		for ((k = 0; k < m; k++)); do
			j=$(((k + i) % m))
			eval "$prep"
			t0=$(now)
			eval "${cmds[$j]}" >/dev/null 2>&1
			t1=$(now)
			ts[$j]="${ts[$j]:-} $((t1 - t0))"
		done
	done
	for j in "${!cmds[@]}"; do
		# shellcheck disable=SC2086
		MS[${labels[$j]}]=$(median ${ts[$j]})
	done
}

cold() { mmadvise "$f" evict; }
warm() { mmadvise "$f" willneed --wait; }

rows=()
row() {	# row TASK TOOL MS MM_MS
	local ratio
	ratio=$(awk -v a="$3" -v b="$4" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')
	rows+=("$(printf '%-28s %-22s %10s %8s' "$1" "$2" "$3" "$ratio")")
}

F=$(printf %q "$f")
peers() {	# peers TASK: the rows of one race, mmadvise first
	local task=$1 l
	shift
	for l in "$@"; do
		[ -n "${MS[$l]:-}" ] && row "$task" "$l" "${MS[$l]}" "${MS[${1}]}"
	done
	return 0
}

echo "advise.sh: residency, file cached ..." >&2
warm
args=("mmadvise FILE" "mmadvise $F" "mmadvise --map=all" "mmadvise --map=all $F")
[ $have_fincore = 1 ] && args+=("fincore FILE" "fincore $F")
[ $have_vmtouch = 1 ] && args+=("vmtouch FILE" "vmtouch $F")
MS=()
race : "$runs" "${args[@]}"
peers "residency, cached" "mmadvise FILE" "mmadvise --map=all" \
    "fincore FILE" "vmtouch FILE"

echo "advise.sh: residency, file cold ..." >&2
cold
MS=()
race : "$runs" "${args[@]}"
peers "residency, cold" "mmadvise FILE" "mmadvise --map=all" \
    "fincore FILE" "vmtouch FILE"

echo "advise.sh: prefetch of the cold file ..." >&2
args=("mmadvise willneed --wait" "mmadvise $F willneed --wait"
    "mmadvise populate-read" "mmadvise $F populate-read"
    "cat FILE >/dev/null" "cat $F")
[ $have_vmtouch = 1 ] && args+=("vmtouch -t" "vmtouch -t $F")
MS=()
race cold "$pruns" "${args[@]}"
peers "prefetch, cold" "mmadvise willneed --wait" "mmadvise populate-read" \
    "vmtouch -t" "cat FILE >/dev/null"
# The prefetch was real: after it, the file is all resident.
cold
mmadvise "$f" willneed --wait
mmadvise "$f" >&2

echo "advise.sh: evict of the cached file ..." >&2
args=("mmadvise evict" "mmadvise $F evict")
[ $have_vmtouch = 1 ] && args+=("vmtouch -e" "vmtouch -e $F")
MS=()
race warm "$pruns" "${args[@]}"
peers "evict, cached" "mmadvise evict" "vmtouch -e"

echo
echo "mmadvise vs peers on a $mib MiB file (median ms; ratio = peer / mmadvise)"
printf '%-28s %-22s %10s %8s\n' "task" "command" "median ms" "ratio"
printf '%s\n' "${rows[@]}"
[ $have_vmtouch = 1 ] || echo "(vmtouch is not installed: its rows are missing)"
