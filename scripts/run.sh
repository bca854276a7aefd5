#!/bin/bash
# The main job: build the patched kernel with the iopf suite, boot it in
# QEMU (x86_64, TCG) and show the results with the kernel version and the
# series applied.
set -uo pipefail

. "$(dirname "$0")/lib.sh"

echo "Building the patched kernel and booting it in QEMU (this takes a while)..."
"$ROOT/scripts/kunit.sh" "$T" "$B/kunit-x86" "$B/run.log" > "$B/run.table"
rc=$?
echo
echo "Kernel:  $(grep -m1 -o 'Linux version [^ ]* ([^)]*)' "$B/run.log" ||
	echo "(no boot banner found)")"
echo "Base:    $(git -C "$T" log -1 --format=%s base)"
echo "Series:"
git -C "$T" log --reverse --format='  %h %s' base..iopf
echo "Full kernel log: $B/run.log"
echo
cat "$B/run.table"
exit $rc
