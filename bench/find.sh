#!/usr/bin/env bash
# bench/find.sh - mmfind against its peers, side by side, on the same files.
#
#   bench/find.sh [BUILDDIR]
#
# Generates three files (random bytes, English-like text, NUL-heavy records
# of 8 random bytes and 56 zeros) with planted needles, re-reads each into
# the page cache just before its cases, and times whole processes,
# interleaved round by round: mmfind, ripgrep, GNU grep, a Python
# mmap.find loop, a C memmem loop, and a plain one-core scan of the same
# mapping (L, the limit).  Prints medians (GB/s) and ratios.
#
# Environment: BENCH_DIR (scratch, default /var/tmp/mmutils-bench-find),
# BENCH_MB (file size in MiB, default 1024), RUNS (default 5),
# PEERS_SLOW=0 to skip grep and Python where they take minutes.
set -u
here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$here}
mmfind="$build/src/mmutils find"
dir=${BENCH_DIR:-/var/tmp/mmutils-bench-find}
mb=${BENCH_MB:-1024}
runs=${RUNS:-5}
slow=${PEERS_SLOW:-1}
export LC_ALL=C

[ -x "$build/src/mmutils" ] || { echo "build mmutils first ($build)"; exit 2; }
mkdir -p "$dir" || exit 2
command -v rg >/dev/null || echo "# ripgrep (Debian: ripgrep) not installed: its column is empty"

cat >"$dir/tools.c" <<'EOF'
/* gen: the corpora; memmem: a find-all loop; scan: the limit L. */
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

static unsigned char *
map(const char *path, size_t *len)
{
	struct stat st;
	int fd = open(path, O_RDONLY);
	void *p;

	if (fd < 0 || fstat(fd, &st) < 0)
		exit(2);
	*len = (size_t)st.st_size;
	p = mmap(NULL, *len, PROT_READ, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		exit(2);
	madvise(p, *len, MADV_SEQUENTIAL);
	return p;
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
		for (q = p; (q = memmem(q, len - (q - p), nd, n)) != NULL;
		    q += n)
			c++;
		printf("%zu\n", c);
		return 0;
	}
	if (argc == 3 && strcmp(argv[1], "scan") == 0) {
		uint64_t acc = 0, *w;

		p = map(argv[2], &len);
		w = (uint64_t *)p;
		for (i = 0; i < len / 8; i++)
			acc |= w[i];
		printf("%llu\n", (unsigned long long)(acc == 42));
		return 0;
	}
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

gen() {
	[ -s "$dir/$2" ] && [ "$(stat -c %s "$dir/$2")" = $((mb << 20)) ] && return
	echo "# generating $2 ($mb MiB)"
	"$tools" gen "$1" "$mb" "$dir/$2"
}
gen rand rand.bin
gen text text.txt
gen zero zero.bin
if [ ! -e "$dir/planted-$mb" ]; then
	"$tools" plant "$dir/rand.bin" 5d1f0e93a6b2c48711e0f3d2a9c8b7e6 37
	"$tools" plant "$dir/text.txt" 6e746e74 37
	"$tools" plant "$dir/text.txt" 7468657265206172652074686f736520 101
	"$tools" plant "$dir/zero.bin" 00000000cafebabe 64
	touch "$dir/planted-$mb"
fi

# time_ms CMD...: wall time of one run in milliseconds (output discarded).
time_ms() {
	local t0 t1
	t0=$(date +%s%N)
	"$@" >/dev/null 2>&1
	t1=$(date +%s%N)
	echo $(((t1 - t0) / 1000000))
}

median() {
	sort -n | awk '{ a[NR] = $1 } END { print (NR ? a[int((NR + 1) / 2)] : "") }'
}

gbs() {	# bytes ms -> GB/s
	[ -n "$2" ] && [ "$2" -gt 0 ] && awk -v b="$1" -v t="$2" 'BEGIN { printf "%.2f", b / t / 1e6 }' || echo "-"
}

ratio() {	# a b -> a/b
	[ -n "$1" ] && [ -n "$2" ] && [ "$2" != 0 ] && [ "$1" != "-" ] && [ "$2" != "-" ] &&
	    awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }' || echo "-"
}

