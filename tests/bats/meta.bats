#!/usr/bin/env bats
# meta.bats - every applet has what every applet must have.

load helpers

applets() {
	mmutils --list
}

@test "mmutils --list names the applets of the registry, in order" {
	run -0 --separate-stderr mmutils --list
	want=$(sed -n 's/^APPLET(\([a-z]*\),.*/\1/p' "$MM_SRCDIR/src/applets.def")
	assert_output "$want"
	[ -z "$stderr" ]
}

@test "the Makefile's applet list agrees with the registry" {
	[ -n "${MM_APPLETS:-}" ] || skip "run through make check"
	assert_equal "$(echo $MM_APPLETS)" "$(echo $(mmutils --list))"
}

@test "mmutils --help, --version and a bare call behave" {
	run -0 --separate-stderr mmutils --help
	assert_output --partial "Usage: mmutils APPLET"
	run -0 --separate-stderr mmutils --version
	assert_output --regexp '^mmutils \(mmutils\) [0-9]+\.[0-9]+\.[0-9]+$'
	# --usage: the synopsis that --help starts with, and nothing else.
	run -0 --separate-stderr mmutils --usage
	assert_equal "$stderr" ""
	assert_line --index 0 --partial "Usage: mmutils APPLET"
	assert_equal "${#lines[@]}" 3
	assert_equal "$output" "$(mmutils --help | head -3)"
	run -2 --separate-stderr mmutils
	[[ "$stderr" == *"Try 'mmutils --help'"* ]]
}

@test "an unknown applet exits 127 and lists the applets" {
	run -127 --separate-stderr mmutils frobnicate
	[[ "$stderr" == *"'frobnicate': unknown applet"* ]]
	for a in $(applets); do
		[[ "$stderr" == *"$a"* ]]
	done
}

@test "a link whose name is no applet exits 127 and lists the applets" {
	ln -s "$MM_BUILDDIR/src/mmutils" "$BATS_TEST_TMPDIR/mmnosuch"
	run -127 --separate-stderr "$BATS_TEST_TMPDIR/mmnosuch" --help
	assert_output ""
	[[ "$stderr" == *"'mmnosuch': unknown applet"* ]]
	for a in $(applets); do
		[[ "$stderr" == *"$a"* ]]
	done
	ln -s "$MM_BUILDDIR/src/mmutils" "$BATS_TEST_TMPDIR/nosuch"
	run -127 --separate-stderr "$BATS_TEST_TMPDIR/nosuch"
	[[ "$stderr" == *"'nosuch': unknown applet"* ]]
}

@test "every applet answers --help on stdout with empty stderr, exit 0" {
	for a in $(applets); do
		run -0 --separate-stderr "mm$a" --help
		assert_output --partial "Usage: mm$a"
		[ -z "$stderr" ] || fail "mm$a --help wrote to stderr: $stderr"
		run -0 --separate-stderr "mm$a" -'?'
		run -0 --separate-stderr "mm$a" --usage
	done
}

@test "every applet answers --version and -V" {
	for a in $(applets); do
		run -0 --separate-stderr "mm$a" --version
		assert_output --regexp "^mm$a \(mmutils\) [0-9]+\.[0-9]+\.[0-9]+\$"
		run -0 --separate-stderr "mm$a" -V
	done
}

@test "mmutils APPLET behaves exactly like the link" {
	for a in $(applets); do
		run -0 --separate-stderr mmutils "$a" --help
		link_out=$("mm$a" --help)
		assert_equal "$output" "$link_out"
	done
}

@test "every applet rejects a bogus option with exit 2 and a Try line" {
	for a in $(applets); do
		run -2 --separate-stderr "mm$a" --no-such-option
		[[ "$stderr" == *"mm$a: --no-such-option"* ]] ||
		    fail "mm$a: message was: $stderr"
		[[ "$stderr" == *"Try 'mm$a --help' for more information."* ]]
	done
}

@test "a mistyped long option is answered with the nearest one" {
	run -2 --separate-stderr mmfind --revers A /dev/null
	assert_equal "$stderr" "mmfind: --revers: unknown option; did you mean '--reverse'?
Try 'mmfind --help' for more information."
	# A unique prefix, a value, two letters swapped, an included table.
	run -2 --separate-stderr mmfind --overl -a A /dev/null
	assert_equal "${stderr%%$'\n'*}" "mmfind: --overl: unknown option; did you mean '--overlap'?"
	run -2 --separate-stderr mmpatch --scrpt=fix.patch f
	assert_equal "${stderr%%$'\n'*}" "mmpatch: --scrpt=fix.patch: unknown option; did you mean '--script'?"
	run -2 --separate-stderr mmadvise --wiat f willneed
	assert_equal "${stderr%%$'\n'*}" "mmadvise: --wiat: unknown option; did you mean '--wait'?"
	run -2 --separate-stderr mmread --verison
	assert_equal "${stderr%%$'\n'*}" "mmread: --verison: unknown option; did you mean '--version'?"
	run -2 --separate-stderr mmflush --hepl
	assert_equal "${stderr%%$'\n'*}" "mmflush: --hepl: unknown option; did you mean '--help'?"
	# Nothing near, or two as near: no guess.
	run -2 --separate-stderr mmfind --frobnicate A /dev/null
	assert_equal "${stderr%%$'\n'*}" "mmfind: --frobnicate: unknown option"
	run -2 --separate-stderr mmread --h f
	assert_equal "${stderr%%$'\n'*}" "mmread: --h: unknown option"
}

