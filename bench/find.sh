#!/usr/bin/env bash
# bench/find.sh - mmfind against its peers and against two limits, side by
# side, on the same files in the same page-cache state.
#
#   bench/find.sh [BUILDDIR]
#
# The limit is what one core gets from the page cache at best, measured two
# ways by small C programs, whole processes like the tools:
#   L_read  read() of the whole file into a reused 128 KiB buffer, each
#           buffer OR-reduced so that every byte is touched;
#   L_map   an OR-reduce of a fresh mapping (MADV_SEQUENTIAL).
# Which is faster depends on how the file sits in the page cache: a file
# written with 4 KiB writes (logs, dd bs=4k) is cached in 4 KiB folios,
# and a mapping of it pays a page-table entry and a fault per page on first
# touch, so L_map falls to a fraction of L_read; a file read in by
# readahead or written in large writes is in large folios, and a mapping
# of it streams faster than read().  L = the faster of the two; mmfind is
# held to it ("mm/L": mmfind's throughput over L's, target >= 0.8).
#
# Cases (CASES, comma-separated, selects some; default all):
#   random words nul  synthetic corpora of BENCH_MB MiB: random bytes,
#                     English-like text, NUL-heavy records (8 random bytes,
#                     56 zeros) with planted needles; evicted and read back
#                     (readahead, large folios) once, re-read before each run
#   modes regex       mmfind's modes (-q -r -a -c -j2), a regex and 8 patterns
#   small peak        a 4 KiB file; peak anonymous memory of mmfind -a -j2
#   4k                layout.txt, real text, re-written with dd bs=4k before
#                     each run (4 KiB folios)
#   readahead         the same file evicted and read back with cat before
#                     each run (large folios)
#   text              real text: the Debian Packages indexes (else
#                     /usr/share/doc and man pages) repeated to REAL_MB MiB
#   bin               real binaries: /usr/lib/x86_64-linux-gnu/*.so*
#                     concatenated and repeated to REAL_MB MiB
#   many              the same libraries as separate files (-c and -l;
#                     rg searches them with a thread per CPU)
#   cold              the real text evicted before each run
#   sparse            a sparse 4 GiB disk image holding 4 needles, evicted
#                     before each run; page-cache residency before/after
# The folio sizes of each file are reported from /proc/kpageflags (root).
#
# Each timed run is a whole process, its output to a file (GNU grep stops
# at the first match when its output is /dev/null); tools interleave round
# by round and each cell is the median of RUNS.  Cells are GB/s (UNIT=ms:
# milliseconds); mm/grep and mm/rg are time ratios, lower is better.
# mmfind is timed three ways: auto (--io's default), --io=mmap, --io=read.
# The targets of each case are printed as PASS/MISS lines, and at the end:
# every case but the modes and sparse, mm/L >= 0.8; in time, text <= 0.5 x
# grep -c -F and <= 0.4 x rg --count-matches; bin <= 0.6 x grep and
# <= 0.5 x rg; many -c <= 0.8 x grep -c -F, -l <= 1.0 x rg -l; cold
# <= 0.9 x grep; sparse <= 0.05 x rg -c -a, reading no hole (the page
# cache grows by the image's data pages at most).
#
# Environment: BENCH_DIR (scratch, default /var/tmp/mmutils-bench-find),
# BENCH_MB (synthetic files, MiB, default 1024), REAL_MB (layout and real
# corpora, default the smaller of BENCH_MB and 512), SPARSE_GB (default 4),
# RUNS (default 5), CASES, UNIT=gbs|ms, PEERS_SLOW=0 to skip Python and
# grep -P, which take minutes on some cases.  Needs ripgrep (its columns
# are empty without it), lz4 for apt's Packages.lz4 lists, util-linux's
# fincore; root for the folio sizes.
set -u
here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$here}
mmfind="$build/src/mmutils find"
dir=${BENCH_DIR:-/var/tmp/mmutils-bench-find}
mb=${BENCH_MB:-1024}
real_mb=${REAL_MB:-$((mb < 512 ? mb : 512))}
sparse_gb=${SPARSE_GB:-4}
runs=${RUNS:-5}
slow=${PEERS_SLOW:-1}
unit=${UNIT:-gbs}
cases=${CASES:-}
tmo=120
export LC_ALL=C
# "auto" is mmfind's own choice, whatever the caller's environment says.
unset MMUTILS_IO

