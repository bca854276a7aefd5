#!/bin/bash
# make test-kcsan: the KUnit suites and a torture run of at least
# $TORTURE_GROUPS groups (default 100000) on an SMP x86_64 kernel with
# KCSAN in strict mode (CONFIG_KCSAN_STRICT, CONFIG_KCSAN_INTERRUPT_WATCHER),
# booted with 2 CPUs.  KCSAN excludes KASAN: its own build, in
# build/kunit-x86-kcsan/.  Counts the data-race reports: those that name
# io-pgfault.c or the iommu.c functions the series touches (ours), and the
# rest of the kernel's.  Fails on any failed case, any report of ours, or
# torture figures other than lost=0 duplicates=0 leaks=0 splats=0.
# Ends with 'N passed, M failed'.
set -uo pipefail

. "$(dirname "$0")/lib.sh"
TORTURE_GROUPS=${TORTURE_GROUPS:-100000}
BUILD=$B/kunit-x86-kcsan
LOG=$B/kunit-kcsan.log
export KCONFIG_ADD="CONFIG_KCSAN=y CONFIG_KCSAN_STRICT=y
	CONFIG_KCSAN_INTERRUPT_WATCHER=y CONFIG_KCSAN_REPORT_ONCE_IN_MS=100"
export KUNIT_TIMEOUT=3600
# Its reports are counted below: ours fail the run, not the kernel's.
export KTAP_IGNORE="BUG: KCSAN: "
bad=0

echo "test-kcsan: building the KCSAN kernel (strict mode) if needed, booting it with 2 CPUs"
"$ROOT/scripts/kunit.sh" "$T" "$BUILD" "$LOG" \
	iopf_torture.groups="$TORTURE_GROUPS" iopf_torture.rounds=4 \
	iopf_torture.seconds=10 > "$B/kunit-kcsan.table" || bad=1
grep -E ' (FAIL|CRASH)$' "$B/kunit-kcsan.table"
on_two_cpus "$LOG" ||
	{ echo "test-kcsan: the kernel did not run on 2 CPUs"; bad=1; }
grep -q "kcsan: strict mode configured" "$LOG" ||
	{ echo "test-kcsan: KCSAN is not on"; bad=1; }

# A report is 'BUG: KCSAN: data-race in A / B' followed by its stacks up
# to a line of '='.  Ours when a racing access is in our code: A or B, or
# the first frame of an access's stack, names it (not when our code is
# only further down a stack, as a test thread's usleep_range() is under
# the kernel's hrtimer race).
python3 - "$LOG" <<'PY' || bad=1
import re, sys
ours_re = re.compile(r'io-pgfault|iopf_|iommu_queue_iopf|iommu_report_device_fault|'
                     r'iommu_page_response|iommu_(un)?register_device_fault_handler|'
                     r'iommu_fault_param')
reports, cur = [], None
for line in open(sys.argv[1], errors='replace'):
    line = re.sub(r'^\[\s*[0-9.]+\]\s?', '', line.rstrip('\n'))
    if line.startswith('BUG: KCSAN:'):
        cur = [line]
        reports.append(cur)
    elif cur is not None:
        if line.startswith('=========='):
            cur = None
        else:
            cur.append(line)
access_re = re.compile(r'^(read|write)\S* .* by (task|interrupt)')


def racing(r):
    # The title, and the first frame after each access's header.
    lines = [r[0]]
    for i, l in enumerate(r[:-1]):
        if access_re.match(l):
            lines.append(r[i + 1])
    return lines


ours = [r for r in reports if any(ours_re.search(l) for l in racing(r))]
print('  %-34s %d' % ('KCSAN reports (iopf code)', len(ours)))
print('  %-34s %d' % ('KCSAN reports (rest of the kernel)', len(reports) - len(ours)))
for r in ours[:3]:
    print('\n'.join('    ' + l for l in r[:12]))
for r in [r for r in reports if r not in ours][:5]:
    print('    ' + r[0])
sys.exit(1 if ours else 0)
PY

torture_check "$LOG" "$TORTURE_GROUPS" || bad=1
tail -1 "$B/kunit-kcsan.table"
[ $bad -eq 0 ] && echo "test-kcsan: passed" || echo "test-kcsan: FAILED"
exit $bad
