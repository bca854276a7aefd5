#!/bin/bash
# make test-debug: the KUnit suites, a long torture run and the demo in a
# kernel with KASAN, lockdep (PROVE_LOCKING), DEBUG_ATOMIC_SLEEP,
# DEBUG_OBJECTS_WORK, kmemleak and FAILSLAB, under QEMU.  Fails on any
# failed case, any KASAN, lockdep, debug-objects, kmemleak (for objects
# allocated by the iopf code) or WARN report, and unless the torture line
# shows lost=0 duplicates=0 leaks=0 splats=0 after at least
# $TORTURE_GROUPS groups.  Ends with 'N passed, M failed'.
#
# KUNIT_ARCH=arm64 make test-debug: the same on the arm64 kernel (where the
# iopf_sva suite runs), without the demo (an x86_64 program) and so without
# kmemleak, whose scan the demo's /init triggers.
set -uo pipefail

. "$(dirname "$0")/lib.sh"
TORTURE_GROUPS=${TORTURE_GROUPS:-100000}
KCONFIG_ADD="CONFIG_KASAN=y CONFIG_KASAN_GENERIC=y
	CONFIG_PROVE_LOCKING=y CONFIG_DEBUG_ATOMIC_SLEEP=y
	CONFIG_DEBUG_OBJECTS=y CONFIG_DEBUG_OBJECTS_WORK=y CONFIG_FAILSLAB=y"
if [ "$KUNIT_ARCH" = arm64 ]; then
	BUILD=$B/kunit-arm64-debug
	LOG=$B/kunit-arm64-debug.log
else
	BUILD=$B/kunit-x86-debug
	LOG=$B/kunit-debug.log
	KCONFIG_ADD="$KCONFIG_ADD CONFIG_DEBUG_KMEMLEAK=y"
fi
TABLE=$LOG.table
export KCONFIG_ADD
export KUNIT_TIMEOUT=3600
bad=0

echo "test-debug: building the $KUNIT_ARCH debug kernel (KASAN, lockdep...) if needed, booting it"
if [ "$KUNIT_ARCH" = arm64 ]; then
	"$ROOT/scripts/kunit.sh" "$T" "$BUILD" "$LOG" \
		iopf_torture.groups="$TORTURE_GROUPS" iopf_torture.rounds=4 \
		iopf_torture.seconds=10 > "$TABLE" || bad=1
	demo=
else
	kunit_demo "$BUILD" "$LOG" iopf_torture.groups="$TORTURE_GROUPS" \
		iopf_torture.rounds=4 iopf_torture.seconds=10 \
		> "$TABLE" || bad=1
	demo=--demo
fi
grep -E ' (FAIL|CRASH)$' "$TABLE"
python3 "$ROOT/scripts/summary.py" "$LOG" "$TABLE" $demo |
	sed -n '/^KUnit/,/^Demo/p' | grep -v '^Demo' || bad=1

echo
echo "Debug reports in the kernel log ($LOG):"
count() {	# count LABEL REGEX
	local n
	n=$(grep -cE "$2" "$LOG")
	printf '  %-34s %s\n' "$1" "$n"
	[ "$n" -eq 0 ] || { grep -m3 -E "$2" "$LOG" | sed 's/^/    /'; bad=1; }
}
count "KASAN" "BUG: KASAN"
count "lockdep" "WARNING: possible|INFO: possible|WARNING: inconsistent|BUG: held lock|WARNING: lock held"
count "sleeping in atomic context" "BUG: sleeping function|BUG: scheduling while atomic"
count "debug objects" "ODEBUG:"
count "WARN" "WARNING: CPU|------------\\[ cut here \\]"
count "other BUG/oops" "BUG: unable|Oops:|general protection fault|Kernel panic"

# kmemleak: unreferenced objects whose allocation backtrace is ours.
[ "$KUNIT_ARCH" = arm64 ] || python3 - "$LOG" <<'PY' || bad=1
import re, sys
objs, cur = [], None
for line in open(sys.argv[1], errors='replace'):
    line = re.sub(r'^\[\s*[0-9.]+\]\s?', '', line.rstrip('\n'))
    if not line.startswith('kmemleak-report: '):
        continue
    line = line[len('kmemleak-report: '):]
    if line.startswith('unreferenced object'):
        cur = [line]
        objs.append(cur)
    elif cur is not None:
        cur.append(line)
ran = any(True for l in open(sys.argv[1], errors='replace') if 'kmemleak-report: end' in l)
ours = [o for o in objs if any(re.search(r'iopf|io_pgfault|iommu_queue_iopf|iommu_report_device_fault|iommu_page_response', l) for l in o)]
print('  %-34s %s' % ('kmemleak (iopf code)', len(ours) if ran else 'did not run'))
print('  %-34s %s' % ('kmemleak (rest of the kernel)', len(objs) - len(ours)))
for o in ours[:2]:
    print('\n'.join('    ' + l for l in o))
sys.exit(0 if ran and not ours else 1)
PY

echo
torture_check "$LOG" "$TORTURE_GROUPS" || bad=1
tail -1 "$TABLE"
[ $bad -eq 0 ] && echo "test-debug: passed" || echo "test-debug: FAILED"
exit $bad