all_cases="random words nul modes regex small peak 4k readahead text bin many cold sparse"
for c in ${cases//,/ }; do
	[[ " $all_cases " == *" $c "* ]] ||
	    { echo "find.sh: unknown case '$c' (cases: $all_cases)" >&2; exit 2; }
done
want() { [ -z "$cases" ] || [[ ",$cases," == *",$1,"* ]]; }

[ -x "$build/src/mmutils" ] || { echo "build mmutils first ($build)"; exit 2; }
mkdir -p "$dir" || exit 2
have_rg=0
command -v rg >/dev/null && have_rg=1
[ $have_rg = 1 ] || echo "# ripgrep (Debian: ripgrep) not installed: its columns are empty"
command -v fincore >/dev/null ||
    echo "# fincore (util-linux) not found: no residency figures"

cat >"$dir/tools.c" <<'EOF'
/*
 * gen, plant: the synthetic corpora.  memmem: a find-all loop.
 * scan: L_map, one core OR-reducing a fresh mapping (MADV_SEQUENTIAL).
 * readscan: L_read, one core read()ing into a reused 128 KiB buffer and
 * OR-reducing it.  evict: write back and drop a file's page cache.
 * folios: how the resident part of a file sits in the page cache.
 */
#define _GNU_SOURCE
#include <sys/mman.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static uint64_t s = 88172645463325252ULL;
static uint64_t rnd(void) { s ^= s << 13; s ^= s >> 7; s ^= s << 17; return s; }

/* A read-only mapping of the whole file; NULL for an empty one. */
static unsigned char *
map(const char *path, size_t *len)
{
	struct stat st;
	int fd = open(path, O_RDONLY);
	void *p;

	if (fd < 0 || fstat(fd, &st) < 0)
		exit(2);
	*len = (size_t)st.st_size;
	if (*len == 0) {
		close(fd);
		return NULL;
	}
	p = mmap(NULL, *len, PROT_READ, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		exit(2);
	close(fd);
	madvise(p, *len, MADV_SEQUENTIAL);
	return p;
}

static uint64_t
orscan(const unsigned char *p, size_t len)
{
	const uint64_t *w = (const uint64_t *)p;
	uint64_t acc = 0;
	size_t i;

	for (i = 0; i < len / 8; i++)
		acc |= w[i];
	for (i = len & ~(size_t)7; i < len; i++)
		acc |= p[i];
	return acc;
}

static int
unhex(const char *h, unsigned char *out)
{
	int n = 0;
	unsigned v;

	while (*h && sscanf(h, "%2x", &v) == 1) {
		out[n++] = (unsigned char)v;
		h += 2;
	}
	return n;
}

/*
 * Count the resident pages of FILE by the size of the folio holding them:
 * mincore says which are resident, touching only those maps them without
 * reading anything in, /proc/self/pagemap gives their frames and
 * /proc/kpageflags says which frames are tails of a compound page.
 */
static int
folios(const char *path)
{
	size_t len, np, i, run = 0, res = 0, b[3] = { 0, 0, 0 };
	unsigned char *p, *vec;
	uint64_t *pm, fl;
	volatile unsigned char sink;
	long pg = sysconf(_SC_PAGESIZE);
	int pmfd, kfd;

	p = map(path, &len);
	if (p == NULL) {
		printf("empty\n");
		return 0;
	}
	madvise(p, len, MADV_NORMAL);
	np = (len + pg - 1) / pg;
	vec = malloc(np);
	pm = malloc(np * 8);
	if (vec == NULL || pm == NULL || mincore(p, len, vec) < 0)
		return 2;
	for (i = 0; i < np; i++)
		if (vec[i] & 1) {
			sink = p[i * pg];
			res++;
		}
	(void)sink;
	pmfd = open("/proc/self/pagemap", O_RDONLY);
	kfd = open("/proc/kpageflags", O_RDONLY);
	if (pmfd < 0 || kfd < 0 || pread(pmfd, pm, np * 8,
	    (off_t)((uintptr_t)p / pg * 8)) != (ssize_t)(np * 8)) {
		printf("%zu of %zu pages resident; folio sizes unknown "
		    "(/proc/kpageflags needs root)\n", res, np);
		return 0;
	}
	for (i = 0; i <= np; i++) {
		int tail = 0, present = i < np && (pm[i] >> 63) &&
		    (pm[i] & ((1ULL << 55) - 1)) != 0;

		if (present && pread(kfd, &fl, 8, (off_t)((pm[i] &
		    ((1ULL << 55) - 1)) * 8)) == 8)
			tail = (fl >> 16) & 1;	/* KPF_COMPOUND_TAIL */
		if (run > 0 && (!present || !tail)) {
			b[run == 1 ? 0 : run < 512 ? 1 : 2] += run;
			run = 0;
		}
		if (present)
			run++;
	}
	res = b[0] + b[1] + b[2];
	printf("%zu of %zu pages resident; in 4 KiB folios %.0f%%, "
	    "8 KiB-1 MiB %.0f%%, 2 MiB+ %.0f%%\n", res, np,
	    res ? 100.0 * b[0] / res : 0, res ? 100.0 * b[1] / res : 0,
	    res ? 100.0 * b[2] / res : 0);
	return 0;
}

int
main(int argc, char **argv)
{
	static const char *words[] = { "the", "of", "and", "to", "in", "a",
	    "is", "that", "for", "it", "as", "was", "with", "be", "by", "on",
	    "not", "he", "this", "are", "or", "his", "from", "at", "which",
	    "but", "have", "an", "had", "they", "you", "were", "their", "one",
	    "all", "we", "can", "her", "has", "there", "been", "if", "more",
	    "when", "will", "would", "who", "so", "no", "other", "time",
	    "some", "people", "than", "first", "made", "many", "over",
	    "down", "only", "way", "find", "use", "may", "water", "long",
	    "little", "very", "after", "words", "called", "just", "where",
	    "most", "know", "get", "through", "back", "much", "before",
	    "go", "good", "new", "write", "our", "used", "me", "man", "too",
	    "any", "day", "same", "right", "look", "think", "also", "around",
	    "another", "came", "come", "work", "three", "word", "must",
	    "because", "does", "part", "even", "place", "well", "such" };
	size_t nw = sizeof(words) / sizeof(words[0]), len, i, n;
	unsigned char *p, nd[256];
	uint64_t acc = 0;
	int a;

	if (argc >= 4 && strcmp(argv[1], "gen") == 0) {
		size_t size = strtoull(argv[3], NULL, 10) << 20, k;
		unsigned char *b = malloc(1 << 20);
		FILE *f = fopen(argv[4], "w");

		for (k = 0; k < size; k += 1 << 20) {
			for (i = 0; i < 1 << 20; ) {
				if (argv[2][0] == 'r') {
					uint64_t v = rnd();
					memcpy(b + i, &v, 8);
					i += 8;
				} else if (argv[2][0] == 'z') {
					uint64_t v = rnd();
					memcpy(b + i, &v, 8);
					memset(b + i + 8, 0, 56);
					i += 64;
				} else {
					/* Zipf-like: low ranks far more often. */
					uint64_t r = rnd();
					size_t w = (size_t)((r % nw) * (r % nw) / nw);
					size_t l = strlen(words[w]);

					if (i + l + 1 > 1 << 20) {
						memset(b + i, ' ', (1 << 20) - i);
						break;
					}
					memcpy(b + i, words[w], l);
					i += l;
					b[i++] = r % 13 == 0 ? '\n' : ' ';
				}
			}
			fwrite(b, 1, 1 << 20, f);
		}
		return fclose(f) != 0;
	}
	if (argc == 5 && strcmp(argv[1], "plant") == 0) {
		int fd = open(argv[2], O_RDWR);
		off_t size = lseek(fd, 0, SEEK_END);

		n = unhex(argv[3], nd);
		for (i = 0; i < 1000; i++)
			if (pwrite(fd, nd, n, (off_t)((size - 256) / 1000 * i +
			    atoi(argv[4]))) != (ssize_t)n)
				return 2;
		return close(fd) != 0;
	}
	if (argc == 4 && strcmp(argv[1], "memmem") == 0) {
		size_t c = 0;
		unsigned char *q;

		p = map(argv[2], &len);
		n = unhex(argv[3], nd);
		for (q = p; q != NULL &&
		    (q = memmem(q, len - (q - p), nd, n)) != NULL; q += n)
			c++;
		printf("%zu\n", c);
		return 0;
	}
	if (argc >= 3 && strcmp(argv[1], "scan") == 0) {
		for (a = 2; a < argc; a++) {
			p = map(argv[a], &len);
			if (p != NULL) {
				acc |= orscan(p, len);
				munmap(p, len);
			}
		}
		printf("%d\n", acc == 42);
		return 0;
	}
	if (argc >= 3 && strcmp(argv[1], "readscan") == 0) {
		static unsigned char buf[128 << 10]
		    __attribute__((aligned(64)));
		ssize_t r;

		for (a = 2; a < argc; a++) {
			int fd = open(argv[a], O_RDONLY);

			if (fd < 0)
				return 2;
			posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
			while ((r = read(fd, buf, sizeof(buf))) > 0)
				acc |= orscan(buf, (size_t)r);
			if (r < 0)
				return 2;
			close(fd);
		}
		printf("%d\n", acc == 42);
		return 0;
	}
	if (argc >= 3 && strcmp(argv[1], "evict") == 0) {
		/* Written-back pages only: DONTNEED leaves dirty ones. */
		for (a = 2; a < argc; a++) {
			int fd = open(argv[a], O_RDONLY);

			if (fd < 0 || fdatasync(fd) < 0 ||
			    posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED) != 0)
				return 2;
			close(fd);
		}
		return 0;
	}
	if (argc == 3 && strcmp(argv[1], "folios") == 0)
		return folios(argv[2]);
	return 2;
}
EOF
cc -O3 -march=native -o "$dir/tools" "$dir/tools.c" || exit 2
tools=$dir/tools

cat >"$dir/pyfind.py" <<'EOF'
import mmap, sys
with open(sys.argv[1], 'rb') as f:
    m = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
    sub = bytes.fromhex(sys.argv[2])
    n, i = 0, m.find(sub)
    while i >= 0:
        n += 1
        i = m.find(sub, i + len(sub))
    print(n)
EOF

# ---- helpers ---------------------------------------------------------

# time_us CMD...: wall time of one run in microseconds, its output to
# $dir/out (a file: GNU grep stops at the first match into /dev/null).
time_us() {
	local t0 t1
	t0=${EPOCHREALTIME/./}
	"$@" >"$dir/out" 2>/dev/null
	t1=${EPOCHREALTIME/./}
	echo $((t1 - t0))
}

median() {
	sort -n | awk '{ a[NR] = $1 } END { print (NR ? a[int((NR + 1) / 2)] : "") }'
}

cell() {	# bytes us -> GB/s, or ms with UNIT=ms
	[ -n "$2" ] && [ "$2" -gt 0 ] || { echo "-"; return; }
	if [ "$unit" = ms ]; then
		awk -v t="$2" 'BEGIN { printf "%.1f", t / 1000 }'
	else
		awk -v b="$1" -v t="$2" 'BEGIN { printf "%.2f", b / t / 1000 }'
	fi
}

ratio() {	# a b -> a/b
	[ -n "$1" ] && [ -n "$2" ] && [ "$2" != 0 ] &&
	    awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }' || echo "-"
}

