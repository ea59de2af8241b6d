#!/bin/sh
# run.sh BATS SPEC.io: run a Bats suite with MMUTILS_IO set, as SPEC.io
# (a few shell assignments) says: MMUTILS_IO, the mode; suite, the name
# of a .bats file beside this directory; filter, optionally, a regex that
# picks its tests.  So make check runs the searching suites with every
# file mapped and with every file read with pread, besides the default
# (auto), each run one test of the harness with its own log.
set -eu
bats=$1
spec=$2
MMUTILS_IO=
suite=
filter=
case $spec in
*/*) ;;
*) spec=./$spec ;;
esac
. "$spec"
export MMUTILS_IO
echo "# MMUTILS_IO=$MMUTILS_IO: $suite.bats${filter:+, tests matching $filter}"
dir=$(dirname "$spec")
if [ -n "$filter" ]; then
	exec "$bats" --tap --filter "$filter" "$dir/../$suite.bats"
fi
exec "$bats" --tap "$dir/../$suite.bats"
