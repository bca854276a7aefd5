#!/bin/bash
# A/B of a change to the series: bench-ab.sh DIFF boots the iopf kernel
# with DIFF applied to build/linux (the "baseline" column), then without
# it (the "iopf" column), BENCH_RUNS times each (3), with the benchmark's
# BENCH_ONLY scenarios (report,report_busy,latency,throughput), and merges
# the figures into build/bench-ab/ as make bench does.  DIFF is removed
# again whatever happens; build/linux must have no other change.
set -uo pipefail

. "$(dirname "$0")/lib.sh"
DIFF=$(realpath "$1")
OUT=$B/bench-ab
RUNS=${BENCH_RUNS:-3}
ONLY=${BENCH_ONLY:-report,report_busy,latency,throughput}
mkdir -p "$OUT"
rm -f "$OUT"/*.log

boot() {	# boot LOG
	bench_boot "$T" "$B/kunit-x86" "$1" --kernel_args=iopf_bench.only="$ONLY"
}

git -C "$T" apply "$DIFF" || { echo "bench-ab: $DIFF does not apply"; exit 1; }
trap 'git -C "$T" apply -R "$DIFF"' EXIT
for r in $(seq "$RUNS"); do
	echo "bench-ab: run $r of $RUNS with $(basename "$DIFF")"
	boot "$OUT/baseline.$r.log" || exit 1
done
git -C "$T" apply -R "$DIFF"
trap - EXIT
for r in $(seq "$RUNS"); do
	echo "bench-ab: run $r of $RUNS without it"
	boot "$OUT/iopf.$r.log" || exit 1
done
python3 "$ROOT/scripts/bench-merge.py" "$OUT" "$OUT"/baseline.*.log -- \
	"$OUT"/iopf.*.log
