#!/usr/bin/env bats
# completion.bats - the bash completion (completion/mmutils), run as bash
# runs it: sourced with bash-completion, the function called with
# COMP_WORDS/COMP_CWORD set for a command line (tests/bats/complete.bash).

load helpers

setup() {
	MM_BASH_COMPLETION=/usr/share/bash-completion/bash_completion
	[ -f "$MM_BASH_COMPLETION" ] ||
	    skip "bash-completion is not installed"
	MM_COMPLETION="$MM_SRCDIR/completion/mmutils"
	export MM_BASH_COMPLETION MM_COMPLETION
	# File names are completed relative to here.
	mkdir "$BATS_TEST_TMPDIR/work"
	cd "$BATS_TEST_TMPDIR/work"
	touch disk.img data.bin
	mkdir sub
	# No popt aliases but the tests' own.
	export HOME="$BATS_TEST_TMPDIR/home"
	mkdir -p "$HOME"
}

# comp LINE: the candidates for LINE, sorted, in $output.
comp() {
	run -0 --separate-stderr bash "$MM_SRCDIR/tests/bats/complete.bash" "$1"
	output=$(printf '%s\n' "$output" | sed '/^$/d' | sort)
	lines=()
	[ -z "$output" ] || mapfile -t lines <<<"$output"
}

# The long options mmAPPLET --help shows, as the completion offers them.
long_options() {
	"mm$1" --help | sed -n 's/^  \(-[^-], \)\{0,1\} *\(--[a-z][a-z-]*=\{0,1\}\).*/\2/p' |
	    sort
}

@test "mmutils completes the applet names of mmutils --list" {
	comp "mmutils "
	assert_output "$(mmutils --list | sort)"
	comp "mmutils rea"
	assert_output "read"
}

@test "mmutils completes its own options before an applet" {
	comp "mmutils --"
	assert_output "$(printf '%s\n' --help --list --usage --version | sort)"
}

@test "every applet link completes every long option of its --help" {
	for a in $(mmutils --list); do
		want=$(long_options "$a")
		[ -n "$want" ] || fail "mm$a --help shows no long option"
		comp "mm$a --"
		assert_output "$want"
	done
}

@test "mmutils APPLET completes the same options as the link" {
	for a in $(mmutils --list); do
		comp "mm$a --"
		link=$output
		comp "mmutils $a --"
		assert_output "$link"
		comp "mmutils mm$a --"
		assert_output "$link"
	done
}

@test "short options are offered only where no long one exists" {
	comp "mmread -"
	assert_output --partial "--hexdump"
	refute_line -- "-C"
}

@test "mmread completes --whole-line, which takes no value" {
	comp "mmread --wh"
	assert_output "--whole-line"
	[[ "$stderr" != *"nospace"* ]]
	comp "mmread log.txt - --wh"
	assert_output "--whole-line"
}

@test "an option taking a value completes with = and no space" {
	comp "mmfind --ra"
	assert_output "--radix="
	[[ "$stderr" == *"compopt -o nospace"* ]]
	comp "mmfind --overl"
	assert_output "--overlap"
	[[ "$stderr" != *"nospace"* ]]
}

@test "--radix completes its values d and x, after = or a blank" {
	comp "mmfind --radix="
	assert_output "$(printf 'd\nx')"
	comp "mmfind --radix x"
	assert_output "x"
	comp "mmfind -a --radix "
	assert_output "$(printf 'd\nx')"
}

@test "the FILE operand completes file names" {
	comp "mmread "
	assert_output "$(printf 'data.bin\ndisk.img\nsub')"
	comp "mmread di"
	assert_output "disk.img"
	comp "mmutils read da"
	assert_output "data.bin"
}

@test "number operands complete nothing" {
	comp "mmread disk.img "
	assert_output ""
	comp "mmread disk.img 0 "
	assert_output ""
	comp "mmread disk.img 0 16 "
	assert_output ""
}

@test "mmfind completes file names after its pattern, and after -x HEX" {
	comp "mmfind needle "
	assert_line "disk.img"
	comp "mmfind -a needle data.bin "
	assert_line "disk.img"
	comp "mmfind -x 7f454c46 "
	assert_line "disk.img"
	comp "mmfind --hex=7f454c46 -- "
	assert_line "disk.img"
}

