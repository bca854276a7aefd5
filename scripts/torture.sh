#!/bin/bash
# make torture: boot the KUnit kernel of make test with only the torture
# suite, for TORTURE_SECONDS (default 60) and at least TORTURE_GROUPS
# groups (default 100000), and print its 'torture:' line.
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
exit $rc
