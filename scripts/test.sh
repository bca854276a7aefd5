#!/bin/bash
# What CI runs: the KUnit suite in QEMU, then sparse, W=1, kernel-doc and
# checkpatch on our code, and an arm64 build of drivers/iommu/ with the
# SMMUv3 SVA caller.  The last line is 'N passed, M failed' for the KUnit
# cases; the exit status is non-zero when anything failed.
set -uo pipefail

. "$(dirname "$0")/lib.sh"
OURS_C="drivers/iommu/io-pgfault.c include/trace/events/iopf.h
	lib/tests/iopf_mock.h lib/tests/iopf_mock.c lib/tests/iopf_kunit.c
	lib/tests/iopf_bench.c lib/tests/iopf_observe_kunit.c
	lib/tests/iopf_torture.c lib/tests/iopf_device.h lib/tests/iopf_device.c"
OURS_O="drivers/iommu/io-pgfault.o drivers/iommu/iommu.o lib/tests/iopf_mock.o
	lib/tests/iopf_kunit.o lib/tests/iopf_bench.o lib/tests/iopf_observe_kunit.o
	lib/tests/iopf_torture.o lib/tests/iopf_device.o"
# iommu.c is upstream's: only warnings on the lines our patch touches count.
failures=()

step() { printf '\n=== %s\n' "$*"; }
fail() { failures+=("$1"); echo "FAILED: $1"; }

# 1. KUnit in QEMU, then the user-space demo ------------------------------
step "KUnit: iopf suites, x86_64, QEMU; then the demo on /dev/iopf-mock"
kunit_demo "$B/kunit-x86" "$B/kunit-x86.log" > "$B/kunit-x86.table"
kunit_rc=$?
cat "$B/kunit-x86.table"
[ $kunit_rc -eq 0 ] || fail "kunit"
python3 "$ROOT/scripts/summary.py" "$B/kunit-x86.log" "$B/kunit-x86.table" \
	--demo | sed -n '/^Torture/,$p' || fail "demo"

# 2. sparse and W=1 on our objects --------------------------------------------
step "sparse (C=2) and W=1: $OURS_O"
make -C "$T" O="$B/kunit-x86" ARCH=x86_64 CC="$CC" C=2 W=1 \
	$OURS_O > "$B/sparse.log" 2>&1 || fail "sparse/W=1 build"
if python3 "$ROOT/scripts/warn-filter.py" "$B/sparse.log" "$T" $OURS_C; then
	echo "clean"
else
	fail "sparse/W=1 warnings"
fi

# 3. kernel-doc ---------------------------------------------------------------
step "kernel-doc"
(cd "$T" && scripts/kernel-doc -none $OURS_C &&
	python3 "$ROOT/scripts/kdoc-check.py" $OURS_C) > "$B/kdoc.log" 2>&1
if [ -s "$B/kdoc.log" ]; then
	cat "$B/kdoc.log"
	fail "kernel-doc"
else
	echo "clean"
fi

# 3b. Sphinx ------------------------------------------------------------------
step "Sphinx: Documentation/iommu"
"$ROOT/scripts/docs.sh" || fail "docs"

# 4. checkpatch on the series -------------------------------------------------
step "checkpatch --strict on the series"
"$ROOT/scripts/series.sh" > /dev/null || fail "series"
cp_bad=0
for p in "$B"/series/0*.patch; do
	case "$p" in *0000-cover-letter.patch) continue ;; esac
	out=$("$T/scripts/checkpatch.pl" --strict --no-tree -q --no-summary "$p" 2>&1)
	cnt=$("$T/scripts/checkpatch.pl" --strict --no-tree "$p" 2>&1 |
		sed -n 's/^total: \([0-9]*\) errors, \([0-9]*\) warnings, \([0-9]*\) checks.*/\1 \2 \3/p')
	echo "$(basename "$p"): ${cnt:-?} (errors warnings checks)"
	set -- $cnt
	if [ "${1:-1}" != 0 ] || [ "${2:-1}" != 0 ]; then
		echo "$out"
		cp_bad=1
	fi
done
[ $cp_bad -eq 0 ] || fail "checkpatch"

# 5. arm64: the SMMUv3 SVA caller builds against our handler ------------------
step "arm64 cross-build of drivers/iommu/ with ARM_SMMU_V3_SVA=y"
"$ROOT/scripts/arm64.sh" > "$B/arm64.log" 2>&1 || {
	tail -30 "$B/arm64.log"; fail "arm64 build"; }
grep -E "io-pgfault|arm-smmu-v3-sva|^  CC" "$B/arm64.log" | grep -E "io-pgfault|sva" || true

# Summary ---------------------------------------------------------------------
step "summary"
if [ ${#failures[@]} -ne 0 ]; then
	echo "failed steps: ${failures[*]}"
else
	echo "all steps passed"
fi
tail -1 "$B/kunit-x86.table"
[ ${#failures[@]} -eq 0 ]