@test "an option's value is not taken for an operand" {
	# -x HEX, -s OFFSET: no file names for the values themselves.
	comp "mmfind -x "
	assert_output ""
	comp "mmfind -ax "
	assert_output ""
	comp "mmfind --start "
	assert_output ""
	# -f FILE: file names.
	comp "mmfind -f "
	assert_line "disk.img"
	comp "mmfind --from-file=d"
	assert_output "$(printf 'data.bin\ndisk.img')"
	# -m3 carries its value: next is an operand.
	comp "mmfind -m3 needle "
	assert_line "disk.img"
}

@test "--undo and --script complete file names; -R and --replace are offered" {
	comp "mmfind --undo=d"
	assert_output "$(printf 'data.bin\ndisk.img')"
	comp "mmpatch --undo d"
	assert_output "$(printf 'data.bin\ndisk.img')"
	comp "mmpatch --script=d"
	assert_output "$(printf 'data.bin\ndisk.img')"
	comp "mmfind --repl"
	assert_line -- "--replace="
	assert_line -- "--replace-hex="
	[ "${#lines[@]}" = 2 ]
	comp "mmfind --recur"
	assert_output "--recursive"
}

@test "mmpatch --script and --undo complete file names" {
	comp "mmpatch --script=d"
	assert_output "$(printf 'data.bin\ndisk.img')"
	comp "mmpatch --script d"
	assert_output "$(printf 'data.bin\ndisk.img')"
	comp "mmpatch disk.img - --undo=da"
	assert_output "data.bin"
	comp "mmpatch --undo "
	assert_output "$(printf 'data.bin\ndisk.img\nsub')"
}

@test "mmadvise --map= completes resident, missing and all" {
	comp "mmadvise --map="
	assert_output "$(printf 'all\nmissing\nresident')"
	comp "mmadvise disk.img --map=m"
	assert_output "missing"
	# The value is optional: it is never the next word, which is FILE.
	comp "mmadvise --map d"
	assert_output "$(printf 'data.bin\ndisk.img')"
	comp "mmadvise --ma"
	assert_output "--map"
}

@test "operands that look like negative numbers count as operands" {
	comp "mmread -- disk.img -4 "
	assert_output ""
	comp "mmfind -s -4 needle "
	assert_line "disk.img"
	comp "mmread -x "
	assert_output "$(printf 'data.bin\ndisk.img\nsub')"
}

@test "after -- every word is an operand, never an option" {
	comp "mmread -- --"
	[[ "$output" != *hexdump* ]]
}

@test "popt aliases of ~/.popt complete as options of their applet" {
	printf 'mmfind alias --elf -x 7f454c46\nmmread alias --dump -C\n' \
	    >"$HOME/.popt"
	comp "mmfind --el"
	assert_output "--elf"
	comp "mmread --el"
	assert_output ""
}

# A stand-in mmadvise in the popt help format whose --list (NAME, then a
# description) works when the argument is not empty: the interface the
# completion relies on.
fake_mmadvise() {
	mkdir -p "$BATS_TEST_TMPDIR/fake"
	cat >"$BATS_TEST_TMPDIR/fake/mmadvise" <<EOF
#!/bin/sh
case "\$1" in
--help)
	echo 'Usage: mmadvise [OPTION]... FILE [ADVICE [OFFSET [LENGTH]]]'
	echo '  -v, --verbose      report what was done'
	echo '      --progress     show progress'
	;;
--list)
	[ -n "$1" ] || exit 2
	printf '%-16s %s\n' normal 'no special treatment' willneed \
	    'read it in' wonder 'an advice of the future'
	;;
*) exit 2 ;;
esac
EOF
	chmod +x "$BATS_TEST_TMPDIR/fake/mmadvise"
	PATH="$BATS_TEST_TMPDIR/fake:$PATH"
	# Loaded as bash-completion loads it for mmadvise: through its link.
	mkdir -p "$BATS_TEST_TMPDIR/completions"
	ln -s "$MM_COMPLETION" "$BATS_TEST_TMPDIR/completions/mmadvise"
	MM_COMPLETION="$BATS_TEST_TMPDIR/completions/mmadvise"
}

