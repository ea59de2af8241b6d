#!/usr/bin/env bats
# release.bats - one version everywhere, NEWS and the packaging in step
# with the applets of the registry.

load helpers

# The version of configure.ac's AC_INIT.
version() {
	sed -n 's/^AC_INIT(\[mmutils\], \[\([^]]*\)\].*/\1/p' \
	    "$MM_SRCDIR/configure.ac"
}

@test "configure.ac's version is what every --version prints" {
	v=$(version)
	[ -n "$v" ]
	run -0 --separate-stderr mmutils --version
	assert_output "mmutils (mmutils) $v"
	for a in $(mmutils --list); do
		run -0 --separate-stderr "mm$a" --version
		assert_output "mm$a (mmutils) $v"
	done
}

@test "every man page is dated for configure.ac's version" {
	v=$(version)
	for page in "$MM_SRCDIR"/man/*.1; do
		grep -q "^\.TH .* \"mmutils $v\"" "$page" ||
		    fail "$page: .TH does not name mmutils $v"
	done
}

@test "debian/changelog's newest entry is configure.ac's version" {
	[ -f "$MM_SRCDIR/debian/changelog" ] || fail "debian/changelog is missing"
	top=$(sed -n '1s/^mmutils (\([^)]*\)).*/\1/p' "$MM_SRCDIR/debian/changelog")
	assert_equal "$top" "$(version)"
}

@test "NEWS has an entry for this version and names every applet" {
	news="$MM_SRCDIR/NEWS"
	grep -q "^Version $(version)\$" "$news" ||
	    fail "NEWS has no 'Version $(version)' heading"
	for a in $(mmutils --list); do
		grep -q "mm$a:" "$news" || fail "NEWS does not name mm$a"
	done
}

@test "every packaging and completion file is in the tarball's list" {
	# The files the project keeps, in a git checkout of it (a build
	# leaves its own files in debian/).
	top=$(git -C "$MM_SRCDIR" rev-parse --show-toplevel 2>/dev/null) ||
	    skip "not a git checkout"
	[ "$(cd "$top" && pwd -P)" = "$(cd "$MM_SRCDIR" && pwd -P)" ] ||
	    skip "not a git checkout"
	files=$(git -C "$MM_SRCDIR" ls-files debian completion)
	[ -n "$files" ]
	for f in $files; do
		grep -q "^[[:space:]]*$f\\>" "$MM_SRCDIR/Makefile.am" ||
		    fail "$f is missing from Makefile.am (EXTRA_DIST)"
	done
}
