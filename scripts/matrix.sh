#!/bin/bash
# The configuration matrix: build drivers/iommu/ and lib/tests/ (W=1) with
# each of CONFIG_DEBUG_FS, CONFIG_TRACING, CONFIG_FAULT_INJECTION and
# CONFIG_SMP turned off in the x86_64 KUnit configuration (which has them
# all on), and fail on any warning in our code.  One build directory,
# reused for each variant in turn (build/matrix/); the x86_64 KUnit kernel
# must have been configured first (build/kunit-x86/.config).
# Usage: matrix.sh [VARIANT...]  (default: all)
set -uo pipefail

. "$(dirname "$0")/lib.sh"
O=$B/matrix
BASE=$B/kunit-x86/.config
OURS_C="drivers/iommu/io-pgfault.c include/trace/events/iopf.h
	lib/tests/iopf_mock.h lib/tests/iopf_mock.c lib/tests/iopf_kunit.c
	lib/tests/iopf_drivers_kunit.c lib/tests/iopf_bench.c
	lib/tests/iopf_observe_kunit.c lib/tests/iopf_torture.c
	lib/tests/iopf_device.h lib/tests/iopf_device.c"
M=(make -C "$T" O="$O" ARCH=x86_64 CC="$CC" -j"$(nproc)")
bad=0

# variant NAME: the scripts/config arguments and the option that must end
# up unset.
variant() {
	case $1 in
	no-debugfs)	echo "-d DEBUG_FS DEBUG_FS" ;;
	no-tracing)	echo "-d FTRACE -d TRACING -d BLK_DEV_IO_TRACE TRACING" ;;
	no-fault-injection) echo "-d FAULT_INJECTION FAULT_INJECTION" ;;
	up)		echo "-d SMP SMP" ;;
	esac
}

[ -f "$BASE" ] || { echo "matrix: $BASE missing: build the KUnit kernel first"; exit 1; }
mkdir -p "$O"
for v in ${*:-no-debugfs no-tracing no-fault-injection up}; do
	set -- $(variant "$v")
	off=${*: -1}
	cp "$BASE" "$O/.config"
	"$T/scripts/config" --file "$O/.config" "${@:1:$#-1}"
	"${M[@]}" olddefconfig > "$O/$v.log" 2>&1
	if grep -q "^CONFIG_$off=y" "$O/.config"; then
		echo "matrix: $v: CONFIG_$off is still set (selected by another option)"
		bad=1
		continue
	fi
	if ! grep -q '^CONFIG_IOMMU_SVA=y' "$O/.config" ||
	   ! grep -q '^CONFIG_IOPF_KUNIT_TEST=y' "$O/.config"; then
		echo "matrix: $v: the handler or its suites are not configured"
		bad=1
		continue
	fi
	# shellcheck disable=SC2086
	if ! "${M[@]}" W=1 drivers/iommu/ lib/tests/ >> "$O/$v.log" 2>&1; then
		echo "matrix: $v: build FAILED"
		grep -E "error|Error" "$O/$v.log" | head -20
		bad=1
		continue
	fi
	# shellcheck disable=SC2086
	if python3 "$ROOT/scripts/warn-filter.py" "$O/$v.log" "$T" $OURS_C; then
		echo "matrix: $v (CONFIG_$off off): drivers/iommu/ and lib/tests/ built, no warning in our code"
	else
		echo "matrix: $v: warnings in our code"
		bad=1
	fi
done
exit $bad
