#!/bin/bash
# Build a tree's KUnit kernel (x86_64, or arm64 with KUNIT_ARCH=arm64; SMP,
# with the boot-time benchmark built in, not run), boot it in QEMU with 2
# CPUs and run the iopf suites.
# Usage: kunit.sh TREE BUILD_DIR LOG [kernel args]
# With INITRD=FILE, the kernel then runs FILE's /init (the demo) before it
# reboots.  An oops panics the guest and ends QEMU at once.  With
# KTAP_EXPECT=TABLE, cases of TABLE with no result are reported as CRASH,
# or as ABSENT with KTAP_HAVE=DIR when no KUNIT_CASE() of DIR/*.c has them;
# with KTAP_IGNORE=REGEX, kernel reports matching it do not fail the run.
# KUNIT_TIMEOUT (seconds, default 1800) bounds the boot.
# Writes the whole kernel log to LOG (the build's to LOG.build), prints the
# table of cases and ends with 'N passed, M failed'.  Exit status 0 when
# nothing failed.
set -uo pipefail

. "$(dirname "$0")/lib.sh"
TREE=$1 BUILD=$2 LOG=$3
shift 3

if ! kunit_build "$TREE" "$BUILD" > "$LOG.build" 2>&1; then
	echo "kunit: the kernel did not build; last lines of $LOG.build:"
	tail -40 "$LOG.build"
	exit 1
fi
qemu_boot "$BUILD" "$LOG" "${KUNIT_TIMEOUT:-1800}" "${INITRD:-}" "$@"
rc=$?
if ! grep -q "KTAP version\|TAP version" "$LOG"; then
	echo "kunit: the kernel did not boot; last lines of $LOG:"
	tail -40 "$LOG"
fi
python3 "$ROOT/scripts/ktap-table.py" "$LOG" ${KTAP_EXPECT:+--expect "$KTAP_EXPECT"} \
	${KTAP_HAVE:+--have "$KTAP_HAVE"} \
	${KTAP_IGNORE:+--ignore "$KTAP_IGNORE"}
trc=$?
[ $rc -eq 0 ] || [ $trc -ne 0 ] || echo "kunit: QEMU exited $rc"
exit $(( trc != 0 || rc != 0 ))
