#!/usr/bin/env bats
# alias.bats - popt aliases from ~/.popt apply per applet name (SPEC
# "Common rules"; the worked example of mmutils(1), POPT ALIASES).

load helpers

setup() {
	export HOME="$BATS_TEST_TMPDIR/home"
	mkdir -p "$HOME"
	# An ELF magic at offset 3, twice.
	printf 'abc\177ELFxyz\177ELF' >"$BATS_TEST_TMPDIR/f"
	f="$BATS_TEST_TMPDIR/f"
}

@test "without an alias, --elf is an unknown option" {
	run -2 --separate-stderr mmfind --elf "$f"
	[[ "$stderr" == *"mmfind: --elf"* ]]
}

@test "an alias that expands to a bad option names that option and the alias" {
	echo 'mmfind alias --elf --revers -x 7f454c46' >"$HOME/.popt"
	run -2 --separate-stderr mmfind --elf "$f"
	assert_output ""
	assert_equal "${stderr%%$'\n'*}" "mmfind: --revers: unknown option (from the alias --elf); did you mean '--reverse'?"
	echo 'mmfind alias --elf --frobnicate' >"$HOME/.popt"
	run -2 --separate-stderr mmfind --elf "$f"
	assert_equal "${stderr%%$'\n'*}" "mmfind: --frobnicate: unknown option (from the alias --elf)"
}

@test "the alias of mmutils(1), mmfind alias --elf -x 7f454c46, works" {
	echo 'mmfind alias --elf -x 7f454c46' >"$HOME/.popt"
	run -0 --separate-stderr mmfind --elf "$f"
	assert_output "3"
	[ -z "$stderr" ]
	run -0 --separate-stderr mmfind -a --elf "$f"
	assert_output "$(printf '3\n10')"
	run -0 --separate-stderr mmfind --elf -c "$f"
	assert_output "2"
}

@test "mmutils APPLET honours the aliases of mmAPPLET" {
	echo 'mmfind alias --elf -x 7f454c46' >"$HOME/.popt"
	run -0 --separate-stderr mmutils find --elf "$f"
	assert_output "3"
}

@test "an alias is given only to the applet it names" {
	echo 'mmfind alias --elf -x 7f454c46' >"$HOME/.popt"
	run -2 --separate-stderr mmread --elf "$f"
	[[ "$stderr" == *"mmread: --elf"* ]]
	[[ "$stderr" == *"Try 'mmread --help'"* ]]
}

@test "aliases of several applets live side by side, with comments" {
	cat >"$HOME/.popt" <<'POPT'
# mmutils aliases
mmfind alias --elf -x 7f454c46
mmread alias --dump -C
mmread alias --bytes -x
POPT
	run -0 --separate-stderr mmread --dump "$f" 0 8
	assert_output "$(mmread -C "$f" 0 8)"
	run -0 --separate-stderr mmfind -r --elf "$f"
	assert_output "10"
}

@test "an alias stands before an operand that looks like a negative number" {
	echo 'mmread alias --bytes -x' >"$HOME/.popt"
	run -0 --separate-stderr mmread --bytes "$f" -4
	assert_output "7f454c46"
	run -0 --separate-stderr mmread "$f" -4 --bytes
	assert_output "7f454c46"
}

@test "a broken alias is a usage error, not a crash" {
	echo 'mmfind alias --elf --no-such-option' >"$HOME/.popt"
	run -2 --separate-stderr mmfind --elf "$f"
	[[ "$stderr" == *"mmfind: "* ]]
	[[ "$stderr" == *"Try 'mmfind --help'"* ]]
}