resident() {	# FILE... -> resident pages, summed
	command -v fincore >/dev/null || { echo "?"; return; }
	fincore -n -r -o PAGES "$@" 2>/dev/null | awk '{ s += $1 } END { print s + 0 }'
}

folio_report() {	# LABEL FILE
	printf '# %-10s %s: %s\n' "$1" "${2##*/}" "$("$tools" folios "$2")"
}

declare -a verdicts
# verdict CASE WHAT OK MEASURED: a PASS/MISS line, kept for the summary.
verdict() {
	local v=MISS
	[ "$3" = 1 ] && v=PASS
	verdicts+=("$v $1: $2 ($4)")
	echo "$v $1: $2 ($4)"
}

# check_le CASE WHAT A B K: PASS when time A <= K x time B.
check_le() {
	[ -n "$3" ] && [ -n "$4" ] || { echo "---- $1: $2: not measured"; return; }
	verdict "$1" "$2" "$(awk -v a="$3" -v b="$4" -v k="$5" \
	    'BEGIN { print (a <= k * b) ? 1 : 0 }')" "time ratio $(ratio "$3" "$4")"
}

# ---- preparing the page cache -----------------------------------------

# prep_case STATE FILE...: once before a case.  prep_run STATE FILE...:
# right before each timed run.  States:
#   warm  evicted and read back once (readahead: large folios), then read
#         again before each run, which only makes sure it is all resident
#   ra    evicted and read back with cat before each run
#   4k    re-written with dd bs=4k from $layout_src before each run
#   cold  evicted before each run
prep_case() {
	local st=$1
	shift
	case $st in
	warm|ra) "$tools" evict "$@"; cat "$@" >/dev/null ;;
	*) prep_run "$st" "$@" ;;
	esac
}

