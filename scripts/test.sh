#!/bin/bash
# What CI runs: the KUnit suites in QEMU on three SMP kernels (x86_64 with
# the VT-d driver, then the demo; x86_64 without debugfs; arm64 with the
# SMMUv3 driver), then sparse, W=1, the configuration matrix, kernel-doc,
# Sphinx and checkpatch.  The last line is 'N passed, M failed' for the
# KUnit cases of the three kernels; the exit status is non-zero when
# anything failed.
set -uo pipefail

. "$(dirname "$0")/lib.sh"
OURS_C="drivers/iommu/io-pgfault.c include/trace/events/iopf.h
	lib/tests/iopf_mock.h lib/tests/iopf_mock.c lib/tests/iopf_kunit.c
	lib/tests/iopf_drivers_kunit.c
	lib/tests/iopf_bench.c lib/tests/iopf_observe_kunit.c
	lib/tests/iopf_torture.c lib/tests/iopf_device.h lib/tests/iopf_device.c
	lib/tests/iopf_unhandled_kunit.c lib/tests/iopf_sva_kunit.c"
# Our objects: those of our .c files, and iommu.o, which our patches touch.
OURS_O="drivers/iommu/iommu.o $(for f in $OURS_C; do
	case $f in *.c) echo "${f%.c}.o" ;; esac; done)"
# iommu.c is upstream's: only warnings on the lines our patch touches count.
failures=()

step() { printf '\n=== %s\n' "$*"; }
fail() { failures+=("$1"); echo "FAILED: $1"; }

# 1. KUnit in QEMU, then the user-space demo ------------------------------
step "KUnit: iopf suites, x86_64 SMP (-smp 2), QEMU; then the demo on /dev/iopf-mock"
kunit_demo "$B/kunit-x86" "$B/kunit-x86.log" > "$B/kunit-x86.table"
kunit_rc=$?
cat "$B/kunit-x86.table"
[ $kunit_rc -eq 0 ] || fail "kunit"
python3 "$ROOT/scripts/summary.py" "$B/kunit-x86.log" "$B/kunit-x86.table" \
	--demo | sed -n '/^Torture/,$p' || fail "demo"
on_two_cpus "$B/kunit-x86.log" || fail "x86_64 kernel not on 2 CPUs"

# 1b. The same suites without debugfs -------------------------------------
step "KUnit: iopf suites, x86_64 SMP, CONFIG_DEBUG_FS=n"
KCONFIG_ADD="CONFIG_DEBUG_FS=n" "$ROOT/scripts/kunit.sh" "$T" \
	"$B/kunit-x86-nodebugfs" "$B/kunit-nodebugfs.log" \
	> "$B/kunit-nodebugfs.table" || fail "kunit (no debugfs)"
grep -v ' PASS$' "$B/kunit-nodebugfs.table"
on_two_cpus "$B/kunit-nodebugfs.log" || fail "x86_64 kernel without debugfs not on 2 CPUs"

# 1c. arm64, with the SMMUv3 SVA driver -----------------------------------
step "KUnit: iopf suites, arm64 SMP (-smp 2), ARM_SMMU_V3_SVA=y, QEMU virt"
KUNIT_ARCH=arm64 "$ROOT/scripts/kunit.sh" "$T" "$B/kunit-arm64" \
	"$B/kunit-arm64.log" > "$B/kunit-arm64.table" || fail "kunit (arm64)"
grep -v ' PASS$' "$B/kunit-arm64.table"
on_two_cpus "$B/kunit-arm64.log" || fail "arm64 kernel not on 2 CPUs"
for o in drivers/iommu/io-pgfault.o drivers/iommu/arm/arm-smmu-v3/arm-smmu-v3-sva.o; do
	[ -f "$B/kunit-arm64/$o" ] || fail "arm64: $o not built"
done

# 2. sparse and W=1 on our objects --------------------------------------------
step "sparse (C=2) and W=1: $OURS_O"
make -C "$T" O="$B/kunit-x86" ARCH=x86_64 CC="$CC" C=2 W=1 \
	$OURS_O > "$B/sparse.log" 2>&1 || fail "sparse/W=1 build"
if python3 "$ROOT/scripts/warn-filter.py" "$B/sparse.log" "$T" $OURS_C; then
	echo "clean"
else
	fail "sparse/W=1 warnings"
fi

# 2b. configuration matrix -------------------------------------------------
step "configuration matrix: drivers/iommu/ and lib/tests/ with each option off"
"$ROOT/scripts/matrix.sh" || fail "matrix"

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
"$ROOT/scripts/series.sh" --check | tail -1 || fail "series"
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

# Summary ---------------------------------------------------------------------
step "summary"
if [ ${#failures[@]} -ne 0 ]; then
	echo "failed steps: ${failures[*]}"
else
	echo "all steps passed"
fi
total_p=0 total_f=0
for k in x86 nodebugfs arm64; do
	line=$(tail -1 "$B/kunit-$k.table" 2>/dev/null)
	printf '  %-10s %s\n' "$k" "${line:-no results}"
	if [[ "$line" =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed$ ]]; then
		total_p=$((total_p + BASH_REMATCH[1]))
		total_f=$((total_f + BASH_REMATCH[2]))
	else
		total_f=$((total_f + 1))
	fi
done
echo "$total_p passed, $total_f failed"
[ ${#failures[@]} -eq 0 ] && [ $total_f -eq 0 ]
