#!/bin/sh
# deb-check.sh [DEB|DIR [SRCDIR]] - check a built mmutils .deb: it holds
# mmutils, a link per applet of SRCDIR/src/applets.def, every man page and
# the bash completion under every name; it installs into a scratch dpkg
# root, runs from there, and removes without leaving a file behind.
#
# DEB is the .deb, or DIR the directory "make deb" built it in (default:
# deb).  Needs dpkg and dpkg-deb; not run as root, the scratch install is
# skipped (dpkg --root wants root) and the contents are checked with dpkg -x.

# ok() only prints, so "test && ok || bad" is an if-then-else here.
# shellcheck disable=SC2015
set -eu

target=${1:-deb}
srcdir=${2:-$(dirname "$0")/..}

if [ -d "$target" ]; then
	set -- "$target"/mmutils_*.deb
	[ -f "$1" ] || { echo "deb-check: no mmutils_*.deb in $target" >&2; exit 2; }
	[ $# -eq 1 ] || { echo "deb-check: several .debs in $target" >&2; exit 2; }
	deb=$1
else
	deb=$target
fi
for tool in dpkg dpkg-deb; do
	command -v "$tool" >/dev/null 2>&1 ||
	    { echo "deb-check: $tool is not installed" >&2; exit 2; }
done

applets=$(sed -n 's/^APPLET(\([a-z]*\),.*/\1/p' "$srcdir/src/applets.def")
[ -n "$applets" ] || { echo "deb-check: no applets in $srcdir/src/applets.def" >&2; exit 2; }
version=$(sed -n 's/^AC_INIT(\[mmutils\], \[\([^]]*\)\].*/\1/p' \
    "$srcdir/configure.ac")

scratch=$(mktemp -d "${TMPDIR:-/tmp}/deb-check.XXXXXX")
trap 'rm -rf "$scratch"' EXIT INT TERM
fails=0
ok() { echo "ok - $*"; }
bad() { echo "not ok - $*"; fails=$((fails + 1)); }

# --- what the package says it holds
[ "$(dpkg-deb -f "$deb" Package)" = mmutils ] && ok "package name" ||
    bad "package name is $(dpkg-deb -f "$deb" Package)"
[ "$(dpkg-deb -f "$deb" Version)" = "$version" ] && ok "version $version" ||
    bad "version is $(dpkg-deb -f "$deb" Version), configure.ac says $version"
# (dh_compress gzips the larger documents: their .gz is not checked.)
dpkg-deb -c "$deb" | awk '{ print $6 }' |
    sed 's|^\./|/|; s|/$||; s|^\(/usr/share/doc/.*\)\.gz$|\1|' \
    >"$scratch/listing"

comp=/usr/share/bash-completion/completions
want="/usr/bin/mmutils /usr/share/man/man1/mmutils.1.gz $comp/mmutils
/usr/share/doc/mmutils/copyright /usr/share/doc/mmutils/NEWS
/usr/share/doc/mmutils/README /usr/share/doc/mmutils/changelog"
for a in $applets; do
	want="$want /usr/bin/mm$a /usr/share/man/man1/mm$a.1.gz $comp/mm$a"
done
for f in $want; do
	grep -qx "$f" "$scratch/listing" && ok "dpkg-deb -c lists $f" ||
	    bad "dpkg-deb -c does not list $f"
done

# check_tree ROOT: the files are there, the links lead to mmutils, and the
# binary runs as each applet.
check_tree() {
	root=$1
	for a in $applets; do
		l=$(readlink "$root/usr/bin/mm$a" || true)
		[ "$l" = mmutils ] && ok "$2: /usr/bin/mm$a -> mmutils" ||
		    bad "$2: /usr/bin/mm$a is not a link to mmutils ($l)"
		l=$(readlink "$root$comp/mm$a" || true)
		[ "$l" = mmutils ] && ok "$2: $comp/mm$a -> mmutils" ||
		    bad "$2: $comp/mm$a is not a link to mmutils ($l)"
		[ -s "$root/usr/share/man/man1/mm$a.1.gz" ] &&
		    ok "$2: man page mm$a.1.gz" || bad "$2: no man page mm$a.1.gz"
		out=$("$root/usr/bin/mm$a" --version 2>&1 || true)
		[ "$out" = "mm$a (mmutils) $version" ] &&
		    ok "$2: mm$a --version" || bad "$2: mm$a --version: $out"
	done
	out=$("$root/usr/bin/mmutils" --list 2>&1 || true)
	[ "$out" = "$applets" ] && ok "$2: mmutils --list" ||
	    bad "$2: mmutils --list: $out"
	grep -q '^_mmutils()' "$root$comp/mmutils" &&
	    ok "$2: the completion defines _mmutils" ||
	    bad "$2: $comp/mmutils is not the completion"
}

# --- unpacked
dpkg -x "$deb" "$scratch/x"
check_tree "$scratch/x" "dpkg -x"

# --- installed into, and removed from, a scratch dpkg database
if [ "$(id -u)" = 0 ]; then
	r="$scratch/root"
	mkdir -p "$r/var/lib/dpkg/info" "$r/var/lib/dpkg/updates"
	touch "$r/var/lib/dpkg/status" "$r/var/lib/dpkg/available"
	# Its libraries live in the real root, not in the scratch database.
	if dpkg --root="$r" --force-depends --force-script-chrootless \
	    -i "$deb" >"$scratch/log" 2>&1; then
		ok "dpkg --root -i"
		check_tree "$r" "dpkg -i"
	else
		bad "dpkg --root -i failed: $(cat "$scratch/log")"
	fi
	if dpkg --root="$r" --force-depends --force-script-chrootless \
	    --purge mmutils >"$scratch/log" 2>&1; then
		ok "dpkg --root --purge"
	else
		bad "dpkg --root --purge failed: $(cat "$scratch/log")"
	fi
	left=$(cd "$r" && find . -path ./var -prune -o ! -type d -print)
	[ -z "$left" ] && ok "nothing is left after --purge" ||
	    bad "left after --purge: $left"
	left=$(cd "$r" && find . -path ./var -prune -o -type d -empty -print |
	    grep -v '^\.$' || true)
	[ -z "$left" ] || echo "# empty directories left: $left"
else
	echo "ok - # SKIP scratch dpkg --root install: not root"
fi

if [ "$fails" -ne 0 ]; then
	echo "deb-check: $fails check(s) failed" >&2
	exit 1
fi
echo "deb-check: $deb is complete"
