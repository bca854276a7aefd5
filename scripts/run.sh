#!/bin/bash
# The main job: build the patched kernel with the iopf suites and the mock
# SVA device, boot it in QEMU (x86_64, TCG) with the demo's initramfs, run
# the suites and the demo, and show one screen of results.  Exit status
# non-zero when a case or a demo step failed.
set -uo pipefail

. "$(dirname "$0")/lib.sh"

echo "Building the patched kernel and booting it in QEMU (this takes a while)..."
kunit_demo "$B/kunit-x86" "$B/run.log" > "$B/run.table"
rc=$?
echo
echo "Kernel:  $(grep -m1 -o 'Linux version [^ ]* ([^)]*)' "$B/run.log" ||
	echo "(no boot banner found)")"
echo "Base:    $(git -C "$T" log -1 --format=%s base)"
echo "Series:"
git -C "$T" log --reverse --format='  %h %s' base..iopf
echo "Full kernel log: $B/run.log; every case: $B/run.table"
echo
grep -E ' (FAIL|CRASH)$' "$B/run.table"
python3 "$ROOT/scripts/summary.py" "$B/run.log" "$B/run.table" --demo ||
	rc=1
exit $rc
