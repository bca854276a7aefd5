#!/bin/bash
# Cross-compile drivers/iommu/ for arm64 with the SMMUv3 SVA driver on,
# so the in-tree SMMUv3 caller is built against our handler.
set -euo pipefail

. "$(dirname "$0")/lib.sh"
O=$ROOT/build/arm64
CROSS=aarch64-linux-gnu-
CC="${CCACHE}${CROSS}gcc"
M=(make -C "$T" O="$O" ARCH=arm64 CROSS_COMPILE=$CROSS CC="$CC" -j"$(nproc)")

mkdir -p "$O"
if [ ! -f "$O/.config" ]; then
	"${M[@]}" defconfig
fi
"$T/scripts/config" --file "$O/.config" -e ARM_SMMU_V3 -e ARM_SMMU_V3_SVA
"${M[@]}" olddefconfig
grep -q '^CONFIG_ARM_SMMU_V3_SVA=y' "$O/.config"
grep -q '^CONFIG_IOMMU_SVA=y' "$O/.config"
"${M[@]}" drivers/iommu/
test -f "$O/drivers/iommu/io-pgfault.o"
test -f "$O/drivers/iommu/arm/arm-smmu-v3/arm-smmu-v3-sva.o"
echo "arm64: drivers/iommu/ built with ARM_SMMU_V3_SVA=y"
