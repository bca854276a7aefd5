#!/bin/bash
# Check that every commit of the series builds on its own: walk base..master
# in a separate worktree and build drivers/iommu/ and lib/ (where our code
# lives) with the KUnit configuration, x86_64.  Then check that the
# exported series applies with git am on the pristine base.
set -euo pipefail

. "$(dirname "$0")/lib.sh"
W=$B/linux-check
O=$B/check-x86

[ -f "$B/kunit-x86/.config" ] || { echo "run make test first (needs its .config)"; exit 1; }
if [ ! -d "$W" ]; then
	git -C "$T" worktree add -q --detach "$W" base
fi
mkdir -p "$O"
for c in $(git -C "$T" rev-list --reverse base..master); do
	git -C "$W" checkout -q -f "$c"
	cp "$B/kunit-x86/.config" "$O/.config"
	echo "== $(git -C "$W" log -1 --format='%h %s')"
	make -C "$W" O="$O" ARCH=x86_64 CC="$CC" -j"$(nproc)" olddefconfig >/dev/null
	make -C "$W" O="$O" ARCH=x86_64 CC="$CC" -j"$(nproc)" \
		drivers/iommu/ lib/ > "$O/build.log" 2>&1 ||
		{ tail -30 "$O/build.log"; echo "FAILED at $c"; exit 1; }
	if grep -E "warning:|error:" "$O/build.log"; then
		echo "warnings at $c"; exit 1
	fi
	echo "   builds, no warnings"
done
echo "every commit builds"

# The exported series applies with git am on the pristine base and gives
# the same tree (series.sh checks it).
"$ROOT/scripts/series.sh" --check | tail -1
