#!/bin/bash
# make torture: boot the KUnit kernel of make test with only the torture
# suite, in 2 rounds of at least TORTURE_SECONDS each (default 60) that
# together accept at least TORTURE_GROUPS groups (default 100000; a round
# stops at 240 s anyway), print its lines and fail unless the totals show
# that many groups and lost=0 duplicates=0 leaks=0 splats=0.
set -uo pipefail

. "$(dirname "$0")/lib.sh"
"$ROOT/scripts/kunit.sh" "$T" "$B/kunit-x86" "$B/torture.log" \
	kunit.filter_glob=iopf_torture \
	iopf_torture.seconds="${TORTURE_SECONDS:-60}" iopf_torture.rounds=2 \
	iopf_torture.groups="${TORTURE_GROUPS:-100000}" > "$B/torture.table"
rc=$?
grep -E "iopf_torture_test: .*(s, |mmap)|round [0-9]+: groups|torture: groups=|handler: requests=" \
	"$B/torture.log" | sed 's/^.*\(torture: \|handler: \|# \)/\1/'
tail -1 "$B/torture.table"
torture_check "$B/torture.log" "${TORTURE_GROUPS:-100000}" || rc=1
exit $rc
