#!/bin/bash
# bench/patch.sh - mmpatch and mmmove against their peers, side by side.
#
# Usage: bench/patch.sh [BUILDDIR]
#   BUILDDIR defaults to the tree this script sits in (binary at
#   BUILDDIR/src/mmutils).  Files go to $BENCH_DIR, else to a new
#   directory under $TMPDIR (default /work when it exists, since /tmp may
#   be small), and are removed at the end.  Needs about 1.2 GiB.
#   RUNS (default 15) sets the repetitions of each timed case.
#
# Cases, each the median of whole-process runs:
#  1. mmpatch of 8 bytes into a 10 GiB sparse file vs into a 4 KiB file,
#     (a) where the page exists, (b) into a hole each time: the cost must
#     not depend on the file's size (target: time ratio <= 1.2).
#  2. A batch of 100,000 8-byte patches from standard input vs a
#     "dd conv=notrunc" loop (timed over DD_RUNS=2000 runs and
#     extrapolated; target: >= 50x faster).
#  3. mmmove of 512 MiB, overlapping, up and down by 4 KiB, vs memmove of
#     the same size in one process (a C program this script compiles):
#     in a fresh shared mapping of the same file (what a program that
#     moves bytes with mmap does, Python's mmap.move among them; target
#     >= 0.8x its bandwidth) and, for
#     reference, in anonymous memory; and vs dd copying the range through
#     a temporary file (target: faster).  Run twice: on a file written
#     in 4 KiB pieces and on one written in 1 MiB pieces, which the page
#     cache may hold in pages of different sizes (see move_case).
#  4. A batch of 100,000 random 8-byte patches ("OFFSET HEX" lines,
#     mmpatch --script=-) into a 512 MiB file written 4 KiB at a time
#     (the page cache holds it in 4 KiB folios) and into a fresh 10 GiB
#     sparse file each run, vs a loop of pwrite() in C (compiled here) and
#     of os.pwrite in Python reading the same lines (target: <= 1.2 times
#     the C loop); mmpatch --io=mmap for reference.  BATCH_RUNS (default
#     RUNS, at most 5) runs each.
set -eu

here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$here}
build=$(cd "$build" && pwd)
mm=$build/src/mmutils
[ -x "$mm" ] || { echo "bench/patch.sh: $mm is not built" >&2; exit 2; }
RUNS=${RUNS:-15}
DD_RUNS=${DD_RUNS:-2000}
BATCH=${BATCH:-100000}
MOVE_MIB=${MOVE_MIB:-512}
CC=${CC:-cc}
# Single patches take a millisecond: many runs, for a stable median.
RUNS1=${RUNS1:-$((RUNS * 4))}

if [ -z "${TMPDIR:-}" ]; then
	if [ -d /work ] && [ -w /work ]; then TMPDIR=/work; else TMPDIR=/tmp; fi
fi
dir=${BENCH_DIR:-$(mktemp -d "$TMPDIR/tmp-bench-patch.XXXXXX")}
mkdir -p "$dir"
trap 'rm -rf "$dir"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

mmpatch() { "$mm" patch "$@"; }
mmmove() { "$mm" move "$@"; }

# now: microseconds since the epoch, without a fork.
now() {
	local t=${EPOCHREALTIME/./}
	echo "$t"
}

# median N...: the median of its arguments.
median() {
	printf '%s\n' "$@" | sort -n | awk '{ a[NR] = $1 }
	    END { if (NR % 2) print a[(NR + 1) / 2];
		  else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}

# ratio A B: A / B with two decimals.
ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'
}

# ms US: microseconds as milliseconds.
ms() {
	awk -v u="$1" 'BEGIN { printf "%.3f ms", u / 1000 }'
}

rows=()
row() {
	rows+=("$(printf '%-52s %13s %13s %8s  %s' "$@")")
}

echo "bench/patch.sh: $mm, $RUNS runs a case, files in $dir"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"

# ---------------------------------------------------------------- 1
big=$dir/sparse10g.img
small=$dir/small4k.img
truncate -s 10G "$big"
head -c 4096 /dev/zero >"$small"
mmpatch "$small" 0 -x 0102030405060708
mmpatch "$big" 8G -x 0102030405060708
# (a) The page is there: what the file's size alone costs.  The order
# alternates so that neither side always runs second.
tb=() ts=()
for ((i = 0; i < RUNS1; i++)); do
	if ((i % 2)); then
		t0=$(now); mmpatch "$big" 8G -x 0102030405060708; t1=$(now)
		mmpatch "$small" 0 -x 0102030405060708; t2=$(now)
		tb+=($((t1 - t0))); ts+=($((t2 - t1)))
	else
		t0=$(now); mmpatch "$small" 0 -x 0102030405060708; t1=$(now)
		mmpatch "$big" 8G -x 0102030405060708; t2=$(now)
		ts+=($((t1 - t0))); tb+=($((t2 - t1)))
	fi
