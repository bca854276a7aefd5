#!/bin/bash
# Run our KUnit suite against upstream's handler: the pristine base plus
# only the test commit.  Prints every case with its result and lists the
# cases upstream fails.  Exits 0 when the suite ran (failures are expected:
# they are what the series fixes).
set -uo pipefail

. "$(dirname "$0")/lib.sh"

# Cases with no result are listed, by comparison with our own run's table
# when there is one, as CRASH (the kernel died before they ran), or as
# ABSENT when the baseline's suites do not have them (cases added by later
# patches of the series).
[ -f "$B/kunit-x86.table" ] && export KTAP_EXPECT="$B/kunit-x86.table"
export KTAP_HAVE="$B/linux-baseline/lib/tests"
"$ROOT/scripts/kunit.sh" "$B/linux-baseline" "$B/kunit-x86-baseline" \
	"$B/kunit-baseline.log" > "$B/kunit-baseline.table"
cat "$B/kunit-baseline.table"
echo
echo "Cases upstream 6.1's handler fails:"
grep -E ' (FAIL|CRASH)$' "$B/kunit-baseline.table" | awk '{print "  " $1 " " $2}'
grep -q "KTAP version\|TAP version" "$B/kunit-baseline.log"