prep_run() {
	local st=$1
	shift
	case $st in
	warm) cat "$@" >/dev/null ;;
	ra) "$tools" evict "$@"; cat "$@" >/dev/null ;;
	4k) dd if="$layout_src" of="$1" bs=4k conv=fdatasync status=none ;;
	cold) "$tools" evict "$@" ;;
	esac
}

# ---- one case: every tool, interleaved, medians ------------------------

# The case's settings, set by the caller before bench_case:
#   F      the files;  HEX the pattern in hex
#   MM     mmfind's mode options (-c);  RGM, GM rg's and grep's (counting)
#   PEERS  the single-file peers to add: python memmem
#   LIMITS 1 to time L_read and L_map
declare -a F
MM=-c RGM="--count-matches -a" GM="-c -a" PEERS="" LIMITS=1 HEX=""

# set_pattern HEX: how each tool is given it.  grep -F and rg -F take the
# bytes; grep -P and rg's (?-u) regex take NUL and newline, and rg -F
# refuses bytes that are not UTF-8.
set_pattern() {
	local raw=""
	HEX=$1
	GSLOW=0
	if [[ $HEX =~ ^(2[0-9a-f]|[3-6][0-9a-f]|7[0-9a-e])+$ ]]; then
		raw=$(printf "$(echo "$HEX" | sed 's/../\\x&/g')")
		RGPAT=(-F -e "$raw")
		GPAT=(-F -e "$raw")
	else
		RGPAT=(--no-unicode -e "(?-u)$(echo "$HEX" | sed 's/../\\x&/g')")
		if [[ $HEX =~ ^(..)*(00|0a) ]]; then
			GPAT=(-P -e "$(echo "$HEX" | sed 's/../\\x&/g')")
			GSLOW=1
		else
			raw=$(printf "$(echo "$HEX" | sed 's/../\\x&/g')")
			GPAT=(-F -e "$raw")
		fi
	fi
}

# Word-split on purpose: $mmfind, $MM, $RGM and $GM hold options.
# shellcheck disable=SC2086
run_tool() {	# TOOL: one run on the case's files
	case $1 in
	L_read) "$tools" readscan "${F[@]}" ;;
	L_map) "$tools" scan "${F[@]}" ;;
	mmfind) $mmfind $MM -x "$HEX" "${F[@]}" ;;
	io=mmap) $mmfind --io=mmap $MM -x "$HEX" "${F[@]}" ;;
	io=read) $mmfind --io=read $MM -x "$HEX" "${F[@]}" ;;
	rg) rg $RGM "${RGPAT[@]}" "${F[@]}" ;;
	grep) timeout "$tmo" grep $GM "${GPAT[@]}" "${F[@]}" ;;
	python) timeout "$tmo" python3 "$dir/pyfind.py" "${F[0]}" "$HEX" ;;
	memmem) "$tools" memmem "${F[0]}" "$HEX" ;;
	esac
}

hdr() {
	printf '%-12s %6s %7s %7s %7s %7s %7s %7s %7s %7s %7s %6s %7s %6s %9s\n' \
	    case MiB L_read L_map mmfind io=mmap io=read rg grep python \
	    memmem mm/L mm/grep mm/rg hits
}