done
mb=$(median "${tb[@]}"); msml=$(median "${ts[@]}")
row "mmpatch 8 B: 10 GiB sparse vs 4 KiB file" "$(ms "$mb")" \
    "$(ms "$msml")" "$(ratio "$mb" "$msml")" "target <= 1.2 (time ratio)"
# (b) Into a hole each time: a block is allocated now, in both files.
tb=() ts=()
for ((i = 0; i < RUNS1; i++)); do
	off=$(( ((i * 7919 + 1) % 10000) * 1048576 + 4096 * (i % 200) ))
	rm -f "$small"
	truncate -s 4K "$small"
	if ((i % 2)); then
		t0=$(now); mmpatch "$big" "$off" -x 0102030405060708; t1=$(now)
		mmpatch "$small" 8 -x 0102030405060708; t2=$(now)
		tb+=($((t1 - t0))); ts+=($((t2 - t1)))
	else
		t0=$(now); mmpatch "$small" 8 -x 0102030405060708; t1=$(now)
		mmpatch "$big" "$off" -x 0102030405060708; t2=$(now)
		ts+=($((t1 - t0))); tb+=($((t2 - t1)))
	fi
done
mb=$(median "${tb[@]}"); msml=$(median "${ts[@]}")
row "... into a hole: 10 GiB vs 4 KiB sparse file" "$(ms "$mb")" \
    "$(ms "$msml")" "$(ratio "$mb" "$msml")" "target <= 1.2 (time ratio)"
rm -f "$big" "$small"

# ---------------------------------------------------------------- 2
file=$dir/batch.img
head -c $((64 << 20)) /dev/zero >"$file"
printf '\001\002\003\004\005\006\007\010' >"$dir/data8"
# BATCH distinct 8-byte slots of the 64 MiB file, in random order.
shuf -n "$BATCH" -i 0-$(( (64 << 20) / 8 - 1 )) --random-source=<(yes) \
    >"$dir/slots"
awk '{ print $1 * 8 }' "$dir/slots" >"$dir/offsets"
tm=()
for ((i = 0; i < (RUNS < 5 ? RUNS : 5); i++)); do
	t0=$(now)
	mmpatch "$file" - -x 0102030405060708 <"$dir/offsets"
	t1=$(now)
	tm+=($((t1 - t0)))
done
mbatch=$(median "${tm[@]}")
head -n "$DD_RUNS" "$dir/slots" >"$dir/ddslots"
t0=$(now)
while read -r s; do
	dd if="$dir/data8" of="$file" bs=8 seek="$s" count=1 conv=notrunc \
	    status=none
done <"$dir/ddslots"
t1=$(now)
ddall=$(( (t1 - t0) * BATCH / DD_RUNS ))
row "$BATCH patches from stdin vs a dd conv=notrunc loop" \
    "$(ms "$mbatch")" "$(ms "$ddall")" "$(ratio "$ddall" "$mbatch")" \
    "target >= 50 (times faster; dd: $DD_RUNS runs, scaled)"
rm -f "$file"

# ---------------------------------------------------------------- 3
cat >"$dir/memmove.c" <<'EOF'
/*
 * memmove of N MiB up and down by 4 KiB, medians in microseconds: in
 * anonymous memory already touched (the memory's own bandwidth), or,
 * with FILE, in a fresh MAP_SHARED mapping of FILE each time (map,
 * memmove, unmap: what mmmove does, without the command around it).
 */
#include <sys/mman.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int
cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double
one(unsigned char *anon, int fd, size_t n, size_t gap, int up)
{
	unsigned char *p = anon;
	double t = now();

	if (fd >= 0 && (p = mmap(NULL, n + gap, PROT_READ | PROT_WRITE,
	    MAP_SHARED, fd, 0)) == MAP_FAILED)
		exit(1);
	if (up)
		memmove(p + gap, p, n);
	else
		memmove(p, p + gap, n);
	if (fd >= 0)
		munmap(p, n + gap);
	return now() - t;
}

