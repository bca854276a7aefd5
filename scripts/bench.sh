#!/bin/bash
# make bench: boot the baseline kernel (upstream's handler + benchmark) and
# the iopf kernel (our series + benchmark), one after the other, with
# iopf_bench.run=1, BENCH_RUNS times (5); merge their figures (the median
# of the runs), check the targets and plot.
# BENCH_VS="param=value ...": instead, the iopf kernel booted with these
# kernel parameters in place of the baseline kernel (an A/B of one of the
# handler's parameters, e.g. io_pgfault.max_partial=512), into build/bench-vs/.
# BENCH_ONLY="report,latency": only these scenarios (iopf_bench.only=; the
# targets of the others are not checked): for a quick look at one figure.
# Both kernels are the KUnit kernels of make test / make test-baseline
# (the benchmark is built into both); no KUnit suite runs here.
set -uo pipefail

. "$(dirname "$0")/lib.sh"
OUT=$B/bench
VS=()
if [ -n "${BENCH_VS:-}" ]; then
	OUT=$B/bench-vs
	for a in $BENCH_VS; do VS+=("--kernel_args=$a"); done
fi
ONLY=(${BENCH_ONLY:+"--kernel_args=iopf_bench.only=$BENCH_ONLY"})
mkdir -p "$OUT"

boot() {	# boot TREE BUILD_DIR LOG [KERNEL_ARGS...]
	bench_boot "$@" "${ONLY[@]}"
}

# Under QEMU TCG one boot's medians move by up to 2x from one boot to the
# next (the host schedules the vCPU threads): each kernel boots
# BENCH_RUNS (5) times, alternately, and each figure is the median of its
# runs, after each run is scaled to the median speed by its calib figures.
RUNS=${BENCH_RUNS:-5}
rm -f "$OUT"/baseline.*.log "$OUT"/iopf.*.log
for r in $(seq "$RUNS"); do
	if [ ${#VS[@]} -gt 0 ]; then
		echo "bench: run $r of $RUNS: iopf kernel with $BENCH_VS, building if needed and booting..."
		boot "$B/linux" "$B/kunit-x86" "$OUT/baseline.$r.log" "${VS[@]}" || exit 1
	else
		echo "bench: run $r of $RUNS: baseline kernel (upstream handler), building if needed and booting..."
		boot "$B/linux-baseline" "$B/kunit-x86-baseline" "$OUT/baseline.$r.log" || exit 1
	fi
	echo "bench: run $r of $RUNS: iopf kernel (this series), building if needed and booting..."
	boot "$B/linux" "$B/kunit-x86" "$OUT/iopf.$r.log" || exit 1
done
python3 "$ROOT/scripts/bench-merge.py" "$OUT" "$OUT"/baseline.*.log -- "$OUT"/iopf.*.log