declare -A med
# bench_case NAME STATE: time every tool RUNS times, round by round, each
# run right after prep_run; print one row; leave the medians (us) in med.
bench_case() {
	local name=$1 st=$2 size r t hits
	local -a list=(mmfind io=mmap io=read)
	local -A times=()
	size=$(stat -c %s "${F[@]}" | awk '{ s += $1 } END { print s }')
	[ "$LIMITS" = 1 ] && list=(L_read L_map "${list[@]}")
	[ $have_rg = 1 ] && list+=(rg)
	[ "$slow" = 1 ] || [ "$GSLOW" = 0 ] && list+=(grep)
	local -a peers
	read -ra peers <<<"$PEERS"
	list+=("${peers[@]}")
	prep_case "$st" "${F[@]}"
	for ((r = 0; r < runs; r++)); do
		for t in "${list[@]}"; do
			# Python, and grep -P on NUL-heavy data, take minutes.
			if [ "$r" -ge 2 ] && { [ "$t" = python ] ||
			    { [ "$t" = grep ] && [ "$GSLOW" = 1 ]; }; }; then
				continue
			fi
			[ "$t" = python ] && [ "$slow" != 1 ] && continue
			prep_run "$st" "${F[@]}"
			times[$t]+="$(time_us run_tool "$t") "
			if [ "$t" = mmfind ]; then
				case " $MM " in
				*" -l "*|*" -a "*) hits=$(wc -l <"$dir/out") ;;
				*" -c "*) hits=$(awk -F: '{ s += $NF } END { print s }' "$dir/out") ;;
				*) hits=$(head -n 1 "$dir/out") ;;
				esac
			fi
		done
	done
	med=()
	for t in L_read L_map mmfind io=mmap io=read rg grep python memmem; do
		med[$t]=$([ -n "${times[$t]:-}" ] && printf '%s\n' ${times[$t]} | median)
	done
	local L=${med[L_read]}
	[ -n "${med[L_map]}" ] && { [ -z "$L" ] || [ "${med[L_map]}" -lt "$L" ]; } &&
	    L=${med[L_map]}
	med[L]=$L
	printf '%-12s %6s %7s %7s %7s %7s %7s %7s %7s %7s %7s %6s %7s %6s %9s\n' \
	    "$name" $((size >> 20)) \
	    "$(cell "$size" "${med[L_read]}")" "$(cell "$size" "${med[L_map]}")" \
	    "$(cell "$size" "${med[mmfind]}")" "$(cell "$size" "${med[io=mmap]}")" \
	    "$(cell "$size" "${med[io=read]}")" "$(cell "$size" "${med[rg]}")" \
	    "$(cell "$size" "${med[grep]}")" "$(cell "$size" "${med[python]}")" \
	    "$(cell "$size" "${med[memmem]}")" \
	    "$(ratio "$L" "${med[mmfind]}")" \
	    "$(ratio "${med[mmfind]}" "${med[grep]}")" \
	    "$(ratio "${med[mmfind]}" "${med[rg]}")" "${hits:--}"
}

# check_L CASE: mmfind's throughput >= 0.8 x L's.
check_L() {
	[ -n "${med[mmfind]}" ] && [ -n "${med[L]}" ] ||
	    { echo "---- $1: no L"; return; }
	verdict "$1" "mmfind >= 0.8 x max(L_read, L_map)" "$(awk \
	    -v m="${med[mmfind]}" -v l="${med[L]}" 'BEGIN { print (l >= 0.8 * m) ? 1 : 0 }')" \
	    "mm/L $(ratio "${med[L]}" "${med[mmfind]}")"
}

tohex() { printf '%s' "$1" | od -An -tx1 | tr -d ' \n'; }

# ---- the synthetic corpora ---------------------------------------------

gen() {
	[ -s "$dir/$2" ] && [ "$(stat -c %s "$dir/$2")" = $((mb << 20)) ] && return
	echo "# generating $2 ($mb MiB)"
	rm -f "$dir/planted-$2"
	"$tools" gen "$1" "$mb" "$dir/$2"
}
if want random; then
	gen rand rand.bin
	[ -e "$dir/planted-rand.bin" ] ||
	    "$tools" plant "$dir/rand.bin" 5d1f0e93a6b2c48711e0f3d2a9c8b7e6 37
	touch "$dir/planted-rand.bin"
fi
if want words || want modes || want regex || want small || want peak; then
	gen text text.txt
	if [ ! -e "$dir/planted-text.txt" ]; then
		"$tools" plant "$dir/text.txt" 6e746e74 37
		"$tools" plant "$dir/text.txt" 7468657265206172652074686f736520 101
	fi
	touch "$dir/planted-text.txt"
fi
if want nul || want modes; then
	gen zero zero.bin
	[ -e "$dir/planted-zero.bin" ] ||
	    "$tools" plant "$dir/zero.bin" 00000000cafebabe 64
	touch "$dir/planted-zero.bin"
fi

echo "# $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg); RUNS=$runs; cells: $([ "$unit" = ms ] && echo ms || echo GB/s)"
echo "# mm/L: mmfind's throughput / max(L_read, L_map)'s (target >= 0.8);"
echo "# mm/grep, mm/rg: mmfind's time / theirs (lower is better)"

