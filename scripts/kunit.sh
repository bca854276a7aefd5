#!/bin/bash
# Build a tree's KUnit kernel for x86_64 (with the boot-time benchmark built
# in, not run), boot it in QEMU with 2 CPUs and run the iopf suite.
# Usage: kunit.sh TREE BUILD_DIR LOG [extra kunit.py args]
# An oops panics the guest and ends QEMU at once.  With KTAP_EXPECT=TABLE,
# cases of TABLE with no result are reported as CRASH.
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
	--kconfig_add=CONFIG_IOPF_BENCH=y --qemu_args="-smp 2" \
	--kernel_args=oops=panic --kernel_args=panic=-1 \
	--raw_output=all "$@") > "$LOG" 2>&1
rc=$?
if ! grep -q "KTAP version\|TAP version" "$LOG"; then
	echo "kunit: the kernel did not build or boot; last lines of $LOG:"
	tail -40 "$LOG"
fi
python3 "$ROOT/scripts/ktap-table.py" "$LOG" ${KTAP_EXPECT:+--expect "$KTAP_EXPECT"}
trc=$?
[ $rc -eq 0 ] || [ $trc -ne 0 ] || echo "kunit: kunit.py exited $rc"
exit $(( trc != 0 || rc != 0 ))
