#!/bin/bash
# Build the IOMMU documentation with Sphinx and fail on any warning that
# comes from our files.
set -uo pipefail

. "$(dirname "$0")/lib.sh"

make -C "$T" O="$B/docs" SPHINXDIRS=iommu htmldocs > "$B/docs.log" 2>&1
rc=$?
if grep -E "iommu/|io-pgfault|iopf" "$B/docs.log" | grep -iE "warning|error"; then
	echo "docs: warnings from our files (see $B/docs.log)"
	exit 1
fi
[ $rc -eq 0 ] || { tail -20 "$B/docs.log"; exit 1; }
echo "docs: $B/docs/Documentation/output/iommu/index.html (no warnings from our files)"