int
main(int argc, char **argv)
{
	size_t n = (size_t)atol(argv[1]) << 20, gap = 4096;
	int runs = atoi(argv[2]), i, fd = -1;
	double up[64], down[64];
	unsigned char *p = NULL;

	if (runs > 64)
		return 1;
	if (argc > 3) {
		if ((fd = open(argv[3], O_RDWR)) < 0)
			return 1;
	} else {
		if ((p = malloc(n + gap)) == NULL)
			return 1;
		memset(p, 1, n + gap);
	}
	for (i = 0; i < runs; i++) {
		up[i] = one(p, fd, n, gap, 1);
		down[i] = one(p, fd, n, gap, 0);
	}
	qsort(up, runs, sizeof(double), cmp);
	qsort(down, runs, sizeof(double), cmp);
	printf("%.0f %.0f\n", up[runs / 2] * 1e6, down[runs / 2] * 1e6);
	return 0;
}
EOF
"$CC" -O2 -o "$dir/memmove" "$dir/memmove.c"
mv=$dir/move.img
n=$((MOVE_MIB << 20))
mruns=$((RUNS < 7 ? RUNS : 7))
read -r aup adown < <("$dir/memmove" "$MOVE_MIB" "$mruns")

# move_case BS WHAT: the move file written anew in BS pieces, then the
# rows.  How a file was written shapes its page cache: since Linux 6.16,
# ext4 caches a file written in large pieces (cp, most programs, or read
# back from disk) in large folios, one page fault mapping many pages;
# one written 4 KiB at a time stays in 4 KiB pages, a fault for each.
# Both sides of every ratio move the same file.
move_case() {
	local bs=$1 what=$2 b i t0 t1 t2 x y way m f a d
	local tu=() td=() fu=() fd=() du=() dd2=()

	rm -f "$mv"
	b=$(numfmt --from=iec "$bs")
	dd if=/dev/urandom of="$mv" bs="$bs" iflag=fullblock \
	    count=$(((n + 4096 + b - 1) / b)) status=none
	# Interleaved, so the page cache and the load treat both alike.
	for ((i = 0; i < mruns; i++)); do
		t0=$(now); mmmove "$mv" 4096 0 "$n"; t1=$(now)
		mmmove "$mv" 0 4096 "$n"; t2=$(now)
		tu+=($((t1 - t0))); td+=($((t2 - t1)))
		read -r x y < <("$dir/memmove" "$MOVE_MIB" 1 "$mv")
		fu+=("$x"); fd+=("$y")
	done
	for ((i = 0; i < (mruns < 3 ? mruns : 3); i++)); do
		t0=$(now)
		dd if="$mv" of="$dir/tmp" bs=1M count="$MOVE_MIB" status=none
		dd if="$dir/tmp" of="$mv" bs=1M seek=4096 oflag=seek_bytes \
		    conv=notrunc status=none
		t1=$(now)
		dd if="$mv" of="$dir/tmp" bs=1M skip=4096 iflag=skip_bytes \
		    count="$MOVE_MIB" status=none
		dd if="$dir/tmp" of="$mv" bs=1M conv=notrunc status=none
		t2=$(now)
		rm -f "$dir/tmp"
		du+=($((t1 - t0))); dd2+=($((t2 - t1)))
	done
	for way in up down; do
		if [ $way = up ]; then
			m=$(median "${tu[@]}") f=$(median "${fu[@]}")
			a=$aup d=$(median "${du[@]}")
		else
			m=$(median "${td[@]}") f=$(median "${fd[@]}")
			a=$adown d=$(median "${dd2[@]}")
		fi
		row "mmmove $MOVE_MIB MiB $way 4 KiB, $what" "" "" "" ""
		row "... vs memmove in a fresh map of the file" \
		    "$(ms "$m")" "$(ms "$f")" "$(ratio "$f" "$m")" \
		    "target >= 0.8 (bandwidth ratio)"
		row "... vs memmove in anonymous memory" "$(ms "$m")" \
		    "$(ms "$a")" "$(ratio "$a" "$m")" \
		    "reference: the memory's own bandwidth"
		row "... vs dd through a temporary file" "$(ms "$m")" \
		    "$(ms "$d")" "$(ratio "$d" "$m")" \
		    "target > 1 (times faster)"
	done
}
move_case 4K "file written in 4 KiB pieces"
move_case 1M "file written in 1 MiB pieces"
rm -f "$mv"

