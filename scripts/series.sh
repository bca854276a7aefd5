#!/bin/bash
# Export the series with a cover letter to build/series/.
set -euo pipefail

. "$(dirname "$0")/lib.sh"
OUT=$ROOT/build/series

rm -rf "$OUT"
git -C "$T" format-patch -q --cover-letter -o "$OUT" base..iopf
python3 "$ROOT/scripts/cover.py" "$ROOT/series/cover.txt" "$OUT"/0000-cover-letter.patch
ls "$OUT"