# synth NAME FILE HEX [MMFIND-MODE]: a row on a synthetic corpus.
synth() {
	F=("$dir/$2")
	set_pattern "$3"
	MM=${4:--c}
	bench_case "$1" warm
}

if want random || want words || want nul; then
	echo
	echo "# synthetic corpora, in large folios (evicted and read back once)"
	want random && folio_report random "$dir/rand.bin"
	want words && folio_report words "$dir/text.txt"
	want nul && folio_report nul "$dir/zero.bin"
	hdr
	PEERS="python memmem" LIMITS=1
	if want random; then
		synth R4a rand.bin 8f13c702; check_L R4a
		synth R16p rand.bin 5d1f0e93a6b2c48711e0f3d2a9c8b7e6; check_L R16p
		synth R64a rand.bin "$(printf '%0128x' 0 | sed 's/^0\{16\}/e3b0c44298fc1c14/')"
		check_L R64a
	fi
	if want words; then
		synth T4p text.txt 6e746e74; check_L T4p
		synth T4c text.txt 74686174; check_L T4c
		synth T16s text.txt 20616e6420746865206f662074686520; check_L T16s
		synth T16p text.txt 7468657265206172652074686f736520; check_L T16p
		synth T64a text.txt "$(tohex 'the quick brown fox jumps over the lazy dog and then some more words')"
		check_L T64a
	fi
	if want nul; then
		synth Z8a zero.bin 00000000deadbeef; check_L Z8a
		synth Z8p zero.bin 00000000cafebabe; check_L Z8p
		synth Z16a zero.bin 0011223344556677; check_L Z16a
	fi
fi

if want modes; then
	echo
	echo "# mmfind modes on text.txt (T16p needle; 'last' uses an absent needle)"
	hdr
	PEERS="" LIMITS=0
	synth first text.txt 7468657265206172652074686f736520 -q
	synth last-r text.txt 7a7a7a7a717171717a7a7a7a71717171 -r
	synth all-a text.txt 7468657265206172652074686f736520 -a
	synth count-j2 text.txt 7468657265206172652074686f736520 "-c -j2"
	synth z8-j2 zero.bin 00000000cafebabe "-c -j2"
fi