@test "every applet has a man page that names each of its long options" {
	for a in $(applets); do
		page="$MM_SRCDIR/man/mm$a.1"
		[ -f "$page" ] || fail "man/mm$a.1 is missing"
		for opt in $("mm$a" --help | grep -o -- '--[a-z][a-z-]*' |
		    sort -u); do
			case "$opt" in --help|--usage|--version) continue ;; esac
			grep -q -- "${opt//-/\\\\-}" "$page" ||
			    grep -q -- "$opt" "$page" ||
			    fail "man/mm$a.1 does not mention $opt"
		done
	done
}

@test "the man pages name no option that no applet has" {
	known=" $(for a in $(applets); do "mm$a" --help; done |
	    grep -o -- '--[a-z][a-z-]*' | sort -u | tr '\n' ' ') "
	# Other programs' options, and the popt aliases of an example.
	known+=" --offset --length --punch-hole --reflink"
	known+=" --with-bash-completion-dir --elf --dump "
	for page in "$MM_SRCDIR"/man/*.1; do
		for opt in $(grep -o -- '\\-\\-[a-z][a-z\\-]*' "$page" |
		    sed 's/\\//g' | sort -u); do
			[[ "$known" == *" $opt "* ]] ||
			    fail "${page##*/} names $opt, which no applet has"
		done
	done
}

@test "every applet has its own Bats file" {
	for a in $(applets); do
		[ -f "$MM_SRCDIR/tests/bats/$a.bats" ] ||
		    fail "tests/bats/$a.bats is missing"
	done
}

@test "the man pages are clean under the linter" {
	lint="${MM_MANLINT:-}"
	[ -n "$lint" ] || lint=$(command -v mandoc || command -v groff || true)
	[ -n "$lint" ] || skip "neither mandoc nor groff is installed"
	for page in "$MM_SRCDIR"/man/*.1; do
		case "$lint" in
		*mandoc) run -0 --separate-stderr "$lint" -Tlint -Wwarning "$page" ;;
		*) run -0 --separate-stderr "$lint" -man -ww -z "$page" ;;
		esac
		[ -z "$output$stderr" ] || fail "$page: $output $stderr"
	done
}

@test "the README mentions every applet" {
	for a in $(applets); do
		grep -q "mm$a" "$MM_SRCDIR/README" || fail "README lacks mm$a"
	done
}

# Python's index -0 is 0: m[-0] is the first byte, find(sub, -0) searches
# from the start, and find(sub, 0, -0) searches an empty window.
@test "-0 is offset 0, the start, for every applet, as in Python" {
	need_python
	cd "$BATS_TEST_TMPDIR"
	printf 'ABCDEFGH' >f
	run -0 --separate-stderr mmread f -0 4
	assert_output "$("$PYTHON3" -c 'import sys; sys.stdout.write("ABCDEFGH"[-0:][:4])')"
	run -0 mmread -b f -0
	assert_output "$("$PYTHON3" -c 'print(b"ABCDEFGH"[-0])')"
	run -0 mmread -- f -0x0
	assert_output "ABCDEFGH"
	# mmpatch: OFFSET, offsets from standard input, and a script.
	cp f p
	cp f py
	run -0 --separate-stderr mmpatch p -0 ab
	"$PYTHON3" -c '
import mmap
with open("py", "r+b") as fh:
    m = mmap.mmap(fh.fileno(), 0)
    m[-0:2] = b"ab"
    m.close()'
	cmp p py
	cp f p
	printf -- '-0\n-1\n' | mmpatch p - -x 7a
	[ "$(cat p)" = "zBCDEFGz" ]
	cp f p
	printf -- '-0 7a\n' | mmpatch --script=- p
	[ "$(cat p)" = "zBCDEFGH" ]
	# mmresize --at=-0 inserts at the start, not at the end.
	cp f r
	run -0 --separate-stderr mmresize --at=-0 --fill=2a r +3
	[ "$(cat r)" = "***ABCDEFGH" ]
	cp f r
	run -0 --separate-stderr mmresize --at=-0 r -- -2
	[ "$(cat r)" = "CDEFGH" ]
	# mmflush and mmadvise take -0 as the whole file from the start.
	run -0 --separate-stderr mmflush f -0 8
	run -0 --separate-stderr mmadvise f willneed -0 8
}