# case NAME FILE HEX [MMFIND-ARGS]: one row of the table.
printf '%-10s %7s %8s %8s %8s %8s %8s %8s %9s %8s\n' case "L" mmfind rg grep python memmem "mm/L" "mm/rg(t)" hits
row() {
	local name=$1 file=$dir/$2 hex=$3 extra=${4:--c} size r
	local -a tl tm tr tg tp tc
	size=$(stat -c %s "$file")
	cat "$file" >/dev/null		# into the page cache, in large folios
	local gre re
	gre=$(echo "$hex" | sed 's/../\\x&/g')
	re="(?-u)$gre"
	for ((r = 0; r < runs; r++)); do
		tl+=("$(time_ms "$tools" scan "$file")")
		# shellcheck disable=SC2086
		tm+=("$(time_ms $mmfind $extra -x "$hex" "$file")")
		if command -v rg >/dev/null; then
			tr+=("$(time_ms rg --count-matches -a --no-unicode "$re" "$file")")
		fi
		if [ "$slow" = 1 ] && [ "$r" -lt 2 ]; then
			if [[ $hex == *00* || $hex == *0a* ]]; then
				tg+=("$(time_ms timeout 60 grep -c -a -P "$gre" "$file")")
			else
				tg+=("$(time_ms timeout 60 grep -c -a -F -e "$(printf "$gre")" "$file")")
			fi
			tp+=("$(time_ms timeout 60 python3 "$dir/pyfind.py" "$file" "$hex")")
		fi
		tc+=("$(time_ms "$tools" memmem "$file" "$hex")")
	done
	local L M R G P C
	L=$(printf '%s\n' "${tl[@]}" | median)
	M=$(printf '%s\n' "${tm[@]}" | median)
	R=$( [ ${#tr[@]} -gt 0 ] && printf '%s\n' "${tr[@]}" | median)
	G=$( [ ${#tg[@]} -gt 0 ] && printf '%s\n' "${tg[@]}" | median)
	P=$( [ ${#tp[@]} -gt 0 ] && printf '%s\n' "${tp[@]}" | median)
	C=$(printf '%s\n' "${tc[@]}" | median)
	# shellcheck disable=SC2086
	local hits=$($mmfind -c -x "$hex" "$file")
	printf '%-10s %7s %8s %8s %8s %8s %8s %8s %9s %8s\n' "$name" \
	    "$(gbs "$size" "$L")" "$(gbs "$size" "$M")" "$(gbs "$size" "$R")" \
	    "$(gbs "$size" "$G")" "$(gbs "$size" "$P")" "$(gbs "$size" "$C")" \
	    "$(ratio "$(gbs "$size" "$M")" "$(gbs "$size" "$L")")" \
	    "$(ratio "$M" "$R")" "$hits"
}

row R4a   rand.bin 8f13c702
row R16p  rand.bin 5d1f0e93a6b2c48711e0f3d2a9c8b7e6
row R64a  rand.bin "$(printf '%0128x' 0 | sed 's/^0\{16\}/e3b0c44298fc1c14/')"
row T4p   text.txt 6e746e74
row T4c   text.txt 74686174
row T16s  text.txt 20616e6420746865206f662074686520
row T16p  text.txt 7468657265206172652074686f736520
row T64a  text.txt "$(printf 'the quick brown fox jumps over the lazy dog and then some more words' | head -c 64 | od -An -tx1 | tr -d ' \n')"
row Z8a   zero.bin 00000000deadbeef
row Z8p   zero.bin 00000000cafebabe
row Z16a  zero.bin 0011223344556677
echo
echo "# mmfind modes on text.txt (T16p needle; 'last' uses an absent needle)"
row first text.txt 7468657265206172652074686f736520 -q
row last-r  text.txt 7a7a7a7a717171717a7a7a7a71717171 -r
row all-a   text.txt 7468657265206172652074686f736520 -a
row count-j2 text.txt 7468657265206172652074686f736520 "-c -j2"
row z8-j2   zero.bin 00000000cafebabe "-c -j2"

echo
echo "# a regex with a literal part, and 8 patterns in one pass (text.txt)"
f=$dir/text.txt
cat "$f" >/dev/null
declare -a a b c d
for ((r = 0; r < runs; r++)); do
	a+=("$(time_ms $mmfind -c -P 'there are [a-z]+ people' "$f")")
	command -v rg >/dev/null && b+=("$(time_ms rg --count-matches -a 'there are [a-z]+ people' "$f")")
	c+=("$(time_ms $mmfind -c -e ntnt -e qqqq -e zzzz -e xxxx -e jjjj -e 'there are' -e wxyz -e kkkk "$f")")
	command -v rg >/dev/null && d+=("$(time_ms rg --count-matches -a -F -e ntnt -e qqqq -e zzzz -e xxxx -e jjjj -e 'there are' -e wxyz -e kkkk "$f")")
done
A=$(printf '%s\n' "${a[@]}" | median); C=$(printf '%s\n' "${c[@]}" | median)
B=$( [ ${#b[@]} -gt 0 ] && printf '%s\n' "${b[@]}" | median); D=$( [ ${#d[@]} -gt 0 ] && printf '%s\n' "${d[@]}" | median)
printf '%-10s mmfind %6s ms   rg %6s ms   time ratio mm/rg %s\n' regex "$A" "$B" "$(ratio "$A" "$B")"
printf '%-10s mmfind %6s ms   rg %6s ms   time ratio mm/rg %s\n' 8-patterns "$C" "$D" "$(ratio "$C" "$D")"

echo
echo "# a 4 KiB file: mmfind -c vs grep -c (median of 200 runs each, ms)"
head -c 4096 "$f" >"$dir/small.txt"
s1=$(for i in $(seq 200); do time_ms $mmfind -c the "$dir/small.txt"; done | median)
s2=$(for i in $(seq 200); do time_ms grep -c the "$dir/small.txt"; done | median)
echo "small      mmfind $s1 ms   grep $s2 ms"
echo
echo "# peak anonymous memory (RssAnon, sampled) of mmfind -a -j2 e on text.txt"
echo "# (about 90 million matches: the threads' match buffers at their fullest)"
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
echo "# rm -rf $dir to reclaim the space"