f=$dir/text.txt
if want regex; then
	echo
	echo "# a regex with a literal part, and 8 patterns in one pass (text.txt)"
	cat "$f" >/dev/null
	declare -a a=() b=() c=() d=()
	for ((r = 0; r < runs; r++)); do
		a+=("$(time_us $mmfind -c -P 'there are [a-z]+ people' "$f")")
		[ $have_rg = 1 ] && b+=("$(time_us rg --count-matches -a 'there are [a-z]+ people' "$f")")
		c+=("$(time_us $mmfind -c -e ntnt -e qqqq -e zzzz -e xxxx -e jjjj -e 'there are' -e wxyz -e kkkk "$f")")
		[ $have_rg = 1 ] && d+=("$(time_us rg --count-matches -a -F -e ntnt -e qqqq -e zzzz -e xxxx -e jjjj -e 'there are' -e wxyz -e kkkk "$f")")
	done
	A=$(printf '%s\n' "${a[@]}" | median); C=$(printf '%s\n' "${c[@]}" | median)
	B=$( [ ${#b[@]} -gt 0 ] && printf '%s\n' "${b[@]}" | median); D=$( [ ${#d[@]} -gt 0 ] && printf '%s\n' "${d[@]}" | median)
	printf '%-10s mmfind %6s ms   rg %6s ms   time ratio mm/rg %s\n' regex \
	    "$((A / 1000))" "$([ -n "$B" ] && echo $((B / 1000)))" "$(ratio "$A" "$B")"
	printf '%-10s mmfind %6s ms   rg %6s ms   time ratio mm/rg %s\n' 8-patterns \
	    "$((C / 1000))" "$([ -n "$D" ] && echo $((D / 1000)))" "$(ratio "$C" "$D")"
fi

if want small; then
	echo
	echo "# a 4 KiB file: mmfind -c vs grep -c (median of 200 runs each, ms)"
	head -c 4096 "$f" >"$dir/small.txt"
	s1=$(for _ in $(seq 200); do time_us $mmfind -c the "$dir/small.txt"; done | median)
	s2=$(for _ in $(seq 200); do time_us grep -c the "$dir/small.txt"; done | median)
	printf 'small      mmfind %.2f ms   grep %.2f ms\n' \
	    "$(awk -v t="$s1" 'BEGIN { print t / 1000 }')" \
	    "$(awk -v t="$s2" 'BEGIN { print t / 1000 }')"
fi

if want peak; then
	echo
	echo "# peak anonymous memory (RssAnon, sampled) of mmfind -a -j2 e on text.txt"
	echo "# (about 90 million matches per GiB: the threads' match buffers at their fullest)"
	$mmfind -a -j2 e "$f" >/dev/null &
	pid=$! peak=0
	while kill -0 "$pid" 2>/dev/null; do
		v=$(sed -n 's/^RssAnon:[[:space:]]*\([0-9]*\).*/\1/p' "/proc/$pid/status" 2>/dev/null)
		# Empty while the child execs, or once it has exited.
		[ -n "$v" ] && [ "$v" -gt "$peak" ] && peak=$v
		sleep 0.01
	done
	wait "$pid"
	echo "peak_anon  ${peak} KiB"
fi

# ---- real corpora --------------------------------------------------------

# fill OUT MiB FILE...: the files concatenated, repeated up to MiB MiB.
fill() {
	local out=$1 size=$(($2 << 20)) have=0 part
	shift 2
	part=$(cat "$@" | wc -c)
	[ "$part" -gt 0 ] || return 1
	: >"$out.tmp"
	while [ "$have" -lt "$size" ]; do
		cat "$@" >>"$out.tmp"
		have=$((have + part))
	done
	head -c "$size" "$out.tmp" >"$out" && rm -f "$out.tmp"
}

if want 4k || want readahead || want text || want cold; then
	pk=$dir/packages.txt
	if [ ! -s "$pk" ] || [ "$(stat -c %s "$pk")" != $((real_mb << 20)) ]; then
		: >"$dir/pk.src"
		for l in /var/lib/apt/lists/*_Packages*; do
			case $l in
			*.lz4) command -v lz4 >/dev/null && lz4 -dc "$l" ;;
			*.xz) xz -dc "$l" ;;
			*.gz) gzip -dc "$l" ;;
			*.diff*|*.IndexDiff) ;;
			*) cat "$l" ;;
			esac
		done >>"$dir/pk.src" 2>/dev/null
		if [ -s "$dir/pk.src" ]; then
			echo "Debian Packages indexes" >"$dir/pk.kind"
		else
			echo "# no Packages lists (apt-get update; lz4 for .lz4): /usr/share/doc and man pages instead"
			{ find /usr/share/doc -type f ! -name '*.gz' -size -1M -exec cat {} + 2>/dev/null
			  find /usr/share/doc /usr/share/man -type f -name '*.gz' -exec zcat -f {} + 2>/dev/null
			} >"$dir/pk.src"
			echo "/usr/share/doc and man text" >"$dir/pk.kind"
		fi
		fill "$pk" "$real_mb" "$dir/pk.src" || { echo "no real text"; exit 2; }
		rm -f "$dir/pk.src"
	fi
	if grep -q Packages "$dir/pk.kind"; then
		text_present='Maintainer: Debian Python Team'
	else
		text_present='Free Software Foundation'
	fi
	text_absent='Maintainer: Debian Cobol Team'
	# layout.txt: the same text, a file of its own to re-write.
	layout_src=$pk
	lay=$dir/layout.txt
	[ "$(stat -c %s "$lay" 2>/dev/null)" = "$(stat -c %s "$pk")" ] ||
	    cp "$pk" "$lay"
	echo
	echo "# real text: $(cat "$dir/pk.kind"), $real_mb MiB;" \
	    "needles '$text_present' (present), '$text_absent' (absent)"
fi

# real NAME STATE NEEDLE: a row on one real file, F set by the caller.
real() {
	set_pattern "$(tohex "$3")"
	MM=-c RGM="--count-matches -a" GM="-c -a" PEERS="" LIMITS=1
	bench_case "$1" "$2"
}

if want 4k; then
	echo
	echo "# 4k: layout.txt re-written with dd bs=4k before each run"
	F=("$lay")
	prep_run 4k "$lay"
	folio_report 4k "$lay"
	hdr
	real 4k-present 4k "$text_present"; check_L 4k-present
	real 4k-absent 4k "$text_absent"; check_L 4k-absent
fi

if want readahead; then
	echo
	echo "# readahead: layout.txt evicted and read back with cat before each run"
	F=("$lay")
	prep_run ra "$lay"
	folio_report readahead "$lay"
	hdr
	real ra-present ra "$text_present"; check_L ra-present
	real ra-absent ra "$text_absent"; check_L ra-absent
fi

if want text; then
	echo
	echo "# text: packages.txt, warm (evicted and read back once)"
	F=("$pk")
	prep_case warm "$pk"
	folio_report text "$pk"
	hdr
	for w in present absent; do
		n=text_$w
		real "text-$w" warm "${!n}"
		check_L "text-$w"
		check_le "text-$w" "mmfind <= 0.5 x grep -c -F" "${med[mmfind]}" "${med[grep]}" 0.5
		check_le "text-$w" "mmfind <= 0.4 x rg --count-matches" "${med[mmfind]}" "${med[rg]}" 0.4
	done
fi

if want cold; then
	echo
	echo "# cold: packages.txt evicted before each run (the disk may be served"
	echo "# from the host's cache: 'cold' is this guest's page cache)"
	F=("$pk")
	hdr
	real cold-present cold "$text_present"
	check_L cold-present
	check_le cold-present "mmfind <= 0.9 x grep -c -F" "${med[mmfind]}" "${med[grep]}" 0.9
	cat "$pk" >/dev/null
fi

libs=()
if want bin || want many; then
	while IFS= read -r l; do
		libs+=("$l")
	done < <(find /usr/lib/x86_64-linux-gnu -maxdepth 1 -type f -name '*.so*' | sort)
	[ ${#libs[@]} -gt 0 ] || { echo "# no /usr/lib/x86_64-linux-gnu/*.so*: no bin or many"; }
fi

if want bin && [ ${#libs[@]} -gt 0 ]; then
	bin=$dir/libs.bin
	[ "$(stat -c %s "$bin" 2>/dev/null)" = $((real_mb << 20)) ] ||
	    fill "$bin" "$real_mb" "${libs[@]}"
	echo
	echo "# bin: ${#libs[@]} shared libraries concatenated, repeated to $real_mb MiB, warm;"
	echo "# needles GLIBC_2.34 (present), GLIBC_9.99 (absent)"
	F=("$bin")
	prep_case warm "$bin"
	folio_report bin "$bin"
	hdr
	for w in present:GLIBC_2.34 absent:GLIBC_9.99; do
		real "bin-${w%%:*}" warm "${w#*:}"
		check_L "bin-${w%%:*}"
		check_le "bin-${w%%:*}" "mmfind <= 0.6 x grep -c -F" "${med[mmfind]}" "${med[grep]}" 0.6
		check_le "bin-${w%%:*}" "mmfind <= 0.5 x rg --count-matches" "${med[mmfind]}" "${med[rg]}" 0.5
	done
fi

if want many && [ ${#libs[@]} -gt 0 ]; then
	echo
	echo "# many: the ${#libs[@]} libraries as separate files, warm;" \
	    "-c: mmfind -c, rg -c, grep -c; -l: mmfind -l, rg -l, grep -l"
	F=("${libs[@]}")
	set_pattern "$(tohex GLIBC_2.34)"
	PEERS="" LIMITS=1
	hdr
	MM=-c RGM="-c -a" GM="-c -a"
	bench_case many-c warm
	check_L many-c
	check_le many-c "mmfind -c <= 0.8 x grep -c -F" "${med[mmfind]}" "${med[grep]}" 0.8
	MM=-l RGM="-l -a" GM="-l -a"
	bench_case many-l warm
	check_le many-l "mmfind -l <= 1.0 x rg -l" "${med[mmfind]}" "${med[rg]}" 1.0
fi

if want sparse; then
	img=$dir/sparse.img
	needle='mmutils:sparse!!'	# 16 bytes
	if [ "$(stat -c %s "$img" 2>/dev/null)" != $((sparse_gb << 30)) ] ||
	    [ ! -e "$dir/planted-sparse.img" ]; then
		rm -f "$img" "$dir/planted-sparse.img"
		truncate -s "${sparse_gb}G" "$img"
		# Scattered, two straddling a page boundary, one at the very end.
		for o in 123456789 $(((sparse_gb << 30) / 4 - 8)) \
		    $(((sparse_gb << 30) / 4 * 3 + 4093)) $(((sparse_gb << 30) - 16)); do
			printf '%s' "$needle" |
			    dd of="$img" bs=1 seek="$o" conv=notrunc status=none
		done
		touch "$dir/planted-sparse.img"
	fi
	echo
	echo "# sparse: a $sparse_gb GiB image, $(du -k "$img" | cut -f1) KiB allocated, 4 needles;"
	echo "# evicted before each run; resident pages before -> after each run"
	echo "# (grep is left out: the image is one line of zeros, which it would hold whole)"
	set_pattern "$(tohex "$needle")"
	declare -A st=() res=()
	sl=(mmfind io=mmap io=read)
	[ $have_rg = 1 ] && sl+=(rg)
	for ((r = 0; r < runs; r++)); do
		for t in "${sl[@]}"; do
			"$tools" evict "$img"
			pre=$(resident "$img")
			case $t in
			rg) st[$t]+="$(time_us rg -c -a "${RGPAT[@]}" "$img") " ;;
			*) F=("$img") MM=-c; st[$t]+="$(time_us run_tool "$t") " ;;
			esac
			res[$t]="$pre -> $(resident "$img")"
			[ "$t" = mmfind ] && hits=$(cat "$dir/out")
		done
	done
	"$tools" evict "$img"
	printf '%-12s %10s %26s\n' tool "$([ "$unit" = ms ] && echo ms || echo GB/s)" "resident pages (last run)"
	for t in "${sl[@]}"; do
		m=$(printf '%s\n' ${st[$t]} | median)
		med[$t]=$m
		printf '%-12s %10s %26s\n' "$t" "$(cell $((sparse_gb << 30)) "$m")" "${res[$t]}"
	done
	echo "hits (mmfind -c): $hits"
	check_le sparse "mmfind <= 0.05 x rg -c -a" "${med[mmfind]}" "${med[rg]:-}" 0.05
	# The pages of data it searched may stay; a page more is a hole read.
	before=${res[mmfind]%% ->*} after=${res[mmfind]##*-> }
	datapages=$(( $(du -k "$img" | cut -f1) / 4 ))
	verdict sparse "mmfind reads no hole (residency grows by its $datapages data pages at most)" \
	    "$([ "$after" -le $((before + datapages)) ] && echo 1 || echo 0)" "$before -> $after pages"
fi

if [ ${#verdicts[@]} -gt 0 ]; then
	echo
	echo "# targets: $(printf '%s\n' "${verdicts[@]}" | grep -c '^PASS') PASS," \
	    "$(printf '%s\n' "${verdicts[@]}" | grep -c '^MISS') MISS"
	printf '%s\n' "${verdicts[@]}"
fi
echo "# rm -rf $dir to reclaim the space"
