#!/bin/bash
# make bench: boot the baseline kernel (upstream's handler + benchmark) and
# the iopf kernel (our series + benchmark), one after the other, with
# iopf_bench.run=1, BENCH_RUNS times (5); merge their figures (the median
# of the runs), check the targets and plot.
# Both kernels are the KUnit kernels of make test / make test-baseline
# (the benchmark is built into both); no KUnit suite runs here.
set -uo pipefail

. "$(dirname "$0")/lib.sh"
OUT=$B/bench
mkdir -p "$OUT"

# A filter glob that matches no suite: only the benchmark runs.
# tsc=reliable: under TCG the guest finds its two vCPUs' TSCs out of sync
# and marks the TSC unstable; local_clock() is then kept within the
# HPET-based time and can stop advancing (a boot gave median reports of
# 0 ns).  Both kernels boot with it; the benchmark compares times taken
# on one CPU (wake's run_ns excepted).
boot() {	# boot TREE BUILD_DIR LOG
	kunit_run "$1" "$2" --kernel_args=iopf_bench.run=1 \
		--kernel_args=tsc=reliable 'iopf_bench_no_suite' > "$3" 2>&1
	if ! grep -q "iopf_bench: done (0)" "$3"; then
		echo "bench: $1 did not complete; last lines of $3:"
		tail -30 "$3"
		return 1
	fi
}

# Under QEMU TCG one boot's medians move by up to 2x from one boot to the
# next (the host schedules the vCPU threads): each kernel boots
# BENCH_RUNS (5) times, alternately, and each figure is the median of its
# runs, after each run is scaled to the median speed by its calib figures.
RUNS=${BENCH_RUNS:-5}
rm -f "$OUT"/baseline.*.log "$OUT"/iopf.*.log
for r in $(seq "$RUNS"); do
	echo "bench: run $r of $RUNS: baseline kernel (upstream handler), building if needed and booting..."
	boot "$B/linux-baseline" "$B/kunit-x86-baseline" "$OUT/baseline.$r.log" || exit 1
	echo "bench: run $r of $RUNS: iopf kernel (this series), building if needed and booting..."
	boot "$B/linux" "$B/kunit-x86" "$OUT/iopf.$r.log" || exit 1
done
python3 "$ROOT/scripts/bench-merge.py" "$OUT" "$OUT"/baseline.*.log -- "$OUT"/iopf.*.log