# ---------------------------------------------------------------- 4
cat >"$dir/pwloop.c" <<'EOF'
/* Apply "OFFSET HEX" lines from standard input to FILE, one pwrite each. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static int
hv(int c)
{
	return c <= '9' ? c - '0' : (c | 32) - 'a' + 10;
}

int
main(int argc, char **argv)
{
	char line[512], *h;
	unsigned char b[256];
	unsigned long long off;
	size_t n;
	int fd;

	if (argc < 2 || (fd = open(argv[1], O_RDWR)) < 0)
		return 1;
	while (fgets(line, sizeof(line), stdin) != NULL) {
		off = strtoull(line, &h, 0);
		while (*h == ' ')
			h++;
		for (n = 0; n < sizeof(b) && h[2 * n] > ' ' &&
		    h[2 * n + 1] > ' '; n++)
			b[n] = (unsigned char)(hv(h[2 * n]) << 4 |
			    hv(h[2 * n + 1]));
		if (pwrite(fd, b, n, (off_t)off) != (ssize_t)n)
			return 1;
	}
	return close(fd) != 0;
}
EOF
"$CC" -O2 -o "$dir/pwloop" "$dir/pwloop.c"
cat >"$dir/pwloop.py" <<'EOF'
import os, sys
fd = os.open(sys.argv[1], os.O_RDWR)
for line in sys.stdin:
    o, h = line.split()
    os.pwrite(fd, bytes.fromhex(h), int(o))
os.close(fd)
EOF
PY=${PYTHON3:-python3}
BATCH_RUNS=${BATCH_RUNS:-$((RUNS < 5 ? RUNS : 5))}

# edits SIZE: BATCH random 8-byte patches inside SIZE bytes into
# $dir/edits, apart (mmpatch refuses overlapping edits), in random order.
edits() {
	"$PY" -c '
import random, sys
r = random.Random(16)
size, n = int(sys.argv[1]), int(sys.argv[2])
for s in r.sample(range(size // 16), n):
    sys.stdout.write("%d %s\n" % (s * 16 + r.randrange(9), r.randbytes(8).hex()))
' "$1" "$BATCH" >"$dir/edits"
}

# batch_case WHAT FILE [FRESH]: the writers on FILE, interleaved so that
# the load treats them alike; FRESH (a command) makes FILE anew first.
batch_case() {
	local what=$1 f=$2 fresh=${3:-} i k t0 t1 m tmap c py
	local tm=() tmm=() tc=() tp=()

	for ((i = 0; i < BATCH_RUNS; i++)); do
		for k in mm mmap c py; do
			[ -z "$fresh" ] || $fresh
			t0=$(now)
			case $k in
			mm) mmpatch --script=- "$f" <"$dir/edits" ;;
			mmap) mmpatch --io=mmap --script=- "$f" <"$dir/edits" ;;
			c) "$dir/pwloop" "$f" <"$dir/edits" ;;
			py) "$PY" "$dir/pwloop.py" "$f" <"$dir/edits" ;;
			esac
			t1=$(now)
			case $k in
			mm) tm+=($((t1 - t0))) ;;
			mmap) tmm+=($((t1 - t0))) ;;
			c) tc+=($((t1 - t0))) ;;
			py) tp+=($((t1 - t0))) ;;
			esac
		done
	done
	m=$(median "${tm[@]}") tmap=$(median "${tmm[@]}")
	c=$(median "${tc[@]}") py=$(median "${tp[@]}")
	row "$BATCH 8-byte patches, $what" "" "" "" ""
	row "... mmpatch vs a C pwrite loop" "$(ms "$m")" "$(ms "$c")" \
	    "$(ratio "$m" "$c")" "target <= 1.2 (time ratio)"
	row "... mmpatch vs a Python os.pwrite loop" "$(ms "$m")" \
	    "$(ms "$py")" "$(ratio "$m" "$py")" "time ratio"
	row "... mmpatch --io=mmap vs a C pwrite loop" "$(ms "$tmap")" \
	    "$(ms "$c")" "$(ratio "$tmap" "$c")" "reference: through the mapping"
}

bf=$dir/batch4k.img
dd if=/dev/urandom of="$bf" bs=4k count=131072 status=none
edits $((512 << 20))
batch_case "512 MiB written 4 KiB at a time" "$bf"
rm -f "$bf"
sp=$dir/sparse10g.img
fresh_sparse() {
	rm -f "$sp"
	truncate -s 10G "$sp"
}
edits $((10 << 30))
batch_case "a fresh 10 GiB sparse file" "$sp" fresh_sparse
rm -f "$sp"

echo "load average after:  $(cut -d' ' -f1-3 /proc/loadavg)"
echo
printf '%-52s %13s %13s %8s  %s\n' "case" "mmutils" "peer" "ratio" "goal"
printf '%s\n' "${rows[@]}"
