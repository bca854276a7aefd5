#!/bin/bash
# Build a tree's KUnit kernel for x86_64, boot it in QEMU and run the iopf
# suite.  Usage: kunit.sh TREE BUILD_DIR LOG [extra kunit.py args]
# Writes the whole kernel log to LOG, prints the table of cases and ends
# with 'N passed, M failed'.  Exit status 0 when nothing failed.
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
# ccache: key objects on paths relative to the build, so that a fresh clone
# elsewhere on the machine reuses them.
export CCACHE_BASEDIR="$ROOT" CCACHE_NOHASHDIR=true
TREE=$1 BUILD=$2 LOG=$3
shift 3

CC="gcc"
command -v ccache >/dev/null && CC="ccache gcc"

mkdir -p "$BUILD"
(cd "$TREE" && ./tools/testing/kunit/kunit.py run --arch=x86_64 \
	--kunitconfig=lib/tests/.kunitconfig --build_dir="$BUILD" \
	--jobs="$(nproc)" --make_options "CC=$CC" --timeout=1200 \
	--raw_output=all "$@") > "$LOG" 2>&1
rc=$?
if ! grep -q "KTAP version\|TAP version" "$LOG"; then
	echo "kunit: the kernel did not build or boot; last lines of $LOG:"
	tail -40 "$LOG"
fi
python3 "$ROOT/scripts/ktap-table.py" "$LOG"
trc=$?
[ $rc -eq 0 ] || [ $trc -ne 0 ] || echo "kunit: kunit.py exited $rc"
exit $(( trc != 0 || rc != 0 ))
