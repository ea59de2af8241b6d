#!/usr/bin/env bash
# bench/output.sh - what printing costs: mmfind's output forms (-o, --line,
# -C, --json) and mmread's batch of offsets (OFFSET -) on a million
# matches, against plain mmfind -a and against grep and ripgrep doing the
# same job on the same warm file.
#
#   bench/output.sh [BUILDDIR]
#
# The file: LINES lines (default 1000000) of log-like text, every one
# holding the needle once, in the page cache.  Each command's output goes
# to a file (GNU grep stops at the first match when it sees /dev/null).
# Times are medians of RUNS (default 5) whole processes, interleaved.
# "x -a" is the time over plain `mmfind -a`; the issue's target is <= 1.5
# for -o, --json and context, which -o and --line about meet; -C comes to 2
# and --json to 3 (output to /dev/shm) or more (to a disk file): they
# print 18 and 27 times as many bytes as -a.
set -eu

B=${1:-.}
MMFIND="$B/src/mmfind"
MMREAD="$B/src/mmread"
LINES=${LINES:-1000000}
RUNS=${RUNS:-5}
W=$(mktemp -d "${TMPDIR:-/tmp}/mmbench.XXXXXX")
trap 'rm -rf "$W"' EXIT

python3 - "$W/log" "$LINES" <<'PY'
import random, sys
random.seed(1)
words = ['alpha', 'beta', 'ERROR', 'gamma', 'delta']
with open(sys.argv[1], 'w') as f:
    for i in range(int(sys.argv[2])):
        f.write('%d %s line %s\n' % (i, random.choice(words),
                                     'x' * random.randint(5, 60)))
PY
cat "$W/log" >/dev/null
"$MMFIND" -a line "$W/log" >"$W/offs"

have() { command -v "$1" >/dev/null 2>&1; }

# name|command, run with sh -c; output to $W/out.
CMDS=(
	"mmfind -a|$MMFIND -a line $W/log"
	"mmfind -a -o|$MMFIND -a -o line $W/log"
	"mmfind -a --line|$MMFIND -a --line line $W/log"
	"mmfind -a -C 8|$MMFIND -a -C 8 line $W/log"
	"mmfind -a --json|$MMFIND -a --json line $W/log"
	"mmread - 16 (1M offsets)|$MMREAD $W/log - 16 <$W/offs"
	"mmread - --whole-line|$MMREAD $W/log - --whole-line <$W/offs"
	"grep -ob -F|grep -ob -F line $W/log"
	"grep -b -F (lines)|grep -b -F line $W/log"
)
have rg && CMDS+=("rg --json|rg --json line $W/log"
    "rg -ob (offsets)|rg -ob line $W/log")

declare -A T
for ((r = 0; r < RUNS; r++)); do
	for c in "${CMDS[@]}"; do
		name=${c%%|*}
		cmd=${c#*|}
		s=$(date +%s%N)
		sh -c "$cmd" >"$W/out"
		e=$(date +%s%N)
		T[$name]+="$(((e - s) / 1000)) "
	done
done

median() { tr ' ' '\n' | grep . | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

base=$(echo "${T[mmfind -a]}" | median)
printf '%-28s %10s %8s\n' command seconds "x -a"
for c in "${CMDS[@]}"; do
	name=${c%%|*}
	m=$(echo "${T[$name]}" | median)
	awk -v n="$name" -v m="$m" -v b="$base" \
	    'BEGIN { printf "%-28s %10.3f %8.2f\n", n, m / 1e6, m / b }'
done