@test "an ADVICE operand completes the names mmadvise --list prints" {
	fake_mmadvise yes
	comp "mmadvise disk.img w"
	assert_output "$(printf 'willneed\nwonder')"
	comp "mmadvise --"
	assert_output "$(printf -- '--progress\n--verbose')"
	comp "mmadvise disk.img willneed "
	assert_output ""
}

@test "when mmadvise --list fails, ADVICE completes the advice names of SPEC" {
	fake_mmadvise ""
	comp "mmadvise disk.img w"
	assert_output "willneed"
	comp "mmadvise disk.img populate-"
	assert_output "$(printf 'populate-read\npopulate-write')"
}

@test "the real mmadvise completes its advice names" {
	comp "mmadvise disk.img willn"
	assert_output "willneed"
	comp "mmadvise disk.img ev"
	assert_output "evict"
	comp "mmadvise disk.img populate-"
	assert_output "$(printf 'populate-read\npopulate-write')"
}

@test "a command that does not run falls back to file names" {
	comp "./nowhere/mmread "
	assert_line "disk.img"
	comp "mmutils frobnicate "
	assert_output ""
}

@test "bash-completion's loader finds the completion under every name" {
	dir="$BATS_TEST_TMPDIR/share/bash-completion/completions"
	mkdir -p "$dir"
	cp "$MM_COMPLETION" "$dir/mmutils"
	for a in $(mmutils --list); do
		ln -s mmutils "$dir/mm$a"
	done
	for name in mmutils $(mmutils --list | sed 's/^/mm/'); do
		# A PATH without mmutils: each link registers its own name.
		run -0 --separate-stderr env PATH=/usr/bin:/bin \
		    BASH_COMPLETION_USER_DIR="$BATS_TEST_TMPDIR/share/bash-completion" \
		    bash -c 'source "$1"; __load_completion "$2"; complete -p "$2"' \
		    _ "$MM_BASH_COMPLETION" "$name"
		assert_output "complete -F _mmutils $name"
	done
}

@test "any applet's help is read: optional values, short-only options" {
	# A stand-in for an applet of another shape, in popt's help format.
	mkdir -p "$BATS_TEST_TMPDIR/fake" "$BATS_TEST_TMPDIR/completions"
	cat >"$BATS_TEST_TMPDIR/fake/mmresize" <<'EOF2'
#!/bin/sh
[ "$1" = --help ] || exit 2
echo 'Usage: mmresize [OPTION]... FILE SIZE'
echo '  -c, --no-create     do not create FILE'
echo '      --at=OFFSET     grow or shrink at OFFSET'
echo '      --fill[=HEX]    new bytes repeat HEX'
echo '  -k N                a short option with a value'
EOF2
	chmod +x "$BATS_TEST_TMPDIR/fake/mmresize"
	PATH="$BATS_TEST_TMPDIR/fake:$PATH"
	ln -s "$MM_COMPLETION" "$BATS_TEST_TMPDIR/completions/mmresize"
	MM_COMPLETION="$BATS_TEST_TMPDIR/completions/mmresize"
	comp "mmresize --"
	assert_output "$(printf -- '--at=\n--fill\n--no-create')"
	# --fill takes its value only after "=": the next word is FILE.
	comp "mmresize --fill d"
	assert_output "$(printf 'data.bin\ndisk.img')"
	comp "mmresize -k "
	assert_output ""
	comp "mmresize -k 3 d"
	assert_output "$(printf 'data.bin\ndisk.img')"
	comp "mmresize disk.img "
	assert_output ""
}

@test "mmfind's output options complete, and --patterns-from= takes file names" {
	comp "mmfind --patterns"
	assert_output -- "--patterns-from="
	comp "mmfind --patterns-from=d"
	assert_output "$(printf 'data.bin\ndisk.img')"
	comp "mmfind --js"
	assert_output -- "--json"
	comp "mmfind --files-w"
	assert_line -- "--files-with-matches"
	assert_line -- "--files-without-match"
	comp "mmfind --only"
	assert_output -- "--only-matching"
}
